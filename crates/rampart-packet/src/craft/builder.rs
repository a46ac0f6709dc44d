//! [`PacketBuilder`]: one packet, layer by layer, in a fluent style.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::conversation::segment;
use super::fragment::{FragmentLimit, Fragmenter};
use super::layers::{
    ChecksumMode, EthernetLayer, IcmpLayer, IpLayer, Ipv4Layer, Ipv6Extension, Ipv6Layer, MacAddr,
    TcpLayer, TransportLayer, UdpLayer, VlanTag,
};
use super::CraftError;

/// Builds one packet from its layers.
///
/// Methods chain and never fail on the spot: a method that does not apply
/// (`.seq()` on a UDP packet, `.ip_id()` on IPv6) records the first such
/// mistake and [`PacketBuilder::build`] returns it, so a test reads as one
/// expression:
///
/// ```
/// use rampart_packet::craft::{PacketBuilder, tcp_flags};
///
/// let frame = PacketBuilder::new()
///     .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
///     .ttl(32)
///     .tcp(40000, 80)
///     .seq(1000)
///     .ack(1)
///     .flags(tcp_flags::PSH | tcp_flags::ACK)
///     .payload(b"GET / HTTP/1.0\r\n\r\n")
///     .build()
///     .unwrap();
/// let pkt = rampart_packet::decode(rampart_packet::LinkType::Ethernet, &frame);
/// assert_eq!(pkt.ports(), Some((40000, 80)));
/// ```
///
/// The layers are public fields too, for tests that prefer to fill structs.
/// Every checksum and length is correct unless set otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketBuilder {
    /// The link layer; `None` builds a raw IP packet (LINKTYPE_RAW).
    pub ethernet: Option<EthernetLayer>,
    /// The network layer; `None` puts the payload straight into the frame.
    pub ip: Option<IpLayer>,
    /// The transport layer.
    pub transport: TransportLayer,
    /// Bytes after the last header.
    pub payload: Vec<u8>,
    /// The first misuse of a fluent method (such as `.seq()` without a TCP
    /// layer), which the build methods return. Public so that struct-style
    /// code can use `..PacketBuilder::new()`; leave it `None`.
    pub misuse: Option<CraftError>,
}

/// What a fluent setter needs from the packet.
macro_rules! with_layer {
    ($self:ident, $method:literal, $needs:literal, $pat:pat => $body:expr) => {{
        #[allow(unreachable_patterns)]
        match &mut $self {
            $pat => $body,
            _ => $self.fail($method, $needs),
        }
        $self
    }};
}

impl PacketBuilder {
    /// An Ethernet frame with the default MACs and no other layer yet.
    pub fn new() -> Self {
        PacketBuilder {
            ethernet: Some(EthernetLayer::default()),
            ..Self::default()
        }
    }

    /// An Ethernet frame from `src` to `dst`.
    pub fn ethernet(src: MacAddr, dst: MacAddr) -> Self {
        PacketBuilder {
            ethernet: Some(EthernetLayer {
                src,
                dst,
                ..EthernetLayer::default()
            }),
            ..Self::default()
        }
    }

    /// A packet without link layer: it starts with the IP header.
    pub fn raw() -> Self {
        Self::default()
    }

    fn fail(&mut self, method: &'static str, needs: &'static str) {
        if self.misuse.is_none() {
            self.misuse = Some(CraftError::MissingLayer { method, needs });
        }
    }

    fn fail_with(&mut self, e: CraftError) {
        if self.misuse.is_none() {
            self.misuse = Some(e);
        }
    }

    // ----- link layer -----

    /// Sets the source MAC.
    pub fn src_mac(mut self, mac: MacAddr) -> Self {
        with_layer!(self, "src_mac", "an Ethernet layer", PacketBuilder { ethernet: Some(e), .. } => e.src = mac)
    }

    /// Sets the destination MAC.
    pub fn dst_mac(mut self, mac: MacAddr) -> Self {
        with_layer!(self, "dst_mac", "an Ethernet layer", PacketBuilder { ethernet: Some(e), .. } => e.dst = mac)
    }

    /// Adds an 802.1Q tag (inside any tags added before).
    pub fn vlan(self, id: u16) -> Self {
        self.vlan_tag(VlanTag::new(id))
    }

