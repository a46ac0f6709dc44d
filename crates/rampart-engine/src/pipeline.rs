//! Decode → defragment → flow → reassemble, for one worker.

use rampart_packet::decode::{IpHeader, Transport};
use rampart_packet::{decode, decode_ip, LinkType, Packet, Timestamp};
use rampart_stream::flow::{
    Direction, EndReason, Flow, FlowConfig, FlowKey, FlowTable, PacketInfo,
};
use rampart_stream::{
    DefragAnomaly, DefragConfig, DefragResult, Defragmenter, FragKey, Fragment, MemoryBudget,
    ReassemblyConfig, StreamEvent, TcpReassembler, TcpSegment,
};

use std::sync::Arc;

use rampart_detect::{
    Alert, AlertSource, DetectEngine, DetectStats, FlowVars, FlowView, Signature, ThresholdTable,
};
use rampart_stream::flow::{FlowState, TcpState};

use crate::app_layer::{AppState, AppTxView, FrameWants, QueuedFrame, ReadyTx};
use crate::raw_stream::{ready_stream_bytes, RawStreamState};
use crate::stats::PipelineStats;

/// Stream data held per direction before it is inspected regardless of
/// acknowledgements (a one-sided capture never acknowledges anything): a
/// memory bound; normally data is inspected as `raw_stream` decides.
const MAX_PENDING_STREAM: usize = 64 * 1024;

/// Threshold trackers kept per worker.
const MAX_THRESHOLD_TRACKERS: usize = 65_536;

/// How often (in capture time) idle flows and fragment trackers are swept.
const EXPIRE_INTERVAL_NS: u64 = 1_000_000_000;

/// Configuration of every stage of the pipeline.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Flow table limits and timeouts.
    pub flow: FlowConfig,
    /// IP defragmentation limits and overlap policy.
    pub defrag: DefragConfig,
    /// Per-stream TCP reassembly limits and overlap policy.
    pub reassembly: ReassemblyConfig,
    /// Memory all TCP streams of this worker may hold together (bytes).
    pub stream_memcap_bytes: usize,
    /// Whether TCP streams are reassembled at all (off saves memory and time
    /// when only flow records or header rules are wanted).
    pub reassemble: bool,
    /// The rule engine, when detection is wanted.
    pub detect: Option<Arc<DetectEngine>>,
    /// Whether TCP connections picked up midstream (no SYN seen) count as
    /// established streams for detection. Off, as in Suricata by default:
    /// their packets are inspected one by one and `flow:established` does
    /// not hold, so a capture that starts mid-connection cannot fake state.
    pub midstream: bool,
    /// Inline (IPS) timing: reassembled stream data is inspected on the
    /// packet that carries it, before that packet is let through, instead
    /// of once the peer acknowledged it (which is too late to drop it).
    /// Like Suricata's inline stream mode, minus its overlap window: a
    /// pattern split across two segments is seen by application-layer
    /// rules (parsed transactions) but not by raw stream content.
    pub inline: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            flow: FlowConfig::default(),
            defrag: DefragConfig::default(),
            reassembly: ReassemblyConfig::default(),
            stream_memcap_bytes: 256 * 1024 * 1024,
            reassemble: true,
            detect: None,
            midstream: false,
            inline: false,
        }
    }
}

/// Per-flow state the pipeline keeps.
#[derive(Debug, Default)]
pub struct FlowData {
    /// Both directions of a TCP connection, created on its first segment.
    pub tcp: Option<Box<TcpReassembler>>,
    /// Rule state of the flow, boxed: each packet moves it out of the
    /// flow table and back, and a pointer moves cheaper than the state
    /// (created with the flow's first inspected packet).
    pub detect: Option<Box<FlowDetectState>>,
}

/// Rule state of one flow: flowbits/flowints and stream data awaiting
/// inspection.
#[derive(Debug, Default)]
pub struct FlowDetectState {
    /// Flowbits and flowints.
    pub vars: FlowVars,
    /// Reassembled data per direction (index by [`Direction::index`]) not
    /// yet inspected.
    pub pending: [Vec<u8>; 2],
    /// When that data becomes ready for inspection.
    pub raw: RawStreamState,
    /// Application-layer protocol and parser state.
    pub app: AppState,
    /// The engine generation `vars` belong to: flowbit and flowint ids are
    /// numbered per engine, so after a reload the old ones mean nothing.
    pub engine_gen: u64,
    /// Set once a drop or reject rule matched on this flow: every later
    /// packet of the flow gets the same verdict (Suricata's flow drop).
    pub verdict: PacketVerdict,
}

/// What an inline deployment should do with the packet just processed,
/// from the actions of the rules that matched it (or earlier packets of its
/// flow). Ordered: a stronger verdict wins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum PacketVerdict {
    /// Let it through.
    #[default]
    Accept,
    /// Discard it silently.
    Drop,
    /// Discard it and tell the sender (TCP reset or ICMP unreachable).
    Reject,
}

impl PacketVerdict {
    /// The verdict a matching rule action asks for.
    pub fn of_action(a: rampart_rules::Action) -> PacketVerdict {
        use rampart_rules::Action;
        match a {
            Action::Drop => PacketVerdict::Drop,
            Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth => {
                PacketVerdict::Reject
            }
            Action::Alert | Action::Pass => PacketVerdict::Accept,
        }
    }
}

