//! The typed rule AST.
//!
//! A [`Rule`] is what the detection engine compiles. Keywords that decide
//! whether a packet matches are in [`Rule::matches`], in rule order, each a
//! [`Match`] with its [`Span`]; payload keywords carry the [`BufferRef`]
//! they inspect. Keywords that are about the rule rather than the packet
//! (`msg`, `sid`, `classtype`, `reference`, `metadata`, ...) and keywords
//! with state of their own (`flow`, `flowbits`, `flowint`, `xbits`,
//! `threshold`, `detection_filter`, `tag`) have their own fields.

use std::sync::Arc;

use crate::buffer::BufferRef;
use crate::header::{Action, Direction, Protocol};
use crate::net::{AddressExpr, AddressSet, PortExpr, PortSet};
use crate::num::{NumCmp, NumOrVar};
use crate::span::Span;

/// One parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// What to do on a match.
    pub action: Action,
    /// Header protocol.
    pub protocol: Protocol,
    /// Source addresses.
    pub src: AddressSpec,
    /// Source ports.
    pub src_ports: PortSpec,
    /// `->` or `<>`.
    pub direction: Direction,
    /// Destination addresses.
    pub dst: AddressSpec,
    /// Destination ports.
    pub dst_ports: PortSpec,
    /// Signature id (mandatory, never 0).
    pub sid: u32,
    /// Generator id (`gid`, default 1).
    pub gid: u32,
    /// Revision (`rev`, default 0).
    pub rev: u32,
    /// Alert message (`msg`, unescaped; empty when absent).
    pub msg: String,
    /// `classtype` name, to look up in [`crate::Classifications`].
    pub classtype: Option<String>,
    /// Explicit `priority` (overrides the classtype's; 1 is the highest).
    pub priority: Option<u32>,
    /// `reference` options in rule order.
    pub references: Vec<Reference>,
    /// `metadata` entries in rule order.
    pub metadata: Vec<Metadata>,
    /// `target`: which side of the alert is the target.
    pub target: Option<Target>,
    /// Detection keywords in rule order.
    pub matches: Vec<Match>,
    /// `flow` conditions.
    pub flow: Option<Flow>,
    /// `flowbits` in rule order (conditions and actions).
    pub flowbits: Vec<Flowbits>,
    /// `flowint` in rule order (conditions and actions).
    pub flowints: Vec<Flowint>,
    /// `xbits` and `hostbits` in rule order.
    pub xbits: Vec<Xbits>,
    /// `threshold` (rate limiting of alerts).
    pub threshold: Option<Threshold>,
    /// `detection_filter` (alert only after N matches).
    pub detection_filter: Option<DetectionFilter>,
    /// `noalert` or `flowbits:noalert`: match (and run side effects) but
    /// never alert.
    pub noalert: bool,
    /// `tag` options.
    pub tags: Vec<Tag>,
    /// `requires` text (Suricata 7.0.3+), kept verbatim.
    pub requires: Option<String>,
    /// Index into [`Rule::matches`] of the keyword marked `prefilter`.
    pub prefilter: Option<usize>,
    /// Indexes into [`Rule::matches`] of the first keyword after each
    /// sticky buffer keyword (`http.request_header; content:"a";
    /// http.request_header; content:"b";` starts two): Suricata matches
    /// each declaration of a multi-buffer against its own instance.
    pub buffer_starts: Vec<usize>,
    /// The whole rule in the source (continuation lines included).
    pub span: Span,
    /// The file name given to the parser.
    pub file: Arc<str>,
    /// 1-based line the rule starts on.
    pub line: u32,
}

impl Rule {
    /// The priority to report: explicit `priority`, else the classtype's
    /// (when `classes` knows it), else 3 as in Suricata.
    pub fn effective_priority(&self, classes: &crate::config::Classifications) -> u32 {
        self.priority
            .or_else(|| {
                self.classtype
                    .as_deref()
                    .and_then(|c| classes.get(c))
                    .map(|c| c.priority)
            })
            .unwrap_or(3)
    }

    /// The distinct buffers (with transforms) this rule inspects, in order
    /// of first use.
    pub fn buffers(&self) -> Vec<&BufferRef> {
        let mut out: Vec<&BufferRef> = Vec::new();
        for m in &self.matches {
            if let Some(b) = m.buffer() {
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
        out
    }

    /// The payload keywords that inspect `buffer`, in rule order: the
    /// unit relative matching (`distance`, `within`, `/R`) works in.
    pub fn matches_in<'a>(&'a self, buffer: &'a BufferRef) -> impl Iterator<Item = &'a Match> {
        self.matches
            .iter()
            .filter(move |m| m.buffer() == Some(buffer))
    }

    /// All `content` matches in rule order.
    pub fn contents(&self) -> impl Iterator<Item = &Content> {
        self.matches.iter().filter_map(|m| match &m.kind {
            MatchKind::Content(c) => Some(c),
            _ => None,
        })
    }

    /// The metadata values for `key` (e.g. `signature_severity`).
    pub fn metadata_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.metadata
            .iter()
            .filter(move |m| &*m.key == key)
            .map(|m| &*m.value)
    }
}

/// A header address field: the expression as written and the resolved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// As written (variables unexpanded); shared between rules that
    /// write the same text.
    pub expr: Arc<AddressExpr>,
    /// Resolved with the [`crate::Variables`] given to the parser; shared
    /// between rules that write the same text.
    pub set: Arc<AddressSet>,
    /// Where it is written.
    pub span: Span,
}

