//! Counters the pipeline keeps about the traffic it saw.

use serde::Serialize;

use rampart_packet::decode::{Transport, Tunnel};
use rampart_packet::{DecoderEventCounters, Packet};
use rampart_stream::ReassemblyStats;

/// Packets and bytes of one protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Packets.
    pub packets: u64,
    /// Bytes of the whole captured frames.
    pub bytes: u64,
}

impl Count {
    fn add(&mut self, bytes: u64) {
        self.packets += 1;
        self.bytes += bytes;
    }
}

/// Packets and bytes per protocol layer. A packet counts once in every layer
/// it carries (an IPv4 TCP packet counts in `ipv4` and in `tcp`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolCounters {
    /// Every frame read.
    pub total: Count,
    /// Frames with at least one VLAN tag.
    pub vlan: Count,
    /// ARP.
    pub arp: Count,
    /// IPv4 (innermost IP layer).
    pub ipv4: Count,
    /// IPv6 (innermost IP layer).
    pub ipv6: Count,
    /// IP fragments (before reassembly).
    pub fragments: Count,
    /// TCP.
    pub tcp: Count,
    /// UDP.
    pub udp: Count,
    /// ICMPv4.
    pub icmpv4: Count,
    /// ICMPv6.
    pub icmpv6: Count,
    /// IP packets whose transport is none of the above (GRE without a
    /// decodable payload, ESP, SCTP, IGMP...).
    pub other_ip: Count,
    /// Frames with no IP or ARP layer (LLDP, STP, unknown EtherTypes...).
    pub non_ip: Count,
    /// Frames that crossed a GRE tunnel.
    pub gre: Count,
    /// Frames that crossed an MPLS label stack.
    pub mpls: Count,
    /// Frames that crossed PPPoE.
    pub pppoe: Count,
    /// Frames that crossed VXLAN.
    pub vxlan: Count,
    /// Frames that crossed Teredo.
    pub teredo: Count,
    /// Frames that crossed IP-in-IP.
    pub ipip: Count,
    /// Frames that carried a Network Service Header.
    pub nsh: Count,
    /// Frames that crossed Geneve.
    pub geneve: Count,
    /// Frames with at least one decoder event.
    pub invalid: Count,
}

impl ProtocolCounters {
    /// Accounts one decoded frame.
    pub fn account(&mut self, pkt: &Packet<'_>) {
        let n = pkt.data.len() as u64;
        self.total.add(n);
        if !pkt.vlans.ids().is_empty() {
            self.vlan.add(n);
        }
        for t in pkt.tunnels.iter() {
            match t {
                Tunnel::Gre => self.gre.add(n),
                Tunnel::Mpls => self.mpls.add(n),
                Tunnel::Pppoe => self.pppoe.add(n),
                Tunnel::Vxlan => self.vxlan.add(n),
                Tunnel::Teredo => self.teredo.add(n),
                Tunnel::IpInIp => self.ipip.add(n),
                Tunnel::Nsh => self.nsh.add(n),
                Tunnel::Geneve => self.geneve.add(n),
            }
        }
        if !pkt.events.is_empty() {
            self.invalid.add(n);
        }
        if pkt.arp.is_some() {
            self.arp.add(n);
            return;
        }
        let Some(ip) = &pkt.ip else {
            self.non_ip.add(n);
            return;
        };
        if ip.is_v4() {
            self.ipv4.add(n);
        } else {
            self.ipv6.add(n);
        }
        if ip.fragment.is_some() {
            self.fragments.add(n);
            return;
        }
        match &pkt.transport {
            Some(Transport::Tcp(_)) => self.tcp.add(n),
            Some(Transport::Udp(_)) => self.udp.add(n),
            Some(Transport::Icmpv4(_)) => self.icmpv4.add(n),
            Some(Transport::Icmpv6(_)) => self.icmpv6.add(n),
            None => self.other_ip.add(n),
        }
    }

    /// The non-zero counters by name, in a stable order, for reports.
    pub fn rows(&self) -> Vec<(&'static str, Count)> {
        let all = [
            ("total", self.total),
            ("vlan", self.vlan),
            ("arp", self.arp),
            ("ipv4", self.ipv4),
            ("ipv6", self.ipv6),
            ("fragments", self.fragments),
            ("tcp", self.tcp),
            ("udp", self.udp),
            ("icmpv4", self.icmpv4),
            ("icmpv6", self.icmpv6),
            ("other_ip", self.other_ip),
            ("non_ip", self.non_ip),
            ("gre", self.gre),
            ("mpls", self.mpls),
            ("pppoe", self.pppoe),
            ("vxlan", self.vxlan),
            ("teredo", self.teredo),
            ("ipip", self.ipip),
            ("nsh", self.nsh),
            ("geneve", self.geneve),
            ("invalid", self.invalid),
        ];
        all.into_iter().filter(|(_, c)| c.packets > 0).collect()
    }
}

/// Everything the pipeline counts.
#[derive(Clone, Debug, Default)]
pub struct PipelineStats {
    /// Per-protocol packets and bytes.
    pub protocols: ProtocolCounters,
    /// Decoder events by reason.
    pub decoder_events: DecoderEventCounters,
    /// Datagrams rebuilt by defragmentation and decoded again.
    pub reassembled_datagrams: u64,
    /// TCP reassembly counters of the flows that have ended.
    pub reassembly: ReassemblyStats,
}
