//! `content`, its modifiers, and Snort 2 content modifiers.

use crate::ast::{Content, FastPattern, MatchKind};
use crate::buffer::{Buffer, BufferRef};
use crate::error::{conflict, invalid, Problem};
use crate::num::{parse_int, NumOrVar};

use super::options::Builder;

/// Strips surrounding quotes (mandatory) and an optional leading `!`.
/// Returns (negated, inner text, offset of inner text within `value`).
pub(crate) fn quoted_negatable<'a>(
    value: &'a str,
    what: &str,
) -> Result<(bool, &'a str, usize), Problem> {
    let (negated, rest, off) = match value.strip_prefix('!') {
        Some(r) => {
            let lead = r.len() - r.trim_start().len();
            (true, r.trim_start(), 1 + lead)
        }
        None => (false, value, 0),
    };
    let (inner, off) = quoted(rest, what).map(|(s, o)| (s, o + off))?;
    Ok((negated, inner, off))
}

/// Strips mandatory surrounding double quotes.
pub(crate) fn quoted<'a>(value: &'a str, what: &str) -> Result<(&'a str, usize), Problem> {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|_| value.len() >= 2);
    match inner {
        Some(s) if !s.ends_with('\\') || s.ends_with("\\\\") => Ok((s, 1)),
        _ => Err(invalid(format!("{what} must be enclosed in double quotes"))),
    }
}

/// Strips surrounding double quotes if present.
pub(crate) fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// Decodes a content string: `|hex|` blocks and `\"`, `\;`, `\:`, `\\`
/// escapes. Problem ranges are relative to `s`.
pub(crate) fn decode_pattern(s: &str) -> Result<Vec<u8>, Problem> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut hex_start: Option<usize> = None;
    let mut nibble: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        if let Some(hs) = hex_start {
            match b {
                b'|' => {
                    if nibble.is_some() {
                        return Err(invalid("odd number of hex digits in |...|").at(hs, i + 1));
                    }
                    hex_start = None;
                }
                b' ' | b'\t' => {}
                _ => {
                    let Some(v) = (b as char).to_digit(16) else {
                        let c = s.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
                        return Err(invalid(format!("invalid character {c:?} in hex block"))
                            .at(i, i + c.len_utf8()));
                    };
                    let v = u8::try_from(v).unwrap_or(0);
                    match nibble.take() {
                        Some(hi) => out.push(hi << 4 | v),
                        None => nibble = Some(v),
                    }
                }
            }
            i += 1;
            continue;
        }
        match b {
            b'|' => hex_start = Some(i),
            b'\\' => {
                match bytes.get(i + 1) {
                    Some(&c @ (b'"' | b';' | b':' | b'\\')) => out.push(c),
                    Some(_) => {
                        let c = s.get(i + 1..).and_then(|r| r.chars().next()).unwrap_or('?');
                        return Err(invalid(format!(
                            "'\\{c}' is not a valid escape (only \\\" \\; \\: \\\\)"
                        ))
                        .at(i, i + 1 + c.len_utf8()));
                    }
                    None => return Err(invalid("dangling backslash").at(i, i + 1)),
                }
                i += 1;
            }
            b'"' => {
                return Err(
                    invalid("unescaped double quote inside content (use \\\" or |22|)")
                        .at(i, i + 1),
                )
            }
            _ => out.push(b),
        }
        i += 1;
    }
    if let Some(hs) = hex_start {
        return Err(invalid("unterminated |hex| block").at(hs, bytes.len()));
    }
    if out.is_empty() {
        return Err(invalid("empty content"));
    }
    Ok(out)
}

