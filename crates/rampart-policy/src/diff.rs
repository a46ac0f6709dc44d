//! What would change between the kernel's listing of Rampart's table
//! (`nft -j list table inet NAME`) and a compiled policy; plus the two
//! helpers an apply needs from a listing: the bans to carry over and a
//! batch that restores the listed table.
//!
//! Rules are keyed by their comment, which [`crate::compile`] makes from
//! the rule name and a fingerprint of the compiled body: nft normalises
//! rules when it lists them (drops implied protocol matches, turns
//! one-element sets into values), so comparing bodies would report changes
//! that are not there.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{json, Map, Value};

use crate::addr::Cidr;
use crate::compile::{set_names, Ban, FAMILY};

/// One difference between the current table and the desired one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The table does not exist yet and would be created.
    CreateTable {
        /// Table name.
        table: String,
        /// Sets, chains and rules it would get.
        sets: usize,
        /// Chains.
        chains: usize,
        /// Rules.
        rules: usize,
    },
    /// A set would be created.
    AddSet(String),
    /// A set would be removed.
    RemoveSet(String),
    /// A set's definition or fixed elements would change.
    ChangeSet {
        /// Set name.
        name: String,
        /// Which property.
        what: String,
        /// Current value.
        from: String,
        /// Desired value.
        to: String,
    },
    /// A chain would be created.
    AddChain(String),
    /// A chain would be removed.
    RemoveChain(String),
    /// A chain's hook, priority, type or default policy would change.
    ChangeChain {
        /// Chain name.
        name: String,
        /// Which property.
        what: String,
        /// Current value.
        from: String,
        /// Desired value.
        to: String,
    },
    /// A rule would be added.
    AddRule {
        /// Chain.
        chain: String,
        /// The rule's comment (name and fingerprint).
        rule: String,
        /// The rule in nft-like text.
        text: String,
    },
    /// A rule would be removed.
    RemoveRule {
        /// Chain.
        chain: String,
        /// Its comment, or a description when it has none (a rule not made
        /// by Rampart).
        rule: String,
        /// The rule in nft-like text.
        text: String,
    },
    /// The same rules, in another order.
    ReorderRules(String),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateTable {
                table,
                sets,
                chains,
                rules,
            } => write!(
                f,
                "+ table {FAMILY} {table} (not present): {sets} sets, {chains} chains, {rules} rules"
            ),
            Change::AddSet(n) => write!(f, "+ set {n}"),
            Change::RemoveSet(n) => write!(f, "- set {n}"),
            Change::ChangeSet {
                name,
                what,
                from,
                to,
            } => write!(f, "~ set {name}: {what} {from} -> {to}"),
            Change::AddChain(n) => write!(f, "+ chain {n}"),
            Change::RemoveChain(n) => write!(f, "- chain {n}"),
            Change::ChangeChain {
                name,
                what,
                from,
                to,
            } => write!(f, "~ chain {name}: {what} {from} -> {to}"),
            Change::AddRule { chain, rule, text } => {
                write!(f, "+ rule {chain}: {}", short(rule))?;
                if !text.is_empty() {
                    write!(f, ": {text}")?;
                }
                Ok(())
            }
            Change::RemoveRule { chain, rule, text } => {
                write!(f, "- rule {chain}: {}", short(rule))?;
                if !text.is_empty() {
                    write!(f, ": {text}")?;
                }
                Ok(())
            }
            Change::ReorderRules(c) => write!(f, "~ chain {c}: rules reordered"),
        }
    }
}

/// The objects of a listing or a batch, as (kind, object) pairs: listing
/// items are `{"set": {...}}`, batch commands `{"add": {"set": {...}}}`;
/// deletes and metainfo are skipped.
fn objects(v: &Value) -> Vec<(&str, &Map<String, Value>)> {
    let mut out = Vec::new();
    let Some(items) = v.get("nftables").and_then(Value::as_array) else {
        return out;
    };
    for item in items {
        let Some(obj) = item.as_object() else {
            continue;
        };
        let inner = match obj.get("add").and_then(Value::as_object) {
            Some(a) => a,
            None if obj.contains_key("delete") || obj.contains_key("metainfo") => continue,
            None => obj,
        };
        for (k, v) in inner {
            if let Some(m) = v.as_object() {
                out.push((k.as_str(), m));
            }
        }
    }
    out
}

