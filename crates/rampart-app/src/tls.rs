//! TLS handshakes, parsed for inspection: records reassembled across TCP
//! segments, handshake messages reassembled across records, the
//! ClientHello (SNI, versions, cipher suites, extensions, JA3), the
//! ServerHello (negotiated version, cipher, JA3S) and, up to TLS 1.2, the
//! server's certificate chain (subject, issuer, serial, SHA-1 fingerprint,
//! validity) as Suricata's `tls.*` buffers and EVE `tls` records show them.
//!
//! Handshake messages are decoded with `tls-parser` and certificates with
//! `x509-parser` (the same crate Suricata uses, so distinguished names are
//! written the same way: `C=US, O=Let's Encrypt, CN=R3`). Extensions are
//! walked by hand so that JA3 sees every extension type in wire order,
//! unknown ones included, and one malformed extension does not hide the
//! others.
//!
//! Bounds: a record is at most 65,535 bytes by its 16-bit length field; one
//! longer than TLS allows (2^14 + 2048) is reported as
//! [`TlsAnomaly::InvalidRecordLength`] but still skipped over exactly. A
//! handshake message states a 24-bit length (up to 16 MiB): one claiming
//! more than [`TlsConfig::max_handshake`] is reported as
//! [`TlsAnomaly::HandshakeInvalidLength`] and that direction stops being
//! parsed (its buffers are dropped), while the flow goes on being inspected
//! by every other rule. After a ChangeCipherSpec or application data, a
//! direction is encrypted and only record headers are followed.

use md5::{Digest, Md5};
use sha1::Sha1;

/// Largest record payload TLS allows (RFC 8446 / 5246: 2^14 + 2048 for
/// ciphertext).
pub const MAX_TLS_RECORD: usize = (1 << 14) + 2048;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsDirection {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// Deviations found while parsing, named after Suricata's `tls.*` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsAnomaly {
    /// A record longer than [`MAX_TLS_RECORD`].
    InvalidRecordLength,
    /// A record type outside 20..=24: the direction is not parsed further.
    InvalidRecordType,
    /// A record version whose major byte is not 3.
    InvalidRecordVersion,
    /// A handshake message that did not decode.
    InvalidHandshakeMessage,
    /// A handshake message claiming more than [`TlsConfig::max_handshake`]
    /// bytes: buffering stopped.
    HandshakeInvalidLength,
    /// A certificate that is not valid DER X.509 (and none of the more
    /// precise certificate events below applies).
    InvalidCertificate,
    /// A certificate whose DER claims more bytes than it has.
    CertificateInvalidLength,
    /// A certificate whose DER structure is malformed.
    CertificateInvalidDer,
    /// A certificate with an invalid version field.
    CertificateInvalidVersion,
    /// A certificate with an invalid serial number.
    CertificateInvalidSerial,
    /// A certificate with an invalid signature algorithm identifier.
    CertificateInvalidAlgorithmIdentifier,
    /// A certificate with an invalid subject or issuer name.
    CertificateInvalidX509Name,
    /// A certificate with an invalid validity date.
    CertificateInvalidDate,
    /// A certificate with invalid extensions.
    CertificateInvalidExtensions,
    /// More than one server_name extension, or several names in it.
    MultipleSni,
    /// An extension whose length runs past its container.
    InvalidExtension,
    /// More certificates than [`TlsConfig::max_certificates`].
    TooManyCertificates,
}

impl TlsAnomaly {
    /// The `app-layer-event:tls.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            TlsAnomaly::InvalidRecordLength => "invalid_record_length",
            TlsAnomaly::InvalidRecordType => "invalid_record_type",
            TlsAnomaly::InvalidRecordVersion => "invalid_record_version",
            TlsAnomaly::InvalidHandshakeMessage => "invalid_handshake_message",
            TlsAnomaly::HandshakeInvalidLength => "handshake_invalid_length",
            TlsAnomaly::InvalidCertificate => "invalid_certificate",
            TlsAnomaly::CertificateInvalidLength => "certificate_invalid_length",
            TlsAnomaly::CertificateInvalidDer => "certificate_invalid_der",
            TlsAnomaly::CertificateInvalidVersion => "certificate_invalid_version",
            TlsAnomaly::CertificateInvalidSerial => "certificate_invalid_serial",
            TlsAnomaly::CertificateInvalidAlgorithmIdentifier => {
                "certificate_invalid_algorithmidentifier"
            }
            TlsAnomaly::CertificateInvalidX509Name => "certificate_invalid_x509name",
            TlsAnomaly::CertificateInvalidDate => "certificate_invalid_date",
            TlsAnomaly::CertificateInvalidExtensions => "certificate_invalid_extensions",
            TlsAnomaly::MultipleSni => "multiple_sni",
            TlsAnomaly::InvalidExtension => "invalid_extension",
            TlsAnomaly::TooManyCertificates => "too_many_certificates",
        }
    }
}

/// Limits of the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Largest handshake message buffered (default 256 KiB: a long
    /// certificate chain is ~20 KiB).
    pub max_handshake: usize,
    /// Certificates decoded per chain (default 16).
    pub max_certificates: usize,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            max_handshake: 256 * 1024,
            max_certificates: 16,
        }
    }
}

