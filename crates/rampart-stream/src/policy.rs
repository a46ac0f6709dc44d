//! Target-based overlap policies, shared by IP defragmentation and TCP
//! reassembly.
//!
//! When two fragments (or two TCP segments) cover the same bytes with
//! different content, RFC 791 and RFC 793 leave open which copy the receiver
//! keeps, and real stacks disagree. An IDS that picks one answer for every
//! host can be evaded by sending overlaps that the monitored host resolves
//! the other way ("Insertion, Evasion, and Denial of Service", Ptacek and
//! Newsham 1998). The answer is *target-based* reassembly (Novak and Sturges,
//! "Target-Based Fragmentation Reassembly" / "Target-Based TCP Stream
//! Reassembly", 2005-2007; Shankar and Paxson, "Active Mapping", 2003):
//! configure, per protected host, which family of stack it runs and resolve
//! overlaps the way it would.
//!
//! # The model
//!
//! Both reassemblers keep every buffered byte together with the *extent* of
//! the fragment or segment it came from (its original start and end, before
//! any trimming). When a new piece arrives and overlaps bytes held from an
//! earlier piece, the policy is asked, for that pair, "does the new piece
//! win?"; the answer depends only on the two extents. Overlapped bytes of a
//! losing new piece are discarded, overlapped bytes of a losing old piece are
//! replaced. "Original" below means the piece currently holding the byte,
//! "subsequent" means the newly arriving one.
//!
//! The per-policy predicates for fragments follow Snort's frag3 engine
//! (`stream_ip` in Snort 3, whose left/right overlap cases reduce to these
//! pairwise rules) and reproduce byte for byte the results recorded in
//! Suricata's `DefragSturgesNovak*` unit tests for the classic Novak test
//! pattern (see the tests in `defrag`). The TCP predicates follow Suricata's
//! stream engine (`stream-tcp-list.c`, the IDS-mode overlap handling).
//! Neither code base was copied; only the observable rules were taken.
//!
//! Data already handed to the consumer can never be changed; the policies
//! only arbitrate among bytes still buffered (see [`crate::reassembly`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The half-open range `[start, end)` that a fragment or segment originally
/// covered, in bytes from the start of the datagram or stream.
///
/// Policies compare extents, not data: a stack decides which copy to keep
/// from where the pieces start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Extent {
    /// First byte covered.
    pub start: u64,
    /// One past the last byte covered.
    pub end: u64,
}

impl Extent {
    /// An extent from `start` (inclusive) to `end` (exclusive).
    pub fn new(start: u64, end: u64) -> Extent {
        Extent { start, end }
    }
}

