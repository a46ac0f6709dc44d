//! SIP (RFC 3261) messages over UDP datagrams and TCP streams, parsed for
//! inspection as Suricata's `sip` parser does: the request line (method,
//! URI, version) or status line (version, code, reason), the header
//! fields, and the body, whose length the `Content-Length` header gives.
//!
//! Each message is its own transaction ([`SipTransaction`]), as in
//! Suricata: requests are read from the client's direction and responses
//! from the server's (a request travelling to the client, as when the
//! callee of a call sends BYE, is not parsed, nor a response travelling
//! to the server). Over UDP a datagram is one message; over TCP messages
//! follow each other in the stream, and a direction whose data is not
//! SIP is not parsed further.
//!
//! Frames ([`crate::frame`]), when [`SipConfig::frames`] asks for them:
//! `pdu` (the whole message; over UDP the whole datagram, whether or not
//! it parses), `request.line` / `response.line` (the start line with its
//! line ending), `request.headers` / `response.headers` (the header
//! lines, each with its line ending, without the empty line that ends
//! them) and `request.body` / `response.body`.
//!
//! Header names are matched without regard to case, and the compact
//! forms of RFC 3261 §7.3.3 (`f` for From, `t` for To, `v` for Via, ...)
//! stand for their long names ([`canonical_header`]).
//!
//! Bounds: a message head (start line and headers) of at most
//! [`SipConfig::max_head_len`] bytes and [`SipConfig::max_headers`]
//! header fields; over TCP a body is buffered up to
//! [`crate::frame::MAX_FRAME_BYTES`] and skipped past beyond that;
//! [`SipConfig::max_transactions`] transactions held per flow.

use std::collections::VecDeque;

use crate::frame::{FrameSink, MAX_FRAME_BYTES};
use crate::http::Direction;

/// Limits of the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipConfig {
    /// Longest message head (start line and header lines) read (default
    /// 64 KiB); over TCP a longer one stops the parsing of its direction.
    pub max_head_len: usize,
    /// Header fields kept per message (default 256); the others are
    /// still read past.
    pub max_headers: usize,
    /// Transactions held per flow (default 64): the oldest are dropped
    /// when the caller does not release them.
    pub max_transactions: usize,
    /// Report frames ([`SipState::frames`]).
    pub frames: bool,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            max_head_len: 64 * 1024,
            max_headers: 256,
            max_transactions: 64,
            frames: false,
        }
    }
}

/// A request line's parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipRequestLine {
    /// The method (`INVITE`).
    pub method: Vec<u8>,
    /// The Request-URI.
    pub uri: Vec<u8>,
    /// The version (`SIP/2.0`).
    pub version: Vec<u8>,
}

/// A status line's parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipStatusLine {
    /// The version (`SIP/2.0`).
    pub version: Vec<u8>,
    /// The three-digit status code.
    pub code: Vec<u8>,
    /// The reason phrase (possibly empty).
    pub reason: Vec<u8>,
}

/// One header field as sent (folded lines joined by a space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipHeader {
    /// The name as sent.
    pub name: Vec<u8>,
    /// The value, without surrounding whitespace.
    pub value: Vec<u8>,
}

/// A parsed message head, and where its parts are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipMessage {
    /// The start line without its line ending.
    pub start_line: Vec<u8>,
    /// The request line's parts, for a request.
    pub request: Option<SipRequestLine>,
    /// The status line's parts, for a response.
    pub response: Option<SipStatusLine>,
    /// Header fields in order (at most [`SipConfig::max_headers`]).
    pub headers: Vec<SipHeader>,
    /// Bytes of the start line with its line ending.
    pub line_len: usize,
    /// Bytes of the header lines (the empty line excluded).
    pub headers_len: usize,
    /// Bytes of the head: start line, header lines and the empty line.
    pub head_len: usize,
    /// The body's length (as far as it was seen, over UDP).
    pub body_len: usize,
}

