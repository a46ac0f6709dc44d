//! Fuzzes the QUIC parser of `rampart-app` (header parsing, Initial
//! packet decryption, CRYPTO reassembly, the TLS hellos, Google QUIC
//! CHLO tags).
//!
//! Input: datagrams until the input ends: `[tag] [len u16 LE] [len
//! bytes]`; `tag & 1` is the direction (0 client to server). With `tag &
//! 2` the bytes are the *frames* of an Initial packet that the target
//! seals itself with the keys of a fixed connection ID (client or server
//! keys by direction, packet number `tag >> 2`), so that the fuzzer
//! reaches the frames, the CRYPTO reassembly and the TLS parser behind
//! the AEAD; otherwise they are the datagram as sent.
//!
//! Checks: no panic; at most `MAX_TRANSACTIONS` transactions, each id
//! handed out held; the probe agrees with the parse of a first datagram;
//! while only sealed packets were fed, a sealed client Initial always
//! opens (no `failed_decrypt`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::quic::protection::initial_keys;
use rampart_app::quic::{self, QuicDirection, QuicState, MAX_TRANSACTIONS};
use rampart_fuzz::Input;

const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// An Initial packet around `frames` (padded so that it can be
/// sampled), sealed with the client's or the server's keys.
fn sealed(client: bool, pn: u8, frames: &[u8]) -> Option<Vec<u8>> {
    let keys = initial_keys(1, &DCID)?;
    let mut payload = frames.to_vec();
    payload.resize(payload.len().max(20), 0);
    let mut header = vec![0xc0, 0, 0, 0, 1];
    if client {
        header.push(DCID.len() as u8);
        header.extend_from_slice(&DCID);
        header.push(0);
    } else {
        header.extend_from_slice(&[0, 8]);
        header.extend_from_slice(&DCID);
    }
    header.push(0);
    let length = 1 + payload.len() + 16;
    if length >= 1 << 14 {
        return None;
    }
    header.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    header.push(pn);
    let k = if client { &keys.client } else { &keys.server };
    k.seal(&header, u64::from(pn), &payload)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut st = QuicState::new();
    let mut n = 0;
    let mut raw_seen = false;
    while !input.is_empty() && n < 64 {
        n += 1;
        let tag = input.u8();
        let len = usize::from(input.u16());
        let bytes = input.bytes(len);
        let client = tag & 1 == 0;
        let dir = if client {
            QuicDirection::ToServer
        } else {
            QuicDirection::ToClient
        };
        let owned;
        let datagram = if tag & 2 != 0 {
            match sealed(client, tag >> 2, bytes) {
                Some(p) => {
                    owned = p;
                    &owned[..]
                }
                None => continue,
            }
        } else {
            raw_seen = true;
            bytes
        };
        if n == 1 {
            assert_eq!(
                quic::probe(datagram),
                quic::packet::parse_header(datagram).is_some()
            );
        }
        let mut ids = Vec::new();
        st.parse(dir, datagram, &mut ids);
        for id in &ids {
            let tx = st.transaction(*id).expect("new transaction held");
            if !raw_seen && client && tx.packet_type == quic::packet::PacketType::Initial {
                assert!(!tx.has_event("failed_decrypt"));
            }
            let _ = tx.ja3_hash();
        }
        assert!(st.transactions().count() <= MAX_TRANSACTIONS);
    }
});
