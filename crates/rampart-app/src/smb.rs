//! SMB over TCP (port 445 / NetBIOS session service): enough of SMB1 and
//! SMB2 to follow the files a connection writes and reads, and the shares
//! it connects to, as Suricata's SMB parser exposes them to rules
//! (`file.data`, `file.name`, `filesize`, `smb.share`, `smb.named_pipe`,
//! `app-layer-event:smb.*`).
//!
//! The parser is pure and bounded: it is handed in-order stream data per
//! direction, frames NetBIOS session messages itself (a message may be
//! split anywhere across calls, several may share one call), keeps at most
//! [`MAX_MESSAGE`] bytes of a message and [`FILE_DEPTH`] bytes of a file,
//! and reports malformed input as [`SmbAnomaly`] values: nothing it is
//! given stops inspection. Named pipe payloads (DCERPC over SMB: writes
//! and reads on IPC$ trees, SMB1 TransactNmPipe, SMB2 pipe transceive
//! IOCTLs) are recognised but not parsed: they are queued as
//! [`PipeChunk`]s, in order and bounded, for the caller to hand to a
//! DCERPC parser ([`SmbSession::take_pipe_chunks`]).

use std::collections::HashMap;

/// Most bytes of a NetBIOS session message kept: SMB1 writes are at most
/// 64 KiB (128 KiB with large write), SMB2 ones up to 8 MiB. Of a longer
/// message the first `MAX_MESSAGE` bytes are parsed (a large write or
/// read gives its first bytes, more than [`FILE_DEPTH`], and counts the
/// rest in the file's size) and the rest is skipped.
pub const MAX_MESSAGE: usize = 1 << 21;

/// Bytes of a file kept for `file.data` (Suricata inspects files with a
/// depth too); the file's size is still counted past it.
pub const FILE_DEPTH: usize = 1 << 20;

/// Out-of-order file chunks kept per file while waiting for the gap
/// before them to be filled.
const MAX_PENDING_CHUNKS: usize = 64;

/// Transactions kept per connection: older complete ones are dropped.
const MAX_TXS: usize = 256;

/// Outstanding requests remembered per connection (creates and reads
/// waiting for their response); also the cap on remembered trees and
/// file names.
const MAX_PENDING: usize = 1024;

/// Named pipe payload queued for the caller (for a DCERPC parser) until
/// it takes it; chunks beyond are dropped and counted.
pub const MAX_PIPE_QUEUE: usize = 1 << 18;

/// The SMB2 IOCTL control code of a named pipe transaction.
const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_c017;

/// Which way data travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmbDirection {
    /// Client to server (requests).
    ToServer,
    /// Server to client (responses).
    ToClient,
}

impl SmbDirection {
    fn index(self) -> usize {
        match self {
            SmbDirection::ToServer => 0,
            SmbDirection::ToClient => 1,
        }
    }
}

/// Malformed or suspicious input, reported as Suricata's
/// `app-layer-event:smb.<name>` events rather than errors, so that hostile
/// traffic never stops inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmbAnomaly {
    /// A record that does not parse (`smb.malformed_data`).
    MalformedData,
    /// A record too long to handle (`smb.record_overflow`; Suricata 7
    /// declares it but never raises it, nor does this parser).
    RecordOverflow,
    /// File data written or read again at an offset already seen: an
    /// evasion trick (`smb.file_overlap`).
    FileOverlap,
    /// A read response claims more data than its message holds
    /// (`smb.read_response_too_large`).
    ReadResponseTooLarge,
    /// More transactions than [`MAX_TXS`] were open
    /// (`smb.too_many_transactions`).
    TooManyTransactions,
}

impl SmbAnomaly {
    /// The event's name in rules, without the `smb.` prefix.
    pub fn event_name(self) -> &'static str {
        match self {
            SmbAnomaly::MalformedData => "malformed_data",
            SmbAnomaly::RecordOverflow => "record_overflow",
            SmbAnomaly::FileOverlap => "file_overlap",
            SmbAnomaly::ReadResponseTooLarge => "read_response_too_large",
            SmbAnomaly::TooManyTransactions => "too_many_transactions",
        }
    }
}

/// The `app-layer-event:smb.<name>` events the parser reports; rules
/// naming other SMB events stay inactive rather than never matching.
pub const SMB_EVENTS: &[&str] = &[
    "malformed_data",
    "record_overflow",
    "file_overlap",
    "read_response_too_large",
    "too_many_transactions",
];

/// A file written to or read from a share, as far as the connection
/// showed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmbFile {
    /// The name given when it was opened (`file.name`), lossily narrowed
    /// from UTF-16 as Suricata does.
    pub name: Vec<u8>,
    /// Its share (`\\server\share`, without the first backslash).
    pub share: Vec<u8>,
    /// The file id the protocol uses (SMB1 FID with the user id, SMB2
    /// GUID).
    pub fid: Vec<u8>,
    /// Written (to server) or read (to client).
    pub direction: Option<SmbDirection>,
    /// The file's first bytes in order, up to [`FILE_DEPTH`]
    /// (`file.data`).
    pub data: Vec<u8>,
    /// Bytes received in order from offset 0 (the file's size so far).
    pub size: u64,
    /// Part of the file was counted but not kept (the end of a message
    /// longer than [`MAX_MESSAGE`]): `data` stops there.
    pub truncated: bool,
    /// Chunks received past a gap: offset and bytes.
    pending: Vec<(u64, Vec<u8>)>,
    /// The file was closed (or the connection ended): its size is final.
    pub closed: bool,
}

impl SmbFile {
    /// Places a chunk at `offset`; returns whether it overlapped data
    /// already seen (the overlapping part is dropped: the first copy
    /// wins).
    fn add(&mut self, offset: u64, mut chunk: &[u8]) -> bool {
        let mut overlap = false;
        if offset < self.size {
            overlap = true;
            let skip = usize::try_from(self.size - offset).unwrap_or(usize::MAX);
            chunk = chunk.get(skip..).unwrap_or(&[]);
            if chunk.is_empty() {
                return overlap;
            }
            self.append(chunk);
        } else if offset == self.size {
            self.append(chunk);
        } else {
            if self.pending.iter().any(|(o, c)| {
                offset < o.saturating_add(c.len() as u64)
                    && *o < offset.saturating_add(chunk.len() as u64)
            }) {
                overlap = true;
            }
            if self.pending.len() < MAX_PENDING_CHUNKS {
                self.pending.push((offset, chunk.to_vec()));
            }
            return overlap;
        }
        // Chunks the gap before them was waiting for.
        loop {
            let size = self.size;
            let Some(i) = self.pending.iter().position(|(o, _)| *o <= size) else {
                break;
            };
            let (o, c) = self.pending.swap_remove(i);
            let skip = usize::try_from(size - o).unwrap_or(usize::MAX);
            if let Some(rest) = c.get(skip..) {
                if !rest.is_empty() {
                    self.append(rest);
                }
            }
        }
        overlap
    }

    /// Counts `n` bytes that were not kept: the data ends before them.
    fn hole(&mut self, n: u64) {
        self.size = self.size.saturating_add(n);
        self.truncated = true;
    }

