//! EVE JSON records, in Suricata's shape, so existing tooling (jq recipes,
//! SIEM parsers, dashboards) reads Rampart's output unchanged.

use rampart_engine::FlowData;
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
pub fn alert_json(
    ts: rampart_packet::Timestamp,
    a: &rampart_detect::Alert,
    sig: &rampart_detect::Signature,
    classes: &rampart_rules::Classifications,
    action: &str,
    pcap_cnt: u64,
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
        vlan: 0,
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
    })
}

/// An `event_type: "alert"` record in Suricata's EVE shape.
pub fn alert_record(a: &AlertFields<'_>) -> Value {
    let mut rec = Map::new();
    rec.insert("timestamp".into(), json!(a.ts.to_eve_string()));
    if let Some(id) = a.flow_id {
        rec.insert("flow_id".into(), json!(id));
    }
    rec.insert("event_type".into(), json!("alert"));
    if a.pcap_cnt != 0 {
        rec.insert("pcap_cnt".into(), json!(a.pcap_cnt));
    }
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
    if let Some(d) = a.direction {
        rec.insert("direction".into(), json!(d));
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
    Value::Object(rec)
}

/// The common head of an app-layer record: time, flow, endpoints in the
/// direction the message travelled.
fn app_head(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    to_server: bool,
    event_type: &str,
    pcap_cnt: u64,
) -> Map<String, Value> {
    let k = &flow.key;
    let ((src, sp), (dst, dp)) = if to_server {
        ((k.src, k.src_port), (k.dst, k.dst_port))
    } else {
        ((k.dst, k.dst_port), (k.src, k.src_port))
    };
    let mut rec = Map::new();
    rec.insert("timestamp".into(), json!(ts.to_eve_string()));
    rec.insert("flow_id".into(), json!(flow.id));
    if pcap_cnt != 0 {
        rec.insert("pcap_cnt".into(), json!(pcap_cnt));
    }
    rec.insert("event_type".into(), json!(event_type));
    rec.insert("src_ip".into(), json!(eve_ip(src)));
    rec.insert("src_port".into(), json!(sp));
    rec.insert("dest_ip".into(), json!(eve_ip(dst)));
    rec.insert("dest_port".into(), json!(dp));
    rec.insert("proto".into(), json!(proto_name(k.proto)));
    rec
}

/// Bytes as EVE writes a name: printable ASCII as is, other bytes as
/// `\xNN`-free dots would hide them, so they are escaped as Suricata does
/// for non-printables (`\x` + two hex digits is what its JSON gets).
fn eve_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if c.is_ascii_graphic() || c == b' ' {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

fn dns_rdata(r: &rampart_app::dns::DnsRecord) -> Option<Value> {
    use rampart_app::dns::DnsRdata;
    Some(match &r.rdata {
        DnsRdata::A(a) => json!(a.to_string()),
        DnsRdata::Aaaa(a) => json!(eve_ip(std::net::IpAddr::V6(*a))),
        DnsRdata::Name(n) => json!(eve_text(n)),
        DnsRdata::Mx { exchange, .. } => json!(eve_text(exchange)),
        DnsRdata::Txt(parts) => json!(eve_text(&parts.concat())),
        DnsRdata::Soa { .. } | DnsRdata::Raw(_) => return None,
    })
}

/// EVE `dns` records of one message, in Suricata 7's version-2 shape: a
/// request gives one `type: query` record per question, a response one
/// `type: answer` record with flags, rcode, the answers and them grouped
/// by type.
pub fn dns_records(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    msg: &rampart_app::dns::DnsMessage,
    tx_id: u64,
    pcap_cnt: u64,
) -> Vec<Value> {
    use rampart_app::dns::{rcode_name, rrtype_name};
    let h = &msg.header;
    let response = h.is_response();
    let to_server = !response;
    let mut out = Vec::new();
    if !response {
        for q in &msg.queries {
            let mut rec = app_head(ts, flow, to_server, "dns", pcap_cnt);
            rec.insert(
                "dns".into(),
                json!({
                    "type": "query",
                    "id": h.id,
                    "rrname": eve_text(&q.name),
                    "rrtype": rrtype_name(q.rrtype),
                    "tx_id": tx_id,
                    "opcode": h.opcode(),
                }),
            );
            out.push(Value::Object(rec));
        }
        return out;
    }
    let mut dns = Map::new();
    dns.insert("version".into(), json!(2));
    dns.insert("type".into(), json!("answer"));
    dns.insert("id".into(), json!(h.id));
    dns.insert("flags".into(), json!(format!("{:x}", h.flags)));
    dns.insert("qr".into(), json!(true));
    for (set, name) in [
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
    ] {
        if set {
            dns.insert(name.into(), json!(true));
        }
    }
    dns.insert("opcode".into(), json!(h.opcode()));
    if let Some(q) = msg.queries.first() {
        dns.insert("rrname".into(), json!(eve_text(&q.name)));
        dns.insert("rrtype".into(), json!(rrtype_name(q.rrtype)));
    }
    dns.insert("rcode".into(), json!(rcode_name(h.rcode())));
    let mut answers = Vec::new();
    let mut grouped: Map<String, Value> = Map::new();
    for r in &msg.answers {
        let mut a = Map::new();
        a.insert("rrname".into(), json!(eve_text(&r.name)));
        a.insert("rrtype".into(), json!(rrtype_name(r.rrtype)));
        a.insert("ttl".into(), json!(r.ttl));
        if let Some(rd) = dns_rdata(r) {
            a.insert("rdata".into(), rd.clone());
            match grouped.get_mut(&rrtype_name(r.rrtype)) {
                Some(Value::Array(list)) => list.push(rd),
                _ => {
                    grouped.insert(rrtype_name(r.rrtype), json!([rd]));
                }
            }
        }
        answers.push(Value::Object(a));
    }
    if !answers.is_empty() {
        dns.insert("answers".into(), Value::Array(answers));
        dns.insert("grouped".into(), Value::Object(grouped));
    }
    let mut rec = app_head(ts, flow, to_server, "dns", pcap_cnt);
    rec.insert("dns".into(), Value::Object(dns));
    out.push(Value::Object(rec));
    out
}

/// The version name Suricata's EVE writes.
fn tls_version_name(v: u16) -> String {
    match v {
        0x0002 => "SSLv2".into(),
        0x0300 => "SSLv3".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => "UNDETERMINED".into(),
    }
}

/// A date-time as Suricata writes certificate validity (UTC, no zone).
fn eve_datetime(secs: i64) -> String {
    let s = Timestamp::from_secs(u64::try_from(secs).unwrap_or(0)).to_eve_string();
    s.get(..19).unwrap_or(&s).to_string()
}

/// The EVE `tls` record of a connection's handshake (Suricata 7 default
/// fields: subject, issuerdn, serial, fingerprint, sni, version,
/// notbefore, notafter; plus ja3/ja3s).
pub fn tls_record(
    ts: Timestamp,
    flow: &Flow<FlowData>,
    s: &rampart_app::tls::TlsSession,
    pcap_cnt: u64,
) -> Value {
    let mut tls = Map::new();
    if let Some(c) = s.certificates.first() {
        tls.insert("subject".into(), json!(c.subject));
        tls.insert("issuerdn".into(), json!(c.issuer));
        tls.insert("serial".into(), json!(c.serial));
        tls.insert("fingerprint".into(), json!(c.fingerprint));
    }
    if let Some(sni) = s.client_hello.as_ref().and_then(|c| c.sni.as_deref()) {
        tls.insert("sni".into(), json!(eve_text(sni)));
    }
    let version = s
        .server_hello
        .as_ref()
        .map(|h| h.negotiated_version())
        .unwrap_or(0);
    tls.insert("version".into(), json!(tls_version_name(version)));
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
    let mut rec = app_head(ts, flow, false, "tls", pcap_cnt);
    rec.insert("tls".into(), Value::Object(tls));
    Value::Object(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
        };
        let v = alert_record(&a);
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["timestamp"], "2016-03-24T13:41:49.000000+0000");
        assert_eq!(v["src_port"], 1234);
        assert_eq!(v["proto"], "TCP");
        assert_eq!(v["alert"]["signature_id"], 2000001);
        assert_eq!(v["alert"]["metadata"]["created_at"][0], "2020_01_01");
    }
}
