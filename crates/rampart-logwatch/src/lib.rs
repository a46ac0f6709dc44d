//! `rampart-logwatch`: fail2ban-compatible log matching, with no I/O.
//!
//! fail2ban's `filter.d/*.conf` files are loaded unchanged
//! ([`config::load_filter`], files served by a [`FileSource`]), compiled
//! into a [`Filter`] (Python `re` syntax translated to PCRE2 with JIT,
//! literal prefilter so most lines never reach a regex), and fed lines:
//! each line yields the failures fail2ban would report (host, time, user,
//! multi-line session attempts).
//!
//! Why a separate crate: the matcher is pure computation over strings, so
//! it can be tested and fuzzed without files, and the binary (or a future
//! daemon) decides how logs are read.

pub mod config;
pub mod date;
pub mod early;
pub mod filter;
pub mod jail;
mod prefilter;
pub mod pyre;
pub mod scan;
pub mod scenario;

pub use config::{load_filter, FileSource, FilterDef};
pub use date::{PosixTz, TimeContext};
pub use early::{
    EarlyWarning, EarlyWarningConfig, EarlyWarningConfigError, EarlyWarningStats, Warning,
};
pub use filter::{FailData, Failure, Filter, LineResult, Located};
pub use jail::{
    parse_duration, parse_host, Aggregator, AggregatorConfig, AggregatorStats, BanTimeIncrement,
    IncrementFormula, Jail, JailBan, JailConfig, JailConfigError, JailEvent, JailStats, Prefix,
    RangeBan, SkipReason,
};
pub use scan::{Matcher, Scan};
pub use scenario::{
    DistinctCounter, DistinctCounterConfig, DistributedBruteForce, DistributedBruteForceConfig,
    LeakyBucket, LeakyBucketConfig, Scenario, ScenarioConfigError, ScenarioEvent, SlowBruteForce,
    SlowBruteForceConfig,
};

/// A filter file could not be loaded.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file (or a required include) does not exist.
    #[error("{file}: no such filter file")]
    Missing {
        /// Path asked for.
        file: String,
    },
    /// INI syntax error.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// File.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Include loop or nesting too deep.
    #[error("{file}: {message}")]
    Include {
        /// File.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// `%(name)s` or `<tag>` substitution failed.
    #[error("{file} [{section}] {key}: {message}")]
    Interpolation {
        /// File.
        file: String,
        /// Section.
        section: String,
        /// Option.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An option has an unusable value.
    #[error("{file} [{section}] {key}: {message}")]
    Value {
        /// File.
        file: String,
        /// Section.
        section: String,
        /// Option.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A regex of a loaded filter did not compile.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{file} [Definition] {key}[{index}]: {message} (regex: {regex})")]
pub struct CompileError {
    /// Filter file.
    pub file: String,
    /// `failregex`, `ignoreregex`, `prefregex` or `datepattern`.
    pub key: String,
    /// Line index within a multi-line option.
    pub index: usize,
    /// The regex as configured.
    pub regex: String,
    /// PCRE2's message.
    pub message: String,
}

/// Either error of [`load_and_compile`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Loading failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Compiling failed.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// Splits a jail-style filter spec `name[key=value, key2="v 2"]` into the
/// name and its init options.
pub fn parse_filter_spec(spec: &str) -> (String, Vec<(String, String)>) {
    let spec = spec.trim();
    let Some(open) = spec.find('[') else {
        return (spec.to_string(), Vec::new());
    };
    if !spec.ends_with(']') || open + 1 > spec.len() - 1 {
        return (spec.to_string(), Vec::new());
    }
    let name = spec.get(..open).unwrap_or("").to_string();
    let body = spec.get(open + 1..spec.len() - 1).unwrap_or("");
    let mut opts = Vec::new();
    let mut rest = body;
    while !rest.trim().is_empty() {
        let r = rest.trim_start_matches([' ', ',']);
        let Some(eq) = r.find('=') else { break };
        let key = r.get(..eq).unwrap_or("").trim().to_string();
        let after = r.get(eq + 1..).unwrap_or("").trim_start();
        let (val, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = after.get(1..).unwrap_or("");
                match inner.find(q) {
                    Some(e) => (
                        inner.get(..e).unwrap_or("").to_string(),
                        inner.get(e + 1..).unwrap_or(""),
                    ),
                    None => (inner.to_string(), ""),
                }
            }
            _ => match after.find(',') {
                Some(e) => (
                    after.get(..e).unwrap_or("").trim().to_string(),
                    after.get(e..).unwrap_or(""),
                ),
                None => (after.trim().to_string(), ""),
            },
        };
        opts.push((key, val));
        rest = next;
    }
    (name, opts)
}

/// Loads and compiles a filter in one step.
pub fn load_and_compile(
    src: &dyn FileSource,
    path: &str,
    init_opts: &[(String, String)],
    ctx: TimeContext,
) -> Result<Filter, Error> {
    let def = load_filter(src, path, init_opts)?;
    Ok(Filter::new(&def, ctx)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_spec() {
        assert_eq!(parse_filter_spec("sshd"), ("sshd".to_string(), vec![]));
        assert_eq!(
            parse_filter_spec("sshd[mode=aggressive, x=\"a,b\"]"),
            (
                "sshd".to_string(),
                vec![
                    ("mode".into(), "aggressive".into()),
                    ("x".into(), "a,b".into())
                ]
            )
        );
    }
}
