//! Named sets and reputation lists that rules share (`dataset`,
//! `datarep`): block lists of user agents, domains, hashes, kept outside
//! the rules and grown at run time by `dataset:set`.
//!
//! The files are read by a loader the caller provides (the engine does no
//! I/O); their formats are Suricata's: one value per line, strings in
//! base64, digests in hex, addresses in text; reputation lines add
//! `,value`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use rampart_rules::{DatasetCmd, DatasetType};

/// Reads a file a rule names: `(rule file, path as written)` → contents.
/// Relative paths are the loader's to resolve (next to the rule file, as
/// Suricata does).
pub type FileLoader = dyn Fn(&str, &str) -> Result<Vec<u8>, String> + Send + Sync;

/// Most values `dataset:set` adds to one set from traffic: each is a
/// buffer from a packet, so an attacker could otherwise grow the set
/// without bound.
pub const MAX_SET_ENTRIES: usize = 1 << 20;

/// A named set of values.
#[derive(Debug)]
pub struct Dataset {
    kind: DatasetType,
    values: RwLock<HashSet<Box<[u8]>>>,
}

impl Dataset {
    /// An empty set of `kind`.
    pub fn new(kind: DatasetType) -> Self {
        Dataset {
            kind,
            values: RwLock::new(HashSet::new()),
        }
    }

    /// The value type.
    pub fn kind(&self) -> DatasetType {
        self.kind
    }

    /// Adds the values of a set file (one per line, blank lines skipped).
    /// Errors name the line.
    pub fn load(&self, text: &[u8]) -> Result<usize, String> {
        let mut values = self.values.write().map_err(|_| "dataset lock poisoned")?;
        let mut n = 0;
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let v = parse_value(self.kind, line).ok_or_else(|| {
                format!(
                    "line {}: not a {} value: {:?}",
                    i + 1,
                    self.kind.name(),
                    String::from_utf8_lossy(line)
                )
            })?;
            values.insert(v.into_boxed_slice());
            n += 1;
        }
        Ok(n)
    }

    /// Runs `cmd` with the buffer `data`: whether the keyword matches.
    pub fn apply(&self, cmd: DatasetCmd, data: &[u8]) -> bool {
        let Some(v) = buffer_value(self.kind, data) else {
            return cmd == DatasetCmd::IsNotSet;
        };
        match cmd {
            DatasetCmd::IsSet => self.values.read().is_ok_and(|s| s.contains(v.as_ref())),
            DatasetCmd::IsNotSet => self.values.read().is_ok_and(|s| !s.contains(v.as_ref())),
            DatasetCmd::Set => {
                if self.values.read().is_ok_and(|s| s.contains(v.as_ref())) {
                    return false;
                }
                let Ok(mut s) = self.values.write() else {
                    return false;
                };
                s.len() < MAX_SET_ENTRIES && s.insert(v.into_owned().into_boxed_slice())
            }
            DatasetCmd::Unset => self.values.write().is_ok_and(|mut s| s.remove(v.as_ref())),
        }
    }

    /// How many values the set holds.
    pub fn len(&self) -> usize {
        self.values.read().map_or(0, |s| s.len())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named reputation list: value → reputation.
#[derive(Debug)]
pub struct Reputation {
    kind: DatasetType,
    values: HashMap<Box<[u8]>, u32>,
}

impl Reputation {
    /// Reads `value,reputation` lines. Errors name the line.
    pub fn parse(kind: DatasetType, text: &[u8]) -> Result<Self, String> {
        let mut values = HashMap::new();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let bad = || {
                format!(
                    "line {}: expected {},reputation: {:?}",
                    i + 1,
                    kind.name(),
                    String::from_utf8_lossy(line)
                )
            };
            let comma = line.iter().rposition(|&b| b == b',').ok_or_else(bad)?;
            let (value, rep) = (line.get(..comma).unwrap_or_default(), line.get(comma + 1..));
            let rep: u32 = rep
                .and_then(|r| std::str::from_utf8(r).ok())
                .and_then(|r| r.trim().parse().ok())
                .ok_or_else(bad)?;
            let v = parse_value(kind, value.trim_ascii()).ok_or_else(bad)?;
            values.insert(v.into_boxed_slice(), rep);
        }
        Ok(Reputation { kind, values })
    }

    /// The value type.
    pub fn kind(&self) -> DatasetType {
        self.kind
    }

    /// The reputation of the buffer `data`, when listed.
    pub fn get(&self, data: &[u8]) -> Option<u32> {
        let v = buffer_value(self.kind, data)?;
        self.values.get(v.as_ref()).copied()
    }
}

