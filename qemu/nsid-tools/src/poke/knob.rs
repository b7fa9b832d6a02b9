// SPDX-License-Identifier: GPL-2.0

//! Hostile values written to one knob, each in one `write(2)`: every one must be refused with
//! the expected errno and leave what the knob reads back unchanged.
//!
//! What the knobs accept is in `rust/value.rs`: one exact word or decimal count, optionally
//! followed by one newline. Two things never reach the module and are checked as the kernel
//! does them: a sysfs file passes no empty write on (`write` returns 0) and of a longer write
//! than a page only the first page (refused as that page is); and a module parameter's value is a C string, so that the parameter code
//! hands rnsid only what comes before an embedded NUL (`c\0junk` is read as `c`).

use super::{outcome, sys, Report};
use libc::{EBUSY, EINVAL, ERANGE};

/// Which knob, and so which values it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/sys/module/rnsid/parameters/mode`: a mode's name.
    Mode,
    /// `/sys/module/rnsid/parameters/fail_notify`: a decimal count.
    Count,
    /// `/sys/kernel/debug/rnsid/hold`: arm, release or flush.
    Hold,
}

/// What a write must do.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    /// Fail with this errno, the state unchanged.
    Refused(i32),
    /// Return 0 without reaching the module (an empty write to sysfs), the state unchanged.
    Ignored,
    /// Be taken as this value (what precedes an embedded NUL in a module parameter).
    TakenAs(String),
}

struct Case {
    input: Vec<u8>,
    want: Want,
}

