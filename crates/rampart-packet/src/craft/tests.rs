//! Unit tests of the builder: every crafted packet is decoded by the
//! decoder and checked field by field, and every checksum is verified by an
//! independent ones' complement sum written here (not the module's own).
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::tcp_flags::*;
use super::*;
use crate::decode::Transport;
use crate::{decode, DecoderEvent, LinkType};

/// RFC 1071 the naive way: concatenate, pad, sum 16-bit words in a u64,
/// fold. True when the data including its checksum field sums to 0xffff.
fn verifies(parts: &[&[u8]]) -> bool {
    let mut all: Vec<u8> = parts.concat();
    if all.len() % 2 == 1 {
        all.push(0);
    }
    let mut sum: u64 = all
        .chunks(2)
        .map(|w| (u64::from(w[0]) << 8) | u64::from(w[1]))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = s.octets().to_vec();
            p.extend(d.octets());
            p.extend([0, proto]);
            p.extend((len as u16).to_be_bytes());
            p
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = s.octets().to_vec();
            p.extend(d.octets());
            p.extend((len as u32).to_be_bytes());
            p.extend([0, 0, 0, proto]);
            p
        }
        _ => panic!("mixed"),
    }
}

/// Verifies the transport checksum of a decoded packet from its raw bytes.
fn transport_checksum_ok(frame: &[u8]) -> bool {
    let pkt = decode(LinkType::Ethernet, frame);
    let ip = pkt.ip.as_ref().unwrap();
    let l4 = &ip.packet[ip.header_len..];
    match ip.protocol {
        1 => verifies(&[l4]),
        p => verifies(&[&pseudo(ip.src, ip.dst, p, l4.len()), l4]),
    }
}

const A4: [u8; 4] = [192, 0, 2, 1];
const B4: [u8; 4] = [198, 51, 100, 7];

fn a6() -> Ipv6Addr {
    "2001:db8::1".parse().unwrap()
}
fn b6() -> Ipv6Addr {
    "2001:db8:ffff::2".parse().unwrap()
}

#[test]
fn tcp_over_ipv4_round_trips() {
    let src_mac = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
    let dst_mac = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
    let frame = PacketBuilder::ethernet(src_mac, dst_mac)
        .ipv4(A4, B4)
        .ttl(17)
        .ip_id(0xbeef)
        .tos(0x28)
        .dont_fragment()
        .tcp(12345, 443)
        .seq(0xdead_beef)
        .ack(0x0102_0304)
        .flags(PSH | ACK | URG)
        .window(1024)
        .urgent(3)
        .mss_option(1400)
        .payload(b"hello, world")
        .build()
        .unwrap();
    assert_eq!(&frame[0..6], &dst_mac);
    assert_eq!(&frame[6..12], &src_mac);
    assert_eq!(&frame[12..14], &[0x08, 0x00]);
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(pkt.events.is_empty(), "{:?}", pkt.events);
    let ip = pkt.ip.as_ref().unwrap();
    assert_eq!(ip.version, 4);
    assert_eq!(ip.src, IpAddr::from(A4));
    assert_eq!(ip.dst, IpAddr::from(B4));
    assert_eq!(ip.ttl, 17);
    assert_eq!(ip.id, 0xbeef);
    assert_eq!(ip.tos, 0x28);
    assert!(ip.dont_fragment);
    assert!(ip.fragment.is_none());
    assert_eq!(ip.protocol, 6);
    assert_eq!(ip.checksum_ok, Some(true));
    assert!(verifies(&[&ip.packet[..20]]));
    assert_eq!(ip.packet.len(), 20 + 24 + 12);
    let Some(Transport::Tcp(t)) = &pkt.transport else {
        panic!("not TCP")
    };
    assert_eq!((t.src_port, t.dst_port), (12345, 443));
    assert_eq!(t.seq, 0xdead_beef);
    assert_eq!(t.ack, 0x0102_0304);
    assert_eq!(t.flags, PSH | ACK | URG);
    assert_eq!(t.window, 1024);
    assert_eq!(t.urgent, 3);
    assert_eq!(t.header_len, 24);
    assert_eq!(t.options, &[2, 4, 0x05, 0x78]);
    assert_eq!(t.payload, b"hello, world");
    assert!(transport_checksum_ok(&frame));
}

