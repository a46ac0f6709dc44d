//! The layers a crafted packet is made of, as plain structs with public
//! fields, and their serialization.
//!
//! Headers are written by hand rather than through etherparse's builders
//! because crafting must be able to lie: wrong checksums, wrong lengths,
//! impossible header lengths. Every field that a lie can be told through is
//! an `Option` (or a [`ChecksumMode`]) whose default is the truth.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{checksum, Checksum};
use super::ip_proto;
use super::CraftError;

/// A MAC address, most significant byte first.
pub type MacAddr = [u8; 6];

/// Source MAC of frames built without one: locally administered, unicast,
/// and easy to spot in a capture.
pub const DEFAULT_SRC_MAC: MacAddr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// Destination MAC of frames built without one.
pub const DEFAULT_DST_MAC: MacAddr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// EtherType used for frames that carry no IP packet (IEEE local
/// experimental EtherType 1).
const ETHERTYPE_EXPERIMENTAL: u16 = 0x88b5;

/// How a checksum field is filled in.
///
/// Tests of checksum validation need packets that are wrong in exactly one
/// place, so every checksum can be correct, deliberately wrong, or a fixed
/// value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChecksumMode {
    /// The correct checksum (the default).
    #[default]
    Correct,
    /// A checksum guaranteed to fail verification: the correct value with
    /// its lowest bit flipped (never one of the two ones' complement
    /// encodings of the right sum, and never UDP's "no checksum" 0).
    Bad,
    /// Exactly this value, whatever the packet contains. For UDP, 0 means
    /// "no checksum".
    Value(u16),
}

impl ChecksumMode {
    /// The value to write given the correct one. `udp` applies RFC 768's
    /// rule that a computed 0 is sent as 0xffff, because 0 means "none".
    fn apply(self, correct: u16, udp: bool) -> u16 {
        let correct = if udp && correct == 0 { 0xffff } else { correct };
        match self {
            ChecksumMode::Correct => correct,
            ChecksumMode::Bad => {
                let bad = correct ^ 1;
                if udp && bad == 0 {
                    correct ^ 2
                } else {
                    bad
                }
            }
            ChecksumMode::Value(v) => v,
        }
    }
}

/// One 802.1Q (or 802.1ad) tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag {
    /// The tag protocol identifier: 0x8100 for 802.1Q, 0x88a8 for an
    /// 802.1ad service tag.
    pub tpid: u16,
    /// The 12-bit VLAN id.
    pub id: u16,
    /// The 3-bit priority code point.
    pub priority: u8,
    /// The drop eligible indicator.
    pub drop_eligible: bool,
}

impl VlanTag {
    /// An 802.1Q tag with priority 0.
    pub fn new(id: u16) -> Self {
        VlanTag {
            tpid: 0x8100,
            id,
            priority: 0,
            drop_eligible: false,
        }
    }

    fn tci(&self) -> Result<u16, CraftError> {
        if self.id > 0x0fff {
            return Err(CraftError::InvalidField {
                field: "VLAN id",
                value: u64::from(self.id),
                why: "VLAN ids have 12 bits (0..=4095)",
            });
        }
        if self.priority > 7 {
            return Err(CraftError::InvalidField {
                field: "VLAN priority",
                value: u64::from(self.priority),
                why: "the priority has 3 bits (0..=7)",
            });
        }
        Ok(u16::from(self.priority) << 13 | u16::from(self.drop_eligible) << 12 | self.id)
    }
}

/// An Ethernet II header with optional VLAN tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthernetLayer {
    /// Source MAC.
    pub src: MacAddr,
    /// Destination MAC.
    pub dst: MacAddr,
    /// VLAN tags, outermost first.
    pub vlans: Vec<VlanTag>,
    /// The EtherType after the tags; `None` picks IPv4 or IPv6 from the
    /// payload's version nibble (0x88b5 for non-IP payloads).
    pub ether_type: Option<u16>,
}

