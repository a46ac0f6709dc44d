//! `classification.config`, `reference.config` and `threshold.config`.
//!
//! Each parser takes the file's text and name and returns the typed value
//! plus one [`RuleError`] per bad line (the good lines still count).

use std::collections::HashMap;

use crate::ast::{Reference, Threshold, ThresholdType, Track};
use crate::error::{ErrorKind, RuleError};
use crate::net::{parse_address, AddressExpr, AddressSet};
use crate::span::Span;
use crate::vars::Variables;

/// One `config classification: name,description,priority` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// Short name used by `classtype:`.
    pub name: String,
    /// Human-readable description (EVE's `category`).
    pub description: String,
    /// Default priority of rules with this classtype.
    pub priority: u32,
}

/// The classifications of a `classification.config`, by name.
#[derive(Debug, Clone, Default)]
pub struct Classifications {
    entries: Vec<Classification>,
    index: HashMap<String, usize>,
}

impl Classifications {
    /// Looks a classtype up (case-insensitively, as Suricata does).
    pub fn get(&self, name: &str) -> Option<&Classification> {
        let i = match self.index.get(name) {
            Some(i) => *i,
            None => *self.index.get(&name.to_ascii_lowercase())?,
        };
        self.entries.get(i)
    }

    /// All classifications in file order (a redefinition replaces the
    /// earlier entry in place).
    pub fn iter(&self) -> impl Iterator<Item = &Classification> {
        self.entries.iter()
    }

    /// Number of classifications.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds or replaces a classification.
    pub fn insert(&mut self, c: Classification) {
        let key = c.name.to_ascii_lowercase();
        match self.index.get(&key) {
            Some(&i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = c;
                }
            }
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push(c);
            }
        }
    }
}

/// Reference systems from `reference.config` (`config reference: cve http://...`).
#[derive(Debug, Clone, Default)]
pub struct ReferenceConfig {
    systems: HashMap<String, String>,
}

impl ReferenceConfig {
    /// The URL prefix of a system (case-insensitive).
    pub fn prefix(&self, system: &str) -> Option<&str> {
        self.systems
            .get(&system.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The full URL of a rule reference, when its system is known.
    pub fn url(&self, r: &Reference) -> Option<String> {
        self.prefix(&r.system).map(|p| format!("{p}{}", r.id))
    }

    /// Number of systems.
    pub fn len(&self) -> usize {
        self.systems.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.systems.is_empty()
    }
}

/// Action a `rate_filter` switches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateAction {
    /// `alert`.
    Alert,
    /// `drop`.
    Drop,
    /// `pass`.
    Pass,
    /// `reject`.
    Reject,
}

/// What a `threshold.config` line does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThresholdEntryKind {
    /// `threshold` or `event_filter`: like a rule's `threshold`, replacing it.
    Threshold(Threshold),
    /// `suppress`: no alerts, optionally only for some addresses.
    Suppress {
        /// `track by_src|by_dst|by_either` (with `ip`).
        track: Option<Track>,
        /// `ip` expression as written and resolved.
        ip: Option<(AddressExpr, AddressSet)>,
    },
    /// `rate_filter`: change the action once a rate is exceeded.
    RateFilter {
        /// Tracking key.
        track: Track,
        /// Matches per period that trigger the filter.
        count: u32,
        /// Period in seconds.
        seconds: u32,
        /// The new action.
        new_action: RateAction,
        /// How long the new action lasts, in seconds.
        timeout: u32,
    },
}

/// One line of `threshold.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdEntry {
    /// `gen_id` (0: all generators).
    pub gid: u32,
    /// `sig_id` (0: all signatures).
    pub sid: u32,
    /// What it does.
    pub kind: ThresholdEntryKind,
    /// The line in the source.
    pub span: Span,
}

/// All entries of a `threshold.config`, in file order.
#[derive(Debug, Clone, Default)]
pub struct ThresholdConfig {
    /// The entries.
    pub entries: Vec<ThresholdEntry>,
}

