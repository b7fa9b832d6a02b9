// SPDX-License-Identifier: GPL-2.0

//! The state machine behind `rnsid/hold` (see `hold.rs`), and the commands the file takes.
//! Kernel-free, so that the host tests run it.

use core::sync::atomic::{AtomicU32, Ordering};

/// Where the gate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// `cleanup_net()` goes straight through.
    Open = 0,
    /// The next `cleanup_net()` to enter the hook will wait there.
    Armed = 1,
    /// A `cleanup_net()` waits in the hook.
    Holding = 2,
    /// The module is not (or no longer) taking commands: never hold.
    Closed = 3,
}

impl State {
    /// What `rnsid/hold` reads.
    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Armed => "armed",
            State::Holding => "holding",
            State::Closed => "closed",
        }
    }

    fn from_u32(v: u32) -> Self {
        match v {
            0 => State::Open,
            1 => State::Armed,
            2 => State::Holding,
            _ => State::Closed,
        }
    }
}

/// A command written to `rnsid/hold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Hold the next `cleanup_net()`.
    Arm,
    /// Let a held one go (or disarm).
    Release,
    /// Wait for pending RCU callbacks.
    Flush,
}

impl Command {
    /// Parses what was written; one trailing newline (from `echo`) is accepted.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.strip_suffix('\n').unwrap_or(text) {
            "arm" => Some(Command::Arm),
            "release" => Some(Command::Release),
            "flush" => Some(Command::Flush),
            _ => None,
        }
    }
}

/// The gate: one state, changed atomically by user space (arm, release), the hook (enter,
/// give up) and the module's lifetime (open, close).
pub(crate) struct Gate(AtomicU32);

impl Gate {
    /// A closed gate.
    pub(crate) const fn new() -> Self {
        Gate(AtomicU32::new(State::Closed as u32))
    }

    pub(crate) fn state(&self) -> State {
        State::from_u32(self.0.load(Ordering::Acquire))
    }

    fn swap(&self, from: State, to: State) -> Result<(), State> {
        self.0
            .compare_exchange(from as u32, to as u32, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(State::from_u32)
    }

    /// The module is loaded: take commands.
    pub(crate) fn open(&self) {
        self.0.store(State::Open as u32, Ordering::Release);
    }

    /// The module is going: let any held run go and never hold again.
    pub(crate) fn close(&self) {
        self.0.store(State::Closed as u32, Ordering::Release);
    }

    /// Arms an open gate; otherwise says where it stands.
    pub(crate) fn arm(&self) -> Result<(), State> {
        self.swap(State::Open, State::Armed)
    }

    /// Opens an armed or holding gate; a closed one stays closed.
    pub(crate) fn release(&self) {
        let _ = self.swap(State::Armed, State::Open);
        let _ = self.swap(State::Holding, State::Open);
    }

    /// The hook enters: whether it must wait (the gate was armed; it now holds).
    pub(crate) fn enter(&self) -> bool {
        self.swap(State::Armed, State::Holding).is_ok()
    }

    /// Whether a waiting hook may go on.
    pub(crate) fn may_go(&self) -> bool {
        self.state() != State::Holding
    }

    /// A waiting hook gave up: opens the gate if it still holds.
    pub(crate) fn give_up(&self) {
        let _ = self.swap(State::Holding, State::Open);
    }
}
