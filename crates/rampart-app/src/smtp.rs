//! SMTP (RFC 5321) parsed for inspection as Suricata 7's `smtp` parser
//! does: the client's commands and the server's (possibly multi-line,
//! possibly pipelined) replies, matched in order; one transaction per
//! mail (`MAIL FROM`, `RCPT TO`, then the message after `DATA` and the
//! server's `354`, dot-unstuffed up to the lone `.`), whose message goes
//! through the [`crate::mime`] parser so that attachments become files
//! for `file.data` and `file.name`. `BDAT` chunks are skipped by count
//! (as in Suricata 7: not decoded, and `LAST` does not end the mail).
//! After a `STARTTLS` the server accepts with `220`, the connection is
//! encrypted and nothing more is parsed ([`SmtpSession::tls`]; the caller
//! may hand the rest to a TLS parser).
//!
//! As in Suricata, a transaction starts with the first command after the
//! previous one ended (the first is usually `EHLO`), so a trailing `QUIT`
//! gets a transaction of its own.
//!
//! Bounds: command and reply lines are buffered up to [`MAX_LINE_BUF`]
//! bytes (longer ones are cut, the rest of the line skipped); lines over
//! Suricata's 510 bytes are reported as anomalies. At most
//! [`SmtpConfig::max_txs`] transactions are kept (the oldest go first),
//! [`MAX_PENDING`] commands wait for replies, [`MAX_RCPT`] recipients are
//! kept per mail; message limits are those of [`MimeConfig`]. Nothing
//! fails: oddities are [`SmtpAnomaly`] values, Suricata's `smtp.*` events.

use std::collections::VecDeque;

use crate::mime::{MimeAnomaly, MimeConfig, MimeMessage};

/// Longest command or reply line Suricata accepts without an event
/// (`SMTP_MAX_REQUEST_AND_REPLY_LINE_LENGTH`).
pub const MAX_LINE_LEN: usize = 510;
/// Longest line buffered; the rest of a longer line is skipped.
pub const MAX_LINE_BUF: usize = 8192;
/// Commands waiting for their replies.
pub const MAX_PENDING: usize = 256;
/// Recipients kept per mail.
pub const MAX_RCPT: usize = 256;

/// Limits of an SMTP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Transactions kept (Suricata's default `max-tx` is 256).
    pub max_txs: usize,
    /// Limits on each message's files.
    pub mime: MimeConfig,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            max_txs: 256,
            mime: MimeConfig::default(),
        }
    }
}

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpDirection {
    /// Client to server (commands, messages).
    ToServer,
    /// Server to client (replies).
    ToClient,
}

/// Deviations found while parsing, named after Suricata's `smtp.*`
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpAnomaly {
    /// A reply line not starting with a three-digit code.
    InvalidReply,
    /// A reply with no command waiting for it.
    UnableToMatchReplyWithRequest,
    /// A command line longer than [`MAX_LINE_LEN`].
    MaxCommandLineLenExceeded,
    /// A reply line longer than [`MAX_LINE_LEN`].
    MaxReplyLineLenExceeded,
    /// More BDAT data than the chunk announced (not detectable by
    /// counting; kept for the event's name).
    BdatChunkLenExceeded,
    /// The server refused `DATA` (a reply other than 354).
    DataCommandRejected,
    /// The server refused `STARTTLS`.
    TlsRejected,
    /// An anomaly of the message's MIME structure.
    Mime(MimeAnomaly),
}

impl SmtpAnomaly {
    /// The `app-layer-event:smtp.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            SmtpAnomaly::InvalidReply => "invalid_reply",
            SmtpAnomaly::UnableToMatchReplyWithRequest => "unable_to_match_reply_with_request",
            SmtpAnomaly::MaxCommandLineLenExceeded => "max_command_line_len_exceeded",
            SmtpAnomaly::MaxReplyLineLenExceeded => "max_reply_line_len_exceeded",
            SmtpAnomaly::BdatChunkLenExceeded => "bdat_chunk_len_exceeded",
            SmtpAnomaly::DataCommandRejected => "data_command_rejected",
            SmtpAnomaly::TlsRejected => "tls_rejected",
            SmtpAnomaly::Mime(m) => m.event_name(),
        }
    }
}

