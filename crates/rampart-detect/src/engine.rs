//! The compiled rule set and its per-packet and per-stream-chunk matching.
//!
//! Signatures are grouped by what they inspect (TCP packets, TCP stream
//! data, UDP, ICMP, ICMPv6, other IP). Each group has one Aho-Corasick
//! automaton over its signatures' fast patterns: a payload is scanned once,
//! and only signatures whose fast pattern occurs (plus the few without one)
//! are verified. Verification is cheapest-first: protocol, addresses and
//! ports, flow, header keywords, flowbits conditions, then the payload
//! program.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use rampart_packet::decode::Transport;
use rampart_packet::Packet;
use rampart_rules::{ast, Action, Buffer, BufferRef, MatchKind, PortSet, Rule};

use crate::addrindex::{set_size, AddrIndex};
use crate::app::{
    apply_transforms, is_multi_buffer, AppInspect, FrameInput, TxBuffers, TxProto, TxSide,
    MAX_BUFFER_INSTANCES,
};
use crate::flowvars::FlowVars;
use crate::prefilter::{Prefilter, PrefilterBuilder};
use crate::program::{EvalStats, MAX_VARS};
use crate::signature::{compile, HeaderCheck, Names, ProtoClass, Signature};
use crate::threshold::ThresholdTable;

/// What a group of signatures inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    /// TCP packets (header rules and packet-only payload rules).
    TcpPacket,
    /// Reassembled TCP stream data.
    TcpStream,
    /// UDP packets.
    Udp,
    /// ICMPv4 packets.
    Icmp,
    /// ICMPv6 packets.
    Icmpv6,
    /// Other IP packets (and fragments without a transport header).
    Other,
    /// TCP packets of flows detected as one application protocol, for
    /// rules that need it (`alert smtp ... content:...`): scanned only
    /// for those flows, so that their patterns cost nothing elsewhere.
    TcpPacketApp(TxProto),
    /// Reassembled TCP stream data of flows of one application protocol.
    TcpStreamApp(TxProto),
}

/// The signatures of one port (or of no port) that have no fast pattern:
/// found by address or always verified.
#[derive(Debug, Default)]
struct SubGroup {
    /// The prefilter over this subgroup's fast patterns, shared between
    /// subgroups with the same signatures. A payload is scanned by the
    /// port-less rules' prefilter and by those of its two ports: several
    /// small pattern sets scan faster than one big one (and leave fewer
    /// candidates to verify), with either backend.
    prefilter: Option<Arc<Prefilter>>,
    /// Signatures without a fast pattern and with no selective address:
    /// always verified.
    always: Vec<u32>,
    /// Signatures without a fast pattern, found by source address.
    by_src_addr: AddrIndex,
    /// Signatures without a fast pattern, found by destination address.
    by_dst_addr: AddrIndex,
}

/// A side's address set is "selective" below this many addresses (a /4,
/// one sixteenth of IPv4): such rules are found through the address index
/// instead of being checked on every packet. Block lists of thousands of
/// networks and `$HOME_NET` qualify; `$EXTERNAL_NET` and `any` do not.
const SELECTIVE_ADDRESSES: u128 = 1 << 28;

/// Per-thread buffers reused across inspections (hundreds of thousands per
/// second: allocating them each time showed up in profiles).
#[derive(Debug, Default)]
struct Scratch {
    candidates: Vec<u32>,
    pids: Vec<u32>,
    /// Signatures that matched in an earlier pass over the same packet.
    matched: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// The signatures of one inspection kind, split by port as Suricata does:
/// a rule for `-> any 445` is only a candidate for traffic to port 445, so
/// most packets meet only the rules of their own ports plus the port-less
/// ones.
#[derive(Debug, Default)]
struct Group {
    generic: SubGroup,
    by_dst_port: foldhash::HashMap<u16, SubGroup>,
    by_src_port: foldhash::HashMap<u16, SubGroup>,
}

/// Rules naming at most this many ports are indexed per port.
const MAX_INDEXED_PORTS: usize = 64;

/// A rule that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// File the rule came from.
    pub file: String,
    /// Line it starts on.
    pub line: u32,
    /// Its sid.
    pub sid: u32,
    /// What is wrong.
    pub message: String,
}

/// Counters of matching work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// Packets and stream chunks inspected.
    pub inspections: u64,
    /// Signatures verified after the prefilter.
    pub candidates: u64,
    /// Bytes run through prefilter automata (a payload scanned by several
    /// port groups counts once per group).
    pub scanned_bytes: u64,
    /// Signatures that matched (before thresholds).
    pub matches: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Evaluation limits hit.
    pub eval: EvalStats,
}

/// The flow facts matching needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowView {
    /// EVE flow id.
    pub id: u64,
    /// The inspected data travels client → server.
    pub to_server: bool,
    /// The flow is established (TCP handshake done, or both directions seen).
    pub established: bool,
    /// TCP sequence space used so far by the client and by the server
    /// (`next_seq - isn`, as Suricata's `stream_size` measures it); `None`
    /// for flows without TCP streams.
    pub stream_sizes: Option<(u32, u32)>,
    /// The flow's application protocol, once detected (`alert dns` and
    /// `alert tls` rules on raw payload need it).
    pub app_proto: Option<TxProto>,
    /// Where protocol detection stands for the inspected direction, which
    /// `app-layer-protocol` tests.
    pub app_detect: AppDetect,
}

/// How far protocol detection got for one direction of a flow. Suricata
/// keeps this per direction (`alproto_ts`, `alproto_tc`) and
/// `app-layer-protocol` matches nothing, negated or not, until the
/// inspected direction is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AppDetect {
    /// Not decided yet.
    #[default]
    Pending,
    /// Decided: the flow's protocol, or `failed` when it has none.
    /// `now` marks the first packet of the direction since it was decided,
    /// the only packet a rule made of `app-layer-protocol` alone matches
    /// (Suricata's protocol-detection-only signatures).
    Done {
        /// This packet is the first one since detection finished.
        now: bool,
    },
}

