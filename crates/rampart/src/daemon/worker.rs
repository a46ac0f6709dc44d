//! Packet workers: one thread per NFQUEUE queue (inline, with verdicts) or
//! per AF_PACKET fanout member (IDS, alerts only). Each owns its pipeline
//! (flows, streams, thresholds), so nothing on the packet path is locked;
//! the only shared state is the engine pointer (swapped on reload) and
//! atomic counters.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rampart_detect::{Alert, DetectEngine, Signature};
use rampart_engine::pipeline::FlowData;
use rampart_engine::{AlertContext, PacketVerdict, Pipeline, PipelineConfig, PipelineSink};
use rampart_packet::{LinkType, Timestamp};
use rampart_policy::compile::REJECT_MARK;
use rampart_rules::{Action, Classifications};
use rampart_stream::flow::{EndReason, Flow};
use rampart_sys::nfqueue::{Decision, InlineQueue};
use serde::Serialize;

use super::config::{BanOnAlert, BanSelector, BanTarget};
use super::eve_out::EveSender;
use crate::output::eve;

/// A ban asked for by an alert, on its way to the ban service.
#[derive(Debug, Clone)]
pub struct AlertBan {
    /// Whom to ban.
    pub addr: IpAddr,
    /// Base duration (None: the firewall's default).
    pub duration: Option<u64>,
    /// Why: the rule's sid and message.
    pub reason: String,
    /// Which rule (`rule:SID`).
    pub origin: String,
}

/// The ban triggers, indexed for a lookup per alert.
#[derive(Debug, Default)]
pub struct BanTriggers {
    by_sid: HashMap<u32, BanOnAlert>,
    by_class: HashMap<String, BanOnAlert>,
    by_action: HashMap<String, BanOnAlert>,
}

impl BanTriggers {
    /// Indexes the config's `[[ban_on_alert]]` entries (the first entry
    /// for a key wins).
    pub fn new(list: &[BanOnAlert]) -> BanTriggers {
        let mut t = BanTriggers::default();
        for b in list {
            match &b.selector {
                BanSelector::Sid(s) => t.by_sid.entry(*s).or_insert_with(|| b.clone()),
                BanSelector::Classtype(c) => {
                    t.by_class.entry(c.clone()).or_insert_with(|| b.clone())
                }
                BanSelector::Action(a) => t.by_action.entry(a.clone()).or_insert_with(|| b.clone()),
            };
        }
        t
    }

    /// The trigger an alert of `sig` fires, most specific first.
    pub fn lookup(&self, sig: &Signature) -> Option<&BanOnAlert> {
        if self.by_sid.is_empty() && self.by_class.is_empty() && self.by_action.is_empty() {
            return None;
        }
        let action = match sig.action {
            Action::Drop => "drop",
            Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth => "reject",
            Action::Alert => "alert",
            Action::Pass => "pass",
        };
        self.by_sid
            .get(&sig.sid)
            .or_else(|| sig.classtype.as_deref().and_then(|c| self.by_class.get(c)))
            .or_else(|| self.by_action.get(action))
    }
}

/// What every worker shares: the current engine and its reload
/// generation, the alert outputs and ban triggers, and the stop flag.
pub struct Shared {
    /// The engine workers inspect with; replaced whole on reload.
    pub engine: RwLock<Arc<DetectEngine>>,
    /// Bumped after each replacement; workers compare it per packet
    /// (one relaxed load) and fetch the new engine when it moved.
    pub generation: AtomicU64,
    /// Classification table for alert categories.
    pub classes: RwLock<Arc<Classifications>>,
    /// Ban triggers.
    pub triggers: RwLock<Arc<BanTriggers>>,
    /// EVE output.
    pub eve: EveSender,
    /// Bans requested by alerts.
    pub bans: SyncSender<AlertBan>,
    /// Set on shutdown.
    pub stop: AtomicBool,
    /// Write flow records.
    pub flow_records: bool,
}

impl Shared {
    /// Installs a new engine (and its tables) for every worker and returns
    /// the old one: the caller drops it off the packet path (freeing a
    /// large engine takes long enough to back up a queue).
    pub fn swap(
        &self,
        engine: Arc<DetectEngine>,
        classes: Arc<Classifications>,
        triggers: Arc<BanTriggers>,
    ) -> Option<Arc<DetectEngine>> {
        let old = match self.engine.write() {
            Ok(mut e) => Some(std::mem::replace(&mut *e, engine)),
            Err(_) => None,
        };
        if let Ok(mut c) = self.classes.write() {
            *c = classes;
        }
        if let Ok(mut t) = self.triggers.write() {
            *t = triggers;
        }
        self.generation.fetch_add(1, Ordering::Release);
        old
    }

