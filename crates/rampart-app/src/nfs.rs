//! ONC RPC (RFC 5531) carrying NFS versions 2 (RFC 1094) and 3 (RFC 1813),
//! over UDP (one message per datagram) and TCP (record marking, fragments
//! reassembled up to [`MAX_RECORD`]).
//!
//! The transaction model is Suricata's: every call and its reply (matched
//! by XID) is one transaction, except file transfers, which get one
//! transaction per file handle and direction. A version 3 WRITE opens (or
//! continues) a written file, closed by a `FILE_SYNC` write or a COMMIT; a
//! READ reply (versions 2 and 3) opens or continues a read file, closed by
//! the reply's end-of-file flag (version 3) or when the data reaches the
//! file size the reply's attributes give (version 2). Version 2 WRITEs are
//! plain transactions, as in Suricata. File names come from a map of file
//! handles to names filled by version 3 LOOKUP and CREATE replies (version
//! 2 names are not tracked, as in Suricata). Version 4 calls become plain
//! transactions (procedure COMPOUND) whose operations are not read.
//!
//! Everything kept is bounded: [`MAX_TRANSACTIONS`] transactions,
//! [`MAX_PENDING_CALLS`] calls awaiting their reply, [`MAX_NAMES`] handle
//! names, [`FILE_DEPTH`] bytes per file (its size counts on) and
//! [`MAX_RECORD`] bytes per TCP record. Anomalies are reported as
//! [`NfsAnomaly`] values on the latest transaction (Suricata's
//! `app-layer-event:nfs.*`), never as errors or panics.

use std::collections::{HashMap, VecDeque};

/// The NFS port: Suricata's default detection port for NFS over UDP and
/// TCP, the only place NFS is looked for.
pub const NFS_PORT: u16 = 2049;

/// The ONC RPC program number of NFS.
pub const NFS_PROGRAM: u32 = 100_003;

/// Transactions kept per flow at most: beyond, the oldest is dropped and
/// `too_many_transactions` raised.
pub const MAX_TRANSACTIONS: usize = 256;

/// Calls awaiting their reply at most (oldest forgotten first).
pub const MAX_PENDING_CALLS: usize = 1024;

/// File handle to name entries kept at most (no new ones beyond).
pub const MAX_NAMES: usize = 4096;

/// Bytes of a file kept for inspection (`file.data`); its size counts all.
pub const FILE_DEPTH: usize = 1 << 20;

/// Bytes of one TCP record (all its fragments) at most: a longer record is
/// skipped with `malformed_data`.
pub const MAX_RECORD: usize = 1 << 21;

/// Out-of-order chunks held per file at most (beyond, they are dropped).
const MAX_PENDING_CHUNKS: usize = 32;

/// Largest file chunk (a WRITE's or READ reply's count) taken, as Suricata
/// (Linux allows 1 MiB; several multiples accepted).
const MAX_CHUNK: u32 = 16 * 1024 * 1024;

/// Credential and verifier bodies longer than this are malformed (RFC
/// 5531 limits opaque auth bodies to 400 bytes).
const MAX_AUTH_BODY: usize = 400;

/// NFSv3 procedure numbers used here.
mod proc3 {
    pub const LOOKUP: u32 = 3;
    pub const READ: u32 = 6;
    pub const WRITE: u32 = 7;
    pub const CREATE: u32 = 8;
    pub const MKDIR: u32 = 9;
    pub const REMOVE: u32 = 12;
    pub const RMDIR: u32 = 13;
    pub const RENAME: u32 = 14;
    pub const COMMIT: u32 = 21;
}

/// NFSv2's READ procedure (same number as version 3's).
const PROC2_READ: u32 = 6;

/// NFSv2 file handles are 32 opaque bytes.
const FHSIZE2: usize = 32;

/// Size of an NFSv2 `fattr` (17 words).
const FATTR2_LEN: usize = 68;

/// Size of an NFSv3 `fattr3`.
const FATTR3_LEN: usize = 84;

/// Which way a message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NfsDirection {
    /// Client to server (calls).
    ToServer,
    /// Server to client (replies).
    ToClient,
}

impl NfsDirection {
    fn index(self) -> usize {
        match self {
            NfsDirection::ToServer => 0,
            NfsDirection::ToClient => 1,
        }
    }
}

/// An anomaly, as Suricata's `app-layer-event:nfs.<name>` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NfsAnomaly {
    /// A message or its NFS arguments/results did not parse, or a TCP
    /// record exceeded [`MAX_RECORD`].
    MalformedData,
    /// A call for an NFS version that does not exist (not 2, 3 or 4).
    NonExistingVersion,
    /// More than [`MAX_TRANSACTIONS`] transactions were open.
    TooManyTransactions,
}

impl NfsAnomaly {
    /// The event name rules use (`nfs.` prefix left out).
    pub fn event_name(self) -> &'static str {
        match self {
            NfsAnomaly::MalformedData => "malformed_data",
            NfsAnomaly::NonExistingVersion => "non_existing_version",
            NfsAnomaly::TooManyTransactions => "too_many_transactions",
        }
    }
}

/// The `app-layer-event:nfs.<name>` events the parser raises (Suricata's,
/// but `unsupported_version`, which this parser never raises).
pub const NFS_EVENTS: &[&str] = &[
    "malformed_data",
    "non_existing_version",
    "too_many_transactions",
];

/// A file written (to server) or read (to client).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NfsFile {
    /// The file's first bytes in order, up to [`FILE_DEPTH`] (`file.data`).
    pub data: Vec<u8>,
    /// Bytes received in order from offset 0 (the file's size so far).
    pub size: u64,
    /// The transfer ended (last chunk, COMMIT, or the flow ended): its
    /// size is final.
    pub closed: bool,
    /// Chunks received past a hole: offset and bytes.
    pending: Vec<(u64, Vec<u8>)>,
}

impl NfsFile {
    /// Places a chunk at `offset` (overlapping bytes already seen are
    /// dropped: the first copy wins), then whatever pending chunks became
    /// contiguous.
    fn add(&mut self, offset: u64, chunk: &[u8]) {
        self.place(offset, chunk);
        loop {
            let size = self.size;
            let Some(i) = self.pending.iter().position(|(o, _)| *o <= size) else {
                break;
            };
            let (o, c) = self.pending.swap_remove(i);
            self.place(o, &c);
        }
    }

