// SPDX-License-Identifier: GPL-2.0

//! The `mode` module parameter (`/sys/module/rnsid/parameters/mode`), writable at run time.
//! `glue.c` declares it; these are its callbacks.

use crate::{hook, mode::Mode, series, MODE};
use core::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::str::CStr;

/// Why `mode` cannot be switched to a given value on this kernel, if it cannot.
fn refusal(mode: Mode) -> Option<&'static str> {
    if mode == Mode::Batched && !series::HAS_IS_DYING {
        return Some("needs a kernel whose cleanup_net() sets net->is_dying (7.x)");
    }
    if mode != Mode::C && !hook::available() {
        return Some("needs a test kernel with rnsid's cleanup_net() hook (qemu/patches); this kernel has none, only mode=c works");
    }
    None
}

/// Sets the mode; refuses unknown values and modes this kernel cannot run, with `-EINVAL` and
/// one log line.
///
/// # Safety
///
/// Called by the module parameter code only, with a NUL-terminated `val`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_mode_set(val: *const c_char) -> c_int {
    // SAFETY: the parameter code passes a NUL-terminated string that outlives this call.
    let value = unsafe { CStr::from_char_ptr(val.cast()) }
        .to_str()
        .unwrap_or("?");
    let bytes = value.as_bytes();
    let Some(mode) = Mode::parse(bytes) else {
        pr_err!(
            "mode: unknown value '{}' (want c, relocated, legacy, batched, shadow or floor)\n",
            value.trim_end()
        );
        return EINVAL.to_errno();
    };
    if let Some(why) = refusal(mode) {
        pr_err!("mode={} refused: {}\n", mode.name(), why);
        return EINVAL.to_errno();
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
    let name = MODE.get().name().as_bytes();
    // SAFETY: the buffer holds a page; a mode name and a newline are far shorter.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr(), buffer.cast::<u8>(), name.len());
        *buffer.add(name.len()) = b'\n' as c_char;
        *buffer.add(name.len() + 1) = 0;
    }
    (name.len() + 1) as c_int
}
