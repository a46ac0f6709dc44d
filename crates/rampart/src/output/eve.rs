//! EVE JSON records, in Suricata's shape, so existing tooling (jq recipes,
//! SIEM parsers, dashboards) reads Rampart's output unchanged.

use rampart_engine::app_layer::AppTxView;
use rampart_engine::{AlertContext, FlowData};
use rampart_packet::Timestamp;
use rampart_stream::flow::{proto, EndReason, Flow, FlowState, TcpState};
use serde_json::{json, Map, Value};

/// The protocol name EVE uses for an IP protocol number.
pub fn proto_name(p: u8) -> String {
    match p {
        proto::TCP => "TCP".into(),
        proto::UDP => "UDP".into(),
        proto::ICMP => "ICMP".into(),
        proto::ICMPV6 => "IPv6-ICMP".into(),
        2 => "IGMP".into(),
        47 => "GRE".into(),
        50 => "ESP".into(),
        51 => "AH".into(),
        132 => "SCTP".into(),
        other => format!("{other:03}"),
    }
}

fn tcp_flags_hex(f: u8) -> String {
    format!("{f:02x}")
}

/// An `event_type: "flow"` record for a flow that ended.
pub fn flow_record(flow: &Flow<FlowData>, reason: EndReason) -> Value {
    let k = &flow.key;
    let start = Timestamp::from_nanos(flow.first_ns);
    let end = Timestamp::from_nanos(flow.last_ns);
    let mut rec = Map::new();
    rec.insert("timestamp".into(), json!(end.to_eve_string()));
    rec.insert("flow_id".into(), json!(flow.id));
    rec.insert("event_type".into(), json!("flow"));
    if k.vlan != 0 {
        rec.insert("vlan".into(), json!([k.vlan]));
    }
    rec.insert("src_ip".into(), json!(eve_ip(k.src)));
    let has_ports = matches!(k.proto, proto::TCP | proto::UDP);
    if has_ports {
        rec.insert("src_port".into(), json!(k.src_port));
    }
    rec.insert("dest_ip".into(), json!(eve_ip(k.dst)));
    if has_ports {
        rec.insert("dest_port".into(), json!(k.dst_port));
    }
    rec.insert("proto".into(), json!(proto_name(k.proto)));
    let state = match flow.state {
        FlowState::New => "new",
        FlowState::Established => "established",
        FlowState::Closed => "closed",
    };
    rec.insert(
        "flow".into(),
        json!({
            "pkts_toserver": flow.packets[0],
            "pkts_toclient": flow.packets[1],
            "bytes_toserver": flow.bytes[0],
            "bytes_toclient": flow.bytes[1],
            "start": start.to_eve_string(),
            "end": end.to_eve_string(),
            "age": end.secs().saturating_sub(start.secs()),
            "state": state,
            "reason": match reason {
                EndReason::Timeout => "timeout",
                EndReason::Forced => "forced",
                EndReason::Shutdown => "shutdown",
                // Suricata reports a reused TCP session's old flow as timed out.
                EndReason::Reused => "timeout",
            },
            "alerted": false,
        }),
    );
    if k.proto == proto::TCP {
        let all = flow.tcp_flags[0] | flow.tcp_flags[1];
        let mut tcp = Map::new();
        tcp.insert("tcp_flags".into(), json!(tcp_flags_hex(all)));
        tcp.insert(
            "tcp_flags_ts".into(),
            json!(tcp_flags_hex(flow.tcp_flags[0])),
        );
        tcp.insert(
            "tcp_flags_tc".into(),
            json!(tcp_flags_hex(flow.tcp_flags[1])),
        );
        for (bit, name) in [
            (0x01, "fin"),
            (0x02, "syn"),
            (0x04, "rst"),
            (0x08, "psh"),
            (0x10, "ack"),
            (0x20, "urg"),
            (0x40, "ecn"),
            (0x80, "cwr"),
        ] {
            if all & bit != 0 {
                tcp.insert(name.into(), json!(true));
            }
        }
        let st = match flow.tcp_state {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait => "fin_wait1",
            TcpState::Closed => "closed",
            TcpState::Reset => "closed",
        };
        tcp.insert("state".into(), json!(st));
        if flow.midstream {
            tcp.insert("midstream".into(), json!(true));
        }
        rec.insert("tcp".into(), Value::Object(tcp));
    }
    Value::Object(rec)
}

/// The fields of one alert, as the detection engine reports them.
#[derive(Debug, Clone)]
pub struct AlertFields<'a> {
    /// Packet time.
    pub ts: Timestamp,
    /// The packet's flow id, when it has a flow.
    pub flow_id: Option<u64>,
    /// Source address of the packet.
    pub src_ip: std::net::IpAddr,
    /// Destination address of the packet.
    pub dest_ip: std::net::IpAddr,
    /// Ports, for TCP and UDP.
    pub ports: Option<(u16, u16)>,
    /// IP protocol number.
    pub proto: u8,
    /// Outermost VLAN id, 0 when untagged.
    pub vlan: u16,
    /// "allowed" or "blocked" (what happened to the packet).
    pub action: &'a str,
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// The rule's msg.
    pub signature: &'a str,
    /// Classification description (or the classtype name).
    pub category: &'a str,
    /// Priority (1 is most severe).
    pub severity: u8,
    /// "to_server" / "to_client", when the packet has a flow.
    pub direction: Option<&'a str>,
    /// The rule's metadata, as `key value` strings.
    pub metadata: &'a [(String, String)],
    /// Number of the packet (1-based, in the capture) being processed when
    /// the alert was raised; 0 when none (omitted).
    pub pcap_cnt: u64,
    /// Suricata's `pkt_src`: "wire/pcap", or "stream (flow timeout)" for
    /// data flushed when its flow ended.
    pub pkt_src: &'a str,
    /// The transaction an application-layer rule matched in (`tx_id`).
    pub tx_id: Option<u64>,
    /// That transaction as EVE logs it: the key (`http`, `dns`, `tls`) and
    /// the object.
    pub app: Option<(&'static str, Value)>,
    /// The flow's application protocol (`app_proto`).
    pub app_proto: Option<&'a str>,
    /// The flow's counters and endpoints (the alert's `flow` object).
    pub flow: Option<Value>,
    /// The frame a frame rule matched in (the alert's `frame` object).
    pub frame: Option<Value>,
}

/// An address as Suricata's EVE writes it: IPv4 dotted, IPv6 as eight
/// groups of four hex digits, unabbreviated (`fd01:0000:...:0101`), so that
/// tools matching on Suricata's output match on Rampart's.
pub fn eve_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(a) => a.to_string(),
        std::net::IpAddr::V6(a) => {
            let [g0, g1, g2, g3, g4, g5, g6, g7] = a.segments();
            format!("{g0:04x}:{g1:04x}:{g2:04x}:{g3:04x}:{g4:04x}:{g5:04x}:{g6:04x}:{g7:04x}")
        }
    }
}

/// The EVE alert record of an engine alert: category and severity from
/// the classification table, `action` as given (`allowed` offline and in
/// IDS mode, `blocked` for an inline drop or reject), `pcap_cnt` the
/// packet count (0 for data flushed at flow end, which Suricata omits).
/// With a flow, the record also has Suricata's `app_proto`, `flow` and,
/// for an application-layer rule, `tx_id` and the transaction's object as
/// the transaction logs write it (the state it had when the rule matched).
pub fn alert_json(
    ts: rampart_packet::Timestamp,
    a: &rampart_detect::Alert,
    sig: &rampart_detect::Signature,
    classes: &rampart_rules::Classifications,
    action: &str,
    pcap_cnt: u64,
    ctx: &AlertContext<'_>,
) -> Value {
    let class = sig.classtype.as_deref().and_then(|c| classes.get(c));
    let category = class
        .map(|c| c.description.as_str())
        .or(sig.classtype.as_deref())
        .unwrap_or("");
    let severity = sig.priority.or(class.map(|c| c.priority)).unwrap_or(3);
    alert_record(&AlertFields {
        ts,
        flow_id: a.flow.map(|f| f.id),
        src_ip: a.src,
        dest_ip: a.dst,
        ports: a.ports,
        proto: a.proto,
        vlan: ctx.flow.map_or(0, |f| f.key.vlan),
        action,
        gid: sig.gid,
        sid: sig.sid,
        rev: sig.rev,
        signature: &sig.msg,
        category,
        severity: u8::try_from(severity).unwrap_or(u8::MAX),
        direction: a.flow.map(|f| {
            if f.to_server {
                "to_server"
            } else {
                "to_client"
            }
        }),
        metadata: &sig.metadata,
        pcap_cnt: if a.source == rampart_detect::AlertSource::FlowEnd {
            0
        } else {
            pcap_cnt
        },
        pkt_src: a.source.as_eve(),
        tx_id: ctx.tx.map(|t| t.eve_tx_id()),
        app: ctx.tx.and_then(alert_app_object),
        app_proto: ctx.app_proto,
        flow: ctx.flow.map(alert_flow_object),
        frame: ctx
            .frame
            .map(|f| frame_object(f, ctx.flow.is_some_and(|fl| fl.key.proto == proto::TCP))),
    })
}

