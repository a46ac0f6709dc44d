//! `rampart detect` end to end: crafted traffic, hand-written rules, and the
//! EVE records that must come out.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rampart_packet::craft::{tcp_flags, PacketBuilder, TcpConversation};
use rampart_packet::pcap::PcapWriter;
use rampart_packet::{LinkType, Timestamp};
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-detect-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_frames(path: &Path, frames: &[(Timestamp, Vec<u8>)]) {
    let mut w = PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        LinkType::Ethernet,
        65535,
    )
    .unwrap();
    for (ts, f) in frames {
        w.write_packet(*ts, f).unwrap();
    }
    w.into_inner().unwrap();
}

fn conversation(request: &[u8], response: &[u8], client_port: u16) -> Vec<(Timestamp, Vec<u8>)> {
    TcpConversation::new(
        format!("192.168.1.10:{client_port}").parse().unwrap(),
        "203.0.113.5:80".parse().unwrap(),
    )
    .client_sends(request)
    .server_sends(response)
    .mss(16)
    .build()
    .unwrap()
}

fn detect(dir: &Path, pcap: &Path, rules: &str) -> (Output, Vec<Value>) {
    detect_with(dir, pcap, rules, &[])
}

/// `rampart detect` with extra flags; returns its output and EVE records.
fn detect_with(dir: &Path, pcap: &Path, rules: &str, extra: &[&str]) -> (Output, Vec<Value>) {
    let rules_path = dir.join("test.rules");
    std::fs::write(&rules_path, rules).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["detect", "--no-progress", "-r"])
        .arg(pcap)
        .arg("-S")
        .arg(&rules_path)
        .arg("-l")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let eve = std::fs::read_to_string(dir.join("eve.json")).unwrap_or_default();
    let records = eve
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, records)
}

/// Five PING/PONG connections from one client.
fn five_pings(pcap: &Path) {
    let mut frames = Vec::new();
    for i in 0..5u16 {
        frames.extend(conversation(b"PING\r\n", b"PONG\r\n", 41000 + i));
    }
    write_frames(pcap, &frames);
}

fn alert_counts(records: &[Value]) -> HashMap<u64, usize> {
    let mut m = HashMap::new();
    for r in records.iter().filter(|r| r["event_type"] == "alert") {
        *m.entry(r["alert"]["signature_id"].as_u64().unwrap())
            .or_default() += 1;
    }
    m
}

#[test]
fn stream_content_flow_and_flowbits() {
    let dir = scratch("stream");
    let pcap = dir.join("http.pcap");
    // The request is cut into 16-byte segments: "evil.exe" spans two of
    // them, so only stream inspection can see it.
    let frames = conversation(
        b"GET /download/evil.exe HTTP/1.1\r\nHost: example.test\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nMZ",
        40001,
    );
    write_frames(&pcap, &frames);
    let rules = r#"
alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"exe download request"; flow:established,to_server; content:"GET "; startswith; content:"evil.exe"; distance:0; flowbits:set,exe_req; flowbits:noalert; sid:1; rev:1;)
alert tcp $EXTERNAL_NET 80 -> $HOME_NET any (msg:"MZ after exe request"; flow:established,to_client; flowbits:isset,exe_req; content:"|0d 0a 0d 0a|MZ"; classtype:trojan-activity; sid:2; rev:3;)
alert tcp any any -> any any (msg:"never: wrong direction"; flow:to_client; content:"evil.exe"; sid:3;)
alert tcp any any -> any any (msg:"never: flowbit not set"; flowbits:isset,other; content:"MZ"; sid:4;)
alert tcp any any -> any 80 (msg:"syn"; flags:S; sid:5;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), None, "noalert rule must not alert");
    assert_eq!(counts.get(&2), Some(&1));
    assert_eq!(counts.get(&3), None);
    assert_eq!(counts.get(&4), None);
    assert_eq!(counts.get(&5), Some(&1));
    let a = recs
        .iter()
        .find(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(a["src_ip"], "203.0.113.5");
    assert_eq!(a["src_port"], 80);
    assert_eq!(a["dest_ip"], "192.168.1.10");
    assert_eq!(a["proto"], "TCP");
    assert_eq!(a["alert"]["rev"], 3);
    assert_eq!(a["alert"]["signature"], "MZ after exe request");
    assert!(a["flow_id"].as_u64().is_some());
    let stats = recs.iter().find(|r| r["event_type"] == "stats").unwrap();
    assert_eq!(stats["stats"]["detect"]["alert"], 2);
}

#[test]
fn thresholds_limit_alerts_per_source() {
    let dir = scratch("threshold");
    let pcap = dir.join("many.pcap");
    five_pings(&pcap);
    let rules = r#"
alert tcp any any -> any any (msg:"ping"; flow:to_server; content:"PING"; threshold:type limit, track by_src, count 2, seconds 60; sid:10;)
alert tcp any any -> any any (msg:"pong"; flow:to_client; content:"PONG"; sid:11;)
alert tcp any any -> any any (msg:"every 2nd ping"; flow:to_server; content:"PING"; threshold:type threshold, track by_src, count 2, seconds 60; sid:12;)
alert tcp any any -> any any (msg:"after 3 pings"; flow:to_server; content:"PING"; detection_filter:track by_src, count 3, seconds 60; sid:13;)
"#;
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&10), Some(&2));
    assert_eq!(counts.get(&11), Some(&5));
    assert_eq!(counts.get(&12), Some(&2));
    assert_eq!(counts.get(&13), Some(&2));
}

#[test]
fn threshold_file_suppresses_and_overrides_rate_control() {
    let dir = scratch("threshold-file");
    let pcap = dir.join("many.pcap");
    five_pings(&pcap);
    let rules = r#"
alert tcp any any -> any any (msg:"ping"; flow:to_server; content:"PING"; threshold:type limit, track by_src, count 2, seconds 60; sid:10;)
alert tcp any any -> any any (msg:"pong"; flow:to_client; content:"PONG"; sid:11;)
alert tcp any any -> any any (msg:"ping from client"; flow:to_server; content:"PING"; sid:12;)
alert tcp any any -> any any (msg:"ping to other"; flow:to_server; content:"PING"; sid:13;)
"#;
    let config = dir.join("threshold.config");
    std::fs::write(
        &config,
        "# every pong muted; sid 10 raised from 2 to 4 per source\n\
         suppress gen_id 1, sig_id 11\n\
         threshold gen_id 1, sig_id 10, type limit, track by_src, count 4, seconds 60\n\
         suppress gen_id 1, sig_id 12, track by_src, ip 192.168.1.0/24\n\
         suppress gen_id 1, sig_id 13, track by_dst, ip 198.51.100.0/24\n\
         suppress gen_id 1, sig_id 99\n",
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let (out, recs) = detect_with(&dir, &pcap, rules, &["--threshold-file", config_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("threshold.config:6: no loaded rule"),
        "{stderr}"
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&10), Some(&4));
    assert_eq!(counts.get(&11), None);
    assert_eq!(counts.get(&12), None);
    assert_eq!(counts.get(&13), Some(&5));
}

#[test]
fn a_broken_rule_is_reported_and_the_others_load() {
    let dir = scratch("broken");
    let pcap = dir.join("c.pcap");
    write_frames(&pcap, &conversation(b"hello", b"world", 42000));
    let rules = "alert tcp any any -> any any (msg:\"ok\"; content:\"hello\"; sid:1;)\n\
                 alert tcp any any -> any any (msg:\"broken\"; content:\"x\"; nosuchkeyword; sid:2;)\n\
                 alert tcp any any -> any any (msg:\"ok too\"; content:\"world\"; sid:3;)\n";
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 rules loaded, 1 rejected"), "{err}");
    assert!(
        err.contains("test.rules:2:"),
        "the bad line is named: {err}"
    );
    assert!(err.contains("nosuchkeyword"), "{err}");
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&3), Some(&1));
}

#[test]
fn catastrophic_pcre_is_bounded_and_counted() {
    let dir = scratch("pcre");
    let pcap = dir.join("p.pcap");
    let mut payload = vec![b'a'; 4000];
    payload.push(b'!');
    write_frames(&pcap, &conversation(&payload, b"ok", 43000));
    let rules = "alert tcp any any -> any any (msg:\"redos\"; content:\"aaaa\"; pcre:\"/^(a+)+$/\"; sid:1;)\n";
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(out.status.success());
    let stats = recs.iter().find(|r| r["event_type"] == "stats").unwrap();
    assert!(
        stats["stats"]["detect"]["pcre_limit_hits"]
            .as_u64()
            .unwrap()
            >= 1,
        "{stats}"
    );
    assert_eq!(alert_counts(&recs).get(&1), None);
}

#[test]
fn header_rules_on_packets() {
    let dir = scratch("hdr");
    let pcap = dir.join("h.pcap");
    let frames: Vec<(Timestamp, Vec<u8>)> = vec![(
        Timestamp::from_secs(1_700_000_000),
        rampart_packet::craft::PacketBuilder::ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
            .ttl(3)
            .tcp(1234, 4444)
            .flags(tcp_flags::SYN | tcp_flags::FIN)
            .build()
            .unwrap(),
    )];
    write_frames(&pcap, &frames);
    let rules = "alert tcp any any -> any 4444 (msg:\"SYN FIN\"; flags:SF; ttl:<5; sid:1;)\n\
                 alert tcp any any -> any 4444 (msg:\"not exactly S\"; flags:S; sid:2;)\n\
                 alert tcp any any -> any 4444 (msg:\"S plus\"; flags:S+; sid:3;)\n\
                 alert ip any any -> any any (msg:\"ipv4 header ttl 3\"; ipv4.hdr; content:\"|03 06|\"; offset:8; depth:2; sid:4;)\n";
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&2), None);
    assert_eq!(counts.get(&3), Some(&1));
    assert_eq!(counts.get(&4), Some(&1));
}

#[test]
fn closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["inspect", "--no-progress"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/sample.pcap"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// The README's sample: every rule in samples/sample.rules fires on
/// samples/sample.pcap exactly as often as Suricata 7.0.10 fires it on the
/// same files. The three rules whose content starts a TCP message alert
/// twice: once on the packet, once on the reassembled stream.
#[test]
fn sample_rules_fire_on_the_sample_capture() {
    let dir = scratch("sample");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let rules = std::fs::read_to_string(format!("{root}/samples/sample.rules")).unwrap();
    let (out, recs) = detect(
        &dir,
        Path::new(&format!("{root}/samples/sample.pcap")),
        &rules,
    );
    assert!(out.status.success());
    let counts = alert_counts(&recs);
    for (sid, want) in [
        (9000001, 2),
        (9000002, 2),
        (9000003, 1),
        (9000004, 2),
        (9000005, 2),
        (9000006, 1),
        (9000007, 1),
    ] {
        assert_eq!(counts.get(&sid), Some(&want), "sid {sid}");
    }
}

#[test]
fn stream_size_counts_the_syn_and_the_bytes_sent() {
    let dir = scratch("stream-size");
    let pcap = dir.join("one.pcap");
    write_frames(&pcap, &conversation(b"PING\r\n", b"PONG\r\n", 41000));
    // The client sent a SYN (one sequence number) and six bytes. A
    // stream_size rule, like one with anchored content, is tried on the
    // packet and on the reassembled chunk (at close): two alerts, as in
    // Suricata.
    let rules = r#"
alert tcp any any -> any any (msg:"exact"; flow:to_server; content:"PING"; stream_size:client,=,7; sid:1;)
alert tcp any any -> any any (msg:"too big"; flow:to_server; content:"PING"; stream_size:client,>,7; sid:2;)
alert tcp any any -> any any (msg:"either"; flow:to_server; content:"PING"; stream_size:either,>=,7; sid:3;)
"#;
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&2));
    assert_eq!(counts.get(&2), None);
    assert_eq!(counts.get(&3), Some(&2));
}

fn chat(handshake: bool) -> Vec<(Timestamp, Vec<u8>)> {
    let mut c = TcpConversation::new(
        "192.168.1.10:41000".parse().unwrap(),
        "203.0.113.5:6667".parse().unwrap(),
    )
    .handshake(handshake);
    for i in 0..3 {
        c = c
            .client_sends(format!("PRIVMSG #room :hello {i}\r\n"))
            .server_sends(":ok\r\n");
    }
    c.build().unwrap()
}

/// Small messages are inspected as one reassembled chunk when the
/// connection closes (nothing reached the 2,560-byte chunk size), so an
/// unanchored content present in three messages alerts once, as Suricata
/// does; an anchored one is also tried on each packet.
#[test]
fn small_messages_are_inspected_as_one_chunk_at_close() {
    let dir = scratch("chunk");
    let pcap = dir.join("chat.pcap");
    write_frames(&pcap, &chat(true));
    let rules = r#"
alert tcp any any -> any 6667 (msg:"privmsg anywhere"; flow:established,to_server; content:"PRIVMSG|20|"; sid:1;)
alert tcp any any -> any 6667 (msg:"privmsg first"; flow:established,to_server; content:"PRIVMSG|20|"; depth:8; sid:2;)
"#;
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1));
    // Three packets and the chunk (which starts with a PRIVMSG).
    assert_eq!(counts.get(&2), Some(&4));
}

