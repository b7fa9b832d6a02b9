// SPDX-License-Identifier: GPL-2.0

//! The pure side of `nsid-bench`: the sweep's points and workload, the work the in-tree C
//! implies, and the summaries, tables and JSON of the results. The live side is in
//! [`crate::benchrun`].

use crate::json::Json;
use crate::summary::Summary;
use std::collections::BTreeMap;

/// The full sweep (issue 11, item 3).
pub const FULL_LS: [usize; 3] = [1, 10, 100];
pub const FULL_MS: [usize; 3] = [10, 100, 1000];
/// The quick form `make check` runs: a few small points.
pub const QUICK_LS: [usize; 2] = [1, 10];
pub const QUICK_MS: [usize; 2] = [10, 40];

/// One point of the sweep: `l` nets dying in one `cleanup_net()`, `m` survivors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub l: usize,
    pub m: usize,
}

/// "1,10,100" (or "1:10:100", for a command line that has commas for spaces) as sizes, each
/// at least 1.
pub fn parse_sizes(s: &str) -> Result<Vec<usize>, String> {
    let v: Vec<usize> = s
        .split([',', ':'])
        .filter(|x| !x.is_empty())
        .map(|x| match x.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("not a size (a number from 1 up): '{x}'")),
        })
        .collect::<Result<_, _>>()?;
    if v.is_empty() {
        return Err(format!("no sizes in '{s}'"));
    }
    Ok(v)
}

/// Every (L, M), M outermost: survivors are made once per M and serve every L.
pub fn grid(ls: &[usize], ms: &[usize]) -> Vec<Point> {
    let (mut ls, mut ms) = (ls.to_vec(), ms.to_vec());
    ls.sort_unstable();
    ls.dedup();
    ms.sort_unstable();
    ms.dedup();
    ms.iter()
        .flat_map(|&m| ls.iter().map(move |&l| Point { l, m }))
        .collect()
}

/// The ids of a point. Survivor `i` holds ids `0..k` for its live peers, survivors
/// `i+1, ..., i+k` (mod `m`), and id `k + d` for dying net `d`, so that every survivor's table
/// looks alike and the C's work can be counted from the shape alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub l: usize,
    pub m: usize,
    /// Live-peer ids per survivor: the asked-for K, at most `m - 1`.
    pub k: usize,
}

impl Shape {
    pub fn new(p: Point, k: usize) -> Shape {
        Shape {
            l: p.l,
            m: p.m,
            k: k.min(p.m.saturating_sub(1)),
        }
    }

    /// Survivor `i`'s `j`-th live peer and the id it has there.
    pub fn live_peer(&self, i: usize, j: usize) -> (usize, i32) {
        ((i + 1 + j) % self.m, j as i32)
    }

    /// The id every survivor has for dying net `d`.
    pub fn dying_id(&self, d: usize) -> i32 {
        (self.k + d) as i32
    }

    /// The ids the step must remove: every survivor's id for every dying net.
    pub fn ids_removed(&self) -> u64 {
        (self.l * self.m) as u64
    }

    /// The survivors' tables, with `others` live nets (`init_net` among them) holding none.
    pub fn tables(&self, others: u64) -> Vec<Table> {
        let mut entries = vec![Entry::Live; self.k];
        entries.extend((0..self.l).map(Entry::Dying));
        vec![
            Table {
                count: self.m as u64,
                entries,
            },
            Table {
                count: others,
                entries: Vec::new(),
            },
        ]
    }

    /// The order `cleanup_net()` takes the dying nets in when they are released as `0..l`:
    /// its kill list is an llist, newest first.
    pub fn kill_order(&self) -> Vec<usize> {
        (0..self.l).rev().collect()
    }
}

/// The in-tree C's nsid step: per dying net (6.x, `unhash_nsid(net, last)`), or once for the
/// whole batch (7.x, `is_dying`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    PerNet,
    Batched,
}

impl Scheme {
    pub fn of_kernel(major: u32) -> Scheme {
        if major >= 7 {
            Scheme::Batched
        } else {
            Scheme::PerNet
        }
    }
}

/// One entry of a survivor's `netns_ids`, in id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Live,
    Dying(usize),
}

/// `count` survivors whose tables hold `entries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub count: u64,
    pub entries: Vec<Entry>,
}

/// What a step did: survivors visited, idr entries examined, ids removed, notifications sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub survivors: u64,
    pub examined: u64,
    pub ids_removed: u64,
    pub notified: u64,
}