    /// Adds a VLAN tag with full control of TPID, priority and DEI.
    pub fn vlan_tag(mut self, tag: VlanTag) -> Self {
        with_layer!(self, "vlan", "an Ethernet layer", PacketBuilder { ethernet: Some(e), .. } => e.vlans.push(tag))
    }

    /// Overrides the EtherType after the VLAN tags.
    pub fn ether_type(mut self, ether_type: u16) -> Self {
        with_layer!(self, "ether_type", "an Ethernet layer", PacketBuilder { ethernet: Some(e), .. } => e.ether_type = Some(ether_type))
    }

    // ----- network layer -----

    /// Adds an IPv4 header; accepts `Ipv4Addr` or `[u8; 4]`.
    pub fn ipv4(mut self, src: impl Into<Ipv4Addr>, dst: impl Into<Ipv4Addr>) -> Self {
        self.ip = Some(IpLayer::V4(Ipv4Layer::new(src.into(), dst.into())));
        self
    }

    /// Adds an IPv6 header; accepts `Ipv6Addr`, `[u8; 16]` or `[u16; 8]`.
    pub fn ipv6(mut self, src: impl Into<Ipv6Addr>, dst: impl Into<Ipv6Addr>) -> Self {
        self.ip = Some(IpLayer::V6(Ipv6Layer::new(src.into(), dst.into())));
        self
    }

    /// Adds an IPv4 or IPv6 header, as the addresses say; mixed versions are
    /// an error at build time.
    pub fn ip(mut self, src: IpAddr, dst: IpAddr) -> Self {
        match IpLayer::between(src, dst) {
            Ok(ip) => self.ip = Some(ip),
            Err(e) => self.fail_with(e),
        }
        self
    }

    /// Sets the IPv4 TTL or the IPv6 hop limit.
    pub fn ttl(mut self, ttl: u8) -> Self {
        with_layer!(self, "ttl", "an IP layer", PacketBuilder { ip: Some(ip), .. } => match ip {
            IpLayer::V4(h) => h.ttl = ttl,
            IpLayer::V6(h) => h.hop_limit = ttl,
        })
    }

    /// Sets the IPv4 TOS byte or the IPv6 traffic class.
    pub fn tos(mut self, tos: u8) -> Self {
        with_layer!(self, "tos", "an IP layer", PacketBuilder { ip: Some(ip), .. } => match ip {
            IpLayer::V4(h) => h.tos = tos,
            IpLayer::V6(h) => h.traffic_class = tos,
        })
    }

    /// Sets the IPv4 identification, or the identification used in IPv6
    /// fragment headers when this packet is fragmented.
    pub fn ip_id(mut self, id: u32) -> Self {
        match &mut self.ip {
            Some(IpLayer::V4(h)) => match u16::try_from(id) {
                Ok(id) => h.id = id,
                Err(_) => self.fail_with(CraftError::InvalidField {
                    field: "IPv4 identification",
                    value: u64::from(id),
                    why: "the IPv4 identification has 16 bits",
                }),
            },
            Some(IpLayer::V6(h)) => h.fragment_id = id,
            None => self.fail("ip_id", "an IP layer"),
        }
        self
    }

    /// Sets the IPv4 "don't fragment" flag.
    pub fn dont_fragment(mut self) -> Self {
        with_layer!(self, "dont_fragment", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.dont_fragment = true)
    }

    /// Sets the IPv4 "more fragments" flag.
    pub fn more_fragments(mut self) -> Self {
        with_layer!(self, "more_fragments", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.more_fragments = true)
    }

    /// Sets the IPv4 reserved ("evil") flag bit.
    pub fn reserved_flag(mut self) -> Self {
        with_layer!(self, "reserved_flag", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.reserved_flag = true)
    }

    /// Sets the IPv4 fragment offset in bytes (a multiple of 8). For IPv6
    /// add an [`Ipv6Extension::Fragment`] instead.
    pub fn fragment_offset(mut self, bytes: u32) -> Self {
        with_layer!(self, "fragment_offset", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.fragment_offset = bytes)
    }

    /// Sets the IPv4 option bytes (padded to a multiple of 4).
    pub fn ip_options(mut self, options: impl AsRef<[u8]>) -> Self {
        with_layer!(self, "ip_options", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.options = options.as_ref().to_vec())
    }

    /// Overrides the IPv4 header length field (in 32-bit words).
    pub fn ihl(mut self, words: u8) -> Self {
        with_layer!(self, "ihl", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.ihl = Some(words))
    }