/// An alert's `frame` object as Suricata writes it: type, number,
/// direction, offset in the stream (TCP only), length, the bytes (base64
/// and printable) and whether the frame was complete.
pub fn frame_object(f: &rampart_engine::app_layer::QueuedFrame, stream: bool) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(f.frame.kind));
    o.insert("id".into(), json!(f.id));
    let dir = match f.frame.dir {
        rampart_app::Direction::ToServer => "toserver",
        rampart_app::Direction::ToClient => "toclient",
    };
    o.insert("direction".into(), json!(dir));
    if stream {
        o.insert("stream_offset".into(), json!(f.frame.offset));
    }
    o.insert("length".into(), json!(f.frame.len));
    o.insert("payload".into(), json!(base64(&f.frame.data)));
    o.insert("payload_printable".into(), json!(printable(&f.frame.data)));
    o.insert("complete".into(), json!(f.frame.complete));
    Value::Object(o)
}

/// Standard base64 with padding (RFC 4648 §4), as EVE's `payload`.
pub fn base64(b: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| char::from(ABC.get((v & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let [x, y, z] = [0, 1, 2].map(|i| u32::from(chunk.get(i).copied().unwrap_or(0)));
        let n = x << 16 | y << 8 | z;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// Bytes as EVE's `payload_printable`: printable ASCII, CR and LF as they
/// are, every other byte a dot.
pub fn printable(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c == b' ' || c.is_ascii_graphic() || c == b'\r' || c == b'\n' {
                char::from(c)
            } else {
                '.'
            }
        })
        .collect()
}

/// The object an alert carries for its transaction, under its key.
fn alert_app_object(tx: &AppTxView<'_>) -> Option<(&'static str, Value)> {
    match tx {
        AppTxView::Http(v) => Some(("http", http_object(v.tx))),
        AppTxView::Tls(v) => Some(("tls", tls_object(v.session))),
        AppTxView::Ssh(v) => Some(("ssh", ssh_object(v.session))),
        AppTxView::Dcerpc(v) => Some(("dcerpc", dcerpc_object(v.state, v.tx))),
        // Suricata's SMTP alerts carry three objects: `smtp`, `email`
        // and `files`.
        AppTxView::Smtp(v) => {
            let mut all = Map::new();
            smtp_objects(v.session, v.tx, &mut all);
            if let Some(files) = smtp_files(v.tx) {
                all.insert("files".into(), files);
            }
            Some((MERGED_KEYS, Value::Object(all)))
        }
        // Suricata's `smb` object is not produced yet.
        AppTxView::Smb(_) => None,
        // Suricata 7 writes no `krb5` object into alerts, Suricata 8 does:
        // the record's object, as here.
        AppTxView::Krb5(v) => Some(("krb5", krb5_object(v.tx))),
        AppTxView::Snmp(v) => Some(("snmp", snmp_object(v.tx))),
        // Suricata 7 logs no `ftp` object with alerts; Suricata 8 does
        // (its rules filter on it), and it costs nothing to carry.
        AppTxView::Ftp(v) => Some(("ftp", ftp_object(v.tx, true))),
        AppTxView::Ike(v) => Some(("ike", ike_object(v.state, v.tx))),
        AppTxView::Sip(v) => Some(("sip", sip_object(v.tx))),
        AppTxView::Rfb(v) => Some(("rfb", rfb_object(v.session))),
        AppTxView::Quic(v) => Some(("quic", quic_object(v.tx))),
        AppTxView::Http2(v) => Some(("http", http2_object(v.tx))),
        // Suricata's NFS alerts carry two objects: `rpc` and `nfs`.
        AppTxView::Nfs(v) => {
            let mut all = Map::new();
            nfs_objects(v.tx, &mut all);
            Some((MERGED_KEYS, Value::Object(all)))
        }
        AppTxView::Dns(v) => {
            let m = v.message()?;
            let mut dns = Map::new();
            dns.insert("version".into(), json!(2));
            if m.header.is_response() {
                dns.insert("answer".into(), Value::Object(dns_answer(m, false)));
            } else {
                let tx_id = v.tx.request_seq;
                let queries = m.queries.iter().map(|q| dns_query(m, q, tx_id)).collect();
                dns.insert("query".into(), Value::Array(queries));
            }
            Some(("dns", Value::Object(dns)))
        }
    }
}

/// An NFS transaction's `rpc` and `nfs` objects (Suricata writes both at
/// the top level of records and alerts): the RPC transaction id; the
/// version, procedure, file name, transaction id, whether it is a file
/// transfer, and the reply's status once known.
fn nfs_objects(tx: &rampart_app::nfs::NfsTx, into: &mut Map<String, Value>) {
    into.insert("rpc".into(), json!({ "xid": tx.xid }));
    let mut o = Map::new();
    o.insert("version".into(), json!(tx.version));
    let procedure = rampart_app::nfs::procedure_name(tx.version, tx.procedure)
        .map(|p| json!(p))
        .unwrap_or_else(|| json!(tx.procedure));
    o.insert("procedure".into(), procedure);
    o.insert(
        "filename".into(),
        json!(String::from_utf8_lossy(&tx.file_name)),
    );
    o.insert("id".into(), json!(tx.id + 1));
    o.insert("file_tx".into(), json!(tx.file.is_some()));
    if let Some(status) = tx.status {
        let s = rampart_app::nfs::status_name(status)
            .map(|n| json!(n))
            .unwrap_or_else(|| json!(status));
        o.insert("status".into(), s);
    }
    into.insert("nfs".into(), Value::Object(o));
}

/// The EVE `nfs` record of a transaction, written once it is complete
/// (its reply, or its file's end, was inspected).
pub fn nfs_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::nfs::NfsTx,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "nfs", pcap_cnt, Some(tx.id));
    nfs_objects(tx, &mut rec);
    Value::Object(rec)
}

/// An alert's `flow` object: the counters so far (the alerting packet
/// included), the start, and the flow's endpoints (client first).
pub fn alert_flow_object(flow: &Flow<FlowData>) -> Value {
    let k = &flow.key;
    let mut f = Map::new();
    f.insert("pkts_toserver".into(), json!(flow.packets[0]));
    f.insert("pkts_toclient".into(), json!(flow.packets[1]));
    f.insert("bytes_toserver".into(), json!(flow.bytes[0]));
    f.insert("bytes_toclient".into(), json!(flow.bytes[1]));
    f.insert(
        "start".into(),
        json!(Timestamp::from_nanos(flow.first_ns).to_eve_string()),
    );
    f.insert("src_ip".into(), json!(eve_ip(k.src)));
    f.insert("dest_ip".into(), json!(eve_ip(k.dst)));
    if matches!(k.proto, proto::TCP | proto::UDP) {
        f.insert("src_port".into(), json!(k.src_port));
        f.insert("dest_port".into(), json!(k.dst_port));
    }
    Value::Object(f)
}

/// The key of [`AlertFields::app`] whose object holds several top-level
/// objects of the record (SMTP's `smtp`, `email` and `files`).
pub const MERGED_KEYS: &str = "";

/// An `event_type: "alert"` record in Suricata's EVE shape.
pub fn alert_record(a: &AlertFields<'_>) -> Value {
    let mut rec = Map::new();
    rec.insert("timestamp".into(), json!(a.ts.to_eve_string()));
    if let Some(id) = a.flow_id {
        rec.insert("flow_id".into(), json!(id));
    }
    if a.pcap_cnt != 0 {
        rec.insert("pcap_cnt".into(), json!(a.pcap_cnt));
    }
    rec.insert("event_type".into(), json!("alert"));
    if a.vlan != 0 {
        rec.insert("vlan".into(), json!([a.vlan]));
    }
    rec.insert("src_ip".into(), json!(eve_ip(a.src_ip)));
    if let Some((sp, _)) = a.ports {
        rec.insert("src_port".into(), json!(sp));
    }
    rec.insert("dest_ip".into(), json!(eve_ip(a.dest_ip)));
    if let Some((_, dp)) = a.ports {
        rec.insert("dest_port".into(), json!(dp));
    }
    rec.insert("proto".into(), json!(proto_name(a.proto)));
    rec.insert("pkt_src".into(), json!(a.pkt_src));
    if let Some(id) = a.tx_id {
        rec.insert("tx_id".into(), json!(id));
    }
    let mut alert = Map::new();
    alert.insert("action".into(), json!(a.action));
    alert.insert("gid".into(), json!(a.gid));
    alert.insert("signature_id".into(), json!(a.sid));
    alert.insert("rev".into(), json!(a.rev));
    alert.insert("signature".into(), json!(a.signature));
    alert.insert("category".into(), json!(a.category));
    alert.insert("severity".into(), json!(a.severity));
    if !a.metadata.is_empty() {
        let mut md: Map<String, Value> = Map::new();
        for (k, v) in a.metadata {
            match md.get_mut(k) {
                Some(Value::Array(list)) => list.push(json!(v)),
                _ => {
                    md.insert(k.clone(), json!([v]));
                }
            }
        }
        alert.insert("metadata".into(), Value::Object(md));
    }
    rec.insert("alert".into(), Value::Object(alert));
    match &a.app {
        Some((key, Value::Object(objs))) if *key == MERGED_KEYS => {
            for (k, v) in objs {
                rec.insert(k.clone(), v.clone());
            }
        }
        Some((key, obj)) => {
            rec.insert((*key).into(), obj.clone());
        }
        None => {}
    }
    if let Some(p) = a.app_proto {
        rec.insert("app_proto".into(), json!(p));
    }
    if let Some(d) = a.direction {
        rec.insert("direction".into(), json!(d));
    }
    if let Some(f) = &a.flow {
        rec.insert("flow".into(), f.clone());
    }
    if let Some(f) = &a.frame {
        rec.insert("frame".into(), f.clone());
    }
    Value::Object(rec)
}