#[test]
fn udp_over_ipv6_round_trips() {
    let frame = PacketBuilder::new()
        .ipv6(a6(), b6())
        .ttl(3)
        .tos(0xb8)
        .flow_label(0xabcde)
        .udp(5353, 53)
        .payload(b"odd length!")
        .build()
        .unwrap();
    assert_eq!(&frame[12..14], &[0x86, 0xdd]);
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(pkt.events.is_empty(), "{:?}", pkt.events);
    let ip = pkt.ip.as_ref().unwrap();
    assert_eq!(ip.version, 6);
    assert_eq!(ip.src, IpAddr::V6(a6()));
    assert_eq!(ip.dst, IpAddr::V6(b6()));
    assert_eq!(ip.ttl, 3);
    assert_eq!(ip.tos, 0xb8);
    // flow label: low 20 bits of the first word
    assert_eq!(&frame[14..18], &[0x6b, 0x8a, 0xbc, 0xde]);
    let Some(Transport::Udp(u)) = &pkt.transport else {
        panic!("not UDP")
    };
    assert_eq!((u.src_port, u.dst_port, u.length), (5353, 53, 19));
    assert_eq!(u.payload, b"odd length!");
    assert!(transport_checksum_ok(&frame));
}

#[test]
fn icmp_echo_v4_and_v6() {
    let v4 = PacketBuilder::new()
        .ipv4(A4, B4)
        .icmp_echo_request(0x1234, 7)
        .payload(b"ping")
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &v4);
    let Some(Transport::Icmpv4(i)) = &pkt.transport else {
        panic!("not ICMPv4")
    };
    assert_eq!(
        (i.icmp_type, i.code, i.echo_id(), i.echo_seq()),
        (8, 0, 0x1234, 7)
    );
    assert_eq!(i.payload, b"ping");
    assert!(transport_checksum_ok(&v4));

    let v6 = PacketBuilder::new()
        .ipv6(a6(), b6())
        .icmp_echo_reply(9, 65535)
        .payload(b"pong!")
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &v6);
    let Some(Transport::Icmpv6(i)) = &pkt.transport else {
        panic!("not ICMPv6")
    };
    assert_eq!(
        (i.icmp_type, i.code, i.echo_id(), i.echo_seq()),
        (129, 0, 9, 65535)
    );
    assert_eq!(i.payload, b"pong!");
    // ICMPv6's checksum covers the pseudo-header
    assert!(transport_checksum_ok(&v6));

    let unreachable = PacketBuilder::new()
        .ipv4(A4, B4)
        .icmpv4(3, 4)
        .icmp_rest([0, 0, 0x05, 0xdc])
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &unreachable);
    let Some(Transport::Icmpv4(i)) = &pkt.transport else {
        panic!("not ICMPv4")
    };
    assert_eq!((i.icmp_type, i.code, i.rest), (3, 4, [0, 0, 5, 0xdc]));
}

#[test]
fn vlan_tags_and_raw_links() {
    let frame = PacketBuilder::new()
        .vlan_tag(VlanTag {
            tpid: 0x88a8,
            id: 100,
            priority: 5,
            drop_eligible: true,
        })
        .vlan(200)
        .ipv4(A4, B4)
        .udp(1, 2)
        .build()
        .unwrap();
    assert_eq!(&frame[12..14], &[0x88, 0xa8]);
    assert_eq!(&frame[14..16], &[0xb0, 100]);
    let pkt = decode(LinkType::Ethernet, &frame);
    assert_eq!(pkt.vlans.ids(), &[100, 200]);
    assert_eq!(pkt.ports(), Some((1, 2)));

    let raw = PacketBuilder::raw()
        .ipv6(a6(), b6())
        .tcp(1, 2)
        .build()
        .unwrap();
    assert_eq!(raw[0] >> 4, 6);
    let pkt = decode(LinkType::Raw, &raw);
    assert_eq!(pkt.ports(), Some((1, 2)));

    // no IP layer: the payload follows the Ethernet header
    let l2 = PacketBuilder::new().payload(b"xyz").build().unwrap();
    assert_eq!(&l2[12..], &[0x88, 0xb5, b'x', b'y', b'z']);
    let l2 = PacketBuilder::new().ether_type(0x0806).build().unwrap();
    assert_eq!(l2.len(), 14);
}

#[test]
fn ipv4_options_are_padded_and_counted() {
    let frame = PacketBuilder::new()
        .ipv4(A4, B4)
        .ip_options([0x94, 0x04, 0x00, 0x00, 0x01]) // router alert + NOP
        .udp(7, 7)
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &frame);
    let ip = pkt.ip.as_ref().unwrap();
    assert_eq!(ip.header_len, 28);
    assert_eq!(ip.options, &[0x94, 4, 0, 0, 1, 0, 0, 0]);
    assert_eq!(ip.checksum_ok, Some(true));
    assert_eq!(pkt.ports(), Some((7, 7)));
}