/// A capture that starts mid-connection is inspected packet by packet and
/// is never `established` unless `--midstream` is given.
#[test]
fn midstream_connections_are_not_established_by_default() {
    let dir = scratch("midstream");
    let pcap = dir.join("mid.pcap");
    write_frames(&pcap, &chat(false));
    let rules = r#"
alert tcp any any -> any 6667 (msg:"established"; flow:established,to_server; content:"PRIVMSG|20|"; sid:1;)
alert tcp any any -> any 6667 (msg:"any state"; flow:to_server; content:"PRIVMSG|20|"; sid:2;)
"#;
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), None);
    assert_eq!(counts.get(&2), Some(&3));

    let (out, recs) = detect_with(&dir, &pcap, rules, &["--midstream"]);
    assert!(out.status.success());
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&2), Some(&1));
}

/// HTTP rules inspect parsed transactions: request buffers once the
/// request is complete, response buffers once the response is.
#[test]
fn http_buffers_match_parsed_transactions() {
    let dir = scratch("http");
    let pcap = dir.join("http.pcap");
    write_frames(
        &pcap,
        &conversation(
            b"GET /a/./b/../admin.php?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: evilbot/1.0\r\nCookie: s=1\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nServer: tiny\r\nContent-Length: 5\r\n\r\nnope!",
            41000,
        ),
    );
    let rules = r#"
alert http any any -> any any (msg:"uri normalised"; flow:established,to_server; http.uri; content:"/a/admin.php"; startswith; sid:1;)
alert http any any -> any any (msg:"method+host"; http.method; content:"GET"; http.host; content:"example.com"; endswith; sid:2;)
alert http any any -> any any (msg:"ua"; http.user_agent; content:"evilbot"; nocase; sid:3;)
alert http any any -> any any (msg:"404 after admin"; flow:established,to_client; http.stat_code; content:"404"; http.uri; content:"admin"; sid:4;)
alert http any any -> any any (msg:"body"; flow:to_client; http.response_body; content:"nope"; sid:5;)
alert http any any -> any any (msg:"no match"; http.uri; content:"/nothere"; sid:6;)
alert tcp any any -> any any (msg:"modifier style"; flow:to_server; content:"admin"; http_uri; content:"s=1"; http_cookie; sid:7;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    for sid in [1, 2, 3, 4, 5, 7] {
        assert_eq!(counts.get(&sid), Some(&1), "sid {sid}: {counts:?}");
    }
    assert_eq!(counts.get(&6), None);
}

#[test]
fn eve_types_pick_the_records_written() {
    let dir = scratch("eve-types");
    let pcap = dir.join("http.pcap");
    write_frames(
        &pcap,
        &conversation(
            b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            41001,
        ),
    );
    let rules = r#"alert http any any -> any any (msg:"x"; http.uri; content:"/x"; sid:1;)"#;
    let kinds = |recs: &[Value]| {
        let mut k: Vec<String> = recs
            .iter()
            .map(|r| r["event_type"].as_str().unwrap().to_string())
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(out.status.success());
    assert_eq!(kinds(&recs), ["alert", "http", "stats"]);
    let (out, recs) = detect_with(&dir, &pcap, rules, &["--eve-types", "alert"]);
    assert!(out.status.success());
    assert_eq!(kinds(&recs), ["alert", "stats"]);
    let (out, recs) = detect_with(&dir, &pcap, rules, &["--eve-types", "http"]);
    assert!(out.status.success());
    assert_eq!(kinds(&recs), ["http", "stats"]);
    let (out, _) = detect_with(&dir, &pcap, rules, &["--eve-types", "alert,flows"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("flows"));
}

#[test]
fn datasets_load_beside_the_rules_and_grow_with_set() {
    let dir = scratch("datasets");
    let pcap = dir.join("http.pcap");
    let mut frames = conversation(
        b"GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/7.43.0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        41002,
    );
    frames.extend(conversation(
        b"GET /b HTTP/1.1\r\nHost: a\r\nUser-Agent: evil/1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        41003,
    ));
    write_frames(&pcap, &frames);
    // "curl/7.43.0" in base64, the format of Suricata's string sets.
    std::fs::write(dir.join("ua.csv"), "Y3VybC83LjQzLjA=\n").unwrap();
    let rules = r#"
alert http any any -> any any (msg:"known ua"; http.user_agent; dataset:isset,ua,type string,load ua.csv; sid:1;)
alert http any any -> any any (msg:"new ua"; http.user_agent; dataset:set,ua; sid:2;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    // curl is known: sid 1 only; evil/1 is new: sid 2 adds it.
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    // A missing file rejects the rule and says where it looked.
    let (out, _) = detect(
        &dir,
        &pcap,
        r#"alert http any any -> any any (http.user_agent; dataset:isset,x,load missing.csv; sid:3;)"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot find missing.csv"), "{stderr}");
}

#[test]
fn file_name_keywords_on_http_downloads() {
    let dir = scratch("filename");
    let pcap = dir.join("http.pcap");
    write_frames(
        &pcap,
        &conversation(
            b"GET /~u/./R.pdf?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n%PDF-1.5",
            41004,
        ),
    );
    let rules = r#"
alert tcp any any -> any any (filename:"r.PDF"; sid:1;)
alert http any any -> any any (fileext:"pdf"; filestore; sid:2;)
alert http any any -> any any (fileext:!"pdf"; sid:3;)
alert http any any -> any any (file.name; content:"/~u/R.pdf"; startswith; endswith; sid:4;)
alert http any any -> any any (file.name; content:"x=1"; sid:5;)
alert http any any -> any any (filemagic:"pdf document"; sid:6;)
alert http any any -> any any (file.magic; content:"PDF document, version 1.5"; bsize:25; sid:7;)
alert http any any -> any any (filemagic:"executable"; sid:8;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    for sid in [1, 2, 4, 6, 7] {
        assert_eq!(counts.get(&sid), Some(&1), "sid {sid}: {counts:?}");
    }
    // The name is the path: no query; the extension matched.
    assert_eq!(counts.get(&3), None, "{counts:?}");
    assert_eq!(counts.get(&5), None, "{counts:?}");
    assert_eq!(counts.get(&8), None, "{counts:?}");
}

/// An SSH binary packet (RFC 4253 §6) around `payload`, 4 bytes of padding.
fn ssh_packet(payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 5) as u32).to_be_bytes().to_vec();
    v.push(4);
    v.extend_from_slice(payload);
    v.extend_from_slice(&[0; 4]);
    v
}

/// A KEXINIT offering `kex`, `enc`, `mac` and `comp` both ways.
fn ssh_kexinit(kex: &str, enc: &str, mac: &str, comp: &str) -> Vec<u8> {
    let mut p = vec![20];
    p.extend_from_slice(&[7; 16]);
    for l in [kex, "ssh-ed25519", enc, enc, mac, mac, comp, comp, "", ""] {
        p.extend_from_slice(&(l.len() as u32).to_be_bytes());
        p.extend_from_slice(l.as_bytes());
    }
    p.extend_from_slice(&[0; 5]);
    ssh_packet(&p)
}

#[test]
fn ssh_banners_hassh_and_records() {
    let dir = scratch("ssh");
    let pcap = dir.join("ssh.pcap");
    let mut client = b"SSH-2.0-OpenSSH_9.6 client\r\n".to_vec();
    client.extend(ssh_kexinit(
        "curve25519-sha256",
        "aes128-ctr",
        "hmac-sha2-256",
        "none",
    ));
    client.extend(ssh_packet(&[21]));
    client.extend_from_slice(&[0xee; 64]);
    let mut server = b"SSH-1.99-dropbear_2022.83\n".to_vec();
    server.extend(ssh_kexinit(
        "curve25519-sha256",
        "aes256-ctr",
        "hmac-sha1",
        "zlib",
    ));
    server.extend(ssh_packet(&[21]));
    server.extend_from_slice(&[0xdd; 64]);
    let frames = TcpConversation::new(
        "192.168.1.10:41022".parse().unwrap(),
        "203.0.113.5:22".parse().unwrap(),
    )
    .client_sends(&client)
    .server_sends(&server)
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    // hashlib.md5(b"curve25519-sha256;aes128-ctr;hmac-sha2-256;none") and
    // (b"curve25519-sha256;aes256-ctr;hmac-sha1;zlib").
    let rules = r#"
alert ssh any any -> any any (msg:"software both ways"; ssh.software; content:"_"; sid:1;)
alert ssh any any -> any any (msg:"client proto"; flow:to_server; ssh_proto; content:"2.0"; sid:2;)
alert ssh any any -> any any (msg:"server proto"; ssh.proto; content:"1.99"; sid:3;)
alert ssh any any -> any any (msg:"hassh"; ssh.hassh; content:"e97d07603350d1111ec2b64bf25413c9"; sid:4;)
alert ssh any any -> any any (msg:"hassh server"; ssh.hassh.server; content:"1d28bf246fed683b2556414dbd13cd28"; sid:5;)
alert ssh any any -> any any (msg:"hassh string"; ssh.hassh.string; content:"aes128-ctr|3b|hmac"; sid:6;)
alert ssh any any -> any any (msg:"raw newkeys"; flow:to_server; content:"|00 00 00 06 04 15|"; sid:7;)
alert ssh any any -> any any (msg:"no event"; app-layer-event:ssh.invalid_banner; sid:8;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let ssh: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "ssh").collect();
    assert_eq!(ssh.len(), 1);
    let s = &ssh[0]["ssh"];
    assert_eq!(s["client"]["proto_version"], "2.0");
    assert_eq!(s["client"]["software_version"], "OpenSSH_9.6");
    assert_eq!(s["server"]["software_version"], "dropbear_2022.83");
    assert_eq!(
        s["client"]["hassh"]["hash"],
        "e97d07603350d1111ec2b64bf25413c9"
    );
    assert_eq!(
        s["server"]["hassh"]["string"],
        "curve25519-sha256;aes256-ctr;hmac-sha1;zlib"
    );
    assert_eq!(ssh[0]["src_port"], 41022);
    let alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 3)
        .unwrap();
    assert_eq!(alert["app_proto"], "ssh");
    assert_eq!(alert["ssh"]["server"]["proto_version"], "1.99");
    // Without HASSH rules no HASSH is computed or logged.
    let (_, recs) = detect(
        &dir,
        &pcap,
        "alert ssh any any -> any any (ssh.proto; content:\"2\"; sid:9;)",
    );
    let ssh: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "ssh").collect();
    assert_eq!(ssh.len(), 1);
    assert!(ssh[0]["ssh"]["client"].get("hassh").is_none());
}

#[test]
fn raw_content_beside_http_buffers_matches_the_message() {
    let dir = scratch("http-mixed");
    let pcap = dir.join("http.pcap");
    write_frames(
        &pcap,
        &conversation(
            b"GET /list.asp?id=1%20UNION%20SELECT%20pw HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            41005,
        ),
    );
    // Old ET rules put the SQL words in raw content beside http.uri.
    let rules = r#"
alert http any any -> any any (flow:established,to_server; content:"SELECT"; nocase; http.uri; content:"/list.asp?"; sid:1;)
alert http any any -> any any (flow:established,to_server; content:"DELETE"; nocase; http.uri; content:"/list.asp?"; sid:2;)
alert http any any -> any any (flow:established,to_client; content:"200 OK"; http.stat_code; content:"200"; sid:3;)
alert http any any -> any any (msg:"keyword-less: a packet rule"; flow:to_server; sid:4;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&2), None, "{counts:?}");
    assert_eq!(counts.get(&3), Some(&1), "{counts:?}");
    // Every client packet once the request was acknowledged (the server's
    // ACK told Suricata the flow is HTTP): 3, as Suricata 7.0.10 gives on
    // this capture, at the same packets.
    assert_eq!(counts.get(&4), Some(&3), "{counts:?}");
}

#[test]
fn app_layer_protocol_tests_each_direction_once_decided() {
    let dir = scratch("alproto");
    let pcap = dir.join("alproto.pcap");
    // An HTTP exchange and a PING/PONG exchange that no parser knows.
    let mut frames = conversation(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        41000,
    );
    frames.extend(conversation(b"PING\r\n", b"PONG\r\n", 41001));
    write_frames(&pcap, &frames);
    let rules = r#"
alert tcp any any -> any any (msg:"http, detection only"; app-layer-protocol:http; sid:1;)
alert tcp any any -> any any (msg:"failed, detection only"; flow:to_server; app-layer-protocol:failed; sid:2;)
alert tcp any any -> any any (msg:"not http or tls"; flow:to_server; app-layer-protocol:!http; app-layer-protocol:!tls; sid:3;)
alert tcp any any -> any any (msg:"with content"; content:"200 OK"; app-layer-protocol:http; sid:4;)
alert tcp any any -> any any (msg:"with content, wrong protocol"; content:"PONG"; app-layer-protocol:http; sid:5;)
alert tcp any any -> any any (msg:"unknown never equals"; app-layer-protocol:unknown; sid:6;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    // Once per decided direction (request, response), not per packet.
    assert_eq!(counts.get(&1), Some(&2), "{counts:?}");
    // The PING side is decided as failed; the HTTP flow is not failed.
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&3), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&4), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&5), None, "{counts:?}");
    assert_eq!(counts.get(&6), None, "{counts:?}");
}