/// The ClientHello fields rules and logs use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 hellos).
    pub version: u16,
    /// Cipher suites in order.
    pub ciphers: Vec<u16>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// supported_groups (elliptic curves).
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub point_formats: Vec<u8>,
    /// supported_versions.
    pub supported_versions: Vec<u16>,
    /// signature_algorithms, in order.
    pub signature_algorithms: Vec<u16>,
    /// The protocols of the ALPN extension, in order.
    pub alpn: Vec<Vec<u8>>,
    /// The legacy session id (non-empty when the client offers to resume).
    pub session_id: Vec<u8>,
    /// The first host_name of the server_name extension.
    pub sni: Option<Vec<u8>>,
    /// The 32-byte client random (`tls.random`; its first 4 bytes are
    /// `tls.random_time`, the rest `tls.random_bytes`).
    pub random: [u8; 32],
}

/// The session_ticket extension (RFC 5077).
const EXT_SESSION_TICKET: u16 = 35;
/// The supported_versions extension (RFC 8446).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// GREASE values (RFC 8701: 0x0a0a, 0x1a1a, ..., 0xfafa) that JA3 skips.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join("-")
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ClientHello {
    /// The JA3 string: version, ciphers, extensions, groups and point
    /// formats, decimal, GREASE values left out.
    pub fn ja3_string(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.version,
            join(self.ciphers.iter().filter(|c| !is_grease(**c))),
            join(self.extensions.iter().filter(|e| !is_grease(**e))),
            join(self.groups.iter().filter(|g| !is_grease(**g))),
            join(self.point_formats.iter()),
        )
    }

    /// The JA3 hash: MD5 of [`ClientHello::ja3_string`], lowercase hex.
    pub fn ja3_hash(&self) -> String {
        md5_hex(&self.ja3_string())
    }

    /// The JA4 fingerprint (FoxIO's JA4 TLS client) as Suricata computes
    /// it: `proto` is `t` for TLS over TCP, `q` for QUIC. The first part
    /// gives the protocol, the highest version offered (legacy version
    /// and supported_versions; `00` unless SSL 3.0 to TLS 1.3), `d`/`i`
    /// for an SNI or none, the cipher and extension counts (at most 99)
    /// and the first ALPN protocol's first and last bytes (`00` without
    /// one of 2 bytes or more); the second the truncated SHA-256 of the
    /// sorted ciphers (4 hex digits each, comma-separated); the third that
    /// of the sorted extensions, SNI and ALPN left out, `_` and the
    /// signature algorithms in order. GREASE values are left out
    /// everywhere.
    pub fn ja4(&self, proto: char) -> String {
        let version = std::iter::once(self.version)
            .chain(self.supported_versions.iter().copied())
            .filter(|v| !is_grease(*v))
            .max();
        let version = match version {
            Some(0x0304) => "13",
            Some(0x0303) => "12",
            Some(0x0302) => "11",
            Some(0x0301) => "10",
            Some(0x0300) => "s3",
            _ => "00",
        };
        let sni = if self.extensions.contains(&0) {
            'd'
        } else {
            'i'
        };
        let mut ciphers: Vec<u16> = self
            .ciphers
            .iter()
            .copied()
            .filter(|c| !is_grease(*c))
            .collect();
        let exts: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|e| !is_grease(*e))
            .collect();
        let alpn = match self.alpn.first().map(Vec::as_slice) {
            Some(&[a, b]) if is_grease(u16::from_be_bytes([a, b])) => "00".to_string(),
            Some(a @ [first, .., last]) if a.len() > 1 => {
                format!("{}{}", char::from(*first), char::from(*last))
            }
            _ => "00".to_string(),
        };
        let hex_list = |v: &[u16]| {
            v.iter()
                .map(|x| format!("{x:04x}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let truncated_sha256 = |s: &str| -> String {
            sha2::Sha256::digest(s.as_bytes())
                .iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        ciphers.sort_unstable();
        let mut sorted_exts: Vec<u16> = exts
            .iter()
            .copied()
            .filter(|e| *e != 0 && *e != 16)
            .collect();
        sorted_exts.sort_unstable();
        let sigs: Vec<u16> = self
            .signature_algorithms
            .iter()
            .copied()
            .filter(|s| !is_grease(*s))
            .collect();
        format!(
            "{proto}{version}{sni}{:02}{:02}{alpn}_{}_{}",
            ciphers.len().min(99),
            exts.len().min(99),
            truncated_sha256(&hex_list(&ciphers)),
            truncated_sha256(&format!("{}_{}", hex_list(&sorted_exts), hex_list(&sigs))),
        )
    }
}

/// The ServerHello fields rules and logs use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: u16,
    /// The chosen cipher suite.
    pub cipher: u16,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// supported_versions' selected version (TLS 1.3).
    pub selected_version: Option<u16>,
    /// The legacy session id (equal to the client's when it resumes).
    pub session_id: Vec<u8>,
    /// The 32-byte server random (`tls.random` on the server's side).
    pub random: [u8; 32],
}

impl ServerHello {
    /// The negotiated version: supported_versions when present.
    pub fn negotiated_version(&self) -> u16 {
        self.selected_version.unwrap_or(self.version)
    }

    /// The JA3S string: version, cipher, extensions.
    pub fn ja3s_string(&self) -> String {
        format!(
            "{},{},{}",
            self.version,
            self.cipher,
            join(self.extensions.iter().filter(|e| !is_grease(**e)))
        )
    }

    /// The JA3S hash.
    pub fn ja3s_hash(&self) -> String {
        md5_hex(&self.ja3s_string())
    }
}

/// One certificate of the server's chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate {
    /// The DER bytes (`tls.certs`).
    pub der: Vec<u8>,
    /// Subject DN as Suricata prints it.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, uppercase hex bytes joined by `:`.
    pub serial: String,
    /// SHA-1 of the DER, lowercase hex bytes joined by `:`.
    pub fingerprint: String,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
}

