// SPDX-License-Identifier: GPL-2.0

//! Reads of `rnsid/stats` at odd sizes and offsets: whatever the size and the offset, the bytes
//! are those of one whole read at that place; past the end there is nothing; a negative offset,
//! an unseekable whence and a bad buffer are refused. Nothing may die meanwhile: the counters
//! would move.

use super::{sys, Report};
use std::fs::File;
use std::io::Read;

/// Reads `f` from its current place to the end in reads of `size` bytes.
fn read_in(f: &mut File, size: usize) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; size];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| e.raw_os_error().unwrap_or(0))?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Runs every read of `path` (a seq_file) and checks it against one whole read.
pub fn run(r: &mut Report, path: &str) {
    let whole = match sys::read_all(path) {
        Ok(w) if !w.is_empty() => w,
        other => {
            r.check(false, format_args!("{path} reads ({other:?})"));
            return;
        }
    };
    let len = whole.len();
    let open = || File::open(path).expect("the stats file opened a moment ago");
    for size in [1, 2, 3, 7, 64, 4095, 4096, 4097, 1 << 20] {
        let got = read_in(&mut open(), size);
        r.check(
            got.as_deref() == Ok(&whole[..]),
            format_args!("stats read in pieces of {size} bytes: the same {len} bytes"),
        );
    }
    let f = open();
    let mut bad = Vec::new();
    for at in 0..len {
        let want = &whole[at..(at + 7).min(len)];
        if sys::pread(&f, 7, at as i64).as_deref() != Ok(want) {
            bad.push(at);
        }
    }
    r.check(
        bad.is_empty(),
        format_args!("stats pread of 7 bytes at each of its {len} offsets: the bytes there (wrong at {bad:?})"),
    );
    for at in [len as i64, len as i64 + 1, len as i64 + 4096, i64::MAX / 2] {
        let got = sys::pread(&f, 64, at);
        r.check(
            got == Ok(Vec::new()),
            format_args!("stats pread at {at}, at or past its end: nothing ({got:?})"),
        );
    }
    // The last two: the VFS refuses a range whose end overflows.
    for at in [-1, i64::MIN, i64::MAX - 1, i64::MAX] {
        let got = sys::pread(&f, 64, at);
        r.check(
            got == Err(libc::EINVAL),
            format_args!("stats pread at {at}: EINVAL ({got:?})"),
        );
    }
    let got = sys::pread(&f, 0, 0);
    r.check(
        got == Ok(Vec::new()),
        format_args!("stats read of 0 bytes: nothing ({got:?})"),
    );
    let mut g = open();
    let got = sys::read_to_null(&g, 100);
    r.check(
        got == Err(libc::EFAULT),
        format_args!("stats read into a null buffer: EFAULT ({got:?})"),
    );
    let rest = read_in(&mut g, 4096);
    r.check(
        rest.as_deref() == Ok(&whole[..]),
        "stats read after the failed one: the same file from its start",
    );
    let g = open();
    let end = sys::lseek(&g, 0, libc::SEEK_END);
    r.check(
        end == Err(libc::EINVAL),
        format_args!("stats lseek(SEEK_END): EINVAL ({end:?})"),
    );
    let neg = sys::lseek(&g, -1, libc::SEEK_SET);
    r.check(
        neg == Err(libc::EINVAL),
        format_args!("stats lseek to -1: EINVAL ({neg:?})"),
    );
    let mut g = open();
    let mid = len as i64 / 2;
    let at = sys::lseek(&g, mid, libc::SEEK_SET);
    let rest = read_in(&mut g, 5);
    r.check(
        at == Ok(mid) && rest.as_deref() == Ok(&whole[mid as usize..]),
        format_args!("stats lseek to {mid}, then reads of 5: the rest from there"),
    );
    let w = sys::write_once(path, b"0\n");
    // Root may open it for writing; the file has no write operation.
    r.check(
        w == Err(libc::EINVAL),
        format_args!(
            "stats write as root: refused with EINVAL ({})",
            super::outcome(&w)
        ),
    );
    let after = sys::read_all(path);
    r.check(
        after.as_deref() == Ok(&whole[..]),
        "stats reads the same after all of it",
    );
}
