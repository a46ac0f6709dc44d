//! Compiling a parsed rule into a [`Signature`] the engine can run.
//!
//! Compilation resolves everything that does not depend on traffic:
//! variable names become slots, flowbit names become bit indices, payload
//! keywords become a [`Program`], the fast pattern is chosen, and the rule
//! is classified (packet or stream inspection, protocol class). Keywords the
//! engine cannot evaluate yet make the rule *inactive* with a reason (it is
//! loaded and listed, but never matches) rather than silently wrong.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use rampart_rules::{
    ast, Action, AddressSet, Buffer, BufferRef, Direction, MatchKind, NumOrVar, PortSet, Protocol,
    Rule,
};

use crate::bytes::{CmpOp, NumberFormat};
use crate::content::Literal;
use crate::flowvars::{FlowbitOp, FlowintCmp, FlowintOp, Interner};
use crate::pcre::{PcreFlags, PcreMatcher, DEFAULT_MATCH_LIMIT};
use crate::program::{
    ByteExtract, ByteJump, ByteMath, ByteTest, ContentStep, IsDataAt, MathOp, PcreStep, Program,
    SizeCheck, Step, Value, MAX_VARS,
};
use crate::threshold::{ThresholdKind, ThresholdSpec, Track};

/// Which transport a signature applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtoClass {
    /// Any IP packet (`ip`, `ipv4`, `ipv6`, `pkthdr`).
    Any,
    /// TCP (`tcp`, `tcp-pkt`, `tcp-stream`).
    Tcp,
    /// UDP.
    Udp,
    /// ICMPv4.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// SCTP.
    Sctp,
}

/// A header keyword evaluated on the packet.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderCheck(pub MatchKind);

/// Why a loaded rule can never match in this version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inactive {
    /// Stable grouping key for reports (e.g. "buffer http.uri").
    pub reason: String,
}

/// A rule compiled for the engine.
#[derive(Debug)]
pub struct Signature {
    /// Position in the engine (also the evaluation order).
    pub index: u32,
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// Alert message.
    pub msg: Arc<str>,
    /// Action.
    pub action: Action,
    /// Classtype name.
    pub classtype: Option<Arc<str>>,
    /// Explicit priority, if the rule has one.
    pub priority: Option<u32>,
    /// `metadata` as (key, value).
    pub metadata: Vec<(String, String)>,
    /// Protocol class.
    pub proto: ProtoClass,
    /// Header protocol restricted to one IP version.
    pub ip_version: Option<u8>,
    /// Source addresses.
    pub src: Arc<AddressSet>,
    /// Source ports.
    pub src_ports: Arc<PortSet>,
    /// Destination addresses.
    pub dst: Arc<AddressSet>,
    /// Destination ports.
    pub dst_ports: Arc<PortSet>,
    /// `<>`.
    pub bidirectional: bool,
    /// `flow` conditions.
    pub flow: Option<ast::Flow>,
    /// Header keywords.
    pub header: Vec<HeaderCheck>,
    /// `stream_size` conditions (TCP bytes sent per side so far).
    pub stream_size: Vec<ast::StreamSize>,
    /// The payload program (empty: no payload keywords).
    pub payload: Program,
    /// Programs over packet header buffers (`ipv4.hdr`, `tcp.hdr`, ...).
    pub header_buffers: Vec<(Buffer, Program)>,
    /// Payload is inspected on reassembled TCP stream data (else on packets).
    pub stream: bool,
    /// A stream signature that is also inspected on packet payloads.
    pub also_packets: bool,
    /// For signatures on application-layer buffers: what they inspect.
    pub app: Option<crate::app::AppInspect>,
    /// For `alert dns` / `alert tls` rules on raw payload or header
    /// keywords only: the protocol the flow must have been detected as.
    pub app_proto: Option<crate::app::TxProto>,
    /// `app-layer-protocol` conditions, all of which must hold.
    pub app_layer_protocol: Vec<AppLayerProtocolCheck>,
    /// A rule made of `app-layer-protocol` alone (with a direction and
    /// flowbit sets at most): it matches only on the first packet of a
    /// direction after protocol detection decided it, as Suricata's
    /// protocol-detection-only signatures do, not on every packet.
    pub detection_only: bool,
    /// Flowbit conditions and actions.
    pub flowbits: Vec<FlowbitOp>,
    /// `xbits` / `hostbits` conditions and actions (bits on hosts).
    pub xbits: Vec<crate::hostbits::XbitOp>,
    /// Flowint conditions and actions.
    pub flowints: Vec<FlowintOp>,
    /// `threshold`.
    pub threshold: Option<ThresholdSpec>,
    /// `detection_filter`.
    pub detection_filter: Option<ThresholdSpec>,
    /// `suppress` entries from a threshold file.
    pub suppress: Vec<crate::threshold_config::Suppression>,
    /// Match without alerting.
    pub noalert: bool,
    /// The prefilter pattern for the payload, as written, whether it
    /// matches without regard to case (`nocase`), and where in the buffer
    /// its content must end at the latest (absolute offset + depth).
    pub fast_pattern: Option<(Vec<u8>, bool, Option<usize>)>,

    /// Set when the rule cannot match in this version.
    pub inactive: Option<Inactive>,
}

impl Signature {
    /// Whether the (src, sport) → (dst, dport) orientation satisfies the header.
    pub fn header_matches(
        &self,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        ports: bool,
    ) -> bool {
        // Ports first: they are cheaper and more selective than addresses.
        let fwd = (!ports || (self.src_ports.contains(sport) && self.dst_ports.contains(dport)))
            && self.src.contains(src)
            && self.dst.contains(dst);
        fwd || (self.bidirectional
            && (!ports || (self.src_ports.contains(dport) && self.dst_ports.contains(sport)))
            && self.src.contains(dst)
            && self.dst.contains(src))
    }

    /// True when a match of this rule sets or clears flowbits (rules that
    /// do run before rules that only check, so a packet can set and test a
    /// bit in one pass, as in Suricata).
    pub fn writes_flowbits(&self) -> bool {
        self.flowbits.iter().any(|f| !f.is_condition())
    }

    /// True when the rule checks flowbits.
    pub fn reads_flowbits(&self) -> bool {
        self.flowbits.iter().any(FlowbitOp::is_condition)
    }
}

/// One `app-layer-protocol` condition on the inspected direction's
/// detected protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppLayerProtocolCheck {
    /// `None`: `failed`. `Some(None)`: a protocol Rampart never detects
    /// (or `unknown`), which no decided flow equals.
    want: Option<Option<crate::app::TxProto>>,
    negated: bool,
}

impl AppLayerProtocolCheck {
    /// The condition for the rule's protocol name (already checked by the
    /// parser). `http` covers HTTP/1 as in Suricata.
    fn new(name: &str, negated: bool) -> Self {
        use crate::app::TxProto;
        let want = match Protocol::parse(name) {
            _ if name.eq_ignore_ascii_case("failed") => None,
            Some(Protocol::Http | Protocol::Http1) => Some(Some(TxProto::Http)),
            Some(Protocol::Dns) => Some(Some(TxProto::Dns)),
            Some(Protocol::Tls) => Some(Some(TxProto::Tls)),
            Some(Protocol::Ssh) => Some(Some(TxProto::Ssh)),
            Some(Protocol::Smb) => Some(Some(TxProto::Smb)),
            Some(Protocol::Ftp) => Some(Some(TxProto::Ftp)),
            Some(Protocol::Dcerpc) => Some(Some(TxProto::Dcerpc)),
            Some(Protocol::Smtp) => Some(Some(TxProto::Smtp)),
            Some(Protocol::Krb5) => Some(Some(TxProto::Krb5)),
            Some(Protocol::Snmp) => Some(Some(TxProto::Snmp)),
            Some(Protocol::Ike) => Some(Some(TxProto::Ike)),
            Some(Protocol::FtpData) => Some(Some(TxProto::FtpData)),
            Some(Protocol::Sip) => Some(Some(TxProto::Sip)),
            Some(Protocol::Rfb) => Some(Some(TxProto::Rfb)),
            Some(Protocol::Quic) => Some(Some(TxProto::Quic)),
            Some(Protocol::Http2) => Some(Some(TxProto::Http2)),
            Some(Protocol::Nfs) => Some(Some(TxProto::Nfs)),
            _ => Some(None),
        };
        AppLayerProtocolCheck { want, negated }
    }

