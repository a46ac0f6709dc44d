//! An ordered map of non-overlapping byte runs that remembers, for every
//! run, the extent of the fragment or segment it came from.
//!
//! Both defragmentation and TCP reassembly need the same thing: hold bytes
//! that arrived out of order, resolve overlaps by a target-based policy, and
//! find out what is contiguous. This is that shared core, in the spirit of
//! smoltcp's `Assembler` but carrying the data and the owner extents the
//! policies need. Runs never overlap, so every byte has exactly one current
//! holder; an insert splits or trims the runs it overlaps.
//!
//! Invariants (kept by every method): runs are non-empty, ordered by start,
//! pairwise disjoint, `run.end - start == run.data.len()`, and `bytes` is the
//! sum of all run lengths.

use std::collections::BTreeMap;

use crate::policy::Extent;

/// One run of bytes with a single holder.
#[derive(Debug, Clone)]
struct Run {
    end: u64,
    owner: Extent,
    data: Vec<u8>,
}

/// What an insert found and changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InsertOutcome {
    /// Bytes of the new range that were already held.
    pub overlap_bytes: u64,
    /// Some already-held byte differed from the new data.
    pub different: bool,
    /// Bytes newly held (the new range minus the overlap).
    pub added_bytes: u64,
}

/// The map itself.
#[derive(Debug, Default, Clone)]
pub(crate) struct PieceMap {
    runs: BTreeMap<u64, Run>,
    bytes: u64,
}

/// `data[from..to]` with offsets relative to the start of `data`; empty if
/// out of range, which the invariants rule out.
fn sub(data: &[u8], from: u64, to: u64) -> &[u8] {
    let r = usize::try_from(from)
        .ok()
        .zip(usize::try_from(to).ok())
        .and_then(|(f, t)| data.get(f..t));
    debug_assert!(r.is_some(), "piece slice out of range");
    r.unwrap_or(&[])
}

