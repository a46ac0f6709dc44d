//! The kernel ban sets: `bans_v4` and `bans_v6` (flags interval and
//! timeout) in Rampart's `inet` table, which the compiled policy drops
//! traffic from.
//!
//! Updates go to the kernel over nf_tables netlink, as one batch per call:
//! one transaction, all elements or none. Why not `nft -j -f -` like the
//! rest of the firewall: for 100,000 bans nft spends over a second in its
//! own parser and interval code before the kernel sees anything (1.5–2.5 s
//! measured here, JSON or plain syntax alike), while the kernel itself
//! needs about 0.3 s. The batch is built from parsed [`Cidr`] values and
//! integer timeouts only; nothing textual from a request reaches the
//! kernel, and there is no shell anywhere.
//!
//! Interval sets hold a prefix as two elements, as nft does: its first
//! address, and the address after its last one flagged as an interval end
//! (omitted when the prefix runs to the top of the address space). The
//! timeout sits on the first. Deleting uses `DESTROYSETELEM` (Linux 6.3+),
//! which ignores absent elements, so an element that already expired
//! cannot fail a whole batch; older kernels fall back to deleting only what
//! [`KernelBans::list`] shows.
//!
//! Listing is a netlink dump too ([`KernelBans::list`]);
//! [`KernelBans::list_via_nft`] reads the same through `nft -j` for
//! comparison.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use rampart_policy::compile::{set_names, FAMILY};
use rampart_policy::{listed_bans, Ban, Cidr};

use crate::netlink::{
    align4, attr, attrs, msg_end, msg_start, nest_end, nest_start, parse_answers, read_u16,
    read_u32, NlSocket, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_MULTI,
    NLM_F_REQUEST, SOL_NETLINK,
};
use crate::nft::{self, NftError};

/// Longest timeout sent to the kernel (100 years): longer values would
/// overflow the kernel's millisecond conversion and be refused; a century
/// is permanent enough.
pub const MAX_TIMEOUT_SECS: u64 = 100 * 365 * 24 * 3600;

/// A kernel element whose remaining time differs from the book's by more
/// than this is re-added by [`KernelBans::reconcile`] (re-adding an element
/// resets its timeout).
pub const RECONCILE_SLACK_SECS: u64 = 30;

/// Why a ban-set update failed. Each variant names the table.
#[derive(Debug, thiserror::Error)]
pub enum BanError {
    /// The table name is not one nft would accept.
    #[error("invalid nft table name {0:?} (ASCII letters, digits, _ and -, starting with a letter or _, at most 64)")]
    TableName(String),
    /// The netlink socket could not be opened or used.
    #[error("netlink socket for the ban sets of table {FAMILY} {table}: {source}")]
    Socket {
        /// The table.
        table: String,
        /// The system error.
        source: io::Error,
    },
    /// The kernel refused the batch; nothing changed.
    #[error("kernel refused to {op} ban elements in set {FAMILY} {table} {set}: {message}")]
    Kernel {
        /// `add` or `delete`.
        op: &'static str,
        /// The table.
        table: String,
        /// The set.
        set: &'static str,
        /// The (positive) errno.
        errno: i32,
        /// The system error text and the kernel's extended message.
        message: String,
    },
    /// The kernel answered fewer messages than were sent.
    #[error("kernel acknowledged {got} of {sent} ban messages for table {FAMILY} {table}")]
    MissingAck {
        /// The table.
        table: String,
        /// Messages acknowledged.
        got: usize,
        /// Messages sent.
        sent: usize,
    },
    /// Listing the sets through nft failed.
    #[error(transparent)]
    Nft(#[from] NftError),
}

/// What [`KernelBans::reconcile`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Elements the kernel held before.
    pub kernel_before: usize,
    /// Bans added because the kernel lacked them.
    pub added: usize,
    /// Bans re-added because their remaining time had drifted.
    pub refreshed: usize,
    /// Elements deleted because the book no longer has them.
    pub removed: usize,
}

/// The ban sets of one nft table. Cheap to build; each call opens its own
/// netlink socket, so it needs no state and no lock.
#[derive(Debug, Clone)]
pub struct KernelBans {
    table: String,
}

/// What a batch message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Destroy,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Destroy | Op::Delete => "delete",
        }
    }
}

impl KernelBans {
    /// The ban sets of table `inet TABLE` (a validated policy's table
    /// name). An invalid name is not refused here but by every call
    /// ([`BanError::TableName`]); [`KernelBans::try_new`] checks at once.
    pub fn new(table: &str) -> KernelBans {
        KernelBans {
            table: table.to_string(),
        }
    }

    /// Like [`KernelBans::new`], refusing a name nft would not accept
    /// (it also goes on nft's command line in [`KernelBans::list_via_nft`]).
    pub fn try_new(table: &str) -> Result<KernelBans, BanError> {
        let kb = KernelBans::new(table);
        kb.check()?;
        Ok(kb)
    }

