//! Fuzzes the FTP control connection parser of `rampart-app`.
//!
//! Input: `[line limit u8] [ops...]`; each op is `[tag] [len u8] [len
//! bytes]` fed to direction tag & 1 (0 client to server, 1 server to
//! client); tag & 2 removes the answered transactions before the op, as
//! the engine does once they were inspected.
//!
//! Checks: no panic; kept lines within the line limit, reply lines per
//! transaction and transactions held within their caps; every event names
//! a held transaction; a transaction's response is reported once; data
//! ports are never 0. (Segmentation matters here on purpose: Suricata
//! drops the rest of an input after a cut line.)
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use rampart_app::ftp::{FtpConfig, FtpDirection, FtpEvent, FtpSession, MAX_REPLY_LINES};
use rampart_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let max_line_len = 8 + usize::from(input.u8());
    let cfg = FtpConfig {
        max_line_len,
        max_txs: 16,
    };
    let mut s = FtpSession::new(cfg);
    let mut responded = HashSet::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            FtpDirection::ToServer
        } else {
            FtpDirection::ToClient
        };
        if tag & 2 != 0 {
            s.remove_finished(|_| false);
        }
        let len = usize::from(input.u8());
        let mut events = Vec::new();
        s.feed(dir, input.bytes(len), &mut events);
        for e in &events {
            let id = match *e {
                FtpEvent::Request(id) => id,
                FtpEvent::Response(id) => {
                    assert!(responded.insert(id), "response {id} twice");
                    id
                }
            };
            assert!(s.transaction(id).is_some(), "event for a missing tx {id}");
        }
        assert!(s.transactions().count() <= cfg.max_txs + 1);
        for t in s.transactions() {
            assert!(t.request.len() <= max_line_len);
            assert!(t.replies.len() <= MAX_REPLY_LINES);
            assert!(t.replies.iter().all(|r| r.line.len() <= max_line_len));
            assert_ne!(t.dyn_port, Some(0));
            let _ = t.command_data();
            let _ = t.reply_parts().count();
            let _ = t.is_bounce(0x0a00_0001);
        }
        for x in s.take_expectations() {
            assert_ne!(x.port, 0);
        }
    }
    let mut events = Vec::new();
    s.finish(&mut events);
});