/// The work the in-tree C does on `tables` (the module does not count inside the C).
///
/// Per net: for each dying net in `order`, every survivor is visited and `__peernet2id()`'s
/// `idr_for_each()` examines its entries up to the match (then removes it), or all of them.
/// Batched: every survivor is visited once and `idr_get_next()` examines each entry once.
pub fn implied(scheme: Scheme, tables: &[Table], order: &[usize]) -> Work {
    let mut w = Work::default();
    let survivors: u64 = tables.iter().map(|t| t.count).sum();
    match scheme {
        Scheme::Batched => {
            w.survivors = survivors;
            for t in tables {
                let dying = t.entries.iter().filter(|e| **e != Entry::Live).count() as u64;
                w.examined += t.count * t.entries.len() as u64;
                w.ids_removed += t.count * dying;
            }
        }
        Scheme::PerNet => {
            w.survivors = survivors * order.len() as u64;
            for t in tables {
                let mut left = t.entries.clone();
                for &d in order {
                    match left.iter().position(|e| *e == Entry::Dying(d)) {
                        Some(at) => {
                            w.examined += t.count * (at as u64 + 1);
                            w.ids_removed += t.count;
                            left.remove(at);
                        }
                        None => w.examined += t.count * left.len() as u64,
                    }
                }
            }
        }
    }
    w.notified = w.ids_removed;
    w
}

/// One repetition of one point in one mode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSample {
    pub point: Point,
    pub mode: String,
    pub rep: usize,
    /// The step's time by the module's clock; `None` if the module did not give it.
    pub step_ns: Option<u64>,
    /// Where `step_ns` and `work` came from: "last" (the module's `last:` line), "delta" (the
    /// mode's counters over the sample, the spare net's step included) or "implied".
    pub source: String,
    pub work: Work,
    /// The work counts are the C's implied ones, not counted by the module.
    pub implied: bool,
    /// `cleanup_net()` runs over the sample: 2 (the spare's and the batch's) when the batch
    /// died together.
    pub cleanups: u64,
    /// Dying nets the hook saw over the sample: L + 1 with the spare.
    pub nets: u64,
    pub notify_failed: u64,
    /// Survivors up to `last` (`init_net` included), from `live_nets`.
    pub live: u64,
    /// From the release of the batch until its nets were gone, by the tool's clock.
    pub wall_ns: u64,
    /// The module's `last:` line as it read, for the record.
    pub last: BTreeMap<String, String>,
}

/// The median of a mode at a point and what it says against c and the floor.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    pub point: Point,
    pub mode: String,
    pub summary: Option<Summary>,
    pub ns_per_id: Option<f64>,
    pub vs_c: Option<f64>,
    pub vs_floor: Option<f64>,
    pub work: Work,
    pub implied: bool,
}

fn median_ns(samples: &[SweepSample], p: Point, mode: &str) -> Option<Summary> {
    let v: Vec<f64> = samples
        .iter()
        .filter(|s| s.point == p && s.mode == mode)
        .filter_map(|s| s.step_ns.map(|n| n as f64))
        .collect();
    Summary::of(&v)
}

/// One row per point and mode, in point order then `modes` order.
pub fn summarize_sweep(samples: &[SweepSample], modes: &[String]) -> Vec<SweepRow> {
    let mut points: Vec<Point> = samples.iter().map(|s| s.point).collect();
    points.sort_by_key(|p| (p.m, p.l));
    points.dedup();
    let mut rows = Vec::new();
    for p in points {
        let c = median_ns(samples, p, "c").map(|s| s.median);
        let floor = median_ns(samples, p, "floor").map(|s| s.median);
        for mode in modes {
            let mine: Vec<&SweepSample> = samples
                .iter()
                .filter(|s| s.point == p && &s.mode == mode)
                .collect();
            let Some(first) = mine.first() else { continue };
            let summary = median_ns(samples, p, mode);
            let med = summary.as_ref().map(|s| s.median);
            let ratio = |base: Option<f64>| match (med, base) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let removed = first.work.ids_removed;
            rows.push(SweepRow {
                point: p,
                mode: mode.clone(),
                ns_per_id: med.filter(|_| removed > 0).map(|m| m / removed as f64),
                vs_c: ratio(c),
                vs_floor: ratio(floor),
                summary,
                work: first.work,
                implied: first.implied,
            });
        }
    }
    rows
}

fn ms(ns: Option<f64>) -> String {
    ns.map_or("-".into(), |n| format!("{:.3}", n / 1e6))
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}"))
}

