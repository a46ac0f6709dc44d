//! DNS messages (RFC 1035) over UDP datagrams and TCP streams, parsed for
//! inspection.
//!
//! [`parse_message`] turns one message into a [`DnsMessage`]: header flags,
//! questions, and the answer, authority and additional records with the
//! common record data decoded (A, AAAA, CNAME, NS, PTR, MX, TXT, SOA).
//! Like Suricata's DNS parser it is lenient: a message whose counts lie, a
//! name with a bad label type or a truncated record still yields whatever
//! was read before the problem, and the problem is recorded as a
//! [`DnsAnomaly`] (named after Suricata's `dns.*` app-layer events). Only
//! input shorter than the fixed 12-byte header is refused ([`DnsError`]):
//! it cannot be DNS.
//!
//! Names are the attack surface of DNS parsers, so their reading is bounded
//! three ways: at most [`MAX_POINTER_JUMPS`] compression pointers are
//! followed, and each must point strictly before the pointer itself (so a
//! pointer loop cannot exist, and a forward pointer is flagged as
//! [`DnsAnomaly::InfiniteLoop`]); a name is cut at [`MAX_NAME_LEN`] bytes
//! ([`DnsAnomaly::NameTooLong`]); labels are at most 63 bytes by
//! construction (6 length bits, the other two are the label type).
//!
//! [`DnsFlowState`] follows one flow: it pairs responses with requests by
//! transaction id (bounded by [`DnsConfig::max_transactions`]) and, for
//! DNS over TCP, splits the stream at the 2-byte length prefixes
//! ([`DnsTcpFramer`]).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::frame::FrameSink;

/// Longest name kept, in presentation bytes without the final dot (RFC 1035
/// allows 255 octets on the wire, which is at most 253 presentation bytes).
pub const MAX_NAME_LEN: usize = 255;

/// Compression pointers followed per name. Real names need one or two; a
/// chain longer than this is flagged and cut.
pub const MAX_POINTER_JUMPS: usize = 16;

/// Why a byte string is not a DNS message at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Fewer bytes than the 12-byte header.
    #[error("DNS message of {0} bytes is shorter than the 12-byte header")]
    TooShort(usize),
}

/// A deviation from RFC 1035 found while parsing. [`DnsAnomaly::event_name`]
/// gives Suricata's app-layer event name where Suricata has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsAnomaly {
    /// A length field or count points past the end of the message, a label
    /// has a reserved type, or record data does not fit its type.
    MalformedData,
    /// A message with the response flag travelled to the server.
    NotRequest,
    /// A message without the response flag travelled to the client.
    NotResponse,
    /// The reserved Z bit of the header is set.
    ZFlagSet,
    /// An opcode no RFC assigns (3, or 7 and above).
    InvalidOpcode,
    /// A response whose id matches no outstanding request.
    UnsolicitedResponse,
    /// A compression pointer pointed forward (or at itself), or more than
    /// [`MAX_POINTER_JUMPS`] pointers were chained: the name was cut.
    InfiniteLoop,
    /// A name longer than [`MAX_NAME_LEN`]: it was truncated.
    NameTooLong,
    /// More records than [`DnsConfig::max_records`]: the rest were skipped.
    TooManyRecords,
    /// More outstanding requests than [`DnsConfig::max_transactions`]: the
    /// oldest was dropped (Suricata's "flooded").
    Flooded,
    /// A TCP message length prefix of zero or past the configured cap.
    InvalidTcpLength,
}

impl DnsAnomaly {
    /// The `app-layer-event:dns.<name>` name Suricata uses (or a name in
    /// the same style where Suricata has none).
    pub fn event_name(self) -> &'static str {
        match self {
            DnsAnomaly::MalformedData => "malformed_data",
            DnsAnomaly::NotRequest => "not_request",
            DnsAnomaly::NotResponse => "not_response",
            DnsAnomaly::ZFlagSet => "z_flag_set",
            DnsAnomaly::InvalidOpcode => "invalid_opcode",
            // Suricata's own spelling.
            DnsAnomaly::UnsolicitedResponse => "unsollicited_response",
            DnsAnomaly::InfiniteLoop => "infinite_loop",
            DnsAnomaly::NameTooLong => "name_too_long",
            DnsAnomaly::TooManyRecords => "too_many_records",
            DnsAnomaly::Flooded => "flooded",
            DnsAnomaly::InvalidTcpLength => "invalid_tcp_length",
        }
    }
}