/// One transaction: the commands from its first to the end of its
/// message (or of the connection).
#[derive(Debug, Default)]
pub struct SmtpTransaction {
    /// Number in the connection, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// `MAIL FROM` argument (`<addr>`, parameters left out).
    pub mail_from: Vec<u8>,
    /// `RCPT TO` arguments, in order.
    pub rcpt_to: Vec<Vec<u8>>,
    /// The message, once `DATA` was sent.
    pub message: Option<MimeMessage>,
    /// Anomalies raised while it was current, each once.
    pub anomalies: Vec<SmtpAnomaly>,
    /// Its message ended (the `.` line).
    pub done: bool,
    /// Reported through an [`SmtpEvent`] already.
    reported: bool,
}

impl SmtpTransaction {
    /// Whether it raised the `smtp.<name>` event (MIME anomalies of its
    /// message included).
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
            || self
                .message
                .as_ref()
                .is_some_and(|m| m.anomalies.iter().any(|a| a.event_name() == name))
    }
}

/// A transaction ready for inspection and logging: its message ended, or
/// the connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpEvent {
    /// The transaction's id.
    pub tx_id: u64,
}

/// A command waiting for its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    StartTls,
    Data,
    /// The message's final `.`.
    DataEnd,
    Other,
}

/// What the client is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ClientMode {
    #[default]
    Command,
    /// Message lines up to `.`.
    Data,
    /// `remaining` bytes of a BDAT chunk, skipped.
    Bdat { remaining: u64 },
}

/// A line being assembled from stream chunks.
#[derive(Debug, Default)]
struct LineBuf {
    buf: Vec<u8>,
    /// Length of the line so far (beyond the buffered part too).
    len: usize,
}

/// An SMTP connection.
#[derive(Debug, Default)]
pub struct SmtpSession {
    config: SmtpConfig,
    /// The last `HELO`/`EHLO` argument (EVE's `smtp.helo`).
    pub helo: Vec<u8>,
    /// The server accepted `STARTTLS`: the rest is encrypted.
    pub tls: bool,
    txs: VecDeque<SmtpTransaction>,
    next_id: u64,
    /// The transaction commands go to (not yet done).
    current: Option<u64>,
    client: LineBuf,
    server: LineBuf,
    mode: ClientMode,
    pending: VecDeque<Command>,
    /// A reply line was seen (the first may be the greeting).
    replied: bool,
    /// Anomalies raised while no transaction was current.
    orphan_anomalies: Vec<SmtpAnomaly>,
    /// Inside a message line too long to buffer, fed in pieces.
    client_partial: bool,
}

impl SmtpSession {
    /// A session with the given limits.
    pub fn new(config: SmtpConfig) -> SmtpSession {
        SmtpSession {
            config,
            ..SmtpSession::default()
        }
    }

    /// Bytes buffered for lines not yet complete (both directions; at
    /// most [`MAX_LINE_BUF`] each).
    pub fn buffered(&self) -> usize {
        self.client.buf.len() + self.server.buf.len()
    }

