//! Application-layer parsing inside the pipeline: protocol detection on a
//! flow's first stream bytes, the HTTP parser fed with reassembled data of
//! both directions, and transactions handed to the rule engine.

use std::borrow::Cow;

use rampart_app::http::{Direction as HttpDir, HttpConfig, HttpEvent, HttpParser, HttpTransaction};
use rampart_app::protocol::{detect_protocol, AppProto};
use rampart_detect::{TxBuffers, TxSide};
use rampart_rules::Buffer;
use rampart_stream::flow::Direction;

/// Per-flow application-layer state.
#[derive(Debug, Default)]
pub struct AppState {
    /// The detected protocol, once known.
    pub proto: Option<AppProto>,
    /// Directions whose first bytes were tried for protocol detection.
    tried: [bool; 2],
    /// The HTTP parser of an HTTP flow.
    http: Option<Box<HttpParser>>,
}

/// A transaction side ready for inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyTx {
    /// Transaction id in the flow's parser.
    pub id: u64,
    /// Request or response.
    pub side: TxSide,
}

impl AppState {
    /// Feeds in-order stream data of `dir` (its first bytes decide the
    /// protocol) and appends the transaction sides that became complete.
    pub fn feed(&mut self, dir: Direction, data: &[u8], ready: &mut Vec<ReadyTx>) {
        if self.proto.is_none() {
            let Some(tried) = self.tried.get_mut(dir.index()) else {
                return;
            };
            if *tried {
                return;
            }
            *tried = true;
            self.proto = detect_protocol(data, dir == Direction::ToServer);
            if self.proto == Some(AppProto::Http) {
                self.http = Some(Box::new(HttpParser::new(HttpConfig::default())));
            }
        }
        if let Some(http) = self.http.as_mut() {
            let mut events = Vec::new();
            http.feed(http_dir(dir), data, &mut events);
            collect(&events, ready);
        }
    }

    /// Ends both directions (connection closed or flow ended).
    pub fn finish(&mut self, ready: &mut Vec<ReadyTx>) {
        if let Some(http) = self.http.as_mut() {
            let mut events = Vec::new();
            http.finish(HttpDir::ToServer, &mut events);
            http.finish(HttpDir::ToClient, &mut events);
            collect(&events, ready);
        }
    }

    /// The transaction `id`, while the parser still holds it.
    pub fn transaction(&self, id: u64) -> Option<&HttpTransaction> {
        self.http.as_ref().and_then(|h| h.transaction(id))
    }

    /// Frees transactions whose both sides were inspected.
    pub fn release_completed(&mut self) {
        if let Some(http) = self.http.as_mut() {
            let _ = http.remove_completed();
        }
    }
}

fn http_dir(dir: Direction) -> HttpDir {
    match dir {
        Direction::ToServer => HttpDir::ToServer,
        Direction::ToClient => HttpDir::ToClient,
    }
}

fn collect(events: &[HttpEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        match e {
            HttpEvent::RequestComplete(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Request,
            }),
            HttpEvent::ResponseComplete(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Response,
            }),
            _ => {}
        }
    }
}

/// One side of an HTTP transaction, as the rule engine's buffers.
pub struct HttpTxView<'a> {
    /// The transaction.
    pub tx: &'a HttpTransaction,
    /// The side inspected (decides direction-dependent buffers such as
    /// `http.header` and `http.cookie`).
    pub side: TxSide,
}

impl TxBuffers for HttpTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let tx = self.tx;
        let dir = match self.side {
            TxSide::Request => HttpDir::ToServer,
            TxSide::Response => HttpDir::ToClient,
        };
        match buffer {
            Buffer::HttpUri => non_empty(tx.uri()),
            Buffer::HttpUriRaw => non_empty(tx.uri_raw()),
            Buffer::HttpMethod => non_empty(tx.method()),
            Buffer::HttpProtocol => non_empty(match self.side {
                TxSide::Request => tx.protocol(),
                TxSide::Response => tx.response_protocol(),
            }),
            Buffer::HttpRequestLine => non_empty(tx.request_line()),
            Buffer::HttpRequestBody => non_empty(tx.request_body()),
            Buffer::HttpResponseBody => non_empty(tx.response_body()),
            Buffer::HttpHeader => {
                let h = tx.header(dir);
                (!h.is_empty()).then_some(Cow::Owned(h))
            }
            Buffer::HttpHeaderRaw => non_empty(tx.header_raw(dir)),
            Buffer::HttpHeaderNames => Some(Cow::Owned(tx.header_names(dir))),
            Buffer::HttpCookie => tx.cookie(dir),
            Buffer::HttpUserAgent => tx.user_agent(),
            Buffer::HttpHost => tx.host().map(Cow::Borrowed),
            Buffer::HttpHostRaw => tx.host_raw().map(Cow::Borrowed),
            Buffer::HttpAccept => tx.accept(),
            Buffer::HttpAcceptEnc => tx.header_value(HttpDir::ToServer, "accept-encoding"),
            Buffer::HttpAcceptLang => tx.header_value(HttpDir::ToServer, "accept-language"),
            Buffer::HttpConnection => tx.header_value(HttpDir::ToServer, "connection"),
            Buffer::HttpContentType => tx.content_type(dir),
            Buffer::HttpContentLen => tx.content_len(dir),
            Buffer::HttpReferer => tx.referer(),
            Buffer::HttpStart => Some(Cow::Owned(tx.start(dir))),
            Buffer::HttpStatCode => non_empty(tx.stat_code()),
            Buffer::HttpStatMsg => non_empty(tx.stat_msg()),
            Buffer::HttpResponseLine => non_empty(tx.response_line()),
            Buffer::HttpLocation => tx.header_value(HttpDir::ToClient, "location"),
            Buffer::HttpServer => tx.header_value(HttpDir::ToClient, "server"),
            Buffer::FileData => non_empty(match self.side {
                TxSide::Request => tx.request_body(),
                TxSide::Response => tx.response_body(),
            }),
            _ => None,
        }
    }
}

/// A buffer that is present only when it has bytes (an empty URI or body
/// is "no buffer" for the rules, as in Suricata).
fn non_empty(b: &[u8]) -> Option<Cow<'_, [u8]>> {
    (!b.is_empty()).then_some(Cow::Borrowed(b))
}
