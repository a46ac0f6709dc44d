//! Payload keywords other than content: pcre, byte_*, isdataat, bsize,
//! base64_decode, asn1.

use crate::ast::{
    Asn1, Base64Decode, Bsize, ByteExtract, ByteJump, ByteMath, ByteMathOp, ByteTest, ByteTestOp,
    Endian, IsDataAt, JumpFrom, MatchKind, NumBase, Pcre, PcreFlags,
};
use crate::buffer::{Buffer, BufferRef};
use crate::error::{conflict, invalid, Problem};
use crate::num::{
    is_var_name, parse_cmp, parse_int, parse_num_or_var, parse_uint_any_base, NumOrVar,
};

use super::content::quoted_negatable;
use super::options::Builder;

/// The buffer a PCRE buffer-selection flag stands for.
fn pcre_buffer_flag(c: char) -> Option<Buffer> {
    Some(match c {
        'U' => Buffer::HttpUri,
        'I' => Buffer::HttpUriRaw,
        'P' => Buffer::HttpRequestBody,
        'Q' => Buffer::FileData,
        'H' => Buffer::HttpHeader,
        'D' => Buffer::HttpHeaderRaw,
        'M' => Buffer::HttpMethod,
        'C' => Buffer::HttpCookie,
        'S' => Buffer::HttpStatCode,
        'Y' => Buffer::HttpStatMsg,
        'V' => Buffer::HttpUserAgent,
        'W' => Buffer::HttpHost,
        'Z' => Buffer::HttpHostRaw,
        _ => return None,
    })
}

/// Common option words of the byte_* keywords.
#[derive(Default)]
struct ByteOpts {
    relative: bool,
    endian: Option<Endian>,
    string: bool,
    base: Option<NumBase>,
    bitmask: Option<u32>,
}

