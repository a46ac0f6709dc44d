//! Frames: the protocol data units a parser finds in one direction of a
//! flow, as Suricata's `frame:<proto>.<type>` rule keyword inspects them.
//!
//! A frame is a stream annotation: "at this offset of the to-server
//! stream there is a SIP request line of 47 bytes". Every parser that
//! supports frames reports them the same way, as [`Frame`] values pushed
//! to a [`FrameSink`] while it parses: the frame type (`pdu`,
//! `request.line`, ...; the protocol is the parser's), its direction, its
//! offset in that direction's stream (in the datagram for UDP), its
//! length and its bytes. The caller decides when each frame is inspected
//! and by which rules; the parsers know nothing of rules.
//!
//! Copying a frame's bytes costs memory and time, so a parser makes
//! frames only when its [`FrameSink`] is enabled (some loaded rule
//! inspects frames of that protocol), and never keeps more than
//! [`MAX_FRAME_BYTES`] of one: a longer frame is inspected on its first
//! bytes and says so ([`Frame::data`] shorter than [`Frame::len`]).

use crate::http::Direction;

/// Most bytes kept of one frame. Suricata inspects frames within its
/// stream inspection depth; this bounds the copy.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// One frame of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame type as rules name it after the protocol (`pdu`,
    /// `request.line`, `response.body`, ...).
    pub kind: &'static str,
    /// Which way it travelled.
    pub dir: Direction,
    /// Offset of its first byte in its direction's stream (TCP), or in
    /// its datagram (UDP).
    pub offset: u64,
    /// Its length: the bytes the protocol gives it.
    pub len: u64,
    /// Its bytes, at most [`MAX_FRAME_BYTES`] of them.
    pub data: Vec<u8>,
    /// All `len` bytes were seen (a frame cut short by the end of the
    /// connection is not complete).
    pub complete: bool,
}

/// Where a parser puts the frames it finds: off (the default) unless some
/// rule wants them, bounded by the caller draining it after each feed.
#[derive(Debug, Default, Clone)]
pub struct FrameSink {
    enabled: bool,
    frames: Vec<Frame>,
}

impl FrameSink {
    /// A sink that keeps frames when `enabled`.
    pub fn new(enabled: bool) -> Self {
        FrameSink {
            enabled,
            frames: Vec::new(),
        }
    }

    /// Whether frames are wanted (parsers skip the copy otherwise).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Turns frame collection on or off (for frames found from now on).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Records a complete frame of type `kind`: `bytes` at `offset` of
    /// `dir`'s stream (or datagram).
    pub fn push(&mut self, kind: &'static str, dir: Direction, offset: u64, bytes: &[u8]) {
        self.push_partial(kind, dir, offset, bytes.len() as u64, bytes);
    }

    /// Records a frame of `len` bytes of which `bytes` (its start) were
    /// seen; it is complete when they are all of it.
    pub fn push_partial(
        &mut self,
        kind: &'static str,
        dir: Direction,
        offset: u64,
        len: u64,
        bytes: &[u8],
    ) {
        if !self.enabled {
            return;
        }
        let kept = bytes.get(..MAX_FRAME_BYTES).unwrap_or(bytes);
        self.frames.push(Frame {
            kind,
            dir,
            offset,
            len,
            data: kept.to_vec(),
            complete: bytes.len() as u64 >= len,
        });
    }

    /// The frames recorded since the last call, oldest first.
    pub fn take(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.frames)
    }

    /// Whether frames wait to be taken.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn disabled_sink_keeps_nothing() {
        let mut s = FrameSink::default();
        s.push("pdu", Direction::ToServer, 0, b"abc");
        assert!(s.take().is_empty());
    }

    #[test]
    fn frames_are_complete_when_all_bytes_were_seen() {
        let mut s = FrameSink::new(true);
        s.push("pdu", Direction::ToClient, 12, b"\x01\x02");
        s.push_partial("request.body", Direction::ToServer, 40, 10, b"abc");
        let f = s.take();
        assert_eq!(f.len(), 2);
        assert!(f[0].complete);
        assert_eq!((f[0].offset, f[0].len), (12, 2));
        assert!(!f[1].complete);
        assert_eq!(f[1].data, b"abc");
        assert!(s.is_empty());
    }
}
