//! The line matcher: fail2ban's `Filter.processLine` / `findFailure`
//! semantics (date cut, line buffer, prefregex + `<F-CONTENT>`,
//! failregex/ignoreregex, multi-line failure ids with `<F-MLFID>`,
//! `<F-NOFAIL>`, `<F-MLFFORGET>`, `<F-MLFGAINED>`).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use pcre2::bytes::{CaptureLocations, Regex};

use crate::config::FilterDef;
use crate::date::{DateDetector, TimeContext};
use crate::prefilter::{anchored_first_bytes, anchored_prefix, required_literals};
use crate::{pyre, CompileError};
use memchr::memmem;

/// Entries kept in the multi-line failure-id cache (fail2ban: 100).
const MLFID_CACHE_MAX: usize = 100;

/// One compiled regex with its named groups.
struct Compiled {
    re: Regex,
    locs: CaptureLocations,
    names: Vec<(Arc<str>, usize)>,
    /// `(alt group name, target name)`, sorted (fail2ban `<F-ALT_X>`).
    alt: Vec<(String, Arc<str>)>,
    skiplines: Vec<usize>,
    /// Literals of which every match contains one (None: always run).
    literal: Option<Vec<Vec<u8>>>,
    /// Cheapest per-line test that the regex can match at all.
    check: Check,
    /// First bytes a match can start with (`^` regexes, single line).
    first: Option<[u64; 4]>,
    source: String,
}

impl Compiled {
    fn new(src: &str, multiline: bool, use_dns: bool) -> Result<Compiled, String> {
        let tagged = pyre::resolve_tags(src, use_dns);
        if tagged.trim_start().is_empty() {
            return Err("empty regex".to_string());
        }
        let re = pyre::compile(&tagged, multiline, false)?;
        let names: Vec<(Arc<str>, usize)> = re
            .capture_names()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (Arc::from(n.as_str()), i)))
            .collect();
        let mut alt: Vec<(String, Arc<str>)> = names
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
                Some((n.to_string(), Arc::from(base)))
            })
            .collect();
        alt.sort();
        let skiplines = names
            .iter()
            .filter(|(n, _)| n.starts_with("skiplines"))
            .map(|(_, i)| *i)
            .collect();
        let locs = re.capture_locations();
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
        })
    }

    fn search(&mut self, buf: &[u8]) -> Option<(usize, usize)> {
        match self.re.captures_read(&mut self.locs, buf) {
            Ok(Some(m)) => Some((m.start(), m.end())),
            _ => None,
        }
    }

    fn groups(&self, buf: &[u8]) -> FailData {
        self.groups_skip(buf, "")
    }

    /// Groups except `skip` (the prefregex's `content`, used as a range).
    fn groups_skip(&self, buf: &[u8], skip: &str) -> FailData {
        let mut f = FailData::default();
        for (n, i) in &self.names {
            if !skip.is_empty() && &**n == skip {
                continue;
            }
            // groups that did not participate stay absent (same as a
            // Python `None` for every use fail2ban makes of them)
            if let Some((a, b)) = self.locs.get(*i) {
                let bytes = buf.get(a..b).unwrap_or(&[]);
                let v = match std::str::from_utf8(bytes) {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                };
                f.values.push((Arc::clone(n), Some(v)));
            }
        }
        for (k, n) in &self.alt {
            let v = f.get(k);
            if v.as_deref().is_some_and(|s| !s.is_empty()) && !f.truthy(n) {
                f.set_arc(n, v);
            }
        }
        f
    }

    fn group_range(&self, name: &str) -> Option<(usize, usize)> {
        let (_, i) = self.names.iter().find(|(n, _)| &**n == name)?;
        self.locs.get(*i)
    }

    fn skipped(&self, buf: &[u8]) -> Vec<Vec<u8>> {
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

/// Key equality with a cheap first-byte test before `memcmp`.
fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Matched group values of one failure (a Python dict in fail2ban):
/// ordered, a present key may hold `None` (group did not participate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailData {
    /// `(name, value)`.
    pub values: Vec<(Arc<str>, Option<String>)>,
    /// Users seen on one multi-line failure id.
    pub users: Option<BTreeSet<String>>,
    matches: Option<usize>,
    nofail_matches: Option<usize>,
    /// A line of this id matched but had no address yet.
    pending: bool,
}

