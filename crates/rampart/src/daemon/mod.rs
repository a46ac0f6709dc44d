//! `rampart run -c rampart.toml`: the daemon.
//!
//! Threads: one packet worker per NFQUEUE queue (inline) or AF_PACKET
//! fanout member (IDS), the EVE writer, the alert-ban thread, and a small
//! tokio runtime on the main thread for the control API, signals and
//! timers. SIGHUP (or `POST /v1/reload`) reloads the config and rules:
//! the new engine is built beside the old one while traffic keeps flowing,
//! then swapped in; on any error the old engine and config stay.
//! SIGTERM/SIGINT stop cleanly: the queue hook is removed (so a fail-closed
//! setup does not cut the network while the daemon is down), outputs are
//! flushed, the firewall table and its bans stay.

pub mod bans;
pub mod config;
pub mod control;
pub mod eve_out;
pub mod firewall;
pub mod logwatch;
pub mod worker;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use rampart_detect::DetectEngine;
use rampart_engine::PipelineConfig;
use rampart_rules::Classifications;
use rampart_sys::nfqueue::{InlineQueue, QueueOptions};
use serde_json::{json, Value};

use self::bans::BanService;
use self::config::Config;
use self::eve_out::EveSender;
use self::firewall::QueueHook;
use self::worker::{AlertBan, BanTriggers, Shared, WorkerStats};
use crate::rules_load;

/// Arguments of `rampart run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The config file (see docs/rampart.toml).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: PathBuf,
}

/// A freshly built engine and what was reported while building it.
struct Built {
    engine: Arc<DetectEngine>,
    classes: Arc<Classifications>,
    triggers: Arc<BanTriggers>,
    loaded: usize,
    rejected: usize,
    seconds: f64,
}

/// A flow-id base unique to this worker and this run: the worker index in
/// the top bits, the start time below.
fn id_base(worker: usize) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    ((worker as u64) << 56) ^ (t & 0x00ff_ffff_ffff_ffff)
}

