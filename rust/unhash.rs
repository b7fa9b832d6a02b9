// SPDX-License-Identifier: GPL-2.0

//! The nsid step of `cleanup_net()`, in Rust: the strategies `relocated`, `legacy` and
//! `batched` (see [`crate::mode::Mode`]).

use crate::{
    bindings, breakage,
    net::{KillIter, Net, NetIter, NetListGuard},
    notify,
    stats::now_ns,
};

/// What `cleanup_net()` hands to the nsid step: the dying nets, already off
/// `net_namespace_list`, and the last survivor at that moment.
///
/// # Invariants
///
/// Valid only inside the hook call it was made for: the dying nets and every net on the list up
/// to `last` stay allocated, nothing but this `cleanup_net()` removes nets from the list, and
/// the list only grows after `last`.
pub(crate) struct Cleanup<'a> {
    kill: *mut bindings::llist_node,
    last: Net<'a>,
}

impl<'a> Cleanup<'a> {
    /// # Safety
    ///
    /// `kill` and `last` must be what `cleanup_net()` passed to the hook, and `'a` must end
    /// before the hook returns.
    pub(crate) unsafe fn new(kill: *mut bindings::llist_node, last: *mut bindings::net) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            kill,
            // SAFETY: `last` is on the list and stays there during the hook (caller).
            last: unsafe { Net::from_raw(last) },
        }
    }

    /// The dying nets, in kill-list order.
    pub(crate) fn dying(&self) -> KillIter<'a> {
        // SAFETY: by the type invariant the kill list is intact for `'a`.
        unsafe { KillIter::new(self.kill) }
    }

    /// The survivors, from `init_net` up to and including `last`, walked without `net_rwsem`:
    /// `cleanup_net()` is the only task that removes nets from the list.
    pub(crate) fn survivors(&self) -> impl Iterator<Item = Net<'a>> {
        let last = self.last.as_ptr();
        // SAFETY: by the type invariant no net up to `last` leaves the list for `'a`.
        unsafe { NetIter::new(Some(self.last)) }
            .filter(move |net| !(breakage::SHORT_WALK && net.as_ptr() == last))
    }
}

/// What one run of a strategy did.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) nets: u64,
    pub(crate) ids_removed: u64,
    pub(crate) notified: u64,
    pub(crate) notify_failed: u64,
    pub(crate) rwsem_ns: u64,
}

impl Outcome {
    fn notify(&mut self, survivor: Net<'_>, id: i32) {
        self.ids_removed += 1;
        if breakage::SKIP_NOTIFY_ID0 && id == 0 {
            return;
        }
        match notify::delnsid(survivor, id) {
            Ok(()) => self.notified += 1,
            Err(_) => self.notify_failed += 1,
        }
    }
}

/// Removes the id `survivor` holds for `dying`, if any, and notifies after unlocking.
fn unhash_from(survivor: Net<'_>, dying: Net<'_>, out: &mut Outcome) {
    let removed = {
        let mut ids = survivor.lock_ids();
        let id = ids.find(dying);
        if let Some(id) = id {
            ids.remove(id);
        }
        id
    };
    if let Some(id) = removed {
        out.notify(survivor, id);
    }
}

/// Destroys a dying net's own table once every survivor forgot it.
fn destroy(dying: Net<'_>, out: &mut Outcome) {
    // SAFETY: `dying` is off the list and no survivor holds an id for it any more, so nobody
    // can add to or look up its table.
    unsafe { dying.destroy_ids() };
    out.nets += 1;
}

/// The seed's scheme (fb07a820fe3f): per dying net, the survivors up to `last` with only their
/// own `nsid_lock`.
pub(crate) fn relocated(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    for dying in cleanup.dying() {
        for survivor in cleanup.survivors() {
            unhash_from(survivor, dying, &mut out);
        }
        destroy(dying, &mut out);
    }
    out
}

/// The scheme before the seed: the whole walk with `net_rwsem` held for write, standing in for
/// the `rtnl_lock()` it used to hold.
pub(crate) fn legacy(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    let start = now_ns();
    let list = NetListGuard::write();
    for dying in cleanup.dying() {
        for survivor in list.iter() {
            unhash_from(survivor, dying, &mut out);
        }
        destroy(dying, &mut out);
    }
    drop(list);
    out.rwsem_ns = now_ns().saturating_sub(start);
    out
}

/// The 7.x scheme (7acee67a6bce): one pass over the survivors, each table walked with a
/// restartable `idr_get_next()`, `nsid_lock` dropped around every notification.
pub(crate) fn batched(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    for survivor in cleanup.survivors() {
        let mut ids = survivor.lock_ids();
        let mut from = 0;
        while let Some((id, peer)) = ids.next(from) {
            from = id + 1;
            if !peer.is_dying() {
                continue;
            }
            ids.remove(id);
            drop(ids);
            out.notify(survivor, id);
            ids = survivor.lock_ids();
        }
        drop(ids);
    }
    for dying in cleanup.dying() {
        destroy(dying, &mut out);
    }
    out
}
