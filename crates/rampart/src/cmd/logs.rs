//! `rampart logs ...`: fail2ban-compatible log matching.
//!
//! * `logs test FILTER LOGFILE`: what `fail2ban-regex` reports (lines
//!   read, matched, ignored, missed; hosts; per-failregex hits).
//! * `logs match --jsonl`: the JSON-lines protocol of the conformance
//!   runner (`run_cases.py`), one stateful matcher per `run_id`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use rampart_logwatch::{
    load_and_compile, parse_filter_spec, Filter, LineResult, PosixTz, TimeContext,
};
use serde_json::{json, Map, Value};

/// `rampart logs ...`
#[derive(Subcommand, Debug)]
pub enum LogsCommand {
    /// Run a fail2ban filter over a log file and report matched, ignored
    /// and missed lines, hosts and per-failregex hits (fail2ban-regex).
    Test(TestArgs),
    /// Serve the JSON-lines matching protocol on stdin/stdout (used by the
    /// fail2ban conformance runner).
    Match(MatchArgs),
}

/// Arguments of `rampart logs test`.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// Filter: a path to a .conf file, or a name looked up in
    /// --filter-dir, optionally with init options: `sshd[mode=aggressive]`.
    pub filter: String,
    /// Log file to scan (read streaming).
    pub logfile: PathBuf,
    /// Folder of fail2ban filters for filter names.
    #[arg(long, default_value = "/etc/fail2ban/filter.d")]
    pub filter_dir: PathBuf,
    /// Print this many top hosts.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print up to N lines no failregex matched.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub show_missed: usize,
    /// Time zone of stamps without offset (POSIX TZ string; default: the
    /// TZ environment variable, else UTC).
    #[arg(long)]
    pub tz: Option<String>,
    /// Regex threads (0: one per CPU). The results are the same for any
    /// count; filters with `maxlines > 1` always use one.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

/// Arguments of `rampart logs match`.
#[derive(Args, Debug)]
pub struct MatchArgs {
    /// Speak JSON lines (the only mode).
    #[arg(long)]
    pub jsonl: bool,
}

/// Runs a `logs` subcommand.
pub fn run(cmd: &LogsCommand) -> Result<ExitCode> {
    match cmd {
        LogsCommand::Test(a) => test(a),
        LogsCommand::Match(a) => serve(a),
    }
}

