//! The payload program of a rule: its content, pcre, isdataat and byte_*
//! keywords for one buffer, evaluated in rule order with Suricata's
//! semantics, backtracking included.
//!
//! Relative keywords (distance, within, `R`, `relative`) are anchored at the
//! end of the previous match. When a later step fails, an earlier match is
//! retried at its next occurrence, because another occurrence may leave the
//! relative steps after it room to match (`content:"a"; content:"b";
//! distance:0; within:1;` must match "a-ab"). The total number of retries
//! per evaluation is bounded ([`RECURSION_LIMIT`]), like Suricata's
//! `inspection-recursion-limit`, so that hostile payloads cannot make rule
//! evaluation quadratic.

use crate::bytes::{read_number, CmpOp, NumberFormat};
use crate::content::Literal;
use crate::pcre::{PcreMatcher, PcreOutcome};

/// Retries allowed per program evaluation.
pub const RECURSION_LIMIT: u32 = 3000;

/// Byte variables a program may hold (byte_extract / byte_math results).
pub const MAX_VARS: usize = 8;

/// A number in a rule option: a literal or a byte_extract variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A constant.
    Lit(i64),
    /// The value of variable number `n` (its order of definition).
    Var(u8),
}

impl Value {
    fn get(self, vars: &[i64; MAX_VARS]) -> i64 {
        match self {
            Value::Lit(v) => v,
            Value::Var(i) => vars.get(usize::from(i)).copied().unwrap_or(0),
        }
    }
}

/// A `content` keyword with its modifiers.
#[derive(Clone, Debug)]
pub struct ContentStep {
    /// The pattern.
    pub literal: Literal,
    /// `content:!"..."`: the pattern must not occur in the window.
    pub negated: bool,
    /// Absolute start of the window.
    pub offset: Option<Value>,
    /// Absolute window length from `offset`.
    pub depth: Option<Value>,
    /// Relative start: bytes after the previous match's end (may be < 0).
    pub distance: Option<Value>,
    /// Relative window end: bytes after the previous match's end (plus
    /// `distance`).
    pub within: Option<Value>,
    /// Must match at the start of the buffer.
    pub startswith: bool,
    /// Must match at the end of the buffer.
    pub endswith: bool,
}

impl ContentStep {
    /// A plain content with no modifiers.
    pub fn new(literal: Literal) -> Self {
        ContentStep {
            literal,
            negated: false,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            startswith: false,
            endswith: false,
        }
    }

    fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// The [start, end) window this content may match in.
    fn window(
        &self,
        len: usize,
        prev_end: usize,
        vars: &[i64; MAX_VARS],
    ) -> Option<(usize, usize)> {
        let len_i = len as i64;
        let (mut start, mut end) = if self.relative() {
            let dist = self.distance.map(|d| d.get(vars)).unwrap_or(0);
            let start = prev_end as i64 + dist;
            let end = match self.within {
                Some(w) => prev_end as i64 + dist.max(0) + w.get(vars),
                None => len_i,
            };
            (start.max(0), end)
        } else {
            let off = self.offset.map(|o| o.get(vars)).unwrap_or(0).max(0);
            let end = match self.depth {
                Some(d) => off + d.get(vars),
                None => len_i,
            };
            (off, end)
        };
        if self.startswith {
            start = 0;
            end = end.min(self.literal.len() as i64);
        }
        end = end.min(len_i);
        if self.endswith {
            start = start.max(len_i - self.literal.len() as i64);
        }
        (start <= end).then_some((start as usize, end as usize))
    }
}

/// A `pcre` keyword.
#[derive(Debug)]
pub struct PcreStep {
    /// The compiled pattern.
    pub matcher: PcreMatcher,
    /// `!`: the pattern must not match.
    pub negated: bool,
    /// `R`: search from the previous match's end.
    pub relative: bool,
}

