//! Compilation of a [`Policy`] to one nftables JSON batch (the schema of
//! libnftables-json(5)), and batched ban-set updates.
//!
//! The batch only ever names Rampart's own table: it adds the table (so the
//! delete cannot fail when it is absent), deletes it, and recreates it with
//! its sets, chains and rules. nft runs a batch as one transaction, so the
//! kernel goes from the old table to the new one atomically and every other
//! table is left alone; there is never a `flush ruleset`.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::addr::{widen, Cidr};
use crate::model::{Action, Family, Hook, Policy, PortRange, Protocol, Rule};

/// The address family of Rampart's table: `inet` covers IPv4 and IPv6 with
/// one set of chains.
pub const FAMILY: &str = "inet";

/// Names of the sets every compiled table carries.
pub mod set_names {
    /// Banned IPv4 addresses and prefixes.
    pub const BANS_V4: &str = "bans_v4";
    /// Banned IPv6 addresses and prefixes.
    pub const BANS_V6: &str = "bans_v6";
    /// IPv4 allowlist (accepted before the ban check).
    pub const ALLOW_V4: &str = "allow_v4";
    /// IPv6 allowlist.
    pub const ALLOW_V6: &str = "allow_v6";
}

/// Comment prefix of rules Rampart compiles; [`crate::diff`] keys rules by
/// their comment, which carries the rule name and a hash of its body.
pub const COMMENT_PREFIX: &str = "rampart:";

/// The packet mark an inline worker sets (with an accept verdict) on a
/// packet a `reject` rule matched: the table's `ips_reject` chain, after
/// the queue, rejects marked packets, so the kernel itself builds the TCP
/// reset or ICMP unreachable with the right addresses and checksums.
pub const REJECT_MARK: u32 = 0x5250_4a54;

/// Timeout of the entries of per-source rate-limit sets: a source idle this
/// long is forgotten, which bounds the sets' memory.
pub const RATE_SET_TIMEOUT: u64 = 60;

/// Size cap of each per-source rate-limit set.
pub const RATE_SET_SIZE: u64 = 65535;

fn fam_proto(f: Family) -> &'static str {
    match f {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    }
}

fn fam_addr_type(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4_addr",
        Family::V6 => "ipv6_addr",
    }
}

fn fam_suffix(f: Family) -> &'static str {
    match f {
        Family::V4 => "v4",
        Family::V6 => "v6",
    }
}

/// The JSON for one prefix: a plain address string for a single address,
/// a `prefix` object otherwise.
pub fn cidr_json(c: &Cidr) -> Value {
    if c.is_host() {
        json!(c.addr().to_string())
    } else {
        json!({"prefix": {"addr": c.addr().to_string(), "len": c.prefix_len()}})
    }
}

fn port_json(p: &PortRange) -> Value {
    if p.lo == p.hi {
        json!(p.lo)
    } else {
        json!({"range": [p.lo, p.hi]})
    }
}

/// One value as is, several as an anonymous set (what nft itself lists).
fn one_or_set(mut v: Vec<Value>) -> Value {
    if v.len() == 1 {
        v.pop().unwrap_or(Value::Null)
    } else {
        json!({"set": v})
    }
}

fn matches(left: Value, right: Value) -> Value {
    json!({"match": {"op": "==", "left": left, "right": right}})
}

fn payload(protocol: &str, field: &str) -> Value {
    json!({"payload": {"protocol": protocol, "field": field}})
}

fn meta(key: &str) -> Value {
    json!({"meta": {"key": key}})
}

fn table_obj(p: &Policy) -> Value {
    json!({"family": FAMILY, "name": p.table})
}

fn set_obj(p: &Policy, name: &str, f: Family, flags: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("family".into(), json!(FAMILY));
    m.insert("table".into(), json!(p.table));
    m.insert("name".into(), json!(name));
    m.insert("type".into(), json!(fam_addr_type(f)));
    m.insert("flags".into(), json!(flags));
    m
}

fn rule_cmd(p: &Policy, chain: &str, expr: Vec<Value>, comment: String) -> Value {
    json!({"add": {"rule": {
        "family": FAMILY, "table": p.table, "chain": chain,
        "expr": expr, "comment": comment,
    }}})
}

