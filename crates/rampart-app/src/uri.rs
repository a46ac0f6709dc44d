//! URI normalisation for `http.uri` (see [`normalize_uri`]).

/// The value of an ASCII hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Two hex digits at `input[i..i + 2]` as a byte.
fn hex_byte(input: &[u8], i: usize) -> Option<u8> {
    let hi = input.get(i).copied().and_then(hex)?;
    let lo = input.get(i + 1).copied().and_then(hex)?;
    Some(hi * 16 + lo)
}

/// Where a percent-decoded part sits, which decides how `%u` escapes and
/// backslashes are treated (libhtp's per-context decoder settings under
/// Suricata's default `IDS` personality).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The path: `%uHHHH` is decoded and `\` is a separator.
    Path,
    /// Query and fragment: `%XX` only, `+` stays `+`.
    Other,
}

/// Decodes every valid `%XX` escape (`%2F` and `%00` included); in the path
/// also `%uHHHH` (to its low byte, fullwidth ASCII to ASCII, anything
/// else to `?`, libhtp's best-fit replacement) and backslashes become
/// slashes. An invalid escape keeps its `%` and is reported.
fn percent_decode(input: &[u8], part: Part) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut invalid = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let mut c = b;
        let mut step = 1;
        if b == b'%' {
            if let Some(d) = hex_byte(input, i + 1) {
                c = d;
                step = 3;
            } else if let (Part::Path, Some(b'u' | b'U')) = (part, input.get(i + 1)) {
                match (hex_byte(input, i + 2), hex_byte(input, i + 4)) {
                    (Some(hi), Some(lo)) => {
                        c = match hi {
                            0 => lo,
                            0xff if lo <= 0x5e => lo + 0x20,
                            _ => b'?',
                        };
                        step = 6;
                    }
                    _ => invalid = true,
                }
            } else {
                invalid = true;
            }
        }
        if part == Part::Path && c == b'\\' {
            c = b'/';
        }
        out.push(c);
        i += step;
    }
    (out, invalid)
}

/// Removes dot segments (RFC 3986 §5.2.4) and collapses empty segments
/// (`//`) of an absolute path (one starting with `/`).
fn normalize_path(path: &[u8]) -> Vec<u8> {
    let segs: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let last = segs.len().saturating_sub(1);
    let mut out: Vec<&[u8]> = Vec::with_capacity(segs.len());
    for (i, seg) in segs.iter().enumerate().skip(1) {
        match *seg {
            b"." | b".." => {
                if *seg == b".." {
                    out.pop();
                }
                if i == last {
                    out.push(b"");
                }
            }
            b"" if i != last => {}
            s => out.push(s),
        }
    }
    let mut r = Vec::with_capacity(path.len());
    for s in out {
        r.push(b'/');
        r.extend_from_slice(s);
    }
    if r.is_empty() {
        r.push(b'/');
    }
    r
}

/// Normalises a raw request URI into what Suricata's `http.uri` holds:
/// libhtp's parsed and normalised URI under Suricata's defaults (the `IDS`
/// personality, `uri-include-all: no`).
///
/// 1. An absolute-form URI (`scheme://authority/path`) loses its
///    `scheme://authority`; the rest splits into path, `?query` and
///    `#fragment`.
/// 2. Every valid `%XX` escape is decoded in all three (`%2F` too);
///    the path also decodes `%uHHHH` and turns `\` into `/`. Invalid
///    escapes stay as they are. `+` is not a space.
/// 3. A path starting with `/` then loses `.` segments, `..` segments
///    with the segment before them (never above the root), and runs of
///    `/` (`/a//b/./c/../d` becomes `/a/b/d`).
///
/// Not done: libhtp's best-fit mapping of UTF-8 in the path to single
/// bytes. Returns the URI and whether an invalid `%` escape was seen.
pub(crate) fn normalize_uri(raw: &[u8]) -> (Vec<u8>, bool) {
    let (prefix, rest) = split_authority(raw);
    let (before_frag, fragment) = match memchr::memchr(b'#', rest) {
        Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
        None => (rest, None),
    };
    let (path, query) = match memchr::memchr(b'?', before_frag) {
        Some(i) => (
            before_frag.get(..i).unwrap_or_default(),
            before_frag.get(i + 1..),
        ),
        None => (before_frag, None),
    };
    let (dpath, mut invalid) = percent_decode(path, Part::Path);
    let mut out = Vec::with_capacity(raw.len());
    if dpath.first() == Some(&b'/') {
        out.extend_from_slice(&normalize_path(&dpath));
    } else if dpath.is_empty() && !prefix.is_empty() {
        out.push(b'/');
    } else {
        out.extend_from_slice(&dpath);
    }
    for (sep, part) in [(b'?', query), (b'#', fragment)] {
        if let Some(part) = part {
            let (d, bad) = percent_decode(part, Part::Other);
            invalid |= bad;
            out.push(sep);
            out.extend_from_slice(&d);
        }
    }
    (out, invalid)
}