/// Limits of the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// Records (questions included) decoded per message (default 512);
    /// the rest are skipped as [`DnsAnomaly::TooManyRecords`]. A 64 KiB
    /// message could otherwise hold 13,000 questions.
    pub max_records: usize,
    /// Transactions held per flow (default 64): requests waiting for their
    /// response, and completed ones not yet released.
    pub max_transactions: usize,
    /// Report each message as a `pdu` frame ([`DnsFlowState::frames`]):
    /// only rules on `frame:dns.pdu` need them, so the copy is made only
    /// for those.
    pub frames: bool,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            max_records: 512,
            max_transactions: 64,
            frames: false,
        }
    }
}

/// The fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DnsHeader {
    /// Transaction id.
    pub id: u16,
    /// The flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub flags: u16,
    /// Counts as the header states them (may exceed what was parsed).
    pub qdcount: u16,
    /// Answer count as stated.
    pub ancount: u16,
    /// Authority count as stated.
    pub nscount: u16,
    /// Additional count as stated.
    pub arcount: u16,
}

impl DnsHeader {
    /// QR: the message is a response.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// The 4-bit opcode (0 query, 4 notify, 5 update, ...).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
    /// The 4-bit response code.
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }
    /// Authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// Truncated.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// The reserved Z bit.
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// The name, labels joined by `.`, bytes as sent (no escaping): what
    /// Suricata's `dns.query` buffer holds.
    pub name: Vec<u8>,
    /// Query type.
    pub rrtype: u16,
    /// Query class.
    pub rrclass: u16,
}

/// Decoded record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRdata {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// A name: CNAME, NS, PTR (and DNAME).
    Name(Vec<u8>),
    /// MX preference and exchange.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange name.
        exchange: Vec<u8>,
    },
    /// TXT character strings.
    Txt(Vec<Vec<u8>>),
    /// SOA fields.
    Soa {
        /// Primary name server.
        mname: Vec<u8>,
        /// Responsible mailbox.
        rname: Vec<u8>,
        /// Serial, refresh, retry, expire, minimum.
        values: [u32; 5],
    },
    /// Any other type, or data that did not decode as its type: the raw
    /// bytes.
    Raw(Vec<u8>),
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name.
    pub name: Vec<u8>,
    /// Type.
    pub rrtype: u16,
    /// Class.
    pub rrclass: u16,
    /// Time to live.
    pub ttl: u32,
    /// The data.
    pub rdata: DnsRdata,
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsMessage {
    /// The header.
    pub header: DnsHeader,
    /// Questions.
    pub queries: Vec<DnsQuestion>,
    /// Answers.
    pub answers: Vec<DnsRecord>,
    /// Authority records.
    pub authorities: Vec<DnsRecord>,
    /// Additional records (the EDNS OPT pseudo-record included).
    pub additionals: Vec<DnsRecord>,
    /// What was odd, each kind once.
    pub anomalies: Vec<DnsAnomaly>,
    /// Parsing stopped before the sections the header announced were all
    /// read (a question or record ran past the end, or the record cap was
    /// hit): Suricata's parser rejects such a message as a whole, so it
    /// makes no transaction there and no `dns` record.
    pub truncated: bool,
}

impl DnsMessage {
    fn flag(&mut self, a: DnsAnomaly) {
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }
}

/// A bounds-checked reader over the whole message (names need the whole
/// message to follow compression pointers).
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u16(&mut self) -> Option<u16> {
        let b = self.bytes(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Some(u32::from_be_bytes(a))
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.msg.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }
}

/// What reading a name found wrong, besides running off the message.
#[derive(Default)]
struct NameFlags {
    looped: bool,
    too_long: bool,
}