impl Default for EthernetLayer {
    fn default() -> Self {
        EthernetLayer {
            src: DEFAULT_SRC_MAC,
            dst: DEFAULT_DST_MAC,
            vlans: Vec::new(),
            ether_type: None,
        }
    }
}

impl EthernetLayer {
    /// Wraps `inner` (usually an IP packet) in this header. Frames are not
    /// padded to Ethernet's 60-byte minimum: captures taken on the sending
    /// host do not show the padding either, and the decoder must cope with
    /// both.
    pub fn frame(&self, inner: &[u8]) -> Result<Vec<u8>, CraftError> {
        let mut out = Vec::with_capacity(14 + 4 * self.vlans.len() + inner.len());
        out.extend_from_slice(&self.dst);
        out.extend_from_slice(&self.src);
        for tag in &self.vlans {
            out.extend_from_slice(&tag.tpid.to_be_bytes());
            out.extend_from_slice(&tag.tci()?.to_be_bytes());
        }
        let ether_type = self
            .ether_type
            .unwrap_or(match inner.first().map(|b| b >> 4) {
                Some(4) => 0x0800,
                Some(6) => 0x86dd,
                _ => ETHERTYPE_EXPERIMENTAL,
            });
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(inner);
        Ok(out)
    }
}

/// An IPv4 header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Layer {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live (default 64).
    pub ttl: u8,
    /// Identification (default 1).
    pub id: u16,
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
    /// The "don't fragment" flag.
    pub dont_fragment: bool,
    /// The "more fragments" flag.
    pub more_fragments: bool,
    /// The reserved ("evil") flag bit.
    pub reserved_flag: bool,
    /// Fragment offset in bytes; must be a multiple of 8 and at most 65528.
    pub fragment_offset: u32,
    /// Option bytes, padded with zeros (end of options) to a multiple of 4;
    /// at most 40 bytes.
    pub options: Vec<u8>,
    /// The protocol field; `None` takes it from the transport layer.
    pub protocol: Option<u8>,
    /// The total length field; `None` is the true length.
    pub total_len: Option<u16>,
    /// The header length field in 32-bit words; `None` is the true length.
    pub ihl: Option<u8>,
    /// The header checksum.
    pub checksum: ChecksumMode,
}

impl Ipv4Layer {
    /// A header with the given addresses and defaults everywhere else.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        Ipv4Layer {
            src,
            dst,
            ttl: 64,
            id: 1,
            tos: 0,
            dont_fragment: false,
            more_fragments: false,
            reserved_flag: false,
            fragment_offset: 0,
            options: Vec::new(),
            protocol: None,
            total_len: None,
            ihl: None,
            checksum: ChecksumMode::Correct,
        }
    }

    /// Writes the header followed by `upper` (the IP payload).
    pub(crate) fn serialize(&self, protocol: u8, upper: &[u8]) -> Result<Vec<u8>, CraftError> {
        let mut options = self.options.clone();
        if options.len() > 40 {
            return Err(CraftError::TooLarge {
                what: "IPv4 options",
                len: options.len(),
                max: 40,
            });
        }
        while !options.len().is_multiple_of(4) {
            options.push(0);
        }
        let header_len = 20 + options.len();
        let ihl = match self.ihl {
            Some(v) if v > 15 => {
                return Err(CraftError::InvalidField {
                    field: "IPv4 header length",
                    value: u64::from(v),
                    why: "the field has 4 bits (0..=15 words)",
                })
            }
            Some(v) => v,
            None => (header_len / 4) as u8,
        };
        let true_total = header_len + upper.len();
        let total_len = match self.total_len {
            Some(v) => v,
            None => u16::try_from(true_total).map_err(|_| CraftError::TooLarge {
                what: "IPv4 total length",
                len: true_total,
                max: 65535,
            })?,
        };
        let offset = fragment_offset_units(self.fragment_offset)?;
        let mut flags_offset = offset;
        if self.reserved_flag {
            flags_offset |= 0x8000;
        }
        if self.dont_fragment {
            flags_offset |= 0x4000;
        }
        if self.more_fragments {
            flags_offset |= 0x2000;
        }
        let mut out = Vec::with_capacity(true_total);
        out.push(0x40 | ihl);
        out.push(self.tos);
        out.extend_from_slice(&total_len.to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&flags_offset.to_be_bytes());
        out.push(self.ttl);
        out.push(protocol);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        out.extend_from_slice(&options);
        let sum = self.checksum.apply(checksum(&out), false);
        if let Some(field) = out.get_mut(10..12) {
            field.copy_from_slice(&sum.to_be_bytes());
        }
        out.extend_from_slice(upper);
        Ok(out)
    }
}

