//! Kerberos 5 (RFC 4120) as Suricata 7 reads it: AS and TGS requests and
//! replies and KRB-ERROR messages, over UDP (one message per datagram) and
//! TCP (each message behind a 4-byte record mark), every message its own
//! transaction.
//!
//! The ASN.1 (DER) decoding is the `kerberos-parser` crate's, the one
//! Suricata uses, so that names and encryption types read and print the
//! same (`aes256-cts-hmac-sha1-96`, `KDC_ERR_PREAUTH_REQUIRED`). This
//! module adds what an IDS needs around it: protocol probing, TCP record
//! framing with a size bound, transactions with Suricata's fields, and
//! events instead of errors (`app-layer-event:krb5.malformed_data`,
//! `krb5.weak_encryption`).
//!
//! Like Suricata, AP-REQ and AP-REP messages make no transaction (they are
//! only remembered as the last request for a following error), and a
//! request or reply that does not decode makes none either; a message
//! whose outer header does not decode raises `malformed_data` on the last
//! transaction.

use std::collections::VecDeque;

use asn1_rs::{Class, FromDer, Header};
use kerberos_parser::krb5::KrbError;
use kerberos_parser::krb5_parser;

/// The decoder's types that transactions hold (re-exported so that users
/// need no dependency of their own).
pub use kerberos_parser::krb5::{EncryptionType, ErrorCode, MessageType, PrincipalName};

/// The Kerberos port (Suricata's default for UDP and TCP).
pub const KRB5_PORT: u16 = 88;

/// The largest TCP record accepted (the record mark's length): larger
/// records are not buffered; the direction is no longer parsed and
/// `malformed_data` is raised. Kerberos messages carrying a PAC stay well
/// below this (Windows caps tokens at 64 KiB).
pub const MAX_RECORD_LEN: usize = 256 * 1024;

/// Records larger than this make [`probe_tcp`] say no (Suricata's bound
/// for protocol detection: "implementations forbid very large requests").
pub const MAX_PROBE_RECORD_LEN: u32 = 16384;

/// Transactions held per flow at most; the oldest is dropped beyond.
pub const MAX_TRANSACTIONS: usize = 256;

/// Which way a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Krb5Direction {
    /// Client to server (requests).
    ToServer,
    /// Server to client (replies and errors).
    ToClient,
}

impl Krb5Direction {
    fn index(self) -> usize {
        match self {
            Krb5Direction::ToServer => 0,
            Krb5Direction::ToClient => 1,
        }
    }
}

/// Suricata's KRB5 events (`app-layer-event:krb5.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Krb5Anomaly {
    /// A message whose outer ASN.1 header does not decode, an empty or
    /// oversized TCP record.
    MalformedData,
    /// A reply whose encrypted part uses a weak cipher (see
    /// [`is_weak_encryption`]).
    WeakEncryption,
}

impl Krb5Anomaly {
    /// The event name rules use.
    pub fn event_name(self) -> &'static str {
        match self {
            Krb5Anomaly::MalformedData => "malformed_data",
            Krb5Anomaly::WeakEncryption => "weak_encryption",
        }
    }
}

/// The `app-layer-event:krb5.<name>` names this parser raises.
pub const KRB5_EVENTS: &[&str] = &["malformed_data", "weak_encryption"];

/// One Kerberos message, with the fields Suricata keeps.
#[derive(Debug)]
pub struct Krb5Transaction {
    /// Id in its flow, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// Which way the message travelled.
    pub direction: Krb5Direction,
    /// The message type (10 AS-REQ, 11 AS-REP, 12 TGS-REQ, 13 TGS-REP,
    /// 30 KRB-ERROR).
    pub msg_type: MessageType,
    /// The client's name: a request's `cname` (AS-REQ only), a reply's,
    /// an error's when given.
    pub cname: Option<PrincipalName>,
    /// The realm: a request's (server's) realm, a reply's or an error's
    /// client realm.
    pub realm: Option<String>,
    /// The service name: a request's `sname`, a reply's ticket's, an
    /// error's.
    pub sname: Option<PrincipalName>,
    /// A reply's encrypted-part cipher.
    pub etype: Option<EncryptionType>,
    /// A reply's ticket cipher (what Kerberoasting looks for).
    pub ticket_etype: Option<EncryptionType>,
    /// An error's code.
    pub error_code: Option<ErrorCode>,
    /// An error's request type, when the message before it in the flow
    /// was a request (AS-REQ, TGS-REQ or AP-REQ).
    pub req_type: Option<MessageType>,
    /// Events raised on this transaction.
    pub anomalies: Vec<Krb5Anomaly>,
}