/// Reads a possibly compressed name starting at `r.pos`; leaves `r.pos`
/// after the name as it appears at that position (after the first
/// pointer, or after the terminating zero). `None` when the name runs off
/// the message or uses a reserved label type.
fn read_name(r: &mut Reader<'_>, flags: &mut NameFlags) -> Option<Vec<u8>> {
    let mut name = Vec::new();
    let mut pos = r.pos;
    let mut resume: Option<usize> = None;
    let mut jumps = 0usize;
    loop {
        let len = *r.msg.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                pos += 1;
                break;
            }
            0x00 => {
                let start = pos + 1;
                let label = r.msg.get(start..start + usize::from(len))?;
                if !flags.too_long {
                    let extra = usize::from(!name.is_empty()) + label.len();
                    if name.len() + extra > MAX_NAME_LEN {
                        flags.too_long = true;
                    } else {
                        if !name.is_empty() {
                            name.push(b'.');
                        }
                        name.extend_from_slice(label);
                    }
                }
                pos = start + usize::from(len);
            }
            0xc0 => {
                let low = *r.msg.get(pos + 1)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if resume.is_none() {
                    resume = Some(pos + 2);
                }
                jumps += 1;
                // Only backward pointers: every jump strictly decreases
                // the position, so no loop can exist; the jump cap bounds
                // the work of a long backward chain.
                if target >= pos || jumps > MAX_POINTER_JUMPS {
                    flags.looped = true;
                    break;
                }
                pos = target;
            }
            // 0x40 (extended label, RFC 6891 deprecated) and 0x80 (reserved).
            _ => return None,
        }
    }
    r.pos = resume.unwrap_or(pos);
    Some(name)
}

/// Parses one DNS message. Never panics; everything odd becomes a
/// [`DnsAnomaly`] on the result.
pub fn parse_message(msg: &[u8], cfg: &DnsConfig) -> Result<DnsMessage, DnsError> {
    let mut r = Reader { msg, pos: 0 };
    let (Some(id), Some(flags), Some(qd), Some(an), Some(ns), Some(ar)) =
        (r.u16(), r.u16(), r.u16(), r.u16(), r.u16(), r.u16())
    else {
        return Err(DnsError::TooShort(msg.len()));
    };
    let mut m = DnsMessage {
        header: DnsHeader {
            id,
            flags,
            qdcount: qd,
            ancount: an,
            nscount: ns,
            arcount: ar,
        },
        ..DnsMessage::default()
    };
    if m.header.z() {
        m.flag(DnsAnomaly::ZFlagSet);
    }
    if matches!(m.header.opcode(), 3 | 7..) {
        m.flag(DnsAnomaly::InvalidOpcode);
    }
    let mut budget = cfg.max_records;
    let mut nf = NameFlags::default();
    let mut ok = true;
    for _ in 0..qd {
        if budget == 0 {
            m.flag(DnsAnomaly::TooManyRecords);
            ok = false;
            break;
        }
        budget -= 1;
        let q = read_name(&mut r, &mut nf).and_then(|name| {
            Some(DnsQuestion {
                name,
                rrtype: r.u16()?,
                rrclass: r.u16()?,
            })
        });
        match q {
            Some(q) => m.queries.push(q),
            None => {
                m.flag(DnsAnomaly::MalformedData);
                ok = false;
                break;
            }
        }
    }
    for (count, section) in [(an, 0), (ns, 1), (ar, 2)] {
        if !ok {
            break;
        }
        for _ in 0..count {
            if budget == 0 {
                m.flag(DnsAnomaly::TooManyRecords);
                ok = false;
                break;
            }
            budget -= 1;
            match read_record(&mut r, &mut nf) {
                Some((rec, well_formed)) => {
                    if !well_formed {
                        m.flag(DnsAnomaly::MalformedData);
                    }
                    match section {
                        0 => m.answers.push(rec),
                        1 => m.authorities.push(rec),
                        _ => m.additionals.push(rec),
                    }
                }
                None => {
                    m.flag(DnsAnomaly::MalformedData);
                    ok = false;
                    break;
                }
            }
        }
    }
    m.truncated = !ok;
    if nf.looped {
        m.flag(DnsAnomaly::InfiniteLoop);
    }
    if nf.too_long {
        m.flag(DnsAnomaly::NameTooLong);
    }
    Ok(m)
}