/// Reads the rule files of `cfg` and compiles them.
fn build_engine(cfg: &Config) -> Result<Built> {
    let t = Instant::now();
    let vars = cfg.variables()?;
    let mut loaded = rules_load::load(&cfg.rule_files, &vars)?;
    let mut build = DetectEngine::build_owned(
        std::mem::take(&mut loaded.rules),
        Some(rules_load::rule_file_loader()),
    );
    if let Some(path) = &cfg.threshold_file {
        rules_load::apply_threshold_file(&mut build.engine, path, &vars)?;
    }
    for e in loaded.errors.iter().take(5) {
        tracing::warn!("rule rejected: {e}");
    }
    for e in build.errors.iter().take(5) {
        tracing::warn!(
            "rule rejected: {}:{}: sid {}: {}",
            e.file,
            e.line,
            e.sid,
            e.message
        );
    }
    let classes = rules_load::classifications(cfg.classification.as_deref(), &cfg.rule_files)?;
    Ok(Built {
        loaded: build.engine.signatures().len(),
        rejected: loaded.errors.len() + build.errors.len(),
        engine: Arc::new(build.engine),
        classes: Arc::new(classes),
        triggers: Arc::new(BanTriggers::new(&cfg.ban_on_alert)),
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// The running daemon, shared by the control API, signal handlers and
/// timers.
pub struct Daemon {
    config: Mutex<Config>,
    shared: Arc<Shared>,
    workers: Vec<(String, Arc<WorkerStats>)>,
    /// Bans: book, store and kernel sets.
    pub bans: Arc<BanService>,
    started: Instant,
    hook: Mutex<QueueHook>,
    rules_loaded: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    logs: Mutex<Option<logwatch::LogWatch>>,
    /// What the log watcher needs to be restarted on reload.
    bans_eve: (PathBuf, EveSender),
}

impl Daemon {
    /// Re-reads the config and rules; swaps them in only when both are
    /// valid. Returns a summary for the API.
    pub fn reload(&self) -> Result<Value> {
        let path = self
            .config
            .lock()
            .map(|c| c.path.clone())
            .unwrap_or_else(|p| p.into_inner().path.clone());
        let res = (|| -> Result<Value> {
            let cfg = Config::load(&path)?;
            let built = build_engine(&cfg)?;
            logwatch::check_filters(&cfg.logs)?;
            let firewall = firewall::prepare(cfg.firewall.clone())?;
            let old_fw = self
                .config
                .lock()
                .map(|c| c.firewall.clone())
                .unwrap_or_else(|p| p.into_inner().firewall.clone());
            if cfg.firewall != old_fw {
                let hook = firewall::apply(&firewall)?;
                if let Ok(mut h) = self.hook.lock() {
                    h.remove();
                    *h = hook;
                }
                self.bans.reconcile()?;
            }
            self.bans.set_policy(bans::ban_policy(&cfg, &firewall));
            self.restart_logs_if_changed(&cfg)?;
            let retired = self.shared.swap(
                built.engine.clone(),
                built.classes.clone(),
                built.triggers.clone(),
            );
            // Workers let go of the old engine on their next packet; the
            // last reference (and the time freeing it takes) stays here,
            // off the packet path.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(10));
                drop(retired);
            });
            self.rules_loaded
                .store(built.loaded as u64, Ordering::Relaxed);
            self.reloads.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut c) = self.config.lock() {
                *c = cfg;
            }
            Ok(json!({
                "rules_loaded": built.loaded,
                "rules_rejected": built.rejected,
                "build_seconds": built.seconds,
            }))
        })();
        match &res {
            Ok(v) => tracing::info!("reloaded: {v}"),
            Err(e) => {
                self.reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!("reload failed, keeping the running config and rules: {e:#}");
            }
        }
        res
    }

    /// Restarts the log watcher when the jails, scenarios or early warning
    /// changed: the old thread saves its read positions and stops, the new
    /// one resumes from them, so no line is read twice or skipped.
    fn restart_logs_if_changed(&self, cfg: &Config) -> Result<()> {
        let mut guard = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        let same = match guard.as_ref() {
            Some(lw) => lw.config == cfg.logs,
            None => cfg.logs.jails.is_empty(),
        };
        if same {
            return Ok(());
        }
        if let Some(mut old) = guard.take() {
            old.stop();
        }
        if !cfg.logs.jails.is_empty() {
            let (state_dir, eve) = &self.bans_eve;
            *guard = Some(logwatch::start(
                &cfg.logs,
                state_dir,
                self.bans.clone(),
                eve.clone(),
            )?);
            tracing::info!("log watcher restarted: {} jails", cfg.logs.jails.len());
        }
        Ok(())
    }

    /// Counters for `GET /v1/status` and the EVE stats record.
    pub fn status_json(&self) -> Value {
        let mut total = worker::WorkerCounts::default();
        let workers: Vec<Value> = self
            .workers
            .iter()
            .map(|(name, s)| {
                let c = s.counts();
                total.packets += c.packets;
                total.bytes += c.bytes;
                total.accepted += c.accepted;
                total.dropped += c.dropped;
                total.rejected += c.rejected;
                total.alerts += c.alerts;
                total.errors += c.errors;
                total.enobufs += c.enobufs;
                total.socket_drops += c.socket_drops;
                json!({"name": name, "counters": c})
            })
            .collect();
        let queues: Vec<Value> = rampart_sys::nfqueue::kernel_queue_stats()
            .unwrap_or_default()
            .iter()
            .map(|q| {
                // Ids handed out that the queue's worker never received
                // and the kernel let through (fail-open socket overflow).
                let received = self
                    .workers
                    .iter()
                    .find(|(name, _)| *name == format!("nfqueue-{}", q.queue))
                    .map(|(_, s)| s.packets.load(Ordering::Relaxed));
                json!({"queue": q.queue, "waiting": q.waiting, "queue_dropped": q.queue_dropped,
                       "user_dropped": q.user_dropped, "packets": q.id_sequence,
                       "bypassed": received.map(|r| q.bypassed(r))})
            })
            .collect();
        let hook = self.hook.lock().map(|h| h.kind).unwrap_or("unknown");
        json!({
            "uptime": self.started.elapsed().as_secs(),
            "rules_loaded": self.rules_loaded.load(Ordering::Relaxed),
            "reloads": self.reloads.load(Ordering::Relaxed),
            "reload_failures": self.reload_failures.load(Ordering::Relaxed),
            "queue_hook": hook,
            "totals": total,
            "workers": workers,
            "kernel_queues": queues,
            "bans_active": self.bans.count(),
            "jails": self.logs.lock().ok().and_then(|l| l.as_ref().map(|l| l.status_json())),
            "eve_lost": self.shared.eve.lost(),
        })
    }
}

