//! QUIC over UDP as Suricata 7 inspects it: every long-header packet of a
//! datagram (coalesced packets included) is a transaction holding its
//! version; Initial packets are decrypted (RFC 9001 §5, [`protection`])
//! and their CRYPTO frames reassembled into the TLS ClientHello or
//! ServerHello, which gives the SNI, the extensions and JA3/JA3S (the
//! hellos are read by [`crate::tls`]); Google QUIC's clear-text CHLO
//! gives the SNI, the user agent and the CYU fingerprint.
//!
//! Once a direction's hello was read, its later packets are encrypted
//! with keys no observer has and are not parsed any more; short-header
//! packets never are. A server's Retry discards the Initial keys (the
//! client starts again with a new connection ID).
//!
//! Bounds: the CRYPTO stream is reassembled up to [`MAX_CRYPTO_BYTES`]
//! per direction (beyond, `crypto_frag_too_long`), at most
//! [`MAX_DECRYPTED_PACKETS`] packets are decrypted per flow and
//! [`MAX_TRANSACTIONS`] transactions held. A packet that does not decrypt
//! or whose frames are malformed gets a transaction carrying
//! `failed_decrypt` or `error_on_data` and ends the datagram's parsing;
//! the next datagram is parsed as usual.

pub mod frames;
pub mod packet;
pub mod protection;

use std::collections::VecDeque;

use md5::{Digest, Md5};

use crate::tls::{ClientHello, ServerHello, TlsConfig, TlsDirection, TlsSession};
use frames::{Frame, TAG_SNI, TAG_UAID};
use packet::{is_gquic, parse_header, Header, PacketType};
use protection::{initial_keys, is_protected, InitialKeys};

/// Suricata's default QUIC detection ports.
pub const QUIC_PORTS: [u16; 2] = [443, 80];

/// CRYPTO stream bytes reassembled per direction at most (Suricata's
/// limit for a fragmented hello is 65,535 bytes too).
pub const MAX_CRYPTO_BYTES: u64 = 65_535;

/// Separate pieces of a direction's CRYPTO stream held at most.
pub const MAX_CRYPTO_RANGES: usize = 64;

/// Initial packets decrypted per flow at most: the hellos take a few, a
/// flow sending more Initial packets than this is not a handshake.
pub const MAX_DECRYPTED_PACKETS: u32 = 64;

/// Transactions held per flow at most; the oldest is dropped beyond.
pub const MAX_TRANSACTIONS: usize = 256;

/// Which way a packet travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicDirection {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

impl QuicDirection {
    fn index(self) -> usize {
        match self {
            QuicDirection::ToServer => 0,
            QuicDirection::ToClient => 1,
        }
    }

    fn tls(self) -> TlsDirection {
        match self {
            QuicDirection::ToServer => TlsDirection::ToServer,
            QuicDirection::ToClient => TlsDirection::ToClient,
        }
    }
}

/// Suricata's QUIC events (`app-layer-event:quic.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicAnomaly {
    /// An Initial packet that did not decrypt (or could not: no keys).
    FailedDecrypt,
    /// An Initial packet whose frames (or the hello in them) are
    /// malformed.
    ErrorOnData,
    /// A packet whose header does not parse (counted, not raised: like
    /// Suricata 7, no transaction carries it).
    ErrorOnHeader,
    /// CRYPTO data past [`MAX_CRYPTO_BYTES`] (or too fragmented).
    CryptoFragTooLong,
}

impl QuicAnomaly {
    /// The event name rules use.
    pub fn event_name(self) -> &'static str {
        match self {
            QuicAnomaly::FailedDecrypt => "failed_decrypt",
            QuicAnomaly::ErrorOnData => "error_on_data",
            QuicAnomaly::ErrorOnHeader => "error_on_header",
            QuicAnomaly::CryptoFragTooLong => "crypto_frag_too_long",
        }
    }
}

/// The `app-layer-event:quic.<name>` names of Suricata 7.
pub const QUIC_EVENTS: &[&str] = &[
    "failed_decrypt",
    "error_on_data",
    "error_on_header",
    "crypto_frag_too_long",
];

/// A TLS extension of a hello as EVE lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicTlsExtension {
    /// The type (GREASE types are written 64250, tls-parser's value).
    pub etype: u16,
    /// The values Suricata logs: the SNI, ALPN protocols, supported
    /// versions (tls-parser's names), signature algorithms (decimal).
    pub values: Vec<Vec<u8>>,
}

