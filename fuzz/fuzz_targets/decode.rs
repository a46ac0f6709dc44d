//! Fuzzes the lenient decoder: `decode` for every link type and `decode_ip`.
//!
//! Input: `[link selector][frame ...]`. The selector indexes `LINK_TYPES`
//! (modulo its length) and the number is mapped with
//! `LinkType::from_u32`, so every named link type and a few unnamed ones are
//! equally likely. The same frame bytes are also given to `decode_ip`.
//!
//! Checks: no panic; every field of the resulting `Packet` is read; the
//! slices it hands out lie inside the frame; the bounded lists respect their
//! bounds.
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;
use rampart_packet::decode::{Packet, Transport, MAX_TUNNEL_DEPTH};
use rampart_packet::{decode, decode_ip, LinkType};

/// LINKTYPE numbers tried, in selector order (Ethernet first so that seeds
/// taken from Ethernet captures start with a 0 byte).
const LINK_TYPES: [u32; 13] = [1, 0, 101, 12, 14, 228, 229, 113, 276, 108, 104, 147, 9];

/// True when `part` is empty or lies within `whole` in memory.
fn within(part: &[u8], whole: &[u8]) -> bool {
    if part.is_empty() {
        return true;
    }
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= w && p + part.len() <= w + whole.len()
}

fn touch(pkt: &Packet<'_>, frame: &[u8]) {
    assert!(within(pkt.data, frame));
    assert!(pkt.vlans.ids().len() <= 3);
    black_box(pkt.vlan_id());
    for id in pkt.vlans.ids() {
        black_box(id);
    }
    if let Some(arp) = &pkt.arp {
        black_box((arp.operation, arp.sender_ip, arp.target_ip));
    }
    assert!(
        pkt.tunnel_depth <= MAX_TUNNEL_DEPTH,
        "tunnel depth {}",
        pkt.tunnel_depth
    );
    assert!(pkt.tunnels.iter().count() <= MAX_TUNNEL_DEPTH as usize);
    for t in pkt.tunnels.iter() {
        black_box(t);
    }
    let mut n_events = 0;
    for e in pkt.events.iter() {
        assert!(pkt.events.contains(e));
        black_box(e);
        n_events += 1;
    }
    assert_eq!(pkt.events.is_empty(), n_events == 0);
    if let Some(ip) = &pkt.ip {
        assert!(ip.version == 4 || ip.version == 6, "version {}", ip.version);
        assert_eq!(ip.is_v4(), ip.version == 4);
        assert_eq!(ip.src.is_ipv4(), ip.is_v4());
        assert_eq!(ip.dst.is_ipv4(), ip.is_v4());
        if !ip.is_v4() {
            assert!(ip.checksum_ok.is_none());
            assert!(ip.options.is_empty());
        }
        assert!(within(ip.packet, frame));
        assert!(
            within(ip.payload, ip.packet),
            "payload outside the IP packet"
        );
        assert!(
            within(ip.options, ip.packet),
            "options outside the IP packet"
        );
        black_box((
            ip.src,
            ip.dst,
            ip.protocol,
            ip.ttl,
            ip.id,
            ip.tos,
            ip.dont_fragment,
            ip.reserved_flag,
            ip.checksum_ok,
            ip.header_len,
            ip.unfragmentable_len,
        ));
        if let Some(f) = ip.fragment {
            black_box((f.id, f.offset, f.more));
            assert!(
                f.offset % 8 == 0,
                "fragment offset {} not a multiple of 8",
                f.offset
            );
            if ip.is_v4() {
                assert!(f.id <= 0xFFFF);
            }
        }
    }
    match &pkt.transport {
        Some(Transport::Tcp(t)) => {
            assert!(pkt.ip.is_some(), "TCP without IP");
            assert!(within(t.options, frame));
            assert!(within(t.payload, frame));
            black_box((
                t.src_port,
                t.dst_port,
                t.seq,
                t.ack,
                t.flags,
                t.window,
                t.urgent,
                t.header_len,
                t.has(0x12),
            ));
        }
        Some(Transport::Udp(u)) => {
            assert!(pkt.ip.is_some(), "UDP without IP");
            assert!(within(u.payload, frame));
            black_box((u.src_port, u.dst_port, u.length));
        }
        Some(Transport::Icmpv4(i)) | Some(Transport::Icmpv6(i)) => {
            assert!(pkt.ip.is_some(), "ICMP without IP");
            assert!(within(i.payload, frame));
            black_box((i.icmp_type, i.code, i.rest, i.echo_id(), i.echo_seq()));
        }
        None => {}
    }
    let payload = pkt.payload();
    assert!(within(payload, frame), "payload() outside the frame");
    black_box(payload);
    let ports = pkt.ports();
    assert_eq!(
        ports.is_some(),
        matches!(
            pkt.transport,
            Some(Transport::Tcp(_)) | Some(Transport::Udp(_))
        )
    );
    black_box(ports);
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let number = LINK_TYPES[usize::from(sel) % LINK_TYPES.len()];
    let linktype = LinkType::from_u32(number);
    assert_eq!(linktype.to_u32() == number, !matches!(number, 12 | 14));

    let pkt = decode(linktype, frame);
    touch(&pkt, frame);

    let pkt = decode_ip(frame);
    touch(&pkt, frame);
});
