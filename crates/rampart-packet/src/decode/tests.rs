//! Decoder tests on frames built with etherparse's own builder (an
//! independent encoder) and on hand-written bytes for what it cannot build.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{PacketBuilder, TcpOptionElement};

use super::*;
use crate::DecoderEvent;

const MAC_A: [u8; 6] = [0, 1, 2, 3, 4, 5];
const MAC_B: [u8; 6] = [6, 7, 8, 9, 10, 11];

fn build(b: etherparse::PacketBuilderStep<etherparse::TcpHeader>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn tcp_v4_frame(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 80, 1000, 65535)
        .syn()
        .ack(77)
        .options(&[TcpOptionElement::MaximumSegmentSize(1460)])
        .unwrap();
    build(b, payload)
}

#[test]
fn ethernet_ipv4_tcp_fields() {
    let f = tcp_v4_frame(b"hello");
    let p = decode(LinkType::Ethernet, &f);
    assert!(p.events.is_empty(), "{:?}", p.events);
    let ip = p.ip.as_ref().unwrap();
    assert_eq!(ip.version, 4);
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(ip.protocol, 6);
    assert_eq!(ip.ttl, 64);
    assert_eq!(ip.checksum_ok, Some(true));
    assert!(ip.fragment.is_none());
    let Some(Transport::Tcp(t)) = &p.transport else {
        panic!("not tcp")
    };
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.ack),
        (40000, 80, 1000, 77)
    );
    assert!(t.has(tcp_flags::SYN | tcp_flags::ACK));
    assert_eq!(t.header_len, 24);
    assert_eq!(t.options, &[2, 4, 0x05, 0xb4]);
    assert_eq!(t.payload, b"hello");
    assert_eq!(p.payload(), b"hello");
    assert_eq!(p.ports(), Some((40000, 80)));
}

#[test]
fn bad_ipv4_checksum_is_flagged_not_dropped() {
    let mut f = tcp_v4_frame(b"x");
    f[14 + 10] ^= 0xff;
    let p = decode(LinkType::Ethernet, &f);
    assert!(p.events.contains(DecoderEvent::Ipv4BadChecksum));
    assert_eq!(p.ip.as_ref().unwrap().checksum_ok, Some(false));
    assert!(matches!(p.transport, Some(Transport::Tcp(_))));
}

#[test]
fn vlan_and_qinq() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .double_vlan(
            etherparse::VlanId::try_new(100).unwrap(),
            etherparse::VlanId::try_new(200).unwrap(),
        )
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 5)
        .udp(53, 5353)
        .write(&mut out, b"dns")
        .unwrap();
    // The outer tag as 802.1ad.
    out[12] = 0x88;
    out[13] = 0xa8;
    let p = decode(LinkType::Ethernet, &out);
    assert_eq!(p.vlans.ids(), &[100, 200]);
    assert_eq!(p.vlan_id(), 100);
    let Some(Transport::Udp(u)) = &p.transport else {
        panic!("not udp: {p:?}")
    };
    assert_eq!((u.src_port, u.dst_port, u.payload), (53, 5353, &b"dns"[..]));
}

#[test]
fn truncated_frames_yield_events_and_never_panic() {
    let f = tcp_v4_frame(b"0123456789");
    for cut in 0..f.len() {
        let p = decode(LinkType::Ethernet, &f[..cut]);
        if cut < 14 {
            assert!(
                p.events.contains(DecoderEvent::EthernetTruncated),
                "cut {cut}"
            );
        } else if cut < 34 {
            assert!(p.ip.is_none(), "cut {cut}");
            assert!(!p.events.is_empty(), "cut {cut}");
        } else if cut < 58 {
            // IP header present, TCP header cut.
            assert!(p.ip.is_some(), "cut {cut}");
            assert!(p.transport.is_none(), "cut {cut}");
            assert!(!p.events.is_empty(), "cut {cut}");
        }
    }
}