/// A value as written in a file, in its stored form.
fn parse_value(kind: DatasetType, text: &[u8]) -> Option<Vec<u8>> {
    match kind {
        DatasetType::String => strict_base64(text),
        DatasetType::Md5 => hex(text, 16),
        DatasetType::Sha256 => hex(text, 32),
        DatasetType::Ipv4 | DatasetType::Ip => {
            let ip: IpAddr = std::str::from_utf8(text).ok()?.trim().parse().ok()?;
            address_bytes(kind, ip)
        }
    }
}

/// The stored form of a buffer: strings as they are, digests from raw
/// bytes or hex text, addresses from raw bytes or text.
fn buffer_value(kind: DatasetType, data: &[u8]) -> Option<Cow<'_, [u8]>> {
    match kind {
        DatasetType::String => Some(Cow::Borrowed(data)),
        DatasetType::Md5 | DatasetType::Sha256 => {
            let n = if kind == DatasetType::Md5 { 16 } else { 32 };
            if data.len() == n {
                Some(Cow::Borrowed(data))
            } else {
                hex(data, n).map(Cow::Owned)
            }
        }
        DatasetType::Ipv4 | DatasetType::Ip => {
            let ip = match data.len() {
                4 => IpAddr::from(<[u8; 4]>::try_from(data).ok()?),
                16 => IpAddr::from(<[u8; 16]>::try_from(data).ok()?),
                _ => std::str::from_utf8(data).ok()?.trim().parse().ok()?,
            };
            address_bytes(kind, ip).map(Cow::Owned)
        }
    }
}

/// Addresses are stored as 4 bytes in `ipv4` sets and as 16 (IPv4
/// mapped) in `ip` sets, so both spellings of an address meet.
fn address_bytes(kind: DatasetType, ip: IpAddr) -> Option<Vec<u8>> {
    match (kind, ip) {
        (DatasetType::Ipv4, IpAddr::V4(a)) => Some(a.octets().to_vec()),
        (DatasetType::Ipv4, IpAddr::V6(_)) => None,
        (_, IpAddr::V4(a)) => Some(a.to_ipv6_mapped().octets().to_vec()),
        (_, IpAddr::V6(a)) => Some(a.octets().to_vec()),
    }
}

/// Standard base64 with padding, refusing anything else (a typo in a
/// list must be an error, not a silently different value).
fn strict_base64(text: &[u8]) -> Option<Vec<u8>> {
    let body = text
        .strip_suffix(b"==")
        .or_else(|| text.strip_suffix(b"="))
        .unwrap_or(text);
    let valid = text.len().is_multiple_of(4)
        && body
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/');
    valid.then(|| crate::program::base64_decode(text))
}

fn hex(text: &[u8], n: usize) -> Option<Vec<u8>> {
    if text.len() != 2 * n {
        return None;
    }
    text.chunks_exact(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// The sets and lists of one rule set, by name, with the loader for their
/// files.
#[derive(Default)]
pub struct Datasets {
    sets: HashMap<String, Arc<Dataset>>,
    reps: HashMap<String, Arc<Reputation>>,
    loader: Option<Arc<FileLoader>>,
}

impl std::fmt::Debug for Datasets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datasets")
            .field("sets", &self.sets.keys().collect::<Vec<_>>())
            .field("reps", &self.reps.keys().collect::<Vec<_>>())
            .field("loader", &self.loader.is_some())
            .finish()
    }
}

impl Datasets {
    /// Uses `loader` for the files rules name.
    pub fn with_loader(loader: Arc<FileLoader>) -> Self {
        Datasets {
            loader: Some(loader),
            ..Datasets::default()
        }
    }

    /// The set `name`, created (and loaded) by its first rule; later
    /// rules must agree on its type.
    pub fn set(
        &mut self,
        rule_file: &str,
        name: &str,
        kind: DatasetType,
        load: Option<&str>,
    ) -> Result<Arc<Dataset>, String> {
        let loader = self.loader.as_deref();
        shared_by_name(&mut self.sets, "dataset", name, kind, || {
            let set = Dataset::new(kind);
            if let Some(path) = load {
                let text = read(loader, rule_file, path)?;
                set.load(&text)
                    .map_err(|e| format!("dataset {name}: {path}: {e}"))?;
            }
            Ok(set)
        })
    }

    /// The reputation list `name`, read by its first rule.
    pub fn reputation(
        &mut self,
        rule_file: &str,
        name: &str,
        kind: DatasetType,
        load: Option<&str>,
    ) -> Result<Arc<Reputation>, String> {
        let loader = self.loader.as_deref();
        shared_by_name(&mut self.reps, "datarep", name, kind, || {
            let path = load.ok_or_else(|| format!("datarep {name}: needs `load FILE`"))?;
            let text = read(loader, rule_file, path)?;
            Reputation::parse(kind, &text).map_err(|e| format!("datarep {name}: {path}: {e}"))
        })
    }
}

