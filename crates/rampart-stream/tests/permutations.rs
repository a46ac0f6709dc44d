//! Property tests: reassembly is order-independent for consistent data,
//! agrees with a naive byte-array model for inconsistent data, and stays
//! within its bounds on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::sample::Index;
use rampart_stream::reassembly::OwnedStreamEvent;
use rampart_stream::{
    DefragConfig, Defragmenter, Extent, FragKey, Fragment, MemoryBudget, OverlapPolicy,
    ReassemblyConfig, StreamEvent, TcpSegment, TcpStreamBuffer,
};

fn policy() -> impl Strategy<Value = OverlapPolicy> {
    prop::sample::select(OverlapPolicy::ALL.to_vec())
}

/// Splits `0..len` at the given cut points into consecutive ranges, and
/// adds extra (possibly overlapping) ranges and exact duplicates.
fn ranges(
    len: usize,
    cuts: &[Index],
    extras: &[(Index, Index)],
    dups: &[Index],
) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    let mut out: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
    for d in dups {
        let r = out[d.index(out.len())];
        out.push(r);
    }
    for (a, b) in extras {
        let (a, b) = (a.index(len + 1), b.index(len + 1));
        let (a, b) = (a.min(b), a.max(b));
        if a < b {
            out.push((a, b));
        }
    }
    out
}

