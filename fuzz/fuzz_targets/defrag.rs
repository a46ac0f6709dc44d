//! Fuzzes IPv4/IPv6 defragmentation with colliding, overlapping, oversized
//! and badly timed fragments under tight limits.
//!
//! Input (see README.md):
//! ```text
//! config: [policy][memcap][trackers/frags][datagram/timeout]
//! ops:    [tag] ...            repeated until the input ends
//!   tag & 0x0F == 0x0F: expire   [time delta]
//!   otherwise fragment:          [offset lo] ([offset hi] if tag & 0x10)
//!                                [len u16 LE] [fill] [time delta]
//!     key      = KEYS[tag & 0x07]  (IPv4, IPv6, VLAN-tagged, mixed-family)
//!     more     = tag & 0x08
//!     rolling  = tag & 0x20        (pattern of the data, see `Pattern`)
//!     header   = tag >> 6          (0 minimal, 1 options/ext header,
//!                                   2 too short, 3 largest)
//! ```
//!
//! Checks, after every operation: memory charged <= memcap; trackers <=
//! max_trackers; a rebuilt datagram is at most 65535 bytes (IPv4) or 40 +
//! 65535 (IPv6), has its length fields, fragment fields and IPv4 checksum
//! fixed up, and every payload byte is one that some fragment of that
//! datagram carried at that offset. At the end, expiring everything returns
//! all memory (memory_used() == 0, no trackers).
#![no_main]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use rampart_fuzz::{Input, Pattern};
use rampart_stream::defrag::ipv4_header_checksum;
use rampart_stream::{DefragConfig, Defragmenter, FragKey, Fragment, OverlapPolicy};

const MEMCAPS: [usize; 8] = [0, 255, 256, 600, 2048, 8192, 65_536, 1 << 20];
const MAX_FRAGS: [u32; 8] = [1, 2, 3, 4, 8, 16, 64, 1024];
const MAX_DATAGRAM: [u32; 4] = [65_535, 1500, 3000, 64];
const TIMEOUTS: [u64; 4] = [60_000_000_000, 1_000, 100_000, 10_000_000];
/// Next-header values used for IPv6 fragments; never 0 or 60, so the
/// rebuilt header's layout can be recognised (see `v6_header_len`).
const V6_NEXT: [u8; 4] = [6, 17, 58, 59];

fn v4(a: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, a))
}

fn v6(a: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, a))
}

fn keys() -> [FragKey; 8] {
    let k = |src, dst, id, protocol, vlan| FragKey {
        src,
        dst,
        id,
        protocol,
        vlan,
    };
    [
        k(v4(1), v4(2), 1, 17, 0),
        k(v4(1), v4(2), 2, 17, 0),
        k(v4(1), v4(2), 1, 6, 0),
        k(v6(1), v6(2), 1, 0, 0),
        k(v6(1), v6(2), 0x1_0001, 0, 0),
        k(v4(1), v4(2), 1, 17, 7),
        k(v4(1), v6(2), 1, 17, 0),
        k(v6(1), v6(2), 1, 0, 7),
    ]
}

/// The header bytes a fragment carries, by variant.
fn header(is_v4: bool, variant: u8, fill: u8, protocol: u8) -> Vec<u8> {
    if is_v4 {
        let words: usize = match variant {
            0 => 5,
            1 => 5 + usize::from(fill % 11),
            2 => return vec![0x45; 10],
            _ => 15,
        };
        let mut h = vec![0u8; words * 4];
        h[0] = 0x40 | words as u8;
        h[2..4].copy_from_slice(&[0x05, 0xdc]);
        h[6] = 0x20; // MF, so the fix-up is visible
        h[8] = 64;
        h[9] = protocol;
        h[12..16].copy_from_slice(&[10, 0, 0, 1]);
        h[16..20].copy_from_slice(&[10, 0, 0, 2]);
        for (i, b) in h.iter_mut().enumerate().skip(20) {
            *b = if i == 20 { 1 } else { fill }; // NOP then junk options
        }
        h
    } else {
        let mut h = vec![0u8; 40];
        h[0] = 0x60;
        h[7] = 64;
        match variant {
            0 => h[6] = 44,
            1 => {
                h[6] = 0; // hop-by-hop, 8 bytes, then the fragment header
                h.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
            }
            2 => h.truncate(30),
            _ => {
                h[6] = 0; // hop-by-hop -> destination options -> fragment
                h.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
                h.extend_from_slice(&[44, 0, 1, 4, fill, fill, fill, fill]);
            }
        }
        h
    }
}

/// Length of the header of a rebuilt IPv6 packet made from `header()`.
fn v6_header_len(pkt: &[u8]) -> usize {
    match (pkt[6], pkt.get(40)) {
        (0, Some(60)) => 56,
        (0, _) => 48,
        _ => 40,
    }
}

struct Pushed {
    offset: u64,
    len: u64,
    pattern: Pattern,
}

