//! Port-independent application protocol detection from the first bytes of
//! one direction of a TCP connection.
//!
//! Detection is deliberately cheap (a few byte comparisons) so that it can
//! run on every new flow: it looks only at fixed prefixes, never buffers, and
//! answers `None` when the bytes seen so far do not match any known start
//! (the caller may call again once more bytes arrived).

/// An application protocol recognised by [`detect_protocol`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppProto {
    /// HTTP/1.x: a request method followed by a space (to server) or a
    /// status line starting with `HTTP/1.` (to client).
    Http,
    /// TLS (or SSLv3): a handshake record header `0x16 0x03 0x00..=0x04`.
    Tls,
    /// SSH: the identification string starting with `SSH-`.
    Ssh,
    /// DNS (UDP or TCP on port 53; never returned by [`detect_protocol`],
    /// which knows no ports: the caller probes with [`crate::dns::probe`]).
    Dns,
    /// SMB1 (`\xffSMB`) or SMB2/3 (`\xfeSMB`) after a 4-byte NetBIOS session
    /// header whose type byte is 0 (session message).
    Smb,
    /// An FTP control connection: a client command Suricata looks for
    /// (`USER `, `PASS `, `PORT `, `FEAT`, any case) or a server greeting
    /// starting `220 (`.
    Ftp,
    /// DCERPC over TCP: a connection-oriented PDU header (version 5.0,
    /// a valid data representation).
    Dcerpc,
    /// SMTP: a client greeting or `QUIT` (`EHLO`, `HELO`, `QUIT`, any
    /// case), Suricata 7's patterns. The server's `220` banner alone does
    /// not decide, as FTP servers greet with `220` too.
    Smtp,
    /// Kerberos 5 over UDP or TCP on port 88 (never returned by
    /// [`detect_protocol`]: the caller probes with [`crate::krb5::probe`]
    /// or [`crate::krb5::probe_tcp`]).
    Krb5,
    /// SNMP over UDP to port 161 or 162 (never returned by
    /// [`detect_protocol`]: the caller probes with [`crate::snmp::probe`]).
    Snmp,
    /// An FTP data connection: never returned by [`detect_protocol`]; the
    /// caller knows it from a control connection's `RETR`/`STOR` and the
    /// data port announced before (Suricata's expectation).
    FtpData,
    /// IKE (ISAKMP over UDP port 500; never returned by
    /// [`detect_protocol`]: the caller probes with [`crate::ike::probe`]).
    Ike,
    /// RFB (VNC): the server's protocol version line `RFB xxx.yyy\n`
    /// (Suricata's pattern looks at the server's side only).
    Rfb,
    /// SIP: a request line ending in `SIP/2.0` (to server) or a status
    /// line starting with it (to client). Over UDP the caller probes the
    /// first datagram with [`crate::sip::probe`].
    Sip,
    /// QUIC over UDP to port 443 or 80 (never returned by
    /// [`detect_protocol`]: the caller probes with [`crate::quic::probe`]).
    Quic,
    /// HTTP/2 over cleartext TCP: the client connection preface
    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (prior knowledge, "h2c").
    Http2,
    /// NFS (ONC RPC program 100003) over UDP or TCP port 2049 (never
    /// returned by [`detect_protocol`]: the caller probes with
    /// [`crate::nfs::probe_udp`] or [`crate::nfs::probe_tcp`]).
    Nfs,
}

/// Request methods recognised at the start of a to-server direction. The
/// list covers RFC 9110, WebDAV and a few common extensions; a method must
/// be followed by a space to count, so `GETX` does not match.
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"CHECKOUT",
    b"MERGE",
    b"MKACTIVITY",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"M-SEARCH",
];

/// FTP's first bytes as Suricata 7 recognises them (its protocol
/// detection patterns, caseless).
fn is_ftp(b: &[u8], to_server: bool) -> bool {
    let starts = |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if to_server {
        [&b"USER "[..], b"PASS ", b"PORT ", b"FEAT"]
            .iter()
            .any(|p| starts(p))
    } else {
        starts(b"220 (")
    }
}

/// SMTP's first client bytes as Suricata 7 recognises them (`EHLO`,
/// `HELO` or `QUIT` at the start, caseless; nothing from the server).
fn is_smtp(b: &[u8], to_server: bool) -> bool {
    to_server
        && b.get(..4).is_some_and(|h| {
            [&b"EHLO"[..], b"HELO", b"QUIT"]
                .iter()
                .any(|p| h.eq_ignore_ascii_case(p))
        })
}

/// Guesses the application protocol of a direction from its first bytes.
///
/// `to_server` says which direction `first_bytes` came from: HTTP requests
/// and responses look different, the other protocols are recognised in
/// either direction (SSH and TLS servers also speak first-ish). The answer
/// depends only on the bytes, never on ports, so services on unusual ports
/// are still inspected. Returns `None` when nothing matches (yet).
pub fn detect_protocol(first_bytes: &[u8], to_server: bool) -> Option<AppProto> {
    let b = first_bytes;
    // Before HTTP: SIP requests share methods with HTTP (OPTIONS,
    // NOTIFY, SUBSCRIBE) and differ in their version.
    if crate::sip::probe(b, to_server) {
        return Some(AppProto::Sip);
    }
    if to_server && crate::http2::probe(b) {
        return Some(AppProto::Http2);
    }
    if is_http(b, to_server) {
        return Some(AppProto::Http);
    }
    if b.starts_with(b"SSH-") {
        return Some(AppProto::Ssh);
    }
    if let [0x16, 0x03, minor, ..] = b {
        if *minor <= 0x04 {
            return Some(AppProto::Tls);
        }
    }
    if let [0x00, _, _, _, 0xff | 0xfe, b'S', b'M', b'B', ..] = b {
        return Some(AppProto::Smb);
    }
    if !to_server && crate::rfb::probe(b) {
        return Some(AppProto::Rfb);
    }
    if is_ftp(b, to_server) {
        return Some(AppProto::Ftp);
    }
    if is_smtp(b, to_server) {
        return Some(AppProto::Smtp);
    }
    // rpc_vers 5, rpc_vers_minor 0, a PDU type, flags, then the data
    // representation: integer/character format nibbles 0 or 1, float
    // format 0..=3 (Suricata's probe).
    if let [5, 0, ptype, _, drep0, drep1, ..] = b {
        if *ptype <= 20 && drep0 & 0xee == 0 && *drep1 <= 3 {
            return Some(AppProto::Dcerpc);
        }
    }
    None
}

