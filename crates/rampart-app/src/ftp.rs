//! The FTP control connection (RFC 959, RFC 2428) parsed for inspection as
//! Suricata 7's `ftp` parser does.
//!
//! Each client line naming a known command (found anywhere in the line,
//! caseless, the way Suricata's multi-pattern search finds it) opens a
//! transaction; lines naming no known command open none. Server reply
//! lines go to the oldest transaction still waiting for its reply (or,
//! when none waits, to the latest one kept; a reply before any command,
//! the greeting, gets a transaction of its own). A positive preliminary
//! reply (`1yz `) keeps a transaction open; any other reply line ends it.
//! The data-connection ports announced by `PORT`/`EPRT` commands (once
//! replied to) and `227`/`229` replies to `PASV`/`EPSV` are recorded, and
//! a following `RETR`/`STOR` turns them into a [`FtpExpectation`] that
//! the caller may use to recognise the data connection (`ftp-data`).
//!
//! Lines are cut at [`FtpConfig::max_line_len`] bytes (Suricata's
//! `ftp.max-line-length`, 4096): the first part is kept and flagged
//! truncated (events `request_command_too_long` /
//! `response_command_too_long`), the rest of that line is skipped, and as
//! in Suricata the data delivered together with the cut (or with the end
//! of the skipped line) is not parsed further. A `RETR` or `STOR` without
//! an announced data port announces nothing: Suricata 7 stops parsing the
//! connection there (a parse error), Suricata 8 goes on, and so does
//! Rampart, as stopping would let a client hide every later command
//! behind one such line.
//!
//! Bounds: one partial line per direction is held (at most the line
//! limit), at most [`FtpConfig::max_txs`] transactions wait for the caller
//! to remove them (Suricata's `max-tx`, 1024; beyond it commands open no
//! transaction), and each transaction keeps at most [`MAX_REPLY_LINES`]
//! reply lines.

/// Reply lines kept per transaction (later ones still end it).
pub const MAX_REPLY_LINES: usize = 256;

/// Limits of an FTP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FtpConfig {
    /// Longest line kept (Suricata's `ftp.max-line-length`, 4096).
    pub max_line_len: usize,
    /// Transactions held at once (Suricata's `ftp.max-tx`, 1024).
    pub max_txs: usize,
}

impl Default for FtpConfig {
    fn default() -> Self {
        FtpConfig {
            max_line_len: 4096,
            max_txs: 1024,
        }
    }
}

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpDirection {
    /// Client to server (commands).
    ToServer,
    /// Server to client (replies).
    ToClient,
}

/// The commands Suricata 7 recognises, with their canonical names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpCommand {
    /// `PORT h1,h2,h3,h4,p1,p2`: active mode.
    Port,
    /// `EPRT |af|addr|port|`: extended active mode.
    Eprt,
    /// `AUTH TLS`.
    AuthTls,
    /// `PASV`.
    Pasv,
    /// `RETR file`.
    Retr,
    /// `EPSV`.
    Epsv,
    /// `STOR file`.
    Stor,
    /// Any other command of [`COMMANDS`] (by its index there).
    Other(u8),
}

/// Every command name Suricata 7 looks for, in its table order (the
/// order decides between matches ending at the same byte).
pub const COMMANDS: &[&str] = &[
    "PORT", "EPRT", "AUTH TLS", "PASV", "RETR", "EPSV", "STOR", "ABOR", "ACCT", "ALLO", "APPE",
    "CDUP", "CHMOD", "CWD", "DELE", "HELP", "IDLE", "LIST", "MAIL", "MDTM", "MKD", "MLFL", "MODE",
    "MRCP", "MRSQ", "MSAM", "MSND", "MSOM", "NLST", "NOOP", "PASS", "PWD", "QUIT", "REIN", "REST",
    "RMD", "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOU", "STRU", "SYST", "TYPE", "UMASK",
    "USER",
];

