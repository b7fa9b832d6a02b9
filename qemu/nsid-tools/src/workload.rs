// SPDX-License-Identifier: GPL-2.0

//! The seeded generator of nsid scenarios.
//!
//! A scenario ([`Plan`]) is a set of namespaces, a directed graph of nsid assignments between
//! them, and an order of deletions in batches, with new namespaces born while a batch dies.
//! The same seed always gives the same plan, on any machine: the generator has its own PRNG.
//!
//! Net 0 is the driver's own namespace (`init_net` in the guest): it holds and is given ids
//! like the others but never dies. Nets `1..=n` exist from the start; the ones born later take
//! the next numbers in the order they are born.

/// splitmix64: small, fast, and fixed forever (a crate's PRNG could change between versions
/// and make old seeds replay differently).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// How a holder gets its id for a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `ip netns set`: an explicit id, set in the holder only.
    Explicit(i32),
    /// A veth pair across the two namespaces: the holder, where it is made, allocates the
    /// lowest free id for the peer when it announces its end (the peer's end is announced
    /// before the two are tied, so the peer allocates nothing; `oracle.rs`).
    Veth,
}

/// One assignment: `holder` gets an id for `peer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub holder: usize,
    pub peer: usize,
    pub link: Link,
}

/// Namespaces released together, so that they die in one `cleanup_net()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The nets released, in this order.
    pub victims: Vec<usize>,
    /// How many nets are born while the batch dies.
    pub born: usize,
    /// Assignments made once the batch is gone (they involve the newborns).
    pub edges_after: Vec<Edge>,
}

/// One scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub seed: u64,
    /// Nets that exist from the start, besides net 0.
    pub n: usize,
    /// Assignments made before the first batch.
    pub edges: Vec<Edge>,
    pub batches: Vec<Batch>,
}

impl Plan {
    /// Nets ever created (net 0 excluded).
    pub fn nets(&self) -> usize {
        self.n + self.batches.iter().map(|b| b.born).sum::<usize>()
    }

    /// Nets released, over all batches.
    pub fn deletions(&self) -> usize {
        self.batches.iter().map(|b| b.victims.len()).sum()
    }
}

/// Explicit ids come from `EXPLICIT_BASE..`: far above what the kernel allocates for veths
/// (the lowest free id, so below the number of nets), so the two never collide.
pub const EXPLICIT_BASE: i32 = 1000;
/// The largest batch.
const MAX_BATCH: usize = 6;
/// The most ids one net is given for others at a time.
const MAX_OUT: usize = 6;

/// The graph being built: which (holder, peer) pairs and which explicit ids are taken.
struct Graph {
    pairs: std::collections::HashSet<(usize, usize)>,
    explicit: std::collections::HashSet<(usize, i32)>,
}

impl Graph {
    fn new() -> Self {
        Graph {
            pairs: Default::default(),
            explicit: Default::default(),
        }
    }

    /// Gives `holder` up to `MAX_OUT` random ids for nets of `pool`, some by veth.
    fn link(
        &mut self,
        rng: &mut Rng,
        holder: usize,
        pool: &[usize],
        idspace: usize,
        out: &mut Vec<Edge>,
    ) {
        for _ in 0..rng.below(MAX_OUT + 1) {
            let peer = pool[rng.below(pool.len())];
            // Net 0 never dies, so an id it held for itself would outlive the scenario.
            if self.pairs.contains(&(holder, peer)) || (holder, peer) == (0, 0) {
                continue;
            }
            // A veth needs the pair free both ways; a net never gets a veth to itself.
            if peer != holder && !self.pairs.contains(&(peer, holder)) && rng.chance(40) {
                self.pairs.insert((holder, peer));
                self.pairs.insert((peer, holder));
                out.push(Edge {
                    holder,
                    peer,
                    link: Link::Veth,
                });
                continue;
            }
            let id = loop {
                let id = EXPLICIT_BASE + rng.below(idspace) as i32;
                if self.explicit.insert((holder, id)) {
                    break id;
                }
            };
            self.pairs.insert((holder, peer));
            out.push(Edge {
                holder,
                peer,
                link: Link::Explicit(id),
            });
        }
    }
}

