//! HTTP/1.0 and HTTP/1.1 parsing for inspection.
//!
//! One [`HttpParser`] follows one TCP connection. It is fed reassembled,
//! in-order data of either direction in chunks that may split anywhere
//! (inside a header line, a chunk-size line, a body), and builds
//! [`HttpTransaction`]s: request and response heads, bodies (de-chunked,
//! response bodies decompressed) up to inspection depths, pairing requests
//! and responses in order so that pipelining and keep-alive work.
//!
//! Like libhtp, the parser is lenient: it accepts what real clients and
//! servers send (bare LF line endings, a missing reason phrase, spaces in
//! the URI, garbage before a request line, header lines without a colon,
//! obsolete line folding) and records each deviation as an
//! [`HttpAnomaly`] instead of giving up, because evasions live in exactly
//! those deviations. Responses get libhtp's further leniencies, which
//! Suricata's http-evader tests exercise: a bare CR ends a head line, odd
//! line-ending runs (`\n\r`, `\r\n\r\r`) do not end the head, chunk sizes
//! may carry junk after their digits, a body announced as chunked that is
//! not runs to the close, `Transfer-Encoding` mentioning `chunked` anywhere
//! counts, several content codings are undone (each sniffing gzip, zlib or
//! raw deflate, and passing uncompressed data through),
//! 1xx/204/304 responses with framing headers have a body, and a first line
//! not starting with `http` is a body. Every buffer is bounded by a limit in [`HttpConfig`].
//! Heads are also checked with the strict `httparse` parser; whether it
//! accepted them is kept ([`HttpTransaction::request_strict`]) as a cheap
//! "needed leniency" signal.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::decompress::{Codec, Decoder, Stop};
use crate::uri::{normalize_uri, uri_authority};

/// Which way data flows on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: requests.
    ToServer,
    /// Server to client: responses.
    ToClient,
}

/// Limits of the parser. Every one bounds memory or work per connection;
/// the defaults follow Suricata's / libhtp's order of magnitude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Longest request or status line kept (default 8 KiB); longer lines
    /// are truncated and reported as [`HttpAnomaly::RequestLineTooLong`] /
    /// [`HttpAnomaly::ResponseLineTooLong`].
    pub max_request_line: usize,
    /// Longest header line kept (default 8 KiB); longer ones are truncated
    /// and reported as [`HttpAnomaly::HeaderLineTooLong`]. Chunk-size and
    /// trailer lines have the same limit; a response chunk-size line
    /// longer than it is not one, so the body is not chunked.
    pub max_header_line: usize,
    /// Most headers kept per message (default 512); further ones are
    /// reported once as [`HttpAnomaly::TooManyHeaders`] and ignored, while
    /// the message goes on being parsed.
    pub max_headers: usize,
    /// Most bytes of one message's header block kept (default 64 KiB):
    /// bounds the raw block (`http.header.raw`) and, separately, the total
    /// of the parsed headers' names and values, so that 512 maximal header
    /// lines cannot cost 4 MiB. Headers past it are ignored and reported as
    /// [`HttpAnomaly::TooManyHeaders`].
    pub max_header_block: usize,
    /// Request body bytes kept for inspection (default 100 KiB).
    pub request_body_depth: usize,
    /// Response body bytes kept for inspection, after decompression
    /// (default 100 KiB).
    pub response_body_depth: usize,
    /// Most bytes a compressed response body may inflate to (default 1 MiB)
    /// before it is reported as [`HttpAnomaly::CompressionBomb`] and
    /// decompression stops.
    pub decompress_cap: u64,
    /// Ratio guard: decompression stops as a bomb once output exceeds
    /// `decompress_ratio` times the compressed input (default 250) ...
    pub decompress_ratio: u64,
    /// ... provided output is already past this many bytes (default 64 KiB),
    /// so small, highly compressible bodies are not flagged.
    pub decompress_ratio_floor: u64,
    /// Most content codings of one response body undone (default 3, the
    /// value of Suricata's `response-body-decompress-layer-limit` in its
    /// evasion tests); every listed coding counts, known or not.
    pub decompress_layers: usize,
    /// Most transactions held by the parser at once (default 128). Beyond
    /// it the oldest is dropped ([`HttpAnomaly::TooManyTransactions`]);
    /// callers normally remove finished ones with
    /// [`HttpParser::remove_completed`].
    pub max_transactions: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_request_line: 8 * 1024,
            max_header_line: 8 * 1024,
            max_headers: 512,
            max_header_block: 64 * 1024,
            request_body_depth: 100 * 1024,
            response_body_depth: 100 * 1024,
            decompress_cap: 1024 * 1024,
            decompress_ratio: 250,
            decompress_ratio_floor: 64 * 1024,
            decompress_layers: 3,
            max_transactions: 128,
        }
    }
}

/// A deviation from HTTP/1.x seen while parsing, named after Suricata's
/// `http.*` app-layer events where one exists ([`HttpAnomaly::event_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpAnomaly {
    /// A request header line had no colon (kept as a header with the whole
    /// line as name and an empty value).
    RequestHeaderInvalid,
    /// A response header line had no colon.
    ResponseHeaderInvalid,
    /// `Content-Length` was not a decimal number, or several differed.
    InvalidContentLength,
    /// Both `Transfer-Encoding: chunked` and `Content-Length` were sent.
    ContentLengthAndChunked,
    /// A chunk-size line was not a hexadecimal length.
    ChunkLengthInvalid,
    /// Chunk data was not followed by an empty line.
    ChunkDelimiterInvalid,
    /// More than [`HttpConfig::max_headers`] headers in one message, or
    /// more than [`HttpConfig::max_header_block`] bytes of them.
    TooManyHeaders,
    /// A request line longer than [`HttpConfig::max_request_line`].
    RequestLineTooLong,
    /// A status line longer than [`HttpConfig::max_request_line`].
    ResponseLineTooLong,
    /// A header line longer than [`HttpConfig::max_header_line`].
    HeaderLineTooLong,
    /// A line that is not a request line where one was expected (skipped),
    /// or junk bytes before the method on a request line (skipped, the
    /// request is parsed).
    RequestLineInvalid,
    /// A line that is not a status line where one was expected (skipped).
    ResponseLineInvalid,
    /// A request line without protocol (HTTP/0.9 style); the request has no
    /// headers.
    RequestLineMissingProtocol,
    /// The URI contained spaces or tabs, or the request line used more than
    /// one space between its parts.
    UriDelimNonCompliant,
    /// The URI contained an invalid `%` escape.
    UriInvalidEncoding,
    /// A line ended with a bare LF instead of CRLF.
    BareLf,
    /// A status line had no reason phrase.
    ResponseMissingReason,
    /// The status code was not three digits.
    InvalidStatusCode,
    /// The request has no `Host` header (HTTP/1.1).
    MissingHost,
    /// A header was continued on the next line (obsolete line folding).
    LineFolding,
    /// A response arrived with no request left to pair it with.
    UnmatchedResponse,
    /// A gzip / deflate response body could not be decompressed; from the
    /// failure on, its bytes are kept as sent (libhtp's passthrough).
    GzipDecompressionFailed,
    /// Decompression exceeded [`HttpConfig::decompress_cap`] or the ratio
    /// guard.
    CompressionBomb,
    /// The parser held [`HttpConfig::max_transactions`] transactions and
    /// dropped the oldest.
    TooManyTransactions,
    /// A request had several `Content-Length` headers with different
    /// values.
    RequestDuplicateContentLength,
    /// A response had several `Content-Length` headers with different
    /// values.
    ResponseDuplicateContentLength,
    /// A request chunk-size line carried a chunk extension (`;name=value`).
    RequestChunkExtension,
    /// Bytes after a complete request, in the same piece of data, that
    /// cannot be a request line (one token, not a method): taken as more of
    /// that request's body, as libhtp does.
    RequestBodyUnexpected,
    /// A response's `Content-Encoding` listed more codings than
    /// [`HttpConfig::decompress_layers`].
    TooManyEncodingLayers,
    /// A `101 Switching Protocols` response asked for `Upgrade: h2c` while
    /// the flow was still switching from another protocol (HTTP found where
    /// TLS was expected after STARTTLS): a second switch is refused, as in
    /// Suricata.
    FailedProtocolChange,
}

