//! Date detection as fail2ban does it: `datepattern` templates (strptime
//! `%` fields, `{^LN-BEG}`, `{DATE}`, `EPOCH`, `TAI64N`) or fail2ban's
//! default template list, year-less stamps placed relative to a reference
//! clock, local times converted with a POSIX TZ rule.

use pcre2::bytes::{CaptureLocations, Regex};

use crate::pyre;

/// A POSIX TZ rule such as `CET-01CEST-02,M3.5.0,M10.5.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosixTz {
    /// Standard offset east of UTC, seconds.
    std_off: i64,
    /// Daylight-saving offset east of UTC, seconds (None: no DST).
    dst_off: Option<i64>,
    /// DST start and end rules (local times).
    rules: Option<(TzRule, TzRule)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TzDay {
    /// `Mm.w.d`
    Month(u32, u32, u32),
    /// `Jn`: day 1..365, Feb 29 never counted.
    Julian1(u32),
    /// `n`: day 0..365.
    Julian0(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TzRule {
    day: TzDay,
    /// Seconds after local midnight.
    time: i64,
}

impl PosixTz {
    /// UTC.
    pub fn utc() -> PosixTz {
        PosixTz {
            std_off: 0,
            dst_off: None,
            rules: None,
        }
    }

    /// Parses a POSIX TZ string; `None` when it is not one.
    pub fn parse(s: &str) -> Option<PosixTz> {
        let b = s.trim().trim_start_matches(':').as_bytes();
        let mut i = 0;
        let name = |i: &mut usize| -> Option<()> {
            if b.get(*i) == Some(&b'<') {
                let e = b.get(*i..)?.iter().position(|&c| c == b'>')?;
                *i += e + 1;
            } else {
                let st = *i;
                while b.get(*i).is_some_and(u8::is_ascii_alphabetic) {
                    *i += 1;
                }
                if *i - st < 3 {
                    return None;
                }
            }
            Some(())
        };
        let offset = |i: &mut usize| -> Option<i64> {
            let mut sign = 1;
            match b.get(*i) {
                Some(b'+') => *i += 1,
                Some(b'-') => {
                    sign = -1;
                    *i += 1
                }
                _ => {}
            }
            let t = parse_hms(b, i)?;
            Some(sign * t)
        };
        name(&mut i)?;
        // POSIX offsets are west-positive.
        let std_off = -offset(&mut i)?;
        if i >= b.len() {
            return Some(PosixTz {
                std_off,
                dst_off: None,
                rules: None,
            });
        }
        name(&mut i)?;
        let mut dst_off = std_off + 3600;
        if i < b.len() && b.get(i) != Some(&b',') {
            dst_off = -offset(&mut i)?;
        }
        let mut rules = None;
        if b.get(i) == Some(&b',') {
            i += 1;
            let r1 = parse_rule(b, &mut i)?;
            if b.get(i) != Some(&b',') {
                return None;
            }
            i += 1;
            let r2 = parse_rule(b, &mut i)?;
            rules = Some((r1, r2));
        } else {
            // No rule: the US default of POSIX.
            rules = rules.or(Some((
                TzRule {
                    day: TzDay::Month(3, 2, 0),
                    time: 7200,
                },
                TzRule {
                    day: TzDay::Month(11, 1, 0),
                    time: 7200,
                },
            )));
        }
        Some(PosixTz {
            std_off,
            dst_off: Some(dst_off),
            rules,
        })
    }

    /// Offset east of UTC (seconds) in effect at the UTC instant `t`.
    pub fn offset_at_utc(&self, t: i64) -> i64 {
        match (self.dst_off, self.rules) {
            (Some(dst), Some((start, end))) => {
                let (y, _, _) = civil_from_days((t + self.std_off).div_euclid(86400));
                let s = rule_local(start, y) - self.std_off;
                let e = rule_local(end, y) - dst;
                let in_dst = if s < e {
                    t >= s && t < e
                } else {
                    !(t >= e && t < s)
                };
                if in_dst {
                    dst
                } else {
                    self.std_off
                }
            }
            _ => self.std_off,
        }
    }

    /// `mktime` of a naive local time (seconds as if UTC), DST guessed as
    /// glibc does for `tm_isdst = -1`.
    pub fn local_to_utc(&self, naive: i64) -> i64 {
        let c1 = naive - self.std_off;
        if self.offset_at_utc(c1) == self.std_off {
            return c1;
        }
        if let Some(dst) = self.dst_off {
            let c2 = naive - dst;
            if self.offset_at_utc(c2) == dst {
                return c2;
            }
        }
        c1
    }
}

fn parse_hms(b: &[u8], i: &mut usize) -> Option<i64> {
    let mut parts = [0i64; 3];
    for (n, p) in parts.iter_mut().enumerate() {
        if n > 0 {
            if b.get(*i) != Some(&b':') {
                break;
            }
            *i += 1;
        }
        let st = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) && *i - st < 3 {
            *p = *p * 10 + i64::from(b.get(*i).copied().unwrap_or(b'0') - b'0');
            *i += 1;
        }
        if *i == st {
            return None;
        }
    }
    Some(parts[0] * 3600 + parts[1] * 60 + parts[2])
}

fn parse_num(b: &[u8], i: &mut usize) -> Option<u32> {
    let st = *i;
    let mut v: u32 = 0;
    while let Some(c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
        *i += 1;
    }
    (*i > st).then_some(v)
}

fn parse_rule(b: &[u8], i: &mut usize) -> Option<TzRule> {
    let day = match b.get(*i) {
        Some(b'M') => {
            *i += 1;
            let m = parse_num(b, i)?;
            if b.get(*i) != Some(&b'.') {
                return None;
            }
            *i += 1;
            let w = parse_num(b, i)?;
            if b.get(*i) != Some(&b'.') {
                return None;
            }
            *i += 1;
            let d = parse_num(b, i)?;
            if !(1..=12).contains(&m) || !(1..=5).contains(&w) || d > 6 {
                return None;
            }
            TzDay::Month(m, w, d)
        }
        Some(b'J') => {
            *i += 1;
            TzDay::Julian1(parse_num(b, i)?.clamp(1, 365))
        }
        _ => TzDay::Julian0(parse_num(b, i)?.min(365)),
    };
    let mut time = 7200;
    if b.get(*i) == Some(&b'/') {
        *i += 1;
        let mut sign = 1;
        if b.get(*i) == Some(&b'-') {
            sign = -1;
            *i += 1;
        } else if b.get(*i) == Some(&b'+') {
            *i += 1;
        }
        time = sign * parse_hms(b, i)?;
    }
    Some(TzRule { day, time })
}

/// Local (naive) seconds of a rule's transition in year `y`.
fn rule_local(r: TzRule, y: i64) -> i64 {
    let day = match r.day {
        TzDay::Month(m, w, d) => {
            let first = days_from_civil(y, m, 1);
            let dow = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
            let mut md = 1 + (i64::from(d) - dow).rem_euclid(7) + (i64::from(w) - 1) * 7;
            let dim = days_in_month(y, m);
            while md > dim {
                md -= 7;
            }
            first + md - 1
        }
        TzDay::Julian1(n) => {
            let mut d = days_from_civil(y, 1, 1) + i64::from(n) - 1;
            if is_leap(y) && n >= 60 {
                d += 1;
            }
            d
        }
        TzDay::Julian0(n) => days_from_civil(y, 1, 1) + i64::from(n),
    };
    day * 86400 + r.time
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Reference clock and zone for turning matched stamps into epochs.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// "Now" (UTC epoch seconds): year-less stamps are placed before it.
    pub now: i64,
    /// The real wall clock (UTC epoch seconds). Only widens the year
    /// window of `%ExY` (fail2ban accepts 2000 up to three years ahead of
    /// the real date even when replaying old logs with another `now`).
    pub wall_clock: i64,
    /// Zone of stamps that carry no offset.
    pub tz: PosixTz,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pattern,
    Epoch,
    Tai64n,
}

struct Template {
    re: Regex,
    locs: CaptureLocations,
    /// `(name, group index)` of the named groups.
    names: Vec<(String, usize)>,
    anchored: bool,
    kind: Kind,
    /// Group indices of `%S` and `%f` (memo shortcuts).
    sec_idx: Option<usize>,
    frac_idx: Option<usize>,
    hits: u64,
    distance: usize,
    key: String,
}

/// fail2ban's default templates (`DateDetectorCache.DEFAULT_TEMPLATES`).
const DEFAULT_TEMPLATES: &[&str] = &[
    r"%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?",
    r"%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",
    r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?",
    r"%m/%d/%ExY:%H:%M:%S",
    r"%m-%d-%ExY %k:%M:%S(?:\.%f)?",
    "EPOCH",
    r"{^LN-BEG}%H:%M:%S",
    r"^<%m/%d/%Exy@%H:%M:%S>",
    r"%Exy%Exm%Exd  ?%H:%M:%S",
    r"%b %d, %ExY %I:%M:%S %p",
    r"^%b-%d-%Exy %k:%M:%S",
    r"%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    "TAI64N",
];

const TZA: &str = "[A-Z](?:[A-Z]{2,4})?";

fn time_re(key: &str, years: &str) -> Option<String> {
    Some(match key {
        "a" => "(?P<a>mon|tue|wed|thu|fri|sat|sun)".into(),
        "A" => "(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)".into(),
        "b" => "(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)".into(),
        "B" => "(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)".into(),
        "p" => "(?P<p>am|pm)".into(),
        "d" => r"(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])".into(),
        "f" => r"(?P<f>[0-9]{1,6})".into(),
        "H" => r"(?P<H>[0-1]?\d|2[0-3])".into(),
        "I" => r"(?P<I>1[0-2]|0[1-9]|[1-9])".into(),
        "j" => r"(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])".into(),
        "m" => r"(?P<m>0?[1-9]|1[0-2])".into(),
        "M" => r"(?P<M>[0-5]?\d)".into(),
        "S" => r"(?P<S>[0-5]?\d|6[0-1])".into(),
        "U" => r"(?P<U>5[0-3]|[0-4]\d|\d)".into(),
        "W" => r"(?P<W>5[0-3]|[0-4]\d|\d)".into(),
        "w" => r"(?P<w>[0-6])".into(),
        "u" => r"(?P<u>[1-7])".into(),
        "y" => r"(?P<y>\d\d)".into(),
        "Y" => r"(?P<Y>\d{4})".into(),
        "G" => r"(?P<G>\d\d\d\d)".into(),
        "V" => r"(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)".into(),
        "k" => r" ?(?P<H>[0-2]?\d)".into(),
        "l" => r" ?(?P<I>1?\d)".into(),
        "Z" => "(?P<Z>Z|[A-Z]{3,5})".into(),
        "z" => r"(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)".into(),
        "ExZ" => format!("(?P<Z>{TZA})"),
        "Exz" => format!(r"(?P<z>(?:{TZA})?[+-][01]\d(?::?\d{{2}})?|{TZA})"),
        "Exd" => r"(?P<d>[1-2]\d|0[1-9]|3[0-1])".into(),
        "Exm" => r"(?P<m>0[1-9]|1[0-2])".into(),
        "ExH" => r"(?P<H>[0-1]\d|2[0-3])".into(),
        "Exk" => r" ?(?P<H>[0-1]?\d|2[0-3])".into(),
        "Exl" => r" ?(?P<I>1[0-2]|\d)".into(),
        "ExM" => r"(?P<M>[0-5]\d)".into(),
        "ExS" => r"(?P<S>[0-5]\d|6[0-1])".into(),
        "ExY" => format!(r"(?P<Y>{years}\d)"),
        "Exy" => r"(?P<y>\d{2})".into(),
        "%" => "%".into(),
        _ => return None,
    })
}

const MULTI_KEYS: [&str; 11] = [
    "ExZ", "Exz", "Exd", "Exm", "ExH", "Exk", "Exl", "ExM", "ExS", "ExY", "Exy",
];

/// Expands strptime `%` fields; also reports whether alphabetic fields
/// (`%a %A %b %B %p %c`) occur, which makes the template caseless.
fn expand_pattern(pattern: &str, years: &str) -> (String, bool) {
    let mut out = String::with_capacity(pattern.len() * 3);
    let mut alpha = false;
    let mut rest = pattern;
    while let Some(p) = rest.find('%') {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p + 1..).unwrap_or("");
        if let Some(k) = MULTI_KEYS.iter().find(|k| after.starts_with(**k)) {
            out.push_str(&time_re(k, years).unwrap_or_default());
            rest = after.get(k.len()..).unwrap_or("");
            continue;
        }
        let key = after.get(..1).unwrap_or("");
        match time_re(key, years) {
            Some(r) if !key.is_empty() => {
                if matches!(key, "a" | "A" | "b" | "B" | "p" | "c") {
                    alpha = true;
                }
                out.push_str(&r);
                rest = after.get(1..).unwrap_or("");
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, alpha)
}

fn re_ok(pat: &str) -> Option<Regex> {
    pcre2::bytes::RegexBuilder::new().build(pat).ok()
}

struct Meta {
    grouped: Regex,
    group: Regex,
    no_beg: Regex,
    no_end: Regex,
    del: Regex,
    line_beg: Regex,
    line_end: Regex,
}

fn meta() -> Option<Meta> {
    Some(Meta {
        grouped: re_ok(r"(?<!\(\?)(?<!\\)\((?!\?)")?,
        group: re_ok(r"^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$")?,
        no_beg: re_ok(r"^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\(\?:\^)")?,
        no_end: re_ok(r"(?<!\\)(?:\$\)?|\*\*\)*)$")?,
        del: re_ok(r"^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$")?,
        line_beg: re_ok(r"^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))")?,
        line_end: re_ok(r"(?<![\\|])(?:\$\)?)$")?,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WordBegin {
    No,
    Yes,
    Start,
}

/// `DateTemplate.setRegex`: grouping, word/line boundaries, `**` removal.
/// Returns the final regex and whether it is line anchored.
fn bound_regex(m: &Meta, regex: &str, wb: WordBegin, word_end: bool) -> (String, bool) {
    let regex = regex.trim();
    let rb = regex.as_bytes();
    let hit = |r: &Regex, s: &[u8]| r.is_match(s).unwrap_or(false);
    let bound_begin = wb != WordBegin::No && !hit(&m.no_beg, rb);
    let bound_end = word_end && !hit(&m.no_end, rb);
    let mut r = regex.to_string();
    if !hit(&m.grouped, rb) {
        if let Ok(Some(c)) = m.group.captures(rb) {
            let g = |i| {
                c.get(i)
                    .map(|x| String::from_utf8_lossy(x.as_bytes()).into_owned())
                    .unwrap_or_default()
            };
            r = format!("{}({}){}", g(1), g(2), g(3));
        }
    }
    let mut anchored = false;
    if bound_begin {
        if wb == WordBegin::Start {
            r = format!(r"^(?:\W{{0,2}})?{r}");
            anchored = true;
        } else {
            r = format!(r"(?:^|\b|\W){r}");
        }
    }
    if bound_end {
        r.push_str(r"(?=\b|\W|$)");
    }
    if hit(&m.line_beg, r.as_bytes()) || hit(&m.line_end, r.as_bytes()) {
        anchored = true;
    }
    // remove `**` markers
    let mut out = String::new();
    let mut last = 0;
    let rbytes = r.as_bytes();
    let mut pos = 0;
    while let Ok(Some(mm)) = m.del.find_at(rbytes, pos) {
        out.push_str(r.get(last..mm.start()).unwrap_or(""));
        out.push_str(&r.get(mm.start()..mm.end()).unwrap_or("").replace("**", ""));
        last = mm.end();
        pos = if mm.end() > mm.start() {
            mm.end()
        } else {
            mm.end() + 1
        };
        if pos > rbytes.len() {
            break;
        }
    }
    out.push_str(r.get(last..).unwrap_or(""));
    (out, anchored)
}

/// Year prefix alternation for `%ExY` (fail2ban: 2000 .. now + 3 years).
fn years_re(now_year: i64) -> String {
    let hi = (now_year.max(2001) + 3) / 10;
    let decades: Vec<String> = (200..=hi).map(|d| d.to_string()).collect();
    format!("(?:{})", decades.join("|"))
}

/// Error building a date template.
#[derive(Debug, Clone)]
pub struct DateError {
    /// The datepattern line.
    pub pattern: String,
    /// What went wrong.
    pub message: String,
}

/// Finds and parses timestamps in log lines; stateful like fail2ban's
/// (the last winning template is tried first).
pub struct DateDetector {
    templates: Vec<Template>,
    last: Option<usize>,
    last_pos: usize,
    /// `(template, date text, now, epoch)` of the last conversion:
    /// consecutive lines often share their stamp.
    memo: Option<Memo>,
}

impl std::fmt::Debug for DateDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DateDetector")
            .field(
                "templates",
                &self.templates.iter().map(|t| &t.key).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The last converted stamp: consecutive lines often share it, or differ
/// only in their seconds.
#[derive(Debug, Clone)]
struct Memo {
    template: usize,
    text: Vec<u8>,
    now: i64,
    epoch: Option<f64>,
    /// Range of the `%S` digits within `text` and their value.
    seconds: Option<(usize, usize, i64)>,
    /// Range of the `%f` digits within `text`.
    frac: Option<(usize, usize)>,
}

/// `a == b` except inside the two byte ranges (same length slices).
fn eq_outside(a: &[u8], b: &[u8], r1: (usize, usize), r2: Option<(usize, usize)>) -> bool {
    let mut ranges = [r1, r2.unwrap_or((r1.1, r1.1))];
    ranges.sort_unstable();
    let mut pos = 0;
    for (x, y) in ranges {
        if x < pos {
            // overlapping ranges: be conservative
            return false;
        }
        if a.get(pos..x) != b.get(pos..x) {
            return false;
        }
        pos = pos.max(y);
    }
    a.get(pos..) == b.get(pos..)
}

fn parse_digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 2 {
        return None;
    }
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// A timestamp found in a line: where it is and what it means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateMatch {
    /// Byte range of the date text (group 1 of the template) in the line.
    pub start: usize,
    /// End of the date text.
    pub end: usize,
    /// UTC epoch seconds, `None` when the text did not form a valid date.
    pub epoch: Option<f64>,
}

impl DateDetector {
    /// Builds the detector for a filter's `datepattern` lines (empty: the
    /// default templates).
    pub fn new(patterns: &[String], now_year: i64) -> Result<DateDetector, DateError> {
        let m = meta().ok_or_else(|| DateError {
            pattern: String::new(),
            message: "internal regex".into(),
        })?;
        let years = years_re(now_year);
        let mut d = DateDetector {
            templates: Vec::new(),
            last: None,
            last_pos: 1,
            memo: None,
        };
        if patterns.is_empty() {
            d.add_defaults(&m, &years, false)?;
        }
        for p in patterns {
            let up = p.to_uppercase();
            let key = if p.contains('%') {
                p.clone()
            } else {
                up.clone()
            };
            if key == "{^LN-BEG}" {
                d.add_defaults(&m, &years, true)?;
            } else if key == "{DEFAULT}" {
                d.add_defaults(&m, &years, false)?;
            } else if up.contains("{DATE}") {
                for t in DEFAULT_TEMPLATES {
                    if matches!(*t, "EPOCH" | "TAI64N") {
                        continue;
                    }
                    let unb = t.strip_prefix("{^LN-BEG}").unwrap_or(t);
                    let full = replace_date(p, unb);
                    d.add_pattern(&m, &years, &full)?;
                }
            } else {
                d.add_pattern(&m, &years, p)?;
            }
        }
        Ok(d)
    }

    fn push(
        &mut self,
        re: String,
        anchored: bool,
        kind: Kind,
        key: String,
    ) -> Result<(), DateError> {
        if self.templates.iter().any(|t| t.key == key) {
            return Ok(());
        }
        let rx = pyre::compile(&re, false, false).map_err(|e| DateError {
            pattern: key.clone(),
            message: e,
        })?;
        let names: Vec<(String, usize)> = rx
            .capture_names()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (n.clone(), i)))
            .collect();
        let locs = rx.capture_locations();
        let idx = |name: &str| names.iter().find(|(n, _)| n == name).map(|(_, i)| *i);
        let sec_idx = idx("S");
        let frac_idx = if kind == Kind::Pattern {
            idx("f")
        } else {
            None
        };
        self.templates.push(Template {
            sec_idx,
            frac_idx,
            re: rx,
            locs,
            names,
            anchored,
            kind,
            hits: 0,
            distance: usize::MAX,
            key,
        });
        Ok(())
    }

    fn add_epoch(&mut self, m: &Meta, line_begin: bool) -> Result<(), DateError> {
        if line_begin {
            let (r, _) = bound_regex(
                m,
                r"((?P<square>(?<=^\[))?\d{10,11}\b(?:\.\d{3,6})?)(?(square)(?=\]))",
                WordBegin::Start,
                true,
            );
            self.push(r, true, Kind::Epoch, "{^LN-BEG}EPOCH".into())
        } else {
            let (r, a) = bound_regex(
                m,
                r"((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))\d{10,11}\b(?:\.\d{3,6})?)(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))",
                WordBegin::No,
                true,
            );
            self.push(r, a, Kind::Epoch, "EPOCH".into())
        }
    }

    fn add_tai(&mut self, m: &Meta, line_begin: bool) -> Result<(), DateError> {
        let wb = if line_begin {
            WordBegin::Start
        } else {
            WordBegin::No
        };
        let (r, a) = bound_regex(m, "@[0-9a-f]{24}", wb, true);
        let key = if line_begin {
            "{^LN-BEG}TAI64N"
        } else {
            "TAI64N"
        };
        self.push(r, a, Kind::Tai64n, key.into())
    }

    fn add_pattern(&mut self, m: &Meta, years: &str, pattern: &str) -> Result<(), DateError> {
        let up = pattern.to_uppercase();
        if !pattern.contains('%') {
            match up.as_str() {
                "EPOCH" => return self.add_epoch(m, false),
                "{^LN-BEG}EPOCH" | "^EPOCH" => return self.add_epoch(m, true),
                "TAI64N" => return self.add_tai(m, false),
                "{^LN-BEG}TAI64N" | "^TAI64N" => return self.add_tai(m, true),
                _ => {}
            }
        }
        let (wb, pat) = match pattern.strip_prefix("{^LN-BEG}") {
            Some(rest) => (WordBegin::Start, rest),
            None => (WordBegin::Yes, pattern),
        };
        let (mut regex, alpha) = expand_pattern(pat, years);
        if alpha {
            regex = format!("(?iu){regex}");
        }
        let (r, anchored) = bound_regex(m, &regex, wb, true);
        self.push(r, anchored, Kind::Pattern, pattern.to_string())
    }

    /// fail2ban's default list; `line_begin_only` keeps the line-anchored
    /// ones (`datepattern = {^LN-BEG}`).
    fn add_defaults(
        &mut self,
        m: &Meta,
        years: &str,
        line_begin_only: bool,
    ) -> Result<(), DateError> {
        // anchored copies first (preferred), then the originals
        for t in DEFAULT_TEMPLATES {
            if t.starts_with("{^LN-BEG}") || t.starts_with('^') {
                continue;
            }
            match *t {
                "EPOCH" => self.add_epoch(m, true)?,
                "TAI64N" => self.add_tai(m, true)?,
                _ => self.add_pattern(m, years, &format!("{{^LN-BEG}}{t}"))?,
            }
        }
        for t in DEFAULT_TEMPLATES {
            let anchored = t.starts_with("{^LN-BEG}") || t.starts_with('^');
            if line_begin_only && !anchored {
                continue;
            }
            self.add_pattern(m, years, t)?;
        }
        Ok(())
    }

    /// Number of templates (for diagnostics).
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// True when no template is configured.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    fn try_template(&mut self, i: usize, line: &[u8]) -> Option<usize> {
        let t = self.templates.get_mut(i)?;
        match t.re.captures_read(&mut t.locs, line) {
            Ok(Some(m)) => Some(m.start()),
            _ => None,
        }
    }

    /// Finds the timestamp of a line and converts it.
    pub fn find(&mut self, line: &[u8], ctx: &TimeContext) -> Option<DateMatch> {
        let n = self.templates.len();
        let mut winner: Option<(usize, usize)> = None;
        let mut skip = usize::MAX;
        if let Some(i) = self.last {
            if self.templates.get(i).is_some_and(|t| t.anchored) {
                skip = i;
                if let Some(d) = self.try_template(i, line) {
                    winner = Some((i, d));
                }
            }
        }
        if winner.is_none() {
            let mut found: Option<(usize, usize)> = None;
            for i in 0..n {
                if i == skip {
                    continue;
                }
                let Some(dist) = self.try_template(i, line) else {
                    continue;
                };
                let (anch, hits, tdist) = match self.templates.get(i) {
                    Some(t) => (t.anchored, t.hits, t.distance),
                    None => continue,
                };
                if i + 1 >= n || anch {
                    winner = Some((i, dist));
                    break;
                }
                let next_hits = self.templates.get(i + 1).map_or(0, |t| t.hits);
                if dist == 0 && hits > 0 && next_hits == 0 {
                    winner = Some((i, dist));
                    break;
                }
                if dist > tdist || dist > self.last_pos {
                    if found.is_none_or(|(_, fd)| dist < fd) {
                        found = Some((i, dist));
                    }
                    continue;
                }
                winner = Some((i, dist));
                break;
            }
            if winner.is_none() {
                if let Some((i, d)) = found {
                    // re-run to refresh its capture locations
                    self.try_template(i, line)?;
                    winner = Some((i, d));
                }
            }
        }
        let (i, dist) = winner?;
        self.last = Some(i);
        self.last_pos = dist;
        let t = self.templates.get_mut(i)?;
        t.hits += 1;
        t.distance = dist;
        let (s, e) = t.locs.get(1).or_else(|| t.locs.get(0))?;
        let raw = line.get(s..e).unwrap_or(&[]);
        // seconds range of this match, relative to the date text
        let rel = |idx: Option<usize>| {
            idx.and_then(|i| t.locs.get(i))
                .filter(|&(a, b)| a >= s && b <= e)
                .map(|(a, b)| (a - s, b - s))
        };
        let sec = rel(t.sec_idx);
        // fail2ban ignores sub-seconds (`%f`): they never change the epoch
        let frac = rel(t.frac_idx);
        if let Some(m) = &self.memo {
            if m.template == i && m.now == ctx.now && m.text.len() == raw.len() {
                if m.text.as_slice() == raw {
                    return Some(DateMatch {
                        start: s,
                        end: e,
                        epoch: m.epoch,
                    });
                }
                // same stamp but for the seconds (and sub-seconds): shift
                // (a DST change or a day roll never happens within one
                // minute's text)
                if let (Some((a, b, old)), Some((na, nb)), Some(ep)) = (m.seconds, sec, m.epoch) {
                    if (a, b) == (na, nb)
                        && m.frac == frac
                        && eq_outside(&m.text, raw, (a, b), frac)
                    {
                        if let Some(v) = raw.get(a..b).and_then(parse_digits) {
                            if v < 60 && old < 60 {
                                return Some(DateMatch {
                                    start: s,
                                    end: e,
                                    epoch: Some(ep + (v - old) as f64),
                                });
                            }
                        }
                    }
                }
            }
        }
        let text =
            |a: usize, b: usize| std::str::from_utf8(line.get(a..b).unwrap_or(&[])).unwrap_or("");
        let epoch = match t.kind {
            Kind::Epoch => text(s, e).parse::<f64>().ok(),
            Kind::Tai64n => {
                let v = text(s, e);
                v.get(2..17)
                    .and_then(|h| i64::from_str_radix(h, 16).ok())
                    .map(|x| x as f64)
            }
            Kind::Pattern => {
                let mut fields: Vec<(&str, &str)> = Vec::new();
                for (name, idx) in &t.names {
                    if let Some((a, b)) = t.locs.get(*idx) {
                        fields.push((name.as_str(), text(a, b)));
                    }
                }
                strptime_fields(&fields, ctx).map(|x| x as f64)
            }
        };
        let seconds =
            sec.and_then(|(a, b)| raw.get(a..b).and_then(parse_digits).map(|v| (a, b, v)));
        self.memo = Some(Memo {
            template: i,
            text: raw.to_vec(),
            now: ctx.now,
            epoch,
            seconds,
            frac,
        });
        Some(DateMatch {
            start: s,
            end: e,
            epoch,
        })
    }
}

fn replace_date(pre: &str, date: &str) -> String {
    let mut out = String::new();
    let mut rest = pre;
    loop {
        let up = rest.to_uppercase();
        match up.find("{DATE}") {
            Some(p) if up.len() == rest.len() => {
                let escaped = p > 0 && rest.as_bytes().get(p - 1) == Some(&b'\\');
                out.push_str(rest.get(..p).unwrap_or(""));
                if escaped {
                    out.push_str(rest.get(p..p + 6).unwrap_or(""));
                } else {
                    out.push_str(date);
                }
                rest = rest.get(p + 6..).unwrap_or("");
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const FULL_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Offsets (minutes) of zone abbreviations fail2ban knows.
fn tz_abbr(name: &str) -> Option<i64> {
    const T: &[(f64, &str)] = &[
        (-12.0, "Y"),
        (-11.0, "X NUT SST"),
        (-10.0, "W CKT HAST HST TAHT TKT"),
        (-9.0, "V AKST GAMT GIT HADT HNY"),
        (-8.0, "U AKDT CIST HAY HNP PST PT"),
        (-7.0, "T HAP HNR MST PDT"),
        (-6.0, "S CST EAST GALT HAR HNC MDT"),
        (-5.0, "R CDT COT EASST ECT EST ET HAC HNE PET"),
        (-4.0, "Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT"),
        (
            -3.0,
            "P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT",
        ),
        (-2.0, "O BRST FNT PMDT UYST WGST"),
        (-1.0, "N AZOT CVT EGT"),
        (0.0, "Z EGST GMT UTC WET WT"),
        (1.0, "A CET DFT WAT WEDT WEST"),
        (2.0, "B CAT CEDT CEST EET SAST WAST"),
        (3.0, "C EAT EEDT EEST IDT MSK"),
        (4.0, "D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT"),
        (
            5.0,
            "E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT",
        ),
        (6.0, "F ALMT BIOT BTT IOT KGT NOVT OMST YEKST"),
        (7.0, "G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB"),
        (
            8.0,
            "H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST",
        ),
        (9.0, "I AWDT IRKST JST KST PWT TLT WDT WIT YAKT"),
        (10.0, "K AEST ChST PGT VLAT YAKST YAPT"),
        (11.0, "L AEDT LHDT MAGT NCT PONT SBT VLAST VUT"),
        (
            12.0,
            "M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT",
        ),
        (13.0, "FJST NZDT"),
        (11.5, "NFT"),
        (10.5, "ACDT LHST"),
        (9.5, "ACST"),
        (6.5, "CCT MMT"),
        (5.75, "NPT"),
        (5.5, "SLT"),
        (4.5, "AFT IRDT"),
        (3.5, "IRST"),
        (-2.5, "HAT NDT"),
        (-3.5, "HNT NST NT"),
        (-4.5, "HLV VET"),
        (-9.5, "MART MIT"),
    ];
    if name.is_empty() {
        return Some(0);
    }
    T.iter()
        .find(|(_, names)| names.split(' ').any(|n| n == name))
        .map(|(h, _)| (h * 60.0) as i64)
}

/// fail2ban's `zone2offset` for `%z` / `%Z` text: minutes east of UTC.
fn zone_offset(z: &str) -> Option<i64> {
    if matches!(z, "Z" | "UTC" | "GMT") {
        return Some(0);
    }
    let split = z.find(['+', '-']).unwrap_or(z.len());
    let (abbr, off) = z.split_at(split);
    let base = tz_abbr(abbr)?;
    if off.is_empty() {
        return Some(base);
    }
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits = off.get(1..)?;
    let num = |s: &str| s.parse::<i64>().ok();
    let mins = if digits.len() <= 2 {
        num(digits)? * 60
    } else if digits.as_bytes().get(2) == Some(&b':') {
        num(digits.get(0..2)?)? * 60 + num(digits.get(3..5)?)?
    } else {
        num(digits.get(0..2)?)? * 60 + num(digits.get(2..4)?)?
    };
    Some(base + sign * mins)
}

/// fail2ban's `reGroupDictStrptime`: named fields to a UTC epoch.
fn strptime_fields(fields: &[(&str, &str)], ctx: &TimeContext) -> Option<i64> {
    let mut year: Option<i64> = None;
    let mut month: Option<u32> = None;
    let mut day: Option<u32> = None;
    let (mut hour, mut minute, mut second) = (0i64, 0i64, 0i64);
    let mut tzoffset: Option<i64> = None;
    let mut julian: Option<i64> = None;
    let get = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    for (key, val) in fields {
        let num = || val.trim().parse::<i64>().ok();
        match *key {
            "y" => {
                let mut y = num()?;
                if y <= 2000 {
                    y += 2000;
                }
                year = Some(y);
            }
            "Y" => year = Some(num()?),
            "m" => month = Some(u32::try_from(num()?).ok()?),
            "B" => {
                let l = val.to_lowercase();
                month = Some(FULL_MONTHS.iter().position(|m| *m == l)? as u32 + 1);
            }
            "b" => {
                let l = val.to_lowercase();
                month = Some(MONTHS.iter().position(|m| *m == l)? as u32 + 1);
            }
            "d" => day = Some(u32::try_from(num()?).ok()?),
            "H" => hour = num()?,
            "I" => {
                hour = num()?;
                let ampm = get("p").unwrap_or("").to_lowercase();
                if ampm.is_empty() || ampm == "am" {
                    if hour == 12 {
                        hour = 0;
                    }
                } else if ampm == "pm" && hour != 12 {
                    hour += 12;
                }
            }
            "M" => minute = num()?,
            "S" => second = num()?,
            "j" => julian = Some(num()?),
            "z" | "Z" => tzoffset = Some(zone_offset(val)?),
            _ => {}
        }
    }
    let now_naive_local = ctx.now + ctx.tz.offset_at_utc(ctx.now);
    let (ny, nm, nd) = civil_from_days(now_naive_local.div_euclid(86400));
    let mut assume_year = false;
    let year = match year {
        Some(y) => y,
        None => {
            assume_year = true;
            ny
        }
    };
    let (mut month, mut day) = (month, day);
    if month.is_none() || day.is_none() {
        if let Some(j) = julian {
            let (y2, m2, d2) = civil_from_days(days_from_civil(year, 1, 1) + j - 1);
            let _ = y2;
            month = Some(m2);
            day = Some(d2);
        }
    }
    let mut assume_today = false;
    if month.is_none() && day.is_none() {
        month = Some(nm);
        day = Some(nd);
        assume_today = true;
    }
    let month = month?;
    let day = day.unwrap_or(1);
    if !(1..=12).contains(&month) || day < 1 || i64::from(day) > days_in_month(year, month) {
        return None;
    }
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..62).contains(&second) {
        return None;
    }
    let tod = hour * 3600 + minute * 60 + second.min(59);
    let mut naive = days_from_civil(year, month, day) * 86400 + tod;
    if let Some(off) = tzoffset {
        naive -= off * 60;
    }
    if assume_today && naive > now_naive_local {
        naive -= 86400;
    }
    if assume_year && naive > now_naive_local + 86400 {
        if month == 2 && day == 29 && !is_leap(year - 1) {
            return None;
        }
        naive = days_from_civil(year - 1, month, day) * 86400 + tod;
        if let Some(off) = tzoffset {
            naive -= off * 60;
        }
    }
    Some(match tzoffset {
        Some(_) => naive,
        None => ctx.tz.local_to_utc(naive),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ctx() -> TimeContext {
        TimeContext {
            now: 1124013600,
            wall_clock: 1124013600,
            tz: PosixTz::parse("CET-01CEST-02,M3.5.0,M10.5.0").unwrap(),
        }
    }

    #[test]
    fn tz_rules() {
        let tz = ctx().tz;
        // 2005-08-14 12:00 CEST
        assert_eq!(tz.offset_at_utc(1124013600), 7200);
        assert_eq!(tz.offset_at_utc(1109338450), 3600);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2005, 2, 25)), (2005, 2, 25));
    }

    #[test]
    fn syslog_stamp() {
        let mut d = DateDetector::new(&["{^LN-BEG}".to_string()], 2026).unwrap();
        let line = b"Feb 25 14:34:10 belka sshd[31602]: x";
        let m = d.find(line, &ctx()).unwrap();
        assert_eq!((m.start, m.end), (0, 15));
        assert_eq!(m.epoch, Some(1109338450.0));
    }

    #[test]
    fn memo_helpers() {
        assert!(eq_outside(
            b"10:00:05.123 x",
            b"10:00:07.999 x",
            (6, 8),
            Some((9, 12))
        ));
        assert!(!eq_outside(
            b"10:00:05.123 x",
            b"10:01:07.999 x",
            (6, 8),
            Some((9, 12))
        ));
        assert!(eq_outside(b"10:00:05 x", b"10:00:07 x", (6, 8), None));
        assert!(!eq_outside(b"10:00:05 x", b"10:00:07 y", (6, 8), None));
        // consecutive stamps through the memo equal fresh conversions
        let mut d = DateDetector::new(&["{^LN-BEG}".to_string()], 2026).unwrap();
        let mut fresh = DateDetector::new(&["{^LN-BEG}".to_string()], 2026).unwrap();
        for l in [
            "Feb 25 14:34:10 a",
            "Feb 25 14:34:59 a",
            "Feb 25 14:35:01 a",
            "Mar 27 02:59:59 a",
        ] {
            let a = d.find(l.as_bytes(), &ctx()).unwrap().epoch;
            fresh.memo = None;
            let b = fresh.find(l.as_bytes(), &ctx()).unwrap().epoch;
            assert_eq!(a, b, "{l}");
        }
    }

    #[test]
    fn defaults_and_iso() {
        let mut d = DateDetector::new(&[], 2026).unwrap();
        let m = d.find(b"2013-06-11 02:09:40 +0300 PROXY", &ctx()).unwrap();
        assert_eq!(m.epoch, Some(1370905780.0));
        let m = d.find(b"11-06-2013 02:09:40 +0300 x", &ctx()).unwrap();
        assert!(m.epoch.is_some());
    }
}
