//! HTTP/2 (RFC 9113) over cleartext TCP ("h2c" with prior knowledge),
//! parsed for inspection as Suricata's `http2` parser groups it: frames
//! are read from both directions, header blocks (HEADERS or PUSH_PROMISE
//! and their CONTINUATION frames) are decompressed with HPACK (RFC 7541,
//! the `loona-hpack` crate), and every stream is a transaction
//! ([`Http2Transaction`]) holding its request and response headers, the
//! frame types seen each way and the error codes of RST_STREAM frames.
//! Frames on stream 0 (SETTINGS, PING, GOAWAY, connection WINDOW_UPDATE)
//! each get a transaction of their own, as in Suricata.
//!
//! Why not reuse the HTTP/1 parser: HTTP/2 is binary and multiplexed;
//! what is shared with HTTP/1 is only the rule view (`http.request_header`
//! and `http.response_header` hold one `name: value` instance per header,
//! pseudo-headers without their leading `:`).
//!
//! The connection starts with the client's preface
//! ([`CLIENT_PREFACE`]): protocol detection looks for it
//! ([`probe`]), and the parser checks it (`invalid_client_magic`). The
//! HTTP/1.1 `Upgrade: h2c` path is not followed.
//!
//! Bounds, each raising an event when reached (Suricata's event names):
//! a frame whose payload the parser needs (all but DATA, whose payload is
//! skipped without buffering) is buffered up to
//! [`Http2Config::max_frame_buffer`] bytes (`long_frame_data` beyond, the
//! frame skipped); a header block is accumulated up to
//! [`Http2Config::max_header_block`] bytes; decoded headers are kept up to
//! [`Http2Config::max_headers`] fields and [`Http2Config::max_header_bytes`]
//! bytes per side (`extra_header_data` beyond); the HPACK dynamic table
//! may not be sized beyond [`MAX_TABLE_SIZE`]; at most
//! [`Http2Config::max_streams`] transactions are held
//! (`too_many_streams` beyond, the oldest dropped).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use crate::http::Direction;

/// The client connection preface (RFC 9113 §3.4): a client speaking
/// HTTP/2 with prior knowledge starts with these 24 bytes.
pub const CLIENT_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Largest HPACK dynamic table a peer may ask for (Suricata's cap too):
/// bigger size updates fail the block (`failed_decompression`).
pub const MAX_TABLE_SIZE: usize = 65536;

/// The `app-layer-event:http2.<name>` events the parser raises (a subset
/// of Suricata 7's).
pub const HTTP2_EVENTS: &[&str] = &[
    "invalid_frame_header",
    "invalid_client_magic",
    "invalid_frame_data",
    "invalid_header",
    "invalid_frame_length",
    "extra_header_data",
    "long_frame_data",
    "stream_id_reuse",
    "failed_decompression",
    "header_integer_overflow",
    "too_many_streams",
    "invalid_http1_settings",
];

/// Frame types (RFC 9113 §6), by their wire number.
pub mod frame_type {
    /// DATA.
    pub const DATA: u8 = 0;
    /// HEADERS.
    pub const HEADERS: u8 = 1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 4;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u8 = 5;
    /// PING.
    pub const PING: u8 = 6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 9;
}

const FLAG_END_STREAM: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;
const FLAG_PADDED: u8 = 0x8;
const FLAG_PRIORITY: u8 = 0x20;

/// Frame header length (RFC 9113 §4.1).
const FRAME_HEADER_LEN: usize = 9;

/// Error codes kept per direction of a transaction.
const MAX_ERROR_CODES: usize = 16;

/// Events kept per transaction.
const MAX_TX_EVENTS: usize = 16;

/// Whether `first_bytes` (of the client's direction) start with the
/// connection preface, or are a prefix of it long enough to tell (at
/// least 4 bytes: `PRI `).
pub fn probe(first_bytes: &[u8]) -> bool {
    let n = first_bytes.len().min(CLIENT_PREFACE.len());
    n >= 4 && first_bytes.get(..n) == CLIENT_PREFACE.get(..n)
}

/// Limits of the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http2Config {
    /// Largest frame payload buffered (default 256 KiB; a frame's length
    /// field allows 16 MiB). DATA payloads are never buffered.
    pub max_frame_buffer: usize,
    /// Largest header block (HEADERS plus CONTINUATION fragments)
    /// accumulated (default 256 KiB).
    pub max_header_block: usize,
    /// Header fields kept per side of a transaction (default 256).
    pub max_headers: usize,
    /// Bytes of decoded header names and values kept per side (default
    /// 256 KiB): HPACK indexes let a small block expand a lot.
    pub max_header_bytes: usize,
    /// Transactions held (default 256): beyond, `too_many_streams` and
    /// the oldest goes.
    pub max_streams: usize,
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            max_frame_buffer: 256 * 1024,
            max_header_block: 256 * 1024,
            max_headers: 256,
            max_header_bytes: 256 * 1024,
            max_streams: 256,
        }
    }
}

/// An anomaly, by Suricata's event name ([`HTTP2_EVENTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http2Anomaly {
    /// A frame on a stream its type may not use (DATA on stream 0,
    /// SETTINGS on a stream, a CONTINUATION out of place, ...).
    InvalidFrameHeader,
    /// The client did not start with the connection preface.
    InvalidClientMagic,
    /// A frame's payload is inconsistent (padding longer than it).
    InvalidFrameData,
    /// A decoded header is malformed (an uppercase name, a pseudo-header
    /// after a regular one).
    InvalidHeader,
    /// A frame's length does not suit its type (RST_STREAM not 4 bytes,
    /// SETTINGS not a multiple of 6, ...).
    InvalidFrameLength,
    /// Decoded headers beyond what is kept per side.
    ExtraHeaderData,
    /// A frame or header block beyond what is buffered.
    LongFrameData,
    /// A client HEADERS frame opening a stream id lower than one already
    /// used.
    StreamIdReuse,
    /// HPACK decoding failed (the connection's table is lost).
    FailedDecompression,
    /// An HPACK integer too long to decode.
    HeaderIntegerOverflow,
    /// More streams at once than transactions are held.
    TooManyStreams,
    /// The `HTTP2-Settings` header of an `Upgrade: h2c` request is not
    /// base64url-encoded SETTINGS (a multiple of 6 bytes).
    InvalidHttp1Settings,
}