impl FtpCommand {
    /// The command's canonical name (`ftp.command`, EVE's `command`).
    pub fn name(self) -> &'static str {
        let i = match self {
            FtpCommand::Port => 0,
            FtpCommand::Eprt => 1,
            FtpCommand::AuthTls => 2,
            FtpCommand::Pasv => 3,
            FtpCommand::Retr => 4,
            FtpCommand::Epsv => 5,
            FtpCommand::Stor => 6,
            FtpCommand::Other(i) => usize::from(i),
        };
        COMMANDS.get(i).copied().unwrap_or("")
    }

    fn from_index(i: usize) -> FtpCommand {
        match i {
            0 => FtpCommand::Port,
            1 => FtpCommand::Eprt,
            2 => FtpCommand::AuthTls,
            3 => FtpCommand::Pasv,
            4 => FtpCommand::Retr,
            5 => FtpCommand::Epsv,
            6 => FtpCommand::Stor,
            n => FtpCommand::Other(u8::try_from(n).unwrap_or(u8::MAX)),
        }
    }

    /// The command a client line names: the known command name found in
    /// it (caseless) that ends first, the earlier in [`COMMANDS`] on a
    /// tie; `None` when the line names none.
    pub fn find(line: &[u8]) -> Option<FtpCommand> {
        let mut best: Option<(usize, usize)> = None;
        for (i, name) in COMMANDS.iter().enumerate() {
            let n = name.as_bytes();
            if let Some(pos) = line
                .windows(n.len())
                .position(|w| w.eq_ignore_ascii_case(n))
            {
                let end = pos + n.len();
                if best.is_none_or(|(e, _)| end < e) {
                    best = Some((end, i));
                }
            }
        }
        best.map(|(_, i)| FtpCommand::from_index(i))
    }
}

/// Deviations found while parsing, named after Suricata's `ftp.*` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpAnomaly {
    /// A command line longer than the line limit.
    RequestCommandTooLong,
    /// A reply line longer than the line limit.
    ResponseCommandTooLong,
}

impl FtpAnomaly {
    /// The `app-layer-event:ftp.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            FtpAnomaly::RequestCommandTooLong => "request_command_too_long",
            FtpAnomaly::ResponseCommandTooLong => "response_command_too_long",
        }
    }
}

/// One reply line of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpReplyLine {
    /// The line without its end and trailing white space.
    pub line: Vec<u8>,
    /// It was cut at the line limit.
    pub truncated: bool,
}

/// One command and its replies (or a reply without a command: the
/// greeting).
#[derive(Debug, Clone, Default)]
pub struct FtpTransaction {
    /// Number in the connection, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// The command, `None` for a reply without one (or, as in Suricata,
    /// when the latest client line named no known command by the time
    /// the reply came).
    pub command: Option<FtpCommand>,
    /// The command line, without its end and trailing white space.
    pub request: Vec<u8>,
    /// The command line was cut at the line limit.
    pub request_truncated: bool,
    /// Reply lines, in order (empty ones are not kept).
    pub replies: Vec<FtpReplyLine>,
    /// A final reply came (EVE's `reply_received`).
    pub done: bool,
    /// The data port this command or its reply announced.
    pub dyn_port: Option<u16>,
    /// The data connection is active (`PORT`/`EPRT`), else passive.
    pub active: bool,
    /// Events raised by the command line.
    pub request_anomalies: Vec<FtpAnomaly>,
    /// Events raised by reply lines.
    pub response_anomalies: Vec<FtpAnomaly>,
    /// Its [`FtpEvent::Response`] was handed out.
    response_reported: bool,
    /// The server input (call of [`FtpSession::feed`]) that ended it.
    done_in: u64,
}

impl FtpTransaction {
    /// `ftp.command_data` (EVE's `command_data`): the command line past
    /// the command's name and one byte, when longer than the name.
    pub fn command_data(&self) -> Option<&[u8]> {
        let name_len = self.command?.name().len();
        if self.request.len() > name_len {
            Some(self.request.get(name_len + 1..).unwrap_or(&[]))
        } else {
            None
        }
    }