impl FailData {
    /// Value of a key, borrowed (`None`: absent or no value).
    pub fn get_ref(&self, k: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| key_eq(n, k))
            .and_then(|(_, v)| v.as_deref())
    }

    /// Value of a key (`None`: absent or no value).
    pub fn get(&self, k: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| key_eq(n, k))
            .and_then(|(_, v)| v.clone())
    }

    /// Whether the key is present at all (even without value).
    pub fn has(&self, k: &str) -> bool {
        self.values.iter().any(|(n, _)| key_eq(n, k))
    }

    /// Python truthiness of the value.
    pub fn truthy(&self, k: &str) -> bool {
        self.values
            .iter()
            .any(|(n, v)| key_eq(n, k) && v.as_deref().is_some_and(|s| !s.is_empty()))
    }

    fn set(&mut self, k: &str, v: Option<String>) {
        if let Some(slot) = self.values.iter_mut().find(|(n, _)| key_eq(n, k)) {
            slot.1 = v;
        } else {
            self.values.push((Arc::from(k), v));
        }
    }

    fn set_arc(&mut self, k: &Arc<str>, v: Option<String>) {
        if let Some(slot) = self.values.iter_mut().find(|(n, _)| key_eq(n, k)) {
            slot.1 = v;
        } else {
            self.values.push((Arc::clone(k), v));
        }
    }

    fn remove(&mut self, k: &str) -> bool {
        let before = self.values.len();
        self.values.retain(|(n, _)| !key_eq(n, k));
        before != self.values.len()
    }
}

/// A failure found in a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Index of the failregex that matched.
    pub regex_index: usize,
    /// Failure id: address, host name or `<F-ID>` value.
    pub host: String,
    /// UTC epoch of the line.
    pub time: f64,
    /// Group values (user, ip4, ip6, dns ...).
    pub data: FailData,
    /// Lines that make up this failure (multi-line sessions).
    pub attempts: usize,
}

/// Outcome of one line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineResult {
    /// Failures (no `<F-NOFAIL>` helpers).
    pub failures: Vec<Failure>,
    /// The line was dropped by an ignoreregex.
    pub ignored: bool,
    /// Some failregex matched (including no-failure helpers).
    pub matched_regex: bool,
    /// A failregex matched but the line had no usable date.
    pub no_date: bool,
    /// Failregexes that matched a real failure whose address is not known
    /// yet (multi-line ids): fail2ban-regex counts such lines as matched.
    pub pending: Vec<usize>,
}

type Tuple = (Vec<u8>, Vec<u8>);

/// A compiled filter plus its per-log state (line buffer, last date,
/// multi-line failure cache). One per log stream.
pub struct Filter {
    pref: Option<Compiled>,
    fail: Vec<Compiled>,
    ignore: Vec<Compiled>,
    maxlines: usize,
    dates: DateDetector,
    ctx: TimeContext,
    buffer: Vec<Tuple>,
    last_date: Option<f64>,
    cache: HashMap<String, FailData, foldhash::fast::RandomState>,
    cache_order: VecDeque<String>,
    /// Literal prefilter over all failregexes (None: some regex has no
    /// required literal, run all).
    ac: Option<AhoCorasick>,
    /// The same literals in a SIMD searcher (line rejection).
    teddy: Option<aho_corasick::packed::Searcher>,
    /// `ac` pattern index -> failregex index.
    ac_map: Vec<usize>,
    /// Failregexes without literals: run on every line.
    always: Vec<usize>,
    candidates: Vec<bool>,
    scratch: Vec<u8>,
    scratch2: Vec<u8>,
    collect_fields: bool,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field(
                "failregex",
                &self.fail.iter().map(|c| &c.source).collect::<Vec<_>>(),
            )
            .field("maxlines", &self.maxlines)
            .finish()
    }
}

