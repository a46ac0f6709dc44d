//! QUIC state tests on packets sealed with the RFC 9001 Initial keys.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::packet::VERSION_1;
use super::protection::{initial_keys, DirectionKeys};
use super::*;

const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
const SCID: [u8; 4] = [1, 2, 3, 4];

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

/// A TLS 1.3 ClientHello (RFC 8446 §4.1.2) for `sni` with a GREASE
/// cipher and extension, ALPN h3, groups, signature algorithms and
/// supported_versions.
fn client_hello(sni: &[u8]) -> Vec<u8> {
    let mut exts = ext(0x1a1a, &[]);
    let mut name = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    name.push(0);
    name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    name.extend_from_slice(sni);
    exts.extend(ext(0, &name));
    exts.extend(ext(16, &[0, 3, 2, b'h', b'3']));
    exts.extend(ext(10, &[0, 4, 0, 29, 0, 23]));
    exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
    exts.extend(ext(43, &[4, 3, 4, 0x7f, 0x1d]));
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 6, 0x2a, 0x2a, 0x13, 0x01, 0x13, 0x02]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    handshake(1, &body)
}

/// A TLS 1.3 ServerHello choosing TLS_AES_256_GCM_SHA384 with
/// supported_versions and key_share.
fn server_hello() -> Vec<u8> {
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

fn crypto(offset: u64, data: &[u8]) -> Vec<u8> {
    assert!(offset < 1 << 14 && data.len() < 1 << 14);
    let mut f = vec![6];
    f.extend_from_slice(&(0x4000 | offset as u16).to_be_bytes());
    f.extend_from_slice(&(0x4000 | data.len() as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// An Initial packet (2-byte packet number) carrying `frames`, padded
/// to 1,200 bytes of frames, sealed with `keys`.
fn initial(keys: &DirectionKeys, dcid: &[u8], pn: u64, frames: &[u8]) -> Vec<u8> {
    let mut payload = frames.to_vec();
    if payload.len() < 1200 {
        payload.resize(1200, 0);
    }
    let mut header = vec![0xc1, 0, 0, 0, 1, dcid.len() as u8];
    header.extend_from_slice(dcid);
    header.push(SCID.len() as u8);
    header.extend_from_slice(&SCID);
    header.push(0);
    let length = 2 + payload.len() + 16;
    header.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    header.extend_from_slice(&(pn as u16).to_be_bytes());
    keys.seal(&header, pn, &payload).unwrap()
}

/// A Handshake packet (its payload is opaque here).
fn handshake_packet() -> Vec<u8> {
    let mut p = vec![0xe1, 0, 0, 0, 1, 0, 4];
    p.extend_from_slice(&SCID);
    p.extend_from_slice(&[0x55; 40]);
    p
}

fn parse(s: &mut QuicState, dir: QuicDirection, d: &[u8]) -> Vec<u64> {
    let mut ids = Vec::new();
    s.parse(dir, d, &mut ids);
    ids
}

#[test]
fn client_and_server_hellos_give_sni_ja3_and_ja3s() {
    let keys = initial_keys(VERSION_1, &DCID).unwrap();
    let ch = client_hello(b"example.com");
    // The hello in two CRYPTO frames, the second half first.
    let mut frames = crypto(40, &ch[40..]);
    frames.extend(crypto(0, &ch[..40]));
    let mut s = QuicState::new();
    assert!(probe(&initial(&keys.client, &DCID, 0, &frames)));
    let ids = parse(
        &mut s,
        QuicDirection::ToServer,
        &initial(&keys.client, &DCID, 0, &frames),
    );
    assert_eq!(ids, vec![0]);
    let tx = s.transaction(0).unwrap();
    assert_eq!(tx.sni.as_deref(), Some(&b"example.com"[..]));
    assert_eq!(tx.version_bytes(), Some([0, 0, 0, 1]));
    // GREASE kept, its extension written 64250.
    assert_eq!(
        tx.ja3.as_deref(),
        Some("771,10794-4865-4866,64250-0-16-10-13-43,29-23,")
    );
    assert_eq!(tx.extensions[2].values, vec![b"h3".to_vec()]);
    assert_eq!(
        tx.extensions[4].values,
        vec![b"1027".to_vec(), b"2052".to_vec()]
    );
    assert_eq!(
        tx.extensions[5].values,
        vec![b"Tls13".to_vec(), b"TlsVersion(32541 / 0x7f1d)".to_vec()]
    );
    // A draft version is the highest offered: JA4 writes 00, as
    // Suricata does.
    assert!(tx.ja4.as_deref().unwrap().starts_with("q00d0205h3_"));
    assert!(tx.anomalies.is_empty());

    // The server's Initial with its hello, coalesced with a Handshake
    // packet: one transaction, then nothing more is read that way.
    let mut d = initial(&keys.server, &SCID, 0, &crypto(0, &server_hello()));
    d.extend(handshake_packet());
    assert_eq!(parse(&mut s, QuicDirection::ToClient, &d), vec![1]);
    let tx = s.transaction(1).unwrap();
    assert_eq!(tx.ja3.as_deref(), Some("771,4866,43-51"));
    assert_eq!(tx.ja3_hash().unwrap().len(), 32);
    assert!(!tx.client());
    assert!(parse(&mut s, QuicDirection::ToClient, &handshake_packet()).is_empty());
    assert!(parse(&mut s, QuicDirection::ToServer, &handshake_packet()).is_empty());
}

#[test]
fn a_hello_split_over_two_packets() {
    let keys = initial_keys(VERSION_1, &DCID).unwrap();
    let ch = client_hello(b"split.example");
    let mut s = QuicState::new();
    let first = initial(&keys.client, &DCID, 0, &crypto(0, &ch[..50]));
    let second = initial(&keys.client, &DCID, 1, &crypto(50, &ch[50..]));
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &first), vec![0]);
    assert!(s.transaction(0).unwrap().ja3.is_none());
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &second), vec![1]);
    let tx = s.transaction(1).unwrap();
    assert_eq!(tx.sni.as_deref(), Some(&b"split.example"[..]));
    // A retransmission of the first piece changes nothing.
    assert!(parse(&mut s, QuicDirection::ToServer, &first).is_empty());
}

