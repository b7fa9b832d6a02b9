// SPDX-License-Identifier: GPL-2.0

//! Faults injected into one soak batch's nsid step, and counted exactly.
//!
//! Two sources:
//!
//! * **failslab** (`/sys/kernel/debug/failslab`, `CONFIG_FAILSLAB` with
//!   `CONFIG_FAULT_INJECTION_STACKTRACE_FILTER`), aimed with the stack filter
//!   (`require-start`/`require-end`) at the text of the code that does the step: rnsid's hook
//!   entry `rnsid_unhash` (every allocation of the step has it on its stack: the shadow
//!   record, `floor`'s plan, the Rust `RTM_DELNSID` and the netlink clones of its broadcast), or
//!   in mode `c` the in-tree step (`unhash_nsid`, or `rtnl_net_notifyid` where the compiler
//!   inlined `unhash_nsid` into `cleanup_net()`: `cleanup_net()`'s own range would also cover
//!   rnsid's hook, which runs first, and every pernet exit). Aiming at the hook rather than at
//!   rnsid's whole text leaves out rnsid's pernet `init` (a net could not be born) and its
//!   debugfs files (the soak could not read its stats);
//! * **`fail_notify`**, rnsid's own parameter: the next N Rust `RTM_DELNSID`s fail with
//!   `-ENOMEM` (any kernel with the module, failslab or not).
//!
//! Either way the count is exact: failslab's `times` and `fail_notify` count down once per
//! injected fault, so what was armed minus what is left is what was injected. So that each
//! counted fault is one of the step's own allocations, failslab rejects stacks through
//! kmemleak's `__alloc_object` (`reject-start`/`reject-end`): on the debug kernels every
//! allocation that succeeds is recorded in an allocation of kmemleak's own, made with
//! `__GFP_NOWARN` (a fault there prints nothing) and taken from kmemleak's emergency pool when
//! it fails, so such a fault would count without any effect on the step. `kmemleak_alloc`
//! itself is not on that stack: it tail-calls `__create_object`. A 6.12 debug soak that
//! rejected `kmemleak_alloc` instead counted 3 faults in a window where the step saw 1.

use crate::oracle::Kind;
use std::fs;
use std::path::{Path, PathBuf};

/// Where failslab's knobs are.
pub const FAILSLAB: &str = "/sys/kernel/debug/failslab";
/// rnsid's own injection: the next N notifications fail.
pub const FAIL_NOTIFY: &str = "/sys/module/rnsid/parameters/fail_notify";

/// Which code a batch's faults are aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// failslab at rnsid's hook entry (`rnsid_unhash`), which every mode but `c` runs the step
    /// (or its record) under.
    Rnsid,
    /// failslab at the in-tree step (mode `c`).
    InTree,
    /// `fail_notify`: rnsid's Rust `RTM_DELNSID`s.
    FailNotify,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Rnsid => "failslab@rnsid_unhash",
            Target::InTree => "failslab@in-tree",
            Target::FailNotify => "fail_notify",
        }
    }

    /// The notifications a fault here may cost: the step's `RTM_DELNSID`s; aimed at the
    /// in-tree `rtnl_net_notifyid()`, also the `RTM_NEWNSID`s of nets born and linked while
    /// the batch dies, which go through the same function.
    pub fn lossy(self) -> &'static [Kind] {
        match self {
            Target::InTree => &[Kind::New, Kind::Del],
            Target::Rnsid | Target::FailNotify => &[Kind::Del],
        }
    }
}

/// A range of kernel text `[start, end)`, named by its symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub symbol: String,
    pub start: u64,
    pub end: u64,
}

/// In `/proc/kallsyms`' text, the range of the first of `names` found among the text symbols of
/// `module` (`None`: the kernel's own): from its address to the next higher text symbol's.
pub fn range_of(kallsyms: &str, names: &[&str], module: Option<&str>) -> Result<Range, String> {
    let mut text: Vec<(u64, &str)> = Vec::new();
    for line in kallsyms.lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(kind), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let owner = f
            .next()
            .and_then(|m| m.strip_prefix('[')?.strip_suffix(']'));
        if owner != module || !matches!(kind, "t" | "T") {
            continue;
        }
        if let Ok(addr) = u64::from_str_radix(addr, 16) {
            text.push((addr, name));
        }
    }
    let whose = module.map_or("the kernel".to_string(), |m| format!("module {m}"));
    if text.iter().all(|&(a, _)| a == 0) {
        return Err(format!(
            "/proc/kallsyms shows {whose}'s text at address 0 (kptr_restrict?): cannot aim failslab"
        ));
    }
    for want in names {
        let Some(&(start, symbol)) = text.iter().find(|&&(_, n)| n == *want) else {
            continue;
        };
        let end = text
            .iter()
            .map(|&(a, _)| a)
            .filter(|&a| a > start)
            .min()
            .ok_or(format!("{symbol} is {whose}'s last text symbol: no end"))?;
        return Ok(Range {
            symbol: symbol.to_string(),
            start,
            end,
        });
    }
    Err(format!(
        "none of {} among {whose}'s text symbols in /proc/kallsyms",
        names.join(", ")
    ))
}