fn case(input: impl AsRef<[u8]>, want: Want) -> Case {
    Case {
        input: input.as_ref().to_vec(),
        want,
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The hostile values for a knob whose valid words are `valid` (the first is the one the
/// embedded-NUL cases carry); `sysfs` for a module parameter.
fn cases(kind: Kind, valid: &[String], sysfs: bool) -> Vec<Case> {
    let inval = || Want::Refused(EINVAL);
    let w = valid[0].as_bytes();
    let mut v = vec![
        case(b"", if sysfs { Want::Ignored } else { inval() }),
        case(b"\n", inval()),
        case(b"\n\n", inval()),
        case(b" ", inval()),
        case(b"\t", inval()),
        case(b"\r\n", inval()),
        case(b"\0", inval()),
        case(b"\0\n", inval()),
        // One page reaches the module; of more, sysfs passes on the first page.
        case(vec![b'a'; 4096], inval()),
        case(cat(&[w, &vec![b' '; 4096 - w.len()]]), inval()),
        case(vec![b'a'; 4097], inval()),
        case(cat(&[w, &vec![b'\n'; 8192]]), inval()),
        case(
            vec![b'7'; 65536],
            Want::Refused(if kind == Kind::Count { ERANGE } else { EINVAL }),
        ),
        // Not ASCII.
        case(b"\xff", inval()),
        case(b"\xc3\xa9", inval()),
        case(cat(&[w, b"\xc3\xa9"]), inval()),
        case(cat(&[b"\xef\xbb\xbf", w]), inval()),
        case(b"\xd9\xa1", inval()),
        // Embedded NUL.
        case(cat(&[b"\0", w]), inval()),
        case(cat(&[b"junk\0", w]), inval()),
    ];
    let nul_cut = |tail: &[u8]| {
        if sysfs {
            case(cat(&[w, b"\0", tail]), Want::TakenAs(valid[0].clone()))
        } else {
            case(cat(&[w, b"\0", tail]), inval())
        }
    };
    v.push(nul_cut(b"junk"));
    v.push(nul_cut(b""));
    // Every valid word with white space or junk around it: all of it around the first and the
    // last word (the parser compares whole words, so the words between need less), a sample
    // around the others.
    for (i, word) in valid.iter().enumerate() {
        let full = i == 0 || i == valid.len() - 1;
        v.extend(
            around(kind, word, full)
                .into_iter()
                .map(|i| case(i, inval())),
        );
    }
    // Numbers.
    let numbers: &[(&[u8], i32)] = match kind {
        Kind::Count => &[
            (b"-1", EINVAL),
            (b"-0", EINVAL),
            (b"00", EINVAL),
            (b"010", EINVAL),
            (b"0x10", EINVAL),
            (b"0b1", EINVAL),
            (b"1e3", EINVAL),
            (b"1.5", EINVAL),
            (b"4294967296", ERANGE),
            (b"4294967296\n", ERANGE),
            (b"18446744073709551616", ERANGE),
            (b"99999999999999999999999999999999999999", ERANGE),
        ],
        _ => &[
            (b"0", EINVAL),
            (b"1", EINVAL),
            (b"5", EINVAL),
            (b"6", EINVAL),
            (b"-1", EINVAL),
            (b"255", EINVAL),
            (b"256", EINVAL),
            (b"4294967296", EINVAL),
            (b"99999999999999999999999999999999999999", EINVAL),
        ],
    };
    v.extend(numbers.iter().map(|(i, e)| case(i, Want::Refused(*e))));
    v
}

/// `word` with white space or junk around it; with `full` every variant, else a sample.
fn around(kind: Kind, word: &str, full: bool) -> Vec<Vec<u8>> {
    let w = word.as_bytes();
    let upper = word.to_ascii_uppercase();
    let mut v: Vec<Vec<u8>> = vec![
        cat(&[b" ", w]),
        cat(&[w, b" "]),
        cat(&[w, b"\r\n"]),
        cat(&[b"x", w]),
        cat(&[w, b"x"]),
    ];
    if upper != *word {
        v.push(upper.into_bytes());
    }
    if kind == Kind::Count {
        // A count with a sign or a base prefix: kstrtouint() would take these.
        v.push(cat(&[b"+", w]));
        v.push(cat(&[b"0x", w]));
    }
    if !full {
        return v;
    }
    v.extend([
        cat(&[b"\t", w]),
        cat(&[w, b"\t"]),
        cat(&[w, b"\r"]),
        cat(&[w, b"\n\n"]),
        cat(&[b"\n", w]),
        cat(&[w, b" \n"]),
        cat(&[w, b"\n "]),
        cat(&[b"\x0b", w]),
        cat(&[w, b",", w]),
        cat(&[w, b" ", w]),
        cat(&[w, b"\n", w]),
        cat(&[b"'", w, b"'"]),
        cat(&[b"\"", w, b"\""]),
        cat(&[b"=", w]),
        cat(&[w, b";"]),
    ]);
    // A word one letter longer or shorter (for a count, another count).
    if kind != Kind::Count {
        v.push(cat(&[w, &w[w.len() - 1..]]));
        if w.len() > 1 {
            v.push(w[..w.len() - 1].to_vec());
        }
    } else {
        v.push(cat(&[b"0", w]));
    }
    v
}

/// Writes every hostile value of `cases` to `path` and checks what each did.
fn run_cases(r: &mut Report, name: &str, path: &str, cases: &[Case]) {
    // What the knob reads before a write is what it read after the one before: one read a case.
    let mut before = sys::state(path);
    for c in cases {
        let got = sys::write_once(path, &c.input);
        let after = sys::state(path);
        let shown = sys::shown(&c.input);
        match &c.want {
            Want::Refused(e) => r.check(
                got == Err(*e) && after == before,
                format_args!(
                    "{name} {shown}: refused with {} ({}), reads back {before:?} ({after:?})",
                    sys::errname(*e),
                    outcome(&got)
                ),
            ),
            Want::Ignored => r.check(
                got == Ok(0) && after == before,
                format_args!(
                    "{name} {shown}: never passed on by sysfs ({}), reads back {before:?} ({after:?})",
                    outcome(&got)
                ),
            ),
            Want::TakenAs(v) => {
                r.check(
                    got == Ok(c.input.len()) && after == *v,
                    format_args!(
                        "{name} {shown}: the parameter code cuts it at the NUL: taken as {v:?} ({}, reads {after:?})",
                        outcome(&got)
                    ),
                );
                let _ = sys::write_once(path, before.as_bytes());
                before = sys::state(path);
                continue;
            }
        }
        before = after;
    }
}

/// Writes a valid value and checks that it is taken, with and without a newline.
fn accept(r: &mut Report, name: &str, path: &str, word: &str, reads: &str) {
    for input in [word.to_string(), format!("{word}\n")] {
        let got = sys::write_once(path, input.as_bytes());
        let after = sys::state(path);
        r.check(
            got == Ok(input.len()) && after == reads,
            format_args!(
                "{name} {}: taken ({}), reads {after:?}",
                sys::shown(input.as_bytes()),
                outcome(&got)
            ),
        );
    }
}

/// The whole matrix for one knob. `valid` are the values it takes (for `mode`, the modes this
/// kernel runs), `refused` valid-looking ones this kernel refuses (`batched` on 6.12). The knob
/// is left as it was found.
pub fn run(r: &mut Report, kind: Kind, path: &str, valid: &[String], refused: &[String]) {
    let name = path.rsplit('/').next().unwrap_or(path);
    let sysfs = path.starts_with("/sys/module/");
    let start = sys::state(path);
    match kind {
        Kind::Mode | Kind::Count => {
            for w in valid {
                accept(r, name, path, w, w);
            }
            // Hostile values against a state other than the default, so that a value that
            // reset the knob would show; the embedded-NUL cases carry the first valid word.
            let _ = sys::write_once(path, valid[valid.len() - 1].as_bytes());
            run_cases(r, name, path, &cases(kind, valid, sysfs));
            let refused: Vec<Case> = refused
                .iter()
                .map(|w| case(w, Want::Refused(EINVAL)))
                .collect();
            run_cases(r, name, path, &refused);
        }
        Kind::Hold => {
            let hostile = cases(kind, valid, sysfs);
            run_cases(r, name, path, &hostile);
            accept(r, name, path, "flush", "open");
            let got = sys::write_once(path, b"arm");
            r.check(
                got == Ok(3),
                format_args!("{name} 'arm': taken ({})", outcome(&got)),
            );
            let again = sys::write_once(path, b"arm\n");
            r.check(
                again == Err(EBUSY) && sys::state(path) == "armed",
                format_args!(
                    "{name} 'arm' while armed: refused with EBUSY ({}), still armed",
                    outcome(&again)
                ),
            );
            // Armed, the same hostile values must not disarm it.
            let short: Vec<Case> = cases(kind, &valid[..1], sysfs)
                .into_iter()
                .take(24)
                .collect();
            run_cases(r, name, path, &short);
            accept(r, name, path, "release", "open");
        }
    }
    let _ = sys::write_once(path, start.as_bytes());
    r.check(
        sys::state(path) == start,
        format_args!("{name} is back to {start:?}"),
    );
}