impl Krb5Transaction {
    fn new(id: u64, direction: Krb5Direction, msg_type: MessageType) -> Self {
        Krb5Transaction {
            id,
            direction,
            msg_type,
            cname: None,
            realm: None,
            sname: None,
            etype: None,
            ticket_etype: None,
            error_code: None,
            req_type: None,
            anomalies: Vec::new(),
        }
    }

    /// Whether the event `name` was raised on this transaction.
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
    }
}

/// Whether an encryption type is weak: everything but the AES and
/// Camellia CTS ciphers (Suricata's `test_weak_encryption`).
pub fn is_weak_encryption(e: EncryptionType) -> bool {
    !matches!(
        e,
        EncryptionType::AES128_CTS_HMAC_SHA1_96
            | EncryptionType::AES256_CTS_HMAC_SHA1_96
            | EncryptionType::AES128_CTS_HMAC_SHA256_128
            | EncryptionType::AES256_CTS_HMAC_SHA384_192
            | EncryptionType::CAMELLIA128_CTS_CMAC
            | EncryptionType::CAMELLIA256_CTS_CMAC
    )
}

/// The name of an encryption type as Suricata logs it and rules write it
/// (`rc4-hmac`; `EncryptionType(N)` for unnamed values).
pub fn encryption_name(e: EncryptionType) -> String {
    format!("{e:?}")
}

/// The encryption type a `krb5.ticket_encryption` name stands for (the
/// names [`encryption_name`] prints, case as written there).
pub fn encryption_by_name(name: &str) -> Option<EncryptionType> {
    // Every named value prints its name: search them.
    const NAMED: &[i32] = &[
        1, 2, 3, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23, 24, 25, 26, 65, -128,
        -129, -130, -131, -132, -133, -134, -135, -136, -140, -141,
    ];
    NAMED
        .iter()
        .map(|&v| EncryptionType(v))
        .find(|&e| encryption_name(e) == name)
}

/// The name of a message type as Suricata logs it (`KRB_AS_REQ`).
pub fn msg_type_name(t: MessageType) -> String {
    format!("{t:?}")
}

/// The name of an error code as Suricata logs it
/// (`KDC_ERR_PREAUTH_REQUIRED`).
pub fn error_code_name(c: ErrorCode) -> String {
    format!("{c:?}")
}

/// Whether a UDP datagram (or a TCP record's message) looks like Kerberos:
/// an APPLICATION tag up to 30 around a SEQUENCE whose first field is the
/// protocol version 5 (Suricata's probing parser).
pub fn probe(msg: &[u8]) -> bool {
    if msg.len() <= 10 {
        return false;
    }
    let Ok((rem, hdr)) = Header::from_der(msg) else {
        return false;
    };
    if hdr.class() != Class::Application || hdr.tag().0 > 30 {
        return false;
    }
    if rem.first() != Some(&0x30) {
        return false;
    }
    let Ok((rem, _)) = Header::from_der(rem) else {
        return false;
    };
    // After the context tag of the first field ([0] or [1], two bytes):
    // INTEGER, length 1, value 5.
    rem.len() > 5 && rem.get(2..5) == Some(&[2, 1, 5][..])
}

/// [`probe`] for the first bytes of a TCP direction: a record mark no
/// larger than [`MAX_PROBE_RECORD_LEN`], then a Kerberos message.
pub fn probe_tcp(data: &[u8]) -> bool {
    if data.len() <= 14 {
        return false;
    }
    let Some(&[a, b, c, d]) = data.get(..4) else {
        return false;
    };
    u32::from_be_bytes([a, b, c, d]) <= MAX_PROBE_RECORD_LEN && data.get(4..).is_some_and(probe)
}

