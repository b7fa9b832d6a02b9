// SPDX-License-Identifier: GPL-2.0

//! `nsid-ids`: the nsids that network namespaces hold, each with the name of the namespace it
//! stands for: `ip -n NAME netns list-id` for many namespaces in one process.
//!
//! ```text
//! nsid-ids NAME...
//! ```
//!
//! The guest scenarios call it several times per mode. `ip -n` enters a mount namespace of
//! its own and mounts a sysfs there on every call; on a debug kernel under TCG that cost about
//! a second per call, here it costs a `setns()`.

use nsid_tools::{netns::Home, rtnl::Rtnl};

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

const NETNS_DIR: &str = "/run/netns";

const USAGE: &str = "\
usage: nsid-ids NAME...

For each network namespace bound at /run/netns/NAME, prints one line

  NAME: ID PEER ID PEER ...

the nsids it holds (an RTM_GETNSID dump), ascending, each followed by the
name under /run/netns of the namespace it stands for, or '-' if that one
has none there. A namespace that holds no id prints 'NAME:'.

  --help   print this help and exit

Exits 1, naming the namespace, if one cannot be entered or asked.";

/// One line of output: `name`'s `ids`, each with the first of `peers` (name, the id `name`
/// holds for it) that has that id, or `-`.
fn describe(name: &str, ids: &[i32], peers: &[(String, i32)]) -> String {
    let mut line = format!("{name}:");
    for id in ids {
        let peer = peers
            .iter()
            .find(|(_, i)| i == id)
            .map_or("-", |(p, _)| p.as_str());
        line.push_str(&format!(" {id} {peer}"));
    }
    line
}

/// Whether `name` can only mean a file directly in [`NETNS_DIR`].
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('-') && !name.contains('/') && name != "." && name != ".."
}

fn open(name: &str) -> Result<OwnedFd, String> {
    File::open(format!("{NETNS_DIR}/{name}"))
        .map(OwnedFd::from)
        .map_err(|e| format!("{NETNS_DIR}/{name}: {e}"))
}

fn run(names: &[String]) -> Result<Vec<String>, String> {
    let home = Home::new().map_err(|e| format!("own network namespace: {e}"))?;
    // Every bound namespace is a possible peer, as for `ip netns list-id`.
    let mut bound: Vec<String> = fs::read_dir(NETNS_DIR)
        .map_err(|e| format!("{NETNS_DIR}: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    bound.sort();
    // A peer deleted since the listing (another task's churn) names no id any more: skip it.
    let mut peers: Vec<(String, OwnedFd)> = Vec::new();
    for p in bound {
        match File::open(format!("{NETNS_DIR}/{p}")) {
            Ok(f) => peers.push((p, f.into())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{NETNS_DIR}/{p}: {e}")),
        }
    }
    let mut out = Vec::new();
    for name in names {
        let ns = open(name)?;
        let mut rtnl = home
            .within(ns.as_fd(), Rtnl::open)
            .map_err(|e| format!("{name}: netlink socket: {e}"))?;
        let ids = rtnl.list_ids().map_err(|e| format!("{name}: {e}"))?;
        let mut known = Vec::new();
        for (p, fd) in &peers {
            match rtnl.get_nsid(fd.as_fd()) {
                Ok(id) if id >= 0 => known.push((p.clone(), id)),
                Ok(_) => {}
                // EINVAL: not a namespace (yet): a name `ip netns add` made but has not bound.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => {}
                Err(e) => return Err(format!("{name}: id for {p}: {e}")),
            }
        }
        out.push(describe(name, &ids, &known));
    }
    Ok(out)
}

fn main() -> ExitCode {
    let names: Vec<String> = std::env::args().skip(1).collect();
    if names.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if names.is_empty() {
        eprintln!("nsid-ids: no namespace named\n{USAGE}");
        return ExitCode::from(2);
    }
    if let Some(bad) = names.iter().find(|n| !valid_name(n)) {
        eprintln!("nsid-ids: '{bad}' is not a name under {NETNS_DIR}\n{USAGE}");
        return ExitCode::from(2);
    }
    match run(&names) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nsid-ids: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_named_by_their_peer() {
        let peers = vec![("b".to_string(), 4), ("c".to_string(), 0)];
        assert_eq!(describe("a", &[0, 4, 7], &peers), "a: 0 c 4 b 7 -");
        assert_eq!(describe("a", &[], &peers), "a:");
    }

    #[test]
    fn names_stay_in_the_netns_dir() {
        assert!(valid_name("m1"));
        for bad in ["", "-x", "a/b", ".", ".."] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