impl Certificate {
    /// Parses a DER certificate; on failure, the event that names what
    /// was wrong, as Suricata classifies the X.509 parser's errors (a DER
    /// element longer than its data is `certificate_invalid_length`).
    pub fn parse(der: &[u8]) -> Result<Certificate, TlsAnomaly> {
        use x509_parser::error::X509Error as E;
        let (_, x) = x509_parser::parse_x509_certificate(der).map_err(|e| match e {
            x509_parser::nom::Err::Incomplete(_) => TlsAnomaly::CertificateInvalidLength,
            x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => match e {
                E::InvalidVersion => TlsAnomaly::CertificateInvalidVersion,
                E::InvalidSerial => TlsAnomaly::CertificateInvalidSerial,
                E::InvalidAlgorithmIdentifier => TlsAnomaly::CertificateInvalidAlgorithmIdentifier,
                E::InvalidX509Name => TlsAnomaly::CertificateInvalidX509Name,
                E::InvalidDate => TlsAnomaly::CertificateInvalidDate,
                E::InvalidExtensions => TlsAnomaly::CertificateInvalidExtensions,
                E::Der(_) => TlsAnomaly::CertificateInvalidDer,
                _ => TlsAnomaly::InvalidCertificate,
            },
        })?;
        let serial = x
            .raw_serial()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let fingerprint = Sha1::digest(der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        Ok(Certificate {
            der: der.to_vec(),
            subject: x.subject().to_string(),
            issuer: x.issuer().to_string(),
            serial,
            fingerprint,
            not_before: x.validity().not_before.timestamp(),
            not_after: x.validity().not_after.timestamp(),
        })
    }
}

/// Handshake message types a TLS (or DTLS) peer may send: hello request,
/// client/server hello, hello verify request, new session ticket,
/// encrypted extensions, certificate, server key exchange, certificate
/// request, server hello done, certificate verify, client key exchange,
/// finished, certificate URL and status, key update, compressed
/// certificate.
fn is_handshake_type(kind: u8) -> bool {
    matches!(kind, 0..=4 | 8 | 11..=16 | 20..=22 | 24 | 25)
}

/// What became ready for inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsEvent {
    /// The ClientHello was parsed (request-side buffers: SNI, JA3).
    ClientHello,
    /// The server's side of the handshake is as complete as it will get in
    /// clear text (its certificate chain, its ServerHelloDone, or the start
    /// of encryption after a ServerHello): response-side buffers.
    ServerDone,
    /// The client sent its certificate chain (client authentication):
    /// the certificate buffers of the client's side.
    ClientCertificate,
}

/// Per-direction record and handshake reassembly.
#[derive(Debug, Default)]
struct Side {
    /// Bytes of an incomplete record (header included).
    record: Vec<u8>,
    /// Bytes of an incomplete handshake message.
    handshake: Vec<u8>,
    /// Bytes of the current record still to skip without buffering.
    skip: usize,
    /// Encryption started: handshake records are opaque from here on.
    encrypted: bool,
    /// Parsing gave up (not TLS, or a limit was hit).
    stopped: bool,
}

/// The TLS state of one connection.
#[derive(Debug, Default)]
pub struct TlsSession {
    cfg: TlsConfig,
    sides: [Side; 2],
    /// The client's hello.
    pub client_hello: Option<ClientHello>,
    /// The server's hello.
    pub server_hello: Option<ServerHello>,
    /// The server's certificate chain (TLS 1.2 and below).
    pub certificates: Vec<Certificate>,
    /// The client's certificate chain, when the server asked for one.
    pub client_certificates: Vec<Certificate>,
    /// Anomalies, each kind once, in order of first occurrence.
    pub anomalies: Vec<TlsAnomaly>,
    /// How many times anomalies occurred in all.
    pub anomaly_count: u64,
    /// How many kinds of anomaly `anomalies` held when the ClientHello was
    /// parsed: the ones after it were raised later (mostly by the server),
    /// after the request side was inspected.
    pub anomalies_before_client_hello: usize,
    server_done: bool,
    /// The version field of the server's last record header before its
    /// hello: what Suricata reports as the version when no ServerHello
    /// came (a handshake failure alert, say).
    server_record_version: u16,
}

impl TlsSession {
    /// A session with the given limits.
    pub fn new(cfg: TlsConfig) -> Self {
        TlsSession {
            cfg,
            ..TlsSession::default()
        }
    }

    fn flag(&mut self, a: TlsAnomaly) {
        self.anomaly_count += 1;
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }

    fn side(&mut self, dir: TlsDirection) -> &mut Side {
        let [c, s] = &mut self.sides;
        match dir {
            TlsDirection::ToServer => c,
            TlsDirection::ToClient => s,
        }
    }

    /// Whether a direction stopped being parsed (a limit or non-TLS data).
    pub fn stopped(&self, dir: TlsDirection) -> bool {
        let [c, s] = &self.sides;
        match dir {
            TlsDirection::ToServer => c.stopped,
            TlsDirection::ToClient => s.stopped,
        }
    }

    /// Whether the client resumes a session: it offered a session ticket,
    /// or the server echoed its session id. Suricata logs such a
    /// handshake even though no certificate is seen.
    pub fn session_resumed(&self) -> bool {
        let ticket = self
            .client_hello
            .as_ref()
            .is_some_and(|c| c.extensions.contains(&EXT_SESSION_TICKET));
        let echoed = match (&self.client_hello, &self.server_hello) {
            (Some(c), Some(s)) => !c.session_id.is_empty() && c.session_id == s.session_id,
            _ => false,
        };
        ticket || echoed
    }

