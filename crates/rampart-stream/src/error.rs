//! The crate's error type.
//!
//! The reassembly cores themselves never fail: odd input is recorded as an
//! anomaly and counted, because an IDS must keep going on hostile traffic.
//! Errors exist only where a caller hands over configuration text.

use thiserror::Error;

/// Errors from parsing configuration values for this crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// An overlap policy name that is not one of the known policies.
    #[error(
        "unknown overlap policy {name:?} (expected one of first, last, bsd, bsd-right, linux, windows, solaris)"
    )]
    UnknownPolicy {
        /// The name as given.
        name: String,
    },
}
