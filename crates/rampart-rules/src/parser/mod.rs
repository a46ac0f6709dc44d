//! From text to [`Rule`]s: logical lines, header, option splitting.

mod content;
mod dataset;
mod options;
mod packet;
pub use packet::HTTP2_ERROR_CODE_NAMES;
mod payload;
mod state;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ast::{AddressSpec, PortSpec, Rule};
use crate::error::{ErrorKind, Problem, RuleError};
use crate::header::{Action, Direction, Protocol};
use crate::net::{parse_address, parse_port, AddressExpr, AddressSet, PortExpr, PortSet};
use crate::span::{Locator, Segment, Span};
use crate::vars::Variables;

/// The result of parsing a rules file: the rules that loaded and one
/// diagnostic per rule that did not.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Rules in file order (a duplicate `gid:sid` keeps the higher `rev`,
    /// in the position of the first).
    pub rules: Vec<Rule>,
    /// One entry per rejected rule, in file order.
    pub errors: Vec<RuleError>,
    /// Commented-out rules seen (`# alert ...`): skipped, not errors.
    pub disabled: usize,
    /// Rules whose `requires` is not met (a newer Suricata version or an
    /// optional feature): silently skipped, as Suricata does.
    pub skipped: usize,
}

impl RuleSet {
    /// Rejections counted by category, for load summaries.
    pub fn error_counts(&self) -> BTreeMap<ErrorKind, usize> {
        let mut out = BTreeMap::new();
        for e in &self.errors {
            *out.entry(e.kind).or_insert(0) += 1;
        }
        out
    }

    /// Flowbits that some rule checks with `isset` but no rule sets or
    /// toggles (such rules can never match), with the sids that check
    /// them. Suricata warns about the same bits at start-up.
    pub fn flowbits_checked_but_never_set(&self) -> BTreeMap<String, Vec<u32>> {
        use crate::ast::BitCommand;
        let mut set: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for r in &self.rules {
            for fb in &r.flowbits {
                if matches!(fb.cmd, BitCommand::Set | BitCommand::Toggle) {
                    set.extend(fb.names.iter().map(String::as_str));
                }
            }
        }
        let mut out: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for r in &self.rules {
            for fb in r.flowbits.iter().filter(|fb| fb.cmd == BitCommand::IsSet) {
                for name in fb.names.iter().filter(|n| !set.contains(n.as_str())) {
                    let sids = out.entry(name.clone()).or_default();
                    if sids.last() != Some(&r.sid) {
                        sids.push(r.sid);
                    }
                }
            }
        }
        out
    }

    /// Adds the rules and errors of another file, applying the duplicate
    /// `gid:sid` rule across both.
    pub fn append(&mut self, other: RuleSet) {
        let mut index: HashMap<(u32, u32), usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.gid, r.sid), i))
            .collect();
        self.errors.extend(other.errors);
        self.disabled += other.disabled;
        self.skipped += other.skipped;
        for rule in other.rules {
            push_dedup(&mut self.rules, &mut self.errors, &mut index, rule);
        }
    }
}

fn push_dedup(
    rules: &mut Vec<Rule>,
    errors: &mut Vec<RuleError>,
    index: &mut HashMap<(u32, u32), usize>,
    rule: Rule,
) {
    let key = (rule.gid, rule.sid);
    let Some(&i) = index.get(&key) else {
        index.insert(key, rules.len());
        rules.push(rule);
        return;
    };
    let Some(existing) = rules.get_mut(i) else {
        return;
    };
    let (kept, dropped) = if rule.rev > existing.rev {
        let old = std::mem::replace(existing, rule);
        (&*existing, old)
    } else {
        (&*existing, rule)
    };
    errors.push(RuleError {
        file: dropped.file.to_string(),
        line: dropped.span.line,
        column: dropped.span.column,
        span: dropped.span,
        sid: Some(dropped.sid),
        keyword: Some("sid".into()),
        kind: ErrorKind::DuplicateSid,
        message: format!(
            "duplicate signature {}:{} (rev {}); keeping rev {} from {}:{}",
            dropped.gid, dropped.sid, dropped.rev, kept.rev, kept.file, kept.line
        ),
    });
}

