// SPDX-License-Identifier: GPL-2.0

//! `rtnl_lock()`, the routing netlink mutex, held for the lifetime of a guard.

use crate::bindings;
use core::marker::PhantomData;

/// `rtnl_lock()`, held.
///
/// Before fb07a820fe3f `cleanup_net()` held it across the whole nsid walk; `legacy` takes it
/// the same way, so that what it costs other `rtnl_lock()` users is what the seed removed.
///
/// # Invariants
///
/// The current task holds `rtnl_mutex` while the guard exists.
pub(crate) struct Rtnl {
    _not_send: PhantomData<*mut ()>,
}

impl Rtnl {
    /// Takes `rtnl_lock()`, sleeping until it is free.
    pub(crate) fn lock() -> Self {
        // SAFETY: `rtnl_lock()` may be called from any sleepable context that does not hold it;
        // the nsid step runs in `cleanup_net()`'s work item, which holds only
        // `pernet_ops_rwsem`, taken before `rtnl_mutex` everywhere in the kernel.
        unsafe { bindings::rtnl_lock() };
        // INVARIANT: `rtnl_lock()` returned, so we hold it.
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Drop for Rtnl {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold `rtnl_mutex`.
        unsafe { bindings::rtnl_unlock() };
    }
}