impl PieceMap {
    /// Number of runs held.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.runs.clear();
        self.bytes = 0;
    }

    /// Start and end of the lowest run.
    pub fn first(&self) -> Option<(u64, u64)> {
        self.runs.first_key_value().map(|(&s, r)| (s, r.end))
    }

    /// End of the highest run.
    pub fn max_end(&self) -> Option<u64> {
        self.runs.last_key_value().map(|(_, r)| r.end)
    }

    /// Removes and returns the lowest run.
    pub fn pop_first(&mut self) -> Option<(u64, Vec<u8>)> {
        let (s, r) = self.runs.pop_first()?;
        self.bytes = self.bytes.saturating_sub(r.data.len() as u64);
        Some((s, r.data))
    }

    /// Removes and returns the highest run.
    pub fn pop_last(&mut self) -> Option<(u64, Vec<u8>)> {
        let (s, r) = self.runs.pop_last()?;
        self.bytes = self.bytes.saturating_sub(r.data.len() as u64);
        Some((s, r.data))
    }

    /// Keys of the runs overlapping `[start, end)`, in order.
    fn overlapping_keys(&self, start: u64, end: u64) -> Vec<u64> {
        let mut keys = Vec::new();
        if let Some((&k, r)) = self.runs.range(..start).next_back() {
            if r.end > start {
                keys.push(k);
            }
        }
        keys.extend(self.runs.range(start..end).map(|(&k, _)| k));
        keys
    }

    /// How many runs overlap `[start, end)`.
    pub fn overlapping_count(&self, start: u64, end: u64) -> usize {
        let before = self
            .runs
            .range(..start)
            .next_back()
            .is_some_and(|(_, r)| r.end > start);
        usize::from(before) + self.runs.range(start..end).count()
    }

    /// Bytes of `[start, end)` not held by any run.
    pub fn uncovered(&self, start: u64, end: u64) -> u64 {
        if end <= start {
            return 0;
        }
        let mut covered = 0u64;
        if let Some((&k, r)) = self.runs.range(..start).next_back() {
            if r.end > start {
                covered += r.end.min(end) - start.max(k);
            }
        }
        for (&k, r) in self.runs.range(start..end) {
            covered += r.end.min(end) - k;
        }
        (end - start).saturating_sub(covered)
    }

    /// Where the contiguous data starting at `from` ends (`from` itself if
    /// no run starts there).
    pub fn contiguous_end(&self, from: u64) -> u64 {
        let mut cursor = from;
        for (&k, r) in self.runs.range(from..) {
            if k != cursor {
                break;
            }
            cursor = r.end;
        }
        cursor
    }

    /// Appends the bytes of `[start, end)` to `out`, which must be fully
    /// held (checked by the caller with [`PieceMap::contiguous_end`]).
    pub fn copy_range(&self, start: u64, end: u64, out: &mut Vec<u8>) {
        for (&k, r) in self.runs.range(start..end) {
            let to = r.end.min(end);
            out.extend_from_slice(sub(&r.data, 0, to - k));
        }
    }

    /// Drops every byte at or after `at`; returns how many bytes went.
    pub fn truncate_from(&mut self, at: u64) -> u64 {
        let before = self.bytes;
        let tail: Vec<u64> = self.runs.range(at..).map(|(&k, _)| k).collect();
        for k in tail {
            if let Some(r) = self.runs.remove(&k) {
                self.bytes = self.bytes.saturating_sub(r.data.len() as u64);
            }
        }
        if let Some((&k, r)) = self.runs.range_mut(..at).next_back() {
            if r.end > at {
                let keep = usize::try_from(at - k).unwrap_or(usize::MAX);
                let cut = r.data.len().saturating_sub(keep);
                r.data.truncate(keep);
                r.end = at;
                self.bytes = self.bytes.saturating_sub(cut as u64);
            }
        }
        before - self.bytes
    }

    /// Inserts `data` at `start`, held by a piece whose original extent is
    /// `owner`. Where it overlaps held bytes, `new_wins(owner, old_owner)`
    /// decides per overlapped run whose bytes stay.
    pub fn insert<F>(
        &mut self,
        start: u64,
        data: &[u8],
        owner: Extent,
        new_wins: F,
    ) -> InsertOutcome
    where
        F: Fn(Extent, Extent) -> bool,
    {
        let mut out = InsertOutcome::default();
        let len = data.len() as u64;
        let Some(end) = start.checked_add(len) else {
            return out;
        };
        if len == 0 {
            return out;
        }

        // Runs to put (back) into the map once the overlapped ones are
        // removed; collected first so that the map is never read while a
        // half-updated state is visible.
        let mut puts: Vec<(u64, Run)> = Vec::new();
        // The current run of bytes taken from the new data, as [a, b).
        let mut new_run: Option<(u64, u64)> = None;
        let flush_new = |run: &mut Option<(u64, u64)>, puts: &mut Vec<(u64, Run)>| {
            if let Some((a, b)) = run.take() {
                puts.push((
                    a,
                    Run {
                        end: b,
                        owner,
                        data: sub(data, a - start, b - start).to_vec(),
                    },
                ));
            }
        };
        let extend_new =
            |run: &mut Option<(u64, u64)>, puts: &mut Vec<(u64, Run)>, a: u64, b: u64| match run {
                Some((_, e)) if *e == a => *e = b,
                _ => {
                    flush_new(run, puts);
                    *run = Some((a, b));
                }
            };

        let mut cursor = start;
        for k in self.overlapping_keys(start, end) {
            let Some(old) = self.runs.remove(&k) else {
                continue;
            };
            self.bytes = self.bytes.saturating_sub(old.data.len() as u64);
            let (os, oe) = (k, old.end);
            if os > cursor {
                extend_new(&mut new_run, &mut puts, cursor, os);
            }
            let lo = os.max(start);
            let hi = oe.min(end);
            let old_part = sub(&old.data, lo - os, hi - os);
            let new_part = sub(data, lo - start, hi - start);
            out.overlap_bytes += hi - lo;
            if old_part != new_part {
                out.different = true;
            }
            let wins = new_wins(owner, old.owner);
            if !wins {
                // The old run keeps every byte it held: move it back whole.
                // (Splitting it at the new piece's edges would change
                // nothing but the run count, which the reassembly limits
                // count: a partial retransmission inside a held run must
                // not fragment it.)
                flush_new(&mut new_run, &mut puts);
                puts.push((os, old));
            } else {
                if os < start {
                    puts.push((
                        os,
                        Run {
                            end: start,
                            owner: old.owner,
                            data: sub(&old.data, 0, start - os).to_vec(),
                        },
                    ));
                }
                extend_new(&mut new_run, &mut puts, lo, hi);
                if oe > end {
                    puts.push((
                        end,
                        Run {
                            end: oe,
                            owner: old.owner,
                            data: sub(&old.data, end - os, oe - os).to_vec(),
                        },
                    ));
                }
            }
            cursor = hi;
        }
        if cursor < end {
            extend_new(&mut new_run, &mut puts, cursor, end);
        }
        flush_new(&mut new_run, &mut puts);

        for (k, r) in puts {
            self.bytes += r.data.len() as u64;
            self.runs.insert(k, r);
        }
        out.added_bytes = len - out.overlap_bytes;
        out
    }

    /// Checks the invariants; for tests.
    #[cfg(test)]
    pub fn check_invariants(&self) {
        let mut prev_end = 0u64;
        let mut total = 0u64;
        for (i, (&k, r)) in self.runs.iter().enumerate() {
            assert!(r.end > k, "empty run at {k}");
            assert_eq!(r.end - k, r.data.len() as u64, "run length at {k}");
            if i > 0 {
                assert!(k >= prev_end, "overlapping runs at {k}");
            }
            prev_end = r.end;
            total += r.data.len() as u64;
        }
        assert_eq!(total, self.bytes, "byte count");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn all(m: &PieceMap, start: u64, end: u64) -> Vec<u8> {
        let mut v = Vec::new();
        m.copy_range(start, end, &mut v);
        v
    }

    #[test]
    fn disjoint_and_fill() {
        let mut m = PieceMap::default();
        let o = m.insert(4, b"efgh", Extent::new(4, 8), |_, _| true);
        assert_eq!(o.added_bytes, 4);
        assert_eq!(m.contiguous_end(0), 0);
        m.insert(0, b"abcd", Extent::new(0, 4), |_, _| true);
        assert_eq!(m.contiguous_end(0), 8);
        assert_eq!(all(&m, 0, 8), b"abcdefgh");
        assert_eq!(m.uncovered(0, 12), 4);
        m.check_invariants();
    }

    #[test]
    fn old_wins_keeps_old_bytes_and_fills_around() {
        let mut m = PieceMap::default();
        m.insert(2, b"XX", Extent::new(2, 4), |_, _| false);
        m.insert(6, b"YY", Extent::new(6, 8), |_, _| false);
        let o = m.insert(0, b"abcdefghij", Extent::new(0, 10), |_, _| false);
        assert_eq!(o.overlap_bytes, 4);
        assert!(o.different);
        assert_eq!(o.added_bytes, 6);
        assert_eq!(all(&m, 0, 10), b"abXXefYYij");
        assert_eq!(m.bytes(), 10);
        m.check_invariants();
    }

    #[test]
    fn new_wins_splits_old() {
        let mut m = PieceMap::default();
        m.insert(0, b"0123456789", Extent::new(0, 10), |_, _| true);
        let o = m.insert(3, b"abc", Extent::new(3, 6), |_, _| true);
        assert_eq!(o.overlap_bytes, 3);
        assert_eq!(o.added_bytes, 0);
        assert_eq!(all(&m, 0, 10), b"012abc6789");
        assert_eq!(m.len(), 3);
        m.check_invariants();
        // identical data is not "different"
        let o = m.insert(3, b"abc", Extent::new(3, 6), |_, _| false);
        assert!(!o.different);
    }

    #[test]
    fn losing_new_piece_does_not_split_the_old_run() {
        // Found by the reassembly fuzz target: a retransmission lying
        // inside a held run, where the old bytes win, used to split that
        // run in three (same bytes, more runs), pushing a stream towards
        // max_gap_segments / max_buffered_segments for nothing.
        let mut m = PieceMap::default();
        m.insert(0, b"0123456789", Extent::new(0, 10), |_, _| false);
        let o = m.insert(3, b"345", Extent::new(3, 6), |_, _| false);
        assert_eq!((o.overlap_bytes, o.added_bytes, o.different), (3, 0, false));
        assert_eq!(m.len(), 1);
        // Straddling the old run's end: the old run stays whole and only
        // the new tail is added.
        let o = m.insert(8, b"89ab", Extent::new(8, 12), |_, _| false);
        assert_eq!((o.overlap_bytes, o.added_bytes), (2, 2));
        assert_eq!(m.len(), 2);
        assert_eq!(all(&m, 0, 12), b"0123456789ab");
        assert_eq!(m.bytes(), 12);
        m.check_invariants();
    }

    #[test]
    fn truncate() {
        let mut m = PieceMap::default();
        m.insert(0, b"abcd", Extent::new(0, 4), |_, _| true);
        m.insert(6, b"gh", Extent::new(6, 8), |_, _| true);
        assert_eq!(m.truncate_from(2), 4);
        assert_eq!(m.bytes(), 2);
        assert_eq!(m.max_end(), Some(2));
        m.check_invariants();
    }
}
