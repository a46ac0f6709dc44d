#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const SEC: u64 = 1_000_000_000;

fn v4key(id: u32) -> FragKey {
    FragKey {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        id,
        protocol: 1,
        vlan: 0,
    }
}

fn v6key(id: u32) -> FragKey {
    FragKey {
        src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        id,
        protocol: 0,
        vlan: 0,
    }
}

/// A 20-byte IPv4 header as a fragment would carry it: MF set, an offset,
/// a stale length and checksum, all of which the rebuild must fix.
fn v4hdr() -> Vec<u8> {
    vec![
        0x45, 0x00, 0x00, 0x99, 0x00, 0x0c, 0x20, 0x00, 64, 1, 0xbe, 0xef, 10, 0, 0, 1, 10, 0, 0, 2,
    ]
}

/// IPv6 fixed header whose next header is the Fragment header (44).
fn v6hdr() -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0, 0x00, 0x99, 44, 64];
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    h.extend_from_slice(&[0; 11]);
    h.push(1);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    h.extend_from_slice(&[0; 11]);
    h.push(2);
    h
}

fn frag<'a>(
    key: FragKey,
    offset: u32,
    more: bool,
    data: &'a [u8],
    header: &'a [u8],
) -> Fragment<'a> {
    Fragment {
        key,
        offset,
        more,
        data,
        header,
        ipv6_next_header: if key.src.is_ipv6() { Some(17) } else { None },
    }
}

fn fill(c: u8, n: usize) -> Vec<u8> {
    vec![c; n]
}

/// Expands a string of block letters into 8 bytes per letter.
fn blocks(s: &str) -> Vec<u8> {
    s.bytes().flat_map(|c| std::iter::repeat_n(c, 8)).collect()
}

#[test]
fn in_order_simple_v4() {
    // Suricata's DefragInOrderSimpleTest: A*8 @0, B*8 @8, C*3 @16 (last).
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let (a, b, c) = (fill(b'A', 8), fill(b'B', 8), fill(b'C', 3));
    assert_eq!(
        d.push(0, frag(v4key(12), 0, true, &a, &h)),
        DefragResult::default()
    );
    assert_eq!(
        d.push(0, frag(v4key(12), 8, true, &b, &h)).reassembled,
        None
    );
    let r = d.push(0, frag(v4key(12), 16, false, &c, &h));
    assert!(r.anomalies.is_empty());
    let p = r.reassembled.unwrap();
    assert_eq!(p.len(), 39);
    assert_eq!(&p[2..4], &[0, 39], "total length = 20 + 19");
    assert_eq!(&p[6..8], &[0, 0], "MF and offset cleared");
    assert_eq!(
        u16::from_be_bytes([p[10], p[11]]),
        ipv4_header_checksum(&p[..20])
    );
    assert_eq!(&p[20..], b"AAAAAAAABBBBBBBBCCC");
    assert_eq!(d.stats().reassembled, 1);
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn reverse_order_v4() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let (a, b, c) = (fill(b'A', 8), fill(b'B', 8), fill(b'C', 3));
    assert_eq!(
        d.push(0, frag(v4key(12), 16, false, &c, &[])).reassembled,
        None
    );
    assert_eq!(
        d.push(0, frag(v4key(12), 8, true, &b, &[])).reassembled,
        None
    );
    let p = d
        .push(0, frag(v4key(12), 0, true, &a, &h))
        .reassembled
        .unwrap();
    assert_eq!(&p[20..], b"AAAAAAAABBBBBBBBCCC");
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn ipv6_in_order_and_reverse() {
    for reverse in [false, true] {
        let mut d = Defragmenter::new(DefragConfig::default());
        let h = v6hdr();
        let (a, b, c) = (fill(b'A', 8), fill(b'B', 8), fill(b'C', 3));
        let mut frags = vec![
            frag(v6key(12), 0, true, &a, &h),
            frag(v6key(12), 8, true, &b, &h),
            frag(v6key(12), 16, false, &c, &h),
        ];
        if reverse {
            frags.reverse();
        }
        let mut out = None;
        for f in frags {
            if let Some(p) = d.push(0, f).reassembled {
                out = Some(p);
            }
        }
        let p = out.unwrap();
        assert_eq!(p.len(), 59);
        assert_eq!(&p[4..6], &[0, 19], "payload length");
        assert_eq!(p[6], 17, "next header taken from the fragment header");
        assert_eq!(&p[40..], b"AAAAAAAABBBBBBBBCCC");
    }
}

#[test]
fn ipv4_options_header_kept() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let mut h = v4hdr();
    h[0] = 0x46;
    h.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
    let a = fill(b'x', 16);
    d.push(0, frag(v4key(1), 16, false, &a, &v4hdr()));
    let p = d
        .push(0, frag(v4key(1), 0, true, &a, &h))
        .reassembled
        .unwrap();
    assert_eq!(p.len(), 24 + 32);
    assert_eq!(&p[20..24], &[1, 1, 1, 0]);
    assert_eq!(&p[2..4], &[0, 56]);
    assert_eq!(
        u16::from_be_bytes([p[10], p[11]]),
        ipv4_header_checksum(&p[..24])
    );
}