/// Where failslab is aimed: allocations with `require` on their stack, and not `reject`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aim {
    pub require: Range,
    pub reject: Option<Range>,
}

/// Where a target's faults are aimed, from `/proc/kallsyms`' text.
pub fn aim_in(kallsyms: &str, target: Target) -> Result<Aim, String> {
    let require = match target {
        Target::Rnsid => range_of(kallsyms, &["rnsid_unhash"], Some("rnsid"))?,
        Target::InTree => range_of(kallsyms, &["unhash_nsid", "rtnl_net_notifyid"], None)?,
        Target::FailNotify => return Err("fail_notify is not aimed".into()),
    };
    // Only where kmemleak is built in: the name alone is too plain to trust.
    let kmemleak = range_of(kallsyms, &["kmemleak_alloc"], None).is_ok();
    Ok(Aim {
        require,
        reject: kmemleak
            .then(|| range_of(kallsyms, &["__alloc_object"], None).ok())
            .flatten(),
    })
}

/// [`aim_in`] the live `/proc/kallsyms` (read again for every batch: a reload moves rnsid's
/// text).
pub fn aim(target: Target) -> Result<Aim, String> {
    let kallsyms =
        fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    aim_in(&kallsyms, target)
}

/// failslab's debugfs directory, set up for aimed, counted faults.
pub struct Failslab {
    dir: PathBuf,
    /// What `times` was armed with.
    armed: u64,
}

fn write(path: &Path, value: impl std::fmt::Display) -> Result<(), String> {
    fs::write(path, value.to_string()).map_err(|e| format!("{} <- {value}: {e}", path.display()))
}

fn read_i64(path: &Path) -> Result<i64, String> {
    let s = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    s.trim()
        .parse()
        .map_err(|_| format!("{}: not a number: {s:?}", path.display()))
}

impl Failslab {
    /// failslab with the stack filter, set up disarmed, or why not (no `CONFIG_FAILSLAB`, no
    /// debugfs, or no `CONFIG_FAULT_INJECTION_STACKTRACE_FILTER`, without which failslab
    /// would fail allocations anywhere in the kernel).
    pub fn open() -> Result<Self, String> {
        let dir = PathBuf::from(FAILSLAB);
        if !dir.is_dir() {
            return Err(format!("no {FAILSLAB} (CONFIG_FAILSLAB, debugfs)"));
        }
        if !dir.join("require-start").exists() {
            return Err(format!(
                "no {FAILSLAB}/require-start (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): \
                 failslab cannot be aimed"
            ));
        }
        let f = Failslab { dir, armed: 0 };
        f.disarm()?;
        // Every task (the step runs in a kworker), sleeping allocations too (the step's are
        // GFP_KERNEL), every cache, each matching allocation a candidate; one console line
        // per fault and no stack dump (a stack on the console reads like a splat).
        for (knob, v) in [
            ("task-filter", "N"),
            ("ignore-gfp-wait", "N"),
            ("cache-filter", "N"),
            ("interval", "1"),
            ("space", "0"),
            ("verbose", "1"),
            ("stacktrace-depth", "32"),
            ("reject-start", "0"),
            ("reject-end", "0"),
        ] {
            write(&f.dir.join(knob), v)?;
        }
        Ok(f)
    }