/// The common head of an app-layer record: time, flow, the flow's
/// endpoints (client first, whichever way the logged message travelled,
/// as Suricata writes them), and (HTTP) the transaction id.
fn app_head(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    event_type: &str,
    pcap_cnt: u64,
    tx_id: Option<u64>,
) -> Map<String, Value> {
    let k = &flow.key;
    let ((src, sp), (dst, dp)) = ((k.src, k.src_port), (k.dst, k.dst_port));
    let mut rec = Map::new();
    rec.insert("timestamp".into(), json!(ts.to_eve_string()));
    rec.insert("flow_id".into(), json!(flow.id));
    if pcap_cnt != 0 {
        rec.insert("pcap_cnt".into(), json!(pcap_cnt));
    }
    rec.insert("event_type".into(), json!(event_type));
    if k.vlan != 0 {
        rec.insert("vlan".into(), json!([k.vlan]));
    }
    rec.insert("src_ip".into(), json!(eve_ip(src)));
    rec.insert("src_port".into(), json!(sp));
    rec.insert("dest_ip".into(), json!(eve_ip(dst)));
    rec.insert("dest_port".into(), json!(dp));
    rec.insert("proto".into(), json!(proto_name(k.proto)));
    rec.insert("pkt_src".into(), json!("wire/pcap"));
    if let Some(id) = tx_id {
        rec.insert("tx_id".into(), json!(id));
    }
    rec
}

/// Bytes as Suricata's EVE writes them into a string: valid UTF-8 as it
/// is (JSON escapes control characters), otherwise ASCII bytes as they are
/// and every other byte as the four characters `\xNN`.
pub fn eve_bytes(b: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(b) {
        return s.to_string();
    }
    let mut s = String::with_capacity(b.len() + 8);
    for &c in b {
        if c.is_ascii() {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Record data as Suricata 7 logs it (`rdata`, or an object under its
/// own key such as `soa`); `None` for types it does not decode.
fn dns_rdata(r: &rampart_app::dns::DnsRecord) -> Option<(&'static str, Value)> {
    use rampart_app::dns::DnsRdata;
    Some(match &r.rdata {
        DnsRdata::A(a) => ("rdata", json!(a.to_string())),
        DnsRdata::Aaaa(a) => ("rdata", json!(eve_ip(std::net::IpAddr::V6(*a)))),
        DnsRdata::Name(n) => ("rdata", json!(eve_bytes(n))),
        DnsRdata::Mx { exchange, .. } => ("rdata", json!(eve_bytes(exchange))),
        // Suricata keeps the first character-string only.
        DnsRdata::Txt(parts) => (
            "rdata",
            json!(eve_bytes(parts.first().map(Vec::as_slice).unwrap_or(&[]))),
        ),
        DnsRdata::Soa {
            mname,
            rname,
            values: [serial, refresh, retry, expire, minimum],
        } => (
            "soa",
            json!({
                "mname": eve_bytes(mname),
                "rname": eve_bytes(rname),
                "serial": serial,
                "refresh": refresh,
                "retry": retry,
                "expire": expire,
                "minimum": minimum,
            }),
        ),
        // NULL records are logged as their bytes.
        DnsRdata::Raw(b) if r.rrtype == 10 => ("rdata", json!(eve_bytes(b))),
        DnsRdata::Raw(_) => return None,
    })
}

/// One resource record in a response's `answers` / `authorities`.
fn dns_record_detail(r: &rampart_app::dns::DnsRecord) -> Value {
    use rampart_app::dns::rrtype_name;
    let mut a = Map::new();
    a.insert("rrname".into(), json!(eve_bytes(&r.name)));
    a.insert("rrtype".into(), json!(rrtype_name(r.rrtype)));
    a.insert("ttl".into(), json!(r.ttl));
    if let Some((key, v)) = dns_rdata(r) {
        a.insert(key.into(), v);
    }
    Value::Object(a)
}

/// A request's question as a `type: query` object (Suricata 7's v2
/// shape; the record form adds `version` in front).
fn dns_query(
    m: &rampart_app::dns::DnsMessage,
    q: &rampart_app::dns::DnsQuestion,
    tx_id: u64,
) -> Value {
    json!({
        "type": "query",
        "id": m.header.id,
        "rrname": eve_bytes(&q.name),
        "rrtype": rampart_app::dns::rrtype_name(q.rrtype),
        "tx_id": tx_id,
        "opcode": m.header.opcode(),
    })
}

/// A response as a version-2 `type: answer` object: header flags, the
/// first question, rcode, then (`detailed`, for the `dns` record; alerts
/// leave them out, as Suricata's do) the answers and them grouped by type,
/// and the authority records.
fn dns_answer(m: &rampart_app::dns::DnsMessage, detailed: bool) -> Map<String, Value> {
    use rampart_app::dns::{rcode_name, rrtype_name};
    let h = &m.header;
    let mut dns = Map::new();
    dns.insert("version".into(), json!(2));
    dns.insert("type".into(), json!("answer"));
    dns.insert("id".into(), json!(h.id));
    dns.insert("flags".into(), json!(format!("{:x}", h.flags)));
    for (set, name) in [
        (h.is_response(), "qr"),
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
        (h.z(), "z"),
    ] {
        if set {
            dns.insert(name.into(), json!(true));
        }
    }
    dns.insert("opcode".into(), json!(h.opcode()));
    if let Some(q) = m.queries.first() {
        dns.insert("rrname".into(), json!(eve_bytes(&q.name)));
        dns.insert("rrtype".into(), json!(rrtype_name(q.rrtype)));
    }
    dns.insert("rcode".into(), json!(rcode_name(h.rcode())));
    if detailed && !m.answers.is_empty() {
        let mut grouped: Map<String, Value> = Map::new();
        for r in &m.answers {
            if let Some((_, rd)) = dns_rdata(r) {
                match grouped.get_mut(&rrtype_name(r.rrtype)) {
                    Some(Value::Array(list)) => list.push(rd),
                    _ => {
                        grouped.insert(rrtype_name(r.rrtype), json!([rd]));
                    }
                }
            }
        }
        let answers = m.answers.iter().map(dns_record_detail).collect();
        dns.insert("answers".into(), Value::Array(answers));
        dns.insert("grouped".into(), Value::Object(grouped));
    }
    if !m.authorities.is_empty() {
        let auth = m.authorities.iter().map(dns_record_detail).collect();
        dns.insert("authorities".into(), Value::Array(auth));
    }
    dns
}

/// EVE `dns` records of one message, in Suricata 7's version-2 shape: a
/// request gives one `type: query` record per question, a response one
/// `type: answer` record with flags, rcode, the answers and them grouped
/// by type. As in Suricata, a message without a question, or one cut
/// short (which Suricata's parser rejects), gives none.
/// `tx_id` is the message's number in its flow.
pub fn dns_records(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    msg: &rampart_app::dns::DnsMessage,
    tx_id: u64,
    pcap_cnt: u64,
) -> Vec<Value> {
    let response = msg.header.is_response();
    let mut out = Vec::new();
    if msg.queries.is_empty() || msg.truncated {
        return out;
    }
    if !response {
        for q in &msg.queries {
            let mut rec = app_head(ts, flow, "dns", pcap_cnt, None);
            let mut dns = Map::new();
            dns.insert("version".into(), json!(2));
            if let Value::Object(fields) = dns_query(msg, q, tx_id) {
                dns.extend(fields);
            }
            rec.insert("dns".into(), Value::Object(dns));
            out.push(Value::Object(rec));
        }
        return out;
    }
    let mut rec = app_head(ts, flow, "dns", pcap_cnt, None);
    rec.insert("dns".into(), Value::Object(dns_answer(msg, true)));
    out.push(Value::Object(rec));
    out
}

/// The port of a `Host` value (`example.com:8080`, `[::1]:81`), when it
/// names one.
fn host_port(host: &[u8]) -> Option<u16> {
    let after_v6 = match host.iter().rposition(|&c| c == b']') {
        Some(i) => host.get(i + 1..)?,
        None => host,
    };
    let colon = after_v6.iter().rposition(|&c| c == b':')?;
    let digits = after_v6.get(colon + 1..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An HTTP transaction as Suricata 7's extended `http` object: hostname,
/// http_port, url, http_user_agent, http_content_type (up to any `;`),
/// http_refer, http_method, protocol, status, redirect, length (response
/// body bytes so far). Fields the transaction does not have yet are left
/// out, so an alert raised on the request has no status.
pub fn http_object(tx: &rampart_app::http::HttpTransaction) -> Value {
    use rampart_app::http::Direction as HttpDir;
    let mut h = Map::new();
    let non_empty = |b: &[u8]| (!b.is_empty()).then(|| eve_bytes(b));
    if let Some(host) = tx.host().filter(|h| !h.is_empty()) {
        h.insert("hostname".into(), json!(eve_bytes(host)));
    }
    if let Some(port) = tx.host_raw().and_then(host_port) {
        h.insert("http_port".into(), json!(port));
    }
    if let Some(url) = non_empty(tx.uri_raw()) {
        h.insert("url".into(), json!(url));
    }
    if let Some(ua) = tx.user_agent() {
        h.insert("http_user_agent".into(), json!(eve_bytes(&ua)));
    }
    if let Some(ct) = tx.content_type(HttpDir::ToClient) {
        let end = ct.iter().position(|&c| c == b';').unwrap_or(ct.len());
        let ct = ct.get(..end).unwrap_or(&ct);
        h.insert("http_content_type".into(), json!(eve_bytes(ct)));
    }
    if let Some(r) = tx.referer() {
        h.insert("http_refer".into(), json!(eve_bytes(&r)));
    }
    if let Some(m) = non_empty(tx.method()) {
        h.insert("http_method".into(), json!(m));
    }
    if let Some(p) = non_empty(tx.protocol()) {
        h.insert("protocol".into(), json!(p));
    }
    let status = std::str::from_utf8(tx.stat_code())
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    if let Some(st) = status {
        h.insert("status".into(), json!(st));
    }
    if let Some(loc) = tx.header_value(HttpDir::ToClient, "location") {
        h.insert("redirect".into(), json!(eve_bytes(&loc)));
    }
    h.insert("length".into(), json!(tx.body_len(HttpDir::ToClient)));
    Value::Object(h)
}

/// The EVE `http` record of a transaction (Suricata logs one per
/// transaction, once it is complete or its flow ends).
pub fn http_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::http::HttpTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "http", pcap_cnt, Some(tx.id()));
    rec.insert("http".into(), http_object(tx));
    Value::Object(rec)
}

/// An HTTP/2 error code as Suricata's EVE names it (`INTERNALERROR`:
/// RFC 9113's name without underscores), unknown ones as numbers.
fn http2_error_name(code: u32) -> Value {
    match rampart_rules::HTTP2_ERROR_CODE_NAMES
        .iter()
        .find(|(_, c)| *c == code)
    {
        Some((name, _)) => json!(name.replace('_', "")),
        None => json!(code),
    }
}

/// An HTTP/2 stream as Suricata 7's `http` object writes it: the HTTP
/// fields from its pseudo-headers (`hostname`, `url`, `http_user_agent`,
/// `http_method`, `protocol` `HTTP/2`, `status`), `http2` (`stream_id`,
/// the error codes of each side's RST_STREAM/GOAWAY under `request` /
/// `response`) and the `request_headers` / `response_headers` lists.
pub fn http2_object(tx: &rampart_app::http2::Http2Transaction) -> Value {
    use rampart_app::http::Direction as HttpDir;
    let mut h = Map::new();
    let req = |name: &[u8]| tx.header_value(HttpDir::ToServer, name);
    if let Some(host) = req(b":authority").or_else(|| req(b"host")) {
        h.insert("hostname".into(), json!(eve_bytes(host)));
    }
    if let Some(url) = req(b":path") {
        h.insert("url".into(), json!(eve_bytes(url)));
    }
    if let Some(ua) = req(b"user-agent") {
        h.insert("http_user_agent".into(), json!(eve_bytes(ua)));
    }
    if let Some(m) = req(b":method") {
        h.insert("http_method".into(), json!(eve_bytes(m)));
    }
    if tx.stream_id != 0 {
        h.insert("protocol".into(), json!("HTTP/2"));
    }
    let status = tx
        .status()
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.trim().parse::<u32>().ok());
    if let Some(st) = status {
        h.insert("status".into(), json!(st));
    }
    let side = |dir: HttpDir| {
        let mut o = Map::new();
        if let Some(&code) = tx.side(dir).error_codes.last() {
            o.insert("error_code".into(), http2_error_name(code));
        }
        Value::Object(o)
    };
    h.insert(
        "http2".into(),
        json!({
            "stream_id": tx.stream_id,
            "request": side(HttpDir::ToServer),
            "response": side(HttpDir::ToClient),
        }),
    );
    let headers = |dir: HttpDir| -> Vec<Value> {
        tx.side(dir)
            .headers
            .iter()
            .map(|x| json!({"name": eve_bytes(&x.name), "value": eve_bytes(&x.value)}))
            .collect()
    };
    h.insert("request_headers".into(), json!(headers(HttpDir::ToServer)));
    h.insert("response_headers".into(), json!(headers(HttpDir::ToClient)));
    Value::Object(h)
}

/// The EVE `http` record of an HTTP/2 stream (one per stream once both
/// sides are in or the connection ended; not for stream-0 frames).
pub fn http2_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::http2::Http2Transaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "http", pcap_cnt, Some(tx.id));
    rec.insert("http".into(), http2_object(tx));
    Value::Object(rec)
}

/// The version name Suricata's EVE writes.
fn tls_version_name(v: u16) -> String {
    let name = match v {
        0 => "UNDETERMINED",
        0x0200 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f10..=0x7f1c => return format!("TLS 1.3 draft-{}", v & 0xff),
        0x7f01 => "TLS 1.3 draft-<16",
        0xfb14..=0xfb17 | 0xfb1a => return format!("TLS 1.3 draft-{}-fb", v & 0xff),
        _ => return format!("0x{v:04x}"),
    };
    name.to_string()
}

/// A date-time as Suricata writes certificate validity (UTC, no zone).
fn eve_datetime(secs: i64) -> String {
    let s = Timestamp::from_secs(u64::try_from(secs).unwrap_or(0)).to_eve_string();
    s.get(..19).unwrap_or(&s).to_string()
}

/// A TLS handshake as Suricata 7's extended `tls` object: subject,
/// issuerdn, serial, fingerprint, sni, version, notbefore, notafter, ja3,
/// ja3s (whatever the handshake has shown so far).
pub fn tls_object(s: &rampart_app::tls::TlsSession) -> Value {
    let mut tls = Map::new();
    if let Some(c) = s.certificates.first() {
        tls.insert("subject".into(), json!(c.subject));
        tls.insert("issuerdn".into(), json!(c.issuer));
        tls.insert("serial".into(), json!(c.serial));
        tls.insert("fingerprint".into(), json!(c.fingerprint));
    }
    // Suricata flags a resumption only when no certificate was seen and
    // the server said hello without choosing TLS 1.3.
    if s.certificates.is_empty()
        && s.server_hello.is_some()
        && s.session_resumed()
        && !s.tls13_chosen()
    {
        tls.insert("session_resumed".into(), json!(true));
    }
    if let Some(sni) = s.client_hello.as_ref().and_then(|c| c.sni.as_deref()) {
        tls.insert("sni".into(), json!(eve_bytes(sni)));
    }
    tls.insert(
        "version".into(),
        json!(tls_version_name(s.server_version())),
    );
    if let Some(c) = s.certificates.first() {
        tls.insert("notbefore".into(), json!(eve_datetime(c.not_before)));
        tls.insert("notafter".into(), json!(eve_datetime(c.not_after)));
    }
    if let Some(ch) = &s.client_hello {
        tls.insert(
            "ja3".into(),
            json!({"hash": ch.ja3_hash(), "string": ch.ja3_string()}),
        );
    }
    if let Some(sh) = &s.server_hello {
        tls.insert(
            "ja3s".into(),
            json!({"hash": sh.ja3s_hash(), "string": sh.ja3s_string()}),
        );
    }
    Value::Object(tls)
}

/// The EVE `tls` record of a connection's handshake.
pub fn tls_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    s: &rampart_app::tls::TlsSession,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "tls", pcap_cnt, None);
    rec.insert("tls".into(), tls_object(s));
    Value::Object(rec)
}

