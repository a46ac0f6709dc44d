//! The TOML spec format behind `rampart craft`.
//!
//! A spec is a list of `[[item]]` tables, each a single packet, a
//! fragmented datagram or a TCP conversation, plus a few top-level options
//! (start time, time step, link type, default MACs). [`Spec::build`] turns
//! it into timestamped frames in item order. The format is documented with
//! examples in `docs/craft.md`; the short version:
//!
//! ```toml
//! start = 1700000000      # seconds since the epoch of the first frame
//! step_us = 1000          # time between frames
//!
//! [[item]]                # kind = "packet" is the default
//! src = "10.0.0.1"
//! dst = "10.0.0.2"
//! proto = "udp"
//! dport = 53
//! payload_hex = "12 34 01 00 00 01 00 00 00 00 00 00"
//!
//! [[item]]
//! kind = "conversation"
//! client = "10.0.0.1:40000"
//! server = "10.0.0.2:80"
//! messages = [
//!   { payload = "GET / HTTP/1.1\r\nHost: example\r\n\r\n" },
//!   { content = "HTTP/1.1 200 OK|0d 0a 0d 0a|" },
//! ]
//! ```
//!
//! Unknown fields, and fields that do not apply to an item's kind or
//! protocol, are errors rather than being ignored: a typo in a test spec
//! should not silently craft a different packet. Errors name the item
//! (1-based) with its line, and the field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Deserialize;

use super::builder::PacketBuilder;
use super::conversation::{Close, Message, Side, TcpConversation};
use super::error::SpecLocation;
use super::fragment::FragmentLimit;
use super::frames::{self, Frame};
use super::layers::{ChecksumMode, IpLayer, TransportLayer, DEFAULT_DST_MAC, DEFAULT_SRC_MAC};
use super::parse::{parse_content, parse_hex, parse_mac, parse_tcp_flags};
use super::CraftError;
use crate::{LinkType, Timestamp};

/// Start time used when a spec gives none: 2023-11-14T22:13:20Z.
pub const DEFAULT_START_SECS: u64 = 1_700_000_000;
/// Time between frames when a spec gives none, in microseconds.
pub const DEFAULT_STEP_US: u64 = 1000;
/// Largest `count` of one packet item: a typo of a few extra zeros should
/// be an error, not gigabytes of memory.
pub const MAX_COUNT: usize = 1_000_000;

/// A whole spec file: top-level options and the items.
///
/// All fields are public and optional so that programs (such as the
/// `rampart craft` quick mode) can build a spec without writing TOML.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Time of the first frame in seconds since the epoch (fractions
    /// allowed, microsecond precision); default [`DEFAULT_START_SECS`].
    pub start: Option<f64>,
    /// Time between consecutive frames in microseconds; default
    /// [`DEFAULT_STEP_US`]. Items may override it for their own frames.
    pub step_us: Option<u64>,
    /// `"ethernet"` (default) or `"raw"` (IP packets without link layer,
    /// written as LINKTYPE_RAW).
    pub link: Option<String>,
    /// Default source MAC of every item (client MAC for conversations).
    pub src_mac: Option<String>,
    /// Default destination MAC of every item (server MAC for conversations).
    pub dst_mac: Option<String>,
    /// The items, in order (`[[item]]` tables).
    #[serde(default, rename = "item")]
    pub items: Vec<ItemSpec>,
}

/// The top level as parsed, keeping each item's position in the text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpannedSpec {
    start: Option<f64>,
    step_us: Option<u64>,
    link: Option<String>,
    src_mac: Option<String>,
    dst_mac: Option<String>,
    #[serde(default, rename = "item")]
    items: Vec<toml::Spanned<ItemSpec>>,
}

