//! A byte budget shared by many reassembly buffers.

use serde::Serialize;

/// A global memory cap that many [`crate::reassembly::TcpStreamBuffer`]s draw
/// from.
///
/// Per-stream caps alone do not bound memory: an attacker opens more
/// streams. The flow table therefore owns one `MemoryBudget` per worker and
/// passes it as `&mut` into every call that may buffer data. Passing it in
/// (instead of sharing it through `Rc<RefCell<_>>` or a lock) keeps the
/// reassembly types plain data, keeps the single-threaded worker lock-free,
/// and makes every allocation site visible in a signature.
///
/// The budget only counts; it does not allocate. Whoever reserves must
/// release the same amount when the memory is freed (for streams:
/// [`crate::reassembly::TcpStreamBuffer::release_memory`] before dropping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryBudget {
    limit: usize,
    used: usize,
    peak: usize,
    refusals: u64,
}

impl MemoryBudget {
    /// A budget that allows at most `limit` bytes to be reserved at once.
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget {
            limit,
            used: 0,
            peak: 0,
            refusals: 0,
        }
    }

    /// Reserves `bytes` if that keeps usage within the limit. Returns
    /// whether the reservation was made; a refusal is counted.
    pub fn try_reserve(&mut self, bytes: usize) -> bool {
        match self.used.checked_add(bytes) {
            Some(total) if total <= self.limit => {
                self.used = total;
                self.peak = self.peak.max(total);
                true
            }
            _ => {
                self.refusals = self.refusals.saturating_add(1);
                false
            }
        }
    }

    /// Returns `bytes` to the budget. Releasing more than is reserved is a
    /// caller bug; it saturates at zero rather than wrapping.
    pub fn release(&mut self, bytes: usize) {
        debug_assert!(bytes <= self.used, "released more than reserved");
        self.used = self.used.saturating_sub(bytes);
    }

    /// Bytes currently reserved.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The configured cap.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that can still be reserved.
    pub fn available(&self) -> usize {
        self.limit.saturating_sub(self.used)
    }

    /// The highest usage seen, for sizing the cap from real traffic.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// How many reservations were refused because the cap was reached.
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// Changes the cap (for a configuration reload). Existing reservations
    /// stay; if usage is now above the cap, new reservations are refused
    /// until enough is released.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_and_release() {
        let mut b = MemoryBudget::new(100);
        assert!(b.try_reserve(60));
        assert!(!b.try_reserve(41));
        assert_eq!(b.refusals(), 1);
        assert!(b.try_reserve(40));
        assert_eq!(b.available(), 0);
        b.release(70);
        assert_eq!(b.used(), 30);
        assert_eq!(b.peak(), 100);
        assert!(!b.try_reserve(usize::MAX));
    }
}