/// The detection side of a worker: the shared engine and this worker's
/// thresholds and counters.
#[derive(Debug)]
struct Detection {
    engine: Arc<DetectEngine>,
    thresholds: ThresholdTable,
    stats: DetectStats,
    alerts: Vec<Alert>,
    /// Strongest action of the rules that matched the current packet.
    verdict: PacketVerdict,
    /// Bumped on every engine swap (see [`FlowDetectState::engine_gen`]).
    generation: u64,
    /// Inline (IPS) deployment: application-layer data is parsed and
    /// inspected as it arrives, not once acknowledged.
    inline: bool,
    /// FTP data connections announced on control connections.
    expectations: crate::expect::Expectations,
    /// The protocols whose frames the engine's rules inspect.
    frames: FrameWants,
}

/// Reassembled TCP data handed to consumers.
#[derive(Debug, Clone, Copy)]
pub struct StreamSegment<'a> {
    /// Which way the data flows.
    pub direction: Direction,
    /// Offset of `data` from the start of this direction's stream.
    pub offset: u64,
    /// The bytes, in order.
    pub data: &'a [u8],
}

/// Receives what the pipeline produces. Every method has an empty default so
/// a consumer implements only what it needs.
pub trait PipelineSink {
    /// A decoded packet, with its flow when it belongs to one. Fragments are
    /// passed as they arrive (without a flow); a datagram they complete is
    /// passed again, rebuilt, with its flow.
    fn on_packet(
        &mut self,
        _ts: Timestamp,
        _pkt: &Packet<'_>,
        _flow: Option<(&Flow<FlowData>, Direction)>,
    ) {
    }

    /// In-order TCP stream data of a flow.
    fn on_stream_data(&mut self, _flow: &Flow<FlowData>, _segment: StreamSegment<'_>) {}

    /// A hole in a TCP stream that was given up on: `len` bytes at `offset`
    /// were never seen.
    fn on_stream_gap(
        &mut self,
        _flow: &Flow<FlowData>,
        _direction: Direction,
        _offset: u64,
        _len: u64,
    ) {
    }

    /// A flow leaves the table (timeout, eviction, port reuse or end of
    /// input), after its streams were flushed.
    fn on_flow_end(&mut self, _flow: &Flow<FlowData>, _reason: EndReason) {}

    /// A rule alerted; `ctx` says what the alert is about beyond its packet
    /// (flow, application protocol, transaction).
    fn on_alert(
        &mut self,
        _ts: Timestamp,
        _alert: &Alert,
        _sig: &Signature,
        _ctx: &AlertContext<'_>,
    ) {
    }

    /// One side of an application-layer transaction was parsed and
    /// inspected (for transaction logs such as EVE `dns` records). Called
    /// only when detection runs.
    fn on_app_tx(
        &mut self,
        _ts: Timestamp,
        _flow: &Flow<FlowData>,
        _tx: &AppTxView<'_>,
        _side: rampart_detect::TxSide,
    ) {
    }

    /// A transaction that never completed, when its flow ended or its
    /// parser dropped it for holding too many (for transaction logs, which
    /// record it anyway). Called only when detection runs.
    fn on_app_tx_unfinished(
        &mut self,
        _ts: Timestamp,
        _flow: &Flow<FlowData>,
        _tx: &AppTxView<'_>,
    ) {
    }
}

/// What an alert is about beyond its packet, for logs that describe it
/// the way Suricata's EVE alerts do (`flow`, `app_proto`, `tx_id` and the
/// transaction's object).
#[derive(Clone, Copy, Default)]
pub struct AlertContext<'a> {
    /// The flow of the packet or data, when there is one (its counters
    /// include the packet being processed).
    pub flow: Option<&'a Flow<FlowData>>,
    /// The flow's application protocol as EVE names it (`http`, `dns`,
    /// `failed`, ...), once detection decided.
    pub app_proto: Option<&'static str>,
    /// The transaction side an application-layer rule matched in.
    pub tx: Option<&'a AppTxView<'a>>,
    /// The frame a frame rule matched in.
    pub frame: Option<&'a QueuedFrame>,
}

/// One worker's packet path state.
pub struct Pipeline {
    config: PipelineConfig,
    flows: FlowTable<FlowData>,
    defrag: Defragmenter,
    budget: MemoryBudget,
    stats: PipelineStats,
    detection: Option<Detection>,
    last_expire_ns: u64,
    now_ns: u64,
}

