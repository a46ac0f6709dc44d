//! The option list: keyword dispatch, rule-level keywords, final checks.

use std::borrow::Cow;
use std::sync::Arc;

use crate::ast::{
    AddressSpec, DetectionFilter, Flow, Flowbits, Flowint, Match, MatchKind, Metadata, PortSpec,
    Reference, Rule, Tag, Target, Threshold, Xbits,
};
use crate::buffer::{Buffer, BufferRef, Transform};
use crate::error::{conflict, invalid, ErrorKind, Problem};
use crate::header::{Action, Direction, Protocol};
use crate::num::parse_int;
use crate::span::{Locator, Span};

use super::content::{quoted, unescape_text, unquote};
use super::{slice, RawOption};

/// The parsed header, handed to the builder.
pub(crate) struct Header {
    pub action: Action,
    pub protocol: Protocol,
    pub src: AddressSpec,
    pub src_ports: PortSpec,
    pub direction: Direction,
    pub dst: AddressSpec,
    pub dst_ports: PortSpec,
}

/// Accumulates one rule while its options are applied in order.
pub(crate) struct Builder<'t> {
    text: &'t str,
    loc: &'t Locator,
    interner: &'t mut super::Interner,
    header: Header,
    pub(super) sid: Option<u32>,
    pub(super) gid: Option<u32>,
    pub(super) rev: Option<u32>,
    pub(super) msg: Option<String>,
    pub(super) classtype: Option<String>,
    pub(super) priority: Option<u32>,
    pub(super) references: Vec<Reference>,
    pub(super) metadata: Vec<Metadata>,
    pub(super) target: Option<Target>,
    pub(super) matches: Vec<Match>,
    pub(super) flow: Option<Flow>,
    pub(super) flowbits: Vec<Flowbits>,
    pub(super) flowints: Vec<Flowint>,
    pub(super) xbits: Vec<Xbits>,
    pub(super) threshold: Option<Threshold>,
    pub(super) detection_filter: Option<DetectionFilter>,
    pub(super) noalert: bool,
    pub(super) tags: Vec<Tag>,
    pub(super) requires: Option<String>,
    pub(super) prefilter: Option<usize>,
    /// The sticky buffer in effect (`None`: payload).
    pub(super) sticky: Option<BufferRef>,
    /// Whether transforms may still be added to the sticky buffer
    /// (Suricata's `list_set`: true from the sticky keyword until pending
    /// transforms are consumed by a match).
    pub(super) transforms_open: bool,
    /// Transforms given but not yet consumed by a payload keyword.
    pub(super) pending_transforms: Vec<Transform>,
    /// Whether the current sticky buffer has received a match.
    pub(super) sticky_used: bool,
    /// Indexes of the matches that start a sticky buffer declaration
    /// ([`Rule::buffer_starts`]).
    pub(super) buffer_starts: Vec<usize>,
    /// Whether a content already has `fast_pattern`.
    pub(super) fast_pattern_seen: bool,
    /// Index of the last `content` in `matches`.
    pub(super) last_content: Option<usize>,
    /// Variables defined by byte_extract / byte_math so far.
    pub(super) byte_vars: Vec<String>,
    /// Span of the option being applied.
    pub(super) current: (usize, usize),
    /// Logical range of each match (parallel to `matches`).
    ranges: Vec<(usize, usize)>,
}

