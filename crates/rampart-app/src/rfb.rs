//! RFB (VNC) connection setup, parsed for inspection as Suricata's `rfb`
//! parser does (RFC 6143 §7.1–7.3): the protocol versions of both sides,
//! the security types offered and chosen, the VNC authentication
//! challenge and response, the security result, the client's shared flag
//! and the server's ServerInit (framebuffer size, pixel format, desktop
//! name). Once the handshake is over (ServerInit read, or authentication
//! failed) the rest of the connection, framebuffer traffic, is skipped.
//!
//! Every handshake message is a `pdu` frame ([`crate::frame`]) when the
//! session's [`RfbSession::frames`] sink is enabled.
//!
//! Versions: 3.3 (the server picks the security type, a 4-byte value; no
//! security result for the "None" type), 3.7 (the server offers a list,
//! the client picks one byte), 3.8 (as 3.7, plus a security result, with
//! a reason on failure, for every type). The client's version decides
//! the dialect, as the server must follow it; unknown minors count as 3.3
//! below 7 and as 3.8 from 8 (Apple's `003.889`). Security types other
//! than None (1) and VNC authentication (2) have exchanges of their own
//! that are not parsed: the handshake ends there.
//!
//! The parser is sans-I/O and bounded: each direction buffers at most one
//! message, and the only variable-length ones (failure reasons, the
//! desktop name) are cut at [`MAX_STRING_LEN`] bytes, the rest skipped.

use crate::frame::FrameSink;
use crate::http::Direction;

/// Longest failure reason or desktop name kept (longer ones are skipped
/// past and their first bytes kept).
pub const MAX_STRING_LEN: usize = 4096;

/// Most bytes buffered per direction while a message is incomplete or
/// waits for the other direction.
const MAX_BUFFER: usize = 64 * 1024;

/// The security types and results RFC 6143 names.
pub mod sectype {
    /// Invalid (the server refuses the connection, with a reason).
    pub const INVALID: u32 = 0;
    /// No authentication.
    pub const NONE: u32 = 1;
    /// VNC challenge-response authentication.
    pub const VNC: u32 = 2;
}

/// A protocol version line (`RFB 003.008\n`), as digits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RfbVersion {
    /// The three major version digits (`003`).
    pub major: String,
    /// The three minor version digits (`008`).
    pub minor: String,
}

/// The pixel format of ServerInit (RFC 6143 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PixelFormat {
    /// Bits per pixel.
    pub bits_per_pixel: u8,
    /// Useful bits per pixel.
    pub depth: u8,
    /// Multi-byte pixels are big-endian.
    pub big_endian: bool,
    /// True colour (else a colour map).
    pub true_color: bool,
    /// Maximum red value.
    pub red_max: u16,
    /// Maximum green value.
    pub green_max: u16,
    /// Maximum blue value.
    pub blue_max: u16,
    /// Red shift.
    pub red_shift: u8,
    /// Green shift.
    pub green_shift: u8,
    /// Blue shift.
    pub blue_shift: u8,
}

/// The server's ServerInit message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerInit {
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// Pixel format.
    pub pixel_format: PixelFormat,
    /// The desktop name (at most [`MAX_STRING_LEN`] bytes).
    pub name: Vec<u8>,
}

/// What the next message of a direction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    /// The protocol version line.
    #[default]
    Version,
    /// Server: the security type (3.3) or the offered types (3.7+).
    Security,
    /// Server: the reason of a refused connection.
    SecurityFailureReason,
    /// Client: the chosen security type (3.7+).
    SecurityChoice,
    /// Server: the 16-byte VNC challenge.
    Challenge,
    /// Client: the 16-byte VNC response.
    Response,
    /// Server: the security result.
    Result,
    /// Server: the reason of a failed authentication (3.8).
    ResultReason,
    /// Client: ClientInit (the shared flag).
    ClientInit,
    /// Server: ServerInit.
    ServerInit,
    /// Nothing more is parsed in this direction.
    Done,
}

