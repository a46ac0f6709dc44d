//! The line matcher: fail2ban's `Filter.processLine` / `findFailure`
//! semantics (date cut, line buffer, prefregex + `<F-CONTENT>`,
//! failregex/ignoreregex, multi-line failure ids with `<F-MLFID>`,
//! `<F-NOFAIL>`, `<F-MLFFORGET>`, `<F-MLFGAINED>`).

use compact_str::CompactString;
use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::config::FilterDef;
use crate::date::{DateDetector, TimeContext};
use crate::scan::{Compiled, Matcher, Scan};
use crate::CompileError;

/// Entries kept in the multi-line failure-id cache (fail2ban: 100).
const MLFID_CACHE_MAX: usize = 100;

/// Key equality with a cheap first-byte test before `memcmp`.
fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Matched group values of one failure (a Python dict in fail2ban):
/// ordered, a present key may hold `None` (group did not participate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailData {
    /// `(name, value)`.
    pub(crate) values: Vec<(CompactString, Option<CompactString>)>,
    /// Users seen on one multi-line failure id.
    pub users: Option<BTreeSet<String>>,
    matches: Option<usize>,
    nofail_matches: Option<usize>,
    /// A line of this id matched but had no address yet.
    pending: bool,
    /// When this entry entered the multi-line cache (its `cache_order`
    /// entry).
    cache_seq: u64,
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
            .and_then(|(_, v)| v.as_ref().map(|v| v.to_string()))
    }

    /// Value of a key without converting it.
    pub(crate) fn get_compact(&self, k: &str) -> Option<CompactString> {
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

    pub(crate) fn set(&mut self, k: &str, v: Option<CompactString>) {
        if let Some(slot) = self.values.iter_mut().find(|(n, _)| key_eq(n, k)) {
            slot.1 = v;
        } else {
            self.values.push((CompactString::from(k), v));
        }
    }

    /// Adds the prefregex groups: values of the failregex win, but a
    /// group that did not participate keeps the prefregex value (fail2ban
    /// master).
    pub(crate) fn merge_prefregex(&mut self, pre: &FailData) {
        for (k, v) in &pre.values {
            if v.is_some() && !self.values.iter().any(|(n, x)| key_eq(n, k) && x.is_some()) {
                self.set(k, v.clone());
            }
        }
    }

    fn remove(&mut self, k: &str) -> bool {
        if !self.has(k) {
            return false;
        }
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

/// Where a line's date is ([`Filter::locate`]): the text before and after
/// it is what the regexes see.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pre_end: usize,
    post_start: usize,
    /// Line length without its line end.
    len: usize,
    stamp: Stamp,
}

impl Located {
    /// Offset of the text after the date.
    pub(crate) fn post_start(&self) -> usize {
        self.post_start
    }

    /// Line length without its line end.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The text before and after the date.
    pub fn parts<'a>(&self, line: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        (
            line.get(..self.pre_end).unwrap_or(&[]),
            line.get(self.post_start..self.len).unwrap_or(&[]),
        )
    }
}

/// What the date says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    /// No usable stamp: the last date seen counts.
    Keep,
    /// The line's own time (UTC epoch).
    At(f64),
}

/// A compiled filter plus its per-log state (line buffer, last date,
/// multi-line failure cache). One per log stream.
pub struct Filter {
    /// The regexes (pure half, see [`Matcher`]).
    m: Matcher,
    maxlines: usize,
    dates: DateDetector,
    ctx: TimeContext,
    buffer: Vec<Tuple>,
    last_date: Option<f64>,
    cache: HashMap<CompactString, FailData, foldhash::fast::RandomState>,
    /// Insertion order of `cache` keys; entries of forgotten ids stay
    /// until they reach the front (no linear removal per forget).
    cache_order: VecDeque<(CompactString, u64)>,
    cache_seq: u64,
    collect_fields: bool,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field(
                "failregex",
                &self.m.fail.iter().map(|c| &c.source).collect::<Vec<_>>(),
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
        Ok(Filter {
            m: Matcher::new(pref, fail, ignore),
            maxlines: def.maxlines.max(1),
            dates,
            ctx,
            buffer: Vec::new(),
            last_date: None,
            cache: HashMap::default(),
            cache_order: VecDeque::new(),
            cache_seq: 0,
            collect_fields: true,
        })
    }

