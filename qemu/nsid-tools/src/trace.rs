// SPDX-License-Identifier: GPL-2.0

//! What one run of a scenario observed, and the minimal diff between two runs.

use crate::record::{self, RTM_DELNSID, RTM_NEWNSID};
use netlink_packet_core::NetlinkBuffer;
use std::collections::BTreeMap;

/// What one net observed in one phase.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The `RTNLGRP_NSID` messages it received, in order, raw (see [`mask`]).
    pub messages: Vec<Vec<u8>>,
    /// Its `ip netns list-id` at the end of the phase: the ids it holds, sorted.
    pub ids: Vec<i32>,
}

/// One step of a scenario: the set-up, a batch dying, the links made after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub name: String,
    /// Per live net (by plan number).
    pub nets: BTreeMap<usize, Seen>,
}

/// A whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub phases: Vec<Phase>,
}

impl Trace {
    /// Messages recorded, over all phases and nets.
    pub fn messages(&self) -> usize {
        self.phases
            .iter()
            .flat_map(|p| p.nets.values())
            .map(|s| s.messages.len())
            .sum()
    }
}

/// The bytes of a message that two runs must agree on. `RTM_NEWNSID` answering a request
/// carries the requester's sequence number and port id (bytes 8 to 15), which differ between
/// runs; they are zeroed. `RTM_DELNSID` from the unhash carries zeros there, and is kept whole
/// so that a non-zero value shows up as a difference.
pub fn mask(msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    if msg.len() >= 16 && NetlinkBuffer::new(msg).message_type() == RTM_NEWNSID {
        m[8..16].fill(0);
    }
    m
}

/// A message, short: `DELNSID 3`, or its type and hex if it is not an nsid message.
pub fn describe(msg: &[u8]) -> String {
    if msg.len() < 16 {
        return format!("short:{}", record::hex(msg));
    }
    let ty = NetlinkBuffer::new(msg).message_type();
    let id = record::nsid_of(msg).map_or_else(|| "-".to_string(), |n| n.to_string());
    match ty {
        RTM_DELNSID => format!("DELNSID {id}"),
        RTM_NEWNSID => format!("NEWNSID {id}"),
        _ => format!("type={ty} {}", record::hex(msg)),
    }
}

/// How to compare message lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Same messages in the same order (both algorithms define one).
    Exact,
    /// Same multiset.
    Any,
}

/// One disagreement between the reference and another run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub phase: String,
    pub net: usize,
    pub what: String,
    pub expected: String,
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, net {}: {}: expected [{}] got [{}]",
            self.phase, self.net, self.what, self.expected, self.got
        )
    }
}