fn check_rebuilt(pkt: &[u8], is_v4: bool, atomic: bool, cfg: &DefragConfig, history: &[Pushed]) {
    let header_len = if is_v4 {
        assert!(
            pkt.len() >= 20 && pkt.len() <= 65_535,
            "IPv4 length {}",
            pkt.len()
        );
        assert_eq!(usize::from(u16::from_be_bytes([pkt[2], pkt[3]])), pkt.len());
        assert_eq!(pkt[6] & 0x3f, 0, "MF/offset not cleared");
        assert_eq!(pkt[7], 0, "offset not cleared");
        let hl = usize::from(pkt[0] & 0x0f) * 4;
        let csum = ipv4_header_checksum(&pkt[..hl]);
        assert_eq!(u16::from_be_bytes([pkt[10], pkt[11]]), csum, "bad checksum");
        hl
    } else {
        assert!(
            pkt.len() >= 40 && pkt.len() <= 40 + 65_535,
            "IPv6 length {}",
            pkt.len()
        );
        assert_eq!(
            usize::from(u16::from_be_bytes([pkt[4], pkt[5]])),
            pkt.len() - 40
        );
        v6_header_len(pkt)
    };
    let payload = &pkt[header_len..];
    if !atomic {
        assert!(
            payload.len() <= cfg.max_datagram_bytes as usize,
            "payload {} beyond max_datagram_bytes",
            payload.len()
        );
    }
    // Every byte must come from some fragment of this datagram.
    if payload.len().saturating_mul(history.len()) > 400_000 {
        return;
    }
    for (i, &b) in payload.iter().enumerate() {
        let p = i as u64;
        let ok = history
            .iter()
            .any(|h| h.offset <= p && p < h.offset + h.len && h.pattern.byte_at(p) == b);
        assert!(ok, "payload byte {i} ({b:#04x}) came from no fragment");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let c0 = input.u8();
    let c1 = input.u8();
    let c2 = input.u8();
    let c3 = input.u8();
    let cfg = DefragConfig {
        policy: OverlapPolicy::ALL[usize::from(c0) % OverlapPolicy::ALL.len()],
        memcap_bytes: MEMCAPS[usize::from(c1 & 7)],
        max_trackers: 1 + usize::from(c2 & 7),
        max_fragments_per_datagram: MAX_FRAGS[usize::from(c2 >> 3) & 7],
        max_datagram_bytes: MAX_DATAGRAM[usize::from(c3 & 3)],
        timeout_ns: TIMEOUTS[usize::from(c3 >> 2) & 3],
    };
    let step = (cfg.timeout_ns / 16).max(1);
    let keys = keys();
    let mut d = Defragmenter::new(cfg);
    let mut now: u64 = 1 << 40;
    let mut history: HashMap<usize, Vec<Pushed>> = HashMap::new();
    let mut reassembled = 0u64;

    let advance = |now: &mut u64, delta: u8| {
        if delta >= 0xF0 {
            *now = now.saturating_sub(u64::from(delta - 0xEF) * step);
        } else {
            *now = now.saturating_add(u64::from(delta) * step);
        }
    };

    let mut ops = 0;
    while !input.is_empty() && ops < 2000 {
        ops += 1;
        let tag = input.u8();
        if tag & 0x0F == 0x0F {
            let delta = input.u8();
            advance(&mut now, delta);
            d.expire(now);
        } else {
            let key_idx = usize::from(tag & 7);
            let key = keys[key_idx];
            let more = tag & 0x08 != 0;
            let mut off = u32::from(input.u8());
            if tag & 0x10 != 0 {
                off |= u32::from(input.u8()) << 8;
            }
            let offset = (off & 0x1FFF) * 8;
            let len = usize::from(input.u16() % 2001);
            let fill = input.u8();
            let delta = input.u8();
            advance(&mut now, delta);
            let pattern = Pattern {
                fill,
                rolling: tag & 0x20 != 0,
            };
            let is_v4 = key.src.is_ipv4();
            let bytes = pattern.generate(u64::from(offset), len);
            let hdr = header(is_v4, tag >> 6, fill, key.protocol);
            let frag = Fragment {
                key,
                offset,
                more,
                data: &bytes,
                header: &hdr,
                ipv6_next_header: (!is_v4).then_some(V6_NEXT[usize::from(fill & 3)]),
            };
            let hist = history.entry(key_idx).or_default();
            hist.push(Pushed {
                offset: u64::from(offset),
                len: len as u64,
                pattern,
            });
            let res = d.push(now, frag);
            if let Some(pkt) = &res.reassembled {
                reassembled += 1;
                let atomic = offset == 0 && !more;
                let hist = history.get(&key_idx).map(Vec::as_slice).unwrap_or(&[]);
                check_rebuilt(pkt, is_v4, atomic, &cfg, hist);
            }
        }
        assert!(
            d.memory_used() <= cfg.memcap_bytes,
            "memory {} over memcap {}",
            d.memory_used(),
            cfg.memcap_bytes
        );
        assert!(d.tracker_count() <= cfg.max_trackers);
        assert_eq!(d.stats().reassembled, reassembled);
        if d.tracker_count() == 0 {
            assert_eq!(d.memory_used(), 0, "memory charged with no tracker");
        }
    }
    d.expire(u64::MAX);
    assert_eq!(d.tracker_count(), 0);
    assert_eq!(
        d.memory_used(),
        0,
        "memory leaked after expiring everything"
    );
});
