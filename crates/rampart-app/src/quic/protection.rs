//! Initial packet protection (RFC 9001 §5): the keys anyone can derive
//! from the client's first Destination Connection ID, header protection
//! removal and payload decryption.
//!
//! * Initial secrets (§5.2): `initial_secret = HKDF-Extract(salt, dcid)`
//!   with the version's salt, then `HKDF-Expand-Label(initial_secret,
//!   "client in" | "server in", "", 32)`.
//! * Packet protection keys (§5.1): `HKDF-Expand-Label(secret, "quic
//!   key" | "quic iv" | "quic hp", "", 16 | 12 | 16)` (`quicv2 ...` labels
//!   for QUIC v2, RFC 9369 §3.3.2). The AEAD is AES-128-GCM.
//! * Header protection (§5.4): a 16-byte sample of the ciphertext taken 4
//!   bytes after the packet number's start, enciphered with AES-128 (one
//!   ECB block), masks the low bits of the first byte (4 in a long
//!   header) and the packet number bytes.
//! * Payload (§5.3): the nonce is the IV XORed with the packet number,
//!   the associated data the unprotected header up to the packet number's
//!   end; the last 16 bytes are the tag.
//!
//! Both directions' keys come from the same connection ID, so seeing the
//! client's first Initial packet is enough to read both Initial flights.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

use super::packet::VERSION_2;

/// AES-128-GCM's tag length.
pub const TAG_LEN: usize = 16;
/// Header protection's sample length.
pub const SAMPLE_LEN: usize = 16;

/// The Initial salt of a version, or `None` when its Initial packets are
/// not protected this way (Google QUIC up to Q046) or unknown.
fn initial_salt(version: u32) -> Option<[u8; 20]> {
    Some(match version {
        // RFC 9001 §5.2 (also drafts 33 and 34).
        0x0000_0001 | 0xff00_0021..=0xff00_0022 => [
            0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
            0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
        ],
        // draft-ietf-quic-tls-29 to -32.
        0xff00_001d..=0xff00_0020 => [
            0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
            0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
        ],
        // draft-ietf-quic-tls-23 to -28, and Facebook's mvfst draft.
        0xff00_0017..=0xff00_001c | 0xface_b002 => [
            0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4,
            0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02,
        ],
        // QUIC v2 (RFC 9369 §3.3.1).
        VERSION_2 => [
            0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
            0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
        ],
        // Google QUIC Q050 (TLS-less, IETF-style protection).
        0x5130_3530 => [
            0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3,
            0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45,
        ],
        _ => return None,
    })
}

/// Whether Initial packets of `version` are protected with keys this
/// module can derive.
pub fn is_protected(version: u32) -> bool {
    initial_salt(version).is_some()
}

/// TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) with an empty context:
/// the info is the output length (2 bytes), the label with its `tls13 `
/// prefix (1-byte length first) and an empty context (one 0 byte).
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).ok()?];
    prk.expand_multi_info(&[&len, &label_len, b"tls13 ", label, &[0]], out)
        .ok()
}

/// One direction's Initial keys.
pub struct DirectionKeys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl std::fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectionKeys { .. }")
    }
}

/// Both directions' Initial keys of a connection.
#[derive(Debug)]
pub struct InitialKeys {
    /// Protects the client's Initial packets.
    pub client: DirectionKeys,
    /// Protects the server's Initial packets.
    pub server: DirectionKeys,
}

/// The Initial keys of a connection whose client first sent `dcid` as
/// Destination Connection ID, for `version` (`None` for versions whose
/// salt is unknown).
pub fn initial_keys(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
    let salt = initial_salt(version)?;
    let initial = Hkdf::<Sha256>::new(Some(&salt), dcid);
    let mut client = [0u8; 32];
    expand_label(&initial, b"client in", &mut client)?;
    let mut server = [0u8; 32];
    expand_label(&initial, b"server in", &mut server)?;
    Some(InitialKeys {
        client: DirectionKeys::from_secret(&client, version)?,
        server: DirectionKeys::from_secret(&server, version)?,
    })
}

