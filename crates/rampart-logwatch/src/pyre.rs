//! fail2ban regex tags (`<HOST>`, `<F-USER>`...) and the translation of
//! Python `re` syntax into PCRE2 syntax.

use pcre2::bytes::{Regex, RegexBuilder};

const IP4: &str = r"(?:\d{1,3}\.){3}\d{1,3}";
const IP6: &str = r"(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)";

fn r_ip4() -> String {
    format!("(?:::f{{4,6}}:)?(?P<ip4>{IP4})")
}
fn r_ip6() -> String {
    format!("(?P<ip6>{IP6})")
}
const R_DNS: &str = r"(?P<dns>[\w\-.^_]*\w)";
fn r_addr() -> String {
    format!(r"\[?(?:{}|{})\]?", r_ip4(), r_ip6())
}
fn r_host() -> String {
    format!("(?:{}|{})", r_addr(), R_DNS)
}
const R_CIDR: &str = r"(?P<cidr>\d+)";
fn r_subnet() -> String {
    format!(r"\[?(?:{}|{})(?:/{})?\]?", r_ip4(), r_ip6(), R_CIDR)
}

/// Group name a custom `F-NAME` tag maps to (`F-ID` -> `fid`).
fn map_tag(name: &str) -> String {
    let l = name.to_ascii_lowercase();
    match l.as_str() {
        "id" => "fid".to_string(),
        "port" => "fport".to_string(),
        _ => l,
    }
}

/// Replaces fail2ban's regex tags (`<HOST>`, `<ADDR>`, `<F-USER>`...) by
/// their regular expressions. `use_dns` false makes `<HOST>` an address
/// only (fail2ban's `usedns = no`).
pub fn resolve_tags(regex: &str, use_dns: bool) -> String {
    let b = regex.as_bytes();
    let mut out = String::with_capacity(regex.len() + 64);
    let mut open: Vec<String> = Vec::new();
    let mut skiplines = 0usize;
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b.get(i) != Some(&b'<') {
            i += 1;
            continue;
        }
        // `</?[\w\-]+/?>`
        let mut j = i + 1;
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        let name_start = j;
        while b
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        {
            j += 1;
        }
        if j == name_start {
            i += 1;
            continue;
        }
        let mut k = j;
        if b.get(k) == Some(&b'/') {
            k += 1;
        }
        if b.get(k) != Some(&b'>') {
            i += 1;
            continue;
        }
        let tag = regex.get(i..=k).unwrap_or("");
        let tn = regex.get(i + 1..k).unwrap_or("");
        let repl: Option<String> = match tn {
            "HOST" => Some(if use_dns { r_host() } else { r_addr() }),
            "SKIPLINES" => {
                let r = format!(r"\n(?P<skiplines{skiplines}>(?:(?:.*\n)*?))");
                skiplines += 1;
                Some(r)
            }
            "IP4" | "F-IP4/" => Some(r_ip4()),
            "IP6" | "F-IP6/" => Some(r_ip6()),
            "ADDR" | "F-ADDR/" => Some(r_addr()),
            "CIDR" | "F-CIDR/" => Some(R_CIDR.to_string()),
            "SUBNET" | "F-SUBNET/" => Some(r_subnet()),
            "DNS" | "F-DNS/" => Some(R_DNS.to_string()),
            "F-ID/" => Some(r"(?P<fid>\S+)".to_string()),
            "F-PORT/" => Some(r"(?P<fport>\w+)".to_string()),
            _ => {
                let (close, body) = match tn.strip_prefix('/') {
                    Some(rest) => (true, rest),
                    None => (false, tn),
                };
                match body.strip_prefix("F-") {
                    Some(n)
                        if !n.is_empty()
                            && n.bytes().all(|c| {
                                c.is_ascii_uppercase()
                                    || c.is_ascii_digit()
                                    || c == b'_'
                                    || c == b'-'
                            }) =>
                    {
                        if close {
                            if open.iter().any(|o| o == n) {
                                Some(")".to_string())
                            } else {
                                None
                            }
                        } else {
                            open.push(n.to_string());
                            Some(format!("(?P<{}>", map_tag(n)))
                        }
                    }
                    _ => None,
                }
            }
        };
        if let Some(r) = repl {
            out.push_str(regex.get(last..i).unwrap_or(""));
            out.push_str(&r);
            last = k + 1;
        } else {
            let _ = tag;
        }
        i = k + 1;
    }
    out.push_str(regex.get(last..).unwrap_or(""));
    out
}

