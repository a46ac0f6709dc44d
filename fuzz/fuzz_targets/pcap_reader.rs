//! Fuzzes the capture reader with whole pcap/pcapng files.
//!
//! Input: the bytes of a capture file.
//!
//! The file is read twice: once from a plain `&[u8]` (every read returns as
//! much as asked) and once through a reader that returns at most a few
//! bytes per call, as a pipe or a socket may. Both must produce the same
//! packets and end the same way (clean end or the same error): the reader's
//! refill logic must not change what a file means. Every packet's bytes are
//! also decoded with its link type.
//!
//! Checks: no panic, no hang; at most one packet per 12 input bytes (the
//! smallest record); packets no longer than `MAX_PACKET_LEN` nor than the
//! input; record offsets inside the input and increasing.
#![no_main]

use std::hint::black_box;
use std::io::Read;

use libfuzzer_sys::fuzz_target;
use rampart_packet::pcap::{CaptureError, CaptureReader, MAX_PACKET_LEN};
use rampart_packet::{decode, LinkType, Timestamp};

/// A reader that hands out at most `chunk` bytes per `read`.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = rest;
        Ok(n)
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Seen {
    ts: Timestamp,
    linktype: LinkType,
    data: Vec<u8>,
    orig_len: u32,
    offset: u64,
    interface: u32,
}

/// Reads every packet; returns them and how reading ended.
fn read_all<R: Read + Send>(reader: R, input_len: usize) -> (Vec<Seen>, Result<(), CaptureError>) {
    let mut rd = match CaptureReader::new(reader) {
        Ok(rd) => rd,
        Err(e) => return (Vec::new(), Err(e)),
    };
    black_box(rd.format());
    let mut seen = Vec::new();
    let mut last_offset = None;
    let end = loop {
        match rd.next_packet() {
            Ok(Some(p)) => {
                assert!(p.data.len() <= MAX_PACKET_LEN as usize);
                assert!(p.data.len() <= input_len);
                assert!(p.offset < input_len as u64, "record offset past the end");
                if let Some(prev) = last_offset {
                    assert!(p.offset > prev, "record offsets not increasing");
                }
                last_offset = Some(p.offset);
                let pkt = decode(p.linktype, p.data);
                black_box((pkt.payload(), pkt.ports(), p.ts, p.orig_len));
                seen.push(Seen {
                    ts: p.ts,
                    linktype: p.linktype,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                    offset: p.offset,
                    interface: p.interface,
                });
                assert!(
                    seen.len() <= input_len / 12 + 1,
                    "{} packets from {} bytes",
                    seen.len(),
                    input_len
                );
            }
            Ok(None) => break Ok(()),
            Err(e) => {
                black_box(e.to_string());
                break Err(e);
            }
        }
    };
    assert!(rd.offset() <= input_len as u64);
    assert_eq!(rd.packets(), seen.len() as u64);
    assert!(rd.warnings().len() as u64 <= rd.warning_count());
    black_box(rd.linktype());
    (seen, end)
}

/// The error without `Malformed`'s reason text: pcap-parser's message
/// quotes whatever input it had buffered, which depends on read sizes (and
/// can be the whole 320 KiB buffer; reported). Variant and offset must
/// still agree.
fn comparable(e: CaptureError) -> CaptureError {
    match e {
        CaptureError::Malformed { offset, .. } => CaptureError::Malformed {
            offset,
            reason: String::new(),
        },
        other => other,
    }
}


fuzz_target!(|data: &[u8]| {
    let (whole, whole_end) = read_all(data, data.len());
    let chunk = 1 + data.len() % 23;
    let (trickled, trickled_end) = read_all(Trickle { data, chunk }, data.len());
    assert_eq!(
        whole.len(),
        trickled.len(),
        "packet count depends on read sizes"
    );
    assert_eq!(whole, trickled, "packets depend on read sizes");
    assert_eq!(
        whole_end.map_err(comparable),
        trickled_end.map_err(comparable),
        "outcome depends on read sizes"
    );
});
