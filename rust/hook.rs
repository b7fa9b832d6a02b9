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

/// The nsid step of one `cleanup_net()`; returns whether Rust did it (else the C does).
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
    let start = now_ns();
    let outcome = match mode {
        Mode::Relocated => Some(unhash::relocated(&cleanup)),
        Mode::Legacy => Some(unhash::legacy(&cleanup)),
        Mode::Batched => Some(unhash::batched(&cleanup)),
        Mode::C | Mode::Shadow => None,
    };
    match &outcome {
        Some(out) => {
            add(&stats.unhash_ns, now_ns().saturating_sub(start));
            account(mode, out);
        }
        None => add(&stats.nets, cleanup.dying().count() as u64),
    }
    match pending {
        Ok(p) => p.publish(),
        Err(_) => add(&STATS.unchecked_batches, 1),
    }
    outcome.is_some()
}

fn account(mode: Mode, out: &Outcome) {
    let stats = STATS.mode(mode);
    add(&stats.nets, out.nets);
    add(&stats.ids_removed, out.ids_removed);
    add(&stats.notified, out.notified);
    add(&stats.notify_failed, out.notify_failed);
    add(&stats.rwsem_ns, out.rwsem_ns);
}
