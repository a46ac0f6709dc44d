//! Address and port expressions, and the matchable sets they resolve to.
//!
//! A rule header keeps both: the expression as written ([`AddressExpr`],
//! [`PortExpr`]: for display and for spotting `any`) and the resolved set
//! ([`AddressSet`], [`PortSet`]: sorted, disjoint ranges with `O(log n)`
//! membership tests) that the detection engine matches packets against.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{ErrorKind, Problem};

/// An IP network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`); a single
/// address has the full prefix length (32 or 128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    /// The address as written.
    pub addr: IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub prefix: u8,
}

impl IpCidr {
    /// Whether `ip` lies in this network (an IPv4 network never contains an
    /// IPv6 address and vice versa, as in Suricata).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let (lo, hi) = v4_bounds(n, self.prefix);
                (lo..=hi).contains(&u32::from(a))
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let (lo, hi) = v6_bounds(n, self.prefix);
                (lo..=hi).contains(&u128::from(a))
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

fn v4_bounds(addr: Ipv4Addr, prefix: u8) -> (u32, u32) {
    let a = u32::from(addr);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    (a & mask, (a & mask) | !mask)
}

fn v6_bounds(addr: Ipv6Addr, prefix: u8) -> (u128, u128) {
    let a = u128::from(addr);
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    };
    (a & mask, (a & mask) | !mask)
}

/// An address expression as written in a rule header or an address
/// variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressExpr {
    /// `any`: every IPv4 and IPv6 address.
    Any,
    /// A single address or a CIDR network.
    Cidr(IpCidr),
    /// An inclusive range `a-b` (both of the same family).
    Range(IpAddr, IpAddr),
    /// `$NAME`, an address-group variable (name without the `$`).
    Var(String),
    /// `[a, b, ...]`.
    Group(Vec<AddressExpr>),
    /// `!expr`.
    Not(Box<AddressExpr>),
}

impl AddressExpr {
    /// Whether the expression is literally `any`.
    pub fn is_any(&self) -> bool {
        matches!(self, AddressExpr::Any)
    }
}

impl fmt::Display for AddressExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressExpr::Any => f.write_str("any"),
            AddressExpr::Cidr(c) => write!(f, "{c}"),
            AddressExpr::Range(a, b) => write!(f, "{a}-{b}"),
            AddressExpr::Var(v) => write!(f, "${v}"),
            AddressExpr::Group(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            AddressExpr::Not(e) => write!(f, "!{e}"),
        }
    }
}

/// A port expression as written in a rule header or a port variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortExpr {
    /// `any`: ports 0 to 65535.
    Any,
    /// A single port.
    Port(u16),
    /// An inclusive range: `80:90`, `1024:` (to 65535), `:1023` (from 0).
    Range(u16, u16),
    /// `$NAME`, a port-group variable (name without the `$`).
    Var(String),
    /// `[a, b, ...]`.
    Group(Vec<PortExpr>),
    /// `!expr`.
    Not(Box<PortExpr>),
}

impl PortExpr {
    /// Whether the expression is literally `any`.
    pub fn is_any(&self) -> bool {
        matches!(self, PortExpr::Any)
    }
}

impl fmt::Display for PortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortExpr::Any => f.write_str("any"),
            PortExpr::Port(p) => write!(f, "{p}"),
            PortExpr::Range(a, b) => write!(f, "{a}:{b}"),
            PortExpr::Var(v) => write!(f, "${v}"),
            PortExpr::Group(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            PortExpr::Not(e) => write!(f, "!{e}"),
        }
    }
}

/// A value type usable in a [`RangeSet`]: an unsigned integer with a
/// successor and predecessor.
pub(crate) trait Point: Copy + Ord + fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