    /// Whether a direction decided as `proto` (`None`: detection failed)
    /// satisfies the condition.
    pub fn matches(&self, proto: Option<crate::app::TxProto>) -> bool {
        let equal = match self.want {
            None => proto.is_none(),
            Some(want) => want.is_some() && want == proto,
        };
        equal != self.negated
    }
}

/// Shared name tables filled while compiling a rule set.
#[derive(Debug, Default)]
pub struct Names {
    /// Flowbit names.
    pub flowbits: Interner,
    /// Flowint names.
    pub flowints: Interner,
    /// xbits / hostbits names.
    pub xbits: Interner,
    /// Datasets and reputation lists, with the loader for their files.
    pub datasets: crate::dataset::Datasets,
}

/// Compiles one rule. `Err` is a reason the rule cannot be loaded at all
/// (for example an invalid pcre); unsupported-but-valid keywords give an
/// inactive signature instead.
pub fn compile(rule: &Rule, index: u32, names: &mut Names) -> Result<Signature, String> {
    let mut inactive: Option<Inactive> = None;
    let mut mark = |reason: String| {
        if inactive.is_none() {
            inactive = Some(Inactive { reason });
        }
    };
    let (proto, ip_version) = match &rule.protocol {
        Protocol::Ip | Protocol::Pkthdr => (ProtoClass::Any, None),
        Protocol::Ipv4 => (ProtoClass::Any, Some(4)),
        Protocol::Ipv6 => (ProtoClass::Any, Some(6)),
        Protocol::Tcp | Protocol::TcpPkt | Protocol::TcpStream => (ProtoClass::Tcp, None),
        Protocol::Udp => (ProtoClass::Udp, None),
        Protocol::Icmp => (ProtoClass::Icmp, None),
        Protocol::Icmpv6 => (ProtoClass::Icmpv6, None),
        Protocol::Sctp => (ProtoClass::Sctp, None),
        // HTTP, TLS and SSH rules inspect transactions of TCP flows, DNS
        // rules those of UDP and TCP flows (checked below).
        Protocol::Http | Protocol::Http1 | Protocol::Tls | Protocol::Ssh => (ProtoClass::Tcp, None),
        // Detected without a parser: rules on packets and streams only
        // (checked below).
        Protocol::Smb | Protocol::Ftp | Protocol::Dcerpc => (ProtoClass::Tcp, None),
        // Raw rules on SMTP flows, file and event rules on its mails.
        Protocol::Smtp => (ProtoClass::Tcp, None),
        Protocol::Dns => (ProtoClass::Any, None),
        // Kerberos over UDP and TCP, SNMP over UDP.
        Protocol::Krb5 => (ProtoClass::Any, None),
        Protocol::Snmp => (ProtoClass::Udp, None),
        // IKE over UDP: raw rules on its flows, keyword rules on its
        // messages.
        Protocol::Ike => (ProtoClass::Udp, None),
        // Raw rules on FTP data connections.
        Protocol::FtpData => (ProtoClass::Tcp, None),
        // SIP over UDP and TCP; RFB over TCP.
        Protocol::Sip => (ProtoClass::Any, None),
        Protocol::Rfb => (ProtoClass::Tcp, None),
        // QUIC over UDP.
        Protocol::Quic => (ProtoClass::Udp, None),
        // HTTP/2 over cleartext TCP.
        Protocol::Http2 => (ProtoClass::Tcp, None),
        // NFS over UDP and TCP.
        Protocol::Nfs => (ProtoClass::Any, None),
        other => {
            mark(format!("app-layer protocol {}", other.name()));
            (ProtoClass::Tcp, None)
        }
    };

    let mut app_layer_protocol: Vec<AppLayerProtocolCheck> = Vec::new();
    let mut vars: HashMap<&str, u8> = HashMap::new();
    // Steps per inspected buffer (with its transforms), in order of first
    // use.
    let mut by_buffer: Vec<(BufferRef, Vec<Step>)> = Vec::new();
    // Per `by_buffer` entry: the declaration of its multi-buffer (each
    // `http.request_header;` matches an instance of its own, as in
    // Suricata; 0 for other buffers).
    let mut by_buffer_decl: Vec<usize> = Vec::new();
    let mut decl = 0usize;
    let mut app_checks: Vec<(crate::app::AppCheck, Option<crate::app::TxProto>)> = Vec::new();
    let mut header = Vec::new();
    let mut stream_size = Vec::new();
    for (mi, m) in rule.matches.iter().enumerate() {
        // `urilen` is a size check on the (normalised or raw) URI buffer.
        if let MatchKind::Urilen(u) = &m.kind {
            let target = BufferRef {
                buffer: if u.raw {
                    Buffer::HttpUriRaw
                } else {
                    Buffer::HttpUri
                },
                transforms: Vec::new(),
            };
            let check = Step::Size(size_check(&widen_cmp(u.cmp)));
            match by_buffer.iter_mut().find(|(b, _)| *b == target) {
                Some((_, steps)) => steps.push(check),
                None => {
                    by_buffer.push((target, vec![check]));
                    by_buffer_decl.push(0);
                }
            }
            continue;
        }
        let mut target = BufferRef::PAYLOAD;
        if let Some(b) = m.buffer() {
            let app = crate::app::buffer_proto(b.buffer).is_some();
            if b.buffer != Buffer::Payload
                && b.buffer != Buffer::Base64Data
                && !is_packet_header_buffer(b.buffer)
                && !app
            {
                mark(format!("buffer {}", b.buffer.name()));
                continue;
            }
            let transforms_ok = app && b.transforms.iter().all(crate::app::transform_supported);
            if !b.transforms.is_empty() && !transforms_ok {
                mark(format!("transform on {}", b.buffer.name()));
                continue;
            }
            for t in &b.transforms {
                crate::app::check_transform(t)?;
            }
            target = b.clone();
        }
        if rule.buffer_starts.contains(&mi) {
            decl += 1;
        }
        let this_decl = if crate::app::is_multi_buffer(target.buffer) {
            decl
        } else {
            0
        };
        let pos = match by_buffer
            .iter()
            .zip(&by_buffer_decl)
            .position(|((b, _), &d)| *b == target && d == this_decl)
        {
            Some(p) => p,
            None => {
                by_buffer.push((target, Vec::new()));
                by_buffer_decl.push(this_decl);
                by_buffer.len() - 1
            }
        };
        let Some((_, steps)) = by_buffer.get_mut(pos) else {
            continue;
        };
        match &m.kind {
            MatchKind::Content(c) => {
                let mut step = ContentStep::new(Literal::new(&c.pattern, c.nocase));
                step.negated = c.negated;
                step.offset = c.offset.as_ref().map(|v| value_u32(v, &vars));
                step.depth = c.depth.as_ref().map(|v| value_u32(v, &vars));
                step.distance = c.distance.as_ref().map(|v| value_i32(v, &vars));
                step.within = c.within.as_ref().map(|v| value_i32(v, &vars));
                step.startswith = c.startswith;
                step.endswith = c.endswith;
                steps.push(Step::Content(Box::new(step)));
            }
            MatchKind::Pcre(p) => {
                let flags = PcreFlags {
                    caseless: p.flags.caseless,
                    dotall: p.flags.dotall,
                    multiline: p.flags.multiline,
                    extended: p.flags.extended,
                    anchored: p.flags.anchored,
                    ungreedy: p.flags.ungreedy,
                };
                let matcher = PcreMatcher::new(&p.pattern, flags, DEFAULT_MATCH_LIMIT)
                    .map_err(|e| e.to_string())?;
                steps.push(Step::Pcre(Box::new(PcreStep {
                    matcher,
                    negated: p.negated,
                    relative: p.flags.relative,
                })));
            }
            MatchKind::IsDataAt(i) => steps.push(Step::IsDataAt(IsDataAt {
                offset: match &i.offset {
                    NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
                    NumOrVar::Var(v) => var_value(v, &vars),
                },
                relative: i.relative,
                negated: i.negated,
            })),
            MatchKind::ByteTest(b) => {
                steps.push(Step::ByteTest(ByteTest {
                    nbytes: match &b.nbytes {
                        NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
                        NumOrVar::Var(v) => var_value(v, &vars),
                    },
                    op: cmp_op(b.op),
                    negated: b.negated,
                    value: match &b.value {
                        NumOrVar::Num(n) => Value::Lit(i64::try_from(*n).unwrap_or(i64::MAX)),
                        NumOrVar::Var(v) => var_value(v, &vars),
                    },
                    offset: value_i32(&b.offset, &vars),
                    relative: b.relative,
                    format: number_format(b.endian, b.string),
                    bitmask: b.bitmask.map(u64::from),
                }));
            }
            MatchKind::ByteJump(b) => steps.push(Step::ByteJump(ByteJump {
                nbytes: usize::from(b.nbytes),
                offset: value_i32(&b.offset, &vars),
                relative: b.relative,
                format: number_format(b.endian, b.string),
                multiplier: u64::from(b.multiplier.unwrap_or(1)),
                align: b.align,
                from_beginning: b.from == ast::JumpFrom::Beginning,
                from_end: b.from == ast::JumpFrom::End,
                post_offset: i64::from(b.post_offset.unwrap_or(0)),
                bitmask: b.bitmask.map(u64::from),
            })),
            MatchKind::ByteExtract(b) => {
                let slot = new_var(&mut vars, &b.name)?;
                steps.push(Step::ByteExtract(ByteExtract {
                    nbytes: usize::from(b.nbytes),
                    offset: Value::Lit(i64::from(b.offset)),
                    relative: b.relative,
                    format: number_format(b.endian, b.string),
                    multiplier: u64::from(b.multiplier.unwrap_or(1)),
                    align: u64::from(b.align.unwrap_or(0)),
                    bitmask: b.bitmask.map(u64::from),
                    var: slot,
                }));
            }
            MatchKind::ByteMath(b) => {
                let nbytes = match &b.nbytes {
                    NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
                    NumOrVar::Var(v) => var_value(v, &vars),
                };
                let rvalue = match &b.rvalue {
                    NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
                    NumOrVar::Var(v) => var_value(v, &vars),
                };
                let slot = new_var(&mut vars, &b.result)?;
                steps.push(Step::ByteMath(ByteMath {
                    nbytes,
                    offset: Value::Lit(i64::from(b.offset)),
                    relative: b.relative,
                    format: number_format(b.endian, b.string),
                    op: match b.oper {
                        ast::ByteMathOp::Add => MathOp::Add,
                        ast::ByteMathOp::Sub => MathOp::Sub,
                        ast::ByteMathOp::Mul => MathOp::Mul,
                        ast::ByteMathOp::Div => MathOp::Div,
                        ast::ByteMathOp::Shl => MathOp::Shl,
                        ast::ByteMathOp::Shr => MathOp::Shr,
                    },
                    rvalue,
                    bitmask: b.bitmask.map(u64::from),
                    var: slot,
                }));
            }
            MatchKind::Bsize(b) => steps.push(Step::Size(size_check(&b.cmp))),
            MatchKind::Dataset(d) => {
                let set = names
                    .datasets
                    .set(&rule.file, &d.name, d.kind, d.load.as_deref())?;
                steps.push(Step::Dataset(Box::new(crate::program::DatasetStep {
                    cmd: d.cmd,
                    set,
                })));
            }
            MatchKind::Datarep(d) => {
                let rep =
                    names
                        .datasets
                        .reputation(&rule.file, &d.name, d.kind, d.load.as_deref())?;
                steps.push(Step::Datarep(Box::new(crate::program::DatarepStep {
                    rep,
                    cmp: d.cmp,
                })));
            }
            MatchKind::Base64Decode(d) => {
                steps.push(Step::Base64(Box::new(crate::program::Base64Step {
                    bytes: d.bytes,
                    offset: d.offset.unwrap_or(0),
                    relative: d.relative,
                    data: Program::default(),
                })))
            }
            MatchKind::Dsize(_)
            | MatchKind::Ttl(_)
            | MatchKind::Tos { .. }
            | MatchKind::IpProto(_)
            | MatchKind::IpId(_)
            | MatchKind::Fragbits(_)
            | MatchKind::Fragoffset(_)
            | MatchKind::SameIp
            | MatchKind::Flags(_)
            | MatchKind::Seq(_)
            | MatchKind::Ack(_)
            | MatchKind::Window { .. }
            | MatchKind::TcpMss(_)
            | MatchKind::Itype(_)
            | MatchKind::Icode(_)
            | MatchKind::IcmpId(_)
            | MatchKind::IcmpSeq(_)
            | MatchKind::Icmpv6Mtu(_)
            | MatchKind::DecodeEvent(_) => header.push(HeaderCheck(m.kind.clone())),
            MatchKind::StreamSize(sz) => stream_size.push(*sz),
            MatchKind::DnsOpcode { opcode, negated } => app_checks.push((
                crate::app::AppCheck::DnsOpcode {
                    opcode: *opcode,
                    negated: *negated,
                },
                Some(crate::app::TxProto::Dns),
            )),
            // File hashes are known for SMTP attachments only.
            MatchKind::FileMd5 { file, negated } => {
                if rule.protocol != Protocol::Smtp {
                    mark("keyword filemd5 outside an smtp rule".into());
                    continue;
                }
                let list = names.datasets.set(
                    &rule.file,
                    &format!("filemd5 {file}"),
                    rampart_rules::DatasetType::Md5,
                    Some(file),
                )?;
                app_checks.push((
                    crate::app::AppCheck::FileMd5 {
                        list: crate::app::Md5List(list),
                        negated: *negated,
                    },
                    Some(crate::app::TxProto::Smtp),
                ));
            }
            MatchKind::RfbSectype(cmp) => app_checks.push((
                crate::app::AppCheck::RfbSectype(*cmp),
                Some(crate::app::TxProto::Rfb),
            )),
            MatchKind::RfbSecresult(cmp) => app_checks.push((
                crate::app::AppCheck::RfbSecresult(*cmp),
                Some(crate::app::TxProto::Rfb),
            )),
            MatchKind::TlsVersion(v) => app_checks.push((
                crate::app::AppCheck::TlsVersion(*v),
                Some(crate::app::TxProto::Tls),
            )),
            MatchKind::DceIface(i) => app_checks.push((
                crate::app::AppCheck::DceIface(*i),
                Some(crate::app::TxProto::Dcerpc),
            )),
            MatchKind::DceOpnum(r) => app_checks.push((
                crate::app::AppCheck::DceOpnum(r.clone()),
                Some(crate::app::TxProto::Dcerpc),
            )),
            MatchKind::Krb5MsgType(cmp) => app_checks.push((
                crate::app::AppCheck::Krb5MsgType(*cmp),
                Some(crate::app::TxProto::Krb5),
            )),
            MatchKind::Krb5ErrCode(code) => app_checks.push((
                crate::app::AppCheck::Krb5ErrCode(*code),
                Some(crate::app::TxProto::Krb5),
            )),
            MatchKind::Krb5TicketEncryption(e) => app_checks.push((
                crate::app::AppCheck::Krb5TicketEncryption(e.clone()),
                Some(crate::app::TxProto::Krb5),
            )),
            MatchKind::SnmpVersion(cmp) => app_checks.push((
                crate::app::AppCheck::SnmpVersion(*cmp),
                Some(crate::app::TxProto::Snmp),
            )),
            MatchKind::Http2FrameType(cmp) => app_checks.push((
                crate::app::AppCheck::Http2Values(crate::app::TxValue::Http2FrameType, *cmp),
                Some(crate::app::TxProto::Http2),
            )),
            MatchKind::Http2ErrorCode(cmp) => app_checks.push((
                crate::app::AppCheck::Http2Values(crate::app::TxValue::Http2ErrorCode, *cmp),
                Some(crate::app::TxProto::Http2),
            )),
            MatchKind::SnmpPduType(cmp) => app_checks.push((
                crate::app::AppCheck::SnmpPduType(*cmp),
                Some(crate::app::TxProto::Snmp),
            )),
            // Events of the parsers that report them; others stay
            // unsupported rather than silently never matching.
            MatchKind::AppLayerEvent(name)
                if name.starts_with("dns.")
                    || name.starts_with("tls.")
                    || name
                        .strip_prefix("http.")
                        .is_some_and(|e| crate::app::HTTP_EVENTS.contains(&e))
                    || name
                        .strip_prefix("ssh.")
                        .is_some_and(|e| crate::app::SSH_EVENTS.contains(&e))
                    || name
                        .strip_prefix("smtp.")
                        .is_some_and(|e| crate::app::SMTP_EVENTS.contains(&e))
                    || name
                        .strip_prefix("smb.")
                        .is_some_and(|e| crate::app::SMB_EVENTS.contains(&e))
                    || name
                        .strip_prefix("krb5.")
                        .is_some_and(|e| crate::app::KRB5_EVENTS.contains(&e))
                    || name
                        .strip_prefix("snmp.")
                        .is_some_and(|e| crate::app::SNMP_EVENTS.contains(&e))
                    || name
                        .strip_prefix("ftp.")
                        .is_some_and(|e| crate::app::FTP_EVENTS.contains(&e))
                    || name
                        .strip_prefix("ike.")
                        .or_else(|| name.strip_prefix("ikev2."))
                        .is_some_and(|e| crate::app::IKE_EVENTS.contains(&e))
                    || name
                        .strip_prefix("quic.")
                        .is_some_and(|e| crate::app::QUIC_EVENTS.contains(&e))
                    || name
                        .strip_prefix("http2.")
                        .is_some_and(|e| crate::app::HTTP2_EVENTS.contains(&e))
                    || name
                        .strip_prefix("nfs.")
                        .is_some_and(|e| crate::app::NFS_EVENTS.contains(&e)) =>
            {
                let (proto, event) = match name.split_once('.') {
                    Some(("ike" | "ikev2", e)) => (crate::app::TxProto::Ike, e),
                    Some(("dns", e)) => (crate::app::TxProto::Dns, e),
                    Some(("krb5", e)) => (crate::app::TxProto::Krb5, e),
                    Some(("snmp", e)) => (crate::app::TxProto::Snmp, e),
                    Some(("ftp", e)) => (crate::app::TxProto::Ftp, e),
                    Some(("quic", e)) => (crate::app::TxProto::Quic, e),
                    Some(("http2", e)) => (crate::app::TxProto::Http2, e),
                    Some(("nfs", e)) => (crate::app::TxProto::Nfs, e),
                    Some(("smtp", e)) => (crate::app::TxProto::Smtp, e),
                    Some(("smb", e)) => (crate::app::TxProto::Smb, e),
                    Some(("http", e)) => (crate::app::TxProto::Http, e),
                    Some(("ssh", e)) => (crate::app::TxProto::Ssh, e),
                    Some((_, e)) => (crate::app::TxProto::Tls, e),
                    None => continue,
                };
                app_checks.push((crate::app::AppCheck::Event(event.to_string()), Some(proto)));
            }
            // File sizes are known for SMB and NFS files only (HTTP bodies
            // are not tracked as files with a final size yet).
            MatchKind::Filesize(cmp)
                if !matches!(rule.protocol, Protocol::Http | Protocol::Http1) =>
            {
                let proto = if rule.protocol == Protocol::Nfs {
                    crate::app::TxProto::Nfs
                } else {
                    crate::app::TxProto::Smb
                };
                app_checks.push((crate::app::AppCheck::Filesize(*cmp), Some(proto)))
            }
            // `filestore` makes an NFS rule a file rule (once per file, as
            // in Suricata); elsewhere nothing is stored and nothing
            // changes.
            MatchKind::Filestore => {
                if rule.protocol == Protocol::Nfs {
                    app_checks.push((
                        crate::app::AppCheck::HasFile,
                        Some(crate::app::TxProto::Nfs),
                    ));
                }
            }
            MatchKind::NfsProcedure(c) => app_checks.push((
                crate::app::AppCheck::NfsProcedure(*c),
                Some(crate::app::TxProto::Nfs),
            )),
            MatchKind::NfsVersion(c) => app_checks.push((
                crate::app::AppCheck::NfsVersion(*c),
                Some(crate::app::TxProto::Nfs),
            )),
            MatchKind::IkeExchType(c) => app_checks.push((
                crate::app::AppCheck::IkeValue(crate::app::TxValue::IkeExchType, widen_cmp8(*c)),
                Some(crate::app::TxProto::Ike),
            )),
            MatchKind::IkeKeyExchangePayloadLength(c) => app_checks.push((
                crate::app::AppCheck::IkeValue(crate::app::TxValue::IkeKeyExchangeLength, *c),
                Some(crate::app::TxProto::Ike),
            )),
            MatchKind::IkeNoncePayloadLength(c) => app_checks.push((
                crate::app::AppCheck::IkeValue(crate::app::TxValue::IkeNonceLength, *c),
                Some(crate::app::TxProto::Ike),
            )),
            MatchKind::IkeChosenSaAttribute { name, value } => app_checks.push((
                crate::app::AppCheck::IkeSaAttribute {
                    name: name.clone(),
                    value: *value,
                },
                Some(crate::app::TxProto::Ike),
            )),
            MatchKind::FtpReplyReceived(yes) => app_checks.push((
                crate::app::AppCheck::FtpReplyReceived(*yes),
                Some(crate::app::TxProto::Ftp),
            )),
            MatchKind::FtpMode { active } => app_checks.push((
                crate::app::AppCheck::FtpMode(*active),
                Some(crate::app::TxProto::Ftp),
            )),
            MatchKind::Ftpbounce => app_checks.push((
                crate::app::AppCheck::FtpBounce,
                Some(crate::app::TxProto::Ftp),
            )),
            MatchKind::AppLayerProtocol(a) => {
                app_layer_protocol.push(AppLayerProtocolCheck::new(&a.protocol, a.negated))
            }
            other => mark(format!("keyword {}", other.keyword())),
        }
    }
    let mut xbits = Vec::new();
    for x in &rule.xbits {
        if x.cmd == ast::BitCommand::NoAlert {
            mark("xbits:noalert".into());
            continue;
        }
        xbits.push(crate::hostbits::XbitOp {
            cmd: x.cmd,
            bit: names.xbits.intern(&x.name),
            // hostbits without a direction keep the bit on the source.
            track: x.track.unwrap_or(ast::XbitsTrack::IpSrc),
            expire_secs: x.expire.unwrap_or(crate::hostbits::DEFAULT_EXPIRE_SECS),
        });
    }
    attach_base64_data(&mut by_buffer, &mut mark);

    let mut flowbits = Vec::new();
    let mut noalert = rule.noalert;
    for f in &rule.flowbits {
        let ids: Vec<u32> = f.names.iter().map(|n| names.flowbits.intern(n)).collect();
        flowbits.push(match f.cmd {
            ast::BitCommand::Set => FlowbitOp::Set(ids),
            ast::BitCommand::Unset => FlowbitOp::Unset(ids),
            ast::BitCommand::Toggle => FlowbitOp::Toggle(ids),
            ast::BitCommand::IsSet => FlowbitOp::IsSet {
                bits: ids,
                any: f.any,
            },
            ast::BitCommand::IsNotSet => FlowbitOp::IsNotSet {
                bits: ids,
                any: f.any,
            },
            ast::BitCommand::NoAlert => {
                noalert = true;
                continue;
            }
        });
    }
    let mut flowints = Vec::new();
    for f in &rule.flowints {
        let id = names.flowints.intern(&f.name);
        let v = match &f.value {
            Some(NumOrVar::Num(n)) => i64::from(*n),
            Some(NumOrVar::Var(_)) => {
                mark("flowint with a variable operand".into());
                0
            }
            None => 0,
        };
        flowints.push(match f.op {
            ast::FlowintOp::Set => FlowintOp::Set(id, v),
            ast::FlowintOp::Add => FlowintOp::Add(id, v),
            ast::FlowintOp::Sub => FlowintOp::Sub(id, v),
            ast::FlowintOp::IsSet => FlowintOp::IsSet(id),
            ast::FlowintOp::NotSet => FlowintOp::IsNotSet(id),
            ast::FlowintOp::Eq => FlowintOp::Cmp(id, FlowintCmp::Eq, v),
            ast::FlowintOp::Ne => FlowintOp::Cmp(id, FlowintCmp::Ne, v),
            ast::FlowintOp::Lt => FlowintOp::Cmp(id, FlowintCmp::Lt, v),
            ast::FlowintOp::Le => FlowintOp::Cmp(id, FlowintCmp::Le, v),
            ast::FlowintOp::Gt => FlowintOp::Cmp(id, FlowintCmp::Gt, v),
            ast::FlowintOp::Ge => FlowintOp::Cmp(id, FlowintCmp::Ge, v),
        });
    }

    let mut payload = Program::default();
    let mut header_buffers = Vec::new();
    let mut app_buffers = Vec::new();
    for (b, steps) in by_buffer {
        if b.buffer == Buffer::Payload {
            payload = Program::new(steps);
        } else if crate::app::buffer_proto(b.buffer).is_some() {
            app_buffers.push((b, Program::new(steps)));
        } else {
            header_buffers.push((b.buffer, Program::new(steps)));
        }
    }
    // `alert http` / `alert dns` / `alert tls` / `alert ssh` rules without
    // app-layer keywords inspect packets and stream data of flows detected
    // as that protocol, as in Suricata.
    let raw_app_proto = match rule.protocol {
        Protocol::Http | Protocol::Http1 if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Http)
        }
        Protocol::Dns if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Dns)
        }
        Protocol::Tls if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Tls)
        }
        Protocol::Ssh if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Ssh)
        }
        Protocol::Smtp if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Smtp)
        }
        Protocol::Krb5 if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Krb5)
        }
        Protocol::Snmp if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Snmp)
        }
        Protocol::Sip if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Sip)
        }
        Protocol::Rfb if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Rfb)
        }
        Protocol::Quic if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Quic)
        }
        Protocol::Http2 if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Http2)
        }
        Protocol::Nfs if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Nfs)
        }
        // DCERPC rules with keywords inspect its transactions (below).
        Protocol::Dcerpc if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Dcerpc)
        }
        // SMB keywords inspect SMB transactions, DCERPC keywords in an SMB
        // rule DCERPC over its named pipes (below).
        // FTP keywords inspect FTP transactions (below).
        Protocol::Smb | Protocol::Ftp if !app_buffers.is_empty() || !app_checks.is_empty() => None,
        Protocol::Smb => Some(crate::app::TxProto::Smb),
        Protocol::Ftp => Some(crate::app::TxProto::Ftp),
        Protocol::Ike if app_buffers.is_empty() && app_checks.is_empty() => {
            Some(crate::app::TxProto::Ike)
        }
        // No parser for the transferred file yet: keyword rules
        // (`ftpdata_command`, `file.data`, ...) stay inactive.
        Protocol::FtpData => {
            if !app_buffers.is_empty() || !app_checks.is_empty() {
                mark("app-layer protocol ftp-data keywords".into());
            }
            Some(crate::app::TxProto::FtpData)
        }
        _ => None,
    };
    // A rule of a parsed protocol with nothing to look at in packets
    // (`alert http ... (flow:to_server; ...)`) is a packet rule, as in
    // Suricata: it matches every packet of the flow once the protocol is
    // known (in IDS mode, once the data that decided it was acknowledged).
    let app = match raw_app_proto {
        Some(_) => None,
        None => app_inspect(rule, app_buffers, app_checks, &mut mark),
    };
    // Packet keywords (dsize, flags, ttl, header buffers, ...) pin the
    // payload to the packet, as do `tcp-pkt` and `flow:no_stream`.
    let packet_only = matches!(rule.protocol, Protocol::TcpPkt)
        || rule.flow.is_some_and(|f| f.stream == Some(false))
        || !header.is_empty()
        || !header_buffers.is_empty();
    let stream = proto == ProtoClass::Tcp && !payload.is_empty() && !packet_only && app.is_none();
    // Like Suricata, a stream signature whose payload content is anchored
    // (offset, depth, startswith), or that uses stream_size, is also tried
    // on each packet's own payload: a reassembled chunk only starts where
    // the packet does at the beginning of the stream. `flow:only_stream`
    // opts out.
    let also_packets = stream
        && rule.flow.is_none_or(|f| f.stream != Some(true))
        && (!stream_size.is_empty()
            || rule.contents().any(|c| {
                c.buffer == BufferRef::PAYLOAD
                    && (c.startswith || c.offset.is_some() || c.depth.is_some())
            }));

    // Suricata's protocol-detection-only signatures: nothing but
    // `app-layer-protocol`, a direction and flowbit sets.
    let detection_only = !app_layer_protocol.is_empty()
        && raw_app_proto.is_none()
        && app.is_none()
        && payload.is_empty()
        && header.is_empty()
        && header_buffers.is_empty()
        && stream_size.is_empty()
        && rule.flow.is_none_or(|f| {
            f.established.is_none() && !f.stateless && f.stream.is_none() && f.frag.is_none()
        })
        && flowbits.iter().all(|op| matches!(op, FlowbitOp::Set(_)));
    Ok(Signature {
        index,
        gid: rule.gid,
        sid: rule.sid,
        rev: rule.rev,
        msg: Arc::from(rule.msg.as_str()),
        action: rule.action,
        classtype: rule.classtype.as_deref().map(Arc::from),
        priority: rule.priority,
        metadata: rule
            .metadata
            .iter()
            .map(|m| (m.key.to_string(), m.value.to_string()))
            .collect(),
        proto,
        ip_version,
        src: rule.src.set.clone(),
        src_ports: rule.src_ports.set.clone(),
        dst: rule.dst.set.clone(),
        dst_ports: rule.dst_ports.set.clone(),
        bidirectional: rule.direction == Direction::Both,
        flow: rule.flow,
        header,
        stream_size,
        payload,
        header_buffers,
        stream,
        also_packets: also_packets && app.is_none(),
        app,
        app_proto: raw_app_proto,
        detection_only,
        app_layer_protocol,
        flowbits,
        xbits,
        flowints,
        threshold: rule.threshold.map(|t| ThresholdSpec {
            kind: match t.kind {
                ast::ThresholdType::Limit => ThresholdKind::Limit,
                ast::ThresholdType::Threshold => ThresholdKind::Threshold,
                ast::ThresholdType::Both => ThresholdKind::Both,
            },
            track: track(t.track),
            count: t.count,
            seconds: t.seconds,
        }),
        detection_filter: rule.detection_filter.map(|d| ThresholdSpec {
            kind: ThresholdKind::DetectionFilter,
            track: track(d.track),
            count: d.count,
            seconds: d.seconds,
        }),
        suppress: Vec::new(),
        noalert,
        fast_pattern: fast_pattern(rule),

        inactive,
    })
}

