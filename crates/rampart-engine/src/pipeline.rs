//! Decode → defragment → flow → reassemble, for one worker.

use rampart_packet::decode::Transport;
use rampart_packet::{decode, decode_ip, LinkType, Packet, Timestamp};
use rampart_stream::flow::{
    Direction, EndReason, Flow, FlowConfig, FlowKey, FlowTable, PacketInfo,
};

use crate::stats::PipelineStats;

/// How often (in capture time) idle flows are swept out.
const EXPIRE_INTERVAL_NS: u64 = 1_000_000_000;

/// Configuration of every stage of the pipeline.
#[derive(Clone, Debug, Default)]
pub struct PipelineConfig {
    /// Flow table limits and timeouts.
    pub flow: FlowConfig,
}

/// Per-flow state the pipeline keeps (reassembly, later app-layer and
/// detection state).
#[derive(Debug, Default)]
pub struct FlowData {}

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
    /// A decoded packet (after defragmentation, when it completed a
    /// datagram), with its flow when it belongs to one.
    fn on_packet(&mut self, _ts: Timestamp, _pkt: &Packet<'_>, _flow: Option<(&Flow<FlowData>, Direction)>) {}

    /// In-order TCP stream data of a flow.
    fn on_stream_data(&mut self, _flow: &Flow<FlowData>, _segment: StreamSegment<'_>) {}

    /// A hole in a TCP stream that was given up on.
    fn on_stream_gap(&mut self, _flow: &Flow<FlowData>, _direction: Direction, _offset: u64, _len: u64) {}

    /// A flow leaves the table (timeout, eviction or end of input).
    fn on_flow_end(&mut self, _flow: &Flow<FlowData>, _reason: EndReason) {}
}

/// One worker's packet path state.
pub struct Pipeline {
    flows: FlowTable<FlowData>,
    stats: PipelineStats,
    last_expire_ns: u64,
    now_ns: u64,
}

impl Pipeline {
    /// Creates a pipeline with the given limits.
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            flows: FlowTable::new(config.flow),
            stats: PipelineStats::default(),
            last_expire_ns: 0,
            now_ns: 0,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    /// The flow table (for its counters and for reports).
    pub fn flows(&self) -> &FlowTable<FlowData> {
        &self.flows
    }

    /// Processes one captured frame.
    pub fn process(&mut self, ts: Timestamp, linktype: LinkType, frame: &[u8], sink: &mut impl PipelineSink) {
        let pkt = decode(linktype, frame);
        self.stats.protocols.account(&pkt);
        for e in pkt.events.iter() {
            self.stats.decoder_events.bump(e);
        }
        self.advance_time(ts, sink);
        self.handle_decoded(ts, &pkt, sink);
    }

    /// Processes a whole IP datagram that is not a fragment (or a rebuilt one).
    fn handle_decoded(&mut self, ts: Timestamp, pkt: &Packet<'_>, sink: &mut impl PipelineSink) {
        let Some(ip) = &pkt.ip else {
            sink.on_packet(ts, pkt, None);
            return;
        };
        if ip.fragment.is_some() {
            // Defragmentation is wired in by the reassembly stage.
            sink.on_packet(ts, pkt, None);
            return;
        }
        let (src_port, dst_port, tcp_flags, tcp_seq) = match &pkt.transport {
            Some(Transport::Tcp(t)) => (t.src_port, t.dst_port, Some(t.flags as u8), t.seq),
            Some(Transport::Udp(u)) => (u.src_port, u.dst_port, None, 0),
            _ => (0, 0, None, 0),
        };
        let key = FlowKey {
            src: ip.src,
            dst: ip.dst,
            src_port,
            dst_port,
            proto: ip.protocol,
            vlan: pkt.vlan_id(),
        };
        let info = PacketInfo {
            ts_ns: ts.as_nanos(),
            len: pkt.data.len() as u64,
            tcp_flags,
            tcp_seq,
        };
        let update = self.flows.update(&key, info, FlowData::default, |f, r| sink.on_flow_end(&f, r));
        let dir = update.direction;
        sink.on_packet(ts, pkt, Some((update.flow, dir)));
    }

    /// Moves the pipeline's clock and sweeps idle flows once per interval.
    fn advance_time(&mut self, ts: Timestamp, sink: &mut impl PipelineSink) {
        let now = ts.as_nanos();
        if now > self.now_ns {
            self.now_ns = now;
        }
        if self.now_ns.saturating_sub(self.last_expire_ns) >= EXPIRE_INTERVAL_NS {
            self.last_expire_ns = self.now_ns;
            self.flows.expire(self.now_ns, |f, r| sink.on_flow_end(&f, r));
        }
    }

    /// Ends the input: flushes every flow (and its streams) to the sink.
    pub fn finish(&mut self, sink: &mut impl PipelineSink) {
        self.flows.flush_all(|f, r| sink.on_flow_end(&f, r));
    }

    /// Re-decodes a rebuilt datagram and processes it as a packet.
    #[allow(dead_code)]
    fn process_rebuilt(&mut self, ts: Timestamp, datagram: &[u8], sink: &mut impl PipelineSink) {
        let pkt = decode_ip(datagram);
        self.stats.reassembled_datagrams += 1;
        self.handle_decoded(ts, &pkt, sink);
    }
}
