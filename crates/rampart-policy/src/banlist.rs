//! The ban book: which prefixes are banned, until when, and why.
//!
//! Pure: time comes in as unix seconds and decisions go out as values. The
//! daemon carries them out (kernel set update through `rampart-sys`'s
//! `KernelBans`, persistence through its `BanStore`), so every rule about
//! bans (allowlist, IPv6 widening, escalation, overlaps) is testable here
//! without root, a clock or a database.
//!
//! Invariants the book keeps, because the kernel depends on them:
//! * no active ban overlaps an allowlist entry (the allowlist always wins);
//! * no two active bans overlap: nft's interval sets refuse overlapping
//!   elements, so a ban covering smaller ones replaces them
//!   ([`BanDecision::replaces`]) and a ban inside a larger one extends the
//!   larger one instead of being added.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::addr::{widen, Cidr};
use crate::compile::Ban;

/// How bans are sized and where they may not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanPolicy {
    /// Seconds a first offence is banned for when the request names no
    /// duration.
    pub default_duration: u64,
    /// Each repeat offence multiplies the duration by this (2 doubles it; 1
    /// or 0 turns escalation off), so persistent attackers stay out longer
    /// without punishing a one-off false positive heavily.
    pub escalation_factor: u32,
    /// Escalation never goes past this many seconds (a requested base
    /// duration longer than this is honoured as is, but not escalated).
    pub max_duration: u64,
    /// Prefix length single IPv6 addresses are widened to (64 by default):
    /// an IPv6 attacker usually holds a whole /64 and hops inside it.
    pub ipv6_prefix: u8,
    /// Prefixes never banned, whatever asks: the host's own addresses,
    /// management networks, resolvers. A ban that overlaps any of them in
    /// either direction is refused.
    pub allowlist: Vec<Cidr>,
}

impl Default for BanPolicy {
    fn default() -> BanPolicy {
        BanPolicy {
            default_duration: 3600,
            escalation_factor: 2,
            max_duration: 7 * 24 * 3600,
            ipv6_prefix: 64,
            allowlist: Vec::new(),
        }
    }
}

impl BanPolicy {
    /// The allowlist entry `cidr` overlaps (contains, is contained by or
    /// equals), if any.
    pub fn allowlisted(&self, cidr: &Cidr) -> Option<Cidr> {
        self.allowlist
            .iter()
            .find(|a| a.contains(cidr) || cidr.contains(a))
            .copied()
    }

    /// The duration of offence number `offences` (1 = first) for a base of
    /// `base` seconds: `base * factor^(offences-1)`, capped at
    /// `max_duration` (or at `base` when that is longer). Saturating, so a
    /// long history cannot overflow.
    pub fn escalated(&self, base: u64, offences: u32) -> u64 {
        let cap = self.max_duration.max(base);
        let factor = u64::from(self.escalation_factor.max(1));
        let exp = offences.saturating_sub(1);
        let mult = factor.checked_pow(exp).unwrap_or(u64::MAX);
        base.saturating_mul(mult).min(cap)
    }
}

/// What a ban request names: one address (IPv6 widened per the policy) or
/// an explicit prefix (taken as written, so an operator can still ban a
/// single IPv6 address as a /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanTarget {
    /// One address, e.g. the source of an alert.
    Addr(IpAddr),
    /// A prefix, e.g. from `rampart ban add 203.0.113.0/24`.
    Cidr(Cidr),
}

impl From<IpAddr> for BanTarget {
    fn from(a: IpAddr) -> BanTarget {
        BanTarget::Addr(a)
    }
}

impl From<Cidr> for BanTarget {
    fn from(c: Cidr) -> BanTarget {
        BanTarget::Cidr(c)
    }
}

/// One active ban as the book holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEntry {
    /// Unix second at which the ban ends.
    pub until: u64,
    /// Offences of this prefix counted when the ban was last set or
    /// extended (drives escalation).
    pub offences: u32,
    /// Why (an alert message, an operator's note).
    pub reason: String,
    /// Who asked: `rule:2001234`, `api`, `jail:sshd`.
    pub origin: String,
    /// Unix second the ban was first made.
    pub created: u64,
}