/// The scenario of `seed` with `n` nets besides net 0 (`n` >= 1).
pub fn generate(seed: u64, n: usize) -> Plan {
    assert!(n >= 1);
    let mut rng = Rng::new(seed);
    let mut graph = Graph::new();
    // Room for every id a net could be given, several times over.
    let idspace = 8 * (n + 8);
    let mut live: Vec<usize> = (0..=n).collect();
    let mut edges = Vec::new();
    for holder in 0..=n {
        graph.link(&mut rng, holder, &live, idspace, &mut edges);
    }
    let mut next = n + 1;
    let mut batches = Vec::new();
    // The number of nets born in all, bounded so that the scenario ends.
    let mut births_left = n / 2 + 1;
    while live.len() > 1 {
        let dying = live.len() - 1;
        let size = 1 + rng.below(dying.min(MAX_BATCH));
        let mut victims = Vec::with_capacity(size);
        for _ in 0..size {
            // Never net 0, which sits at live[0].
            let at = 1 + rng.below(live.len() - 1);
            victims.push(live.remove(at));
        }
        let born = if births_left > 0 {
            rng.below(3).min(births_left)
        } else {
            0
        };
        births_left -= born;
        let newborns: Vec<usize> = (next..next + born).collect();
        next += born;
        live.extend(&newborns);
        let mut edges_after = Vec::new();
        for &nb in &newborns {
            graph.link(&mut rng, nb, &live, idspace, &mut edges_after);
            // And some of the others get an id for it.
            for _ in 0..rng.below(3) {
                let holder = live[rng.below(live.len())];
                let mut one = Vec::new();
                graph.link(&mut rng, holder, &[nb], idspace, &mut one);
                edges_after.extend(one.into_iter().take(1));
            }
        }
        batches.push(Batch {
            victims,
            born,
            edges_after,
        });
    }
    Plan {
        seed,
        n,
        edges,
        batches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn same_seed_same_plan() {
        assert_eq!(generate(7, 20), generate(7, 20));
        assert_ne!(generate(7, 20), generate(8, 20));
    }

    #[test]
    fn rng_is_fixed() {
        // splitmix64's published first output for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    /// Replays a plan and checks it is valid: every net dies once and only once it exists,
    /// net 0 never dies, pairs and explicit ids are never given twice.
    fn validate(plan: &Plan) {
        let mut live: HashSet<usize> = (0..=plan.n).collect();
        let mut dead = HashSet::new();
        let mut pairs = HashSet::new();
        let mut ids = HashSet::new();
        let mut next = plan.n + 1;
        let mut apply = |live: &HashSet<usize>, e: &Edge| {
            assert!(live.contains(&e.holder) && live.contains(&e.peer), "{e:?}");
            assert!(
                (e.holder, e.peer) != (0, 0),
                "net 0 never dies: no id for itself"
            );
            assert!(pairs.insert((e.holder, e.peer)), "pair twice: {e:?}");
            match e.link {
                Link::Veth => {
                    assert_ne!(e.holder, e.peer);
                    assert!(pairs.insert((e.peer, e.holder)), "veth pair twice: {e:?}");
                }
                Link::Explicit(id) => {
                    assert!(id >= EXPLICIT_BASE);
                    assert!(ids.insert((e.holder, id)), "id twice: {e:?}");
                }
            }
        };
        for e in &plan.edges {
            apply(&live, e);
        }
        for b in &plan.batches {
            assert!(!b.victims.is_empty() && b.victims.len() <= MAX_BATCH);
            for v in &b.victims {
                assert_ne!(*v, 0);
                assert!(live.remove(v), "victim {v} not live");
                assert!(dead.insert(*v));
            }
            for _ in 0..b.born {
                live.insert(next);
                next += 1;
            }
            for e in &b.edges_after {
                apply(&live, e);
            }
        }
        assert_eq!(live, HashSet::from([0]), "every net but 0 dies");
        assert_eq!(dead.len(), plan.nets());
        assert_eq!(plan.deletions(), plan.nets());
    }

    #[test]
    fn plans_are_valid() {
        for seed in 0..200 {
            for n in [1, 2, 3, 10, 50] {
                validate(&generate(seed, n));
            }
        }
        validate(&generate(1, 200));
    }

    #[test]
    fn plans_use_everything() {
        let plan = generate(3, 50);
        assert!(plan.edges.iter().any(|e| e.link == Link::Veth));
        assert!(plan
            .edges
            .iter()
            .any(|e| matches!(e.link, Link::Explicit(_))));
        assert!(
            plan.edges.iter().any(|e| e.holder == e.peer),
            "a net with an id for itself"
        );
        assert!(plan.batches.iter().any(|b| b.victims.len() > 1));
        assert!(plan.batches.iter().any(|b| b.born > 0));
    }
}
