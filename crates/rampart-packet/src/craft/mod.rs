//! Packet crafting: single packets, fragment trains and whole TCP
//! conversations, built from a description and returned as bytes.
//!
//! An IDS is only as good as the traffic it was tested on, and real captures
//! rarely contain the odd cases that matter (overlapping fragments, lying
//! lengths, retransmissions, a segment split exactly inside a pattern). This
//! module is Rampart's scapy: tests and users describe the packets they want
//! and get exact bytes back, ready for [`crate::decode()`], for the engine, or
//! for [`crate::pcap::PcapWriter`].
//!
//! * [`PacketBuilder`] builds one frame layer by layer (Ethernet with VLAN
//!   tags, IPv4 or IPv6 with extension headers, TCP/UDP/ICMP, payload).
//!   Checksums and lengths are right unless deliberately set wrong.
//! * [`fragment`] and [`Fragmenter`] split an IP packet into fragments;
//!   [`PacketBuilder::custom_fragment`] crafts arbitrary ones for overlap
//!   tests.
//! * [`segment`] and [`TcpConversation`] cut data into TCP segments and
//!   build a complete connection (handshake, data, ACKs, teardown).
//! * [`frames`] reorders, duplicates, drops and re-times frame lists.
//! * [`spec`] reads a TOML description of all of the above; it is what
//!   `rampart craft` runs.
//!
//! Nothing here panics on bad requests: everything that can be asked for
//! wrongly returns a [`CraftError`].

mod builder;
mod checksum;
mod conversation;
mod error;
mod fragment;
pub mod frames;
mod layers;
mod parse;
pub mod spec;

pub use builder::PacketBuilder;
pub use conversation::{segment, Close, Message, Segment, Side, TcpConversation};
pub use error::{CraftError, SpecLocation};
pub use fragment::{fragment, FragmentLimit, Fragmenter};
pub use frames::Frame;
pub use layers::{
    ChecksumMode, EthernetLayer, IcmpLayer, IpLayer, Ipv4Layer, Ipv6Extension, Ipv6Layer, MacAddr,
    TcpLayer, TransportLayer, UdpLayer, VlanTag, DEFAULT_DST_MAC, DEFAULT_SRC_MAC,
};
pub use parse::{parse_content, parse_hex, parse_mac, parse_tcp_flags};

/// TCP flag bits, shared with the decoder so that a crafted flag value can be
/// compared with a decoded one directly.
pub use crate::decode::tcp_flags;

/// IP protocol numbers the builder fills in by itself.
pub mod ip_proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 hop-by-hop options header.
    pub const HOP_BY_HOP: u8 = 0;
    /// IPv6 routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 "no next header".
    pub const NO_NEXT_HEADER: u8 = 59;
    /// IPv6 destination options header.
    pub const DEST_OPTIONS: u8 = 60;
    /// Reserved for experimentation (RFC 3692); the protocol of a packet
    /// built without a transport layer and without an explicit protocol.
    pub const EXPERIMENTAL: u8 = 253;
}

#[cfg(test)]
mod tests;
