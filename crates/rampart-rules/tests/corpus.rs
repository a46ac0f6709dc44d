//! Load-rate tests on the shared rule corpora (skipped when absent).
//!
//! Run with `cargo test --release -p rampart-rules --test corpus -- --nocapture`
//! to see the timing and the rejection report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rampart_rules::{parse_rules, RuleError, RuleSet, Variables};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("rules").is_dir().then_some(dir)
}

fn read(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Prints rejections grouped by category and keyword, with one example each.
fn report(name: &str, set: &RuleSet) {
    let total = set.rules.len() + set.errors.len();
    println!(
        "{name}: {} loaded, {} rejected of {total} ({} disabled skipped)",
        set.rules.len(),
        set.errors.len(),
        set.disabled
    );
    let mut groups: BTreeMap<(String, String), Vec<&RuleError>> = BTreeMap::new();
    for e in &set.errors {
        let key = (
            e.kind.to_string(),
            e.keyword.clone().unwrap_or_else(|| "-".into()),
        );
        groups.entry(key).or_default().push(e);
    }
    let mut sorted: Vec<_> = groups.into_iter().collect();
    sorted.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
    for ((kind, kw), errs) in sorted {
        let first = errs.first().map(|e| e.to_string()).unwrap_or_default();
        println!("  {:>5}  {kind:<20} {kw:<24} e.g. {first}", errs.len());
    }
}

#[test]
fn et_open_loads() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus/rules not found");
        return;
    };
    let Some(src) = read(&dir.join("rules/et-open-enabled.rules")) else {
        println!("skipped: et-open-enabled.rules not readable");
        return;
    };
    let vars = Variables::default();
    let start = Instant::now();
    let set = parse_rules(&src, "et-open-enabled.rules", &vars);
    let elapsed = start.elapsed();
    report("ET Open", &set);
    println!("ET Open parse time: {elapsed:?}");
    let total = set.rules.len() + set.errors.len();
    assert_eq!(
        total, 25_803,
        "every enabled rule is either loaded or rejected"
    );
    let rate = set.rules.len() as f64 / total as f64;
    assert!(rate >= 0.99, "ET Open load rate {rate:.4} is below 99%");
    // Suricata 7.0.10 warns about 4 flowbits checked but never set.
    let unset = set.flowbits_checked_but_never_set();
    println!(
        "flowbits checked but never set: {:?}",
        unset.keys().collect::<Vec<_>>()
    );
    assert_eq!(unset.len(), 4);
}

#[test]
fn snort_community_no_panic() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus/rules not found");
        return;
    };
    let vars = Variables::default();
    // Suricata 7.0.10's verdicts (../shared/corpus/rules/README.md): the
    // same rules are refused here, for the same reasons (9 undefined
    // $SIP_SERVERS, 7 http_header with a sticky buffer set, 7
    // fast_pattern:only next to relative content, 1 packet/app-layer mix).
    for (name, loaded, rejected) in [
        (
            "snort-community/community-dedup-all-uncommented.rules",
            3928,
            24,
        ),
        ("snort-community/community-dedup.rules", 493, 1),
    ] {
        let Some(src) = read(&dir.join("rules").join(name)) else {
            println!("skipped: {name} not readable");
            continue;
        };
        let set = parse_rules(&src, name, &vars);
        report(name, &set);
        assert_eq!(
            (set.rules.len(), set.errors.len()),
            (loaded, rejected),
            "{name}"
        );
    }
}

#[test]
fn small_sets_load_fully() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus/rules not found");
        return;
    };
    let vars = Variables::default();
    for (name, n) in [("small-100.rules", 100), ("et-hits.rules", 162)] {
        let Some(src) = read(&dir.join("rules").join(name)) else {
            continue;
        };
        let set = parse_rules(&src, name, &vars);
        report(name, &set);
        assert_eq!(set.rules.len(), n, "{name}: {:?}", set.errors.first());
    }
}

#[test]
fn corpus_config_files() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus/rules not found");
        return;
    };
    if let Some(src) = read(&dir.join("rules/classification.config")) {
        let (c, errs) = rampart_rules::parse_classification_config(&src, "classification.config");
        assert!(errs.is_empty(), "{errs:?}");
        assert!(c.len() > 30);
        assert_eq!(c.get("trojan-activity").map(|c| c.priority), Some(1));
    }
    if let Some(src) = read(&dir.join("rules/reference.config")) {
        let (r, errs) = rampart_rules::parse_reference_config(&src, "reference.config");
        assert!(errs.is_empty(), "{errs:?}");
        assert!(r.prefix("cve").is_some());
    }
}

fn collect_rules_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_rules_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rules") {
            out.push(p);
        }
    }
}

#[test]
fn suricata_verify_report() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let tests = dir.join("suricata-verify/tests");
    if !tests.is_dir() {
        println!("skipped: suricata-verify/tests not found");
        return;
    }
    let mut files = Vec::new();
    collect_rules_files(&tests, &mut files);
    files.sort();
    let vars = Variables::default();
    let mut all = RuleSet::default();
    for f in &files {
        let Some(src) = read(f) else { continue };
        let name = f.strip_prefix(&tests).unwrap_or(f).display().to_string();
        let set = parse_rules(&src, &name, &vars);
        // Keep per-file sids apart: suricata-verify reuses sid 1 everywhere.
        all.rules.extend(set.rules);
        all.errors.extend(set.errors);
        all.disabled += set.disabled;
    }
    println!("suricata-verify: {} files", files.len());
    report("suricata-verify", &all);
}
