//! TCP stream reassembly: turning segments into an in-order byte stream.
//!
//! Detection and the app-layer parsers want what the receiving application
//! reads, not packets. A [`TcpStreamBuffer`] reassembles **one direction**
//! of a connection (the flow table owns two, or one [`TcpReassembler`]):
//! segments arrive in any order, duplicated, overlapping; bytes come out in
//! order, exactly once, through a caller-supplied sink, each chunk tagged
//! with its offset from the start of the stream.
//!
//! # Delivery model
//! - **Offsets.** Stream offset 0 is the byte after the SYN (ISN + 1), or,
//!   for a connection picked up midstream, the first byte of the first
//!   segment seen. Offsets are `u64` and never wrap; sequence numbers are
//!   mapped to offsets relative to the next expected byte with wrapping
//!   arithmetic ([`crate::seq`]), so streams longer than 4 GiB work.
//! - **In order, immediately.** A segment that starts at the next expected
//!   byte is delivered at once, straight from the caller's slice when
//!   nothing is queued (no copy on the fast path), followed by any queued
//!   data it made contiguous.
//! - **Out of order, held.** Later segments are held (bounded) until the
//!   hole before them fills.
//! - **Overlaps.** Among still-held bytes, the configured
//!   [`OverlapPolicy`] decides which copy is kept (see
//!   [`OverlapPolicy::segment_new_wins`]). Bytes already delivered can never
//!   change: a segment overlapping them is compared with a bounded window of
//!   recently delivered bytes and reported as a retransmission (same data)
//!   or an overlap with different data (Suricata's
//!   `stream.reassembly_overlap_different_data`), but the delivered bytes
//!   stand. This is the one place where no policy can be honoured, and is
//!   why the consumer sees what the IDS saw first.
//! - **Gaps.** A hole is skipped, reported as [`StreamEvent::Gap`], when
//!   more than `max_gap_buffer` bytes (or `max_gap_segments` runs) are
//!   queued behind it, when the receiver acknowledges data past it
//!   ([`TcpStreamBuffer::acknowledge`]: the data existed but was not
//!   captured), or when the stream is flushed ([`TcpStreamBuffer::flush`]).
//! - **FIN.** Data up to the FIN's sequence number is delivered, then
//!   [`StreamEvent::End`]; data beyond the FIN is discarded and counted.
//!   RST and timeouts are the flow table's business: it calls `flush`.
//!
//! # Memory
//! Held data is bounded per stream (`max_buffered_bytes`,
//! `max_buffered_segments`) and globally by a [`MemoryBudget`] passed as
//! `&mut` into every call. When either is exhausted the **newest**
//! out-of-order segment is dropped (counted in
//! [`ReassemblyStats::memcap_drops`]); data already held is kept, because it
//! is older and more likely to be needed to close the next hole, and a
//! dropped segment will normally be retransmitted by the sender. The window
//! of recently delivered bytes kept for comparison also draws from the
//! budget and simply shrinks when the budget is tight. Before dropping a
//! stream, return its memory with [`TcpStreamBuffer::release_memory`].

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use crate::budget::MemoryBudget;
use crate::pieces::PieceMap;
use crate::policy::Extent;
pub use crate::policy::OverlapPolicy;
use crate::seq::seq_diff;

