//! CrowdSec-style scenarios: attack shapes that a jail's "n failures in a
//! window" count misses.
//!
//! Why: a jail sees one source at a time and one window. Attackers adapt:
//! they stay under `maxretry` per `findtime` (slow brute force), spread one
//! account over many addresses (distributed brute force), or try many user
//! names (enumeration). Each scenario here is a small state machine fed the
//! same per-failure tuple `(time, source, user, service)` and returns a
//! [`ScenarioEvent`] when the shape is seen. Like the jail, scenarios are
//! pure and bounded: every table has a capacity and counts evictions.

use std::collections::VecDeque;
use std::net::IpAddr;

use crate::jail::{cap_str, BoundedMap, Prefix};

/// A scenario fired.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioEvent {
    /// The scenario's configured name (`ssh-slow-bf` ...).
    pub scenario: String,
    /// The offending source (its /`ipv6_prefix` network address for
    /// IPv6), `None` for scenarios about a target (distributed brute
    /// force).
    pub source: Option<IpAddr>,
    /// The targeted user, for scenarios about one account.
    pub user: Option<String>,
    /// Distinct user names involved (user enumeration), at most the
    /// threshold.
    pub users: Vec<String>,
    /// Sources involved (distributed brute force), at most the threshold.
    pub sources: Vec<IpAddr>,
    /// Events that made the scenario fire (bucket level, distinct users,
    /// failures, distinct sources).
    pub count: u64,
    /// Time of the event that fired it.
    pub time: f64,
}

/// A scenario setting was unusable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("scenario {scenario}: {key}: {message}")]
pub struct ScenarioConfigError {
    /// Scenario name.
    pub scenario: String,
    /// Setting.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The common interface, so the daemon can hold a list of scenarios.
pub trait Scenario {
    /// The configured name.
    fn name(&self) -> &str;
    /// Feeds one failure; returns an event when the scenario fires.
    /// `time` in unix seconds; `service` is the jail or log it came from.
    fn observe(
        &mut self,
        time: f64,
        source: IpAddr,
        user: Option<&str>,
        service: &str,
    ) -> Option<ScenarioEvent>;
    /// Keys (sources or users) currently tracked.
    fn tracked(&self) -> usize;
    /// Keys forgotten because the table was full.
    fn evictions(&self) -> u64;
}

fn err(scenario: &str, key: &str, message: &str) -> ScenarioConfigError {
    ScenarioConfigError {
        scenario: scenario.to_string(),
        key: key.to_string(),
        message: message.to_string(),
    }
}

fn source_key(source: IpAddr, ipv6_prefix: u8) -> Prefix {
    match source.to_canonical() {
        a @ IpAddr::V4(_) => Prefix::new(a, 32),
        a @ IpAddr::V6(_) => Prefix::new(a, ipv6_prefix),
    }
}

fn service_ok(filter: &Option<String>, service: &str) -> bool {
    filter.as_deref().is_none_or(|s| s == service)
}

// ---------------------------------------------------------------------------
// Leaky bucket
// ---------------------------------------------------------------------------

/// Settings of a [`LeakyBucket`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeakyBucketConfig {
    /// Scenario name.
    pub name: String,
    /// Only failures of this service count (`None`: all).
    pub service: Option<String>,
    /// Tokens the bucket holds; the event poured into a full bucket
    /// overflows it (CrowdSec's `capacity`).
    pub capacity: u32,
    /// Seconds for one token to leak out (CrowdSec's `leakspeed`).
    pub leak_speed: f64,
    /// Seconds after an overflow during which the same source does not
    /// fire again (CrowdSec's `blackhole`).
    pub blackhole: u64,
    /// IPv6 sources share a bucket per prefix of this length.
    pub ipv6_prefix: u8,
    /// Buckets held at once.
    pub max_tracked: usize,
}