fn list(msgs: &[Vec<u8>]) -> String {
    msgs.iter()
        .map(|m| describe(m))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The messages only one side has, by multiset difference, each side sorted.
fn surplus(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut rest = b.to_vec();
    let mut out = Vec::new();
    for m in a {
        match rest.iter().position(|r| r == m) {
            Some(i) => {
                rest.swap_remove(i);
            }
            None => out.push(m.clone()),
        }
    }
    out.sort();
    out
}

fn compare_messages(
    exp: &[Vec<u8>],
    got: &[Vec<u8>],
    order: Order,
) -> Option<(String, String, String)> {
    let missing = surplus(exp, got);
    let extra = surplus(got, exp);
    if !missing.is_empty() || !extra.is_empty() {
        // Show only what differs, but with the raw bytes when the short forms look alike.
        let (e, g) = (list(&missing), list(&extra));
        let (e, g) = if e == g {
            (
                missing
                    .iter()
                    .map(|m| record::hex(m))
                    .collect::<Vec<_>>()
                    .join(", "),
                extra
                    .iter()
                    .map(|m| record::hex(m))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        } else {
            (e, g)
        };
        return Some(("messages (only in one run)".into(), e, g));
    }
    if order == Order::Exact && exp != got {
        return Some(("message order".into(), list(exp), list(got)));
    }
    None
}

/// Every disagreement of `got` with `expected`; nothing if they agree.
pub fn diff(expected: &Trace, got: &Trace, order: Order) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let phases = expected.phases.len().max(got.phases.len());
    for i in 0..phases {
        let (Some(e), Some(g)) = (expected.phases.get(i), got.phases.get(i)) else {
            out.push(Mismatch {
                phase: format!("phase {i}"),
                net: 0,
                what: "run length".into(),
                expected: format!("{} phases", expected.phases.len()),
                got: format!("{} phases", got.phases.len()),
            });
            break;
        };
        let empty = Seen::default();
        let nets: std::collections::BTreeSet<usize> =
            e.nets.keys().chain(g.nets.keys()).copied().collect();
        for net in nets {
            let (se, sg) = (
                e.nets.get(&net).unwrap_or(&empty),
                g.nets.get(&net).unwrap_or(&empty),
            );
            let mut push = |what: String, expected: String, got: String| {
                out.push(Mismatch {
                    phase: e.name.clone(),
                    net,
                    what,
                    expected,
                    got,
                })
            };
            if let Some((what, x, y)) = compare_messages(&se.messages, &sg.messages, order) {
                push(what, x, y);
            }
            if se.ids != sg.ids {
                let fmt = |v: &[i32]| {
                    v.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                push("list-id".into(), fmt(&se.ids), fmt(&sg.ids));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, seq: u32, id: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&28u32.to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&1u16.to_ne_bytes());
        m.extend_from_slice(&id.to_ne_bytes());
        m
    }

    fn trace(msgs: Vec<Vec<u8>>, ids: Vec<i32>) -> Trace {
        let mut nets = BTreeMap::new();
        nets.insert(
            3,
            Seen {
                messages: msgs,
                ids,
            },
        );
        Trace {
            phases: vec![Phase {
                name: "batch 1".into(),
                nets,
            }],
        }
    }

    #[test]
    fn newnsid_requester_is_masked_delnsid_is_not() {
        assert_eq!(mask(&msg(RTM_NEWNSID, 5, 1)), mask(&msg(RTM_NEWNSID, 9, 1)));
        assert_ne!(mask(&msg(RTM_DELNSID, 5, 1)), mask(&msg(RTM_DELNSID, 0, 1)));
        assert_eq!(describe(&msg(RTM_DELNSID, 0, 4)), "DELNSID 4");
    }

    #[test]
    fn equal_runs_agree() {
        let t = trace(
            vec![msg(RTM_DELNSID, 0, 1), msg(RTM_DELNSID, 0, 2)],
            vec![5],
        );
        assert!(diff(&t, &t.clone(), Order::Exact).is_empty());
    }

    #[test]
    fn order_matters_only_when_asked() {
        let a = trace(vec![msg(RTM_DELNSID, 0, 1), msg(RTM_DELNSID, 0, 2)], vec![]);
        let b = trace(vec![msg(RTM_DELNSID, 0, 2), msg(RTM_DELNSID, 0, 1)], vec![]);
        assert!(diff(&a, &b, Order::Any).is_empty());
        let d = diff(&a, &b, Order::Exact);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].what, "message order");
        assert_eq!(d[0].to_string(), "batch 1, net 3: message order: expected [DELNSID 1, DELNSID 2] got [DELNSID 2, DELNSID 1]");
    }

    #[test]
    fn missing_message_and_ids_are_shown_minimal() {
        let a = trace(
            vec![msg(RTM_DELNSID, 0, 0), msg(RTM_DELNSID, 0, 2)],
            vec![1],
        );
        let b = trace(vec![msg(RTM_DELNSID, 0, 2)], vec![0, 1]);
        let d = diff(&a, &b, Order::Any);
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0].to_string(),
            "batch 1, net 3: messages (only in one run): expected [DELNSID 0] got []"
        );
        assert_eq!(
            d[1].to_string(),
            "batch 1, net 3: list-id: expected [1] got [0 1]"
        );
    }

    #[test]
    fn same_short_form_shows_bytes() {
        let a = trace(vec![msg(RTM_DELNSID, 0, 0)], vec![]);
        let b = trace(vec![msg(RTM_DELNSID, 1, 0)], vec![]);
        let d = diff(&a, &b, Order::Any);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].expected.starts_with("1c000000590000000000"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn missing_phase_is_reported() {
        let a = trace(vec![], vec![]);
        let b = Trace::default();
        assert_eq!(diff(&a, &b, Order::Any)[0].what, "run length");
    }
}