/// One direction's reading state.
#[derive(Debug, Default, Clone)]
struct Side {
    expect: Expect,
    /// Bytes of the message being read.
    buf: Vec<u8>,
    /// Stream offset of `buf`'s first byte.
    offset: u64,
    /// Bytes of an over-long string still to skip.
    skip: u64,
}

/// The handshake of one RFB connection (Suricata keeps it as the
/// connection's one transaction).
#[derive(Debug, Default, Clone)]
pub struct RfbSession {
    /// The server's version line.
    pub server_version: Option<RfbVersion>,
    /// The client's version line.
    pub client_version: Option<RfbVersion>,
    /// The security types the server offered (3.7+).
    pub offered_types: Vec<u8>,
    /// The security type in use: the server's pick (3.3) or the client's
    /// choice (3.7+).
    pub security_type: Option<u32>,
    /// The VNC authentication challenge.
    pub vnc_challenge: Option<[u8; 16]>,
    /// The client's VNC authentication response.
    pub vnc_response: Option<[u8; 16]>,
    /// The security result (0 OK, 1 failed, 2 too many attempts).
    pub security_result: Option<u32>,
    /// Why the server refused the connection or the authentication.
    pub failure_reason: Vec<u8>,
    /// ClientInit's shared flag.
    pub shared: Option<bool>,
    /// ServerInit.
    pub server_init: Option<ServerInit>,
    /// The handshake is over (ServerInit read, or the server refused the
    /// connection or the authentication): the transaction is complete.
    pub complete: bool,
    /// Every handshake message as a `pdu` frame, when enabled.
    pub frames: FrameSink,
    client: Side,
    server: Side,
    /// Stream bytes fed per direction (client, server).
    fed: [u64; 2],
    /// Data arrived that did not parse: the session is not parsed further.
    pub malformed: bool,
}

/// The handshake completed, or failed, in this call (the transaction is
/// ready for inspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfbComplete;

impl RfbSession {
    /// A session that reports frames when `frames` is set.
    pub fn new(frames: bool) -> Self {
        RfbSession {
            frames: FrameSink::new(frames),
            ..RfbSession::default()
        }
    }

    /// The minor version of the dialect both sides speak, once the
    /// client's version is known: 3, 7 or 8.
    fn dialect(&self) -> Option<u8> {
        let minor: u32 = self.client_version.as_ref()?.minor.parse().ok()?;
        Some(match minor {
            0..=6 => 3,
            7 => 7,
            _ => 8,
        })
    }

    /// Feeds in-order stream data of `dir`. Returns `Some` when this data
    /// completed the handshake.
    pub fn feed(&mut self, dir: Direction, data: &[u8]) -> Option<RfbComplete> {
        let was_complete = self.complete;
        let (side, idx) = match dir {
            Direction::ToServer => (&mut self.client, 0),
            Direction::ToClient => (&mut self.server, 1),
        };
        let fed = self.fed.get(idx).copied().unwrap_or(0);
        if side.expect != Expect::Done && !self.malformed {
            if side.buf.is_empty() {
                side.offset = fed;
            }
            let mut data = data;
            if side.skip > 0 {
                let n = usize::try_from(side.skip)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                side.skip -= n as u64;
                data = data.get(n..).unwrap_or(&[]);
                side.offset = fed + n as u64;
            }
            side.buf.extend_from_slice(data);
            // Bounded: a side waiting for the other's message (or sending
            // data that is not the handshake) is given up on.
            if side.buf.len() > MAX_BUFFER {
                side.expect = Expect::Done;
                side.buf = Vec::new();
            }
        }
        if let Some(f) = self.fed.get_mut(idx) {
            *f += data.len() as u64;
        }
        // A message of one side may wait for the other's (the server's
        // security message needs the client's version).
        while self.step(Direction::ToServer) || self.step(Direction::ToClient) {}
        (!was_complete && self.complete).then_some(RfbComplete)
    }