impl AddressSpec {
    /// Whether `ip` matches.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.set.contains(ip)
    }
}

/// A header port field: the expression as written and the resolved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// As written (variables unexpanded); shared like [`AddressSpec::expr`].
    pub expr: Arc<PortExpr>,
    /// Resolved with the [`crate::Variables`] given to the parser.
    pub set: Arc<PortSet>,
    /// Where it is written.
    pub span: Span,
}

impl PortSpec {
    /// Whether `port` matches.
    pub fn contains(&self, port: u16) -> bool {
        self.set.contains(port)
    }
}

/// `reference:type,id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Reference system, lowercase (`url`, `cve`, ...), see
    /// [`crate::ReferenceConfig`]; shared between rules.
    pub system: Arc<str>,
    /// The id within that system.
    pub id: String,
}

/// One `metadata` entry (`key value`). Keys and values are shared
/// between rules (ET Open repeats the same few hundred strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The first word.
    pub key: Arc<str>,
    /// The rest (may be empty).
    pub value: Arc<str>,
}

/// `target:src_ip|dest_ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The source address is the target.
    SrcIp,
    /// The destination address is the target.
    DestIp,
}

/// A detection keyword with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// What it tests.
    pub kind: MatchKind,
    /// The keyword and its value in the source.
    pub span: Span,
}

impl Match {
    /// The buffer a payload keyword inspects; `None` for keywords that test
    /// headers or state.
    pub fn buffer(&self) -> Option<&BufferRef> {
        match &self.kind {
            MatchKind::Content(c) => Some(&c.buffer),
            MatchKind::Pcre(p) => Some(&p.buffer),
            MatchKind::ByteTest(b) => Some(&b.buffer),
            MatchKind::ByteJump(b) => Some(&b.buffer),
            MatchKind::ByteExtract(b) => Some(&b.buffer),
            MatchKind::ByteMath(b) => Some(&b.buffer),
            MatchKind::IsDataAt(i) => Some(&i.buffer),
            MatchKind::Bsize(b) => Some(&b.buffer),
            MatchKind::Base64Decode(b) => Some(&b.buffer),
            MatchKind::Asn1(a) => Some(&a.buffer),
            MatchKind::Dataset(d) => Some(&d.buffer),
            MatchKind::Datarep(d) => Some(&d.buffer),
            _ => None,
        }
    }

    /// The keyword name (canonical), for messages.
    pub fn keyword(&self) -> &'static str {
        self.kind.keyword()
    }
}

