// SPDX-License-Identifier: GPL-2.0

//! `nsid-compare`: runs generated nsid scenarios under `mode=c` and under every Rust mode of
//! rnsid, in this boot, and compares what every namespace saw. Prints KTAP, a table and
//! (with `--json`) the same as JSON. See `USAGE`.

use nsid_tools::driver::{self, Module};
use nsid_tools::json;
use nsid_tools::netns::Home;
use nsid_tools::trace::{self, Order};
use nsid_tools::workload::{self, Rng};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: nsid-compare [--seed S] [--scenarios K] [--n N|LO-HI] [--modes M,...] [--json FILE]

Generates K nsid scenarios (seeds S, S+1, ...; N nets each, or a number
from LO to HI drawn from the scenario's seed), runs each under mode=c and
then under each other mode in this boot, and compares every namespace's
RTM_NEWNSID/RTM_DELNSID messages (raw bytes) and list-id after every step.
Needs rnsid loaded on a kernel with its cleanup_net() hook.

  --seed S       first seed, decimal or 0x hex (default: random, printed)
  --scenarios K  how many scenarios (default 1)
  --n N|LO-HI    nets per scenario besides the driver's own (default 3-50)
  --modes LIST   modes to compare with c (default: every mode the module
                 accepts here, c excluded)
  --json FILE    also write the summary as JSON
  --help         print this help and exit

Exit status: 0 if every mode agreed with c and no run had a problem.";

struct Args {
    seed: u64,
    scenarios: usize,
    n: (usize, usize),
    modes: Option<Vec<String>>,
    json: Option<String>,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("not a number: '{s}'"))
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut b);
    }
    u64::from_ne_bytes(b) ^ std::process::id() as u64
}