/// `isdataat:N[,relative]`.
#[derive(Clone, Copy, Debug)]
pub struct IsDataAt {
    /// Position that must hold data.
    pub offset: Value,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// `!isdataat`: there must be no data there.
    pub negated: bool,
}

/// `byte_test`.
#[derive(Clone, Copy, Debug)]
pub struct ByteTest {
    /// Bytes to read (a constant or a byte variable).
    pub nbytes: Value,
    /// Operator.
    pub op: CmpOp,
    /// `!op`.
    pub negated: bool,
    /// Right-hand side.
    pub value: Value,
    /// Where to read.
    pub offset: Value,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// Byte order or string base.
    pub format: NumberFormat,
    /// Mask applied before the comparison (and the value shifted right by
    /// the mask's trailing zeros, as Suricata does).
    pub bitmask: Option<u64>,
}

/// `byte_jump`.
#[derive(Clone, Copy, Debug)]
pub struct ByteJump {
    /// Bytes to read.
    pub nbytes: usize,
    /// Where to read.
    pub offset: Value,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// Byte order or string base.
    pub format: NumberFormat,
    /// Multiply the value.
    pub multiplier: u64,
    /// Round the jump up to a multiple of 4.
    pub align: bool,
    /// Jump from the buffer start instead of after the read bytes.
    pub from_beginning: bool,
    /// Jump from the buffer end.
    pub from_end: bool,
    /// Added after the jump (may be < 0).
    pub post_offset: i64,
    /// Mask applied to the value.
    pub bitmask: Option<u64>,
}

/// `byte_extract`.
#[derive(Clone, Copy, Debug)]
pub struct ByteExtract {
    /// Bytes to read.
    pub nbytes: usize,
    /// Where to read.
    pub offset: Value,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// Byte order or string base.
    pub format: NumberFormat,
    /// Multiply the value.
    pub multiplier: u64,
    /// Round the value up to a multiple of this (0 = off).
    pub align: u64,
    /// Mask applied to the value.
    pub bitmask: Option<u64>,
    /// Variable slot receiving the value.
    pub var: u8,
}

/// Arithmetic of `byte_math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// `byte_math`.
#[derive(Clone, Copy, Debug)]
pub struct ByteMath {
    /// Bytes to read (a constant or a byte variable).
    pub nbytes: Value,
    /// Where to read.
    pub offset: Value,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// Byte order or string base.
    pub format: NumberFormat,
    /// The operation.
    pub op: MathOp,
    /// The other operand.
    pub rvalue: Value,
    /// Mask applied to the read value.
    pub bitmask: Option<u64>,
    /// Variable slot receiving the result.
    pub var: u8,
}

/// Buffer size bounds (`bsize`, `dsize` applied to a buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeCheck {
    /// Exactly n.
    Eq(u64),
    /// Fewer than n.
    Lt(u64),
    /// More than n.
    Gt(u64),
    /// Strictly between a and b.
    Between(u64, u64),
    /// Not equal to n.
    Ne(u64),
    /// At most n.
    Le(u64),
    /// At least n.
    Ge(u64),
    /// Not strictly between a and b.
    Outside(u64, u64),
}

impl SizeCheck {
    /// Whether `n` satisfies the bound.
    pub fn check(self, n: u64) -> bool {
        match self {
            SizeCheck::Eq(v) => n == v,
            SizeCheck::Lt(v) => n < v,
            SizeCheck::Gt(v) => n > v,
            SizeCheck::Between(a, b) => n > a && n < b,
            SizeCheck::Ne(v) => n != v,
            SizeCheck::Le(v) => n <= v,
            SizeCheck::Ge(v) => n >= v,
            SizeCheck::Outside(a, b) => !(n > a && n < b),
        }
    }
}