/// Everything a detection keyword can test.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchKind {
    /// `content` with its modifiers.
    Content(Content),
    /// `pcre`.
    Pcre(Pcre),
    /// `byte_test`.
    ByteTest(ByteTest),
    /// `byte_jump`.
    ByteJump(ByteJump),
    /// `byte_extract`.
    ByteExtract(ByteExtract),
    /// `byte_math`.
    ByteMath(ByteMath),
    /// `isdataat`.
    IsDataAt(IsDataAt),
    /// `bsize`: size of the buffer.
    Bsize(Bsize),
    /// `base64_decode`: decode into [`crate::Buffer::Base64Data`].
    Base64Decode(Base64Decode),
    /// `asn1`.
    Asn1(Asn1),
    /// `dataset`: the buffer's membership in a named set.
    Dataset(Dataset),
    /// `datarep`: the reputation a named list gives the buffer.
    Datarep(Datarep),
    /// `dsize`: payload size.
    Dsize(NumCmp<u16>),
    /// `urilen`.
    Urilen(Urilen),
    /// `ttl`.
    Ttl(NumCmp<u8>),
    /// `tos` (`negated` for `tos:!N`).
    Tos {
        /// The TOS byte.
        value: u8,
        /// Match when different.
        negated: bool,
    },
    /// `ip_proto`.
    IpProto(NumCmp<u8>),
    /// `id`: IPv4 identification.
    IpId(u16),
    /// `fragbits`.
    Fragbits(Fragbits),
    /// `fragoffset`.
    Fragoffset(NumCmp<u16>),
    /// `ipopts`.
    Ipopts(IpOption),
    /// `sameip`: source equals destination address.
    SameIp,
    /// `flags`: TCP flags.
    Flags(TcpFlags),
    /// `seq`: TCP sequence number.
    Seq(u32),
    /// `ack`: TCP acknowledgement number.
    Ack(u32),
    /// `window`: TCP window.
    Window {
        /// Window size.
        size: u16,
        /// Match when different.
        negated: bool,
    },
    /// `tcp.mss`.
    TcpMss(NumCmp<u16>),
    /// `itype`.
    Itype(NumCmp<u8>),
    /// `icode`.
    Icode(NumCmp<u8>),
    /// `icmp_id`.
    IcmpId(NumCmp<u16>),
    /// `icmp_seq`.
    IcmpSeq(NumCmp<u16>),
    /// `icmpv6.mtu`.
    Icmpv6Mtu(NumCmp<u32>),
    /// `dns.opcode` (`negated` for `!N`).
    DnsOpcode {
        /// The opcode.
        opcode: u8,
        /// Match when different.
        negated: bool,
    },
    /// `rfb.sectype`: the security type the RFB handshake settled on.
    RfbSectype(NumCmp<u32>),
    /// `rfb.secresult`: the RFB security result (`ok` is 0, `fail` 1,
    /// `toomany` 2, `unknown` anything above).
    RfbSecresult(NumCmp<u32>),
    /// `krb5_msg_type`: a number comparison, or a message type name
    /// (`AS_REQ`, `!TGS_REP`, Suricata 8's spelling) turned into one.
    Krb5MsgType(NumCmp<u32>),
    /// `krb5_err_code`.
    Krb5ErrCode(i32),
    /// `krb5.ticket_encryption`: the cipher of a reply's ticket.
    Krb5TicketEncryption(Krb5TicketEncryption),
    /// `snmp.version`.
    SnmpVersion(NumCmp<u32>),
    /// `http2.frametype`: a frame type (number, or Suricata's name such as
    /// `GOAWAY`) present in the HTTP/2 transaction's inspected direction.
    Http2FrameType(NumCmp<u32>),
    /// `http2.errorcode`: an error code (number or name such as
    /// `INTERNAL_ERROR`) of a RST_STREAM or GOAWAY frame of the
    /// transaction's inspected direction.
    Http2ErrorCode(NumCmp<u32>),
    /// `snmp.pdu_type`.
    SnmpPduType(NumCmp<u32>),
    /// `filesize`.
    Filesize(NumCmp<u64>),
    /// `filestore` (its direction and scope options ignored): nothing is
    /// stored, but as in Suricata the keyword makes the rule inspect
    /// files, matching once per file of its protocol's transactions (NFS
    /// for now; elsewhere it changes nothing).
    Filestore,
    /// `nfs_procedure`: the NFS procedure of a transaction (or of a later
    /// part of its file transfer).
    NfsProcedure(NumCmp<u32>),
    /// `nfs.version`: the NFS version of a transaction.
    NfsVersion(NumCmp<u32>),
    /// `stream_size`.
    StreamSize(StreamSize),
    /// `app-layer-protocol`.
    AppLayerProtocol(AppLayerProtocol),
    /// `app-layer-event:proto.event`.
    AppLayerEvent(String),
    /// `decode-event:layer.event`.
    DecodeEvent(String),
    /// `stream-event:event`.
    StreamEvent(String),
    /// `ssl_state`.
    SslState(Vec<SslStateItem>),
    /// `ssl_version`.
    SslVersion(Vec<SslVersionItem>),
    /// `tls.version` (wire value, e.g. 0x0303 for 1.2).
    TlsVersion(u16),
    /// `filemd5:[!]FILE`: a file's MD5 is (not) in the list `FILE` (one
    /// hex digest per line, relative to the rule file).
    FileMd5 {
        /// The list's path as written.
        file: String,
        /// Match files whose MD5 is not listed.
        negated: bool,
    },
    /// `dce_iface` / `dcerpc.iface`.
    DceIface(DceIface),
    /// `dce_opnum` / `dcerpc.opnum`: inclusive ranges.
    DceOpnum(Vec<(u16, u16)>),
    /// `ftpbounce`.
    Ftpbounce,
    /// `ftp.mode:active|passive` (Suricata 8): the data connection mode
    /// a transaction announced.
    FtpMode {
        /// `active` (else `passive`).
        active: bool,
    },
    /// `ftp.reply_received:yes|no` (Suricata 8): whether a transaction
    /// got its final reply.
    FtpReplyReceived(bool),
    /// `ike.exchtype`: the IKE exchange type.
    IkeExchType(NumCmp<u8>),
    /// `ike.chosen_sa_attribute:name=value`.
    IkeChosenSaAttribute {
        /// The attribute (`alg_enc`, `alg_hash`, `sa_life_duration`, ...).
        name: String,
        /// Its value.
        value: u32,
    },
    /// `ike.key_exchange_payload_length`.
    IkeKeyExchangePayloadLength(NumCmp<u32>),
    /// `ike.nonce_payload_length`.
    IkeNoncePayloadLength(NumCmp<u32>),
}