/// How overlapping data is resolved: which operating-system family's
/// reassembly to imitate.
///
/// The same names are used for IP fragments and for TCP segments, but the
/// rules differ between the two because stacks treat them differently; each
/// variant documents both. Notation: the subsequent (new) piece covers
/// `[ns, ne)`, the original (held) piece covers `[os, oe)`, and the rule says
/// when the **new** data wins on the bytes they share.
///
/// Known target mappings (frag3 README, from Active Mapping): FreeBSD,
/// NetBSD, OpenBSD, AIX, IRIX, HP-UX 10 → `Bsd`; Linux → `Linux`; HP JetDirect
/// → `BsdRight`; HP-UX 11, Mac OS, old Solaris → `First`; Cisco IOS → `Last`;
/// Windows → `Windows`; Solaris → `Solaris`. The default is `Bsd`, as in
/// Suricata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverlapPolicy {
    /// Favour the original: the first data received for a byte always stays.
    ///
    /// Fragments and TCP: the new piece never wins. (Suricata's "vista"
    /// TCP policy behaves the same.)
    First,
    /// Favour the subsequent: the latest data received for a byte always
    /// wins.
    ///
    /// Fragments and TCP: the new piece always wins.
    Last,
    /// Favour the original, except when the subsequent piece begins before
    /// it.
    ///
    /// Fragments: new wins iff `ns < os`.
    /// TCP: the same rule, `ns < os` (Suricata's bsd, hpux10, irix, macos).
    #[default]
    Bsd,
    /// Favour the subsequent piece when it reaches further right: new wins
    /// iff it ends after the original, and on equal ends iff it starts at or
    /// before the original (frag3: "favor new fragments with lower/equal
    /// offset, except when the existing fragment ends at a higher/equal
    /// offset").
    ///
    /// Fragments: new wins iff `ne > oe || (ne == oe && ns <= os)`.
    /// TCP: no stack is documented to behave like this for segments, so it
    /// is treated exactly like [`OverlapPolicy::Bsd`] (`ns < os`). Note that
    /// Suricata's stream engine has no case for it and so keeps the original
    /// data there.
    BsdRight,
    /// Linux: like BSD, but an equal start also lets the subsequent piece
    /// win.
    ///
    /// Fragments: new wins iff `ns <= os`.
    /// TCP: new wins iff `ns < os`, or `ns == os` and the new segment ends
    /// strictly later (`ne > oe`) (Suricata's linux policy; its "old linux"
    /// would also accept `ne == oe`). Modern Linux kernels discard
    /// overlapping IPv4/IPv6 fragments entirely (RFC 5722); this policy
    /// models the historic behaviour that frag3 and Suricata test against.
    Linux,
    /// Windows: favour the original unless the subsequent fragment covers it
    /// completely and extends past it on both sides.
    ///
    /// Fragments: new wins iff `ns < os && ne > oe`.
    /// TCP: new wins iff `ns < os` (Suricata groups Windows with BSD for
    /// segments).
    Windows,
    /// Solaris: like Windows for fragments, but a subsequent fragment that
    /// starts before the original and ends at the same byte also wins.
    ///
    /// Fragments: new wins iff `ns < os && ne >= oe`.
    /// TCP: new wins iff `ne > oe || (ne == oe && ns <= os)`, i.e. the
    /// segment reaching further right wins (Suricata's solaris and hpux11).
    Solaris,
}

impl OverlapPolicy {
    /// Every policy, in declaration order; handy for exhaustive tests and
    /// for listing valid configuration values.
    pub const ALL: [OverlapPolicy; 7] = [
        OverlapPolicy::First,
        OverlapPolicy::Last,
        OverlapPolicy::Bsd,
        OverlapPolicy::BsdRight,
        OverlapPolicy::Linux,
        OverlapPolicy::Windows,
        OverlapPolicy::Solaris,
    ];

    /// The configuration name (`"bsd-right"` etc.), the same spelling that
    /// [`FromStr`] and serde accept.
    pub fn name(self) -> &'static str {
        match self {
            OverlapPolicy::First => "first",
            OverlapPolicy::Last => "last",
            OverlapPolicy::Bsd => "bsd",
            OverlapPolicy::BsdRight => "bsd-right",
            OverlapPolicy::Linux => "linux",
            OverlapPolicy::Windows => "windows",
            OverlapPolicy::Solaris => "solaris",
        }
    }

    /// For IP fragments: does the subsequent fragment covering `new` win the
    /// bytes it shares with the original fragment covering `old`?
    pub fn fragment_new_wins(self, new: Extent, old: Extent) -> bool {
        let (ns, ne, os, oe) = (new.start, new.end, old.start, old.end);
        match self {
            OverlapPolicy::First => false,
            OverlapPolicy::Last => true,
            OverlapPolicy::Bsd => ns < os,
            OverlapPolicy::BsdRight => ne > oe || (ne == oe && ns <= os),
            OverlapPolicy::Linux => ns <= os,
            OverlapPolicy::Windows => ns < os && ne > oe,
            OverlapPolicy::Solaris => ns < os && ne >= oe,
        }
    }

    /// For TCP segments: does the subsequent segment covering `new` win the
    /// still-buffered bytes it shares with the original segment covering
    /// `old`?
    pub fn segment_new_wins(self, new: Extent, old: Extent) -> bool {
        let (ns, ne, os, oe) = (new.start, new.end, old.start, old.end);
        match self {
            OverlapPolicy::First => false,
            OverlapPolicy::Last => true,
            OverlapPolicy::Bsd | OverlapPolicy::BsdRight | OverlapPolicy::Windows => ns < os,
            OverlapPolicy::Linux => ns < os || (ns == os && ne > oe),
            OverlapPolicy::Solaris => ne > oe || (ne == oe && ns <= os),
        }
    }
}

