//! Encapsulations whose inner packet is what flows and rules see:
//! GRE (with ERSPAN and PPTP's enhanced GRE), MPLS, PPPoE, VXLAN, Teredo.

use super::{be16, ip, link, Packet, Tunnel, MAX_TUNNEL_DEPTH};
use crate::DecoderEvent;

/// Geneve's IANA port.
const GENEVE_PORT: u16 = 6081;
const VXLAN_PORT: u16 = 4789;
const TEREDO_PORT: u16 = 3544;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const GRE_PPP: u16 = 0x880b;
const GRE_ERSPAN2: u16 = 0x88be;
const GRE_ERSPAN3: u16 = 0x22eb;

/// The next tunnel depth, or `None` (with an event) when too deep.
pub(super) fn deeper(pkt: &mut Packet<'_>, depth: u8) -> Option<u8> {
    if depth >= MAX_TUNNEL_DEPTH {
        pkt.event(DecoderEvent::TunnelTooDeep);
        None
    } else {
        Some(depth + 1)
    }
}

/// GRE (RFC 2784/2890) and enhanced GRE version 1 (RFC 2637, PPTP).
pub(super) fn decode_gre<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let (Some(flags), Some(proto)) = (be16(data, 0), be16(data, 2)) else {
        pkt.event(DecoderEvent::GreTruncated);
        return;
    };
    let version = flags & 0x0007;
    let mut off = 4usize;
    match version {
        0 => {
            if flags & 0x8000 != 0 || flags & 0x4000 != 0 {
                off += 4; // checksum + reserved (or routing offset)
            }
            if flags & 0x2000 != 0 {
                off += 4; // key
            }
            if flags & 0x1000 != 0 {
                off += 4; // sequence
            }
            if flags & 0x4000 != 0 {
                // Source routing (RFC 1701) is obsolete; not followed.
                pkt.event(DecoderEvent::GreUnsupported);
                return;
            }
        }
        1 => {
            if proto != GRE_PPP || flags & 0x2000 == 0 {
                pkt.event(DecoderEvent::GreUnsupported);
                return;
            }
            off += 4; // payload length + call id
            if flags & 0x1000 != 0 {
                off += 4;
            }
            if flags & 0x0080 != 0 {
                off += 4; // acknowledgment
            }
        }
        _ => {
            pkt.event(DecoderEvent::GreUnsupported);
            return;
        }
    }
    let Some(inner) = data.get(off..) else {
        pkt.event(DecoderEvent::GreTruncated);
        return;
    };
    let Some(d) = deeper(pkt, depth) else { return };
    pkt.tunnels.push(Tunnel::Gre);
    match proto {
        GRE_PPP => decode_ppp(pkt, inner, d),
        GRE_ERSPAN2 => match inner.get(8..) {
            Some(eth) => link::decode_ethernet(pkt, eth, d),
            None => pkt.event(DecoderEvent::GreTruncated),
        },
        GRE_ERSPAN3 => match inner.get(12..) {
            Some(eth) => link::decode_ethernet(pkt, eth, d),
            None => pkt.event(DecoderEvent::GreTruncated),
        },
        other => link::decode_ether_type(pkt, other, inner, d),
    }
}

/// A PPP frame (optionally with HDLC address/control bytes).
fn decode_ppp<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let data = if data.starts_with(&[0xff, 0x03]) {
        data.get(2..).unwrap_or(&[])
    } else {
        data
    };
    // Protocol field compression: a one-byte protocol has its low bit set.
    let (proto, rest) = match data.first() {
        Some(b) if b & 1 == 1 => (u16::from(*b), data.get(1..).unwrap_or(&[])),
        _ => match be16(data, 0) {
            Some(p) => (p, data.get(2..).unwrap_or(&[])),
            None => {
                pkt.event(DecoderEvent::PppoeTruncated);
                return;
            }
        },
    };
    match proto {
        PPP_IPV4 | PPP_IPV6 => ip::decode_ip_layer(pkt, rest, depth),
        _ => {}
    }
}

/// PPPoE session stage (RFC 2516): 6-byte header, then PPP.
pub(super) fn decode_pppoe<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let Some(ppp) = data.get(6..) else {
        pkt.event(DecoderEvent::PppoeTruncated);
        return;
    };
    let Some(d) = deeper(pkt, depth) else { return };
    pkt.tunnels.push(Tunnel::Pppoe);
    decode_ppp(pkt, ppp, d);
}

/// An MPLS label stack followed by IPv4, IPv6 or an Ethernet pseudowire.
pub(super) fn decode_mpls<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let mut off = 0usize;
    let mut label;
    loop {
        let Some(&[e0, e1, e2, _ttl]) = data.get(off..off + 4) else {
            pkt.event(DecoderEvent::MplsTruncated);
            return;
        };
        label = (u32::from(e0) << 12) | (u32::from(e1) << 4) | (u32::from(e2) >> 4);
        off += 4;
        if e2 & 0x01 != 0 {
            break;
        }
        if off > 4 * 16 {
            pkt.event(DecoderEvent::MplsTruncated);
            return;
        }
    }
    let Some(inner) = data.get(off..) else {
        pkt.event(DecoderEvent::MplsTruncated);
        return;
    };
    let Some(d) = deeper(pkt, depth) else { return };
    pkt.tunnels.push(Tunnel::Mpls);
    match (label, inner.first().map(|b| b >> 4)) {
        (0, _) | (_, Some(4)) => ip::decode_ip_layer(pkt, inner, d),
        (2, _) | (_, Some(6)) => ip::decode_ip_layer(pkt, inner, d),
        // A zero nibble is the pseudowire control word, then Ethernet.
        (_, Some(0)) => match inner.get(4..) {
            Some(eth) => link::decode_ethernet(pkt, eth, d),
            None => pkt.event(DecoderEvent::MplsTruncated),
        },
        _ => {}
    }
}

