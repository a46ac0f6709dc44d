//! `rampart run` inline, end to end, in network namespaces the test makes
//! (and always removes): a client, a router running the daemon on
//! NFQUEUE, and a server. Private 10.213.x.x addresses exist only inside
//! the namespaces. Needs root, `ip`, `nft`, `iptables` (iptables-nft) and
//! `curl`; otherwise each test prints why it is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const RULES: &str = r#"drop tcp any any -> any 8080 (msg:"drop evil"; flow:to_server,established; content:"GET /evil"; sid:1000001;)
reject tcp any any -> any 8080 (msg:"reject bad"; flow:to_server,established; content:"GET /reject"; sid:1000002;)
alert http any any -> any any (msg:"admin page"; flow:to_server; http.uri; content:"/admin"; sid:1000003;)
"#;

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn ok(cmd: &str, args: &[&str]) {
    let o = run(cmd, args);
    assert!(
        o.status.success(),
        "{cmd} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    let uid = run("id", &["-u"]);
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root".into());
    }
    for (prog, arg) in [
        ("ip", "-V"),
        ("nft", "-v"),
        ("iptables", "-V"),
        ("curl", "-V"),
    ] {
        match Command::new(prog).arg(arg).output() {
            Ok(o) if o.status.success() => {}
            _ => return Some(format!("{prog} is not available")),
        }
    }
    None
}

/// Three namespaces and two veth pairs, deleted on drop.
struct Lab {
    p: String,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let p = format!("r{}{tag}", std::process::id() % 100_000);
        let lab = Lab { p };
        let (cl, rt, sv) = (lab.ns("cl"), lab.ns("rt"), lab.ns("sv"));
        for n in [&cl, &rt, &sv] {
            ok("ip", &["netns", "add", n]);
        }
        let (c, rc, s, rs) = (
            format!("{}c", lab.p),
            format!("{}rc", lab.p),
            format!("{}s", lab.p),
            format!("{}rs", lab.p),
        );
        ok(
            "ip",
            &["link", "add", &c, "type", "veth", "peer", "name", &rc],
        );
        ok(
            "ip",
            &["link", "add", &s, "type", "veth", "peer", "name", &rs],
        );
        ok("ip", &["link", "set", &c, "netns", &cl]);
        ok("ip", &["link", "set", &rc, "netns", &rt]);
        ok("ip", &["link", "set", &s, "netns", &sv]);
        ok("ip", &["link", "set", &rs, "netns", &rt]);
        ok(
            "ip",
            &["-n", &cl, "addr", "add", "10.213.1.2/24", "dev", &c],
        );
        ok(
            "ip",
            &["-n", &cl, "addr", "add", "10.213.1.3/24", "dev", &c],
        );
        ok(
            "ip",
            &["-n", &rt, "addr", "add", "10.213.1.1/24", "dev", &rc],
        );
        ok(
            "ip",
            &["-n", &rt, "addr", "add", "10.213.2.1/24", "dev", &rs],
        );
        ok(
            "ip",
            &["-n", &sv, "addr", "add", "10.213.2.2/24", "dev", &s],
        );
        for (n, dev) in [(&cl, &c), (&rt, &rc), (&rt, &rs), (&sv, &s)] {
            ok("ip", &["-n", n, "link", "set", dev, "up"]);
            ok("ip", &["-n", n, "link", "set", "lo", "up"]);
        }
        ok(
            "ip",
            &["-n", &cl, "route", "add", "default", "via", "10.213.1.1"],
        );
        ok(
            "ip",
            &["-n", &sv, "route", "add", "default", "via", "10.213.2.1"],
        );
        ok(
            "ip",
            &[
                "netns",
                "exec",
                &rt,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ],
        );
        lab
    }

    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.p)
    }

    /// `curl` from the client namespace; true when the page came back.
    fn get(&self, path: &str, from: &str, timeout: &str) -> (bool, i32) {
        let o = run(
            "ip",
            &[
                "netns",
                "exec",
                &self.ns("cl"),
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-m",
                timeout,
                "--interface",
                from,
                &format!("http://10.213.2.2:8080{path}"),
            ],
        );
        (o.status.success(), o.status.code().unwrap_or(-1))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for r in ["cl", "rt", "sv"] {
            let _ = run("ip", &["netns", "del", &self.ns(r)]);
        }
    }
}