#[derive(Default)]
struct Shape<'a> {
    table: Option<String>,
    sets: BTreeMap<String, &'a Map<String, Value>>,
    chains: BTreeMap<String, &'a Map<String, Value>>,
    rules: BTreeMap<String, Vec<(String, String)>>,
}

fn shape(v: &Value) -> Shape<'_> {
    let mut s = Shape::default();
    for (kind, o) in objects(v) {
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match kind {
            "table" => s.table = Some(name),
            "set" | "map" => {
                s.sets.insert(name, o);
            }
            "chain" => {
                s.chains.insert(name, o);
            }
            "rule" => {
                let chain = o
                    .get("chain")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let key = match o.get("comment").and_then(Value::as_str) {
                    Some(c) => c.to_string(),
                    None => format!(
                        "(rule without a Rampart comment, handle {})",
                        o.get("handle").map(|h| h.to_string()).unwrap_or_default()
                    ),
                };
                let text = o.get("expr").map(rule_text).unwrap_or_default();
                s.rules.entry(chain).or_default().push((key, text));
            }
            _ => {}
        }
    }
    s
}

/// A rule key for people: the comment without the `rampart:` prefix and
/// the fingerprint.
fn short(key: &str) -> &str {
    let k = key
        .strip_prefix(crate::compile::COMMENT_PREFIX)
        .unwrap_or(key);
    k.split_once('#').map_or(k, |(name, _)| name)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => {
            if let (Some(a), Some(l)) = (
                v.pointer("/prefix/addr").and_then(Value::as_str),
                v.pointer("/prefix/len"),
            ) {
                return format!("{a}/{l}");
            }
            if let Some([a, b]) = m.get("range").and_then(Value::as_array).map(Vec::as_slice) {
                return format!("{}-{}", value_text(a), value_text(b));
            }
            if let Some(items) = m.get("set").and_then(Value::as_array) {
                let v: Vec<String> = items.iter().map(value_text).collect();
                return format!("{{ {} }}", v.join(", "));
            }
            if let Some(p) = m.get("payload") {
                return format!("{} {}", show(p.get("protocol")), show(p.get("field")));
            }
            if let Some(k) = m
                .get("meta")
                .and_then(|x| x.get("key"))
                .and_then(Value::as_str)
            {
                return match k {
                    "iifname" | "oifname" => k.to_string(),
                    _ => format!("meta {k}"),
                };
            }
            if let Some(k) = m.get("ct").and_then(|x| x.get("key")) {
                return format!("ct {}", show(Some(k)));
            }
            v.to_string()
        }
        other => other.to_string(),
    }
}

fn stmt_text(st: &Value) -> String {
    let Some((k, v)) = st.as_object().and_then(|m| m.iter().next()) else {
        return st.to_string();
    };
    match k.as_str() {
        "match" => {
            let op = v.get("op").and_then(Value::as_str).unwrap_or("==");
            let l = v.get("left").map(value_text).unwrap_or_default();
            let r = v.get("right").map(value_text).unwrap_or_default();
            if op == "==" || op == "in" {
                format!("{l} {r}")
            } else {
                format!("{l} {op} {r}")
            }
        }
        "accept" | "drop" | "counter" if !v.is_object() => k.clone(),
        "reject" => match v.get("type").and_then(Value::as_str) {
            Some("tcp reset") => "reject with tcp reset".into(),
            Some(t) => format!("reject with {t} {}", show(v.get("expr"))),
            None => "reject".into(),
        },
        "limit" => {
            let over = if v.get("inv").and_then(Value::as_bool) == Some(true) {
                "over "
            } else {
                ""
            };
            let burst = v
                .get("burst")
                .map(|b| format!(" burst {b} packets"))
                .unwrap_or_default();
            format!(
                "limit rate {over}{}/{}{burst}",
                show(v.get("rate")),
                show(v.get("per"))
            )
        }
        "set" => {
            let stmts: Vec<String> = v
                .get("stmt")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(stmt_text).collect())
                .unwrap_or_default();
            format!(
                "{} {} {{ {} {} }}",
                show(v.get("op")),
                show(v.get("set")),
                v.get("elem").map(value_text).unwrap_or_default(),
                stmts.join(" ")
            )
        }
        "queue" => format!(
            "queue num {}",
            v.get("num").map(value_text).unwrap_or_default()
        ),
        _ => st.to_string(),
    }
}