    fn snapshot(&self) -> (Arc<DetectEngine>, Arc<Classifications>, Arc<BanTriggers>) {
        let e = self.engine.read().map(|e| e.clone());
        let c = self.classes.read().map(|c| c.clone());
        let t = self.triggers.read().map(|t| t.clone());
        match (e, c, t) {
            (Ok(e), Ok(c), Ok(t)) => (e, c, t),
            // A poisoned lock means a writer panicked mid-swap; the values
            // are still whole Arcs, so take them anyway.
            (e, c, t) => (
                e.unwrap_or_else(|p| p.into_inner().clone()),
                c.unwrap_or_else(|p| p.into_inner().clone()),
                t.unwrap_or_else(|p| p.into_inner().clone()),
            ),
        }
    }
}

/// Counters of one worker, read by the stats timer and the control API.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Packets received.
    pub packets: AtomicU64,
    /// Bytes received.
    pub bytes: AtomicU64,
    /// Packets accepted (inline).
    pub accepted: AtomicU64,
    /// Packets dropped (inline).
    pub dropped: AtomicU64,
    /// Packets rejected (inline).
    pub rejected: AtomicU64,
    /// Alerts raised.
    pub alerts: AtomicU64,
    /// Errors receiving or answering.
    pub errors: AtomicU64,
    /// Engine reloads picked up.
    pub reloads: AtomicU64,
    /// Inline: times the queue's socket buffer overflowed (`ENOBUFS`).
    pub enobufs: AtomicU64,
    /// Inline: packets the kernel could not put on the queue's socket
    /// (bypassed when failing open, dropped otherwise), never inspected.
    pub socket_drops: AtomicU64,
}

/// A snapshot of [`WorkerStats`] for JSON.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct WorkerCounts {
    /// Packets received.
    pub packets: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Accepted.
    pub accepted: u64,
    /// Dropped.
    pub dropped: u64,
    /// Rejected.
    pub rejected: u64,
    /// Alerts.
    pub alerts: u64,
    /// Errors.
    pub errors: u64,
    /// Reloads picked up.
    pub reloads: u64,
    /// Queue socket overflows reported.
    pub enobufs: u64,
    /// Packets lost to queue socket overflows.
    pub socket_drops: u64,
}

impl WorkerStats {
    /// Reads every counter.
    pub fn counts(&self) -> WorkerCounts {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        WorkerCounts {
            packets: l(&self.packets),
            bytes: l(&self.bytes),
            accepted: l(&self.accepted),
            dropped: l(&self.dropped),
            rejected: l(&self.rejected),
            alerts: l(&self.alerts),
            errors: l(&self.errors),
            reloads: l(&self.reloads),
            enobufs: l(&self.enobufs),
            socket_drops: l(&self.socket_drops),
        }
    }
}

/// The pipeline sink of a daemon worker: EVE alerts and flows, bans.
struct DaemonSink<'a> {
    shared: &'a Shared,
    classes: &'a Classifications,
    triggers: &'a BanTriggers,
    stats: &'a WorkerStats,
    inline: bool,
    packets: u64,
}