/// Reads one resource record; the flag says whether its data decoded as
/// its type (when not, the raw bytes are kept).
fn read_record(r: &mut Reader<'_>, nf: &mut NameFlags) -> Option<(DnsRecord, bool)> {
    let name = read_name(r, nf)?;
    let rrtype = r.u16()?;
    let rrclass = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = usize::from(r.u16()?);
    let start = r.pos;
    let raw = r.bytes(rdlen)?;
    let end = r.pos;
    // Names inside rdata may point anywhere before them in the message,
    // so they are read with a reader over the whole message, limited to
    // this record's data.
    let mut sub = Reader {
        msg: r.msg.get(..end)?,
        pos: start,
    };
    let decoded = match rrtype {
        1 => <[u8; 4]>::try_from(raw).ok().map(|a| DnsRdata::A(a.into())),
        28 => <[u8; 16]>::try_from(raw)
            .ok()
            .map(|a| DnsRdata::Aaaa(a.into())),
        2 | 5 | 12 | 39 => read_name(&mut sub, nf).map(DnsRdata::Name),
        15 => sub.u16().and_then(|preference| {
            Some(DnsRdata::Mx {
                preference,
                exchange: read_name(&mut sub, nf)?,
            })
        }),
        16 => {
            let mut strings = Vec::new();
            let mut i = 0usize;
            let mut good = true;
            while i < raw.len() {
                let n = usize::from(raw.get(i).copied().unwrap_or(0));
                match raw.get(i + 1..i + 1 + n) {
                    Some(s) => strings.push(s.to_vec()),
                    None => {
                        good = false;
                        break;
                    }
                }
                i += 1 + n;
            }
            good.then_some(DnsRdata::Txt(strings))
        }
        6 => (|| {
            let mname = read_name(&mut sub, nf)?;
            let rname = read_name(&mut sub, nf)?;
            let mut values = [0u32; 5];
            for v in &mut values {
                *v = sub.u32()?;
            }
            Some(DnsRdata::Soa {
                mname,
                rname,
                values,
            })
        })(),
        _ => Some(DnsRdata::Raw(raw.to_vec())),
    };
    let well_formed = decoded.is_some();
    let rdata = decoded.unwrap_or_else(|| DnsRdata::Raw(raw.to_vec()));
    Some((
        DnsRecord {
            name,
            rrtype,
            rrclass,
            ttl,
            rdata,
        },
        well_formed,
    ))
}

/// Whether a payload on the DNS port looks like DNS (Suricata's probing,
/// roughly): a whole header, and a request has a question that parsed
/// (a response may have none). Odd opcodes and flags do not disqualify a
/// message: they are anomalies of a DNS flow.
pub fn probe(payload: &[u8]) -> bool {
    let Ok(m) = parse_message(payload, &DnsConfig::default()) else {
        return false;
    };
    let malformed = m.anomalies.contains(&DnsAnomaly::MalformedData);
    (m.header.qdcount != 0 || m.header.is_response()) && (!malformed || !m.queries.is_empty())
}

/// The short name of a record type, as Suricata's EVE writes `rrtype`.
pub fn rrtype_name(t: u16) -> String {
    let s = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return t.to_string(),
    };
    s.to_string()
}

/// The name of a response code, as Suricata's EVE writes `rcode`.
pub fn rcode_name(rcode: u8) -> String {
    let s = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return rcode.to_string(),
    };
    s.to_string()
}

/// Splits one direction of a DNS-over-TCP stream into messages at their
/// 2-byte length prefixes. Holds at most one message (64 KiB + 2).
#[derive(Debug, Default, Clone)]
pub struct DnsTcpFramer {
    buf: Vec<u8>,
    /// Stream bytes fed so far.
    fed: u64,
}

impl DnsTcpFramer {
    /// Appends stream bytes and hands every complete message to `out`.
    /// A zero length prefix is reported as an anomaly and skipped.
    pub fn feed(&mut self, data: &[u8], mut out: impl FnMut(Result<&[u8], DnsAnomaly>)) {
        self.feed_at(data, |r| out(r.map(|(_, m)| m)));
    }

    /// [`DnsTcpFramer::feed`], with each message's offset in the stream
    /// (just past its length prefix).
    pub fn feed_at(&mut self, data: &[u8], mut out: impl FnMut(Result<(u64, &[u8]), DnsAnomaly>)) {
        self.buf.extend_from_slice(data);
        self.fed += data.len() as u64;
        let base = self.fed - self.buf.len() as u64;
        let mut start = 0usize;
        while let Some(&[hi, lo]) = self.buf.get(start..start + 2) {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if len == 0 {
                out(Err(DnsAnomaly::InvalidTcpLength));
                start += 2;
                continue;
            }
            match self.buf.get(start + 2..start + 2 + len) {
                Some(msg) => {
                    out(Ok((base + start as u64 + 2, msg)));
                    start += 2 + len;
                }
                None => break,
            }
        }
        self.buf.drain(..start.min(self.buf.len()));
    }
}

