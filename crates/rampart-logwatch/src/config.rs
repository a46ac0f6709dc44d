//! fail2ban `filter.d/*.conf` loading: the INI dialect of Python's
//! `configparser` as fail2ban extends it (`[INCLUDES] before/after`,
//! `%(name)s` and `%(section/name)s` interpolation, `known/` values, init
//! options like `sshd[mode=aggressive]`, `<tag>` substitution).
//!
//! The loader never touches the file system: it asks a [`FileSource`] for
//! the text of each file, so the binary decides how files are read and
//! tests can serve them from memory.

use std::collections::{HashMap, HashSet};

use crate::LoadError;

/// Where the loader gets file texts from. Paths are plain strings; the
/// loader joins relative include names to the including file's folder with
/// `/`.
pub trait FileSource {
    /// The file's text, or `None` when it does not exist (a missing
    /// `*.local` include is normal and silently skipped).
    fn read(&self, path: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> FileSource for F {
    fn read(&self, path: &str) -> Option<String> {
        self(path)
    }
}

/// Includes nest at most this deep (fail2ban's own files nest 2 levels).
const MAX_INCLUDE_DEPTH: usize = 16;
/// `%(name)s` interpolation depth bound (Python's configparser uses 10;
/// a little slack costs nothing).
const MAX_INTERPOLATION_DEPTH: usize = 24;
/// Largest value interpolation or tag substitution may build (a filter
/// line is a few KiB; this stops exponential self-references).
const MAX_VALUE_LEN: usize = 1 << 20;
/// Per-tag replacement bound of the `<tag>` substitution (fail2ban: 25).
const MAX_TAG_REPLACE_COUNT: usize = 25;

/// One parsed INI file: sections in file order, options in file order.
#[derive(Debug, Default, Clone)]
pub struct IniFile {
    /// `(section name, [(option, raw value)])`.
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

/// Parses INI text the way Python's `configparser` does with fail2ban's
/// settings: `#`/`;` full-line comments, ` ;` inline comments, indented
/// continuation lines joined with `\n`, option names lower-cased, `=` or
/// `:` as delimiter.
pub fn parse_ini(text: &str, file: &str) -> Result<IniFile, LoadError> {
    let mut out = IniFile::default();
    // (section index, option index) of the value being continued.
    let mut cur: Option<(usize, usize)> = None;
    let mut cur_indent = 0usize;
    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let value = strip_inline_comment(line);
        let vtrim = value.trim();
        let indent = line.len() - line.trim_start().len();
        if vtrim.is_empty() {
            // An empty line inside a value is kept (joined later, trailing
            // empties stripped).
            if let Some((s, o)) = cur {
                if let Some(opt) = out.sections.get_mut(s).and_then(|x| x.1.get_mut(o)) {
                    opt.1.push('\n');
                }
            }
            continue;
        }
        if let Some((s, o)) = cur {
            if indent > cur_indent {
                if let Some(opt) = out.sections.get_mut(s).and_then(|x| x.1.get_mut(o)) {
                    opt.1.push('\n');
                    opt.1.push_str(vtrim);
                }
                continue;
            }
        }
        if vtrim.starts_with('[') {
            if let Some(end) = vtrim.rfind(']') {
                if end > 1 {
                    let name = vtrim.get(1..end).unwrap_or("").to_string();
                    out.sections.push((name, Vec::new()));
                    cur = None;
                    continue;
                }
            }
        }
        // option line
        let Some(delim) = vtrim.find(['=', ':']) else {
            return Err(LoadError::Syntax {
                file: file.to_string(),
                line: lineno + 1,
                message: format!("neither a section header nor `name = value`: {vtrim:?}"),
            });
        };
        let name = vtrim.get(..delim).unwrap_or("").trim().to_lowercase();
        let val = vtrim.get(delim + 1..).unwrap_or("").trim().to_string();
        let Some(last) = out.sections.last_mut() else {
            return Err(LoadError::Syntax {
                file: file.to_string(),
                line: lineno + 1,
                message: "option outside of any [section]".to_string(),
            });
        };
        if let Some(pos) = last.1.iter().position(|(n, _)| *n == name) {
            last.1.remove(pos);
        }
        last.1.push((name, val));
        let oi = last.1.len() - 1;
        cur = Some((out.sections.len() - 1, oi));
        cur_indent = indent;
    }
    // Join: trailing empty lines dropped, as configparser's rstrip.
    for (_, opts) in &mut out.sections {
        for (_, v) in opts.iter_mut() {
            let t = v.trim_end().len();
            v.truncate(t);
        }
    }
    Ok(out)
}

/// Removes an inline `;` comment (only when preceded by whitespace, as
/// configparser's `inline_comment_prefixes`).
fn strip_inline_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b';' && i > 0 && b.get(i - 1).is_some_and(|p| p.is_ascii_whitespace()) {
            return line.get(..i).unwrap_or(line);
        }
    }
    line
}

