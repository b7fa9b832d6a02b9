// SPDX-License-Identifier: GPL-2.0

//! What rnsid counts, and `/sys/kernel/debug/rnsid/stats`, which shows it.

use crate::{bindings, mode::Mode, unhash::Outcome};
use core::{
    ffi::{c_int, c_void},
    fmt::{self, Write},
    sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering},
};

/// The counters of one mode.
pub(crate) struct ModeStats {
    /// `cleanup_net()` runs that entered the hook in this mode.
    pub(crate) cleanups: AtomicU64,
    /// Dying nets unhashed (or, in `c` and `shadow`, seen being unhashed by the C).
    pub(crate) nets: AtomicU64,
    /// Survivor tables searched by Rust (one per dying net and survivor in the seed's scheme).
    pub(crate) survivors: AtomicU64,
    /// Table entries Rust looked at.
    pub(crate) examined: AtomicU64,
    /// Ids removed from survivors by Rust.
    pub(crate) ids_removed: AtomicU64,
    /// `RTM_DELNSID` notifications sent by Rust.
    pub(crate) notified: AtomicU64,
    /// Notifications that failed (reported to listeners with `rtnl_set_sk_err()`).
    pub(crate) notify_failed: AtomicU64,
    /// `shadow`: (survivor, id) pairs where the prediction and the C disagreed.
    pub(crate) shadow_mismatches: AtomicU64,
    /// `shadow`: pairs checked.
    pub(crate) shadow_checked: AtomicU64,
    /// Time spent in the unhash step, in ns: Rust's, or in `c` and `shadow` the in-tree C's,
    /// over the same span and by the same clock.
    pub(crate) unhash_ns: AtomicU64,
    /// Time the module held `rtnl_lock()`, in ns (`legacy`).
    pub(crate) rtnl_ns: AtomicU64,
}

impl ModeStats {
    const fn new() -> Self {
        Self {
            cleanups: AtomicU64::new(0),
            nets: AtomicU64::new(0),
            survivors: AtomicU64::new(0),
            examined: AtomicU64::new(0),
            ids_removed: AtomicU64::new(0),
            notified: AtomicU64::new(0),
            notify_failed: AtomicU64::new(0),
            shadow_mismatches: AtomicU64::new(0),
            shadow_checked: AtomicU64::new(0),
            unhash_ns: AtomicU64::new(0),
            rtnl_ns: AtomicU64::new(0),
        }
    }
}

/// All of rnsid's counters.
pub(crate) struct Stats {
    modes: [ModeStats; Mode::ALL.len()],
    /// Nets rnsid's pernet `init` ran for and `exit` has not yet.
    pub(crate) live_nets: AtomicI64,
    /// Post-conditions found broken after a `cleanup_net()` (see `postcheck.rs`).
    pub(crate) postcondition_failures: AtomicU64,
    /// Batches whose post-conditions could not be checked (allocation failed).
    pub(crate) unchecked_batches: AtomicU64,
    /// `cleanup_net()` runs held in the hook through `rnsid/hold`.
    pub(crate) held: AtomicU64,
    /// Held runs that nobody released in time.
    pub(crate) hold_timeouts: AtomicU64,
    /// The most recent nsid step.
    pub(crate) last: LastStep,
}

/// The most recent nsid step, whoever did it, for a benchmark that times one batch: the spare
/// net that arms `rnsid/hold` runs its own `cleanup_net()` just before the batch's, so the
/// per-mode sums mix the two.
///
/// Written by `cleanup_net()` only, whose runs are serialised; a reader racing with a write may
/// see fields of two steps, which a reader that waits for the runs it expects never does.
pub(crate) struct LastStep {
    mode: AtomicU8,
    nets: AtomicU64,
    survivors: AtomicU64,
    examined: AtomicU64,
    ids_removed: AtomicU64,
    notified: AtomicU64,
    ns: AtomicU64,
    /// When the step began and ended, by `ktime_get()` (`CLOCK_MONOTONIC`, the clock a guest
    /// tool reads with `clock_gettime()`), so that a tool can tell which of the operations it
    /// timed overlapped the step itself rather than the rest of `cleanup_net()`.
    start: AtomicU64,
    end: AtomicU64,
}

impl LastStep {
    const fn new() -> Self {
        Self {
            mode: AtomicU8::new(Mode::C as u8),
            nets: AtomicU64::new(0),
            survivors: AtomicU64::new(0),
            examined: AtomicU64::new(0),
            ids_removed: AtomicU64::new(0),
            notified: AtomicU64::new(0),
            ns: AtomicU64::new(0),
            start: AtomicU64::new(0),
            end: AtomicU64::new(0),
        }
    }

    /// Records a step of `mode` over `nets` dying nets from `start` to `end` ([`now_ns`]); the
    /// work counts are Rust's (zero when the C did the step).
    pub(crate) fn set(&self, mode: Mode, nets: u64, work: Option<&Outcome>, start: u64, end: u64) {
        let get = |f: fn(&Outcome) -> u64| work.map_or(0, f);
        self.mode.store(mode as u8, Ordering::Relaxed);
        self.nets.store(nets, Ordering::Relaxed);
        self.survivors
            .store(get(|o| o.survivors), Ordering::Relaxed);
        self.examined.store(get(|o| o.examined), Ordering::Relaxed);
        self.ids_removed
            .store(get(|o| o.ids_removed), Ordering::Relaxed);
        self.notified.store(get(|o| o.notified), Ordering::Relaxed);
        self.ns.store(end.saturating_sub(start), Ordering::Relaxed);
        self.start.store(start, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
    }
}

impl Stats {
    const fn new() -> Self {
        Self {
            modes: [const { ModeStats::new() }; Mode::ALL.len()],
            live_nets: AtomicI64::new(0),
            postcondition_failures: AtomicU64::new(0),
            unchecked_batches: AtomicU64::new(0),
            held: AtomicU64::new(0),
            hold_timeouts: AtomicU64::new(0),
            last: LastStep::new(),
        }
    }

