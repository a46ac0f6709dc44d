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
    /// SSH (one transaction per connection; its request side is the
    /// client's identification and key exchange, its response side the
    /// server's).
    Ssh,
    /// SMB: tree connects (`smb.share`) and files written or read
    /// (`file.data`, `filesize`); `alert smb` rules without SMB keywords
    /// inspect the packets and stream data of SMB flows.
    Smb,
    /// FTP control connections: one transaction per command and its
    /// replies (a greeting has its own); `alert ftp` rules without FTP
    /// keywords inspect the packets and stream data of FTP flows.
    Ftp,
    /// DCERPC over TCP: one transaction per call (request and response
    /// with the same call id) or per bind and its ack.
    Dcerpc,
    /// SMTP: `alert smtp` rules without SMTP keywords inspect the packets
    /// and stream data of SMTP flows; `file.data`/`file.name` and
    /// `app-layer-event:smtp.*` inspect its mail transactions (the request
    /// side: the client's commands and message).
    Smtp,
    /// Kerberos 5 over UDP or TCP: one transaction per message, inspected
    /// on its own direction's side (requests on the request side, replies
    /// and errors on the response side).
    Krb5,
    /// SNMP over UDP: one transaction per datagram, inspected on its own
    /// direction's side.
    Snmp,
    /// FTP data connections (known from their control connection):
    /// `alert ftp-data` rules on raw content inspect their packets and
    /// stream data.
    FtpData,
    /// IKE over UDP: one transaction per message, on the side of its
    /// direction (initiator's messages are requests).
    Ike,
    /// SIP over UDP or TCP: one transaction per message (requests on the
    /// request side, responses on the response side).
    Sip,
    /// RFB (VNC): one transaction per connection, its handshake; the
    /// request side is the client's part, the response side the
    /// server's.
    Rfb,
    /// QUIC over UDP: one transaction per long-header packet, inspected
    /// on its own direction's side.
    Quic,
    /// HTTP/2 over cleartext TCP: one transaction per stream (its request
    /// side the client's headers, its response side the server's), and
    /// one per frame on stream 0.
    Http2,
    /// NFS over UDP or TCP: one transaction per call and its reply, or
    /// per file transfer (a file handle's WRITEs or READ replies), whose
    /// file is inspected on its own direction's side.
    Nfs,
}

