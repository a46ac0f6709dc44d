//! The IP layer and the transport layer above it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::err::{ip::LaxHeaderSliceError, packet::SliceError, Layer};
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

use super::{tunnel, FragmentInfo, Icmp, IpHeader, Packet, Tcp, Transport, Udp};
use crate::DecoderEvent;

const PROTO_IPIP: u8 = 4;
const PROTO_IPV6: u8 = 41;
const PROTO_GRE: u8 = 47;

/// Decodes an IPv4 or IPv6 packet and its transport layer; `depth` is the
/// number of tunnels already unwrapped.
pub(super) fn decode_ip_layer<'a>(pkt: &mut Packet<'a>, data: &'a [u8], depth: u8) {
    let sliced = match LaxSlicedPacket::from_ip(data) {
        Ok(s) => s,
        Err(e) => {
            pkt.event(ip_header_event(data, &e));
            return;
        }
    };
    let Some(net) = &sliced.net else {
        pkt.event(DecoderEvent::Ipv4Truncated);
        return;
    };
    let mut ext_truncated = false;
    let header = match net {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let hslice = h.slice();
            let checksum_ok = ipv4_checksum_ok(hslice);
            if !checksum_ok {
                pkt.event(DecoderEvent::Ipv4BadChecksum);
            }
            let payload = v4.payload();
            if usize::from(h.total_len()) < hslice.len() {
                pkt.event(DecoderEvent::Ipv4TotalLenTooSmall);
            } else if payload.incomplete {
                pkt.event(DecoderEvent::Ipv4Truncated);
            }
            let offset = u32::from(h.fragments_offset().value()) * 8;
            let fragment = (h.more_fragments() || offset != 0).then(|| FragmentInfo {
                id: u32::from(h.identification()),
                offset,
                more: h.more_fragments(),
            });
            let header_len =
                hslice.len() + v4.extensions().auth.map(|a| a.slice().len()).unwrap_or(0);
            let end = (usize::from(h.total_len()))
                .clamp(hslice.len(), data.len())
                .max(end_of(data, payload.payload));
            IpHeader {
                version: 4,
                src: IpAddr::V4(Ipv4Addr::from(h.source())),
                dst: IpAddr::V4(Ipv4Addr::from(h.destination())),
                protocol: payload.ip_number.0,
                ttl: h.ttl(),
                id: u32::from(h.identification()),
                tos: hslice.get(1).copied().unwrap_or(0),
                dont_fragment: h.dont_fragment(),
                reserved_flag: hslice.get(6).is_some_and(|b| b & 0x80 != 0),
                fragment,
                checksum_ok: Some(checksum_ok),
                packet: data.get(..end).unwrap_or(data),
                header_len,
                unfragmentable_len: hslice.len(),
                payload: payload.payload,
                options: data.get(20..hslice.len()).unwrap_or(&[]),
            }
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let payload = v6.payload();
            if payload.incomplete {
                pkt.event(DecoderEvent::Ipv6Truncated);
            }
            let ext = v6.extensions().slice();
            let (fragment, unfragmentable_len, fh_events) =
                ipv6_fragment_info(data.get(6).copied().unwrap_or(0), ext);
            for e in fh_events.into_iter().flatten() {
                pkt.event(e);
            }
            // Like Suricata, an extension header chain that leaves fewer
            // than two bytes for the next header is itself truncated, and
            // what follows is not decoded as a transport header.
            const NO_NEXT_HEADER: u8 = 59;
            // (A real fragment's data is decoded after defragmentation.)
            ext_truncated = !ext.is_empty()
                && fragment.is_none()
                && payload.payload.len() < 2
                && payload.ip_number.0 != NO_NEXT_HEADER;
            let unfragmentable_len = h.slice().len() + unfragmentable_len;
            let header_len = h.slice().len() + v6.extensions().slice().len();
            let end = (header_len + usize::from(h.payload_length()))
                .clamp(40, data.len())
                .max(end_of(data, payload.payload));
            IpHeader {
                version: 6,
                src: IpAddr::V6(Ipv6Addr::from(h.source())),
                dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
                protocol: payload.ip_number.0,
                ttl: h.hop_limit(),
                id: fragment.map(|f| f.id).unwrap_or(0),
                tos: h.traffic_class(),
                dont_fragment: false,
                reserved_flag: false,
                fragment,
                checksum_ok: None,
                packet: data.get(..end).unwrap_or(data),
                header_len,
                unfragmentable_len,
                payload: payload.payload,
                options: &[],
            }
        }
        LaxNetSlice::Arp(_) => return,
    };
    let is_fragment = header.fragment.is_some();
    let protocol = header.protocol;
    let ip_payload = header.payload;
    pkt.ip = Some(header);
    pkt.tunnel_depth = depth;

    if ext_truncated {
        pkt.event(DecoderEvent::Ipv6ExtTruncated);
        return;
    }
    if let Some((err, layer)) = &sliced.stop_err {
        pkt.event(stop_event(err, *layer));
    }
    if is_fragment {
        // Transport headers of fragments are decoded after defragmentation.
        return;
    }
    if let Some(t) = sliced.transport {
        pkt.transport = match t {
            TransportSlice::Tcp(t) => Some(Transport::Tcp(Tcp {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                flags: tcp_flags(t.header_slice()),
                window: t.window_size(),
                urgent: t.urgent_pointer(),
                header_len: t.header_slice().len(),
                options: t.header_slice().get(20..).unwrap_or(&[]),
                payload: t.payload(),
            })),
            TransportSlice::Udp(u) => {
                let length = u.length();
                if usize::from(length) != u.slice().len() {
                    pkt.event(DecoderEvent::UdpLenInvalid);
                }
                Some(Transport::Udp(Udp {
                    src_port: u.source_port(),
                    dst_port: u.destination_port(),
                    length,
                    payload: u.payload(),
                }))
            }
            TransportSlice::Icmpv4(i) => Some(Transport::Icmpv4(Icmp {
                icmp_type: i.type_u8(),
                code: i.code_u8(),
                rest: i.bytes5to8(),
                payload: i.slice().get(8..).unwrap_or(&[]),
            })),
            TransportSlice::Icmpv6(i) => Some(Transport::Icmpv6(Icmp {
                icmp_type: i.type_u8(),
                code: i.code_u8(),
                rest: i.bytes5to8(),
                payload: i.slice().get(8..).unwrap_or(&[]),
            })),
            TransportSlice::Igmp(_) => None,
        };
        if let Some(Transport::Udp(u)) = &pkt.transport {
            let (sp, dp, payload) = (u.src_port, u.dst_port, u.payload);
            tunnel::decode_udp_tunnel(pkt, sp, dp, payload, depth);
        }
        return;
    }
    match protocol {
        PROTO_GRE => tunnel::decode_gre(pkt, ip_payload, depth),
        PROTO_IPIP | PROTO_IPV6 => {
            if let Some(d) = tunnel::deeper(pkt, depth) {
                pkt.tunnels.push(super::Tunnel::IpInIp);
                decode_ip_layer(pkt, ip_payload, d);
            }
        }
        _ => {}
    }
}