fn tcp_case() -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize)>, u32, OverlapPolicy, bool)> {
    (
        prop::collection::vec(any::<u8>(), 1..3000),
        prop::collection::vec(any::<Index>(), 0..40),
        prop::collection::vec((any::<Index>(), any::<Index>()), 0..8),
        prop::collection::vec(any::<Index>(), 0..8),
        any::<u32>(),
        policy(),
        any::<bool>(),
    )
        .prop_flat_map(|(payload, cuts, extras, dups, isn, policy, fin)| {
            let rs = ranges(payload.len(), &cuts, &extras, &dups);
            (
                Just(payload),
                Just(rs).prop_shuffle(),
                Just(isn),
                Just(policy),
                Just(fin),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Segments of a payload (consecutive pieces plus duplicates and
    /// overlapping copies of the same bytes), in any order, under any
    /// policy, reassemble to exactly the payload, once, in order.
    #[test]
    fn tcp_any_order_reassembles(
        (payload, rs, isn, policy, fin) in tcp_case()
    ) {
        let mut budget = MemoryBudget::new(1 << 24);
        let mut s = TcpStreamBuffer::new(ReassemblyConfig { policy, ..ReassemblyConfig::default() });
        let mut events: Vec<OwnedStreamEvent> = Vec::new();
        s.push(&mut budget, TcpSegment { seq: isn, syn: true, ..TcpSegment::default() }, |_| {});
        let len = payload.len();
        for &(a, b) in &rs {
            let seg = TcpSegment {
                seq: isn.wrapping_add(1).wrapping_add(a as u32),
                syn: false,
                fin: fin && b == len,
                data: &payload[a..b],
            };
            s.push(&mut budget, seg, |e| events.push(e.into_owned()));
            prop_assert_eq!(budget.used(), s.memory_charged());
        }
        let mut out = Vec::new();
        let mut ended = false;
        for e in &events {
            match e {
                OwnedStreamEvent::Data { offset, data } => {
                    prop_assert_eq!(*offset, out.len() as u64);
                    prop_assert!(!ended);
                    out.extend_from_slice(data);
                }
                OwnedStreamEvent::Gap { .. } => prop_assert!(false, "unexpected gap"),
                OwnedStreamEvent::End { offset } => {
                    prop_assert_eq!(*offset, len as u64);
                    ended = true;
                }
            }
        }
        prop_assert_eq!(&out, &payload);
        prop_assert_eq!(ended, fin);
        prop_assert_eq!(s.stats().overlaps_different_data, 0);
        prop_assert_eq!(s.buffered_bytes(), 0);
        s.release_memory(&mut budget);
        prop_assert_eq!(budget.used(), 0);
    }
}

fn v4key() -> FragKey {
    FragKey {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        id: 0x1234,
        protocol: 17,
        vlan: 0,
    }
}

fn v6key() -> FragKey {
    FragKey {
        src: IpAddr::V6(Ipv6Addr::LOCALHOST),
        dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
        id: 0xdead_beef,
        protocol: 0,
        vlan: 3,
    }
}

fn v4hdr() -> Vec<u8> {
    vec![
        0x45, 0, 0, 0, 0x12, 0x34, 0x20, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ]
}

fn v6hdr() -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0, 0, 0, 44, 64];
    h.extend_from_slice(&[0u8; 32]);
    h
}

/// Fragment ranges in bytes: cut points on 8-byte boundaries (only the
/// last fragment may end off a boundary).
fn frag_ranges(
    len: usize,
    cuts: &[Index],
    extras: &[(Index, Index)],
    dups: &[Index],
) -> Vec<(usize, usize)> {
    let nblocks = len.div_ceil(8);
    ranges(nblocks, cuts, extras, dups)
        .into_iter()
        .map(|(a, b)| (a * 8, (b * 8).min(len)))
        .collect()
}

fn frag_case() -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize)>, OverlapPolicy, bool)> {
    (
        prop::collection::vec(any::<u8>(), 1..3000),
        prop::collection::vec(any::<Index>(), 0..40),
        prop::collection::vec((any::<Index>(), any::<Index>()), 0..8),
        prop::collection::vec(any::<Index>(), 0..8),
        policy(),
        any::<bool>(),
    )
        .prop_flat_map(|(payload, cuts, extras, dups, policy, v6)| {
            let rs = frag_ranges(payload.len(), &cuts, &extras, &dups);
            (
                Just(payload),
                Just(rs).prop_shuffle(),
                Just(policy),
                Just(v6),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Fragments of a payload in any order, with duplicates and consistent
    /// overlaps, under any policy, IPv4 or IPv6, rebuild the payload.
    #[test]
    fn defrag_any_order_reassembles((payload, rs, policy, v6) in frag_case()) {
        let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
        let (key, hdr) = if v6 { (v6key(), v6hdr()) } else { (v4key(), v4hdr()) };
        let hlen = hdr.len();
        let len = payload.len();
        let mut packets = Vec::new();
        for &(a, b) in &rs {
            let f = Fragment {
                key,
                offset: a as u32,
                more: b < len,
                data: &payload[a..b],
                header: &hdr,
                ipv6_next_header: if v6 { Some(17) } else { None },
            };
            let r = d.push(0, f);
            prop_assert!(!r.anomalies.iter().any(|a| *a != rampart_stream::DefragAnomaly::Overlap),
                "consistent fragments raise no anomaly but overlap: {:?}", r.anomalies);
            packets.extend(r.reassembled);
        }
        prop_assert!(!packets.is_empty());
        for p in &packets {
            prop_assert_eq!(&p[hlen..], &payload[..]);
            if v6 {
                prop_assert_eq!(usize::from(u16::from_be_bytes([p[4], p[5]])), len);
                prop_assert_eq!(p[6], 17);
            } else {
                prop_assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), hlen + len);
            }
        }
        prop_assert_eq!(d.stats().overlaps_different_data, 0);
    }
}

/// The naive model: one slot per byte holding (data, owner extent); each
/// arriving piece writes a byte if the slot is empty or the policy says the
/// new piece wins against the slot's owner.
fn naive(
    len: usize,
    pieces: &[(usize, usize, u8)],
    wins: impl Fn(Extent, Extent) -> bool,
) -> Vec<u8> {
    let mut slots: Vec<Option<(u8, Extent)>> = vec![None; len];
    for &(a, b, c) in pieces {
        let new = Extent::new(a as u64, b as u64);
        for slot in &mut slots[a..b] {
            match slot {
                Some((_, old)) if !wins(new, *old) => {}
                _ => *slot = Some((c, new)),
            }
        }
    }
    slots
        .into_iter()
        .map(|s| s.map_or(b'?', |(c, _)| c))
        .collect()
}

/// Inconsistent overlaps: every piece has its own fill byte. The first
/// `unit` bytes are sent last by a piece of their own so that the result is
/// only produced once everything has arrived. Offsets are multiples of
/// `unit` (8 for fragments, 1 for TCP segments).
fn overlap_case(unit: usize) -> impl Strategy<Value = (usize, Vec<(usize, usize)>, OverlapPolicy)> {
    (
        2usize..(512 / unit),
        prop::collection::vec(any::<Index>(), 0..12),
        prop::collection::vec((any::<Index>(), any::<Index>()), 1..12),
        policy(),
    )
        .prop_map(move |(nunits, cuts, extras, policy)| {
            // Ranges over units 1..nunits, shifted right by one unit.
            let rest = ranges(nunits - 1, &cuts, &extras, &[]);
            let rs = rest
                .into_iter()
                .map(|(a, b)| ((a + 1) * unit, (b + 1) * unit))
                .collect();
            (nunits * unit, rs, policy)
        })
        .prop_flat_map(|(len, rs, policy)| (Just(len), Just(rs).prop_shuffle(), Just(policy)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn defrag_matches_naive_model((len, rs, policy) in overlap_case(8)) {
        let mut pieces: Vec<(usize, usize, u8)> =
            rs.iter().enumerate().map(|(i, &(a, b))| (a, b, b'a' + (i % 26) as u8)).collect();
        pieces.push((0, 8, b'0'));
        let want = naive(len, &pieces, |n, o| policy.fragment_new_wins(n, o));

        let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
        let hdr = v4hdr();
        let mut got = None;
        for &(a, b, c) in &pieces {
            let data = vec![c; b - a];
            let r = d.push(0, Fragment {
                key: v4key(),
                offset: a as u32,
                more: b < len,
                data: &data,
                header: &hdr,
                ipv6_next_header: None,
            });
            if let Some(p) = r.reassembled {
                prop_assert!(got.is_none());
                got = Some(p[20..].to_vec());
            }
        }
        let got = got.unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        prop_assert_eq!(d.memory_used(), 0);
    }

    #[test]
    fn tcp_matches_naive_model((len, rs, policy) in overlap_case(1)) {
        let mut pieces: Vec<(usize, usize, u8)> =
            rs.iter().enumerate().map(|(i, &(a, b))| (a, b, b'a' + (i % 26) as u8)).collect();
        pieces.push((0, 1, b'0'));
        let want = naive(len, &pieces, |n, o| policy.segment_new_wins(n, o));

        let mut budget = MemoryBudget::new(1 << 20);
        let mut s = TcpStreamBuffer::new(ReassemblyConfig { policy, ..ReassemblyConfig::default() });
        s.push(&mut budget, TcpSegment { seq: u32::MAX - 100, syn: true, ..TcpSegment::default() }, |_| {});
        let mut out = Vec::new();
        for &(a, b, c) in &pieces {
            let data = vec![c; b - a];
            let seg = TcpSegment { seq: (u32::MAX - 99).wrapping_add(a as u32), data: &data, ..TcpSegment::default() };
            s.push(&mut budget, seg, |e| {
                if let StreamEvent::Data { data, .. } = e {
                    out.extend_from_slice(data);
                }
            });
        }
        prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
    }
}

/// An arbitrary TCP segment for the robustness property.
fn any_segment() -> impl Strategy<Value = (u16, bool, bool, Vec<u8>)> {
    (
        any::<u16>(),
        any::<bool>(),
        prop::bool::weighted(0.05),
        prop::collection::vec(any::<u8>(), 0..300),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Arbitrary segments with small caps: delivery stays contiguous, the
    /// budget stays in sync and within its limit, caps hold.
    #[test]
    fn tcp_bounded_on_arbitrary_input(
        segs in prop::collection::vec(any_segment(), 1..60),
        policy in policy(),
        acks in prop::collection::vec(any::<u16>(), 0..5),
    ) {
        let config = ReassemblyConfig {
            policy,
            max_buffered_bytes: 2000,
            max_buffered_segments: 16,
            max_gap_buffer: 1500,
            max_gap_segments: 8,
            retain_delivered_bytes: 100,
            max_window: 20_000,
            ..ReassemblyConfig::default()
        };
        let mut budget = MemoryBudget::new(3000);
        let mut s = TcpStreamBuffer::new(config);
        let mut next_offset = None::<u64>;
        let mut check = |e: StreamEvent<'_>| {
            let (off, len) = match e {
                StreamEvent::Data { offset, data } => (offset, data.len() as u64),
                StreamEvent::Gap { offset, len } => (offset, len),
                StreamEvent::End { .. } => return,
            };
            if let Some(n) = next_offset {
                assert_eq!(off, n, "events are contiguous");
            }
            next_offset = Some(off + len);
        };
        for (i, (seq, syn, fin, data)) in segs.iter().enumerate() {
            let seg = TcpSegment { seq: u32::from(*seq), syn: *syn, fin: *fin, data };
            s.push(&mut budget, seg, &mut check);
            if let Some(a) = acks.get(i) {
                s.acknowledge(&mut budget, u32::from(*a), &mut check);
            }
            prop_assert_eq!(budget.used(), s.memory_charged());
            prop_assert!(budget.used() <= budget.limit());
            prop_assert!(s.buffered_bytes() <= 2000);
            prop_assert!(s.buffered_segments() <= 16);
        }
        s.flush(&mut budget, &mut check);
        prop_assert_eq!(s.buffered_bytes(), 0);
        s.release_memory(&mut budget);
        prop_assert_eq!(budget.used(), 0);
    }

    /// Arbitrary fragments never exceed the memcap or the tracker cap.
    #[test]
    fn defrag_bounded_on_arbitrary_input(
        frags in prop::collection::vec(
            (0u32..4, 0u32..8300, any::<bool>(), prop::collection::vec(any::<u8>(), 0..200), 0u64..5),
            1..80),
        policy in policy(),
    ) {
        let mut d = Defragmenter::new(DefragConfig {
            policy,
            memcap_bytes: 2000,
            max_trackers: 3,
            max_fragments_per_datagram: 10,
            timeout_ns: 2,
            ..DefragConfig::default()
        });
        let hdr = v4hdr();
        let mut now = 0;
        for (id, off, more, data, dt) in &frags {
            now += dt;
            let mut key = v4key();
            key.id = *id;
            let r = d.push(now, Fragment {
                key, offset: off * 8, more: *more, data, header: &hdr, ipv6_next_header: None,
            });
            if let Some(p) = r.reassembled {
                prop_assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
            }
            prop_assert!(d.memory_used() <= 2000);
            prop_assert!(d.tracker_count() <= 3);
        }
        d.expire(u64::MAX);
        prop_assert_eq!(d.memory_used(), 0);
        prop_assert_eq!(d.tracker_count(), 0);
    }
}