/// The sweep's table, a line each, header first.
pub fn sweep_table(rows: &[SweepRow]) -> Vec<String> {
    let line = |c: [&str; 12]| {
        format!(
            "{:>4} {:>5} {:<10} {:>2} {:>10} {:>9} {:>8} {:>5} {:>8} {:>9} {:>10} {:>7}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
        )
    };
    let mut out = vec![line([
        "L",
        "M",
        "mode",
        "n",
        "median_ms",
        "iqr_ms",
        "ns/id",
        "vs_c",
        "vs_floor",
        "survivors",
        "examined",
        "removed",
    ])];
    for r in rows {
        // Implied rather than counted: all of c's counts, the others' examined entries.
        let star = if r.implied { "*" } else { "" };
        let star_c = if r.implied && r.mode == "c" { "*" } else { "" };
        out.push(line([
            &r.point.l.to_string(),
            &r.point.m.to_string(),
            &r.mode,
            &r.summary.as_ref().map_or(0, |s| s.n).to_string(),
            &ms(r.summary.as_ref().map(|s| s.median)),
            &ms(r.summary.as_ref().map(|s| s.iqr())),
            &r.ns_per_id.map_or("-".into(), |n| format!("{n:.0}")),
            &ratio(r.vs_c),
            &ratio(r.vs_floor),
            &format!("{}{star_c}", r.work.survivors),
            &format!("{}{star}", r.work.examined),
            &r.work.ids_removed.to_string(),
        ]));
    }
    out
}

fn summary_json(s: &Option<Summary>) -> Json {
    match s {
        None => Json::Null,
        Some(s) => Json::obj()
            .with("n", s.n)
            .with("min", s.min)
            .with("q1", s.q1)
            .with("median", s.median)
            .with("q3", s.q3)
            .with("p99", s.p99)
            .with("max", s.max),
    }
}

fn work_json(w: &Work) -> Json {
    Json::obj()
        .with("survivors", w.survivors)
        .with("examined", w.examined)
        .with("ids_removed", w.ids_removed)
        .with("notified", w.notified)
}

pub fn sweep_sample_json(s: &SweepSample) -> Json {
    Json::obj()
        .with("l", s.point.l)
        .with("m", s.point.m)
        .with("mode", s.mode.as_str())
        .with("rep", s.rep)
        .with("step_ns", s.step_ns)
        .with("source", s.source.as_str())
        .with("work", work_json(&s.work))
        .with("implied", s.implied)
        .with("cleanups", s.cleanups)
        .with("nets", s.nets)
        .with("notify_failed", s.notify_failed)
        .with("live", s.live)
        .with("wall_ns", s.wall_ns)
        .with("last", &s.last)
}

pub fn sweep_row_json(r: &SweepRow) -> Json {
    Json::obj()
        .with("l", r.point.l)
        .with("m", r.point.m)
        .with("mode", r.mode.as_str())
        .with("step_ns", summary_json(&r.summary))
        .with("ns_per_id", r.ns_per_id)
        .with("vs_c", r.vs_c)
        .with("vs_floor", r.vs_floor)
        .with("work", work_json(&r.work))
        .with("implied", r.implied)
}

/// The operations timed from user space while a teardown runs (item 4).
pub const OPS: [&str; 3] = ["unshare", "rtnl", "getnsid"];

/// The operations timed together, one set a window. Making a net runs in windows of its own:
/// it takes `rtnl_lock()` itself (for its loopback device), so beside it the `rtnl` user
/// would time the maker as much as the step; and its `__netlink_kernel_create()` waits in
/// `netlink_table_grab()` for a moment with no netlink broadcast under way, which the
/// step's `RTM_DELNSID` broadcasts make rare. Under `-icount`, where the vCPUs take turns,
/// that wait held its vCPU for the rest of the step and every thread asleep there with it
/// (Documentation/performance.rst).
pub const PROBE_SETS: [&[&str]; 2] = [&["unshare"], &["rtnl", "getnsid"]];

/// One timed operation: when it started (ns after the batch's release, or after the start of
/// an idle window), how long it took, and whether it slept or was preempted meanwhile (the
/// thread's context switches).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Op {
    pub start_ns: u64,
    pub ns: u64,
    /// Voluntary context switches: it slept, waiting for something.
    pub slept: u64,
    /// Involuntary ones: it was runnable and another task had the CPU.
    pub preempted: u64,
}

impl Op {
    /// Whether the operation was under way at some time in `step` (its start and end, on the
    /// same axis as `start_ns`): it began before the step ended and ended after it began. An
    /// operation that only touches an end counts, since it may have waited for that instant.
    pub fn overlaps(&self, step: Span) -> bool {
        self.start_ns <= step.end && self.start_ns.saturating_add(self.ns) >= step.start
    }
}

/// A span of time, in ns after the start of a latency window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The step the module timed, from its `last:` line's `start` and `end` (`ktime_get()`,
    /// that is `CLOCK_MONOTONIC`) and the same clock read at the window's start: `None` if
    /// the module gave no span, or one that ends before it starts or before the window.
    pub fn of_step(start: Option<u64>, end: Option<u64>, window_mono_ns: u64) -> Option<Span> {
        let (start, end) = (start?, end?);
        (start > 0 && end >= start && start >= window_mono_ns).then(|| Span {
            start: start - window_mono_ns,
            end: end - window_mono_ns,
        })
    }
}

