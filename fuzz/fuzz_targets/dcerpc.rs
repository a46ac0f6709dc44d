//! Fuzzes the DCERPC parser of `rampart-app`.
//!
//! Input: `[flags] [ops...]`; flags & 0x3f sets the stub caps (`1 + n *
//! 64` bytes per side, `1 + n * 256` per connection), flags >> 6 the
//! transaction cap (`1 + n * 8`).
//! Each op is `[tag] [len u8] [len bytes]` fed to direction tag & 1 (0
//! client to server, 1 server to client), after a gap in that direction
//! when tag & 2.
//!
//! Checks: no panic; the reassembly buffers stay within one PDU per
//! direction; stub data within its caps (and the connection's count of
//! held stub bytes exact), transactions within theirs,
//! accepted contexts within `MAX_CONTEXTS`; the same bytes fed whole or
//! one byte at a time give the same events, transactions, accepted
//! contexts and anomalies (the parser must not depend on segmentation).
//! The same operations are also read as SMB2 carrying DCERPC over named
//! pipes (`smb_dcerpc`), with the same bounds and split invariance.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::dcerpc::{
    DcerpcConfig, DcerpcDirection, DcerpcEvent, DcerpcState, DcerpcTransaction, MAX_CONTEXTS,
};
use rampart_app::smb_dcerpc::{SmbDcerpc, MAX_MESSAGE_LEN};
use rampart_fuzz::Input;

fn run(
    cfg: DcerpcConfig,
    ops: &[(DcerpcDirection, bool, &[u8])],
    bytewise: bool,
) -> (DcerpcState, Vec<DcerpcEvent>) {
    let mut s = DcerpcState::new(cfg);
    let mut events = Vec::new();
    for &(dir, gap, data) in ops {
        if gap {
            s.gap(dir);
        }
        if bytewise {
            for b in data.chunks(1) {
                s.feed(dir, b, &mut events);
            }
        } else {
            s.feed(dir, data, &mut events);
        }
        assert!(s.buffered() <= 2 * 65535);
        assert!(s.transactions().count() <= cfg.max_transactions);
        assert!(s.accepted.len() <= MAX_CONTEXTS);
        assert!(s.stub_held() <= cfg.max_stub_total);
        let held: usize = s
            .transactions()
            .map(|t| t.stub_request.len() + t.stub_response.len())
            .sum();
        assert_eq!(held, s.stub_held());
        for tx in s.transactions() {
            assert!(tx.stub_request.len() <= cfg.max_stub_len);
            assert!(tx.stub_response.len() <= cfg.max_stub_len);
            assert!(tx.interfaces.len() <= 255);
        }
    }
    (s, events)
}

/// The same operations read as SMB2 (DCERPC over named pipes; gaps
/// ignored).
fn run_smb(
    cfg: DcerpcConfig,
    ops: &[(DcerpcDirection, bool, &[u8])],
    bytewise: bool,
) -> (SmbDcerpc, Vec<DcerpcEvent>) {
    let mut s = SmbDcerpc::new(cfg);
    let mut events = Vec::new();
    for &(dir, _, data) in ops {
        if bytewise {
            for b in data.chunks(1) {
                s.feed(dir, b, &mut events);
            }
        } else {
            s.feed(dir, data, &mut events);
        }
        assert!(s.buffered() <= 2 * (MAX_MESSAGE_LEN + 4));
        assert!(s.dce.transactions().count() <= cfg.max_transactions);
    }
    (s, events)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = DcerpcConfig {
        max_stub_len: 1 + usize::from(flags & 0x3f) * 64,
        max_stub_total: 1 + usize::from(flags & 0x3f) * 256,
        max_transactions: 1 + usize::from(flags >> 6) * 8,
    };
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            DcerpcDirection::ToServer
        } else {
            DcerpcDirection::ToClient
        };
        let len = usize::from(input.u8());
        ops.push((dir, tag & 2 != 0, input.bytes(len)));
    }
    let (a, ea) = run(cfg, &ops, false);
    let (b, eb) = run(cfg, &ops, true);
    assert_eq!(ea, eb);
    let ta: Vec<&DcerpcTransaction> = a.transactions().collect();
    let tb: Vec<&DcerpcTransaction> = b.transactions().collect();
    assert_eq!(ta, tb);
    assert_eq!(a.accepted, b.accepted);
    assert_eq!(a.anomalies, b.anomalies);
    assert_eq!(a.anomaly_count, b.anomaly_count);
    let (a, ea) = run_smb(cfg, &ops, false);
    let (b, eb) = run_smb(cfg, &ops, true);
    assert_eq!(ea, eb);
    let ta: Vec<&DcerpcTransaction> = a.dce.transactions().collect();
    let tb: Vec<&DcerpcTransaction> = b.dce.transactions().collect();
    assert_eq!(ta, tb);
    assert_eq!(a.skipped_messages, b.skipped_messages);
});
