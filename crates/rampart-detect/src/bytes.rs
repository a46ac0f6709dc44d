//! Reading numbers out of a buffer: the shared core of byte_test,
//! byte_jump, byte_extract and byte_math.

/// How the bytes of a number are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberFormat {
    /// Binary, big-endian (the default).
    BigEndian,
    /// Binary, little-endian.
    LittleEndian,
    /// Binary, in the byte order of the DCERPC stub data being inspected
    /// (the `dce` option of the byte keywords); big-endian elsewhere, as
    /// in Suricata. The evaluator resolves it per transaction.
    Dce,
    /// ASCII digits in base 8, 10 or 16.
    String(u32),
}

/// Reads `nbytes` at `at` in `buf` as a number.
///
/// Binary numbers are at most 8 bytes; string numbers at most 20 digits
/// (the widest u64). Returns `None` when the bytes are out of range or not
/// a number, which every byte_* keyword treats as "no match".
pub fn read_number(buf: &[u8], at: usize, nbytes: usize, format: NumberFormat) -> Option<u64> {
    let end = at.checked_add(nbytes)?;
    let bytes = buf.get(at..end)?;
    match format {
        NumberFormat::BigEndian | NumberFormat::Dce if nbytes <= 8 => {
            Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }
        NumberFormat::LittleEndian if nbytes <= 8 => Some(
            bytes
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        ),
        NumberFormat::String(base) if nbytes <= 20 => {
            let s = std::str::from_utf8(bytes).ok()?;
            // Like strtoul: leading whitespace, then digits up to the first
            // non-digit; at least one digit.
            let s = s.trim_start();
            let digits: &str = {
                let end = s
                    .char_indices()
                    .find(|(_, c)| !c.is_digit(base))
                    .map(|(i, _)| i)
                    .unwrap_or(s.len());
                s.get(..end)?
            };
            if digits.is_empty() {
                return None;
            }
            u64::from_str_radix(digits, base).ok()
        }
        _ => None,
    }
}

/// A comparison operator of byte_test and friends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `=`
    Eq,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `&` (any bit of the value set)
    And,
    /// `^` (xor non-zero)
    Xor,
}

impl CmpOp {
    /// Applies the operator: `lhs OP rhs`.
    pub fn apply(self, lhs: u64, rhs: u64) -> bool {
        match self {
            CmpOp::Lt => lhs < rhs,
            CmpOp::Gt => lhs > rhs,
            CmpOp::Eq => lhs == rhs,
            CmpOp::Le => lhs <= rhs,
            CmpOp::Ge => lhs >= rhs,
            CmpOp::And => lhs & rhs != 0,
            CmpOp::Xor => lhs ^ rhs != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_string_numbers() {
        let b = [0x01, 0x02, 0x03, 0x04];
        assert_eq!(read_number(&b, 0, 2, NumberFormat::BigEndian), Some(0x0102));
        assert_eq!(
            read_number(&b, 1, 3, NumberFormat::LittleEndian),
            Some(0x040302)
        );
        assert_eq!(read_number(&b, 3, 2, NumberFormat::BigEndian), None);
        assert_eq!(
            read_number(b"  123x", 0, 6, NumberFormat::String(10)),
            Some(123)
        );
        assert_eq!(
            read_number(b"ff", 0, 2, NumberFormat::String(16)),
            Some(255)
        );
        assert_eq!(read_number(b"xyz", 0, 3, NumberFormat::String(10)), None);
        assert_eq!(read_number(&[0; 9], 0, 9, NumberFormat::BigEndian), None);
    }

    #[test]
    fn operators() {
        assert!(CmpOp::Lt.apply(1, 2));
        assert!(CmpOp::And.apply(0b110, 0b010));
        assert!(!CmpOp::And.apply(0b100, 0b010));
        assert!(CmpOp::Xor.apply(1, 2));
        assert!(!CmpOp::Xor.apply(2, 2));
    }
}