#[test]
fn dns_pdu_frames_over_udp() {
    let dir = scratch("dnspdu");
    let pcap = dir.join("dns.pcap");
    // A query for suricata.io: id 0x1234, flags 0x0120, one question.
    let mut query = b"\x12\x34\x01\x20\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
    query.extend_from_slice(b"\x08suricata\x02io\x00\x00\x01\x00\x01");
    let frame = PacketBuilder::new()
        .ipv4([10, 0, 0, 1], [10, 0, 0, 53])
        .udp(40000, 53)
        .payload(&query)
        .build()
        .unwrap();
    write_frames(&pcap, &[(Timestamp::from_nanos(1_000_000_000), frame)]);
    let rules = r#"
alert udp any any -> any any (flow:to_server; frame:dns.pdu; content:"|01 20 00 01|"; offset:2; depth:4; content:"suricata"; offset:13; sid:1;)
alert udp any any -> any any (frame:dns.pdu; content:"|01 20|"; offset:0; depth:2; sid:2;)
alert udp any any -> any any (frame:http.pdu; content:"x"; sid:3;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("frame http.pdu is not supported"),
        "{stderr}"
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&2), None, "{counts:?}");
}

/// A little-endian DCERPC PDU of type `ptype` around `body`.
fn dce_pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let mut v = vec![5, 0, ptype, flags, 0x10, 0, 0, 0];
    v.extend_from_slice(&((16 + body.len()) as u16).to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&call_id.to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// A bind offering `(ctx_id, uuid as on the wire)` contexts, version 1.0.
fn dce_bind(call_id: u32, items: &[(u16, [u8; 16])]) -> Vec<u8> {
    let mut b = vec![
        0xd0,
        0x16,
        0xd0,
        0x16,
        0,
        0,
        0,
        0,
        items.len() as u8,
        0,
        0,
        0,
    ];
    for (ctx, uuid) in items {
        b.extend_from_slice(&ctx.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(uuid);
        b.extend_from_slice(&[1, 0, 0, 0]);
        b.extend_from_slice(&[0x04; 20]);
    }
    dce_pdu(11, 3, call_id, &b)
}

#[test]
fn dcerpc_iface_opnum_and_stub_data() {
    let dir = scratch("dcerpc");
    let pcap = dir.join("dcerpc.pcap");
    // afa8bd80-7d8a-11c9-bef4-08002b102989 (mgmt) as a little-endian
    // sender puts it on the wire.
    let mgmt = [
        0x80, 0xbd, 0xa8, 0xaf, 0x8a, 0x7d, 0xc9, 0x11, 0xbe, 0xf4, 0x08, 0x00, 0x2b, 0x10, 0x29,
        0x89,
    ];
    let other = [0x22; 16];
    let mut client = dce_bind(1, &[(0, other), (1, mgmt)]);
    // The call: context 1, opnum 4, stub "abcd" + "efgh" in two fragments.
    for (flags, stub) in [(1u8, b"abcd"), (2u8, b"efgh")] {
        let mut body = vec![8, 0, 0, 0, 1, 0, 4, 0];
        body.extend_from_slice(stub);
        client.extend(dce_pdu(0, flags, 2, &body));
    }
    // A call that gets no answer: opnum 7.
    client.extend(dce_pdu(0, 3, 9, &[0, 0, 0, 0, 1, 0, 7, 0]));
    // Bind ack: secondary address "135\0", two results (provider
    // rejection, acceptance).
    let mut ack = vec![0xd0, 0x16, 0xd0, 0x16, 0, 0, 0, 0, 4, 0];
    ack.extend_from_slice(b"135\0");
    ack.extend_from_slice(&[0, 0, 2, 0, 0, 0]);
    for result in [2u16, 0] {
        ack.extend_from_slice(&result.to_le_bytes());
        ack.extend_from_slice(&[0; 22]);
    }
    let mut server = dce_pdu(12, 3, 1, &ack);
    server.extend(dce_pdu(2, 3, 2, b"\x05\x00\x00\x00\x01\x00\x00\x00world"));
    let frames = TcpConversation::new(
        "10.0.2.15:51286".parse().unwrap(),
        "192.168.3.43:49302".parse().unwrap(),
    )
    .mss(7)
    .client_sends(&client)
    .server_sends(&server)
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert dcerpc any any -> any any (msg:"iface both sides"; dcerpc.iface:afa8bd80-7d8a-11c9-bef4-08002b102989; sid:1;)
alert tcp any any -> any any (msg:"iface version"; flow:to_server; dce_iface:afa8bd80-7d8a-11c9-bef4-08002b102989,<1; sid:2;)
alert tcp any any -> any any (msg:"rejected iface"; dcerpc.iface:22222222-2222-2222-2222-222222222222; sid:3;)
alert tcp any any -> any any (msg:"opnum"; flow:to_server; dcerpc.opnum:2-5,9; sid:4;)
alert tcp any any -> any any (msg:"request stub"; flow:to_server; dcerpc.stub_data; content:"abcdefgh"; startswith; sid:5;)
alert dcerpc any any -> any any (msg:"response stub"; flow:to_client; dce_stub_data; content:"world"; startswith; sid:6;)
alert dcerpc any any -> any any (msg:"unanswered call"; dce_opnum:7; sid:7;)
alert dcerpc any any -> any any (msg:"iface any_frag version"; flow:to_server; dcerpc.iface:afa8bd80-7d8a-11c9-bef4-08002b102989,=1,any_frag; sid:8;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 3), (4, 1), (5, 1), (6, 1), (7, 1), (8, 2)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 4)
        .unwrap();
    assert_eq!(alert["app_proto"], "dcerpc");
    assert_eq!(alert["dcerpc"]["req"]["opnum"], 4);
    assert_eq!(alert["dcerpc"]["req"]["frag_cnt"], 2);
    let dce: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "dcerpc")
        .collect();
    assert_eq!(dce.len(), 3);
    assert_eq!(dce[0]["dcerpc"]["request"], "BIND");
    assert_eq!(dce[0]["dcerpc"]["response"], "BINDACK");
    assert_eq!(
        dce[0]["dcerpc"]["interfaces"][1]["uuid"],
        "afa8bd80-7d8a-11c9-bef4-08002b102989"
    );
    assert_eq!(dce[0]["dcerpc"]["interfaces"][0]["ack_result"], 2);
    assert_eq!(dce[1]["dcerpc"]["request"], "REQUEST");
    assert_eq!(dce[1]["dcerpc"]["res"]["stub_data_size"], 5);
    assert_eq!(dce[1]["dcerpc"]["call_id"], 2);
    // The unanswered call, logged when the flow ends.
    assert_eq!(dce[2]["dcerpc"]["req"]["opnum"], 7);
    assert_eq!(dce[2]["dcerpc"]["response"], "UNREPLIED");
    // The interface of the context the call used (as Suricata 8 logs it).
    assert_eq!(
        dce[1]["dcerpc"]["interfaces"][0]["uuid"],
        "afa8bd80-7d8a-11c9-bef4-08002b102989"
    );
}

/// A NetBIOS session message holding one SMB2 command.
fn smb2_message(command: u16, response: bool, msg_id: u64, body: &[u8]) -> Vec<u8> {
    let mut h = b"\xfeSMB".to_vec();
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&[0; 6]); // credit charge, status
    h.extend_from_slice(&command.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&u32::from(response).to_le_bytes());
    h.extend_from_slice(&[0; 4]); // next command
    h.extend_from_slice(&msg_id.to_le_bytes());
    h.resize(64, 0);
    h.extend_from_slice(body);
    let mut m = (h.len() as u32).to_be_bytes().to_vec();
    m[0] = 0;
    m.extend(h);
    m
}

#[test]
fn dcerpc_over_smb2_named_pipes() {
    let dir = scratch("dcerpc-smb");
    let pcap = dir.join("smb.pcap");
    // 367abb81-9844-35f1-ad32-98f038001003 (svcctl) on the wire.
    let svcctl = [
        0x81, 0xbb, 0x7a, 0x36, 0x44, 0x98, 0xf1, 0x35, 0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10,
        0x03,
    ];
    let fid = [0x42; 16];
    let write = |data: &[u8]| {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&fid);
        b.resize(48, 0);
        b.extend_from_slice(data);
        smb2_message(9, false, 3, &b)
    };
    let read = |msg_id: u64| {
        let mut b = vec![49, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&fid);
        b.resize(49, 0);
        smb2_message(8, false, msg_id, &b)
    };
    let read_response = |msg_id: u64, data: &[u8]| {
        let mut b = vec![17, 0, 80, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.resize(16, 0);
        b.extend_from_slice(data);
        smb2_message(8, true, msg_id, &b)
    };
    let mut ack = vec![0xd0, 0x16, 0xd0, 0x16, 0, 0, 0, 0, 4, 0];
    ack.extend_from_slice(b"135\0");
    ack.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    ack.extend_from_slice(&[0; 24]);
    // OpenSCManagerW (opnum 15) on context 0.
    let mut call = vec![8, 0, 0, 0, 0, 0, 15, 0];
    call.extend_from_slice(b"\\\\VICTIM\0");
    let mut client = write(&dce_bind(2, &[(0, svcctl)]));
    client.extend(read(4));
    client.extend(write(&dce_pdu(0, 3, 3, &call)));
    client.extend(read(6));
    let mut server = read_response(4, &dce_pdu(12, 3, 2, &ack));
    server.extend(read_response(
        6,
        &dce_pdu(2, 3, 3, b"\x14\x00\x00\x00\x00\x00\x00\x00handle"),
    ));
    let frames = TcpConversation::new(
        "192.168.10.31:49301".parse().unwrap(),
        "192.168.10.10:445".parse().unwrap(),
    )
    .client_sends(&client)
    .server_sends(&server)
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert smb any any -> any any (msg:"smb iface opnum"; dcerpc.iface:367abb81-9844-35f1-ad32-98f038001003; dcerpc.opnum:15; sid:1;)
alert tcp any any -> any any (msg:"to server"; flow:to_server; dcerpc.iface:367abb81-9844-35f1-ad32-98f038001003; dcerpc.opnum:15; sid:2;)
alert smb any any -> any any (msg:"response stub"; flow:to_client; dcerpc.stub_data; content:"handle"; sid:3;)
alert smb any any -> any any (msg:"other opnum"; dcerpc.opnum:16; sid:4;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 2), (2, 1), (3, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(alert["app_proto"], "smb");
    assert_eq!(alert["dcerpc"]["req"]["opnum"], 15);
    // The bind and the call, both answered.
    let dce: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "dcerpc")
        .collect();
    assert_eq!(dce.len(), 2);
    assert_eq!(dce[1]["dcerpc"]["response"], "RESPONSE");
}