macro_rules! point {
    ($($t:ty),*) => {$(
        impl Point for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
            fn pred(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
point!(u16, u32, u128);

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct RangeSet<T> {
    ranges: Vec<(T, T)>,
}

impl<T: Point> RangeSet<T> {
    pub(crate) fn full() -> Self {
        RangeSet {
            ranges: vec![(T::MIN, T::MAX)],
        }
    }

    /// Normalises arbitrary ranges (each `lo <= hi`).
    pub(crate) fn from_ranges(mut ranges: Vec<(T, T)>) -> Self {
        ranges.sort_unstable();
        let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            if let Some(last) = out.last_mut() {
                let adjacent = last.1.succ().is_none_or(|next| lo <= next);
                if adjacent {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
            }
            out.push((lo, hi));
        }
        RangeSet { ranges: out }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.ranges.as_slice() == [(T::MIN, T::MAX)]
    }

    pub(crate) fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    pub(crate) fn contains(&self, v: T) -> bool {
        let idx = self.ranges.partition_point(|&(lo, _)| lo <= v);
        idx.checked_sub(1)
            .and_then(|i| self.ranges.get(i))
            .is_some_and(|&(_, hi)| v <= hi)
    }

    /// `self` minus `other`.
    pub(crate) fn subtract(&self, other: &RangeSet<T>) -> RangeSet<T> {
        let mut out = Vec::with_capacity(self.ranges.len());
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            let mut cur = Some(lo);
            // Skip subtrahends entirely below this range.
            while other.ranges.get(j).is_some_and(|&(_, ohi)| ohi < lo) {
                j += 1;
            }
            let mut k = j;
            while let (Some(start), Some(&(olo, ohi))) = (cur, other.ranges.get(k)) {
                if olo > hi {
                    break;
                }
                if olo > start {
                    if let Some(end) = olo.pred() {
                        out.push((start, end));
                    }
                }
                cur = if ohi >= hi { None } else { ohi.succ() };
                k += 1;
            }
            if let Some(start) = cur {
                if start <= hi {
                    out.push((start, hi));
                }
            }
        }
        RangeSet { ranges: out }
    }
}

/// A resolved, matchable set of IPv4 and IPv6 addresses.
///
/// Built from an [`AddressExpr`] with Suricata's semantics: negations
/// anywhere (in groups, in variables) are collected into one "not" list and
/// subtracted from the positive list; when a family has only negations, the
/// positives for that family start as the whole address space of that
/// family. So `!$HOME_NET` with an IPv4-only `HOME_NET` contains no IPv6
/// address, exactly as in Suricata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AddressSet {
    v4: RangeSet<u32>,
    v6: RangeSet<u128>,
}

impl AddressSet {
    /// Every IPv4 and IPv6 address.
    pub fn any() -> Self {
        AddressSet {
            v4: RangeSet::full(),
            v6: RangeSet::full(),
        }
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// Whether the set holds every address of both families (the engine
    /// can skip the test).
    pub fn is_any(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    /// Whether the set holds no address at all.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The IPv4 part as sorted, disjoint inclusive ranges of host-order
    /// `u32` addresses.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        self.v4.ranges()
    }

    /// The IPv6 part as sorted, disjoint inclusive ranges of `u128`
    /// addresses.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        self.v6.ranges()
    }
}

/// A resolved, matchable set of ports (sorted disjoint ranges), built with
/// the same negation semantics as [`AddressSet`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PortSet {
    ports: RangeSet<u16>,
}

impl PortSet {
    /// Ports 0 to 65535.
    pub fn any() -> Self {
        PortSet {
            ports: RangeSet::full(),
        }
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.ports.contains(port)
    }

    /// Whether every port is in the set.
    pub fn is_any(&self) -> bool {
        self.ports.is_full()
    }

    /// Whether the set holds no port.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The set as sorted, disjoint inclusive ranges.
    pub fn ranges(&self) -> &[(u16, u16)] {
        self.ports.ranges()
    }
}

/// Positive and negative accumulators for Suricata-style set resolution.
#[derive(Default)]
pub(crate) struct AddrAcc {
    pub v4: Vec<(u32, u32)>,
    pub v6: Vec<(u128, u128)>,
}

impl AddrAcc {
    pub(crate) fn push_any(&mut self) {
        self.v4.push((0, u32::MAX));
        self.v6.push((0, u128::MAX));
    }

    pub(crate) fn push_cidr(&mut self, c: IpCidr) {
        match c.addr {
            IpAddr::V4(a) => self.v4.push(v4_bounds(a, c.prefix)),
            IpAddr::V6(a) => self.v6.push(v6_bounds(a, c.prefix)),
        }
    }

    pub(crate) fn push_set(&mut self, set: &AddressSet) {
        self.v4.extend_from_slice(set.v4.ranges());
        self.v6.extend_from_slice(set.v6.ranges());
    }

    pub(crate) fn push_range(&mut self, a: IpAddr, b: IpAddr) {
        match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => self.v4.push((u32::from(a), u32::from(b))),
            (IpAddr::V6(a), IpAddr::V6(b)) => self.v6.push((u128::from(a), u128::from(b))),
            _ => {}
        }
    }
}