impl SipMessage {
    /// The values of every header whose name is `canonical` (a long name
    /// in lowercase, such as `"from"`) or its compact form, in order.
    pub fn header_values<'a>(&'a self, canonical: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |h| canonical_header(&h.name) == Some(canonical))
            .map(|h| h.value.as_slice())
    }

    /// The value of `Content-Length`, when present and a number.
    pub fn content_length(&self) -> Option<usize> {
        let v = self.header_values("content-length").next()?;
        std::str::from_utf8(v).ok()?.trim().parse().ok()
    }
}

/// The lowercase long name of the headers Rampart's rules look at, for a
/// header name as sent (any case, compact forms included); `None` for
/// other headers.
pub fn canonical_header(name: &[u8]) -> Option<&'static str> {
    const LONG: &[&str] = &[
        "from",
        "to",
        "via",
        "user-agent",
        "content-type",
        "content-length",
        "call-id",
        "contact",
        "content-encoding",
        "subject",
        "supported",
        "cseq",
    ];
    if let [c] = name {
        return Some(match c.to_ascii_lowercase() {
            b'f' => "from",
            b't' => "to",
            b'v' => "via",
            b'c' => "content-type",
            b'l' => "content-length",
            b'i' => "call-id",
            b'm' => "contact",
            b'e' => "content-encoding",
            b's' => "subject",
            b'k' => "supported",
            _ => return None,
        });
    }
    LONG.iter()
        .copied()
        .find(|l| l.as_bytes().eq_ignore_ascii_case(name))
}

/// One message, as a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTransaction {
    /// Id of the transaction in its flow (messages in order, from 0).
    pub id: u64,
    /// Which way the message travelled (requests to the server,
    /// responses to the client).
    pub dir: Direction,
    /// The message.
    pub message: SipMessage,
}

/// A message was parsed: transaction `id`, travelling `dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipEvent {
    /// The transaction.
    pub id: u64,
    /// Its direction.
    pub dir: Direction,
}

/// Why bytes are not a message head (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadError {
    /// More bytes may complete it.
    Incomplete,
    /// It is not SIP.
    Invalid,
}

/// Token characters (RFC 3261 §25.1).
fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// The next line of `b` from `at`: its content and the offset past its
/// line ending (CRLF, or a bare LF).
fn line_at(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = b.get(at..)?;
    let nl = memchr::memchr(b'\n', rest)?;
    let line = rest.get(..nl)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, at + nl + 1))
}

/// `SIP/d.d`.
fn is_version(v: &[u8]) -> bool {
    let Some(rest) = v.strip_prefix(b"SIP/") else {
        return false;
    };
    let mut parts = rest.splitn(2, |&c| c == b'.');
    let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
        return false;
    };
    !major.is_empty() && !minor.is_empty() && major.iter().chain(minor).all(u8::is_ascii_digit)
}

/// Parses a request line.
fn parse_request_line(line: &[u8]) -> Option<SipRequestLine> {
    let mut parts = line.splitn(3, |&c| c == b' ');
    let method = parts.next()?;
    let uri = parts.next()?;
    let version = parts.next()?;
    let ok = !method.is_empty()
        && method.iter().all(|&c| is_token(c))
        && !uri.is_empty()
        && is_version(version);
    ok.then(|| SipRequestLine {
        method: method.to_vec(),
        uri: uri.to_vec(),
        version: version.to_vec(),
    })
}

/// Parses a status line.
fn parse_status_line(line: &[u8]) -> Option<SipStatusLine> {
    let mut parts = line.splitn(3, |&c| c == b' ');
    let version = parts.next()?;
    let code = parts.next()?;
    let reason = parts.next().unwrap_or(&[]);
    let ok = is_version(version) && code.len() == 3 && code.iter().all(u8::is_ascii_digit);
    ok.then(|| SipStatusLine {
        version: version.to_vec(),
        code: code.to_vec(),
        reason: reason.to_vec(),
    })
}

