//! The daemon's configuration file (`rampart run -c rampart.toml`): TOML,
//! checked against its schema (an unknown key or a wrong type is an error
//! naming the key and line), then validated (every path, duration, address
//! and selector), so that a daemon never starts, or reloads, on a config
//! it half understood. docs/rampart.toml is the documented example.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rampart_policy::{parse_duration, Policy, PolicySource};
use rampart_rules::Variables;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    inline: Option<RawInline>,
    capture: Option<RawCapture>,
    #[serde(default)]
    outputs: RawOutputs,
    #[serde(default)]
    escalation: RawEscalation,
    #[serde(default)]
    ban_on_alert: Vec<RawBanOnAlert>,
    #[serde(default)]
    firewall: PolicySource,
    #[serde(default)]
    logs: RawLogs,
    #[serde(default)]
    jails: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogs {
    filter_dir: Option<PathBuf>,
    poll_ms: Option<u64>,
    recidive: Option<bool>,
    aggregate: Option<bool>,
    #[serde(default)]
    scenarios: Vec<RawScenario>,
    early_warning: Option<RawEarly>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    kind: String,
    name: Option<String>,
    jail: Option<String>,
    capacity: Option<u32>,
    leak: Option<String>,
    threshold: Option<u32>,
    window: Option<String>,
    min_span: Option<String>,
    blackhole: Option<String>,
    ban: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEarly {
    threshold: Option<f64>,
    ban_score: Option<f64>,
    maxretry: Option<u32>,
    findtime: Option<String>,
}

/// Which scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// A leaky bucket per source (bursts).
    LeakyBucket,
    /// Many user names from one source (enumeration).
    DistinctUsers,
    /// Failures spread over hours from one source.
    SlowBruteForce,
    /// One user name attacked from many sources.
    DistributedBruteForce,
}

/// One `[[logs.scenarios]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    /// Which scenario.
    pub kind: ScenarioKind,
    /// Its name in events and bans.
    pub name: String,
    /// Only failures of this jail (None: every jail).
    pub jail: Option<String>,
    /// Bucket capacity (leaky bucket).
    pub capacity: Option<u32>,
    /// Seconds per leaked token (leaky bucket).
    pub leak: Option<u64>,
    /// Count that triggers (the other kinds).
    pub threshold: Option<u32>,
    /// Window in seconds.
    pub window: Option<u64>,
    /// Minimum span of the failures (slow brute force).
    pub min_span: Option<u64>,
    /// Seconds a triggered key stays quiet.
    pub blackhole: Option<u64>,
    /// Ban the source(s) for this long; None: an event only.
    pub ban: Option<u64>,
}

/// `[logs.early_warning]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlySpec {
    /// Score (0..100) at which a warning record is written.
    pub threshold: f64,
    /// Score at which the source is banned before any jail would.
    pub ban_score: Option<f64>,
    /// The jail threshold being predicted.
    pub maxretry: u32,
    /// Its window (seconds).
    pub findtime: u64,
}

/// Where a jail reads its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JailSource {
    /// Its log files when one exists, else the systemd journal (fail2ban's
    /// `backend = auto`, made to work on Debian 12 where sshd logs only to
    /// the journal).
    Auto,
    /// Its log files only (`polling`, `pyinotify`).
    File,
    /// The systemd journal only (`systemd`), with the filter's
    /// `journalmatch`.
    Journal,
}

/// One `[jails.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct JailSpec {
    /// The jail's name.
    pub name: String,
    /// Filter name (in `[logs] filter_dir`) or path, with options.
    pub filter: String,
    /// Log files.
    pub logpath: Vec<PathBuf>,
    /// Files, journal, or whichever exists.
    pub source: JailSource,
    /// fail2ban jail options (`maxretry`, `findtime`, `bantime`,
    /// `bantime.increment` ...), as text.
    pub options: Vec<(String, String)>,
}

