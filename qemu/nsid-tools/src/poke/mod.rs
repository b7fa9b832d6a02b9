// SPDX-License-Identifier: GPL-2.0

//! `nsid-poke`: hostile input to rnsid's knobs, and what an unprivileged user can reach.
//!
//! * [`knob`]: every hostile value written to `mode`, `fail_notify` or `rnsid/hold`;
//! * [`insmod`]: the same at `insmod`, with the log lines it leaves;
//! * [`stats`]: reads of `rnsid/stats` at odd sizes and offsets;
//! * [`race`]: concurrent writers and readers of every knob;
//! * [`access`]: the knobs as an unprivileged user, also as root of a user namespace;
//! * [`listen`]: `RTNLGRP_NSID` listeners with other credentials, one thread each;
//! * [`sys`]: the exact system calls.
//!
//! Each check prints `ok: ...` or `FAIL: ...` (the scenarios' style) through [`Report`].

pub mod access;
pub mod insmod;
pub mod knob;
pub mod listen;
pub mod race;
pub mod stats;
pub mod sys;

/// The checks of one run: failures (and, if verbose, passes) printed as they are made, both
/// counted. A matrix makes hundreds of checks; the scenario's log keeps what failed.
#[derive(Default)]
pub struct Report {
    /// Print every check, not only the failures.
    pub verbose: bool,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failures: usize,
}

impl Report {
    /// Records one check.
    pub fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            if self.verbose {
                println!("ok: {what}");
            }
        } else {
            println!("FAIL: {what}");
            self.failures += 1;
        }
    }

    /// A part that cannot run here, and why (never counted as passed).
    pub fn skip(&mut self, what: impl std::fmt::Display) {
        println!("SKIP: {what}");
    }
}

/// What a write returned, for the log.
pub fn outcome(r: &Result<usize, i32>) -> String {
    match r {
        Ok(n) => format!("wrote {n}"),
        Err(e) => sys::errname(*e),
    }
}