impl HttpAnomaly {
    /// The Suricata-style event name (`http.<name>`) for EVE output and
    /// `app-layer-event:` rules. Names are Suricata's where this anomaly
    /// has a Suricata event we know of (e.g. `http.request_header_invalid`,
    /// `http.invalid_content_length`, `http.request_line_invalid`,
    /// `http.unable_to_match_response_to_request`); the others are
    /// Rampart's own, in the same style, and should be checked against
    /// Suricata's `http-events.rules` before rules depend on them.
    pub fn event_name(self) -> &'static str {
        match self {
            HttpAnomaly::RequestHeaderInvalid => "http.request_header_invalid",
            HttpAnomaly::ResponseHeaderInvalid => "http.response_header_invalid",
            HttpAnomaly::InvalidContentLength => "http.invalid_content_length",
            HttpAnomaly::ContentLengthAndChunked => "http.content_length_and_chunked",
            HttpAnomaly::ChunkLengthInvalid => "http.chunk_length_invalid",
            HttpAnomaly::ChunkDelimiterInvalid => "http.chunk_delimiter_invalid",
            HttpAnomaly::TooManyHeaders => "http.too_many_headers",
            HttpAnomaly::RequestLineTooLong => "http.request_line_too_long",
            HttpAnomaly::ResponseLineTooLong => "http.response_line_too_long",
            HttpAnomaly::HeaderLineTooLong => "http.header_line_too_long",
            HttpAnomaly::RequestLineInvalid => "http.request_line_invalid",
            HttpAnomaly::ResponseLineInvalid => "http.response_line_invalid",
            HttpAnomaly::RequestLineMissingProtocol => "http.request_line_missing_protocol",
            HttpAnomaly::UriDelimNonCompliant => "http.uri_delim_non_compliant",
            HttpAnomaly::UriInvalidEncoding => "http.uri_invalid_encoding",
            HttpAnomaly::BareLf => "http.bare_lf_line_ending",
            HttpAnomaly::ResponseMissingReason => "http.response_missing_reason",
            HttpAnomaly::InvalidStatusCode => "http.invalid_response_status",
            HttpAnomaly::MissingHost => "http.missing_host_header",
            HttpAnomaly::LineFolding => "http.header_line_folding",
            HttpAnomaly::UnmatchedResponse => "http.unable_to_match_response_to_request",
            HttpAnomaly::GzipDecompressionFailed => "http.gzip_decompression_failed",
            HttpAnomaly::CompressionBomb => "http.compression_bomb",
            HttpAnomaly::TooManyTransactions => "http.too_many_transactions",
            HttpAnomaly::RequestDuplicateContentLength => {
                "http.duplicate_content_length_field_in_request"
            }
            HttpAnomaly::ResponseDuplicateContentLength => {
                "http.duplicate_content_length_field_in_response"
            }
            HttpAnomaly::RequestChunkExtension => "http.request_chunk_extension",
            HttpAnomaly::RequestBodyUnexpected => "http.request_body_unexpected",
            HttpAnomaly::TooManyEncodingLayers => "http.too_many_encoding_layers",
            HttpAnomaly::FailedProtocolChange => "http.failed_protocol_change",
        }
    }

    /// The names (without `http.`) under which Suricata's rules
    /// (`app-layer-event:http.<name>`) know this anomaly; empty when
    /// Suricata has no event for it.
    pub fn suricata_events(self) -> &'static [&'static str] {
        match self {
            HttpAnomaly::RequestHeaderInvalid => &["request_header_invalid"],
            HttpAnomaly::ResponseHeaderInvalid => &["response_header_invalid"],
            HttpAnomaly::RequestLineInvalid => &["request_line_invalid"],
            HttpAnomaly::RequestLineMissingProtocol => &["request_line_missing_protocol"],
            HttpAnomaly::UriDelimNonCompliant => &["uri_delim_non_compliant"],
            HttpAnomaly::InvalidStatusCode => &["response_invalid_status"],
            HttpAnomaly::MissingHost => &["missing_host_header"],
            HttpAnomaly::UnmatchedResponse => &["unable_to_match_response_to_request"],
            HttpAnomaly::GzipDecompressionFailed => &["gzip_decompression_failed"],
            HttpAnomaly::CompressionBomb => &["compression_bomb"],
            HttpAnomaly::RequestDuplicateContentLength => {
                &["duplicate_content_length_field_in_request"]
            }
            HttpAnomaly::ResponseDuplicateContentLength => {
                &["duplicate_content_length_field_in_response"]
            }
            HttpAnomaly::RequestChunkExtension => &["request_chunk_extension"],
            HttpAnomaly::RequestBodyUnexpected => &["request_body_unexpected"],
            HttpAnomaly::TooManyEncodingLayers => &["too_many_encoding_layers"],
            HttpAnomaly::FailedProtocolChange => &["failed_protocol_change"],
            _ => &[],
        }
    }

    /// Whether `app-layer-event:http.<name>` matches this anomaly.
    pub fn matches_event(self, name: &str) -> bool {
        self.suricata_events().contains(&name)
    }
}

/// What happened during one [`HttpParser::feed`] call, in order. Events
/// name transactions by [`HttpTransaction::id`], so a caller can look them
/// up with [`HttpParser::transaction`] and run detection at each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEvent {
    /// The request head (line and headers) of a transaction is complete.
    RequestHeaders(u64),
    /// The request, body included, is complete.
    RequestComplete(u64),
    /// The response head of a transaction is complete.
    ResponseHeaders(u64),
    /// The response, body included, is complete.
    ResponseComplete(u64),
    /// An anomaly, for a transaction when one is concerned.
    Anomaly {
        /// The transaction it belongs to, if any.
        tx: Option<u64>,
        /// What was seen.
        anomaly: HttpAnomaly,
    },
}

/// One header as received: name as sent (case kept), value with leading
/// and trailing spaces/tabs removed, folded continuation lines joined with
/// a single space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name, as sent.
    pub name: Vec<u8>,
    /// The field value, trimmed.
    pub value: Vec<u8>,
}

/// How far one side of a transaction got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Nothing seen yet.
    #[default]
    None,
    /// Start line seen, headers in progress.
    Headers,
    /// Head complete, body in progress.
    Body,
    /// Complete.
    Complete,
}

/// One message head (request or response side of a transaction).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Message {
    line: Vec<u8>,
    headers: Vec<Header>,
    raw_headers: Vec<u8>,
    body: Vec<u8>,
    body_len: u64,
    progress: Progress,
    strict: Option<bool>,
}

/// A request and its response (either may be missing or partial).
///
/// Accessors return the bytes of Suricata's `http.*` sticky buffers; each
/// one's documentation says what exactly. Header-derived buffers return
/// `None` when the header is absent; repeated headers are joined with
/// `", "` in order, as libhtp does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTransaction {
    id: u64,
    method: Vec<u8>,
    uri_raw: Vec<u8>,
    uri: Vec<u8>,
    protocol: Vec<u8>,
    host_raw: Option<Vec<u8>>,
    host: Option<Vec<u8>>,
    response_protocol: Vec<u8>,
    status_code: Vec<u8>,
    status_msg: Vec<u8>,
    request: Message,
    response: Message,
    anomalies: Vec<HttpAnomaly>,
    /// How many of `anomalies` were there when the request completed.
    request_anomalies: usize,
}

impl HttpTransaction {
    fn new(id: u64) -> Self {
        HttpTransaction {
            id,
            method: Vec::new(),
            uri_raw: Vec::new(),
            uri: Vec::new(),
            protocol: Vec::new(),
            host_raw: None,
            host: None,
            response_protocol: Vec::new(),
            status_code: Vec::new(),
            status_msg: Vec::new(),
            request: Message::default(),
            response: Message::default(),
            anomalies: Vec::new(),
            request_anomalies: 0,
        }
    }

    fn msg(&self, dir: Direction) -> &Message {
        match dir {
            Direction::ToServer => &self.request,
            Direction::ToClient => &self.response,
        }
    }

    /// The transaction's number on its connection, from 0 in request order.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Progress of the request (`ToServer`) or response (`ToClient`) side.
    pub fn progress(&self, dir: Direction) -> Progress {
        self.msg(dir).progress
    }

    /// Whether both sides are complete.
    pub fn is_complete(&self) -> bool {
        self.request.progress == Progress::Complete && self.response.progress == Progress::Complete
    }

    /// Anomalies seen in this transaction, each once, in first-seen order.
    pub fn anomalies(&self) -> &[HttpAnomaly] {
        &self.anomalies
    }

    /// The anomalies seen until the request was complete (all of them
    /// while it is not).
    pub fn anomalies_until_request(&self) -> &[HttpAnomaly] {
        if self.request.progress != Progress::Complete {
            return &self.anomalies;
        }
        self.anomalies
            .get(..self.request_anomalies)
            .unwrap_or(&self.anomalies)
    }

    /// The anomalies first seen after the request was complete (during the
    /// response); all of them while the request is not complete.
    pub fn anomalies_after_request(&self) -> &[HttpAnomaly] {
        self.anomalies
            .get(self.request_anomalies..)
            .unwrap_or_default()
    }

    /// Whether the strict `httparse` parser accepted the request head
    /// (`None` until the head is complete, or for HTTP/0.9 requests).
    pub fn request_strict(&self) -> Option<bool> {
        self.request.strict
    }

    /// Whether the strict `httparse` parser accepted the response head.
    pub fn response_strict(&self) -> Option<bool> {
        self.response.strict
    }

    /// `http.method`: the request method as sent, e.g. `GET`.
    pub fn method(&self) -> &[u8] {
        &self.method
    }

    /// `http.uri.raw`: the request URI exactly as on the request line.
    pub fn uri_raw(&self) -> &[u8] {
        &self.uri_raw
    }

    /// `http.uri`: the normalised URI. Exactly this is done to the raw URI:
    /// it is split at the first `?` into path and query (the query is only
    /// percent-decoded); for an absolute-form URI the `scheme://authority`
    /// prefix is kept as sent; `%XX` escapes of unreserved characters
    /// (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes stay encoded; then,
    /// in a path starting with `/`, `.` segments are removed, `..` removes
    /// the segment before it (never above the root) and runs of `/` collapse
    /// to one. Decoding comes first, so `/%2e%2e/` is resolved like `/../`.
    /// Example: `/a//b/./c/../%7Ex?q=%41` becomes `/a/b/~x?q=A`. Not done:
    /// decoding of `%2F`, `+`, `%u` escapes or UTF-8, backslashes, case.
    pub fn uri(&self) -> &[u8] {
        &self.uri
    }

    /// `http.protocol`: the request's protocol, e.g. `HTTP/1.1` (empty for
    /// an HTTP/0.9 request line without one).
    pub fn protocol(&self) -> &[u8] {
        &self.protocol
    }

    /// Protocol of the status line, e.g. `HTTP/1.0`.
    pub fn response_protocol(&self) -> &[u8] {
        &self.response_protocol
    }

    /// `http.request_line`: the whole request line without its line ending.
    pub fn request_line(&self) -> &[u8] {
        &self.request.line
    }

    /// `http.response_line`: the whole status line without its line ending.
    pub fn response_line(&self) -> &[u8] {
        &self.response.line
    }

    /// `http.stat_code`: the status code as sent, e.g. `200`.
    pub fn stat_code(&self) -> &[u8] {
        &self.status_code
    }

    /// `http.stat_msg`: the reason phrase, e.g. `Not Found` (empty if none).
    pub fn stat_msg(&self) -> &[u8] {
        &self.status_msg
    }

    /// `http.host.raw`: the `Host` header value as sent (for an
    /// absolute-form URI, its authority instead, as libhtp prefers it).
    pub fn host_raw(&self) -> Option<&[u8]> {
        self.host_raw.as_deref()
    }

    /// `http.host`: [`Self::host_raw`] lowercased with any `:port` removed
    /// (an IPv6 literal keeps its brackets).
    pub fn host(&self) -> Option<&[u8]> {
        self.host.as_deref()
    }

    /// Headers of one side, in order, repeated ones kept.
    pub fn headers(&self, dir: Direction) -> &[Header] {
        &self.msg(dir).headers
    }