impl ByteOpts {
    /// Consumes `word` if it is a common option; `Ok(false)` if not.
    fn take(&mut self, kw: &str, word: &str) -> Result<bool, Problem> {
        let set_endian = |cur: &mut Option<Endian>, e: Endian| -> Result<(), Problem> {
            if cur.is_some() {
                return Err(conflict(format!("{kw}: endianness given twice")));
            }
            *cur = Some(e);
            Ok(())
        };
        match word {
            "relative" => self.relative = true,
            "big" => set_endian(&mut self.endian, Endian::Big)?,
            "little" => set_endian(&mut self.endian, Endian::Little)?,
            "dce" => set_endian(&mut self.endian, Endian::Dce)?,
            "string" => self.string = true,
            "hex" | "dec" | "oct" => {
                if self.base.is_some() {
                    return Err(conflict(format!("{kw}: number base given twice")));
                }
                self.base = Some(match word {
                    "hex" => NumBase::Hex,
                    "dec" => NumBase::Dec,
                    _ => NumBase::Oct,
                });
            }
            w if w.starts_with("bitmask") => {
                let v = w.get(7..).unwrap_or("").trim();
                let m = parse_uint_any_base(v, &format!("{kw} bitmask"))?;
                let m =
                    u32::try_from(m).map_err(|_| invalid(format!("{kw}: bitmask too large")))?;
                if m == 0 {
                    return Err(invalid(format!("{kw}: bitmask can't be 0")));
                }
                self.bitmask = Some(m);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn string_base(&self, kw: &str) -> Result<Option<NumBase>, Problem> {
        match (self.string, self.base) {
            (true, b) => Ok(Some(b.unwrap_or(NumBase::Dec))),
            (false, None) => Ok(None),
            (false, Some(_)) => Err(invalid(format!("{kw}: hex/dec/oct need 'string'"))),
        }
    }
}

fn check_nbytes(kw: &str, n: u8, string: bool) -> Result<(), Problem> {
    let max = if string { 23 } else { 8 };
    if n > max {
        return Err(invalid(format!(
            "{kw}: number of bytes must be at most {max}{}",
            if string { " with string" } else { "" }
        )));
    }
    Ok(())
}

impl Builder<'_> {
    fn var_ref<T>(&self, v: &NumOrVar<T>) -> Result<(), Problem> {
        if let NumOrVar::Var(name) = v {
            self.check_var(name)?;
        }
        Ok(())
    }

    pub(super) fn pcre(&mut self, value: &str, full: (usize, usize)) -> Result<(), Problem> {
        let (negated, inner, _) = quoted_negatable(value, "pcre")?;
        let Some(body) = inner.strip_prefix('/') else {
            return Err(invalid("pcre must start with '/'"));
        };
        let Some(close) = body.rfind('/') else {
            return Err(invalid("pcre is missing its closing '/'"));
        };
        let pattern = body.get(..close).unwrap_or("");
        if pattern.is_empty() {
            return Err(invalid("empty pcre"));
        }
        let tail = body.get(close + 1..).unwrap_or("");
        let (flag_s, captures) = match tail.split_once(',') {
            Some((f, caps)) => (
                f.trim(),
                caps.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
            ),
            None => (tail.trim(), Vec::new()),
        };
        let mut flags = PcreFlags::default();
        let mut buffer: Option<Buffer> = None;
        for ch in flag_s.chars() {
            let slot = match ch {
                'i' => &mut flags.caseless,
                's' => &mut flags.dotall,
                'm' => &mut flags.multiline,
                'x' => &mut flags.extended,
                'A' => &mut flags.anchored,
                'E' => &mut flags.dollar_endonly,
                'G' => &mut flags.ungreedy,
                'R' => &mut flags.relative,
                'B' => &mut flags.rawbytes,
                'O' => &mut flags.no_match_limit,
                c => {
                    let Some(b) = pcre_buffer_flag(c) else {
                        return Err(invalid(format!("pcre: unknown modifier '{c}'")));
                    };
                    if buffer.is_some_and(|x| x != b) {
                        return Err(conflict("pcre: more than one buffer modifier"));
                    }
                    buffer = Some(b);
                    continue;
                }
            };
            *slot = true;
        }
        let buffer = match buffer {
            Some(b) => {
                if let Some(active) = &self.sticky {
                    if !active.buffer.same_data(b) {
                        return Err(conflict(format!(
                            "pcre buffer modifier selects {b} while sticky buffer {} is set",
                            active.buffer
                        )));
                    }
                    self.active_buffer()
                } else {
                    BufferRef::plain(b)
                }
            }
            None => self.active_buffer(),
        };
        if flags.relative && !self.matches.iter().any(|m| m.buffer() == Some(&buffer)) {
            return Err(conflict(format!(
                "pcre with /R (relative) needs a preceding match in the same buffer ({})",
                buffer.buffer
            )));
        }
        let p = Pcre {
            buffer,
            pattern: pattern.to_string(),
            negated,
            flags,
            captures,
        };
        self.push(MatchKind::Pcre(p), full);
        Ok(())
    }

    pub(super) fn byte_test(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        const KW: &str = "byte_test";
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [nbytes, op, value, offset, rest @ ..] = parts.as_slice() else {
            return Err(invalid(
                "byte_test: expected bytes, operator, value, offset[, options]",
            ));
        };
        let nbytes: NumOrVar<u8> = parse_num_or_var(nbytes, "byte_test bytes")?;
        let (negated, op_s) = match op.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, *op),
        };
        let op = match op_s {
            "<" => ByteTestOp::Lt,
            ">" => ByteTestOp::Gt,
            "=" | "" if negated || op_s == "=" => ByteTestOp::Eq,
            "<=" => ByteTestOp::Le,
            ">=" => ByteTestOp::Ge,
            "&" => ByteTestOp::And,
            "^" => ByteTestOp::Xor,
            _ => return Err(invalid(format!("byte_test: invalid operator {op:?}"))),
        };
        let value = if is_var_name(value) {
            NumOrVar::Var((*value).to_string())
        } else {
            NumOrVar::Num(parse_uint_any_base(value, "byte_test value")?)
        };
        let offset: NumOrVar<i32> = parse_num_or_var(offset, "byte_test offset")?;
        let mut o = ByteOpts::default();
        for w in rest {
            if !o.take(KW, w)? {
                return Err(invalid(format!("byte_test: unknown option {w:?}")));
            }
        }
        let string = o.string_base(KW)?;
        if let NumOrVar::Num(n) = nbytes {
            check_nbytes(KW, n, string.is_some())?;
        }
        self.var_ref(&nbytes)?;
        self.var_ref(&value)?;
        self.var_ref(&offset)?;
        let buffer = self.buffer_for(o.relative);
        let t = ByteTest {
            buffer,
            nbytes,
            op,
            negated,
            value,
            offset,
            relative: o.relative,
            endian: o.endian.unwrap_or_default(),
            string,
            bitmask: o.bitmask,
        };
        self.push(MatchKind::ByteTest(t), full);
        Ok(())
    }