impl Pipeline {
    /// Creates a pipeline with the given limits.
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            flows: FlowTable::new(config.flow.clone()),
            defrag: Defragmenter::new(config.defrag),
            budget: MemoryBudget::new(config.stream_memcap_bytes),
            stats: PipelineStats::default(),
            detection: config.detect.clone().map(|engine| Detection {
                frames: FrameWants::of(&engine),
                engine,
                thresholds: ThresholdTable::new(MAX_THRESHOLD_TRACKERS),
                stats: DetectStats::default(),
                alerts: Vec::new(),
                verdict: PacketVerdict::Accept,
                generation: 0,
                inline: config.inline,
                expectations: Default::default(),
            }),
            last_expire_ns: 0,
            now_ns: 0,
            config,
        }
    }

    /// Counters so far (reassembly counters cover flows that have ended).
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    /// The flow table (for its counters and for reports).
    pub fn flows(&self) -> &FlowTable<FlowData> {
        &self.flows
    }

    /// The defragmenter (for its counters).
    pub fn defrag(&self) -> &Defragmenter {
        &self.defrag
    }

    /// Detection counters (zero when no engine is configured).
    pub fn detect_stats(&self) -> DetectStats {
        self.detection.as_ref().map(|d| d.stats).unwrap_or_default()
    }

    /// Alerts held back by thresholds and detection filters.
    pub fn alerts_suppressed(&self) -> u64 {
        self.detection
            .as_ref()
            .map(|d| d.thresholds.stats().suppressed)
            .unwrap_or(0)
    }

    /// The stream memory budget (for its peak and refusals).
    pub fn stream_budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Replaces the rule engine (a hot reload): later packets are inspected
    /// with `engine`. Threshold trackers start afresh, and each flow's
    /// flowbits and flowints are cleared on its next packet because their
    /// ids are numbered per engine; stream and application-layer state is
    /// kept, so no connection is lost.
    pub fn set_engine(&mut self, engine: Arc<DetectEngine>) {
        self.config.detect = Some(engine.clone());
        match self.detection.as_mut() {
            Some(det) => {
                det.frames = FrameWants::of(&engine);
                det.engine = engine;
                det.thresholds = ThresholdTable::new(MAX_THRESHOLD_TRACKERS);
                det.generation += 1;
            }
            None => {
                self.detection = Some(Detection {
                    frames: FrameWants::of(&engine),
                    engine,
                    thresholds: ThresholdTable::new(MAX_THRESHOLD_TRACKERS),
                    stats: DetectStats::default(),
                    alerts: Vec::new(),
                    verdict: PacketVerdict::Accept,
                    generation: 1,
                    inline: self.config.inline,
                    expectations: Default::default(),
                })
            }
        }
    }

    /// The verdict for the packet last given to [`Pipeline::process`]:
    /// the strongest action among the drop and reject rules that matched
    /// it or, earlier, its flow. Always `Accept` without detection.
    pub fn verdict(&self) -> PacketVerdict {
        self.detection
            .as_ref()
            .map(|d| d.verdict)
            .unwrap_or_default()
    }

    /// Processes one captured frame.
    pub fn process(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        frame: &[u8],
        sink: &mut impl PipelineSink,
    ) {
        if let Some(det) = self.detection.as_mut() {
            det.verdict = PacketVerdict::Accept;
        }
        let pkt = decode(linktype, frame);
        self.stats.protocols.account(&pkt);
        for e in pkt.events.iter() {
            self.stats.decoder_events.bump(e);
        }
        self.advance_time(ts, sink);
        let mut events: Vec<&'static str> = pkt.events.iter().map(|e| e.name()).collect();
        match &pkt.ip {
            Some(ip) if ip.fragment.is_some() => {
                sink.on_packet(ts, &pkt, None);
                let result = self.defragment(ts, ip, pkt.vlan_id());
                let v6 = !ip.is_v4();
                events.extend(
                    result
                        .anomalies
                        .iter()
                        .filter_map(|a| anomaly_event(v6, *a)),
                );
                // Each fragment is inspected on its own (header and
                // decoder-event rules), without a flow.
                if let Some(det) = self.detection.as_mut() {
                    det.engine.inspect_packet(
                        &pkt,
                        &events,
                        ts.as_nanos(),
                        None,
                        false,
                        None,
                        None,
                        &mut det.thresholds,
                        &mut det.stats,
                        &mut det.alerts,
                    );
                    emit_alerts(det, ts, sink, &AlertContext::default());
                }
                if let Some(datagram) = result.reassembled {
                    let rebuilt = decode_ip(&datagram);
                    self.stats.reassembled_datagrams += 1;
                    for e in rebuilt.events.iter() {
                        self.stats.decoder_events.bump(e);
                    }
                    let rebuilt_events: Vec<&'static str> =
                        rebuilt.events.iter().map(|e| e.name()).collect();
                    self.handle_whole(ts, &rebuilt, pkt.vlan_id(), &rebuilt_events, sink);
                }
            }
            _ => self.handle_whole(ts, &pkt, pkt.vlan_id(), &events, sink),
        }
    }

    fn defragment(&mut self, ts: Timestamp, ip: &IpHeader<'_>, vlan: u16) -> DefragResult {
        let Some(frag) = ip.fragment else {
            return DefragResult::default();
        };
        let v6 = !ip.is_v4();
        let header_len = if v6 {
            ip.unfragmentable_len
        } else {
            ip.header_len
        };
        let fragment = Fragment {
            key: FragKey {
                src: ip.src,
                dst: ip.dst,
                id: frag.id,
                // RFC 8200 identifies an IPv6 datagram by addresses and id only.
                protocol: if v6 { 0 } else { ip.protocol },
                vlan,
            },
            offset: frag.offset,
            more: frag.more,
            data: ip.payload,
            header: ip.packet.get(..header_len).unwrap_or(ip.packet),
            ipv6_next_header: v6.then_some(ip.protocol),
        };
        self.defrag.push(ts.as_nanos(), fragment)
    }

    /// Processes a whole (unfragmented or rebuilt) packet.
    fn handle_whole(
        &mut self,
        ts: Timestamp,
        pkt: &Packet<'_>,
        vlan: u16,
        events: &[&str],
        sink: &mut impl PipelineSink,
    ) {
        let Some(ip) = &pkt.ip else {
            sink.on_packet(ts, pkt, None);
            return;
        };
        let tcp = match &pkt.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        };
        let (src_port, dst_port) = pkt.ports().unwrap_or((0, 0));
        let key = FlowKey {
            src: ip.src,
            dst: ip.dst,
            src_port,
            dst_port,
            proto: ip.protocol,
            vlan,
        };
        let key = quoted_flow_key(pkt, vlan)
            .and_then(|quoted| self.flows.get_mut(&quoted).map(|f| (quoted, f.key)))
            .filter(|(quoted, client)| {
                client.src == quoted.src && client.src_port == quoted.src_port
            })
            .map_or(key, |(_, client)| {
                if ip.src == client.src {
                    client
                } else {
                    client.reversed()
                }
            });
        let info = PacketInfo {
            ts_ns: ts.as_nanos(),
            len: pkt.data.len() as u64,
            tcp_flags: tcp.map(|t| t.flags as u8),
            tcp_seq: tcp.map(|t| t.seq).unwrap_or(0),
            tcp_ack: tcp.map(|t| t.ack).unwrap_or(0),
        };
        let Pipeline {
            flows,
            budget,
            stats,
            config,
            detection,
            ..
        } = self;
        let update = flows.update(&key, info, FlowData::default, |mut f, r| {
            end_flow(&mut f, r, budget, stats, detection, sink);
        });
        let dir = update.direction;
        let flow = update.flow;
        sink.on_packet(ts, pkt, Some((flow, dir)));
        let reassembling = tcp.is_some() && config.reassemble;
        let mut state = flow.user.detect.take().unwrap_or_default();
        if let Some(det) = detection.as_mut() {
            if state.engine_gen != det.generation {
                state.vars = FlowVars::default();
                state.engine_gen = det.generation;
            }
            det.verdict = det.verdict.max(state.verdict);
        }
        // A connection picked up midstream is inspected packet by packet.
        let packet_mode = tcp.is_some() && flow.midstream && !config.midstream;
        state.raw.packet_mode = packet_mode;
        if let (Some(t), true) = (tcp, reassembling) {
            use rampart_packet::decode::tcp_flags::{ACK, FIN, RST, SYN};
            // A SYN-ACK acknowledging data sent with the SYN (TCP Fast
            // Open) does not count: Suricata hands that data on only with
            // a later packet of the established connection.
            if t.has(ACK) && !t.has(SYN) {
                state.raw.note_ack(dir.opposite(), t.ack);
            }
            state.raw.session = state
                .raw
                .session
                .next(dir, t.has(FIN), t.has(ACK), t.has(RST));
            let mut streams = flow
                .user
                .tcp
                .take()
                .unwrap_or_else(|| Box::new(TcpReassembler::new(config.reassembly)));
            let stream = match dir {
                Direction::ToServer => &mut streams.to_server,
                Direction::ToClient => &mut streams.to_client,
            };
            let rst = t.has(RST);
            // Until the server answers the SYN at all, the client's data
            // is not part of a stream: the connection may never exist
            // (Suricata does not reassemble it either; packet rules still
            // see it).
            let unanswered = matches!(flow.tcp_state, TcpState::SynSent)
                && !t.has(SYN)
                && flow.packets.get(Direction::ToClient.index()) == Some(&0);
            let seg = TcpSegment {
                seq: t.seq,
                syn: t.has(SYN),
                fin: t.has(FIN),
                // Data on a RST is not part of the stream: the receiver
                // discards the connection (Suricata does not reassemble it
                // either); packet rules still see it.
                data: if rst { &[] } else { t.payload },
            };
            let mut det = detection.as_mut();
            if !unanswered {
                stream.push(budget, seg, |ev| {
                    deliver(flow, dir, ev, &mut state, det.as_deref_mut(), ts, sink)
                });
            }
            if rst {
                for (s, d) in [
                    (&mut streams.to_server, Direction::ToServer),
                    (&mut streams.to_client, Direction::ToClient),
                ] {
                    s.flush(budget, |ev| {
                        deliver(flow, d, ev, &mut state, det.as_deref_mut(), ts, sink)
                    });
                }
            }
            flow.user.tcp = Some(streams);
        }
        // Datagram protocols (DNS) are parsed per packet, and their
        // transactions inspected before the packet itself, as in Suricata.
        // A datagram whose UDP length disagrees with the IP payload is
        // invalid to Suricata, which gives it no flow and no app layer.
        let udp_valid = !pkt
            .events
            .contains(rampart_packet::DecoderEvent::UdpLenInvalid);
        if let (Some(det), Some(Transport::Udp(u)), true) =
            (detection.as_mut(), &pkt.transport, udp_valid)
        {
            let mut ready = Vec::new();
            let ports = (flow.key.src_port, flow.key.dst_port);
            state.app.frames = det.frames;
            state.app.feed_datagram(dir, u.payload, ports, &mut ready);
            // A datagram's frames are inspected with it.
            let frames = state.app.take_frames([u64::MAX; 2], None);
            inspect_frames(det, &mut state, flow, frames, (ts, AlertSource::Wire), sink);
            inspect_transactions(
                det,
                &mut state,
                flow,
                &ready,
                Some(u.payload),
                (ts, AlertSource::Wire),
                sink,
            );
        }
        // Transaction sides (SSH stages; DCERPC, SMB, HTTP and SMTP
        // transactions) whose data the peer acknowledged are inspected
        // with a packet travelling their way, as in Suricata's IDS mode.
        let acked = acked_offsets(flow, &state);
        // Frames whose data the peer acknowledged, with a packet travelling
        // their way (as transaction sides).
        if let (Some(det), true) = (detection.as_mut(), state.app.frames_pending()) {
            let frames = state.app.take_frames(acked, Some(dir));
            inspect_frames(det, &mut state, flow, frames, (ts, AlertSource::Wire), sink);
        }
        if let (Some(det), true) = (detection.as_mut(), state.app.acks_pending()) {
            let mut ready = Vec::new();
            state.app.release_acked(acked, Some(dir), &mut ready);
            inspect_transactions(
                det,
                &mut state,
                flow,
                &ready,
                None,
                (ts, AlertSource::Wire),
                sink,
            );
        }
        if let Some(det) = detection.as_mut() {
            let mut view = flow_view(flow, dir);
            // Suricata (IDS) parses a direction's data once the peer
            // acknowledged it: packets see the protocol from then on.
            let acked = (!config.inline).then_some(acked);
            view.app_proto = state.app.acked_tx_proto(acked);
            view.app_detect = state.app.take_detect_for_packet(dir, acked);
            if packet_mode {
                view.established = false;
            }
            let stream_active = reassembling && !packet_mode;
            // Reassembled data of this packet's direction that is ready:
            // acknowledged by the peer, and either a whole chunk or the
            // connection is closing (Suricata's raw stream inspection).
            let ready = if stream_active && view.established {
                if config.inline {
                    state.pending.get(dir.index()).map_or(0, Vec::len)
                } else {
                    ready_stream_bytes(flow, dir, &state)
                }
            } else {
                0
            };
            let pending = state
                .pending
                .get(dir.index())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let chunk = pending.get(..ready).filter(|c| !c.is_empty());
            det.engine.inspect_packet(
                pkt,
                events,
                ts.as_nanos(),
                Some(view),
                stream_active,
                chunk,
                Some(&mut state.vars),
                &mut det.thresholds,
                &mut det.stats,
                &mut det.alerts,
            );
            if ready > 0 {
                if let Some(p) = state.pending.get_mut(dir.index()) {
                    p.drain(..ready.min(p.len()));
                }
            }
            let ctx = AlertContext {
                flow: Some(flow),
                app_proto: state.app.eve_proto(),
                tx: None,
                frame: None,
            };
            emit_alerts(det, ts, sink, &ctx);
            state.verdict = state.verdict.max(det.verdict);
        }
        flow.user.detect = Some(state);
    }

    /// Moves the clock without a packet (a live capture that went quiet),
    /// so that idle and closed flows still end on time and their last
    /// stream data is inspected.
    pub fn tick(&mut self, now: Timestamp, sink: &mut impl PipelineSink) {
        self.advance_time(now, sink);
    }

    /// Moves the pipeline's clock and sweeps idle flows and fragment
    /// trackers once per interval of capture time.
    fn advance_time(&mut self, ts: Timestamp, sink: &mut impl PipelineSink) {
        let now = ts.as_nanos();
        if now > self.now_ns {
            self.now_ns = now;
        }
        if self.now_ns.saturating_sub(self.last_expire_ns) >= EXPIRE_INTERVAL_NS {
            self.last_expire_ns = self.now_ns;
            let Pipeline {
                flows,
                budget,
                stats,
                defrag,
                now_ns,
                detection,
                ..
            } = self;
            flows.expire(*now_ns, |mut f, r| {
                end_flow(&mut f, r, budget, stats, detection, sink)
            });
            defrag.expire(*now_ns);
        }
    }

    /// Ends the input: flushes every flow (and its streams) to the sink.
    pub fn finish(&mut self, sink: &mut impl PipelineSink) {
        let Pipeline {
            flows,
            budget,
            stats,
            detection,
            ..
        } = self;
        flows.flush_all(|mut f, r| end_flow(&mut f, r, budget, stats, detection, sink));
    }
}

