// SPDX-License-Identifier: GPL-2.0

//! rnsid's KUnit suite, `rnsid`: the module's own pieces, run against the running kernel.
//!
//! - `delnsid_message`: [`Message::delnsid`] builds, for ids 0, 1 and `i32::MAX`, exactly the
//!   bytes of an `RTM_DELNSID` message laid out here by hand from the netlink formats.
//! - `pernet_registration`: a registered [`Operations`] sees `init` once for every net on the
//!   list, with zeroed data, then at unregistration `pre_exit` for each, `exit` for each (after
//!   every `pre_exit`), and `exit_batch` once, after every `exit`, for the whole batch.
//! - `net_list_starts_at_init_net`: [`NetListGuard::iter`] starts at `init_net`, listed once.
//! - `ids_agree_with_peernet2id`: for ids the case allocates in `init_net` with the kernel's
//!   `peernet2id_alloc()`, [`NsidGuard`]'s `find`, `next`, `lookup` and `iter` agree with
//!   `peernet2id()`.
//! - `removed_id_is_gone`: after [`NsidGuard::remove`], neither `peernet2id()` nor rnsid's view
//!   finds the id; the others stay.
//!
//! The cases are plain functions. On 7.x `#[kunit_tests]` makes them a suite; 6.12's kernel
//! crate has no such macro, so there a C suite (`kunit_suite.c`) calls them through the
//! `extern "C"` shims at the end: the same cases on both series. They report with [`expect!`],
//! which fails the case in KUnit's words and goes on: an expectation, not an assertion, so that
//! a failing case still releases the locks and ids it took. The suite is built into
//! `rnsid_kunit.ko` (`rnsid_kunit.rs`), never into `rnsid.ko`, whose loads must not run it.
//!
//! The nsid cases need nets besides `init_net` that have no id in it yet (the guest scenario
//! `05-kunit.sh` makes three before it loads the module); without two they are skipped.

use crate::{
    bindings,
    net::{ExitIter, Net, NetListGuard},
    notify::Message,
    pernet::{Operations, PernetId, Registration, ZeroInit},
};
use core::{
    ffi::{c_char, c_int},
    fmt,
    sync::atomic::{AtomicU32, Ordering::SeqCst},
};
use kernel::prelude::*;

/// A failure or diagnostic line for KUnit: formatted, cut to fit, NUL-terminated.
struct Text {
    buf: [u8; 384],
    len: usize,
}

impl Text {
    fn of(args: fmt::Arguments<'_>) -> Self {
        let mut text = Text {
            buf: [0; 384],
            len: 0,
        };
        let _ = fmt::write(&mut text, args);
        text
    }

    fn as_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The last byte stays the NUL.
        let n = s.len().min(self.buf.len() - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Fails the running case with `msg` at `file:line` (`file` NUL-terminated); it goes on.
fn fail(file: &'static str, line: u32, msg: fmt::Arguments<'_>) {
    let text = Text::of(msg);
    // SAFETY: `file` ends in a NUL (`expect!` appends it) and `text` is NUL-terminated; both
    // outlive the call, which only formats them.
    unsafe { bindings::rnsid_kunit_fail(file.as_ptr().cast(), line as c_int, text.as_ptr()) };
}

/// Marks the running case skipped, `why` its reason; the case should return.
fn skip(why: &str) {
    let text = Text::of(format_args!("{why}"));
    // SAFETY: `text` is NUL-terminated and outlives the call, which copies it.
    unsafe { bindings::rnsid_kunit_skip(text.as_ptr()) };
}

/// A diagnostic line in the running case's KTAP.
fn info(msg: fmt::Arguments<'_>) {
    let text = Text::of(msg);
    // SAFETY: `text` is NUL-terminated and outlives the call, which copies it.
    unsafe { bindings::rnsid_kunit_info(text.as_ptr()) };
}

/// Fails the running case unless `$cond`, with the message, and goes on (KUnit's `EXPECT`).
macro_rules! expect {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            fail(concat!(file!(), "\0"), line!(), format_args!($($msg)+));
        }
    };
}