/// Numeric transaction fields that keywords compare (not byte buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxValue {
    /// The DNS header opcode of the inspected message.
    DnsOpcode,
    /// The TLS version of the inspected side (ServerHello's negotiated
    /// version for responses, the ClientHello's for requests).
    TlsVersion,
    /// The operation number of a DCERPC transaction's request (none when
    /// the transaction has no request, like a bind).
    DceOpnum,
    /// A Kerberos message's type.
    Krb5MsgType,
    /// A Kerberos error's code (an `i32` in its two's complement bits).
    Krb5ErrCode,
    /// The encryption type of a Kerberos reply's ticket (an `i32` in its
    /// two's complement bits).
    Krb5TicketEtype,
    /// The SNMP version of the flow (1, 2 or 3).
    SnmpVersion,
    /// An SNMP message's PDU type (none when encrypted).
    SnmpPduType,
    /// An FTP transaction's data connection mode (1 active, 0 passive),
    /// once a known command announced a data port.
    FtpMode,
    /// Whether an FTP transaction got its final reply (1) or not (0),
    /// for a known command.
    FtpReplyReceived,
    /// The IKE exchange type.
    IkeExchType,
    /// The length of an IKEv1 key exchange payload's data.
    IkeKeyExchangeLength,
    /// The length of an IKEv1 nonce payload's data.
    IkeNonceLength,
    /// The security type an RFB handshake settled on.
    RfbSectype,
    /// The security result of an RFB handshake.
    RfbSecresult,
    /// The frame types of an HTTP/2 transaction's inspected direction
    /// (several: see [`TxBuffers::values`]).
    Http2FrameType,
    /// The error codes of an HTTP/2 transaction's inspected direction
    /// (RST_STREAM, GOAWAY; several).
    Http2ErrorCode,
    /// An NFS transaction's procedure; instances after the first are the
    /// later procedures of a file transfer (COMMIT).
    NfsProcedure,
    /// An NFS transaction's version.
    NfsVersion,
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

    /// Every value of a field that has several (HTTP/2's frame types and
    /// error codes, an NFS file transfer's procedures): a keyword on it
    /// matches when any does. Defaults to [`Self::value`]'s one.
    fn values(&self, field: TxValue) -> Vec<u32> {
        self.value(field).into_iter().collect()
    }

    /// Whether the inspected message raised the app-layer event `name`
    /// (`dns.malformed_data` without the protocol prefix).
    fn has_event(&self, _name: &str) -> bool {
        false
    }

    /// Whether the event `name` was raised after the request side was
    /// inspected (an HTTP response's events): what a request-side rule
    /// inspected again with the response still has to find, so that one
    /// event alerts once per transaction. Defaults to [`Self::has_event`].
    fn has_late_event(&self, name: &str) -> bool {
        self.has_event(name)
    }

    /// The size of the transaction's file once complete (`filesize`);
    /// `None` when it carries no complete file.
    fn file_size(&self) -> Option<u64> {
        None
    }

    /// Whether the inspected side carries a file (`filestore` makes a
    /// rule match once per file, as in Suricata).
    fn has_file(&self) -> bool {
        false
    }

    /// Whether this inspection of the transaction is the one for a
    /// signature: a protocol inspected in stages (SSH: identification
    /// lines first, key exchange fingerprints later) runs each signature
    /// in one stage only, so that it alerts once. Defaults to every
    /// signature.
    fn wants(&self, _app: &AppInspect) -> bool {
        true
    }

    /// Whether the byte keywords' `dce` option reads big-endian here: the
    /// DCERPC transaction's data representation said so, or this is not
    /// DCERPC (Suricata reads `dce` numbers big-endian outside stub data).
    fn dce_big_endian(&self) -> bool {
        true
    }

    /// Whether a DCERPC transaction's request went to an accepted context
    /// bound to interface `uuid` (`dcerpc.iface`, see
    /// [`AppCheck::DceIface`]). Only DCERPC transactions say yes.
    fn dce_iface(
        &self,
        _uuid: &[u8; 16],
        _version: Option<rampart_rules::NumCmp<u16>>,
        _any_frag: bool,
    ) -> bool {
        false
    }

    /// The MD5 of file `index` of the transaction, once the file is
    /// complete (only SMTP attachments have one).
    fn file_md5(&self, _index: usize) -> Option<[u8; 16]> {
        None
    }

    /// Whether this is an FTP `PORT` command bouncing the data connection
    /// to another host (`ftpbounce`). Only FTP transactions say yes.
    fn ftp_bounce(&self) -> bool {
        false
    }

    /// The value of IKE transform attribute `name` the responder chose
    /// (`ike.chosen_sa_attribute`). Only IKE transactions have one.
    fn ike_sa_attribute(&self, _name: &str) -> Option<u32> {
        None
    }
}

/// The `app-layer-event:http.<name>` events the HTTP parser reports
/// (Suricata's libhtp event names); rules naming other HTTP events stay
/// inactive rather than silently never matching.
pub const HTTP_EVENTS: &[&str] = &[
    "request_header_invalid",
    "response_header_invalid",
    "request_line_invalid",
    "request_line_missing_protocol",
    "uri_delim_non_compliant",
    "response_invalid_status",
    "missing_host_header",
    "unable_to_match_response_to_request",
    "gzip_decompression_failed",
    "compression_bomb",
    "duplicate_content_length_field_in_request",
    "duplicate_content_length_field_in_response",
    "request_chunk_extension",
    "request_body_unexpected",
    "too_many_encoding_layers",
    "failed_protocol_change",
];

/// The `app-layer-event:ssh.<name>` events the SSH parser reports (all of
/// Suricata 7's).
pub const SSH_EVENTS: &[&str] = &[
    "invalid_banner",
    "long_banner",
    "invalid_record",
    "long_kex_record",
];

