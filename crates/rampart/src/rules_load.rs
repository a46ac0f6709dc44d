//! Loading rule files, variables and classification for the commands that
//! detect: file I/O and reporting around the pure rule parser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rampart_rules::{
    parse_classification_config, parse_rules, Classifications, Rule, RuleError, Variables,
};

/// Where Suricata installs its classification table; used when present so
/// that alert categories read the same as Suricata's.
const SYSTEM_CLASSIFICATION: &str = "/etc/suricata/classification.config";

/// Rules read from files, with every rejection.
pub struct LoadedRules {
    /// The rules that parsed.
    pub rules: Vec<Rule>,
    /// The rules that did not, with file, line, sid and reason.
    pub errors: Vec<RuleError>,
    /// Commented-out rules skipped.
    pub disabled: usize,
}

/// Parses `NAME=VALUE` variable overrides (`HOME_NET=[10.0.0.0/8]`,
/// `HTTP_PORTS=8080`): names ending in `_PORTS` are port variables.
pub fn variables(overrides: &[String]) -> Result<Variables> {
    let mut vars = Variables::default();
    for o in overrides {
        let (name, value) = o
            .split_once('=')
            .with_context(|| format!("--var {o}: expected NAME=VALUE"))?;
        let name = name.trim().trim_start_matches('$');
        let res = if name.ends_with("_PORTS") || name.ends_with("_PORT") {
            vars.set_port(name, value.trim())
        } else {
            vars.set_address(name, value.trim())
        };
        res.map_err(|e| anyhow::anyhow!("--var {o}: {}", e.message))?;
    }
    Ok(vars)
}

/// Reads and parses rule files.
pub fn load(files: &[PathBuf], vars: &Variables) -> Result<LoadedRules> {
    let mut out = LoadedRules {
        rules: Vec::new(),
        errors: Vec::new(),
        disabled: 0,
    };
    for f in files {
        let bytes =
            std::fs::read(f).with_context(|| format!("cannot read rules file {}", f.display()))?;
        // Rule files are text; a stray invalid byte must not lose the file.
        let text = String::from_utf8_lossy(&bytes);
        let set = parse_rules(&text, &f.display().to_string(), vars);
        out.rules.extend(set.rules);
        out.errors.extend(set.errors);
        out.disabled += set.disabled;
    }
    Ok(out)
}

/// Largest file a rule may name (`dataset ... load FILE`): lists of
/// millions of entries fit; a mistaken path to a huge file does not take
/// the memory down.
const MAX_RULE_DATA_FILE: u64 = 512 << 20;

/// Reads the files rules name: relative paths are taken next to the rule
/// file (as Suricata does), then in the working directory.
pub fn rule_file_loader() -> std::sync::Arc<rampart_detect::dataset::FileLoader> {
    std::sync::Arc::new(|rule_file: &str, path: &str| {
        let p = Path::new(path);
        let candidates: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            let beside = Path::new(rule_file).parent().map(|d| d.join(p));
            let mut c: Vec<PathBuf> = beside.into_iter().chain([p.to_path_buf()]).collect();
            c.dedup();
            c
        };
        let found = candidates.iter().find(|c| c.is_file()).ok_or_else(|| {
            format!(
                "cannot find {path} (looked in {})",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let size = std::fs::metadata(found).map(|m| m.len()).unwrap_or(0);
        if size > MAX_RULE_DATA_FILE {
            return Err(format!(
                "{} is {size} bytes, over the {MAX_RULE_DATA_FILE}-byte limit",
                found.display()
            ));
        }
        std::fs::read(found).map_err(|e| format!("cannot read {}: {e}", found.display()))
    })
}

/// Loads the classification table: the given file, else Suricata's system
/// copy, else one next to the first rules file; empty when none exists
/// (alerts then use the classtype name as category).
pub fn classifications(explicit: Option<&Path>, rule_files: &[PathBuf]) -> Result<Classifications> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => {
            let mut c = vec![PathBuf::from(SYSTEM_CLASSIFICATION)];
            if let Some(dir) = rule_files.first().and_then(|f| f.parent()) {
                c.push(dir.join("classification.config"));
            }
            c
        }
    };
    for p in candidates {
        match std::fs::read_to_string(&p) {
            Ok(text) => {
                let (c, errors) = parse_classification_config(&text, &p.display().to_string());
                for e in errors.iter().take(5) {
                    eprintln!("rampart: warning: {e}");
                }
                return Ok(c);
            }
            Err(e) if explicit.is_some() => {
                return Err(anyhow::Error::new(e).context(format!("cannot read {}", p.display())))
            }
            Err(_) => {}
        }
    }
    Ok(Classifications::default())
}

/// Reads a threshold.config and attaches it to `engine`. Entries that do
/// not parse are reported with their line and skipped, like rejected
/// rules; an unreadable file is an error.
pub fn apply_threshold_file(
    engine: &mut rampart_detect::DetectEngine,
    path: &Path,
    vars: &Variables,
) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read threshold file {}", path.display()))?;
    let (cfg, errors) =
        rampart_rules::parse_threshold_config(&text, &path.display().to_string(), vars);
    for e in &errors {
        eprintln!("rampart: warning: threshold entry skipped: {e}");
    }
    let report = engine.apply_threshold_config(&cfg);
    eprintln!(
        "rampart: {}: {} entries, {} rules suppressed, {} rules with rate control",
        path.display(),
        cfg.entries.len(),
        report.suppressed_rules,
        report.thresholded_rules
    );
    for line in &report.unmatched_lines {
        eprintln!(
            "rampart: warning: {}:{line}: no loaded rule has this gen_id/sig_id",
            path.display()
        );
    }
    for line in &report.ignored_rate_filters {
        eprintln!(
            "rampart: warning: {}:{line}: rate_filter is not applied by this version",
            path.display()
        );
    }
    Ok(())
}

/// Rejections grouped by reason, for reports: `(kind, keyword) → count`.
pub fn group_errors(errors: &[RuleError]) -> BTreeMap<String, usize> {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for e in errors {
        let key = match &e.keyword {
            Some(k) => format!("{}: {k}", e.kind.name()),
            None => e.kind.name().to_string(),
        };
        *by.entry(key).or_default() += 1;
    }
    by
}
