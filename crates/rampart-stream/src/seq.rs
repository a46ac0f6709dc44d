//! TCP sequence-number arithmetic modulo 2^32.
//!
//! Sequence numbers wrap, so `a < b` on raw `u32`s is wrong as soon as a
//! connection crosses the wrap point (which a long-lived or randomly-started
//! connection always can). RFC 793 section 3.3 and RFC 1982 define the
//! comparison on the signed 32-bit difference instead: `a` is before `b` when
//! `b - a`, taken modulo 2^32, lies in `1..2^31`. Two numbers exactly 2^31
//! apart are ambiguous; these helpers resolve that case as "`a` after `b`"
//! (the sign bit of the difference decides), which is what every common
//! stack does and which is harmless because no TCP window spans 2^31 bytes.

/// The signed distance from `b` to `a` (`a - b`) in sequence space.
///
/// Positive when `a` is after `b`. This is the primitive the other helpers
/// are built on, and what reassembly uses to turn a sequence number into a
/// stream offset relative to the next expected byte.
#[inline]
pub fn seq_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// `a` comes strictly before `b` in sequence space.
#[inline]
pub fn seq_lt(a: u32, b: u32) -> bool {
    seq_diff(a, b) < 0
}

/// `a` comes before `b` or is equal to it.
#[inline]
pub fn seq_le(a: u32, b: u32) -> bool {
    seq_diff(a, b) <= 0
}

/// `a` comes strictly after `b` in sequence space.
#[inline]
pub fn seq_gt(a: u32, b: u32) -> bool {
    seq_diff(a, b) > 0
}

/// `a` comes after `b` or is equal to it.
#[inline]
pub fn seq_ge(a: u32, b: u32) -> bool {
    seq_diff(a, b) >= 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ordering() {
        assert!(seq_lt(1, 2));
        assert!(!seq_lt(2, 2));
        assert!(seq_le(2, 2));
        assert!(seq_gt(3, 2));
        assert!(seq_ge(3, 3));
        assert_eq!(seq_diff(10, 4), 6);
        assert_eq!(seq_diff(4, 10), -6);
    }

    #[test]
    fn wraparound() {
        // 0xFFFF_FFF0 + 0x20 wraps to 0x10: 0x10 is 32 bytes *after*.
        assert!(seq_lt(0xFFFF_FFF0, 0x10));
        assert!(seq_gt(0x10, 0xFFFF_FFF0));
        assert_eq!(seq_diff(0x10, 0xFFFF_FFF0), 0x20);
        assert_eq!(seq_diff(0xFFFF_FFF0, 0x10), -0x20);
        assert!(seq_le(u32::MAX, 0));
        assert!(seq_ge(0, u32::MAX));
    }

    #[test]
    fn half_space_boundary() {
        // Just under 2^31 apart: still ordered the "short way round".
        assert!(seq_lt(0, 0x7FFF_FFFF));
        assert!(seq_gt(0x7FFF_FFFF, 0));
        // Exactly 2^31 apart: the sign bit decides, both directions say "after"
        // is the one with the negative difference; documented ambiguity.
        assert_eq!(seq_diff(0x8000_0000, 0), i32::MIN);
        assert!(seq_lt(0x8000_0000, 0));
        assert!(seq_lt(0, 0x8000_0000));
    }
}