#[test]
fn undecryptable_and_oversized_packets_raise_events_and_parsing_goes_on() {
    let keys = initial_keys(VERSION_1, &DCID).unwrap();
    let mut s = QuicState::new();
    let mut bad = initial(&keys.client, &DCID, 0, &crypto(0, b"x"));
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &bad), vec![0]);
    assert!(s.transaction(0).unwrap().has_event("failed_decrypt"));
    // CRYPTO data past the limit.
    let far = initial(&keys.client, &DCID, 1, &crypto(16_000, b"x"));
    let mut s2 = QuicState::new();
    // CRYPTO at offset 65,536 (a 4-byte varint), one byte.
    let huge = [6, 0x80, 0x01, 0x00, 0x00, 1, b'x'];
    let pkt = initial(&keys.client, &DCID, 1, &huge);
    assert_eq!(parse(&mut s2, QuicDirection::ToServer, &pkt), vec![0]);
    assert!(s2.transaction(0).unwrap().has_event("crypto_frag_too_long"));
    // The flow is still parsed: a later packet with the hello works.
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &far), vec![1]);
    let hello = initial(&keys.client, &DCID, 2, &crypto(0, &client_hello(b"a.b")));
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &hello), vec![2]);
    assert!(s.transaction(2).unwrap().ja3.is_some());
    // Malformed frames in a packet that decrypts.
    let mut s3 = QuicState::new();
    let broken = initial(&keys.client, &DCID, 0, &[6, 0, 0x7f, 0xff]);
    assert_eq!(parse(&mut s3, QuicDirection::ToServer, &broken), vec![0]);
    assert!(s3.transaction(0).unwrap().has_event("error_on_data"));
    // A server Initial before any client one cannot be read.
    let mut s4 = QuicState::new();
    let srv = initial(&keys.server, &SCID, 0, &crypto(0, &server_hello()));
    assert_eq!(parse(&mut s4, QuicDirection::ToClient, &srv), vec![0]);
    assert!(s4.transaction(0).unwrap().has_event("failed_decrypt"));
}

#[test]
fn decryption_budget_is_bounded() {
    let keys = initial_keys(VERSION_1, &DCID).unwrap();
    let mut s = QuicState::new();
    let ping = initial(&keys.client, &DCID, 0, &[1]);
    for _ in 0..MAX_DECRYPTED_PACKETS + 10 {
        parse(&mut s, QuicDirection::ToServer, &ping);
    }
    assert_eq!(s.undecrypted, 10);
    assert_eq!(s.decrypted, MAX_DECRYPTED_PACKETS);
}