    /// Whether any event `name` was raised on it.
    pub fn has_event(&self, name: &str) -> bool {
        self.request_anomalies
            .iter()
            .chain(&self.response_anomalies)
            .any(|a| a.event_name() == name)
    }

    /// The reply lines split into (completion code, text) as Suricata's
    /// EVE and `ftp.completion_code` / `ftp.reply` see them: a line
    /// starting with three digits gives its code and the text from its
    /// fifth byte on; another line gives text only.
    pub fn reply_parts(&self) -> impl Iterator<Item = (Option<&[u8]>, &[u8])> {
        self.replies.iter().map(|r| {
            let l = r.line.as_slice();
            match l.get(..3) {
                Some(code) if code.iter().all(u8::is_ascii_digit) => {
                    (Some(code), l.get(4..).unwrap_or(&[]))
                }
                _ => (None, l),
            }
        })
    }

    /// Whether a reply line was cut at the line limit.
    pub fn reply_truncated(&self) -> bool {
        self.replies.iter().any(|r| r.truncated)
    }

    /// `ftpbounce`: a `PORT` command whose address is not `client`
    /// (the control connection's client, IPv4 as a big-endian number),
    /// read as Suricata reads it: from the first digit, four octets of up
    /// to four digits each separated by commas (spaces allowed before a
    /// comma).
    pub fn is_bounce(&self, client: u32) -> bool {
        if self.command != Some(FtpCommand::Port) {
            return false;
        }
        port_address(&self.request).is_some_and(|ip| ip != client)
    }
}

/// The IPv4 address of a `PORT` line, as `ftpbounce` reads it.
fn port_address(line: &[u8]) -> Option<u32> {
    if line.len() < 8 {
        return None;
    }
    let mut i = line.iter().position(u8::is_ascii_digit)?;
    let (mut octet, mut digits, mut octets, mut ip) = (0u32, 0u32, 0u32, 0u32);
    while let Some(&c) = line.get(i) {
        if digits >= 4 {
            break;
        }
        if c.is_ascii_digit() {
            octet = octet * 10 + u32::from(c - b'0');
            digits += 1;
            i += 1;
            continue;
        }
        if octet > 256 {
            return None;
        }
        while line.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if line.get(i) != Some(&b',') {
            return None;
        }
        octets += 1;
        digits = 0;
        ip = (ip << 8).wrapping_add(octet);
        octet = 0;
        if octets == 4 {
            return Some(ip);
        }
        i += 1;
    }
    None
}

/// A data connection announced on the control connection: the data
/// flow goes to `port` (of the server for passive mode, of the client for
/// active mode) and carries the file named by the `RETR`/`STOR` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpExpectation {
    /// The announced port.
    pub port: u16,
    /// `RETR` or `STOR`.
    pub command: FtpCommand,
    /// The file name (the command line past `RETR `).
    pub file_name: Vec<u8>,
    /// The data goes from server to client (a passive `RETR`, an active
    /// `STOR`), as Suricata decides it.
    pub to_client: bool,
    /// Active mode (`PORT`/`EPRT`).
    pub active: bool,
}

/// What a call to [`FtpSession::feed`] completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpEvent {
    /// Transaction `id`'s command was read: its request side is ready.
    Request(u64),
    /// Transaction `id` ended (a final reply, or the end of parsing): its
    /// response side is ready.
    Response(u64),
}

/// One direction's line reader.
#[derive(Debug, Default)]
struct LineReader {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// The current line was cut: skip to its end.
    truncated: bool,
}

/// A line handed out by [`LineReader`].
struct Line {
    bytes: Vec<u8>,
    /// Its end (LF) was seen.
    lf: bool,
    /// It was cut at the limit.
    truncated: bool,
}