impl MatchKind {
    /// The canonical keyword name.
    pub fn keyword(&self) -> &'static str {
        match self {
            MatchKind::Content(_) => "content",
            MatchKind::Pcre(_) => "pcre",
            MatchKind::ByteTest(_) => "byte_test",
            MatchKind::ByteJump(_) => "byte_jump",
            MatchKind::ByteExtract(_) => "byte_extract",
            MatchKind::ByteMath(_) => "byte_math",
            MatchKind::IsDataAt(_) => "isdataat",
            MatchKind::Bsize(_) => "bsize",
            MatchKind::Base64Decode(_) => "base64_decode",
            MatchKind::Asn1(_) => "asn1",
            MatchKind::Dataset(_) => "dataset",
            MatchKind::Datarep(_) => "datarep",
            MatchKind::Dsize(_) => "dsize",
            MatchKind::Urilen(_) => "urilen",
            MatchKind::Ttl(_) => "ttl",
            MatchKind::Tos { .. } => "tos",
            MatchKind::IpProto(_) => "ip_proto",
            MatchKind::IpId(_) => "id",
            MatchKind::Fragbits(_) => "fragbits",
            MatchKind::Fragoffset(_) => "fragoffset",
            MatchKind::Ipopts(_) => "ipopts",
            MatchKind::SameIp => "sameip",
            MatchKind::Flags(_) => "flags",
            MatchKind::Seq(_) => "seq",
            MatchKind::Ack(_) => "ack",
            MatchKind::Window { .. } => "window",
            MatchKind::TcpMss(_) => "tcp.mss",
            MatchKind::Itype(_) => "itype",
            MatchKind::Icode(_) => "icode",
            MatchKind::IcmpId(_) => "icmp_id",
            MatchKind::IcmpSeq(_) => "icmp_seq",
            MatchKind::Icmpv6Mtu(_) => "icmpv6.mtu",
            MatchKind::DnsOpcode { .. } => "dns.opcode",
            MatchKind::RfbSectype(_) => "rfb.sectype",
            MatchKind::RfbSecresult(_) => "rfb.secresult",
            MatchKind::Krb5MsgType(_) => "krb5_msg_type",
            MatchKind::Krb5ErrCode(_) => "krb5_err_code",
            MatchKind::Krb5TicketEncryption(_) => "krb5.ticket_encryption",
            MatchKind::SnmpVersion(_) => "snmp.version",
            MatchKind::Http2FrameType(_) => "http2.frametype",
            MatchKind::Http2ErrorCode(_) => "http2.errorcode",
            MatchKind::SnmpPduType(_) => "snmp.pdu_type",
            MatchKind::Filesize(_) => "filesize",
            MatchKind::Filestore => "filestore",
            MatchKind::NfsProcedure(_) => "nfs_procedure",
            MatchKind::NfsVersion(_) => "nfs.version",
            MatchKind::StreamSize(_) => "stream_size",
            MatchKind::AppLayerProtocol(_) => "app-layer-protocol",
            MatchKind::AppLayerEvent(_) => "app-layer-event",
            MatchKind::DecodeEvent(_) => "decode-event",
            MatchKind::StreamEvent(_) => "stream-event",
            MatchKind::SslState(_) => "ssl_state",
            MatchKind::SslVersion(_) => "ssl_version",
            MatchKind::TlsVersion(_) => "tls.version",
            MatchKind::FileMd5 { .. } => "filemd5",
            MatchKind::DceIface(_) => "dcerpc.iface",
            MatchKind::DceOpnum(_) => "dcerpc.opnum",
            MatchKind::Ftpbounce => "ftpbounce",
            MatchKind::FtpMode { .. } => "ftp.mode",
            MatchKind::FtpReplyReceived(_) => "ftp.reply_received",
            MatchKind::IkeExchType(_) => "ike.exchtype",
            MatchKind::IkeChosenSaAttribute { .. } => "ike.chosen_sa_attribute",
            MatchKind::IkeKeyExchangePayloadLength(_) => "ike.key_exchange_payload_length",
            MatchKind::IkeNoncePayloadLength(_) => "ike.nonce_payload_length",
        }
    }
}

/// `krb5.ticket_encryption`'s value: `[!]weak`, or a list of encryption
/// types (names as Suricata logs them, or numbers), any of which matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Krb5TicketEncryption {
    /// `weak` (`true`) or `!weak` (`false`): the ticket's cipher is (not)
    /// weak, that is anything but the AES and Camellia CTS ciphers.
    Weak(bool),
    /// The ticket's cipher is one of these encryption type numbers.
    List(Vec<i32>),
}

/// Kerberos encryption type names a rule may write, with their numbers
/// (RFC 3961 and IANA's registry, spelled as `kerberos-parser` prints
/// them, which is what Suricata accepts and logs).
pub const KRB5_ENCRYPTION_NAMES: &[(&str, i32)] = &[
    ("des-cbc-crc", 1),
    ("des-cbc-md4", 2),
    ("des-cbc-md5", 3),
    ("des3-cbc-md5", 5),
    ("des3-cbc-sha1", 7),
    ("dsaWithSHA1-CmsOID", 9),
    ("md5WithRSAEncryption-CmsOID", 10),
    ("sha1WithRSAEncryption-CmsOID", 11),
    ("rc2CBC-EnvOID", 12),
    ("rsaEncryption-EnvOID", 13),
    ("rsaES-OAEP-ENV-OID", 14),
    ("des-ede3-cbc-Env-OID", 15),
    ("des3-cbc-sha1-kd", 16),
    ("aes128-cts-hmac-sha1-96", 17),
    ("aes256-cts-hmac-sha1-96", 18),
    ("aes128-cts-hmac-sha256-128", 19),
    ("aes256-cts-hmac-sha384-192", 20),
    ("rc4-hmac", 23),
    ("rc4-hmac-exp", 24),
    ("camellia128-cts-cmac", 25),
    ("camellia256-cts-cmac", 26),
    ("subkey-keymaterial", 65),
    ("rc4-md4", -128),
    ("rc4-plain2", -129),
    ("rc4-lm", -130),
    ("rc4-sha", -131),
    ("des-plain", -132),
    ("rc4-hmac-OLD", -133),
    ("rc4-plain-OLD", -134),
    ("rc4-hmac-OLD-exp", -135),
    ("rc4-plain-OLD-exp", -136),
    ("rc4-plain", -140),
    ("rc4-plain-exp", -141),
];