impl LeakyBucketConfig {
    /// CrowdSec's `ssh-bf` shape: capacity 5, one token leaks per 10 s,
    /// 1 min blackhole.
    pub fn new(name: &str) -> Self {
        LeakyBucketConfig {
            name: name.to_string(),
            service: None,
            capacity: 5,
            leak_speed: 10.0,
            blackhole: 60,
            ipv6_prefix: 64,
            max_tracked: 65_536,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    last: f64,
    blackhole_until: f64,
}

/// A leaky bucket per source: each failure pours a token, tokens leak at
/// `1 / leak_speed` per second, pouring into a full bucket overflows.
///
/// Why: unlike a fixed window, the bucket tolerates a steady trickle
/// (leak) and catches bursts wherever they straddle window boundaries.
#[derive(Debug, Clone)]
pub struct LeakyBucket {
    cfg: LeakyBucketConfig,
    buckets: BoundedMap<Prefix, Bucket>,
}

impl LeakyBucket {
    /// A scenario with validated settings.
    pub fn new(cfg: LeakyBucketConfig) -> Result<Self, ScenarioConfigError> {
        if !(cfg.leak_speed.is_finite() && cfg.leak_speed > 0.0) {
            return Err(err(
                &cfg.name,
                "leak_speed",
                "must be a positive number of seconds",
            ));
        }
        Ok(LeakyBucket {
            buckets: BoundedMap::new(cfg.max_tracked),
            cfg,
        })
    }
}

impl Scenario for LeakyBucket {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn observe(
        &mut self,
        time: f64,
        source: IpAddr,
        _user: Option<&str>,
        service: &str,
    ) -> Option<ScenarioEvent> {
        if !time.is_finite() || !service_ok(&self.cfg.service, service) {
            return None;
        }
        let key = source_key(source, self.cfg.ipv6_prefix);
        let leak = self.cfg.leak_speed;
        let cap = f64::from(self.cfg.capacity);
        // an empty bucket past its blackhole holds nothing
        self.buckets.expire_oldest(2, |b| {
            b.blackhole_until <= time && b.level - (time - b.last) / leak <= 0.0
        });
        let b = self.buckets.touch_or_insert_with(key, || Bucket {
            level: 0.0,
            last: time,
            blackhole_until: f64::NEG_INFINITY,
        });
        let elapsed = (time - b.last).max(0.0);
        b.level = (b.level - elapsed / leak).max(0.0);
        b.last = b.last.max(time);
        if b.level + 1.0 <= cap {
            b.level += 1.0;
            return None;
        }
        // overflow: the bucket empties
        let count = b.level.ceil() as u64 + 1;
        b.level = 0.0;
        if time < b.blackhole_until {
            return None;
        }
        b.blackhole_until = time + self.cfg.blackhole as f64;
        Some(ScenarioEvent {
            scenario: self.cfg.name.clone(),
            source: Some(key.addr()),
            user: None,
            users: Vec::new(),
            sources: Vec::new(),
            count,
            time,
        })
    }

    fn tracked(&self) -> usize {
        self.buckets.len()
    }

    fn evictions(&self) -> u64 {
        self.buckets.evictions()
    }
}

// ---------------------------------------------------------------------------
// Distinct counter (user enumeration)
// ---------------------------------------------------------------------------

/// Settings of a [`DistinctCounter`].
#[derive(Debug, Clone, PartialEq)]
pub struct DistinctCounterConfig {
    /// Scenario name.
    pub name: String,
    /// Only failures of this service count (`None`: all).
    pub service: Option<String>,
    /// Distinct user names from one source that fire (at least 2).
    pub threshold: usize,
    /// Seconds a user name is remembered per source.
    pub window: u64,
    /// Seconds after firing during which the source does not fire again.
    pub blackhole: u64,
    /// IPv6 sources are grouped per prefix of this length.
    pub ipv6_prefix: u8,
    /// Sources held at once.
    pub max_tracked: usize,
}

impl DistinctCounterConfig {
    /// CrowdSec's `ssh-bf_user-enum` shape: 5 distinct users in 5 min.
    pub fn new(name: &str) -> Self {
        DistinctCounterConfig {
            name: name.to_string(),
            service: None,
            threshold: 5,
            window: 300,
            blackhole: 300,
            ipv6_prefix: 64,
            max_tracked: 65_536,
        }
    }
}

#[derive(Debug, Clone)]
struct DistinctState {
    /// Distinct users with their last time, at most `threshold`.
    users: Vec<(String, f64)>,
    newest: f64,
    blackhole_until: f64,
}

/// User enumeration: one source failing with many distinct user names.
///
/// Why: an attacker guessing which accounts exist sends one or two
/// attempts per name; per-source failure counts stay low for a long time,
/// the number of distinct names does not.
#[derive(Debug, Clone)]
pub struct DistinctCounter {
    cfg: DistinctCounterConfig,
    sources: BoundedMap<Prefix, DistinctState>,
}

impl DistinctCounter {
    /// A scenario with validated settings.
    pub fn new(cfg: DistinctCounterConfig) -> Result<Self, ScenarioConfigError> {
        if cfg.threshold < 2 || cfg.threshold > 4096 {
            return Err(err(&cfg.name, "threshold", "must be 2..=4096"));
        }
        Ok(DistinctCounter {
            sources: BoundedMap::new(cfg.max_tracked),
            cfg,
        })
    }
}

impl Scenario for DistinctCounter {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn observe(
        &mut self,
        time: f64,
        source: IpAddr,
        user: Option<&str>,
        service: &str,
    ) -> Option<ScenarioEvent> {
        let user = user.filter(|u| !u.is_empty())?;
        if !time.is_finite() || !service_ok(&self.cfg.service, service) {
            return None;
        }
        let key = source_key(source, self.cfg.ipv6_prefix);
        let window = self.cfg.window as f64;
        let threshold = self.cfg.threshold;
        self.sources
            .expire_oldest(2, |s| s.newest < time - window && s.blackhole_until <= time);
        let st = self.sources.touch_or_insert_with(key, || DistinctState {
            users: Vec::new(),
            newest: time,
            blackhole_until: f64::NEG_INFINITY,
        });
        st.newest = st.newest.max(time);
        let horizon = st.newest - window;
        st.users.retain(|(_, t)| *t >= horizon);
        let user = cap_str(user);
        if let Some(slot) = st.users.iter_mut().find(|(u, _)| *u == user) {
            slot.1 = slot.1.max(time);
            return None;
        }
        st.users.push((user, time));
        if st.users.len() < threshold {
            return None;
        }
        let users: Vec<String> = st.users.drain(..).map(|(u, _)| u).collect();
        if time < st.blackhole_until {
            return None;
        }
        st.blackhole_until = time + self.cfg.blackhole as f64;
        Some(ScenarioEvent {
            scenario: self.cfg.name.clone(),
            source: Some(key.addr()),
            user: None,
            count: users.len() as u64,
            users,
            sources: Vec::new(),
            time,
        })
    }

    fn tracked(&self) -> usize {
        self.sources.len()
    }

    fn evictions(&self) -> u64 {
        self.sources.evictions()
    }
}

// ---------------------------------------------------------------------------
// Slow brute force
// ---------------------------------------------------------------------------

/// Settings of a [`SlowBruteForce`].
#[derive(Debug, Clone, PartialEq)]
pub struct SlowBruteForceConfig {
    /// Scenario name.
    pub name: String,
    /// Only failures of this service count (`None`: all).
    pub service: Option<String>,
    /// Failures from one source that fire (at least 2).
    pub threshold: u32,
    /// Seconds they must fall within (hours).
    pub window: u64,
    /// The failures must span at least this many seconds, so a single
    /// burst (a jail's business) does not fire it (the jail's findtime).
    pub min_span: u64,
    /// Seconds after firing during which the source does not fire again.
    pub blackhole: u64,
    /// IPv6 sources are grouped per prefix of this length.
    pub ipv6_prefix: u8,
    /// Sources held at once.
    pub max_tracked: usize,
}

impl SlowBruteForceConfig {
    /// 10 failures within 6 hours, spread over more than 10 minutes.
    pub fn new(name: &str) -> Self {
        SlowBruteForceConfig {
            name: name.to_string(),
            service: None,
            threshold: 10,
            window: 6 * 3600,
            min_span: 600,
            blackhole: 6 * 3600,
            ipv6_prefix: 64,
            max_tracked: 65_536,
        }
    }
}

#[derive(Debug, Clone)]
struct SlowState {
    times: VecDeque<f64>,
    newest: f64,
    blackhole_until: f64,
}

/// Slow brute force: many failures from one source over hours, paced to
/// stay under every jail's `maxretry` per `findtime`.
///
/// Why: a patient attacker trying one password every three minutes never
/// fills a 10-minute window of 5 and would otherwise try forever.
#[derive(Debug, Clone)]
pub struct SlowBruteForce {
    cfg: SlowBruteForceConfig,
    sources: BoundedMap<Prefix, SlowState>,
}

impl SlowBruteForce {
    /// A scenario with validated settings.
    pub fn new(cfg: SlowBruteForceConfig) -> Result<Self, ScenarioConfigError> {
        if cfg.threshold < 2 || cfg.threshold > 100_000 {
            return Err(err(&cfg.name, "threshold", "must be 2..=100000"));
        }
        if cfg.min_span > cfg.window {
            return Err(err(&cfg.name, "min_span", "must not exceed window"));
        }
        Ok(SlowBruteForce {
            sources: BoundedMap::new(cfg.max_tracked),
            cfg,
        })
    }
}

impl Scenario for SlowBruteForce {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn observe(
        &mut self,
        time: f64,
        source: IpAddr,
        _user: Option<&str>,
        service: &str,
    ) -> Option<ScenarioEvent> {
        if !time.is_finite() || !service_ok(&self.cfg.service, service) {
            return None;
        }
        let key = source_key(source, self.cfg.ipv6_prefix);
        let window = self.cfg.window as f64;
        let threshold = self.cfg.threshold as usize;
        self.sources
            .expire_oldest(2, |s| s.newest < time - window && s.blackhole_until <= time);
        let st = self.sources.touch_or_insert_with(key, || SlowState {
            times: VecDeque::new(),
            newest: time,
            blackhole_until: f64::NEG_INFINITY,
        });
        st.newest = st.newest.max(time);
        let pos = st.times.partition_point(|&t| t <= time);
        st.times.insert(pos, time);
        let horizon = st.newest - window;
        while st.times.front().is_some_and(|&t| t < horizon) || st.times.len() > threshold {
            st.times.pop_front();
        }
        if st.times.len() < threshold || time < st.blackhole_until {
            return None;
        }
        let first = st.times.front().copied().unwrap_or(time);
        if st.newest - first < self.cfg.min_span as f64 {
            return None;
        }
        let count = st.times.len() as u64;
        st.times.clear();
        st.blackhole_until = time + self.cfg.blackhole as f64;
        Some(ScenarioEvent {
            scenario: self.cfg.name.clone(),
            source: Some(key.addr()),
            user: None,
            users: Vec::new(),
            sources: Vec::new(),
            count,
            time,
        })
    }

    fn tracked(&self) -> usize {
        self.sources.len()
    }

    fn evictions(&self) -> u64 {
        self.sources.evictions()
    }
}

// ---------------------------------------------------------------------------
// Distributed brute force
// ---------------------------------------------------------------------------

/// Settings of a [`DistributedBruteForce`].
#[derive(Debug, Clone, PartialEq)]
pub struct DistributedBruteForceConfig {
    /// Scenario name.
    pub name: String,
    /// Only failures of this service count (`None`: all).
    pub service: Option<String>,
    /// Distinct sources attacking one user name that fire (at least 2).
    pub threshold: usize,
    /// Seconds a source is remembered per user name.
    pub window: u64,
    /// Seconds after firing during which the user does not fire again.
    pub blackhole: u64,
    /// IPv6 sources count once per prefix of this length.
    pub ipv6_prefix: u8,
    /// User names held at once.
    pub max_users: usize,
}

impl DistributedBruteForceConfig {
    /// 10 distinct sources on one user name within an hour.
    pub fn new(name: &str) -> Self {
        DistributedBruteForceConfig {
            name: name.to_string(),
            service: None,
            threshold: 10,
            window: 3600,
            blackhole: 3600,
            ipv6_prefix: 64,
            max_users: 16_384,
        }
    }
}

#[derive(Debug, Clone)]
struct UserState {
    sources: Vec<(IpAddr, f64)>,
    newest: f64,
    blackhole_until: f64,
}

/// Distributed brute force: one account attacked from many addresses,
/// each staying under the per-source thresholds.
///
/// Why: banning sources cannot stop a botnet that uses each address once;
/// the account is what links the attempts, and the event names it so the
/// operator can lock it or require a second factor.
#[derive(Debug, Clone)]
pub struct DistributedBruteForce {
    cfg: DistributedBruteForceConfig,
    users: BoundedMap<String, UserState>,
}

impl DistributedBruteForce {
    /// A scenario with validated settings.
    pub fn new(cfg: DistributedBruteForceConfig) -> Result<Self, ScenarioConfigError> {
        if cfg.threshold < 2 || cfg.threshold > 4096 {
            return Err(err(&cfg.name, "threshold", "must be 2..=4096"));
        }
        Ok(DistributedBruteForce {
            users: BoundedMap::new(cfg.max_users),
            cfg,
        })
    }
}

impl Scenario for DistributedBruteForce {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn observe(
        &mut self,
        time: f64,
        source: IpAddr,
        user: Option<&str>,
        service: &str,
    ) -> Option<ScenarioEvent> {
        let user = user.filter(|u| !u.is_empty())?;
        if !time.is_finite() || !service_ok(&self.cfg.service, service) {
            return None;
        }
        let src = source_key(source, self.cfg.ipv6_prefix).addr();
        let window = self.cfg.window as f64;
        let threshold = self.cfg.threshold;
        self.users
            .expire_oldest(2, |s| s.newest < time - window && s.blackhole_until <= time);
        let user = cap_str(user);
        let st = self.users.touch_or_insert_with(user.clone(), || UserState {
            sources: Vec::new(),
            newest: time,
            blackhole_until: f64::NEG_INFINITY,
        });
        st.newest = st.newest.max(time);
        let horizon = st.newest - window;
        st.sources.retain(|(_, t)| *t >= horizon);
        if let Some(slot) = st.sources.iter_mut().find(|(a, _)| *a == src) {
            slot.1 = slot.1.max(time);
            return None;
        }
        st.sources.push((src, time));
        if st.sources.len() < threshold {
            return None;
        }
        let sources: Vec<IpAddr> = st.sources.drain(..).map(|(a, _)| a).collect();
        if time < st.blackhole_until {
            return None;
        }
        st.blackhole_until = time + self.cfg.blackhole as f64;
        Some(ScenarioEvent {
            scenario: self.cfg.name.clone(),
            source: None,
            user: Some(user),
            users: Vec::new(),
            count: sources.len() as u64,
            sources,
            time,
        })
    }

    fn tracked(&self) -> usize {
        self.users.len()
    }

    fn evictions(&self) -> u64 {
        self.users.evictions()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn a(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0xC000_0200 + i))
    }

    fn ok<T>(r: Result<T, ScenarioConfigError>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn leaky_bucket_fires_on_burst_not_on_trickle() {
        let mut s = ok(LeakyBucket::new(LeakyBucketConfig::new("lb")));
        // a trickle at the leak speed never overflows
        for i in 0..1000 {
            assert_eq!(s.observe(f64::from(i) * 10.0, a(1), None, "sshd"), None);
        }
        // 6 in a second overflows a capacity-5 bucket
        let fired: Vec<_> = (0..6)
            .filter_map(|i| s.observe(20_000.0 + f64::from(i) * 0.1, a(2), None, "sshd"))
            .collect();
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].source, Some(a(2)));
        assert_eq!(fired[0].count, 6);
        // blackhole: another burst right after does not fire
        let again =
            (0..6).filter_map(|i| s.observe(20_001.0 + f64::from(i) * 0.1, a(2), None, "sshd"));
        assert_eq!(again.count(), 0);
        // after the blackhole it fires again
        let later =
            (0..6).filter_map(|i| s.observe(20_100.0 + f64::from(i) * 0.1, a(2), None, "sshd"));
        assert_eq!(later.count(), 1);
        assert!(LeakyBucket::new(LeakyBucketConfig {
            leak_speed: 0.0,
            ..LeakyBucketConfig::new("bad")
        })
        .is_err());
    }

