//! A file's type as libmagic describes it (`file.magic`, `filemagic`),
//! for the common types only.
//!
//! Suricata asks libmagic. Linking libmagic would put a native library
//! and its database into the default build, so the types attackers and
//! rules care about most are recognised here from their signatures, with
//! the start of libmagic's description (`PDF document, version 1.5`,
//! `PE32 executable`, `Zip archive data`). Rules match these as caseless
//! substrings, so the start is what matters; unknown types have no magic,
//! as when libmagic has no answer.

/// How many leading bytes of a file decide its type here.
pub const MAGIC_HEAD: usize = 512;

/// libmagic's description of a file starting with `head`, when its type
/// is one of the recognised ones.
pub fn describe(head: &[u8]) -> Option<String> {
    let starts = |p: &[u8]| head.starts_with(p);
    if starts(b"%PDF-") {
        let version: String = head
            .get(5..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .take(8)
            .map(|&b| char::from(b))
            .collect();
        return Some(format!("PDF document, version {version}"));
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        let be = |i: usize| {
            head.get(i..i + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
        };
        return Some(match (be(16), be(20)) {
            (Some(w), Some(h)) => format!("PNG image data, {w} x {h}"),
            _ => "PNG image data".to_string(),
        });
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        let version = if starts(b"GIF87a") { "87a" } else { "89a" };
        let le = |i: usize| {
            head.get(i..i + 2)
                .and_then(|b| <[u8; 2]>::try_from(b).ok())
                .map(u16::from_le_bytes)
        };
        return Some(match (le(6), le(8)) {
            (Some(w), Some(h)) => format!("GIF image data, version {version}, {w} x {h}"),
            _ => format!("GIF image data, version {version}"),
        });
    }
    if starts(b"\xff\xd8\xff") {
        return Some("JPEG image data".to_string());
    }
    if starts(b"PK\x03\x04") {
        return Some("Zip archive data".to_string());
    }
    if starts(b"\x1f\x8b") {
        return Some("gzip compressed data".to_string());
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Some("7-zip archive data".to_string());
    }
    if starts(b"Rar!\x1a\x07") {
        return Some("RAR archive data".to_string());
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Some("Composite Document File V2 Document".to_string());
    }
    if starts(b"\xca\xfe\xba\xbe") {
        return Some("compiled Java class data".to_string());
    }
    if starts(b"\x7fELF") {
        let bits = match head.get(4) {
            Some(1) => "32-bit",
            Some(2) => "64-bit",
            _ => return Some("ELF".to_string()),
        };
        let order = match head.get(5) {
            Some(2) => "MSB",
            _ => "LSB",
        };
        return Some(format!("ELF {bits} {order}"));
    }
    if starts(b"MZ") {
        return Some(windows_executable(head).to_string());
    }
    None
}

/// `PE32`/`PE32+` when the DOS header points at a PE header within the
/// bytes at hand, else the plain DOS description.
fn windows_executable(head: &[u8]) -> &'static str {
    let pe = head
        .get(0x3c..0x40)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .filter(|&at| head.get(at..at + 4) == Some(b"PE\0\0"));
    let Some(at) = pe else {
        return "MS-DOS executable";
    };
    // The optional header's magic follows the 20-byte file header.
    match head.get(at + 24..at + 26) {
        Some([0x0b, 0x02]) => "PE32+ executable",
        _ => "PE32 executable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types() {
        assert_eq!(
            describe(b"%PDF-1.5\n%\xe2\xe3").as_deref(),
            Some("PDF document, version 1.5")
        );
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&16u32.to_be_bytes());
        png.extend_from_slice(&32u32.to_be_bytes());
        assert_eq!(describe(&png).as_deref(), Some("PNG image data, 16 x 32"));
        assert_eq!(
            describe(b"GIF89a\x01\x00\x02\x00").as_deref(),
            Some("GIF image data, version 89a, 1 x 2")
        );
        assert_eq!(
            describe(b"\x7fELF\x02\x01\x01").as_deref(),
            Some("ELF 64-bit LSB")
        );
        assert_eq!(describe(b"hello"), None);
        assert_eq!(describe(b""), None);
    }

    #[test]
    fn windows_executables() {
        let mut pe = vec![0u8; 0x100];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x98..0x9a].copy_from_slice(&[0x0b, 0x01]);
        assert_eq!(describe(&pe).as_deref(), Some("PE32 executable"));
        pe[0x98..0x9a].copy_from_slice(&[0x0b, 0x02]);
        assert_eq!(describe(&pe).as_deref(), Some("PE32+ executable"));
        // A PE offset past the bytes at hand (or garbage) is plain DOS.
        pe[0x3c] = 0xff;
        pe[0x3d] = 0xff;
        assert_eq!(describe(&pe).as_deref(), Some("MS-DOS executable"));
    }
}