    /// Whether the server chose TLS 1.3 (or one of its drafts), whose
    /// certificate is encrypted: the handshake is logged without one.
    pub fn tls13_chosen(&self) -> bool {
        let Some(sh) = &self.server_hello else {
            return false;
        };
        let offered = self
            .client_hello
            .as_ref()
            .is_some_and(|c| c.extensions.contains(&EXT_SUPPORTED_VERSIONS));
        sh.version == 0x0304
            || sh.version >> 8 == 0x7f
            || (offered && sh.selected_version.is_some_and(|v| v > 0x0303))
    }

    /// Whether the handshake gets an EVE `tls` record, by Suricata 7's
    /// rule: a server certificate with subject and issuer, a resumed
    /// session, or TLS 1.3. A lone ClientHello that does not offer to
    /// resume is not logged.
    pub fn loggable(&self) -> bool {
        let cert = self
            .certificates
            .first()
            .is_some_and(|c| !c.subject.is_empty() && !c.issuer.is_empty());
        cert || self.session_resumed() || self.tls13_chosen()
    }

    /// The version Suricata reports for the server's side: the
    /// ServerHello's (its supported_versions choice when present; a bare
    /// 0x0304 legacy version is an early draft), else the version field
    /// of the server's last record, else 0 (undetermined).
    pub fn server_version(&self) -> u16 {
        match &self.server_hello {
            Some(sh) => match sh.selected_version {
                Some(v) => v,
                None if (0x7f01..0x7f10).contains(&sh.version) || sh.version == 0x0304 => 0x7f01,
                None => sh.version,
            },
            None => self.server_record_version,
        }
    }