impl ThresholdConfig {
    /// Entries that apply to `gid:sid` (including `0` wildcards).
    pub fn for_rule(&self, gid: u32, sid: u32) -> impl Iterator<Item = &ThresholdEntry> {
        self.entries
            .iter()
            .filter(move |e| (e.gid == gid || e.gid == 0) && (e.sid == sid || e.sid == 0))
    }
}

/// Iterates `(line number, line start offset, trimmed content, content
/// offset)` over non-blank, non-comment lines.
fn lines(src: &str) -> impl Iterator<Item = (u32, usize, &str, usize)> {
    let mut offset = 0usize;
    src.split('\n').enumerate().filter_map(move |(i, raw)| {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        let lead = line.len() - line.trim_start().len();
        Some((
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            start,
            t,
            start + lead,
        ))
    })
}

/// Where a config line sits: file, line number, line start, content
/// start and content length.
struct LinePos<'a> {
    file: &'a str,
    line: u32,
    line_start: usize,
    at: usize,
    len: usize,
}

fn line_error(pos: &LinePos<'_>, keyword: &str, kind: ErrorKind, message: String) -> RuleError {
    let LinePos {
        file,
        line,
        line_start,
        at,
        len,
    } = *pos;
    let column = u32::try_from(at - line_start + 1).unwrap_or(u32::MAX);
    RuleError {
        file: file.to_string(),
        line,
        column,
        span: Span {
            start: at,
            end: at + len,
            line,
            column,
        },
        sid: None,
        keyword: Some(keyword.to_string()),
        kind,
        message,
    }
}

/// Strips `config <what>:` from a line.
fn config_body<'a>(t: &'a str, what: &str) -> Option<&'a str> {
    let rest = t.strip_prefix("config")?.trim_start();
    let rest = rest.strip_prefix(what)?.trim_start();
    rest.strip_prefix(':').map(str::trim)
}

/// Parses `classification.config`.
pub fn parse_classification_config(src: &str, file: &str) -> (Classifications, Vec<RuleError>) {
    let mut out = Classifications::default();
    let mut errors = Vec::new();
    for (line, ls, t, at) in lines(src) {
        let pos = LinePos {
            file,
            line,
            line_start: ls,
            at,
            len: t.len(),
        };
        let err = |kind, msg: String| line_error(&pos, "classification", kind, msg);
        let Some(body) = config_body(t, "classification") else {
            errors.push(err(
                ErrorKind::Syntax,
                "expected 'config classification: name,description,priority'".into(),
            ));
            continue;
        };
        let parts: Vec<&str> = body.splitn(3, ',').map(str::trim).collect();
        let [name, description, priority] = parts.as_slice() else {
            errors.push(err(
                ErrorKind::Syntax,
                "expected 'name,description,priority'".into(),
            ));
            continue;
        };
        if name.is_empty() {
            errors.push(err(
                ErrorKind::InvalidValue,
                "empty classification name".into(),
            ));
            continue;
        }
        let Some(priority) = priority.parse::<u32>().ok() else {
            errors.push(err(
                ErrorKind::InvalidValue,
                format!("invalid priority {priority:?}"),
            ));
            continue;
        };
        out.insert(Classification {
            name: (*name).to_string(),
            description: (*description).to_string(),
            priority,
        });
    }
    (out, errors)
}

/// Parses `reference.config`.
pub fn parse_reference_config(src: &str, file: &str) -> (ReferenceConfig, Vec<RuleError>) {
    let mut out = ReferenceConfig::default();
    let mut errors = Vec::new();
    for (line, ls, t, at) in lines(src) {
        let parsed = config_body(t, "reference").and_then(|body| {
            let (name, url) = body.split_once(char::is_whitespace)?;
            let url = url.trim();
            (!name.is_empty() && !url.is_empty()).then_some((name, url))
        });
        match parsed {
            Some((name, url)) => {
                out.systems
                    .insert(name.to_ascii_lowercase(), url.to_string());
            }
            None => errors.push(line_error(
                &LinePos {
                    file,
                    line,
                    line_start: ls,
                    at,
                    len: t.len(),
                },
                "reference",
                ErrorKind::Syntax,
                "expected 'config reference: system url_prefix'".into(),
            )),
        }
    }
    (out, errors)
}