/// Which way a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsDirection {
    /// Client to server (requests).
    ToServer,
    /// Server to client (responses).
    ToClient,
}

/// A request and, once seen, its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTransaction {
    /// Id of this transaction in its flow (not the DNS id).
    pub id: u64,
    /// The request, when one was seen.
    pub request: Option<DnsMessage>,
    /// The response, when one was seen.
    pub response: Option<DnsMessage>,
    /// Number of the request among the flow's parsed messages (from 0):
    /// Suricata 7 makes each message a transaction, and EVE's `tx_id`
    /// counts them so.
    pub request_seq: u64,
    /// Number of the response among the flow's parsed messages.
    pub response_seq: u64,
}

/// A side of a transaction that became ready for inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsEvent {
    /// The request of transaction `id` was parsed.
    Request(u64),
    /// The response of transaction `id` was parsed.
    Response(u64),
    /// A datagram or TCP frame was not DNS (shorter than a header).
    NotDns,
}

/// The DNS state of one flow: transactions paired by DNS id, and the TCP
/// framers when the flow is DNS over TCP.
#[derive(Debug, Default)]
pub struct DnsFlowState {
    cfg: DnsConfig,
    txs: VecDeque<DnsTransaction>,
    next_id: u64,
    /// Messages parsed so far (the next message's number).
    messages: u64,
    framers: [DnsTcpFramer; 2],
    /// Flow-level anomalies (flooding, TCP framing), each counted.
    pub anomaly_counts: Vec<(DnsAnomaly, u64)>,
    /// The `pdu` frame of every message (a datagram's payload, a TCP
    /// message without its length prefix), when [`DnsConfig::frames`]
    /// asks for them.
    pub frames: FrameSink,
}

impl DnsFlowState {
    /// A state with the given limits.
    pub fn new(cfg: DnsConfig) -> Self {
        DnsFlowState {
            frames: FrameSink::new(cfg.frames),
            cfg,
            ..DnsFlowState::default()
        }
    }

    fn count(&mut self, a: DnsAnomaly) {
        match self.anomaly_counts.iter_mut().find(|(k, _)| *k == a) {
            Some((_, n)) => *n += 1,
            None => self.anomaly_counts.push((a, 1)),
        }
    }

    /// Parses one message (a UDP datagram's payload, or a TCP frame).
    pub fn parse(&mut self, dir: DnsDirection, msg: &[u8], events: &mut Vec<DnsEvent>) {
        self.parse_at(dir, msg, 0, events);
    }

    /// [`DnsFlowState::parse`] of a message at `offset` of its stream.
    fn parse_at(&mut self, dir: DnsDirection, msg: &[u8], offset: u64, events: &mut Vec<DnsEvent>) {
        // The message is a frame whether or not it parses, as in Suricata.
        let frame_dir = match dir {
            DnsDirection::ToServer => crate::http::Direction::ToServer,
            DnsDirection::ToClient => crate::http::Direction::ToClient,
        };
        self.frames.push("pdu", frame_dir, offset, msg);
        let Ok(mut m) = parse_message(msg, &self.cfg) else {
            events.push(DnsEvent::NotDns);
            return;
        };
        let dns_id = m.header.id;
        let seq = self.messages;
        self.messages += 1;
        if m.header.is_response() {
            if dir == DnsDirection::ToServer {
                m.flag(DnsAnomaly::NotRequest);
            }
            let pending = self.txs.iter_mut().find(|t| {
                t.response.is_none() && t.request.as_ref().is_some_and(|q| q.header.id == dns_id)
            });
            match pending {
                Some(tx) => {
                    tx.response = Some(m);
                    tx.response_seq = seq;
                    events.push(DnsEvent::Response(tx.id));
                }
                None => {
                    m.flag(DnsAnomaly::UnsolicitedResponse);
                    let id = self.push(None, Some(m), seq);
                    events.push(DnsEvent::Response(id));
                }
            }
        } else {
            if dir == DnsDirection::ToClient {
                m.flag(DnsAnomaly::NotResponse);
            }
            let id = self.push(Some(m), None, seq);
            events.push(DnsEvent::Request(id));
        }
    }