/// One step of a payload program.
#[derive(Debug)]
pub enum Step {
    /// `content` and modifiers (boxed: it is far larger than the others).
    Content(Box<ContentStep>),
    /// `pcre`.
    Pcre(Box<PcreStep>),
    /// `isdataat`.
    IsDataAt(IsDataAt),
    /// `byte_test`.
    ByteTest(ByteTest),
    /// `byte_jump`.
    ByteJump(ByteJump),
    /// `byte_extract`.
    ByteExtract(ByteExtract),
    /// `byte_math`.
    ByteMath(ByteMath),
    /// `bsize`.
    Size(SizeCheck),
    /// `base64_decode`, with the `base64_data` keywords run on what it
    /// decoded (boxed: it holds a program).
    Base64(Box<Base64Step>),
    /// `dataset`: the whole buffer's membership in a shared set.
    Dataset(Box<DatasetStep>),
    /// `datarep`: the whole buffer's reputation in a shared list.
    Datarep(Box<DatarepStep>),
}

/// `dataset:cmd,name`: the set is shared with the other rules naming it
/// (and `set`/`unset` change it for them).
#[derive(Debug)]
pub struct DatasetStep {
    /// What to do with the buffer.
    pub cmd: rampart_rules::DatasetCmd,
    /// The set.
    pub set: std::sync::Arc<crate::dataset::Dataset>,
}

/// `datarep:name,op,value`.
#[derive(Debug)]
pub struct DatarepStep {
    /// The reputation list.
    pub rep: std::sync::Arc<crate::dataset::Reputation>,
    /// How the buffer's reputation must compare.
    pub cmp: rampart_rules::NumCmp<u32>,
}

/// Most bytes `base64_decode` reads when the rule gives no `bytes`
/// (Suricata's cap).
pub const BASE64_DECODE_MAX: u32 = 65535;

/// `base64_decode[:bytes N][,offset N][,relative]` and its `base64_data`
/// program. As in Suricata, the decoder is the end of its buffer's
/// program: the match is decided by the `base64_data` keywords.
#[derive(Debug, Default)]
pub struct Base64Step {
    /// Most encoded bytes read (`None`: [`BASE64_DECODE_MAX`]).
    pub bytes: Option<u32>,
    /// Where reading starts, from the buffer start or, with `relative`,
    /// from the end of the previous match.
    pub offset: u32,
    /// Relative to the previous match.
    pub relative: bool,
    /// The `base64_data` keywords (empty: decoding something is enough).
    pub data: Program,
}

/// The value of a base64 alphabet character (RFC 4648, standard alphabet).
fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes base64 the way Suricata 7's `base64_decode` keyword does (its
/// RFC 4648 mode): decoding stops at the first byte that is neither in
/// the alphabet nor `=`; `=` pads a group; a last group cut short (by the
/// end of the input or by that byte) yields the bytes its characters
/// complete (`np%` gives 0x9e, as suricata-verify's base64-issue-5223
/// expects).
pub fn base64_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut group = [0u8; 4];
    let mut n = 0usize;
    let mut padding = 0usize;
    let emit = |g: &[u8; 4], count: usize, out: &mut Vec<u8>| {
        let v = (u32::from(g[0]) << 18)
            | (u32::from(g[1]) << 12)
            | (u32::from(g[2]) << 6)
            | u32::from(g[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(bytes.get(..count.min(3)).unwrap_or_default());
    };
    for &c in input {
        let v = match base64_value(c) {
            Some(v) => v,
            None if c == b'=' => {
                padding += 1;
                0
            }
            None => break,
        };
        if let Some(slot) = group.get_mut(n) {
            *slot = v;
        }
        n += 1;
        if n == 4 {
            emit(&group, 3usize.saturating_sub(padding), &mut out);
            group = [0; 4];
            n = 0;
            padding = 0;
        }
    }
    if n > 0 {
        emit(&group, n - 1, &mut out);
    }
    out
}

impl Step {
    fn is_relative(&self) -> bool {
        match self {
            Step::Content(c) => c.relative(),
            Step::Pcre(p) => p.relative,
            Step::IsDataAt(i) => i.relative,
            Step::ByteTest(b) => b.relative,
            Step::ByteJump(b) => b.relative,
            Step::ByteExtract(b) => b.relative,
            Step::ByteMath(b) => b.relative,
            Step::Size(_) | Step::Dataset(_) | Step::Datarep(_) => false,
            Step::Base64(b) => b.relative,
        }
    }
}

/// Counters from evaluating programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// pcre searches that ran out of backtracking budget.
    pub pcre_limit_hits: u64,
    /// Evaluations stopped by the retry limit.
    pub recursion_limit_hits: u64,
}