    /// Reads the next message of `dir` if it is all there; returns whether
    /// it did.
    fn step(&mut self, dir: Direction) -> bool {
        if self.malformed {
            return false;
        }
        let expect = match dir {
            Direction::ToServer => self.client.expect,
            Direction::ToClient => self.server.expect,
        };
        let buf = match dir {
            Direction::ToServer => &self.client.buf,
            Direction::ToClient => &self.server.buf,
        };
        let dialect = self.dialect();
        let u32_at = |b: &[u8], at: usize| -> Option<u32> {
            let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
            Some(u32::from_be_bytes(v))
        };
        // (message length, next expectation); None: not all there yet.
        let parsed: Option<(usize, Expect)> = match expect {
            Expect::Done => None,
            Expect::Version => {
                let Some(line) = buf.get(..12) else {
                    return false;
                };
                let Some(v) = parse_version(line) else {
                    self.malformed = true;
                    return false;
                };
                match dir {
                    Direction::ToServer => {
                        self.client_version = Some(v);
                        // 3.3: the client sends nothing until it knows the
                        // server's pick.
                        let next = match self.dialect() {
                            Some(3) => Expect::Response,
                            _ => Expect::SecurityChoice,
                        };
                        Some((12, next))
                    }
                    Direction::ToClient => {
                        self.server_version = Some(v);
                        Some((12, Expect::Security))
                    }
                }
            }
            Expect::Security => match dialect {
                None => None,
                Some(3) => {
                    let Some(t) = u32_at(buf, 0) else {
                        return false;
                    };
                    self.security_type = Some(t);
                    Some((4, self.after_type(t)))
                }
                Some(_) => {
                    let Some(&n) = buf.first() else {
                        return false;
                    };
                    if n == 0 {
                        Some((1, Expect::SecurityFailureReason))
                    } else {
                        let Some(types) = buf.get(1..1 + usize::from(n)) else {
                            return false;
                        };
                        self.offered_types = types.to_vec();
                        // What follows depends on the client's choice.
                        Some((1 + usize::from(n), Expect::Challenge))
                    }
                }
            },
            Expect::SecurityFailureReason | Expect::ResultReason => {
                let Some(len) = u32_at(buf, 0) else {
                    return false;
                };
                let want = 4 + u64::from(len);
                let have = buf.len() as u64;
                if have < want && have < (4 + MAX_STRING_LEN) as u64 {
                    return false;
                }
                let kept = buf.get(4..).unwrap_or(&[]);
                let kept = kept
                    .get(..(len as usize).min(MAX_STRING_LEN))
                    .unwrap_or(kept);
                let used = 4 + kept.len();
                self.failure_reason = kept.to_vec();
                if expect == Expect::SecurityFailureReason {
                    self.security_type.get_or_insert(sectype::INVALID);
                }
                self.complete = true;
                let skip = want.saturating_sub(used as u64);
                self.frame(dir, used, want);
                self.finish_message(dir, used, Expect::Done, skip);
                return true;
            }
            Expect::SecurityChoice => {
                let Some(&t) = buf.first() else {
                    return false;
                };
                self.security_type = Some(u32::from(t));
                Some((1, self.client_after_type(u32::from(t))))
            }
            Expect::Challenge => {
                // The server's next message after its offer depends on
                // the client's choice (3.7+).
                let Some(t) = self.security_type else {
                    return false;
                };
                match t {
                    sectype::VNC => {
                        let Some(c) = buf.get(..16) else {
                            return false;
                        };
                        self.vnc_challenge = c.try_into().ok();
                        Some((16, Expect::Result))
                    }
                    _ => {
                        // Not a challenge: re-dispatch on the type.
                        let next = self.after_type(t);
                        self.server.expect = next;
                        return next != Expect::Challenge;
                    }
                }
            }
            Expect::Response => {
                let Some(t) = self.security_type else {
                    return false;
                };
                if t != sectype::VNC {
                    let next = self.client_after_type(t);
                    self.client.expect = next;
                    return next != Expect::Response;
                }
                let Some(r) = buf.get(..16) else {
                    return false;
                };
                self.vnc_response = r.try_into().ok();
                Some((16, Expect::ClientInit))
            }
            Expect::Result => {
                let Some(r) = u32_at(buf, 0) else {
                    return false;
                };
                self.security_result = Some(r);
                let next = match (r, dialect) {
                    (0, _) => Expect::ServerInit,
                    (_, Some(8)) => Expect::ResultReason,
                    _ => {
                        self.complete = true;
                        Expect::Done
                    }
                };
                Some((4, next))
            }
            Expect::ClientInit => {
                let Some(&s) = buf.first() else {
                    return false;
                };
                self.shared = Some(s != 0);
                Some((1, Expect::Done))
            }
            Expect::ServerInit => {
                let Some(name_len) = u32_at(buf, 20) else {
                    return false;
                };
                let want = 24 + u64::from(name_len);
                let have = buf.len() as u64;
                if have < want && have < (24 + MAX_STRING_LEN) as u64 {
                    return false;
                }
                let b = |i: usize| buf.get(i).copied().unwrap_or(0);
                let w = |i: usize| u16::from_be_bytes([b(i), b(i + 1)]);
                let name = buf.get(24..).unwrap_or(&[]);
                let name = name
                    .get(..(name_len as usize).min(MAX_STRING_LEN))
                    .unwrap_or(name);
                let used = 24 + name.len();
                self.server_init = Some(ServerInit {
                    width: w(0),
                    height: w(2),
                    pixel_format: PixelFormat {
                        bits_per_pixel: b(4),
                        depth: b(5),
                        big_endian: b(6) != 0,
                        true_color: b(7) != 0,
                        red_max: w(8),
                        green_max: w(10),
                        blue_max: w(12),
                        red_shift: b(14),
                        green_shift: b(15),
                        blue_shift: b(16),
                    },
                    name: name.to_vec(),
                });
                self.complete = true;
                self.frame(dir, used, want);
                self.finish_message(dir, used, Expect::Done, want - used as u64);
                return true;
            }
        };
        let Some((len, next)) = parsed else {
            return false;
        };
        self.frame(dir, len, len as u64);
        self.finish_message(dir, len, next, 0);
        true
    }

