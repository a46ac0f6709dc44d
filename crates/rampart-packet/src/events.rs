//! Decoder events: why a packet could not be decoded completely.
//!
//! An IDS must not drop what it cannot parse silently: malformed packets are
//! both evidence (evasion attempts, broken stacks) and a health signal for the
//! sensor. Every reason has a stable name, matching Suricata's `decoder.event`
//! naming where one exists, so counters can be compared side by side.

use serde::Serialize;

macro_rules! decoder_events {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// One reason a packet was malformed or only partly decoded.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[repr(u8)]
        pub enum DecoderEvent {
            $(#[doc = $doc] $variant,)*
        }

        impl DecoderEvent {
            /// Every event, in counter order.
            pub const ALL: &'static [DecoderEvent] = &[$(DecoderEvent::$variant,)*];

            /// The stable, Suricata-style name used in outputs (`ipv4.trunc_pkt`).
            pub fn name(self) -> &'static str {
                match self {
                    $(DecoderEvent::$variant => $name,)*
                }
            }
        }
    };
}

decoder_events! {
    LinkTruncated => "link.trunc_pkt", "The frame is shorter than its link-layer header.";
    UnsupportedLinkType => "link.unsupported", "The capture's link type is not one Rampart decodes.";
    EthernetTruncated => "ethernet.pkt_too_small", "Shorter than an Ethernet header.";
    VlanTruncated => "vlan.trunc_pkt", "An 802.1Q/802.1ad tag was cut off.";
    VlanTooMany => "vlan.too_many_layers", "More VLAN tags than Rampart follows.";
    SllTruncated => "sll.pkt_too_small", "Shorter than a Linux cooked header.";
    NullTruncated => "null.pkt_too_small", "Shorter than a BSD loopback header.";
    UnknownEtherType => "ethernet.unknown_ethertype", "An EtherType that Rampart does not decode.";
    ArpTruncated => "arp.pkt_too_small", "An ARP packet was cut off or malformed.";
    Ipv4Truncated => "ipv4.trunc_pkt", "Shorter than the IPv4 header, or total length beyond the captured data.";
    Ipv4HeaderTooSmall => "ipv4.hlen_too_small", "IHL below 5 (20 bytes).";
    Ipv4TotalLenTooSmall => "ipv4.iplen_smaller_than_hlen", "Total length smaller than the header length.";
    Ipv4BadChecksum => "ipv4.bad_checksum", "The IPv4 header checksum is wrong (the packet is still processed).";
    Ipv4OptionsInvalid => "ipv4.opt_invalid", "IPv4 options whose lengths do not add up.";
    IpBadVersion => "ip.bad_version", "The version nibble is neither 4 nor 6.";
    Ipv6Truncated => "ipv6.trunc_pkt", "Shorter than the IPv6 header, or payload length beyond the captured data.";
    Ipv6ExtTruncated => "ipv6.trunc_exthdr", "An IPv6 extension header was cut off or malformed.";
    Ipv6DuplicateFragmentHeader => "ipv6.exthdr_dupl_fh", "More than one IPv6 fragment header.";
    Ipv6UselessFragmentHeader => "ipv6.exthdr_useless_fh", "An IPv6 fragment header with offset 0 and no more fragments.";
    IpAuthInvalid => "ip.auth_invalid", "A malformed IP authentication header.";
    TcpTruncated => "tcp.pkt_too_small", "Shorter than a TCP header.";
    TcpHeaderTooSmall => "tcp.hlen_too_small", "TCP data offset below 5 (20 bytes).";
    TcpOptionsInvalid => "tcp.invalid_optlen", "TCP options whose lengths do not add up.";
    UdpHeaderTruncated => "udp.hlen_too_small", "Shorter than a UDP header (8 bytes).";
    UdpTruncated => "udp.pkt_too_small", "Shorter than the UDP length field says.";
    UdpLenInvalid => "udp.len_invalid", "The UDP length field disagrees with the IP payload.";
    IcmpTruncated => "icmp.pkt_too_small", "Shorter than an ICMP header.";
    Icmpv6Truncated => "icmpv6.pkt_too_small", "Shorter than an ICMPv6 header.";
    IgmpTruncated => "igmp.pkt_too_small", "Shorter than an IGMP header.";
    GreTruncated => "gre.pkt_too_small", "A GRE header was cut off.";
    GreUnsupported => "gre.version_unsupported", "A GRE version or flag set Rampart does not follow.";
    MplsTruncated => "mpls.pkt_too_small", "An MPLS label stack was cut off.";
    NshInvalid => "nsh.bad_header_length", "A Network Service Header that is cut off, of an unknown version or MD type, or followed by an unknown protocol.";
    PppoeTruncated => "pppoe.pkt_too_small", "A PPPoE header was cut off.";
    TunnelTooDeep => "tunnel.too_deep", "More nested encapsulations than Rampart follows.";
    MacsecInvalid => "macsec.invalid", "A malformed MACsec header.";
}

/// Per-reason counters of decoder events, cheap enough to bump per packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecoderEventCounters {
    counts: Vec<u64>,
}

impl Default for DecoderEventCounters {
    fn default() -> Self {
        DecoderEventCounters {
            counts: vec![0; DecoderEvent::ALL.len()],
        }
    }
}

impl DecoderEventCounters {
    /// Counts one occurrence of `event`.
    pub fn bump(&mut self, event: DecoderEvent) {
        if let Some(c) = self.counts.get_mut(event as usize) {
            *c += 1;
        }
    }

    /// The count for one event.
    pub fn get(&self, event: DecoderEvent) -> u64 {
        self.counts.get(event as usize).copied().unwrap_or(0)
    }

    /// Sum over all events.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The non-zero counters, by name, in a stable order.
    pub fn nonzero(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DecoderEvent::ALL
            .iter()
            .map(|e| (e.name(), self.get(*e)))
            .filter(|(_, n)| *n > 0)
    }

    /// Adds another set of counters to this one (merging per-worker stats).
    pub fn merge(&mut self, other: &DecoderEventCounters) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
    }
}