    /// Number of failregexes.
    pub fn failregex_count(&self) -> usize {
        self.m.fail.len()
    }

    /// Source text of failregex `i` (after substitution).
    pub fn failregex_source(&self, i: usize) -> Option<&str> {
        self.m.fail.get(i).map(|c| c.source.as_str())
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
        let loc = self.locate(line);
        let (pre, post) = loc.parts(line);
        if self.maxlines == 1 {
            let scan = self.m.scan_line(line, &loc);
            return self.apply(&loc, scan);
        }
        // fail2ban checks ignoreregex on the text before the date here
        // (its tuple slicing), the full line when no date.
        if self.m.ignored_text(pre) {
            return LineResult {
                ignored: true,
                ..LineResult::default()
            };
        }
        let date = self.resolve_date(loc.stamp);
        self.find_failure(pre, post, date)
    }

    /// Stage one of [`Filter::process_line`]: finds the line's date. Runs
    /// in line order (the detector learns which template wins).
    pub fn locate(&mut self, line: &[u8]) -> Located {
        let mut l = line;
        while let Some((&last, rest)) = l.split_last() {
            if last == b'\n' || last == b'\r' {
                l = rest;
            } else {
                break;
            }
        }
        let len = l.len();
        match self.dates.find(l, &self.ctx) {
            Some(m) => Located {
                pre_end: m.start.min(len),
                post_start: m.end.min(len).max(m.start.min(len)),
                len,
                // an empty date text (`^WARNING:()**`) means "no stamp"
                stamp: match m.epoch {
                    _ if m.start == m.end => Stamp::Keep,
                    Some(e) => Stamp::At(e),
                    None => Stamp::Keep,
                },
            },
            None => Located {
                pre_end: len,
                post_start: len,
                len,
                stamp: Stamp::Keep,
            },
        }
    }

    /// Whether lines are matched one at a time (`maxlines = 1`): only then
    /// can [`Matcher::scan`] run apart from the filter's state.
    pub fn is_single_line(&self) -> bool {
        self.maxlines == 1
    }

    /// A copy of the regexes for another thread (stage two).
    pub fn matcher(&self) -> Matcher {
        self.m.clone()
    }

    /// Stage three of [`Filter::process_line`] for single-line filters:
    /// merges a [`Matcher::scan`] of the line into the filter's state, in
    /// line order.
    pub fn apply(&mut self, loc: &Located, scan: Scan) -> LineResult {
        if scan.ignored_text {
            return LineResult {
                ignored: true,
                ..LineResult::default()
            };
        }
        let date = self.resolve_date(loc.stamp);
        let mut res = LineResult {
            matched_regex: scan.matched_regex,
            ignored: scan.ignored_hit,
            ..LineResult::default()
        };
        if scan.hits.is_empty() {
            return res;
        }
        let Some(date) = date else {
            res.no_date = true;
            return res;
        };
        // the prefregex groups are already merged into each hit
        let none = FailData::default();
        for (i, fail) in scan.hits {
            self.emit(i, fail, &none, 1, date, &mut res);
        }
        res
    }

    fn resolve_date(&mut self, stamp: Stamp) -> Option<f64> {
        match stamp {
            Stamp::At(e) => {
                self.last_date = Some(e);
                Some(e)
            }
            Stamp::Keep => self.last_date,
        }
    }

    /// Processes a journal message (no timestamp in the text; `time` is
    /// the entry's time).
    pub fn process_journal_line(&mut self, line: &[u8], time: f64) -> LineResult {
        if self.maxlines == 1 {
            let scan = self.m.scan(&[], line);
            let loc = Located {
                pre_end: 0,
                post_start: 0,
                len: line.len(),
                stamp: Stamp::At(time),
            };
            return self.apply(&loc, scan);
        }
        if self.m.ignored_text(&[]) {
            return LineResult {
                ignored: true,
                ..LineResult::default()
            };
        }
        self.last_date = Some(time);
        self.find_failure(&[], line, Some(time))
    }