impl Http2Anomaly {
    /// Suricata's name for the event.
    pub fn name(self) -> &'static str {
        match self {
            Http2Anomaly::InvalidFrameHeader => "invalid_frame_header",
            Http2Anomaly::InvalidClientMagic => "invalid_client_magic",
            Http2Anomaly::InvalidFrameData => "invalid_frame_data",
            Http2Anomaly::InvalidHeader => "invalid_header",
            Http2Anomaly::InvalidFrameLength => "invalid_frame_length",
            Http2Anomaly::ExtraHeaderData => "extra_header_data",
            Http2Anomaly::LongFrameData => "long_frame_data",
            Http2Anomaly::StreamIdReuse => "stream_id_reuse",
            Http2Anomaly::FailedDecompression => "failed_decompression",
            Http2Anomaly::HeaderIntegerOverflow => "header_integer_overflow",
            Http2Anomaly::TooManyStreams => "too_many_streams",
            Http2Anomaly::InvalidHttp1Settings => "invalid_http1_settings",
        }
    }
}

/// A decoded header field, as sent (names lowercase in valid HTTP/2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http2Header {
    /// The name, pseudo-headers with their `:`.
    pub name: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// A set of frame types (0..=255) as a bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameTypes([u64; 4]);

impl FrameTypes {
    /// Adds `t`.
    pub fn insert(&mut self, t: u8) {
        if let Some(w) = self.0.get_mut(usize::from(t >> 6)) {
            *w |= 1u64 << (t & 63);
        }
    }

    /// Whether `t` is in the set.
    pub fn contains(&self, t: u8) -> bool {
        self.0
            .get(usize::from(t >> 6))
            .is_some_and(|w| w & (1u64 << (t & 63)) != 0)
    }

    /// The types in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|&t| self.contains(t))
    }
}

/// One direction's part of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Http2Side {
    /// Decoded headers of the direction's header blocks (trailers
    /// included), in order.
    pub headers: Vec<Http2Header>,
    /// Bytes of names and values in `headers`.
    header_bytes: usize,
    /// Frame types seen in the direction.
    pub frame_types: FrameTypes,
    /// Error codes of the direction's RST_STREAM and GOAWAY frames.
    pub error_codes: Vec<u32>,
    /// The direction ended the stream (END_STREAM or RST_STREAM).
    pub ended: bool,
    /// The side was handed out as ready.
    reported: bool,
}

/// A stream (or a stream-0 frame): what rules inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http2Transaction {
    /// The transaction's number in the connection (from 0).
    pub id: u64,
    /// The HTTP/2 stream id (0 for connection frames).
    pub stream_id: u32,
    /// The client's side: request headers.
    pub request: Http2Side,
    /// The server's side: response headers.
    pub response: Http2Side,
    /// Anomalies raised on the transaction.
    pub events: Vec<Http2Anomaly>,
    /// How many of `events` were raised when the request side was handed
    /// out: the later ones are new to a rule inspecting the response.
    events_at_request: usize,
}

impl Http2Transaction {
    fn new(id: u64, stream_id: u32) -> Self {
        Http2Transaction {
            id,
            stream_id,
            request: Http2Side::default(),
            response: Http2Side::default(),
            events: Vec::new(),
            events_at_request: 0,
        }
    }

    /// Marks `dir`'s side handed out; whether it was not before.
    fn report(&mut self, dir: Direction) -> bool {
        if dir == Direction::ToServer && !self.request.reported {
            self.events_at_request = self.events.len();
        }
        let side = self.side_mut(dir);
        !std::mem::replace(&mut side.reported, true)
    }

    /// Whether event `name` was raised after the request side was handed
    /// out (what a rule seeing the request already could not see).
    pub fn has_late_event(&self, name: &str) -> bool {
        // A connection frame's transaction is whole when first inspected.
        self.stream_id != 0
            && self
                .events
                .get(self.events_at_request..)
                .is_some_and(|l| l.iter().any(|e| e.name() == name))
    }

    /// The side of `dir`.
    pub fn side(&self, dir: Direction) -> &Http2Side {
        match dir {
            Direction::ToServer => &self.request,
            Direction::ToClient => &self.response,
        }
    }

    fn side_mut(&mut self, dir: Direction) -> &mut Http2Side {
        match dir {
            Direction::ToServer => &mut self.request,
            Direction::ToClient => &mut self.response,
        }
    }

    /// The value of the first header `name` of `dir`'s side.
    pub fn header_value(&self, dir: Direction, name: &[u8]) -> Option<&[u8]> {
        self.side(dir)
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// The response's `:status`.
    pub fn status(&self) -> Option<&[u8]> {
        self.header_value(Direction::ToClient, b":status")
    }

    /// Whether the transaction raised event `name`.
    pub fn has_event(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.name() == name)
    }

    fn event(&mut self, a: Http2Anomaly) {
        if self.events.len() < MAX_TX_EVENTS && !self.events.contains(&a) {
            self.events.push(a);
        }
    }
}

