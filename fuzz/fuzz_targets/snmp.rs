//! Fuzzes the SNMP parser of `rampart-app` (over `snmp-parser`).
//!
//! Input: datagrams until the input ends: `[tag] [len u16 LE] [len
//! bytes]`; tag & 1 is the direction (0 to the agent).
//!
//! Checks: no panic; at most `MAX_TRANSACTIONS` transactions and
//! `MAX_VARS` variable names per PDU; a datagram that makes a transaction
//! is held under the id returned; the probe accepts every datagram whose
//! envelope announces a version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::snmp::{self, SnmpDirection, SnmpState, MAX_TRANSACTIONS, MAX_VARS};
use rampart_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut st = SnmpState::new();
    let mut n = 0;
    while !input.is_empty() && n < 64 {
        n += 1;
        let tag = input.u8();
        let len = usize::from(input.u16());
        let dir = if tag & 1 == 0 {
            SnmpDirection::ToServer
        } else {
            SnmpDirection::ToClient
        };
        let msg = input.bytes(len);
        if let Some(v) = snmp::envelope_version(msg) {
            assert!((1..=3).contains(&v));
            assert!(msg.len() < 4 || snmp::probe(msg));
        }
        if let Some(id) = st.parse(dir, msg) {
            let tx = st.transaction(id).expect("new transaction held");
            assert!(tx.version <= 3);
            if let Some(pdu) = &tx.pdu {
                assert!(pdu.vars.len() <= MAX_VARS);
                let _ = snmp::pdu_type_name(pdu.pdu_type);
            }
        }
        assert!(st.len() <= MAX_TRANSACTIONS);
    }
});
