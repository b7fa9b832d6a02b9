// SPDX-License-Identifier: GPL-2.0

//! The user-space side of rnsid's differential comparison.
//!
//! * [`record`]: cutting `RTNLGRP_NSID` datagrams into messages (used by `nsid-listen`);
//! * [`workload`]: the seeded generator of nsid scenarios;
//! * [`trace`]: what one run of a scenario observed, and the diff of two runs;
//! * [`netns`], [`rtnl`]: the namespaces and netlink requests that carry a scenario out;
//! * [`driver`]: runs a scenario against the live kernel in a given mode.
//!
//! Everything but `netns`, `rtnl` and `driver` is pure and unit-tested on the host.

pub mod driver;
pub mod netns;
pub mod record;
pub mod rtnl;
pub mod trace;
pub mod workload;