/// Which samples of a window a latency row pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every sample of the window: the whole teardown (for idle, the whole idle window).
    Window,
    /// The samples under way while the nsid step ran: what the seed's claim is about.
    Step,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Window => "window",
            Scope::Step => "step",
        }
    }
}

/// One window of latency samples: a mode's teardown, or `None` for the idle guest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyRun {
    pub mode: Option<String>,
    pub rep: usize,
    pub point: Option<Point>,
    pub window_ns: u64,
    pub step_ns: Option<u64>,
    /// When the batch's nsid step ran, on the window's axis; `None` for idle (or if the
    /// module did not say).
    pub step: Option<Span>,
    pub cleanups: u64,
    /// The operations this window timed (a set of [`PROBE_SETS`]).
    pub probes: Vec<String>,
    /// Per operation of `probes`, in start order.
    pub ops: BTreeMap<String, Vec<Op>>,
}

impl LatencyRun {
    /// The samples of `op` that `scope` takes: all, or those that overlap the step.
    pub fn ops_in(&self, op: &str, scope: Scope) -> impl Iterator<Item = &Op> {
        let step = self.step;
        self.ops
            .get(op)
            .into_iter()
            .flatten()
            .filter(move |o| match (scope, step) {
                (Scope::Window, _) => true,
                (Scope::Step, Some(s)) => o.overlaps(s),
                (Scope::Step, None) => false,
            })
    }
}

/// p50, p99 and max of an operation under a mode (or idle), over every repetition.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyRow {
    pub op: String,
    pub mode: String,
    pub scope: Scope,
    pub summary: Option<Summary>,
    /// p99 over the idle guest's p99.
    pub p99_vs_idle: Option<f64>,
    /// The median step time of the mode's windows: what a waiter under `legacy` waits for.
    pub step_ns: Option<f64>,
    /// Where the samples' time went ([`Waits::of`]).
    pub waits: Waits,
}

/// How a set of operations waited, if they did: what tells a lock or a grace period (they
/// sleep) from a busy CPU (they are preempted). A wait with neither is a vCPU the host did
/// not run, or work done in the call. (The thread's CPU time would tell those apart, but the
/// test kernels under TCG do not advance it within a call.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    /// Operations that slept at least once.
    pub slept: usize,
    /// Operations preempted at least once.
    pub preempted: usize,
}

impl Waits {
    pub fn of<'a>(ops: impl Iterator<Item = &'a Op>) -> Self {
        let mut w = Waits::default();
        for o in ops {
            w.slept += usize::from(o.slept > 0);
            w.preempted += usize::from(o.preempted > 0);
        }
        w
    }
}

pub fn mode_name(m: &Option<String>) -> &str {
    m.as_deref().unwrap_or("idle")
}

/// One row per operation and mode (idle first) over the whole windows, then one per operation
/// and mode (no idle: it has no step) over the samples that overlap the step. Both compare
/// their p99 with the idle guest's.
pub fn summarize_latency(runs: &[LatencyRun], modes: &[String]) -> Vec<LatencyRow> {
    let samples = |op: &'static str, mode: &str, scope: Scope| {
        let mode = mode.to_string();
        runs.iter()
            .filter(move |r| mode_name(&r.mode) == mode)
            .flat_map(move |r| r.ops_in(op, scope))
    };
    let pooled = |op: &'static str, mode: &str, scope: Scope| {
        let v: Vec<f64> = samples(op, mode, scope).map(|o| o.ns as f64).collect();
        Summary::of(&v)
    };
    let mut rows = Vec::new();
    for scope in [Scope::Window, Scope::Step] {
        for op in OPS {
            let idle = pooled(op, "idle", Scope::Window);
            let idle_too = (scope == Scope::Window).then_some("idle");
            for mode in idle_too.into_iter().chain(modes.iter().map(String::as_str)) {
                if !runs.iter().any(|r| mode_name(&r.mode) == mode) {
                    continue;
                }
                let summary = pooled(op, mode, scope);
                let p99_vs_idle = match (&summary, &idle) {
                    (Some(s), Some(i)) if i.p99 > 0.0 => Some(s.p99 / i.p99),
                    _ => None,
                };
                let steps: Vec<f64> = runs
                    .iter()
                    .filter(|r| mode_name(&r.mode) == mode)
                    .filter_map(|r| r.step_ns.map(|n| n as f64))
                    .collect();
                rows.push(LatencyRow {
                    op: op.to_string(),
                    mode: mode.to_string(),
                    scope,
                    summary,
                    p99_vs_idle,
                    step_ns: Summary::of(&steps).map(|s| s.median),
                    waits: Waits::of(samples(op, mode, scope)),
                });
            }
        }
    }
    rows
}