/// Limits and behaviour of a [`TcpStreamBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReassemblyConfig {
    /// How overlapping segments are resolved among held bytes.
    pub policy: OverlapPolicy,
    /// Start reassembling a connection whose SYN was not seen, from its
    /// first data segment. Default true: an IDS started on a busy link
    /// should still inspect existing connections.
    pub midstream: bool,
    /// Hard cap on bytes held out of order in this stream. Default 1 MiB.
    pub max_buffered_bytes: usize,
    /// Hard cap on separate runs held in this stream (bounds bookkeeping
    /// for floods of tiny segments). Default 4096.
    pub max_buffered_segments: usize,
    /// Skip the leading hole once more than this many bytes are held
    /// behind it. Default 256 KiB, four full 64 KiB windows.
    pub max_gap_buffer: usize,
    /// Skip the leading hole once more than this many runs are held behind
    /// it. Default 1024.
    pub max_gap_segments: usize,
    /// How many recently delivered bytes are kept to check retransmissions
    /// against. 0 disables the check (overlaps with delivered data are then
    /// all counted as retransmissions). Default 16 KiB.
    pub retain_delivered_bytes: usize,
    /// Segments more than this far (in sequence space) from the next
    /// expected byte are ignored as out of window. Default 2^30, the largest
    /// window scaling allows.
    pub max_window: u32,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            policy: OverlapPolicy::Bsd,
            midstream: true,
            max_buffered_bytes: 1024 * 1024,
            max_buffered_segments: 4096,
            max_gap_buffer: 256 * 1024,
            max_gap_segments: 1024,
            retain_delivered_bytes: 16 * 1024,
            max_window: 1 << 30,
        }
    }
}

/// One TCP segment as decoded from the wire, for one direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpSegment<'a> {
    /// The sequence number field.
    pub seq: u32,
    /// SYN flag: `seq` is the ISN and data (if any) starts at `seq + 1`.
    pub syn: bool,
    /// FIN flag: the stream ends after this segment's data.
    pub fin: bool,
    /// The payload.
    pub data: &'a [u8],
}

/// What a stream hands to its consumer, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// In-order bytes starting at `offset`.
    Data {
        /// Stream offset of `data[0]`.
        offset: u64,
        /// The bytes; borrowed from the segment or from the buffer, valid
        /// for the duration of the callback.
        data: &'a [u8],
    },
    /// `len` bytes at `offset` that were never seen and never will be; the
    /// next `Data` starts at `offset + len`. Parsers should resynchronise.
    Gap {
        /// First missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
    },
    /// Everything up to the FIN has been delivered.
    End {
        /// Stream offset of the FIN (the stream's length).
        offset: u64,
    },
}

impl StreamEvent<'_> {
    /// An owned copy, for consumers that queue events.
    pub fn into_owned(self) -> OwnedStreamEvent {
        match self {
            StreamEvent::Data { offset, data } => OwnedStreamEvent::Data {
                offset,
                data: data.to_vec(),
            },
            StreamEvent::Gap { offset, len } => OwnedStreamEvent::Gap { offset, len },
            StreamEvent::End { offset } => OwnedStreamEvent::End { offset },
        }
    }
}

/// [`StreamEvent`] with its data owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedStreamEvent {
    /// See [`StreamEvent::Data`].
    Data {
        /// Stream offset of `data[0]`.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// See [`StreamEvent::Gap`].
    Gap {
        /// First missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
    },
    /// See [`StreamEvent::End`].
    End {
        /// Stream offset of the FIN.
        offset: u64,
    },
}

/// Something odd about a segment (or a call), reported on the call that saw
/// it so the engine can raise a per-packet event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamAnomaly {
    /// The segment overlapped data already seen (and was not a plain
    /// retransmission of it).
    Overlap,
    /// Some overlapped byte differed from what was seen before
    /// (`stream.reassembly_overlap_different_data`).
    OverlapDifferentData,
    /// A hole was skipped during this call (`stream.reassembly_seq_gap`).
    Gap,
    /// The segment was dropped because a per-stream cap or the global
    /// budget was reached.
    MemcapDrop,
    /// The segment carried data beyond the FIN; that data was discarded.
    DataAfterFin,
    /// The segment was too far from the next expected byte; ignored.
    OutOfWindow,
    /// Data arrived before the stream was initialised (no SYN and midstream
    /// pick-up disabled); ignored.
    NotInitialised,
    /// The segment lies entirely before the stream's first byte (seen when
    /// picking up midstream); ignored.
    BeforeStreamStart,
}