    #[test]
    fn service_filter() {
        let mut s = ok(LeakyBucket::new(LeakyBucketConfig {
            service: Some("sshd".into()),
            capacity: 1,
            ..LeakyBucketConfig::new("lb")
        }));
        for i in 0..10 {
            assert_eq!(s.observe(f64::from(i), a(1), None, "nginx"), None);
        }
        assert_eq!(s.observe(0.0, a(1), None, "sshd"), None);
        assert!(s.observe(0.1, a(1), None, "sshd").is_some());
    }

    #[test]
    fn user_enumeration() {
        let mut s = ok(DistinctCounter::new(DistinctCounterConfig::new("enum")));
        // the same user over and over is not enumeration
        for i in 0..100 {
            assert_eq!(s.observe(f64::from(i), a(1), Some("root"), "sshd"), None);
        }
        // no user name: nothing to count
        assert_eq!(s.observe(1.0, a(2), None, "sshd"), None);
        let names = ["admin", "oracle", "test", "ubuntu", "pi"];
        let mut ev = None;
        for (i, n) in names.iter().enumerate() {
            ev = s.observe(200.0 + i as f64, a(3), Some(n), "sshd");
        }
        let ev = ev.unwrap_or_else(|| panic!("did not fire"));
        assert_eq!(ev.count, 5);
        assert_eq!(ev.users.len(), 5);
        // names spread beyond the window do not add up
        let mut s = ok(DistinctCounter::new(DistinctCounterConfig::new("enum")));
        for (i, n) in names.iter().enumerate() {
            assert_eq!(s.observe(i as f64 * 100.0, a(4), Some(n), "sshd"), None);
        }
    }