/// Parses a message head (a request when `request`, else a response).
fn parse_head(b: &[u8], request: bool, cfg: &SipConfig) -> Result<SipMessage, HeadError> {
    let limited = b.len() >= cfg.max_head_len;
    let incomplete = || {
        if limited {
            HeadError::Invalid
        } else {
            HeadError::Incomplete
        }
    };
    let b = b.get(..cfg.max_head_len).unwrap_or(b);
    let Some((line, mut at)) = line_at(b, 0) else {
        // A start line must show its shape early.
        let looks = if request {
            b.iter().take_while(|&&c| c != b' ').all(|&c| is_token(c))
        } else {
            b"SIP/".starts_with(b.get(..4.min(b.len())).unwrap_or(b))
        };
        return Err(if looks {
            incomplete()
        } else {
            HeadError::Invalid
        });
    };
    let mut msg = SipMessage {
        start_line: line.to_vec(),
        line_len: at,
        ..SipMessage::default()
    };
    if request {
        msg.request = Some(parse_request_line(line).ok_or(HeadError::Invalid)?);
    } else {
        msg.response = Some(parse_status_line(line).ok_or(HeadError::Invalid)?);
    }
    loop {
        let Some((hline, next)) = line_at(b, at) else {
            return Err(incomplete());
        };
        if hline.is_empty() {
            msg.headers_len = at - msg.line_len;
            msg.head_len = next;
            return Ok(msg);
        }
        if matches!(hline.first(), Some(b' ' | b'\t')) {
            // A folded line continues the previous header.
            let cont = hline.trim_ascii();
            match msg.headers.last_mut() {
                Some(h) => {
                    if !cont.is_empty() {
                        h.value.push(b' ');
                        h.value.extend_from_slice(cont);
                    }
                }
                None => return Err(HeadError::Invalid),
            }
        } else {
            let colon = memchr::memchr(b':', hline).ok_or(HeadError::Invalid)?;
            let name = hline.get(..colon).unwrap_or(&[]).trim_ascii_end();
            if name.is_empty() || !name.iter().all(|&c| is_token(c)) {
                return Err(HeadError::Invalid);
            }
            let value = hline.get(colon + 1..).unwrap_or(&[]).trim_ascii();
            if msg.headers.len() < cfg.max_headers {
                msg.headers.push(SipHeader {
                    name: name.to_vec(),
                    value: value.to_vec(),
                });
            }
        }
        at = next;
    }
}

/// One direction of a SIP-over-TCP stream.
#[derive(Debug, Default, Clone)]
struct TcpSide {
    /// Bytes of the message being read.
    buf: Vec<u8>,
    /// Stream offset of `buf`'s first byte.
    offset: u64,
    /// Bytes of an over-long body still to skip.
    skip: u64,
    /// The direction is not SIP (or broke a bound): not parsed further.
    stopped: bool,
}

/// The SIP state of one flow.
#[derive(Debug, Default)]
pub struct SipState {
    cfg: SipConfig,
    txs: VecDeque<SipTransaction>,
    next_id: u64,
    tcp: [TcpSide; 2],
    /// The frames found, when [`SipConfig::frames`] asks for them.
    pub frames: FrameSink,
    /// Datagrams or stream data that were not SIP messages of their
    /// direction.
    pub invalid: u64,
}

impl SipState {
    /// A state with the given limits.
    pub fn new(cfg: SipConfig) -> Self {
        SipState {
            frames: FrameSink::new(cfg.frames),
            cfg,
            ..SipState::default()
        }
    }

