//! Address and port variables (`$HOME_NET`, `$HTTP_PORTS`, ...).

use std::collections::HashMap;

use crate::error::{ErrorKind, Problem, RuleError};
use crate::net::{
    merge_addresses, merge_ports, parse_address, parse_port, AddrAcc, AddressExpr, AddressSet,
    PortExpr, PortSet,
};

/// Variable nesting limit (a variable referring to a variable ...).
const MAX_VAR_DEPTH: usize = 32;

/// The address-group and port-group variables rules refer to.
///
/// The two namespaces are separate, as in Suricata's `vars.address-groups`
/// and `vars.port-groups`. [`Variables::default`] holds the values of
/// Suricata 7's stock `suricata.yaml`, so rule sets written for it (ET Open,
/// Snort community) load without configuration; the binary overrides them
/// from its TOML config with [`Variables::set_address`] and
/// [`Variables::set_port`]. Values are parsed when set (a syntax error is
/// reported right away) and resolved when a rule uses them (an undefined
/// reference fails that rule, like Suricata).
#[derive(Debug, Clone)]
pub struct Variables {
    addresses: HashMap<String, (String, AddressExpr)>,
    ports: HashMap<String, (String, PortExpr)>,
}

/// Suricata 7's default address groups.
const DEFAULT_ADDRESSES: &[(&str, &str)] = &[
    ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
    ("EXTERNAL_NET", "!$HOME_NET"),
    ("HTTP_SERVERS", "$HOME_NET"),
    ("SMTP_SERVERS", "$HOME_NET"),
    ("SQL_SERVERS", "$HOME_NET"),
    ("DNS_SERVERS", "$HOME_NET"),
    ("TELNET_SERVERS", "$HOME_NET"),
    ("AIM_SERVERS", "$EXTERNAL_NET"),
    ("DC_SERVERS", "$HOME_NET"),
    ("DNP3_SERVER", "$HOME_NET"),
    ("DNP3_CLIENT", "$HOME_NET"),
    ("MODBUS_CLIENT", "$HOME_NET"),
    ("MODBUS_SERVER", "$HOME_NET"),
    ("ENIP_CLIENT", "$HOME_NET"),
    ("ENIP_SERVER", "$HOME_NET"),
];

/// Suricata 7's default port groups.
const DEFAULT_PORTS: &[(&str, &str)] = &[
    ("HTTP_PORTS", "80"),
    ("SHELLCODE_PORTS", "!80"),
    ("ORACLE_PORTS", "1521"),
    ("SSH_PORTS", "22"),
    ("DNP3_PORTS", "20000"),
    ("MODBUS_PORTS", "502"),
    ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
    ("FTP_PORTS", "21"),
    ("GENEVE_PORTS", "6081"),
    ("VXLAN_PORTS", "4789"),
    ("TEREDO_PORTS", "3544"),
];

impl Default for Variables {
    /// Suricata 7's stock `suricata.yaml` variables.
    fn default() -> Self {
        let mut v = Variables::empty();
        for (name, value) in DEFAULT_ADDRESSES {
            if let Ok(expr) = parse_address(value) {
                v.addresses
                    .insert((*name).to_string(), ((*value).to_string(), expr));
            }
        }
        for (name, value) in DEFAULT_PORTS {
            if let Ok(expr) = parse_port(value) {
                v.ports
                    .insert((*name).to_string(), ((*value).to_string(), expr));
            }
        }
        v
    }
}

fn strip_dollar(name: &str) -> &str {
    name.strip_prefix('$').unwrap_or(name)
}

fn var_error(name: &str, value: &str, p: Problem) -> RuleError {
    let mut e = crate::parser::standalone_error(p, value);
    e.file = "<variables>".into();
    e.keyword = Some(name.to_string());
    e
}

impl Variables {
    /// No variables at all (every `$VAR` in a rule is then undefined).
    pub fn empty() -> Self {
        Variables {
            addresses: HashMap::new(),
            ports: HashMap::new(),
        }
    }

    /// Defines or replaces address group `name` (with or without the `$`).
    /// The value is checked for syntax now; references to other variables
    /// are resolved when used.
    pub fn set_address(&mut self, name: &str, value: &str) -> Result<(), RuleError> {
        let name = strip_dollar(name);
        let expr = parse_address(value).map_err(|p| var_error(name, value, p))?;
        self.addresses
            .insert(name.to_string(), (value.to_string(), expr));
        Ok(())
    }