// --- RTM_DELNSID ------------------------------------------------------------------------------

/// `RTM_DELNSID` (`include/uapi/linux/rtnetlink.h`), written out rather than taken from the code
/// under test.
const RTM_DELNSID: u16 = 89;
/// `NETNSA_NSID` (`include/uapi/linux/net_namespace.h`).
const NETNSA_NSID: u16 = 1;
/// `AF_UNSPEC`.
const AF_UNSPEC: u8 = 0;
/// The whole message: `nlmsghdr` (16), `rtgenmsg` padded to 4, a `NETNSA_NSID` attribute (8).
const DELNSID_LEN: usize = 28;

/// An `RTM_DELNSID` for `id` laid out by hand, as `rtnl_net_fill()` writes it, host byte order.
fn delnsid_by_hand(id: i32) -> [u8; DELNSID_LEN] {
    let mut m = [0u8; DELNSID_LEN];
    // struct nlmsghdr: len, type, flags (none), seq (0), portid (0).
    m[0..4].copy_from_slice(&(DELNSID_LEN as u32).to_ne_bytes());
    m[4..6].copy_from_slice(&RTM_DELNSID.to_ne_bytes());
    // struct rtgenmsg: the family, then 3 bytes of padding, zeroed.
    m[16] = AF_UNSPEC;
    // struct nlattr: len (header and an s32), type; then the s32.
    m[20..22].copy_from_slice(&8u16.to_ne_bytes());
    m[22..24].copy_from_slice(&NETNSA_NSID.to_ne_bytes());
    m[24..28].copy_from_slice(&id.to_ne_bytes());
    m
}

/// The `RTM_DELNSID` rnsid sends equals the one laid out by hand, for ids 0, 1 and a large one.
pub(crate) fn delnsid_message() {
    for id in [0, 1, i32::MAX] {
        let want = delnsid_by_hand(id);
        match Message::delnsid(id) {
            Ok(msg) => {
                let got = msg.bytes();
                expect!(
                    got == want.as_slice(),
                    "id {id}: built {:02x?}, laid out by hand {:02x?}",
                    got,
                    want
                );
            }
            Err(err) => expect!(false, "id {id}: building the message failed: {err:?}"),
        }
    }
}

// --- pernet -----------------------------------------------------------------------------------

/// What [`Probe`]'s callbacks saw, counted as they ran.
struct Seen {
    inits: AtomicU32,
    /// `init` found the net's data not zeroed, or not fresh (a second `init`).
    dirty_at_init: AtomicU32,
    pre_exits: AtomicU32,
    exits: AtomicU32,
    /// A callback found the net's data in a state its predecessor did not leave, or an `exit`
    /// ran before every `pre_exit`.
    out_of_order: AtomicU32,
    batches: AtomicU32,
    batch_nets: AtomicU32,
    /// An `exit_batch` ran before `exit` of each net of its batch.
    batch_early: AtomicU32,
}

impl Seen {
    const fn new() -> Self {
        Self {
            inits: AtomicU32::new(0),
            dirty_at_init: AtomicU32::new(0),
            pre_exits: AtomicU32::new(0),
            exits: AtomicU32::new(0),
            out_of_order: AtomicU32::new(0),
            batches: AtomicU32::new(0),
            batch_nets: AtomicU32::new(0),
            batch_early: AtomicU32::new(0),
        }
    }

    fn counters(&self) -> [&AtomicU32; 8] {
        [
            &self.inits,
            &self.dirty_at_init,
            &self.pre_exits,
            &self.exits,
            &self.out_of_order,
            &self.batches,
            &self.batch_nets,
            &self.batch_early,
        ]
    }
}

static SEEN: Seen = Seen::new();