// ---------------------------------------------------------------------
// The Novak / Sturges test pattern.
//
// Originals (offset, letter, length): A 0/24, B 32/16, C 48/24, D 80/8,
// E 104/16, F 120/24, G 144/16, H 160/16, I 176/8, leaving holes at bytes
// 24..32, 72..80, 88..104 and 184..192. Then the subsequent, overlapping
// fragments J 8/32, K 48/24, L 72/24, M 96/24, N 128/8, O 152/8, P 160/8
// and finally Q 176/16 (last, MF clear). The expected payloads for bsd,
// linux, windows, solaris, first and last are the ones recorded in
// Suricata's DefragSturgesNovak*Test unit tests (an independent oracle);
// bsd-right is not covered there and was derived by hand below.
// ---------------------------------------------------------------------

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
const SUBSEQUENT: [(u32, u8, usize); 7] = [
    (8, b'J', 32),
    (48, b'K', 24),
    (72, b'L', 24),
    (96, b'M', 24),
    (128, b'N', 8),
    (152, b'O', 8),
    (160, b'P', 8),
];

fn novak(policy: OverlapPolicy, key: FragKey, header: &[u8]) -> (Vec<u8>, DefragStats) {
    let mut d = Defragmenter::new(DefragConfig {
        policy,
        ..DefragConfig::default()
    });
    for &(off, c, n) in &ORIGINALS {
        let data = fill(c, n);
        let r = d.push(0, frag(key, off, true, &data, header));
        assert_eq!(r.reassembled, None);
        assert!(r.anomalies.is_empty(), "{policy}: originals do not overlap");
    }
    let mut overlaps = 0;
    for &(off, c, n) in &SUBSEQUENT {
        let data = fill(c, n);
        let r = d.push(0, frag(key, off, true, &data, header));
        assert_eq!(r.reassembled, None);
        if r.anomalies.contains(&DefragAnomaly::OverlapDifferentData) {
            overlaps += 1;
        }
    }
    // J, K, M, N, O and P overlap earlier data; L overlaps D.
    assert_eq!(overlaps, 7, "{policy}");
    let q = fill(b'Q', 16);
    let r = d.push(0, frag(key, 176, false, &q, header));
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(d.memory_used(), 0);
    (r.reassembled.expect("complete"), *d.stats())
}

fn novak_expected(policy: OverlapPolicy) -> Vec<u8> {
    blocks(match policy {
        OverlapPolicy::Bsd => "AAAJJBCCCLLLMMMFFFGGHHIQ",
        OverlapPolicy::Linux => "AAAJJBKKKLLLMMMFFFGGPHQQ",
        OverlapPolicy::Windows => "AAAJBBCCCLLLMEEFFFGGHHIQ",
        OverlapPolicy::Solaris => "AAAJBBCCCLLLMMMFFFGGHHIQ",
        OverlapPolicy::First => "AAAJBBCCCLDLMEEFFFGGHHIQ",
        OverlapPolicy::Last => "AJJJJBKKKLLLMMMFNFGOPHQQ",
        // Hand derivation, rule "new wins iff ne > oe, or ne == oe and
        // ns <= os" (8-byte blocks numbered 0..24):
        //   J [8,40)  vs A [0,24):   40 > 24 -> J takes blocks 1-2; block 3
        //             was a hole -> J; vs B [32,48): 40 < 48 -> B keeps 4.
        //   K [48,72) vs C [48,72):  same end, 48 <= 48 -> K (blocks 6-8).
        //   L [72,96) vs D [80,88):  96 > 88 -> L (9-11).
        //   M [96,120) vs E [104,120): same end, 96 <= 104 -> M (12-14).
        //   N [128,136) vs F [120,144): 136 < 144 -> F stays (15-17).
        //   O [152,160) vs G [144,160): same end, 152 > 144 -> G stays.
        //   P [160,168) vs H [160,176): 168 < 176 -> H stays (20-21).
        //   Q [176,192) vs I [176,184): 192 > 184 -> Q (22-23).
        OverlapPolicy::BsdRight => "AJJJBBKKKLLLMMMFFFGGHHQQ",
    })
}

