// SPDX-License-Identifier: GPL-2.0

//! Deliberate faults, compiled in only with `make RNSID_BREAK=...`, to show that the harness
//! catches a broken module. A normal build contains none of this.

/// `RNSID_BREAK=skip_id0`: the Rust strategies remove id 0 but send no `RTM_DELNSID` for it.
pub(crate) const SKIP_NOTIFY_ID0: bool = cfg!(rnsid_break = "skip_id0");

/// `RNSID_BREAK=short_walk`: the Rust walk over the survivors stops one short of `last`.
pub(crate) const SHORT_WALK: bool = cfg!(rnsid_break = "short_walk");

/// `RNSID_BREAK=silent_fail`: a Rust `RTM_DELNSID` that cannot be built or sent is dropped
/// without `rtnl_set_sk_err()`, so its listeners miss it without an error (the soak's faults).
pub(crate) const SILENT_FAIL: bool = cfg!(rnsid_break = "silent_fail");

/// Runs the fault the module was built with, if any.
///
/// `cfg(rnsid_break)` alone would not do: with `--cfg rnsid_break="panic"` only the name-value
/// form is set.
#[cfg(not(any(rnsid_break = "panic", rnsid_break = "oob", rnsid_break = "symbol")))]
pub(crate) fn on_load() {}

/// `RNSID_BREAK=panic`: a Rust panic in module init.
#[cfg(rnsid_break = "panic")]
pub(crate) fn on_load() {
    panic!("rnsid: deliberate panic (built with RNSID_BREAK=panic)");
}

/// `RNSID_BREAK=oob`: reads one byte past a heap allocation, which KASAN reports.
#[cfg(rnsid_break = "oob")]
pub(crate) fn on_load() {
    use kernel::prelude::*;

    let Ok(buf) = KVec::<u8>::from_elem(0u8, 8, GFP_KERNEL) else {
        return;
    };
    // SAFETY: none, on purpose: this reads one byte past the end of `buf`'s allocation so that
    // KASAN reports a slab-out-of-bounds access.
    let byte = unsafe { buf.as_ptr().add(8).read_volatile() };
    pr_info!("read past the end: {}\n", byte);
}

/// `RNSID_BREAK=symbol`: calls a function no kernel exports, which modpost refuses.
#[cfg(rnsid_break = "symbol")]
pub(crate) fn on_load() {
    extern "C" {
        fn rnsid_no_such_symbol();
    }
    // SAFETY: none, on purpose: the symbol does not exist and the module must not link.
    unsafe { rnsid_no_such_symbol() };
}