/// The `app-layer-event:smtp.<name>` events the SMTP parser reports (a
/// subset of Suricata 7's; rules naming others stay inactive).
pub const SMTP_EVENTS: &[&str] = &[
    "invalid_reply",
    "max_command_line_len_exceeded",
    "max_reply_line_len_exceeded",
    "data_command_rejected",
    "tls_rejected",
    "mime_long_boundary",
    "mime_long_line",
    "mime_long_header_name",
    "mime_long_header_value",
    "mime_invalid_base64",
    "mime_invalid_qp",
];

/// The `app-layer-event:smb.<name>` events the SMB parser reports
/// (a subset of Suricata's); rules naming others stay inactive.
pub const SMB_EVENTS: &[&str] = &[
    "malformed_data",
    "record_overflow",
    "file_overlap",
    "read_response_too_large",
    "too_many_transactions",
];

/// The `app-layer-event:krb5.<name>` events the Kerberos parser reports
/// (all of Suricata 7's).
pub const KRB5_EVENTS: &[&str] = &["malformed_data", "weak_encryption"];

/// The `app-layer-event:snmp.<name>` events the SNMP parser reports (all
/// of Suricata 7's).
pub const SNMP_EVENTS: &[&str] = &[
    "malformed_data",
    "unknown_security_model",
    "version_mismatch",
];

/// The `app-layer-event:ftp.<name>` events the FTP parser reports (all of
/// Suricata 7's).
pub const FTP_EVENTS: &[&str] = &["request_command_too_long", "response_command_too_long"];

/// The `app-layer-event:ike.<name>` (or `ikev2.<name>`) events the IKE
/// parser reports (all of Suricata 7's).
pub const IKE_EVENTS: &[&str] = &[
    "malformed_data",
    "no_encryption",
    "weak_crypto_enc",
    "weak_crypto_prf",
    "weak_crypto_dh",
    "weak_crypto_auth",
    "weak_crypto_no_dh",
    "weak_crypto_no_auth",
    "invalid_proposal",
    "unknown_proposal",
    "payload_extra_data",
    "multiple_server_proposal",
];

/// The `app-layer-event:quic.<name>` events the QUIC parser reports
/// (all of Suricata 7's; `error_on_header` is never raised, as there).
pub const QUIC_EVENTS: &[&str] = &[
    "failed_decrypt",
    "error_on_data",
    "error_on_header",
    "crypto_frag_too_long",
];

/// The `app-layer-event:http2.<name>` events the HTTP/2 parser reports
/// (a subset of Suricata 7's; rules naming others stay inactive).
pub const HTTP2_EVENTS: &[&str] = &[
    "invalid_frame_header",
    "invalid_client_magic",
    "invalid_frame_data",
    "invalid_header",
    "invalid_frame_length",
    "extra_header_data",
    "long_frame_data",
    "stream_id_reuse",
    "failed_decompression",
    "header_integer_overflow",
    "too_many_streams",
    "invalid_http1_settings",
];

/// The `app-layer-event:nfs.<name>` events the NFS parser reports (all of
/// Suricata 7's but `unsupported_version`, which it never raises).
pub const NFS_EVENTS: &[&str] = &[
    "malformed_data",
    "non_existing_version",
    "too_many_transactions",
];

