//! Lenient decoding of one captured frame into a [`Packet`] view.
//!
//! Decoding never fails: a frame that is cut off or malformed yields every
//! layer that could be read plus the [`DecoderEvent`]s that say what was
//! wrong, because an IDS must still account for (and may still alert on) a
//! damaged packet. The header parsing itself is etherparse's lax slicing; this
//! module adds what an IDS needs on top: link types etherparse does not know
//! (SLL2, BSD loopback), IPv4 checksum verification, fragment metadata for
//! defragmentation, and tunnels (GRE, MPLS, PPPoE, VXLAN, Teredo, IP-in-IP)
//! whose innermost packet is what flows and rules see.

mod ip;
mod link;
mod tunnel;

use std::net::IpAddr;

use crate::{DecoderEvent, LinkType};

/// How many nested encapsulations are followed before giving up.
pub const MAX_TUNNEL_DEPTH: u8 = 4;

/// Maximum number of decoder events recorded for one packet.
const MAX_EVENTS: usize = 16;

/// A decoded packet: borrowed views into the captured bytes.
///
/// `ip` and `transport` describe the innermost IP packet when the frame
/// carries tunnels (see [`Packet::tunnel_depth`]), since that is the traffic
/// that flows, reassembly and rules are about.
#[derive(Clone, Debug, Default)]
pub struct Packet<'a> {
    /// The captured frame, whole.
    pub data: &'a [u8],
    /// VLAN ids, outermost first (802.1Q and QinQ).
    pub vlans: VlanIds,
    /// The ARP packet, when the frame is ARP.
    pub arp: Option<Arp>,
    /// The (innermost) IP layer, when there is one.
    pub ip: Option<IpHeader<'a>>,
    /// The transport layer of `ip`, when it could be decoded. `None` for
    /// non-first fragments and for protocols not decoded here.
    pub transport: Option<Transport<'a>>,
    /// Number of encapsulations unwrapped to reach `ip` (0 = no tunnel).
    pub tunnel_depth: u8,
    /// Every encapsulation protocol crossed, outermost first.
    pub tunnels: TunnelList,
    /// What was malformed, in the order found.
    pub events: EventList,
}

impl<'a> Packet<'a> {
    /// The (src, dst) ports of a TCP or UDP packet.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Some(Transport::Tcp(t)) => Some((t.src_port, t.dst_port)),
            Some(Transport::Udp(u)) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }

    /// The application payload (TCP/UDP/ICMP data), or the IP payload for
    /// other protocols; empty when there is none.
    pub fn payload(&self) -> &'a [u8] {
        match &self.transport {
            Some(Transport::Tcp(t)) => t.payload,
            Some(Transport::Udp(u)) => u.payload,
            Some(Transport::Icmpv4(i)) | Some(Transport::Icmpv6(i)) => i.payload,
            None => self.ip.as_ref().map(|ip| ip.payload).unwrap_or(&[]),
        }
    }

    /// The outermost VLAN id, 0 when untagged (how flows key on VLAN).
    pub fn vlan_id(&self) -> u16 {
        self.vlans.ids().first().copied().unwrap_or(0)
    }

    fn event(&mut self, e: DecoderEvent) {
        self.events.push(e);
    }
}

/// Up to three VLAN ids without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VlanIds {
    ids: [u16; 3],
    len: u8,
}

impl VlanIds {
    /// The ids, outermost first.
    pub fn ids(&self) -> &[u16] {
        self.ids.get(..self.len as usize).unwrap_or(&[])
    }

    /// Appends an id; returns false when full.
    pub fn push(&mut self, id: u16) -> bool {
        match self.ids.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = id;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// Decoder events of one packet, without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventList {
    events: [Option<DecoderEvent>; MAX_EVENTS],
    len: u8,
}

impl EventList {
    /// Records an event (silently ignored beyond the capacity).
    pub fn push(&mut self, e: DecoderEvent) {
        if let Some(slot) = self.events.get_mut(self.len as usize) {
            *slot = Some(e);
            self.len += 1;
        }
    }

    /// The events recorded, in order.
    pub fn iter(&self) -> impl Iterator<Item = DecoderEvent> + '_ {
        self.events.iter().flatten().copied()
    }

    /// True when the packet decoded cleanly.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when `e` was recorded.
    pub fn contains(&self, e: DecoderEvent) -> bool {
        self.iter().any(|x| x == e)
    }
}

/// An encapsulation protocol unwrapped on the way to the inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// Generic Routing Encapsulation (IP protocol 47).
    Gre,
    /// An MPLS label stack.
    Mpls,
    /// PPPoE session traffic.
    Pppoe,
    /// VXLAN over UDP port 4789.
    Vxlan,
    /// Teredo (IPv6 over UDP port 3544).
    Teredo,
    /// IPv4 or IPv6 directly inside IP (protocols 4 and 41).
    IpInIp,
    /// A Network Service Header (service function chaining).
    Nsh,
    /// Geneve over UDP port 6081.
    Geneve,
}

/// The tunnels crossed by one packet, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelList {
    items: [Option<Tunnel>; MAX_TUNNEL_DEPTH as usize],
    len: u8,
}

impl TunnelList {
    pub(crate) fn push(&mut self, t: Tunnel) {
        if let Some(slot) = self.items.get_mut(self.len as usize) {
            *slot = Some(t);
            self.len += 1;
        }
    }

