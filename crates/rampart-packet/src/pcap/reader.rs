//! Streaming capture reading (pcap and pcapng) on top of pcap-parser.
//!
//! pcap-parser does the format work (both byte orders, nanosecond pcap,
//! pcapng sections and interfaces); this wrapper adds what a sensor needs:
//! the byte offset of every record, so that an error can say where a file
//! is broken; a hard cap on record size, so a lying length cannot make the
//! reader allocate without bound; per-interface link types and timestamp
//! resolutions; and anomalies (records longer than the snaplen, empty
//! records) collected as warnings instead of silently accepted.

use std::io::{Cursor, Read};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use thiserror::Error;

use crate::{LinkType, Timestamp};

/// Largest packet accepted, as in Wireshark (WTAP_MAX_PACKET_SIZE_STANDARD).
pub const MAX_PACKET_LEN: u32 = 262_144;

/// Buffer capacity: one maximal pcapng block plus headroom.
const BUFFER_CAPACITY: usize = MAX_PACKET_LEN as usize + 64 * 1024;

/// How many capture-format warnings are kept verbatim (the rest are counted).
const MAX_KEPT_WARNINGS: usize = 16;

/// Why a capture could not be read. Every variant carries the byte offset
/// in the file where the problem is, so an operator can look at it with a
/// hex dump.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The file is empty.
    #[error("empty file: not a pcap or pcapng capture")]
    Empty,
    /// The first bytes are neither a pcap nor a pcapng header.
    #[error("not a pcap or pcapng capture (unrecognised magic {magic:02x?} at byte offset 0)")]
    NotACapture {
        /// The first bytes of the file.
        magic: Vec<u8>,
    },
    /// The file ends in the middle of a record or header.
    #[error("truncated capture: the record at byte offset {offset} is cut short (the file ends before its {needed} bytes)")]
    Truncated {
        /// Start of the incomplete record.
        offset: u64,
        /// Bytes the record needs, when known.
        needed: u64,
    },
    /// A record claims more data than any real packet has.
    #[error("record at byte offset {offset} claims {len} bytes, more than the maximum of {max}")]
    RecordTooLarge {
        /// Start of the record.
        offset: u64,
        /// The claimed length.
        len: u64,
        /// The cap.
        max: u32,
    },
    /// The record could not be parsed.
    #[error("malformed record at byte offset {offset}: {reason}")]
    Malformed {
        /// Start of the record.
        offset: u64,
        /// What pcap-parser reported.
        reason: String,
    },
    /// A pcapng packet names an interface that was never described.
    #[error("packet at byte offset {offset} refers to interface {interface}, but the section describes only {known}")]
    UnknownInterface {
        /// Start of the block.
        offset: u64,
        /// The interface id in the packet.
        interface: u32,
        /// How many interfaces the section has.
        known: usize,
    },
    /// Reading the underlying file failed.
    #[error("read error at byte offset {offset}: {message}")]
    Io {
        /// How far reading got.
        offset: u64,
        /// The OS error text.
        message: String,
    },
}

/// Something odd about a capture that does not stop reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureWarning {
    /// Start of the record concerned.
    pub offset: u64,
    /// What is odd.
    pub message: String,
}

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    Pcapng,
}

/// One packet read from a capture. `data` is valid until the next call to
/// [`CaptureReader::next_packet`].
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// The link type of the interface the packet was captured on.
    pub linktype: LinkType,
    /// The captured bytes (possibly fewer than `orig_len`).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// pcapng interface id (0 for classic pcap).
    pub interface: u32,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    /// Units per second of the timestamps.
    resolution: u64,
    /// Seconds added to every timestamp.
    offset_secs: i64,
    /// Classic pcap: timestamps are (seconds, fraction), not 64-bit units.
    classic: bool,
}