#[test]
fn smtp_mail_attachments_and_records() {
    let dir = scratch("smtp");
    let pcap = dir.join("smtp.pcap");
    let message = b"From: \"Alice\" <alice@example.com>\r\n\
To: <bob@example.net>, \"Carol, C\" <carol@example.net>\r\n\
Subject: report\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: text/plain\r\n\r\n..see attached\r\n\
--outer\r\nContent-Type: application/octet-stream; name=\"report.exe\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n\
TVqQAEVWSUwtUEFZTE9BRC1N\r\nQVJLRVI=\r\n--outer--\r\n.\r\n";
    let frames = TcpConversation::new(
        "192.168.1.10:41025".parse().unwrap(),
        "203.0.113.5:25".parse().unwrap(),
    )
    .server_sends(b"220 mx.example.net ESMTP\r\n")
    .client_sends(b"EHLO laptop.example.com\r\n")
    .server_sends(b"250-mx.example.net\r\n250 PIPELINING\r\n")
    .client_sends(
        b"MAIL FROM:<alice@example.com> SIZE=300\r\nRCPT TO:<bob@example.net>\r\n\
RCPT TO:<carol@example.net>\r\nDATA\r\n",
    )
    .server_sends(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n")
    .client_sends(message)
    .server_sends(b"250 queued\r\n")
    .client_sends(b"QUIT\r\n")
    .server_sends(b"221 bye\r\n")
    .mss(64)
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    // "TVqQAEVWSUwtUEFZTE9BRC1NQVJLRVI=" is base64 of "MZ\x90\x00EVIL-PAYLOAD-MARKER".
    let rules = r#"
alert smtp any any -> any any (msg:"raw"; flow:established,to_server; content:"RCPT TO|3a|<carol"; sid:1;)
alert smtp any any -> any any (msg:"decoded attachment"; flow:to_server; file_data; content:"MZ"; startswith; content:"EVIL-PAYLOAD-MARKER"; sid:2;)
alert smtp any any -> any any (msg:"name"; file.name; content:".exe"; endswith; sid:3;)
alert smtp any any -> any any (msg:"encoded text is not file data"; file_data; content:"TVqQ"; sid:4;)
alert smtp any any -> any any (msg:"helo"; smtp.helo; content:"laptop"; sid:5;)
alert smtp any any -> any any (msg:"rcpt"; smtp.rcpt_to; content:"<carol@"; sid:6;)
alert smtp any any -> any any (msg:"no event"; app-layer-event:smtp.mime_long_boundary; sid:7;)
alert ftp any any -> any any (msg:"not ftp"; content:"EHLO"; sid:8;)
alert smtp any any -> any any (msg:"listed md5"; filemd5:attachments.md5; sid:9;)
alert smtp any any -> any any (msg:"unlisted md5"; filemd5:!attachments.md5; sid:10;)
"#;
    // md5(b"MZ\x90\x00EVIL-PAYLOAD-MARKER"), next to the rule file.
    std::fs::write(
        dir.join("attachments.md5"),
        "00000000000000000000000000000000\n16985209aa98483891ce7c5057f8c852\n",
    )
    .unwrap();
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    // sid 5: the mail and the QUIT transaction both carry the HELO name.
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1), (3, 1), (5, 2), (6, 1), (9, 1)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let smtp: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "smtp").collect();
    assert_eq!(smtp.len(), 2, "{smtp:?}");
    let mail = smtp.iter().find(|r| r["tx_id"] == 0).unwrap();
    assert_eq!(mail["smtp"]["helo"], "laptop.example.com");
    assert_eq!(mail["smtp"]["mail_from"], "<alice@example.com>");
    assert_eq!(mail["smtp"]["rcpt_to"][1], "<carol@example.net>");
    assert_eq!(mail["email"]["status"], "PARSE_DONE");
    assert_eq!(mail["email"]["from"], "\"Alice\" <alice@example.com>");
    assert_eq!(mail["email"]["to"][1], "\"Carol, C\" <carol@example.net>");
    assert_eq!(mail["email"]["attachment"][0], "report.exe");
    let files: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "fileinfo")
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["app_proto"], "smtp");
    assert_eq!(files[0]["fileinfo"]["filename"], "report.exe");
    assert_eq!(files[0]["fileinfo"]["size"], 23);
    assert_eq!(
        files[0]["fileinfo"]["md5"],
        "16985209aa98483891ce7c5057f8c852"
    );
    assert_eq!(files[0]["email"]["from"], "\"Alice\" <alice@example.com>");
    let alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(alert["app_proto"], "smtp");
    assert_eq!(alert["files"][0]["filename"], "report.exe");
    assert_eq!(alert["files"][0]["size"], 23);
    assert_eq!(alert["files"][0]["state"], "CLOSED");
    assert_eq!(alert["smtp"]["rcpt_to"][0], "<bob@example.net>");
}