/// Kerberos message type names `krb5_msg_type` accepts (Suricata 8), with
/// their numbers.
pub const KRB5_MSG_TYPE_NAMES: &[(&str, u32)] = &[
    ("AS_REQ", 10),
    ("AS_REP", 11),
    ("TGS_REQ", 12),
    ("TGS_REP", 13),
    ("AP_REQ", 14),
    ("AP_REP", 15),
    ("RESERVED16", 16),
    ("RESERVED17", 17),
    ("SAFE", 20),
    ("PRIV", 21),
    ("CRED", 22),
    ("ERROR", 30),
];

/// `content` and the modifiers that followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// The bytes to find (escapes and `|hex|` decoded).
    pub pattern: Vec<u8>,
    /// `content:!"..."`: the rule matches when the pattern is absent.
    pub negated: bool,
    /// `nocase`.
    pub nocase: bool,
    /// `rawbytes` (ignored by Suricata, kept for fidelity).
    pub rawbytes: bool,
    /// `offset`: where the search starts in the buffer.
    pub offset: Option<NumOrVar<u32>>,
    /// `depth`: how far from `offset` the pattern must end.
    pub depth: Option<NumOrVar<u32>>,
    /// `distance`: relative start, from the end of the previous match in
    /// the same buffer (may be negative).
    pub distance: Option<NumOrVar<i32>>,
    /// `within`: the pattern must end within this many bytes of the end of
    /// the previous match (after `distance`).
    pub within: Option<NumOrVar<i32>>,
    /// `startswith`: anchored at the start of the buffer.
    pub startswith: bool,
    /// `endswith`: anchored at the end of the buffer.
    pub endswith: bool,
    /// `fast_pattern` (any form).
    pub fast_pattern: Option<FastPattern>,
}

impl Content {
    /// Whether the content is anchored to the previous match (`distance`
    /// or `within`).
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// `fast_pattern`, `fast_pattern:only` or `fast_pattern:offset,length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FastPattern {
    /// `fast_pattern:only` (Snort): the prefilter match is the whole test.
    pub only: bool,
    /// `fast_pattern:offset,length`: use only this slice of the pattern.
    pub chop: Option<(u16, u16)>,
}

/// `pcre:"/re/flags"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcre {
    /// Inspected buffer (from a sticky buffer or a buffer flag such as `U`).
    pub buffer: BufferRef,
    /// The expression between the delimiters, as written.
    pub pattern: String,
    /// `pcre:!"..."`.
    pub negated: bool,
    /// Matching flags.
    pub flags: PcreFlags,
    /// Capture targets after the expression (`, flow:name`), verbatim.
    pub captures: Vec<String>,
}

/// PCRE modifiers other than the buffer-selecting ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct PcreFlags {
    /// `i`.
    pub caseless: bool,
    /// `s`: `.` matches newlines.
    pub dotall: bool,
    /// `m`: `^`/`$` match at line breaks.
    pub multiline: bool,
    /// `x`: extended syntax.
    pub extended: bool,
    /// `A`: anchored at the start.
    pub anchored: bool,
    /// `E`: `$` matches only at the very end.
    pub dollar_endonly: bool,
    /// `G`: ungreedy.
    pub ungreedy: bool,
    /// `R`: relative to the previous match.
    pub relative: bool,
    /// `B`: rawbytes.
    pub rawbytes: bool,
    /// `O`: ignore the configured match limit.
    pub no_match_limit: bool,
}

/// Byte order for the `byte_*` keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endian {
    /// Network order (default).
    #[default]
    Big,
    /// Little endian.
    Little,
    /// Taken from the DCERPC header (`dce`).
    Dce,
}

/// Base of a `string` number in the `byte_*` keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumBase {
    /// `hex`.
    Hex,
    /// `dec` (default for `string`).
    Dec,
    /// `oct`.
    Oct,
}

/// `byte_test` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteTestOp {
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `=`.
    Eq,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `&`: any of the bits.
    And,
    /// `^`: bitwise XOR non-zero.
    Xor,
}