/// A ban as stored and restored: the entry and its prefix in one value.
/// Defined here (not in the store) so the pure book can take what the store
/// loads without depending on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    /// What is banned.
    pub cidr: Cidr,
    /// Unix second at which the ban ends.
    pub until: u64,
    /// Offences counted for this prefix.
    pub offences: u32,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub origin: String,
    /// Unix second the ban was first made.
    pub created: u64,
}

impl BanRecord {
    fn from_entry(cidr: Cidr, e: &BanEntry) -> BanRecord {
        BanRecord {
            cidr,
            until: e.until,
            offences: e.offences,
            reason: e.reason.clone(),
            origin: e.origin.clone(),
            created: e.created,
        }
    }
}

/// What the daemon must do after an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanDecision {
    /// The ban to send to the kernel (its prefix may be a larger active ban
    /// that covers the request; its timeout is the seconds left).
    pub ban: Ban,
    /// False when an active ban already covers the request for at least as
    /// long: nothing to send, nothing to store.
    pub kernel_update: bool,
    /// Smaller active bans the new one covers: delete them from the kernel
    /// (before adding [`BanDecision::ban`]; nft refuses overlaps) and from
    /// the store.
    pub replaces: Vec<Cidr>,
    /// The record to upsert in the store.
    pub record: BanRecord,
}

/// Why a ban request was refused. The book is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BanRefused {
    /// The ban would cover an allowlisted prefix (or lie inside one).
    #[error("refusing to ban {target}: it overlaps allowlist entry {entry}")]
    Allowlisted {
        /// The prefix that would have been banned (after widening).
        target: Cidr,
        /// The allowlist entry it overlaps.
        entry: Cidr,
    },
    /// A ban of zero seconds would be a no-op that still counted as an
    /// offence; it is refused so the caller's configuration gets fixed.
    #[error("refusing to ban {target} for 0 seconds")]
    ZeroDuration {
        /// The prefix that would have been banned.
        target: Cidr,
    },
}

/// What [`BanBook::restore`] did with the records it was given, so the
/// daemon can drop the skipped ones from the store and log why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Records made active again.
    pub restored: usize,
    /// Records already expired (their offence counts are kept).
    pub expired: Vec<Cidr>,
    /// Records now refused by the allowlist: (ban, allowlist entry).
    pub allowlisted: Vec<(Cidr, Cidr)>,
    /// Records overlapping a ban restored before them (larger prefixes
    /// are restored first, so these lie inside one).
    pub overlapping: Vec<Cidr>,
}

/// Default capacity of the offence table.
pub const DEFAULT_OFFENCE_CAPACITY: usize = 1_000_000;

/// Per-prefix offence counts, bounded: once full, the prefix counted first
/// is forgotten (and counted in `evicted`), so a flood of distinct sources
/// cannot grow memory without end.
#[derive(Debug, Clone)]
struct OffenceTable {
    counts: HashMap<Cidr, u32>,
    order: VecDeque<Cidr>,
    capacity: usize,
    evicted: u64,
}

impl OffenceTable {
    fn new(capacity: usize) -> OffenceTable {
        OffenceTable {
            counts: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    fn get(&self, c: &Cidr) -> u32 {
        self.counts.get(c).copied().unwrap_or(0)
    }

    /// Counts one more offence of `c` and returns the new count.
    fn bump(&mut self, c: Cidr) -> u32 {
        if let Some(v) = self.counts.get_mut(&c) {
            *v = v.saturating_add(1);
            return *v;
        }
        self.raise(c, 1);
        1
    }

    /// Sets the count of `c` to at least `n`.
    fn raise(&mut self, c: Cidr, n: u32) {
        if let Some(v) = self.counts.get_mut(&c) {
            *v = (*v).max(n);
            return;
        }
        while self.counts.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    if self.counts.remove(&old).is_some() {
                        self.evicted += 1;
                    }
                }
                None => break,
            }
        }
        self.counts.insert(c, n);
        self.order.push_back(c);
    }
}