#[test]
fn novak_every_policy_ipv4() {
    for policy in OverlapPolicy::ALL {
        let (p, stats) = novak(policy, v4key(1), &v4hdr());
        assert_eq!(p.len(), 20 + 192, "{policy}");
        assert_eq!(&p[2..4], &(212u16).to_be_bytes());
        assert_eq!(
            String::from_utf8_lossy(&p[20..]),
            String::from_utf8_lossy(&novak_expected(policy)),
            "policy {policy}"
        );
        assert_eq!(stats.fragments, 17);
        assert_eq!(stats.reassembled, 1);
        // The seven above plus Q, which overlaps I.
        assert_eq!(stats.overlaps, 8);
        assert_eq!(stats.overlaps_different_data, 8);
    }
}

#[test]
fn novak_every_policy_ipv6() {
    for policy in OverlapPolicy::ALL {
        let (p, _) = novak(policy, v6key(1), &v6hdr());
        assert_eq!(&p[4..6], &(192u16).to_be_bytes(), "{policy}");
        assert_eq!(p[6], 17);
        assert_eq!(
            String::from_utf8_lossy(&p[40..]),
            String::from_utf8_lossy(&novak_expected(policy)),
            "policy {policy}"
        );
    }
}

#[test]
fn teardrop_contained_fragment() {
    // Same data fully inside: overlap only. Different data: teardrop.
    for (second, want_teardrop) in [(fill(b'A', 8), false), (fill(b'Z', 8), true)] {
        let mut d = Defragmenter::new(DefragConfig::default());
        let h = v4hdr();
        let a = fill(b'A', 24);
        d.push(0, frag(v4key(1), 0, true, &a, &h));
        let r = d.push(0, frag(v4key(1), 8, true, &second, &h));
        assert!(r.anomalies.contains(&DefragAnomaly::Overlap));
        assert_eq!(
            r.anomalies.contains(&DefragAnomaly::Teardrop),
            want_teardrop
        );
        assert_eq!(
            r.anomalies.contains(&DefragAnomaly::OverlapDifferentData),
            want_teardrop
        );
        assert_eq!(d.stats().teardrop, u64::from(want_teardrop));
    }
}

#[test]
fn too_large_is_dropped() {
    // Suricata's DefragIPv4TooLargeTest: offset 8183*8 = 65464, 71 bytes,
    // 20 + 65464 + 71 > 65535.
    let mut d = Defragmenter::new(DefragConfig::default());
    let data = fill(b'A', 71);
    let r = d.push(0, frag(v4key(1), 65464, false, &data, &v4hdr()));
    assert_eq!(r.anomalies, vec![DefragAnomaly::TooLarge]);
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(d.stats().teardrop, 1);

    // The configured cap applies too.
    let mut d = Defragmenter::new(DefragConfig {
        max_datagram_bytes: 1000,
        ..DefragConfig::default()
    });
    let r = d.push(0, frag(v4key(1), 992, true, &data[..16], &v4hdr()));
    assert_eq!(r.anomalies, vec![DefragAnomaly::TooLarge]);
}

