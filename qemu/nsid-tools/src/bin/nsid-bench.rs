// SPDX-License-Identifier: GPL-2.0

//! `nsid-bench`: what each rnsid mode's nsid step costs against the in-tree C, in this boot
//! (issue 11): the step swept over batch size and survivors, the latency others see while a big
//! teardown runs, and nets per second end to end. Prints KTAP, progress, tables and the report
//! as JSON. See `USAGE`.

use nsid_tools::bench::{self, Point, Scheme, Shape};
use nsid_tools::benchrun::{raise_nofile, Bench, CpuSplit, Nets};
use nsid_tools::driver::Module;
use nsid_tools::json::Json;
use nsid_tools::netns::Home;
use nsid_tools::rtnl::Rtnl;
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: nsid-bench [--quick] [--ls L,...] [--ms M,...] [--k K] [--reps R]
                  [--sweep off] [--modes MODE,...] [--latency L,M|off] [--lat-reps N]
                  [--lat-cpus split|shared] [--idle-ms MS] [--e2e N|0] [--e2e-rounds N]
                  [--json FILE]

Measures rnsid's modes against the in-tree C (mode c) on this kernel.
Needs rnsid loaded on a kernel with its cleanup_net() hook.

Sweep: for every L and M, L nets die in one cleanup_net() (rnsid/hold)
while M survivors each hold an id for every one of them plus K ids for
live peers; R repetitions, every mode in turn within each. The step's time
and work come from rnsid/stats (its last: line); for c the work its
algorithm implies on this workload.
Latency: while the batch of point L,M dies, three threads time
unshare(CLONE_NEWNET), a change of lo's txqueuelen in an unrelated net
(RTM_NEWLINK: rtnl_lock()) and RTM_GETNSID in a survivor; the same on the
idle guest. Each sample is also classed by whether it overlapped the nsid
step itself (the start and end the module gives on its last: line, by the
clock of clock_gettime(CLOCK_MONOTONIC)), and summed up both ways.
End to end: N times create a net, ids to and from 10 others, delete it;
per mode, in rounds.

  --quick          a few small points: L 1,10, M 10,40, R 2, one latency
                   round, idle windows of 0.5 s, 50 nets end to end
  --ls, --ms       batch sizes and survivor counts (default 1,10,100 and
                   10,100,1000; colons work as well as commas)
  --k K            live-peer ids per survivor, at most M-1 (default 8)
  --reps R         repetitions per point and mode (default 5)
  --sweep off      no sweep (the latency point still defaults to the
                   largest L and M)
  --modes LIST     modes to measure, commas or colons between (default: every
                   mode rnsid accepts here but shadow; c first)
  --latency L,M    the latency point (default the largest L and M, or L:M);
                   off: none
  --lat-reps N     latency rounds (default 5): per mode and idle, a window that
                   makes nets and one that runs the rtnl user and RTM_GETNSID
  --lat-cpus C     split (default): the kernel's unbound workqueues, and with
                   them cleanup_net(), run on the first CPU and the timed
                   operations on the last, so that they wait for locks, not
                   for the step's CPU; shared: wherever the scheduler puts
                   them (needs 2 CPUs for split)
  --idle-ms MS     length of an idle window (default 2000)
  --e2e N          nets per mode end to end (default 1000; 0: none)
  --e2e-rounds N   rounds the modes take turns in (default 4)
  --json FILE      also write the report to FILE
  --help           print this help and exit

Exit status: 0 if every part ran to its end.";

#[derive(Debug, Default)]
struct Args {
    quick: bool,
    ls: Option<Vec<usize>>,
    ms: Option<Vec<usize>>,
    k: Option<usize>,
    reps: Option<usize>,
    sweep_off: bool,
    modes: Option<Vec<String>>,
    /// `Some(None)`: off.
    latency: Option<Option<Point>>,
    lat_reps: Option<usize>,
    lat_split: Option<bool>,
    idle_ms: Option<u64>,
    e2e: Option<usize>,
    e2e_rounds: Option<usize>,
    json: Option<String>,
}

/// What a run does, the quick form's defaults or the full ones filled in.
#[derive(Debug)]
struct Plan {
    quick: bool,
    ls: Vec<usize>,
    ms: Vec<usize>,
    k: usize,
    reps: usize,
    sweep: bool,
    latency: Option<Point>,
    lat_reps: usize,
    /// The step's worker on the first CPU, the timed operations on the last.
    lat_split: bool,
    idle: Duration,
    e2e: usize,
    e2e_rounds: usize,
}