    /// Arms: the next `times` allocations aimed at fail, each with `probability` percent.
    pub fn arm(&mut self, aim: &Aim, probability: u32, times: u32) -> Result<(), String> {
        // The ranges first, the probability last: armed only once aimed.
        write(&self.dir.join("require-end"), aim.require.end)?;
        write(&self.dir.join("require-start"), aim.require.start)?;
        let (start, end) = aim.reject.as_ref().map_or((0, 0), |r| (r.start, r.end));
        write(&self.dir.join("reject-end"), end)?;
        write(&self.dir.join("reject-start"), start)?;
        write(&self.dir.join("times"), times)?;
        write(&self.dir.join("probability"), probability)?;
        self.armed = u64::from(times);
        Ok(())
    }

    /// Disarms and returns the faults injected since [`Self::arm`].
    pub fn disarm(&self) -> Result<u64, String> {
        write(&self.dir.join("probability"), 0)?;
        let left = read_i64(&self.dir.join("times"))?;
        write(&self.dir.join("times"), 0)?;
        Ok(self.armed.saturating_sub(left.max(0) as u64))
    }
}

/// Arms `fail_notify`: the next `n` Rust notifications fail.
pub fn arm_fail_notify(n: u32) -> Result<(), String> {
    write(Path::new(FAIL_NOTIFY), n)
}

/// Disarms `fail_notify` and returns the failures injected of the `armed`.
pub fn disarm_fail_notify(armed: u32) -> Result<u64, String> {
    let left = read_i64(Path::new(FAIL_NOTIFY))?;
    write(Path::new(FAIL_NOTIFY), 0)?;
    Ok(u64::from(armed).saturating_sub(left.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALLSYMS: &str = "\
ffffffff81272740 t __pfx_rtnl_net_notifyid
ffffffff81272750 t rtnl_net_notifyid
ffffffff81272840 t __pfx_rtnl_net_fill
ffffffff81272850 t rtnl_net_fill
ffffffff81272900 d some_data
ffffffff81272df0 t cleanup_net
ffffffff813e4410 t __create_object
ffffffff813e4490 t __alloc_object
ffffffff813e4690 t __link_object
ffffffff817087e0 T kmemleak_alloc
ffffffff81708900 T kmemleak_alloc_percpu
ffffffffc0201000 t rnsid_unhash\t[rnsid]
ffffffffc0201000 t rnsid_unhash_alias\t[rnsid]
ffffffffc02012a0 t _RNvNtCs1_5rnsid6notify4send\t[rnsid]
ffffffffc0300000 t other_fn\t[other]
";

    #[test]
    fn ranges_end_at_the_next_text_symbol() {
        let r = range_of(KALLSYMS, &["unhash_nsid", "rtnl_net_notifyid"], None).unwrap();
        assert_eq!(r.symbol, "rtnl_net_notifyid");
        assert_eq!((r.start, r.end), (0xffffffff81272750, 0xffffffff81272840));
        let r = range_of(KALLSYMS, &["rnsid_unhash"], Some("rnsid")).unwrap();
        assert_eq!((r.start, r.end), (0xffffffffc0201000, 0xffffffffc02012a0));
        // A module's symbols are not the kernel's, nor another module's.
        assert!(range_of(KALLSYMS, &["rnsid_unhash"], None).is_err());
        assert!(range_of(KALLSYMS, &["other_fn"], Some("rnsid")).is_err());
        // The last text symbol has no known end.
        assert!(range_of(KALLSYMS, &["other_fn"], Some("other")).is_err());
    }

    #[test]
    fn aims_reject_kmemleak() {
        let a = aim_in(KALLSYMS, Target::InTree).unwrap();
        assert_eq!(a.require.symbol, "rtnl_net_notifyid");
        let reject = a.reject.unwrap();
        assert_eq!(reject.symbol, "__alloc_object");
        assert_eq!(
            (reject.start, reject.end),
            (0xffffffff813e4490, 0xffffffff813e4690)
        );
        let a = aim_in(KALLSYMS, Target::Rnsid).unwrap();
        assert_eq!(a.require.symbol, "rnsid_unhash");
        // Without kmemleak, nothing is rejected.
        let plain: String = KALLSYMS
            .lines()
            .filter(|l| !l.contains("kmemleak") && !l.contains("__alloc_object"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(aim_in(&plain, Target::Rnsid).unwrap().reject, None);
    }

    #[test]
    fn hidden_addresses_are_refused() {
        let hidden = "0000000000000000 t rnsid_unhash\t[rnsid]\n0000000000000000 t x\t[rnsid]\n";
        let e = range_of(hidden, &["rnsid_unhash"], Some("rnsid")).unwrap_err();
        assert!(e.contains("kptr_restrict"), "{e}");
    }
}