/// Flushes a flow's streams and pending stream data (inspecting it),
/// accounts their counters, frees their memory and tells the sink the flow
/// ended.
fn end_flow(
    flow: &mut Flow<FlowData>,
    reason: EndReason,
    budget: &mut MemoryBudget,
    stats: &mut PipelineStats,
    detection: &mut Option<Detection>,
    sink: &mut impl PipelineSink,
) {
    let ts = Timestamp::from_nanos(flow.last_ns);
    let mut state = flow.user.detect.take().unwrap_or_default();
    // Alerts raised while flushing another flow do not decide the verdict
    // of the packet being processed.
    let saved_verdict = detection.as_ref().map(|d| d.verdict);
    let mut det = detection.as_mut();
    if let Some(mut streams) = flow.user.tcp.take() {
        for (s, d) in [
            (&mut streams.to_server, Direction::ToServer),
            (&mut streams.to_client, Direction::ToClient),
        ] {
            s.flush(budget, |ev| {
                deliver(flow, d, ev, &mut state, det.as_deref_mut(), ts, sink)
            });
        }
        stats.reassembly += streams.stats();
        streams.release_memory(budget);
    }
    if let Some(det) = det {
        if !state.raw.packet_mode {
            let frames = state.app.take_frames([u64::MAX; 2], None);
            inspect_frames(
                det,
                &mut state,
                flow,
                frames,
                (ts, AlertSource::FlowEnd),
                sink,
            );
            let mut ready = Vec::new();
            state.app.finish(&mut ready);
            inspect_transactions(
                det,
                &mut state,
                flow,
                &ready,
                None,
                (ts, AlertSource::FlowEnd),
                sink,
            );
            for tx in state.app.http_unfinished() {
                sink.on_app_tx_unfinished(ts, flow, &tx);
            }
            for tx in state.app.dcerpc_unfinished() {
                sink.on_app_tx_unfinished(ts, flow, &tx);
            }
        }
        for d in [Direction::ToServer, Direction::ToClient] {
            flush_pending(det, &mut state, d, flow, ts, AlertSource::FlowEnd, sink);
        }
    }
    if let (Some(det), Some(v)) = (detection.as_mut(), saved_verdict) {
        det.verdict = v;
    }
    flow.user.detect = Some(state);
    sink.on_flow_end(flow, reason);
}