/// Suricata's name of a DCERPC PDU type.
fn dcerpc_type_name(t: u8) -> String {
    let name = match t {
        0 => "REQUEST",
        1 => "PING",
        2 => "RESPONSE",
        3 => "FAULT",
        4 => "WORKING",
        5 => "NOCALL",
        6 => "REJECT",
        7 => "ACK",
        8 => "CL_CANCEL",
        9 => "FACK",
        10 => "CANCEL_ACK",
        11 => "BIND",
        12 => "BINDACK",
        13 => "BINDNAK",
        14 => "ALTER_CONTEXT",
        15 => "ALTER_CONTEXT_RESP",
        16 => "AUTH3",
        17 => "SHUTDOWN",
        18 => "CO_CANCEL",
        19 => "ORPHANED",
        20 => "RTS",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The `dcerpc` object of records and alerts, with Suricata's fields:
/// `request` / `response` (PDU type names, `REQUEST_LOST` / `UNREPLIED`
/// for a missing side), `req` (opnum, fragment count, stub size) for a
/// request, `interfaces` for a bind or alter context (and, as Suricata 8
/// logs it, for a request: the interface of the context it used), `res`
/// for a response, `call_id` and `rpc_version`.
pub fn dcerpc_object(
    state: &rampart_app::dcerpc::DcerpcState,
    tx: &rampart_app::dcerpc::DcerpcTransaction,
) -> Value {
    use rampart_app::dcerpc::ptype;
    let iface = |i: &rampart_app::dcerpc::Interface| {
        json!({
            "uuid": rampart_app::dcerpc::uuid_string(&i.uuid),
            "version": format!("{}.{}", i.version, i.version_minor),
            "ack_result": i.result.unwrap_or(0),
        })
    };
    let mut o = Map::new();
    match tx.req_type.filter(|_| tx.req_done) {
        Some(t) => {
            o.insert("request".into(), json!(dcerpc_type_name(t)));
            if t == ptype::REQUEST {
                o.insert(
                    "req".into(),
                    json!({
                        "opnum": tx.opnum,
                        "frag_cnt": tx.req_frags,
                        "stub_data_size": tx.stub_request.len(),
                    }),
                );
            }
            if t == ptype::BIND || t == ptype::ALTER_CONTEXT {
                let ifaces: Vec<Value> = tx.interfaces.iter().map(iface).collect();
                o.insert("interfaces".into(), Value::Array(ifaces));
            } else if let Some(i) = state.bound_interface(tx) {
                o.insert("interfaces".into(), json!([iface(i)]));
            }
        }
        None => {
            o.insert("request".into(), json!("REQUEST_LOST"));
        }
    }
    match tx.resp_type.filter(|_| tx.resp_done) {
        Some(t) => {
            o.insert("response".into(), json!(dcerpc_type_name(t)));
            if t == ptype::RESPONSE {
                o.insert(
                    "res".into(),
                    json!({
                        "frag_cnt": tx.resp_frags,
                        "stub_data_size": tx.stub_response.len(),
                    }),
                );
            }
        }
        None => {
            o.insert("response".into(), json!("UNREPLIED"));
        }
    }
    o.insert("call_id".into(), json!(tx.call_id));
    o.insert(
        "rpc_version".into(),
        json!(format!("{}.{}", tx.version.0, tx.version.1)),
    );
    Value::Object(o)
}

/// The EVE `dcerpc` record of a transaction.
pub fn dcerpc_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    state: &rampart_app::dcerpc::DcerpcState,
    tx: &rampart_app::dcerpc::DcerpcTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "dcerpc", pcap_cnt, Some(tx.id));
    rec.insert("dcerpc".into(), dcerpc_object(state, tx));
    Value::Object(rec)
}

