// SPDX-License-Identifier: GPL-2.0

//! Safe views of the kernel's `struct net`: the namespace list, a net's `nsid_lock` and the ids
//! in its `netns_ids`.

use crate::{bindings, series};
use core::{
    ffi::{c_int, c_void},
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull,
};

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
    /// Makes a view of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net` that stays allocated for `'a`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::net) -> Self {
        // INVARIANT: the caller guarantees the net outlives `'a`.
        Self {
            // SAFETY: a pointer to a live object is not null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _lifetime: PhantomData,
        }
    }

    /// Makes a view of the net that contains `node` at byte offset `offset`
    /// (`container_of`).
    ///
    /// # Safety
    ///
    /// `node` must lie `offset` bytes into a `struct net` that stays allocated for `'a`.
    unsafe fn from_member<T>(node: *mut T, offset: usize) -> Self {
        // SAFETY: the caller guarantees stepping back `offset` bytes stays in the same net.
        let net = unsafe { node.byte_sub(offset) }.cast::<bindings::net>();
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw(net) }
    }

    /// The raw pointer, for the binding layer.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.ptr.as_ptr()
    }

    /// The inode number of the namespace, as `/proc/PID/ns/net` shows it.
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: by the type invariant `ptr` is valid; `ns.inum` is set once when the net is
        // created and never changes after.
        unsafe { (*self.as_ptr()).ns.inum }
    }

    /// Whether `cleanup_net()` has marked this net as dying (7.x only; see [`series`]).
    pub(crate) fn is_dying(&self) -> bool {
        // SAFETY: by the type invariant the net is live.
        unsafe { series::is_dying(self.as_ptr()) }
    }

    /// Takes the net's `nsid_lock`, giving access to its `netns_ids`.
    pub(crate) fn lock_ids(self) -> NsidGuard<'a> {
        // SAFETY: the net is live, so its `nsid_lock` is initialised; the guard releases it.
        unsafe { series::nsid_lock(&raw mut (*self.as_ptr()).nsid_lock) };
        // INVARIANT: we hold the lock now.
        NsidGuard { net: self }
    }

    /// Destroys the net's own id table, under its `nsid_lock` as the seed does.
    ///
    /// # Safety
    ///
    /// The net must be dying, off `net_namespace_list` and unhashed from every survivor, so that
    /// nobody adds ids to it any more.
    pub(crate) unsafe fn destroy_ids(self) {
        let guard = self.lock_ids();
        // SAFETY: we hold `nsid_lock`; the caller guarantees no one uses the table any more.
        unsafe { bindings::idr_destroy(&raw mut (*self.as_ptr()).netns_ids) };
        drop(guard);
    }
}

/// What the KUnit suite asks of a net beyond what rnsid itself needs: the kernel's own view of
/// its ids, to compare rnsid's with.
#[cfg(rnsid_kunit)]
impl<'a> Net<'a> {
    /// `init_net`, which lives as long as the kernel.
    pub(crate) fn init_net() -> Net<'static> {
        // SAFETY: `init_net` is a static `struct net` that is never freed.
        unsafe { Net::from_raw(&raw mut bindings::init_net) }
    }

    /// The id this net holds for `peer`, as the kernel's `peernet2id()` finds it.
    pub(crate) fn peernet2id(self, peer: Net<'_>) -> Option<i32> {
        // SAFETY: both nets are live (type invariant); `peernet2id()` takes what it needs.
        let id = unsafe { bindings::peernet2id(self.as_ptr(), peer.as_ptr()) };
        (id >= 0).then_some(id)
    }

    /// The id this net holds for `peer`, allocated (and announced with `RTM_NEWNSID`) if it has
    /// none yet, as `peernet2id_alloc()` does it; `None` if `peer` is dying.
    pub(crate) fn peernet2id_alloc(self, peer: Net<'_>) -> Option<i32> {
        // SAFETY: both nets are live (type invariant); `peernet2id_alloc()` takes the net's
        // `nsid_lock` itself and sleeps only as `GFP_KERNEL` allows.
        let id = unsafe {
            bindings::peernet2id_alloc(self.as_ptr(), peer.as_ptr(), kernel::bindings::GFP_KERNEL)
        };
        (id >= 0).then_some(id)
    }
}

impl PartialEq for Net<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}

/// A net's `nsid_lock`, held.
///
/// # Invariants
///
/// The lock of `net` is held, taken with [`series::nsid_lock`], while the guard exists.
pub(crate) struct NsidGuard<'a> {
    net: Net<'a>,
}

impl<'a> NsidGuard<'a> {
    fn ids(&self) -> *mut bindings::idr {
        // SAFETY: by the type invariant of `Net` the net is live.
        unsafe { &raw mut (*self.net.as_ptr()).netns_ids }
    }

