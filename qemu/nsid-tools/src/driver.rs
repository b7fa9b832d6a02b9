// SPDX-License-Identifier: GPL-2.0

//! Runs a [`Plan`] against the live kernel in one rnsid mode and records what every live
//! namespace saw ([`Trace`]).
//!
//! Each batch is made to die in exactly one `cleanup_net()`, its victims in plan order, with
//! rnsid's `hold` knob (see `rust/hold.rs`): sockets closed and flushed, a spare namespace
//! released and held in the hook, the victims released behind it, then the hold let go. The
//! module's `cleanups` counter proves it afterwards (two runs: the spare's and the batch's).

use crate::netns::Home;
use crate::rtnl::{Listener, Rtnl};
use crate::trace::{mask, Phase, Seen, Trace};
use crate::workload::{Edge, Link, Plan};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// rnsid's files.
pub struct Module {
    pub mode: PathBuf,
    pub stats: PathBuf,
    pub hold: PathBuf,
}

impl Default for Module {
    fn default() -> Self {
        Module {
            mode: "/sys/module/rnsid/parameters/mode".into(),
            stats: "/sys/kernel/debug/rnsid/stats".into(),
            hold: "/sys/kernel/debug/rnsid/hold".into(),
        }
    }
}

/// `rnsid/stats`, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The `name: value` lines.
    pub global: BTreeMap<String, i64>,
    /// The table: mode, then column.
    pub modes: BTreeMap<String, BTreeMap<String, u64>>,
    /// The `last: key=value ...` line: the most recent `cleanup_net()`'s step.
    pub last: BTreeMap<String, String>,
}

impl Stats {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut s = Stats::default();
        let mut header: Option<Vec<&str>> = None;
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(": ") {
                if k == "last" {
                    s.last = v
                        .split_whitespace()
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                } else if let Ok(v) = v.trim().parse() {
                    s.global.insert(k.to_string(), v);
                }
                continue;
            }
            let cols: Vec<&str> = line.split_whitespace().collect();
            match &header {
                None if cols.first() == Some(&"mode") => header = Some(cols),
                Some(h) if cols.len() == h.len() => {
                    let mut row = BTreeMap::new();
                    for (name, v) in h.iter().zip(&cols).skip(1) {
                        let v = v
                            .parse()
                            .map_err(|_| format!("bad stats value '{v}' in: {line}"))?;
                        row.insert(name.to_string(), v);
                    }
                    s.modes.insert(cols[0].to_string(), row);
                }
                _ => return Err(format!("unexpected stats line: {line}")),
            }
        }
        if !s.global.contains_key("live_nets") || s.modes.is_empty() {
            return Err("stats without live_nets or the mode table".into());
        }
        Ok(s)
    }

    pub fn live(&self) -> i64 {
        self.global["live_nets"]
    }

    pub fn get(&self, key: &str) -> i64 {
        self.global.get(key).copied().unwrap_or(0)
    }

    pub fn of(&self, mode: &str, col: &str) -> u64 {
        self.modes
            .get(mode)
            .and_then(|r| r.get(col))
            .copied()
            .unwrap_or(0)
    }

    /// How much `col` grew since `before`, over every mode (a mode's counter that went down,
    /// as after a reload, counts as no growth).
    pub fn grown_since(&self, before: &Stats, col: &str) -> u64 {
        self.modes
            .keys()
            .map(|m| self.of(m, col).saturating_sub(before.of(m, col)))
            .sum()
    }
}

impl Module {
    pub fn set_mode(&self, mode: &str) -> io::Result<()> {
        fs::write(&self.mode, mode)
    }

    pub fn stats(&self) -> Result<Stats, String> {
        let text = fs::read_to_string(&self.stats).map_err(|e| {
            format!(
                "cannot read {}: {e} (is rnsid loaded?)",
                self.stats.display()
            )
        })?;
        Stats::parse(&text)
    }

