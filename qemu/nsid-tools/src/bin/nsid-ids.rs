// SPDX-License-Identifier: GPL-2.0

//! `nsid-ids`: the nsids that network namespaces hold, each with the name of the namespace it
//! stands for: `ip -n NAME netns list-id` for many namespaces in one process.
//!
//! ```text
//! nsid-ids [--shell PREFIX] NAME...
//! ```
//!
//! The guest scenarios call it several times per mode. `ip -n` enters a mount namespace of
//! its own and mounts a sysfs there on every call; on a debug kernel under TCG that cost about
//! a second per call, here it costs a `setns()`. `--shell` prints what the scenarios' shell can
//! source: busybox's `read` takes a byte per system call, which on a debug kernel costs more
//! than the listing itself.

use nsid_tools::{netns::Home, rtnl::Rtnl};

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

const NETNS_DIR: &str = "/run/netns";

const USAGE: &str = "\
usage: nsid-ids [--shell PREFIX] NAME...

For each network namespace bound at /run/netns/NAME, prints one line

  NAME: ID PEER ID PEER ...

the nsids it holds (an RTM_GETNSID dump), ascending, each followed by the
name under /run/netns of the namespace it stands for, or '-' if that one
has none there. A namespace that holds no id prints 'NAME:'.

  --shell PREFIX  print each line as a shell assignment instead,
                  PREFIX<NAME>='ID PEER ...', with every character of NAME
                  that cannot be in a shell variable's name made '_'
  --help          print this help and exit

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

/// Whether `c` may be in a shell variable's name.
fn var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `line` (from [`describe`]) as a shell assignment to `prefix` and `name` made a variable name.
fn shell_line(prefix: &str, line: &str) -> String {
    let (name, ids) = line.split_once(':').unwrap_or((line, ""));
    let var: String = name
        .chars()
        .map(|c| if var_char(c) { c } else { '_' })
        .collect();
    format!("{prefix}{var}='{}'", ids.trim_start())
}

/// Whether `prefix` starts a shell variable's name and holds nothing else.
fn valid_prefix(prefix: &str) -> bool {
    prefix.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && prefix.chars().all(var_char)
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

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    Help,
    List {
        shell: Option<String>,
        names: Vec<String>,
    },
}

/// Parses the arguments (without the program name).
fn parse_args(args: &[String]) -> Result<Cmd, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Cmd::Help);
    }
    let named = |n: &String| {
        if valid_name(n) {
            Ok(n.clone())
        } else {
            Err(format!("'{n}' is not a name under {NETNS_DIR}"))
        }
    };
    match args.first().map(String::as_str) {
        Some("--shell") => {
            let prefix = args.get(1).ok_or("--shell needs a PREFIX")?;
            if !valid_prefix(prefix) {
                return Err(format!("'{prefix}' cannot start a shell variable's name"));
            }
            let names = args[2..].iter().map(named).collect::<Result<Vec<_>, _>>()?;
            if names.is_empty() {
                return Err("no namespace named".into());
            }
            Ok(Cmd::List {
                shell: Some(prefix.clone()),
                names,
            })
        }
        Some(_) => Ok(Cmd::List {
            shell: None,
            names: args.iter().map(named).collect::<Result<_, _>>()?,
        }),
        None => Err("no namespace named".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&args) {
        Ok(Cmd::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Cmd::List { shell, names }) => run(&names).map(|lines| {
            for l in lines {
                match &shell {
                    Some(prefix) => println!("{}", shell_line(prefix, &l)),
                    None => println!("{l}"),
                }
            }
        }),
        Err(e) => {
            eprintln!("nsid-ids: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
    fn shell_lines_are_assignments() {
        assert_eq!(shell_line("l3_", "a: 0 c 4 b"), "l3_a='0 c 4 b'");
        assert_eq!(shell_line("l3_", "rnsid-spare.1:"), "l3_rnsid_spare_1=''");
        assert!(valid_prefix("l3_") && valid_prefix("_x"));
        for bad in ["", "3l", "a-b", "a'b"] {
            assert!(!valid_prefix(bad), "{bad}");
        }
    }

    fn parse(args: &[&str]) -> Result<Cmd, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            parse(&["a", "b"]),
            Ok(Cmd::List {
                shell: None,
                names: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(
            parse(&["--shell", "p_", "a"]),
            Ok(Cmd::List {
                shell: Some("p_".into()),
                names: vec!["a".into()]
            })
        );
        assert_eq!(parse(&["a", "--help"]), Ok(Cmd::Help));
    }

    #[test]
    fn refuses_bad_arguments() {
        for bad in [
            &[][..],
            &["--shell"],
            &["--shell", "p_"],
            &["--shell", "1p", "a"],
            &["a/b"],
            &["--bogus"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_stay_in_the_netns_dir() {
        assert!(valid_name("m1"));
        for bad in ["", "-x", "a/b", ".", ".."] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