/// Whether `b` starts like an HTTP/1.x message of the given direction.
fn is_http(b: &[u8], to_server: bool) -> bool {
    if to_server {
        METHODS.iter().any(|m| {
            b.len() > m.len()
                && b.get(..m.len()).is_some_and(|p| p.eq_ignore_ascii_case(m))
                && matches!(b.get(m.len()), Some(b' ' | b'\t'))
        })
    } else {
        b.len() >= 7
            && b.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/1."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_protocol() {
        assert_eq!(
            detect_protocol(b"GET / HTTP/1.1\r\n", true),
            Some(AppProto::Http)
        );
        assert_eq!(detect_protocol(b"post /x", true), Some(AppProto::Http));
        assert_eq!(
            detect_protocol(b"HTTP/1.1 200 OK", false),
            Some(AppProto::Http)
        );
        assert_eq!(detect_protocol(b"HTTP/1.1 200 OK", true), None);
        assert_eq!(detect_protocol(b"GETX / HTTP/1.1", true), None);
        assert_eq!(detect_protocol(b"GET", true), None);
        assert_eq!(
            detect_protocol(&[0x16, 3, 1, 0, 0x50], true),
            Some(AppProto::Tls)
        );
        assert_eq!(detect_protocol(&[0x16, 3, 5, 0, 0x50], true), None);
        assert_eq!(
            detect_protocol(b"SSH-2.0-OpenSSH_9.6", false),
            Some(AppProto::Ssh)
        );
        assert_eq!(
            detect_protocol(b"\x00\x00\x00\x85\xffSMBr", true),
            Some(AppProto::Smb)
        );
        assert_eq!(
            detect_protocol(b"\x00\x00\x00\x85\xfeSMB@", false),
            Some(AppProto::Smb)
        );
        assert_eq!(detect_protocol(b"", true), None);
        assert_eq!(
            detect_protocol(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true),
            Some(AppProto::Http2)
        );
        assert_eq!(detect_protocol(b"PRI * HTTP/2.0\r\n", false), None);
        assert_eq!(detect_protocol(b"\x00\x00", true), None);
    }

    #[test]
    fn ftp_and_dcerpc() {
        assert_eq!(
            detect_protocol(b"user anonymous\r\n", true),
            Some(AppProto::Ftp)
        );
        assert_eq!(detect_protocol(b"FEAT\r\n", true), Some(AppProto::Ftp));
        assert_eq!(
            detect_protocol(b"220 (vsFTPd 3.0.3)\r\n", false),
            Some(AppProto::Ftp)
        );
        // A greeting without "(" and client text elsewhere are not FTP yet.
        assert_eq!(detect_protocol(b"220-Welcome\r\n", false), None);
        assert_eq!(detect_protocol(b"USER x", false), None);
        // A DCERPC bind: version 5.0, ptype 11, flags 3, drep 10 00 00 00.
        let bind = [5u8, 0, 11, 3, 0x10, 0, 0, 0, 0x48, 0];
        assert_eq!(detect_protocol(&bind, true), Some(AppProto::Dcerpc));
        assert_eq!(detect_protocol(&[5u8, 0, 11, 3, 0x20, 0, 0, 0], true), None);
        assert_eq!(detect_protocol(&[5u8, 1, 11, 3, 0x10, 0, 0, 0], true), None);
    }

    #[test]
    fn smtp() {
        assert_eq!(detect_protocol(b"EHLO GP\r\n", true), Some(AppProto::Smtp));
        assert_eq!(
            detect_protocol(b"RFB 003.008\n", false),
            Some(AppProto::Rfb)
        );
        assert_eq!(detect_protocol(b"RFB 003.003\n", true), None);
        assert_eq!(
            detect_protocol(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n", true),
            Some(AppProto::Sip)
        );
        assert_eq!(
            detect_protocol(b"OPTIONS / HTTP/1.1\r\n", true),
            Some(AppProto::Http)
        );
        assert_eq!(
            detect_protocol(b"SIP/2.0 200 OK\r\n", false),
            Some(AppProto::Sip)
        );
        assert_eq!(detect_protocol(b"helo x\r\n", true), Some(AppProto::Smtp));
        assert_eq!(detect_protocol(b"QUIT\r\n", true), Some(AppProto::Smtp));
        // The server banner does not decide (FTP's starts alike).
        assert_eq!(detect_protocol(b"220 mx ESMTP\r\n", false), None);
        assert_eq!(detect_protocol(b"EHLO x", false), None);
        assert_eq!(detect_protocol(b"EHL", true), None);
    }
}