    /// Sets the IPv6 flow label.
    pub fn flow_label(mut self, label: u32) -> Self {
        with_layer!(self, "flow_label", "an IPv6 layer", PacketBuilder { ip: Some(IpLayer::V6(h)), .. } => h.flow_label = label)
    }

    /// Appends an IPv6 extension header.
    pub fn ipv6_extension(mut self, ext: Ipv6Extension) -> Self {
        with_layer!(self, "ipv6_extension", "an IPv6 layer", PacketBuilder { ip: Some(IpLayer::V6(h)), .. } => h.extensions.push(ext))
    }

    /// Overrides the IP protocol (IPv4) or the last next-header (IPv6).
    pub fn ip_protocol(mut self, protocol: u8) -> Self {
        with_layer!(self, "ip_protocol", "an IP layer", PacketBuilder { ip: Some(ip), .. } => match ip {
            IpLayer::V4(h) => h.protocol = Some(protocol),
            IpLayer::V6(h) => h.next_header = Some(protocol),
        })
    }

    /// Overrides the IPv4 total length or the IPv6 payload length field.
    pub fn ip_len(mut self, len: u16) -> Self {
        with_layer!(self, "ip_len", "an IP layer", PacketBuilder { ip: Some(ip), .. } => match ip {
            IpLayer::V4(h) => h.total_len = Some(len),
            IpLayer::V6(h) => h.payload_len = Some(len),
        })
    }

    /// Sets how the IPv4 header checksum is written.
    pub fn ip_checksum(mut self, mode: ChecksumMode) -> Self {
        with_layer!(self, "ip_checksum", "an IPv4 layer", PacketBuilder { ip: Some(IpLayer::V4(h)), .. } => h.checksum = mode)
    }

    /// Makes the IPv4 header checksum wrong.
    pub fn ip_bad_checksum(self) -> Self {
        self.ip_checksum(ChecksumMode::Bad)
    }

    // ----- transport layer -----

    /// Adds a TCP header (a SYN with sequence number 0 until changed).
    pub fn tcp(mut self, src_port: u16, dst_port: u16) -> Self {
        self.transport = TransportLayer::Tcp(TcpLayer::new(src_port, dst_port));
        self
    }

    /// Adds a UDP header.
    pub fn udp(mut self, src_port: u16, dst_port: u16) -> Self {
        self.transport = TransportLayer::Udp(UdpLayer::new(src_port, dst_port));
        self
    }

    /// Adds an ICMPv4 header.
    pub fn icmpv4(mut self, icmp_type: u8, code: u8) -> Self {
        self.transport = TransportLayer::Icmpv4(IcmpLayer::new(icmp_type, code));
        self
    }

    /// Adds an ICMPv6 header.
    pub fn icmpv6(mut self, icmp_type: u8, code: u8) -> Self {
        self.transport = TransportLayer::Icmpv6(IcmpLayer::new(icmp_type, code));
        self
    }

    /// Adds an ICMP header of the IP layer's version (ICMPv6 over IPv6).
    pub fn icmp(self, icmp_type: u8, code: u8) -> Self {
        match self.ip {
            Some(IpLayer::V6(_)) => self.icmpv6(icmp_type, code),
            Some(IpLayer::V4(_)) => self.icmpv4(icmp_type, code),
            None => {
                let mut s = self;
                s.fail("icmp", "an IP layer (to pick ICMPv4 or ICMPv6)");
                s
            }
        }
    }

    /// Adds an echo request (type 8, or 128 over IPv6) with `id` and `seq`.
    pub fn icmp_echo_request(self, id: u16, seq: u16) -> Self {
        let v6 = matches!(self.ip, Some(IpLayer::V6(_)));
        self.icmp(if v6 { 128 } else { 8 }, 0)
            .icmp_id(id)
            .icmp_seq(seq)
    }

    /// Adds an echo reply (type 0, or 129 over IPv6) with `id` and `seq`.
    pub fn icmp_echo_reply(self, id: u16, seq: u16) -> Self {
        let v6 = matches!(self.ip, Some(IpLayer::V6(_)));
        self.icmp(if v6 { 129 } else { 0 }, 0)
            .icmp_id(id)
            .icmp_seq(seq)
    }

