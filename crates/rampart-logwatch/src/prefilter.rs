//! Literal prefilter: byte strings of which every match of a regex must
//! contain at least one, found by walking the regex (mandatory groups and
//! alternations included). Lines without any failregex literal never reach
//! PCRE2.

/// Shortest literal worth prefiltering on.
const MIN_LEN: usize = 3;

/// Literals of which every match of `regex` contains at least one, when
/// such a set with literals of at least 3 bytes can be proven.
/// Conservative: inline flags or anything unclear give `None`.
pub fn required_literals(regex: &str) -> Option<Vec<Vec<u8>>> {
    if regex.contains("(?i") || regex.contains("(?x") || regex.contains("(?-") {
        return None;
    }
    let b = regex.as_bytes();
    let (set, end) = alternation(b, 0, 0)?;
    if end != b.len() {
        return None;
    }
    set
}

/// Literal text a match must start with when the regex is anchored with
/// `^` (single-line buffers only: `^` then means the buffer start).
/// Mandatory groups without alternation are entered; `None` when fewer
/// than 3 literal bytes lead.
pub fn anchored_prefix(regex: &str) -> Option<Vec<u8>> {
    if regex.contains("(?i")
        || regex.contains("(?x")
        || regex.contains("(?m")
        || regex.contains("(?-")
    {
        return None;
    }
    let b = regex.as_bytes();
    if b.first() != Some(&b'^') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        let c = *b.get(i)?;
        match c {
            b'(' => {
                let (kind, body) = group_kind(b, i)?;
                let GroupKind::Consuming = kind else { break };
                let end = skip_group(b, i)?;
                // no alternation at the group's top level, not optional
                if has_top_level_bar(b, body, end - 1) {
                    break;
                }
                let q = skip_quantifier(b, end);
                if q > end && !matches!(b.get(end), Some(b'+')) {
                    break;
                }
                i = body;
            }
            b')' => {
                // end of an entered group: only continue when it is not
                // quantified
                if skip_quantifier(b, i + 1) > i + 1 {
                    break;
                }
                i += 1;
            }
            b'\\' => {
                let n = *b.get(i + 1)?;
                if n.is_ascii_alphanumeric() || quantified(b, i + 2) {
                    break;
                }
                out.push(n);
                i += 2;
            }
            b'[' | b'.' | b'^' | b'$' | b'|' | b'*' | b'+' | b'?' | b'{' => break,
            _ => {
                if quantified(b, i + 1) {
                    break;
                }
                out.push(c);
                i += 1;
            }
        }
    }
    (out.len() >= MIN_LEN).then_some(out)
}

/// Bytes a match of a `^`-anchored regex can start with (single-line
/// buffers), as a 256-bit set; `None` when not provable.
pub fn anchored_first_bytes(regex: &str) -> Option<[u64; 4]> {
    if regex.contains("(?i")
        || regex.contains("(?x")
        || regex.contains("(?m")
        || regex.contains("(?-")
    {
        return None;
    }
    let b = regex.as_bytes();
    if b.first() != Some(&b'^') {
        return None;
    }
    let mut set = [0u64; 4];
    first_at(b, 1, &mut set, 0)?;
    Some(set)
}

fn add(set: &mut [u64; 4], c: u8) {
    if let Some(w) = set.get_mut(usize::from(c >> 6)) {
        *w |= 1u64 << (c & 63);
    }
}

