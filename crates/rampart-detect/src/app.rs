//! Application-layer inspection: signatures on transaction buffers
//! (`http.uri`, `http.header`, ...) rather than on packets or streams.
//!
//! The engine knows buffers only by name: a parser elsewhere (the HTTP
//! parser of `rampart-app`) hands over a transaction through [`TxBuffers`],
//! so this crate stays independent of any protocol implementation.

use std::borrow::Cow;

use rampart_rules::{Buffer, BufferRef, Transform};

use crate::program::Program;

/// The application protocol of a transaction: a signature inspects the
/// transactions of its own protocol only (the rule header's `http`, `dns`,
/// `tls`, or the protocol its buffers belong to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxProto {
    /// HTTP/1.x.
    Http,
    /// DNS over UDP or TCP.
    Dns,
    /// TLS.
    Tls,
}

/// Numeric transaction fields that keywords compare (not byte buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxValue {
    /// The DNS header opcode of the inspected message.
    DnsOpcode,
    /// The TLS version of the inspected side (ServerHello's negotiated
    /// version for responses, the ClientHello's for requests).
    TlsVersion,
}

/// The buffers of one application-layer transaction, by rule keyword.
pub trait TxBuffers {
    /// The bytes of `buffer` for the side being inspected, or `None` when
    /// the transaction has no such buffer (a request without a body, a
    /// missing header): a signature needing it does not match.
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>>;

    /// Instance `index` of a multi-buffer (`dns.query` holds one instance
    /// per question, `tls.certs` one per certificate): a signature matches
    /// when any instance satisfies its keywords. Single buffers have
    /// instance 0 only.
    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        if index == 0 {
            self.get(buffer)
        } else {
            None
        }
    }

    /// The transaction's protocol.
    fn proto(&self) -> TxProto {
        TxProto::Http
    }

    /// The IP protocol carrying it (6 TCP, 17 UDP): `alert udp` rules with
    /// `dns.query` see DNS over UDP only.
    fn ip_proto(&self) -> u8 {
        6
    }

    /// A numeric field, when the transaction has it.
    fn value(&self, _field: TxValue) -> Option<u32> {
        None
    }

    /// Whether the inspected message raised the app-layer event `name`
    /// (`dns.malformed_data` without the protocol prefix).
    fn has_event(&self, _name: &str) -> bool {
        false
    }
}

/// Which half of a transaction a signature inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxSide {
    /// The request (inspected once the request is complete).
    Request,
    /// The response (inspected once the response is complete; request
    /// buffers are still available).
    Response,
}

/// A keyword on a transaction that is not a byte buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppCheck {
    /// `dns.opcode:[!]N`.
    DnsOpcode {
        /// The opcode.
        opcode: u8,
        /// Match when different.
        negated: bool,
    },
    /// `tls.version:X` (wire value).
    TlsVersion(u16),
    /// `app-layer-event:proto.name` (the name without the protocol).
    Event(String),
}

impl AppCheck {
    /// Whether the transaction satisfies the check.
    pub fn matches(&self, tx: &dyn TxBuffers) -> bool {
        match self {
            AppCheck::DnsOpcode { opcode, negated } => tx
                .value(TxValue::DnsOpcode)
                .is_some_and(|v| (v == u32::from(*opcode)) != *negated),
            AppCheck::TlsVersion(v) => tx.value(TxValue::TlsVersion) == Some(u32::from(*v)),
            AppCheck::Event(name) => tx.has_event(name),
        }
    }
}

/// What an application-layer signature inspects.
#[derive(Debug)]
pub struct AppInspect {
    /// The protocol of the transactions it inspects.
    pub proto: TxProto,
    /// Request or response.
    pub side: TxSide,
    /// Also inspected on the other side (a DNS rule without direction and
    /// without side-specific buffers matches requests and responses, each
    /// its own transaction in Suricata).
    pub both_sides: bool,
    /// One program per buffer (with its transforms), all of which must
    /// match.
    pub buffers: Vec<(BufferRef, Program)>,
    /// Non-buffer keywords, all of which must hold.
    pub checks: Vec<AppCheck>,
    /// The prefilter pattern: its buffer, bytes and `nocase`.
    pub fast_pattern: Option<(BufferRef, Vec<u8>, bool)>,
}

