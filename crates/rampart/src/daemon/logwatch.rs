//! Jails in the daemon: log files tailed (rotation, truncation, saved
//! positions) or the systemd journal followed, lines matched by fail2ban
//! filters, failures counted per source by the jail core, bans carried out
//! by the same ban service as alert bans (same store, sets, allowlist).
//! A recidive jail watches the other jails' bans, and an aggregator turns
//! many offenders of one range into one range ban, under a budget.
//!
//! One thread polls every source every few milliseconds: a line appended
//! to a watched log reaches the kernel's ban set within one poll interval
//! plus one netlink batch.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rampart_logwatch::jail::{Aggregator, AggregatorConfig, Jail, JailBan, JailConfig, JailEvent};
use rampart_logwatch::{load_filter, parse_filter_spec, Filter, PosixTz, TimeContext};
use rampart_policy::banlist::BanTarget;
use rampart_policy::Cidr;
use rampart_sys::tail::{FileTail, Position, StartAt};
use serde::Serialize;
use serde_json::{json, Value};

use super::bans::{unix_now, BanService};
use super::config::{EarlySpec, JailSource, JailSpec, LogsConfig, ScenarioKind, ScenarioSpec};
use super::eve_out::EveSender;
use rampart_logwatch::{
    DistinctCounter, DistinctCounterConfig, DistributedBruteForce, DistributedBruteForceConfig,
    EarlyWarning, EarlyWarningConfig, LeakyBucket, LeakyBucketConfig, Scenario, ScenarioEvent,
    SlowBruteForce, SlowBruteForceConfig,
};

/// Counters of one jail, for the status API.
#[derive(Debug, Default, Serialize)]
pub struct JailCounters {
    /// Lines read.
    pub lines: AtomicU64,
    /// Failures matched.
    pub failures: AtomicU64,
    /// Bans decided.
    pub bans: AtomicU64,
}

/// One running jail.
struct RunningJail {
    name: String,
    filter: Filter,
    jail: Jail,
    tails: Vec<FileTail>,
    journal: Option<Journal>,
    counters: Arc<JailCounters>,
    /// The jail computes escalated durations itself (`bantime.increment`),
    /// so the ban book must not escalate them again.
    own_increment: bool,
}

/// `journalctl -o json -f` with fixed arguments, read by a thread.
struct Journal {
    child: Child,
    rx: Receiver<(Vec<u8>, f64)>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Validates a `journalmatch` token (`FIELD=value` or `+`): journalctl gets
/// them as separate arguments, never through a shell, but a token starting
/// with `-` would still be read as an option.
fn journal_token_ok(t: &str) -> bool {
    t == "+"
        || t.split_once('=').is_some_and(|(k, v)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !v.starts_with('-')
                && !v.chars().any(|c| c.is_control())
        })
}

fn start_journal(matches: &[String]) -> Result<Journal> {
    for m in matches {
        if !journal_token_ok(m) {
            bail!("invalid journalmatch token {m:?}");
        }
    }
    let mut child = Command::new("journalctl")
        .args(["-o", "json", "-f", "-n", "0", "--no-pager", "-q"])
        .args(matches)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running journalctl (is systemd's journal available?)")?;
    let Some(out) = child.stdout.take() else {
        bail!("journalctl gave no output pipe");
    };
    let (tx, rx) = sync_channel(65_536);
    std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if buf.len() > 1 << 20 {
                    continue;
                }
                let Some(entry) = journal_line(&buf) else {
                    continue;
                };
                if let Err(TrySendError::Disconnected(_)) = tx.try_send(entry) {
                    return;
                }
            }
        })
        .context("starting the journal reader")?;
    Ok(Journal { child, rx })
}

/// A journal JSON entry as fail2ban's systemd backend formats it for the
/// filters (`HOST IDENT[PID]: MESSAGE`), with its time.
pub fn journal_line(json_line: &[u8]) -> Option<(Vec<u8>, f64)> {
    let v: Value = serde_json::from_slice(json_line).ok()?;
    let field = |k: &str| -> Option<Vec<u8>> {
        match v.get(k)? {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            // Non-UTF-8 messages come as arrays of byte values.
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect(),
            ),
            _ => None,
        }
    };
    let msg = field("MESSAGE")?;
    let time = v
        .get("__REALTIME_TIMESTAMP")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<f64>().ok())
        .map(|us| us / 1e6)?;
    let mut line = Vec::with_capacity(msg.len() + 64);
    if let Some(h) = field("_HOSTNAME") {
        line.extend_from_slice(&h);
        line.push(b' ');
    }
    if let Some(id) = field("SYSLOG_IDENTIFIER").or_else(|| field("_COMM")) {
        line.extend_from_slice(&id);
        if let Some(pid) = field("SYSLOG_PID").or_else(|| field("_PID")) {
            line.push(b'[');
            line.extend_from_slice(&pid);
            line.push(b']');
        }
        line.extend_from_slice(b": ");
    }
    line.extend_from_slice(&msg);
    Some((line, time))
}

