// SPDX-License-Identifier: GPL-2.0

//! `nsid-listen`: records every netlink message multicast to `RTNLGRP_NSID`
//! (`RTM_NEWNSID` / `RTM_DELNSID`) in one network namespace, one line per
//! message with its raw bytes, so that runs can be compared byte for byte.
//!
//! ```text
//! nsid-listen [--netns NAME | --netns-path PATH] --out FILE [--ready FILE]
//! ```
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
usage: nsid-listen [--netns NAME | --netns-path PATH] --out FILE [--ready FILE]

Records every netlink message multicast to RTNLGRP_NSID (RTM_NEWNSID,
RTM_DELNSID) in a network namespace, one line per message:

  <seq> <NEWNSID|DELNSID|type=N> nsid=<id|-> <raw message hex>
  <seq> ERROR errno=<N> <text>      (a failed receive; listening goes on)
  <seq> TRUNCATED <hex>             (bytes that hold no whole message)

  --netns NAME       listen in the namespace bound at /run/netns/NAME
  --netns-path PATH  listen in the namespace of this nsfs file
                     (default: the current network namespace)
  --out FILE         output file (created or truncated; each line is
                     written as soon as its message arrives)
  --ready FILE       removed at start, created once the socket has
                     joined the group
  --help             print this help and exit

Stops on SIGTERM or SIGINT and exits 0.";

/// Parsed command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    /// The nsfs file of the namespace to enter, if any.
    netns: Option<String>,
    out: String,
    ready: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    Help,
    Run(Args),
}

/// Parses the arguments (without the program name). Accepts both
/// `--opt VALUE` and `--opt=VALUE`.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Cmd, String> {
    let mut netns = None;
    let mut out = None;
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
        let slot = match opt.as_str() {
            "--netns" | "--netns-path" => &mut netns,
            "--out" => &mut out,
            "--ready" => &mut ready,
            _ => return Err(format!("unknown argument '{arg}'")),
        };
        let value = match inline.or_else(|| it.next()) {
            Some(v) if !v.is_empty() => v,
            _ => return Err(format!("{opt} needs a non-empty value")),
        };
        if slot.is_some() {
            return Err(if opt.starts_with("--netns") {
                "give at most one of --netns and --netns-path".to_string()
            } else {
                format!("{opt} given twice")
            });
        }
        *slot = Some(if opt == "--netns" {
            if value.contains('/') {
                return Err(format!("--netns NAME must not contain '/': '{value}'"));
            }
            format!("/run/netns/{value}")
        } else {
            value
        });
    }
    let out = out.ok_or("--out FILE is required")?;
    Ok(Cmd::Run(Args { netns, out, ready }))
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

/// Moves this (single-threaded) process into the network namespace of the
/// nsfs file `path`.
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
    // Must come before the socket: a netlink socket belongs to the
    // namespace it was created in.
    if let Some(path) = &args.netns {
        enter_netns(path)?;
    }
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out))?;
    let sock = open_socket().map_err(|e| format!("cannot open netlink socket: {e}"))?;
    if let Some(ready) = &args.ready {
        File::create(ready).map_err(|e| format!("cannot create {ready}: {e}"))?;
    }
    listen(&sock, &mut out).map_err(|e| format!("cannot write {}: {e}", args.out))?;
    out.sync_all()
        .map_err(|e| format!("cannot sync {}: {e}", args.out))
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
                netns: Some("/run/netns/t1".into()),
                out: "/tmp/o".into(),
                ready: Some("/tmp/r".into()),
            }))
        );
        assert_eq!(
            parse(&["--out=o", "--netns-path", "/proc/1/ns/net"]),
            Ok(Cmd::Run(Args {
                netns: Some("/proc/1/ns/net".into()),
                out: "o".into(),
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
            &["--out", "o", "--out", "p"],
            &["--out", "o", "--netns", "a", "--netns-path", "/b"],
            &["--out", "o", "--netns", "a/b"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