/// Merges the positive and negated lists the way Suricata does.
pub(crate) fn merge_addresses(pos: AddrAcc, neg: AddrAcc) -> Result<AddressSet, String> {
    let neg4 = RangeSet::from_ranges(neg.v4);
    let neg6 = RangeSet::from_ranges(neg.v6);
    if neg4.is_full() {
        return Err("the complete IPv4 address space is negated (e.g. !any)".into());
    }
    let pos4 = if pos.v4.is_empty() && !neg4.is_empty() {
        RangeSet::full()
    } else {
        RangeSet::from_ranges(pos.v4)
    };
    let pos6 = if pos.v6.is_empty() && !neg6.is_empty() {
        RangeSet::full()
    } else {
        RangeSet::from_ranges(pos.v6)
    };
    let set = AddressSet {
        v4: pos4.subtract(&neg4),
        v6: pos6.subtract(&neg6),
    };
    if set.is_empty() {
        return Err("no addresses left after applying the negations".into());
    }
    Ok(set)
}

/// Merges positive and negated port ranges the way Suricata does.
pub(crate) fn merge_ports(pos: Vec<(u16, u16)>, neg: Vec<(u16, u16)>) -> Result<PortSet, String> {
    let neg = RangeSet::from_ranges(neg);
    if neg.is_full() {
        return Err("the complete port space is negated (e.g. !any)".into());
    }
    let pos = if pos.is_empty() && !neg.is_empty() {
        RangeSet::full()
    } else {
        RangeSet::from_ranges(pos)
    };
    let ports = pos.subtract(&neg);
    if ports.is_empty() {
        return Err("no ports left after applying the negations".into());
    }
    Ok(PortSet { ports })
}

/// Nesting limit for `[...]` and `!` in one expression.
const MAX_NESTING: usize = 64;

fn syntax(msg: impl Into<String>, start: usize, end: usize) -> Problem {
    Problem::new(ErrorKind::InvalidHeader, msg).at(start, end)
}

/// Shared recursive-descent scanner for address and port expressions.
/// Offsets in problems are relative to the expression text.
struct ExprScanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> ExprScanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// An atom: everything up to `,`, `]`, `[` or whitespace.
    fn atom(&mut self) -> (usize, &'a str) {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| !matches!(b, b',' | b']' | b'[') && !b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
        (start, self.s.get(start..self.pos).unwrap_or(""))
    }

    /// Parses `!`* then a group or an atom, with `leaf` making atoms.
    fn expr<T>(
        &mut self,
        depth: usize,
        leaf: &dyn Fn(&str, usize) -> Result<T, Problem>,
        group: &dyn Fn(Vec<T>) -> T,
        not: &dyn Fn(T) -> T,
    ) -> Result<T, Problem> {
        if depth > MAX_NESTING {
            return Err(syntax("expression nested too deeply", self.pos, self.pos));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'!') => {
                // Like Suricata, several '!' in a row negate once.
                while self.peek() == Some(b'!') {
                    self.pos += 1;
                    self.skip_ws();
                }
                let inner = self.expr(depth + 1, leaf, group, not)?;
                Ok(not(inner))
            }
            Some(b'[') => {
                let open = self.pos;
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') && items.is_empty() {
                        return Err(syntax("empty group []", open, self.pos + 1));
                    }
                    items.push(self.expr(depth + 1, leaf, group, not)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => {
                            return Err(syntax(
                                "expected ',' or ']' in group",
                                self.pos,
                                self.pos + 1,
                            ))
                        }
                        None => return Err(syntax("group is missing its ']'", open, self.pos)),
                    }
                }
                Ok(group(items))
            }
            Some(b']') | Some(b',') | None => {
                Err(syntax("missing address or port", self.pos, self.pos))
            }
            Some(_) => {
                let (start, text) = self.atom();
                leaf(text, start)
            }
        }
    }
}

