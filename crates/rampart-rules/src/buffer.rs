//! Inspection buffers (sticky buffers) and transforms.

use std::fmt;

use crate::header::Protocol;

macro_rules! buffers {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $name:literal
            $(, sticky [$($sticky:literal),*])?
            $(, modifier [$($modifier:literal),*])?
            $(, proto $proto:ident)?
            ;
    )*) => {
        /// The buffer a payload keyword inspects.
        ///
        /// Suricata keywords select a buffer in two ways: a *sticky buffer*
        /// keyword (`http.uri;`, `file_data;`, `dns.query;`) that applies to
        /// every following payload keyword, or a Snort 2 *content modifier*
        /// after the content (`content:"x"; http_uri;`). Both are
        /// normalised to one variant here, named after the canonical
        /// Suricata 7 keyword ([`Buffer::name`]); [`Buffer::Payload`] is the
        /// packet payload or reassembled stream, the default.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Buffer {
            /// Packet payload / reassembled stream (no buffer selected, or
            /// `pkt_data`).
            Payload,
            $( $(#[$doc])* $variant, )*
        }

        impl Buffer {
            /// The canonical Suricata keyword naming this buffer
            /// (`"payload"` for [`Buffer::Payload`]).
            pub fn name(self) -> &'static str {
                match self {
                    Buffer::Payload => "payload",
                    $( Buffer::$variant => $name, )*
                }
            }

            /// The buffer a sticky-buffer keyword (canonical name or legacy
            /// alias such as `file_data`, `dns_query`) selects.
            pub fn from_sticky(keyword: &str) -> Option<Buffer> {
                Some(match keyword {
                    $( $name $($(| $sticky)*)? => Buffer::$variant, )*
                    _ => return None,
                })
            }

            /// The buffer a Snort 2 content modifier (`http_uri`,
            /// `http_client_body`, ...) moves the preceding content to.
            pub fn from_modifier(keyword: &str) -> Option<Buffer> {
                match keyword {
                    $($( $($modifier)|* => Some(Buffer::$variant), )?)*
                    _ => None,
                }
            }

            /// The application-layer protocol the buffer belongs to, if it
            /// belongs to exactly one (`file.data` serves several, the
            /// header buffers none).
            pub fn protocol(self) -> Option<Protocol> {
                match self {
                    $( $(Buffer::$variant => Some(Protocol::$proto),)? )*
                    _ => None,
                }
            }

            /// Every buffer variant (for tables and tests).
            pub const ALL: &'static [Buffer] = &[Buffer::Payload, $(Buffer::$variant),*];
        }
    };
}