/// A fragment offset in bytes to the 13-bit field's 8-byte units.
pub(crate) fn fragment_offset_units(offset: u32) -> Result<u16, CraftError> {
    if !offset.is_multiple_of(8) {
        return Err(CraftError::InvalidField {
            field: "fragment offset",
            value: u64::from(offset),
            why: "offsets are counted in 8-byte units, so it must be a multiple of 8",
        });
    }
    if offset > 8191 * 8 {
        return Err(CraftError::InvalidField {
            field: "fragment offset",
            value: u64::from(offset),
            why: "the largest offset the 13-bit field can carry is 65528",
        });
    }
    Ok((offset / 8) as u16)
}

/// An IPv6 extension header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ipv6Extension {
    /// Hop-by-hop options; `options` are padded with Pad1/PadN to a
    /// multiple of 8 bytes together with the 2-byte header.
    HopByHop {
        /// The option TLVs.
        options: Vec<u8>,
    },
    /// Destination options, padded like [`Ipv6Extension::HopByHop`].
    DestinationOptions {
        /// The option TLVs.
        options: Vec<u8>,
    },
    /// A routing header; `data` follows the 4 fixed bytes and is padded with
    /// zeros to a multiple of 8 bytes (at least 4 bytes are always written).
    Routing {
        /// Routing type.
        routing_type: u8,
        /// Segments left.
        segments_left: u8,
        /// The type-specific data.
        data: Vec<u8>,
    },
    /// A fragment header.
    Fragment {
        /// Offset of the following data in the original packet's
        /// fragmentable part, in bytes (multiple of 8, at most 65528).
        offset: u32,
        /// The M flag.
        more: bool,
        /// Identification.
        id: u32,
    },
}

impl Ipv6Extension {
    /// The protocol number that announces this header.
    pub fn protocol(&self) -> u8 {
        match self {
            Ipv6Extension::HopByHop { .. } => ip_proto::HOP_BY_HOP,
            Ipv6Extension::DestinationOptions { .. } => ip_proto::DEST_OPTIONS,
            Ipv6Extension::Routing { .. } => ip_proto::ROUTING,
            Ipv6Extension::Fragment { .. } => ip_proto::FRAGMENT,
        }
    }