    #[test]
    fn slow_brute_force() {
        let mut s = ok(SlowBruteForce::new(SlowBruteForceConfig::new("slow")));
        // one failure every 30 min: 10 within 6 h -> fires at the 10th
        let mut fired = Vec::new();
        for i in 0..10 {
            if let Some(e) = s.observe(f64::from(i) * 1800.0, a(1), Some("root"), "sshd") {
                fired.push((i, e.count));
            }
        }
        assert_eq!(fired, vec![(9, 10)]);
        // one every hour: never 10 within 6 h
        let mut s = ok(SlowBruteForce::new(SlowBruteForceConfig::new("slow")));
        for i in 0..100 {
            assert_eq!(s.observe(f64::from(i) * 3600.0, a(2), None, "sshd"), None);
        }
        // a fast burst of 10 is a jail's business, not a slow brute force
        for i in 0..10 {
            assert_eq!(s.observe(f64::from(i), a(3), None, "sshd"), None);
        }
    }

    #[test]
    fn distributed_brute_force() {
        let mut s = ok(DistributedBruteForce::new(
            DistributedBruteForceConfig::new("dbf"),
        ));
        // 9 sources on "admin": below the threshold
        for i in 0..9 {
            assert_eq!(s.observe(f64::from(i), a(i), Some("admin"), "sshd"), None);
        }
        // the same source again does not count twice
        assert_eq!(s.observe(10.0, a(0), Some("admin"), "sshd"), None);
        // other users do not add up
        assert_eq!(s.observe(11.0, a(50), Some("root"), "sshd"), None);
        let ev = s
            .observe(12.0, a(9), Some("admin"), "sshd")
            .unwrap_or_else(|| panic!("did not fire"));
        assert_eq!(ev.user.as_deref(), Some("admin"));
        assert_eq!(ev.sources.len(), 10);
        assert_eq!(ev.source, None);
        // IPv6 sources of one /64 are one source
        let mut s = ok(DistributedBruteForce::new(DistributedBruteForceConfig {
            threshold: 2,
            ..DistributedBruteForceConfig::new("dbf6")
        }));
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap_or(a(0));
        assert_eq!(s.observe(0.0, v6("2001:db8::1"), Some("u"), "sshd"), None);
        assert_eq!(s.observe(1.0, v6("2001:db8::2"), Some("u"), "sshd"), None);
        assert!(s
            .observe(2.0, v6("2001:db8:0:1::2"), Some("u"), "sshd")
            .is_some());
    }