    fn append(&mut self, chunk: &[u8]) {
        let room = if self.truncated {
            0
        } else {
            FILE_DEPTH.saturating_sub(self.data.len())
        };
        self.data
            .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or(&[]));
        self.size = self.size.saturating_add(chunk.len() as u64);
    }
}

/// What a transaction is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmbTxKind {
    /// A tree connect: the share (`smb.share`, or `smb.named_pipe` for
    /// IPC$), learnt from the request, whether it is a pipe from the
    /// response.
    TreeConnect {
        /// The share path without its first backslash.
        share: Vec<u8>,
        /// Whether the server said the share is IPC (a named pipe
        /// share); `None` until the response.
        is_pipe: Option<bool>,
    },
    /// A file transfer (one per file and direction).
    File(SmbFile),
    /// Reads and writes on named pipes (DCERPC over SMB): the events
    /// raised meanwhile; the payload goes to [`PipeChunk`]s.
    Pipe,
}

/// Payload written to (request) or read from (response) a named pipe,
/// for a DCERPC parser: one direction's chunks, in order, form its
/// DCERPC byte stream for that pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeChunk {
    /// Client to server (writes) or server to client (reads).
    pub dir: SmbDirection,
    /// The pipe's file id (as in [`SmbFile::fid`]).
    pub fid: Vec<u8>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// One SMB transaction: rules inspect it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmbTx {
    /// Its id in the connection.
    pub id: u64,
    /// What it is about.
    pub kind: SmbTxKind,
    /// Anomalies raised while it was the latest transaction (Suricata sets
    /// a connection's events on its most recent transaction).
    pub anomalies: Vec<SmbAnomaly>,
    /// Stream offset (to-client direction) just past the response that
    /// completed it, when known: what the server told is visible to
    /// inspection only once that data is acknowledged.
    pub response_end: Option<u64>,
}

/// A transaction side ready for inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmbReady {
    /// The transaction.
    pub id: u64,
    /// The side: its request (to server) or response (to client).
    pub dir: SmbDirection,
}

/// A request whose response decides something.
#[derive(Clone, Debug)]
enum Pending {
    /// A tree connect (its transaction).
    TreeConnect(u64),
    /// A create of a file named so.
    Create(Vec<u8>),
    /// A read of a file at an offset.
    Read { fid: Vec<u8>, offset: u64 },
    /// A named pipe transaction (SMB1 TransactNmPipe, SMB2 pipe
    /// transceive IOCTL) on a file id.
    Transact { fid: Vec<u8> },
}

/// A share a tree id stands for.
#[derive(Clone, Debug)]
struct Tree {
    share: Vec<u8>,
    is_pipe: bool,
}

/// Key of a request awaiting its response: dialect, session/tree ids and
/// message id as the header gives them.
type MsgKey = (u8, u64, u32, u64);

/// An SMB connection.
#[derive(Debug, Default)]
pub struct SmbSession {
    /// Per direction: bytes of the NetBIOS message being assembled.
    buf: [Vec<u8>; 2],
    /// Per direction: bytes of an oversized message still to skip.
    skip: [u64; 2],
    txs: Vec<SmbTx>,
    next_id: u64,
    pending: HashMap<MsgKey, Pending>,
    trees: HashMap<(u8, u64, u32), Tree>,
    /// File ids to names.
    names: HashMap<Vec<u8>, Vec<u8>>,
    /// Stream offset just past the data of the current call.
    end: u64,
    /// The message being parsed was cut at [`MAX_MESSAGE`] bytes.
    cut: bool,
    /// Anomalies raised with no transaction yet.
    pub orphan_anomalies: Vec<SmbAnomaly>,
    /// Named pipe payload not yet taken by the caller.
    pipe_chunks: Vec<PipeChunk>,
    /// Bytes in `pipe_chunks`.
    pipe_queued: usize,
    /// Pipe payload bytes dropped because the queue was full.
    pub pipe_dropped: u64,
}

/// A parsed SMB1 or SMB2 header, the parts that matter here.
struct Header {
    command: u16,
    status: u32,
    reply: bool,
    unicode: bool,
    session: u64,
    tree: u32,
    msg: u64,
}

impl SmbSession {
    /// A session with nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The transactions still held.
    pub fn transactions(&self) -> &[SmbTx] {
        &self.txs
    }

    /// Bytes held for framing (partial NetBIOS messages of both
    /// directions), at most `2 * (MAX_MESSAGE + 4)`.
    pub fn buffered(&self) -> usize {
        self.buf.iter().map(Vec::len).sum()
    }

    /// Takes the named pipe payload parsed since the last call, in order.
    pub fn take_pipe_chunks(&mut self) -> Vec<PipeChunk> {
        self.pipe_queued = 0;
        std::mem::take(&mut self.pipe_chunks)
    }

    /// Bytes of named pipe payload queued, at most [`MAX_PIPE_QUEUE`].
    pub fn pipe_queued(&self) -> usize {
        self.pipe_queued
    }

    /// Transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&SmbTx> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Feeds in-order stream data of `dir`; `end` is the stream offset
    /// just past it (recorded on responses, see [`SmbTx::response_end`]).
    /// Appends the transaction sides that became ready.
    pub fn feed(&mut self, dir: SmbDirection, data: &[u8], end: u64, out: &mut Vec<SmbReady>) {
        self.end = end;
        let d = dir.index();
        let mut data = data;
        while !data.is_empty() {
            let skip = self.skip.get(d).copied().unwrap_or(0);
            if skip > 0 {
                let n = usize::try_from(skip).unwrap_or(usize::MAX).min(data.len());
                if let Some(s) = self.skip.get_mut(d) {
                    *s -= n as u64;
                }
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            let Some(buf) = self.buf.get_mut(d) else {
                return;
            };
            // Header first, then the body it announces.
            let need = if buf.len() < 4 {
                4 - buf.len()
            } else {
                (4 + nbss_len(buf).min(MAX_MESSAGE)).saturating_sub(buf.len())
            };
            let n = need.min(data.len());
            buf.extend_from_slice(data.get(..n).unwrap_or(&[]));
            data = data.get(n..).unwrap_or(&[]);
            let len = if buf.len() >= 4 {
                nbss_len(buf)
            } else {
                usize::MAX
            };
            if buf.len() == 4 + len.min(MAX_MESSAGE) {
                let msg = std::mem::take(buf);
                // The rest of a longer message is skipped.
                self.cut = len > MAX_MESSAGE;
                if let Some(s) = self.skip.get_mut(d) {
                    *s = len.saturating_sub(MAX_MESSAGE) as u64;
                }
                if msg.first() == Some(&0) {
                    self.message(dir, msg.get(4..).unwrap_or(&[]), out);
                }
                self.cut = false;
                // Other NetBIOS types (keepalive, session request) carry
                // no SMB.
            }
        }
    }

    /// The connection ended: open files count as complete (truncated),
    /// and their sides are ready.
    pub fn finish(&mut self, out: &mut Vec<SmbReady>) {
        for tx in &mut self.txs {
            if let SmbTxKind::File(f) = &mut tx.kind {
                if !f.closed {
                    f.closed = true;
                    out.push(SmbReady {
                        id: tx.id,
                        dir: SmbDirection::ToServer,
                    });
                    out.push(SmbReady {
                        id: tx.id,
                        dir: SmbDirection::ToClient,
                    });
                }
            }
        }
    }

    /// Drops complete transactions before `id` (those inspected).
    pub fn remove_completed_before(&mut self, id: u64) {
        self.txs.retain(|t| {
            t.id >= id
                || match &t.kind {
                    SmbTxKind::File(f) => !f.closed,
                    SmbTxKind::TreeConnect { is_pipe, .. } => is_pipe.is_none(),
                    SmbTxKind::Pipe => true,
                }
        });
    }

    fn anomaly(&mut self, a: SmbAnomaly) {
        match self.txs.last_mut() {
            Some(tx) => {
                if !tx.anomalies.contains(&a) {
                    tx.anomalies.push(a);
                }
            }
            None => {
                if !self.orphan_anomalies.contains(&a) {
                    self.orphan_anomalies.push(a);
                }
            }
        }
    }

    fn new_tx(&mut self, kind: SmbTxKind) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        if self.txs.len() >= MAX_TXS {
            self.txs.remove(0);
            self.anomaly(SmbAnomaly::TooManyTransactions);
        }
        self.txs.push(SmbTx {
            id,
            kind,
            anomalies: Vec::new(),
            response_end: None,
        });
        id
    }

