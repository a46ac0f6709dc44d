//! Keywords with state of their own: flow, flowbits, flowint, xbits,
//! threshold, detection_filter, tag.

use crate::ast::{
    BitCommand, DetectionFilter, Flow, Flowbits, Flowint, FlowintOp, Tag, TagKind, TagMetric,
    Threshold, ThresholdType, Track, Xbits, XbitsScope, XbitsTrack,
};
use crate::error::{conflict, invalid, Problem};
use crate::num::{is_var_name, parse_int, NumOrVar};

use super::options::Builder;

fn bit_command(s: &str) -> Option<BitCommand> {
    Some(match s {
        "set" => BitCommand::Set,
        "unset" => BitCommand::Unset,
        "toggle" => BitCommand::Toggle,
        "isset" => BitCommand::IsSet,
        "isnotset" => BitCommand::IsNotSet,
        "noalert" => BitCommand::NoAlert,
        _ => return None,
    })
}

fn bit_name(s: &str, what: &str) -> Result<String, Problem> {
    if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace() || b == b',') {
        return Err(invalid(format!("invalid {what} name {s:?}")));
    }
    Ok(s.to_string())
}

/// Parses `key value` pairs separated by commas (threshold syntax).
fn key_values(v: &str) -> impl Iterator<Item = (&str, &str)> {
    v.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once(char::is_whitespace) {
            Some((k, val)) => (k, val.trim()),
            None => (p, ""),
        })
}

