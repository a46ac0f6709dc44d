//! The policy as written (TOML, serde) and as validated (typed, every
//! address parsed). Validation names the key of each problem, like
//! `rules[3].to.ports: port 70000 out of range`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use crate::addr::{normalise, Cidr};

/// A policy that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The TOML does not parse or does not fit the schema (wrong type,
    /// unknown key); the message names the key and the line.
    #[error("{0}")]
    Syntax(String),
    /// The TOML fits the schema but says something invalid; every problem
    /// found is listed, each naming its key.
    #[error("{}", join(.0))]
    Invalid(Vec<Problem>),
}

fn join(p: &[Problem]) -> String {
    p.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One validation problem: the key path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path in the TOML, e.g. `rules[3].to.ports`.
    pub key: String,
    /// What is wrong, naming the offending value.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

// ---------------------------------------------------------------- raw TOML

/// A policy as written, before validation: what a TOML table with the
/// policy schema deserialises to. Public so that a bigger file (the
/// daemon's config) can embed a policy and have TOML name the line of a
/// syntax error; [`Policy::from_source`] validates it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySource {
    #[serde(default)]
    table: RawTable,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    zones: BTreeMap<String, RawZone>,
    #[serde(default)]
    allowlist: RawAddrs,
    #[serde(default)]
    bans: RawBans,
    queue: Option<RawQueue>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: Option<String>,
    priority: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    input: Option<Verdict>,
    forward: Option<Verdict>,
    output: Option<Verdict>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    #[serde(default)]
    interfaces: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddrs {
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    host_addresses: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBans {
    timeout: Option<String>,
    ipv6_prefix: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    numbers: Vec<u16>,
    #[serde(default)]
    chain: Option<Hook>,
    #[serde(default)]
    fail_open: Option<bool>,
    #[serde(default)]
    queue_statement: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    action: Option<Action>,
    chain: Option<Hook>,
    protocol: Option<Protocol>,
    #[serde(default)]
    from: RawEndpoint,
    #[serde(default)]
    to: RawEndpoint,
    #[serde(default)]
    state: Vec<CtState>,
    #[serde(default)]
    icmp_types: Vec<String>,
    rate: Option<String>,
    burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    zone: Option<String>,
    addresses: Option<Vec<String>>,
    ports: Option<Vec<RawPort>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPort {
    Num(i64),
    Text(String),
}

// ------------------------------------------------------------ typed model

/// A base chain's default verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Let unmatched packets through.
    Accept,
    /// Silently discard unmatched packets.
    Drop,
}

impl Verdict {
    /// The nft keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Drop => "drop",
        }
    }
}

/// The netfilter hook a rule lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// Packets to this host.
    Input,
    /// Packets routed through this host.
    Forward,
    /// Packets from this host.
    Output,
}

impl Hook {
    /// All hooks, in chain order.
    pub const ALL: [Hook; 3] = [Hook::Input, Hook::Forward, Hook::Output];

    /// The nft hook and chain name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }
}

/// What a rule does with a matching packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Accept.
    Allow,
    /// Drop silently.
    Deny,
    /// Refuse: TCP reset for TCP rules, ICMP administratively prohibited
    /// otherwise, so clients fail fast instead of timing out.
    Reject,
}

/// The layer-4 protocol a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (IPv4 only).
    Icmp,
    /// ICMPv6 (IPv6 only).
    Icmpv6,
    /// Any protocol.
    Any,
}

/// A conntrack state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtState {
    /// First packet of a connection.
    New,
    /// Part of a known connection.
    Established,
    /// Related to a known connection (FTP data, ICMP errors).
    Related,
    /// Not part of any valid connection.
    Invalid,
}

impl CtState {
    /// The nft keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Invalid => "invalid",
        }
    }
}

/// An IP family, for rules and sets that must name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`ip` in nft).
    V4,
    /// IPv6 (`ip6` in nft).
    V6,
}