    /// The server's next message once the security type `t` is known.
    fn after_type(&mut self, t: u32) -> Expect {
        match t {
            sectype::INVALID => Expect::SecurityFailureReason,
            sectype::VNC => Expect::Challenge,
            sectype::NONE if self.dialect() == Some(8) => Expect::Result,
            sectype::NONE => Expect::ServerInit,
            // Types with exchanges of their own end the parsing.
            _ => {
                self.complete = true;
                Expect::Done
            }
        }
    }

    /// The client's next message once the security type `t` is known.
    fn client_after_type(&self, t: u32) -> Expect {
        match t {
            sectype::VNC => Expect::Response,
            sectype::NONE => Expect::ClientInit,
            _ => Expect::Done,
        }
    }

    /// Reports the first `used` bytes of `dir`'s buffer as a frame of
    /// `len` bytes.
    fn frame(&mut self, dir: Direction, used: usize, len: u64) {
        let side = match dir {
            Direction::ToServer => &self.client,
            Direction::ToClient => &self.server,
        };
        let bytes = side.buf.get(..used).unwrap_or(&side.buf);
        self.frames
            .push_partial("pdu", dir, side.offset, len, bytes);
    }

    /// Drops the message just read from `dir`'s buffer, moves on to
    /// `next`, and skips `skip` more bytes of the stream.
    fn finish_message(&mut self, dir: Direction, used: usize, next: Expect, skip: u64) {
        let side = match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        };
        let used = used.min(side.buf.len());
        side.buf.drain(..used);
        side.offset += used as u64;
        side.expect = next;
        if skip > 0 {
            let n = usize::try_from(skip)
                .unwrap_or(usize::MAX)
                .min(side.buf.len());
            side.buf.drain(..n);
            side.offset += n as u64;
            side.skip = skip - n as u64;
        }
        if next == Expect::Done {
            side.buf = Vec::new();
        }
    }

    /// Bytes of the stream were lost: the handshake cannot be followed
    /// further (what was read so far stays).
    pub fn gap(&mut self) {
        self.malformed = true;
    }

    /// Whether anything of the handshake was read (a transaction exists).
    pub fn started(&self) -> bool {
        self.server_version.is_some() || self.client_version.is_some()
    }
}

