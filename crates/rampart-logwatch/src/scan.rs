//! The pure half of line matching: the compiled prefregex, failregexes
//! and ignoreregexes and the literal prefilter. Scanning a line changes
//! nothing but scratch space, so a [`Matcher`] can be cloned onto worker
//! threads while the stateful half ([`crate::Filter`]: date template
//! learning, last date, multi-line failure ids) stays in line order.

use aho_corasick::AhoCorasick;
use compact_str::CompactString;
use memchr::memmem;
use pcre2::bytes::{CaptureLocations, Regex};

use crate::filter::{FailData, Located};
use crate::prefilter::{anchored_first_bytes, anchored_prefix, required_literals};
use crate::pyre;

/// One compiled regex with its named groups.
pub(crate) struct Compiled {
    re: Regex,
    locs: CaptureLocations,
    pub(crate) names: Vec<(CompactString, usize)>,
    /// `(alt group name, target name)`, sorted (fail2ban `<F-ALT_X>`).
    alt: Vec<(String, CompactString)>,
    skiplines: Vec<usize>,
    /// Literals of which every match contains one (None: always run).
    pub(crate) literal: Option<Vec<Vec<u8>>>,
    /// Cheapest per-line test that the regex can match at all.
    check: Check,
    /// First bytes a match can start with (`^` regexes, single line).
    first: Option<[u64; 4]>,
    pub(crate) source: String,
    /// Group index of `content` (prefregex `<F-CONTENT>`).
    content: Option<usize>,
}

impl Compiled {
    pub(crate) fn new(src: &str, multiline: bool, use_dns: bool) -> Result<Compiled, String> {
        let tagged = pyre::resolve_tags(src, use_dns);
        if tagged.trim_start().is_empty() {
            return Err("empty regex".to_string());
        }
        let re = pyre::compile(&tagged, multiline, false)?;
        let names: Vec<(CompactString, usize)> = re
            .capture_names()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (CompactString::from(n.as_str()), i)))
            .collect();
        let mut alt: Vec<(String, CompactString)> = names
            .iter()
            .filter_map(|(n, _)| {
                let rest = n.strip_prefix("alt_")?;
                // `alt_user_1` -> `user`
                let base = match rest.rfind('_') {
                    Some(p)
                        if rest.get(p + 1..).is_some_and(|d| {
                            !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
                        }) =>
                    {
                        rest.get(..p).unwrap_or(rest)
                    }
                    _ => rest,
                };
                let base = match base {
                    "id" => "fid",
                    "port" => "fport",
                    b => b,
                };
                Some((n.to_string(), CompactString::from(base)))
            })
            .collect();
        alt.sort();
        let skiplines = names
            .iter()
            .filter(|(n, _)| n.starts_with("skiplines"))
            .map(|(_, i)| *i)
            .collect();
        let locs = re.capture_locations();
        let content = names.iter().find(|(n, _)| n == "content").map(|(_, i)| *i);
        let literal = required_literals(&tagged);
        let check = match (multiline, anchored_prefix(&tagged), &literal) {
            (false, Some(p), _) => Check::Prefix(p),
            (_, _, Some(set)) => Check::Any(
                set.iter()
                    .map(|l| memmem::Finder::new(l).into_owned())
                    .collect(),
            ),
            _ => Check::Always,
        };
        let first = if multiline {
            None
        } else {
            anchored_first_bytes(&tagged)
        };
        Ok(Compiled {
            check,
            first,
            literal,
            re,
            locs,
            names,
            alt,
            skiplines,
            source: src.to_string(),
            content,
        })
    }

    pub(crate) fn search(&mut self, buf: &[u8]) -> Option<(usize, usize)> {
        match self.re.captures_read(&mut self.locs, buf) {
            Ok(Some(m)) => Some((m.start(), m.end())),
            _ => None,
        }
    }

    pub(crate) fn groups(&self, buf: &[u8]) -> FailData {
        self.groups_skip(buf, None)
    }

    /// Groups except `skip` (the prefregex's `content`, used as a range).
    fn groups_skip(&self, buf: &[u8], skip: Option<usize>) -> FailData {
        let mut f = FailData::default();
        f.values.reserve(self.names.len() + 4);
        for (n, i) in &self.names {
            if skip == Some(*i) {
                continue;
            }
            // groups that did not participate stay absent (same as a
            // Python `None` for every use fail2ban makes of them)
            if let Some((a, b)) = self.locs.get(*i) {
                let bytes = buf.get(a..b).unwrap_or(&[]);
                let v = match std::str::from_utf8(bytes) {
                    Ok(s) => CompactString::new(s),
                    Err(_) => CompactString::new(String::from_utf8_lossy(bytes)),
                };
                f.values.push((n.clone(), Some(v)));
            }
        }
        for (k, n) in &self.alt {
            let v = f.get_compact(k);
            if v.as_deref().is_some_and(|s| !s.is_empty()) && !f.truthy(n) {
                f.set(n, v);
            }
        }
        f
    }

    pub(crate) fn skipped(&self, buf: &[u8]) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for i in &self.skiplines {
            if let Some((a, b)) = self.locs.get(*i) {
                all.extend_from_slice(buf.get(a..b).unwrap_or(&[]));
            }
        }
        all.split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }
}