    /// Bytes held for reassembly in both directions (records and
    /// handshake messages): bounded by 2 × (65,540 + the handshake cap).
    pub fn buffered(&self) -> usize {
        self.sides
            .iter()
            .map(|s| s.record.len() + s.handshake.len())
            .sum()
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn feed(&mut self, dir: TlsDirection, mut data: &[u8], events: &mut Vec<TlsEvent>) {
        while !data.is_empty() {
            let side = self.side(dir);
            if side.stopped {
                return;
            }
            if side.skip > 0 {
                let n = side.skip.min(data.len());
                side.skip -= n;
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            // Complete the 5-byte header first.
            if side.record.len() < 5 {
                let n = (5 - side.record.len()).min(data.len());
                side.record.extend_from_slice(data.get(..n).unwrap_or(&[]));
                data = data.get(n..).unwrap_or(&[]);
                if side.record.len() < 5 {
                    return;
                }
                let Some(&[ctype, major, minor, hi, lo]) = side.record.get(..5) else {
                    return;
                };
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                let encrypted = side.encrypted;
                if !(20..=24).contains(&ctype) {
                    let side = self.side(dir);
                    side.stopped = true;
                    side.record = Vec::new();
                    side.handshake = Vec::new();
                    self.flag(TlsAnomaly::InvalidRecordType);
                    return;
                }
                if major != 3 {
                    self.flag(TlsAnomaly::InvalidRecordVersion);
                }
                if dir == TlsDirection::ToClient && self.server_hello.is_none() {
                    self.server_record_version = u16::from_be_bytes([major, minor]);
                }
                if len > MAX_TLS_RECORD {
                    self.flag(TlsAnomaly::InvalidRecordLength);
                }
                // Records whose content is not needed are skipped, not
                // buffered: encrypted data, alerts, heartbeats.
                let wanted = ctype == 22 && !encrypted;
                if ctype == 20 || ctype == 23 {
                    self.side(dir).encrypted = true;
                    if dir == TlsDirection::ToClient {
                        self.server_finished(events);
                    }
                }
                let side = self.side(dir);
                if !wanted {
                    side.record.clear();
                    side.skip = len;
                    continue;
                }
                if len == 0 {
                    side.record.clear();
                }
                continue;
            }
            let Some(&[_, _, _, hi, lo]) = side.record.get(..5) else {
                return;
            };
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let need = 5 + len - side.record.len();
            let n = need.min(data.len());
            side.record.extend_from_slice(data.get(..n).unwrap_or(&[]));
            data = data.get(n..).unwrap_or(&[]);
            if side.record.len() < 5 + len {
                return;
            }
            let record = std::mem::take(&mut side.record);
            self.handshake_bytes(dir, record.get(5..).unwrap_or(&[]), events);
        }
    }

    /// Feeds handshake-layer bytes of one direction that come without TLS
    /// records around them: QUIC carries the handshake messages in its
    /// CRYPTO frames (RFC 9001 §4), in order once reassembled. Messages are
    /// reassembled and parsed as for [`TlsSession::feed`].
    pub fn feed_handshake(&mut self, dir: TlsDirection, data: &[u8], events: &mut Vec<TlsEvent>) {
        if self.side(dir).stopped || data.is_empty() {
            return;
        }
        self.handshake_bytes(dir, data, events);
    }

    /// Appends a handshake record's payload and parses every complete
    /// handshake message.
    fn handshake_bytes(&mut self, dir: TlsDirection, payload: &[u8], events: &mut Vec<TlsEvent>) {
        let max = self.cfg.max_handshake;
        let side = self.side(dir);
        side.handshake.extend_from_slice(payload);
        let mut buf = std::mem::take(&mut side.handshake);
        let mut start = 0usize;
        while let Some(&[kind, a, b, c]) = buf.get(start..start + 4) {
            // A message type TLS does not define: the rest of the record
            // is skipped (as Suricata does), not buffered for a length
            // that is likely garbage too.
            if !is_handshake_type(kind) {
                self.flag(TlsAnomaly::InvalidHandshakeMessage);
                self.side(dir).handshake = Vec::new();
                return;
            }
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > max {
                self.flag(TlsAnomaly::HandshakeInvalidLength);
                let side = self.side(dir);
                side.stopped = true;
                side.handshake = Vec::new();
                return;
            }
            let Some(msg) = buf.get(start..start + 4 + len) else {
                break;
            };
            self.message(dir, msg, events);
            start += 4 + len;
        }
        buf.drain(..start.min(buf.len()));
        if self.side(dir).encrypted {
            buf.clear();
        }
        self.side(dir).handshake = buf;
    }

    /// Parses one whole handshake message.
    fn message(&mut self, dir: TlsDirection, msg: &[u8], events: &mut Vec<TlsEvent>) {
        use tls_parser::{TlsMessage, TlsMessageHandshake as H};
        if dir == TlsDirection::ToClient {
            if let Some((hello, ext)) = draft_server_hello(msg) {
                self.server_hello(hello, ext, events);
                return;
            }
        }
        let parsed = match tls_parser::parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(h))) => h,
            _ => {
                self.flag(TlsAnomaly::InvalidHandshakeMessage);
                return;
            }
        };
        match (dir, parsed) {
            (TlsDirection::ToServer, H::ClientHello(ch)) => {
                if self.client_hello.is_some() {
                    return;
                }
                let mut hello = ClientHello {
                    version: ch.version.0,
                    ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
                    random: ch.random.try_into().unwrap_or([0; 32]),
                    session_id: ch.session_id.unwrap_or(&[]).to_vec(),
                    ..ClientHello::default()
                };
                let mut anomalies = Vec::new();
                let mut sni_anomalies = Vec::new();
                walk_extensions(ch.ext.unwrap_or(&[]), &mut anomalies, |t, data| {
                    hello.extensions.push(t);
                    match t {
                        0 => client_sni(data, &mut hello, &mut sni_anomalies),
                        10 => hello.groups = u16_list(data.get(2..).unwrap_or(&[])),
                        11 => {
                            hello.point_formats = data.get(1..).unwrap_or(&[]).to_vec();
                        }
                        13 => {
                            hello.signature_algorithms = u16_list(data.get(2..).unwrap_or(&[]));
                        }
                        16 => hello.alpn = alpn_list(data),
                        43 => {
                            hello.supported_versions = u16_list(data.get(1..).unwrap_or(&[]));
                        }
                        _ => {}
                    }
                });
                for a in anomalies.into_iter().chain(sni_anomalies) {
                    self.flag(a);
                }
                self.client_hello = Some(hello);
                self.anomalies_before_client_hello = self.anomalies.len();
                events.push(TlsEvent::ClientHello);
            }
            (TlsDirection::ToClient, H::ServerHello(sh)) => {
                let hello = ServerHello {
                    version: sh.version.0,
                    cipher: sh.cipher.0,
                    random: sh.random.try_into().unwrap_or([0; 32]),
                    session_id: sh.session_id.unwrap_or(&[]).to_vec(),
                    ..ServerHello::default()
                };
                self.server_hello(hello, sh.ext.unwrap_or(&[]), events);
            }
            (TlsDirection::ToClient, H::Certificate(c)) => {
                if !self.certificates.is_empty() {
                    return;
                }
                self.certificates = self.chain(&c.cert_chain);
                self.server_finished(events);
            }
            (TlsDirection::ToServer, H::Certificate(c)) => {
                if !self.client_certificates.is_empty() || c.cert_chain.is_empty() {
                    return;
                }
                self.client_certificates = self.chain(&c.cert_chain);
                events.push(TlsEvent::ClientCertificate);
            }
            (TlsDirection::ToClient, H::ServerDone(_)) => self.server_finished(events),
            _ => {}
        }
    }

    /// Parses a certificate chain, at most `max_certificates` of it; one
    /// that does not parse is kept as its DER bytes.
    fn chain(&mut self, raw_chain: &[tls_parser::RawCertificate<'_>]) -> Vec<Certificate> {
        let max = self.cfg.max_certificates;
        if raw_chain.len() > max {
            self.flag(TlsAnomaly::TooManyCertificates);
        }
        let mut out = Vec::new();
        for raw in raw_chain.iter().take(max) {
            match Certificate::parse(raw.data) {
                Ok(cert) => out.push(cert),
                Err(anomaly) => {
                    self.flag(anomaly);
                    out.push(Certificate {
                        der: raw.data.to_vec(),
                        ..Certificate::default()
                    });
                }
            }
        }
        out
    }

    /// Takes the server's hello and its extensions block.
    fn server_hello(&mut self, mut hello: ServerHello, ext: &[u8], events: &mut Vec<TlsEvent>) {
        let mut anomalies = Vec::new();
        walk_extensions(ext, &mut anomalies, |t, data| {
            hello.extensions.push(t);
            if let (EXT_SUPPORTED_VERSIONS, Some(&[hi, lo])) = (t, data.get(..2)) {
                hello.selected_version = Some(u16::from_be_bytes([hi, lo]));
            }
        });
        for a in anomalies {
            self.flag(a);
        }
        // In TLS 1.3 everything after the ServerHello is encrypted.
        let tls13 = hello.selected_version.is_some_and(|v| v > 0x0303)
            || is_tls13_draft_hello(hello.version);
        self.server_hello = Some(hello);
        if tls13 {
            self.side(TlsDirection::ToClient).encrypted = true;
            self.server_finished(events);
        }
    }

    /// Reports the server side complete, once, provided it said hello.
    fn server_finished(&mut self, events: &mut Vec<TlsEvent>) {
        if !self.server_done && self.server_hello.is_some() {
            self.server_done = true;
            events.push(TlsEvent::ServerDone);
        }
    }

    /// The connection ended: a server side never reported complete is
    /// reported now (even without a ServerHello, so that a connection
    /// that only saw a ClientHello still gets its record logged).
    pub fn finish(&mut self, events: &mut Vec<TlsEvent>) {
        if !self.server_done && (self.server_hello.is_some() || self.client_hello.is_some()) {
            self.server_done = true;
            events.push(TlsEvent::ServerDone);
        }
    }
}

