// SPDX-License-Identifier: GPL-2.0

//! rnsid's knobs as an unprivileged user: a child drops to `uid` (no groups, no capabilities)
//! and, with `userns`, also makes itself root of a user namespace of its own with its own net
//! (`unshare -Ur -n`; there it mounts a sysfs of its own too, and tries the knobs through it).
//! Every write and read must be refused, and what each knob reads, as root, must not change.

use super::{sys, Report};
use std::io::Write;

/// What the unprivileged side tries.
pub struct Targets {
    /// Knobs it must not change, with the value it tries to write.
    pub writes: Vec<(String, String)>,
    /// Files it must not read.
    pub reads: Vec<String>,
    /// Files it must be able to read: without them, a user who could reach nothing at all
    /// (a root directory it cannot enter) would pass every other check.
    pub readable: Vec<String>,
}

fn refused(e: i32) -> bool {
    e == libc::EACCES || e == libc::EPERM
}

fn try_all(r: &mut Report, who: &str, t: &Targets) {
    for path in &t.readable {
        let got = sys::read_all(path);
        r.check(
            got.is_ok(),
            format_args!(
                "{who}: reading {path}: allowed ({})",
                got.map_or_else(sys::errname, |b| format!("read {} bytes", b.len()))
            ),
        );
    }
    for (path, value) in &t.writes {
        let got = sys::write_once(path, value.as_bytes());
        r.check(
            matches!(got, Err(e) if refused(e)),
            format_args!(
                "{who}: writing {value:?} to {path}: refused ({})",
                super::outcome(&got)
            ),
        );
    }
    for path in &t.reads {
        let got = sys::read_all(path);
        r.check(
            matches!(got, Err(e) if refused(e)),
            format_args!(
                "{who}: reading {path}: refused ({})",
                got.map_or_else(sys::errname, |b| format!("read {} bytes", b.len()))
            ),
        );
    }
}

/// Becomes root of a new user namespace (mapped to the caller's uid and gid) with a new net
/// and mount namespace.
fn enter_userns(uid: u32, gid: u32) -> Result<(), String> {
    sys::unshare(libc::CLONE_NEWUSER).map_err(sys::errname)?;
    // Dropping from root made the process undumpable, which puts its /proc files out of its
    // own reach; a user's own `unshare -Ur` is dumpable.
    // SAFETY: plain prctl on the calling process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1) };
    let w =
        |path: &str, text: String| std::fs::write(path, text).map_err(|e| format!("{path}: {e}"));
    w("/proc/self/uid_map", format!("0 {uid} 1"))?;
    w("/proc/self/setgroups", "deny".into())?;
    w("/proc/self/gid_map", format!("0 {gid} 1"))?;
    sys::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS)
        .map_err(|e| format!("then a net: {}", sys::errname(e)))
}

/// `path` below /sys, if it is a sysfs file rather than one of the debugfs mounted there.
fn in_sysfs(path: &str) -> Option<&str> {
    path.strip_prefix("/sys/")
        .filter(|rest| !rest.starts_with("kernel/debug/"))
}

/// The unprivileged child: returns its failures.
fn child(uid: u32, userns: bool, t: &Targets, verbose: bool) -> usize {
    let mut r = Report {
        verbose,
        ..Report::default()
    };
    unprivileged(&mut r, uid, userns, t);
    println!(
        "the unprivileged side: {} check(s) passed, {} failed",
        r.passed, r.failures
    );
    r.failures
}

fn unprivileged(r: &mut Report, uid: u32, userns: bool, t: &Targets) {
    if let Err(e) = sys::drop_thread_privileges(uid, uid) {
        r.check(
            false,
            format_args!("drop to uid {uid}: {}", sys::errname(e)),
        );
        return;
    }
    if !userns {
        try_all(r, &format!("uid {uid}"), t);
        return;
    }
    match enter_userns(uid, uid) {
        // A kernel without CONFIG_USER_NS has no /proc/PID/ns/user.
        Err(e) if std::fs::metadata("/proc/self/ns/user").is_err() => {
            r.skip(format_args!(
                "uid {uid} as root of its own user namespace: this kernel has none (no CONFIG_USER_NS; unshare(CLONE_NEWUSER): {e})"
            ));
            return;
        }
        Err(e) => {
            r.check(false, format_args!("uid {uid}: unshare -Ur -n: {e}"));
            return;
        }
        Ok(()) => {}
    }
    // SAFETY: plain system call.
    let now = unsafe { libc::geteuid() };
    let who = format!("uid {uid}, root (uid {now}) of its own user and net namespace");
    r.check(now == 0, format_args!("{who}: is root in its namespace"));
    try_all(r, &who, t);
    // Its own sysfs (its net's: allowed to root of the net's user namespace) shows the same
    // module parameters, owned by a root it does not map. Not the debugfs files: debugfs is
    // mounted on /sys/kernel/debug, not part of a sysfs, and a new sysfs has that directory
    // empty.
    let own = "/tmp/poke-sysfs";
    let mounted = std::ffi::CString::new(own).ok().is_some_and(|dir| {
        // SAFETY: NUL-terminated strings that live for the call.
        unsafe {
            libc::mount(
                c"sysfs".as_ptr(),
                dir.as_ptr(),
                c"sysfs".as_ptr(),
                0,
                std::ptr::null(),
            ) == 0
        }
    });
    if mounted {
        let own_targets = Targets {
            writes: t
                .writes
                .iter()
                .filter_map(|(p, v)| in_sysfs(p).map(|rest| (format!("{own}/{rest}"), v.clone())))
                .collect(),
            reads: Vec::new(),
            readable: t
                .readable
                .iter()
                .filter_map(|p| in_sysfs(p).map(|rest| format!("{own}/{rest}")))
                .collect(),
        };
        try_all(r, &format!("{who}, through its own sysfs"), &own_targets);
    } else {
        let e = sys::errno();
        r.check(
            refused(e),
            format_args!(
                "{who}: mounting a sysfs of its own: refused ({})",
                sys::errname(e)
            ),
        );
    }
}

/// Runs the unprivileged side in a child as `uid` (in a user namespace of its own if
/// `userns`), and checks as root that no knob changed.
pub fn run(r: &mut Report, uid: u32, userns: bool, t: &Targets) {
    let before: Vec<String> = t.writes.iter().map(|(p, _)| sys::state(p)).collect();
    if userns {
        let _ = std::fs::create_dir_all("/tmp/poke-sysfs");
    }
    let _ = std::io::stdout().flush();
    // SAFETY: the process is single-threaded here; the child only makes system calls, prints
    // and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let failures = child(uid, userns, t, r.verbose);
        let _ = std::io::stdout().flush();
        // SAFETY: ends the child without running the parent's exit handlers twice.
        unsafe { libc::_exit(failures.min(100) as i32) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    let waited = pid > 0 && unsafe { libc::waitpid(pid, &mut status, 0) } == pid;
    let child_failures = if waited && libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as usize
    } else {
        r.check(
            false,
            format_args!("the uid {uid} child ran to its end (status {status:#x})"),
        );
        0
    };
    r.failures += child_failures;
    for ((path, _), was) in t.writes.iter().zip(before) {
        let now = sys::state(path);
        r.check(
            now == was,
            format_args!("root reads {path} as before: {was:?} ({now:?})"),
        );
    }
}