    /// The transaction numbered `id`, while kept.
    pub fn transaction(&self, id: u64) -> Option<&SmtpTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// The transactions kept, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &SmtpTransaction> {
        self.txs.iter()
    }

    /// Drops transactions that were reported, up to and including `id`
    /// (the engine inspected and logged them).
    pub fn remove_reported(&mut self, id: u64) {
        self.txs.retain(|t| !(t.reported && t.id <= id));
    }

    /// Feeds in-order stream data of one direction; transactions that
    /// became ready are appended to `events`.
    pub fn feed(&mut self, dir: SmtpDirection, data: &[u8], events: &mut Vec<SmtpEvent>) {
        if self.tls {
            return;
        }
        match dir {
            SmtpDirection::ToServer => self.feed_client(data, events),
            SmtpDirection::ToClient => self.feed_server(data),
        }
    }

    /// The connection ended: an unfinished transaction is reported as it
    /// is (its message closed).
    pub fn finish(&mut self, events: &mut Vec<SmtpEvent>) {
        for tx in &mut self.txs {
            if !tx.reported {
                if let Some(m) = tx.message.as_mut() {
                    if m.status == crate::mime::MimeStatus::Parsing {
                        m.finish();
                    }
                }
                tx.reported = true;
                events.push(SmtpEvent { tx_id: tx.id });
            }
        }
        self.current = None;
    }

    fn feed_client(&mut self, mut data: &[u8], events: &mut Vec<SmtpEvent>) {
        while !data.is_empty() && !self.tls {
            if let ClientMode::Bdat { remaining } = self.mode {
                let take = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                data = data.get(take..).unwrap_or_default();
                let remaining = remaining.saturating_sub(take as u64);
                self.mode = if remaining == 0 {
                    ClientMode::Command
                } else {
                    ClientMode::Bdat { remaining }
                };
                continue;
            }
            if self.mode == ClientMode::Data {
                data = self.data_mode(data, events);
                continue;
            }
            let Some((line, rest, _)) = take_line(&mut self.client, data) else {
                return;
            };
            data = rest;
            self.client_line(&line, events);
        }
    }

    /// Message data up to the end of its next line, buffered whole up to
    /// [`MAX_LINE_BUF`] bytes and handed over in pieces beyond (a long
    /// line is content too: an attachment sent as one line); returns the
    /// data after the line.
    fn data_mode<'a>(&mut self, data: &'a [u8], events: &mut Vec<SmtpEvent>) -> &'a [u8] {
        let (mut part, rest, complete) = match memchr::memchr(b'\n', data) {
            Some(lf) => (
                data.get(..lf).unwrap_or_default(),
                data.get(lf + 1..).unwrap_or_default(),
                true,
            ),
            None => (data, &[][..], false),
        };
        loop {
            let room = MAX_LINE_BUF.saturating_sub(self.client.buf.len());
            if part.len() <= room {
                self.client.buf.extend_from_slice(part);
                break;
            }
            self.client
                .buf
                .extend_from_slice(part.get(..room).unwrap_or_default());
            part = part.get(room..).unwrap_or_default();
            // Hand over a full buffer, keeping a last CR (its LF may
            // follow).
            let mut chunk = std::mem::take(&mut self.client.buf);
            if chunk.last() == Some(&b'\r') {
                chunk.pop();
                self.client.buf.push(b'\r');
            }
            self.data_fragment(&chunk);
        }
        if complete {
            let mut line = std::mem::take(&mut self.client.buf);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if self.client_partial {
                self.client_partial = false;
                if let Some(m) = self.current_tx().and_then(|t| t.message.as_mut()) {
                    m.fragment_end(&line);
                }
            } else {
                self.client_line(&line, events);
            }
        }
        rest
    }

    /// A piece of a long message line.
    fn data_fragment(&mut self, chunk: &[u8]) {
        let first = !self.client_partial;
        self.client_partial = true;
        let chunk = if first {
            chunk.strip_prefix(b".").unwrap_or(chunk)
        } else {
            chunk
        };
        if let Some(m) = self.current_tx().and_then(|t| t.message.as_mut()) {
            m.fragment(chunk, first);
        }
    }

    fn feed_server(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.tls {
            let Some((line, rest, len)) = take_line(&mut self.server, data) else {
                return;
            };
            data = rest;
            self.server_line(&line, len);
        }
    }

    fn anomaly(&mut self, a: SmtpAnomaly) {
        let list = match self.current_tx() {
            Some(tx) => &mut tx.anomalies,
            None => &mut self.orphan_anomalies,
        };
        if !list.contains(&a) {
            list.push(a);
        }
    }

    fn current_tx(&mut self) -> Option<&mut SmtpTransaction> {
        let id = self.current?;
        self.txs.iter_mut().find(|t| t.id == id)
    }

    /// The transaction a command goes to: the current one, or a new one.
    fn tx_for_command(&mut self) {
        if self.current_tx().is_some() {
            return;
        }
        if self.txs.len() >= self.config.max_txs.max(1) {
            self.txs.pop_front();
        }
        let id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(SmtpTransaction {
            id,
            anomalies: std::mem::take(&mut self.orphan_anomalies),
            ..SmtpTransaction::default()
        });
        self.current = Some(id);
    }

    fn push_pending(&mut self, c: Command) {
        if self.pending.len() < MAX_PENDING {
            self.pending.push_back(c);
        }
    }

    fn client_line(&mut self, line: &[u8], events: &mut Vec<SmtpEvent>) {
        if self.mode == ClientMode::Data {
            if line == b"." {
                self.push_pending(Command::DataEnd);
                self.end_message(events);
                return;
            }
            let line = line.strip_prefix(b".").unwrap_or(line);
            if let Some(m) = self.current_tx().and_then(|t| t.message.as_mut()) {
                m.line(line);
            }
            return;
        }
        if line.is_empty() {
            return;
        }
        self.tx_for_command();
        if line.len() > MAX_LINE_LEN {
            self.anomaly(SmtpAnomaly::MaxCommandLineLenExceeded);
        }
        let lower = |n: usize| line.get(..n).map(<[u8]>::to_ascii_lowercase);
        let starts = |p: &[u8]| lower(p.len()).is_some_and(|h| h == p);
        let command = if starts(b"starttls") {
            Command::StartTls
        } else if starts(b"data") {
            let mime = self.config.mime;
            if let Some(tx) = self.current_tx() {
                if tx.message.is_none() {
                    tx.message = Some(MimeMessage::new(mime));
                }
            }
            Command::Data
        } else if starts(b"bdat") {
            let mut words = line.split(|c| *c == b' ').filter(|w| !w.is_empty()).skip(1);
            let size = words
                .next()
                .and_then(|w| std::str::from_utf8(w).ok())
                .and_then(|w| w.parse::<u64>().ok());
            // Suricata 7 neither decodes BDAT chunks nor ends the mail at
            // `LAST`: the transaction runs on to the next DATA end or the
            // end of the connection.
            if let Some(remaining) = size.filter(|&n| n > 0) {
                self.mode = ClientMode::Bdat { remaining };
            }
            Command::Other
        } else if starts(b"helo") || starts(b"ehlo") {
            self.helo = line.get(4..).unwrap_or_default().trim_ascii().to_vec();
            Command::Other
        } else if starts(b"mail from") {
            let arg = param(line.get(9..).unwrap_or_default());
            if let Some(tx) = self.current_tx() {
                tx.mail_from = arg;
            }
            Command::Other
        } else if starts(b"rcpt to") {
            let arg = param(line.get(7..).unwrap_or_default());
            if let Some(tx) = self.current_tx() {
                if tx.rcpt_to.len() < MAX_RCPT {
                    tx.rcpt_to.push(arg);
                }
            }
            Command::Other
        } else {
            Command::Other
        };
        self.push_pending(command);
    }

    /// The current transaction's message ended.
    fn end_message(&mut self, events: &mut Vec<SmtpEvent>) {
        self.mode = ClientMode::Command;
        if let Some(tx) = self.current_tx() {
            if let Some(m) = tx.message.as_mut() {
                m.finish();
            }
            tx.done = true;
            tx.reported = true;
            events.push(SmtpEvent { tx_id: tx.id });
        }
        self.current = None;
    }

    fn server_line(&mut self, line: &[u8], len: usize) {
        if len > MAX_LINE_LEN {
            self.anomaly(SmtpAnomaly::MaxReplyLineLenExceeded);
        }
        let code = match line.get(..3) {
            Some(c) if c.iter().all(u8::is_ascii_digit) => {
                c.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
            }
            _ => {
                if !line.is_empty() {
                    self.anomaly(SmtpAnomaly::InvalidReply);
                }
                return;
            }
        };
        let first = !self.replied;
        self.replied = true;
        if line.get(3) == Some(&b'-') {
            // More lines of the same reply follow.
            return;
        }
        let Some(cmd) = self.pending.pop_front() else {
            if !(first && code == 220) {
                self.anomaly(SmtpAnomaly::UnableToMatchReplyWithRequest);
            }
            return;
        };
        match cmd {
            Command::StartTls if code == 220 => self.tls = true,
            Command::StartTls => self.anomaly(SmtpAnomaly::TlsRejected),
            Command::Data if code == 354 => {
                if self.mode == ClientMode::Command {
                    self.mode = ClientMode::Data;
                }
            }
            Command::Data => self.anomaly(SmtpAnomaly::DataCommandRejected),
            Command::DataEnd | Command::Other => {}
        }
    }
}