    /// The values of every header of `dir` named `name` (any case), joined
    /// with `", "`; `None` when there is none.
    pub fn header_value(&self, dir: Direction, name: &str) -> Option<Cow<'_, [u8]>> {
        let mut it = self
            .msg(dir)
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()));
        let first = it.next()?;
        let mut rest = it.peekable();
        if rest.peek().is_none() {
            return Some(Cow::Borrowed(&first.value));
        }
        let mut v = first.value.clone();
        for h in rest {
            v.extend_from_slice(b", ");
            v.extend_from_slice(&h.value);
        }
        Some(Cow::Owned(v))
    }

    /// `http.user_agent`: the request's `User-Agent` value.
    pub fn user_agent(&self) -> Option<Cow<'_, [u8]>> {
        self.header_value(Direction::ToServer, "user-agent")
    }

    /// `http.referer`: the request's `Referer` value.
    pub fn referer(&self) -> Option<Cow<'_, [u8]>> {
        self.header_value(Direction::ToServer, "referer")
    }

    /// `http.accept`: the request's `Accept` value.
    pub fn accept(&self) -> Option<Cow<'_, [u8]>> {
        self.header_value(Direction::ToServer, "accept")
    }

    /// `http.cookie`: the `Cookie` value of the request (`ToServer`) or the
    /// `Set-Cookie` value of the response (`ToClient`).
    pub fn cookie(&self, dir: Direction) -> Option<Cow<'_, [u8]>> {
        match dir {
            Direction::ToServer => self.header_value(dir, "cookie"),
            Direction::ToClient => self.header_value(dir, "set-cookie"),
        }
    }

    /// `http.content_type`: the `Content-Type` value of that side.
    pub fn content_type(&self, dir: Direction) -> Option<Cow<'_, [u8]>> {
        self.header_value(dir, "content-type")
    }

    /// `http.content_len`: the `Content-Length` value of that side, as sent.
    pub fn content_len(&self, dir: Direction) -> Option<Cow<'_, [u8]>> {
        self.header_value(dir, "content-length")
    }

    /// `http.header`: the normalised header buffer of one side, as
    /// Suricata builds it: one `Name: value\r\n` line per distinct header
    /// name in first-seen order (repeated names joined with `", "`, values
    /// trimmed, folded lines joined), leaving out `Cookie` (requests) and
    /// `Set-Cookie` (responses), which only `http.cookie` holds. There is no
    /// final empty line.
    pub fn header(&self, dir: Direction) -> Vec<u8> {
        let skip: &[u8] = match dir {
            Direction::ToServer => b"cookie",
            Direction::ToClient => b"set-cookie",
        };
        self.merged(dir, Some(skip))
    }

    /// Header lines `Name: value\r\n`, names merged, optionally skipping one.
    fn merged(&self, dir: Direction, skip: Option<&[u8]>) -> Vec<u8> {
        let hs = &self.msg(dir).headers;
        let mut out = Vec::new();
        for (i, h) in hs.iter().enumerate() {
            if skip.is_some_and(|s| h.name.eq_ignore_ascii_case(s)) {
                continue;
            }
            let seen = hs
                .iter()
                .take(i)
                .any(|p| p.name.eq_ignore_ascii_case(&h.name));
            if seen {
                continue;
            }
            out.extend_from_slice(&h.name);
            out.extend_from_slice(b": ");
            let mut first = true;
            for r in hs
                .iter()
                .skip(i)
                .filter(|r| r.name.eq_ignore_ascii_case(&h.name))
            {
                if !first {
                    out.extend_from_slice(b", ");
                }
                first = false;
                out.extend_from_slice(&r.value);
            }
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// `http.header.raw`: the header block exactly as received (after the
    /// start line, up to and including the empty line that ends it; at most
    /// [`HttpConfig::max_header_block`] bytes).
    pub fn header_raw(&self, dir: Direction) -> &[u8] {
        &self.msg(dir).raw_headers
    }

    /// `http.header_names`: every header name of one side in order
    /// (repeats kept, Cookie included), each preceded by `\r\n`, and a
    /// final `\r\n\r\n`: `\r\nHost\r\nUser-Agent\r\n\r\n`.
    pub fn header_names(&self, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for h in &self.msg(dir).headers {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&h.name);
        }
        out.extend_from_slice(b"\r\n\r\n");
        out
    }

    /// `http.start`: the start line and the headers of one side as
    /// `Line\r\nName: value\r\n...\r\n\r\n` (headers as in [`Self::header`]
    /// but with Cookie / Set-Cookie included), ending with the empty line.
    pub fn start(&self, dir: Direction) -> Vec<u8> {
        let mut out = self.msg(dir).line.clone();
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.merged(dir, None));
        out.extend_from_slice(b"\r\n");
        out
    }

    /// `http.request_body`: the request body, de-chunked, at most
    /// [`HttpConfig::request_body_depth`] bytes.
    pub fn request_body(&self) -> &[u8] {
        &self.request.body
    }

    /// `http.response_body`: the response body, de-chunked and (for
    /// `gzip` / `deflate` content encodings, up to
    /// [`HttpConfig::decompress_layers`] of them) decompressed, at most
    /// [`HttpConfig::response_body_depth`] bytes. Data that turns out not
    /// to be compressed is kept as sent.
    pub fn response_body(&self) -> &[u8] {
        &self.response.body
    }

    /// Body bytes of one side as they crossed the wire (after de-chunking,
    /// before decompression), counted in full even past the depth.
    pub fn body_len(&self, dir: Direction) -> u64 {
        self.msg(dir).body_len
    }
}

/// How the body of a message is delimited, and where its parsing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a start line.
    Line,
    /// Reading header lines.
    Headers,
    /// `Content-Length` body with this many bytes left.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Inside chunk data with this many bytes left.
    ChunkData(u64),
    /// Expecting the empty line after chunk data.
    ChunkEnd,
    /// Reading trailer lines after the last chunk.
    Trailers,
    /// Body runs to the end of the connection.
    UntilClose,
    /// Not HTTP any more (after `101 Switching Protocols` or `CONNECT`
    /// success): everything is ignored.
    Tunnel,
}

/// Parsing state of one direction.
#[derive(Debug)]
struct Side {
    state: State,
    line: Vec<u8>,
    line_overflow: bool,
    tail: Vec<u8>,
    prev_cr: bool,
    /// The transaction this side is filling.
    tx: Option<u64>,
    headers_dropped: bool,
    /// The last header line kept had no colon (a folded continuation may
    /// complete it).
    colonless: bool,
    /// The last head line ended with a bare LF (a CR right after it is
    /// part of that line ending: libhtp reads `\n\r` as one).
    after_bare_lf: bool,
    /// Where a run of odd line endings in a response head stands.
    deformed: Deformed,
    /// Name and value bytes of the headers kept for the current message.
    header_bytes: usize,
    /// Undoes the content codings of the body of `tx` (responses only):
    /// set with the head, taken when the side completes, and dropped with
    /// `tx` when the cap evicts it ([`Side::drop_tx`]), so that it never
    /// outlives its transaction.
    decoder: Option<Decoder>,
    /// A response line that ended exactly where the data did, held until
    /// the next byte arrives (or the direction ends) because how it is
    /// read depends on that byte: the result must not depend on how TCP
    /// split the stream. Its raw bytes are already in the head.
    held: Option<Line>,
}

impl Side {
    fn new() -> Self {
        Side {
            state: State::Line,
            held: None,
            line: Vec::new(),
            line_overflow: false,
            tail: Vec::new(),
            prev_cr: false,
            tx: None,
            headers_dropped: false,
            colonless: false,
            after_bare_lf: false,
            deformed: Deformed::None,
            header_bytes: 0,
            decoder: None,
        }
    }

    /// Forgets the transaction this side was filling, which the cap has
    /// dropped, together with its body decoder. The state is left alone
    /// (a body without its transaction goes back to expecting a start
    /// line, see [`HttpParser::step_body`]), but a decoder left behind
    /// would be used by the next body that sets up none of its own, a
    /// response without a head ([`HttpParser::response_as_body`]): that
    /// body would be decoded as the dropped one's codings, within what the
    /// dropped one left of the depth and with its failure already
    /// reported, so what was kept of it would depend on how the dropped
    /// body had been split.
    fn drop_tx(&mut self) {
        self.tx = None;
        self.decoder = None;
    }
}

/// Odd line endings seen in a response head, which libhtp reads as one
/// line ending rather than as the empty line that ends the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deformed {
    /// Nothing odd.
    None,
    /// `\n\r` was just seen.
    AfterLfCr,
    /// A run of bare CRs (and blanks) is going on: `\r\n\r\r`.
    CrRun,
}

/// A complete line taken from the input.
#[derive(Debug)]
struct Line {
    /// Line bytes without the line ending (truncated at the limit).
    bytes: Vec<u8>,
    /// Longer than the limit.
    too_long: bool,
    /// Ended with a bare LF.
    bare_lf: bool,
    /// Ended with a bare CR (response heads only, see
    /// [`HttpParser::read_line`]).
    bare_cr: bool,
    /// The byte after the line ending, when it was already there.
    next: Option<u8>,
    /// For a too-long line, its last bytes (at most [`TAIL`]).
    tail: Vec<u8>,
}

/// How many bytes of the end of an over-long line are kept.
const TAIL: usize = 32;

/// The HTTP/1.x parser of one connection.
///
/// Sans-I/O: [`HttpParser::feed`] gets each direction's reassembled bytes
/// as they come and appends [`HttpEvent`]s; [`HttpParser::finish`] marks
/// the end of a direction (a body delimited by connection close ends
/// there). Transactions stay in the parser until
/// [`HttpParser::remove_completed`] takes them out.
#[derive(Debug)]
pub struct HttpParser {
    cfg: HttpConfig,
    txs: VecDeque<HttpTransaction>,
    next_id: u64,
    /// Id of the next transaction a response pairs with.
    next_response: u64,
    req: Side,
    resp: Side,
    /// Transactions dropped for the cap, kept (a bounded number) until
    /// [`HttpParser::take_evicted`] so that transaction logs still see them.
    evicted: VecDeque<HttpTransaction>,
    /// The request that completed last, until the next request line: a
    /// line right after it that cannot start a request is more of its
    /// body (libhtp's "unexpected request body").
    finalizing: Option<u64>,
    /// The connection is still switching to this parser from another
    /// protocol: a request to switch again (`101` with `Upgrade: h2c`) is
    /// refused with [`HttpAnomaly::FailedProtocolChange`].
    switching: bool,
}

/// Dropped transactions kept for [`HttpParser::take_evicted`].
const MAX_EVICTED: usize = 256;

