//! Keywords that test packet headers, flow or app-layer state (no buffer).

use crate::ast::{
    AppLayerProtocol, DceIface, FlagMode, Fragbits, IpOption, Krb5TicketEncryption, MatchKind,
    SslHandshake, SslStateItem, SslVersion, SslVersionItem, StreamSide, StreamSize, TcpFlags,
    Urilen, KRB5_ENCRYPTION_NAMES, KRB5_MSG_TYPE_NAMES,
};
use crate::error::{invalid, Problem};
use crate::num::{parse_cmp, parse_int, parse_uint_any_base, NumCmp};

use super::options::Builder;

/// IP protocol names accepted by `ip_proto`.
fn ip_proto_number(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "hopopt" => 0,
        "icmp" => 1,
        "igmp" => 2,
        "ggp" => 3,
        "ipip" | "ipv4" | "ip-in-ip" => 4,
        "tcp" => 6,
        "egp" => 8,
        "igp" => 9,
        "udp" => 17,
        "ipv6" => 41,
        "ipv6-route" => 43,
        "ipv6-frag" => 44,
        "rsvp" => 46,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmpv6" => 58,
        "ipv6-nonxt" => 59,
        "ipv6-opts" => 60,
        "eigrp" => 88,
        "ospf" | "ospfigp" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => 132,
        _ => return None,
    })
}

fn no_value(kw: &str, value: Option<&str>) -> Result<(), Problem> {
    if value.is_some() {
        return Err(invalid(format!("{kw} takes no value")));
    }
    Ok(())
}

fn need<'a>(kw: &str, value: Option<&'a str>) -> Result<&'a str, Problem> {
    value
        .map(str::trim)
        .ok_or_else(|| invalid(format!("{kw} needs a value")))
}

/// Splits a leading `!` off.
fn negation(v: &str) -> (bool, &str) {
    match v.trim().strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, v.trim()),
    }
}

