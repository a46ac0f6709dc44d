//! A streaming MIME (RFC 2045/2046) message parser for mail carried by
//! SMTP, fed one line at a time, as Suricata's MIME decoder is: the
//! message headers (unfolded) give EVE's `email` fields, nested
//! `multipart/*` parts are split on their boundaries, and every part that
//! names a file (`Content-Disposition: ...; filename=` or
//! `Content-Type: ...; name=`) becomes a [`MimeFile`] whose decoded
//! content (base64, quoted-printable or as sent) is what `file.data`
//! inspects.
//!
//! It never fails: malformed input is reported as [`MimeAnomaly`] values
//! (Suricata's `smtp.mime_*` events) and parsing carries on where it can.
//! Every buffer is bounded: header values by [`MAX_HEADER_VALUE`], the
//! number of headers kept by [`MAX_HEADERS`] per part and their bytes by
//! [`MAX_HEADER_BYTES`] per message, nesting by [`MAX_DEPTH`], files and
//! the decoded bytes kept of them by [`MimeConfig`].

use md5::{Digest, Md5};

/// Longest header name before [`MimeAnomaly::LongHeaderName`] (RFC 2045's
/// 76-character line less the colon, Suricata's `MAX_HEADER_NAME`).
pub const MAX_HEADER_NAME: usize = 75;
/// Longest header value kept (Suricata's `MAX_HEADER_VALUE`); the rest is
/// dropped and reported as [`MimeAnomaly::LongHeaderValue`].
pub const MAX_HEADER_VALUE: usize = 2000;
/// Headers kept per part (the rest are dropped silently).
pub const MAX_HEADERS: usize = 64;
/// Longest line before [`MimeAnomaly::LongLine`] (RFC 5322's 998).
pub const MAX_LINE_LEN: usize = 998;
/// Longest encoded line before [`MimeAnomaly::LongEncodedLine`] (RFC
/// 2045's 76).
pub const MAX_ENC_LINE_LEN: usize = 76;
/// Longest boundary accepted (Suricata's `BOUNDARY_BUF` less the two
/// dashes): a longer one stops MIME parsing with
/// [`MimeAnomaly::LongBoundary`].
pub const MAX_BOUNDARY_LEN: usize = 254;
/// Deepest nesting of multipart parts followed.
pub const MAX_DEPTH: usize = 16;
/// Longest file name kept (Suricata's `RS_MIME_MAX_TOKEN_LEN`).
pub const MAX_FILE_NAME: usize = 255;
/// Header bytes (names and values) kept per message, all parts together:
/// later headers are dropped, so that deep nesting cannot multiply the
/// per-part header limits.
pub const MAX_HEADER_BYTES: usize = 64 << 10;

/// Limits on what the parser keeps of a message's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeConfig {
    /// Decoded bytes of each file kept for inspection (its size and MD5
    /// cover all of it).
    pub max_file_data: usize,
    /// Files kept per message; later attachments are neither named nor
    /// inspected.
    pub max_files: usize,
    /// Decoded bytes kept per message, all files together (the files'
    /// sizes and MD5s still cover everything).
    pub max_message_data: usize,
}

impl Default for MimeConfig {
    fn default() -> Self {
        MimeConfig {
            max_file_data: 1 << 20,
            max_files: 64,
            max_message_data: 4 << 20,
        }
    }
}

/// Deviations from the MIME rules, named after Suricata's `smtp.mime_*`
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MimeAnomaly {
    /// A character outside the base64 alphabet in a base64 part.
    InvalidBase64,
    /// A `=` not followed by two hex digits (or a line end) in a
    /// quoted-printable part.
    InvalidQp,
    /// A header name longer than [`MAX_HEADER_NAME`].
    LongHeaderName,
    /// A header value longer than [`MAX_HEADER_VALUE`].
    LongHeaderValue,
    /// A line longer than [`MAX_LINE_LEN`].
    LongLine,
    /// An encoded line longer than [`MAX_ENC_LINE_LEN`].
    LongEncodedLine,
    /// A boundary longer than [`MAX_BOUNDARY_LEN`]: parsing stops.
    LongBoundary,
    /// Parts nested deeper than [`MAX_DEPTH`], or a header line without a
    /// colon.
    MalformedMessage,
}