/// Parses a rules file.
///
/// `file` is only used in diagnostics and [`Rule::file`]. Blank lines and
/// `#` comments are skipped (commented-out rules are counted in
/// [`RuleSet::disabled`]); a line ending in `\` continues on the next one.
/// Each rule that fails yields one [`RuleError`] and parsing goes on.
pub fn parse_rules(src: &str, file: &str, vars: &Variables) -> RuleSet {
    let mut ctx = Ctx::new(vars, file);
    let mut set = RuleSet::default();
    // Most non-comment lines are rules; reserving avoids re-copying the
    // (large) rules while the vector grows.
    let lines = src.bytes().filter(|&b| b == b'\n').count() + 1;
    set.rules.reserve(lines.min(src.len() / 64 + 1));
    let mut index: HashMap<(u32, u32), usize> = HashMap::new();
    let disabled = for_each_logical_rule(src, |text, locator| {
        match parse_one(&text, &locator, &mut ctx) {
            Ok(rule) => push_dedup(&mut set.rules, &mut set.errors, &mut index, rule),
            Err(f) if f.skip => set.skipped += 1,
            Err(f) => set.errors.push(ctx.error(f, &locator, &text)),
        }
    });
    set.disabled = disabled;
    set
}

/// Parses one rule (continuation lines allowed). Positions in the result
/// are relative to `text`; the file name is `"<rule>"`.
pub fn parse_rule(text: &str, vars: &Variables) -> Result<Rule, RuleError> {
    let mut ctx = Ctx::new(vars, "<rule>");
    let mut result = None;
    for_each_logical_rule(text, |logical, locator| {
        if result.is_none() {
            result = Some(
                parse_one(&logical, &locator, &mut ctx)
                    .map_err(|f| ctx.error(f, &locator, &logical)),
            );
            // A rule skipped for `requires` is reported as an error here:
            // the caller asked for this one rule.
        }
    });
    result.unwrap_or_else(|| {
        Err(RuleError {
            file: "<rule>".into(),
            line: 1,
            column: 1,
            span: Span {
                start: 0,
                end: text.len(),
                line: 1,
                column: 1,
            },
            sid: None,
            keyword: None,
            kind: ErrorKind::Syntax,
            message: "no rule (empty or comment)".into(),
        })
    })
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    /// Parses one rule with Suricata's default variables (for tests and
    /// one-off tools; use [`parse_rule`] to pass configured variables).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rule(s, &Variables::default())
    }
}

/// Turns a problem in a standalone string (a variable value, a config
/// field) into an error positioned within that string.
pub(crate) fn standalone_error(p: Problem, text: &str) -> RuleError {
    let loc = Locator::standalone();
    let (s, e) = snap(text, p.range.unwrap_or((0, text.len())));
    let span = loc.span(s, e);
    RuleError {
        file: "<input>".into(),
        line: span.line,
        column: span.column,
        span,
        sid: None,
        keyword: p.keyword,
        kind: p.kind,
        message: p.message,
    }
}

/// Clamps a range to `text` and widens it to whole characters, so spans
/// can always slice the source.
fn snap(text: &str, (start, end): (usize, usize)) -> (usize, usize) {
    let mut s = start.min(text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end.clamp(s, text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    (s, e)
}

/// Why one rule failed, with the sid if it was found.
pub(crate) struct Failure {
    pub problem: Problem,
    pub sid: Option<u32>,
    /// Not an error: the rule's `requires` is not met.
    pub skip: bool,
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Self {
        Failure {
            problem,
            sid: None,
            skip: false,
        }
    }
}

/// The Suricata version whose rule language this crate implements, for
/// `requires: version ...`.
pub const SURICATA_VERSION: (u32, u32, u32) = (7, 0, 10);

/// Evaluates a `requires` value: `Ok(true)` when met. Optional features
/// (`feature geoip`) are never met: Rampart has none of them.
fn requires_met(v: &str) -> Result<bool, Problem> {
    let bad = |m: String| Problem::new(ErrorKind::InvalidValue, m).keyword("requires");
    let mut met = true;
    for clause in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (kind, rest) = clause
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(format!("invalid requirement {clause:?}")))?;
        match kind {
            "feature" => met = false,
            "version" => {
                let mut any = false;
                for alt in rest.split('|') {
                    let toks: Vec<&str> = alt.split_whitespace().collect();
                    if toks.is_empty() || !toks.len().is_multiple_of(2) {
                        return Err(bad(format!("invalid version requirement {alt:?}")));
                    }
                    let mut all = true;
                    for pair in toks.chunks(2) {
                        let [op, ver] = pair else { continue };
                        let mut nums = ver.split('.').map(str::parse::<u32>);
                        let mut next = || nums.next().unwrap_or(Ok(0));
                        let (Ok(a), Ok(b), Ok(c)) = (next(), next(), next()) else {
                            return Err(bad(format!("invalid version {ver:?}")));
                        };
                        let want = (a, b, c);
                        let have = SURICATA_VERSION;
                        all &= match *op {
                            ">=" => have >= want,
                            ">" => have > want,
                            "<=" => have <= want,
                            "<" => have < want,
                            "=" | "==" => have == want,
                            _ => return Err(bad(format!("invalid version operator {op:?}"))),
                        };
                    }
                    any |= all;
                }
                met &= any;
            }
            _ => return Err(bad(format!("unknown requirement {kind:?}"))),
        }
    }
    Ok(met)
}

