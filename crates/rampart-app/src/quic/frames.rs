//! Frames of an Initial packet's plaintext (RFC 9000 §19: PADDING, PING,
//! ACK, CRYPTO, CONNECTION_CLOSE) and Google QUIC's STREAM frames whose
//! data is a crypto handshake message of tagged values (CHLO), read as
//! Suricata does for its `quic.sni`, `quic.ua` and CYU fingerprints.

use super::packet::varint;

/// Frames read per packet at most (a datagram holds ~1,500 bytes; runs
/// of PADDING count as one frame).
pub const MAX_FRAMES: usize = 1024;

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING bytes.
    Padding,
    /// PING.
    Ping,
    /// ACK (with or without ECN counts).
    Ack,
    /// A piece of the CRYPTO stream (the TLS handshake messages) at
    /// `offset`.
    Crypto {
        /// Offset in the packet number space's CRYPTO stream.
        offset: u64,
        /// The bytes.
        data: &'a [u8],
    },
    /// CONNECTION_CLOSE.
    ConnectionClose,
    /// A Google QUIC STREAM frame (frame type with the top bit set) or a
    /// Q050 crypto stream frame (type 0x08): the tags of its handshake
    /// message when it holds one of known tags only.
    GquicStream {
        /// Tags and values in order.
        tags: Option<Vec<(u32, &'a [u8])>>,
    },
    /// A frame type not read here: the rest of the packet was skipped.
    Unknown(u64),
}

/// The frames of `buf`; `None` when a frame runs past the packet or is
/// malformed (frames before it are lost with it, as the packet is).
pub fn parse_frames(mut buf: &[u8]) -> Option<Vec<Frame<'_>>> {
    let mut frames = Vec::new();
    while !buf.is_empty() && frames.len() < MAX_FRAMES {
        let (frame, rest) = parse_frame(buf)?;
        frames.push(frame);
        buf = rest;
    }
    Some(frames)
}

fn take(buf: &[u8], n: u64) -> Option<(&[u8], &[u8])> {
    let n = usize::try_from(n).ok()?;
    Some((buf.get(..n)?, buf.get(n..)?))
}

fn parse_frame(buf: &[u8]) -> Option<(Frame<'_>, &[u8])> {
    let (&ty, rest) = buf.split_first()?;
    if ty & 0x80 != 0 {
        return gquic_stream_frame(ty, rest);
    }
    match ty {
        0x00 => {
            let n = rest.iter().take_while(|&&b| b == 0).count();
            Some((Frame::Padding, rest.get(n..)?))
        }
        0x01 => Some((Frame::Ping, rest)),
        0x02 | 0x03 => {
            // Largest acknowledged, delay, range count, first range, then
            // (gap, length) per range, then three ECN counts for 0x03.
            let (_, r) = varint(rest)?;
            let (_, r) = varint(r)?;
            let (count, r) = varint(r)?;
            let (_, mut r) = varint(r)?;
            for _ in 0..count {
                // Each range takes two bytes at least: a count past the
                // packet fails here, it does not loop long.
                let (_, r1) = varint(r)?;
                let (_, r2) = varint(r1)?;
                r = r2;
            }
            if ty == 0x03 {
                for _ in 0..3 {
                    r = varint(r)?.1;
                }
            }
            Some((Frame::Ack, r))
        }
        0x06 => {
            let (offset, r) = varint(rest)?;
            let (len, r) = varint(r)?;
            let (data, r) = take(r, len)?;
            Some((Frame::Crypto { offset, data }, r))
        }
        0x08 => {
            // Google QUIC Q050's crypto stream: offset, length, data.
            let (_, r) = varint(rest)?;
            let (len, r) = varint(r)?;
            let (data, r) = take(r, len)?;
            Some((
                Frame::GquicStream {
                    tags: handshake_tags(data),
                },
                r,
            ))
        }
        // Nothing follows a CONNECTION_CLOSE that matters: the rest of
        // the packet is not read (as Suricata, which reads no further
        // either, so that garbage after it raises no event).
        0x1c | 0x1d => Some((Frame::ConnectionClose, &[])),
        other => Some((Frame::Unknown(u64::from(other)), &[])),
    }
}