/// A cheap necessary condition for a regex to match a buffer.
#[derive(Clone)]
enum Check {
    /// The buffer starts with these bytes (`^literal` regexes).
    Prefix(Vec<u8>),
    /// One of these literals occurs.
    Any(Vec<memmem::Finder<'static>>),
    /// No shortcut.
    Always,
}

impl Check {
    fn may_match(&self, hay: &[u8]) -> bool {
        match self {
            // first byte inline: most regexes are rejected without memcmp
            Check::Prefix(p) => hay.first() == p.first() && hay.starts_with(p),
            Check::Any(fs) => fs.iter().any(|f| f.find(hay).is_some()),
            Check::Always => true,
        }
    }
}

impl Clone for Compiled {
    fn clone(&self) -> Compiled {
        Compiled {
            re: self.re.clone(),
            locs: self.re.capture_locations(),
            names: self.names.clone(),
            alt: self.alt.clone(),
            skiplines: self.skiplines.clone(),
            literal: self.literal.clone(),
            check: self.check.clone(),
            first: self.first,
            source: self.source.clone(),
            content: self.content,
        }
    }
}

/// The compiled regexes of one filter and the literal prefilter over its
/// failregexes. Cloning is cheap (compiled code is shared) and gives
/// each thread its own capture space.
#[derive(Clone)]
pub struct Matcher {
    pub(crate) pref: Option<Compiled>,
    pub(crate) fail: Vec<Compiled>,
    pub(crate) ignore: Vec<Compiled>,
    /// Literal prefilter over all failregexes (None: some regex has no
    /// required literal, run all).
    ac: Option<AhoCorasick>,
    /// The same literals in a SIMD searcher (line rejection).
    teddy: Option<aho_corasick::packed::Searcher>,
    /// `ac` pattern index -> failregex index.
    ac_map: Vec<usize>,
    /// Failregexes without literals: run on every line.
    always: Vec<usize>,
    pub(crate) candidates: Vec<bool>,
    scratch: Vec<u8>,
    scratch2: Vec<u8>,
    /// Whether the literal rejection scan is worth running (see
    /// [`RejectStats`]).
    reject: RejectStats,
}

/// The literal scan only ever rejects lines; on logs where nearly every
/// line passes it (an sshd-only auth.log) it is pure cost, so it is
/// paused while its recent pass rate is above 95% and re-measured after
/// a while. Results never depend on it.
#[derive(Clone, Default)]
struct RejectStats {
    scanned: u32,
    passed: u32,
    /// Lines left to skip the scan for.
    paused: u32,
}

impl RejectStats {
    /// Lines measured per decision.
    const SAMPLE: u32 = 256;
    /// Lines the scan is paused for when it rejected too little.
    const PAUSE: u32 = 16_384;

    fn should_scan(&mut self) -> bool {
        if self.paused > 0 {
            self.paused -= 1;
            return false;
        }
        true
    }