    /// The counters of `mode`.
    pub(crate) fn mode(&self, mode: Mode) -> &ModeStats {
        &self.modes[mode.index()]
    }
}

/// The module's counters.
pub(crate) static STATS: Stats = Stats::new();

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Nanoseconds on the monotonic clock.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get()` may be called from any context once timekeeping is up.
    let t = unsafe { bindings::ktime_get() };
    u64::try_from(t).unwrap_or(0)
}

fn render(w: &mut impl Write, mode: Mode) -> fmt::Result {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    writeln!(w, "mode: {}", mode.name())?;
    writeln!(w, "live_nets: {}", STATS.live_nets.load(Ordering::Relaxed))?;
    writeln!(
        w,
        "postcondition_failures: {}",
        get(&STATS.postcondition_failures)
    )?;
    writeln!(w, "unchecked_batches: {}", get(&STATS.unchecked_batches))?;
    writeln!(w, "held: {}", get(&STATS.held))?;
    writeln!(w, "hold_timeouts: {}", get(&STATS.hold_timeouts))?;
    let last = &STATS.last;
    writeln!(
        w,
        "last: mode={} nets={} survivors={} examined={} ids_removed={} notified={} ns={} start={} end={}",
        Mode::from_u8(last.mode.load(Ordering::Relaxed)).name(),
        get(&last.nets),
        get(&last.survivors),
        get(&last.examined),
        get(&last.ids_removed),
        get(&last.notified),
        get(&last.ns),
        get(&last.start),
        get(&last.end)
    )?;
    // One format for the header and every row, so that the columns line up.
    macro_rules! row {
        ($($field:expr),+) => {
            writeln!(
                w,
                "{:<10} {:>8} {:>8} {:>10} {:>12} {:>11} {:>9} {:>13} {:>17} {:>14} {:>12} {:>12}",
                $($field),+
            )
        };
    }
    row!(
        "mode",
        "cleanups",
        "nets",
        "survivors",
        "examined",
        "ids_removed",
        "notified",
        "notify_failed",
        "shadow_mismatches",
        "shadow_checked",
        "unhash_ns",
        "rtnl_ns"
    )?;
    for m in Mode::ALL {
        let s = STATS.mode(m);
        row!(
            m.name(),
            get(&s.cleanups),
            get(&s.nets),
            get(&s.survivors),
            get(&s.examined),
            get(&s.ids_removed),
            get(&s.notified),
            get(&s.notify_failed),
            get(&s.shadow_mismatches),
            get(&s.shadow_checked),
            get(&s.unhash_ns),
            get(&s.rtnl_ns)
        )?;
    }
    Ok(())
}

/// A `seq_file` being filled.
///
/// # Invariants
///
/// `self.0` is the `seq_file` of a `show` callback that runs for as long as the value lives.
pub(crate) struct SeqFile(*mut bindings::seq_file);

impl SeqFile {
    /// # Safety
    ///
    /// `m` must be the `seq_file` of a running `show` callback that outlives the value.
    pub(crate) unsafe fn new(m: *mut bindings::seq_file) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(m)
    }
}

impl Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: by the type invariant `self.0` is a live `seq_file`; `s` is readable.
        let err = unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        if err == 0 {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

/// The `show` callback of `rnsid/stats` (see `glue.c`).
///
/// # Safety
///
/// Called by the `seq_file` code only, with a valid `m`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_stats_show(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    // A short write makes seq_file retry with a larger buffer; nothing to report here.
    // SAFETY: `m` is the `seq_file` of this running `show` callback (caller).
    let _ = render(&mut unsafe { SeqFile::new(m) }, crate::MODE.get());
    0
}

/// The `rnsid` debugfs directory; removed on drop.
///
/// # Invariants
///
/// `dir` is what `debugfs_create_dir()` returned (possibly an error pointer, which every
/// debugfs call accepts and ignores).
pub(crate) struct Debugfs {
    dir: *mut bindings::dentry,
}

// SAFETY: the dentry pointer is only handed back to debugfs, from any task.
unsafe impl Send for Debugfs {}
// SAFETY: `Debugfs` offers no access through shared references.
unsafe impl Sync for Debugfs {}

impl Debugfs {
    /// Creates `rnsid/stats` and `rnsid/hold` (root only).
    pub(crate) fn new() -> Self {
        let name = b"rnsid\0";
        // SAFETY: the name is a NUL-terminated static string; a null parent means the root.
        let dir =
            unsafe { bindings::debugfs_create_dir(name.as_ptr().cast(), core::ptr::null_mut()) };
        // SAFETY: `dir` came from `debugfs_create_dir()`.
        unsafe { bindings::rnsid_debugfs_create_stats(dir) };
        // SAFETY: as above.
        unsafe { bindings::rnsid_debugfs_create_hold(dir) };
        // INVARIANT: `dir` is what `debugfs_create_dir()` returned.
        Self { dir }
    }
}

impl Drop for Debugfs {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; removes the directory and the file in it, waiting for
        // readers to leave.
        unsafe { bindings::debugfs_remove(self.dir) };
    }
}
