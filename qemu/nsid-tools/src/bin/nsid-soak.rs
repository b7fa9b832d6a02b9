// SPDX-License-Identifier: GPL-2.0

//! `nsid-soak`: long random churn of network namespaces and their ids, with mode switches and
//! reloads of rnsid, judged by an oracle kept from the workload itself (see `soak.rs` and
//! `oracle.rs`). Prints KTAP, progress lines, the figures and (with `--json`) a summary.

use nsid_tools::driver::Module;
use nsid_tools::json::{self, Json};
use nsid_tools::netns::Home;
use nsid_tools::soak::{self, Config};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: nsid-soak [--seed S] [--nets N | --duration SECONDS] [--modes M,...]
                 [--ko PATH | --no-reload] [--population P] [--progress SECONDS]
                 [--faults PERCENT] [--json FILE] [--trace]

Creates and destroys network namespaces at random, gives them nsids
explicitly (RTM_NEWNSID) and by veths across nets, lets them die in batches
(each in one cleanup_net(), through rnsid/hold) while others are born,
switches rnsid's mode and unloads and reloads rnsid at random moments while
nets die. At every checkpoint each net must list exactly the ids an oracle
kept from the workload says, every RTNLGRP_NSID listener (and home's
NETLINK_LISTEN_ALL_NSID one) must have received exactly the notifications
it is owed, rnsid/stats' live_nets must be back to the baseline and no
problem counter may have grown. The first checkpoint with a problem ends
the churn. Needs rnsid loaded on a kernel with its cleanup_net() hook.

With --faults, that share of batches dies with 1 to 3 faults injected into
its nsid step: failslab aimed with the stack filter at rnsid's hook
(rnsid_unhash), or in mode c at the in-tree step (unhash_nsid, or
rtnl_net_notifyid where that was inlined), or rnsid's own fail_notify (one
in four, and always without failslab's stack filter). Each must end in the
documented outcome: the ids removed all the same, a lost notification only
with ENOMEM (rtnl_set_sk_err) or ENOBUFS (a failed copy) on the listener's
next receive (home's copy of another net's message silently, if that net's
listener got ENOMEM), at most one message lost per fault, notify_failed and
unchecked_batches grown by at most the faults injected.

  --seed S          decimal or 0x hex (default: random, printed); the same
                    seed makes the same requests in the same order
  --nets N          nets to create in all (default 1000)
  --duration SECS   create nets for this long instead
  --modes LIST      modes to switch through (default: every mode the module
                    accepts here)
  --ko PATH         the module, for reloads (default /rnsid/rnsid.ko if it
                    is there)
  --no-reload       never unload the module
  --population P    nets alive at most at once (default 48, 2 to 1000)
  --faults PERCENT  batches that die with faults injected (default 0, off;
                    0 to 100)
  --progress SECS   a progress line this often (default 10)
  --json FILE       also write the summary as JSON
  --trace           print every request and batch as it is made
  --help            print this help and exit

Exit status: 0 if the run ended with no problem.";