    fn place(&mut self, offset: u64, chunk: &[u8]) {
        if offset > self.size {
            if self.pending.len() < MAX_PENDING_CHUNKS {
                self.pending.push((offset, chunk.to_vec()));
            }
            return;
        }
        let skip = usize::try_from(self.size - offset).unwrap_or(usize::MAX);
        let Some(new) = chunk.get(skip..) else {
            return;
        };
        let room = FILE_DEPTH.saturating_sub(self.data.len());
        self.data
            .extend_from_slice(new.get(..room.min(new.len())).unwrap_or(&[]));
        self.size = self.size.saturating_add(new.len() as u64);
    }
}

/// What a transaction is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfsTx {
    /// Its id in the flow (from 0, in creation order).
    pub id: u64,
    /// The RPC transaction id of its (first) call.
    pub xid: u32,
    /// The NFS version of the call (2, 3 or 4).
    pub version: u32,
    /// The procedure number of the call (`nfs_procedure`); a file
    /// transfer's is READ or WRITE.
    pub procedure: u32,
    /// Later procedures that were part of a file transfer (COMMIT after
    /// WRITEs), which `nfs_procedure` matches too.
    pub additional_procedures: Vec<u32>,
    /// The name of the object the call concerns (the looked-up or created
    /// name, or the handle's known name).
    pub file_name: Vec<u8>,
    /// The file handle the call concerns.
    pub file_handle: Vec<u8>,
    /// The NFS status of the reply, once it came.
    pub status: Option<u32>,
    /// The file transferred, for file transactions.
    pub file: Option<NfsFile>,
    /// The file's direction, for file transactions.
    pub file_direction: Option<NfsDirection>,
    /// Anomalies raised while it was the latest transaction.
    pub anomalies: Vec<NfsAnomaly>,
    /// Sides already reported ready (by [`NfsDirection::index`]).
    reported: [bool; 2],
}

impl NfsTx {
    /// Whether anomaly `name` (without the `nfs.` prefix) was raised on it.
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
    }

    /// Whether `procedure` is the call's or one later part of its file
    /// transfer (Suricata's `nfs_procedure` matches either).
    pub fn procedures(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.procedure).chain(self.additional_procedures.iter().copied())
    }
}

/// A transaction side ready for inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NfsReady {
    /// The transaction.
    pub id: u64,
    /// Its call's side (to server) or reply's (to client).
    pub dir: NfsDirection,
}

/// A call awaiting its reply.
#[derive(Clone, Debug)]
struct PendingCall {
    version: u32,
    procedure: u32,
    handle: Vec<u8>,
    name: Vec<u8>,
    offset: u64,
}

/// An RPC call's header fields and its procedure arguments.
struct Call<'a> {
    xid: u32,
    program: u32,
    version: u32,
    procedure: u32,
    args: &'a [u8],
}

/// An RPC reply's header fields and, when accepted and successful, its
/// procedure results.
struct Reply<'a> {
    xid: u32,
    results: Option<&'a [u8]>,
}

/// A big-endian XDR reader over a byte slice: every read is checked.
struct Xdr<'a> {
    b: &'a [u8],
}

impl<'a> Xdr<'a> {
    fn new(b: &'a [u8]) -> Self {
        Xdr { b }
    }

    fn u32(&mut self) -> Option<u32> {
        let (h, t) = self.b.split_first_chunk::<4>()?;
        self.b = t;
        Some(u32::from_be_bytes(*h))
    }

    fn u64(&mut self) -> Option<u64> {
        let (h, t) = self.b.split_first_chunk::<8>()?;
        self.b = t;
        Some(u64::from_be_bytes(*h))
    }

    fn fixed(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.b.get(..n)?;
        let padded = n.checked_add(3)? & !3;
        self.b = self.b.get(padded..).unwrap_or(&[]);
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.b = self.b.get(n..)?;
        Some(())
    }

    /// Variable-length opaque data up to `max` bytes (its padding may be
    /// missing at the end of the message).
    fn opaque(&mut self, max: usize) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u32()?).ok()?;
        if n > max {
            return None;
        }
        self.fixed(n)
    }

    /// Opaque data whose bytes may be cut short (a file chunk at the end
    /// of a message): the declared length and what is present.
    fn opaque_partial(&mut self) -> Option<(u32, &'a [u8])> {
        let n = self.u32()?;
        let have = self.b.len().min(n as usize);
        let v = self.b.get(..have)?;
        self.b = self.b.get(have..).unwrap_or(&[]);
        Some((n, v))
    }

    fn rest(&self) -> &'a [u8] {
        self.b
    }
}

/// The big-endian 32-bit word at byte `at` of `b`, if there.
fn be32(b: &[u8], at: usize) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(w))
}

fn parse_call(msg: &[u8]) -> Option<Call<'_>> {
    let mut x = Xdr::new(msg);
    let xid = x.u32()?;
    if x.u32()? != 0 || x.u32()? != 2 {
        return None;
    }
    let program = x.u32()?;
    let version = x.u32()?;
    let procedure = x.u32()?;
    let _cred_flavor = x.u32()?;
    x.opaque(MAX_AUTH_BODY)?;
    let _verf_flavor = x.u32()?;
    x.opaque(MAX_AUTH_BODY)?;
    Some(Call {
        xid,
        program,
        version,
        procedure,
        args: x.rest(),
    })
}

fn parse_reply(msg: &[u8]) -> Option<Reply<'_>> {
    let mut x = Xdr::new(msg);
    let xid = x.u32()?;
    if x.u32()? != 1 {
        return None;
    }
    match x.u32()? {
        // MSG_ACCEPTED: verifier, then accept_stat.
        0 => {
            let _verf_flavor = x.u32()?;
            x.opaque(MAX_AUTH_BODY)?;
            let accept = x.u32()?;
            Some(Reply {
                xid,
                results: (accept == 0).then(|| x.rest()),
            })
        }
        // MSG_DENIED: no results.
        1 => Some(Reply { xid, results: None }),
        _ => None,
    }
}

