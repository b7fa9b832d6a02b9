// SPDX-License-Identifier: GPL-2.0

//! Host-side unit tests for the kernel-free parts of rnsid. The module's own source files are
//! compiled here unchanged, through `#[path]`.

#![allow(dead_code)]

#[path = "../../mode.rs"]
mod mode;

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
        for bad in [&b""[..], b"C", b"relocate", b"relocated ", b" c", b"shadow\0", b"\n"] {
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
