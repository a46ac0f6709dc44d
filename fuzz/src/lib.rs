//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! The targets turn libFuzzer's byte string into structured operations with
//! a tiny hand-rolled reader rather than `arbitrary`, so that the input
//! formats are stable, documented (README.md) and easy to write seeds for
//! (`make_seeds.py`).

/// A cursor over the fuzzer's input. Reads past the end yield zeros (and
/// empty slices), so every input decodes to *some* operation sequence.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes left.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian (missing bytes read as 0).
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, little-endian (missing bytes read as 0).
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Synthetic payload bytes that depend only on the absolute position of
/// the byte (offset in a datagram, or sequence number in a stream) and a
/// fill byte, so that overlapping pieces generated with the same `fill`
/// and `rolling` agree byte for byte (retransmissions, duplicate
/// fragments) and pieces with different ones disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// The fill byte.
    pub fill: u8,
    /// `false`: every byte is `fill`; `true`: byte at position `p` is
    /// `p as u8 + fill`.
    pub rolling: bool,
}

impl Pattern {
    /// The byte at absolute position `pos`.
    pub fn byte_at(self, pos: u64) -> u8 {
        if self.rolling {
            (pos as u8).wrapping_add(self.fill)
        } else {
            self.fill
        }
    }

    /// `len` bytes starting at absolute position `pos`.
    pub fn generate(self, pos: u64, len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| self.byte_at(pos.wrapping_add(i)))
            .collect()
    }
}