impl LineReader {
    /// Splits `data` (appended to the held partial line) into lines as
    /// Suricata's FTP line reader does.
    fn lines(&mut self, data: &[u8], max: usize) -> Vec<Line> {
        let mut out = Vec::new();
        let mut buf = std::mem::take(&mut self.partial);
        buf.extend_from_slice(data);
        let mut rest: &[u8] = &buf;
        loop {
            if rest.is_empty() {
                break;
            }
            match memchr::memchr(b'\n', rest) {
                None => {
                    if !self.truncated && rest.len() >= max {
                        self.truncated = true;
                        out.push(Line {
                            bytes: rest.get(..max).unwrap_or(rest).to_vec(),
                            lf: false,
                            truncated: true,
                        });
                    } else if !self.truncated {
                        self.partial = rest.to_vec();
                    }
                    // While skipping a cut line nothing is kept.
                    break;
                }
                Some(_) if self.truncated => {
                    // The end of a cut line: the rest of this input goes
                    // with it.
                    self.truncated = false;
                    break;
                }
                Some(lf) => {
                    let whole = rest.get(..=lf).unwrap_or(rest);
                    rest = rest.get(lf + 1..).unwrap_or(&[]);
                    if whole.len() >= max {
                        // Cut; nothing after it in this input is parsed.
                        // The caller clears the flag where Suricata does.
                        self.truncated = true;
                        out.push(Line {
                            bytes: whole.get(..max).unwrap_or(whole).to_vec(),
                            lf: true,
                            truncated: true,
                        });
                        break;
                    }
                    let body = match whole {
                        [b @ .., b'\r', b'\n'] => b,
                        [b @ .., b'\n'] => b,
                        b => b,
                    };
                    out.push(Line {
                        bytes: body.to_vec(),
                        lf: true,
                        truncated: false,
                    });
                }
            }
        }
        out
    }
}

/// Trailing white space off (Suricata keeps lines that way).
fn trim_end(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace() && *c != 0x0b)
        .map_or(0, |p| p + 1);
    b.get(..end).unwrap_or(b)
}

/// An FTP control connection.
#[derive(Debug, Default)]
pub struct FtpSession {
    config: FtpConfig,
    client: LineReader,
    server: LineReader,
    /// Transactions not yet removed, oldest first.
    txs: Vec<FtpTransaction>,
    next_id: u64,
    /// The command of the latest client line (`None`: unknown).
    command: Option<FtpCommand>,
    /// The latest `PORT`/`EPRT` line.
    port_line: Vec<u8>,
    /// The data port announced and not yet used.
    dyn_port: Option<u16>,
    /// It was announced in active mode.
    active: bool,
    /// Where reply lines start looking for an open transaction.
    reply_cursor: u64,
    /// Server inputs fed so far.
    server_inputs: u64,
    /// Data connections announced by `RETR`/`STOR`, not yet taken.
    expectations: Vec<FtpExpectation>,
    /// `AUTH TLS` was accepted (`234`): what follows is TLS.
    pub tls: bool,
}