/// Keywords Suricata (or Snort 2) has that this crate does not model.
const UNSUPPORTED: &[&str] = &[
    "lua",
    "luajit",
    "filesha1",
    "filesha256",
    "file.size",
    "iprep",
    "flowvar",
    "pktvar",
    "hostvar",
    "replace",
    "tls.store",
    "tls_store",
    "tls.fingerprint",
    "tls_cert_notbefore",
    "tls_cert_notafter",
    "tls_cert_expired",
    "tls_cert_valid",
    "tls.cert_chain_len",
    "dns.rrtype",
    "smb.version",
    "subslice",
    "luaxform",
    "domain",
    "tld",
    "ftpdata_command",
    "ftp.dynamic_port",
    "modbus",
    "dnp3_func",
    "dnp3.func",
    "dnp3_ind",
    "dnp3.ind",
    "dnp3_obj",
    "dnp3.obj",
    "enip_command",
    "cip_service",
    "template",
    "template2",
    "ssh.protoversion",
    "ssh.softwareversion",
    "rpc",
    "sip_method",
    "sip_stat_code",
    "sip_header",
    "sip_body",
    "absent",
    "entropy",
    "config",
    "bypass",
    "l3_proto",
    "geoip",
    "stream_reassemble",
    "resp",
    "react",
    "logto",
    "session",
    "sd_pattern",
    "file_type",
    "service",
    "http_encode",
    "cvs",
    "pkt.ip",
    "http2.priority",
    "http2.window",
    "http2.size_update",
    "http2.settings",
    "mqtt.type",
    "mqtt.flags",
    "mqtt.qos",
    "mqtt.reason_code",
    "mqtt.connack.session_present",
    "mqtt.connect.flags",
    "mqtt.protocol_version",
    "quic.version_int",
    "transform",
    "xor_extract",
    "tls.random_time_int",
    "igmp.type",
    "igmp-csum",
    "ipv4-csum",
    "tcpv4-csum",
    "tcpv6-csum",
    "udpv4-csum",
    "udpv6-csum",
    "icmpv4-csum",
    "icmpv6-csum",
    "gunzip",
    "zlib_deflate",
    "llmnr.queries.rrname",
    "llmnr.answers.rrname",
    "llmnr.authorities.rrname",
    "llmnr.additionals.rrname",
    "llmnr.response.rrname",
    "tls.certs_chain_len",
    "file.name_len",
    "vlan.id",
    "vlan.layers",
    "dhcp.leasetime",
    "dhcp.rebinding_time",
    "dhcp.renewal_time",
    "dcerpc.opnum_range",
    "smb.cmd",
    "smb.status",
    "http.request_header_names",
    "ether.hdr",
    "igmp.hdr",
    "arp.hdr",
    "tls.alpn",
    "tls.cert_chain",
    "email.from",
    "email.subject",
    "email.to",
    "email.cc",
    "email.date",
    "email.message_id",
    "email.x_mailer",
    "email.url",
    "email.received",
    "ldap.request.operation",
    "ldap.responses.operation",
    "ldap.responses.count",
    "ldap.request.dn",
    "ldap.responses.dn",
    "ldap.responses.result_code",
    "ldap.responses.message",
    "ldap.request.attribute_type",
    "ldap.responses.attribute_type",
    "pgsql.query",
    "sip.method_int",
    "dns.answer.name",
    "dns.query.name",
    "file.sha256",
    "file.md5",
    "file.sha1",
    "websocket.opcode",
    "websocket.mask",
    "websocket.flags",
    "ja4.string",
];

/// The value of a keyword that requires one.
fn req<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, Problem> {
    value.ok_or_else(|| invalid(format!("{name} needs a value")))
}

impl<'t> Builder<'t> {
    pub(crate) fn new(
        text: &'t str,
        loc: &'t Locator,
        header: Header,
        interner: &'t mut super::Interner,
    ) -> Self {
        Builder {
            text,
            loc,
            interner,
            header,
            sid: None,
            gid: None,
            rev: None,
            msg: None,
            classtype: None,
            priority: None,
            references: Vec::new(),
            metadata: Vec::new(),
            target: None,
            matches: Vec::with_capacity(8),
            flow: None,
            flowbits: Vec::new(),
            flowints: Vec::new(),
            xbits: Vec::new(),
            threshold: None,
            detection_filter: None,
            noalert: false,
            tags: Vec::new(),
            requires: None,
            prefilter: None,
            sticky: None,
            transforms_open: false,
            pending_transforms: Vec::new(),
            sticky_used: false,
            buffer_starts: Vec::new(),
            fast_pattern_seen: false,
            last_content: None,
            byte_vars: Vec::new(),
            current: (0, 0),
            ranges: Vec::with_capacity(8),
        }
    }

    /// The span of the option being applied.
    pub(super) fn current_span(&self) -> Span {
        self.loc.span(self.current.0, self.current.1)
    }

    /// Appends a match; returns its index.
    pub(super) fn push(&mut self, kind: MatchKind, full: (usize, usize)) -> usize {
        let m = Match {
            kind,
            span: self.loc.span(full.0, full.1),
        };
        self.matches.push(m);
        self.ranges.push(full);
        self.matches.len() - 1
    }

    /// The sticky buffer for a payload keyword about to be added, with
    /// pending transforms applied (they then apply to this and every later
    /// keyword of the sticky buffer, as in Suricata).
    fn use_sticky(&mut self) -> Option<BufferRef> {
        let sticky = self.sticky.as_mut()?;
        if !self.pending_transforms.is_empty() {
            sticky.transforms.append(&mut self.pending_transforms);
            self.transforms_open = false;
        }
        if !self.sticky_used {
            // The keyword about to be pushed starts the declaration.
            self.buffer_starts.push(self.matches.len());
        }
        self.sticky_used = true;
        Some(sticky.clone())
    }

