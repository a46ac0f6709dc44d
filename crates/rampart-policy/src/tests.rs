//! Tests of compilation, validation, bans and diff. Expected JSON is
//! written by hand from libnftables-json(5) and checked against what
//! `nft -j list` prints for the same rules written in nft's own syntax.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::*;

fn policy(t: &str) -> Policy {
    match Policy::from_toml(t) {
        Ok(p) => p,
        Err(e) => panic!("policy does not load: {e}"),
    }
}

fn errors(t: &str) -> String {
    match Policy::from_toml(t) {
        Ok(_) => panic!("policy loaded but should not"),
        Err(e) => e.to_string(),
    }
}

/// The rule commands of a batch, with comments removed.
fn rules_of(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.pointer("/add/rule"))
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("comment");
            r
        })
        .collect()
}

#[test]
fn empty_policy_exact_batch() {
    let p = policy("");
    let v = compile(&p);
    let t = json!({"family": "inet", "name": "rampart"});
    let cmds = v["nftables"].as_array().unwrap();
    assert_eq!(cmds[0], json!({"add": {"table": t}}));
    assert_eq!(cmds[1], json!({"delete": {"table": t}}));
    assert_eq!(cmds[2], json!({"add": {"table": t}}));
    assert_eq!(
        cmds[3],
        json!({"add": {"set": {"family": "inet", "table": "rampart", "name": "bans_v4",
            "type": "ipv4_addr", "flags": ["interval", "timeout"], "timeout": 3600}}})
    );
    assert_eq!(
        cmds[4],
        json!({"add": {"set": {"family": "inet", "table": "rampart", "name": "bans_v6",
            "type": "ipv6_addr", "flags": ["interval", "timeout"], "timeout": 3600}}})
    );
    assert_eq!(
        cmds[5],
        json!({"add": {"set": {"family": "inet", "table": "rampart", "name": "allow_v4",
            "type": "ipv4_addr", "flags": ["interval"]}}})
    );
    assert_eq!(
        cmds[7],
        json!({"add": {"chain": {"family": "inet", "table": "rampart", "name": "input",
            "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}})
    );
    // allow then ban, per family, in input and forward.
    assert_eq!(
        cmds[10],
        json!({"add": {"rule": {"family": "inet", "table": "rampart", "chain": "input",
            "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                "right": "@allow_v4"}}, {"accept": null}],
            "comment": "rampart:allowlist/v4"}}})
    );
    assert_eq!(
        cmds[11],
        json!({"add": {"rule": {"family": "inet", "table": "rampart", "chain": "input",
            "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                "right": "@bans_v4"}}, {"drop": null}],
            "comment": "rampart:bans/v4"}}})
    );
    assert_eq!(cmds.len(), 18);
    // Nothing but Rampart's table is ever named; never a flush.
    let text = v.to_string();
    assert!(!text.contains("flush"));
    for c in cmds {
        let fam_table = c.pointer("/add").or(c.pointer("/delete")).unwrap();
        let o = fam_table.as_object().unwrap().values().next().unwrap();
        assert_eq!(o["family"], "inet");
        assert!(
            o.get("table") == Some(&json!("rampart")) || o.get("name") == Some(&json!("rampart"))
        );
    }
}

#[test]
fn tcp_rule_exact_json() {
    let p = policy(
        r#"
[table]
name = "fw"
[defaults]
input = "drop"
[zones.lan]
interfaces = ["eth1"]
addresses = ["192.168.1.0/24"]
[[rules]]
name = "ssh"
action = "allow"
protocol = "tcp"
from = { zone = "lan" }
to = { ports = [22, "1000-2000"] }
state = ["new"]
"#,
    );
    let v = compile(&p);
    let rules = rules_of(&v);
    // 4 allow/ban rules in input, then ours, then 4 in forward.
    assert_eq!(
        rules[4],
        json!({"family": "inet", "table": "fw", "chain": "input", "expr": [
            {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth1"}},
            {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                "right": {"prefix": {"addr": "192.168.1.0", "len": 24}}}},
            {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                "right": {"set": [22, {"range": [1000, 2000]}]}}},
            {"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": "new"}},
            {"accept": null}
        ]})
    );
    let chain = v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c.pointer("/add/chain").filter(|c| c["name"] == "input"))
        .unwrap();
    assert_eq!(chain["policy"], "drop");
    let comment = v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.pointer("/add/rule/comment"))
        .find(|c| c.as_str().unwrap().starts_with("rampart:ssh"))
        .unwrap();
    assert!(comment.as_str().unwrap().starts_with("rampart:ssh/v4#"));
}

