//! Bits kept on hosts and host pairs across flows (`xbits`, `hostbits`):
//! a rule marks an address (say, one that fetched a dropper) and another
//! rule, in a later connection, tests the mark. Each bit expires.

use std::collections::HashMap;
use std::net::IpAddr;

use rampart_rules::{BitCommand, XbitsTrack};

/// How long a bit lives when the rule gives no `expire` (Suricata's
/// default, in seconds).
pub const DEFAULT_EXPIRE_SECS: u32 = 30;

/// One `xbits` / `hostbits` command of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XbitOp {
    /// set, unset, toggle, isset or isnotset.
    pub cmd: BitCommand,
    /// The interned bit name.
    pub bit: u32,
    /// Where the bit lives.
    pub track: XbitsTrack,
    /// Lifetime of a set bit, in seconds.
    pub expire_secs: u32,
}

/// What a bit is stored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Holder {
    Host(IpAddr),
    /// A pair of hosts, in either direction.
    Pair(IpAddr, IpAddr),
}

/// What a bit of `track` is stored on for a packet from `src` to `dst`.
fn holders(track: XbitsTrack, src: IpAddr, dst: IpAddr) -> [Option<Holder>; 2] {
    match track {
        XbitsTrack::IpSrc => [Some(Holder::Host(src)), None],
        XbitsTrack::IpDst => [Some(Holder::Host(dst)), None],
        XbitsTrack::IpPair => {
            let (a, b) = if src <= dst { (src, dst) } else { (dst, src) };
            [Some(Holder::Pair(a, b)), None]
        }
        XbitsTrack::Both => [Some(Holder::Host(src)), Some(Holder::Host(dst))],
    }
}

/// The bits of all hosts, bounded: when full, expired bits are swept
/// and, if none were, a new bit is not stored (counted in `dropped`).
#[derive(Debug)]
pub struct HostBits {
    /// (holder, bit) → expiry time in nanoseconds.
    bits: HashMap<(Holder, u32), u64, foldhash::fast::RandomState>,
    max_entries: usize,
    /// Bits not stored because the table was full.
    pub dropped: u64,
}

impl HostBits {
    /// A table of at most `max_entries` bits.
    pub fn new(max_entries: usize) -> Self {
        HostBits {
            bits: HashMap::default(),
            max_entries: max_entries.max(1),
            dropped: 0,
        }
    }

    fn is_set_on(&self, h: Holder, bit: u32, now_ns: u64) -> bool {
        self.bits.get(&(h, bit)).is_some_and(|&exp| exp > now_ns)
    }

    /// Whether a condition holds for a packet from `src` to `dst` at
    /// `now_ns` (`both`: on either host).
    pub fn check(&self, op: &XbitOp, src: IpAddr, dst: IpAddr, now_ns: u64) -> bool {
        let hs = holders(op.track, src, dst);
        let set = hs
            .iter()
            .flatten()
            .any(|&h| self.is_set_on(h, op.bit, now_ns));
        match op.cmd {
            BitCommand::IsSet => set,
            BitCommand::IsNotSet => !set,
            _ => true,
        }
    }

    /// Carries out an action once the signature matched.
    pub fn apply(&mut self, op: &XbitOp, src: IpAddr, dst: IpAddr, now_ns: u64) {
        let hs = holders(op.track, src, dst);
        let expires = now_ns.saturating_add(u64::from(op.expire_secs) * 1_000_000_000);
        for h in hs.into_iter().flatten() {
            match op.cmd {
                BitCommand::Set => self.insert(h, op.bit, expires, now_ns),
                BitCommand::Unset => {
                    self.bits.remove(&(h, op.bit));
                }
                BitCommand::Toggle => {
                    if self.is_set_on(h, op.bit, now_ns) {
                        self.bits.remove(&(h, op.bit));
                    } else {
                        self.insert(h, op.bit, expires, now_ns);
                    }
                }
                _ => {}
            }
        }
    }

    fn insert(&mut self, h: Holder, bit: u32, expires: u64, now_ns: u64) {
        if self.bits.len() >= self.max_entries && !self.bits.contains_key(&(h, bit)) {
            self.bits.retain(|_, &mut exp| exp > now_ns);
            if self.bits.len() >= self.max_entries {
                self.dropped += 1;
                return;
            }
        }
        self.bits.insert((h, bit), expires);
    }

    /// Bits held (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// Whether no bit is held.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn op(cmd: BitCommand, track: XbitsTrack) -> XbitOp {
        XbitOp {
            cmd,
            bit: 7,
            track,
            expire_secs: 10,
        }
    }

    #[test]
    fn bits_follow_their_host_and_expire() {
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        let mut t = HostBits::new(16);
        t.apply(&op(BitCommand::Set, XbitsTrack::IpSrc), a, b, 0);
        // Another flow from the same source, to another host.
        assert!(t.check(&op(BitCommand::IsSet, XbitsTrack::IpSrc), a, c, 5 * S));
        assert!(t.check(&op(BitCommand::IsSet, XbitsTrack::IpDst), c, a, 5 * S));
        assert!(t.check(&op(BitCommand::IsNotSet, XbitsTrack::IpSrc), b, a, 5 * S));
        // Expired after 10 s.
        assert!(!t.check(&op(BitCommand::IsSet, XbitsTrack::IpSrc), a, c, 11 * S));
        // Pairs are direction-free.
        t.apply(&op(BitCommand::Set, XbitsTrack::IpPair), a, b, 0);
        assert!(t.check(&op(BitCommand::IsSet, XbitsTrack::IpPair), b, a, S));
        assert!(!t.check(&op(BitCommand::IsSet, XbitsTrack::IpPair), a, c, S));
        // Toggle and unset.
        t.apply(&op(BitCommand::Toggle, XbitsTrack::IpDst), c, b, S);
        assert!(t.check(&op(BitCommand::IsSet, XbitsTrack::IpSrc), b, c, S));
        t.apply(&op(BitCommand::Toggle, XbitsTrack::IpDst), c, b, S);
        assert!(!t.check(&op(BitCommand::IsSet, XbitsTrack::IpSrc), b, c, S));
        t.apply(&op(BitCommand::Unset, XbitsTrack::IpSrc), a, b, S);
        assert!(!t.check(&op(BitCommand::IsSet, XbitsTrack::IpSrc), a, b, S));
    }

    #[test]
    fn full_table_sweeps_then_drops() {
        let mut t = HostBits::new(2);
        let ip = |i: u8| IpAddr::from([10, 0, 0, i]);
        for i in 0..2 {
            t.apply(&op(BitCommand::Set, XbitsTrack::IpSrc), ip(i), ip(9), 0);
        }
        t.apply(&op(BitCommand::Set, XbitsTrack::IpSrc), ip(5), ip(9), S);
        assert_eq!((t.len(), t.dropped), (2, 1));
        // Once the old bits expired, room is made.
        t.apply(
            &op(BitCommand::Set, XbitsTrack::IpSrc),
            ip(5),
            ip(9),
            20 * S,
        );
        assert_eq!((t.len(), t.dropped), (1, 1));
    }
}
