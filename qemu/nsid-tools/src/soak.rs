// SPDX-License-Identifier: GPL-2.0

//! `nsid-soak`'s churn against the live kernel, judged by the [`Oracle`].
//!
//! One loop, every choice drawn from one seeded [`Rng`] and from the oracle's state (never
//! from what the kernel answered), so that a seed replays the same requests in the same order:
//!
//! 1. nets are born (some with an `RTNLGRP_NSID` listener) and given ids: explicit ones
//!    (`RTM_NEWNSID`, now and then one the kernel must refuse) and allocated ones (veths across
//!    nets); the home net's listener has `NETLINK_LISTEN_ALL_NSID`, and what home holds changes
//!    only while no batch dies;
//! 2. a batch of nets is released to die in one `cleanup_net()` behind a held spare (the hold
//!    protocol of [`Module::hold_behind_spare`]); while it dies, nets are born and linked;
//!    now and then the mode is switched (before the batch is held, while it waits, or while
//!    it runs), and now and then the module is unloaded instead of releasing the hold, and
//!    loaded again (in a random mode) while the batch dies;
//! 3. once `live_nets` is back to the baseline plus the soak's nets, a checkpoint: every live
//!    net lists exactly the ids the oracle says, every listener received exactly the
//!    notifications it is owed, the module's counts agree (the batch died in one run, its
//!    step removed and notified what the oracle removed) and no problem counter grew.
//!
//! With `faults`, some batches die with faults injected into their nsid step ([`faults`]):
//! failslab aimed at the step's code, or rnsid's `fail_notify`, armed before the release and
//! disarmed, and counted, at the checkpoint. What the faults cost must be the documented
//! outcome ([`lost`]): the ids removed all the same, a lost notification only with the error
//! on the listener's next receive, at most one message per fault, rnsid's `notify_failed` and
//! `unchecked_batches` grown by at most the faults injected.
//!
//! The first checkpoint with a problem ends the churn (what follows would be noise): the nets
//! left are released and the problems reported with the seed to replay.

use crate::allnsid::{self, AllListener};
use crate::driver::{wait, Module, Stats};
use crate::faults::{self, Failslab, Target};
use crate::json::Json;
use crate::kmod;
use crate::lost::{self, Read};
use crate::netns::Home;
use crate::oracle::{NetNo, Oracle, Refusal, HOME};
use crate::rtnl::{Listener, Rtnl};
use crate::workload::Rng;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the soak is asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Nets to create in all; with `duration`, create until then.
    pub nets: u64,
    pub duration: Option<Duration>,
    /// The modes to switch through (the module must accept each).
    pub modes: Vec<String>,
    /// The module, for reloads; `None`: never unloaded.
    pub ko: Option<PathBuf>,
    /// Nets alive at most at once (besides home).
    pub population: usize,
    /// How often to print a progress line.
    pub progress: Duration,
    /// Print every request and batch as it is made (`# trace:` lines), to see where a replay
    /// goes wrong.
    pub trace: bool,
    /// Percent of batches (0 to 100) that die with faults injected into their nsid step.
    pub faults: u32,
}

/// The figures of a run.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub created: u64,
    pub destroyed: u64,
    pub batches: u64,
    pub checkpoints: u64,
    pub explicit_ids: u64,
    pub allocated_ids: u64,
    pub refusals: u64,
    pub veths: u64,
    pub ids_removed: u64,
    pub notifications: u64,
    pub list_checks: u64,
    pub spot_checks: u64,
    pub mode_switches: u64,
    pub reloads: u64,
    pub born_while_dying: u64,
    pub largest_batch: u64,
    /// Batches whose step ran in each mode (from the module's `last:` line).
    pub steps: BTreeMap<String, u64>,
    /// Batches that died with faults armed.
    pub fault_batches: u64,
    /// Faults injected in all, and by what and the mode of the step (`failslab@... relocated`).
    pub faults_injected: u64,
    pub faults_by: BTreeMap<String, u64>,
    /// What the faults cost: distinct notifications lost, copies lost over the listeners,
    /// listener receive errors, batches left unchecked (a failed shadow record), Rust
    /// notifications that failed.
    pub messages_lost: u64,
    pub copies_lost: u64,
    /// Listener errors by errno (`ENOMEM`, `ENOBUFS`): whether both outcomes occurred.
    pub listener_errors_by: BTreeMap<String, u64>,
    pub unchecked_by_faults: u64,
    pub notify_failed_by_faults: u64,
    pub problems: Vec<String>,
    pub seconds: f64,
    /// Where the time went: creating nets, setting ids, the hold protocol and release, waiting
    /// for batches to die, checkpoints' checks, reloads.
    pub spent: BTreeMap<&'static str, Duration>,
}