/// The decoder-event name of a defragmentation anomaly (Suricata's names).
fn anomaly_event(v6: bool, a: DefragAnomaly) -> Option<&'static str> {
    Some(match (v6, a) {
        (
            false,
            DefragAnomaly::Overlap | DefragAnomaly::OverlapDifferentData | DefragAnomaly::Teardrop,
        ) => "ipv4.frag_overlap",
        (
            true,
            DefragAnomaly::Overlap | DefragAnomaly::OverlapDifferentData | DefragAnomaly::Teardrop,
        ) => "ipv6.frag_overlap",
        (false, DefragAnomaly::TooLarge) => "ipv4.frag_pkt_too_large",
        (true, DefragAnomaly::TooLarge) => "ipv6.frag_pkt_too_large",
        (false, DefragAnomaly::BadLength) => "ipv4.frag_invalid_length",
        (true, DefragAnomaly::BadLength) => "ipv6.frag_invalid_length",
        (false, DefragAnomaly::MemcapDrop | DefragAnomaly::TooManyFragments) => "ipv4.frag_ignored",
        (true, DefragAnomaly::MemcapDrop | DefragAnomaly::TooManyFragments) => "ipv6.frag_ignored",
        _ => return None,
    })
}

/// The flow facts detection needs, for data travelling in `dir`.
fn flow_view(flow: &Flow<FlowData>, dir: Direction) -> FlowView {
    FlowView {
        id: flow.id,
        to_server: dir == Direction::ToServer,
        established: flow.state != FlowState::New,
        app_proto: None,
        app_detect: rampart_detect::AppDetect::Pending,
        stream_sizes: flow.user.tcp.as_ref().map(|t| {
            let size = |b: &rampart_stream::TcpStreamBuffer| {
                // The SYN takes one sequence number; truncation is Suricata's
                // own (32-bit sequence arithmetic).
                let syn = u32::from(b.is_initialised() && !b.picked_up_midstream());
                (b.delivered_offset() as u32).wrapping_add(syn)
            };
            (size(&t.to_server), size(&t.to_client))
        }),
    }
}