    fn record(&mut self, passed: bool) {
        self.scanned += 1;
        self.passed += u32::from(passed);
        if self.scanned >= Self::SAMPLE {
            if self.passed * 100 > self.scanned * 95 {
                self.paused = Self::PAUSE;
            }
            self.scanned = 0;
            self.passed = 0;
        }
    }
}

/// What the failregexes of a line run on.
#[derive(Clone, Copy)]
enum Input {
    /// The line (no prefregex, or no content group).
    Line,
    /// The prefregex content, copied with a newline.
    Copy,
    /// The prefregex content, which ends the line: a slice of it.
    Slice(usize, usize),
}

/// What the regexes found in one single-line buffer, before the stateful
/// merge ([`crate::Filter::apply`]). Lines that match nothing carry no
/// allocation.
#[derive(Debug, Default)]
pub struct Scan {
    /// The text before the date matched an ignoreregex (the line is
    /// dropped before its date counts).
    pub(crate) ignored_text: bool,
    /// Some failregex matched.
    pub(crate) matched_regex: bool,
    /// A failregex matched but an ignoreregex dropped the line.
    pub(crate) ignored_hit: bool,
    /// `(failregex index, groups)` of the matches that were not ignored.
    pub(crate) hits: Vec<(usize, FailData)>,
}

impl Matcher {
    pub(crate) fn new(
        pref: Option<Compiled>,
        fail: Vec<Compiled>,
        ignore: Vec<Compiled>,
    ) -> Matcher {
        let mut lits: Vec<&[u8]> = Vec::new();
        let mut ac_map = Vec::new();
        let mut always = Vec::new();
        for (i, c) in fail.iter().enumerate() {
            match &c.literal {
                Some(set) => {
                    for l in set {
                        lits.push(l);
                        ac_map.push(i);
                    }
                }
                None => always.push(i),
            }
        }
        let ac = if lits.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&lits)
                .ok()
        };
        if ac.is_none() {
            always = (0..fail.len()).collect();
        }
        // SIMD (Teddy) searcher for the rejection scan when available
        let teddy = if lits.is_empty() {
            None
        } else {
            let mut b = aho_corasick::packed::Config::new().builder();
            b.extend(lits.iter());
            b.build()
        };
        let n = fail.len();
        Matcher {
            pref,
            fail,
            ignore,
            ac,
            teddy,
            ac_map,
            always,
            candidates: vec![true; n],
            scratch: Vec::new(),
            scratch2: Vec::new(),
            reject: RejectStats::default(),
        }
    }

    /// Whether the text matches an ignoreregex (the text plus a newline,
    /// as fail2ban buffers it).
    pub(crate) fn ignored_text(&mut self, text: &[u8]) -> bool {
        if self.ignore.is_empty() {
            return false;
        }
        let mut buf = Vec::with_capacity(text.len() + 1);
        buf.extend_from_slice(text);
        buf.push(b'\n');
        self.ignore.iter_mut().any(|r| r.search(&buf).is_some())
    }

    /// Whether a joined multi-line buffer matches an ignoreregex.
    pub(crate) fn ignored_buffer(&mut self, buf: &[u8]) -> bool {
        !self.ignore.is_empty() && self.ignore.iter_mut().any(|r| r.search(buf).is_some())
    }

    /// Sets `candidates` from the literal prefilter (all true without one).
    /// Returns false when no failregex can match.
    pub(crate) fn mark_candidates(&mut self, buf: &[u8]) -> bool {
        let Some(ac) = &self.ac else {
            self.candidates.iter_mut().for_each(|c| *c = true);
            return true;
        };
        self.candidates.iter_mut().for_each(|c| *c = false);
        let mut any = false;
        for &i in &self.always {
            if let Some(c) = self.candidates.get_mut(i) {
                *c = true;
                any = true;
            }
        }
        for m in ac.find_overlapping_iter(buf) {
            if let Some(&ri) = self.ac_map.get(m.pattern().as_usize()) {
                if let Some(c) = self.candidates.get_mut(ri) {
                    *c = true;
                    any = true;
                }
            }
        }
        any
    }

    /// Scans one line of a `maxlines = 1` filter: `pre` is the text before
    /// the date (checked against the ignoreregexes first, as fail2ban
    /// does), `pre + post` the line without its date.
    pub fn scan(&mut self, pre: &[u8], post: &[u8]) -> Scan {
        let mut line = std::mem::take(&mut self.scratch);
        line.clear();
        line.extend_from_slice(pre);
        line.extend_from_slice(post);
        line.push(b'\n');
        let res = self.scan_buffer(pre, &line);
        self.scratch = line;
        res
    }

    /// [`Matcher::scan`] of a raw line and its [`Located`] date: when the
    /// date leads the line and a newline ends it, the text after the date
    /// is already the buffer the regexes need and nothing is copied.
    pub fn scan_line(&mut self, line: &[u8], loc: &Located) -> Scan {
        let (pre, post) = loc.parts(line);
        let tail = pre
            .is_empty()
            .then(|| line.get(loc.post_start()..=loc.len()))
            .flatten()
            .filter(|t| t.last() == Some(&b'\n'));
        match tail {
            Some(tail) => self.scan_buffer(pre, tail),
            None => self.scan(pre, post),
        }
    }

    /// The ignoreregexes on `pre`, then the regexes on `buf` (the line
    /// without its date, plus a newline).
    fn scan_buffer(&mut self, pre: &[u8], buf: &[u8]) -> Scan {
        let mut res = Scan::default();
        if self.ignored_text(pre) {
            res.ignored_text = true;
            return res;
        }
        let mut content = std::mem::take(&mut self.scratch2);
        self.scan_inner(buf, &mut content, &mut res);
        self.scratch2 = content;
        res
    }

    fn scan_inner(&mut self, line: &[u8], content: &mut Vec<u8>, res: &mut Scan) {
        if self.always.is_empty() && self.reject.should_scan() {
            // one literal scan rejects most lines without any regex
            let hit = match (&self.teddy, &self.ac) {
                (Some(t), _) => t.find(line).is_some(),
                (None, Some(ac)) => ac.find(line).is_some(),
                (None, None) => true,
            };
            self.reject.record(hit);
            if !hit {
                return;
            }
        }
        // the failregexes see the prefregex's `content` plus a newline:
        // a slice of the line when the content ends the line, else a copy
        let mut input = Input::Line;
        let mut empty_content = false;
        let mut content_idx = None;
        if let Some(p) = self.pref.as_mut() {
            if p.search(line).is_none() {
                return;
            }
            content_idx = p.content;
            if let Some((a, b)) = content_idx.and_then(|i| p.locs.get(i)) {
                if b == a {
                    empty_content = true;
                }
                if b > a {
                    if line.get(b) == Some(&b'\n') && b + 1 == line.len() {
                        input = Input::Slice(a, b + 1);
                    } else {
                        content.clear();
                        content.extend_from_slice(line.get(a..b).unwrap_or(&[]));
                        content.push(b'\n');
                        input = Input::Copy;
                    }
                }
            }
        }
        // the ignoreregexes see the whole line, once per line
        let mut ignored: Option<bool> = None;
        let mut pre: Option<FailData> = None;
        for i in 0..self.fail.len() {
            let b: &[u8] = match input {
                Input::Line => line,
                Input::Copy => content,
                Input::Slice(a, z) => line.get(a..z).unwrap_or(&[]),
            };
            let Some(r) = self.fail.get_mut(i) else {
                continue;
            };
            if let Some(set) = &r.first {
                let c = b.first().copied().unwrap_or(b'\n');
                if set
                    .get(usize::from(c >> 6))
                    .is_none_or(|w| w & (1u64 << (c & 63)) == 0)
                {
                    continue;
                }
            }
            if !r.check.may_match(b) || r.search(b).is_none() {
                continue;
            }
            let fail = r.groups(b);
            res.matched_regex = true;
            let ign = match ignored {
                Some(x) => x,
                None => {
                    let x = !self.ignore.is_empty()
                        && self.ignore.iter_mut().any(|x| x.search(line).is_some());
                    ignored = Some(x);
                    x
                }
            };
            if ign {
                res.ignored_hit = true;
                continue;
            }
            if pre.is_none() {
                // prefregex groups only once some failregex matched (its
                // capture locations are still those of this line)
                pre = Some(match &self.pref {
                    Some(p) => {
                        let mut g = p.groups_skip(line, content_idx);
                        if empty_content {
                            // an empty content stays a group value, as in fail2ban
                            g.set("content", Some(CompactString::default()));
                        }
                        g
                    }
                    None => FailData::default(),
                });
            }
            res.hits.push((i, fail));
        }
        // merged here, off the ordered stage
        if let Some(pre) = pre.filter(|p| !p.values.is_empty()) {
            for (_, fail) in &mut res.hits {
                fail.merge_prefregex(&pre);
            }
        }
    }
}