    fn serialize(&self, next: u8, out: &mut Vec<u8>) -> Result<(), CraftError> {
        match self {
            Ipv6Extension::HopByHop { options } | Ipv6Extension::DestinationOptions { options } => {
                let unpadded = 2 + options.len();
                let total = unpadded.div_ceil(8) * 8;
                let len = ext_len_field(total)?;
                out.push(next);
                out.push(len);
                out.extend_from_slice(options);
                match total - unpadded {
                    0 => {}
                    1 => out.push(0), // Pad1
                    n => {
                        out.push(1); // PadN
                        out.push((n - 2) as u8);
                        out.extend(std::iter::repeat_n(0, n - 2));
                    }
                }
            }
            Ipv6Extension::Routing {
                routing_type,
                segments_left,
                data,
            } => {
                let unpadded = 4 + data.len().max(4);
                let total = unpadded.div_ceil(8) * 8;
                let len = ext_len_field(total)?;
                out.extend_from_slice(&[next, len, *routing_type, *segments_left]);
                out.extend_from_slice(data);
                out.extend(std::iter::repeat_n(0, total - 4 - data.len()));
            }
            Ipv6Extension::Fragment { offset, more, id } => {
                let field = fragment_offset_units(*offset)? << 3 | u16::from(*more);
                out.extend_from_slice(&[next, 0]);
                out.extend_from_slice(&field.to_be_bytes());
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
        Ok(())
    }
}

/// The "header extension length" byte for a header of `total` bytes.
fn ext_len_field(total: usize) -> Result<u8, CraftError> {
    u8::try_from(total / 8 - 1).map_err(|_| CraftError::TooLarge {
        what: "IPv6 extension header",
        len: total,
        max: 2048,
    })
}

/// An IPv6 header and its extension headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Layer {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit (default 64).
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Extension headers in wire order; their next-header fields are
    /// chained automatically.
    pub extensions: Vec<Ipv6Extension>,
    /// The protocol announced by the last header; `None` takes it from the
    /// transport layer.
    pub next_header: Option<u8>,
    /// The payload length field; `None` is the true length.
    pub payload_len: Option<u16>,
    /// Identification written into fragment headers when this packet is
    /// fragmented by [`super::PacketBuilder::build_fragments`] or
    /// [`super::PacketBuilder::custom_fragment`] (default 1).
    pub fragment_id: u32,
}

impl Ipv6Layer {
    /// A header with the given addresses and defaults everywhere else.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        Ipv6Layer {
            src,
            dst,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            extensions: Vec::new(),
            next_header: None,
            payload_len: None,
            fragment_id: 1,
        }
    }

    /// Writes the header, the extension headers and `upper`.
    pub(crate) fn serialize(&self, protocol: u8, upper: &[u8]) -> Result<Vec<u8>, CraftError> {
        if self.flow_label > 0x000f_ffff {
            return Err(CraftError::InvalidField {
                field: "flow label",
                value: u64::from(self.flow_label),
                why: "the flow label has 20 bits",
            });
        }
        let mut exts = Vec::new();
        for (i, ext) in self.extensions.iter().enumerate() {
            let next = self
                .extensions
                .get(i + 1)
                .map(Ipv6Extension::protocol)
                .unwrap_or(protocol);
            ext.serialize(next, &mut exts)?;
        }
        let true_len = exts.len() + upper.len();
        let payload_len = match self.payload_len {
            Some(v) => v,
            None => u16::try_from(true_len).map_err(|_| CraftError::TooLarge {
                what: "IPv6 payload length",
                len: true_len,
                max: 65535,
            })?,
        };
        let first = self
            .extensions
            .first()
            .map(Ipv6Extension::protocol)
            .unwrap_or(protocol);
        let word = 6u32 << 28 | u32::from(self.traffic_class) << 20 | self.flow_label;
        let mut out = Vec::with_capacity(40 + true_len);
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&payload_len.to_be_bytes());
        out.push(first);
        out.push(self.hop_limit);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        out.extend_from_slice(&exts);
        out.extend_from_slice(upper);
        Ok(out)
    }
}

/// The network layer of a crafted packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpLayer {
    /// IPv4.
    V4(Ipv4Layer),
    /// IPv6.
    V6(Ipv6Layer),
}

impl IpLayer {
    /// Source address.
    pub fn src(&self) -> IpAddr {
        match self {
            IpLayer::V4(h) => IpAddr::V4(h.src),
            IpLayer::V6(h) => IpAddr::V6(h.src),
        }
    }

    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            IpLayer::V4(h) => IpAddr::V4(h.dst),
            IpLayer::V6(h) => IpAddr::V6(h.dst),
        }
    }

    /// The header for `src` to `dst`, or an error when their versions differ.
    pub fn between(src: IpAddr, dst: IpAddr) -> Result<Self, CraftError> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Ok(IpLayer::V4(Ipv4Layer::new(s, d))),
            (IpAddr::V6(s), IpAddr::V6(d)) => Ok(IpLayer::V6(Ipv6Layer::new(s, d))),
            _ => Err(CraftError::MixedAddressFamilies {
                src: src.to_string(),
                dst: dst.to_string(),
            }),
        }
    }

    /// The protocol field override, if any.
    fn protocol_override(&self) -> Option<u8> {
        match self {
            IpLayer::V4(h) => h.protocol,
            IpLayer::V6(h) => h.next_header,
        }
    }

    /// Writes this header around `upper`, whose protocol is `protocol`
    /// unless the header overrides it.
    pub(crate) fn serialize(&self, protocol: u8, upper: &[u8]) -> Result<Vec<u8>, CraftError> {
        let protocol = self.protocol_override().unwrap_or(protocol);
        match self {
            IpLayer::V4(h) => h.serialize(protocol, upper),
            IpLayer::V6(h) => h.serialize(protocol, upper),
        }
    }
}