/// A port or an inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRange {
    /// First port.
    pub lo: u16,
    /// Last port (equal to `lo` for a single port).
    pub hi: u16,
}

/// A rate limit: `count` packets per `per` with an optional burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Packets per unit.
    pub count: u32,
    /// `second`, `minute`, `hour`, `day` or `week`.
    pub per: String,
    /// Packets allowed above the rate in a burst (nft's default when None).
    pub burst: Option<u32>,
}

/// IPv4 and IPv6 prefixes, kept apart because nft matches them with
/// different payload expressions and sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrList {
    /// IPv4 prefixes, normalised (sorted, no duplicates or contained ones).
    pub v4: Vec<Cidr>,
    /// IPv6 prefixes, normalised.
    pub v6: Vec<Cidr>,
}

impl AddrList {
    /// True when no prefix is listed.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The prefixes of one family.
    pub fn of(&self, f: Family) -> &[Cidr] {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }
}

/// A zone: interfaces and/or addresses that rules refer to by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    /// Interface names (nft wildcards such as `eth*` allowed).
    pub interfaces: Vec<String>,
    /// Addresses.
    pub addresses: AddrList,
}

/// One side of a rule: where packets come from or go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Interfaces (from the zone): incoming for `from`, outgoing for `to`.
    pub interfaces: Vec<String>,
    /// Addresses (from the zone or listed); empty means any.
    pub addresses: AddrList,
    /// Ports; empty means any.
    pub ports: Vec<PortRange>,
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Name (given or `rule<N>`), unique in the policy.
    pub name: String,
    /// Hook (chain) the rule is in.
    pub chain: Hook,
    /// Verdict on match.
    pub action: Action,
    /// Layer-4 protocol.
    pub protocol: Protocol,
    /// Source side.
    pub from: Endpoint,
    /// Destination side.
    pub to: Endpoint,
    /// Conntrack states; empty means any.
    pub state: Vec<CtState>,
    /// ICMP or ICMPv6 type names; empty means any.
    pub icmp_types: Vec<String>,
    /// Per-source rate limit.
    pub rate: Option<Rate>,
    /// The IP families the rule is compiled for: empty means one
    /// family-agnostic nft rule.
    pub families: Vec<Family>,
}

/// Ban-set settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bans {
    /// Default ban duration in seconds (the sets' timeout).
    pub timeout: u64,
    /// Prefix length IPv6 bans are widened to.
    pub ipv6_prefix: u8,
}

/// The NFQUEUE hook.
///
/// This kernel has no nft `queue` statement (CONFIG_NFT_QUEUE unset), and
/// the xt `NFQUEUE` target cannot be expressed in nft JSON, so by default
/// the queue stays out of the compiled batch and the binary installs it
/// with iptables-nft (see [`crate::compile::queue_iptables_args`]). With
/// `queue_statement = true` it is compiled into the table as a native
/// `queue` rule in its own base chain, for kernels that have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Queue numbers (load-balanced across when several, contiguous).
    pub numbers: Vec<u16>,
    /// Hook whose accepted traffic is queued.
    pub chain: Hook,
    /// Fail open: packets pass when no program listens on the queue.
    pub fail_open: bool,
    /// Compile a native nft `queue` statement into the table.
    pub queue_statement: bool,
}

/// A validated firewall policy: everything [`crate::compile`] needs, every
/// address parsed, every name checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Table name (in the `inet` family); Rampart owns this table only.
    pub table: String,
    /// Base chain priority.
    pub priority: i32,
    /// Default verdicts per hook.
    pub defaults: BTreeMap<Hook, Verdict>,
    /// Zones by name.
    pub zones: BTreeMap<String, Zone>,
    /// Addresses that are accepted before the ban sets are consulted.
    pub allowlist: AddrList,
    /// Add the host's own addresses to the allowlist (the binary looks
    /// them up and calls [`Policy::allow_addresses`]; this crate does no
    /// I/O).
    pub allow_host_addresses: bool,
    /// Ban-set settings.
    pub bans: Bans,
    /// NFQUEUE hook, if any.
    pub queue: Option<Queue>,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