/// Unescapes `msg`-like strings: `\x` becomes `x` for any `x`.
pub(crate) fn unescape_text(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Builder<'_> {
    /// `content:[!]"..."` into the active buffer (or `buffer` when given).
    pub(super) fn content(
        &mut self,
        value: &str,
        buffer: Option<Buffer>,
        full: (usize, usize),
    ) -> Result<(), Problem> {
        let (negated, inner, off) = quoted_negatable(value, "content")?;
        let pattern = decode_pattern(inner).map_err(|p| p.shift(off))?;
        let buffer = match buffer {
            Some(b) => BufferRef::plain(b),
            None => self.active_buffer(),
        };
        let c = Content {
            buffer,
            pattern,
            negated,
            nocase: false,
            rawbytes: false,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            startswith: false,
            endswith: false,
            fast_pattern: None,
        };
        let idx = self.push(MatchKind::Content(c), full);
        self.last_content = Some(idx);
        Ok(())
    }

    fn last_content_mut(&mut self, kw: &str) -> Result<&mut Content, Problem> {
        let idx = self
            .last_content
            .ok_or_else(|| conflict(format!("{kw} needs a preceding content")))?;
        match self.matches.get_mut(idx).map(|m| &mut m.kind) {
            Some(MatchKind::Content(c)) => Ok(c),
            _ => Err(conflict(format!("{kw} needs a preceding content"))),
        }
    }

    /// `nocase`, `rawbytes`, `startswith`, `endswith`, `depth`, `offset`,
    /// `distance`, `within`, `fast_pattern`.
    pub(super) fn content_modifier(
        &mut self,
        kw: &str,
        value: Option<&str>,
    ) -> Result<(), Problem> {
        const REL_ABS: &str = "can't use a relative keyword (distance/within) together with an absolute one (depth/offset/startswith) on the same content";
        // Variables must be checked before borrowing the content mutably.
        let var_ok = |b: &Self, v: &NumOrVar<i64>| -> Result<(), Problem> {
            if let NumOrVar::Var(name) = v {
                b.check_var(name)?;
            }
            Ok(())
        };
        match kw {
            "nocase" | "rawbytes" | "startswith" | "endswith" => {
                if value.is_some() {
                    return Err(invalid(format!("{kw} takes no value")));
                }
                let c = self.last_content_mut(kw)?;
                let flag = match kw {
                    "nocase" => &mut c.nocase,
                    "rawbytes" => &mut c.rawbytes,
                    "startswith" => {
                        if c.depth.is_some() {
                            return Err(conflict("can't use startswith together with depth"));
                        }
                        if c.offset.is_some() {
                            return Err(conflict("can't mix offset with startswith"));
                        }
                        if c.is_relative() {
                            return Err(conflict(REL_ABS));
                        }
                        &mut c.startswith
                    }
                    _ => &mut c.endswith,
                };
                if *flag && kw != "endswith" {
                    return Err(conflict(format!("{kw} given twice for the same content")));
                }
                *flag = true;
                Ok(())
            }
            "depth" | "offset" | "distance" | "within" => {
                let v = value.ok_or_else(|| invalid(format!("{kw} needs a value")))?;
                let parsed = parse_offset_value(v, kw)?;
                var_ok(self, &parsed)?;
                if matches!(kw, "distance" | "within") {
                    self.check_relative_after_fp_only()?;
                }
                let c = self.last_content_mut(kw)?;
                let len = i64::try_from(c.pattern.len()).unwrap_or(i64::MAX);
                match kw {
                    "depth" | "offset" => {
                        if c.is_relative() {
                            return Err(conflict(REL_ABS));
                        }
                        let n = match &parsed {
                            NumOrVar::Num(n) => {
                                let n = u16::try_from(*n).map_err(|_| {
                                    invalid(format!("{kw} must be between 0 and 65535"))
                                })?;
                                NumOrVar::Num(u32::from(n))
                            }
                            NumOrVar::Var(s) => NumOrVar::Var(s.clone()),
                        };
                        if kw == "depth" {
                            if c.depth.is_some() || c.startswith {
                                return Err(conflict(
                                    "depth given twice (or with startswith) for the same content",
                                ));
                            }
                            if let NumOrVar::Num(d) = n {
                                if i64::from(d) < len {
                                    return Err(invalid(format!(
                                        "depth {d} is smaller than the content length {len}"
                                    )));
                                }
                            }
                            c.depth = Some(n);
                        } else {
                            if c.offset.is_some() {
                                return Err(conflict("offset given twice for the same content"));
                            }
                            if c.startswith {
                                return Err(conflict("can't mix offset with startswith"));
                            }
                            c.offset = Some(n);
                        }
                    }
                    _ => {
                        if c.depth.is_some() || c.offset.is_some() || c.startswith {
                            return Err(conflict(REL_ABS));
                        }
                        let n = match &parsed {
                            NumOrVar::Num(n) => NumOrVar::Num(
                                i32::try_from(*n)
                                    .map_err(|_| invalid(format!("{kw} is out of range")))?,
                            ),
                            NumOrVar::Var(s) => NumOrVar::Var(s.clone()),
                        };
                        if kw == "within" {
                            if c.within.is_some() {
                                return Err(conflict("within given twice for the same content"));
                            }
                            if let NumOrVar::Num(w) = n {
                                if i64::from(w) < len {
                                    return Err(invalid(format!(
                                        "within {w} is smaller than the content length {len}"
                                    )));
                                }
                            }
                            c.within = Some(n);
                        } else {
                            if c.distance.is_some() {
                                return Err(conflict("distance given twice for the same content"));
                            }
                            c.distance = Some(n);
                        }
                    }
                }
                Ok(())
            }
            _ => {
                // fast_pattern
                let fp = parse_fast_pattern(value)?;
                let already = self.fast_pattern_seen;
                let c = self.last_content_mut(kw)?;
                if c.fast_pattern.is_some() {
                    return Err(conflict("fast_pattern given twice for the same content"));
                }
                if already {
                    return Err(conflict(
                        "fast_pattern can be used on only one content in a rule",
                    ));
                }
                let positioned =
                    c.offset.is_some() || c.depth.is_some() || c.is_relative() || c.startswith;
                if c.negated && positioned {
                    return Err(conflict(
                        "fast_pattern can't be used on negated content with offset, depth, distance or within",
                    ));
                }
                if let Some((off, len)) = fp.chop {
                    let end = usize::from(off) + usize::from(len);
                    if len == 0 || end > c.pattern.len() {
                        return Err(invalid(format!(
                            "fast_pattern {off},{len} is outside the content (length {})",
                            c.pattern.len()
                        )));
                    }
                }
                c.fast_pattern = Some(fp);
                self.fast_pattern_seen = true;
                Ok(())
            }
        }
    }

    /// Suricata refuses relative keywords next to a `fast_pattern:only`
    /// content: the previous content or pcre in the same buffer (as it is
    /// at this point of the rule) must not be one.
    fn check_relative_after_fp_only(&self) -> Result<(), Problem> {
        let Some(idx) = self.last_content else {
            return Ok(());
        };
        let Some(MatchKind::Content(cur)) = self.matches.get(idx).map(|m| &m.kind) else {
            return Ok(());
        };
        let prev = self
            .matches
            .get(..idx)
            .unwrap_or(&[])
            .iter()
            .rev()
            .find_map(|m| match &m.kind {
                MatchKind::Content(c) if c.buffer == cur.buffer => Some(Some(c)),
                MatchKind::Pcre(p) if p.buffer == cur.buffer => Some(None),
                _ => None,
            });
        if let Some(Some(prev)) = prev {
            if prev.fast_pattern.is_some_and(|f| f.only) {
                return Err(conflict(
                    "previous content has fast_pattern:only; relative keywords can't be used next to a fast_pattern:only content",
                ));
            }
        }
        Ok(())
    }

    /// A Snort 2 content modifier (`http_uri`, ...): moves the last payload
    /// content to `buffer`.
    pub(super) fn snort_modifier(
        &mut self,
        kw: &str,
        buffer: Buffer,
        value: Option<&str>,
    ) -> Result<(), Problem> {
        if value.is_some() {
            return Err(invalid(format!("{kw} takes no value")));
        }
        if let Some(active) = &self.sticky {
            return Err(conflict(format!(
                "{kw} seen while sticky buffer {} is still set; reset it with pkt_data or use the sticky buffer {}",
                active.buffer,
                buffer.name()
            )));
        }
        let found = self
            .matches
            .iter_mut()
            .rev()
            .find_map(|m| match &mut m.kind {
                MatchKind::Content(c) if c.buffer.is_payload() => Some(c),
                _ => None,
            });
        let Some(c) = found else {
            return Err(conflict(format!("{kw} needs a preceding content")));
        };
        if c.rawbytes {
            return Err(conflict(format!("{kw} can't be used with rawbytes")));
        }
        c.buffer = BufferRef::plain(buffer);
        Ok(())
    }
}

