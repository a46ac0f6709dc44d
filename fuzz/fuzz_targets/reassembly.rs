//! Fuzzes TCP reassembly of both directions of a connection under a small
//! memory budget and tight per-stream limits.
//!
//! Input (see README.md):
//! ```text
//! config: [policy|midstream][caps][retain|window|budget]
//!         [ISN to-server u32 LE][ISN to-client u32 LE]
//! ops:    [tag] ...            repeated until the input ends
//!   dir  = tag & 1             (0 to-server, 1 to-client)
//!   kind = (tag >> 1) & 3      0, 1: segment; 2: acknowledge; 3: flush
//!   segment:     [rel] [len u16 LE] [fill]
//!                rel is i16 LE, or i32 LE when tag & 0x40;
//!                seq = ISN[dir] + rel; SYN = tag & 0x08, FIN = tag & 0x10;
//!                data = Pattern { fill, rolling: tag & 0x20 } at its seq
//!   acknowledge: [rel i16 LE]  ack = ISN[dir] + rel
//! ```
//!
//! Checks, after every call: each direction's `Data` and `Gap` events are
//! contiguous from offset 0 and non-empty, nothing follows `End`, `End` is
//! at the delivered offset; `delivered_offset()` and the byte/gap counters
//! agree with what the sink saw; every delivered byte is a byte some segment
//! carried at that sequence number; the budget is never above its limit and
//! equals what the streams say they hold. At the end both directions are
//! flushed (leaving nothing buffered), memory is released, and the budget is
//! back to zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_fuzz::{Input, Pattern};
use rampart_stream::{
    MemoryBudget, OverlapPolicy, OwnedStreamEvent, ReassemblyConfig, StreamAnomaly, StreamEvent,
    TcpReassembler, TcpSegment, TcpStreamBuffer,
};

const BUDGETS: [usize; 8] = [1 << 20, 0, 100, 3000, 20_000, 65_536, 300, 1 << 30];

/// What one direction's consumer has seen so far.
#[derive(Default)]
struct Consumer {
    next: u64,
    ended: bool,
    data_bytes: u64,
    gap_bytes: u64,
    /// Segments pushed in this direction: (first data seq, len, pattern).
    sent: Vec<(u32, u32, Pattern)>,
}

impl Consumer {
    fn check(&mut self, events: &[OwnedStreamEvent], stream: &TcpStreamBuffer) {
        for ev in events {
            assert!(!self.ended, "event after End: {ev:?}");
            match ev {
                OwnedStreamEvent::Data { offset, data } => {
                    assert_eq!(*offset, self.next, "data not contiguous");
                    assert!(!data.is_empty(), "empty data event");
                    self.verify_content(*offset, data, stream);
                    self.next += data.len() as u64;
                    self.data_bytes += data.len() as u64;
                }
                OwnedStreamEvent::Gap { offset, len } => {
                    assert_eq!(*offset, self.next, "gap not contiguous");
                    assert!(*len > 0, "empty gap");
                    self.next += len;
                    self.gap_bytes += len;
                }
                OwnedStreamEvent::End { offset } => {
                    assert_eq!(*offset, self.next, "End not at the delivered offset");
                    assert_eq!(stream.fin_offset(), Some(*offset));
                    self.ended = true;
                }
            }
        }
        assert_eq!(stream.delivered_offset(), self.next);
        assert_eq!(stream.stats().bytes_delivered, self.data_bytes);
        assert_eq!(stream.stats().gap_bytes, self.gap_bytes);
        assert_eq!(stream.is_finished(), self.ended);
    }

    /// Every delivered byte must be what some segment carried at that
    /// sequence number.
    fn verify_content(&self, offset: u64, data: &[u8], stream: &TcpStreamBuffer) {
        let Some(base) = stream.base_seq() else {
            panic!("data delivered by an uninitialised stream");
        };
        if data.len().saturating_mul(self.sent.len()) > 400_000 {
            return;
        }
        for (i, &b) in data.iter().enumerate() {
            let seq = base.wrapping_add((offset + i as u64) as u32);
            let ok = self
                .sent
                .iter()
                .any(|&(s, len, p)| seq.wrapping_sub(s) < len && p.byte_at(u64::from(seq)) == b);
            assert!(
                ok,
                "byte at offset {} (seq {seq}) came from no segment",
                offset + i as u64
            );
        }
    }
}

