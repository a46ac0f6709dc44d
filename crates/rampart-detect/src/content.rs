//! Literal pattern search with the positional constraints of rule
//! `content` keywords.

use memchr::memmem;

/// A literal pattern, searched case-sensitively or not.
///
/// Case-insensitive search lowercases the pattern once at compile time and
/// compares ASCII-case-folded bytes, so no per-buffer copy is made (rule
/// matching must not allocate per packet).
#[derive(Clone, Debug)]
pub struct Literal {
    pattern: Vec<u8>,
    nocase: bool,
    finder: memmem::Finder<'static>,
}

impl Literal {
    /// Compiles a pattern.
    pub fn new(pattern: &[u8], nocase: bool) -> Literal {
        let pattern = if nocase {
            pattern.to_ascii_lowercase()
        } else {
            pattern.to_vec()
        };
        let finder = memmem::Finder::new(&pattern).into_owned();
        Literal {
            pattern,
            nocase,
            finder,
        }
    }

    /// The pattern bytes (lowercased when case-insensitive).
    pub fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    /// Length of the pattern.
    pub fn len(&self) -> usize {
        self.pattern.len()
    }

    /// True for an empty pattern (which matches everywhere).
    pub fn is_empty(&self) -> bool {
        self.pattern.is_empty()
    }

    /// Whether the search ignores ASCII case.
    pub fn nocase(&self) -> bool {
        self.nocase
    }

    /// Whether the pattern occurs at exactly `at` in `hay`.
    pub fn matches_at(&self, hay: &[u8], at: usize) -> bool {
        let Some(end) = at.checked_add(self.pattern.len()) else {
            return false;
        };
        match hay.get(at..end) {
            Some(window) if self.nocase => window.eq_ignore_ascii_case(&self.pattern),
            Some(window) => window == self.pattern.as_slice(),
            None => false,
        }
    }

    /// The first occurrence starting at or after `from` and ending at or
    /// before `until`, as (start, end).
    pub fn find_in(&self, hay: &[u8], from: usize, until: usize) -> Option<(usize, usize)> {
        let until = until.min(hay.len());
        if from > until || until - from < self.pattern.len() {
            return None;
        }
        let window = hay.get(from..until)?;
        let at = if self.nocase {
            find_nocase(window, &self.pattern)
        } else {
            self.finder.find(window)
        }?;
        Some((from + at, from + at + self.pattern.len()))
    }
}

/// Case-insensitive search for an already-lowercased needle: scan for
/// either case of the first byte with memchr2, then compare the rest.
fn find_nocase(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len().checked_sub(needle.len())?;
    let candidates = hay.get(..=last_start)?;
    for pos in memchr::memchr2_iter(first, upper, candidates) {
        let tail = hay.get(pos + 1..pos + needle.len())?;
        if tail.eq_ignore_ascii_case(rest) {
            return Some(pos);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn case_sensitive_and_insensitive() {
        let l = Literal::new(b"GET", false);
        assert_eq!(l.find_in(b"xx GET /", 0, 8), Some((3, 6)));
        assert_eq!(l.find_in(b"xx get /", 0, 8), None);
        let l = Literal::new(b"GeT", true);
        assert_eq!(l.find_in(b"xx gEt /", 0, 8), Some((3, 6)));
        assert!(l.matches_at(b"xx GET", 3));
        assert!(!l.matches_at(b"xx GET", 4));
    }

    #[test]
    fn window_bounds() {
        let l = Literal::new(b"ab", false);
        let hay = b"abxxab";
        assert_eq!(l.find_in(hay, 1, 6), Some((4, 6)));
        assert_eq!(l.find_in(hay, 1, 5), None);
        assert_eq!(l.find_in(hay, 0, 100), Some((0, 2)));
        assert_eq!(l.find_in(hay, 7, 3), None);
    }

    proptest::proptest! {
        #[test]
        fn nocase_agrees_with_lowercased_search(hay in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
                                                 needle in proptest::collection::vec(proptest::num::u8::ANY, 1..4)) {
            let l = Literal::new(&needle, true);
            let lh = hay.to_ascii_lowercase();
            let want = memmem::find(&lh, &needle.to_ascii_lowercase());
            proptest::prop_assert_eq!(l.find_in(&hay, 0, hay.len()).map(|x| x.0), want);
        }
    }
}