/// `byte_test:bytes,[!]op,value,offset[,relative][,endian][,string,base][,dce][,bitmask m]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteTest {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// Bytes to read (1-8, or up to 23 with `string`).
    pub nbytes: NumOrVar<u8>,
    /// Comparison.
    pub op: ByteTestOp,
    /// `!` before the operator.
    pub negated: bool,
    /// Value to compare with.
    pub value: NumOrVar<u64>,
    /// Where to read.
    pub offset: NumOrVar<i32>,
    /// Offset relative to the previous match.
    pub relative: bool,
    /// Byte order.
    pub endian: Endian,
    /// Read an ASCII number in this base.
    pub string: Option<NumBase>,
    /// Mask applied before comparing.
    pub bitmask: Option<u32>,
}

/// Where `byte_jump` jumps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JumpFrom {
    /// After the bytes read (default).
    #[default]
    Current,
    /// `from_beginning`.
    Beginning,
    /// `from_end`.
    End,
}

/// `byte_jump:bytes,offset[,options]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteJump {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// Bytes to read.
    pub nbytes: u8,
    /// Where to read.
    pub offset: NumOrVar<i32>,
    /// Offset relative to the previous match.
    pub relative: bool,
    /// `multiplier N`.
    pub multiplier: Option<u32>,
    /// Byte order.
    pub endian: Endian,
    /// Read an ASCII number in this base.
    pub string: Option<NumBase>,
    /// `align`: round the jump up to 4.
    pub align: bool,
    /// Jump origin.
    pub from: JumpFrom,
    /// `post_offset N`.
    pub post_offset: Option<i32>,
    /// Mask applied to the value read.
    pub bitmask: Option<u32>,
}

/// `byte_extract:bytes,offset,name[,options]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteExtract {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// Bytes to read.
    pub nbytes: u8,
    /// Where to read.
    pub offset: i32,
    /// Variable name later keywords refer to.
    pub name: String,
    /// Offset relative to the previous match.
    pub relative: bool,
    /// `multiplier N`.
    pub multiplier: Option<u32>,
    /// Byte order.
    pub endian: Endian,
    /// Read an ASCII number in this base.
    pub string: Option<NumBase>,
    /// `align N` (2 or 4).
    pub align: Option<u8>,
    /// Mask applied to the value read.
    pub bitmask: Option<u32>,
}

/// `byte_math` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteMathOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `<<`.
    Shl,
    /// `>>`.
    Shr,
}

/// `byte_math:bytes N, offset N, oper op, rvalue V, result name[, ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteMath {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// Bytes to read.
    pub nbytes: NumOrVar<u8>,
    /// Where to read.
    pub offset: i32,
    /// Operation.
    pub oper: ByteMathOp,
    /// Right operand.
    pub rvalue: NumOrVar<u32>,
    /// Variable receiving the result.
    pub result: String,
    /// Offset relative to the previous match.
    pub relative: bool,
    /// Byte order.
    pub endian: Endian,
    /// Read an ASCII number in this base.
    pub string: Option<NumBase>,
    /// Mask applied to the value read.
    pub bitmask: Option<u32>,
}

/// `isdataat:[!]N[,relative][,rawbytes]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsDataAt {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// The position that must (not) hold data.
    pub offset: NumOrVar<u16>,
    /// `!`: the position must not hold data.
    pub negated: bool,
    /// Relative to the previous match.
    pub relative: bool,
    /// `rawbytes`.
    pub rawbytes: bool,
}

/// `bsize`: compares the size of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bsize {
    /// The sticky buffer measured.
    pub buffer: BufferRef,
    /// The comparison.
    pub cmp: NumCmp<u64>,
}

/// What a `dataset` keyword does with the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetCmd {
    /// `set`: adds the buffer; matches when it was not in the set yet.
    Set,
    /// `isset`: matches when the buffer is in the set.
    IsSet,
    /// `isnotset`: matches when it is not.
    IsNotSet,
    /// `unset`: removes the buffer; matches when it was there.
    Unset,
}

/// The type of a dataset's values, which also says how its file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetType {
    /// Byte strings, base64 in files.
    String,
    /// MD5 digests, hex in files.
    Md5,
    /// SHA-256 digests, hex in files.
    Sha256,
    /// IPv4 addresses.
    Ipv4,
    /// IPv4 or IPv6 addresses.
    Ip,
}

impl DatasetType {
    /// The name rules use (`type string`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetType::String => "string",
            DatasetType::Md5 => "md5",
            DatasetType::Sha256 => "sha256",
            DatasetType::Ipv4 => "ipv4",
            DatasetType::Ip => "ip",
        }
    }
}

/// `dataset:cmd,name[,type T][,load FILE][,save FILE][,state FILE]...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The sticky buffer looked up.
    pub buffer: BufferRef,
    /// The operation.
    pub cmd: DatasetCmd,
    /// The set's name, shared by every rule naming it.
    pub name: String,
    /// Value type (`string` when not given, as in Suricata).
    pub kind: DatasetType,
    /// File the set starts from (`load`, or `state`), as written.
    pub load: Option<String>,
    /// File the set is written to (`save`, or `state`), as written.
    pub save: Option<String>,
}