/// Adds the possible first bytes of the item at `i` (which must be
/// mandatory) to `set`.
fn first_at(b: &[u8], i: usize, set: &mut [u64; 4], depth: usize) -> Option<()> {
    if depth > 16 {
        return None;
    }
    let c = *b.get(i)?;
    match c {
        b'(' => {
            let (kind, body) = group_kind(b, i)?;
            let GroupKind::Consuming = kind else {
                return None;
            };
            let end = skip_group(b, i)?;
            let q = skip_quantifier(b, end);
            if q > end && !matches!(b.get(end), Some(b'+')) {
                return None;
            }
            // every top-level branch of the group
            let mut j = body;
            let mut start = body;
            let mut d = 0usize;
            while j < end - 1 {
                match b.get(j)? {
                    b'\\' => j += 2,
                    b'[' => j = skip_class(b, j)?,
                    b'(' => {
                        d += 1;
                        j += 1;
                    }
                    b')' => {
                        d = d.checked_sub(1)?;
                        j += 1;
                    }
                    b'|' if d == 0 => {
                        first_at(b, start, set, depth + 1)?;
                        j += 1;
                        start = j;
                    }
                    _ => j += 1,
                }
            }
            first_at(b, start, set, depth + 1)
        }
        b'[' => {
            let end = skip_class(b, i)?;
            if quantified(b, end) && !matches!(b.get(end), Some(b'+')) {
                return None;
            }
            let body = b.get(i + 1..end - 1)?;
            if body.is_empty() || body.first() == Some(&b'^') {
                return None;
            }
            let mut k = 0;
            while k < body.len() {
                let x = *body.get(k)?;
                if x == b'\\' || body.get(k + 1) == Some(&b'-') && k + 2 < body.len() {
                    return None;
                }
                add(set, x);
                k += 1;
            }
            Some(())
        }
        b'\\' => {
            let n = *b.get(i + 1)?;
            if n.is_ascii_alphanumeric()
                || (quantified(b, i + 2) && !matches!(b.get(i + 2), Some(b'+')))
            {
                return None;
            }
            add(set, n);
            Some(())
        }
        b'.' | b'^' | b'$' | b'|' | b')' | b'*' | b'+' | b'?' | b'{' => None,
        _ => {
            if quantified(b, i + 1) && !matches!(b.get(i + 1), Some(b'+')) {
                return None;
            }
            add(set, c);
            Some(())
        }
    }
}

fn quantified(b: &[u8], i: usize) -> bool {
    skip_quantifier(b, i) > i
}

fn has_top_level_bar(b: &[u8], mut i: usize, end: usize) -> bool {
    let mut depth = 0usize;
    while i < end {
        match b.get(i) {
            Some(b'\\') => i += 2,
            Some(b'[') => match skip_class(b, i) {
                Some(j) => i = j,
                None => return true,
            },
            Some(b'(') => {
                depth += 1;
                i += 1;
            }
            Some(b')') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Some(b'|') if depth == 0 => return true,
            _ => i += 1,
        }
    }
    false
}

/// Longest single literal (compatibility helper for tests).
#[cfg(test)]
fn required_literal(regex: &str) -> Option<Vec<u8>> {
    let set = required_literals(regex)?;
    if set.len() == 1 {
        set.into_iter().next()
    } else {
        None
    }
}

type Set = Option<Vec<Vec<u8>>>;

fn score(s: &[Vec<u8>]) -> (usize, usize) {
    let min = s.iter().map(Vec::len).min().unwrap_or(0);
    // longer shortest literal first, then fewer alternatives
    (min, usize::MAX - s.len())
}

fn better(a: Set, b: Set) -> Set {
    match (a, b) {
        (Some(x), Some(y)) => Some(if score(&y) > score(&x) { y } else { x }),
        (Some(x), None) => Some(x),
        (None, y) => y,
    }
}

/// Parses `branch ('|' branch)*` from `i` up to a `)` at this depth or
/// the end. Returns the union of the branches' sets (None if a branch has
/// none) and the position of the closing `)` (or the end).
fn alternation(b: &[u8], mut i: usize, depth: usize) -> Option<(Set, usize)> {
    if depth > 64 {
        return None;
    }
    let mut union: Vec<Vec<u8>> = Vec::new();
    let mut all = true;
    loop {
        let (set, end) = sequence(b, i, depth)?;
        match set {
            Some(s) => union.extend(s),
            None => all = false,
        }
        match b.get(end) {
            Some(b'|') => i = end + 1,
            _ => {
                let res = if all && !union.is_empty() {
                    Some(union)
                } else {
                    None
                };
                return Some((res, end));
            }
        }
    }
}

