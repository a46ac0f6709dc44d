//! Fuzzes the SIP parser of `rampart-app`, over UDP and TCP.
//!
//! Input: `[flags] [ops...]`; flags & 1 parses the ops as UDP datagrams
//! (else as TCP stream data), flags & 2 turns frames off. Each op is
//! `[tag] [len u8] [len bytes]` for direction tag & 1 (0 client to
//! server, 1 server to client).
//!
//! Checks: no panic; frames stay within their bounds (at most
//! `MAX_FRAME_BYTES` kept, complete exactly when all their bytes were
//! seen, none when frames are off); a message's parts add up to it; over
//! TCP the same bytes fed whole or one byte at a time give the same
//! transactions and frames (the parser must not depend on segmentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::frame::{Frame, MAX_FRAME_BYTES};
use rampart_app::sip::{SipConfig, SipEvent, SipMessage, SipState};
use rampart_app::Direction;
use rampart_fuzz::Input;

fn run(
    cfg: &SipConfig,
    udp: bool,
    ops: &[(Direction, &[u8])],
    bytewise: bool,
) -> (Vec<SipEvent>, Vec<SipMessage>, Vec<Frame>) {
    let mut s = SipState::new(cfg.clone());
    let mut events = Vec::new();
    let mut messages = Vec::new();
    let mut frames = Vec::new();
    for &(dir, data) in ops {
        let start = events.len();
        if udp {
            s.parse_datagram(dir, data, &mut events);
        } else if bytewise {
            for b in data.chunks(1) {
                s.feed_tcp(dir, b, &mut events);
            }
        } else {
            s.feed_tcp(dir, data, &mut events);
        }
        for e in &events[start..] {
            let tx = s.transaction(e.id).expect("a new transaction is held");
            let m = &tx.message;
            // The head is the start line, the header lines and the empty
            // line (CRLF or a bare LF).
            let parts = m.line_len + m.headers_len;
            assert!(m.head_len == parts + 1 || m.head_len == parts + 2);
            assert!(m.headers.len() <= cfg.max_headers);
            messages.push(m.clone());
        }
        for f in s.frames.take() {
            assert!(cfg.frames);
            assert!(f.data.len() <= MAX_FRAME_BYTES);
            if f.data.len() < MAX_FRAME_BYTES {
                assert_eq!(f.complete, f.data.len() as u64 >= f.len);
            }
            frames.push(f);
        }
        s.remove_before(u64::MAX);
    }
    (events, messages, frames)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let udp = flags & 1 == 1;
    let cfg = SipConfig {
        frames: flags & 2 == 0,
        max_head_len: 1024,
        max_headers: 8,
        ..SipConfig::default()
    };
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let len = usize::from(input.u8());
        ops.push((dir, input.bytes(len)));
    }
    let whole = run(&cfg, udp, &ops, false);
    if !udp {
        let bytewise = run(&cfg, udp, &ops, true);
        assert_eq!(whole, bytewise);
    }
});