/// A TCP header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpLayer {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (written as given, whether or not ACK is set).
    pub ack: u32,
    /// Flags, see [`super::tcp_flags`]; the default is SYN, as in scapy.
    pub flags: u16,
    /// Receive window (default 65535).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Option bytes, padded with zeros (end of options) to a multiple of 4;
    /// at most 40 bytes.
    pub options: Vec<u8>,
    /// The data offset field in 32-bit words; `None` is the true length.
    pub data_offset: Option<u8>,
    /// The checksum.
    pub checksum: ChecksumMode,
}

impl TcpLayer {
    /// A SYN from `src_port` to `dst_port` with sequence number 0.
    pub fn new(src_port: u16, dst_port: u16) -> Self {
        TcpLayer {
            src_port,
            dst_port,
            seq: 0,
            ack: 0,
            flags: super::tcp_flags::SYN,
            window: 65535,
            urgent: 0,
            options: Vec::new(),
            data_offset: None,
            checksum: ChecksumMode::Correct,
        }
    }
}

/// A UDP header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpLayer {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field; `None` is the true length.
    pub length: Option<u16>,
    /// The checksum (`Value(0)` sends none).
    pub checksum: ChecksumMode,
}

impl UdpLayer {
    /// A header from `src_port` to `dst_port`.
    pub fn new(src_port: u16, dst_port: u16) -> Self {
        UdpLayer {
            src_port,
            dst_port,
            length: None,
            checksum: ChecksumMode::Correct,
        }
    }
}

/// An ICMPv4 or ICMPv6 header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpLayer {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Bytes 4..8 of the header: identifier and sequence number for echo
    /// messages, unused or a pointer/MTU for errors.
    pub rest: [u8; 4],
    /// The checksum.
    pub checksum: ChecksumMode,
}

impl IcmpLayer {
    /// A message of the given type and code with zero rest-of-header.
    pub fn new(icmp_type: u8, code: u8) -> Self {
        IcmpLayer {
            icmp_type,
            code,
            rest: [0; 4],
            checksum: ChecksumMode::Correct,
        }
    }
}

/// The transport layer of a crafted packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TransportLayer {
    /// None: the payload follows the IP header directly.
    #[default]
    None,
    /// TCP.
    Tcp(TcpLayer),
    /// UDP.
    Udp(UdpLayer),
    /// ICMP for IPv4.
    Icmpv4(IcmpLayer),
    /// ICMPv6.
    Icmpv6(IcmpLayer),
}

impl TransportLayer {
    /// The IP protocol number of this layer.
    pub fn protocol(&self) -> u8 {
        match self {
            TransportLayer::None => ip_proto::EXPERIMENTAL,
            TransportLayer::Tcp(_) => ip_proto::TCP,
            TransportLayer::Udp(_) => ip_proto::UDP,
            TransportLayer::Icmpv4(_) => ip_proto::ICMP,
            TransportLayer::Icmpv6(_) => ip_proto::ICMPV6,
        }
    }