/// The content used for the prefilter: the one marked `fast_pattern`, else
/// the longest non-negated payload content; with its `nocase` flag, so that
/// a case-sensitive prefilter stays as selective as the rule.
fn fast_pattern(rule: &Rule) -> Option<(Vec<u8>, bool, Option<usize>)> {
    let payload = BufferRef::PAYLOAD;
    let contents: Vec<&ast::Content> = rule
        .contents()
        .filter(|c| c.buffer == payload && !c.negated && !c.pattern.is_empty())
        .collect();
    let chosen = contents
        .iter()
        .find(|c| c.fast_pattern.is_some())
        .or_else(|| contents.iter().max_by_key(|c| c.pattern.len()))?;
    let mut pat = chosen.pattern.clone();
    if let Some(ast::FastPattern {
        chop: Some((off, len)),
        ..
    }) = chosen.fast_pattern
    {
        let (off, len) = (usize::from(off), usize::from(len));
        if let Some(part) = pat.get(off..off.saturating_add(len).min(pat.len())) {
            pat = part.to_vec();
        }
    }
    let bound = anchor_bound(chosen);
    (!pat.is_empty()).then_some((pat, chosen.nocase, bound))
}

/// Where an absolutely anchored content must end at the latest (offset +
/// depth, or its length for `startswith`); `None` when it may occur anywhere.
fn anchor_bound(c: &ast::Content) -> Option<usize> {
    if c.distance.is_some() || c.within.is_some() {
        return None;
    }
    if c.startswith {
        return Some(c.pattern.len());
    }
    match (&c.offset, &c.depth) {
        (None, Some(NumOrVar::Num(d))) => usize::try_from(*d).ok(),
        (Some(NumOrVar::Num(o)), Some(NumOrVar::Num(d))) => {
            usize::try_from(u64::from(*o) + u64::from(*d)).ok()
        }
        _ => None,
    }
}