fn tcp_flags(v: &str) -> Result<TcpFlags, Problem> {
    let (flags_s, mask_s) = match v.split_once(',') {
        Some((f, m)) => (f.trim(), Some(m.trim())),
        None => (v.trim(), None),
    };
    let bit = |c: char| -> Option<u8> {
        Some(match c.to_ascii_uppercase() {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            'E' | '2' => 0x40,
            'C' | '1' => 0x80,
            _ => return None,
        })
    };
    let mut mode = None;
    let mut flags = 0u8;
    let mut zero = false;
    for c in flags_s.chars() {
        let m = match c {
            '+' => Some(FlagMode::All),
            '*' => Some(FlagMode::Any),
            '!' => Some(FlagMode::Not),
            _ => None,
        };
        if let Some(m) = m {
            if mode.is_some() {
                return Err(invalid("flags: more than one modifier"));
            }
            mode = Some(m);
            continue;
        }
        if c == '0' {
            zero = true;
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        flags |= bit(c).ok_or_else(|| invalid(format!("flags: unknown flag '{c}'")))?;
    }
    if zero && flags != 0 {
        return Err(invalid(
            "flags: 0 (no flags) can't be combined with other flags",
        ));
    }
    if !zero && flags == 0 {
        return Err(invalid("flags: no flags given"));
    }
    let mut ignore = 0u8;
    if let Some(m) = mask_s {
        for c in m.chars().filter(|c| !c.is_whitespace()) {
            ignore |= bit(c).ok_or_else(|| invalid(format!("flags: unknown mask flag '{c}'")))?;
        }
    }
    Ok(TcpFlags {
        flags,
        mode: mode.unwrap_or_default(),
        ignore,
    })
}

fn fragbits(v: &str) -> Result<Fragbits, Problem> {
    let mut mode = None;
    let mut bits = 0u16;
    for c in v.trim().chars() {
        let b = match c {
            '+' | '*' | '!' => {
                if mode.is_some() {
                    return Err(invalid("fragbits: more than one modifier"));
                }
                mode = Some(match c {
                    '+' => FlagMode::All,
                    '*' => FlagMode::Any,
                    _ => FlagMode::Not,
                });
                continue;
            }
            'M' | 'm' => 0x2000,
            'D' | 'd' => 0x4000,
            'R' | 'r' => 0x8000,
            c if c.is_whitespace() => continue,
            c => return Err(invalid(format!("fragbits: unknown bit '{c}'"))),
        };
        bits |= b;
    }
    if bits == 0 {
        return Err(invalid("fragbits: no bits given"));
    }
    Ok(Fragbits {
        bits,
        mode: mode.unwrap_or_default(),
    })
}

fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = s.split('-').map(str::len).collect();
    if groups != [8, 4, 4, 4, 12] || hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn dce_opnums(v: &str) -> Result<Vec<(u16, u16)>, Problem> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim) {
        if let Some(n) = part.strip_prefix('>') {
            let n: u16 = parse_int(n, "dce_opnum")?;
            let lo = n
                .checked_add(1)
                .ok_or_else(|| invalid("dce_opnum: nothing is above 65535"))?;
            out.push((lo, u16::MAX));
            continue;
        }
        if let Some(n) = part.strip_prefix('<') {
            let n: u16 = parse_int(n, "dce_opnum")?;
            let hi = n
                .checked_sub(1)
                .ok_or_else(|| invalid("dce_opnum: nothing is below 0"))?;
            out.push((0, hi));
            continue;
        }
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                parse_int::<u16>(a, "dce_opnum")?,
                parse_int::<u16>(b, "dce_opnum")?,
            ),
            None => {
                let n = parse_int::<u16>(part, "dce_opnum")?;
                (n, n)
            }
        };
        if a > b {
            return Err(invalid(format!("dce_opnum: invalid range {part:?}")));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// `krb5_msg_type`: a number comparison (`10`, `!30`, `>11`), or a
/// message type name, negated with `!` (`AS_REQ`, `!TGS_REP`).
/// HTTP/2 frame type names (RFC 9113 §6) as `http2.frametype` takes them.
const HTTP2_FRAME_TYPE_NAMES: &[(&str, u32)] = &[
    ("DATA", 0),
    ("HEADERS", 1),
    ("PRIORITY", 2),
    ("RST_STREAM", 3),
    ("SETTINGS", 4),
    ("PUSH_PROMISE", 5),
    ("PING", 6),
    ("GOAWAY", 7),
    ("WINDOW_UPDATE", 8),
    ("CONTINUATION", 9),
];

/// HTTP/2 error code names (RFC 9113 §7) as `http2.errorcode` takes them
/// (Suricata 7's `HTTP_1_1_REQUIRED` and 8's `HTTP11_REQUIRED` both).
/// EVE output names the codes from this table too.
pub const HTTP2_ERROR_CODE_NAMES: &[(&str, u32)] = &[
    ("NO_ERROR", 0),
    ("PROTOCOL_ERROR", 1),
    ("INTERNAL_ERROR", 2),
    ("FLOW_CONTROL_ERROR", 3),
    ("SETTINGS_TIMEOUT", 4),
    ("STREAM_CLOSED", 5),
    ("FRAME_SIZE_ERROR", 6),
    ("REFUSED_STREAM", 7),
    ("CANCEL", 8),
    ("COMPRESSION_ERROR", 9),
    ("CONNECT_ERROR", 10),
    ("ENHANCE_YOUR_CALM", 11),
    ("INADEQUATE_SECURITY", 12),
    ("HTTP_1_1_REQUIRED", 13),
    ("HTTP11_REQUIRED", 13),
];

/// A `[!]NAME` from `names` (any case) or a number comparison.
fn named_cmp(v: &str, names: &[(&str, u32)], keyword: &str) -> Result<NumCmp<u32>, Problem> {
    let t = v.trim();
    let (negated, name) = negation(t);
    let name = name.trim();
    if let Some(&(_, n)) = names.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        return Ok(if negated {
            NumCmp::Ne(n)
        } else {
            NumCmp::Eq(n)
        });
    }
    parse_cmp(t, keyword)
}

fn krb5_msg_type(v: &str) -> Result<NumCmp<u32>, Problem> {
    let t = v.trim();
    let (negated, name) = negation(t);
    let name = name.trim();
    if let Some(&(_, n)) = KRB5_MSG_TYPE_NAMES.iter().find(|(k, _)| *k == name) {
        return Ok(if negated {
            NumCmp::Ne(n)
        } else {
            NumCmp::Eq(n)
        });
    }
    parse_cmp(t, "krb5_msg_type")
}

