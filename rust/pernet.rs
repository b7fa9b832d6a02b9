// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace operations: a safe abstraction over `struct pernet_operations`.
//!
//! A type implements [`Operations`] to be told when a net is set up ([`Operations::init`]) and
//! torn down ([`Operations::pre_exit`], [`Operations::exit`], [`Operations::exit_batch`]), each
//! optional, and gets typed per-net data ([`Operations::Data`]) that the kernel allocates,
//! zeroed, for every net and frees after `exit`. A pinned [`Registration`] registers the
//! operations with `register_pernet_subsys()` and unregisters them when dropped.
//!
//! # Safety contract
//!
//! - The kernel calls every callback in process context, with `pernet_ops_rwsem` held, so no
//!   callback runs concurrently with registration or unregistration.
//! - `init` runs for every existing net during registration and for every new net after; the
//!   data it sees is zeroed. If `init` fails the net is not created (or, during registration,
//!   registration fails and `exit` runs for the nets already set up).
//! - `pre_exit`, `exit` and `exit_batch` run for a dying net after it left
//!   `net_namespace_list`; `pre_exit` of every net of a batch runs before any `exit`, and an RCU
//!   grace period separates them. The per-net data lives until `exit` returned.
//! - Several callbacks may look at the same net's data from different tasks (a callback and,
//!   for instance, a debugfs reader), hence `Data: Sync`.

use crate::{bindings, net::ExitIter, net::Net};
use core::{ffi::c_int, marker::PhantomData};
use kernel::{error::VTABLE_DEFAULT_ERROR, prelude::*, types::Opaque};

/// Types for which all-zero bytes are a valid value.
///
/// # Safety
///
/// An all-zero bit pattern must be a valid value of the type, and the type must need no `Drop`.
pub(crate) unsafe trait ZeroInit: Sized {}

/// The id the kernel assigns to one [`Operations`] implementation (`pernet_operations.id`).
///
/// Declare one as a `static` per implementation and name it in [`Operations::ID`].
pub(crate) struct PernetId(Opaque<core::ffi::c_uint>);

// SAFETY: the kernel writes the id once, under `pernet_ops_rwsem` held for write, before any
// callback can read it; afterwards it is only read.
unsafe impl Sync for PernetId {}

impl PernetId {
    /// An id not assigned yet.
    pub(crate) const fn new() -> Self {
        Self(Opaque::uninit())
    }

    fn get(&self) -> core::ffi::c_uint {
        // SAFETY: only called once registration assigned the id (see `Sync` above).
        unsafe { *self.0.get() }
    }
}