/// Whether `msg` is an RPC message of `dir` as Suricata's UDP probe wants
/// it: to the server an NFS (program 100003) version 2 or 3 call of at
/// least 48 bytes; to the client an accepted, successful reply of at least
/// 32 bytes.
pub fn probe_udp(msg: &[u8], to_server: bool) -> bool {
    if to_server {
        msg.len() >= 48
            && parse_call(msg)
                .is_some_and(|c| c.program == NFS_PROGRAM && matches!(c.version, 2 | 3))
    } else {
        msg.len() >= 32 && parse_reply(msg).is_some_and(|r| r.results.is_some())
    }
}

/// Whether `data` (a TCP direction's first bytes) starts with a record
/// holding an NFS version 3 or 4 call of a known procedure (at most 21)
/// with a known credential flavour, as Suricata's TCP probe wants it.
pub fn probe_tcp(data: &[u8]) -> bool {
    let Some((mark, rest)) = data.split_first_chunk::<4>() else {
        return false;
    };
    let len = (u32::from_be_bytes(*mark) & 0x7fff_ffff) as usize;
    if len < 40 {
        return false;
    }
    let msg = rest.get(..len.min(rest.len())).unwrap_or(rest);
    let flavor = be32(msg, 24);
    parse_call(msg).is_some_and(|c| {
        c.program == NFS_PROGRAM && matches!(c.version, 3 | 4) && c.procedure <= proc3::COMMIT
    }) && flavor.is_some_and(|f| matches!(f, 0..=3 | 6))
}

/// Per-direction TCP record reassembly.
#[derive(Debug, Default)]
struct TcpDir {
    /// Bytes not yet framed (from `pos` on).
    buf: Vec<u8>,
    /// Bytes of `buf` already framed (dropped after each feed).
    pos: usize,
    /// Fragments of the current record so far.
    record: Vec<u8>,
    /// Bytes of an oversized fragment still to skip.
    skip: u64,
}

/// What framing found next.
enum Framed {
    /// A whole record (its fragments joined).
    Message(Vec<u8>),
    /// A fragment would make the record exceed [`MAX_RECORD`]: it is
    /// skipped and the record dropped.
    Oversized,
}

impl TcpDir {
    /// The next record or oversize from the buffered bytes, `None` when
    /// more bytes are needed.
    fn next_record(&mut self) -> Option<Framed> {
        loop {
            let avail = self.buf.len().saturating_sub(self.pos);
            if self.skip > 0 {
                let n = usize::try_from(self.skip).unwrap_or(usize::MAX).min(avail);
                self.pos += n;
                self.skip -= n as u64;
                if self.skip > 0 {
                    return None;
                }
                continue;
            }
            let mark = be32(&self.buf, self.pos)?;
            let last = mark & 0x8000_0000 != 0;
            let len = (mark & 0x7fff_ffff) as usize;
            if self.record.len().saturating_add(len) > MAX_RECORD {
                self.record = Vec::new();
                self.pos += 4;
                self.skip = len as u64;
                return Some(Framed::Oversized);
            }
            let start = self.pos + 4;
            let frag = self.buf.get(start..start.checked_add(len)?)?;
            self.record.extend_from_slice(frag);
            self.pos = start + len;
            if last {
                return Some(Framed::Message(std::mem::take(&mut self.record)));
            }
        }
    }
}

/// The NFS state of one flow.
#[derive(Debug, Default)]
pub struct NfsState {
    txs: VecDeque<NfsTx>,
    next_id: u64,
    pending: HashMap<u32, PendingCall>,
    pending_order: VecDeque<u32>,
    names: HashMap<Vec<u8>, Vec<u8>>,
    tcp: [TcpDir; 2],
}