/// Parses `type`, `track`, `count` and `seconds` pairs; `allow_type`
/// controls whether `type` is accepted (not for detection_filter).
pub(crate) fn threshold_fields(
    v: &str,
    kw: &str,
    allow_type: bool,
) -> Result<(Option<ThresholdType>, Track, u32, u32), Problem> {
    let mut kind = None;
    let mut track = None;
    let mut count = None;
    let mut seconds = None;
    for (k, val) in key_values(v) {
        let dup = || conflict(format!("{kw}: {k} given twice"));
        let allowed: &[Track] = if allow_type {
            &[Track::BySrc, Track::ByDst, Track::ByRule, Track::ByBoth]
        } else {
            &[Track::BySrc, Track::ByDst]
        };
        match k {
            "type" if allow_type => {
                if kind.is_some() {
                    return Err(dup());
                }
                kind = Some(match val {
                    "limit" => ThresholdType::Limit,
                    "threshold" => ThresholdType::Threshold,
                    "both" => ThresholdType::Both,
                    _ => {
                        return Err(invalid(format!(
                            "{kw}: invalid type {val:?}; expected limit, threshold or both"
                        )))
                    }
                });
            }
            "track" => {
                if track.is_some() {
                    return Err(dup());
                }
                let t = Track::parse(val)
                    .filter(|t| allowed.contains(t))
                    .ok_or_else(|| {
                        invalid(format!(
                            "{kw}: invalid track {val:?}; expected one of {}",
                            allowed
                                .iter()
                                .map(|t| t.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?;
                track = Some(t);
            }
            "count" => {
                if count.is_some() {
                    return Err(dup());
                }
                count = Some(parse_int::<u32>(val, &format!("{kw} count"))?);
            }
            "seconds" => {
                if seconds.is_some() {
                    return Err(dup());
                }
                seconds = Some(parse_int::<u32>(val, &format!("{kw} seconds"))?);
            }
            _ => return Err(invalid(format!("{kw}: unknown option {k:?}"))),
        }
    }
    if allow_type && kind.is_none() {
        return Err(invalid(format!("{kw}: missing type")));
    }
    let track = track.ok_or_else(|| invalid(format!("{kw}: missing track")))?;
    let count = count.ok_or_else(|| invalid(format!("{kw}: missing count")))?;
    let seconds = seconds.ok_or_else(|| invalid(format!("{kw}: missing seconds")))?;
    Ok((kind, track, count, seconds))
}

impl Builder<'_> {
    pub(super) fn flow(&mut self, v: &str) -> Result<(), Problem> {
        if self.flow.is_some() {
            return Err(conflict("only one flow keyword is allowed per rule"));
        }
        let mut f = Flow::default();
        for opt in v.split(',').map(str::trim) {
            let clash = |what: &str| conflict(format!("flow: {opt} conflicts with {what}"));
            match opt {
                "established" | "not_established" => {
                    if f.established.is_some() || f.stateless {
                        return Err(clash("another state option"));
                    }
                    f.established = Some(opt == "established");
                }
                "stateless" => {
                    if f.established.is_some() || f.stateless {
                        return Err(clash("another state option"));
                    }
                    f.stateless = true;
                }
                "to_server" | "from_client" | "to_client" | "from_server" => {
                    if f.to_server.is_some() {
                        return Err(clash("another direction option"));
                    }
                    f.to_server = Some(matches!(opt, "to_server" | "from_client"));
                }
                "only_stream" | "no_stream" => {
                    if f.stream.is_some() {
                        return Err(clash("another stream option"));
                    }
                    f.stream = Some(opt == "only_stream");
                }
                "only_frag" | "no_frag" => {
                    if f.frag.is_some() {
                        return Err(clash("another fragment option"));
                    }
                    f.frag = Some(opt == "only_frag");
                }
                _ => return Err(invalid(format!("flow: unknown option {opt:?}"))),
            }
        }
        self.flow = Some(f);
        Ok(())
    }

    pub(super) fn flowbits(&mut self, v: &str) -> Result<(), Problem> {
        // Suricata: `cmd[, name]`, the name being everything after the
        // first comma; `a|b` is an OR list. Snort's `a&b` is read as an
        // AND list.
        let (cmd_s, name) = match v.split_once(',') {
            Some((c, n)) => (c.trim(), Some(n.trim()).filter(|n| !n.is_empty())),
            None => (v.trim(), None),
        };
        let cmd = bit_command(cmd_s)
            .ok_or_else(|| invalid(format!("flowbits: unknown command {cmd_s:?}")))?;
        let span = self.current_span();
        if cmd == BitCommand::NoAlert {
            if name.is_some() {
                return Err(invalid("flowbits:noalert takes no name"));
            }
            self.noalert = true;
            self.flowbits.push(Flowbits {
                cmd,
                names: Vec::new(),
                any: false,
                span,
            });
            return Ok(());
        }
        let name = name.ok_or_else(|| invalid(format!("flowbits:{cmd_s} needs a name")))?;
        let (names, any) = if name.contains('|') {
            (name.split('|').map(str::trim).collect::<Vec<_>>(), true)
        } else {
            if name.bytes().any(|b| b.is_ascii_whitespace()) {
                return Err(invalid("flowbits: spaces are not allowed in flowbit names"));
            }
            (name.split('&').map(str::trim).collect::<Vec<_>>(), false)
        };
        if names.iter().any(|n| n.is_empty()) {
            return Err(invalid(format!("flowbits: invalid name list {name:?}")));
        }
        self.flowbits.push(Flowbits {
            cmd,
            names: names.into_iter().map(str::to_string).collect(),
            any,
            span,
        });
        Ok(())
    }

    pub(super) fn flowint(&mut self, v: &str) -> Result<(), Problem> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let (name, op_s, val) = match parts.as_slice() {
            [n, o] => (*n, *o, None),
            [n, o, v] => (*n, *o, Some(*v)),
            _ => return Err(invalid("flowint: expected name, operator[, value]")),
        };
        let name = bit_name(name, "flowint")?;
        let op = match op_s {
            "=" => FlowintOp::Set,
            "+" => FlowintOp::Add,
            "-" => FlowintOp::Sub,
            "==" => FlowintOp::Eq,
            "!=" => FlowintOp::Ne,
            "<" => FlowintOp::Lt,
            "<=" => FlowintOp::Le,
            ">" => FlowintOp::Gt,
            ">=" => FlowintOp::Ge,
            "isset" => FlowintOp::IsSet,
            "notset" | "isnotset" => FlowintOp::NotSet,
            _ => return Err(invalid(format!("flowint: unknown operator {op_s:?}"))),
        };
        let value = match (op, val) {
            (FlowintOp::IsSet | FlowintOp::NotSet, None) => None,
            (FlowintOp::IsSet | FlowintOp::NotSet, Some(_)) => {
                return Err(invalid(format!("flowint: {op_s} takes no value")))
            }
            (_, None) => return Err(invalid(format!("flowint: {op_s} needs a value"))),
            (_, Some(v)) => Some(if is_var_name(v) {
                NumOrVar::Var(v.to_string())
            } else {
                NumOrVar::Num(parse_int::<u32>(v, "flowint value")?)
            }),
        };
        let span = self.current_span();
        self.flowints.push(Flowint {
            name,
            op,
            value,
            span,
        });
        Ok(())
    }

    pub(super) fn xbits(&mut self, v: &str, scope: XbitsScope) -> Result<(), Problem> {
        let kw = match scope {
            XbitsScope::Xbits => "xbits",
            XbitsScope::Hostbits => "hostbits",
        };
        let mut parts = v.split(',').map(str::trim);
        let cmd_s = parts.next().unwrap_or("");
        let cmd = bit_command(cmd_s)
            .filter(|c| *c != BitCommand::NoAlert)
            .ok_or_else(|| invalid(format!("{kw}: unknown command {cmd_s:?}")))?;
        let name = bit_name(parts.next().unwrap_or(""), kw)?;
        let mut track = None;
        let mut expire = None;
        let rest: Vec<&str> = parts.collect();
        match scope {
            XbitsScope::Hostbits => match rest.as_slice() {
                [] => {}
                [dir] => {
                    track = Some(match *dir {
                        "src" => XbitsTrack::IpSrc,
                        "dst" => XbitsTrack::IpDst,
                        "both" => XbitsTrack::Both,
                        other => {
                            return Err(invalid(format!(
                                "hostbits: invalid direction {other:?}; expected src, dst or both"
                            )))
                        }
                    });
                }
                _ => return Err(invalid(format!("hostbits: invalid setting {v:?}"))),
            },
            XbitsScope::Xbits => {
                for p in rest {
                    let (k, val) = p
                        .split_once(char::is_whitespace)
                        .map_or((p, ""), |(k, v)| (k, v.trim()));
                    match k {
                        "track" if track.is_none() => {
                            track = Some(match val {
                                "ip_src" => XbitsTrack::IpSrc,
                                "ip_dst" => XbitsTrack::IpDst,
                                "ip_pair" => XbitsTrack::IpPair,
                                _ => return Err(invalid(format!("xbits: invalid track {val:?}"))),
                            });
                        }
                        "expire" if expire.is_none() => {
                            let e: u32 = parse_int(val, "xbits expire")?;
                            if e == 0 {
                                return Err(invalid("xbits: expire must be greater than 0"));
                            }
                            expire = Some(e);
                        }
                        _ => return Err(invalid(format!("xbits: unknown option {p:?}"))),
                    }
                }
                if track.is_none() {
                    return Err(invalid("xbits: missing track (ip_src, ip_dst or ip_pair)"));
                }
            }
        }
        let span = self.current_span();
        self.xbits.push(Xbits {
            scope,
            cmd,
            name,
            track,
            expire,
            span,
        });
        Ok(())
    }

    pub(super) fn threshold(&mut self, v: &str) -> Result<(), Problem> {
        if self.threshold.is_some() || self.detection_filter.is_some() {
            return Err(conflict(
                "only one threshold or detection_filter is allowed per rule",
            ));
        }
        let (kind, track, count, seconds) = threshold_fields(v, "threshold", true)?;
        self.threshold = Some(Threshold {
            kind: kind.unwrap_or(ThresholdType::Limit),
            track,
            count,
            seconds,
        });
        Ok(())
    }

    pub(super) fn detection_filter(&mut self, v: &str) -> Result<(), Problem> {
        if self.threshold.is_some() || self.detection_filter.is_some() {
            return Err(conflict(
                "only one threshold or detection_filter is allowed per rule",
            ));
        }
        let (_, track, count, seconds) = threshold_fields(v, "detection_filter", false)?;
        self.detection_filter = Some(DetectionFilter {
            track,
            count,
            seconds,
        });
        Ok(())
    }

    pub(super) fn tag(&mut self, v: &str) -> Result<(), Problem> {
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let mut it = parts.iter().copied();
        let kind = match it.next() {
            Some("session") => TagKind::Session,
            Some("host") => TagKind::Host,
            other => {
                return Err(invalid(format!(
                    "tag: invalid type {:?}; expected session or host",
                    other.unwrap_or("")
                )))
            }
        };
        let mut tag = Tag {
            kind,
            count: None,
            src: None,
        };
        let rest: Vec<&str> = it.collect();
        let mut rest = rest.as_slice();
        if let [n, metric, tail @ ..] = rest {
            if n.bytes().all(|b| b.is_ascii_digit()) {
                let n: u32 = parse_int(n, "tag count")?;
                let m = match *metric {
                    "packets" => TagMetric::Packets,
                    "seconds" => TagMetric::Seconds,
                    "bytes" => TagMetric::Bytes,
                    other => return Err(invalid(format!("tag: invalid metric {other:?}"))),
                };
                tag.count = Some((n, m));
                rest = tail;
            }
        }
        match rest {
            [] => {}
            ["src"] => tag.src = Some(true),
            ["dst"] => tag.src = Some(false),
            _ => return Err(invalid(format!("tag: invalid options {v:?}"))),
        }
        self.tags.push(tag);
        Ok(())
    }
}