    /// The buffer a non-relative payload keyword goes to.
    pub(super) fn active_buffer(&mut self) -> BufferRef {
        self.use_sticky().unwrap_or(BufferRef::PAYLOAD)
    }

    /// The buffer a relative payload keyword goes to: the sticky buffer,
    /// else the buffer of the previous payload keyword (as Suricata does).
    pub(super) fn relative_buffer(&mut self) -> BufferRef {
        if let Some(b) = self.use_sticky() {
            return b;
        }
        self.matches
            .iter()
            .rev()
            .find_map(Match::buffer)
            .cloned()
            .unwrap_or(BufferRef::PAYLOAD)
    }

    /// The frame buffer `frame:VALUE` selects: `proto.name` (the part
    /// before the first dot names an application protocol), or `name`
    /// alone in a rule whose header names the protocol, as Suricata
    /// resolves it. A frame type Rampart has no parser for is
    /// unsupported; a frame of another protocol than the header's is an
    /// error.
    fn frame_buffer(&self, v: &str) -> Result<Buffer, Problem> {
        let rule_proto = &self.header.protocol;
        let app_proto = |p: &Protocol| !p.is_packet_level() && !matches!(p, Protocol::App(_));
        let qualified = v.split_once('.').and_then(|(p, rest)| {
            let proto = Protocol::parse(p).filter(|p| app_proto(p))?;
            Some((proto, rest))
        });
        let (proto, frame) = match qualified {
            Some((proto, rest)) => {
                if app_proto(rule_proto) && proto.name() != rule_proto.name() {
                    return Err(conflict(format!(
                        "frame {v} is a {} frame in a {} rule",
                        proto.name(),
                        rule_proto.name()
                    )));
                }
                (proto, rest)
            }
            None if app_proto(rule_proto) => (rule_proto.clone(), v),
            None => {
                return Err(invalid(format!(
                    "frame {v} needs a protocol: write frame:<protocol>.{v} or use an application protocol in the rule header"
                )))
            }
        };
        Buffer::frame(proto.name(), frame).ok_or_else(|| {
            Problem::new(
                ErrorKind::UnsupportedKeyword,
                format!("frame {}.{frame} is not supported", proto.name()),
            )
        })
    }

    /// Suricata rejects a sticky buffer that receives no match.
    pub(super) fn check_sticky_used(&self) -> Result<(), Problem> {
        match &self.sticky {
            Some(b) if !self.sticky_used => Err(conflict(format!(
                "sticky buffer {} is not followed by any match",
                b.buffer
            ))),
            _ => Ok(()),
        }
    }

    /// The buffer for a payload keyword, relative or not.
    pub(super) fn buffer_for(&mut self, relative: bool) -> BufferRef {
        if relative {
            self.relative_buffer()
        } else {
            self.active_buffer()
        }
    }

    /// Fails unless `name` was defined by an earlier byte_extract/byte_math.
    pub(super) fn check_var(&self, name: &str) -> Result<(), Problem> {
        if self.byte_vars.iter().any(|v| v == name) {
            Ok(())
        } else {
            Err(Problem::new(
                ErrorKind::UndefinedVariable,
                format!("variable {name:?} is not defined by an earlier byte_extract or byte_math"),
            ))
        }
    }