/// `datarep:name, op, value[, load FILE][, type T]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datarep {
    /// The sticky buffer looked up.
    pub buffer: BufferRef,
    /// The reputation list's name.
    pub name: String,
    /// How the buffer's reputation compares with `value`.
    pub cmp: NumCmp<u32>,
    /// Value type.
    pub kind: DatasetType,
    /// File of `value,reputation` lines.
    pub load: Option<String>,
}

/// `base64_decode[:bytes N][,offset N][,relative]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Decode {
    /// Buffer the encoded data is read from.
    pub buffer: BufferRef,
    /// How many bytes to decode.
    pub bytes: Option<u32>,
    /// Where to start.
    pub offset: Option<u32>,
    /// Start relative to the previous match.
    pub relative: bool,
}

/// `asn1` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asn1 {
    /// Inspected buffer.
    pub buffer: BufferRef,
    /// `bitstring_overflow`.
    pub bitstring_overflow: bool,
    /// `double_overflow`.
    pub double_overflow: bool,
    /// `oversize_length N`.
    pub oversize_length: Option<u32>,
    /// `absolute_offset N`.
    pub absolute_offset: Option<u32>,
    /// `relative_offset N`.
    pub relative_offset: Option<i32>,
}

/// `urilen:cmp[,norm|raw]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Urilen {
    /// The length comparison.
    pub cmp: NumCmp<u16>,
    /// `raw`: measure the raw URI instead of the normalised one.
    pub raw: bool,
}

/// How a flag set is compared (`flags`, `fragbits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlagMode {
    /// Exactly these flags (after the mask).
    #[default]
    Exact,
    /// `+`: these flags and possibly others.
    All,
    /// `*`: any of these flags.
    Any,
    /// `!`: none of these flags.
    Not,
}

/// `flags:[+*!]FSRPAUCE0[,mask]`. Bits are the TCP header's: FIN 0x01,
/// SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags {
    /// The flags named (0 for `0`, no flags).
    pub flags: u8,
    /// Comparison mode.
    pub mode: FlagMode,
    /// Flags to ignore.
    pub ignore: u8,
}

/// `fragbits:[+*!]MDR`. Bits: R 0x8000 (reserved), D 0x4000, M 0x2000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragbits {
    /// The bits named.
    pub bits: u16,
    /// Comparison mode.
    pub mode: FlagMode,
}

/// `ipopts` option names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpOption {
    /// Record route.
    Rr,
    /// End of list.
    Eol,
    /// No-op.
    Nop,
    /// Timestamp.
    Ts,
    /// Security.
    Sec,
    /// Extended security.
    Esec,
    /// Loose source routing.
    Lsrr,
    /// Strict source routing.
    Ssrr,
    /// Stream id.
    Satid,
    /// Any option.
    Any,
}

/// Which side `stream_size` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamSide {
    /// `server`.
    Server,
    /// `client`.
    Client,
    /// `both`.
    Both,
    /// `either`.
    Either,
}

/// `stream_size:side,op,N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSize {
    /// Side measured.
    pub side: StreamSide,
    /// Comparison (only `=`, `!=`, `<`, `<=`, `>`, `>=`).
    pub cmp: NumCmp<u32>,
}

/// `app-layer-protocol:[!]name[,mode]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLayerProtocol {
    /// Protocol name (`http`, `failed`, `unknown`, ...).
    pub protocol: String,
    /// `!`.
    pub negated: bool,
    /// Optional mode (`final`, `original`, `either`, `to_server`, ...).
    pub mode: Option<String>,
}

/// SSL/TLS handshake states for `ssl_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslHandshake {
    /// `client_hello`.
    ClientHello,
    /// `server_hello`.
    ServerHello,
    /// `client_keyx`.
    ClientKeyx,
    /// `server_keyx`.
    ServerKeyx,
    /// `unknown`.
    Unknown,
}

/// One `ssl_state` item (`|`-separated; `!` negates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SslStateItem {
    /// The state.
    pub state: SslHandshake,
    /// `!state`.
    pub negated: bool,
}

/// SSL/TLS versions for `ssl_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslVersion {
    /// `sslv2`.
    Sslv2,
    /// `sslv3`.
    Sslv3,
    /// `tls1.0`.
    Tls10,
    /// `tls1.1`.
    Tls11,
    /// `tls1.2`.
    Tls12,
    /// `tls1.3`.
    Tls13,
}

/// One `ssl_version` item (`,`-separated; `!` negates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SslVersionItem {
    /// The version.
    pub version: SslVersion,
    /// `!version`.
    pub negated: bool,
}

/// `dce_iface:uuid[,<op>version][,any_frag]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DceIface {
    /// Interface UUID as 16 bytes in textual order.
    pub uuid: [u8; 16],
    /// Interface version comparison.
    pub version: Option<NumCmp<u16>>,
    /// `any_frag`.
    pub any_frag: bool,
}

/// `flow` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct Flow {
    /// `established` (`Some(true)`), `not_established` (`Some(false)`).
    pub established: Option<bool>,
    /// `stateless`.
    pub stateless: bool,
    /// `to_server` / `from_client` (`Some(true)`), `to_client` /
    /// `from_server` (`Some(false)`).
    pub to_server: Option<bool>,
    /// `only_stream` (`Some(true)`) / `no_stream` (`Some(false)`).
    pub stream: Option<bool>,
    /// `only_frag` (`Some(true)`) / `no_frag` (`Some(false)`).
    pub frag: Option<bool>,
}

