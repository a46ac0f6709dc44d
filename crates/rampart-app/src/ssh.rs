//! SSH connection setup, parsed for inspection as Suricata's `ssh` parser
//! does: each direction's identification line (`SSH-protoversion-
//! softwareversion SP comments CR LF`, RFC 4253 §4.2), then its binary
//! packets (`packet_length`, `padding_length`, message code) in clear
//! text until that direction's NEWKEYS (message 21), after which it is
//! encrypted and skipped. The KEXINIT (message 20) of each direction gives
//! its HASSH: the client's from its client-to-server algorithm lists, the
//! server's from its server-to-client ones.
//!
//! The parser is lenient where Suricata is: a line may end with LF alone
//! (or a lone CR), the software version ends at the first space, and
//! anything after it is a comment.
//!
//! Bounds: the identification line is buffered up to [`MAX_BANNER_LEN`]
//! bytes; a longer one is read from its first [`MAX_BANNER_LEN`] bytes,
//! reported as [`SshAnomaly::LongBanner`], and the rest of the line is
//! skipped. Only a KEXINIT is ever buffered, and only one shorter than
//! [`MAX_KEXINIT_LEN`] (Suricata's limit): a longer one is reported as
//! [`SshAnomaly::LongKexRecord`] and skipped over like every other packet,
//! by counting, whatever its length field says.

use md5::{Digest, Md5};

/// Longest identification line buffered (Suricata's `SSH_MAX_BANNER_LEN`).
pub const MAX_BANNER_LEN: usize = 256;

/// Longest KEXINIT packet body buffered for HASSH (Suricata's
/// `SSH_MAX_REASSEMBLED_RECORD_LEN`).
pub const MAX_KEXINIT_LEN: usize = 65535;

/// `packet_length` (4), `padding_length` (1) and the message code (1).
const HEADER_LEN: usize = 6;

/// SSH_MSG_KEXINIT.
pub const MSG_KEXINIT: u8 = 20;
/// SSH_MSG_NEWKEYS.
pub const MSG_NEWKEYS: u8 = 21;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SshDirection {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// Deviations found while parsing, named after Suricata's `ssh.*` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SshAnomaly {
    /// The identification line is not `SSH-proto-software`: the
    /// direction is not parsed further.
    InvalidBanner,
    /// The identification line is [`MAX_BANNER_LEN`] bytes or longer.
    LongBanner,
    /// A packet whose length field is below 2: the direction is not
    /// parsed further.
    InvalidRecord,
    /// A KEXINIT longer than [`MAX_KEXINIT_LEN`]: no HASSH for it.
    LongKexRecord,
}

impl SshAnomaly {
    /// The `app-layer-event:ssh.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            SshAnomaly::InvalidBanner => "invalid_banner",
            SshAnomaly::LongBanner => "long_banner",
            SshAnomaly::InvalidRecord => "invalid_record",
            SshAnomaly::LongKexRecord => "long_kex_record",
        }
    }
}

/// How far one direction got, in Suricata's order (`ssh_state`'s
/// progress values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum SshProgress {
    /// Waiting for the identification line.
    #[default]
    InProgress,
    /// A too long identification line was read; its end is awaited.
    BannerWaitEol,
    /// The identification line was read.
    BannerDone,
    /// NEWKEYS was sent: the rest of the direction is encrypted.
    Finished,
}

/// What became true in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshEventKind {
    /// The identification line was read (proto and software known).
    BannerDone,
    /// The KEXINIT was read: the direction's HASSH is known.
    Hassh,
    /// NEWKEYS: the direction is encrypted from here on.
    Finished,
}

/// A step of one direction, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SshEvent {
    /// The direction it happened in.
    pub dir: SshDirection,
    /// What happened.
    pub kind: SshEventKind,
}

/// Limits and options of the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SshConfig {
    /// Buffer KEXINIT packets and compute HASSH (Suricata computes it when
    /// `app-layer.protocols.ssh.hassh` is on or a rule uses a HASSH
    /// keyword).
    pub hassh: bool,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig { hassh: true }
    }
}