/// [`flow_view`] for reassembled stream data (raw stream chunks and
/// frames): the flow's protocol as detected, whatever was acknowledged.
fn stream_view(state: &FlowDetectState, flow: &Flow<FlowData>, dir: Direction) -> FlowView {
    FlowView {
        app_proto: state.app.tx_proto(),
        app_detect: state.app.detect_state(dir, None),
        ..flow_view(flow, dir)
    }
}

/// How far each direction's stream (index by [`Direction::index`]) was
/// acknowledged by its peer, as a stream offset (0 before any ACK).
fn acked_offsets(flow: &Flow<FlowData>, state: &FlowDetectState) -> [u64; 2] {
    let mut out = [0u64; 2];
    let Some(streams) = flow.user.tcp.as_ref() else {
        return out;
    };
    for (d, stream) in [
        (Direction::ToServer, &streams.to_server),
        (Direction::ToClient, &streams.to_client),
    ] {
        let (Some(next), Some(Some(ack))) = (stream.next_seq(), state.raw.acked.get(d.index()))
        else {
            continue;
        };
        let delivered = stream.delivered_offset();
        // Bytes delivered but not yet acknowledged; an ACK beyond them (a
        // FIN) acknowledges everything.
        let unacked = u64::try_from(next.wrapping_sub(*ack) as i32).unwrap_or(0);
        if let Some(slot) = out.get_mut(d.index()) {
            *slot = delivered.saturating_sub(unacked);
        }
    }
    out
}