/// Parses one branch: returns its best required set and where it stopped
/// (`|`, `)` or end).
fn sequence(b: &[u8], mut i: usize, depth: usize) -> Option<(Set, usize)> {
    let mut best: Set = None;
    let mut cur: Vec<u8> = Vec::new();
    let flush = |cur: &mut Vec<u8>, best: &mut Set| {
        if cur.len() >= MIN_LEN {
            *best = better(best.take(), Some(vec![std::mem::take(cur)]));
        } else {
            cur.clear();
        }
    };
    while i < b.len() {
        let c = *b.get(i)?;
        match c {
            b'|' | b')' => break,
            b'\\' => {
                let n = *b.get(i + 1)?;
                i += 2;
                if n.is_ascii_alphanumeric() {
                    flush(&mut cur, &mut best);
                    i = skip_quantifier(b, i);
                } else {
                    i = literal_char(b, i, n, &mut cur, &mut best);
                }
            }
            b'(' => {
                flush(&mut cur, &mut best);
                let (kind, body) = group_kind(b, i)?;
                let (set, close) = match kind {
                    GroupKind::Consuming => alternation(b, body, depth + 1)?,
                    GroupKind::Other => (None, skip_group(b, i)? - 1),
                };
                if b.get(close) != Some(&b')') {
                    return None;
                }
                let after = close + 1;
                let q = skip_quantifier(b, after);
                let optional = q > after
                    && (matches!(b.get(after), Some(b'?') | Some(b'*'))
                        || (b.get(after) == Some(&b'{')
                            && matches!(b.get(after + 1), Some(b'0') | Some(b','))));
                if !optional {
                    best = better(best, set);
                }
                i = q;
            }
            b'[' => {
                flush(&mut cur, &mut best);
                i = skip_class(b, i)?;
                i = skip_quantifier(b, i);
            }
            b'.' | b'^' | b'$' => {
                flush(&mut cur, &mut best);
                i += 1;
                i = skip_quantifier(b, i);
            }
            b'*' | b'+' | b'?' | b'{' => {
                flush(&mut cur, &mut best);
                let j = skip_quantifier(b, i);
                // a `{` that is no quantifier is a literal brace
                i = if j == i { i + 1 } else { j };
            }
            _ => {
                i += 1;
                i = literal_char(b, i, c, &mut cur, &mut best);
            }
        }
    }
    flush(&mut cur, &mut best);
    Some((best, i))
}

enum GroupKind {
    /// Its body must match (capturing, non-capturing, named).
    Consuming,
    /// Lookaround, conditional, back reference, comment, flags.
    Other,
}

/// Kind of the group opening at `i` and where its body starts.
fn group_kind(b: &[u8], i: usize) -> Option<(GroupKind, usize)> {
    if b.get(i + 1) != Some(&b'?') {
        return Some((GroupKind::Consuming, i + 1));
    }
    match b.get(i + 2)? {
        b':' => Some((GroupKind::Consuming, i + 3)),
        b'P' if b.get(i + 3) == Some(&b'<') => {
            let rel = b.get(i + 4..)?.iter().position(|&c| c == b'>')?;
            Some((GroupKind::Consuming, i + 4 + rel + 1))
        }
        _ => Some((GroupKind::Other, i + 1)),
    }
}

/// Adds literal `c` (already consumed; `i` is past it), honouring a
/// following quantifier.
fn literal_char(b: &[u8], i: usize, c: u8, cur: &mut Vec<u8>, best: &mut Set) -> usize {
    let mut end_run = |cur: &mut Vec<u8>| {
        if cur.len() >= MIN_LEN {
            *best = better(best.take(), Some(vec![std::mem::take(cur)]));
        } else {
            cur.clear();
        }
    };
    match b.get(i) {
        Some(b'?') | Some(b'*') => {
            end_run(cur);
            skip_quantifier(b, i)
        }
        Some(b'{') => {
            let j = skip_quantifier(b, i);
            if j == i {
                // literal brace follows: c is a plain literal
                cur.push(c);
                return i;
            }
            let min_zero = matches!(b.get(i + 1), Some(b'0') | Some(b','));
            if !min_zero {
                cur.push(c);
            }
            end_run(cur);
            j
        }
        Some(b'+') => {
            cur.push(c);
            end_run(cur);
            skip_quantifier(b, i)
        }
        _ => {
            cur.push(c);
            i
        }
    }
}