#[test]
fn retry_starts_over_with_new_keys() {
    let keys = initial_keys(VERSION_1, &DCID).unwrap();
    let mut s = QuicState::new();
    parse(
        &mut s,
        QuicDirection::ToServer,
        &initial(&keys.client, &DCID, 0, &crypto(0, &client_hello(b"first"))),
    );
    // Retry: long header type 3, new SCID, token, integrity tag.
    let mut retry = vec![0xf0, 0, 0, 0, 1, 4];
    retry.extend_from_slice(&SCID);
    retry.push(2);
    retry.extend_from_slice(&[9, 9]);
    retry.extend_from_slice(&[0x77; 24]);
    assert_eq!(parse(&mut s, QuicDirection::ToClient, &retry), vec![1]);
    assert_eq!(s.transaction(1).unwrap().packet_type, PacketType::Retry);
    let new_dcid = [9, 9, 9, 9, 9, 9, 9, 9];
    let keys2 = initial_keys(VERSION_1, &new_dcid).unwrap();
    let ids = parse(
        &mut s,
        QuicDirection::ToServer,
        &initial(
            &keys2.client,
            &new_dcid,
            1,
            &crypto(0, &client_hello(b"second")),
        ),
    );
    assert_eq!(ids, vec![2]);
    assert_eq!(
        s.transaction(2).unwrap().sni.as_deref(),
        Some(&b"second"[..])
    );
}

#[test]
fn google_quic_chlo_gives_sni_ua_and_cyu() {
    let mut m = b"CHLO".to_vec();
    m.extend_from_slice(&3u16.to_le_bytes());
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(b"PAD\0");
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(b"SNI\0");
    m.extend_from_slice(&14u32.to_le_bytes());
    m.extend_from_slice(b"UAID");
    m.extend_from_slice(&18u32.to_le_bytes());
    m.extend_from_slice(b"\0\0www.test.comcurl");
    // Q043 public header: version + 8-byte CID, 1-byte packet number,
    // 12-byte hash, then a STREAM frame (0xa0: with length) on stream 1.
    let mut p = vec![0x09];
    p.extend_from_slice(&[7; 8]);
    p.extend_from_slice(b"Q043");
    p.push(1);
    p.extend_from_slice(&[0; 12]);
    p.extend_from_slice(&[0xa0, 1]);
    p.extend_from_slice(&(m.len() as u16).to_be_bytes());
    p.extend_from_slice(&m);
    let mut s = QuicState::new();
    assert!(probe(&p));
    assert_eq!(parse(&mut s, QuicDirection::ToServer, &p), vec![0]);
    let tx = s.transaction(0).unwrap();
    assert_eq!(tx.sni.as_deref(), Some(&b"www.test.com"[..]));
    assert_eq!(tx.ua.as_deref(), Some(&b"curl"[..]));
    assert_eq!(tx.version_bytes(), None);
    assert_eq!(tx.cyu.len(), 1);
    assert_eq!(tx.cyu[0].string, "43,PAD-SNI-UAID");
    // Python: hashlib.md5(b"43,PAD-SNI-UAID").hexdigest()
    assert_eq!(tx.cyu[0].hash, md5_hex("43,PAD-SNI-UAID"));
}

#[test]
fn short_headers_and_garbage_make_no_transactions() {
    let mut s = QuicState::new();
    assert!(parse(&mut s, QuicDirection::ToServer, &[0x40, 1, 2, 3]).is_empty());
    assert!(parse(&mut s, QuicDirection::ToServer, &[0xc0, 0, 0]).is_empty());
    assert_eq!(s.header_errors, 1);
}

#[test]
fn crypto_reassembly_keeps_the_first_copy() {
    let mut c = CryptoStream::default();
    assert!(c.insert(3, b"def"));
    assert!(c.take_ready().is_empty());
    assert!(c.insert(0, b"abX"));
    assert!(c.insert(2, b"cZZ"));
    assert_eq!(c.take_ready(), b"abXdef");
    assert!(c.insert(6, b"g"));
    assert_eq!(c.take_ready(), b"g");
    assert!(!c.insert(MAX_CRYPTO_BYTES, b"x"));
    for i in 0..MAX_CRYPTO_RANGES as u64 {
        let _ = c.insert(100 + i * 2, b"x");
    }
    assert!(c.ranges.len() <= MAX_CRYPTO_RANGES);
}
