// SPDX-License-Identifier: GPL-2.0

//! `RTNLGRP_NSID` listeners with the credentials an isolation test needs, one thread each (a
//! thread's net and credentials are its own: `setns` and the raw `setresuid` change only the
//! caller), so that one process holds them all.
//!
//! A listener is `NAME:NETNS:UID:ALL`: the nsfs file of its net, `root` or a uid to drop to
//! before the socket is made (the socket keeps the credentials it was made with), and `all` to
//! ask for `NETLINK_LISTEN_ALL_NSID` (messages from every net its own holds an id for, to which
//! the kernel admits only who may listen there) or `-`. Each message becomes one line:
//!
//! ```text
//! NAME DELNSID nsid=5 via=6     (via: the id the listener's net holds for the sender's, with ALL)
//! NAME listen_all_nsid EPERM    (or ok)
//! NAME ERROR errno=105
//! ```

use super::sys;
use crate::allnsid::{self, NETLINK_LISTEN_ALL_NSID};
use crate::record::{self, Chunk};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

/// `RTNLGRP_NSID`.
const RTNLGRP_NSID: i32 = 28;
/// `SOL_NETLINK`.
const SOL_NETLINK: i32 = 270;
/// `NETLINK_ADD_MEMBERSHIP`.
const NETLINK_ADD_MEMBERSHIP: i32 = 1;

/// One listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    pub netns: String,
    pub uid: Option<u32>,
    pub all: bool,
}

impl Spec {
    /// Parses `NAME:NETNS:UID:ALL`.
    pub fn parse(s: &str) -> Result<Spec, String> {
        let f: Vec<&str> = s.split(':').collect();
        let [name, netns, uid, all] = f[..] else {
            return Err(format!("listener {s:?}: want NAME:NETNS:UID:ALL"));
        };
        let uid = match uid {
            "root" => None,
            n => Some(
                n.parse()
                    .map_err(|_| format!("listener {s:?}: uid {n:?} is not a number"))?,
            ),
        };
        let all = match all {
            "all" => true,
            "-" => false,
            a => return Err(format!("listener {s:?}: {a:?} is neither all nor -")),
        };
        Ok(Spec {
            name: name.into(),
            netns: netns.into(),
            uid,
            all,
        })
    }
}

fn setsockopt_int(fd: &OwnedFd, level: i32, opt: i32, v: i32) -> Result<(), i32> {
    // SAFETY: `v` is a live int of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&raw const v).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(sys::errno())
    } else {
        Ok(())
    }
}

/// Makes the listener's socket in the calling thread; the lines it has to say so far.
fn open(spec: &Spec) -> Result<(OwnedFd, Vec<String>), String> {
    sys::enter_netns(&spec.netns)
        .map_err(|e| format!("setns {}: {}", spec.netns, sys::errname(e)))?;
    if let Some(uid) = spec.uid {
        sys::drop_thread_privileges(uid, uid)
            .map_err(|e| format!("drop to uid {uid}: {}", sys::errname(e)))?;
    }
    // SAFETY: plain system call; the descriptor is owned from here on.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if raw < 0 {
        return Err(format!("socket: {}", sys::errname(sys::errno())));
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // Bound, so with a port id of its own: the kernel never delivers a notification (port id
    // 0) to a socket of the same port id, and an unbound one has 0.
    // SAFETY: an all-zero sockaddr_nl with its family set asks for an automatic port id.
    let bound = unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if bound < 0 {
        return Err(format!("bind: {}", sys::errname(sys::errno())));
    }
    setsockopt_int(&fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NSID)
        .map_err(|e| format!("join RTNLGRP_NSID: {}", sys::errname(e)))?;
    let mut lines = Vec::new();
    if spec.all {
        let got = setsockopt_int(&fd, SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1);
        lines.push(format!(
            "{} listen_all_nsid {}",
            spec.name,
            got.map_or_else(sys::errname, |()| "ok".into())
        ));
    }
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: `tv` is a live timeval of the size given.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    Ok((fd, lines))
}