/// The protocol an inspectable application-layer buffer belongs to
/// (`file.data` is HTTP's here: the only protocol with files so far).
pub fn buffer_proto(b: Buffer) -> Option<TxProto> {
    if is_http_buffer(b) {
        return Some(TxProto::Http);
    }
    match b {
        Buffer::DnsQuery => Some(TxProto::Dns),
        Buffer::TlsSni
        | Buffer::TlsCertSubject
        | Buffer::TlsCertIssuer
        | Buffer::TlsCertSerial
        | Buffer::TlsCertFingerprint
        | Buffer::TlsCerts
        | Buffer::Ja3Hash
        | Buffer::Ja3String
        | Buffer::Ja3sHash
        | Buffer::Ja3sString => Some(TxProto::Tls),
        _ => None,
    }
}

/// Buffers with one instance per item (Suricata's multi-buffers).
pub fn is_multi_buffer(b: Buffer) -> bool {
    matches!(b, Buffer::DnsQuery | Buffer::TlsCerts)
}

/// Most instances of a multi-buffer inspected per transaction.
pub const MAX_BUFFER_INSTANCES: usize = 64;

/// Transforms the engine applies to application-layer buffers.
pub fn transform_supported(t: &Transform) -> bool {
    matches!(
        t,
        Transform::DotPrefix
            | Transform::ToLowercase
            | Transform::ToUppercase
            | Transform::StripWhitespace
            | Transform::CompressWhitespace
    )
}

/// Applies supported transforms in rule order (others are refused at
/// compile time, so they never get here).
pub fn apply_transforms<'a>(transforms: &[Transform], bytes: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
    let mut out = bytes;
    for t in transforms {
        out = Cow::Owned(match t {
            Transform::DotPrefix => {
                let mut v = Vec::with_capacity(out.len() + 1);
                v.push(b'.');
                v.extend_from_slice(&out);
                v
            }
            Transform::ToLowercase => out.to_ascii_lowercase(),
            Transform::ToUppercase => out.to_ascii_uppercase(),
            Transform::StripWhitespace => out
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
                .collect(),
            Transform::CompressWhitespace => {
                let mut v = Vec::with_capacity(out.len());
                let mut in_ws = false;
                for &b in out.iter() {
                    let ws = b.is_ascii_whitespace() || b == 0x0b;
                    if ws {
                        if !in_ws {
                            v.push(b' ');
                        }
                    } else {
                        v.push(b);
                    }
                    in_ws = ws;
                }
                v
            }
            _ => continue,
        });
    }
    out
}

/// HTTP buffers the engine inspects.
pub fn is_http_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::HttpUri
            | Buffer::HttpUriRaw
            | Buffer::HttpMethod
            | Buffer::HttpProtocol
            | Buffer::HttpRequestLine
            | Buffer::HttpRequestBody
            | Buffer::HttpResponseBody
            | Buffer::HttpHeader
            | Buffer::HttpHeaderRaw
            | Buffer::HttpHeaderNames
            | Buffer::HttpCookie
            | Buffer::HttpUserAgent
            | Buffer::HttpHost
            | Buffer::HttpHostRaw
            | Buffer::HttpAccept
            | Buffer::HttpAcceptEnc
            | Buffer::HttpAcceptLang
            | Buffer::HttpConnection
            | Buffer::HttpContentType
            | Buffer::HttpContentLen
            | Buffer::HttpReferer
            | Buffer::HttpStart
            | Buffer::HttpStatCode
            | Buffer::HttpStatMsg
            | Buffer::HttpResponseLine
            | Buffer::HttpLocation
            | Buffer::HttpServer
            | Buffer::FileData
    )
}

/// Buffers that only exist once the response is there.
pub fn is_response_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::HttpResponseBody
            | Buffer::HttpStatCode
            | Buffer::HttpStatMsg
            | Buffer::HttpResponseLine
            | Buffer::HttpLocation
            | Buffer::HttpServer
            | Buffer::TlsCertSubject
            | Buffer::TlsCertIssuer
            | Buffer::TlsCertSerial
            | Buffer::TlsCertFingerprint
            | Buffer::TlsCerts
            | Buffer::Ja3sHash
            | Buffer::Ja3sString
    )
}