/// One `[[item]]`: a packet, a fragmented datagram or a conversation.
///
/// One flat table serves all three kinds because most fields (addresses,
/// protocol, payload) mean the same in each; [`Spec::build`] rejects the
/// fields that do not apply to an item's kind. See `docs/craft.md` for
/// every field's meaning and default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// `"packet"` (default), `"fragments"` or `"conversation"`.
    pub kind: Option<String>,

    // link and timing
    /// Source MAC (the client's for conversations).
    pub src_mac: Option<String>,
    /// Destination MAC (the server's for conversations).
    pub dst_mac: Option<String>,
    /// 802.1Q VLAN ids, outermost first.
    pub vlan: Option<Vec<u16>>,
    /// Microseconds between this item's frames.
    pub step_us: Option<u64>,
    /// Number of packets (packet items); copies advance IPv4 id, TCP seq and ICMP echo seq.
    pub count: Option<usize>,

    // IP
    /// Source address, optionally `address:port`.
    pub src: Option<String>,
    /// Destination address, optionally `address:port`.
    pub dst: Option<String>,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: Option<u8>,
    /// IPv4 TOS byte or IPv6 traffic class.
    pub tos: Option<u8>,
    /// IPv4 identification, or the IPv6 fragment-header identification.
    pub ip_id: Option<u32>,
    /// IPv4 don't-fragment flag.
    pub df: Option<bool>,
    /// IPv4 more-fragments flag (packet items).
    pub mf: Option<bool>,
    /// IPv4 reserved ("evil") flag bit.
    pub reserved_flag: Option<bool>,
    /// IPv4 fragment offset in bytes (packet items).
    pub frag_offset: Option<u32>,
    /// IPv4 options as hex.
    pub ip_options: Option<String>,
    /// IPv6 flow label.
    pub flow_label: Option<u32>,
    /// Protocol number of a `proto = "none"` packet.
    pub ip_proto: Option<u8>,
    /// IPv4 total length / IPv6 payload length override.
    pub ip_len: Option<u16>,
    /// Exact IPv4 header checksum.
    pub ip_checksum: Option<u16>,
    /// Make the IPv4 header checksum wrong.
    pub ip_bad_checksum: Option<bool>,

    // transport
    /// Transport: tcp, udp, icmp, icmpv4, icmpv6 or none.
    pub proto: Option<String>,
    /// Source port when not in `src`.
    pub sport: Option<u16>,
    /// Destination port when not in `dst`.
    pub dport: Option<u16>,
    /// TCP sequence number.
    pub seq: Option<u32>,
    /// TCP acknowledgment number.
    pub ack: Option<u32>,
    /// TCP flags (`"SA"`, `"SYN|ACK"`, `"0x12"`).
    pub flags: Option<String>,
    /// TCP window.
    pub window: Option<u16>,
    /// TCP urgent pointer.
    pub urgent: Option<u16>,
    /// TCP options as hex.
    pub tcp_options: Option<String>,
    /// Append a TCP MSS option.
    pub mss_option: Option<u16>,
    /// TCP data offset override, in 32-bit words.
    pub data_offset: Option<u8>,
    /// UDP length override.
    pub udp_len: Option<u16>,
    /// ICMP type.
    pub icmp_type: Option<u8>,
    /// ICMP code.
    pub icmp_code: Option<u8>,
    /// ICMP echo identifier.
    pub icmp_id: Option<u16>,
    /// ICMP echo sequence number.
    pub icmp_seq: Option<u16>,
    /// ICMP header bytes 4..8 as hex.
    pub icmp_rest: Option<String>,
    /// Exact transport checksum.
    pub checksum: Option<u16>,
    /// Make the transport checksum wrong.
    pub bad_checksum: Option<bool>,

    // payload
    /// Payload as text.
    pub payload: Option<String>,
    /// Payload in content syntax (`"AB|0d 0a|"`).
    pub content: Option<String>,
    /// Payload as hex.
    pub payload_hex: Option<String>,

    // fragments
    /// Data bytes per fragment (fragments items).
    pub fragment_size: Option<usize>,
    /// Fragment to fit this MTU (fragments items).
    pub mtu: Option<usize>,
    /// Hand-made fragments (fragments items).
    pub fragments: Option<Vec<FragmentSpec>>,

    // conversation
    /// Client `address:port` (conversations).
    pub client: Option<String>,
    /// Server `address:port` (conversations).
    pub server: Option<String>,
    /// Client initial sequence number.
    pub client_isn: Option<u32>,
    /// Server initial sequence number.
    pub server_isn: Option<u32>,
    /// Largest payload per segment (conversations).
    pub mss: Option<usize>,
    /// Teardown: fin, server-fin, rst, server-rst or none.
    pub close: Option<String>,
    /// Send the three-way handshake (default true).
    pub handshake: Option<bool>,
    /// The conversation's data, in order.
    pub messages: Option<Vec<MessageSpec>>,

    // post-processing
    /// Pick frames by position (repeats and omissions allowed).
    pub order: Option<Vec<usize>>,
    /// Remove these frames (indices as built).
    pub drop: Option<Vec<usize>>,
    /// Repeat these frames right after themselves (indices as built).
    pub duplicate: Option<Vec<usize>>,
    /// Swap frames at these position pairs.
    pub swap: Option<Vec<[usize; 2]>>,
    /// Seeded shuffle of a range of positions.
    pub shuffle: Option<ShuffleSpec>,

    /// 1-based line of the item in the spec text (set by
    /// [`Spec::from_toml`], not a TOML field).
    #[serde(skip)]
    pub line: Option<usize>,
}

/// One hand-made fragment of a `kind = "fragments"` item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FragmentSpec {
    /// Offset of the data in the datagram, in bytes (multiple of 8).
    pub offset: u32,
    /// The MF flag; default true for every fragment but the last listed.
    pub more: Option<bool>,
    /// Data as text.
    pub payload: Option<String>,
    /// Data in content syntax (`"AB|0d 0a|"`).
    pub content: Option<String>,
    /// Data as hex.
    pub payload_hex: Option<String>,
    /// Data cut from the datagram's IP payload (transport header included):
    /// bytes `[start, end)`.
    pub range: Option<[usize; 2]>,
}

/// One message of a conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// `"client"` or `"server"`; default: the first message is the
    /// client's, each later one the opposite of the one before.
    pub from: Option<String>,
    /// Data as text.
    pub payload: Option<String>,
    /// Data in content syntax.
    pub content: Option<String>,
    /// Data as hex.
    pub payload_hex: Option<String>,
}

