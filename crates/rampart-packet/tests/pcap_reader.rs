//! Capture reading: formats, byte orders, timestamp precisions, and every
//! kind of broken file an operator may feed the sensor.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rampart_packet::pcap::{CaptureError, CaptureFormat, CaptureReader, PcapWriter};
use rampart_packet::{LinkType, Timestamp};

fn frame(n: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| n.wrapping_add(i as u8)).collect()
}

fn classic(frames: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    for (ts, f) in frames {
        w.write_packet(*ts, f).unwrap();
    }
    w.into_inner().unwrap()
}

type Read = (Timestamp, LinkType, Vec<u8>, u64);

fn read_all(bytes: &[u8]) -> Result<Vec<Read>, CaptureError> {
    let mut r = CaptureReader::new(bytes)?;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet()? {
        out.push((p.ts, p.linktype, p.data.to_vec(), p.offset));
    }
    Ok(out)
}

#[test]
fn classic_roundtrip_keeps_bytes_times_and_offsets() {
    let frames = vec![
        (Timestamp::from_secs_micros(1_600_000_000, 1), frame(1, 60)),
        (
            Timestamp::from_secs_micros(1_600_000_001, 999_999),
            frame(2, 1514),
        ),
    ];
    let bytes = classic(&frames);
    let got = read_all(&bytes).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, frames[0].0);
    assert_eq!(got[1].0, frames[1].0);
    assert_eq!(got[0].2, frames[0].1);
    assert_eq!(got[1].2, frames[1].1);
    assert_eq!(got[0].1, LinkType::Ethernet);
    // 24-byte file header, then 16-byte record header + 60 bytes.
    assert_eq!(got[0].3, 24);
    assert_eq!(got[1].3, 24 + 16 + 60);
}

/// A big-endian, nanosecond-precision pcap written by hand.
#[test]
fn big_endian_nanosecond_pcap() {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes()); // nanosecond magic, BE
    b.extend_from_slice(&2u16.to_be_bytes());
    b.extend_from_slice(&4u16.to_be_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&65535u32.to_be_bytes());
    b.extend_from_slice(&101u32.to_be_bytes()); // LINKTYPE_RAW
    let data = frame(7, 40);
    b.extend_from_slice(&1_000u32.to_be_bytes());
    b.extend_from_slice(&123_456_789u32.to_be_bytes());
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(&data);
    let got = read_all(&b).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Timestamp::from_secs_nanos(1_000, 123_456_789));
    assert_eq!(got[0].1, LinkType::Raw);
    assert_eq!(got[0].2, data);
}

fn pcapng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let total = (12 + body.len()) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(&body);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

fn shb() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    pcapng_block(0x0a0d_0d0a, &body)
}

fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&linktype.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    if let Some(r) = tsresol {
        body.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    }
    pcapng_block(1, &body)
}

fn epb(iface: u32, units: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&iface.to_le_bytes());
    body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(units as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    pcapng_block(6, &body)
}

#[test]
fn pcapng_with_two_interfaces_and_resolutions() {
    let mut b = shb();
    b.extend(idb(1, None)); // Ethernet, microseconds (default)
    b.extend(idb(101, Some(9))); // raw IP, nanoseconds
    b.extend(epb(0, 1_500_000_000_250_000, &frame(1, 61)));
    b.extend(epb(1, 1_500_000_000_123_456_789, &frame(2, 40)));
    let mut r = CaptureReader::new(b.as_slice()).unwrap();
    let p = r.next_packet().unwrap().unwrap();
    assert_eq!(p.linktype, LinkType::Ethernet);
    assert_eq!(p.ts, Timestamp::from_secs_micros(1_500_000_000, 250_000));
    assert_eq!(p.data, frame(1, 61).as_slice());
    let p = r.next_packet().unwrap().unwrap();
    assert_eq!(p.linktype, LinkType::Raw);
    assert_eq!(p.interface, 1);
    assert_eq!(p.ts, Timestamp::from_secs_nanos(1_500_000_000, 123_456_789));
    assert!(r.next_packet().unwrap().is_none());
    assert_eq!(r.format(), CaptureFormat::Pcapng);
}

/// Wireshark's section headers carry hardware, OS and application options
/// (over 100 bytes): the reader must see the whole block before deciding.
#[test]
fn pcapng_section_header_with_long_options() {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    for (code, text) in [
        (
            2u16,
            "Intel(R) Core(TM) i7 CPU with a rather long hardware description",
        ),
        (3, "Linux 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian"),
        (4, "TShark (Wireshark) 4.0.17"),
    ] {
        body.extend_from_slice(&code.to_le_bytes());
        body.extend_from_slice(&(text.len() as u16).to_le_bytes());
        body.extend_from_slice(text.as_bytes());
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
    }
    body.extend_from_slice(&[0, 0, 0, 0]);
    let mut b = pcapng_block(0x0a0d_0d0a, &body);
    assert!(b.len() > 150);
    b.extend(idb(1, None));
    b.extend(epb(0, 1_500_000_000_250_000, &frame(1, 61)));
    let packets = read_all(&b).unwrap();
    assert_eq!(packets.len(), 1);
}

