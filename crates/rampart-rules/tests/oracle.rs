//! Differential test against Suricata 7.0.10: `tests/data/suricata-oracle.rules`
//! holds edge cases; the expected rejections below are the lines
//! `suricata -T -S suricata-oracle.rules` refused (the independent oracle).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use rampart_rules::{parse_rules, Variables};

/// Lines Suricata 7.0.10 rejects.
const SURICATA_REJECTS: &[u32] = &[
    4, 6, 8, 9, 14, 15, 16, 17, 18, 20, 21, 22, 23, 25, 28, 29, 34, 35, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 48, 49, 50, 51, 52, 53, 54, 55, 57, 58, 59, 60, 61, 62, 64, 66, 67, 71, 72, 73, 75, 77,
    78, 79, 80, 83, 84, 90, 92, 96, 97, 99, 100, 101, 102, 103, 105, 112, 113, 114, 116, 117, 118,
    120, 122, 124, 128, 129, 130, 131, 132, 137, 138, 139, 142, 153, 154, 155, 156, 163, 164, 167,
    169, 171, 173, 175, 176, 179, 181, 182, 183, 185,
];

/// Deliberate differences, with the reason.
const KNOWN_DIFFERENCES: &[(u32, &str)] = &[(
    77,
    "Suricata's flowint regex needs names of two or more characters; `flowint:a,+,1` is refused there for that quirk only",
)];

#[test]
fn agrees_with_suricata() {
    let src = include_str!("data/suricata-oracle.rules");
    let set = parse_rules(src, "suricata-oracle.rules", &Variables::default());
    let mine: BTreeSet<u32> = set.errors.iter().map(|e| e.line).collect();
    let skip: BTreeSet<u32> = KNOWN_DIFFERENCES.iter().map(|(l, _)| *l).collect();
    let theirs: BTreeSet<u32> = SURICATA_REJECTS
        .iter()
        .copied()
        .filter(|l| !skip.contains(l))
        .collect();
    let only_mine: Vec<_> = mine.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&mine).collect();
    for e in &set.errors {
        println!("{e}");
    }
    assert!(
        only_mine.is_empty() && only_theirs.is_empty(),
        "rejected only by rampart: {only_mine:?}; only by Suricata: {only_theirs:?}"
    );
    // Every line is a rule (besides the 3 comment lines): loaded + rejected.
    assert_eq!(set.rules.len() + set.errors.len(), 182);
}