impl HttpParser {
    /// A parser for one connection with the given limits.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpParser {
            cfg,
            txs: VecDeque::new(),
            next_id: 0,
            next_response: 0,
            req: Side::new(),
            resp: Side::new(),
            evicted: VecDeque::new(),
            finalizing: None,
            switching: false,
        }
    }

    /// Marks whether the connection is still in the middle of a protocol
    /// switch that brought it to HTTP (set around the first data after an
    /// unexpected protocol was found where TLS was announced).
    pub fn set_switching(&mut self, switching: bool) {
        self.switching = switching;
    }

    /// Numbers this parser's transactions from `id` on (it must not have
    /// any yet): a connection that switched to HTTP keeps the ids its
    /// earlier protocol used apart from HTTP's.
    pub fn start_ids_at(&mut self, id: u64) {
        if self.txs.is_empty() && self.next_id == 0 {
            self.next_id = id;
            self.next_response = id;
        }
    }

    /// Takes the transactions dropped because
    /// [`HttpConfig::max_transactions`] were held (the newest
    /// [`MAX_EVICTED`] of them), oldest first.
    pub fn take_evicted(&mut self) -> Vec<HttpTransaction> {
        self.evicted.drain(..).collect()
    }

    /// The transactions currently held, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &HttpTransaction> {
        self.txs.iter()
    }

    /// The transaction with this id, if still held.
    pub fn transaction(&self, id: u64) -> Option<&HttpTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Takes out the complete transactions at the front (oldest first), so
    /// that a long keep-alive connection does not accumulate them.
    pub fn remove_completed(&mut self) -> Vec<HttpTransaction> {
        let mut out = Vec::new();
        while self.txs.front().is_some_and(|t| t.is_complete()) {
            if let Some(t) = self.txs.pop_front() {
                out.push(t);
            }
        }
        out
    }

    /// [`HttpParser::remove_completed`], stopping at transaction `id`
    /// (one the caller still has to inspect) and dropping what it removes.
    pub fn remove_completed_before(&mut self, id: u64) {
        while self
            .txs
            .front()
            .is_some_and(|t| t.is_complete() && t.id < id)
        {
            self.txs.pop_front();
        }
    }

    fn tx_mut(&mut self, id: u64) -> Option<&mut HttpTransaction> {
        self.txs.iter_mut().find(|t| t.id == id)
    }

    fn anomaly(&mut self, tx: Option<u64>, a: HttpAnomaly, out: &mut Vec<HttpEvent>) {
        if let Some(id) = tx {
            if let Some(t) = self.tx_mut(id) {
                if t.anomalies.contains(&a) {
                    return;
                }
                t.anomalies.push(a);
            }
        }
        out.push(HttpEvent::Anomaly { tx, anomaly: a });
    }

    /// Feeds the next in-order bytes of one direction.
    ///
    /// `data` may end anywhere; partial lines are kept (bounded) until the
    /// rest arrives. Events for whatever completed are appended to `out`.
    pub fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Vec<HttpEvent>) {
        self.feed_steps(dir, data, out, false);
    }

    /// [`HttpParser::feed`], stopping where the connection stops being HTTP
    /// (after `101 Switching Protocols` or a successful `CONNECT`): returns
    /// how many bytes of `data` were HTTP, so that the caller can hand the
    /// rest to whatever protocol the tunnel carries (HTTP/2 after
    /// `Upgrade: h2c`, for one).
    pub fn feed_until_tunnel(
        &mut self,
        dir: Direction,
        data: &[u8],
        out: &mut Vec<HttpEvent>,
    ) -> usize {
        if self.in_tunnel() {
            return 0;
        }
        self.feed_steps(dir, data, out, true)
    }

    /// Parses `data` step by step (a line, a header, a piece of body);
    /// with `stop_at_tunnel`, stops once the connection became a tunnel.
    /// Returns how many bytes were consumed.
    fn feed_steps(
        &mut self,
        dir: Direction,
        data: &[u8],
        out: &mut Vec<HttpEvent>,
        stop_at_tunnel: bool,
    ) -> usize {
        let mut pos = 0;
        let mut stalled = 0;
        while pos < data.len() && !(stop_at_tunnel && self.in_tunnel()) {
            let before = pos;
            match dir {
                Direction::ToServer => self.step_request(data, &mut pos, out),
                Direction::ToClient => self.step_response(data, &mut pos, out),
            }
            // A step either consumes input or changes state (a body whose
            // transaction was dropped goes back to expecting a start line);
            // two steps in a row without progress would be a bug, and must
            // not hang.
            if pos == before {
                stalled += 1;
                if stalled > 2 {
                    break;
                }
            } else {
                stalled = 0;
            }
        }
        pos
    }

    /// Whether the connection stopped being HTTP (a tunnel after `101
    /// Switching Protocols` or a successful `CONNECT`).
    pub fn in_tunnel(&self) -> bool {
        self.req.state == State::Tunnel && self.resp.state == State::Tunnel
    }

    /// Marks the end of one direction (FIN / RST / end of capture): a body
    /// running to the connection's close is complete, decompression is
    /// flushed, a head cut short ends (its unterminated last line counted).
    /// Other partial lines are dropped.
    pub fn finish(&mut self, dir: Direction, out: &mut Vec<HttpEvent>) {
        if dir == Direction::ToServer && self.req.state == State::Line && !self.req.line.is_empty()
        {
            // an unterminated last line after a complete request may be
            // more of its body
            let mut line = Line {
                bytes: std::mem::take(&mut self.req.line),
                too_long: self.req.line_overflow,
                bare_lf: false,
                bare_cr: false,
                next: None,
                tail: Vec::new(),
            };
            if line.bytes.last() == Some(&b'\r') {
                line.bytes.pop();
            }
            if self.unexpected_body_end(&line, out) {
                self.req.line_overflow = false;
                self.req.tail.clear();
                self.req.prev_cr = false;
            } else {
                self.req.line = line.bytes;
            }
        }
        if dir == Direction::ToClient {
            // a held line is read as the last one: no byte follows it
            if let Some(line) = self.resp.held.take() {
                self.response_line(line, &[], out);
            }
        }
        let side = self.side(dir);
        let partial = std::mem::take(&mut side.line);
        let too_long = side.line_overflow;
        side.tail.clear();
        side.line_overflow = false;
        side.prev_cr = false;
        let state = side.state;
        let tx = side.tx;
        if dir == Direction::ToClient && state == State::Line && !starts_with_http(&partial) {
            // libhtp: a response's first line cut short by the close that
            // does not look like a status line is a body.
            let waiting = self
                .response_waiting()
                .filter(|_| partial.iter().any(|b| !b.is_ascii_whitespace()));
            if let Some((id, _)) = waiting {
                self.response_as_body(id, &partial, out);
                self.complete(dir, id, out);
            }
            return;
        }
        if let (State::Headers, Some(id)) = (state, tx) {
            // A head cut short is still inspected: its last, unterminated
            // line counts, and the head ends here.
            let mut bytes = partial;
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            bytes.truncate(self.cfg.max_header_line);
            if !bytes.is_empty() {
                let line = Line {
                    bytes,
                    too_long,
                    bare_lf: false,
                    bare_cr: false,
                    next: None,
                    tail: Vec::new(),
                };
                self.header_line(dir, line, &[], out);
            }
            if self.side(dir).tx == Some(id) && self.side(dir).state == State::Headers {
                self.head_done(dir, id, out);
            }
            if self.side(dir).tx == Some(id) {
                self.complete(dir, id, out);
            }
            return;
        }
        let in_body = matches!(
            state,
            State::UntilClose
                | State::Length(_)
                | State::ChunkSize
                | State::ChunkData(_)
                | State::ChunkEnd
                | State::Trailers
        );
        if let Some(id) = tx {
            if in_body {
                self.complete(dir, id, out);
            }
        }
    }

    fn side(&mut self, dir: Direction) -> &mut Side {
        match dir {
            Direction::ToServer => &mut self.req,
            Direction::ToClient => &mut self.resp,
        }
    }

    /// Takes the next line (or part of it) from `data`; `Some` once a whole
    /// line is available. With `cr_eol` (response status and header lines,
    /// as libhtp reads them) a CR not followed by LF also ends a line.
    fn read_line(
        &mut self,
        dir: Direction,
        data: &[u8],
        pos: &mut usize,
        max: usize,
        cr_eol: bool,
    ) -> Option<Line> {
        let side = self.side(dir);
        let rest = data.get(*pos..).unwrap_or_default();
        if cr_eol && side.prev_cr && rest.first().is_some_and(|&b| b != b'\n') {
            // The previous piece ended with a CR that no LF follows: it
            // ended the line.
            return Some(end_line(
                side,
                max,
                true,
                false,
                true,
                rest.first().copied(),
            ));
        }
        let eol = if cr_eol {
            memchr::memchr2(b'\n', b'\r', rest)
        } else {
            memchr::memchr(b'\n', rest)
        };
        // Where the line ends in `rest` (index of its last byte), and
        // whether by a bare CR.
        let (nl, bare_cr) = match eol {
            Some(i) if rest.get(i) == Some(&b'\r') => match rest.get(i + 1) {
                Some(b'\n') => (Some(i + 1), false),
                Some(_) => (Some(i), true),
                // A CR at the end of the piece: whether it ends the line
                // depends on the next byte.
                None => (None, false),
            },
            other => (other, false),
        };
        let take = nl.map_or(rest.len(), |i| i + 1);
        let piece = rest.get(..take).unwrap_or_default();
        *pos += take;
        let content = if nl.is_some() {
            piece.get(..take - 1).unwrap_or_default()
        } else {
            piece
        };
        let room = (max + 1).saturating_sub(side.line.len());
        if content.len() > room {
            side.line
                .extend_from_slice(content.get(..room).unwrap_or_default());
            side.line_overflow = true;
            // Keep the end of an over-long line: the protocol of a request
            // line is there.
            side.tail
                .extend_from_slice(content.get(room..).unwrap_or_default());
            let excess = side.tail.len().saturating_sub(TAIL);
            side.tail.drain(..excess);
        } else if side.line_overflow {
            side.tail.extend_from_slice(content);
            let excess = side.tail.len().saturating_sub(TAIL);
            side.tail.drain(..excess);
        } else {
            side.line.extend_from_slice(content);
        }
        let cr_before = match content.last() {
            Some(&b) => b == b'\r',
            None => side.prev_cr,
        };
        side.prev_cr = cr_before;
        nl?;
        let next = rest.get(take).copied();
        Some(end_line(
            side,
            max,
            cr_before && !bare_cr,
            !cr_before && !bare_cr,
            bare_cr,
            next,
        ))
    }

    fn step_request(&mut self, data: &[u8], pos: &mut usize, out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToServer;
        match self.req.state {
            State::Line => {
                let max = self.cfg.max_request_line;
                if let Some(line) = self.read_line(dir, data, pos, max, false) {
                    if !self.unexpected_body(&line, out) {
                        self.request_line(line, out);
                    }
                }
            }
            State::Headers => {
                let max = self.cfg.max_header_line;
                let start = *pos;
                if let Some(line) = self.read_line(dir, data, pos, max, false) {
                    self.header_line(dir, line, data.get(start..*pos).unwrap_or_default(), out);
                } else {
                    self.raw_append(dir, data.get(start..*pos).unwrap_or_default());
                }
            }
            _ => self.step_body(dir, data, pos, out),
        }
    }

    fn step_response(&mut self, data: &[u8], pos: &mut usize, out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToClient;
        if let Some(&b) = data.get(*pos) {
            if let Some(mut line) = self.resp.held.take() {
                line.next = Some(b);
                self.response_line(line, &[], out);
                return;
            }
        }
        match self.resp.state {
            State::Line | State::Headers => {
                let max = match self.resp.state {
                    State::Line => self.cfg.max_request_line,
                    _ => self.cfg.max_header_line,
                };
                let start = *pos;
                let Some(line) = self.read_line(dir, data, pos, max, true) else {
                    if self.resp.state == State::Headers {
                        self.raw_append(dir, data.get(start..*pos).unwrap_or_default());
                    }
                    return;
                };
                let raw = data.get(start..*pos).unwrap_or_default();
                if line.next.is_none() && self.needs_next_byte(&line) {
                    // the raw head bytes are kept now, as for a partial line
                    if self.resp.state == State::Headers {
                        self.raw_append(dir, raw);
                    }
                    self.resp.held = Some(line);
                } else {
                    self.response_line(line, raw, out);
                }
            }
            _ => self.step_body(dir, data, pos, out),
        }
    }

    /// A whole response status or header line, by the side's state.
    fn response_line(&mut self, line: Line, raw: &[u8], out: &mut Vec<HttpEvent>) {
        match self.resp.state {
            State::Line => self.status_line(line, out),
            State::Headers => self.header_line(Direction::ToClient, line, raw, out),
            // not reached: lines are only held in those two states
            _ => {}
        }
    }

    /// Whether reading this response line depends on the byte after its
    /// ending (see [`HttpParser::status_line`] and the odd line endings
    /// of [`HttpParser::header_line`]).
    fn needs_next_byte(&self, line: &Line) -> bool {
        let l = line.bytes.as_slice();
        match self.resp.state {
            State::Line => {
                !l.iter().all(|b| b.is_ascii_whitespace())
                    && !starts_with_http(l)
                    && self.response_waiting().is_some_and(|(_, http09)| !http09)
            }
            State::Headers => {
                let side = &self.resp;
                (l.is_empty()
                    && line.bare_cr
                    && !side.after_bare_lf
                    && side.deformed != Deformed::CrRun)
                    || (l.is_empty()
                        && !line.bare_cr
                        && !line.bare_lf
                        && side.deformed == Deformed::AfterLfCr)
                    || (line.bare_lf && matches!(l, [b' ' | b'\t']))
            }
            _ => false,
        }
    }

    /// libhtp's "unexpected request body": right after a complete request,
    /// a line that cannot start a request (one token, not a known method)
    /// is more of that request's body. libhtp only looks within the data
    /// chunk that ended the request; here the next whole line decides,
    /// whenever it arrives, so that the result does not depend on how the
    /// stream was split. Returns whether the line was taken as body.
    fn unexpected_body(&mut self, line: &Line, out: &mut Vec<HttpEvent>) -> bool {
        let ending: &[u8] = if line.bare_lf { b"\n" } else { b"\r\n" };
        self.take_unexpected_body(line, ending, out)
    }

    /// [`HttpParser::unexpected_body`] for a last line that the end of
    /// the stream cut short (no line ending).
    fn unexpected_body_end(&mut self, line: &Line, out: &mut Vec<HttpEvent>) -> bool {
        self.take_unexpected_body(line, b"", out)
    }

    fn take_unexpected_body(
        &mut self,
        line: &Line,
        ending: &[u8],
        out: &mut Vec<HttpEvent>,
    ) -> bool {
        let Some(id) = self.finalizing.take() else {
            return false;
        };
        if line.too_long || !is_unexpected_body(&line.bytes) {
            return false;
        }
        let mut bytes = line.bytes.clone();
        bytes.extend_from_slice(ending);
        self.anomaly(Some(id), HttpAnomaly::RequestBodyUnexpected, out);
        self.body(Direction::ToServer, id, &bytes, out);
        // Still part of the request: inspected with it.
        if let Some(t) = self.tx_mut(id) {
            t.request_anomalies = t.anomalies.len();
        }
        self.finalizing = Some(id);
        true
    }

    /// Appends bytes to the current message's raw header block, bounded.
    fn raw_append(&mut self, dir: Direction, bytes: &[u8]) {
        let cap = self.cfg.max_header_block;
        let Some(id) = self.side(dir).tx else { return };
        if let Some(t) = self.tx_mut(id) {
            let raw = match dir {
                Direction::ToServer => &mut t.request.raw_headers,
                Direction::ToClient => &mut t.response.raw_headers,
            };
            let room = cap.saturating_sub(raw.len());
            raw.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
    }

    fn request_line(&mut self, line: Line, out: &mut Vec<HttpEvent>) {
        let l = &line.bytes;
        if l.iter().all(|b| b.is_ascii_whitespace()) {
            // Empty lines between requests are tolerated (RFC 9112 §2.2).
            return;
        }
        let spaced = trim(l);
        // Bytes that cannot start a method (NULs, binary junk) before it on
        // the same line are skipped and reported, so that junk cannot hide
        // a request from inspection.
        let junk = spaced
            .iter()
            .position(|&b| is_tchar(b))
            .unwrap_or(spaced.len());
        let trimmed = spaced.get(junk..).unwrap_or_default();
        let method_end = trimmed
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(trimmed.len());
        let method = trimmed.get(..method_end).unwrap_or_default();
        let token = !method.is_empty() && method.iter().all(|&b| is_tchar(b));
        if !token || method_end == trimmed.len() {
            self.anomaly(None, HttpAnomaly::RequestLineInvalid, out);
            return;
        }
        let id = self.new_tx(out);
        let rest = trim(trimmed.get(method_end..).unwrap_or_default());
        let mut anomalies = Vec::new();
        if junk > 0 {
            anomalies.push(HttpAnomaly::RequestLineInvalid);
        }
        if line.too_long {
            anomalies.push(HttpAnomaly::RequestLineTooLong);
        }
        if line.bare_lf {
            anomalies.push(HttpAnomaly::BareLf);
        }
        // The protocol of a truncated line is taken from the line's tail.
        let tail_proto = if line.too_long {
            line.tail
                .iter()
                .rposition(|&b| b == b' ' || b == b'\t')
                .and_then(|i| line.tail.get(i + 1..))
                .filter(|p| {
                    p.len() >= 5 && p.get(..5).is_some_and(|h| h.eq_ignore_ascii_case(b"HTTP/"))
                })
        } else {
            None
        };
        // The protocol is the last space-separated word if it looks like one.
        let (uri, proto) = match rest.iter().rposition(|&b| b == b' ' || b == b'\t') {
            _ if tail_proto.is_some() => (rest, tail_proto.unwrap_or_default()),
            Some(i)
                if rest.get(i + 1..).is_some_and(|p| {
                    p.len() >= 5 && p.get(..5).is_some_and(|h| h.eq_ignore_ascii_case(b"HTTP/"))
                }) =>
            {
                (
                    trim(rest.get(..i).unwrap_or_default()),
                    rest.get(i + 1..).unwrap_or_default(),
                )
            }
            _ => (rest, &[][..]),
        };
        if proto.is_empty() {
            anomalies.push(HttpAnomaly::RequestLineMissingProtocol);
        }
        let single_spaced = trimmed.len()
            == method.len() + 1 + uri.len() + if proto.is_empty() { 0 } else { proto.len() + 1 };
        if uri.iter().any(|&b| b == b' ' || b == b'\t')
            || (!single_spaced && !line.too_long)
            || spaced.len() != l.len()
        {
            anomalies.push(HttpAnomaly::UriDelimNonCompliant);
        }
        let (norm, bad) = normalize_uri(uri);
        if bad {
            anomalies.push(HttpAnomaly::UriInvalidEncoding);
        }
        let http09 = proto.is_empty();
        if let Some(t) = self.tx_mut(id) {
            t.request.line = l.clone();
            t.method = method.to_vec();
            t.uri_raw = uri.to_vec();
            t.uri = norm;
            t.protocol = proto.to_vec();
            t.request.progress = Progress::Headers;
            if let Some(a) = uri_authority(uri) {
                t.host_raw = Some(a.to_vec());
            }
        }
        for a in anomalies {
            self.anomaly(Some(id), a, out);
        }
        self.req.tx = Some(id);
        self.req.headers_dropped = false;
        self.req.colonless = false;
        self.req.header_bytes = 0;
        if http09 {
            // HTTP/0.9: no headers, no body.
            self.head_done(Direction::ToServer, id, out);
        } else {
            self.req.state = State::Headers;
        }
    }

    fn new_tx(&mut self, out: &mut Vec<HttpEvent>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if self.txs.len() >= self.cfg.max_transactions.max(1) {
            // The oldest transaction neither side is in the middle of: a
            // message being parsed keeps its transaction, or the side
            // would lose the framing its headers gave (and ignore the
            // rest of the connection). With a cap of one or two, every
            // held transaction may be in progress: the oldest goes then.
            let busy = |id: u64| self.req.tx == Some(id) || self.resp.tx == Some(id);
            let victim = self.txs.iter().position(|t| !busy(t.id)).unwrap_or(0);
            if let Some(old) = self.txs.remove(victim) {
                if victim == 0 && old.id >= self.next_response {
                    self.next_response = old.id + 1;
                }
                for s in [&mut self.req, &mut self.resp] {
                    if s.tx == Some(old.id) {
                        s.drop_tx();
                    }
                }
                if self.evicted.len() >= MAX_EVICTED {
                    self.evicted.pop_front();
                }
                self.evicted.push_back(old);
            }
            out.push(HttpEvent::Anomaly {
                tx: Some(id),
                anomaly: HttpAnomaly::TooManyTransactions,
            });
            self.txs.push_back(HttpTransaction::new(id));
            if let Some(t) = self.tx_mut(id) {
                t.anomalies.push(HttpAnomaly::TooManyTransactions);
            }
            return id;
        }
        self.txs.push_back(HttpTransaction::new(id));
        id
    }

    /// The oldest transaction whose request was seen and whose response
    /// has not started, and whether its request was HTTP/0.9.
    fn response_waiting(&self) -> Option<(u64, bool)> {
        self.txs
            .iter()
            .find(|t| {
                t.id >= self.next_response
                    && t.response.progress == Progress::None
                    && t.request.progress != Progress::None
            })
            .map(|t| (t.id, t.protocol.is_empty()))
    }

    /// A response without status line and headers: `bytes` start its body,
    /// which runs to the close. Without headers it has no content coding,
    /// so no decoder: none may be left over from an earlier response
    /// ([`HttpParser::complete`] takes it, eviction drops it).
    fn response_as_body(&mut self, id: u64, bytes: &[u8], out: &mut Vec<HttpEvent>) {
        debug_assert!(self.resp.decoder.is_none(), "decoder outlived its response");
        if let Some(t) = self.tx_mut(id) {
            t.response.progress = Progress::Body;
        }
        self.next_response = id;
        self.resp.tx = Some(id);
        self.resp.state = State::UntilClose;
        out.push(HttpEvent::ResponseHeaders(id));
        self.body(Direction::ToClient, id, bytes, out);
    }

    fn status_line(&mut self, line: Line, out: &mut Vec<HttpEvent>) {
        let l = &line.bytes;
        let trimmed = trim_start(l);
        let is_status = trimmed.len() >= 5
            && trimmed
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"));
        let blank = l.iter().all(|b| b.is_ascii_whitespace());
        // An HTTP/0.9 request is answered by a bare body up to the close;
        // and like libhtp (and browsers), a first line that does not start
        // with `http` is not a status line but the start of a body that
        // runs to the close, unless (libhtp again) the next line starts
        // with `H`: then it is junk before the status line.
        let as_body = self
            .response_waiting()
            .filter(|&(_, http09)| {
                if http09 {
                    !is_status
                } else {
                    !blank && !starts_with_http(l) && line.next != Some(b'H')
                }
            })
            .map(|(id, _)| id);
        if let Some(id) = as_body {
            let mut bytes = line.bytes;
            let ending: &[u8] = match (line.bare_cr, line.bare_lf) {
                (true, _) => b"\r",
                (false, true) => b"\n",
                (false, false) => b"\r\n",
            };
            bytes.extend_from_slice(ending);
            self.response_as_body(id, &bytes, out);
            return;
        }
        if blank {
            return;
        }
        if !is_status {
            self.anomaly(self.resp.tx, HttpAnomaly::ResponseLineInvalid, out);
            return;
        }
        // Pair with the oldest request still waiting for its response.
        let id = match self
            .txs
            .iter()
            .find(|t| t.id >= self.next_response && t.response.progress == Progress::None)
        {
            Some(t) if t.request.progress != Progress::None => t.id,
            _ => {
                let id = self.new_tx(out);
                self.anomaly(Some(id), HttpAnomaly::UnmatchedResponse, out);
                id
            }
        };
        self.next_response = id;
        let mut anomalies = Vec::new();
        if line.too_long {
            anomalies.push(HttpAnomaly::ResponseLineTooLong);
        }
        if line.bare_lf {
            anomalies.push(HttpAnomaly::BareLf);
        }
        let mut parts = trimmed.splitn(2, |&b| b == b' ' || b == b'\t');
        let proto = parts.next().unwrap_or_default();
        let rest = trim_start(parts.next().unwrap_or_default());
        let code_end = rest
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(rest.len());
        let code = rest.get(..code_end).unwrap_or_default();
        let msg = trim(rest.get(code_end..).unwrap_or_default());
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            anomalies.push(HttpAnomaly::InvalidStatusCode);
        }
        if msg.is_empty() {
            anomalies.push(HttpAnomaly::ResponseMissingReason);
        }
        if let Some(t) = self.tx_mut(id) {
            t.response = Message {
                line: l.clone(),
                progress: Progress::Headers,
                ..Message::default()
            };
            t.response_protocol = proto.to_vec();
            t.status_code = code.to_vec();
            t.status_msg = msg.to_vec();
        }
        for a in anomalies {
            self.anomaly(Some(id), a, out);
        }
        self.resp.tx = Some(id);
        self.resp.headers_dropped = false;
        self.resp.colonless = false;
        self.resp.after_bare_lf = line.bare_lf;
        self.resp.deformed = Deformed::None;
        self.resp.header_bytes = 0;
        self.resp.state = State::Headers;
    }

    fn header_line(&mut self, dir: Direction, line: Line, raw: &[u8], out: &mut Vec<HttpEvent>) {
        self.raw_append(dir, raw);
        let Some(id) = self.side(dir).tx else { return };
        let resp = dir == Direction::ToClient;
        let after_bare_lf = std::mem::replace(&mut self.side(dir).after_bare_lf, line.bare_lf);
        let deformed = std::mem::replace(&mut self.side(dir).deformed, Deformed::None);
        if line.too_long {
            self.anomaly(Some(id), HttpAnomaly::HeaderLineTooLong, out);
        }
        if line.bare_lf {
            self.anomaly(Some(id), HttpAnomaly::BareLf, out);
        }
        let l = line.bytes;
        if resp && l.is_empty() {
            // Odd line endings libhtp reads as one line ending, not as the
            // end of the head: `\n\r`; `\n\r\r\n` before another line
            // ending; `\r\n\r` with more CRs or blanks after it.
            let next_cr_blank = matches!(line.next, Some(b'\r' | b' ' | b'\t'));
            if line.bare_cr && after_bare_lf {
                self.side(dir).deformed = Deformed::AfterLfCr;
                return;
            }
            if line.bare_cr && (deformed == Deformed::CrRun || next_cr_blank) {
                self.side(dir).deformed = Deformed::CrRun;
                return;
            }
            if !line.bare_cr
                && !line.bare_lf
                && deformed == Deformed::AfterLfCr
                && matches!(line.next, Some(b'\r' | b'\n'))
            {
                return;
            }
        }
        // libhtp ends a response head at an empty line, and also at a line
        // of one space or tab ended by a bare LF that no LF follows.
        let lws_line = resp
            && line.bare_lf
            && matches!(l.as_slice(), [b' ' | b'\t'])
            && line.next != Some(b'\n');
        if l.is_empty() || lws_line {
            self.head_done(dir, id, out);
            return;
        }
        let max_headers = self.cfg.max_headers;
        let max_line = self.cfg.max_header_line;
        let budget = self.cfg.max_header_block;
        let dropped = self.side(dir).headers_dropped;
        let colonless = self.side(dir).colonless;
        let mut now_colonless = colonless;
        let mut used = self.side(dir).header_bytes;
        // A line starting with whitespace continues the previous header
        // (in responses also one starting with NUL, as in libhtp), unless,
        // in a response, it reads like a header of its own (`  Name: v`),
        // which is how libhtp resolves that ambiguity.
        let folded = match l.first() {
            Some(b' ' | b'\t') => !(resp && looks_like_header(trim(&l))),
            Some(0) => resp,
            _ => false,
        };
        let mut anomaly = None;
        if let Some(t) = self.tx_mut(id) {
            let msg = match dir {
                Direction::ToServer => &mut t.request,
                Direction::ToClient => &mut t.response,
            };
            if folded && !msg.headers.is_empty() {
                if !dropped {
                    if let Some(h) = msg.headers.last_mut() {
                        let cont = trim(&l);
                        if !cont.is_empty() && used + cont.len() < budget {
                            if colonless {
                                // `Name` then ` : value`: the joined line
                                // is parsed again, as libhtp joins folded
                                // lines before splitting them.
                                let mut joined = std::mem::take(&mut h.name);
                                joined.push(b' ');
                                joined.extend_from_slice(cont);
                                match memchr::memchr(b':', &joined) {
                                    Some(i) => {
                                        h.name =
                                            trim_name(joined.get(..i).unwrap_or_default()).to_vec();
                                        h.value =
                                            trim(joined.get(i + 1..).unwrap_or_default()).to_vec();
                                        now_colonless = false;
                                    }
                                    None => h.name = joined,
                                }
                                // a name stays within the header line limit
                                // however many lines it was folded over
                                h.name.truncate(max_line);
                            } else {
                                if !h.value.is_empty() {
                                    h.value.push(b' ');
                                }
                                h.value.extend_from_slice(cont);
                            }
                            used += cont.len() + 1;
                        }
                    }
                }
                anomaly = Some(HttpAnomaly::LineFolding);
            } else if msg.headers.len() >= max_headers {
                anomaly = Some(HttpAnomaly::TooManyHeaders);
            } else {
                let name_trim = if resp { trim_name } else { trim };
                let h = match memchr::memchr(b':', &l) {
                    Some(i) => {
                        now_colonless = false;
                        Header {
                            name: name_trim(l.get(..i).unwrap_or_default()).to_vec(),
                            value: trim(l.get(i + 1..).unwrap_or_default()).to_vec(),
                        }
                    }
                    None => {
                        now_colonless = true;
                        anomaly = Some(match dir {
                            Direction::ToServer => HttpAnomaly::RequestHeaderInvalid,
                            Direction::ToClient => HttpAnomaly::ResponseHeaderInvalid,
                        });
                        Header {
                            name: trim(&l).to_vec(),
                            value: Vec::new(),
                        }
                    }
                };
                let size = h.name.len() + h.value.len();
                if used + size > budget {
                    anomaly = Some(HttpAnomaly::TooManyHeaders);
                } else {
                    used += size;
                    msg.headers.push(h);
                }
            }
        }
        let side = self.side(dir);
        side.header_bytes = used;
        side.colonless = now_colonless;
        if anomaly == Some(HttpAnomaly::TooManyHeaders) {
            side.headers_dropped = true;
        } else if !folded {
            side.headers_dropped = false;
        }
        if let Some(a) = anomaly {
            self.anomaly(Some(id), a, out);
        }
    }

    /// The head of one side is complete: derive fields, pick the body mode.
    fn head_done(&mut self, dir: Direction, id: u64, out: &mut Vec<HttpEvent>) {
        let cfg = self.cfg.clone();
        let switching = self.switching;
        let mut anomalies = Vec::new();
        let state;
        let mut codecs = Vec::new();
        let Some(t) = self.tx_mut(id) else { return };
        let msg = match dir {
            Direction::ToServer => &t.request,
            Direction::ToClient => &t.response,
        };
        let chunked = match dir {
            Direction::ToServer => header_has_token(&msg.headers, b"transfer-encoding", b"chunked"),
            // libhtp: a response is chunked when a Transfer-Encoding value
            // mentions "chunked" anywhere (`x chunked`, `chunked;`, NULs).
            Direction::ToClient => msg
                .headers
                .iter()
                .filter(|h| name_is(&h.name, b"transfer-encoding"))
                .any(|h| memchr::memmem::find(&lower_no_nul(&h.value), b"chunked").is_some()),
        };
        let has_te = msg
            .headers
            .iter()
            .any(|h| name_is(&h.name, b"transfer-encoding"));
        let mut lengths = msg
            .headers
            .iter()
            .filter(|h| name_is(&h.name, b"content-length"))
            .map(|h| parse_len(&h.value));
        let length = match lengths.next() {
            None => None,
            Some(first) => {
                let all_same = lengths.all(|l| l == first);
                if first.is_none() || !all_same {
                    anomalies.push(HttpAnomaly::InvalidContentLength);
                }
                if !all_same {
                    anomalies.push(match dir {
                        Direction::ToServer => HttpAnomaly::RequestDuplicateContentLength,
                        Direction::ToClient => HttpAnomaly::ResponseDuplicateContentLength,
                    });
                }
                Some(first)
            }
        };
        if chunked && length.is_some() {
            anomalies.push(HttpAnomaly::ContentLengthAndChunked);
        }
        let strict = strict_check(dir, &msg.line, &msg.raw_headers, cfg.max_headers);
        match dir {
            Direction::ToServer => {
                let http11 = t.protocol.eq_ignore_ascii_case(b"HTTP/1.1");
                let host = t
                    .request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(b"host"))
                    .map(|h| h.value.clone());
                if t.host_raw.is_none() {
                    t.host_raw = host;
                }
                if t.host_raw.is_none() && http11 {
                    anomalies.push(HttpAnomaly::MissingHost);
                }
                t.host = t.host_raw.as_deref().map(normalize_host);
                if !t.protocol.is_empty() {
                    t.request.strict = Some(strict);
                }
                state = if chunked {
                    State::ChunkSize
                } else {
                    match length {
                        Some(Some(n)) if n > 0 => State::Length(n),
                        _ => State::Line,
                    }
                };
            }
            Direction::ToClient => {
                t.response.strict = Some(strict);
                let code = parse_len(&t.status_code).unwrap_or(0);
                let head = t.method.eq_ignore_ascii_case(b"HEAD");
                let connect_ok =
                    t.method.eq_ignore_ascii_case(b"CONNECT") && (200..300).contains(&code);
                // Like libhtp (and browsers), a 1xx, 204 or 304 response
                // that announces a body with Transfer-Encoding or a
                // non-zero Content-Length has one (libhtp also takes a zero
                // length as a body, an empty one; here such a response
                // stays interim, or a switch of protocols).
                let framed = has_te || matches!(length, Some(Some(n)) if n > 0);
                if (code == 101 && !framed) || connect_ok {
                    state = State::Tunnel;
                    let h2c = t
                        .response
                        .headers
                        .iter()
                        .any(|h| name_is(&h.name, b"upgrade") && h.value == b"h2c");
                    if code == 101 && h2c && switching {
                        anomalies.push(HttpAnomaly::FailedProtocolChange);
                    }
                } else if (100..200).contains(&code) && !framed {
                    // Interim response: the final one for this request follows.
                    state = State::Line;
                } else if head || ((code == 204 || code == 304) && !framed) {
                    state = State::Line;
                } else if chunked {
                    state = State::ChunkSize;
                } else {
                    state = match length {
                        Some(Some(0)) => State::Line,
                        Some(Some(n)) => State::Length(n),
                        _ => State::UntilClose,
                    };
                }
                let mut ce = Vec::new();
                for h in t
                    .response
                    .headers
                    .iter()
                    .filter(|h| name_is(&h.name, b"content-encoding"))
                {
                    if !ce.is_empty() {
                        ce.extend_from_slice(b", ");
                    }
                    ce.extend_from_slice(&h.value);
                }
                codecs = content_codings(&ce, cfg.decompress_layers);
                if coding_count(&ce) > cfg.decompress_layers {
                    anomalies.push(HttpAnomaly::TooManyEncodingLayers);
                }
            }
        }
        let interim = dir == Direction::ToClient && state == State::Line && {
            let code = self
                .tx_mut(id)
                .map_or(0, |t| parse_len(&t.status_code).unwrap_or(0));
            (100..200).contains(&code) && code != 101
        };
        for a in anomalies {
            self.anomaly(Some(id), a, out);
        }
        if interim {
            // Forget the interim response: the next status line pairs with
            // the same request again.
            if let Some(t) = self.tx_mut(id) {
                t.response = Message::default();
            }
            self.resp.tx = None;
            self.resp.state = State::Line;
            return;
        }
        if let Some(t) = self.tx_mut(id) {
            match dir {
                Direction::ToServer => t.request.progress = Progress::Body,
                Direction::ToClient => t.response.progress = Progress::Body,
            }
        }
        out.push(match dir {
            Direction::ToServer => HttpEvent::RequestHeaders(id),
            Direction::ToClient => HttpEvent::ResponseHeaders(id),
        });
        let side = self.side(dir);
        side.decoder = (!codecs.is_empty()).then(|| {
            Decoder::new(
                &codecs,
                cfg.response_body_depth,
                cfg.decompress_cap,
                cfg.decompress_ratio,
                cfg.decompress_ratio_floor,
            )
        });
        match state {
            State::Line => self.complete(dir, id, out),
            State::Tunnel => {
                self.complete(dir, id, out);
                self.req.state = State::Tunnel;
                self.resp.state = State::Tunnel;
            }
            s => self.side(dir).state = s,
        }
    }

    /// One side of a transaction is complete.
    fn complete(&mut self, dir: Direction, id: u64, out: &mut Vec<HttpEvent>) {
        let mut stop = None;
        let side = self.side(dir);
        let decoder = side.decoder.take();
        if side.state != State::Tunnel {
            side.state = State::Line;
        }
        side.tx = None;
        if let Some(t) = self.tx_mut(id) {
            if let Some(mut d) = decoder {
                stop = d.finish(&mut t.response.body);
            }
            match dir {
                Direction::ToServer => {
                    t.request.progress = Progress::Complete;
                    t.request_anomalies = t.anomalies.len();
                    self.finalizing = Some(id);
                }
                Direction::ToClient => t.response.progress = Progress::Complete,
            }
        }
        if dir == Direction::ToClient {
            self.next_response = id + 1;
        }
        if let Some(s) = stop {
            self.anomaly(Some(id), stop_anomaly(s), out);
        }
        out.push(match dir {
            Direction::ToServer => HttpEvent::RequestComplete(id),
            Direction::ToClient => HttpEvent::ResponseComplete(id),
        });
    }

    fn step_body(
        &mut self,
        dir: Direction,
        data: &[u8],
        pos: &mut usize,
        out: &mut Vec<HttpEvent>,
    ) {
        let Some(id) = self.side(dir).tx else {
            if self.side(dir).state == State::Tunnel {
                *pos = data.len();
            } else {
                self.side(dir).state = State::Line;
            }
            return;
        };
        let rest = data.get(*pos..).unwrap_or_default();
        match self.side(dir).state {
            State::Length(n) => {
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                *pos += take;
                self.body(dir, id, rest.get(..take).unwrap_or_default(), out);
                let left = n - take as u64;
                if left == 0 {
                    self.complete(dir, id, out);
                } else {
                    self.side(dir).state = State::Length(left);
                }
            }
            State::ChunkData(n) => {
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                *pos += take;
                self.body(dir, id, rest.get(..take).unwrap_or_default(), out);
                let left = n - take as u64;
                self.side(dir).state = if left == 0 {
                    State::ChunkEnd
                } else {
                    State::ChunkData(left)
                };
            }
            State::UntilClose => {
                *pos = data.len();
                self.body(dir, id, rest, out);
            }
            State::ChunkSize | State::ChunkEnd => {
                let max = self.cfg.max_header_line;
                let was_end = self.side(dir).state == State::ChunkEnd;
                let resp = dir == Direction::ToClient;
                if resp && !was_end {
                    // libhtp does not wait for the end of a chunk-size line
                    // that already cannot be one: the body is not chunked.
                    // (Decided on the line's first bytes whether or not its
                    // end has arrived, so that the split does not matter.)
                    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    let head = rest.get(..line_end).unwrap_or_default();
                    let side = self.side(dir);
                    let first = side.line.iter().chain(head).find(|&&b| !is_chunk_ctl(b));
                    // Nor is one already longer than `max` (not counting a
                    // CR before its LF; libhtp gives up on the connection
                    // there), blank or not: it goes to the body whole, at
                    // once. Read on, it would lose its bytes past `max`,
                    // and when junk after a long run of control bytes then
                    // made it body, how many depended on where the pieces
                    // ended.
                    let len = side.line.len() + head.len();
                    let cr_last = head.last().or(side.line.last()) == Some(&b'\r');
                    let too_long = len.saturating_sub(usize::from(cr_last)) > max;
                    if too_long || first.is_some_and(|b| !b.is_ascii_hexdigit()) {
                        let mut bytes = std::mem::take(&mut side.line);
                        side.line_overflow = false;
                        side.tail.clear();
                        side.prev_cr = false;
                        bytes.extend_from_slice(rest);
                        *pos = data.len();
                        self.not_chunked(dir, id, &bytes, out);
                        return;
                    }
                }
                let Some(line) = self.read_line(dir, data, pos, max, false) else {
                    return;
                };
                if was_end {
                    // Like libhtp, whatever precedes the line feed after
                    // chunk data is skipped.
                    self.side(dir).state = State::ChunkSize;
                    if !trim(&line.bytes).is_empty() {
                        self.anomaly(Some(id), HttpAnomaly::ChunkDelimiterInvalid, out);
                    }
                    return;
                }
                if !resp && has_chunk_extension(&line.bytes) {
                    self.anomaly(Some(id), HttpAnomaly::RequestChunkExtension, out);
                }
                match parse_chunk_len(&line.bytes) {
                    // Tolerate blank lines before a chunk size.
                    ChunkLen::Empty => {}
                    ChunkLen::Len(0) if !line.too_long => self.side(dir).state = State::Trailers,
                    ChunkLen::Len(n) if !line.too_long => {
                        self.side(dir).state = State::ChunkData(n)
                    }
                    _ if resp => {
                        // Not a chunked body after all: like libhtp, the
                        // line and all that follows are the body, up to
                        // the end of the connection.
                        let mut bytes = line.bytes;
                        let ending: &[u8] = if line.bare_lf { b"\n" } else { b"\r\n" };
                        bytes.extend_from_slice(ending);
                        self.not_chunked(dir, id, &bytes, out);
                    }
                    _ => {
                        // A request body cannot run to the close: end it
                        // here and parse what follows as the next message.
                        self.anomaly(Some(id), HttpAnomaly::ChunkLengthInvalid, out);
                        self.complete(dir, id, out);
                    }
                }
            }
            State::Trailers => {
                let max = self.cfg.max_header_line;
                let Some(line) = self.read_line(dir, data, pos, max, false) else {
                    return;
                };
                if line.bytes.is_empty() {
                    self.complete(dir, id, out);
                }
            }
            State::Tunnel => *pos = data.len(),
            State::Line | State::Headers => {}
        }
    }

    /// A response announced as chunked is not: `bytes` (read as a chunk
    /// size) and everything after them are its body, up to the close.
    fn not_chunked(&mut self, dir: Direction, id: u64, bytes: &[u8], out: &mut Vec<HttpEvent>) {
        self.anomaly(Some(id), HttpAnomaly::ChunkLengthInvalid, out);
        self.side(dir).state = State::UntilClose;
        self.body(dir, id, bytes, out);
    }

    /// Body bytes of one side: stored up to depth, decompressed if needed.
    fn body(&mut self, dir: Direction, id: u64, bytes: &[u8], out: &mut Vec<HttpEvent>) {
        if bytes.is_empty() {
            return;
        }
        let req_depth = self.cfg.request_body_depth;
        let resp_depth = self.cfg.response_body_depth;
        let mut decoder = self.side(dir).decoder.take();
        let mut stop = None;
        if let Some(t) = self.tx_mut(id) {
            match dir {
                Direction::ToServer => {
                    t.request.body_len += bytes.len() as u64;
                    let room = req_depth.saturating_sub(t.request.body.len());
                    t.request
                        .body
                        .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
                }
                Direction::ToClient => {
                    t.response.body_len += bytes.len() as u64;
                    if let Some(d) = decoder.as_mut() {
                        stop = d.feed(bytes, &mut t.response.body);
                    } else {
                        let room = resp_depth.saturating_sub(t.response.body.len());
                        t.response.body.extend_from_slice(
                            bytes.get(..room.min(bytes.len())).unwrap_or_default(),
                        );
                    }
                }
            }
        }
        self.side(dir).decoder = decoder;
        if let Some(s) = stop {
            self.anomaly(Some(id), stop_anomaly(s), out);
        }
    }
}