    /// Writes a command (`flush`, `arm`, `release`) to `rnsid/hold`.
    pub fn hold(&self, cmd: &str) -> Result<(), String> {
        fs::write(&self.hold, cmd).map_err(|e| format!("{} <- {cmd}: {e}", self.hold.display()))
    }

    /// Whether a `cleanup_net()` waits in the hook.
    pub fn held(&self) -> Result<bool, String> {
        let s =
            fs::read_to_string(&self.hold).map_err(|e| format!("{}: {e}", self.hold.display()))?;
        Ok(s.trim() == "holding")
    }

    /// Arms `rnsid/hold` and lets a spare net (made in `home`) die, returning once its
    /// `cleanup_net()` waits in the hook: nets released from now on queue up behind it and die
    /// together in the next run, when `release` lets it go. Disarms again on failure.
    pub fn hold_behind_spare(&self, home: &Home) -> Result<(), String> {
        self.hold("arm")?;
        let spare = home
            .create()
            .map_err(|e| format!("cannot create the spare net: {e}"))?;
        drop(spare);
        wait(
            Duration::from_secs(20),
            "the spare net's cleanup_net() to be held",
            || self.held(),
        )
        .inspect_err(|_| {
            let _ = self.hold("release");
        })
    }
}

/// Polls `f` every few milliseconds until it says yes, for at most `limit`.
pub fn wait(
    limit: Duration,
    what: &str,
    mut f: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let start = Instant::now();
    while !f()? {
        if start.elapsed() > limit {
            return Err(format!(
                "timed out after {} s waiting for {what}",
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// One namespace of the scenario, with its two sockets.
struct Net {
    fd: OwnedFd,
    listener: Listener,
    rtnl: Rtnl,
}

/// What a run of one plan in one mode gave.
#[derive(Debug, Default)]
pub struct Run {
    pub trace: Trace,
    /// Namespaces still alive after the run that should not be.
    pub leaked: i64,
    /// The mode's counters over the run: `stats` after minus before.
    pub counters: BTreeMap<String, u64>,
    /// Things wrong with the run on its own, whatever the reference says.
    pub problems: Vec<String>,
    /// Where the run's time went: making nets, linking them, each batch's death, reading what
    /// every net saw.
    pub spent: BTreeMap<&'static str, Duration>,
}

struct Driver<'a> {
    home: &'a Home,
    module: &'a Module,
    nets: BTreeMap<usize, Net>,
    /// `live_nets` with only net 0 of the scenario alive.
    base: i64,
    spent: BTreeMap<&'static str, Duration>,
}

impl Driver<'_> {
    fn spend(&mut self, what: &'static str, since: Instant) {
        *self.spent.entry(what).or_default() += since.elapsed();
    }

    fn add(&mut self, number: usize) -> Result<(), String> {
        let fd = self
            .home
            .create()
            .map_err(|e| format!("cannot create net {number}: {e}"))?;
        let (listener, rtnl) = self
            .home
            .within(fd.as_fd(), || Ok((Listener::open()?, Rtnl::open()?)))
            .map_err(|e| format!("net {number}: {e}"))?;
        self.nets.insert(number, Net { fd, listener, rtnl });
        Ok(())
    }

    fn link(&mut self, e: &Edge) -> Result<(), String> {
        let peer = self.nets[&e.peer]
            .fd
            .try_clone()
            .map_err(|e| e.to_string())?;
        let holder = self.nets.get_mut(&e.holder).expect("plan names a live net");
        match e.link {
            Link::Explicit(id) => holder.rtnl.set_nsid(peer.as_fd(), id),
            Link::Veth => holder.rtnl.veth(
                &format!("v{}", e.peer),
                peer.as_fd(),
                &format!("v{}", e.holder),
            ),
        }
        .map_err(|err| format!("net {} -> net {}: {err}", e.holder, e.peer))
    }

    fn observe(&mut self, name: String) -> Result<Phase, String> {
        let mut nets = BTreeMap::new();
        for (&n, net) in &mut self.nets {
            let messages = net.listener.drain().map_err(|e| format!("net {n}: {e}"))?;
            let ids = net.rtnl.list_ids().map_err(|e| format!("net {n}: {e}"))?;
            nets.insert(
                n,
                Seen {
                    messages: messages.iter().map(|m| mask(m)).collect(),
                    ids,
                },
            );
        }
        Ok(Phase { name, nets })
    }

    /// The ids net 0 holds; a run must leave them as it found them.
    fn home_ids(&mut self) -> Result<Vec<i32>, String> {
        let net0 = self.nets.get_mut(&0).expect("net 0 never dies");
        net0.rtnl.list_ids().map_err(|e| format!("net 0: {e}"))
    }

    fn settled(&self) -> Result<(), String> {
        let want = self.base + self.nets.len() as i64 - 1;
        wait(
            Duration::from_secs(120),
            &format!("{want} live nets"),
            || Ok(self.module.stats()?.live() == want),
        )
    }

    /// Releases `victims` so that they die together, in one `cleanup_net()`, in this order;
    /// `born` nets are created while they die.
    fn release(
        &mut self,
        mode: &str,
        victims: &[usize],
        born: std::ops::Range<usize>,
    ) -> Result<u64, String> {
        let mut fds = Vec::new();
        for v in victims {
            // Dropping the sockets now: they hold references on their namespace and netlink
            // drops them only after an RCU grace period, which `flush` waits for.
            let net = self.nets.remove(v).expect("victim is live");
            fds.push(net.fd);
        }
        let t = Instant::now();
        self.module.hold("flush")?;
        self.spend("flush", t);
        let before = self.module.stats()?.of(mode, "cleanups");
        let t = Instant::now();
        self.module.hold_behind_spare(self.home)?;
        self.spend("spare", t);
        drop(fds);
        self.module.hold("release")?;
        let t = Instant::now();
        for n in born {
            self.add(n)?;
        }
        self.spend("create", t);
        let t = Instant::now();
        self.settled()?;
        self.spend("settle", t);
        Ok(self.module.stats()?.of(mode, "cleanups") - before)
    }
}

/// Runs `plan` in `mode` (already a mode the module accepts).
pub fn run(plan: &Plan, module: &Module, home: &Home, mode: &str) -> Result<Run, String> {
    module
        .set_mode(mode)
        .map_err(|e| format!("cannot set mode={mode}: {e}"))?;
    let start = module.stats()?;
    let net0 = Net {
        fd: home.fd().try_clone_to_owned().map_err(|e| e.to_string())?,
        listener: Listener::open().map_err(|e| e.to_string())?,
        rtnl: Rtnl::open().map_err(|e| e.to_string())?,
    };
    let mut d = Driver {
        home,
        module,
        nets: BTreeMap::from([(0, net0)]),
        base: start.live(),
        spent: BTreeMap::new(),
    };
    let mut run = Run::default();
    // Whatever net 0 had queued before the run is not part of it.
    d.nets[&0].listener.drain().map_err(|e| e.to_string())?;
    let home_ids = d.home_ids()?;
    let t = Instant::now();
    for n in 1..=plan.n {
        d.add(n)?;
    }
    d.spend("create", t);
    let t = Instant::now();
    for e in &plan.edges {
        d.link(e)?;
    }
    d.spend("link", t);
    let t = Instant::now();
    run.trace.phases.push(d.observe("set-up".into())?);
    d.spend("observe", t);
    let mut next = plan.n + 1;
    for (k, b) in plan.batches.iter().enumerate() {
        let cleanups = d.release(mode, &b.victims, next..next + b.born)?;
        next += b.born;
        if cleanups != 2 {
            run.problems.push(format!(
                "batch {}: {} cleanup_net() runs for the spare net and the batch, not 2: the batch did not die together",
                k + 1,
                cleanups
            ));
        }
        let victims: Vec<String> = b.victims.iter().map(|v| v.to_string()).collect();
        let t = Instant::now();
        run.trace.phases.push(d.observe(format!(
            "batch {} (nets {} die)",
            k + 1,
            victims.join(" ")
        ))?);
        d.spend("observe", t);
        if !b.edges_after.is_empty() {
            let t = Instant::now();
            for e in &b.edges_after {
                d.link(e)?;
            }
            d.spend("link", t);
            let t = Instant::now();
            run.trace
                .phases
                .push(d.observe(format!("links after batch {}", k + 1))?);
            d.spend("observe", t);
        }
    }
    run.spent = std::mem::take(&mut d.spent);
    let home_after = d.home_ids()?;
    if home_after != home_ids {
        run.problems.push(format!(
            "net 0 held ids {home_ids:?} before the run and {home_after:?} after"
        ));
    }
    let end = module.stats()?;
    run.leaked = end.live() - start.live();
    for (col, &v) in end.modes.get(mode).into_iter().flatten() {
        run.counters.insert(col.clone(), v - start.of(mode, col));
    }
    for key in [
        "postcondition_failures",
        "unchecked_batches",
        "hold_timeouts",
    ] {
        let delta = end.get(key) - start.get(key);
        if delta != 0 {
            run.problems
                .push(format!("rnsid/stats {key} grew by {delta}"));
        }
    }
    if run.leaked != 0 {
        run.problems.push(format!(
            "{} net(s) leaked: live_nets did not return to {}",
            run.leaked,
            start.live()
        ));
    }
    let c = |k: &str| run.counters.get(k).copied().unwrap_or(0);
    let deaths = (plan.deletions() + plan.batches.len()) as u64;
    if c("nets") != deaths {
        run.problems.push(format!(
            "the hook saw {} dying nets, the plan released {deaths} (spares included)",
            c("nets")
        ));
    }
    for k in ["shadow_mismatches", "notify_failed"] {
        if c(k) != 0 {
            run.problems
                .push(format!("rnsid/stats {mode} {k} = {}", c(k)));
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "mode: c
live_nets: 3
postcondition_failures: 0
unchecked_batches: 0
held: 2
hold_timeouts: 0
last: mode=relocated nets=2 survivors=6 examined=14 ids_removed=3 notified=3 ns=1234
mode       cleanups     nets  survivors     examined ids_removed  notified notify_failed shadow_mismatches shadow_checked    unhash_ns      rtnl_ns
c                 4        5          0            0           0         0             0                 0              0          987            0
relocated         1        2          6           14           3         3             0                 0              0         1234            0
";

    #[test]
    fn parses_stats() {
        let s = Stats::parse(STATS).unwrap();
        assert_eq!(s.live(), 3);
        assert_eq!(s.get("held"), 2);
        assert_eq!(s.of("relocated", "notified"), 3);
        assert_eq!(s.of("c", "cleanups"), 4);
        assert_eq!(s.of("batched", "cleanups"), 0);
        assert_eq!(s.last["survivors"], "6");
        assert_eq!(s.last["mode"], "relocated");
        assert!(
            Stats::parse(&STATS.replace("last: mode", "last: bogus mode"))
                .unwrap()
                .last
                .contains_key("ns")
        );
    }

    #[test]
    fn growth_over_every_mode() {
        let before = Stats::parse(STATS).unwrap();
        let after = Stats::parse(
            &STATS
                .replace(
                    "c                 4        5",
                    "c                 6        5",
                )
                .replace(
                    "relocated         1        2",
                    "relocated         0        4",
                ),
        )
        .unwrap();
        // c's cleanups +2; relocated's went down (a reload), which is no growth.
        assert_eq!(after.grown_since(&before, "cleanups"), 2);
        assert_eq!(after.grown_since(&before, "nets"), 2);
        assert_eq!(before.grown_since(&before, "notified"), 0);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Stats::parse("").is_err());
        assert!(Stats::parse(&STATS.replace("1234", "x")).is_err());
        assert!(Stats::parse(&format!("{STATS}c 1 2\n")).is_err());
    }
}
