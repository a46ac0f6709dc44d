//! Flow tracking, IP defragmentation and TCP stream reassembly for Rampart.
//!
//! This crate is a pure, sans-I/O core: it never reads a clock, a socket or
//! a file. Time arrives as a `u64` nanosecond timestamp, packets as
//! already-decoded primitives (addresses, ids, offsets, byte slices), and
//! results leave as return values or through a caller-supplied sink. That
//! keeps it fuzzable and lets the offline and live paths drive the very same
//! code.
//!
//! - [`defrag`]: IPv4/IPv6 fragment reassembly ([`Defragmenter`]).
//! - [`reassembly`]: one direction of a TCP byte stream
//!   ([`TcpStreamBuffer`]), and both directions of a connection
//!   ([`TcpReassembler`]).
//! - [`policy`]: the target-based overlap policies both of them use.
//! - [`budget`]: the global memory cap shared by all streams of a worker.
//! - [`seq`]: TCP sequence-number arithmetic with wraparound.
//!
//! Everything is bounded by configuration, never by input, and every limit
//! that bites is counted.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod budget;
pub mod defrag;
pub mod error;
pub mod flow;
mod pieces;
pub mod policy;
pub mod reassembly;
pub mod seq;

pub use budget::MemoryBudget;
pub use defrag::{
    DefragAnomaly, DefragConfig, DefragResult, DefragStats, Defragmenter, FragKey, Fragment,
};
pub use error::Error;
pub use policy::{Extent, OverlapPolicy};
pub use reassembly::{
    OwnedStreamEvent, ReassemblyConfig, ReassemblyStats, SegmentReport, StreamAnomaly, StreamEvent,
    TcpReassembler, TcpSegment, TcpStreamBuffer,
};