/// Walks the IPv6 extension headers etherparse delimited (`ext`, starting
/// with header type `first`) for the fragment header. Returns the fragment
/// fields, when the packet is a fragment, the length of the extension
/// headers before the first fragment header (the unfragmentable part), and
/// the anomalies seen (a duplicate fragment header; a "useless" one with
/// offset 0 and no more fragments).
///
/// Done here on the raw bytes rather than with etherparse's extension
/// iterator, which assumes the headers were fully validated and misbehaves
/// when the lax parse stopped early.
fn ipv6_fragment_info(
    first: u8,
    ext: &[u8],
) -> (Option<FragmentInfo>, usize, [Option<DecoderEvent>; 2]) {
    const HOP_BY_HOP: u8 = 0;
    const ROUTING: u8 = 43;
    const FRAGMENT: u8 = 44;
    const AUTH: u8 = 51;
    const DEST_OPTS: u8 = 60;
    let mut next = first;
    let mut off = 0usize;
    let mut found: Option<(Option<FragmentInfo>, usize)> = None;
    let mut events = [None, None];
    while let Some(&[nh, hlen, o1, o2, i1, i2, i3, i4, ..]) = ext.get(off..) {
        let len = match next {
            FRAGMENT => {
                let offset = u32::from(u16::from_be_bytes([o1, o2]) >> 3) * 8;
                let more = o2 & 1 == 1;
                let id = u32::from_be_bytes([i1, i2, i3, i4]);
                if found.is_some() {
                    events[0] = Some(DecoderEvent::Ipv6DuplicateFragmentHeader);
                } else {
                    if !more && offset == 0 {
                        events[1] = Some(DecoderEvent::Ipv6UselessFragmentHeader);
                    }
                    let frag = (more || offset != 0).then_some(FragmentInfo { id, offset, more });
                    found = Some((frag, off));
                }
                8
            }
            AUTH => (usize::from(hlen) + 2) * 4,
            HOP_BY_HOP | ROUTING | DEST_OPTS => (usize::from(hlen) + 1) * 8,
            _ => break,
        };
        next = nh;
        off += len;
    }
    match found {
        Some((frag, unfrag)) => (frag, unfrag, events),
        None => (None, off, events),
    }
}

