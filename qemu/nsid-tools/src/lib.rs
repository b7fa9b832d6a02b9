// SPDX-License-Identifier: GPL-2.0

//! The user-space side of rnsid's differential comparison.
//!
//! * [`record`]: cutting `RTNLGRP_NSID` datagrams into messages (used by `nsid-listen`);
//! * [`workload`]: the seeded generator of nsid scenarios;
//! * [`trace`]: what one run of a scenario observed, and the diff of two runs;
//! * [`netns`], [`rtnl`]: the namespaces and netlink requests that carry a scenario out;
//! * [`driver`]: runs a scenario against the live kernel in a given mode;
//! * [`bench`], [`benchrun`]: `nsid-bench`'s workloads, statistics and report, and their run
//!   against the live kernel; [`summary`] (medians, percentiles) and [`json`] (the reports);
//! * [`poke`]: `nsid-poke`'s hostile input to rnsid's knobs and its isolation checks;
//! * [`oracle`], [`soak`]: `nsid-soak`'s model of what the kernel must show, and the churn it
//!   judges; [`allnsid`] (a `NETLINK_LISTEN_ALL_NSID` listener), [`kmod`] (module reloads);
//!   [`faults`] (failslab and `fail_notify`, aimed and counted) and [`lost`] (whether what a
//!   fault cost the listeners is the documented outcome).
//!
//! Everything but `netns`, `rtnl`, `driver`, `benchrun`, `soak`, `kmod`, `allnsid`'s socket and
//! `faults`' knobs is pure and unit-tested on the host.

pub mod allnsid;
pub mod bench;
pub mod benchrun;
pub mod driver;
pub mod faults;
pub mod json;
pub mod kmod;
pub mod lost;
pub mod netns;
pub mod oracle;
pub mod poke;
pub mod record;
pub mod rtnl;
pub mod soak;
pub mod summary;
pub mod trace;
pub mod workload;