type Resolved<T, S> = Result<(Arc<T>, Arc<S>), Problem>;

/// Header tokens longer than this are not cached (long IP lists are
/// usually unique to one rule).
const CACHE_MAX_TOKEN: usize = 96;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Shares equal strings (metadata keys and values, reference systems)
/// between rules: fewer allocations while parsing, less memory after.
#[derive(Default)]
pub(crate) struct Interner {
    set: std::collections::HashSet<Arc<str>, foldhash::fast::RandomState>,
}

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(a.clone());
        a
    }
}

/// State shared by all rules of one parse: variables, caches.
pub(crate) struct Ctx<'v> {
    vars: &'v Variables,
    file: Arc<str>,
    addr_cache: FastMap<String, Resolved<AddressExpr, AddressSet>>,
    port_cache: FastMap<String, Resolved<PortExpr, PortSet>>,
    raw: Vec<RawOption>,
    interner: Interner,
}

impl<'v> Ctx<'v> {
    fn new(vars: &'v Variables, file: &str) -> Self {
        Ctx {
            vars,
            file: Arc::from(file),
            addr_cache: FastMap::default(),
            port_cache: FastMap::default(),
            raw: Vec::new(),
            interner: Interner::default(),
        }
    }

    fn error(&self, f: Failure, locator: &Locator, text: &str) -> RuleError {
        let (s, e) = snap(text, f.problem.range.unwrap_or((0, text.len())));
        let span = locator.span(s, e);
        RuleError {
            file: self.file.to_string(),
            line: span.line,
            column: span.column,
            span,
            sid: f.sid,
            keyword: f.problem.keyword,
            kind: f.problem.kind,
            message: f.problem.message,
        }
    }

    fn address(
        &mut self,
        text: &str,
        start: usize,
        locator: &Locator,
    ) -> Result<AddressSpec, Problem> {
        let end = start + text.len();
        let resolve = |vars: &Variables| {
            parse_address(text).and_then(|expr| {
                let set = vars.address_set(&expr)?;
                Ok((Arc::new(expr), Arc::new(set)))
            })
        };
        let resolved = if text.len() > CACHE_MAX_TOKEN {
            resolve(self.vars)
        } else if let Some(r) = self.addr_cache.get(text) {
            r.clone()
        } else {
            let r = resolve(self.vars);
            self.addr_cache.insert(text.to_string(), r.clone());
            r
        };
        match resolved {
            Ok((expr, set)) => Ok(AddressSpec {
                expr,
                set,
                span: locator.span(start, end),
            }),
            Err(p) => Err(p.shift(start).or_at(start, end)),
        }
    }

    fn ports(&mut self, text: &str, start: usize, locator: &Locator) -> Result<PortSpec, Problem> {
        let end = start + text.len();
        let resolve = |vars: &Variables| {
            parse_port(text).and_then(|expr| {
                let set = vars.port_set(&expr)?;
                Ok((Arc::new(expr), Arc::new(set)))
            })
        };
        let resolved = if text.len() > CACHE_MAX_TOKEN {
            resolve(self.vars)
        } else if let Some(r) = self.port_cache.get(text) {
            r.clone()
        } else {
            let r = resolve(self.vars);
            self.port_cache.insert(text.to_string(), r.clone());
            r
        };
        match resolved {
            Ok((expr, set)) => Ok(PortSpec {
                expr,
                set,
                span: locator.span(start, end),
            }),
            Err(p) => Err(p.shift(start).or_at(start, end)),
        }
    }
}