/// Active bans and offence history. See the module documentation for the
/// invariants it keeps.
#[derive(Debug, Clone)]
pub struct BanBook {
    policy: BanPolicy,
    active: BTreeMap<Cidr, BanEntry>,
    /// (until, prefix) of every active ban, for cheap expiry.
    by_until: BTreeSet<(u64, Cidr)>,
    /// Number of active bans per prefix length (IPv4 at 0..=32, IPv6 at
    /// 33..=161), so finding a ban that contains a prefix probes only the
    /// lengths in use (usually /32 and /64) instead of all of them.
    lens: Vec<u32>,
    offences: OffenceTable,
}

/// Index of (family, prefix length) in `BanBook::lens`.
fn len_slot(v4: bool, len: u8) -> usize {
    if v4 {
        usize::from(len.min(32))
    } else {
        33 + usize::from(len.min(128))
    }
}

/// The last address of a prefix.
fn last_addr(c: &Cidr) -> IpAddr {
    match c.addr() {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(c.prefix_len())).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) | host))
        }
        IpAddr::V6(a) => {
            let host = u128::MAX
                .checked_shr(u32::from(c.prefix_len()))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) | host))
        }
    }
}

impl BanBook {
    /// An empty book with the default offence capacity.
    pub fn new(policy: BanPolicy) -> BanBook {
        BanBook::with_capacity(policy, DEFAULT_OFFENCE_CAPACITY)
    }

