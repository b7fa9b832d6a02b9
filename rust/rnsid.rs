// SPDX-License-Identifier: GPL-2.0

//! rnsid: the network-namespace id (nsid) teardown of `struct net`, reimplemented in Rust.
//!
//! On a test kernel built with rnsid's patch, `cleanup_net()` hands its nsid step to
//! [`hook::rnsid_unhash`], and the `mode` parameter decides whether the kernel's C or one of
//! the Rust strategies does it. Counters are in `/sys/kernel/debug/rnsid/stats`.

use kernel::prelude::*;

mod bindings;
#[macro_use]
mod series;
mod breakage;
mod gate;
mod hold;
mod hook;
mod mode;
mod net;
mod notify;
mod param;
mod pernet;
mod postcheck;
mod rtnl;
mod sched;
mod stats;
mod tracker;
mod unhash;
mod value;

use net::NetListGuard;

module_with_author! {
    type: Rnsid,
    name: "rnsid",
    author: "rnsid developers",
    description: "Network namespace id teardown in Rust",
    license: "GPL",
}

/// The mode in force (module parameter `mode`).
pub(crate) static MODE: mode::ModeCell = mode::ModeCell::new();

/// The module. Fields drop in order: the hold knob lets a held `cleanup_net()` go before the
/// hook is unregistered (which waits for it), the hook goes before the pernet operations whose
/// `pre_exit` checks its work, and debugfs last.
struct Rnsid {
    _hold: hold::Hold,
    _hook: Option<hook::Hook>,
    _pernet: Pin<KBox<pernet::Registration<tracker::Tracker>>>,
    _debugfs: stats::Debugfs,
}

/// The running kernel's release string, as `uname -r` prints it.
fn kernel_release() -> &'static str {
    // SAFETY: `init_uts_ns` is a static that lives as long as the kernel; its `release` field
    // is NUL-terminated and, once the kernel has booted, never written again.
    let release = unsafe {
        kernel::str::CStr::from_char_ptr((&raw const bindings::init_uts_ns.name.release).cast())
    };
    release.to_str().unwrap_or("?")
}

impl kernel::Module for Rnsid {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // A refused `insmod` argument was logged already: fail without a second line.
        param::arguments_accepted()?;
        let (count, last) = {
            let nets = NetListGuard::read();
            nets.iter()
                .fold((0usize, 0u32), |(count, _), net| (count + 1, net.inum()))
        };
        let pernet = KBox::pin_init(pernet::Registration::new(), GFP_KERNEL)?;
        let hook = hook::Hook::register()?;
        let debugfs = stats::Debugfs::new();
        pr_info!(
            "loaded on Linux {} (built for the {} series): {} network namespace(s), newest net:[{}]; mode {}, {}\n",
            kernel_release(),
            series::SERIES,
            count,
            last,
            MODE.get().name(),
            if hook.is_some() {
                "cleanup_net() hook registered"
            } else {
                "no cleanup_net() hook in this kernel: only mode=c"
            }
        );
        breakage::on_load();
        Ok(Rnsid {
            _hold: hold::Hold::new(),
            _hook: hook,
            _pernet: pernet,
            _debugfs: debugfs,
        })
    }
}

impl Drop for Rnsid {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