buffers! {
    /// Normalised request URI (`http_uri`).
    HttpUri => "http.uri", modifier ["http_uri"], proto Http;
    /// Raw request URI (`http_raw_uri`).
    HttpUriRaw => "http.uri.raw", modifier ["http_raw_uri"], proto Http;
    /// Request method.
    HttpMethod => "http.method", modifier ["http_method"], proto Http;
    /// Request protocol field (`HTTP/1.1`).
    HttpProtocol => "http.protocol", sticky ["http_protocol"], proto Http;
    /// Whole request line.
    HttpRequestLine => "http.request_line", sticky ["http_request_line"], proto Http;
    /// Request body (`http_client_body`).
    HttpRequestBody => "http.request_body", modifier ["http_client_body"], proto Http;
    /// Response body.
    HttpResponseBody => "http.response_body", proto Http;
    /// Normalised headers (without the cookie).
    HttpHeader => "http.header", modifier ["http_header"], proto Http;
    /// Raw headers.
    HttpHeaderRaw => "http.header.raw", modifier ["http_raw_header"], proto Http;
    /// Header names only, CRLF-separated.
    HttpHeaderNames => "http.header_names", sticky ["http_header_names"], proto Http;
    /// Cookie / Set-Cookie value.
    HttpCookie => "http.cookie", modifier ["http_cookie"], proto Http;
    /// User-Agent value.
    HttpUserAgent => "http.user_agent", modifier ["http_user_agent"], proto Http;
    /// Normalised (lowercased) Host value.
    HttpHost => "http.host", modifier ["http_host"], proto Http;
    /// Raw Host value.
    HttpHostRaw => "http.host.raw", modifier ["http_raw_host"], proto Http;
    /// Accept value.
    HttpAccept => "http.accept", sticky ["http_accept"], proto Http;
    /// Accept-Encoding value.
    HttpAcceptEnc => "http.accept_enc", sticky ["http_accept_enc"], proto Http;
    /// Accept-Language value.
    HttpAcceptLang => "http.accept_lang", sticky ["http_accept_lang"], proto Http;
    /// Connection value.
    HttpConnection => "http.connection", sticky ["http_connection"], proto Http;
    /// Content-Type value.
    HttpContentType => "http.content_type", sticky ["http_content_type"], proto Http;
    /// Content-Length value.
    HttpContentLen => "http.content_len", sticky ["http_content_len"], proto Http;
    /// Referer value.
    HttpReferer => "http.referer", sticky ["http_referer"], proto Http;
    /// Request or response line plus headers.
    HttpStart => "http.start", sticky ["http_start"], proto Http;
    /// Response status code.
    HttpStatCode => "http.stat_code", modifier ["http_stat_code"], proto Http;
    /// Response status message.
    HttpStatMsg => "http.stat_msg", modifier ["http_stat_msg"], proto Http;
    /// Whole response line.
    HttpResponseLine => "http.response_line", sticky ["http_response_line"], proto Http;
    /// Location value.
    HttpLocation => "http.location", proto Http;
    /// Server value.
    HttpServer => "http.server", proto Http;
    /// One request header (`name: value`) at a time.
    HttpRequestHeader => "http.request_header", proto Http;
    /// One response header (`name: value`) at a time.
    HttpResponseHeader => "http.response_header", proto Http;
    /// HTTP/2 header names.
    Http2HeaderName => "http2.header_name", proto Http2;
    /// HTTP/2 headers.
    Http2Header => "http2.header", proto Http2;
    /// File content (HTTP response bodies, SMTP attachments, ...);
    /// Snort's `http_server_body` ends up here as in Suricata.
    FileData => "file.data", sticky ["file_data"], modifier ["http_server_body"];
    /// File name.
    FileName => "file.name";
    /// libmagic description of the file.
    FileMagic => "file.magic";
    /// DNS query name.
    DnsQuery => "dns.query", sticky ["dns_query"], proto Dns;
    /// DNS query names (Suricata 8).
    DnsQueriesRrname => "dns.queries.rrname", proto Dns;
    /// DNS answer names (Suricata 8).
    DnsAnswersRrname => "dns.answers.rrname", proto Dns;
    /// DNS authority names (Suricata 8).
    DnsAuthoritiesRrname => "dns.authorities.rrname", proto Dns;
    /// DNS additional names (Suricata 8).
    DnsAdditionalsRrname => "dns.additionals.rrname", proto Dns;
    /// All names of a DNS response (Suricata 8).
    DnsResponseRrname => "dns.response.rrname", proto Dns;
    /// TLS SNI.
    TlsSni => "tls.sni", sticky ["tls_sni"], proto Tls;
    /// Certificate subject.
    TlsCertSubject => "tls.cert_subject", sticky ["tls_cert_subject"], proto Tls;
    /// Certificate issuer.
    TlsCertIssuer => "tls.cert_issuer", sticky ["tls_cert_issuer"], proto Tls;
    /// Certificate serial.
    TlsCertSerial => "tls.cert_serial", sticky ["tls_cert_serial"], proto Tls;
    /// Certificate SHA-1 fingerprint.
    TlsCertFingerprint => "tls.cert_fingerprint", sticky ["tls_cert_fingerprint"], proto Tls;
    /// Each certificate of the chain (DER).
    TlsCerts => "tls.certs", proto Tls;
    /// Certificate subjectAltName entries.
    TlsSubjectAltName => "tls.subjectaltname", proto Tls;
    /// TLS random (32 bytes).
    TlsRandom => "tls.random", proto Tls;
    /// First 4 bytes of the TLS random.
    TlsRandomTime => "tls.random_time", proto Tls;
    /// Last 28 bytes of the TLS random.
    TlsRandomBytes => "tls.random_bytes", proto Tls;
    /// JA3 hash.
    Ja3Hash => "ja3.hash", sticky ["ja3_hash"], proto Tls;
    /// JA3 string.
    Ja3String => "ja3.string", sticky ["ja3_string"], proto Tls;
    /// JA3S hash.
    Ja3sHash => "ja3s.hash", sticky ["ja3s_hash"], proto Tls;
    /// JA3S string.
    Ja3sString => "ja3s.string", sticky ["ja3s_string"], proto Tls;
    /// JA4 hash.
    Ja4Hash => "ja4.hash", proto Tls;
    /// SSH protocol version string.
    SshProto => "ssh.proto", sticky ["ssh_proto"], proto Ssh;
    /// SSH software version string.
    SshSoftware => "ssh.software", sticky ["ssh_software"], proto Ssh;
    /// HASSH.
    SshHassh => "ssh.hassh", sticky ["ssh-hassh"], proto Ssh;
    /// HASSH string.
    SshHasshString => "ssh.hassh.string", sticky ["ssh-hassh-string"], proto Ssh;
    /// HASSH server.
    SshHasshServer => "ssh.hassh.server", sticky ["ssh-hassh-server"], proto Ssh;
    /// HASSH server string.
    SshHasshServerString => "ssh.hassh.server.string", sticky ["ssh-hassh-server-string"], proto Ssh;
    /// SMB named pipe.
    SmbNamedPipe => "smb.named_pipe", sticky ["smb_named_pipe"], proto Smb;
    /// SMB share.
    SmbShare => "smb.share", sticky ["smb_share"], proto Smb;
    /// NTLMSSP user.
    SmbNtlmsspUser => "smb.ntlmssp_user", proto Smb;
    /// NTLMSSP domain.
    SmbNtlmsspDomain => "smb.ntlmssp_domain", proto Smb;
    /// DCERPC stub data (`dce_stub_data`).
    DcerpcStubData => "dcerpc.stub_data", sticky ["dce_stub_data"], proto Dcerpc;
    /// Kerberos client name.
    Krb5Cname => "krb5.cname", sticky ["krb5_cname"], proto Krb5;
    /// Kerberos service name.
    Krb5Sname => "krb5.sname", sticky ["krb5_sname"], proto Krb5;
    /// SIP method.
    SipMethod => "sip.method", proto Sip;
    /// SIP request URI.
    SipUri => "sip.uri", proto Sip;
    /// SIP request line.
    SipRequestLine => "sip.request_line", proto Sip;
    /// SIP status code.
    SipStatCode => "sip.stat_code", proto Sip;
    /// SIP status message.
    SipStatMsg => "sip.stat_msg", proto Sip;
    /// SIP response line.
    SipResponseLine => "sip.response_line", proto Sip;
    /// SIP protocol field.
    SipProtocol => "sip.protocol", proto Sip;
    /// SIP From header.
    SipFrom => "sip.from", proto Sip;
    /// SIP To header.
    SipTo => "sip.to", proto Sip;
    /// SIP Via header.
    SipVia => "sip.via", proto Sip;
    /// SIP User-Agent header.
    SipUserAgent => "sip.user_agent", proto Sip;
    /// SIP Content-Type header.
    SipContentType => "sip.content_type", proto Sip;
    /// SIP Content-Length header.
    SipContentLength => "sip.content_length", proto Sip;
    /// SNMP community.
    SnmpCommunity => "snmp.community", proto Snmp;
    /// SNMP USM user name.
    SnmpUsm => "snmp.usm", proto Snmp;
    /// A v1 trap's enterprise OID, dotted (Suricata 8).
    SnmpTrapOid => "snmp.trap_oid", proto Snmp;
    /// A v1 trap's agent address, dotted quad (Suricata 8).
    SnmpTrapAddress => "snmp.trap_address", proto Snmp;
    /// MQTT CONNECT client id.
    MqttConnectClientId => "mqtt.connect.clientid", proto Mqtt;
    /// MQTT CONNECT user name.
    MqttConnectUsername => "mqtt.connect.username", proto Mqtt;
    /// MQTT CONNECT password.
    MqttConnectPassword => "mqtt.connect.password", proto Mqtt;
    /// MQTT CONNECT will topic.
    MqttConnectWillTopic => "mqtt.connect.willtopic", proto Mqtt;
    /// MQTT CONNECT will message.
    MqttConnectWillMessage => "mqtt.connect.willmessage", proto Mqtt;
    /// MQTT PUBLISH topic.
    MqttPublishTopic => "mqtt.publish.topic", proto Mqtt;
    /// MQTT PUBLISH message.
    MqttPublishMessage => "mqtt.publish.message", proto Mqtt;
    /// MQTT SUBSCRIBE topic.
    MqttSubscribeTopic => "mqtt.subscribe.topic", proto Mqtt;
    /// MQTT UNSUBSCRIBE topic.
    MqttUnsubscribeTopic => "mqtt.unsubscribe.topic", proto Mqtt;
    /// QUIC SNI.
    QuicSni => "quic.sni", proto Quic;
    /// QUIC user agent.
    QuicUa => "quic.ua", proto Quic;
    /// QUIC version.
    QuicVersion => "quic.version", proto Quic;
    /// QUIC CYU hash.
    QuicCyuHash => "quic.cyu.hash", proto Quic;
    /// QUIC CYU string.
    QuicCyuString => "quic.cyu.string", proto Quic;
    /// IKE initiator SPI.
    IkeInitSpi => "ike.init_spi", proto Ike;
    /// IKE responder SPI.
    IkeRespSpi => "ike.resp_spi", proto Ike;
    /// IKE vendor ids.
    IkeVendor => "ike.vendor", proto Ike;
    /// IKE key exchange payload.
    IkeKeyExchangePayload => "ike.key_exchange_payload", proto Ike;
    /// IKE nonce payload.
    IkeNoncePayload => "ike.nonce_payload", proto Ike;
    /// FTP command name of a request (Suricata 8).
    FtpCommand => "ftp.command", proto Ftp;
    /// FTP command argument (Suricata 8).
    FtpCommandData => "ftp.command_data", proto Ftp;
    /// FTP reply texts, one instance per reply line (Suricata 8).
    FtpReply => "ftp.reply", proto Ftp;
    /// FTP completion codes, one instance per reply line (Suricata 8).
    FtpCompletionCode => "ftp.completion_code", proto Ftp;
    /// RFB desktop name.
    RfbName => "rfb.name", proto Rfb;
    /// SMTP HELO (Suricata 8).
    SmtpHelo => "smtp.helo", proto Smtp;
    /// SMTP MAIL FROM (Suricata 8).
    SmtpMailFrom => "smtp.mail_from", proto Smtp;
    /// SMTP RCPT TO (Suricata 8).
    SmtpRcptTo => "smtp.rcpt_to", proto Smtp;
    /// DNP3 application data.
    Dnp3Data => "dnp3.data", sticky ["dnp3_data"], proto Dnp3;
    /// WebSocket payload (Suricata 8).
    WebsocketPayload => "websocket.payload", proto Websocket;
    // Frames: protocol data units (or parts of one) as a parser found
    // them in a direction's data, selected by `frame:<proto>.<name>` only
    // (the names, with their `frame:` prefix, cannot be written as
    // keywords). See [`Buffer::frame`].
    /// A whole DNS message (`frame:dns.pdu`; over TCP without the length
    /// prefix).
    FrameDnsPdu => "frame:dns.pdu", proto Dns;
    /// One RFB handshake message (`frame:rfb.pdu`).
    FrameRfbPdu => "frame:rfb.pdu", proto Rfb;
    /// A whole SIP message (`frame:sip.pdu`).
    FrameSipPdu => "frame:sip.pdu", proto Sip;
    /// A SIP request line with its CRLF (`frame:sip.request.line`).
    FrameSipRequestLine => "frame:sip.request.line", proto Sip;
    /// A SIP request's header lines, the empty line after them excluded
    /// (`frame:sip.request.headers`).
    FrameSipRequestHeaders => "frame:sip.request.headers", proto Sip;
    /// A SIP request's body (`frame:sip.request.body`).
    FrameSipRequestBody => "frame:sip.request.body", proto Sip;
    /// A SIP status line with its CRLF (`frame:sip.response.line`).
    FrameSipResponseLine => "frame:sip.response.line", proto Sip;
    /// A SIP response's header lines (`frame:sip.response.headers`).
    FrameSipResponseHeaders => "frame:sip.response.headers", proto Sip;
    /// A SIP response's body (`frame:sip.response.body`).
    FrameSipResponseBody => "frame:sip.response.body", proto Sip;
    /// Raw IPv4 header.
    Ipv4Hdr => "ipv4.hdr";
    /// Raw IPv6 header.
    Ipv6Hdr => "ipv6.hdr";
    /// Raw TCP header.
    TcpHdr => "tcp.hdr";
    /// Raw UDP header.
    UdpHdr => "udp.hdr";
    /// Raw ICMPv4 header.
    Icmpv4Hdr => "icmpv4.hdr";
    /// Raw ICMPv6 header.
    Icmpv6Hdr => "icmpv6.hdr";
    /// Data decoded by the last `base64_decode`.
    Base64Data => "base64_data";
}

