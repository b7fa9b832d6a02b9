// SPDX-License-Identifier: GPL-2.0

//! The `RTM_DELNSID` notification, built from exported netlink pieces exactly as the kernel's
//! static `rtnl_net_notifyid(net, RTM_DELNSID, id, 0, NULL, GFP_KERNEL)` builds it: an
//! `nlmsghdr` of type `RTM_DELNSID` with seq 0, portid 0 and no flags, a `struct rtgenmsg` of
//! family `AF_UNSPEC` and one `NETNSA_NSID` s32 attribute, multicast to the survivor's
//! `RTNLGRP_NSID` listeners.

use crate::{
    bindings,
    net::Net,
    param,
    value::{self, CountError, Shown},
};
use core::{
    ffi::{c_char, c_int, c_void},
    mem::{size_of, ManuallyDrop},
    ptr::{self, NonNull},
    sync::atomic::{AtomicU32, Ordering},
};
use kernel::prelude::*;

const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// `NLMSG_HDRLEN`.
const NLMSG_HDRLEN: usize = align4(size_of::<bindings::nlmsghdr>());
/// `NLA_HDRLEN`: a `struct nlattr` is two u16s.
const NLA_HDRLEN: usize = align4(4);

const fn nla_total_size(payload: usize) -> usize {
    align4(NLA_HDRLEN + payload)
}

const fn nlmsg_total_size(payload: usize) -> usize {
    align4(NLMSG_HDRLEN + payload)
}

/// `rtnl_net_get_size()`: room for the `rtgenmsg`, `NETNSA_NSID` and `NETNSA_CURRENT_NSID`.
const MSG_PAYLOAD: usize = align4(size_of::<bindings::rtgenmsg>()) + 2 * nla_total_size(4);

fn emsgsize() -> Error {
    Error::from_errno(-bindings::RNSID_EMSGSIZE)
}

/// Notifications still to fail on purpose (module parameter `fail_notify`), to test the error
/// path; decremented by every injected failure.
static FAIL_NOTIFY: AtomicU32 = AtomicU32::new(0);

fn inject_failure() -> bool {
    FAIL_NOTIFY
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

/// Sets `fail_notify`: a count as [`value::count`] reads it; anything else is refused with
/// `-EINVAL` (`-ERANGE` above `u32::MAX`) and one log line.
///
/// # Safety
///
/// Called by the module parameter code only, with a NUL-terminated `val` or NULL.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_fail_notify_set(val: *const c_char) -> c_int {
    // SAFETY: the parameter code passes NULL or a NUL-terminated string that outlives this call.
    let text = unsafe { param::bytes(val) };
    match value::count(text) {
        Ok(n) => {
            FAIL_NOTIFY.store(n, Ordering::Release);
            0
        }
        Err(why) => {
            let (err, what) = match why {
                CountError::Invalid => (EINVAL, ""),
                CountError::TooLarge => (ERANGE, ": too large"),
            };
            param::log_refusal(format_args!(
                "fail_notify: {} refused{} (want {})\n",
                Shown(text),
                what,
                value::COUNT_ACCEPTED
            ));
            param::refuse(err)
        }
    }
}

/// Shows `fail_notify`: the failures still to inject.
///
/// # Safety
///
/// Called by the module parameter code only, with a buffer of `PAGE_SIZE` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn rnsid_fail_notify_get(buffer: *mut c_char) -> c_int {
    let n = FAIL_NOTIFY.load(Ordering::Acquire);
    // SAFETY: the parameter code passes a page (caller).
    unsafe { param::show(buffer, format_args!("{n}\n")) }
}

/// Tells `net`'s `RTNLGRP_NSID` listeners that `id` was removed.
///
/// On failure the listeners are told of the error with `rtnl_set_sk_err()`, as the C does, and
/// the error is returned for the statistics; the caller goes on either way.
pub(crate) fn delnsid(net: Net<'_>, id: i32) -> Result {
    let result = if inject_failure() {
        Err(ENOMEM)
    } else {
        send(net, id)
    };
    if let Err(err) = result {
        // Unless built to drop it silently (`RNSID_BREAK=silent_fail`, for the soak to catch).
        if !crate::breakage::SILENT_FAIL {
            // SAFETY: `net` is live (type invariant of `Net`).
            unsafe {
                bindings::rtnl_set_sk_err(
                    net.as_ptr(),
                    bindings::RNSID_RTNLGRP_NSID,
                    err.to_errno(),
                )
            };
        }
    }
    result
}

fn send(net: Net<'_>, id: i32) -> Result {
    Message::delnsid(id)?.notify(net);
    Ok(())
}

