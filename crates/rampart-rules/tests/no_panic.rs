//! Property tests: the parsers never panic, and positions stay inside the
//! input, whatever the text (random rule-like text and mutated real rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rampart_rules::{parse_rules, parse_threshold_config, Variables};

const SEED: &str = r#"alert http $HOME_NET any -> [!1.2.3.4,$EXTERNAL_NET] [80,1024:] (msg:"a\;b"; flow:established,to_server; http.uri; to_lowercase; content:"|2f|x"; depth:5; fast_pattern; pcre:"/x/Ri"; byte_extract:1,0,v,relative; byte_test:1,>,v,0,relative; isdataat:!v,relative; flowbits:isset,a|b; threshold:type limit, track by_src, count 1, seconds 5; sid:1; rev:2;)"#;

fn check(src: &str) {
    let set = parse_rules(src, "p", &Variables::default());
    for e in &set.errors {
        assert!(
            e.span.end <= src.len() && e.span.text(src).is_some(),
            "{e:?}"
        );
    }
    for r in &set.rules {
        assert!(r.span.text(src).is_some());
        for m in &r.matches {
            assert!(m.span.text(src).is_some());
        }
    }
    let _ = parse_threshold_config(src, "t", &Variables::default());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rule_like_text(s in r#"(alert|drop|#| |\\\n|\n)?[a-z0-9 :;,!|"\[\]$().\\/<>_-]{0,120}"#) {
        check(&s);
    }

    #[test]
    fn mutated_rule(cut in 0usize..SEED.len(), len in 0usize..40, insert in r#"[;:"|\\!\[\]()\n ]{0,3}"#) {
        let mut s = String::new();
        let a = SEED.get(..cut).unwrap_or(SEED);
        let b = SEED.get((cut + len).min(SEED.len())..).unwrap_or("");
        s.push_str(a);
        s.push_str(&insert);
        s.push_str(b);
        check(&s);
    }
}

#[test]
fn seed_parses() {
    let set = parse_rules(SEED, "seed", &Variables::default());
    assert!(set.errors.is_empty(), "{:?}", set.errors);
}
