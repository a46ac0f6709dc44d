//! Fuzzes the RFB handshake parser of `rampart-app`.
//!
//! Input: `[flags] [ops...]`; flags & 1 turns frames off. Each op is
//! `[tag] [len u8] [len bytes]` fed to direction tag & 1 (0 client to
//! server, 1 server to client).
//!
//! Checks: no panic; strings stay within `MAX_STRING_LEN`; frames are
//! complete exactly when all their bytes were seen, and follow each other
//! without overlap in their direction; the handshake completes at most
//! once; the same bytes fed whole or one byte at a time give the same
//! session and the same frames in each direction (the parser must not
//! depend on segmentation; how the two directions' frames interleave
//! does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::frame::Frame;
use rampart_app::rfb::{RfbSession, MAX_STRING_LEN};
use rampart_app::Direction;
use rampart_fuzz::Input;

#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Frame>,
    completions: usize,
    fields: String,
}

fn run(frames_on: bool, ops: &[(Direction, &[u8])], bytewise: bool) -> Outcome {
    let mut s = RfbSession::new(frames_on);
    let mut completions = 0;
    let mut frames = Vec::new();
    for &(dir, data) in ops {
        let chunks: Vec<&[u8]> = if bytewise {
            data.chunks(1).collect()
        } else {
            vec![data]
        };
        for c in chunks {
            if s.feed(dir, c).is_some() {
                completions += 1;
            }
        }
        assert!(s.failure_reason.len() <= MAX_STRING_LEN);
        if let Some(init) = &s.server_init {
            assert!(init.name.len() <= MAX_STRING_LEN);
        }
        frames.extend(s.frames.take());
    }
    assert!(completions <= 1);
    // Per direction, in order.
    frames.sort_by_key(|f| f.dir == Direction::ToClient);
    let mut next = [0u64; 2];
    for f in &frames {
        assert!(frames_on);
        assert_eq!(f.complete, f.data.len() as u64 >= f.len);
        let i = usize::from(f.dir == Direction::ToClient);
        assert!(f.offset >= next[i], "frames overlap");
        next[i] = f.offset + f.len;
    }
    let fields = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {}",
        s.server_version,
        s.client_version,
        s.offered_types,
        s.security_type,
        s.vnc_challenge,
        s.vnc_response,
        s.security_result,
        s.failure_reason,
        s.shared,
        s.server_init,
        s.complete,
    );
    Outcome {
        frames,
        completions,
        fields,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let frames_on = input.u8() & 1 == 0;
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
    assert_eq!(run(frames_on, &ops, false), run(frames_on, &ops, true));
});