    /// Remembers a connected tree (bounded like the other maps: past the
    /// cap, what was known is forgotten rather than growing).
    /// A tree connect's response (SMB1 or SMB2) for transaction `id`:
    /// records whether the share is a pipe, remembers the tree when the
    /// server accepted it (`ok`), and makes the transaction's response
    /// side ready.
    fn tree_connected(
        &mut self,
        id: u64,
        tree_key: (u8, u64, u32),
        is_pipe: bool,
        ok: bool,
        out: &mut Vec<SmbReady>,
    ) {
        let end = self.end;
        let mut share = None;
        if let Some(tx) = self.tx_mut(id) {
            if let SmbTxKind::TreeConnect {
                share: s,
                is_pipe: p,
            } = &mut tx.kind
            {
                *p = Some(is_pipe);
                share = Some(s.clone());
            }
            tx.response_end = Some(end);
        }
        if let (Some(share), true) = (share, ok) {
            self.add_tree(tree_key, Tree { share, is_pipe });
        }
        out.push(SmbReady {
            id,
            dir: SmbDirection::ToClient,
        });
    }

    fn add_tree(&mut self, key: (u8, u64, u32), tree: Tree) {
        if self.trees.len() >= MAX_PENDING && !self.trees.contains_key(&key) {
            self.trees.clear();
        }
        self.trees.insert(key, tree);
    }

    fn tx_mut(&mut self, id: u64) -> Option<&mut SmbTx> {
        self.txs.iter_mut().find(|t| t.id == id)
    }

