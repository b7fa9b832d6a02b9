// SPDX-License-Identifier: GPL-2.0

//! The nsid step of `cleanup_net()`, in Rust: the strategies `relocated`, `legacy` and
//! `batched`, and `floor`, the benchmark's measure of the unavoidable work (see
//! [`crate::mode::Mode`]).

use crate::{
    bindings, breakage,
    net::{KillIter, Net, NetIter, NetListGuard, NsidGuard},
    notify,
    rtnl::Rtnl,
    sched,
    stats::now_ns,
};
use kernel::prelude::*;

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

    /// The dying nets' addresses, sorted (for [`Self::ids_for_dying`]).
    pub(crate) fn dying_sorted(&self) -> Result<KVec<*mut bindings::net>> {
        let mut dying = KVec::new();
        for net in self.dying() {
            dying.push(net.as_ptr(), GFP_KERNEL)?;
        }
        dying.sort_unstable();
        Ok(dying)
    }

    /// `f(survivor, its table, id, peer)` for every id a survivor up to `last` holds for a net
    /// in `dying` (sorted), survivor by survivor, each table in id order.
    ///
    /// Each table is counted, room made with the lock dropped, then filled: no sleeping
    /// allocation under `nsid_lock`. Ids for dying nets cannot appear or vanish meanwhile:
    /// only this nsid step removes them, and `peernet2id_alloc()` refuses dying peers.
    pub(crate) fn ids_for_dying<T>(
        &self,
        dying: &[*mut bindings::net],
        mut f: impl FnMut(Net<'a>, &NsidGuard<'a>, i32, Net<'a>) -> T,
    ) -> Result<KVec<T>> {
        let is_dying = |p: Net<'_>| dying.binary_search(&p.as_ptr()).is_ok();
        let mut found = KVec::new();
        for survivor in self.survivors() {
            let count = survivor
                .lock_ids()
                .iter()
                .filter(|(_, p)| is_dying(*p))
                .count();
            found.reserve(count, GFP_KERNEL)?;
            let ids = survivor.lock_ids();
            for (id, peer) in ids.iter().filter(|(_, p)| is_dying(*p)) {
                // Within the capacity reserved above, so this does not allocate.
                found.push(f(survivor, &ids, id, peer), GFP_ATOMIC)?;
            }
        }
        Ok(found)
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
    /// Survivors whose table was searched (one per dying net and survivor in the seed's scheme).
    pub(crate) survivors: u64,
    /// Table entries looked at; counted by `batched` only (see [`NsidGuard::find`]).
    pub(crate) examined: u64,
    pub(crate) ids_removed: u64,
    pub(crate) notified: u64,
    pub(crate) notify_failed: u64,
    /// `legacy`: how long `rtnl_lock()` was held.
    pub(crate) rtnl_ns: u64,
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
        out.survivors += 1;
        if let Some(id) = id {
            ids.remove(id);
        }
        id
    };
    if let Some(id) = removed {
        out.notify(survivor, id);
    }
}

/// Survivors visited between two offers of the CPU: tens of microseconds of walk. Offered at
/// every survivor, the call cost 1.5 to 2% of `relocated`'s step on 6.12.
const RESCHED_EVERY: u64 = 32;

/// Offers the CPU ([`sched::cond_resched`]) once every [`RESCHED_EVERY`] survivors visited.
/// Called with no lock held.
fn offer_cpu(visited: u64) {
    if visited % RESCHED_EVERY == 0 {
        sched::cond_resched();
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
///
/// Unlike the C, it offers the CPU between survivors ([`offer_cpu`]): with no lock held there,
/// a kernel without preemption need not keep every other task on this CPU waiting for the
/// whole walk.
pub(crate) fn relocated(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    for dying in cleanup.dying() {
        for survivor in cleanup.survivors() {
            unhash_from(survivor, dying, &mut out);
            offer_cpu(out.survivors);
        }
        destroy(dying, &mut out);
    }
    out
}

/// The scheme before the seed: the whole walk under `rtnl_lock()`, as `cleanup_net()` did
/// before fb07a820fe3f, and `net_rwsem` for write, which guards the list since then.
pub(crate) fn legacy(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    let start = now_ns();
    let rtnl = Rtnl::lock();
    let list = NetListGuard::write();
    for dying in cleanup.dying() {
        for survivor in list.iter() {
            unhash_from(survivor, dying, &mut out);
        }
        destroy(dying, &mut out);
    }
    drop(list);
    drop(rtnl);
    out.rtnl_ns = now_ns().saturating_sub(start);
    out
}

/// The 7.x scheme (7acee67a6bce): one pass over the survivors, each table walked with a
/// restartable `idr_get_next()`, `nsid_lock` dropped around every notification.
///
/// Like [`relocated`], and unlike the C, it offers the CPU between survivors.
pub(crate) fn batched(cleanup: &Cleanup<'_>) -> Outcome {
    let mut out = Outcome::default();
    for survivor in cleanup.survivors() {
        out.survivors += 1;
        let mut ids = survivor.lock_ids();
        let mut from = 0;
        while let Some((id, peer)) = ids.next(from) {
            from = id + 1;
            out.examined += 1;
            if !peer.is_dying() {
                continue;
            }
            ids.remove(id);
            drop(ids);
            out.notify(survivor, id);
            ids = survivor.lock_ids();
        }
        drop(ids);
        offer_cpu(out.survivors);
    }
    for dying in cleanup.dying() {
        destroy(dying, &mut out);
    }
    out
}

/// The (survivor, id) pairs the nsid step of one `cleanup_net()` must remove, found before the
/// clock starts (`floor`).
pub(crate) struct Plan<'a> {
    pairs: KVec<(Net<'a>, i32)>,
}

impl<'a> Plan<'a> {
    /// Every id a survivor up to `last` holds for a dying net.
    pub(crate) fn new(cleanup: &Cleanup<'a>) -> Result<Self> {
        let dying = cleanup.dying_sorted()?;
        let pairs = cleanup.ids_for_dying(&dying, |survivor, _, id, _| (survivor, id))?;
        Ok(Self { pairs })
    }
}

/// The unavoidable work alone: each planned removal and its notification, then the dying
/// nets' own tables. What every strategy must at least do; the benchmark's floor.
pub(crate) fn floor(cleanup: &Cleanup<'_>, plan: &Plan<'_>) -> Outcome {
    let mut out = Outcome::default();
    for &(survivor, id) in plan.pairs.iter() {
        survivor.lock_ids().remove(id);
        out.notify(survivor, id);
    }
    for dying in cleanup.dying() {
        destroy(dying, &mut out);
    }
    out
}