/// The flow an ICMPv4 destination unreachable message is about: the
/// TCP or UDP packet it quotes, keyed as that packet's flow. Suricata
/// accounts such a message to the quoted connection (in the direction of
/// its sender relative to the connection's client) when that connection
/// exists with the quoted packet's orientation, instead of giving it a
/// flow of its own.
fn quoted_flow_key(pkt: &Packet<'_>, vlan: u16) -> Option<FlowKey> {
    let Some(Transport::Icmpv4(icmp)) = &pkt.transport else {
        return None;
    };
    if icmp.icmp_type != 3 {
        return None;
    }
    let inner = icmp.payload;
    let version_ihl = *inner.first()?;
    let ihl = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || ihl < 20 {
        return None;
    }
    let proto = *inner.get(9)?;
    if proto != 6 && proto != 17 {
        return None;
    }
    let addr = |at: usize| -> Option<std::net::IpAddr> {
        let b: [u8; 4] = inner.get(at..at + 4)?.try_into().ok()?;
        Some(std::net::IpAddr::from(b))
    };
    let port = |at: usize| -> Option<u16> {
        let b: [u8; 2] = inner.get(at..at + 2)?.try_into().ok()?;
        Some(u16::from_be_bytes(b))
    };
    Some(FlowKey {
        src: addr(12)?,
        dst: addr(16)?,
        src_port: port(ihl)?,
        dst_port: port(ihl + 2)?,
        proto,
        vlan,
    })
}

/// Inspects and clears the data pending in one direction.
fn flush_pending(
    det: &mut Detection,
    state: &mut FlowDetectState,
    dir: Direction,
    flow: &Flow<FlowData>,
    ts: Timestamp,
    source: AlertSource,
    sink: &mut impl PipelineSink,
) {
    let Some(pending) = state.pending.get_mut(dir.index()) else {
        return;
    };
    if pending.is_empty() {
        return;
    }
    let k = &flow.key;
    let (src, dst) = match dir {
        Direction::ToServer => ((k.src, k.src_port), (k.dst, k.dst_port)),
        Direction::ToClient => ((k.dst, k.dst_port), (k.src, k.src_port)),
    };
    let data = std::mem::take(pending);
    det.engine.inspect_stream(
        &data,
        src,
        dst,
        ts.as_nanos(),
        stream_view(state, flow, dir),
        Some(&mut state.vars),
        &mut det.thresholds,
        &mut det.stats,
        &mut det.alerts,
    );
    // Give the allocation back for the next chunk.
    let mut data = data;
    data.clear();
    if let Some(p) = state.pending.get_mut(dir.index()) {
        *p = data;
    }
    for a in &mut det.alerts {
        a.source = source;
    }
    let ctx = AlertContext {
        flow: Some(flow),
        app_proto: state.app.eve_proto(),
        tx: None,
        frame: None,
    };
    emit_alerts(det, ts, sink, &ctx);
}

/// Runs the application-layer signatures on transaction sides that just
/// completed, then frees fully inspected transactions.
fn inspect_transactions(
    det: &mut Detection,
    state: &mut FlowDetectState,
    flow: &Flow<FlowData>,
    ready: &[ReadyTx],
    packet: Option<&[u8]>,
    (ts, source): (Timestamp, AlertSource),
    sink: &mut impl PipelineSink,
) {
    if ready.is_empty() {
        return;
    }
    let k = &flow.key;
    for r in ready {
        let Some(view) = state.app.view(r) else {
            continue;
        };
        let dir = match r.side {
            rampart_detect::TxSide::Request => Direction::ToServer,
            rampart_detect::TxSide::Response => Direction::ToClient,
        };
        // HTTP and FTP rules' raw content looks at the message itself.
        let raw_http;
        let raw_ftp;
        let payload = match (&view, packet) {
            (AppTxView::Http(v), _) if det.engine.has_mixed_http() => {
                raw_http = || v.raw_message();
                rampart_detect::TxPayload::Build(&raw_http)
            }
            (AppTxView::Ftp(v), _) => {
                raw_ftp = || v.raw_message();
                rampart_detect::TxPayload::Build(&raw_ftp)
            }
            (_, Some(bytes)) => rampart_detect::TxPayload::Bytes(bytes),
            (_, None) => rampart_detect::TxPayload::None,
        };
        det.engine.inspect_tx_packet(
            &view,
            r.side,
            (k.src, k.src_port),
            (k.dst, k.dst_port),
            ts.as_nanos(),
            stream_view(state, flow, dir),
            payload,
            Some(&mut state.vars),
            &mut det.thresholds,
            &mut det.stats,
            &mut det.alerts,
        );
        let ctx = AlertContext {
            flow: Some(flow),
            app_proto: state.app.eve_proto(),
            tx: Some(&view),
            frame: None,
        };
        for a in &mut det.alerts {
            a.source = source;
        }
        emit_alerts(det, ts, sink, &ctx);
        sink.on_app_tx(ts, flow, &view, r.side);
    }
    state.app.release_completed();
}