/// A Google QUIC CYU fingerprint: `<version>,<TAG-TAG-...>` and its MD5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cyu {
    /// The fingerprint string.
    pub string: String,
    /// Its MD5, lowercase hex.
    pub hash: String,
}

/// One QUIC packet (a long header, or a Google QUIC packet carrying a
/// version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicTransaction {
    /// Id in its flow, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// Which way the packet travelled.
    pub direction: QuicDirection,
    /// The packet type.
    pub packet_type: PacketType,
    /// The version.
    pub version: u32,
    /// The header is a long one (`quic.version` exists only then).
    pub long_header: bool,
    /// The SNI (TLS server_name, or Google QUIC's SNI tag).
    pub sni: Option<Vec<u8>>,
    /// Google QUIC's user agent (UAID tag).
    pub ua: Option<Vec<u8>>,
    /// JA3 (client) or JA3S (server) string of the hello read here.
    pub ja3: Option<String>,
    /// JA4 of a ClientHello read here.
    pub ja4: Option<String>,
    /// The hello's extensions in wire order.
    pub extensions: Vec<QuicTlsExtension>,
    /// Google QUIC CYU fingerprints (one per CHLO).
    pub cyu: Vec<Cyu>,
    /// Events raised on this packet.
    pub anomalies: Vec<QuicAnomaly>,
}

