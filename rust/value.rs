// SPDX-License-Identifier: GPL-2.0

//! What rnsid's knobs accept from user space, and how a refused value appears in the log.
//!
//! Every knob takes one exact word or number, optionally followed by one newline (as `echo`
//! writes it). Nothing else: no leading or trailing blanks, no other case, no sign, no second
//! line. A value rnsid refuses is logged through [`Shown`], which escapes what is not printable
//! and cuts what is long, so that a hostile value can neither break the log line nor push what
//! is accepted off its end.
//!
//! Pure logic, free of kernel types, so that it is also unit-tested on the host.

use core::fmt;

/// `value` without the one trailing newline `echo` adds, if it has one.
pub(crate) fn line(value: &[u8]) -> &[u8] {
    value.strip_suffix(b"\n").unwrap_or(value)
}

/// Why a count was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountError {
    /// Not a plain decimal number (`-EINVAL`).
    Invalid,
    /// Decimal, but above `u32::MAX` (`-ERANGE`).
    TooLarge,
}

/// What [`count`] accepts, for the log.
pub(crate) const COUNT_ACCEPTED: &str =
    "a decimal count from 0 to 4294967295, no sign or leading zero";

/// Parses a count: decimal digits, without sign, base prefix or leading zero (so that `010` is
/// never read as the 8 the kernel's `kstrtouint(.., 0, ..)` makes of it), at most `u32::MAX`.
pub(crate) fn count(value: &[u8]) -> Result<u32, CountError> {
    let digits = line(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(CountError::Invalid);
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(CountError::Invalid);
    }
    digits.iter().try_fold(0u32, |n, d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(d - b'0')))
            .ok_or(CountError::TooLarge)
    })
}

/// How many bytes of a refused value the log shows.
const SHOWN_MAX: usize = 32;

/// A value from user space as a log line shows it, quoted: printable ASCII as is, every other
/// byte escaped (`\n`, `\t`, `\xNN`), at most [`SHOWN_MAX`] bytes of it, and its length when it
/// is longer: `'abc'`, `'aaaa...' (4096 bytes)`.
pub(crate) struct Shown<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = &self.0[..self.0.len().min(SHOWN_MAX)];
        f.write_str("'")?;
        for &b in head {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' | b'\'' => write!(f, "\\{}", char::from(b))?,
                0x20..=0x7e => write!(f, "{}", char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        if head.len() < self.0.len() {
            write!(f, "...' ({} bytes)", self.0.len())
        } else {
            f.write_str("'")
        }
    }
}
