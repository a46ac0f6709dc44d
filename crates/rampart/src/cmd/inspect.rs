//! `rampart inspect FILE`: what is in a capture, as Rampart's packet path sees it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use rampart_engine::{FlowData, Pipeline, PipelineConfig, PipelineSink, StreamSegment};
use rampart_packet::{Packet, Timestamp};
use rampart_stream::flow::{Direction, EndReason, Flow};
use rampart_stream::OverlapPolicy;
use serde_json::{json, Value};

use crate::capture_file::CaptureFile;
use crate::output::eve;

/// Cap on the addresses tracked for the top-talkers table, so that a capture
/// full of spoofed sources cannot grow memory without bound.
const MAX_TALKERS: usize = 100_000;

/// Arguments of `rampart inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The capture to read (pcap or pcapng; "-" for standard input).
    pub file: PathBuf,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write one EVE `flow` record per flow (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// Dump each reassembled TCP stream into this directory, one file per
    /// direction (`<flow_id>-<client>-<server>.{c2s,s2c}`).
    #[arg(long, value_name = "DIR")]
    pub streams: Option<PathBuf>,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// Limits and policies of the packet path, shared by the offline commands.
#[derive(Args, Debug, Clone)]
pub struct PipelineArgs {
    /// How overlapping IP fragments are resolved: first, last, bsd,
    /// bsd-right, linux, windows or solaris (the target-based policies;
    /// pick the one of the hosts you protect).
    #[arg(long, default_value = "bsd", value_name = "POLICY")]
    pub defrag_policy: OverlapPolicy,
    /// How overlapping TCP segments are resolved (same names as
    /// --defrag-policy).
    #[arg(long, default_value = "bsd", value_name = "POLICY")]
    pub stream_policy: OverlapPolicy,
    /// Memory for the flow table, in MiB; the least recently seen flows are
    /// evicted beyond it.
    #[arg(long, default_value_t = 128, value_name = "MIB")]
    pub flow_memcap: usize,
    /// Memory for all buffered TCP stream data, in MiB.
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    pub stream_memcap: usize,
    /// Memory for IP fragments awaiting reassembly, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    pub defrag_memcap: usize,
}

impl PipelineArgs {
    /// The pipeline configuration these flags describe.
    pub fn config(&self) -> PipelineConfig {
        let mut c = PipelineConfig::default();
        c.defrag.policy = self.defrag_policy;
        c.defrag.memcap_bytes = self.defrag_memcap.saturating_mul(1 << 20);
        c.reassembly.policy = self.stream_policy;
        c.flow.memcap_bytes = self.flow_memcap.saturating_mul(1 << 20);
        c.stream_memcap_bytes = self.stream_memcap.saturating_mul(1 << 20);
        c
    }
}

#[derive(Default, Clone, Copy)]
struct Talker {
    packets: u64,
    bytes: u64,
}

struct InspectSink {
    flows_out: Option<BufWriter<File>>,
    streams_dir: Option<PathBuf>,
    talkers: HashMap<IpAddr, Talker, foldhash::fast::RandomState>,
    talkers_dropped: u64,
    flows_by_proto: HashMap<u8, u64>,
    flows_total: u64,
    stream_bytes: [u64; 2],
    stream_gaps: u64,
    io_error: Option<anyhow::Error>,
}

impl InspectSink {
    fn talk(&mut self, addr: IpAddr, bytes: u64) {
        let len = self.talkers.len();
        match self.talkers.get_mut(&addr) {
            Some(t) => {
                t.packets += 1;
                t.bytes += bytes;
            }
            None if len < MAX_TALKERS => {
                self.talkers.insert(addr, Talker { packets: 1, bytes });
            }
            None => self.talkers_dropped += 1,
        }
    }

    fn stream_path(dir: &Path, flow: &Flow<FlowData>, dir_name: &str) -> PathBuf {
        let k = &flow.key;
        let ep = |a: IpAddr, p: u16| match a {
            IpAddr::V4(v) => format!("{v}.{p}"),
            IpAddr::V6(v) => format!("[{v}].{p}"),
        };
        dir.join(format!(
            "{}-{}-{}.{}",
            flow.id,
            ep(k.src, k.src_port),
            ep(k.dst, k.dst_port),
            dir_name
        ))
    }
}

impl PipelineSink for InspectSink {
    fn on_packet(
        &mut self,
        _ts: Timestamp,
        pkt: &Packet<'_>,
        _flow: Option<(&Flow<FlowData>, Direction)>,
    ) {
        if let Some(ip) = &pkt.ip {
            let n = pkt.data.len() as u64;
            self.talk(ip.src, n);
            self.talk(ip.dst, n);
        }
    }

    fn on_stream_data(&mut self, flow: &Flow<FlowData>, seg: StreamSegment<'_>) {
        if let Some(b) = self.stream_bytes.get_mut(seg.direction.index()) {
            *b += seg.data.len() as u64;
        }
        let Some(dir) = &self.streams_dir else { return };
        if self.io_error.is_some() {
            return;
        }
        let name = match seg.direction {
            Direction::ToServer => "c2s",
            Direction::ToClient => "s2c",
        };
        let path = Self::stream_path(dir, flow, name);
        let res = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(seg.data));
        if let Err(e) = res {
            self.io_error =
                Some(anyhow::Error::new(e).context(format!("writing {}", path.display())));
        }
    }

    fn on_stream_gap(&mut self, _flow: &Flow<FlowData>, _d: Direction, _offset: u64, _len: u64) {
        self.stream_gaps += 1;
    }

    fn on_flow_end(&mut self, flow: &Flow<FlowData>, reason: EndReason) {
        self.flows_total += 1;
        *self.flows_by_proto.entry(flow.key.proto).or_default() += 1;
        if let Some(out) = &mut self.flows_out {
            if self.io_error.is_none() {
                let rec = eve::flow_record(flow, reason);
                let res = serde_json::to_writer(&mut *out, &rec)
                    .map_err(std::io::Error::from)
                    .and_then(|_| out.write_all(b"\n"));
                if let Err(e) = res {
                    self.io_error = Some(anyhow::Error::new(e).context("writing flow records"));
                }
            }
        }
    }
}

