//! Fuzzes the SMB parser of `rampart-app`.
//!
//! Input: feed operations until the input ends: `[tag] [len u8] [len
//! bytes]` fed to direction tag & 1 (0 client to server, 1 server to
//! client); tag & 2 ends the connection instead (`finish`).
//!
//! Checks: no panic; framing buffers, file data, transactions and named
//! pipe data stay within their caps; the same bytes fed whole or one byte
//! at a time give the same ready sides, transactions and anomalies (the
//! parser must not depend on segmentation; only the stream offset noted
//! on responses may differ, as it is the end of the chunk fed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::smb::{
    SmbDirection, SmbReady, SmbSession, SmbTx, SmbTxKind, FILE_DEPTH, MAX_MESSAGE,
};
use rampart_fuzz::Input;

enum Op<'a> {
    Feed(SmbDirection, &'a [u8]),
    Finish,
}

fn run(ops: &[Op<'_>], bytewise: bool) -> (Vec<SmbTx>, Vec<SmbReady>, SmbSession) {
    let mut s = SmbSession::new();
    let mut out = Vec::new();
    let mut end = [0u64; 2];
    for op in ops {
        match *op {
            Op::Feed(dir, data) => {
                let i = usize::from(dir == SmbDirection::ToClient);
                if bytewise {
                    for b in data.chunks(1) {
                        end[i] += 1;
                        s.feed(dir, b, end[i], &mut out);
                    }
                } else {
                    end[i] += data.len() as u64;
                    s.feed(dir, data, end[i], &mut out);
                }
            }
            Op::Finish => s.finish(&mut out),
        }
        assert!(s.buffered() <= 2 * (MAX_MESSAGE + 4));
        assert!(s.transactions().len() <= 256);
        assert!(s.pipe_queued() <= rampart_app::smb::MAX_PIPE_QUEUE);
        for tx in s.transactions() {
            if let SmbTxKind::File(f) = &tx.kind {
                assert!(f.data.len() <= FILE_DEPTH);
                assert!(f.data.len() as u64 <= f.size || f.size == 0 && f.data.is_empty());
            }
        }
    }
    let txs = s
        .transactions()
        .iter()
        .cloned()
        .map(|mut t| {
            t.response_end = None;
            t
        })
        .collect();
    (txs, out, s)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        if tag & 2 != 0 {
            ops.push(Op::Finish);
            continue;
        }
        let dir = if tag & 1 == 0 { SmbDirection::ToServer } else { SmbDirection::ToClient };
        let len = usize::from(input.u8());
        ops.push(Op::Feed(dir, input.bytes(len)));
    }
    let (ta, ra, a) = run(&ops, false);
    let (tb, rb, b) = run(&ops, true);
    assert_eq!(ta, tb);
    assert_eq!(ra, rb);
    assert_eq!(a.orphan_anomalies, b.orphan_anomalies);
    let (mut a, mut b) = (a, b);
    assert_eq!(a.take_pipe_chunks(), b.take_pipe_chunks());
});