/// Whether a ServerHello's version field names TLS 1.3 itself or one of
/// its drafts before the 22nd, whose hello has neither session id nor
/// compression method.
fn is_tls13_draft_hello(version: u16) -> bool {
    version == 0x0304 || (0x7f00..=0x7f15).contains(&version)
}

/// A ServerHello in the TLS 1.3 draft shape (version, random, cipher,
/// extensions), which tls-parser reads only for draft 18. `msg` is the
/// whole handshake message, header included.
fn draft_server_hello(msg: &[u8]) -> Option<(ServerHello, &[u8])> {
    let &[2, _, _, _, v1, v2] = msg.get(..6)? else {
        return None;
    };
    let body = msg.get(6..)?;
    let version = u16::from_be_bytes([v1, v2]);
    if !is_tls13_draft_hello(version) {
        return None;
    }
    let random: [u8; 32] = body.get(..32)?.try_into().ok()?;
    let &[c1, c2] = body.get(32..34)? else {
        return None;
    };
    let ext = match body.get(34..36) {
        Some(&[l1, l2]) => body.get(36..36 + usize::from(u16::from_be_bytes([l1, l2])))?,
        _ => &[],
    };
    let hello = ServerHello {
        version,
        cipher: u16::from_be_bytes([c1, c2]),
        random,
        ..ServerHello::default()
    };
    Some((hello, ext))
}

/// Calls `f(type, data)` for each extension of an extensions block
/// (without its 2-byte total length prefix, as tls-parser hands it over).
fn walk_extensions(mut ext: &[u8], anomalies: &mut Vec<TlsAnomaly>, mut f: impl FnMut(u16, &[u8])) {
    while let Some(&[t1, t2, l1, l2]) = ext.get(..4) {
        let len = usize::from(u16::from_be_bytes([l1, l2]));
        let Some(data) = ext.get(4..4 + len) else {
            anomalies.push(TlsAnomaly::InvalidExtension);
            return;
        };
        f(u16::from_be_bytes([t1, t2]), data);
        ext = ext.get(4 + len..).unwrap_or(&[]);
    }
    if !ext.is_empty() {
        anomalies.push(TlsAnomaly::InvalidExtension);
    }
}

/// A list of big-endian u16 (an odd trailing byte is ignored).
fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect()
}

/// The ALPN extension (RFC 7301): a 2-byte list length, then protocol
/// names each prefixed by a 1-byte length; a name running past the list
/// ends it.
fn alpn_list(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut list = data.get(2..).unwrap_or(&[]);
    while let Some((&len, rest)) = list.split_first() {
        let Some(name) = rest.get(..usize::from(len)) else {
            break;
        };
        out.push(name.to_vec());
        list = rest.get(usize::from(len)..).unwrap_or(&[]);
    }
    out
}