/// Runs the frame signatures on frames taken from the flow's queue.
fn inspect_frames(
    det: &mut Detection,
    state: &mut FlowDetectState,
    flow: &Flow<FlowData>,
    frames: Vec<QueuedFrame>,
    (ts, source): (Timestamp, AlertSource),
    sink: &mut impl PipelineSink,
) {
    let k = &flow.key;
    for f in &frames {
        let Some(buffer) = f.buffer() else {
            continue;
        };
        let dir = f.direction();
        let input = rampart_detect::app::FrameInput {
            buffer,
            proto: f.proto,
            side: match dir {
                Direction::ToServer => rampart_detect::TxSide::Request,
                Direction::ToClient => rampart_detect::TxSide::Response,
            },
            ip_proto: k.proto,
            data: &f.frame.data,
        };
        det.engine.inspect_frame(
            &input,
            (k.src, k.src_port),
            (k.dst, k.dst_port),
            ts.as_nanos(),
            stream_view(state, flow, dir),
            Some(&mut state.vars),
            &mut det.thresholds,
            &mut det.stats,
            &mut det.alerts,
        );
        for a in &mut det.alerts {
            a.source = source;
        }
        let ctx = AlertContext {
            flow: Some(flow),
            app_proto: state.app.eve_proto(),
            tx: None,
            frame: Some(f),
        };
        emit_alerts(det, ts, sink, &ctx);
    }
}

fn emit_alerts(
    det: &mut Detection,
    ts: Timestamp,
    sink: &mut impl PipelineSink,
    ctx: &AlertContext<'_>,
) {
    let engine = &det.engine;
    for a in det.alerts.drain(..) {
        if let Some(sig) = engine.signatures().get(a.sig as usize) {
            det.verdict = det.verdict.max(PacketVerdict::of_action(sig.action));
            sink.on_alert(ts, &a, sig, ctx);
        }
    }
}

/// Hands one reassembly event to the sink and queues its data for
/// inspection.
fn deliver(
    flow: &Flow<FlowData>,
    direction: Direction,
    ev: StreamEvent<'_>,
    state: &mut FlowDetectState,
    det: Option<&mut Detection>,
    ts: Timestamp,
    sink: &mut impl PipelineSink,
) {
    match ev {
        StreamEvent::Data { offset, data } => {
            sink.on_stream_data(
                flow,
                StreamSegment {
                    direction,
                    offset,
                    data,
                },
            );
            if let (Some(det), false) = (det, state.raw.packet_mode) {
                let full = state
                    .pending
                    .get(direction.index())
                    .is_some_and(|p| p.len() + data.len() > MAX_PENDING_STREAM);
                if full {
                    flush_pending(det, state, direction, flow, ts, AlertSource::Wire, sink);
                }
                if let Some(p) = state.pending.get_mut(direction.index()) {
                    p.extend_from_slice(data);
                }
                let mut ready = Vec::new();
                let ports = (flow.key.src_port, flow.key.dst_port);
                state.app.ssh_hassh = det.engine.uses_ssh_hassh();
                state.app.frames = det.frames;
                state.app.client_v4 = match flow.key.src {
                    std::net::IpAddr::V4(a) => Some(u32::from(a)),
                    std::net::IpAddr::V6(_) => None,
                };
                let end = offset + data.len() as u64;
                state.app.feed(direction, data, ports, end, &mut ready);
                if det.inline {
                    let frames = state.app.take_frames([u64::MAX; 2], None);
                    inspect_frames(det, state, flow, frames, (ts, AlertSource::Wire), sink);
                }
                // FTP data connections: announced by a control connection,
                // recognised when their first data comes.
                let now = ts.as_nanos();
                for x in state.app.take_ftp_expectations() {
                    det.expectations
                        .add(flow.key.src, flow.key.dst, x.port, now);
                }
                if !det.expectations.is_empty()
                    && state.app.wants_expectation_lookup()
                    && det
                        .expectations
                        .take(flow.key.src, flow.key.dst, flow.key.dst_port, now)
                {
                    state.app.set_ftp_data(direction);
                }
                // SSH stages and DCERPC, HTTP, SMTP and SMB transaction
                // sides wait for their data to be acknowledged (Suricata's
                // IDS timing), except inline.
                state.app.defer_acked(&mut ready, end);
                if det.inline {
                    state.app.release_acked([u64::MAX; 2], None, &mut ready);
                }
                // The stream data that completed them stands for the
                // packet (raw content beside DNS buffers, DNS over TCP).
                inspect_transactions(
                    det,
                    state,
                    flow,
                    &ready,
                    Some(data),
                    (ts, AlertSource::Wire),
                    sink,
                );
                for tx in state.app.take_evicted_http() {
                    let view = AppTxView::Http(crate::app_layer::HttpTxView {
                        tx: &tx,
                        side: rampart_detect::TxSide::Response,
                    });
                    sink.on_app_tx_unfinished(ts, flow, &view);
                }
            }
        }
        StreamEvent::Gap { offset, len } => {
            state.app.gap(direction);
            sink.on_stream_gap(flow, direction, offset, len);
        }
        StreamEvent::End { .. } => {}
    }
}