    /// Sets bytes 4..8 of the ICMP header.
    pub fn icmp_rest(mut self, rest: [u8; 4]) -> Self {
        with_layer!(self, "icmp_rest", "an ICMP layer",
            PacketBuilder { transport: TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i), .. } => i.rest = rest)
    }

    /// Sets the ICMP echo identifier (bytes 4..6).
    pub fn icmp_id(mut self, id: u16) -> Self {
        with_layer!(self, "icmp_id", "an ICMP layer",
        PacketBuilder { transport: TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i), .. } => {
            let [a, b] = id.to_be_bytes();
            let [_, _, c, d] = i.rest;
            i.rest = [a, b, c, d];
        })
    }

    /// Sets the ICMP echo sequence number (bytes 6..8).
    pub fn icmp_seq(mut self, seq: u16) -> Self {
        with_layer!(self, "icmp_seq", "an ICMP layer",
        PacketBuilder { transport: TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i), .. } => {
            let [c, d] = seq.to_be_bytes();
            let [a, b, _, _] = i.rest;
            i.rest = [a, b, c, d];
        })
    }

    /// Sets the TCP sequence number.
    pub fn seq(mut self, seq: u32) -> Self {
        with_layer!(self, "seq", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.seq = seq)
    }

    /// Sets the TCP acknowledgment number (the ACK flag is set separately).
    pub fn ack(mut self, ack: u32) -> Self {
        with_layer!(self, "ack", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.ack = ack)
    }

    /// Sets the TCP flags, see [`super::tcp_flags`].
    pub fn flags(mut self, flags: u16) -> Self {
        with_layer!(self, "flags", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.flags = flags)
    }

    /// Sets the TCP receive window.
    pub fn window(mut self, window: u16) -> Self {
        with_layer!(self, "window", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.window = window)
    }

    /// Sets the TCP urgent pointer.
    pub fn urgent(mut self, urgent: u16) -> Self {
        with_layer!(self, "urgent", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.urgent = urgent)
    }

    /// Sets the TCP option bytes (padded to a multiple of 4).
    pub fn tcp_options(mut self, options: impl AsRef<[u8]>) -> Self {
        with_layer!(self, "tcp_options", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.options = options.as_ref().to_vec())
    }

    /// Appends a maximum segment size option to the TCP options.
    pub fn mss_option(mut self, mss: u16) -> Self {
        with_layer!(self, "mss_option", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => {
            let [a, b] = mss.to_be_bytes();
            t.options.extend_from_slice(&[2, 4, a, b]);
        })
    }

    /// Overrides the TCP data offset field (in 32-bit words).
    pub fn data_offset(mut self, words: u8) -> Self {
        with_layer!(self, "data_offset", "a TCP layer", PacketBuilder { transport: TransportLayer::Tcp(t), .. } => t.data_offset = Some(words))
    }

    /// Overrides the UDP length field.
    pub fn udp_len(mut self, len: u16) -> Self {
        with_layer!(self, "udp_len", "a UDP layer", PacketBuilder { transport: TransportLayer::Udp(u), .. } => u.length = Some(len))
    }

    /// Sets how the transport checksum (TCP, UDP, ICMP) is written.
    pub fn checksum_mode(mut self, mode: ChecksumMode) -> Self {
        match &mut self.transport {
            TransportLayer::Tcp(t) => t.checksum = mode,
            TransportLayer::Udp(u) => u.checksum = mode,
            TransportLayer::Icmpv4(i) | TransportLayer::Icmpv6(i) => i.checksum = mode,
            TransportLayer::None => self.fail("checksum", "a TCP, UDP or ICMP layer"),
        }
        self
    }

    /// Writes exactly `value` as the transport checksum.
    pub fn checksum(self, value: u16) -> Self {
        self.checksum_mode(ChecksumMode::Value(value))
    }

    /// Makes the transport checksum wrong (see [`ChecksumMode::Bad`]).
    pub fn bad_checksum(self) -> Self {
        self.checksum_mode(ChecksumMode::Bad)
    }

    /// Sets the bytes after the last header.
    pub fn payload(mut self, payload: impl AsRef<[u8]>) -> Self {
        self.payload = payload.as_ref().to_vec();
        self
    }

    // ----- building -----

    fn check(&self) -> Result<(), CraftError> {
        match &self.misuse {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The IP payload: transport header and payload, checksummed for this
    /// packet's addresses. Useful to cut custom fragments from.
    pub fn build_transport(&self) -> Result<Vec<u8>, CraftError> {
        self.check()?;
        match &self.ip {
            Some(ip) => self.transport.serialize(ip.src(), ip.dst(), &self.payload),
            None if self.transport == TransportLayer::None => Ok(self.payload.clone()),
            None => Err(CraftError::MissingLayer {
                method: "build",
                needs: "an IP layer under the transport layer",
            }),
        }
    }

    /// The packet from the IP header on, without link layer.
    pub fn build_ip(&self) -> Result<Vec<u8>, CraftError> {
        let upper = self.build_transport()?;
        match &self.ip {
            Some(ip) => ip.serialize(self.transport.protocol(), &upper),
            None => Ok(upper),
        }
    }

    /// The whole frame: link layer (if any), IP, transport and payload.
    pub fn build(&self) -> Result<Vec<u8>, CraftError> {
        let ip = self.build_ip()?;
        self.link(&ip)
    }

    /// Wraps IP bytes in this builder's link layer (or returns them as they
    /// are for a raw packet).
    pub fn link(&self, ip_packet: &[u8]) -> Result<Vec<u8>, CraftError> {
        match &self.ethernet {
            Some(e) => e.frame(ip_packet),
            None => Ok(ip_packet.to_vec()),
        }
    }

    /// Builds the packet and splits it into fragments of at most `limit`,
    /// each wrapped in this builder's link layer. IPv6 fragments carry the
    /// IPv6 layer's `fragment_id`.
    pub fn build_fragments(&self, limit: FragmentLimit) -> Result<Vec<Vec<u8>>, CraftError> {
        let ip = self.build_ip()?;
        let ipv6_id = match &self.ip {
            Some(IpLayer::V6(h)) => h.fragment_id,
            _ => 1,
        };
        let fragments = Fragmenter { limit, ipv6_id }.fragment(&ip)?;
        fragments.iter().map(|f| self.link(f)).collect()
    }

    /// Crafts one fragment by hand: this packet's link and IP headers (its
    /// protocol taken from the transport layer, whose header is not
    /// written) carrying `data` at byte `offset` with the given MF flag.
    ///
    /// Any offsets, overlaps and gaps can be built this way; cut `data` from
    /// [`PacketBuilder::build_transport`] to fragment a real datagram, or
    /// use other bytes to build the conflicting overlaps that evasion tests
    /// need. IPv6 fragments get a fragment header after the existing
    /// extension headers, with the IPv6 layer's `fragment_id`.
    pub fn custom_fragment(
        &self,
        offset: u32,
        more: bool,
        data: &[u8],
    ) -> Result<Vec<u8>, CraftError> {
        self.check()?;
        let protocol = self.transport.protocol();
        let mut b = self.clone();
        b.transport = TransportLayer::None;
        b.payload = data.to_vec();
        match &mut b.ip {
            Some(IpLayer::V4(h)) => {
                h.protocol = Some(h.protocol.unwrap_or(protocol));
                h.fragment_offset = offset;
                h.more_fragments = more;
            }
            Some(IpLayer::V6(h)) => {
                h.next_header = Some(h.next_header.unwrap_or(protocol));
                h.extensions.push(Ipv6Extension::Fragment {
                    offset,
                    more,
                    id: h.fragment_id,
                });
            }
            None => {
                return Err(CraftError::MissingLayer {
                    method: "custom_fragment",
                    needs: "an IP layer",
                })
            }
        }
        b.build()
    }

    /// Cuts `data` into segments of at most `mss` bytes and builds one
    /// frame per segment with this builder's headers, the first carrying
    /// the TCP layer's sequence number and each next one advanced by the
    /// bytes before it. Flags and ACK number are the same on every segment.
    pub fn build_segments(&self, data: &[u8], mss: usize) -> Result<Vec<Vec<u8>>, CraftError> {
        self.check()?;
        let TransportLayer::Tcp(tcp) = &self.transport else {
            return Err(CraftError::MissingLayer {
                method: "build_segments",
                needs: "a TCP layer",
            });
        };
        segment(data, mss, tcp.seq)?
            .into_iter()
            .map(|s| {
                let mut b = self.clone();
                if let TransportLayer::Tcp(t) = &mut b.transport {
                    t.seq = s.seq;
                }
                b.payload = s.data.to_vec();
                b.build()
            })
            .collect()
    }
}