#[test]
fn mixed_families_split_and_reject_forms() {
    let p = policy(
        r#"
[[rules]]
action = "reject"
protocol = "tcp"
from = { addresses = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"] }
[[rules]]
action = "reject"
protocol = "udp"
"#,
    );
    let rules = rules_of(&compile(&p));
    let ours: Vec<_> = rules.iter().skip(4).take(3).collect();
    assert_eq!(
        ours[0]["expr"][1],
        json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
            "right": {"set": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "192.0.2.1"]}}})
    );
    assert_eq!(ours[0]["expr"][3], json!({"reject": {"type": "tcp reset"}}));
    assert_eq!(
        ours[1]["expr"][1]["match"]["left"],
        json!({"payload": {"protocol": "ip6", "field": "saddr"}})
    );
    assert_eq!(
        ours[2]["expr"],
        json!([{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}},
            {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}])
    );
}

#[test]
fn rate_limit_uses_dynamic_set() {
    let p = policy(
        r#"
[[rules]]
name = "web"
action = "allow"
protocol = "tcp"
to = { ports = [443] }
rate = "10/second"
burst = 20
"#,
    );
    let v = compile(&p);
    let set = v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c.pointer("/add/set").filter(|s| s["name"] == "rl0_v4"))
        .unwrap()
        .clone();
    assert_eq!(
        set,
        json!({"family": "inet", "table": "rampart", "name": "rl0_v4", "type": "ipv4_addr",
            "flags": ["timeout"], "timeout": 60, "size": 65535})
    );
    let rules = rules_of(&v);
    assert_eq!(
        rules[4]["expr"],
        json!([
            {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}},
            {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}},
            {"set": {"op": "update", "elem": {"payload": {"protocol": "ip", "field": "saddr"}},
                "set": "@rl0_v4",
                "stmt": [{"limit": {"rate": 10, "per": "second", "burst": 20, "inv": true}}]}},
            {"drop": null}
        ])
    );
    assert_eq!(rules[5]["expr"][3], json!({"accept": null}));
    assert_eq!(
        rules[6]["expr"][3]["set"]["elem"],
        json!({"payload": {"protocol": "ip6", "field": "saddr"}})
    );
}

#[test]
fn icmp_types_and_allowlist_elements() {
    let p = policy(
        r#"
[allowlist]
addresses = ["127.0.0.1", "::1", "198.51.100.0/24"]
[[rules]]
action = "allow"
protocol = "icmpv6"
icmp_types = ["echo-request", "nd-neighbor-solicit"]
"#,
    );
    let v = compile(&p);
    let cmds = v["nftables"].as_array().unwrap();
    assert_eq!(
        cmds[5]["add"]["set"]["elem"],
        json!(["127.0.0.1", {"prefix": {"addr": "198.51.100.0", "len": 24}}])
    );
    assert_eq!(cmds[6]["add"]["set"]["elem"], json!(["::1"]));
    let rules = rules_of(&v);
    assert_eq!(
        rules[4]["expr"],
        json!([
            {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv6"}},
            {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "ipv6-icmp"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}},
                "right": {"set": ["echo-request", "nd-neighbor-solicit"]}}},
            {"accept": null}
        ])
    );
}

