//! Fuzzes the DNS parser of `rampart-app`: one message, and a flow of
//! datagrams and DNS-over-TCP stream chunks.
//!
//! Input: `[flags] [ops...]`; flags & 1 selects tiny limits (8 records, 2
//! transactions). Each op is `[tag] [len u8] [len bytes]`: tag & 1 is the
//! direction, tag & 2 says TCP stream data (else a datagram).
//!
//! Checks: no panic; names at most 255 bytes; at most `max_records`
//! records per message and `max_transactions` transactions per flow; the
//! same TCP bytes fed whole or one byte at a time give the same events
//! and transactions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::dns::{
    parse_message, probe, DnsConfig, DnsDirection, DnsEvent, DnsFlowState, DnsMessage,
    MAX_NAME_LEN,
};
use rampart_fuzz::Input;

fn check_msg(cfg: &DnsConfig, m: &DnsMessage) {
    let records = m.queries.len() + m.answers.len() + m.authorities.len() + m.additionals.len();
    assert!(records <= cfg.max_records);
    for q in &m.queries {
        assert!(q.name.len() <= MAX_NAME_LEN);
    }
    for r in m.answers.iter().chain(&m.authorities).chain(&m.additionals) {
        assert!(r.name.len() <= MAX_NAME_LEN);
    }
}

fn run(cfg: &DnsConfig, ops: &[(DnsDirection, bool, &[u8])], bytewise: bool) -> Vec<DnsEvent> {
    let mut st = DnsFlowState::new(cfg.clone());
    let mut events = Vec::new();
    for &(dir, tcp, data) in ops {
        if tcp && bytewise {
            for b in data.chunks(1) {
                st.feed_tcp(dir, b, &mut events);
            }
        } else if tcp {
            st.feed_tcp(dir, data, &mut events);
        } else {
            st.parse(dir, data, &mut events);
        }
        for e in &events {
            if let DnsEvent::Request(id) | DnsEvent::Response(id) = e {
                if let Some(tx) = st.transaction(*id) {
                    for m in tx.request.iter().chain(&tx.response) {
                        check_msg(cfg, m);
                    }
                }
            }
        }
        st.remove_completed();
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = if flags & 1 == 1 {
        DnsConfig {
            max_records: 8,
            max_transactions: 2,
            // Also exercise the message frames (`frame:dns.pdu`).
            frames: true,
        }
    } else {
        DnsConfig::default()
    };
    // The whole input as one message too.
    if let Ok(m) = parse_message(data, &cfg) {
        check_msg(&cfg, &m);
    }
    let _ = probe(data);
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 { DnsDirection::ToServer } else { DnsDirection::ToClient };
        let len = usize::from(input.u8());
        ops.push((dir, tag & 2 != 0, input.bytes(len)));
    }
    let whole = run(&cfg, &ops, false);
    let bytewise = run(&cfg, &ops, true);
    assert_eq!(whole, bytewise);
});
