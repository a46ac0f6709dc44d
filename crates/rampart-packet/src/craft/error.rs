//! The one error type of the crafting module.

use std::fmt;

/// Why a packet, fragment train, conversation or spec could not be built.
///
/// Every variant names what was asked for and why it cannot be put on the
/// wire, so a test author or a `rampart craft` user can fix the request
/// without reading this module's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CraftError {
    /// A builder method was called for a layer the packet does not have,
    /// such as `.seq()` without `.tcp()`.
    #[error("{method}() needs {needs}; add that layer first")]
    MissingLayer {
        /// The method called.
        method: &'static str,
        /// The layer it applies to.
        needs: &'static str,
    },
    /// The source and destination addresses are of different IP versions.
    #[error("source {src} and destination {dst} are not the same IP version")]
    MixedAddressFamilies {
        /// The source address as given.
        src: String,
        /// The destination address as given.
        dst: String,
    },
    /// The packet would exceed a length field's range.
    #[error("{what} of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// What is too large ("IPv4 total length", "UDP length", ...).
        what: &'static str,
        /// The length it would need.
        len: usize,
        /// The largest length the field can carry.
        max: usize,
    },
    /// A value is outside the range its header field can carry.
    #[error("{field} value {value} is out of range: {why}")]
    InvalidField {
        /// The field ("fragment offset", "flow label", ...).
        field: &'static str,
        /// The rejected value.
        value: u64,
        /// The rule it broke.
        why: &'static str,
    },
    /// A fragmentation request that cannot be met.
    #[error("cannot fragment: {0}")]
    Fragmentation(String),
    /// Input that should be an IP packet is not one.
    #[error("not a well-formed IP packet: {0}")]
    NotAnIpPacket(&'static str),
    /// A TCP segment size of zero, or some other impossible segmentation.
    #[error("invalid maximum segment size {0}: it must be at least 1")]
    InvalidMss(usize),
    /// A frame index (reorder, duplicate, drop, swap) outside the list.
    #[error("frame index {index} is out of range: there are {len} frames")]
    FrameIndex {
        /// The index asked for (0-based).
        index: usize,
        /// The number of frames.
        len: usize,
    },
    /// Text that should be a value of some kind (MAC address, hex bytes,
    /// TCP flags, ...) is not.
    #[error("invalid {what} {text:?}: {why}")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// The text as given.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// A spec file that is not valid TOML or does not match the format.
    #[error("line {line}, column {column}: {message}")]
    Toml {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A spec item with a bad or inapplicable field.
    #[error("{location}, field `{field}`: {message}")]
    SpecField {
        /// Which item (or "options" for the top-level table).
        location: SpecLocation,
        /// The field's name as written in the spec.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A spec item whose fields were all valid but which could not be built.
    #[error("{location}: {source}")]
    SpecItem {
        /// Which item.
        location: SpecLocation,
        /// The underlying error.
        source: Box<CraftError>,
    },
}

/// Where in a spec an error was found: the 1-based item number (the n-th
/// `[[item]]` table) and, when the spec came from text, its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecLocation {
    /// 1-based item number; 0 means the top-level options.
    pub item: usize,
    /// 1-based line of the item's table in the spec text, when known.
    pub line: Option<usize>,
}

impl fmt::Display for SpecLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.item == 0 {
            write!(f, "top-level options")
        } else {
            write!(f, "item {}", self.item)?;
            if let Some(line) = self.line {
                write!(f, " (line {line})")?;
            }
            Ok(())
        }
    }
}

impl CraftError {
    pub(crate) fn parse(what: &'static str, text: &str, why: impl Into<String>) -> Self {
        CraftError::Parse {
            what,
            text: text.to_string(),
            why: why.into(),
        }
    }
}
