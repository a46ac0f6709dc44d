//! Fuzzes the SMTP parser (and the MIME parser under it) of `rampart-app`.
//!
//! Input: `[flags] [ops...]`; flags & 1 keeps only 64 bytes of each file
//! and 100 of each message (exercising the caps). Each op is `[tag] [len u8] [len bytes]` fed
//! to direction tag & 1 (0 client to server, 1 server to client);
//! tag & 2 ends the connection after the op's data.
//!
//! Checks: no panic; buffers stay within their bounds (line buffers,
//! recipients, transactions, files and their kept data); the same bytes
//! fed whole or one byte at a time give the same events, transactions,
//! messages and anomalies (the parser must not depend on segmentation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::mime::MimeConfig;
use rampart_app::smtp::{
    SmtpConfig, SmtpDirection, SmtpEvent, SmtpSession, MAX_LINE_BUF, MAX_RCPT,
};
use rampart_fuzz::Input;

/// Everything observable of a session, for comparing two runs.
fn summary(s: &SmtpSession) -> String {
    let mut out = format!("helo={:?} tls={}\n", s.helo, s.tls);
    for tx in s.transactions() {
        out += &format!(
            "tx {} from={:?} rcpt={:?} done={} anomalies={:?}\n",
            tx.id, tx.mail_from, tx.rcpt_to, tx.done, tx.anomalies
        );
        if let Some(m) = &tx.message {
            out += &format!(
                "  status={:?} headers={:?} anomalies={:?}\n",
                m.status, m.headers, m.anomalies
            );
            for f in &m.files {
                out += &format!(
                    "  file {:?} size={} closed={} md5={:?} data={:?}\n",
                    f.name, f.size, f.closed, f.md5, f.data
                );
            }
        }
    }
    out
}

fn run(
    cfg: SmtpConfig,
    ops: &[(SmtpDirection, &[u8], bool)],
    bytewise: bool,
) -> (String, Vec<SmtpEvent>) {
    let mut s = SmtpSession::new(cfg);
    let mut events = Vec::new();
    for &(dir, data, end) in ops {
        if bytewise {
            for b in data.chunks(1) {
                s.feed(dir, b, &mut events);
            }
        } else {
            s.feed(dir, data, &mut events);
        }
        if end {
            s.finish(&mut events);
        }
        assert!(s.buffered() <= 2 * MAX_LINE_BUF);
        assert!(s.transactions().count() <= cfg.max_txs);
        for tx in s.transactions() {
            assert!(tx.rcpt_to.len() <= MAX_RCPT);
            if let Some(m) = &tx.message {
                assert!(m.files.len() <= cfg.mime.max_files);
                let kept: usize = m.files.iter().map(|f| f.data.len()).sum();
                assert!(kept <= cfg.mime.max_message_data);
                for f in &m.files {
                    assert!(f.data.len() <= cfg.mime.max_file_data);
                    assert!(f.data.len() as u64 <= f.size);
                    assert!(f.name.len() <= rampart_app::mime::MAX_FILE_NAME);
                }
            }
        }
    }
    (summary(&s), events)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cfg = SmtpConfig {
        max_txs: 8,
        mime: MimeConfig {
            max_file_data: if flags & 1 == 1 { 64 } else { 1 << 16 },
            max_files: 4,
            max_message_data: if flags & 1 == 1 { 100 } else { 1 << 17 },
        },
    };
    let mut ops = Vec::new();
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            SmtpDirection::ToServer
        } else {
            SmtpDirection::ToClient
        };
        let len = usize::from(input.u8());
        ops.push((dir, input.bytes(len), tag & 2 != 0));
    }
    let (a, ea) = run(cfg, &ops, false);
    let (b, eb) = run(cfg, &ops, true);
    assert_eq!(ea, eb);
    assert_eq!(a, b);
});
