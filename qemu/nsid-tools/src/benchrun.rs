// SPDX-License-Identifier: GPL-2.0

//! The live side of `nsid-bench`: namespaces held by descriptor, ids set in batches of
//! `RTM_NEWNSID`, batches released so that they die in one `cleanup_net()` (the `hold` protocol
//! of [`crate::driver`]), and the module's account of the step read back.

use crate::bench::{
    implied, E2eRun, LatencyRun, Op, Point, Scheme, Shape, Span, SweepSample, Work, OPS,
};
use crate::driver::{wait, Module, Stats};
use crate::netns::Home;
use crate::rtnl::Rtnl;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long nets may take to go once released (a big batch in TCG takes seconds).
const SETTLE: Duration = Duration::from_secs(600);

/// Namespaces that stay while samples come and go, each with a request socket inside.
#[derive(Default)]
pub struct Nets {
    pub fds: Vec<OwnedFd>,
    pub rtnls: Vec<Rtnl>,
}

impl Nets {
    pub fn len(&self) -> usize {
        self.fds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }
}

/// The guest as the benchmark drives it.
pub struct Bench<'a> {
    pub home: &'a Home,
    pub module: &'a Module,
    /// The in-tree C's scheme on this kernel, for the work it implies.
    pub scheme: Scheme,
}

/// What the module said about one released batch.
struct Released {
    before: Stats,
    after: Stats,
    /// From the release until the batch was gone.
    wall: Duration,
}

