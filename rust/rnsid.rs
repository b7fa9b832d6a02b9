// SPDX-License-Identifier: GPL-2.0

//! rnsid: the network-namespace id (nsid) teardown of `struct net`, reimplemented in Rust.
//!
//! This is the module's entry point. On load it reports the kernel it runs on and the network
//! namespaces that exist, walking the real `net_namespace_list` under `net_rwsem`.

use kernel::prelude::*;

mod bindings;
#[macro_use]
mod series;
mod net;

use net::NetListReadGuard;

module_with_author! {
    type: Rnsid,
    name: "rnsid",
    author: "rnsid developers",
    description: "Network namespace id teardown in Rust",
    license: "GPL",
}

struct Rnsid;

/// The running kernel's release string, as `uname -r` prints it.
fn kernel_release() -> &'static str {
    // SAFETY: `init_uts_ns` is a static that lives as long as the kernel; its `release` field
    // is NUL-terminated and, once the kernel has booted, never written again.
    let release = unsafe { core::ffi::CStr::from_ptr((&raw const bindings::init_uts_ns.name.release).cast()) };
    release.to_str().unwrap_or("?")
}

impl kernel::Module for Rnsid {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let (count, last) = {
            let nets = NetListReadGuard::lock();
            nets.iter()
                .fold((0usize, 0u32), |(count, _), net| (count + 1, net.inum()))
        };
        pr_info!(
            "loaded on Linux {} (built for the {} series): {} network namespace(s), newest net:[{}]\n",
            kernel_release(),
            series::SERIES,
            count,
            last
        );
        breakage::on_load();
        Ok(Rnsid)
    }
}

impl Drop for Rnsid {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}

mod breakage;
