//! Finding the rules whose address list contains a packet's address.
//!
//! Reputation-style rules (`alert ip [198.51.100.7,203.0.113.0/24,...] any
//! -> $HOME_NET any`) have no content to prefilter on; checking each of them
//! against every packet made address matching most of the engine's time.
//! This index cuts the address space into elementary segments, each with the
//! list of rules covering it, so one binary search per packet finds them
//! (the job Suricata's IP-only engine does with radix trees).

use std::collections::BTreeMap;
use std::net::IpAddr;

use rampart_rules::AddressSet;

/// Segment starts and the rules covering each segment, for one family.
#[derive(Debug, Default)]
struct Segments<T> {
    starts: Vec<T>,
    rules: Vec<Vec<u32>>,
}

impl<T: Copy + Ord> Segments<T> {
    fn lookup(&self, v: T) -> &[u32] {
        let idx = self.starts.partition_point(|&s| s <= v);
        idx.checked_sub(1)
            .and_then(|i| self.rules.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Builds segments from (range, rule) pairs with a sweep over the range
/// boundaries, so the cost is proportional to the number of ranges.
fn build<T: Copy + Ord>(entries: Vec<(T, Option<T>, u32)>) -> Segments<T> {
    // Boundary → rules starting there / ending just before it.
    let mut events: BTreeMap<T, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
    for (lo, end, rule) in entries {
        events.entry(lo).or_default().0.push(rule);
        if let Some(end) = end {
            events.entry(end).or_default().1.push(rule);
        }
    }
    let mut active: BTreeMap<u32, usize> = BTreeMap::new();
    let mut seg = Segments {
        starts: Vec::new(),
        rules: Vec::new(),
    };
    for (at, (starts, ends)) in events {
        for r in ends {
            if let Some(n) = active.get_mut(&r) {
                *n -= 1;
                if *n == 0 {
                    active.remove(&r);
                }
            }
        }
        for r in starts {
            *active.entry(r).or_default() += 1;
        }
        seg.starts.push(at);
        seg.rules.push(active.keys().copied().collect());
    }
    seg
}

/// Rules indexed by the addresses of one side (source or destination).
#[derive(Debug, Default)]
pub struct AddrIndex {
    v4: Segments<u32>,
    /// For large IPv4 indexes (reputation lists of thousands of networks):
    /// entry `h` counts the segment starts below `h << 16`, so a lookup
    /// searches only the starts sharing the address's top 16 bits instead
    /// of the whole list (the search showed up in profiles). Empty when
    /// the index is small.
    v4_by_top16: Vec<u32>,
    v6: Segments<u128>,
}

/// IPv4 indexes with more segments than this get the top-16-bit table.
const V4_TABLE_MIN_SEGMENTS: usize = 512;

/// The table of [`AddrIndex::v4_by_top16`] for sorted `starts`.
fn top16_table(starts: &[u32]) -> Vec<u32> {
    let mut table = Vec::with_capacity((1 << 16) + 1);
    let mut i = 0usize;
    for h in 0..=(1u64 << 16) {
        while starts.get(i).is_some_and(|&s| u64::from(s) < h << 16) {
            i += 1;
        }
        table.push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    table
}

impl AddrIndex {
    /// Indexes `rules`: each rule's address set on the chosen side.
    pub fn new<'a>(rules: impl IntoIterator<Item = (u32, &'a AddressSet)>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (rule, set) in rules {
            for &(lo, hi) in set.v4_ranges() {
                v4.push((lo, hi.checked_add(1), rule));
            }
            for &(lo, hi) in set.v6_ranges() {
                v6.push((lo, hi.checked_add(1), rule));
            }
        }
        let v4 = build(v4);
        let v4_by_top16 = if v4.starts.len() > V4_TABLE_MIN_SEGMENTS {
            top16_table(&v4.starts)
        } else {
            Vec::new()
        };
        AddrIndex {
            v4,
            v4_by_top16,
            v6: build(v6),
        }
    }

    /// The rules whose set contains `ip`.
    pub fn lookup(&self, ip: IpAddr) -> &[u32] {
        match ip {
            IpAddr::V4(a) => self.lookup_v4(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }

    fn lookup_v4(&self, v: u32) -> &[u32] {
        let top = (v >> 16) as usize;
        let (Some(&lo), Some(&hi)) = (self.v4_by_top16.get(top), self.v4_by_top16.get(top + 1))
        else {
            return self.v4.lookup(v);
        };
        let (lo, hi) = (lo as usize, hi as usize);
        let within = self
            .v4
            .starts
            .get(lo..hi)
            .map_or(0, |s| s.partition_point(|&s| s <= v));
        (lo + within)
            .checked_sub(1)
            .and_then(|i| self.v4.rules.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.v4.starts.is_empty() && self.v6.starts.is_empty()
    }
}

/// How many addresses a set holds, saturating (IPv6 ranges count as huge),
/// to pick the more selective side of a rule.
pub fn set_size(set: &AddressSet) -> u128 {
    let v4: u128 = set
        .v4_ranges()
        .iter()
        .map(|&(a, b)| u128::from(b - a) + 1)
        .sum();
    let v6 = set.v6_ranges().iter().fold(0u128, |acc, &(a, b)| {
        acc.saturating_add((b - a).saturating_add(1))
    });
    v4.saturating_add(v6)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rampart_rules::Variables;

    fn set(s: &str) -> AddressSet {
        Variables::default().resolve_address(s).unwrap()
    }

    #[test]
    fn large_v4_index_answers_like_a_plain_search() {
        // Enough /24s and single addresses to get the top-16-bit table.
        let sets: Vec<AddressSet> = (0u32..700)
            .map(|i| {
                let (a, b) = (i % 7 * 30, i % 251);
                if i % 2 == 0 {
                    set(&format!("[10.{a}.{b}.0/24]"))
                } else {
                    set(&format!("[10.{a}.{b}.9,192.0.{b}.1]"))
                }
            })
            .collect();
        let idx = AddrIndex::new(sets.iter().enumerate().map(|(i, s)| (i as u32, s)));
        assert!(!idx.v4_by_top16.is_empty());
        for probe in 0u32..20_000 {
            let v = probe.wrapping_mul(2_654_435_761) ^ (10 << 24);
            for v in [v, v & 0xff00_ffff, (10 << 24) | (probe & 0xffff) << 8 | 9] {
                assert_eq!(idx.lookup_v4(v), idx.v4.lookup(v), "{v:#x}");
            }
        }
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(idx.lookup(ip("10.0.0.7")).contains(&0));
        assert!(idx.lookup(ip("192.0.3.1")).contains(&3));
        assert_eq!(idx.lookup(ip("11.0.0.1")), &[] as &[u32]);
    }

    #[test]
    fn overlapping_ranges_find_every_rule() {
        let a = set("[10.0.0.0/8]");
        let b = set("[10.1.0.0/16,192.0.2.1]");
        let c = set("[2001:db8::/32]");
        let idx = AddrIndex::new([(0, &a), (1, &b), (2, &c)]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(idx.lookup(ip("10.2.3.4")), &[0]);
        assert_eq!(idx.lookup(ip("10.1.3.4")), &[0, 1]);
        assert_eq!(idx.lookup(ip("192.0.2.1")), &[1]);
        assert_eq!(idx.lookup(ip("192.0.2.2")), &[] as &[u32]);
        assert_eq!(idx.lookup(ip("11.0.0.0")), &[] as &[u32]);
        assert_eq!(idx.lookup(ip("2001:db8::1")), &[2]);
        assert_eq!(idx.lookup(ip("255.255.255.255")), &[] as &[u32]);
    }

    #[test]
    fn sizes() {
        assert_eq!(set_size(&set("[10.0.0.0/24,10.0.1.1]")), 257);
    }
}