/// Completes the line `side` has gathered. `cr_before`: its last byte is
/// the CR of its line ending.
fn end_line(
    side: &mut Side,
    max: usize,
    cr_before: bool,
    bare_lf: bool,
    bare_cr: bool,
    next: Option<u8>,
) -> Line {
    let mut bytes = std::mem::take(&mut side.line);
    let mut tail = std::mem::take(&mut side.tail);
    if tail.last() == Some(&b'\r') {
        tail.pop();
    }
    let too_long = side.line_overflow || bytes.len() > max + usize::from(cr_before);
    side.line_overflow = false;
    side.prev_cr = false;
    if cr_before && !too_long && bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    bytes.truncate(max);
    Line {
        bytes,
        too_long,
        bare_lf,
        bare_cr,
        next,
        tail,
    }
}

fn stop_anomaly(s: Stop) -> HttpAnomaly {
    match s {
        Stop::Failed => HttpAnomaly::GzipDecompressionFailed,
        Stop::Bomb => HttpAnomaly::CompressionBomb,
    }
}

/// Runs the strict httparse parser over a reassembled head.
fn strict_check(dir: Direction, line: &[u8], raw: &[u8], max_headers: usize) -> bool {
    let mut head = Vec::with_capacity(line.len() + 2 + raw.len());
    head.extend_from_slice(line);
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(raw);
    let mut hs = vec![httparse::EMPTY_HEADER; max_headers.clamp(1, 4096)];
    match dir {
        Direction::ToServer => matches!(
            httparse::Request::new(&mut hs).parse(&head),
            Ok(httparse::Status::Complete(_))
        ),
        Direction::ToClient => matches!(
            httparse::Response::new(&mut hs).parse(&head),
            Ok(httparse::Status::Complete(_))
        ),
    }
}

