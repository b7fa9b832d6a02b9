// SPDX-License-Identifier: GPL-2.0

//! Safe views of the kernel's `struct net` and of `net_namespace_list`.

use crate::bindings;
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};

/// `net_rwsem` held for read.
///
/// While it is held no network namespace is added to or removed from `net_namespace_list`, so
/// the list can be walked and every [`Net`] it yields stays valid.
///
/// # Invariants
///
/// The current task holds `net_rwsem` for read for as long as the guard exists.
pub(crate) struct NetListReadGuard {
    _not_send: PhantomData<*mut ()>,
}

impl NetListReadGuard {
    /// Takes `net_rwsem` for read, sleeping if a writer holds it.
    pub(crate) fn lock() -> Self {
        // SAFETY: `net_rwsem` is a static, initialised rw_semaphore exported by the kernel; this
        // runs in process context (module init or a pernet callback), where sleeping is allowed.
        unsafe { bindings::down_read(&raw mut bindings::net_rwsem) };
        // INVARIANT: `down_read` returned, so we hold the semaphore for read.
        Self {
            _not_send: PhantomData,
        }
    }

    /// Iterates over every network namespace on `net_namespace_list`, `init_net` first.
    pub(crate) fn iter(&self) -> NetIter<'_> {
        let head = &raw mut bindings::net_namespace_list;
        NetIter {
            head,
            pos: head,
            _guard: PhantomData,
        }
    }
}

impl Drop for NetListReadGuard {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold `net_rwsem` for read.
        unsafe { bindings::up_read(&raw mut bindings::net_rwsem) };
    }
}

/// Iterator over `net_namespace_list`, borrowed from the guard that keeps the list still.
///
/// # Invariants
///
/// `head` is `&net_namespace_list`, `pos` is `head` or the `list` member of a `struct net` on it,
/// and the list does not change while `'a` lasts.
pub(crate) struct NetIter<'a> {
    head: *mut bindings::list_head,
    pos: *mut bindings::list_head,
    _guard: PhantomData<&'a NetListReadGuard>,
}

impl<'a> Iterator for NetIter<'a> {
    type Item = Net<'a>;

    fn next(&mut self) -> Option<Net<'a>> {
        // SAFETY: by the type invariant `pos` is a node of the list, which cannot change now.
        let next = unsafe { (*self.pos).next };
        if next == self.head {
            return None;
        }
        // INVARIANT: `next` is a node of the same list and is not the head.
        self.pos = next;
        // SAFETY: every node of `net_namespace_list` but its head is the `list` member of a
        // `struct net` (`container_of`), and that net stays on the list while `'a` lasts.
        Some(unsafe { Net::from_list_node(next) })
    }
}

/// A network namespace, valid for `'a`.
///
/// # Invariants
///
/// `ptr` points to a `struct net` that stays allocated for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct Net<'a> {
    ptr: NonNull<bindings::net>,
    _lifetime: PhantomData<&'a bindings::net>,
}

impl<'a> Net<'a> {
    /// Makes a view of the net whose `list` member is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `list` member of a `struct net` that stays allocated for `'a`.
    unsafe fn from_list_node(node: *mut bindings::list_head) -> Self {
        // SAFETY: the caller guarantees `node` lies `offset_of!(net, list)` bytes into a
        // `struct net`, so stepping back stays inside that allocation.
        let net = unsafe { node.byte_sub(offset_of!(bindings::net, list)) }.cast::<bindings::net>();
        // INVARIANT: the caller guarantees the net outlives `'a`.
        Self {
            // SAFETY: `net` was derived from a non-null pointer into a live object.
            ptr: unsafe { NonNull::new_unchecked(net) },
            _lifetime: PhantomData,
        }
    }

    /// The inode number of the namespace, as `/proc/PID/ns/net` shows it.
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: by the type invariant `ptr` is valid; `ns.inum` is set once when the net is
        // created and never changes after.
        unsafe { (*self.ptr.as_ptr()).ns.inum }
    }
}