    /// Parses one UDP datagram's payload travelling `dir`.
    pub fn parse_datagram(&mut self, dir: Direction, payload: &[u8], events: &mut Vec<SipEvent>) {
        self.frames.push("pdu", dir, 0, payload);
        let request = dir == Direction::ToServer;
        let Ok(mut msg) = parse_head(payload, request, &self.cfg) else {
            self.invalid += 1;
            return;
        };
        let rest = payload.len().saturating_sub(msg.head_len);
        msg.body_len = msg.content_length().map_or(rest, |cl| cl.min(rest));
        let body = payload
            .get(msg.head_len..msg.head_len + msg.body_len)
            .unwrap_or(&[]);
        self.part_frames(dir, 0, payload, &msg, body, msg.body_len as u64);
        self.push(dir, msg, events);
    }

    /// Feeds in-order SIP-over-TCP stream data of `dir`.
    pub fn feed_tcp(&mut self, dir: Direction, data: &[u8], events: &mut Vec<SipEvent>) {
        let idx = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        let Some(side) = self.tcp.get_mut(idx) else {
            return;
        };
        if side.stopped {
            return;
        }
        let mut data = data;
        if side.skip > 0 {
            let n = usize::try_from(side.skip)
                .unwrap_or(usize::MAX)
                .min(data.len());
            side.skip -= n as u64;
            side.offset += n as u64;
            data = data.get(n..).unwrap_or(&[]);
        }
        side.buf.extend_from_slice(data);
        loop {
            let Some(side) = self.tcp.get_mut(idx) else {
                return;
            };
            if side.buf.is_empty() || side.stopped {
                return;
            }
            // Blank lines between messages are keep-alives (RFC 5626).
            let blank = side
                .buf
                .iter()
                .take_while(|&&c| c == b'\r' || c == b'\n')
                .count();
            if blank > 0 {
                side.buf.drain(..blank);
                side.offset += blank as u64;
                continue;
            }
            let msg = match parse_head(&side.buf, dir == Direction::ToServer, &self.cfg) {
                Ok(m) => m,
                Err(HeadError::Incomplete) => return,
                Err(HeadError::Invalid) => {
                    side.stopped = true;
                    side.buf = Vec::new();
                    self.invalid += 1;
                    return;
                }
            };
            let body_len = msg.content_length().unwrap_or(0);
            let total = msg.head_len.saturating_add(body_len);
            let have = side.buf.len();
            let cut = have >= msg.head_len.saturating_add(MAX_FRAME_BYTES);
            if have < total && !cut {
                return;
            }
            // Over-long bodies are inspected on their first bytes.
            let used = total.min(have);
            let mut msg = msg;
            msg.body_len = body_len;
            let buf = std::mem::take(&mut side.buf);
            let offset = side.offset;
            side.skip = (total - used) as u64;
            side.offset = offset + total as u64 - side.skip;
            let (message, rest) = buf.split_at(used);
            if let Some(side) = self.tcp.get_mut(idx) {
                side.buf = rest.to_vec();
            }
            let body = message.get(msg.head_len..).unwrap_or(&[]);
            if self.frames.enabled() {
                self.frames
                    .push_partial("pdu", dir, offset, total as u64, message);
            }
            self.part_frames(dir, offset, message, &msg, body, body_len as u64);
            self.push(dir, msg, events);
        }
    }

    /// The line, headers and body frames of `msg`, whose bytes start at
    /// `offset` of the stream (`bytes`: the message as seen).
    fn part_frames(
        &mut self,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        msg: &SipMessage,
        body: &[u8],
        body_len: u64,
    ) {
        if !self.frames.enabled() {
            return;
        }
        let (line, headers, body_kind) = match dir {
            Direction::ToServer => ("request.line", "request.headers", "request.body"),
            Direction::ToClient => ("response.line", "response.headers", "response.body"),
        };
        let part = |from: usize, len: usize| bytes.get(from..from + len).unwrap_or(&[]);
        self.frames.push(line, dir, offset, part(0, msg.line_len));
        if msg.headers_len > 0 {
            self.frames.push(
                headers,
                dir,
                offset + msg.line_len as u64,
                part(msg.line_len, msg.headers_len),
            );
        }
        if body_len > 0 {
            self.frames
                .push_partial(body_kind, dir, offset + msg.head_len as u64, body_len, body);
        }
    }