fn parse_whole<T>(
    s: &str,
    leaf: &dyn Fn(&str, usize) -> Result<T, Problem>,
    group: &dyn Fn(Vec<T>) -> T,
    not: &dyn Fn(T) -> T,
) -> Result<T, Problem> {
    let mut sc = ExprScanner { s, pos: 0 };
    let e = sc.expr(0, leaf, group, not)?;
    sc.skip_ws();
    if sc.pos < s.len() {
        return Err(syntax(
            format!("unexpected text {:?}", s.get(sc.pos..).unwrap_or("")),
            sc.pos,
            s.len(),
        ));
    }
    Ok(e)
}

/// Parses an address expression (`any`, `1.2.3.4`, `10.0.0.0/8`,
/// `10.0.0.0/255.0.0.0`, `1.1.1.1-1.1.1.9`, `::1`, `$HOME_NET`, `[..]`, `!..`).
pub fn parse_address_expr(s: &str) -> Result<AddressExpr, crate::RuleError> {
    parse_address(s).map_err(|p| crate::parser::standalone_error(p, s))
}

/// Parses a port expression (`any`, `80`, `1024:`, `:1023`, `80:90`,
/// `$HTTP_PORTS`, `[..]`, `!..`).
pub fn parse_port_expr(s: &str) -> Result<PortExpr, crate::RuleError> {
    parse_port(s).map_err(|p| crate::parser::standalone_error(p, s))
}

pub(crate) fn parse_address(s: &str) -> Result<AddressExpr, Problem> {
    parse_whole(s, &address_leaf, &AddressExpr::Group, &|e| {
        AddressExpr::Not(Box::new(e))
    })
}

pub(crate) fn parse_port(s: &str) -> Result<PortExpr, Problem> {
    parse_whole(s, &port_leaf, &PortExpr::Group, &|e| {
        PortExpr::Not(Box::new(e))
    })
}

fn var_name(text: &str, start: usize) -> Result<String, Problem> {
    let name = text.get(1..).unwrap_or("");
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(syntax(
            format!("invalid variable name {text:?}"),
            start,
            start + text.len(),
        ));
    }
    Ok(name.to_string())
}

fn address_leaf(text: &str, start: usize) -> Result<AddressExpr, Problem> {
    let end = start + text.len();
    if text.starts_with('$') {
        return var_name(text, start).map(AddressExpr::Var);
    }
    if text.eq_ignore_ascii_case("any") {
        return Ok(AddressExpr::Any);
    }
    let bad = |what: &str| syntax(format!("invalid address {text:?}: {what}"), start, end);
    if let Some((a, b)) = text.split_once('/') {
        let addr: IpAddr = a.parse().map_err(|_| bad("not an IP address"))?;
        let full = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if let Ok(p) = b.parse::<u8>() {
            if p > full {
                return Err(bad("prefix length too long"));
            }
            p
        } else if let (IpAddr::V4(_), Ok(mask)) = (addr, b.parse::<Ipv4Addr>()) {
            let m = u32::from(mask);
            if m.leading_ones() + m.trailing_zeros() != 32 {
                return Err(bad("netmask is not contiguous"));
            }
            u8::try_from(m.leading_ones()).unwrap_or(32)
        } else {
            return Err(bad("invalid prefix length or netmask"));
        };
        return Ok(AddressExpr::Cidr(IpCidr { addr, prefix }));
    }
    if let Some((a, b)) = text.split_once('-') {
        let lo: IpAddr = a.parse().map_err(|_| bad("not an IP address range"))?;
        let hi: IpAddr = b.parse().map_err(|_| bad("not an IP address range"))?;
        let ordered = match (lo, hi) {
            (IpAddr::V4(x), IpAddr::V4(y)) => x <= y,
            (IpAddr::V6(x), IpAddr::V6(y)) => x <= y,
            _ => return Err(bad("range mixes IPv4 and IPv6")),
        };
        if !ordered {
            return Err(bad("range start is above its end"));
        }
        return Ok(AddressExpr::Range(lo, hi));
    }
    let addr: IpAddr = text.parse().map_err(|_| bad("not an IP address"))?;
    let prefix = if addr.is_ipv4() { 32 } else { 128 };
    Ok(AddressExpr::Cidr(IpCidr { addr, prefix }))
}