/// The content codings of a response's `Content-Encoding` value, in the
/// order libhtp undoes them (the order listed), at most `limit` of them.
/// Like libhtp: NULs and case are ignored; `gzip`, `x-gzip`, `deflate` and
/// `x-deflate` alone are one layer; otherwise the value is split at commas
/// and spaces, and each part mentioning `gzip` or `deflate` anywhere
/// (`x gzip`, `gzip;`) is a layer, other parts (`identity`, junk) none,
/// every part counting towards the limit.
fn content_codings(value: &[u8], limit: usize) -> Vec<Codec> {
    let v = lower_no_nul(value);
    match trim(&v) {
        b"gzip" | b"x-gzip" => return vec![Codec::Gzip],
        b"deflate" | b"x-deflate" => return vec![Codec::Deflate],
        _ => {}
    }
    v.split(|&b| b == b',' || b == b' ')
        .filter(|t| !t.is_empty())
        .take(limit)
        .filter_map(|t| {
            if memchr::memmem::find(t, b"gzip").is_some() {
                Some(Codec::Gzip)
            } else if memchr::memmem::find(t, b"deflate").is_some() {
                Some(Codec::Deflate)
            } else {
                None
            }
        })
        .collect()
}

/// How many codings a `Content-Encoding` value lists (libhtp counts
/// every token against its layer limit, `identity` included).
fn coding_count(value: &[u8]) -> usize {
    value
        .split(|&b| b == b',' || b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .count()
}

/// Request methods libhtp knows: a line that is one of these alone still
/// starts a request.
const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"VERSION-CONTROL",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"BASELINE-CONTROL",
    b"MERGE",
    b"INVALID",
];

