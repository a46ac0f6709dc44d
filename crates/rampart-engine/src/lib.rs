//! The I/O-free packet pipeline shared by every way Rampart sees traffic.
//!
//! `rampart inspect`, `rampart detect` and the live daemon all push frames
//! through one [`Pipeline`]: decode, IP defragmentation, flow tracking and
//! TCP reassembly, in that order, with results delivered to a
//! [`PipelineSink`]. Because the pipeline owns no thread, socket or clock,
//! the offline and live paths cannot drift apart, and a crafted packet
//! sequence always produces the same events (which the tests rely on).

pub mod app_layer;
pub mod expect;
pub mod pipeline;
pub mod raw_stream;
pub mod stats;

pub use pipeline::{
    AlertContext, FlowData, PacketVerdict, Pipeline, PipelineConfig, PipelineSink, StreamSegment,
};
pub use stats::{PipelineStats, ProtocolCounters};
