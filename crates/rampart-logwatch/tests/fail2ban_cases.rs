//! Replays a committed subset of fail2ban's annotated sample cases (see
//! tests/fixtures/README.md) through the matcher, with the checks of the
//! corpus runner `run_cases.py`: a must-match line yields exactly one
//! failure with the expected host, time and fields; a must-not-match line
//! yields none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use rampart_logwatch::{load_and_compile, Filter, PosixTz, TimeContext};
use serde_json::Value;

fn read(p: &str) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn same_host(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[test]
fn fail2ban_sample_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    let mut runs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l).unwrap();
        runs.entry(v["run_id"].as_str().unwrap().to_string())
            .or_default()
            .push(v);
    }
    let (mut pass, mut fail) = (0, Vec::new());
    for cases in runs.values_mut() {
        cases.sort_by_key(|c| c["seq"].as_u64().unwrap());
        let c0 = &cases[0];
        let conf = dir.join(c0["filter_conf"].as_str().unwrap());
        let opts: Vec<(String, String)> = c0["filter_opts"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
            .collect();
        let now = c0["test_now"].as_i64().unwrap();
        let ctx = TimeContext {
            now,
            // the reference results were recorded in 2026: `%ExY` accepts
            // years up to three past the wall clock
            wall_clock: 1_780_000_000,
            tz: PosixTz::parse(c0["tz"].as_str().unwrap()).unwrap(),
        };
        let mut filter: Filter =
            load_and_compile(&read, conf.to_str().unwrap(), &opts, ctx).expect("filter loads");
        let journal = c0["logtype"].as_str() == Some("journal");
        for c in cases.iter() {
            let line = c["line"].as_str().unwrap();
            let r = if journal {
                filter.process_journal_line(line.as_bytes(), now as f64)
            } else {
                filter.process_line(line.as_bytes())
            };
            let why = check(c, &r.failures);
            match why {
                None => pass += 1,
                Some(w) => fail.push(format!("{} {}: {w}", c["run_id"], c["source_lineno"])),
            }
        }
    }
    assert!(
        fail.is_empty(),
        "{pass} passed, failures:\n{}",
        fail.join("\n")
    );
    assert_eq!(pass, 298);
}

fn check(c: &Value, fails: &[rampart_logwatch::Failure]) -> Option<String> {
    if !c["expect_match"].as_bool().unwrap() {
        return (!fails.is_empty()).then(|| format!("matched but should not: {fails:?}"));
    }
    let [f] = fails else {
        return Some(format!("expected one failure, got {}", fails.len()));
    };
    if let Some(h) = c["expect_host"].as_str() {
        if !same_host(&f.host, h) {
            return Some(format!("host {} != {h}", f.host));
        }
    }
    if let Some(t) = c["expect_epoch"].as_f64() {
        if (f.time - t).abs() > 1e-3 {
            return Some(format!("time {} != {t}", f.time));
        }
    }
    for (k, v) in c["expect_fields"].as_object().unwrap() {
        let ok = match k.as_str() {
            "attempts" => v.as_u64() == Some(f.attempts as u64),
            "users" => {
                let mut want: Vec<String> = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                want.sort();
                let got: Vec<String> = f.data.users.iter().flatten().cloned().collect();
                got == want
            }
            _ => match v {
                Value::Null => f.data.get(k).is_none(),
                Value::String(s) => f.data.get(k).as_deref() == Some(s.as_str()),
                _ => false,
            },
        };
        if !ok {
            return Some(format!("field {k}: want {v}, got {:?}", f.data.get(k)));
        }
    }
    None
}
