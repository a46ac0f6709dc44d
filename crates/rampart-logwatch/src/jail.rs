//! fail2ban jail semantics as a pure decision core: failures in, ban
//! decisions out.
//!
//! Why here and not in the daemon: counting failures per source, deciding
//! when a source is banned and for how long, and folding many offenders of
//! one network into a range ban are pure functions of (address, time)
//! events. Keeping them free of clocks, files and kernels makes them
//! testable with made-up timelines and replayable over recorded logs; the
//! daemon tails logs, calls [`Jail::observe`] per matched failure and
//! applies the [`JailBan`]s it gets back.
//!
//! Memory is bounded everywhere: every table has a capacity, evicts its
//! least recently touched entry when full and counts the evictions, so an
//! attacker spraying addresses costs a bounded amount of memory and shows
//! up in the counters instead of in the RSS.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::filter::Failure;

// ---------------------------------------------------------------------------
// Prefix
// ---------------------------------------------------------------------------

/// An address prefix: a network address (host bits zero) and its length.
///
/// Why a type of its own: IPv6 offenders are counted and banned per /64
/// (one host usually owns a whole /64), range bans cover a /24 or /48, and
/// this crate must not depend on the policy crate's CIDR type. The daemon
/// converts a `Prefix` into whatever its ban sets take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// The prefix of length `len` containing `addr` (host bits cleared).
    /// IPv4-mapped IPv6 addresses are treated as IPv4 (`::ffff:1.2.3.4` is
    /// the same offender as `1.2.3.4`); `len` is clamped to 32 or 128.
    pub fn new(addr: IpAddr, len: u8) -> Prefix {
        match addr.to_canonical() {
            IpAddr::V4(a) => {
                let len = len.min(32);
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                Prefix {
                    addr: IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)),
                    len,
                }
            }
            IpAddr::V6(a) => {
                let len = len.min(128);
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                Prefix {
                    addr: IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)),
                    len,
                }
            }
        }
    }

    /// A single-address prefix (/32 or /128).
    pub fn host(addr: IpAddr) -> Prefix {
        Prefix::new(addr, 128)
    }

    /// The network address (host bits zero).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `addr` lies inside this prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_ipv4() == self.addr.is_ipv4() && Prefix::new(addr, self.len) == *self
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

// ---------------------------------------------------------------------------
// Bounded map (shared by the jail, scenarios and early warning)
// ---------------------------------------------------------------------------

/// A hash map with a capacity: inserting into a full map evicts the least
/// recently touched entry and counts it. Touch order lives in a B-tree
/// keyed by a monotonic tick, so eviction and expiry of the oldest entries
/// cost O(log n) and never scan.
#[derive(Debug, Clone)]
pub(crate) struct BoundedMap<K, V> {
    map: HashMap<K, (V, u64), foldhash::fast::RandomState>,
    order: BTreeMap<u64, K>,
    tick: u64,
    cap: usize,
    evictions: u64,
}

impl<K: Hash + Eq + Clone, V> BoundedMap<K, V> {
    /// An empty map holding at most `cap` entries (at least 1).
    pub(crate) fn new(cap: usize) -> Self {
        BoundedMap {
            map: HashMap::default(),
            order: BTreeMap::new(),
            tick: 0,
            cap: cap.max(1),
            evictions: 0,
        }
    }

    /// The entry of `k` without touching it.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    /// The entry of `k`, created with `f` if absent (evicting the least
    /// recently touched entry when full), marked most recently touched.
    pub(crate) fn touch_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&k) {
            if let Some((_, old)) = self.order.pop_first() {
                self.map.remove(&old);
                self.evictions += 1;
            }
        }
        self.tick += 1;
        let tick = self.tick;
        match self.map.entry(k.clone()) {
            Entry::Occupied(o) => {
                let slot = o.into_mut();
                self.order.remove(&slot.1);
                slot.1 = tick;
                self.order.insert(tick, k);
                &mut slot.0
            }
            Entry::Vacant(v) => {
                self.order.insert(tick, k);
                &mut v.insert((f(), tick)).0
            }
        }
    }

    /// The entry of `k`, if present, without touching it.
    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    /// Removes `k`.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let (v, tick) = self.map.remove(k)?;
        self.order.remove(&tick);
        Some(v)
    }

    /// Removes up to `max` of the least recently touched entries while
    /// `stale` holds for them; returns how many were removed. Not counted
    /// as evictions: these entries had nothing left to remember.
    pub(crate) fn expire_oldest(&mut self, max: usize, stale: impl Fn(&V) -> bool) -> usize {
        let mut n = 0;
        while n < max {
            let Some((&tick, k)) = self.order.first_key_value() else {
                break;
            };
            let is_stale = self.map.get(k).is_none_or(|(v, _)| stale(v));
            if !is_stale {
                break;
            }
            if let Some(k) = self.order.remove(&tick) {
                self.map.remove(&k);
            }
            n += 1;
        }
        n
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Entries evicted because the map was full.
    pub(crate) fn evictions(&self) -> u64 {
        self.evictions
    }
}