/// A seeded shuffle of part of an item's frames.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleSpec {
    /// Seed of the generator: the same seed gives the same order.
    pub seed: u64,
    /// First position shuffled (default 0).
    pub start: Option<usize>,
    /// One past the last position shuffled (default: all frames).
    pub end: Option<usize>,
}

/// The kind of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Packet,
    Fragments,
    Conversation,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Packet => "packet",
            Kind::Fragments => "fragments",
            Kind::Conversation => "conversation",
        }
    }
}

/// Fields every kind accepts.
const COMMON_FIELDS: &[&str] = &[
    "kind",
    "src_mac",
    "dst_mac",
    "vlan",
    "step_us",
    "order",
    "drop",
    "duplicate",
    "swap",
    "shuffle",
];
/// Fields that describe one datagram (packets and fragmented datagrams).
const DATAGRAM_FIELDS: &[&str] = &[
    "src",
    "dst",
    "ttl",
    "tos",
    "ip_id",
    "df",
    "reserved_flag",
    "ip_options",
    "flow_label",
    "ip_proto",
    "ip_len",
    "ip_checksum",
    "ip_bad_checksum",
    "proto",
    "sport",
    "dport",
    "seq",
    "ack",
    "flags",
    "window",
    "urgent",
    "tcp_options",
    "mss_option",
    "data_offset",
    "udp_len",
    "icmp_type",
    "icmp_code",
    "icmp_id",
    "icmp_seq",
    "icmp_rest",
    "checksum",
    "bad_checksum",
    "payload",
    "content",
    "payload_hex",
];
const PACKET_FIELDS: &[&str] = &["count", "mf", "frag_offset"];
const FRAGMENTS_FIELDS: &[&str] = &["fragment_size", "mtu", "fragments"];
const CONVERSATION_FIELDS: &[&str] = &[
    "client",
    "server",
    "client_isn",
    "server_isn",
    "mss",
    "close",
    "handshake",
    "messages",
    "ttl",
    "window",
];
const TCP_FIELDS: &[&str] = &[
    "seq",
    "ack",
    "flags",
    "window",
    "urgent",
    "tcp_options",
    "mss_option",
    "data_offset",
];
const ICMP_FIELDS: &[&str] = &["icmp_type", "icmp_code", "icmp_id", "icmp_seq", "icmp_rest"];
const IPV4_FIELDS: &[&str] = &[
    "df",
    "mf",
    "reserved_flag",
    "frag_offset",
    "ip_options",
    "ip_checksum",
    "ip_bad_checksum",
];

/// Names of the fields of `$s` that are set.
macro_rules! set_fields {
    ($s:ident: $($f:ident),* $(,)?) => {{
        let mut v: Vec<&'static str> = Vec::new();
        $( if $s.$f.is_some() { v.push(stringify!($f)); } )*
        v
    }};
}

impl ItemSpec {
    fn set_fields(&self) -> Vec<&'static str> {
        set_fields!(self: kind, src_mac, dst_mac, vlan, step_us, count, src, dst, ttl, tos,
            ip_id, df, mf, reserved_flag, frag_offset, ip_options, flow_label, ip_proto, ip_len,
            ip_checksum, ip_bad_checksum, proto, sport, dport, seq, ack, flags, window, urgent,
            tcp_options, mss_option, data_offset, udp_len, icmp_type, icmp_code, icmp_id,
            icmp_seq, icmp_rest, checksum, bad_checksum, payload, content, payload_hex,
            fragment_size, mtu, fragments, client, server, client_isn, server_isn, mss, close,
            handshake, messages, order, drop, duplicate, swap, shuffle)
    }
}

/// Top-level settings resolved once and shared by every item.
struct Globals {
    ethernet: bool,
    src_mac: super::MacAddr,
    dst_mac: super::MacAddr,
}

/// Builds errors that point at one item.
#[derive(Clone, Copy)]
struct At(SpecLocation);

impl At {
    fn field(self, field: &str, message: impl Into<String>) -> CraftError {
        CraftError::SpecField {
            location: self.0,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Wraps a parse error of `field` (keeping its text and reason).
    fn parsed(self, field: &str, e: CraftError) -> CraftError {
        self.field(field, e.to_string())
    }

    fn item(self, e: CraftError) -> CraftError {
        match e {
            e @ (CraftError::SpecField { .. } | CraftError::SpecItem { .. }) => e,
            e => CraftError::SpecItem {
                location: self.0,
                source: Box::new(e),
            },
        }
    }
}

impl Spec {
    /// Parses spec text. TOML errors carry the 1-based line and column;
    /// items remember their line for later errors.
    pub fn from_toml(text: &str) -> Result<Spec, CraftError> {
        let parsed: SpannedSpec = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            CraftError::Toml {
                line,
                column,
                message: e.message().trim_end().to_string(),
            }
        })?;
        Ok(Spec {
            start: parsed.start,
            step_us: parsed.step_us,
            link: parsed.link,
            src_mac: parsed.src_mac,
            dst_mac: parsed.dst_mac,
            items: parsed
                .items
                .into_iter()
                .map(|s| {
                    let (line, _) = line_col(text, s.span().start);
                    let mut item = s.into_inner();
                    item.line = Some(line);
                    item
                })
                .collect(),
        })
    }