impl FtpSession {
    /// A session with these limits.
    pub fn new(config: FtpConfig) -> FtpSession {
        FtpSession {
            config,
            ..FtpSession::default()
        }
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&FtpTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Transactions held, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &FtpTransaction> {
        self.txs.iter()
    }

    /// Removes the transactions with an id below `id`.
    pub fn remove_before(&mut self, id: u64) {
        self.txs.retain(|t| t.id >= id);
    }

    /// Data connections announced since the last call.
    pub fn take_expectations(&mut self) -> Vec<FtpExpectation> {
        std::mem::take(&mut self.expectations)
    }

    /// Feeds in-order bytes of one direction; appends what became ready.
    pub fn feed(&mut self, dir: FtpDirection, data: &[u8], events: &mut Vec<FtpEvent>) {
        if self.tls || data.is_empty() {
            return;
        }
        let max = self.config.max_line_len.max(8);
        match dir {
            FtpDirection::ToServer => {
                let lines = self.client.lines(data, max);
                for line in lines {
                    self.request_line(line, events);
                }
            }
            FtpDirection::ToClient => {
                let lines = self.server.lines(data, max);
                self.reply_cursor = self.txs.first().map_or(0, |t| t.id);
                self.server_inputs += 1;
                for line in lines {
                    self.reply_line(line, events);
                }
            }
        }
    }

    /// Ends parsing (connection closed): transactions still waiting for
    /// their reply are ready as they are.
    pub fn finish(&mut self, events: &mut Vec<FtpEvent>) {
        self.end_open(events);
    }

    fn end_open(&mut self, events: &mut Vec<FtpEvent>) {
        for t in &mut self.txs {
            if !t.response_reported {
                t.response_reported = true;
                events.push(FtpEvent::Response(t.id));
            }
        }
    }

    /// Removes the transactions that are over (answered, or the parser
    /// stopped) unless `keep` says a side of theirs still waits.
    pub fn remove_finished(&mut self, keep: impl Fn(u64) -> bool) {
        self.txs
            .retain(|t| !t.done || !t.response_reported || keep(t.id));
    }

    fn request_line(&mut self, line: Line, events: &mut Vec<FtpEvent>) {
        // An unknown command opens nothing (and, as in Suricata, a cut
        // one leaves the reader skipping).
        let Some(cmd) = FtpCommand::find(&line.bytes) else {
            self.command = None;
            return;
        };
        self.command = Some(cmd);
        if line.lf {
            self.client.truncated = false;
        }
        if self.txs.len() >= self.config.max_txs {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut tx = FtpTransaction {
            id,
            command: Some(cmd),
            request: trim_end(&line.bytes).to_vec(),
            request_truncated: line.truncated,
            ..FtpTransaction::default()
        };
        if line.truncated {
            tx.request_anomalies.push(FtpAnomaly::RequestCommandTooLong);
        }
        self.txs.push(tx);
        events.push(FtpEvent::Request(id));
        match cmd {
            FtpCommand::Port | FtpCommand::Eprt => self.port_line = line.bytes,
            FtpCommand::Retr | FtpCommand::Stor => {
                let port = match self.dyn_port {
                    Some(p) if line.bytes.len() >= 6 => p,
                    _ => return,
                };
                let to_client = (self.active && cmd == FtpCommand::Stor)
                    || (!self.active && cmd == FtpCommand::Retr);
                self.expectations.push(FtpExpectation {
                    port,
                    command: cmd,
                    file_name: line.bytes.get(5..).unwrap_or(&[]).to_vec(),
                    to_client,
                    active: self.active,
                });
                self.dyn_port = None;
                self.active = false;
            }
            _ => {}
        }
    }

    fn reply_line(&mut self, line: Line, events: &mut Vec<FtpEvent>) {
        // The oldest open transaction from the cursor on, else the latest
        // if this input ended it. (Suricata parses a reply once the client
        // acknowledged it, by when a transaction answered by earlier data
        // was inspected both ways and freed: the line opens a new one.)
        let input = self.server_inputs;
        let idx = self
            .txs
            .iter()
            .position(|t| t.id >= self.reply_cursor && !t.done)
            .or_else(|| {
                // At the transaction cap the latest takes the line anyway.
                let full = self.txs.len() >= self.config.max_txs;
                self.txs
                    .len()
                    .checked_sub(1)
                    .filter(|&i| full || self.txs.get(i).is_some_and(|t| t.done_in == input))
            });
        let idx = match idx {
            Some(i) => i,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.txs.push(FtpTransaction {
                    id,
                    ..FtpTransaction::default()
                });
                self.txs.len() - 1
            }
        };
        let command = self.command;
        let Some(tx) = self.txs.get_mut(idx) else {
            return;
        };
        self.reply_cursor = tx.id;
        if command.is_none() {
            tx.command = None;
        }
        let b = line.bytes.as_slice();
        let mut complete_only = false;
        match command {
            Some(FtpCommand::AuthTls) if b.starts_with(b"234 ") => self.tls = true,
            Some(c @ (FtpCommand::Port | FtpCommand::Eprt)) => {
                let port = if c == FtpCommand::Port {
                    active_port(&self.port_line)
                } else {
                    active_eprt(&self.port_line)
                };
                match port {
                    Some(p) => {
                        self.dyn_port = Some(p);
                        self.active = true;
                        tx.dyn_port = Some(p);
                        tx.active = true;
                    }
                    None => complete_only = true,
                }
            }
            Some(FtpCommand::Pasv) if b.starts_with(b"227 ") => {
                if let Some(p) = pasv_response(b) {
                    self.dyn_port = Some(p);
                    self.active = false;
                    tx.dyn_port = Some(p);
                    tx.active = false;
                }
            }
            Some(FtpCommand::Epsv) if b.starts_with(b"229 ") => {
                if let Some(p) = epsv_response(b) {
                    self.dyn_port = Some(p);
                    self.active = false;
                    tx.dyn_port = Some(p);
                    tx.active = false;
                }
            }
            _ => {}
        }
        if !complete_only {
            let kept = trim_end(b);
            if !kept.is_empty() && tx.replies.len() < MAX_REPLY_LINES {
                tx.replies.push(FtpReplyLine {
                    line: kept.to_vec(),
                    truncated: line.truncated,
                });
            }
            if line.truncated
                && !tx
                    .response_anomalies
                    .contains(&FtpAnomaly::ResponseCommandTooLong)
            {
                tx.response_anomalies
                    .push(FtpAnomaly::ResponseCommandTooLong);
            }
            if line.lf && !kept.is_empty() {
                self.server.truncated = false;
            }
            // A positive preliminary reply keeps the transaction open.
            let ppr = matches!(kept, [b'1', d1, d2, s, ..]
                if d1.is_ascii_digit() && d2.is_ascii_digit() && s.is_ascii_whitespace());
            if ppr {
                return;
            }
        }
        if !tx.done {
            tx.done_in = input;
        }
        tx.done = true;
        if !tx.response_reported {
            tx.response_reported = true;
            events.push(FtpEvent::Response(tx.id));
        }
    }
}

/// A run of ASCII digits at the start of `b` as a number, and the rest.
fn number(b: &[u8]) -> Option<(u32, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let v = std::str::from_utf8(b.get(..n)?).ok()?.parse::<u32>().ok()?;
    Some((v, b.get(n..)?))
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or(&[])
}

/// A number with optional white space around it.
fn spaced_number(b: &[u8]) -> Option<(u32, &[u8])> {
    let (v, rest) = number(skip_ws(b))?;
    Some((v, skip_ws(rest)))
}

fn tag<'a>(b: &'a [u8], t: &[u8]) -> Option<&'a [u8]> {
    b.strip_prefix(t)
}