/// A Google QUIC STREAM frame: type bits `1fdooo ss` (FIN, data length
/// present, offset length, stream ID length).
fn gquic_stream_frame(ty: u8, rest: &[u8]) -> Option<(Frame<'_>, &[u8])> {
    let offset_len = match (ty & 0x1c) >> 2 {
        0 => 0,
        n => u64::from(n) + 1,
    };
    let id_len = u64::from(ty & 0x03) + 1;
    let (_, r) = take(rest, id_len)?;
    let (_, r) = take(r, offset_len)?;
    let (len, r) = if ty & 0x20 != 0 {
        let (l, r) = take(r, 2)?;
        (u64::from(u16::from_be_bytes(l.try_into().ok()?)), r)
    } else {
        (r.len() as u64, r)
    };
    let (data, r) = take(r, len)?;
    Some((
        Frame::GquicStream {
            tags: handshake_tags(data),
        },
        r,
    ))
}

/// Google QUIC handshake message tags Suricata knows, with the names it
/// prints (a message with any other tag is not read).
const TAGS: &[(u32, &str)] = &[
    (0x4145_4144, "AEAD"),
    (0x4343_5254, "CCRT"),
    (0x4343_5300, "CCS"),
    (0x4345_5456, "CETV"),
    (0x4346_4357, "CFCW"),
    (0x4348_4c4f, "CHLO"),
    (0x434f_5054, "COPT"),
    (0x4353_4354, "CSCT"),
    (0x4354_494d, "CTIM"),
    (0x4943_534c, "ICSL"),
    (0x4952_5454, "IRTT"),
    (0x4b45_5853, "KEXS"),
    (0x4d49_4453, "MIDS"),
    (0x4d53_5043, "MSPC"),
    (0x4e4f_4e43, "NONC"),
    (0x4e4f_4e50, "NONP"),
    (0x5041_4400, "PAD"),
    (0x5044_4d44, "PDMD"),
    (0x5055_4253, "PUBS"),
    (0x5343_4944, "SCID"),
    (0x5343_4c53, "SCLS"),
    (0x5346_4357, "SFCW"),
    (0x534d_484c, "SMHL"),
    (0x534e_4900, "SNI"),
    (0x534e_4f00, "SNO"),
    (0x5354_4b00, "STK"),
    (0x5443_4944, "TCID"),
    (0x5541_4944, "UAID"),
    (0x5645_5200, "VER"),
    (0x584c_4354, "XLCT"),
];

/// The SNI tag.
pub const TAG_SNI: u32 = 0x534e_4900;
/// The user agent tag.
pub const TAG_UAID: u32 = 0x5541_4944;

/// The printed name of a known tag.
pub fn tag_name(tag: u32) -> Option<&'static str> {
    TAGS.iter().find(|(t, _)| *t == tag).map(|(_, n)| *n)
}

fn known_tag(buf: &[u8]) -> Option<(u32, &[u8])> {
    let (t, r) = take(buf, 4)?;
    let tag = u32::from_be_bytes(t.try_into().ok()?);
    tag_name(tag)?;
    Some((tag, r))
}

fn le_u32(buf: &[u8]) -> Option<(u32, &[u8])> {
    let (b, r) = take(buf, 4)?;
    Some((u32::from_le_bytes(b.try_into().ok()?), r))
}