struct Args {
    cfg: Config,
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
    let default_ko = PathBuf::from("/rnsid/rnsid.ko");
    let mut a = Args {
        cfg: Config {
            seed: random_seed(),
            nets: 1000,
            duration: None,
            modes: Vec::new(),
            ko: default_ko.exists().then_some(default_ko),
            population: 48,
            progress: Duration::from_secs(10),
            trace: false,
            faults: 0,
        },
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
        let c = &mut a.cfg;
        match opt.as_str() {
            "--seed" => c.seed = parse_u64(&value()?)?,
            "--nets" => {
                c.nets = parse_u64(&value()?)?;
                if c.nets == 0 {
                    return Err("--nets must be at least 1".into());
                }
            }
            "--duration" => {
                let s = parse_u64(&value()?)?;
                if s == 0 {
                    return Err("--duration must be at least 1".into());
                }
                c.duration = Some(Duration::from_secs(s));
            }
            "--modes" => {
                c.modes = value()?
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect()
            }
            "--ko" => c.ko = Some(PathBuf::from(value()?)),
            "--no-reload" => c.ko = None,
            "--population" => {
                c.population = parse_u64(&value()?)? as usize;
                if !(2..=1000).contains(&c.population) {
                    return Err("--population wants 2 to 1000".into());
                }
            }
            "--progress" => c.progress = Duration::from_secs(parse_u64(&value()?)?),
            "--faults" => {
                let p = parse_u64(&value()?)?;
                if p > 100 {
                    return Err("--faults wants a percentage, 0 to 100".into());
                }
                c.faults = p as u32;
            }
            "--json" => a.json = Some(value()?),
            "--trace" => c.trace = true,
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let mut args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nsid-soak: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!("KTAP version 1");
    println!("1..1");
    match soak_main(&mut args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            println!("# nsid-soak: {e}");
            println!("not ok 1 soak");
            ExitCode::from(1)
        }
    }
}

/// The modes the module accepts here, c first; leaves it in c.
fn accepted_modes(module: &Module) -> Vec<String> {
    let modes = ["c", "relocated", "legacy", "batched", "shadow", "floor"]
        .iter()
        .filter(|m| {
            let ok = module.set_mode(m).is_ok();
            if !ok {
                println!("# {m}: refused by rnsid on this kernel, not used");
            }
            ok
        })
        .map(|m| m.to_string())
        .collect();
    let _ = module.set_mode("c");
    modes
}

fn soak_main(args: &mut Args) -> Result<bool, String> {
    let module = Module::default();
    module.stats()?;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cfg = &mut args.cfg;
    if cfg.modes.is_empty() {
        cfg.modes = accepted_modes(&module);
        if cfg.modes == ["c"] {
            return Err(
                "rnsid accepts no mode but c here: this kernel lacks rnsid's cleanup_net() hook \
                         (qemu/patches), so there is nothing to soak"
                    .into(),
            );
        }
    } else {
        for m in &cfg.modes {
            module
                .set_mode(m)
                .map_err(|e| format!("rnsid refuses mode={m}: {e}"))?;
        }
        module.set_mode("c").map_err(|e| e.to_string())?;
    }
    let size = match cfg.duration {
        Some(d) => format!("--duration {}", d.as_secs()),
        None => format!("--nets {}", cfg.nets),
    };
    let reload = match &cfg.ko {
        Some(ko) => format!("--ko {}", ko.display()),
        None => "--no-reload".to_string(),
    };
    let faults = if cfg.faults > 0 {
        format!(" --faults {}", cfg.faults)
    } else {
        String::new()
    };
    let replay = format!(
        "nsid-soak --seed {:#x} {size} --population {} --modes {} {reload}{faults}",
        cfg.seed,
        cfg.population,
        cfg.modes.join(",")
    );
    println!(
        "# nsid-soak: Linux {}, seed {:#x}, {size}, population up to {}, modes {}, reloads {}, faults in {}% of batches",
        release.trim(),
        cfg.seed,
        cfg.population,
        cfg.modes.join(" "),
        if cfg.ko.is_some() { "on" } else { "off" },
        cfg.faults
    );
    let home = Home::new().map_err(|e| format!("cannot open the home namespace: {e}"))?;
    let (figures, broke) = soak::run(cfg, &home);
    for p in figures.problems.iter().take(40) {
        println!("# problem: {p}");
    }
    if figures.problems.len() > 40 {
        println!("# ... and {} more problems", figures.problems.len() - 40);
    }
    if let Some(e) = &broke {
        println!("# broke off: {e}");
    }
    let ok = broke.is_none() && figures.problems.is_empty();
    let Json::Obj(fields) = figures.json() else {
        unreachable!()
    };
    for (k, v) in &fields {
        println!("# {k}: {}", v.render());
    }
    if !ok {
        println!("# replay: {replay}");
    }
    println!(
        "{} 1 soak seed={:#x}: {} nets created, {} problems",
        if ok { "ok" } else { "not ok" },
        cfg.seed,
        figures.created,
        figures.problems.len() + usize::from(broke.is_some())
    );
    let report = Json::obj()
        .with("kernel", release.trim())
        .with("seed", format!("{:#x}", cfg.seed))
        .with("nets", cfg.duration.is_none().then_some(cfg.nets))
        .with("duration", cfg.duration.map(|d| d.as_secs()))
        .with("population", cfg.population)
        .with("modes", cfg.modes.clone())
        .with("reloads_enabled", cfg.ko.is_some())
        .with("faults_percent", u64::from(cfg.faults))
        .with("ok", ok)
        .with("broke_off", broke.clone())
        .with("figures", figures.json())
        .with(
            "problems",
            figures
                .problems
                .iter()
                .take(100)
                .map(|p| Json::from(p.as_str()))
                .collect::<Vec<_>>(),
        )
        .with("replay", replay.as_str());
    let text = report.render();
    json::publish(&text, args.json.as_deref())?;
    Ok(ok)
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
            "--seed=0x10",
            "--nets",
            "300",
            "--modes",
            "c,relocated",
            "--ko",
            "/x.ko",
            "--population=20",
            "--faults",
            "30",
        ])
        .unwrap()
        .unwrap();
        assert_eq!((a.cfg.seed, a.cfg.nets, a.cfg.population), (16, 300, 20));
        assert_eq!(a.cfg.modes, ["c", "relocated"]);
        assert_eq!(a.cfg.ko, Some(PathBuf::from("/x.ko")));
        assert_eq!(a.cfg.faults, 30);
        let a = parse(&["--duration", "60", "--no-reload"])
            .unwrap()
            .unwrap();
        assert_eq!(a.cfg.duration, Some(Duration::from_secs(60)));
        assert!(a.cfg.ko.is_none());
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--seed"][..],
            &["--seed", "x"],
            &["--nets", "0"],
            &["--duration", "0"],
            &["--population", "1"],
            &["--population", "5000"],
            &["--faults", "101"],
            &["--faults", "-1"],
            &["--bogus"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