impl Filter {
    /// Compiles a filter definition. `ctx` gives the clock for year-less
    /// stamps and the zone of zone-less ones.
    pub fn new(def: &FilterDef, ctx: TimeContext) -> Result<Filter, CompileError> {
        let ml = def.maxlines > 1;
        let err = |key: &str, idx: usize, regex: &str, message: String| CompileError {
            file: def.file.clone(),
            key: key.to_string(),
            index: idx,
            regex: regex.to_string(),
            message,
        };
        let pref = match &def.prefregex {
            Some(p) => Some(Compiled::new(p, ml, true).map_err(|e| err("prefregex", 0, p, e))?),
            None => None,
        };
        let mut fail = Vec::new();
        for (i, r) in def.failregex.iter().enumerate() {
            let c = Compiled::new(r, ml, true).map_err(|e| err("failregex", i, r, e))?;
            let has_id = |c: &Compiled| {
                c.names
                    .iter()
                    .any(|(n, _)| matches!(&**n, "fid" | "ip4" | "ip6" | "dns" | "mlfid"))
            };
            if !has_id(&c) && !pref.as_ref().is_some_and(has_id) {
                return Err(err(
                    "failregex",
                    i,
                    r,
                    "no failure-id group (<HOST>, <ADDR>, <F-ID>...)".into(),
                ));
            }
            fail.push(c);
        }
        let mut ignore = Vec::new();
        for (i, r) in def.ignoreregex.iter().enumerate() {
            ignore.push(Compiled::new(r, ml, true).map_err(|e| err("ignoreregex", i, r, e))?);
        }
        let year = crate::date::civil_from_days(ctx.now.max(ctx.wall_clock).div_euclid(86400)).0;
        let dates = DateDetector::new(&def.datepattern, year).map_err(|e| CompileError {
            file: def.file.clone(),
            key: "datepattern".into(),
            index: 0,
            regex: e.pattern,
            message: e.message,
        })?;
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
        Ok(Filter {
            pref,
            fail,
            ignore,
            maxlines: def.maxlines.max(1),
            dates,
            ctx,
            buffer: Vec::new(),
            last_date: None,
            cache: HashMap::default(),
            cache_order: VecDeque::new(),
            ac,
            teddy,
            ac_map,
            always,
            candidates: vec![true; n],
            scratch: Vec::new(),
            scratch2: Vec::new(),
            collect_fields: true,
        })
    }

    /// Number of failregexes.
    pub fn failregex_count(&self) -> usize {
        self.fail.len()
    }

    /// Source text of failregex `i` (after substitution).
    pub fn failregex_source(&self, i: usize) -> Option<&str> {
        self.fail.get(i).map(|c| c.source.as_str())
    }

    /// Whether failures carry their group values (`Failure::data`, on by
    /// default). Counting tools that only need hosts turn it off and save
    /// a copy per failure.
    pub fn set_collect_fields(&mut self, yes: bool) {
        self.collect_fields = yes;
    }

    /// Moves the reference clock (year-less stamps, journal lines).
    pub fn set_now(&mut self, now: i64) {
        self.ctx.now = now;
    }

    /// Processes a log file line (with its own timestamp).
    pub fn process_line(&mut self, line: &[u8]) -> LineResult {
        let mut l = line;
        while let Some((&last, rest)) = l.split_last() {
            if last == b'\n' || last == b'\r' {
                l = rest;
            } else {
                break;
            }
        }
        match self.dates.find(l, &self.ctx) {
            Some(m) => {
                let pre = l.get(..m.start).unwrap_or(&[]);
                let post = l.get(m.end..).unwrap_or(&[]);
                // fail2ban checks ignoreregex on the text before the date
                // here (its tuple slicing), the full line when no date.
                if self.ignored_text(pre) {
                    return LineResult {
                        ignored: true,
                        ..LineResult::default()
                    };
                }
                let date = match m.epoch {
                    // an empty date text (`^WARNING:()**`) means "no stamp"
                    _ if m.start == m.end => self.last_date,
                    Some(e) => {
                        self.last_date = Some(e);
                        Some(e)
                    }
                    None => self.last_date,
                };
                self.find_failure(pre, post, date)
            }
            None => {
                if self.ignored_text(l) {
                    return LineResult {
                        ignored: true,
                        ..LineResult::default()
                    };
                }
                let date = self.last_date;
                self.find_failure(l, &[], date)
            }
        }
    }