fn check_budget(budget: &MemoryBudget, r: &TcpReassembler) {
    assert!(budget.used() <= budget.limit(), "budget over its limit");
    assert_eq!(
        budget.used(),
        r.memory_charged(),
        "budget and streams disagree"
    );
    assert!(budget.peak() <= budget.limit());
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let c0 = input.u8();
    let c1 = input.u8();
    let c2 = input.u8();
    let cfg = ReassemblyConfig {
        policy: OverlapPolicy::ALL[usize::from(c0 & 0x7f) % OverlapPolicy::ALL.len()],
        midstream: c0 & 0x80 == 0,
        max_buffered_bytes: [1 << 20, 64, 1000, 4096][usize::from(c1 & 3)],
        max_buffered_segments: [4096, 1, 4, 16][usize::from(c1 >> 2) & 3],
        max_gap_buffer: [256 * 1024, 0, 100, 2000][usize::from(c1 >> 4) & 3],
        max_gap_segments: [1024, 0, 2, 8][usize::from(c1 >> 6) & 3],
        retain_delivered_bytes: [16 * 1024, 0, 10, 1000][usize::from(c2 & 3)],
        max_window: [1 << 30, 65_535, 3000, u32::MAX][usize::from(c2 >> 2) & 3],
    };
    let mut budget = MemoryBudget::new(BUDGETS[usize::from(c2 >> 4) & 7]);
    let isn = [input.u32(), input.u32()];
    let mut r = TcpReassembler::new(cfg);
    let mut consumers = [Consumer::default(), Consumer::default()];
    let mut events: Vec<OwnedStreamEvent> = Vec::new();

    let mut ops = 0;
    while !input.is_empty() && ops < 2000 {
        ops += 1;
        let tag = input.u8();
        let dir = usize::from(tag & 1);
        let stream = if dir == 0 {
            &mut r.to_server
        } else {
            &mut r.to_client
        };
        let mut sink = |ev: StreamEvent<'_>| events.push(ev.into_owned());
        match (tag >> 1) & 3 {
            0 | 1 => {
                let rel = if tag & 0x40 != 0 {
                    input.u32()
                } else {
                    input.u16() as i16 as i32 as u32
                };
                let len = usize::from(input.u16() % 2001);
                let fill = input.u8();
                let syn = tag & 0x08 != 0;
                let fin = tag & 0x10 != 0;
                let seq = isn[dir].wrapping_add(rel);
                let data_seq = if syn { seq.wrapping_add(1) } else { seq };
                let pattern = Pattern {
                    fill,
                    rolling: tag & 0x20 != 0,
                };
                let bytes = pattern.generate(u64::from(data_seq), len);
                consumers[dir].sent.push((data_seq, len as u32, pattern));
                let seg = TcpSegment {
                    seq,
                    syn,
                    fin,
                    data: &bytes,
                };
                let report = stream.push(&mut budget, seg, &mut sink);
                if report.retransmission {
                    // Only repeated data: nothing of it can be new. (The
                    // same call may still deliver held data or skip a
                    // gap, so `delivered` is not necessarily 0.)
                    assert!(!report.anomalies.contains(&StreamAnomaly::Overlap));
                    assert!(!report
                        .anomalies
                        .contains(&StreamAnomaly::OverlapDifferentData));
                }
            }
            2 => {
                let ack = isn[dir].wrapping_add(input.u16() as i16 as i32 as u32);
                stream.acknowledge(&mut budget, ack, &mut sink);
            }
            _ => {
                stream.flush(&mut budget, &mut sink);
                assert_eq!(stream.buffered_bytes(), 0, "flush left data buffered");
            }
        }
        let stream: &TcpStreamBuffer = if dir == 0 { &r.to_server } else { &r.to_client };
        consumers[dir].check(&events, stream);
        events.clear();
        check_budget(&budget, &r);
    }

    for dir in 0..2 {
        let stream = if dir == 0 {
            &mut r.to_server
        } else {
            &mut r.to_client
        };
        stream.flush(&mut budget, |ev| events.push(ev.into_owned()));
        assert_eq!(stream.buffered_bytes(), 0, "flush left data buffered");
        assert_eq!(stream.buffered_segments(), 0);
        if stream.fin_offset().is_some() {
            assert!(
                stream.is_finished(),
                "flushed stream with a FIN did not end"
            );
        }
        let stream: &TcpStreamBuffer = if dir == 0 { &r.to_server } else { &r.to_client };
        consumers[dir].check(&events, stream);
        events.clear();
        check_budget(&budget, &r);
    }
    r.release_memory(&mut budget);
    assert_eq!(r.memory_charged(), 0);
    assert_eq!(budget.used(), 0, "budget not back to zero after release");
});