fn read_file(p: &str) -> Option<String> {
    let bytes = std::fs::read(p).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn local_tz(arg: Option<&str>) -> PosixTz {
    let s = arg
        .map(str::to_string)
        .or_else(|| std::env::var("TZ").ok())
        .unwrap_or_default();
    PosixTz::parse(&s).unwrap_or_else(PosixTz::utc)
}

/// Resolves `FILTER` to a file path and init options.
fn resolve_filter(spec: &str, dir: &Path) -> Result<(String, Vec<(String, String)>)> {
    if Path::new(spec).is_file() {
        return Ok((spec.to_string(), Vec::new()));
    }
    let (name, opts) = parse_filter_spec(spec);
    if Path::new(&name).is_file() {
        return Ok((name, opts));
    }
    let file = if name.ends_with(".conf") {
        dir.join(&name)
    } else {
        dir.join(format!("{name}.conf"))
    };
    if !file.is_file() {
        bail!(
            "filter {spec:?}: neither a file nor {} (use --filter-dir)",
            file.display()
        );
    }
    Ok((file.to_string_lossy().into_owned(), opts))
}

/// Distinct hosts tracked by `logs test` (memory bound; the rest are
/// counted together).
const MAX_HOSTS: usize = 1 << 20;

fn test(a: &TestArgs) -> Result<ExitCode> {
    let (path, opts) = resolve_filter(&a.filter, &a.filter_dir)?;
    let now = wall_clock();
    let ctx = TimeContext {
        now,
        wall_clock: now,
        tz: local_tz(a.tz.as_deref()),
    };
    let mut filter = load_and_compile(&read_file, &path, &opts, ctx)
        .with_context(|| format!("loading filter {path}"))?;
    // only hosts and counts are reported: skip copying group values
    filter.set_collect_fields(false);
    let file = std::fs::File::open(&a.logfile)
        .with_context(|| format!("opening {}", a.logfile.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(size);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            b.set_style(style);
        }
        Some(b)
    } else {
        None
    };
    let (mut read, mut matched, mut ignored, mut missed) = (0u64, 0u64, 0u64, 0u64);
    let mut hits = vec![0u64; filter.failregex_count()];
    let mut hosts: HashMap<String, u64> = HashMap::new();
    let mut missed_samples: Vec<String> = Vec::new();
    let mut bytes_done = 0u64;
    let t0 = Instant::now();
    let mut tally = |line: &[u8], r: LineResult| {
        read += 1;
        bytes_done += line.len() as u64;
        if let Some(b) = &bar {
            if read % 65536 == 0 {
                b.set_position(bytes_done);
            }
        }
        if !r.failures.is_empty() || !r.pending.is_empty() {
            matched += 1;
            for i in &r.pending {
                if let Some(h) = hits.get_mut(*i) {
                    *h += 1;
                }
            }
            for f in &r.failures {
                if let Some(h) = hits.get_mut(f.regex_index) {
                    *h += 1;
                }
                if let Some(c) = hosts.get_mut(&f.host) {
                    *c += 1;
                } else if hosts.len() < MAX_HOSTS {
                    hosts.insert(f.host.clone(), 1);
                } else {
                    // bounded memory: further new hosts are only counted
                    *hosts.entry("(other hosts)".to_string()).or_insert(0) += 1;
                }
            }
        } else if r.ignored || r.matched_regex {
            ignored += 1;
        } else {
            missed += 1;
            if missed_samples.len() < a.show_missed {
                missed_samples.push(String::from_utf8_lossy(line).trim_end().to_string());
            }
        }
    };
    let threads = match a.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let reading = || format!("reading {}", a.logfile.display());
    if threads > 1 && filter.is_single_line() {
        let mut blocks = super::logs_pipeline::BlockReader::new(file);
        super::logs_pipeline::run(&mut filter, &mut blocks, threads - 1, &mut tally)
            .with_context(reading)?;
    } else {
        let mut lines = LineReader::new(file);
        while let Some(line) = lines.next_line().with_context(reading)? {
            let r = filter.process_line(line);
            tally(line, r);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let secs = t0.elapsed().as_secs_f64();
    outln!("Filter: {path}")?;
    outln!("Lines: {read} read, {matched} matched, {ignored} ignored, {missed} missed")?;
    outln!("matched: {matched}")?;
    outln!("Failregex hits:")?;
    for (i, h) in hits.iter().enumerate() {
        let src = filter.failregex_source(i).unwrap_or("");
        let short: String = src.chars().take(100).collect();
        outln!("  #{i:<3} {h:>9}  {short}")?;
    }
    let mut top: Vec<(&String, &u64)> = hosts.iter().collect();
    top.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    outln!(
        "Hosts: {} distinct (top {})",
        hosts.len(),
        a.top.min(top.len())
    )?;
    for (h, c) in top.iter().take(a.top) {
        outln!("  {h:<40} {c:>9}")?;
    }
    if !missed_samples.is_empty() {
        outln!("Missed lines (first {}):", missed_samples.len())?;
        for l in &missed_samples {
            outln!("  {l}")?;
        }
    }
    let rate = if secs > 0.0 { read as f64 / secs } else { 0.0 };
    outln!("Throughput: {rate:.0} lines/s ({secs:.3} s)")?;
    Ok(ExitCode::SUCCESS)
}

/// Streams lines out of a reader with one reusable buffer (bounded memory:
/// a line longer than `MAX_LINE` is cut into pieces).
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

const MAX_LINE: usize = 16 << 20;

impl<R: Read> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: vec![0; 1 << 20],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The next line including its `\n` (the last one may lack it).
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<&[u8]>> {
        loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or(&[]);
            let cut = match memchr::memchr(b'\n', pending) {
                Some(p) => Some(p + 1),
                None if self.eof && !pending.is_empty() => Some(pending.len()),
                None if pending.len() >= MAX_LINE => Some(pending.len()),
                None => None,
            };
            if let Some(n) = cut {
                let s = self.start;
                self.start += n;
                return Ok(self.buf.get(s..s + n));
            }
            if self.eof {
                return Ok(None);
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let grow = (self.buf.len() * 2).min(MAX_LINE + 1);
                self.buf.resize(grow, 0);
            }
            let n = match self.buf.get_mut(self.end..) {
                Some(dst) => self.inner.read(dst)?,
                None => 0,
            };
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
        }
    }
}

struct Run {
    filter: Filter,
    journal: bool,
    prefix: Option<String>,
    now: f64,
}

fn opt_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn open_run(req: &Map<String, Value>) -> Result<Run> {
    let conf = req
        .get("filter_conf")
        .and_then(Value::as_str)
        .context("open: filter_conf missing")?;
    let mut opts: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(o)) = req.get("opts") {
        for (k, v) in o {
            opts.push((k.clone(), opt_string(v)));
        }
    }
    let now_f = req.get("now").and_then(Value::as_f64).unwrap_or(0.0);
    let now = now_f as i64;
    let tz = req
        .get("tz")
        .and_then(Value::as_str)
        .and_then(PosixTz::parse)
        .unwrap_or_else(PosixTz::utc);
    let ctx = TimeContext {
        now,
        wall_clock: wall_clock(),
        tz,
    };
    let filter = load_and_compile(&read_file, conf, &opts, ctx)?;
    Ok(Run {
        filter,
        journal: req.get("logtype").and_then(Value::as_str) == Some("journal"),
        prefix: req
            .get("prefix_line")
            .and_then(Value::as_str)
            .map(str::to_string),
        now: now_f,
    })
}