#[test]
fn queue_kept_out_unless_asked() {
    let p = policy("[queue]\nnumbers = [0, 1]\n");
    assert!(!compile(&p).to_string().contains("queue"));
    assert_eq!(
        queue_iptables_args(&p).unwrap(),
        [
            "-I",
            "FORWARD",
            "-j",
            "NFQUEUE",
            "--queue-balance",
            "0:1",
            "--queue-bypass"
        ]
    );
    let p = policy(
        "[queue]\nnumbers = [3]\nfail_open = false\nchain = \"input\"\nqueue_statement = true\n",
    );
    assert_eq!(queue_iptables_args(&p), None);
    let rules = rules_of(&compile(&p));
    assert_eq!(rules.last().unwrap()["chain"], "ips");
    assert_eq!(
        rules.last().unwrap()["expr"],
        json!([{"queue": {"num": 3}}])
    );
    // Several queues: balanced by flow hash (no CPU `fanout`), fail-open.
    let p = policy("[queue]\nnumbers = [2, 1]\nqueue_statement = true\n");
    let rules = rules_of(&compile(&p));
    assert_eq!(
        rules.last().unwrap()["expr"],
        json!([{"queue": {"num": {"range": [1, 2]}, "flags": ["bypass"]}}])
    );
    assert!(Policy::from_toml("[queue]\nnumbers = [1, 3]\n")
        .unwrap_err()
        .to_string()
        .starts_with("queue.numbers: queues [1, 3] are not contiguous"));
}

#[test]
fn validation_errors_name_the_key() {
    let e = errors("[[rules]]\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [70000] }\n");
    assert_eq!(e, "rules[0].to.ports: port 70000 out of range");
    let e = errors("[[rules]]\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [] }\n");
    assert!(e.starts_with("rules[0].to.ports: empty port list"), "{e}");
    let e = errors("[[rules]]\naction = \"deny\"\nfrom = { addresses = [\"10.0.0.300\"] }\n");
    assert_eq!(
        e,
        "rules[0].from.addresses[0]: invalid address \"10.0.0.300\""
    );
    let e = errors("[[rules]]\naction = \"deny\"\nfrom = { zone = \"dmz\" }\n");
    assert_eq!(e, "rules[0].from.zone: unknown zone \"dmz\"");
    let e = errors(
        "[[rules]]\naction = \"deny\"\nfrom = { addresses = [\"10.0.0.0/8\"] }\nto = { addresses = [\"2001:db8::1\"] }\n",
    );
    assert!(e.starts_with("rules[0]: conflicting families"), "{e}");
    let e = errors("[[rules]]\naction = \"deny\"\nprotocol = \"icmpv6\"\nfrom = { addresses = [\"10.0.0.0/8\"] }\n");
    assert!(e.starts_with("rules[0]: conflicting families"), "{e}");
    let e = errors("[[rules]]\naction = \"allow\"\nrate = \"10/fortnight\"\n");
    assert!(
        e.starts_with("rules[0].rate: invalid rate \"10/fortnight\""),
        "{e}"
    );
    let e = errors(
        "[[rules]]\nname = \"a\"\naction = \"allow\"\n[[rules]]\nname = \"a\"\naction = \"deny\"\n",
    );
    assert_eq!(e, "rules[1].name: duplicate rule name \"a\"");
    let e = errors("[allowlist]\naddresses = [\"10.0.0.1/8\"]\n");
    assert_eq!(
        e,
        "allowlist.addresses[0]: \"10.0.0.1/8\" has host bits set (the network is 10.0.0.0/8)"
    );
    let e = errors("[bans]\ntimeout = \"soon\"\n");
    assert!(
        e.starts_with("bans.timeout: invalid duration \"soon\""),
        "{e}"
    );
    let e = errors("[[rules]]\naction = \"allow\"\nto = { ports = [22] }\n");
    assert_eq!(
        e,
        "rules[0].to.ports: ports need protocol = \"tcp\" or \"udp\""
    );
    // Schema errors (unknown key, wrong type) come from the TOML layer and
    // name the key too.
    let e = errors("[[rules]]\naction = \"allow\"\nprot = \"tcp\"\n");
    assert!(e.contains("unknown field `prot`"), "{e}");
    let e = errors("[defaults]\ninput = \"maybe\"\n");
    assert!(e.contains("unknown variant `maybe`"), "{e}");
    // Several problems are all reported.
    let e = errors(
        "[[rules]]\naction = \"allow\"\nprotocol = \"udp\"\nto = { ports = [0, \"9-3\"] }\n",
    );
    assert_eq!(
        e,
        "rules[0].to.ports: port 0 out of range\nrules[0].to.ports: port range \"9-3\" is reversed"
    );
}