/// What one call produced besides the events sent to the sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentReport {
    /// Bytes delivered to the sink during this call.
    pub delivered: u64,
    /// The segment only repeated data already seen, identically.
    pub retransmission: bool,
    /// Anomalies (empty, and not allocated, in the common case).
    pub anomalies: Vec<StreamAnomaly>,
}

/// Counters for one stream; add them up with `+=` for totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReassemblyStats {
    /// Segments carrying data.
    pub segments: u64,
    /// Bytes delivered in order to the consumer.
    pub bytes_delivered: u64,
    /// Segments that only repeated data already seen, identically.
    pub retransmissions: u64,
    /// Segments overlapping data already seen, other than plain
    /// retransmissions.
    pub overlaps: u64,
    /// Segments whose overlapped bytes differed from what was seen before.
    pub overlaps_different_data: u64,
    /// Holes skipped.
    pub gaps: u64,
    /// Bytes in skipped holes.
    pub gap_bytes: u64,
    /// Out-of-order segments that were queued.
    pub out_of_order_queued: u64,
    /// Out-of-order segments dropped by a cap or the budget.
    pub memcap_drops: u64,
    /// Bytes those dropped segments would have added.
    pub memcap_drop_bytes: u64,
    /// Segments carrying data beyond the FIN.
    pub data_after_fin: u64,
    /// Segments ignored as out of window.
    pub out_of_window: u64,
    /// Data segments ignored because the stream was not initialised.
    pub not_initialised: u64,
    /// Data segments ignored because they lie before the stream start.
    pub before_stream_start: u64,
}

impl std::ops::AddAssign for ReassemblyStats {
    fn add_assign(&mut self, o: Self) {
        self.segments += o.segments;
        self.bytes_delivered += o.bytes_delivered;
        self.retransmissions += o.retransmissions;
        self.overlaps += o.overlaps;
        self.overlaps_different_data += o.overlaps_different_data;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.out_of_order_queued += o.out_of_order_queued;
        self.memcap_drops += o.memcap_drops;
        self.memcap_drop_bytes += o.memcap_drop_bytes;
        self.data_after_fin += o.data_after_fin;
        self.out_of_window += o.out_of_window;
        self.not_initialised += o.not_initialised;
        self.before_stream_start += o.before_stream_start;
    }
}

/// One direction of a TCP connection, reassembled.
///
/// Feed it every segment travelling in its direction with
/// [`push`](TcpStreamBuffer::push); in-order data comes out through the
/// sink closure. See the [module documentation](self) for the delivery and
/// memory model.
#[derive(Debug, Clone)]
pub struct TcpStreamBuffer {
    config: ReassemblyConfig,
    /// Sequence number of stream offset 0, once initialised.
    base_seq: Option<u32>,
    midstream: bool,
    /// Offset of the next byte to deliver.
    delivered: u64,
    pieces: PieceMap,
    fin: Option<u64>,
    end_reported: bool,
    /// The last delivered bytes, ending at `delivered`.
    retained: VecDeque<u8>,
    charged_pieces: usize,
    charged_retained: usize,
    stats: ReassemblyStats,
}