impl PipelineSink for DaemonSink<'_> {
    fn on_alert(&mut self, ts: Timestamp, a: &Alert, sig: &Signature, ctx: &AlertContext<'_>) {
        self.stats.alerts.fetch_add(1, Ordering::Relaxed);
        let blocks = self.inline && PacketVerdict::of_action(sig.action) != PacketVerdict::Accept;
        let action = if blocks { "blocked" } else { "allowed" };
        self.shared.eve.send(&eve::alert_json(
            ts,
            a,
            sig,
            self.classes,
            action,
            self.packets,
            ctx,
        ));
        if let Some(t) = self.triggers.lookup(sig) {
            let addr = match t.target {
                BanTarget::Src => a.src,
                BanTarget::Dst => a.dst,
            };
            // Never block a worker on the ban service: a full channel
            // means it is far behind, and the alert is still logged.
            let _ = self.shared.bans.try_send(AlertBan {
                addr,
                duration: t.duration,
                reason: format!("sid {}: {}", sig.sid, sig.msg),
                origin: format!("rule:{}", sig.sid),
            });
        }
    }

    fn on_flow_end(&mut self, flow: &Flow<FlowData>, reason: EndReason) {
        if self.shared.flow_records {
            self.shared.eve.send(&eve::flow_record(flow, reason));
        }
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A worker's pipeline and the engine generation it runs.
pub struct WorkerPipeline {
    pipeline: Pipeline,
    generation: u64,
    classes: Arc<Classifications>,
    triggers: Arc<BanTriggers>,
}

impl WorkerPipeline {
    /// A pipeline with the current engine.
    pub fn new(shared: &Shared, mut config: PipelineConfig) -> WorkerPipeline {
        let generation = shared.generation.load(Ordering::Acquire);
        let (engine, classes, triggers) = shared.snapshot();
        config.detect = Some(engine);
        WorkerPipeline {
            pipeline: Pipeline::new(config),
            generation,
            classes,
            triggers,
        }
    }

    /// Advances the pipeline's clock to now without a packet, so that quiet
    /// flows end (and their last stream data is inspected) on time.
    pub fn tick(&mut self, shared: &Shared, stats: &WorkerStats) {
        let mut sink = DaemonSink {
            shared,
            classes: &self.classes,
            triggers: &self.triggers,
            stats,
            inline: false,
            packets: stats.packets.load(Ordering::Relaxed),
        };
        self.pipeline
            .tick(Timestamp::from_nanos(now_ns()), &mut sink);
    }

    /// Runs one packet through the pipeline (picking up a reloaded engine
    /// first) and returns its verdict.
    pub fn process(
        &mut self,
        shared: &Shared,
        stats: &WorkerStats,
        inline: bool,
        ts_ns: Option<u64>,
        linktype: LinkType,
        data: &[u8],
    ) -> PacketVerdict {
        let g = shared.generation.load(Ordering::Acquire);
        if g != self.generation {
            let (engine, classes, triggers) = shared.snapshot();
            self.pipeline.set_engine(engine);
            self.classes = classes;
            self.triggers = triggers;
            self.generation = g;
            stats.reloads.fetch_add(1, Ordering::Relaxed);
        }
        let packets = stats.packets.fetch_add(1, Ordering::Relaxed) + 1;
        stats.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        let mut sink = DaemonSink {
            shared,
            classes: &self.classes,
            triggers: &self.triggers,
            stats,
            inline,
            packets,
        };
        let ts = Timestamp::from_nanos(ts_ns.unwrap_or_else(now_ns));
        self.pipeline.process(ts, linktype, data, &mut sink);
        self.pipeline.verdict()
    }
}

/// Runs one live-capture (IDS) worker until shutdown: alerts only.
pub fn run_capture(
    mut ring: rampart_sys::afpacket::AfPacket,
    shared: Arc<Shared>,
    stats: Arc<WorkerStats>,
    config: PipelineConfig,
) {
    let mut wp = WorkerPipeline::new(&shared, config);
    let timeout = std::time::Duration::from_millis(200);
    while !shared.stop.load(Ordering::Relaxed) {
        let res = ring.for_each_packet(timeout, |ts, frame, _len| {
            wp.process(&shared, &stats, false, Some(ts), LinkType::Ethernet, frame);
        });
        if let Err(e) = res {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("{e}");
            std::thread::sleep(timeout);
        }
        wp.tick(&shared, &stats);
    }
}

/// Runs one inline worker until shutdown: receive, inspect, answer.
pub fn run_inline(
    mut queue: InlineQueue,
    shared: Arc<Shared>,
    stats: Arc<WorkerStats>,
    config: PipelineConfig,
) {
    let mut wp = WorkerPipeline::new(&shared, config);
    let n = queue.number();
    // Overflow warnings: at most one per 10 s.
    let mut enobufs_logged: (u64, Option<std::time::Instant>) = (0, None);
    while !shared.stop.load(Ordering::Relaxed) {
        let received = queue.recv();
        let qs = queue.stats();
        stats.enobufs.store(qs.enobufs, Ordering::Relaxed);
        stats.socket_drops.store(qs.socket_drops, Ordering::Relaxed);
        if qs.enobufs != enobufs_logged.0
            && enobufs_logged.1.is_none_or(|t| t.elapsed().as_secs() >= 10)
        {
            tracing::warn!(
                "queue {n}: the netlink socket buffer overflowed ({} times, {} packets never inspected so far): the worker is behind",
                qs.enobufs,
                qs.socket_drops
            );
            enobufs_logged = (qs.enobufs, Some(std::time::Instant::now()));
        }
        let pkt = match received {
            Ok(p) => p,
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("{e}");
                continue;
            }
        };
        let verdict = wp.process(
            &shared,
            &stats,
            true,
            pkt.timestamp_ns(),
            LinkType::Raw,
            pkt.data(),
        );
        let decision = match verdict {
            PacketVerdict::Accept => {
                stats.accepted.fetch_add(1, Ordering::Relaxed);
                Decision::Accept
            }
            PacketVerdict::Drop => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                Decision::Drop
            }
            PacketVerdict::Reject => {
                stats.rejected.fetch_add(1, Ordering::Relaxed);
                Decision::AcceptMarked(REJECT_MARK)
            }
        };
        if let Err(e) = queue.verdict(pkt, decision) {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("queue {n}: {e}");
        }
    }
}
