//! Early warning: a 0..100 score per source and per prefix that rises on
//! weak signals before a jail's threshold is reached, and a forecast of
//! the source's attempts per minute.
//!
//! Why: a jail acts after `maxretry` failures; by then a fast attacker has
//! had its tries. Weak signals (a fast pace between the first failures,
//! neighbours in the same /24 already failing, a log-wide surge against
//! its usual rate, scanner-like lines, one source touching several
//! services) let an operator see, or optionally pre-empt, the ban. The
//! score is explainable: every point comes from a named component listed
//! in [`Warning::reasons`].
//!
//! Like the jail this is pure: time comes from the log lines, state is in
//! bounded tables with eviction counters.

use std::collections::VecDeque;
use std::net::IpAddr;

use crate::jail::{BoundedMap, Prefix};

/// Settings of [`EarlyWarning`].
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyWarningConfig {
    /// The watched jail's `maxretry` (progress is measured against it).
    pub maxretry: u32,
    /// The watched jail's `findtime` in seconds.
    pub findtime: u64,
    /// Score at or above which a source counts as warned (0..=100).
    pub threshold: f64,
    /// Half-life in seconds of the log-wide baseline failure rate (EWMA).
    pub baseline_half_life: f64,
    /// Half-life in seconds of the log-wide current rate compared with
    /// the baseline (a surge is current / baseline well above 1).
    pub surge_half_life: f64,
    /// Half-life in seconds of a source's own rate (the forecast).
    pub rate_half_life: f64,
    /// IPv4 prefix length of the per-prefix score (24).
    pub v4_prefix: u8,
    /// IPv6 prefix length of the per-prefix score (64).
    pub v6_prefix: u8,
    /// A failure more than this many seconds after the source's previous
    /// one starts a new episode; sources that come back episode after
    /// episode are persistent attackers (300 s).
    pub episode_gap: u64,
    /// Seconds an idle source is remembered (first-seen, services and
    /// scanner signals need a memory longer than `findtime`) (1 day).
    pub source_ttl: u64,
    /// Sources tracked at once.
    pub max_sources: usize,
    /// Prefixes tracked at once.
    pub max_prefixes: usize,
}

impl Default for EarlyWarningConfig {
    /// fail2ban's sshd defaults (5 failures in 10 min), threshold 50.
    fn default() -> Self {
        EarlyWarningConfig {
            maxretry: 5,
            findtime: 600,
            threshold: 50.0,
            baseline_half_life: 3600.0,
            surge_half_life: 300.0,
            rate_half_life: 60.0,
            v4_prefix: 24,
            v6_prefix: 64,
            episode_gap: 300,
            source_ttl: 86_400,
            max_sources: 65_536,
            max_prefixes: 16_384,
        }
    }
}

/// An early-warning setting was unusable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("early warning: {key}: {message}")]
pub struct EarlyWarningConfigError {
    /// Setting.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The assessment of a source after one observed line.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// 0..=100: how likely the source is to reach the jail's threshold.
    pub score: f64,
    /// 0..=100: the same for the source's prefix (/24, /64) as a whole.
    pub prefix_score: f64,
    /// Forecast of the source's failures per minute over the next
    /// minutes (exponentially weighted rate).
    pub forecast_per_min: f64,
    /// Failures of the source within the last `findtime`.
    pub failures: u32,
    /// Components that contributed (stable names, for alerts).
    pub reasons: Vec<&'static str>,
    /// This observation took the source to the threshold for the first
    /// time (emit one alert, not one per line).
    pub newly_warned: bool,
}

/// Counters of an [`EarlyWarning`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EarlyWarningStats {
    /// Lines observed.
    pub observed: u64,
    /// Sources that reached the threshold.
    pub warned: u64,
    /// Sources forgotten because the table was full.
    pub source_evictions: u64,
    /// Prefixes forgotten because the table was full.
    pub prefix_evictions: u64,
}

/// An exponentially decaying event count: `value` events "worth" as of
/// `at`. Its rate estimate is `value * ln 2 / half_life`.
#[derive(Debug, Clone, Copy)]
struct Decay {
    value: f64,
    at: f64,
}

impl Decay {
    fn new(at: f64) -> Self {
        Decay { value: 0.0, at }
    }

    fn value_at(&self, t: f64, half_life: f64) -> f64 {
        let dt = (t - self.at).max(0.0);
        self.value * (-dt / half_life).exp2()
    }

    fn add(&mut self, t: f64, half_life: f64) {
        self.value = self.value_at(t, half_life) + 1.0;
        self.at = self.at.max(t);
    }