impl Buffer {
    /// The frame buffer `frame:<proto>.<name>` selects (`proto` the
    /// canonical protocol name, `name` the frame type such as `pdu` or
    /// `request.line`), when Rampart has a parser producing such frames.
    pub fn frame(proto: &str, name: &str) -> Option<Buffer> {
        Buffer::ALL
            .iter()
            .copied()
            .find(|b| b.frame_parts() == Some((proto, name)))
    }

    /// For a frame buffer, its protocol and frame type names
    /// (`("sip", "request.line")`).
    pub fn frame_parts(self) -> Option<(&'static str, &'static str)> {
        self.name().strip_prefix("frame:")?.split_once('.')
    }

    /// Whether this is a frame buffer (see [`Buffer::frame`]).
    pub fn is_frame(self) -> bool {
        self.frame_parts().is_some()
    }

    /// Whether two buffers hold the same bytes: Suricata 7 serves
    /// `http.response_body` (and Snort's `http_server_body`, pcre `/Q`) from
    /// the `file.data` buffer.
    pub fn same_data(self, other: Buffer) -> bool {
        let norm = |b: Buffer| match b {
            Buffer::HttpResponseBody => Buffer::FileData,
            b => b,
        };
        norm(self) == norm(other)
    }

    /// Whether the buffer comes from application-layer (state) inspection
    /// rather than from the packet itself.
    pub fn is_app_layer(self) -> bool {
        !matches!(
            self,
            Buffer::Payload
                | Buffer::Ipv4Hdr
                | Buffer::Ipv6Hdr
                | Buffer::TcpHdr
                | Buffer::UdpHdr
                | Buffer::Icmpv4Hdr
                | Buffer::Icmpv6Hdr
                | Buffer::Base64Data
        )
    }
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A transform applied to a sticky buffer before inspection
/// (`http.uri; to_lowercase; content:"x";`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transform {
    /// `dotprefix`: prepend a `.` (for domain suffix matching).
    DotPrefix,
    /// `strip_whitespace`: remove all whitespace.
    StripWhitespace,
    /// `compress_whitespace`: squeeze whitespace runs to one space.
    CompressWhitespace,
    /// `to_lowercase`.
    ToLowercase,
    /// `to_uppercase`.
    ToUppercase,
    /// `to_md5`: replace the buffer by its MD5 digest.
    ToMd5,
    /// `to_sha1`: replace the buffer by its SHA-1 digest.
    ToSha1,
    /// `to_sha256`: replace the buffer by its SHA-256 digest.
    ToSha256,
    /// `url_decode`: decode `%xx` and `+`.
    UrlDecode,
    /// `header_lowercase`: lowercase header names (HTTP/2).
    HeaderLowercase,
    /// `strip_pseudo_headers`: drop HTTP/2 `:`-headers.
    StripPseudoHeaders,
    /// `xor:"key"`: XOR with the repeating key (hex in the rule).
    Xor(Vec<u8>),
    /// `pcrexform:"re"`: replace the buffer by the first capture group.
    PcreXform(String),
    /// `from_base64` (Suricata 8): decode base64.
    FromBase64 {
        /// Bytes to decode (`bytes N`).
        bytes: Option<u32>,
        /// Where to start (`offset N`).
        offset: Option<u32>,
        /// Decoder mode (`mode strict|rfc2045|rfc4648`).
        mode: Option<String>,
    },
}