/// Runs `rampart inspect`.
pub fn run(args: &InspectArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let mut cap = CaptureFile::open(&args.file, !args.no_progress && !args.json)?;
    let flows_out = match &args.flows {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    if let Some(d) = &args.streams {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut sink = InspectSink {
        flows_out,
        streams_dir: args.streams.clone(),
        talkers: HashMap::default(),
        talkers_dropped: 0,
        flows_by_proto: HashMap::new(),
        flows_total: 0,
        stream_bytes: [0; 2],
        stream_gaps: 0,
        io_error: None,
    };
    let mut pipeline = Pipeline::new(args.pipeline.config());
    let mut read_error = None;
    let mut n: u64 = 0;
    loop {
        match cap.reader.next_packet() {
            Ok(Some(p)) => {
                pipeline.process(p.ts, p.linktype, p.data, &mut sink);
                n += 1;
                if n.is_multiple_of(4096) {
                    cap.progress.set_position(cap.reader.offset());
                }
            }
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
        if let Some(e) = sink.io_error.take() {
            return Err(e);
        }
    }
    pipeline.finish(&mut sink);
    cap.progress.finish_and_clear();
    if let Some(e) = sink.io_error.take() {
        return Err(e);
    }
    if let Some(out) = &mut sink.flows_out {
        out.flush().context("writing flow records")?;
    }
    let elapsed = started.elapsed().as_secs_f64();

    let report = build_report(args, &pipeline, &sink, &cap, elapsed, read_error.as_ref());
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_text(&report)?;
    }
    let file = args.file.display();
    let mut code = ExitCode::SUCCESS;
    for w in cap.reader.warnings() {
        eprintln!(
            "rampart: warning: {file}: byte offset {}: {}",
            w.offset, w.message
        );
        code = ExitCode::from(2);
    }
    if cap.reader.warning_count() > cap.reader.warnings().len() as u64 {
        eprintln!(
            "rampart: warning: {file}: {} more capture-format warnings",
            cap.reader.warning_count() - cap.reader.warnings().len() as u64
        );
    }
    if let Some(e) = read_error {
        eprintln!("rampart: error: {file}: {e} (the {n} packets before it were processed)");
        code = ExitCode::from(2);
    }
    Ok(code)
}

fn build_report(
    args: &InspectArgs,
    pipeline: &Pipeline,
    sink: &InspectSink,
    cap: &CaptureFile<'_>,
    elapsed: f64,
    read_error: Option<&rampart_packet::pcap::CaptureError>,
) -> Value {
    let stats = pipeline.stats();
    let protocols: serde_json::Map<String, Value> = stats
        .protocols
        .rows()
        .into_iter()
        .map(|(name, c)| {
            (
                name.to_string(),
                json!({"packets": c.packets, "bytes": c.bytes}),
            )
        })
        .collect();
    let events: serde_json::Map<String, Value> = stats
        .decoder_events
        .nonzero()
        .map(|(name, n)| (name.to_string(), json!(n)))
        .collect();
    let mut by_proto: Vec<(u8, u64)> = sink.flows_by_proto.iter().map(|(p, n)| (*p, *n)).collect();
    by_proto.sort();
    let flows_by_proto: serde_json::Map<String, Value> = by_proto
        .into_iter()
        .map(|(p, n)| (eve::proto_name(p).to_lowercase(), json!(n)))
        .collect();
    let mut talkers: Vec<(&IpAddr, &Talker)> = sink.talkers.iter().collect();
    talkers.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
    let top: Vec<Value> = talkers
        .into_iter()
        .take(args.top)
        .map(|(a, t)| json!({"ip": a.to_string(), "packets": t.packets, "bytes": t.bytes}))
        .collect();
    let fstats = pipeline.flows().stats();
    let packets = stats.protocols.total.packets;
    json!({
        "file": args.file.display().to_string(),
        "format": format!("{:?}", cap.reader.format()).to_lowercase(),
        "packets": packets,
        "bytes": stats.protocols.total.bytes,
        "elapsed_seconds": elapsed,
        "packets_per_second": if elapsed > 0.0 { packets as f64 / elapsed } else { 0.0 },
        "protocols": protocols,
        "flows": {
            "total": sink.flows_total,
            "by_protocol": flows_by_proto,
            "timed_out": fstats.timed_out,
            "evicted": fstats.evicted,
            "peak_active": fstats.peak_active,
            "tcp_handshakes": fstats.tcp_handshakes,
            "tcp_midstream": fstats.tcp_midstream,
            "tcp_synack_wrong_ack": fstats.tcp_synack_wrong_ack,
        },
        "top_talkers": top,
        "talkers_untracked": sink.talkers_dropped,
        "decoder_events": events,
        "defrag": pipeline.defrag().stats(),
        "reassembly": {
            "bytes_toserver": sink.stream_bytes[0],
            "bytes_toclient": sink.stream_bytes[1],
            "gap_events": sink.stream_gaps,
            "memory_peak_bytes": pipeline.stream_budget().peak(),
            "memcap_refusals": pipeline.stream_budget().refusals(),
            "counters": stats.reassembly,
        },
        "capture_warnings": cap.reader.warning_count(),
        "capture_error": read_error.map(|e| e.to_string()),
    })
}

fn print_text(r: &Value) -> std::io::Result<()> {
    let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    outln!(
        "{}: {} packets, {} bytes ({} format), read in {:.2} s",
        r["file"].as_str().unwrap_or(""),
        r["packets"],
        r["bytes"],
        r["format"].as_str().unwrap_or("?"),
        r["elapsed_seconds"].as_f64().unwrap_or(0.0)
    )?;
    outln!("\nProtocols                 packets          bytes")?;
    if let Some(p) = r["protocols"].as_object() {
        for (name, c) in p {
            outln!(
                "  {:<20} {:>10} {:>14}",
                name,
                get(c, "packets"),
                get(c, "bytes")
            )?;
        }
    }
    let f = &r["flows"];
    outln!(
        "\nFlows: {} total ({} timed out, {} evicted by the memory cap, peak {} active)",
        f["total"],
        f["timed_out"],
        f["evicted"],
        f["peak_active"]
    )?;
    if let Some(p) = f["by_protocol"].as_object() {
        for (name, n) in p {
            outln!("  {name:<20} {:>10}", n.as_u64().unwrap_or(0))?;
        }
    }
    outln!(
        "  tcp handshakes seen: {}, picked up midstream: {}, SYN/ACKs with a wrong ACK ignored: {}",
        f["tcp_handshakes"],
        f["tcp_midstream"],
        f["tcp_synack_wrong_ack"]
    )?;
    outln!("\nTop talkers (by bytes)")?;
    if let Some(t) = r["top_talkers"].as_array() {
        for x in t {
            outln!(
                "  {:<40} {:>10} pkts {:>14} bytes",
                x["ip"].as_str().unwrap_or(""),
                get(x, "packets"),
                get(x, "bytes")
            )?;
        }
    }
    outln!("\nDecoder events")?;
    match r["decoder_events"].as_object() {
        Some(e) if !e.is_empty() => {
            for (name, n) in e {
                outln!("  {name:<32} {:>10}", n.as_u64().unwrap_or(0))?;
            }
        }
        _ => outln!("  none")?,
    }
    outln!("\nDefragmentation")?;
    if let Some(d) = r["defrag"].as_object() {
        for (name, n) in d {
            outln!("  {name:<32} {:>10}", n.as_u64().unwrap_or(0))?;
        }
    }
    outln!("\nTCP reassembly")?;
    if let Some(d) = r["reassembly"].as_object() {
        for (name, n) in d {
            match n.as_object() {
                Some(inner) => {
                    for (name, n) in inner {
                        outln!("  {name:<32} {:>10}", n.as_u64().unwrap_or(0))?;
                    }
                }
                None => outln!("  {name:<32} {:>10}", n.as_u64().unwrap_or(0))?,
            }
        }
    }
    Ok(())
}
