// SPDX-License-Identifier: GPL-2.0

//! rnsid's own pernet operations: count the live nets and check the order of the pernet
//! callbacks, and run the post-nsid-step checks from the first `pre_exit` of every batch.

use crate::{
    net::Net,
    pernet::{self, PernetId, ZeroInit},
    postcheck,
    stats::{add, STATS},
};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

static NET_ID: PernetId = PernetId::new();

/// What rnsid keeps per net.
pub(crate) struct NetState {
    inited: AtomicBool,
    pre_exited: AtomicBool,
}

// SAFETY: `AtomicBool` is valid when zero (false) and needs no drop.
unsafe impl ZeroInit for NetState {}

/// The pernet operations.
pub(crate) struct Tracker;

#[vtable]
impl pernet::Operations for Tracker {
    type Data = NetState;
    const ID: &'static PernetId = &NET_ID;

    fn init(_net: Net<'_>, data: &NetState) -> Result {
        data.inited.store(true, Ordering::Relaxed);
        STATS.live_nets.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn pre_exit(net: Net<'_>, data: &NetState) {
        postcheck::check_pending();
        if !data.inited.load(Ordering::Relaxed) || data.pre_exited.swap(true, Ordering::Relaxed) {
            add(&STATS.postcondition_failures, 1);
            pr_err!("net:[{}]: pre_exit without init, or twice\n", net.inum());
        }
    }

    fn exit(net: Net<'_>, data: &NetState) {
        if !data.pre_exited.load(Ordering::Relaxed) {
            add(&STATS.postcondition_failures, 1);
            pr_err!("net:[{}]: exit before pre_exit\n", net.inum());
        }
        STATS.live_nets.fetch_sub(1, Ordering::Relaxed);
    }
}