    /// The link type the frames are built for, to write into the pcap.
    pub fn link_type(&self) -> Result<LinkType, CraftError> {
        match self.link.as_deref() {
            None | Some("ethernet") => Ok(LinkType::Ethernet),
            Some("raw") => Ok(LinkType::Raw),
            Some(other) => Err(At(SpecLocation {
                item: 0,
                line: None,
            })
            .field(
                "link",
                format!("unknown link type {other:?}; use \"ethernet\" or \"raw\""),
            )),
        }
    }

    /// Builds every item in order and timestamps the frames: the first at
    /// `start`, each next one `step_us` (the item's, else the spec's) after
    /// the one before.
    pub fn build(&self) -> Result<Vec<Frame>, CraftError> {
        let top = At(SpecLocation {
            item: 0,
            line: None,
        });
        let ethernet = self.link_type()? == LinkType::Ethernet;
        let mac = |field: &str, v: &Option<String>, default| match v {
            Some(t) => parse_mac(t).map_err(|e| top.parsed(field, e)),
            None => Ok(default),
        };
        let globals = Globals {
            ethernet,
            src_mac: mac("src_mac", &self.src_mac, DEFAULT_SRC_MAC)?,
            dst_mac: mac("dst_mac", &self.dst_mac, DEFAULT_DST_MAC)?,
        };
        let mut ts = start_time(self.start).map_err(|m| top.field("start", m))?;
        let default_step = self.step_us.unwrap_or(DEFAULT_STEP_US);
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let at = At(SpecLocation {
                item: i + 1,
                line: item.line,
            });
            let packets = item.build(&globals, at).map_err(|e| at.item(e))?;
            let step = item.step_us.unwrap_or(default_step).saturating_mul(1000);
            for (_, bytes) in packets {
                out.push((ts, bytes));
                ts = ts.add_nanos(step);
            }
        }
        Ok(out)
    }
}

/// Seconds (possibly fractional) to a timestamp with microsecond precision.
fn start_time(start: Option<f64>) -> Result<Timestamp, String> {
    let Some(s) = start else {
        return Ok(Timestamp::from_secs(DEFAULT_START_SECS));
    };
    if !s.is_finite() || !(0.0..1.8e10).contains(&s) {
        return Err(format!(
            "{s} is not a time in seconds since 1970 (0 up to year 2500)"
        ));
    }
    let secs = s.trunc();
    let micros = ((s - secs) * 1e6).round();
    // `s` is checked to be in range, so both conversions are exact.
    Ok(Timestamp::from_secs(secs as u64).add_nanos((micros as u64).saturating_mul(1000)))
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Bytes from whichever of the three payload spellings is set (at most one).
fn payload_bytes(
    at: At,
    prefix: &str,
    payload: &Option<String>,
    content: &Option<String>,
    hex: &Option<String>,
) -> Result<Option<Vec<u8>>, CraftError> {
    match (payload, content, hex) {
        (None, None, None) => Ok(None),
        (Some(p), None, None) => Ok(Some(p.as_bytes().to_vec())),
        (None, Some(c), None) => parse_content(c)
            .map(Some)
            .map_err(|e| at.parsed(&format!("{prefix}content"), e)),
        (None, None, Some(h)) => parse_hex(h)
            .map(Some)
            .map_err(|e| at.parsed(&format!("{prefix}payload_hex"), e)),
        _ => Err(at.field(
            &format!("{prefix}payload"),
            "give only one of payload, content and payload_hex",
        )),
    }
}

/// An address with an optional port: `10.0.0.1`, `10.0.0.1:80`, `::1`,
/// `[::1]:80`.
fn parse_endpoint(at: At, field: &str, text: &str) -> Result<(IpAddr, Option<u16>), CraftError> {
    if let Ok(sa) = text.trim().parse::<SocketAddr>() {
        return Ok((sa.ip(), Some(sa.port())));
    }
    text.trim()
        .parse::<IpAddr>()
        .map(|ip| (ip, None))
        .map_err(|_| {
            at.field(
                field,
                format!(
                    "{text:?} is not an IP address or address:port (IPv6 with a port: [::1]:80)"
                ),
            )
        })
}

/// The IP protocol chosen by `proto`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv4,
    Icmpv6,
    None,
}

impl ItemSpec {
    fn kind(&self, at: At) -> Result<Kind, CraftError> {
        match self.kind.as_deref() {
            None | Some("packet") => Ok(Kind::Packet),
            Some("fragments") => Ok(Kind::Fragments),
            Some("conversation") => Ok(Kind::Conversation),
            Some(other) => Err(at.field(
                "kind",
                format!(
                    "unknown kind {other:?}; use \"packet\", \"fragments\" or \"conversation\""
                ),
            )),
        }
    }