    /// Feeds DNS-over-TCP stream data of one direction.
    pub fn feed_tcp(&mut self, dir: DnsDirection, data: &[u8], events: &mut Vec<DnsEvent>) {
        let [to_server, to_client] = &mut self.framers;
        let framer = match dir {
            DnsDirection::ToServer => to_server,
            DnsDirection::ToClient => to_client,
        };
        let mut msgs: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut bad = 0u64;
        framer.feed_at(data, |m| match m {
            Ok((at, m)) => msgs.push((at, m.to_vec())),
            Err(_) => bad += 1,
        });
        for _ in 0..bad {
            self.count(DnsAnomaly::InvalidTcpLength);
        }
        for (at, m) in msgs {
            self.parse_at(dir, &m, at, events);
        }
    }

    fn push(&mut self, request: Option<DnsMessage>, response: Option<DnsMessage>, seq: u64) -> u64 {
        if self.txs.len() >= self.cfg.max_transactions.max(1) {
            self.txs.pop_front();
            self.count(DnsAnomaly::Flooded);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(DnsTransaction {
            id,
            request,
            response,
            request_seq: seq,
            response_seq: seq,
        });
        id
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&DnsTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Frees transactions that have their response (their request, if
    /// any, was inspected when it arrived). Requests still waiting for an
    /// answer stay, up to the transaction cap.
    pub fn remove_completed(&mut self) {
        self.txs.retain(|t| t.response.is_none());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A query for www.example.com A laid out as `dig` sends it (RD and AD
    /// set, an EDNS OPT record in the additional section), assembled by
    /// hand from RFC 1035 / RFC 6891.
    const QUERY: &[u8] = &[
        0x3e, 0x5b, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, b'w', b'w',
        b'w', 0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'c', b'o', b'm', 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn response() -> Vec<u8> {
        // The answer to QUERY: a CNAME then an A record, both names
        // compressed against the question.
        let mut m = QUERY[..29].to_vec();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 2; // ancount
        m[11] = 0; // no additional
        m.extend_from_slice(&[0x00, 0x01, 0x00, 0x01]);
        // www.example.com CNAME example.com (pointer to offset 16)
        m.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10]);
        m.extend_from_slice(&[0x00, 0x02, 0xc0, 0x10]);
        // example.com A 93.184.216.34
        m.extend_from_slice(&[0xc0, 0x10, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10]);
        m.extend_from_slice(&[0x00, 0x04, 93, 184, 216, 34]);
        m
    }

    #[test]
    fn parses_query() {
        let m = parse_message(QUERY, &DnsConfig::default()).unwrap();
        assert_eq!(m.header.id, 0x3e5b);
        assert!(!m.header.is_response());
        assert!(m.header.rd());
        assert_eq!(m.header.opcode(), 0);
        assert_eq!(m.queries.len(), 1);
        assert_eq!(m.queries[0].name, b"www.example.com");
        assert_eq!(m.queries[0].rrtype, 1);
        assert_eq!(m.additionals.len(), 1);
        assert_eq!(m.additionals[0].rrtype, 41);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn parses_compressed_answers() {
        let m = parse_message(&response(), &DnsConfig::default()).unwrap();
        assert!(m.header.is_response());
        assert_eq!(m.header.rcode(), 0);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.answers[0].name, b"www.example.com");
        assert_eq!(m.answers[0].rdata, DnsRdata::Name(b"example.com".to_vec()));
        assert_eq!(m.answers[1].name, b"example.com");
        assert_eq!(
            m.answers[1].rdata,
            DnsRdata::A(Ipv4Addr::new(93, 184, 216, 34))
        );
        assert_eq!(m.answers[1].ttl, 3600);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn pointer_loop_is_bounded_and_flagged() {
        // A question whose name is a pointer to itself, and one pointing
        // forward to a pointer back to it: both cut, flagged, no hang.
        let mut m = vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
        m.extend_from_slice(&[0xc0, 0x14, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x12]);
        let p = parse_message(&m, &DnsConfig::default()).unwrap();
        assert!(p.anomalies.contains(&DnsAnomaly::InfiniteLoop));
        assert_eq!(p.queries.len(), 2);
        assert_eq!(p.queries[0].name, b"");
    }

    #[test]
    fn long_backward_chain_is_cut() {
        // 40 pointers, each to the previous one: followed at most
        // MAX_POINTER_JUMPS times.
        let mut m = vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0x01, b'a', 0x00]);
        let mut prev = 12u16;
        for _ in 0..40 {
            let here = m.len() as u16;
            m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            prev = here;
        }
        // A name that starts at the last pointer of the chain.
        let q = m.len();
        m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
        let mut r = Reader { msg: &m, pos: q };
        let mut nf = NameFlags::default();
        let name = read_name(&mut r, &mut nf).unwrap();
        assert!(nf.looped);
        assert_eq!(name, b"");
        assert_eq!(r.pos, q + 2);
    }

    #[test]
    fn long_name_truncated() {
        let mut m = vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        for _ in 0..5 {
            m.push(63);
            m.extend(std::iter::repeat_n(b'x', 63));
        }
        m.push(0);
        m.extend_from_slice(&[0, 1, 0, 1]);
        let p = parse_message(&m, &DnsConfig::default()).unwrap();
        assert!(p.anomalies.contains(&DnsAnomaly::NameTooLong));
        assert!(p.queries[0].name.len() <= MAX_NAME_LEN);
        assert_eq!(p.queries[0].name.len(), 4 * 63 + 3);
    }

    #[test]
    fn lying_counts_are_malformed_not_fatal() {
        let mut m = QUERY.to_vec();
        m[5] = 9; // nine questions, one present
        let p = parse_message(&m, &DnsConfig::default()).unwrap();
        // The OPT record and six zero bytes read as two more questions.
        assert_eq!(p.queries.len(), 3);
        assert_eq!(p.queries[0].name, b"www.example.com");
        assert!(p.anomalies.contains(&DnsAnomaly::MalformedData));
        assert_eq!(
            parse_message(&QUERY[..5], &DnsConfig::default()),
            Err(DnsError::TooShort(5))
        );
    }

    #[test]
    fn too_many_records_capped() {
        let mut m = vec![0x00, 0x01, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0];
        for _ in 0..2000 {
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
        }
        let cfg = DnsConfig {
            max_records: 100,
            ..DnsConfig::default()
        };
        let p = parse_message(&m, &cfg).unwrap();
        assert_eq!(p.queries.len(), 100);
        assert!(p.anomalies.contains(&DnsAnomaly::TooManyRecords));
    }

    #[test]
    fn pairs_requests_and_responses() {
        let mut st = DnsFlowState::default();
        let mut ev = Vec::new();
        st.parse(DnsDirection::ToServer, QUERY, &mut ev);
        st.parse(DnsDirection::ToClient, &response(), &mut ev);
        assert_eq!(ev, vec![DnsEvent::Request(0), DnsEvent::Response(0)]);
        let tx = st.transaction(0).unwrap();
        assert!(tx.request.is_some() && tx.response.is_some());
        st.remove_completed();
        assert!(st.transaction(0).is_none());
        // An answer nobody asked for.
        ev.clear();
        st.parse(DnsDirection::ToClient, &response(), &mut ev);
        let tx = st.transaction(1).unwrap();
        assert!(tx
            .response
            .as_ref()
            .unwrap()
            .anomalies
            .contains(&DnsAnomaly::UnsolicitedResponse));
    }

    #[test]
    fn tcp_framing_across_chunks() {
        let mut st = DnsFlowState::default();
        let mut stream = (QUERY.len() as u16).to_be_bytes().to_vec();
        stream.extend_from_slice(QUERY);
        stream.extend_from_slice(&(QUERY.len() as u16).to_be_bytes());
        stream.extend_from_slice(QUERY);
        let mut ev = Vec::new();
        for chunk in stream.chunks(7) {
            st.feed_tcp(DnsDirection::ToServer, chunk, &mut ev);
        }
        assert_eq!(ev, vec![DnsEvent::Request(0), DnsEvent::Request(1)]);
    }

    #[test]
    fn flooding_is_bounded() {
        let mut st = DnsFlowState::new(DnsConfig {
            max_transactions: 4,
            ..DnsConfig::default()
        });
        let mut ev = Vec::new();
        for _ in 0..10 {
            st.parse(DnsDirection::ToServer, QUERY, &mut ev);
        }
        assert_eq!(st.txs.len(), 4);
        assert_eq!(st.anomaly_counts, vec![(DnsAnomaly::Flooded, 6)]);
    }

    #[test]
    fn probe_accepts_dns_only() {
        assert!(probe(QUERY));
        assert!(probe(&response()));
        assert!(!probe(b"GET / HTTP/1.1\r\n"));
        assert!(!probe(&[0u8; 12]));
    }
}