/// One direction's TCP record framing.
#[derive(Debug, Default)]
struct RecordFramer {
    buf: Vec<u8>,
    /// The stream can no longer be framed (an oversized record).
    lost: bool,
}

/// The Kerberos state of one flow.
#[derive(Debug, Default)]
pub struct Krb5State {
    txs: VecDeque<Krb5Transaction>,
    next_id: u64,
    /// The type of the last request seen (AS-REQ, TGS-REQ, AP-REQ), for
    /// the next error's `req_type`; cleared by replies.
    last_request: Option<MessageType>,
    framers: [RecordFramer; 2],
    /// Malformed messages that had no transaction to carry the event.
    pub malformed_unattached: u64,
    /// Transactions dropped because the flow held too many.
    pub dropped: u64,
}

impl Krb5State {
    /// An empty state.
    pub fn new() -> Self {
        Krb5State::default()
    }

    /// Parses one message (a UDP datagram's payload or a TCP record) and
    /// appends the id of the transaction it made, if any, to `ready`.
    pub fn parse(&mut self, dir: Krb5Direction, msg: &[u8], ready: &mut Vec<u64>) {
        let Ok((_, hdr)) = Header::from_der(msg) else {
            self.flag_last(Krb5Anomaly::MalformedData);
            return;
        };
        // Kerberos messages start with an APPLICATION tag; others are
        // ignored, as by Suricata.
        if hdr.class() != Class::Application {
            return;
        }
        let tx = match hdr.tag().0 {
            10 | 12 => {
                let (t, parsed) = if hdr.tag().0 == 10 {
                    (MessageType::KRB_AS_REQ, krb5_parser::parse_as_req(msg))
                } else {
                    (MessageType::KRB_TGS_REQ, krb5_parser::parse_tgs_req(msg))
                };
                self.last_request = Some(t);
                parsed.ok().map(|(_, req)| {
                    let mut tx = self.new_tx(dir, t);
                    tx.cname = req.req_body.cname;
                    tx.realm = Some(req.req_body.realm.0);
                    tx.sname = req.req_body.sname;
                    tx
                })
            }
            11 | 13 => {
                let (t, parsed) = if hdr.tag().0 == 11 {
                    (MessageType::KRB_AS_REP, krb5_parser::parse_as_rep(msg))
                } else {
                    (MessageType::KRB_TGS_REP, krb5_parser::parse_tgs_rep(msg))
                };
                self.last_request = None;
                parsed.ok().map(|(_, rep)| {
                    let mut tx = self.new_tx(dir, t);
                    tx.cname = Some(rep.cname);
                    tx.realm = Some(rep.crealm.0);
                    tx.sname = Some(rep.ticket.sname);
                    tx.ticket_etype = Some(rep.ticket.enc_part.etype);
                    tx.etype = Some(rep.enc_part.etype);
                    if is_weak_encryption(rep.enc_part.etype) {
                        tx.anomalies.push(Krb5Anomaly::WeakEncryption);
                    }
                    tx
                })
            }
            14 => {
                self.last_request = Some(MessageType::KRB_AP_REQ);
                None
            }
            15 => {
                self.last_request = None;
                None
            }
            30 => {
                let req_type = self.last_request.take();
                KrbError::from_der(msg).ok().map(|(_, err)| {
                    let mut tx = self.new_tx(dir, MessageType::KRB_ERROR);
                    tx.req_type = req_type;
                    tx.cname = err.cname;
                    tx.realm = err.crealm.map(|r| r.0);
                    tx.sname = Some(err.sname);
                    tx.error_code = Some(err.error_code);
                    tx
                })
            }
            _ => None,
        };
        if let Some(tx) = tx {
            ready.push(tx.id);
            if self.txs.len() >= MAX_TRANSACTIONS {
                self.txs.pop_front();
                self.dropped += 1;
            }
            self.txs.push_back(tx);
        }
    }

