//! The AF_PACKET ring walker on arbitrary blocks: whatever the block
//! header and frame headers claim, no panic, every frame handed out lies
//! inside the block (or the VLAN scratch buffer), and the walk ends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut scratch = Vec::new();
    let mut frames = 0usize;
    let walk = rampart_sys::afpacket::walk_block(data, &mut scratch, |_ts, frame, len| {
        assert!(frame.len() <= data.len() + 4);
        assert!(len as usize >= frame.len() || len == 0 || frame.len() <= data.len() + 4);
        frames += 1;
    });
    assert_eq!(walk.delivered, frames);
});