impl Transform {
    /// The keyword as written in rules.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::DotPrefix => "dotprefix",
            Transform::StripWhitespace => "strip_whitespace",
            Transform::CompressWhitespace => "compress_whitespace",
            Transform::ToLowercase => "to_lowercase",
            Transform::ToUppercase => "to_uppercase",
            Transform::ToMd5 => "to_md5",
            Transform::ToSha1 => "to_sha1",
            Transform::ToSha256 => "to_sha256",
            Transform::UrlDecode => "url_decode",
            Transform::HeaderLowercase => "header_lowercase",
            Transform::StripPseudoHeaders => "strip_pseudo_headers",
            Transform::Xor(_) => "xor",
            Transform::PcreXform(_) => "pcrexform",
            Transform::FromBase64 { .. } => "from_base64",
        }
    }
}

/// The buffer a payload keyword inspects, together with the transforms
/// applied to it. Two keywords inspect the same bytes exactly when their
/// `BufferRef`s are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BufferRef {
    /// Which buffer.
    pub buffer: Buffer,
    /// Transforms in rule order (applied first to last). Empty for most.
    pub transforms: Vec<Transform>,
}

impl BufferRef {
    /// The packet payload / stream, untransformed.
    pub const PAYLOAD: BufferRef = BufferRef {
        buffer: Buffer::Payload,
        transforms: Vec::new(),
    };