/// `PORT h1,h2,h3,h4,p1,p2`: the port `p1 * 256 + p2` (each at most 255;
/// 0 counts as none).
pub fn active_port(line: &[u8]) -> Option<u16> {
    let b = tag(line, b"PORT")?;
    let (_, b) = spaced_number(b)?;
    let b = tag(b, b",")?;
    let (_, b) = number(b)?;
    let b = tag(b, b",")?;
    let (_, b) = number(b)?;
    let b = tag(b, b",")?;
    let (_, b) = number(b)?;
    let b = tag(b, b",")?;
    let (p1, b) = number(b)?;
    let b = tag(b, b",")?;
    let (p2, _) = number(b)?;
    port_of(p1, p2)
}

fn port_of(p1: u32, p2: u32) -> Option<u16> {
    if p1 > 255 || p2 > 255 {
        return None;
    }
    u16::try_from(p1 * 256 + p2).ok().filter(|&p| p != 0)
}

/// `EPRT |af|addr|port|`: the port.
pub fn active_eprt(line: &[u8]) -> Option<u16> {
    let mut b = tag(line, b"EPRT")?;
    for _ in 0..3 {
        let i = memchr::memchr(b'|', b)?;
        b = b.get(i + 1..)?;
    }
    let (port, b) = spaced_number(b)?;
    tag(b, b"|")?;
    u16::try_from(port).ok().filter(|&p| p != 0)
}

