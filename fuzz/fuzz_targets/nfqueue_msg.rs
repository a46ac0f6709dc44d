//! The NFQUEUE receive parser on arbitrary buffers: whatever the netlink
//! headers and attributes claim, no panic, every packet payload lies
//! inside the buffer, and the walk ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_sys::nfqueue::{parse_messages, QueueMessage};

fuzz_target!(|data: &[u8]| {
    let mut messages = 0usize;
    parse_messages(data, |m| {
        messages += 1;
        if let QueueMessage::Packet(p) = m {
            assert!(p.payload.start <= p.payload.end);
            assert!(p.payload.end <= data.len());
        }
    });
    // Every message takes at least a 16-byte header.
    assert!(messages <= data.len() / 16);
});