    #[test]
    fn bounded_tables() {
        let mut s = ok(DistributedBruteForce::new(DistributedBruteForceConfig {
            max_users: 100,
            ..DistributedBruteForceConfig::new("dbf")
        }));
        for i in 0..10_000u32 {
            s.observe(f64::from(i) * 0.01, a(1), Some(&format!("user{i}")), "sshd");
        }
        assert_eq!(s.tracked(), 100);
        assert_eq!(s.evictions(), 9_900);
        let mut s = ok(LeakyBucket::new(LeakyBucketConfig {
            max_tracked: 50,
            ..LeakyBucketConfig::new("lb")
        }));
        for i in 0..10_000u32 {
            s.observe(0.0, a(i), None, "sshd");
        }
        assert_eq!(s.tracked(), 50);
        assert_eq!(s.evictions(), 9_950);
        // a huge user name is stored cut
        let mut d = ok(DistinctCounter::new(DistinctCounterConfig {
            threshold: 2,
            ..DistinctCounterConfig::new("enum")
        }));
        let big = "x".repeat(1 << 20);
        assert_eq!(d.observe(0.0, a(1), Some(&big), "sshd"), None);
        let ev = d.observe(1.0, a(1), Some("y"), "sshd");
        assert!(ev.is_some_and(|e| e.users.iter().all(|u| u.len() <= 64)));
    }
}