/// The `[logs]` section and the jails.
#[derive(Debug, Clone, PartialEq)]
pub struct LogsConfig {
    /// fail2ban's filter.d.
    pub filter_dir: PathBuf,
    /// Milliseconds between polls of the watched files.
    pub poll_ms: u64,
    /// Run fail2ban's recidive jail over the other jails' bans.
    pub recidive: bool,
    /// Turn many offenders of one range into one range ban (budgeted).
    pub aggregate: bool,
    /// Enabled jails.
    pub jails: Vec<JailSpec>,
    /// Scenarios over every jail's failures.
    pub scenarios: Vec<ScenarioSpec>,
    /// Early warning, if enabled.
    pub early_warning: Option<EarlySpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    state_dir: Option<PathBuf>,
    control_socket: Option<PathBuf>,
    log_level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    files: Vec<PathBuf>,
    threshold_file: Option<PathBuf>,
    classification: Option<PathBuf>,
    #[serde(default)]
    midstream: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInline {
    queue_maxlen: Option<u32>,
    rcvbuf_bytes: Option<usize>,
    #[serde(default)]
    no_gso: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapture {
    interfaces: Vec<String>,
    threads: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutputs {
    eve: Option<PathBuf>,
    eve_max_bytes: Option<u64>,
    eve_keep: Option<u32>,
    stats_interval: Option<String>,
    #[serde(default)]
    flows: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    factor: Option<u32>,
    max_duration: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBanOnAlert {
    sid: Option<u32>,
    classtype: Option<String>,
    action: Option<String>,
    duration: Option<String>,
    target: Option<String>,
}

/// Which alerts ban an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanSelector {
    /// One rule, by sid.
    Sid(u32),
    /// Every rule of a classtype.
    Classtype(String),
    /// Every rule with this action (`drop`, `reject`, `alert`).
    Action(String),
}

/// Whose address an alert bans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanTarget {
    /// The source of the packet that matched (the attacker, for most
    /// inbound rules).
    Src,
    /// Its destination (for rules written from the victim's side, such as
    /// a response from a compromised host).
    Dst,
}

/// One `[[ban_on_alert]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanOnAlert {
    /// Which alerts.
    pub selector: BanSelector,
    /// Ban duration before escalation; None: the firewall's default.
    pub duration: Option<u64>,
    /// Whose address.
    pub target: BanTarget,
}

/// Repeat-offender escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    /// Each new ban of the same prefix lasts this many times the last.
    pub factor: u32,
    /// Upper bound of an escalated ban (seconds).
    pub max_duration: u64,
}

/// EVE output settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The EVE JSON file (alerts, stats, flows); None: none written.
    pub eve: Option<PathBuf>,
    /// Rotate the file when it reaches this size.
    pub eve_max_bytes: u64,
    /// Rotated files kept (`eve.json.1` .. `eve.json.N`).
    pub eve_keep: u32,
    /// Seconds between stats records.
    pub stats_interval: u64,
    /// Write a flow record when each flow ends.
    pub flows: bool,
}

/// A validated daemon configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (for reloads and messages).
    pub path: PathBuf,
    /// Directory of the ban store.
    pub state_dir: PathBuf,
    /// The control API's unix socket.
    pub control_socket: PathBuf,
    /// tracing filter (e.g. `info`, `rampart=debug`).
    pub log_level: String,
    /// Rule files.
    pub rule_files: Vec<PathBuf>,
    /// threshold.config, if any.
    pub threshold_file: Option<PathBuf>,
    /// classification.config, if any.
    pub classification: Option<PathBuf>,
    /// Treat midstream pickups as established (see `detect --midstream`).
    pub midstream: bool,
    /// Rule variables, as given.
    pub vars: Vec<(String, String)>,
    /// Inline (NFQUEUE) mode settings; present when the firewall has a
    /// queue.
    pub inline: Option<InlineSettings>,
    /// Live capture (AF_PACKET) interfaces and worker count.
    pub capture: Option<(Vec<String>, u16)>,
    /// Outputs.
    pub outputs: Outputs,
    /// Escalation of repeat offenders.
    pub escalation: Escalation,
    /// Alerts that ban.
    pub ban_on_alert: Vec<BanOnAlert>,
    /// The firewall policy (table, sets, queue hook).
    pub firewall: Policy,
    /// Log watching (jails).
    pub logs: LogsConfig,
}