/// A tiny HTTP server in the server namespace that records request lines.
fn start_server(lab: &Lab) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ns = lab.ns("sv");
    let log = seen.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        rampart_sys::afpacket::enter_netns(&ns).unwrap();
        let l = TcpListener::bind("10.213.2.2:8080").unwrap();
        tx.send(()).unwrap();
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                log.lock().unwrap().push(line.trim().to_string());
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                );
            });
        }
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    seen
}

struct Daemon {
    child: Child,
    dir: PathBuf,
    ns: String,
}

impl Daemon {
    fn start(lab: &Lab, dir: &Path) -> Daemon {
        let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns("rt"),
                env!("CARGO_BIN_EXE_rampart"),
                "run",
                "-c",
            ])
            .arg(dir.join("rampart.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon {
            child,
            dir: dir.to_path_buf(),
            ns: lab.ns("rt"),
        };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if d.ctl(&["status"]).status.success() {
                return d;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("daemon not ready: {}", d.log());
    }

    fn ctl(&self, args: &[&str]) -> Output {
        let sock = self.dir.join("ctl/ctl.sock");
        let mut v: Vec<&str> = args.to_vec();
        v.extend(["--socket", sock.to_str().unwrap()]);
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&v)
            .output()
            .unwrap()
    }

    fn status(&self) -> serde_json::Value {
        let o = self.ctl(&["status"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn bans(&self) -> Vec<String> {
        let o = self.ctl(&["ban", "list", "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b["target"].as_str().unwrap().to_string())
            .collect()
    }

    fn kernel_bans(&self) -> String {
        let o = run(
            "ip",
            &[
                "netns", "exec", &self.ns, "nft", "list", "set", "inet", "rampart", "bans_v4",
            ],
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        ok("kill", &[sig, &self.child.id().to_string()]);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, rules: &str, fail_open: bool) {
    std::fs::write(dir.join("test.rules"), rules).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        format!(
            r#"[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
log_level = "info"

[rules]
files = ["test.rules"]

[outputs]
eve = "eve.json"
stats_interval = "1s"

[[ban_on_alert]]
sid = 1000002
duration = "3s"

[firewall.queue]
numbers = [0]
chain = "forward"
fail_open = {fail_open}

[firewall.allowlist]
addresses = ["10.213.1.3"]
"#
        ),
    )
    .unwrap();
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rampart-daemon-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn inline_drop_reject_ban_expiry_allowlist() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = Lab::new("a");
    let seen = start_server(&lab);
    let dir = tempdir("a");
    write_config(&dir, RULES, true);
    let d = Daemon::start(&lab, &dir);

    // Benign traffic passes.
    assert_eq!(
        lab.get("/index.html", "10.213.1.2", "5"),
        (true, 0),
        "{}",
        d.log()
    );
    // A drop rule: the request never reaches the server; the client times out.
    let (got, _) = lab.get("/evil", "10.213.1.2", "2");
    assert!(!got);
    // The HTTP rule alerts but does not block.
    assert!(lab.get("/admin", "10.213.1.2", "5").0);
    // An allowlisted client hitting a reject rule is reset but never banned.
    let (got, code) = lab.get("/reject", "10.213.1.3", "5");
    assert!(!got);
    assert_eq!(code, 56, "curl should see the connection reset");
    // The same from a normal client: reset, then banned.
    let (got, code) = lab.get("/reject", "10.213.1.2", "5");
    assert!(!got);
    assert_eq!(code, 56, "curl should see the connection reset");
    let banned_at = Instant::now();
    let t = Instant::now();
    while d.bans().is_empty() && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(d.bans(), vec!["10.213.1.2".to_string()], "{}", d.log());
    assert!(
        d.kernel_bans().contains("10.213.1.2"),
        "{}",
        d.kernel_bans()
    );
    // The banned client's next connection fails; the allowlisted one works.
    assert!(!lab.get("/index.html", "10.213.1.2", "1").0);
    assert!(lab.get("/index.html", "10.213.1.3", "5").0);
    // The ban (3 s) expires on time.
    let mut back = None;
    while banned_at.elapsed() < Duration::from_secs(10) {
        if lab.get("/index.html", "10.213.1.2", "1").0 {
            back = Some(banned_at.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let back = back.expect("the ban never expired");
    assert!(
        back >= Duration::from_millis(2500),
        "ban lifted after {back:?}"
    );

    let requests = seen.lock().unwrap().clone();
    assert!(requests.iter().any(|r| r.starts_with("GET /index.html")));
    assert!(requests.iter().any(|r| r.starts_with("GET /admin")));
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/evil") || r.contains("/reject")),
        "blocked requests reached the server: {requests:?}"
    );

    // Malformed control requests are refused and change nothing.
    let o = d.ctl(&["ban", "add", "10.0.0.300"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("10.0.0.300"));
    let o = d.ctl(&["ban", "add", "10.213.1.3"]);
    assert!(!o.status.success(), "allowlisted address banned");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("allowlist"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(d.bans().is_empty());
    // A manual ban and its removal.
    let o = d.ctl(&[
        "ban",
        "add",
        "192.0.2.0/24",
        "--duration",
        "1h",
        "--reason",
        "test",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.kernel_bans().contains("192.0.2.0/24"));
    let o = d.ctl(&["ban", "del", "192.0.2.0/24"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!d.kernel_bans().contains("192.0.2.0/24"));
    // A bulk ban: one batch, the allowlisted entry refused, a bad line
    // named by file and line before anything changes.
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        "# offenders\n198.51.100.1\n198.51.100.2 # second\n10.213.1.3\n",
    )
    .unwrap();
    let o = d.ctl(&[
        "ban",
        "add",
        "--file",
        list.to_str().unwrap(),
        "--duration",
        "1h",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("banned 2 of 3 (1 refused)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    std::fs::write(&list, "198.51.100.9\n198.51.100.999\n").unwrap();
    let o = d.ctl(&["ban", "add", "--file", list.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("list.txt:2"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!d.kernel_bans().contains("198.51.100.9"));
    for t in ["198.51.100.1", "198.51.100.2"] {
        assert!(d.ctl(&["ban", "del", t]).status.success());
    }

    // EVE: the alerts, with inline actions.
    let status = d.status();
    assert!(
        status["totals"]["dropped"].as_u64().unwrap() >= 1,
        "{status}"
    );
    assert!(
        status["totals"]["rejected"].as_u64().unwrap() >= 2,
        "{status}"
    );
    d.signal("-TERM");
    let t = Instant::now();
    let mut d = d;
    while t.elapsed() < Duration::from_secs(5) && d.child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        d.child.try_wait().unwrap().is_some(),
        "SIGTERM did not stop the daemon"
    );
    let eve = std::fs::read_to_string(dir.join("eve.json")).unwrap();
    let sids: Vec<(u64, String)> = eve
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event_type"] == "alert")
        .map(|v| {
            (
                v["alert"]["signature_id"].as_u64().unwrap(),
                v["alert"]["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(sids.contains(&(1000001, "blocked".into())), "{sids:?}");
    assert!(sids.contains(&(1000002, "blocked".into())), "{sids:?}");
    assert!(sids.contains(&(1000003, "allowed".into())), "{sids:?}");
    // A clean stop removes the queue hook (traffic flows uninspected).
    let o = run(
        "ip",
        &["netns", "exec", &lab.ns("rt"), "iptables", "-S", "FORWARD"],
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("NFQUEUE"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_reload_keeps_the_running_config_and_bans_survive_sigkill() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = Lab::new("b");
    let _seen = start_server(&lab);
    let dir = tempdir("b");
    write_config(&dir, RULES, true);
    let d = Daemon::start(&lab, &dir);
    let o = d.ctl(&["ban", "add", "10.213.1.2", "--duration", "1h"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // A config with an invalid CIDR: the reload is refused, naming it, and
    // the old rules keep working.
    let good = std::fs::read_to_string(dir.join("rampart.toml")).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        good.replace("10.213.1.3", "10.213.1.300/24"),
    )
    .unwrap();
    let o = d.ctl(&["reload"]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("firewall.allowlist.addresses") && e.contains("10.213.1.300"),
        "{e}"
    );
    d.signal("-HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.status()["reload_failures"], 2);
    let (got, _) = lab.get("/evil", "10.213.1.3", "2");
    assert!(!got, "the old rules stopped applying after a failed reload");
    // A good reload with a changed rule takes effect.
    std::fs::write(dir.join("rampart.toml"), &good).unwrap();
    std::fs::write(
        dir.join("test.rules"),
        RULES.replace("GET /evil", "GET /other"),
    )
    .unwrap();
    d.signal("-HUP");
    let t = Instant::now();
    while d.status()["reloads"] != 1 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.status()["reloads"], 1, "{}", d.log());
    assert!(
        lab.get("/evil", "10.213.1.3", "5").0,
        "the new rules did not take effect"
    );
    assert!(
        !lab.get("/other", "10.213.1.3", "2").0,
        "the new rules did not take effect"
    );

    // SIGKILL: with fail-open, traffic goes on uninspected.
    let mut d = d;
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    assert!(
        lab.get("/evil", "10.213.1.3", "5").0,
        "fail-open: traffic stopped with the daemon"
    );
    // The kernel still holds the ban; a restart restores it from the store.
    ok(
        "ip",
        &[
            "netns",
            "exec",
            &lab.ns("rt"),
            "nft",
            "flush",
            "set",
            "inet",
            "rampart",
            "bans_v4",
        ],
    );
    drop(d);
    let d = Daemon::start(&lab, &dir);
    assert_eq!(d.bans(), vec!["10.213.1.2".to_string()], "{}", d.log());
    assert!(
        d.kernel_bans().contains("10.213.1.2"),
        "{}",
        d.kernel_bans()
    );
    assert!(!lab.get("/index.html", "10.213.1.2", "1").0);
    // One queue rule, not two, after the restart.
    let o = run(
        "ip",
        &["netns", "exec", &lab.ns("rt"), "iptables", "-S", "FORWARD"],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("NFQUEUE")
            .count(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fail_closed_stops_traffic_when_the_daemon_dies() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = Lab::new("c");
    let _seen = start_server(&lab);
    let dir = tempdir("c");
    // A fail-open daemon killed first leaves its bypass rule behind; the
    // fail-closed daemon must replace it, not run beside it.
    write_config(&dir, RULES, true);
    let mut d = Daemon::start(&lab, &dir);
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    drop(d);
    write_config(&dir, RULES, false);
    let mut d = Daemon::start(&lab, &dir);
    let o = run(
        "ip",
        &["netns", "exec", &lab.ns("rt"), "iptables", "-S", "FORWARD"],
    );
    let rules = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(rules.matches("NFQUEUE").count(), 1, "{rules}");
    assert!(!rules.contains("queue-bypass"), "{rules}");
    assert!(lab.get("/index.html", "10.213.1.2", "5").0);
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    assert!(
        !lab.get("/index.html", "10.213.1.2", "2").0,
        "fail-closed: traffic passed without the daemon"
    );
    drop(d);
    let _d = Daemon::start(&lab, &dir);
    assert!(
        lab.get("/index.html", "10.213.1.2", "5").0,
        "traffic did not resume after restart"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_example_config_checks() {
    let ex = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rampart.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["config", "check", "-c"])
        .arg(&ex)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("inline     NFQUEUE [0, 1] on forward, fail-open"),
        "{s}"
    );
}

#[test]
fn bad_configs_name_the_key_and_value() {
    let dir = tempdir("bad");
    std::fs::write(dir.join("r.rules"), RULES).unwrap();
    let cases = [
        ("[outputs]\neve_keep = \"five\"\n", &["eve_keep", "five"][..]),
        ("[daemon]\nsate_dir = \"/tmp\"\n", &["sate_dir"][..]),
        ("[firewall.allowlist]\naddresses = [\"10.1.2.0/33\"]\n", &["firewall.allowlist.addresses", "10.1.2.0/33"][..]),
        ("[[firewall.rules]]\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [\"2000-1000\"] }\n", &["firewall.rules[0].to.ports", "2000-1000"][..]),
        ("[rules]\nfiles = [\"missing.rules\"]\n", &["rules.files[0]", "missing.rules"][..]),
        ("[[ban_on_alert]]\nsid = 1\nduration = \"soon\"\n", &["ban_on_alert[0].duration", "soon"][..]),
    ];
    for (text, wants) in cases {
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            format!("[rules]\nfiles = [\"r.rules\"]\n{text}").replacen(
                "[rules]\nfiles = [\"r.rules\"]\n[rules]",
                "[rules]",
                1,
            ),
        )
        .unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["config", "check", "-c"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{text}");
        let e = String::from_utf8_lossy(&o.stderr);
        for w in wants {
            assert!(e.contains(w), "{text}: {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A network namespace of its own for one test, deleted on drop.
struct NetNs(String);

impl NetNs {
    fn new(tag: &str) -> NetNs {
        let ns = format!("r{}{tag}", std::process::id() % 100_000);
        ok("ip", &["netns", "add", &ns]);
        NetNs(ns)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.0]);
    }
}

/// Starts `rampart run -c DIR/rampart.toml` in namespace `ns`, its output
/// in `DIR/LOG`; `path` replaces `PATH` (a fake `journalctl`).
fn spawn_in_ns(ns: &str, dir: &Path, log: &str, path: Option<&str>) -> Child {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        ns,
        env!("CARGO_BIN_EXE_rampart"),
        "run",
        "-c",
    ])
    .arg(dir.join("rampart.toml"))
    .stdout(log.try_clone().unwrap())
    .stderr(log);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.spawn().unwrap()
}

/// The journal backend end to end: `backend = auto` with no log file on
/// disk (Debian 12's sshd) follows `journalctl -o json -f` with the
/// filter's `journalmatch` as separate arguments, formats entries as
/// fail2ban does (`HOST IDENT[PID]: MESSAGE`, the entry's own time) and
/// bans in the kernel set. The journal is a stand-in script first in
/// `PATH` (no journald runs in CI containers).
#[test]
fn jail_bans_from_the_journal() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let netns = NetNs::new("J");
    let ns = netns.0.clone();
    let dir = tempdir("journal");
    let conf = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/logs/sshd-sample.conf"),
    )
    .unwrap();
    std::fs::write(
        dir.join("sshd.conf"),
        format!("{conf}\njournalmatch = _SYSTEMD_UNIT=sshd.service + _COMM=sshd\n"),
    )
    .unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut entries = String::new();
    for (pid, ip) in [
        (101, "203.0.113.9"),
        (102, "203.0.113.9"),
        (103, "203.0.113.77"),
        (104, "203.0.113.9"),
    ] {
        entries.push_str(&format!(
            r#"{{"__REALTIME_TIMESTAMP":"{now}000000","_HOSTNAME":"web01","SYSLOG_IDENTIFIER":"sshd","SYSLOG_PID":"{pid}","MESSAGE":"Failed password for invalid user admin from {ip} port 5{pid} ssh2"}}"#
        ));
        entries.push('\n');
    }
    // A non-UTF-8 message arrives as an array of bytes.
    entries.push_str(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[255,0,65]}"#);
    entries.push('\n');
    std::fs::write(dir.join("entries.json"), entries).unwrap();
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > {args}\ncat {entries}\nexec sleep 600\n",
        args = dir.join("args.txt").display(),
        entries = dir.join("entries.json").display()
    );
    let fake = bin.join("journalctl");
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        r#"[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
[outputs]
eve = "eve.json"
[logs]
filter_dir = "."
[jails.sshd]
logpath = ["no-such-auth.log"]
backend = "auto"
maxretry = 3
findtime = "10m"
bantime = "1h"
"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
    );
    let mut child = spawn_in_ns(&ns, &dir, "daemon.log", Some(&path));
    let d = Daemon {
        child: Command::new("true").spawn().unwrap(),
        dir: dir.clone(),
        ns: ns.clone(),
    };
    let t = Instant::now();
    while !d.kernel_bans().contains("203.0.113.9") {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no ban from the journal: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(d.bans(), vec!["203.0.113.9".to_string()]);
    let args = std::fs::read_to_string(dir.join("args.txt")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        args,
        [
            "-o",
            "json",
            "-f",
            "-n",
            "0",
            "--no-pager",
            "-q",
            "_SYSTEMD_UNIT=sshd.service",
            "+",
            "_COMM=sshd"
        ]
    );
    assert_eq!(d.status()["jails"][0]["failures"], 4, "{}", d.status());
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jail_bans_from_a_tailed_log_and_refuses_hostile_files() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let netns = NetNs::new("j");
    let ns = netns.0.clone();
    let dir = tempdir("jail");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/logs/sshd-sample.conf"),
        dir.join("sshd.conf"),
    )
    .unwrap();
    std::fs::write(dir.join("auth.log"), "").unwrap();
    std::os::unix::fs::symlink("/etc/shadow", dir.join("evil.log")).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        r#"[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
[outputs]
eve = "eve.json"
[logs]
filter_dir = "."
[jails.sshd]
logpath = ["auth.log", "evil.log"]
backend = "polling"
maxretry = 3
findtime = "10m"
bantime = "1h"
[firewall.allowlist]
addresses = ["192.0.2.10"]
"#,
    )
    .unwrap();
    let mut child = spawn_in_ns(&ns, &dir, "daemon.log", None);
    let d = Daemon {
        child: Command::new("true").spawn().unwrap(),
        dir: dir.clone(),
        ns: ns.clone(),
    };
    let t = Instant::now();
    while !d.ctl(&["status"]).status.success() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "daemon not ready: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("auth.log"))
        .unwrap();
    let fail = |ip: &str, n: u32| {
        format!("Jan 10 00:00:{n:02} web01 sshd[1228]: Failed password for invalid user admin from {ip} port 52011 ssh2\n")
    };
    // Hostile content first: a 1 MB line, invalid UTF-8 and NUL bytes.
    f.write_all(&vec![b'A'; 1 << 20]).unwrap();
    f.write_all(b"\n\xff\xfe\x00 sshd[1]: junk\n").unwrap();
    // Two failures: below maxretry; then an allowlisted address fails often.
    for n in 0..2 {
        f.write_all(fail("198.51.100.7", n).as_bytes()).unwrap();
    }
    for n in 0..5 {
        f.write_all(fail("192.0.2.10", n).as_bytes()).unwrap();
    }
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.bans().is_empty(), "{:?}", d.bans());
    // The third failure bans, in the kernel set, within moments.
    f.write_all(fail("198.51.100.7", 3).as_bytes()).unwrap();
    f.flush().unwrap();
    let t = Instant::now();
    while !d.kernel_bans().contains("198.51.100.7") {
        assert!(t.elapsed() < Duration::from_secs(2), "no ban: {}", d.log());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(d.bans(), vec!["198.51.100.7".to_string()]);
    let status = d.status();
    assert_eq!(status["jails"][0]["failures"], 8, "{status}");
    let log = d.log();
    assert!(log.contains("evil.log: refused: a symbolic link"), "{log}");
    assert!(!log.contains("root:"), "{log}");
    // A reload with a changed jail restarts the watcher where it stopped:
    // with maxretry 1, one new failure bans.
    let cfg = std::fs::read_to_string(dir.join("rampart.toml")).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        cfg.replace("maxretry = 3", "maxretry = 1"),
    )
    .unwrap();
    let o = d.ctl(&["reload"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    f.write_all(fail("198.51.100.20", 5).as_bytes()).unwrap();
    f.flush().unwrap();
    let t = Instant::now();
    while !d.kernel_bans().contains("198.51.100.20") {
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "no ban after the reload: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Lines read before the reload were not read again.
    assert_eq!(d.status()["jails"][0]["failures"], 1, "{}", d.status());
    // The ban survives a restart (restored from the store).
    child.kill().unwrap();
    child.wait().unwrap();
    ok(
        "ip",
        &[
            "netns", "exec", &ns, "nft", "flush", "set", "inet", "rampart", "bans_v4",
        ],
    );
    let mut child = spawn_in_ns(&ns, &dir, "daemon2.log", None);
    let t = Instant::now();
    while !d.ctl(&["status"]).status.success() {
        assert!(t.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        d.kernel_bans().contains("198.51.100.7"),
        "{}",
        d.kernel_bans()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_capture_alerts_without_verdicts() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = Lab::new("d");
    let seen = start_server(&lab);
    let dir = tempdir("d");
    std::fs::write(dir.join("test.rules"), RULES).unwrap();
    std::fs::write(
        dir.join("rampart.toml"),
        format!(
            r#"[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
[rules]
files = ["test.rules"]
[outputs]
eve = "eve.json"
[capture]
interfaces = ["{}rc"]
threads = 2
"#,
            lab.p
        ),
    )
    .unwrap();
    let d = Daemon::start(&lab, &dir);
    // IDS mode: the drop rule's request still reaches the server.
    assert!(lab.get("/evil", "10.213.1.2", "5").0);
    assert!(lab.get("/admin", "10.213.1.2", "5").0);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.starts_with("GET /evil")));
    let t = Instant::now();
    let mut sids = Vec::new();
    while t.elapsed() < Duration::from_secs(10) {
        let eve = std::fs::read_to_string(dir.join("eve.json")).unwrap_or_default();
        sids = eve
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event_type"] == "alert")
            .map(|v| {
                (
                    v["alert"]["signature_id"].as_u64().unwrap(),
                    v["alert"]["action"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>();
        if sids.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        sids.contains(&(1000001, "allowed".into())),
        "{sids:?} {}",
        d.log()
    );
    assert!(sids.contains(&(1000003, "allowed".into())), "{sids:?}");
    let status = d.status();
    assert_eq!(status["workers"].as_array().unwrap().len(), 2, "{status}");
    assert!(
        status["totals"]["packets"].as_u64().unwrap() >= 10,
        "{status}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