/// `offset`/`depth`/`distance`/`within` value: a signed number or a
/// variable name.
fn parse_offset_value(v: &str, kw: &str) -> Result<NumOrVar<i64>, Problem> {
    let t = v.trim();
    if crate::num::is_var_name(t) {
        return Ok(NumOrVar::Var(t.to_string()));
    }
    let n: i64 = parse_int(t, kw)?;
    if n < 0 && matches!(kw, "depth" | "offset") {
        return Err(invalid(format!("{kw} can't be negative")));
    }
    if kw == "depth" && n == 0 {
        return Err(invalid("depth must be greater than 0"));
    }
    Ok(NumOrVar::Num(n))
}

fn parse_fast_pattern(value: Option<&str>) -> Result<FastPattern, Problem> {
    let Some(v) = value.map(str::trim) else {
        return Ok(FastPattern::default());
    };
    if v == "only" {
        return Ok(FastPattern {
            only: true,
            chop: None,
        });
    }
    let Some((a, b)) = v.split_once(',') else {
        return Err(invalid(format!(
            "invalid fast_pattern value {v:?}; expected nothing, 'only' or 'offset,length'"
        )));
    };
    let off: u16 = parse_int(a, "fast_pattern offset")?;
    let len: u16 = parse_int(b, "fast_pattern length")?;
    Ok(FastPattern {
        only: false,
        chop: Some((off, len)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(decode_pattern("abc").ok(), Some(b"abc".to_vec()));
        assert_eq!(
            decode_pattern("|0d 0a|Host|3a 20|x").ok(),
            Some(b"\r\nHost: x".to_vec())
        );
        assert_eq!(decode_pattern("|0D0a|").ok(), Some(b"\r\n".to_vec()));
        assert_eq!(
            decode_pattern(r#"a\"b\;c\:d\\e"#).ok(),
            Some(b"a\"b;c:d\\e".to_vec())
        );
        assert!(decode_pattern(r"a\nb").is_err());
        assert!(decode_pattern("|0d 0|").is_err());
        assert!(decode_pattern("|0d 0a").is_err());
        assert!(decode_pattern("|zz|").is_err());
        assert!(decode_pattern("").is_err());
        let e = decode_pattern("ab|0g|").err().and_then(|p| p.range);
        assert_eq!(e, Some((4, 5)));
    }

    #[test]
    fn unescaped_quote() {
        assert!(decode_pattern("a\"b").is_err());
        assert!(decode_pattern("a\\\"b").is_ok());
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted_negatable("!\"x\"", "c").ok(), Some((true, "x", 2)));
        assert_eq!(quoted_negatable("! \"x\"", "c").ok(), Some((true, "x", 3)));
        assert!(quoted_negatable("x", "c").is_err());
        assert!(quoted_negatable("\"", "c").is_err());
        assert!(quoted_negatable("\"x\\\"", "c").is_err());
        assert_eq!(unescape_text(r#"a\"b\;c"#), "a\"b;c");
    }
}