/// FNV-1a, 64 bits: a stable fingerprint of a rule body for its comment
/// (not security relevant; it only has to change when the body changes).
fn fingerprint(v: &Value) -> String {
    let text = v.to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn reject_stmt(r: &Rule) -> Value {
    match r.protocol {
        Protocol::Tcp => json!({"reject": {"type": "tcp reset"}}),
        _ => json!({"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
    }
}

/// Match expressions of one rule for one family (None: family-agnostic).
fn rule_matches(r: &Rule, fam: Option<Family>) -> Vec<Value> {
    let mut e = Vec::new();
    if !r.from.interfaces.is_empty() {
        let v = r.from.interfaces.iter().map(|i| json!(i)).collect();
        e.push(matches(meta("iifname"), one_or_set(v)));
    }
    if !r.to.interfaces.is_empty() {
        let v = r.to.interfaces.iter().map(|i| json!(i)).collect();
        e.push(matches(meta("oifname"), one_or_set(v)));
    }
    if let Some(f) = fam {
        e.push(matches(
            meta("nfproto"),
            json!(match f {
                Family::V4 => "ipv4",
                Family::V6 => "ipv6",
            }),
        ));
        for (ep, field) in [(&r.from, "saddr"), (&r.to, "daddr")] {
            let list = ep.addresses.of(f);
            if !list.is_empty() {
                let v = list.iter().map(cidr_json).collect();
                e.push(matches(payload(fam_proto(f), field), one_or_set(v)));
            }
        }
    }
    let l4 = match r.protocol {
        Protocol::Tcp => Some("tcp"),
        Protocol::Udp => Some("udp"),
        Protocol::Icmp => Some("icmp"),
        Protocol::Icmpv6 => Some("ipv6-icmp"),
        Protocol::Any => None,
    };
    if let Some(l4) = l4 {
        e.push(matches(meta("l4proto"), json!(l4)));
    }
    if let Protocol::Tcp | Protocol::Udp = r.protocol {
        let proto = if r.protocol == Protocol::Tcp {
            "tcp"
        } else {
            "udp"
        };
        for (ep, field) in [(&r.from, "sport"), (&r.to, "dport")] {
            if !ep.ports.is_empty() {
                let v = ep.ports.iter().map(port_json).collect();
                e.push(matches(payload(proto, field), one_or_set(v)));
            }
        }
    }
    if !r.icmp_types.is_empty() {
        let proto = if r.protocol == Protocol::Icmpv6 {
            "icmpv6"
        } else {
            "icmp"
        };
        let v = r.icmp_types.iter().map(|t| json!(t)).collect();
        e.push(matches(payload(proto, "type"), one_or_set(v)));
    }
    if !r.state.is_empty() {
        let v = r.state.iter().map(|s| json!(s.as_str())).collect();
        e.push(matches(json!({"ct": {"key": "state"}}), one_or_set(v)));
    }
    e
}

fn rate_set_name(index: usize, f: Family) -> String {
    format!("rl{index}_{}", fam_suffix(f))
}

/// Per-rule nft rules (one or two per family) and the dynamic sets the
/// rate limits need.
fn compile_rule(p: &Policy, index: usize, r: &Rule, sets: &mut Vec<Value>, rules: &mut Vec<Value>) {
    let fams: Vec<Option<Family>> = if r.families.is_empty() {
        vec![None]
    } else {
        r.families.iter().copied().map(Some).collect()
    };
    let verdict = match r.action {
        Action::Allow => json!({"accept": null}),
        Action::Deny => json!({"drop": null}),
        Action::Reject => reject_stmt(r),
    };
    for fam in fams {
        let base = rule_matches(r, fam);
        let tag = fam
            .map(|f| format!("/{}", fam_suffix(f)))
            .unwrap_or_default();
        let mut bodies: Vec<(Vec<Value>, &str)> = Vec::new();
        match (&r.rate, fam) {
            (Some(rate), Some(f)) => {
                let set = rate_set_name(index, f);
                let mut s = set_obj(p, &set, f, &["timeout"]);
                s.insert("timeout".into(), json!(RATE_SET_TIMEOUT));
                s.insert("size".into(), json!(RATE_SET_SIZE));
                sets.push(json!({"add": {"set": s}}));
                let mut limit = Map::new();
                limit.insert("rate".into(), json!(rate.count));
                limit.insert("per".into(), json!(rate.per));
                if let Some(b) = rate.burst {
                    limit.insert("burst".into(), json!(b));
                }
                limit.insert("inv".into(), json!(true));
                let mut over = base.clone();
                over.push(json!({"set": {
                    "op": "update",
                    "elem": payload(fam_proto(f), "saddr"),
                    "set": format!("@{set}"),
                    "stmt": [{"limit": limit}],
                }}));
                // Allow within the rate: sources over it are dropped, the
                // rest accepted. Deny/reject with a rate: only sources over
                // it get the verdict.
                let over_verdict = if r.action == Action::Allow {
                    json!({"drop": null})
                } else {
                    verdict.clone()
                };
                over.push(over_verdict);
                bodies.push((over, "rate"));
                if r.action == Action::Allow {
                    let mut ok = base;
                    ok.push(verdict.clone());
                    bodies.push((ok, ""));
                }
            }
            _ => {
                let mut b = base;
                b.push(verdict.clone());
                bodies.push((b, ""));
            }
        }
        for (expr, what) in bodies {
            let body = Value::Array(expr);
            let what = if what.is_empty() {
                String::new()
            } else {
                format!("/{what}")
            };
            let comment = format!(
                "{COMMENT_PREFIX}{}{tag}{what}#{}",
                r.name,
                fingerprint(&body)
            );
            let Value::Array(expr) = body else { continue };
            rules.push(rule_cmd(p, r.chain.as_str(), expr, comment));
        }
    }
}

/// Compiles a validated policy to one nft JSON batch (`{"nftables":[...]}`)
/// for `nft -j -f -`.
///
/// Order inside each of the `input` and `forward` chains: allowlisted
/// sources are accepted, banned sources dropped, then the policy's rules in
/// order, then the chain's default policy. `output` carries the rules only.
pub fn compile(p: &Policy) -> Value {
    let mut cmds = vec![
        json!({"add": {"table": table_obj(p)}}),
        json!({"delete": {"table": table_obj(p)}}),
        json!({"add": {"table": table_obj(p)}}),
    ];
    for f in [Family::V4, Family::V6] {
        let name = match f {
            Family::V4 => set_names::BANS_V4,
            Family::V6 => set_names::BANS_V6,
        };
        let mut s = set_obj(p, name, f, &["interval", "timeout"]);
        s.insert("timeout".into(), json!(p.bans.timeout));
        cmds.push(json!({"add": {"set": s}}));
    }
    for f in [Family::V4, Family::V6] {
        let name = match f {
            Family::V4 => set_names::ALLOW_V4,
            Family::V6 => set_names::ALLOW_V6,
        };
        let mut s = set_obj(p, name, f, &["interval"]);
        let elems: Vec<Value> = p.allowlist.of(f).iter().map(cidr_json).collect();
        if !elems.is_empty() {
            s.insert("elem".into(), Value::Array(elems));
        }
        cmds.push(json!({"add": {"set": s}}));
    }
    let mut rate_sets = Vec::new();
    let mut rules = Vec::new();
    for hook in Hook::ALL {
        if hook != Hook::Output {
            for f in [Family::V4, Family::V6] {
                let (allow, bans) = match f {
                    Family::V4 => (set_names::ALLOW_V4, set_names::BANS_V4),
                    Family::V6 => (set_names::ALLOW_V6, set_names::BANS_V6),
                };
                let saddr = payload(fam_proto(f), "saddr");
                rules.push(rule_cmd(
                    p,
                    hook.as_str(),
                    vec![
                        matches(saddr.clone(), json!(format!("@{allow}"))),
                        json!({"accept": null}),
                    ],
                    format!("{COMMENT_PREFIX}allowlist/{}", fam_suffix(f)),
                ));
                rules.push(rule_cmd(
                    p,
                    hook.as_str(),
                    vec![
                        matches(saddr, json!(format!("@{bans}"))),
                        json!({"drop": null}),
                    ],
                    format!("{COMMENT_PREFIX}bans/{}", fam_suffix(f)),
                ));
            }
        }
        for (i, r) in p.rules.iter().enumerate() {
            if r.chain == hook {
                compile_rule(p, i, r, &mut rate_sets, &mut rules);
            }
        }
    }
    cmds.extend(rate_sets);
    for hook in Hook::ALL {
        let policy = p
            .defaults
            .get(&hook)
            .map(|v| v.as_str())
            .unwrap_or("accept");
        cmds.push(json!({"add": {"chain": {
            "family": FAMILY, "table": p.table, "name": hook.as_str(),
            "type": "filter", "hook": hook.as_str(), "prio": p.priority, "policy": policy,
        }}}));
    }
    if let Some(q) = p.queue.as_ref() {
        // After the queue (native or xt, both at lower priorities): the
        // packets the inline worker marked for rejection.
        cmds.push(json!({"add": {"chain": {
            "family": FAMILY, "table": p.table, "name": "ips_reject",
            "type": "filter", "hook": q.chain.as_str(), "prio": p.priority.saturating_add(20),
            "policy": "accept",
        }}}));
        let mark = matches(meta("mark"), json!(REJECT_MARK));
        rules.push(rule_cmd(
            p,
            "ips_reject",
            vec![
                mark.clone(),
                matches(meta("l4proto"), json!("tcp")),
                json!({"reject": {"type": "tcp reset"}}),
            ],
            format!("{COMMENT_PREFIX}reject/tcp"),
        ));
        rules.push(rule_cmd(
            p,
            "ips_reject",
            vec![
                mark,
                json!({"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
            ],
            format!("{COMMENT_PREFIX}reject/other"),
        ));
    }
    if let Some(q) = p.queue.as_ref().filter(|q| q.queue_statement) {
        // Its own base chain after the filter chains: only packets the
        // policy accepted reach the queue.
        cmds.push(json!({"add": {"chain": {
            "family": FAMILY, "table": p.table, "name": "ips",
            "type": "filter", "hook": q.chain.as_str(), "prio": p.priority.saturating_add(10),
            "policy": "accept",
        }}}));
        let num = match (q.numbers.first(), q.numbers.last()) {
            (Some(a), Some(b)) if a != b => json!({"range": [a, b]}),
            (Some(a), _) => json!(a),
            _ => json!(0),
        };
        // Several queues are balanced by flow hash, like iptables'
        // --queue-balance (nft's `fanout` flag would pick by CPU instead).
        let mut stmt = Map::new();
        stmt.insert("num".into(), num);
        if q.fail_open {
            stmt.insert("flags".into(), json!(["bypass"]));
        }
        rules.push(rule_cmd(
            p,
            "ips",
            vec![json!({"queue": stmt})],
            format!("{COMMENT_PREFIX}queue"),
        ));
    }
    cmds.extend(rules);
    json!({"nftables": cmds})
}

/// The iptables-nft arguments (after the program name) that install the
/// NFQUEUE hook through the xt target, for kernels without nft `queue`:
/// `-I FORWARD -j NFQUEUE --queue-balance 0:1 --queue-bypass`. None when
/// the policy has no queue or compiles it natively.
pub fn queue_iptables_args(p: &Policy) -> Option<Vec<String>> {
    let q = p.queue.as_ref().filter(|q| !q.queue_statement)?;
    let (a, b) = (q.numbers.first()?, q.numbers.last()?);
    let mut v: Vec<String> = vec![
        "-I".into(),
        q.chain.as_str().to_uppercase(),
        "-j".into(),
        "NFQUEUE".into(),
    ];
    if a == b {
        v.extend(["--queue-num".into(), a.to_string()]);
    } else {
        v.extend(["--queue-balance".into(), format!("{a}:{b}")]);
    }
    if q.fail_open {
        v.push("--queue-bypass".into());
    }
    Some(v)
}

/// Whether a ban batch adds or removes elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanOp {
    /// Add elements (with their timeouts).
    Add,
    /// Delete elements.
    Delete,
}

/// One ban: a prefix and, for additions, its duration in seconds (None:
/// the set's default timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// What is banned.
    pub cidr: Cidr,
    /// Seconds until it expires (None or 0: the set's default timeout).
    pub timeout: Option<u64>,
}

impl Ban {
    /// A ban on one address, IPv6 widened to `v6_prefix` bits (see
    /// [`crate::addr::widen`]).
    pub fn address(addr: IpAddr, v6_prefix: u8, timeout: Option<u64>) -> Ban {
        Ban {
            cidr: widen(addr, v6_prefix),
            timeout,
        }
    }
}

/// One nft JSON batch adding or deleting ban elements in the table's
/// `bans_v4`/`bans_v6` sets: at most one command per set, however many
/// bans (each `nft` spawn costs ~45 ms, so updates must be batched).
/// Duplicates are dropped; None when there is nothing to do.
pub fn ban_elements(table: &str, op: BanOp, bans: &[Ban]) -> Option<Value> {
    let mut cmds = Vec::new();
    for (f, name) in [(true, set_names::BANS_V4), (false, set_names::BANS_V6)] {
        let mut seen = std::collections::BTreeSet::new();
        let elems: Vec<Value> = bans
            .iter()
            .filter(|b| b.cidr.is_v4() == f && seen.insert(b.cidr))
            .map(|b| match (op, b.timeout.filter(|&t| t > 0)) {
                (BanOp::Add, Some(t)) => json!({"elem": {"val": cidr_json(&b.cidr), "timeout": t}}),
                _ => cidr_json(&b.cidr),
            })
            .collect();
        if elems.is_empty() {
            continue;
        }
        let verb = match op {
            BanOp::Add => "add",
            BanOp::Delete => "delete",
        };
        cmds.push(json!({verb: {"element": {
            "family": FAMILY, "table": table, "name": name, "elem": elems,
        }}}));
    }
    (!cmds.is_empty()).then(|| json!({"nftables": cmds}))
}
