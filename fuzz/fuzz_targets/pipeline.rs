//! Fuzzes the whole packet path: decode, defragmentation, flow tracking and
//! TCP reassembly, through `rampart_engine::Pipeline`.
//!
//! Input (see README.md):
//! ```text
//! [config]                         bit 0: tight limits instead of the
//!                                  defaults; bit 1: reassembly off;
//!                                  bit 2: detection with a small rule set
//!                                  (stream, anchored, stream_size,
//!                                  flowbits, thresholds, HTTP, SMTP,
//!                                  TLS and HTTP/2 buffers);
//!                                  bit 3: midstream
//!                                  connections treated as established
//! then frames, until the input ends:
//! [time delta][len u16 LE][Ethernet frame: len bytes]
//! ```
//! Time moves forward by `delta^3 * 100 us` (up to ~27 min, so flow and
//! fragment timeouts fire), or backward by `delta - 0xF7` seconds when
//! `delta >= 0xF8`, as in captures merged out of order.
//!
//! Checks: no panic; the sink sees each flow direction's stream data and
//! gaps contiguous from offset 0, never a flow's data after its end, and
//! `finish` ends every flow and returns all stream memory to the budget.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rampart_engine::{FlowData, Pipeline, PipelineConfig, PipelineSink, StreamSegment};
use rampart_fuzz::Input;
use rampart_packet::{LinkType, Packet, Timestamp};
use rampart_stream::flow::{Direction, EndReason, Flow, FlowConfig};
use rampart_stream::{DefragConfig, ReassemblyConfig};

#[derive(Default)]
struct Sink {
    /// Next expected stream offset per (flow id, direction).
    next: HashMap<(u64, usize), u64>,
    ended: HashSet<u64>,
    packets: u64,
}

impl Sink {
    fn advance(&mut self, flow: &Flow<FlowData>, dir: Direction, offset: u64, len: u64) {
        assert!(!self.ended.contains(&flow.id), "stream data after flow end");
        assert!(len > 0, "empty stream event");
        let next = self.next.entry((flow.id, dir.index())).or_insert(0);
        assert_eq!(offset, *next, "stream events not contiguous");
        *next += len;
    }
}

impl PipelineSink for Sink {
    fn on_packet(
        &mut self,
        _ts: Timestamp,
        pkt: &Packet<'_>,
        flow: Option<(&Flow<FlowData>, Direction)>,
    ) {
        self.packets += 1;
        std::hint::black_box((pkt.payload(), pkt.ports()));
        if let Some((f, _)) = flow {
            assert!(!self.ended.contains(&f.id), "packet for an ended flow");
        }
    }

    fn on_stream_data(&mut self, flow: &Flow<FlowData>, seg: StreamSegment<'_>) {
        self.advance(flow, seg.direction, seg.offset, seg.data.len() as u64);
    }

    fn on_stream_gap(&mut self, flow: &Flow<FlowData>, dir: Direction, offset: u64, len: u64) {
        self.advance(flow, dir, offset, len);
    }

    fn on_flow_end(&mut self, flow: &Flow<FlowData>, _reason: EndReason) {
        assert!(self.ended.insert(flow.id), "flow ended twice");
        self.next.remove(&(flow.id, 0));
        self.next.remove(&(flow.id, 1));
    }
}