/// The `sip` object of records and alerts: the request line's parts or
/// the status line's, and the whole line.
pub fn sip_object(tx: &rampart_app::sip::SipTransaction) -> Value {
    let m = &tx.message;
    let mut o = Map::new();
    if let Some(r) = &m.request {
        o.insert("method".into(), json!(eve_bytes(&r.method)));
        o.insert("uri".into(), json!(eve_bytes(&r.uri)));
        o.insert("version".into(), json!(eve_bytes(&r.version)));
        o.insert("request_line".into(), json!(eve_bytes(&m.start_line)));
    }
    if let Some(r) = &m.response {
        o.insert("version".into(), json!(eve_bytes(&r.version)));
        o.insert("code".into(), json!(eve_bytes(&r.code)));
        o.insert("reason".into(), json!(eve_bytes(&r.reason)));
        o.insert("response_line".into(), json!(eve_bytes(&m.start_line)));
    }
    Value::Object(o)
}

/// The EVE `sip` record of one message. Unlike other app-layer records
/// its endpoints follow the message (a response's source is the server),
/// as Suricata writes them, and it has no `tx_id`.
pub fn sip_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::sip::SipTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "sip", pcap_cnt, None);
    if tx.dir == rampart_app::Direction::ToClient {
        let k = &flow.key;
        rec.insert("src_ip".into(), json!(eve_ip(k.dst)));
        rec.insert("src_port".into(), json!(k.dst_port));
        rec.insert("dest_ip".into(), json!(eve_ip(k.src)));
        rec.insert("dest_port".into(), json!(k.src_port));
    }
    rec.insert("sip".into(), sip_object(tx));
    Value::Object(rec)
}

/// The `rfb` object of records and alerts: versions, authentication,
/// the shared flag and the framebuffer, as far as the handshake went.
pub fn rfb_object(s: &rampart_app::rfb::RfbSession) -> Value {
    let version = |v: &rampart_app::rfb::RfbVersion| json!({"major": v.major, "minor": v.minor});
    let mut o = Map::new();
    if let Some(v) = &s.server_version {
        o.insert("server_protocol_version".into(), version(v));
    }
    if let Some(v) = &s.client_version {
        o.insert("client_protocol_version".into(), version(v));
    }
    if let Some(t) = s.security_type {
        let mut auth = Map::new();
        auth.insert("security_type".into(), json!(t));
        if t == rampart_app::rfb::sectype::VNC {
            let hex = |b: &[u8; 16]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            let mut vnc = Map::new();
            if let Some(c) = &s.vnc_challenge {
                vnc.insert("challenge".into(), json!(hex(c)));
            }
            if let Some(r) = &s.vnc_response {
                vnc.insert("response".into(), json!(hex(r)));
            }
            auth.insert("vnc".into(), Value::Object(vnc));
        }
        if let Some(r) = s.security_result {
            let name = match r {
                0 => "OK",
                1 => "FAIL",
                2 => "TOOMANY",
                _ => "UNKNOWN",
            };
            auth.insert("security_result".into(), json!(name));
        }
        o.insert("authentication".into(), Value::Object(auth));
    }
    if let Some(shared) = s.shared {
        o.insert("screen_shared".into(), json!(shared));
    }
    if let Some(init) = &s.server_init {
        let p = &init.pixel_format;
        o.insert(
            "framebuffer".into(),
            json!({
                "width": init.width,
                "height": init.height,
                "name": eve_bytes(&init.name),
                "pixel_format": {
                    "bits_per_pixel": p.bits_per_pixel,
                    "depth": p.depth,
                    "big_endian": p.big_endian,
                    "true_color": p.true_color,
                    "red_max": p.red_max,
                    "green_max": p.green_max,
                    "blue_max": p.blue_max,
                    "red_shift": p.red_shift,
                    "green_shift": p.green_shift,
                    "blue_shift": p.blue_shift,
                },
            }),
        );
    }
    Value::Object(o)
}

/// The EVE `rfb` record of a connection's handshake.
pub fn rfb_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    s: &rampart_app::rfb::RfbSession,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "rfb", pcap_cnt, None);
    rec.insert("rfb".into(), rfb_object(s));
    Value::Object(rec)
}

/// One side of an SSH connection as Suricata logs it: `proto_version`,
/// `software_version` (when given) and `hassh` (when computed); `None`
/// for a side that sent no identification line.
fn ssh_side(side: &rampart_app::ssh::SshSide) -> Option<Value> {
    if side.proto.is_empty() {
        return None;
    }
    let limited = |b: &[u8]| eve_bytes(b.get(..rampart_app::ssh::MAX_BANNER_LEN).unwrap_or(b));
    let mut o = Map::new();
    o.insert("proto_version".into(), json!(limited(&side.proto)));
    if !side.software.is_empty() {
        o.insert("software_version".into(), json!(limited(&side.software)));
    }
    if !side.hassh.is_empty() || !side.hassh_string.is_empty() {
        let mut h = Map::new();
        if !side.hassh.is_empty() {
            h.insert("hash".into(), json!(eve_bytes(&side.hassh)));
        }
        if !side.hassh_string.is_empty() {
            h.insert("string".into(), json!(eve_bytes(&side.hassh_string)));
        }
        o.insert("hassh".into(), Value::Object(h));
    }
    Some(Value::Object(o))
}

/// The `ssh` object of records and alerts: `client` and `server`.
pub fn ssh_object(s: &rampart_app::ssh::SshSession) -> Value {
    let mut ssh = Map::new();
    if let Some(c) = ssh_side(&s.client) {
        ssh.insert("client".into(), c);
    }
    if let Some(v) = ssh_side(&s.server) {
        ssh.insert("server".into(), v);
    }
    Value::Object(ssh)
}

/// The EVE `ssh` record of a connection (Suricata writes none when
/// neither side sent an identification line).
pub fn ssh_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    s: &rampart_app::ssh::SshSession,
    pcap_cnt: u64,
) -> Option<Value> {
    if s.client.proto.is_empty() && s.server.proto.is_empty() {
        return None;
    }
    let mut rec = app_head(ts, flow, "ssh", pcap_cnt, Some(0));
    rec.insert("ssh".into(), ssh_object(s));
    Some(Value::Object(rec))
}

/// A comma-separated address list as Suricata splits it for EVE (commas
/// inside double quotes do not split; leading blanks are skipped).
fn email_list(v: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut field = false;
    for (i, &c) in v.iter().enumerate() {
        match c {
            b'"' => {
                quoted = !quoted;
                field = true;
            }
            b',' if !quoted => {
                if i > start {
                    out.push(json!(eve_bytes(v.get(start..i).unwrap_or_default())));
                }
                start = i + 1;
                field = false;
            }
            b' ' | b'\t' if !field && !quoted => start = i + 1,
            _ => field = true,
        }
    }
    if v.len() > start {
        out.push(json!(eve_bytes(v.get(start..).unwrap_or_default())));
    }
    out
}

