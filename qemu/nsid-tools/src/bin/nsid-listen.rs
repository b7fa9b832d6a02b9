// SPDX-License-Identifier: GPL-2.0

//! `nsid-listen`: records every netlink message multicast to `RTNLGRP_NSID`
//! (`RTM_NEWNSID` / `RTM_DELNSID`) in network namespaces, one line per
//! message with its raw bytes, so that runs can be compared byte for byte.
//!
//! ```text
//! nsid-listen [[--netns NAME | --netns-path PATH] --out FILE]... [--ready FILE]
//! ```
//!
//! One process, a thread per namespace: the guest scenarios listen in every
//! survivor, and on a debug kernel under TCG each exec costs a fraction of a
//! second.
//!
//! See `USAGE` for the options and [`record`] for the line format.

use nsid_tools::record;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// `RTNLGRP_NSID` from `<linux/rtnetlink.h>`.
const RTNLGRP_NSID: u32 = 28;

/// How long one `recv` waits before the loop looks at the stop flag again.
const RECV_TIMEOUT_MS: libc::suseconds_t = 200;

/// Receive buffer: far more than any nsid notification needs.
const RECV_BUF_LEN: usize = 64 * 1024;

const USAGE: &str = "\
usage: nsid-listen [[--netns NAME | --netns-path PATH] --out FILE]...
                   [--ready FILE]

Records every netlink message multicast to RTNLGRP_NSID (RTM_NEWNSID,
RTM_DELNSID) in network namespaces, one line per message, each namespace's
in the FILE of the --out that follows it:

  <seq> <NEWNSID|DELNSID|type=N> nsid=<id|-> <raw message hex>
  <seq> ERROR errno=<N> <text>      (a failed receive; listening goes on)
  <seq> TRUNCATED <hex>             (bytes that hold no whole message)

  --netns NAME       listen in the namespace bound at /run/netns/NAME
  --netns-path PATH  listen in the namespace of this nsfs file
                     (default: the current network namespace)
  --out FILE         output file (created or truncated; each line is
                     written as soon as its message arrives)
  --ready FILE       removed at start, created once every socket has
                     joined the group
  --help             print this help and exit

Stops on SIGTERM or SIGINT and exits 0; if one namespace cannot be
listened in, stops the others and exits 1 without creating --ready.";

/// One namespace to listen in and the file its messages go to.
#[derive(Debug, PartialEq, Eq)]
struct Listen {
    /// The nsfs file of the namespace to enter, if any.
    netns: Option<String>,
    out: String,
}

/// Parsed command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    listens: Vec<Listen>,
    ready: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    Help,
    Run(Args),
}

/// Parses the arguments (without the program name). Accepts both
/// `--opt VALUE` and `--opt=VALUE`. Each `--out` closes a listener with the
/// `--netns`/`--netns-path` given since the previous one, if any.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Cmd, String> {
    let mut listens: Vec<Listen> = Vec::new();
    let mut netns: Option<String> = None;
    let mut ready = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Cmd::Help);
        }
        let (opt, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !matches!(
            opt.as_str(),
            "--netns" | "--netns-path" | "--out" | "--ready"
        ) {
            return Err(format!("unknown argument '{arg}'"));
        }
        let value = match inline.or_else(|| it.next()) {
            Some(v) if !v.is_empty() => v,
            _ => return Err(format!("{opt} needs a non-empty value")),
        };
        match opt.as_str() {
            "--netns" | "--netns-path" => {
                if netns.is_some() {
                    return Err("give at most one of --netns and --netns-path per --out".into());
                }
                if opt == "--netns" && value.contains('/') {
                    return Err(format!("--netns NAME must not contain '/': '{value}'"));
                }
                netns = Some(if opt == "--netns" {
                    format!("/run/netns/{value}")
                } else {
                    value
                });
            }
            "--out" => {
                if listens.iter().any(|l| l.out == value) {
                    return Err(format!("--out {value} given twice"));
                }
                listens.push(Listen {
                    netns: netns.take(),
                    out: value,
                });
            }
            _ => {
                if ready.is_some() {
                    return Err("--ready given twice".into());
                }
                ready = Some(value);
            }
        }
    }
    if netns.is_some() {
        return Err("a namespace without its --out FILE".into());
    }
    if listens.is_empty() {
        return Err("--out FILE is required".into());
    }
    Ok(Cmd::Run(Args { listens, ready }))
}

/// Set by the SIGTERM/SIGINT handler; the receive loop stops when it is set.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGTERM and SIGINT set [`STOP`]. No `SA_RESTART`, so a blocked
/// `recv` returns `EINTR` at once.
fn install_signal_handlers() -> io::Result<()> {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: an all-zero `sigaction` is valid (empty mask, no flags);
        // the handler only stores to an atomic, which is async-signal-safe,
        // and `sa` outlives the call.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&raw mut sa.sa_mask);
            libc::sigaction(sig, &raw const sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Moves the calling thread into the network namespace of the nsfs file
/// `path`.
fn enter_netns(path: &str) -> Result<(), String> {
    let ns = File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            format!("network namespace {path} does not exist")
        } else {
            format!("cannot open network namespace {path}: {e}")
        }
    })?;
    // SAFETY: `ns` is an open file descriptor owned by this function for
    // the duration of the call; setns does not retain it.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        let e = io::Error::last_os_error();
        return Err(format!("cannot enter network namespace {path}: {e}"));
    }
    Ok(())
}

