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

use std::cell::RefCell;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind as AcMatchKind};
use daachorse::DoubleArrayAhoCorasick;
use memchr::memmem::Finder;

/// Patterns whose content is anchored this close to the start of the
/// buffer (offset + depth, in bytes) are looked for in the buffer's head
/// only: most anchored rules name a protocol header of a few bytes, and a
/// 1,460-byte packet need not be scanned whole for them.
const HEAD_LIMIT: usize = 64;

/// Pattern bytes up to which a group's automaton is a full DFA (fastest
/// per byte); larger sets use the much smaller double array.
const DFA_MAX_BYTES: usize = 16 << 10;

/// Fast patterns of one group and the signatures behind each.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    /// Patterns that may occur anywhere.
    full: Matcher,
    /// Patterns anchored within the first bytes, and how many bytes to scan.
    head: Option<(usize, Matcher)>,
    /// Pattern id → signatures using it.
    by_pattern: Vec<Vec<u32>>,
}

/// One multi-pattern search over a subset of a group's patterns.
#[derive(Debug, Default)]
struct Matcher {
    /// Automaton over the well-behaved patterns; its pattern values map
    /// through `ac_ids`.
    automaton: Option<Automaton>,
    /// Automaton value → pattern ids (patterns that differ only in case
    /// share one automaton entry).
    ac_ids: Vec<Vec<u32>>,
    /// Patterns of one repeated byte, found by an existence check each.
    literals: Vec<(Finder<'static>, u32)>,
    /// Hyperscan database over the other patterns, when built with the
    /// `hyperscan` feature; replaces the automaton.
    #[cfg(feature = "hyperscan")]
    hs: Option<hs::HsPrefilter>,
}

/// The overlapping multi-pattern search over lowercased patterns.
///
/// Small sets get `aho-corasick`'s full DFA with case folding. Large ones
/// get a double-array Aho-Corasick (`daachorse`) over a lowercased copy of
/// the buffer: about as fast on ET Open, and a fraction of the memory (the
/// full ruleset's peak RSS fell from 451 to 315 MiB). `aho-corasick` is
/// also the fallback should a set exceed the double array's limits.
enum Automaton {
    DoubleArray(DoubleArrayAhoCorasick<u32>),
    Folding(AhoCorasick),
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Automaton::DoubleArray(_) => f.write_str("DoubleArray"),
            Automaton::Folding(a) => a.fmt(f),
        }
    }
}

