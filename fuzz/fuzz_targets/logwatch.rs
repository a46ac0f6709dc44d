//! Fuzzes the fail2ban filter loader and the line matcher.
//!
//! Input: `FILTER.conf text` + `\n===\n` + log lines. Without the
//! separator the whole input is log lines for a fixed sshd-like filter.
//! The filter may include `common.conf` (fail2ban's, served from the
//! test fixtures). Checks: no panic; failures carry a host; the pure
//! helpers (tag resolution, Python->PCRE2 translation, TZ parsing) accept
//! any text.
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;
use rampart_logwatch::{load_and_compile, pyre, PosixTz, TimeContext};

const COMMON: &str =
    include_str!("../../crates/rampart-logwatch/tests/fixtures/filter.d/common.conf");

const DEFAULT_FILTER: &str = "[INCLUDES]\nbefore = common.conf\n[Definition]\n_daemon = sshd\nfailregex = ^%(__prefix_line)sFailed \\S+ for <F-USER>\\S+</F-USER> from <HOST>\n            ^%(__prefix_line)s<F-NOFAIL>Connection from</F-NOFAIL> <HOST>\nmaxlines = 2\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (conf, log) = match text.find("\n===\n") {
        Some(p) => (&text[..p], &text[p + 5..]),
        None => (DEFAULT_FILTER, &text[..]),
    };
    black_box(pyre::python_to_pcre(conf));
    black_box(pyre::resolve_tags(conf, true));
    black_box(PosixTz::parse(conf));
    let src = |p: &str| match p {
        "fuzz/filter.conf" => Some(conf.to_string()),
        "fuzz/common.conf" => Some(COMMON.to_string()),
        _ => None,
    };
    let ctx = TimeContext {
        now: 1_124_013_600,
        wall_clock: 1_780_000_000,
        tz: PosixTz::parse("CET-01CEST-02,M3.5.0,M10.5.0").unwrap_or_else(PosixTz::utc),
    };
    let Ok(mut filter) = load_and_compile(&src, "fuzz/filter.conf", &[], ctx) else {
        return;
    };
    for (i, line) in log.lines().enumerate() {
        let r = if i % 5 == 4 {
            filter.process_journal_line(line.as_bytes(), 1_124_013_600.0)
        } else {
            filter.process_line(line.as_bytes())
        };
        for f in &r.failures {
            assert!(!f.host.is_empty() || f.data.has("fid"));
        }
    }
});
