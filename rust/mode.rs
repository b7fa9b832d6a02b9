// SPDX-License-Identifier: GPL-2.0

//! The unhash strategies rnsid can run, and the one selected now.
//!
//! Pure logic, free of kernel types, so that it is also unit-tested on the host.

use core::sync::atomic::{AtomicU8, Ordering};

/// How the nsid step of `cleanup_net()` is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mode {
    /// The kernel's own C runs; rnsid only observes.
    C = 0,
    /// The seed's scheme: per dying net, walk the survivors up to `last` with only their
    /// `nsid_lock`, notify after unlocking, then destroy the dying net's table.
    Relocated = 1,
    /// The scheme before the seed: the same work with `rtnl_lock()` (and `net_rwsem` for write)
    /// held across the whole walk, as `cleanup_net()` held it before fb07a820fe3f.
    Legacy = 2,
    /// The 7.x scheme: one pass over the survivors, removing every id of a dying peer.
    Batched = 3,
    /// The C runs; Rust predicts what it removes and checks the prediction afterwards.
    Shadow = 4,
    /// The unavoidable work alone, for the benchmark: the (survivor, id) pairs to remove are
    /// found before the clock starts, then only the removals and notifications are timed.
    Floor = 5,
}

impl Mode {
    /// Every mode, in the order of the statistics.
    pub(crate) const ALL: [Mode; 6] = [
        Mode::C,
        Mode::Relocated,
        Mode::Legacy,
        Mode::Batched,
        Mode::Shadow,
        Mode::Floor,
    ];

    /// The name the `mode` parameter takes and shows.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::C => "c",
            Mode::Relocated => "relocated",
            Mode::Legacy => "legacy",
            Mode::Batched => "batched",
            Mode::Shadow => "shadow",
            Mode::Floor => "floor",
        }
    }

    /// Parses a parameter value; one trailing newline (as `echo` writes) is allowed.
    pub(crate) fn parse(value: &[u8]) -> Option<Mode> {
        let value = value.strip_suffix(b"\n").unwrap_or(value);
        Mode::ALL.into_iter().find(|m| m.name().as_bytes() == value)
    }

    /// The position of the mode in [`Mode::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The mode stored as `v` (`mode as u8`); [`Mode::C`] for anything else.
    pub(crate) fn from_u8(v: u8) -> Mode {
        Mode::ALL.get(usize::from(v)).copied().unwrap_or(Mode::C)
    }
}

/// The mode in force; read once per `cleanup_net()` so that a switch never affects one that is
/// already running.
pub(crate) struct ModeCell(AtomicU8);

impl ModeCell {
    /// A cell holding [`Mode::C`].
    pub(crate) const fn new() -> Self {
        Self(AtomicU8::new(Mode::C as u8))
    }

    /// The mode now.
    pub(crate) fn get(&self) -> Mode {
        Mode::from_u8(self.0.load(Ordering::Acquire))
    }

    /// Switches to `mode`.
    pub(crate) fn set(&self, mode: Mode) {
        self.0.store(mode as u8, Ordering::Release);
    }
}
