//! DCERPC carried over SMB2 named pipes, extracted for inspection: the
//! NetBIOS session messages of an SMB connection are read, and the pipe
//! data of SMB2 WRITE requests, READ responses and IOCTL
//! `FSCTL_PIPE_TRANSCEIVE` requests and responses is fed, per direction,
//! to a [`DcerpcState`], so that `dcerpc.iface`, `dcerpc.opnum` and
//! `dcerpc.stub_data` work on SMB as Suricata's SMB parser makes them.
//!
//! This is not an SMB parser: it keeps no sessions, trees or files beyond
//! what finding pipe data needs. A file id counts as a DCERPC pipe when
//! the first data written to or read from it starts with a plausible
//! DCERPC header (pipes opened on `IPC$` to `svcctl`, `spoolss`, ...);
//! data of other files is skipped. SMB1 and encrypted or compressed SMB3
//! messages are skipped too.
//!
//! Bounds: a NetBIOS message is buffered up to [`MAX_MESSAGE_LEN`] bytes
//! (longer ones, file transfers, are skipped by counting); at most
//! [`MAX_FILES`] file ids and [`MAX_PENDING_READS`] outstanding reads are
//! remembered; a message's compound chain is followed for at most
//! [`MAX_COMPOUND`] commands.

use std::collections::VecDeque;

use crate::dcerpc::{DcerpcConfig, DcerpcDirection, DcerpcEvent, DcerpcState};

/// Longest NetBIOS session message buffered (pipe reads and writes of
/// DCERPC are at most one or a few fragments of 64 KiB).
pub const MAX_MESSAGE_LEN: usize = 128 * 1024;

/// File ids remembered as pipes or not.
pub const MAX_FILES: usize = 64;

/// READ requests remembered until their response (which names no file).
pub const MAX_PENDING_READS: usize = 64;

/// Commands followed in one compounded message.
pub const MAX_COMPOUND: usize = 16;

const SMB2_HEADER_LEN: usize = 64;
const CMD_READ: u16 = 0x08;
const CMD_WRITE: u16 = 0x09;
const CMD_IOCTL: u16 = 0x0b;
const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_c017;
const STATUS_BUFFER_OVERFLOW: u32 = 0x8000_0005;

/// Reading one direction's NetBIOS messages.
#[derive(Debug, Default)]
struct Side {
    /// The message (4-byte header included) read so far.
    buf: Vec<u8>,
    /// Bytes of a too long message still to skip.
    skip: usize,
}

/// What is known of a file id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Pipe,
    Other,
}

/// The DCERPC state of an SMB connection's pipes.
#[derive(Debug, Default)]
pub struct SmbDcerpc {
    sides: [Side; 2],
    files: VecDeque<([u8; 16], FileKind)>,
    reads: VecDeque<(u64, [u8; 16])>,
    /// The DCERPC calls seen on the pipes.
    pub dce: DcerpcState,
    /// NetBIOS messages skipped for being longer than [`MAX_MESSAGE_LEN`].
    pub skipped_messages: u64,
}

impl SmbDcerpc {
    /// A new connection's state.
    pub fn new(cfg: DcerpcConfig) -> Self {
        SmbDcerpc {
            dce: DcerpcState::new(cfg),
            ..Default::default()
        }
    }

    /// Bytes held for NetBIOS messages not yet complete.
    pub fn buffered(&self) -> usize {
        self.sides.iter().map(|s| s.buf.len()).sum()
    }