    fn check(&self) -> Result<(), BanError> {
        let t = &self.table;
        let ok = t.len() <= 64
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(BanError::TableName(t.clone()))
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Adds `bans` in one transaction. Re-adding a banned prefix resets
    /// its timeout to the new one (how extensions reach the kernel). The
    /// bans must not overlap each other or the set's other elements (the
    /// kernel refuses overlapping intervals; `BanBook` never produces them).
    pub fn add(&self, bans: &[Ban]) -> Result<(), BanError> {
        self.apply(&[], bans)
    }

    /// Deletes `bans` (their timeouts are ignored) in one transaction;
    /// elements that are not in the set are skipped, not an error.
    pub fn delete(&self, bans: &[Ban]) -> Result<(), BanError> {
        self.apply(bans, &[])
    }

    /// Deletes `delete`, then adds `add`, in one transaction: how a ban
    /// that covers smaller ones replaces them
    /// (`BanDecision::replaces`) without a moment where none holds.
    pub fn apply(&self, delete: &[Ban], add: &[Ban]) -> Result<(), BanError> {
        let mut ops = Vec::new();
        if !delete.is_empty() {
            ops.push((Op::Destroy, delete));
        }
        if !add.is_empty() {
            ops.push((Op::Add, add));
        }
        match self.send(&ops) {
            Err(BanError::Kernel { errno, op, .. })
                if op == "delete" && (errno == libc::EOPNOTSUPP || errno == libc::EINVAL) =>
            {
                // No DESTROYSETELEM (Linux < 6.3): delete what is there.
                let present: std::collections::HashSet<Cidr> =
                    self.list()?.into_iter().map(|b| b.cidr).collect();
                let there: Vec<Ban> = delete
                    .iter()
                    .filter(|b| present.contains(&b.cidr))
                    .cloned()
                    .collect();
                let mut ops = Vec::new();
                if !there.is_empty() {
                    ops.push((Op::Delete, there.as_slice()));
                }
                if !add.is_empty() {
                    ops.push((Op::Add, add));
                }
                self.send(&ops)
            }
            other => other,
        }
    }

    /// The bans in both sets, timeouts being the seconds left (None for
    /// elements without one). Read with a netlink dump: for 100,000 bans
    /// `nft -j list` takes seconds, mostly in nft and in parsing its JSON.
    /// Empty when the table or the sets do not exist. Elements that are
    /// not whole prefixes (a range someone added by hand) are left out.
    pub fn list(&self) -> Result<Vec<Ban>, BanError> {
        let mut out = Vec::new();
        for set in [set_names::BANS_V4, set_names::BANS_V6] {
            let elems = self.dump(set)?;
            out.extend(intervals_to_bans(elems, set == set_names::BANS_V4));
        }
        Ok(out)
    }

    /// The same as [`KernelBans::list`], through `nft -j list table`: a
    /// second opinion for tests and tools.
    pub fn list_via_nft(&self) -> Result<Vec<Ban>, BanError> {
        self.check()?;
        Ok(nft::list_table(FAMILY, &self.table)?
            .map(|l| listed_bans(&l))
            .unwrap_or_default())
    }

    /// Every element of one set, as the kernel holds them.
    fn dump(&self, set: &'static str) -> Result<Vec<RawElem>, BanError> {
        self.check()?;
        let sock_err = |source| BanError::Socket {
            table: self.table.clone(),
            source,
        };
        let mut buf = Vec::new();
        let m = msg_start(
            &mut buf,
            (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
            NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK,
            1,
            NFPROTO_INET,
            0,
        );
        attr(&mut buf, NFTA_SET_ELEM_LIST_TABLE, &strz(&self.table));
        attr(&mut buf, NFTA_SET_ELEM_LIST_SET, &strz(set));
        msg_end(&mut buf, m);
        let sock = NlSocket::open().map_err(sock_err)?;
        configure(&sock, buf.len()).map_err(sock_err)?;
        sock.send(&buf).map_err(sock_err)?;
        let mut elems = Vec::new();
        let mut rbuf = vec![0u8; 64 * 1024];
        loop {
            let n = sock.recv_wait(&mut rbuf).map_err(sock_err)?;
            match parse_dump(rbuf.get(..n).unwrap_or_default(), &mut elems) {
                DumpStep::More => {}
                DumpStep::Done => return Ok(elems),
                DumpStep::Error(errno, _) if errno == libc::ENOENT => return Ok(Vec::new()),
                DumpStep::Error(errno, msg) => {
                    let mut message = io::Error::from_raw_os_error(errno).to_string();
                    if !msg.is_empty() {
                        message = format!("{message}: {msg}");
                    }
                    return Err(BanError::Kernel {
                        op: "list",
                        table: self.table.clone(),
                        set,
                        errno,
                        message,
                    });
                }
            }
        }
    }

    /// Makes the kernel sets hold exactly `want` (the book's
    /// [`rampart_policy::BanBook::kernel_bans`]): adds what is missing,
    /// re-adds what drifted by more than [`RECONCILE_SLACK_SECS`], deletes
    /// what the book no longer has, in one transaction.
    pub fn reconcile(&self, want: &[Ban]) -> Result<ReconcileReport, BanError> {
        let kernel = self.list()?;
        let have: HashMap<Cidr, Option<u64>> = kernel.iter().map(|b| (b.cidr, b.timeout)).collect();
        let wanted: HashMap<Cidr, Option<u64>> = want.iter().map(|b| (b.cidr, b.timeout)).collect();
        let mut report = ReconcileReport {
            kernel_before: kernel.len(),
            ..ReconcileReport::default()
        };
        let remove: Vec<Ban> = kernel
            .iter()
            .filter(|b| !wanted.contains_key(&b.cidr))
            .cloned()
            .collect();
        let mut add = Vec::new();
        for b in want {
            match have.get(&b.cidr) {
                None => {
                    report.added += 1;
                    add.push(b.clone());
                }
                Some(left) => {
                    let drift = match (left, b.timeout) {
                        (Some(k), Some(w)) => {
                            k.abs_diff(w.min(MAX_TIMEOUT_SECS)) > RECONCILE_SLACK_SECS
                        }
                        _ => false,
                    };
                    if drift {
                        report.refreshed += 1;
                        add.push(b.clone());
                    }
                }
            }
        }
        report.removed = remove.len();
        self.apply(&remove, &add)?;
        Ok(report)
    }

    /// Builds and sends one batch, then reads every answer.
    fn send(&self, ops: &[(Op, &[Ban])]) -> Result<(), BanError> {
        self.check()?;
        let sock_err = |source| BanError::Socket {
            table: self.table.clone(),
            source,
        };
        let batch = build_batch(&self.table, ops);
        if batch.messages.is_empty() {
            return Ok(());
        }
        let sock = NlSocket::open().map_err(sock_err)?;
        configure(&sock, batch.buf.len()).map_err(sock_err)?;
        sock.send(&batch.buf).map_err(sock_err)?;
        // The kernel handles the batch inside send(): every answer is
        // queued by now, so read until the queue is empty.
        let mut got = 0usize;
        let mut first_err: Option<(u32, i32, String)> = None;
        let mut rbuf = vec![0u8; 64 * 1024];
        loop {
            let n = match sock.recv_nowait(&mut rbuf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(sock_err(e)),
            };
            for (seq, errno, msg) in parse_answers(rbuf.get(..n).unwrap_or_default()) {
                got += 1;
                if errno != 0 && first_err.is_none() {
                    first_err = Some((seq, errno, msg));
                }
            }
        }
        if let Some((seq, errno, msg)) = first_err {
            let (op, set) = batch
                .messages
                .iter()
                .find(|m| m.0 == seq)
                .map(|m| (m.1, m.2))
                .or_else(|| batch.messages.first().map(|m| (m.1, m.2)))
                .unwrap_or((Op::Add, set_names::BANS_V4));
            let mut message = io::Error::from_raw_os_error(errno).to_string();
            if !msg.is_empty() {
                message = format!("{message}: {msg}");
            }
            return Err(BanError::Kernel {
                op: op.name(),
                table: self.table.clone(),
                set,
                errno,
                message,
            });
        }
        if got < batch.messages.len() {
            return Err(BanError::MissingAck {
                table: self.table.clone(),
                got,
                sent: batch.messages.len(),
            });
        }
        Ok(())
    }
}

// nf_tables constants (netfilter/nfnetlink.h, netfilter/nf_tables.h); the
// netlink ones are in [`crate::netlink`].
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFPROTO_INET: u8 = 1;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_GETSETELEM: u16 = 13;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFT_MSG_DESTROYSETELEM: u16 = 30;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_FLAGS: u16 = 3;
const NFTA_SET_ELEM_TIMEOUT: u16 = 4;
const NFTA_SET_ELEM_EXPIRATION: u16 = 5;
const NFTA_DATA_VALUE: u16 = 1;
const NFT_SET_ELEM_INTERVAL_END: u32 = 1;
/// linux/netlink.h socket options: short acks, and the kernel's error text.
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

/// Bytes of elements per message: an attribute's length is 16 bits, so
/// the element list of one message must stay under 64 KiB.
const ELEMS_PER_MSG_BYTES: usize = 60_000;

/// A built batch: the bytes, and (seq, op, set) of each data message.
struct Batch {
    buf: Vec<u8>,
    messages: Vec<(u32, Op, &'static str)>,
}

fn strz(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// The key bytes of a prefix's first address and of the address after its
/// last (None when the prefix reaches the top of the address space).
fn interval(c: &Cidr) -> (Vec<u8>, Option<Vec<u8>>) {
    match c.addr() {
        IpAddr::V4(a) => {
            let start = u32::from(a);
            let size = 1u64 << (32 - u32::from(c.prefix_len().min(32)));
            let end = u32::try_from(u64::from(start) + size).ok();
            (
                start.to_be_bytes().to_vec(),
                end.map(|e| e.to_be_bytes().to_vec()),
            )
        }
        IpAddr::V6(a) => {
            let start = u128::from(a);
            let host_bits = 128 - u32::from(c.prefix_len().min(128));
            let end = 1u128
                .checked_shl(host_bits)
                .and_then(|size| start.checked_add(size));
            (
                start.to_be_bytes().to_vec(),
                end.map(|e| e.to_be_bytes().to_vec()),
            )
        }
    }
}

/// One element of a set-element list.
fn put_elem(buf: &mut Vec<u8>, key: &[u8], end: bool, timeout: Option<u64>) {
    let e = nest_start(buf, NFTA_LIST_ELEM);
    let k = nest_start(buf, NFTA_SET_ELEM_KEY);
    attr(buf, NFTA_DATA_VALUE, key);
    nest_end(buf, k);
    if end {
        attr(
            buf,
            NFTA_SET_ELEM_FLAGS,
            &NFT_SET_ELEM_INTERVAL_END.to_be_bytes(),
        );
    }
    if let Some(t) = timeout {
        let ms = t.min(MAX_TIMEOUT_SECS).saturating_mul(1000);
        attr(buf, NFTA_SET_ELEM_TIMEOUT, &ms.to_be_bytes());
    }
    nest_end(buf, e);
}

/// The whole batch: BEGIN, one or more set-element messages per (op, set),
/// END. Duplicate prefixes within one op keep the last timeout.
fn build_batch(table: &str, ops: &[(Op, &[Ban])]) -> Batch {
    let mut buf = Vec::new();
    let mut messages = Vec::new();
    let mut seq = 1u32;
    let begin = msg_start(
        &mut buf,
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    msg_end(&mut buf, begin);
    let table_z = strz(table);
    for &(op, bans) in ops {
        let mut last: HashMap<Cidr, usize> = HashMap::with_capacity(bans.len());
        for (i, b) in bans.iter().enumerate() {
            last.insert(b.cidr, i);
        }
        for (v4, set) in [(true, set_names::BANS_V4), (false, set_names::BANS_V6)] {
            let (ty, flags) = match op {
                Op::Add => (NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE),
                Op::Destroy => (NFT_MSG_DESTROYSETELEM, NLM_F_REQUEST | NLM_F_ACK),
                Op::Delete => (NFT_MSG_DELSETELEM, NLM_F_REQUEST | NLM_F_ACK),
            };
            let set_z = strz(set);
            let mut open: Option<(usize, usize)> = None; // (message, element list)
            for (i, b) in bans.iter().enumerate() {
                if b.cidr.is_v4() != v4 || last.get(&b.cidr) != Some(&i) {
                    continue;
                }
                if let Some((m, l)) = open {
                    if buf.len() - l > ELEMS_PER_MSG_BYTES {
                        nest_end(&mut buf, l);
                        msg_end(&mut buf, m);
                        open = None;
                    }
                }
                if open.is_none() {
                    seq += 1;
                    messages.push((seq, op, set));
                    let m = msg_start(
                        &mut buf,
                        (NFNL_SUBSYS_NFTABLES << 8) | ty,
                        flags,
                        seq,
                        NFPROTO_INET,
                        0,
                    );
                    attr(&mut buf, NFTA_SET_ELEM_LIST_TABLE, &table_z);
                    attr(&mut buf, NFTA_SET_ELEM_LIST_SET, &set_z);
                    open = Some((m, nest_start(&mut buf, NFTA_SET_ELEM_LIST_ELEMENTS)));
                }
                let (start, end) = interval(&b.cidr);
                let timeout = match op {
                    Op::Add => b.timeout.filter(|&t| t > 0),
                    _ => None,
                };
                put_elem(&mut buf, &start, false, timeout);
                if let Some(end) = end {
                    put_elem(&mut buf, &end, true, None);
                }
            }
            if let Some((m, l)) = open {
                nest_end(&mut buf, l);
                msg_end(&mut buf, m);
            }
        }
    }
    seq += 1;
    let end = msg_start(
        &mut buf,
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    msg_end(&mut buf, end);
    Batch { buf, messages }
}

/// One element as dumped: its key as a number, whether it ends an
/// interval, and the milliseconds until it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawElem {
    key: u128,
    end: bool,
    expires_ms: Option<u64>,
}

/// What one receive of a dump said.
#[derive(Debug, PartialEq, Eq)]
enum DumpStep {
    More,
    Done,
    Error(i32, String),
}

fn read_be(b: &[u8]) -> Option<u128> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    Some(b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x)))
}

/// Collects the elements of the set-element messages in a dump receive.
fn parse_dump(b: &[u8], out: &mut Vec<RawElem>) -> DumpStep {
    let mut off = 0usize;
    while let (Some(len), Some(ty), Some(flags)) =
        (read_u32(b, off), read_u16(b, off + 4), read_u16(b, off + 6))
    {
        let len = len as usize;
        if len < 16 || off + len > b.len() {
            break;
        }
        let body = b.get(off + 16..off + len).unwrap_or_default();
        match ty {
            NLMSG_DONE => return DumpStep::Done,
            NLMSG_ERROR => {
                let code = read_u32(body, 0).map(|c| c as i32).unwrap_or(0);
                if code != 0 {
                    let mut one = parse_answers(b.get(off..off + len).unwrap_or_default());
                    let msg = one.pop().map(|a| a.2).unwrap_or_default();
                    return DumpStep::Error(code.saturating_neg(), msg);
                }
                // An ack ends a dump that was asked with NLM_F_ACK.
                if flags & NLM_F_MULTI == 0 {
                    return DumpStep::Done;
                }
            }
            t if t == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM => {
                // Skip the 4-byte nfgenmsg.
                attrs(body.get(4..).unwrap_or_default(), |aty, list| {
                    if aty != NFTA_SET_ELEM_LIST_ELEMENTS {
                        return;
                    }
                    attrs(list, |ety, elem| {
                        if ety != NFTA_LIST_ELEM {
                            return;
                        }
                        let mut e = RawElem {
                            key: 0,
                            end: false,
                            expires_ms: None,
                        };
                        let mut have_key = false;
                        attrs(elem, |k, v| match k {
                            NFTA_SET_ELEM_KEY => attrs(v, |d, val| {
                                if d == NFTA_DATA_VALUE {
                                    if let Some(key) = read_be(val) {
                                        e.key = key;
                                        have_key = true;
                                    }
                                }
                            }),
                            NFTA_SET_ELEM_FLAGS => {
                                e.end = read_be(v).is_some_and(|f| {
                                    f & u128::from(NFT_SET_ELEM_INTERVAL_END) != 0
                                });
                            }
                            NFTA_SET_ELEM_EXPIRATION => {
                                e.expires_ms = read_be(v).and_then(|x| u64::try_from(x).ok());
                            }
                            _ => {}
                        });
                        if have_key {
                            out.push(e);
                        }
                    });
                });
            }
            _ => {}
        }
        off += align4(len);
    }
    DumpStep::More
}

/// Pairs interval starts with their ends and keeps the intervals that are
/// whole prefixes. `v4` says the key width (32 or 128 bits).
fn intervals_to_bans(mut elems: Vec<RawElem>, v4: bool) -> Vec<Ban> {
    // Ends sort before starts at the same key (adjacent intervals).
    elems.sort_by_key(|e| (e.key, !e.end));
    let bits: u32 = if v4 { 32 } else { 128 };
    let to_ban = |start: u128, end: Option<u128>, expires_ms: Option<u64>| -> Option<Ban> {
        // Size of [start, end), or up to the top of the space when open.
        let size = match end {
            Some(e) => e.checked_sub(start)?,
            None if v4 => (1u128 << 32).checked_sub(start)?,
            None if start == 0 => return Some(ban_of(start, 0, v4, expires_ms)),
            None => (u128::MAX - start).checked_add(1)?,
        };
        if size == 0 || !size.is_power_of_two() || !start.is_multiple_of(size) {
            return None;
        }
        let len = bits.checked_sub(size.trailing_zeros())?;
        Some(ban_of(start, u8::try_from(len).ok()?, v4, expires_ms))
    };
    let mut out = Vec::new();
    let mut open: Option<RawElem> = None;
    for e in elems {
        if e.end {
            if let Some(s) = open.take() {
                out.extend(to_ban(s.key, Some(e.key), s.expires_ms));
            }
        } else {
            // Two starts in a row: the first has no end (malformed), skip.
            open = Some(e);
        }
    }
    if let Some(s) = open {
        out.extend(to_ban(s.key, None, s.expires_ms));
    }
    out
}

fn ban_of(start: u128, len: u8, v4: bool, expires_ms: Option<u64>) -> Ban {
    let addr = if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(start).unwrap_or(0)))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(start))
    };
    Ban {
        cidr: Cidr::network(addr, len),
        timeout: expires_ms.map(|ms| ms / 1000).filter(|&t| t > 0),
    }
}

