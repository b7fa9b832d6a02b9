// SPDX-License-Identifier: GPL-2.0

//! The soak's oracle: what the kernel must show, kept from the workload alone.
//!
//! Every request the soak makes goes through the oracle too, which keeps each live net's
//! table of ids and, per listener, the notifications it must have received since it was last
//! read. Nothing here looks at the kernel: the soak compares what it reads there with what the
//! oracle says ([`Oracle::ids`], [`Oracle::check`]).
//!
//! The model, from `net/core/net_namespace.c` and `net/netlink/af_netlink.c`:
//!
//! * `RTM_NEWNSID` with an id gives the holder that id for the peer, unless the holder has one
//!   for the peer already or the id is taken (`EEXIST` either way); the holder's listeners get
//!   an `RTM_NEWNSID`.
//! * A veth made in one net with its peer in another makes the first, if it has no id for the
//!   second, allocate the lowest free one (`idr_alloc()` from 0) when its link is announced,
//!   with an `RTM_NEWNSID` to its listeners; the second allocates nothing (see
//!   [`Oracle::veth`]).
//! * When a batch of nets dies in one `cleanup_net()`, every survivor loses the ids it held for
//!   them, one `RTM_DELNSID` each; the dying nets' own tables go without a word.
//! * A listener sees the messages of its own net; a listener with `NETLINK_LISTEN_ALL_NSID`
//!   also those of every net its own net holds an id for at that moment, tagged with that id.
//!
//! While faults are injected ([`Oracle::open_window`]), the notifications of the kinds a fault
//! may cost are owed apart, as *lossy*: a listener that misses one of them is not wrong here,
//! and [`Oracle::receive`] returns it as lost for `lost.rs` to judge against the documented
//! outcome. The ids themselves are removed all the same, so the tables stay exact.

use std::collections::BTreeMap;
use std::fmt;

/// A net of the soak, by the number it was born with; [`HOME`] is the soak's own.
pub type NetNo = u64;
/// The soak's own net (the guest's `init_net`): it never dies and never gets a veth.
pub const HOME: NetNo = 0;
/// A peer the home net held an id for before the soak started: not the soak's, never dies.
pub const FOREIGN: NetNo = u64::MAX;

/// `RTM_NEWNSID` or `RTM_DELNSID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    New,
    Del,
}

/// One notification as a listener receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    pub kind: Kind,
    /// The id the message carries (`NETNSA_NSID`).
    pub id: i32,
    /// For a listener with `NETLINK_LISTEN_ALL_NSID`, a message from another net: the id the
    /// listener's net holds for that net (the control message); `None` for its own net's.
    pub via: Option<i32>,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::New => "NEWNSID",
            Kind::Del => "DELNSID",
        };
        write!(f, "{kind} {}", self.id)?;
        if let Some(via) = self.via {
            write!(f, " (from the net of nsid {via})")?;
        }
        Ok(())
    }
}

/// Why the kernel must refuse an `RTM_NEWNSID` (with `EEXIST`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The holder has this id for the peer already.
    PeerHasId(i32),
    /// The id is the holder's id for this other net.
    IdTaken(NetNo),
}

#[derive(Clone, Debug, Default)]
struct Net {
    /// id -> peer.
    ids: BTreeMap<i32, NetNo>,
    /// The notifications its listener is owed since it was last read, if it has one.
    owed: Option<BTreeMap<Note, u32>>,
    /// Of those, the ones owed while faults were armed that a fault may have cost.
    lossy: BTreeMap<Note, u32>,
}

/// The oracle; see the module documentation.
#[derive(Clone, Debug)]
pub struct Oracle {
    nets: BTreeMap<NetNo, Net>,
    /// Ids removed from survivors so far.
    pub removed: u64,
    /// The kinds of notification faults may cost now (empty: no fault armed).
    lossy_kinds: Vec<Kind>,
}

/// What a listener's read shows against what it is owed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Each difference no fault explains, one line each.
    pub problems: Vec<String>,
    /// Notifications owed while faults were armed and not received, one per missing copy.
    pub lost: Vec<Note>,
}

impl Oracle {
    /// The home net alone, holding `home_ids` for nets that are not the soak's, with the
    /// `NETLINK_LISTEN_ALL_NSID` listener.
    pub fn new(home_ids: &[i32]) -> Self {
        let home = Net {
            ids: home_ids.iter().map(|&id| (id, FOREIGN)).collect(),
            owed: Some(BTreeMap::new()),
            lossy: BTreeMap::new(),
        };
        Oracle {
            nets: BTreeMap::from([(HOME, home)]),
            removed: 0,
            lossy_kinds: Vec::new(),
        }
    }

    /// Faults are armed from now on: notifications of `kinds` may be lost.
    pub fn open_window(&mut self, kinds: &[Kind]) {
        self.lossy_kinds = kinds.to_vec();
    }