/// `flowbits` / `xbits` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitCommand {
    /// Set the bit(s).
    Set,
    /// Clear the bit(s).
    Unset,
    /// Flip the bit(s).
    Toggle,
    /// Condition: set.
    IsSet,
    /// Condition: not set.
    IsNotSet,
    /// Do not alert (flowbits only).
    NoAlert,
}

impl BitCommand {
    /// Whether this is a condition rather than an action.
    pub fn is_condition(self) -> bool {
        matches!(self, BitCommand::IsSet | BitCommand::IsNotSet)
    }
}

/// `flowbits:cmd,name` with `a|b` (any) or `a&b` (all) groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flowbits {
    /// The command.
    pub cmd: BitCommand,
    /// Bit names (empty for `noalert`).
    pub names: Vec<String>,
    /// `true` for `a|b` (any of them), `false` for one name or `a&b` (all).
    pub any: bool,
    /// Where it is written.
    pub span: Span,
}

/// `flowint` operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowintOp {
    /// `=`: assign.
    Set,
    /// `+`: add.
    Add,
    /// `-`: subtract.
    Sub,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `isset`.
    IsSet,
    /// `notset` / `isnotset`.
    NotSet,
}

impl FlowintOp {
    /// Whether this is a condition rather than an action.
    pub fn is_condition(self) -> bool {
        !matches!(self, FlowintOp::Set | FlowintOp::Add | FlowintOp::Sub)
    }
}

/// `flowint:name,op[,value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flowint {
    /// Counter name.
    pub name: String,
    /// Operation.
    pub op: FlowintOp,
    /// Operand (absent for `isset` / `notset`).
    pub value: Option<NumOrVar<u32>>,
    /// Where it is written.
    pub span: Span,
}

/// Which keyword an [`Xbits`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XbitsScope {
    /// `xbits`.
    Xbits,
    /// `hostbits`.
    Hostbits,
}

/// What an xbit is stored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XbitsTrack {
    /// Source host (`ip_src`, hostbits `src`).
    IpSrc,
    /// Destination host (`ip_dst`, hostbits `dst`).
    IpDst,
    /// The host pair (`ip_pair`).
    IpPair,
    /// Both hosts (hostbits `both`).
    Both,
}

/// `xbits:cmd,name,track T[,expire N]` / `hostbits:cmd,name[,T][,expire N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xbits {
    /// Which keyword.
    pub scope: XbitsScope,
    /// The command.
    pub cmd: BitCommand,
    /// Bit name.
    pub name: String,
    /// Where the bit lives (`None` when not given for hostbits).
    pub track: Option<XbitsTrack>,
    /// Expiry in seconds.
    pub expire: Option<u32>,
    /// Where it is written.
    pub span: Span,
}

/// `track` for thresholds and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// Per source address.
    BySrc,
    /// Per destination address.
    ByDst,
    /// Per rule.
    ByRule,
    /// Per address pair.
    ByBoth,
    /// Per flow.
    ByFlow,
    /// `by_either` (suppress only).
    ByEither,
}

impl Track {
    /// The keyword as written (`by_src`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Track::BySrc => "by_src",
            Track::ByDst => "by_dst",
            Track::ByRule => "by_rule",
            Track::ByBoth => "by_both",
            Track::ByFlow => "by_flow",
            Track::ByEither => "by_either",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Track> {
        Some(match s {
            "by_src" => Track::BySrc,
            "by_dst" => Track::ByDst,
            "by_rule" => Track::ByRule,
            "by_both" => Track::ByBoth,
            "by_flow" => Track::ByFlow,
            "by_either" => Track::ByEither,
            _ => return None,
        })
    }
}

/// `threshold` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThresholdType {
    /// Alert on the first `count` matches per `seconds`.
    Limit,
    /// Alert on every `count`-th match per `seconds`.
    Threshold,
    /// Alert once per `seconds` after `count` matches.
    Both,
}

/// `threshold:type T, track K, count C, seconds S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    /// Type.
    pub kind: ThresholdType,
    /// Tracking key.
    pub track: Track,
    /// Count.
    pub count: u32,
    /// Period in seconds.
    pub seconds: u32,
}

/// `detection_filter:track K, count C, seconds S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DetectionFilter {
    /// Tracking key.
    pub track: Track,
    /// Matches needed before alerting.
    pub count: u32,
    /// Period in seconds.
    pub seconds: u32,
}

/// `tag` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// Tag the session.
    Session,
    /// Tag the host.
    Host,
}

/// `tag` count units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMetric {
    /// Packets.
    Packets,
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
}

/// `tag:session|host[,count,metric][,src|dst]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// What is tagged.
    pub kind: TagKind,
    /// How much (`None`: Suricata's default, 256 packets).
    pub count: Option<(u32, TagMetric)>,
    /// For host tags: `src` (`Some(true)`) or `dst` (`Some(false)`).
    pub src: Option<bool>,
}