#[test]
fn lockout_warnings() {
    let p = policy("[defaults]\ninput = \"drop\"\n");
    let w = p.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with("defaults.input: drop, but no input rule allows state"),
        "{w:?}"
    );
    let p = policy(
        "[defaults]\ninput = \"drop\"\n[[rules]]\naction = \"allow\"\nstate = [\"established\", \"related\"]\n",
    );
    assert!(p.warnings().is_empty());
    let ex = include_str!("../../../docs/policy-example.toml");
    assert_eq!(policy(ex).warnings(), Vec::<String>::new());
}

#[test]
fn ban_batches_with_timeouts_and_widening() {
    let bans = vec![
        Ban::address("192.0.2.7".parse().unwrap(), 64, Some(600)),
        Ban::address("2001:db8:1:2::99".parse().unwrap(), 64, None),
        Ban::address("2001:db8:1:2::1".parse().unwrap(), 64, Some(60)),
        Ban {
            cidr: "203.0.113.0/24".parse().unwrap(),
            timeout: Some(86400),
        },
    ];
    let v = ban_elements("rampart", BanOp::Add, &bans).unwrap();
    assert_eq!(
        v,
        json!({"nftables": [
            {"add": {"element": {"family": "inet", "table": "rampart", "name": "bans_v4", "elem": [
                {"elem": {"val": "192.0.2.7", "timeout": 600}},
                {"elem": {"val": {"prefix": {"addr": "203.0.113.0", "len": 24}}, "timeout": 86400}}
            ]}}},
            {"add": {"element": {"family": "inet", "table": "rampart", "name": "bans_v6", "elem": [
                {"prefix": {"addr": "2001:db8:1:2::", "len": 64}}
            ]}}}
        ]})
    );
    let v = ban_elements("rampart", BanOp::Delete, &bans[..1]).unwrap();
    assert_eq!(
        v,
        json!({"nftables": [{"delete": {"element": {"family": "inet", "table": "rampart",
            "name": "bans_v4", "elem": ["192.0.2.7"]}}}]})
    );
    assert_eq!(ban_elements("rampart", BanOp::Add, &[]), None);
}

#[test]
fn diff_against_listing() {
    let p = policy("[defaults]\ninput = \"drop\"\n[[rules]]\nname = \"ssh\"\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [22] }\n");
    let desired = compile(&p);
    assert!(matches!(
        diff(None, &desired)[..],
        [Change::CreateTable { .. }]
    ));
    // A listing shaped like nft's: same objects with handles, one rule
    // missing, the input policy different, one foreign rule.
    let mut items = vec![json!({"metainfo": {"json_schema_version": 1}})];
    for c in desired["nftables"].as_array().unwrap().iter().skip(2) {
        let (k, o) = c["add"].as_object().unwrap().iter().next().unwrap();
        let mut o = o.clone();
        o.as_object_mut().unwrap().insert("handle".into(), json!(1));
        if k == "chain" && o["name"] == "input" {
            o["policy"] = json!("accept");
        }
        if k == "rule" && o["comment"].as_str().unwrap().starts_with("rampart:ssh") {
            continue;
        }
        items.push(json!({k: o}));
    }
    items.push(json!({"rule": {"family": "inet", "table": "rampart", "chain": "output", "handle": 42, "expr": []}}));
    let listing = json!({"nftables": items});
    let changes: Vec<String> = diff(Some(&listing), &desired)
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(changes[0], "~ chain input: policy accept -> drop");
    assert_eq!(
        changes[1],
        "+ rule input: ssh: meta l4proto tcp tcp dport 22 accept"
    );
    assert_eq!(
        changes[2],
        "- rule output: (rule without a Rampart comment, handle 42)"
    );
    // Identical: nothing to do.
    let same = json!({"nftables": desired["nftables"].as_array().unwrap().iter().skip(2)
        .map(|c| c["add"].clone()).collect::<Vec<_>>()});
    assert_eq!(diff(Some(&same), &desired), vec![]);
}

#[test]
fn host_addresses_join_the_allowlist() {
    let mut p = policy("[allowlist]\naddresses = [\"192.0.2.0/24\"]\nhost_addresses = true\n");
    assert!(p.allow_host_addresses);
    p.allow_addresses(["192.0.2.2".parse().unwrap(), "fd00::2".parse().unwrap()]);
    let s: Vec<String> = p
        .allowlist
        .v4
        .iter()
        .chain(&p.allowlist.v6)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(s, ["192.0.2.0/24", "fd00::2"]);
}