/// The `smtp` and `email` objects of an SMTP transaction, as Suricata's
/// SMTP logger writes them (`email` only once the mail has a message).
pub fn smtp_objects(
    session: &rampart_app::smtp::SmtpSession,
    tx: &rampart_app::smtp::SmtpTransaction,
    into: &mut Map<String, Value>,
) {
    let mut smtp = Map::new();
    if !session.helo.is_empty() {
        smtp.insert("helo".into(), json!(eve_bytes(&session.helo)));
    }
    if !tx.mail_from.is_empty() {
        smtp.insert("mail_from".into(), json!(eve_bytes(&tx.mail_from)));
    }
    if !tx.rcpt_to.is_empty() {
        let r: Vec<Value> = tx.rcpt_to.iter().map(|r| json!(eve_bytes(r))).collect();
        smtp.insert("rcpt_to".into(), Value::Array(r));
    }
    into.insert("smtp".into(), Value::Object(smtp));
    let Some(m) = tx.message.as_ref() else {
        return;
    };
    let mut email = Map::new();
    email.insert("status".into(), json!(m.status.name()));
    if let Some(from) = m.header("from") {
        email.insert("from".into(), json!(eve_bytes(from.trim_ascii_start())));
    }
    for key in ["to", "cc"] {
        if let Some(v) = m.header(key) {
            let list = email_list(v);
            if !list.is_empty() {
                email.insert(key.into(), Value::Array(list));
            }
        }
    }
    if !m.files.is_empty() {
        let names: Vec<Value> = m.files.iter().map(|f| json!(eve_bytes(&f.name))).collect();
        email.insert("attachment".into(), Value::Array(names));
    }
    into.insert("email".into(), Value::Object(email));
}

/// The `files` array of an SMTP transaction's alerts: each attachment
/// with its name, size and state (`None` without attachments).
fn smtp_files(tx: &rampart_app::smtp::SmtpTransaction) -> Option<Value> {
    let m = tx.message.as_ref()?;
    if m.files.is_empty() {
        return None;
    }
    let files = m
        .files
        .iter()
        .map(|f| {
            json!({
                "filename": eve_bytes(&f.name),
                "gaps": false,
                "state": if f.closed { "CLOSED" } else { "OPENED" },
                "stored": false,
                "size": f.size,
                "tx_id": tx.id,
            })
        })
        .collect();
    Some(Value::Array(files))
}

/// The EVE `fileinfo` records of an SMTP transaction's attachments, as
/// Suricata writes them: the `smtp` and `email` objects, `app_proto`, and
/// `fileinfo` with the file's name, size, state and MD5.
pub fn smtp_fileinfo_records(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    session: &rampart_app::smtp::SmtpSession,
    tx: &rampart_app::smtp::SmtpTransaction,
    pcap_cnt: u64,
) -> Vec<Value> {
    let Some(m) = tx.message.as_ref() else {
        return Vec::new();
    };
    m.files
        .iter()
        .map(|f| {
            let mut rec = app_head(ts, flow, "fileinfo", pcap_cnt, None);
            smtp_objects(session, tx, &mut rec);
            rec.insert("app_proto".into(), json!("smtp"));
            let mut info = Map::new();
            info.insert("filename".into(), json!(eve_bytes(&f.name)));
            info.insert("gaps".into(), json!(false));
            info.insert(
                "state".into(),
                json!(if f.closed { "CLOSED" } else { "OPENED" }),
            );
            if let Some(md5) = f.md5 {
                let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
                info.insert("md5".into(), json!(hex));
            }
            info.insert("stored".into(), json!(false));
            info.insert("size".into(), json!(f.size));
            info.insert("tx_id".into(), json!(tx.id));
            rec.insert("fileinfo".into(), Value::Object(info));
            Value::Object(rec)
        })
        .collect()
}

/// The EVE `smtp` record of a transaction.
pub fn smtp_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    session: &rampart_app::smtp::SmtpSession,
    tx: &rampart_app::smtp::SmtpTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "smtp", pcap_cnt, Some(tx.id));
    smtp_objects(session, tx, &mut rec);
    Value::Object(rec)
}

/// The head of a record Suricata writes in the logged packet's direction
/// (its `krb5` and `snmp` records): `to_server` says which way that
/// packet travelled; no `tx_id`.
fn app_head_packet(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    event_type: &str,
    pcap_cnt: u64,
    to_server: bool,
) -> Map<String, Value> {
    let mut rec = app_head(ts, flow, event_type, pcap_cnt, None);
    if !to_server {
        let k = &flow.key;
        rec.insert("src_ip".into(), json!(eve_ip(k.dst)));
        rec.insert("src_port".into(), json!(k.dst_port));
        rec.insert("dest_ip".into(), json!(eve_ip(k.src)));
        rec.insert("dest_port".into(), json!(k.src_port));
    }
    rec
}

/// The `krb5` object of records and alerts, in Suricata's field order:
/// names as `a/b` (`<empty>` when absent), the reply's cipher
/// (`<none>` for requests and errors), an error's code and the request
/// it answers, a reply's ticket cipher.
pub fn krb5_object(tx: &rampart_app::krb5::Krb5Transaction) -> Value {
    use rampart_app::krb5::{encryption_name, error_code_name, is_weak_encryption, msg_type_name};
    let mut o = Map::new();
    o.insert("msg_type".into(), json!(msg_type_name(tx.msg_type)));
    if let Some(code) = tx.error_code {
        let failed = tx
            .req_type
            .map_or_else(|| "UNKNOWN".to_string(), msg_type_name);
        o.insert("failed_request".into(), json!(failed));
        o.insert("error_code".into(), json!(error_code_name(code)));
    }
    let name = |n: Option<&rampart_app::krb5::PrincipalName>| {
        n.map_or_else(|| "<empty>".to_string(), |n| n.to_string())
    };
    o.insert("cname".into(), json!(name(tx.cname.as_ref())));
    o.insert(
        "realm".into(),
        json!(tx.realm.as_deref().unwrap_or("<empty>")),
    );
    o.insert("sname".into(), json!(name(tx.sname.as_ref())));
    o.insert(
        "encryption".into(),
        json!(tx
            .etype
            .map_or_else(|| "<none>".to_string(), encryption_name)),
    );
    o.insert(
        "weak_encryption".into(),
        json!(tx.etype.is_some_and(is_weak_encryption)),
    );
    if let Some(t) = tx.ticket_etype {
        o.insert("ticket_encryption".into(), json!(encryption_name(t)));
        o.insert(
            "ticket_weak_encryption".into(),
            json!(is_weak_encryption(t)),
        );
    }
    Value::Object(o)
}

/// The EVE `krb5` record of a Kerberos message, written when the message
/// is inspected, with endpoints in its direction (the packet logging it
/// travels that way). Over TCP Suricata writes it a packet earlier, with
/// the peer's acknowledgement, and so with the endpoints swapped.
pub fn krb5_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::krb5::Krb5Transaction,
    pcap_cnt: u64,
) -> Value {
    let to_server = tx.direction == rampart_app::krb5::Krb5Direction::ToServer;
    let mut rec = app_head_packet(ts, flow, "krb5", pcap_cnt, to_server);
    rec.insert("krb5".into(), krb5_object(tx));
    Value::Object(rec)
}

/// The `snmp` object of records and alerts, in Suricata's field order.
pub fn snmp_object(tx: &rampart_app::snmp::SnmpTransaction) -> Value {
    use rampart_app::snmp::{error_name, pdu_type_name, trap_type_name};
    let mut o = Map::new();
    o.insert("version".into(), json!(tx.version));
    if tx.encrypted {
        o.insert("pdu_type".into(), json!("encrypted"));
    } else if let Some(pdu) = &tx.pdu {
        o.insert("pdu_type".into(), json!(pdu_type_name(pdu.pdu_type)));
        if pdu.error != 0 {
            o.insert("error".into(), json!(error_name(pdu.error)));
        }
        if let Some(t) = &pdu.trap {
            o.insert("trap_type".into(), json!(trap_type_name(t.trap_type)));
            o.insert("trap_oid".into(), json!(t.enterprise));
            o.insert("trap_address".into(), json!(t.agent.to_string()));
        }
        if !pdu.vars.is_empty() {
            o.insert("vars".into(), json!(pdu.vars));
        }
    }
    if let Some(c) = &tx.community {
        o.insert("community".into(), json!(c));
    }
    if let Some(u) = &tx.usm {
        o.insert("usm".into(), json!(u));
    }
    Value::Object(o)
}

/// The `quic` object of records and alerts, as Suricata 7 writes it: the
/// version (not for short headers), the SNI and user agent, CYU
/// fingerprints, `ja3` (client) or `ja3s` (server) and the hello's
/// extensions with their names and values.
pub fn quic_object(tx: &rampart_app::quic::QuicTransaction) -> Value {
    use rampart_app::quic::{extension_name, packet::version_name, packet::PacketType};
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut o = Map::new();
    if tx.packet_type != PacketType::Short {
        o.insert("version".into(), json!(version_name(tx.version)));
        if let Some(sni) = &tx.sni {
            o.insert("sni".into(), json!(lossy(sni)));
        }
        if let Some(ua) = &tx.ua {
            o.insert("ua".into(), json!(lossy(ua)));
        }
    }
    if !tx.cyu.is_empty() {
        let cyu: Vec<Value> = tx
            .cyu
            .iter()
            .map(|c| json!({"hash": c.hash, "string": c.string}))
            .collect();
        o.insert("cyu".into(), Value::Array(cyu));
    }
    if let (Some(ja3), Some(hash)) = (&tx.ja3, tx.ja3_hash()) {
        let key = if tx.client() { "ja3" } else { "ja3s" };
        o.insert(key.into(), json!({"hash": hash, "string": ja3}));
    }
    if !tx.extensions.is_empty() {
        let exts: Vec<Value> = tx
            .extensions
            .iter()
            .map(|e| {
                let mut m = Map::new();
                if let Some(name) = extension_name(e.etype) {
                    m.insert("name".into(), json!(name));
                }
                m.insert("type".into(), json!(e.etype));
                if !e.values.is_empty() {
                    let values: Vec<String> = e.values.iter().map(|v| lossy(v)).collect();
                    m.insert("values".into(), json!(values));
                }
                Value::Object(m)
            })
            .collect();
        o.insert("extensions".into(), Value::Array(exts));
    }
    Value::Object(o)
}