/// A `MAIL FROM`/`RCPT TO` argument after the command: past `:` and
/// spaces, up to the first space (parameters such as `SIZE=` left out).
fn param(rest: &[u8]) -> Vec<u8> {
    let rest = rest.trim_ascii_start();
    let rest = rest.strip_prefix(b":").unwrap_or(rest).trim_ascii_start();
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest).to_vec()
}

/// The next complete line (without CR LF) from `buf` and `data`, the
/// data after it, and the line's full length; `None` when `data` ends
/// inside a line (kept in `buf`, up to [`MAX_LINE_BUF`] bytes).
fn take_line<'a>(buf: &mut LineBuf, data: &'a [u8]) -> Option<(Vec<u8>, &'a [u8], usize)> {
    let Some(lf) = memchr::memchr(b'\n', data) else {
        let room = MAX_LINE_BUF.saturating_sub(buf.buf.len());
        buf.buf
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        buf.len = buf.len.saturating_add(data.len());
        return None;
    };
    let part = data.get(..lf).unwrap_or_default();
    let rest = data.get(lf + 1..).unwrap_or_default();
    let room = MAX_LINE_BUF.saturating_sub(buf.buf.len());
    let mut line = std::mem::take(&mut buf.buf);
    line.extend_from_slice(part.get(..room.min(part.len())).unwrap_or_default());
    let mut len = buf.len.saturating_add(part.len());
    buf.len = 0;
    if line.last() == Some(&b'\r') {
        line.pop();
        len = len.saturating_sub(1);
    }
    Some((line, rest, len))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const CLIENT: &[u8] = b"EHLO GP\r\nMAIL FROM:<a@example.com> SIZE=10\r\n\
RCPT TO:<b@example.com>\r\nRCPT TO: <c@example.com>\r\nDATA\r\n";
    const MESSAGE: &[u8] = b"From: A <a@example.com>\r\nTo: <b@example.com>\r\n\
Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\nContent-Type: text/plain\r\n\r\n\
..dot line\r\n--bb\r\nContent-Disposition: attachment; filename=\"x.txt\"\r\n\r\n\
..leading dot\r\nsecond\r\n--bb--\r\n.\r\nQUIT\r\n";

    fn run(chunk: usize) -> (SmtpSession, Vec<SmtpEvent>) {
        let mut s = SmtpSession::new(SmtpConfig::default());
        let mut ev = Vec::new();
        s.feed(SmtpDirection::ToClient, b"220 mx ESMTP\r\n", &mut ev);
        for c in CLIENT.chunks(chunk) {
            s.feed(SmtpDirection::ToServer, c, &mut ev);
        }
        s.feed(
            SmtpDirection::ToClient,
            b"250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
            &mut ev,
        );
        for c in MESSAGE.chunks(chunk) {
            s.feed(SmtpDirection::ToServer, c, &mut ev);
        }
        s.feed(
            SmtpDirection::ToClient,
            b"250 queued\r\n221 bye\r\n",
            &mut ev,
        );
        s.finish(&mut ev);
        (s, ev)
    }

    #[test]
    fn mail_transaction() {
        for chunk in [1, 3, 7, 1000] {
            let (s, ev) = run(chunk);
            assert_eq!(ev, vec![SmtpEvent { tx_id: 0 }, SmtpEvent { tx_id: 1 }]);
            assert_eq!(s.helo, b"GP");
            let tx = s.transaction(0).unwrap();
            assert!(tx.done);
            assert_eq!(tx.mail_from, b"<a@example.com>");
            assert_eq!(
                tx.rcpt_to,
                vec![b"<b@example.com>".to_vec(), b"<c@example.com>".to_vec()]
            );
            let m = tx.message.as_ref().unwrap();
            assert_eq!(m.header("from"), Some(&b"A <a@example.com>"[..]));
            assert_eq!(m.files.len(), 1);
            assert_eq!(m.files[0].name, b"x.txt");
            assert_eq!(m.files[0].data, b".leading dot\r\nsecond");
            assert!(tx.anomalies.is_empty(), "{:?}", tx.anomalies);
            // QUIT got a transaction of its own.
            let quit = s.transaction(1).unwrap();
            assert!(quit.message.is_none() && !quit.done);
        }
    }

    #[test]
    fn long_message_line_is_kept_whole() {
        let body = "x".repeat(MAX_LINE_BUF * 2 + 5);
        let msg = format!("Content-Type: text/plain; name=big.txt\r\n\r\n.{body}\r\nend\r\n.\r\n");
        for chunk in [1000, 4096, 100_000] {
            let mut s = SmtpSession::new(SmtpConfig::default());
            let mut ev = Vec::new();
            s.feed(SmtpDirection::ToServer, b"EHLO x\r\nDATA\r\n", &mut ev);
            s.feed(SmtpDirection::ToClient, b"250 hi\r\n354 go\r\n", &mut ev);
            for c in msg.as_bytes().chunks(chunk) {
                s.feed(SmtpDirection::ToServer, c, &mut ev);
            }
            assert_eq!(ev, vec![SmtpEvent { tx_id: 0 }]);
            let m = s.transaction(0).unwrap().message.as_ref().unwrap();
            assert_eq!(m.files[0].data, format!("{body}\r\nend").as_bytes());
            assert!(s.transaction(0).unwrap().has_event("mime_long_line"));
        }
    }

    #[test]
    fn data_rejected_and_bad_reply() {
        let mut s = SmtpSession::new(SmtpConfig::default());
        let mut ev = Vec::new();
        s.feed(SmtpDirection::ToServer, b"HELO x\r\nDATA\r\n", &mut ev);
        s.feed(
            SmtpDirection::ToClient,
            b"250 hi\r\n554 no\r\nxyz\r\n",
            &mut ev,
        );
        let tx = s.transaction(0).unwrap();
        assert!(tx.has_event("data_command_rejected"));
        assert!(tx.has_event("invalid_reply"));
        // Not in data mode: the next line is a command.
        s.feed(SmtpDirection::ToServer, b"MAIL FROM:<z>\r\n", &mut ev);
        assert_eq!(s.transaction(0).unwrap().mail_from, b"<z>");
    }

    #[test]
    fn starttls_stops_parsing() {
        let mut s = SmtpSession::new(SmtpConfig::default());
        let mut ev = Vec::new();
        s.feed(SmtpDirection::ToServer, b"EHLO x\r\nSTARTTLS\r\n", &mut ev);
        s.feed(
            SmtpDirection::ToClient,
            b"250 hi\r\n220 go ahead\r\n",
            &mut ev,
        );
        assert!(s.tls);
        s.feed(SmtpDirection::ToServer, b"\x16\x03\x01garbage\r\n", &mut ev);
        assert_eq!(s.transactions().count(), 1);
    }

    #[test]
    fn bdat_and_long_lines() {
        let mut s = SmtpSession::new(SmtpConfig::default());
        let mut ev = Vec::new();
        s.feed(
            SmtpDirection::ToServer,
            b"EHLO x\r\nBDAT 5 LAST\r\nab\r\ncQUIT\r\n",
            &mut ev,
        );
        // The chunk is skipped, QUIT is a command of the same
        // transaction (Suricata 7 does not end a mail at BDAT LAST).
        assert!(ev.is_empty());
        assert_eq!(s.transactions().count(), 1);
        assert!(s.transaction(0).unwrap().message.is_none());
        let long = vec![b'A'; MAX_LINE_BUF * 2];
        s.feed(SmtpDirection::ToServer, &long, &mut ev);
        s.feed(SmtpDirection::ToServer, b"\r\n", &mut ev);
        assert!(s
            .transaction(0)
            .unwrap()
            .has_event("max_command_line_len_exceeded"));
        s.feed(SmtpDirection::ToClient, &long, &mut ev);
        s.feed(SmtpDirection::ToClient, b"\r\n", &mut ev);
        assert!(s
            .transaction(0)
            .unwrap()
            .has_event("max_reply_line_len_exceeded"));
    }
}