/// A rule body (`expr` array) in nft-like text, for people reading a diff.
pub fn rule_text(expr: &Value) -> String {
    expr.as_array()
        .map(|a| a.iter().map(stmt_text).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// Set flags without `dynamic`, which nft does not list back.
fn flags(o: &Map<String, Value>) -> String {
    let mut f: Vec<&str> = o
        .get("flags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|f| *f != "dynamic")
                .collect()
        })
        .unwrap_or_default();
    f.sort_unstable();
    f.join(",")
}

/// The value of one set element as text (`10.0.0.0/8`, `192.0.2.1`).
fn elem_text(e: &Value) -> String {
    let e = e.get("elem").and_then(|x| x.get("val")).unwrap_or(e);
    match e {
        Value::String(s) => s.clone(),
        Value::Object(_) => match (
            e.pointer("/prefix/addr").and_then(Value::as_str),
            e.pointer("/prefix/len"),
        ) {
            (Some(a), Some(l)) => format!("{a}/{l}"),
            _ => e.to_string(),
        },
        other => other.to_string(),
    }
}

fn elems(o: &Map<String, Value>) -> BTreeSet<String> {
    o.get("elem")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(elem_text).collect())
        .unwrap_or_default()
}

fn is_ban_set(name: &str) -> bool {
    name == set_names::BANS_V4 || name == set_names::BANS_V6
}