impl Figures {
    pub fn json(&self) -> Json {
        let seconds_in: BTreeMap<&str, f64> = self
            .spent
            .iter()
            .map(|(&k, d)| (k, (d.as_secs_f64() * 10.0).round() / 10.0))
            .collect();
        Json::obj()
            .with("nets_created", self.created)
            .with("nets_destroyed", self.destroyed)
            .with("batches", self.batches)
            .with("checkpoints", self.checkpoints)
            .with("explicit_ids", self.explicit_ids)
            .with("allocated_ids", self.allocated_ids)
            .with("refusals", self.refusals)
            .with("veths", self.veths)
            .with("ids_removed", self.ids_removed)
            .with("notifications_checked", self.notifications)
            .with("list_checks", self.list_checks)
            .with("spot_checks", self.spot_checks)
            .with("mode_switches", self.mode_switches)
            .with("reloads", self.reloads)
            .with("born_while_dying", self.born_while_dying)
            .with("largest_batch", self.largest_batch)
            .with("steps_by_mode", &self.steps)
            .with("fault_batches", self.fault_batches)
            .with("faults_injected", self.faults_injected)
            .with("faults_by", &self.faults_by)
            .with("notifications_lost", self.messages_lost)
            .with("copies_lost", self.copies_lost)
            .with(
                "listener_errors",
                self.listener_errors_by.values().sum::<u64>(),
            )
            .with("listener_errors_by", &self.listener_errors_by)
            .with("unchecked_by_faults", self.unchecked_by_faults)
            .with("notify_failed_by_faults", self.notify_failed_by_faults)
            .with("problems", self.problems.len())
            .with("seconds", self.seconds)
            .with("seconds_in", &seconds_in)
    }

    fn spend(&mut self, what: &'static str, since: Instant) {
        *self.spent.entry(what).or_default() += since.elapsed();
    }
}

/// The modes whose step Rust does, and counts (`last:` line).
const RUST_MODES: [&str; 4] = ["relocated", "legacy", "batched", "floor"];
/// The problem counters of `rnsid/stats` (`rust/stats.rs`).
const GLOBAL_PROBLEMS: [&str; 3] = [
    "postcondition_failures",
    "unchecked_batches",
    "hold_timeouts",
];
const MODE_PROBLEMS: [&str; 2] = ["notify_failed", "shadow_mismatches"];
/// The largest ordinary batch; one in twenty is up to half the population.
const MAX_BATCH: usize = 12;

/// The faults armed for the batch now dying.
struct Window {
    target: Target,
    /// What `times` or `fail_notify` was armed with.
    armed: u32,
    /// The mode when they were armed, and whether it was switched since.
    mode: String,
    switched: bool,
}

/// A live net of the soak and its sockets (they hold references on it).
struct Live {
    fd: OwnedFd,
    rtnl: Rtnl,
    listener: Option<Listener>,
}

/// Where the current batch stands, for the mode switches and reloads drawn for it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Moment {
    BeforeHold,
    Held,
    Released,
}

struct Soak<'a> {
    cfg: &'a Config,
    rng: Rng,
    oracle: Oracle,
    home: &'a Home,
    module: Module,
    home_rtnl: Rtnl,
    all: AllListener,
    nets: BTreeMap<NetNo, Live>,
    next: NetNo,
    /// `live_nets` minus the soak's nets: home and whatever else the guest has.
    base: i64,
    /// The problem counters at the last look, in the module loaded now.
    seen_problems: BTreeMap<String, i64>,
    /// The modes yet to visit in this round, and the mode now.
    deck: Vec<String>,
    mode: String,
    veth: u64,
    /// The batch that reloads rnsid for sure (one of the first three), so that a short run
    /// has one too.
    first_reload: u64,
    /// failslab, aimed and disarmed, if faults are wanted and the kernel can aim it.
    failslab: Option<Failslab>,
    /// The faults armed for the batch now dying.
    window: Option<Window>,
    /// At a checkpoint after faults, the listeners' reads, for [`lost::judge`].
    reads: Option<Vec<Read>>,
    f: Figures,
    start: Instant,
    last_progress: Instant,
}

