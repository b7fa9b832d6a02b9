// SPDX-License-Identifier: GPL-2.0

//! Whether the notifications listeners lost while faults were injected are the documented
//! outcome, and nothing else.
//!
//! When building a notification fails (`nlmsg_new()` in the C's `rtnl_net_notifyid()`,
//! `__alloc_skb()` in rnsid's `notify.rs`), nothing is sent and `rtnl_set_sk_err()` sets the
//! error (`ENOMEM`) on every `RTNLGRP_NSID` listener *of that net*: each one's next receive
//! fails with it, and all of them miss the message. A `NETLINK_LISTEN_ALL_NSID` listener in
//! another net (the soak's home listener) misses it too, without an error: `netlink_set_err()`
//! stops at the sender's net (`do_one_set_err()`). When the message was built but its copy for
//! a second listener failed (`skb_clone()` in `do_one_broadcast()`), that listener, and any
//! after it, misses it with `ENOBUFS` (`netlink_overrun()`). The ids are removed either way.
//!
//! So, per listener read at a checkpoint after a fault window:
//!
//! * a lost notification needs an error on that listener (`ENOMEM` or `ENOBUFS`), or, on the
//!   home listener for another net's message, the same message lost with an error by that
//!   net's own listener (when it has one);
//! * an error needs a loss to explain it, and is `ENOMEM` or `ENOBUFS`;
//! * every fault costs at most one message: the messages lost are at most the faults injected.

use crate::oracle::{NetNo, Note, HOME};
use std::collections::{BTreeMap, BTreeSet};

/// One listener's read at a checkpoint.
#[derive(Clone, Debug, Default)]
pub struct Read {
    pub net: NetNo,
    /// The errors its receives failed with (errnos).
    pub errors: Vec<i32>,
    /// What it missed of what it was owed while faults were armed ([`crate::oracle::Received`]).
    pub lost: Vec<Note>,
}

/// What the reads of one checkpoint show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub problems: Vec<String>,
    /// Distinct messages lost (by sender net, kind and id).
    pub messages_lost: u64,
    /// Copies lost, over every listener.
    pub copies_lost: u64,
    /// Listener errors seen, by errno name: which outcome the faults took (`ENOMEM`: the
    /// message was never built; `ENOBUFS`: a copy of it was not).
    pub errors: BTreeMap<String, u64>,
}

fn errno_name(e: i32) -> String {
    match e {
        libc::ENOMEM => "ENOMEM".into(),
        libc::ENOBUFS => "ENOBUFS".into(),
        e => format!("errno {e}"),
    }
}

fn who(net: NetNo) -> String {
    if net == HOME {
        "home's NETLINK_LISTEN_ALL_NSID listener".into()
    } else {
        format!("net {net}'s listener")
    }
}