/// Splits `scheme://authority` off an absolute-form URI; returns an empty
/// prefix for origin-form (`/path`) and other forms.
fn split_authority(u: &[u8]) -> (&[u8], &[u8]) {
    if let Some(p) = memchr::memmem::find(u, b"://") {
        let scheme_ok = p > 0
            && u.get(..p).is_some_and(|s| {
                s.iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
            });
        if scheme_ok {
            let rest_start = p + 3;
            let rest = u.get(rest_start..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|b| matches!(b, b'/' | b'?' | b'#'))
                .map_or(u.len(), |i| rest_start + i);
            return (
                u.get(..end).unwrap_or_default(),
                u.get(end..).unwrap_or_default(),
            );
        }
    }
    (&[][..], u)
}

/// The authority (`host[:port]`, userinfo dropped) of an absolute-form URI.
pub(crate) fn uri_authority(u: &[u8]) -> Option<&[u8]> {
    let (prefix, _) = split_authority(u);
    let p = memchr::memmem::find(prefix, b"://")?;
    let auth = prefix.get(p + 3..)?;
    let auth = match memchr::memrchr(b'@', auth) {
        Some(i) => auth.get(i + 1..)?,
        None => auth,
    };
    Some(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        String::from_utf8_lossy(&normalize_uri(s.as_bytes()).0).into_owned()
    }

    #[test]
    fn normalises_paths() {
        assert_eq!(n("/a//b/./c/../d"), "/a/b/d");
        assert_eq!(n("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(n("/a/%2e%2e/b"), "/b");
        assert_eq!(n("/%41%2Fb%7e"), "/A/b~");
        assert_eq!(n("/a\\..\\b%5cc"), "/b/c");
        assert_eq!(n("/a/."), "/a/");
        assert_eq!(n("/a/.."), "/");
        assert_eq!(n("/"), "/");
        assert_eq!(n("//"), "/");
        assert_eq!(n("*"), "*");
        assert_eq!(n("/%zz%4"), "/%zz%4");
        assert!(normalize_uri(b"/%zz").1);
        assert_eq!(
            uri_authority(b"http://u:p@h.com:80/x"),
            Some(&b"h.com:80"[..])
        );
        assert_eq!(uri_authority(b"/x"), None);
    }

    #[test]
    fn absolute_form_keeps_path_query_and_fragment_only() {
        assert_eq!(n("http://Ex.com//a/../b"), "/b");
        assert_eq!(n("http://ex.com"), "/");
        assert_eq!(n("http://ex.com?q=%41"), "/?q=A");
    }

    #[test]
    fn query_and_fragment_are_fully_decoded_but_not_normalised() {
        assert_eq!(n("/x/?a=/../%41+b"), "/x/?a=/../A+b");
        // Any byte, as libhtp decodes the query (detect-xor's data).
        assert_eq!(
            normalize_uri(b"/get?data=%7Dk%BB%00").0,
            b"/get?data=}k\xbb\x00".to_vec()
        );
        assert_eq!(n("/p#f%2Fg"), "/p#f/g");
        // %u is a path escape only.
        assert_eq!(n("/%u0041%uFF0E?%u0041"), "/A.?%u0041");
    }
}
