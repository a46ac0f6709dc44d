//! QUIC packet headers as an IDS reads them: the IETF long and short
//! headers (RFC 9000 §17, QUIC v2's packet type codes from RFC 9369), and
//! Google QUIC's public header (Q039 to Q046) as Suricata 7 parses it, so
//! that the same datagrams are taken for QUIC and split into the same
//! packets.

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369), whose long-header type codes differ.
pub const VERSION_2: u32 = 0x6b33_43cf;
/// Google QUIC versions named in logs (`Q039`, `Q043` ... `Q046`).
const GQUIC_NAMED: [u32; 5] = [
    0x5130_3339,
    0x5130_3433,
    0x5130_3434,
    0x5130_3435,
    0x5130_3436,
];
/// Q046: Google QUIC with an IETF-shaped long header.
pub const Q046: u32 = 0x5130_3436;

/// Whether `version` is one of the Google QUIC versions Q043 to Q046,
/// whose long header carries connection ID lengths in one nibble-packed
/// byte and whose Initial packets are not encrypted.
pub fn is_gquic(version: u32) -> bool {
    (0x5130_3433..=Q046).contains(&version)
}

/// A version as EVE writes it: `Q043` for the named Google QUIC
/// versions, `v2` for QUIC v2, otherwise lowercase hex without leading
/// zeros (`1`, `ff00001d`).
pub fn version_name(version: u32) -> String {
    if version == VERSION_2 {
        "v2".to_string()
    } else if GQUIC_NAMED.contains(&version) {
        version
            .to_be_bytes()
            .iter()
            .map(|&b| char::from(b))
            .collect()
    } else {
        format!("{version:x}")
    }
}

/// The kind of a QUIC packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    /// Carries the first CRYPTO frames (the TLS hellos); protected with
    /// keys anyone can derive.
    Initial,
    /// Early data.
    ZeroRtt,
    /// The rest of the handshake (keys from the TLS exchange).
    Handshake,
    /// A server asking the client to start over with a token.
    Retry,
    /// A long header with version 0: the versions a server supports.
    VersionNegotiation,
    /// A short header (1-RTT data), or a Google QUIC public header
    /// without version.
    Short,
}

/// A parsed header and where its packet's payload lies in the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The first byte as sent (still masked by header protection).
    pub first: u8,
    /// A long header (the top bit of the first byte).
    pub long: bool,
    /// The packet type.
    pub ty: PacketType,
    /// The version (0 when the header has none).
    pub version: u32,
    /// The version field's four bytes, when the header has one.
    pub has_version: bool,
    /// Destination connection ID.
    pub dcid: Vec<u8>,
    /// Source connection ID.
    pub scid: Vec<u8>,
    /// Bytes of the header before the payload: for IETF Initial packets
    /// the offset of the (protected) packet number.
    pub header_len: usize,
    /// Bytes of payload from `header_len` on (packet number included);
    /// the packet ends at `header_len + payload_len`.
    pub payload_len: usize,
}

/// Reads a variable-length integer (RFC 9000 §16): the two top bits of
/// the first byte give its length (1, 2, 4 or 8 bytes).
pub fn varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let first = *buf.first()?;
    let len = 1usize << (first >> 6);
    let bytes = buf.get(..len)?;
    let mut v = u64::from(first & 0x3f);
    for &b in bytes.get(1..).unwrap_or(&[]) {
        v = v << 8 | u64::from(b);
    }
    Some((v, buf.get(len..).unwrap_or(&[])))
}

fn take(buf: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    Some((buf.get(..n)?, buf.get(n..)?))
}

fn be_u32(buf: &[u8]) -> Option<(u32, &[u8])> {
    let (b, rest) = take(buf, 4)?;
    Some((u32::from_be_bytes(b.try_into().ok()?), rest))
}

/// Google QUIC public header flags (Suricata's reading).
const GQUIC_FLAG_VERSION: u8 = 0x01;
const GQUIC_FLAG_NONCE: u8 = 0x04;
const GQUIC_FLAG_CID: u8 = 0x08;
/// The IETF fixed bit: set on every IETF short header, clear on Google
/// QUIC public headers.
const FIXED_BIT: u8 = 0x40;