    /// Applies one option.
    pub(crate) fn apply(&mut self, opt: &RawOption) -> Result<(), Problem> {
        let text = self.text;
        let raw_name = slice(text, opt.name);
        let name: Cow<'_, str> = if raw_name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(raw_name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(raw_name)
        };
        let value = opt.value.map(|v| slice(text, v));
        let full = (opt.name.0, opt.value.map_or(opt.name.1, |v| v.1));
        self.current = full;
        let value_start = opt.value.map_or(opt.name.0, |v| v.0);
        self.dispatch(&name, value, full).map_err(|p| {
            let p = p.keyword(&name);
            if p.range.is_some() {
                p.shift(value_start)
            } else {
                p.at(full.0, full.1)
            }
        })
    }

    fn dispatch(
        &mut self,
        name: &str,
        value: Option<&str>,
        full: (usize, usize),
    ) -> Result<(), Problem> {
        match name {
            "content" => self.content(req(name, value)?, None, full),
            "nocase" | "distance" | "fast_pattern" | "endswith" | "within" | "depth"
            | "startswith" | "offset" | "rawbytes" => self.content_modifier(name, value),
            "reference" => self.reference(req(name, value)?),
            "metadata" => {
                self.metadata(req(name, value)?);
                Ok(())
            }
            "msg" => {
                if self.msg.is_some() {
                    return Err(conflict("msg given twice"));
                }
                let (inner, _) = quoted(req(name, value)?, "msg")?;
                self.msg = Some(unescape_text(inner));
                Ok(())
            }
            "classtype" => {
                let v = req(name, value)?.trim();
                if v.is_empty()
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(invalid(format!("invalid classtype {v:?}")));
                }
                self.classtype = Some(v.to_string());
                Ok(())
            }
            "sid" => {
                if self.sid.is_some() {
                    return Err(conflict("sid given twice"));
                }
                let n: u32 = parse_int(req(name, value)?, "sid")?;
                if n == 0 {
                    return Err(invalid("sid 0 is not allowed"));
                }
                self.sid = Some(n);
                Ok(())
            }
            "rev" => {
                if self.rev.is_some() {
                    return Err(conflict("rev given twice"));
                }
                self.rev = Some(parse_int(req(name, value)?, "rev")?);
                Ok(())
            }
            "gid" => {
                if self.gid.is_some() {
                    return Err(conflict("gid given twice"));
                }
                self.gid = Some(parse_int(req(name, value)?, "gid")?);
                Ok(())
            }
            "priority" => {
                if self.priority.is_some() {
                    return Err(conflict("priority given twice"));
                }
                self.priority = Some(parse_int(req(name, value)?, "priority")?);
                Ok(())
            }
            "target" => {
                self.target = Some(match req(name, value)?.trim() {
                    "src_ip" => Target::SrcIp,
                    "dest_ip" => Target::DestIp,
                    other => {
                        return Err(invalid(format!(
                            "invalid target {other:?}; expected src_ip or dest_ip"
                        )))
                    }
                });
                Ok(())
            }
            "requires" => {
                self.requires = Some(req(name, value)?.to_string());
                Ok(())
            }
            "flow" => self.flow(req(name, value)?),
            "flowbits" => self.flowbits(req(name, value)?),
            "flowint" => self.flowint(req(name, value)?),
            "xbits" => self.xbits(req(name, value)?, crate::ast::XbitsScope::Xbits),
            "hostbits" => self.xbits(req(name, value)?, crate::ast::XbitsScope::Hostbits),
            "threshold" => self.threshold(req(name, value)?),
            "detection_filter" => self.detection_filter(req(name, value)?),
            "noalert" => {
                if value.is_some() {
                    return Err(invalid("noalert takes no value"));
                }
                self.noalert = true;
                Ok(())
            }
            "tag" => self.tag(req(name, value)?),
            "pcre" => self.pcre(req(name, value)?, full),
            "byte_test" => self.byte_test(req(name, value)?, full),
            "byte_jump" => self.byte_jump(req(name, value)?, full),
            "byte_extract" => self.byte_extract(req(name, value)?, full),
            "byte_math" => self.byte_math(req(name, value)?, full),
            "isdataat" => self.isdataat(req(name, value)?, full),
            "bsize" => self.bsize(req(name, value)?, full),
            "dataset" => self.dataset(req(name, value)?, full),
            "datarep" => self.datarep(req(name, value)?, full),
            "base64_decode" => self.base64_decode(value, full),
            "asn1" => self.asn1(req(name, value)?, full),
            "uricontent" => {
                if let Some(active) = &self.sticky {
                    return Err(conflict(format!(
                        "uricontent seen while sticky buffer {} is still set",
                        active.buffer
                    )));
                }
                self.content(req(name, value)?, Some(Buffer::HttpUri), full)
            }
            // The legacy file keywords are caseless contents on the file
            // name (or magic), as Suricata sets them up; `fileext:"pdf"`
            // is a name ending in ".pdf".
            "filename" | "filemagic" | "fileext" => {
                let buffer = if name == "filemagic" {
                    Buffer::FileMagic
                } else {
                    Buffer::FileName
                };
                let v = req(name, value)?;
                let ext = name == "fileext";
                let pattern = if ext {
                    let (negated, inner, _) = super::content::quoted_negatable(v, name)?;
                    format!("{}\".{inner}\"", if negated { "!" } else { "" })
                } else {
                    v.to_string()
                };
                self.legacy_content(name, buffer, &pattern, full, true, ext)
            }
            // The legacy certificate keywords: a case-sensitive substring
            // of the server certificate's subject or issuer (`!` negates),
            // which is a content on the new buffers.
            "tls.subject" | "tls.issuerdn" => {
                let buffer = if name == "tls.subject" {
                    Buffer::TlsCertSubject
                } else {
                    Buffer::TlsCertIssuer
                };
                // Quotes are optional here: `tls.subject:CN=a` is valid.
                let v = req(name, value)?.trim();
                let (negated, rest) = match v.strip_prefix('!') {
                    Some(r) => (true, r.trim_start()),
                    None => (false, v),
                };
                let inner = rest
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or(rest);
                let pattern = format!("{}\"{inner}\"", if negated { "!" } else { "" });
                self.legacy_content(name, buffer, &pattern, full, false, false)
            }
            // Frames are Suricata's protocol data units (or parts of one):
            // a sticky buffer per protocol and frame type.
            "frame" => {
                let frame = self.frame_buffer(req(name, value)?.trim())?;
                if !self.pending_transforms.is_empty() {
                    return Err(conflict(
                        "transforms of the previous sticky buffer were not followed by a match before frame",
                    ));
                }
                self.check_sticky_used()?;
                self.sticky = Some(BufferRef::plain(frame));
                self.transforms_open = true;
                self.sticky_used = false;
                Ok(())
            }
            "pkt_data" => {
                if value.is_some() {
                    return Err(invalid("pkt_data takes no value"));
                }
                if !self.pending_transforms.is_empty() {
                    return Err(conflict(
                        "transforms before pkt_data were not followed by a match",
                    ));
                }
                self.check_sticky_used()?;
                self.sticky = None;
                self.transforms_open = false;
                Ok(())
            }
            "prefilter" => {
                if value.is_some() {
                    return Err(invalid("prefilter takes no value"));
                }
                let last = self
                    .matches
                    .len()
                    .checked_sub(1)
                    .ok_or_else(|| conflict("prefilter needs a preceding keyword"))?;
                if self.prefilter.is_some() {
                    return Err(conflict("prefilter given twice"));
                }
                self.prefilter = Some(last);
                Ok(())
            }
            "dotprefix"
            | "strip_whitespace"
            | "compress_whitespace"
            | "to_lowercase"
            | "to_uppercase"
            | "to_md5"
            | "to_sha1"
            | "to_sha256"
            | "url_decode"
            | "header_lowercase"
            | "strip_pseudo_headers"
            | "xor"
            | "pcrexform"
            | "from_base64" => self.transform(name, value),
            _ => {
                if let Some(kind) = self.packet_keyword(name, value)? {
                    self.push(kind, full);
                    return Ok(());
                }
                if let Some(b) = Buffer::from_sticky(name) {
                    if value.is_some() {
                        return Err(invalid(format!("sticky buffer {name} takes no value")));
                    }
                    if !self.pending_transforms.is_empty() {
                        return Err(conflict(format!(
                            "transforms of the previous sticky buffer were not followed by a match before {name}"
                        )));
                    }
                    self.check_sticky_used()?;
                    self.sticky = Some(BufferRef::plain(b));
                    self.transforms_open = true;
                    self.sticky_used = false;
                    return Ok(());
                }
                if let Some(b) = Buffer::from_modifier(name) {
                    return self.snort_modifier(name, b, value);
                }
                if UNSUPPORTED.contains(&name) {
                    return Err(Problem::new(
                        ErrorKind::UnsupportedKeyword,
                        format!("keyword {name} is not supported"),
                    ));
                }
                Err(Problem::new(
                    ErrorKind::UnknownKeyword,
                    format!("unknown keyword {name}"),
                ))
            }
        }
    }

    /// A legacy keyword that Suricata turned into a content on one buffer
    /// (`filename`, `fileext`, `tls.subject`, ...). `pattern` is content
    /// text (quoted, `!` for negation); the flags are what the keyword
    /// implies beyond the pattern, which plain content syntax cannot say.
    fn legacy_content(
        &mut self,
        name: &str,
        buffer: Buffer,
        pattern: &str,
        full: (usize, usize),
        nocase: bool,
        endswith: bool,
    ) -> Result<(), Problem> {
        if !self.pending_transforms.is_empty() {
            return Err(conflict(format!(
                "transforms before {name} were not followed by a match"
            )));
        }
        self.content(pattern, Some(buffer), full)?;
        if let Some(Match {
            kind: MatchKind::Content(c),
            ..
        }) = self.matches.last_mut()
        {
            c.nocase |= nocase;
            c.endswith |= endswith;
        }
        Ok(())
    }

    fn transform(&mut self, name: &str, value: Option<&str>) -> Result<(), Problem> {
        let t = match name {
            "dotprefix" => Transform::DotPrefix,
            "strip_whitespace" => Transform::StripWhitespace,
            "compress_whitespace" => Transform::CompressWhitespace,
            "to_lowercase" => Transform::ToLowercase,
            "to_uppercase" => Transform::ToUppercase,
            "to_md5" => Transform::ToMd5,
            "to_sha1" => Transform::ToSha1,
            "to_sha256" => Transform::ToSha256,
            "url_decode" => Transform::UrlDecode,
            "header_lowercase" => Transform::HeaderLowercase,
            "strip_pseudo_headers" => Transform::StripPseudoHeaders,
            "xor" => {
                let v = value.ok_or_else(|| invalid("xor needs a hex key"))?;
                let (key, _) = quoted(v.trim(), "xor key")?;
                if key.is_empty()
                    || key.len() % 2 != 0
                    || !key.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(invalid("xor key must be an even number of hex digits"));
                }
                let bytes = (0..key.len() / 2)
                    .filter_map(|i| key.get(2 * i..2 * i + 2))
                    .filter_map(|h| u8::from_str_radix(h, 16).ok())
                    .collect();
                Transform::Xor(bytes)
            }
            "pcrexform" => {
                let v = value.ok_or_else(|| invalid("pcrexform needs a regular expression"))?;
                let (re, _) = quoted(v.trim(), "pcrexform")?;
                if re.is_empty() {
                    return Err(invalid("pcrexform needs a regular expression"));
                }
                Transform::PcreXform(re.to_string())
            }
            _ => {
                // from_base64
                let mut bytes = None;
                let mut offset = None;
                let mut mode = None;
                if let Some(v) = value {
                    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        let (k, val) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
                        match k {
                            "bytes" => bytes = Some(parse_int(val, "from_base64 bytes")?),
                            "offset" => offset = Some(parse_int(val, "from_base64 offset")?),
                            "mode" => mode = Some(val.trim().to_string()),
                            _ => return Err(invalid(format!("unknown from_base64 option {k:?}"))),
                        }
                    }
                }
                Transform::FromBase64 {
                    bytes,
                    offset,
                    mode,
                }
            }
        };
        if value.is_some() && !matches!(name, "xor" | "pcrexform" | "from_base64") {
            return Err(invalid(format!("{name} takes no value")));
        }
        let Some(sticky) = self.sticky.as_mut() else {
            return Err(conflict(format!(
                "transform {name} must follow a sticky buffer"
            )));
        };
        if !self.transforms_open {
            return Err(conflict(format!(
                "transforms must directly follow sticky buffers; {} already has transformed matches",
                sticky.buffer
            )));
        }
        if sticky.transforms.len() + self.pending_transforms.len() >= 16 {
            return Err(invalid("too many transforms (at most 16)"));
        }
        self.pending_transforms.push(t);
        Ok(())
    }

    fn reference(&mut self, v: &str) -> Result<(), Problem> {
        let Some((sys, id)) = v.split_once(',') else {
            return Err(invalid(format!(
                "invalid reference {v:?}; expected 'system,id'"
            )));
        };
        let (sys, id) = (sys.trim(), unquote(id.trim()));
        if sys.is_empty() || id.is_empty() {
            return Err(invalid(format!(
                "invalid reference {v:?}; expected 'system,id'"
            )));
        }
        let system = if sys.bytes().any(|b| b.is_ascii_uppercase()) {
            self.interner.get(&sys.to_ascii_lowercase())
        } else {
            self.interner.get(sys)
        };
        self.references.push(Reference {
            system,
            id: id.to_string(),
        });
        Ok(())
    }

    fn metadata(&mut self, v: &str) {
        for entry in v.split(',') {
            let e = entry.trim();
            if e.is_empty() {
                continue;
            }
            let (key, value) = match e.split_once(char::is_whitespace) {
                Some((k, rest)) => (k, rest.trim()),
                None => (e, ""),
            };
            let key = self.interner.get(key);
            let value = self.interner.get(value);
            self.metadata.push(Metadata { key, value });
        }
    }

    /// Checks that need the whole rule, then builds it.
    pub(crate) fn finish(
        self,
        span: Span,
        file: Arc<str>,
        whole: (usize, usize),
    ) -> Result<Rule, Problem> {
        let Some(sid) = self.sid else {
            return Err(
                Problem::new(ErrorKind::MissingOption, "rule has no sid").at(whole.0, whole.1)
            );
        };
        self.check_sticky_used()
            .map_err(|p| p.at(whole.0, whole.1))?;
        self.check_fast_pattern_only()?;
        self.check_ip_proto(whole)?;
        self.check_bsize()?;
        self.check_protocols()?;
        self.check_stream_mix()?;
        let line = span.line;
        let h = self.header;
        Ok(Rule {
            action: h.action,
            protocol: h.protocol,
            src: h.src,
            src_ports: h.src_ports,
            direction: h.direction,
            dst: h.dst,
            dst_ports: h.dst_ports,
            sid,
            gid: self.gid.unwrap_or(1),
            rev: self.rev.unwrap_or(0),
            msg: self.msg.unwrap_or_default(),
            classtype: self.classtype,
            priority: self.priority,
            references: self.references,
            metadata: self.metadata,
            target: self.target,
            matches: self.matches,
            flow: self.flow,
            flowbits: self.flowbits,
            flowints: self.flowints,
            xbits: self.xbits,
            threshold: self.threshold,
            detection_filter: self.detection_filter,
            noalert: self.noalert,
            tags: self.tags,
            requires: self.requires,
            prefilter: self.prefilter,
            buffer_starts: self.buffer_starts,
            span,
            file,
            line,
        })
    }

    /// Positions a whole-rule problem at match `i`.
    fn at_match(&self, i: usize, p: Problem) -> Problem {
        match self.ranges.get(i) {
            Some(&(s, e)) => p.or_at(s, e),
            None => p,
        }
    }

    /// `fast_pattern:only` can't be negated or positioned (Suricata
    /// rejects these).
    fn check_fast_pattern_only(&self) -> Result<(), Problem> {
        for (i, m) in self.matches.iter().enumerate() {
            let MatchKind::Content(c) = &m.kind else {
                continue;
            };
            let only = c.fast_pattern.is_some_and(|f| f.only);
            if only && (c.negated || c.offset.is_some() || c.depth.is_some() || c.is_relative()) {
                return Err(self.at_match(
                    i,
                    conflict("fast_pattern:only can't be used on negated content or with offset, depth, distance or within")
                        .keyword("fast_pattern"),
                ));
            }
        }
        Ok(())
    }

    /// A content longer than an exact `bsize` (or, for the payload, an
    /// exact `dsize`) can never match; Suricata rejects the rule.
    fn check_bsize(&self) -> Result<(), Problem> {
        use crate::num::NumCmp;
        for (i, m) in self.matches.iter().enumerate() {
            let (buffer, size, kw) = match &m.kind {
                MatchKind::Bsize(b) => match b.cmp {
                    NumCmp::Eq(n) => (&b.buffer, n, "bsize"),
                    _ => continue,
                },
                MatchKind::Dsize(NumCmp::Eq(n)) => (&BufferRef::PAYLOAD, u64::from(*n), "dsize"),
                _ => continue,
            };
            for c in self.matches.iter().filter_map(|m| match &m.kind {
                MatchKind::Content(c) if &c.buffer == buffer => Some(c),
                _ => None,
            }) {
                let len = u64::try_from(c.pattern.len()).unwrap_or(u64::MAX);
                if len > size {
                    return Err(self.at_match(
                        i,
                        conflict(format!(
                            "{kw} {size} can never match: a content in {} is {len} bytes long",
                            buffer.buffer
                        ))
                        .keyword(kw),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `ip_proto` is only allowed in `ip` rules (Suricata).
    fn check_ip_proto(&self, whole: (usize, usize)) -> Result<(), Problem> {
        let ip_rule = matches!(
            self.header.protocol,
            Protocol::Ip | Protocol::Ipv4 | Protocol::Ipv6
        );
        if ip_rule {
            return Ok(());
        }
        match self
            .matches
            .iter()
            .position(|m| matches!(m.kind, MatchKind::IpProto(_)))
        {
            Some(i) => Err(self.at_match(
                i,
                conflict(format!(
                    "ip_proto can only be used in ip rules, not {}",
                    self.header.protocol
                ))
                .keyword("ip_proto")
                .or_at(whole.0, whole.1),
            )),
            None => Ok(()),
        }
    }

    /// Buffers of one application protocol can't be used in a rule for
    /// another (Suricata: "rule contains conflicting keywords").
    fn check_protocols(&self) -> Result<(), Problem> {
        fn family(p: &Protocol) -> Option<&str> {
            match p {
                Protocol::Http | Protocol::Http1 | Protocol::Http2 => Some("http"),
                p if p.is_packet_level() => None,
                p => Some(p.name()),
            }
        }
        let mut seen: Option<(String, &'static str)> =
            family(&self.header.protocol).map(|f| (f.to_string(), "the rule header"));
        if matches!(self.header.protocol, Protocol::App(_)) {
            // A protocol this crate has no variant for: nothing to check.
            return Ok(());
        }
        for (i, m) in self.matches.iter().enumerate() {
            let Some(b) = m.buffer() else { continue };
            let Some(p) = b.buffer.protocol() else {
                continue;
            };
            let Some(f) = family(&p) else { continue };
            match &seen {
                // DCERPC runs over SMB; JA3/JA4 are computed for QUIC too.
                Some((s, _)) if (s == "smb" && f == "dcerpc") || (s == "quic" && f == "tls") => {}
                Some((s, by)) if s != f => {
                    return Err(self.at_match(
                        i,
                        conflict(format!(
                            "buffer {} ({f}) conflicts with protocol {s} set by {by}",
                            b.buffer
                        ))
                        .keyword(b.buffer.name()),
                    ));
                }
                Some(_) => {}
                None => seen = Some((f.to_string(), b.buffer.name())),
            }
        }
        Ok(())
    }

    /// Packet-specific keywords can't be combined with stream-only or
    /// app-layer (state) inspection, as in Suricata.
    fn check_stream_mix(&self) -> Result<(), Problem> {
        let packet = self.matches.iter().enumerate().find(|(_, m)| {
            matches!(
                m.kind,
                MatchKind::Dsize(_)
                    | MatchKind::Flags(_)
                    | MatchKind::Ttl(_)
                    | MatchKind::Tos { .. }
                    | MatchKind::Fragbits(_)
                    | MatchKind::Fragoffset(_)
                    | MatchKind::IpId(_)
                    | MatchKind::Ipopts(_)
                    | MatchKind::SameIp
                    | MatchKind::Seq(_)
                    | MatchKind::Ack(_)
                    | MatchKind::Window { .. }
                    | MatchKind::TcpMss(_)
                    | MatchKind::Itype(_)
                    | MatchKind::Icode(_)
                    | MatchKind::IcmpId(_)
                    | MatchKind::Icmpv6Mtu(_)
            )
        });
        let Some((i, pm)) = packet else {
            return Ok(());
        };
        let stream_only = self.flow.is_some_and(|f| f.stream == Some(true))
            || self.header.protocol == Protocol::TcpStream;
        if stream_only {
            return Err(self.at_match(
                i,
                conflict(format!(
                    "{} is a packet keyword; it can't be used with tcp-stream or flow:only_stream",
                    pm.keyword()
                ))
                .keyword(pm.keyword()),
            ));
        }
        let state = self.matches.iter().find_map(|m| {
            match m.kind {
                MatchKind::AppLayerEvent(_)
                | MatchKind::DnsOpcode { .. }
                | MatchKind::RfbSectype(_)
                | MatchKind::RfbSecresult(_)
                | MatchKind::Krb5MsgType(_)
                | MatchKind::Krb5ErrCode(_)
                | MatchKind::Krb5TicketEncryption(_)
                | MatchKind::SnmpVersion(_)
                | MatchKind::SnmpPduType(_)
                | MatchKind::Http2FrameType(_)
                | MatchKind::Http2ErrorCode(_)
                | MatchKind::Filesize(_)
                | MatchKind::NfsProcedure(_)
                | MatchKind::NfsVersion(_)
                | MatchKind::FileMd5 { .. }
                | MatchKind::Ftpbounce
                | MatchKind::FtpMode { .. }
                | MatchKind::FtpReplyReceived(_)
                | MatchKind::IkeExchType(_)
                | MatchKind::IkeChosenSaAttribute { .. }
                | MatchKind::IkeKeyExchangePayloadLength(_)
                | MatchKind::IkeNoncePayloadLength(_) => return Some(m.keyword()),
                _ => {}
            }
            let b = m.buffer()?.buffer;
            b.is_app_layer().then_some(b.name())
        });
        if let Some(b) = state {
            return Err(self.at_match(
                i,
                conflict(format!(
                    "rule combines the packet keyword {} with app-layer inspection ({b})",
                    pm.keyword()
                ))
                .keyword(pm.keyword()),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::UNSUPPORTED;
    use crate::{parse_rule, ErrorKind, Variables};

    /// A keyword implemented later must leave [`UNSUPPORTED`]: the list is
    /// consulted only after every supported keyword, so a stale entry is
    /// dead code that misleads whoever reads it.
    #[test]
    fn unsupported_keywords_are_not_supported() {
        for name in UNSUPPORTED {
            for option in [name.to_string(), format!("{name}:1")] {
                let text = format!("alert tcp any any -> any any ({option}; sid:1;)");
                let kind = parse_rule(&text, &Variables::default())
                    .err()
                    .map(|e| e.kind);
                assert_eq!(
                    kind,
                    Some(ErrorKind::UnsupportedKeyword),
                    "{name} is listed unsupported but parses: {text}"
                );
            }
        }
    }
}