/// [`Probe`]'s per-net data: where the net is in its life, as the callbacks saw it.
struct ProbeData {
    state: AtomicU32,
}

// SAFETY: all-zero bytes are an `AtomicU32` of 0, which needs no `Drop`.
unsafe impl ZeroInit for ProbeData {}

const FRESH: u32 = 0;
const INITED: u32 = 1;
const PRE_EXITED: u32 = 2;
const EXITED: u32 = 3;

/// Pernet operations that only record what they are told.
struct Probe;

static PROBE_ID: PernetId = PernetId::new();

#[vtable]
impl Operations for Probe {
    type Data = ProbeData;
    const ID: &'static PernetId = &PROBE_ID;

    fn init(_net: Net<'_>, data: &ProbeData) -> Result {
        if data.state.swap(INITED, SeqCst) != FRESH {
            SEEN.dirty_at_init.fetch_add(1, SeqCst);
        }
        SEEN.inits.fetch_add(1, SeqCst);
        Ok(())
    }

    fn pre_exit(_net: Net<'_>, data: &ProbeData) {
        if data.state.swap(PRE_EXITED, SeqCst) != INITED {
            SEEN.out_of_order.fetch_add(1, SeqCst);
        }
        SEEN.pre_exits.fetch_add(1, SeqCst);
    }

    fn exit(_net: Net<'_>, data: &ProbeData) {
        // Every net of the batch had its `pre_exit` first: all of them, here.
        if data.state.swap(EXITED, SeqCst) != PRE_EXITED
            || SEEN.pre_exits.load(SeqCst) != SEEN.inits.load(SeqCst)
        {
            SEEN.out_of_order.fetch_add(1, SeqCst);
        }
        SEEN.exits.fetch_add(1, SeqCst);
    }

    fn exit_batch(nets: ExitIter<'_>) {
        let n = nets.count() as u32;
        let before = SEEN.batch_nets.fetch_add(n, SeqCst);
        if SEEN.exits.load(SeqCst) < before + n {
            SEEN.batch_early.fetch_add(1, SeqCst);
        }
        SEEN.batches.fetch_add(1, SeqCst);
    }
}

/// A registered [`Operations`] is called for every net, in the documented order.
pub(crate) fn pernet_registration() {
    for counter in SEEN.counters() {
        counter.store(0, SeqCst);
    }
    // Counted before, not during: registering takes `pernet_ops_rwsem`, which ranks above
    // `net_rwsem`. The guest makes and kills no net meanwhile.
    let nets = NetListGuard::read().iter().count() as u32;
    let registration = KBox::pin_init(Registration::<Probe>::new(), GFP_KERNEL);
    let inits = SEEN.inits.load(SeqCst);
    let registered = registration.is_ok();
    drop(registration);
    let [_, dirty, pre_exits, exits, out_of_order, batches, batch_nets, batch_early] =
        SEEN.counters().map(|c| c.load(SeqCst));
    info(format_args!(
        "{nets} nets: {inits} init, {pre_exits} pre_exit, {exits} exit, {batches} exit_batch \
         for {batch_nets} nets"
    ));
    expect!(registered, "register_pernet_subsys() failed");
    expect!(
        inits == nets,
        "init ran {inits} times for the {nets} nets on the list"
    );
    expect!(
        dirty == 0,
        "init found the data of {dirty} net(s) not zeroed"
    );
    expect!(
        pre_exits == inits,
        "pre_exit ran {pre_exits} times for {inits} nets"
    );
    expect!(exits == inits, "exit ran {exits} times for {inits} nets");
    expect!(
        out_of_order == 0,
        "{out_of_order} callback(s) out of order (an exit before every pre_exit, or a net's \
         callbacks not init, pre_exit, exit)"
    );
    expect!(
        batches == 1,
        "exit_batch ran {batches} times for the one batch of unregistration"
    );
    expect!(
        batch_nets == inits,
        "exit_batch was given {batch_nets} nets, not the {inits} set up"
    );
    expect!(batch_early == 0, "exit_batch ran before exit of its nets");
}

