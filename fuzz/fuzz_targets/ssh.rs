//! Fuzzes the SSH parser of `rampart-app`.
//!
//! Input: `[flags] [ops...]`; flags & 1 turns HASSH off (no KEXINIT is
//! buffered). Each op is `[tag] [len u8] [len bytes]` fed to direction
//! tag & 1 (0 client to server, 1 server to client).
//!
//! Checks: no panic; buffers stay within their bounds (identification
//! line and KEXINIT caps); a side's HASSH is 32 hex digits when present;
//! the same bytes fed whole or one byte at a time give the same events,
//! sides and anomalies (the parser must not depend on segmentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::ssh::{
    SshConfig, SshDirection, SshEvent, SshSession, MAX_BANNER_LEN, MAX_KEXINIT_LEN,
};
use rampart_fuzz::Input;

fn run(cfg: SshConfig, ops: &[(SshDirection, &[u8])], bytewise: bool) -> (SshSession, Vec<SshEvent>) {
    let mut s = SshSession::new(cfg);
    let mut events = Vec::new();
    for &(dir, data) in ops {
        if bytewise {
            for b in data.chunks(1) {
                s.feed(dir, b, &mut events);
            }
        } else {
            s.feed(dir, data, &mut events);
        }
        assert!(s.buffered() <= 2 * (MAX_BANNER_LEN + MAX_KEXINIT_LEN + 6));
        for side in [&s.client, &s.server] {
            assert!(side.proto.len() <= MAX_BANNER_LEN);
            assert!(side.software.len() <= MAX_BANNER_LEN);
            assert!(side.hassh.is_empty() || side.hassh.len() == 32);
            assert!(side.hassh_string.len() <= MAX_KEXINIT_LEN);
        }
        if !cfg.hassh {
            assert!(s.client.hassh.is_empty() && s.server.hassh.is_empty());
        }
    }
    (s, events)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = SshConfig { hassh: flags & 1 == 0 };
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 { SshDirection::ToServer } else { SshDirection::ToClient };
        let len = usize::from(input.u8());
        ops.push((dir, input.bytes(len)));
    }
    let (a, ea) = run(cfg, &ops, false);
    let (b, eb) = run(cfg, &ops, true);
    assert_eq!(ea, eb);
    assert_eq!(a.client, b.client);
    assert_eq!(a.server, b.server);
    assert_eq!(a.anomalies, b.anomalies);
    assert_eq!(a.anomaly_count, b.anomaly_count);
});