    /// Processes a journal message (no timestamp in the text; `time` is
    /// the entry's time).
    pub fn process_journal_line(&mut self, line: &[u8], time: f64) -> LineResult {
        if self.ignored_text(&[]) {
            return LineResult {
                ignored: true,
                ..LineResult::default()
            };
        }
        self.last_date = Some(time);
        self.find_failure(&[], line, Some(time))
    }

    fn ignored_text(&mut self, text: &[u8]) -> bool {
        if self.ignore.is_empty() {
            return false;
        }
        let mut buf = Vec::with_capacity(text.len() + 1);
        buf.extend_from_slice(text);
        buf.push(b'\n');
        self.ignore.iter_mut().any(|r| r.search(&buf).is_some())
    }

    fn ignored_lines(&mut self, lines: &[Tuple]) -> bool {
        if self.ignore.is_empty() {
            return false;
        }
        let buf = join_lines(lines);
        self.ignore.iter_mut().any(|r| r.search(&buf).is_some())
    }

    fn find_failure(&mut self, pre: &[u8], post: &[u8], date: Option<f64>) -> LineResult {
        if self.maxlines == 1 {
            return self.find_failure_single(pre, post, date);
        }
        let mut res = LineResult::default();
        self.buffer.push((pre.to_vec(), post.to_vec()));
        if self.buffer.len() > self.maxlines {
            let cut = self.buffer.len() - self.maxlines;
            self.buffer.drain(..cut);
        }
        let org: Vec<Tuple> = self.buffer.clone();
        let mut buf: Option<Vec<u8>> = Some(join_lines(&self.buffer));
        self.mark_candidates(buf.as_deref().unwrap_or(&[]));

        let mut pre_groups = FailData::default();
        if let Some(p) = self.pref.as_mut() {
            let b = buf.as_deref().unwrap_or(&[]);
            if p.search(b).is_none() {
                return res;
            }
            pre_groups = p.groups(b);
            let content = pre_groups.get("content");
            if let Some(c) = content.filter(|c| !c.is_empty()) {
                pre_groups.remove("content");
                self.buffer = vec![(Vec::new(), c.into_bytes())];
                buf = None;
            }
        }
        for i in 0..self.fail.len() {
            if !self.candidates.get(i).copied().unwrap_or(true) {
                continue;
            }
            if buf.is_none() {
                buf = Some(join_lines(&self.buffer));
            }
            let b = buf.as_deref().unwrap_or(&[]);
            let Some(r) = self.fail.get_mut(i) else {
                continue;
            };
            let Some((ms, me)) = r.search(b) else {
                continue;
            };
            let fail = r.groups(b);
            let (matched, unmatched) = split_matched(b, ms, me, &org, &r.skipped(b));
            res.matched_regex = true;
            if self.ignored_lines(&matched) {
                self.buffer = unmatched;
                buf = None;
                res.ignored = true;
                continue;
            }
            let Some(date) = date else {
                res.no_date = true;
                continue;
            };
            self.buffer = unmatched;
            buf = None;
            self.emit(i, fail, &pre_groups, matched.len(), date, &mut res);
        }
        res
    }