/// Opens a `NETLINK_ROUTE` socket in the current network namespace, joined
/// to `RTNLGRP_NSID`, whose receives time out after [`RECV_TIMEOUT_MS`].
fn open_socket() -> io::Result<Socket> {
    let mut sock = Socket::new(NETLINK_ROUTE)?;
    sock.bind(&SocketAddr::new(0, 0))?;
    // setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NSID)
    sock.add_membership(RTNLGRP_NSID)?;
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: RECV_TIMEOUT_MS * 1000,
    };
    // SAFETY: `tv` is a valid `timeval` that lives across the call, and the
    // length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sock)
}

/// Receives until [`STOP`] is set, writing one line per message (or error)
/// to `out`.
fn listen(sock: &Socket, out: &mut File) -> io::Result<()> {
    let mut buf = vec![0u8; RECV_BUF_LEN];
    let mut seq: u64 = 0;
    while !STOP.load(Ordering::SeqCst) {
        let mut space = &mut buf[..];
        let len = match sock.recv(&mut space, 0) {
            Ok(len) => len,
            Err(e) => match e.raw_os_error() {
                // The timeout or a signal: go and look at the flag.
                Some(libc::EAGAIN | libc::EINTR) => continue,
                // E.g. ENOBUFS/ENOMEM from rtnl_set_sk_err(): record it
                // and carry on listening.
                Some(errno) => {
                    seq += 1;
                    out.write_all(record::error_line(seq, errno).as_bytes())?;
                    out.flush()?;
                    continue;
                }
                None => return Err(e),
            },
        };
        for chunk in record::split(&buf[..len]) {
            seq += 1;
            out.write_all(record::chunk_line(seq, &chunk).as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Listens in `l`'s namespace from this thread (`setns()` moves only the calling thread),
/// counting itself in `joined` once its socket is in the group, or once it set `failed`.
fn listen_in(l: &Listen, joined: &std::sync::Barrier, failed: &AtomicBool) -> Result<(), String> {
    // Must come before the socket: a netlink socket belongs to the
    // namespace it was created in.
    let opened: Result<_, String> = (|| {
        if let Some(path) = &l.netns {
            enter_netns(path)?;
        }
        let out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&l.out)
            .map_err(|e| format!("cannot create {}: {e}", l.out))?;
        let sock = open_socket().map_err(|e| format!("cannot open netlink socket: {e}"))?;
        Ok((out, sock))
    })();
    // Said before the barrier: a thread that failed may not have ended when the
    // others pass it.
    if opened.is_err() {
        failed.store(true, Ordering::SeqCst);
    }
    // Every thread waits here, opened or not, so that none waits forever.
    joined.wait();
    let (mut out, sock) = opened?;
    listen(&sock, &mut out).map_err(|e| format!("cannot write {}: {e}", l.out))?;
    out.sync_all()
        .map_err(|e| format!("cannot sync {}: {e}", l.out))
}

fn run(args: Args) -> Result<(), String> {
    install_signal_handlers().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    // A ready file left from an earlier run must not signal readiness early.
    if let Some(ready) = &args.ready {
        match std::fs::remove_file(ready) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(format!("cannot remove stale {ready}: {e}"));
            }
            _ => {}
        }
    }
    let joined = std::sync::Barrier::new(args.listens.len() + 1);
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        let threads: Vec<_> = args
            .listens
            .iter()
            .map(|l| s.spawn(|| listen_in(l, &joined, &failed)))
            .collect();
        joined.wait();
        let mut result = Ok(());
        // A listener that could not start stops the others: the caller waits for
        // readiness that would never be true.
        if failed.load(Ordering::SeqCst) {
            STOP.store(true, Ordering::SeqCst);
        } else if let Some(ready) = &args.ready {
            if let Err(e) = File::create(ready) {
                STOP.store(true, Ordering::SeqCst);
                result = Err(format!("cannot create {ready}: {e}"));
            }
        }
        for t in threads {
            let r = t
                .join()
                .unwrap_or_else(|_| Err("a listener panicked".into()));
            if r.is_err() {
                STOP.store(true, Ordering::SeqCst);
            }
            result = result.and(r);
        }
        result
    })
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Cmd::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Cmd::Run(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nsid-listen: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("nsid-listen: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cmd, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        assert_eq!(
            parse(&["--netns", "t1", "--out", "/tmp/o", "--ready=/tmp/r"]),
            Ok(Cmd::Run(Args {
                listens: vec![Listen {
                    netns: Some("/run/netns/t1".into()),
                    out: "/tmp/o".into(),
                }],
                ready: Some("/tmp/r".into()),
            }))
        );
        assert_eq!(
            parse(&["--out=o", "--netns-path", "/proc/1/ns/net", "--out", "p"]),
            Ok(Cmd::Run(Args {
                listens: vec![
                    Listen {
                        netns: None,
                        out: "o".into(),
                    },
                    Listen {
                        netns: Some("/proc/1/ns/net".into()),
                        out: "p".into(),
                    }
                ],
                ready: None,
            }))
        );
        assert_eq!(parse(&["--out", "o", "--help"]), Ok(Cmd::Help));
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &[][..],
            &["--netns", "t1"],
            &["--out"],
            &["--out", ""],
            &["--out", "o", "--bogus"],
            &["--out", "o", "extra"],
            &["--netns", "a", "--netns-path", "/b", "--out", "o"],
            &["--netns", "a/b", "--out", "o"],
            &["--out", "o", "--netns", "a"],
            &["--out", "o", "--ready", "r", "--ready", "s"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