/// Parses `RFB xxx.yyy\n`.
fn parse_version(line: &[u8]) -> Option<RfbVersion> {
    let rest = line.strip_prefix(b"RFB ")?;
    let (major, rest) = rest.split_at_checked(3)?;
    let rest = rest.strip_prefix(b".")?;
    let (minor, nl) = rest.split_at_checked(3)?;
    if nl != b"\n" || !major.iter().chain(minor).all(u8::is_ascii_digit) {
        return None;
    }
    Some(RfbVersion {
        major: String::from_utf8_lossy(major).into_owned(),
        minor: String::from_utf8_lossy(minor).into_owned(),
    })
}

/// Whether `first_bytes` start like an RFB version line (protocol
/// detection, either direction).
pub fn probe(first_bytes: &[u8]) -> bool {
    match first_bytes.get(..12) {
        Some(line) => parse_version(line).is_some(),
        None => first_bytes.starts_with(b"RFB ") && first_bytes.len() >= 4,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The handshake of the openwall VNC 3.8 capture (server, client
    /// messages in order), laid out from RFC 6143.
    fn handshake_38() -> (Vec<&'static [u8]>, Vec<&'static [u8]>) {
        let server: Vec<&[u8]> = vec![
            b"RFB 003.008\n",
            b"\x01\x02",
            b"\x1d\x03\xc5\x7f\x2d\xff\xcc\x72\xa5\xae\x3a\xd5\x59\xc9\xc3\xdb",
            b"\x00\x00\x00\x00",
            b"\x03\x20\x02\x58\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00\x00\x00\x00\x01\xa0",
        ];
        let client: Vec<&[u8]> = vec![
            b"RFB 003.008\n",
            b"\x02",
            b"\x54\x7b\x7a\x6f\x36\xa1\x54\xdb\x03\xa2\x57\x5c\x6f\x2a\x4e\xc5",
            b"\x00",
        ];
        (server, client)
    }

    #[test]
    fn vnc_38_handshake_in_order() {
        let (server, client) = handshake_38();
        let mut s = RfbSession::new(true);
        let mut done = Vec::new();
        // Interleaved as on the wire.
        let order = [
            (1, 0),
            (0, 0),
            (1, 1),
            (0, 1),
            (1, 2),
            (0, 2),
            (1, 3),
            (0, 3),
            (1, 4),
        ];
        for (who, i) in order {
            let (dir, msg) = if who == 1 {
                (Direction::ToClient, server[i])
            } else {
                (Direction::ToServer, client[i])
            };
            done.push(s.feed(dir, msg).is_some());
        }
        assert_eq!(done.iter().filter(|d| **d).count(), 1);
        assert_eq!(done.last(), Some(&true));
        assert_eq!(s.server_version.as_ref().unwrap().minor, "008");
        assert_eq!(s.security_type, Some(2));
        assert_eq!(s.offered_types, vec![2]);
        assert_eq!(s.security_result, Some(0));
        assert_eq!(s.shared, Some(false));
        let init = s.server_init.as_ref().unwrap();
        assert_eq!((init.width, init.height), (800, 600));
        assert_eq!(init.name, b"\xa0");
        assert_eq!(init.pixel_format.bits_per_pixel, 32);
        assert_eq!(init.pixel_format.red_shift, 16);
        let frames = s.frames.take();
        let to_client: Vec<(u64, u64)> = frames
            .iter()
            .filter(|f| f.dir == Direction::ToClient)
            .map(|f| (f.offset, f.len))
            .collect();
        assert_eq!(to_client, [(0, 12), (12, 2), (14, 16), (30, 4), (34, 25)]);
        let to_server: Vec<(u64, u64)> = frames
            .iter()
            .filter(|f| f.dir == Direction::ToServer)
            .map(|f| (f.offset, f.len))
            .collect();
        assert_eq!(to_server, [(0, 12), (12, 1), (13, 16), (29, 1)]);
        assert!(frames.iter().all(|f| f.complete));
        // Framebuffer traffic afterwards makes no frames.
        s.feed(Direction::ToClient, b"\x00\x00\x00\x01\x00\x00\x00\x00");
        assert!(s.frames.take().is_empty());
    }

    #[test]
    fn split_anywhere_and_server_ahead_of_client() {
        let (server, client) = handshake_38();
        let all_server: Vec<u8> = server.concat();
        let all_client: Vec<u8> = client.concat();
        let mut s = RfbSession::new(true);
        // The whole server side first, byte by byte: its security message
        // waits for the client's version.
        for b in &all_server {
            s.feed(Direction::ToClient, std::slice::from_ref(b));
        }
        assert!(!s.complete);
        for chunk in all_client.chunks(3) {
            s.feed(Direction::ToServer, chunk);
        }
        assert!(s.complete);
        assert_eq!(s.server_init.as_ref().unwrap().name, b"\xa0");
        assert_eq!(s.frames.take().len(), 9);
    }

    #[test]
    fn version_33_and_failures() {
        // 3.3, server picks VNC auth, authentication fails (no reason).
        let mut s = RfbSession::new(false);
        s.feed(Direction::ToClient, b"RFB 003.003\n");
        s.feed(Direction::ToServer, b"RFB 003.003\n");
        s.feed(Direction::ToClient, b"\x00\x00\x00\x02");
        s.feed(Direction::ToClient, &[7u8; 16]);
        s.feed(Direction::ToServer, &[9u8; 16]);
        assert!(s.feed(Direction::ToClient, b"\x00\x00\x00\x01").is_some());
        assert_eq!(s.security_type, Some(2));
        assert_eq!(s.security_result, Some(1));
        assert_eq!(s.vnc_response, Some([9u8; 16]));

        // 3.8 refused with a reason.
        let mut s = RfbSession::new(false);
        s.feed(Direction::ToClient, b"RFB 003.008\n");
        s.feed(Direction::ToServer, b"RFB 003.008\n");
        assert!(s
            .feed(Direction::ToClient, b"\x00\x00\x00\x00\x04busy")
            .is_some());
        assert_eq!(s.failure_reason, b"busy");
        assert_eq!(s.security_type, Some(0));

        // 3.8, no authentication: a result, then ServerInit.
        let mut s = RfbSession::new(false);
        s.feed(Direction::ToClient, b"RFB 003.008\n\x01\x01");
        s.feed(Direction::ToServer, b"RFB 003.008\n\x01\x01");
        s.feed(Direction::ToClient, b"\x00\x00\x00\x00");
        let mut init = vec![0u8; 20];
        init.extend_from_slice(b"\x00\x00\x00\x03abc");
        assert!(s.feed(Direction::ToClient, &init).is_some());
        assert_eq!(s.shared, Some(true));
        assert_eq!(s.server_init.unwrap().name, b"abc");
    }

    #[test]
    fn garbage_stops_parsing_and_long_names_are_cut() {
        let mut s = RfbSession::new(true);
        s.feed(Direction::ToClient, b"RFB 3.8 hello");
        assert!(s.malformed);
        assert!(!probe(b"RFB 3.8 hello"));
        assert!(probe(b"RFB 003.008\n"));
        assert!(probe(b"RFB "));

        let mut s = RfbSession::new(true);
        s.feed(Direction::ToClient, b"RFB 003.008\n\x01\x01");
        s.feed(Direction::ToServer, b"RFB 003.008\n\x01\x01");
        s.feed(Direction::ToClient, b"\x00\x00\x00\x00");
        let mut init = vec![0u8; 20];
        init.extend_from_slice(&100_000u32.to_be_bytes());
        s.feed(Direction::ToClient, &init);
        for _ in 0..25 {
            s.feed(Direction::ToClient, &[b'n'; 4000]);
        }
        assert!(s.complete);
        assert_eq!(s.server_init.as_ref().unwrap().name.len(), MAX_STRING_LEN);
        let last = s.frames.take().pop().unwrap();
        assert_eq!(last.len, 24 + 100_000);
        assert!(!last.complete);
    }
}