fn as_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl TcpStreamBuffer {
    /// An uninitialised stream; it initialises itself from the SYN, or from
    /// the first data segment when `midstream` is enabled.
    pub fn new(config: ReassemblyConfig) -> TcpStreamBuffer {
        TcpStreamBuffer {
            config,
            base_seq: None,
            midstream: false,
            delivered: 0,
            pieces: PieceMap::default(),
            fin: None,
            end_reported: false,
            retained: VecDeque::new(),
            charged_pieces: 0,
            charged_retained: 0,
            stats: ReassemblyStats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// Whether the stream knows its starting sequence number.
    pub fn is_initialised(&self) -> bool {
        self.base_seq.is_some()
    }

    /// Whether the stream was picked up midstream (no SYN seen first).
    pub fn picked_up_midstream(&self) -> bool {
        self.midstream
    }

    /// Sequence number of stream offset 0.
    pub fn base_seq(&self) -> Option<u32> {
        self.base_seq
    }

    /// Sequence number of the next byte to deliver.
    pub fn next_seq(&self) -> Option<u32> {
        // Truncation is the point: sequence space is offsets modulo 2^32.
        self.base_seq.map(|b| b.wrapping_add(self.delivered as u32))
    }

    /// Stream offset of the next byte to deliver (= bytes delivered plus
    /// bytes skipped in gaps).
    pub fn delivered_offset(&self) -> u64 {
        self.delivered
    }

    /// Stream offset of the FIN, once seen.
    pub fn fin_offset(&self) -> Option<u64> {
        self.fin
    }

    /// Everything up to the FIN has been delivered ([`StreamEvent::End`]
    /// was emitted).
    pub fn is_finished(&self) -> bool {
        self.end_reported
    }

    /// Bytes held out of order.
    pub fn buffered_bytes(&self) -> u64 {
        self.pieces.bytes()
    }

    /// Separate runs held out of order.
    pub fn buffered_segments(&self) -> usize {
        self.pieces.len()
    }

    /// Bytes this stream has reserved from the budget.
    pub fn memory_charged(&self) -> usize {
        self.charged_pieces + self.charged_retained
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Drops all held data and returns its memory to `budget`. Call this
    /// before dropping the stream (the budget cannot be reached from
    /// `Drop`). The stream stays usable.
    pub fn release_memory(&mut self, budget: &mut MemoryBudget) {
        self.pieces.clear();
        self.retained.clear();
        budget.release(self.charged_pieces + self.charged_retained);
        self.charged_pieces = 0;
        self.charged_retained = 0;
    }

    /// Feeds one segment. In-order data (and any queued data it makes
    /// contiguous, and any gap skipped) is passed to `sink` before this
    /// returns.
    pub fn push<F>(
        &mut self,
        budget: &mut MemoryBudget,
        seg: TcpSegment<'_>,
        mut sink: F,
    ) -> SegmentReport
    where
        F: FnMut(StreamEvent<'_>),
    {
        let mut report = SegmentReport::default();
        let has_data = !seg.data.is_empty();
        if has_data {
            self.stats.segments += 1;
        }
        let data_seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        if self.base_seq.is_none() {
            if seg.syn {
                self.base_seq = Some(data_seq);
            } else if self.config.midstream && (has_data || seg.fin) {
                self.base_seq = Some(seg.seq);
                self.midstream = true;
            } else {
                if has_data {
                    self.stats.not_initialised += 1;
                    report.anomalies.push(StreamAnomaly::NotInitialised);
                }
                return report;
            }
        }
        let Some(next) = self.next_seq() else {
            return report;
        };
        let diff = i128::from(seq_diff(data_seq, next));
        if diff.unsigned_abs() > u128::from(self.config.max_window) {
            self.stats.out_of_window += 1;
            report.anomalies.push(StreamAnomaly::OutOfWindow);
            return report;
        }
        let start = i128::from(self.delivered) + diff;
        let end = start + seg.data.len() as i128;

        // A FIN lying before the next expected byte is an old duplicate
        // whose end was already passed; a stack ignores it, and so do we.
        if seg.fin && self.fin.is_none() && end >= i128::from(self.delivered) {
            let f = end as u64;
            self.fin = Some(f);
            // Held data beyond the FIN will never be read by the receiver.
            if self.pieces.max_end().is_some_and(|m| m > f) {
                self.pieces.truncate_from(f);
                self.stats.data_after_fin += 1;
                report.anomalies.push(StreamAnomaly::DataAfterFin);
                self.settle_pieces(budget, &mut report);
            }
        }
        if !has_data {
            self.check_end(&mut sink);
            return report;
        }
        if end <= 0 {
            self.stats.before_stream_start += 1;
            report.anomalies.push(StreamAnomaly::BeforeStreamStart);
            return report;
        }

        // Clamp to the stream start, then cut at the FIN.
        let skip = if start < 0 { (-start) as usize } else { 0 };
        let mut s = start.max(0) as u64;
        let mut e = end as u64;
        let mut data = seg.data.get(skip..).unwrap_or(&[]);
        if let Some(f) = self.fin {
            if e > f {
                self.stats.data_after_fin += 1;
                report.anomalies.push(StreamAnomaly::DataAfterFin);
                e = f.max(s);
                data = data.get(..as_usize(e - s)).unwrap_or(&[]);
            }
        }
        if s >= e {
            self.check_end(&mut sink);
            return report;
        }
        let owner = Extent::new(s, e);
        let total = e - s;
        let mut overlap = 0u64;
        let mut different = false;

        // The part already delivered: compare, never change.
        if s < self.delivered {
            let old_end = e.min(self.delivered);
            let n = as_usize(old_end - s);
            let (old, rest) = data.split_at(n.min(data.len()));
            different |= self.differs_from_delivered(s, old);
            overlap += old_end - s;
            data = rest;
            s = old_end;
        }

        if s < e {
            let policy = self.config.policy;
            if s == self.delivered {
                if self.pieces.first().is_none_or(|(fs, _)| fs >= e) {
                    // Fast path: nothing held overlaps; deliver from the
                    // caller's buffer.
                    self.deliver(budget, &mut sink, &mut report, data);
                } else {
                    let out = self
                        .pieces
                        .insert(s, data, owner, |n, o| policy.segment_new_wins(n, o));
                    overlap += out.overlap_bytes;
                    different |= out.different;
                }
                self.drain(budget, &mut sink, &mut report);
                self.settle_pieces(budget, &mut report);
            } else {
                let added = self.pieces.uncovered(s, e);
                let runs_after = self
                    .pieces
                    .len()
                    .saturating_add(self.pieces.overlapping_count(s, e))
                    .saturating_add(3);
                let fits = runs_after <= self.config.max_buffered_segments
                    && self.pieces.bytes().saturating_add(added)
                        <= self.config.max_buffered_bytes as u64;
                if fits && budget.try_reserve(as_usize(added)) {
                    self.charged_pieces += as_usize(added);
                    let out = self
                        .pieces
                        .insert(s, data, owner, |n, o| policy.segment_new_wins(n, o));
                    overlap += out.overlap_bytes;
                    different |= out.different;
                    if out.added_bytes > 0 {
                        self.stats.out_of_order_queued += 1;
                    }
                    self.skip_gaps_if_needed(budget, &mut sink, &mut report);
                } else {
                    self.stats.memcap_drops += 1;
                    self.stats.memcap_drop_bytes += added;
                    report.anomalies.push(StreamAnomaly::MemcapDrop);
                }
            }
        }

        if overlap > 0 {
            if overlap == total && !different {
                self.stats.retransmissions += 1;
                report.retransmission = true;
            } else {
                self.stats.overlaps += 1;
                report.anomalies.push(StreamAnomaly::Overlap);
                if different {
                    self.stats.overlaps_different_data += 1;
                    report.anomalies.push(StreamAnomaly::OverlapDifferentData);
                }
            }
        }
        self.check_end(&mut sink);
        report
    }

    /// Tells the stream that the receiver acknowledged everything before
    /// `ack` (the ACK field of a segment in the *other* direction). Held
    /// data up to there is delivered and any hole before it is skipped as a
    /// gap: the receiver has those bytes, so they were sent but not
    /// captured, and waiting for them is pointless.
    ///
    /// Only call this with ACKs that passed the flow table's sanity checks:
    /// a forged ACK makes the stream skip data it could still have seen.
    pub fn acknowledge<F>(
        &mut self,
        budget: &mut MemoryBudget,
        ack: u32,
        mut sink: F,
    ) -> SegmentReport
    where
        F: FnMut(StreamEvent<'_>),
    {
        let mut report = SegmentReport::default();
        let Some(next) = self.next_seq() else {
            return report;
        };
        let diff = seq_diff(ack, next);
        if diff <= 0 || diff.unsigned_abs() > self.config.max_window {
            return report;
        }
        let mut target = self.delivered + u64::from(diff.unsigned_abs());
        if let Some(f) = self.fin {
            // The FIN itself occupies one sequence number.
            target = target.min(f);
        }
        while self.delivered < target {
            match self.pieces.first() {
                Some((fs, _)) if fs == self.delivered => {}
                Some((fs, _)) => self.gap(
                    fs.min(target) - self.delivered,
                    budget,
                    &mut sink,
                    &mut report,
                ),
                None => self.gap(target - self.delivered, budget, &mut sink, &mut report),
            }
            self.drain(budget, &mut sink, &mut report);
        }
        self.settle_pieces(budget, &mut report);
        self.check_end(&mut sink);
        report
    }

    /// Delivers everything held, skipping holes as gaps, and a final gap up
    /// to the FIN if one was seen. For the end of a stream (FIN, RST,
    /// timeout, eviction); the stream stays usable afterwards.
    pub fn flush<F>(&mut self, budget: &mut MemoryBudget, mut sink: F) -> SegmentReport
    where
        F: FnMut(StreamEvent<'_>),
    {
        let mut report = SegmentReport::default();
        while let Some((fs, _)) = self.pieces.first() {
            if fs > self.delivered {
                self.gap(fs - self.delivered, budget, &mut sink, &mut report);
            }
            self.drain(budget, &mut sink, &mut report);
        }
        if let Some(f) = self.fin {
            if self.delivered < f {
                self.gap(f - self.delivered, budget, &mut sink, &mut report);
            }
        }
        self.settle_pieces(budget, &mut report);
        self.check_end(&mut sink);
        report
    }

    /// Hands `data` (which starts at `self.delivered`) to the sink.
    fn deliver<F>(
        &mut self,
        budget: &mut MemoryBudget,
        sink: &mut F,
        report: &mut SegmentReport,
        data: &[u8],
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        if data.is_empty() {
            return;
        }
        sink(StreamEvent::Data {
            offset: self.delivered,
            data,
        });
        let n = data.len() as u64;
        self.delivered += n;
        self.stats.bytes_delivered += n;
        report.delivered += n;
        self.retain(budget, data);
    }

    /// Delivers held runs that start exactly at the next expected byte.
    fn drain<F>(&mut self, budget: &mut MemoryBudget, sink: &mut F, report: &mut SegmentReport)
    where
        F: FnMut(StreamEvent<'_>),
    {
        while self
            .pieces
            .first()
            .is_some_and(|(fs, _)| fs == self.delivered)
        {
            let Some((_, data)) = self.pieces.pop_first() else {
                break;
            };
            self.deliver(budget, sink, report, &data);
        }
    }

    /// Skips `len` missing bytes.
    fn gap<F>(
        &mut self,
        len: u64,
        budget: &mut MemoryBudget,
        sink: &mut F,
        report: &mut SegmentReport,
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        if len == 0 {
            return;
        }
        sink(StreamEvent::Gap {
            offset: self.delivered,
            len,
        });
        self.delivered += len;
        self.stats.gaps += 1;
        self.stats.gap_bytes += len;
        report.anomalies.push(StreamAnomaly::Gap);
        // The retained window must end at `delivered`; it no longer does.
        self.retained.clear();
        budget.release(self.charged_retained);
        self.charged_retained = 0;
    }

    fn skip_gaps_if_needed<F>(
        &mut self,
        budget: &mut MemoryBudget,
        sink: &mut F,
        report: &mut SegmentReport,
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        while self.pieces.bytes() > self.config.max_gap_buffer as u64
            || self.pieces.len() > self.config.max_gap_segments
        {
            let Some((fs, _)) = self.pieces.first() else {
                break;
            };
            if fs > self.delivered {
                self.gap(fs - self.delivered, budget, sink, report);
            }
            self.drain(budget, sink, report);
        }
        self.settle_pieces(budget, report);
    }

    /// Brings the budget charge for held runs in line with what is held.
    fn settle_pieces(&mut self, budget: &mut MemoryBudget, report: &mut SegmentReport) {
        let held = as_usize(self.pieces.bytes());
        if held < self.charged_pieces {
            budget.release(self.charged_pieces - held);
            self.charged_pieces = held;
        } else if held > self.charged_pieces {
            // Not expected: an in-order insert is drained at once and never
            // leaves more held than before. Keep the bound anyway.
            if budget.try_reserve(held - self.charged_pieces) {
                self.charged_pieces = held;
                return;
            }
            let mut dropped = 0u64;
            while as_usize(self.pieces.bytes()) > self.charged_pieces {
                match self.pieces.pop_last() {
                    Some((_, d)) => dropped += d.len() as u64,
                    None => break,
                }
            }
            self.stats.memcap_drops += 1;
            self.stats.memcap_drop_bytes += dropped;
            report.anomalies.push(StreamAnomaly::MemcapDrop);
            let held = as_usize(self.pieces.bytes());
            budget.release(self.charged_pieces - held);
            self.charged_pieces = held;
        }
    }

    /// Appends freshly delivered bytes to the comparison window.
    fn retain(&mut self, budget: &mut MemoryBudget, data: &[u8]) {
        let cap = self.config.retain_delivered_bytes;
        if cap == 0 {
            return;
        }
        let mut take = data.len().min(cap);
        let overflow = (self.retained.len() + take).saturating_sub(cap);
        if overflow > 0 {
            self.retained.drain(..overflow);
            budget.release(overflow);
            self.charged_retained -= overflow;
        }
        if !budget.try_reserve(take) {
            // Tight budget: keep only the newest bytes that fit.
            self.retained.clear();
            budget.release(self.charged_retained);
            self.charged_retained = 0;
            take = take.min(budget.available());
            if take == 0 || !budget.try_reserve(take) {
                return;
            }
        }
        let tail = data.get(data.len() - take..).unwrap_or(&[]);
        self.retained.extend(tail);
        self.charged_retained += take;
    }

    /// Whether `data` at stream offset `start` (entirely before
    /// `delivered`) differs from what was delivered, as far as the retained
    /// window can tell.
    fn differs_from_delivered(&self, start: u64, data: &[u8]) -> bool {
        let window_start = self.delivered - self.retained.len() as u64;
        data.iter().enumerate().any(|(i, b)| {
            let off = start + i as u64;
            off >= window_start
                && self
                    .retained
                    .get(as_usize(off - window_start))
                    .is_some_and(|r| r != b)
        })
    }

    fn check_end<F>(&mut self, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if let Some(f) = self.fin {
            if !self.end_reported && self.delivered >= f {
                self.end_reported = true;
                sink(StreamEvent::End { offset: f });
            }
        }
    }
}

/// Both directions of one TCP connection.
///
/// A convenience for the flow table: the two directions are independent
/// streams, but they are created, released and counted together.
#[derive(Debug, Clone)]
pub struct TcpReassembler {
    /// Client to server.
    pub to_server: TcpStreamBuffer,
    /// Server to client.
    pub to_client: TcpStreamBuffer,
}

impl TcpReassembler {
    /// Two uninitialised streams with the same configuration.
    pub fn new(config: ReassemblyConfig) -> TcpReassembler {
        TcpReassembler {
            to_server: TcpStreamBuffer::new(config),
            to_client: TcpStreamBuffer::new(config),
        }
    }

    /// Returns both streams' memory to `budget`; call before dropping.
    pub fn release_memory(&mut self, budget: &mut MemoryBudget) {
        self.to_server.release_memory(budget);
        self.to_client.release_memory(budget);
    }

    /// Bytes both streams have reserved from the budget.
    pub fn memory_charged(&self) -> usize {
        self.to_server.memory_charged() + self.to_client.memory_charged()
    }

    /// Both streams' counters added up.
    pub fn stats(&self) -> ReassemblyStats {
        let mut s = *self.to_server.stats();
        s += *self.to_client.stats();
        s
    }
}

#[cfg(test)]
mod tests;
