// SPDX-License-Identifier: GPL-2.0

//! The pure part of the listener: cutting a received datagram into netlink
//! messages and turning each into one line of the output file.
//!
//! Nothing here touches a socket or a file, so all of it is unit-tested.

use netlink_packet_core::{NetlinkBuffer, NetlinkMessage, NetlinkPayload, NLMSG_ALIGNTO};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::RouteNetlinkMessage;
use std::fmt::Write as _;

/// `RTM_NEWNSID` from `<linux/rtnetlink.h>`.
pub const RTM_NEWNSID: u16 = 88;
/// `RTM_DELNSID` from `<linux/rtnetlink.h>`.
pub const RTM_DELNSID: u16 = 89;

/// One piece of a received datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// A whole netlink message: exactly `nlmsg_len` bytes, header included.
    Message(&'a [u8]),
    /// Trailing bytes that do not hold a whole message: shorter than a
    /// header, or shorter than the `nlmsg_len` their header announces (or
    /// announcing less than a header). Always the last chunk.
    Truncated(&'a [u8]),
}

/// Iterator over the netlink messages of one datagram; see [`split`].
pub struct Split<'a> {
    rest: &'a [u8],
}

/// Cuts `buf` (what one `recv` returned) into its netlink messages.
///
/// Each message is `nlmsg_len` bytes long and the next one starts at the
/// following `NLMSG_ALIGN` (4-byte) boundary, as the kernel lays them out.
pub fn split(buf: &[u8]) -> Split<'_> {
    Split { rest: buf }
}

impl<'a> Iterator for Split<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // `new_checked` makes sure there is a full header, that
        // `nlmsg_len` covers at least the header, and that it does not run
        // past the end of the buffer.
        let Ok(nl) = NetlinkBuffer::new_checked(self.rest) else {
            return Some(Chunk::Truncated(std::mem::take(&mut self.rest)));
        };
        let len = nl.length() as usize;
        let (msg, _) = self.rest.split_at(len);
        let next = align(len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Chunk::Message(msg))
    }
}

/// `NLMSG_ALIGN`: rounds `len` up to the netlink message alignment.
fn align(len: usize) -> usize {
    let a = usize::from(NLMSG_ALIGNTO);
    len.div_ceil(a) * a
}

/// The `NETNSA_NSID` attribute of a whole netlink message, if the message is
/// an nsid message (`RTM_NEWNSID`, `RTM_DELNSID`, `RTM_GETNSID`) that decodes
/// and carries one.
pub fn nsid_of(msg: &[u8]) -> Option<i32> {
    let decoded = NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg).ok()?;
    let nsid_msg: NsidMessage = match decoded.payload {
        NetlinkPayload::InnerMessage(
            RouteNetlinkMessage::NewNsId(m)
            | RouteNetlinkMessage::DelNsId(m)
            | RouteNetlinkMessage::GetNsId(m),
        ) => m,
        _ => return None,
    };
    nsid_msg.attributes.iter().find_map(|a| match a {
        NsidAttribute::Id(id) => Some(*id),
        _ => None,
    })
}

/// Lowercase hex of `bytes`, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The output line (newline included) for chunk number `seq`:
///
/// * `<seq> <type> nsid=<N> <hex>` for a whole message, where `<type>` is
///   `NEWNSID`, `DELNSID` or `type=<number>` and `<N>` is the `NETNSA_NSID`
///   value or `-`;
/// * `<seq> TRUNCATED <hex>` for bytes that hold no whole message.
pub fn chunk_line(seq: u64, chunk: &Chunk<'_>) -> String {
    match chunk {
        Chunk::Message(msg) => {
            // A `Message` always holds a full header (see `Split`).
            let ty = NetlinkBuffer::new(*msg).message_type();
            let ty = match ty {
                RTM_NEWNSID => "NEWNSID".to_string(),
                RTM_DELNSID => "DELNSID".to_string(),
                n => format!("type={n}"),
            };
            let nsid = nsid_of(msg).map_or_else(|| "-".to_string(), |n| n.to_string());
            format!("{seq} {ty} nsid={nsid} {}\n", hex(msg))
        }
        Chunk::Truncated(bytes) => format!("{seq} TRUNCATED {}\n", hex(bytes)),
    }
}