impl MimeAnomaly {
    /// The `app-layer-event:smtp.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            MimeAnomaly::InvalidBase64 => "mime_invalid_base64",
            MimeAnomaly::InvalidQp => "mime_invalid_qp",
            MimeAnomaly::LongHeaderName => "mime_long_header_name",
            MimeAnomaly::LongHeaderValue => "mime_long_header_value",
            MimeAnomaly::LongLine => "mime_long_line",
            MimeAnomaly::LongEncodedLine => "mime_long_enc_line",
            MimeAnomaly::LongBoundary => "mime_long_boundary",
            MimeAnomaly::MalformedMessage => "mime_malformed_msg",
        }
    }
}

/// A file a message carries: an attachment's decoded content.
#[derive(Clone)]
pub struct MimeFile {
    /// Its name (`filename=` or `name=`), up to [`MAX_FILE_NAME`] bytes.
    pub name: Vec<u8>,
    /// The first [`MimeConfig::max_file_data`] decoded bytes.
    pub data: Vec<u8>,
    /// Decoded bytes in all.
    pub size: u64,
    /// The part ended (its boundary, or the end of the message, was
    /// seen).
    pub closed: bool,
    /// MD5 of all decoded bytes, once closed.
    pub md5: Option<[u8; 16]>,
    hasher: Md5,
}

impl std::fmt::Debug for MimeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MimeFile")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("size", &self.size)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl MimeFile {
    fn new(name: Vec<u8>) -> MimeFile {
        MimeFile {
            name,
            data: Vec::new(),
            size: 0,
            closed: false,
            md5: None,
            hasher: Md5::new(),
        }
    }

    fn append(&mut self, bytes: &[u8], max: usize) {
        if self.closed {
            return;
        }
        self.size = self.size.saturating_add(bytes.len() as u64);
        self.hasher.update(bytes);
        let room = max.saturating_sub(self.data.len());
        self.data
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(bytes));
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            let mut out = [0u8; 16];
            out.copy_from_slice(&self.hasher.clone().finalize());
            self.md5 = Some(out);
        }
    }
}

/// How a part's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Encoding {
    #[default]
    Plain,
    Base64,
    QuotedPrintable,
}

/// Where a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Headers,
    Body,
    /// After a multipart's closing boundary: ignored up to the parent's
    /// next boundary.
    Epilogue,
}

/// One part being parsed (the message itself is the first).
#[derive(Debug, Default)]
struct Part {
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    encoding: Encoding,
    /// Its own boundary, when it is multipart.
    boundary: Option<Vec<u8>>,
    /// Index in [`MimeMessage::files`] of the file it carries.
    file: Option<usize>,
    /// Base64 characters waiting for a full quantum.
    b64: Vec<u8>,
    /// A `message/rfc822` part: its body is a message with headers.
    encapsulated: bool,
    /// A body line ended (not with a quoted-printable soft break): the
    /// next one is joined to it with CRLF. The line ending before a
    /// boundary belongs to the boundary, so it is never added.
    crlf_pending: bool,
}

/// Whether parsing reached the end of the message cleanly, as EVE's
/// `email.status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MimeStatus {
    /// Still parsing.
    #[default]
    Parsing,
    /// The message ended and parsed (`PARSE_DONE`).
    Done,
    /// Parsing stopped on an error (`PARSE_ERROR`), e.g. a too long
    /// boundary.
    Error,
}

impl MimeStatus {
    /// EVE's name.
    pub fn name(self) -> &'static str {
        match self {
            MimeStatus::Parsing => "BODY_STARTED",
            MimeStatus::Done => "PARSE_DONE",
            MimeStatus::Error => "PARSE_ERROR",
        }
    }
}

/// A mail message being parsed line by line.
#[derive(Debug, Default)]
pub struct MimeMessage {
    config: MimeConfig,
    /// The message's own headers (name lowercased, value unfolded).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The files of its parts, in order.
    pub files: Vec<MimeFile>,
    /// Anomalies found, each once.
    pub anomalies: Vec<MimeAnomaly>,
    /// Parse status.
    pub status: MimeStatus,
    stack: Vec<Part>,
    stage: Option<Stage>,
    /// A header line being unfolded: name and value.
    pending: Option<(Vec<u8>, Vec<u8>)>,
    /// Inside a long body line fed in pieces.
    partial_body: bool,
    /// Decoded file bytes kept so far (see
    /// [`MimeConfig::max_message_data`]).
    kept: usize,
    /// Header bytes kept so far (see [`MAX_HEADER_BYTES`]).
    header_bytes: usize,
}

