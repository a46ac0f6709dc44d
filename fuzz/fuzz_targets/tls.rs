//! Fuzzes the TLS handshake parser of `rampart-app`.
//!
//! Input: `[flags] [ops...]`; flags & 1 selects tiny limits (1 KiB
//! handshake messages, 2 certificates). Each op is `[tag] [len u8]
//! [len bytes]` fed to direction tag & 1, or, when tag & 2, the end of the
//! connection.
//!
//! Checks: no panic; reassembly buffers stay within their bounds; the same
//! bytes fed whole or one byte at a time give the same events, hellos,
//! certificates and anomalies (the parser must not depend on segmentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::tls::{TlsConfig, TlsDirection, TlsEvent, TlsSession};
use rampart_fuzz::Input;

enum Op<'a> {
    Feed(TlsDirection, &'a [u8]),
    Finish,
}

fn run(cfg: &TlsConfig, ops: &[Op<'_>], bytewise: bool) -> (TlsSession, Vec<TlsEvent>) {
    let mut s = TlsSession::new(cfg.clone());
    let mut events = Vec::new();
    for op in ops {
        match *op {
            Op::Feed(dir, data) if bytewise => {
                for b in data.chunks(1) {
                    s.feed(dir, b, &mut events);
                }
            }
            Op::Feed(dir, data) => s.feed(dir, data, &mut events),
            Op::Finish => s.finish(&mut events),
        }
        assert!(s.buffered() <= 2 * (65_540 + cfg.max_handshake + 4));
        assert!(s.certificates.len() <= cfg.max_certificates);
        if let Some(ch) = &s.client_hello {
            let _ = (ch.ja3_string(), ch.ja3_hash());
        }
        if let Some(sh) = &s.server_hello {
            let _ = (sh.ja3s_string(), sh.negotiated_version());
        }
    }
    (s, events)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = if flags & 1 == 1 {
        TlsConfig {
            max_handshake: 1024,
            max_certificates: 2,
        }
    } else {
        TlsConfig::default()
    };
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        if tag & 2 != 0 {
            ops.push(Op::Finish);
            continue;
        }
        let dir = if tag & 1 == 0 { TlsDirection::ToServer } else { TlsDirection::ToClient };
        let len = usize::from(input.u8());
        ops.push(Op::Feed(dir, input.bytes(len)));
    }
    let (a, ea) = run(&cfg, &ops, false);
    let (b, eb) = run(&cfg, &ops, true);
    assert_eq!(ea, eb);
    assert_eq!(a.client_hello, b.client_hello);
    assert_eq!(a.server_hello, b.server_hello);
    assert_eq!(a.certificates, b.certificates);
    assert_eq!(a.anomalies, b.anomalies);
});