/// Where `part` (a subslice of `data`) ends, as an offset into `data`.
/// When a length field lies, etherparse's lax parsing falls back to the
/// captured length for the payload; the packet slice must still cover it.
fn end_of(data: &[u8], part: &[u8]) -> usize {
    let start = (part.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
    start.saturating_add(part.len()).min(data.len())
}

/// Flags from the 13th and 14th header bytes (including NS).
fn tcp_flags(header: &[u8]) -> u16 {
    let hi = header.get(12).copied().unwrap_or(0) as u16 & 0x01;
    let lo = header.get(13).copied().unwrap_or(0) as u16;
    (hi << 8) | lo
}

/// Verifies the IPv4 header checksum (ones' complement sum must be 0xffff).
pub(crate) fn ipv4_checksum_ok(header: &[u8]) -> bool {
    ones_complement_sum(header) == 0xffff
}

/// The folded 16-bit ones' complement sum of `data` (odd length padded).
pub(crate) fn ones_complement_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let &[a, b] = c {
            sum += u32::from(u16::from_be_bytes([a, b]));
        }
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn ip_header_event(data: &[u8], e: &LaxHeaderSliceError) -> DecoderEvent {
    use etherparse::err::ip::HeaderError as H;
    let v6 = data.first().is_some_and(|b| b >> 4 == 6);
    match e {
        LaxHeaderSliceError::Len(_) => {
            if v6 {
                DecoderEvent::Ipv6Truncated
            } else {
                DecoderEvent::Ipv4Truncated
            }
        }
        LaxHeaderSliceError::Content(h) => match h {
            H::UnsupportedIpVersion { .. } => DecoderEvent::IpBadVersion,
            H::Ipv4HeaderLengthSmallerThanHeader { .. } => DecoderEvent::Ipv4HeaderTooSmall,
        },
    }
}

fn stop_event(err: &SliceError, layer: Layer) -> DecoderEvent {
    match (err, layer) {
        (SliceError::Tcp(_), _) => DecoderEvent::TcpHeaderTooSmall,
        (_, Layer::TcpHeader) => DecoderEvent::TcpTruncated,
        (_, Layer::UdpHeader) => DecoderEvent::UdpHeaderTruncated,
        (_, Layer::UdpPayload) => DecoderEvent::UdpTruncated,
        (_, Layer::Icmpv4 | Layer::Icmpv4Timestamp | Layer::Icmpv4TimestampReply) => {
            DecoderEvent::IcmpTruncated
        }
        (_, Layer::Icmpv6) => DecoderEvent::Icmpv6Truncated,
        (_, Layer::Igmp) => DecoderEvent::IgmpTruncated,
        (_, Layer::IpAuthHeader) | (SliceError::Ipv4Exts(_), _) => DecoderEvent::IpAuthInvalid,
        (
            _,
            Layer::Ipv6ExtHeader
            | Layer::Ipv6HopByHopHeader
            | Layer::Ipv6DestOptionsHeader
            | Layer::Ipv6RouteHeader
            | Layer::Ipv6FragHeader,
        ) => DecoderEvent::Ipv6ExtTruncated,
        (_, Layer::Ipv6Header | Layer::Ipv6Packet) => DecoderEvent::Ipv6Truncated,
        _ => DecoderEvent::Ipv4Truncated,
    }
}