/// A TLS ClientHello record naming `sni`.
fn tls_client_hello(sni: &[u8]) -> Vec<u8> {
    let mut ext = Vec::new();
    let mut list = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    list.push(0);
    list.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    list.extend_from_slice(sni);
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
    ext.extend_from_slice(&list);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn smtp_starttls_continues_as_tls() {
    let dir = scratch("smtp-starttls");
    let pcap = dir.join("starttls.pcap");
    let frames = TcpConversation::new(
        "192.168.1.10:41026".parse().unwrap(),
        "203.0.113.5:587".parse().unwrap(),
    )
    .server_sends(b"220 mx.example.net ESMTP\r\n")
    .client_sends(b"EHLO laptop.example.com\r\n")
    .server_sends(b"250-mx.example.net\r\n250 STARTTLS\r\n")
    .client_sends(b"STARTTLS\r\n")
    .server_sends(b"220 go ahead\r\n")
    .client_sends(tls_client_hello(b"mail.example.net"))
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert tls any any -> any any (msg:"sni after starttls"; tls.sni; content:"mail.example.net"; sid:1;)
alert smtp any any -> any any (msg:"helo"; smtp.helo; content:"laptop"; sid:2;)
alert smtp any any -> any any (msg:"smtp rules stop at the switch"; content:"mail.example.net"; sid:3;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let sni = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(sni["app_proto"], "tls");
    // The EHLO/STARTTLS transaction is logged when the switch happens.
    let smtp: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "smtp").collect();
    assert_eq!(smtp.len(), 1);
    assert_eq!(smtp[0]["smtp"]["helo"], "laptop.example.com");
}

#[test]
fn http_where_tls_was_announced_after_starttls() {
    // STARTTLS accepted, then the server speaks HTTP and asks to switch
    // again (101 Upgrade: h2c): the flow becomes HTTP and the refused
    // second switch is an event of the response-only transaction,
    // inspected each way (as Suricata 7 does).
    let dir = scratch("starttls-http");
    let pcap = dir.join("starttls-http.pcap");
    let frames = TcpConversation::new(
        "192.168.1.10:41027".parse().unwrap(),
        "203.0.113.5:25".parse().unwrap(),
    )
    .server_sends(b"220 mx.example.net ESMTP\r\n")
    .client_sends(b"EHLO laptop.example.com\r\n")
    .server_sends(b"250-mx.example.net\r\n250 STARTTLS\r\n")
    .client_sends(b"STARTTLS\r\n")
    .server_sends(b"220 go ahead\r\n")
    .server_sends(b"HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n")
    .client_sends(b".")
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert http any any -> any any (msg:"failed change"; flow:established; app-layer-event:http.failed_protocol_change; sid:1;)
alert smtp any any -> any any (msg:"helo"; smtp.helo; content:"laptop"; sid:2;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 2), (2, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let change = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(change["app_proto"], "http");
    assert_eq!(change["http"]["status"], 101);
}

/// An SMB1 message in its NetBIOS session header: command, reply flag,
/// tree id, multiplex id, parameter words and data bytes (Unicode
/// strings, user id 100).
fn smb1(cmd: u8, reply: bool, tid: u16, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut m = b"\xffSMB".to_vec();
    m.push(cmd);
    m.extend_from_slice(&[0; 4]);
    m.push(if reply { 0x80 } else { 0 });
    m.extend_from_slice(&0xc001u16.to_le_bytes());
    m.extend_from_slice(&[0; 12]);
    m.extend_from_slice(&tid.to_le_bytes());
    m.extend_from_slice(&7u16.to_le_bytes());
    m.extend_from_slice(&100u16.to_le_bytes());
    m.extend_from_slice(&mid.to_le_bytes());
    m.push((words.len() / 2) as u8);
    m.extend_from_slice(words);
    m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    m.extend_from_slice(bytes);
    let n = m.len();
    let mut v = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend(m);
    v
}

fn utf16z(s: &str) -> Vec<u8> {
    s.bytes().flat_map(|b| [b, 0]).chain([0, 0]).collect()
}

const SMB_NO_ANDX: [u8; 4] = [0xff, 0, 0, 0];

/// TREE_CONNECT_ANDX request and response (`service` "A:" for a disk,
/// "IPC" for named pipes).
fn smb1_tree_connect(path: &str, service: &str, tid: u16, mid: u16) -> (Vec<u8>, Vec<u8>) {
    let mut w = SMB_NO_ANDX.to_vec();
    w.extend_from_slice(&[0, 0, 1, 0]);
    let mut b = vec![0];
    b.extend(utf16z(path));
    b.extend_from_slice(b"?????\0");
    let req = smb1(0x75, false, 0, mid, &w, &b);
    let mut w = SMB_NO_ANDX.to_vec();
    w.extend_from_slice(&[1, 0]);
    let mut b = service.as_bytes().to_vec();
    b.push(0);
    (req, smb1(0x75, true, tid, mid, &w, &b))
}

/// NT_CREATE_ANDX request for `name` and its response giving `fid`.
fn smb1_create(name: &str, fid: u16, tid: u16, mid: u16) -> (Vec<u8>, Vec<u8>) {
    let name = utf16z(name);
    let mut w = SMB_NO_ANDX.to_vec();
    w.push(0);
    w.extend_from_slice(&(name.len() as u16).to_le_bytes());
    w.resize(48, 0);
    let mut b = vec![0];
    b.extend(name);
    let req = smb1(0xa2, false, tid, mid, &w, &b);
    let mut w = SMB_NO_ANDX.to_vec();
    w.push(0);
    w.extend_from_slice(&fid.to_le_bytes());
    w.resize(68, 0);
    (req, smb1(0xa2, true, tid, mid, &w, &[]))
}

/// WRITE_ANDX request of `data` at `offset`, after two bytes of padding.
fn smb1_write(fid: u16, offset: u32, data: &[u8], tid: u16, mid: u16) -> Vec<u8> {
    let mut w = SMB_NO_ANDX.to_vec();
    w.extend_from_slice(&fid.to_le_bytes());
    w.extend_from_slice(&offset.to_le_bytes());
    w.extend_from_slice(&[0; 10]);
    w.extend_from_slice(&(data.len() as u16).to_le_bytes());
    w.extend_from_slice(&(32u16 + 1 + 24 + 2 + 2).to_le_bytes());
    let mut b = vec![0xee, 0xee];
    b.extend_from_slice(data);
    smb1(0x2f, false, tid, mid, &w, &b)
}

#[test]
fn smb_files_shares_and_events() {
    let dir = scratch("smb");
    let pcap = dir.join("smb.pcap");
    let eicar: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    let (ipc_req, ipc_resp) = smb1_tree_connect("\\\\10.0.0.5\\IPC$", "IPC", 1, 1);
    let (c_req, c_resp) = smb1_tree_connect("\\\\10.0.0.5\\C$", "A:", 2, 2);
    let (create_req, create_resp) = smb1_create("\\tmp\\eicar.com", 0x4006, 2, 3);
    let write_resp = smb1(0x2f, true, 2, 4, &[], &[]);
    // A one-byte write at offset 0, then the whole file again at 0: an
    // overlap (the first copy wins, as the file.data rule shows).
    let first = smb1_write(0x4006, 0, b"Z", 2, 4);
    let second = smb1_write(0x4006, 0, eicar, 2, 5);
    let close = smb1(0x04, false, 2, 6, &[0x06, 0x40, 0, 0, 0, 0], &[]);
    let close_resp = smb1(0x04, true, 2, 6, &[], &[]);
    let (c2_req, c2_resp) = smb1_tree_connect("\\\\10.0.0.5\\D$", "A:", 3, 7);
    let (create2_req, create2_resp) = smb1_create("\\clean.txt", 0x4007, 3, 8);
    let write2 = smb1_write(0x4007, 0, eicar, 3, 9);
    let close2 = smb1(0x04, false, 3, 10, &[0x07, 0x40, 0, 0, 0, 0], &[]);
    let frames = TcpConversation::new(
        "192.168.1.10:49200".parse().unwrap(),
        "10.0.0.5:445".parse().unwrap(),
    )
    .client_sends(&ipc_req)
    .server_sends(&ipc_resp)
    .client_sends(&c_req)
    .server_sends(&c_resp)
    .client_sends(&create_req)
    .server_sends(&create_resp)
    .client_sends(&first)
    .server_sends(&write_resp)
    .client_sends(&second)
    .server_sends(&write_resp)
    .client_sends(&close)
    .server_sends(&close_resp)
    .client_sends(&c2_req)
    .server_sends(&c2_resp)
    .client_sends(&create2_req)
    .server_sends(&create2_resp)
    .client_sends(&write2)
    .server_sends(&write_resp)
    .client_sends(&close2)
    .server_sends(&close_resp)
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert smb any any -> any any (msg:"eicar body"; file_data; content:"EICAR-STANDARD"; sid:1;)
alert smb any any -> any any (msg:"first copy wins"; file_data; content:"Z5O!P"; startswith; sid:2;)
alert smb any any -> any any (msg:"file name"; file.name; content:"eicar.com"; endswith; sid:3;)
alert tcp any any -> any any (msg:"small files"; filesize:<100; sid:4;)
alert tcp any any -> any any (msg:"big files"; filesize:>100; sid:5;)
alert smb any any -> any any (msg:"disk share"; smb.share; content:"C$"; sid:6;)
alert smb any any -> any any (msg:"ipc is a pipe"; smb.share; content:"IPC$"; sid:7;)
alert smb any any -> any any (msg:"named pipe"; smb.named_pipe; content:"IPC$"; sid:8;)
alert smb any any -> any any (msg:"overlap"; app-layer-event:smb.file_overlap; sid:9;)
alert http any any -> any any (msg:"not http"; file_data; content:"EICAR"; sid:10;)
alert smb any any -> any any (msg:"written files go to the server"; flow:to_client; file_data; content:"EICAR"; sid:11;)
alert smb any any -> any any (msg:"to server"; flow:to_server; file.name; content:"clean"; sid:12;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    // sid 1: both files; sid 4: both (68 bytes); sid 9: the overlapping
    // file's transaction, once per direction as in Suricata.
    let expected: HashMap<u64, usize> = [
        (1, 2),
        (2, 1),
        (3, 1),
        (4, 2),
        (6, 1),
        (8, 1),
        (9, 2),
        (12, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, expected);
    let alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 3)
        .unwrap();
    assert_eq!(alert["app_proto"], "smb");
}

#[test]
fn icmp_unreachable_counts_in_the_connection_it_quotes() {
    let dir = scratch("icmpquote");
    let pcap = dir.join("icmp.pcap");
    let mut frames = conversation(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
        40000,
    );
    // A router tells the client its segment was too big (fragmentation
    // needed), quoting the client's IP header and the first TCP bytes.
    let quoted = PacketBuilder::raw()
        .ipv4([192, 168, 1, 10], [203, 0, 113, 5])
        .tcp(40000, 80)
        .build_ip()
        .unwrap();
    let icmp = PacketBuilder::new()
        .ipv4([192, 168, 1, 1], [192, 168, 1, 10])
        .icmpv4(3, 4)
        .payload(&quoted[..28])
        .build()
        .unwrap();
    let ts = frames[4].0;
    frames.insert(5, (ts, icmp));
    write_frames(&pcap, &frames);
    let rules = "alert icmp any any -> any any (msg:\"unreachable in an established flow\"; flow:established,to_client; itype:3; sid:1;)\n";
    let (_, recs) = detect(&dir, &pcap, rules);
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    // No flow of its own: the conversation is the only one.
    let stats = recs.iter().find(|r| r["event_type"] == "stats").unwrap();
    assert_eq!(stats["stats"]["flow"]["total"], 1, "{stats}");
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Kerberos messages assembled by hand from RFC 4120's ASN.1: an AS-REQ
/// for robin@CYLERA.LAB, a KRB-ERROR (preauthentication required) and a
/// TGS-REP whose ticket is RC4 (Kerberoasting) and own part AES.
const KRB5_AS_REQ: &str = "6a7f307da103020105a20302010aa471306fa00703050040810010a1123010a003020101a10930071b05726f62696ea20c1b0a43594c4552412e4c4142a31f301da003020102a11630141b066b72627467741b0a43594c4552412e4c4142a511180f32303337303931333032343830355aa70402023039a8083006020112020117";
const KRB5_ERROR: &str = "7e583056a003020105a10302011ea411180f32303337303931333032343830355aa503020100a603020119a90c1b0a43594c4552412e4c4142aa1f301da003020102a11630141b066b72627467741b0a43594c4552412e4c4142";
const KRB5_TGS_REP: &str = "6d8184308181a003020105a10302010da30c1b0a43594c4552412e4c4142a4123010a003020101a10930071b05726f62696ea5426140303ea003020105a10c1b0a43594c4552412e4c4142a2183016a003020102a10f300d1b04687474701b057765623031a30f300da003020117a2060404deadbeefa60f300da003020112a2060404deadbeef";

fn krb5_record(hex: &str) -> Vec<u8> {
    let msg = unhex(hex);
    let mut v = (msg.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(&msg);
    v
}

#[test]
fn kerberos_over_tcp_and_udp() {
    let dir = scratch("krb5");
    let pcap = dir.join("krb5.pcap");
    // TCP: two records in one client write, cut into small segments.
    let mut client = krb5_record(KRB5_AS_REQ);
    client.extend(krb5_record(KRB5_AS_REQ));
    let mut server = krb5_record(KRB5_ERROR);
    server.extend(krb5_record(KRB5_TGS_REP));
    let mut frames = TcpConversation::new(
        "192.168.1.10:50120".parse().unwrap(),
        "192.168.1.2:88".parse().unwrap(),
    )
    .client_sends(&client)
    .server_sends(&server)
    .mss(50)
    .build()
    .unwrap();
    // UDP: a request and its reply, then a flow whose first datagram is a
    // reply (not detected, as in Suricata).
    let ts = frames.last().unwrap().0;
    let udp = |n: u64, src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, hex: &str| {
        let frame = PacketBuilder::new()
            .ipv4(src, dst)
            .udp(sp, dp)
            .payload(unhex(hex))
            .build()
            .unwrap();
        (Timestamp::from_nanos(ts.as_nanos() + n * 1000), frame)
    };
    frames.push(udp(1, [10, 0, 0, 1], [10, 0, 0, 2], 50000, 88, KRB5_AS_REQ));
    frames.push(udp(
        2,
        [10, 0, 0, 2],
        [10, 0, 0, 1],
        88,
        50000,
        KRB5_TGS_REP,
    ));
    frames.push(udp(
        3,
        [10, 0, 0, 2],
        [10, 0, 0, 1],
        88,
        50001,
        KRB5_TGS_REP,
    ));
    write_frames(&pcap, &frames);
    let rules = r#"
alert krb5 any any -> any any (msg:"AS-REQ"; krb5_msg_type:10; sid:1;)
alert krb5 any any -> any any (msg:"error"; krb5_msg_type:30; krb5_err_code:25; sid:2;)
alert krb5 any any -> any any (msg:"kerberoast"; krb5.ticket_encryption: weak; sid:3;)
alert krb5 any any -> any any (msg:"ticket service"; krb5_sname; content:"web01"; sid:4;)
alert tcp any any -> any any (msg:"tcp as-req"; flow:to_server,established; krb5_msg_type:10; sid:5;)
alert udp any any -> any any (msg:"udp rep"; flow:to_client; krb5_msg_type:13; sid:6;)
alert krb5 any any -> any any (msg:"weak reply part"; app-layer-event:krb5.weak_encryption; sid:7;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&3), "{counts:?}");
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&3), Some(&2), "{counts:?}");
    assert_eq!(counts.get(&4), Some(&2), "{counts:?}");
    assert_eq!(counts.get(&5), Some(&2), "{counts:?}");
    assert_eq!(counts.get(&6), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&7), None, "{counts:?}");
    let krb5: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "krb5").collect();
    assert_eq!(krb5.len(), 6, "{krb5:?}");
    let err = krb5
        .iter()
        .find(|r| r["krb5"]["msg_type"] == "KRB_ERROR")
        .unwrap();
    assert_eq!(err["krb5"]["failed_request"], "KRB_AS_REQ");
    assert_eq!(err["krb5"]["error_code"], "KDC_ERR_PREAUTH_REQUIRED");
    assert_eq!(err["krb5"]["cname"], "<empty>");
    assert_eq!(err["krb5"]["encryption"], "<none>");
    let rep = krb5
        .iter()
        .find(|r| r["krb5"]["msg_type"] == "KRB_TGS_REP" && r["proto"] == "UDP")
        .unwrap();
    assert_eq!(rep["krb5"]["sname"], "http/web01");
    assert_eq!(rep["krb5"]["encryption"], "aes256-cts-hmac-sha1-96");
    assert_eq!(rep["krb5"]["weak_encryption"], false);
    assert_eq!(rep["krb5"]["ticket_encryption"], "rc4-hmac");
    assert_eq!(rep["krb5"]["ticket_weak_encryption"], true);
    assert_eq!(rep["src_port"], 88);
    let alert = recs
        .iter()
        .find(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(alert["app_proto"], "krb5");
    assert_eq!(alert["tx_id"], 2);
}

/// A v2c GetNextRequest for 0.1, community `[R0_C@cti!]` (the first
/// datagram of suricata-verify's SNMPv2c_get_requests.pcap).
const SNMP_GET_NEXT: &str =
    "3027020101040b5b52305f4340637469215da11502042b133f85020100020100300730050601010500";

#[test]
fn snmp_datagrams_keywords_and_records() {
    let dir = scratch("snmp");
    let pcap = dir.join("snmp.pcap");
    let trap = {
        // v1 Trap-PDU: enterprise 1.3.6.1.4.1.4.1.2.21, agent 127.0.0.1,
        // linkDown, one variable.
        let tlv = |tag: u8, c: &[u8]| {
            let mut v = vec![tag, c.len() as u8];
            v.extend_from_slice(c);
            v
        };
        let var = tlv(
            0x30,
            &[
                tlv(0x06, &[0x2b, 6, 1, 2, 1, 2, 2, 1, 1, 21]),
                tlv(0x02, &[21]),
            ]
            .concat(),
        );
        let pdu = tlv(
            0xa4,
            &[
                tlv(0x06, &[0x2b, 6, 1, 4, 1, 4, 1, 2, 21]),
                tlv(0x40, &[127, 0, 0, 1]),
                tlv(0x02, &[2]),
                tlv(0x02, &[0]),
                tlv(0x43, &[0x10]),
                tlv(0x30, &var),
            ]
            .concat(),
        );
        tlv(0x30, &[tlv(0x02, &[0]), tlv(0x04, b"public"), pdu].concat())
    };
    let frame = |n: u64, src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]| {
        let f = PacketBuilder::new()
            .ipv4(src, dst)
            .udp(sp, dp)
            .payload(payload)
            .build()
            .unwrap();
        (Timestamp::from_nanos(1_000_000_000 + n * 1000), f)
    };
    let frames = vec![
        frame(
            1,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            33938,
            161,
            &unhex(SNMP_GET_NEXT),
        ),
        frame(
            2,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            33938,
            161,
            b"not snmp at all",
        ),
        frame(3, [10, 0, 0, 3], [10, 0, 0, 2], 1040, 162, &trap),
        // Not the SNMP port: no SNMP.
        frame(
            4,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            33939,
            1161,
            &unhex(SNMP_GET_NEXT),
        ),
    ];
    write_frames(&pcap, &frames);
    let rules = r#"
alert snmp any any -> any any (msg:"community"; snmp.community; content:"[R0_C@cti!]"; sid:1;)
alert snmp any any -> any any (msg:"v2c"; snmp.version:2; sid:2;)
alert snmp any any -> any any (msg:"trap"; snmp.pdu_type:4; snmp.trap_oid; content:"1.3.6.1.4.1.4.1.2.21"; sid:3;)
alert snmp any any -> any any (msg:"trap agent"; snmp.trap_address; content:"127.0.0.1"; sid:4;)
alert snmp any any -> any any (msg:"any snmp packet"; sid:5;)
alert snmp any any -> any any (msg:"malformed"; app-layer-event:snmp.malformed_data; sid:6;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&3), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&4), Some(&1), "{counts:?}");
    // Every packet of the two SNMP flows, the garbage one included.
    assert_eq!(counts.get(&5), Some(&3), "{counts:?}");
    // The garbage datagram's event lands on an inspected transaction.
    assert_eq!(counts.get(&6), None, "{counts:?}");
    let snmp: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "snmp").collect();
    assert_eq!(snmp.len(), 2, "{snmp:?}");
    assert_eq!(snmp[0]["snmp"]["pdu_type"], "get_next_request");
    assert_eq!(snmp[0]["snmp"]["vars"][0], "0.1");
    assert_eq!(snmp[0]["snmp"]["community"], "[R0_C@cti!]");
    assert_eq!(snmp[1]["snmp"]["version"], 1);
    assert_eq!(snmp[1]["snmp"]["trap_type"], "linkDown");
    assert_eq!(snmp[1]["snmp"]["trap_address"], "127.0.0.1");
    let alert = recs
        .iter()
        .find(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(alert["snmp"]["community"], "[R0_C@cti!]");
    assert_eq!(alert["app_proto"], "snmp");
}

