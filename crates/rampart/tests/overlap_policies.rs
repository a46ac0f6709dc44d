//! End-to-end overlap policies: crafted pcaps through `rampart inspect
//! --streams`, for every fragment and every TCP policy.
//!
//! The input is the Novak/Sturges target-based reassembly test pattern:
//! nine "original" pieces with holes between them, then seven (eight for
//! TCP) "subsequent" pieces that overlap them with different data, then a
//! last piece. Letters fill 8-byte blocks, so a reassembled payload reads as
//! one letter per block. The expected strings below are written out from the
//! policy definitions (the fragment ones agree with the results Suricata
//! records for the same pattern); the derivations are in
//! crates/rampart-stream/src/defrag/tests.rs and reassembly/tests.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use rampart_packet::craft::{tcp_flags, PacketBuilder};
use rampart_packet::pcap::PcapWriter;
use rampart_packet::{LinkType, Timestamp};

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const CPORT: u16 = 40000;
const SPORT: u16 = 80;
const C_ISN: u32 = 1000;
const S_ISN: u32 = 5000;

/// (offset, letter, length) of the pieces sent first; they do not overlap.
const ORIGINALS: [(u32, u8, usize); 9] = [
    (0, b'A', 24),
    (32, b'B', 16),
    (48, b'C', 24),
    (80, b'D', 8),
    (104, b'E', 16),
    (120, b'F', 24),
    (144, b'G', 16),
    (160, b'H', 16),
    (176, b'I', 8),
];
/// The pieces sent next, each overlapping earlier data.
const SUBSEQUENT: [(u32, u8, usize); 7] = [
    (8, b'J', 32),
    (48, b'K', 24),
    (72, b'L', 24),
    (96, b'M', 24),
    (128, b'N', 8),
    (152, b'O', 8),
    (160, b'P', 8),
];
/// The final piece (Q at 176, 16 bytes), which completes the datagram.
const LAST: (u32, u8, usize) = (176, b'Q', 16);

const POLICIES: [&str; 7] = [
    "first",
    "last",
    "bsd",
    "bsd-right",
    "linux",
    "windows",
    "solaris",
];

fn fragment_expected(policy: &str) -> &'static str {
    match policy {
        "bsd" => "AAAJJBCCCLLLMMMFFFGGHHIQ",
        "linux" => "AAAJJBKKKLLLMMMFFFGGPHQQ",
        "windows" => "AAAJBBCCCLLLMEEFFFGGHHIQ",
        "solaris" => "AAAJBBCCCLLLMMMFFFGGHHIQ",
        "first" => "AAAJBBCCCLDLMEEFFFGGHHIQ",
        "last" => "AJJJJBKKKLLLMMMFNFGOPHQQ",
        "bsd-right" => "AJJJBBKKKLLLMMMFFFGGHHQQ",
        _ => unreachable!(),
    }
}

fn tcp_expected(policy: &str) -> &'static str {
    match policy {
        "first" => "AAAJBBCCCLDLMEEFFFGGHHIQ",
        "last" => "AJJJJBKKKLLLMMMFNFGOPHQQ",
        "bsd" | "bsd-right" | "windows" => "AAAJJBCCCLLLMMMFFFGGHHIQ",
        "linux" => "AAAJJBCCCLLLMMMFFFGGHHQQ",
        "solaris" => "AJJJBBKKKLLLMMMFFFGGHHQQ",
        _ => unreachable!(),
    }
}

fn blocks(s: &str) -> Vec<u8> {
    s.bytes().flat_map(|c| std::iter::repeat_n(c, 8)).collect()
}

fn base() -> PacketBuilder {
    PacketBuilder::ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
}

fn c2s() -> PacketBuilder {
    base().ipv4(CLIENT, SERVER).tcp(CPORT, SPORT)
}

fn s2c() -> PacketBuilder {
    base().ipv4(SERVER, CLIENT).tcp(SPORT, CPORT)
}

fn handshake() -> Vec<Vec<u8>> {
    vec![
        c2s().seq(C_ISN).flags(tcp_flags::SYN).build().unwrap(),
        s2c()
            .seq(S_ISN)
            .ack(C_ISN + 1)
            .flags(tcp_flags::SYN | tcp_flags::ACK)
            .build()
            .unwrap(),
        c2s()
            .seq(C_ISN + 1)
            .ack(S_ISN + 1)
            .flags(tcp_flags::ACK)
            .build()
            .unwrap(),
    ]
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(file, LinkType::Ethernet, 65535).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(
            Timestamp::from_secs(1_700_000_000).add_nanos(i as u64 * 1000),
            f,
        )
        .unwrap();
    }
    w.into_inner().unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs inspect with the given policy flag and returns the client-to-server
