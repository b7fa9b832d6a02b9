// SPDX-License-Identifier: GPL-2.0

//! Every knob written and read at once, from several threads: each write must end as its value
//! says (taken, or refused with its errno), each read must show a state the knob can be in, and
//! the knobs must end where the last writes put them.

use super::{sys, Report};
use std::io::Read;
use std::thread;

/// Where the knobs are.
pub struct Paths {
    pub mode: String,
    pub fail_notify: String,
    pub hold: String,
    pub stats: String,
}

/// A small deterministic generator, so that a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Collects what went wrong in one thread; prints a few of them.
struct Odd {
    who: &'static str,
    ops: usize,
    seen: Vec<String>,
}

impl Odd {
    fn new(who: &'static str) -> Self {
        Odd {
            who,
            ops: 0,
            seen: Vec::new(),
        }
    }

    fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.ops += 1;
        if !ok {
            self.seen.push(what());
        }
    }
}

fn writes(
    who: &'static str,
    path: String,
    seed: u64,
    n: usize,
    pick: impl Fn(&mut Rng) -> (Vec<u8>, Expect),
) -> Odd {
    let mut rng = Rng(seed);
    let mut odd = Odd::new(who);
    for _ in 0..n {
        let (value, expect) = pick(&mut rng);
        let got = sys::write_once(&path, &value);
        let ok = match (expect, got) {
            (Expect::Taken | Expect::TakenOrBusy, Ok(len)) => len == value.len(),
            (Expect::TakenOrBusy, Err(e)) => e == libc::EBUSY,
            (Expect::Refused, Err(e)) => e == libc::EINVAL,
            _ => false,
        };
        odd.expect(ok, || {
            format!("{} -> {}", sys::shown(&value), super::outcome(&got))
        });
    }
    odd
}

/// What a write in the race must do.
#[derive(Clone, Copy)]
enum Expect {
    Taken,
    /// Refused with `EINVAL`.
    Refused,
    /// `arm`: taken, or `EBUSY` when already armed.
    TakenOrBusy,
}

/// Runs `n` operations in each of six threads: two mode writers, a fail_notify writer, a hold
/// writer and two readers of everything. `modes` are the modes this kernel takes. No net may
/// die meanwhile (the hold is armed now and then).
pub fn run(r: &mut Report, p: &Paths, modes: &[String], n: usize) {
    let mut threads = Vec::new();
    for seed in [1u64, 2] {
        let modes = modes.to_vec();
        let path = p.mode.clone();
        threads.push(thread::spawn(move || {
            writes("mode writer", path, seed * 7919, n, |rng| {
                if rng.below(16) == 0 {
                    (b"c junk\n".to_vec(), Expect::Refused)
                } else {
                    let m = &modes[rng.below(modes.len() as u64) as usize];
                    (format!("{m}\n").into_bytes(), Expect::Taken)
                }
            })
        }));
    }
    let path = p.fail_notify.clone();
    threads.push(thread::spawn(move || {
        writes("fail_notify writer", path, 104729, n, |rng| {
            if rng.below(16) == 0 {
                (b"0x1".to_vec(), Expect::Refused)
            } else {
                (rng.below(10).to_string().into_bytes(), Expect::Taken)
            }
        })
    }));
    let path = p.hold.clone();
    threads.push(thread::spawn(move || {
        writes("hold writer", path, 1299709, n, |rng| match rng.below(16) {
            0 => (b"arm\0".to_vec(), Expect::Refused),
            1 => (b"flush".to_vec(), Expect::Taken),
            2..=8 => (b"arm".to_vec(), Expect::TakenOrBusy),
            _ => (b"release\n".to_vec(), Expect::Taken),
        })
    }));
    for seed in [3u64, 4] {
        let (mode, fail, hold, stats) = (
            p.mode.clone(),
            p.fail_notify.clone(),
            p.hold.clone(),
            p.stats.clone(),
        );
        let modes = modes.to_vec();
        threads.push(thread::spawn(move || {
            let mut rng = Rng(seed * 15485863);
            let mut odd = Odd::new("reader");
            for _ in 0..n {
                let m = sys::state(&mode);
                odd.expect(modes.contains(&m), || format!("mode reads {m:?}"));
                let f = sys::state(&fail);
                odd.expect(f.parse::<u32>().is_ok_and(|v| v < 10), || {
                    format!("fail_notify reads {f:?}")
                });
                let h = sys::state(&hold);
                odd.expect(h == "open" || h == "armed", || format!("hold reads {h:?}"));
                let size = 1 + rng.below(5000) as usize;
                let text = read_in(&stats, size);
                odd.expect(
                    text.as_deref()
                        .is_ok_and(|t| t.ends_with('\n') && t.contains("live_nets:")),
                    || format!("stats in reads of {size}: {text:?}"),
                );
            }
            odd
        }));
    }
    for t in threads {
        let odd = t.join().expect("a race thread panicked");
        r.check(
            odd.seen.is_empty(),
            format_args!(
                "race: {} did {} operations, each as expected{}",
                odd.who,
                odd.ops,
                if odd.seen.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": not {} of them, e.g. {:?}",
                        odd.seen.len(),
                        &odd.seen[..odd.seen.len().min(4)]
                    )
                }
            ),
        );
    }
    let _ = sys::write_once(&p.hold, b"release");
    let _ = sys::write_once(&p.mode, modes[0].as_bytes());
    let _ = sys::write_once(&p.fail_notify, b"0");
    let end = (
        sys::state(&p.hold),
        sys::state(&p.mode),
        sys::state(&p.fail_notify),
    );
    r.check(
        end == ("open".into(), modes[0].clone(), "0".into()),
        format_args!(
            "race: the last writes hold: hold open, mode {}, fail_notify 0 ({end:?})",
            modes[0]
        ),
    );
}

fn read_in(path: &str, size: usize) -> Result<String, i32> {
    let mut f = std::fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(0))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; size];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&out).into_owned()),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) => return Err(e.raw_os_error().unwrap_or(0)),
        }
    }
}