    /// Writes the header and `payload`; checksums that need a pseudo-header
    /// use `src` and `dst` (the IPv6 header's addresses even when a routing
    /// header names another final destination).
    pub(crate) fn serialize(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
    ) -> Result<Vec<u8>, CraftError> {
        let max = if src.is_ipv4() { 65535 - 20 } else { 65535 };
        let mut out = Vec::new();
        match self {
            TransportLayer::None => out.extend_from_slice(payload),
            TransportLayer::Tcp(t) => {
                let mut options = t.options.clone();
                if options.len() > 40 {
                    return Err(CraftError::TooLarge {
                        what: "TCP options",
                        len: options.len(),
                        max: 40,
                    });
                }
                while !options.len().is_multiple_of(4) {
                    options.push(0);
                }
                let header_len = 20 + options.len();
                let doff = match t.data_offset {
                    Some(v) if v > 15 => {
                        return Err(CraftError::InvalidField {
                            field: "TCP data offset",
                            value: u64::from(v),
                            why: "the field has 4 bits (0..=15 words)",
                        })
                    }
                    Some(v) => v,
                    None => (header_len / 4) as u8,
                };
                let len = header_len + payload.len();
                check_len("TCP segment", len, max)?;
                out.extend_from_slice(&t.src_port.to_be_bytes());
                out.extend_from_slice(&t.dst_port.to_be_bytes());
                out.extend_from_slice(&t.seq.to_be_bytes());
                out.extend_from_slice(&t.ack.to_be_bytes());
                out.push(doff << 4 | ((t.flags >> 8) & 1) as u8);
                out.push(t.flags as u8);
                out.extend_from_slice(&t.window.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&t.urgent.to_be_bytes());
                out.extend_from_slice(&options);
                out.extend_from_slice(payload);
                let sum = Checksum::new()
                    .add_pseudo_header(src, dst, ip_proto::TCP, len as u32)
                    .add(&out)
                    .finish();
                set_u16(&mut out, 16, t.checksum.apply(sum, false));
            }
            TransportLayer::Udp(u) => {
                let len = 8 + payload.len();
                check_len("UDP length", len, max.min(65535))?;
                let length = u.length.unwrap_or(len as u16);
                out.extend_from_slice(&u.src_port.to_be_bytes());
                out.extend_from_slice(&u.dst_port.to_be_bytes());
                out.extend_from_slice(&length.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(payload);
                let sum = Checksum::new()
                    .add_pseudo_header(src, dst, ip_proto::UDP, len as u32)
                    .add(&out)
                    .finish();
                set_u16(&mut out, 6, u.checksum.apply(sum, true));
            }
            TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i) => {
                let len = 8 + payload.len();
                check_len("ICMP message", len, max)?;
                out.extend_from_slice(&[i.icmp_type, i.code, 0, 0]);
                out.extend_from_slice(&i.rest);
                out.extend_from_slice(payload);
                let mut sum = Checksum::new();
                if matches!(self, TransportLayer::Icmpv6(_)) {
                    sum.add_pseudo_header(src, dst, ip_proto::ICMPV6, len as u32);
                }
                let sum = sum.add(&out).finish();
                set_u16(&mut out, 2, i.checksum.apply(sum, false));
            }
        }
        Ok(out)
    }
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<(), CraftError> {
    if len > max {
        Err(CraftError::TooLarge { what, len, max })
    } else {
        Ok(())
    }
}

fn set_u16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(field) = buf.get_mut(at..at + 2) {
        field.copy_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::ChecksumMode;

    #[test]
    fn udp_checksum_zero_rules() {
        // RFC 768: a computed 0 is sent as all ones.
        assert_eq!(ChecksumMode::Correct.apply(0, true), 0xffff);
        assert_eq!(ChecksumMode::Correct.apply(0, false), 0);
        // "bad" never lands on 0 (no checksum) nor on the other encoding of
        // the right sum.
        assert_eq!(ChecksumMode::Bad.apply(1, true), 3);
        assert_eq!(ChecksumMode::Bad.apply(0, true), 0xfffe);
        assert_eq!(ChecksumMode::Bad.apply(0, false), 1);
        assert_eq!(ChecksumMode::Bad.apply(0xffff, false), 0xfffe);
        assert_eq!(ChecksumMode::Value(0).apply(0x1234, true), 0);
    }
}
