//! Post-processing of frame lists: reorder, duplicate, drop, re-time.
//!
//! A clean conversation tests the easy path; the interesting bugs in
//! defragmentation and reassembly show up when packets arrive out of order,
//! twice, or not at all. These helpers take the output of
//! [`super::TcpConversation::build`] (or any frame list) and mangle it.
//!
//! Timestamps travel with their packet: a reordered frame keeps its capture
//! time, and a duplicate gets its original's time. Call [`retime`]
//! afterwards to make capture times increase again in the new order (which
//! is how an IDS would see the arrival order). Indices are 0-based and
//! always refer to the list passed in.

use std::ops::Range;

use super::CraftError;
use crate::Timestamp;

/// A packet with its capture time, as written to and read from pcap files.
pub type Frame = (Timestamp, Vec<u8>);

fn check(index: usize, len: usize) -> Result<(), CraftError> {
    if index >= len {
        Err(CraftError::FrameIndex { index, len })
    } else {
        Ok(())
    }
}

/// Picks frames by index: `order[k]` is the index of the frame placed at
/// position `k`. Indices may repeat (duplicates) or be left out (drops), so
/// this one function expresses any reordering, duplication and loss.
pub fn reorder(frames: &[Frame], order: &[usize]) -> Result<Vec<Frame>, CraftError> {
    order
        .iter()
        .map(|&i| {
            frames.get(i).cloned().ok_or(CraftError::FrameIndex {
                index: i,
                len: frames.len(),
            })
        })
        .collect()
}

/// Swaps the frames at each pair of positions, pairs applied in order.
pub fn swap_pairs(frames: &mut [Frame], pairs: &[(usize, usize)]) -> Result<(), CraftError> {
    for &(a, b) in pairs {
        check(a, frames.len())?;
        check(b, frames.len())?;
        frames.swap(a, b);
    }
    Ok(())
}

/// Shuffles the frames in `range` (positions) with a seeded xorshift
/// generator: the same seed always gives the same order, so a failing test
/// can be replayed.
pub fn shuffle(frames: &mut [Frame], range: Range<usize>, seed: u64) -> Result<(), CraftError> {
    if range.start > range.end {
        return Err(CraftError::FrameIndex {
            index: range.start,
            len: range.end,
        });
    }
    if range.end > frames.len() {
        return Err(CraftError::FrameIndex {
            index: range.end.saturating_sub(1),
            len: frames.len(),
        });
    }
    let Some(part) = frames.get_mut(range) else {
        return Ok(());
    };
    let mut rng = XorShift::new(seed);
    // Fisher-Yates.
    for i in (1..part.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        part.swap(i, j);
    }
    Ok(())
}

/// Repeats each frame listed in `indices` right after itself, as a
/// retransmission would appear; listing an index twice adds two copies.
pub fn duplicate(frames: &[Frame], indices: &[usize]) -> Result<Vec<Frame>, CraftError> {
    let mut copies = vec![0usize; frames.len()];
    for &i in indices {
        check(i, frames.len())?;
        if let Some(c) = copies.get_mut(i) {
            *c += 1;
        }
    }
    let mut out = Vec::with_capacity(frames.len() + indices.len());
    for (frame, n) in frames.iter().zip(copies) {
        for _ in 0..=n {
            out.push(frame.clone());
        }
    }
    Ok(out)
}

/// Removes the frames listed in `indices`, as packet loss would.
pub fn drop_frames(frames: &[Frame], indices: &[usize]) -> Result<Vec<Frame>, CraftError> {
    let mut keep = vec![true; frames.len()];
    for &i in indices {
        check(i, frames.len())?;
        if let Some(k) = keep.get_mut(i) {
            *k = false;
        }
    }
    Ok(frames
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(f, _)| f.clone())
        .collect())
}

/// Gives the frames evenly spaced timestamps in their current order:
/// `start`, `start + step_nanos`, and so on.
pub fn retime(frames: &mut [Frame], start: Timestamp, step_nanos: u64) {
    let mut ts = start;
    for frame in frames {
        frame.0 = ts;
        ts = ts.add_nanos(step_nanos);
    }
}

/// xorshift64 (Marsaglia 2003): tiny, seedable and good enough to shuffle
/// packets; not for anything that must be unpredictable.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point; replace it with any odd constant.
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn frames(n: u8) -> Vec<Frame> {
        (0..n)
            .map(|i| (Timestamp::from_secs(u64::from(i)), vec![i]))
            .collect()
    }

    fn bytes(f: &[Frame]) -> Vec<u8> {
        f.iter().map(|(_, b)| b.first().copied().unwrap()).collect()
    }

    #[test]
    fn reorder_repeats_and_omits() {
        let f = frames(4);
        assert_eq!(bytes(&reorder(&f, &[3, 1, 1]).unwrap()), vec![3, 1, 1]);
        assert_eq!(
            reorder(&f, &[4]).unwrap_err(),
            CraftError::FrameIndex { index: 4, len: 4 }
        );
    }

    #[test]
    fn swap_duplicate_drop() {
        let mut f = frames(4);
        swap_pairs(&mut f, &[(0, 3), (1, 2)]).unwrap();
        assert_eq!(bytes(&f), vec![3, 2, 1, 0]);
        // timestamps moved with their packets
        assert_eq!(f.first().unwrap().0, Timestamp::from_secs(3));
        let f = frames(3);
        let d = duplicate(&f, &[1, 1, 2]).unwrap();
        assert_eq!(bytes(&d), vec![0, 1, 1, 1, 2, 2]);
        let d = drop_frames(&f, &[0, 2]).unwrap();
        assert_eq!(bytes(&d), vec![1]);
        assert!(drop_frames(&f, &[3]).is_err());
        assert!(swap_pairs(&mut frames(2), &[(0, 2)]).is_err());
    }

    #[test]
    fn shuffle_is_a_seeded_permutation_of_the_range() {
        let mut a = frames(20);
        let mut b = frames(20);
        shuffle(&mut a, 5..15, 42).unwrap();
        shuffle(&mut b, 5..15, 42).unwrap();
        assert_eq!(a, b);
        let got = bytes(&a);
        assert_eq!(got.get(..5).unwrap(), &[0, 1, 2, 3, 4]);
        assert_eq!(got.get(15..).unwrap(), &[15, 16, 17, 18, 19]);
        let mut mid = got.get(5..15).unwrap().to_vec();
        assert_ne!(
            mid,
            (5..15).collect::<Vec<u8>>(),
            "seed 42 should move something"
        );
        mid.sort_unstable();
        assert_eq!(mid, (5..15).collect::<Vec<u8>>());
        assert!(shuffle(&mut a, 5..21, 1).is_err());
        let mut c = frames(20);
        shuffle(&mut c, 5..15, 43).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn retime_spaces_evenly() {
        let mut f = frames(3);
        f.reverse();
        retime(&mut f, Timestamp::from_secs(10), 500);
        let ts: Vec<u64> = f.iter().map(|(t, _)| t.as_nanos()).collect();
        assert_eq!(ts, vec![10_000_000_000, 10_000_000_500, 10_000_001_000]);
    }
}
