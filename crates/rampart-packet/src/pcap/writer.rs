//! Classic pcap writing.

use std::io::Write;

use crate::{LinkType, Timestamp};

/// Writes a classic (libpcap 2.4, little-endian, microsecond) capture.
///
/// Classic pcap is what every tool reads, which is why crafting and, later,
/// saving dropped packets use it rather than pcapng.
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header and returns a writer for packets.
    pub fn new(mut out: W, linktype: LinkType, snaplen: u32) -> std::io::Result<Self> {
        let mut hdr = [0u8; 24];
        hdr[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0
        hdr[16..20].copy_from_slice(&snaplen.to_le_bytes());
        hdr[20..24].copy_from_slice(&linktype.to_u32().to_le_bytes());
        out.write_all(&hdr)?;
        Ok(PcapWriter {
            out,
            snaplen,
            packets: 0,
        })
    }

    /// Appends one packet. Data longer than the snaplen is truncated, with the
    /// original length recorded, exactly as a capture would do.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8]) -> std::io::Result<()> {
        let caplen = data.len().min(self.snaplen as usize);
        let secs = u32::try_from(ts.secs()).unwrap_or(u32::MAX);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&ts.subsec_micros().to_le_bytes());
        rec[8..12].copy_from_slice(&(caplen as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(data.get(..caplen).unwrap_or(data))?;
        self.packets += 1;
        Ok(())
    }

    /// Number of packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