/// An FTP session whose greeting does not name FTP (detection by `USER`),
/// with a bouncing `PORT`, a passive `RETR` and a reply over the line
/// limit. Counts of the Suricata 7 keywords (`ftpbounce`,
/// `app-layer-event:ftp.*`) and the `ftp` records were checked against
/// Suricata 7.0.10 on the same capture; the Suricata 8 keywords follow
/// its documentation.
#[test]
fn ftp_transactions_keywords_and_records() {
    let dir = scratch("ftp");
    let pcap = dir.join("ftp.pcap");
    let mut long = b"215 ".to_vec();
    long.extend(std::iter::repeat_n(b'A', 5000));
    long.extend_from_slice(b"\r\n");
    let frames = TcpConversation::new(
        "192.168.1.10:41030".parse().unwrap(),
        "203.0.113.5:21".parse().unwrap(),
    )
    .server_sends(b"220 ProFTPD ready\r\n")
    .client_sends(b"USER anonymous\r\n")
    .server_sends(b"331 Password required\r\n")
    .client_sends(b"PASS guest\r\n")
    .server_sends(b"230 Logged in\r\n")
    .client_sends(b"PORT 10,9,8,7,4,1\r\n")
    .server_sends(b"200 PORT ok\r\n")
    .client_sends(b"PASV\r\n")
    .server_sends(b"227 Entering Passive Mode (203,0,113,5,195,80).\r\n")
    .client_sends(b"RETR secret.txt\r\n")
    .server_sends(b"150 Opening\r\n")
    .server_sends(b"226 Done\r\n")
    .client_sends(b"SYST\r\n")
    .server_sends(&long)
    .client_sends(b"QUIT\r\n")
    .server_sends(b"221 Bye\r\n")
    .build()
    .unwrap();
    write_frames(&pcap, &frames);
    let rules = r#"
alert ftp any any -> any any (msg:"command"; ftp.command; content:"RETR"; sid:1;)
alert ftp any any -> any any (msg:"command data"; ftp.command_data; content:"secret"; sid:2;)
alert tcp any any -> any 21 (msg:"bounce"; flow:to_server,established; content:"PORT"; nocase; ftpbounce; pcre:"/^PORT/smi"; sid:3;)
alert ftp any any -> any any (msg:"long reply"; flow:to_client; app-layer-event:ftp.response_command_too_long; sid:4;)
alert ftp any any -> any any (msg:"passive"; ftp.mode:passive; sid:5;)
alert ftp any any -> any any (msg:"code"; ftp.completion_code; content:"226"; sid:6;)
alert ftp any any -> any any (msg:"unanswered"; ftp.reply_received:no; sid:7;)
alert ftp any any -> any any (msg:"long command"; flow:to_server; app-layer-event:ftp.request_command_too_long; sid:8;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (6, 1)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let ftp: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "ftp").collect();
    let commands: Vec<&str> = ftp
        .iter()
        .map(|r| r["ftp"]["command"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        commands,
        ["-", "USER", "PASS", "PORT", "PASV", "RETR", "SYST", "QUIT"]
    );
    assert_eq!(ftp[0]["ftp"]["completion_code"][0], "220");
    assert_eq!(ftp[3]["ftp"]["mode"], "active");
    assert_eq!(ftp[3]["ftp"]["dynamic_port"], 1025);
    assert_eq!(ftp[4]["ftp"]["dynamic_port"], 50000);
    assert_eq!(ftp[5]["ftp"]["completion_code"][1], "226");
    assert_eq!(ftp[6]["ftp"]["reply_truncated"], true);
    assert_eq!(ftp[6]["ftp"]["reply"][0].as_str().unwrap().len(), 4092);
    let anomalies: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "anomaly")
        .collect();
    assert_eq!(anomalies.len(), 1);
    assert_eq!(
        anomalies[0]["anomaly"]["event"],
        "response_command_too_long"
    );
    assert_eq!(anomalies[0]["tx_id"], 6);
}

/// An IKEv2 IKE_SA_INIT request proposing Diffie-Hellman group 2 (weak)
/// to UDP port 500; alerts and the `ike` record as Suricata 7.0.10 gives
/// them for the same datagram.
#[test]
fn ike_weak_dh_keywords_and_record() {
    let dir = scratch("ike");
    let pcap = dir.join("ike.pcap");
    // SA: one IKE proposal of AES-CBC-256, PRF SHA2-256, SHA2-256-128,
    // DH group 2.
    let mut transforms = Vec::new();
    let items: [(u8, u16, &[u8]); 4] = [
        (1, 12, &[0x80, 14, 1, 0]),
        (2, 5, &[]),
        (3, 12, &[]),
        (4, 2, &[]),
    ];
    for (i, (ty, id, attr)) in items.iter().enumerate() {
        transforms.push(if i == items.len() - 1 { 0 } else { 3 });
        transforms.push(0);
        transforms.extend_from_slice(&(8 + attr.len() as u16).to_be_bytes());
        transforms.extend_from_slice(&[*ty, 0]);
        transforms.extend_from_slice(&id.to_be_bytes());
        transforms.extend_from_slice(attr);
    }
    let mut prop = vec![0, 0];
    prop.extend_from_slice(&(8 + transforms.len() as u16).to_be_bytes());
    prop.extend_from_slice(&[1, 1, 0, 4]);
    prop.extend_from_slice(&transforms);
    let mut body = vec![34, 0, 0, 12];
    body.extend_from_slice(&[0xbb; 8]);
    body.extend_from_slice(&[33, 0, 0, 16, 0, 2, 0, 0]);
    body.extend_from_slice(&[0xaa; 8]);
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&(4 + prop.len() as u16).to_be_bytes());
    body.extend_from_slice(&prop);
    let mut msg = 0x61d3693ce12af528u64.to_be_bytes().to_vec();
    msg.extend_from_slice(&[0; 8]);
    msg.extend_from_slice(&[40, 0x20, 34, 0x08, 0, 0, 0, 0]);
    msg.extend_from_slice(&((28 + body.len()) as u32).to_be_bytes());
    msg.extend_from_slice(&body);
    let frame = PacketBuilder::new()
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .udp(500, 500)
        .payload(&msg)
        .build()
        .unwrap();
    write_frames(&pcap, &[(Timestamp::from_nanos(1_000_000_000), frame)]);
    let rules = r#"
alert ikev2 any any -> any any (msg:"weak dh"; flow:to_server; app-layer-event:ikev2.weak_crypto_dh; sid:1;)
alert ike any any -> any any (msg:"spi"; ike.init_spi; content:"61d3693ce12af528"; sid:2;)
alert ike any any -> any any (msg:"exchange"; ike.exchtype:34; sid:3;)
alert ike any any -> any any (msg:"no weak prf"; app-layer-event:ike.weak_crypto_prf; sid:4;)
alert ike any any -> any any (msg:"raw"; content:"|22 08|"; sid:5;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1), (3, 1), (5, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let ike: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "ike").collect();
    assert_eq!(ike.len(), 1);
    let o = &ike[0]["ike"];
    assert_eq!(o["init_spi"], "61d3693ce12af528");
    assert_eq!(o["role"], "initiator");
    assert_eq!(
        o["payload"],
        serde_json::json!([
            "Nonce",
            "KeyExchange",
            "SecurityAssociation",
            "NoNextPayload"
        ])
    );
    assert!(ike[0].get("tx_id").is_none());
    let weak = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(weak["app_proto"], "ike");
    assert_eq!(weak["ike"]["exchange_type"], 34);
}

/// A passive `RETR` announces the data connection: the next flow between
/// the two hosts to the announced port is `ftp-data` (Suricata's
/// expectation), whatever its bytes; another port is not. Checked against
/// Suricata 7.0.10 on the same capture.
#[test]
fn ftp_data_connections_follow_their_control_connection() {
    use rampart_packet::craft::Close;
    let dir = scratch("ftp-data");
    let pcap = dir.join("ftp-data.pcap");
    let mut frames = TcpConversation::new(
        "192.168.1.10:41040".parse().unwrap(),
        "203.0.113.5:21".parse().unwrap(),
    )
    .server_sends(b"220 (vsFTPd 3.0.3)\r\n")
    .client_sends(b"USER anonymous\r\n")
    .server_sends(b"331 Password required\r\n")
    .client_sends(b"PASS guest\r\n")
    .server_sends(b"230 Logged in\r\n")
    .client_sends(b"PASV\r\n")
    .server_sends(b"227 Entering Passive Mode (203,0,113,5,195,80).\r\n")
    .client_sends(b"RETR payload.vbs\r\n")
    .server_sends(b"150 Opening BINARY mode data connection\r\n")
    .close(Close::None)
    .build()
    .unwrap();
    let data = TcpConversation::new(
        "192.168.1.10:41041".parse().unwrap(),
        "203.0.113.5:50000".parse().unwrap(),
    )
    .server_sends(b"Set s = CreateObject(\"WScript.Shell\")\r\n")
    .start(Timestamp::from_nanos(5_000_000_000))
    .build()
    .unwrap();
    let other = TcpConversation::new(
        "192.168.1.10:41042".parse().unwrap(),
        "203.0.113.5:50001".parse().unwrap(),
    )
    .server_sends(b"Set s = CreateObject(\"WScript.Shell\")\r\n")
    .start(Timestamp::from_nanos(6_000_000_000))
    .build()
    .unwrap();
    frames.extend(data);
    frames.extend(other);
    write_frames(&pcap, &frames);
    let rules = r#"
alert ftp-data any any -> any any (msg:"data"; flow:established,to_client; content:"WScript.Shell"; sid:1;)
alert tcp any any -> any any (msg:"any"; flow:established,to_client; content:"WScript.Shell"; sid:2;)
alert tcp any any -> any any (msg:"proto"; app-layer-protocol:ftp-data; sid:3;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 2), (3, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let data_alert = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(data_alert["dest_port"], 41041);
    assert_eq!(data_alert["app_proto"], "ftp-data");
}

/// An RFB 3.8 handshake with VNC authentication (RFC 6143 §7.1-7.3),
/// then a framebuffer update, as frames of a TCP conversation.
fn rfb_conversation() -> Vec<(Timestamp, Vec<u8>)> {
    let mut server_init = vec![
        0x03, 0x20, 0x02, 0x58, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
    ];
    server_init.extend_from_slice(&7u32.to_be_bytes());
    server_init.extend_from_slice(b"desktop");
    TcpConversation::new(
        "192.168.1.10:41900".parse().unwrap(),
        "203.0.113.5:5900".parse().unwrap(),
    )
    .server_sends(b"RFB 003.008\n")
    .client_sends(b"RFB 003.008\n")
    .server_sends(b"\x01\x02")
    .client_sends(b"\x02")
    .server_sends([0x11u8; 16])
    .client_sends([0x22u8; 16])
    .server_sends(b"\x00\x00\x00\x00")
    .client_sends(b"\x01")
    .server_sends(&server_init)
    .client_sends(b"\x03\x00\x00\x00\x00\x00\x03\x20\x02\x58")
    .server_sends(b"\x00\x00\x00\x01RFB 003.008\n")
    .build()
    .unwrap()
}

#[test]
fn rfb_frames_keywords_and_record() {
    let dir = scratch("rfb");
    let pcap = dir.join("rfb.pcap");
    write_frames(&pcap, &rfb_conversation());
    let rules = r#"
alert rfb any any -> any any (msg:"versions"; frame:pdu; content:"RFB 003.008|0a|"; startswith; endswith; sid:1;)
alert rfb any any -> any any (msg:"offer"; flow:to_client; frame:rfb.pdu; content:"|01 02|"; startswith; endswith; sid:2;)
alert tcp any any -> any any (msg:"response"; flow:to_server; frame:rfb.pdu; content:"|22 22|"; offset:14; sid:3;)
alert rfb any any -> any any (msg:"name"; rfb.name; content:"desk"; startswith; sid:4;)
alert rfb any any -> any any (msg:"vnc auth"; rfb.sectype:2; sid:5;)
alert rfb any any -> any any (msg:"ok"; rfb.secresult:ok; sid:6;)
alert rfb any any -> any any (msg:"not failed"; rfb.secresult:fail; sid:7;)
alert rfb any any -> any any (msg:"opposite"; rfb.name; content:"d"; rfb.sectype:2; sid:8;)
alert rfb any any -> any any (msg:"framebuffer data is no frame"; frame:pdu; content:"|00 00 00 01|"; sid:9;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let offer = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 2)
        .unwrap();
    let f = &offer["frame"];
    assert_eq!(f["type"], "pdu");
    assert_eq!(f["direction"], "toclient");
    assert_eq!(f["stream_offset"], 12);
    assert_eq!(f["length"], 2);
    assert_eq!(f["complete"], true);
    assert_eq!(f["payload"], "AQI=");
    assert_eq!(offer["app_proto"], "rfb");
    let rfb: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "rfb").collect();
    assert_eq!(rfb.len(), 1);
    let r = &rfb[0]["rfb"];
    assert_eq!(r["server_protocol_version"]["minor"], "008");
    assert_eq!(r["authentication"]["security_type"], 2);
    assert_eq!(r["authentication"]["security_result"], "OK");
    assert_eq!(r["authentication"]["vnc"]["response"], "22".repeat(16));
    assert_eq!(r["screen_shared"], true);
    assert_eq!(r["framebuffer"]["name"], "desktop");
    assert_eq!(r["framebuffer"]["width"], 800);
    let check = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["rules", "check", "--list-inactive"])
        .arg(dir.join("test.rules"))
        .output()
        .unwrap();
    let inactive = String::from_utf8_lossy(&check.stdout);
    assert!(
        inactive.contains("1:8\trfb keywords of opposite directions"),
        "{inactive}"
    );
}