#[test]
fn ipv6_extension_headers_and_fragment_info() {
    // IPv6, hop-by-hop (8 bytes), fragment header (offset 8 bytes, M=1), UDP data.
    let mut f = Vec::new();
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    let payload_len: u16 = 8 + 8 + 16;
    f.extend_from_slice(&payload_len.to_be_bytes());
    f.push(0); // next: hop-by-hop
    f.push(64);
    f.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    f.extend_from_slice(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
    f.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // HBH -> fragment, PadN
    f.extend_from_slice(&[17, 0, 0x00, 0x09, 0xde, 0xad, 0xbe, 0xef]); // offset 1 (8 bytes), M=1, id
    f.extend_from_slice(&[0xaa; 16]);
    let p = decode(LinkType::Raw, &f);
    assert!(p.events.is_empty(), "{:?}", p.events);
    let ip = p.ip.as_ref().unwrap();
    assert_eq!(ip.version, 6);
    assert_eq!(ip.protocol, 17);
    assert_eq!(
        ip.fragment,
        Some(FragmentInfo {
            id: 0xdead_beef,
            offset: 8,
            more: true
        })
    );
    assert_eq!(ip.unfragmentable_len, 48);
    assert_eq!(ip.header_len, 56);
    assert_eq!(ip.payload, &[0xaa; 16]);
    assert!(p.transport.is_none(), "fragments are not decoded above IP");
}

#[test]
fn linux_cooked_v1_v2_and_bsd_loopback() {
    let ip = {
        let mut out = Vec::new();
        PacketBuilder::ipv4([9, 9, 9, 9], [8, 8, 8, 8], 1)
            .udp(1, 2)
            .write(&mut out, b"z")
            .unwrap();
        out
    };
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    for (lt, f) in [
        (LinkType::LinuxSll, &sll),
        (LinkType::LinuxSll2, &sll2),
        (LinkType::Null, &null),
    ] {
        let p = decode(lt, f);
        assert_eq!(p.ports(), Some((1, 2)), "{lt:?}");
        assert_eq!(p.payload(), b"z", "{lt:?}");
    }
    assert!(decode(LinkType::LinuxSll, &sll[..10])
        .events
        .contains(DecoderEvent::SllTruncated));
    assert!(decode(LinkType::Other(999), &ip)
        .events
        .contains(DecoderEvent::UnsupportedLinkType));
}

#[test]
fn gre_tunnel_exposes_inner_packet() {
    let inner = {
        let mut out = Vec::new();
        PacketBuilder::ipv4([192, 168, 0, 1], [192, 168, 0, 2], 9)
            .udp(1111, 2222)
            .write(&mut out, b"inner")
            .unwrap();
        out
    };
    let mut gre = vec![0x00, 0x00, 0x08, 0x00];
    gre.extend_from_slice(&inner);
    let mut outer_hdr = etherparse::Ipv4Header::new(
        gre.len() as u16,
        64,
        etherparse::IpNumber(47),
        [1, 0, 0, 1],
        [1, 0, 0, 2],
    )
    .unwrap();
    outer_hdr.header_checksum = outer_hdr.calc_header_checksum();
    let mut f = outer_hdr.to_bytes().to_vec();
    f.extend_from_slice(&gre);
    let p = decode(LinkType::Raw, &f);
    assert_eq!(p.tunnel_depth, 1);
    assert_eq!(p.tunnels.iter().collect::<Vec<_>>(), vec![Tunnel::Gre]);
    assert_eq!(
        p.ip.as_ref().unwrap().src,
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1))
    );
    assert_eq!(p.ports(), Some((1111, 2222)));
}

#[test]
fn arp_addresses() {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[10, 0, 0, 1]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&[10, 0, 0, 2]);
    let p = decode(LinkType::Ethernet, &f);
    let arp = p.arp.unwrap();
    assert_eq!(arp.operation, 1);
    assert_eq!(arp.sender_ip, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(arp.target_ip, Some(Ipv4Addr::new(10, 0, 0, 2)));
    assert!(decode(LinkType::Ethernet, &f[..20])
        .events
        .contains(DecoderEvent::ArpTruncated));
}

#[test]
fn icmp_echo_fields() {
    let mut out = Vec::new();
    PacketBuilder::ipv4([1, 2, 3, 4], [5, 6, 7, 8], 64)
        .icmpv4_echo_request(0x1234, 7)
        .write(&mut out, b"ping")
        .unwrap();
    let p = decode(LinkType::Ipv4, &out);
    let Some(Transport::Icmpv4(i)) = &p.transport else {
        panic!("not icmp")
    };
    assert_eq!(
        (i.icmp_type, i.code, i.echo_id(), i.echo_seq()),
        (8, 0, 0x1234, 7)
    );
    assert_eq!(i.payload, b"ping");
}

proptest::proptest! {
    /// No byte string panics the decoder, under any link type.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200), lt in 0u32..300) {
        let _ = decode(LinkType::from_u32(lt), &data);
        let _ = decode_ip(&data);
    }
}

#[test]
fn nsh_md_type_1_and_2_carry_ip() {
    let inner = &tcp_v4_frame(b"nsh")[14..];
    for (md_type, words, meta) in [(1u8, 6u8, 16usize), (2, 2, 0)] {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x89, 0x4f]);
        // Version 0, TTL 63, length in words, MD type, next protocol IPv4.
        f.extend_from_slice(&[0x0f, 0xc0 | words, md_type, 0x01]);
        f.extend_from_slice(&[0, 0, 1, 255]); // service path 1, index 255
        f.extend(std::iter::repeat_n(0u8, meta));
        f.extend_from_slice(inner);
        let p = decode(LinkType::Ethernet, &f);
        assert!(p.events.is_empty(), "md {md_type}: {:?}", p.events);
        assert_eq!(p.tunnels.iter().collect::<Vec<_>>(), vec![Tunnel::Nsh]);
        assert_eq!(p.payload(), b"nsh");
    }
    // MD type 1 with a wrong length is flagged, not decoded.
    let mut bad = vec![0u8; 12];
    bad.extend_from_slice(&[0x89, 0x4f, 0x0f, 0xc2, 0x01, 0x01, 0, 0, 1, 255]);
    bad.extend_from_slice(inner);
    let p = decode(LinkType::Ethernet, &bad);
    assert!(p.events.contains(DecoderEvent::NshInvalid));
    assert!(p.ip.is_none());
}