impl NfsState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The transactions kept, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &NfsTx> {
        self.txs.iter()
    }

    /// Transaction `id`, if still kept.
    pub fn transaction(&self, id: u64) -> Option<&NfsTx> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Drops transactions before `id` that are over: files closed and
    /// reported, calls reported both ways (or on the call's side when no
    /// reply can come any more: its call was forgotten).
    pub fn remove_before(&mut self, id: u64) {
        let pending = &self.pending;
        self.txs.retain(|t| {
            let done = match t.file {
                Some(ref f) => f.closed && t.reported == [true; 2],
                None => t.reported[0] && (t.reported[1] || !pending.contains_key(&t.xid)),
            };
            !(t.id < id && done)
        });
    }

    /// Parses one UDP datagram of `dir` (one RPC message); ready sides go
    /// to `out`.
    pub fn parse_datagram(&mut self, dir: NfsDirection, msg: &[u8], out: &mut Vec<NfsReady>) {
        self.message(dir, msg, out);
    }

    /// Feeds in-order TCP data of `dir`: records are framed by their
    /// record marks and their fragments joined before parsing.
    pub fn feed_tcp(&mut self, dir: NfsDirection, data: &[u8], out: &mut Vec<NfsReady>) {
        let i = dir.index();
        if let Some(t) = self.tcp.get_mut(i) {
            t.buf.extend_from_slice(data);
        }
        loop {
            let Some(t) = self.tcp.get_mut(i) else {
                return;
            };
            match t.next_record() {
                Some(Framed::Message(m)) => self.message(dir, &m, out),
                Some(Framed::Oversized) => self.anomaly(NfsAnomaly::MalformedData),
                None => break,
            }
        }
        if let Some(t) = self.tcp.get_mut(i) {
            let used = t.pos.min(t.buf.len());
            t.buf.drain(..used);
            t.pos = 0;
        }
    }

    /// Bytes held for TCP framing (both directions), for bounds checks.
    pub fn buffered(&self) -> usize {
        self.tcp
            .iter()
            .map(|t| t.buf.len().saturating_sub(t.pos) + t.record.len())
            .sum()
    }

    /// Calls awaiting their reply.
    pub fn pending_calls(&self) -> usize {
        self.pending.len()
    }

    /// File handle names known.
    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// The flow ended: open files count as complete, and their sides are
    /// ready.
    pub fn finish(&mut self, out: &mut Vec<NfsReady>) {
        for tx in &mut self.txs {
            if let Some(f) = tx.file.as_mut() {
                if !f.closed {
                    f.closed = true;
                    report_both(tx, out);
                }
            }
        }
    }

    fn message(&mut self, dir: NfsDirection, msg: &[u8], out: &mut Vec<NfsReady>) {
        match dir {
            NfsDirection::ToServer => match parse_call(msg) {
                Some(c) if c.program == NFS_PROGRAM => self.call(&c, out),
                Some(_) => {}
                None => self.anomaly(NfsAnomaly::MalformedData),
            },
            NfsDirection::ToClient => match parse_reply(msg) {
                Some(r) => self.reply(&r, out),
                None => self.anomaly(NfsAnomaly::MalformedData),
            },
        }
    }

    /// Raises `a` on the latest transaction (dropped when there is none,
    /// as in Suricata).
    fn anomaly(&mut self, a: NfsAnomaly) {
        if let Some(tx) = self.txs.back_mut() {
            if !tx.anomalies.contains(&a) {
                tx.anomalies.push(a);
            }
        }
    }

    /// Opens a transaction (dropping the oldest beyond the cap) and
    /// returns it (always `Some`).
    fn new_tx(&mut self, xid: u32, version: u32, procedure: u32) -> Option<&mut NfsTx> {
        let over = self.txs.len() >= MAX_TRANSACTIONS;
        if over {
            self.txs.pop_front();
        }
        let id = self.next_id;
        self.next_id += 1;
        let tx = NfsTx {
            id,
            xid,
            version,
            procedure,
            additional_procedures: Vec::new(),
            file_name: Vec::new(),
            file_handle: Vec::new(),
            status: None,
            file: None,
            file_direction: None,
            anomalies: if over {
                vec![NfsAnomaly::TooManyTransactions]
            } else {
                Vec::new()
            },
            reported: [false; 2],
        };
        self.txs.push_back(tx);
        self.txs.back_mut()
    }

    fn remember(&mut self, xid: u32, call: PendingCall) {
        if self.pending.insert(xid, call).is_none() {
            self.pending_order.push_back(xid);
        }
        while self.pending.len() > MAX_PENDING_CALLS {
            match self.pending_order.pop_front() {
                Some(old) => {
                    self.pending.remove(&old);
                }
                None => break,
            }
        }
    }

    fn name_of(&self, handle: &[u8]) -> Vec<u8> {
        self.names.get(handle).cloned().unwrap_or_default()
    }

    fn learn_name(&mut self, handle: &[u8], name: &[u8]) {
        if self.names.len() < MAX_NAMES || self.names.contains_key(handle) {
            self.names.insert(handle.to_vec(), name.to_vec());
        }
    }

    /// The open file transaction of `handle` in `dir`.
    fn file_tx(&mut self, handle: &[u8], dir: NfsDirection) -> Option<&mut NfsTx> {
        self.txs.iter_mut().find(|t| {
            t.file_direction == Some(dir)
                && t.file_handle == handle
                && t.file.as_ref().is_some_and(|f| !f.closed)
        })
    }

    /// Opens a file transaction for `handle` in `dir`.
    fn new_file_tx(
        &mut self,
        xid: u32,
        version: u32,
        procedure: u32,
        handle: &[u8],
        name: Vec<u8>,
        dir: NfsDirection,
    ) -> Option<&mut NfsTx> {
        let tx = self.new_tx(xid, version, procedure)?;
        tx.file_handle = handle.to_vec();
        tx.file_name = name;
        tx.file = Some(NfsFile::default());
        tx.file_direction = Some(dir);
        Some(tx)
    }

    /// A call that is a transaction of its own: opened, remembered for
    /// its reply, its call side ready.
    fn plain_call(&mut self, xid: u32, call: PendingCall, out: &mut Vec<NfsReady>) {
        if let Some(tx) = self.new_tx(xid, call.version, call.procedure) {
            tx.file_name = call.name.clone();
            tx.file_handle = call.handle.clone();
            report(tx, NfsDirection::ToServer, out);
        }
        self.remember(xid, call);
    }

    fn call(&mut self, c: &Call<'_>, out: &mut Vec<NfsReady>) {
        match c.version {
            2 => self.call_v2(c, out),
            3 => self.call_v3(c, out),
            // COMPOUND operations are not read: a plain transaction.
            4 => self.plain_call(c.xid, pending(4, c.procedure), out),
            _ => self.anomaly(NfsAnomaly::NonExistingVersion),
        }
    }

    fn call_v2(&mut self, c: &Call<'_>, out: &mut Vec<NfsReady>) {
        let mut call = pending(2, c.procedure);
        match c.procedure {
            PROC2_READ => {
                let mut x = Xdr::new(c.args);
                match (x.fixed(FHSIZE2), x.u32()) {
                    (Some(fh), Some(offset)) => {
                        call.handle = fh.to_vec();
                        call.name = self.name_of(fh);
                        call.offset = u64::from(offset);
                    }
                    _ => self.anomaly(NfsAnomaly::MalformedData),
                }
                // Read files are opened by the reply.
                self.remember(c.xid, call);
            }
            // Suricata's version 2 code skips the version 3 numbers of
            // WRITE and COMMIT (WRITECACHE and nothing in version 2).
            proc3::WRITE | proc3::COMMIT => self.remember(c.xid, call),
            _ => self.plain_call(c.xid, call, out),
        }
    }

    fn call_v3(&mut self, c: &Call<'_>, out: &mut Vec<NfsReady>) {
        let mut call = pending(3, c.procedure);
        let mut x = Xdr::new(c.args);
        let handle = x.opaque(64);
        match c.procedure {
            proc3::WRITE => {
                self.write_v3(c.xid, handle, &mut x, out);
                return;
            }
            proc3::COMMIT => {
                match handle {
                    Some(fh) => {
                        if let Some(tx) = self.file_tx(fh, NfsDirection::ToServer) {
                            tx.additional_procedures.push(proc3::COMMIT);
                            if let Some(f) = tx.file.as_mut() {
                                f.closed = true;
                            }
                            report_both(tx, out);
                        }
                    }
                    None => self.anomaly(NfsAnomaly::MalformedData),
                }
                return;
            }
            _ => {}
        }
        let Some(fh) = handle else {
            self.anomaly(NfsAnomaly::MalformedData);
            if c.procedure != proc3::READ {
                self.plain_call(c.xid, call, out);
            }
            return;
        };
        call.handle = fh.to_vec();
        match c.procedure {
            proc3::LOOKUP
            | proc3::CREATE
            | proc3::MKDIR
            | proc3::REMOVE
            | proc3::RMDIR
            | proc3::RENAME => match x.opaque(1024) {
                Some(name) => call.name = name.to_vec(),
                None => self.anomaly(NfsAnomaly::MalformedData),
            },
            _ => call.name = self.name_of(fh),
        }
        if c.procedure != proc3::READ {
            self.plain_call(c.xid, call, out);
            return;
        }
        match x.u64() {
            Some(o) => call.offset = o,
            None => self.anomaly(NfsAnomaly::MalformedData),
        }
        // One file transaction per handle and direction, opened now.
        if self.file_tx(fh, NfsDirection::ToClient).is_none() {
            let name = call.name.clone();
            self.new_file_tx(c.xid, 3, proc3::READ, fh, name, NfsDirection::ToClient);
        }
        self.remember(c.xid, call);
    }

    fn write_v3(
        &mut self,
        xid: u32,
        handle: Option<&[u8]>,
        x: &mut Xdr<'_>,
        out: &mut Vec<NfsReady>,
    ) {
        let parsed = (|| {
            let offset = x.u64()?;
            let count = x.u32()?;
            let stable = x.u32()?;
            let (_, data) = x.opaque_partial()?;
            Some((offset, count, stable, data))
        })();
        let (Some(fh), Some((offset, count, stable, data))) = (handle, parsed) else {
            self.anomaly(NfsAnomaly::MalformedData);
            return;
        };
        if count == 0 || count > MAX_CHUNK {
            return;
        }
        let data = data.get(..(count as usize).min(data.len())).unwrap_or(&[]);
        if self.file_tx(fh, NfsDirection::ToServer).is_none() {
            let name = self.name_of(fh);
            self.new_file_tx(xid, 3, proc3::WRITE, fh, name, NfsDirection::ToServer);
        }
        let Some(tx) = self.file_tx(fh, NfsDirection::ToServer) else {
            return;
        };
        if let Some(f) = tx.file.as_mut() {
            f.add(offset, data);
            // FILE_SYNC: taken as the transfer's last chunk.
            if stable == 2 {
                f.closed = true;
            }
        }
        if stable == 2 {
            report_both(tx, out);
        }
    }

    fn reply(&mut self, r: &Reply<'_>, out: &mut Vec<NfsReady>) {
        let Some(call) = self.pending.remove(&r.xid) else {
            return;
        };
        let results = r.results.unwrap_or(&[]);
        let mut x = Xdr::new(results);
        let status = x.u32();
        let is_read = call.procedure == proc3::READ && matches!(call.version, 2 | 3);
        if is_read {
            if r.results.is_some() && status == Some(0) {
                self.read_reply(&call, r.xid, &mut x, out);
            }
            return;
        }
        if call.version == 3 && status == Some(0) {
            match call.procedure {
                proc3::LOOKUP => match x.opaque(64) {
                    Some(fh) => self.learn_name(fh, &call.name),
                    None => self.anomaly(NfsAnomaly::MalformedData),
                },
                proc3::CREATE => {
                    // post_op_fh3: a handle when `follows`.
                    match x.u32() {
                        Some(1) => match x.opaque(64) {
                            Some(fh) => self.learn_name(fh, &call.name),
                            None => self.anomaly(NfsAnomaly::MalformedData),
                        },
                        Some(_) => {}
                        None => self.anomaly(NfsAnomaly::MalformedData),
                    }
                }
                _ => {}
            }
        }
        let tx = self
            .txs
            .iter_mut()
            .find(|t| t.file.is_none() && t.xid == r.xid);
        if let Some(tx) = tx {
            tx.status = status;
            report(tx, NfsDirection::ToClient, out);
        }
    }

    fn read_reply(
        &mut self,
        call: &PendingCall,
        xid: u32,
        x: &mut Xdr<'_>,
        out: &mut Vec<NfsReady>,
    ) {
        let parsed = (|| {
            if call.version == 2 {
                let attr = x.fixed(FATTR2_LEN)?;
                let size = be32(attr, 20)?;
                let (count, data) = x.opaque_partial()?;
                let end = call.offset.saturating_add(u64::from(count));
                Some((count, data, u64::from(size) == end))
            } else {
                if x.u32()? == 1 {
                    x.skip(FATTR3_LEN)?;
                }
                let count = x.u32()?;
                let eof = x.u32()? != 0;
                let (_, data) = x.opaque_partial()?;
                Some((count, data, eof))
            }
        })();
        let Some((count, data, last)) = parsed else {
            self.anomaly(NfsAnomaly::MalformedData);
            return;
        };
        if count == 0 || count > MAX_CHUNK {
            return;
        }
        let data = data.get(..(count as usize).min(data.len())).unwrap_or(&[]);
        let handle = call.handle.clone();
        let (version, offset) = (call.version, call.offset);
        if self.file_tx(&handle, NfsDirection::ToClient).is_none() {
            self.new_file_tx(
                xid,
                version,
                proc3::READ,
                &handle,
                call.name.clone(),
                NfsDirection::ToClient,
            );
        }
        if let Some(tx) = self.file_tx(&handle, NfsDirection::ToClient) {
            // Only successful replies carry data.
            tx.status = Some(0);
            if let Some(f) = tx.file.as_mut() {
                f.add(offset, data);
                if last {
                    f.closed = true;
                }
            }
            if last {
                report_both(tx, out);
            }
        }
    }
}