/// Which half of a transaction a signature inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// `dcerpc.iface:uuid[,version][,any_frag]`: the transaction's request
    /// used a presentation context the server accepted for this
    /// interface (and version), as Suricata checks it.
    DceIface(rampart_rules::ast::DceIface),
    /// `dcerpc.opnum`: the request's operation number is in one of these
    /// inclusive ranges.
    DceOpnum(Vec<(u16, u16)>),
    /// `filemd5:[!]FILE`: some file of the transaction has (with
    /// `negated`, has not) its MD5 in the list.
    FileMd5 {
        /// The list (an MD5 dataset).
        list: Md5List,
        /// Match a file whose MD5 is not listed.
        negated: bool,
    },
    /// `filesize`: the size of a file once it is complete.
    Filesize(rampart_rules::NumCmp<u64>),
    /// `rfb.sectype`.
    RfbSectype(rampart_rules::NumCmp<u32>),
    /// `rfb.secresult`.
    RfbSecresult(rampart_rules::NumCmp<u32>),
    /// `ftpbounce`: an FTP `PORT` command naming another address than
    /// the control connection's client.
    FtpBounce,
    /// `ftp.mode`: the transaction announced a data port in this mode
    /// (`true` active).
    FtpMode(bool),
    /// `ftp.reply_received`: the transaction got (`true`) or did not get
    /// its final reply.
    FtpReplyReceived(bool),
    /// A numeric IKE field compared (`ike.exchtype`,
    /// `ike.key_exchange_payload_length`, `ike.nonce_payload_length`).
    IkeValue(TxValue, rampart_rules::NumCmp<u32>),
    /// `ike.chosen_sa_attribute:name=value`.
    IkeSaAttribute {
        /// The attribute's name.
        name: String,
        /// The value it must have.
        value: u32,
    },
    /// `krb5_msg_type`.
    Krb5MsgType(rampart_rules::NumCmp<u32>),
    /// `krb5_err_code`: an error's code equals this.
    Krb5ErrCode(i32),
    /// `krb5.ticket_encryption`: a reply's ticket cipher is (not) weak, or
    /// one of the listed types.
    Krb5TicketEncryption(rampart_rules::Krb5TicketEncryption),
    /// `snmp.version`.
    SnmpVersion(rampart_rules::NumCmp<u32>),
    /// `snmp.pdu_type`.
    SnmpPduType(rampart_rules::NumCmp<u32>),
    /// `http2.frametype` / `http2.errorcode`: some value of the field
    /// ([`TxValue::Http2FrameType`], [`TxValue::Http2ErrorCode`]) compares.
    Http2Values(TxValue, rampart_rules::NumCmp<u32>),
    /// `nfs_procedure`: one of the transaction's procedures compares so.
    NfsProcedure(rampart_rules::NumCmp<u32>),
    /// `nfs.version`.
    NfsVersion(rampart_rules::NumCmp<u32>),
    /// `filestore`: the inspected side carries a file.
    HasFile,
}

/// Whether a Kerberos encryption type is weak: anything but the AES and
/// Camellia CTS ciphers (17-20, 25, 26), as Suricata judges it.
pub fn krb5_weak_encryption(etype: i32) -> bool {
    !matches!(etype, 17..=20 | 25 | 26)
}

/// The MD5 list of a `filemd5` keyword, shared by the rules naming the
/// same file; lists compare by identity.
#[derive(Clone, Debug)]
pub struct Md5List(pub std::sync::Arc<crate::dataset::Dataset>);

impl PartialEq for Md5List {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Md5List {}

impl AppCheck {
    /// Whether the transaction satisfies the check on the signature's
    /// second side (see [`AppInspect::both_sides`]): events must be new
    /// since the first side ([`TxBuffers::has_late_event`]).
    pub fn matches_late(&self, tx: &dyn TxBuffers) -> bool {
        match self {
            AppCheck::Event(name) => tx.has_late_event(name),
            other => other.matches(tx),
        }
    }