/// Whether a line following a complete request is body data rather than a
/// request line (libhtp): after leading whitespace, a single token running
/// to the end of the line that is not a known method.
fn is_unexpected_body(line: &[u8]) -> bool {
    let mut l = line;
    while let Some((&last, head)) = l.split_last() {
        if last != b'\n' && last != b'\r' {
            break;
        }
        l = head;
    }
    let start = l
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(l.len());
    let token = l.get(start..).unwrap_or_default();
    !token.is_empty()
        && !token.iter().any(|b| b.is_ascii_whitespace())
        && !KNOWN_METHODS.contains(&token)
}

/// Whether a chunk-size line has a chunk extension: hex digits, optional
/// spaces, then `;`.
fn has_chunk_extension(line: &[u8]) -> bool {
    let rest = line
        .iter()
        .skip_while(|&&b| is_chunk_ctl(b))
        .skip_while(|b| b.is_ascii_hexdigit())
        .find(|&&b| b != b' ' && b != b'\t');
    rest == Some(&b';')
}

/// Whether a comma-separated header of that name lists `token`.
fn header_has_token(headers: &[Header], name: &[u8], token: &[u8]) -> bool {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .any(|h| {
            h.value
                .split(|&b| b == b',')
                .any(|t| trim(t).eq_ignore_ascii_case(token))
        })
}

