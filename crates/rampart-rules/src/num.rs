//! Numeric values and comparisons used by many keywords.

use std::fmt;
use std::str::FromStr;

use crate::error::{invalid, Problem};

/// An integer comparison, as written in `dsize`, `ttl`, `itype`, `bsize`,
/// `urilen`, ... (Suricata's unsigned-integer syntax).
///
/// Ranges are exclusive at both ends, as in Suricata: `dsize:10<>20` and
/// `ttl:10-20` match 11 to 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumCmp<T> {
    /// `N` or `=N`.
    Eq(T),
    /// `!N` or `!=N`.
    Ne(T),
    /// `<N`.
    Lt(T),
    /// `<=N`.
    Le(T),
    /// `>N`.
    Gt(T),
    /// `>=N`.
    Ge(T),
    /// `A<>B` or `A-B`: strictly between A and B.
    Range(T, T),
    /// `!A-B` or `!A<>B`: not strictly between A and B.
    NotRange(T, T),
}

impl<T: PartialOrd + Copy> NumCmp<T> {
    /// Whether `v` satisfies the comparison.
    pub fn matches(&self, v: T) -> bool {
        match *self {
            NumCmp::Eq(n) => v == n,
            NumCmp::Ne(n) => v != n,
            NumCmp::Lt(n) => v < n,
            NumCmp::Le(n) => v <= n,
            NumCmp::Gt(n) => v > n,
            NumCmp::Ge(n) => v >= n,
            NumCmp::Range(a, b) => v > a && v < b,
            NumCmp::NotRange(a, b) => !(v > a && v < b),
        }
    }
}

impl<T: fmt::Display> fmt::Display for NumCmp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumCmp::Eq(n) => write!(f, "{n}"),
            NumCmp::Ne(n) => write!(f, "!{n}"),
            NumCmp::Lt(n) => write!(f, "<{n}"),
            NumCmp::Le(n) => write!(f, "<={n}"),
            NumCmp::Gt(n) => write!(f, ">{n}"),
            NumCmp::Ge(n) => write!(f, ">={n}"),
            NumCmp::Range(a, b) => write!(f, "{a}<>{b}"),
            NumCmp::NotRange(a, b) => write!(f, "!{a}<>{b}"),
        }
    }
}

/// A number or the name of a `byte_extract` / `byte_math` variable, for
/// keyword fields that accept either (`distance:off`, `byte_test:...,val,...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumOrVar<T> {
    /// A literal.
    Num(T),
    /// A variable defined earlier in the rule by `byte_extract` or
    /// `byte_math` (checked by the parser).
    Var(String),
}

impl<T: Copy> NumOrVar<T> {
    /// The literal, if this is one.
    pub fn num(&self) -> Option<T> {
        match self {
            NumOrVar::Num(n) => Some(*n),
            NumOrVar::Var(_) => None,
        }
    }
}

impl<T: fmt::Display> fmt::Display for NumOrVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumOrVar::Num(n) => write!(f, "{n}"),
            NumOrVar::Var(v) => f.write_str(v),
        }
    }
}

/// Parses a decimal integer (with optional sign for signed types),
/// rejecting anything else.
pub(crate) fn parse_int<T: FromStr>(s: &str, what: &str) -> Result<T, Problem> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("{what}: {t:?} is not a number")));
    }
    t.parse::<T>()
        .map_err(|_| invalid(format!("{what}: {t:?} is out of range")))
}

/// Parses a decimal or `0x` hexadecimal unsigned integer.
pub(crate) fn parse_uint_any_base(s: &str, what: &str) -> Result<u64, Problem> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(format!("{what}: {t:?} is not a number")));
        }
        return u64::from_str_radix(hex, 16)
            .map_err(|_| invalid(format!("{what}: {t:?} is out of range")));
    }
    parse_int::<u64>(t, what)
}

/// Whether `s` looks like a variable name (letters, digits, `_`, `.`, `-`,
/// not starting with a digit or sign).
pub(crate) fn is_var_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Parses a number, or a variable name when the text is not numeric.
pub(crate) fn parse_num_or_var<T: FromStr>(s: &str, what: &str) -> Result<NumOrVar<T>, Problem> {
    let t = s.trim();
    if is_var_name(t) {
        return Ok(NumOrVar::Var(t.to_string()));
    }
    parse_int::<T>(t, what).map(NumOrVar::Num)
}

/// Parses Suricata's unsigned-integer comparison syntax.
pub(crate) fn parse_cmp<T: FromStr + PartialOrd + Copy>(
    s: &str,
    what: &str,
) -> Result<NumCmp<T>, Problem> {
    let t = s.trim();
    if t.is_empty() {
        return Err(invalid(format!("{what}: missing value")));
    }
    let num = |x: &str| parse_int::<T>(x, what);
    let range = |x: &str| -> Result<Option<(T, T)>, Problem> {
        let split = x.split_once("<>").or_else(|| {
            // `A-B`, but not a leading minus.
            x.get(1..)
                .and_then(|rest| rest.find('-'))
                .and_then(|i| Some((x.get(..=i)?, x.get(i + 2..)?)))
        });
        match split {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a >= b {
                    return Err(invalid(format!(
                        "{what}: range {x:?} must have its lower bound first"
                    )));
                }
                Ok(Some((a, b)))
            }
            None => Ok(None),
        }
    };
    if let Some(rest) = t.strip_prefix("<=") {
        return Ok(NumCmp::Le(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix(">=") {
        return Ok(NumCmp::Ge(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix("!=") {
        return Ok(NumCmp::Ne(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix('<') {
        return Ok(NumCmp::Lt(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix('>') {
        return Ok(NumCmp::Gt(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix('=') {
        return Ok(NumCmp::Eq(num(rest)?));
    }
    if let Some(rest) = t.strip_prefix('!') {
        let rest = rest.trim();
        if let Some((a, b)) = range(rest)? {
            return Ok(NumCmp::NotRange(a, b));
        }
        return Ok(NumCmp::Ne(num(rest)?));
    }
    if let Some((a, b)) = range(t)? {
        return Ok(NumCmp::Range(a, b));
    }
    Ok(NumCmp::Eq(num(t)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn comparisons() {
        assert_eq!(parse_cmp::<u16>("10", "x").ok(), Some(NumCmp::Eq(10)));
        assert_eq!(parse_cmp::<u16>(" >11", "x").ok(), Some(NumCmp::Gt(11)));
        assert_eq!(parse_cmp::<u16>("<=5", "x").ok(), Some(NumCmp::Le(5)));
        assert_eq!(parse_cmp::<u16>("!5", "x").ok(), Some(NumCmp::Ne(5)));
        assert_eq!(
            parse_cmp::<u16>("9<>18", "x").ok(),
            Some(NumCmp::Range(9, 18))
        );
        assert_eq!(parse_cmp::<u8>("3-5", "x").ok(), Some(NumCmp::Range(3, 5)));
        assert_eq!(
            parse_cmp::<u8>("!3-5", "x").ok(),
            Some(NumCmp::NotRange(3, 5))
        );
        assert!(parse_cmp::<u8>("5<>3", "x").is_err());
        assert!(parse_cmp::<u8>("256", "x").is_err());
        assert!(parse_cmp::<u8>("a", "x").is_err());
        assert!(parse_cmp::<u8>("", "x").is_err());
        let r = NumCmp::Range(9u16, 18);
        assert!(!r.matches(9) && r.matches(10) && r.matches(17) && !r.matches(18));
    }
}