    /// Whether the transaction satisfies the check.
    pub fn matches(&self, tx: &dyn TxBuffers) -> bool {
        match self {
            AppCheck::DnsOpcode { opcode, negated } => tx
                .value(TxValue::DnsOpcode)
                .is_some_and(|v| (v == u32::from(*opcode)) != *negated),
            AppCheck::TlsVersion(v) => tx.value(TxValue::TlsVersion) == Some(u32::from(*v)),
            AppCheck::Event(name) => tx.has_event(name),
            AppCheck::DceIface(i) => tx.dce_iface(&i.uuid, i.version, i.any_frag),
            AppCheck::DceOpnum(ranges) => tx.value(TxValue::DceOpnum).is_some_and(|op| {
                ranges
                    .iter()
                    .any(|&(lo, hi)| (u32::from(lo)..=u32::from(hi)).contains(&op))
            }),
            AppCheck::FileMd5 { list, negated } => (0..MAX_BUFFER_INSTANCES)
                .map_while(|i| tx.file_md5(i))
                .any(|md5| list.0.apply(rampart_rules::DatasetCmd::IsSet, &md5) != *negated),
            AppCheck::Filesize(cmp) => tx.file_size().is_some_and(|n| cmp.matches(n)),
            AppCheck::Krb5MsgType(cmp) => tx
                .value(TxValue::Krb5MsgType)
                .is_some_and(|t| cmp.matches(t)),
            AppCheck::Krb5ErrCode(code) => {
                tx.value(TxValue::Krb5ErrCode).map(|c| c as i32) == Some(*code)
            }
            AppCheck::Krb5TicketEncryption(want) => {
                let Some(etype) = tx.value(TxValue::Krb5TicketEtype).map(|e| e as i32) else {
                    return false;
                };
                match want {
                    rampart_rules::Krb5TicketEncryption::Weak(weak) => {
                        krb5_weak_encryption(etype) == *weak
                    }
                    rampart_rules::Krb5TicketEncryption::List(list) => list.contains(&etype),
                }
            }
            AppCheck::SnmpVersion(cmp) => tx
                .value(TxValue::SnmpVersion)
                .is_some_and(|v| cmp.matches(v)),
            AppCheck::SnmpPduType(cmp) => tx
                .value(TxValue::SnmpPduType)
                .is_some_and(|v| cmp.matches(v)),
            AppCheck::FtpBounce => tx.ftp_bounce(),
            AppCheck::NfsProcedure(cmp) => tx
                .values(TxValue::NfsProcedure)
                .into_iter()
                .any(|p| cmp.matches(p)),
            AppCheck::NfsVersion(cmp) => tx
                .value(TxValue::NfsVersion)
                .is_some_and(|v| cmp.matches(v)),
            AppCheck::HasFile => tx.has_file(),
            AppCheck::FtpReplyReceived(yes) => {
                tx.value(TxValue::FtpReplyReceived) == Some(u32::from(*yes))
            }
            AppCheck::FtpMode(active) => tx.value(TxValue::FtpMode) == Some(u32::from(*active)),
            AppCheck::IkeValue(field, cmp) => tx.value(*field).is_some_and(|v| cmp.matches(v)),
            AppCheck::IkeSaAttribute { name, value } => tx.ike_sa_attribute(name) == Some(*value),
            AppCheck::RfbSectype(cmp) => tx
                .value(TxValue::RfbSectype)
                .is_some_and(|v| cmp.matches(v)),
            AppCheck::RfbSecresult(cmp) => tx
                .value(TxValue::RfbSecresult)
                .is_some_and(|v| cmp.matches(v)),
            AppCheck::Http2Values(field, cmp) => {
                tx.values(*field).into_iter().any(|v| cmp.matches(v))
            }
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
    /// The frame type the signature inspects (`frame:sip.request.line`):
    /// it runs on frames of that type, not on transactions.
    pub frame: Option<Buffer>,
}

/// One frame handed to [`crate::DetectEngine::inspect_frame`]: its type
/// (a frame buffer such as [`Buffer::FrameSipPdu`]), protocol and bytes.
/// Its only buffer is itself.
#[derive(Debug, Clone, Copy)]
pub struct FrameInput<'a> {
    /// The frame type.
    pub buffer: Buffer,
    /// The protocol whose parser found it.
    pub proto: TxProto,
    /// Request side for frames travelling to the server, response side
    /// for the others.
    pub side: TxSide,
    /// The IP protocol carrying it (6 TCP, 17 UDP).
    pub ip_proto: u8,
    /// Its bytes.
    pub data: &'a [u8],
}

impl TxBuffers for FrameInput<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        (buffer == self.buffer && !self.data.is_empty()).then_some(Cow::Borrowed(self.data))
    }

    fn proto(&self) -> TxProto {
        self.proto
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }
}