    fn build(&self, g: &Globals, at: At) -> Result<Vec<Frame>, CraftError> {
        let kind = self.kind(at)?;
        for field in self.set_fields() {
            let allowed = COMMON_FIELDS.contains(&field)
                || match kind {
                    Kind::Packet => {
                        DATAGRAM_FIELDS.contains(&field) || PACKET_FIELDS.contains(&field)
                    }
                    Kind::Fragments => {
                        DATAGRAM_FIELDS.contains(&field) || FRAGMENTS_FIELDS.contains(&field)
                    }
                    Kind::Conversation => CONVERSATION_FIELDS.contains(&field),
                };
            if !allowed {
                let hint = match (kind, field) {
                    (Kind::Conversation, "src" | "dst") => "; use client and server (address:port)",
                    (Kind::Conversation, "payload" | "content" | "payload_hex") => {
                        "; put the data in messages = [{ payload = \"...\" }, ...]"
                    }
                    (Kind::Fragments, "mf" | "frag_offset") => {
                        "; fragment offsets and MF come from fragment_size, mtu or fragments"
                    }
                    _ => "",
                };
                return Err(at.field(
                    field,
                    format!("does not apply to a {} item{hint}", kind.name()),
                ));
            }
        }
        if !g.ethernet {
            for field in ["src_mac", "dst_mac", "vlan"] {
                if self.set_fields().contains(&field) {
                    return Err(at.field(field, "needs link = \"ethernet\""));
                }
            }
        }
        let frames = match kind {
            Kind::Packet => self.build_packets(g, at)?,
            Kind::Fragments => self.build_fragments(g, at)?,
            Kind::Conversation => self.build_conversation(g, at)?,
        };
        self.post_process(frames, at)
    }

    fn macs(&self, g: &Globals, at: At) -> Result<(super::MacAddr, super::MacAddr), CraftError> {
        let src = match &self.src_mac {
            Some(t) => parse_mac(t).map_err(|e| at.parsed("src_mac", e))?,
            None => g.src_mac,
        };
        let dst = match &self.dst_mac {
            Some(t) => parse_mac(t).map_err(|e| at.parsed("dst_mac", e))?,
            None => g.dst_mac,
        };
        Ok((src, dst))
    }

    fn link_builder(&self, g: &Globals, at: At) -> Result<PacketBuilder, CraftError> {
        if !g.ethernet {
            return Ok(PacketBuilder::raw());
        }
        let (src, dst) = self.macs(g, at)?;
        let mut b = PacketBuilder::ethernet(src, dst);
        for &id in self.vlan.iter().flatten() {
            if id > 4095 {
                return Err(at.field(
                    "vlan",
                    format!("VLAN id {id} does not fit in 12 bits (0..=4095)"),
                ));
            }
            b = b.vlan(id);
        }
        Ok(b)
    }