/// Saves where every tailed file was read up to (merged into what is
/// saved, so other jails' files keep their entries).
fn save_all_positions(pos_path: &Path, jails: &[RunningJail]) {
    let mut pos = load_positions(pos_path);
    for j in jails {
        for t in &j.tails {
            if let Some(p) = t.position() {
                pos.insert(t.path().to_string_lossy().into_owned(), p);
            }
        }
    }
    save_positions(pos_path, &pos);
}

/// Saved read positions, by path (`STATE_DIR/logpos.json`).
fn load_positions(path: &Path) -> BTreeMap<String, Position> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_positions(path: &Path, pos: &BTreeMap<String, Position>) {
    let tmp = path.with_extension("json.tmp");
    let ok = serde_json::to_vec(pos)
        .ok()
        .and_then(|b| std::fs::write(&tmp, b).ok())
        .and_then(|()| std::fs::rename(&tmp, path).ok());
    if ok.is_none() {
        tracing::warn!("cannot save log positions to {}", path.display());
    }
}

fn read_text(p: &str) -> Option<String> {
    let bytes = std::fs::read(p).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Loads a jail's filter: a path, or a name in the filter directory, with
/// fail2ban's init options (`sshd[mode=aggressive]`).
fn load_jail_filter(spec: &str, dir: &Path) -> Result<(Filter, Option<String>)> {
    let (name, opts) = parse_filter_spec(spec);
    let path = if Path::new(&name).is_file() {
        PathBuf::from(&name)
    } else if name.ends_with(".conf") {
        dir.join(&name)
    } else {
        dir.join(format!("{name}.conf"))
    };
    let p = path.to_string_lossy().into_owned();
    let def =
        load_filter(&read_text, &p, &opts).with_context(|| format!("filter {spec:?} ({p})"))?;
    let now = unix_now() as i64;
    let tz = PosixTz::parse(&std::env::var("TZ").unwrap_or_default()).unwrap_or_else(PosixTz::utc);
    let ctx = TimeContext {
        now,
        wall_clock: now,
        tz,
    };
    let filter = Filter::new(&def, ctx).with_context(|| format!("compiling filter {spec:?}"))?;
    Ok((filter, def.journalmatch.clone()))
}

/// Loads every jail's filter (what `config check` and a reload verify
/// before anything changes).
pub fn check_filters(cfg: &LogsConfig) -> Result<()> {
    for spec in &cfg.jails {
        load_jail_filter(&spec.filter, &cfg.filter_dir)
            .with_context(|| format!("jails.{}", spec.name))?;
    }
    Ok(())
}

/// Builds every configured jail (filters compiled, sources opened), so
/// that configuration errors stop the daemon at start or fail a reload.
fn build_jails(
    cfg: &LogsConfig,
    positions: &BTreeMap<String, Position>,
) -> Result<Vec<RunningJail>> {
    let mut out = Vec::new();
    for spec in &cfg.jails {
        out.push(build_jail(spec, cfg, positions).with_context(|| format!("jails.{}", spec.name))?);
    }
    Ok(out)
}

fn build_jail(
    spec: &JailSpec,
    cfg: &LogsConfig,
    positions: &BTreeMap<String, Position>,
) -> Result<RunningJail> {
    let (filter, journalmatch) = load_jail_filter(&spec.filter, &cfg.filter_dir)?;
    let opts: Vec<(&str, &str)> = spec
        .options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let jcfg = JailConfig::from_options(&spec.name, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let own_increment = jcfg.increment.is_some();
    let jail = Jail::new(jcfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let files: Vec<&PathBuf> = spec.logpath.iter().collect();
    let use_journal = match spec.source {
        JailSource::File => false,
        JailSource::Journal => true,
        // Debian 12 has no /var/log/auth.log without rsyslog: follow the
        // journal when none of the files exists.
        JailSource::Auto => !files.iter().any(|p| p.exists()),
    };
    let (tails, journal) = if use_journal {
        let m: Vec<String> = journalmatch
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        tracing::info!(
            "jail {}: following the systemd journal ({})",
            spec.name,
            m.join(" ")
        );
        (Vec::new(), Some(start_journal(&m)?))
    } else {
        let t = files
            .iter()
            .map(|p| {
                let saved = positions.get(&p.to_string_lossy().into_owned()).copied();
                FileTail::new(p, saved, StartAt::End)
            })
            .collect();
        (t, None)
    };
    Ok(RunningJail {
        name: spec.name.clone(),
        filter,
        jail,
        tails,
        journal,
        counters: Arc::new(JailCounters::default()),
        own_increment,
    })
}

/// A failure as the scenarios and the early warning see it.
struct Seen {
    jail: String,
    addr: std::net::IpAddr,
    time: f64,
    user: Option<String>,
}

/// A built scenario and what it does when it fires.
struct RunningScenario {
    scenario: Box<dyn Scenario + Send>,
    jail: Option<String>,
    ban: Option<u64>,
}

fn build_scenario(s: &ScenarioSpec) -> Result<RunningScenario> {
    let e = |e: rampart_logwatch::ScenarioConfigError| {
        anyhow::anyhow!("logs.scenarios {}: {e}", s.name)
    };
    let scenario: Box<dyn Scenario + Send> = match s.kind {
        ScenarioKind::LeakyBucket => {
            let mut c = LeakyBucketConfig::new(&s.name);
            if let Some(v) = s.capacity {
                c.capacity = v;
            }
            if let Some(v) = s.leak {
                c.leak_speed = v as f64;
            }
            if let Some(v) = s.blackhole {
                c.blackhole = v;
            }
            Box::new(LeakyBucket::new(c).map_err(e)?)
        }
        ScenarioKind::DistinctUsers => {
            let mut c = DistinctCounterConfig::new(&s.name);
            if let Some(v) = s.threshold {
                c.threshold = v as usize;
            }
            if let Some(v) = s.window {
                c.window = v;
            }
            if let Some(v) = s.blackhole {
                c.blackhole = v;
            }
            Box::new(DistinctCounter::new(c).map_err(e)?)
        }
        ScenarioKind::SlowBruteForce => {
            let mut c = SlowBruteForceConfig::new(&s.name);
            if let Some(v) = s.threshold {
                c.threshold = v;
            }
            if let Some(v) = s.window {
                c.window = v;
            }
            if let Some(v) = s.min_span {
                c.min_span = v;
            }
            if let Some(v) = s.blackhole {
                c.blackhole = v;
            }
            Box::new(SlowBruteForce::new(c).map_err(e)?)
        }
        ScenarioKind::DistributedBruteForce => {
            let mut c = DistributedBruteForceConfig::new(&s.name);
            if let Some(v) = s.threshold {
                c.threshold = v as usize;
            }
            if let Some(v) = s.window {
                c.window = v;
            }
            if let Some(v) = s.blackhole {
                c.blackhole = v;
            }
            Box::new(DistributedBruteForce::new(c).map_err(e)?)
        }
    };
    Ok(RunningScenario {
        scenario,
        jail: s.jail.clone(),
        ban: s.ban,
    })
}

fn build_early(e: &EarlySpec) -> Result<EarlyWarning> {
    let cfg = EarlyWarningConfig {
        maxretry: e.maxretry,
        findtime: e.findtime,
        threshold: e.threshold,
        ..EarlyWarningConfig::default()
    };
    EarlyWarning::new(cfg).map_err(|e| anyhow::anyhow!("logs.early_warning: {e}"))
}

fn eve_time(t: f64) -> String {
    rampart_packet::Timestamp::from_nanos((t.max(0.0) * 1e9) as u64).to_eve_string()
}

fn on_scenario(bans: &BanService, eve: &EveSender, ev: &ScenarioEvent, ban: Option<u64>) {
    eve.send(&json!({
        "timestamp": eve_time(ev.time),
        "event_type": "scenario",
        "src_ip": ev.source.map(|a| a.to_string()),
        "scenario": {"name": ev.scenario, "count": ev.count, "user": ev.user,
                     "users": ev.users, "sources": ev.sources.iter().map(|a| a.to_string()).collect::<Vec<_>>()},
    }));
    let Some(d) = ban else { return };
    let targets: Vec<std::net::IpAddr> = match ev.source {
        Some(a) => vec![a],
        None => ev.sources.clone(),
    };
    let reason = format!("scenario {} ({} events)", ev.scenario, ev.count);
    for a in targets {
        if let Err(e) = bans.ban(
            BanTarget::Addr(a),
            Some(d),
            &reason,
            &format!("scenario:{}", ev.scenario),
        ) {
            tracing::info!("scenario {}: ban of {a} not made: {e:?}", ev.scenario);
        }
    }
}

/// The log watcher: its thread and the counters the status API reads.
pub struct LogWatch {
    /// Counters per jail.
    pub counters: Vec<(String, Arc<JailCounters>)>,
    /// The configuration it runs (a reload restarts it when this changes).
    pub config: LogsConfig,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LogWatch {
    /// Stops the thread (it saves the read positions on its way out) and
    /// waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Counters as JSON.
    pub fn status_json(&self) -> Value {
        Value::Array(
            self.counters
                .iter()
                .map(|(n, c)| {
                    json!({"jail": n, "lines": c.lines.load(Ordering::Relaxed),
                           "failures": c.failures.load(Ordering::Relaxed),
                           "bans": c.bans.load(Ordering::Relaxed)})
                })
                .collect(),
        )
    }
}

/// Starts the log-watching thread.
pub fn start(
    cfg: &LogsConfig,
    state_dir: &Path,
    bans: Arc<BanService>,
    eve: EveSender,
) -> Result<LogWatch> {
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let pos_path = state_dir.join("logpos.json");
    let positions = load_positions(&pos_path);
    let mut jails = build_jails(cfg, &positions)?;
    let counters = jails
        .iter()
        .map(|j| (j.name.clone(), j.counters.clone()))
        .collect();
    let mut recidive = if cfg.recidive {
        Some(Jail::new(JailConfig::recidive()).map_err(|e| anyhow::anyhow!("{e}"))?)
    } else {
        None
    };
    let mut aggregator = cfg
        .aggregate
        .then(|| Aggregator::new(AggregatorConfig::default()));
    let mut scenarios = cfg
        .scenarios
        .iter()
        .map(build_scenario)
        .collect::<Result<Vec<_>>>()?;
    let mut early = cfg.early_warning.as_ref().map(build_early).transpose()?;
    let early_spec = cfg.early_warning;
    let poll = Duration::from_millis(cfg.poll_ms);
    let thread = std::thread::Builder::new()
        .name("logwatch".into())
        .spawn(move || {
            let mut last_save = Instant::now();
            let mut last_now = Instant::now();
            while !stop_flag.load(Ordering::Relaxed) {
                let mut bans_due: Vec<(JailBan, bool)> = Vec::new();
                let mut seen: Vec<Seen> = Vec::new();
                if last_now.elapsed() > Duration::from_secs(60) {
                    last_now = Instant::now();
                    for j in &mut jails {
                        j.filter.set_now(unix_now() as i64);
                    }
                }
                for j in &mut jails {
                    poll_jail(j, &mut bans_due, &mut seen);
                }
                for f in &seen {
                    for sc in scenarios.iter_mut() {
                        if sc.jail.as_ref().is_some_and(|j| *j != f.jail) {
                            continue;
                        }
                        if let Some(ev) = sc.scenario.observe(f.time, f.addr, f.user.as_deref(), &f.jail) {
                            on_scenario(&bans, &eve, &ev, sc.ban);
                        }
                    }
                    if let (Some(ew), Some(spec)) = (early.as_mut(), early_spec.as_ref()) {
                        let w = ew.observe(f.time, f.addr, &f.jail, false);
                        if w.newly_warned {
                            eve.send(&json!({
                                "timestamp": eve_time(f.time),
                                "event_type": "warning",
                                "src_ip": f.addr.to_string(),
                                "warning": {"score": w.score, "prefix_score": w.prefix_score,
                                            "forecast_per_min": w.forecast_per_min,
                                            "failures": w.failures, "reasons": w.reasons, "jail": f.jail},
                            }));
                        }
                        if spec.ban_score.is_some_and(|b| w.score >= b) {
                            let reason = format!("early warning score {:.0}", w.score);
                            let _ = bans.ban(BanTarget::Addr(f.addr), None, &reason, "early-warning");
                        }
                    }
                }
                for (b, own) in &bans_due {
                    carry_out(&bans, &eve, b, *own, "jail");
                    if let Some(r) = recidive.as_mut() {
                        if let JailEvent::Ban(rb) = r.observe(b.addr, b.time, None) {
                            carry_out(&bans, &eve, &rb, true, "jail");
                        }
                    }
                    if let Some(a) = aggregator.as_mut() {
                        if let Some(range) = a.observe_ban(b) {
                            let c = Cidr::network(range.prefix.addr(), range.prefix.prefix_len());
                            let reason = format!("{} offenders in {c}", range.offenders.len());
                            if let Err(e) =
                                bans.ban(BanTarget::Cidr(c), range.duration_s, &reason, "aggregate")
                            {
                                tracing::warn!("range ban {c}: {e:?}");
                            }
                        }
                    }
                }
                if last_save.elapsed() > Duration::from_secs(2) {
                    last_save = Instant::now();
                    save_all_positions(&pos_path, &jails);
                }
                std::thread::sleep(poll);
            }
            save_all_positions(&pos_path, &jails);
        })
        .context("starting the log watcher")?;
    Ok(LogWatch {
        counters,
        config: cfg.clone(),
        stop,
        thread: Some(thread),
    })
}

fn poll_jail(j: &mut RunningJail, due: &mut Vec<(JailBan, bool)>, seen: &mut Vec<Seen>) {
    let RunningJail {
        filter,
        jail,
        tails,
        journal,
        counters,
        own_increment,
        name,
    } = j;
    let mut handle = |r: rampart_logwatch::LineResult| {
        for f in &r.failures {
            counters.failures.fetch_add(1, Ordering::Relaxed);
            if let Some(addr) = rampart_logwatch::parse_host(&f.host) {
                seen.push(Seen {
                    jail: name.clone(),
                    addr,
                    time: f.time,
                    user: f.data.get("user"),
                });
            }
            if let JailEvent::Ban(b) = jail.observe_failure(f) {
                counters.bans.fetch_add(1, Ordering::Relaxed);
                due.push((b, *own_increment));
            }
        }
    };
    for t in tails.iter_mut() {
        let res = t.poll(|line| {
            counters.lines.fetch_add(1, Ordering::Relaxed);
            handle(filter.process_line(line));
        });
        if let Err(e) = res {
            if t.take_first_refusal() {
                tracing::warn!("jail {name}: {e}");
            }
        }
    }
    if let Some(jr) = journal.as_mut() {
        while let Ok((line, time)) = jr.rx.try_recv() {
            counters.lines.fetch_add(1, Ordering::Relaxed);
            handle(filter.process_journal_line(&line, time));
        }
    }
}

fn carry_out(bans: &BanService, eve: &EveSender, b: &JailBan, exact: bool, kind: &str) {
    let c = Cidr::network(b.prefix.addr(), b.prefix.prefix_len());
    let users = if b.users.is_empty() {
        String::new()
    } else {
        format!(", users {}", b.users.join(","))
    };
    let reason = format!("{} failures in {}{users}", b.failures, b.jail);
    let origin = format!("{kind}:{}", b.jail);
    // fail2ban's negative bantime is permanent.
    let duration = b.duration_s.or(Some(rampart_sys::bans::MAX_TIMEOUT_SECS));
    let res = if exact {
        bans.ban_exact(BanTarget::Cidr(c), duration, &reason, &origin)
    } else {
        bans.ban(BanTarget::Cidr(c), duration, &reason, &origin)
    };
    match res {
        Ok(rec) => eve.send(&json!({
            "timestamp": rampart_packet::Timestamp::from_nanos((b.time * 1e9) as u64).to_eve_string(),
            "event_type": "ban",
            "src_ip": b.addr.to_string(),
            "ban": {"target": c.to_string(), "jail": b.jail, "failures": b.failures,
                    "offence": b.offence_count, "users": b.users, "until": rec["until"]},
        })),
        Err(e) => tracing::info!("jail {}: ban of {c} not made: {e:?}", b.jail),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_become_syslog_like_lines() {
        let e = br#"{"__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"web01","SYSLOG_IDENTIFIER":"sshd","_PID":"1228","MESSAGE":"Failed password for root from 192.0.2.7 port 22 ssh2"}"#;
        let (line, t) = journal_line(e).unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "web01 sshd[1228]: Failed password for root from 192.0.2.7 port 22 ssh2"
        );
        assert!((t - 1_700_000_000.123_456).abs() < 1e-6);
        // A message journald stored as bytes (not UTF-8).
        let e = br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[102,255,111]}"#;
        assert_eq!(journal_line(e).unwrap().0, vec![102, 255, 111]);
        assert!(journal_line(b"not json").is_none());
        assert!(journal_line(br#"{"MESSAGE":"no time"}"#).is_none());
    }

    #[test]
    fn journalmatch_tokens_cannot_become_options() {
        assert!(journal_token_ok("_SYSTEMD_UNIT=sshd.service"));
        assert!(journal_token_ok("+"));
        assert!(journal_token_ok("_COMM=sshd"));
        assert!(!journal_token_ok("--output=cat"));
        assert!(!journal_token_ok("_COMM=-f"));
        assert!(!journal_token_ok("lower=x"));
        assert!(!journal_token_ok("_COMM=a\nb"));
    }
}
