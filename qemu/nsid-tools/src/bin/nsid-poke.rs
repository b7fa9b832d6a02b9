// SPDX-License-Identifier: GPL-2.0

//! `nsid-poke`: hostile input to rnsid's knobs and what an unprivileged user can reach of them,
//! with the exact system calls that needs (one `write(2)` per value, embedded NULs, reads at
//! odd offsets, `finit_module(2)` with any argument string, per-thread credentials). See
//! `USAGE`; the checks are in `nsid_tools::poke`.

use nsid_tools::poke::{access, insmod, knob, listen, race, stats, Report};
use std::process::ExitCode;

const MODE: &str = "/sys/module/rnsid/parameters/mode";
const FAIL_NOTIFY: &str = "/sys/module/rnsid/parameters/fail_notify";
const HOLD: &str = "/sys/kernel/debug/rnsid/hold";
const STATS: &str = "/sys/kernel/debug/rnsid/stats";

const USAGE: &str = "\
usage: nsid-poke COMMAND [OPTION...]

Each failed check prints 'FAIL: ...' ('SKIP: ...' a part this kernel cannot
run; with --verbose every check prints, 'ok: ...' if it passed), and a last
line counts them; the exit status is 1 if any failed, 2 on bad usage.

  knob mode|fail_notify|hold --modes \"c relocated ...\"
        every hostile value written to the knob: refused with its errno, the
        knob reads back unchanged (--modes: the modes this kernel runs)
  insmod --ko FILE --modes \"...\"
        load FILE with hostile arguments: EINVAL, one log line per value;
        then with valid ones, and unload (rnsid must not be loaded)
  stats  reads of rnsid/stats at odd sizes and offsets
  race --modes \"...\" [--ops N]
        N operations (default 60) in each of 6 threads writing and reading
        every knob at once
  access --uid UID [--userns] [--write PATH=VALUE]... [--read PATH]...
        as UID (in a user and net namespace of its own with --userns), every
        write and read must be refused, while mode and fail_notify (0644)
        stay readable; root reads the knobs unchanged after (default: every
        knob of rnsid)
  listen --ready FILE --out FILE NAME:NETNS:UID:ALL...
        RTNLGRP_NSID listeners, one thread each, until SIGTERM; see
        nsid_tools::poke::listen for the fields and the lines written
  --help  this text";

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The value of `--name VALUE` at `args[i]`, or an error naming it.
fn value(args: &[String], i: usize) -> Result<&str, String> {
    args.get(i + 1)
        .map(String::as_str)
        .ok_or_else(|| format!("{} needs a value", args[i]))
}

fn run(args: &[String]) -> Result<Report, String> {
    let mut r = Report::default();
    let args: Vec<String> = args
        .iter()
        .filter(|a| {
            let v = *a == "--verbose" || *a == "-v";
            r.verbose |= v;
            !v
        })
        .cloned()
        .collect();
    let args = &args[..];
    let Some(cmd) = args.first() else {
        return Err("no command".into());
    };
    let mut modes = Vec::new();
    let (mut ko, mut ops, mut uid, mut userns) = (None, 60usize, None, false);
    let (mut ready, mut out) = (None, None);
    let (mut writes, mut reads, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        let mut take = || -> Result<String, String> {
            let v = value(args, i)?.to_string();
            i += 1;
            Ok(v)
        };
        match a {
            "--modes" => modes = words(&take()?),
            "--ko" => ko = Some(take()?),
            "--ops" => {
                ops = take()?
                    .parse()
                    .map_err(|_| "--ops wants a number".to_string())?
            }
            "--uid" => {
                uid = Some(
                    take()?
                        .parse::<u32>()
                        .map_err(|_| "--uid wants a number".to_string())?,
                )
            }
            "--userns" => userns = true,
            "--ready" => ready = Some(take()?),
            "--out" => out = Some(take()?),
            "--write" => {
                let v = take()?;
                let (p, val) = v.split_once('=').ok_or("--write wants PATH=VALUE")?;
                writes.push((p.to_string(), val.to_string()));
            }
            "--read" => reads.push(take()?),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => rest.push(s.to_string()),
        }
        i += 1;
    }
    let need_modes = |m: &Vec<String>| {
        if m.is_empty() {
            Err("--modes is needed (the modes this kernel runs, c first)".to_string())
        } else {
            Ok(())
        }
    };
    match cmd.as_str() {
        "knob" => {
            need_modes(&modes)?;
            let which = rest.first().map(String::as_str);
            let all = ["c", "relocated", "legacy", "batched", "shadow", "floor"];
            match which {
                Some("mode") => {
                    let refused: Vec<String> = all
                        .iter()
                        .filter(|m| !modes.iter().any(|s| s == *m))
                        .map(|m| m.to_string())
                        .collect();
                    knob::run(&mut r, knob::Kind::Mode, MODE, &modes, &refused)
                }
                Some("fail_notify") => {
                    let counts = words("0 7 4294967295");
                    knob::run(&mut r, knob::Kind::Count, FAIL_NOTIFY, &counts, &[])
                }
                Some("hold") => {
                    let cmds = words("arm release flush");
                    knob::run(&mut r, knob::Kind::Hold, HOLD, &cmds, &[])
                }
                other => return Err(format!("knob {other:?}: want mode, fail_notify or hold")),
            }
        }
        "insmod" => {
            need_modes(&modes)?;
            insmod::run(&mut r, &ko.ok_or("--ko is needed")?, &modes);
        }
        "stats" => stats::run(&mut r, STATS),
        "race" => {
            need_modes(&modes)?;
            let paths = race::Paths {
                mode: MODE.into(),
                fail_notify: FAIL_NOTIFY.into(),
                hold: HOLD.into(),
                stats: STATS.into(),
            };
            race::run(&mut r, &paths, &modes, ops);
        }
        "access" => {
            let uid = uid.ok_or("--uid is needed")?;
            if writes.is_empty() && reads.is_empty() {
                writes = vec![
                    (MODE.into(), "relocated".into()),
                    (FAIL_NOTIFY.into(), "5".into()),
                    (HOLD.into(), "arm".into()),
                ];
                reads = vec![STATS.into()];
            }
            let readable = vec![MODE.into(), FAIL_NOTIFY.into()];
            let targets = access::Targets {
                writes,
                reads,
                readable,
            };
            access::run(&mut r, uid, userns, &targets);
        }
        "listen" => {
            let specs = rest
                .iter()
                .map(|s| listen::Spec::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            if specs.is_empty() {
                return Err("listen needs at least one NAME:NETNS:UID:ALL".into());
            }
            let (ready, out) = (
                ready.ok_or("--ready is needed")?,
                out.ok_or("--out is needed")?,
            );
            listen::run(specs, &ready, &out).map_err(|e| format!("listen: {e}"))?;
        }
        "--help" | "-h" => {
            println!("{USAGE}");
        }
        other => return Err(format!("unknown command {other:?}")),
    }
    Ok(r)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        // `listen` and `--help` check nothing: the scenario judges the lines.
        Ok(_) if matches!(args[0].as_str(), "listen" | "--help" | "-h") => ExitCode::SUCCESS,
        Ok(r) => {
            let what: Vec<&str> = args
                .iter()
                .take_while(|a| !a.starts_with('-'))
                .map(String::as_str)
                .collect();
            println!(
                "nsid-poke {}: {} check(s) passed, {} failed",
                what.join(" "),
                r.passed,
                r.failures
            );
            if r.failures == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("nsid-poke: {e} (see nsid-poke --help)");
            ExitCode::from(2)
        }
    }
}
