//! The Suricata 7 rule language (which covers Snort 2 syntax) for Rampart.
//!
//! This crate turns rule text into a typed AST with source positions, and
//! parses the companion config files (`classification.config`,
//! `reference.config`, `threshold.config`). It is a pure, sans-I/O core:
//! callers read files and hand in `&str` plus a file name for diagnostics.
//!
//! - [`parse_rules`] / [`parse_rule`]: rules → [`Rule`]s, or one
//!   [`RuleError`] per rejected rule (file, line, column, sid, keyword,
//!   [`ErrorKind`] for grouping, message). A broken rule never stops the
//!   others.
//! - [`Variables`]: `$HOME_NET`-style address and port groups, with
//!   Suricata's defaults; header fields resolve to matchable
//!   [`AddressSet`] / [`PortSet`] values.
//! - [`Rule::matches`]: detection keywords in rule order; every payload
//!   keyword names its [`BufferRef`] (buffer + transforms), whether the
//!   rule used a sticky buffer (`http.uri; content:"x";`) or a Snort 2
//!   modifier (`content:"x"; http_uri;`).
//! - [`config`]: the three config files.
//!
//! ```
//! use rampart_rules::{parse_rules, Buffer, MatchKind, Variables};
//!
//! let text = r#"alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"x"; content:"/a"; http_uri; nocase; sid:1;)"#;
//! let set = parse_rules(text, "local.rules", &Variables::default());
//! assert!(set.errors.is_empty());
//! let rule = &set.rules[0];
//! assert!(rule.src.contains("10.0.0.1".parse().unwrap()));
//! let MatchKind::Content(c) = &rule.matches[0].kind else { unreachable!() };
//! assert_eq!((c.buffer.buffer, c.pattern.as_slice(), c.nocase), (Buffer::HttpUri, &b"/a"[..], true));
//! ```
//!
//! # Fidelity
//!
//! The yardstick is Suricata 7.0.10: ET Open and the Snort community rules
//! load (or are refused, with the same reasons) as they are there, and
//! `tests/data/suricata-oracle.rules` pins ~180 edge cases to Suricata's
//! verdicts. Semantics worth knowing when compiling the AST:
//!
//! - Address/port negation follows Suricata, not set algebra: variables and
//!   plain groups are expanded in place, a negated group or variable is
//!   resolved on its own and subtracted, and a family that only has
//!   negations starts from its whole space (so `!$HOME_NET` with an
//!   IPv4-only `HOME_NET` matches no IPv6 address).
//! - Transforms apply to the sticky buffer from the next payload keyword
//!   on; matches before them stay on the untransformed buffer (a different
//!   [`BufferRef`]).
//! - Relative keywords (`distance`, `within`, `/R`, `relative`) are
//!   relative to the previous payload keyword with the same [`BufferRef`]
//!   ([`Rule::matches_in`]). Without a sticky buffer, a relative
//!   `byte_*`/`isdataat` inherits the buffer of the previous payload
//!   keyword, as in Suricata.
//! - `http.response_body`, `file.data`, Snort's `http_server_body` and
//!   pcre `/Q` read the same bytes in Suricata 7 ([`Buffer::same_data`]).
//! - Rules whose `requires` is not met are skipped ([`RuleSet::skipped`]),
//!   not rejected.
//!
//! The parser is a hand-written scanner (no regular expressions): ET
//! Open's 25,803 rules parse in about 130 ms in release builds. Every
//! input-reachable path is panic-free; a fuzz target checks it.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod ast;
pub mod buffer;
pub mod config;
pub mod error;
pub mod header;
pub mod net;
pub mod num;
mod parser;
pub mod span;
pub mod vars;

pub use ast::*;
pub use buffer::{Buffer, BufferRef, Transform};
pub use config::{
    parse_classification_config, parse_reference_config, parse_threshold_config, Classification,
    Classifications, ReferenceConfig, ThresholdConfig, ThresholdEntry,
};
pub use error::{ErrorKind, RuleError};
pub use header::{Action, Direction, Protocol};
pub use net::{AddressExpr, AddressSet, IpCidr, PortExpr, PortSet};
pub use num::{NumCmp, NumOrVar};
pub use parser::{parse_rule, parse_rules, RuleSet, HTTP2_ERROR_CODE_NAMES, SURICATA_VERSION};
pub use span::Span;
pub use vars::Variables;