/// Cuts attacker-chosen strings (user names) to a bounded length at a
/// character boundary, so a 1 MB user name costs 64 bytes.
pub(crate) fn cap_str(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("").to_string()
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// A jail option had an unusable value.
///
/// Why it names the jail, key and value: a jail file with forty options
/// is fixed fastest when the error points at the one line that is wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("jail {jail}: {key} = {value:?}: {message}")]
pub struct JailConfigError {
    /// Jail name.
    pub jail: String,
    /// Option name as written (`bantime`, `bantime.factor` ...).
    pub key: String,
    /// The value as written.
    pub value: String,
    /// What is wrong with it.
    pub message: String,
}

/// How repeat offenders' ban times grow (fail2ban's `bantime.formula` or
/// `bantime.multipliers`).
#[derive(Debug, Clone, PartialEq)]
pub enum IncrementFormula {
    /// fail2ban's default formula,
    /// `ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor`:
    /// the ban time doubles with every previous ban.
    Exponential,
    /// `bantime.multipliers`: the n-th ban (0-based count of previous
    /// bans) is `bantime * factor * multipliers[n]`, the last multiplier
    /// repeating once the list is exhausted.
    Multipliers(Vec<f64>),
}

/// fail2ban's `bantime.increment` settings.
///
/// Why: a source banned for ten minutes comes back after ten minutes;
/// escalating its ban time each time it reoffends makes persistent
/// attackers pay more without punishing one-off offenders.
#[derive(Debug, Clone, PartialEq)]
pub struct BanTimeIncrement {
    /// `bantime.factor` (1 by default).
    pub factor: f64,
    /// `bantime.formula` / `bantime.multipliers`.
    pub formula: IncrementFormula,
    /// `bantime.maxtime`: upper bound of an escalated ban in seconds
    /// (0: no bound).
    pub maxtime: u64,
    /// `bantime.rndtime`: up to this many seconds are added (before the
    /// `maxtime` bound) so that botnets cannot time their return. The
    /// amount is derived from the address and offence count, not from a
    /// random generator, so decisions stay reproducible.
    pub rndtime: u64,
}

impl Default for BanTimeIncrement {
    fn default() -> Self {
        BanTimeIncrement {
            factor: 1.0,
            formula: IncrementFormula::Exponential,
            maxtime: 0,
            rndtime: 0,
        }
    }
}

/// One jail's settings (fail2ban's `jail.conf` options that affect the
/// decision; actions, log paths and filters are the daemon's business).
#[derive(Debug, Clone, PartialEq)]
pub struct JailConfig {
    /// Jail name (reported in bans and errors).
    pub name: String,
    /// Failures within `findtime` that trigger a ban (at least 1).
    pub maxretry: u32,
    /// Sliding window in seconds.
    pub findtime: u64,
    /// Ban duration in seconds; `None` is a permanent ban (fail2ban's
    /// negative `bantime`).
    pub bantime: Option<u64>,
    /// Escalation for repeat offenders (`bantime.increment = true`).
    pub increment: Option<BanTimeIncrement>,
    /// IPv6 sources are counted and banned per prefix of this length
    /// (64 by default: a host can pick any address of its /64 for free).
    pub ipv6_prefix: u8,
    /// Sources tracked at once (memory bound); the least recently seen
    /// source is forgotten when full.
    pub max_tracked: usize,
    /// Seconds a source's ban history is kept for escalation (fail2ban's
    /// `dbpurgeage`, 1 day by default).
    pub dbpurgeage: u64,
}

/// fail2ban's default formula, as written in its `jail.conf`.
const DEFAULT_FORMULA: &str = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor";

impl JailConfig {
    /// Option names [`JailConfig::from_options`] understands; any other key
    /// is ignored there (the daemon handles `logpath`, `action` ...).
    pub const KNOWN_KEYS: &'static [&'static str] = &[
        "maxretry",
        "findtime",
        "bantime",
        "bantime.increment",
        "bantime.factor",
        "bantime.formula",
        "bantime.multipliers",
        "bantime.maxtime",
        "bantime.rndtime",
        "dbpurgeage",
        "ipv6_prefix",
        "max_tracked",
    ];

    /// A jail with fail2ban's defaults: maxretry 5, findtime 10 min,
    /// bantime 10 min, no increment; plus IPv6 per /64 and 65,536 tracked
    /// sources.
    pub fn new(name: &str) -> JailConfig {
        JailConfig {
            name: name.to_string(),
            maxretry: 5,
            findtime: 600,
            bantime: Some(600),
            increment: None,
            ipv6_prefix: 64,
            max_tracked: 65_536,
            dbpurgeage: 86_400,
        }
    }

    /// fail2ban's `[recidive]` jail: a source banned 5 times within a day
    /// (by any jail) is banned for a week. Feed it the other jails' ban
    /// events ([`Jail::observe`] with the ban's address and time).
    pub fn recidive() -> JailConfig {
        JailConfig {
            maxretry: 5,
            findtime: 86_400,
            bantime: Some(604_800),
            dbpurgeage: 604_800,
            ..JailConfig::new("recidive")
        }
    }

    /// Builds a jail from fail2ban-style `key = value` options (values as
    /// written in `jail.conf`: `10m`, `1h 30m`, `-1` ...), starting from
    /// [`JailConfig::new`]'s defaults. Unknown keys are ignored (see
    /// [`JailConfig::KNOWN_KEYS`]); bad values are errors naming the key.
    /// `bantime.*` options only take effect with `bantime.increment =
    /// true`, wherever that line is, as in fail2ban.
    pub fn from_options(name: &str, opts: &[(&str, &str)]) -> Result<JailConfig, JailConfigError> {
        let mut cfg = JailConfig::new(name);
        let mut inc = BanTimeIncrement::default();
        let mut inc_on = false;
        for &(key, value) in opts {
            let err = |message: String| JailConfigError {
                jail: name.to_string(),
                key: key.to_string(),
                value: value.to_string(),
                message,
            };
            let v = value.trim();
            match key.trim() {
                "maxretry" => {
                    cfg.maxretry = v
                        .parse::<u32>()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| err("expected a whole number >= 1".into()))?;
                }
                "findtime" => {
                    let s = parse_duration(v).map_err(err)?;
                    cfg.findtime = non_negative(s).map_err(err)?;
                }
                "bantime" => {
                    let s = parse_duration(v).map_err(err)?;
                    cfg.bantime = if s < 0.0 {
                        None
                    } else {
                        Some(s.round() as u64)
                    };
                }
                "dbpurgeage" => {
                    let s = parse_duration(v).map_err(err)?;
                    cfg.dbpurgeage = non_negative(s).map_err(err)?;
                }
                "bantime.increment" => {
                    inc_on = parse_bool(v).ok_or_else(|| err("expected true or false".into()))?
                }
                "bantime.factor" => {
                    inc.factor = v
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && *f > 0.0)
                        .ok_or_else(|| err("expected a positive number".into()))?;
                }
                "bantime.formula" => {
                    let norm: String = v.split_whitespace().collect();
                    let default: String = DEFAULT_FORMULA.split_whitespace().collect();
                    if norm != default {
                        return Err(err(
                            "only fail2ban's default formula is supported (Python expressions are not evaluated); use bantime.multipliers"
                                .into(),
                        ));
                    }
                }
                "bantime.multipliers" => {
                    let m: Option<Vec<f64>> = v
                        .split_whitespace()
                        .map(|t| t.parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0))
                        .collect();
                    match m {
                        Some(m) if !m.is_empty() => inc.formula = IncrementFormula::Multipliers(m),
                        Some(_) => inc.formula = IncrementFormula::Exponential,
                        None => return Err(err("expected numbers separated by spaces".into())),
                    }
                }
                "bantime.maxtime" => {
                    let s = parse_duration(v).map_err(err)?;
                    inc.maxtime = non_negative(s).map_err(err)?;
                }
                "bantime.rndtime" => {
                    let s = parse_duration(v).map_err(err)?;
                    inc.rndtime = non_negative(s).map_err(err)?;
                }
                "ipv6_prefix" => {
                    cfg.ipv6_prefix = v
                        .trim_start_matches('/')
                        .parse::<u8>()
                        .ok()
                        .filter(|&n| (1..=128).contains(&n))
                        .ok_or_else(|| err("expected a prefix length 1..=128".into()))?;
                }
                "max_tracked" => {
                    cfg.max_tracked = v
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| err("expected a whole number >= 1".into()))?;
                }
                _ => {}
            }
        }
        cfg.increment = inc_on.then_some(inc);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values set directly on the struct (the same rules as
    /// [`JailConfig::from_options`]).
    pub fn validate(&self) -> Result<(), JailConfigError> {
        let err = |key: &str, value: String, message: &str| JailConfigError {
            jail: self.name.clone(),
            key: key.to_string(),
            value,
            message: message.to_string(),
        };
        if self.maxretry < 1 {
            return Err(err("maxretry", self.maxretry.to_string(), "must be >= 1"));
        }
        if !(1..=128).contains(&self.ipv6_prefix) {
            return Err(err(
                "ipv6_prefix",
                self.ipv6_prefix.to_string(),
                "must be 1..=128",
            ));
        }
        if self.max_tracked < 1 {
            return Err(err(
                "max_tracked",
                self.max_tracked.to_string(),
                "must be >= 1",
            ));
        }
        if let Some(inc) = &self.increment {
            if !(inc.factor.is_finite() && inc.factor > 0.0) {
                return Err(err(
                    "bantime.factor",
                    inc.factor.to_string(),
                    "must be a positive number",
                ));
            }
            if let IncrementFormula::Multipliers(m) = &inc.formula {
                if m.is_empty() || m.iter().any(|f| !(f.is_finite() && *f >= 0.0)) {
                    return Err(err(
                        "bantime.multipliers",
                        format!("{m:?}"),
                        "must be one or more non-negative numbers",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn non_negative(s: f64) -> Result<u64, String> {
    if s < 0.0 {
        Err("must not be negative".into())
    } else {
        Ok(s.round() as u64)
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "enabled" => Some(true),
        "false" | "no" | "off" | "0" | "disabled" => Some(false),
        _ => None,
    }
}

/// Parses a fail2ban time value (`MyTime.str2seconds`): a number of
/// seconds (`600`, `-1`, `1.5`) or a sum of number+unit parts, with or
/// without spaces (`10m`, `1h 30m`, `1d12h`, `2 weeks`). Units: `s`/`sec`/
/// `second(s)`, `m`/`mm`/`min`/`minute(s)`, `h`/`hh`/`hour(s)`, `d`/`dd`/
/// `day(s)`, `w`/`ww`/`week(s)`, `mo`/`mon`/`month(s)` (1/12 year), `y`/
/// `yy`/`year(s)` (365.25 days). A leading `-` negates the whole value.
///
/// Why not just integers: jail files in the wild use fail2ban's
/// abbreviations, and they must load unchanged.
pub fn parse_duration(value: &str) -> Result<f64, String> {
    let v = value.trim();
    let (neg, body) = match v.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    if body.is_empty() {
        return Err("empty time value".into());
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut total = 0.0f64;
    let mut parts = 0;
    while i < bytes.len() {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
        {
            i += 1;
        }
        let num: f64 = body
            .get(start..i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("expected a number at {:?}", body.get(start..).unwrap_or("")))?;
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let ustart = i;
        while bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic()) {
            i += 1;
        }
        let unit = body.get(ustart..i).unwrap_or("").to_ascii_lowercase();
        let mult = match unit.as_str() {
            "" | "s" | "ss" | "sec" | "second" | "seconds" => 1.0,
            "m" | "mm" | "mi" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hh" | "ho" | "hou" | "hour" | "hours" => 3600.0,
            "d" | "dd" | "da" | "day" | "days" => 86_400.0,
            "w" | "ww" | "we" | "wee" | "week" | "weeks" => 604_800.0,
            "mo" | "mon" | "month" | "months" => 31_557_600.0 / 12.0,
            "y" | "yy" | "ye" | "yea" | "year" | "years" => 31_557_600.0,
            other => return Err(format!("unknown time unit {other:?}")),
        };
        total += num * mult;
        parts += 1;
        if parts > 16 {
            return Err("too many parts".into());
        }
    }
    if !total.is_finite() {
        return Err("value out of range".into());
    }
    Ok(if neg { -total } else { total })
}

// ---------------------------------------------------------------------------
// Jail
// ---------------------------------------------------------------------------

/// Why a failure was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The failure's host is not an IP address (a DNS name or an
    /// `<F-ID>` value): fail2ban would resolve it; Rampart does not ban
    /// names an attacker may control.
    NotAnAddress,
    /// The time is NaN or infinite.
    BadTime,
}

/// A ban decided by a jail.
#[derive(Debug, Clone, PartialEq)]
pub struct JailBan {
    /// The jail that decided it.
    pub jail: String,
    /// The address of the failure that completed the count.
    pub addr: IpAddr,
    /// What to ban: `addr/32` for IPv4, `addr/ipv6_prefix` for IPv6.
    pub prefix: Prefix,
    /// Ban duration in seconds (after escalation); `None` is permanent.
    pub duration_s: Option<u64>,
    /// Failures in the window that triggered the ban (`>= maxretry`).
    pub failures: u32,
    /// 1 for the source's first ban within `dbpurgeage`, 2 for the
    /// second ... (drives `bantime.increment`).
    pub offence_count: u32,
    /// Time of the failure that triggered the ban (unix seconds).
    pub time: f64,
    /// Time of the oldest failure in the window.
    pub first_failure: f64,
    /// Up to 4 distinct user names tried in the window (for the alert).
    pub users: Vec<String>,
}

/// Outcome of one observed failure.
#[derive(Debug, Clone, PartialEq)]
pub enum JailEvent {
    /// Counted (or ignored because the source is banned already); no ban.
    Nothing,
    /// The source reached `maxretry` within `findtime`: ban it.
    Ban(JailBan),
    /// Not counted; see the reason.
    Skipped(SkipReason),
}

/// Counters of a jail (for the status API and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JailStats {
    /// Failures counted.
    pub failures: u64,
    /// Bans decided.
    pub bans: u64,
    /// Failures whose host was not an IP address.
    pub skipped_hosts: u64,
    /// Failures with an unusable time.
    pub skipped_times: u64,
    /// Failures from a source whose ban was still running (the daemon
    /// saw lines written before the ban took effect, or replays a log).
    pub while_banned: u64,
    /// Sources forgotten because the table was full (memory pressure:
    /// their partial counts were lost).
    pub source_evictions: u64,
    /// Ban histories forgotten because their table was full.
    pub history_evictions: u64,
}

#[derive(Debug, Clone)]
struct SourceState {
    /// Failure times in the window, ascending, at most `maxretry`.
    times: VecDeque<f64>,
    /// Latest failure time seen.
    newest: f64,
    /// End of the current ban (`NEG_INFINITY`: none, `INFINITY`: permanent).
    banned_until: f64,
    users: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct History {
    /// Bans so far (within `dbpurgeage` of the last one).
    offences: u32,
    last_ban: f64,
}

/// A fail2ban jail: counts failures per source in a sliding window and
/// decides bans, with escalation for repeat offenders.
///
/// Window semantics (what fail2ban's documentation promises and the
/// corpus truth uses): a source is banned when `maxretry` failures fall
/// within `findtime` seconds, inclusive (the last at most `findtime` after
/// the first). The ban clears the source's window; failures while the
/// ban runs are not counted. (fail2ban's `FailTicket.adjustTime`
/// approximates the window by rate extrapolation; the exact window here
/// bans the same sources on steady traffic and never bans fewer than
/// `maxretry` real failures.)
#[derive(Debug, Clone)]
pub struct Jail {
    cfg: JailConfig,
    sources: BoundedMap<Prefix, SourceState>,
    history: BoundedMap<Prefix, History>,
    stats: JailStats,
}

impl Jail {
    /// A jail with a validated configuration.
    pub fn new(cfg: JailConfig) -> Result<Jail, JailConfigError> {
        cfg.validate()?;
        Ok(Jail {
            sources: BoundedMap::new(cfg.max_tracked),
            history: BoundedMap::new(cfg.max_tracked),
            cfg,
            stats: JailStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JailConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> JailStats {
        JailStats {
            source_evictions: self.sources.evictions(),
            history_evictions: self.history.evictions(),
            ..self.stats
        }
    }

    /// Sources currently tracked (at most `max_tracked`).
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    /// The key a source is counted under: the address itself for IPv4,
    /// its `/ipv6_prefix` for IPv6.
    pub fn key(&self, addr: IpAddr) -> Prefix {
        match addr.to_canonical() {
            a @ IpAddr::V4(_) => Prefix::new(a, 32),
            a @ IpAddr::V6(_) => Prefix::new(a, self.cfg.ipv6_prefix),
        }
    }

    /// Counts a failure of a matched log line (`Failure::host` parsed as an
    /// address, `Failure::time`, the `user` group). One failure counts
    /// once whatever its `attempts` (fail2ban-regex and the corpus truth
    /// count matched lines).
    pub fn observe_failure(&mut self, failure: &Failure) -> JailEvent {
        let user = failure.data.get("user");
        self.observe_host(&failure.host, failure.time, user.as_deref())
    }

    /// Counts a failure whose host is text; hosts that are not IP
    /// addresses are skipped ([`SkipReason::NotAnAddress`]).
    pub fn observe_host(&mut self, host: &str, time: f64, user: Option<&str>) -> JailEvent {
        match parse_host(host) {
            Some(a) => self.observe(a, time, user),
            None => {
                self.stats.skipped_hosts += 1;
                JailEvent::Skipped(SkipReason::NotAnAddress)
            }
        }
    }

    /// Counts one failure of `host` at `time` (unix seconds, from the log
    /// line) and says whether to ban.
    pub fn observe(&mut self, host: IpAddr, time: f64, user: Option<&str>) -> JailEvent {
        if !time.is_finite() {
            self.stats.skipped_times += 1;
            return JailEvent::Skipped(SkipReason::BadTime);
        }
        self.stats.failures += 1;
        let key = self.key(host);
        let findtime = self.cfg.findtime as f64;
        let maxretry = self.cfg.maxretry as usize;
        // drop a few sources that have nothing left to remember
        self.sources
            .expire_oldest(2, |s| s.newest < time - findtime && s.banned_until <= time);
        let st = self.sources.touch_or_insert_with(key, || SourceState {
            times: VecDeque::with_capacity(maxretry.min(16)),
            newest: f64::NEG_INFINITY,
            banned_until: f64::NEG_INFINITY,
            users: Vec::new(),
        });
        if time < st.banned_until {
            self.stats.while_banned += 1;
            return JailEvent::Nothing;
        }
        if time > st.newest {
            st.newest = time;
        }
        // keep ascending order even for slightly out-of-order lines
        let pos = st.times.partition_point(|&t| t <= time);
        st.times.insert(pos, time);
        let horizon = st.newest - findtime;
        while st.times.front().is_some_and(|&t| t < horizon) {
            st.times.pop_front();
        }
        while st.times.len() > maxretry {
            st.times.pop_front();
        }
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            if st.users.len() < 4 && !st.users.iter().any(|x| x == u) {
                st.users.push(cap_str(u));
            }
        }
        if st.times.len() < maxretry {
            if st.times.len() == 1 {
                st.users.retain(|x| Some(x.as_str()) == user);
            }
            return JailEvent::Nothing;
        }
        let failures = st.times.len() as u32;
        let first_failure = st.times.front().copied().unwrap_or(time);
        st.times.clear();
        let users = std::mem::take(&mut st.users);
        let purge = self.cfg.dbpurgeage as f64;
        let hist = self.history.touch_or_insert_with(key, || History {
            offences: 0,
            last_ban: f64::NEG_INFINITY,
        });
        if hist.last_ban < time - purge {
            hist.offences = 0;
        }
        let previous = hist.offences;
        let duration_s = ban_duration(&self.cfg, previous, key);
        hist.offences = hist.offences.saturating_add(1);
        hist.last_ban = time;
        st.banned_until = match duration_s {
            Some(d) => time + d as f64,
            None => f64::INFINITY,
        };
        self.stats.bans += 1;
        JailEvent::Ban(JailBan {
            jail: self.cfg.name.clone(),
            addr: host.to_canonical(),
            prefix: key,
            duration_s,
            failures,
            offence_count: previous.saturating_add(1),
            time,
            first_failure,
            users,
        })
    }

    /// Whether the source's ban (as decided by this jail) runs at `time`.
    pub fn is_banned(&self, addr: IpAddr, time: f64) -> bool {
        self.sources
            .get(&self.key(addr))
            .is_some_and(|s| time < s.banned_until)
    }

    /// Forgets a running ban (an operator unbanned the source); its ban
    /// history, and so its escalation, is kept.
    pub fn unban(&mut self, addr: IpAddr) {
        let key = self.key(addr);
        if let Some(s) = self.sources.get_mut(&key) {
            s.banned_until = f64::NEG_INFINITY;
            s.times.clear();
        }
    }

    /// Restores a source's ban history (e.g. from the daemon's store after
    /// a restart) so escalation continues where it stopped.
    pub fn restore_history(&mut self, addr: IpAddr, offences: u32, last_ban: f64) {
        let key = self.key(addr);
        let h = self.history.touch_or_insert_with(key, || History {
            offences: 0,
            last_ban: f64::NEG_INFINITY,
        });
        h.offences = offences;
        h.last_ban = last_ban;
    }

    /// Bans recorded for the source (within `dbpurgeage` of its last ban
    /// as of `time`).
    pub fn offences(&self, addr: IpAddr, time: f64) -> u32 {
        self.history
            .get(&self.key(addr))
            .filter(|h| h.last_ban >= time - self.cfg.dbpurgeage as f64)
            .map_or(0, |h| h.offences)
    }
}

/// Parses a failure's host as an IP address (brackets and a zone id are
/// tolerated: `[2001:db8::1]`, `fe80::1%eth0`).
pub fn parse_host(host: &str) -> Option<IpAddr> {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    let h = h.split('%').next().unwrap_or(h);
    h.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

/// The ban time of a source with `previous` earlier bans, following
/// fail2ban's `bantime.increment` evaluation order: formula (or
/// multipliers) times factor, plus `rndtime`, bounded by `maxtime`.
pub fn ban_duration(cfg: &JailConfig, previous: u32, key: Prefix) -> Option<u64> {
    let base = cfg.bantime?;
    let Some(inc) = &cfg.increment else {
        return Some(base);
    };
    let mult = match &inc.formula {
        IncrementFormula::Exponential => f64::from(1u32 << previous.min(20)),
        IncrementFormula::Multipliers(m) => {
            let i = previous as usize;
            m.get(i).or(m.last()).copied().unwrap_or(1.0)
        }
    };
    let mut t = base as f64 * mult * inc.factor;
    if inc.rndtime > 0 {
        t += (jitter(key, previous) % (inc.rndtime + 1)) as f64;
    }
    if inc.maxtime > 0 {
        t = t.min(inc.maxtime as f64);
    }
    // `as` saturates: an absurd factor gives u64::MAX, not a wrap
    Some(t.max(0.0).round() as u64)
}

/// A reproducible pseudo-random number from the source and count
/// (splitmix64), standing in for fail2ban's `random.random()`.
fn jitter(key: Prefix, previous: u32) -> u64 {
    let bits: u128 = match key.addr() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let mut z =
        (bits as u64) ^ ((bits >> 64) as u64) ^ (u64::from(previous) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------
// Prefix aggregation
// ---------------------------------------------------------------------------

/// Settings of [`Aggregator`].
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatorConfig {
    /// Distinct offenders in one range that trigger a range ban (8).
    pub threshold: usize,
    /// IPv4 range length (24; never shorter than 16).
    pub v4_prefix: u8,
    /// IPv6 range length (48; never shorter than 32).
    pub v6_prefix: u8,
    /// Seconds within which the offenders must have been banned (1 h).
    pub window: u64,
    /// Range bans proposed per sliding hour at most (safety budget: a
    /// bug or a spoofed flood cannot ban half the Internet) (4).
    pub max_per_hour: u32,
    /// Duration proposed for a range ban in seconds, `None` permanent
    /// (1 day).
    pub bantime: Option<u64>,
    /// Ranges tracked at once (memory bound) (16,384).
    pub max_ranges: usize,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            threshold: 8,
            v4_prefix: 24,
            v6_prefix: 48,
            window: 3600,
            max_per_hour: 4,
            bantime: Some(86_400),
            max_ranges: 16_384,
        }
    }
}

/// A proposed range ban.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBan {
    /// The range (`/24` or `/48` by default).
    pub prefix: Prefix,
    /// The distinct offenders that made it (at least `threshold`).
    pub offenders: Vec<IpAddr>,
    /// Time of the ban event that completed the count.
    pub time: f64,
    /// Proposed duration in seconds, `None` permanent.
    pub duration_s: Option<u64>,
}

/// Counters of an [`Aggregator`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AggregatorStats {
    /// Range bans proposed.
    pub proposed: u64,
    /// Range bans withheld because the hourly budget was spent.
    pub refused_budget: u64,
    /// Ranges forgotten because the table was full.
    pub evictions: u64,
}

#[derive(Debug, Clone)]
struct RangeState {
    /// Distinct offenders with their last ban time, at most `threshold`.
    offenders: Vec<(IpAddr, f64)>,
    banned_until: f64,
}

/// Folds many banned offenders of one network into a single range ban.
///
/// Why: botnets rent whole /24s (and IPv6 /48s); after the eighth ban
/// from one range, banning the range stops the next 248 before they try.
/// The safety budget and the minimum lengths keep a mistake small.
/// The daemon must still check the proposed range against its allowlist.
#[derive(Debug, Clone)]
pub struct Aggregator {
    cfg: AggregatorConfig,
    ranges: BoundedMap<Prefix, RangeState>,
    recent: VecDeque<f64>,
    stats: AggregatorStats,
}

impl Aggregator {
    /// An aggregator; out-of-range settings are clamped (threshold at
    /// least 2, IPv4 lengths 16..=32, IPv6 32..=128).
    pub fn new(mut cfg: AggregatorConfig) -> Aggregator {
        cfg.threshold = cfg.threshold.clamp(2, 4096);
        cfg.v4_prefix = cfg.v4_prefix.clamp(16, 32);
        cfg.v6_prefix = cfg.v6_prefix.clamp(32, 128);
        Aggregator {
            ranges: BoundedMap::new(cfg.max_ranges),
            cfg,
            recent: VecDeque::new(),
            stats: AggregatorStats::default(),
        }
    }

    /// The effective (clamped) configuration.
    pub fn config(&self) -> &AggregatorConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> AggregatorStats {
        AggregatorStats {
            evictions: self.ranges.evictions(),
            ..self.stats
        }
    }

    /// Feeds a jail's ban; the offender is the banned prefix's address
    /// (an IPv6 /64 counts as one offender).
    pub fn observe_ban(&mut self, ban: &JailBan) -> Option<RangeBan> {
        self.observe(ban.prefix.addr(), ban.time)
    }

    /// Feeds one ban of `offender` at `time`; proposes a range ban when
    /// the offender's range has `threshold` distinct offenders within
    /// `window` and the hourly budget allows.
    pub fn observe(&mut self, offender: IpAddr, time: f64) -> Option<RangeBan> {
        if !time.is_finite() {
            return None;
        }
        let offender = offender.to_canonical();
        let len = if offender.is_ipv4() {
            self.cfg.v4_prefix
        } else {
            self.cfg.v6_prefix
        };
        let key = Prefix::new(offender, len);
        let window = self.cfg.window as f64;
        let threshold = self.cfg.threshold;
        self.ranges.expire_oldest(2, |r| {
            r.banned_until <= time && r.offenders.iter().all(|&(_, t)| t < time - window)
        });
        let st = self.ranges.touch_or_insert_with(key, || RangeState {
            offenders: Vec::new(),
            banned_until: f64::NEG_INFINITY,
        });
        if time < st.banned_until {
            return None;
        }
        st.offenders.retain(|&(_, t)| t >= time - window);
        if let Some(slot) = st.offenders.iter_mut().find(|(a, _)| *a == offender) {
            slot.1 = slot.1.max(time);
        } else {
            if st.offenders.len() >= threshold {
                // keep the most recent ones (budget refusals keep the set full)
                if let Some(oldest) = st
                    .offenders
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                    .map(|(i, _)| i)
                {
                    st.offenders.swap_remove(oldest);
                }
            }
            st.offenders.push((offender, time));
        }
        if st.offenders.len() < threshold {
            return None;
        }
        while self.recent.front().is_some_and(|&t| t <= time - 3600.0) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.cfg.max_per_hour as usize {
            self.stats.refused_budget += 1;
            return None;
        }
        self.recent.push_back(time);
        self.stats.proposed += 1;
        let offenders: Vec<IpAddr> = st.offenders.drain(..).map(|(a, _)| a).collect();
        st.banned_until = match self.cfg.bantime {
            Some(d) => time + d as f64,
            None => f64::INFINITY,
        };
        Some(RangeBan {
            prefix: key,
            offenders,
            time,
            duration_s: self.cfg.bantime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    fn jail(maxretry: u32, findtime: u64) -> Jail {
        let cfg = JailConfig {
            maxretry,
            findtime,
            ..JailConfig::new("t")
        };
        Jail::new(cfg).unwrap_or_else(|e| panic!("{e}"))
    }

    fn is_ban(e: &JailEvent) -> bool {
        matches!(e, JailEvent::Ban(_))
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("600"), Ok(600.0));
        assert_eq!(parse_duration("10m"), Ok(600.0));
        assert_eq!(parse_duration("1h 30m"), Ok(5400.0));
        assert_eq!(parse_duration("1d12h"), Ok(129_600.0));
        assert_eq!(parse_duration("2 weeks"), Ok(1_209_600.0));
        assert_eq!(parse_duration("-1"), Ok(-1.0));
        assert_eq!(parse_duration("1mo"), Ok(2_629_800.0));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn options() {
        let c = JailConfig::from_options(
            "sshd",
            &[
                ("maxretry", "3"),
                ("findtime", "10m"),
                ("bantime", "1h"),
                ("bantime.factor", "2"),
                ("bantime.increment", "true"),
                ("bantime.maxtime", "1w"),
                ("logpath", "/var/log/auth.log"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.maxretry, 3);
        assert_eq!(c.findtime, 600);
        assert_eq!(c.bantime, Some(3600));
        let inc = c.increment.unwrap_or_default();
        assert_eq!(inc.factor, 2.0);
        assert_eq!(inc.maxtime, 604_800);
        let p = JailConfig::from_options("x", &[("bantime", "-1")]).map(|c| c.bantime);
        assert_eq!(p, Ok(None));
        let e = JailConfig::from_options("x", &[("findtime", "soon")]);
        assert!(matches!(e, Err(JailConfigError { ref key, .. }) if key == "findtime"));
        let e = JailConfig::from_options("x", &[("maxretry", "0")]);
        assert!(matches!(e, Err(JailConfigError { ref key, .. }) if key == "maxretry"));
        let e = JailConfig::from_options("x", &[("bantime.formula", "ban.Time * 3")]);
        assert!(matches!(e, Err(JailConfigError { ref key, .. }) if key == "bantime.formula"));
        let ok = JailConfig::from_options("x", &[("bantime.formula", DEFAULT_FORMULA)]);
        assert!(ok.is_ok());
        // bantime.* without increment has no effect
        let c = JailConfig::from_options("x", &[("bantime.factor", "3")]);
        assert_eq!(c.map(|c| c.increment), Ok(None));
        let r = JailConfig::recidive();
        assert_eq!(
            (r.maxretry, r.findtime, r.bantime),
            (5, 86_400, Some(604_800))
        );
    }

    #[test]
    fn maxretry_minus_one_never_bans() {
        let mut j = jail(5, 600);
        let a = v4("192.0.2.1");
        // 4 failures per window, forever: windows never hold 5
        for i in 0..1000 {
            let t = f64::from(i) * 151.0; // 4 failures span 453 s, 5 would span 604
            assert!(!is_ban(&j.observe(a, t, None)), "banned at {i}");
        }
    }

    #[test]
    fn window_inclusive_and_forgetting() {
        let mut j = jail(3, 600);
        let a = v4("192.0.2.2");
        assert!(!is_ban(&j.observe(a, 0.0, None)));
        assert!(!is_ban(&j.observe(a, 300.0, None)));
        // exactly findtime after the first: still inside
        assert!(is_ban(&j.observe(a, 600.0, Some("root"))));
        let mut j = jail(3, 600);
        assert!(!is_ban(&j.observe(a, 0.0, None)));
        assert!(!is_ban(&j.observe(a, 300.0, None)));
        // 0 is forgotten: window holds 300 and 600.5
        assert!(!is_ban(&j.observe(a, 600.5, None)));
        assert!(is_ban(&j.observe(a, 700.0, None)));
    }

    #[test]
    fn ban_resets_window_and_blocks_while_banned() {
        let mut j = jail(2, 600);
        let a = v4("192.0.2.3");
        j.observe(a, 0.0, None);
        let JailEvent::Ban(b) = j.observe(a, 1.0, Some("admin")) else {
            panic!("no ban")
        };
        assert_eq!(
            (b.failures, b.offence_count, b.duration_s),
            (2, 1, Some(600))
        );
        assert_eq!(b.prefix, Prefix::new(a, 32));
        assert_eq!(b.users, vec!["admin".to_string()]);
        assert!(j.is_banned(a, 500.0));
        // lines during the ban are not counted
        assert_eq!(j.observe(a, 100.0, None), JailEvent::Nothing);
        assert_eq!(j.stats().while_banned, 1);
        // after the ban, the window starts empty
        assert_eq!(j.observe(a, 601.0, None), JailEvent::Nothing);
        assert!(is_ban(&j.observe(a, 602.0, None)));
    }

    #[test]
    fn increment_doubles_up_to_maxtime() {
        let cfg = JailConfig::from_options(
            "x",
            &[
                ("maxretry", "1"),
                ("bantime", "10m"),
                ("bantime.increment", "true"),
                ("bantime.maxtime", "1h"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut j = Jail::new(cfg).unwrap_or_else(|e| panic!("{e}"));
        let a = v4("198.51.100.7");
        let mut t = 0.0;
        let mut got = Vec::new();
        for _ in 0..6 {
            if let JailEvent::Ban(b) = j.observe(a, t, None) {
                got.push((b.offence_count, b.duration_s));
                t += b.duration_s.unwrap_or(0) as f64 + 1.0;
            }
        }
        assert_eq!(
            got,
            vec![
                (1, Some(600)),
                (2, Some(1200)),
                (3, Some(2400)),
                (4, Some(3600)),
                (5, Some(3600)),
                (6, Some(3600))
            ]
        );
        // history is forgotten after dbpurgeage
        t += 86_401.0;
        match j.observe(a, t, None) {
            JailEvent::Ban(b) => assert_eq!((b.offence_count, b.duration_s), (1, Some(600))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn multipliers_and_permanent() {
        let cfg = JailConfig::from_options(
            "x",
            &[
                ("maxretry", "1"),
                ("bantime", "60"),
                ("bantime.increment", "1"),
                ("bantime.multipliers", "1 5 30"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let d: Vec<_> = (0..5)
            .map(|n| ban_duration(&cfg, n, Prefix::host(v4("1.2.3.4"))))
            .collect();
        assert_eq!(
            d,
            vec![Some(60), Some(300), Some(1800), Some(1800), Some(1800)]
        );
        let perm = JailConfig {
            bantime: None,
            maxretry: 1,
            ..JailConfig::new("p")
        };
        let mut j = Jail::new(perm).unwrap_or_else(|e| panic!("{e}"));
        let a = v4("1.2.3.4");
        match j.observe(a, 0.0, None) {
            JailEvent::Ban(b) => assert_eq!(b.duration_s, None),
            other => panic!("{other:?}"),
        }
        assert!(j.is_banned(a, 1e12));
    }

    #[test]
    fn rndtime_is_bounded_and_reproducible() {
        let mut cfg = JailConfig::new("r");
        cfg.increment = Some(BanTimeIncrement {
            rndtime: 30,
            maxtime: 0,
            ..BanTimeIncrement::default()
        });
        let k = Prefix::host(v4("203.0.113.9"));
        let a = ban_duration(&cfg, 0, k);
        assert_eq!(a, ban_duration(&cfg, 0, k));
        assert!(a.is_some_and(|d| (600..=630).contains(&d)));
    }

    #[test]
    fn ipv6_counted_per_64() {
        let mut j = jail(3, 600);
        let hosts = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"];
        let mut last = JailEvent::Nothing;
        for (i, h) in hosts.iter().enumerate() {
            last = j.observe_host(h, i as f64, None);
        }
        match last {
            JailEvent::Ban(b) => {
                assert_eq!(b.prefix.to_string(), "2001:db8:1:2::/64");
                assert_eq!(b.addr, hosts[2].parse::<IpAddr>().unwrap_or(v4("0.0.0.0")));
            }
            other => panic!("{other:?}"),
        }
        // another /64 is another source
        let mut j = jail(2, 600);
        j.observe_host("2001:db8:1:2::1", 0.0, None);
        assert_eq!(
            j.observe_host("2001:db8:1:3::1", 1.0, None),
            JailEvent::Nothing
        );
        // mapped v4 is v4
        j.observe_host("::ffff:192.0.2.1", 0.0, None);
        assert!(is_ban(&j.observe_host("192.0.2.1", 1.0, None)));
    }

    #[test]
    fn non_addresses_are_skipped() {
        let mut j = jail(1, 600);
        assert_eq!(
            j.observe_host("attacker.example.com", 0.0, None),
            JailEvent::Skipped(SkipReason::NotAnAddress)
        );
        assert_eq!(
            j.observe(v4("192.0.2.1"), f64::NAN, None),
            JailEvent::Skipped(SkipReason::BadTime)
        );
        assert!(is_ban(&j.observe_host("[2001:db8::1]", 0.0, None)));
        assert_eq!(j.stats().skipped_hosts, 1);
        assert_eq!(j.stats().skipped_times, 1);
    }

    #[test]
    fn flood_of_distinct_sources_is_bounded() {
        let cfg = JailConfig {
            max_tracked: 10_000,
            ..JailConfig::new("flood")
        };
        let mut j = Jail::new(cfg).unwrap_or_else(|e| panic!("{e}"));
        for i in 0u32..1_000_000 {
            // all within one findtime: nothing expires, everything evicts
            let a = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | i));
            assert_eq!(j.observe(a, f64::from(i) * 1e-4, None), JailEvent::Nothing);
            assert!(j.tracked() <= 10_000);
        }
        assert_eq!(j.tracked(), 10_000);
        assert_eq!(j.stats().source_evictions, 990_000);
        assert_eq!(j.stats().failures, 1_000_000);
    }

    #[test]
    fn idle_sources_expire_without_eviction() {
        let cfg = JailConfig {
            max_tracked: 100,
            ..JailConfig::new("idle")
        };
        let mut j = Jail::new(cfg).unwrap_or_else(|e| panic!("{e}"));
        for i in 0u32..10_000 {
            let a = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | i));
            j.observe(a, f64::from(i) * 100.0, None);
        }
        assert_eq!(j.stats().source_evictions, 0);
        assert!(j.tracked() <= 10);
    }

    #[test]
    fn aggregation_with_budget() {
        let mut ag = Aggregator::new(AggregatorConfig {
            max_per_hour: 1,
            ..AggregatorConfig::default()
        });
        let mut got = None;
        for i in 1..=8u8 {
            let r = ag.observe(v4(&format!("203.0.113.{i}")), f64::from(i));
            if i < 8 {
                assert_eq!(r, None);
            } else {
                got = r;
            }
        }
        let rb = got.unwrap_or_else(|| panic!("no range ban"));
        assert_eq!(rb.prefix.to_string(), "203.0.113.0/24");
        assert_eq!(rb.offenders.len(), 8);
        // the same offender 8 times is one offender
        for _ in 0..20 {
            assert_eq!(ag.observe(v4("198.51.100.1"), 20.0), None);
        }
        // a second range within the hour: refused by the budget
        let mut refused = None;
        for i in 1..=8u8 {
            refused = ag.observe(v4(&format!("198.51.100.{}", 10 + i)), 30.0 + f64::from(i));
        }
        assert_eq!(refused, None);
        assert!(ag.stats().refused_budget >= 1);
        // an hour later the budget allows it
        let later = ag.observe(v4("198.51.100.99"), 3620.0);
        assert_eq!(
            later.map(|r| r.prefix.to_string()),
            Some("198.51.100.0/24".to_string())
        );
        // offenders spread over more than the window do not add up
        let mut ag = Aggregator::new(AggregatorConfig::default());
        for i in 1..=8u8 {
            assert_eq!(
                ag.observe(v4(&format!("192.0.2.{i}")), f64::from(i) * 4000.0),
                None
            );
        }
    }

    #[test]
    fn aggregation_never_wider_than_limits() {
        let ag = Aggregator::new(AggregatorConfig {
            v4_prefix: 8,
            v6_prefix: 16,
            threshold: 0,
            ..AggregatorConfig::default()
        });
        assert_eq!(ag.config().v4_prefix, 16);
        assert_eq!(ag.config().v6_prefix, 32);
        assert_eq!(ag.config().threshold, 2);
        let mut ag = Aggregator::new(AggregatorConfig {
            threshold: 2,
            ..AggregatorConfig::default()
        });
        ag.observe("2001:db8:1:1::".parse().unwrap_or(v4("0.0.0.0")), 0.0);
        let r = ag.observe("2001:db8:1:2::".parse().unwrap_or(v4("0.0.0.0")), 1.0);
        assert_eq!(
            r.map(|r| r.prefix.to_string()),
            Some("2001:db8:1::/48".to_string())
        );
    }

    #[test]
    fn prefix_basics() {
        let p = Prefix::new(v4("192.0.2.77"), 24);
        assert_eq!(p.to_string(), "192.0.2.0/24");
        assert!(p.contains(v4("192.0.2.1")));
        assert!(!p.contains(v4("192.0.3.1")));
        assert_eq!(Prefix::new(v4("1.2.3.4"), 0).to_string(), "0.0.0.0/0");
        assert_eq!(Prefix::new(v4("1.2.3.4"), 99).prefix_len(), 32);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The jail bans exactly when a brute-force reference (count of
        /// failures in [t - findtime, t] since the last ban) reaches maxretry.
        #[test]
        fn matches_reference(gaps in proptest::collection::vec(0u32..400, 1..60), maxretry in 1u32..6) {
            let findtime = 600.0;
            let cfg = JailConfig { maxretry, findtime: 600, bantime: Some(0), ..JailConfig::new("p") };
            let mut j = Jail::new(cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
            let mut t = 0.0;
            let mut since_ban: Vec<f64> = Vec::new();
            for g in gaps {
                t += f64::from(g);
                since_ban.push(t);
                let n = since_ban.iter().filter(|&&x| x >= t - findtime).count();
                let expect = n >= maxretry as usize;
                let got = matches!(j.observe(a, t, None), JailEvent::Ban(_));
                prop_assert_eq!(got, expect);
                if expect { since_ban.clear(); }
            }
        }

        /// Any string is parsed or rejected without panicking.
        #[test]
        fn durations_never_panic(s in "\\PC{0,20}") {
            let _ = parse_duration(&s);
        }
    }
}
