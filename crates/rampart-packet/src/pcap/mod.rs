//! Capture files: reading pcap/pcapng, writing classic pcap.

mod reader;
mod writer;

pub use reader::{CaptureReader, CaptureError, RawPacket};
pub use writer::PcapWriter;
