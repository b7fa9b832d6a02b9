// SPDX-License-Identifier: GPL-2.0

//! rnsid in `cleanup_net()`: the test kernel's hook (qemu/patches) calls [`rnsid_unhash`] where
//! the in-tree nsid step runs, and the mode in force decides who does the work.

use crate::{
    bindings,
    mode::Mode,
    postcheck::Pending,
    stats::{add, now_ns, STATS},
    unhash::{self, Cleanup, Outcome},
    MODE,
};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use kernel::prelude::*;

/// Whether the running kernel has the hook (a test kernel built with rnsid's patches).
pub(crate) fn available() -> bool {
    // SAFETY: looks a symbol up by name; no preconditions.
    unsafe { bindings::rnsid_hook_available() }
}

/// rnsid's hook, registered for the lifetime of the value.
///
/// # Invariants
///
/// `rnsid_unhash` is registered with the kernel's `register_netns_nsid_ops()`.
pub(crate) struct Hook(());

impl Hook {
    /// Registers the hook; `Ok(None)` on a kernel that has none.
    pub(crate) fn register() -> Result<Option<Self>> {
        // SAFETY: registers a static ops table whose callback lives as long as the module; the
        // `Hook` unregisters it before the module goes.
        match unsafe { bindings::rnsid_hook_register() } {
            0 => Ok(Some(Hook(()))),
            e if e == ENOENT.to_errno() => Ok(None),
            e => Err(Error::from_errno(e)),
        }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the hook is registered. This waits until no
        // `cleanup_net()` is inside `rnsid_unhash`.
        unsafe { bindings::rnsid_hook_unregister() };
        // No `cleanup_net()` runs now, so every record was consumed; one left is a bug, freed
        // rather than leaked.
        crate::postcheck::discard_pending();
    }
}

/// The nsid step of one `cleanup_net()`; returns whether Rust did it (else the C does, and the
/// kernel calls [`rnsid_unhashed`] right after).
///
/// # Safety
///
/// Called by the kernel's `cleanup_net()` only, through the registered hook, with its kill
/// list and last survivor.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_unhash(
    net_kill_list: *mut bindings::llist_node,
    last: *mut bindings::net,
) -> bool {
    crate::hold::wait_if_armed();
    // One read per run: a mode switch never affects a `cleanup_net()` already running.
    let mode = MODE.get();
    // SAFETY: the arguments are `cleanup_net()`'s, and `cleanup` does not outlive this call.
    let cleanup = unsafe { Cleanup::new(net_kill_list, last) };
    let stats = STATS.mode(mode);
    add(&stats.cleanups, 1);

    let pending = Pending::record(&cleanup, mode);
    // Found before the clock starts: what `floor` leaves out is exactly this search.
    let plan = match mode {
        Mode::Floor => Some(unhash::Plan::new(&cleanup)),
        _ => None,
    };
    let start = now_ns();
    let outcome = match (mode, &plan) {
        (Mode::Relocated, _) => Some(unhash::relocated(&cleanup)),
        (Mode::Legacy, _) => Some(unhash::legacy(&cleanup)),
        (Mode::Batched, _) => Some(unhash::batched(&cleanup)),
        (Mode::Floor, Some(Ok(plan))) => Some(unhash::floor(&cleanup, plan)),
        // No memory for the plan: the step must still be done, the seed's way.
        (Mode::Floor, _) => Some(unhash::relocated(&cleanup)),
        (Mode::C | Mode::Shadow, _) => None,
    };
    let end = now_ns();
    let ns = end.saturating_sub(start);
    match pending {
        Ok(p) => p.publish(),
        Err(_) => add(&STATS.unchecked_batches, 1),
    }
    match &outcome {
        Some(out) => {
            add(&stats.unhash_ns, ns);
            account(mode, out);
            STATS.last.set(mode, out.nets, Some(out), start, end);
        }
        None => {
            let nets = cleanup.dying().count() as u64;
            add(&stats.nets, nets);
            C_STEP.start(mode, nets);
        }
    }
    outcome.is_some()
}

/// The in-tree step's end: `cleanup_net()` calls this right after the C did the step that
/// [`rnsid_unhash`] left to it.
///
/// # Safety
///
/// Called by the kernel's `cleanup_net()` only, through the registered hook.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_unhashed(
    _net_kill_list: *mut bindings::llist_node,
    _last: *mut bindings::net,
) {
    let end = now_ns();
    if let Some((mode, nets, start)) = C_STEP.take() {
        add(&STATS.mode(mode).unhash_ns, end.saturating_sub(start));
        STATS.last.set(mode, nets, None, start, end);
    }
}

/// The C step under way: when it started, in which mode and over how many nets.
///
/// `cleanup_net()` runs are serialised (one work item on an ordered workqueue) and the kernel
/// calls [`rnsid_unhashed`] only after an [`rnsid_unhash`] that returned false, so one slot is
/// enough. The clock is read last before returning to the C and first after it, as a Rust
/// strategy's span starts and ends right around its work.
struct CStep {
    start: AtomicU64,
    mode: AtomicU8,
    nets: AtomicU64,
}

static C_STEP: CStep = CStep {
    start: AtomicU64::new(0),
    mode: AtomicU8::new(0),
    nets: AtomicU64::new(0),
};

impl CStep {
    fn start(&self, mode: Mode, nets: u64) {
        self.mode.store(mode as u8, Ordering::Relaxed);
        self.nets.store(nets, Ordering::Relaxed);
        self.start.store(now_ns(), Ordering::Release);
    }

    /// The step's mode, nets and start, once; `None` if no C step was started.
    fn take(&self) -> Option<(Mode, u64, u64)> {
        let start = self.start.swap(0, Ordering::Acquire);
        (start != 0).then(|| {
            (
                Mode::from_u8(self.mode.load(Ordering::Relaxed)),
                self.nets.load(Ordering::Relaxed),
                start,
            )
        })
    }
}

fn account(mode: Mode, out: &Outcome) {
    let stats = STATS.mode(mode);
    add(&stats.nets, out.nets);
    add(&stats.survivors, out.survivors);
    add(&stats.examined, out.examined);
    add(&stats.ids_removed, out.ids_removed);
    add(&stats.notified, out.notified);
    add(&stats.notify_failed, out.notify_failed);
    add(&stats.rtnl_ns, out.rtnl_ns);
}
