//! Applying a `threshold.config` to compiled signatures.
//!
//! Operators tune noisy rules without editing rule files: `suppress` mutes a
//! rule (for everyone, or for some addresses) and `threshold`/`event_filter`
//! replace a rule's own rate control. The rule keeps matching (flowbits are
//! still set); only the alert is affected, as in Suricata.

use std::net::IpAddr;
use std::sync::Arc;

use rampart_rules::ast::{self, ThresholdType};
use rampart_rules::config::ThresholdEntryKind;
use rampart_rules::net::AddressSet;
use rampart_rules::{ThresholdConfig, ThresholdEntry};

use crate::engine::DetectEngine;
use crate::threshold::{ThresholdKind, ThresholdSpec};

/// One `suppress` entry attached to a signature.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// `track by_src|by_dst|by_either`; `None`: every alert of the rule.
    pub track: Option<ast::Track>,
    /// The addresses suppressed (with `track`).
    pub ip: Option<Arc<AddressSet>>,
}

impl Suppression {
    /// Whether an alert from `src` to `dst` is muted by this entry.
    pub fn mutes(&self, src: IpAddr, dst: IpAddr) -> bool {
        let (Some(track), Some(ip)) = (self.track, &self.ip) else {
            return true;
        };
        match track {
            ast::Track::BySrc => ip.contains(src),
            ast::Track::ByDst => ip.contains(dst),
            ast::Track::ByEither => ip.contains(src) || ip.contains(dst),
            _ => false,
        }
    }
}

/// What applying a threshold file did, for the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThresholdConfigReport {
    /// Signatures that received at least one `suppress` entry.
    pub suppressed_rules: usize,
    /// Signatures whose rate control was set or replaced.
    pub thresholded_rules: usize,
    /// Entries naming a `gid:sid` that no loaded rule has (line numbers).
    pub unmatched_lines: Vec<u32>,
    /// `rate_filter` entries, which this version does not apply (lines).
    pub ignored_rate_filters: Vec<u32>,
}

impl DetectEngine {
    /// Attaches `cfg`'s entries to the signatures they name. A specific
    /// `gid:sid` entry replaces the rule's own `threshold`; a global one
    /// (`sig_id 0`) only applies to rules without rate control of their own,
    /// so that a blanket limit never loosens a rule's stricter setting.
    pub fn apply_threshold_config(&mut self, cfg: &ThresholdConfig) -> ThresholdConfigReport {
        let mut report = ThresholdConfigReport::default();
        let mut used = vec![false; cfg.entries.len()];
        for sig in self.signatures_mut() {
            let mut suppressed = false;
            let mut thresholded = false;
            for (i, entry) in cfg.entries.iter().enumerate() {
                if !((entry.gid == sig.gid || entry.gid == 0)
                    && (entry.sid == sig.sid || entry.sid == 0))
                {
                    continue;
                }
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                match &entry.kind {
                    ThresholdEntryKind::Suppress { track, ip } => {
                        sig.suppress.push(Suppression {
                            track: *track,
                            ip: ip.as_ref().map(|(_, set)| Arc::new(set.clone())),
                        });
                        suppressed = true;
                    }
                    ThresholdEntryKind::Threshold(t) => {
                        if entry.sid == 0
                            && (sig.threshold.is_some() || sig.detection_filter.is_some())
                        {
                            continue;
                        }
                        sig.threshold = Some(spec(t));
                        thresholded = true;
                    }
                    ThresholdEntryKind::RateFilter { .. } => {}
                }
            }
            report.suppressed_rules += usize::from(suppressed);
            report.thresholded_rules += usize::from(thresholded);
        }
        for (entry, used) in cfg.entries.iter().zip(&used) {
            if let ThresholdEntryKind::RateFilter { .. } = entry.kind {
                report.ignored_rate_filters.push(line_of(entry));
            } else if !used {
                report.unmatched_lines.push(line_of(entry));
            }
        }
        report
    }
}

fn line_of(entry: &ThresholdEntry) -> u32 {
    entry.span.line
}

fn spec(t: &ast::Threshold) -> ThresholdSpec {
    ThresholdSpec {
        kind: match t.kind {
            ThresholdType::Limit => ThresholdKind::Limit,
            ThresholdType::Threshold => ThresholdKind::Threshold,
            ThresholdType::Both => ThresholdKind::Both,
        },
        track: crate::signature::track(t.track),
        count: t.count,
        seconds: t.seconds,
    }
}
