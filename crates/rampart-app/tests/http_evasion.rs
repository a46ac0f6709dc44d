//! Response evasions (after https://noxxi.de/research/http-evader.html) that
//! libhtp, and so Suricata, sees through: each test crafts one trick and
//! checks the decoded response body.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;

use rampart_app::{Direction, HttpAnomaly, HttpConfig, HttpParser, HttpTransaction};

const TS: Direction = Direction::ToServer;
const TC: Direction = Direction::ToClient;
const REQ: &[u8] = b"GET /eicar.txt HTTP/1.1\r\nHost: h\r\n\r\n";
const BODY: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// The single transaction of one GET and `resp`, fed whole, then closed.
fn one(resp: &[u8]) -> HttpTransaction {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut ev = Vec::new();
    p.feed(TS, REQ, &mut ev);
    p.feed(TC, resp, &mut ev);
    p.finish(TS, &mut ev);
    p.finish(TC, &mut ev);
    let txs: Vec<HttpTransaction> = p.transactions().cloned().collect();
    assert_eq!(txs.len(), 1, "{:?}", txs);
    txs.into_iter().next().unwrap()
}

/// `head` (status line and headers, without the empty line) then `body`.
fn resp(head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut r = head.to_vec();
    r.extend_from_slice(body);
    r
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `BODY` chunked into pieces of `n` bytes, each size line written by
/// `size`.
fn chunked(n: usize, size: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in BODY.chunks(n) {
        out.extend_from_slice(&size(piece.len()));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const CHUNKED_HEAD: &[u8] = b"HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn chunk_sizes_with_junk_after_the_digits() {
    for junk in [&b"x"[..], b",", b"\0", b"\x0b", b" ; ext"] {
        let body = chunked(15, |n| {
            let mut s = format!("{n:x}").into_bytes();
            s.extend_from_slice(junk);
            s
        });
        let t = one(&resp(CHUNKED_HEAD, &body));
        assert_eq!(t.response_body(), BODY, "junk {junk:?}");
        assert!(t.is_complete());
    }
}

#[test]
fn chunk_sizes_after_control_characters() {
    let body = chunked(15, |n| format!("\x0b{n:x}").into_bytes());
    assert_eq!(one(&resp(CHUNKED_HEAD, &body)).response_body(), BODY);
}

#[test]
fn data_after_a_chunk_up_to_the_line_feed_is_skipped() {
    let t = one(&resp(
        CHUNKED_HEAD,
        b"3\r\nabcJUNK\r\n3\r\ndef\r\n0\r\n\r\n",
    ));
    assert_eq!(t.response_body(), b"abcdef");
    assert!(t.anomalies().contains(&HttpAnomaly::ChunkDelimiterInvalid));
}

#[test]
fn announced_chunking_that_is_not_there_reads_to_the_close() {
    // No line feed at all: decided as soon as the first byte is no size.
    let t = one(&resp(CHUNKED_HEAD, BODY));
    assert_eq!(t.response_body(), BODY);
    assert!(t.anomalies().contains(&HttpAnomaly::ChunkLengthInvalid));
    assert!(t.is_complete());
    // A whole line that is no size: it is part of the body.
    let t = one(&resp(CHUNKED_HEAD, b"zz top\r\nmore\r\n"));
    assert_eq!(t.response_body(), b"zz top\r\nmore\r\n");
    // Split after the first byte: the same.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut ev = Vec::new();
    p.feed(TS, REQ, &mut ev);
    let r = resp(CHUNKED_HEAD, BODY);
    let (a, b) = r.split_at(CHUNKED_HEAD.len() + 1);
    p.feed(TC, a, &mut ev);
    p.feed(TC, b, &mut ev);
    p.finish(TC, &mut ev);
    assert_eq!(p.transaction(0).unwrap().response_body(), BODY);
}

#[test]
fn transfer_encoding_mentioning_chunked_anywhere() {
    let body = chunked(5, |n| format!("{n:x}").into_bytes());
    for te in [
        &b"chunked;"[..],
        b"x chunked",
        b"\x0bchunked",
        b"chun\0ked",
        b"lalala, chunked",
        b"CHUNKED",
    ] {
        let mut head = b"HTTP/1.1 200 ok\r\nTransfer-Encoding: ".to_vec();
        head.extend_from_slice(te);
        head.extend_from_slice(b"\r\n\r\n");
        assert_eq!(one(&resp(&head, &body)).response_body(), BODY, "{te:?}");
    }
    // A NUL in the header name does not hide it either.
    let head = b"HTTP/1.1 200 ok\r\nTransfer\0-Encoding: chunked\r\n\r\n";
    assert_eq!(one(&resp(head, &body)).response_body(), BODY);
}

fn with_ce(ce: &[u8], body: &[u8]) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 ok\r\nContent-Encoding:".to_vec();
    r.extend_from_slice(ce);
    r.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    r.extend_from_slice(body);
    r
}

#[test]
fn odd_content_encoding_values() {
    let gz = gzip(BODY);
    for ce in [
        &b"gzip x"[..],
        b"x gzip",
        b"gzip,",
        b"gzip;",
        b": gzip",
        b"\0gzip",
        b"gzip\x0b",
        b"g\0zip",
        b"gzip,identity",
        b"X-GZIP",
    ] {
        assert_eq!(one(&with_ce(ce, &gz)).response_body(), BODY, "{ce:?}");
    }
    let raw = raw_deflate(BODY);
    for ce in [
        &b"deflate,"[..],
        b"identity,deflate",
        b"x-deflate",
        b"def\0late",
    ] {
        assert_eq!(one(&with_ce(ce, &raw)).response_body(), BODY, "{ce:?}");
    }
}

#[test]
fn layered_content_encodings() {
    // `gzip, deflate`: deflate was applied last, yet libhtp undoes the
    // codings in the order listed; each layer sniffs its format.
    let layered = raw_deflate(&gzip(BODY));
    for ce in [&b"gzip, deflate"[..], b"deflate, gzip"] {
        let t = one(&with_ce(ce, &layered));
        assert_eq!(t.response_body(), BODY, "{ce:?}");
        assert!(t.anomalies().is_empty(), "{:?}", t.anomalies());
    }
    // Repeated headers are one list.
    let r = resp(
        format!(
            "HTTP/1.1 200 ok\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            layered.len()
        )
        .as_bytes(),
        &layered,
    );
    assert_eq!(one(&r).response_body(), BODY);
    // At most three layers are undone.
    let four = gzip(&gzip(&gzip(&gzip(BODY))));
    let t = one(&with_ce(b"gzip, gzip, gzip, gzip", &four));
    assert_eq!(t.response_body(), gzip(BODY));
}

#[test]
fn mislabelled_uncompressed_bodies_pass_through() {
    for ce in [
        &b"deflate"[..],
        b"gzip",
        b"deflate, deflate",
        b"deflate, gzip",
    ] {
        let t = one(&with_ce(ce, BODY));
        assert_eq!(t.response_body(), BODY, "{ce:?}");
        assert!(t
            .anomalies()
            .contains(&HttpAnomaly::GzipDecompressionFailed));
    }
}

#[test]
fn gzip_headers_libhtp_accepts() {
    let gz = gzip(BODY);
    // Reserved flag bits.
    let mut odd = gz.clone();
    odd[3] = 0x20;
    assert_eq!(one(&with_ce(b"gzip", &odd)).response_body(), BODY);
    // A header CRC that is wrong.
    let mut crc = gz[..10].to_vec();
    crc[3] = 0x02;
    crc.extend_from_slice(&[0, 0]);
    crc.extend_from_slice(&gz[10..]);
    assert_eq!(one(&with_ce(b"gzip", &crc)).response_body(), BODY);
}

#[test]
fn bare_cr_ends_response_lines() {
    // In the status line and between headers.
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    for head in [
        &b"HTTP/1.1 200 \rTransfer-Encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 ok\r\nX: y\rTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let t = one(&resp(head, &body));
        assert_eq!(t.response_body(), BODY, "{head:?}");
    }
    // A CR at the end of one piece, the header in the next.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut ev = Vec::new();
    p.feed(TS, REQ, &mut ev);
    p.feed(TC, b"HTTP/1.1 200 ok\r\nX: y\r", &mut ev);
    p.feed(TC, b"Transfer-Encoding: chunked\r\n\r\n", &mut ev);
    p.feed(TC, &body, &mut ev);
    assert_eq!(p.transaction(0).unwrap().response_body(), BODY);
    // `Content-Encoding:\rdeflate`: the value ends at the CR.
    let head = format!(
        "HTTP/1.1 200 ok\r\nContent-Encoding:\rdeflate\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    );
    let t = one(&resp(head.as_bytes(), BODY));
    assert_eq!(t.response_body(), BODY);
    assert!(!t
        .anomalies()
        .contains(&HttpAnomaly::GzipDecompressionFailed));
}

#[test]
fn odd_line_endings_that_do_not_end_the_head() {
    let gz = gzip(BODY);
    let cl = format!("Content-Length: {}", gz.len());
    for ending in [
        // `\n\r` is one line ending.
        &b"\n\r\r\n"[..],
        // `\n\r\r\n` before another line ending is one too.
        b"\n\r\r\n\r\n",
        // A line of one blank then LF, when another LF follows, is folding.
        b"\n \n\n",
        b"\r\n\r\n",
    ] {
        let mut r = b"HTTP/1.1 200 ok\r\nContent-Encoding: gzip\r\n".to_vec();
        r.extend_from_slice(cl.as_bytes());
        r.extend_from_slice(ending);
        r.extend_from_slice(&gz);
        assert_eq!(one(&r).response_body(), BODY, "{ending:?}");
    }
    // `\r\n\r\r` (or `\r\n\r \r`) before the next header does not end it.
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    for gap in [&b"\r\r"[..], b"\r \r"] {
        let mut head = b"HTTP/1.1 200 ok\r\nConnection: close\r\n".to_vec();
        head.extend_from_slice(gap);
        head.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        assert_eq!(one(&resp(&head, &body)).response_body(), BODY, "{gap:?}");
    }
}

#[test]
fn a_blank_line_ended_by_lf_ends_the_head() {
    for blank in [&b" \n"[..], b"\t\n"] {
        let mut r = format!("HTTP/1.1 200 ok\r\nContent-Length: {}\n", BODY.len()).into_bytes();
        r.extend_from_slice(blank);
        r.extend_from_slice(BODY);
        assert_eq!(one(&r).response_body(), BODY, "{blank:?}");
    }
}

#[test]
fn folding_completes_a_header_name_without_colon() {
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    for head in [
        &b"HTTP/1.1 200 ok\r\nTransfer-Encoding\n :chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 ok\r\nTransfer-Encoding\r\n :\r\n chunked\r\n\r\n",
        b"HTTP/1.1 200 ok\r\nTransfer-Encoding\r\n \r\n :\r\n chunked\r\n\r\n",
    ] {
        let t = one(&resp(head, &body));
        assert_eq!(t.response_body(), BODY, "{head:?}");
        assert_eq!(
            t.header_value(TC, "transfer-encoding").unwrap().as_ref(),
            b"chunked"
        );
    }
}

#[test]
fn indented_header_lines() {
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    // A folded line that reads like a header is one (libhtp).
    for head in [
        &b"HTTP/1.1 200 ok\r\nX-Foo: bar\r\n Transfer-Encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 ok\r\n\tTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(one(&resp(head, &body)).response_body(), BODY, "{head:?}");
    }
    // Continuation lines may start with NUL in responses.
    let head = b"HTTP/1.1 200 ok\r\nTransfer-Encoding:\n\0chunked\r\n\r\n";
    assert_eq!(one(&resp(head, &body)).response_body(), BODY);
    // Ordinary folding still joins values.
    let t = one(b"HTTP/1.1 200 ok\r\nX-Long: a\r\n b c\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(t.header_value(TC, "x-long").unwrap().as_ref(), b"a b c");
}

#[test]
fn bodies_of_responses_that_should_have_none() {
    for code in ["101", "204", "304", "100", "199"] {
        let r = resp(
            format!(
                "HTTP/1.1 {code} ok\r\nContent-Length: {}\r\n\r\n",
                BODY.len()
            )
            .as_bytes(),
            BODY,
        );
        assert_eq!(one(&r).response_body(), BODY, "{code}");
    }
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    let r = resp(
        b"HTTP/1.1 204 ok\r\nTransfer-Encoding: chunked\r\n\r\n",
        &body,
    );
    assert_eq!(one(&r).response_body(), BODY);
    // Without framing headers (or with a zero length) there is still no
    // body, and a 100 stays interim.
    let t = one(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(t.response_body(), b"");
    assert!(t.is_complete());
    let t = one(b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(t.stat_code(), b"200");
    assert_eq!(t.response_body(), b"ok");
}

#[test]
fn a_response_without_status_line_is_a_body() {
    // Cut short by the close, no line feed.
    let t = one(BODY);
    assert_eq!(t.response_body(), BODY);
    assert!(t.is_complete());
    // With lines.
    let t = one(b"<html>\r\nhello</html>");
    assert_eq!(t.response_body(), b"<html>\r\nhello</html>");
    // Junk before a status line is skipped when an `H` follows it.
    let body = chunked(4, |n| format!("{n:x}").into_bytes());
    let r = resp(
        b"foobar\r\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n",
        &body,
    );
    let t = one(&r);
    assert_eq!(t.stat_code(), b"200");
    assert_eq!(t.response_body(), BODY);
}
