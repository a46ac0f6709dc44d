//! When reassembled TCP data is inspected: Suricata's raw-stream timing.
//!
//! Signatures that work on TCP streams see the reassembled bytes of one
//! direction in chunks. As in Suricata (IDS mode), a direction's data is
//! inspected together with a packet travelling the same way, once the peer
//! has acknowledged it and either a whole chunk (2,560 bytes) is waiting or
//! the connection is closing; what is left is inspected when the flow ends.
//! Matching this timing is what makes alert counts agree: a chunk holding
//! three matching messages raises one alert, not three.

use rampart_stream::flow::{Direction, Flow};

use crate::pipeline::{FlowData, FlowDetectState};

/// Acknowledged bytes that make a direction's data worth inspecting before
/// the connection closes (Suricata's `stream.reassembly.*-chunk-size`).
pub const STREAM_CHUNK: usize = 2560;

/// Connection teardown as Suricata's TCP session tracks it: only the states
/// past `TimeWait` make pending data ready regardless of the chunk size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionState {
    /// Not closing.
    #[default]
    Open,
    /// The server sent a FIN first.
    FinWait1,
    /// The client acknowledged the server's FIN.
    FinWait2,
    /// Both FINs seen, the server's first.
    TimeWait,
    /// The client sent a FIN first.
    CloseWait,
    /// Both FINs seen, the client's first.
    LastAck,
    /// Both sides sent FIN at the same time.
    Closing,
    /// Closed (final ACK or a RST).
    Closed,
}

impl SessionState {
    /// The state after a packet travelling `dir` with these flags.
    pub fn next(self, dir: Direction, fin: bool, ack: bool, rst: bool) -> SessionState {
        use SessionState::*;
        let to_server = dir == Direction::ToServer;
        if rst {
            return Closed;
        }
        match self {
            Open if fin && to_server => CloseWait,
            Open if fin => FinWait1,
            FinWait1 if to_server && fin && ack => TimeWait,
            FinWait1 if to_server && fin => Closing,
            FinWait1 if to_server && ack => FinWait2,
            FinWait2 if to_server && fin => TimeWait,
            TimeWait if !to_server && ack => Closed,
            CloseWait if !to_server && fin => LastAck,
            LastAck if to_server && ack => Closed,
            Closing if ack => TimeWait,
            s => s,
        }
    }

    /// Whether pending data is inspected whatever its size.
    pub fn closing(self) -> bool {
        matches!(
            self,
            SessionState::CloseWait
                | SessionState::LastAck
                | SessionState::Closing
                | SessionState::Closed
        )
    }
}

/// Per-flow raw-stream bookkeeping.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawStreamState {
    /// Highest acknowledgement number received for each direction's data
    /// (index by [`Direction::index`]).
    pub acked: [Option<u32>; 2],
    /// Teardown progress.
    pub session: SessionState,
    /// The connection is inspected packet by packet (picked up midstream):
    /// its reassembled data is not queued for stream inspection.
    pub packet_mode: bool,
}

impl RawStreamState {
    /// Records that the peer of `data_dir` acknowledged up to `ack`.
    pub fn note_ack(&mut self, data_dir: Direction, ack: u32) {
        if let Some(slot) = self.acked.get_mut(data_dir.index()) {
            // Sequence space wraps: keep the later of the two.
            let newer = slot.is_none_or(|old| (ack.wrapping_sub(old) as i32) > 0);
            if newer {
                *slot = Some(ack);
            }
        }
    }
}

/// How many leading bytes of `dir`'s pending data are ready to inspect with
/// a packet travelling `dir` (0: none yet).
pub fn ready_stream_bytes(flow: &Flow<FlowData>, dir: Direction, state: &FlowDetectState) -> usize {
    let pending = state.pending.get(dir.index()).map_or(0, Vec::len);
    if pending == 0 {
        return 0;
    }
    let Some(streams) = flow.user.tcp.as_ref() else {
        return 0;
    };
    let stream = match dir {
        Direction::ToServer => &streams.to_server,
        Direction::ToClient => &streams.to_client,
    };
    let (Some(next), Some(Some(ack))) = (stream.next_seq(), state.raw.acked.get(dir.index()))
    else {
        return 0;
    };
    // Bytes delivered but not yet acknowledged sit at the end of the
    // pending data; an ACK beyond what was delivered (a FIN) leaves none.
    let unacked = usize::try_from(next.wrapping_sub(*ack) as i32).unwrap_or(0);
    let acked = pending.saturating_sub(unacked);
    if acked > 0 && (state.raw.session.closing() || acked >= STREAM_CHUNK) {
        acked
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_close_first_is_closing_at_once() {
        let s = SessionState::Open.next(Direction::ToServer, true, true, false);
        assert_eq!(s, SessionState::CloseWait);
        assert!(s.closing());
    }

    #[test]
    fn server_close_first_waits_for_the_final_ack() {
        let mut s = SessionState::Open.next(Direction::ToClient, true, true, false);
        assert_eq!(s, SessionState::FinWait1);
        s = s.next(Direction::ToServer, false, true, false);
        assert_eq!(s, SessionState::FinWait2);
        s = s.next(Direction::ToServer, true, true, false);
        assert_eq!(s, SessionState::TimeWait);
        assert!(!s.closing());
        s = s.next(Direction::ToClient, false, true, false);
        assert_eq!(s, SessionState::Closed);
        assert!(s.closing());
    }

    #[test]
    fn acks_only_move_forward_across_the_wrap() {
        let mut r = RawStreamState::default();
        r.note_ack(Direction::ToServer, u32::MAX - 10);
        r.note_ack(Direction::ToServer, 5);
        assert_eq!(r.acked[Direction::ToServer.index()], Some(5));
        r.note_ack(Direction::ToServer, u32::MAX - 20);
        assert_eq!(r.acked[Direction::ToServer.index()], Some(5));
    }
}
