//! `rampart inspect` on broken input: a clear message naming the file and
//! the byte offset, a non-zero exit, and never a panic.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

use rampart_packet::pcap::PcapWriter;
use rampart_packet::{LinkType, Timestamp};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn good_pcap(n: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    for i in 0..n {
        w.write_packet(Timestamp::from_secs(1_000 + i as u64), &[0x11; 60])
            .unwrap();
    }
    w.into_inner().unwrap()
}

fn inspect(bytes: &[u8], name: &str) -> (Output, String) {
    let dir = scratch(name);
    let path = dir.join(format!("{name}.pcap"));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["inspect", "--no-progress"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let shown = path.display().to_string();
    assert!(
        out.status.code().unwrap_or(0) != 0 || stderr.is_empty(),
        "{stderr}"
    );
    if !out.status.success() {
        assert!(
            stderr.contains(&shown),
            "message must name the file: {stderr}"
        );
    }
    (out, stderr)
}

#[test]
fn not_a_capture() {
    let (out, err) = inspect(b"this is a text file, not a capture\n", "text");
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    assert!(err.contains("byte offset 0"), "{err}");
}

#[test]
fn empty_file() {
    let (out, err) = inspect(b"", "empty");
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("empty file"), "{err}");
}

#[test]
fn truncated_file() {
    let mut b = good_pcap(3);
    b.truncate(b.len() - 10);
    let (out, err) = inspect(&b, "truncated");
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("truncated capture"), "{err}");
    // Third record starts after the header and two 76-byte records.
    assert!(err.contains("byte offset 176"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 packets"));
}

#[test]
fn giant_record() {
    let mut b = good_pcap(1);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    b.extend_from_slice(&[0; 32]);
    let (out, err) = inspect(&b, "giant");
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("byte offset 100"), "{err}");
    assert!(err.contains("more than the maximum"), "{err}");
}

#[test]
fn lying_snaplen_and_zero_length_record() {
    let mut b = good_pcap(2);
    b[16..20].copy_from_slice(&32u32.to_le_bytes()); // snaplen 32 < 60-byte records
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    w.write_packet(Timestamp::from_secs(5), &[]).unwrap();
    b.extend_from_slice(&w.into_inner().unwrap()[24..]);
    let (out, err) = inspect(&b, "snaplen");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("byte offset 24: record holds 60 bytes, more than the header's snaplen of 32"),
        "{err}"
    );
    assert!(err.contains("byte offset 176: zero-length record"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 packets"));
}

#[test]
fn missing_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["inspect", "/nonexistent/capture.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open /nonexistent/capture.pcap"),
        "{err}"
    );
}