fn pending(version: u32, procedure: u32) -> PendingCall {
    PendingCall {
        version,
        procedure,
        handle: Vec::new(),
        name: Vec::new(),
        offset: 0,
    }
}

/// Reports side `dir` of `tx` once.
fn report(tx: &mut NfsTx, dir: NfsDirection, out: &mut Vec<NfsReady>) {
    if let Some(r) = tx.reported.get_mut(dir.index()) {
        if !*r {
            *r = true;
            out.push(NfsReady { id: tx.id, dir });
        }
    }
}

/// Reports both sides of a (closed file) transaction, each once.
fn report_both(tx: &mut NfsTx, out: &mut Vec<NfsReady>) {
    for dir in [NfsDirection::ToServer, NfsDirection::ToClient] {
        report(tx, dir, out);
    }
}

/// The name of procedure `procedure` of NFS version `version`, as
/// Suricata's EVE `nfs.procedure` writes it (`None` for unknown numbers).
pub fn procedure_name(version: u32, procedure: u32) -> Option<&'static str> {
    const V2: [&str; 18] = [
        "NULL",
        "GETATTR",
        "SETATTR",
        "ROOT",
        "LOOKUP",
        "READLINK",
        "READ",
        "WRITECACHE",
        "WRITE",
        "CREATE",
        "REMOVE",
        "RENAME",
        "LINK",
        "SYMLINK",
        "MKDIR",
        "RMDIR",
        "READDIR",
        "STATFS",
    ];
    const V3: [&str; 22] = [
        "NULL",
        "GETATTR",
        "SETATTR",
        "LOOKUP",
        "ACCESS",
        "READLINK",
        "READ",
        "WRITE",
        "CREATE",
        "MKDIR",
        "SYMLINK",
        "MKNOD",
        "REMOVE",
        "RMDIR",
        "RENAME",
        "LINK",
        "READDIR",
        "READDIRPLUS",
        "FSSTAT",
        "FSINFO",
        "PATHCONF",
        "COMMIT",
    ];
    let i = usize::try_from(procedure).ok()?;
    match version {
        2 => V2.get(i).copied(),
        4 => ["NULL", "COMPOUND"].get(i).copied(),
        _ => V3.get(i).copied(),
    }
}