    /// An empty book remembering at most `offence_capacity` prefixes'
    /// offence counts.
    pub fn with_capacity(policy: BanPolicy, offence_capacity: usize) -> BanBook {
        BanBook {
            policy,
            active: BTreeMap::new(),
            by_until: BTreeSet::new(),
            lens: vec![0; 33 + 129],
            offences: OffenceTable::new(offence_capacity),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &BanPolicy {
        &self.policy
    }

    /// Replaces the policy (a config reload). Active bans that the new
    /// allowlist covers are removed and returned: delete them from the
    /// kernel and the store.
    pub fn set_policy(&mut self, policy: BanPolicy) -> Vec<Cidr> {
        self.policy = policy;
        let gone: Vec<Cidr> = self
            .active
            .keys()
            .filter(|c| self.policy.allowlisted(c).is_some())
            .copied()
            .collect();
        for c in &gone {
            self.remove(c);
        }
        gone
    }

    /// Offences counted for `cidr` (0 when unknown or forgotten).
    pub fn offences(&self, cidr: &Cidr) -> u32 {
        self.offences.get(cidr)
    }

    /// How many prefixes' offence counts were forgotten because the table
    /// was full (a sign the capacity is too small for the attack rate).
    pub fn offences_evicted(&self) -> u64 {
        self.offences.evicted
    }

    /// Number of bans held (including any that expired since the last
    /// [`BanBook::expire`]).
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// True when no ban is held.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The prefix a request for `target` bans: addresses widened per the
    /// policy, prefixes as given.
    pub fn ban_prefix(&self, target: BanTarget) -> Cidr {
        match target {
            BanTarget::Addr(a) => widen(a, self.policy.ipv6_prefix),
            BanTarget::Cidr(c) => c,
        }
    }

    /// Active bans overlapping `c`: first any that contains it, else those
    /// inside it.
    fn overlapping(&self, c: &Cidr) -> (Option<Cidr>, Vec<Cidr>) {
        for len in 0..=c.prefix_len() {
            if self
                .lens
                .get(len_slot(c.is_v4(), len))
                .copied()
                .unwrap_or(0)
                == 0
            {
                continue;
            }
            let outer = Cidr::network(c.addr(), len);
            if self.active.contains_key(&outer) {
                return (Some(outer), Vec::new());
            }
        }
        // Only bans with longer prefixes can lie inside: usually there are
        // none (a /32 or a /64 request against host and /64 bans).
        let longer =
            (c.prefix_len().saturating_add(1)..=if c.is_v4() { 32 } else { 128 }).any(|len| {
                self.lens
                    .get(len_slot(c.is_v4(), len))
                    .copied()
                    .unwrap_or(0)
                    > 0
            });
        if !longer {
            return (None, Vec::new());
        }
        let hi = Cidr::host(last_addr(c));
        let inner = self
            .active
            .range(*c..=hi)
            .map(|(k, _)| *k)
            .filter(|k| c.contains(k))
            .collect();
        (None, inner)
    }

    fn insert(&mut self, cidr: Cidr, entry: BanEntry) {
        let until = entry.until;
        match self.active.insert(cidr, entry) {
            Some(old) => {
                self.by_until.remove(&(old.until, cidr));
            }
            None => self.count_len(&cidr, true),
        }
        self.by_until.insert((until, cidr));
    }

    fn count_len(&mut self, c: &Cidr, add: bool) {
        if let Some(n) = self.lens.get_mut(len_slot(c.is_v4(), c.prefix_len())) {
            *n = if add {
                n.saturating_add(1)
            } else {
                n.saturating_sub(1)
            };
        }
    }

    /// Asks for a ban on `target` for `duration` seconds (None: the
    /// policy's default), escalated for repeat offenders.
    ///
    /// Refused when the ban prefix overlaps the allowlist. When an active
    /// ban already covers the prefix, that ban is extended if the new one
    /// would last longer (`kernel_update` says whether anything changed);
    /// when the new prefix covers smaller active bans, it replaces them.
    pub fn request(
        &mut self,
        target: impl Into<BanTarget>,
        duration: Option<u64>,
        reason: &str,
        origin: &str,
        now: u64,
    ) -> Result<BanDecision, BanRefused> {
        self.request_inner(target.into(), duration, reason, origin, now, true)
    }

    /// Like [`BanBook::request`], but for exactly `duration` seconds: for
    /// callers that escalate by their own rules (a fail2ban jail with
    /// `bantime.increment`), so the two escalations do not multiply. The
    /// offence is still counted.
    pub fn request_exact(
        &mut self,
        target: impl Into<BanTarget>,
        duration: u64,
        reason: &str,
        origin: &str,
        now: u64,
    ) -> Result<BanDecision, BanRefused> {
        self.request_inner(target.into(), Some(duration), reason, origin, now, false)
    }

    fn request_inner(
        &mut self,
        target: BanTarget,
        duration: Option<u64>,
        reason: &str,
        origin: &str,
        now: u64,
        escalate: bool,
    ) -> Result<BanDecision, BanRefused> {
        let cidr = self.ban_prefix(target);
        if let Some(entry) = self.policy.allowlisted(&cidr) {
            return Err(BanRefused::Allowlisted {
                target: cidr,
                entry,
            });
        }
        let base = duration.unwrap_or(self.policy.default_duration);
        if base == 0 {
            return Err(BanRefused::ZeroDuration { target: cidr });
        }
        // Expired bans in the way are dropped first (the kernel has let
        // them go already).
        let (mut outer, mut inner) = self.overlapping(&cidr);
        loop {
            let stale: Vec<Cidr> = outer
                .iter()
                .chain(&inner)
                .filter(|c| self.active.get(c).is_some_and(|e| e.until <= now))
                .copied()
                .collect();
            if stale.is_empty() {
                break;
            }
            for c in &stale {
                self.remove(c);
            }
            (outer, inner) = self.overlapping(&cidr);
        }
        let offences = self.offences.bump(cidr);
        let length = if escalate {
            self.policy.escalated(base, offences)
        } else {
            base
        };
        let until = now.saturating_add(length);
        if let Some((outer, entry)) =
            outer.and_then(|o| self.active.get(&o).cloned().map(|e| (o, e)))
        {
            let extend = until > entry.until;
            let mut new = entry;
            if extend {
                new.until = until;
                new.offences = new.offences.max(offences);
                new.reason = reason.to_string();
                new.origin = origin.to_string();
                self.insert(outer, new.clone());
            }
            return Ok(BanDecision {
                ban: Ban {
                    cidr: outer,
                    timeout: Some(new.until.saturating_sub(now).max(1)),
                },
                kernel_update: extend,
                replaces: Vec::new(),
                record: BanRecord::from_entry(outer, &new),
            });
        }
        let mut until = until;
        let mut created = now;
        for c in &inner {
            if let Some(e) = self.remove_entry(c) {
                until = until.max(e.until);
                created = created.min(e.created);
            }
        }
        let entry = BanEntry {
            until,
            offences,
            reason: reason.to_string(),
            origin: origin.to_string(),
            created,
        };
        let record = BanRecord::from_entry(cidr, &entry);
        self.insert(cidr, entry);
        Ok(BanDecision {
            ban: Ban {
                cidr,
                timeout: Some(until.saturating_sub(now).max(1)),
            },
            kernel_update: true,
            replaces: inner,
            record,
        })
    }

    fn remove_entry(&mut self, cidr: &Cidr) -> Option<BanEntry> {
        let e = self.active.remove(cidr)?;
        self.by_until.remove(&(e.until, *cidr));
        self.count_len(cidr, false);
        Some(e)
    }

    /// Lifts the ban on exactly `cidr` (an operator's `ban del`). True when
    /// there was one. Offence counts are kept: lifting a ban is not a
    /// pardon for the next offence.
    pub fn remove(&mut self, cidr: &Cidr) -> bool {
        self.remove_entry(cidr).is_some()
    }

    /// Drops bans whose time is up (the kernel expires its elements by
    /// itself) and returns them, for the store.
    pub fn expire(&mut self, now: u64) -> Vec<Cidr> {
        let mut gone = Vec::new();
        while let Some(&(until, cidr)) = self.by_until.first() {
            if until > now {
                break;
            }
            self.by_until.pop_first();
            if self.active.remove(&cidr).is_some() {
                self.count_len(&cidr, false);
            }
            gone.push(cidr);
        }
        gone
    }

    /// The bans still running at `now`, in prefix order.
    pub fn active(&self, now: u64) -> impl Iterator<Item = (&Cidr, &BanEntry)> + '_ {
        self.active.iter().filter(move |(_, e)| e.until > now)
    }

    /// The ban held on exactly `cidr`, if any.
    pub fn get(&self, cidr: &Cidr) -> Option<&BanEntry> {
        self.active.get(cidr)
    }

    /// The active bans as kernel elements with their remaining time: what
    /// the kernel sets should hold (for reconciliation).
    pub fn kernel_bans(&self, now: u64) -> Vec<Ban> {
        self.active(now)
            .map(|(c, e)| Ban {
                cidr: *c,
                timeout: Some(e.until.saturating_sub(now).max(1)),
            })
            .collect()
    }

    /// The active bans as records (for a full store rewrite).
    pub fn records(&self, now: u64) -> Vec<BanRecord> {
        self.active(now)
            .map(|(c, e)| BanRecord::from_entry(*c, e))
            .collect()
    }

    /// Loads bans from the store at start. Expired records only seed the
    /// offence counts; records the allowlist now covers, or that overlap
    /// one restored before them (larger prefixes go first), are skipped
    /// and reported. Bans already in the book win over records.
    pub fn restore(&mut self, records: &[BanRecord], now: u64) -> RestoreReport {
        let mut report = RestoreReport::default();
        let mut order: Vec<&BanRecord> = records.iter().collect();
        order.sort_by_key(|r| (r.cidr.prefix_len(), r.cidr));
        for r in order {
            self.offences.raise(r.cidr, r.offences);
            if r.until <= now {
                report.expired.push(r.cidr);
                continue;
            }
            if let Some(entry) = self.policy.allowlisted(&r.cidr) {
                report.allowlisted.push((r.cidr, entry));
                continue;
            }
            let (outer, inner) = self.overlapping(&r.cidr);
            if outer.is_some() || !inner.is_empty() {
                report.overlapping.push(r.cidr);
                continue;
            }
            self.insert(
                r.cidr,
                BanEntry {
                    until: r.until,
                    offences: r.offences,
                    reason: r.reason.clone(),
                    origin: r.origin.clone(),
                    created: r.created,
                },
            );
            report.restored += 1;
        }
        report
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn book() -> BanBook {
        BanBook::new(BanPolicy {
            default_duration: 100,
            escalation_factor: 2,
            max_duration: 1000,
            ipv6_prefix: 64,
            allowlist: vec![c("192.0.2.0/24"), c("2001:db8:aaaa::/48"), c("10.9.9.9")],
        })
    }

    #[test]
    fn first_ban_and_escalation() {
        let mut b = book();
        let d = b
            .request(ip("198.51.100.7"), None, "scan", "api", 1000)
            .unwrap();
        assert_eq!(d.ban.cidr, c("198.51.100.7"));
        assert_eq!(d.ban.timeout, Some(100));
        assert!(d.kernel_update);
        assert_eq!(d.record.offences, 1);
        assert_eq!(d.record.until, 1100);
        // Expired, then offends again: 200 s, then 400, 800, capped 1000.
        assert_eq!(b.expire(1100), vec![c("198.51.100.7")]);
        let mut now = 1100;
        for want in [200, 400, 800, 1000, 1000] {
            let d = b
                .request(ip("198.51.100.7"), None, "scan", "api", now)
                .unwrap();
            assert_eq!(d.ban.timeout, Some(want));
            now += want;
        }
        assert_eq!(b.offences(&c("198.51.100.7")), 6);
    }

    #[test]
    fn explicit_duration_escalates_but_long_base_is_kept() {
        let p = book().policy().clone();
        assert_eq!(p.escalated(10, 1), 10);
        assert_eq!(p.escalated(10, 3), 40);
        assert_eq!(p.escalated(5000, 1), 5000);
        assert_eq!(p.escalated(5000, 9), 5000);
        assert_eq!(p.escalated(10, u32::MAX), 1000);
        let none = BanPolicy {
            escalation_factor: 1,
            ..p.clone()
        };
        assert_eq!(none.escalated(10, 50), 10);
        let zero = BanPolicy {
            escalation_factor: 0,
            ..p
        };
        assert_eq!(zero.escalated(10, 50), 10);
    }

    #[test]
    fn ipv6_addresses_are_widened_prefixes_are_not() {
        let mut b = book();
        let d = b
            .request(ip("2001:db8:1:2:3:4:5:6"), None, "r", "rule:1", 0)
            .unwrap();
        assert_eq!(d.ban.cidr, c("2001:db8:1:2::/64"));
        let d = b
            .request(c("2001:db8:5::1"), Some(10), "r", "api", 0)
            .unwrap();
        assert_eq!(d.ban.cidr, c("2001:db8:5::1"));
        // Another address of the same /64: a repeat of the same ban.
        let d = b
            .request(ip("2001:db8:1:2::99"), None, "r", "rule:1", 10)
            .unwrap();
        assert_eq!(d.ban.cidr, c("2001:db8:1:2::/64"));
        assert_eq!(d.record.offences, 2);
        assert!(d.kernel_update);
        assert_eq!(d.ban.timeout, Some(200));
    }

    #[test]
    fn allowlist_always_wins() {
        let mut b = book();
        for (t, entry) in [
            (BanTarget::Addr(ip("192.0.2.55")), "192.0.2.0/24"),
            (BanTarget::Cidr(c("192.0.0.0/16")), "192.0.2.0/24"),
            (BanTarget::Cidr(c("10.0.0.0/8")), "10.9.9.9"),
            (BanTarget::Cidr(c("0.0.0.0/0")), "192.0.2.0/24"),
            // Widened to 2001:db8:aaaa:1::/64, inside the /48.
            (
                BanTarget::Addr(ip("2001:db8:aaaa:1::5")),
                "2001:db8:aaaa::/48",
            ),
        ] {
            let e = b.request(t, None, "x", "api", 0).unwrap_err();
            match &e {
                BanRefused::Allowlisted { entry: got, .. } => assert_eq!(*got, c(entry)),
                other => panic!("{other:?}"),
            }
            assert!(e.to_string().contains(entry), "{e}");
        }
        assert!(b.is_empty());
        assert_eq!(b.offences(&c("10.0.0.0/8")), 0);
    }

    #[test]
    fn zero_duration_refused() {
        let mut b = book();
        let e = b.request(ip("198.51.100.1"), Some(0), "", "api", 0);
        assert_eq!(
            e,
            Err(BanRefused::ZeroDuration {
                target: c("198.51.100.1")
            })
        );
    }

    #[test]
    fn repeat_extends_only_when_longer() {
        let mut b = book();
        b.request(ip("198.51.100.7"), Some(500), "a", "api", 0)
            .unwrap();
        // Second offence: 2 * 100 = 200 s from t=10 ends at 210 < 500.
        let d = b.request(ip("198.51.100.7"), None, "b", "api", 10).unwrap();
        assert!(!d.kernel_update);
        assert_eq!(d.record.until, 500);
        assert_eq!(d.record.reason, "a");
        // Third: 400 s from t=200 ends at 600 > 500.
        let d = b
            .request(ip("198.51.100.7"), None, "c", "api", 200)
            .unwrap();
        assert!(d.kernel_update);
        assert_eq!(d.ban.timeout, Some(400));
        assert_eq!(d.record.until, 600);
        assert_eq!(d.record.reason, "c");
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn covering_and_covered_bans() {
        let mut b = book();
        b.request(ip("198.51.100.7"), Some(900), "a", "api", 0)
            .unwrap();
        b.request(ip("198.51.100.9"), Some(50), "a", "api", 0)
            .unwrap();
        b.request(ip("198.51.101.1"), Some(50), "a", "api", 0)
            .unwrap();
        let d = b
            .request(c("198.51.100.0/24"), Some(100), "net", "api", 0)
            .unwrap();
        assert_eq!(d.replaces, vec![c("198.51.100.7"), c("198.51.100.9")]);
        // Keeps the longest of the bans it replaces.
        assert_eq!(d.record.until, 900);
        assert_eq!(b.len(), 2);
        // An address inside the /24 extends the /24 only if longer.
        let d = b
            .request(ip("198.51.100.200"), None, "a", "api", 1)
            .unwrap();
        assert_eq!(d.ban.cidr, c("198.51.100.0/24"));
        assert!(!d.kernel_update);
        assert_eq!(b.len(), 2);
        assert!(b.get(&c("198.51.100.200")).is_none());
    }

    #[test]
    fn expired_bans_do_not_block_new_ones() {
        let mut b = book();
        b.request(c("198.51.100.0/24"), Some(10), "a", "api", 0)
            .unwrap();
        // Not yet expired in the book, but past its time.
        let d = b
            .request(ip("198.51.100.3"), Some(10), "b", "api", 20)
            .unwrap();
        assert_eq!(d.ban.cidr, c("198.51.100.3"));
        assert!(d.replaces.is_empty());
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn expiry_remove_and_active() {
        let mut b = book();
        b.request(ip("198.51.100.1"), Some(10), "", "api", 0)
            .unwrap();
        b.request(ip("198.51.100.2"), Some(20), "", "api", 0)
            .unwrap();
        b.request(ip("198.51.100.3"), Some(30), "", "api", 0)
            .unwrap();
        assert_eq!(b.active(15).count(), 2);
        assert_eq!(b.expire(20), vec![c("198.51.100.1"), c("198.51.100.2")]);
        assert!(b.remove(&c("198.51.100.3")));
        assert!(!b.remove(&c("198.51.100.3")));
        assert!(b.is_empty());
        assert!(b.expire(100).is_empty());
        // Offences survive removal.
        assert_eq!(b.offences(&c("198.51.100.3")), 1);
    }

    #[test]
    fn offence_table_is_bounded() {
        let mut b = BanBook::with_capacity(book().policy().clone(), 3);
        for i in 1..=5u8 {
            let a = IpAddr::V4(Ipv4Addr::new(198, 51, 100, i));
            b.request(a, Some(1), "", "api", 0).unwrap();
        }
        assert_eq!(b.offences_evicted(), 2);
        assert_eq!(b.offences(&c("198.51.100.1")), 0);
        assert_eq!(b.offences(&c("198.51.100.5")), 1);
    }

    #[test]
    fn restore_skips_expired_allowlisted_and_overlapping() {
        let rec = |s: &str, until: u64, offences: u32| BanRecord {
            cidr: c(s),
            until,
            offences,
            reason: "r".into(),
            origin: "api".into(),
            created: 1,
        };
        let mut b = book();
        let report = b.restore(
            &[
                rec("198.51.100.7", 500, 3),
                rec("198.51.100.0/24", 500, 1),
                rec("203.0.113.1", 50, 4),
                rec("192.0.2.8", 500, 1),
                rec("2001:db8:1::/64", 600, 2),
            ],
            100,
        );
        assert_eq!(report.restored, 2);
        assert_eq!(report.expired, vec![c("203.0.113.1")]);
        assert_eq!(
            report.allowlisted,
            vec![(c("192.0.2.8"), c("192.0.2.0/24"))]
        );
        assert_eq!(report.overlapping, vec![c("198.51.100.7")]);
        assert_eq!(b.offences(&c("203.0.113.1")), 4);
        // The next offence of an expired record escalates from its count.
        let d = b.request(ip("203.0.113.1"), None, "", "api", 100).unwrap();
        assert_eq!(d.ban.timeout, Some(1000));
        let kb = b.kernel_bans(100);
        assert_eq!(kb.len(), 3);
        assert!(kb.contains(&Ban {
            cidr: c("2001:db8:1::/64"),
            timeout: Some(500)
        }));
    }

    #[test]
    fn new_allowlist_lifts_bans() {
        let mut b = book();
        b.request(ip("198.51.100.7"), None, "", "api", 0).unwrap();
        b.request(ip("203.0.113.7"), None, "", "api", 0).unwrap();
        let mut p = b.policy().clone();
        p.allowlist.push(c("203.0.113.0/24"));
        assert_eq!(b.set_policy(p), vec![c("203.0.113.7")]);
        assert_eq!(b.len(), 1);
    }

    fn arb_cidr() -> impl Strategy<Value = Cidr> {
        prop_oneof![
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| Cidr::network(IpAddr::V4(Ipv4Addr::from(a)), l)),
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| Cidr::network(IpAddr::V6(Ipv6Addr::from(a)), l)),
        ]
    }

    /// Requests drawn near the allowlist, so overlaps are common.
    fn arb_target(allow: Vec<Cidr>) -> impl Strategy<Value = BanTarget> {
        let n = allow.len().max(1);
        (0..n, any::<u128>(), 0u8..=128, any::<bool>(), any::<bool>()).prop_map(
            move |(i, noise, len, near, as_addr)| {
                let base = allow.get(i).map(|c| c.addr());
                let addr = match (near, base) {
                    (true, Some(IpAddr::V4(a))) => {
                        IpAddr::V4(Ipv4Addr::from(u32::from(a) ^ (noise as u32 & 0xffff)))
                    }
                    (true, Some(IpAddr::V6(a))) => IpAddr::V6(Ipv6Addr::from(
                        u128::from(a) ^ (noise & 0xffff_ffff_ffff_ffff_ffff),
                    )),
                    (_, _) if noise & 1 == 0 => IpAddr::V4(Ipv4Addr::from(noise as u32)),
                    _ => IpAddr::V6(Ipv6Addr::from(noise)),
                };
                if as_addr {
                    BanTarget::Addr(addr)
                } else {
                    BanTarget::Cidr(Cidr::network(addr, len))
                }
            },
        )
    }

    proptest! {
        #[test]
        fn allowlisted_addresses_are_never_banned(
            (allow, targets) in proptest::collection::vec(arb_cidr(), 1..4)
                .prop_flat_map(|allow| {
                    let t = proptest::collection::vec(arb_target(allow.clone()), 1..40);
                    (Just(allow), t)
                }),
            v6_prefix in 32u8..=128,
        ) {
            let mut b = BanBook::new(BanPolicy {
                ipv6_prefix: v6_prefix,
                allowlist: allow.clone(),
                ..BanPolicy::default()
            });
            for (i, t) in targets.iter().enumerate() {
                let now = i as u64;
                match b.request(*t, Some(1 + i as u64 % 7), "p", "test", now) {
                    Ok(d) => {
                        for a in &allow {
                            prop_assert!(!a.contains(&d.ban.cidr) && !d.ban.cidr.contains(a),
                                "{} banned over allowlisted {}", d.ban.cidr, a);
                        }
                    }
                    Err(BanRefused::Allowlisted { target, entry }) => {
                        prop_assert!(allow.contains(&entry));
                        prop_assert!(entry.contains(&target) || target.contains(&entry));
                    }
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
                // Every held ban stays clear of the allowlist and of the
                // others (nft refuses overlapping intervals).
                let held: Vec<Cidr> = b.active(0).map(|(c, _)| *c).collect();
                for (j, x) in held.iter().enumerate() {
                    prop_assert!(b.policy().allowlisted(x).is_none());
                    for y in held.iter().skip(j + 1) {
                        prop_assert!(!x.contains(y) && !y.contains(x), "{x} overlaps {y}");
                    }
                }
            }
        }
    }
}
