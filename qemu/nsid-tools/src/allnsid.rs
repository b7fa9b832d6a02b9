// SPDX-License-Identifier: GPL-2.0

//! An `RTNLGRP_NSID` listener with `NETLINK_LISTEN_ALL_NSID`: it also receives the messages of
//! every net its own net holds an id for, each tagged (in a control message) with that id.
//! And the decoding of received nsid messages into the oracle's [`Note`]s.

use crate::oracle::{Kind, Note};
use crate::record::{self, RTM_DELNSID, RTM_NEWNSID};
use crate::rtnl::{MAX_RECV_ERRORS, RTNLGRP_NSID};
use netlink_packet_core::NetlinkBuffer;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// `NETLINK_LISTEN_ALL_NSID` from `<linux/netlink.h>`.
pub const NETLINK_LISTEN_ALL_NSID: libc::c_int = 8;

fn setsockopt(
    sock: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the socket is open and `v` lives for the call, which copies it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&raw const v).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One `recvmsg()` on the netlink socket `fd` into `buf`, with `flags`: the bytes received,
/// and the nsid a `NETLINK_LISTEN_ALL_NSID` control message tags them with (`None`: none, the
/// socket's own net).
pub fn recv_tagged(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<(usize, Option<i32>)> {
    // Room for one int-sized control message, aligned as the kernel lays it out.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is a valid empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: `msg` points at `iov`, `buf` and `control`, which outlive the call.
    let len = unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, flags) };
    if len < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut via = None;
    // SAFETY: `msg` was filled by recvmsg(); the CMSG macros stay within its control buffer,
    // and an SOL_NETLINK/NETLINK_LISTEN_ALL_NSID one carries an int.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_NETLINK && (*c).cmsg_type == NETLINK_LISTEN_ALL_NSID {
                via = Some(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>()));
            }
            c = libc::CMSG_NXTHDR(&raw const msg, c);
        }
    }
    Ok((len as usize, via))
}

/// What a drain gives: the messages with their tags, and the receive errors (errnos).
pub type Tagged = (Vec<(Vec<u8>, Option<i32>)>, Vec<i32>);

/// The listener; read without blocking.
pub struct AllListener(Socket);

impl AllListener {
    /// Opens one in the current namespace, with a receive buffer of `rcvbuf` bytes (forced past
    /// `rmem_max`: a batch can owe it hundreds of messages).
    pub fn open(rcvbuf: usize) -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
        setsockopt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size)?;
        setsockopt(&sock, libc::SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1)?;
        sock.add_membership(RTNLGRP_NSID)?;
        sock.set_non_blocking(true)?;
        Ok(AllListener(sock))
    }

    /// Every message received so far, raw, each with the nsid of the net it came from (`None`:
    /// its own net), and the errors receives failed with on the way (see
    /// [`crate::rtnl::Listener::drain_noting_errors`]).
    pub fn drain_noting_errors(&self) -> io::Result<Tagged> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let (len, via) = match recv_tagged(self.0.as_fd(), &mut buf, 0) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((out, errors)),
                Err(e) if errors.len() < MAX_RECV_ERRORS && e.raw_os_error().is_some() => {
                    errors.extend(e.raw_os_error());
                    continue;
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("NETLINK_LISTEN_ALL_NSID listener: {e}"),
                    ))
                }
            };
            for chunk in record::split(&buf[..len]) {
                match chunk {
                    record::Chunk::Message(m) => out.push((m.to_vec(), via)),
                    record::Chunk::Truncated(b) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("truncated netlink message: {}", record::hex(b)),
                        ))
                    }
                }
            }
        }
    }
}

/// A received message as the oracle counts it; an error for anything but an nsid message
/// carrying an id.
pub fn note(msg: &[u8], via: Option<i32>) -> Result<Note, String> {
    if msg.len() < 16 {
        return Err(format!("short message {}", record::hex(msg)));
    }
    let kind = match NetlinkBuffer::new(msg).message_type() {
        RTM_NEWNSID => Kind::New,
        RTM_DELNSID => Kind::Del,
        t => return Err(format!("unexpected message type {t}: {}", record::hex(msg))),
    };
    let id = record::nsid_of(msg)
        .ok_or_else(|| format!("nsid message without an id: {}", record::hex(msg)))?;
    Ok(Note { kind, id, via })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_from_messages() {
        // RTM_DELNSID, id 5 (little-endian host).
        let mut m = Vec::new();
        m.extend_from_slice(&28u32.to_ne_bytes());
        m.extend_from_slice(&RTM_DELNSID.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&1u16.to_ne_bytes());
        m.extend_from_slice(&5i32.to_ne_bytes());
        assert_eq!(
            note(&m, Some(3)),
            Ok(Note {
                kind: Kind::Del,
                id: 5,
                via: Some(3)
            })
        );
        m[4..6].copy_from_slice(&16u16.to_ne_bytes());
        assert!(note(&m, None).is_err());
        assert!(note(&m[..10], None).is_err());
    }
}