/// The application-layer part of a rule: its buffer programs and checks,
/// the protocol and transaction side they need, and the prefilter pattern.
/// An app-layer rule (`alert http|dns|tls`) without app-layer keywords, one
/// mixing them with raw payload content, or one whose buffers belong to
/// another protocol than its header names, is left inactive (raw-stream
/// matching for app-layer rules is not implemented).
fn app_inspect(
    rule: &Rule,
    buffers: Vec<(BufferRef, Program)>,
    checks: Vec<(crate::app::AppCheck, Option<crate::app::TxProto>)>,
    mark: &mut impl FnMut(String),
) -> Option<crate::app::AppInspect> {
    use crate::app::{buffer_proto, is_response_buffer, AppInspect, TxProto, TxSide};
    let header_proto = match rule.protocol {
        Protocol::Http | Protocol::Http1 => Some(TxProto::Http),
        Protocol::Dns => Some(TxProto::Dns),
        Protocol::Tls => Some(TxProto::Tls),
        Protocol::Ssh => Some(TxProto::Ssh),
        Protocol::Dcerpc => Some(TxProto::Dcerpc),
        Protocol::Smtp => Some(TxProto::Smtp),
        Protocol::Smb => Some(TxProto::Smb),
        Protocol::Krb5 => Some(TxProto::Krb5),
        Protocol::Snmp => Some(TxProto::Snmp),
        Protocol::Ftp => Some(TxProto::Ftp),
        Protocol::Ike => Some(TxProto::Ike),
        Protocol::Sip => Some(TxProto::Sip),
        Protocol::Rfb => Some(TxProto::Rfb),
        Protocol::Quic => Some(TxProto::Quic),
        Protocol::Http2 => Some(TxProto::Http2),
        Protocol::Nfs => Some(TxProto::Nfs),
        _ => None,
    };
    // File buffers belong to the rule's protocol when it has files:
    // SMTP's decoded MIME parts in an `alert smtp` rule, SMB's files in an
    // `alert smb` rule.
    let file_proto = |b: Buffer| match header_proto {
        Some(TxProto::Smtp) if matches!(b, Buffer::FileData | Buffer::FileName) => {
            Some(TxProto::Smtp)
        }
        Some(TxProto::Smb) if crate::app::is_file_buffer(b) => Some(TxProto::Smb),
        // HTTP keywords in an `alert http2` rule: HTTP/2's headers.
        Some(TxProto::Http2) if crate::app::is_http2_http_buffer(b) => Some(TxProto::Http2),
        Some(TxProto::Nfs) if crate::app::is_file_buffer(b) => Some(TxProto::Nfs),
        // JA3/JA4 are computed for QUIC's hellos too.
        Some(TxProto::Quic)
            if matches!(
                b,
                Buffer::Ja3Hash
                    | Buffer::Ja3String
                    | Buffer::Ja3sHash
                    | Buffer::Ja3sString
                    | Buffer::Ja4Hash
            ) =>
        {
            Some(TxProto::Quic)
        }
        _ => None,
    };
    let mut protos: Vec<TxProto> = buffers
        .iter()
        .filter_map(|(b, _)| file_proto(b.buffer).or_else(|| buffer_proto(b.buffer)))
        .chain(checks.iter().filter_map(|(_, p)| *p))
        .collect();
    protos.sort();
    protos.dedup();
    let proto = match (header_proto, protos.as_slice()) {
        (Some(h), []) => {
            mark(format!(
                "app-layer protocol {} without {} buffers",
                rule.protocol.name(),
                rule.protocol.name()
            ));
            let _ = h;
            return None;
        }
        (None, []) => return None,
        (Some(h), [p]) if h == *p => h,
        // DCERPC keywords in an SMB rule: DCERPC over its named pipes.
        (Some(TxProto::Smb), [TxProto::Dcerpc]) => TxProto::Dcerpc,
        (None, [p]) => *p,
        _ => {
            mark(format!(
                "buffers of another protocol in a {} rule",
                rule.protocol.name()
            ));
            return None;
        }
    };
    let transport_ok = match proto {
        TxProto::Http | TxProto::Tls => matches!(
            rule.protocol,
            Protocol::Http | Protocol::Http1 | Protocol::Tls | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Dns => matches!(
            rule.protocol,
            Protocol::Dns | Protocol::Udp | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Ssh => matches!(rule.protocol, Protocol::Ssh | Protocol::Tcp | Protocol::Ip),
        TxProto::Dcerpc => matches!(
            rule.protocol,
            Protocol::Dcerpc | Protocol::Smb | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Smb => matches!(rule.protocol, Protocol::Smb | Protocol::Tcp | Protocol::Ip),
        TxProto::Ftp => matches!(rule.protocol, Protocol::Ftp | Protocol::Tcp | Protocol::Ip),
        TxProto::Ike => matches!(rule.protocol, Protocol::Ike | Protocol::Udp | Protocol::Ip),
        // No buffers of its own: never reached.
        TxProto::FtpData => false,
        TxProto::Smtp => matches!(rule.protocol, Protocol::Smtp | Protocol::Tcp | Protocol::Ip),
        TxProto::Krb5 => matches!(
            rule.protocol,
            Protocol::Krb5 | Protocol::Udp | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Snmp => matches!(rule.protocol, Protocol::Snmp | Protocol::Udp | Protocol::Ip),
        TxProto::Sip => matches!(
            rule.protocol,
            Protocol::Sip | Protocol::Udp | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Rfb => matches!(rule.protocol, Protocol::Rfb | Protocol::Tcp | Protocol::Ip),
        TxProto::Quic => matches!(rule.protocol, Protocol::Quic | Protocol::Udp | Protocol::Ip),
        TxProto::Http2 => matches!(
            rule.protocol,
            Protocol::Http2 | Protocol::Tcp | Protocol::Ip
        ),
        TxProto::Nfs => matches!(
            rule.protocol,
            Protocol::Nfs | Protocol::Udp | Protocol::Tcp | Protocol::Ip
        ),
    };
    // JA4 is computed for QUIC's hellos only so far (TLS's differs from
    // Suricata's in details not yet tracked down).
    if proto == TxProto::Tls && buffers.iter().any(|(b, _)| b.buffer == Buffer::Ja4Hash) {
        mark("ja4.hash on TLS".to_string());
        return None;
    }
    if !transport_ok {
        mark(format!(
            "{} buffers in a {} rule",
            proto_name(proto),
            rule.protocol.name()
        ));
        return None;
    }
    // Raw content beside DNS (or SNMP) buffers is matched against the
    // datagram (or stream data) that carried the message, beside HTTP
    // buffers against the message itself; elsewhere it stays inactive.
    let raw = rule
        .matches
        .iter()
        .any(|m| m.buffer() == Some(&BufferRef::PAYLOAD));
    // A frame rule inspects frames of one type, nothing else.
    let frames: Vec<Buffer> = buffers
        .iter()
        .map(|(b, _)| b.buffer)
        .filter(|b| b.is_frame())
        .collect();
    let frame = match frames.first() {
        None => None,
        Some(&f) => {
            if frames.len() != buffers.len() || frames.iter().any(|&b| b != f) {
                mark("frame beside other buffers".into());
                return None;
            }
            if !checks.is_empty() || raw {
                mark("frame beside other keywords".into());
                return None;
            }
            Some(f)
        }
    };
    if raw
        && !matches!(
            proto,
            TxProto::Dns | TxProto::Http | TxProto::Snmp | TxProto::Ftp | TxProto::Ike
        )
    {
        mark(format!(
            "raw payload content in a{} {} rule",
            if proto == TxProto::Http { "n" } else { "" },
            proto_name(proto)
        ));
        return None;
    }
    let to_client = rule.flow.is_some_and(|f| f.to_server == Some(false));
    let to_server = rule.flow.is_some_and(|f| f.to_server == Some(true));
    // Suricata refuses SIP and RFB rules whose keywords exist in opposite
    // directions only (`sip.method` with `flow:to_client`, `rfb.name`
    // with `rfb.sectype`).
    if matches!(proto, TxProto::Sip | TxProto::Rfb) {
        let request_only = buffers
            .iter()
            .any(|(b, _)| crate::app::is_request_buffer(b.buffer))
            || checks
                .iter()
                .any(|(c, _)| matches!(c, crate::app::AppCheck::RfbSectype(_)));
        let response_only = buffers.iter().any(|(b, _)| is_response_buffer(b.buffer))
            || checks
                .iter()
                .any(|(c, _)| matches!(c, crate::app::AppCheck::RfbSecresult(_)));
        if (request_only && (response_only || to_client)) || (response_only && to_server) {
            mark(format!(
                "{} keywords of opposite directions",
                proto_name(proto)
            ));
            return None;
        }
    }
    // `file.data` is the response body, or the request body in a rule
    // written for the client's direction; `file.name` names that file.
    // SMTP files travel to the server: always the request side.
    let file_data_response = buffers.iter().any(|(b, _)| {
        matches!(
            b.buffer,
            Buffer::FileData | Buffer::FileName | Buffer::FileMagic
        )
    }) && !to_server
        && proto != TxProto::Smtp;
    // Whether an FTP command got its reply is known on the response side
    // (once replied, or when the connection ends without one).
    let response_buffer = buffers.iter().any(|(b, _)| is_response_buffer(b.buffer))
        || checks.iter().any(|(c, _)| {
            matches!(
                c,
                crate::app::AppCheck::FtpReplyReceived(_)
                    | crate::app::AppCheck::IkeSaAttribute { .. }
                    | crate::app::AppCheck::RfbSecresult(_)
            )
        });
    let side = if to_client || file_data_response || response_buffer {
        TxSide::Response
    } else {
        TxSide::Request
    };
    // A DNS rule with only direction-free keywords (dns.opcode, events)
    // and no flow direction matches requests and responses alike.
    let both_sides = proto == TxProto::Dns && !to_client && !to_server && buffers.is_empty();
    // An HTTP rule on events only, not written for responses, also sees
    // the events its transaction raises during the response (Suricata
    // inspects a transaction's events whatever side raised them).
    let http_events_only = proto == TxProto::Http
        && buffers.is_empty()
        && !checks.is_empty()
        && checks
            .iter()
            .all(|(c, _)| matches!(c, crate::app::AppCheck::Event(_)));
    let both_sides = both_sides || (http_events_only && !to_client);
    // Likewise a TLS rule on events alone and without direction: most
    // events come from the server's flight (certificates), after the
    // ClientHello was inspected.
    let tls_events_only = proto == TxProto::Tls
        && buffers.is_empty()
        && !checks.is_empty()
        && checks
            .iter()
            .all(|(c, _)| matches!(c, crate::app::AppCheck::Event(_)));
    let both_sides = both_sides || (tls_events_only && !to_client && !to_server);
    // SSH's identification buffers exist both ways (the client's on
    // requests, the server's on responses): without a flow direction a
    // rule inspects both, as Suricata registers them for both directions.
    // The HASSH buffers are one-sided (`ssh.hassh` the client's,
    // `ssh.hassh.server` the server's).
    let ssh_both = proto == TxProto::Ssh
        && !to_client
        && !to_server
        && !buffers
            .iter()
            .any(|(b, _)| crate::app::is_ssh_hassh_buffer(b.buffer));
    let both_sides = both_sides || ssh_both;
    // Suricata registers the DCERPC keywords for both directions: without
    // a flow direction a rule sees each call's request and its response
    // (`dcerpc.stub_data` being the request's or the response's stub).
    let dce_both = proto == TxProto::Dcerpc && !to_client && !to_server;
    let both_sides = both_sides || dce_both;
    // SMB events are the transaction's, inspected both ways by a rule
    // without direction (Suricata alerts once per direction).
    let smb_events_only = proto == TxProto::Smb
        && buffers.is_empty()
        && !checks.is_empty()
        && checks
            .iter()
            .all(|(c, _)| matches!(c, crate::app::AppCheck::Event(_)));
    let both_sides = both_sides || (smb_events_only && !to_client && !to_server);
    // FTP events belong to the transaction: a rule without direction sees
    // the command's and, later, the replies'.
    let ftp_events_only = proto == TxProto::Ftp
        && buffers.is_empty()
        && !checks.is_empty()
        && checks
            .iter()
            .all(|(c, _)| matches!(c, crate::app::AppCheck::Event(_)));
    let both_sides = both_sides || (ftp_events_only && !to_client && !to_server);
    // `ftp.mode` is registered both ways: a rule without direction sees a
    // transaction's request (once its reply is in) and its response.
    let ftp_mode = checks
        .iter()
        .any(|(c, _)| matches!(c, crate::app::AppCheck::FtpMode(_)));
    let both_sides = both_sides || (ftp_mode && !to_client && !to_server);
    // Each IKE message is a transaction of its own direction: a rule
    // without direction sees the initiator's and the responder's (save
    // for keywords Suricata registers one way only).
    let ike_one_way = checks
        .iter()
        .any(|(c, _)| matches!(c, crate::app::AppCheck::IkeSaAttribute { .. }))
        || buffers.iter().any(|(b, _)| {
            matches!(
                b.buffer,
                Buffer::IkeVendor | Buffer::IkeInitSpi | Buffer::IkeRespSpi
            )
        });
    let both_sides =
        both_sides || (proto == TxProto::Ike && !to_client && !to_server && !ike_one_way);
    // An SMB file is inspected on its own direction's side (written files
    // on requests, read files on responses): a file rule without flow
    // direction looks at both, one of which has the file.
    let smb_file = proto == TxProto::Smb
        && (buffers
            .iter()
            .any(|(b, _)| crate::app::is_file_buffer(b.buffer))
            || checks
                .iter()
                .any(|(c, _)| matches!(c, crate::app::AppCheck::Filesize(_))));
    let both_sides = both_sides || (smb_file && !to_client && !to_server);
    // HTTP/2 header fields (`http2.header`, `http2.header_name`) and
    // events exist both ways: a rule on them alone without flow direction
    // inspects a stream's request and its response.
    let http2_both = proto == TxProto::Http2
        && !to_client
        && !to_server
        && buffers
            .iter()
            .all(|(b, _)| matches!(b.buffer, Buffer::Http2Header | Buffer::Http2HeaderName));
    let both_sides = both_sides || http2_both;
    // NFS files likewise (written files on requests, read files on
    // responses); NFS events belong to the transaction, seen both ways.
    let nfs_file = proto == TxProto::Nfs
        && (buffers
            .iter()
            .any(|(b, _)| crate::app::is_file_buffer(b.buffer))
            || checks.iter().any(|(c, _)| {
                matches!(
                    c,
                    crate::app::AppCheck::Filesize(_) | crate::app::AppCheck::HasFile
                )
            }));
    let nfs_events_only = proto == TxProto::Nfs
        && buffers.is_empty()
        && !checks.is_empty()
        && checks
            .iter()
            .all(|(c, _)| matches!(c, crate::app::AppCheck::Event(_)));
    let both_sides = both_sides || ((nfs_file || nfs_events_only) && !to_client && !to_server);
    // Kerberos and SNMP keywords are registered for both directions and
    // each message is its own transaction, inspected on its direction's
    // side: without a flow direction a rule looks at requests and
    // responses alike.
    let message_txs = matches!(proto, TxProto::Krb5 | TxProto::Snmp | TxProto::Quic);
    let both_sides = both_sides || (message_txs && !to_client && !to_server && !response_buffer);
    // A frame rule without flow direction sees frames of both directions
    // (a response frame type only travels one way anyway); so does a SIP
    // rule on buffers both requests and responses have (`sip.protocol`,
    // the header buffers), as Suricata registers them both ways.
    let sip_both = proto == TxProto::Sip
        && !buffers
            .iter()
            .any(|(b, _)| is_response_buffer(b.buffer) || crate::app::is_request_buffer(b.buffer));
    let both_sides = both_sides || ((frame.is_some() || sip_both) && !to_client && !to_server);
    let side = match frame {
        // Request-only frame types are inspected on requests.
        Some(f) if crate::app::is_request_buffer(f) => TxSide::Request,
        _ => side,
    };
    let contents: Vec<&ast::Content> = rule
        .contents()
        .filter(|c| buffer_proto(c.buffer.buffer).is_some() && !c.negated && !c.pattern.is_empty())
        .collect();
    let fast_pattern = contents
        .iter()
        .find(|c| c.fast_pattern.is_some())
        .or_else(|| contents.iter().max_by_key(|c| c.pattern.len()))
        .map(|c| (c.buffer.clone(), c.pattern.clone(), c.nocase));
    Some(AppInspect {
        proto,
        side,
        both_sides,
        buffers,
        checks: checks.into_iter().map(|(c, _)| c).collect(),
        fast_pattern,
        frame,
    })
}

fn proto_name(p: crate::app::TxProto) -> &'static str {
    match p {
        crate::app::TxProto::Http => "http",
        crate::app::TxProto::Dns => "dns",
        crate::app::TxProto::Tls => "tls",
        crate::app::TxProto::Ssh => "ssh",
        crate::app::TxProto::Smb => "smb",
        crate::app::TxProto::Ftp => "ftp",
        crate::app::TxProto::Dcerpc => "dcerpc",
        crate::app::TxProto::Smtp => "smtp",
        crate::app::TxProto::Krb5 => "krb5",
        crate::app::TxProto::Snmp => "snmp",
        crate::app::TxProto::Ike => "ike",
        crate::app::TxProto::FtpData => "ftp-data",
        crate::app::TxProto::Sip => "sip",
        crate::app::TxProto::Rfb => "rfb",
        crate::app::TxProto::Quic => "quic",
        crate::app::TxProto::Http2 => "http2",
        crate::app::TxProto::Nfs => "nfs",
    }
}

/// Buffers that are a packet's own header bytes.
pub fn is_packet_header_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::Ipv4Hdr
            | Buffer::Ipv6Hdr
            | Buffer::TcpHdr
            | Buffer::UdpHdr
            | Buffer::Icmpv4Hdr
            | Buffer::Icmpv6Hdr
    )
}

pub(crate) fn track(t: ast::Track) -> Track {
    match t {
        ast::Track::BySrc | ast::Track::ByEither => Track::BySrc,
        ast::Track::ByDst => Track::ByDst,
        ast::Track::ByRule => Track::ByRule,
        ast::Track::ByBoth | ast::Track::ByFlow => Track::ByBoth,
    }
}

fn new_var<'a>(vars: &mut HashMap<&'a str, u8>, name: &'a str) -> Result<u8, String> {
    if let Some(&slot) = vars.get(name) {
        return Ok(slot);
    }
    let slot = vars.len();
    if slot >= MAX_VARS {
        return Err(format!("more than {MAX_VARS} byte variables"));
    }
    vars.insert(name, slot as u8);
    Ok(slot as u8)
}

fn var_value(name: &str, vars: &HashMap<&str, u8>) -> Value {
    vars.get(name)
        .map(|&s| Value::Var(s))
        .unwrap_or(Value::Lit(0))
}

fn value_u32(v: &NumOrVar<u32>, vars: &HashMap<&str, u8>) -> Value {
    match v {
        NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
        NumOrVar::Var(name) => var_value(name, vars),
    }
}

fn value_i32(v: &NumOrVar<i32>, vars: &HashMap<&str, u8>) -> Value {
    match v {
        NumOrVar::Num(n) => Value::Lit(i64::from(*n)),
        NumOrVar::Var(name) => var_value(name, vars),
    }
}

fn cmp_op(op: ast::ByteTestOp) -> CmpOp {
    match op {
        ast::ByteTestOp::Lt => CmpOp::Lt,
        ast::ByteTestOp::Gt => CmpOp::Gt,
        ast::ByteTestOp::Eq => CmpOp::Eq,
        ast::ByteTestOp::Le => CmpOp::Le,
        ast::ByteTestOp::Ge => CmpOp::Ge,
        ast::ByteTestOp::And => CmpOp::And,
        ast::ByteTestOp::Xor => CmpOp::Xor,
    }
}

fn number_format(endian: ast::Endian, string: Option<ast::NumBase>) -> NumberFormat {
    match string {
        Some(ast::NumBase::Hex) => NumberFormat::String(16),
        Some(ast::NumBase::Dec) => NumberFormat::String(10),
        Some(ast::NumBase::Oct) => NumberFormat::String(8),
        None => match endian {
            ast::Endian::Big => NumberFormat::BigEndian,
            ast::Endian::Little => NumberFormat::LittleEndian,
            ast::Endian::Dce => NumberFormat::Dce,
        },
    }
}

/// Moves the `base64_data` keywords into the program of the rule's
/// `base64_decode` step, which runs them on what it decodes. A rule with
/// `base64_data` but not exactly one `base64_decode` stays inactive.
fn attach_base64_data(by_buffer: &mut Vec<(BufferRef, Vec<Step>)>, mark: &mut impl FnMut(String)) {
    let decoders = by_buffer
        .iter()
        .flat_map(|(_, steps)| steps.iter())
        .filter(|s| matches!(s, Step::Base64(_)))
        .count();
    let data = by_buffer
        .iter()
        .position(|(b, _)| b.buffer == Buffer::Base64Data)
        .map(|pos| by_buffer.remove(pos).1);
    if decoders > 1 {
        mark("keyword base64_decode (more than one)".into());
        return;
    }
    let Some(data) = data else { return };
    if decoders == 0 {
        mark("keyword base64_data without base64_decode".into());
        return;
    }
    let mut data = Some(Program::new(data));
    for step in by_buffer.iter_mut().flat_map(|(_, steps)| steps.iter_mut()) {
        if let Step::Base64(b) = step {
            if let Some(p) = data.take() {
                b.data = p;
            }
        }
    }
}

/// A `u16` comparison (`urilen`) as a `u64` one.
fn widen_cmp(c: rampart_rules::NumCmp<u16>) -> rampart_rules::NumCmp<u64> {
    use rampart_rules::NumCmp as N;
    match c {
        N::Eq(v) => N::Eq(v.into()),
        N::Ne(v) => N::Ne(v.into()),
        N::Lt(v) => N::Lt(v.into()),
        N::Le(v) => N::Le(v.into()),
        N::Gt(v) => N::Gt(v.into()),
        N::Ge(v) => N::Ge(v.into()),
        N::Range(a, b) => N::Range(a.into(), b.into()),
        N::NotRange(a, b) => N::NotRange(a.into(), b.into()),
    }
}

/// A `u8` comparison as a `u32` one (IKE exchange types).
fn widen_cmp8(c: rampart_rules::NumCmp<u8>) -> rampart_rules::NumCmp<u32> {
    use rampart_rules::NumCmp as N;
    match c {
        N::Eq(v) => N::Eq(v.into()),
        N::Ne(v) => N::Ne(v.into()),
        N::Lt(v) => N::Lt(v.into()),
        N::Le(v) => N::Le(v.into()),
        N::Gt(v) => N::Gt(v.into()),
        N::Ge(v) => N::Ge(v.into()),
        N::Range(a, b) => N::Range(a.into(), b.into()),
        N::NotRange(a, b) => N::NotRange(a.into(), b.into()),
    }
}

fn size_check(c: &rampart_rules::NumCmp<u64>) -> SizeCheck {
    use rampart_rules::NumCmp as N;
    match *c {
        N::Eq(v) => SizeCheck::Eq(v),
        N::Ne(v) => SizeCheck::Ne(v),
        N::Lt(v) => SizeCheck::Lt(v),
        N::Le(v) => SizeCheck::Le(v),
        N::Gt(v) => SizeCheck::Gt(v),
        N::Ge(v) => SizeCheck::Ge(v),
        N::Range(a, b) => SizeCheck::Between(a, b),
        N::NotRange(a, b) => SizeCheck::Outside(a, b),
    }
}