/// One `recvmsg`: the datagram and the sender's nsid from the control message, if any.
fn receive(fd: &OwnedFd, flags: i32) -> Result<(Vec<u8>, Option<i32>), i32> {
    let mut buf = vec![0u8; 64 * 1024];
    let (n, via) = allnsid::recv_tagged(fd.as_fd(), &mut buf, flags)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    buf.truncate(n);
    Ok((buf, via))
}

fn describe(name: &str, buf: &[u8], via: Option<i32>, lines: &mut Vec<String>) {
    let via = via.map_or("-".to_string(), |v| v.to_string());
    for chunk in record::split(buf) {
        match chunk {
            Chunk::Message(m) => {
                let kind = match u16::from_ne_bytes([m[4], m[5]]) {
                    record::RTM_NEWNSID => "NEWNSID".to_string(),
                    record::RTM_DELNSID => "DELNSID".to_string(),
                    t => format!("type={t}"),
                };
                let nsid = record::nsid_of(m).map_or("-".to_string(), |n| n.to_string());
                lines.push(format!("{name} {kind} nsid={nsid} via={via}"));
            }
            Chunk::Truncated(_) => lines.push(format!("{name} TRUNCATED")),
        }
    }
}

fn listen(
    spec: Spec,
    ready: mpsc::Sender<Result<(), String>>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let (fd, mut lines) = match open(&spec) {
        Ok(x) => x,
        Err(e) => {
            let _ = ready.send(Err(format!("{}: {e}", spec.name)));
            return Vec::new();
        }
    };
    let _ = ready.send(Ok(()));
    loop {
        let stopping = stop.load(Ordering::Acquire);
        match receive(&fd, if stopping { libc::MSG_DONTWAIT } else { 0 }) {
            Ok((buf, via)) => describe(&spec.name, &buf, via, &mut lines),
            Err(e) if e == libc::EAGAIN || e == libc::EINTR => {
                if stopping {
                    return lines;
                }
            }
            Err(e) => lines.push(format!("{} ERROR errno={e}", spec.name)),
        }
    }
}

/// Starts every listener, creates `ready` once all have joined, and on SIGTERM or SIGINT
/// drains them and writes their lines to `out`.
pub fn run(specs: Vec<Spec>, ready: &str, out: &str) -> Result<(), String> {
    let _ = std::fs::remove_file(ready);
    // Blocked here, so in every thread: only `sigwait` below takes them.
    // SAFETY: plain signal-mask manipulation on a local set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, libc::SIGTERM);
        libc::sigaddset(&raw mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
        set
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let threads: Vec<_> = specs
        .into_iter()
        .map(|spec| {
            let (tx, stop) = (tx.clone(), stop.clone());
            thread::spawn(move || listen(spec, tx, stop))
        })
        .collect();
    drop(tx);
    let mut err = None;
    for r in rx.iter().take(threads.len()) {
        if let Err(e) = r {
            err.get_or_insert(e);
        }
    }
    if err.is_none() {
        std::fs::write(ready, "").map_err(|e| format!("{ready}: {e}"))?;
        let mut sig = 0;
        // SAFETY: waits for one of the blocked signals.
        unsafe { libc::sigwait(&raw const set, &raw mut sig) };
    }
    stop.store(true, Ordering::Release);
    let mut lines = Vec::new();
    for t in threads {
        lines.extend(
            t.join()
                .map_err(|_| "a listener thread panicked".to_string())?,
        );
    }
    if let Some(e) = err {
        return Err(e);
    }
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Spec;

    #[test]
    fn specs() {
        assert_eq!(
            Spec::parse("b:/run/netns/iB:1000:all"),
            Ok(Spec {
                name: "b".into(),
                netns: "/run/netns/iB".into(),
                uid: Some(1000),
                all: true,
            })
        );
        assert_eq!(
            Spec::parse("a:/x:root:-").map(|s| (s.uid, s.all)),
            Ok((None, false))
        );
        for bad in [
            "a:/x:root",
            "a:/x:me:-",
            "a:/x:root:some",
            "a:/x:root:-:more",
        ] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }
}
