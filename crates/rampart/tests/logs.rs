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