/// Splits on commas outside `[...]`.
fn split_fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(s.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or("").trim());
    out
}

/// Parses `threshold.config`. Suppress `ip` values may use variables.
pub fn parse_threshold_config(
    src: &str,
    file: &str,
    vars: &Variables,
) -> (ThresholdConfig, Vec<RuleError>) {
    let mut out = ThresholdConfig::default();
    let mut errors = Vec::new();
    for (line, ls, t, at) in lines(src) {
        let directive = t.split(char::is_whitespace).next().unwrap_or("");
        let span = Span {
            start: at,
            end: at + t.len(),
            line,
            column: u32::try_from(at - ls + 1).unwrap_or(u32::MAX),
        };
        match threshold_line(t, directive, vars, span) {
            Ok(e) => out.entries.push(e),
            Err((kind, msg)) => errors.push(line_error(
                &LinePos {
                    file,
                    line,
                    line_start: ls,
                    at,
                    len: t.len(),
                },
                directive,
                kind,
                msg,
            )),
        }
    }
    (out, errors)
}

fn threshold_line(
    t: &str,
    directive: &str,
    vars: &Variables,
    span: Span,
) -> Result<ThresholdEntry, (ErrorKind, String)> {
    let bad = |m: String| (ErrorKind::InvalidValue, m);
    let body = t.get(directive.len()..).unwrap_or("").trim();
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for f in split_fields(body) {
        if f.is_empty() {
            continue;
        }
        let (k, v) = f
            .split_once(char::is_whitespace)
            .map_or((f, ""), |(k, v)| (k, v.trim()));
        if fields.insert(k, v).is_some() {
            return Err(bad(format!("{k} given twice")));
        }
    }
    let num = |k: &str| -> Result<u32, (ErrorKind, String)> {
        let v = fields.get(k).ok_or_else(|| bad(format!("missing {k}")))?;
        v.parse::<u32>()
            .map_err(|_| bad(format!("invalid {k} {v:?}")))
    };
    let track = |allowed: &[Track]| -> Result<Option<Track>, (ErrorKind, String)> {
        match fields.get("track") {
            None => Ok(None),
            Some(v) => Track::parse(v)
                .filter(|t| allowed.contains(t))
                .map(Some)
                .ok_or_else(|| bad(format!("invalid track {v:?}"))),
        }
    };
    let known = |allowed: &[&str]| -> Result<(), (ErrorKind, String)> {
        match fields.keys().find(|k| !allowed.contains(k)) {
            Some(k) => Err(bad(format!("unknown field {k:?}"))),
            None => Ok(()),
        }
    };
    let gid = num("gen_id")?;
    let sid = num("sig_id")?;
    let kind = match directive {
        "threshold" | "event_filter" => {
            known(&["gen_id", "sig_id", "type", "track", "count", "seconds"])?;
            let kind = match fields.get("type").copied() {
                Some("limit") => ThresholdType::Limit,
                Some("threshold") => ThresholdType::Threshold,
                Some("both") => ThresholdType::Both,
                Some(other) => return Err(bad(format!("invalid type {other:?}"))),
                None => return Err(bad("missing type".into())),
            };
            let track = track(&[Track::BySrc, Track::ByDst, Track::ByRule, Track::ByBoth, Track::ByFlow])?
                .ok_or_else(|| bad("missing track".into()))?;
            ThresholdEntryKind::Threshold(Threshold {
                kind,
                track,
                count: num("count")?,
                seconds: num("seconds")?,
            })
        }
        "suppress" => {
            known(&["gen_id", "sig_id", "track", "ip"])?;
            let track = track(&[Track::BySrc, Track::ByDst, Track::ByEither])?;
            let ip = match fields.get("ip") {
                None => None,
                Some(v) => {
                    let expr = parse_address(v).map_err(|p| (p.kind, p.message))?;
                    let set = vars.address_set(&expr).map_err(|p| (p.kind, p.message))?;
                    Some((expr, set))
                }
            };
            if track.is_some() != ip.is_some() {
                return Err(bad("suppress needs both track and ip, or neither".into()));
            }
            ThresholdEntryKind::Suppress { track, ip }
        }
        "rate_filter" => {
            known(&["gen_id", "sig_id", "track", "count", "seconds", "new_action", "timeout"])?;
            let track = track(&[Track::BySrc, Track::ByDst, Track::ByRule, Track::ByBoth])?
                .ok_or_else(|| bad("missing track".into()))?;
            let new_action = match fields.get("new_action").copied() {
                Some("alert") => RateAction::Alert,
                Some("drop") | Some("sdrop") => RateAction::Drop,
                Some("pass") => RateAction::Pass,
                Some("reject") => RateAction::Reject,
                Some(other) => return Err(bad(format!("invalid new_action {other:?}"))),
                None => return Err(bad("missing new_action".into())),
            };
            ThresholdEntryKind::RateFilter {
                track,
                count: num("count")?,
                seconds: num("seconds")?,
                new_action,
                timeout: num("timeout")?,
            }
        }
        other => {
            return Err((
                ErrorKind::Syntax,
                format!("unknown directive {other:?}; expected threshold, event_filter, suppress or rate_filter"),
            ))
        }
    };
    Ok(ThresholdEntry {
        gid,
        sid,
        kind,
        span,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn classification() {
        let src = "# c\nconfig classification: trojan-activity,A Network Trojan was detected, 1\nconfig classification: bad\nconfig classification: x,y,z\n";
        let (c, errs) = parse_classification_config(src, "classification.config");
        assert_eq!(c.len(), 1);
        let t = c
            .get("trojan-activity")
            .map(|c| (c.priority, c.description.as_str()));
        assert_eq!(t, Some((1, "A Network Trojan was detected")));
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn reference() {
        let src = "config reference: cve       http://cve.mitre.org/cgi-bin/cvename.cgi?name=\nconfig reference: url http://\nbogus\n";
        let (r, errs) = parse_reference_config(src, "reference.config");
        assert_eq!(r.len(), 2);
        let url = r.url(&Reference {
            system: std::sync::Arc::from("cve"),
            id: "2021-1".into(),
        });
        assert_eq!(
            url.as_deref(),
            Some("http://cve.mitre.org/cgi-bin/cvename.cgi?name=2021-1")
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs.first().map(|e| e.line), Some(3));
    }

    #[test]
    fn thresholds() {
        let src = "\
threshold gen_id 1, sig_id 10, type limit, track by_src, count 1, seconds 60
suppress gen_id 1, sig_id 2000, track by_src, ip [10.0.0.0/8, 192.168.1.1]
suppress gen_id 1, sig_id 2001
suppress gen_id 1, sig_id 2002, track by_dst, ip $HOME_NET
event_filter gen_id 0, sig_id 0, type both, track by_dst, count 5, seconds 10
rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, new_action drop, timeout 10
threshold gen_id 1, sig_id 10, type sometimes, track by_src, count 1, seconds 60
suppress gen_id 1, sig_id 3, track by_src
weird gen_id 1, sig_id 3
suppress gen_id 1, sig_id 4, track by_src, ip $NOPE
";
        let (t, errs) = parse_threshold_config(src, "threshold.config", &Variables::default());
        assert_eq!(t.entries.len(), 6);
        let Some(ThresholdEntryKind::Suppress {
            ip: Some((_, set)), ..
        }) = t.entries.get(1).map(|e| &e.kind)
        else {
            panic!("suppress with ip expected");
        };
        assert!(set.contains("10.9.9.9".parse::<IpAddr>().unwrap_or(IpAddr::from([0; 4]))));
        assert_eq!(t.for_rule(1, 10).count(), 2);
        let lines: Vec<u32> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![7, 8, 9, 10]);
        assert_eq!(
            errs.last().map(|e| e.kind),
            Some(ErrorKind::UndefinedVariable)
        );
    }
}