    /// Faults are disarmed: every notification is owed exactly again.
    pub fn close_window(&mut self) {
        self.lossy_kinds.clear();
    }

    /// A net is born, with an `RTNLGRP_NSID` listener or without.
    pub fn add(&mut self, n: NetNo, listener: bool) {
        assert!(n != HOME && n != FOREIGN && !self.nets.contains_key(&n));
        self.nets.insert(
            n,
            Net {
                ids: BTreeMap::new(),
                owed: listener.then(BTreeMap::new),
                lossy: BTreeMap::new(),
            },
        );
    }

    pub fn is_live(&self, n: NetNo) -> bool {
        self.nets.contains_key(&n)
    }

    /// The live nets, home first.
    pub fn live(&self) -> impl Iterator<Item = NetNo> + '_ {
        self.nets.keys().copied()
    }

    /// How many live nets the soak made (home excluded).
    pub fn population(&self) -> usize {
        self.nets.len() - 1
    }

    pub fn has_listener(&self, n: NetNo) -> bool {
        self.nets[&n].owed.is_some()
    }

    /// The ids `n` must list, sorted.
    pub fn ids(&self, n: NetNo) -> Vec<i32> {
        self.nets[&n].ids.keys().copied().collect()
    }

    /// How many ids `n` holds.
    pub fn id_count(&self, n: NetNo) -> usize {
        self.nets[&n].ids.len()
    }

    /// The id `holder` has for `peer`, if any.
    pub fn id_for(&self, holder: NetNo, peer: NetNo) -> Option<i32> {
        self.nets[&holder]
            .ids
            .iter()
            .find_map(|(&id, &p)| (p == peer).then_some(id))
    }

    /// The peer `holder`'s id `id` names, if taken.
    pub fn peer_of(&self, holder: NetNo, id: i32) -> Option<NetNo> {
        self.nets[&holder].ids.get(&id).copied()
    }

    /// The id `idr_alloc(.., 0, 0, ..)` would give in `holder`: the lowest free one.
    pub fn lowest_free(&self, holder: NetNo) -> i32 {
        let mut want = 0;
        for &id in self.nets[&holder].ids.keys() {
            if id != want {
                break;
            }
            want += 1;
        }
        want
    }

    /// `RTM_NEWNSID`: `holder` gets `id` for `peer`, or the refusal the kernel must answer.
    pub fn set_id(&mut self, holder: NetNo, peer: NetNo, id: i32) -> Result<(), Refusal> {
        assert!(self.is_live(peer));
        if let Some(had) = self.id_for(holder, peer) {
            return Err(Refusal::PeerHasId(had));
        }
        if let Some(other) = self.peer_of(holder, id) {
            return Err(Refusal::IdTaken(other));
        }
        self.insert(holder, peer, id);
        Ok(())
    }

    fn insert(&mut self, holder: NetNo, peer: NetNo, id: i32) {
        self.nets
            .get_mut(&holder)
            .expect("live")
            .ids
            .insert(id, peer);
        self.notify(holder, Kind::New, id);
    }

    /// A veth made in `a` with its peer in `b`: `a` allocates an id for `b` if it has none,
    /// and returns it. `b` allocates nothing: its end is announced before the two ends are
    /// tied together (`veth_newlink()`), when its link net is still its own.
    pub fn veth(&mut self, a: NetNo, b: NetNo) -> Option<i32> {
        assert!(a != b);
        if self.id_for(a, b).is_some() {
            return None;
        }
        let id = self.lowest_free(a);
        self.insert(a, b, id);
        Some(id)
    }

    /// A message about `id` sent in `net`: to its listener, and to the home listener (with
    /// `NETLINK_LISTEN_ALL_NSID`) if home holds an id for `net`.
    fn notify(&mut self, net: NetNo, kind: Kind, id: i32) {
        let via = if net == HOME {
            None
        } else {
            self.owe(
                net,
                Note {
                    kind,
                    id,
                    via: None,
                },
            );
            // Home hears another net's message only through an id it holds for that net.
            let Some(via) = self.id_for(HOME, net) else {
                return;
            };
            Some(via)
        };
        self.owe(HOME, Note { kind, id, via });
    }

    fn owe(&mut self, net: NetNo, note: Note) {
        let lossy = self.lossy_kinds.contains(&note.kind);
        let net = self.nets.get_mut(&net).expect("live");
        if let Some(owed) = &mut net.owed {
            *owed.entry(note).or_insert(0) += 1;
            if lossy {
                *net.lossy.entry(note).or_insert(0) += 1;
            }
        }
    }

    /// `victims` die together, in one `cleanup_net()`: every survivor loses its ids for them.
    /// Their listeners must have been read ([`Oracle::check`]) and closed. Returns the ids
    /// removed.
    pub fn die(&mut self, victims: &[NetNo]) -> u64 {
        for v in victims {
            assert!(*v != HOME, "home never dies");
            self.nets.remove(v).expect("a victim is live");
        }
        let mut removed = Vec::new();
        for (&s, net) in &mut self.nets {
            net.ids.retain(|&id, peer| {
                let dies = victims.contains(peer);
                if dies {
                    removed.push((s, id));
                }
                !dies
            });
        }
        // Home's own losses count against its listener whatever it holds for the others.
        for &(s, id) in &removed {
            self.notify(s, Kind::Del, id);
        }
        self.removed += removed.len() as u64;
        removed.len() as u64
    }

    /// How many notifications `n`'s listener is owed.
    pub fn owed(&self, n: NetNo) -> u64 {
        self.nets[&n]
            .owed
            .as_ref()
            .map_or(0, |o| o.values().map(|&c| u64::from(c)).sum())
    }

    /// Compares what `n`'s listener received since it was last read with what it is owed, and
    /// starts owing afresh. Each difference is one line; a lost notification is one too.
    pub fn check(&mut self, n: NetNo, seen: &[Note]) -> Vec<String> {
        let r = self.receive(n, seen);
        let mut out = r.problems;
        out.extend(r.lost.iter().map(|note| format!("lost {note}")));
        out
    }

    /// As [`Oracle::check`], but a missing notification that was owed while faults were armed
    /// is returned as lost, not as a problem: whether its loss is the documented outcome
    /// depends on the other listeners and the errors they saw.
    pub fn receive(&mut self, n: NetNo, seen: &[Note]) -> Received {
        let net = self.nets.get_mut(&n).expect("live");
        let want = std::mem::take(net.owed.as_mut().expect("a listener"));
        let lossy = std::mem::take(&mut net.lossy);
        compare(&want, &lossy, seen)
    }
}