/// Parses the header at the start of `buf` (one packet of a datagram,
/// which may hold several coalesced). `None` when `buf` is not a QUIC
/// header: too short, an unknown Google QUIC type, or an Initial packet
/// whose Length runs past the datagram.
///
/// Long headers other than Initial are taken to extend to the end of the
/// datagram, as Suricata 7 reads them; a short header's connection ID is
/// not split off (its length is not on the wire).
pub fn parse_header(buf: &[u8]) -> Option<Header> {
    let (&first, rest) = buf.split_first()?;
    let long = first & 0x80 != 0;
    if !long {
        return parse_public_header(buf, first, rest);
    }
    let (version, rest) = be_u32(rest)?;
    let gquic = is_gquic(version);
    let ty = if version == 0 {
        PacketType::VersionNegotiation
    } else if gquic && version != Q046 {
        match first & 0x7f {
            0x7f => PacketType::Initial,
            0x7e => PacketType::Retry,
            0x7d => PacketType::Handshake,
            0x7c => PacketType::ZeroRtt,
            _ => return None,
        }
    } else {
        let code = (first & 0x30) >> 4;
        if version == VERSION_2 {
            match code {
                1 => PacketType::Initial,
                2 => PacketType::ZeroRtt,
                3 => PacketType::Handshake,
                _ => PacketType::Retry,
            }
        } else {
            match code {
                0 => PacketType::Initial,
                1 => PacketType::ZeroRtt,
                2 => PacketType::Handshake,
                _ => PacketType::Retry,
            }
        }
    };
    let (dcid, scid, rest) = if gquic {
        let (&lengths, rest) = rest.split_first()?;
        let nibble = |n: u8| if n == 0 { 0 } else { usize::from(n) + 3 };
        let (dcid, rest) = take(rest, nibble(lengths >> 4))?;
        let (scid, rest) = take(rest, nibble(lengths & 0x0f))?;
        (dcid, scid, rest)
    } else {
        let (&dlen, rest) = rest.split_first()?;
        let (dcid, rest) = take(rest, usize::from(dlen))?;
        let (&slen, rest) = rest.split_first()?;
        let (scid, rest) = take(rest, usize::from(slen))?;
        (dcid, scid, rest)
    };
    let (rest, payload_len) = match ty {
        PacketType::Initial if gquic => {
            // Packet number and message authentication hash in clear.
            let (_, rest) = take(rest, 4 + 12)?;
            (rest, rest.len())
        }
        PacketType::Initial => {
            let (token_len, rest) = varint(rest)?;
            let (_, rest) = take(rest, usize::try_from(token_len).ok()?)?;
            let (length, rest) = varint(rest)?;
            let length = usize::try_from(length).ok()?;
            if length > rest.len() {
                return None;
            }
            (rest, length)
        }
        _ => (rest, rest.len()),
    };
    Some(Header {
        first,
        long,
        ty,
        version,
        has_version: true,
        dcid: dcid.to_vec(),
        scid: scid.to_vec(),
        header_len: buf.len() - rest.len(),
        payload_len,
    })
}

/// A header whose top bit is clear: an IETF short header when the fixed
/// bit is set, else a Google QUIC public header (flags, an optional
/// 8-byte connection ID, an optional version, a packet number of 1 to 4
/// bytes and, with a connection ID, a 12-byte message hash); with a
/// version it opens a connection (Suricata calls it Initial).
fn parse_public_header(buf: &[u8], first: u8, rest: &[u8]) -> Option<Header> {
    if first & FIXED_BIT != 0 {
        return Some(Header {
            first,
            long: false,
            ty: PacketType::Short,
            version: 0,
            has_version: false,
            dcid: Vec::new(),
            scid: Vec::new(),
            header_len: 1,
            payload_len: rest.len(),
        });
    }
    let cid = first & GQUIC_FLAG_CID != 0;
    let (dcid, mut rest) = take(rest, if cid { 8 } else { 0 })?;
    if first & GQUIC_FLAG_NONCE != 0 && !cid {
        rest = take(rest, 32)?.1;
    }
    let has_version = first & GQUIC_FLAG_VERSION != 0;
    let mut version = 0;
    if has_version {
        let (v, r) = be_u32(rest)?;
        version = v;
        rest = r;
    }
    let pn_len = 1 + usize::from((first & 0x30) >> 4);
    rest = take(rest, pn_len)?.1;
    if cid {
        rest = take(rest, 12)?.1;
    }
    Some(Header {
        first,
        long: false,
        ty: if has_version {
            PacketType::Initial
        } else {
            PacketType::Short
        },
        version,
        has_version,
        dcid: dcid.to_vec(),
        scid: Vec::new(),
        header_len: buf.len() - rest.len(),
        payload_len: rest.len(),
    })
}