/// A transaction side that became ready for inspection: its direction
/// ended the stream (or reset it), or the transaction is a stream-0
/// frame's, or the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Ready {
    /// The transaction.
    pub id: u64,
    /// The side.
    pub dir: Direction,
}

/// A header block being accumulated across CONTINUATION frames.
#[derive(Debug, Default)]
struct PendingBlock {
    stream_id: u32,
    block: Vec<u8>,
    end_stream: bool,
    /// The block went over the cap: it is read past, not decoded.
    truncated: bool,
    /// A PUSH_PROMISE's block (decoded into the promised stream's
    /// request side).
    promised: Option<u32>,
}

/// One direction's reading state.
struct DirState {
    /// Bytes of an incomplete frame (header, and payload when needed).
    buf: Vec<u8>,
    /// Payload bytes of the current frame still to skip (DATA, or a
    /// frame over the buffer cap).
    skip: usize,
    /// The frame being skipped ends its stream (DATA with END_STREAM).
    skip_ends: Option<u32>,
    /// Bytes of the client preface still expected (to server only).
    preface_left: usize,
    /// The direction stopped being parsed (bad preface).
    stopped: bool,
    /// A header block awaiting CONTINUATION frames.
    pending: Option<PendingBlock>,
    /// The HPACK decoder of the header blocks this direction sends.
    decoder: loona_hpack::Decoder<'static>,
    /// HPACK decoding failed: the table no longer matches the sender's,
    /// so later blocks are not decoded.
    hpack_failed: bool,
}

impl DirState {
    fn new(preface: bool) -> Self {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(MAX_TABLE_SIZE);
        DirState {
            buf: Vec::new(),
            skip: 0,
            skip_ends: None,
            preface_left: if preface { CLIENT_PREFACE.len() } else { 0 },
            stopped: false,
            pending: None,
            decoder,
            hpack_failed: false,
        }
    }
}

impl fmt::Debug for DirState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirState")
            .field("buffered", &self.buf.len())
            .field("skip", &self.skip)
            .field("preface_left", &self.preface_left)
            .field("stopped", &self.stopped)
            .field("pending", &self.pending.is_some())
            .field("hpack_failed", &self.hpack_failed)
            .finish()
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy)]
struct FrameHeader {
    len: usize,
    ftype: u8,
    flags: u8,
    stream_id: u32,
}

fn parse_header(b: &[u8]) -> Option<FrameHeader> {
    let h: &[u8; FRAME_HEADER_LEN] = b.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
    let [l0, l1, l2, ftype, flags, s0, s1, s2, s3] = *h;
    Some(FrameHeader {
        len: usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2),
        ftype,
        flags,
        stream_id: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
    })
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(w))
}

/// The HTTP/2 state of one connection.
#[derive(Debug)]
pub struct Http2Session {
    config: Http2Config,
    dirs: [DirState; 2],
    txs: VecDeque<Http2Transaction>,
    next_id: u64,
    /// Highest stream id the client opened.
    max_client_stream: u32,
}

impl Default for Http2Session {
    fn default() -> Self {
        Self::new(Http2Config::default())
    }
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Http2Session {
    /// A session expecting the client preface first.
    pub fn new(config: Http2Config) -> Self {
        Http2Session {
            config,
            dirs: [DirState::new(true), DirState::new(false)],
            txs: VecDeque::new(),
            next_id: 0,
            max_client_stream: 0,
        }
    }

    /// The transaction with id `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&Http2Transaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// The transactions held, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &Http2Transaction> {
        self.txs.iter()
    }

    /// Drops the transactions whose both sides were handed out, except
    /// those `keep` says are still needed.
    pub fn remove_done(&mut self, keep: impl Fn(u64) -> bool) {
        self.txs
            .retain(|t| !(t.request.reported && t.response.reported) || keep(t.id));
    }

    /// Feeds in-order stream bytes of `dir` and appends the transaction
    /// sides that became ready to `out`.
    pub fn feed(&mut self, dir: Direction, mut data: &[u8], out: &mut Vec<Http2Ready>) {
        let di = dir_index(dir);
        while !data.is_empty() {
            let Some(st) = self.dirs.get_mut(di) else {
                return;
            };
            if st.stopped {
                return;
            }
            if st.preface_left > 0 {
                let done = CLIENT_PREFACE.len() - st.preface_left;
                let n = st.preface_left.min(data.len());
                let want = CLIENT_PREFACE.get(done..done + n);
                let (got, rest) = data.split_at(n);
                if want != Some(got) {
                    st.stopped = true;
                    self.connection_event(Http2Anomaly::InvalidClientMagic, dir, out);
                    return;
                }
                st.preface_left -= n;
                data = rest;
                continue;
            }
            if st.skip > 0 {
                let n = st.skip.min(data.len());
                st.skip -= n;
                data = data.get(n..).unwrap_or_default();
                if st.skip == 0 {
                    if let Some(sid) = st.skip_ends.take() {
                        self.end_stream(sid, dir, out);
                    }
                }
                continue;
            }
            // Gather the frame header.
            if st.buf.len() < FRAME_HEADER_LEN {
                let n = (FRAME_HEADER_LEN - st.buf.len()).min(data.len());
                let (head, rest) = data.split_at(n);
                st.buf.extend_from_slice(head);
                data = rest;
                if st.buf.len() < FRAME_HEADER_LEN {
                    return;
                }
            }
            let Some(h) = parse_header(&st.buf) else {
                return;
            };
            if h.ftype == frame_type::DATA || h.len > self.config.max_frame_buffer {
                // The payload is read past, not kept.
                st.buf.clear();
                st.skip = h.len;
                if h.ftype != frame_type::DATA {
                    self.frame_seen(h, dir, out);
                    self.stream_event(h.stream_id, Http2Anomaly::LongFrameData, dir, out);
                    // A header block cut short leaves the HPACK table
                    // out of step with the sender's.
                    if matches!(
                        h.ftype,
                        frame_type::HEADERS | frame_type::PUSH_PROMISE | frame_type::CONTINUATION
                    ) {
                        if let Some(st) = self.dirs.get_mut(di) {
                            st.hpack_failed = true;
                            st.pending = None;
                        }
                    }
                } else {
                    let ends = self.data_frame(h, dir, out);
                    if let Some(st) = self.dirs.get_mut(di) {
                        if st.skip == 0 {
                            if let Some(sid) = ends {
                                self.end_stream(sid, dir, out);
                            }
                        } else {
                            st.skip_ends = ends;
                        }
                    }
                }
                continue;
            }
            let have = st.buf.len() - FRAME_HEADER_LEN;
            let n = (h.len - have).min(data.len());
            let (part, rest) = data.split_at(n);
            st.buf.extend_from_slice(part);
            data = rest;
            if st.buf.len() < FRAME_HEADER_LEN + h.len {
                return;
            }
            let frame = std::mem::take(&mut st.buf);
            let payload = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
            self.frame(h, payload, dir, out);
        }
    }

