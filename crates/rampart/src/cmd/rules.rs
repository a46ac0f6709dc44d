//! `rampart rules check FILES`: what loads, what does not and why.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use rampart_detect::DetectEngine;

use crate::rules_load;

/// `rampart rules ...`
#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Parse and compile rule files; print loaded and rejected counts,
    /// rejections grouped by reason, and every rejected rule with its file,
    /// line, sid and keyword.
    Check(CheckArgs),
}

/// Arguments of `rampart rules check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Rule files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Variable override, NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Print at most this many individual rejections (0: none).
    #[arg(long, default_value_t = 50)]
    pub show: usize,
    /// Instead of the summary, print one line per rule that loads but
    /// cannot be inspected yet: `gid:sid<TAB>reason`.
    #[arg(long)]
    pub list_inactive: bool,
}

/// Runs a `rules` subcommand.
pub fn run(cmd: &RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check(args) => check(args),
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let vars = rules_load::variables(&args.vars)?;
    let t0 = Instant::now();
    let loaded = rules_load::load(&args.files, &vars)?;
    let parse_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let build = DetectEngine::build_with(&loaded.rules, Some(rules_load::rule_file_loader()));
    if args.list_inactive {
        let mut rows: Vec<(u32, u32, &str)> = build
            .engine
            .signatures()
            .iter()
            .filter_map(|s| {
                s.inactive
                    .as_ref()
                    .map(|i| (s.gid, s.sid, i.reason.as_str()))
            })
            .collect();
        rows.sort_unstable();
        for (gid, sid, reason) in rows {
            outln!("{gid}:{sid}\t{reason}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let compile_s = t1.elapsed().as_secs_f64();
    let total = loaded.rules.len() + loaded.errors.len();
    let ok = build.engine.signatures().len();
    let rejected = loaded.errors.len() + build.errors.len();
    outln!(
        "{} rules: {} loaded, {} rejected ({:.2}% loaded); {} commented out; parse {:.3} s, compile {:.3} s",
        total,
        ok,
        rejected,
        if total > 0 { 100.0 * ok as f64 / total as f64 } else { 100.0 },
        loaded.disabled,
        parse_s,
        compile_s
    )?;
    if rejected > 0 {
        outln!("\nRejected, by reason:")?;
        let mut by = rules_load::group_errors(&loaded.errors);
        for e in &build.errors {
            *by.entry(format!("compile: {}", first_words(&e.message)))
                .or_default() += 1;
        }
        let mut rows: Vec<(String, usize)> = by.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (reason, n) in rows {
            outln!("  {n:>7}  {reason}")?;
        }
    }
    let mut inactive: BTreeMap<&str, usize> = BTreeMap::new();
    for s in build.engine.signatures() {
        if let Some(i) = &s.inactive {
            *inactive.entry(i.reason.as_str()).or_default() += 1;
        }
    }
    if !inactive.is_empty() {
        let n: usize = inactive.values().sum();
        outln!("\nLoaded but not yet inspectable ({n} rules; they need a later feature):")?;
        let mut rows: Vec<(&str, usize)> = inactive.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (reason, n) in rows.iter().take(25) {
            outln!("  {n:>7}  {reason}")?;
        }
        if rows.len() > 25 {
            outln!("  ... {} more reasons", rows.len() - 25)?;
        }
    }
    if args.show > 0 && rejected > 0 {
        outln!("\nRejected rules:")?;
        for e in loaded.errors.iter().take(args.show) {
            outln!("  {e}")?;
        }
        for e in build
            .errors
            .iter()
            .take(args.show.saturating_sub(loaded.errors.len()))
        {
            outln!("  {}:{}: sid {}: {}", e.file, e.line, e.sid, e.message)?;
        }
        if rejected > args.show {
            outln!("  ... {} more", rejected - args.show)?;
        }
    }
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn first_words(msg: &str) -> String {
    msg.split(':')
        .next()
        .unwrap_or(msg)
        .chars()
        .take(60)
        .collect()
}