/// Whether a response's first line starts with `http` (any case) after
/// whitespace and NULs: libhtp's test for "looks like a status line".
fn starts_with_http(l: &[u8]) -> bool {
    let s = l
        .iter()
        .position(|&b| !(b == 0 || b.is_ascii_whitespace() || b == 0x0b))
        .unwrap_or(l.len());
    l.get(s..s + 4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"http"))
}

/// A chunk-size line as libhtp reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkLen {
    /// Only line-ending, space and control characters: skipped.
    Empty,
    /// The size.
    Len(u64),
    /// No hexadecimal digits first, or a size past `i32::MAX`.
    Invalid,
}

/// Control characters libhtp skips before a chunk size.
fn is_chunk_ctl(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0x0b | 0x0c)
}

/// Reads a chunk-size line leniently, like libhtp: leading spaces and
/// control characters are skipped, the hexadecimal digits that follow are
/// the size, and anything after them (a chunk extension, or junk as in
/// `fx` or `f,`) is ignored.
fn parse_chunk_len(line: &[u8]) -> ChunkLen {
    let start = line
        .iter()
        .position(|&b| !is_chunk_ctl(b))
        .unwrap_or(line.len());
    let rest = line.get(start..).unwrap_or_default();
    if rest.is_empty() {
        return ChunkLen::Empty;
    }
    let n = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if n == 0 {
        return ChunkLen::Invalid;
    }
    let size = rest
        .get(..n)
        .unwrap_or_default()
        .iter()
        .try_fold(0u64, |acc, &d| {
            let v = char::from(d).to_digit(16)?;
            acc.checked_mul(16)?.checked_add(u64::from(v))
        });
    match size {
        Some(v) if v <= i32::MAX as u64 => ChunkLen::Len(v),
        _ => ChunkLen::Invalid,
    }
}

/// A decimal length (leading/trailing spaces allowed), `None` if invalid.
fn parse_len(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `http.host` from a raw host: lowercased, port and trailing spaces gone.
fn normalize_host(raw: &[u8]) -> Vec<u8> {
    let h = trim(raw);
    let h = if h.first() == Some(&b'[') {
        match memchr::memchr(b']', h) {
            Some(i) => h.get(..=i).unwrap_or(h),
            None => h,
        }
    } else {
        match memchr::memrchr(b':', h) {
            Some(i) => h.get(..i).unwrap_or(h),
            None => h,
        }
    };
    h.to_ascii_lowercase()
}

/// Whether a line reads like `Name: value` (a token, optional spaces, a
/// colon).
fn looks_like_header(b: &[u8]) -> bool {
    let n = b.iter().take_while(|&&c| is_tchar(c)).count();
    n > 0 && trim_start(b.get(n..).unwrap_or_default()).first() == Some(&b':')
}

/// A response header name trimmed like libhtp does: spaces, tabs, CR,
/// vertical tabs and form feeds around it go.
fn trim_name(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c');
    let s = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !ws(c)).map_or(0, |i| i + 1);
    b.get(s..e.max(s)).unwrap_or_default()
}

/// Whether a header name is `want` (lowercase), ignoring case and NUL
/// bytes, as libhtp looks headers up.
fn name_is(name: &[u8], want: &[u8]) -> bool {
    let mut it = name.iter().filter(|&&b| b != 0);
    want.iter()
        .all(|w| it.next().is_some_and(|b| b.eq_ignore_ascii_case(w)))
        && it.next().is_none()
}

/// A header value without its NUL bytes, lowercased.
fn lower_no_nul(v: &[u8]) -> Vec<u8> {
    v.iter()
        .filter(|&&b| b != 0)
        .map(u8::to_ascii_lowercase)
        .collect()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t' && c != b'\r')
        .unwrap_or(b.len());
    b.get(s..).unwrap_or_default()
}

fn trim(b: &[u8]) -> &[u8] {
    let b = trim_start(b);
    let e = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t' && c != b'\r')
        .map_or(0, |i| i + 1);
    b.get(..e).unwrap_or_default()
}