/// Something rules share by name whose type every rule must agree on.
trait Typed {
    fn kind(&self) -> DatasetType;
}

impl Typed for Dataset {
    fn kind(&self) -> DatasetType {
        Dataset::kind(self)
    }
}

impl Typed for Reputation {
    fn kind(&self) -> DatasetType {
        Reputation::kind(self)
    }
}

/// The entry `name` of `map`, made by `create` for the first rule that
/// names it; a later rule naming another type is an error, as in Suricata.
fn shared_by_name<T: Typed>(
    map: &mut HashMap<String, Arc<T>>,
    keyword: &str,
    name: &str,
    kind: DatasetType,
    create: impl FnOnce() -> Result<T, String>,
) -> Result<Arc<T>, String> {
    if let Some(found) = map.get(name) {
        if found.kind() != kind {
            return Err(format!(
                "{keyword} {name} is type {} elsewhere, not {}",
                found.kind().name(),
                kind.name()
            ));
        }
        return Ok(found.clone());
    }
    let made = Arc::new(create()?);
    map.insert(name.to_string(), made.clone());
    Ok(made)
}

/// The bytes of `path` (named by a rule in `rule_file`) through the
/// binary's loader; the engine itself has no file access.
fn read(loader: Option<&FileLoader>, rule_file: &str, path: &str) -> Result<Vec<u8>, String> {
    match loader {
        Some(l) => l(rule_file, path),
        None => Err(format!("cannot read {path}: no file access here")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn string_set_commands() {
        let s = Dataset::new(DatasetType::String);
        // "curl/7.43.0" in base64, as Suricata writes it.
        assert_eq!(s.load(b"Y3VybC83LjQzLjA=\n\n").unwrap(), 1);
        assert!(s.apply(DatasetCmd::IsSet, b"curl/7.43.0"));
        assert!(!s.apply(DatasetCmd::IsNotSet, b"curl/7.43.0"));
        assert!(s.apply(DatasetCmd::IsNotSet, b"wget"));
        assert!(s.apply(DatasetCmd::Set, b"wget"));
        assert!(!s.apply(DatasetCmd::Set, b"wget"), "already there");
        assert!(s.apply(DatasetCmd::IsSet, b"wget"));
        assert!(s.apply(DatasetCmd::Unset, b"wget"));
        assert!(!s.apply(DatasetCmd::IsSet, b"wget"));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn bad_lines_are_named() {
        let s = Dataset::new(DatasetType::Md5);
        let e = s
            .load(b"00112233445566778899aabbccddeeff\nnot-hex\n")
            .unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = Reputation::parse(DatasetType::String, b"Z29vZ2xlLmNvbQ==\n").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
    }

    #[test]
    fn digests_and_addresses_in_either_spelling() {
        let s = Dataset::new(DatasetType::Md5);
        s.load(b"00112233445566778899aabbccddeeff").unwrap();
        assert!(s.apply(DatasetCmd::IsSet, b"00112233445566778899AABBCCDDEEFF"));
        let raw: Vec<u8> = (0u8..16).map(|i| i * 0x11).collect();
        assert!(s.apply(DatasetCmd::IsSet, &raw));
        let ip = Dataset::new(DatasetType::Ip);
        ip.load(b"192.0.2.1\n2001:db8::1\n").unwrap();
        assert!(ip.apply(DatasetCmd::IsSet, &[192, 0, 2, 1]));
        assert!(ip.apply(DatasetCmd::IsSet, b"2001:db8::1"));
        assert!(!ip.apply(DatasetCmd::IsSet, b"192.0.2.2"));
    }

    #[test]
    fn reputation_lookup() {
        let r = Reputation::parse(DatasetType::String, b"Z29vZ2xlLmNvbQ==,255\n").unwrap();
        assert_eq!(r.get(b"google.com"), Some(255));
        assert_eq!(r.get(b"example.com"), None);
    }

    #[test]
    fn shared_by_name_and_typed() {
        let mut d = Datasets::with_loader(Arc::new(|_, p: &str| {
            assert_eq!(p, "ua.csv");
            Ok(b"Y3VybC83LjQzLjA=\n".to_vec())
        }));
        let a = d
            .set("x.rules", "ua", DatasetType::String, Some("ua.csv"))
            .unwrap();
        let b = d.set("x.rules", "ua", DatasetType::String, None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(d.set("x.rules", "ua", DatasetType::Md5, None).is_err());
        let mut none = Datasets::default();
        assert!(none
            .set("x.rules", "s", DatasetType::String, Some("f"))
            .is_err());
        assert!(none.set("x.rules", "s", DatasetType::String, None).is_ok());
    }
}