    /// Sets `candidates` from the literal prefilter (all true without one).
    /// Returns false when no failregex can match.
    fn mark_candidates(&mut self, buf: &[u8]) -> bool {
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

    /// `maxlines = 1`: no line buffer, no copies of the line.
    fn find_failure_single(&mut self, pre: &[u8], post: &[u8], date: Option<f64>) -> LineResult {
        let mut res = LineResult::default();
        let mut line = std::mem::take(&mut self.scratch);
        line.clear();
        line.extend_from_slice(pre);
        line.extend_from_slice(post);
        line.push(b'\n');
        let mut content = std::mem::take(&mut self.scratch2);
        self.single_inner(&line, &mut content, date, &mut res);
        self.scratch = line;
        self.scratch2 = content;
        res
    }

    fn single_inner(
        &mut self,
        line: &[u8],
        content: &mut Vec<u8>,
        date: Option<f64>,
        res: &mut LineResult,
    ) {
        if self.always.is_empty() {
            // one literal scan rejects most lines without any regex
            let hit = match (&self.teddy, &self.ac) {
                (Some(t), _) => t.find(line).is_some(),
                (None, Some(ac)) => ac.find(line).is_some(),
                (None, None) => true,
            };
            if !hit {
                return;
            }
        }
        let mut use_content = false;
        let mut empty_content = false;
        if let Some(p) = self.pref.as_mut() {
            if p.search(line).is_none() {
                return;
            }
            if let Some((a, b)) = p.group_range("content") {
                if b == a {
                    empty_content = true;
                }
                if b > a {
                    content.clear();
                    content.extend_from_slice(line.get(a..b).unwrap_or(&[]));
                    content.push(b'\n');
                    use_content = true;
                }
            }
        }
        // prefregex groups are only built once some failregex matched (the
        // prefregex capture locations stay valid for this line)
        let mut pre_groups: Option<FailData> = None;
        for i in 0..self.fail.len() {
            let b: &[u8] = if use_content { content } else { line };
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
            if !self.ignore.is_empty() && self.ignore.iter_mut().any(|x| x.search(line).is_some()) {
                res.ignored = true;
                continue;
            }
            let Some(date) = date else {
                res.no_date = true;
                continue;
            };
            let pg = pre_groups.get_or_insert_with(|| match &self.pref {
                Some(p) => {
                    let mut g = p.groups_skip(line, "content");
                    if empty_content {
                        // an empty content stays a group value, as in fail2ban
                        g.set("content", Some(String::new()));
                    }
                    g
                }
                None => FailData::default(),
            });
            let pg = std::mem::take(pg);
            self.emit(i, fail, &pg, 1, date, res);
            pre_groups = Some(pg);
        }
    }

    /// Merges prefregex groups and the multi-line state, then records the
    /// failure (or the pending state when no address is known yet).
    fn emit(
        &mut self,
        i: usize,
        mut fail: FailData,
        pre_groups: &FailData,
        matched: usize,
        date: f64,
        res: &mut LineResult,
    ) {
        // values of the failregex win, but a group that did not
        // participate keeps the prefregex value (fail2ban master)
        for (k, v) in &pre_groups.values {
            if v.is_some() && !fail.values.iter().any(|(n, x)| key_eq(n, k) && x.is_some()) {
                fail.set_arc(k, v.clone());
            }
        }
        let mlfid = fail.get("mlfid");
        let owned;
        let f: &FailData = match &mlfid {
            Some(id) => match self.merge_failure(id, fail, matched) {
                Some(o) => {
                    owned = o;
                    &owned
                }
                None => match self.cache.get(id.as_str()) {
                    Some(c) => c,
                    None => return,
                },
            },
            None => {
                fail.matches = Some(fail.matches.unwrap_or(0) + matched);
                owned = fail;
                &owned
            }
        };
        // Borrowed lookups: only the reported host is copied.
        let fid = f.get_ref("fid");
        let host: Option<String> = match f.get_ref("ip4").or_else(|| f.get_ref("ip6")) {
            // `<SUBNET>` / `<ADDR>/<CIDR>`: fail2ban reports the network
            Some(ip) => Some(match f.get_ref("cidr") {
                Some(c) => with_prefix(ip, c),
                None => ip.to_string(),
            }),
            None => f.get_ref("dns").map(str::to_string),
        };
        let host = match host {
            Some(h) => match fid {
                Some(x) if x != h => Some(x.to_string()),
                _ => Some(h),
            },
            None => fid.map(str::to_string),
        };
        let Some(host) = host else {
            // fail2ban reports such a match without id (fail2ban-regex
            // counts the line as matched) and waits for the address
            if !f.truthy("nofail") {
                res.pending.push(i);
            }
            if let Some(c) = mlfid.as_deref().and_then(|id| self.cache.get_mut(id)) {
                c.pending = true;
            }
            return;
        };
        if f.truthy("nofail") {
            return;
        }
        let attempts = f.matches.unwrap_or(0);
        let data = if self.collect_fields {
            f.clone()
        } else {
            FailData::default()
        };
        res.failures.push(Failure {
            regex_index: i,
            host,
            time: date,
            data,
            attempts,
        });
    }

    /// fail2ban's `_mergeFailure` (master): merges a failure into the
    /// cached state of its multi-line id and decides whether it is a real
    /// failure now (`nofail` cleared) and how many lines it carries.
    fn merge_failure(
        &mut self,
        mlfid: &str,
        mut fail: FailData,
        matched: usize,
    ) -> Option<FailData> {
        let mut nf = 0u8;
        if fail.truthy("mlfgained") {
            nf |= 9;
            if !fail.truthy("nofail") {
                let g = fail.get("mlfgained");
                fail.set("nofail", g);
            }
        } else if fail.truthy("nofail") {
            nf |= 1;
        }
        if fail.truthy("mlfforget") {
            nf |= 2;
        }
        fail.remove("mlfforget");
        let user = fail.get("user").filter(|u| !u.is_empty());
        if let Some(cached) = self.cache.get_mut(mlfid) {
            let mut users_len = None;
            if let Some(u) = user {
                let set = cached.users.get_or_insert_with(BTreeSet::new);
                set.insert(u);
                users_len = Some(set.len());
            }
            if cached.truthy("nofail") {
                nf |= 4;
            }
            cached.remove("nofail");
            if cached.truthy("mlfgained") {
                nf |= 4;
            }
            cached.remove("mlfgained");
            // failures reported before: their lines are not counted again
            if nf & 4 == 0 && !cached.pending {
                cached.matches = None;
            }
            for (k, v) in fail.values {
                if v.is_some() {
                    cached.set_arc(&k, v);
                }
            }
            finish_merge(cached, nf, users_len, matched);
            if nf & 2 != 0 {
                self.cache_order.retain(|k| k != mlfid);
                return self.cache.remove(mlfid);
            }
            return None;
        }
        let mut users_len = None;
        if let Some(u) = user {
            if nf & 2 == 0 {
                let set = fail.users.get_or_insert_with(BTreeSet::new);
                set.insert(u);
                users_len = Some(set.len());
            }
        }
        finish_merge(&mut fail, nf, users_len, matched);
        if nf & 2 == 0 {
            self.cache_order.push_back(mlfid.to_string());
            while self.cache_order.len() > MLFID_CACHE_MAX {
                if let Some(old) = self.cache_order.pop_front() {
                    self.cache.remove(&old);
                }
            }
            self.cache.insert(mlfid.to_string(), fail);
            return None;
        }
        Some(fail)
    }
}

/// Tail of fail2ban's `_mergeFailure`: a pending id or several users turn
/// a no-failure into a failure; matched lines are counted.
fn finish_merge(f: &mut FailData, mut nf: u8, users_len: Option<usize>, matched: usize) {
    let pending = std::mem::take(&mut f.pending);
    if pending || users_len.is_some_and(|n| n > 1) {
        f.remove("nofail");
        nf &= !9;
    }
    if nf & 1 == 0 {
        let mut m = f.nofail_matches.take().unwrap_or(0) + f.matches.unwrap_or(0);
        if nf & 8 == 0 {
            m += matched;
        }
        f.matches = Some(m);
    } else if nf & 3 == 1 {
        f.nofail_matches = Some(f.nofail_matches.unwrap_or(0) + matched);
    }
}

/// `addr/prefix` as fail2ban's `IPAddr(addr, cidr)` prints it: the
/// network address, without a suffix for a full-length prefix.
fn with_prefix(ip: &str, cidr: &str) -> String {
    let Ok(bits) = cidr.parse::<u32>() else {
        return ip.to_string();
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) if bits < 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            format!("{}/{bits}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        Ok(std::net::IpAddr::V6(a)) if bits < 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
        _ => ip.to_string(),
    }
}

fn join_lines(lines: &[Tuple]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (a, b)) in lines.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(a);
        out.extend_from_slice(b);
    }
    out.push(b'\n');
    out
}