/// What one direction said about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshSide {
    /// The protocol version of the identification line (`2.0`, `1.99`).
    pub proto: Vec<u8>,
    /// The software version (`OpenSSH_8.9p1`), without the comment.
    pub software: Vec<u8>,
    /// The HASSH string: key exchange, encryption, MAC and compression
    /// algorithm lists of this direction, `;`-separated.
    pub hassh_string: Vec<u8>,
    /// MD5 of [`SshSide::hassh_string`], lowercase hex (empty until the
    /// KEXINIT was read).
    pub hassh: Vec<u8>,
    /// Progress.
    pub progress: SshProgress,
}

/// Where a direction's parser stands.
#[derive(Debug, Default)]
struct Parse {
    /// The identification line read so far (no line ending).
    line: Vec<u8>,
    /// A CR was the last byte seen while reading a line: the line ended,
    /// and an LF right after it belongs to the line ending.
    after_cr: bool,
    /// The 6-byte packet header read so far.
    header: Vec<u8>,
    /// The body of a KEXINIT being buffered.
    kexinit: Vec<u8>,
    /// Bytes of the current packet still to read (into `kexinit` when
    /// `buffering`, otherwise skipped).
    left: u64,
    /// The current packet is a KEXINIT being buffered.
    buffering: bool,
    /// Parsing gave up (invalid data).
    stopped: bool,
}

/// The SSH state of one connection (one transaction, as in Suricata).
#[derive(Debug, Default)]
pub struct SshSession {
    cfg: SshConfig,
    /// The client's side.
    pub client: SshSide,
    /// The server's side.
    pub server: SshSide,
    parse: [Parse; 2],
    /// Anomalies, each kind once, in order of first occurrence.
    pub anomalies: Vec<SshAnomaly>,
    /// How many times anomalies occurred in all.
    pub anomaly_count: u64,
}

/// How a byte stream splits at a line end.
enum LineEnd {
    /// No line end in the data.
    None,
    /// The line ends before `at`, and the next data starts at `next`.
    At { at: usize, next: usize },
}

fn find_line_end(data: &[u8]) -> LineEnd {
    match data.iter().position(|&b| b == b'\n' || b == b'\r') {
        None => LineEnd::None,
        Some(at) => LineEnd::At { at, next: at + 1 },
    }
}

/// `SSH-protoversion-softwareversion[ comments]`, read as Suricata does:
/// the protocol version is everything up to the next `-` (at least one
/// byte), the software version runs to the first space (or, when that
/// leaves nothing, is the rest of the line).
pub fn parse_banner(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(b"SSH-")?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    if dash == 0 {
        return None;
    }
    let proto = rest.get(..dash)?;
    let after = rest.get(dash + 1..)?;
    let end = after
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(after.len());
    let software = match end {
        0 => after,
        n => after.get(..n)?,
    };
    Some((proto, software))
}

/// The fields of a KEXINIT body (after the message code) that HASSH uses:
/// key exchange, then encryption, MAC and compression lists for the
/// client-to-server (`to_server`) or server-to-client direction.
pub fn kexinit_lists(body: &[u8], to_server: bool) -> Option<[&[u8]; 4]> {
    // The 16-byte cookie, then ten name-lists.
    let mut rest = body.get(16..)?;
    let mut lists: [&[u8]; 10] = [&[]; 10];
    for slot in lists.iter_mut() {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        *slot = tail.get(..len)?;
        rest = tail.get(len..)?;
    }
    // first_kex_packet_follows and the reserved word must be there too.
    rest.get(..5)?;
    let [kex, _host_key, enc_cs, enc_sc, mac_cs, mac_sc, comp_cs, comp_sc, _, _] = lists;
    Some(if to_server {
        [kex, enc_cs, mac_cs, comp_cs]
    } else {
        [kex, enc_sc, mac_sc, comp_sc]
    })
}

/// The HASSH string of a KEXINIT body and its MD5 (lowercase hex).
pub fn hassh(body: &[u8], to_server: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let lists = kexinit_lists(body, to_server)?;
    let mut s = Vec::with_capacity(lists.iter().map(|l| l.len() + 1).sum());
    for (i, l) in lists.iter().enumerate() {
        if i > 0 {
            s.push(b';');
        }
        s.extend_from_slice(l);
    }
    let hash = Md5::digest(&s)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes();
    Some((s, hash))
}

impl SshSession {
    /// A session with the given options.
    pub fn new(cfg: SshConfig) -> Self {
        SshSession {
            cfg,
            ..SshSession::default()
        }
    }

