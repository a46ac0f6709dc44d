//! Decode → defragment → flow → reassemble, for one worker.

use rampart_packet::decode::{IpHeader, Transport};
use rampart_packet::{decode, decode_ip, LinkType, Packet, Timestamp};
use rampart_stream::flow::{
    Direction, EndReason, Flow, FlowConfig, FlowKey, FlowTable, PacketInfo,
};
use rampart_stream::{
    DefragConfig, Defragmenter, FragKey, Fragment, MemoryBudget, ReassemblyConfig, StreamEvent,
    TcpReassembler, TcpSegment, TcpStreamBuffer,
};

use crate::stats::PipelineStats;

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
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            flow: FlowConfig::default(),
            defrag: DefragConfig::default(),
            reassembly: ReassemblyConfig::default(),
            stream_memcap_bytes: 256 * 1024 * 1024,
            reassemble: true,
        }
    }
}

/// Per-flow state the pipeline keeps (reassembly now; app-layer and
/// detection state later).
#[derive(Debug, Default)]
pub struct FlowData {
    /// Both directions of a TCP connection, created on its first segment.
    pub tcp: Option<Box<TcpReassembler>>,
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
}

/// One worker's packet path state.
pub struct Pipeline {
    config: PipelineConfig,
    flows: FlowTable<FlowData>,
    defrag: Defragmenter,
    budget: MemoryBudget,
    stats: PipelineStats,
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

    /// The stream memory budget (for its peak and refusals).
    pub fn stream_budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Processes one captured frame.
    pub fn process(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        frame: &[u8],
        sink: &mut impl PipelineSink,
    ) {
        let pkt = decode(linktype, frame);
        self.stats.protocols.account(&pkt);
        for e in pkt.events.iter() {
            self.stats.decoder_events.bump(e);
        }
        self.advance_time(ts, sink);
        match &pkt.ip {
            Some(ip) if ip.fragment.is_some() => {
                sink.on_packet(ts, &pkt, None);
                if let Some(datagram) = self.defragment(ts, ip, pkt.vlan_id()) {
                    let rebuilt = decode_ip(&datagram);
                    self.stats.reassembled_datagrams += 1;
                    for e in rebuilt.events.iter() {
                        self.stats.decoder_events.bump(e);
                    }
                    self.handle_whole(ts, &rebuilt, pkt.vlan_id(), sink);
                }
            }
            _ => self.handle_whole(ts, &pkt, pkt.vlan_id(), sink),
        }
    }

    fn defragment(&mut self, ts: Timestamp, ip: &IpHeader<'_>, vlan: u16) -> Option<Vec<u8>> {
        let frag = ip.fragment?;
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
        self.defrag.push(ts.as_nanos(), fragment).reassembled
    }

    /// Processes a whole (unfragmented or rebuilt) packet.
    fn handle_whole(
        &mut self,
        ts: Timestamp,
        pkt: &Packet<'_>,
        vlan: u16,
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
        let info = PacketInfo {
            ts_ns: ts.as_nanos(),
            len: pkt.data.len() as u64,
            tcp_flags: tcp.map(|t| t.flags as u8),
            tcp_seq: tcp.map(|t| t.seq).unwrap_or(0),
        };
        let Pipeline {
            flows,
            budget,
            stats,
            config,
            ..
        } = self;
        let update = flows.update(&key, info, FlowData::default, |mut f, r| {
            end_flow(&mut f, r, budget, stats, sink);
        });
        let dir = update.direction;
        let flow = update.flow;
        sink.on_packet(ts, pkt, Some((flow, dir)));
        if let (Some(t), true) = (tcp, config.reassemble) {
            let mut streams = flow
                .user
                .tcp
                .take()
                .unwrap_or_else(|| Box::new(TcpReassembler::new(config.reassembly)));
            let stream = match dir {
                Direction::ToServer => &mut streams.to_server,
                Direction::ToClient => &mut streams.to_client,
            };
            let seg = TcpSegment {
                seq: t.seq,
                syn: t.has(rampart_packet::decode::tcp_flags::SYN),
                fin: t.has(rampart_packet::decode::tcp_flags::FIN),
                data: t.payload,
            };
            stream.push(budget, seg, |ev| deliver(flow, dir, ev, sink));
            if t.has(rampart_packet::decode::tcp_flags::RST) {
                flush_stream(
                    &mut streams.to_server,
                    Direction::ToServer,
                    flow,
                    budget,
                    sink,
                );
                flush_stream(
                    &mut streams.to_client,
                    Direction::ToClient,
                    flow,
                    budget,
                    sink,
                );
            }
            flow.user.tcp = Some(streams);
        }
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
                ..
            } = self;
            flows.expire(*now_ns, |mut f, r| end_flow(&mut f, r, budget, stats, sink));
            defrag.expire(*now_ns);
        }
    }

    /// Ends the input: flushes every flow (and its streams) to the sink.
    pub fn finish(&mut self, sink: &mut impl PipelineSink) {
        let Pipeline {
            flows,
            budget,
            stats,
            ..
        } = self;
        flows.flush_all(|mut f, r| end_flow(&mut f, r, budget, stats, sink));
    }
}

/// Flushes a flow's streams, accounts their counters, frees their memory and
/// tells the sink the flow ended.
fn end_flow(
    flow: &mut Flow<FlowData>,
    reason: EndReason,
    budget: &mut MemoryBudget,
    stats: &mut PipelineStats,
    sink: &mut impl PipelineSink,
) {
    if let Some(mut streams) = flow.user.tcp.take() {
        flush_stream(
            &mut streams.to_server,
            Direction::ToServer,
            flow,
            budget,
            sink,
        );
        flush_stream(
            &mut streams.to_client,
            Direction::ToClient,
            flow,
            budget,
            sink,
        );
        stats.reassembly += streams.stats();
        streams.release_memory(budget);
    }
    sink.on_flow_end(flow, reason);
}

fn flush_stream(
    stream: &mut TcpStreamBuffer,
    dir: Direction,
    flow: &Flow<FlowData>,
    budget: &mut MemoryBudget,
    sink: &mut impl PipelineSink,
) {
    stream.flush(budget, |ev| deliver(flow, dir, ev, sink));
}

fn deliver(
    flow: &Flow<FlowData>,
    direction: Direction,
    ev: StreamEvent<'_>,
    sink: &mut impl PipelineSink,
) {
    match ev {
        StreamEvent::Data { offset, data } => sink.on_stream_data(
            flow,
            StreamSegment {
                direction,
                offset,
                data,
            },
        ),
        StreamEvent::Gap { offset, len } => sink.on_stream_gap(flow, direction, offset, len),
        StreamEvent::End { .. } => {}
    }
}
