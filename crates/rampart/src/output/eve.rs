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
    rec.insert("src_ip".into(), json!(k.src.to_string()));
    let has_ports = matches!(k.proto, proto::TCP | proto::UDP);
    if has_ports {
        rec.insert("src_port".into(), json!(k.src_port));
    }
    rec.insert("dest_ip".into(), json!(k.dst.to_string()));
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