impl MimeMessage {
    /// A parser for one message.
    pub fn new(config: MimeConfig) -> MimeMessage {
        MimeMessage {
            config,
            stack: vec![Part::default()],
            stage: Some(Stage::Headers),
            ..MimeMessage::default()
        }
    }

    /// The first value of header `name` (lowercase) of the message.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    fn anomaly(&mut self, a: MimeAnomaly) {
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }

    /// Feeds one line of the message, without its line ending (and, in
    /// SMTP, after dot-unstuffing).
    pub fn line(&mut self, line: &[u8]) {
        if self.status != MimeStatus::Parsing {
            return;
        }
        if line.len() > MAX_LINE_LEN {
            self.anomaly(MimeAnomaly::LongLine);
        }
        if let Some(level) = self.boundary_match(line) {
            self.on_boundary(level, line);
            return;
        }
        match self.stage {
            Some(Stage::Headers) => self.header_line(line),
            Some(Stage::Body) => self.body_line(line),
            Some(Stage::Epilogue) | None => {}
        }
    }

    /// The stack level whose boundary `line` is (`--boundary` or
    /// `--boundary--`, trailing white space allowed).
    fn boundary_match(&self, line: &[u8]) -> Option<usize> {
        let rest = line.strip_prefix(b"--")?;
        self.stack.iter().enumerate().rev().find_map(|(i, p)| {
            let b = p.boundary.as_deref()?;
            let after = rest.strip_prefix(b)?;
            let after = after.strip_prefix(b"--").unwrap_or(after);
            after
                .iter()
                .all(|c| matches!(c, b' ' | b'\t' | b'\r'))
                .then_some(i)
        })
    }

    fn on_boundary(&mut self, level: usize, line: &[u8]) {
        if self.stage == Some(Stage::Headers) {
            self.end_headers();
        }
        while self.stack.len() > level + 1 {
            if let Some(p) = self.stack.pop() {
                self.close_part(p);
            }
        }
        let closing = line.trim_ascii_end().ends_with(b"--")
            && self
                .stack
                .get(level)
                .and_then(|p| p.boundary.as_ref())
                .is_some_and(|b| line.trim_ascii_end().len() == b.len() + 4);
        if closing {
            self.stage = Some(Stage::Epilogue);
        } else if self.stack.len() >= MAX_DEPTH {
            self.anomaly(MimeAnomaly::MalformedMessage);
            self.stage = Some(Stage::Epilogue);
        } else {
            self.stack.push(Part::default());
            self.stage = Some(Stage::Headers);
        }
    }

    fn header_line(&mut self, line: &[u8]) {
        if line.is_empty() {
            self.end_headers();
            return;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some((_, value)) = self.pending.as_mut() {
                let room = MAX_HEADER_VALUE.saturating_sub(value.len());
                if line.len() > room {
                    value.extend_from_slice(line.get(..room).unwrap_or_default());
                    self.anomaly(MimeAnomaly::LongHeaderValue);
                } else {
                    value.extend_from_slice(line);
                }
            }
            return;
        }
        self.flush_header();
        let Some(colon) = memchr::memchr(b':', line) else {
            // Not a header: the body starts without the empty line.
            self.anomaly(MimeAnomaly::MalformedMessage);
            self.end_headers();
            self.body_line(line);
            return;
        };
        let name = line.get(..colon).unwrap_or_default().trim_ascii();
        if name.len() > MAX_HEADER_NAME {
            self.anomaly(MimeAnomaly::LongHeaderName);
        }
        let name = name
            .get(..MAX_HEADER_NAME)
            .unwrap_or(name)
            .to_ascii_lowercase();
        let value = line.get(colon + 1..).unwrap_or_default().trim_ascii_start();
        if value.len() > MAX_HEADER_VALUE {
            self.anomaly(MimeAnomaly::LongHeaderValue);
        }
        let value = value.get(..MAX_HEADER_VALUE).unwrap_or(value).to_vec();
        self.pending = Some((name, value));
    }

    fn flush_header(&mut self) {
        if let Some((name, value)) = self.pending.take() {
            let value = value.trim_ascii_end().to_vec();
            let size = name.len() + value.len();
            if self.header_bytes.saturating_add(size) > MAX_HEADER_BYTES {
                return;
            }
            if let Some(part) = self.stack.last_mut() {
                if part.headers.len() < MAX_HEADERS {
                    self.header_bytes += size;
                    part.headers.push((name, value));
                }
            }
        }
    }

    /// The current part's headers are complete: its encoding, boundary
    /// and file name are known.
    fn end_headers(&mut self) {
        self.flush_header();
        self.stage = Some(Stage::Body);
        let max_files = self.config.max_files;
        let nfiles = self.files.len();
        let depth = self.stack.len();
        let Some(part) = self.stack.last_mut() else {
            return;
        };
        if depth == 1 && self.headers.is_empty() {
            self.headers = part.headers.clone();
        }
        let find = |name: &str| {
            part.headers
                .iter()
                .find(|(n, _)| n == name.as_bytes())
                .map(|(_, v)| v.clone())
        };
        if let Some(te) = find("content-transfer-encoding") {
            let te = te.to_ascii_lowercase();
            if memchr::memmem::find(&te, b"base64").is_some() {
                part.encoding = Encoding::Base64;
            } else if memchr::memmem::find(&te, b"quoted-printable").is_some() {
                part.encoding = Encoding::QuotedPrintable;
            }
        }
        let mut name = find("content-disposition").and_then(|v| token(&v, b"filename"));
        let ctype = find("content-type");
        let mut long_boundary = false;
        if let Some(ct) = ctype.as_deref() {
            if let Some(b) = token(ct, b"boundary") {
                if b.len() > MAX_BOUNDARY_LEN {
                    long_boundary = true;
                } else if !b.is_empty() {
                    part.boundary = Some(b);
                }
            }
            if name.is_none() {
                name = token(ct, b"name");
            }
            let lower = ct.to_ascii_lowercase();
            part.encapsulated = lower.trim_ascii_start().starts_with(b"message/rfc822");
        }
        if let Some(mut n) = name {
            if nfiles < max_files {
                n.truncate(MAX_FILE_NAME);
                part.file = Some(nfiles);
                self.files.push(MimeFile::new(n));
            }
        }
        if long_boundary {
            self.anomaly(MimeAnomaly::LongBoundary);
            self.status = MimeStatus::Error;
            return;
        }
        // An encapsulated message's headers follow as a new part.
        if self.stack.last().is_some_and(|p| p.encapsulated) && self.stack.len() < MAX_DEPTH {
            self.stack.push(Part::default());
            self.stage = Some(Stage::Headers);
        }
    }

    fn body_line(&mut self, line: &[u8]) {
        self.body_bytes(line, true, true);
    }

    /// Feeds a piece of a line too long to buffer whole: `first` says it
    /// starts the line. Body content carries on across the pieces; a
    /// header or boundary line is read from its first piece only.
    /// [`MimeMessage::fragment_end`] ends the line.
    pub fn fragment(&mut self, bytes: &[u8], first: bool) {
        if self.status != MimeStatus::Parsing {
            return;
        }
        if first {
            self.anomaly(MimeAnomaly::LongLine);
            self.partial_body = self.stage == Some(Stage::Body);
            if !self.partial_body {
                self.line(bytes);
                return;
            }
        }
        if self.partial_body {
            self.body_bytes(bytes, first, false);
        }
    }

    /// The long line [`MimeMessage::fragment`] was given ended with
    /// `rest` (its last bytes, without the line ending).
    pub fn fragment_end(&mut self, rest: &[u8]) {
        if self.status != MimeStatus::Parsing {
            return;
        }
        if self.partial_body {
            self.body_bytes(rest, false, true);
        }
        self.partial_body = false;
    }

    /// Body content: `line` is a whole line (`start` and `end`) or a
    /// piece of one.
    fn body_bytes(&mut self, line: &[u8], start: bool, end: bool) {
        let budget = self.config.max_message_data.saturating_sub(self.kept);
        let per_file = self.config.max_file_data;
        let Some(part) = self.stack.last_mut() else {
            return;
        };
        if part.boundary.is_some() {
            // A multipart's preamble.
            return;
        }
        let Some(file) = part.file.and_then(|i| self.files.get_mut(i)) else {
            return;
        };
        let before = file.data.len();
        let max = per_file.min(before.saturating_add(budget));
        let mut anomalies = Vec::new();
        match part.encoding {
            Encoding::Plain => {
                if part.crlf_pending && start {
                    file.append(b"\r\n", max);
                    part.crlf_pending = false;
                }
                file.append(line, max);
                part.crlf_pending = end;
            }
            Encoding::Base64 => {
                if line.len() > MAX_ENC_LINE_LEN || !(start && end) {
                    anomalies.push(MimeAnomaly::LongEncodedLine);
                }
                let mut out = Vec::with_capacity(line.len() / 4 * 3 + 3);
                for &c in line {
                    match b64_value(c) {
                        Some(v) => {
                            part.b64.push(v);
                            if part.b64.len() == 4 {
                                b64_quantum(&part.b64, &mut out);
                                part.b64.clear();
                            }
                        }
                        None if c == b'=' => {
                            // Padding ends the quantum.
                            b64_quantum(&part.b64, &mut out);
                            part.b64.clear();
                        }
                        None if c.is_ascii_whitespace() => {}
                        None => anomalies.push(MimeAnomaly::InvalidBase64),
                    }
                }
                file.append(&out, max);
            }
            Encoding::QuotedPrintable => {
                if line.len() > MAX_ENC_LINE_LEN || !(start && end) {
                    anomalies.push(MimeAnomaly::LongEncodedLine);
                }
                if part.crlf_pending && start {
                    file.append(b"\r\n", max);
                    part.crlf_pending = false;
                }
                let (out, soft, bad) = qp_decode(line, end);
                if bad {
                    anomalies.push(MimeAnomaly::InvalidQp);
                }
                file.append(&out, max);
                part.crlf_pending = end && !soft;
            }
        }
        self.kept = self
            .kept
            .saturating_add(file.data.len().saturating_sub(before));
        for a in anomalies {
            self.anomaly(a);
        }
    }

    fn close_part(&mut self, mut part: Part) {
        let budget = self.config.max_message_data.saturating_sub(self.kept);
        if let Some(file) = part.file.and_then(|i| self.files.get_mut(i)) {
            if part.encoding == Encoding::Base64 && !part.b64.is_empty() {
                let mut out = Vec::new();
                b64_quantum(&part.b64, &mut out);
                part.b64.clear();
                let before = file.data.len();
                let max = self.config.max_file_data.min(before.saturating_add(budget));
                file.append(&out, max);
                self.kept = self
                    .kept
                    .saturating_add(file.data.len().saturating_sub(before));
            }
            file.close();
        }
    }

    /// The message ended (SMTP's `.` line): open parts and files close.
    pub fn finish(&mut self) {
        if self.stage == Some(Stage::Headers) {
            self.end_headers();
        }
        while let Some(p) = self.stack.pop() {
            self.close_part(p);
        }
        // Files of a message cut short by an error close as they are.
        for f in &mut self.files {
            f.close();
        }
        self.stage = None;
        if self.status == MimeStatus::Parsing {
            self.status = MimeStatus::Done;
        }
    }
}