/// Network Service Header (RFC 8300, EtherType 0x894F): service function
/// chaining metadata in front of an IPv4, IPv6, Ethernet or MPLS payload.
/// The header length field (in 4-byte words) says where the payload starts;
/// MD type 1 headers are exactly 24 bytes.
pub(super) fn decode_nsh<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let Some(&[b0, b1, b2, next]) = data.get(..4) else {
        pkt.event(DecoderEvent::NshInvalid);
        return;
    };
    let version = b0 >> 6;
    let words = usize::from(b1 & 0x3f);
    let md_type = b2 & 0x0f;
    let len = words * 4;
    let valid = version == 0
        && len >= 8
        && match md_type {
            1 => len == 24,
            2 => true,
            _ => false,
        };
    let Some(inner) = data.get(len..).filter(|_| valid) else {
        pkt.event(DecoderEvent::NshInvalid);
        return;
    };
    let Some(d) = deeper(pkt, depth) else { return };
    pkt.tunnels.push(Tunnel::Nsh);
    match next {
        1 | 2 => ip::decode_ip_layer(pkt, inner, d),
        3 => link::decode_ethernet(pkt, inner, d),
        5 => decode_mpls(pkt, inner, d),
        _ => pkt.event(DecoderEvent::NshInvalid),
    }
}

/// VXLAN (UDP 4789) and Teredo (UDP 3544) carried in a UDP datagram.
pub(super) fn decode_udp_tunnel<'a>(
    pkt: &mut Packet<'a>,
    src_port: u16,
    dst_port: u16,
    payload: &'a [u8],
    depth: u8,
) {
    if dst_port == VXLAN_PORT {
        // Flags byte with the I bit (0x08) set, then 7 bytes; then Ethernet.
        if payload.first().is_some_and(|f| f & 0x08 != 0) && payload.len() >= 8 + 14 {
            if let (Some(d), Some(eth)) = (deeper(pkt, depth), payload.get(8..)) {
                pkt.tunnels.push(Tunnel::Vxlan);
                pkt.transport = None;
                link::decode_ethernet(pkt, eth, d);
            }
        }
    } else if dst_port == GENEVE_PORT {
        decode_geneve(pkt, payload, depth);
    } else if src_port == TEREDO_PORT || dst_port == TEREDO_PORT {
        if let Some(inner) = teredo_inner(payload) {
            if let Some(d) = deeper(pkt, depth) {
                pkt.tunnels.push(Tunnel::Teredo);
                pkt.transport = None;
                ip::decode_ip_layer(pkt, inner, d);
            }
        }
    }
}

/// Geneve (RFC 8926, UDP 6081): an 8-byte header plus options (length in
/// 4-byte words), then Ethernet (protocol 0x6558) or IP.
fn decode_geneve<'a>(pkt: &mut Packet<'a>, payload: &'a [u8], depth: u8) {
    let (Some(&b0), Some(proto)) = (payload.first(), be16(payload, 2)) else {
        return;
    };
    let version = b0 >> 6;
    let options = usize::from(b0 & 0x3f) * 4;
    let Some(inner) = payload.get(8 + options..).filter(|_| version == 0) else {
        return;
    };
    let Some(d) = deeper(pkt, depth) else { return };
    match proto {
        0x6558 => {
            pkt.tunnels.push(Tunnel::Geneve);
            pkt.transport = None;
            link::decode_ethernet(pkt, inner, d);
        }
        0x0800 | 0x86dd => {
            pkt.tunnels.push(Tunnel::Geneve);
            pkt.transport = None;
            ip::decode_ip_layer(pkt, inner, d);
        }
        _ => {}
    }
}

/// The IPv6 packet inside a Teredo datagram, only when it is plausibly one
/// (Teredo shares its port with other traffic): skips the authentication and
/// origin-indication headers and checks version and length.
fn teredo_inner(payload: &[u8]) -> Option<&[u8]> {
    let mut p = payload;
    if p.starts_with(&[0x00, 0x01]) {
        let id_len = usize::from(*p.get(2)?);
        let au_len = usize::from(*p.get(3)?);
        p = p.get(4 + id_len + au_len + 9..)?;
    }
    if p.starts_with(&[0x00, 0x00]) {
        p = p.get(8..)?;
    }
    if p.first()? >> 4 != 6 || p.len() < 40 {
        return None;
    }
    let plen = usize::from(be16(p, 4)?);
    // Teredo carries whole IPv6 packets; a next header of 59 (no next header)
    // is the bubble packet, which is valid too.
    (plen + 40 == p.len()).then_some(p)
}