#[test]
fn ipv6_extension_headers_chain() {
    let frame = PacketBuilder::new()
        .ipv6(a6(), b6())
        .ipv6_extension(Ipv6Extension::HopByHop {
            options: vec![0x05, 0x02, 0x00, 0x00], // router alert, 6 bytes -> PadN 2
        })
        .ipv6_extension(Ipv6Extension::Routing {
            routing_type: 0,
            segments_left: 0,
            data: vec![],
        })
        .ipv6_extension(Ipv6Extension::DestinationOptions { options: vec![] })
        .tcp(80, 8080)
        .flags(SYN)
        .build()
        .unwrap();
    let ip_start = 14;
    assert_eq!(frame[ip_start + 6], 0); // hop-by-hop first
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(pkt.events.is_empty(), "{:?}", pkt.events);
    let ip = pkt.ip.as_ref().unwrap();
    assert_eq!(ip.protocol, 6);
    assert_eq!(ip.header_len, 40 + 8 + 8 + 8);
    assert_eq!(pkt.ports(), Some((80, 8080)));
    assert!(transport_checksum_ok(&frame));
    // payload length covers the extension headers
    assert_eq!(u16::from_be_bytes([frame[18], frame[19]]), 24 + 20);
}

#[test]
fn checksums_can_be_wrong_on_purpose() {
    let base = PacketBuilder::new().ipv4(A4, B4).tcp(1, 2).payload(b"x");
    let good = base.clone().build().unwrap();
    assert!(transport_checksum_ok(&good));

    let bad_ip = base.clone().ip_bad_checksum().build().unwrap();
    let pkt = decode(LinkType::Ethernet, &bad_ip);
    assert_eq!(pkt.ip.as_ref().unwrap().checksum_ok, Some(false));
    assert!(pkt.events.contains(DecoderEvent::Ipv4BadChecksum));
    assert!(
        transport_checksum_ok(&bad_ip),
        "only the IP checksum is wrong"
    );

    let bad_tcp = base.clone().bad_checksum().build().unwrap();
    assert!(!transport_checksum_ok(&bad_tcp));
    assert_eq!(
        decode(LinkType::Ethernet, &bad_tcp).ip.unwrap().checksum_ok,
        Some(true)
    );
    // only the two checksum bytes differ
    let diffs: Vec<usize> = (0..good.len()).filter(|&i| good[i] != bad_tcp[i]).collect();
    assert_eq!(diffs.len(), 1);
    assert!((14 + 20 + 16..14 + 20 + 18).contains(&diffs[0]));

    let fixed = base.clone().checksum(0xabcd).build().unwrap();
    assert_eq!(&fixed[14 + 20 + 16..14 + 20 + 18], &[0xab, 0xcd]);
    let fixed_ip = base
        .ip_checksum(ChecksumMode::Value(0x1111))
        .build()
        .unwrap();
    assert_eq!(&fixed_ip[24..26], &[0x11, 0x11]);

    for b in [
        PacketBuilder::new().ipv4(A4, B4).udp(9, 9).payload(b"y"),
        PacketBuilder::new()
            .ipv6(a6(), b6())
            .udp(9, 9)
            .payload(b"y"),
        PacketBuilder::new().ipv4(A4, B4).icmp_echo_request(1, 1),
        PacketBuilder::new()
            .ipv6(a6(), b6())
            .icmp_echo_request(1, 1),
    ] {
        assert!(transport_checksum_ok(&b.clone().build().unwrap()));
        let bad = b.bad_checksum().build().unwrap();
        assert!(!transport_checksum_ok(&bad));
    }
    let none = PacketBuilder::new()
        .ipv4(A4, B4)
        .udp(9, 9)
        .checksum(0)
        .build()
        .unwrap();
    assert_eq!(&none[14 + 26..14 + 28], &[0, 0]);
}