/// An ordered list of steps over one buffer.
#[derive(Debug, Default)]
pub struct Program {
    steps: Vec<Step>,
    /// `retry_after[i]`: a later step is relative, so a failure after step
    /// `i` is worth retrying step `i` at its next occurrence.
    retry_after: Vec<bool>,
}

struct Eval<'a> {
    buf: &'a [u8],
    vars: [i64; MAX_VARS],
    budget: u32,
    stats: &'a mut EvalStats,
    /// The variables at the moment the whole program matched.
    out: Option<[i64; MAX_VARS]>,
    /// [`NumberFormat::Dce`] reads big-endian: the inspected DCERPC stub
    /// data said so in its data representation, or the buffer is not
    /// DCERPC stub data (Suricata's default then).
    dce_big_endian: bool,
}

impl Eval<'_> {
    /// `format` with [`NumberFormat::Dce`] resolved to a byte order.
    fn format(&self, format: NumberFormat) -> NumberFormat {
        match format {
            NumberFormat::Dce if self.dce_big_endian => NumberFormat::BigEndian,
            NumberFormat::Dce => NumberFormat::LittleEndian,
            other => other,
        }
    }
}

impl Program {
    /// Builds a program from steps in rule order.
    pub fn new(steps: Vec<Step>) -> Self {
        let mut retry_after = vec![false; steps.len()];
        let mut later_relative = false;
        for (i, s) in steps.iter().enumerate().rev() {
            if let Some(r) = retry_after.get_mut(i) {
                *r = later_relative;
            }
            later_relative |= s.is_relative();
        }
        Program { steps, retry_after }
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// True when the program has no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether the program matches `buf`.
    pub fn matches(&self, buf: &[u8], stats: &mut EvalStats) -> bool {
        self.matches_with(buf, &mut [0; MAX_VARS], stats)
    }

    /// Like [`Program::matches`], starting from (and, on a match, leaving
    /// in) `vars` the byte variables, so a variable extracted from one
    /// buffer can be used in another (`ipv4.hdr; byte_extract:...;
    /// tcp.hdr; byte_test:...,var`).
    pub fn matches_with(
        &self,
        buf: &[u8],
        vars: &mut [i64; MAX_VARS],
        stats: &mut EvalStats,
    ) -> bool {
        self.matches_with_order(buf, vars, stats, true)
    }

    /// Like [`Program::matches_with`] (which reads `dce` numbers
    /// big-endian, as Suricata does outside DCERPC stub data), with the
    /// byte order of the DCERPC stub data `buf` is: byte keywords with the
    /// `dce` option read big-endian when `dce_big_endian`.
    pub fn matches_with_order(
        &self,
        buf: &[u8],
        vars: &mut [i64; MAX_VARS],
        stats: &mut EvalStats,
        dce_big_endian: bool,
    ) -> bool {
        let mut ev = Eval {
            buf,
            vars: *vars,
            budget: RECURSION_LIMIT,
            stats,
            out: None,
            dce_big_endian,
        };
        let ok = self.eval(0, 0, &mut ev);
        if let (true, Some(v)) = (ok, ev.out) {
            *vars = v;
        }
        ok
    }

    fn eval(&self, idx: usize, prev_end: usize, ev: &mut Eval<'_>) -> bool {
        let Some(step) = self.steps.get(idx) else {
            ev.out = Some(ev.vars);
            return true;
        };
        let retry = self.retry_after.get(idx).copied().unwrap_or(false);
        let len = ev.buf.len();
        match step {
            Step::Content(c) => {
                let Some((start, end)) = c.window(len, prev_end, &ev.vars) else {
                    return c.negated && self.eval(idx + 1, prev_end, ev);
                };
                if c.negated {
                    return c.literal.find_in(ev.buf, start, end).is_none()
                        && self.eval(idx + 1, prev_end, ev);
                }
                let mut from = start;
                while let Some((s, e)) = c.literal.find_in(ev.buf, from, end) {
                    if c.endswith && e != len {
                        from = s + 1;
                        continue;
                    }
                    if self.eval(idx + 1, e, ev) {
                        return true;
                    }
                    if !retry || !self.spend(ev) {
                        return false;
                    }
                    from = s + 1;
                }
                false
            }
            Step::Pcre(p) => {
                let start = if p.relative { prev_end } else { 0 };
                if p.negated {
                    return match p.matcher.find_at(ev.buf, start) {
                        PcreOutcome::Match(..) => false,
                        PcreOutcome::NoMatch => self.eval(idx + 1, prev_end, ev),
                        PcreOutcome::LimitHit => {
                            ev.stats.pcre_limit_hits += 1;
                            false
                        }
                    };
                }
                let mut from = start;
                loop {
                    match p.matcher.find_at(ev.buf, from) {
                        PcreOutcome::Match(s, e) => {
                            if self.eval(idx + 1, e, ev) {
                                return true;
                            }
                            if !retry || !self.spend(ev) || s >= len {
                                return false;
                            }
                            from = s + 1;
                        }
                        PcreOutcome::NoMatch => return false,
                        PcreOutcome::LimitHit => {
                            ev.stats.pcre_limit_hits += 1;
                            return false;
                        }
                    }
                }
            }
            Step::IsDataAt(d) => {
                // Absolute: a byte exists at offset N (N < len). Relative:
                // N more bytes exist after the previous match
                // (prev_end + N <= len), as Suricata evaluates it.
                let present = if d.relative {
                    prev_end as i64 + d.offset.get(&ev.vars) <= len as i64
                } else {
                    let pos = d.offset.get(&ev.vars);
                    pos >= 0 && (pos as u64) < len as u64
                };
                present != d.negated && self.eval(idx + 1, prev_end, ev)
            }
            Step::ByteTest(b) => {
                let Some(at) = position(b.relative, prev_end, b.offset.get(&ev.vars)) else {
                    return false;
                };
                let n = usize::try_from(b.nbytes.get(&ev.vars)).unwrap_or(0);
                let Some(mut v) = read_number(ev.buf, at, n, ev.format(b.format)) else {
                    return false;
                };
                if let Some(mask) = b.bitmask {
                    v = (v & mask) >> mask.trailing_zeros().min(63);
                }
                let rhs = b.value.get(&ev.vars) as u64;
                b.op.apply(v, rhs) != b.negated && self.eval(idx + 1, prev_end, ev)
            }
            Step::ByteJump(b) => {
                let Some(at) = position(b.relative, prev_end, b.offset.get(&ev.vars)) else {
                    return false;
                };
                let Some(mut v) = read_number(ev.buf, at, b.nbytes, ev.format(b.format)) else {
                    return false;
                };
                if let Some(mask) = b.bitmask {
                    v = (v & mask) >> mask.trailing_zeros().min(63);
                }
                let mut jump = v.saturating_mul(b.multiplier.max(1)) as i64;
                if b.align && jump % 4 != 0 {
                    jump += 4 - jump % 4;
                }
                let base = if b.from_beginning {
                    0
                } else if b.from_end {
                    len as i64
                } else {
                    (at + b.nbytes) as i64
                };
                let target = base + jump + b.post_offset;
                if target < 0 || target > len as i64 {
                    return false;
                }
                self.eval(idx + 1, target as usize, ev)
            }
            Step::ByteExtract(b) => {
                let Some(at) = position(b.relative, prev_end, b.offset.get(&ev.vars)) else {
                    return false;
                };
                let Some(mut v) = read_number(ev.buf, at, b.nbytes, ev.format(b.format)) else {
                    return false;
                };
                if let Some(mask) = b.bitmask {
                    v = (v & mask) >> mask.trailing_zeros().min(63);
                }
                v = v.saturating_mul(b.multiplier.max(1));
                if b.align > 1 && v % b.align != 0 {
                    v += b.align - v % b.align;
                }
                let saved = ev.vars;
                if let Some(slot) = ev.vars.get_mut(usize::from(b.var)) {
                    *slot = v.min(i64::MAX as u64) as i64;
                }
                let ok = self.eval(idx + 1, at + b.nbytes, ev);
                if !ok {
                    ev.vars = saved;
                }
                ok
            }
            Step::ByteMath(b) => {
                let Some(at) = position(b.relative, prev_end, b.offset.get(&ev.vars)) else {
                    return false;
                };
                let n = usize::try_from(b.nbytes.get(&ev.vars)).unwrap_or(0);
                let Some(mut v) = read_number(ev.buf, at, n, ev.format(b.format)) else {
                    return false;
                };
                if let Some(mask) = b.bitmask {
                    v = (v & mask) >> mask.trailing_zeros().min(63);
                }
                let r = b.rvalue.get(&ev.vars) as u64;
                let result = match b.op {
                    MathOp::Add => v.wrapping_add(r),
                    MathOp::Sub => v.wrapping_sub(r),
                    MathOp::Mul => v.wrapping_mul(r),
                    MathOp::Div => {
                        if r == 0 {
                            return false;
                        }
                        v / r
                    }
                    MathOp::Shl => v.checked_shl(r as u32).unwrap_or(0),
                    MathOp::Shr => v.checked_shr(r as u32).unwrap_or(0),
                };
                let saved = ev.vars;
                if let Some(slot) = ev.vars.get_mut(usize::from(b.var)) {
                    *slot = result.min(i64::MAX as u64) as i64;
                }
                let ok = self.eval(idx + 1, prev_end, ev);
                if !ok {
                    ev.vars = saved;
                }
                ok
            }
            Step::Size(check) => check.check(len as u64) && self.eval(idx + 1, prev_end, ev),
            Step::Dataset(d) => d.set.apply(d.cmd, ev.buf) && self.eval(idx + 1, prev_end, ev),
            Step::Datarep(d) => {
                d.rep.get(ev.buf).is_some_and(|r| d.cmp.matches(r))
                    && self.eval(idx + 1, prev_end, ev)
            }
            Step::Base64(b) => {
                let base = if b.relative { prev_end } else { 0 };
                let Some(rest) = ev.buf.get(base..) else {
                    return false;
                };
                let offset = b.offset as usize;
                if offset > 0 && offset >= rest.len() {
                    return false;
                }
                let rest = rest.get(offset..).unwrap_or_default();
                let take = rest
                    .len()
                    .min(b.bytes.unwrap_or(BASE64_DECODE_MAX) as usize);
                let decoded = base64_decode(rest.get(..take).unwrap_or_default());
                if decoded.is_empty() {
                    return false;
                }
                if b.data.is_empty() {
                    return self.eval(idx + 1, prev_end, ev);
                }
                let mut vars = ev.vars;
                let ok =
                    b.data
                        .matches_with_order(&decoded, &mut vars, ev.stats, ev.dce_big_endian);
                if ok {
                    ev.out = Some(vars);
                }
                ok
            }
        }
    }

    fn spend(&self, ev: &mut Eval<'_>) -> bool {
        if ev.budget == 0 {
            ev.stats.recursion_limit_hits += 1;
            return false;
        }
        ev.budget -= 1;
        true
    }
}

/// Absolute read position of a byte_* keyword, if not before the buffer.
fn position(relative: bool, prev_end: usize, offset: i64) -> Option<usize> {
    let base = if relative { prev_end as i64 } else { 0 };
    usize::try_from(base + offset).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
