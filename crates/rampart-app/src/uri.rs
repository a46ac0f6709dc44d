//! URI normalisation for `http.uri` (see [`normalize_uri`]).

/// Whether `b` is an RFC 3986 unreserved character (ALPHA / DIGIT / `-` /
/// `.` / `_` / `~`): decoding these never changes what a URI means, which is
/// why they are the only ones decoded.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The value of an ASCII hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` sequences whose byte is unreserved; every other byte,
/// including invalid or reserved escapes (`%2F`, `%00`, `%zz`), is kept as
/// is. Returns the result and whether an invalid escape was seen.
fn decode_unreserved(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut invalid = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%' {
            let hi = input.get(i + 1).copied().and_then(hex);
            let lo = input.get(i + 2).copied().and_then(hex);
            match (hi, lo) {
                (Some(h), Some(l)) => {
                    let d = h * 16 + l;
                    if unreserved(d) {
                        out.push(d);
                    } else {
                        out.extend_from_slice(input.get(i..i + 3).unwrap_or_default());
                    }
                    i += 3;
                    continue;
                }
                _ => invalid = true,
            }
        }
        out.push(b);
        i += 1;
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

/// Normalises a raw request URI the way `http.uri` is meant to be matched.
///
/// Exactly this is done, and nothing else:
/// 1. the URI is split at the first `?` into path and query (the query,
///    fragment included, is only percent-decoded, never path-normalised);
///    for an absolute-form URI (`scheme://authority/path`) the
///    `scheme://authority` prefix is kept byte for byte and only the path
///    after it is normalised;
/// 2. `%XX` escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are
///    decoded in path and query; other escapes stay encoded;
/// 3. if the (decoded) path starts with `/`: `.` segments are removed, `..`
///    segments remove the segment before them (never above the root), and
///    runs of `/` collapse to one (`/a//b/./c/../d` becomes `/a/b/d`).
///
/// Decoding happens before step 3, so `/%2e%2e/` is removed like `/../`.
/// Returns the URI and whether an invalid `%` escape was seen.
pub(crate) fn normalize_uri(raw: &[u8]) -> (Vec<u8>, bool) {
    let (before_q, query) = match memchr::memchr(b'?', raw) {
        Some(i) => (
            raw.get(..i).unwrap_or_default(),
            raw.get(i..).unwrap_or_default(),
        ),
        None => (raw, &[][..]),
    };
    let (prefix, path) = split_authority(before_q);
    let (dpath, bad1) = decode_unreserved(path);
    let (dquery, bad2) = decode_unreserved(query);
    let mut out = prefix.to_vec();
    if dpath.first() == Some(&b'/') {
        out.extend_from_slice(&normalize_path(&dpath));
    } else {
        out.extend_from_slice(&dpath);
    }
    out.extend_from_slice(&dquery);
    (out, bad1 || bad2)
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
            let end = memchr::memchr(b'/', rest).map_or(u.len(), |i| rest_start + i);
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
        assert_eq!(n("/%41%2Fb%7e"), "/A%2Fb~");
        assert_eq!(n("/a/."), "/a/");
        assert_eq!(n("/a/.."), "/");
        assert_eq!(n("/"), "/");
        assert_eq!(n("//"), "/");
        assert_eq!(n("/x/?a=/../%41"), "/x/?a=/../A");
        assert_eq!(n("http://Ex.com//a/../b"), "http://Ex.com/b");
        assert_eq!(n("*"), "*");
        assert_eq!(n("/%zz%4"), "/%zz%4");
        assert!(normalize_uri(b"/%zz").1);
        assert_eq!(
            uri_authority(b"http://u:p@h.com:80/x"),
            Some(&b"h.com:80"[..])
        );
        assert_eq!(uri_authority(b"/x"), None);
    }
}
