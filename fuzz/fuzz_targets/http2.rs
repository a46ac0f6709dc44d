//! Fuzzes the HTTP/2 parser of `rampart-app` (frames, HPACK, streams).
//!
//! Input: `[flags] [ops...]`; flags & 1 prepends the client preface to
//! the client's first op (so that most inputs get past it). Each op is
//! `[tag] [len u8] [len bytes]` for direction tag & 1 (0 client to
//! server, 1 server to client).
//!
//! Checks: no panic; the caps hold (transactions held, headers kept per
//! side); each transaction side is handed out once; the
//! same bytes fed whole or one byte at a time give the same transactions
//! and ready sides (the parser must not depend on segmentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::http2::{Http2Config, Http2Ready, Http2Session, Http2Transaction, CLIENT_PREFACE};
use rampart_app::Direction;
use rampart_fuzz::Input;

fn run(
    cfg: &Http2Config,
    ops: &[(Direction, Vec<u8>)],
    bytewise: bool,
) -> (Vec<Http2Ready>, Vec<Http2Transaction>) {
    let mut s = Http2Session::new(cfg.clone());
    let mut ready = Vec::new();
    for (dir, data) in ops {
        if bytewise {
            for b in data.chunks(1) {
                s.feed(*dir, b, &mut ready);
            }
        } else {
            s.feed(*dir, data, &mut ready);
        }
        assert!(s.transactions().count() <= cfg.max_streams);
        for tx in s.transactions() {
            assert!(tx.request.headers.len() <= cfg.max_headers);
            assert!(tx.response.headers.len() <= cfg.max_headers);
        }
    }
    s.finish(&mut ready);
    let txs: Vec<Http2Transaction> = s.transactions().cloned().collect();
    // Each side is handed out once.
    for (i, r) in ready.iter().enumerate() {
        assert!(!ready[..i].contains(r));
    }
    s.remove_done(|_| false);
    assert_eq!(s.transactions().count(), 0);
    (ready, txs)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = Http2Config {
        max_frame_buffer: 4096,
        max_header_block: 8192,
        max_headers: 16,
        max_header_bytes: 4096,
        max_streams: 8,
    };
    let mut ops: Vec<(Direction, Vec<u8>)> = Vec::new();
    let mut preface = flags & 1 == 1;
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let len = usize::from(input.u8());
        let mut bytes = Vec::new();
        if preface && dir == Direction::ToServer {
            bytes.extend_from_slice(CLIENT_PREFACE);
            preface = false;
        }
        bytes.extend_from_slice(input.bytes(len));
        ops.push((dir, bytes));
    }
    let whole = run(&cfg, &ops, false);
    let bytewise = run(&cfg, &ops, true);
    assert_eq!(whole, bytewise);
});