/// All files of one filter merged: `[DEFAULT]` plus named sections.
#[derive(Debug, Default, Clone)]
pub struct Config {
    defaults: HashMap<String, String>,
    sections: HashMap<String, HashMap<String, String>>,
    /// The file the filter was loaded from (for error messages).
    pub file: String,
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => path.get(..i).unwrap_or(""),
        None => "",
    }
}

fn join(dir: &str, name: &str) -> String {
    if name.starts_with('/') || dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

impl Config {
    /// Reads `path` and its includes (before, itself, after), merged in
    /// that order: later files override earlier ones and remember the
    /// overridden value as `known/<option>`.
    pub fn load(src: &dyn FileSource, path: &str) -> Result<Config, LoadError> {
        let mut cfg = Config {
            file: path.to_string(),
            ..Config::default()
        };
        let mut seen = HashSet::new();
        cfg.read_file(src, path, 0, &mut seen, true)?;
        Ok(cfg)
    }

    /// Builds a configuration from a text already read (its includes are
    /// still read through `src`).
    pub fn load_text(src: &dyn FileSource, path: &str, text: &str) -> Result<Config, LoadError> {
        let mut cfg = Config {
            file: path.to_string(),
            ..Config::default()
        };
        let mut seen = HashSet::new();
        cfg.merge_text(src, path, text, 0, &mut seen)?;
        Ok(cfg)
    }

    fn read_file(
        &mut self,
        src: &dyn FileSource,
        path: &str,
        depth: usize,
        seen: &mut HashSet<String>,
        required: bool,
    ) -> Result<(), LoadError> {
        if depth > MAX_INCLUDE_DEPTH || !seen.insert(path.to_string()) {
            return Err(LoadError::Include {
                file: path.to_string(),
                message: "include loop or includes nested too deep".to_string(),
            });
        }
        let Some(text) = src.read(path) else {
            seen.remove(path);
            if required {
                return Err(LoadError::Missing {
                    file: path.to_string(),
                });
            }
            return Ok(());
        };
        let r = self.merge_text(src, path, &text, depth, seen);
        seen.remove(path);
        r
    }

    fn merge_text(
        &mut self,
        src: &dyn FileSource,
        path: &str,
        text: &str,
        depth: usize,
        seen: &mut HashSet<String>,
    ) -> Result<(), LoadError> {
        let ini = parse_ini(text, path)?;
        let dir = dirname(path).to_string();
        let includes = |key: &str| -> Vec<String> {
            ini.sections
                .iter()
                .filter(|(n, _)| n == "INCLUDES")
                .flat_map(|(_, o)| o.iter())
                .filter(|(k, _)| k == key)
                .flat_map(|(_, v)| v.split_whitespace().map(|s| join(&dir, s)))
                .collect()
        };
        let before = includes("before");
        let after = includes("after");
        for inc in &before {
            self.read_file(src, inc, depth + 1, seen, !inc.ends_with(".local"))?;
        }
        for (name, opts) in &ini.sections {
            if name == "INCLUDES" {
                continue;
            }
            self.merge_section(name, opts);
        }
        for inc in &after {
            self.read_file(src, inc, depth + 1, seen, !inc.ends_with(".local"))?;
        }
        Ok(())
    }

    fn merge_section(&mut self, name: &str, opts: &[(String, String)]) {
        if name == "DEFAULT" {
            for (k, v) in opts {
                if let Some(old) = self.defaults.get(k).cloned() {
                    self.defaults.insert(format!("known/{k}"), old);
                }
                self.defaults.insert(k.clone(), v.clone());
            }
            return;
        }
        let defaults = &self.defaults;
        let sec = self.sections.entry(name.to_string()).or_default();
        for (k, v) in opts {
            let old = sec.get(k).or_else(|| defaults.get(k)).cloned();
            if let Some(old) = old {
                sec.insert(format!("known/{k}"), old);
            }
            sec.insert(k.clone(), v.clone());
        }
    }

    /// True when the section exists.
    pub fn has_section(&self, name: &str) -> bool {
        self.sections.contains_key(name)
    }

    /// Raw (uninterpolated) value: vars, then section, then `[DEFAULT]`.
    fn raw(&self, section: &str, opt: &str, vars: &HashMap<String, String>) -> Option<String> {
        if let Some(v) = vars.get(opt) {
            return Some(v.clone());
        }
        if let Some(v) = self.sections.get(section).and_then(|s| s.get(opt)) {
            return Some(v.clone());
        }
        if let Some(v) = self.defaults.get(opt) {
            return Some(v.clone());
        }
        // `known/x` without an overridden value: the value known so far.
        if let Some(base) = opt.strip_prefix("known/") {
            return self.defaults.get(base).cloned();
        }
        None
    }

    /// Interpolated value of `opt` in `section` (`None`: not defined).
    pub fn get(
        &self,
        section: &str,
        opt: &str,
        vars: &HashMap<String, String>,
    ) -> Result<Option<String>, LoadError> {
        let opt = opt.to_lowercase();
        // `section/option` names another section (fail2ban extension).
        if let Some((sec, o)) = opt.split_once('/') {
            if sec != "known" {
                let sec_name = self.section_name(sec);
                let Some(raw) = self.raw(&sec_name, o, vars) else {
                    return Ok(None);
                };
                return self.interpolate(&raw, &sec_name, vars, 0, o).map(Some);
            }
        }
        let Some(raw) = self.raw(section, &opt, vars) else {
            return Ok(None);
        };
        self.interpolate(&raw, section, vars, 0, &opt).map(Some)
    }

    /// Section names are case sensitive, but `%(lt_file/x)s` style
    /// references are lower-cased by option handling: find the section.
    fn section_name(&self, lower: &str) -> String {
        if self.sections.contains_key(lower) {
            return lower.to_string();
        }
        self.sections
            .keys()
            .find(|k| k.to_lowercase() == lower)
            .cloned()
            .unwrap_or_else(|| lower.to_string())
    }

    fn interpolate(
        &self,
        value: &str,
        section: &str,
        vars: &HashMap<String, String>,
        depth: usize,
        opt: &str,
    ) -> Result<String, LoadError> {
        if !value.contains('%') {
            return Ok(value.to_string());
        }
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(LoadError::Interpolation {
                file: self.file.clone(),
                section: section.to_string(),
                key: opt.to_string(),
                message: "interpolation too deep (recursive reference?)".to_string(),
            });
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(p) = rest.find('%') {
            out.push_str(rest.get(..p).unwrap_or(""));
            let after = rest.get(p + 1..).unwrap_or("");
            if let Some(a) = after.strip_prefix('%') {
                out.push('%');
                rest = a;
            } else if let Some(a) = after.strip_prefix('(') {
                let Some(close) = a.find(")s") else {
                    return Err(LoadError::Interpolation {
                        file: self.file.clone(),
                        section: section.to_string(),
                        key: opt.to_string(),
                        message: format!("bad interpolation syntax near {:?}", after),
                    });
                };
                let name = a.get(..close).unwrap_or("").to_lowercase();
                rest = a.get(close + 2..).unwrap_or("");
                let (sec, key) = match name.split_once('/') {
                    Some((s, k)) if s != "known" => (self.section_name(s), k.to_string()),
                    _ => (section.to_string(), name.clone()),
                };
                let Some(raw) = self.raw(&sec, &key, vars) else {
                    return Err(LoadError::Interpolation {
                        file: self.file.clone(),
                        section: section.to_string(),
                        key: opt.to_string(),
                        message: format!("%({name})s is not defined"),
                    });
                };
                // A `known/x` value must not resolve to the value that
                // references it.
                let v = self.interpolate(&raw, &sec, vars, depth + 1, &key)?;
                out.push_str(&v);
                if out.len() > MAX_VALUE_LEN {
                    return Err(LoadError::Interpolation {
                        file: self.file.clone(),
                        section: section.to_string(),
                        key: opt.to_string(),
                        message: "interpolated value too large".to_string(),
                    });
                }
            } else {
                // Lenient: a lone `%` stays (Python would refuse it).
                out.push('%');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Own options of a section (not `[DEFAULT]`), in no particular order.
    pub fn own_options(&self, section: &str) -> Vec<String> {
        self.sections
            .get(section)
            .map(|s| {
                s.keys()
                    .filter(|k| !k.starts_with("known/"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The options of a loaded filter after interpolation and tag
/// substitution, ready to be compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterDef {
    /// File the filter came from.
    pub file: String,
    /// `prefregex` (matched first; its `<F-CONTENT>` feeds the failregexes).
    pub prefregex: Option<String>,
    /// One entry per non-empty `failregex` line.
    pub failregex: Vec<String>,
    /// One entry per non-empty `ignoreregex` line.
    pub ignoreregex: Vec<String>,
    /// `datepattern` lines (empty: fail2ban's default templates).
    pub datepattern: Vec<String>,
    /// Lines buffered for multi-line regexes (`maxlines`, default 1).
    pub maxlines: usize,
    /// `journalmatch` (informational; journal reading is not done here).
    pub journalmatch: Option<String>,
}

const CONFIG_OPTS: [&str; 6] = [
    "prefregex",
    "ignoreregex",
    "failregex",
    "maxlines",
    "datepattern",
    "journalmatch",
];

/// Loads a filter file (with includes) and resolves it with init options
/// (the `key=value` pairs of `filter = name[key=value, ...]`).
pub fn load_filter(
    src: &dyn FileSource,
    path: &str,
    init_opts: &[(String, String)],
) -> Result<FilterDef, LoadError> {
    let cfg = Config::load(src, path)?;
    resolve_filter(&cfg, init_opts)
}

/// Resolves an already merged configuration into a [`FilterDef`].
pub fn resolve_filter(
    cfg: &Config,
    init_opts: &[(String, String)],
) -> Result<FilterDef, LoadError> {
    let p_opts: HashMap<String, String> = init_opts
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    // Ordered combined options: Definition's known options, then init.
    let mut combined: Vec<(String, String)> = Vec::new();
    for key in CONFIG_OPTS {
        if let Some(v) = cfg.get("Definition", key, &p_opts)? {
            combined.push((key.to_string(), v));
        }
    }
    let mut init: Vec<(String, String)> = init_opts
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    if cfg.has_section("Init") {
        let mut own = cfg.own_options("Init");
        own.sort();
        let empty = HashMap::new();
        for opt in own {
            if init.iter().any(|(k, _)| *k == opt) {
                continue;
            }
            if let Some(v) = cfg.get("Init", &opt, &empty)? {
                init.push((opt, v));
            }
        }
    }
    for (k, v) in init {
        if let Some(slot) = combined.iter_mut().find(|(n, _)| *n == k) {
            slot.1 = v;
        } else {
            combined.push((k, v));
        }
    }
    let mut extra_cache: HashMap<String, Option<String>> = HashMap::new();
    let mut lookup = |tag: &str| -> Result<Option<String>, LoadError> {
        if let Some(v) = extra_cache.get(tag) {
            return Ok(v.clone());
        }
        let v = cfg.get("Definition", tag, &p_opts)?;
        extra_cache.insert(tag.to_string(), v.clone());
        Ok(v)
    };
    substitute_tags(&mut combined, &mut lookup, &cfg.file)?;
    let get = |k: &str| {
        combined
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let lines = |v: Option<String>| -> Vec<String> {
        v.map(|s| {
            s.split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    };
    let maxlines = match get("maxlines") {
        Some(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(LoadError::Value {
                    file: cfg.file.clone(),
                    section: "Definition".to_string(),
                    key: "maxlines".to_string(),
                    message: format!("not a positive integer: {v:?}"),
                })
            }
        },
        _ => 1,
    };
    let datepattern = get("datepattern")
        .map(|s| {
            s.split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(FilterDef {
        file: cfg.file.clone(),
        prefregex: get("prefregex").filter(|s| !s.is_empty()),
        failregex: lines(get("failregex")),
        ignoreregex: lines(get("ignoreregex")),
        datepattern,
        maxlines,
        journalmatch: get("journalmatch").filter(|s| !s.is_empty()),
    })
}

/// Finds the next `<tag>` (`<([^ <>]+)>`) at or after `from`.
fn find_tag(s: &str, from: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        let rel = memchr::memchr(b'<', b.get(i..)?)?;
        let start = i + rel;
        let mut j = start + 1;
        while j < b.len() && !matches!(b.get(j), Some(b' ' | b'<' | b'>')) {
            j += 1;
        }
        if j > start + 1 && b.get(j) == Some(&b'>') {
            return Some((start, j + 1));
        }
        i = start + 1;
    }
    None
}

/// fail2ban's recursive `<tag>` substitution over the combined options.
/// Unknown tags (such as `<HOST>`) stay for the regex compiler.
fn substitute_tags(
    opts: &mut [(String, String)],
    lookup: &mut dyn FnMut(&str) -> Result<Option<String>, LoadError>,
    file: &str,
) -> Result<(), LoadError> {
    let mut done: HashSet<String> = HashSet::new();
    let mut counts: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for _round in 0..64 {
        let mut again = false;
        for idx in 0..opts.len() {
            let (key, orig) = match opts.get(idx) {
                Some((k, v)) => (k.clone(), v.clone()),
                None => continue,
            };
            if done.contains(&key) {
                continue;
            }
            let mut value = orig.clone();
            let rplc = counts.entry(key.clone()).or_default();
            let mut pos = 0;
            while let Some((s, e)) = find_tag(&value, pos) {
                let tag = value.get(s + 1..e - 1).unwrap_or("").to_string();
                if tag == key || rplc.get(&tag).copied().unwrap_or(1) > MAX_TAG_REPLACE_COUNT {
                    return Err(LoadError::Interpolation {
                        file: file.to_string(),
                        section: "Definition".to_string(),
                        key: key.clone(),
                        message: format!("self-referencing tag <{tag}>"),
                    });
                }
                let repl = match opts.iter().find(|(k, _)| *k == tag) {
                    Some((_, v)) => Some(v.clone()),
                    None => lookup(&tag)?,
                };
                let Some(repl) = repl else {
                    pos = e;
                    continue;
                };
                value = value.replace(&format!("<{tag}>"), &repl);
                *rplc.entry(tag).or_insert(0) += 1;
                if value.len() > MAX_VALUE_LEN {
                    return Err(LoadError::Interpolation {
                        file: file.to_string(),
                        section: "Definition".to_string(),
                        key: key.clone(),
                        message: "tag substitution grows without bound".to_string(),
                    });
                }
                pos = s;
            }
            if value != orig {
                if find_tag(&value, 0).is_some() {
                    again = true;
                }
                if let Some(slot) = opts.get_mut(idx) {
                    slot.1 = value.clone();
                }
            }
            if !value.contains('<') {
                done.insert(key);
            }
        }
        if !again {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn src(files: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |p: &str| {
            files
                .iter()
                .find(|(n, _)| *n == p)
                .map(|(_, t)| t.to_string())
        }
    }

    #[test]
    fn continuation_comments_and_inline() {
        let ini = parse_ini(
            "[Definition]\nfailregex = ^a\n  # comment\n            ^b ; inline\nx=1\n",
            "f",
        )
        .unwrap();
        let opts = &ini.sections[0].1;
        assert_eq!(opts[0], ("failregex".into(), "^a\n^b".into()));
        assert_eq!(opts[1], ("x".into(), "1".into()));
    }

    #[test]
    fn includes_interpolation_and_tags() {
        let s = src(&[
            (
                "d/common.conf",
                "[DEFAULT]\n_daemon = \\S*\n__pre = <lt_<logtype>/p>\nlogtype = file\n[lt_file]\np = F:%(_daemon)s\n",
            ),
            (
                "d/x.conf",
                "[INCLUDES]\nbefore = common.conf\n[DEFAULT]\n_daemon = sshd\n[Definition]\nfailregex = ^%(__pre)s <m-<mode>>\nm-normal = N\nm-aggressive = A\nmode = normal\n",
            ),
        ]);
        let f = load_filter(&s, "d/x.conf", &[]).unwrap();
        assert_eq!(f.failregex, vec!["^F:sshd N".to_string()]);
        let f = load_filter(&s, "d/x.conf", &[("mode".into(), "aggressive".into())]).unwrap();
        assert_eq!(f.failregex, vec!["^F:sshd A".to_string()]);
    }

    #[test]
    fn exponential_interpolation_is_bounded() {
        let mut text = String::from("[Definition]\nfailregex = %(a0)s\n");
        for i in 0..20 {
            text.push_str(&format!("a{i} = %(a{})s%(a{})s\n", i + 1, i + 1));
        }
        text.push_str("a20 = xxxxxxxx\n");
        let s = move |p: &str| (p == "a.conf").then(|| text.clone());
        assert!(load_filter(&s, "a.conf", &[]).is_err());
        let mut tags = String::from("[Definition]\nfailregex = <a0>\n");
        for i in 0..20 {
            tags.push_str(&format!("a{i} = <a{}><a{}>\n", i + 1, i + 1));
        }
        tags.push_str("a20 = xxxxxxxx\n");
        let s = move |p: &str| (p == "a.conf").then(|| tags.clone());
        assert!(load_filter(&s, "a.conf", &[]).is_err());
    }

    #[test]
    fn recursive_interpolation_is_an_error() {
        let s = src(&[(
            "a.conf",
            "[Definition]\nfailregex = %(a)s\na = %(b)s\nb = %(a)s\n",
        )]);
        assert!(load_filter(&s, "a.conf", &[]).is_err());
        let s = src(&[(
            "a.conf",
            "[Definition]\nfailregex = <a>\na = <b>\nb = <a>\n",
        )]);
        assert!(load_filter(&s, "a.conf", &[]).is_err());
    }
}