/// The alert-ban thread: batches what alerts ask for (one kernel batch
/// per burst, each nft call costing tens of milliseconds).
fn run_alert_bans(rx: Receiver<AlertBan>, bans: Arc<BanService>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        // Let a burst gather a little.
        std::thread::sleep(Duration::from_millis(5));
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 10_000 {
                break;
            }
        }
        bans.ban_alerts(&batch);
    }
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour codes only on a terminal, not in journald or log files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// `rampart config check -c FILE`: validates a config and its rules without
/// starting anything.
pub fn check(path: &std::path::Path) -> Result<ExitCode> {
    let cfg = Config::load(path)?;
    let built = build_engine(&cfg)?;
    logwatch::check_filters(&cfg.logs)?;
    outln!("{}: ok", path.display())?;
    outln!(
        "  rules      {} loaded, {} rejected, built in {:.2} s",
        built.loaded,
        built.rejected,
        built.seconds
    )?;
    match (&cfg.firewall.queue, &cfg.inline) {
        (Some(q), Some(_)) => outln!(
            "  inline     NFQUEUE {:?} on {}, {}",
            q.numbers,
            q.chain.as_str(),
            if q.fail_open {
                "fail-open"
            } else {
                "fail-closed"
            }
        )?,
        _ => outln!("  inline     off (no [firewall.queue])")?,
    }
    match &cfg.capture {
        Some((ifs, n)) => outln!(
            "  capture    {} ({n} workers per interface)",
            ifs.join(", ")
        )?,
        None => outln!("  capture    off")?,
    }
    outln!("  table      inet {}", cfg.firewall.table)?;
    outln!(
        "  bans       {} alert triggers, store {}",
        cfg.ban_on_alert.len(),
        cfg.state_dir.join("bans.db").display()
    )?;
    for j in &cfg.logs.jails {
        let src = match j.source {
            config::JailSource::Journal => "journal".to_string(),
            _ if j.logpath.is_empty() => "journal".to_string(),
            config::JailSource::Auto => format!(
                "{} (journal if absent)",
                j.logpath
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            config::JailSource::File => j
                .logpath
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        outln!("  jail       {}: filter {}, {src}", j.name, j.filter)?;
    }
    outln!("  control    {}", cfg.control_socket.display())?;
    match &cfg.outputs.eve {
        Some(p) => outln!("  eve        {}", p.display())?,
        None => outln!("  eve        off")?,
    }
    for w in cfg.firewall.warnings() {
        outln!("  warning    {w}")?;
    }
    for (i, b) in cfg.ban_on_alert.iter().enumerate() {
        if let config::BanSelector::Sid(sid) = b.selector {
            if !built.engine.signatures().iter().any(|s| s.sid == sid) {
                outln!("  warning    ban_on_alert[{i}].sid: no loaded rule has sid {sid}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    init_tracing(&cfg.log_level);
    let built = build_engine(&cfg)?;
    tracing::info!(
        "{} rules loaded, {} rejected, in {:.2} s",
        built.loaded,
        built.rejected,
        built.seconds
    );
    let firewall = firewall::prepare(cfg.firewall.clone())?;
    let bans = Arc::new(BanService::open(&cfg, &firewall)?);
    let hook = firewall::apply(&firewall)?;
    tracing::info!(
        "firewall table inet {} applied; queue hook: {}",
        firewall.table,
        hook.kind
    );
    bans.reconcile()?;

    let (eve, _eve_thread) = match &cfg.outputs.eve {
        Some(p) => {
            let (s, h) = eve_out::start(p, cfg.outputs.eve_max_bytes, cfg.outputs.eve_keep)?;
            (s, Some(h))
        }
        None => (EveSender::disabled(), None),
    };
    let (ban_tx, ban_rx) = sync_channel(65_536);
    let shared = Arc::new(Shared {
        engine: RwLock::new(built.engine.clone()),
        generation: AtomicU64::new(0),
        classes: RwLock::new(built.classes.clone()),
        triggers: RwLock::new(built.triggers.clone()),
        eve,
        bans: ban_tx,
        stop: AtomicBool::new(false),
        flow_records: cfg.outputs.flows,
    });
    {
        let bans = bans.clone();
        std::thread::Builder::new()
            .name("alert-bans".into())
            .spawn(move || run_alert_bans(ban_rx, bans))
            .context("starting the alert-ban thread")?;
    }

    let mut pipeline_cfg = PipelineConfig {
        midstream: cfg.midstream,
        ..PipelineConfig::default()
    };
    pipeline_cfg.stream_memcap_bytes = 64 * 1024 * 1024;
    // A closed connection's last data is inspected when its flow ends:
    // live, that should be seconds after the close, not a minute.
    pipeline_cfg.flow.timeouts.tcp_closed = 2;
    let mut workers = Vec::new();
    if let (Some(q), Some(inline)) = (&firewall.queue, &cfg.inline) {
        for &n in &q.numbers {
            let opts = QueueOptions {
                fail_open: q.fail_open,
                max_len: inline.queue_maxlen,
                gso: inline.gso,
                rcvbuf_bytes: inline.rcvbuf_bytes,
            };
            let queue = match InlineQueue::open(n, opts) {
                Ok(q) => {
                    tracing::info!(
                        "queue {n}: socket receive buffer {} bytes",
                        q.stats().rcvbuf_bytes
                    );
                    q
                }
                Err(e) => {
                    hook.remove();
                    return Err(e.into());
                }
            };
            let stats = Arc::new(WorkerStats::default());
            let mut pc = pipeline_cfg.clone();
            pc.inline = true;
            pc.flow.id_base = id_base(workers.len());
            let (s, st) = (shared.clone(), stats.clone());
            std::thread::Builder::new()
                .name(format!("nfq-{n}"))
                .spawn(move || worker::run_inline(queue, s, st, pc))
                .context("starting a queue worker")?;
            workers.push((format!("nfqueue-{n}"), stats));
        }
    }
    if let Some((ifaces, threads)) = &cfg.capture {
        use rampart_sys::afpacket::{AfPacket, Fanout, FanoutMode, RingConfig};
        for (i, iface) in ifaces.iter().enumerate() {
            // One fanout group per interface; ids only need to be unique
            // among this host's sockets.
            let group_id = (std::process::id() as u16).wrapping_add(i as u16);
            for t in 0..*threads {
                let ring_cfg = RingConfig {
                    promiscuous: true,
                    fanout: (*threads > 1).then_some(Fanout {
                        group_id,
                        mode: FanoutMode::Hash,
                    }),
                    ..RingConfig::default()
                };
                let ring = match AfPacket::open(iface, &ring_cfg) {
                    Ok(r) => r,
                    Err(e) => {
                        hook.remove();
                        return Err(e.into());
                    }
                };
                let stats = Arc::new(WorkerStats::default());
                let mut pc = pipeline_cfg.clone();
                pc.flow.id_base = id_base(workers.len());
                let (s, st) = (shared.clone(), stats.clone());
                std::thread::Builder::new()
                    .name(format!("cap-{iface}-{t}"))
                    .spawn(move || worker::run_capture(ring, s, st, pc))
                    .context("starting a capture worker")?;
                workers.push((format!("capture-{iface}-{t}"), stats));
            }
        }
    }
    let logs = if cfg.logs.jails.is_empty() {
        None
    } else {
        let lw = logwatch::start(&cfg.logs, &cfg.state_dir, bans.clone(), shared.eve.clone())?;
        tracing::info!("{} jails watching their logs", cfg.logs.jails.len());
        Some(lw)
    };
    if workers.is_empty() && logs.is_none() {
        tracing::warn!("no inline queue, capture interface or jail configured: only bans and the control API run");
    }

    let daemon = Arc::new(Daemon {
        config: Mutex::new(cfg.clone()),
        shared: shared.clone(),
        workers,
        bans: bans.clone(),
        started: Instant::now(),
        hook: Mutex::new(hook),
        rules_loaded: AtomicU64::new(built.loaded as u64),
        reloads: AtomicU64::new(0),
        reload_failures: AtomicU64::new(0),
        logs: Mutex::new(logs),
        bans_eve: (cfg.state_dir.clone(), shared.eve.clone()),
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the control runtime")?;
    let socket = cfg.control_socket.clone();
    let result = rt.block_on(control_loop(
        daemon.clone(),
        socket.clone(),
        cfg.outputs.stats_interval,
    ));
    shared.stop.store(true, Ordering::Relaxed);
    if let Ok(h) = daemon.hook.lock() {
        h.remove();
    }
    if let Ok(mut l) = daemon.logs.lock() {
        if let Some(lw) = l.as_mut() {
            lw.stop();
        }
    }
    shared.eve.send(&stats_record(&daemon));
    // The writer flushes within 200 ms of going idle.
    std::thread::sleep(Duration::from_millis(300));
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    result?;
    // Workers may sit in a blocking receive; the process exit ends them
    // (the kernel unbinds their queues when the sockets close).
    std::process::exit(0)
}

fn stats_record(d: &Daemon) -> Value {
    let now = rampart_packet::Timestamp::from_nanos(
        u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        )
        .unwrap_or(0),
    );
    json!({"timestamp": now.to_eve_string(), "event_type": "stats", "stats": d.status_json()})
}

async fn control_loop(daemon: Arc<Daemon>, socket: PathBuf, stats_every: u64) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let listener = control::bind(&socket)?;
    let mut api = {
        let d = daemon.clone();
        tokio::spawn(async move { control::serve(listener, d).await })
    };
    let mut stats = tokio::time::interval(Duration::from_secs(stats_every.max(1)));
    let mut expiry = tokio::time::interval(Duration::from_secs(10));
    let mut reconcile = tokio::time::interval(Duration::from_secs(300));
    stats.tick().await;
    expiry.tick().await;
    reconcile.tick().await;
    tracing::info!("ready: control API on {}", socket.display());
    loop {
        tokio::select! {
            r = &mut api => {
                return match r {
                    Ok(r) => r,
                    Err(e) => Err(anyhow::anyhow!("control API task: {e}")),
                };
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading");
                let d = daemon.clone();
                let _ = tokio::task::spawn_blocking(move || d.reload()).await;
            }
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break; }
            _ = stats.tick() => daemon.shared.eve.send(&stats_record(&daemon)),
            _ = expiry.tick() => {
                let d = daemon.clone();
                let _ = tokio::task::spawn_blocking(move || d.bans.expire()).await;
            }
            _ = reconcile.tick() => {
                let d = daemon.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = d.bans.reconcile() { tracing::warn!("{e:#}"); }
                }).await;
            }
        }
    }
    api.abort();
    Ok(())
}
