// SPDX-License-Identifier: GPL-2.0

//! The netlink requests a scenario needs, made with the netlink crates: set an nsid (one or a
//! batch), make a veth pair across namespaces, list a namespace's ids; what the benchmark times
//! (`RTM_GETNSID`, a link's queue length); and a recorder of `RTNLGRP_NSID`.

use netlink_packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `RTNLGRP_NSID` from `<linux/rtnetlink.h>`.
pub const RTNLGRP_NSID: u32 = 28;

const RECV_BUF_LEN: usize = 64 * 1024;
/// Receive errors a drain notes before it gives up on the socket.
pub const MAX_RECV_ERRORS: usize = 16;

/// A request socket in one namespace.
pub struct Rtnl {
    sock: Socket,
    seq: u32,
    /// Where answers are received, allocated once: zeroing 64 KiB for each request was most
    /// of what a `list_ids()` cost under TCG with `-cpu max` (glibc's AVX2 `memset`).
    rx: Vec<u8>,
}

fn error(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl Rtnl {
    /// Opens one in the current namespace.
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        Ok(Rtnl {
            sock,
            seq: 0,
            rx: vec![0; RECV_BUF_LEN],
        })
    }

    /// Sends `msg` and collects the answers up to the ack (or the end of the dump).
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq += 1;
        let mut nl = NetlinkMessage::from(msg);
        nl.header.flags = NLM_F_REQUEST | flags;
        nl.header.sequence_number = self.seq;
        nl.finalize();
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.sock.send(&buf, 0)?;
        let mut out = Vec::new();
        let rx = &mut self.rx;
        loop {
            let len = self.sock.recv(&mut &mut rx[..], 0)?;
            let mut off = 0;
            while off < len {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[off..len])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                off += (reply.header.length as usize).next_multiple_of(4).max(16);
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends `msgs` in one datagram, each acked, and waits for every ack: one system call for
    /// a hundred ids instead of a hundred. Fails with the first error the kernel reported.
    fn request_batch(&mut self, msgs: Vec<RouteNetlinkMessage>, flags: u16) -> io::Result<()> {
        let first = self.seq + 1;
        let mut buf = Vec::new();
        for msg in msgs {
            self.seq += 1;
            let mut nl = NetlinkMessage::from(msg);
            nl.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            nl.header.sequence_number = self.seq;
            nl.finalize();
            let at = buf.len();
            buf.resize(at + nl.buffer_len(), 0);
            nl.serialize(&mut buf[at..]);
        }
        let mut waiting = (self.seq + 1 - first) as usize;
        if waiting == 0 {
            return Ok(());
        }
        self.sock.send(&buf, 0)?;
        let mut failed = None;
        let rx = &mut self.rx;
        while waiting > 0 {
            let len = self.sock.recv(&mut &mut rx[..], 0)?;
            let mut off = 0;
            while off < len {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[off..len])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                off += (reply.header.length as usize).next_multiple_of(4).max(16);
                if !(first..=self.seq).contains(&reply.header.sequence_number) {
                    continue;
                }
                if let NetlinkPayload::Error(e) = reply.payload {
                    waiting -= 1;
                    if let (None, Some(code)) = (&failed, e.code) {
                        failed = Some(io::Error::from_raw_os_error(-code.get()));
                    }
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// `ip netns set` for many peers at once: gives this namespace the id `id` for each
    /// `(peer, id)` (-1: the lowest free one).
    pub fn set_nsids(&mut self, ids: &[(BorrowedFd<'_>, i32)]) -> io::Result<()> {
        // Each ack takes room in the socket's receive buffer until read: a few dozen at a time.
        for part in ids.chunks(64) {
            let msgs = part
                .iter()
                .map(|(peer, id)| {
                    let mut msg = NsidMessage::default();
                    msg.attributes
                        .push(NsidAttribute::Fd(peer.as_raw_fd() as u32));
                    msg.attributes.push(NsidAttribute::Id(*id));
                    RouteNetlinkMessage::NewNsId(msg)
                })
                .collect();
            self.request_batch(msgs, NLM_F_CREATE | NLM_F_EXCL)
                .map_err(|e| error(&format!("RTM_NEWNSID x{}", part.len()), e))?;
        }
        Ok(())
    }

    /// `RTM_GETNSID`: the id this namespace has for `peer`, or -1.
    pub fn get_nsid(&mut self, peer: BorrowedFd<'_>) -> io::Result<i32> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(peer.as_raw_fd() as u32));
        let answers = self
            .request(RouteNetlinkMessage::GetNsId(msg), NLM_F_ACK)
            .map_err(|e| error("RTM_GETNSID", e))?;
        Ok(answers.iter().find_map(nsid_in).unwrap_or(-1))
    }

    /// `ip link set dev INDEX txqueuelen QLEN`: an `RTM_NEWLINK` that takes `rtnl_lock()` and
    /// nothing else of note (taking a link down or up would also wait for an RCU grace period,
    /// which a long step delays on a kernel without preemption).
    pub fn set_txqlen(&mut self, index: u32, qlen: u32) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::TxQueueLen(qlen));
        self.request(RouteNetlinkMessage::NewLink(link), NLM_F_ACK)
            .map(drop)
            .map_err(|e| error(&format!("RTM_NEWLINK index {index} txqueuelen"), e))
    }

    /// `ip netns set`: gives this namespace the id `id` for `peer`.
    pub fn set_nsid(&mut self, peer: BorrowedFd<'_>, id: i32) -> io::Result<()> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(peer.as_raw_fd() as u32));
        msg.attributes.push(NsidAttribute::Id(id));
        self.request(
            RouteNetlinkMessage::NewNsId(msg),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
        .map_err(|e| error(&format!("RTM_NEWNSID id {id}"), e))
    }

    /// A veth pair: `name` here, `peer_name` in `peer`.
    pub fn veth(&mut self, name: &str, peer: BorrowedFd<'_>, peer_name: &str) -> io::Result<()> {
        let mut other = LinkMessage::default();
        other
            .attributes
            .push(LinkAttribute::IfName(peer_name.into()));
        other
            .attributes
            .push(LinkAttribute::NetNsFd(peer.as_raw_fd()));
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName(name.into()));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(other))),
        ]));
        self.request(
            RouteNetlinkMessage::NewLink(link),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
        .map_err(|e| error(&format!("veth {name}/{peer_name}"), e))
    }

    /// `ip netns list-id`: the ids this namespace holds, sorted.
    pub fn list_ids(&mut self) -> io::Result<Vec<i32>> {
        let answers = self
            .request(
                RouteNetlinkMessage::GetNsId(NsidMessage::default()),
                NLM_F_DUMP,
            )
            .map_err(|e| error("RTM_GETNSID dump", e))?;
        let mut ids: Vec<i32> = answers.iter().filter_map(nsid_in).collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

/// A socket in one namespace that joined `RTNLGRP_NSID`, read without blocking.
pub struct Listener {
    sock: Socket,
    /// As [`Rtnl`]'s: allocated once.
    buf: RefCell<Vec<u8>>,
}

impl Listener {
    /// Opens one in the current namespace.
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        // Far more than a batch can queue; an overflow is reported by drain(), not lost.
        sock.set_rx_buf_sz(1 << 20)?;
        sock.add_membership(RTNLGRP_NSID)?;
        sock.set_non_blocking(true)?;
        Ok(Listener {
            sock,
            buf: RefCell::new(vec![0; RECV_BUF_LEN]),
        })
    }

    /// Every message received so far, raw, in order.
    pub fn drain(&self) -> io::Result<Vec<Vec<u8>>> {
        let (out, errors) = self.drain_noting_errors()?;
        match errors.first() {
            Some(&e) => Err(error(
                "RTNLGRP_NSID listener",
                io::Error::from_raw_os_error(e),
            )),
            None => Ok(out),
        }
    }

    /// Every message received so far, raw, in order, and the errors receives failed with on
    /// the way: a socket error (`sk_err`, set by `rtnl_set_sk_err()` or a netlink overrun)
    /// fails one receive and is cleared by it, and the messages queued behind it are still
    /// there to read.
    pub fn drain_noting_errors(&self) -> io::Result<(Vec<Vec<u8>>, Vec<i32>)> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut buf = self.buf.borrow_mut();
        loop {
            let len = match self.sock.recv(&mut &mut buf[..], 0) {
                Ok(len) => len,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((out, errors)),
                // One error per fault at most; many in a row is a socket that stays broken.
                Err(e) if errors.len() < MAX_RECV_ERRORS && e.raw_os_error().is_some() => {
                    errors.extend(e.raw_os_error());
                    continue;
                }
                Err(e) => return Err(error("RTNLGRP_NSID listener", e)),
            };
            for chunk in crate::record::split(&buf[..len]) {
                match chunk {
                    crate::record::Chunk::Message(m) => out.push(m.to_vec()),
                    crate::record::Chunk::Truncated(b) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("truncated netlink message: {}", crate::record::hex(b)),
                        ))
                    }
                }
            }
        }
    }
}

/// The id an `RTM_NEWNSID` answer carries (`NETNSA_NSID`), if `m` is one.
fn nsid_in(m: &RouteNetlinkMessage) -> Option<i32> {
    match m {
        RouteNetlinkMessage::NewNsId(n) => n.attributes.iter().find_map(|a| match a {
            NsidAttribute::Id(id) => Some(*id),
            _ => None,
        }),
        _ => None,
    }
}