/// What a subsystem does per network namespace.
#[vtable]
pub(crate) trait Operations: Sized + 'static {
    /// The per-net data, zeroed by the kernel when the net is set up.
    type Data: ZeroInit + Sync;

    /// Where the kernel keeps this implementation's id.
    const ID: &'static PernetId;

    /// A net is being set up (or exists already, during registration).
    fn init(_net: Net<'_>, _data: &Self::Data) -> Result {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A net is dying; runs for every net of a batch before any `exit`.
    fn pre_exit(_net: Net<'_>, _data: &Self::Data) {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A net is dying; its data is freed when this returns.
    fn exit(_net: Net<'_>, _data: &Self::Data) {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A batch of nets died (after `exit` of each).
    fn exit_batch(_nets: ExitIter<'_>) {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The data of `T` in `net`.
///
/// # Safety
///
/// `T` must be registered, `net` live and set up by `T::init` (or inside one of `T`'s
/// callbacks for `net`), and the returned reference must not outlive `T::exit` for `net`.
unsafe fn data_of<'a, T: Operations>(net: Net<'_>) -> &'a T::Data {
    // SAFETY: `T` is registered, so `T::ID` holds its id and the kernel allocated
    // `size_of::<T::Data>()` zeroed bytes for it in every set-up net.
    let ptr = unsafe { bindings::rnsid_net_generic(net.as_ptr(), T::ID.get()) };
    // SAFETY: the allocation is suitably aligned (checked at registration) and zero bytes are a
    // valid `T::Data` (`ZeroInit`); it lives until `T::exit` for `net` (the caller).
    unsafe { &*ptr.cast::<T::Data>() }
}

/// # Safety
///
/// Called by the kernel only, with a net being set up.
unsafe extern "C" fn init_callback<T: Operations>(net: *mut bindings::net) -> c_int {
    // SAFETY: the kernel passes a live net, set up for the duration of the call.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: inside `T`'s callback for `net`.
    match T::init(net, unsafe { data_of::<T>(net) }) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the kernel only, with a dying net.
unsafe extern "C" fn pre_exit_callback<T: Operations>(net: *mut bindings::net) {
    // SAFETY: the kernel passes a dying net that stays allocated for the call.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: inside `T`'s callback for `net`.
    T::pre_exit(net, unsafe { data_of::<T>(net) });
}

/// # Safety
///
/// Called by the kernel only, with a dying net.
unsafe extern "C" fn exit_callback<T: Operations>(net: *mut bindings::net) {
    // SAFETY: the kernel passes a dying net that stays allocated for the call.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: inside `T`'s callback for `net`; the data is freed only after we return.
    T::exit(net, unsafe { data_of::<T>(net) });
}

/// # Safety
///
/// Called by the kernel only, with the batch's exit list.
unsafe extern "C" fn exit_batch_callback<T: Operations>(list: *mut bindings::list_head) {
    // SAFETY: the kernel passes the batch's `net_exit_list`, unchanged during the call.
    T::exit_batch(unsafe { ExitIter::new(list) });
}

/// A registration of `T` with the kernel; unregisters on drop.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys()` for as long as the value exists.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: Operations> {
    #[pin]
    ops: Opaque<bindings::pernet_operations>,
    _t: PhantomData<T>,
}

// SAFETY: the kernel may call into `ops` from any task; all `T` offers through it is `Sync`
// per-net data and functions without a receiver.
unsafe impl<T: Operations> Sync for Registration<T> {}
// SAFETY: unregistration does not depend on the task that registered.
unsafe impl<T: Operations> Send for Registration<T> {}

impl<T: Operations> Registration<T> {
    /// Registers `T`; `init` runs for every existing net before this returns.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        // kzalloc() aligns to at least 8 bytes on every architecture rnsid runs on.
        build_assert!(core::mem::align_of::<T::Data>() <= 8);
        try_pin_init!(&this in Self {
            ops <- Opaque::ffi_init(|slot: *mut bindings::pernet_operations| {
                let ops = bindings::pernet_operations {
                    init: if T::HAS_INIT { Some(init_callback::<T>) } else { None },
                    pre_exit: if T::HAS_PRE_EXIT { Some(pre_exit_callback::<T>) } else { None },
                    exit: if T::HAS_EXIT { Some(exit_callback::<T>) } else { None },
                    exit_batch: if T::HAS_EXIT_BATCH {
                        Some(exit_batch_callback::<T>)
                    } else {
                        None
                    },
                    id: T::ID.0.get(),
                    size: core::mem::size_of::<T::Data>(),
                    ..Default::default()
                };
                // SAFETY: `slot` is valid for writes.
                unsafe { slot.write(ops) };
            }),
            // Registered last, once `ops` is in its pinned place; a failure unwinds `ops`.
            _t: {
                // SAFETY: `this` points to the value being initialised, whose `ops` was written
                // just above and will not move. `Opaque<T>` is `repr(transparent)` over `T`.
                let ops = unsafe { &raw const (*this.as_ptr()).ops }
                    .cast::<bindings::pernet_operations>()
                    .cast_mut();
                // SAFETY: `ops` is a complete `pernet_operations` that outlives the
                // registration (unregistered in `drop`).
                kernel::error::to_result(unsafe { bindings::register_pernet_subsys(ops) })?;
                PhantomData
            },
        })
    }
}

#[pinned_drop]
impl<T: Operations> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: by the type invariant `ops` is registered; this runs `exit` for every net and
        // returns once no callback is running.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}