    pub(super) fn byte_jump(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        const KW: &str = "byte_jump";
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [nbytes, offset, rest @ ..] = parts.as_slice() else {
            return Err(invalid("byte_jump: expected bytes, offset[, options]"));
        };
        let nbytes: u8 = parse_int(nbytes, "byte_jump bytes")?;
        let offset: NumOrVar<i32> = parse_num_or_var(offset, "byte_jump offset")?;
        let mut o = ByteOpts::default();
        let mut multiplier = None;
        let mut align = false;
        let mut from = JumpFrom::Current;
        let mut post_offset = None;
        for w in rest {
            if o.take(KW, w)? {
                continue;
            }
            let (k, val) = w
                .split_once(char::is_whitespace)
                .map_or((*w, ""), |(k, v)| (k, v.trim()));
            match k {
                "multiplier" => {
                    let m: u32 = parse_int(val, "byte_jump multiplier")?;
                    if m == 0 {
                        return Err(invalid("byte_jump: multiplier can't be 0"));
                    }
                    multiplier = Some(m);
                }
                "align" => align = true,
                "from_beginning" | "from_end" => {
                    if from != JumpFrom::Current {
                        return Err(conflict(
                            "byte_jump: from_beginning and from_end are exclusive",
                        ));
                    }
                    from = if k == "from_beginning" {
                        JumpFrom::Beginning
                    } else {
                        JumpFrom::End
                    };
                }
                "post_offset" => post_offset = Some(parse_int(val, "byte_jump post_offset")?),
                _ => return Err(invalid(format!("byte_jump: unknown option {w:?}"))),
            }
        }
        let string = o.string_base(KW)?;
        let max = if string.is_some() { 32 } else { 8 };
        if nbytes > max {
            return Err(invalid(format!(
                "byte_jump: number of bytes must be at most {max}"
            )));
        }
        self.var_ref(&offset)?;
        let buffer = self.buffer_for(o.relative);
        let j = ByteJump {
            buffer,
            nbytes,
            offset,
            relative: o.relative,
            multiplier,
            endian: o.endian.unwrap_or_default(),
            string,
            align,
            from,
            post_offset,
            bitmask: o.bitmask,
        };
        self.push(MatchKind::ByteJump(j), full);
        Ok(())
    }