fn number(opt: &str, v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("{opt} wants a number, not '{v}'"))
}

fn parse_args(args: Vec<String>) -> Result<Option<Args>, String> {
    let mut a = Args::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let (opt, inline) = match arg.split_once('=') {
            Some((o, v)) => (o.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if opt == "--quick" {
            a.quick = true;
            continue;
        }
        let v = inline
            .or_else(|| it.next())
            .ok_or(format!("{opt} needs a value"))?;
        let positive = |x: usize| {
            if x == 0 {
                Err(format!("{opt} must be at least 1"))
            } else {
                Ok(x)
            }
        };
        match opt.as_str() {
            "--ls" => a.ls = Some(bench::parse_sizes(&v)?),
            "--ms" => a.ms = Some(bench::parse_sizes(&v)?),
            "--k" => a.k = Some(number(&opt, &v)?),
            "--reps" => a.reps = Some(positive(number(&opt, &v)?)?),
            "--lat-reps" => a.lat_reps = Some(positive(number(&opt, &v)?)?),
            "--lat-cpus" => {
                a.lat_split = Some(match v.as_str() {
                    "split" => true,
                    "shared" => false,
                    _ => return Err(format!("--lat-cpus wants split or shared, not '{v}'")),
                })
            }
            "--idle-ms" => a.idle_ms = Some(number(&opt, &v)? as u64),
            "--e2e" => a.e2e = Some(number(&opt, &v)?),
            "--e2e-rounds" => a.e2e_rounds = Some(positive(number(&opt, &v)?)?),
            "--json" => a.json = Some(v),
            "--sweep" if v == "off" => a.sweep_off = true,
            "--sweep" => return Err(format!("--sweep wants off, not '{v}'")),
            "--modes" => {
                a.modes = Some(
                    v.split([',', ':'])
                        .filter(|m| !m.is_empty())
                        .map(String::from)
                        .collect(),
                )
            }
            "--latency" => {
                a.latency = Some(if v == "off" {
                    None
                } else {
                    match bench::parse_sizes(&v)?[..] {
                        [l, m] => Some(Point { l, m }),
                        _ => return Err(format!("--latency wants L,M or off, not '{v}'")),
                    }
                })
            }
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    Ok(Some(a))
}

impl Args {
    fn plan(&self) -> Plan {
        let q = self.quick;
        let ls = self.ls.clone().unwrap_or_else(|| {
            if q {
                bench::QUICK_LS.to_vec()
            } else {
                bench::FULL_LS.to_vec()
            }
        });
        let ms = self.ms.clone().unwrap_or_else(|| {
            if q {
                bench::QUICK_MS.to_vec()
            } else {
                bench::FULL_MS.to_vec()
            }
        });
        let largest = Point {
            l: *ls.iter().max().expect("sizes are never empty"),
            m: *ms.iter().max().expect("sizes are never empty"),
        };
        Plan {
            quick: q,
            k: self.k.unwrap_or(8),
            reps: self.reps.unwrap_or(if q { 2 } else { 5 }),
            sweep: !self.sweep_off,
            latency: self.latency.unwrap_or(Some(largest)),
            lat_reps: self.lat_reps.unwrap_or(if q { 1 } else { 5 }),
            lat_split: self.lat_split.unwrap_or(true),
            idle: Duration::from_millis(self.idle_ms.unwrap_or(if q { 500 } else { 2000 })),
            e2e: self.e2e.unwrap_or(if q { 50 } else { 1000 }),
            e2e_rounds: self.e2e_rounds.unwrap_or(if q { 1 } else { 4 }),
            ls,
            ms,
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nsid-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            println!("# nsid-bench: {e}");
            eprintln!("nsid-bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// The modes to measure: those asked for, or every one rnsid takes here but shadow (a checker,
/// not a strategy), c first.
fn modes(module: &Module, asked: &Option<Vec<String>>) -> Result<Vec<String>, String> {
    let candidates: Vec<String> = match asked {
        Some(m) => m.clone(),
        None => ["c", "relocated", "legacy", "batched", "floor"]
            .map(String::from)
            .to_vec(),
    };
    let mut out = Vec::new();
    for m in candidates {
        if module.set_mode(&m).is_ok() {
            out.push(m);
        } else if asked.is_some() {
            return Err(format!("rnsid refuses mode {m} on this kernel"));
        } else {
            println!("# {m}: refused by rnsid on this kernel, not measured");
        }
    }
    module
        .set_mode("c")
        .map_err(|e| format!("cannot set mode=c: {e} (is rnsid loaded?)"))?;
    if out.len() < 2 && asked.is_none() {
        return Err(
            "rnsid accepts no mode but c here: this kernel lacks rnsid's cleanup_net() \
                    hook (qemu/patches), so there is nothing to measure"
                .into(),
        );
    }
    Ok(out)
}

fn ms(ns: Option<u64>) -> String {
    ns.map_or("-".into(), |n| format!("{:.3} ms", n as f64 / 1e6))
}

/// A part's outcome as a KTAP line, its error as a diagnostic.
fn report(test: usize, what: &str, r: &Result<String, String>, errors: &mut Vec<String>) {
    match r {
        Ok(detail) => println!("ok {test} {what}: {detail}"),
        Err(e) => {
            println!("# {what}: {e}");
            println!("not ok {test} {what}");
            errors.push(format!("{what}: {e}"));
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let plan = args.plan();
    let start = Instant::now();
    // Progress lines carry the time since the start, for the host to tell where it goes.
    let t = || format!("{:.0}s", start.elapsed().as_secs_f64());
    let module = Module::default();
    let home = Home::new().map_err(|e| format!("cannot open the home namespace: {e}"))?;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let major: u32 = release
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    println!("KTAP version 1");
    module.stats()?;
    let modes = modes(&module, &args.modes)?;
    let biggest_m = plan
        .ms
        .iter()
        .chain(plan.latency.iter().map(|p| &p.m))
        .max();
    raise_nofile(4 * *biggest_m.unwrap_or(&0) as u64 + 8192)?;
    let scheme = Scheme::of_kernel(major);
    let b = Bench {
        home: &home,
        module: &module,
        scheme,
    };
    let points = if plan.sweep {
        bench::grid(&plan.ls, &plan.ms)
    } else {
        Vec::new()
    };
    // The extra vCPUs a kernel built for fewer (CONFIG_NR_CPUS) never brings up.
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "# nsid-bench: Linux {release}, {cpus} CPUs, modes {}, L {:?} x M {:?}, K {}, R {}{}",
        modes.join(" "),
        plan.ls,
        plan.ms,
        plan.k,
        plan.reps,
        if plan.sweep { "" } else { " (no sweep)" }
    );
    println!("1..3");
    let mut errors = Vec::new();

    // 1. The sweep. The survivors of the largest M stay for the latency windows.
    let mut samples = Vec::new();
    let mut kept: Option<(usize, Nets)> = None;
    let r = (|| {
        if !plan.sweep {
            return Ok("skipped (--sweep off)".to_string());
        }
        let mut survivors: Option<(usize, Nets)> = None;
        for p in &points {
            if survivors.as_ref().map(|s| s.0) != Some(p.m) {
                if let Some((_, old)) = survivors.take() {
                    b.retire(old)?;
                }
                println!("# sweep ({}): making {} survivors", t(), p.m);
                survivors = Some((p.m, b.survivors(p.m, plan.k)?));
            }
            let s = &mut survivors.as_mut().expect("made above").1;
            let shape = Shape::new(*p, plan.k);
            for rep in 0..plan.reps {
                let mut line = Vec::new();
                for mode in &modes {
                    let smp = b.sample(s, &shape, mode, rep)?;
                    line.push(format!("{mode} {}", ms(smp.step_ns)));
                    samples.push(smp);
                }
                println!(
                    "# sweep ({}) L={} M={} rep {}/{}: {}",
                    t(),
                    p.l,
                    p.m,
                    rep + 1,
                    plan.reps,
                    line.join("; ")
                );
            }
        }
        kept = survivors;
        Ok(format!(
            "{} points x {} modes x {} reps",
            points.len(),
            modes.len(),
            plan.reps
        ))
    })();
    report(1, "sweep", &r, &mut errors);

    // 2. Latency under load, beside the idle guest.
    let mut lat_runs = Vec::new();
    let r = match plan.latency {
        None => Ok("skipped (--latency off)".to_string()),
        Some(p) => (|| {
            let mut survivors = match kept.take() {
                Some((m, s)) if m == p.m => s,
                other => {
                    if let Some((_, old)) = other {
                        b.retire(old)?;
                    }
                    println!("# latency ({}): making {} survivors", t(), p.m);
                    b.survivors(p.m, plan.k)?
                }
            };
            let shape = Shape::new(p, plan.k);
            let split = plan.lat_split.then(|| CpuSplit::new(cpus)).transpose()?;
            let probe_cpu = split.as_ref().map(|s| s.probe_cpu);
            let mut quiet = b.nets(1)?;
            let mut query = home
                .within(survivors.fds[0].as_fd(), Rtnl::open)
                .map_err(|e| format!("a socket in survivor 0: {e}"))?;
            let peer = survivors.fds[1 % p.m]
                .try_clone()
                .map_err(|e| e.to_string())?;
            for rep in 0..plan.lat_reps {
                let mut line = Vec::new();
                for mode in std::iter::once(None).chain(modes.iter().map(|m| Some(m.as_str()))) {
                    let mut each = Vec::new();
                    for probes in bench::PROBE_SETS {
                        let run = b.window(
                            &mut survivors,
                            &shape,
                            mode,
                            rep,
                            plan.idle,
                            &mut quiet.rtnls[0],
                            &mut query,
                            peer.as_fd(),
                            probes,
                            probe_cpu,
                        )?;
                        let n: usize = run.ops.values().map(Vec::len).sum();
                        each.push(format!("{n} {}", probes.join("/")));
                        lat_runs.push(run);
                    }
                    line.push(format!("{} {}", mode.unwrap_or("idle"), each.join(" + ")));
                }
                println!(
                    "# latency ({}) L={} M={} rep {}/{}: {}",
                    t(),
                    p.l,
                    p.m,
                    rep + 1,
                    plan.lat_reps,
                    line.join("; ")
                );
            }
            drop((query, peer));
            b.retire(quiet)?;
            b.retire(survivors)?;
            Ok(format!(
                "L={} M={}, {} rounds of {} windows per mode and idle",
                p.l,
                p.m,
                plan.lat_reps,
                bench::PROBE_SETS.len()
            ))
        })(),
    };
    if let Some((_, s)) = kept.take() {
        b.retire(s)?;
    }
    report(2, "latency", &r, &mut errors);

    // 3. End to end.
    let mut e2e_runs = Vec::new();
    let r = if plan.e2e == 0 {
        Ok("skipped (--e2e 0)".to_string())
    } else {
        b.e2e_rounds(&modes, plan.e2e, plan.e2e_rounds, |run| {
            println!(
                "# e2e ({}) round {}/{}: {} {} nets in {:.2} s",
                t(),
                run.round + 1,
                plan.e2e_rounds,
                run.mode,
                run.nets,
                run.ns as f64 / 1e9
            );
            e2e_runs.push(run.clone());
        })
        .map(|_| format!("{} nets per mode", plan.e2e))
    };
    report(3, "e2e", &r, &mut errors);
    module.set_mode("c").map_err(|e| e.to_string())?;

    let sweep_rows = bench::summarize_sweep(&samples, &modes);
    let lat_rows = bench::summarize_latency(&lat_runs, &modes);
    let e2e_rows = bench::summarize_e2e(&e2e_runs, &modes);
    if !samples.is_empty() {
        println!("# --- sweep: step time (* = work the C's algorithm implies, not counted) ---");
        for l in bench::sweep_table(&sweep_rows) {
            println!("# {l}");
        }
    }
    if !lat_runs.is_empty() {
        println!(
            "# --- latency while the batch dies (idle: no teardown; scope window: every \
             sample, step: those under way during the nsid step) ---"
        );
        for l in bench::latency_table(&lat_rows) {
            println!("# {l}");
        }
    }
    if !e2e_runs.is_empty() {
        println!("# --- end to end: create, 10 ids each way, delete ---");
        for l in bench::e2e_table(&e2e_rows) {
            println!("# {l}");
        }
    }

    let json = Json::obj()
        .with("tool", "nsid-bench")
        .with("kernel", release)
        .with(
            "scheme",
            match scheme {
                Scheme::PerNet => "per-net",
                Scheme::Batched => "batched",
            },
        )
        .with("modes", modes.clone())
        .with("cpus", cpus)
        .with(
            "params",
            Json::obj()
                .with("quick", plan.quick)
                .with("sweep", plan.sweep)
                .with("ls", plan.ls.clone())
                .with("ms", plan.ms.clone())
                .with("k", plan.k)
                .with("reps", plan.reps)
                .with(
                    "latency",
                    plan.latency.map(|p| {
                        Json::obj()
                            .with("l", p.l)
                            .with("m", p.m)
                            .with("reps", plan.lat_reps)
                            .with("cpus", if plan.lat_split { "split" } else { "shared" })
                            .with("idle_ms", plan.idle.as_millis() as u64)
                    }),
                )
                .with(
                    "e2e",
                    (plan.e2e > 0).then(|| {
                        Json::obj()
                            .with("n", plan.e2e)
                            .with("rounds", plan.e2e_rounds)
                            .with("peers", 10u64)
                    }),
                ),
        )
        .with(
            "sweep",
            Json::obj()
                .with(
                    "samples",
                    Json::Arr(samples.iter().map(bench::sweep_sample_json).collect()),
                )
                .with(
                    "rows",
                    Json::Arr(sweep_rows.iter().map(bench::sweep_row_json).collect()),
                ),
        )
        .with(
            "latency",
            Json::obj()
                .with(
                    "runs",
                    Json::Arr(lat_runs.iter().map(bench::latency_run_json).collect()),
                )
                .with(
                    "rows",
                    Json::Arr(lat_rows.iter().map(bench::latency_row_json).collect()),
                ),
        )
        .with(
            "e2e",
            Json::obj()
                .with(
                    "runs",
                    Json::Arr(e2e_runs.iter().map(bench::e2e_run_json).collect()),
                )
                .with(
                    "rows",
                    Json::Arr(e2e_rows.iter().map(bench::e2e_row_json).collect()),
                ),
        )
        .with("errors", errors.clone())
        .with("ok", errors.is_empty())
        .render();
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{json}\n"))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    // In lines of a few kilobytes: the raw latency samples make the report long.
    let parts = bench::chunks(&json, 4000);
    for (i, part) in parts.iter().enumerate() {
        println!("# json {}/{}: {part}", i + 1, parts.len());
    }
    Ok(errors.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn full_and_quick_defaults() {
        let p = parse(&[]).unwrap().unwrap().plan();
        assert_eq!(
            (p.ls, p.ms, p.reps, p.k),
            (vec![1, 10, 100], vec![10, 100, 1000], 5, 8)
        );
        assert_eq!(p.latency, Some(Point { l: 100, m: 1000 }));
        assert_eq!((p.e2e, p.e2e_rounds, p.lat_reps), (1000, 4, 5));
        assert!(p.lat_split);
        let p = parse(&["--quick"]).unwrap().unwrap().plan();
        assert_eq!((p.reps, p.e2e, p.lat_reps), (2, 50, 1));
        assert_eq!(p.latency, Some(Point { l: 10, m: 40 }));
        // Options win over --quick, wherever they stand.
        let p = parse(&["--reps=3", "--quick", "--latency", "off", "--e2e", "0"])
            .unwrap()
            .unwrap()
            .plan();
        assert_eq!((p.reps, p.latency, p.e2e), (3, None, 0));
        assert!(p.sweep);
        let p = parse(&["--sweep", "off"]).unwrap().unwrap().plan();
        assert!(!p.sweep);
        assert_eq!(p.latency, Some(Point { l: 100, m: 1000 }));
    }

    #[test]
    fn parses_options() {
        let a = parse(&[
            "--ls",
            "2,3",
            "--ms=5",
            "--k",
            "0",
            "--modes",
            "c,floor",
            "--latency",
            "3,5",
            "--json",
            "/tmp/b.json",
        ])
        .unwrap()
        .unwrap();
        let p = a.plan();
        assert_eq!((p.ls, p.ms, p.k), (vec![2, 3], vec![5], 0));
        assert_eq!(p.latency, Some(Point { l: 3, m: 5 }));
        assert_eq!(a.modes.unwrap(), ["c", "floor"]);
        assert_eq!(a.json.as_deref(), Some("/tmp/b.json"));
        // Colons, as scripts/bench --args passes lists.
        let a = parse(&["--modes", "c:relocated"]).unwrap().unwrap();
        assert_eq!(a.modes.unwrap(), ["c", "relocated"]);
        assert!(parse(&["--help"]).unwrap().is_none());
        let p = parse(&["--lat-cpus", "shared"]).unwrap().unwrap().plan();
        assert!(!p.lat_split);
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--reps"][..],
            &["--reps", "0"],
            &["--ls", "0"],
            &["--ms", "x"],
            &["--latency", "5"],
            &["--latency", "1,2,3"],
            &["--e2e-rounds", "0"],
            &["--sweep", "on"],
            &["--lat-cpus", "both"],
            &["--bogus", "1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