    /// The connection came from an HTTP/1.1 `Upgrade: h2c` whose
    /// `HTTP2-Settings` header was invalid ([`valid_http1_settings`]):
    /// a connection event.
    pub fn invalid_upgrade_settings(&mut self, out: &mut Vec<Http2Ready>) {
        self.connection_event(Http2Anomaly::InvalidHttp1Settings, Direction::ToServer, out);
    }

    /// The connection ended: every side not yet handed out is.
    pub fn finish(&mut self, out: &mut Vec<Http2Ready>) {
        for tx in self.txs.iter_mut() {
            for dir in [Direction::ToServer, Direction::ToClient] {
                if tx.report(dir) {
                    out.push(Http2Ready { id: tx.id, dir });
                }
            }
        }
    }

    /// A DATA frame's header: checks it and notes the frame; returns the
    /// stream its end closes.
    fn data_frame(
        &mut self,
        h: FrameHeader,
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) -> Option<u32> {
        if h.stream_id == 0 {
            self.connection_event(Http2Anomaly::InvalidFrameHeader, dir, out);
            return None;
        }
        if h.flags & FLAG_PADDED != 0 && h.len == 0 {
            self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameData, dir, out);
        }
        self.frame_seen(h, dir, out);
        (h.flags & FLAG_END_STREAM != 0).then_some(h.stream_id)
    }

    /// Notes a frame's type on its stream's transaction (a new one for
    /// stream 0).
    fn frame_seen(&mut self, h: FrameHeader, dir: Direction, out: &mut Vec<Http2Ready>) {
        if let Some(tx) = self.tx_for(h.stream_id, dir, out) {
            tx.side_mut(dir).frame_types.insert(h.ftype);
        }
    }

    /// A complete frame other than DATA.
    fn frame(&mut self, h: FrameHeader, payload: &[u8], dir: Direction, out: &mut Vec<Http2Ready>) {
        let di = dir_index(dir);
        let expecting = self
            .dirs
            .get(di)
            .and_then(|s| s.pending.as_ref())
            .map(|p| p.stream_id);
        // While a header block is open only its CONTINUATION frames may
        // come (RFC 9113 §6.10).
        if let Some(sid) = expecting {
            if h.ftype != frame_type::CONTINUATION || h.stream_id != sid {
                self.stream_event(sid, Http2Anomaly::InvalidFrameHeader, dir, out);
                if let Some(st) = self.dirs.get_mut(di) {
                    st.pending = None;
                    st.hpack_failed = true;
                }
            }
        }
        let stream_frame = matches!(
            h.ftype,
            frame_type::HEADERS
                | frame_type::PRIORITY
                | frame_type::RST_STREAM
                | frame_type::PUSH_PROMISE
                | frame_type::CONTINUATION
        );
        let conn_frame = matches!(
            h.ftype,
            frame_type::SETTINGS | frame_type::PING | frame_type::GOAWAY
        );
        if (stream_frame && h.stream_id == 0) || (conn_frame && h.stream_id != 0) {
            self.connection_event(Http2Anomaly::InvalidFrameHeader, dir, out);
            return;
        }
        let length_ok = match h.ftype {
            frame_type::PRIORITY => h.len == 5,
            frame_type::RST_STREAM | frame_type::WINDOW_UPDATE => h.len == 4,
            frame_type::SETTINGS => h.len.is_multiple_of(6),
            frame_type::PING => h.len == 8,
            frame_type::GOAWAY => h.len >= 8,
            frame_type::PUSH_PROMISE => h.len >= 4,
            _ => true,
        };
        if h.ftype == frame_type::HEADERS
            && dir == Direction::ToServer
            && h.stream_id != 0
            && !self.txs.iter().any(|t| t.stream_id == h.stream_id)
        {
            if h.stream_id <= self.max_client_stream {
                self.stream_event(h.stream_id, Http2Anomaly::StreamIdReuse, dir, out);
            }
            self.max_client_stream = self.max_client_stream.max(h.stream_id);
        }
        self.frame_seen(h, dir, out);
        if !length_ok {
            self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameLength, dir, out);
            return;
        }
        match h.ftype {
            frame_type::HEADERS => {
                let Some(fragment) = self.strip_padding(h, payload, dir, out) else {
                    return;
                };
                let skip = if h.flags & FLAG_PRIORITY != 0 { 5 } else { 0 };
                let Some(fragment) = fragment.get(skip..) else {
                    self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameData, dir, out);
                    return;
                };
                let block = PendingBlock {
                    stream_id: h.stream_id,
                    block: Vec::new(),
                    end_stream: h.flags & FLAG_END_STREAM != 0,
                    truncated: false,
                    promised: None,
                };
                self.block_fragment(block, fragment, h.flags, dir, out);
            }
            frame_type::PUSH_PROMISE => {
                let Some(fragment) = self.strip_padding(h, payload, dir, out) else {
                    return;
                };
                let Some(promised) = be32(fragment, 0).map(|p| p & 0x7fff_ffff) else {
                    self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameData, dir, out);
                    return;
                };
                let block = PendingBlock {
                    stream_id: h.stream_id,
                    block: Vec::new(),
                    end_stream: false,
                    truncated: false,
                    promised: Some(promised),
                };
                let fragment = fragment.get(4..).unwrap_or_default();
                self.block_fragment(block, fragment, h.flags, dir, out);
            }
            frame_type::CONTINUATION => {
                let pending = self.dirs.get_mut(di).and_then(|s| s.pending.take());
                match pending {
                    Some(p) if p.stream_id == h.stream_id => {
                        self.block_fragment(p, payload, h.flags, dir, out);
                    }
                    _ => self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameHeader, dir, out),
                }
            }
            frame_type::RST_STREAM => {
                let code = be32(payload, 0).unwrap_or(0);
                if let Some(tx) = self.tx_for(h.stream_id, dir, out) {
                    let side = tx.side_mut(dir);
                    if side.error_codes.len() < MAX_ERROR_CODES {
                        side.error_codes.push(code);
                    }
                }
                self.end_stream(h.stream_id, dir, out);
            }
            frame_type::GOAWAY => {
                let code = be32(payload, 4).unwrap_or(0);
                if let Some(tx) = self.tx_for(0, dir, out) {
                    tx.side_mut(dir).error_codes.push(code);
                }
            }
            _ => {}
        }
    }

    /// A HEADERS or PUSH_PROMISE payload without its padding.
    fn strip_padding<'p>(
        &mut self,
        h: FrameHeader,
        payload: &'p [u8],
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) -> Option<&'p [u8]> {
        if h.flags & FLAG_PADDED == 0 {
            return Some(payload);
        }
        let pad = usize::from(*payload.first().unwrap_or(&0));
        let end = payload.len().checked_sub(pad);
        match end.and_then(|e| payload.get(1..e)) {
            Some(p) => Some(p),
            None => {
                self.stream_event(h.stream_id, Http2Anomaly::InvalidFrameData, dir, out);
                None
            }
        }
    }

    /// Appends a header block fragment; decodes the block once complete.
    fn block_fragment(
        &mut self,
        mut p: PendingBlock,
        fragment: &[u8],
        flags: u8,
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) {
        if p.block.len().saturating_add(fragment.len()) > self.config.max_header_block {
            if !p.truncated {
                self.stream_event(p.stream_id, Http2Anomaly::LongFrameData, dir, out);
            }
            p.truncated = true;
            p.block = Vec::new();
        } else if !p.truncated {
            p.block.extend_from_slice(fragment);
        }
        let di = dir_index(dir);
        if flags & FLAG_END_HEADERS == 0 {
            if let Some(st) = self.dirs.get_mut(di) {
                st.pending = Some(p);
            }
            return;
        }
        if p.truncated {
            if let Some(st) = self.dirs.get_mut(di) {
                st.hpack_failed = true;
            }
        } else {
            self.decode_block(&p, dir, out);
        }
        if p.end_stream {
            self.end_stream(p.stream_id, dir, out);
        }
    }

    /// Decodes a complete header block into its transaction's side.
    fn decode_block(&mut self, p: &PendingBlock, dir: Direction, out: &mut Vec<Http2Ready>) {
        let di = dir_index(dir);
        let (max_headers, max_bytes) = (self.config.max_headers, self.config.max_header_bytes);
        let Some(st) = self.dirs.get_mut(di) else {
            return;
        };
        if st.hpack_failed {
            return;
        }
        let mut headers: Vec<Http2Header> = Vec::new();
        let mut bytes = 0usize;
        let mut dropped = false;
        let mut invalid = false;
        let mut regular_seen = false;
        let result = st.decoder.decode_with_cb(&p.block, |name, value| {
            let pseudo = name.first() == Some(&b':');
            if (pseudo && regular_seen) || name.iter().any(u8::is_ascii_uppercase) {
                invalid = true;
            }
            regular_seen |= !pseudo;
            let size = name.len().saturating_add(value.len());
            if headers.len() >= max_headers || bytes.saturating_add(size) > max_bytes {
                dropped = true;
                return;
            }
            bytes += size;
            headers.push(Http2Header {
                name: name.into_owned(),
                value: value.into_owned(),
            });
        });
        let failure = match result {
            Ok(()) => None,
            Err(loona_hpack::decoder::DecoderError::IntegerDecodingError(_)) => {
                Some(Http2Anomaly::HeaderIntegerOverflow)
            }
            Err(_) => Some(Http2Anomaly::FailedDecompression),
        };
        if failure.is_some() {
            st.hpack_failed = true;
        }
        // A PUSH_PROMISE's headers are the promised stream's request.
        let (sid, side_dir) = match p.promised {
            Some(promised) => (promised, Direction::ToServer),
            None => (p.stream_id, dir),
        };
        let Some(tx) = self.tx_for(sid, dir, out) else {
            return;
        };
        let side = tx.side_mut(side_dir);
        for h in headers {
            let size = h.name.len().saturating_add(h.value.len());
            if side.headers.len() >= max_headers
                || side.header_bytes.saturating_add(size) > max_bytes
            {
                dropped = true;
                break;
            }
            side.header_bytes += size;
            side.headers.push(h);
        }
        if let Some(a) = failure {
            tx.event(a);
        }
        if dropped {
            tx.event(Http2Anomaly::ExtraHeaderData);
        }
        if invalid {
            tx.event(Http2Anomaly::InvalidHeader);
        }
    }

    /// `dir` ended stream `sid`: its side is ready.
    fn end_stream(&mut self, sid: u32, dir: Direction, out: &mut Vec<Http2Ready>) {
        if let Some(tx) = self.txs.iter_mut().rev().find(|t| t.stream_id == sid) {
            tx.side_mut(dir).ended = true;
            if tx.report(dir) {
                out.push(Http2Ready { id: tx.id, dir });
            }
        }
    }

    /// An event on stream `sid`'s transaction (a new stream-0 one for
    /// connection events).
    fn stream_event(
        &mut self,
        sid: u32,
        a: Http2Anomaly,
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) {
        if let Some(tx) = self.tx_for(sid, dir, out) {
            tx.event(a);
        }
    }

    /// An event of the connection: a stream-0 transaction of its own.
    fn connection_event(&mut self, a: Http2Anomaly, dir: Direction, out: &mut Vec<Http2Ready>) {
        self.stream_event(0, a, dir, out);
    }

    /// The transaction of stream `sid`, created when new (stream 0: a new
    /// one each time, both sides ready at once, as Suricata's connection
    /// frames are each a complete transaction).
    fn tx_for(
        &mut self,
        sid: u32,
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) -> Option<&mut Http2Transaction> {
        let existing = if sid == 0 {
            None
        } else {
            self.txs.iter().rposition(|t| t.stream_id == sid)
        };
        let pos = match existing {
            Some(p) => p,
            None => {
                if self.txs.len() >= self.config.max_streams {
                    // The oldest goes; the newcomer carries the event.
                    if let Some(old) = self.txs.pop_front() {
                        for d in [Direction::ToServer, Direction::ToClient] {
                            out.retain(|r| !(r.id == old.id && r.dir == d));
                        }
                    }
                    let mut tx = Http2Transaction::new(self.next_id, sid);
                    tx.event(Http2Anomaly::TooManyStreams);
                    self.push_tx(tx, sid, dir, out);
                } else {
                    let tx = Http2Transaction::new(self.next_id, sid);
                    self.push_tx(tx, sid, dir, out);
                }
                self.txs.len().checked_sub(1)?
            }
        };
        self.txs.get_mut(pos)
    }

    fn push_tx(
        &mut self,
        mut tx: Http2Transaction,
        sid: u32,
        dir: Direction,
        out: &mut Vec<Http2Ready>,
    ) {
        self.next_id += 1;
        if sid == 0 {
            // A connection frame's transaction: complete at once, both
            // sides (the frame is on the side of the direction that sent
            // it; rules without direction look at either).
            let _ = dir;
            for d in [Direction::ToServer, Direction::ToClient] {
                tx.report(d);
                out.push(Http2Ready { id: tx.id, dir: d });
            }
        }
        self.txs.push_back(tx);
    }
}