#[test]
fn bad_length_is_trimmed_and_empty_dropped() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    // Non-last fragment of 10 bytes: trimmed to 8.
    let a = b"AAAAAAAAzz".to_vec();
    let r = d.push(0, frag(v4key(1), 0, true, &a, &h));
    assert_eq!(r.anomalies, vec![DefragAnomaly::BadLength]);
    let b = fill(b'B', 4);
    let p = d
        .push(0, frag(v4key(1), 8, false, &b, &h))
        .reassembled
        .unwrap();
    assert_eq!(&p[20..], b"AAAAAAAABBBB");

    // Non-last fragment of 5 bytes trims to nothing; empty last fragment.
    let r = d.push(0, frag(v4key(2), 8, true, &b"12345"[..], &h));
    assert_eq!(
        r.anomalies,
        vec![DefragAnomaly::BadLength, DefragAnomaly::EmptyFragment]
    );
    let r = d.push(0, frag(v4key(3), 8, false, &[], &h));
    assert_eq!(r.anomalies, vec![DefragAnomaly::EmptyFragment]);
    assert_eq!(d.tracker_count(), 0);
}

#[test]
fn inconsistent_end() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let a = fill(b'A', 32);
    // Last fragment says the datagram is 24 bytes.
    d.push(0, frag(v4key(1), 16, false, &a[..8], &h));
    // A second "last" fragment claims 32: conflicts, the first end stands.
    let r = d.push(0, frag(v4key(1), 16, false, &a[..16], &h));
    assert!(r.anomalies.contains(&DefragAnomaly::InconsistentEnd));
    // A non-last fragment reaching past the end is cut at the end.
    let r = d.push(0, frag(v4key(1), 8, true, &a[..24], &h));
    assert!(r.anomalies.contains(&DefragAnomaly::InconsistentEnd));
    let p = d
        .push(0, frag(v4key(1), 0, true, &a[..8], &h))
        .reassembled
        .unwrap();
    assert_eq!(p.len(), 20 + 24);
    assert_eq!(d.stats().teardrop, 2);
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn last_fragment_truncates_earlier_data() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let a = fill(b'A', 8);
    let b = fill(b'B', 8);
    d.push(0, frag(v4key(1), 32, true, &b, &h)); // beyond the real end
    let r = d.push(0, frag(v4key(1), 8, false, &b, &h)); // end = 16
    assert_eq!(r.anomalies, vec![DefragAnomaly::InconsistentEnd]);
    let p = d
        .push(0, frag(v4key(1), 0, true, &a, &h))
        .reassembled
        .unwrap();
    assert_eq!(&p[20..], b"AAAAAAAABBBBBBBB");
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn timeout_expires_lazily_and_explicitly() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let a = fill(b'A', 8);
    for id in 0..16 {
        d.push(0, frag(v4key(id), 0, true, &a, &h));
    }
    assert_eq!(d.tracker_count(), 16);
    // Still within 60 s: nothing expires, even for a fresh datagram.
    d.push(59 * SEC, frag(v4key(99), 0, true, &a, &h));
    assert_eq!(d.tracker_count(), 17);
    // At 60 s the first 16 are due; the push expires them lazily.
    d.push(60 * SEC, frag(v4key(100), 0, true, &a, &h));
    assert_eq!(d.stats().timeouts, 16);
    assert_eq!(d.tracker_count(), 2);
    // A fragment completing an expired datagram does not complete it.
    let r = d.push(60 * SEC, frag(v4key(0), 8, false, &a, &h));
    assert_eq!(r.reassembled, None);
    // Explicit expiry; the creation time, not the last fragment, counts.
    assert_eq!(d.expire(119 * SEC), 1); // id 99 (created at 59 s)
    assert_eq!(d.expire(120 * SEC), 2); // ids 100 and 0 (both at 60 s)
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn too_many_fragments() {
    let mut d = Defragmenter::new(DefragConfig {
        max_fragments_per_datagram: 3,
        ..DefragConfig::default()
    });
    let h = v4hdr();
    let a = fill(b'A', 8);
    for i in 0..3 {
        assert!(d
            .push(0, frag(v4key(1), 8 + i * 8, true, &a, &h))
            .anomalies
            .is_empty());
    }
    let r = d.push(0, frag(v4key(1), 0, true, &a, &h));
    assert_eq!(r.anomalies, vec![DefragAnomaly::TooManyFragments]);
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(d.stats().too_many_fragments, 1);
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn max_trackers_evicts_oldest() {
    let mut d = Defragmenter::new(DefragConfig {
        max_trackers: 2,
        ..DefragConfig::default()
    });
    let h = v4hdr();
    let a = fill(b'A', 8);
    d.push(1, frag(v4key(1), 0, true, &a, &h));
    d.push(2, frag(v4key(2), 0, true, &a, &h));
    d.push(3, frag(v4key(3), 0, true, &a, &h));
    assert_eq!(d.tracker_count(), 2);
    assert_eq!(d.stats().tracker_evictions, 1);
    // Datagram 1 lost its first fragment; 2 completes normally.
    assert_eq!(
        d.push(4, frag(v4key(1), 8, false, &a, &h)).reassembled,
        None
    );
    // (that push evicted 2, the oldest now) so complete 3 instead.
    assert!(d
        .push(5, frag(v4key(3), 8, false, &a, &h))
        .reassembled
        .is_some());
    assert_eq!(d.stats().tracker_evictions, 2);
}

#[test]
fn memcap_evicts_then_drops() {
    let cap = 2 * TRACKER_OVERHEAD + 100 + 20;
    let mut d = Defragmenter::new(DefragConfig {
        memcap_bytes: cap,
        ..DefragConfig::default()
    });
    let h = v4hdr();
    let a = fill(b'A', 48);
    // Two datagrams of 48 bytes (+20 header on the offset-0 one) fit.
    d.push(0, frag(v4key(1), 0, true, &a, &h));
    d.push(0, frag(v4key(2), 8, true, &a, &h));
    assert_eq!(d.memory_used(), 2 * TRACKER_OVERHEAD + 48 + 20 + 48);
    // 48 more for datagram 2 do not fit: datagram 1 (oldest) is evicted.
    let r = d.push(0, frag(v4key(2), 56, true, &a, &h));
    assert!(r.anomalies.is_empty());
    assert_eq!(d.stats().tracker_evictions, 1);
    assert_eq!(d.tracker_count(), 1);
    assert_eq!(d.memory_used(), TRACKER_OVERHEAD + 96);
    // A fragment that cannot fit even alone is dropped.
    let big = fill(b'B', 400);
    let r = d.push(0, frag(v4key(2), 200, true, &big, &h));
    assert_eq!(r.anomalies, vec![DefragAnomaly::MemcapDrop]);
    assert_eq!(d.stats().memcap_drops, 1);
    assert!(d.memory_used() <= cap);
}

#[test]
fn invalid_inputs() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let mut k = v4key(1);
    k.dst = v6key(1).dst;
    let a = fill(b'A', 8);
    assert_eq!(
        d.push(0, frag(k, 8, true, &a, &[])).anomalies,
        vec![DefragAnomaly::Invalid]
    );
    // Offset-0 fragment with a header too short to rebuild from.
    let r = d.push(0, frag(v4key(1), 0, true, &a, &[0x45; 10]));
    assert_eq!(r.anomalies, vec![DefragAnomaly::Invalid]);
    assert_eq!(d.stats().invalid, 2);
    assert_eq!(d.tracker_count(), 0);
}