/// The output line (newline included) for a failed `recv` with `errno`.
pub fn error_line(seq: u64, errno: i32) -> String {
    let err = std::io::Error::from_raw_os_error(errno).to_string();
    // std formats it as "<strerror text> (os error N)": keep only the text.
    let suffix = format!(" (os error {errno})");
    let text = err.strip_suffix(&suffix).unwrap_or(&err);
    format!("{seq} ERROR errno={errno} {text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made nsid message: 16-byte `nlmsghdr`, 4-byte `rtgenmsg`
    /// (family 0 and 3 pad bytes), one 8-byte `NETNSA_NSID` attribute.
    fn nsid_msg(ty: u16, seq: u32, nsid: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&28u32.to_ne_bytes()); // nlmsg_len
        m.extend_from_slice(&ty.to_ne_bytes()); // nlmsg_type
        m.extend_from_slice(&0u16.to_ne_bytes()); // nlmsg_flags
        m.extend_from_slice(&seq.to_ne_bytes()); // nlmsg_seq
        m.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
        m.extend_from_slice(&[0, 0, 0, 0]); // rtgenmsg
        m.extend_from_slice(&8u16.to_ne_bytes()); // nla_len
        m.extend_from_slice(&1u16.to_ne_bytes()); // nla_type NETNSA_NSID
        m.extend_from_slice(&nsid.to_ne_bytes());
        assert_eq!(m.len(), 28);
        m
    }

    #[test]
    fn delnsid_line() {
        let m = nsid_msg(RTM_DELNSID, 0, 5);
        let line = chunk_line(1, &Chunk::Message(&m));
        // The hex below is for a little-endian host.
        #[cfg(target_endian = "little")]
        assert_eq!(
            line,
            "1 DELNSID nsid=5 \
             1c000000590000000000000000000000000000000800010005000000\n"
        );
        assert!(line.starts_with("1 DELNSID nsid=5 "));
        assert_eq!(line.trim_end().rsplit(' ').next().unwrap(), hex(&m));
    }

    #[test]
    fn newnsid_and_negative_nsid() {
        let m = nsid_msg(RTM_NEWNSID, 0, -1);
        let line = chunk_line(7, &Chunk::Message(&m));
        assert!(line.starts_with("7 NEWNSID nsid=-1 "), "{line}");
    }

    #[test]
    fn other_type_has_number_and_no_nsid() {
        // An RTM_NEWLINK-typed header with an empty payload: no nsid.
        let mut m = nsid_msg(16, 0, 3);
        m.truncate(16);
        m[..4].copy_from_slice(&16u32.to_ne_bytes());
        let line = chunk_line(2, &Chunk::Message(&m));
        assert_eq!(line, format!("2 type=16 nsid=- {}\n", hex(&m)));
    }

    #[test]
    fn nsid_message_without_attribute() {
        // Header plus rtgenmsg only: decodes, but has no NETNSA_NSID.
        let mut m = nsid_msg(RTM_DELNSID, 0, 3);
        m.truncate(20);
        m[..4].copy_from_slice(&20u32.to_ne_bytes());
        assert_eq!(nsid_of(&m), None);
        assert!(chunk_line(3, &Chunk::Message(&m)).starts_with("3 DELNSID nsid=- "));
    }

    #[test]
    fn nsid_message_with_cut_attribute() {
        // nlmsg_len says 24: the attribute header is there, its value not.
        let mut m = nsid_msg(RTM_NEWNSID, 0, 3);
        m.truncate(24);
        m[..4].copy_from_slice(&24u32.to_ne_bytes());
        assert_eq!(nsid_of(&m), None);
        assert!(chunk_line(4, &Chunk::Message(&m)).starts_with("4 NEWNSID nsid=- "));
    }

    #[test]
    fn splits_several_messages() {
        let a = nsid_msg(RTM_NEWNSID, 1, 5);
        // A 22-byte message: the next one starts after 2 bytes of padding.
        let mut b = nsid_msg(17, 2, 0);
        b.truncate(22);
        b[..4].copy_from_slice(&22u32.to_ne_bytes());
        let c = nsid_msg(RTM_DELNSID, 3, 5);

        let mut buf = a.clone();
        buf.extend_from_slice(&b);
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&c);

        let chunks: Vec<_> = split(&buf).collect();
        assert_eq!(
            chunks,
            vec![Chunk::Message(&a), Chunk::Message(&b), Chunk::Message(&c)]
        );
        assert_eq!(nsid_of(&a), Some(5));
        assert_eq!(nsid_of(&c), Some(5));
    }

    #[test]
    fn last_message_without_padding() {
        // The final message of a datagram need not be padded.
        let mut a = nsid_msg(17, 1, 0);
        a.truncate(22);
        a[..4].copy_from_slice(&22u32.to_ne_bytes());
        let chunks: Vec<_> = split(&a).collect();
        assert_eq!(chunks, vec![Chunk::Message(&a)]);
    }

    #[test]
    fn truncated_message() {
        let a = nsid_msg(RTM_NEWNSID, 1, 5);
        let b = nsid_msg(RTM_DELNSID, 2, 5);
        let mut buf = a.clone();
        buf.extend_from_slice(&b[..20]); // says 28 bytes, has 20

        let chunks: Vec<_> = split(&buf).collect();
        assert_eq!(chunks, vec![Chunk::Message(&a), Chunk::Truncated(&b[..20])]);
        assert_eq!(
            chunk_line(2, &chunks[1]),
            format!("2 TRUNCATED {}\n", hex(&b[..20]))
        );
    }

    #[test]
    fn short_or_bogus_headers_are_truncated() {
        // Fewer bytes than a header.
        assert_eq!(
            split(&[1, 2, 3]).collect::<Vec<_>>(),
            vec![Chunk::Truncated(&[1, 2, 3])]
        );
        // nlmsg_len smaller than a header: must not loop forever.
        let mut m = nsid_msg(RTM_NEWNSID, 1, 5);
        m[..4].copy_from_slice(&0u32.to_ne_bytes());
        assert_eq!(split(&m).collect::<Vec<_>>(), vec![Chunk::Truncated(&m)]);
        assert_eq!(split(&[]).count(), 0);
    }

    #[test]
    fn error_lines() {
        assert_eq!(
            error_line(3, libc::ENOBUFS),
            format!(
                "3 ERROR errno={} No buffer space available\n",
                libc::ENOBUFS
            )
        );
        assert_eq!(
            error_line(4, libc::ENOMEM),
            format!("4 ERROR errno={} Cannot allocate memory\n", libc::ENOMEM)
        );
    }
}