thread_local! {
    /// Per-thread lowercased copy of the buffer being scanned.
    static LOWERED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Builds a [`Prefilter`] from `(pattern, nocase, bound, signature)`.
#[derive(Debug, Default)]
pub(crate) struct PrefilterBuilder {
    ids: HashMap<(Vec<u8>, bool), u32>,
    /// Each pattern as written, whether it ignores case, and the end of the
    /// region it can occur in (`None`: anywhere).
    patterns: Vec<(Vec<u8>, bool, Option<usize>)>,
    by_pattern: Vec<Vec<u32>>,
}

impl PrefilterBuilder {
    /// Registers `sig` under `pattern`. The Aho-Corasick backend folds case
    /// for every pattern (the signature re-checks case); Hyperscan honours
    /// `nocase`, which keeps case-sensitive patterns selective. `bound` is
    /// where the pattern must end at the latest (an anchored content's
    /// offset + depth), when the rule says so.
    pub(crate) fn add(&mut self, pattern: &[u8], nocase: bool, bound: Option<usize>, sig: u32) {
        let next = self.patterns.len() as u32;
        let key = (pattern.to_vec(), nocase);
        let id = *self.ids.entry(key).or_insert_with(|| {
            self.patterns.push((pattern.to_vec(), nocase, bound));
            self.by_pattern.push(Vec::new());
            next
        });
        if let Some((_, _, b)) = self.patterns.get_mut(id as usize) {
            // Shared by several rules: the loosest bound wins.
            *b = match (*b, bound) {
                (Some(x), Some(y)) => Some(x.max(y)),
                _ => None,
            };
        }
        if let Some(v) = self.by_pattern.get_mut(id as usize) {
            v.push(sig);
        }
    }

    /// Compiles the matchers.
    pub(crate) fn build(self) -> Prefilter {
        self.build_with(true)
    }

    /// Compiles the matchers with the automaton `aho-corasick` picks for
    /// the pattern count (a contiguous NFA for large sets) instead of a
    /// full DFA: for application-layer buffers such as `dns.query` and
    /// `tls.sni`, thousands of domain patterns scanned over a few dozen
    /// bytes per transaction, where a DFA's memory buys nothing.
    pub(crate) fn build_compact(self) -> Prefilter {
        self.build_with(false)
    }

    fn build_with(self, dfa: bool) -> Prefilter {
        let mut full = Vec::new();
        let mut head = Vec::new();
        let mut head_len = 0usize;
        for (id, (p, nocase, bound)) in (0u32..).zip(&self.patterns) {
            match bound {
                Some(b) if *b <= HEAD_LIMIT => {
                    head_len = head_len.max(*b);
                    head.push((id, p.as_slice(), *nocase));
                }
                _ => full.push((id, p.as_slice(), *nocase)),
            }
        }
        Prefilter {
            full: Matcher::build(&full, dfa),
            head: (!head.is_empty()).then(|| (head_len, Matcher::build(&head, dfa))),
            by_pattern: self.by_pattern,
        }
    }
}

impl Matcher {
    /// Compiles `(id, pattern, nocase)` triples.
    fn build(patterns: &[(u32, &[u8], bool)], dfa: bool) -> Matcher {
        let quiet: Vec<(u32, &[u8], bool)> = patterns
            .iter()
            .copied()
            .filter(|(_, p, _)| !is_noisy(p))
            .collect();
        let literals = patterns
            .iter()
            .filter(|(_, p, _)| is_noisy(p))
            .map(|(id, p, _)| (Finder::new(p).into_owned(), *id))
            .collect();
        #[cfg(feature = "hyperscan")]
        let hs = hs::HsPrefilter::build(&quiet);
        #[cfg(feature = "hyperscan")]
        let skip_automaton = hs.is_some();
        #[cfg(not(feature = "hyperscan"))]
        let skip_automaton = false;
        let (automaton, ac_ids) = if quiet.is_empty() || skip_automaton {
            (None, Vec::new())
        } else {
            // one automaton entry per distinct lowercased pattern
            let mut slot: HashMap<Vec<u8>, usize> = HashMap::new();
            let mut lowered: Vec<Vec<u8>> = Vec::new();
            let mut ac_ids: Vec<Vec<u32>> = Vec::new();
            for (id, p, _) in &quiet {
                let low = p.to_ascii_lowercase();
                let i = *slot.entry(low.clone()).or_insert_with(|| {
                    lowered.push(low);
                    ac_ids.push(Vec::new());
                    ac_ids.len() - 1
                });
                if let Some(v) = ac_ids.get_mut(i) {
                    v.push(*id);
                }
            }
            // Large sets take the double array: a full DFA of thousands of
            // patterns costs tens of MiB per group for no speed gain.
            let bytes: usize = lowered.iter().map(Vec::len).sum();
            let double = (bytes > DFA_MAX_BYTES)
                .then(|| {
                    DoubleArrayAhoCorasick::with_values(
                        lowered.iter().zip(0u32..).map(|(p, v)| (p.as_slice(), v)),
                    )
                    .ok()
                })
                .flatten()
                .map(Automaton::DoubleArray);
            let automaton = double.or_else(|| {
                // A full DFA when asked: one table lookup per byte.
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(AcMatchKind::Standard)
                    .kind(dfa.then_some(AhoCorasickKind::DFA))
                    .build(&lowered)
                    .or_else(|_| {
                        AhoCorasickBuilder::new()
                            .ascii_case_insensitive(true)
                            .match_kind(AcMatchKind::Standard)
                            .build(&lowered)
                    })
                    .ok()
                    .map(Automaton::Folding)
            });
            (automaton, ac_ids)
        };
        Matcher {
            automaton,
            ac_ids,
            literals,
            #[cfg(feature = "hyperscan")]
            hs,
        }
    }

    /// Pushes the ids of the patterns found in `hay` (with repeats).
    fn find(&self, hay: &[u8], pids: &mut Vec<u32>) {
        #[cfg(feature = "hyperscan")]
        if let Some(hs) = &self.hs {
            let before = pids.len();
            if hs.scan(hay, pids) {
                self.find_literals(hay, pids);
                return;
            }
            pids.truncate(before);
        }
        // Runs of the same pattern are common (a pattern repeated in the
        // payload); the obvious repeats are skipped before sorting.
        let mut last = u32::MAX;
        let mut found = |i: u32| {
            if i != last {
                if let Some(ids) = self.ac_ids.get(i as usize) {
                    pids.extend_from_slice(ids);
                }
                last = i;
            }
        };
        match &self.automaton {
            Some(Automaton::DoubleArray(da)) => LOWERED.with(|cell| {
                let mut low = cell.borrow_mut();
                low.clear();
                low.extend_from_slice(hay);
                low.make_ascii_lowercase();
                for m in da.find_overlapping_iter(low.as_slice()) {
                    found(m.value());
                }
            }),
            Some(Automaton::Folding(ac)) => {
                for m in ac.find_overlapping_iter(hay) {
                    found(m.pattern().as_u32());
                }
            }
            None => {}
        }
        self.find_literals(hay, pids);
    }

    /// Pushes the ids of the dense patterns that occur in `hay`.
    fn find_literals(&self, hay: &[u8], pids: &mut Vec<u32>) {
        for (finder, id) in &self.literals {
            if finder.find(hay).is_some() {
                pids.push(*id);
            }
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
        self.full.find(hay, pids);
        if let Some((len, head)) = &self.head {
            head.find(hay.get(..*len).unwrap_or(hay), pids);
        }
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
    use std::cell::RefCell;
    use std::fmt::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    use hyperscan::prelude::{
        BlockDatabase, Builder as _, CompileFlags, Matching, Pattern, Patterns, Scratch,
    };

    /// One scratch space grown to fit every database built so far. Each
    /// thread scans with its own clone of it: a scan takes no lock (a mutex
    /// per database cost a lock per scanned buffer and serialised workers
    /// sharing a database), and there is one scratch space per thread
    /// instead of one per database.
    static PROTOTYPE: Mutex<Option<Scratch>> = Mutex::new(None);
    /// Bumped whenever `PROTOTYPE` grows, so that threads re-clone it.
    static GENERATION: AtomicU64 = AtomicU64::new(0);

    thread_local! {
        /// This thread's clone of `PROTOTYPE` and the generation it has.
        static LOCAL: RefCell<Option<(u64, Scratch)>> = const { RefCell::new(None) };
    }

    /// A compiled database (its scratch space is the thread's, above).
    pub(super) struct HsPrefilter {
        db: BlockDatabase,
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
            // The shared scratch must fit this database before any thread
            // scans it.
            let mut proto = PROTOTYPE.lock().ok()?;
            match proto.as_mut() {
                Some(scratch) => {
                    db.realloc_scratch(scratch).ok()?;
                }
                None => *proto = Some(db.alloc_scratch().ok()?),
            }
            GENERATION.fetch_add(1, Ordering::AcqRel);
            Some(HsPrefilter { db })
        }

        /// Pushes the ids of the patterns found in `hay`; `false` when the
        /// scan could not run (the caller falls back to Aho-Corasick).
        pub(super) fn scan(&self, hay: &[u8], pids: &mut Vec<u32>) -> bool {
            let generation = GENERATION.load(Ordering::Acquire);
            LOCAL.with(|cell| {
                let Ok(mut local) = cell.try_borrow_mut() else {
                    return false;
                };
                if local.as_ref().map(|(g, _)| *g) != Some(generation) {
                    let Ok(proto) = PROTOTYPE.lock() else {
                        return false;
                    };
                    let Some(scratch) = proto.as_ref() else {
                        return false;
                    };
                    // Read under the lock: the clone has every growth
                    // counted up to this generation.
                    *local = Some((GENERATION.load(Ordering::Acquire), scratch.clone()));
                }
                let Some((_, scratch)) = local.as_ref() else {
                    return false;
                };
                self.db
                    .scan(hay, scratch, |id, _, _, _| {
                        pids.push(id);
                        Matching::Continue
                    })
                    .is_ok()
            })
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
            b.add(p, false, None, *s);
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
    fn threads_scan_shared_prefilters_built_before_and_after_they_started() {
        // Each thread scans with its own scratch space (Hyperscan); a
        // database built after a thread's first scan still scans there.
        let small = std::sync::Arc::new(build(&[(b"abc", 1), (b"xyz", 2)]));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let small = small.clone();
                std::thread::spawn(move || {
                    let first = scan(&small, b"--abc--");
                    let many: Vec<(Vec<u8>, u32)> = (0..2000u32)
                        .map(|i| (format!("pattern-{i}-{}", i * 7).into_bytes(), i + 10))
                        .collect();
                    let refs: Vec<(&[u8], u32)> =
                        many.iter().map(|(p, s)| (p.as_slice(), *s)).collect();
                    let big = build(&refs);
                    let second = scan(&big, b"..pattern-1999-13993..pattern-5-35");
                    (first, second, scan(&small, b"xyz"))
                })
            })
            .collect();
        for w in workers {
            let (first, second, third) = w.join().unwrap();
            assert_eq!(first, vec![1]);
            assert_eq!(second, vec![15, 2009]);
            assert_eq!(third, vec![2]);
        }
    }

    #[test]
    fn finds_overlapping_and_case_folded_patterns() {
        let pf = build(&[(b"abc", 1), (b"bcd", 2), (b"GET /", 3), (b"zzz", 4)]);
        assert_eq!(scan(&pf, b"xxabcdyy GET /x"), vec![1, 2, 3]);
    }

    /// A set past `DFA_MAX_BYTES` takes the double array: overlapping
    /// matches, case folding, and patterns differing only in case (one
    /// automaton entry, both signatures) behave as with the DFA.
    #[test]
    #[cfg(not(feature = "hyperscan"))]
    fn large_sets_use_the_double_array_with_the_same_results() {
        let words: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| format!("pattern-{i:05}-x").into_bytes())
            .collect();
        let mut b = PrefilterBuilder::default();
        for (i, w) in (0u32..).zip(&words) {
            b.add(w, false, None, i);
        }
        b.add(b"PATTERN-00007-X", true, None, 5000);
        b.add(b"n-00012-x", false, None, 5001);
        let pf = b.build();
        assert!(matches!(pf.full.automaton, Some(Automaton::DoubleArray(_))));
        let hay = b"..PaTtErN-00007-X..pattern-00012-x..pattern-02999-";
        assert_eq!(scan(&pf, hay), vec![7, 12, 5000, 5001]);
        assert_eq!(scan(&pf, b"no match"), Vec::<u32>::new());
        let small = build(&[(b"abc", 1)]);
        assert!(matches!(small.full.automaton, Some(Automaton::Folding(_))));
    }

    #[test]
    fn dense_patterns_are_found_once_by_memmem() {
        let pf = build(&[(b"\0\0\0\0", 1), (b"\x01\x00", 2), (b"\0", 3), (b"ab\0", 4)]);
        assert_eq!(pf.full.literals.len(), 2);
        let zeros = vec![0u8; 4096];
        assert_eq!(scan(&pf, &zeros), vec![1, 3]);
        assert_eq!(scan(&pf, b"xx\x01\x00ab\0"), vec![2, 3, 4]);
        assert_eq!(scan(&pf, b"nothing here"), Vec::<u32>::new());
    }

    #[test]
    fn anchored_patterns_are_looked_for_in_the_head_only() {
        let mut b = PrefilterBuilder::default();
        b.add(b"SMB", false, Some(8), 1);
        b.add(b"GET", false, None, 2);
        let pf = b.build();
        assert!(pf.head.is_some());
        assert_eq!(scan(&pf, b"\0\0\0\0\xffSMB GET"), vec![1, 2]);
        let mut late = vec![b'x'; 100];
        late.extend_from_slice(b"SMB");
        assert_eq!(scan(&pf, &late), Vec::<u32>::new());
    }

    #[test]
    fn a_pattern_shared_with_an_unanchored_rule_is_searched_everywhere() {
        let mut b = PrefilterBuilder::default();
        b.add(b"SMB", false, Some(8), 1);
        b.add(b"SMB", false, None, 2);
        let pf = b.build();
        let mut late = vec![b'x'; 100];
        late.extend_from_slice(b"SMB");
        assert_eq!(scan(&pf, &late), vec![1, 2]);
    }

    #[test]
    fn signatures_sharing_a_pattern_are_all_returned() {
        let pf = build(&[(b"evil", 7), (b"evil", 9)]);
        assert_eq!(pf.pattern_count(), 1);
        assert_eq!(scan(&pf, b"an evil evil payload"), vec![7, 9]);
    }
}
