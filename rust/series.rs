// SPDX-License-Identifier: GPL-2.0

//! Everything that differs between the kernel series rnsid supports, in one place.
//!
//! `Kbuild` sets `cfg(rnsid_v7)` when building against a 7.x tree; nothing else in the crate
//! looks at the kernel version.

/// The series the module was built for, as the log shows it.
#[cfg(rnsid_v7)]
pub(crate) const SERIES: &str = "7.x";
/// The series the module was built for, as the log shows it.
#[cfg(not(rnsid_v7))]
pub(crate) const SERIES: &str = "6.12";

/// `module!` with one author: 6.12 spells it `author: ".."`, 7.x `authors: [".."]`.
///
/// The fragments are `tt` on purpose: `module!` parses raw tokens and does not look inside the
/// invisible groups that `ident` or `literal` fragments would hand it.
#[cfg(rnsid_v7)]
macro_rules! module_with_author {
    (type: $type:tt, name: $name:tt, author: $author:tt, $($rest:tt)*) => {
        kernel::prelude::module! {
            type: $type,
            name: $name,
            authors: [$author],
            $($rest)*
        }
    };
}

/// `module!` with one author: 6.12 spells it `author: ".."`, 7.x `authors: [".."]`.
#[cfg(not(rnsid_v7))]
macro_rules! module_with_author {
    (type: $type:tt, name: $name:tt, author: $author:tt, $($rest:tt)*) => {
        kernel::prelude::module! {
            type: $type,
            name: $name,
            author: $author,
            $($rest)*
        }
    };
}

/// Takes a net's `nsid_lock` the way this series' in-tree code does: plain on 7.x, with bottom
/// halves disabled on 6.12.
///
/// # Safety
///
/// `lock` must point to an initialised `spinlock_t`; the caller must release it with
/// [`nsid_unlock`] on the same CPU context, in process context.
pub(crate) unsafe fn nsid_lock(lock: *mut crate::bindings::spinlock_t) {
    #[cfg(rnsid_v7)]
    // SAFETY: forwarded from the caller.
    unsafe {
        crate::bindings::rnsid_spin_lock(lock)
    };
    #[cfg(not(rnsid_v7))]
    // SAFETY: forwarded from the caller.
    unsafe {
        crate::bindings::rnsid_spin_lock_bh(lock)
    };
}

/// Releases what [`nsid_lock`] took.
///
/// # Safety
///
/// The caller must hold `lock`, taken with [`nsid_lock`].
pub(crate) unsafe fn nsid_unlock(lock: *mut crate::bindings::spinlock_t) {
    #[cfg(rnsid_v7)]
    // SAFETY: forwarded from the caller.
    unsafe {
        crate::bindings::rnsid_spin_unlock(lock)
    };
    #[cfg(not(rnsid_v7))]
    // SAFETY: forwarded from the caller.
    unsafe {
        crate::bindings::rnsid_spin_unlock_bh(lock)
    };
}

/// Whether `cleanup_net()` marks dying nets with `net->is_dying` (7.x), which the batched
/// strategy needs.
pub(crate) const HAS_IS_DYING: bool = cfg!(rnsid_v7);

/// Reads `net->is_dying`; always false on a series without it.
///
/// # Safety
///
/// `net` must point to a live `struct net`.
pub(crate) unsafe fn is_dying(net: *const crate::bindings::net) -> bool {
    #[cfg(rnsid_v7)]
    // SAFETY: `net` is live (caller); `cleanup_net()` sets the flag under `net_rwsem` before it
    // releases it, which orders the write before every reader in the nsid step.
    return unsafe { (*net).is_dying };
    #[cfg(not(rnsid_v7))]
    {
        let _ = net;
        false
    }
}