    /// Events per second, corrected for the warm-up bias of a count that
    /// started at `start` (as Adam corrects its moments).
    fn rate(&self, t: f64, half_life: f64, start: f64) -> f64 {
        let warm = 1.0 - (-(t - start).max(0.0) / half_life).exp2();
        if warm <= 1e-9 {
            return 0.0;
        }
        self.value_at(t, half_life) * std::f64::consts::LN_2 / half_life / warm
    }
}

#[derive(Debug, Clone)]
struct SourceState {
    /// Failure times within `findtime`, ascending, at most `maxretry`.
    times: VecDeque<f64>,
    first_seen: f64,
    last: f64,
    rate: Decay,
    /// Distinct services (hashes), at most 8.
    services: Vec<u64>,
    scanner_lines: u32,
    /// Time of the latest failure (`NEG_INFINITY`: none yet).
    last_failure: f64,
    /// Bursts of failures separated by more than `episode_gap`.
    episodes: u32,
    /// Highest pace seen since the window last lost a failure: a source
    /// that went fast once in this window has shown its intent.
    pace_hi: f64,
    warned_at: Option<f64>,
}

#[derive(Debug, Clone)]
struct PrefixState {
    /// Failure times within `findtime`, ascending, bounded.
    times: VecDeque<f64>,
    /// Distinct failing sources with their last failure, at most 8.
    sources: Vec<(IpAddr, f64)>,
    last: f64,
    warned_at: Option<f64>,
}

/// Score weights (they sum to 100).
const W_PROGRESS: f64 = 30.0;
const W_PACE: f64 = 20.0;
const W_RETURNING: f64 = 20.0;
const W_PREFIX: f64 = 10.0;
const W_SURGE: f64 = 5.0;
const W_SCANNER: f64 = 5.0;
const W_SERVICES: f64 = 5.0;
const W_NEW: f64 = 5.0;

/// Early-warning scorer for one jail (or one family of services).
#[derive(Debug, Clone)]
pub struct EarlyWarning {
    cfg: EarlyWarningConfig,
    sources: BoundedMap<IpAddr, SourceState>,
    prefixes: BoundedMap<Prefix, PrefixState>,
    baseline: Decay,
    current: Decay,
    start: Option<f64>,
    stats: EarlyWarningStats,
}

