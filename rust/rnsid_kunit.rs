// SPDX-License-Identifier: GPL-2.0

//! rnsid_kunit: rnsid's KUnit suite (`kunit.rs`) as a module of its own.
//!
//! `rnsid.ko` is loaded many times in every guest run; a suite inside it would run at every
//! load. So the suite lives here, in a second crate built from the very same sources (every
//! module below is rnsid's own file), whose `init` registers nothing: no `cleanup_net()` hook,
//! no pernet operations, no debugfs. KUnit runs the suite when the module is loaded (7.x: the
//! `.kunit_test_suites` entry of `#[kunit_tests]`; 6.12: the C suite of `kunit_suite.c`), and
//! keeps its results in `/sys/kernel/debug/kunit/rnsid/results` until it is unloaded.

// The suite uses only part of rnsid; the rest is compiled here for the parts it uses to build.
#![allow(dead_code)]

use kernel::prelude::*;

mod bindings;
#[macro_use]
mod series;
mod breakage;
mod gate;
mod hold;
mod hook;
mod kunit;
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

module_with_author! {
    type: RnsidKunit,
    name: "rnsid_kunit",
    author: "rnsid developers",
    description: "KUnit tests of rnsid (suite rnsid)",
    license: "GPL",
}

/// The mode the shared sources read; nothing here changes it.
pub(crate) static MODE: mode::ModeCell = mode::ModeCell::new();

/// The test module: nothing to set up, nothing to tear down.
struct RnsidKunit;

impl kernel::Module for RnsidKunit {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(RnsidKunit)
    }
}
