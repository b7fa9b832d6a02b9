// SPDX-License-Identifier: GPL-2.0

//! Host-side unit tests for the kernel-free parts of rnsid. The module's own source files are
//! compiled here unchanged, through `#[path]`.

#![allow(dead_code)]

#[path = "../../mode.rs"]
mod mode;

#[path = "../../gate.rs"]
mod gate;

#[path = "../../value.rs"]
mod value;

#[cfg(test)]
mod value_tests {
    use super::value::{count, line, CountError, Shown};

    #[test]
    fn one_trailing_newline_only() {
        assert_eq!(line(b"arm\n"), b"arm");
        assert_eq!(line(b"arm\n\n"), b"arm\n");
        assert_eq!(line(b"arm"), b"arm");
        assert_eq!(line(b""), b"");
    }

    #[test]
    fn counts_are_plain_decimal() {
        assert_eq!(count(b"0"), Ok(0));
        assert_eq!(count(b"0\n"), Ok(0));
        assert_eq!(count(b"17"), Ok(17));
        assert_eq!(count(b"4294967295"), Ok(u32::MAX));
        for bad in [
            &b""[..], b"\n", b"\n\n", b"1\n\n", b" 1", b"1 ", b"+1", b"-1", b"0x10", b"010",
            b"00", b"1e3", b"1.5", b"1\0", b"\xd9\xa1", b"one",
        ] {
            assert_eq!(count(bad), Err(CountError::Invalid), "{bad:?}");
        }
        for big in [&b"4294967296"[..], b"18446744073709551616", b"99999999999999999999999\n"] {
            assert_eq!(count(big), Err(CountError::TooLarge), "{big:?}");
        }
    }

    #[test]
    fn shown_escapes_and_cuts() {
        assert_eq!(format!("{}", Shown(b"relocated")), "'relocated'");
        assert_eq!(format!("{}", Shown(b"c\n")), "'c\\n'");
        assert_eq!(format!("{}", Shown(b"\xff\0'\\\t")), "'\\xff\\x00\\'\\\\\\t'");
        let long = [b'a'; 4096];
        assert_eq!(
            format!("{}", Shown(&long)),
            format!("'{}...' (4096 bytes)", "a".repeat(32))
        );
        assert_eq!(format!("{}", Shown(&long[..32])), format!("'{}'", "a".repeat(32)));
    }
}

#[cfg(test)]
mod gate_tests {
    use super::gate::{Command, Gate, State};

    #[test]
    fn starts_closed_and_never_holds_closed() {
        let g = Gate::new();
        assert_eq!(g.state(), State::Closed);
        assert_eq!(g.arm(), Err(State::Closed));
        assert!(!g.enter());
        g.release();
        assert_eq!(
            g.state(),
            State::Closed,
            "release does not open a closed gate"
        );
    }

    #[test]
    fn arm_enter_release() {
        let g = Gate::new();
        g.open();
        assert!(!g.enter(), "an open gate lets the hook through");
        assert_eq!(g.arm(), Ok(()));
        assert_eq!(g.arm(), Err(State::Armed), "arming twice is refused");
        assert!(g.enter(), "the first run in holds");
        assert_eq!(g.state(), State::Holding);
        assert!(!g.may_go());
        assert!(!g.enter(), "only one run is held");
        assert_eq!(g.arm(), Err(State::Holding));
        g.release();
        assert!(g.may_go());
        assert_eq!(g.state(), State::Open);
    }

    #[test]
    fn release_disarms_and_give_up_opens() {
        let g = Gate::new();
        g.open();
        g.arm().unwrap();
        g.release();
        assert_eq!(g.state(), State::Open);
        g.arm().unwrap();
        assert!(g.enter());
        g.give_up();
        assert_eq!(g.state(), State::Open);
        g.give_up();
        assert_eq!(g.state(), State::Open, "giving up twice changes nothing");
    }

    #[test]
    fn close_lets_a_held_run_go_for_good() {
        let g = Gate::new();
        g.open();
        g.arm().unwrap();
        assert!(g.enter());
        g.close();
        assert!(g.may_go());
        g.give_up();
        assert_eq!(g.state(), State::Closed, "a late give-up does not reopen");
    }

    #[test]
    fn commands() {
        assert_eq!(Command::parse("arm"), Some(Command::Arm));
        assert_eq!(Command::parse("release\n"), Some(Command::Release));
        assert_eq!(Command::parse("flush"), Some(Command::Flush));
        for bad in ["", "\n", "arm\n\n", "ARM", " arm", "hold", "release "] {
            assert_eq!(Command::parse(bad), None, "{bad:?}");
        }
        for s in [State::Open, State::Armed, State::Holding, State::Closed] {
            assert!(!s.name().is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mode::{Mode, ModeCell};

    #[test]
    fn every_mode_parses_from_its_name() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.name().as_bytes()), Some(m));
        }
    }

    #[test]
    fn one_trailing_newline_is_accepted() {
        assert_eq!(Mode::parse(b"relocated\n"), Some(Mode::Relocated));
        assert_eq!(Mode::parse(b"relocated\n\n"), None);
    }

    #[test]
    fn unknown_and_near_miss_values_are_refused() {
        for bad in [
            &b""[..],
            b"C",
            b"relocate",
            b"relocated ",
            b" c",
            b"shadow\0",
            b"\n",
        ] {
            assert_eq!(Mode::parse(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn indices_follow_all() {
        for (i, m) in Mode::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), i);
        }
    }

    #[test]
    fn cell_starts_in_c_and_keeps_what_is_set() {
        let cell = ModeCell::new();
        assert_eq!(cell.get(), Mode::C);
        for m in Mode::ALL {
            cell.set(m);
            assert_eq!(cell.get(), m);
        }
    }
}