/// fail2ban's `Regex.search` bookkeeping: which buffered lines a match
/// covers (minus `<SKIPLINES>`), which remain.
fn split_matched(
    buf: &[u8],
    start: usize,
    end: usize,
    org: &[Tuple],
    skipped: &[Vec<u8>],
) -> (Vec<Tuple>, Vec<Tuple>) {
    if org.len() <= 1 {
        return (org.to_vec(), Vec::new());
    }
    let upto = (start + 1).min(buf.len());
    let line_start = buf
        .get(..upto)
        .and_then(|s| memchr::memrchr(b'\n', s))
        .map_or(0, |p| p + 1);
    let from = end.saturating_sub(1).min(buf.len());
    let line_end = buf
        .get(from..)
        .and_then(|s| memchr::memchr(b'\n', s))
        .map_or(buf.len(), |p| from + p + 1);
    let count = |n: usize| memchr::memchr_iter(b'\n', buf.get(..n).unwrap_or(buf)).count();
    let lc1 = count(line_start).min(org.len());
    let lc2 = count(line_end).min(org.len()).max(lc1);
    let mut matched: Vec<Tuple> = org.get(lc1..lc2).map(<[Tuple]>::to_vec).unwrap_or_default();
    let mut unmatched: Vec<Tuple> = org.get(..lc1).map(<[Tuple]>::to_vec).unwrap_or_default();
    let mut n = 0;
    for sk in skipped {
        let pos = matched.iter().skip(n).position(|(a, b)| {
            a.len() + b.len() == sk.len() && sk.starts_with(a) && sk.ends_with(b)
        });
        if let Some(m) = pos {
            if n + m < matched.len() {
                unmatched.push(matched.remove(n + m));
                n += m;
            }
        }
    }
    unmatched.extend(org.get(lc2..).map(<[Tuple]>::to_vec).unwrap_or_default());
    (matched, unmatched)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::date::PosixTz;

    fn ctx() -> TimeContext {
        TimeContext {
            now: 1124013600,
            wall_clock: 1124013600,
            tz: PosixTz::parse("CET-01CEST-02,M3.5.0,M10.5.0").unwrap(),
        }
    }

    #[test]
    fn simple_failregex() {
        let def = FilterDef {
            failregex: vec![
                r"^\s*\S+ sshd\[\d+\]: Failed password for <F-USER>\S+</F-USER> from <HOST>".into(),
            ],
            datepattern: vec!["{^LN-BEG}".into()],
            maxlines: 1,
            ..FilterDef::default()
        };
        let mut f = Filter::new(&def, ctx()).unwrap();
        let r = f.process_line(b"Feb 25 14:34:10 belka sshd[31602]: Failed password for root from 194.117.26.69 port 22");
        assert_eq!(r.failures.len(), 1);
        assert_eq!(r.failures[0].host, "194.117.26.69");
        assert_eq!(r.failures[0].time, 1109338450.0);
        assert_eq!(r.failures[0].data.get("user").as_deref(), Some("root"));
        assert!(f
            .process_line(b"Feb 25 14:34:10 belka sshd[31602]: Accepted")
            .failures
            .is_empty());
    }

    #[test]
    fn subnet_hosts() {
        assert_eq!(with_prefix("192.0.2.77", "24"), "192.0.2.0/24");
        assert_eq!(with_prefix("192.0.2.77", "32"), "192.0.2.77");
        assert_eq!(with_prefix("2001:db8::1", "64"), "2001:db8::/64");
        assert_eq!(with_prefix("192.0.2.77", "0"), "0.0.0.0/0");
        assert_eq!(with_prefix("x", "8"), "x");
        let def = FilterDef {
            failregex: vec![r"^\s*block <SUBNET>$".into()],
            maxlines: 1,
            ..FilterDef::default()
        };
        let mut f = Filter::new(&def, ctx()).unwrap();
        let r = f.process_line(b"Feb 25 14:34:10 block 10.1.2.3/16");
        assert_eq!(r.failures[0].host, "10.1.0.0/16");
    }

    #[test]
    fn missing_id_group_is_an_error() {
        let def = FilterDef {
            failregex: vec!["^foo".into()],
            maxlines: 1,
            ..FilterDef::default()
        };
        assert!(Filter::new(&def, ctx()).is_err());
    }
}