    fn remember(&mut self, key: MsgKey, p: Pending) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.clear();
        }
        self.pending.insert(key, p);
    }

    fn message(&mut self, dir: SmbDirection, msg: &[u8], out: &mut Vec<SmbReady>) {
        match msg.get(..4) {
            Some(b"\xffSMB") => self.smb1(dir, msg, out),
            Some(b"\xfeSMB") => self.smb2(dir, msg, out),
            // SMB3 transform (encrypted) and others: nothing to see.
            Some(b"\xfdSMB") => {}
            _ => self.anomaly(SmbAnomaly::MalformedData),
        }
    }

    // ---- SMB1 ----

    fn smb1(&mut self, dir: SmbDirection, msg: &[u8], out: &mut Vec<SmbReady>) {
        if msg.len() < 32 {
            self.anomaly(SmbAnomaly::MalformedData);
            return;
        }
        let h = Header {
            command: u16::from(u8_at(msg, 4)),
            status: u32_at(msg, 5),
            reply: u8_at(msg, 9) & 0x80 != 0,
            unicode: u16_at(msg, 10) & 0x8000 != 0,
            session: u64::from(u16_at(msg, 28)),
            tree: u32::from(u16_at(msg, 24)),
            msg: u64::from(u16_at(msg, 30)) | (u64::from(u16_at(msg, 26)) << 16),
        };
        let reply = h.reply || dir == SmbDirection::ToClient;
        let mut command = h.command as u8;
        let mut off = 32usize;
        // AndX chains: each block names the next command and its offset
        // (from the header's start); offsets must move forward.
        for _ in 0..8 {
            let next = self.smb1_command(&h, reply, command, msg, off, out);
            match next {
                Some((c, o)) if c != 0xff && o > off && o < msg.len() => {
                    command = c;
                    off = o;
                }
                _ => break,
            }
        }
    }

    /// Parses one SMB1 command block at `off`; returns the AndX
    /// successor (command, offset) when there is one.
    fn smb1_command(
        &mut self,
        h: &Header,
        reply: bool,
        command: u8,
        msg: &[u8],
        off: usize,
        out: &mut Vec<SmbReady>,
    ) -> Option<(u8, usize)> {
        let wc = usize::from(*msg.get(off)?);
        let words = msg.get(off + 1..off + 1 + 2 * wc)?;
        let bc_at = off + 1 + 2 * wc;
        let bc = usize::from(u16_at(msg, bc_at));
        let bytes_at = bc_at + 2;
        let bytes = msg
            .get(bytes_at..(bytes_at + bc).min(msg.len()))
            .unwrap_or(&[]);
        let andx = |words: &[u8]| -> Option<(u8, usize)> {
            (words.len() >= 4).then(|| (u8_at(words, 0), usize::from(u16_at(words, 2))))
        };
        let key: MsgKey = (1, h.session, h.tree, h.msg);
        let tree_key = (1u8, h.session, h.tree);
        let ok = h.status == 0;
        match command {
            // TREE_CONNECT_ANDX
            0x75 if !reply => {
                if words.len() < 8 {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return None;
                }
                let pwlen = usize::from(u16_at(words, 6));
                let path_at = bytes_at + pwlen;
                let rest = msg.get(path_at..(bytes_at + bc).min(msg.len()))?;
                let (path, used) = if h.unicode {
                    let pad = path_at % 2;
                    let (s, n) = utf16_str(rest.get(pad..).unwrap_or(&[]));
                    (s, n + pad)
                } else {
                    ascii_str(rest)
                };
                let _service = ascii_str(rest.get(used..).unwrap_or(&[])).0;
                let share = path.get(1..).map(<[u8]>::to_vec).unwrap_or(path);
                let id = self.new_tx(SmbTxKind::TreeConnect {
                    share,
                    is_pipe: None,
                });
                // Keyed by process and multiplex ids only: neither the tree
                // id nor, when chained after SESSION_SETUP_ANDX, the user id
                // is known before the response.
                self.remember((1, 0, 0, h.msg), Pending::TreeConnect(id));
                out.push(SmbReady {
                    id,
                    dir: SmbDirection::ToServer,
                });
                andx(words)
            }
            0x75 => {
                let p = self.pending.remove(&(1, 0, 0, h.msg));
                let Some(Pending::TreeConnect(id)) = p else {
                    return andx(words);
                };
                let service = ascii_str(bytes).0;
                let is_pipe = ok && service == b"IPC";
                self.tree_connected(id, tree_key, is_pipe, ok, out);
                andx(words)
            }
            // NT_CREATE_ANDX
            0xa2 if !reply => {
                if words.len() < 48 {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return None;
                }
                let name_len = usize::from(u16_at(words, 5));
                let mut name_at = bytes_at;
                if h.unicode && name_at % 2 == 1 {
                    name_at += 1;
                }
                let raw = msg
                    .get(name_at..name_at.saturating_add(name_len).min(msg.len()))
                    .unwrap_or(&[]);
                let name = if h.unicode {
                    utf16_str(raw).0
                } else {
                    ascii_str(raw).0
                };
                self.remember(key, Pending::Create(name));
                andx(words)
            }
            0xa2 => {
                let p = self.pending.remove(&key);
                if let (Some(Pending::Create(name)), true, true) = (p, ok, words.len() >= 7) {
                    let fid = fid1(u16_at(words, 5), h.session);
                    if self.names.len() >= MAX_PENDING {
                        self.names.clear();
                    }
                    self.names.insert(fid, name);
                }
                andx(words)
            }
            // WRITE_ANDX
            0x2f if !reply => {
                if words.len() < 24 {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return None;
                }
                let fid = fid1(u16_at(words, 4), h.session);
                let mut offset = u64::from(u32_at(words, 6));
                if words.len() >= 28 {
                    offset |= u64::from(u32_at(words, 24)) << 32;
                }
                let len = usize::from(u16_at(words, 20)) | (usize::from(u16_at(words, 18)) << 16);
                let data_at = usize::from(u16_at(words, 22));
                let Some((data, missing)) = self.payload(msg, data_at, len) else {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return None;
                };
                self.file_data(tree_key, fid, SmbDirection::ToServer, offset, data, missing);
                andx(words)
            }
            0x2e if !reply => {
                // READ_ANDX request: the response carries no file id.
                if words.len() < 20 {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return None;
                }
                let fid = fid1(u16_at(words, 4), h.session);
                let mut offset = u64::from(u32_at(words, 6));
                if words.len() >= 24 {
                    offset |= u64::from(u32_at(words, 20)) << 32;
                }
                self.remember(key, Pending::Read { fid, offset });
                andx(words)
            }
            0x2e => {
                let p = self.pending.remove(&key);
                let Some(Pending::Read { fid, offset }) = p else {
                    return andx(words);
                };
                if !ok || words.len() < 24 {
                    return andx(words);
                }
                let len = usize::from(u16_at(words, 10)) | (usize::from(u16_at(words, 14)) << 16);
                let data_at = usize::from(u16_at(words, 12));
                let Some((data, missing)) = self.payload(msg, data_at, len) else {
                    self.anomaly(SmbAnomaly::ReadResponseTooLarge);
                    return None;
                };
                self.file_data(tree_key, fid, SmbDirection::ToClient, offset, data, missing);
                andx(words)
            }
            // TRANS: TransactNmPipe writes to a pipe and reads its answer.
            0x25 if !reply => {
                if words.len() >= 32 && u16_at(words, 28) == 0x26 {
                    let fid = fid1(u16_at(words, 30), h.session);
                    let count = usize::from(u16_at(words, 22));
                    let at = usize::from(u16_at(words, 24));
                    let data = msg.get(at..at.saturating_add(count)).unwrap_or(&[]);
                    self.pipe_data(fid.clone(), SmbDirection::ToServer, data);
                    self.remember(key, Pending::Transact { fid });
                }
                None
            }
            0x25 => {
                if let Some(Pending::Transact { fid }) = self.pending.remove(&key) {
                    if words.len() >= 16 {
                        let count = usize::from(u16_at(words, 12));
                        let at = usize::from(u16_at(words, 14));
                        let data = msg.get(at..at.saturating_add(count)).unwrap_or(&[]);
                        self.pipe_data(fid, SmbDirection::ToClient, data);
                    }
                }
                None
            }
            // CLOSE
            0x04 if !reply => {
                if words.len() >= 2 {
                    let fid = fid1(u16_at(words, 0), h.session);
                    self.close(&fid, out);
                }
                None
            }
            // Other AndX commands: follow the chain.
            0x73 | 0x74 | 0x2d | 0x2f => andx(words),
            _ => None,
        }
    }

    // ---- SMB2 ----

    fn smb2(&mut self, dir: SmbDirection, msg: &[u8], out: &mut Vec<SmbReady>) {
        // Compounded requests follow each other at `next_command`.
        let mut at = 0usize;
        for _ in 0..32 {
            let Some(m) = msg.get(at..) else { break };
            let next = u32_at(m, 20) as usize;
            let one = if next > 0 {
                m.get(..next).unwrap_or(m)
            } else {
                m
            };
            self.smb2_one(dir, one, out);
            if next < 64 || at.saturating_add(next) >= msg.len() {
                break;
            }
            at += next;
        }
    }

    fn smb2_one(&mut self, dir: SmbDirection, m: &[u8], out: &mut Vec<SmbReady>) {
        if m.len() < 64 || m.get(..4) != Some(b"\xfeSMB") {
            self.anomaly(SmbAnomaly::MalformedData);
            return;
        }
        let flags = u32_at(m, 16);
        let h = Header {
            command: u16_at(m, 12),
            status: u32_at(m, 8),
            reply: flags & 1 != 0 || dir == SmbDirection::ToClient,
            unicode: true,
            session: u64_at(m, 40),
            tree: u32_at(m, 36),
            msg: u64_at(m, 24),
        };
        let body = m.get(64..).unwrap_or(&[]);
        // Responses to async commands carry no tree id: key by message.
        let key: MsgKey = (2, h.session, 0, h.msg);
        let tree_key = (2u8, h.session, h.tree);
        let ok = h.status == 0;
        match (h.command, h.reply) {
            // TREE_CONNECT
            (3, false) => {
                let at = usize::from(u16_at(body, 4));
                let len = usize::from(u16_at(body, 6));
                let raw = m.get(at..at.saturating_add(len)).unwrap_or(&[]);
                let path = utf16_str(raw).0;
                let share = path.get(1..).map(<[u8]>::to_vec).unwrap_or(path);
                let id = self.new_tx(SmbTxKind::TreeConnect {
                    share,
                    is_pipe: None,
                });
                self.remember(key, Pending::TreeConnect(id));
                out.push(SmbReady {
                    id,
                    dir: SmbDirection::ToServer,
                });
            }
            (3, true) => {
                let Some(Pending::TreeConnect(id)) = self.pending.remove(&key) else {
                    return;
                };
                let is_pipe = ok && u8_at(body, 2) == 2;
                self.tree_connected(id, tree_key, is_pipe, ok, out);
            }
            // CREATE
            (5, false) => {
                let at = usize::from(u16_at(body, 44));
                let len = usize::from(u16_at(body, 46));
                let raw = m.get(at..at.saturating_add(len)).unwrap_or(&[]);
                self.remember(key, Pending::Create(utf16_str(raw).0));
            }
            (5, true) => {
                if let (Some(Pending::Create(name)), true) = (self.pending.remove(&key), ok) {
                    if let Some(guid) = body.get(64..80) {
                        if self.names.len() >= MAX_PENDING {
                            self.names.clear();
                        }
                        self.names.insert(guid.to_vec(), name);
                    }
                }
            }
            // CLOSE
            (6, false) => {
                if let Some(guid) = body.get(8..24) {
                    let guid = guid.to_vec();
                    self.close(&guid, out);
                }
            }
            // READ
            (8, false) => {
                let offset = u64_at(body, 8);
                if let Some(guid) = body.get(16..32) {
                    self.remember(
                        key,
                        Pending::Read {
                            fid: guid.to_vec(),
                            offset,
                        },
                    );
                }
            }
            (8, true) => {
                let Some(Pending::Read { fid, offset }) = self.pending.remove(&key) else {
                    return;
                };
                if !ok {
                    return;
                }
                let at = usize::from(u8_at(body, 2));
                let len = u32_at(body, 4) as usize;
                let Some((data, missing)) = self.payload(m, at, len) else {
                    self.anomaly(SmbAnomaly::ReadResponseTooLarge);
                    return;
                };
                self.file_data(tree_key, fid, SmbDirection::ToClient, offset, data, missing);
            }
            // WRITE
            (9, false) => {
                let at = usize::from(u16_at(body, 2));
                let len = u32_at(body, 4) as usize;
                let offset = u64_at(body, 8);
                let (Some(guid), Some((data, missing))) =
                    (body.get(16..32), self.payload(m, at, len))
                else {
                    self.anomaly(SmbAnomaly::MalformedData);
                    return;
                };
                let guid = guid.to_vec();
                self.file_data(
                    tree_key,
                    guid,
                    SmbDirection::ToServer,
                    offset,
                    data,
                    missing,
                );
            }
            // IOCTL FSCTL_PIPE_TRANSCEIVE: a pipe write and its answer.
            (11, false) if u32_at(body, 4) == FSCTL_PIPE_TRANSCEIVE => {
                if let Some(guid) = body.get(8..24) {
                    let fid = guid.to_vec();
                    let at = u32_at(body, 24) as usize;
                    let count = u32_at(body, 28) as usize;
                    let data = m.get(at..at.saturating_add(count)).unwrap_or(&[]);
                    self.pipe_data(fid.clone(), SmbDirection::ToServer, data);
                    self.remember(key, Pending::Transact { fid });
                }
            }
            (11, true) => {
                if let Some(Pending::Transact { fid }) = self.pending.remove(&key) {
                    // A longer answer comes with STATUS_BUFFER_OVERFLOW.
                    if ok || h.status == 0x8000_0005 {
                        let at = u32_at(body, 32) as usize;
                        let count = u32_at(body, 36) as usize;
                        let data = m.get(at..at.saturating_add(count)).unwrap_or(&[]);
                        self.pipe_data(fid, SmbDirection::ToClient, data);
                    }
                }
            }
            _ => {}
        }
    }

    /// The `len` payload bytes at `at` of `msg`, and how many of them
    /// are missing because the message was cut (see [`MAX_MESSAGE`]);
    /// `None` when the message does not hold them.
    fn payload<'m>(&self, msg: &'m [u8], at: usize, len: usize) -> Option<(&'m [u8], u64)> {
        if let Some(p) = msg.get(at..at.saturating_add(len)) {
            return Some((p, 0));
        }
        if !self.cut {
            return None;
        }
        let p = msg.get(at..)?;
        Some((p, (len - p.len()) as u64))
    }

    // ---- files ----

    fn file_data(
        &mut self,
        tree_key: (u8, u64, u32),
        fid: Vec<u8>,
        dir: SmbDirection,
        offset: u64,
        data: &[u8],
        missing: u64,
    ) {
        let tree = self.trees.get(&tree_key).cloned();
        if tree.as_ref().is_some_and(|t| t.is_pipe) {
            self.pipe_data(fid, dir, data);
            return;
        }
        let open = self.txs.iter().position(|t| match &t.kind {
            SmbTxKind::File(f) => !f.closed && f.direction == Some(dir) && f.fid == fid,
            _ => false,
        });
        let idx = match open {
            Some(i) => i,
            None => {
                let name = self.names.get(&fid).cloned().unwrap_or_default();
                let id = self.new_tx(SmbTxKind::File(SmbFile {
                    name,
                    share: tree.map(|t| t.share).unwrap_or_default(),
                    direction: Some(dir),
                    fid,
                    ..SmbFile::default()
                }));
                match self.txs.iter().position(|t| t.id == id) {
                    Some(i) => i,
                    None => return,
                }
            }
        };
        let overlap = match self.txs.get_mut(idx).map(|t| &mut t.kind) {
            Some(SmbTxKind::File(f)) => {
                let overlap = f.add(offset, data);
                if missing > 0 && f.size == offset.saturating_add(data.len() as u64) {
                    f.hole(missing);
                }
                overlap
            }
            _ => false,
        };
        if overlap {
            self.anomaly(SmbAnomaly::FileOverlap);
        }
    }

    /// Queues named pipe payload (see [`PipeChunk`]); a connection's pipe
    /// traffic has one transaction, for its events.
    fn pipe_data(&mut self, fid: Vec<u8>, dir: SmbDirection, data: &[u8]) {
        if !self.txs.iter().any(|t| matches!(t.kind, SmbTxKind::Pipe)) {
            self.new_tx(SmbTxKind::Pipe);
        }
        if data.is_empty() {
            return;
        }
        if self.pipe_queued.saturating_add(data.len()) > MAX_PIPE_QUEUE {
            self.pipe_dropped = self.pipe_dropped.saturating_add(data.len() as u64);
            return;
        }
        self.pipe_queued += data.len();
        self.pipe_chunks.push(PipeChunk {
            dir,
            fid,
            data: data.to_vec(),
        });
    }

    fn close(&mut self, fid: &[u8], out: &mut Vec<SmbReady>) {
        for tx in &mut self.txs {
            let id = tx.id;
            if let SmbTxKind::File(f) = &mut tx.kind {
                if !f.closed && f.fid == fid {
                    f.closed = true;
                    out.push(SmbReady {
                        id,
                        dir: SmbDirection::ToServer,
                    });
                    out.push(SmbReady {
                        id,
                        dir: SmbDirection::ToClient,
                    });
                }
            }
        }
    }
}