fn port_leaf(text: &str, start: usize) -> Result<PortExpr, Problem> {
    let end = start + text.len();
    if text.starts_with('$') {
        return var_name(text, start).map(PortExpr::Var);
    }
    if text.eq_ignore_ascii_case("any") {
        return Ok(PortExpr::Any);
    }
    let bad = |what: &str| syntax(format!("invalid port {text:?}: {what}"), start, end);
    let num = |s: &str| -> Result<u16, Problem> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a number"));
        }
        s.parse::<u16>().map_err(|_| bad("above 65535"))
    };
    if let Some((a, b)) = text.split_once(':') {
        if a.is_empty() && b.is_empty() {
            return Err(bad("empty range"));
        }
        let lo = if a.is_empty() { 0 } else { num(a)? };
        let hi = if b.is_empty() { u16::MAX } else { num(b)? };
        if lo > hi {
            return Err(bad("range start is above its end"));
        }
        return Ok(PortExpr::Range(lo, hi));
    }
    num(text).map(PortExpr::Port)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn range_set_subtract() {
        let a = RangeSet::from_ranges(vec![(0u16, 100), (200, 300)]);
        let b = RangeSet::from_ranges(vec![(50u16, 60), (90, 210), (300, 300)]);
        assert_eq!(a.subtract(&b).ranges(), &[(0, 49), (61, 89), (211, 299)]);
        let full = RangeSet::<u16>::full();
        let c = RangeSet::from_ranges(vec![(0u16, 0), (65535, 65535)]);
        assert_eq!(full.subtract(&c).ranges(), &[(1, 65534)]);
        assert!(c.subtract(&full).is_empty());
    }

    #[test]
    fn range_set_merges_adjacent() {
        let a = RangeSet::from_ranges(vec![(5u16, 9), (0, 4), (11, 12), (10, 10)]);
        assert_eq!(a.ranges(), &[(0, 12)]);
        assert!(a.contains(0) && a.contains(12) && !a.contains(13));
    }

    #[test]
    fn parse_forms() {
        assert_eq!(parse_address("any").ok(), Some(AddressExpr::Any));
        let e = parse_address("[10.0.0.0/8, !10.1.1.1,$HOME_NET]").ok();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("[10.0.0.0/8,!10.1.1.1,$HOME_NET]")
        );
        let e = parse_address("192.168.1.0/255.255.255.0").ok();
        assert_eq!(e.map(|e| e.to_string()).as_deref(), Some("192.168.1.0/24"));
        assert!(parse_address("[1.2.3.4").is_err());
        assert!(parse_address("[]").is_err());
        assert!(parse_address("1.2.3.4/33").is_err());
        assert!(parse_address("1.2.3.400").is_err());
        assert_eq!(parse_port("1024:").ok(), Some(PortExpr::Range(1024, 65535)));
        assert_eq!(parse_port(":1023").ok(), Some(PortExpr::Range(0, 1023)));
        assert!(parse_port("90:80").is_err());
        assert!(parse_port("65536").is_err());
    }
}