/// The server_name extension: a list of (type, name); the first host_name
/// (type 0) is the SNI.
fn client_sni(data: &[u8], hello: &mut ClientHello, anomalies: &mut Vec<TlsAnomaly>) {
    if hello.sni.is_some() {
        anomalies.push(TlsAnomaly::MultipleSni);
        return;
    }
    let mut list = data.get(2..).unwrap_or(&[]);
    while let Some(&[kind, hi, lo]) = list.get(..3) {
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(name) = list.get(3..3 + len) else {
            anomalies.push(TlsAnomaly::InvalidExtension);
            return;
        };
        if kind == 0 {
            if hello.sni.is_some() {
                anomalies.push(TlsAnomaly::MultipleSni);
            } else {
                hello.sni = Some(name.to_vec());
            }
        }
        list = list.get(3 + len..).unwrap_or(&[]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A ClientHello built by hand after RFC 8446 §4.1.2 with GREASE
    /// values, SNI "example.com", groups, point formats and
    /// supported_versions.
    fn client_hello() -> Vec<u8> {
        let mut ext = Vec::new();
        let mut push = |t: u16, d: &[u8]| {
            ext.extend_from_slice(&t.to_be_bytes());
            ext.extend_from_slice(&(d.len() as u16).to_be_bytes());
            ext.extend_from_slice(d);
        };
        push(0x0a0a, &[]);
        let name = b"example.com";
        let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        push(0, &sni);
        push(10, &[0, 6, 0x1a, 0x1a, 0, 29, 0, 23]);
        push(11, &[1, 0]);
        push(43, &[4, 3, 4, 3, 3]);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 6, 0x2a, 0x2a, 0x13, 0x01, 0xc0, 0x2f]);
        body.extend_from_slice(&[1, 0]); // compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        record(22, &hs)
    }

    fn record(ctype: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![ctype, 3, 1];
        r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn client_hello_sni_and_ja3() {
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        // One byte at a time: record and handshake reassembly.
        for b in client_hello() {
            s.feed(TlsDirection::ToServer, &[b], &mut ev);
        }
        assert_eq!(ev, vec![TlsEvent::ClientHello]);
        let ch = s.client_hello.as_ref().unwrap();
        assert_eq!(ch.sni.as_deref(), Some(&b"example.com"[..]));
        assert_eq!(ch.supported_versions, vec![0x0304, 0x0303]);
        // GREASE (0x2a2a cipher, 0x0a0a extension, 0x1a1a group) left out.
        assert_eq!(ch.ja3_string(), "771,4865-49199,0-10-11-43,29-23,0");
        // Python: hashlib.md5(b"771,4865-49199,0-10-11-43,29-23,0").hexdigest()
        assert_eq!(ch.ja3_hash(), "cefebb3c24208325c13a9ad9b14b83c9");
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
    }

    /// The server flight of suricata-verify's bug-1450 captures: a
    /// ServerHello, a Certificate message whose one certificate is cut
    /// DER (`cert` is its 9 bytes), then a message of undefined type 0x84.
    fn cut_certificate_flight(cert: &[u8; 9]) -> Vec<u8> {
        let mut body = vec![2, 0, 0, 0x4d, 3, 3];
        body.extend_from_slice(&[0x55; 32]);
        body.push(32);
        body.extend_from_slice(&[0xfa; 32]);
        body.extend_from_slice(&[0xc0, 0x14, 0, 0, 5, 0xff, 1, 0, 1, 0]);
        body.extend_from_slice(&[11, 0, 0, 15, 0, 0, 12, 0, 0, 9]);
        body.extend_from_slice(cert);
        body.extend_from_slice(&[0x84, 0xff, 0xff, 0xff]);
        body.extend_from_slice(&[0x41; 64]);
        record(22, &body)
    }

    #[test]
    fn cut_certificates_and_undefined_message_types_raise_suricatas_events() {
        // DER content cut short (bug-1450-02) and a DER header cut short
        // (bug-1450-03).
        for (cert, event) in [
            (
                [0x30, 6, 0x30, 0x84, 0xff, 0xff, 0xff, 0xfa, 4],
                TlsAnomaly::InvalidCertificate,
            ),
            (
                [0x30, 5, 0x30, 0x84, 0xff, 0xff, 0xff, 0xfa, 4],
                TlsAnomaly::CertificateInvalidLength,
            ),
        ] {
            let mut s = TlsSession::default();
            let mut ev = Vec::new();
            s.feed(
                TlsDirection::ToClient,
                &cut_certificate_flight(&cert),
                &mut ev,
            );
            assert!(s.anomalies.contains(&event), "{:?}", s.anomalies);
            assert!(s.anomalies.contains(&TlsAnomaly::InvalidHandshakeMessage));
            assert!(!s.anomalies.contains(&TlsAnomaly::HandshakeInvalidLength));
            assert!(s.server_hello.is_some());
        }
    }

    #[test]
    fn handshake_claiming_16_mib_stops_buffering() {
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        // A handshake header claiming 0xffffff bytes, then more records.
        let mut data = record(22, &[11, 0xff, 0xff, 0xff, 0, 0, 0]);
        for _ in 0..100 {
            data.extend_from_slice(&record(22, &[0u8; 16000]));
        }
        s.feed(TlsDirection::ToClient, &data, &mut ev);
        assert!(s.anomalies.contains(&TlsAnomaly::HandshakeInvalidLength));
        assert!(s.stopped(TlsDirection::ToClient));
        let side = &s.sides[1];
        assert!(side.record.capacity() < 64 * 1024 && side.handshake.capacity() < 64 * 1024);
        // The other direction still parses.
        s.feed(TlsDirection::ToServer, &client_hello(), &mut ev);
        assert_eq!(ev, vec![TlsEvent::ClientHello]);
    }

    #[test]
    fn oversized_record_is_flagged_and_skipped() {
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        let mut data = record(23, &vec![0u8; 40_000]);
        data.extend_from_slice(&client_hello());
        s.feed(TlsDirection::ToServer, &data, &mut ev);
        assert!(s.anomalies.contains(&TlsAnomaly::InvalidRecordLength));
    }

    #[test]
    fn not_tls_stops() {
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        s.feed(TlsDirection::ToServer, b"GET / HTTP/1.1\r\n\r\n", &mut ev);
        assert!(s.stopped(TlsDirection::ToServer));
        assert_eq!(s.anomalies, vec![TlsAnomaly::InvalidRecordType]);
    }

    #[test]
    fn hello_randoms_are_kept() {
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        s.feed(TlsDirection::ToServer, &client_hello(), &mut ev);
        assert_eq!(s.client_hello.as_ref().unwrap().random, [0x11; 32]);
        s.feed(TlsDirection::ToClient, &server_hello(&[]), &mut ev);
        let sh = s.server_hello.as_ref().unwrap();
        assert_eq!(sh.cipher, 0xc02f);
        // The bytes either side (version 3, session id length 0) differ,
        // so an off-by-one would show.
        assert_eq!(sh.random, [0x22; 32]);
    }

    /// A handshake message of type `t` around `body`, in a record.
    fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
        let mut hs = vec![t];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(body);
        record(22, &hs)
    }

    /// A TLS 1.2-shaped ServerHello with the given session id.
    fn server_hello(session_id: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x22; 32]);
        body.push(session_id.len() as u8);
        body.extend_from_slice(session_id);
        body.extend_from_slice(&[0xc0, 0x2f, 0, 0, 0]);
        handshake(2, &body)
    }

    /// A bare TLS 1.2 ClientHello: no extensions unless given.
    fn plain_client_hello(session_id: &[u8], ext: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(session_id.len() as u8);
        body.extend_from_slice(session_id);
        body.extend_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
        if !ext.is_empty() {
            body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
            body.extend_from_slice(ext);
        }
        handshake(1, &body)
    }

    #[test]
    fn lone_client_hello_is_not_logged_unless_it_offers_a_ticket() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[], &[]),
            &mut ev,
        );
        assert!(!s.loggable());
        let mut s = TlsSession::default();
        // An empty session_ticket extension (type 35).
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[], &[0, 35, 0, 0]),
            &mut ev,
        );
        assert!(s.session_resumed() && s.loggable());
    }

    #[test]
    fn echoed_session_id_is_a_resumption() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[7; 32], &[]),
            &mut ev,
        );
        s.feed(TlsDirection::ToClient, &server_hello(&[8; 32]), &mut ev);
        assert!(!s.session_resumed() && !s.loggable());
        let mut s = TlsSession::default();
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[7; 32], &[]),
            &mut ev,
        );
        s.feed(TlsDirection::ToClient, &server_hello(&[7; 32]), &mut ev);
        assert!(s.session_resumed() && s.loggable());
        assert_eq!(s.server_version(), 0x0303);
    }

    #[test]
    fn tls13_is_logged_without_certificate() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        s.feed(TlsDirection::ToServer, &client_hello(), &mut ev);
        // ServerHello choosing 0x0304 through supported_versions.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x22; 32]);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
        s.feed(TlsDirection::ToClient, &handshake(2, &body), &mut ev);
        assert!(s.tls13_chosen() && s.loggable());
        assert_eq!(s.server_version(), 0x0304);
    }

    #[test]
    fn draft_server_hello_without_session_id_is_read() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        s.feed(TlsDirection::ToServer, &client_hello(), &mut ev);
        // Draft 19: version 0x7f13, random, cipher, extensions; no
        // session id, no compression method.
        let mut body = vec![0x7f, 0x13];
        body.extend_from_slice(&[0x22; 32]);
        body.extend_from_slice(&[0x13, 0x01, 0, 0]);
        s.feed(TlsDirection::ToClient, &handshake(2, &body), &mut ev);
        assert_eq!(ev, vec![TlsEvent::ClientHello, TlsEvent::ServerDone]);
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
        assert_eq!(s.server_version(), 0x7f13);
        assert!(s.loggable());
    }

    #[test]
    fn version_without_server_hello_comes_from_the_server_record() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        assert_eq!(s.server_version(), 0);
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[], &[]),
            &mut ev,
        );
        // A handshake_failure alert in a TLS 1.2 record.
        s.feed(TlsDirection::ToClient, &[21, 3, 3, 0, 2, 2, 40], &mut ev);
        assert_eq!(s.server_version(), 0x0303);
    }

    #[test]
    fn client_certificate_is_kept_apart() {
        let mut ev = Vec::new();
        let mut s = TlsSession::default();
        s.feed(
            TlsDirection::ToServer,
            &plain_client_hello(&[], &[]),
            &mut ev,
        );
        // A Certificate message from the client holding one 3-byte
        // (unparsable) certificate.
        let body = [0, 0, 6, 0, 0, 3, 0xde, 0xad, 0xbe];
        s.feed(TlsDirection::ToServer, &handshake(11, &body), &mut ev);
        assert_eq!(ev, vec![TlsEvent::ClientHello, TlsEvent::ClientCertificate]);
        assert_eq!(s.client_certificates.len(), 1);
        assert_eq!(s.client_certificates[0].der, [0xde, 0xad, 0xbe]);
        assert!(s.certificates.is_empty());
        assert!(
            s.anomalies.contains(&TlsAnomaly::CertificateInvalidLength),
            "{:?}",
            s.anomalies
        );
        // An empty client chain (no certificate to offer) is no event.
        let mut s = TlsSession::default();
        let mut ev = Vec::new();
        s.feed(TlsDirection::ToServer, &handshake(11, &[0, 0, 0]), &mut ev);
        assert!(ev.is_empty() && s.client_certificates.is_empty());
    }

    #[test]
    fn ja4_of_an_empty_hello_and_of_one_with_everything() {
        // SHA-256("") and SHA-256("_") start e3b0c44298fc and d2e2adf7177b.
        let empty = ClientHello::default();
        assert_eq!(empty.ja4('t'), "t00i000000_e3b0c44298fc_d2e2adf7177b");
        let ch = ClientHello {
            version: 0x0303,
            ciphers: vec![0x0a0a, 0x1301, 0x1302],
            extensions: vec![0x2a2a, 0, 16, 43, 13],
            supported_versions: vec![0x0304, 0x0303],
            signature_algorithms: vec![0x0403],
            alpn: vec![b"h3".to_vec()],
            ..ClientHello::default()
        };
        let ja4 = ch.ja4('q');
        assert!(ja4.starts_with("q13d0204h3_"), "{ja4}");
        // Python: sha256(b"1301,1302").hexdigest()[:12] and
        // sha256(b"000d,002b_0403").hexdigest()[:12]
        let b = sha2::Sha256::digest(b"1301,1302");
        let c = sha2::Sha256::digest(b"000d,002b_0403");
        let hex = |d: &[u8]| {
            d.iter()
                .take(6)
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
        };
        assert_eq!(ja4, format!("q13d0204h3_{}_{}", hex(&b), hex(&c)));
    }

    #[test]
    fn grease_detection() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x3a3a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301));
    }
}