/// The length field of a NetBIOS session header (`buf` has 4 bytes).
fn nbss_len(buf: &[u8]) -> usize {
    (usize::from(u8_at(buf, 1)) << 16)
        | (usize::from(u8_at(buf, 2)) << 8)
        | usize::from(u8_at(buf, 3))
}

/// An SMB1 file id, qualified by the user id (ids are per session).
fn fid1(fid: u16, session: u64) -> Vec<u8> {
    let mut v = fid.to_le_bytes().to_vec();
    v.extend_from_slice(&session.to_le_bytes());
    v
}

/// A NUL-terminated (or unterminated) 8-bit string and the bytes used.
fn ascii_str(b: &[u8]) -> (Vec<u8>, usize) {
    match b.iter().position(|&c| c == 0) {
        Some(n) => (b.get(..n).unwrap_or(&[]).to_vec(), n + 1),
        None => (b.to_vec(), b.len()),
    }
}

/// A UTF-16LE string up to a NUL unit (or the end), narrowed to its low
/// bytes as Suricata does, and the bytes used.
fn utf16_str(b: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut used = 0;
    for unit in b.chunks_exact(2) {
        used += 2;
        let (lo, hi) = (u8_at(unit, 0), u8_at(unit, 1));
        if lo == 0 && hi == 0 {
            return (out, used);
        }
        out.push(lo);
    }
    (out, used)
}