// --- the Net view -----------------------------------------------------------------------------

/// [`NetListGuard::iter`] starts at `init_net`, which it lists once.
pub(crate) fn net_list_starts_at_init_net() {
    let init = Net::init_net();
    let (first, count, seen) = {
        let nets = NetListGuard::read();
        let first = nets.iter().next().map(|net| (net == init, net.inum()));
        let seen = nets.iter().filter(|net| *net == init).count();
        (first, nets.iter().count(), seen)
    };
    expect!(
        matches!(first, Some((true, _))),
        "the list starts at net:[{:?}], not init_net, net:[{}]",
        first.map(|(_, inum)| inum),
        init.inum()
    );
    expect!(
        seen == 1,
        "init_net is listed {seen} times among {count} nets"
    );
}

/// Peers the nsid cases give an id in `init_net`, at most.
const PEERS: usize = 4;

/// Ids a case allocated in `init_net` for nets that had none there; removed again on drop.
struct Ids<'a> {
    home: Net<'static>,
    peers: [Option<(Net<'a>, i32)>; PEERS],
}

impl<'a> Ids<'a> {
    /// Gives up to [`PEERS`] nets of `nets` that have no id in `init_net` one, as the kernel
    /// does (`peernet2id_alloc()`).
    fn alloc(nets: &'a NetListGuard) -> Self {
        let home = Net::init_net();
        let mut peers = [None; PEERS];
        let mut n = 0;
        for peer in nets.iter().filter(|net| *net != home) {
            if n == PEERS {
                break;
            }
            // An id the case did not make is not the case's to remove.
            if home.peernet2id(peer).is_some() {
                continue;
            }
            if let Some(id) = home.peernet2id_alloc(peer) {
                peers[n] = Some((peer, id));
                n += 1;
            }
        }
        Self { home, peers }
    }

    fn iter(&self) -> impl Iterator<Item = (Net<'a>, i32)> + '_ {
        self.peers.iter().flatten().copied()
    }

    /// Whether there are enough for the case (if not, the case is skipped); logs them.
    fn enough(&self) -> bool {
        let ids = self.peers.map(|peer| peer.map(|(_, id)| id));
        info(format_args!("ids given in init_net: {ids:?}"));
        if self.iter().count() >= 2 {
            return true;
        }
        skip("needs two nets besides init_net without an id in it (05-kunit.sh makes three)");
        false
    }
}

impl Drop for Ids<'_> {
    fn drop(&mut self) {
        let mut table = self.home.lock_ids();
        for (peer, id) in self.iter() {
            if table.lookup(id) == Some(peer.as_ptr()) {
                table.remove(id);
            }
        }
    }
}

/// What rnsid's view said of one peer's id, read under `nsid_lock`.
#[derive(Clone, Copy, Default)]
struct View {
    find: Option<i32>,
    next: Option<(i32, bool)>,
    lookup: bool,
    listed: bool,
}

/// For ids set up by the kernel, `find`, `next`, `lookup` and `iter` agree with `peernet2id()`.
pub(crate) fn ids_agree_with_peernet2id() {
    let nets = NetListGuard::read();
    let ids = Ids::alloc(&nets);
    if !ids.enough() {
        return;
    }
    // Read under the lock, judged once it is released: failing a case logs and allocates.
    let mut views = [View::default(); PEERS];
    let mut ordered = true;
    {
        let table = ids.home.lock_ids();
        for ((peer, id), view) in ids.iter().zip(views.iter_mut()) {
            view.find = table.find(peer);
            view.next = table.next(id).map(|(at, net)| (at, net == peer));
            view.lookup = table.lookup(id) == Some(peer.as_ptr());
        }
        let mut last = -1;
        for (id, net) in table.iter() {
            ordered &= id > last;
            last = id;
            for ((peer, ours), view) in ids.iter().zip(views.iter_mut()) {
                view.listed |= id == ours && net == peer;
            }
        }
    }
    for ((peer, id), view) in ids.iter().zip(views.iter()) {
        let kernel = ids.home.peernet2id(peer);
        expect!(
            kernel == Some(id),
            "peernet2id() says {kernel:?} of a peer allocated id {id}"
        );
        expect!(
            view.find == kernel,
            "find() says {:?}, peernet2id() {kernel:?}",
            view.find
        );
        expect!(
            view.next == Some((id, true)),
            "next({id}) gives {:?}, not ({id}, the peer)",
            view.next
        );
        expect!(view.lookup, "lookup({id}) is not the peer");
        expect!(view.listed, "iter() does not list ({id}, the peer)");
    }
    expect!(ordered, "iter() does not list the ids in increasing order");
}

/// After [`NsidGuard::remove`](crate::net::NsidGuard::remove) neither `peernet2id()` nor
/// rnsid's view finds the id; the others stay.
pub(crate) fn removed_id_is_gone() {
    let nets = NetListGuard::read();
    let ids = Ids::alloc(&nets);
    if !ids.enough() {
        return;
    }
    let mut peers = ids.iter();
    let (Some((gone, gone_id)), Some((kept, kept_id))) = (peers.next(), peers.next()) else {
        return;
    };
    let (find, lookup, next, kept_find) = {
        let mut table = ids.home.lock_ids();
        table.remove(gone_id);
        (
            table.find(gone),
            table.lookup(gone_id).is_some(),
            table.next(gone_id).map(|(id, _)| id),
            table.find(kept),
        )
    };
    let kernel = ids.home.peernet2id(gone);
    expect!(
        kernel.is_none(),
        "peernet2id() still gives {kernel:?} for removed id {gone_id}"
    );
    expect!(
        find.is_none(),
        "find() still gives {find:?} for removed id {gone_id}"
    );
    expect!(!lookup, "lookup({gone_id}) still finds a net");
    expect!(
        next != Some(gone_id),
        "next({gone_id}) still gives {gone_id}"
    );
    let kernel = ids.home.peernet2id(kept);
    expect!(
        kept_find == Some(kept_id) && kernel == Some(kept_id),
        "id {kept_id} of another peer: find() {kept_find:?}, peernet2id() {kernel:?}"
    );
}

// --- the suite --------------------------------------------------------------------------------

/// The suite on 7.x, by the kernel crate's own macro: one case per function above.
#[cfg(rnsid_v7)]
#[kunit_tests(rnsid)]
mod suite {
    #[test]
    fn delnsid_message() {
        super::delnsid_message()
    }

    #[test]
    fn pernet_registration() {
        super::pernet_registration()
    }

    #[test]
    fn net_list_starts_at_init_net() {
        super::net_list_starts_at_init_net()
    }

    #[test]
    fn ids_agree_with_peernet2id() {
        super::ids_agree_with_peernet2id()
    }

    #[test]
    fn removed_id_is_gone() {
        super::removed_id_is_gone()
    }
}

/// The cases for 6.12's C suite (`kunit_suite.c`), which lists them in the same order.
#[cfg(not(rnsid_v7))]
mod c_suite {
    #[no_mangle]
    extern "C" fn rnsid_kunit_delnsid_message() {
        super::delnsid_message()
    }

    #[no_mangle]
    extern "C" fn rnsid_kunit_pernet_registration() {
        super::pernet_registration()
    }

    #[no_mangle]
    extern "C" fn rnsid_kunit_net_list_starts_at_init_net() {
        super::net_list_starts_at_init_net()
    }

    #[no_mangle]
    extern "C" fn rnsid_kunit_ids_agree_with_peernet2id() {
        super::ids_agree_with_peernet2id()
    }

    #[no_mangle]
    extern "C" fn rnsid_kunit_removed_id_is_gone() {
        super::removed_id_is_gone()
    }
}