/// Whether an `HTTP2-Settings` header value (RFC 7540 §3.2.1) is
/// base64url (padding tolerated) of a SETTINGS payload, whose length is
/// a multiple of 6 bytes.
pub fn valid_http1_settings(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    let data = match v.iter().position(|&b| b == b'=') {
        Some(p) => {
            if v.get(p..).is_some_and(|pad| pad.iter().any(|&b| b != b'=')) {
                return false;
            }
            v.get(..p).unwrap_or_default()
        }
        None => v,
    };
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/');
    if !data.iter().all(alphabet) || data.len() % 4 == 1 {
        return false;
    }
    let bytes = data.len() / 4 * 3 + (data.len() % 4).saturating_sub(1);
    bytes.is_multiple_of(6)
}

/// The header `h` as Suricata's `http.request_header` /
/// `http.response_header` instances show it: `name: value`, a
/// pseudo-header's name without its `:`.
pub fn header_line(h: &Http2Header) -> Vec<u8> {
    let name = h.name.strip_prefix(b":").unwrap_or(&h.name);
    let mut v = Vec::with_capacity(name.len() + 2 + h.value.len());
    v.extend_from_slice(name);
    v.extend_from_slice(b": ");
    v.extend_from_slice(&h.value);
    v
}

/// The header `h` as `http2.header` shows it: `name: value`, the name as
/// sent.
pub fn header_full(h: &Http2Header) -> Cow<'_, [u8]> {
    let mut v = Vec::with_capacity(h.name.len() + 2 + h.value.len());
    v.extend_from_slice(&h.name);
    v.extend_from_slice(b": ");
    v.extend_from_slice(&h.value);
    Cow::Owned(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The TCP payloads of suricata-verify's http2_multiple_headers.pcap
    /// (bug 5929 / 5780): the server's SETTINGS, the client's preface,
    /// SETTINGS and WINDOW_UPDATE, its HEADERS for stream 1, both SETTINGS
    /// acks, and the server's HEADERS (404) and DATA.
    const SERVER_SETTINGS: &str =
        "000012040000000000000300000100000400010000000500ffffff0000040800000000007fff0000";
    const CLIENT_PREFACE_SETTINGS: &str = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000200000000000400400000000600a0000000000408000000000040000000";
    const CLIENT_HEADERS: &str = "00005d01050000000141898ed98b624f62e43d3f82459063c0d249e43ccc781a493c879972f92f874083b6d3499a965784fb419560b2db2b34f925586d3cfacd0872bcfbedb52c644085ee5b1063d5820be150839bd9ab7a8dc475a74a6b589418b525812e0f";
    const SETTINGS_ACK: &str = "000000040100000000";

    fn client_session() -> (Http2Session, Vec<Http2Ready>) {
        let mut s = Http2Session::default();
        let mut out = Vec::new();
        s.feed(Direction::ToClient, &hex(SERVER_SETTINGS), &mut out);
        s.feed(Direction::ToServer, &hex(CLIENT_PREFACE_SETTINGS), &mut out);
        s.feed(Direction::ToServer, &hex(CLIENT_HEADERS), &mut out);
        (s, out)
    }

    #[test]
    fn preface_probe() {
        assert!(probe(CLIENT_PREFACE));
        assert!(probe(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00"));
        assert!(probe(b"PRI "));
        assert!(!probe(b"PRI"));
        assert!(!probe(b"PRI * HTTP/1.1\r\n"));
        assert!(!probe(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn request_headers_of_the_sv_capture() {
        let (s, out) = client_session();
        let tx = s.transactions().find(|t| t.stream_id == 1).unwrap();
        let lines: Vec<Vec<u8>> = tx.request.headers.iter().map(header_line).collect();
        assert!(lines.contains(&b"method: GET".to_vec()), "{lines:?}");
        assert!(
            lines.contains(&b"authority: bugertor.com".to_vec()),
            "{lines:?}"
        );
        assert_eq!(
            tx.header_value(Direction::ToServer, b":path"),
            Some(&b"/watchdog/watchdog.exe"[..])
        );
        assert!(tx.request.ended);
        assert!(tx.request.frame_types.contains(frame_type::HEADERS));
        assert!(tx.events.is_empty(), "{:?}", tx.events);
        // The request side is ready (END_STREAM), as are the stream-0
        // transactions (each side's SETTINGS and WINDOW_UPDATE).
        assert!(out.contains(&Http2Ready {
            id: tx.id,
            dir: Direction::ToServer
        }));
        assert_eq!(s.transactions().filter(|t| t.stream_id == 0).count(), 4);
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let (whole, _) = client_session();
        let mut s = Http2Session::default();
        let mut out = Vec::new();
        for b in hex(SERVER_SETTINGS) {
            s.feed(Direction::ToClient, &[b], &mut out);
        }
        for chunk in [CLIENT_PREFACE_SETTINGS, CLIENT_HEADERS, SETTINGS_ACK] {
            for b in hex(chunk) {
                s.feed(Direction::ToServer, &[b], &mut out);
            }
        }
        let a = whole.transactions().find(|t| t.stream_id == 1).unwrap();
        let b = s.transactions().find(|t| t.stream_id == 1).unwrap();
        assert_eq!(a.request.headers, b.request.headers);
    }

    #[test]
    fn response_headers_and_data() {
        let (mut s, _) = client_session();
        let mut out = Vec::new();
        // HEADERS (END_HEADERS) on stream 1: ":status: 404" is static
        // index 13 (0x8d), then an empty DATA with END_STREAM.
        let mut resp = hex("000001010400000001");
        resp.push(0x8d);
        resp.extend(hex("000000000100000001"));
        s.feed(Direction::ToClient, &resp, &mut out);
        let tx = s.transactions().find(|t| t.stream_id == 1).unwrap();
        assert_eq!(tx.status(), Some(&b"404"[..]));
        assert!(tx.response.frame_types.contains(frame_type::DATA));
        assert_eq!(
            out,
            vec![Http2Ready {
                id: tx.id,
                dir: Direction::ToClient
            }]
        );
        s.remove_done(|_| false);
        assert!(s.transactions().all(|t| t.stream_id != 1));
    }

    #[test]
    fn bad_magic_stops_the_client_direction() {
        let mut s = Http2Session::default();
        let mut out = Vec::new();
        s.feed(Direction::ToServer, b"PRI * HTTP/1.1\r\n\r\n", &mut out);
        assert!(s
            .transactions()
            .any(|t| t.has_event("invalid_client_magic")));
        s.feed(Direction::ToServer, &hex(CLIENT_HEADERS), &mut out);
        assert!(s.transactions().all(|t| t.stream_id == 0));
    }

    fn client() -> Http2Session {
        let mut s = Http2Session::default();
        let mut out = Vec::new();
        s.feed(Direction::ToServer, CLIENT_PREFACE, &mut out);
        s
    }

    #[test]
    fn frame_anomalies() {
        let mut s = client();
        let mut out = Vec::new();
        // RST_STREAM of 3 bytes; DATA on stream 0; SETTINGS on stream 5.
        s.feed(
            Direction::ToServer,
            &hex("00000303000000000300aabb"),
            &mut out,
        );
        s.feed(Direction::ToServer, &hex("000000000000000000"), &mut out);
        s.feed(Direction::ToServer, &hex("000000040000000005"), &mut out);
        let ev = |n: &str| s.transactions().any(|t| t.has_event(n));
        assert!(ev("invalid_frame_length"));
        assert!(ev("invalid_frame_header"));
        // A CONTINUATION without HEADERS.
        let mut s = client();
        s.feed(Direction::ToServer, &hex("000001090400000007"), &mut out);
        s.feed(Direction::ToServer, &[0x82], &mut out);
        assert!(s
            .transactions()
            .any(|t| t.has_event("invalid_frame_header")));
    }

    #[test]
    fn rst_stream_error_codes_and_goaway() {
        let mut s = client();
        let mut out = Vec::new();
        // HEADERS :method GET (0x82), then RST_STREAM CANCEL (8), GOAWAY
        // INTERNAL_ERROR.
        s.feed(Direction::ToServer, &hex("00000101040000000382"), &mut out);
        s.feed(
            Direction::ToClient,
            &hex("00000403000000000300000008"),
            &mut out,
        );
        s.feed(
            Direction::ToClient,
            &hex("0000080700000000000000000300000002"),
            &mut out,
        );
        let tx = s.transactions().find(|t| t.stream_id == 3).unwrap();
        assert_eq!(tx.response.error_codes, vec![8]);
        assert!(tx.response.frame_types.contains(frame_type::RST_STREAM));
        assert!(out.contains(&Http2Ready {
            id: tx.id,
            dir: Direction::ToClient
        }));
        assert!(s
            .transactions()
            .any(|t| t.stream_id == 0 && t.response.error_codes == vec![2]));
    }

    #[test]
    fn continuation_and_padding() {
        let mut s = client();
        let mut out = Vec::new();
        // Padded HEADERS (pad 2) with ":method: GET" then a CONTINUATION
        // with ":path: /" (0x84), END_STREAM on the HEADERS.
        s.feed(
            Direction::ToServer,
            &hex("00000401090000000102820000"),
            &mut out,
        );
        assert!(out.is_empty());
        s.feed(Direction::ToServer, &hex("00000109040000000184"), &mut out);
        let tx = s.transactions().find(|t| t.stream_id == 1).unwrap();
        let lines: Vec<Vec<u8>> = tx.request.headers.iter().map(header_line).collect();
        assert_eq!(lines, vec![b"method: GET".to_vec(), b"path: /".to_vec()]);
        assert_eq!(out.len(), 1);
        // Padding longer than the payload.
        s.feed(
            Direction::ToServer,
            &hex("0000020109000000030982"),
            &mut out,
        );
        assert!(s.transactions().any(|t| t.has_event("invalid_frame_data")));
    }

    #[test]
    fn hpack_failures_and_stream_reuse() {
        let mut s = client();
        let mut out = Vec::new();
        // Index 70 does not exist (0xc6); an integer of too many octets.
        s.feed(Direction::ToServer, &hex("000001010400000005c6"), &mut out);
        assert!(s
            .transactions()
            .any(|t| t.has_event("failed_decompression")));
        let mut s = client();
        s.feed(
            Direction::ToServer,
            &hex("0000060104000000057fffffffffff"),
            &mut out,
        );
        assert!(s
            .transactions()
            .any(|t| t.has_event("header_integer_overflow")));
        let mut s = client();
        s.feed(Direction::ToServer, &hex("00000101040000000582"), &mut out);
        s.feed(Direction::ToServer, &hex("00000101040000000382"), &mut out);
        assert!(s.transactions().any(|t| t.has_event("stream_id_reuse")));
    }

    #[test]
    fn caps_raise_events() {
        let mut s = Http2Session::new(Http2Config {
            max_streams: 2,
            max_frame_buffer: 16,
            ..Http2Config::default()
        });
        let mut out = Vec::new();
        s.feed(Direction::ToServer, CLIENT_PREFACE, &mut out);
        for sid in [1u8, 3, 5] {
            s.feed(
                Direction::ToServer,
                &[0, 0, 1, 1, 4, 0, 0, 0, sid, 0x82],
                &mut out,
            );
        }
        assert_eq!(s.transactions().count(), 2);
        assert!(s.transactions().any(|t| t.has_event("too_many_streams")));
        // A PING of 8 bytes fits, a 32-byte PRIORITY-less HEADERS does
        // not: skipped with long_frame_data.
        let mut big = hex("000020010400000007");
        big.extend(std::iter::repeat_n(0x82, 32));
        s.feed(Direction::ToServer, &big, &mut out);
        assert!(s.transactions().any(|t| t.has_event("long_frame_data")));
        // Amplification: a literal added to the table, then many indexes
        // to it, stop at the header cap.
        let mut s = Http2Session::new(Http2Config {
            max_headers: 4,
            ..Http2Config::default()
        });
        s.feed(Direction::ToServer, CLIENT_PREFACE, &mut out);
        let mut block = vec![0x40, 1, b'x', 1, b'y'];
        block.extend(std::iter::repeat_n(0xbe, 10));
        let mut f = vec![0, 0, block.len() as u8, 1, 4, 0, 0, 0, 1];
        f.extend(block);
        s.feed(Direction::ToServer, &f, &mut out);
        let tx = s.transactions().find(|t| t.stream_id == 1).unwrap();
        assert_eq!(tx.request.headers.len(), 4);
        assert!(tx.has_event("extra_header_data"));
    }

    #[test]
    fn http1_settings_header() {
        // SETTINGS_MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 10 MiB,
        // ENABLE_PUSH 0 (curl's).
        assert!(valid_http1_settings(b"AAMAAABkAAQAoAAAAAIAAAAA"));
        assert!(valid_http1_settings(b""));
        assert!(valid_http1_settings(b" AAMAAABk "));
        assert!(!valid_http1_settings(b"AAMAAAB"));
        assert!(!valid_http1_settings(b"AAMA*ABk"));
        assert!(!valid_http1_settings(b"AAMA=ABk"));
        let mut s = client();
        let mut out = Vec::new();
        s.invalid_upgrade_settings(&mut out);
        assert!(s
            .transactions()
            .any(|t| t.has_event("invalid_http1_settings")));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn finish_reports_open_sides() {
        let mut s = client();
        let mut out = Vec::new();
        s.feed(Direction::ToServer, &hex("00000101040000000182"), &mut out);
        assert!(out.is_empty());
        s.finish(&mut out);
        assert_eq!(out.len(), 2);
    }
}