/// Calls `f` with each logical rule (comments and blank lines skipped,
/// continuation lines joined) and its locator; returns the number of
/// commented-out rules.
fn for_each_logical_rule(src: &str, mut f: impl FnMut(Cow<'_, str>, Locator)) -> usize {
    let mut disabled = 0;
    let mut pending: Option<(String, Vec<Segment>)> = None;
    let mut line_no: u32 = 0;
    let mut pos = 0usize;
    while pos < src.len() {
        let rest = src.get(pos..).unwrap_or("");
        let (raw, next) = match rest.find('\n') {
            Some(i) => (rest.get(..i).unwrap_or(""), pos + i + 1),
            None => (rest, src.len()),
        };
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        line_no = line_no.saturating_add(1);
        let line_start = pos;
        pos = next;
        if let Some((mut buf, mut segs)) = pending.take() {
            segs.push(Segment {
                logical: buf.len(),
                source: line_start,
                line: line_no,
                line_start,
            });
            let t = raw.trim_end();
            if let Some(body) = t.strip_suffix('\\') {
                buf.push_str(body);
                pending = Some((buf, segs));
            } else {
                buf.push_str(t);
                f(Cow::Owned(buf), Locator::new(segs));
            }
            continue;
        }
        let content = raw.trim_start();
        if content.is_empty() {
            continue;
        }
        if let Some(comment) = content.strip_prefix('#') {
            if looks_like_rule(comment) {
                disabled += 1;
            }
            continue;
        }
        let lead = raw.len() - content.len();
        let seg = Segment {
            logical: 0,
            source: line_start + lead,
            line: line_no,
            line_start,
        };
        let t = content.trim_end();
        if let Some(body) = t.strip_suffix('\\') {
            pending = Some((body.to_string(), vec![seg]));
        } else {
            f(Cow::Borrowed(t), Locator::single(seg));
        }
    }
    if let Some((buf, segs)) = pending {
        f(Cow::Owned(buf), Locator::new(segs));
    }
    disabled
}

/// Whether a comment's text is a disabled rule (`# alert tcp ...`).
fn looks_like_rule(comment: &str) -> bool {
    let t = comment.trim_start();
    let word = t
        .split(|c: char| c.is_ascii_whitespace())
        .next()
        .unwrap_or("");
    word.len() < t.len() && Action::parse(word).is_some() && t.contains('(')
}

/// One `keyword[:value];` in the option list, as logical offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawOption {
    pub name: (usize, usize),
    pub value: Option<(usize, usize)>,
}

/// Header fields split on whitespace, keeping `[...]` groups whole.
fn header_tokens(h: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let bytes = h.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut depth = 0i32;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'[' => depth += 1,
                b']' => depth -= 1,
                _ if b.is_ascii_whitespace() && depth <= 0 => break,
                _ => {}
            }
            i += 1;
        }
        out.push((base + start, base + i));
    }
}

fn header_err(msg: impl Into<String>, range: (usize, usize)) -> Problem {
    Problem::new(ErrorKind::InvalidHeader, msg).at(range.0, range.1)
}

fn slice(text: &str, r: (usize, usize)) -> &str {
    text.get(r.0..r.1).unwrap_or("")
}

/// Splits the option list between the parentheses the way Suricata does:
/// an option ends at the first `;` not preceded by a backslash.
fn split_options(
    text: &str,
    open: usize,
    close: usize,
    out: &mut Vec<RawOption>,
) -> Result<(), Problem> {
    out.clear();
    let bytes = text.as_bytes();
    let mut i = open + 1;
    loop {
        while i < close && bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if i >= close {
            return Ok(());
        }
        let start = i;
        let mut j = i;
        let end = loop {
            match text.get(j..close).and_then(|r| r.find(';')) {
                Some(k) => {
                    let at = j + k;
                    if at > start && bytes.get(at - 1) == Some(&b'\\') {
                        j = at + 1;
                        continue;
                    }
                    break at;
                }
                None => {
                    let trimmed = slice(text, (start, close)).trim_end();
                    return Err(Problem::new(
                        ErrorKind::Syntax,
                        format!("option {trimmed:?} is not terminated by ';'"),
                    )
                    .at(start, start + trimmed.len()));
                }
            }
        };
        let opt = slice(text, (start, end));
        let (name, value) = match opt.find(':') {
            Some(c) => {
                let name_text = opt.get(..c).unwrap_or("").trim_end();
                let v = opt.get(c + 1..).unwrap_or("");
                let lead = v.len() - v.trim_start().len();
                let vt = v.trim();
                let vs = start + c + 1 + lead;
                ((start, start + name_text.len()), Some((vs, vs + vt.len())))
            }
            None => ((start, start + opt.trim_end().len()), None),
        };
        if name.0 == name.1 {
            return Err(
                Problem::new(ErrorKind::Syntax, "option without a keyword").at(start, end + 1)
            );
        }
        out.push(RawOption { name, value });
        i = end + 1;
    }
}

