//! Capture files: reading pcap/pcapng, writing classic pcap.

mod reader;
mod writer;

pub use reader::{
    CaptureError, CaptureFormat, CaptureReader, CaptureWarning, RawPacket, MAX_PACKET_LEN,
};
pub use writer::PcapWriter;
