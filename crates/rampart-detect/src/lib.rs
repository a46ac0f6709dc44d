//! Rampart's signature engine (pure): compiled rules, the multi-pattern
//! prefilter, and matching on packets, stream data and app-layer buffers.
//!
//! * [`content`]: literal search with ASCII case folding.
//! * [`pcre`]: PCRE2 with a backtracking budget.
//! * [`bytes`]: reading numbers for the byte_* keywords.
//! * [`program`]: a rule's keywords for one buffer, evaluated in order with
//!   relative positions and bounded backtracking.
//! * [`threshold`]: threshold, detection_filter and threshold.config rate control.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod addrindex;
pub mod app;
pub mod bytes;
pub mod content;
pub mod dataset;
pub mod engine;
pub mod flowvars;
pub mod hostbits;
pub mod pcre;
mod prefilter;
pub mod program;
pub mod signature;
pub mod threshold;
pub mod threshold_config;

pub use app::{TxBuffers, TxSide};
pub use engine::{
    Alert, AlertSource, AppDetect, Build, CompileError, DetectEngine, DetectStats, FlowView,
    TxPayload,
};
pub use flowvars::FlowVars;
pub use signature::Signature;
pub use threshold::ThresholdTable;
pub use threshold_config::ThresholdConfigReport;
