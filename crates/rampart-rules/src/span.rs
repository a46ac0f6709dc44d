//! Source positions.

/// Where something sits in the text handed to [`crate::parse_rules`].
///
/// Every AST node that a user may need pointed at (the rule, its header
/// fields, each detection keyword) carries one, so the detection engine can
/// report "this keyword of this rule" problems with exact positions and
/// tools can underline the offending text. `start..end` is a byte range into
/// the original source (continuation lines included, so it may span several
/// physical lines); `line` and `column` locate `start` and are 1-based, the
/// column counted in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte in the source.
    pub start: usize,
    /// Byte offset one past the last byte in the source.
    pub end: usize,
    /// 1-based line number of `start`.
    pub line: u32,
    /// 1-based column (in bytes) of `start` within its line.
    pub column: u32,
}

impl Span {
    /// The byte range, for slicing the source the span was made from.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// The text this span covers, if `source` is the text it was made from.
    pub fn text<'a>(&self, source: &'a str) -> Option<&'a str> {
        source.get(self.start..self.end)
    }
}

/// One piece of a logical (possibly continued) rule: logical bytes from
/// `logical` on come from source bytes from `source` on, on line `line`
/// that starts at source byte `line_start`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub logical: usize,
    pub source: usize,
    pub line: u32,
    pub line_start: usize,
}

/// Maps offsets in a logical rule (continuation lines joined) back to the
/// source. Single-line rules have exactly one segment.
#[derive(Debug, Clone)]
pub(crate) struct Locator {
    /// Segments of a continued rule; empty for the common single line.
    segments: Vec<Segment>,
    /// The only segment of a single-line rule.
    single: Segment,
}

impl Locator {
    pub(crate) fn new(segments: Vec<Segment>) -> Self {
        let single = segments.first().copied().unwrap_or(Segment {
            logical: 0,
            source: 0,
            line: 1,
            line_start: 0,
        });
        if segments.len() <= 1 {
            return Locator::single(single);
        }
        Locator { segments, single }
    }

    /// A single-line rule (no allocation).
    pub(crate) fn single(seg: Segment) -> Self {
        Locator {
            segments: Vec::new(),
            single: seg,
        }
    }

    /// A locator for text that is its own source (offset 0, line 1).
    pub(crate) fn standalone() -> Self {
        Locator::single(Segment {
            logical: 0,
            source: 0,
            line: 1,
            line_start: 0,
        })
    }

    fn segment(&self, logical: usize) -> Segment {
        if self.segments.is_empty() {
            return self.single;
        }
        // Last segment whose logical start is <= offset.
        let idx = self
            .segments
            .partition_point(|s| s.logical <= logical)
            .saturating_sub(1);
        self.segments.get(idx).copied().unwrap_or(self.single)
    }

    fn source_offset(&self, logical: usize) -> usize {
        let seg = self.segment(logical);
        seg.source + (logical - seg.logical.min(logical))
    }

    /// The span of logical byte range `start..end`.
    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        let seg = self.segment(start);
        let src_start = seg.source + (start - seg.logical.min(start));
        let src_end = if end > start {
            self.source_offset(end - 1) + 1
        } else {
            src_start
        };
        let column = src_start.saturating_sub(seg.line_start) + 1;
        Span {
            start: src_start,
            end: src_end,
            line: seg.line,
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}