/// Rewrites Python `re` syntax that PCRE2 reads differently: scoped
/// global flags `((?i)x)` -> `(?i:x)` (as fail2ban does), the `u`/`a`/`L`
/// flags PCRE2 does not know, `\Z` -> `\z`, `{,n}` -> `{0,n}`.
pub fn python_to_pcre(re: &str) -> String {
    let b = re.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c == b'\\' {
            let n = b.get(i + 1).copied();
            match n {
                Some(b'Z') if !in_class => out.extend_from_slice(b"\\z"),
                Some(x) => {
                    out.push(b'\\');
                    out.push(x);
                }
                None => out.push(b'\\'),
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        if c == b'[' {
            in_class = true;
            out.push(c);
            i += 1;
            // a leading `]` or `^]` is literal
            if b.get(i) == Some(&b'^') {
                out.push(b'^');
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                out.push(b']');
                i += 1;
            }
            continue;
        }
        if c == b'(' {
            // `((?i)` or `(?:(?i)` -> `(?i:`
            let rest = b.get(i..).unwrap_or(&[]);
            let inner_at = if rest.starts_with(b"((?") {
                Some(1)
            } else if rest.starts_with(b"(?:(?") {
                Some(3)
            } else {
                None
            };
            if let Some(off) = inner_at {
                let fs = i + off + 2;
                let mut e = fs;
                while b.get(e).is_some_and(|x| x.is_ascii_lowercase()) {
                    e += 1;
                }
                if e > fs && b.get(e) == Some(&b')') {
                    let flags = clean_flags(b.get(fs..e).unwrap_or(&[]));
                    out.extend_from_slice(b"(?");
                    out.extend_from_slice(&flags);
                    out.push(b':');
                    i = e + 1;
                    continue;
                }
            }
            if rest.starts_with(b"(?") {
                // inline flags `(?iu)` / `(?u:`
                let fs = i + 2;
                let mut e = fs;
                while b
                    .get(e)
                    .is_some_and(|x| x.is_ascii_alphabetic() && *x != b'P')
                {
                    e += 1;
                }
                if e > fs && matches!(b.get(e), Some(b')') | Some(b':')) {
                    let flags = clean_flags(b.get(fs..e).unwrap_or(&[]));
                    let term = b.get(e).copied().unwrap_or(b')');
                    if flags.is_empty() {
                        if term == b':' {
                            out.extend_from_slice(b"(?:");
                        }
                    } else {
                        out.extend_from_slice(b"(?");
                        out.extend_from_slice(&flags);
                        out.push(term);
                    }
                    i = e + 1;
                    continue;
                }
            }
        }
        if c == b'{' && b.get(i + 1) == Some(&b',') {
            let mut e = i + 2;
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            if e > i + 2 && b.get(e) == Some(&b'}') {
                out.extend_from_slice(b"{0,");
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn clean_flags(f: &[u8]) -> Vec<u8> {
    f.iter()
        .copied()
        .filter(|c| !matches!(c, b'u' | b'a' | b'L'))
        .collect()
}

/// Backtracking steps one regex may take on one line before it gives up
/// (the line then does not match): a filter whose regex backtracks
/// catastrophically costs at most a few milliseconds per line instead of
/// stalling the daemon. Real filters need a few hundred steps.
pub const MATCH_LIMIT: u32 = 1_000_000;

/// Compiles a (tag-free) Python regex with PCRE2 (JIT when available),
/// bounded by [`MATCH_LIMIT`].
pub fn compile(python_re: &str, multiline: bool, caseless: bool) -> Result<Regex, String> {
    let pat = format!("(*LIMIT_MATCH={MATCH_LIMIT}){}", python_to_pcre(python_re));
    RegexBuilder::new()
        .jit_if_available(true)
        .multi_line(multiline)
        .caseless(caseless)
        .build(&pat)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let r = resolve_tags("^x <F-USER>\\S+</F-USER> from <HOST></F-X>", true);
        assert!(r.contains("(?P<user>\\S+)"));
        assert!(r.contains("(?P<ip4>"));
        assert!(r.ends_with("</F-X>"));
        assert_eq!(resolve_tags("<F-ID>a</F-ID>", true), "(?P<fid>a)");
    }

    #[test]
    fn translation() {
        assert_eq!(python_to_pcre("a((?i)b|c)"), "a(?i:b|c)");
        assert_eq!(python_to_pcre("(?iu)x\\Z"), "(?i)x\\z");
        assert_eq!(python_to_pcre("x{,3}[\\Z]"), "x{0,3}[\\Z]");
        assert_eq!(python_to_pcre("(?u)x"), "x");
        let re = compile("(?P<a>x)(?P=a)", false, false).unwrap();
        assert!(re.is_match(b"xx").unwrap());
    }

    #[test]
    fn catastrophic_backtracking_is_bounded() {
        let re = compile("^(a+)+$", false, false).unwrap();
        let mut line = vec![b'a'; 64];
        line.push(b'b');
        let t = std::time::Instant::now();
        // Either an error (limit hit) or no match; never minutes.
        assert!(!re.is_match(&line).unwrap_or(false));
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