/// Judges the reads of one checkpoint after `injected` faults; `sender(via)` is the net home's
/// id `via` names, `has_listener(n)` whether net `n` has its own listener.
pub fn judge(
    reads: &[Read],
    injected: u64,
    sender: impl Fn(i32) -> Option<NetNo>,
    has_listener: impl Fn(NetNo) -> bool,
) -> Verdict {
    let mut v = Verdict::default();
    let mut messages = BTreeSet::new();
    for r in reads {
        v.copies_lost += r.lost.len() as u64;
        for &e in &r.errors {
            *v.errors.entry(errno_name(e)).or_default() += 1;
            if e != libc::ENOMEM && e != libc::ENOBUFS {
                v.problems.push(format!(
                    "{}: a receive failed with {}, which no injected fault explains",
                    who(r.net),
                    errno_name(e)
                ));
            }
        }
        if !r.errors.is_empty() && r.lost.is_empty() {
            v.problems.push(format!(
                "{}: a receive failed with {} but nothing it was owed is missing",
                who(r.net),
                errno_name(r.errors[0])
            ));
        }
        for note in &r.lost {
            let from = match note.via {
                Some(via) => sender(via),
                None => Some(r.net),
            };
            // One message per sender net, kind and id (by its tag if the sender is unknown).
            messages.insert((from, from.map_or(note.via, |_| None), note.kind, note.id));
            if !r.errors.is_empty() {
                continue;
            }
            // Silent loss: only home's copy of another net's message, when that message was
            // never built; then that net's own listener, if any, lost it with the error.
            let explained = match (r.net, note.via, from) {
                (HOME, Some(_), Some(s)) if !has_listener(s) => true,
                (HOME, Some(_), Some(s)) => reads.iter().any(|o| {
                    o.net == s
                        && o.errors.contains(&libc::ENOMEM)
                        && o.lost
                            .iter()
                            .any(|l| l.kind == note.kind && l.id == note.id && l.via.is_none())
                }),
                _ => false,
            };
            if !explained {
                v.problems.push(format!(
                    "{}: lost {note} without an error on its next receive{}",
                    who(r.net),
                    if note.via.is_some() {
                        " (nor its sender's listener with ENOMEM)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    v.messages_lost = messages.len() as u64;
    if v.messages_lost > injected {
        v.problems.push(format!(
            "{} notifications lost, more than the {injected} faults injected",
            v.messages_lost
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::tests::del;

    fn read(net: NetNo, errors: &[i32], lost: &[Note]) -> Read {
        Read {
            net,
            errors: errors.to_vec(),
            lost: lost.to_vec(),
        }
    }

    // Home's id 7 names net 3, which has a listener; id 8 names net 4, which has none.
    fn sender(via: i32) -> Option<NetNo> {
        match via {
            7 => Some(3),
            8 => Some(4),
            _ => None,
        }
    }

    fn listens(n: NetNo) -> bool {
        n != 4
    }

    #[test]
    fn the_documented_outcome_passes() {
        // Net 3's DELNSID 0 was never built: its listener got ENOMEM, home missed its copy
        // silently; home's own DELNSID 2 failed the same way; net 4's DELNSID 1 too (no
        // listener of its own to tell).
        let reads = [
            read(HOME, &[libc::ENOMEM], &[del(0, Some(7)), del(2, None)]),
            read(3, &[libc::ENOMEM], &[del(0, None)]),
            read(4, &[], &[]),
            read(5, &[], &[]),
        ];
        let v = judge(&reads, 3, sender, listens);
        assert_eq!(v.problems, Vec::<String>::new());
        assert_eq!((v.messages_lost, v.copies_lost), (2, 3));
        assert_eq!(v.errors, BTreeMap::from([("ENOMEM".into(), 2)]));
        let reads = [read(HOME, &[], &[del(1, Some(8))])];
        assert!(judge(&reads, 1, sender, listens).problems.is_empty());
        // A copy that failed: ENOBUFS on that listener alone.
        let reads = [
            read(HOME, &[libc::ENOBUFS], &[del(0, Some(7))]),
            read(3, &[], &[]),
        ];
        let v = judge(&reads, 1, sender, listens);
        assert!(v.problems.is_empty());
        assert_eq!(v.errors, BTreeMap::from([("ENOBUFS".into(), 1)]));
    }

    #[test]
    fn anything_else_fails() {
        // Lost without an error.
        let v = judge(&[read(3, &[], &[del(0, None)])], 5, sender, listens);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        // Home lost net 3's message silently, but net 3's listener has it.
        let reads = [read(HOME, &[], &[del(0, Some(7))]), read(3, &[], &[])];
        assert_eq!(judge(&reads, 5, sender, listens).problems.len(), 1);
        // An error with nothing lost, and an errno no fault makes.
        let reads = [
            read(3, &[libc::ENOMEM], &[]),
            read(5, &[libc::EIO], &[del(1, None)]),
        ];
        assert_eq!(judge(&reads, 5, sender, listens).problems.len(), 2);
        // More messages lost than faults injected.
        let reads = [read(3, &[libc::ENOMEM], &[del(0, None), del(1, None)])];
        let v = judge(&reads, 1, sender, listens);
        assert_eq!(v.messages_lost, 2);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
    }
}