#[test]
fn rule_text_reads_like_nft() {
    let p = policy(
        "[[rules]]\nname = \"w\"\naction = \"allow\"\nprotocol = \"tcp\"\nfrom = { addresses = [\"10.0.0.0/8\", \"192.0.2.1\"] }\nto = { ports = [80, \"8000-8080\"] }\nrate = \"3/minute\"\nburst = 2\n",
    );
    let rules = rules_of(&compile(&p));
    assert_eq!(
        crate::diff::rule_text(&rules[4]["expr"]),
        "meta nfproto ipv4 ip saddr { 10.0.0.0/8, 192.0.2.1 } meta l4proto tcp tcp dport { 80, 8000-8080 } \
         update @rl0_v4 { ip saddr limit rate over 3/minute burst 2 packets } drop"
    );
}

#[test]
fn bans_carried_and_restore_batch() {
    let listing = json!({"nftables": [
        {"metainfo": {"json_schema_version": 1}},
        {"table": {"family": "inet", "name": "rampart", "handle": 7}},
        {"set": {"family": "inet", "name": "bans_v4", "table": "rampart", "type": "ipv4_addr",
            "handle": 2, "flags": ["interval", "timeout"], "timeout": 3600,
            "elem": [{"elem": {"val": "192.0.2.7", "timeout": 600, "expires": 512}},
                     {"elem": {"val": {"prefix": {"addr": "203.0.113.0", "len": 24}}, "timeout": 3600, "expires": 3000}}]}},
        {"chain": {"family": "inet", "table": "rampart", "name": "input", "handle": 1,
            "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}
    ]});
    let bans = listed_bans(&listing);
    assert_eq!(bans.len(), 2);
    assert_eq!(bans[0].cidr.to_string(), "192.0.2.7");
    assert_eq!(bans[0].timeout, Some(512));
    assert_eq!(bans[1].cidr.to_string(), "203.0.113.0/24");
    let r = restore_batch(&listing).unwrap();
    let cmds = r["nftables"].as_array().unwrap();
    assert_eq!(
        cmds[1],
        json!({"delete": {"table": {"family": "inet", "name": "rampart"}}})
    );
    assert_eq!(
        cmds[3]["add"]["set"]["elem"][0],
        json!({"elem": {"val": "192.0.2.7", "timeout": 512}})
    );
    assert!(cmds[3]["add"]["set"].get("handle").is_none());
    assert_eq!(cmds[4]["add"]["chain"]["policy"], "drop");
}

mod generated {
    use std::net::IpAddr;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    fn addr() -> impl Strategy<Value = String> {
        prop_oneof![
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| Cidr::network(IpAddr::V4(a.into()), l).to_string()),
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| Cidr::network(IpAddr::V6(a.into()), l).to_string()),
        ]
    }

    fn rule() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["allow", "deny", "reject"]),
            prop::sample::select(vec!["tcp", "udp", "any"]),
            prop::collection::vec(addr(), 0..4),
            prop::collection::vec(addr(), 0..4),
            prop::collection::vec(1u16..=65535, 0..3),
            any::<bool>(),
            (
                prop::sample::select(vec!["input", "forward", "output"]),
                prop::sample::subsequence(vec!["new", "established", "related", "invalid"], 0..3),
                any::<bool>(),
            ),
        )
            .prop_map(|(action, proto, from, to, ports, rate, (chain, state, zone))| {
                let q = |v: &[String]| {
                    v.iter()
                        .map(|s| format!("{s:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut s = format!(
                    "[[rules]]\naction = \"{action}\"\nprotocol = \"{proto}\"\nchain = \"{chain}\"\n"
                );
                if !state.is_empty() {
                    s += &format!("state = {state:?}\n");
                }
                if zone && chain != "output" {
                    s += "from = { zone = \"z\" }\n";
                } else if !from.is_empty() {
                    s += &format!("from = {{ addresses = [{}] }}\n", q(&from));
                }
                let mut to_parts = Vec::new();
                if !to.is_empty() {
                    to_parts.push(format!("addresses = [{}]", q(&to)));
                }
                if !ports.is_empty() && proto != "any" {
                    let p: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
                    to_parts.push(format!("ports = [{}]", p.join(", ")));
                }
                if !to_parts.is_empty() {
                    s += &format!("to = {{ {} }}\n", to_parts.join(", "));
                }
                if rate {
                    s += "rate = \"5/minute\"\n";
                }
                s
            })
    }

    /// Every address the batch carries, wherever it sits.
    fn check_addresses(v: &Value, in_addr_ctx: bool, count: &mut usize) {
        match v {
            Value::Object(m) => {
                if let Some(p) = m.get("prefix") {
                    let a: IpAddr = p["addr"].as_str().unwrap().parse().unwrap();
                    let l = p["len"].as_u64().unwrap();
                    let c = format!("{a}/{l}").parse::<Cidr>().unwrap();
                    assert_eq!(c.addr(), a);
                    *count += 1;
                    return;
                }
                let addr_ctx = m
                    .get("left")
                    .and_then(|l| l.pointer("/payload/field"))
                    .is_some_and(|f| f == "saddr" || f == "daddr");
                for (k, x) in m {
                    check_addresses(
                        x,
                        (addr_ctx && k == "right") || (in_addr_ctx && k == "set") || k == "elem",
                        count,
                    );
                }
            }
            Value::Array(a) => a
                .iter()
                .for_each(|x| check_addresses(x, in_addr_ctx, count)),
            Value::String(s) if in_addr_ctx && !s.starts_with('@') => {
                s.parse::<IpAddr>().unwrap();
                *count += 1;
            }
            _ => {}
        }
    }

    /// Values of the fields users type as strings, with junk mixed in.
    fn fieldish() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9./:a-f-]{0,20}",
            "[0-9]{1,6}/(second|minute|hour|fortnight)",
            "[0-9]{0,12}[smhdx]?",
            ".{0,12}",
        ]
    }

    proptest! {
        /// Nothing a policy file says can panic the loader or compiler.
        #[test]
        fn arbitrary_field_values_never_panic(
            a in fieldish(), b in fieldish(), c in fieldish(), d in fieldish(), n in any::<i64>(),
        ) {
            let text = format!(
                "[bans]\ntimeout = {c:?}\n[zones.z]\ninterfaces = [{d:?}]\naddresses = [{a:?}]\n\
                 [[rules]]\naction = \"allow\"\nprotocol = \"udp\"\nfrom = {{ zone = \"z\" }}\n\
                 to = {{ addresses = [{b:?}], ports = [{n}, {a:?}] }}\nrate = {b:?}\n"
            );
            if let Ok(p) = Policy::from_toml(&text) {
                let mut count = 0;
                check_addresses(&compile(&p), false, &mut count);
            }
            let _ = Policy::from_toml(&a);
        }

        #[test]
        fn valid_policies_compile_to_reparsable_addresses(
            rules in prop::collection::vec(rule(), 0..6),
            allow in prop::collection::vec(addr(), 0..5),
        ) {
            let allow: Vec<String> = allow.iter().map(|s| format!("{s:?}")).collect();
            let text = format!(
                "[zones.z]\ninterfaces = [\"eth0\"]\naddresses = [\"10.0.0.0/8\", \"fd00::/8\"]\n\
                 [allowlist]\naddresses = [{}]\n{}",
                allow.join(", "),
                rules.concat()
            );
            match Policy::from_toml(&text) {
                Ok(p) => {
                    let v = compile(&p);
                    let mut n = 0;
                    check_addresses(&v, false, &mut n);
                    let expected: usize = p.allowlist.v4.len() + p.allowlist.v6.len();
                    prop_assert!(n >= expected);
                    // A listing of exactly this batch differs in nothing.
                    let listing = serde_json::json!({"nftables": v["nftables"].as_array().unwrap()
                        .iter().skip(2).map(|c| c["add"].clone()).collect::<Vec<_>>()});
                    prop_assert_eq!(diff(Some(&listing), &v), vec![]);
                }
                // Only family conflicts may reject a generated policy.
                Err(e) => prop_assert!(e.to_string().contains("conflicting families"), "{}", e),
            }
        }
    }
}