fn u8_at(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([u8_at(b, at), u8_at(b, at + 1)])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from(u16_at(b, at)) | (u32::from(u16_at(b, at + 2)) << 16)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const TS: SmbDirection = SmbDirection::ToServer;
    const TC: SmbDirection = SmbDirection::ToClient;

    fn nbss(msg: &[u8]) -> Vec<u8> {
        let n = msg.len();
        let mut v = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        v.extend_from_slice(msg);
        v
    }

    fn utf16(s: &str) -> Vec<u8> {
        let mut v: Vec<u8> = s.bytes().flat_map(|b| [b, 0]).collect();
        v.extend_from_slice(&[0, 0]);
        v
    }

    /// An SMB1 message: header, words, bytes (byte count computed).
    fn smb1(cmd: u8, reply: bool, tid: u16, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut m = b"\xffSMB".to_vec();
        m.push(cmd);
        m.extend_from_slice(&[0; 4]); // status
        m.push(if reply { 0x80 } else { 0 });
        m.extend_from_slice(&0xc001u16.to_le_bytes()); // unicode
        m.extend_from_slice(&[0; 12]); // pid high, signature, reserved
        m.extend_from_slice(&tid.to_le_bytes());
        m.extend_from_slice(&7u16.to_le_bytes()); // pid
        m.extend_from_slice(&100u16.to_le_bytes()); // uid
        m.extend_from_slice(&mid.to_le_bytes());
        assert_eq!(m.len(), 32);
        m.push((words.len() / 2) as u8);
        m.extend_from_slice(words);
        m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        m.extend_from_slice(bytes);
        nbss(&m)
    }

    const NO_ANDX: [u8; 4] = [0xff, 0, 0, 0];

    fn tree_connect(path: &str, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&[0, 0, 1, 0]); // flags, password length 1
                                            // Bytes start at 32 + 1 + 8 + 2 = 43; the path at 44 (even).
        let mut b = vec![0];
        b.extend_from_slice(&utf16(path));
        b.extend_from_slice(b"?????\0");
        smb1(0x75, false, 0, mid, &w, &b)
    }

    fn tree_connect_resp(service: &str, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&[1, 0]);
        let mut b = service.as_bytes().to_vec();
        b.push(0);
        smb1(0x75, true, tid, mid, &w, &b)
    }

    fn create(name: &str, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.push(0);
        let name = utf16(name);
        w.extend_from_slice(&(name.len() as u16).to_le_bytes());
        w.resize(48, 0);
        // Bytes start at 32 + 1 + 48 + 2 = 83: one pad byte.
        let mut b = vec![0];
        b.extend_from_slice(&name);
        smb1(0xa2, false, tid, mid, &w, &b)
    }

    fn create_resp(fid: u16, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.push(0);
        w.extend_from_slice(&fid.to_le_bytes());
        w.resize(68, 0);
        smb1(0xa2, true, tid, mid, &w, &[])
    }

    fn write(fid: u16, offset: u32, data: &[u8], pad: usize, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&fid.to_le_bytes());
        w.extend_from_slice(&offset.to_le_bytes());
        w.extend_from_slice(&[0; 8]); // timeout, mode, remaining
        w.extend_from_slice(&0u16.to_le_bytes()); // length high
        w.extend_from_slice(&(data.len() as u16).to_le_bytes());
        let data_offset = 32 + 1 + 24 + 2 + pad;
        w.extend_from_slice(&(data_offset as u16).to_le_bytes());
        let mut b = vec![0xee; pad];
        b.extend_from_slice(data);
        smb1(0x2f, false, tid, mid, &w, &b)
    }

    fn read(fid: u16, offset: u32, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&fid.to_le_bytes());
        w.extend_from_slice(&offset.to_le_bytes());
        w.resize(20, 0);
        smb1(0x2e, false, tid, mid, &w, &[])
    }

    fn read_resp(data: &[u8], tid: u16, mid: u16) -> Vec<u8> {
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&[0; 6]);
        w.extend_from_slice(&(data.len() as u16).to_le_bytes());
        let data_offset = 32 + 1 + 24 + 2 + 1;
        w.extend_from_slice(&(data_offset as u16).to_le_bytes());
        w.resize(24, 0);
        let mut b = vec![0];
        b.extend_from_slice(data);
        smb1(0x2e, true, tid, mid, &w, &b)
    }

    fn close(fid: u16, tid: u16, mid: u16) -> Vec<u8> {
        let mut w = fid.to_le_bytes().to_vec();
        w.extend_from_slice(&[0; 4]);
        smb1(0x04, false, tid, mid, &w, &[])
    }

    /// Feeds messages (each whole) and returns the ready sides.
    fn run(s: &mut SmbSession, msgs: &[(SmbDirection, Vec<u8>)]) -> Vec<SmbReady> {
        let mut out = Vec::new();
        let mut end = [0u64; 2];
        for (d, m) in msgs {
            end[d.index()] += m.len() as u64;
            s.feed(*d, m, end[d.index()], &mut out);
        }
        out
    }

    /// A share written to: tree connect, create, write, close.
    fn upload(data: &[u8], pad: usize) -> Vec<(SmbDirection, Vec<u8>)> {
        vec![
            (TS, tree_connect("\\\\host\\PUBLIC", 1)),
            (TC, tree_connect_resp("A:", 5, 1)),
            (TS, create("\\eicar", 5, 2)),
            (TC, create_resp(0x4006, 5, 2)),
            (TS, write(0x4006, 0, data, pad, 5, 3)),
            (TS, close(0x4006, 5, 4)),
        ]
    }

    fn files(s: &SmbSession) -> Vec<&SmbFile> {
        s.transactions()
            .iter()
            .filter_map(|t| match &t.kind {
                SmbTxKind::File(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn tree_connect_share_and_pipe() {
        let mut s = SmbSession::new();
        let out = run(
            &mut s,
            &[
                (TS, tree_connect("\\\\10.4.30.5\\C$", 1)),
                (TC, tree_connect_resp("A:", 5, 1)),
                (TS, tree_connect("\\\\10.4.30.5\\IPC$", 2)),
                (TC, tree_connect_resp("IPC", 6, 2)),
            ],
        );
        let txs = s.transactions();
        assert_eq!(txs.len(), 2);
        match &txs[0].kind {
            SmbTxKind::TreeConnect { share, is_pipe } => {
                assert_eq!(share, b"\\10.4.30.5\\C$");
                assert_eq!(*is_pipe, Some(false));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &txs[1].kind,
            SmbTxKind::TreeConnect {
                is_pipe: Some(true),
                ..
            }
        ));
        // Each side of each tree connect is ready once.
        assert_eq!(out.len(), 4);
        assert_eq!(
            txs[0].response_end,
            Some(tree_connect_resp("A:", 5, 1).len() as u64)
        );
    }

    #[test]
    fn written_file_with_name_share_and_size() {
        let data = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR";
        for pad in [0, 2] {
            let mut s = SmbSession::new();
            let out = run(&mut s, &upload(data, pad));
            let f = files(&s);
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].data, data);
            assert_eq!(f[0].size, data.len() as u64);
            assert_eq!(f[0].name, b"\\eicar");
            assert_eq!(f[0].share, b"\\host\\PUBLIC");
            assert_eq!(f[0].direction, Some(TS));
            assert!(f[0].closed);
            let file_id = s.transactions()[1].id;
            assert!(out.contains(&SmbReady {
                id: file_id,
                dir: TS
            }));
            assert!(out.contains(&SmbReady {
                id: file_id,
                dir: TC
            }));
        }
    }

    #[test]
    fn split_anywhere_is_the_same() {
        let data = b"some file content";
        // The client's messages byte by byte, the server's whole and in
        // between (the create's FID comes from its response).
        let mut s = SmbSession::new();
        let mut out = Vec::new();
        for (d, m) in upload(data, 1) {
            if d == TC {
                s.feed(TC, &m, 0, &mut out);
                continue;
            }
            for b in &m {
                s.feed(TS, std::slice::from_ref(b), 0, &mut out);
            }
        }
        let f = files(&s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data, data);
        assert_eq!(f[0].name, b"\\eicar");
        assert!(f[0].closed);
    }

    #[test]
    fn two_messages_in_one_call_and_keepalive() {
        let mut s = SmbSession::new();
        let msgs = upload(b"abc", 0);
        let mut out = Vec::new();
        // Keepalive, then the whole client stream in one call, responses
        // in between as they would come.
        s.feed(TS, &[0x85, 0, 0, 0], 4, &mut out);
        s.feed(TS, &msgs[0].1, 0, &mut out);
        s.feed(TC, &msgs[1].1, 0, &mut out);
        s.feed(TS, &msgs[2].1, 0, &mut out);
        s.feed(TC, &msgs[3].1, 0, &mut out);
        let mut rest = msgs[4].1.clone();
        rest.extend_from_slice(&msgs[5].1);
        s.feed(TS, &rest, 0, &mut out);
        assert_eq!(files(&s)[0].data, b"abc");
        assert!(files(&s)[0].closed);
    }

    #[test]
    fn overlap_is_an_event_and_the_first_copy_wins() {
        let mut s = SmbSession::new();
        let mut msgs = upload(b"X", 0);
        let close = msgs.pop().unwrap();
        msgs.push((TS, write(0x4006, 0, b"EICAR", 0, 5, 5)));
        msgs.push(close);
        run(&mut s, &msgs);
        let f = files(&s);
        assert_eq!(f[0].data, b"XICAR");
        assert_eq!(f[0].size, 5);
        let file_tx = &s.transactions()[1];
        assert_eq!(file_tx.anomalies, vec![SmbAnomaly::FileOverlap]);
    }

    #[test]
    fn out_of_order_chunks_are_placed_by_offset() {
        let mut s = SmbSession::new();
        let mut msgs = upload(b"world", 0);
        // Second half first.
        msgs[4] = (TS, write(0x4006, 6, b"world", 0, 5, 3));
        msgs.insert(5, (TS, write(0x4006, 0, b"hello ", 0, 5, 6)));
        run(&mut s, &msgs);
        let f = files(&s);
        assert_eq!(f[0].data, b"hello world");
        assert!(s.transactions()[1].anomalies.is_empty());
    }

    #[test]
    fn read_file_goes_to_client() {
        let mut s = SmbSession::new();
        let msgs = vec![
            (TS, tree_connect("\\\\host\\share", 1)),
            (TC, tree_connect_resp("A:", 5, 1)),
            (TS, create("doc.txt", 5, 2)),
            (TC, create_resp(9, 5, 2)),
            (TS, read(9, 0, 5, 3)),
            (TC, read_resp(b"content", 5, 3)),
            (TS, close(9, 5, 4)),
        ];
        run(&mut s, &msgs);
        let f = files(&s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data, b"content");
        assert_eq!(f[0].name, b"doc.txt");
        assert_eq!(f[0].direction, Some(TC));
        assert!(f[0].closed);
    }

    #[test]
    fn pipe_writes_are_kept_for_dcerpc_not_as_files() {
        let mut s = SmbSession::new();
        let msgs = vec![
            (TS, tree_connect("\\\\host\\IPC$", 1)),
            (TC, tree_connect_resp("IPC", 5, 1)),
            (TS, write(1, 0, b"\x05\x00\x0b", 0, 5, 2)),
        ];
        run(&mut s, &msgs);
        assert!(files(&s).is_empty());
        assert!(s
            .transactions()
            .iter()
            .any(|t| matches!(t.kind, SmbTxKind::Pipe)));
        let chunks = s.take_pipe_chunks();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].dir, TS);
        assert_eq!(chunks[0].data, b"\x05\x00\x0b");
        assert!(s.take_pipe_chunks().is_empty());
    }

    #[test]
    fn oversized_write_keeps_its_first_bytes_and_counts_the_rest() {
        let mut s = SmbSession::new();
        let mut msgs = upload(b"", 0);
        let big = vec![0x61u8; MAX_MESSAGE + 1000];
        // A WRITE_ANDX of more than MAX_MESSAGE bytes (length high word).
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&0x4006u16.to_le_bytes());
        w.extend_from_slice(&0u32.to_le_bytes());
        w.extend_from_slice(&[0; 8]);
        w.extend_from_slice(&((big.len() >> 16) as u16).to_le_bytes());
        w.extend_from_slice(&(big.len() as u16).to_le_bytes());
        w.extend_from_slice(&(32u16 + 1 + 24 + 2).to_le_bytes());
        msgs[4] = (TS, smb1(0x2f, false, 5, 3, &w, &big));
        // Then a small write after it: framing resumes, the file's data
        // stays its first bytes.
        msgs.insert(5, (TS, write(0x4006, big.len() as u32, b"tail", 0, 5, 7)));
        let out = run(&mut s, &msgs);
        let f = files(&s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data.len(), FILE_DEPTH);
        assert!(f[0].data.iter().all(|&b| b == 0x61));
        assert_eq!(f[0].size, big.len() as u64 + 4);
        assert!(f[0].truncated);
        assert!(f[0].closed);
        assert_eq!(out.len(), 4);
        assert!(s.transactions().iter().all(|t| t.anomalies.is_empty()));
    }

    #[test]
    fn garbage_is_malformed_not_fatal() {
        let mut s = SmbSession::new();
        let mut out = Vec::new();
        s.feed(TS, &nbss(b"\xffSMBtruncated"), 0, &mut out);
        s.feed(TS, &nbss(b"not smb at all"), 0, &mut out);
        assert_eq!(s.orphan_anomalies, vec![SmbAnomaly::MalformedData]);
        s.feed(TS, &tree_connect("\\\\h\\s", 1), 0, &mut out);
        assert_eq!(s.transactions().len(), 1);
    }

    #[test]
    fn open_files_complete_at_the_end() {
        let mut s = SmbSession::new();
        let mut msgs = upload(b"partial", 0);
        msgs.pop();
        run(&mut s, &msgs);
        assert!(!files(&s)[0].closed);
        let mut out = Vec::new();
        s.finish(&mut out);
        assert!(files(&s)[0].closed);
        assert_eq!(out.len(), 2);
    }

    /// An SMB2 message: header (command, reply flag, message id, tree id,
    /// session 0x55) and body.
    fn smb2(cmd: u16, reply: bool, msg: u64, tree: u32, body: &[u8]) -> Vec<u8> {
        let mut m = b"\xfeSMB".to_vec();
        m.extend_from_slice(&64u16.to_le_bytes());
        m.extend_from_slice(&[0; 6]); // credit charge, status
        m.extend_from_slice(&cmd.to_le_bytes());
        m.extend_from_slice(&[1, 0]);
        m.extend_from_slice(&u32::from(reply).to_le_bytes());
        m.extend_from_slice(&[0; 4]); // next command
        m.extend_from_slice(&msg.to_le_bytes());
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(&tree.to_le_bytes());
        m.extend_from_slice(&0x55u64.to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        assert_eq!(m.len(), 64);
        m.extend_from_slice(body);
        nbss(&m)
    }

    #[test]
    fn smb2_tree_connect_create_write_close() {
        let guid = [0x42u8; 16];
        let path = utf16("\\\\srv\\share");
        let mut tc = vec![9, 0, 0, 0];
        tc.extend_from_slice(&(64u16 + 8).to_le_bytes());
        tc.extend_from_slice(&((path.len() - 2) as u16).to_le_bytes());
        tc.extend_from_slice(&path[..path.len() - 2]);
        let tc_resp = [16, 0, 1, 0, 0, 0, 0, 0];
        let name = utf16("dir\\f.bin");
        let mut cr = vec![0u8; 56];
        cr[0] = 57;
        cr[44..46].copy_from_slice(&(64u16 + 56).to_le_bytes());
        cr[46..48].copy_from_slice(&((name.len() - 2) as u16).to_le_bytes());
        cr.extend_from_slice(&name[..name.len() - 2]);
        let mut cr_resp = vec![0u8; 88];
        cr_resp[0] = 89;
        cr_resp[64..80].copy_from_slice(&guid);
        let data = b"smb2 file body";
        let mut wr = vec![0u8; 48];
        wr[0] = 49;
        wr[2..4].copy_from_slice(&(64u16 + 48).to_le_bytes());
        wr[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
        wr[16..32].copy_from_slice(&guid);
        wr.extend_from_slice(data);
        let mut cl = vec![0u8; 24];
        cl[0] = 24;
        cl[8..24].copy_from_slice(&guid);
        let mut s = SmbSession::new();
        let out = run(
            &mut s,
            &[
                (TS, smb2(3, false, 1, 0, &tc)),
                (TC, smb2(3, true, 1, 7, &tc_resp)),
                (TS, smb2(5, false, 2, 7, &cr)),
                (TC, smb2(5, true, 2, 7, &cr_resp)),
                (TS, smb2(9, false, 3, 7, &wr)),
                (TS, smb2(6, false, 4, 7, &cl)),
            ],
        );
        match &s.transactions()[0].kind {
            SmbTxKind::TreeConnect { share, is_pipe } => {
                assert_eq!(share, b"\\srv\\share");
                assert_eq!(*is_pipe, Some(false));
            }
            other => panic!("{other:?}"),
        }
        let f = files(&s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data, data);
        assert_eq!(f[0].name, b"dir\\f.bin");
        assert_eq!(f[0].share, b"\\srv\\share");
        assert!(f[0].closed);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn write_andx_chained_after_another_command() {
        // A WRITE_ANDX reached through an AndX chain from a first block
        // (here another WRITE_ANDX) is parsed too.
        let mut s = SmbSession::new();
        let mut msgs = upload(b"first", 0);
        // Rebuild the write so its AndX points to a second WRITE_ANDX
        // appended after the first block's data.
        let first = write(0x4006, 0, b"first", 0, 5, 3);
        let mut m = first[4..].to_vec();
        let second_at = m.len();
        m[33] = 0x2f;
        m[35..37].copy_from_slice(&(second_at as u16).to_le_bytes());
        let mut w = NO_ANDX.to_vec();
        w.extend_from_slice(&0x4006u16.to_le_bytes());
        w.extend_from_slice(&5u32.to_le_bytes());
        w.extend_from_slice(&[0; 10]);
        w.extend_from_slice(&6u16.to_le_bytes());
        w.extend_from_slice(&((second_at + 1 + 24 + 2) as u16).to_le_bytes());
        m.push(12);
        m.extend_from_slice(&w);
        m.extend_from_slice(&6u16.to_le_bytes());
        m.extend_from_slice(b"second");
        msgs[4] = (TS, nbss(&m));
        run(&mut s, &msgs);
        assert_eq!(files(&s)[0].data, b"firstsecond");
    }

    #[test]
    fn pipe_transactions_smb1_and_smb2() {
        // SMB1 TransactNmPipe on FID 0x4000: request data, then the
        // response's data (matched by message id).
        let mut s = SmbSession::new();
        let mut w = vec![0u8; 32];
        w[22..24].copy_from_slice(&3u16.to_le_bytes());
        let data_at = 32 + 1 + 32 + 2;
        w[24..26].copy_from_slice(&(data_at as u16).to_le_bytes());
        w[26] = 2;
        w[28..30].copy_from_slice(&0x26u16.to_le_bytes());
        w[30..32].copy_from_slice(&0x4000u16.to_le_bytes());
        let mut rw = vec![0u8; 20];
        rw[12..14].copy_from_slice(&2u16.to_le_bytes());
        rw[14..16].copy_from_slice(&((32 + 1 + 20 + 2) as u16).to_le_bytes());
        run(
            &mut s,
            &[
                (TS, smb1(0x25, false, 5, 9, &w, b"req")),
                (TC, smb1(0x25, true, 5, 9, &rw, b"ok")),
            ],
        );
        let c = s.take_pipe_chunks();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].dir, c[0].data.as_slice()), (TS, &b"req"[..]));
        assert_eq!((c[1].dir, c[1].data.as_slice()), (TC, &b"ok"[..]));
        assert_eq!(c[0].fid, c[1].fid);
        // SMB2 IOCTL FSCTL_PIPE_TRANSCEIVE.
        let guid = [7u8; 16];
        let mut req = vec![0u8; 56];
        req[0] = 57;
        req[4..8].copy_from_slice(&FSCTL_PIPE_TRANSCEIVE.to_le_bytes());
        req[8..24].copy_from_slice(&guid);
        req[24..28].copy_from_slice(&(64u32 + 56).to_le_bytes());
        req[28..32].copy_from_slice(&4u32.to_le_bytes());
        req.extend_from_slice(b"bind");
        let mut resp = vec![0u8; 48];
        resp[0] = 49;
        resp[4..8].copy_from_slice(&FSCTL_PIPE_TRANSCEIVE.to_le_bytes());
        resp[32..36].copy_from_slice(&(64u32 + 48).to_le_bytes());
        resp[36..40].copy_from_slice(&3u32.to_le_bytes());
        resp.extend_from_slice(b"ack");
        run(
            &mut s,
            &[
                (TS, smb2(11, false, 4, 1, &req)),
                (TC, smb2(11, true, 4, 1, &resp)),
            ],
        );
        let c = s.take_pipe_chunks();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].data, b"bind");
        assert_eq!(c[1].data, b"ack");
        assert_eq!(c[1].fid, guid);
        assert_eq!(s.pipe_queued(), 0);
    }
}
