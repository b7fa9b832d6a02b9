// SPDX-License-Identifier: GPL-2.0

//! Loading and unloading a module with the system calls themselves (`finit_module`,
//! `delete_module`), so that the soak can do it at a moment of its choosing without an exec.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// `finit_module(2)`: loads the module in `ko` with `params` (e.g. `mode=relocated`).
pub fn load(ko: &Path, params: &str) -> io::Result<()> {
    let file = File::open(ko)?;
    let params =
        CString::new(params).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `file` is open and `params` NUL-terminated for the call; the kernel keeps neither.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            file.as_raw_fd(),
            params.as_ptr(),
            0 as libc::c_int,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `delete_module(2)` without waiting on users: `EWOULDBLOCK`/`EBUSY` while a reference is
/// held (a file of the module open a moment longer), so it is retried for up to `limit`.
pub fn unload(name: &str, limit: Duration) -> io::Result<()> {
    let name = CString::new(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let start = Instant::now();
    loop {
        // SAFETY: `name` is NUL-terminated for the call.
        let rc = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        let busy = matches!(
            e.raw_os_error(),
            Some(libc::EWOULDBLOCK) | Some(libc::EBUSY)
        );
        if !busy || start.elapsed() > limit {
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a module of that name is loaded (`/sys/module/NAME/initstate` reads `live`).
pub fn loaded(name: &str) -> bool {
    std::fs::read_to_string(format!("/sys/module/{name}/initstate"))
        .is_ok_and(|s| s.trim() == "live")
}