    /// Feeds in-order TCP stream data of one direction: each complete
    /// record is parsed (several per segment, or one over many). An empty
    /// record raises `malformed_data`; a record longer than
    /// [`MAX_RECORD_LEN`] does too, and the direction is not parsed any
    /// more.
    pub fn feed_tcp(&mut self, dir: Krb5Direction, data: &[u8], ready: &mut Vec<u64>) {
        let Some(framer) = self.framers.get_mut(dir.index()) else {
            return;
        };
        if framer.lost {
            return;
        }
        let mut buf = std::mem::take(&mut framer.buf);
        buf.extend_from_slice(data);
        let mut start = 0usize;
        let mut lost = false;
        while let Some(&[a, b, c, d]) = buf.get(start..start + 4) {
            let len = u32::from_be_bytes([a, b, c, d]) as usize;
            if len > MAX_RECORD_LEN {
                self.flag_last(Krb5Anomaly::MalformedData);
                lost = true;
                break;
            }
            let Some(record) = buf.get(start + 4..start + 4 + len) else {
                break;
            };
            if record.is_empty() {
                self.flag_last(Krb5Anomaly::MalformedData);
            } else {
                self.parse(dir, record, ready);
            }
            start += 4 + len;
        }
        if let Some(framer) = self.framers.get_mut(dir.index()) {
            if lost {
                framer.lost = true;
            } else {
                buf.drain(..start.min(buf.len()));
                framer.buf = buf;
            }
        }
    }

    fn new_tx(&mut self, dir: Krb5Direction, t: MessageType) -> Krb5Transaction {
        let id = self.next_id;
        self.next_id += 1;
        Krb5Transaction::new(id, dir, t)
    }