/// The value of parameter `key` (`key=value` or `key="value"`, key
/// caseless) in a header value such as Content-Type's.
pub fn token(value: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower
        .get(from..)
        .and_then(|rest| memchr::memmem::find(rest, key))
    {
        let start = from + at;
        from = start + key.len();
        // The key must start a parameter.
        let before = start
            .checked_sub(1)
            .and_then(|i| lower.get(i))
            .copied()
            .unwrap_or(b';');
        if !matches!(before, b';' | b' ' | b'\t' | b'\r' | b'\n') {
            continue;
        }
        let rest = value.get(from..).unwrap_or_default().trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        if let Some(q) = rest.strip_prefix(b"\"") {
            let end = memchr::memchr(b'"', q).unwrap_or(q.len());
            return Some(q.get(..end).unwrap_or(q).to_vec());
        }
        let end = rest
            .iter()
            .position(|c| matches!(c, b';' | b' ' | b'\t'))
            .unwrap_or(rest.len());
        return Some(rest.get(..end).unwrap_or(rest).to_vec());
    }
    None
}

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes up to four base64 values (fewer at the end of the data).
fn b64_quantum(vals: &[u8], out: &mut Vec<u8>) {
    let v = |i: usize| u32::from(vals.get(i).copied().unwrap_or(0));
    let n = (v(0) << 18) | (v(1) << 12) | (v(2) << 6) | v(3);
    let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let keep = match vals.len() {
        0 | 1 => 0,
        2 => 1,
        3 => 2,
        _ => 3,
    };
    out.extend_from_slice(bytes.get(..keep).unwrap_or_default());
}