    /// Defines or replaces port group `name` (with or without the `$`).
    pub fn set_port(&mut self, name: &str, value: &str) -> Result<(), RuleError> {
        let name = strip_dollar(name);
        let expr = parse_port(value).map_err(|p| var_error(name, value, p))?;
        self.ports
            .insert(name.to_string(), (value.to_string(), expr));
        Ok(())
    }

    /// Removes an address group; returns whether it existed.
    pub fn remove_address(&mut self, name: &str) -> bool {
        self.addresses.remove(strip_dollar(name)).is_some()
    }

    /// Removes a port group; returns whether it existed.
    pub fn remove_port(&mut self, name: &str) -> bool {
        self.ports.remove(strip_dollar(name)).is_some()
    }

    /// The text an address group was defined with.
    pub fn address(&self, name: &str) -> Option<&str> {
        self.addresses
            .get(strip_dollar(name))
            .map(|(raw, _)| raw.as_str())
    }

    /// The text a port group was defined with.
    pub fn port(&self, name: &str) -> Option<&str> {
        self.ports
            .get(strip_dollar(name))
            .map(|(raw, _)| raw.as_str())
    }

    /// All address-group names (unordered).
    pub fn address_names(&self) -> impl Iterator<Item = &str> {
        self.addresses.keys().map(String::as_str)
    }

    /// All port-group names (unordered).
    pub fn port_names(&self) -> impl Iterator<Item = &str> {
        self.ports.keys().map(String::as_str)
    }

    /// Resolves an address expression (e.g. `"$HOME_NET"`, which the EVE
    /// output needs to tell inbound from outbound) to a matchable set.
    pub fn resolve_address(&self, expr: &str) -> Result<AddressSet, RuleError> {
        parse_address(expr)
            .and_then(|e| self.address_set(&e))
            .map_err(|p| crate::parser::standalone_error(p, expr))
    }

    /// Resolves a port expression to a matchable set.
    pub fn resolve_port(&self, expr: &str) -> Result<PortSet, RuleError> {
        parse_port(expr)
            .and_then(|e| self.port_set(&e))
            .map_err(|p| crate::parser::standalone_error(p, expr))
    }

    /// Resolves every variable, as Suricata does at start-up, and reports
    /// the ones that are broken (undefined references, loops, empty sets).
    pub fn check(&self) -> Vec<RuleError> {
        let mut errors = Vec::new();
        let mut names: Vec<&String> = self.addresses.keys().collect();
        names.sort();
        for name in names {
            if let Some((raw, expr)) = self.addresses.get(name) {
                if let Err(p) = self.address_set(expr) {
                    errors.push(var_error(name, raw, p));
                }
            }
        }
        let mut names: Vec<&String> = self.ports.keys().collect();
        names.sort();
        for name in names {
            if let Some((raw, expr)) = self.ports.get(name) {
                if let Err(p) = self.port_set(expr) {
                    errors.push(var_error(name, raw, p));
                }
            }
        }
        errors
    }

    /// Resolves a parsed address expression with Suricata's semantics.
    pub(crate) fn address_set(&self, expr: &AddressExpr) -> Result<AddressSet, Problem> {
        let mut pos = AddrAcc::default();
        let mut neg = AddrAcc::default();
        let mut stack = Vec::new();
        self.flatten_address(expr, false, &mut pos, &mut neg, &mut stack)?;
        merge_addresses(pos, neg).map_err(|m| Problem::new(ErrorKind::InvalidHeader, m))
    }

    /// Resolves a parsed port expression with Suricata's semantics.
    pub(crate) fn port_set(&self, expr: &PortExpr) -> Result<PortSet, Problem> {
        let mut pos = Vec::new();
        let mut neg = Vec::new();
        let mut stack = Vec::new();
        self.flatten_port(expr, false, &mut pos, &mut neg, &mut stack)?;
        merge_ports(pos, neg).map_err(|m| Problem::new(ErrorKind::InvalidHeader, m))
    }