/// A packet with its protection removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The full packet number.
    pub packet_number: u64,
    /// The decrypted frames.
    pub plaintext: Vec<u8>,
}

impl DirectionKeys {
    fn from_secret(secret: &[u8; 32], version: u32) -> Option<DirectionKeys> {
        let prk = Hkdf::<Sha256>::from_prk(secret).ok()?;
        let v2 = version == VERSION_2;
        let mut key = [0u8; 16];
        expand_label(&prk, if v2 { b"quicv2 key" } else { b"quic key" }, &mut key)?;
        let mut iv = [0u8; 12];
        expand_label(&prk, if v2 { b"quicv2 iv" } else { b"quic iv" }, &mut iv)?;
        let mut hp = [0u8; 16];
        expand_label(&prk, if v2 { b"quicv2 hp" } else { b"quic hp" }, &mut hp)?;
        Some(DirectionKeys {
            aead: Aes128Gcm::new_from_slice(&key).ok()?,
            iv,
            hp: Aes128::new_from_slice(&hp).ok()?,
        })
    }

    /// The header protection mask for a 16-byte `sample`.
    fn mask(&self, sample: &[u8]) -> Option<[u8; 16]> {
        let block: [u8; 16] = sample.try_into().ok()?;
        let mut block = aes::Block::from(block);
        self.hp.encrypt_block(&mut block);
        Some(block.into())
    }

