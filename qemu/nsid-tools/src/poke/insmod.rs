// SPDX-License-Identifier: GPL-2.0

//! Loading rnsid with hostile arguments: every load must fail with `EINVAL`, leave no module
//! behind and log exactly one line per refused value, naming it and what is accepted (the
//! kernel's own `` `junk' invalid for parameter `mode' `` must not appear beside it). Loads
//! with valid arguments must succeed, take them, and unload.

use super::{sys, Report};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

/// `/dev/kmsg` from its end: the records logged from now on.
struct Kmsg(File);

impl Kmsg {
    fn from_now() -> Result<Self, i32> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .map_err(|e| e.raw_os_error().unwrap_or(0))?;
        sys::lseek(&f, 0, libc::SEEK_END)?;
        Ok(Kmsg(f))
    }

    /// The text of each record logged since, that mentions rnsid.
    fn rnsid_lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        // One record per read; EAGAIN once there is none left.
        while let Ok(n) = self.0.read(&mut buf) {
            if n == 0 {
                break;
            }
            let rec = String::from_utf8_lossy(&buf[..n]);
            let text = rec.split_once(';').map_or(&*rec, |(_, t)| t);
            let text = unescape(text.lines().next().unwrap_or(""));
            if text.contains("rnsid") {
                out.push(text);
            }
        }
        out
    }
}

/// A record's text as logged: /dev/kmsg writes `\` and unprintable bytes as `\xNN`.
fn unescape(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (
            b[i],
            b.get(i + 1),
            hex.and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'\\', Some(b'x'), Some(v)) => {
                out.push(v);
                i += 4;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn loaded() -> bool {
    sys::read_all("/proc/modules")
        .map(|m| {
            String::from_utf8_lossy(&m)
                .lines()
                .any(|l| l.starts_with("rnsid "))
        })
        .unwrap_or(false)
}

/// A refused load: the arguments, and the values (with what each line must say besides).
struct Bad {
    args: Vec<u8>,
    /// Per refused value: the value as the line must show it, and words the line must hold.
    lines: Vec<(Vec<u8>, &'static str)>,
}

fn bad(args: &[u8], value: &[u8], wants: &'static str) -> Bad {
    Bad {
        args: args.to_vec(),
        lines: vec![(value.to_vec(), wants)],
    }
}

fn bad_loads(modes: &[String]) -> Vec<Bad> {
    let m = "(want c, ";
    let n = "(want a decimal count from 0 to 4294967295";
    // A load costs seconds on a debug kernel: one or two of each kind.
    let mut v = vec![
        bad(b"mode=junk", b"junk", m),
        bad(b"mode", b"", m),
        bad(b"mode=\"relocated\t\"", b"relocated\t", m),
        bad(b"mode=\xc3\xa9", b"\xc3\xa9", m),
        bad(b"mode=-1", b"-1", m),
        bad(b"fail_notify=", b"", n),
        bad(b"fail_notify=0x10", b"0x10", n),
        bad(b"fail_notify=4294967296", b"4294967296", n),
        bad(b"mode=c fail_notify=1x", b"1x", n),
    ];
    let long = [b"mode=".as_slice(), &[b'a'; 4096]].concat();
    v.push(bad(&long, &[b'a'; 4096], m));
    // The first mode this kernel does not run, if any: valid, but not here.
    let missing = ["relocated", "legacy", "batched", "shadow", "floor"]
        .into_iter()
        .find(|mode| !modes.iter().any(|s| s == mode));
    if let Some(mode) = missing {
        // Valid, but not on this kernel: the line says why and what it takes.
        v.push(bad(
            format!("mode={mode}").as_bytes(),
            mode.as_bytes(),
            "refused: needs",
        ));
    }
    v.push(Bad {
        args: b"mode=x fail_notify=y".to_vec(),
        lines: vec![(b"x".to_vec(), m), (b"y".to_vec(), n)],
    });
    v
}

/// Loads `ko` with every hostile argument, then with valid ones. `modes` are the modes this
/// kernel runs. rnsid must not be loaded when called; it is not loaded on return.
pub fn run(r: &mut Report, ko: &str, modes: &[String]) {
    let file = match File::open(ko) {
        Ok(f) => f,
        Err(e) => {
            r.check(false, format_args!("open {ko}: {e}"));
            return;
        }
    };
    if loaded() {
        r.check(false, "rnsid is not loaded before the hostile loads");
        return;
    }
    for b in bad_loads(modes) {
        let Ok(mut kmsg) = Kmsg::from_now() else {
            r.check(false, "open /dev/kmsg");
            return;
        };
        // Not through a String: the arguments may hold bytes that are not UTF-8.
        let got = sys::finit_module(&file, &b.args);
        let lines = kmsg.rnsid_lines();
        let stays_out = !loaded();
        if !stays_out {
            let _ = sys::delete_module("rnsid");
        }
        let all_named = b.lines.iter().all(|(value, wants)| {
            let shown = format!("{} refused", sys::shown(value));
            lines
                .iter()
                .any(|l| l.contains(&shown) && l.contains(wants))
        });
        r.check(
            got == Err(libc::EINVAL) && stays_out && lines.len() == b.lines.len() && all_named,
            format_args!(
                "insmod rnsid.ko {}: fails with EINVAL ({}), not loaded, {} log line(s) naming the value and what is accepted: {:?}",
                sys::shown(&b.args),
                got.map_or_else(sys::errname, |()| "loaded".into()),
                b.lines.len(),
                lines
            ),
        );
    }
    let mut good = vec![("fail_notify=0".to_string(), modes[0].clone(), "0")];
    let last = &modes[modes.len() - 1];
    good.push((
        format!("mode={last} fail_notify=4294967295"),
        last.clone(),
        "4294967295",
    ));
    good.push((format!("mode=\"{last}\" fail_notify=7"), last.clone(), "7"));
    for (args, mode, count) in good {
        let Ok(mut kmsg) = Kmsg::from_now() else {
            return;
        };
        let got = sys::finit_module(&file, args.as_bytes());
        let lines = kmsg.rnsid_lines();
        let reads = (
            sys::state("/sys/module/rnsid/parameters/mode"),
            sys::state("/sys/module/rnsid/parameters/fail_notify"),
        );
        let refusals = lines.iter().filter(|l| l.contains("refused")).count();
        r.check(
            got.is_ok() && reads == (mode.clone(), count.to_string()) && refusals == 0,
            format_args!("insmod rnsid.ko {args}: loads, reads back mode {mode}, fail_notify {count} ({reads:?}, {got:?})"),
        );
        // So that no notification fails in a net that dies before the next load.
        let _ = sys::write_once("/sys/module/rnsid/parameters/fail_notify", b"0");
        let gone = sys::delete_module("rnsid");
        r.check(
            gone.is_ok() && !loaded(),
            format_args!("rmmod rnsid after {args} ({gone:?})"),
        );
    }
}