/// `227 ... (h1,h2,h3,h4,p1,p2)`: the port.
pub fn pasv_response(line: &[u8]) -> Option<u16> {
    let b = tag(line, b"227")?;
    let i = memchr::memchr(b'(', b)?;
    let mut b = b.get(i + 1..)?;
    for _ in 0..4 {
        let (_, rest) = number(b)?;
        b = tag(rest, b",")?;
    }
    let (p1, b) = spaced_number(b)?;
    let b = tag(b, b",")?;
    let (p2, b) = spaced_number(b)?;
    tag(b, b")")?;
    port_of(p1, p2)
}

/// `229 ... (|||port|)`: the port.
pub fn epsv_response(line: &[u8]) -> Option<u16> {
    let b = tag(line, b"229")?;
    let i = memchr::memmem::find(b, b"|||")?;
    let (port, b) = spaced_number(b.get(i + 3..)?)?;
    tag(b, b"|)")?;
    u16::try_from(port).ok().filter(|&p| p != 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(steps: &[(FtpDirection, &[u8])]) -> (FtpSession, Vec<FtpEvent>) {
        let mut s = FtpSession::new(FtpConfig::default());
        let mut ev = Vec::new();
        for (d, b) in steps {
            s.feed(*d, b, &mut ev);
        }
        (s, ev)
    }

    use FtpDirection::{ToClient as C, ToServer as S};

    #[test]
    fn greeting_commands_and_replies() {
        let (s, ev) = run(&[
            (C, b"220 (vsFTPd)\r\n"),
            (S, b"USER bob\r\n"),
            (C, b"331 Password?\r\n"),
            (S, b"SYST\r\nTYPE I\r\n"),
            (C, b"215 UNIX\r\n200 OK\r\n"),
        ]);
        let ids: Vec<_> = s.transactions().map(|t| t.id).collect();
        assert_eq!(ids, [0, 1, 2, 3]);
        let t0 = s.transaction(0).unwrap();
        assert_eq!(t0.command, None);
        assert!(t0.done);
        let t1 = s.transaction(1).unwrap();
        assert_eq!(t1.command, Some(FtpCommand::Other(47)));
        assert_eq!(t1.command.unwrap().name(), "USER");
        assert_eq!(t1.command_data(), Some(&b"bob"[..]));
        let parts: Vec<_> = t1.reply_parts().collect();
        assert_eq!(parts, [(Some(&b"331"[..]), &b"Password?"[..])]);
        assert_eq!(s.transaction(2).unwrap().command_data(), None);
        assert_eq!(s.transaction(3).unwrap().command_data(), Some(&b"I"[..]));
        assert_eq!(
            ev,
            [
                FtpEvent::Response(0),
                FtpEvent::Request(1),
                FtpEvent::Response(1),
                FtpEvent::Request(2),
                FtpEvent::Request(3),
                FtpEvent::Response(2),
                FtpEvent::Response(3),
            ]
        );
    }

    #[test]
    fn preliminary_reply_keeps_the_transaction_open_and_pasv_expects() {
        let (mut s, _) = run(&[
            (S, b"PASV\r\n"),
            (C, b"227 Entering Passive Mode (10,0,0,1,4,1).\r\n"),
            (S, b"RETR a.txt\r\n"),
            (C, b"150 Opening\r\n"),
        ]);
        let t0 = s.transaction(0).unwrap();
        assert_eq!(t0.dyn_port, Some(1025));
        assert!(!t0.active);
        let t1 = s.transaction(1).unwrap();
        assert!(!t1.done);
        let exp = s.take_expectations();
        assert_eq!(exp.len(), 1);
        assert_eq!(exp[0].port, 1025);
        assert_eq!(exp[0].file_name, b"a.txt");
        assert!(exp[0].to_client);
        let mut ev = Vec::new();
        s.feed(C, b"226 Done\r\n", &mut ev);
        assert_eq!(ev, [FtpEvent::Response(1)]);
        let codes: Vec<_> = s
            .transaction(1)
            .unwrap()
            .reply_parts()
            .map(|(c, _)| c.unwrap().to_vec())
            .collect();
        assert_eq!(codes, [b"150".to_vec(), b"226".to_vec()]);
    }

    #[test]
    fn retr_without_data_port_announces_nothing() {
        let (mut s, ev) = run(&[(S, b"RETR x\r\n"), (C, b"550 no\r\n")]);
        assert_eq!(ev, [FtpEvent::Request(0), FtpEvent::Response(0)]);
        assert!(s.transaction(0).unwrap().done);
        assert!(s.take_expectations().is_empty());
    }

    #[test]
    fn long_reply_is_truncated_and_the_rest_skipped() {
        let mut long = b"227 ".to_vec();
        long.extend(std::iter::repeat_n(b'A', 5000));
        let (s, ev) = run(&[
            (S, b"PASV\r\n"),
            (C, &long[..2000]),
            (C, &long[2000..]),
            (C, b"AAAA\r\n"),
            (C, b"200 after\r\n"),
        ]);
        let t = s.transaction(0).unwrap();
        assert_eq!(t.replies[0].line.len(), 4096);
        assert!(t.reply_truncated());
        assert!(t.has_event("response_command_too_long"));
        assert_eq!(t.dyn_port, None);
        assert_eq!(t.replies.len(), 1);
        // The line after the skipped rest is parsed again; it came in
        // another input than the one that answered the PASV, so it opens
        // a transaction of its own (as Suricata, which has freed the
        // answered one by then).
        let t1 = s.transaction(1).unwrap();
        assert_eq!(t1.command, None);
        assert_eq!(t1.replies[0].line, b"200 after");
        assert_eq!(
            ev,
            [
                FtpEvent::Request(0),
                FtpEvent::Response(0),
                FtpEvent::Response(1)
            ]
        );
    }

    #[test]
    fn replies_without_a_command_stop_opening_transactions_at_the_cap() {
        let mut s = FtpSession::new(FtpConfig {
            max_line_len: 4096,
            max_txs: 4,
        });
        let mut ev = Vec::new();
        for _ in 0..20 {
            s.feed(C, b"200 x\r\n", &mut ev);
        }
        assert_eq!(s.transactions().count(), 4);
        assert_eq!(s.transaction(3).unwrap().replies.len(), 17);
    }

    #[test]
    fn long_command_is_truncated() {
        let mut long = b"USER ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 5000));
        long.extend_from_slice(b"\r\n");
        let (s, _) = run(&[(S, &long)]);
        let t = s.transaction(0).unwrap();
        assert!(t.request_truncated);
        assert_eq!(t.request.len(), 4096);
        assert!(t.has_event("request_command_too_long"));
    }

    #[test]
    fn unknown_commands_open_no_transaction() {
        let (s, _) = run(&[(S, b"XYZZY\r\n"), (C, b"500 what\r\n")]);
        let t = s.transaction(0).unwrap();
        assert_eq!(t.command, None);
        assert!(t.done);
        assert_eq!(FtpCommand::find(b"xcwd /tmp"), Some(FtpCommand::Other(13)));
    }

    #[test]
    fn port_commands_and_bounce() {
        assert_eq!(active_port(b"PORT 192,168,0,13,234,10"), Some(59914));
        assert_eq!(active_port(b"PORT 212,27,32,66,257,243"), None);
        assert_eq!(
            active_eprt(b"EPRT |2|2a01:e34:ee97:b130:8c3e:45ea:5ac6:e301|41813|"),
            Some(41813)
        );
        assert_eq!(active_eprt(b"EPRT |2|::1|81813|"), None);
        assert_eq!(
            pasv_response(b"227 Entering Passive Mode (212,27,32,66,221,243)."),
            Some(56819)
        );
        assert_eq!(
            epsv_response(b"229 Entering Extended Passive Mode (|||48758|)."),
            Some(48758)
        );
        let (s, _) = run(&[(S, b"PORT 10,0,0,2,4,1\r\n"), (C, b"200 ok\r\n")]);
        let t = s.transaction(0).unwrap();
        assert_eq!(t.dyn_port, Some(1025));
        assert!(t.active);
        assert!(t.is_bounce(u32::from_be_bytes([10, 0, 0, 1])));
        assert!(!t.is_bounce(u32::from_be_bytes([10, 0, 0, 2])));
    }
}