/// An `RTM_DELNSID` message in the `sk_buff` it was built in, owned until it is sent.
///
/// # Invariants
///
/// `skb` is a valid, linear `sk_buff` that this value owns, holding one complete message.
pub(crate) struct Message {
    skb: NonNull<bindings::sk_buff>,
}

impl Message {
    /// Builds the message that tells of the removal of `id`.
    pub(crate) fn delnsid(id: i32) -> Result<Self> {
        // `nlmsg_new()`.
        // SAFETY: plain allocation; `GFP_KERNEL` because the nsid step may sleep.
        let skb = unsafe {
            bindings::__alloc_skb(
                nlmsg_total_size(MSG_PAYLOAD) as u32,
                kernel::bindings::GFP_KERNEL,
                0,
                bindings::RNSID_NUMA_NO_NODE,
            )
        };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        // SAFETY: `skb` is a fresh, exclusively owned buffer.
        if let Err(err) = unsafe { fill(skb.as_ptr(), id) } {
            // SAFETY: we own `skb` and nobody else saw it.
            unsafe { bindings::rnsid_kfree_skb(skb.as_ptr()) };
            return Err(err);
        }
        // INVARIANT: `skb` is ours and `fill` completed the message.
        Ok(Self { skb })
    }

    /// Multicasts the message to `net`'s `RTNLGRP_NSID` listeners.
    fn notify(self, net: Net<'_>) {
        let skb = ManuallyDrop::new(self).skb;
        // SAFETY: `skb` holds a complete message (type invariant); `rtnl_notify` consumes it, and
        // `ManuallyDrop` keeps us from freeing it again. `net` is live.
        unsafe {
            bindings::rtnl_notify(
                skb.as_ptr(),
                net.as_ptr(),
                0,
                bindings::RNSID_RTNLGRP_NSID,
                ptr::null_mut(),
                kernel::bindings::GFP_KERNEL,
            )
        };
    }

    /// The message as it goes out, from its `nlmsghdr` on (for the KUnit suite).
    #[cfg(rnsid_kunit)]
    pub(crate) fn bytes(&self) -> &[u8] {
        let skb = self.skb.as_ptr();
        // SAFETY: the skb is valid and linear (type invariant), so its `len` bytes from `data`
        // are readable; they live, unchanged, as long as `self`.
        unsafe { core::slice::from_raw_parts((*skb).data, (*skb).len as usize) }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: we own the skb (type invariant), which was never sent.
        unsafe { bindings::rnsid_kfree_skb(self.skb.as_ptr()) };
    }
}

/// `rtnl_net_fill()` for `RTM_DELNSID`.
///
/// # Safety
///
/// `skb` must be a valid, linear, exclusively owned `sk_buff`.
unsafe fn fill(skb: *mut bindings::sk_buff, id: i32) -> Result {
    // SAFETY: `skb` is valid (caller). These are `skb_tailroom()` and `skb_tail_pointer()` on
    // a kernel whose `sk_buff_data_t` is an offset from `head` (64-bit).
    let tailroom = |skb: *mut bindings::sk_buff| unsafe {
        if (*skb).data_len != 0 {
            0
        } else {
            ((*skb).end - (*skb).tail) as usize
        }
    };
    // `nlmsg_put()`.
    if tailroom(skb) < nlmsg_total_size(size_of::<bindings::rtgenmsg>()) {
        return Err(emsgsize());
    }
    // SAFETY: there is room for the header and the `rtgenmsg` (checked above).
    let nlh = unsafe {
        bindings::__nlmsg_put(
            skb,
            0,
            0,
            bindings::RNSID_RTM_DELNSID,
            size_of::<bindings::rtgenmsg>() as i32,
            0,
        )
    };
    // SAFETY: `nlmsg_data()`: the `rtgenmsg` follows the header, inside the room just reserved.
    unsafe {
        let rth = nlh.byte_add(NLMSG_HDRLEN).cast::<bindings::rtgenmsg>();
        (*rth).rtgen_family = bindings::RNSID_AF_UNSPEC as u8;
    }
    // `nla_put_s32()`.
    // SAFETY: `id` is 4 readable bytes; `nla_put` checks the room itself.
    let err = unsafe {
        bindings::nla_put(
            skb,
            bindings::RNSID_NETNSA_NSID,
            size_of::<i32>() as i32,
            (&raw const id).cast::<c_void>(),
        )
    };
    if err != 0 {
        return Err(emsgsize());
    }
    // `nlmsg_end()`.
    // SAFETY: `nlh` lies inside the skb's linear data, before the tail.
    unsafe {
        let tail = (*skb).head.add((*skb).tail as usize);
        (*nlh).nlmsg_len = tail.offset_from(nlh.cast::<u8>()) as u32;
    }
    Ok(())
}