fn err(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

impl<'a> Soak<'a> {
    fn trace(&self, what: impl FnOnce() -> String) {
        if self.cfg.trace {
            println!("# trace: {}", what());
        }
    }

    fn done_creating(&self) -> bool {
        match self.cfg.duration {
            Some(d) => self.start.elapsed() >= d,
            None => self.f.created >= self.cfg.nets,
        }
    }

    fn progress(&mut self, force: bool) {
        if !force && self.last_progress.elapsed() < self.cfg.progress {
            return;
        }
        self.last_progress = Instant::now();
        let goal = match self.cfg.duration {
            Some(d) => format!("{}s of {}s", self.start.elapsed().as_secs(), d.as_secs()),
            None => format!("{}/{}", self.f.created, self.cfg.nets),
        };
        println!(
            "# soak: {goal}: {} nets created, {} destroyed, {} live, {} batches, {} ids removed, {} notifications checked, {} mode switches, {} reloads, {} faults injected, mode {}, {}s",
            self.f.created,
            self.f.destroyed,
            self.oracle.population(),
            self.f.batches,
            self.f.ids_removed,
            self.f.notifications,
            self.f.mode_switches,
            self.f.reloads,
            self.f.faults_injected,
            self.mode,
            self.start.elapsed().as_secs()
        );
    }

    // --- requests, each through the oracle and the kernel -----------------------------------

    fn birth(&mut self) -> Result<NetNo, String> {
        let t = Instant::now();
        let n = self.next;
        self.next += 1;
        let listener = self.rng.chance(50);
        let fd = self
            .home
            .create()
            .map_err(err(format!("cannot create net {n}")))?;
        let (rtnl, listener) = self
            .home
            .within(fd.as_fd(), || {
                let l = if listener {
                    Some(Listener::open()?)
                } else {
                    None
                };
                Ok((Rtnl::open()?, l))
            })
            .map_err(err(format!("net {n}")))?;
        self.oracle.add(n, listener.is_some());
        self.trace(|| format!("born net {n}"));
        self.nets.insert(n, Live { fd, rtnl, listener });
        self.f.created += 1;
        self.f.spend("create", t);
        Ok(n)
    }

    fn rtnl(&mut self, n: NetNo) -> &mut Rtnl {
        if n == HOME {
            &mut self.home_rtnl
        } else {
            &mut self.nets.get_mut(&n).expect("live").rtnl
        }
    }

    fn fd(&self, n: NetNo) -> Result<OwnedFd, String> {
        let fd = if n == HOME {
            self.home.fd().try_clone_to_owned()
        } else {
            self.nets[&n].fd.try_clone()
        };
        fd.map_err(err("dup"))
    }

    /// A random live net, home included or not.
    fn pick(&mut self, home: bool) -> Option<NetNo> {
        let live: Vec<NetNo> = self.oracle.live().filter(|&n| home || n != HOME).collect();
        (!live.is_empty()).then(|| live[self.rng.below(live.len())])
    }

    /// An explicit id for `holder`: free, or (a probe) taken, as drawn.
    fn draw_id(&mut self, holder: NetNo, free: bool) -> Option<i32> {
        for _ in 0..16 {
            let id = match self.rng.below(10) {
                // Among the ids veths allocate, so that allocation has to step over them.
                0..=3 => self.rng.below(16) as i32,
                4..=7 => self.rng.below(1000) as i32,
                _ => (1 << 20) + self.rng.below(1 << 30) as i32,
            };
            if self.oracle.peer_of(holder, id).is_none() == free {
                return Some(id);
            }
        }
        None
    }

    /// `RTM_NEWNSID`: `holder` gets an explicit id for `peer`; one in twenty is a request the
    /// kernel must refuse.
    fn explicit(&mut self, holder: NetNo, peer: NetNo) -> Result<(), String> {
        if holder == HOME && peer == HOME {
            return Ok(());
        }
        let probe = self.rng.chance(5);
        let id = match (probe, self.oracle.id_for(holder, peer)) {
            // A probe: a pair that has an id, or an id that is taken.
            (true, Some(_)) => self.draw_id(holder, true).unwrap_or(0),
            (true, None) => match self.draw_id(holder, false) {
                Some(id) => id,
                None => return Ok(()),
            },
            (false, Some(_)) => return Ok(()),
            (false, None) => match self.draw_id(holder, true) {
                Some(id) => id,
                None => return Ok(()),
            },
        };
        let want = self.oracle.set_id(holder, peer, id);
        self.trace(|| format!("net {holder} <- id {id} for net {peer}: {want:?}"));
        let peer_fd = self.fd(peer)?;
        let t = Instant::now();
        let got = self.rtnl(holder).set_nsid(peer_fd.as_fd(), id);
        self.f.spend("ids", t);
        match (want, got) {
            (Ok(()), Ok(())) => self.f.explicit_ids += 1,
            (Err(_), Err(e)) if e.kind() == io::ErrorKind::AlreadyExists => self.f.refusals += 1,
            (want, got) => {
                let want = match want {
                    Ok(()) => "success".to_string(),
                    Err(Refusal::PeerHasId(had)) => format!("EEXIST (it has id {had} for it)"),
                    Err(Refusal::IdTaken(other)) => format!("EEXIST (id taken by net {other})"),
                };
                let got = got.map_or_else(|e| e.to_string(), |()| "success".into());
                return Err(format!(
                    "net {holder} -> net {peer} id {id}: expected {want}, the kernel answered {got}"
                ));
            }
        }
        Ok(())
    }

    /// A veth made in `a` with its peer in `b`: `a` allocates an id for `b` if it has none.
    /// Home takes part only while no batch dies.
    fn veth(&mut self, a: NetNo, b: NetNo) -> Result<(), String> {
        if a == b {
            return Ok(());
        }
        self.veth += 1;
        let k = self.veth;
        let peer = self.fd(b)?;
        let t = Instant::now();
        self.rtnl(a)
            .veth(&format!("s{k}"), peer.as_fd(), &format!("t{k}"))
            .map_err(|e| format!("net {a} -> net {b}: {e}"))?;
        self.f.spend("ids", t);
        self.f.veths += 1;
        let got = self.oracle.veth(a, b);
        self.trace(|| format!("veth s{k} in net {a}, t{k} in net {b}: net {a} allocates {got:?}"));
        if got.is_some() {
            self.f.allocated_ids += 1;
        }
        Ok(())
    }

    /// Some ids for and from `n`, a newborn or any net; `quiet`: no batch is dying. While one
    /// dies, only `n` (born meanwhile) holds the new ids: a survivor may not have lost its ids
    /// for the batch yet, so which id it would allocate, or refuse, depends on timing; and home
    /// stays out, since what it holds decides what its listener sees of the others.
    fn link(&mut self, n: NetNo, quiet: bool) -> Result<(), String> {
        for _ in 0..self.rng.below(4) {
            let Some(other) = self.pick(quiet) else {
                break;
            };
            let (holder, peer) = if quiet && self.rng.chance(50) {
                (other, n)
            } else {
                (n, other)
            };
            if self.rng.chance(40) {
                self.veth(holder, peer)?;
            } else {
                let peer = if self.rng.chance(5) { holder } else { peer };
                self.explicit(holder, peer)?;
            }
        }
        Ok(())
    }

    // --- the module ---------------------------------------------------------------------------

    fn switch_mode(&mut self) -> Result<(), String> {
        if self.deck.is_empty() {
            self.deck = self.cfg.modes.clone();
        }
        let mode = self.deck.remove(self.rng.below(self.deck.len()));
        self.module
            .set_mode(&mode)
            .map_err(err(format!("cannot set mode={mode}")))?;
        if mode != self.mode {
            self.f.mode_switches += 1;
            if let Some(w) = &mut self.window {
                w.switched = true;
            }
        }
        self.mode = mode;
        Ok(())
    }

    fn stats(&self) -> Result<Stats, String> {
        self.module.stats()
    }

    /// Whether a problem counter grew since the last look in this load. `unchecked_batches`
    /// and `notify_failed` may grow by `faults` together: what injected faults cost.
    fn counters(&mut self, s: &Stats, when: &str, faults: u64) {
        let mut now = BTreeMap::new();
        for k in GLOBAL_PROBLEMS {
            now.insert(k.to_string(), s.get(k));
        }
        for k in MODE_PROBLEMS {
            for (mode, row) in &s.modes {
                let v = row.get(k).copied().unwrap_or(0) as i64;
                now.insert(format!("{mode} {k}"), v);
            }
        }
        let mut grew = Vec::new();
        let mut by_faults = 0;
        for (k, &v) in &now {
            let was = self.seen_problems.get(k).copied().unwrap_or(0);
            if v > was {
                let costs_a_fault = k == "unchecked_batches" || k.ends_with(" notify_failed");
                if costs_a_fault {
                    by_faults += (v - was) as u64;
                }
                grew.push((k, was, v, costs_a_fault));
            }
        }
        for (k, was, v, costs_a_fault) in grew {
            if !costs_a_fault || by_faults > faults {
                let beyond = if costs_a_fault && faults > 0 {
                    format!(" (with {by_faults} such, beyond the {faults} faults injected)")
                } else {
                    String::new()
                };
                self.f.problems.push(format!(
                    "{when}: rnsid/stats {k} grew from {was} to {v}{beyond}"
                ));
            }
        }
        self.seen_problems = now;
    }

    /// Unloads rnsid (releasing a held run), lets nets be born without it, loads it again in
    /// a random mode: all while the batch dies.
    fn reload(&mut self, ko: &Path) -> Result<(), String> {
        let t = Instant::now();
        let s = self.stats()?;
        self.counters(&s, &format!("before reload {}", self.f.reloads + 1), 0);
        kmod::unload("rnsid", Duration::from_secs(60))
            .map_err(err("delete_module(rnsid) while a batch dies"))?;
        for _ in 0..self.rng.below(3) {
            if self.done_creating() {
                break;
            }
            let n = self.birth()?;
            self.f.born_while_dying += 1;
            self.link(n, false)?;
        }
        let mode = self.cfg.modes[self.rng.below(self.cfg.modes.len())].clone();
        kmod::load(ko, &format!("mode={mode}"))
            .map_err(err(format!("finit_module({}, mode={mode})", ko.display())))?;
        self.f.reloads += 1;
        if mode != self.mode {
            self.f.mode_switches += 1;
        }
        self.mode = mode;
        // A fresh module counts from zero.
        self.seen_problems.clear();
        self.f.spend("reload", t);
        Ok(())
    }

    // --- batches and checkpoints ------------------------------------------------------------

    /// Reads a net's listener (before it dies, or at a checkpoint) and checks it. After a
    /// fault window, what it lost and the errors it saw are kept for [`lost::judge`].
    fn check_listener(&mut self, n: NetNo) -> Result<(), String> {
        let received = if n == HOME {
            self.all.drain_noting_errors()
        } else {
            match &self.nets[&n].listener {
                Some(l) => l
                    .drain_noting_errors()
                    .map(|(m, e)| (m.into_iter().map(|m| (m, None)).collect(), e)),
                None => return Ok(()),
            }
        };
        let (received, errors) = match received {
            Ok(r) => r,
            Err(e) => {
                self.f.problems.push(format!("net {n}'s listener: {e}"));
                return Ok(());
            }
        };
        let mut notes = Vec::new();
        for (m, via) in &received {
            match allnsid::note(m, *via) {
                Ok(note) => notes.push(note),
                Err(e) => self.f.problems.push(format!("net {n}'s listener: {e}")),
            }
        }
        self.f.notifications += notes.len() as u64;
        let which = if n == HOME {
            "home's NETLINK_LISTEN_ALL_NSID listener".to_string()
        } else {
            format!("net {n}'s listener")
        };
        let r = self.oracle.receive(n, &notes);
        for d in r.problems {
            self.f.problems.push(format!("{which}: {d}"));
        }
        match &mut self.reads {
            Some(reads) => reads.push(Read {
                net: n,
                errors,
                lost: r.lost,
            }),
            None => {
                // No fault was armed since this listener was last read: nothing may be lost.
                for e in errors {
                    self.f.problems.push(format!(
                        "{which}: a receive failed: {}",
                        io::Error::from_raw_os_error(e)
                    ));
                }
                for note in r.lost {
                    self.f.problems.push(format!("{which}: lost {note}"));
                }
            }
        }
        Ok(())
    }

    /// Arms faults for the batch about to be released: failslab aimed at the step's code in
    /// the mode now (the in-tree step in `c`, rnsid's hook in every other), or one in four
    /// (always, without failslab) rnsid's `fail_notify`; 1 to 3 faults, each allocation in
    /// range failing with probability 100, 50 or 20%.
    fn open_window(&mut self) -> Result<(), String> {
        // Drawn whatever the kernel has, so that a seed makes the same requests anywhere.
        let notify = self.rng.chance(25);
        let times = 1 + self.rng.below(3) as u32;
        // Below 100%, the faults spread past the first allocations in range: the spare's run,
        // which goes first once released, allocates its own record in every mode but c.
        let probability = [100, 50, 20][self.rng.below(3)];
        let target = match &mut self.failslab {
            Some(fs) if !notify => {
                let target = if self.mode == "c" {
                    Target::InTree
                } else {
                    Target::Rnsid
                };
                fs.arm(&faults::aim(target)?, probability, times)?;
                target
            }
            _ => {
                faults::arm_fail_notify(times)?;
                Target::FailNotify
            }
        };
        self.trace(|| format!("faults: {} x{times} at {probability}%", target.name()));
        self.oracle.open_window(target.lossy());
        self.window = Some(Window {
            target,
            armed: times,
            mode: self.mode.clone(),
            switched: false,
        });
        self.f.fault_batches += 1;
        Ok(())
    }

    /// Disarms the faults of the batch just dead; the faults injected.
    fn close_window(&mut self) -> Result<Option<(Window, u64)>, String> {
        let Some(w) = self.window.take() else {
            return Ok(None);
        };
        self.oracle.close_window();
        let injected = match (w.target, &self.failslab) {
            (Target::FailNotify, _) => faults::disarm_fail_notify(w.armed)?,
            (_, Some(fs)) => fs.disarm()?,
            (_, None) => unreachable!("failslab armed without failslab"),
        };
        Ok(Some((w, injected)))
    }

    /// One batch: release, die in one run, checkpoint.
    fn batch(&mut self, last: bool) -> Result<(), String> {
        let population = self.oracle.population();
        if population == 0 {
            return Ok(());
        }
        let size = if last {
            population
        } else if self.rng.chance(5) {
            1 + self.rng.below(population.div_ceil(2))
        } else {
            1 + self.rng.below(population.min(MAX_BATCH))
        };
        let mut pool: Vec<NetNo> = self.oracle.live().filter(|&n| n != HOME).collect();
        let mut victims = Vec::with_capacity(size);
        for _ in 0..size {
            victims.push(pool.remove(self.rng.below(pool.len())));
        }
        let switch_at = match (last, self.rng.below(4)) {
            (true, _) => None,
            (_, 0) => Some(Moment::BeforeHold),
            (_, 1) => Some(Moment::Held),
            (_, 2) => Some(Moment::Released),
            _ => None,
        };
        let reload = match &self.cfg.ko {
            Some(ko)
                if !last && (self.rng.chance(3) || self.f.batches + 1 == self.first_reload) =>
            {
                Some(ko.clone())
            }
            _ => None,
        };
        // Before release and only then: the hold is released by the unload.
        let reload_held = reload.is_some() && self.rng.chance(50);
        let born = if last { 0 } else { self.rng.below(4) };
        // Drawn only when asked for, so that a seed without faults replays as before.
        let faults = !last
            && reload.is_none()
            && self.cfg.faults > 0
            && self.rng.below(100) < self.cfg.faults as usize;

        // Their listeners are read now, and every socket closed: a socket holds its net.
        let mut fds = Vec::with_capacity(victims.len());
        for v in &victims {
            self.check_listener(*v)?;
            let live = self.nets.remove(v).expect("victim is live");
            fds.push(live.fd);
        }
        if switch_at == Some(Moment::BeforeHold) {
            self.switch_mode()?;
        }
        let t = Instant::now();
        self.module.hold("flush")?;
        let before = self.stats()?;
        self.module.hold_behind_spare(self.home)?;
        if switch_at == Some(Moment::Held) {
            self.switch_mode()?;
        }
        // Armed once the spare waits (its run allocates nothing until it goes on, with the
        // batch's right behind it) and before the batch is queued.
        if faults {
            self.open_window()?;
        }
        drop(fds);
        let removed = self.oracle.die(&victims);
        self.trace(|| {
            format!(
                "batch {}: nets {victims:?} die, {removed} ids removed",
                self.f.batches + 1
            )
        });
        self.f.batches += 1;
        self.f.destroyed += victims.len() as u64;
        self.f.ids_removed += removed;
        self.f.largest_batch = self.f.largest_batch.max(victims.len() as u64);
        match &reload {
            Some(ko) if reload_held => self.reload(ko)?,
            Some(ko) => {
                self.module.hold("release")?;
                self.reload(ko)?
            }
            None => self.module.hold("release")?,
        }
        self.f.spend("hold", t);
        if switch_at == Some(Moment::Released) {
            self.switch_mode()?;
        }
        for _ in 0..born {
            if self.done_creating() {
                break;
            }
            let n = self.birth()?;
            self.f.born_while_dying += 1;
            self.link(n, false)?;
        }
        self.checkpoint(&victims, removed, reload.is_none().then_some(before))
    }

    /// Waits until the batch is gone, then checks everything against the oracle.
    fn checkpoint(
        &mut self,
        victims: &[NetNo],
        removed: u64,
        before: Option<Stats>,
    ) -> Result<(), String> {
        self.f.checkpoints += 1;
        let at = format!(
            "checkpoint {} (batch of {})",
            self.f.checkpoints,
            victims.len()
        );
        let want = self.base + self.oracle.population() as i64;
        let module = &self.module;
        let t = Instant::now();
        let waited = wait(
            Duration::from_secs(120),
            &format!("live_nets {want}"),
            || Ok(module.stats()?.live() == want),
        );
        self.f.spend("settle", t);
        let t = Instant::now();
        // The batch's step is over (rnsid counts a net gone in its pernet exit, after the
        // step): the faults are disarmed and counted.
        let window = self.close_window()?;
        let injected = window.as_ref().map_or(0, |(_, n)| *n);
        if let Err(e) = waited {
            let now = self
                .stats()
                .map(|s| s.live().to_string())
                .unwrap_or(e.clone());
            self.f.problems.push(format!(
                "{at}: rnsid/stats live_nets is {now}, not back to the baseline {} plus the soak's {} nets",
                self.base,
                self.oracle.population()
            ));
            return Ok(());
        }
        let s = self.stats()?;
        self.counters(&s, &at, injected);
        let step_mode = s.last.get("mode").cloned().unwrap_or_default();
        let last = |k: &str| s.last.get(k).and_then(|v| v.parse::<u64>().ok());
        if let Some(before) = before {
            let runs = s.grown_since(&before, "cleanups");
            let nets = s.grown_since(&before, "nets");
            if runs != 2 || nets != victims.len() as u64 + 1 {
                self.f.problems.push(format!(
                    "{at}: the hook saw {runs} cleanup_net() runs and {nets} dying nets, not 2 runs (the spare's and the batch's) and {} nets",
                    victims.len() + 1
                ));
            } else {
                *self.f.steps.entry(step_mode.clone()).or_insert(0) += 1;
                if last("nets") != Some(victims.len() as u64) {
                    self.f.problems.push(format!(
                        "{at}: the last step was over {:?} nets, not the batch's {}",
                        s.last.get("nets"),
                        victims.len()
                    ));
                }
                if RUST_MODES.contains(&step_mode.as_str()) {
                    // A notification that failed is counted in `notify_failed`, not `notified`;
                    // the id is removed all the same.
                    let failed = s
                        .of(&step_mode, "notify_failed")
                        .saturating_sub(before.of(&step_mode, "notify_failed"));
                    if last("ids_removed") != Some(removed) {
                        self.f.problems.push(format!(
                            "{at}: the batch's step ({step_mode}) counted ids_removed={:?}, the oracle removed {removed}",
                            s.last.get("ids_removed")
                        ));
                    }
                    if last("notified").map(|n| n + failed) != Some(removed) {
                        let failed = if failed > 0 {
                            format!(" and notify_failed +{failed}")
                        } else {
                            String::new()
                        };
                        self.f.problems.push(format!(
                            "{at}: the batch's step ({step_mode}) counted notified={:?}{failed}, the oracle removed {removed}",
                            s.last.get("notified")
                        ));
                    }
                }
            }
            if let Some((w, injected)) = &window {
                self.fault_counts(&at, w, *injected, &before, &s, &step_mode);
            }
        }
        self.reads = window.is_some().then(Vec::new);
        let live: Vec<NetNo> = self.oracle.live().collect();
        for &n in &live {
            let got = self.rtnl(n).list_ids().map_err(err(format!("net {n}")))?;
            self.f.list_checks += 1;
            let want = self.oracle.ids(n);
            if got != want {
                self.f.problems.push(format!(
                    "{at}: net {n} lists ids {got:?}, the oracle says {want:?}"
                ));
            }
            self.check_listener(n)?;
        }
        // RTM_GETNSID for a few pairs: the id names the right peer.
        for _ in 0..4 {
            let (Some(holder), Some(peer)) = (self.pick(true), self.pick(true)) else {
                break;
            };
            let fd = self.fd(peer)?;
            let got = self
                .rtnl(holder)
                .get_nsid(fd.as_fd())
                .map_err(err(format!("net {holder}")))?;
            self.f.spot_checks += 1;
            let want = self.oracle.id_for(holder, peer).unwrap_or(-1);
            if got != want {
                self.f.problems.push(format!(
                    "{at}: net {holder}'s id for net {peer} is {got}, the oracle says {want}"
                ));
            }
        }
        if let Some(reads) = self.reads.take() {
            let oracle = &self.oracle;
            let v = lost::judge(
                &reads,
                injected,
                |via| oracle.peer_of(HOME, via),
                |n| oracle.is_live(n) && oracle.has_listener(n),
            );
            self.f.messages_lost += v.messages_lost;
            self.f.copies_lost += v.copies_lost;
            for (errno, n) in v.errors {
                *self.f.listener_errors_by.entry(errno).or_default() += n;
            }
            for p in v.problems {
                self.f
                    .problems
                    .push(format!("{at}: after {injected} faults injected: {p}"));
            }
        }
        self.f.spend("check", t);
        Ok(())
    }

    /// The batch's faults against rnsid's counters (`before`: just before the hold, `s`: now):
    /// counted in the figures, and, when the mode stayed as armed, exactly what they may cost
    /// there: aimed at rnsid's hook in `shadow`, only the record (each fault one more
    /// `unchecked_batches`); aimed at the in-tree step, nothing of rnsid's.
    fn fault_counts(
        &mut self,
        at: &str,
        w: &Window,
        injected: u64,
        before: &Stats,
        s: &Stats,
        step_mode: &str,
    ) {
        let unchecked =
            (s.get("unchecked_batches") - before.get("unchecked_batches")).max(0) as u64;
        let failed = s.grown_since(before, "notify_failed");
        self.f.faults_injected += injected;
        *self
            .f
            .faults_by
            .entry(format!("{} {step_mode}", w.target.name()))
            .or_insert(0) += injected;
        self.f.unchecked_by_faults += unchecked;
        self.f.notify_failed_by_faults += failed;
        if w.switched {
            return;
        }
        match (w.target, w.mode.as_str()) {
            (Target::Rnsid, "shadow") if unchecked != injected || failed != 0 => {
                self.f.problems.push(format!(
                    "{at}: {injected} faults aimed at rnsid_unhash in shadow, where only the shadow record allocates: unchecked_batches grew by {unchecked}, notify_failed by {failed}"
                ));
            }
            (Target::InTree, _) if unchecked + failed != 0 => {
                self.f.problems.push(format!(
                    "{at}: {injected} faults aimed at the in-tree step cost rnsid's counters: unchecked_batches +{unchecked}, notify_failed +{failed}"
                ));
            }
            _ => {}
        }
    }

    /// Grows the population to a drawn size between half and all of `population`, linking the
    /// newborns and some others.
    fn grow(&mut self) -> Result<(), String> {
        let max = self.cfg.population;
        let target = max / 2 + self.rng.below(max - max / 2 + 1);
        while self.oracle.population() < target && !self.done_creating() {
            let n = self.birth()?;
            self.link(n, true)?;
        }
        for _ in 0..self.rng.below(4) {
            if let Some(n) = self.pick(true) {
                self.link(n, true)?;
            }
        }
        if self.rng.chance(10) {
            self.switch_mode()?;
        }
        Ok(())
    }
}

/// Runs the soak: its figures, and why it broke off if it could not go on (a request failed
/// that the oracle said would succeed, a file of the module missing).
pub fn run(cfg: &Config, home: &Home) -> (Figures, Option<String>) {
    let module = Module::default();
    let setup = || -> Result<(Rtnl, AllListener, Stats), String> {
        let stats = module.stats()?;
        Ok((
            Rtnl::open().map_err(err("home rtnl"))?,
            AllListener::open(8 << 20).map_err(err("home listener"))?,
            stats,
        ))
    };
    let (mut home_rtnl, all, stats) = match setup() {
        Ok(s) => s,
        Err(e) => return (Figures::default(), Some(e)),
    };
    let home_ids = match home_rtnl.list_ids() {
        Ok(ids) => ids,
        Err(e) => return (Figures::default(), Some(format!("home: {e}"))),
    };
    let mode = std::fs::read_to_string(&module.mode)
        .map(|m| m.trim().to_string())
        .unwrap_or_default();
    let mut soak = Soak {
        cfg,
        rng: Rng::new(cfg.seed),
        oracle: Oracle::new(&home_ids),
        home,
        module,
        home_rtnl,
        all,
        nets: BTreeMap::new(),
        next: 1,
        base: stats.live(),
        seen_problems: BTreeMap::new(),
        deck: Vec::new(),
        mode: mode.clone(),
        veth: 0,
        first_reload: 0,
        failslab: None,
        window: None,
        reads: None,
        f: Figures::default(),
        start: Instant::now(),
        last_progress: Instant::now(),
    };
    soak.counters(&stats, "start", 0);
    if cfg.faults > 0 {
        match Failslab::open() {
            Ok(fs) => soak.failslab = Some(fs),
            Err(e) => {
                println!("# nsid-soak: failslab not used ({e}): faults from fail_notify alone")
            }
        }
    }
    soak.first_reload = 1 + soak.rng.below(3) as u64;
    // Whatever home's listener holds is not the soak's.
    let _ = soak.all.drain_noting_errors();
    let mut broke = None;
    while !soak.done_creating() && soak.f.problems.is_empty() {
        let r = soak.grow().and_then(|()| soak.batch(false));
        soak.progress(false);
        if let Err(e) = r {
            broke = Some(e);
            break;
        }
    }
    // Whatever happened, the nets left die, and what they leave is checked once more.
    if broke.is_some() {
        let _ = soak.close_window();
        let _ = soak.module.hold("release");
    }
    if broke.is_none() || !soak.nets.is_empty() {
        if !kmod::loaded("rnsid") {
            if let Some(ko) = &cfg.ko {
                let _ = kmod::load(ko, "");
            }
        }
        if let Err(e) = soak.batch(true) {
            broke.get_or_insert(e);
        }
    }
    let _ = soak
        .module
        .set_mode(if mode.is_empty() { "c" } else { &mode });
    soak.f.seconds = soak.start.elapsed().as_secs_f64();
    soak.progress(true);
    (soak.f, broke)
}