/// `krb5.ticket_encryption`: `[!]weak`, or a list of encryption types
/// (names or signed numbers) separated by commas and/or spaces.
fn krb5_ticket_encryption(v: &str) -> Result<Krb5TicketEncryption, Problem> {
    let t = v.trim_matches(' ');
    match t {
        "weak" => return Ok(Krb5TicketEncryption::Weak(true)),
        "!weak" => return Ok(Krb5TicketEncryption::Weak(false)),
        _ => {}
    }
    let mut list = Vec::new();
    for item in t.split([',', ' ']).filter(|i| !i.is_empty()) {
        let valid = item.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let value = KRB5_ENCRYPTION_NAMES
            .iter()
            .find(|(name, _)| *name == item)
            .map(|&(_, n)| n)
            .or_else(|| item.parse::<i32>().ok());
        match value {
            Some(n) if valid => list.push(n),
            _ => {
                return Err(invalid(format!(
                    "krb5.ticket_encryption: {item:?} is not an encryption type"
                )))
            }
        }
    }
    if list.is_empty() {
        return Err(invalid("krb5.ticket_encryption: missing value"));
    }
    Ok(Krb5TicketEncryption::List(list))
}

impl Builder<'_> {
    /// Header and state keywords; `Ok(None)` if `name` is not one.
    pub(super) fn packet_keyword(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<MatchKind>, Problem> {
        Ok(Some(match name {
            "dsize" => MatchKind::Dsize(parse_cmp(need(name, value)?, "dsize")?),
            "urilen" => {
                let v = need(name, value)?;
                let (cmp_s, raw) = match v.split_once(',') {
                    Some((c, m)) => match m.trim() {
                        "raw" => (c, true),
                        "norm" => (c, false),
                        other => return Err(invalid(format!("urilen: invalid mode {other:?}"))),
                    },
                    None => (v, false),
                };
                MatchKind::Urilen(Urilen {
                    cmp: parse_cmp(cmp_s, "urilen")?,
                    raw,
                })
            }
            "ttl" => MatchKind::Ttl(parse_cmp(need(name, value)?, "ttl")?),
            "tos" => {
                let (negated, n) = negation(need(name, value)?);
                let parsed = match n.strip_prefix(['x', 'X']) {
                    Some(hex) if !hex.is_empty() && hex.len() <= 2 => {
                        u8::from_str_radix(hex, 16).ok()
                    }
                    Some(_) => None,
                    None => n.parse::<u8>().ok(),
                };
                let value = parsed
                    .ok_or_else(|| invalid(format!("invalid tos {n:?}; expected 0-255 or xNN")))?;
                MatchKind::Tos { value, negated }
            }
            "ip_proto" => {
                let v = need(name, value)?;
                let (prefix, rest) = match v.chars().next() {
                    Some(c @ ('!' | '<' | '>')) => (Some(c), v.get(1..).unwrap_or("").trim()),
                    _ => (None, v),
                };
                let n = match ip_proto_number(rest) {
                    Some(n) => n,
                    None => parse_int::<u8>(rest, "ip_proto")?,
                };
                MatchKind::IpProto(match prefix {
                    Some('!') => NumCmp::Ne(n),
                    Some('<') => NumCmp::Lt(n),
                    Some('>') => NumCmp::Gt(n),
                    _ => NumCmp::Eq(n),
                })
            }
            "id" => MatchKind::IpId(parse_int(need(name, value)?, "id")?),
            "fragbits" => MatchKind::Fragbits(fragbits(need(name, value)?)?),
            "fragoffset" => MatchKind::Fragoffset(parse_cmp(need(name, value)?, "fragoffset")?),
            "ipopts" => MatchKind::Ipopts(match need(name, value)? {
                "rr" => IpOption::Rr,
                "eol" => IpOption::Eol,
                "nop" => IpOption::Nop,
                "ts" => IpOption::Ts,
                "sec" => IpOption::Sec,
                "esec" => IpOption::Esec,
                "lsrr" | "lsrre" => IpOption::Lsrr,
                "ssrr" => IpOption::Ssrr,
                "satid" => IpOption::Satid,
                "any" => IpOption::Any,
                other => return Err(invalid(format!("ipopts: unknown option {other:?}"))),
            }),
            "sameip" => {
                no_value(name, value)?;
                MatchKind::SameIp
            }
            "flags" | "tcp.flags" => MatchKind::Flags(tcp_flags(need(name, value)?)?),
            "seq" => MatchKind::Seq(parse_int(need(name, value)?, "seq")?),
            "ack" => MatchKind::Ack(parse_int(need(name, value)?, "ack")?),
            "window" => {
                let (negated, n) = negation(need(name, value)?);
                MatchKind::Window {
                    size: parse_int(n, "window")?,
                    negated,
                }
            }
            "tcp.mss" => MatchKind::TcpMss(parse_cmp(need(name, value)?, "tcp.mss")?),
            "itype" => MatchKind::Itype(parse_cmp(need(name, value)?, "itype")?),
            "icode" => MatchKind::Icode(parse_cmp(need(name, value)?, "icode")?),
            "icmp_id" => MatchKind::IcmpId(parse_cmp(need(name, value)?, "icmp_id")?),
            "icmp_seq" => MatchKind::IcmpSeq(parse_cmp(need(name, value)?, "icmp_seq")?),
            "icmpv6.mtu" => MatchKind::Icmpv6Mtu(parse_cmp(need(name, value)?, "icmpv6.mtu")?),
            "dns.opcode" => {
                let (negated, n) = negation(need(name, value)?);
                MatchKind::DnsOpcode {
                    opcode: parse_int(n, "dns.opcode")?,
                    negated,
                }
            }
            "rfb.sectype" => MatchKind::RfbSectype(parse_cmp(need(name, value)?, "rfb.sectype")?),
            "rfb.secresult" => {
                let v = need(name, value)?.trim();
                MatchKind::RfbSecresult(match v.to_ascii_lowercase().as_str() {
                    "ok" => NumCmp::Eq(0),
                    "fail" => NumCmp::Eq(1),
                    "toomany" => NumCmp::Eq(2),
                    "unknown" => NumCmp::Gt(2),
                    _ => parse_cmp(v, "rfb.secresult")?,
                })
            }
            "krb5_msg_type" => MatchKind::Krb5MsgType(krb5_msg_type(need(name, value)?)?),
            "krb5.ticket_encryption" => {
                MatchKind::Krb5TicketEncryption(krb5_ticket_encryption(need(name, value)?)?)
            }
            "http2.frametype" => MatchKind::Http2FrameType(named_cmp(
                need(name, value)?,
                HTTP2_FRAME_TYPE_NAMES,
                "http2.frametype",
            )?),
            "http2.errorcode" => MatchKind::Http2ErrorCode(named_cmp(
                need(name, value)?,
                HTTP2_ERROR_CODE_NAMES,
                "http2.errorcode",
            )?),
            "snmp.version" => {
                MatchKind::SnmpVersion(parse_cmp(need(name, value)?, "snmp.version")?)
            }
            "snmp.pdu_type" => {
                MatchKind::SnmpPduType(parse_cmp(need(name, value)?, "snmp.pdu_type")?)
            }
            "krb5_err_code" => {
                MatchKind::Krb5ErrCode(parse_int(need(name, value)?, "krb5_err_code")?)
            }
            "filesize" => MatchKind::Filesize(parse_cmp(need(name, value)?, "filesize")?),
            // Direction and scope (`filestore:to_server,file`) concern
            // storing only, which Rampart does not do.
            "filestore" => MatchKind::Filestore,
            "nfs_procedure" => {
                MatchKind::NfsProcedure(parse_cmp(need(name, value)?, "nfs_procedure")?)
            }
            "nfs.version" => MatchKind::NfsVersion(parse_cmp(need(name, value)?, "nfs.version")?),
            "filemd5" => {
                let v = need(name, value)?.trim();
                let (negated, file) = match v.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, v),
                };
                let file = file.trim_matches('"');
                if file.is_empty() {
                    return Err(invalid("filemd5: needs a file name"));
                }
                MatchKind::FileMd5 {
                    file: file.to_string(),
                    negated,
                }
            }
            "stream_size" => {
                let v = need(name, value)?;
                let parts: Vec<&str> = v.split(',').map(str::trim).collect();
                let [side, op, n] = parts.as_slice() else {
                    return Err(invalid("stream_size: expected side, operator, value"));
                };
                let side = match *side {
                    "server" => StreamSide::Server,
                    "client" => StreamSide::Client,
                    "both" => StreamSide::Both,
                    "either" => StreamSide::Either,
                    other => return Err(invalid(format!("stream_size: invalid side {other:?}"))),
                };
                let n: u32 = parse_int(n, "stream_size")?;
                let cmp = match *op {
                    "=" | "==" => NumCmp::Eq(n),
                    "!=" => NumCmp::Ne(n),
                    "<" => NumCmp::Lt(n),
                    "<=" => NumCmp::Le(n),
                    ">" => NumCmp::Gt(n),
                    ">=" => NumCmp::Ge(n),
                    other => {
                        return Err(invalid(format!("stream_size: invalid operator {other:?}")))
                    }
                };
                MatchKind::StreamSize(StreamSize { side, cmp })
            }
            "app-layer-protocol" => {
                let v = need(name, value)?;
                let (negated, rest) = negation(v);
                let (proto, mode) = match rest.split_once(',') {
                    Some((p, m)) => (p.trim(), Some(m.trim().to_string())),
                    None => (rest, None),
                };
                if mode.is_some() {
                    return Err(Problem::new(
                        crate::error::ErrorKind::UnsupportedKeyword,
                        "app-layer-protocol modes (Suricata 8) are not supported",
                    ));
                }
                let known = matches!(proto, "failed" | "unknown")
                    || crate::header::Protocol::parse(proto).is_some_and(|p| {
                        !p.is_packet_level() && !matches!(p, crate::header::Protocol::App(_))
                    });
                if !known {
                    return Err(invalid(format!(
                        "app-layer-protocol: unknown protocol {proto:?}"
                    )));
                }
                MatchKind::AppLayerProtocol(AppLayerProtocol {
                    protocol: proto.to_ascii_lowercase(),
                    negated,
                    mode,
                })
            }
            "app-layer-event" | "decode-event" | "stream-event" => {
                let v = need(name, value)?;
                if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace()) {
                    return Err(invalid(format!("{name}: invalid event {v:?}")));
                }
                let v = v.to_string();
                match name {
                    "app-layer-event" => MatchKind::AppLayerEvent(v),
                    "decode-event" => MatchKind::DecodeEvent(v),
                    _ => MatchKind::StreamEvent(v),
                }
            }
            "ssl_state" => {
                let v = need(name, value)?;
                let mut items = Vec::new();
                for part in v.split(['|', ',']) {
                    let (negated, s) = negation(part);
                    let state = match s {
                        "client_hello" => SslHandshake::ClientHello,
                        "server_hello" => SslHandshake::ServerHello,
                        "client_keyx" => SslHandshake::ClientKeyx,
                        "server_keyx" => SslHandshake::ServerKeyx,
                        "unknown" => SslHandshake::Unknown,
                        other => {
                            return Err(invalid(format!("ssl_state: unknown state {other:?}")))
                        }
                    };
                    items.push(SslStateItem { state, negated });
                }
                MatchKind::SslState(items)
            }
            "ssl_version" => {
                let v = need(name, value)?;
                let mut items = Vec::new();
                for part in v.split(',') {
                    let (negated, s) = negation(part);
                    let version = match s {
                        "sslv2" => SslVersion::Sslv2,
                        "sslv3" => SslVersion::Sslv3,
                        "tls1.0" => SslVersion::Tls10,
                        "tls1.1" => SslVersion::Tls11,
                        "tls1.2" => SslVersion::Tls12,
                        "tls1.3" => SslVersion::Tls13,
                        other => {
                            return Err(invalid(format!("ssl_version: unknown version {other:?}")))
                        }
                    };
                    items.push(SslVersionItem { version, negated });
                }
                let negs = items.iter().filter(|i| i.negated).count();
                if negs != 0 && negs != items.len() {
                    return Err(invalid("ssl_version: can't mix negated and plain versions"));
                }
                MatchKind::SslVersion(items)
            }
            "tls.version" => {
                let v = need(name, value)?;
                let n = match v {
                    "1.0" => 0x0301,
                    "1.1" => 0x0302,
                    "1.2" => 0x0303,
                    "1.3" => 0x0304,
                    other => u16::try_from(parse_uint_any_base(other, "tls.version")?)
                        .map_err(|_| invalid("tls.version out of range"))?,
                };
                MatchKind::TlsVersion(n)
            }
            "dce_iface" | "dcerpc.iface" => {
                let v = need(name, value)?;
                let mut parts = v.split(',').map(str::trim);
                let uuid_s = parts.next().unwrap_or("");
                let uuid = parse_uuid(uuid_s)
                    .ok_or_else(|| invalid(format!("{name}: invalid UUID {uuid_s:?}")))?;
                let mut iface = DceIface {
                    uuid,
                    version: None,
                    any_frag: false,
                };
                for p in parts {
                    if p == "any_frag" {
                        iface.any_frag = true;
                    } else {
                        iface.version = Some(parse_cmp(p, "dce_iface version")?);
                    }
                }
                MatchKind::DceIface(iface)
            }
            "dce_opnum" | "dcerpc.opnum" => MatchKind::DceOpnum(dce_opnums(need(name, value)?)?),
            "ftpbounce" => {
                no_value(name, value)?;
                MatchKind::Ftpbounce
            }
            "ftp.mode" => MatchKind::FtpMode {
                active: match need(name, value)?.trim() {
                    "active" => true,
                    "passive" => false,
                    other => {
                        return Err(invalid(format!(
                            "{name}: expected active or passive, got {other:?}"
                        )))
                    }
                },
            },
            "ftp.reply_received" => MatchKind::FtpReplyReceived(match need(name, value)?.trim() {
                "yes" | "on" => true,
                "no" | "off" => false,
                other => {
                    return Err(invalid(format!(
                        "{name}: expected yes, on, no or off, got {other:?}"
                    )))
                }
            }),
            "ike.exchtype" => MatchKind::IkeExchType(parse_cmp(need(name, value)?, name)?),
            "ike.key_exchange_payload_length" => {
                MatchKind::IkeKeyExchangePayloadLength(parse_cmp(need(name, value)?, name)?)
            }
            "ike.nonce_payload_length" => {
                MatchKind::IkeNoncePayloadLength(parse_cmp(need(name, value)?, name)?)
            }
            "ike.chosen_sa_attribute" => {
                let v = need(name, value)?;
                let (attr, n) = v
                    .split_once('=')
                    .ok_or_else(|| invalid(format!("{name}: expected NAME=VALUE, got {v:?}")))?;
                let attr = attr.trim();
                if attr.is_empty() || !attr.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    return Err(invalid(format!("{name}: invalid attribute name {attr:?}")));
                }
                MatchKind::IkeChosenSaAttribute {
                    name: attr.to_string(),
                    value: parse_int(n.trim(), name)?,
                }
            }
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_forms() {
        let f = tcp_flags("S,12").ok();
        assert_eq!(
            f,
            Some(TcpFlags {
                flags: 0x02,
                mode: FlagMode::Exact,
                ignore: 0xC0
            })
        );
        let f = tcp_flags("+SA").ok();
        assert_eq!(f.map(|f| (f.flags, f.mode)), Some((0x12, FlagMode::All)));
        let f = tcp_flags("SA+").ok();
        assert_eq!(f.map(|f| (f.flags, f.mode)), Some((0x12, FlagMode::All)));
        let f = tcp_flags("!R").ok();
        assert_eq!(f.map(|f| (f.flags, f.mode)), Some((0x04, FlagMode::Not)));
        assert_eq!(tcp_flags("0").ok().map(|f| f.flags), Some(0));
        assert!(tcp_flags("X").is_err());
        assert!(tcp_flags("0S").is_err());
    }

    #[test]
    fn uuid() {
        let u = parse_uuid("4b324fc8-1670-01d3-1278-5a47bf6ee188");
        assert_eq!(u.map(|u| u[0]), Some(0x4b));
        assert!(parse_uuid("4b324fc8-1670-01d3-1278").is_none());
    }
}