    /// Raises an event on the last transaction (Suricata's `set_event`).
    fn flag_last(&mut self, a: Krb5Anomaly) {
        match self.txs.back_mut() {
            Some(tx) => {
                if !tx.anomalies.contains(&a) {
                    tx.anomalies.push(a);
                }
            }
            None => self.malformed_unattached += 1,
        }
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&Krb5Transaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Frees the transactions before `id` (those inspected).
    pub fn remove_before(&mut self, id: u64) {
        self.txs.retain(|t| t.id >= id);
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether no transaction is held.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// DER helpers to build messages by hand from RFC 4120's ASN.1.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend_from_slice(&[0x81, n as u8]);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }
    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    fn ctx(n: u8, inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0 | n, &inner)
    }
    fn int(v: i64) -> Vec<u8> {
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 7
            && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
                || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
        {
            start += 1;
        }
        tlv(0x02, &bytes[start..])
    }
    fn kstr(s: &str) -> Vec<u8> {
        tlv(0x1b, s.as_bytes())
    }
    fn principal(t: i64, parts: &[&str]) -> Vec<u8> {
        seq(&[
            ctx(0, int(t)),
            ctx(1, seq(&parts.iter().map(|p| kstr(p)).collect::<Vec<_>>())),
        ])
    }
    fn time() -> Vec<u8> {
        tlv(0x18, b"20370913024805Z")
    }
    fn enc(etype: i64) -> Vec<u8> {
        seq(&[
            ctx(0, int(etype)),
            ctx(2, tlv(0x04, &[0xde, 0xad, 0xbe, 0xef])),
        ])
    }

    /// An AS-REQ (APPLICATION 10) for `robin@CYLERA.LAB` asking for
    /// `krbtgt/CYLERA.LAB`.
    pub(crate) fn as_req() -> Vec<u8> {
        let body = seq(&[
            ctx(0, tlv(0x03, &[0, 0x40, 0x81, 0, 0x10])),
            ctx(1, principal(1, &["robin"])),
            ctx(2, kstr("CYLERA.LAB")),
            ctx(3, principal(2, &["krbtgt", "CYLERA.LAB"])),
            ctx(5, time()),
            ctx(7, int(12345)),
            ctx(8, seq(&[int(18), int(23)])),
        ]);
        tlv(0x6a, &seq(&[ctx(1, int(5)), ctx(2, int(10)), ctx(4, body)]))
    }

    /// A TGS-REP (APPLICATION 13) whose ticket is RC4 and whose own
    /// encrypted part is `enc_etype`.
    pub(crate) fn tgs_rep(enc_etype: i64) -> Vec<u8> {
        let ticket = tlv(
            0x61,
            &seq(&[
                ctx(0, int(5)),
                ctx(1, kstr("CYLERA.LAB")),
                ctx(2, principal(2, &["http", "web01"])),
                ctx(3, enc(23)),
            ]),
        );
        tlv(
            0x6d,
            &seq(&[
                ctx(0, int(5)),
                ctx(1, int(13)),
                ctx(3, kstr("CYLERA.LAB")),
                ctx(4, principal(1, &["robin"])),
                ctx(5, ticket),
                ctx(6, enc(enc_etype)),
            ]),
        )
    }

    /// A KRB-ERROR (APPLICATION 30) with code 25 (preauth required).
    pub(crate) fn krb_error() -> Vec<u8> {
        tlv(
            0x7e,
            &seq(&[
                ctx(0, int(5)),
                ctx(1, int(30)),
                ctx(4, time()),
                ctx(5, int(0)),
                ctx(6, int(25)),
                ctx(9, kstr("CYLERA.LAB")),
                ctx(10, principal(2, &["krbtgt", "CYLERA.LAB"])),
            ]),
        )
    }

    fn record(msg: &[u8]) -> Vec<u8> {
        let mut v = (msg.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(msg);
        v
    }

    #[test]
    fn probes_like_suricata() {
        assert!(probe(&as_req()));
        assert!(probe(&tgs_rep(18)));
        assert!(probe(&krb_error()));
        assert!(probe_tcp(&record(&as_req())));
        assert!(!probe(b"GET / HTTP/1.1\r\n\r\n"));
        // A SEQUENCE, not an APPLICATION tag.
        assert!(!probe(&seq(&[int(5), int(5), int(5)])));
        // Version 4.
        let mut v4 = as_req();
        let pos = v4.windows(3).position(|w| w == [2, 1, 5]).unwrap();
        v4[pos + 2] = 4;
        assert!(!probe(&v4));
        // A huge record mark.
        let mut big = record(&as_req());
        big[..4].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(!probe_tcp(&big));
        assert!(!probe(&[]));
        assert!(!probe_tcp(&[0, 0, 0]));
    }

    #[test]
    fn each_message_is_a_transaction_with_suricata_fields() {
        let mut s = Krb5State::new();
        let mut ready = Vec::new();
        s.parse(Krb5Direction::ToServer, &as_req(), &mut ready);
        s.parse(Krb5Direction::ToClient, &krb_error(), &mut ready);
        s.parse(Krb5Direction::ToClient, &tgs_rep(23), &mut ready);
        assert_eq!(ready, vec![0, 1, 2]);
        let req = s.transaction(0).unwrap();
        assert_eq!(msg_type_name(req.msg_type), "KRB_AS_REQ");
        assert_eq!(req.cname.as_ref().unwrap().to_string(), "robin");
        assert_eq!(req.realm.as_deref(), Some("CYLERA.LAB"));
        assert_eq!(req.sname.as_ref().unwrap().to_string(), "krbtgt/CYLERA.LAB");
        assert!(req.etype.is_none());
        let err = s.transaction(1).unwrap();
        assert_eq!(err.msg_type, MessageType::KRB_ERROR);
        assert_eq!(err.req_type, Some(MessageType::KRB_AS_REQ));
        assert_eq!(
            error_code_name(err.error_code.unwrap()),
            "KDC_ERR_PREAUTH_REQUIRED"
        );
        assert!(err.cname.is_none() && err.realm.is_none());
        let rep = s.transaction(2).unwrap();
        assert_eq!(rep.msg_type, MessageType::KRB_TGS_REP);
        assert_eq!(encryption_name(rep.ticket_etype.unwrap()), "rc4-hmac");
        assert!(is_weak_encryption(rep.ticket_etype.unwrap()));
        // The reply's own part is RC4 too: weak_encryption.
        assert!(rep.has_event("weak_encryption"));
        assert_eq!(rep.sname.as_ref().unwrap().name_string, ["http", "web01"]);
    }

    #[test]
    fn aes_replies_are_not_weak() {
        let mut s = Krb5State::new();
        let mut ready = Vec::new();
        s.parse(Krb5Direction::ToClient, &tgs_rep(18), &mut ready);
        let rep = s.transaction(0).unwrap();
        assert!(!is_weak_encryption(rep.etype.unwrap()));
        assert!(rep.anomalies.is_empty());
        // No request before: an error then has no request type.
        s.parse(Krb5Direction::ToClient, &krb_error(), &mut ready);
        assert_eq!(s.transaction(1).unwrap().req_type, None);
    }

    #[test]
    fn tcp_records_split_and_joined() {
        let mut stream = record(&as_req());
        stream.extend(record(&krb_error()));
        stream.extend(record(&tgs_rep(18)));
        for split in [1usize, 3, 4, 5, 17, stream.len() / 2, stream.len()] {
            let mut s = Krb5State::new();
            let mut ready = Vec::new();
            let (a, b) = stream.split_at(split);
            s.feed_tcp(Krb5Direction::ToServer, a, &mut ready);
            s.feed_tcp(Krb5Direction::ToServer, b, &mut ready);
            assert_eq!(ready, vec![0, 1, 2], "split at {split}");
        }
    }

    #[test]
    fn malformed_messages_raise_events_and_parsing_goes_on() {
        let mut s = Krb5State::new();
        let mut ready = Vec::new();
        // Nothing to attach to yet.
        s.parse(Krb5Direction::ToServer, &[0x6a, 0x84], &mut ready);
        assert_eq!(s.malformed_unattached, 1);
        s.parse(Krb5Direction::ToServer, &as_req(), &mut ready);
        // A truncated message: its header does not decode.
        s.parse(Krb5Direction::ToServer, &[0x6a, 0x82, 0x01], &mut ready);
        assert!(s.transaction(0).unwrap().has_event("malformed_data"));
        // An AS-REQ tag around garbage makes no transaction.
        s.parse(Krb5Direction::ToServer, &tlv(0x6a, &[1, 2, 3]), &mut ready);
        assert_eq!(ready, vec![0]);
        // TCP: an empty record, then a valid one; then an oversized mark.
        let mut stream = record(&[]);
        stream.extend(record(&as_req()));
        stream.extend(((MAX_RECORD_LEN + 1) as u32).to_be_bytes());
        stream.extend(record(&as_req()));
        s.feed_tcp(Krb5Direction::ToServer, &stream, &mut ready);
        assert_eq!(ready, vec![0, 1]);
        s.feed_tcp(Krb5Direction::ToServer, &record(&as_req()), &mut ready);
        assert_eq!(ready, vec![0, 1], "a lost direction stays lost");
        // The other direction still parses.
        s.feed_tcp(Krb5Direction::ToClient, &record(&tgs_rep(18)), &mut ready);
        assert_eq!(ready, vec![0, 1, 2]);
    }

    #[test]
    fn transactions_are_bounded() {
        let mut s = Krb5State::new();
        let mut ready = Vec::new();
        for _ in 0..MAX_TRANSACTIONS + 10 {
            s.parse(Krb5Direction::ToServer, &as_req(), &mut ready);
        }
        assert_eq!(s.len(), MAX_TRANSACTIONS);
        assert_eq!(s.dropped, 10);
        s.remove_before(u64::MAX);
        assert!(s.is_empty());
    }

    #[test]
    fn encryption_names_round_trip() {
        assert_eq!(
            encryption_by_name("rc4-hmac"),
            Some(EncryptionType::RC4_HMAC)
        );
        assert_eq!(
            encryption_by_name("aes256-cts-hmac-sha1-96"),
            Some(EncryptionType::AES256_CTS_HMAC_SHA1_96)
        );
        assert_eq!(
            encryption_by_name("rc4-hmac-OLD-exp").map(|e| e.0),
            Some(-135)
        );
        assert_eq!(encryption_by_name("nope"), None);
        assert_eq!(encryption_name(EncryptionType(99)), "EncryptionType(99)");
    }
}
