//! Text forms of crafting values, shared by the spec format and the CLI.

use super::tcp_flags;
use super::{CraftError, MacAddr};

/// Parses TCP flags written the way scapy and tcpdump users write them:
/// letters (`"S"`, `"SA"`, `"PA"`, `"FA"`, `"R"`; F S R P A U E C N, any
/// case), names joined by `|`, `,`, `+` or spaces (`"SYN|ACK"`), or a
/// number (`"18"`, `"0x12"`). The empty string is no flags.
pub fn parse_tcp_flags(text: &str) -> Result<u16, CraftError> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u16::from_str_radix(hex, 16)
            .map_err(|e| CraftError::parse("TCP flags", text, e.to_string()));
    }
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return t
            .parse::<u16>()
            .map_err(|e| CraftError::parse("TCP flags", text, e.to_string()));
    }
    let words: Vec<&str> = t
        .split(|c: char| c == '|' || c == ',' || c == '+' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let mut flags = 0;
    for word in &words {
        let named = match word.to_ascii_uppercase().as_str() {
            "FIN" => Some(tcp_flags::FIN),
            "SYN" => Some(tcp_flags::SYN),
            "RST" => Some(tcp_flags::RST),
            "PSH" => Some(tcp_flags::PSH),
            "ACK" => Some(tcp_flags::ACK),
            "URG" => Some(tcp_flags::URG),
            "ECE" => Some(tcp_flags::ECE),
            "CWR" => Some(tcp_flags::CWR),
            "NS" => Some(tcp_flags::NS),
            _ => None,
        };
        if let Some(f) = named {
            flags |= f;
            continue;
        }
        for c in word.chars() {
            flags |= match c.to_ascii_uppercase() {
                'F' => tcp_flags::FIN,
                'S' => tcp_flags::SYN,
                'R' => tcp_flags::RST,
                'P' => tcp_flags::PSH,
                'A' => tcp_flags::ACK,
                'U' => tcp_flags::URG,
                'E' => tcp_flags::ECE,
                'C' => tcp_flags::CWR,
                'N' => tcp_flags::NS,
                other => {
                    return Err(CraftError::parse(
                        "TCP flags",
                        text,
                        format!(
                        "unknown flag {other:?}; use letters from FSRPAUECN or names like SYN|ACK"
                    ),
                    ))
                }
            };
        }
    }
    Ok(flags)
}

/// Parses hex bytes: pairs of hex digits, with any whitespace, `:` or `-`
/// between them ignored and an optional leading `0x` (`"de ad be ef"`,
/// `"de:ad:be:ef"`, `"0xdeadbeef"`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, CraftError> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    for c in t.chars() {
        if c.is_whitespace() || c == ':' || c == '-' {
            continue;
        }
        let Some(v) = c.to_digit(16) else {
            return Err(CraftError::parse(
                "hex bytes",
                text,
                format!("{c:?} is not a hex digit"),
            ));
        };
        let v = v as u8;
        match high.take() {
            Some(h) => out.push(h << 4 | v),
            None => high = Some(v),
        }
    }
    if high.is_some() {
        return Err(CraftError::parse(
            "hex bytes",
            text,
            "odd number of hex digits",
        ));
    }
    Ok(out)
}

/// Parses Snort/Suricata `content` syntax: text with hex bytes between
/// pipes, e.g. `"GET / HTTP/1.1|0d 0a|Host: x|0d 0a 0d 0a|"`. A literal
/// pipe is written `|7c|`, as in rules.
pub fn parse_content(text: &str) -> Result<Vec<u8>, CraftError> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        match rest.split_once('|') {
            None => {
                out.extend_from_slice(rest.as_bytes());
                return Ok(out);
            }
            Some((plain, after)) => {
                out.extend_from_slice(plain.as_bytes());
                let Some((hex, tail)) = after.split_once('|') else {
                    return Err(CraftError::parse(
                        "content",
                        text,
                        "unterminated |hex| block (write a literal pipe as |7c|)",
                    ));
                };
                out.extend(parse_hex(hex).map_err(|e| match e {
                    CraftError::Parse { why, .. } => {
                        CraftError::parse("content", text, format!("in |{hex}|: {why}"))
                    }
                    other => other,
                })?);
                rest = tail;
            }
        }
    }
}

/// Parses a MAC address written as six hex pairs separated by `:` or `-`.
pub fn parse_mac(text: &str) -> Result<MacAddr, CraftError> {
    let parts: Vec<&str> = text.trim().split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(CraftError::parse(
            "MAC address",
            text,
            "expected six hex pairs like 02:00:00:00:00:01",
        ));
    }
    let mut mac = [0u8; 6];
    for (slot, part) in mac.iter_mut().zip(&parts) {
        if part.is_empty() || part.len() > 2 {
            return Err(CraftError::parse(
                "MAC address",
                text,
                format!("{part:?} is not a hex pair"),
            ));
        }
        *slot = u8::from_str_radix(part, 16).map_err(|_| {
            CraftError::parse("MAC address", text, format!("{part:?} is not a hex pair"))
        })?;
    }
    Ok(mac)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::decode::tcp_flags::*;

    #[test]
    fn flags_in_every_spelling() {
        assert_eq!(parse_tcp_flags("S").unwrap(), SYN);
        assert_eq!(parse_tcp_flags("SA").unwrap(), SYN | ACK);
        assert_eq!(parse_tcp_flags("pa").unwrap(), PSH | ACK);
        assert_eq!(parse_tcp_flags("SYN|ACK").unwrap(), SYN | ACK);
        assert_eq!(parse_tcp_flags("fin, ack").unwrap(), FIN | ACK);
        assert_eq!(parse_tcp_flags("0x12").unwrap(), SYN | ACK);
        assert_eq!(parse_tcp_flags("18").unwrap(), SYN | ACK);
        assert_eq!(parse_tcp_flags("").unwrap(), 0);
        assert_eq!(parse_tcp_flags("FSRPAUECN").unwrap(), 0x1ff);
        let e = parse_tcp_flags("SX").unwrap_err().to_string();
        assert!(e.contains("'X'"), "{e}");
    }

    #[test]
    fn hex_and_content() {
        assert_eq!(
            parse_hex("de ad:BE-ef").unwrap(),
            vec![0xde, 0xad, 0xbe, 0xef]
        );
        assert_eq!(parse_hex("0x0102").unwrap(), vec![1, 2]);
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("abc").unwrap_err().to_string().contains("odd"));
        assert!(parse_hex("zz").is_err());
        assert_eq!(parse_content("A|0d 0a|B").unwrap(), b"A\r\nB".to_vec());
        assert_eq!(parse_content("|7c|").unwrap(), b"|".to_vec());
        assert_eq!(parse_content("plain").unwrap(), b"plain".to_vec());
        let e = parse_content("x|0d").unwrap_err().to_string();
        assert!(e.contains("unterminated"), "{e}");
        let e = parse_content("x|0g|").unwrap_err().to_string();
        assert!(e.contains("in |0g|"), "{e}");
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:00:00:00:00:0a").unwrap(), [2, 0, 0, 0, 0, 10]);
        assert_eq!(
            parse_mac("aa-bb-cc-dd-ee-ff").unwrap(),
            [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        );
        assert!(parse_mac("02:00:00:00:00").is_err());
        assert!(parse_mac("02:00:00:00:00:zz").is_err());
        assert!(parse_mac("02:00:00:00:00:123").is_err());
    }
}
