//! Splitting IP packets into fragments the way a sending host would.

use super::checksum::checksum;
use super::ip_proto;
use super::layers::fragment_offset_units;
use super::CraftError;

/// How large the fragments may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentLimit {
    /// Each fragment, IP header included, fits this MTU; the data per
    /// fragment is the largest multiple of 8 that fits.
    Mtu(usize),
    /// Each fragment carries exactly this many data bytes (the last one may
    /// carry fewer); must be a non-zero multiple of 8, because fragment
    /// offsets count 8-byte units.
    DataSize(usize),
}

/// Splits IPv4 and IPv6 packets into fragments.
///
/// The output is what RFC 791 and RFC 8200 describe: IPv4 fragments repeat
/// the header (options without the "copied" bit only in the first fragment)
/// with fixed lengths, offsets, MF flags and checksums; IPv6 fragments
/// repeat the unfragmentable part (fixed header, hop-by-hop and routing
/// headers, destination options before a routing header) followed by a
/// fragment header. A packet that already fits is returned unchanged, as a
/// host would send it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragmenter {
    /// The size limit.
    pub limit: FragmentLimit,
    /// Identification for the IPv6 fragment headers (IPv4 keeps the
    /// packet's own identification).
    pub ipv6_id: u32,
}

/// Fragments `ip_packet` (starting with its IP header) to fit `mtu`,
/// with IPv6 identification 1. See [`Fragmenter`].
pub fn fragment(ip_packet: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, CraftError> {
    Fragmenter {
        limit: FragmentLimit::Mtu(mtu),
        ipv6_id: 1,
    }
    .fragment(ip_packet)
}

impl Fragmenter {
    /// Fragments `ip_packet`, which starts with its IPv4 or IPv6 header.
    pub fn fragment(&self, ip_packet: &[u8]) -> Result<Vec<Vec<u8>>, CraftError> {
        match ip_packet.first().map(|b| b >> 4) {
            Some(4) => self.fragment_v4(ip_packet),
            Some(6) => self.fragment_v6(ip_packet),
            _ => Err(CraftError::NotAnIpPacket(
                "the version nibble is neither 4 nor 6",
            )),
        }
    }

    /// Data bytes per fragment when `header` bytes precede each fragment's data.
    fn chunk_size(&self, header: usize) -> Result<usize, CraftError> {
        match self.limit {
            FragmentLimit::Mtu(mtu) => {
                let room = mtu.saturating_sub(header) / 8 * 8;
                if room == 0 {
                    Err(CraftError::Fragmentation(format!(
                        "an MTU of {mtu} leaves no room for 8 data bytes after {header} header bytes"
                    )))
                } else {
                    Ok(room)
                }
            }
            FragmentLimit::DataSize(n) if n == 0 || !n.is_multiple_of(8) => {
                Err(CraftError::Fragmentation(format!(
                    "fragment data size {n} is not a non-zero multiple of 8"
                )))
            }
            FragmentLimit::DataSize(n) => Ok(n),
        }
    }

    fn fragment_v4(&self, ip: &[u8]) -> Result<Vec<Vec<u8>>, CraftError> {
        let (Some(&vihl), Some(total), Some(flags_offset)) = (ip.first(), be16(ip, 2), be16(ip, 6))
        else {
            return Err(CraftError::NotAnIpPacket("shorter than an IPv4 header"));
        };
        let hl = usize::from(vihl & 0x0f) * 4;
        let total = usize::from(total);
        if hl < 20 || total < hl || total > ip.len() {
            return Err(CraftError::NotAnIpPacket(
                "the IPv4 header or total length does not match the packet",
            ));
        }
        let (Some(header), Some(data)) = (ip.get(..hl), ip.get(hl..total)) else {
            return Err(CraftError::NotAnIpPacket("truncated IPv4 packet"));
        };
        let chunk = self.chunk_size(hl)?;
        if data.len() <= chunk {
            return Ok(vec![ip.get(..total).unwrap_or(ip).to_vec()]);
        }
        let base = u32::from(flags_offset & 0x1fff) * 8;
        let orig_more = flags_offset & 0x2000 != 0;
        let kept_flags = flags_offset & 0xc000; // reserved and DF
        let options = header.get(20..).unwrap_or(&[]);
        let mut later_options = copied_options(options);
        while !later_options.len().is_multiple_of(4) {
            later_options.push(0);
        }
        let fixed = header.get(..20).unwrap_or(header);

        let mut out = Vec::new();
        let count = data.len().div_ceil(chunk);
        for (i, piece) in data.chunks(chunk).enumerate() {
            let opts = if i == 0 {
                options
            } else {
                later_options.as_slice()
            };
            let last = i + 1 == count;
            let offset = base + (i * chunk) as u32;
            let mut field = kept_flags | fragment_offset_units(offset)?;
            if !last || orig_more {
                field |= 0x2000;
            }
            let hlen = 20 + opts.len();
            let mut frag = Vec::with_capacity(hlen + piece.len());
            frag.extend_from_slice(fixed);
            frag.extend_from_slice(opts);
            put(&mut frag, 0, &[0x40 | (hlen / 4) as u8]);
            put(&mut frag, 2, &((hlen + piece.len()) as u16).to_be_bytes());
            put(&mut frag, 6, &field.to_be_bytes());
            put(&mut frag, 10, &[0, 0]);
            let sum = checksum(&frag);
            put(&mut frag, 10, &sum.to_be_bytes());
            frag.extend_from_slice(piece);
            out.push(frag);
        }
        Ok(out)
    }

    fn fragment_v6(&self, ip: &[u8]) -> Result<Vec<Vec<u8>>, CraftError> {
        let (Some(payload_len), Some(&first_next)) = (be16(ip, 4), ip.get(6)) else {
            return Err(CraftError::NotAnIpPacket("shorter than an IPv6 header"));
        };
        let end = 40 + usize::from(payload_len);
        if ip.len() < end {
            return Err(CraftError::NotAnIpPacket(
                "the IPv6 payload length exceeds the packet",
            ));
        }
        // Find the unfragmentable part and the next-header byte that will
        // announce the fragment header.
        let mut next = first_next;
        let mut cur = 40;
        let mut unfrag_end = 40;
        let mut next_pos = 6;
        loop {
            match next {
                ip_proto::HOP_BY_HOP | ip_proto::ROUTING | ip_proto::DEST_OPTIONS => {
                    let (Some(&n), Some(&l)) = (ip.get(cur), ip.get(cur + 1)) else {
                        return Err(CraftError::NotAnIpPacket("truncated IPv6 extension header"));
                    };
                    let len = (usize::from(l) + 1) * 8;
                    if cur + len > end {
                        return Err(CraftError::NotAnIpPacket("truncated IPv6 extension header"));
                    }
                    if next != ip_proto::DEST_OPTIONS {
                        unfrag_end = cur + len;
                        next_pos = cur;
                    }
                    next = n;
                    cur += len;
                }
                ip_proto::FRAGMENT => {
                    return Err(CraftError::Fragmentation(
                        "the IPv6 packet already has a fragment header".into(),
                    ))
                }
                _ => break,
            }
        }
        let (Some(unfrag), Some(data), Some(&inner_next)) = (
            ip.get(..unfrag_end),
            ip.get(unfrag_end..end),
            ip.get(next_pos),
        ) else {
            return Err(CraftError::NotAnIpPacket("truncated IPv6 packet"));
        };
        let chunk = self.chunk_size(unfrag_end + 8)?;
        if data.len() <= chunk {
            return Ok(vec![ip.get(..end).unwrap_or(ip).to_vec()]);
        }
        let count = data.len().div_ceil(chunk);
        let mut out = Vec::new();
        for (i, piece) in data.chunks(chunk).enumerate() {
            let more = i + 1 < count;
            let offset = (i * chunk) as u32;
            let field = fragment_offset_units(offset)? << 3 | u16::from(more);
            let payload_len = unfrag_end - 40 + 8 + piece.len();
            let payload_len = u16::try_from(payload_len).map_err(|_| CraftError::TooLarge {
                what: "IPv6 payload length",
                len: payload_len,
                max: 65535,
            })?;
            let mut frag = Vec::with_capacity(unfrag_end + 8 + piece.len());
            frag.extend_from_slice(unfrag);
            put(&mut frag, 4, &payload_len.to_be_bytes());
            put(&mut frag, next_pos, &[ip_proto::FRAGMENT]);
            frag.extend_from_slice(&[inner_next, 0]);
            frag.extend_from_slice(&field.to_be_bytes());
            frag.extend_from_slice(&self.ipv6_id.to_be_bytes());
            frag.extend_from_slice(piece);
            out.push(frag);
        }
        Ok(out)
    }
}

/// The IPv4 options whose "copied" bit says they go into every fragment.
fn copied_options(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&kind) = options.get(i) {
        match kind {
            0 => break,  // end of options
            1 => i += 1, // no-operation: not copied
            _ => {
                let Some(&len) = options.get(i + 1) else {
                    break;
                };
                let len = usize::from(len);
                let Some(opt) = options.get(i..i + len).filter(|_| len >= 2) else {
                    break;
                };
                if kind & 0x80 != 0 {
                    out.extend_from_slice(opt);
                }
                i += len;
            }
        }
    }
    out
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn be16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at + 2)?;
    Some(u16::from_be_bytes(b.try_into().ok()?))
}
