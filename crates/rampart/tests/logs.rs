//! `rampart logs`: the fail2ban-regex job on the bundled sample, and the
//! JSON-lines matching protocol of the conformance runner.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn logs_test_on_the_bundled_sample() {
    let root = repo();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["logs", "test", "--show-missed", "2"])
        .arg(root.join("samples/logs/sshd-sample.conf"))
        .arg(root.join("samples/logs/auth.log"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Lines: 15 read, 9 matched, 2 ignored, 4 missed"),
        "{text}"
    );
    assert!(text.contains("198.51.100.7"), "{text}");
    assert!(text.contains("Missed lines (first 2):"), "{text}");
    assert!(text.contains("lines/s"), "{text}");
}

#[test]
fn logs_test_names_a_missing_filter() {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "logs",
            "test",
            "--filter-dir",
            "/nonexistent",
            "sshd",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sshd"), "{err}");
}

#[test]
fn logs_match_jsonl_protocol() {
    let root = repo();
    let conf = root.join("samples/logs/sshd-sample.conf");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["logs", "match", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let reqs = [
        serde_json::json!({"op": "open", "run_id": "r", "filter": "x",
            "filter_conf": conf.to_str().unwrap(), "opts": {}, "logtype": "file",
            "prefix_line": null, "now": 1124013600, "tz": "CET-01CEST-02,M3.5.0,M10.5.0"}),
        serde_json::json!({"op": "line", "run_id": "r",
            "line": "Feb 25 14:34:10 belka sshd[31602]: Failed password for root from 194.117.26.69 port 22 ssh2"}),
        serde_json::json!({"op": "line", "run_id": "r", "line": "garbage"}),
        serde_json::json!({"op": "close", "run_id": "r"}),
        serde_json::json!({"op": "open", "run_id": "s", "filter_conf": "/nonexistent.conf"}),
    ];
    let mut stdin = child.stdin.take().unwrap();
    for r in &reqs {
        writeln!(stdin, "{r}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["ok"], true);
    let f = &lines[1]["fails"][0];
    assert_eq!(f["host"], "194.117.26.69");
    assert_eq!(f["time"], 1109338450.0);
    assert_eq!(f["user"], "root");
    assert_eq!(f["attempts"], 1);
    assert_eq!(lines[2]["fails"].as_array().unwrap().len(), 0);
    assert_eq!(lines[3]["ok"], true);
    assert_eq!(lines[4]["ok"], false);
}

/// `logs test` with scanning threads reports exactly what one thread
/// does: same counts, hosts and per-regex hits, across batch borders,
/// CRLF lines, a line longer than a read block and a last line without
/// a newline.
#[test]
fn logs_test_threads_give_the_same_report() {
    let root = repo();
    let sample = std::fs::read_to_string(root.join("samples/logs/auth.log")).unwrap();
    let dir = std::env::temp_dir().join(format!("rampart-logs-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("big.log");
    let mut text = String::new();
    for i in 0..4000 {
        for line in sample.lines() {
            // vary the addresses so hosts differ per copy
            let l = line.replace("198.51.100.7", &format!("198.51.{}.{}", i % 200, i % 250));
            text.push_str(&l);
            text.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
        }
        if i == 1234 {
            text.push_str(&"x".repeat(300_000));
            text.push('\n');
        }
    }
    text.push_str(sample.lines().next().unwrap());
    std::fs::write(&log, &text).unwrap();
    let report = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["logs", "test", "--top", "100000", "--show-missed", "5"])
            .args(["--threads", threads])
            .arg(root.join("samples/logs/sshd-sample.conf"))
            .arg(&log)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("Throughput"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one = report("1");
    assert!(one.contains("Lines: 60002 read"), "{one}");
    assert_eq!(one, report("2"));
    assert_eq!(one, report("3"));
    std::fs::remove_dir_all(&dir).ok();
}