impl Bench<'_> {
    fn live(&self) -> Result<i64, String> {
        Ok(self.module.stats()?.live())
    }

    fn settle(&self, want: i64) -> Result<(), String> {
        wait(SETTLE, &format!("{want} live nets"), || {
            Ok(self.live()? == want)
        })
    }

    fn set_mode(&self, mode: &str) -> Result<(), String> {
        self.module
            .set_mode(mode)
            .map_err(|e| format!("cannot set mode={mode}: {e}"))
    }

    /// `n` namespaces, each with a request socket.
    pub fn nets(&self, n: usize) -> Result<Nets, String> {
        let mut nets = Nets::default();
        for i in 0..n {
            let fd = self
                .home
                .create()
                .map_err(|e| format!("cannot create net {i} of {n}: {e}"))?;
            let rtnl = self
                .home
                .within(fd.as_fd(), Rtnl::open)
                .map_err(|e| format!("net {i}: {e}"))?;
            nets.fds.push(fd);
            nets.rtnls.push(rtnl);
        }
        Ok(nets)
    }

    /// `m` survivors, each with ids for `k` live peers (see [`Shape`]).
    pub fn survivors(&self, m: usize, k: usize) -> Result<Nets, String> {
        let mut s = self.nets(m)?;
        let shape = Shape::new(Point { l: 0, m }, k);
        for i in 0..m {
            let ids: Vec<(BorrowedFd<'_>, i32)> = (0..shape.k)
                .map(|j| {
                    let (peer, id) = shape.live_peer(i, j);
                    (s.fds[peer].as_fd(), id)
                })
                .collect();
            s.rtnls[i]
                .set_nsids(&ids)
                .map_err(|e| format!("survivor {i}: {e}"))?;
        }
        Ok(s)
    }

    /// Lets `nets` go and waits until they are gone, so that the next part starts quiet.
    pub fn retire(&self, nets: Nets) -> Result<(), String> {
        let want = self.live()? - nets.len() as i64;
        drop(nets);
        self.module.hold("flush")?;
        self.settle(want)
    }

    /// The `l` dying nets of `shape`, every survivor given an id for each.
    fn doom(&self, survivors: &mut Nets, shape: &Shape) -> Result<Vec<OwnedFd>, String> {
        let mut dying = Vec::with_capacity(shape.l);
        for d in 0..shape.l {
            dying.push(
                self.home
                    .create()
                    .map_err(|e| format!("cannot create dying net {d}: {e}"))?,
            );
        }
        let ids: Vec<(BorrowedFd<'_>, i32)> = dying
            .iter()
            .enumerate()
            .map(|(d, fd)| (fd.as_fd(), shape.dying_id(d)))
            .collect();
        for (i, r) in survivors.rtnls.iter_mut().enumerate() {
            r.set_nsids(&ids)
                .map_err(|e| format!("survivor {i}: ids for the dying nets: {e}"))?;
        }
        Ok(dying)
    }

    /// Releases `dying` (in order) so that they die together in one `cleanup_net()`, behind a
    /// spare net's run held in the hook; `at_release` runs just before the hold is let go.
    /// Returns once `gone()` says the batch is gone and the mode's `cleanups` grew by two.
    fn release(
        &self,
        mode: &str,
        dying: Vec<OwnedFd>,
        at_release: impl FnOnce(),
        gone: impl Fn(&Stats) -> bool,
    ) -> Result<Released, String> {
        // Closed sockets hold their namespace until an RCU grace period has passed.
        self.module.hold("flush")?;
        let before = self.module.stats()?;
        let cleanups = before.of(mode, "cleanups");
        self.module.hold_behind_spare(self.home)?;
        drop(dying);
        at_release();
        let start = Instant::now();
        self.module.hold("release")?;
        let mut after = Stats::default();
        wait(SETTLE, "the batch to be gone", || {
            after = self.module.stats()?;
            Ok(after.of(mode, "cleanups") >= cleanups + 2 && gone(&after))
        })?;
        Ok(Released {
            before,
            after,
            wall: start.elapsed(),
        })
    }

    /// The step's time and work as the module gives them: its `last:` line if it has one
    /// (the batch's own `cleanup_net()`), else the mode's counters over the sample (which
    /// include the spare net's step). For c, whose work the module does not count, the
    /// counts the C's algorithm implies on `shape` with `live` survivors.
    fn step(
        &self,
        mode: &str,
        r: &Released,
        shape: &Shape,
        live: u64,
    ) -> (Option<u64>, Work, String, bool) {
        let num = |k: &str| r.after.last.get(k).and_then(|v| v.parse::<u64>().ok());
        let delta = |col: &str| r.after.of(mode, col) - r.before.of(mode, col);
        let from_last = r.after.last.get("mode").is_none_or(|m| m == mode) && num("ns").is_some();
        let (ns, work, source) = if from_last {
            let w = Work {
                survivors: num("survivors").unwrap_or(0),
                examined: num("examined").unwrap_or(0),
                ids_removed: num("ids_removed").unwrap_or(0),
                notified: num("notified").unwrap_or(0),
            };
            (num("ns"), w, "last")
        } else {
            let w = Work {
                survivors: delta("survivors"),
                examined: delta("examined"),
                ids_removed: delta("ids_removed"),
                notified: delta("notified"),
            };
            (Some(delta("unhash_ns")).filter(|&n| n > 0), w, "delta")
        };
        let others = live.saturating_sub(shape.m as u64);
        if mode == "c" && work == Work::default() {
            let w = implied(self.scheme, &shape.tables(others), &shape.kill_order());
            return (ns, w, source.to_string(), true);
        }
        // relocated and legacy do not count the entries they look at: one increment per entry
        // made the step 5% slower than the C's (rust/net.rs). Their per-net walk implies it.
        if matches!(mode, "relocated" | "legacy") && work.examined == 0 && work.survivors > 0 {
            let w = implied(Scheme::PerNet, &shape.tables(others), &shape.kill_order());
            let work = Work {
                examined: w.examined,
                ..work
            };
            return (ns, work, source.to_string(), true);
        }
        (ns, work, source.to_string(), false)
    }

    /// One repetition of one point in one mode (issue 11, item 3).
    pub fn sample(
        &self,
        survivors: &mut Nets,
        shape: &Shape,
        mode: &str,
        rep: usize,
    ) -> Result<SweepSample, String> {
        self.set_mode(mode)?;
        let dying = self.doom(survivors, shape)?;
        // Everything alive but the batch survives it: init_net, the survivors, and whatever
        // else the guest has.
        let live = self.live()? - shape.l as i64;
        let r = self.release(mode, dying, || {}, |s| s.live() == live)?;
        let (step_ns, work, source, implied) = self.step(mode, &r, shape, live as u64);
        let delta = |col: &str| r.after.of(mode, col) - r.before.of(mode, col);
        Ok(SweepSample {
            point: Point {
                l: shape.l,
                m: shape.m,
            },
            mode: mode.to_string(),
            rep,
            step_ns,
            source,
            work,
            implied,
            cleanups: delta("cleanups"),
            nets: delta("nets"),
            notify_failed: delta("notify_failed"),
            live: live as u64,
            wall_ns: r.wall.as_nanos() as u64,
            last: r.after.last.clone(),
        })
    }

    /// One window of latency samples (item 4): while `mode` tears down `shape`'s batch, or for
    /// `idle` on a quiet guest when `mode` is `None`. `quiet` is a net nothing else uses (for
    /// the `rtnl_lock()` user), `query` a socket in a survivor and `peer` a net it has an id for.
    #[allow(clippy::too_many_arguments)]
    pub fn window(
        &self,
        survivors: &mut Nets,
        shape: &Shape,
        mode: Option<&str>,
        rep: usize,
        idle: Duration,
        quiet: &mut Rtnl,
        query: &mut Rtnl,
        peer: BorrowedFd<'_>,
        probes: &[&str],
        probe_cpu: Option<usize>,
    ) -> Result<LatencyRun, String> {
        let probe = |op: &str| probes.contains(&op);
        // Each timed thread on `probe_cpu`: a CPU that exists, so this cannot fail.
        let pin = || {
            if let Some(cpu) = probe_cpu {
                pin_to(cpu).unwrap_or_else(|e| panic!("pinning a timed thread to CPU {cpu}: {e}"));
            }
        };
        let base = self.live()?;
        let go = AtomicBool::new(false);
        let stop = AtomicBool::new(false);
        // Nets the unshare worker began and finished making: the batch is gone once the live
        // count is the survivors plus those, with none half-made.
        let begun = AtomicU64::new(0);
        let made = AtomicU64::new(0);
        let mut release_at = None;
        // The same instant on the kernel's clock, to place the module's step in the window.
        let mut release_mono = 0;
        let mut res = None;
        let dying = match mode {
            Some(m) => {
                self.set_mode(m)?;
                Some(self.doom(survivors, shape)?)
            }
            None => None,
        };
        let survivors_live = base;
        let (unshared, rtnl, getnsid) = std::thread::scope(|sc| {
            let w1 = sc.spawn(|| {
                let mut fds = Vec::new();
                if !probe("unshare") {
                    return (Vec::new(), fds);
                }
                pin();
                let ops = worker(&go, &stop, Duration::from_millis(5), || {
                    if fds.len() >= 1000 {
                        return None;
                    }
                    begun.fetch_add(1, Ordering::SeqCst);
                    let r = self.home.create_timed().ok().map(|(fd, took)| {
                        fds.push(fd);
                        took
                    });
                    made.fetch_add(1, Ordering::SeqCst);
                    r
                });
                (ops, fds)
            });
            let w2 = sc.spawn(|| {
                if !probe("rtnl") {
                    return Vec::new();
                }
                pin();
                let mut qlen = 1000;
                worker(&go, &stop, Duration::from_millis(1), || {
                    qlen ^= 1;
                    let t = Instant::now();
                    quiet.set_txqlen(1, qlen).ok().map(|_| t.elapsed())
                })
            });
            let w3 = sc.spawn(|| {
                if !probe("getnsid") {
                    return Vec::new();
                }
                pin();
                worker(&go, &stop, Duration::from_millis(1), || {
                    let t = Instant::now();
                    query.get_nsid(peer).ok().map(|_| t.elapsed())
                })
            });
            res = Some(match (mode, dying) {
                (Some(m), Some(dying)) => self
                    .release(
                        m,
                        dying,
                        || {
                            release_mono = mono_ns();
                            release_at = Some(Instant::now());
                            go.store(true, Ordering::SeqCst);
                        },
                        |s| {
                            let (b, n) =
                                (begun.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
                            b == n && s.live() == survivors_live + n as i64
                        },
                    )
                    .map(Some),
                _ => {
                    release_at = Some(Instant::now());
                    go.store(true, Ordering::SeqCst);
                    std::thread::sleep(idle);
                    Ok(None)
                }
            });
            // Set even when the release failed, or the workers would never end.
            go.store(true, Ordering::SeqCst);
            stop.store(true, Ordering::SeqCst);
            (
                w1.join().expect("unshare worker"),
                w2.join().expect("rtnl worker"),
                w3.join().expect("getnsid worker"),
            )
        });
        let released = res.expect("set in the scope")?;
        let (unshare_ops, fds) = unshared;
        drop(fds);
        self.module.hold("flush")?;
        self.settle(base)?;
        let at = release_at.expect("set before the workers start");
        let rel = |v: Vec<Sample>| -> Vec<Op> {
            v.into_iter()
                .map(|s| Op {
                    start_ns: s.at.saturating_duration_since(at).as_nanos() as u64,
                    ns: s.took.as_nanos() as u64,
                    slept: s.used.voluntary,
                    preempted: s.used.involuntary,
                })
                .collect()
        };
        let ops: BTreeMap<String, Vec<Op>> = OPS
            .iter()
            .map(|o| o.to_string())
            .zip([rel(unshare_ops), rel(rtnl), rel(getnsid)])
            .filter(|(o, _)| probe(o))
            .collect();
        let mut run = LatencyRun {
            mode: mode.map(String::from),
            rep,
            point: mode.map(|_| Point {
                l: shape.l,
                m: shape.m,
            }),
            window_ns: released.as_ref().map_or(idle, |r| r.wall).as_nanos() as u64,
            probes: probes.iter().map(|p| p.to_string()).collect(),
            ops,
            ..LatencyRun::default()
        };
        if let (Some(m), Some(r)) = (mode, &released) {
            run.step_ns = self.step(m, r, shape, survivors_live as u64).0;
            let num = |k: &str| r.after.last.get(k).and_then(|v| v.parse::<u64>().ok());
            if r.after.last.get("mode").is_some_and(|x| x == m) {
                run.step = Span::of_step(num("start"), num("end"), release_mono);
            }
            run.cleanups = r.after.of(m, "cleanups") - r.before.of(m, "cleanups");
        }
        Ok(run)
    }

    /// Item 5: `n` times, make a net, give it ids for every one of `peers` and them an id for
    /// it, and let it go; the time until the last of them is gone.
    pub fn e2e(&self, peers: &mut Nets, mode: &str, n: usize) -> Result<Duration, String> {
        self.set_mode(mode)?;
        let base = self.live()?;
        let start = Instant::now();
        for i in 0..n {
            let fd = self
                .home
                .create()
                .map_err(|e| format!("end to end: net {i}: {e}"))?;
            let mut rtnl = self
                .home
                .within(fd.as_fd(), Rtnl::open)
                .map_err(|e| format!("end to end: net {i}: {e}"))?;
            let ids: Vec<(BorrowedFd<'_>, i32)> = peers
                .fds
                .iter()
                .enumerate()
                .map(|(j, p)| (p.as_fd(), j as i32))
                .collect();
            rtnl.set_nsids(&ids)
                .map_err(|e| format!("end to end: net {i}: {e}"))?;
            for (j, p) in peers.rtnls.iter_mut().enumerate() {
                p.set_nsids(&[(fd.as_fd(), -1)])
                    .map_err(|e| format!("end to end: peer {j}: id for net {i}: {e}"))?;
            }
        }
        self.settle(base)?;
        Ok(start.elapsed())
    }

    /// [`Bench::e2e`] in `rounds` rounds, the modes in turn within each, `n` nets per mode.
    pub fn e2e_rounds(
        &self,
        modes: &[String],
        n: usize,
        rounds: usize,
        mut progress: impl FnMut(&E2eRun),
    ) -> Result<Vec<E2eRun>, String> {
        let mut peers = self.nets(10)?;
        let mut runs = Vec::new();
        for round in 0..rounds {
            // The first rounds take the remainder: n in all, whatever the rounds.
            let share = n / rounds + usize::from(round < n % rounds);
            for mode in modes {
                let took = self.e2e(&mut peers, mode, share)?;
                let run = E2eRun {
                    mode: mode.clone(),
                    round,
                    nets: share as u64,
                    ns: took.as_nanos() as u64,
                };
                progress(&run);
                runs.push(run);
            }
        }
        self.retire(peers)?;
        Ok(runs)
    }
}

/// Where the kernel may run the work of its unbound workqueues, `cleanup_net()`'s among them.
const WQ_CPUMASK: &str = "/sys/devices/virtual/workqueue/cpumask";

/// The latency part's CPUs split (`nsid-bench --lat-cpus split`): while this lives, the
/// kernel's unbound workqueues run on CPU 0 only, and [`Bench::window`] pins the timed threads
/// to the last CPU, so that what they wait for is a lock, not the CPU of the step's worker.
/// Dropping it gives the workqueues their CPUs back.
pub struct CpuSplit {
    old: String,
    pub probe_cpu: usize,
}

impl CpuSplit {
    pub fn new(cpus: usize) -> Result<Self, String> {
        if cpus < 2 {
            return Err(format!(
                "--lat-cpus split needs 2 CPUs, the guest has {cpus} (or --lat-cpus shared)"
            ));
        }
        let old = std::fs::read_to_string(WQ_CPUMASK)
            .map_err(|e| format!("cannot read {WQ_CPUMASK}: {e}"))?;
        std::fs::write(WQ_CPUMASK, "1").map_err(|e| format!("{WQ_CPUMASK} <- 1: {e}"))?;
        Ok(Self {
            old: old.trim().to_string(),
            probe_cpu: cpus - 1,
        })
    }
}

impl Drop for CpuSplit {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(WQ_CPUMASK, &self.old) {
            eprintln!("# {WQ_CPUMASK} <- {}: {e}", self.old);
        }
    }
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) -> std::io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is the empty set, a valid value of the plain C struct.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t; CPU_SET indexes its bits with a bounds check, so
    // a cpu beyond them would panic, not write past it (callers pass one below the CPU count).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size given; 0 is the calling thread.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Runs `op` again and again, `gap` apart, from `go` until `stop`, or until it gives up
/// (`None`); returns when each began and how long it took.
fn worker(
    go: &AtomicBool,
    stop: &AtomicBool,
    gap: Duration,
    mut op: impl FnMut() -> Option<Duration>,
) -> Vec<Sample> {
    while !go.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let mut out = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let t = Instant::now();
        let before = ThreadUsage::now();
        match op() {
            Some(d) => out.push(Sample {
                at: t,
                took: d,
                used: ThreadUsage::now().since(before),
            }),
            None => break,
        }
        std::thread::sleep(gap);
    }
    out
}

/// A worker's timed operation, before it is placed in its window.
struct Sample {
    at: Instant,
    took: Duration,
    /// Over the whole operation, of which `took` may time a part.
    used: ThreadUsage,
}

/// The calling thread's context switches so far.
#[derive(Clone, Copy, Default)]
struct ThreadUsage {
    voluntary: u64,
    involuntary: u64,
}

impl ThreadUsage {
    fn now() -> Self {
        // SAFETY: an all-zero rusage is a valid value of the plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid rusage for the call to fill; if the call failed it stays
        // zero, and so do the counts.
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
        Self {
            voluntary: ru.ru_nvcsw as u64,
            involuntary: ru.ru_nivcsw as u64,
        }
    }

    fn since(self, before: Self) -> Self {
        Self {
            voluntary: self.voluntary.saturating_sub(before.voluntary),
            involuntary: self.involuntary.saturating_sub(before.involuntary),
        }
    }
}

/// Now on `CLOCK_MONOTONIC`, in ns: the clock the kernel's `ktime_get()` reads.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Raises the open-file limit to what a sweep needs: a descriptor and a socket per survivor.
pub fn raise_nofile(want: u64) -> Result<(), String> {
    let lim = libc::rlimit {
        rlim_cur: want,
        rlim_max: want,
    };
    // SAFETY: `lim` is a valid rlimit for the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(format!(
            "cannot raise RLIMIT_NOFILE to {want}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_usage_counts_sleeps() {
        let before = ThreadUsage::now();
        std::thread::sleep(Duration::from_millis(1));
        let used = ThreadUsage::now().since(before);
        assert!(used.voluntary >= 1, "{}", used.voluntary);
    }
}