/// Finds the sid among the raw options, for diagnostics of broken rules.
fn find_sid(text: &str, raw: &[RawOption]) -> Option<u32> {
    raw.iter()
        .find(|o| slice(text, o.name).eq_ignore_ascii_case("sid"))
        .and_then(|o| o.value)
        .and_then(|v| slice(text, v).trim().parse().ok())
}

/// Last-resort sid scan for rules whose options did not even split.
fn scan_sid(text: &str) -> Option<u32> {
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|r| r.find("sid")) {
        let at = from + i;
        from = at + 3;
        let before_ok = at == 0
            || text
                .as_bytes()
                .get(at - 1)
                .is_some_and(|&b| b == b';' || b == b'(' || b.is_ascii_whitespace());
        if !before_ok {
            continue;
        }
        let rest = text.get(at + 3..).unwrap_or("").trim_start();
        if let Some(v) = rest.strip_prefix(':') {
            let digits: String = v
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

fn parse_one(text: &str, locator: &Locator, ctx: &mut Ctx<'_>) -> Result<Rule, Failure> {
    let Some(open) = text.find('(') else {
        return Err(
            Problem::new(ErrorKind::Syntax, "rule has no option list '(...)'")
                .at(0, text.len())
                .into(),
        );
    };
    let close = text.rfind(')').filter(|&c| c > open);
    let Some(close) = close else {
        return Err(Failure {
            problem: Problem::new(ErrorKind::Syntax, "option list is missing its closing ')'")
                .at(open, text.len()),
            sid: scan_sid(text),
            skip: false,
        });
    };
    let trailing = slice(text, (close + 1, text.len())).trim();
    if !trailing.is_empty() {
        let at = close
            + 1
            + (text.len() - close - 1 - slice(text, (close + 1, text.len())).trim_start().len());
        return Err(Failure {
            problem: Problem::new(
                ErrorKind::Syntax,
                format!("unexpected text after the option list: {trailing:?}"),
            )
            .at(at, text.len()),
            sid: scan_sid(text),
            skip: false,
        });
    }

    let mut raw = std::mem::take(&mut ctx.raw);
    let result = parse_with_options(text, locator, ctx, open, close, &mut raw);
    ctx.raw = raw;
    result
}

fn parse_with_options(
    text: &str,
    locator: &Locator,
    ctx: &mut Ctx<'_>,
    open: usize,
    close: usize,
    raw: &mut Vec<RawOption>,
) -> Result<Rule, Failure> {
    if let Err(p) = split_options(text, open, close, raw) {
        return Err(Failure {
            problem: p,
            sid: scan_sid(text),
            skip: false,
        });
    }
    let sid = find_sid(text, raw);
    let with_sid = |p: Problem| Failure {
        problem: p,
        sid,
        skip: false,
    };
    // Suricata evaluates `requires` before anything else in the rule.
    if let Some(req) = raw
        .iter()
        .find(|o| slice(text, o.name).eq_ignore_ascii_case("requires"))
    {
        let value = req.value.map_or("", |v| slice(text, v));
        let range = (req.name.0, req.value.map_or(req.name.1, |v| v.1));
        match requires_met(value) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Failure {
                    problem: Problem::new(ErrorKind::UnsupportedKeyword, "requirement not met"),
                    sid,
                    skip: true,
                })
            }
            Err(p) => return Err(with_sid(p.at(range.0, range.1))),
        }
    }

    // Header.
    let mut toks = Vec::with_capacity(8);
    header_tokens(slice(text, (0, open)), 0, &mut toks);
    const SHAPE: &str =
        "expected `action protocol src_addr src_port direction dst_addr dst_port (options)`";
    if toks.len() != 7 {
        let range = (0, open);
        let msg = if toks.len() < 7 {
            format!(
                "incomplete rule header ({} of 7 fields); {SHAPE}",
                toks.len()
            )
        } else {
            format!("too many rule header fields ({}); {SHAPE}", toks.len())
        };
        return Err(with_sid(header_err(msg, range)));
    }
    let t = |i: usize| toks.get(i).copied().unwrap_or((0, 0));
    let action_r = t(0);
    let action = Action::parse(slice(text, action_r)).ok_or_else(|| {
        with_sid(header_err(
            format!("unknown action {:?}", slice(text, action_r)),
            action_r,
        ))
    })?;
    let proto_r = t(1);
    let protocol = Protocol::parse(slice(text, proto_r)).ok_or_else(|| {
        with_sid(header_err(
            format!("invalid protocol {:?}", slice(text, proto_r)),
            proto_r,
        ))
    })?;
    let dir_r = t(4);
    let direction = match slice(text, dir_r) {
        "->" => Direction::ToDst,
        "<>" => Direction::Both,
        "<-" => {
            return Err(with_sid(header_err(
                "direction '<-' is not supported; swap source and destination and use '->'",
                dir_r,
            )))
        }
        "=>" => {
            return Err(with_sid(
                Problem::new(
                    ErrorKind::UnsupportedKeyword,
                    "direction '=>' (Suricata 8 transactional rules) is not supported",
                )
                .at(dir_r.0, dir_r.1),
            ))
        }
        other => {
            return Err(with_sid(header_err(
                format!("invalid direction {other:?}; expected '->' or '<>'"),
                dir_r,
            )))
        }
    };
    let src = ctx
        .address(slice(text, t(2)), t(2).0, locator)
        .map_err(with_sid)?;
    let src_ports = ctx
        .ports(slice(text, t(3)), t(3).0, locator)
        .map_err(with_sid)?;
    let dst = ctx
        .address(slice(text, t(5)), t(5).0, locator)
        .map_err(with_sid)?;
    let dst_ports = ctx
        .ports(slice(text, t(6)), t(6).0, locator)
        .map_err(with_sid)?;

    let header = options::Header {
        action,
        protocol,
        src,
        src_ports,
        direction,
        dst,
        dst_ports,
    };
    let mut builder = options::Builder::new(text, locator, header, &mut ctx.interner);
    for opt in raw.iter() {
        builder.apply(opt).map_err(with_sid)?;
    }
    let span = locator.span(0, text.len());
    builder
        .finish(span, ctx.file.clone(), (0, close + 1))
        .map_err(with_sid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn logical_lines() {
        let src = "# comment\n\n# alert tcp any any -> any any (sid:1;)\nalert \\\n  tcp\r\n  x\n";
        let mut got = Vec::new();
        let disabled = for_each_logical_rule(src, |t, l| got.push((t.into_owned(), l)));
        assert_eq!(disabled, 1);
        assert_eq!(got.len(), 2);
        assert_eq!(got.first().map(|g| g.0.as_str()), Some("alert   tcp"));
        let loc = &got
            .first()
            .map(|g| g.1.clone())
            .unwrap_or_else(Locator::standalone);
        let sp = loc.span(8, 11);
        assert_eq!((sp.line, sp.column), (5, 3));
        assert_eq!(sp.text(src), Some("tcp"));
        assert_eq!(got.get(1).map(|g| g.0.as_str()), Some("x"));
    }

    #[test]
    fn option_split_escapes() {
        let text = r#"alert tcp any any -> any any (content:"a\;b"; nocase ; msg: "x" ;)"#;
        let open = text.find('(').unwrap_or(0);
        let close = text.rfind(')').unwrap_or(0);
        let mut out = Vec::new();
        split_options(text, open, close, &mut out).unwrap();
        let names: Vec<&str> = out.iter().map(|o| slice(text, o.name)).collect();
        assert_eq!(names, ["content", "nocase", "msg"]);
        let values: Vec<Option<&str>> = out
            .iter()
            .map(|o| o.value.map(|v| slice(text, v)))
            .collect();
        assert_eq!(values, [Some(r#""a\;b""#), None, Some("\"x\"")]);
    }

    #[test]
    fn requires() {
        assert_eq!(requires_met("version >= 7.0.3").ok(), Some(true));
        assert_eq!(requires_met("version >= 8").ok(), Some(false));
        assert_eq!(requires_met("version >= 7.0.3 < 8").ok(), Some(true));
        assert_eq!(requires_met("version >= 9 | >= 7 < 7.1").ok(), Some(true));
        assert_eq!(requires_met("feature geoip").ok(), Some(false));
        assert!(requires_met("version 7").is_err());
        assert!(requires_met("colour blue").is_err());
    }

    #[test]
    fn sid_scan() {
        assert_eq!(scan_sid("alert (msg:\"x\"; sid: 42; rev:1"), Some(42));
        assert_eq!(scan_sid("alert (xsid:42;"), None);
    }
}