    pub(super) fn byte_extract(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        const KW: &str = "byte_extract";
        let parts: Vec<&str> = v.split(',').map(str::trim).collect();
        let [nbytes, offset, name, rest @ ..] = parts.as_slice() else {
            return Err(invalid(
                "byte_extract: expected bytes, offset, name[, options]",
            ));
        };
        let nbytes: u8 = parse_int(nbytes, "byte_extract bytes")?;
        let offset: i32 = parse_int(offset, "byte_extract offset")?;
        if !is_var_name(name) {
            return Err(invalid(format!(
                "byte_extract: invalid variable name {name:?}"
            )));
        }
        let mut o = ByteOpts::default();
        let mut multiplier = None;
        let mut align = None;
        for w in rest {
            if o.take(KW, w)? {
                continue;
            }
            let (k, val) = w
                .split_once(char::is_whitespace)
                .map_or((*w, ""), |(k, v)| (k, v.trim()));
            match k {
                "multiplier" => {
                    let m: u32 = parse_int(val, "byte_extract multiplier")?;
                    if m == 0 {
                        return Err(invalid("byte_extract: multiplier can't be 0"));
                    }
                    multiplier = Some(m);
                }
                "align" => {
                    let a: u8 = parse_int(val, "byte_extract align")?;
                    if a != 2 && a != 4 {
                        return Err(invalid("byte_extract: align must be 2 or 4"));
                    }
                    align = Some(a);
                }
                _ => return Err(invalid(format!("byte_extract: unknown option {w:?}"))),
            }
        }
        let string = o.string_base(KW)?;
        check_nbytes(KW, nbytes, string.is_some())?;
        let buffer = self.buffer_for(o.relative);
        let e = ByteExtract {
            buffer,
            nbytes,
            offset,
            name: (*name).to_string(),
            relative: o.relative,
            multiplier,
            endian: o.endian.unwrap_or_default(),
            string,
            align,
            bitmask: o.bitmask,
        };
        self.byte_vars.push((*name).to_string());
        self.push(MatchKind::ByteExtract(e), full);
        Ok(())
    }

