//! Fuzzes the ONC RPC / NFS parser of `rampart-app`.
//!
//! Input: feed operations until the input ends: `[tag] [len u16 LE] [len
//! bytes]`; tag & 1 is the direction (0 client to server), tag & 2 says TCP
//! stream data (record-marked), else a UDP datagram; tag & 4 ends the flow
//! instead (open files complete). The first op's bytes are also probed.
//!
//! Checks: no panic; at most `MAX_TRANSACTIONS` transactions,
//! `MAX_PENDING_CALLS` calls awaiting replies and `MAX_NAMES` names held;
//! TCP framing within `MAX_RECORD` plus the bytes fed; file data within
//! `FILE_DEPTH` and its size; every side reported is a held transaction's,
//! reported once; the same TCP bytes fed whole or one byte at a time give
//! the same ready sides and transactions (finished ones released after
//! each op, as the engine does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::nfs::{
    self, NfsDirection, NfsReady, NfsState, NfsTx, FILE_DEPTH, MAX_NAMES, MAX_PENDING_CALLS,
    MAX_RECORD, MAX_TRANSACTIONS,
};
use rampart_fuzz::Input;

enum Op<'a> {
    Tcp(NfsDirection, &'a [u8]),
    Udp(NfsDirection, &'a [u8]),
    Finish,
}

fn run(ops: &[Op<'_>], bytewise: bool) -> (Vec<NfsReady>, Vec<NfsTx>) {
    let mut st = NfsState::new();
    let mut ready = Vec::new();
    for op in ops {
        let before = ready.len();
        match *op {
            Op::Tcp(dir, data) if bytewise => {
                for b in data.chunks(1) {
                    st.feed_tcp(dir, b, &mut ready);
                }
            }
            Op::Tcp(dir, data) => st.feed_tcp(dir, data, &mut ready),
            Op::Udp(dir, data) => st.parse_datagram(dir, data, &mut ready),
            Op::Finish => st.finish(&mut ready),
        }
        assert!(st.transactions().count() <= MAX_TRANSACTIONS);
        assert!(st.pending_calls() <= MAX_PENDING_CALLS);
        assert!(st.names() <= MAX_NAMES);
        assert!(st.buffered() <= 2 * (MAX_RECORD + 8 + u16::MAX as usize));
        for tx in st.transactions() {
            if let Some(f) = &tx.file {
                assert!(f.data.len() <= FILE_DEPTH);
                assert!(f.data.len() as u64 <= f.size);
            }
            let _ = nfs::procedure_name(tx.version, tx.procedure);
            let _ = tx.status.map(nfs::status_name);
        }
        for r in ready.iter().skip(before) {
            // Sides of transactions dropped by the cap within this op may
            // be gone; the others are held.
            if let Some(tx) = st.transaction(r.id) {
                assert_eq!(tx.id, r.id);
            }
            let n = ready.iter().filter(|x| *x == r).count();
            assert_eq!(n, 1, "side reported twice: {r:?}");
        }
        // As the engine does after inspecting: finished transactions go.
        st.remove_before(u64::MAX);
    }
    (ready, st.transactions().cloned().collect())
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut ops = Vec::new();
    while !input.is_empty() && ops.len() < 64 {
        let tag = input.u8();
        if tag & 4 != 0 {
            ops.push(Op::Finish);
            continue;
        }
        let len = usize::from(input.u16());
        let dir = if tag & 1 == 0 {
            NfsDirection::ToServer
        } else {
            NfsDirection::ToClient
        };
        let bytes = input.bytes(len);
        ops.push(if tag & 2 != 0 {
            Op::Tcp(dir, bytes)
        } else {
            Op::Udp(dir, bytes)
        });
    }
    if let Some(Op::Tcp(_, first) | Op::Udp(_, first)) = ops.first() {
        let _ = nfs::probe_udp(first, true);
        let _ = nfs::probe_udp(first, false);
        let _ = nfs::probe_tcp(first);
    }
    let whole = run(&ops, false);
    let split = run(&ops, true);
    assert_eq!(whole, split, "segmentation changed the result");
});