/// What applying `desired` (a batch from [`crate::compile`]) would change
/// in `current` (a `nft -j list table` listing; None when the table is not
/// present). Ban-set elements are runtime state and are not compared.
pub fn diff(current: Option<&Value>, desired: &Value) -> Vec<Change> {
    let d = shape(desired);
    let mut out = Vec::new();
    let c = match current.map(shape) {
        Some(c) if c.table.is_some() => c,
        _ => {
            out.push(Change::CreateTable {
                table: d.table.unwrap_or_default(),
                sets: d.sets.len(),
                chains: d.chains.len(),
                rules: d.rules.values().map(Vec::len).sum(),
            });
            return out;
        }
    };
    for (name, ds) in &d.sets {
        let Some(cs) = c.sets.get(name) else {
            out.push(Change::AddSet(name.clone()));
            continue;
        };
        for key in ["type", "timeout"] {
            if cs.get(key) != ds.get(key) {
                out.push(Change::ChangeSet {
                    name: name.clone(),
                    what: key.into(),
                    from: show(cs.get(key)),
                    to: show(ds.get(key)),
                });
            }
        }
        if flags(cs) != flags(ds) {
            out.push(Change::ChangeSet {
                name: name.clone(),
                what: "flags".into(),
                from: flags(cs),
                to: flags(ds),
            });
        }
        // Elements of dynamic sets (bans, rate limits) are runtime state.
        if !is_ban_set(name) && !name.starts_with("rl") {
            let (ce, de) = (elems(cs), elems(ds));
            if ce != de {
                let fmt = |s: &BTreeSet<String>| {
                    let v: Vec<&str> = s.iter().map(String::as_str).collect();
                    format!("{{{}}}", v.join(", "))
                };
                out.push(Change::ChangeSet {
                    name: name.clone(),
                    what: "elements".into(),
                    from: fmt(&ce),
                    to: fmt(&de),
                });
            }
        }
    }
    for name in c.sets.keys() {
        if !d.sets.contains_key(name) {
            out.push(Change::RemoveSet(name.clone()));
        }
    }
    for (name, dc) in &d.chains {
        let Some(cc) = c.chains.get(name) else {
            out.push(Change::AddChain(name.clone()));
            continue;
        };
        for key in ["type", "hook", "prio", "policy"] {
            if cc.get(key) != dc.get(key) {
                out.push(Change::ChangeChain {
                    name: name.clone(),
                    what: key.into(),
                    from: show(cc.get(key)),
                    to: show(dc.get(key)),
                });
            }
        }
    }
    for name in c.chains.keys() {
        if !d.chains.contains_key(name) {
            out.push(Change::RemoveChain(name.clone()));
        }
    }
    let chains: BTreeSet<&String> = c.rules.keys().chain(d.rules.keys()).collect();
    let empty = Vec::new();
    for chain in chains {
        let cr = c.rules.get(chain).unwrap_or(&empty);
        let dr = d.rules.get(chain).unwrap_or(&empty);
        let mut remaining: Vec<&(String, String)> = cr.iter().collect();
        let mut changed = false;
        for (r, text) in dr {
            if let Some(i) = remaining.iter().position(|x| x.0 == *r) {
                remaining.remove(i);
            } else {
                changed = true;
                out.push(Change::AddRule {
                    chain: chain.clone(),
                    rule: r.clone(),
                    text: text.clone(),
                });
            }
        }
        for (r, text) in remaining {
            changed = true;
            out.push(Change::RemoveRule {
                chain: chain.clone(),
                rule: r.clone(),
                text: text.clone(),
            });
        }
        let keys = |v: &[(String, String)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        if !changed && keys(cr) != keys(dr) {
            out.push(Change::ReorderRules(chain.clone()));
        }
    }
    out
}

/// The bans in a listing of Rampart's table, with their remaining time as
/// timeout, so an apply (which recreates the table) can put them back in
/// the same transaction. Elements that do not parse as a prefix are
/// skipped: they cannot have come from Rampart.
pub fn listed_bans(listing: &Value) -> Vec<Ban> {
    let mut out = Vec::new();
    for (kind, o) in objects(listing) {
        let name = o.get("name").and_then(Value::as_str).unwrap_or("");
        if kind != "set" || !is_ban_set(name) {
            continue;
        }
        for e in o
            .get("elem")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Ok(cidr) = elem_text(e).parse::<Cidr>() else {
                continue;
            };
            let timeout = e
                .pointer("/elem/expires")
                .or_else(|| e.pointer("/elem/timeout"))
                .and_then(Value::as_u64)
                .filter(|&t| t > 0);
            out.push(Ban { cidr, timeout });
        }
    }
    out
}

/// A batch that puts back the table of a listing exactly as listed
/// (replacing whatever table of that name exists): the rollback of
/// `rampart fw apply --confirm-within`. Handles are dropped, and set
/// elements keep their remaining time as timeout.
pub fn restore_batch(listing: &Value) -> Option<Value> {
    let objs = objects(listing);
    let (_, table) = objs.iter().find(|(k, _)| *k == "table")?;
    let t = json!({
        "family": table.get("family").cloned().unwrap_or(json!(FAMILY)),
        "name": table.get("name").cloned().unwrap_or(Value::Null),
    });
    let mut cmds = vec![
        json!({"add": {"table": t.clone()}}),
        json!({"delete": {"table": t.clone()}}),
        json!({"add": {"table": t}}),
    ];
    for (kind, o) in objs {
        if kind == "table" {
            continue;
        }
        let mut o = o.clone();
        o.remove("handle");
        if let Some(Value::Array(es)) = o.get_mut("elem") {
            for e in es.iter_mut() {
                if let Some(inner) = e.get("elem").and_then(Value::as_object) {
                    let mut m = Map::new();
                    if let Some(v) = inner.get("val") {
                        m.insert("val".into(), v.clone());
                    }
                    if let Some(t) = inner.get("expires").or_else(|| inner.get("timeout")) {
                        m.insert("timeout".into(), t.clone());
                    }
                    *e = json!({"elem": m});
                }
            }
        }
        cmds.push(json!({"add": {kind: o}}));
    }
    Some(json!({"nftables": cmds}))
}
