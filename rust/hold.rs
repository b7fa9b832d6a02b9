// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/rnsid/hold`: makes a batch of dying namespaces deterministic.
//!
//! `cleanup_net()` takes whatever is on its list when it starts, so namespaces released one
//! after the other may die in one run or in several. With the knob user space can say which:
//!
//! 1. `flush`: wait for pending RCU callbacks, so that sockets already closed have dropped their
//!    references on their namespaces (netlink frees its sockets after a grace period);
//! 2. `arm`, then release one spare namespace: its `cleanup_net()` stops in the hook (the file
//!    reads `holding`);
//! 3. release the batch: the namespaces queue up behind the held run, in the order released;
//! 4. `release`: the held run goes on, and the next one takes the whole batch.
//!
//! A held run waits at most [`TIMEOUT_MS`], and the module's unload releases it. The states and
//! commands are in `gate.rs`.

use crate::{
    bindings,
    gate::{Command, Gate},
    param,
    stats::{add, STATS},
    value::Shown,
};
use core::{
    ffi::{c_char, c_int, c_void},
    fmt::{self, Write},
};
use kernel::prelude::*;

/// How long a held `cleanup_net()` waits for `release` before it goes on by itself.
const TIMEOUT_MS: u32 = 30_000;

static GATE: Gate = Gate::new();

/// The knob's lifetime: open while the value lives; dropping it releases a held run for good.
pub(crate) struct Hold(());

impl Hold {
    /// Opens the knob.
    pub(crate) fn new() -> Self {
        GATE.open();
        Hold(())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // Before the hook is unregistered, which waits for every `cleanup_net()` in it.
        GATE.close();
        wake();
    }
}

fn wake() {
    // SAFETY: wakes glue's wait queue; callable from any sleepable context.
    unsafe { bindings::rnsid_hold_wake() };
}

/// Called by the hook first of all: waits there if user space armed the knob.
pub(crate) fn wait_if_armed() {
    if !GATE.enter() {
        return;
    }
    add(&STATS.held, 1);
    // SAFETY: the hook runs in `cleanup_net()`'s work item, which may sleep.
    if !unsafe { bindings::rnsid_hold_wait(TIMEOUT_MS) } {
        GATE.give_up();
        add(&STATS.hold_timeouts, 1);
        pr_err!(
            "hold: nobody released the held cleanup_net() within {} s; it goes on\n",
            TIMEOUT_MS / 1000
        );
    }
}

/// The wait condition of [`wait_if_armed`] (see `glue.c`).
#[no_mangle]
pub(crate) extern "C" fn rnsid_hold_released() -> bool {
    GATE.may_go()
}

/// Carries out one command written to `rnsid/hold`: its bytes as written, `len` long in all.
fn command(text: &[u8], len: usize) -> Result {
    let parsed = if len > text.len() {
        None
    } else {
        core::str::from_utf8(text).ok().and_then(Command::parse)
    };
    match parsed {
        Some(Command::Arm) => GATE.arm().map_err(|now| {
            param::log_refusal(format_args!("hold: cannot arm while {}\n", now.name()));
            EBUSY
        }),
        Some(Command::Release) => {
            GATE.release();
            wake();
            Ok(())
        }
        Some(Command::Flush) => {
            // SAFETY: may sleep; the caller is a task writing a file.
            unsafe { bindings::rcu_barrier() };
            Ok(())
        }
        None if len > text.len() => {
            param::log_refusal(format_args!(
                "hold: a command of {} bytes, {} first, refused (want arm, release or flush)\n",
                len,
                Shown(text)
            ));
            Err(EINVAL)
        }
        None => {
            param::log_refusal(format_args!(
                "hold: {} refused (want arm, release or flush)\n",
                Shown(text)
            ));
            Err(EINVAL)
        }
    }
}

/// A command written to `rnsid/hold` (its `write` callback in `glue.c` copies in the first
/// `copied` bytes of the `len` written). NUL is a byte like any other here, so that
/// `arm\0junk` is refused, not read as `arm`.
///
/// # Safety
///
/// `cmd` must be valid for reads of `copied` bytes for the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_hold_command(
    cmd: *const c_char,
    copied: usize,
    len: usize,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let text = unsafe { core::slice::from_raw_parts(cmd.cast::<u8>(), copied) };
    match command(text, len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn render(w: &mut impl Write) -> fmt::Result {
    writeln!(w, "{}", GATE.state().name())
}

/// The `show` callback of `rnsid/hold` (see `glue.c`).
///
/// # Safety
///
/// Called by the `seq_file` code only, with a valid `m`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_hold_show(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    // SAFETY: `m` is the `seq_file` of this running `show` callback (caller).
    let _ = render(&mut unsafe { crate::stats::SeqFile::new(m) });
    0
}