/// A streaming reader over a pcap or pcapng capture.
pub struct CaptureReader<'r> {
    inner: Box<dyn PcapReaderIterator + Send + 'r>,
    format: CaptureFormat,
    /// Classic pcap: the single interface; pcapng: those of the current section.
    interfaces: Vec<Interface>,
    /// Whether the classic header is big-endian (for reading lengths ourselves).
    big_endian: bool,
    /// The current packet's bytes, copied out of pcap-parser's buffer so
    /// that the buffer can advance before the caller is done with them.
    packet: Vec<u8>,
    warnings: Vec<CaptureWarning>,
    warning_count: u64,
    packets: u64,
}

/// Bytes read before handing the stream to pcap-parser: enough for any
/// realistic pcapng section header block with its options.
const HEAD_BYTES: usize = 64 * 1024;

impl<'r> CaptureReader<'r> {
    /// Opens a capture, recognising pcap or pcapng from its first bytes.
    pub fn new<R: Read + Send + 'r>(mut reader: R) -> Result<Self, CaptureError> {
        // pcap-parser decides on the first read; make sure it sees a full
        // header even from a pipe that returns short reads. A pcapng section
        // header carries options (Wireshark writes its name, OS and
        // hardware: 100+ bytes), so read well beyond the fixed part.
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut reader)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|e| CaptureError::Io {
                offset: 0,
                message: e.to_string(),
            })?;
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        let magic = head.get(..4).unwrap_or(&head).to_vec();
        let chained = Cursor::new(head).chain(reader);
        let inner = create_reader(BUFFER_CAPACITY, chained).map_err(|e| match e {
            PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof
                if is_known_magic(&magic) =>
            {
                CaptureError::Truncated {
                    offset: 0,
                    needed: 24,
                }
            }
            _ => CaptureError::NotACapture {
                magic: magic.clone(),
            },
        })?;
        let mut rd = CaptureReader {
            inner,
            format: CaptureFormat::Pcap,
            interfaces: Vec::new(),
            big_endian: false,
            packet: Vec::with_capacity(2048),
            warnings: Vec::new(),
            warning_count: 0,
            packets: 0,
        };
        rd.big_endian = matches!(magic.as_slice(), [0xa1, 0xb2, ..]);
        Ok(rd)
    }

    /// The container format (known after the first packet or header).
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The link type of the first interface, when one is known yet.
    pub fn linktype(&self) -> Option<LinkType> {
        self.interfaces.first().map(|i| i.linktype)
    }

    /// Anomalies seen so far (the first few verbatim).
    pub fn warnings(&self) -> &[CaptureWarning] {
        &self.warnings
    }

    /// Total number of anomalies seen so far.
    pub fn warning_count(&self) -> u64 {
        self.warning_count
    }

    /// Packets returned so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Byte offset of the next unread record.
    pub fn offset(&self) -> u64 {
        self.inner.consumed() as u64
    }

    fn warn(&mut self, offset: u64, message: String) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_KEPT_WARNINGS {
            self.warnings.push(CaptureWarning { offset, message });
        }
    }

    /// Reads the next packet, skipping non-packet blocks. `Ok(None)` at the
    /// clean end of the file.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        loop {
            let offset = self.inner.consumed() as u64;
            if let Some(err) = self.check_record_len(offset) {
                return Err(err);
            }
            let step = match self.inner.next() {
                Ok((size, block)) => Step::Block(size, classify(block, &mut self.packet)),
                Err(PcapError::Eof) => Step::Eof,
                Err(PcapError::Incomplete(n)) => Step::Refill(n),
                Err(PcapError::UnexpectedEof) => Step::Truncated,
                Err(PcapError::BufferTooSmall) => Step::TooLarge,
                Err(PcapError::ReadError) => Step::Io,
                Err(e) => Step::Malformed(short_reason(&e)),
            };
            match step {
                Step::Eof => return Ok(None),
                Step::Refill(n) => {
                    if self.inner.reader_exhausted() {
                        return Err(self.truncated(offset, n));
                    }
                    self.inner.refill().map_err(|e| CaptureError::Io {
                        offset,
                        message: e.to_string(),
                    })?;
                    if self.inner.reader_exhausted() && self.inner.data().is_empty() {
                        return Ok(None);
                    }
                }
                Step::Truncated => return Err(self.truncated(offset, 0)),
                Step::TooLarge => {
                    return Err(CaptureError::RecordTooLarge {
                        offset,
                        len: self.declared_len().unwrap_or(0),
                        max: MAX_PACKET_LEN,
                    })
                }
                Step::Io => {
                    return Err(CaptureError::Io {
                        offset,
                        message: "the underlying reader failed".into(),
                    })
                }
                Step::Malformed(reason) => return Err(CaptureError::Malformed { offset, reason }),
                Step::Block(size, kind) => {
                    self.inner.consume(size);
                    match kind {
                        Kind::LegacyHeader {
                            linktype,
                            snaplen,
                            nanos,
                        } => {
                            self.format = CaptureFormat::Pcap;
                            self.interfaces = vec![Interface {
                                linktype,
                                snaplen,
                                resolution: if nanos { 1_000_000_000 } else { 1_000_000 },
                                offset_secs: 0,
                                classic: true,
                            }];
                        }
                        Kind::Section => {
                            self.format = CaptureFormat::Pcapng;
                            self.interfaces.clear();
                        }
                        Kind::Interface(i) => self.interfaces.push(i),
                        Kind::Other => {}
                        Kind::Packet(p) => {
                            let Some(iface) = self.interfaces.get(p.interface as usize).copied()
                            else {
                                return Err(CaptureError::UnknownInterface {
                                    offset,
                                    interface: p.interface,
                                    known: self.interfaces.len(),
                                });
                            };
                            if p.caplen == 0 {
                                self.warn(offset, "zero-length record".into());
                            } else if iface.snaplen != 0 && p.caplen > iface.snaplen {
                                self.warn(
                                    offset,
                                    format!(
                                        "record holds {} bytes, more than the header's snaplen of {}",
                                        p.caplen, iface.snaplen
                                    ),
                                );
                            }
                            let ts = timestamp(p.ts_high, p.ts_low, &iface);
                            self.packets += 1;
                            return Ok(Some(RawPacket {
                                ts,
                                linktype: iface.linktype,
                                data: &self.packet,
                                orig_len: p.orig_len,
                                offset,
                                interface: p.interface,
                            }));
                        }
                    }
                }
            }
        }
    }

    fn truncated(&self, offset: u64, needed: usize) -> CaptureError {
        let have = self.inner.data().len() as u64;
        let needed = self
            .declared_len()
            .map(|l| l.max(have + needed as u64))
            .unwrap_or(have + needed as u64);
        CaptureError::Truncated { offset, needed }
    }

    /// The length the record at the head of the buffer claims (header
    /// included), read directly so that errors can report it.
    fn declared_len(&self) -> Option<u64> {
        let d = self.inner.data();
        match self.format {
            CaptureFormat::Pcap if !self.interfaces.is_empty() => {
                let b: [u8; 4] = d.get(8..12)?.try_into().ok()?;
                let caplen = if self.big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
                Some(16 + u64::from(caplen))
            }
            _ => {
                let b: [u8; 4] = d.get(4..8)?.try_into().ok()?;
                // pcapng blocks use the section's byte order; lengths are small
                // numbers, so the smaller reading is the right one.
                Some(u64::from(u32::from_le_bytes(b).min(u32::from_be_bytes(b))))
            }
        }
    }

    /// Rejects a record whose declared length exceeds the cap before
    /// pcap-parser tries to buffer it, and a pcapng block shorter than the
    /// 12 bytes every block has (pcap-parser 0.17 underflows on some).
    fn check_record_len(&self, offset: u64) -> Option<CaptureError> {
        if self.interfaces.is_empty() && self.format == CaptureFormat::Pcap {
            return None; // the file header has not been read yet
        }
        let len = self.declared_len()?;
        if self.format == CaptureFormat::Pcapng && len < 12 {
            return Some(CaptureError::Malformed {
                offset,
                reason: format!("pcapng block length {len} is shorter than a block header"),
            });
        }
        let max = u64::from(MAX_PACKET_LEN) + 1024;
        (len > max).then_some(CaptureError::RecordTooLarge {
            offset,
            len: len.saturating_sub(16),
            max: MAX_PACKET_LEN,
        })
    }
}