/// stream it dumped.
fn client_stream(pcap: &Path, dir: &Path, flag: &str, policy: &str) -> Vec<u8> {
    let streams = dir.join(format!("streams-{policy}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "inspect",
            "--no-progress",
            "--json",
            flag,
            policy,
            "--streams",
        ])
        .arg(&streams)
        .arg(pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c2s = None;
    for e in std::fs::read_dir(&streams).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "c2s") {
            assert!(c2s.is_none(), "one client stream expected");
            c2s = Some(std::fs::read(&p).unwrap());
        }
    }
    c2s.expect("a client stream")
}

#[test]
fn fragment_overlap_policies_end_to_end() {
    let dir = scratch("frag");
    // One TCP segment carrying "ZZZZ" + 192 pattern bytes, sent as
    // overlapping IPv4 fragments. The first fragment carries the 20-byte
    // TCP header and "ZZZZ"; the pattern's offsets are shifted by 24.
    let total_payload = 4 + 192;
    let seg = c2s()
        .seq(C_ISN + 1)
        .ack(S_ISN + 1)
        .flags(tcp_flags::ACK | tcp_flags::PSH)
        .ip_id(777)
        .payload(vec![b'Z'; total_payload]);
    let transport = seg.build_transport().unwrap();
    let mut frames = handshake();
    frames.push(seg.custom_fragment(0, true, &transport[..24]).unwrap());
    for &(off, c, n) in ORIGINALS.iter().chain(SUBSEQUENT.iter()) {
        frames.push(seg.custom_fragment(24 + off, true, &vec![c; n]).unwrap());
    }
    let (off, c, n) = LAST;
    frames.push(seg.custom_fragment(24 + off, false, &vec![c; n]).unwrap());
    let pcap = dir.join("frag.pcap");
    write_pcap(&pcap, &frames);

    for policy in POLICIES {
        let got = client_stream(&pcap, &dir, "--defrag-policy", policy);
        let mut want = b"ZZZZ".to_vec();
        want.extend(blocks(fragment_expected(policy)));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "defrag policy {policy}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tcp_overlap_policies_end_to_end() {
    let dir = scratch("tcp");
    // An 8-byte "Z" segment at the start of the stream is held back until
    // last, so every overlapping segment is still buffered when it arrives
    // and the policy (not the already-delivered rule) decides.
    let data_seq = C_ISN + 1;
    let mut frames = handshake();
    let seg = |off: u32, data: Vec<u8>| {
        c2s()
            .seq(data_seq + 8 + off)
            .ack(S_ISN + 1)
            .flags(tcp_flags::ACK)
            .payload(data)
            .build()
            .unwrap()
    };
    for &(off, c, n) in ORIGINALS.iter().chain(SUBSEQUENT.iter()) {
        frames.push(seg(off, vec![c; n]));
    }
    let (off, c, n) = LAST;
    frames.push(seg(off, vec![c; n]));
    frames.push(
        c2s()
            .seq(data_seq)
            .ack(S_ISN + 1)
            .flags(tcp_flags::ACK)
            .payload(b"ZZZZZZZZ")
            .build()
            .unwrap(),
    );
    let pcap = dir.join("tcp.pcap");
    write_pcap(&pcap, &frames);

    for policy in POLICIES {
        let got = client_stream(&pcap, &dir, "--stream-policy", policy);
        let mut want = b"ZZZZZZZZ".to_vec();
        want.extend(blocks(tcp_expected(policy)));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "stream policy {policy}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn craft_then_inspect_round_trip() {
    let dir = scratch("craft");
    let pcap = dir.join("conv.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "craft",
            "--proto",
            "tcp",
            "--src",
            "192.0.2.1:4444",
            "--dst",
            "192.0.2.2:80",
            "--conversation",
            "--payload",
            "GET / HTTP/1.1\\r\\nHost: example\\r\\n\\r\\n",
            "--mss",
            "10",
            "-w",
        ])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = client_stream(&pcap, &dir, "--stream-policy", "bsd");
    assert_eq!(got, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}