impl EarlyWarning {
    /// A scorer with validated settings.
    pub fn new(cfg: EarlyWarningConfig) -> Result<Self, EarlyWarningConfigError> {
        let bad = |key: &str, message: &str| EarlyWarningConfigError {
            key: key.to_string(),
            message: message.to_string(),
        };
        if cfg.maxretry < 1 {
            return Err(bad("maxretry", "must be >= 1"));
        }
        for (k, v) in [
            ("baseline_half_life", cfg.baseline_half_life),
            ("surge_half_life", cfg.surge_half_life),
            ("rate_half_life", cfg.rate_half_life),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(k, "must be a positive number of seconds"));
            }
        }
        if cfg.surge_half_life >= cfg.baseline_half_life {
            return Err(bad(
                "surge_half_life",
                "must be shorter than baseline_half_life",
            ));
        }
        if !(0.0..=100.0).contains(&cfg.threshold) {
            return Err(bad("threshold", "must be 0..=100"));
        }
        Ok(EarlyWarning {
            sources: BoundedMap::new(cfg.max_sources),
            prefixes: BoundedMap::new(cfg.max_prefixes),
            baseline: Decay::new(0.0),
            current: Decay::new(0.0),
            start: None,
            cfg,
            stats: EarlyWarningStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EarlyWarningConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> EarlyWarningStats {
        EarlyWarningStats {
            source_evictions: self.sources.evictions(),
            prefix_evictions: self.prefixes.evictions(),
            ..self.stats
        }
    }

    /// The prefix a source's neighbours are grouped under.
    pub fn prefix_of(&self, addr: IpAddr) -> Prefix {
        let a = addr.to_canonical();
        let len = if a.is_ipv4() {
            self.cfg.v4_prefix
        } else {
            self.cfg.v6_prefix
        };
        Prefix::new(a, len)
    }

    /// Whether the source has reached the threshold (while tracked).
    pub fn warned(&self, addr: IpAddr) -> bool {
        self.warned_at(addr).is_some()
    }

    /// When the source first reached the threshold.
    pub fn warned_at(&self, addr: IpAddr) -> Option<f64> {
        self.sources
            .get(&addr.to_canonical())
            .and_then(|s| s.warned_at)
    }

    /// Whether the source's prefix has reached the threshold.
    pub fn prefix_warned(&self, addr: IpAddr) -> bool {
        self.prefixes
            .get(&self.prefix_of(addr))
            .is_some_and(|p| p.warned_at.is_some())
    }

    /// Forgets a source (after it was banned, say), so its next activity
    /// is scored afresh.
    pub fn forget(&mut self, addr: IpAddr) {
        self.sources.remove(&addr.to_canonical());
    }

    /// The log-wide failure rate (per second) as of `time`: current
    /// (short half-life) and baseline (long half-life).
    pub fn log_rates(&self, time: f64) -> (f64, f64) {
        let start = self.start.unwrap_or(time);
        (
            self.current.rate(time, self.cfg.surge_half_life, start),
            self.baseline.rate(time, self.cfg.baseline_half_life, start),
        )
    }

    /// Observes one line of `addr` at `time` from `service`. With
    /// `scanner == false` the line is an authentication failure (what a
    /// jail counts); with `scanner == true` it is a scanner-like line
    /// (pre-auth disconnects, banner probes ...) that is not a failure but
    /// raises the score. Returns the source's assessment.
    pub fn observe(&mut self, time: f64, addr: IpAddr, service: &str, scanner: bool) -> Warning {
        let addr = addr.to_canonical();
        self.stats.observed += 1;
        if !time.is_finite() {
            return Warning {
                score: 0.0,
                prefix_score: 0.0,
                forecast_per_min: 0.0,
                failures: 0,
                reasons: Vec::new(),
                newly_warned: false,
            };
        }
        let cfg = &self.cfg;
        let findtime = cfg.findtime as f64;
        let maxretry = cfg.maxretry as usize;
        let start = *self.start.get_or_insert(time);
        if !scanner {
            self.baseline.add(time, cfg.baseline_half_life);
            self.current.add(time, cfg.surge_half_life);
        }
        // log-wide surge: current rate against the baseline, once the
        // current estimate has a few half-lives of history
        let surge = if time - start >= 2.0 * cfg.surge_half_life {
            let cur = self.current.rate(time, cfg.surge_half_life, start);
            let base = self.baseline.rate(time, cfg.baseline_half_life, start);
            if base > 0.0 {
                ((cur / base - 1.2) / 1.8).clamp(0.0, 1.0)
            } else {
                0.0
            }
        } else {
            0.0
        };

        // prefix
        let pkey = {
            let len = if addr.is_ipv4() {
                cfg.v4_prefix
            } else {
                cfg.v6_prefix
            };
            Prefix::new(addr, len)
        };
        self.prefixes.expire_oldest(2, |p| p.last < time - findtime);
        let p = self.prefixes.touch_or_insert_with(pkey, || PrefixState {
            times: VecDeque::new(),
            sources: Vec::new(),
            last: time,
            warned_at: None,
        });
        p.last = p.last.max(time);
        if !scanner {
            let pos = p.times.partition_point(|&t| t <= time);
            p.times.insert(pos, time);
        }
        let horizon = p.last - findtime;
        while p.times.front().is_some_and(|&t| t < horizon) || p.times.len() > 4 * maxretry {
            p.times.pop_front();
        }
        p.sources.retain(|&(_, t)| t >= horizon);
        if let Some(slot) = p.sources.iter_mut().find(|(a, _)| *a == addr) {
            slot.1 = slot.1.max(time);
        } else {
            if p.sources.len() >= 8 {
                p.sources.remove(0);
            }
            p.sources.push((addr, time));
        }
        let others = p.sources.len().saturating_sub(1);
        let neighbours = (others as f64 / 3.0).min(1.0);
        let prefix_progress = (p.times.len() as f64 / (2 * maxretry) as f64).min(1.0);
        let prefix_score = (100.0 * (0.6 * prefix_progress + 0.4 * neighbours)).clamp(0.0, 100.0);
        if prefix_score >= cfg.threshold && p.warned_at.is_none() {
            p.warned_at = Some(time);
        }

        // source
        let ttl = cfg.source_ttl.max(cfg.findtime) as f64;
        self.sources.expire_oldest(2, |s| s.last < time - ttl);
        let s = self.sources.touch_or_insert_with(addr, || SourceState {
            times: VecDeque::new(),
            first_seen: time,
            last: time,
            rate: Decay::new(time),
            services: Vec::new(),
            scanner_lines: 0,
            last_failure: f64::NEG_INFINITY,
            episodes: 0,
            pace_hi: 0.0,
            warned_at: None,
        });
        s.last = s.last.max(time);
        let sh = service_hash(service);
        if !s.services.contains(&sh) && s.services.len() < 8 {
            s.services.push(sh);
        }
        if scanner {
            s.scanner_lines = s.scanner_lines.saturating_add(1);
        } else {
            let pos = s.times.partition_point(|&t| t <= time);
            s.times.insert(pos, time);
            s.rate.add(time, cfg.rate_half_life);
            if time - s.last_failure > cfg.episode_gap as f64 {
                s.episodes = s.episodes.saturating_add(1);
            }
            s.last_failure = s.last_failure.max(time);
        }
        let horizon = s.last - findtime;
        while s.times.front().is_some_and(|&t| t < horizon) || s.times.len() > maxretry {
            s.times.pop_front();
            s.pace_hi = 0.0;
        }
        let n = s.times.len();
        let progress = (n as f64 / maxretry as f64).min(1.0);
        // pace: failures expected by the end of the current window at the
        // pace seen so far, against maxretry
        let pace = match (s.times.front(), s.times.back()) {
            (Some(&first), Some(&last)) if n >= 2 => {
                let span = (last - first).max(1.0);
                let rate = (n - 1) as f64 / span;
                let left = (findtime - (last - first)).max(0.0);
                ((n as f64 + rate * left) / maxretry as f64).min(1.0)
            }
            _ => 0.0,
        };
        let pace = pace.max(s.pace_hi);
        s.pace_hi = pace;
        let returning_c = (f64::from(s.episodes.saturating_sub(1)) / 2.0).min(1.0);
        let scanner_c = (f64::from(s.scanner_lines) / 2.0).min(1.0);
        let services_c = ((s.services.len().saturating_sub(1)) as f64 / 2.0).min(1.0);
        let new_c = if time - s.first_seen <= findtime {
            1.0
        } else {
            0.0
        };
        // a neighbourhood matters once the source itself is failing
        let prefix_c = if n > 0 {
            (0.5 * prefix_progress + 0.5 * neighbours).min(1.0)
        } else {
            0.0
        };
        let parts = [
            (W_PROGRESS * progress, "failures-toward-maxretry"),
            (W_PACE * pace, "pace-reaches-maxretry"),
            (W_RETURNING * returning_c, "returning-source"),
            (W_PREFIX * prefix_c, "prefix-active"),
            (W_SURGE * surge, "log-surge"),
            (W_SCANNER * scanner_c, "scanner-lines"),
            (W_SERVICES * services_c, "several-services"),
            (W_NEW * new_c, "first-seen"),
        ];
        let score: f64 = parts.iter().map(|(v, _)| v).sum::<f64>().clamp(0.0, 100.0);
        let reasons = parts
            .iter()
            .filter(|(v, _)| *v > 0.0)
            .map(|&(_, r)| r)
            .collect();
        let forecast_per_min = s.rate.value_at(time, cfg.rate_half_life) * std::f64::consts::LN_2
            / cfg.rate_half_life
            * 60.0;
        let newly_warned = score >= cfg.threshold && s.warned_at.is_none();
        if newly_warned {
            s.warned_at = Some(time);
            self.stats.warned += 1;
        }
        Warning {
            score,
            prefix_score,
            forecast_per_min,
            failures: n as u32,
            reasons,
            newly_warned,
        }
    }
}

/// FNV-1a of a service name (distinct-service counting without storing
/// attacker-influenced strings).
fn service_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ew() -> EarlyWarning {
        EarlyWarning::new(EarlyWarningConfig::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn a(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i))
    }

    #[test]
    fn score_rises_with_failures() {
        for gap in [0.5, 5.0, 60.0, 140.0, 149.0] {
            let mut e = ew();
            let mut last = -1.0;
            for i in 0..5 {
                let w = e.observe(1000.0 + f64::from(i) * gap, a(1), "sshd", false);
                assert!(w.score >= last, "gap {gap}: {} < {last} at {i}", w.score);
                assert!((0.0..=100.0).contains(&w.score));
                last = w.score;
            }
            assert!(last >= 50.0, "gap {gap}: {last}");
        }
    }

    #[test]
    fn fast_second_failure_scores_higher_and_returning_sources_warn() {
        let mut e = ew();
        e.observe(0.0, a(1), "sshd", false);
        let fast = e.observe(2.0, a(1), "sshd", false);
        assert!(fast.reasons.contains(&"pace-reaches-maxretry"));
        // another /24, second failure 250 s later (same episode)
        e.observe(0.0, a(0x1000), "sshd", false);
        let slow = e.observe(250.0, a(0x1000), "sshd", false);
        assert!(slow.score < fast.score, "{} {}", slow.score, fast.score);
        assert!(!e.warned(a(0x1000)));
        // a source that comes back burst after burst reaches the threshold
        // before any window holds maxretry failures
        let mut e = ew();
        let mut warned_at = None;
        for burst in 0..4 {
            for i in 0..3 {
                let t = f64::from(burst) * 3600.0 + f64::from(i) * 2.0;
                let w = e.observe(t, a(3), "sshd", false);
                assert!(w.failures <= 3);
                if w.newly_warned {
                    warned_at = Some((burst, i, w.reasons));
                }
            }
        }
        let (burst, _, reasons) = warned_at.unwrap_or_else(|| panic!("never warned"));
        assert!(burst >= 1 && reasons.contains(&"returning-source"));
        assert!(e.warned(a(3)));
    }

    #[test]
    fn weak_signals_add_up() {
        let mut e = ew();
        let base = e.observe(0.0, a(1), "sshd", false).score;
        let mut e = ew();
        e.observe(0.0, a(1), "sshd", true);
        e.observe(1.0, a(1), "sshd", true);
        let scanned = e.observe(2.0, a(1), "sshd", false);
        assert!(scanned.score > base);
        assert!(scanned.reasons.contains(&"scanner-lines"));
        let mut e = ew();
        e.observe(0.0, a(1), "nginx", false);
        e.observe(1000.0, a(1), "postfix", false);
        let multi = e.observe(2000.0, a(1), "sshd", false);
        assert!(multi.reasons.contains(&"several-services"));
        assert!(!multi.reasons.contains(&"first-seen"));
        // neighbours in the same /24
        let mut e = ew();
        for i in 2..6 {
            e.observe(f64::from(i), a(i), "sshd", false);
        }
        let nb = e.observe(10.0, a(1), "sshd", false);
        assert!(nb.reasons.contains(&"prefix-active"));
        assert!(nb.score > base);
        assert!(nb.prefix_score > 0.0);
    }

    #[test]
    fn surge_against_baseline() {
        let mut e = ew();
        // a quiet hour: one failure a minute from rotating sources
        for i in 0..120u32 {
            e.observe(f64::from(i) * 60.0, a(1000 + i), "sshd", false);
        }
        let (cur, base) = e.log_rates(7200.0);
        assert!((cur / base - 1.0).abs() < 0.5, "{cur} {base}");
        let calm = e.observe(7200.0, a(5000), "sshd", false);
        assert!(!calm.reasons.contains(&"log-surge"));
        // then 20 a minute
        let mut last = None;
        for i in 0..200u32 {
            last = Some(e.observe(7200.0 + f64::from(i) * 3.0, a(6000 + i), "sshd", false));
        }
        assert!(last.is_some_and(|w| w.reasons.contains(&"log-surge")));
    }

    #[test]
    fn forecast_tracks_rate() {
        let mut e = ew();
        let mut w = None;
        for i in 0..600u32 {
            // 10 per minute, steady
            w = Some(e.observe(f64::from(i) * 6.0, a(1), "sshd", false));
        }
        let f = w.map_or(0.0, |w| w.forecast_per_min);
        assert!((f - 10.0).abs() < 1.5, "{f}");
    }

    #[test]
    fn bounded() {
        let mut e = EarlyWarning::new(EarlyWarningConfig {
            max_sources: 100,
            max_prefixes: 10,
            ..EarlyWarningConfig::default()
        })
        .unwrap_or_else(|err| panic!("{err}"));
        for i in 0..100_000u32 {
            e.observe(
                f64::from(i) * 1e-3,
                IpAddr::V4(Ipv4Addr::from(i << 8)),
                "sshd",
                false,
            );
        }
        let s = e.stats();
        assert_eq!(s.source_evictions, 99_900);
        assert_eq!(s.prefix_evictions, 99_990);
        assert!(EarlyWarning::new(EarlyWarningConfig {
            rate_half_life: 0.0,
            ..EarlyWarningConfig::default()
        })
        .is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    proptest! {
        /// With one source failing within a findtime, each failure never
        /// lowers its score, and scores stay in range.
        #[test]
        fn monotone_within_window(gaps in proptest::collection::vec(0.0f64..150.0, 1..6)) {
            let mut e = EarlyWarning::new(EarlyWarningConfig::default())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let addr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5));
            let mut t = 0.0;
            let mut last = -1.0;
            for g in gaps {
                t += g;
                let w = e.observe(t, addr, "sshd", false);
                prop_assert!((0.0..=100.0).contains(&w.score));
                prop_assert!(w.score >= last - 1e-9, "{} < {}", w.score, last);
                last = w.score;
            }
        }
    }
}
