//! The Internet checksum (RFC 1071) and the IP pseudo-headers it covers.

use std::net::IpAddr;

/// An incremental ones' complement sum that accepts data in pieces of any
/// length, as if the pieces were one contiguous buffer.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Checksum {
    sum: u64,
    /// The high byte of a 16-bit word whose low byte is still to come.
    odd: Option<u8>,
}

impl Checksum {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn add(&mut self, data: &[u8]) -> &mut Self {
        let mut rest = data;
        if let Some(hi) = self.odd.take() {
            match rest.split_first() {
                Some((lo, tail)) => {
                    self.sum += u64::from(u16::from_be_bytes([hi, *lo]));
                    rest = tail;
                }
                None => {
                    self.odd = Some(hi);
                    return self;
                }
            }
        }
        let mut chunks = rest.chunks_exact(2);
        for c in &mut chunks {
            if let [a, b] = c {
                self.sum += u64::from(u16::from_be_bytes([*a, *b]));
            }
        }
        if let [last] = chunks.remainder() {
            self.odd = Some(*last);
        }
        self
    }

    pub(crate) fn add_u16(&mut self, v: u16) -> &mut Self {
        self.add(&v.to_be_bytes())
    }

    pub(crate) fn add_u32(&mut self, v: u32) -> &mut Self {
        self.add(&v.to_be_bytes())
    }

    /// Adds the pseudo-header of RFC 793 (IPv4) or RFC 8200 section 8.1
    /// (IPv6) for an upper-layer packet of `len` bytes.
    pub(crate) fn add_pseudo_header(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        len: u32,
    ) -> &mut Self {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                self.add(&s.octets()).add(&d.octets());
                self.add(&[0, proto]);
                // The IPv4 pseudo-header has a 16-bit length; longer
                // packets cannot exist, the builder rejects them earlier.
                self.add_u16(len as u16)
            }
            _ => {
                let s = match src {
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                    IpAddr::V6(a) => a,
                };
                let d = match dst {
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                    IpAddr::V6(a) => a,
                };
                self.add(&s.octets()).add(&d.octets());
                self.add_u32(len);
                self.add(&[0, 0, 0, proto])
            }
        }
    }

    /// The checksum to write into a header: the complement of the folded sum.
    pub(crate) fn finish(&self) -> u16 {
        let mut sum = self.sum;
        if let Some(hi) = self.odd {
            sum += u64::from(u16::from_be_bytes([hi, 0]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}

/// The checksum of one contiguous buffer.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    Checksum::new().add(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these bytes is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn pieces_equal_whole() {
        let data: Vec<u8> = (0u8..=200).collect();
        let whole = checksum(&data);
        for split in [0, 1, 2, 3, 7, 100, 201] {
            let (a, b) = data.split_at(split);
            let mut c = Checksum::new();
            c.add(a).add(&[]).add(b);
            assert_eq!(c.finish(), whole, "split at {split}");
        }
    }

    #[test]
    fn known_ipv4_header() {
        // A header from Wikipedia's "IPv4 header checksum" example.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&hdr), 0xb861);
    }
}