/// Inline worker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlineSettings {
    /// Kernel queue length.
    pub queue_maxlen: u32,
    /// Receive GSO super-packets whole.
    pub gso: bool,
    /// The netlink socket's receive buffer: queued packets wait here for
    /// the worker; too small and bursts overflow it.
    pub rcvbuf_bytes: usize,
}

impl Config {
    /// Reads and validates a config file; every problem is reported, each
    /// naming its key and the offending value.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, path, base)
            .with_context(|| format!("invalid config {}", path.display()))
    }

    /// Parses config text; relative paths are taken from `base` (the
    /// config file's directory), so a config can travel with its rules.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Config> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))?;
        let mut problems: Vec<String> = Vec::new();
        let mut err = |key: &str, msg: String| problems.push(format!("{key}: {msg}"));
        let rel = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let state_dir = rel(raw
            .daemon
            .state_dir
            .as_deref()
            .unwrap_or(Path::new("/var/lib/rampart")));
        let control_socket = rel(raw
            .daemon
            .control_socket
            .as_deref()
            .unwrap_or(Path::new("/run/rampart/control.sock")));
        let log_level = raw.daemon.log_level.unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            err(
                "daemon.log_level",
                format!("invalid filter {log_level:?} (e.g. info, debug, rampart=debug)"),
            );
        }

        let rule_files: Vec<PathBuf> = raw.rules.files.iter().map(|p| rel(p)).collect();
        for (i, f) in rule_files.iter().enumerate() {
            if !f.is_file() {
                err(
                    &format!("rules.files[{i}]"),
                    format!("{} is not a readable file", f.display()),
                );
            }
        }
        let threshold_file = raw.rules.threshold_file.as_deref().map(rel);
        if let Some(f) = threshold_file.as_ref().filter(|f| !f.is_file()) {
            err(
                "rules.threshold_file",
                format!("{} is not a readable file", f.display()),
            );
        }
        let classification = raw.rules.classification.as_deref().map(rel);
        if let Some(f) = classification.as_ref().filter(|f| !f.is_file()) {
            err(
                "rules.classification",
                format!("{} is not a readable file", f.display()),
            );
        }

        let mut vars_check = Variables::default();
        for (name, value) in &raw.vars {
            let res = if name.ends_with("_PORTS") || name.ends_with("_PORT") {
                vars_check.set_port(name, value)
            } else {
                vars_check.set_address(name, value)
            };
            if let Err(e) = res {
                err(&format!("vars.{name}"), format!("{value:?}: {}", e.message));
            }
        }

        let firewall = match Policy::from_source(raw.firewall) {
            Ok(p) => Some(p),
            Err(e) => {
                for line in e.to_string().lines() {
                    problems_push(&mut err, line);
                }
                None
            }
        };

        let inline = match (&firewall, raw.inline) {
            (Some(p), r) if p.queue.is_some() => {
                let r = r.unwrap_or_default();
                let queue_maxlen = r.queue_maxlen.unwrap_or(4096);
                if queue_maxlen == 0 {
                    err("inline.queue_maxlen", "must be at least 1".into());
                }
                let rcvbuf_bytes = r.rcvbuf_bytes.unwrap_or(16 << 20);
                if !(64 * 1024..=1 << 30).contains(&rcvbuf_bytes) {
                    err(
                        "inline.rcvbuf_bytes",
                        format!("{rcvbuf_bytes} out of range 65536..=1073741824"),
                    );
                }
                Some(InlineSettings {
                    queue_maxlen,
                    gso: !r.no_gso,
                    rcvbuf_bytes,
                })
            }
            (Some(_), Some(_)) => {
                err("inline", "inline settings without [firewall.queue]: add a queue (numbers, chain, fail_open) to the firewall".into());
                None
            }
            _ => None,
        };

        let capture = raw.capture.map(|c| {
            if c.interfaces.is_empty() {
                err("capture.interfaces", "empty list".into());
            }
            for (i, n) in c.interfaces.iter().enumerate() {
                if n.is_empty()
                    || n.len() > 15
                    || !n
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "._-@".contains(ch))
                {
                    err(
                        &format!("capture.interfaces[{i}]"),
                        format!("invalid interface name {n:?}"),
                    );
                }
            }
            let threads = c.threads.unwrap_or(1);
            if threads == 0 || threads > 64 {
                err("capture.threads", format!("{threads} out of range 1..=64"));
            }
            (c.interfaces, threads)
        });

        let dur = |key: &str,
                   v: &Option<String>,
                   default: u64,
                   err: &mut dyn FnMut(&str, String)| match v {
            None => default,
            Some(s) => parse_duration(s).unwrap_or_else(|| {
                err(
                    key,
                    format!("invalid duration {s:?} (e.g. 3600, 90s, 10m, 1h, 7d)"),
                );
                default
            }),
        };
        let outputs = Outputs {
            eve: raw.outputs.eve.as_deref().map(rel),
            eve_max_bytes: raw.outputs.eve_max_bytes.unwrap_or(100 * 1024 * 1024),
            eve_keep: raw.outputs.eve_keep.unwrap_or(5),
            stats_interval: dur(
                "outputs.stats_interval",
                &raw.outputs.stats_interval,
                30,
                &mut err,
            ),
            flows: raw.outputs.flows,
        };
        if outputs.eve_max_bytes < 4096 {
            err(
                "outputs.eve_max_bytes",
                format!("{} is too small (at least 4096)", outputs.eve_max_bytes),
            );
        }
        let escalation = Escalation {
            factor: raw.escalation.factor.unwrap_or(2),
            max_duration: dur(
                "escalation.max_duration",
                &raw.escalation.max_duration,
                30 * 86400,
                &mut err,
            ),
        };
        if escalation.factor == 0 || escalation.factor > 100 {
            err(
                "escalation.factor",
                format!("{} out of range 1..=100", escalation.factor),
            );
        }

        let mut ban_on_alert = Vec::new();
        for (i, b) in raw.ban_on_alert.iter().enumerate() {
            let key = format!("ban_on_alert[{i}]");
            let selector = match (&b.sid, &b.classtype, &b.action) {
                (Some(sid), None, None) => BanSelector::Sid(*sid),
                (None, Some(c), None) => BanSelector::Classtype(c.clone()),
                (None, None, Some(a)) => {
                    let a = a.to_ascii_lowercase();
                    if !["alert", "drop", "reject"].contains(&a.as_str()) {
                        err(
                            &format!("{key}.action"),
                            format!("{a:?} is not alert, drop or reject"),
                        );
                    }
                    BanSelector::Action(a)
                }
                _ => {
                    err(&key, "give exactly one of sid, classtype, action".into());
                    continue;
                }
            };
            let duration = b
                .duration
                .as_ref()
                .map(|_| dur(&format!("{key}.duration"), &b.duration, 0, &mut err));
            let target = match b.target.as_deref() {
                None | Some("src") => BanTarget::Src,
                Some("dst") => BanTarget::Dst,
                Some(t) => {
                    err(&format!("{key}.target"), format!("{t:?} is not src or dst"));
                    BanTarget::Src
                }
            };
            ban_on_alert.push(BanOnAlert {
                selector,
                duration,
                target,
            });
        }

        let mut jails = Vec::new();
        for (name, table) in &raw.jails {
            let key = format!("jails.{name}");
            if let Some(spec) = jail_spec(name, table, &rel, &mut |k: &str, m: String| {
                err(&format!("{key}.{k}"), m)
            }) {
                if spec.0 {
                    jails.push(spec.1);
                }
            }
        }
        let mut scenarios = Vec::new();
        for (i, r) in raw.logs.scenarios.iter().enumerate() {
            let key = format!("logs.scenarios[{i}]");
            let kind = match r.kind.as_str() {
                "leaky_bucket" => ScenarioKind::LeakyBucket,
                "distinct_users" => ScenarioKind::DistinctUsers,
                "slow_bruteforce" => ScenarioKind::SlowBruteForce,
                "distributed_bruteforce" => ScenarioKind::DistributedBruteForce,
                k => {
                    err(&format!("{key}.kind"), format!("{k:?} is not leaky_bucket, distinct_users, slow_bruteforce or distributed_bruteforce"));
                    continue;
                }
            };
            let mut opt_dur = |k: &str, v: &Option<String>| {
                v.as_ref()
                    .map(|_| dur(&format!("{key}.{k}"), v, 1, &mut err))
            };
            scenarios.push(ScenarioSpec {
                kind,
                name: r.name.clone().unwrap_or_else(|| format!("{}-{i}", r.kind)),
                jail: r.jail.clone(),
                capacity: r.capacity,
                leak: opt_dur("leak", &r.leak),
                threshold: r.threshold,
                window: opt_dur("window", &r.window),
                min_span: opt_dur("min_span", &r.min_span),
                blackhole: opt_dur("blackhole", &r.blackhole),
                ban: opt_dur("ban", &r.ban),
            });
        }
        let early_warning = raw.logs.early_warning.as_ref().map(|e| {
            let threshold = e.threshold.unwrap_or(50.0);
            if !(0.0..=100.0).contains(&threshold) {
                err(
                    "logs.early_warning.threshold",
                    format!("{threshold} out of range 0..=100"),
                );
            }
            if let Some(b) = e.ban_score.filter(|b| !(0.0..=100.0).contains(b)) {
                err(
                    "logs.early_warning.ban_score",
                    format!("{b} out of range 0..=100"),
                );
            }
            EarlySpec {
                threshold,
                ban_score: e.ban_score,
                maxretry: e.maxretry.unwrap_or(5).max(1),
                findtime: dur("logs.early_warning.findtime", &e.findtime, 600, &mut err),
            }
        });
        let logs = LogsConfig {
            scenarios,
            early_warning,
            filter_dir: rel(raw
                .logs
                .filter_dir
                .as_deref()
                .unwrap_or(Path::new("/etc/fail2ban/filter.d"))),
            poll_ms: raw.logs.poll_ms.unwrap_or(10).clamp(1, 10_000),
            recidive: raw.logs.recidive.unwrap_or(false),
            aggregate: raw.logs.aggregate.unwrap_or(false),
            jails,
        };

        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        let Some(firewall) = firewall else {
            bail!("invalid firewall section");
        };
        Ok(Config {
            path: path.to_path_buf(),
            state_dir,
            control_socket,
            log_level,
            rule_files,
            threshold_file,
            classification,
            midstream: raw.rules.midstream,
            vars: raw.vars.into_iter().collect(),
            inline,
            capture,
            outputs,
            escalation,
            ban_on_alert,
            firewall,
            logs,
        })
    }

    /// The rule variables.
    pub fn variables(&self) -> Result<Variables> {
        let v: Vec<String> = self.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        crate::rules_load::variables(&v)
    }
}