fn parse_args(args: Vec<String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        seed: random_seed(),
        scenarios: 1,
        n: (3, 50),
        modes: None,
        json: None,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let (opt, inline) = match arg.split_once('=') {
            Some((o, v)) => (o.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{opt} needs a value"))
        };
        match opt.as_str() {
            "--seed" => a.seed = parse_u64(&value()?)?,
            "--scenarios" => {
                a.scenarios = parse_u64(&value()?)? as usize;
                if a.scenarios == 0 {
                    return Err("--scenarios must be at least 1".into());
                }
            }
            "--n" => {
                let v = value()?;
                let (lo, hi) = match v.split_once('-') {
                    Some((l, h)) => (parse_u64(l)? as usize, parse_u64(h)? as usize),
                    None => (parse_u64(&v)? as usize, parse_u64(&v)? as usize),
                };
                if lo == 0 || lo > hi || hi > 1000 {
                    return Err(format!(
                        "--n wants N or LO-HI with 1 <= LO <= HI <= 1000, not '{v}'"
                    ));
                }
                a.n = (lo, hi);
            }
            "--modes" => {
                a.modes = Some(
                    value()?
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(String::from)
                        .collect(),
                )
            }
            "--json" => a.json = Some(value()?),
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    Ok(Some(a))
}

/// Whether `mode` and the kernel's own C define the same order of notifications per
/// survivor: the same algorithm (or the C itself, in shadow).
fn order_for(mode: &str, kernel_major: u32) -> Order {
    let same = match mode {
        "shadow" => true,
        "relocated" | "legacy" => kernel_major < 7,
        // Both walk survivor by survivor, each table in id order, as 7.x's C does.
        "batched" | "floor" => kernel_major >= 7,
        _ => false,
    };
    if same {
        Order::Exact
    } else {
        Order::Any
    }
}

#[derive(Default)]
struct Tally {
    scenarios: usize,
    deletions: usize,
    messages: usize,
    mismatches: usize,
    problems: usize,
    leaked: i64,
    shadow_checked: u64,
    shadow_mismatches: u64,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nsid-compare: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match compare(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            println!("# nsid-compare: {e}");
            eprintln!("nsid-compare: {e}");
            ExitCode::from(1)
        }
    }
}

fn compare(args: &Args) -> Result<bool, String> {
    let module = Module::default();
    let home = Home::new().map_err(|e| format!("cannot open the home namespace: {e}"))?;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let major: u32 = release
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(0);
    println!("KTAP version 1");
    module.stats()?;
    module
        .set_mode("c")
        .map_err(|e| format!("cannot set mode=c: {e} (is rnsid loaded?)"))?;
    let modes: Vec<String> = match &args.modes {
        Some(m) => m.iter().filter(|m| *m != "c").cloned().collect(),
        None => ["relocated", "legacy", "batched", "shadow", "floor"]
            .iter()
            .filter(|m| {
                let ok = module.set_mode(m).is_ok();
                if !ok {
                    println!("# {m}: refused by rnsid on this kernel, not compared");
                }
                ok
            })
            .map(|m| m.to_string())
            .collect(),
    };
    module.set_mode("c").map_err(|e| e.to_string())?;
    if modes.is_empty() && args.modes.is_none() {
        return Err(
            "rnsid accepts no mode but c here: this kernel lacks rnsid's cleanup_net() hook \
             (qemu/patches), so there is nothing to compare"
                .into(),
        );
    }
    let all: Vec<String> = std::iter::once("c".to_string())
        .chain(modes.iter().cloned())
        .collect();

    println!(
        "# nsid-compare: Linux {}, first seed {:#x}, {} scenario(s), n {}-{}, modes {}",
        release.trim(),
        args.seed,
        args.scenarios,
        args.n.0,
        args.n.1,
        all.join(" ")
    );
    println!("1..{}", args.scenarios * all.len());
    let mut tallies: Vec<Tally> = all.iter().map(|_| Tally::default()).collect();
    let mut scenarios_json = Vec::new();
    let mut test = 0;
    let mut all_ok = true;
    let mut spent: BTreeMap<&str, Duration> = BTreeMap::new();
    for i in 0..args.scenarios {
        let seed = args.seed.wrapping_add(i as u64);
        let n = args.n.0 + Rng::new(seed ^ 0x5eed).below(args.n.1 - args.n.0 + 1);
        let plan = workload::generate(seed, n);
        let what = format!("seed={seed:#x} n={n}");
        println!(
            "# scenario {}: {what}: {} nets, {} edges, {} batches, {} deletions",
            i + 1,
            plan.nets(),
            plan.edges.len()
                + plan
                    .batches
                    .iter()
                    .map(|b| b.edges_after.len())
                    .sum::<usize>(),
            plan.batches.len(),
            plan.deletions()
        );
        scenarios_json.push(format!(
            "{{\"seed\":{seed},\"n\":{n},\"nets\":{},\"deletions\":{}}}",
            plan.nets(),
            plan.deletions()
        ));
        let mut reference = None;
        for (mi, mode) in all.iter().enumerate() {
            test += 1;
            let t = &mut tallies[mi];
            t.scenarios += 1;
            t.deletions += plan.deletions();
            let run = match driver::run(&plan, &module, &home, mode) {
                Ok(r) => r,
                Err(e) => {
                    // A run that broke off leaves namespaces behind; the rest would be noise.
                    println!("# {what} mode={mode}: {e}");
                    println!("not ok {test} {what} {mode}");
                    return Err(format!(
                        "{what} mode={mode} broke off; replay with --seed {seed:#x} --n {n}"
                    ));
                }
            };
            for (k, d) in &run.spent {
                *spent.entry(k).or_default() += *d;
            }
            t.messages += run.trace.messages();
            t.leaked += run.leaked;
            t.shadow_checked += run.counters.get("shadow_checked").copied().unwrap_or(0);
            t.shadow_mismatches += run.counters.get("shadow_mismatches").copied().unwrap_or(0);
            t.problems += run.problems.len();
            for p in &run.problems {
                println!("# {what} mode={mode}: {p}");
            }
            let diffs = match &reference {
                None => Vec::new(),
                Some(r) => trace::diff(r, &run.trace, order_for(mode, major)),
            };
            t.mismatches += diffs.len();
            for d in diffs.iter().take(10) {
                println!("# {what} mode={mode} vs c: {d}");
            }
            if diffs.len() > 10 {
                println!("# ... and {} more", diffs.len() - 10);
            }
            let ok = diffs.is_empty() && run.problems.is_empty();
            all_ok &= ok;
            let order = if mi == 0 {
                "reference".to_string()
            } else {
                format!("{:?} order", order_for(mode, major)).to_lowercase()
            };
            println!(
                "{} {test} {what} {mode}: {} messages, {} mismatches ({order})",
                if ok { "ok" } else { "not ok" },
                run.trace.messages(),
                diffs.len()
            );
            if !ok {
                println!("# replay: nsid-compare --seed {seed:#x} --n {n} --modes {mode}");
            }
            if reference.is_none() {
                reference = Some(run.trace);
            }
        }
    }

    println!(
        "# {:<10} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7} {:>14} {:>17}",
        "mode",
        "scenarios",
        "deletions",
        "messages",
        "mismatches",
        "problems",
        "leaked",
        "shadow_checked",
        "shadow_mismatches"
    );
    // Where the time went, so that a slow run says what to make faster.
    let total: Duration = spent.values().sum();
    let parts: Vec<String> = spent
        .iter()
        .map(|(k, d)| format!("{k} {:.1}", d.as_secs_f64()))
        .collect();
    println!(
        "# seconds in runs: {:.1} ({})",
        total.as_secs_f64(),
        parts.join(", ")
    );
    let mut modes_json = Vec::new();
    for (mode, t) in all.iter().zip(&tallies) {
        println!(
            "# {:<10} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7} {:>14} {:>17}",
            mode,
            t.scenarios,
            t.deletions,
            t.messages,
            t.mismatches,
            t.problems,
            t.leaked,
            t.shadow_checked,
            t.shadow_mismatches
        );
        modes_json.push(format!(
            "{}:{{\"scenarios\":{},\"deletions\":{},\"messages\":{},\"mismatches\":{},\"problems\":{},\"leaked\":{},\"shadow_checked\":{},\"shadow_mismatches\":{}}}",
            json::string(mode), t.scenarios, t.deletions, t.messages, t.mismatches, t.problems, t.leaked, t.shadow_checked, t.shadow_mismatches));
    }
    let json = format!(
        "{{\"kernel\":{},\"first_seed\":{},\"n\":[{},{}],\"ok\":{},\"scenarios\":[{}],\"modes\":{{{}}}}}",
        json::string(release.trim()), args.seed, args.n.0, args.n.1, all_ok, scenarios_json.join(","), modes_json.join(","));
    json::publish(&json, args.json.as_deref())?;
    Ok(all_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn parses_options() {
        let a = parse(&[
            "--seed",
            "0x10",
            "--scenarios=3",
            "--n",
            "5-9",
            "--modes",
            "relocated,shadow",
        ])
        .unwrap()
        .unwrap();
        assert_eq!((a.seed, a.scenarios, a.n), (16, 3, (5, 9)));
        assert_eq!(a.modes.unwrap(), ["relocated", "shadow"]);
        let a = parse(&["--seed=7", "--n=200", "--json", "/tmp/r.json"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.seed, a.n, a.json.as_deref()),
            (7, (200, 200), Some("/tmp/r.json"))
        );
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--seed"][..],
            &["--seed", "x"],
            &["--scenarios", "0"],
            &["--n", "0"],
            &["--n", "9-5"],
            &["--n", "1-2000"],
            &["--bogus"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn order_is_exact_only_for_the_same_algorithm() {
        assert_eq!(order_for("relocated", 6), Order::Exact);
        assert_eq!(order_for("legacy", 6), Order::Exact);
        assert_eq!(order_for("batched", 6), Order::Any);
        assert_eq!(order_for("relocated", 7), Order::Any);
        assert_eq!(order_for("batched", 7), Order::Exact);
        assert_eq!(order_for("shadow", 7), Order::Exact);
    }
}