#[test]
fn pcapng_packet_on_undeclared_interface_is_an_error_with_offset() {
    let mut b = shb();
    b.extend(idb(1, None));
    let off = b.len() as u64;
    b.extend(epb(3, 0, &frame(1, 60)));
    let err = read_all(&b).unwrap_err();
    assert_eq!(
        err,
        CaptureError::UnknownInterface {
            offset: off,
            interface: 3,
            known: 1
        }
    );
}

#[test]
fn not_a_capture() {
    let err = read_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert!(matches!(err, CaptureError::NotACapture { .. }), "{err}");
    assert!(err.to_string().contains("byte offset 0"));
    assert_eq!(read_all(b"").unwrap_err(), CaptureError::Empty);
}

#[test]
fn truncated_header_and_truncated_record() {
    let bytes = classic(&[
        (Timestamp::from_secs(1), frame(1, 100)),
        (Timestamp::from_secs(2), frame(2, 100)),
    ]);
    // Header cut short.
    let err = read_all(&bytes[..10]).unwrap_err();
    assert!(
        matches!(err, CaptureError::Truncated { offset: 0, .. }),
        "{err}"
    );
    // Second record cut in its data: the first packet is still delivered,
    // then the error names the second record's offset.
    let cut = &bytes[..bytes.len() - 30];
    let mut r = CaptureReader::new(cut).unwrap();
    assert!(r.next_packet().unwrap().is_some());
    let err = r.next_packet().unwrap_err();
    assert_eq!(
        err,
        CaptureError::Truncated {
            offset: 24 + 116,
            needed: 116
        }
    );
    assert!(err.to_string().contains("byte offset 140"), "{err}");
}

#[test]
fn giant_record_is_refused_before_buffering() {
    let mut bytes = classic(&[(Timestamp::from_secs(1), frame(1, 60))]);
    let off = bytes.len() as u64;
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&0x4000_0000u32.to_le_bytes()); // 1 GiB caplen
    bytes.extend_from_slice(&0x4000_0000u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 64]);
    let mut r = CaptureReader::new(bytes.as_slice()).unwrap();
    assert!(r.next_packet().unwrap().is_some());
    let err = r.next_packet().unwrap_err();
    assert_eq!(
        err,
        CaptureError::RecordTooLarge {
            offset: off,
            len: 0x4000_0000,
            max: 262_144
        }
    );
}

#[test]
fn lying_snaplen_and_zero_length_records_are_read_and_reported() {
    // snaplen 64 in the header, but a 200-byte record and an empty one.
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    w.write_packet(Timestamp::from_secs(1), &frame(1, 200))
        .unwrap();
    w.write_packet(Timestamp::from_secs(2), &[]).unwrap();
    let mut bytes = w.into_inner().unwrap();
    bytes[16..20].copy_from_slice(&64u32.to_le_bytes());
    let mut r = CaptureReader::new(bytes.as_slice()).unwrap();
    assert_eq!(r.next_packet().unwrap().unwrap().data.len(), 200);
    assert_eq!(r.next_packet().unwrap().unwrap().data.len(), 0);
    assert!(r.next_packet().unwrap().is_none());
    let w = r.warnings();
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].offset, 24);
    assert!(w[0].message.contains("snaplen of 64"), "{}", w[0].message);
    assert_eq!(w[1].offset, 24 + 16 + 200);
    assert!(w[1].message.contains("zero-length"));
}

#[test]
fn short_reads_from_a_pipe_still_recognise_the_format() {
    struct Dribble<'a>(&'a [u8]);
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let bytes = classic(&[
        (Timestamp::from_secs(1), frame(1, 90)),
        (Timestamp::from_secs(2), frame(2, 90)),
    ]);
    let mut r = CaptureReader::new(Dribble(&bytes)).unwrap();
    let mut n = 0;
    while let Some(p) = r.next_packet().unwrap() {
        assert_eq!(p.data.len(), 90);
        n += 1;
    }
    assert_eq!(n, 2);
}

/// A pcapng block claiming fewer bytes than a block header (found by the
/// fuzzer: pcap-parser 0.17 underflows on it) is a clean error.
#[test]
fn pcapng_block_shorter_than_its_header() {
    let bytes: Vec<u8> = [
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x80, 0x08, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    ]
    .to_vec();
    let err = read_all(&bytes).unwrap_err();
    assert!(
        matches!(err, CaptureError::Malformed { offset: 28, .. }),
        "{err}"
    );
    assert!(err.to_string().len() < 200);
}