enum Step {
    Block(usize, Kind),
    Eof,
    Refill(usize),
    Truncated,
    TooLarge,
    Io,
    Malformed(String),
}

enum Kind {
    LegacyHeader {
        linktype: LinkType,
        snaplen: u32,
        nanos: bool,
    },
    Section,
    Interface(Interface),
    Packet(PacketMeta),
    Other,
}

struct PacketMeta {
    interface: u32,
    ts_high: u32,
    ts_low: u32,
    caplen: u32,
    orig_len: u32,
}

fn classify(block: PcapBlockOwned<'_>, scratch: &mut Vec<u8>) -> Kind {
    match block {
        PcapBlockOwned::LegacyHeader(h) => Kind::LegacyHeader {
            linktype: LinkType::from_u32(h.network.0 as u32),
            snaplen: h.snaplen,
            nanos: h.is_nanosecond_precision(),
        },
        PcapBlockOwned::Legacy(b) => {
            stash(scratch, b.data);
            Kind::Packet(PacketMeta {
                interface: 0,
                ts_high: b.ts_sec,
                ts_low: b.ts_usec,
                caplen: b.caplen,
                orig_len: b.origlen,
            })
        }
        PcapBlockOwned::NG(Block::SectionHeader(_)) => Kind::Section,
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => Kind::Interface(Interface {
            linktype: LinkType::from_u32(idb.linktype.0 as u32),
            snaplen: idb.snaplen,
            resolution: idb.ts_resolution().unwrap_or(1_000_000),
            offset_secs: idb.ts_offset(),
            classic: false,
        }),
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let data = epb.packet_data();
            stash(scratch, data);
            Kind::Packet(PacketMeta {
                interface: epb.if_id,
                ts_high: epb.ts_high,
                ts_low: epb.ts_low,
                caplen: data.len() as u32,
                orig_len: epb.origlen,
            })
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            let data = spb.packet_data();
            stash(scratch, data);
            Kind::Packet(PacketMeta {
                interface: 0,
                ts_high: u32::MAX,
                ts_low: u32::MAX,
                caplen: data.len() as u32,
                orig_len: spb.origlen,
            })
        }
        PcapBlockOwned::NG(_) => Kind::Other,
    }
}