#[test]
fn lengths_can_lie() {
    let frame = PacketBuilder::new()
        .ipv4(A4, B4)
        .udp(1, 2)
        .udp_len(100)
        .payload(b"short")
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(pkt.events.contains(DecoderEvent::UdpLenInvalid));

    let frame = PacketBuilder::new()
        .ipv4(A4, B4)
        .ip_len(500)
        .udp(1, 2)
        .build()
        .unwrap();
    assert_eq!(&frame[16..18], &500u16.to_be_bytes());
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(pkt.events.contains(DecoderEvent::Ipv4Truncated));
    assert_eq!(
        pkt.ip.unwrap().checksum_ok,
        Some(true),
        "checksum covers the lie"
    );

    let frame = PacketBuilder::new().ipv4(A4, B4).ihl(4).build().unwrap();
    assert_eq!(frame[14], 0x44);
    let frame = PacketBuilder::new()
        .ipv4(A4, B4)
        .tcp(1, 2)
        .data_offset(3)
        .build()
        .unwrap();
    assert_eq!(frame[14 + 20 + 12], 0x30);
    let pkt = decode(LinkType::Ethernet, &frame);
    assert!(
        pkt.events.contains(DecoderEvent::TcpHeaderTooSmall),
        "{:?}",
        pkt.events
    );

    let frame = PacketBuilder::new()
        .ipv6(a6(), b6())
        .ip_len(3)
        .udp(1, 2)
        .build()
        .unwrap();
    assert_eq!(&frame[18..20], &[0, 3]);
}

#[test]
fn ip_protocol_and_ip_fragment_fields() {
    let frame = PacketBuilder::new()
        .ipv4(A4, B4)
        .ip_id(77)
        .more_fragments()
        .fragment_offset(1480)
        .reserved_flag()
        .ip_protocol(17)
        .payload([0u8; 16])
        .build()
        .unwrap();
    let pkt = decode(LinkType::Ethernet, &frame);
    let ip = pkt.ip.as_ref().unwrap();
    let f = ip.fragment.unwrap();
    assert_eq!((f.id, f.offset, f.more), (77, 1480, true));
    assert!(ip.reserved_flag);
    assert_eq!(ip.protocol, 17);
    assert!(pkt.transport.is_none());
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let e = PacketBuilder::new().ipv4(A4, B4).udp(1, 2).seq(5).build();
    assert_eq!(
        e.unwrap_err(),
        CraftError::MissingLayer {
            method: "seq",
            needs: "a TCP layer"
        }
    );
    let e = PacketBuilder::new()
        .ttl(5)
        .ipv4(A4, B4)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("ttl() needs an IP layer"), "{e}");
    let e = PacketBuilder::raw().vlan(1).build().unwrap_err();
    assert!(e.to_string().contains("Ethernet"), "{e}");
    let e = PacketBuilder::new()
        .ip(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        )
        .build()
        .unwrap_err();
    assert!(matches!(e, CraftError::MixedAddressFamilies { .. }), "{e}");
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .udp(1, 2)
        .payload(vec![0u8; 70_000])
        .build()
        .unwrap_err();
    assert!(matches!(e, CraftError::TooLarge { .. }), "{e}");
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .payload(vec![0u8; 65_516])
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        CraftError::TooLarge {
            what: "IPv4 total length",
            len: 65_536,
            max: 65_535
        }
    );
    // the largest IPv4 packet is fine
    assert!(PacketBuilder::raw()
        .ipv4(A4, B4)
        .payload(vec![0u8; 65_515])
        .build()
        .is_ok());
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .fragment_offset(12)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("multiple of 8"), "{e}");
    let e = PacketBuilder::new().vlan(5000).build().unwrap_err();
    assert!(e.to_string().contains("VLAN id"), "{e}");
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .ip_options([1u8; 41])
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("IPv4 options"), "{e}");
    let e = PacketBuilder::new()
        .ipv6(a6(), b6())
        .flow_label(1 << 20)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("flow label"), "{e}");
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .ip_id(70_000)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("16 bits"), "{e}");
    let e = PacketBuilder::new()
        .ipv4(A4, B4)
        .bad_checksum()
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("checksum()"), "{e}");
    let e = PacketBuilder::new().icmp(8, 0).build().unwrap_err();
    assert!(e.to_string().contains("icmp()"), "{e}");
    let e = PacketBuilder::raw().udp(1, 2).build().unwrap_err();
    assert!(matches!(e, CraftError::MissingLayer { .. }), "{e}");
}

#[test]
fn struct_style_building_works_too() {
    let mut tcp = TcpLayer::new(1000, 2000);
    tcp.flags = RST;
    let b = PacketBuilder {
        ip: Some(IpLayer::V4(Ipv4Layer::new(A4.into(), B4.into()))),
        transport: TransportLayer::Tcp(tcp),
        ..PacketBuilder::new()
    };
    let pkt_bytes = b.build().unwrap();
    let pkt = decode(LinkType::Ethernet, &pkt_bytes);
    let Some(Transport::Tcp(t)) = &pkt.transport else {
        panic!()
    };
    assert_eq!((t.src_port, t.dst_port, t.flags), (1000, 2000, RST));
}
