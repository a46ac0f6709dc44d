//! Fuzzes the Kerberos 5 parser of `rampart-app` (over `kerberos-parser`).
//!
//! Input: feed operations until the input ends: `[tag] [len u16 LE] [len
//! bytes]`; tag & 1 is the direction (0 client to server), tag & 2 says TCP
//! stream data (record-marked), else a UDP datagram. The first op's bytes
//! are also probed.
//!
//! Checks: no panic; at most `MAX_TRANSACTIONS` transactions held; every
//! id handed out is a transaction of the flow while held; the same TCP
//! bytes fed whole or one byte at a time give the same transactions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::krb5::{self, Krb5Direction, Krb5State, MAX_TRANSACTIONS};
use rampart_fuzz::Input;

fn run(ops: &[(Krb5Direction, bool, &[u8])], bytewise: bool) -> (Vec<u64>, String) {
    let mut st = Krb5State::new();
    let mut ready = Vec::new();
    for &(dir, tcp, data) in ops {
        let before = ready.len();
        if tcp && bytewise {
            for b in data.chunks(1) {
                st.feed_tcp(dir, b, &mut ready);
            }
        } else if tcp {
            st.feed_tcp(dir, data, &mut ready);
        } else {
            st.parse(dir, data, &mut ready);
        }
        assert!(st.len() <= MAX_TRANSACTIONS);
        for id in ready.iter().skip(before) {
            if let Some(tx) = st.transaction(*id) {
                assert_eq!(tx.id, *id);
                let _ = krb5::msg_type_name(tx.msg_type);
                let _ = tx.etype.map(krb5::encryption_name);
            }
        }
    }
    let summary = (0..st.len() as u64 + st.dropped)
        .filter_map(|id| st.transaction(id))
        .map(|tx| format!("{tx:?}\n"))
        .collect();
    (ready, summary)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut ops = Vec::new();
    while !input.is_empty() && ops.len() < 64 {
        let tag = input.u8();
        let len = usize::from(input.u16());
        let dir = if tag & 1 == 0 {
            Krb5Direction::ToServer
        } else {
            Krb5Direction::ToClient
        };
        ops.push((dir, tag & 2 != 0, input.bytes(len)));
    }
    if let Some(&(_, _, first)) = ops.first() {
        let _ = krb5::probe(first);
        let _ = krb5::probe_tcp(first);
    }
    let whole = run(&ops, false);
    let split = run(&ops, true);
    assert_eq!(whole, split, "segmentation changed the result");
});
