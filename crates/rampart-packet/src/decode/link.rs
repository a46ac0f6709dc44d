//! Link-layer framing: where in the frame the network header starts.

use super::{be16, ip, tunnel, Packet};
use crate::{DecoderEvent, LinkType};

/// EtherTypes decoded here rather than by etherparse.
pub(super) const ETH_MPLS_UC: u16 = 0x8847;
pub(super) const ETH_MPLS_MC: u16 = 0x8848;
pub(super) const ETH_PPPOE_SESSION: u16 = 0x8864;
pub(super) const ETH_PPPOE_DISCOVERY: u16 = 0x8863;
pub(super) const ETH_ARP: u16 = 0x0806;
pub(super) const ETH_IPV4: u16 = 0x0800;
pub(super) const ETH_IPV6: u16 = 0x86dd;
pub(super) const ETH_VLAN: u16 = 0x8100;
pub(super) const ETH_QINQ: u16 = 0x88a8;
pub(super) const ETH_QINQ_OLD: u16 = 0x9100;
pub(super) const ETH_TEB: u16 = 0x6558;
pub(super) const ETH_NSH: u16 = 0x894f;

pub(super) fn decode_link<'a>(pkt: &mut Packet<'a>, linktype: LinkType, data: &'a [u8]) {
    match linktype {
        LinkType::Ethernet => decode_ethernet(pkt, data, 0),
        LinkType::Raw => decode_raw_ip(pkt, data),
        LinkType::Ipv4 | LinkType::Ipv6 => decode_raw_ip(pkt, data),
        LinkType::Null | LinkType::Loop => {
            let Some(&[a, b, c, d]) = data.get(..4) else {
                pkt.event(DecoderEvent::NullTruncated);
                return;
            };
            // The family is in the writer's host byte order for DLT_NULL and
            // network order for DLT_LOOP; the value is small, so whichever
            // order gives a small number is the right one.
            let le = u32::from_le_bytes([a, b, c, d]);
            let be = u32::from_be_bytes([a, b, c, d]);
            let fam = if linktype == LinkType::Loop || le > 0xffff {
                be
            } else {
                le
            };
            let rest = data.get(4..).unwrap_or(&[]);
            match fam {
                2 => ip::decode_ip_layer(pkt, rest, 0),
                // AF_INET6 differs per OS: 10 Linux, 24 OpenBSD/NetBSD, 28 FreeBSD, 30 macOS.
                10 | 24 | 28 | 30 => ip::decode_ip_layer(pkt, rest, 0),
                _ => pkt.event(DecoderEvent::UnknownEtherType),
            }
        }
        LinkType::CiscoHdlc => {
            let (Some(proto), Some(rest)) = (be16(data, 2), data.get(4..)) else {
                pkt.event(DecoderEvent::LinkTruncated);
                return;
            };
            decode_ether_type(pkt, proto, rest, 0);
        }
        LinkType::LinuxSll => {
            // 16-byte header; protocol type in the last two bytes.
            let (Some(ether_type), Some(rest)) = (be16(data, 14), data.get(16..)) else {
                pkt.event(DecoderEvent::SllTruncated);
                return;
            };
            decode_ether_type(pkt, ether_type, rest, 0);
        }
        LinkType::LinuxSll2 => {
            // 20-byte header; protocol type in the first two bytes.
            let (Some(ether_type), Some(rest)) = (be16(data, 0), data.get(20..)) else {
                pkt.event(DecoderEvent::SllTruncated);
                return;
            };
            decode_ether_type(pkt, ether_type, rest, 0);
        }
        LinkType::Other(_) => pkt.event(DecoderEvent::UnsupportedLinkType),
    }
}

fn decode_raw_ip<'a>(pkt: &mut Packet<'a>, data: &'a [u8]) {
    ip::decode_ip_layer(pkt, data, 0);
}

/// Decodes an Ethernet II frame (with VLAN tags) at tunnel depth `depth`.
///
/// The 14-byte Ethernet header is read here directly: the IP layer and
/// everything above go through etherparse's lax slicing in [`ip`], and
/// parsing the whole frame with etherparse first would decode the IP
/// headers twice.
pub(super) fn decode_ethernet<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let (Some(et), Some(rest)) = (be16(data, 12), data.get(14..)) else {
        pkt.event(DecoderEvent::EthernetTruncated);
        return;
    };
    decode_ether_type(pkt, et, rest, depth);
}

/// Decodes the payload of a frame whose EtherType is known.
pub(super) fn decode_ether_type<'a>(
    pkt: &mut Packet<'a>,
    ether_type: u16,
    data: &'a [u8],
    depth: u8,
) {
    match ether_type {
        ETH_IPV4 | ETH_IPV6 => ip::decode_ip_layer(pkt, data, depth),
        ETH_ARP => decode_arp(pkt, data),
        ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => decode_vlan_tags(pkt, ether_type, data, depth),
        ETH_MPLS_UC | ETH_MPLS_MC => tunnel::decode_mpls(pkt, data, depth),
        ETH_PPPOE_SESSION => tunnel::decode_pppoe(pkt, data, depth),
        ETH_PPPOE_DISCOVERY => {}
        ETH_NSH => tunnel::decode_nsh(pkt, data, depth),
        ETH_TEB => {
            if let Some(d) = tunnel::deeper(pkt, depth) {
                decode_ethernet(pkt, data, d);
            }
        }
        _ => {
            // Non-IP traffic (LLDP, STP via 802.3 lengths, ...) is not an
            // anomaly; only count EtherTypes that look like real types.
            if ether_type >= 0x0600 {
                pkt.event(DecoderEvent::UnknownEtherType);
            }
        }
    }
}

/// One 802.1Q / 802.1ad tag; QinQ is two of these in a row.
fn decode_vlan_tags<'a>(pkt: &mut Packet<'a>, _ether_type: u16, data: &'a [u8], depth: u8) {
    let (Some(tci), Some(inner), Some(rest)) = (be16(data, 0), be16(data, 2), data.get(4..)) else {
        pkt.event(DecoderEvent::VlanTruncated);
        return;
    };
    if !pkt.vlans.push(tci & 0x0fff) {
        pkt.event(DecoderEvent::VlanTooMany);
        return;
    }
    decode_ether_type(pkt, inner, rest, depth);
}

fn decode_arp(pkt: &mut Packet<'_>, data: &[u8]) {
    match etherparse::ArpPacketSlice::from_slice(data) {
        Ok(arp) => {
            let v4 = |b: &[u8]| -> Option<std::net::Ipv4Addr> {
                let a: [u8; 4] = b.try_into().ok()?;
                Some(std::net::Ipv4Addr::from(a))
            };
            pkt.arp = Some(super::Arp {
                operation: arp.operation().0,
                sender_ip: v4(arp.sender_protocol_addr()),
                target_ip: v4(arp.target_protocol_addr()),
            });
        }
        _ => pkt.event(DecoderEvent::ArpTruncated),
    }
}