impl QuicTransaction {
    /// Whether the event `name` was raised on this transaction.
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
    }

    /// The client's side (a packet to the server).
    pub fn client(&self) -> bool {
        self.direction == QuicDirection::ToServer
    }

    /// The version's 4 bytes (`quic.version`), for long headers.
    pub fn version_bytes(&self) -> Option<[u8; 4]> {
        self.long_header.then(|| self.version.to_be_bytes())
    }

    /// The MD5 of the JA3/JA3S string, lowercase hex.
    pub fn ja3_hash(&self) -> Option<String> {
        self.ja3.as_deref().map(md5_hex)
    }
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a datagram looks like QUIC (Suricata's probing parser: its
/// first packet header parses).
pub fn probe(payload: &[u8]) -> bool {
    parse_header(payload).is_some()
}

/// One direction's CRYPTO stream: pieces held until they are contiguous
/// from offset 0, first copy wins on overlaps.
#[derive(Debug, Default)]
struct CryptoStream {
    buf: Vec<u8>,
    /// Held byte ranges, sorted and merged.
    ranges: Vec<(u64, u64)>,
    /// Bytes already handed to the TLS parser.
    delivered: u64,
}

impl CryptoStream {
    /// Adds a piece; `false` when it would pass the limits.
    fn insert(&mut self, offset: u64, data: &[u8]) -> bool {
        let Some(end) = offset.checked_add(data.len() as u64) else {
            return false;
        };
        if end > MAX_CRYPTO_BYTES {
            return false;
        }
        let start = offset.max(self.delivered);
        if start >= end {
            return true;
        }
        if self.buf.len() < end as usize {
            self.buf.resize(end as usize, 0);
        }
        let copy = |from: u64, to: u64, buf: &mut Vec<u8>| {
            let src = data.get((from - offset) as usize..(to - offset) as usize);
            let dst = buf.get_mut(from as usize..to as usize);
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
        };
        let mut pos = start;
        for &(a, b) in &self.ranges {
            if b <= pos {
                continue;
            }
            if a >= end {
                break;
            }
            if a > pos {
                copy(pos, a, &mut self.buf);
            }
            pos = pos.max(b);
        }
        if pos < end {
            copy(pos, end, &mut self.buf);
        }
        self.ranges.push((start, end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        if merged.len() > MAX_CRYPTO_RANGES {
            // Keep what was held before this piece.
            self.ranges.retain(|&r| r != (start, end));
            return false;
        }
        self.ranges = merged;
        true
    }

    /// The bytes that became contiguous since the last call.
    fn take_ready(&mut self) -> &[u8] {
        let from = self.delivered;
        let to = match self.ranges.first() {
            Some(&(0, b)) => b,
            _ => 0,
        };
        if to <= from {
            return &[];
        }
        self.delivered = to;
        self.buf.get(from as usize..to as usize).unwrap_or(&[])
    }

    fn release(&mut self) {
        *self = CryptoStream {
            delivered: self.delivered,
            ..CryptoStream::default()
        };
    }
}

/// The QUIC state of one flow.
#[derive(Debug)]
pub struct QuicState {
    keys: Option<InitialKeys>,
    /// A direction's hello was read: its later packets are not parsed.
    hello: [bool; 2],
    has_retried: bool,
    tls: TlsSession,
    crypto: [CryptoStream; 2],
    largest_pn: [Option<u64>; 2],
    decrypted: u32,
    txs: VecDeque<QuicTransaction>,
    next_id: u64,
    /// Datagrams (or their rest) whose header did not parse.
    pub header_errors: u64,
    /// Initial packets left undecrypted past [`MAX_DECRYPTED_PACKETS`].
    pub undecrypted: u64,
    /// Transactions dropped because the flow held too many.
    pub dropped: u64,
}

impl Default for QuicState {
    fn default() -> Self {
        QuicState::new()
    }
}

impl QuicState {
    /// An empty state.
    pub fn new() -> Self {
        QuicState {
            keys: None,
            hello: [false; 2],
            has_retried: false,
            tls: TlsSession::new(TlsConfig {
                max_handshake: MAX_CRYPTO_BYTES as usize,
                ..TlsConfig::default()
            }),
            crypto: [CryptoStream::default(), CryptoStream::default()],
            largest_pn: [None; 2],
            decrypted: 0,
            txs: VecDeque::new(),
            next_id: 0,
            header_errors: 0,
            undecrypted: 0,
            dropped: 0,
        }
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&QuicTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Transactions held, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &QuicTransaction> {
        self.txs.iter()
    }

    /// Frees the transactions before `id`.
    pub fn remove_before(&mut self, id: u64) {
        while self.txs.front().is_some_and(|t| t.id < id) {
            self.txs.pop_front();
        }
    }

    fn new_tx(&mut self, dir: QuicDirection, h: &Header) -> u64 {
        if self.txs.len() >= MAX_TRANSACTIONS {
            self.txs.pop_front();
            self.dropped += 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(QuicTransaction {
            id,
            direction: dir,
            packet_type: h.ty,
            version: h.version,
            long_header: h.long,
            sni: None,
            ua: None,
            ja3: None,
            ja4: None,
            extensions: Vec::new(),
            cyu: Vec::new(),
            anomalies: Vec::new(),
        });
        id
    }

    /// Parses one datagram's payload and appends the ids of the
    /// transactions it made to `ids`.
    pub fn parse(&mut self, dir: QuicDirection, datagram: &[u8], ids: &mut Vec<u64>) {
        let d = dir.index();
        let mut buf = datagram;
        while !buf.is_empty() {
            let Some(h) = parse_header(buf) else {
                self.header_errors += 1;
                return;
            };
            if self.hello.get(d).copied().unwrap_or(true) || h.ty == PacketType::Short {
                // Encrypted from here on, or nothing to read.
                return;
            }
            if self.keys.is_none()
                && h.ty == PacketType::Initial
                && dir == QuicDirection::ToServer
                && is_protected(h.version)
            {
                self.keys = initial_keys(h.version, &h.dcid);
            } else if dir == QuicDirection::ToClient
                && h.ty == PacketType::Retry
                && self.keys.is_some()
                && !self.has_retried
            {
                // The client starts over with the Retry's connection ID
                // (RFC 9000 §17.2.5.2: only the first Retry counts).
                self.keys = None;
                self.hello[0] = false;
                self.crypto[0] = CryptoStream::default();
                self.tls = TlsSession::new(TlsConfig {
                    max_handshake: MAX_CRYPTO_BYTES as usize,
                    ..TlsConfig::default()
                });
                self.largest_pn[0] = None;
                self.has_retried = true;
            }
            let end = h.header_len + h.payload_len;
            let packet = buf.get(..end).unwrap_or(buf);
            buf = buf.get(end..).unwrap_or(&[]);
            let id = self.new_tx(dir, &h);
            ids.push(id);
            if h.ty != PacketType::Initial {
                continue;
            }
            if !self.initial(dir, &h, packet) {
                return;
            }
        }
    }

    /// Reads an Initial packet into the transaction just made; `false`
    /// when it raised an event that ends the datagram.
    fn initial(&mut self, dir: QuicDirection, h: &Header, packet: &[u8]) -> bool {
        let d = dir.index();
        let plaintext;
        let frames_buf: &[u8] = if is_protected(h.version) && h.payload_len > 0 {
            if self.decrypted >= MAX_DECRYPTED_PACKETS {
                self.undecrypted += 1;
                return true;
            }
            let keys = self.keys.as_ref().map(|k| match dir {
                QuicDirection::ToServer => &k.client,
                QuicDirection::ToClient => &k.server,
            });
            let largest = self.largest_pn.get(d).copied().flatten();
            let opened = keys.and_then(|k| k.open(packet, h.header_len, largest));
            self.decrypted += 1;
            let Some(opened) = opened else {
                self.flag_last(QuicAnomaly::FailedDecrypt);
                return false;
            };
            if let Some(l) = self.largest_pn.get_mut(d) {
                *l = Some(l.map_or(opened.packet_number, |x| x.max(opened.packet_number)));
            }
            plaintext = opened.plaintext;
            &plaintext
        } else {
            packet.get(h.header_len..).unwrap_or(&[])
        };
        let Some(frames) = frames::parse_frames(frames_buf) else {
            self.flag_last(QuicAnomaly::ErrorOnData);
            return false;
        };
        let mut sni = None;
        let mut ua = None;
        let mut cyu = Vec::new();
        let mut too_long = false;
        let mut crypto_seen = false;
        for f in &frames {
            match f {
                Frame::Crypto { offset, data } => {
                    crypto_seen = true;
                    if let Some(c) = self.crypto.get_mut(d) {
                        too_long |= !c.insert(*offset, data);
                    }
                }
                Frame::GquicStream { tags: Some(tags) } => {
                    for (tag, value) in tags {
                        if *tag == TAG_SNI {
                            sni = Some(value.to_vec());
                        } else if *tag == TAG_UAID {
                            ua = Some(value.to_vec());
                        }
                    }
                    if let Some(c) = cyu_of(h.version, tags) {
                        cyu.push(c);
                    }
                }
                _ => {}
            }
        }
        let mut error = false;
        let mut hello = None;
        if crypto_seen {
            let ready = self
                .crypto
                .get_mut(d)
                .map(|c| c.take_ready().to_vec())
                .unwrap_or_default();
            let before = self.tls.anomaly_count;
            let had = self.has_hello(dir);
            let mut events = Vec::new();
            self.tls.feed_handshake(dir.tls(), &ready, &mut events);
            error = self.tls.anomaly_count != before;
            if !had && self.has_hello(dir) {
                hello = Some(self.hello_fields(dir));
                if let Some(x) = self.hello.get_mut(d) {
                    *x = true;
                }
                if let Some(c) = self.crypto.get_mut(d) {
                    c.release();
                }
            }
        }
        let Some(tx) = self.txs.back_mut() else {
            return true;
        };
        if too_long {
            tx.anomalies.push(QuicAnomaly::CryptoFragTooLong);
        }
        if let Some(HelloFields {
            sni: hs,
            ja3,
            ja4,
            extensions,
        }) = hello
        {
            tx.sni = hs;
            tx.ja3 = Some(ja3);
            tx.ja4 = ja4;
            tx.extensions = extensions;
        }
        if sni.is_some() {
            tx.sni = sni;
        }
        tx.ua = ua;
        tx.cyu = cyu;
        if error {
            tx.anomalies.push(QuicAnomaly::ErrorOnData);
            return false;
        }
        true
    }

    fn has_hello(&self, dir: QuicDirection) -> bool {
        match dir {
            QuicDirection::ToServer => self.tls.client_hello.is_some(),
            QuicDirection::ToClient => self.tls.server_hello.is_some(),
        }
    }

    fn hello_fields(&self, dir: QuicDirection) -> HelloFields {
        match dir {
            QuicDirection::ToServer => {
                let ch = self.tls.client_hello.clone().unwrap_or_default();
                HelloFields {
                    sni: ch.sni.clone(),
                    ja3: client_ja3(&ch),
                    ja4: Some(ch.ja4('q')),
                    extensions: client_extensions(&ch),
                }
            }
            QuicDirection::ToClient => {
                let sh = self.tls.server_hello.clone().unwrap_or_default();
                HelloFields {
                    sni: None,
                    ja3: server_ja3(&sh),
                    ja4: None,
                    extensions: server_extensions(&sh),
                }
            }
        }
    }

    fn flag_last(&mut self, a: QuicAnomaly) {
        if let Some(tx) = self.txs.back_mut() {
            tx.anomalies.push(a);
        }
    }
}

struct HelloFields {
    sni: Option<Vec<u8>>,
    ja3: String,
    ja4: Option<String>,
    extensions: Vec<QuicTlsExtension>,
}

/// GREASE values (RFC 8701).
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// tls-parser's number for every GREASE extension type, which Suricata's
/// QUIC logger and JA3 print.
const GREASE_EXTENSION: u16 = 0xfafa;

fn ext_type(t: u16) -> u16 {
    if is_grease(t) {
        GREASE_EXTENSION
    } else {
        t
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join("-")
}

/// The JA3 string Suricata computes for a QUIC ClientHello: like TLS's,
/// but GREASE values are kept (extension types as 64250).
fn client_ja3(ch: &ClientHello) -> String {
    format!(
        "{},{},{},{},{}",
        ch.version,
        join(ch.ciphers.iter()),
        join(ch.extensions.iter().map(|&t| ext_type(t))),
        join(ch.groups.iter()),
        join(ch.point_formats.iter()),
    )
}

/// The JA3S string of a QUIC ServerHello.
fn server_ja3(sh: &ServerHello) -> String {
    format!(
        "{},{},{}",
        sh.version,
        sh.cipher,
        join(sh.extensions.iter().map(|&t| ext_type(t)))
    )
}

fn version_value(v: u16) -> Vec<u8> {
    format!("{:?}", tls_parser::TlsVersion(v)).into_bytes()
}

fn client_extensions(ch: &ClientHello) -> Vec<QuicTlsExtension> {
    ch.extensions
        .iter()
        .map(|&t| QuicTlsExtension {
            etype: ext_type(t),
            values: match t {
                0 => ch.sni.iter().cloned().collect(),
                13 => ch
                    .signature_algorithms
                    .iter()
                    .map(|a| a.to_string().into_bytes())
                    .collect(),
                16 => ch.alpn.clone(),
                43 => ch
                    .supported_versions
                    .iter()
                    .map(|&v| version_value(v))
                    .collect(),
                _ => Vec::new(),
            },
        })
        .collect()
}

fn server_extensions(sh: &ServerHello) -> Vec<QuicTlsExtension> {
    sh.extensions
        .iter()
        .map(|&t| QuicTlsExtension {
            etype: ext_type(t),
            values: match (t, sh.selected_version) {
                (43, Some(v)) => vec![version_value(v)],
                _ => Vec::new(),
            },
        })
        .collect()
}

/// The CYU fingerprint of a Google QUIC CHLO: Suricata's version number
/// (Q045 is written 44, as Suricata does) and the tag names.
fn cyu_of(version: u32, tags: &[(u32, &[u8])]) -> Option<Cyu> {
    if !is_gquic(version) {
        return None;
    }
    let v = match version {
        0x5130_3433 => "43",
        0x5130_3434 | 0x5130_3435 => "44",
        _ => "46",
    };
    let names: Vec<&str> = tags
        .iter()
        .filter_map(|(t, _)| frames::tag_name(*t))
        .collect();
    let string = format!("{v},{}", names.join("-"));
    let hash = md5_hex(&string);
    Some(Cyu { string, hash })
}

/// The EVE name of a TLS extension type (as Suricata's QUIC logger names
/// them), `None` for unnamed ones.
pub fn extension_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0 => "server_name",
        1 => "max_fragment_length",
        2 => "client_certificate_url",
        3 => "trusted_ca_keys",
        4 => "truncated_hmac",
        5 => "status_request",
        6 => "user_mapping",
        7 => "client_authz",
        8 => "server_authz",
        9 => "cert_type",
        10 => "supported_groups",
        11 => "ec_point_formats",
        12 => "srp",
        13 => "signature_algorithms",
        14 => "use_srtp",
        15 => "heartbeat",
        16 => "alpn",
        17 => "status_request_v2",
        18 => "signed_certificate_timestamp",
        19 => "client_certificate_type",
        20 => "server_certificate_type",
        21 => "padding",
        22 => "encrypt_then_mac",
        23 => "extended_master_secret",
        24 => "token_binding",
        25 => "cached_info",
        26 => "tls_lts",
        27 => "compress_certificate",
        28 => "record_size_limit",
        29 => "pwd_protect",
        30 => "pwd_clear",
        31 => "password_salt",
        32 => "ticket_pinning",
        33 => "tls_cert_with_extern_psk",
        34 => "delegated_credentials",
        35 => "session_ticket",
        36 => "tlmsp",
        37 => "tlmsp_proxying",
        38 => "tlmsp_delegate",
        39 => "supported_ekt_ciphers",
        41 => "pre_shared_key",
        42 => "early_data",
        43 => "supported_versions",
        44 => "cookie",
        45 => "psk_key_exchange_modes",
        47 => "certificate_authorities",
        48 => "oid_filters",
        49 => "post_handshake_auth",
        50 => "signature_algorithms_cert",
        51 => "key_share",
        52 => "transparency_info",
        53 => "connection_id_deprecated",
        54 => "connection_id",
        55 => "external_id_hash",
        56 => "external_session_id",
        57 => "quic_transport_parameters",
        58 => "ticket_request",
        59 => "dnssec_chain",
        13172 => "next_protocol_negotiation",
        65281 => "renegotiation_info",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