    fn push(&mut self, dir: Direction, message: SipMessage, events: &mut Vec<SipEvent>) {
        if self.txs.len() >= self.cfg.max_transactions.max(1) {
            self.txs.pop_front();
        }
        let id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(SipTransaction { id, dir, message });
        events.push(SipEvent { id, dir });
    }

    /// Bytes of `dir`'s TCP stream were lost: the message being read and
    /// the message boundaries after it are unknown, so the direction is
    /// not parsed further.
    pub fn gap(&mut self, dir: Direction) {
        let idx = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        if let Some(side) = self.tcp.get_mut(idx) {
            side.stopped = true;
            side.buf = Vec::new();
        }
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&SipTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Frees the transactions before `id` (those inspected).
    pub fn remove_before(&mut self, id: u64) {
        self.txs.retain(|t| t.id >= id);
    }
}

/// Whether `first_bytes` start like a SIP message of the given direction:
/// a request line ending in a SIP version (to the server), or a status
/// line (to the client). Used for protocol detection, port-agnostic; the
/// first line must be complete.
pub fn probe(first_bytes: &[u8], to_server: bool) -> bool {
    let Some((line, _)) = line_at(first_bytes, 0) else {
        return false;
    };
    if to_server {
        parse_request_line(line).is_some()
    } else {
        parse_status_line(line).is_some()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// An INVITE with an SDP body, as RFC 3261 §24.2 lays one out (the
    /// body's length given by Content-Length).
    fn invite(body: &str) -> Vec<u8> {
        format!(
            "INVITE sip:bob@biloxi.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
             t: Bob <sip:bob@biloxi.com>\r\n\
             From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
             Content-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn datagram_request_and_frames() {
        let mut s = SipState::new(SipConfig {
            frames: true,
            ..SipConfig::default()
        });
        let dgram = invite("v=0\r\no=alice 1 1 IN IP4 1.2.3.4\r\n");
        let mut ev = Vec::new();
        s.parse_datagram(Direction::ToServer, &dgram, &mut ev);
        assert_eq!(ev.len(), 1);
        let tx = s.transaction(ev[0].id).unwrap();
        let m = &tx.message;
        let r = m.request.as_ref().unwrap();
        assert_eq!(r.method, b"INVITE");
        assert_eq!(r.uri, b"sip:bob@biloxi.com");
        assert_eq!(r.version, b"SIP/2.0");
        assert_eq!(m.start_line, b"INVITE sip:bob@biloxi.com SIP/2.0");
        assert_eq!(
            m.header_values("to").collect::<Vec<_>>(),
            [&b"Bob <sip:bob@biloxi.com>"[..]]
        );
        assert_eq!(m.content_length(), Some(33));
        let frames = s.frames.take();
        let kinds: Vec<&str> = frames.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            ["pdu", "request.line", "request.headers", "request.body"]
        );
        assert_eq!(frames[0].data, dgram);
        assert_eq!(frames[1].data, b"INVITE sip:bob@biloxi.com SIP/2.0\r\n");
        assert!(frames[2].data.starts_with(b"Via:"));
        assert!(frames[2].data.ends_with(b"Content-Length: 33\r\n"));
        assert_eq!(frames[3].data, b"v=0\r\no=alice 1 1 IN IP4 1.2.3.4\r\n");
        let total: u64 = frames[1..].iter().map(|f| f.len).sum::<u64>() + 2;
        assert_eq!(total, frames[0].len);
    }

    #[test]
    fn responses_only_to_the_client() {
        let mut s = SipState::new(SipConfig::default());
        let mut ev = Vec::new();
        let resp = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP x\r\nContent-Length: 0\r\n\r\n";
        s.parse_datagram(Direction::ToServer, resp, &mut ev);
        s.parse_datagram(Direction::ToClient, &invite(""), &mut ev);
        assert!(ev.is_empty());
        assert_eq!(s.invalid, 2);
        s.parse_datagram(Direction::ToClient, resp, &mut ev);
        let st = s
            .transaction(ev[0].id)
            .unwrap()
            .message
            .response
            .clone()
            .unwrap();
        assert_eq!(
            (st.code.as_slice(), st.reason.as_slice()),
            (&b"180"[..], &b"Ringing"[..])
        );
    }

    #[test]
    fn tcp_messages_split_anywhere() {
        let mut stream = invite("abc");
        stream.extend_from_slice(&invite(""));
        for step in [1usize, 7, 1000] {
            let mut s = SipState::new(SipConfig {
                frames: true,
                ..SipConfig::default()
            });
            let mut ev = Vec::new();
            for chunk in stream.chunks(step) {
                s.feed_tcp(Direction::ToServer, chunk, &mut ev);
            }
            assert_eq!(ev.len(), 2, "step {step}");
            let frames = s.frames.take();
            let pdus: Vec<(u64, u64)> = frames
                .iter()
                .filter(|f| f.kind == "pdu")
                .map(|f| (f.offset, f.len))
                .collect();
            let first = invite("abc").len() as u64;
            assert_eq!(pdus, [(0, first), (first, invite("").len() as u64)]);
            let body: Vec<&[u8]> = frames
                .iter()
                .filter(|f| f.kind == "request.body")
                .map(|f| f.data.as_slice())
                .collect();
            assert_eq!(body, [&b"abc"[..]]);
        }
    }

    #[test]
    fn tcp_garbage_stops_the_direction_and_long_bodies_are_cut() {
        let mut s = SipState::new(SipConfig::default());
        let mut ev = Vec::new();
        s.feed_tcp(Direction::ToServer, b"\x16\x03\x01 hello\r\n", &mut ev);
        s.feed_tcp(Direction::ToServer, &invite(""), &mut ev);
        assert!(ev.is_empty());

        let mut s = SipState::new(SipConfig {
            frames: true,
            ..SipConfig::default()
        });
        let big = MAX_FRAME_BYTES + 10;
        let head = format!("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: {big}\r\n\r\n");
        s.feed_tcp(Direction::ToServer, head.as_bytes(), &mut ev);
        let chunk = vec![b'x'; 4096];
        let mut sent = 0;
        while sent < big {
            let n = chunk.len().min(big - sent);
            s.feed_tcp(Direction::ToServer, &chunk[..n], &mut ev);
            sent += n;
        }
        s.feed_tcp(Direction::ToServer, &invite(""), &mut ev);
        assert_eq!(ev.len(), 2);
        let frames = s.frames.take();
        let body = frames.iter().find(|f| f.kind == "request.body").unwrap();
        assert_eq!(body.len, big as u64);
        assert!(!body.complete);
        let last_pdu = frames.iter().rfind(|f| f.kind == "pdu").unwrap();
        assert_eq!(last_pdu.offset, (head.len() + big) as u64);
    }

    #[test]
    fn compact_and_folded_headers() {
        let cfg = SipConfig::default();
        let m = parse_head(
            b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a\r\nVIA: SIP/2.0/TCP b\r\n  ;rport\r\nl: 0\r\n\r\n",
            false,
            &cfg,
        )
        .unwrap();
        let via: Vec<&[u8]> = m.header_values("via").collect();
        assert_eq!(via, [&b"SIP/2.0/UDP a"[..], &b"SIP/2.0/TCP b ;rport"[..]]);
        assert_eq!(m.content_length(), Some(0));
        assert!(probe(b"OPTIONS sip:x SIP/2.0\r\n", true));
        assert!(!probe(b"OPTIONS / HTTP/1.1\r\n", true));
        assert!(probe(b"SIP/2.0 200 OK\r\n", false));
        assert!(!probe(b"HTTP/1.1 200 OK\r\n", false));
    }
}