/// Checks one `[jails.NAME]` table: (enabled, spec), or None when it has
/// errors (reported through `err` with the key inside the table).
fn jail_spec(
    name: &str,
    t: &toml::Table,
    rel: &dyn Fn(&Path) -> PathBuf,
    err: &mut dyn FnMut(&str, String),
) -> Option<(bool, JailSpec)> {
    use rampart_logwatch::jail::JailConfig;
    let mut ok = true;
    let mut enabled = true;
    let mut filter = name.to_string();
    let mut logpath = Vec::new();
    let mut source = JailSource::Auto;
    let mut options = Vec::new();
    for (k, v) in t {
        let text = match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        };
        match k.as_str() {
            "enabled" => match v.as_bool() {
                Some(b) => enabled = b,
                None => {
                    err(k, format!("expected true or false, found {v}"));
                    ok = false;
                }
            },
            "filter" => match v.as_str() {
                Some(s) if !s.trim().is_empty() => filter = s.trim().to_string(),
                _ => {
                    err(k, format!("expected a filter name or path, found {v}"));
                    ok = false;
                }
            },
            "logpath" => {
                let list: Option<Vec<String>> = match v {
                    toml::Value::String(s) => {
                        Some(s.split_whitespace().map(str::to_string).collect())
                    }
                    toml::Value::Array(a) => {
                        a.iter().map(|x| x.as_str().map(str::to_string)).collect()
                    }
                    _ => None,
                };
                match list {
                    Some(l) => logpath = l.iter().map(|p| rel(Path::new(p))).collect(),
                    None => {
                        err(k, format!("expected a path or a list of paths, found {v}"));
                        ok = false;
                    }
                }
            }
            "backend" => {
                source = match v.as_str() {
                    Some("auto") => JailSource::Auto,
                    Some("polling" | "pyinotify" | "gamin" | "file") => JailSource::File,
                    Some("systemd" | "journal") => JailSource::Journal,
                    _ => {
                        err(
                            k,
                            format!("{v} is not auto, polling, systemd (or file, journal)"),
                        );
                        ok = false;
                        JailSource::Auto
                    }
                }
            }
            other if JailConfig::KNOWN_KEYS.contains(&other) => match text {
                Some(s) => options.push((other.to_string(), s)),
                None => {
                    err(k, format!("expected a number or text, found {v}"));
                    ok = false;
                }
            },
            _ => {
                err(k, "unknown jail option (filter, logpath, backend, enabled, or a fail2ban jail option: maxretry, findtime, bantime, bantime.increment ...)".into());
                ok = false;
            }
        }
    }
    if source == JailSource::File && logpath.is_empty() {
        err(
            "logpath",
            "backend polling needs at least one log file".into(),
        );
        ok = false;
    }
    let opts: Vec<(&str, &str)> = options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Err(e) = JailConfig::from_options(name, &opts) {
        err(&e.key, format!("{:?}: {}", e.value, e.message));
        ok = false;
    }
    ok.then(|| {
        (
            enabled,
            JailSpec {
                name: name.to_string(),
                filter,
                logpath,
                source,
                options,
            },
        )
    })
}

