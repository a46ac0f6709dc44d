//! The one error type of this crate.

use std::fmt;

use crate::span::Span;

/// Why a rule or config line was rejected: a coarse category meant for
/// grouping and counting ("412 rules use keywords we do not support"), the
/// detail is in [`RuleError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The text does not have the shape of a rule or option list: missing
    /// parentheses, missing `;`, unterminated quotes, stray text.
    Syntax,
    /// The header (action, protocol, addresses, ports, direction) is wrong.
    InvalidHeader,
    /// A `$VARIABLE` (or a byte_extract/byte_math variable) is not defined.
    UndefinedVariable,
    /// The keyword is not a Suricata or Snort 2 keyword this crate knows.
    UnknownKeyword,
    /// The keyword exists in Suricata (or Snort) but this crate does not
    /// model it, so a rule using it cannot be evaluated faithfully.
    UnsupportedKeyword,
    /// A keyword's value is malformed or out of range.
    InvalidValue,
    /// Keywords that are fine alone but not together, or a modifier without
    /// the content it needs.
    Conflict,
    /// A mandatory option is missing (`sid`).
    MissingOption,
    /// Another rule of the set has the same `gid:sid`; the one with the
    /// higher `rev` was kept.
    DuplicateSid,
}

impl ErrorKind {
    /// A stable, lowercase name for reports and counters.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::InvalidHeader => "invalid-header",
            ErrorKind::UndefinedVariable => "undefined-variable",
            ErrorKind::UnknownKeyword => "unknown-keyword",
            ErrorKind::UnsupportedKeyword => "unsupported-keyword",
            ErrorKind::InvalidValue => "invalid-value",
            ErrorKind::Conflict => "conflict",
            ErrorKind::MissingOption => "missing-option",
            ErrorKind::DuplicateSid => "duplicate-sid",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A diagnostic for one rejected rule (or one bad line of a config file).
///
/// A broken rule never stops the others: [`crate::parse_rules`] collects
/// one of these per rejected rule and goes on. The fields are public so
/// callers can group (`kind`, `keyword`) and point (`file`, `line`,
/// `column`, `span`) without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// The file name the caller passed in (`"<rule>"` for [`crate::parse_rule`]).
    pub file: String,
    /// 1-based line of the problem.
    pub line: u32,
    /// 1-based byte column of the problem.
    pub column: u32,
    /// Exact source range of the problem.
    pub span: Span,
    /// The rule's `sid`, when it could be found despite the error.
    pub sid: Option<u32>,
    /// The keyword (or config directive) at fault, if any.
    pub keyword: Option<String>,
    /// The category, for grouping.
    pub kind: ErrorKind,
    /// A human-readable explanation.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(sid) = self.sid {
            write!(f, "sid {sid}: ")?;
        }
        if let Some(kw) = &self.keyword {
            write!(f, "{kw}: ")?;
        }
        write!(f, "{} ({})", self.message, self.kind)
    }
}

/// An error before it knows its file, sid and absolute position: what the
/// keyword parsers return. Offsets are relative to the logical rule text.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub kind: ErrorKind,
    pub keyword: Option<String>,
    pub message: String,
    /// Logical byte range of the problem, when the producer knew it.
    pub range: Option<(usize, usize)>,
}

impl Problem {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            keyword: None,
            message: message.into(),
            range: None,
        }
    }

    pub(crate) fn at(mut self, start: usize, end: usize) -> Self {
        self.range = Some((start, end));
        self
    }

    /// Sets the range unless one is already known.
    pub(crate) fn or_at(mut self, start: usize, end: usize) -> Self {
        if self.range.is_none() {
            self.range = Some((start, end));
        }
        self
    }

    /// Shifts a known range by `base` (for problems found in a substring).
    pub(crate) fn shift(mut self, base: usize) -> Self {
        if let Some((s, e)) = self.range {
            self.range = Some((s + base, e + base));
        }
        self
    }

    pub(crate) fn keyword(mut self, kw: &str) -> Self {
        if self.keyword.is_none() {
            self.keyword = Some(kw.to_string());
        }
        self
    }
}

/// Shorthand for an [`ErrorKind::InvalidValue`] problem.
pub(crate) fn invalid(message: impl Into<String>) -> Problem {
    Problem::new(ErrorKind::InvalidValue, message)
}

/// Shorthand for an [`ErrorKind::Conflict`] problem.
pub(crate) fn conflict(message: impl Into<String>) -> Problem {
    Problem::new(ErrorKind::Conflict, message)
}