/// A signature match that raised an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Index of the signature in [`DetectEngine::signatures`].
    pub sig: u32,
    /// Source of the inspected data.
    pub src: IpAddr,
    /// Destination of the inspected data.
    pub dst: IpAddr,
    /// Ports, for TCP and UDP.
    pub ports: Option<(u16, u16)>,
    /// IP protocol.
    pub proto: u8,
    /// The flow, when there is one.
    pub flow: Option<FlowView>,
    /// Whether the data came with a captured packet or from a flow being
    /// flushed at its end (EVE `pkt_src`).
    pub source: AlertSource,
}

/// Where the inspected data came from, as EVE's `pkt_src` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AlertSource {
    /// A captured packet (or stream data inspected with one).
    #[default]
    Wire,
    /// Stream data flushed when its flow ended (timeout, eviction, end of
    /// input): Suricata's pseudo packets.
    FlowEnd,
}

impl AlertSource {
    /// Suricata's `pkt_src` string.
    pub fn as_eve(self) -> &'static str {
        match self {
            AlertSource::Wire => "wire/pcap",
            AlertSource::FlowEnd => "stream (flow timeout)",
        }
    }
}

/// What is being inspected: a packet, or a chunk of stream data.
struct Subject<'a> {
    payload: &'a [u8],
    src: IpAddr,
    dst: IpAddr,
    ports: Option<(u16, u16)>,
    proto: u8,
    ip_version: u8,
    pkt: Option<&'a Packet<'a>>,
    flow: Option<FlowView>,
    stream: bool,
    ts_ns: u64,
    events: &'a [&'a str],
}