fn stash(scratch: &mut Vec<u8>, data: &[u8]) {
    scratch.clear();
    scratch.extend_from_slice(data);
}

/// pcap-parser's error without the input bytes it carries (which can be the
/// whole read buffer).
fn short_reason(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("unparsable block ({kind:?})")
        }
        PcapError::HeaderNotRecognized => "block header not recognized".into(),
        other => {
            let mut s = other.to_string();
            s.truncate(120);
            s
        }
    }
}

fn timestamp(high: u32, low: u32, iface: &Interface) -> Timestamp {
    if high == u32::MAX && low == u32::MAX {
        return Timestamp::ZERO; // simple packet blocks carry no time
    }
    if iface.classic {
        let frac_nanos = if iface.resolution == 1_000_000_000 {
            u64::from(low)
        } else {
            u64::from(low) * 1000
        };
        return Timestamp::from_nanos(
            (u64::from(high) * 1_000_000_000).saturating_add(frac_nanos.min(999_999_999)),
        );
    }
    let units = (u64::from(high) << 32) | u64::from(low);
    let res = iface.resolution.max(1);
    let secs = units / res;
    let frac = units % res;
    let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(res)) as u64;
    let secs = secs.saturating_add_signed(iface.offset_secs);
    Timestamp::from_nanos(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

fn is_known_magic(m: &[u8]) -> bool {
    matches!(
        m,
        [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x0a, 0x0d, 0x0d, 0x0a]
    )
}