    /// Suricata's resolution: leaves go to the positive or negated list
    /// by parity; a group or variable with even parity is flattened into
    /// the current lists, one with odd parity (`![..]`, `!$VAR`) is first
    /// resolved on its own and the resulting set is added to the negated
    /// list.
    fn flatten_address<'a>(
        &'a self,
        expr: &'a AddressExpr,
        negate: bool,
        pos: &mut AddrAcc,
        neg: &mut AddrAcc,
        stack: &mut Vec<&'a str>,
    ) -> Result<(), Problem> {
        match expr {
            AddressExpr::Not(inner) => {
                return self.flatten_address(inner, !negate, pos, neg, stack)
            }
            AddressExpr::Any | AddressExpr::Cidr(_) | AddressExpr::Range(..) => {
                let acc = if negate { &mut *neg } else { &mut *pos };
                match expr {
                    AddressExpr::Any => acc.push_any(),
                    AddressExpr::Cidr(c) => acc.push_cidr(*c),
                    AddressExpr::Range(a, b) => acc.push_range(*a, *b),
                    _ => {}
                }
            }
            AddressExpr::Group(items) => {
                if negate {
                    let set = self.negated_block(expr, stack)?;
                    neg.push_set(&set);
                } else {
                    for item in items {
                        self.flatten_address(item, false, pos, neg, stack)?;
                    }
                }
            }
            AddressExpr::Var(name) => {
                let Some((_, value)) = self.addresses.get(name) else {
                    let msg = if self.ports.contains_key(name) {
                        format!("${name} is a port variable, used as an address")
                    } else {
                        format!("address variable ${name} is not defined")
                    };
                    return Err(Problem::new(ErrorKind::UndefinedVariable, msg));
                };
                if stack.contains(&name.as_str()) || stack.len() >= MAX_VAR_DEPTH {
                    return Err(Problem::new(
                        ErrorKind::InvalidHeader,
                        format!("address variable ${name} refers to itself"),
                    ));
                }
                stack.push(name);
                if negate {
                    let set = self.negated_block(value, stack)?;
                    neg.push_set(&set);
                } else {
                    self.flatten_address(value, false, pos, neg, stack)?;
                }
                stack.pop();
            }
        }
        Ok(())
    }

    /// Resolves a negated block on its own (see [`Self::flatten_address`]).
    fn negated_block<'a>(
        &'a self,
        expr: &'a AddressExpr,
        stack: &mut Vec<&'a str>,
    ) -> Result<AddressSet, Problem> {
        let mut pos = AddrAcc::default();
        let mut neg = AddrAcc::default();
        self.flatten_address(expr, false, &mut pos, &mut neg, stack)?;
        merge_addresses(pos, neg).map_err(|m| Problem::new(ErrorKind::InvalidHeader, m))
    }

    fn flatten_port<'a>(
        &'a self,
        expr: &'a PortExpr,
        negate: bool,
        pos: &mut Vec<(u16, u16)>,
        neg: &mut Vec<(u16, u16)>,
        stack: &mut Vec<&'a str>,
    ) -> Result<(), Problem> {
        match expr {
            PortExpr::Not(inner) => return self.flatten_port(inner, !negate, pos, neg, stack),
            PortExpr::Any | PortExpr::Port(_) | PortExpr::Range(..) => {
                let acc = if negate { &mut *neg } else { &mut *pos };
                match expr {
                    PortExpr::Any => acc.push((0, u16::MAX)),
                    PortExpr::Port(p) => acc.push((*p, *p)),
                    PortExpr::Range(a, b) => acc.push((*a, *b)),
                    _ => {}
                }
            }
            PortExpr::Group(items) => {
                if negate {
                    let set = self.negated_port_block(expr, stack)?;
                    neg.extend_from_slice(set.ranges());
                } else {
                    for item in items {
                        self.flatten_port(item, false, pos, neg, stack)?;
                    }
                }
            }
            PortExpr::Var(name) => {
                let Some((_, value)) = self.ports.get(name) else {
                    let msg = if self.addresses.contains_key(name) {
                        format!("${name} is an address variable, used as a port")
                    } else {
                        format!("port variable ${name} is not defined")
                    };
                    return Err(Problem::new(ErrorKind::UndefinedVariable, msg));
                };
                if stack.contains(&name.as_str()) || stack.len() >= MAX_VAR_DEPTH {
                    return Err(Problem::new(
                        ErrorKind::InvalidHeader,
                        format!("port variable ${name} refers to itself"),
                    ));
                }
                stack.push(name);
                if negate {
                    let set = self.negated_port_block(value, stack)?;
                    neg.extend_from_slice(set.ranges());
                } else {
                    self.flatten_port(value, false, pos, neg, stack)?;
                }
                stack.pop();
            }
        }
        Ok(())
    }

    fn negated_port_block<'a>(
        &'a self,
        expr: &'a PortExpr,
        stack: &mut Vec<&'a str>,
    ) -> Result<PortSet, Problem> {
        let mut pos = Vec::new();
        let mut neg = Vec::new();
        self.flatten_port(expr, false, &mut pos, &mut neg, stack)?;
        merge_ports(pos, neg).map_err(|m| Problem::new(ErrorKind::InvalidHeader, m))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn defaults_resolve() {
        let v = Variables::default();
        assert!(v.check().is_empty(), "{:?}", v.check());
        let home = v.resolve_address("$HOME_NET").unwrap();
        assert!(home.contains(ip("10.1.2.3")));
        assert!(home.contains(ip("172.31.255.255")));
        assert!(!home.contains(ip("172.32.0.0")));
        let ext = v.resolve_address("$EXTERNAL_NET").unwrap();
        assert!(!ext.contains(ip("10.1.2.3")));
        assert!(ext.contains(ip("8.8.8.8")));
        // Suricata: a negation only fills the families it mentions.
        assert!(!ext.contains(ip("2001:db8::1")));
        let aim = v.resolve_address("$AIM_SERVERS").unwrap();
        assert_eq!(aim, ext);
        let fdp = v.resolve_port("$FILE_DATA_PORTS").unwrap();
        assert_eq!(fdp.ranges(), &[(80, 80), (110, 110), (143, 143)]);
        let sc = v.resolve_port("$SHELLCODE_PORTS").unwrap();
        assert!(!sc.contains(80) && sc.contains(81) && sc.contains(0));
    }

    #[test]
    fn negation_semantics() {
        let v = Variables::default();
        // Group with only negations: any minus them (per family).
        let s = v.resolve_address("[!1.1.1.1,!2.2.2.0/24]").unwrap();
        assert!(!s.contains(ip("1.1.1.1")) && !s.contains(ip("2.2.2.200")));
        assert!(s.contains(ip("3.3.3.3")));
        // Positive and negative mixed.
        let s = v.resolve_address("[10.0.0.0/8,!10.1.0.0/16]").unwrap();
        assert!(s.contains(ip("10.2.0.1")) && !s.contains(ip("10.1.0.1")));
        // A variable is expanded in place: EXTERNAL_NET's negation lands in
        // the group's negated list, leaving nothing (Suricata rejects this).
        assert!(v.resolve_address("[$EXTERNAL_NET,10.1.1.1]").is_err());
        let s = v.resolve_address("[$EXTERNAL_NET,8.8.8.8]").unwrap();
        assert!(s.contains(ip("8.8.8.8")) && !s.contains(ip("8.8.4.4")));
        // A negated block is resolved on its own, then subtracted.
        let s = v.resolve_address("[1.0.0.0/8,![1.1.0.0/16]]").unwrap();
        assert!(!s.contains(ip("1.1.5.5")) && s.contains(ip("1.2.5.5")));
        let s = v.resolve_address("![1.0.0.0/8,!1.1.1.1]").unwrap();
        assert!(s.contains(ip("1.1.1.1")) && !s.contains(ip("1.1.1.2")));
        assert!(s.contains(ip("2.0.0.0")));
        // Double negation of a block is a plain block.
        let s = v.resolve_address("![![10.0.0.0/8]]").unwrap();
        assert!(s.contains(ip("10.0.0.1")) && !s.contains(ip("11.0.0.1")));
        assert!(v.resolve_address("!any").is_err());
        assert!(v.resolve_address("[1.1.1.1,!1.1.1.1]").is_err());
        let ports = v.resolve_port("[80:90,!85]").unwrap();
        assert_eq!(ports.ranges(), &[(80, 84), (86, 90)]);
        assert!(v.resolve_port("!any").is_err());
        assert!(v.resolve_port("[1:10,!1:10]").is_err());
    }

    #[test]
    fn undefined_and_loops() {
        let mut v = Variables::default();
        let e = v.resolve_address("$NOPE").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UndefinedVariable);
        let e = v.resolve_address("$HTTP_PORTS").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UndefinedVariable);
        v.set_address("A", "[$B,1.1.1.1]").unwrap();
        v.set_address("$B", "$A").unwrap();
        assert!(v.resolve_address("$A").is_err());
        assert_eq!(v.check().len(), 2);
        assert!(v.set_address("C", "[1.1.1.1").is_err());
        v.set_address("HOME_NET", "[10.0.0.0/8, 2001:db8::/32]")
            .unwrap();
        let ext = v.resolve_address("$EXTERNAL_NET").unwrap();
        assert!(ext.contains(ip("2001:db9::1")) && !ext.contains(ip("2001:db8::1")));
    }
}