pub fn latency_table(rows: &[LatencyRow]) -> Vec<String> {
    let line = |c: [&str; 11]| {
        format!(
            "{:<8} {:<10} {:<6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>9}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]
        )
    };
    let mut out = vec![line([
        "op",
        "mode",
        "scope",
        "n",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "p99/idle",
        "step_ms",
        "slept",
        "preempted",
    ])];
    for r in rows {
        let s = r.summary.as_ref();
        out.push(line([
            &r.op,
            &r.mode,
            r.scope.name(),
            &s.map_or(0, |s| s.n).to_string(),
            &ms(s.map(|s| s.median)),
            &ms(s.map(|s| s.p99)),
            &ms(s.map(|s| s.max)),
            &ratio(r.p99_vs_idle),
            &ms(r.step_ns),
            &r.waits.slept.to_string(),
            &r.waits.preempted.to_string(),
        ]));
    }
    out
}

pub fn latency_run_json(r: &LatencyRun) -> Json {
    // Raw samples as [start_us, ns, overlaps the step (0 or 1), slept, preempted]:
    // every one is kept, and microseconds of start time are plenty to place it in the window.
    let ops = Json::Obj(
        r.ops
            .iter()
            .map(|(op, v)| {
                (
                    op.clone(),
                    Json::Arr(
                        v.iter()
                            .map(|o| {
                                let during = r.step.is_some_and(|s| o.overlaps(s));
                                Json::from(vec![
                                    o.start_ns / 1000,
                                    o.ns,
                                    u64::from(during),
                                    o.slept,
                                    o.preempted,
                                ])
                            })
                            .collect(),
                    ),
                )
            })
            .collect(),
    );
    Json::obj()
        .with("mode", mode_name(&r.mode))
        .with("rep", r.rep)
        .with("l", r.point.map(|p| p.l))
        .with("m", r.point.map(|p| p.m))
        .with("window_ns", r.window_ns)
        .with("step_ns", r.step_ns)
        .with("step_start_ns", r.step.map(|s| s.start))
        .with("step_end_ns", r.step.map(|s| s.end))
        .with("cleanups", r.cleanups)
        .with("probes", r.probes.clone())
        .with("ops", ops)
}

pub fn latency_row_json(r: &LatencyRow) -> Json {
    Json::obj()
        .with("op", r.op.as_str())
        .with("mode", r.mode.as_str())
        .with("scope", r.scope.name())
        .with("ns", summary_json(&r.summary))
        .with("p99_vs_idle", r.p99_vs_idle)
        .with("step_ns", r.step_ns)
        .with("slept", r.waits.slept)
        .with("preempted", r.waits.preempted)
}

/// One round of the end-to-end run (item 5) in one mode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct E2eRun {
    pub mode: String,
    pub round: usize,
    pub nets: u64,
    pub ns: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct E2eRow {
    pub mode: String,
    pub nets: u64,
    pub ns: u64,
    pub nets_per_s: f64,
    /// Total time over c's on the same kernel.
    pub time_vs_c: Option<f64>,
}

pub fn summarize_e2e(runs: &[E2eRun], modes: &[String]) -> Vec<E2eRow> {
    let total = |mode: &str| {
        runs.iter()
            .filter(|r| r.mode == mode)
            .fold((0, 0), |(n, t), r| (n + r.nets, t + r.ns))
    };
    let (_, c_ns) = total("c");
    modes
        .iter()
        .filter(|m| runs.iter().any(|r| &r.mode == *m))
        .map(|m| {
            let (nets, ns) = total(m);
            E2eRow {
                mode: m.clone(),
                nets,
                ns,
                nets_per_s: if ns > 0 {
                    nets as f64 * 1e9 / ns as f64
                } else {
                    0.0
                },
                time_vs_c: (c_ns > 0).then(|| ns as f64 / c_ns as f64),
            }
        })
        .collect()
}

pub fn e2e_table(rows: &[E2eRow]) -> Vec<String> {
    let line = |c: [&str; 5]| {
        format!(
            "{:<10} {:>6} {:>9} {:>8} {:>9}",
            c[0], c[1], c[2], c[3], c[4]
        )
    };
    let mut out = vec![line(["mode", "nets", "total_s", "nets/s", "time/c"])];
    for r in rows {
        out.push(line([
            &r.mode,
            &r.nets.to_string(),
            &format!("{:.2}", r.ns as f64 / 1e9),
            &format!("{:.1}", r.nets_per_s),
            &ratio(r.time_vs_c),
        ]));
    }
    out
}

pub fn e2e_run_json(r: &E2eRun) -> Json {
    Json::obj()
        .with("mode", r.mode.as_str())
        .with("round", r.round)
        .with("nets", r.nets)
        .with("ns", r.ns)
}