/// The differences between the notifications `want` (with their counts) and `seen`; of each
/// missing one, up to its count in `lossy` (owed while faults were armed) is returned as lost
/// rather than as a problem.
pub fn compare(want: &BTreeMap<Note, u32>, lossy: &BTreeMap<Note, u32>, seen: &[Note]) -> Received {
    let mut got: BTreeMap<Note, u32> = BTreeMap::new();
    for note in seen {
        *got.entry(*note).or_insert(0) += 1;
    }
    let mut r = Received::default();
    for (note, &w) in want {
        let g = got.get(note).copied().unwrap_or(0);
        let missing = w.saturating_sub(g);
        let lost = missing.min(lossy.get(note).copied().unwrap_or(0));
        if missing > lost {
            r.problems.push(format!(
                "missing {note} (expected {w}, received {g}{})",
                if lost > 0 {
                    format!(", {lost} of them owed while faults were armed")
                } else {
                    String::new()
                }
            ));
        }
        r.lost.extend(std::iter::repeat_n(*note, lost as usize));
    }
    for (note, &g) in &got {
        let w = want.get(note).copied().unwrap_or(0);
        if g > w {
            r.problems
                .push(format!("extra {note} (expected {w}, received {g})"));
        }
    }
    r
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An `RTM_DELNSID` note: also the notes of `lost.rs`'s tests.
    pub(crate) fn del(id: i32, via: Option<i32>) -> Note {
        Note {
            kind: Kind::Del,
            id,
            via,
        }
    }

    fn new(id: i32, via: Option<i32>) -> Note {
        Note {
            kind: Kind::New,
            id,
            via,
        }
    }

    #[test]
    fn lowest_free_skips_taken_ids() {
        let mut o = Oracle::new(&[]);
        for n in 1..=4 {
            o.add(n, false);
        }
        assert_eq!(o.lowest_free(1), 0);
        o.set_id(1, 2, 0).unwrap();
        o.set_id(1, 3, 2).unwrap();
        assert_eq!(o.lowest_free(1), 1);
        assert_eq!(o.veth(1, 4), Some(1));
        assert_eq!(o.lowest_free(1), 3);
        assert_eq!(
            o.ids(4),
            Vec::<i32>::new(),
            "the peer's side allocates nothing"
        );
        // A second veth the same way allocates nothing; the other way round, it does.
        assert_eq!(o.veth(1, 4), None);
        assert_eq!(o.veth(4, 1), Some(0));
        assert_eq!(o.veth(4, HOME), Some(1));
    }

    #[test]
    fn refusals() {
        let mut o = Oracle::new(&[5]);
        o.add(1, false);
        o.add(2, false);
        o.set_id(HOME, 1, 7).unwrap();
        assert_eq!(o.set_id(HOME, 1, 8), Err(Refusal::PeerHasId(7)));
        assert_eq!(o.set_id(HOME, 2, 5), Err(Refusal::IdTaken(FOREIGN)));
        assert_eq!(o.set_id(HOME, 2, 7), Err(Refusal::IdTaken(1)));
        assert_eq!(o.ids(HOME), [5, 7]);
        // A refusal changes nothing and owes nothing.
        assert_eq!(o.owed(HOME), 1);
    }

    #[test]
    fn a_batch_dies() {
        let mut o = Oracle::new(&[]);
        for n in 1..=4 {
            o.add(n, n != 3);
        }
        o.set_id(1, 2, 10).unwrap();
        o.set_id(1, 3, 11).unwrap();
        o.set_id(2, 3, 12).unwrap(); // between victims: goes silently
        o.set_id(3, 1, 13).unwrap(); // a victim's own table: silently
        o.set_id(4, 4, 14).unwrap(); // a self id of a survivor stays
        o.set_id(HOME, 2, 0).unwrap();
        assert_eq!(
            o.check(1, &[new(10, None), new(11, None)]),
            Vec::<String>::new()
        );
        assert_eq!(o.check(2, &[new(12, None)]), Vec::<String>::new());
        assert_eq!(o.check(4, &[new(14, None)]), Vec::<String>::new());
        assert_eq!(o.check(HOME, &[new(0, None)]), Vec::<String>::new());
        assert_eq!(o.die(&[2, 3]), 3);
        assert_eq!(o.removed, 3);
        assert_eq!(o.ids(1), Vec::<i32>::new());
        assert_eq!(o.ids(4), [14]);
        assert_eq!(o.ids(HOME), Vec::<i32>::new());
        assert!(o.check(1, &[del(11, None), del(10, None)]).is_empty());
        assert!(o.check(4, &[]).is_empty());
        assert!(o.check(HOME, &[del(0, None)]).is_empty());
        assert!(!o.is_live(2) && !o.is_live(3));
    }

    #[test]
    fn listen_all_sees_nets_home_holds_ids_for() {
        let mut o = Oracle::new(&[]);
        for n in 1..=3 {
            o.add(n, true);
        }
        o.set_id(HOME, 1, 4).unwrap();
        o.set_id(1, 2, 0).unwrap(); // home has id 4 for net 1: it sees this
        o.set_id(3, 2, 0).unwrap(); // home has no id for net 3: it does not
        assert!(o.check(HOME, &[new(4, None), new(0, Some(4))]).is_empty());
        o.die(&[2]);
        assert!(o.check(HOME, &[del(0, Some(4))]).is_empty());
        assert!(o.check(3, &[new(0, None), del(0, None)]).is_empty());
        // Net 1 dies: home loses its id 4, and sees that in its own net.
        o.die(&[1]);
        assert!(o.check(HOME, &[del(4, None)]).is_empty());
    }

    #[test]
    fn faults_make_some_notifications_lossy() {
        let mut o = Oracle::new(&[]);
        for n in 1..=3 {
            o.add(n, true);
        }
        o.set_id(1, 2, 0).unwrap();
        o.set_id(1, 3, 1).unwrap();
        o.check(1, &[new(0, None), new(1, None)]);
        o.open_window(&[Kind::Del]);
        o.die(&[2, 3]);
        // A NEWNSID owed in the window is owed exactly: only DELNSIDs are lossy here.
        o.add(4, true);
        o.set_id(1, 4, 7).unwrap();
        o.close_window();
        let r = o.receive(1, &[del(1, None)]);
        assert_eq!(r.problems, ["missing NEWNSID 7 (expected 1, received 0)"]);
        assert_eq!(r.lost, [del(0, None)]);
        // Outside a window nothing is lossy; something extra is a problem either way.
        o.set_id(1, 1, 3).unwrap();
        let r = o.receive(1, &[new(3, None), new(3, None)]);
        assert_eq!(r.problems, ["extra NEWNSID 3 (expected 1, received 2)"]);
        assert!(r.lost.is_empty());
    }

    #[test]
    fn the_oracle_can_fail() {
        let mut o = Oracle::new(&[]);
        o.add(1, true);
        o.add(2, true);
        o.set_id(1, 2, 0).unwrap();
        o.check(1, &[new(0, None)]);
        o.die(&[2]);
        // A listener that missed its DELNSID, and one that got it twice.
        assert_eq!(
            o.clone().check(1, &[]),
            ["missing DELNSID 0 (expected 1, received 0)"]
        );
        assert_eq!(
            o.check(1, &[del(0, None), del(0, None)]),
            ["extra DELNSID 0 (expected 1, received 2)"]
        );
        // A message with the wrong tag is both missing and extra.
        let mut want = BTreeMap::new();
        want.insert(del(3, Some(1)), 1);
        assert_eq!(
            compare(&want, &BTreeMap::new(), &[del(3, Some(2))])
                .problems
                .len(),
            2
        );
    }
}