/// Decodes one quoted-printable line: the bytes, whether it ended with a
/// soft line break (`=` last), and whether an invalid escape was seen
/// (kept as is).
fn qp_decode(line: &[u8], end: bool) -> (Vec<u8>, bool, bool) {
    // Trailing white space is transport padding, at a line's end only.
    let line = if end { line.trim_ascii_end() } else { line };
    let mut out = Vec::with_capacity(line.len());
    let mut bad = false;
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while let Some(&c) = line.get(i) {
        if c == b'=' {
            if i + 1 == line.len() && end {
                return (out, true, bad);
            }
            match (
                line.get(i + 1).copied().and_then(hex),
                line.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => bad = true,
            }
        }
        out.push(c);
        i += 1;
    }
    (out, false, bad)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn parse(msg: &str) -> MimeMessage {
        let mut m = MimeMessage::new(MimeConfig::default());
        for l in msg.split("\r\n") {
            m.line(l.as_bytes());
        }
        m.finish();
        m
    }

    #[test]
    fn multipart_with_base64_attachment() {
        let m = parse(
            "From: \"A B\" <a@example.com>\r\nTo: <b@example.com>, c@example.com\r\n\
             Subject: hi\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"XyZ\"\r\n\r\n\
             preamble\r\n--XyZ\r\nContent-Type: text/plain\r\n\r\nhello body\r\n\
             --XyZ\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n--XyZ--\r\nepilogue",
        );
        assert_eq!(m.header("from"), Some(&b"\"A B\" <a@example.com>"[..]));
        assert_eq!(m.header("subject"), Some(&b"hi"[..]));
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].name, b"a.bin");
        assert_eq!(m.files[0].data, b"hello world");
        assert_eq!(m.files[0].size, 11);
        assert!(m.files[0].closed);
        assert_eq!(m.status, MimeStatus::Done);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn disposition_filename_nested_and_qp() {
        let m = parse(
            "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n\
             Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\
             Content-Type: text/plain\r\n\r\nx\r\n--inner--\r\n--outer\r\n\
             Content-Disposition: attachment; filename=\"q.txt\"\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc\r\nd=ZZ\r\n--outer--",
        );
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].name, b"q.txt");
        assert_eq!(m.files[0].data, b"a=bc\r\nd=ZZ");
        assert_eq!(m.anomalies, vec![MimeAnomaly::InvalidQp]);
    }

    #[test]
    fn long_boundary_is_an_error() {
        let b = "b".repeat(300);
        let m = parse(&format!(
            "Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n\r\nx"
        ));
        assert!(m.anomalies.contains(&MimeAnomaly::LongBoundary));
        assert_eq!(m.status, MimeStatus::Error);
    }

    #[test]
    fn plain_attachment_and_encapsulated_message() {
        let m = parse(
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\
             Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\
             Content-Type: text/plain; name=in.txt\r\n\r\nline1\r\nline2\r\n--B--",
        );
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].name, b"in.txt");
        assert_eq!(m.files[0].data, b"line1\r\nline2");
    }

    #[test]
    fn tokens() {
        assert_eq!(
            token(b"text/plain; charset=x; name=\"a b.txt\"", b"name"),
            Some(b"a b.txt".to_vec())
        );
        assert_eq!(token(b"attachment; filename=z.exe", b"name"), None);
        assert_eq!(
            token(b"attachment; FILENAME = z.exe;x=1", b"filename"),
            Some(b"z.exe".to_vec())
        );
    }

    #[test]
    fn message_data_budget() {
        let mut m = MimeMessage::new(MimeConfig {
            max_file_data: 6,
            max_files: 8,
            max_message_data: 10,
        });
        for l in [
            "Content-Type: multipart/mixed; boundary=B",
            "",
            "--B",
            "Content-Type: text/plain; name=a",
            "",
            "0123456789",
            "--B",
            "Content-Type: text/plain; name=b",
            "",
            "abcdefghij",
            "--B--",
        ] {
            m.line(l.as_bytes());
        }
        m.finish();
        assert_eq!(m.files[0].data, b"012345");
        assert_eq!(m.files[1].data, b"abcd");
        assert_eq!((m.files[0].size, m.files[1].size), (10, 10));
    }

    #[test]
    fn md5_of_closed_file() {
        let m = parse("Content-Type: text/plain; name=a\r\n\r\nabc");
        // md5("abc")
        assert_eq!(m.files[0].md5.unwrap()[..4], [0x90, 0x01, 0x50, 0x98][..]);
    }
}