    /// An untransformed buffer.
    pub fn plain(buffer: Buffer) -> Self {
        BufferRef {
            buffer,
            transforms: Vec::new(),
        }
    }

    /// Whether this is the packet payload / stream.
    pub fn is_payload(&self) -> bool {
        self.buffer == Buffer::Payload
    }
}

impl fmt::Display for BufferRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.buffer.name())?;
        for t in &self.transforms {
            write!(f, "|{}", t.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &b in Buffer::ALL {
            if b != Buffer::Payload {
                assert_eq!(Buffer::from_sticky(b.name()), Some(b), "{b}");
            }
        }
        assert_eq!(Buffer::from_sticky("file_data"), Some(Buffer::FileData));
        assert_eq!(Buffer::from_sticky("http_uri"), None);
        assert_eq!(Buffer::from_modifier("http_uri"), Some(Buffer::HttpUri));
        assert_eq!(
            Buffer::from_modifier("http_client_body"),
            Some(Buffer::HttpRequestBody)
        );
        assert_eq!(Buffer::HttpUri.protocol(), Some(Protocol::Http));
        assert_eq!(Buffer::FileData.protocol(), None);
    }

    #[test]
    fn frames_by_protocol_and_type() {
        assert_eq!(Buffer::frame("dns", "pdu"), Some(Buffer::FrameDnsPdu));
        assert_eq!(
            Buffer::frame("sip", "request.line"),
            Some(Buffer::FrameSipRequestLine)
        );
        assert_eq!(Buffer::frame("sip", "nope"), None);
        assert_eq!(Buffer::frame("http", "pdu"), None);
        assert_eq!(
            Buffer::FrameSipResponseBody.frame_parts(),
            Some(("sip", "response.body"))
        );
        assert_eq!(Buffer::FrameRfbPdu.protocol(), Some(Protocol::Rfb));
        assert!(!Buffer::SipMethod.is_frame());
        assert!(Buffer::FrameRfbPdu.is_app_layer());
    }
}