    /// Feeds in-order stream data of `dir` (client to server is
    /// [`DcerpcDirection::ToServer`]), appending the DCERPC transaction
    /// sides that became complete.
    pub fn feed(&mut self, dir: DcerpcDirection, mut data: &[u8], events: &mut Vec<DcerpcEvent>) {
        let i = match dir {
            DcerpcDirection::ToServer => 0,
            DcerpcDirection::ToClient => 1,
        };
        while !data.is_empty() {
            let Some(side) = self.sides.get_mut(i) else {
                return;
            };
            if side.skip > 0 {
                let n = side.skip.min(data.len());
                side.skip -= n;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            if side.buf.len() < 4 {
                let n = (4 - side.buf.len()).min(data.len());
                let (head, rest) = data.split_at(n);
                side.buf.extend_from_slice(head);
                data = rest;
                if side.buf.len() < 4 {
                    continue;
                }
                let len = side.buf.get(..4).map(message_len).unwrap_or(0);
                if len > MAX_MESSAGE_LEN {
                    side.buf.clear();
                    side.skip = len;
                    self.skipped_messages = self.skipped_messages.saturating_add(1);
                    continue;
                }
            }
            let want = 4 + side.buf.get(..4).map(message_len).unwrap_or(0);
            let n = want.saturating_sub(side.buf.len()).min(data.len());
            let (head, rest) = data.split_at(n);
            side.buf.extend_from_slice(head);
            data = rest;
            if side.buf.len() >= want {
                let msg = std::mem::take(&mut side.buf);
                self.on_message(msg.get(4..).unwrap_or_default(), events);
            }
        }
    }

    /// One NetBIOS session message's payload.
    fn on_message(&mut self, msg: &[u8], events: &mut Vec<DcerpcEvent>) {
        let mut at = 0usize;
        for _ in 0..MAX_COMPOUND {
            let Some(cmd) = msg.get(at..) else { return };
            if cmd.get(..4) != Some(b"\xfeSMB") {
                return;
            }
            self.on_command(cmd, events);
            let next = le32(cmd, 20).unwrap_or(0) as usize;
            if next == 0 {
                return;
            }
            at = at.saturating_add(next);
        }
    }

    /// One SMB2 command (header first; `cmd` runs to the message's end).
    /// Whether it is a request or a response is in its header, not in the
    /// direction it travelled.
    fn on_command(&mut self, cmd: &[u8], events: &mut Vec<DcerpcEvent>) {
        let (Some(command), Some(flags), Some(status), Some(msg_id)) =
            (le16(cmd, 12), le32(cmd, 16), le32(cmd, 8), le64(cmd, 24))
        else {
            return;
        };
        let response = flags & 1 != 0;
        let body = SMB2_HEADER_LEN;
        let ok = status == 0 || status == STATUS_BUFFER_OVERFLOW;
        match (command, response) {
            (CMD_WRITE, false) => {
                let (Some(off), Some(len), Some(fid)) = (
                    le16(cmd, body + 2),
                    le32(cmd, body + 4),
                    file_id(cmd, body + 16),
                ) else {
                    return;
                };
                let data = slice(cmd, usize::from(off), len as usize);
                self.pipe_data(fid, DcerpcDirection::ToServer, data, events);
            }
            (CMD_READ, false) => {
                if let Some(fid) = file_id(cmd, body + 16) {
                    if self.reads.len() >= MAX_PENDING_READS {
                        self.reads.pop_front();
                    }
                    self.reads.push_back((msg_id, fid));
                }
            }
            (CMD_READ, true) => {
                let pos = self.reads.iter().position(|(m, _)| *m == msg_id);
                let Some((_, fid)) = pos.and_then(|p| self.reads.remove(p)) else {
                    return;
                };
                let (Some(off), Some(len)) = (cmd.get(body + 2), le32(cmd, body + 4)) else {
                    return;
                };
                if ok {
                    let data = slice(cmd, usize::from(*off), len as usize);
                    self.pipe_data(fid, DcerpcDirection::ToClient, data, events);
                }
            }
            (CMD_IOCTL, _) => {
                let (Some(ctl), Some(fid)) = (le32(cmd, body + 4), file_id(cmd, body + 8)) else {
                    return;
                };
                if ctl != FSCTL_PIPE_TRANSCEIVE {
                    return;
                }
                let (off_at, len_at, to) = if response {
                    (body + 32, body + 36, DcerpcDirection::ToClient)
                } else {
                    (body + 24, body + 28, DcerpcDirection::ToServer)
                };
                let (Some(off), Some(len)) = (le32(cmd, off_at), le32(cmd, len_at)) else {
                    return;
                };
                if !response || ok {
                    let data = slice(cmd, off as usize, len as usize);
                    self.pipe_data(fid, to, data, events);
                }
            }
            _ => {}
        }
    }

    /// Data written to (`ToServer`) or read from (`ToClient`) file `fid`:
    /// fed to the DCERPC parser when the file is a DCERPC pipe.
    fn pipe_data(
        &mut self,
        fid: [u8; 16],
        dir: DcerpcDirection,
        data: &[u8],
        events: &mut Vec<DcerpcEvent>,
    ) {
        if data.is_empty() {
            return;
        }
        let kind = match self.files.iter().find(|(f, _)| *f == fid) {
            Some((_, k)) => *k,
            None => {
                let k = if looks_dcerpc(data) {
                    FileKind::Pipe
                } else {
                    FileKind::Other
                };
                if self.files.len() >= MAX_FILES {
                    self.files.pop_front();
                }
                self.files.push_back((fid, k));
                k
            }
        };
        if kind == FileKind::Pipe {
            self.dce.feed(dir, data, events);
        }
    }
}

/// The 24-bit length field of a NetBIOS session service header (`h` is
/// its 4 bytes; other message types than session messages carry nothing
/// of interest but are framed the same way).
fn message_len(h: &[u8]) -> usize {
    match h {
        [_, a, b, c] => (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c),
        _ => 0,
    }
}

/// A connection-oriented DCERPC header: version 5.0/5.1, a known PDU
/// type, a data representation Suricata's probe accepts.
fn looks_dcerpc(b: &[u8]) -> bool {
    matches!(b, [5, 0 | 1, t, _, d0, d1, ..] if *t <= 19 && d0 & 0xee == 0 && *d1 <= 3)
}

fn slice(b: &[u8], off: usize, len: usize) -> &[u8] {
    off.checked_add(len)
        .and_then(|end| b.get(off..end))
        .unwrap_or_default()
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(s.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

fn file_id(b: &[u8], at: usize) -> Option<[u8; 16]> {
    b.get(at..at.checked_add(16)?)?.try_into().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// An SMB2 command message (one command) around `body`.
    fn smb2(command: u16, response: bool, msg_id: u64, body: &[u8]) -> Vec<u8> {
        let mut h = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
        h.extend_from_slice(&[0; 4]); // status
        h.extend_from_slice(&command.to_le_bytes());
        h.extend_from_slice(&[1, 0]);
        h.extend_from_slice(&u32::from(response).to_le_bytes());
        h.extend_from_slice(&[0; 4]); // next command
        h.extend_from_slice(&msg_id.to_le_bytes());
        h.resize(64, 0);
        h.extend_from_slice(body);
        let mut m = vec![0];
        let len = u32::try_from(h.len()).unwrap().to_be_bytes();
        m.extend_from_slice(&len[1..]);
        m.extend(h);
        m
    }

    fn write_req(fid: [u8; 16], data: &[u8]) -> Vec<u8> {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&fid);
        b.resize(48, 0);
        b.extend_from_slice(data);
        smb2(CMD_WRITE, false, 5, &b)
    }

    fn read_req(fid: [u8; 16], msg_id: u64) -> Vec<u8> {
        let mut b = vec![49, 0, 0, 0, 0, 0, 1, 0];
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&fid);
        b.resize(49, 0);
        smb2(CMD_READ, false, msg_id, &b)
    }

    fn read_resp(msg_id: u64, data: &[u8]) -> Vec<u8> {
        let mut b = vec![17, 0, 80, 0];
        b.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        b.resize(16, 0);
        b.extend_from_slice(data);
        smb2(CMD_READ, true, msg_id, &b)
    }

    fn dce(ptype: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![5, 0, ptype, 3, 0x10, 0, 0, 0];
        v.extend_from_slice(&u16::try_from(16 + body.len()).unwrap().to_le_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&call_id.to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn pipe_writes_and_reads_feed_dcerpc() {
        let pipe = [1; 16];
        let file = [2; 16];
        let mut client = write_req(file, b"not dcerpc at all");
        client.extend(write_req(
            pipe,
            &dce(0, 7, b"\x00\x00\x00\x00\x00\x00\x0f\x00stub"),
        ));
        client.extend(read_req(pipe, 9));
        let server = read_resp(9, &dce(2, 7, b"\x00\x00\x00\x00\x00\x00\x00\x00answer"));
        let mut st = SmbDcerpc::default();
        let mut ev = Vec::new();
        // Split mid-message.
        st.feed(DcerpcDirection::ToServer, &client[..50], &mut ev);
        st.feed(DcerpcDirection::ToServer, &client[50..], &mut ev);
        st.feed(DcerpcDirection::ToClient, &server, &mut ev);
        assert_eq!(ev, vec![DcerpcEvent::Request(0), DcerpcEvent::Response(0)]);
        let tx = st.dce.transaction(0).unwrap();
        assert_eq!(tx.opnum, 15);
        assert_eq!(tx.stub_request, b"stub");
        assert_eq!(tx.stub_response, b"answer");
        assert!(st.dce.anomalies.is_empty());
    }

    #[test]
    fn long_messages_are_skipped() {
        let mut st = SmbDcerpc::default();
        let mut ev = Vec::new();
        let mut big = vec![0, 0x10, 0, 0];
        big.extend(vec![0xaa; 0x10_0000]);
        big.extend(write_req([1; 16], &dce(0, 1, &[0; 8])));
        for c in big.chunks(1000) {
            st.feed(DcerpcDirection::ToServer, c, &mut ev);
            assert!(st.buffered() <= MAX_MESSAGE_LEN + 4);
        }
        assert_eq!(st.skipped_messages, 1);
        assert_eq!(ev, vec![DcerpcEvent::Request(0)]);
    }
}
