//! Evaluates the early-warning score on a generated sshd auth.log.
//!
//! ```text
//! cargo run --release -p rampart-logwatch --example early_eval -- \
//!     AUTH_LOG TRUTH_JSON [--filter-dir DIR] [--thresholds 30,45,60]
//! ```
//!
//! Runs fail2ban's `sshd` filter (normal mode) over the log, feeds every
//! failure to a `Jail` (maxretry 5, findtime 10 min, per address as the
//! truth counts) and to an `EarlyWarning`; lines that only the
//! `sshd[mode=aggressive]` filter matches are passed as scanner lines.
//! Reports, at a source's 1st, 2nd and 3rd failure, precision and recall
//! of "score >= threshold => the source will be banned", the ROC AUC of
//! the score, the lead time between the first warning and the ban, and the
//! error of the per-minute forecast. The truth file's `banned_ips` is the
//! label; the jail's own bans are checked against it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::ExitCode;

use rampart_logwatch::{
    load_and_compile, parse_host, EarlyWarning, EarlyWarningConfig, Jail, JailConfig, JailEvent,
    PosixTz, TimeContext,
};

#[derive(Default)]
struct Rec {
    failures: u32,
    /// Scores at the 1st, 2nd, 3rd failure.
    scores: Vec<f64>,
    /// First time the score reached each threshold, before the ban.
    warn: Vec<Option<f64>>,
    ban: Option<f64>,
    times: Vec<f64>,
}