    /// The tunnels, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = Tunnel> + '_ {
        self.items.iter().flatten().copied()
    }
}

/// An ARP packet's addresses (Ethernet/IPv4 ARP only; others keep the opcode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// 1 = request, 2 = reply.
    pub operation: u16,
    /// Sender protocol address, when IPv4.
    pub sender_ip: Option<std::net::Ipv4Addr>,
    /// Target protocol address, when IPv4.
    pub target_ip: Option<std::net::Ipv4Addr>,
}

/// Fragmentation fields of an IPv4 or IPv6 packet that is a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// The IP layer of a packet, IPv4 or IPv6.
#[derive(Clone, Debug)]
pub struct IpHeader<'a> {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The upper-layer protocol after any IPv6 extension headers.
    pub protocol: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6 unless fragmented).
    pub id: u32,
    /// Type of service / traffic class byte.
    pub tos: u8,
    /// IPv4 "don't fragment" flag.
    pub dont_fragment: bool,
    /// IPv4 reserved ("evil") bit.
    pub reserved_flag: bool,
    /// Set when the packet is a fragment (MF set or non-zero offset).
    pub fragment: Option<FragmentInfo>,
    /// `Some(false)` when the IPv4 header checksum is wrong; `None` for IPv6.
    pub checksum_ok: Option<bool>,
    /// The IP packet from its first header byte to the end of the captured or
    /// declared data (whichever is shorter).
    pub packet: &'a [u8],
    /// Length of the headers before `payload`: the IPv4 header with options,
    /// or the IPv6 header with all extension headers.
    pub header_len: usize,
    /// For IPv6 fragments: the length of the fixed header plus the
    /// extension headers that precede the fragment header (the part that
    /// is kept when fragments are reassembled).
    pub unfragmentable_len: usize,
    /// The IP payload (the transport header onwards, or fragment data).
    pub payload: &'a [u8],
    /// IPv4 options bytes (empty for IPv6).
    pub options: &'a [u8],
}

impl IpHeader<'_> {
    /// True for IPv4.
    pub fn is_v4(&self) -> bool {
        self.version == 4
    }
}

/// The transport layer of a packet.
#[derive(Clone, Debug)]
pub enum Transport<'a> {
    /// TCP.
    Tcp(Tcp<'a>),
    /// UDP.
    Udp(Udp<'a>),
    /// ICMP for IPv4.
    Icmpv4(Icmp<'a>),
    /// ICMPv6.
    Icmpv6(Icmp<'a>),
}

/// TCP flag bits as in the header's 13th byte (plus NS in bit 8).
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u16 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u16 = 0x02;
    /// Reset the connection.
    pub const RST: u16 = 0x04;
    /// Push function.
    pub const PSH: u16 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u16 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u16 = 0x20;
    /// ECN echo.
    pub const ECE: u16 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u16 = 0x80;
    /// ECN nonce (historic).
    pub const NS: u16 = 0x100;
}

/// A TCP segment.
#[derive(Clone, Debug)]
pub struct Tcp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags, see [`tcp_flags`].
    pub flags: u16,
    /// Receive window (unscaled).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Header length in bytes (data offset * 4).
    pub header_len: usize,
    /// Raw options bytes.
    pub options: &'a [u8],
    /// Segment data.
    pub payload: &'a [u8],
}

impl Tcp<'_> {
    /// True when every bit of `mask` is set.
    pub fn has(&self, mask: u16) -> bool {
        self.flags & mask == mask
    }
}

/// A UDP datagram.
#[derive(Clone, Debug)]
pub struct Udp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field as sent.
    pub length: u16,
    /// Datagram data.
    pub payload: &'a [u8],
}

/// An ICMPv4 or ICMPv6 message.
#[derive(Clone, Debug)]
pub struct Icmp<'a> {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Bytes 4..8 of the header (id and sequence for echo messages).
    pub rest: [u8; 4],
    /// Data after the 8-byte header.
    pub payload: &'a [u8],
}

impl Icmp<'_> {
    /// Identifier of an echo request/reply.
    pub fn echo_id(&self) -> u16 {
        u16::from_be_bytes([self.rest[0], self.rest[1]])
    }

    /// Sequence number of an echo request/reply.
    pub fn echo_seq(&self) -> u16 {
        u16::from_be_bytes([self.rest[2], self.rest[3]])
    }
}

/// The big-endian `u16` at `at`, if the data is long enough.
fn be16(data: &[u8], at: usize) -> Option<u16> {
    match data.get(at..at.checked_add(2)?)? {
        &[a, b] => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// Decodes one frame captured with link type `linktype`.
pub fn decode(linktype: LinkType, data: &[u8]) -> Packet<'_> {
    let mut pkt = Packet {
        data,
        ..Packet::default()
    };
    link::decode_link(&mut pkt, linktype, data);
    pkt
}

/// Decodes a buffer that starts with an IPv4 or IPv6 header, such as a
/// datagram rebuilt by defragmentation.
pub fn decode_ip(data: &[u8]) -> Packet<'_> {
    let mut pkt = Packet {
        data,
        ..Packet::default()
    };
    ip::decode_ip_layer(&mut pkt, data, 0);
    pkt
}

#[cfg(test)]
mod tests;
