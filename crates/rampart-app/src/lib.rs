//! Application-layer inspection for Rampart: cheap protocol detection from
//! the first bytes of a TCP direction, and an HTTP/1.0 / 1.1 parser that
//! turns reassembled stream chunks into transactions whose fields are the
//! byte buffers Suricata's `http.*` sticky buffers expose.
//!
//! The crate is pure and sans-I/O: it never reads a socket or a file, it
//! only receives byte slices (in order, per direction) from whatever does
//! reassembly, which is why it depends on no other Rampart crate. Every
//! buffer it keeps is bounded by a named limit in [`http::HttpConfig`], and
//! malformed input is reported as [`http::HttpAnomaly`] values rather than
//! errors or panics, because an IDS must keep inspecting hostile traffic.

mod decompress;
pub mod http;
pub mod protocol;
mod uri;

pub use http::{
    Direction, Header, HttpAnomaly, HttpConfig, HttpEvent, HttpParser, HttpTransaction,
};
pub use protocol::{detect_protocol, AppProto};