/// The protocol an inspectable application-layer buffer belongs to
/// (`file.data` and `file.name` are HTTP's here: the only protocol with
/// files so far).
pub fn buffer_proto(b: Buffer) -> Option<TxProto> {
    if is_http_buffer(b) {
        return Some(TxProto::Http);
    }
    if b.is_frame() {
        return match b.protocol()? {
            rampart_rules::Protocol::Dns => Some(TxProto::Dns),
            rampart_rules::Protocol::Sip => Some(TxProto::Sip),
            rampart_rules::Protocol::Rfb => Some(TxProto::Rfb),
            _ => None,
        };
    }
    match b {
        Buffer::DnsQuery => Some(TxProto::Dns),
        Buffer::SipMethod
        | Buffer::SipUri
        | Buffer::SipRequestLine
        | Buffer::SipStatCode
        | Buffer::SipStatMsg
        | Buffer::SipResponseLine
        | Buffer::SipProtocol
        | Buffer::SipFrom
        | Buffer::SipTo
        | Buffer::SipVia
        | Buffer::SipUserAgent
        | Buffer::SipContentType
        | Buffer::SipContentLength => Some(TxProto::Sip),
        Buffer::RfbName => Some(TxProto::Rfb),
        Buffer::TlsSni
        | Buffer::TlsCertSubject
        | Buffer::TlsCertIssuer
        | Buffer::TlsCertSerial
        | Buffer::TlsCertFingerprint
        | Buffer::TlsCerts
        | Buffer::Ja3Hash
        | Buffer::Ja3String
        | Buffer::Ja4Hash
        | Buffer::Ja3sHash
        | Buffer::Ja3sString
        | Buffer::TlsRandom
        | Buffer::TlsRandomTime
        | Buffer::TlsRandomBytes => Some(TxProto::Tls),
        Buffer::SshProto
        | Buffer::SshSoftware
        | Buffer::SshHassh
        | Buffer::SshHasshString
        | Buffer::SshHasshServer
        | Buffer::SshHasshServerString => Some(TxProto::Ssh),
        Buffer::DcerpcStubData => Some(TxProto::Dcerpc),
        Buffer::SmtpHelo | Buffer::SmtpMailFrom | Buffer::SmtpRcptTo => Some(TxProto::Smtp),
        Buffer::SmbShare | Buffer::SmbNamedPipe => Some(TxProto::Smb),
        Buffer::Krb5Cname | Buffer::Krb5Sname => Some(TxProto::Krb5),
        Buffer::SnmpCommunity | Buffer::SnmpUsm | Buffer::SnmpTrapOid | Buffer::SnmpTrapAddress => {
            Some(TxProto::Snmp)
        }
        Buffer::FtpCommand
        | Buffer::FtpCommandData
        | Buffer::FtpReply
        | Buffer::FtpCompletionCode => Some(TxProto::Ftp),
        Buffer::IkeInitSpi
        | Buffer::IkeRespSpi
        | Buffer::IkeVendor
        | Buffer::IkeKeyExchangePayload
        | Buffer::IkeNoncePayload => Some(TxProto::Ike),
        Buffer::QuicSni
        | Buffer::QuicUa
        | Buffer::QuicVersion
        | Buffer::QuicCyuHash
        | Buffer::QuicCyuString => Some(TxProto::Quic),
        Buffer::Http2Header | Buffer::Http2HeaderName => Some(TxProto::Http2),
        _ => None,
    }
}

/// Buffers about a transferred file (`file.data`, `file.name`,
/// `file.magic`): HTTP bodies by default, the files of the rule's
/// protocol in `alert smb` rules.
pub fn is_file_buffer(b: Buffer) -> bool {
    matches!(b, Buffer::FileData | Buffer::FileName | Buffer::FileMagic)
}

/// Buffers with one instance per item (Suricata's multi-buffers).
pub fn is_multi_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::DnsQuery
            | Buffer::TlsCerts
            | Buffer::HttpRequestHeader
            | Buffer::HttpResponseHeader
            // One per file (SMTP attachments); HTTP has one at most.
            | Buffer::FileData
            | Buffer::FileName
            | Buffer::SmtpRcptTo
            // One per name component (`krbtgt`, `REALM`).
            | Buffer::Krb5Cname
            | Buffer::Krb5Sname
            | Buffer::FtpReply
            | Buffer::FtpCompletionCode
            | Buffer::IkeVendor
            // One per header field of that name (Suricata 8).
            | Buffer::SipFrom
            | Buffer::SipTo
            | Buffer::SipVia
            | Buffer::SipUserAgent
            | Buffer::SipContentType
            | Buffer::SipContentLength
            // One per CHLO of the packet.
            | Buffer::QuicCyuHash
            | Buffer::QuicCyuString
            // One per HTTP/2 header field of the inspected side.
            | Buffer::Http2Header
            | Buffer::Http2HeaderName
    )
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
            | Transform::UrlDecode
            | Transform::Xor(_)
            | Transform::PcreXform(_)
    )
}

