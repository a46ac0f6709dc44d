//! Alert rate control: `threshold`, `detection_filter` and threshold.config
//! entries.
//!
//! The semantics follow Suricata's documentation of the keywords:
//!
//! * `limit`: alert on the first `count` matches in each `seconds` window.
//! * `threshold`: alert once every `count` matches within `seconds`
//!   (the counter restarts after each alert and when the window expires).
//! * `both`: alert once per window, when the `count`-th match arrives.
//! * `detection_filter`: alert on every match after the first `count`
//!   within `seconds`.
//!
//! Trackers are keyed by rule and the tracked address(es) and live in a
//! bounded table: when it is full the oldest tracker is dropped (and
//! counted), so an attacker spraying addresses costs a bounded amount of
//! memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// What a threshold counts per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    /// Per source address.
    BySrc,
    /// Per destination address.
    ByDst,
    /// Per rule, whatever the addresses.
    ByRule,
    /// Per (source, destination) pair.
    ByBoth,
}

/// The kind of rate control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    /// First `count` per window.
    Limit,
    /// Every `count`-th within a window.
    Threshold,
    /// Once per window, at the `count`-th.
    Both,
    /// Every match after the first `count` in a window.
    DetectionFilter,
}

/// One rate-control setting of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdSpec {
    /// The kind.
    pub kind: ThresholdKind,
    /// What is counted per.
    pub track: Track,
    /// The count.
    pub count: u32,
    /// The window, in seconds.
    pub seconds: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    rule: u32,
    a: Option<IpAddr>,
    b: Option<IpAddr>,
}

#[derive(Clone, Copy, Debug)]
struct Counter {
    window_start_ns: u64,
    count: u32,
}

/// Counters of the thresholding table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThresholdStats {
    /// Alerts that thresholds or filters held back.
    pub suppressed: u64,
    /// Trackers dropped because the table was full.
    pub evicted: u64,
}

/// The per-worker table of threshold counters.
#[derive(Debug)]
pub struct ThresholdTable {
    counters: HashMap<Key, Counter, foldhash::fast::RandomState>,
    order: VecDeque<Key>,
    max_entries: usize,
    stats: ThresholdStats,
    /// The bits rules keep on hosts (`xbits`, `hostbits`): state shared
    /// across flows, keyed by address and bounded like the counters, so
    /// it travels with them.
    pub hostbits: crate::hostbits::HostBits,
}

impl ThresholdTable {
    /// A table holding at most `max_entries` trackers.
    pub fn new(max_entries: usize) -> Self {
        ThresholdTable {
            counters: HashMap::default(),
            order: VecDeque::new(),
            max_entries: max_entries.max(1),
            stats: ThresholdStats::default(),
            hostbits: crate::hostbits::HostBits::new(max_entries),
        }
    }

    /// Counters.
    pub fn stats(&self) -> ThresholdStats {
        self.stats
    }

    /// Records one match of rule `rule` (an index) at `now_ns` and says
    /// whether it may alert.
    pub fn check(
        &mut self,
        rule: u32,
        spec: &ThresholdSpec,
        src: IpAddr,
        dst: IpAddr,
        now_ns: u64,
    ) -> bool {
        let (a, b) = match spec.track {
            Track::BySrc => (Some(src), None),
            Track::ByDst => (Some(dst), None),
            Track::ByRule => (None, None),
            Track::ByBoth => (Some(src), Some(dst)),
        };
        let key = Key { rule, a, b };
        let window_ns = u64::from(spec.seconds) * 1_000_000_000;
        let count = spec.count.max(1);
        let fresh = Counter {
            window_start_ns: now_ns,
            count: 0,
        };
        if !self.counters.contains_key(&key) {
            while self.counters.len() >= self.max_entries {
                match self.order.pop_front() {
                    Some(old) => {
                        if self.counters.remove(&old).is_some() {
                            self.stats.evicted += 1;
                        }
                    }
                    None => break,
                }
            }
            self.order.push_back(key);
        }
        let c = self.counters.entry(key).or_insert(fresh);
        // A match from before the window started (capture time going
        // backwards, as in merged captures) starts a new window, as it does
        // in Suricata, rather than counting against a future one.
        let expired = now_ns
            .checked_sub(c.window_start_ns)
            .is_none_or(|elapsed| elapsed > window_ns);
        if expired {
            *c = fresh;
        }
        c.count = c.count.saturating_add(1);
        let alert = match spec.kind {
            ThresholdKind::Limit => c.count <= count,
            ThresholdKind::Threshold => {
                if c.count >= count {
                    c.count = 0;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::Both => c.count == count,
            ThresholdKind::DetectionFilter => c.count > count,
        };
        if !alert {
            self.stats.suppressed += 1;
        }
        alert
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const S: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const D: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn run(kind: ThresholdKind, count: u32, seconds: u32, times_s: &[u64]) -> Vec<bool> {
        let mut t = ThresholdTable::new(100);
        let spec = ThresholdSpec {
            kind,
            track: Track::BySrc,
            count,
            seconds,
        };
        times_s
            .iter()
            .map(|s| t.check(1, &spec, S, D, s * 1_000_000_000))
            .collect()
    }

    #[test]
    fn time_going_backwards_starts_a_new_window() {
        let spec = ThresholdSpec {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 1,
            seconds: 300,
        };
        let mut t = ThresholdTable::new(16);
        assert!(t.check(0, &spec, S, D, 1_000_000_000_000));
        assert!(!t.check(0, &spec, S, D, 1_000_000_000_001));
        assert!(t.check(0, &spec, S, D, 5_000_000_000));
    }

    #[test]
    fn limit_alerts_on_the_first_n_per_window() {
        assert_eq!(
            run(ThresholdKind::Limit, 2, 60, &[0, 1, 2, 3, 100]),
            vec![true, true, false, false, true]
        );
    }

    #[test]
    fn threshold_alerts_every_nth() {
        assert_eq!(
            run(ThresholdKind::Threshold, 3, 60, &[0, 1, 2, 3, 4, 5, 6]),
            vec![false, false, true, false, false, true, false]
        );
    }

    #[test]
    fn both_alerts_once_per_window_at_the_nth() {
        assert_eq!(
            run(ThresholdKind::Both, 2, 60, &[0, 1, 2, 3, 100, 101]),
            vec![false, true, false, false, false, true]
        );
    }

    #[test]
    fn detection_filter_alerts_after_the_first_n() {
        assert_eq!(
            run(ThresholdKind::DetectionFilter, 2, 60, &[0, 1, 2, 3]),
            vec![false, false, true, true]
        );
    }

    #[test]
    fn trackers_are_per_address_and_bounded() {
        let mut t = ThresholdTable::new(2);
        let spec = ThresholdSpec {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 1,
            seconds: 60,
        };
        for i in 0..5u8 {
            let src = IpAddr::V4(Ipv4Addr::new(10, 0, 1, i));
            assert!(t.check(1, &spec, src, D, 0));
        }
        assert_eq!(t.stats().evicted, 3);
        assert!(t.counters.len() <= 2);
    }
}