/// The name of NFS status `status`, as Suricata's EVE `nfs.status` writes
/// it (`OK`, `ERR_NOENT`, ...; `None` for unknown values).
pub fn status_name(status: u32) -> Option<&'static str> {
    Some(match status {
        0 => "OK",
        1 => "ERR_PERM",
        2 => "ERR_NOENT",
        5 => "ERR_IO",
        6 => "ERR_NXIO",
        13 => "ERR_ACCES",
        17 => "ERR_EXIST",
        18 => "ERR_XDEV",
        19 => "ERR_NODEV",
        20 => "ERR_NOTDIR",
        21 => "ERR_ISDIR",
        22 => "ERR_INVAL",
        27 => "ERR_FBIG",
        28 => "ERR_NOSPC",
        30 => "ERR_ROFS",
        31 => "ERR_MLINK",
        63 => "ERR_NAMETOOLONG",
        66 => "ERR_NOTEMPTY",
        69 => "ERR_DQUOT",
        70 => "ERR_STALE",
        71 => "ERR_REMOTE",
        10001 => "ERR_BADHANDLE",
        10002 => "ERR_NOT_SYNC",
        10003 => "ERR_BAD_COOKIE",
        10004 => "ERR_NOTSUPP",
        10005 => "ERR_TOOSMALL",
        10006 => "ERR_SERVERFAULT",
        10007 => "ERR_BADTYPE",
        10008 => "ERR_JUKEBOX",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TS: NfsDirection = NfsDirection::ToServer;
    const TC: NfsDirection = NfsDirection::ToClient;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // UDP payloads of suricata-verify's issue-3277-nfsv2-filestore pcap
    // (frame numbers as tshark gives them).
    /// Frame 7: NFSv2 NULL call (40 bytes, AUTH_NULL).
    const F7_NULL_CALL: &str =
        "3841aadf0000000000000002000186a3000000020000000000000000000000000000000000000000";
    /// Frame 8: its reply.
    const F8_NULL_REPLY: &str = "3841aadf0000000100000000000000000000000000000000";
    /// Frame 9: NFSv2 GETATTR call (AUTH_UNIX).
    const F9_GETATTR_CALL: &str = "5e1d0b940000000000000002000186a300000002000000010000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000b25a00000029000a00000000b25a00000029";
    /// Frame 89: NFSv2 WRITE of "hallo\n" to file "h".
    const F89_WRITE_CALL: &str = "5e1d0bbc0000000000000002000186a300000002000000080000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000a6510000001c000a00000000b25a000000290000000000000000000000060000000668616c6c6f0a0000";
    /// Frame 90: its reply.
    const F90_WRITE_REPLY: &str = "5e1d0bbc00000001000000000000000000000000000000000000000000000001000081a400000001000000000000000100000006000040000000000000000002001010850000a651384775ea000afc80384775ea000b2390384775ea000b2390";
    /// Frame 101: NFSv2 READ of file "b" (offset 0, count 8192).
    const F101_READ_CALL: &str = "5e1d0bc20000000000000002000186a300000002000000060000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000b25d0000002a000a00000000b25a00000029000000000000200000002000";
    /// Frame 102: its reply: attributes (size 11) and "the b file\n".
    const F102_READ_REPLY: &str = "5e1d0bc200000001000000000000000000000000000000000000000000000001000081a40000000200000000000000010000000b000040000000000000000002001010850000b25d384775ea000b71b0384771c40008b290384775ea000900b00000000b74686520622066696c650a00";

    fn udp(s: &mut NfsState, dir: NfsDirection, h: &str) -> Vec<NfsReady> {
        let mut out = Vec::new();
        s.parse_datagram(dir, &hex(h), &mut out);
        out
    }

    #[test]
    fn udp_probe_follows_suricata() {
        // The NULL call is 40 bytes: below Suricata's 48-byte minimum.
        assert!(!probe_udp(&hex(F7_NULL_CALL), true));
        assert!(probe_udp(&hex(F9_GETATTR_CALL), true));
        // Replies: accepted and successful, at least 32 bytes.
        assert!(!probe_udp(&hex(F8_NULL_REPLY), false));
        assert!(probe_udp(&hex(F90_WRITE_REPLY), false));
        assert!(!probe_udp(&hex(F90_WRITE_REPLY), true));
        assert!(!probe_udp(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789012345678901",
            true
        ));
    }

    #[test]
    fn v2_read_reply_is_a_closed_file() {
        let mut s = NfsState::new();
        assert!(udp(&mut s, TS, F101_READ_CALL).is_empty());
        let out = udp(&mut s, TC, F102_READ_REPLY);
        let tx = s.transactions().next().unwrap();
        assert_eq!(
            out,
            vec![
                NfsReady { id: tx.id, dir: TS },
                NfsReady { id: tx.id, dir: TC }
            ]
        );
        let f = tx.file.as_ref().unwrap();
        assert_eq!(f.data, b"the b file\n");
        assert_eq!(f.size, 11);
        // The attributes' size (11) equals offset + count: the last chunk.
        assert!(f.closed);
        assert_eq!(tx.file_direction, Some(TC));
        assert_eq!((tx.version, tx.procedure), (2, 6));
        assert_eq!(tx.status, Some(0));
        assert_eq!(procedure_name(2, tx.procedure), Some("READ"));
    }

    #[test]
    fn v2_write_is_a_plain_transaction() {
        let mut s = NfsState::new();
        let out = udp(&mut s, TS, F89_WRITE_CALL);
        let id = s.transactions().next().unwrap().id;
        assert_eq!(out, vec![NfsReady { id, dir: TS }]);
        let out = udp(&mut s, TC, F90_WRITE_REPLY);
        assert_eq!(out, vec![NfsReady { id, dir: TC }]);
        let tx = s.transaction(id).unwrap();
        assert!(tx.file.is_none());
        assert_eq!(tx.procedure, 8);
        assert_eq!(procedure_name(2, 8), Some("WRITE"));
        assert_eq!(tx.status, Some(0));
        assert_eq!(tx.xid, 0x5e1d_0bbc);
    }

    #[test]
    fn null_call_and_reply() {
        let mut s = NfsState::new();
        assert_eq!(udp(&mut s, TS, F7_NULL_CALL).len(), 1);
        assert_eq!(udp(&mut s, TC, F8_NULL_REPLY).len(), 1);
        // A reply nobody asked for is ignored.
        assert!(udp(&mut s, TC, F8_NULL_REPLY).is_empty());
        assert_eq!(s.transactions().count(), 1);
    }

    /// Builds NFSv3 messages by hand (RFC 1813 layouts).
    struct B(Vec<u8>);

    impl B {
        fn call(xid: u32, procedure: u32) -> B {
            let mut b = B(Vec::new());
            b.u32(xid)
                .u32(0)
                .u32(2)
                .u32(NFS_PROGRAM)
                .u32(3)
                .u32(procedure);
            // AUTH_UNIX credentials with an empty machine name, AUTH_NULL
            // verifier.
            b.u32(1)
                .opaque(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            b.u32(0).u32(0);
            b
        }
        fn reply(xid: u32, status: u32) -> B {
            let mut b = B(Vec::new());
            b.u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0).u32(status);
            b
        }
        fn u32(&mut self, v: u32) -> &mut B {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u64(&mut self, v: u64) -> &mut B {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn opaque(&mut self, v: &[u8]) -> &mut B {
            self.u32(v.len() as u32);
            self.0.extend_from_slice(v);
            while !self.0.len().is_multiple_of(4) {
                self.0.push(0);
            }
            self
        }
    }

    const DIR: &[u8] = b"dir-handle-0001";
    const FH: &[u8] = b"file-handle-0002";

    /// LOOKUP "secret.txt" in DIR, answered with FH.
    fn lookup(s: &mut NfsState, out: &mut Vec<NfsReady>) {
        let mut c = B::call(1, proc3::LOOKUP);
        c.opaque(DIR).opaque(b"secret.txt");
        s.parse_datagram(TS, &c.0, out);
        let mut r = B::reply(1, 0);
        r.opaque(FH).u32(0).u32(0);
        s.parse_datagram(TC, &r.0, out);
    }

    fn write(xid: u32, offset: u64, data: &[u8], stable: u32) -> Vec<u8> {
        let mut c = B::call(xid, proc3::WRITE);
        c.opaque(FH)
            .u64(offset)
            .u32(data.len() as u32)
            .u32(stable)
            .opaque(data);
        c.0
    }

    fn commit(xid: u32) -> Vec<u8> {
        let mut c = B::call(xid, proc3::COMMIT);
        c.opaque(FH).u64(0).u32(0);
        c.0
    }

    #[test]
    fn v3_writes_by_offset_and_commit_close_a_named_file() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        lookup(&mut s, &mut out);
        assert_eq!(out.len(), 2, "lookup call and reply");
        assert_eq!(s.transactions().next().unwrap().file_name, b"secret.txt");
        out.clear();
        // Out of order: the second chunk first.
        s.parse_datagram(TS, &write(2, 5, b" world", 0), &mut out);
        s.parse_datagram(TS, &write(3, 0, b"hello", 0), &mut out);
        assert!(out.is_empty(), "an open file is not ready");
        s.parse_datagram(TS, &commit(4), &mut out);
        let tx = s.transactions().find(|t| t.file.is_some()).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|r| r.id == tx.id));
        let f = tx.file.as_ref().unwrap();
        assert_eq!(f.data, b"hello world");
        assert!(f.closed);
        assert_eq!(tx.file_name, b"secret.txt");
        assert_eq!(tx.file_direction, Some(TS));
        assert_eq!(tx.procedures().collect::<Vec<_>>(), vec![7, 21]);
    }

    #[test]
    fn v3_file_sync_write_closes_and_overlap_keeps_first_copy() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        s.parse_datagram(TS, &write(2, 0, b"abcd", 0), &mut out);
        s.parse_datagram(TS, &write(3, 2, b"XYef", 2), &mut out);
        let tx = s.transactions().next().unwrap();
        let f = tx.file.as_ref().unwrap();
        assert_eq!(f.data, b"abcdef");
        assert!(f.closed);
        assert_eq!(out.len(), 2);
        // A new write to the handle opens a new file.
        s.parse_datagram(TS, &write(5, 0, b"z", 0), &mut out);
        assert_eq!(s.transactions().filter(|t| t.file.is_some()).count(), 2);
    }

    #[test]
    fn v3_read_reply_with_eof_closes_a_read_file() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        lookup(&mut s, &mut out);
        out.clear();
        let mut c = B::call(9, proc3::READ);
        c.opaque(FH).u64(0).u32(4096);
        s.parse_datagram(TS, &c.0, &mut out);
        assert!(out.is_empty());
        let mut r = B::reply(9, 0);
        r.u32(1);
        r.0.extend_from_slice(&[0; FATTR3_LEN]);
        r.u32(3).u32(1).opaque(b"MZ!");
        s.parse_datagram(TC, &r.0, &mut out);
        let tx = s.transactions().find(|t| t.file.is_some()).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(tx.file.as_ref().unwrap().data, b"MZ!");
        assert!(tx.file.as_ref().unwrap().closed);
        assert_eq!(tx.file_name, b"secret.txt");
        assert_eq!(tx.file_direction, Some(TC));
    }

    #[test]
    fn open_files_close_when_the_flow_ends() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        s.parse_datagram(TS, &write(2, 0, b"part", 0), &mut out);
        assert!(out.is_empty());
        s.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert!(
            s.transactions()
                .next()
                .unwrap()
                .file
                .as_ref()
                .unwrap()
                .closed
        );
    }

    fn record(msg: &[u8]) -> Vec<u8> {
        let mut r = (0x8000_0000u32 | msg.len() as u32).to_be_bytes().to_vec();
        r.extend_from_slice(msg);
        r
    }

    #[test]
    fn tcp_records_split_anywhere_give_the_same_transactions() {
        let mut stream = Vec::new();
        stream.extend(record(&write(2, 0, b"hello", 0)));
        // A message in two fragments.
        let w = write(3, 5, b" tcp", 0);
        let (a, b) = w.split_at(20);
        stream.extend((a.len() as u32).to_be_bytes());
        stream.extend(a);
        stream.extend(record(b));
        stream.extend(record(&commit(4)));
        assert!(probe_tcp(&stream));
        for cut in 0..stream.len() {
            let mut s = NfsState::new();
            let mut out = Vec::new();
            s.feed_tcp(TS, &stream[..cut], &mut out);
            s.feed_tcp(TS, &stream[cut..], &mut out);
            let tx = s.transactions().next().unwrap();
            assert_eq!(tx.file.as_ref().unwrap().data, b"hello tcp", "cut {cut}");
            assert!(tx.file.as_ref().unwrap().closed);
            assert_eq!(out.len(), 2);
        }
    }

    #[test]
    fn oversized_tcp_record_is_skipped_with_an_event() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        s.feed_tcp(TS, &record(&B::call(1, 1).0), &mut out);
        let big = (MAX_RECORD + 1) as u32 | 0x8000_0000;
        s.feed_tcp(TS, &big.to_be_bytes(), &mut out);
        s.feed_tcp(TS, &vec![0u8; MAX_RECORD + 1], &mut out);
        assert!(s.transactions().next().unwrap().has_event("malformed_data"));
        // What follows is read again.
        s.feed_tcp(TS, &record(&B::call(2, 1).0), &mut out);
        assert_eq!(s.transactions().count(), 2);
        assert_eq!(s.buffered(), 0);
    }

    #[test]
    fn malformed_messages_and_unknown_versions_raise_events() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        s.parse_datagram(TS, &hex(F9_GETATTR_CALL), &mut out);
        s.parse_datagram(TS, &hex(F9_GETATTR_CALL)[..30], &mut out);
        assert!(s.transactions().next().unwrap().has_event("malformed_data"));
        let mut c = B::call(7, 0);
        c.0[16..20].copy_from_slice(&7u32.to_be_bytes());
        s.parse_datagram(TS, &c.0, &mut out);
        assert!(s
            .transactions()
            .next()
            .unwrap()
            .has_event("non_existing_version"));
        // A truncated v3 WRITE.
        let w = write(8, 0, b"abc", 0);
        s.parse_datagram(TS, &w[..w.len() - 12], &mut out);
        assert_eq!(s.transactions().count(), 1);
    }

    #[test]
    fn transactions_and_pending_calls_are_bounded() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        for xid in 0..(MAX_PENDING_CALLS as u32 + 100) {
            s.parse_datagram(TS, &B::call(xid, 1).0, &mut out);
        }
        assert_eq!(s.transactions().count(), MAX_TRANSACTIONS);
        assert!(s
            .transactions()
            .last()
            .unwrap()
            .has_event("too_many_transactions"));
        assert_eq!(s.pending.len(), MAX_PENDING_CALLS);
        assert!(s.pending_order.len() <= MAX_PENDING_CALLS);
        // Calls still awaiting their reply stay.
        s.remove_before(u64::MAX);
        assert_eq!(s.transactions().count(), MAX_TRANSACTIONS);
    }

    #[test]
    fn calls_stay_until_answered() {
        let mut s = NfsState::new();
        let mut out = Vec::new();
        s.parse_datagram(TS, &hex(F89_WRITE_CALL), &mut out);
        s.remove_before(u64::MAX);
        assert_eq!(s.transactions().count(), 1);
        s.parse_datagram(TC, &hex(F90_WRITE_REPLY), &mut out);
        assert_eq!(out.len(), 2);
        s.remove_before(u64::MAX);
        assert_eq!(s.transactions().count(), 0);
    }

    #[test]
    fn file_depth_bounds_data_not_size() {
        let mut f = NfsFile::default();
        let chunk = vec![7u8; 1 << 19];
        for i in 0..4u64 {
            f.add(i * (1 << 19), &chunk);
        }
        assert_eq!(f.data.len(), FILE_DEPTH);
        assert_eq!(f.size, 4 << 19);
        for i in 0..(MAX_PENDING_CHUNKS as u64 + 10) {
            f.add((10 + i) << 30, b"x");
        }
        assert_eq!(f.pending.len(), MAX_PENDING_CHUNKS);
    }
}
