//! Rule `pcre` matching with a bounded amount of backtracking.
//!
//! PCRE2 itself (the library Suricata uses) gives the closest semantics to
//! the rules people already have. A hostile payload must not be able to
//! stall the engine with catastrophic backtracking, so every pattern is
//! compiled with PCRE2's in-pattern `(*LIMIT_MATCH=n)` setting: the safe
//! `pcre2` crate does not expose the match-limit API, and this start-of-
//! pattern option sets the same limit (honoured by the JIT too) without any
//! unsafe code here. A search that hits the limit reports
//! [`PcreOutcome::LimitHit`]; the caller counts it and treats it as no
//! match, as Suricata does.

use std::sync::OnceLock;

use thiserror::Error;

/// Default backtracking budget per search (Suricata's `pcre.match-limit`
/// default is 3500; PCRE2's own default is ten million).
pub const DEFAULT_MATCH_LIMIT: u32 = 3500;

/// Pattern flags from the rule (the part after the closing `/`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PcreFlags {
    /// `i`: case-insensitive.
    pub caseless: bool,
    /// `s`: `.` matches newlines.
    pub dotall: bool,
    /// `m`: `^` and `$` match at line boundaries.
    pub multiline: bool,
    /// `x`: extended syntax (whitespace and comments ignored).
    pub extended: bool,
    /// `A`: anchored at the search start.
    pub anchored: bool,
    /// `G`: quantifiers are lazy by default.
    pub ungreedy: bool,
}

/// Why a pattern could not be compiled.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid pcre /{pattern}/: {message}")]
pub struct PcreError {
    /// The pattern as written in the rule.
    pub pattern: String,
    /// PCRE2's message.
    pub message: String,
}

/// The result of one search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcreOutcome {
    /// A match at (start, end).
    Match(usize, usize),
    /// No match.
    NoMatch,
    /// The backtracking budget ran out before an answer.
    LimitHit,
}

/// A compiled rule pattern.
///
/// The pattern is compiled without JIT when the rules load (that checks
/// it, and is all most of a large ruleset ever needs: the prefilter keeps
/// most rules from reaching their `pcre`), and JIT-compiled the first
/// time it runs. JIT-compiling all 4,330 ET Open patterns up front took
/// 0.3 s of a 1 s load.
#[derive(Debug)]
pub struct PcreMatcher {
    regex: pcre2::bytes::Regex,
    /// The JIT-compiled twin, built on first use (`None` when JIT is
    /// unavailable or fails: the interpreter serves).
    jit: OnceLock<Option<pcre2::bytes::Regex>>,
    /// The full pattern and flags, to build [`PcreMatcher::jit`].
    full: String,
    flags: PcreFlags,
}

impl PcreMatcher {
    /// Compiles `pattern` with `flags` and a backtracking budget.
    pub fn new(pattern: &str, flags: PcreFlags, match_limit: u32) -> Result<Self, PcreError> {
        let mut full = format!("(*LIMIT_MATCH={match_limit})");
        if flags.ungreedy {
            full.push_str("(?U)");
        }
        if flags.anchored {
            full.push_str("\\G(?:");
            full.push_str(pattern);
            full.push(')');
        } else {
            full.push_str(pattern);
        }
        let regex = build(&full, flags, false).map_err(|e| PcreError {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })?;
        Ok(PcreMatcher {
            regex,
            jit: OnceLock::new(),
            full,
            flags,
        })
    }

    /// The regex to search with: the JIT one once built.
    fn regex(&self) -> &pcre2::bytes::Regex {
        self.jit
            .get_or_init(|| build(&self.full, self.flags, true).ok())
            .as_ref()
            .unwrap_or(&self.regex)
    }

    /// Searches `buf[start..]` as its own subject (as Suricata does for
    /// relative matches, so `^` anchors at `start`); positions returned are
    /// in `buf`.
    pub fn find_at(&self, buf: &[u8], start: usize) -> PcreOutcome {
        let Some(subject) = buf.get(start..) else {
            return PcreOutcome::NoMatch;
        };
        match self.regex().find(subject) {
            Ok(Some(m)) => PcreOutcome::Match(start + m.start(), start + m.end()),
            Ok(None) => PcreOutcome::NoMatch,
            Err(_) => PcreOutcome::LimitHit,
        }
    }
}

/// Compiles a full pattern (limit and anchoring already written in).
fn build(full: &str, flags: PcreFlags, jit: bool) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    pcre2::bytes::RegexBuilder::new()
        .caseless(flags.caseless)
        .dotall(flags.dotall)
        .multi_line(flags.multiline)
        .extended(flags.extended)
        .utf(false)
        .ucp(false)
        .jit_if_available(jit)
        .build(full)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_positions() {
        let m = PcreMatcher::new(
            "get\\s+/",
            PcreFlags {
                caseless: true,
                ..Default::default()
            },
            3500,
        )
        .unwrap();
        assert_eq!(m.find_at(b"xx GET  /a", 0), PcreOutcome::Match(3, 9));
        assert_eq!(m.find_at(b"xx GET  /a", 4), PcreOutcome::NoMatch);
        let caret = PcreMatcher::new("^b", PcreFlags::default(), 3500).unwrap();
        assert_eq!(caret.find_at(b"ab", 1), PcreOutcome::Match(1, 2));
        let a = PcreMatcher::new(
            "ab",
            PcreFlags {
                anchored: true,
                ..Default::default()
            },
            3500,
        )
        .unwrap();
        assert_eq!(a.find_at(b"xab", 0), PcreOutcome::NoMatch);
        assert_eq!(a.find_at(b"xab", 1), PcreOutcome::Match(1, 3));
        // Binary escapes match raw bytes, not UTF-8 code points.
        let b = PcreMatcher::new("\\x80\\xff", PcreFlags::default(), 3500).unwrap();
        assert_eq!(b.find_at(&[0, 0x80, 0xff], 0), PcreOutcome::Match(1, 3));
    }

    #[test]
    fn catastrophic_backtracking_is_bounded() {
        let m = PcreMatcher::new("^(a+)+$", PcreFlags::default(), 3500).unwrap();
        let mut hostile = vec![b'a'; 64];
        hostile.push(b'!');
        // Without the limit this search takes 2^64 steps; with it, PCRE2
        // gives up and says so.
        assert_eq!(m.find_at(&hostile, 0), PcreOutcome::LimitHit);
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = PcreMatcher::new("(unclosed", PcreFlags::default(), 3500).unwrap_err();
        assert!(e.to_string().contains("(unclosed"));
    }
}