/// Checks a transform's own argument at rule-compile time: a `pcrexform`
/// pattern must compile and have a capture group. The error names the
/// keyword.
pub fn check_transform(t: &Transform) -> Result<(), String> {
    if let Transform::PcreXform(re) = t {
        let compiled = compile_pcrexform(re).map_err(|e| format!("pcrexform: {e}"))?;
        if compiled.captures_len() < 2 {
            return Err(format!("pcrexform: /{re}/ has no capture group"));
        }
    }
    Ok(())
}

/// Compiles a `pcrexform` pattern with the same backtracking budget as
/// rule `pcre`.
fn compile_pcrexform(re: &str) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    let full = format!("(*LIMIT_MATCH={})", crate::pcre::DEFAULT_MATCH_LIMIT) + re;
    pcre2::bytes::RegexBuilder::new()
        .utf(false)
        .ucp(false)
        .jit_if_available(true)
        .build(&full)
}

/// `url_decode`: `%xx` (two hex digits) becomes the byte, `+` a space;
/// any other `%` is kept as is (Suricata's transform).
pub fn url_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%' {
            let hi = input.get(i + 1).and_then(|c| hex_val(*c));
            let lo = input.get(i + 2).and_then(|c| hex_val(*c));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            out.push(b);
        } else if b == b'+' {
            out.push(b' ');
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `xor:"key"`: each byte XORed with the key, repeated over the buffer.
/// An empty key (refused by the parser) leaves the bytes unchanged.
pub fn xor(input: &[u8], key: &[u8]) -> Vec<u8> {
    if key.is_empty() {
        return input.to_vec();
    }
    input
        .iter()
        .zip(key.iter().cycle())
        .map(|(b, k)| b ^ k)
        .collect()
}

/// `pcrexform:"re"`: the first capture group of the first match replaces
/// the buffer; without a match (or a capture) the buffer stays as it is.
/// A pattern that does not compile (checked at rule load) changes nothing.
pub fn pcrexform(input: &[u8], re: &str) -> Option<Vec<u8>> {
    let regex = compile_pcrexform(re).ok()?;
    let caps = regex.captures(input).ok()??;
    caps.get(1).map(|m| m.as_bytes().to_vec())
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
            Transform::UrlDecode => url_decode(&out),
            Transform::Xor(key) => xor(&out, key),
            Transform::PcreXform(re) => match pcrexform(&out, re) {
                Some(v) => v,
                None => continue,
            },
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
            | Buffer::HttpRequestHeader
            | Buffer::HttpResponseHeader
            | Buffer::FileData
            | Buffer::FileName
            | Buffer::FileMagic
    )
}

/// HTTP buffers an `alert http2` rule inspects on HTTP/2 transactions
/// (their values come from the pseudo-headers and header fields).
pub fn is_http2_http_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::HttpRequestHeader
            | Buffer::HttpResponseHeader
            | Buffer::HttpMethod
            | Buffer::HttpUri
            | Buffer::HttpUriRaw
            | Buffer::HttpHost
            | Buffer::HttpHostRaw
            | Buffer::HttpUserAgent
            | Buffer::HttpStatCode
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
            | Buffer::HttpResponseHeader
            | Buffer::TlsCertSubject
            | Buffer::TlsCertIssuer
            | Buffer::TlsCertSerial
            | Buffer::TlsCertFingerprint
            | Buffer::TlsCerts
            | Buffer::Ja3sHash
            | Buffer::Ja3sString
            | Buffer::SshHasshServer
            | Buffer::SshHasshServerString
            // Suricata 7 registers the Kerberos names for replies and
            // errors only (a request's names are not inspected).
            | Buffer::Krb5Cname
            | Buffer::Krb5Sname
            | Buffer::FtpReply
            | Buffer::FtpCompletionCode
            | Buffer::IkeRespSpi
            | Buffer::SipStatCode
            | Buffer::SipStatMsg
            | Buffer::SipResponseLine
            | Buffer::RfbName
            | Buffer::FrameSipResponseLine
            | Buffer::FrameSipResponseHeaders
            | Buffer::FrameSipResponseBody
    )
}

