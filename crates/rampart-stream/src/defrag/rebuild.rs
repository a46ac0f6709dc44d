//! Turning a complete set of fragments back into one IP packet.
//!
//! Downstream stages (the decoder, detection) expect an ordinary packet, so
//! the reassembled datagram gets a header that says what it now is: the
//! header of the offset-0 fragment with lengths and fragmentation fields
//! fixed up.

/// The IPv4 header checksum (RFC 791: ones' complement of the ones'
/// complement sum of the header's 16-bit words), computed with the checksum
/// field taken as zero.
pub fn ipv4_header_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, pair) in header.chunks(2).enumerate() {
        if i == 5 {
            continue; // the checksum field itself
        }
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        sum += u32::from(u16::from_be_bytes([hi, lo]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

fn put_u16(buf: &mut [u8], at: usize, v: u16) -> Option<()> {
    let [hi, lo] = v.to_be_bytes();
    *buf.get_mut(at)? = hi;
    *buf.get_mut(at + 1)? = lo;
    Some(())
}

/// Rebuilds an IPv4 packet from the offset-0 fragment's header (options
/// included) and the reassembled payload: total length set, MF and fragment
/// offset cleared (the reserved and DF bits are kept as sent), checksum
/// recomputed. `None` if the header is shorter than 20 bytes or the packet
/// would exceed 65535 bytes.
pub fn rebuild_ipv4(header: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    if header.len() < 20 {
        return None;
    }
    let total = u16::try_from(header.len().checked_add(payload.len())?).ok()?;
    let mut pkt = Vec::with_capacity(usize::from(total));
    pkt.extend_from_slice(header);
    put_u16(&mut pkt, 2, total)?;
    let flags = u16::from_be_bytes([*pkt.get(6)?, *pkt.get(7)?]) & 0xC000;
    put_u16(&mut pkt, 6, flags)?;
    put_u16(&mut pkt, 10, 0)?;
    let csum = ipv4_header_checksum(&pkt);
    put_u16(&mut pkt, 10, csum)?;
    pkt.extend_from_slice(payload);
    Some(pkt)
}

/// Extension headers whose length is `(len + 1) * 8` (RFC 8200 section 4,
/// plus Mobility, HIP, Shim6 and the two experimental values of RFC 7045).
fn is_generic_ext(nh: u8) -> bool {
    matches!(nh, 0 | 43 | 60 | 135 | 139 | 140 | 253 | 254)
}

/// Rebuilds an IPv6 packet from the unfragmentable part of the offset-0
/// fragment (fixed header plus the extension headers that preceded the
/// Fragment header) and the reassembled fragmentable part: payload length
/// set, and the Next Header field of the last unfragmentable header (the
/// fixed header if there is none) set to `next_header` from the Fragment
/// header (RFC 8200 section 4.5). `None` if the header is shorter than 40
/// bytes or the payload would exceed 65535 bytes (no jumbograms).
///
/// The extension-header chain is walked leniently: if it runs off the end
/// or meets an unknown header, the last header found is the one patched.
pub fn rebuild_ipv6(header: &[u8], next_header: u8, payload: &[u8]) -> Option<Vec<u8>> {
    if header.len() < 40 {
        return None;
    }
    let plen = u16::try_from((header.len() - 40).checked_add(payload.len())?).ok()?;
    let mut pkt = Vec::with_capacity(header.len() + payload.len());
    pkt.extend_from_slice(header);
    put_u16(&mut pkt, 4, plen)?;

    let mut nh_pos = 6usize;
    let mut nh = *header.get(6)?;
    let mut pos = 40usize;
    while pos < header.len() {
        let Some(&len_byte) = header.get(pos + 1) else {
            break;
        };
        let ext_len = if is_generic_ext(nh) {
            (usize::from(len_byte) + 1) * 8
        } else if nh == 51 {
            // Authentication Header: length in 4-octet units, minus 2.
            (usize::from(len_byte) + 2) * 4
        } else {
            break;
        };
        nh_pos = pos;
        nh = *header.get(pos)?;
        pos += ext_len;
    }
    *pkt.get_mut(nh_pos)? = next_header;
    pkt.extend_from_slice(payload);
    Some(pkt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checksum_known_vector() {
        // The classic worked example header (Wikipedia "IPv4 header
        // checksum"): 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_header_checksum(&h), 0xb861);
    }

    #[test]
    fn ipv4_fixups() {
        // DF|MF set, offset 0x0123, bogus length and checksum.
        let h = [
            0x45, 0x00, 0xff, 0xff, 0x12, 0x34, 0x61, 0x23, 0x40, 0x11, 0xde, 0xad, 10, 0, 0, 1,
            10, 0, 0, 2,
        ];
        let p = rebuild_ipv4(&h, &[7u8; 30]).unwrap();
        assert_eq!(p.len(), 50);
        assert_eq!(&p[2..4], &[0, 50]);
        assert_eq!(&p[6..8], &[0x40, 0x00], "DF kept, MF and offset cleared");
        let c = ipv4_header_checksum(&p[..20]);
        assert_eq!(&p[10..12], &c.to_be_bytes());
        assert!(rebuild_ipv4(&h[..19], &[]).is_none());
        assert!(rebuild_ipv4(&h, &vec![0u8; 65516]).is_none());
    }

    #[test]
    fn ipv6_fixups_without_and_with_ext_headers() {
        let mut h = vec![0x60, 0, 0, 0, 0xff, 0xff, 44, 64];
        h.extend_from_slice(&[1u8; 32]);
        let p = rebuild_ipv6(&h, 17, &[9u8; 20]).unwrap();
        assert_eq!(&p[4..6], &[0, 20]);
        assert_eq!(
            p[6], 17,
            "fixed header's next header now points past the fragment"
        );

        // Fixed header -> Hop-by-Hop (8 bytes) -> [fragment header removed].
        let mut h2 = h.clone();
        h2[6] = 0;
        h2.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        let p = rebuild_ipv6(&h2, 6, &[9u8; 20]).unwrap();
        assert_eq!(&p[4..6], &[0, 28]);
        assert_eq!(p[6], 0, "fixed header still points at hop-by-hop");
        assert_eq!(p[40], 6, "hop-by-hop's next header patched");
        assert_eq!(p.len(), 68);
    }
}