impl fmt::Display for OverlapPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OverlapPolicy {
    type Err = Error;

    /// Parses the lowercase configuration names; `bsd_right` is accepted as
    /// an alias of `bsd-right` because Snort 3 spells it that way.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "first" => Ok(OverlapPolicy::First),
            "last" => Ok(OverlapPolicy::Last),
            "bsd" => Ok(OverlapPolicy::Bsd),
            "bsd-right" | "bsd_right" => Ok(OverlapPolicy::BsdRight),
            "linux" => Ok(OverlapPolicy::Linux),
            "windows" => Ok(OverlapPolicy::Windows),
            "solaris" => Ok(OverlapPolicy::Solaris),
            other => Err(Error::UnknownPolicy {
                name: other.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in OverlapPolicy::ALL {
            assert_eq!(p.name().parse::<OverlapPolicy>().ok(), Some(p));
            assert_eq!(p.to_string(), p.name());
        }
        assert_eq!(
            "bsd_right".parse::<OverlapPolicy>().ok(),
            Some(OverlapPolicy::BsdRight)
        );
        assert!("BSD".parse::<OverlapPolicy>().is_err());
        assert!("macos".parse::<OverlapPolicy>().is_err());
        assert_eq!(OverlapPolicy::default(), OverlapPolicy::Bsd);
    }

    #[test]
    fn unknown_policy_message_names_input() {
        let err = "vista"
            .parse::<OverlapPolicy>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown overlap policy \"vista\" (expected one of first, last, bsd, bsd-right, linux, windows, solaris)")
        );
    }

    fn e(s: u64, t: u64) -> Extent {
        Extent::new(s, t)
    }

    /// The six relative positions of a new piece against an original
    /// `[10, 20)`, with the expected "new wins" answer per policy written
    /// out from the rules in the doc comments.
    #[test]
    fn fragment_rules_table() {
        let old = e(10, 20);
        let cases = [
            // (new, [first, last, bsd, bsd-right, linux, windows, solaris])
            // starts before, ends inside
            (e(5, 15), [false, true, true, false, true, false, false]),
            // starts before, ends at the same byte
            (e(5, 20), [false, true, true, true, true, false, true]),
            // starts before, ends after (covers it)
            (e(5, 25), [false, true, true, true, true, true, true]),
            // same start, ends inside
            (e(10, 15), [false, true, false, false, true, false, false]),
            // identical extent
            (e(10, 20), [false, true, false, true, true, false, false]),
            // same start, ends after
            (e(10, 25), [false, true, false, true, true, false, false]),
            // starts inside, ends inside
            (e(12, 18), [false, true, false, false, false, false, false]),
            // starts inside, ends at the same byte
            (e(12, 20), [false, true, false, false, false, false, false]),
            // starts inside, ends after
            (e(12, 25), [false, true, false, true, false, false, false]),
        ];
        for (new, expected) in cases {
            for (p, want) in OverlapPolicy::ALL.iter().zip(expected) {
                assert_eq!(
                    p.fragment_new_wins(new, old),
                    want,
                    "policy {p} new {new:?} old {old:?}"
                );
            }
        }
    }

    #[test]
    fn segment_rules_table() {
        let old = e(10, 20);
        let cases = [
            // (new, [first, last, bsd, bsd-right, linux, windows, solaris])
            (e(5, 15), [false, true, true, true, true, true, false]),
            (e(5, 20), [false, true, true, true, true, true, true]),
            (e(5, 25), [false, true, true, true, true, true, true]),
            (e(10, 15), [false, true, false, false, false, false, false]),
            (e(10, 20), [false, true, false, false, false, false, true]),
            (e(10, 25), [false, true, false, false, true, false, true]),
            (e(12, 18), [false, true, false, false, false, false, false]),
            (e(12, 20), [false, true, false, false, false, false, false]),
            (e(12, 25), [false, true, false, false, false, false, true]),
        ];
        for (new, expected) in cases {
            for (p, want) in OverlapPolicy::ALL.iter().zip(expected) {
                assert_eq!(
                    p.segment_new_wins(new, old),
                    want,
                    "policy {p} new {new:?} old {old:?}"
                );
            }
        }
    }
}