/// The EVE `quic` record of a packet (endpoints in its direction, no
/// `tx_id`, as Suricata writes it).
pub fn quic_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::quic::QuicTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head_packet(ts, flow, "quic", pcap_cnt, tx.client());
    rec.insert("quic".into(), quic_object(tx));
    Value::Object(rec)
}

/// The EVE `snmp` record of a datagram (endpoints in its direction).
pub fn snmp_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::snmp::SnmpTransaction,
    pcap_cnt: u64,
) -> Value {
    let to_server = tx.direction == rampart_app::snmp::SnmpDirection::ToServer;
    let mut rec = app_head_packet(ts, flow, "snmp", pcap_cnt, to_server);
    rec.insert("snmp".into(), snmp_object(tx));
    Value::Object(rec)
}

/// The `ftp` object of an FTP transaction, in Suricata's field order:
/// `command` (absent for a reply without one), `command_data` and
/// `command_truncated` when the line had more than the command's name,
/// `completion_code` and `reply` per reply line (a line starting with
/// three digits gives its code and the text from its fifth byte),
/// `dynamic_port`, `mode` for `PORT`/`EPRT` (with `v8`, as Suricata 8
/// writes it: for every transaction that announced a data port),
/// `reply_received`, `reply_truncated`.
pub fn ftp_object(tx: &rampart_app::ftp::FtpTransaction, v8: bool) -> Value {
    use rampart_app::ftp::FtpCommand;
    let mut o = Map::new();
    if let Some(c) = tx.command {
        o.insert("command".into(), json!(c.name()));
    }
    if let Some(data) = tx.command_data() {
        o.insert("command_data".into(), json!(eve_bytes(data)));
        o.insert("command_truncated".into(), json!(tx.request_truncated));
    }
    let mut codes = Vec::new();
    let mut replies = Vec::new();
    for r in &tx.replies {
        let l = r.line.as_slice();
        match l.get(..3) {
            Some(code) if code.iter().all(u8::is_ascii_digit) => {
                codes.push(json!(eve_bytes(code)));
                if let Some(text) = l.get(4..) {
                    replies.push(json!(eve_bytes(text)));
                }
            }
            _ => replies.push(json!(eve_bytes(l))),
        }
    }
    if !codes.is_empty() {
        o.insert("completion_code".into(), Value::Array(codes));
    }
    if !replies.is_empty() {
        o.insert("reply".into(), Value::Array(replies));
    }
    if let Some(p) = tx.dyn_port {
        o.insert("dynamic_port".into(), json!(p));
    }
    let mode = if v8 {
        tx.command.is_some() && tx.dyn_port.is_some()
    } else {
        matches!(tx.command, Some(FtpCommand::Port | FtpCommand::Eprt))
    };
    if mode {
        o.insert(
            "mode".into(),
            json!(if tx.active { "active" } else { "passive" }),
        );
    }
    o.insert(
        "reply_received".into(),
        json!(if tx.done { "yes" } else { "no" }),
    );
    o.insert("reply_truncated".into(), json!(tx.reply_truncated()));
    Value::Object(o)
}

/// An `event_type: "ftp"` record (one per transaction, once answered or
/// when the connection ends).
pub fn ftp_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    tx: &rampart_app::ftp::FtpTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "ftp", pcap_cnt, Some(tx.id));
    rec.insert("ftp".into(), ftp_object(tx, false));
    Value::Object(rec)
}

/// IKEv1 transform attributes into `o` as Suricata writes them: each
/// attribute's value name under its name, and its number (or hex) under
/// `NAME_raw`.
fn ike_attributes(attrs: &[rampart_app::ike::SaAttribute], o: &mut Map<String, Value>) {
    for a in attrs {
        o.insert(a.name.into(), json!(a.value_name));
        let raw = format!("{}_raw", a.name);
        if let Some(n) = a.numeric {
            o.insert(raw, json!(n));
        } else if let Some(h) = &a.hex {
            o.insert(raw, json!(h));
        }
    }
}

/// The `ike` object of an IKE message, in Suricata's field order (the
/// flow-wide values, the responder's choice and IKEv1's key exchange
/// data, as they stand after this message).
pub fn ike_object(
    state: &rampart_app::ike::IkeState,
    tx: &rampart_app::ike::IkeTransaction,
) -> Value {
    use rampart_app::ike::{self, IkeDirection};
    let mut o = Map::new();
    o.insert("version_major".into(), json!(tx.version.0));
    o.insert("version_minor".into(), json!(tx.version.1));
    o.insert("init_spi".into(), json!(tx.init_spi_hex()));
    o.insert("resp_spi".into(), json!(tx.resp_spi_hex()));
    o.insert("message_id".into(), json!(tx.msg_id));
    o.insert("exchange_type".into(), json!(tx.exchange_type));
    let v1 = tx.version.0 == 1;
    if v1 {
        if state.v1_server.nb_transforms > 0 {
            ike_attributes(&state.v1_server.transform, &mut o);
        }
        if tx.direction == IkeDirection::ToClient && tx.v1_transforms.len() > 1 {
            let list = tx
                .v1_transforms
                .iter()
                .map(|t| {
                    let mut p = Map::new();
                    ike_attributes(t, &mut p);
                    Value::Object(p)
                })
                .collect();
            o.insert("server_proposals".into(), Value::Array(list));
        }
    } else if tx.v2_initiator() {
        o.insert("role".into(), json!("initiator"));
    } else {
        let c = &state.v2_chosen;
        o.insert("role".into(), json!("responder"));
        o.insert("alg_enc".into(), json!(format!("{:?}", c.enc)));
        o.insert("alg_auth".into(), json!(format!("{:?}", c.auth)));
        o.insert("alg_prf".into(), json!(format!("{:?}", c.prf)));
        o.insert("alg_dh".into(), json!(format!("{:?}", c.dh)));
        o.insert("alg_esn".into(), json!(format!("{:?}", c.esn)));
    }
    let payload: Vec<Value> = if v1 {
        let mut types = tx.payload_types.clone();
        types.sort_unstable();
        types
            .iter()
            .filter_map(|&t| ike::v1_payload_name(t))
            .map(|n| json!(n))
            .collect()
    } else {
        tx.payload_types
            .iter()
            .map(|&t| json!(ike::v2_payload_name(t)))
            .collect()
    };
    o.insert("payload".into(), Value::Array(payload));
    if v1 {
        let mut k = Map::new();
        if let Some(doi) = state.v1_doi {
            k.insert("doi".into(), json!(doi));
        }
        k.insert("encrypted_payloads".into(), json!(tx.v1_encrypted));
        if !tx.v1_encrypted {
            let side = |s: &rampart_app::ike::Ikev1Side, proposals: Option<Value>| {
                let mut m = Map::new();
                if !s.key_exchange.is_empty() {
                    m.insert("key_exchange_payload".into(), json!(s.key_exchange));
                    m.insert(
                        "key_exchange_payload_length".into(),
                        json!(s.key_exchange.len() / 2),
                    );
                }
                if !s.nonce.is_empty() {
                    m.insert("nonce_payload".into(), json!(s.nonce));
                    m.insert("nonce_payload_length".into(), json!(s.nonce.len() / 2));
                }
                if let Some(p) = proposals {
                    m.insert("proposals".into(), p);
                }
                Value::Object(m)
            };
            let proposals = (tx.direction == IkeDirection::ToServer
                && !tx.v1_transforms.is_empty())
            .then(|| {
                Value::Array(
                    tx.v1_transforms
                        .iter()
                        .map(|t| {
                            let mut p = Map::new();
                            ike_attributes(t, &mut p);
                            Value::Object(p)
                        })
                        .collect(),
                )
            });
            k.insert("client".into(), side(&state.v1_client, proposals));
            k.insert("server".into(), side(&state.v1_server, None));
            if !tx.v1_vendor_ids.is_empty() {
                k.insert("vendor_ids".into(), json!(tx.v1_vendor_ids));
            }
        }
        o.insert("ikev1".into(), Value::Object(k));
    } else {
        let mut k = Map::new();
        k.insert("errors".into(), json!(tx.v2_errors));
        if !tx.v2_notify.is_empty() {
            let n: Vec<Value> = tx
                .v2_notify
                .iter()
                .map(|&t| json!(ike::v2_notify_name(t)))
                .collect();
            k.insert("notify".into(), Value::Array(n));
        }
        o.insert("ikev2".into(), Value::Object(k));
    }
    Value::Object(o)
}

/// An `event_type: "ike"` record (one per message; Suricata writes no
/// `tx_id` in it).
pub fn ike_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    state: &rampart_app::ike::IkeState,
    tx: &rampart_app::ike::IkeTransaction,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "ike", pcap_cnt, None);
    rec.insert("ike".into(), ike_object(state, tx));
    Value::Object(rec)
}

