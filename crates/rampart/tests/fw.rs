//! `rampart fw`: validation and rendering everywhere; as root with `nft`
//! and `ip`, the example policy applied for real inside a network namespace
//! the test creates (and always removes), next to an unrelated table that
//! must come through untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    repo().join("docs/policy-example.toml")
}

fn rampart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_and_render_the_example() {
    let ex = example();
    let out = rampart(&["fw", "check", ex.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("valid"), "{s}");
    assert!(s.contains("table      inet rampart"), "{s}");
    assert!(s.contains("--queue-balance 0:1 --queue-bypass"), "{s}");
    let out = rampart(&["fw", "render", ex.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cmds = v["nftables"].as_array().unwrap();
    assert_eq!(
        cmds[1],
        serde_json::json!({"delete": {"table": {"family": "inet", "name": "rampart"}}})
    );
    assert!(!text(&out.stdout).contains("flush"));
}

#[test]
fn check_names_the_bad_key() {
    let dir = std::env::temp_dir().join(format!("rampart-fw-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(
        &f,
        "[[rules]]\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [70000] }\n",
    )
    .unwrap();
    let out = rampart(&["fw", "check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("rules[0].to.ports: port 70000 out of range"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A network namespace that is deleted when dropped, test failure or not.
struct Netns(String);

impl Netns {
    fn create() -> Result<Netns, String> {
        let name = format!("rampart-test-{}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| format!("cannot run ip: {e}"))?;
        if !out.status.success() {
            return Err(format!("ip netns add failed: {}", text(&out.stderr).trim()));
        }
        Ok(Netns(name))
    }

    /// `ip netns exec NAME PROGRAM ARGS...` with optional standard input.
    fn exec(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.0, program])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            let mut sin = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                sin.write_all(s.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }

    fn nft_json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["-j"];
        a.extend_from_slice(args);
        let out = self.exec("nft", &a, None);
        assert!(out.status.success(), "nft {args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root".into());
    }
    for tool in ["nft", "ip"] {
        let ok = Command::new(tool)
            .arg(if tool == "nft" { "--version" } else { "-V" })
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Some(format!("`{tool}` is not available"));
        }
    }
    None
}

/// Policies covering every construct the compiler emits, for `nft -c`.
const TRICKY: &[&str] = &[
    r#"
[table]
name = "rampart_alt"
priority = -10
[defaults]
input = "drop"
forward = "drop"
output = "drop"
[zones.wan]
interfaces = ["eth0", "ppp*"]
[zones.lan]
interfaces = ["eth1"]
addresses = ["10.1.0.0/16", "fd00:1::/48"]
[[rules]]
action = "allow"
state = ["established", "related"]
[[rules]]
action = "deny"
state = ["invalid"]
[[rules]]
action = "reject"
protocol = "udp"
from = { addresses = ["198.51.100.0/24", "2001:db8:ffff::/48"], ports = ["1-1023"] }
to = { ports = [53, 123, "5000-5100"] }
[[rules]]
action = "reject"
protocol = "any"
from = { zone = "wan" }
[[rules]]
action = "reject"
protocol = "icmp"
icmp_types = ["timestamp-request", "address-mask-request"]
[[rules]]
action = "deny"
protocol = "icmpv6"
icmp_types = ["router-renumbering"]
rate = "1/hour"
[[rules]]
chain = "forward"
action = "allow"
from = { zone = "lan" }
to = { zone = "wan" }
[[rules]]
chain = "forward"
action = "deny"
protocol = "tcp"
to = { addresses = ["203.0.113.5"], ports = [25] }
rate = "30/minute"
burst = 10
[[rules]]
chain = "output"
action = "allow"
protocol = "udp"
to = { addresses = ["::1", "127.0.0.1"], ports = [53] }
[[rules]]
chain = "output"
action = "reject"
protocol = "tcp"
to = { zone = "lan", ports = [23] }
"#,
    r#"
[allowlist]
addresses = ["0.0.0.0/0", "::/0"]
[bans]
timeout = "7d"
[[rules]]
action = "allow"
protocol = "tcp"
rate = "5/second"
[[rules]]
action = "allow"
protocol = "icmp"
"#,
];

/// Objects of one kind in a listing, by name.
fn names(listing: &serde_json::Value, kind: &str) -> Vec<String> {
    listing["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get(kind))
        .filter_map(|o| o["name"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn apply_in_a_network_namespace() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping the namespace test: {why}");
        return;
    }
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipping the namespace test: {why}");
            return;
        }
    };
    // An unrelated table that must survive every apply untouched.
    let other = r#"{"nftables":[
        {"add":{"table":{"family":"ip","name":"other"}}},
        {"add":{"set":{"family":"ip","table":"other","name":"keep","type":"ipv4_addr","elem":["192.0.2.1"]}}},
        {"add":{"chain":{"family":"ip","table":"other","name":"c","type":"filter","hook":"input","prio":5,"policy":"accept"}}},
        {"add":{"rule":{"family":"ip","table":"other","chain":"c","expr":[{"counter":null}]}}}
    ]}"#;
    let out = ns.exec("nft", &["-j", "-f", "-"], Some(other));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let other_before = ns.nft_json(&["list", "table", "ip", "other"]);

    let bin = env!("CARGO_BIN_EXE_rampart");
    let ex = example();
    let ex = ex.to_str().unwrap();
    let out = ns.exec(bin, &["fw", "diff", ex], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(not present)"),
        "{}",
        text(&out.stdout)
    );

    let out = ns.exec(bin, &["fw", "apply", ex], None);
    assert!(out.status.success(), "apply: {}", text(&out.stderr));

    let listing = ns.nft_json(&["list", "table", "inet", "rampart"]);
    let chains = names(&listing, "chain");
    for c in ["input", "forward", "output"] {
        assert!(
            chains.contains(&c.to_string()),
            "chain {c} missing: {chains:?}"
        );
    }
    let sets = names(&listing, "set");
    for s in ["bans_v4", "bans_v6", "allow_v4", "allow_v6"] {
        assert!(sets.contains(&s.to_string()), "set {s} missing: {sets:?}");
    }
    let input = listing["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i.get("chain").filter(|c| c["name"] == "input"))
        .unwrap();
    assert_eq!(input["policy"], "drop");
    assert_eq!(input["hook"], "input");
    assert_eq!(ns.nft_json(&["list", "table", "ip", "other"]), other_before);

    let out = ns.exec(bin, &["fw", "diff", ex], None);
    assert!(
        text(&out.stdout).contains("no changes"),
        "{}",
        text(&out.stdout)
    );

    // A ban survives a re-apply (the table is recreated, bans carried).
    let out = ns.exec(
        "nft",
        &[
            "add",
            "element",
            "inet",
            "rampart",
            "bans_v4",
            "{ 198.51.100.7 }",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ns.exec(bin, &["fw", "apply", ex], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bans = ns.nft_json(&["list", "set", "inet", "rampart", "bans_v4"]);
    assert!(bans.to_string().contains("198.51.100.7"), "{bans}");

    // An unconfirmed apply is rolled back.
    let changed = std::env::temp_dir().join(format!("rampart-fw-ns-{}.toml", std::process::id()));
    let src = std::fs::read_to_string(example()).unwrap();
    std::fs::write(
        &changed,
        src.replace("input = \"drop\"", "input = \"accept\""),
    )
    .unwrap();
    let changed_s = changed.to_str().unwrap();
    let out = ns.exec(bin, &["fw", "diff", changed_s], None);
    assert!(
        text(&out.stdout).contains("~ chain input: policy drop -> accept"),
        "{}",
        text(&out.stdout)
    );
    let out = ns.exec(
        bin,
        &["fw", "apply", changed_s, "--confirm-within", "3s"],
        Some("no\n"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = ns.exec(bin, &["fw", "diff", ex], None);
    assert!(
        text(&out.stdout).contains("no changes"),
        "{}",
        text(&out.stdout)
    );
    // The rollback also happens when `apply` itself dies before the
    // deadline (an SSH session cut by the new policy): its watchdog, in
    // its own process group, restores the previous table.
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.0, bin, "fw", "apply", changed_s])
        .args(["--confirm-within", "3s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The prompt comes after the new table is in and the watchdog started.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains("type `yes`"))),
        "apply did not prompt"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let mut restored = false;
    for _ in 0..80 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let out = ns.exec(bin, &["fw", "diff", ex], None);
        if text(&out.stdout).contains("no changes") {
            restored = true;
            break;
        }
    }
    assert!(restored, "the watchdog did not restore the previous table");
    let _ = std::fs::remove_file(&changed);
    assert_eq!(ns.nft_json(&["list", "table", "ip", "other"]), other_before);

    // The kernel and nft accept every construct the compiler emits
    // (`nft -c`: checked in a transaction that is then aborted).
    for (i, policy) in TRICKY.iter().enumerate() {
        let p = rampart_policy::Policy::from_toml(policy)
            .unwrap_or_else(|e| panic!("TRICKY[{i}] does not load: {e}"));
        let batch = rampart_policy::compile(&p).to_string();
        let out = ns.exec("nft", &["-c", "-j", "-f", "-"], Some(&batch));
        assert!(
            out.status.success(),
            "TRICKY[{i}] refused by nft: {}\n{policy}",
            text(&out.stderr)
        );
    }

    // Ban batches from the library: timeouts, IPv6 widening, deletion.
    use rampart_policy::{ban_elements, Ban, BanOp};
    let bans = [
        Ban::address("203.0.113.9".parse().unwrap(), 64, Some(120)),
        Ban::address("2001:db8:5:6::77".parse().unwrap(), 64, Some(300)),
        Ban {
            cidr: "192.0.2.128/25".parse().unwrap(),
            timeout: None,
        },
    ];
    let batch = ban_elements("rampart", BanOp::Add, &bans).unwrap();
    let out = ns.exec("nft", &["-j", "-f", "-"], Some(&batch.to_string()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v4 = ns
        .nft_json(&["list", "set", "inet", "rampart", "bans_v4"])
        .to_string();
    let v6 = ns
        .nft_json(&["list", "set", "inet", "rampart", "bans_v6"])
        .to_string();
    assert!(
        v4.contains("\"203.0.113.9\"") && v4.contains("\"timeout\":120"),
        "{v4}"
    );
    assert!(v4.contains("\"addr\":\"192.0.2.128\",\"len\":25"), "{v4}");
    assert!(
        v6.contains("\"addr\":\"2001:db8:5:6::\",\"len\":64"),
        "{v6}"
    );
    let batch = ban_elements("rampart", BanOp::Delete, &bans).unwrap();
    let out = ns.exec("nft", &["-j", "-f", "-"], Some(&batch.to_string()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v4 = ns
        .nft_json(&["list", "set", "inet", "rampart", "bans_v4"])
        .to_string();
    assert!(
        !v4.contains("203.0.113.9") && v4.contains("198.51.100.7"),
        "{v4}"
    );

    // 100,000 bans in one batch: one nft spawn.
    let many: Vec<Ban> = (0..100_000u32)
        .map(|i| {
            Ban::address(
                std::net::Ipv4Addr::from(0x0a00_0000 + i * 2).into(),
                64,
                Some(600),
            )
        })
        .collect();
    let t0 = std::time::Instant::now();
    let batch = ban_elements("rampart", BanOp::Add, &many)
        .unwrap()
        .to_string();
    let out = ns.exec("nft", &["-j", "-f", "-"], Some(&batch));
    let took = t0.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    eprintln!(
        "100,000 bans (build + nft -j -f -): {:.3} s",
        took.as_secs_f64()
    );
    let v4 = ns.nft_json(&["list", "set", "inet", "rampart", "bans_v4"]);
    let n = v4["nftables"][1]["set"]["elem"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(n, 100_001);
}