    fn proto(&self, at: At) -> Result<Proto, CraftError> {
        match self
            .proto
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("tcp") => Ok(Proto::Tcp),
            Some("udp") => Ok(Proto::Udp),
            Some("icmp") => Ok(Proto::Icmp),
            Some("icmpv4") => Ok(Proto::Icmpv4),
            Some("icmpv6") => Ok(Proto::Icmpv6),
            Some("none") | Some("raw") => Ok(Proto::None),
            Some(other) => Err(at.field(
                "proto",
                format!("unknown protocol {other:?}; use tcp, udp, icmp, icmpv4, icmpv6 or none"),
            )),
        }
    }

    /// The builder for the datagram of a packet or fragments item.
    fn datagram(&self, g: &Globals, at: At) -> Result<PacketBuilder, CraftError> {
        let proto = self.proto(at)?;
        let set = self.set_fields();
        let needs = |fields: &[&str], what: &str| -> Result<(), CraftError> {
            match set.iter().find(|f| fields.contains(f)) {
                Some(f) => Err(at.field(f, format!("needs {what}"))),
                None => Ok(()),
            }
        };
        if proto != Proto::Tcp {
            needs(TCP_FIELDS, "proto = \"tcp\"")?;
        }
        if proto != Proto::Udp {
            needs(&["udp_len"], "proto = \"udp\"")?;
        }
        if !matches!(proto, Proto::Tcp | Proto::Udp) {
            needs(&["sport", "dport"], "proto = \"tcp\" or \"udp\"")?;
        }
        if !matches!(proto, Proto::Icmp | Proto::Icmpv4 | Proto::Icmpv6) {
            needs(ICMP_FIELDS, "an ICMP proto")?;
        }
        if proto == Proto::None {
            needs(
                &["checksum", "bad_checksum"],
                "a transport protocol (proto is none)",
            )?;
        } else {
            needs(&["ip_proto"], "proto = \"none\" (it sets the protocol field of a packet without transport header)")?;
        }
        if self.checksum.is_some() && self.bad_checksum.is_some() {
            return Err(at.field("bad_checksum", "give either checksum or bad_checksum"));
        }
        if self.ip_checksum.is_some() && self.ip_bad_checksum.is_some() {
            return Err(at.field(
                "ip_bad_checksum",
                "give either ip_checksum or ip_bad_checksum",
            ));
        }

        // Addresses: a missing one defaults to the family of the other.
        let src = self
            .src
            .as_deref()
            .map(|t| parse_endpoint(at, "src", t))
            .transpose()?;
        let dst = self
            .dst
            .as_deref()
            .map(|t| parse_endpoint(at, "dst", t))
            .transpose()?;
        let v6 = matches!(src, Some((IpAddr::V6(_), _))) || matches!(dst, Some((IpAddr::V6(_), _)));
        let (def_src, def_dst): (IpAddr, IpAddr) = if v6 {
            (
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).into(),
            )
        } else {
            (
                Ipv4Addr::new(10, 0, 0, 1).into(),
                Ipv4Addr::new(10, 0, 0, 2).into(),
            )
        };
        let (src_ip, src_port) = src.unwrap_or((def_src, None));
        let (dst_ip, dst_port) = dst.unwrap_or((def_dst, None));
        if src_ip.is_ipv4() != dst_ip.is_ipv4() {
            return Err(at.field(
                "dst",
                format!("{dst_ip} is not the same IP version as src {src_ip}"),
            ));
        }
        if v6 {
            needs(IPV4_FIELDS, "IPv4 addresses")?;
        } else {
            needs(&["flow_label"], "IPv6 addresses")?;
        }
        let port = |field: &str, inline: Option<u16>, explicit: Option<u16>, default: u16| match (
            inline, explicit,
        ) {
            (Some(_), Some(_)) => {
                Err(at.field(field, "the port is also given in the address; give it once"))
            }
            (Some(p), None) | (None, Some(p)) => Ok(p),
            (None, None) => Ok(default),
        };
        if !matches!(proto, Proto::Tcp | Proto::Udp) {
            if src_port.is_some() {
                return Err(at.field("src", "a port needs proto = \"tcp\" or \"udp\""));
            }
            if dst_port.is_some() {
                return Err(at.field("dst", "a port needs proto = \"tcp\" or \"udp\""));
            }
        }
        let sport = port("sport", src_port, self.sport, 40000)?;
        let default_dport = if proto == Proto::Udp { 53 } else { 80 };
        let dport = port("dport", dst_port, self.dport, default_dport)?;

        let payload = payload_bytes(at, "", &self.payload, &self.content, &self.payload_hex)?
            .unwrap_or_default();

        let mut b = self.link_builder(g, at)?.ip(src_ip, dst_ip);
        match &mut b.ip {
            Some(IpLayer::V4(h)) => {
                if let Some(v) = self.ttl {
                    h.ttl = v;
                }
                if let Some(v) = self.tos {
                    h.tos = v;
                }
                if let Some(id) = self.ip_id {
                    h.id = u16::try_from(id).map_err(|_| {
                        at.field(
                            "ip_id",
                            format!("{id} does not fit the 16-bit IPv4 identification"),
                        )
                    })?;
                }
                h.dont_fragment = self.df.unwrap_or(false);
                h.more_fragments = self.mf.unwrap_or(false);
                h.reserved_flag = self.reserved_flag.unwrap_or(false);
                if let Some(off) = self.frag_offset {
                    super::layers::fragment_offset_units(off)
                        .map_err(|e| at.field("frag_offset", e.to_string()))?;
                    h.fragment_offset = off;
                }
                if let Some(o) = &self.ip_options {
                    h.options = parse_hex(o).map_err(|e| at.parsed("ip_options", e))?;
                    if h.options.len() > 40 {
                        return Err(at.field("ip_options", "IPv4 options are at most 40 bytes"));
                    }
                }
                h.protocol = self.ip_proto;
                h.total_len = self.ip_len;
                if let Some(v) = self.ip_checksum {
                    h.checksum = ChecksumMode::Value(v);
                }
                if self.ip_bad_checksum == Some(true) {
                    h.checksum = ChecksumMode::Bad;
                }
            }
            Some(IpLayer::V6(h)) => {
                if let Some(v) = self.ttl {
                    h.hop_limit = v;
                }
                if let Some(v) = self.tos {
                    h.traffic_class = v;
                }
                if let Some(id) = self.ip_id {
                    h.fragment_id = id;
                }
                if let Some(v) = self.flow_label {
                    if v > 0x000f_ffff {
                        return Err(at.field("flow_label", format!("{v} does not fit in 20 bits")));
                    }
                    h.flow_label = v;
                }
                h.next_header = self.ip_proto;
                h.payload_len = self.ip_len;
            }
            None => {}
        }
        b = match proto {
            Proto::Tcp => {
                let flags = match &self.flags {
                    Some(f) => parse_tcp_flags(f).map_err(|e| at.parsed("flags", e))?,
                    None if payload.is_empty() => super::tcp_flags::SYN,
                    None => super::tcp_flags::PSH | super::tcp_flags::ACK,
                };
                let mut b = b
                    .tcp(sport, dport)
                    .seq(self.seq.unwrap_or(0))
                    .ack(self.ack.unwrap_or(0))
                    .flags(flags)
                    .window(self.window.unwrap_or(65535))
                    .urgent(self.urgent.unwrap_or(0));
                if let Some(o) = &self.tcp_options {
                    let opts = parse_hex(o).map_err(|e| at.parsed("tcp_options", e))?;
                    if opts.len() > 40 {
                        return Err(at.field("tcp_options", "TCP options are at most 40 bytes"));
                    }
                    b = b.tcp_options(opts);
                }
                if let Some(m) = self.mss_option {
                    b = b.mss_option(m);
                }
                if let Some(d) = self.data_offset {
                    if d > 15 {
                        return Err(at.field("data_offset", "the data offset has 4 bits (0..=15)"));
                    }
                    b = b.data_offset(d);
                }
                b
            }
            Proto::Udp => {
                let b = b.udp(sport, dport);
                match self.udp_len {
                    Some(l) => b.udp_len(l),
                    None => b,
                }
            }
            Proto::Icmp | Proto::Icmpv4 | Proto::Icmpv6 => {
                let icmpv6 = proto == Proto::Icmpv6 || (proto == Proto::Icmp && v6);
                let echo = if icmpv6 { 128 } else { 8 };
                let ty = self.icmp_type.unwrap_or(echo);
                let code = self.icmp_code.unwrap_or(0);
                let mut b = if icmpv6 {
                    b.icmpv6(ty, code)
                } else {
                    b.icmpv4(ty, code)
                };
                if let Some(r) = &self.icmp_rest {
                    if self.icmp_id.is_some() || self.icmp_seq.is_some() {
                        return Err(
                            at.field("icmp_rest", "give either icmp_rest or icmp_id/icmp_seq")
                        );
                    }
                    let bytes = parse_hex(r).map_err(|e| at.parsed("icmp_rest", e))?;
                    let rest: [u8; 4] = bytes.try_into().map_err(|v: Vec<u8>| {
                        at.field(
                            "icmp_rest",
                            format!("needs exactly 4 bytes, got {}", v.len()),
                        )
                    })?;
                    b = b.icmp_rest(rest);
                }
                b.icmp_id(self.icmp_id.unwrap_or(0))
                    .icmp_seq(self.icmp_seq.unwrap_or(0))
            }
            Proto::None => b,
        };
        if let Some(v) = self.checksum {
            b = b.checksum(v);
        }
        if self.bad_checksum == Some(true) {
            b = b.bad_checksum();
        }
        Ok(b.payload(payload))
    }

    fn build_packets(&self, g: &Globals, at: At) -> Result<Vec<Frame>, CraftError> {
        let b = self.datagram(g, at)?;
        let count = self.count.unwrap_or(1);
        if count == 0 || count > MAX_COUNT {
            return Err(at.field("count", format!("must be between 1 and {MAX_COUNT}")));
        }
        let mut out = Vec::with_capacity(count);
        let mut b = b;
        for _ in 0..count {
            out.push((Timestamp::ZERO, b.build()?));
            // Copies are the next packets of the same sender, not clones.
            if let Some(IpLayer::V4(h)) = &mut b.ip {
                h.id = h.id.wrapping_add(1);
            }
            let len = b.payload.len() as u32;
            match &mut b.transport {
                TransportLayer::Tcp(t) => t.seq = t.seq.wrapping_add(len),
                TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i) => {
                    let [a, b2, c, d] = i.rest;
                    let [c, d] = u16::from_be_bytes([c, d]).wrapping_add(1).to_be_bytes();
                    i.rest = [a, b2, c, d];
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn build_fragments(&self, g: &Globals, at: At) -> Result<Vec<Frame>, CraftError> {
        let b = self.datagram(g, at)?;
        let given = [
            self.fragment_size.is_some(),
            self.mtu.is_some(),
            self.fragments.is_some(),
        ];
        if given.iter().filter(|x| **x).count() != 1 {
            return Err(at.field(
                "fragment_size",
                "a fragments item needs exactly one of fragment_size, mtu and fragments",
            ));
        }
        let packets = if let Some(size) = self.fragment_size {
            b.build_fragments(FragmentLimit::DataSize(size))
                .map_err(|e| at.field("fragment_size", e.to_string()))?
        } else if let Some(mtu) = self.mtu {
            b.build_fragments(FragmentLimit::Mtu(mtu))
                .map_err(|e| at.field("mtu", e.to_string()))?
        } else {
            let list = self.fragments.as_deref().unwrap_or(&[]);
            if list.is_empty() {
                return Err(at.field("fragments", "the list is empty"));
            }
            let datagram = b.build_transport()?;
            let mut out = Vec::with_capacity(list.len());
            for (i, f) in list.iter().enumerate() {
                let prefix = format!("fragments[{i}].");
                let literal = payload_bytes(at, &prefix, &f.payload, &f.content, &f.payload_hex)?;
                let data = match (literal, f.range) {
                    (Some(d), None) => d,
                    (None, Some([s, e])) => datagram
                        .get(s..e)
                        .ok_or_else(|| {
                            at.field(
                                &format!("{prefix}range"),
                                format!(
                                    "[{s}, {e}] is not within the datagram's {} bytes",
                                    datagram.len()
                                ),
                            )
                        })?
                        .to_vec(),
                    (None, None) => {
                        return Err(at.field(
                            &format!("{prefix}payload"),
                            "give the data as payload, content, payload_hex or range",
                        ))
                    }
                    (Some(_), Some(_)) => {
                        return Err(at.field(
                            &format!("{prefix}range"),
                            "give either range or literal data, not both",
                        ))
                    }
                };
                let more = f.more.unwrap_or(i + 1 < list.len());
                let frame = b
                    .custom_fragment(f.offset, more, &data)
                    .map_err(|e| at.field(&format!("{prefix}offset"), e.to_string()))?;
                out.push(frame);
            }
            out
        };
        Ok(packets.into_iter().map(|p| (Timestamp::ZERO, p)).collect())
    }

    fn build_conversation(&self, g: &Globals, at: At) -> Result<Vec<Frame>, CraftError> {
        let endpoint = |field: &str, v: &Option<String>| -> Result<SocketAddr, CraftError> {
            let Some(text) = v else {
                return Err(at.field(field, "is required for a conversation (address:port)"));
            };
            match parse_endpoint(at, field, text)? {
                (ip, Some(port)) => Ok(SocketAddr::new(ip, port)),
                (_, None) => Err(at.field(
                    field,
                    format!("{text:?} needs a port, like 10.0.0.1:80 or [2001:db8::1]:80"),
                )),
            }
        };
        let client = endpoint("client", &self.client)?;
        let server = endpoint("server", &self.server)?;
        if client.is_ipv4() != server.is_ipv4() {
            return Err(at.field("server", "is not the same IP version as client"));
        }
        let mut conv = TcpConversation::new(client, server);
        let (cmac, smac) = self.macs(g, at)?;
        conv.client_mac = cmac;
        conv.server_mac = smac;
        conv.ethernet = g.ethernet;
        conv.vlans = self.vlan.clone().unwrap_or_default();
        if let Some(id) = conv.vlans.iter().find(|id| **id > 4095) {
            return Err(at.field(
                "vlan",
                format!("VLAN id {id} does not fit in 12 bits (0..=4095)"),
            ));
        }
        if let Some(v) = self.client_isn {
            conv.client_isn = v;
        }
        if let Some(v) = self.server_isn {
            conv.server_isn = v;
        }
        if let Some(m) = self.mss {
            if m == 0 {
                return Err(at.field("mss", "must be at least 1"));
            }
            conv.mss = m;
        }
        if let Some(w) = self.window {
            conv.window = w;
        }
        if let Some(t) = self.ttl {
            conv.ttl = t;
        }
        if let Some(h) = self.handshake {
            conv.handshake = h;
        }
        conv.close = match self.close.as_deref() {
            None | Some("fin") => Close::Fin,
            Some("server-fin") => Close::ServerFin,
            Some("rst") => Close::Rst,
            Some("server-rst") => Close::ServerRst,
            Some("none") => Close::None,
            Some(other) => {
                return Err(at.field(
                    "close",
                    format!(
                        "unknown close {other:?}; use fin, server-fin, rst, server-rst or none"
                    ),
                ))
            }
        };
        let mut next = Side::Client;
        for (i, m) in self.messages.iter().flatten().enumerate() {
            let prefix = format!("messages[{i}].");
            let from = match m.from.as_deref() {
                None => next,
                Some("client") => Side::Client,
                Some("server") => Side::Server,
                Some(other) => {
                    return Err(at.field(
                        &format!("{prefix}from"),
                        format!("{other:?} is neither \"client\" nor \"server\""),
                    ))
                }
            };
            let data = payload_bytes(at, &prefix, &m.payload, &m.content, &m.payload_hex)?
                .ok_or_else(|| {
                    at.field(
                        &format!("{prefix}payload"),
                        "give the data as payload, content or payload_hex",
                    )
                })?;
            conv.messages.push(Message { from, data });
            next = from.peer();
        }
        conv.build()
    }

    /// Applies drop, duplicate, swap, order and shuffle, in that order.
    /// `drop` and `duplicate` index the frames as built, `swap`, `order` and
    /// `shuffle` the positions after the steps before them.
    fn post_process(&self, mut frames: Vec<Frame>, at: At) -> Result<Vec<Frame>, CraftError> {
        let idx = |field: &str, e: CraftError| at.field(field, e.to_string());
        if self.drop.is_some() || self.duplicate.is_some() {
            // Both index the frames as built, so they are resolved together
            // into one selection; a frame both dropped and duplicated is
            // dropped.
            let dropped = self.drop.as_deref().unwrap_or(&[]);
            let dup = self.duplicate.as_deref().unwrap_or(&[]);
            for (field, list) in [("drop", dropped), ("duplicate", dup)] {
                if let Some(&i) = list.iter().find(|&&i| i >= frames.len()) {
                    return Err(idx(
                        field,
                        CraftError::FrameIndex {
                            index: i,
                            len: frames.len(),
                        },
                    ));
                }
            }
            let mut order = Vec::with_capacity(frames.len() + dup.len());
            for i in (0..frames.len()).filter(|i| !dropped.contains(i)) {
                order.push(i);
                order.extend(dup.iter().filter(|&&d| d == i));
            }
            frames = frames::reorder(&frames, &order).map_err(|e| idx("drop", e))?;
        }
        if let Some(pairs) = &self.swap {
            let pairs: Vec<(usize, usize)> = pairs.iter().map(|[a, b]| (*a, *b)).collect();
            frames::swap_pairs(&mut frames, &pairs).map_err(|e| idx("swap", e))?;
        }
        if let Some(order) = &self.order {
            frames = frames::reorder(&frames, order).map_err(|e| idx("order", e))?;
        }
        if let Some(s) = &self.shuffle {
            let range = s.start.unwrap_or(0)..s.end.unwrap_or(frames.len());
            frames::shuffle(&mut frames, range, s.seed).map_err(|e| idx("shuffle", e))?;
        }
        Ok(frames)
    }
}