/// The raw bytes a transaction's signatures match their payload content
/// against, next to the app-layer buffers.
pub enum TxPayload<'a> {
    /// No raw bytes: payload content never matches.
    None,
    /// The bytes at hand (the datagram that made a DNS transaction ready).
    Bytes(&'a [u8]),
    /// Bytes that cost a copy to assemble (the HTTP message): made only
    /// when a candidate signature has payload content.
    Build(&'a dyn Fn() -> Vec<u8>),
}

/// A compiled, immutable rule set, shared by all workers.
#[derive(Debug)]
pub struct DetectEngine {
    sigs: Vec<Signature>,
    /// Looked up for every packet and transaction side: hashed with
    /// foldhash, not SipHash (the keys are not attacker-chosen).
    groups: foldhash::HashMap<GroupKey, Group>,
    /// Application-layer signatures, by the protocol and transaction side
    /// they inspect.
    app_groups: foldhash::HashMap<(TxProto, TxSide), AppGroup>,
    /// Frame signatures, by the frame type and side they inspect.
    frame_groups: HashMap<(Buffer, TxSide), AppGroup>,
    names: Names,
    /// Some active signature inspects an SSH HASSH buffer.
    ssh_hassh: bool,
    /// The protocols some active rule inspects frames of.
    frame_protos: Vec<TxProto>,
    /// Some active HTTP signature also has raw payload content.
    mixed_http: bool,
}

/// A transaction's buffers, each fetched (and transformed) from
/// [`TxBuffers`] at most once: a multi-buffer as all its instances.
struct BufferCache<'a> {
    tx: &'a dyn TxBuffers,
    fetched: Vec<(BufferRef, Vec<std::borrow::Cow<'a, [u8]>>)>,
}

impl<'a> BufferCache<'a> {
    fn new(tx: &'a dyn TxBuffers) -> Self {
        BufferCache {
            tx,
            fetched: Vec::new(),
        }
    }

    /// The instances of `buffer` (none when the transaction lacks it).
    fn get(&mut self, buffer: &BufferRef) -> &[std::borrow::Cow<'a, [u8]>] {
        let pos = match self.fetched.iter().position(|(b, _)| b == buffer) {
            Some(pos) => pos,
            None => {
                let tx = self.tx;
                let mut instances = Vec::new();
                if is_multi_buffer(buffer.buffer) {
                    for i in 0..MAX_BUFFER_INSTANCES {
                        match tx.get_multi(buffer.buffer, i) {
                            Some(b) => instances.push(b),
                            None => break,
                        }
                    }
                } else if let Some(b) = tx.get(buffer.buffer) {
                    instances.push(b);
                }
                if !buffer.transforms.is_empty() {
                    instances = instances
                        .into_iter()
                        .map(|b| apply_transforms(&buffer.transforms, b))
                        .collect();
                }
                self.fetched.push((buffer.clone(), instances));
                self.fetched.len() - 1
            }
        };
        self.fetched.get(pos).map_or(&[], |(_, v)| v.as_slice())
    }
}

/// Application-layer signatures of one transaction side: a prefilter per
/// buffer over the fast patterns that live in it, and the signatures
/// without a fast pattern.
#[derive(Debug, Default)]
struct AppGroup {
    by_buffer: Vec<(BufferRef, Prefilter)>,
    always: Vec<u32>,
}

/// The result of building an engine.
#[derive(Debug)]
pub struct Build {
    /// The engine.
    pub engine: DetectEngine,
    /// Rules that failed to compile.
    pub errors: Vec<CompileError>,
}

impl DetectEngine {
    /// Compiles parsed rules.
    pub fn build(rules: &[Rule]) -> Build {
        Self::build_from(rules.len(), rules.iter(), None)
    }

    /// [`DetectEngine::build`] with a loader for the files rules name.
    pub fn build_with(
        rules: &[Rule],
        loader: Option<std::sync::Arc<crate::dataset::FileLoader>>,
    ) -> Build {
        Self::build_from(rules.len(), rules.iter(), loader)
    }

    /// Like [`DetectEngine::build`], but takes the parsed rules and frees
    /// each one as soon as it is compiled: with a full ruleset the syntax
    /// trees are tens of MB, and the prefilters built next reuse that
    /// memory instead of adding to the peak. `loader` reads the files
    /// rules name (`dataset ... load FILE`); without one such rules are
    /// rejected.
    pub fn build_owned(
        rules: Vec<Rule>,
        loader: Option<std::sync::Arc<crate::dataset::FileLoader>>,
    ) -> Build {
        Self::build_from(rules.len(), rules.into_iter(), loader)
    }

    fn build_from<R: std::borrow::Borrow<Rule>>(
        n: usize,
        rules: impl Iterator<Item = R>,
        loader: Option<std::sync::Arc<crate::dataset::FileLoader>>,
    ) -> Build {
        let mut names = Names {
            datasets: loader
                .map(crate::dataset::Datasets::with_loader)
                .unwrap_or_default(),
            ..Names::default()
        };
        let mut sigs = Vec::with_capacity(n);
        let mut errors = Vec::new();
        for rule in rules {
            let rule = rule.borrow();
            match compile(rule, 0, &mut names) {
                Ok(sig) => sigs.push(sig),
                Err(message) => errors.push(CompileError {
                    file: rule.file.to_string(),
                    line: rule.line,
                    sid: rule.sid,
                    message,
                }),
            }
        }
        // Suricata's order: pass first, then drop/reject, then alert; within
        // that, rules that set flowbits before rules that only read them,
        // then by priority.
        sigs.sort_by_key(|s| {
            let action = match s.action {
                Action::Pass => 0,
                Action::Drop => 1,
                Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth => 2,
                _ => 3,
            };
            let bits = match (s.writes_flowbits(), s.reads_flowbits()) {
                (true, false) => 0,
                (true, true) => 1,
                (false, false) => 2,
                (false, true) => 3,
            };
            (action, bits, s.priority.unwrap_or(3), s.sid)
        });
        for (i, s) in sigs.iter_mut().enumerate() {
            s.index = i as u32;
        }
        // Compiling the prefilters is most of the load time: the packet and
        // stream groups and the application-layer groups build side by side.
        let (groups, (app_groups, frame_groups)) = std::thread::scope(|scope| {
            let app = scope.spawn(|| {
                let tx = build_app_groups(&sigs, |app, side| {
                    app.frame.is_none().then_some((app.proto, side))
                });
                let frames = build_app_groups(&sigs, |app, side| app.frame.map(|f| (f, side)));
                (tx, frames)
            });
            let groups = build_groups(&sigs);
            (groups, app.join().unwrap_or_default())
        });
        let ssh_hassh = sigs.iter().any(|s| {
            s.inactive.is_none()
                && s.app.as_ref().is_some_and(|a| {
                    a.buffers
                        .iter()
                        .any(|(b, _)| crate::app::is_ssh_hassh_buffer(b.buffer))
                })
        });
        let mut frame_protos: Vec<TxProto> = sigs
            .iter()
            .filter(|s| s.inactive.is_none())
            .filter_map(|s| s.app.as_ref())
            .filter(|a| a.frame.is_some())
            .map(|a| a.proto)
            .collect();
        frame_protos.sort();
        frame_protos.dedup();
        let mixed_http = sigs.iter().any(|s| {
            s.inactive.is_none()
                && !s.payload.is_empty()
                && s.app.as_ref().is_some_and(|a| a.proto == TxProto::Http)
        });
        Build {
            engine: DetectEngine {
                sigs,
                groups: groups.into_iter().collect(),
                app_groups: app_groups.into_iter().collect(),
                frame_groups,
                names,
                ssh_hassh,
                frame_protos,
                mixed_http,
            },
            errors,
        }
    }

    /// Whether SSH parsers should compute HASSH: some active rule uses
    /// `ssh.hassh`, `ssh.hassh.string`, `ssh.hassh.server` or
    /// `ssh.hassh.server.string` (Suricata turns HASSH on for such rules).
    pub fn uses_ssh_hassh(&self) -> bool {
        self.ssh_hassh
    }

    /// Whether parsers of `proto` should report frames: some active rule
    /// inspects frames of that protocol (`frame:dns.pdu`, `frame:sip.*`,
    /// `frame:rfb.pdu`). Frames cost a copy of their bytes, so parsers
    /// make them only then.
    pub fn uses_frames(&self, proto: TxProto) -> bool {
        self.frame_protos.contains(&proto)
    }

    /// Whether some active HTTP signature has raw payload content too:
    /// only then is each HTTP message assembled for it.
    pub fn has_mixed_http(&self) -> bool {
        self.mixed_http
    }

    /// The signatures, in evaluation order.
    pub fn signatures(&self) -> &[Signature] {
        &self.sigs
    }

    /// Mutable access for configuration applied after compilation (alert
    /// settings only: the prefilter groups are built and stay valid).
    pub(crate) fn signatures_mut(&mut self) -> &mut [Signature] {
        &mut self.sigs
    }

    /// Number of flowbit names (the size of per-flow bit sets).
    pub fn flowbit_count(&self) -> usize {
        self.names.flowbits.len()
    }

    /// Inspects one packet. `stream_active` says whether this packet's TCP
    /// payload goes into a reassembled stream; when it does not (no
    /// reassembly), stream signatures are run on the packet itself.
    /// `stream_chunk` is reassembled data of the packet's own direction that
    /// is ready for inspection with this packet: it is inspected first, and
    /// a signature that matched there is not tried again on the packet's
    /// payload (one alert per signature per packet, as in Suricata).
    #[allow(clippy::too_many_arguments)]
    pub fn inspect_packet(
        &self,
        pkt: &Packet<'_>,
        events: &[&str],
        ts_ns: u64,
        flow: Option<FlowView>,
        stream_active: bool,
        stream_chunk: Option<&[u8]>,
        vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = &pkt.ip else { return };
        let (key, extra) = match &pkt.transport {
            Some(Transport::Tcp(_)) => (
                GroupKey::TcpPacket,
                (!stream_active).then_some(GroupKey::TcpStream),
            ),
            Some(Transport::Udp(_)) => (GroupKey::Udp, None),
            Some(Transport::Icmpv4(_)) => (GroupKey::Icmp, None),
            Some(Transport::Icmpv6(_)) => (GroupKey::Icmpv6, None),
            // A transport header too short to decode still names its
            // protocol: `alert tcp ... decode-event:tcp.pkt_too_small` must
            // see it (as in Suricata).
            None if !is_fragment(ip) => match ip.protocol {
                6 => (GroupKey::TcpPacket, None),
                17 => (GroupKey::Udp, None),
                1 => (GroupKey::Icmp, None),
                58 => (GroupKey::Icmpv6, None),
                _ => (GroupKey::Other, None),
            },
            None => (GroupKey::Other, None),
        };
        let subject = Subject {
            payload: pkt.payload(),
            src: ip.src,
            dst: ip.dst,
            ports: pkt.ports(),
            proto: ip.protocol,
            ip_version: ip.version,
            pkt: Some(pkt),
            flow,
            stream: false,
            ts_ns,
            events,
        };
        // The flow's application protocol adds its groups (TCP only).
        let app = flow
            .and_then(|f| f.app_proto)
            .filter(|_| key == GroupKey::TcpPacket);
        let mut keys_buf = [key; 4];
        let mut n = 1;
        for k in [
            extra,
            app.map(GroupKey::TcpPacketApp),
            app.filter(|_| extra.is_some()).map(GroupKey::TcpStreamApp),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(slot) = keys_buf.get_mut(n) {
                *slot = k;
                n += 1;
            }
        }
        let packet_keys = keys_buf.get(..n).unwrap_or(&[]);
        let stream_app = app.map(GroupKey::TcpStreamApp);
        let stream_keys_buf = [
            GroupKey::TcpStream,
            stream_app.unwrap_or(GroupKey::TcpStream),
        ];
        let stream_keys = stream_keys_buf
            .get(..if stream_app.is_some() { 2 } else { 1 })
            .unwrap_or(&[]);
        let chunk_subject = match (stream_chunk, &pkt.transport, flow) {
            (Some(chunk), Some(Transport::Tcp(_)), Some(_)) if !chunk.is_empty() => Some(Subject {
                payload: chunk,
                pkt: None,
                stream: true,
                events: &[],
                ..subject
            }),
            _ => None,
        };
        match &chunk_subject {
            Some(chunk) => self.run(
                &[(stream_keys, chunk), (packet_keys, &subject)],
                vars,
                thresholds,
                stats,
                out,
            ),
            None => self.run(&[(packet_keys, &subject)], vars, thresholds, stats, out),
        }
    }

    /// Inspects a chunk of reassembled TCP data travelling `src` → `dst`.
    #[allow(clippy::too_many_arguments)]
    pub fn inspect_stream(
        &self,
        data: &[u8],
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        ts_ns: u64,
        flow: FlowView,
        vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) {
        let subject = Subject {
            payload: data,
            src: src.0,
            dst: dst.0,
            ports: Some((src.1, dst.1)),
            proto: 6,
            ip_version: if src.0.is_ipv4() { 4 } else { 6 },
            pkt: None,
            flow: Some(flow),
            stream: true,
            ts_ns,
            events: &[],
        };
        let keys_buf = [
            GroupKey::TcpStream,
            flow.app_proto
                .map_or(GroupKey::TcpStream, GroupKey::TcpStreamApp),
        ];
        let keys = keys_buf
            .get(..if flow.app_proto.is_some() { 2 } else { 1 })
            .unwrap_or(&[]);
        self.run(&[(keys, &subject)], vars, thresholds, stats, out);
    }

    /// Inspects one side of an application-layer transaction (an HTTP
    /// request once complete, or its response). `client` and `server` are
    /// the connection's endpoints; each signature sees them in the
    /// orientation its side implies (requests client → server, responses
    /// server → client unless the rule says `flow:to_server`). `payload`
    /// is what a signature's raw content matches next to its app-layer
    /// buffers: the datagram that made a DNS transaction ready, as
    /// Suricata inspects the packet with the transaction, or the HTTP
    /// message itself.
    #[allow(clippy::too_many_arguments)]
    pub fn inspect_tx_packet(
        &self,
        tx: &dyn TxBuffers,
        side: TxSide,
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        ts_ns: u64,
        flow: FlowView,
        payload: TxPayload<'_>,
        vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) {
        let Some(group) = self.app_groups.get(&(tx.proto(), side)) else {
            return;
        };
        self.inspect_app_group(
            group,
            tx,
            side,
            (client, server),
            ts_ns,
            flow,
            payload,
            vars,
            (thresholds, stats),
            out,
        );
    }

    /// Runs the frame signatures of `frame`'s type and side on it (a
    /// frame's only buffer is its own bytes). `client` and `server` are
    /// the connection's endpoints, as for [`DetectEngine::inspect_tx_packet`].
    #[allow(clippy::too_many_arguments)]
    pub fn inspect_frame(
        &self,
        frame: &FrameInput<'_>,
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        ts_ns: u64,
        flow: FlowView,
        vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) {
        let Some(group) = self.frame_groups.get(&(frame.buffer, frame.side)) else {
            return;
        };
        self.inspect_app_group(
            group,
            frame,
            frame.side,
            (client, server),
            ts_ns,
            flow,
            TxPayload::None,
            vars,
            (thresholds, stats),
            out,
        );
    }

    /// The application-layer signatures of `group` on one transaction
    /// side (or frame).
    #[allow(clippy::too_many_arguments)]
    fn inspect_app_group(
        &self,
        group: &AppGroup,
        tx: &dyn TxBuffers,
        side: TxSide,
        (client, server): ((IpAddr, u16), (IpAddr, u16)),
        ts_ns: u64,
        flow: FlowView,
        payload: TxPayload<'_>,
        vars: Option<&mut FlowVars>,
        (thresholds, stats): (&mut ThresholdTable, &mut DetectStats),
        out: &mut Vec<Alert>,
    ) {
        stats.inspections += 1;
        let ip_proto = tx.ip_proto();
        // Some buffers are assembled on request (`http.header`): fetch each
        // once per transaction, not once per candidate signature.
        let mut buffers = BufferCache::new(tx);
        let mut candidates: Vec<u32> = group.always.clone();
        let mut pids = Vec::new();
        for (buffer, pf) in &group.by_buffer {
            for bytes in buffers.get(buffer) {
                stats.scanned_bytes += bytes.len() as u64;
                pf.scan(bytes, &mut pids, &mut candidates);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        stats.candidates += candidates.len() as u64;
        // A built payload is made only when a candidate has raw content.
        let built;
        let payload: &[u8] = match payload {
            TxPayload::None => &[],
            TxPayload::Bytes(b) => b,
            TxPayload::Build(make) => {
                let needed = candidates.iter().any(|&i| {
                    self.sigs
                        .get(i as usize)
                        .is_some_and(|sig| !sig.payload.is_empty())
                });
                if needed {
                    built = make();
                    &built
                } else {
                    &[]
                }
            }
        };
        let subject = |from: (IpAddr, u16), to: (IpAddr, u16), to_server: bool| Subject {
            payload,
            src: from.0,
            dst: to.0,
            ports: Some((from.1, to.1)),
            proto: ip_proto,
            ip_version: if from.0.is_ipv4() { 4 } else { 6 },
            pkt: None,
            flow: Some(FlowView { to_server, ..flow }),
            stream: false,
            ts_ns,
            events: &[],
        };
        let request = subject(client, server, true);
        let response = subject(server, client, false);
        let mut empty = FlowVars::default();
        let mut vars = vars;
        for idx in candidates {
            let Some(sig) = self.sigs.get(idx as usize) else {
                continue;
            };
            let Some(app) = &sig.app else { continue };
            if !tx.wants(app) {
                continue;
            }
            let wants_request_view =
                side == TxSide::Request || sig.flow.is_some_and(|f| f.to_server == Some(true));
            let s = if wants_request_view {
                &request
            } else {
                &response
            };
            let v: &mut FlowVars = match vars.as_deref_mut() {
                Some(v) => v,
                None => &mut empty,
            };
            if !self.verify(sig, s, v, &thresholds.hostbits, &mut stats.eval) {
                continue;
            }
            let late = app.both_sides && side != app.side;
            let check = |c: &crate::app::AppCheck| {
                if late {
                    c.matches_late(tx)
                } else {
                    c.matches(tx)
                }
            };
            if !app.checks.iter().all(check) {
                continue;
            }
            let mut byte_vars = [0i64; MAX_VARS];
            let dce_big_endian = tx.dce_big_endian();
            let buffers_match = app.buffers.iter().all(|(buffer, program)| {
                buffers.get(buffer).iter().any(|bytes| {
                    program.matches_with_order(
                        bytes,
                        &mut byte_vars,
                        &mut stats.eval,
                        dce_big_endian,
                    )
                })
            });
            if buffers_match && !Self::on_match(sig, s, v, thresholds, stats, out) {
                return;
            }
        }
    }

    /// Runs inspection passes in order: each pass is the groups to consult
    /// and the buffer to inspect; a signature that matched in an earlier
    /// pass is skipped in later ones.
    fn run(
        &self,
        passes: &[(&[GroupKey], &Subject<'_>)],
        vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) {
        SCRATCH.with(|scratch| {
            // Re-entrancy cannot happen (matching calls no user code); if it
            // ever did, fresh buffers keep it correct.
            let mut fresh = Scratch::default();
            let mut guard = scratch.try_borrow_mut();
            let buffers = match guard.as_deref_mut() {
                Ok(b) => b,
                Err(_) => &mut fresh,
            };
            buffers.matched.clear();
            let mut vars = vars;
            for (keys, subject) in passes {
                stats.inspections += 1;
                if !self.run_with(
                    keys,
                    subject,
                    vars.as_deref_mut(),
                    thresholds,
                    stats,
                    out,
                    buffers,
                ) {
                    break;
                }
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn run_with(
        &self,
        keys: &[GroupKey],
        subject: &Subject<'_>,
        mut vars: Option<&mut FlowVars>,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
        scratch: &mut Scratch,
    ) -> bool {
        let Scratch {
            candidates,
            pids,
            matched,
        } = scratch;
        candidates.clear();
        for key in keys {
            let Some(group) = self.groups.get(key) else {
                continue;
            };
            let (by_dst, by_src) = match subject.ports {
                Some((sport, dport)) => {
                    (group.by_dst_port.get(&dport), group.by_src_port.get(&sport))
                }
                None => (None, None),
            };
            for sub in [Some(&group.generic), by_dst, by_src].into_iter().flatten() {
                if let (Some(pf), false) = (&sub.prefilter, subject.payload.is_empty()) {
                    stats.scanned_bytes += subject.payload.len() as u64;
                    pf.scan(subject.payload, pids, candidates);
                }
                candidates.extend_from_slice(&sub.always);
                candidates.extend_from_slice(sub.by_src_addr.lookup(subject.src));
                candidates.extend_from_slice(sub.by_dst_addr.lookup(subject.dst));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        stats.candidates += candidates.len() as u64;
        let mut empty = FlowVars::default();
        for &idx in candidates.iter() {
            if matched.contains(&idx) {
                continue;
            }
            let Some(sig) = self.sigs.get(idx as usize) else {
                continue;
            };
            let v: &mut FlowVars = match vars.as_deref_mut() {
                Some(v) => v,
                None => &mut empty,
            };
            if !self.verify(sig, subject, v, &thresholds.hostbits, &mut stats.eval) {
                continue;
            }
            matched.push(idx);
            if !Self::on_match(sig, subject, v, thresholds, stats, out) {
                return false;
            }
        }
        true
    }

    /// What follows a signature's match: flowbits and flowints take effect,
    /// then suppression and rate control decide whether it alerts. Returns
    /// `false` when a pass rule matched (inspection of this packet stops).
    fn on_match(
        sig: &Signature,
        subject: &Subject<'_>,
        v: &mut FlowVars,
        thresholds: &mut ThresholdTable,
        stats: &mut DetectStats,
        out: &mut Vec<Alert>,
    ) -> bool {
        stats.matches += 1;
        for op in &sig.flowbits {
            v.apply_bits(op);
        }
        for op in &sig.flowints {
            v.apply_int(op);
        }
        for op in &sig.xbits {
            thresholds
                .hostbits
                .apply(op, subject.src, subject.dst, subject.ts_ns);
        }
        if sig.action == Action::Pass {
            return false;
        }
        if sig.noalert
            || sig
                .suppress
                .iter()
                .any(|x| x.mutes(subject.src, subject.dst))
        {
            return true;
        }
        let mut allowed = true;
        if let Some(spec) = &sig.threshold {
            allowed &= thresholds.check(sig.index, spec, subject.src, subject.dst, subject.ts_ns);
        }
        if let Some(spec) = &sig.detection_filter {
            allowed &= thresholds.check(
                sig.index | 0x8000_0000,
                spec,
                subject.src,
                subject.dst,
                subject.ts_ns,
            );
        }
        if allowed {
            stats.alerts += 1;
            out.push(Alert {
                sig: sig.index,
                src: subject.src,
                dst: subject.dst,
                ports: subject.ports,
                proto: subject.proto,
                flow: subject.flow,
                source: AlertSource::Wire,
            });
        }
        true
    }

    fn verify(
        &self,
        sig: &Signature,
        s: &Subject<'_>,
        vars: &FlowVars,
        hosts: &crate::hostbits::HostBits,
        eval: &mut EvalStats,
    ) -> bool {
        if !sig
            .xbits
            .iter()
            .all(|x| hosts.check(x, s.src, s.dst, s.ts_ns))
        {
            return false;
        }
        if sig.inactive.is_some() {
            return false;
        }
        if sig.ip_version.is_some_and(|v| v != s.ip_version) {
            return false;
        }
        let proto_ok = match sig.proto {
            ProtoClass::Any => true,
            ProtoClass::Tcp => s.proto == 6,
            ProtoClass::Udp => s.proto == 17,
            ProtoClass::Icmp => s.proto == 1,
            ProtoClass::Icmpv6 => s.proto == 58,
            ProtoClass::Sctp => s.proto == 132,
        };
        if !proto_ok {
            return false;
        }
        let (sport, dport) = s.ports.unwrap_or((0, 0));
        if !sig.header_matches(s.src, sport, s.dst, dport, s.ports.is_some()) {
            return false;
        }
        if let Some(p) = sig.app_proto {
            if s.flow.and_then(|f| f.app_proto) != Some(p) {
                return false;
            }
        }
        if !sig.app_layer_protocol.is_empty() {
            let Some(f) = s.flow else { return false };
            let AppDetect::Done { now } = f.app_detect else {
                return false;
            };
            if sig.detection_only && !now {
                return false;
            }
            if !sig
                .app_layer_protocol
                .iter()
                .all(|c| c.matches(f.app_proto))
            {
                return false;
            }
        }
        if let Some(f) = &sig.flow {
            if !flow_ok(f, s) {
                return false;
            }
        }
        if !sig.stream_size.iter().all(|sz| stream_size_ok(sz, s.flow)) {
            return false;
        }
        if !sig.header.is_empty() {
            let Some(pkt) = s.pkt else { return false };
            if !sig.header.iter().all(|h| header_ok(h, pkt, s.events)) {
                return false;
            }
        }
        let mut byte_vars = [0i64; MAX_VARS];
        for (buffer, program) in &sig.header_buffers {
            let Some(bytes) = s.pkt.and_then(|p| header_bytes(p, *buffer)) else {
                return false;
            };
            if !program.matches_with(bytes, &mut byte_vars, eval) {
                return false;
            }
        }
        if !sig.flowbits.iter().all(|op| vars.check_bits(op)) {
            return false;
        }
        if !sig.flowints.iter().all(|op| vars.check_int(op)) {
            return false;
        }
        sig.payload.is_empty() || sig.payload.matches_with(s.payload, &mut byte_vars, eval)
    }
}

/// `stream_size`: compares the bytes each side has sent (its sequence
/// space, SYN included); a flow without TCP streams never matches.
fn stream_size_ok(sz: &ast::StreamSize, flow: Option<FlowView>) -> bool {
    let Some((client, server)) = flow.and_then(|f| f.stream_sizes) else {
        return false;
    };
    match sz.side {
        ast::StreamSide::Client => sz.cmp.matches(client),
        ast::StreamSide::Server => sz.cmp.matches(server),
        ast::StreamSide::Both => sz.cmp.matches(client) && sz.cmp.matches(server),
        ast::StreamSide::Either => sz.cmp.matches(client) || sz.cmp.matches(server),
    }
}

fn flow_ok(f: &ast::Flow, s: &Subject<'_>) -> bool {
    if let Some(want) = f.established {
        let est = s.flow.is_some_and(|fl| fl.established);
        if est != want {
            return false;
        }
    }
    if let Some(want) = f.to_server {
        match s.flow {
            Some(fl) if fl.to_server == want => {}
            _ => return false,
        }
    }
    if let Some(want_stream) = f.stream {
        if want_stream != s.stream {
            return false;
        }
    }
    true
}

/// The bytes of a packet header buffer (`ipv4.hdr`, `tcp.hdr`, ...).
fn header_bytes<'a>(pkt: &'a Packet<'a>, buffer: Buffer) -> Option<&'a [u8]> {
    let ip = pkt.ip.as_ref()?;
    match buffer {
        Buffer::Ipv4Hdr if ip.is_v4() => ip.packet.get(..ip.header_len),
        // Suricata's ipv6.hdr includes the extension headers.
        Buffer::Ipv6Hdr if !ip.is_v4() => ip.packet.get(..ip.header_len),
        Buffer::TcpHdr => match &pkt.transport {
            Some(Transport::Tcp(t)) => ip.payload.get(..t.header_len),
            _ => None,
        },
        Buffer::UdpHdr => match &pkt.transport {
            Some(Transport::Udp(_)) => ip.payload.get(..8),
            _ => None,
        },
        Buffer::Icmpv4Hdr => match &pkt.transport {
            Some(Transport::Icmpv4(_)) => ip.payload.get(..8),
            _ => None,
        },
        Buffer::Icmpv6Hdr => match &pkt.transport {
            Some(Transport::Icmpv6(_)) => ip.payload.get(..8),
            _ => None,
        },
        _ => None,
    }
}

fn header_ok(h: &HeaderCheck, pkt: &Packet<'_>, events: &[&str]) -> bool {
    let Some(ip) = &pkt.ip else { return false };
    let tcp = match &pkt.transport {
        Some(Transport::Tcp(t)) => Some(t),
        _ => None,
    };
    let icmp = match &pkt.transport {
        Some(Transport::Icmpv4(i)) | Some(Transport::Icmpv6(i)) => Some(i),
        _ => None,
    };
    match &h.0 {
        MatchKind::Dsize(c) => c.matches(u16::try_from(pkt.payload().len()).unwrap_or(u16::MAX)),
        MatchKind::Ttl(c) => c.matches(ip.ttl),
        MatchKind::Tos { value, negated } => (ip.tos == *value) != *negated,
        MatchKind::IpProto(c) => c.matches(ip.protocol),
        MatchKind::IpId(id) => ip.is_v4() && ip.id == u32::from(*id),
        MatchKind::Fragbits(fb) => {
            let mut bits = 0u16;
            if ip.reserved_flag {
                bits |= 0x8000;
            }
            if ip.dont_fragment {
                bits |= 0x4000;
            }
            if ip.fragment.is_some_and(|f| f.more) {
                bits |= 0x2000;
            }
            flag_match(bits, fb.bits, fb.mode, 0)
        }
        MatchKind::Fragoffset(c) => c.matches(
            u16::try_from(ip.fragment.map(|f| f.offset / 8).unwrap_or(0)).unwrap_or(u16::MAX),
        ),
        MatchKind::SameIp => ip.src == ip.dst,
        MatchKind::Flags(f) => match tcp {
            Some(t) => flag_match(
                t.flags & 0xff,
                u16::from(f.flags),
                f.mode,
                u16::from(f.ignore),
            ),
            None => false,
        },
        MatchKind::Seq(v) => tcp.is_some_and(|t| t.seq == *v),
        MatchKind::Ack(v) => tcp.is_some_and(|t| t.ack == *v),
        MatchKind::Window { size, negated } => tcp.is_some_and(|t| (t.window == *size) != *negated),
        MatchKind::TcpMss(c) => tcp.is_some_and(|t| mss(t.options).is_some_and(|m| c.matches(m))),
        MatchKind::Itype(c) => icmp.is_some_and(|i| c.matches(i.icmp_type)),
        MatchKind::Icode(c) => icmp.is_some_and(|i| c.matches(i.code)),
        MatchKind::IcmpId(c) => icmp.is_some_and(|i| c.matches(i.echo_id())),
        MatchKind::IcmpSeq(c) => icmp.is_some_and(|i| c.matches(i.echo_seq())),
        // ICMPv6 "packet too big" (type 2) carries the MTU in bytes 4..8.
        MatchKind::Icmpv6Mtu(c) => match &pkt.transport {
            Some(Transport::Icmpv6(i)) if i.icmp_type == 2 => c.matches(u32::from_be_bytes(i.rest)),
            _ => false,
        },
        MatchKind::DecodeEvent(name) => {
            let name = name.strip_prefix("decoder.").unwrap_or(name);
            events.contains(&name)
        }
        _ => false,
    }
}

/// Whether the packet is an IP fragment (its transport header, if any, is
/// decoded after defragmentation).
fn is_fragment(ip: &rampart_packet::decode::IpHeader<'_>) -> bool {
    ip.fragment.is_some()
}

/// `flags`/`fragbits` semantics: exact (all given bits and no others,
/// ignoring `ignore`), `+` all given bits, `*` any given bit, `!` none.
fn flag_match(actual: u16, want: u16, mode: ast::FlagMode, ignore: u16) -> bool {
    let actual = actual & !ignore;
    match mode {
        ast::FlagMode::Exact => actual == want,
        ast::FlagMode::All => actual & want == want,
        ast::FlagMode::Any => actual & want != 0,
        ast::FlagMode::Not => actual & want == 0,
    }
}

fn mss(options: &[u8]) -> Option<u16> {
    let mut i = 0usize;
    while let Some(&kind) = options.get(i) {
        match kind {
            0 => return None,
            1 => i += 1,
            _ => {
                let len = usize::from(*options.get(i + 1)?);
                if kind == 2 && len == 4 {
                    let b = options.get(i + 2..i + 4)?;
                    return Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
                }
                i += len.max(2);
            }
        }
    }
    None
}

fn build_subgroup(
    sigs: &[Signature],
    idxs: &[u32],
    prefilters: &mut HashMap<Vec<u32>, Arc<Prefilter>>,
) -> SubGroup {
    let with_pattern: Vec<u32> = idxs
        .iter()
        .copied()
        .filter(|&i| {
            sigs.get(i as usize)
                .is_some_and(|s| s.fast_pattern.is_some())
        })
        .collect();
    let prefilter = (!with_pattern.is_empty()).then(|| {
        prefilters
            .entry(with_pattern.clone())
            .or_insert_with(|| Arc::new(prefilter_of(sigs, &with_pattern)))
            .clone()
    });
    let mut always = Vec::new();
    let mut src_keyed = Vec::new();
    let mut dst_keyed = Vec::new();
    for &i in idxs {
        let Some(sig) = sigs.get(i as usize) else {
            continue;
        };
        if sig.fast_pattern.is_some() {
            // Found through a prefilter.
            continue;
        }
        if !sig.bidirectional {
            let (ss, ds) = (set_size(&sig.src), set_size(&sig.dst));
            if ss.min(ds) < SELECTIVE_ADDRESSES {
                if ss <= ds {
                    src_keyed.push((i, &*sig.src));
                } else {
                    dst_keyed.push((i, &*sig.dst));
                }
                continue;
            }
        }
        always.push(i);
    }
    SubGroup {
        prefilter,
        always,
        by_src_addr: AddrIndex::new(src_keyed),
        by_dst_addr: AddrIndex::new(dst_keyed),
    }
}

/// Groups application-layer signatures by what they inspect (`group_of`:
/// protocol and side for transactions, frame type and side for frames;
/// `None` leaves a signature out), with one prefilter per buffer
/// (transforms included) holding fast patterns.
fn build_app_groups<G>(
    sigs: &[Signature],
    group_of: impl Fn(&AppInspect, TxSide) -> Option<G>,
) -> HashMap<G, AppGroup>
where
    G: Copy + Eq + std::hash::Hash + Ord,
{
    type Key<G> = (G, BufferRef);
    let mut builders: HashMap<Key<G>, PrefilterBuilder> = HashMap::new();
    let mut groups: HashMap<G, AppGroup> = HashMap::new();
    for s in sigs {
        let (None, Some(app)) = (&s.inactive, &s.app) else {
            continue;
        };
        let other = match app.side {
            TxSide::Request => TxSide::Response,
            TxSide::Response => TxSide::Request,
        };
        let sides: &[TxSide] = if app.both_sides {
            &[app.side, other]
        } else {
            &[app.side]
        };
        for &side in sides {
            let Some(group) = group_of(app, side) else {
                continue;
            };
            match &app.fast_pattern {
                Some((buffer, p, nocase)) => {
                    builders
                        .entry((group, buffer.clone()))
                        .or_default()
                        .add(p, *nocase, None, s.index);
                }
                None => groups.entry(group).or_default().always.push(s.index),
            }
        }
    }
    let mut keys: Vec<Key<G>> = builders.keys().cloned().collect();
    keys.sort_by_key(|(group, b)| (*group, b.to_string()));
    for key in keys {
        if let Some(b) = builders.remove(&key) {
            let (group, buffer) = key;
            // HTTP buffers (URIs, headers, bodies) and frames (whole
            // messages) can be long: a DFA; DNS and TLS fields are short
            // and their pattern sets large.
            let long = buffer.buffer.is_frame()
                || crate::app::buffer_proto(buffer.buffer) == Some(TxProto::Http);
            let pf = if long { b.build() } else { b.build_compact() };
            groups
                .entry(group)
                .or_default()
                .by_buffer
                .push((buffer, pf));
        }
    }
    groups
}

/// A prefilter over the fast patterns of `idxs`.
fn prefilter_of(sigs: &[Signature], idxs: &[u32]) -> Prefilter {
    let mut prefilter = PrefilterBuilder::default();
    for &i in idxs {
        if let Some((p, nocase, bound)) = sigs.get(i as usize).and_then(|s| s.fast_pattern.as_ref())
        {
            prefilter.add(p, *nocase, *bound, i);
        }
    }
    prefilter.build()
}

fn build_groups(sigs: &[Signature]) -> HashMap<GroupKey, Group> {
    let mut members: HashMap<GroupKey, Vec<u32>> = HashMap::new();
    for s in sigs {
        if s.inactive.is_some() || s.app.is_some() {
            continue;
        }
        let app_keys;
        let keys: &[GroupKey] = match (s.proto, s.stream, s.app_proto) {
            // Rules on the raw data of one application protocol's TCP
            // flows live in groups of that protocol.
            (ProtoClass::Tcp, true, Some(p)) if s.also_packets => {
                app_keys = [GroupKey::TcpStreamApp(p), GroupKey::TcpPacketApp(p)];
                &app_keys
            }
            (ProtoClass::Tcp, true, Some(p)) => {
                app_keys = [GroupKey::TcpStreamApp(p), GroupKey::TcpStreamApp(p)];
                &app_keys[..1]
            }
            (ProtoClass::Tcp, false, Some(p)) => {
                app_keys = [GroupKey::TcpPacketApp(p), GroupKey::TcpPacketApp(p)];
                &app_keys[..1]
            }
            (ProtoClass::Tcp, true, None) if s.also_packets => {
                &[GroupKey::TcpStream, GroupKey::TcpPacket]
            }
            (ProtoClass::Tcp, true, None) => &[GroupKey::TcpStream],
            (ProtoClass::Tcp, false, None) => &[GroupKey::TcpPacket],
            (ProtoClass::Udp, _, _) => &[GroupKey::Udp],
            (ProtoClass::Icmp, _, _) => &[GroupKey::Icmp],
            (ProtoClass::Icmpv6, _, _) => &[GroupKey::Icmpv6],
            (ProtoClass::Sctp, _, _) => &[GroupKey::Other],
            (ProtoClass::Any, _, _) => &[
                GroupKey::TcpPacket,
                GroupKey::Udp,
                GroupKey::Icmp,
                GroupKey::Icmpv6,
                GroupKey::Other,
            ],
        };
        for k in keys {
            members.entry(*k).or_default().push(s.index);
        }
    }
    let mut groups = HashMap::new();
    for (key, idxs) in members {
        let mut shared = HashMap::new();
        let mut generic = Vec::new();
        let mut by_dst: HashMap<u16, Vec<u32>> = HashMap::new();
        let mut by_src: HashMap<u16, Vec<u32>> = HashMap::new();
        for i in idxs {
            let Some(sig) = sigs.get(i as usize) else {
                continue;
            };
            let ports = |set: &PortSet| -> Option<Vec<u16>> {
                let n: usize = set
                    .ranges()
                    .iter()
                    .map(|(a, b)| usize::from(b - a) + 1)
                    .sum();
                (!set.is_any() && n <= MAX_INDEXED_PORTS)
                    .then(|| set.ranges().iter().flat_map(|&(a, b)| a..=b).collect())
            };
            let port_keyed =
                matches!(sig.proto, ProtoClass::Tcp | ProtoClass::Udp) && !sig.bidirectional;
            match (
                port_keyed,
                port_keyed.then(|| ports(&sig.dst_ports)).flatten(),
            ) {
                (true, Some(list)) => list
                    .into_iter()
                    .for_each(|p| by_dst.entry(p).or_default().push(i)),
                _ => match port_keyed.then(|| ports(&sig.src_ports)).flatten() {
                    Some(list) => list
                        .into_iter()
                        .for_each(|p| by_src.entry(p).or_default().push(i)),
                    None => generic.push(i),
                },
            }
        }
        groups.insert(
            key,
            Group {
                generic: build_subgroup(sigs, &generic, &mut shared),
                by_dst_port: by_dst
                    .into_iter()
                    .map(|(p, v)| (p, build_subgroup(sigs, &v, &mut shared)))
                    .collect(),
                by_src_port: by_src
                    .into_iter()
                    .map(|(p, v)| (p, build_subgroup(sigs, &v, &mut shared)))
                    .collect(),
            },
        );
    }
    groups
}
