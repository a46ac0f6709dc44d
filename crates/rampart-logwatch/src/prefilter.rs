//! Literal prefilter: a byte string every match of a regex must contain,
//! found by walking the regex's top-level sequence. Lines without any
//! failregex literal never reach PCRE2.

/// Longest literal that every match of `regex` contains, if one of at
/// least 3 bytes can be proven from the top-level sequence. Conservative:
/// top-level alternation, inline flags or anything unclear give `None`.
pub fn required_literal(regex: &str) -> Option<Vec<u8>> {
    let b = regex.as_bytes();
    if regex.contains("(?i") || regex.contains("(?x") || regex.contains("(?-") {
        return None;
    }
    let mut runs: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    let flush = |cur: &mut Vec<u8>, runs: &mut Vec<Vec<u8>>| {
        if !cur.is_empty() {
            runs.push(std::mem::take(cur));
        }
    };
    while i < b.len() {
        let c = *b.get(i)?;
        match c {
            b'\\' => {
                let n = *b.get(i + 1)?;
                if n.is_ascii_alphanumeric() {
                    // class escapes, anchors, back references, \xHH ...
                    flush(&mut cur, &mut runs);
                    i += 2;
                    // a quantifier after it applies to the escape: skip
                    i = skip_quantifier(b, i);
                    continue;
                }
                i += 2;
                i = literal_char(b, i, n, &mut cur, &mut runs);
            }
            b'(' => {
                flush(&mut cur, &mut runs);
                i = skip_group(b, i)?;
                i = skip_quantifier(b, i);
            }
            b'[' => {
                flush(&mut cur, &mut runs);
                i = skip_class(b, i)?;
                i = skip_quantifier(b, i);
            }
            b'|' => return None,
            b')' => return None,
            b'.' | b'^' | b'$' => {
                flush(&mut cur, &mut runs);
                i += 1;
                i = skip_quantifier(b, i);
            }
            b'*' | b'+' | b'?' | b'{' => {
                // quantifier without an atom we track (after a group, ...)
                flush(&mut cur, &mut runs);
                let j = skip_quantifier(b, i);
                // a `{` that is no quantifier is a literal brace
                i = if j == i { i + 1 } else { j };
            }
            _ => {
                i += 1;
                i = literal_char(b, i, c, &mut cur, &mut runs);
            }
        }
    }
    flush(&mut cur, &mut runs);
    runs.into_iter()
        .filter(|r| r.len() >= 3)
        .max_by_key(Vec::len)
}

/// Adds literal `c` (already consumed; `i` is past it), honouring a
/// following quantifier.
fn literal_char(b: &[u8], i: usize, c: u8, cur: &mut Vec<u8>, runs: &mut Vec<Vec<u8>>) -> usize {
    match b.get(i) {
        Some(b'?') | Some(b'*') => {
            if !cur.is_empty() {
                runs.push(std::mem::take(cur));
            }
            skip_quantifier(b, i)
        }
        Some(b'{') => {
            let min_zero = b.get(i + 1) == Some(&b'0') || b.get(i + 1) == Some(&b',');
            if !min_zero {
                cur.push(c);
            }
            if !cur.is_empty() {
                runs.push(std::mem::take(cur));
            }
            skip_quantifier(b, i)
        }
        Some(b'+') => {
            cur.push(c);
            runs.push(std::mem::take(cur));
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

    #[test]
    fn literals() {
        assert_eq!(lit(r"^Failed (?:a|b) for user"), Some(" for user".into()));
        assert_eq!(
            lit(r"^[aA]uthentication failure"),
            Some("uthentication failure".into())
        );
        assert_eq!(lit(r"abcd?e"), Some("abc".into()));
        assert_eq!(lit(r"a|bcdef"), None);
        assert_eq!(lit(r"(?i)abcdef"), None);
        assert_eq!(lit(r"User \S+ from\."), Some(" from.".into()));
        assert_eq!(lit(r"xx{0,3}yyyy"), Some("yyyy".into()));
        assert_eq!(lit(r"%d{HH:mm} [x]"), Some("HH:mm} ".into()));
        assert_eq!(lit(r"a{"), None);
    }
}
