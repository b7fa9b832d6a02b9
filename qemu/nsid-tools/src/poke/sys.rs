// SPDX-License-Identifier: GPL-2.0

//! The system calls `nsid-poke` makes exactly as it means them: one `write(2)` per value, reads
//! at given sizes and offsets, module loads with a given argument string, and per-thread
//! credentials. Every failure is an errno, so that the checks can name it.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;

/// The errno of the last failed call.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn os(e: std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// An errno's name, for the log.
pub fn errname(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ESPIPE => "ESPIPE",
        libc::ENOEXEC => "ENOEXEC",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

/// Opens `path` for writing and writes `bytes` in one `write(2)`: its return value or errno.
/// A failed `open` is reported as its errno too.
pub fn write_once(path: &str, bytes: &[u8]) -> Result<usize, i32> {
    let mut f = OpenOptions::new().write(true).open(path).map_err(os)?;
    f.write(bytes).map_err(os)
}

/// Everything `path` reads, in 64 KiB reads.
pub fn read_all(path: &str) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut out))
        .map_err(os)?;
    Ok(out)
}

/// What `path` reads, without trailing white space; the errno's name if it cannot be read.
pub fn state(path: &str) -> String {
    match read_all(path) {
        Ok(b) => String::from_utf8_lossy(&b).trim_end().to_string(),
        Err(e) => format!("<{}>", errname(e)),
    }
}

/// `pread(2)` of up to `len` bytes at `offset`.
pub fn pread(f: &File, len: usize, offset: i64) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is valid for writes of `len` bytes; `f` is an open file.
    let n = unsafe { libc::pread(f.as_raw_fd(), buf.as_mut_ptr().cast(), len, offset) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// `read(2)` of up to `len` bytes into a null pointer: the kernel must refuse it.
pub fn read_to_null(f: &File, len: usize) -> Result<usize, i32> {
    // SAFETY: the kernel checks the user pointer and fails with EFAULT; nothing is written here.
    let n = unsafe { libc::read(f.as_raw_fd(), std::ptr::null_mut(), len) };
    if n < 0 {
        Err(errno())
    } else {
        Ok(n as usize)
    }
}

/// `lseek(2)`.
pub fn lseek(f: &File, offset: i64, whence: i32) -> Result<i64, i32> {
    // SAFETY: plain system call on an open file.
    let r = unsafe { libc::lseek(f.as_raw_fd(), offset, whence) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// `finit_module(2)` of the module file `ko` with the argument string `args` (any bytes but
/// NUL: the system call takes a C string).
pub fn finit_module(ko: &File, args: &[u8]) -> Result<(), i32> {
    let args = CString::new(args).map_err(|_| libc::EINVAL)?;
    // SAFETY: `ko` is an open file and `args` a NUL-terminated string, both live for the call.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, ko.as_raw_fd(), args.as_ptr(), 0) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// `delete_module(2)` of `name`, without waiting for users to go.
pub fn delete_module(name: &str) -> Result<(), i32> {
    let name = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: `name` is a NUL-terminated string that lives for the call.
    let r = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Drops the calling *thread's* credentials to `uid`/`gid` with no supplementary groups, by
/// raw system calls: libc's wrappers would change every thread of the process.
pub fn drop_thread_privileges(uid: u32, gid: u32) -> Result<(), i32> {
    // SAFETY: plain system calls on the calling thread's credentials.
    unsafe {
        if libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) < 0
            || libc::syscall(libc::SYS_setresgid, gid, gid, gid) < 0
            || libc::syscall(libc::SYS_setresuid, uid, uid, uid) < 0
        {
            return Err(errno());
        }
    }
    Ok(())
}

/// Moves the calling thread into the network namespace of the nsfs file `path`.
pub fn enter_netns(path: &str) -> Result<(), i32> {
    let f = File::open(path).map_err(os)?;
    // SAFETY: `f` is an open nsfs file; setns affects the calling thread only.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(errno());
    }
    Ok(())
}

/// `unshare(2)`.
pub fn unshare(flags: i32) -> Result<(), i32> {
    // SAFETY: plain system call.
    if unsafe { libc::unshare(flags) } < 0 {
        return Err(errno());
    }
    Ok(())
}

/// A value as the module's log shows it (`rust/value.rs`, `Shown`): quoted, printable ASCII
/// as is, other bytes escaped, cut after 32 bytes with the length after it.
pub fn shown(value: &[u8]) -> String {
    let head = &value[..value.len().min(32)];
    let mut s = String::from("'");
    for &b in head {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' | b'\'' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if head.len() < value.len() {
        s.push_str(&format!("...' ({} bytes)", value.len()));
    } else {
        s.push('\'');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_matches_the_module() {
        assert_eq!(shown(b"c\n"), "'c\\n'");
        assert_eq!(shown(b"\xff\0"), "'\\xff\\x00'");
        assert_eq!(
            shown(&[b'a'; 40]),
            format!("'{}...' (40 bytes)", "a".repeat(32))
        );
    }
}