/// A Google QUIC handshake message: message tag, entry count (2 bytes,
/// little-endian), 2 bytes of padding, (tag, end offset) per entry, then
/// the values back to back. `None` unless every tag is known, the end
/// offsets grow and the values fill the data exactly.
pub fn handshake_tags(data: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let (_, r) = known_tag(data)?;
    let (n, r) = take(r, 2)?;
    let n = u16::from_le_bytes(n.try_into().ok()?);
    let (_, mut r) = take(r, 2)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let (tag, r1) = known_tag(r)?;
        let (end, r2) = le_u32(r1)?;
        entries.push((tag, end));
        r = r2;
    }
    let mut tags = Vec::with_capacity(entries.len());
    let mut previous = 0u32;
    for (tag, end) in entries {
        let len = end.checked_sub(previous)?;
        let (value, r1) = take(r, u64::from(len))?;
        tags.push((tag, value));
        previous = end;
        r = r1;
    }
    r.is_empty().then_some(tags)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A CHLO with SNI and UAID, built after Google's QUIC crypto
    /// handshake message layout.
    pub(crate) fn chlo() -> Vec<u8> {
        let mut m = b"CHLO".to_vec();
        m.extend_from_slice(&2u16.to_le_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(b"SNI\0");
        m.extend_from_slice(&11u32.to_le_bytes());
        m.extend_from_slice(b"UAID");
        m.extend_from_slice(&(11u32 + 4).to_le_bytes());
        m.extend_from_slice(b"example.comcurl");
        m
    }

    #[test]
    fn chlo_tags() {
        let m = chlo();
        let tags = handshake_tags(&m).unwrap();
        assert_eq!(
            tags,
            vec![(TAG_SNI, &b"example.com"[..]), (TAG_UAID, &b"curl"[..])]
        );
        // Trailing bytes, an unknown tag or shrinking offsets: not read.
        let mut longer = m.clone();
        longer.push(0);
        assert!(handshake_tags(&longer).is_none());
        let mut unknown = m.clone();
        unknown[8..12].copy_from_slice(b"ZZZZ");
        assert!(handshake_tags(&unknown).is_none());
        let mut shrinking = m;
        shrinking[20..24].copy_from_slice(&1u32.to_le_bytes());
        assert!(handshake_tags(&shrinking).is_none());
    }

    #[test]
    fn ietf_frames() {
        // PADDING x3, PING, ACK with one extra range, CRYPTO at 5, then
        // CONNECTION_CLOSE with a reason.
        let mut p = vec![0, 0, 0, 1, 2, 10, 0, 1, 2, 3, 4, 6, 5, 3, b'a', b'b', b'c'];
        p.extend_from_slice(&[0x1c, 0x0a, 0x06, 2, b'n', b'o']);
        let f = parse_frames(&p).unwrap();
        assert_eq!(
            f,
            vec![
                Frame::Padding,
                Frame::Ping,
                Frame::Ack,
                Frame::Crypto {
                    offset: 5,
                    data: b"abc"
                },
                Frame::ConnectionClose
            ]
        );
        // A CRYPTO frame running past the packet is an error.
        assert!(parse_frames(&[6, 0, 9, 1]).is_none());
        // An ACK claiming a huge range count fails fast.
        assert!(parse_frames(&[2, 0, 0, 0xbf, 0xff, 0xff, 0xff, 0]).is_none());
        // Unknown frame types end the packet.
        assert_eq!(
            parse_frames(&[1, 0x30, 6, 0]).unwrap(),
            vec![Frame::Ping, Frame::Unknown(0x30)]
        );
    }

    #[test]
    fn gquic_stream_frame_with_chlo() {
        // Type 0xa0: data length present, 1-byte stream id, no offset.
        let m = chlo();
        let mut p = vec![0xa0, 1];
        p.extend_from_slice(&(m.len() as u16).to_be_bytes());
        p.extend_from_slice(&m);
        let f = parse_frames(&p).unwrap();
        let Frame::GquicStream { tags: Some(tags) } = &f[0] else {
            panic!("{f:?}");
        };
        assert_eq!(tags.len(), 2);
    }
}