/// Rules touching each inspection path: stream chunks, packets, both
/// (anchored content, stream_size), flow state and rate limits.
const RULES: &str = r#"
alert tcp any any -> any any (msg:"stream"; flow:established,to_server; content:"GET"; sid:1;)
alert tcp any any -> any any (msg:"anchored"; flow:to_server; content:"PING"; depth:4; flowbits:set,p; sid:2;)
alert tcp any any -> any any (msg:"after"; flow:to_client; flowbits:isset,p; content:"PONG"; sid:3;)
alert tcp any any -> any any (msg:"size"; stream_size:either,>,10; content:"A"; sid:4;)
alert tcp any any -> any any (msg:"pkt"; dsize:>0; flags:PA; content:"|00 00|"; threshold:type limit, track by_src, count 1, seconds 60; sid:5;)
alert udp any any -> any any (msg:"udp"; content:"x"; sid:6;)
alert ip any any -> any any (msg:"ev"; decode-event:tcp.pkt_too_small; sid:7;)
alert tcp any any -> any any (msg:"only stream"; flow:only_stream; content:"B"; pcre:"/B.{0,20}C/s"; sid:8;)
alert http any any -> any any (msg:"http"; http.uri; content:"/"; http.host; content:"a"; sid:9;)
alert http any any -> any any (msg:"http resp"; flow:to_client; http.stat_code; content:"200"; file.data; content:"x"; sid:10;)
alert smtp any any -> any any (msg:"smtp file"; file.data; content:"x"; file.name; content:"a"; sid:11;)
alert smtp any any -> any any (msg:"smtp helo"; smtp.helo; content:"a"; app-layer-event:smtp.mime_long_line; sid:12;)
alert tls any any -> any any (msg:"tls after starttls"; tls.sni; content:"a"; sid:13;)
alert http2 any any -> any any (msg:"h2"; http.request_header; content:"method: GET"; http.request_header; content:"path"; http2.frametype:HEADERS; sid:14;)
alert http2 any any -> any any (msg:"h2 ev"; app-layer-event:http2.invalid_frame_header; sid:15;)
"#;

fn engine() -> Arc<rampart_detect::DetectEngine> {
    static ENGINE: OnceLock<Arc<rampart_detect::DetectEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let vars = rampart_rules::Variables::default();
            let set = rampart_rules::parse_rules(RULES, "fuzz.rules", &vars);
            assert!(set.errors.is_empty(), "{:?}", set.errors);
            Arc::new(rampart_detect::DetectEngine::build(&set.rules).engine)
        })
        .clone()
}

fn tight() -> PipelineConfig {
    PipelineConfig {
        flow: FlowConfig {
            memcap_bytes: 1000,
            ..FlowConfig::default()
        },
        defrag: DefragConfig {
            memcap_bytes: 4096,
            max_trackers: 4,
            max_fragments_per_datagram: 16,
            ..DefragConfig::default()
        },
        reassembly: ReassemblyConfig {
            max_buffered_bytes: 4096,
            max_buffered_segments: 8,
            max_gap_buffer: 2048,
            max_gap_segments: 4,
            retain_delivered_bytes: 64,
            ..ReassemblyConfig::default()
        },
        stream_memcap_bytes: 3000,
        ..PipelineConfig::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let c = input.u8();
    let mut config = if c & 1 != 0 {
        tight()
    } else {
        PipelineConfig::default()
    };
    if c & 2 != 0 {
        config.reassemble = false;
    }
    if c & 4 != 0 {
        config.detect = Some(engine());
        config.midstream = c & 8 != 0;
    }
    let mut pipeline = Pipeline::new(config);
    let mut sink = Sink::default();
    let mut now: u64 = 1_500_000_000_000_000_000;
    let mut frames = 0u64;
    while !input.is_empty() {
        let delta = input.u8();
        if delta >= 0xF8 {
            now = now.saturating_sub(u64::from(delta - 0xF7) * 1_000_000_000);
        } else {
            now = now.saturating_add(u64::from(delta).pow(3) * 100_000);
        }
        let len = usize::from(input.u16());
        let frame = input.bytes(len);
        pipeline.process(
            Timestamp::from_nanos(now),
            LinkType::Ethernet,
            frame,
            &mut sink,
        );
        frames += 1;
    }
    pipeline.finish(&mut sink);
    assert!(sink.packets >= frames, "a frame was not passed to the sink");
    assert!(pipeline.flows().is_empty(), "flows left after finish");
    assert_eq!(pipeline.stream_budget().used(), 0, "stream memory leaked");
    assert!(pipeline.stream_budget().peak() <= pipeline.stream_budget().limit());
});