    /// The first id at or above `from` and the net it names (`idr_get_next`).
    pub(crate) fn next(&self, from: i32) -> Option<(i32, Net<'a>)> {
        let mut id = from;
        // SAFETY: we hold `nsid_lock`, which protects `netns_ids`.
        let peer = unsafe { bindings::idr_get_next(self.ids(), &mut id) };
        // SAFETY: an id in a live net's table names a net that is live or dying in the running
        // `cleanup_net()`; either way it stays allocated while the caller holds `'a`.
        NonNull::new(peer.cast::<bindings::net>())
            .map(|p| (id, unsafe { Net::from_raw(p.as_ptr()) }))
    }

    /// Every (id, net) in the table, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i32, Net<'a>)> + '_ {
        let mut from = 0;
        core::iter::from_fn(move || {
            let (id, peer) = self.next(from)?;
            from = id + 1;
            Some((id, peer))
        })
    }

    /// The id this net holds for `peer`, found as the kernel's `__peernet2id()` finds it: one
    /// `idr_for_each()` walk that stops at the match.
    ///
    /// A walk by [`Self::next`] would restart the radix-tree descent for every entry; on tables
    /// of a hundred ids that made the seed's scheme twice as slow as the C. The callback takes
    /// four instructions for an entry that does not match, the C's `net_eq_idr()` five: three
    /// more, or counting the entries it looks at (one increment each), made the step 5% slower
    /// than the C's.
    pub(crate) fn find(&self, peer: Net<'_>) -> Option<i32> {
        // SAFETY: we hold `nsid_lock`, which protects `netns_ids`; `match_peer` only compares
        // the pointers it is given.
        let found = unsafe {
            bindings::idr_for_each(self.ids(), Some(match_peer), peer.as_ptr().cast::<c_void>())
        };
        match found {
            0 => None,
            NET_ID_ZERO => Some(0),
            id => Some(id),
        }
    }

    /// The net that `id` names, if any.
    pub(crate) fn lookup(&self, id: i32) -> Option<*mut bindings::net> {
        let id = u64::try_from(id).ok()?;
        // SAFETY: we hold `nsid_lock`.
        let peer = unsafe { bindings::idr_find(self.ids(), id) };
        (!peer.is_null()).then_some(peer.cast())
    }

    /// Removes `id` from the table.
    pub(crate) fn remove(&mut self, id: i32) {
        let Ok(id) = u64::try_from(id) else { return };
        // SAFETY: we hold `nsid_lock`.
        let _: *mut c_void = unsafe { bindings::idr_remove(self.ids(), id) };
    }
}

/// What [`match_peer`] returns for id 0, which `idr_for_each()` would take for "go on" (the
/// C's `NET_ID_ZERO`).
const NET_ID_ZERO: c_int = -1;

/// `idr_for_each()`'s callback for [`NsidGuard::find`], the C's `net_eq_idr()`: stops the walk
/// (non-zero) at the entry that is `peer`.
///
/// # Safety
///
/// None beyond the call's: it only compares the two pointers. It is `unsafe` because that is
/// the callback type `idr_for_each()` takes.
unsafe extern "C" fn match_peer(id: c_int, entry: *mut c_void, peer: *mut c_void) -> c_int {
    if entry != peer {
        return 0;
    }
    stop_at(id)
}

/// What [`match_peer`] returns at the match, once per walk. `#[cold]`: built for size (the test
/// kernels' `-Os`), LLVM otherwise computes it for every entry, before the compare and without
/// a branch, three instructions more per entry than the C, which were the 5% `relocated` took
/// over 6.12's C at L = 100 (performance.rst). `core::hint::cold_path()` did not do it.
#[cold]
fn stop_at(id: c_int) -> c_int {
    if id == 0 {
        NET_ID_ZERO
    } else {
        id
    }
}

impl Drop for NsidGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold the lock, taken with `series::nsid_lock`.
        unsafe { series::nsid_unlock(&raw mut (*self.net.as_ptr()).nsid_lock) };
    }
}

/// `net_rwsem`, held for read or for write.
///
/// While it is held no network namespace is added to or removed from `net_namespace_list`.
///
/// # Invariants
///
/// The current task holds `net_rwsem` (for write if `write`) while the guard exists.
pub(crate) struct NetListGuard {
    write: bool,
    _not_send: PhantomData<*mut ()>,
}

impl NetListGuard {
    /// Takes `net_rwsem` for read, sleeping if a writer holds it.
    pub(crate) fn read() -> Self {
        // SAFETY: `net_rwsem` is a static, initialised rw_semaphore; we run in process context.
        unsafe { bindings::down_read(&raw mut bindings::net_rwsem) };
        // INVARIANT: `down_read` returned, so we hold the semaphore for read.
        Self {
            write: false,
            _not_send: PhantomData,
        }
    }

    /// Takes `net_rwsem` for write, as `cleanup_net()` does around the list removal.
    pub(crate) fn write() -> Self {
        // SAFETY: as in `read`.
        unsafe { bindings::down_write(&raw mut bindings::net_rwsem) };
        // INVARIANT: `down_write` returned, so we hold the semaphore for write.
        Self {
            write: true,
            _not_send: PhantomData,
        }
    }