/// Policy problems come as `key: message`; prefix the key with the
/// section they live in.
fn problems_push(err: &mut impl FnMut(&str, String), line: &str) {
    match line.split_once(": ") {
        Some((key, msg)) if !key.contains(' ') => err(&format!("firewall.{key}"), msg.to_string()),
        _ => err("firewall", line.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("t.toml"), Path::new("."))
    }

    #[test]
    fn empty_config_has_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.firewall.table, "rampart");
        assert!(c.inline.is_none());
        assert_eq!(c.outputs.stats_interval, 30);
    }

    #[test]
    fn errors_name_key_and_value() {
        let e = parse("[outputs]\neve_keep = \"five\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("eve_keep"), "{e}");
        let e = parse("[daemon]\nbogus = 1\n").unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
        let e = parse("[firewall.allowlist]\naddresses = [\"10.0.0.300/8\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("firewall.allowlist.addresses") && e.contains("10.0.0.300"),
            "{e}"
        );
        let e = parse("[[firewall.rules]]\naction = \"allow\"\nprotocol = \"tcp\"\nto = { ports = [\"70000\"] }\n").unwrap_err().to_string();
        assert!(
            e.contains("firewall.rules[0].to.ports") && e.contains("70000"),
            "{e}"
        );
        let e = parse("[vars]\nHOME_NET = \"[10.0.0.0/33]\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("vars.HOME_NET"), "{e}");
        let e = parse("[[ban_on_alert]]\nsid = 1\nclasstype = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ban_on_alert[0]"), "{e}");
        let e = parse("[escalation]\nmax_duration = \"forever\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("escalation.max_duration") && e.contains("forever"),
            "{e}"
        );
    }
}
