// SPDX-License-Identifier: GPL-2.0

//! Network namespaces held by file descriptor: made with `unshare(CLONE_NEWNET)`, entered
//! with `setns()`, released by closing the descriptor.
//!
//! The network namespace is a thread's own: whichever thread enters one here returns to the
//! process's own namespace ([`Home`]) before going on, so that nothing else runs in the wrong
//! one.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

fn ns_of_thread() -> io::Result<OwnedFd> {
    Ok(File::open("/proc/thread-self/ns/net")?.into())
}

fn setns(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is an open descriptor for the call; setns() does not keep it.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The namespace the driver lives in.
pub struct Home(OwnedFd);

impl Home {
    pub fn new() -> io::Result<Self> {
        Ok(Home(ns_of_thread()?))
    }

    /// The inode number of a namespace, as `net:[N]` shows it.
    pub fn inum(ns: BorrowedFd<'_>) -> io::Result<u64> {
        use std::os::unix::fs::MetadataExt;
        Ok(File::from(ns.try_clone_to_owned()?).metadata()?.ino())
    }

    fn back(&self) {
        // Failing to return home would run everything after in the wrong namespace.
        if let Err(e) = setns(self.0.as_fd()) {
            eprintln!("nsid-tools: cannot return to the home network namespace: {e}");
            std::process::abort();
        }
    }

    /// Makes a new namespace; the returned descriptor is its only reference.
    pub fn create(&self) -> io::Result<OwnedFd> {
        self.create_timed().map(|(ns, _)| ns)
    }

    /// [`Home::create`], and how long `unshare(CLONE_NEWNET)` alone took: what a process that
    /// makes a namespace waits for.
    pub fn create_timed(&self) -> io::Result<(OwnedFd, Duration)> {
        let start = Instant::now();
        // SAFETY: no pointers; affects the calling thread only.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let took = start.elapsed();
        let ns = ns_of_thread();
        self.back();
        Ok((ns?, took))
    }

    /// Runs `f` inside `ns` (to make sockets there), then comes home.
    pub fn within<T>(
        &self,
        ns: BorrowedFd<'_>,
        f: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        setns(ns)?;
        let r = f();
        self.back();
        r
    }

    /// The home namespace, for requests that name it.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
