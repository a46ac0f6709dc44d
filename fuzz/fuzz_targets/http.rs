//! Fuzzes the HTTP/1.x parser of `rampart-app` (and protocol detection).
//!
//! Input (see README.md):
//! ```text
//! config: [flags]      flags & 1: tiny limits (lines 64 B, 8 headers,
//!                      256 B raw headers and bodies, 4 KiB decompression
//!                      cap, 4 transactions); otherwise the defaults
//! ops:    [tag] ...    repeated until the input ends
//!   dir  = tag & 1     (0 to-server, 1 to-client)
//!   tag & 2            finish that direction (no data follows)
//!   else               [len u8] [len bytes of data] fed to that direction
//! ```
//!
//! Checks: no panic; every limit of the config holds for every held
//! transaction (count, line and header lengths, header counts, raw header
//! and body sizes); every accessor can be called; and replaying the same
//! operations with every data chunk fed one byte at a time yields the same
//! transactions (a parser must not depend on how TCP split the stream).
//! The ratio guard is disabled so that bomb detection depends only on the
//! total output; bodies of transactions whose decompression failed are not
//! compared (how much output precedes the error depends on write sizes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::{
    detect_protocol, Direction, HttpAnomaly, HttpConfig, HttpEvent, HttpParser, HttpTransaction,
};
use rampart_fuzz::Input;

enum Op<'a> {
    Feed(Direction, &'a [u8]),
    Finish(Direction),
}

fn run(cfg: &HttpConfig, ops: &[Op<'_>], bytewise: bool) -> Vec<HttpTransaction> {
    let mut p = HttpParser::new(cfg.clone());
    let mut ev: Vec<HttpEvent> = Vec::new();
    for op in ops {
        match *op {
            Op::Feed(dir, data) if bytewise => {
                for b in data.chunks(1) {
                    p.feed(dir, b, &mut ev);
                }
            }
            Op::Feed(dir, data) => p.feed(dir, data, &mut ev),
            Op::Finish(dir) => p.finish(dir, &mut ev),
        }
        check(cfg, &p);
        ev.clear();
    }
    p.transactions().cloned().collect()
}

fn check(cfg: &HttpConfig, p: &HttpParser) {
    assert!(p.transactions().count() <= cfg.max_transactions);
    for t in p.transactions() {
        assert!(t.request_line().len() <= cfg.max_request_line);
        assert!(t.response_line().len() <= cfg.max_request_line);
        assert!(t.request_body().len() <= cfg.request_body_depth);
        assert!(t.response_body().len() <= cfg.response_body_depth);
        for dir in [Direction::ToServer, Direction::ToClient] {
            assert!(t.headers(dir).len() <= cfg.max_headers);
            assert!(t.header_raw(dir).len() <= cfg.max_header_block);
            let mut kept = 0;
            for h in t.headers(dir) {
                assert!(h.name.len() <= cfg.max_header_line);
                kept += h.name.len() + h.value.len();
            }
            assert!(kept <= cfg.max_header_block);
            let _ = (t.header(dir), t.header_names(dir), t.start(dir), t.cookie(dir));
            let _ = (t.content_type(dir), t.content_len(dir), t.progress(dir));
        }
        let _ = (t.method(), t.uri(), t.uri_raw(), t.protocol(), t.host(), t.host_raw());
        let _ = (t.user_agent(), t.referer(), t.accept(), t.stat_code(), t.stat_msg());
        for a in t.anomalies() {
            assert!(a.event_name().starts_with("http."));
        }
    }
}

fn decompression_failed(t: &HttpTransaction) -> bool {
    t.anomalies().contains(&HttpAnomaly::GzipDecompressionFailed)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let mut cfg = if flags & 1 == 1 {
        HttpConfig {
            max_request_line: 64,
            max_header_line: 64,
            max_headers: 8,
            max_header_block: 256,
            request_body_depth: 256,
            response_body_depth: 256,
            decompress_cap: 4096,
            max_transactions: 4,
            ..HttpConfig::default()
        }
    } else {
        HttpConfig::default()
    };
    cfg.decompress_ratio = u64::MAX;
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 { Direction::ToServer } else { Direction::ToClient };
        if tag & 2 != 0 {
            ops.push(Op::Finish(dir));
        } else {
            let len = usize::from(input.u8());
            let chunk = input.bytes(len);
            let _ = detect_protocol(chunk, dir == Direction::ToServer);
            ops.push(Op::Feed(dir, chunk));
        }
    }
    let whole = run(&cfg, &ops, false);
    let bytewise = run(&cfg, &ops, true);
    assert_eq!(whole.len(), bytewise.len());
    for (a, b) in whole.iter().zip(&bytewise) {
        if decompression_failed(a) || decompression_failed(b) {
            assert_eq!(a.id(), b.id());
            assert_eq!(a.request_line(), b.request_line());
            assert_eq!(a.header(Direction::ToClient), b.header(Direction::ToClient));
        } else {
            assert_eq!(a, b);
        }
    }
});