/// ICMP type names nft knows (`icmp type`).
pub const ICMP_TYPES: &[&str] = &[
    "echo-reply",
    "destination-unreachable",
    "source-quench",
    "redirect",
    "echo-request",
    "router-advertisement",
    "router-solicitation",
    "time-exceeded",
    "parameter-problem",
    "timestamp-request",
    "timestamp-reply",
    "info-request",
    "info-reply",
    "address-mask-request",
    "address-mask-reply",
];

/// ICMPv6 type names nft knows (`icmpv6 type`).
pub const ICMPV6_TYPES: &[&str] = &[
    "destination-unreachable",
    "packet-too-big",
    "time-exceeded",
    "parameter-problem",
    "echo-request",
    "echo-reply",
    "mld-listener-query",
    "mld-listener-report",
    "mld-listener-done",
    "nd-router-solicit",
    "nd-router-advert",
    "nd-neighbor-solicit",
    "nd-neighbor-advert",
    "nd-redirect",
    "router-renumbering",
    "ind-neighbor-solicit",
    "ind-neighbor-advert",
    "mld2-listener-report",
];

const RATE_UNITS: &[&str] = &["second", "minute", "hour", "day", "week"];

/// Parses a duration: seconds (`3600`) or a number with a unit suffix
/// `s`, `m`, `h`, `d` (`90s`, `10m`, `1h`, `7d`). Zero is refused.
pub fn parse_duration(s: &str) -> Option<u64> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().last()? {
        (i, 's') => (&t[..i], 1),
        (i, 'm') => (&t[..i], 60),
        (i, 'h') => (&t[..i], 3600),
        (i, 'd') => (&t[..i], 86_400),
        _ => (t, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    n.checked_mul(mul).filter(|&v| v > 0)
}

fn valid_ident(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_ifname(s: &str) -> bool {
    // IFNAMSIZ is 16 with the NUL; nft allows a trailing `*` wildcard.
    let base = s.strip_suffix('*').unwrap_or(s);
    !base.is_empty()
        && s.len() <= 15
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn err(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    fn addrs(&mut self, key: &str, list: &[String]) -> AddrList {
        let mut out = AddrList::default();
        for (i, s) in list.iter().enumerate() {
            match s.parse::<Cidr>() {
                Ok(c) if c.is_v4() => out.v4.push(c),
                Ok(c) => out.v6.push(c),
                Err(e) => self.err(format!("{key}[{i}]"), e.to_string()),
            }
        }
        normalise(&mut out.v4);
        normalise(&mut out.v6);
        out
    }

    fn ifnames(&mut self, key: &str, list: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            if valid_ifname(s) {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            } else {
                self.err(
                    format!("{key}[{i}]"),
                    format!("invalid interface name {s:?}"),
                );
            }
        }
        out
    }

    fn ports(&mut self, key: &str, list: &[RawPort]) -> Vec<PortRange> {
        if list.is_empty() {
            self.err(key, "empty port list (leave the key out to match any port)");
        }
        let mut out = Vec::new();
        let one = |v: i64| -> Result<u16, String> {
            if (1..=65535).contains(&v) {
                Ok(v as u16)
            } else {
                Err(format!("port {v} out of range"))
            }
        };
        for p in list {
            let r = match p {
                RawPort::Num(n) => one(*n).map(|p| PortRange { lo: p, hi: p }),
                RawPort::Text(t) => {
                    let (a, b) = t.split_once('-').unwrap_or((t, t));
                    match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
                        (Ok(a), Ok(b)) => match (one(a), one(b)) {
                            (Ok(lo), Ok(hi)) if lo <= hi => Ok(PortRange { lo, hi }),
                            (Ok(_), Ok(_)) => Err(format!("port range {t:?} is reversed")),
                            (Err(e), _) | (_, Err(e)) => Err(e),
                        },
                        _ => Err(format!("invalid port {t:?}")),
                    }
                }
            };
            match r {
                Ok(r) => out.push(r),
                Err(e) => self.err(key, e),
            }
        }
        out.sort();
        out.dedup();
        // Overlapping ranges would make nft refuse the anonymous set.
        let mut merged: Vec<PortRange> = Vec::new();
        for r in out {
            match merged.last_mut() {
                Some(last) if r.lo <= last.hi.saturating_add(1) => last.hi = last.hi.max(r.hi),
                _ => merged.push(r),
            }
        }
        merged
    }

    fn endpoint(
        &mut self,
        key: &str,
        raw: &RawEndpoint,
        zones: &BTreeMap<String, Zone>,
    ) -> Endpoint {
        let mut ep = Endpoint::default();
        if raw.zone.is_some() && raw.addresses.is_some() {
            self.err(
                key,
                "give either `zone` or `addresses`, not both (put the addresses in the zone)",
            );
        }
        if let Some(z) = &raw.zone {
            match zones.get(z) {
                Some(zone) => {
                    ep.interfaces = zone.interfaces.clone();
                    ep.addresses = zone.addresses.clone();
                }
                None => self.err(format!("{key}.zone"), format!("unknown zone {z:?}")),
            }
        }
        if let Some(a) = &raw.addresses {
            if a.is_empty() {
                self.err(
                    format!("{key}.addresses"),
                    "empty address list (leave the key out to match any address)",
                );
            }
            ep.addresses = self.addrs(&format!("{key}.addresses"), a);
        }
        if let Some(p) = &raw.ports {
            ep.ports = self.ports(&format!("{key}.ports"), p);
        }
        ep
    }

    fn rate(&mut self, key: &str, s: &str, burst: Option<u32>) -> Option<Rate> {
        let parsed = s.split_once('/').and_then(|(n, u)| {
            let n: u32 = n.trim().parse().ok().filter(|&n| n > 0)?;
            let u = u.trim();
            RATE_UNITS.contains(&u).then(|| (n, u.to_string()))
        });
        match parsed {
            Some((count, per)) => Some(Rate { count, per, burst }),
            None => {
                self.err(
                    key,
                    format!("invalid rate {s:?} (expected N/second, N/minute, N/hour, N/day or N/week, N > 0)"),
                );
                None
            }
        }
    }
}

fn families_of(ep: &Endpoint) -> Option<BTreeSet<Family>> {
    if ep.addresses.is_empty() {
        return None;
    }
    let mut s = BTreeSet::new();
    if !ep.addresses.v4.is_empty() {
        s.insert(Family::V4);
    }
    if !ep.addresses.v6.is_empty() {
        s.insert(Family::V6);
    }
    Some(s)
}

impl Policy {
    /// Things that are valid but probably a mistake, for `fw check` to
    /// print: a default-drop hook with no rule accepting established
    /// traffic cuts every reply (and the SSH session applying the policy).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for hook in [Hook::Input, Hook::Forward] {
            if self.defaults.get(&hook) != Some(&Verdict::Drop) {
                continue;
            }
            let allows_established = self.rules.iter().any(|r| {
                r.chain == hook
                    && r.action == Action::Allow
                    && r.state.contains(&CtState::Established)
                    && r.from.addresses.is_empty()
                    && r.from.interfaces.is_empty()
            });
            if !allows_established {
                out.push(format!(
                    "defaults.{0}: drop, but no {0} rule allows state \"established\" from anywhere: replies to this host's connections (and the current SSH session) would be dropped; apply with --confirm-within",
                    hook.as_str()
                ));
            }
        }
        out
    }

    /// Adds addresses (the host's own, typically) to the allowlist as
    /// single-address prefixes, keeping it normalised.
    pub fn allow_addresses(&mut self, addrs: impl IntoIterator<Item = std::net::IpAddr>) {
        for a in addrs {
            let c = Cidr::host(a);
            if c.is_v4() {
                self.allowlist.v4.push(c);
            } else {
                self.allowlist.v6.push(c);
            }
        }
        normalise(&mut self.allowlist.v4);
        normalise(&mut self.allowlist.v6);
    }

    /// Validates a policy embedded in another file; problems name keys
    /// relative to the embedded table.
    pub fn from_source(src: PolicySource) -> Result<Policy, PolicyError> {
        Policy::validate(src)
    }

    /// Parses and validates a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let raw: PolicySource = toml::from_str(text)
            .map_err(|e| PolicyError::Syntax(e.to_string().trim().to_string()))?;
        Policy::validate(raw)
    }

    fn validate(raw: PolicySource) -> Result<Policy, PolicyError> {
        let mut c = Checker {
            problems: Vec::new(),
        };
        let table = raw.table.name.unwrap_or_else(|| "rampart".to_string());
        if !valid_ident(&table, 32) {
            c.err(
                "table.name",
                format!("invalid table name {table:?} (letters, digits, _ and -, starting with a letter, at most 32)"),
            );
        }
        let priority = raw.table.priority.unwrap_or(0);
        let mut defaults = BTreeMap::new();
        defaults.insert(Hook::Input, raw.defaults.input.unwrap_or(Verdict::Accept));
        defaults.insert(
            Hook::Forward,
            raw.defaults.forward.unwrap_or(Verdict::Accept),
        );
        defaults.insert(Hook::Output, raw.defaults.output.unwrap_or(Verdict::Accept));

        let mut zones = BTreeMap::new();
        for (name, z) in &raw.zones {
            let key = format!("zones.{name}");
            if !valid_ident(name, 32) {
                c.err(&key, format!("invalid zone name {name:?}"));
            }
            if z.interfaces.is_empty() && z.addresses.is_empty() {
                c.err(&key, "a zone needs interfaces or addresses");
            }
            let zone = Zone {
                interfaces: c.ifnames(&format!("{key}.interfaces"), &z.interfaces),
                addresses: c.addrs(&format!("{key}.addresses"), &z.addresses),
            };
            zones.insert(name.clone(), zone);
        }

        let allowlist = c.addrs("allowlist.addresses", &raw.allowlist.addresses);

        let timeout = match &raw.bans.timeout {
            None => 3600,
            Some(t) => parse_duration(t).unwrap_or_else(|| {
                c.err(
                    "bans.timeout",
                    format!("invalid duration {t:?} (e.g. 3600, 90s, 10m, 1h, 7d)"),
                );
                3600
            }),
        };
        let ipv6_prefix = raw.bans.ipv6_prefix.unwrap_or(64);
        if !(1..=128).contains(&ipv6_prefix) {
            c.err(
                "bans.ipv6_prefix",
                format!("prefix length {ipv6_prefix} out of range 1..=128"),
            );
        }

        let queue = raw.queue.map(|q| {
            let mut numbers = q.numbers.clone();
            numbers.sort_unstable();
            numbers.dedup();
            if numbers.is_empty() {
                c.err("queue.numbers", "empty queue list");
            } else if numbers
                .windows(2)
                .any(|w| w[0].checked_add(1) != Some(w[1]))
            {
                c.err(
                    "queue.numbers",
                    format!(
                        "queues {numbers:?} are not contiguous (NFQUEUE balances over a range)"
                    ),
                );
            }
            Queue {
                numbers,
                chain: q.chain.unwrap_or(Hook::Forward),
                fail_open: q.fail_open.unwrap_or(true),
                queue_statement: q.queue_statement,
            }
        });

        let mut rules = Vec::new();
        let mut names = BTreeSet::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let key = format!("rules[{i}]");
            let name = r.name.clone().unwrap_or_else(|| format!("rule{i}"));
            if !valid_ident(&name, 64) {
                c.err(format!("{key}.name"), format!("invalid rule name {name:?}"));
            }
            if !names.insert(name.clone()) {
                c.err(
                    format!("{key}.name"),
                    format!("duplicate rule name {name:?}"),
                );
            }
            let Some(action) = r.action else {
                c.err(
                    format!("{key}.action"),
                    "missing action (allow, deny or reject)",
                );
                continue;
            };
            let chain = r.chain.unwrap_or(Hook::Input);
            let protocol = r.protocol.unwrap_or(Protocol::Any);
            let from = c.endpoint(&format!("{key}.from"), &r.from, &zones);
            let to = c.endpoint(&format!("{key}.to"), &r.to, &zones);
            for (side, ep) in [("from", &from), ("to", &to)] {
                if !ep.ports.is_empty() && !matches!(protocol, Protocol::Tcp | Protocol::Udp) {
                    c.err(
                        format!("{key}.{side}.ports"),
                        "ports need protocol = \"tcp\" or \"udp\"",
                    );
                }
            }
            if !from.interfaces.is_empty() && chain == Hook::Output {
                c.err(
                    format!("{key}.from.zone"),
                    "an output rule cannot match incoming interfaces",
                );
            }
            if !to.interfaces.is_empty() && chain == Hook::Input {
                c.err(
                    format!("{key}.to.zone"),
                    "an input rule cannot match outgoing interfaces",
                );
            }
            let mut icmp_types = Vec::new();
            if !r.icmp_types.is_empty() {
                let known = match protocol {
                    Protocol::Icmp => Some(ICMP_TYPES),
                    Protocol::Icmpv6 => Some(ICMPV6_TYPES),
                    _ => None,
                };
                match known {
                    None => c.err(
                        format!("{key}.icmp_types"),
                        "icmp_types need protocol = \"icmp\" or \"icmpv6\"",
                    ),
                    Some(known) => {
                        for (j, t) in r.icmp_types.iter().enumerate() {
                            if known.contains(&t.as_str()) {
                                if !icmp_types.contains(t) {
                                    icmp_types.push(t.clone());
                                }
                            } else {
                                c.err(
                                    format!("{key}.icmp_types[{j}]"),
                                    format!("unknown ICMP type {t:?}"),
                                );
                            }
                        }
                    }
                }
            }
            let mut state = r.state.clone();
            state.sort();
            state.dedup();
            let rate = match &r.rate {
                Some(s) => c.rate(&format!("{key}.rate"), s, r.burst),
                None => {
                    if r.burst.is_some() {
                        c.err(format!("{key}.burst"), "burst needs a rate");
                    }
                    None
                }
            };
            // Families: the intersection of what each constraint allows.
            let mut fam: Option<BTreeSet<Family>> = None;
            let mut narrow = |s: BTreeSet<Family>| {
                fam = Some(match fam.take() {
                    None => s,
                    Some(f) => f.intersection(&s).copied().collect(),
                });
            };
            if let Some(s) = families_of(&from) {
                narrow(s);
            }
            if let Some(s) = families_of(&to) {
                narrow(s);
            }
            match protocol {
                Protocol::Icmp => narrow([Family::V4].into()),
                Protocol::Icmpv6 => narrow([Family::V6].into()),
                _ => {}
            }
            let families: Vec<Family> = match fam {
                Some(f) if f.is_empty() => {
                    c.err(
                        &key,
                        "conflicting families: its addresses and protocol have no IP version in common",
                    );
                    continue;
                }
                Some(f) => f.into_iter().collect(),
                // A per-source limit needs a family-specific key.
                None if rate.is_some() => vec![Family::V4, Family::V6],
                None => Vec::new(),
            };
            rules.push(Rule {
                name,
                chain,
                action,
                protocol,
                from,
                to,
                state,
                icmp_types,
                rate,
                families,
            });
        }
        if c.problems.is_empty() {
            Ok(Policy {
                table,
                priority,
                defaults,
                zones,
                allowlist,
                allow_host_addresses: raw.allowlist.host_addresses,
                bans: Bans {
                    timeout,
                    ipv6_prefix,
                },
                queue,
                rules,
            })
        } else {
            Err(PolicyError::Invalid(c.problems))
        }
    }
}