/// Sizes the socket for one batch of `len` bytes (a batch must go in one
/// send to be one transaction) and asks for short acks with the kernel's
/// error text.
fn configure(sock: &NlSocket, len: usize) -> io::Result<()> {
    // FORCE needs CAP_NET_ADMIN, which changing nft sets needs too; without
    // it the plain option still helps small batches.
    sock.set_buffer(false, len.saturating_add(4096))?;
    let _ = sock.set_buffer(true, 4 << 20);
    sock.set_int(SOL_NETLINK, NETLINK_CAP_ACK, 1)?;
    let _ = sock.set_int(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::netlink::{NLMSGERR_ATTR_MSG, NLM_F_ACK_TLVS, NLM_F_CAPPED};

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn ban(s: &str, t: u64) -> Ban {
        Ban {
            cidr: c(s),
            timeout: Some(t),
        }
    }

    #[test]
    fn table_names() {
        assert!(KernelBans::try_new("rampart").is_ok());
        assert!(KernelBans::try_new("rampart_test-1").is_ok());
        for bad in ["", "1x", "a b", "a;b", "x\0", &"a".repeat(65)] {
            assert!(
                matches!(KernelBans::try_new(bad), Err(BanError::TableName(_))),
                "{bad:?}"
            );
            // new() takes it, every call refuses it before any I/O.
            let kb = KernelBans::new(bad);
            assert!(matches!(
                kb.add(&[ban("192.0.2.1", 1)]),
                Err(BanError::TableName(_))
            ));
            assert!(matches!(kb.list(), Err(BanError::TableName(_))));
        }
    }

    #[test]
    fn intervals() {
        let hex = |v: Option<Vec<u8>>| {
            v.map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        };
        let (s, e) = interval(&c("10.0.0.0/8"));
        assert_eq!(s, vec![10, 0, 0, 0]);
        assert_eq!(e, Some(vec![11, 0, 0, 0]));
        assert_eq!(interval(&c("192.0.2.255")).1, Some(vec![192, 0, 3, 0]));
        assert_eq!(interval(&c("255.255.255.255")).1, None);
        assert_eq!(interval(&c("0.0.0.0/0")).1, None);
        assert_eq!(
            hex(interval(&c("2001:db8:1:2::/64")).1),
            Some("20010db8000100030000000000000000".into())
        );
        assert_eq!(interval(&c("ffff:ffff:ffff:ffff::/64")).1, None);
        assert_eq!(interval(&c("::/0")).1, None);
    }

    /// Walks a built batch: (type, flags, seq, element count) per message.
    fn walk(b: &[u8]) -> Vec<(u16, u16, u32, usize)> {
        let mut out = Vec::new();
        let mut off = 0;
        while off < b.len() {
            let len = read_u32(b, off).unwrap() as usize;
            let ty = read_u16(b, off + 4).unwrap();
            let flags = read_u16(b, off + 6).unwrap();
            let seq = read_u32(b, off + 8).unwrap();
            assert_eq!(len % 4, 0);
            let mut elems = 0;
            // Attributes after the 16-byte header and 4-byte nfgenmsg.
            let mut a = off + 20;
            while a < off + len {
                let alen = read_u16(b, a).unwrap() as usize;
                let aty = read_u16(b, a + 2).unwrap() & 0x3fff;
                if aty == NFTA_SET_ELEM_LIST_ELEMENTS {
                    let mut e = a + 4;
                    while e < a + alen {
                        elems += 1;
                        e += align4(read_u16(b, e).unwrap() as usize);
                    }
                    assert_eq!(e, a + alen);
                }
                a += align4(alen);
            }
            assert_eq!(a, off + len);
            out.push((ty, flags, seq, elems));
            off += len;
        }
        assert_eq!(off, b.len());
        out
    }

    #[test]
    fn batch_layout() {
        let bans = [
            ban("198.51.100.7", 60),
            ban("2001:db8::/64", 60),
            ban("255.255.255.255", 60),
            ban("198.51.100.7", 120),
        ];
        let b = build_batch("t", &[(Op::Destroy, &bans[..1]), (Op::Add, &bans)]);
        let msgs = walk(&b.buf);
        let types: Vec<u16> = msgs.iter().map(|m| m.0).collect();
        assert_eq!(types, [0x10, 0x0a1e, 0x0a0c, 0x0a0c, 0x11]);
        // Destroy: start + end; add v4: 198.51.100.7 once (deduplicated)
        // with its end, 255.255.255.255 without one; add v6: start + end.
        let elems: Vec<usize> = msgs.iter().map(|m| m.3).collect();
        assert_eq!(elems, [0, 2, 3, 2, 0]);
        assert_eq!(b.messages.len(), 3);
        assert!(msgs.iter().skip(1).take(3).all(|m| m.1 & NLM_F_ACK != 0));
        // The last timeout of a duplicate wins: 120 s = 120000 ms.
        let ms = 120_000u64.to_be_bytes();
        assert!(b.buf.windows(8).any(|w| w == ms));
    }

    #[test]
    fn big_batches_split_under_the_attribute_limit() {
        let bans: Vec<Ban> = (0..20_000u32)
            .map(|i| Ban {
                cidr: Cidr::host(IpAddr::V4((0x0a00_0000 + 2 * i).into())),
                timeout: Some(3600),
            })
            .collect();
        let b = build_batch("rampart", &[(Op::Add, &bans)]);
        let msgs = walk(&b.buf);
        let total: usize = msgs.iter().map(|m| m.3).sum();
        assert_eq!(total, 40_000);
        assert!(msgs.len() > 3);
        assert_eq!(b.messages.len(), msgs.len() - 2);
    }

    #[test]
    fn dumped_intervals_become_prefixes() {
        let e = |key: u128, end: bool, ms: Option<u64>| RawElem {
            key,
            end,
            expires_ms: ms,
        };
        let v4 = |s: &str| u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
        let got = intervals_to_bans(
            vec![
                // nft's leading "first segment" end at 0 is ignored.
                e(0, true, None),
                e(v4("10.0.0.2"), true, None),
                e(v4("10.0.0.1"), false, Some(5_500)),
                e(v4("10.0.0.1"), true, None),
                e(v4("10.0.0.0"), false, Some(60_000)),
                // 10.1.0.0 - 10.1.0.2 is not a prefix: left out.
                e(v4("10.1.0.0"), false, None),
                e(v4("10.1.0.3"), true, None),
                e(v4("255.255.255.255"), false, Some(1_000)),
            ],
            true,
        );
        let s: Vec<String> = got
            .iter()
            .map(|b| format!("{} {:?}", b.cidr, b.timeout))
            .collect();
        assert_eq!(
            s,
            [
                "10.0.0.0 Some(60)",
                "10.0.0.1 Some(5)",
                "255.255.255.255 Some(1)"
            ]
        );
        let got = intervals_to_bans(vec![e(0, false, None)], false);
        assert_eq!(got.first().map(|b| b.cidr.to_string()), Some("::/0".into()));
        let top = u128::MAX << 64;
        let got = intervals_to_bans(vec![e(top, false, None)], false);
        assert_eq!(
            got.first().map(|b| b.cidr.to_string()),
            Some("ffff:ffff:ffff:ffff::/64".into())
        );
    }

    #[test]
    fn dump_parsing_reads_batches_and_survives_garbage() {
        // A NEWSETELEM message of a batch has the layout of a dump reply.
        let bans = [ban("198.51.100.7", 60), ban("203.0.113.0/24", 60)];
        let b = build_batch("t", &[(Op::Add, &bans)]);
        let mut elems = Vec::new();
        assert_eq!(parse_dump(&b.buf, &mut elems), DumpStep::More);
        let got: Vec<String> = intervals_to_bans(elems, true)
            .iter()
            .map(|b| b.cidr.to_string())
            .collect();
        assert_eq!(got, ["198.51.100.7", "203.0.113.0/24"]);
        for i in 0..b.buf.len() {
            for x in [0u8, 3, 0x7f, 0xff] {
                let mut m = b.buf.clone();
                m[i] = x;
                let mut e = Vec::new();
                let _ = parse_dump(&m, &mut e);
                let _ = intervals_to_bans(e, i % 2 == 0);
            }
        }
    }

    fn answer(seq: u32, errno: i32, ext: Option<&str>) -> Vec<u8> {
        let mut v = Vec::new();
        let flags = NLM_F_CAPPED | if ext.is_some() { NLM_F_ACK_TLVS } else { 0 };
        let start = v.len();
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&1u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&(-errno).to_ne_bytes());
        // Original header (capped).
        v.extend_from_slice(&100u32.to_ne_bytes());
        v.extend_from_slice(&0x0a0cu16.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        if let Some(m) = ext {
            attr(&mut v, NLMSGERR_ATTR_MSG, &strz(m));
        }
        msg_end(&mut v, start);
        v
    }

    #[test]
    fn answers_parse_and_garbage_does_not_panic() {
        let mut buf = answer(2, 0, None);
        buf.extend(answer(3, libc::EEXIST, Some("overlap")));
        assert_eq!(
            parse_answers(&buf),
            vec![(2, 0, String::new()), (3, libc::EEXIST, "overlap".into())]
        );
        for cut in 0..buf.len() {
            let _ = parse_answers(&buf[..cut]);
        }
        for i in 0..buf.len() {
            for x in [0u8, 1, 0x7f, 0xff] {
                let mut b = buf.clone();
                b[i] = x;
                let _ = parse_answers(&b);
            }
        }
    }

    /// Why the root tests cannot run here, if they cannot.
    fn skip_reason() -> Option<String> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0");
        if !root {
            return Some("not running as root".into());
        }
        if std::process::Command::new("nft")
            .arg("--version")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            return Some("nft is not installed".into());
        }
        None
    }

    /// Moves the calling thread into a new network namespace, so nft and
    /// netlink calls from it never touch the host's rules; the namespace
    /// goes away with the thread.
    #[allow(unsafe_code)]
    fn private_netns() -> Result<(), String> {
        // SAFETY: unshare takes a flag word and affects only this thread.
        let r = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        if r != 0 {
            return Err(format!(
                "unshare(CLONE_NEWNET): {}",
                io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    /// Runs `f` on a thread in a private network namespace holding a
    /// compiled Rampart table named `table`; prints why and returns when
    /// that is impossible here.
    fn in_netns(f: impl FnOnce(&KernelBans) + Send + 'static) {
        if let Some(why) = skip_reason() {
            eprintln!("skipping kernel ban test: {why}");
            return;
        }
        let table = format!("rampart_test_{}", std::process::id());
        std::thread::spawn(move || {
            if let Err(why) = private_netns() {
                eprintln!("skipping kernel ban test: {why}");
                return;
            }
            let p = rampart_policy::Policy::from_toml(&format!("[table]\nname = \"{table}\"\n"))
                .unwrap();
            nft::run_batch(&rampart_policy::compile(&p)).unwrap();
            let kb = KernelBans::try_new(&table).unwrap();
            f(&kb);
            let out = std::process::Command::new("nft")
                .args(["delete", "table", "inet", &table])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .join()
        .unwrap();
    }

    /// The sets through the netlink dump, checked against nft's listing.
    fn listed(kb: &KernelBans) -> Vec<(Cidr, u64)> {
        let mut v: Vec<(Cidr, u64)> = kb
            .list()
            .unwrap()
            .into_iter()
            .map(|b| (b.cidr, b.timeout.unwrap_or(0)))
            .collect();
        v.sort();
        let mut n: Vec<(Cidr, u64)> = kb
            .list_via_nft()
            .unwrap()
            .into_iter()
            .map(|b| (b.cidr, b.timeout.unwrap_or(0)))
            .collect();
        n.sort();
        assert_eq!(
            v.iter().map(|x| x.0).collect::<Vec<_>>(),
            n.iter().map(|x| x.0).collect::<Vec<_>>()
        );
        for (a, b) in v.iter().zip(&n) {
            assert!(a.1.abs_diff(b.1) <= 2, "{a:?} vs nft {b:?}");
        }
        v
    }

    fn cidrs(kb: &KernelBans) -> Vec<String> {
        listed(kb).iter().map(|(c, _)| c.to_string()).collect()
    }

    #[test]
    fn kernel_add_list_delete() {
        in_netns(|kb| {
            let bans = [
                ban("198.51.100.7", 600),
                // Adjacent hosts share a boundary key.
                ban("198.51.100.8", 600),
                ban("198.51.100.9", 600),
                ban("203.0.113.0/24", 900),
                ban("255.255.255.255", 600),
                ban("2001:db8:1:2::/64", 1200),
                ban("2001:db8::5", 1200),
                ban("ffff:ffff:ffff:ffff::/64", 1200),
            ];
            kb.add(&bans).unwrap();
            let l = listed(kb);
            assert_eq!(l.len(), bans.len(), "{l:?}");
            for b in &bans {
                let (_, left) = l.iter().find(|(c, _)| *c == b.cidr).unwrap();
                let want = b.timeout.unwrap();
                assert!(
                    *left <= want && *left + 5 >= want,
                    "{}: {left} vs {want}",
                    b.cidr
                );
            }
            // Re-adding resets the timeout.
            kb.add(&[ban("198.51.100.8", 5000)]).unwrap();
            let l = listed(kb);
            let (_, left) = l.iter().find(|(x, _)| *x == c("198.51.100.8")).unwrap();
            assert!(*left > 4900, "{left}");
            // Deleting absent elements is not an error.
            kb.delete(&[
                ban("198.51.100.8", 0),
                ban("192.0.2.1", 0),
                ban("2001:db8::5", 0),
            ])
            .unwrap();
            assert_eq!(
                cidrs(kb),
                [
                    "198.51.100.7",
                    "198.51.100.9",
                    "203.0.113.0/24",
                    "255.255.255.255",
                    "2001:db8:1:2::/64",
                    "ffff:ffff:ffff:ffff::/64"
                ]
            );
            // An overlapping add is refused whole, naming the set.
            let e = kb
                .add(&[ban("192.0.2.1", 60), ban("198.51.100.0/24", 60)])
                .unwrap_err();
            assert!(matches!(e, BanError::Kernel { set: "bans_v4", .. }), "{e}");
            assert!(e.to_string().contains("bans_v4"), "{e}");
            assert_eq!(cidrs(kb).len(), 6);
            // Replacing the hosts with their /24 in one transaction.
            kb.apply(
                &[ban("198.51.100.7", 0), ban("198.51.100.9", 0)],
                &[ban("198.51.100.0/24", 60)],
            )
            .unwrap();
            assert!(cidrs(kb).contains(&"198.51.100.0/24".to_string()));
            assert_eq!(cidrs(kb).len(), 5);
        });
    }

    #[test]
    fn kernel_reconcile() {
        in_netns(|kb| {
            kb.add(&[
                ban("198.51.100.7", 600),
                ban("198.51.100.20", 600),
                ban("2001:db8::/64", 10),
            ])
            .unwrap();
            let want = [
                ban("198.51.100.7", 600),
                ban("2001:db8::/64", 3000),
                ban("203.0.113.0/24", 900),
            ];
            let r = kb.reconcile(&want).unwrap();
            assert_eq!(
                r,
                ReconcileReport {
                    kernel_before: 3,
                    added: 1,
                    refreshed: 1,
                    removed: 1
                }
            );
            assert_eq!(
                cidrs(kb),
                ["198.51.100.7", "203.0.113.0/24", "2001:db8::/64"]
            );
            let again = kb.reconcile(&want).unwrap();
            assert_eq!(
                again.added + again.refreshed + again.removed,
                0,
                "{again:?}"
            );
            kb.reconcile(&[]).unwrap();
            assert!(cidrs(kb).is_empty());
        });
    }

    #[test]
    fn missing_table_is_a_clear_error() {
        in_netns(|kb| {
            let other = KernelBans::new("rampart_absent");
            let e = other.add(&[ban("198.51.100.7", 60)]).unwrap_err();
            assert!(
                matches!(
                    e,
                    BanError::Kernel {
                        errno: libc::ENOENT,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(e.to_string().contains("rampart_absent"), "{e}");
            assert!(other.list().unwrap().is_empty());
            assert!(kb.list().unwrap().is_empty());
        });
    }
}