/// A SIP INVITE with a body and its 200 response, over UDP.
fn sip_datagrams() -> Vec<(Timestamp, Vec<u8>)> {
    let body = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n";
    let invite = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\nf: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\nTo: <sip:bob@example.com>;tag=1\r\nContent-Length: 0\r\n\r\n";
    let dgram = |from: u16, to: u16, src: [u8; 4], dst: [u8; 4], payload: &[u8]| {
        PacketBuilder::new()
            .ipv4(src, dst)
            .udp(from, to)
            .payload(payload)
            .build()
            .unwrap()
    };
    vec![
        (
            Timestamp::from_secs(1_700_000_000),
            dgram(
                5060,
                5062,
                [192, 0, 2, 1],
                [192, 0, 2, 2],
                invite.as_bytes(),
            ),
        ),
        (
            Timestamp::from_secs(1_700_000_001),
            dgram(5062, 5060, [192, 0, 2, 2], [192, 0, 2, 1], ok.as_bytes()),
        ),
    ]
}

#[test]
fn sip_frames_buffers_and_records() {
    let dir = scratch("sip");
    let pcap = dir.join("sip.pcap");
    write_frames(&pcap, &sip_datagrams());
    let rules = r#"
alert sip any any -> any any (flow:to_server; frame:request.line; content:"SIP/2.0|0d 0a|"; endswith; sid:1;)
alert sip any any -> any any (frame:request.headers; content:"Via:"; startswith; content:"|0d 0a|"; endswith; sid:2;)
alert sip any any -> any any (frame:request.body; strip_whitespace; content:"v=0o=alice"; startswith; sid:3;)
alert sip any any -> any any (flow:to_client; frame:pdu; content:"SIP/2.0 200 OK|0d 0a|"; startswith; sid:4;)
alert sip any any -> any any (sip.method; content:"INVITE"; sid:5;)
alert sip any any -> any any (sip.stat_code; content:"200"; sid:6;)
alert sip any any -> any any (sip.protocol; content:"SIP/2.0"; sid:7;)
alert sip any any -> any any (sip.from; content:"alice"; sid:8;)
alert sip any any -> any any (flow:to_client; sip.method; content:"INVITE"; sid:9;)
alert sip any any -> any any (frame:response.body; content:"v=0"; sid:10;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
        (5, 1),
        (6, 1),
        (7, 2),
        (8, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, expected);
    let headers = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(headers["frame"]["type"], "request.headers");
    assert_eq!(headers["frame"]["direction"], "toserver");
    // Datagram frames have no stream offset.
    assert!(headers["frame"].get("stream_offset").is_none());
    let line_len = "INVITE sip:bob@example.com SIP/2.0\r\n".len() as u64;
    let head = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(head["frame"]["length"], line_len);
    let sip: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "sip").collect();
    assert_eq!(sip.len(), 2);
    assert_eq!(sip[0]["sip"]["method"], "INVITE");
    assert_eq!(sip[1]["sip"]["code"], "200");
    // A response's record goes from the server.
    assert_eq!(sip[1]["src_port"], 5062);
    assert_eq!(sip[1]["app_proto"], Value::Null);
}

#[test]
fn quic_initials_keywords_and_records() {
    use quic_packets::*;
    let dir = scratch("quic");
    let pcap = dir.join("quic.pcap");
    let keys = keys();
    let frame = |n: u64, client: bool, cp: u16, sp: u16, payload: &[u8]| {
        let (src, dst, s, d) = if client {
            ([10, 0, 0, 1], [10, 0, 0, 2], cp, sp)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], sp, cp)
        };
        let f = PacketBuilder::new()
            .ipv4(src, dst)
            .udp(s, d)
            .payload(payload)
            .build()
            .unwrap();
        (Timestamp::from_nanos(1_000_000_000 + n * 1000), f)
    };
    let ch = client_hello(b"quic.example");
    // The ClientHello in two CRYPTO frames, the second half first.
    let mut frames = crypto(60, &ch[60..]);
    frames.extend(crypto(0, &ch[..60]));
    let client_initial = initial(&keys.client, &DCID, &SCID, 0, &frames);
    let mut server_flight = initial(&keys.server, &SCID, &[], 0, &crypto(0, &server_hello()));
    server_flight.extend(handshake_packet(&SCID));
    let mut corrupted = client_initial.clone();
    let n = corrupted.len();
    corrupted[n - 1] ^= 0xff;
    let frames = vec![
        frame(1, true, 50000, 443, &client_initial),
        frame(2, false, 50000, 443, &server_flight),
        // Encrypted with keys no observer has: not read.
        frame(3, true, 50000, 443, &handshake_packet(&SCID)),
        // Not a QUIC port.
        frame(4, true, 50001, 4433, &client_initial),
        // A packet whose tag does not authenticate.
        frame(5, true, 50002, 443, &corrupted),
    ];
    write_frames(&pcap, &frames);
    let rules = r#"
alert quic any any -> any any (msg:"sni"; quic.sni; content:"quic.example"; sid:1;)
alert quic any any -> any any (msg:"ja3 keeps grease"; ja3.string; content:"771,10794-4865-4866,64250-0-16-10-13-43-57,14906-29-23,"; startswith; endswith; sid:2;)
alert quic any any -> any any (msg:"ja3s"; ja3s.string; content:"771,4866,43-51"; sid:3;)
alert quic any any -> any any (msg:"version 1"; quic.version; content:"|00 00 00 01|"; sid:4;)
alert quic any any -> any any (msg:"failed decrypt"; app-layer-event:quic.failed_decrypt; sid:5;)
alert quic any any -> any any (msg:"any quic packet"; sid:6;)
alert quic any any -> any any (msg:"ja4"; ja4.hash; content:"q13d0206h3_"; startswith; sid:7;)
alert quic any any -> any any (msg:"sni to client"; flow:to_client; quic.sni; content:"quic"; sid:8;)
alert tls any any -> any any (msg:"tls ja3 is not quic"; ja3.string; content:"771"; sid:9;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    assert_eq!(counts.get(&1), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&3), Some(&1), "{counts:?}");
    // Client Initial, server Initial, the corrupted Initial.
    assert_eq!(counts.get(&4), Some(&3), "{counts:?}");
    assert_eq!(counts.get(&5), Some(&1), "{counts:?}");
    // Every packet of the two QUIC flows.
    assert_eq!(counts.get(&6), Some(&4), "{counts:?}");
    assert_eq!(counts.get(&7), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&8), None, "{counts:?}");
    assert_eq!(counts.get(&9), None, "{counts:?}");
    let quic: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "quic").collect();
    assert_eq!(quic.len(), 3, "{quic:?}");
    assert_eq!(quic[0]["quic"]["version"], "1");
    assert_eq!(quic[0]["quic"]["sni"], "quic.example");
    assert_eq!(quic[0]["quic"]["extensions"][2]["name"], "alpn");
    assert_eq!(quic[0]["quic"]["extensions"][2]["values"][0], "h3");
    assert_eq!(quic[0]["quic"]["extensions"][5]["values"][1], "Tls12");
    assert_eq!(quic[1]["src_port"], 443);
    assert_eq!(quic[1]["quic"]["ja3s"]["string"], "771,4866,43-51");
    let alert = recs
        .iter()
        .find(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] == 3)
        .unwrap();
    assert_eq!(alert["tx_id"], 1);
    assert_eq!(alert["app_proto"], "quic");
    assert_eq!(alert["quic"]["ja3s"]["hash"].as_str().unwrap().len(), 32);
}

/// QUIC test packets: TLS hellos (RFC 8446 §4.1.2/§4.1.3) carried in
/// Initial packets sealed with the RFC 9001 keys.
mod quic_packets {
    use rampart_app::quic::protection::{initial_keys, DirectionKeys, InitialKeys};

    pub const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    pub const SCID: [u8; 4] = [1, 2, 3, 4];

    pub fn keys() -> InitialKeys {
        initial_keys(1, &DCID).unwrap()
    }

    fn ext(t: u16, data: &[u8]) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
        e
    }

    fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    /// A ClientHello for `sni` with a GREASE cipher, extension and group,
    /// ALPN h3, groups, signature algorithms, supported_versions.
    pub fn client_hello(sni: &[u8]) -> Vec<u8> {
        let mut exts = ext(0x1a1a, &[]);
        let mut name = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
        name.push(0);
        name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        name.extend_from_slice(sni);
        exts.extend(ext(0, &name));
        exts.extend(ext(16, &[0, 3, 2, b'h', b'3']));
        exts.extend(ext(10, &[0, 6, 0x3a, 0x3a, 0, 29, 0, 23]));
        exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
        exts.extend(ext(43, &[4, 3, 4, 3, 3]));
        exts.extend(ext(57, &[1, 2, 0x40, 0x64]));
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 6, 0x2a, 0x2a, 0x13, 0x01, 0x13, 0x02]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        handshake(1, &body)
    }

    /// A ServerHello choosing TLS_AES_256_GCM_SHA384, TLS 1.3.
    pub fn server_hello() -> Vec<u8> {
        let mut exts = ext(43, &[3, 4]);
        exts.extend(ext(51, &[0, 29, 0, 2, 9, 9]));
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x22; 32]);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x02, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        handshake(2, &body)
    }

    pub fn crypto(offset: u16, data: &[u8]) -> Vec<u8> {
        let mut f = vec![6];
        f.extend_from_slice(&(0x4000 | offset).to_be_bytes());
        f.extend_from_slice(&(0x4000 | data.len() as u16).to_be_bytes());
        f.extend_from_slice(data);
        f
    }

    /// An Initial packet (2-byte packet number) with `frames` padded to
    /// 1,200 bytes, sealed with `keys`.
    pub fn initial(
        keys: &DirectionKeys,
        dcid: &[u8],
        scid: &[u8],
        pn: u16,
        frames: &[u8],
    ) -> Vec<u8> {
        let mut payload = frames.to_vec();
        payload.resize(payload.len().max(1200), 0);
        let mut header = vec![0xc1, 0, 0, 0, 1, dcid.len() as u8];
        header.extend_from_slice(dcid);
        header.push(scid.len() as u8);
        header.extend_from_slice(scid);
        header.push(0);
        let length = 2 + payload.len() + 16;
        header.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
        header.extend_from_slice(&pn.to_be_bytes());
        keys.seal(&header, u64::from(pn), &payload).unwrap()
    }

    /// A Handshake packet (opaque payload).
    pub fn handshake_packet(dcid: &[u8]) -> Vec<u8> {
        let mut p = vec![0xe1, 0, 0, 0, 1, dcid.len() as u8];
        p.extend_from_slice(dcid);
        p.push(0);
        p.extend_from_slice(&[0x55; 40]);
        p
    }
}

/// An HTTP/2 cleartext connection as suricata-verify's
/// http2_multiple_headers.pcap has it (the server's SETTINGS first, then
/// the client's preface, SETTINGS, WINDOW_UPDATE and a HEADERS frame for
/// `GET /watchdog/watchdog.exe` on stream 1), answered by a hand-built
/// 404 (`:status` indexed, a `server: h2` literal) and a DATA frame
/// ending the stream.
fn http2_conversation() -> Vec<(Timestamp, Vec<u8>)> {
    let server_settings =
        unhex("000012040000000000000300000100000400010000000500ffffff0000040800000000007fff0000");
    let preface = unhex("505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000200000000000400400000000600a0000000000408000000000040000000");
    let headers = unhex("00005d01050000000141898ed98b624f62e43d3f82459063c0d249e43ccc781a493c879972f92f874083b6d3499a965784fb419560b2db2b34f925586d3cfacd0872bcfbedb52c644085ee5b1063d5820be150839bd9ab7a8dc475a74a6b589418b525812e0f");
    let ack = unhex("000000040100000000");
    let mut response = unhex("000006010400000001");
    response.extend_from_slice(&[0x8d, 0x0f, 0x27, 0x02, b'h', b'2']);
    response.extend(unhex("000002000100000001"));
    response.extend_from_slice(b"hi");
    TcpConversation::new(
        "192.168.1.10:50078".parse().unwrap(),
        "203.0.113.5:80".parse().unwrap(),
    )
    .server_sends(&server_settings)
    .client_sends(&preface)
    .client_sends(&headers)
    .client_sends(&ack)
    .server_sends(&ack)
    .server_sends(&response)
    .build()
    .unwrap()
}