/// Request-side buffers of protocols whose buffers are otherwise seen
/// both ways (a SIP rule on `sip.method` inspects requests only).
pub fn is_request_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::SipMethod
            | Buffer::SipUri
            | Buffer::SipRequestLine
            | Buffer::FrameSipRequestLine
            | Buffer::FrameSipRequestHeaders
            | Buffer::FrameSipRequestBody
    )
}

/// SSH buffers known only once a side's KEXINIT was read.
pub fn is_ssh_hassh_buffer(b: Buffer) -> bool {
    matches!(
        b,
        Buffer::SshHassh
            | Buffer::SshHasshString
            | Buffer::SshHasshServer
            | Buffer::SshHasshServerString
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(transforms: &[Transform], input: &[u8]) -> Vec<u8> {
        apply_transforms(transforms, Cow::Borrowed(input)).into_owned()
    }

    #[test]
    fn url_decode_transform() {
        assert_eq!(url_decode(b"%2Fetc%2fpasswd"), b"/etc/passwd");
        assert_eq!(url_decode(b"a+b%20c"), b"a b c");
        // Invalid or cut-short escapes are kept.
        assert_eq!(url_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(url_decode(b"%"), b"%");
        assert_eq!(url_decode(b"%00%ff"), [0u8, 0xff]);
        assert_eq!(run(&[Transform::UrlDecode], b"evil%27sqli"), b"evil'sqli");
    }

    #[test]
    fn xor_transform() {
        let key = [0x0d, 0x0a, 0xc8, 0xff];
        let plain = b"password=";
        let enc = xor(plain, &key);
        assert_eq!(enc.get(..4), Some(&[0x7d, 0x6b, 0xbb, 0x8c][..]));
        assert_eq!(xor(&enc, &key), plain);
        assert_eq!(xor(b"abc", &[]), b"abc");
        assert_eq!(run(&[Transform::Xor(vec![0x20])], b"ABC"), b"abc");
    }

    #[test]
    fn pcrexform_transform() {
        let t = Transform::PcreXform(r"[a-zA-Z]+\s+(.*)\s+HTTP".into());
        assert_eq!(
            run(std::slice::from_ref(&t), b"GET /z.jpg HTTP/1.1"),
            b"/z.jpg"
        );
        // No match: the buffer is unchanged.
        assert_eq!(run(&[t], b"nothing here"), b"nothing here");
        // Chained: capture, then decode.
        let chain = [
            Transform::PcreXform(r"data=(.*)".into()),
            Transform::UrlDecode,
        ];
        assert_eq!(run(&chain, b"/get?data=a%41"), b"aA");
    }

    #[test]
    fn pcrexform_is_checked_at_load() {
        assert!(check_transform(&Transform::PcreXform("(a)".into())).is_ok());
        let no_group = check_transform(&Transform::PcreXform("abc".into())).unwrap_err();
        assert!(no_group.contains("pcrexform"), "{no_group}");
        let bad = check_transform(&Transform::PcreXform("(unclosed".into())).unwrap_err();
        assert!(bad.starts_with("pcrexform"), "{bad}");
        assert!(transform_supported(&Transform::UrlDecode));
        assert!(!transform_supported(&Transform::ToMd5));
    }

    #[test]
    fn header_buffers_are_multi() {
        assert!(is_multi_buffer(Buffer::HttpRequestHeader));
        assert!(is_multi_buffer(Buffer::HttpResponseHeader));
        assert!(is_response_buffer(Buffer::HttpResponseHeader));
        assert!(!is_response_buffer(Buffer::HttpRequestHeader));
        assert_eq!(buffer_proto(Buffer::TlsRandomTime), Some(TxProto::Tls));
    }
}