    /// `maxlines > 1`: fail2ban's line buffer.
    fn find_failure(&mut self, pre: &[u8], post: &[u8], date: Option<f64>) -> LineResult {
        let mut res = LineResult::default();
        self.buffer.push((pre.to_vec(), post.to_vec()));
        if self.buffer.len() > self.maxlines {
            let cut = self.buffer.len() - self.maxlines;
            self.buffer.drain(..cut);
        }
        let org: Vec<Tuple> = self.buffer.clone();
        let mut buf: Option<Vec<u8>> = Some(join_lines(&self.buffer));
        self.m.mark_candidates(buf.as_deref().unwrap_or(&[]));

        let mut pre_groups = FailData::default();
        if let Some(p) = self.m.pref.as_mut() {
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
        for i in 0..self.m.fail.len() {
            if !self.m.candidates.get(i).copied().unwrap_or(true) {
                continue;
            }
            if buf.is_none() {
                buf = Some(join_lines(&self.buffer));
            }
            let b = buf.as_deref().unwrap_or(&[]);
            let Some(r) = self.m.fail.get_mut(i) else {
                continue;
            };
            let Some((ms, me)) = r.search(b) else {
                continue;
            };
            let fail = r.groups(b);
            let (matched, unmatched) = split_matched(b, ms, me, &org, &r.skipped(b));
            res.matched_regex = true;
            if self.m.ignored_buffer(&join_lines(&matched)) {
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
        fail.merge_prefregex(pre_groups);
        let mlfid = fail.get_compact("mlfid");
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
                let g = fail.get_compact("mlfgained");
                fail.set("nofail", g);
            }
        } else if fail.truthy("nofail") {
            nf |= 1;
        }
        if fail.truthy("mlfforget") {
            nf |= 2;
        }
        fail.remove("mlfforget");
        let user = fail.get_ref("user").filter(|u| !u.is_empty());
        if let Some(cached) = self.cache.get_mut(mlfid) {
            let mut users_len = None;
            if let Some(u) = user {
                let set = cached.users.get_or_insert_with(BTreeSet::new);
                if !set.contains(u) {
                    set.insert(u.to_string());
                }
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
                    cached.set(&k, v);
                }
            }
            finish_merge(cached, nf, users_len, matched);
            if nf & 2 != 0 {
                // its `cache_order` entry goes when it reaches the front
                return self.cache.remove(mlfid);
            }
            return None;
        }
        let mut users_len = None;
        if let Some(u) = user {
            if nf & 2 == 0 {
                let u = u.to_string();
                let set = fail.users.get_or_insert_with(BTreeSet::new);
                set.insert(u);
                users_len = Some(set.len());
            }
        }
        finish_merge(&mut fail, nf, users_len, matched);
        if nf & 2 == 0 {
            let key = CompactString::from(mlfid);
            self.cache_seq += 1;
            fail.cache_seq = self.cache_seq;
            self.cache_order.push_back((key.clone(), self.cache_seq));
            self.cache.insert(key, fail);
            self.trim_cache();
            return None;
        }
        Some(fail)
    }
}

impl Filter {
    /// Keeps the `MLFID_CACHE_MAX` most recently inserted ids (fail2ban's
    /// bounded cache). `cache_order` may still name forgotten ids, or an
    /// older insertion of an id inserted again: an entry only evicts the
    /// insertion it was made for.
    fn trim_cache(&mut self) {
        while self.cache.len() > MLFID_CACHE_MAX {
            let Some((old, seq)) = self.cache_order.pop_front() else {
                break;
            };
            if self.cache.get(&old).is_some_and(|f| f.cache_seq == seq) {
                self.cache.remove(&old);
            }
        }
        if self.cache_order.len() > 4 * MLFID_CACHE_MAX {
            let cache = &self.cache;
            self.cache_order
                .retain(|(k, seq)| cache.get(k).is_some_and(|f| f.cache_seq == *seq));
        }
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