    pub(super) fn byte_math(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        const KW: &str = "byte_math";
        let mut nbytes = None;
        let mut offset = None;
        let mut oper = None;
        let mut rvalue = None;
        let mut result = None;
        let mut o = ByteOpts::default();
        for w in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (k, val) = w
                .split_once(char::is_whitespace)
                .map_or((w, ""), |(k, v)| (k, v.trim()));
            match k {
                "bytes" => nbytes = Some(parse_num_or_var::<u8>(val, "byte_math bytes")?),
                "offset" => offset = Some(parse_int::<i32>(val, "byte_math offset")?),
                "oper" => {
                    oper = Some(match val {
                        "+" => ByteMathOp::Add,
                        "-" => ByteMathOp::Sub,
                        "*" => ByteMathOp::Mul,
                        "/" => ByteMathOp::Div,
                        "<<" => ByteMathOp::Shl,
                        ">>" => ByteMathOp::Shr,
                        _ => return Err(invalid(format!("byte_math: invalid operator {val:?}"))),
                    })
                }
                "rvalue" => {
                    rvalue = Some(if is_var_name(val) {
                        NumOrVar::Var(val.to_string())
                    } else {
                        let n = parse_uint_any_base(val, "byte_math rvalue")?;
                        NumOrVar::Num(
                            u32::try_from(n).map_err(|_| invalid("byte_math: rvalue too large"))?,
                        )
                    })
                }
                "result" => {
                    if !is_var_name(val) {
                        return Err(invalid(format!("byte_math: invalid result name {val:?}")));
                    }
                    result = Some(val.to_string());
                }
                "endian" => {
                    if !matches!(val, "big" | "little" | "dce") || !o.take(KW, val)? {
                        return Err(invalid(format!("byte_math: invalid endian {val:?}")));
                    }
                }
                "string" => {
                    o.string = true;
                    if !matches!(val, "hex" | "dec" | "oct") || !o.take(KW, val)? {
                        return Err(invalid(format!("byte_math: invalid string base {val:?}")));
                    }
                }
                _ => {
                    if !o.take(KW, w)? {
                        return Err(invalid(format!("byte_math: unknown option {w:?}")));
                    }
                }
            }
        }
        let nbytes = nbytes.ok_or_else(|| invalid("byte_math: missing bytes"))?;
        let offset = offset.ok_or_else(|| invalid("byte_math: missing offset"))?;
        let oper = oper.ok_or_else(|| invalid("byte_math: missing oper"))?;
        let rvalue = rvalue.ok_or_else(|| invalid("byte_math: missing rvalue"))?;
        let result = result.ok_or_else(|| invalid("byte_math: missing result"))?;
        let string = o.string_base(KW)?;
        if let NumOrVar::Num(n) = nbytes {
            let max = 10;
            if n == 0 || n > max {
                return Err(invalid(format!(
                    "byte_math: number of bytes must be 1 to {max}"
                )));
            }
        }
        self.var_ref(&nbytes)?;
        self.var_ref(&rvalue)?;
        let buffer = self.buffer_for(o.relative);
        let m = ByteMath {
            buffer,
            nbytes,
            offset,
            oper,
            rvalue,
            result: result.clone(),
            relative: o.relative,
            endian: o.endian.unwrap_or_default(),
            string,
            bitmask: o.bitmask,
        };
        self.byte_vars.push(result);
        self.push(MatchKind::ByteMath(m), full);
        Ok(())
    }

    pub(super) fn isdataat(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        let mut parts = v.split(',').map(str::trim);
        let first = parts.next().unwrap_or("");
        let (negated, n) = match first.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, first),
        };
        let offset: NumOrVar<u16> = parse_num_or_var(n, "isdataat")?;
        self.var_ref(&offset)?;
        let mut relative = false;
        let mut rawbytes = false;
        for w in parts {
            match w {
                "relative" => relative = true,
                "rawbytes" => rawbytes = true,
                _ => return Err(invalid(format!("isdataat: unknown option {w:?}"))),
            }
        }
        let buffer = self.buffer_for(relative);
        let i = IsDataAt {
            buffer,
            offset,
            negated,
            relative,
            rawbytes,
        };
        self.push(MatchKind::IsDataAt(i), full);
        Ok(())
    }

    pub(super) fn bsize(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        let cmp = parse_cmp::<u64>(v, "bsize")?;
        if self.sticky.is_none() {
            return Err(conflict("bsize must follow a sticky buffer"));
        }
        let buffer = self.active_buffer();
        self.push(MatchKind::Bsize(Bsize { buffer, cmp }), full);
        Ok(())
    }

    pub(super) fn base64_decode(
        &mut self,
        v: Option<&str>,
        full: (usize, usize),
    ) -> Result<(), Problem> {
        let mut bytes = None;
        let mut offset = None;
        let mut relative = false;
        if let Some(v) = v {
            for w in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                let (k, val) = w
                    .split_once(char::is_whitespace)
                    .map_or((w, ""), |(k, v)| (k, v.trim()));
                match k {
                    "bytes" => {
                        let b: u32 = parse_int(val, "base64_decode bytes")?;
                        if b == 0 {
                            return Err(invalid("base64_decode: bytes can't be 0"));
                        }
                        bytes = Some(b);
                    }
                    "offset" => offset = Some(parse_int(val, "base64_decode offset")?),
                    "relative" => relative = true,
                    _ => return Err(invalid(format!("base64_decode: unknown option {w:?}"))),
                }
            }
        }
        let buffer = self.buffer_for(relative);
        let d = Base64Decode {
            buffer,
            bytes,
            offset,
            relative,
        };
        self.push(MatchKind::Base64Decode(d), full);
        Ok(())
    }

    pub(super) fn asn1(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        let mut a = Asn1 {
            buffer: BufferRef::PAYLOAD,
            bitstring_overflow: false,
            double_overflow: false,
            oversize_length: None,
            absolute_offset: None,
            relative_offset: None,
        };
        for w in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (k, val) = w
                .split_once(char::is_whitespace)
                .map_or((w, ""), |(k, v)| (k, v.trim()));
            match k {
                "bitstring_overflow" => a.bitstring_overflow = true,
                "double_overflow" => a.double_overflow = true,
                "oversize_length" => {
                    a.oversize_length = Some(parse_int(val, "asn1 oversize_length")?)
                }
                "absolute_offset" => {
                    a.absolute_offset = Some(parse_int(val, "asn1 absolute_offset")?)
                }
                "relative_offset" => {
                    a.relative_offset = Some(parse_int(val, "asn1 relative_offset")?)
                }
                _ => return Err(invalid(format!("asn1: unknown option {w:?}"))),
            }
        }
        if a.absolute_offset.is_some() && a.relative_offset.is_some() {
            return Err(conflict(
                "asn1: absolute_offset and relative_offset are exclusive",
            ));
        }
        a.buffer = self.buffer_for(a.relative_offset.is_some());
        self.push(MatchKind::Asn1(a), full);
        Ok(())
    }
}