/// Recovers a full packet number from its truncated form (RFC 9000
/// §A.3): the value closest to one past the largest number received so
/// far (`largest`, `None` before any).
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << (8 * pn_len.clamp(1, 4));
    let hwin = win / 2;
    let candidate = (expected & !(win - 1)) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_rfc9000_appendix_a1() {
        // RFC 9000 §A.1's examples.
        let cases: [(&[u8], u64); 4] = [
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
        ];
        for (bytes, want) in cases {
            assert_eq!(varint(bytes), Some((want, &[][..])));
        }
        assert_eq!(varint(&[0x40, 0x25]), Some((37, &[][..])));
        assert_eq!(varint(&[0x9d, 0x7f]), None);
        assert_eq!(varint(&[]), None);
    }

    #[test]
    fn packet_number_decoding_of_rfc9000_appendix_a3() {
        // Largest 0xa82f30ea, 16-bit truncated 0x9b32 -> 0xa82f9b32.
        assert_eq!(
            decode_packet_number(Some(0xa82f_30ea), 0x9b32, 2),
            0xa82f_9b32
        );
        assert_eq!(decode_packet_number(None, 2, 4), 2);
        assert_eq!(decode_packet_number(Some(0xff), 0x01, 1), 0x101);
    }

    #[test]
    fn long_header_initial_with_length() {
        // RFC 9001 §A.2's client Initial header: DCID 8394c8f03e515708,
        // no SCID, no token, Length 0x449e (1182), 4-byte packet number.
        let mut pkt = vec![
            0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
        ];
        pkt.extend_from_slice(&[0, 0, 0x44, 0x9e]);
        pkt.extend_from_slice(&[0u8; 1182]);
        pkt.extend_from_slice(b"next");
        let h = parse_header(&pkt).unwrap();
        assert_eq!(h.ty, PacketType::Initial);
        assert_eq!(h.version, 1);
        assert_eq!(h.dcid, [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]);
        assert_eq!((h.header_len, h.payload_len), (18, 1182));
        // A Length past the datagram is not QUIC.
        assert_eq!(parse_header(&pkt[..1000]), None);
        // Other long headers run to the end of the datagram.
        pkt[0] = 0xe3;
        let h = parse_header(&pkt).unwrap();
        assert_eq!(
            (h.ty, h.header_len, h.payload_len),
            (PacketType::Handshake, 15, pkt.len() - 15)
        );
    }

    #[test]
    fn version_names() {
        assert_eq!(version_name(1), "1");
        assert_eq!(version_name(0xff00_001d), "ff00001d");
        assert_eq!(version_name(0x5130_3433), "Q043");
        assert_eq!(version_name(0x5130_3339), "Q039");
        assert_eq!(version_name(0x5130_3530), "51303530");
        assert_eq!(version_name(0), "0");
        assert_eq!(version_name(VERSION_2), "v2");
    }

    #[test]
    fn short_and_public_headers() {
        let h = parse_header(&[0x41, 1, 2, 3]).unwrap();
        assert_eq!((h.ty, h.long, h.payload_len), (PacketType::Short, false, 3));
        // Google QUIC Q043 public header: version and 8-byte CID, 1-byte
        // packet number, 12-byte hash.
        let mut p = vec![0x09];
        p.extend_from_slice(&[7; 8]);
        p.extend_from_slice(b"Q043");
        p.push(1);
        p.extend_from_slice(&[0; 12]);
        p.extend_from_slice(b"frames");
        let h = parse_header(&p).unwrap();
        assert_eq!(
            (h.ty, h.version, h.has_version),
            (PacketType::Initial, 0x5130_3433, true)
        );
        assert_eq!(&p[h.header_len..], b"frames");
        assert_eq!(parse_header(&p[..10]), None);
    }

    #[test]
    fn quic_v2_type_codes() {
        // RFC 9369 §3.2: Initial is 0b01 in QUIC v2.
        let pkt = [0xd0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1, 0];
        let h = parse_header(&pkt).unwrap();
        assert_eq!(h.ty, PacketType::Initial);
        assert_eq!(h.payload_len, 1);
    }
}