fn line_response(run: &mut Run, line: &str) -> Value {
    let r = if run.journal {
        let mut l = run.prefix.clone().unwrap_or_default();
        l.push_str(line);
        run.filter.process_journal_line(l.as_bytes(), run.now)
    } else {
        run.filter.process_line(line.as_bytes())
    };
    let fails: Vec<Value> = r
        .failures
        .iter()
        .map(|f| {
            let mut o = Map::new();
            o.insert("host".into(), json!(f.host));
            o.insert("time".into(), json!(f.time));
            for k in ["user", "ip4", "ip6", "dns"] {
                if f.data.has(k) {
                    o.insert(k.into(), json!(f.data.get(k)));
                }
            }
            if let Some(u) = &f.data.users {
                o.insert("users".into(), json!(u.iter().collect::<Vec<_>>()));
            }
            o.insert("attempts".into(), json!(f.attempts));
            Value::Object(o)
        })
        .collect();
    json!({ "fails": fails })
}

fn serve(_a: &MatchArgs) -> Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut input = BufReader::new(stdin.lock());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut runs: HashMap<String, Run> = HashMap::new();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if input.by_ref().read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&raw);
        if text.trim().is_empty() {
            continue;
        }
        let resp = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(req)) => {
                let rid = req.get("run_id").map(opt_string).unwrap_or_default();
                match req.get("op").and_then(Value::as_str) {
                    Some("open") => match open_run(&req) {
                        Ok(run) => {
                            runs.insert(rid, run);
                            json!({"ok": true})
                        }
                        Err(e) => json!({"ok": false, "error": format!("{e:#}")}),
                    },
                    Some("line") => match runs.get_mut(&rid) {
                        Some(run) => {
                            let line = req.get("line").and_then(Value::as_str).unwrap_or("");
                            line_response(run, line)
                        }
                        None => json!({"error": "unknown run_id", "fails": []}),
                    },
                    Some("close") => {
                        runs.remove(&rid);
                        json!({"ok": true})
                    }
                    _ => json!({"ok": false, "error": "bad op"}),
                }
            }
            _ => json!({"ok": false, "error": "request is not a JSON object"}),
        };
        writeln!(out, "{resp}")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