fn skip_quantifier(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'?') | Some(b'*') | Some(b'+') => i += 1,
        Some(b'{') => {
            let mut j = i + 1;
            while b.get(j).is_some_and(|c| c.is_ascii_digit() || *c == b',') {
                j += 1;
            }
            if b.get(j) == Some(&b'}') && j > i + 1 {
                i = j + 1;
            } else {
                return i;
            }
        }
        _ => return i,
    }
    // lazy / possessive modifier
    if matches!(b.get(i), Some(b'?') | Some(b'+')) {
        i += 1;
    }
    i
}

fn skip_class(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        match b.get(i)? {
            b'\\' => i += 2,
            b']' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Position just past the `)` closing the group opening at `i`.
fn skip_group(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b.get(i)? {
            b'\\' => i += 2,
            b'[' => i = skip_class(b, i)?,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Option<String> {
        required_literal(s).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    fn lits(s: &str) -> Option<Vec<String>> {
        required_literals(s).map(|v| {
            v.iter()
                .map(|x| String::from_utf8_lossy(x).into_owned())
                .collect()
        })
    }

    #[test]
    fn literals() {
        assert_eq!(lit(r"^Failed (?:a|b) for user"), Some(" for user".into()));
        assert_eq!(
            lit(r"^[aA]uthentication failure"),
            Some("uthentication failure".into())
        );
        assert_eq!(lit(r"abcd?e"), Some("abc".into()));
        assert_eq!(lit(r"(?i)abcdef"), None);
        assert_eq!(lit(r"User \S+ from\."), Some(" from.".into()));
        assert_eq!(lit(r"xx{0,3}yyyy"), Some("yyyy".into()));
        assert_eq!(lit(r"%d{HH:mm} [x]"), Some("HH:mm} ".into()));
        assert_eq!(lit(r"a{"), None);
        assert_eq!(lit(r"(?P<x>(?P<y>Accepted \w+))"), Some("Accepted ".into()));
        assert_eq!(lit(r"(?:Accepted)? \w+"), None);
        assert_eq!(lit(r"(?=abcdef)x"), None);
    }

    #[test]
    fn alternations() {
        assert_eq!(lits(r"a|bcdef"), None);
        assert_eq!(lits(r"abc|bcdef"), Some(vec!["abc".into(), "bcdef".into()]));
        assert_eq!(
            lits(r"^(?P<n>(?:Connection (?:closed|reset)|Disconnect(?:ed|ing))) x"),
            Some(vec!["Connection ".into(), "Disconnect".into()])
        );
        assert_eq!(lits(r"(abc|d)xy"), None);
    }

    #[test]
    fn first_bytes() {
        let f = |s: &str| {
            anchored_first_bytes(s).map(|set| {
                (0u8..=255)
                    .filter(|c| set[usize::from(c >> 6)] & (1 << (c & 63)) != 0)
                    .map(char::from)
                    .collect::<String>()
            })
        };
        assert_eq!(f(r"^[aA]uth"), Some("Aa".into()));
        assert_eq!(f(r"^(?P<x>(?:Connection|Disconnect)) "), Some("CD".into()));
        assert_eq!(f(r"^[iI](?:llegal|nvalid)"), Some("Ii".into()));
        assert_eq!(f(r"^(?:a|[0-9])"), None);
        assert_eq!(f(r"^a?b"), None);
        assert_eq!(f(r"^\s"), None);
        assert_eq!(f(r"x"), None);
    }

    #[test]
    fn prefixes() {
        let p = |s: &str| anchored_prefix(s).map(|v| String::from_utf8_lossy(&v).into_owned());
        assert_eq!(p(r"^Failed \S+"), Some("Failed ".into()));
        assert_eq!(
            p(r"^(?P<nofail>Connection from) (?P<x>a)"),
            Some("Connection from a".into())
        );
        assert_eq!(p(r"^(?:Connection|Disconnect)"), None);
        assert_eq!(p(r"^User (?:x)?y"), Some("User ".into()));
        assert_eq!(p(r"^abcd?"), Some("abc".into()));
        assert_eq!(p(r"Failed"), None);
        assert_eq!(p(r"^(?:abc)?def"), None);
        assert_eq!(p(r"^\[abc\]"), Some("[abc]".into()));
    }
}