    /// Every network namespace on `net_namespace_list`, `init_net` first.
    pub(crate) fn iter(&self) -> NetIter<'_> {
        // SAFETY: while the semaphore is held the list cannot change.
        unsafe { NetIter::new(None) }
    }
}

impl Drop for NetListGuard {
    fn drop(&mut self) {
        if self.write {
            // SAFETY: by the type invariant we hold `net_rwsem` for write.
            unsafe { bindings::up_write(&raw mut bindings::net_rwsem) };
        } else {
            // SAFETY: by the type invariant we hold `net_rwsem` for read.
            unsafe { bindings::up_read(&raw mut bindings::net_rwsem) };
        }
    }
}

/// Iterator over `net_namespace_list` from its head, up to and including `last` if given.
///
/// # Invariants
///
/// `pos` is the list head or the `list` member of a net on the list; no net on the list up to
/// `last` is removed while `'a` lasts.
pub(crate) struct NetIter<'a> {
    pos: *mut bindings::list_head,
    last: Option<Net<'a>>,
    done: bool,
}

impl<'a> NetIter<'a> {
    /// # Safety
    ///
    /// For `'a`, no net on `net_namespace_list` up to `last` (or at all, with `None`) may be
    /// removed from it: the caller holds `net_rwsem`, or is `cleanup_net()`, the only remover.
    pub(crate) unsafe fn new(last: Option<Net<'a>>) -> Self {
        Self {
            pos: &raw mut bindings::net_namespace_list,
            last,
            done: false,
        }
    }
}

impl<'a> Iterator for NetIter<'a> {
    type Item = Net<'a>;

    fn next(&mut self) -> Option<Net<'a>> {
        if self.done {
            return None;
        }
        // SAFETY: by the type invariant `pos` is a node of the list that is still on it.
        let next = unsafe { (*self.pos).next };
        if next == &raw mut bindings::net_namespace_list {
            self.done = true;
            return None;
        }
        self.pos = next;
        // SAFETY: every node but the head is the `list` member of a net, which stays on the list
        // (so allocated) for `'a` by the type invariant.
        let net = unsafe { Net::from_member(next, offset_of!(bindings::net, list)) };
        if self.last == Some(net) {
            self.done = true;
        }
        Some(net)
    }
}

/// Iterator over a `cleanup_net()` kill list (`struct llist_node`s linked through
/// `net->cleanup_list`).
///
/// # Invariants
///
/// `node` is null or the `cleanup_list` member of a net on the kill list, and every net on it
/// stays allocated for `'a`.
pub(crate) struct KillIter<'a> {
    node: *mut bindings::llist_node,
    _lifetime: PhantomData<Net<'a>>,
}

impl<'a> KillIter<'a> {
    /// # Safety
    ///
    /// `first` must be the head of a kill list handed over by `cleanup_net()`, whose nets stay
    /// allocated, and whose links do not change, for `'a`.
    pub(crate) unsafe fn new(first: *mut bindings::llist_node) -> Self {
        Self {
            node: first,
            _lifetime: PhantomData,
        }
    }
}

impl<'a> Iterator for KillIter<'a> {
    type Item = Net<'a>;

    fn next(&mut self) -> Option<Net<'a>> {
        let node = NonNull::new(self.node)?;
        // SAFETY: by the type invariant `node` is a live link of the kill list.
        self.node = unsafe { (*node.as_ptr()).next };
        // SAFETY: the node is the `cleanup_list` member of a net that outlives `'a`.
        Some(unsafe { Net::from_member(node.as_ptr(), offset_of!(bindings::net, cleanup_list)) })
    }
}

/// Iterator over a pernet `exit_batch` list (`struct list_head`s linked through
/// `net->exit_list`).
///
/// # Invariants
///
/// `head` is the list head handed to `exit_batch`, `pos` the head or a node on it, and the list
/// does not change for `'a`.
pub(crate) struct ExitIter<'a> {
    head: *mut bindings::list_head,
    pos: *mut bindings::list_head,
    _lifetime: PhantomData<Net<'a>>,
}

impl<'a> ExitIter<'a> {
    /// # Safety
    ///
    /// `head` must be the `net_exit_list` of a running `exit_batch` callback, valid for `'a`.
    pub(crate) unsafe fn new(head: *mut bindings::list_head) -> Self {
        Self {
            head,
            pos: head,
            _lifetime: PhantomData,
        }
    }
}

impl<'a> Iterator for ExitIter<'a> {
    type Item = Net<'a>;

    fn next(&mut self) -> Option<Net<'a>> {
        // SAFETY: by the type invariant `pos` is a node of the list.
        let next = unsafe { (*self.pos).next };
        if next == self.head {
            return None;
        }
        self.pos = next;
        // SAFETY: every node but the head is the `exit_list` member of a net that outlives `'a`.
        Some(unsafe { Net::from_member(next, offset_of!(bindings::net, exit_list)) })
    }
}
