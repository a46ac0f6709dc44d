//! Application-layer inspection for Rampart: cheap protocol detection from
//! the first bytes of a TCP direction, an HTTP/1.0 / 1.1 parser that
//! turns reassembled stream chunks into transactions whose fields are the
//! byte buffers Suricata's `http.*` sticky buffers expose, a DNS parser
//! ([`dns`]: datagrams and DNS over TCP, names bounded against pointer
//! loops), a TLS handshake parser ([`tls`]: SNI, JA3/JA3S, certificate
//! chain up to TLS 1.2), an SSH parser ([`ssh`]: identification lines,
//! HASSH, packets up to NEWKEYS), a DCERPC parser ([`dcerpc`]: binds,
//! requests and responses over TCP, fragments reassembled; also fed from
//! SMB2 named pipes by [`smb_dcerpc`]), an SMTP parser ([`smtp`]:
//! commands, replies, mails whose MIME attachments [`mime`] decodes into
//! files), an SMB parser ([`smb`]: shares and the files SMB1/SMB2
//! connections write and read), a Kerberos 5 parser ([`krb5`]: AS/TGS
//! requests, replies and errors over UDP and TCP) and an SNMP parser
//! ([`snmp`]: v1, v2c and v3 datagrams), the last two on the ASN.1
//! decoders Suricata uses (`kerberos-parser`, `snmp-parser`), an FTP control
//! connection parser ([`ftp`]: commands, replies, data ports) and an IKE
//! parser ([`ike`]: IKEv1 and IKEv2 messages over UDP), a SIP parser ([`sip`]: messages over UDP
//! and TCP) and an RFB handshake parser ([`rfb`]). Parsers report the
//! protocol data units Suricata's `frame` keyword inspects as
//! [`frame::Frame`] values (DNS, SIP and RFB so far).
//! A QUIC parser ([`quic`]: Initial packets decrypted after RFC 9001, the
//! TLS hellos of their CRYPTO frames read by [`tls`], Google QUIC's CHLO).
//! An HTTP/2 parser ([`http2`]: cleartext connections opened with the
//! client preface, HPACK-decoded header blocks, one transaction per stream).
//!
//! The crate is pure and sans-I/O: it never reads a socket or a file, it
//! only receives byte slices (in order, per direction) from whatever does
//! reassembly, which is why it depends on no other Rampart crate. Every
//! buffer it keeps is bounded by a named limit in [`http::HttpConfig`], and
//! malformed input is reported as [`http::HttpAnomaly`] values rather than
//! errors or panics, because an IDS must keep inspecting hostile traffic.
//! (There is no error type: nothing the parser is given can fail it.)
//!
//! Sticky buffer to accessor ([`HttpTransaction`]); "dir" means the buffer
//! exists for requests (`ToServer`) and responses (`ToClient`):
//!
//! | buffer | accessor | bytes |
//! | --- | --- | --- |
//! | `http.method` | `method()` | method as sent |
//! | `http.uri` | `uri()` | normalised URI (unreserved `%XX` decoded, dot segments and `//` resolved) |
//! | `http.uri.raw` | `uri_raw()` | URI as on the request line |
//! | `http.protocol` | `protocol()` | `HTTP/1.1` etc. |
//! | `http.request_line` | `request_line()` | request line without CRLF |
//! | `http.host` / `http.host.raw` | `host()` / `host_raw()` | lowercased, port stripped / as sent |
//! | `http.user_agent`, `http.referer`, `http.accept` | `user_agent()`, `referer()`, `accept()` | header values |
//! | `http.cookie` | `cookie(dir)` | `Cookie` / `Set-Cookie` value |
//! | `http.content_type`, `http.content_len` | `content_type(dir)`, `content_len(dir)` | header values |
//! | `http.header` | `header(dir)` | `Name: value\r\n` per header, Cookie / Set-Cookie left out |
//! | `http.header.raw` | `header_raw(dir)` | header block as received |
//! | `http.header_names` | `header_names(dir)` | `\r\nName1\r\nName2\r\n\r\n` |
//! | `http.start` | `start(dir)` | start line, headers, empty line |
//! | `http.request_body` | `request_body()` | de-chunked, up to depth |
//! | `http.stat_code`, `http.stat_msg` | `stat_code()`, `stat_msg()` | status code, reason |
//! | `http.response_line` | `response_line()` | status line without CRLF |
//! | `http.response_body` | `response_body()` | de-chunked, decompressed, up to depth |

pub mod dcerpc;
mod decompress;
pub mod dns;
pub mod file_magic;
pub mod frame;
pub mod ftp;
pub mod http;
pub mod http2;
pub mod http_file;
pub mod ike;
pub mod krb5;
pub mod mime;
pub mod nfs;
pub mod protocol;
pub mod quic;
pub mod rfb;
pub mod sip;
pub mod smb;
pub mod smb_dcerpc;
pub mod smtp;
pub mod snmp;
pub mod ssh;
pub mod tls;
mod uri;

pub use http::{
    Direction, Header, HttpAnomaly, HttpConfig, HttpEvent, HttpParser, HttpTransaction, Progress,
};
pub use protocol::{detect_protocol, AppProto};