/// An `event_type: "anomaly"` record for an application-layer event
/// (Suricata's anomaly log with `applayer` on, its default): the event
/// raised on transaction `tx_id` of a flow whose protocol is
/// `app_proto`.
pub fn applayer_anomaly_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    app_proto: &str,
    tx_id: Option<u64>,
    event: &str,
    pcap_cnt: u64,
) -> Value {
    let mut rec = app_head(ts, flow, "anomaly", pcap_cnt, tx_id);
    rec.insert(
        "anomaly".into(),
        json!({
            "app_proto": app_proto,
            "type": "applayer",
            "event": event,
            "layer": "proto_parser",
        }),
    );
    Value::Object(rec)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    #[test]
    fn tls_versions_are_named_like_suricata() {
        assert_eq!(tls_version_name(0), "UNDETERMINED");
        assert_eq!(tls_version_name(0x0301), "TLSv1");
        assert_eq!(tls_version_name(0x0303), "TLS 1.2");
        assert_eq!(tls_version_name(0x7f13), "TLS 1.3 draft-19");
        assert_eq!(tls_version_name(0x7f01), "TLS 1.3 draft-<16");
        assert_eq!(tls_version_name(0xfb1a), "TLS 1.3 draft-26-fb");
        assert_eq!(tls_version_name(0x3230), "0x3230");
    }

    #[test]
    fn ipv6_is_written_unabbreviated_like_suricata() {
        let ip = IpAddr::V6(Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0x101, 0x101));
        assert_eq!(eve_ip(ip), "fd01:0000:0000:0000:0000:0000:0101:0101");
        assert_eq!(eve_ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), "10.0.0.1");
    }

    #[test]
    fn alert_has_suricata_field_names() {
        let md = vec![("created_at".to_string(), "2020_01_01".to_string())];
        let a = AlertFields {
            ts: Timestamp::from_secs(1_458_826_909),
            flow_id: Some(42),
            pcap_cnt: 0,
            pkt_src: "wire/pcap",
            src_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dest_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            ports: Some((1234, 80)),
            proto: 6,
            vlan: 0,
            action: "allowed",
            gid: 1,
            sid: 2000001,
            rev: 3,
            signature: "ET TEST",
            category: "Misc activity",
            severity: 3,
            direction: Some("to_server"),
            metadata: &md,
            tx_id: None,
            app: None,
            app_proto: None,
            flow: None,
            frame: None,
        };
        let v = alert_record(&a);
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["timestamp"], "2016-03-24T13:41:49.000000+0000");
        assert_eq!(v["src_port"], 1234);
        assert_eq!(v["proto"], "TCP");
        assert_eq!(v["alert"]["signature_id"], 2000001);
        assert_eq!(v["alert"]["metadata"]["created_at"][0], "2020_01_01");
    }

    #[test]
    fn eve_bytes_keeps_utf8_and_escapes_other_high_bytes() {
        assert_eq!(eve_bytes(b"caf\xc3\xa9\x01"), "caf\u{e9}\u{1}");
        assert_eq!(eve_bytes(b"a\xc5\xe9\x01"), "a\\xc5\\xe9\u{1}");
    }

    #[test]
    fn host_port_only_when_named() {
        assert_eq!(host_port(b"example.com:8080"), Some(8080));
        assert_eq!(host_port(b"[::1]:81"), Some(81));
        assert_eq!(host_port(b"[::1]"), None);
        assert_eq!(host_port(b"example.com"), None);
        assert_eq!(host_port(b"example.com:"), None);
    }

    fn http_tx(req: &[u8], resp: &[u8]) -> rampart_app::http::HttpTransaction {
        use rampart_app::http::{Direction, HttpConfig, HttpParser};
        let mut p = HttpParser::new(HttpConfig::default());
        let mut ev = Vec::new();
        p.feed(Direction::ToServer, req, &mut ev);
        p.feed(Direction::ToClient, resp, &mut ev);
        p.transaction(0).cloned().unwrap()
    }

    #[test]
    fn http_object_has_suricata_extended_fields() {
        let tx = http_tx(
            b"GET /a?b=1 HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: curl/8\r\nReferer: http://r/\r\n\r\n",
            b"HTTP/1.1 302 Found\r\nContent-Type: text/html; charset=utf-8\r\nLocation: /x\r\nContent-Length: 5\r\n\r\nhello",
        );
        let v = http_object(&tx);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"hostname":"example.com","http_port":8080,"url":"/a?b=1","http_user_agent":"curl/8","http_content_type":"text/html","http_refer":"http://r/","http_method":"GET","protocol":"HTTP/1.1","status":302,"redirect":"/x","length":5}"#
        );
    }

    #[test]
    fn http_object_of_a_request_alone_has_no_status() {
        let tx = http_tx(b"POST /p HTTP/1.0\r\nContent-Length: 0\r\n\r\n", b"");
        let v = http_object(&tx);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"url":"/p","http_method":"POST","protocol":"HTTP/1.0","length":0}"#
        );
    }

    fn dns_response() -> rampart_app::dns::DnsMessage {
        use rampart_app::dns::{DnsHeader, DnsMessage, DnsQuestion, DnsRdata, DnsRecord};
        DnsMessage {
            header: DnsHeader {
                id: 1,
                flags: 0xc800,
                qdcount: 1,
                ancount: 1,
                ..DnsHeader::default()
            },
            queries: vec![DnsQuestion {
                name: b"suricata.io".to_vec(),
                rrtype: 1,
                rrclass: 1,
            }],
            answers: vec![DnsRecord {
                name: b"suricata.io".to_vec(),
                rrtype: 1,
                rrclass: 1,
                ttl: 0,
                rdata: DnsRdata::A(Ipv4Addr::new(127, 0, 0, 1)),
            }],
            ..DnsMessage::default()
        }
    }

    #[test]
    fn dns_answer_detailed_and_as_alerts_carry_it() {
        let m = dns_response();
        assert_eq!(
            serde_json::to_string(&Value::Object(dns_answer(&m, true))).unwrap(),
            r#"{"version":2,"type":"answer","id":1,"flags":"c800","qr":true,"opcode":9,"rrname":"suricata.io","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"suricata.io","rrtype":"A","ttl":0,"rdata":"127.0.0.1"}],"grouped":{"A":["127.0.0.1"]}}"#
        );
        // Suricata 7's alert leaves out the answers.
        assert_eq!(
            serde_json::to_string(&Value::Object(dns_answer(&m, false))).unwrap(),
            r#"{"version":2,"type":"answer","id":1,"flags":"c800","qr":true,"opcode":9,"rrname":"suricata.io","rrtype":"A","rcode":"NOERROR"}"#
        );
    }

    #[test]
    fn dns_query_object_for_alerts() {
        let mut m = dns_response();
        m.header.flags = 0x4800;
        let q = m.queries.first().unwrap();
        assert_eq!(
            serde_json::to_string(&dns_query(&m, q, 3)).unwrap(),
            r#"{"type":"query","id":1,"rrname":"suricata.io","rrtype":"A","tx_id":3,"opcode":9}"#
        );
    }

    #[test]
    fn dns_soa_and_first_txt_string() {
        use rampart_app::dns::{DnsRdata, DnsRecord};
        let soa = DnsRecord {
            name: b"example.com".to_vec(),
            rrtype: 6,
            rrclass: 1,
            ttl: 60,
            rdata: DnsRdata::Soa {
                mname: b"ns".to_vec(),
                rname: b"host".to_vec(),
                values: [1, 2, 3, 4, 5],
            },
        };
        assert_eq!(
            serde_json::to_string(&dns_record_detail(&soa)).unwrap(),
            r#"{"rrname":"example.com","rrtype":"SOA","ttl":60,"soa":{"mname":"ns","rname":"host","serial":1,"refresh":2,"retry":3,"expire":4,"minimum":5}}"#
        );
        let txt = DnsRecord {
            rdata: DnsRdata::Txt(vec![b"one".to_vec(), b"two".to_vec()]),
            rrtype: 16,
            ..soa
        };
        assert_eq!(dns_record_detail(&txt)["rdata"], "one");
    }

    #[test]
    fn alert_app_fields_follow_suricata_order() {
        let a = AlertFields {
            ts: Timestamp::from_secs(0),
            flow_id: Some(1),
            pcap_cnt: 2,
            pkt_src: "wire/pcap",
            src_ip: IpAddr::V4(Ipv4Addr::new(2, 2, 2, 2)),
            dest_ip: IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)),
            ports: Some((53, 5333)),
            proto: 17,
            vlan: 0,
            action: "allowed",
            gid: 1,
            sid: 2240007,
            rev: 1,
            signature: "S",
            category: "C",
            severity: 3,
            direction: Some("to_client"),
            metadata: &[],
            tx_id: Some(1),
            app: Some(("dns", json!({"version": 2}))),
            app_proto: Some("dns"),
            flow: Some(json!({"pkts_toserver": 1})),
            frame: None,
        };
        let v = alert_record(&a);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "timestamp",
                "flow_id",
                "pcap_cnt",
                "event_type",
                "src_ip",
                "src_port",
                "dest_ip",
                "dest_port",
                "proto",
                "pkt_src",
                "tx_id",
                "alert",
                "dns",
                "app_proto",
                "direction",
                "flow"
            ]
        );
        assert_eq!(v["tx_id"], 1);
        assert_eq!(v["dns"]["version"], 2);
    }
}