#[test]
fn atomic_fragment_is_returned_at_once() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v6hdr();
    let a = fill(b'A', 8);
    // A datagram in progress with the same id is not touched (RFC 6946).
    d.push(0, frag(v6key(5), 8, true, &a, &h));
    let p = d
        .push(0, frag(v6key(5), 0, false, b"hello", &h))
        .reassembled
        .unwrap();
    assert_eq!(&p[40..], b"hello");
    assert_eq!(&p[4..6], &[0, 5]);
    assert_eq!(d.tracker_count(), 1);
}

#[test]
fn keys_keep_datagrams_apart() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let h = v4hdr();
    let (a, b) = (fill(b'A', 8), fill(b'B', 8));
    let mut other = v4key(1);
    other.vlan = 7;
    d.push(0, frag(v4key(1), 0, true, &a, &h));
    d.push(0, frag(other, 0, true, &b, &h));
    let p1 = d
        .push(0, frag(v4key(1), 8, false, &a, &h))
        .reassembled
        .unwrap();
    let p2 = d
        .push(0, frag(other, 8, false, &b, &h))
        .reassembled
        .unwrap();
    assert_eq!(&p1[20..], b"AAAAAAAAAAAAAAAA");
    assert_eq!(&p2[20..], b"BBBBBBBBBBBBBBBB");
}