    fn nonce(&self, packet_number: u64) -> Nonce<Aes128Gcm> {
        let mut nonce = self.iv;
        for (n, p) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *n ^= p;
        }
        Nonce::<Aes128Gcm>::from(nonce)
    }

    /// Removes the protection of the long-header packet `packet` (its
    /// first byte to the end of its payload), whose packet number starts
    /// at `pn_offset`; `largest` is the largest packet number received so
    /// far in that direction. `None` when the packet is too short to
    /// sample or does not authenticate.
    pub fn open(&self, packet: &[u8], pn_offset: usize, largest: Option<u64>) -> Option<Opened> {
        let sample = packet.get(pn_offset + 4..pn_offset + 4 + SAMPLE_LEN)?;
        let mask = self.mask(sample)?;
        let &first = packet.first()?;
        let bits = if first & 0x80 != 0 { 0x0f } else { 0x1f };
        let first = first ^ (mask.first()? & bits);
        let pn_len = usize::from(first & 0x03) + 1;
        let mut header = packet.get(..pn_offset + pn_len)?.to_vec();
        *header.first_mut()? = first;
        let mut truncated = 0u64;
        for (b, m) in header.iter_mut().skip(pn_offset).zip(mask.iter().skip(1)) {
            *b ^= m;
            truncated = truncated << 8 | u64::from(*b);
        }
        let packet_number = super::packet::decode_packet_number(largest, truncated, pn_len);
        let body = packet.get(pn_offset + pn_len..)?;
        let split = body.len().checked_sub(TAG_LEN)?;
        let (ciphertext, tag) = body.split_at(split);
        let mut plaintext = ciphertext.to_vec();
        let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
        self.aead
            .decrypt_inout_detached(
                &self.nonce(packet_number),
                &header,
                plaintext.as_mut_slice().into(),
                &Tag::<Aes128Gcm>::from(tag),
            )
            .ok()?;
        Some(Opened {
            packet_number,
            plaintext,
        })
    }

    /// Protects a long-header packet: `header` ends with a packet number
    /// of `header[0] & 3 + 1` bytes (the Length field before it must
    /// already count the payload and the tag), `payload` holds the
    /// frames. The inverse of [`DirectionKeys::open`], for tests and for
    /// crafting captures.
    pub fn seal(&self, header: &[u8], packet_number: u64, payload: &[u8]) -> Option<Vec<u8>> {
        let &first = header.first()?;
        let pn_len = usize::from(first & 0x03) + 1;
        let pn_offset = header.len().checked_sub(pn_len)?;
        let mut body = payload.to_vec();
        let tag = self
            .aead
            .encrypt_inout_detached(
                &self.nonce(packet_number),
                header,
                body.as_mut_slice().into(),
            )
            .ok()?;
        let mut out = header.to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(tag.as_slice());
        let mask = self.mask(out.get(pn_offset + 4..pn_offset + 4 + SAMPLE_LEN)?)?;
        let bits = if first & 0x80 != 0 { 0x0f } else { 0x1f };
        *out.first_mut()? ^= mask.first()? & bits;
        for (b, m) in out
            .iter_mut()
            .skip(pn_offset)
            .take(pn_len)
            .zip(mask.iter().skip(1))
        {
            *b ^= m;
        }
        Some(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const DCID: &str = "8394c8f03e515708";

    /// RFC 9001 §A.1: the keys of the example connection.
    #[test]
    fn rfc9001_appendix_a1_keys() {
        let salt = initial_salt(1).unwrap();
        let initial = Hkdf::<Sha256>::new(Some(&salt), &hex(DCID));
        let mut client = [0u8; 32];
        expand_label(&initial, b"client in", &mut client).unwrap();
        assert_eq!(
            client.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c4 2d6b7db67881289af4008f1f6c357aea")
        );
        let prk = Hkdf::<Sha256>::from_prk(&client).unwrap();
        let mut key = [0u8; 16];
        expand_label(&prk, b"quic key", &mut key).unwrap();
        assert_eq!(key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        let mut iv = [0u8; 12];
        expand_label(&prk, b"quic iv", &mut iv).unwrap();
        assert_eq!(iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        let mut hp = [0u8; 16];
        expand_label(&prk, b"quic hp", &mut hp).unwrap();
        assert_eq!(hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    /// RFC 9001 §A.2: the client Initial's header protection mask for
    /// its sample.
    #[test]
    fn rfc9001_appendix_a2_header_mask() {
        let keys = initial_keys(1, &hex(DCID)).unwrap();
        let mask = keys
            .client
            .mask(&hex("d1b1c98dd7689fb8ec11d242b123dc9b"))
            .unwrap();
        assert_eq!(mask[..5].to_vec(), hex("437b9aec36"));
    }

    #[test]
    fn seal_then_open_round_trips_and_tampering_fails() {
        let keys = initial_keys(1, &hex(DCID)).unwrap();
        let payload = [6u8, 0, 4, 1, 2, 3, 4].repeat(10);
        // Long header, Initial, 2-byte packet number, Length = 2 + 70 + 16.
        let mut header = vec![0xc1, 0, 0, 0, 1, 8];
        header.extend_from_slice(&hex(DCID));
        header.extend_from_slice(&[0, 0, 0x40, 88, 0, 7]);
        let sealed = keys.server.seal(&header, 7, &payload).unwrap();
        let pn_offset = header.len() - 2;
        let opened = keys.server.open(&sealed, pn_offset, None).unwrap();
        assert_eq!(opened.packet_number, 7);
        assert_eq!(opened.plaintext, payload);
        // The client's keys do not open it; a flipped bit neither.
        assert!(keys.client.open(&sealed, pn_offset, None).is_none());
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert!(keys.server.open(&bad, pn_offset, None).is_none());
        // Too short to sample.
        assert!(keys
            .server
            .open(&sealed[..pn_offset + 10], pn_offset, None)
            .is_none());
    }

    #[test]
    fn unknown_versions_have_no_keys() {
        assert!(initial_keys(0x5130_3433, b"x").is_none());
        assert!(initial_keys(0x0a0a_0a0a, b"x").is_none());
        assert!(is_protected(0xff00_001d) && is_protected(VERSION_2));
    }
}