    /// The side data of `dir` comes from.
    pub fn side(&self, dir: SshDirection) -> &SshSide {
        match dir {
            SshDirection::ToServer => &self.client,
            SshDirection::ToClient => &self.server,
        }
    }

    fn flag(&mut self, a: SshAnomaly) {
        self.anomaly_count += 1;
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }

    /// Whether a direction stopped being parsed (invalid data).
    pub fn stopped(&self, dir: SshDirection) -> bool {
        let [c, s] = &self.parse;
        match dir {
            SshDirection::ToServer => c.stopped,
            SshDirection::ToClient => s.stopped,
        }
    }

    /// Whether both directions sent NEWKEYS: nothing more is in clear
    /// text.
    pub fn encrypted(&self) -> bool {
        self.client.progress == SshProgress::Finished
            && self.server.progress == SshProgress::Finished
    }

    /// Bytes held for reassembly in both directions: at most
    /// 2 × ([`MAX_BANNER_LEN`] + [`MAX_KEXINIT_LEN`] + 6).
    pub fn buffered(&self) -> usize {
        self.parse
            .iter()
            .map(|p| p.line.len() + p.header.len() + p.kexinit.len())
            .sum()
    }

    fn parts(&mut self, dir: SshDirection) -> (&mut SshSide, &mut Parse) {
        let [c, s] = &mut self.parse;
        match dir {
            SshDirection::ToServer => (&mut self.client, c),
            SshDirection::ToClient => (&mut self.server, s),
        }
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn feed(&mut self, dir: SshDirection, mut data: &[u8], events: &mut Vec<SshEvent>) {
        while !data.is_empty() {
            let (side, p) = self.parts(dir);
            if p.stopped || side.progress == SshProgress::Finished {
                return;
            }
            if p.after_cr {
                // The line ended at a CR: an LF right after it is part of
                // the line ending.
                p.after_cr = false;
                if data.first() == Some(&b'\n') {
                    data = data.get(1..).unwrap_or(&[]);
                }
                continue;
            }
            data = match side.progress {
                SshProgress::InProgress => self.banner(dir, data, events),
                SshProgress::BannerWaitEol => self.wait_eol(dir, data, events),
                SshProgress::BannerDone => self.packets(dir, data, events),
                SshProgress::Finished => return,
            };
        }
    }

    /// Reads the identification line; returns what follows it.
    fn banner<'a>(
        &mut self,
        dir: SshDirection,
        data: &'a [u8],
        events: &mut Vec<SshEvent>,
    ) -> &'a [u8] {
        let (_, p) = self.parts(dir);
        let room = MAX_BANNER_LEN.saturating_sub(p.line.len());
        let (take, rest, ended) = match find_line_end(data) {
            LineEnd::At { at, next } if at <= room => {
                p.after_cr = data.get(at) == Some(&b'\r');
                (
                    data.get(..at).unwrap_or(&[]),
                    data.get(next..).unwrap_or(&[]),
                    true,
                )
            }
            _ => {
                let n = room.min(data.len());
                (
                    data.get(..n).unwrap_or(&[]),
                    data.get(n..).unwrap_or(&[]),
                    false,
                )
            }
        };
        p.line.extend_from_slice(take);
        let long = p.line.len() >= MAX_BANNER_LEN;
        if !ended && !long {
            return rest;
        }
        let line = std::mem::take(&mut p.line);
        let Some((proto, software)) = parse_banner(&line) else {
            p.stopped = true;
            self.flag(SshAnomaly::InvalidBanner);
            return &[];
        };
        let (side, _) = self.parts(dir);
        side.proto = proto.to_vec();
        side.software = software.to_vec();
        if long {
            self.flag(SshAnomaly::LongBanner);
        }
        let (side, _) = self.parts(dir);
        if ended {
            side.progress = SshProgress::BannerDone;
            events.push(SshEvent {
                dir,
                kind: SshEventKind::BannerDone,
            });
        } else {
            side.progress = SshProgress::BannerWaitEol;
        }
        rest
    }

    /// Skips the rest of a too long identification line; returns what
    /// follows it.
    fn wait_eol<'a>(
        &mut self,
        dir: SshDirection,
        data: &'a [u8],
        events: &mut Vec<SshEvent>,
    ) -> &'a [u8] {
        let (side, p) = self.parts(dir);
        match find_line_end(data) {
            LineEnd::None => &[],
            LineEnd::At { at, next } => {
                p.after_cr = data.get(at) == Some(&b'\r');
                side.progress = SshProgress::BannerDone;
                events.push(SshEvent {
                    dir,
                    kind: SshEventKind::BannerDone,
                });
                data.get(next..).unwrap_or(&[])
            }
        }
    }

    /// Reads binary packets; returns what is left unread (nothing, or the
    /// data after the point where the direction stopped).
    fn packets<'a>(
        &mut self,
        dir: SshDirection,
        mut data: &'a [u8],
        events: &mut Vec<SshEvent>,
    ) -> &'a [u8] {
        let hassh_on = self.cfg.hassh;
        while !data.is_empty() {
            let (side, p) = self.parts(dir);
            if p.stopped || side.progress == SshProgress::Finished {
                return &[];
            }
            if p.left > 0 {
                let n = usize::try_from(p.left)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                if p.buffering {
                    p.kexinit.extend_from_slice(data.get(..n).unwrap_or(&[]));
                }
                p.left -= n as u64;
                data = data.get(n..).unwrap_or(&[]);
                if p.left == 0 && p.buffering {
                    p.buffering = false;
                    let body = std::mem::take(&mut p.kexinit);
                    self.kexinit_done(dir, &body, events);
                }
                continue;
            }
            let n = (HEADER_LEN - p.header.len()).min(data.len());
            p.header.extend_from_slice(data.get(..n).unwrap_or(&[]));
            data = data.get(n..).unwrap_or(&[]);
            let Some(&[a, b, c, d, _padding, code]) = p.header.get(..HEADER_LEN) else {
                return &[];
            };
            p.header.clear();
            let len = u32::from_be_bytes([a, b, c, d]);
            if len < 2 {
                p.stopped = true;
                self.flag(SshAnomaly::InvalidRecord);
                return &[];
            }
            // The length counts the padding length byte and the code.
            let body = u64::from(len - 2);
            p.left = body;
            match code {
                MSG_NEWKEYS => {
                    side.progress = SshProgress::Finished;
                    events.push(SshEvent {
                        dir,
                        kind: SshEventKind::Finished,
                    });
                    return &[];
                }
                MSG_KEXINIT if hassh_on && side.hassh.is_empty() => {
                    if body < MAX_KEXINIT_LEN as u64 {
                        p.buffering = true;
                        if body == 0 {
                            p.buffering = false;
                            self.kexinit_done(dir, &[], events);
                        }
                    } else {
                        self.flag(SshAnomaly::LongKexRecord);
                    }
                }
                _ => {}
            }
        }
        &[]
    }

    fn kexinit_done(&mut self, dir: SshDirection, body: &[u8], events: &mut Vec<SshEvent>) {
        let Some((string, hash)) = hassh(body, dir == SshDirection::ToServer) else {
            return;
        };
        let (side, _) = self.parts(dir);
        side.hassh_string = string;
        side.hassh = hash;
        events.push(SshEvent {
            dir,
            kind: SshEventKind::Hassh,
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn name_list(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    /// A binary packet with `payload` (message code first) and 4 bytes of
    /// padding, after RFC 4253 §6.
    fn packet(payload: &[u8]) -> Vec<u8> {
        let padding = 4u8;
        let len = 1 + payload.len() + usize::from(padding);
        let mut v = (len as u32).to_be_bytes().to_vec();
        v.push(padding);
        v.extend_from_slice(payload);
        v.extend_from_slice(&[0; 4]);
        v
    }

    const KEX: &str = "curve25519-sha256,diffie-hellman-group14-sha256";
    const ENC_CS: &str = "aes128-ctr,aes256-gcm@openssh.com";
    const ENC_SC: &str = "chacha20-poly1305@openssh.com";
    const MAC_CS: &str = "hmac-sha2-256";
    const MAC_SC: &str = "umac-64-etm@openssh.com,hmac-sha1";
    const COMP: &str = "none,zlib@openssh.com";

    fn kexinit() -> Vec<u8> {
        let mut p = vec![MSG_KEXINIT];
        p.extend_from_slice(&[0x42; 16]);
        for l in [
            KEX,
            "ssh-ed25519",
            ENC_CS,
            ENC_SC,
            MAC_CS,
            MAC_SC,
            COMP,
            "none",
            "",
            "",
        ] {
            p.extend_from_slice(&name_list(l));
        }
        p.extend_from_slice(&[0, 0, 0, 0, 0]);
        packet(&p)
    }

    fn client_stream() -> Vec<u8> {
        let mut v = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n".to_vec();
        v.extend_from_slice(&kexinit());
        v.extend_from_slice(&packet(&[30, 0, 0, 0, 1, 7]));
        v.extend_from_slice(&packet(&[MSG_NEWKEYS]));
        // Encrypted from here on: a length field that would be invalid.
        v.extend_from_slice(&[0, 0, 0, 0, 9, 9, 9, 9]);
        v
    }

    fn kinds(ev: &[SshEvent]) -> Vec<(SshDirection, SshEventKind)> {
        ev.iter().map(|e| (e.dir, e.kind)).collect()
    }

    #[test]
    fn banner_kexinit_newkeys() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        s.feed(SshDirection::ToServer, &client_stream(), &mut ev);
        assert_eq!(
            kinds(&ev),
            vec![
                (SshDirection::ToServer, SshEventKind::BannerDone),
                (SshDirection::ToServer, SshEventKind::Hassh),
                (SshDirection::ToServer, SshEventKind::Finished),
            ]
        );
        assert_eq!(s.client.proto, b"2.0");
        assert_eq!(s.client.software, b"OpenSSH_8.9p1");
        assert_eq!(s.client.progress, SshProgress::Finished);
        assert_eq!(
            s.client.hassh_string,
            format!("{KEX};{ENC_CS};{MAC_CS};{COMP}").as_bytes()
        );
        // Python: hashlib.md5(b"curve25519-sha256,diffie-hellman-group14-
        // sha256;aes128-ctr,aes256-gcm@openssh.com;hmac-sha2-256;none,
        // zlib@openssh.com").hexdigest()
        assert_eq!(s.client.hassh, b"7b3f76e580e44aea1e396d8af55a8228");
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
        assert!(!s.encrypted());
        assert_eq!(s.buffered(), 0);
    }

    #[test]
    fn server_hassh_uses_server_to_client_lists() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        let mut data = b"SSH-1.99-Cisco-1.25\n".to_vec();
        data.extend_from_slice(&kexinit());
        s.feed(SshDirection::ToClient, &data, &mut ev);
        assert_eq!(s.server.proto, b"1.99");
        assert_eq!(s.server.software, b"Cisco-1.25");
        assert_eq!(
            s.server.hassh_string,
            format!("{KEX};{ENC_SC};{MAC_SC};none").as_bytes()
        );
        // Python: hashlib.md5(b"curve25519-sha256,diffie-hellman-group14-
        // sha256;chacha20-poly1305@openssh.com;umac-64-etm@openssh.com,
        // hmac-sha1;none").hexdigest()
        assert_eq!(s.server.hassh, b"ec47dbd1708f312be18c2160866ef7fc");
    }

    #[test]
    fn split_byte_by_byte_is_the_same() {
        let data = client_stream();
        let mut whole = SshSession::default();
        let mut ev_whole = Vec::new();
        whole.feed(SshDirection::ToServer, &data, &mut ev_whole);
        let mut bytes = SshSession::default();
        let mut ev_bytes = Vec::new();
        for b in &data {
            bytes.feed(SshDirection::ToServer, &[*b], &mut ev_bytes);
        }
        assert_eq!(ev_whole, ev_bytes);
        assert_eq!(whole.client, bytes.client);
        assert_eq!(whole.anomalies, bytes.anomalies);
    }

    #[test]
    fn banner_variants() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"SSH-2.0-OpenSSH_7.4\r\n", b"2.0", b"OpenSSH_7.4"),
            (b"SSH-2.0-OpenSSH_7.4\n", b"2.0", b"OpenSSH_7.4"),
            (b"SSH-2.0-libssh-0.7.2\n", b"2.0", b"libssh-0.7.2"),
            (b"SSH-2.0-dropbear comment here\r\n", b"2.0", b"dropbear"),
            (b"SSH-Single-\n", b"Single", b""),
            (b"SSH-2.0- lead\n", b"2.0", b" lead"),
        ];
        for (line, proto, software) in cases {
            let mut s = SshSession::default();
            let mut ev = Vec::new();
            s.feed(SshDirection::ToClient, line, &mut ev);
            assert_eq!(s.server.proto, *proto, "{line:?}");
            assert_eq!(s.server.software, *software, "{line:?}");
            assert_eq!(s.server.progress, SshProgress::BannerDone, "{line:?}");
            assert!(s.anomalies.is_empty(), "{line:?}");
        }
        for bad in [&b"HTTP/1.1 200 OK\r\n"[..], b"SSH-2.0\n", b"SSH--x\n"] {
            let mut s = SshSession::default();
            let mut ev = Vec::new();
            s.feed(SshDirection::ToServer, bad, &mut ev);
            assert_eq!(s.anomalies, vec![SshAnomaly::InvalidBanner], "{bad:?}");
            assert!(s.stopped(SshDirection::ToServer));
            assert!(ev.is_empty());
        }
    }

    #[test]
    fn lone_cr_ends_the_line() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        let mut data = b"SSH-2.0-X\r".to_vec();
        data.extend_from_slice(&packet(&[MSG_NEWKEYS]));
        s.feed(SshDirection::ToServer, &data, &mut ev);
        assert_eq!(s.client.progress, SshProgress::Finished);
    }

    #[test]
    fn long_banner_is_flagged_and_bounded() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        let mut data = b"SSH-2.0-".to_vec();
        data.extend_from_slice(&[b'A'; 5000]);
        s.feed(SshDirection::ToServer, &data, &mut ev);
        assert!(s.buffered() <= MAX_BANNER_LEN);
        assert_eq!(s.client.progress, SshProgress::BannerWaitEol);
        assert_eq!(s.anomalies, vec![SshAnomaly::LongBanner]);
        assert_eq!(s.client.software.len(), MAX_BANNER_LEN - 8);
        let mut rest = b"AAAA\r\n".to_vec();
        rest.extend_from_slice(&packet(&[MSG_NEWKEYS]));
        s.feed(SshDirection::ToServer, &rest, &mut ev);
        assert_eq!(s.client.progress, SshProgress::Finished);
    }

    #[test]
    fn oversized_packets_are_skipped_without_buffering() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        s.feed(SshDirection::ToServer, b"SSH-2.0-X\r\n", &mut ev);
        // A KEXINIT claiming 4 GiB: flagged, not buffered.
        s.feed(
            SshDirection::ToServer,
            &[0xff, 0xff, 0xff, 0xff, 4, MSG_KEXINIT],
            &mut ev,
        );
        for _ in 0..100 {
            s.feed(SshDirection::ToServer, &[0u8; 16000], &mut ev);
        }
        assert_eq!(s.anomalies, vec![SshAnomaly::LongKexRecord]);
        assert!(s.buffered() < 64);
        assert!(s.client.hassh.is_empty());
        // Another message type with a huge length is skipped by counting.
        let mut s = SshSession::default();
        s.feed(SshDirection::ToClient, b"SSH-2.0-Y\n", &mut ev);
        s.feed(SshDirection::ToClient, &[0x7f, 0, 0, 0, 4, 94], &mut ev);
        s.feed(SshDirection::ToClient, &vec![0u8; 1 << 20], &mut ev);
        assert!(s.buffered() < 64 && s.anomalies.is_empty());
    }

    #[test]
    fn invalid_record_length_stops() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        s.feed(SshDirection::ToServer, b"SSH-2.0-X\r\n", &mut ev);
        s.feed(SshDirection::ToServer, &[0, 0, 0, 1, 0, 0, 1, 2], &mut ev);
        assert_eq!(s.anomalies, vec![SshAnomaly::InvalidRecord]);
        assert!(s.stopped(SshDirection::ToServer));
    }

    #[test]
    fn hassh_off_buffers_nothing() {
        let mut s = SshSession::new(SshConfig { hassh: false });
        let mut ev = Vec::new();
        s.feed(SshDirection::ToServer, &client_stream(), &mut ev);
        assert!(s.client.hassh.is_empty());
        assert_eq!(s.client.progress, SshProgress::Finished);
    }

    #[test]
    fn both_newkeys_mean_encrypted() {
        let mut s = SshSession::default();
        let mut ev = Vec::new();
        s.feed(SshDirection::ToServer, &client_stream(), &mut ev);
        let mut srv = b"SSH-2.0-S\r\n".to_vec();
        srv.extend_from_slice(&packet(&[MSG_NEWKEYS]));
        srv.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        s.feed(SshDirection::ToClient, &srv, &mut ev);
        assert!(s.encrypted());
        assert!(s.anomalies.is_empty());
    }
}
