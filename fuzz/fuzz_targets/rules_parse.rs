//! Fuzzes the rule parser: arbitrary text → `parse_rules`, `parse_rule`
//! and the three config-file parsers.
//!
//! Input: any bytes, read as UTF-8 (lossily, so every input reaches the
//! parser). Checks: no panic; every span (rules, matches, header fields,
//! errors) lies inside the text and on a char boundary; each rejected rule
//! has exactly one error.
#![no_main]

use std::hint::black_box;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_rules::{
    parse_classification_config, parse_reference_config, parse_rule, parse_rules,
    parse_threshold_config, Span, Variables,
};

/// Suricata's default variables, built once (not per input).
fn vars() -> &'static Variables {
    static VARS: OnceLock<Variables> = OnceLock::new();
    VARS.get_or_init(Variables::default)
}

fn check_span(span: &Span, src: &str) {
    assert!(span.start <= span.end && span.end <= src.len(), "{span:?}");
    assert!(
        span.text(src).is_some(),
        "span not on char boundaries: {span:?}"
    );
    assert!(span.line >= 1 && span.column >= 1);
}

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let vars = vars();
    let set = parse_rules(&src, "fuzz.rules", vars);
    for r in &set.rules {
        check_span(&r.span, &src);
        check_span(&r.src.span, &src);
        check_span(&r.dst_ports.span, &src);
        for m in &r.matches {
            check_span(&m.span, &src);
            black_box(m.buffer());
        }
        black_box(r.buffers());
    }
    for e in &set.errors {
        check_span(&e.span, &src);
        black_box(e.to_string());
    }
    black_box(set.error_counts());
    black_box(parse_rule(&src, vars).is_ok());
    black_box(parse_classification_config(&src, "c").1.len());
    black_box(parse_reference_config(&src, "r").1.len());
    black_box(parse_threshold_config(&src, "t", vars).1.len());
});
