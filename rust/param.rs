// SPDX-License-Identifier: GPL-2.0

//! rnsid's module parameters: `mode` (`/sys/module/rnsid/parameters/mode`, its callbacks are
//! here) and `fail_notify` (in `notify.rs`), both writable at run time; `glue.c` declares them.
//!
//! A refused value is logged in one line naming it and what is accepted. At run time the write
//! fails with the errno, and the lines are rate-limited (a writer looping on junk must not flood
//! the log). At `insmod` the kernel's parameter code would add a line of its own
//! for any error (`` `junk' invalid for parameter `mode' ``), so there the callback only logs
//! and notes the refusal, and the module's `init` fails the load with `-EINVAL` without a word:
//! one line in all.

use crate::{bindings, hook, mode::Mode, series, value::Shown, MODE};
use core::{
    ffi::{c_char, c_int},
    fmt::{self, Write},
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::prelude::*;

/// Whether the module's `init` has started. Before, the callbacks run for `insmod`'s
/// arguments: the kernel parses them before it creates the parameters' sysfs files.
static INIT_STARTED: AtomicBool = AtomicBool::new(false);

/// Whether a value given to `insmod` was refused.
static REFUSED_AT_LOAD: AtomicBool = AtomicBool::new(false);

/// What a callback returns for a value it refused (and has logged): `err`, or at load time 0
/// and a note for [`arguments_accepted`].
pub(crate) fn refuse(err: Error) -> c_int {
    if INIT_STARTED.load(Ordering::Acquire) {
        return err.to_errno();
    }
    REFUSED_AT_LOAD.store(true, Ordering::Release);
    0
}

/// Logs the refusal of a knob's value: always while `insmod`'s arguments are parsed, at run
/// time at the kernel's default rate (10 lines per 5 s).
pub(crate) fn log_refusal(line: fmt::Arguments<'_>) {
    // SAFETY: `__ratelimit` on a static state of the glue; callable from any sleepable context.
    if !INIT_STARTED.load(Ordering::Acquire) || unsafe { bindings::rnsid_refusal_ratelimit() } {
        pr_err!("{}", line);
    }
}

/// Called first by the module's `init`: fails if a value given to `insmod` was refused. From
/// here on refusals fail the write. (A write to a parameter file in the moment between the
/// kernel creating it and `init` starting counts as given to `insmod`.)
pub(crate) fn arguments_accepted() -> Result {
    INIT_STARTED.store(true, Ordering::Release);
    if REFUSED_AT_LOAD.load(Ordering::Acquire) {
        return Err(EINVAL);
    }
    Ok(())
}

/// The bytes of a value the parameter code passes: none for a bare `name` at `insmod` (the
/// parameters are declared `KERNEL_PARAM_OPS_FL_NOARG` so that it reaches rnsid, as NULL).
///
/// # Safety
///
/// `val` must be NULL or NUL-terminated and outlive the returned slice.
pub(crate) unsafe fn bytes<'a>(val: *const c_char) -> &'a [u8] {
    if val.is_null() {
        return b"";
    }
    // `CStr`'s byte view is `as_bytes` on 6.12 and `to_bytes` on 7.x: count them here.
    let mut len = 0;
    // SAFETY: not NULL, so NUL-terminated (caller): every byte up to the NUL is readable.
    while unsafe { *val.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` bytes before the NUL, live as long as `val` (caller).
    unsafe { core::slice::from_raw_parts(val.cast::<u8>(), len) }
}

/// Shows a parameter's value in the page the parameter code passes; returns its length.
///
/// # Safety
///
/// `buffer` must be valid for writes of `PAGE_SIZE` bytes.
pub(crate) unsafe fn show(buffer: *mut c_char, args: fmt::Arguments<'_>) -> c_int {
    /// Writes into the first 64 bytes of the page, far more than any value needs.
    ///
    /// # Invariants
    ///
    /// `buf` is valid for writes of `PAGE_SIZE` bytes, and `len <= 64`.
    struct Page {
        buf: *mut u8,
        len: usize,
    }
    impl Write for Page {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            if self.len + s.len() > 64 {
                return Err(fmt::Error);
            }
            // SAFETY: within the first 64 bytes of the page (checked above; type invariant).
            unsafe { core::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.add(self.len), s.len()) };
            // INVARIANT: at most 64 (checked above).
            self.len += s.len();
            Ok(())
        }
    }
    // INVARIANT: the caller passes a page; nothing is written yet.
    let mut page = Page {
        buf: buffer.cast(),
        len: 0,
    };
    let _ = page.write_fmt(args);
    // SAFETY: `len <= 64` (type invariant), so the terminator is inside the page.
    unsafe { *page.buf.add(page.len) = 0 };
    page.len as c_int
}

/// Why `mode` cannot be switched to a given value on this kernel, if it cannot.
fn refusal(mode: Mode) -> Option<&'static str> {
    if mode == Mode::Batched && !series::HAS_IS_DYING {
        return Some("needs a kernel whose cleanup_net() sets net->is_dying (7.x)");
    }
    if mode != Mode::C && !hook::available() {
        return Some("needs a test kernel with rnsid's cleanup_net() hook (qemu/patches)");
    }
    None
}

/// The modes this kernel takes, for the log: "c, relocated, legacy, shadow or floor".
struct Accepted;

impl fmt::Display for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut modes = Mode::ALL.into_iter().filter(|&m| refusal(m).is_none());
        let mut next = modes.next();
        let mut first = true;
        while let Some(mode) = next {
            next = modes.next();
            let sep = match (first, next.is_some()) {
                (true, _) => "",
                (false, true) => ", ",
                (false, false) => " or ",
            };
            write!(f, "{sep}{}", mode.name())?;
            first = false;
        }
        Ok(())
    }
}

/// Sets the mode; refuses unknown values and modes this kernel cannot run, with `-EINVAL` and
/// one log line.
///
/// # Safety
///
/// Called by the module parameter code only, with a NUL-terminated `val` or NULL.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_mode_set(val: *const c_char) -> c_int {
    // SAFETY: the parameter code passes NULL or a NUL-terminated string that outlives this call.
    let value = unsafe { bytes(val) };
    let Some(mode) = Mode::parse(value) else {
        log_refusal(format_args!(
            "mode: {} refused (want {})\n",
            Shown(value),
            Accepted
        ));
        return refuse(EINVAL);
    };
    if let Some(why) = refusal(mode) {
        log_refusal(format_args!(
            "mode: {} refused: {} (want {})\n",
            Shown(value),
            why,
            Accepted
        ));
        return refuse(EINVAL);
    }
    MODE.set(mode);
    0
}

/// Shows the mode.
///
/// # Safety
///
/// Called by the module parameter code only, with a buffer of `PAGE_SIZE` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_mode_get(buffer: *mut c_char) -> c_int {
    // SAFETY: the parameter code passes a page (caller).
    unsafe { show(buffer, format_args!("{}\n", MODE.get().name())) }
}
