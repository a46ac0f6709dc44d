//! Application-layer inspection: signatures on transaction buffers
//! (`http.uri`, `http.header`, ...) rather than on packets or streams.
//!
//! The engine knows buffers only by name: a parser elsewhere (the HTTP
//! parser of `rampart-app`) hands over a transaction through [`TxBuffers`],
//! so this crate stays independent of any protocol implementation.

use std::borrow::Cow;

use rampart_rules::Buffer;

use crate::program::Program;

/// The buffers of one application-layer transaction, by rule keyword.
pub trait TxBuffers {
    /// The bytes of `buffer` for the side being inspected, or `None` when
    /// the transaction has no such buffer (a request without a body, a
    /// missing header): a signature needing it does not match.
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>>;
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

/// What an application-layer signature inspects.
#[derive(Debug)]
pub struct AppInspect {
    /// Request or response.
    pub side: TxSide,
    /// One program per buffer, all of which must match.
    pub buffers: Vec<(Buffer, Program)>,
    /// The prefilter pattern: its buffer, bytes and `nocase`.
    pub fast_pattern: Option<(Buffer, Vec<u8>, bool)>,
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
    )
}
