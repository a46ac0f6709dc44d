//! The multi-pattern prefilter of one signature group.
//!
//! Every signature with a fast pattern registers it here; one scan of a
//! payload yields the signatures whose pattern occurs, and only those are
//! verified. One prefilter per group (not per port) keeps the payload to a
//! single pass: the port check that follows is cheaper than a second scan.
//!
//! Patterns that recur inside themselves (`|00 00 00 00|`, `|00|`) would
//! make an overlapping Aho-Corasick scan report a match at almost every byte
//! of a zero-filled payload, so they are looked for separately with
//! `memmem`, which stops at the first occurrence: the prefilter only needs
//! to know *whether* a pattern occurs.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind as AcMatchKind};
use memchr::memmem::Finder;

/// Fast patterns of one group and the signatures behind each.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    /// Automaton over the well-behaved patterns; its pattern index maps
    /// through `ac_ids`.
    automaton: Option<AhoCorasick>,
    /// Automaton pattern index → pattern id.
    ac_ids: Vec<u32>,
    /// Self-overlapping or very short patterns without letters, found by
    /// an existence check each.
    literals: Vec<(Finder<'static>, u32)>,
    /// Pattern id → signatures using it.
    by_pattern: Vec<Vec<u32>>,
    /// Hyperscan database over every pattern, when built with the
    /// `hyperscan` feature; replaces the automaton and literal checks.
    #[cfg(feature = "hyperscan")]
    hs: Option<hs::HsPrefilter>,
}

/// Builds a [`Prefilter`] from `(pattern, nocase, signature)` triples.
#[derive(Debug, Default)]
pub(crate) struct PrefilterBuilder {
    ids: HashMap<(Vec<u8>, bool), u32>,
    /// Each pattern as written and whether it ignores case.
    patterns: Vec<(Vec<u8>, bool)>,
    by_pattern: Vec<Vec<u32>>,
}

impl PrefilterBuilder {
    /// Registers `sig` under `pattern`. The Aho-Corasick backend folds case
    /// for every pattern (the signature re-checks case); Hyperscan honours
    /// `nocase`, which keeps case-sensitive patterns selective.
    pub(crate) fn add(&mut self, pattern: &[u8], nocase: bool, sig: u32) {
        let next = self.patterns.len() as u32;
        let key = (pattern.to_vec(), nocase);
        let id = *self.ids.entry(key).or_insert_with(|| {
            self.patterns.push((pattern.to_vec(), nocase));
            self.by_pattern.push(Vec::new());
            next
        });
        if let Some(v) = self.by_pattern.get_mut(id as usize) {
            v.push(sig);
        }
    }

    /// Compiles the automaton and the literal checks.
    pub(crate) fn build(self) -> Prefilter {
        #[cfg(feature = "hyperscan")]
        let hs = {
            let quiet: Vec<(u32, &[u8], bool)> = (0u32..)
                .zip(&self.patterns)
                .filter(|(_, (p, _))| !is_noisy(p))
                .map(|(i, (p, nocase))| (i, p.as_slice(), *nocase))
                .collect();
            hs::HsPrefilter::build(&quiet)
        };
        let mut ac_patterns = Vec::new();
        let mut ac_ids = Vec::new();
        let mut literals = Vec::new();
        for (id, (p, _)) in self.patterns.into_iter().enumerate() {
            if is_noisy(&p) {
                literals.push((Finder::new(&p).into_owned(), id as u32));
            } else {
                ac_patterns.push(p.to_ascii_lowercase());
                ac_ids.push(id as u32);
            }
        }
        #[cfg(feature = "hyperscan")]
        let skip_automaton = hs.is_some();
        #[cfg(not(feature = "hyperscan"))]
        let skip_automaton = false;
        let automaton = if ac_patterns.is_empty() || skip_automaton {
            None
        } else {
            // A full DFA: one table lookup per byte. Prefilter automata are
            // built once per rule load and hold at most a few thousand
            // patterns, so the memory is well spent on the hottest loop.
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(AcMatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&ac_patterns)
                .or_else(|_| {
                    AhoCorasickBuilder::new()
                        .ascii_case_insensitive(true)
                        .match_kind(AcMatchKind::Standard)
                        .build(&ac_patterns)
                })
                .ok()
        };
        Prefilter {
            automaton,
            ac_ids,
            literals,
            by_pattern: self.by_pattern,
            #[cfg(feature = "hyperscan")]
            hs,
        }
    }
}

/// A pattern is checked with `memmem` rather than the automaton when it is
/// one byte repeated (`|00 00 00 00|`, `|90 90|`), which matches at every
/// position of a run of that byte, and is not a letter (so case folding does
/// not matter).
fn is_noisy(p: &[u8]) -> bool {
    let Some(&first) = p.first() else {
        return false;
    };
    !first.is_ascii_alphabetic() && p.iter().all(|&b| b == first)
}

