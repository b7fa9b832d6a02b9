// SPDX-License-Identifier: GPL-2.0

//! Giving the CPU back during a long step.

use crate::bindings;

/// Lets another task run if one is waiting for this CPU (`cond_resched()`).
///
/// On a kernel without preemption (the 6.12 test kernels, from `tinyconfig`) a worker that
/// never calls it keeps its CPU until it sleeps, and a task queued behind it waits that long;
/// on a preemptible kernel it does nothing.
///
/// Must be called where sleeping is allowed: no spinlock held, not in atomic context.
pub(crate) fn cond_resched() {
    // SAFETY: the C wrapper takes nothing and calls `cond_resched()`, which has no safety
    // requirements: called where it must not sleep, it is a bug `might_sleep()` reports, not
    // undefined behaviour.
    unsafe { bindings::rnsid_cond_resched() }
}
