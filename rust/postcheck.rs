// SPDX-License-Identifier: GPL-2.0

//! Checks after the nsid step, whoever did it: no net still names a dead one, every dying net's
//! own table is empty, and, in `shadow` mode, the C removed exactly the ids Rust predicted.
//!
//! The hook records what to check ([`Pending::record`]); the first pernet `pre_exit` of the
//! batch, which the kernel runs after the nsid step, checks it ([`check_pending`]).

use crate::{
    mode::Mode,
    net::{Net, NetListGuard},
    stats::{add, STATS},
    unhash::Cleanup,
};
use core::{
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// One id a survivor held for a dying net before the nsid step.
struct Entry {
    survivor: *mut crate::bindings::net,
    id: i32,
    peer: *mut crate::bindings::net,
    /// Whether Rust would remove it (the seed's `__peernet2id()` per dying net).
    predicted: bool,
}

/// What to check once the nsid step of one `cleanup_net()` is done.
pub(crate) struct Pending {
    mode: Mode,
    /// The dying nets, sorted by address.
    dying: KVec<*mut crate::bindings::net>,
    /// `shadow` only: every id survivors held for dying nets, with Rust's prediction.
    shadow: Option<KVec<Entry>>,
}

// SAFETY: the raw pointers name nets that stay allocated until the batch's `pre_exit`, where the
// record is consumed; it moves from the hook to `pre_exit` of the same `cleanup_net()` run.
unsafe impl Send for Pending {}

static PENDING: AtomicPtr<Pending> = AtomicPtr::new(ptr::null_mut());

impl Pending {
    /// Records the batch; in `shadow` mode also Rust's prediction, before the C runs.
    pub(crate) fn record(cleanup: &Cleanup<'_>, mode: Mode) -> Result<KBox<Self>> {
        let dying = cleanup.dying_sorted()?;
        let shadow = if mode == Mode::Shadow {
            Some(predict(cleanup, &dying)?)
        } else {
            None
        };
        Ok(KBox::new(
            Self {
                mode,
                dying,
                shadow,
            },
            GFP_KERNEL,
        )?)
    }

    /// Leaves the record for the batch's first `pre_exit`.
    pub(crate) fn publish(self: KBox<Self>) {
        let old = PENDING.swap(KBox::into_raw(self), Ordering::AcqRel);
        if !old.is_null() {
            // `cleanup_net()` runs are serialised, so a record is always consumed before the
            // next is made; if not, the old batch goes unchecked rather than leaked.
            // SAFETY: `old` came from `KBox::into_raw` in an earlier `publish`.
            drop(unsafe { KBox::from_raw(old) });
            add(&STATS.unchecked_batches, 1);
        }
    }

    fn is_dying(&self, net: *mut crate::bindings::net) -> bool {
        self.dying.binary_search(&net).is_ok()
    }
}

/// Rust's prediction for `shadow`: every id a survivor holds for a dying net, marked with
/// whether the seed's scheme would remove it.
fn predict(cleanup: &Cleanup<'_>, dying: &[*mut crate::bindings::net]) -> Result<KVec<Entry>> {
    cleanup.ids_for_dying(dying, |survivor, ids, id, peer| Entry {
        survivor: survivor.as_ptr(),
        id,
        peer: peer.as_ptr(),
        predicted: ids.find(peer) == Some(id),
    })
}

/// Takes the pending record, if any, and checks it; called from every pernet `pre_exit`.
pub(crate) fn check_pending() {
    let p = PENDING.swap(ptr::null_mut(), Ordering::AcqRel);
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `KBox::into_raw` in `publish` and was taken out exactly once.
    let pending = unsafe { KBox::from_raw(p) };
    check(&pending);
}

/// Drops a record left behind (module unload).
pub(crate) fn discard_pending() {
    let p = PENDING.swap(ptr::null_mut(), Ordering::AcqRel);
    if !p.is_null() {
        // SAFETY: as in `check_pending`.
        drop(unsafe { KBox::from_raw(p) });
    }
}

fn check(pending: &Pending) {
    let mut failures = 0u64;
    {
        let list = NetListGuard::read();
        for net in list.iter() {
            let ids = net.lock_ids();
            for (id, peer) in ids.iter() {
                if pending.is_dying(peer.as_ptr()) {
                    failures += 1;
                    pr_err!(
                        "after the nsid step ({}), net:[{}] still holds id {} for dead net:[{}]\n",
                        pending.mode.name(),
                        net.inum(),
                        id,
                        peer.inum()
                    );
                }
            }
        }
    }
    for &dead in pending.dying.iter() {
        // SAFETY: the dying nets are freed only after every pernet `exit`, and we run in their
        // `pre_exit`.
        let dead = unsafe { Net::from_raw(dead) };
        if let Some((id, _)) = dead.lock_ids().next(0) {
            failures += 1;
            pr_err!(
                "after the nsid step ({}), dead net:[{}] still has id {} in its own table\n",
                pending.mode.name(),
                dead.inum(),
                id
            );
        }
    }
    add(&STATS.postcondition_failures, failures);

    let Some(entries) = &pending.shadow else {
        return;
    };
    let stats = STATS.mode(Mode::Shadow);
    let mut mismatches = 0u64;
    for e in entries.iter() {
        // SAFETY: survivors up to `last` outlive this `cleanup_net()` run (only it frees nets).
        let survivor = unsafe { Net::from_raw(e.survivor) };
        let gone = survivor.lock_ids().lookup(e.id) != Some(e.peer);
        if gone != e.predicted {
            mismatches += 1;
            pr_err!(
                "shadow: net:[{}] id {}: Rust predicted {}, the C {}\n",
                survivor.inum(),
                e.id,
                if e.predicted { "removal" } else { "no removal" },
                if gone { "removed it" } else { "kept it" }
            );
        }
    }
    add(&stats.shadow_checked, entries.len() as u64);
    add(&stats.shadow_mismatches, mismatches);
}