pub fn e2e_row_json(r: &E2eRow) -> Json {
    Json::obj()
        .with("mode", r.mode.as_str())
        .with("nets", r.nets)
        .with("ns", r.ns)
        .with("nets_per_s", r.nets_per_s)
        .with("time_vs_c", r.time_vs_c)
}

/// `text` cut into lines of at most `width` characters, for a console that should not see one
/// line of a hundred kilobytes; the host joins them back.
pub fn chunks(text: &str, width: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = width.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (a, b) = rest.split_at(cut);
        out.push(a);
        rest = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_grid() {
        assert_eq!(parse_sizes("1,10,100").unwrap(), [1, 10, 100]);
        assert_eq!(parse_sizes("1:10").unwrap(), [1, 10]);
        assert!(parse_sizes("1,0").is_err());
        assert!(parse_sizes("x").is_err());
        assert!(parse_sizes("").is_err());
        let g = grid(&[10, 1, 10], &[100, 10]);
        assert_eq!(
            g,
            [
                Point { l: 1, m: 10 },
                Point { l: 10, m: 10 },
                Point { l: 1, m: 100 },
                Point { l: 10, m: 100 }
            ]
        );
        assert_eq!(grid(&FULL_LS, &FULL_MS).len(), 9);
    }

    #[test]
    fn shape_ids() {
        let s = Shape::new(Point { l: 3, m: 4 }, 8);
        assert_eq!(s.k, 3, "at most m - 1 live peers");
        assert_eq!(s.live_peer(3, 0), (0, 0));
        assert_eq!(s.live_peer(1, 2), (0, 2));
        assert_eq!((s.dying_id(0), s.dying_id(2)), (3, 5));
        assert_eq!(s.ids_removed(), 12);
        assert_eq!(s.kill_order(), [2, 1, 0]);
        assert_eq!(Shape::new(Point { l: 1, m: 1 }, 8).k, 0);
    }

    #[test]
    fn batched_c_examines_every_entry_once() {
        let s = Shape::new(Point { l: 10, m: 100 }, 8);
        let w = implied(Scheme::Batched, &s.tables(1), &s.kill_order());
        assert_eq!(
            w,
            Work {
                survivors: 101,
                examined: 100 * 18,
                ids_removed: 1000,
                notified: 1000
            }
        );
    }

    #[test]
    fn per_net_c_walks_up_to_the_match() {
        // Newest first: each lookup passes the k live entries and every dying one left.
        let s = Shape::new(Point { l: 3, m: 2 }, 1);
        let w = implied(Scheme::PerNet, &s.tables(1), &s.kill_order());
        assert_eq!(w.survivors, 3 * 3);
        assert_eq!(w.examined, 2 * ((1 + 3) + (1 + 2) + (1 + 1)));
        assert_eq!((w.ids_removed, w.notified), (6, 6));
        // Oldest first, each is found right after the live ones.
        let w = implied(Scheme::PerNet, &s.tables(1), &[0, 1, 2]);
        assert_eq!(w.examined, 2 * 3 * 2);
        // A survivor without the id walks its whole table.
        let t = [Table {
            count: 5,
            entries: vec![Entry::Live, Entry::Live],
        }];
        let w = implied(Scheme::PerNet, &t, &[0, 1]);
        assert_eq!((w.survivors, w.examined, w.ids_removed), (10, 20, 0));
        assert_eq!(Scheme::of_kernel(6), Scheme::PerNet);
        assert_eq!(Scheme::of_kernel(7), Scheme::Batched);
    }

    fn sample(l: usize, m: usize, mode: &str, rep: usize, ns: u64) -> SweepSample {
        SweepSample {
            point: Point { l, m },
            mode: mode.into(),
            rep,
            step_ns: Some(ns),
            work: Work {
                ids_removed: (l * m) as u64,
                ..Work::default()
            },
            ..SweepSample::default()
        }
    }

    #[test]
    fn sweep_rows_compare_with_c_and_floor() {
        let modes: Vec<String> = ["c", "relocated", "floor"].map(String::from).to_vec();
        let mut v = Vec::new();
        for rep in 0..3 {
            v.push(sample(10, 10, "c", rep, 1000 + rep as u64 * 100));
            v.push(sample(10, 10, "relocated", rep, 2200));
            v.push(sample(10, 10, "floor", rep, 550));
        }
        v.push(sample(1, 10, "c", 0, 10));
        let rows = summarize_sweep(&v, &modes);
        assert_eq!(rows.len(), 4, "point (1,10) has c only");
        assert_eq!(rows[0].point, Point { l: 1, m: 10 });
        let r = &rows[2];
        assert_eq!(r.mode, "relocated");
        assert_eq!(r.summary.as_ref().unwrap().median, 2200.0);
        assert_eq!(r.vs_c, Some(2.0));
        assert_eq!(r.vs_floor, Some(4.0));
        assert_eq!(r.ns_per_id, Some(22.0));
        let table = sweep_table(&rows);
        assert_eq!(table.len(), 5);
        assert!(table[0].contains("median_ms"));
        assert!(table[3].contains("relocated") && table[3].contains("2.00"));
        let j = sweep_row_json(r).render();
        assert!(j.contains(r#""vs_c":2,"#), "{j}");
    }

    #[test]
    fn latency_rows_pool_repetitions() {
        let run = |mode: Option<&str>, rep, ns: &[u64]| LatencyRun {
            mode: mode.map(String::from),
            rep,
            step_ns: mode.map(|_| 500 + rep as u64 * 100),
            probes: vec!["rtnl".to_string()],
            ops: BTreeMap::from([(
                "rtnl".to_string(),
                ns.iter()
                    .map(|&ns| Op {
                        ns,
                        ..Op::default()
                    })
                    .collect::<Vec<_>>(),
            )]),
            ..LatencyRun::default()
        };
        let runs = [
            run(None, 0, &[10, 10, 10]),
            run(Some("legacy"), 0, &[10, 1000]),
            run(Some("legacy"), 1, &[10]),
        ];
        let rows = summarize_latency(&runs, &["c".into(), "legacy".into()]);
        assert_eq!(
            rows.len(),
            3 * OPS.len(),
            "idle and legacy over the window, legacy over the step; no c run"
        );
        let legacy = rows
            .iter()
            .find(|r| r.op == "rtnl" && r.mode == "legacy" && r.scope == Scope::Window)
            .unwrap();
        let s = legacy.summary.as_ref().unwrap();
        assert_eq!((s.n, s.median, s.max), (3, 10.0, 1000.0));
        assert!(legacy.p99_vs_idle.unwrap() > 90.0);
        assert_eq!(legacy.step_ns, Some(550.0));
        let none = rows
            .iter()
            .find(|r| r.op == "unshare" && r.mode == "idle")
            .unwrap();
        assert!(none.summary.is_none());
        assert_eq!(latency_table(&rows).len(), rows.len() + 1);
        // No step span: no sample is counted as the step's.
        let during = rows
            .iter()
            .find(|r| r.op == "rtnl" && r.mode == "legacy" && r.scope == Scope::Step)
            .unwrap();
        assert!(during.summary.is_none());
        let j = latency_run_json(&runs[1]).render();
        assert!(
            j.contains(r#""probes":["rtnl"],"ops":{"rtnl":[[0,10,0,0,0],[0,1000,0,0,0]]}"#),
            "{j}"
        );
        assert!(j.contains(r#""step_start_ns":null"#), "{j}");
    }

    #[test]
    fn waits_say_where_the_time_went() {
        let op = |ns, slept, preempted| Op {
            ns,
            slept,
            preempted,
            ..Op::default()
        };
        let ops = [op(100, 0, 0), op(300, 2, 0), op(600, 1, 3), op(50, 0, 1)];
        let w = Waits::of(ops.iter());
        assert_eq!((w.slept, w.preempted), (2, 2));
        assert_eq!(Waits::of([].iter()), Waits::default());
        let j = latency_row_json(&LatencyRow {
            op: "rtnl".into(),
            mode: "c".into(),
            scope: Scope::Step,
            summary: None,
            p99_vs_idle: None,
            step_ns: None,
            waits: w,
        })
        .render();
        assert!(j.contains(r#""slept":2,"preempted":2"#), "{j}");
    }

    #[test]
    fn overlap_with_the_step() {
        let step = Span {
            start: 1000,
            end: 2000,
        };
        let op = |start_ns, ns| Op {
            start_ns,
            ns,
            ..Op::default()
        };
        // Before, after, inside, across either end, across both, touching an end.
        assert!(!op(0, 999).overlaps(step));
        assert!(!op(2001, 5).overlaps(step));
        assert!(op(1500, 10).overlaps(step));
        assert!(op(900, 200).overlaps(step));
        assert!(op(1900, 500).overlaps(step));
        assert!(op(0, 5000).overlaps(step));
        assert!(op(0, 1000).overlaps(step));
        assert!(op(2000, 1).overlaps(step));
        // An end past u64::MAX must not wrap round to before the step.
        assert!(op(500, u64::MAX).overlaps(step));
        assert!(!op(u64::MAX - 1, 10).overlaps(step));
    }

    #[test]
    fn step_span_from_the_modules_clock() {
        // The window opened at 10_000 on CLOCK_MONOTONIC; the step ran from 12_000 to 15_000.
        let s = Span::of_step(Some(12_000), Some(15_000), 10_000).unwrap();
        assert_eq!(
            s,
            Span {
                start: 2000,
                end: 5000
            }
        );
        assert_eq!(Span::of_step(None, Some(15_000), 10_000), None);
        assert_eq!(Span::of_step(Some(12_000), None, 10_000), None);
        // Never given (0), backwards, or before the window opened: not this window's step.
        assert_eq!(Span::of_step(Some(0), Some(0), 0), None);
        assert_eq!(Span::of_step(Some(15_000), Some(12_000), 10_000), None);
        assert_eq!(Span::of_step(Some(9_000), Some(15_000), 10_000), None);
    }

    #[test]
    fn step_rows_pool_what_overlaps_the_step() {
        let run = |mode: Option<&str>, step: Option<Span>, ops: &[(u64, u64)]| LatencyRun {
            mode: mode.map(String::from),
            step,
            step_ns: step.map(|s| s.end - s.start),
            ops: BTreeMap::from([(
                "rtnl".to_string(),
                ops.iter()
                    .map(|&(start_ns, ns)| Op {
                        start_ns,
                        ns,
                        ..Op::default()
                    })
                    .collect::<Vec<_>>(),
            )]),
            ..LatencyRun::default()
        };
        let step = Some(Span {
            start: 100,
            end: 400,
        });
        let runs = [
            run(None, None, &[(0, 10), (20, 20)]),
            // A legacy waiter that arrives during the step waits for its end; the rest of
            // cleanup_net() costs the others 50 before the step and after it.
            run(
                Some("legacy"),
                step,
                &[(0, 50), (60, 10), (150, 250), (390, 10), (401, 50)],
            ),
            run(Some("batched"), step, &[(0, 50), (200, 20), (500, 60)]),
        ];
        let rows = summarize_latency(&runs, &["legacy".into(), "batched".into()]);
        let get = |mode: &str, scope| {
            rows.iter()
                .find(|r| r.op == "rtnl" && r.mode == mode && r.scope == scope)
                .unwrap()
        };
        assert!(
            rows.iter()
                .all(|r| !(r.mode == "idle" && r.scope == Scope::Step)),
            "idle has no step"
        );
        let all = get("legacy", Scope::Window).summary.as_ref().unwrap();
        assert_eq!((all.n, all.max), (5, 250.0));
        let during = get("legacy", Scope::Step).summary.as_ref().unwrap();
        assert_eq!(
            (during.n, during.min, during.max),
            (2, 10.0, 250.0),
            "(150, 250) and (390, 10) overlap [100, 400]"
        );
        let b = get("batched", Scope::Step);
        let s = b.summary.as_ref().unwrap();
        assert_eq!((s.n, s.max), (1, 20.0));
        // Its p99 against the idle guest's whole window (p99 of 10 and 20 is 19.9).
        assert!((b.p99_vs_idle.unwrap() - 20.0 / 19.9).abs() < 1e-9);
        assert_eq!(get("batched", Scope::Window).summary.as_ref().unwrap().n, 3);
        let table = latency_table(&rows);
        assert!(table[0].contains("scope"));
        assert!(table
            .iter()
            .any(|l| l.contains("batched") && l.contains("step")));
        let j = latency_run_json(&runs[2]).render();
        assert!(
            j.contains(r#""rtnl":[[0,50,0,0,0],[0,20,1,0,0],[0,60,0,0,0]]"#),
            "{j}"
        );
        assert!(
            j.contains(r#""step_start_ns":100,"step_end_ns":400"#),
            "{j}"
        );
        let j = latency_row_json(b).render();
        assert!(j.contains(r#""scope":"step""#), "{j}");
    }

    #[test]
    fn e2e_ratios_to_c() {
        let r = |mode: &str, round, ns| E2eRun {
            mode: mode.into(),
            round,
            nets: 500,
            ns,
        };
        let runs = [
            r("c", 0, 1_000_000_000),
            r("batched", 0, 1_500_000_000),
            r("c", 1, 1_000_000_000),
            r("batched", 1, 1_500_000_000),
        ];
        let rows = summarize_e2e(&runs, &["c".into(), "relocated".into(), "batched".into()]);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].nets, rows[0].nets_per_s), (1000, 500.0));
        assert_eq!(rows[0].time_vs_c, Some(1.0));
        assert_eq!(rows[1].time_vs_c, Some(1.5));
        assert_eq!(e2e_table(&rows).len(), 3);
    }

    #[test]
    fn chunks_rejoin() {
        let t = "abcdefghij";
        assert_eq!(chunks(t, 4), ["abcd", "efgh", "ij"]);
        assert_eq!(chunks(t, 4).concat(), t);
        assert!(chunks("", 4).is_empty());
        assert_eq!(chunks("ééé", 3), ["é", "é", "é"]);
    }
}