#[test]
fn http2_headers_keywords_and_events() {
    let dir = scratch("http2");
    let pcap = dir.join("http2.pcap");
    write_frames(&pcap, &http2_conversation());
    let rules = r#"
alert http2 any any -> any any (msg:"HTTP2 - Two Headers - Authority/Method"; flow:established,to_server; http.request_header; content:"method: GET"; http.request_header; content:"authority: bugertor.com"; sid:1;)
alert http2 any any -> any any (msg:"response"; flow:to_client; http.response_header; content:"status: 404"; sid:2;)
alert http2 any any -> any any (msg:"names as sent"; http2.header_name; content:":path"; endswith; sid:3;)
alert http2 any any -> any any (msg:"data"; flow:to_client; http2.frametype:DATA; sid:4;)
alert http2 any any -> any any (msg:"method"; http.method; content:"GET"; startswith; endswith; sid:5;)
alert http2 any any -> any any (msg:"no reset"; http2.errorcode:CANCEL; sid:6;)
alert http2 any any -> any any (msg:"no POST"; http.request_header; content:"method: POST"; sid:7;)
alert http2 any any -> any any (msg:"no event"; app-layer-event:http2.invalid_frame_header; sid:8;)
alert http2 any any -> any any (msg:"server"; http2.header; content:"server: h2"; sid:9;)
alert http2 any any -> any any (msg:"one declaration, one instance"; http.request_header; content:"method: GET"; content:"bugertor"; sid:10;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (9, 1)]
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
    let a = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(a["app_proto"], "http2");
    assert_eq!(a["dest_port"], 80);
}

/// An HTTP/1.1 request upgraded to HTTP/2 (`Upgrade: h2c`, RFC 7540
/// §3.2): the server's 101 and its SETTINGS in one segment, the client's
/// preface and a second request on stream 3, the responses to stream 1
/// (the upgraded request) and 3.
fn h2c_upgrade_conversation(settings: &str) -> Vec<(Timestamp, Vec<u8>)> {
    let frame = |t: u8, flags: u8, sid: u8, payload: &[u8]| {
        let mut f = vec![0, 0, payload.len() as u8, t, flags, 0, 0, 0, sid];
        f.extend_from_slice(payload);
        f
    };
    let mut switch =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    switch.extend(frame(4, 0, 0, &[]));
    let mut client = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    client.extend(frame(4, 0, 0, &[]));
    // :method GET, :path /index.html, :scheme http.
    client.extend(frame(1, 5, 3, &[0x82, 0x85, 0x86]));
    let mut responses = frame(1, 4, 1, &[0x88]);
    responses.extend(frame(0, 1, 1, b"ok"));
    responses.extend(frame(1, 5, 3, &[0x8d]));
    TcpConversation::new(
        "192.168.1.10:50100".parse().unwrap(),
        "203.0.113.5:80".parse().unwrap(),
    )
    .client_sends(format!("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: {settings}\r\n\r\n").as_bytes())
    .server_sends(&switch)
    .client_sends(&client)
    .server_sends(&responses)
    .build()
    .unwrap()
}

#[test]
fn h2c_upgrade_continues_as_http2() {
    let dir = scratch("h2c");
    let pcap = dir.join("h2c.pcap");
    write_frames(&pcap, &h2c_upgrade_conversation("AAMAAABkAAQAoAAAAAIAAAAA"));
    let rules = r#"
alert http2 any any -> any any (msg:"stream 3 status"; http.stat_code; content:"404"; sid:1;)
alert http2 any any -> any any (msg:"stream 3 request"; flow:to_server; http.request_header; content:"path: /index.html"; sid:2;)
alert http any any -> any any (msg:"upgrade request"; http.method; content:"GET"; sid:3;)
alert http2 any any -> any any (msg:"settings"; app-layer-event:http2.invalid_http1_settings; sid:4;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    let expected: HashMap<u64, usize> = [(1, 1), (2, 1), (3, 1)].into_iter().collect();
    assert_eq!(counts, expected);
    let a = recs
        .iter()
        .find(|r| r["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(a["app_proto"], "http2");
    assert_eq!(a["http"]["http2"]["stream_id"], 3);
    assert_eq!(a["http"]["protocol"], "HTTP/2");
    let streams: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "http" && r["http"]["protocol"] == "HTTP/2")
        .collect();
    assert_eq!(streams.len(), 2);
    let s3 = streams
        .iter()
        .find(|r| r["http"]["http2"]["stream_id"] == 3)
        .unwrap();
    assert_eq!(s3["http"]["status"], 404);
    assert_eq!(s3["http"]["url"], "/index.html");
    assert_eq!(s3["http"]["request_headers"][0]["name"], ":method");
    // An HTTP2-Settings header that is not SETTINGS (5 bytes).
    write_frames(&pcap, &h2c_upgrade_conversation("AAMAAAB*"));
    let (_, recs) = detect(&dir, &pcap, rules);
    assert_eq!(alert_counts(&recs).get(&4), Some(&1));
}

// NFSv2 over UDP: datagrams of suricata-verify's issue-3277-nfsv2-filestore
// pcap (frames 9, 10, 89, 90, 101 and 102 as tshark numbers them).
const NFS2_GETATTR_CALL: &str = "5e1d0b940000000000000002000186a300000002000000010000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000b25a00000029000a00000000b25a00000029";
const NFS2_WRITE_CALL: &str = "5e1d0bbc0000000000000002000186a300000002000000080000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000a6510000001c000a00000000b25a000000290000000000000000000000060000000668616c6c6f0a0000";
const NFS2_WRITE_REPLY: &str = "5e1d0bbc00000001000000000000000000000000000000000000000000000001000081a400000001000000000000000100000006000040000000000000000002001010850000a651384775ea000afc80384775ea000b2390384775ea000b2390";
const NFS2_READ_CALL: &str = "5e1d0bc20000000000000002000186a300000002000000060000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000b25d0000002a000a00000000b25a00000029000000000000200000002000";
const NFS2_READ_REPLY: &str = "5e1d0bc200000001000000000000000000000000000000000000000000000001000081a40000000200000000000000010000000b000040000000000000000002001010850000b25d384775ea000b71b0384771c40008b290384775ea000900b00000000b74686520622066696c650a00";

/// An NFSv3 call (AUTH_NULL) of `procedure` with XDR arguments `args`, as
/// a TCP record (RFC 1813, RFC 5531 record marking).
fn nfs3_record(xid: u32, procedure: u32, args: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [xid, 0, 2, 100_003, 3, procedure, 0, 0, 0, 0] {
        m.extend_from_slice(&w.to_be_bytes());
    }
    m.extend_from_slice(args);
    let mut r = (0x8000_0000u32 | m.len() as u32).to_be_bytes().to_vec();
    r.extend(m);
    r
}

/// XDR opaque data: length, bytes, padding.
fn xdr_opaque(v: &[u8]) -> Vec<u8> {
    let mut o = (v.len() as u32).to_be_bytes().to_vec();
    o.extend_from_slice(v);
    while !o.len().is_multiple_of(4) {
        o.push(0);
    }
    o
}

#[test]
fn nfs_files_procedures_and_filestore() {
    let dir = scratch("nfs");
    let pcap = dir.join("nfs.pcap");
    // NFSv3 over TCP: LOOKUP "secret.txt" (answered with a handle), two
    // unstable WRITEs and a COMMIT.
    let fh = b"nfs3-file-handle";
    let mut lookup = xdr_opaque(b"dir-handle");
    lookup.extend(xdr_opaque(b"secret.txt"));
    let first = nfs3_record(1, 3, &lookup);
    let mut client = Vec::new();
    for (xid, off, data) in [(2u32, 0u64, &b"MZ top "[..]), (3, 7, b"secret")] {
        let mut w = xdr_opaque(fh);
        w.extend(off.to_be_bytes());
        w.extend((data.len() as u32).to_be_bytes());
        w.extend(0u32.to_be_bytes());
        w.extend(xdr_opaque(data));
        client.extend(nfs3_record(xid, 7, &w));
    }
    let mut commit = xdr_opaque(fh);
    commit.extend([0u8; 12]);
    client.extend(nfs3_record(4, 21, &commit));
    let mut reply = Vec::new();
    for w in [1u32, 1, 0, 0, 0, 0, 0] {
        reply.extend_from_slice(&w.to_be_bytes());
    }
    reply.extend(xdr_opaque(fh));
    reply.extend([0u8; 8]);
    let mut server = (0x8000_0000u32 | reply.len() as u32).to_be_bytes().to_vec();
    server.extend(reply);
    let mut frames = TcpConversation::new(
        "192.168.1.10:800".parse().unwrap(),
        "192.168.1.2:2049".parse().unwrap(),
    )
    .client_sends(&first)
    .server_sends(&server)
    .client_sends(&client)
    .mss(60)
    .build()
    .unwrap();
    let ts = frames.last().unwrap().0;
    let mut n = 0;
    let mut udp = |to_server: bool, hex: &str| {
        n += 1;
        let (src, dst, sp, dp) = if to_server {
            ([10, 0, 0, 1], [10, 0, 0, 2], 1023, 2049)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 2049, 1023)
        };
        let frame = PacketBuilder::new()
            .ipv4(src, dst)
            .udp(sp, dp)
            .payload(unhex(hex))
            .build()
            .unwrap();
        (Timestamp::from_nanos(ts.as_nanos() + n * 1000), frame)
    };
    let udp_frames = [
        udp(true, NFS2_GETATTR_CALL),
        udp(true, NFS2_WRITE_CALL),
        udp(false, NFS2_WRITE_REPLY),
        udp(true, NFS2_READ_CALL),
        udp(false, NFS2_READ_REPLY),
    ];
    frames.extend(udp_frames);
    write_frames(&pcap, &frames);
    let rules = r#"
alert nfs any any -> any any (msg:"file"; filestore; sid:1;)
alert nfs any any -> any any (msg:"v2 write"; nfs_procedure:8; sid:2;)
alert nfs any any -> any any (msg:"v3 commit"; nfs.version:3; nfs_procedure:21; sid:3;)
alert nfs any any -> any any (msg:"name"; file.name; content:"secret.txt"; sid:4;)
alert nfs any any -> any any (msg:"read data"; file.data; content:"the b file"; sid:5;)
alert nfs any any -> any any (msg:"size"; filesize:11; sid:6;)
alert nfs any any -> any any (msg:"magic"; filemagic:"DOS"; sid:7;)
alert nfs any any -> any any (msg:"procs >"; nfs_procedure:>20; sid:8;)
alert udp any any -> any any (msg:"proto"; flow:to_server; app-layer-protocol:nfs; sid:9;)
alert nfs any any -> any any (msg:"no such event"; app-layer-event:nfs.malformed_data; sid:10;)
"#;
    let (out, recs) = detect(&dir, &pcap, rules);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = alert_counts(&recs);
    // One file per direction and handle: the TCP written one, the UDP
    // read one.
    assert_eq!(counts.get(&1), Some(&2), "{counts:?}");
    assert_eq!(counts.get(&2), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&3), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&4), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&5), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&6), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&7), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&8), Some(&1), "{counts:?}");
    assert!(counts.get(&9).is_some_and(|&c| c >= 1), "{counts:?}");
    assert_eq!(counts.get(&10), None, "{counts:?}");
    let alerts: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] != 9)
        .collect();
    assert!(alerts.iter().all(|a| a["app_proto"] == "nfs"), "{alerts:?}");
    let read = alerts
        .iter()
        .find(|a| a["alert"]["signature_id"] == 5)
        .unwrap();
    assert_eq!(read["nfs"]["procedure"], "READ");
    assert_eq!(read["nfs"]["version"], 2);
    assert_eq!(read["nfs"]["file_tx"], true);
    let named = alerts
        .iter()
        .find(|a| a["alert"]["signature_id"] == 4)
        .unwrap();
    assert_eq!(named["nfs"]["filename"], "secret.txt");
    assert_eq!(named["rpc"]["xid"], 2);
    // EVE nfs records: one per complete transaction (the GETATTR call has
    // no reply here).
    let nfs: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "nfs").collect();
    let procs: Vec<&str> = nfs
        .iter()
        .map(|r| r["nfs"]["procedure"].as_str().unwrap())
        .collect();
    assert_eq!(procs.len(), 4, "{nfs:?}");
    for p in ["LOOKUP", "WRITE", "READ"] {
        assert!(procs.contains(&p), "{procs:?}");
    }
    let lookup = nfs
        .iter()
        .find(|r| r["nfs"]["procedure"] == "LOOKUP")
        .unwrap();
    assert_eq!(lookup["nfs"]["status"], "OK");
    assert_eq!(lookup["nfs"]["filename"], "secret.txt");
}