impl Prefilter {
    /// Whether no signature has a pattern here.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_pattern.is_empty()
    }

    /// Number of distinct patterns.
    #[cfg(test)]
    pub(crate) fn pattern_count(&self) -> usize {
        self.by_pattern.len()
    }

    /// Appends to `out` the signatures whose pattern occurs in `hay`
    /// (each pattern's signatures once; `out` may need deduplication
    /// against other sources). `pids` is scratch space.
    pub(crate) fn scan(&self, hay: &[u8], pids: &mut Vec<u32>, out: &mut Vec<u32>) {
        if hay.is_empty() || self.is_empty() {
            return;
        }
        pids.clear();
        #[cfg(feature = "hyperscan")]
        if let Some(hs) = &self.hs {
            if hs.scan(hay, pids) {
                self.find_literals(hay, pids);
                self.candidates(pids, out);
                return;
            }
            pids.clear();
        }
        if let Some(ac) = &self.automaton {
            let mut last = u32::MAX;
            for m in ac.find_overlapping_iter(hay) {
                let i = m.pattern().as_u32();
                // Runs of the same pattern are common (a pattern repeated in
                // the payload); skip the obvious repeats before sorting.
                if i != last {
                    pids.extend(self.ac_ids.get(i as usize));
                    last = i;
                }
            }
        }
        self.find_literals(hay, pids);
        self.candidates(pids, out);
    }

    /// Pushes the ids of the dense patterns that occur in `hay`.
    fn find_literals(&self, hay: &[u8], pids: &mut Vec<u32>) {
        for (finder, id) in &self.literals {
            if finder.find(hay).is_some() {
                pids.push(*id);
            }
        }
    }

    /// Appends the signatures of the distinct pattern ids in `pids`.
    fn candidates(&self, pids: &mut Vec<u32>, out: &mut Vec<u32>) {
        pids.sort_unstable();
        pids.dedup();
        for pid in pids.iter() {
            if let Some(sigs) = self.by_pattern.get(*pid as usize) {
                out.extend_from_slice(sigs);
            }
        }
    }
}

/// The Hyperscan backend: every pattern compiled as a caseless literal with
/// `SINGLEMATCH`, so each pattern is reported at most once per scan, which
/// is all a prefilter needs.
#[cfg(feature = "hyperscan")]
mod hs {
    use std::fmt::Write as _;
    use std::sync::Mutex;

    use hyperscan::prelude::{
        BlockDatabase, Builder as _, CompileFlags, Matching, Pattern, Patterns, Scratch,
    };

    /// A compiled database and its scratch space. Scratch is per scan; the
    /// engine is shared between workers, so it sits behind a mutex (one
    /// uncontended lock per scanned buffer).
    pub(super) struct HsPrefilter {
        db: BlockDatabase,
        scratch: Mutex<Scratch>,
    }

    impl std::fmt::Debug for HsPrefilter {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("HsPrefilter")
        }
    }

    impl HsPrefilter {
        /// Compiles `(id, pattern, nocase)` literals; `None` when Hyperscan
        /// refuses them, and the Aho-Corasick path is used instead.
        pub(super) fn build(patterns: &[(u32, &[u8], bool)]) -> Option<HsPrefilter> {
            let mut list = Vec::with_capacity(patterns.len());
            for &(id, p, nocase) in patterns {
                let mut expr = String::with_capacity(p.len() * 4);
                for b in p {
                    let _ = write!(expr, "\\x{b:02x}");
                }
                let mut flags = CompileFlags::SINGLEMATCH;
                if nocase {
                    flags |= CompileFlags::CASELESS;
                }
                let mut pat = Pattern::with_flags(expr, flags).ok()?;
                pat.id = Some(id as usize);
                list.push(pat);
            }
            if list.is_empty() {
                return None;
            }
            let db: BlockDatabase = Patterns(list).build().ok()?;
            let scratch = db.alloc_scratch().ok()?;
            Some(HsPrefilter {
                db,
                scratch: Mutex::new(scratch),
            })
        }

        /// Pushes the ids of the patterns found in `hay`; `false` when the
        /// scan could not run (the caller falls back to Aho-Corasick).
        pub(super) fn scan(&self, hay: &[u8], pids: &mut Vec<u32>) -> bool {
            let Ok(scratch) = self.scratch.lock() else {
                return false;
            };
            self.db
                .scan(hay, &scratch, |id, _, _, _| {
                    pids.push(id);
                    Matching::Continue
                })
                .is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn build(pats: &[(&[u8], u32)]) -> Prefilter {
        let mut b = PrefilterBuilder::default();
        for (p, s) in pats {
            b.add(p, false, *s);
        }
        b.build()
    }

    fn scan(pf: &Prefilter, hay: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        pf.scan(hay, &mut Vec::new(), &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_overlapping_and_case_folded_patterns() {
        let pf = build(&[(b"abc", 1), (b"bcd", 2), (b"GET /", 3), (b"zzz", 4)]);
        assert_eq!(scan(&pf, b"xxabcdyy GET /x"), vec![1, 2, 3]);
    }

    #[test]
    fn dense_patterns_are_found_once_by_memmem() {
        let pf = build(&[(b"\0\0\0\0", 1), (b"\x01\x00", 2), (b"\0", 3), (b"ab\0", 4)]);
        assert_eq!(pf.literals.len(), 2);
        let zeros = vec![0u8; 4096];
        assert_eq!(scan(&pf, &zeros), vec![1, 3]);
        assert_eq!(scan(&pf, b"xx\x01\x00ab\0"), vec![2, 3, 4]);
        assert_eq!(scan(&pf, b"nothing here"), Vec::<u32>::new());
    }

    #[test]
    fn signatures_sharing_a_pattern_are_all_returned() {
        let pf = build(&[(b"evil", 7), (b"evil", 9)]);
        assert_eq!(pf.pattern_count(), 1);
        assert_eq!(scan(&pf, b"an evil evil payload"), vec![7, 9]);
    }
}