fn read_file(p: &str) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// ROC AUC by the rank-sum formula (ties count half).
fn auc(mut v: Vec<(f64, bool)>) -> f64 {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v.get(j).map(|x| x.0) == v.get(i).map(|x| x.0) {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0; // 1-based average rank
        rank_sum += v.get(i..j).map_or(0, |s| s.iter().filter(|x| x.1).count()) as f64 * avg;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("early_eval: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let mut filter_dir = "../shared/corpus/logs/filter.d".to_string();
    let mut thresholds = vec![30.0, 45.0, 60.0];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--filter-dir" => filter_dir = it.next().ok_or("--filter-dir needs a value")?.clone(),
            "--thresholds" => {
                thresholds = it
                    .next()
                    .ok_or("--thresholds needs a value")?
                    .split(',')
                    .map(|s| s.trim().parse::<f64>().map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?;
            }
            _ => pos.push(a.clone()),
        }
    }
    let [log, truth] = pos.as_slice() else {
        return Err(
            "usage: early_eval AUTH_LOG TRUTH_JSON [--filter-dir DIR] [--thresholds 30,45,60]"
                .into(),
        );
    };
    let truth: serde_json::Value =
        serde_json::from_str(&read_file(truth).ok_or("cannot read truth")?)
            .map_err(|e| e.to_string())?;
    let banned_truth: HashSet<IpAddr> = truth["banned_ips"]
        .as_array()
        .ok_or("truth: no banned_ips")?
        .iter()
        .filter_map(|v| v.as_str().and_then(parse_host))
        .collect();

    // the log's last stamp is Jan 15; year-less stamps go before `now`
    let now = 1_705_363_200; // 2024-01-16T00:00:00Z
    let ctx = TimeContext {
        now,
        wall_clock: now,
        tz: PosixTz::utc(),
    };
    let conf = format!("{filter_dir}/sshd.conf");
    let mut normal =
        load_and_compile(&read_file, &conf, &[], ctx.clone()).map_err(|e| e.to_string())?;
    let mut aggressive = load_and_compile(
        &read_file,
        &conf,
        &[("mode".to_string(), "aggressive".to_string())],
        ctx,
    )
    .map_err(|e| e.to_string())?;

    let mut jail = Jail::new(JailConfig {
        ipv6_prefix: 128, // the truth counts per address
        max_tracked: 1 << 20,
        ..JailConfig::new("sshd")
    })
    .map_err(|e| e.to_string())?;
    let mut ew = EarlyWarning::new(EarlyWarningConfig {
        max_sources: 1 << 20,
        max_prefixes: 1 << 20,
        ..EarlyWarningConfig::default()
    })
    .map_err(|e| e.to_string())?;

    let mut recs: HashMap<IpAddr, Rec> = HashMap::new();
    // (source, time, forecast, failures in the last minute)
    let mut forecasts: Vec<(IpAddr, f64, f64)> = Vec::new();
    let mut scanner_lines = 0u64;
    let mut failures = 0u64;
    let started = std::time::Instant::now();
    let f = std::fs::File::open(log).map_err(|e| format!("{log}: {e}"))?;
    let mut rd = BufReader::with_capacity(1 << 20, f);
    let mut line = Vec::new();
    loop {
        line.clear();
        if rd.read_until(b'\n', &mut line).map_err(|e| e.to_string())? == 0 {
            break;
        }
        let r = normal.process_line(&line);
        let ra = aggressive.process_line(&line);
        if r.failures.is_empty() {
            for fl in &ra.failures {
                if let Some(addr) = parse_host(&fl.host) {
                    scanner_lines += 1;
                    ew.observe(fl.time, addr, "sshd", true);
                }
            }
            continue;
        }
        for fl in &r.failures {
            let Some(addr) = parse_host(&fl.host) else {
                continue;
            };
            failures += 1;
            let w = ew.observe(fl.time, addr, "sshd", false);
            let ev = jail.observe_failure(fl);
            let rec = recs.entry(addr).or_insert_with(|| Rec {
                warn: vec![None; thresholds.len()],
                ..Rec::default()
            });
            rec.failures += 1;
            rec.times.push(fl.time);
            if rec.scores.len() < 3 {
                rec.scores.push(w.score);
            }
            if rec.ban.is_none() {
                for (i, &thr) in thresholds.iter().enumerate() {
                    if let Some(slot) = rec.warn.get_mut(i) {
                        if slot.is_none() && w.score >= thr {
                            *slot = Some(fl.time);
                        }
                    }
                }
            }
            if let JailEvent::Ban(b) = ev {
                if rec.ban.is_none() {
                    rec.ban = Some(b.time);
                }
            }
            forecasts.push((addr, fl.time, w.forecast_per_min));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "log: {log}\nfailures: {failures}, scanner lines: {scanner_lines}, sources: {}, {:.1} s",
        recs.len(),
        secs
    );

    let banned_jail: HashSet<IpAddr> = recs
        .iter()
        .filter(|(_, r)| r.ban.is_some())
        .map(|(a, _)| *a)
        .collect();
    println!(
        "jail bans: {} sources; truth banned_ips: {}; in both: {}",
        banned_jail.len(),
        banned_truth.len(),
        banned_jail.intersection(&banned_truth).count()
    );
    let positives = recs.keys().filter(|a| banned_truth.contains(a)).count();
    println!(
        "base rate (banned / failing sources): {positives}/{} = {:.3}",
        recs.len(),
        positives as f64 / recs.len().max(1) as f64
    );

    println!("\nat the k-th failure: precision / recall of score >= threshold (population: sources with >= k failures)");
    for k in 1..=3usize {
        let pop: Vec<(f64, bool)> = recs
            .iter()
            .filter_map(|(a, r)| r.scores.get(k - 1).map(|&s| (s, banned_truth.contains(a))))
            .collect();
        let p_all = pop.iter().filter(|x| x.1).count();
        print!(
            "k={k}: n={} positives={} AUC={:.3}",
            pop.len(),
            p_all,
            auc(pop.clone())
        );
        for &thr in &thresholds {
            let tp = pop.iter().filter(|x| x.0 >= thr && x.1).count();
            let fp = pop.iter().filter(|x| x.0 >= thr && !x.1).count();
            let prec = tp as f64 / (tp + fp).max(1) as f64;
            let rec = tp as f64 / p_all.max(1) as f64;
            print!(" | thr {thr}: P={prec:.3} R={rec:.3} (tp {tp} fp {fp})");
        }
        println!();
    }

    println!("\nlead time: first warning (any failure before the ban) to the jail's ban");
    for (i, &thr) in thresholds.iter().enumerate() {
        let mut leads: Vec<f64> = Vec::new();
        let mut warned_false = 0;
        let mut warned_total = 0;
        for r in recs.values() {
            let w = r.warn.get(i).copied().flatten();
            if w.is_some() {
                warned_total += 1;
            }
            match (w, r.ban) {
                (Some(w), Some(b)) => leads.push(b - w),
                (Some(_), None) => warned_false += 1,
                _ => {}
            }
        }
        leads.sort_by(f64::total_cmp);
        let before = leads.iter().filter(|&&l| l > 0.0).count();
        println!(
            "thr {thr}: warned {warned_total} sources, {} later banned (precision {:.3}), {warned_false} never banned; banned sources warned strictly before the ban: {before}/{} ({:.3}); lead s: median {:.0}, p10 {:.0}, p90 {:.0}",
            leads.len(),
            leads.len() as f64 / warned_total.max(1) as f64,
            banned_jail.len(),
            before as f64 / banned_jail.len().max(1) as f64,
            pct(&leads, 0.5),
            pct(&leads, 0.1),
            pct(&leads, 0.9),
        );
    }

    // forecast: failures of the source in the next 60 s vs forecast
    let mut err_f = 0.0;
    let mut err_naive = 0.0;
    let mut err_zero = 0.0;
    for &(addr, t, fc) in &forecasts {
        let Some(r) = recs.get(&addr) else { continue };
        let after = r.times.partition_point(|&x| x <= t);
        let until = r.times.partition_point(|&x| x <= t + 60.0);
        let actual = until.saturating_sub(after) as f64;
        let from = r.times.partition_point(|&x| x <= t - 60.0);
        let last_min = after.saturating_sub(from) as f64;
        err_f += (fc - actual).abs();
        err_naive += (last_min - actual).abs();
        err_zero += actual;
    }
    let n = forecasts.len().max(1) as f64;
    println!(
        "\nforecast of the source's failures in the next minute, MAE over {} failures: EWMA forecast {:.3}, naive (last minute's count) {:.3}, zero {:.3}",
        forecasts.len(),
        err_f / n,
        err_naive / n,
        err_zero / n
    );
    let st = ew.stats();
    println!(
        "early warning: {} lines, {} sources warned at the default threshold {}, evictions {}/{}",
        st.observed,
        st.warned,
        ew.config().threshold,
        st.source_evictions,
        st.prefix_evictions
    );
    Ok(())
}
