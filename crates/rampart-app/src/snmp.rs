//! SNMP v1, v2c and v3 over UDP as Suricata 7 reads it: every datagram is
//! a transaction holding the version, the PDU type, the community (v1,
//! v2c) or USM user name (v3), trap details and the variable names.
//!
//! The BER decoding is the `snmp-parser` crate's, the one Suricata uses;
//! this module adds the probe Suricata runs on a flow's first datagram,
//! transactions with Suricata's fields and events
//! (`app-layer-event:snmp.malformed_data`, `snmp.version_mismatch`,
//! `snmp.unknown_security_model`) instead of errors.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use asn1_rs::{Any, FromDer, Sequence, Tag};
use snmp_parser::{
    parse_snmp_generic_message, NetworkAddress, ScopedPduData, SecurityParameters,
    SnmpGenericMessage, SnmpPdu,
};

/// The SNMP agent port (Suricata's default detection port).
pub const SNMP_PORT: u16 = 161;

/// The SNMP trap port (Suricata detects SNMP here too).
pub const SNMP_TRAP_PORT: u16 = 162;

/// Variable names kept per PDU at most (for logging); a datagram holds
/// at most a few thousand anyway.
pub const MAX_VARS: usize = 1024;

/// Transactions held per flow at most; the oldest is dropped beyond.
pub const MAX_TRANSACTIONS: usize = 256;

/// Which way a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnmpDirection {
    /// Client to agent (requests), or to the trap receiver.
    ToServer,
    /// Back to the client (responses).
    ToClient,
}

/// Suricata's SNMP events (`app-layer-event:snmp.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnmpAnomaly {
    /// A datagram that is not a decodable SNMP message.
    MalformedData,
    /// An SNMPv3 message with a security model other than USM.
    UnknownSecurityModel,
    /// A message whose version differs from the flow's first one.
    VersionMismatch,
}

impl SnmpAnomaly {
    /// The event name rules use.
    pub fn event_name(self) -> &'static str {
        match self {
            SnmpAnomaly::MalformedData => "malformed_data",
            SnmpAnomaly::UnknownSecurityModel => "unknown_security_model",
            SnmpAnomaly::VersionMismatch => "version_mismatch",
        }
    }
}

/// The `app-layer-event:snmp.<name>` names this parser raises.
pub const SNMP_EVENTS: &[&str] = &[
    "malformed_data",
    "unknown_security_model",
    "version_mismatch",
];

/// A v1 trap's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpTrap {
    /// The generic trap type (0 coldStart ... 6 enterpriseSpecific).
    pub trap_type: u8,
    /// The enterprise OID, dotted.
    pub enterprise: String,
    /// The agent's address.
    pub agent: Ipv4Addr,
}

/// What a PDU says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpPduInfo {
    /// The PDU type (0 GetRequest ... 8 Report).
    pub pdu_type: u32,
    /// The error status (0 without error).
    pub error: u32,
    /// A v1 trap's details.
    pub trap: Option<SnmpTrap>,
    /// The variable names (OIDs, dotted), up to [`MAX_VARS`].
    pub vars: Vec<String>,
}

/// One SNMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpTransaction {
    /// Id in its flow, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// Which way the message travelled.
    pub direction: SnmpDirection,
    /// The flow's SNMP version (1, 2 or 3), as its first message said
    /// (Suricata keeps the flow's version on each transaction).
    pub version: u32,
    /// The PDU, when readable (not for encrypted v3 messages).
    pub pdu: Option<SnmpPduInfo>,
    /// The community (v1, v2c).
    pub community: Option<String>,
    /// The USM user name (v3).
    pub usm: Option<String>,
    /// A v3 message whose scoped PDU is encrypted.
    pub encrypted: bool,
    /// Events raised on this transaction.
    pub anomalies: Vec<SnmpAnomaly>,
}

impl SnmpTransaction {
    /// Whether the event `name` was raised on this transaction.
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
    }
}

/// The EVE name of a PDU type (`get_request`, ..., `Unknown(0x1f)`).
pub fn pdu_type_name(t: u32) -> String {
    match t {
        0 => "get_request".into(),
        1 => "get_next_request".into(),
        2 => "response".into(),
        3 => "set_request".into(),
        4 => "trap_v1".into(),
        5 => "get_bulk_request".into(),
        6 => "inform_request".into(),
        7 => "trap_v2".into(),
        8 => "report".into(),
        n => format!("Unknown(0x{n:x})"),
    }
}

/// The EVE name of a generic trap type (`coldStart`, ...).
pub fn trap_type_name(t: u8) -> String {
    format!("{:?}", snmp_parser::TrapType(t))
}

/// The EVE name of an error status (`NoSuchName`, ...).
pub fn error_name(e: u32) -> String {
    format!("{:?}", snmp_parser::ErrorStatus(e))
}

/// The SNMP version an envelope announces (1, 2 or 3): a DER SEQUENCE of
/// three elements starting with INTEGER 0 or 1, or of four starting with
/// INTEGER 3 (Suricata's `parse_pdu_enveloppe_version`).
pub fn envelope_version(msg: &[u8]) -> Option<u32> {
    let (_, seq) = Sequence::from_der(msg).ok()?;
    let mut rest: &[u8] = seq.content.as_ref();
    let mut count = 0usize;
    let mut first = None;
    while !rest.is_empty() {
        let (r, any) = Any::from_der(rest).ok()?;
        if count == 0 {
            first = (any.tag() == Tag::Integer)
                .then(|| any.as_u32().ok())
                .flatten();
        }
        count += 1;
        // More than four elements is none of the versions.
        if count > 4 {
            return None;
        }
        rest = r;
    }
    match (count, first?) {
        (3, 0) => Some(1),
        (3, 1) => Some(2),
        (4, 3) => Some(3),
        _ => None,
    }
}

/// Whether a datagram looks like SNMP (Suricata's probing parser: at least
/// 4 bytes and an envelope of a known version).
pub fn probe(payload: &[u8]) -> bool {
    payload.len() >= 4 && envelope_version(payload).is_some()
}

/// The SNMP state of one flow.
#[derive(Debug, Default)]
pub struct SnmpState {
    /// The version the flow's first message announced (0 until known).
    version: u32,
    txs: VecDeque<SnmpTransaction>,
    next_id: u64,
    /// Malformed datagrams that had no transaction to carry the event.
    pub malformed_unattached: u64,
    /// Transactions dropped because the flow held too many.
    pub dropped: u64,
}

impl SnmpState {
    /// An empty state.
    pub fn new() -> Self {
        SnmpState::default()
    }

    /// Parses one datagram's payload and returns the id of the
    /// transaction it made (`None` for a datagram that is not SNMP: the
    /// last transaction gets `malformed_data`).
    pub fn parse(&mut self, dir: SnmpDirection, msg: &[u8]) -> Option<u64> {
        if self.version == 0 {
            if let Some(v) = envelope_version(msg) {
                self.version = v;
            }
        }
        let parsed = match parse_snmp_generic_message(msg) {
            Ok((_, m)) => m,
            Err(_) => {
                match self.txs.back_mut() {
                    Some(tx) if !tx.anomalies.contains(&SnmpAnomaly::MalformedData) => {
                        tx.anomalies.push(SnmpAnomaly::MalformedData)
                    }
                    Some(_) => {}
                    None => self.malformed_unattached += 1,
                }
                return None;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let mut tx = SnmpTransaction {
            id,
            direction: dir,
            version: self.version,
            pdu: None,
            community: None,
            usm: None,
            encrypted: false,
            anomalies: Vec::new(),
        };
        match parsed {
            SnmpGenericMessage::V1(m) | SnmpGenericMessage::V2(m) => {
                // Encoded as 0 for v1, 1 for v2c.
                if self.version != m.version + 1 {
                    tx.anomalies.push(SnmpAnomaly::VersionMismatch);
                }
                tx.pdu = Some(pdu_info(&m.pdu));
                tx.community = Some(m.community);
            }
            SnmpGenericMessage::V3(m) => {
                if self.version != m.version {
                    tx.anomalies.push(SnmpAnomaly::VersionMismatch);
                }
                // An encrypted message says nothing more (Suricata 7 keeps
                // not even its USM user name).
                match m.data {
                    ScopedPduData::Plaintext(p) => {
                        match m.security_params {
                            SecurityParameters::USM(usm) => tx.usm = Some(usm.msg_user_name),
                            SecurityParameters::Raw(_) => {
                                tx.anomalies.push(SnmpAnomaly::UnknownSecurityModel)
                            }
                        }
                        tx.pdu = Some(pdu_info(&p.data));
                    }
                    ScopedPduData::Encrypted(_) => tx.encrypted = true,
                }
            }
        }
        if self.txs.len() >= MAX_TRANSACTIONS {
            self.txs.pop_front();
            self.dropped += 1;
        }
        self.txs.push_back(tx);
        Some(id)
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&SnmpTransaction> {
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

fn pdu_info(pdu: &SnmpPdu<'_>) -> SnmpPduInfo {
    let vars = pdu
        .vars_iter()
        .take(MAX_VARS)
        .map(|v| v.oid.to_id_string())
        .collect();
    let (error, trap) = match pdu {
        SnmpPdu::Generic(g) => (g.err.0, None),
        SnmpPdu::Bulk(_) => (0, None),
        SnmpPdu::TrapV1(t) => {
            let NetworkAddress::IPv4(agent) = t.agent_addr;
            let trap = SnmpTrap {
                trap_type: t.generic_trap.0,
                enterprise: t.enterprise.to_id_string(),
                agent,
            };
            (0, Some(trap))
        }
    };
    SnmpPduInfo {
        pdu_type: pdu.pdu_type().0,
        error,
        trap,
        vars,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The first datagram of suricata-verify's SNMPv2c_get_requests.pcap:
    /// a v2c GetNextRequest for 0.1 with community `[R0_C@cti!]`.
    const GET_NEXT: &[u8] = &[
        0x30, 0x27, 0x02, 0x01, 0x01, 0x04, 0x0b, 0x5b, 0x52, 0x30, 0x5f, 0x43, 0x40, 0x63, 0x74,
        0x69, 0x21, 0x5d, 0xa1, 0x15, 0x02, 0x04, 0x2b, 0x13, 0x3f, 0x85, 0x02, 0x01, 0x00, 0x02,
        0x01, 0x00, 0x30, 0x07, 0x30, 0x05, 0x06, 0x01, 0x01, 0x05, 0x00,
    ];

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, content.len() as u8];
        v.extend_from_slice(content);
        v
    }

    /// A v1 trap (PDU [4]) from 127.0.0.1, enterprise 1.3.6.1.4.1.4.1.2.21,
    /// linkDown, one variable 1.3.6.1.2.1.2.2.1.1.21 = 21.
    fn v1_trap() -> Vec<u8> {
        let enterprise = tlv(0x06, &[0x2b, 6, 1, 4, 1, 4, 1, 2, 21]);
        let agent = tlv(0x40, &[127, 0, 0, 1]);
        let var = tlv(
            0x30,
            &[
                tlv(0x06, &[0x2b, 6, 1, 2, 1, 2, 2, 1, 1, 21]),
                tlv(0x02, &[21]),
            ]
            .concat(),
        );
        let pdu = tlv(
            0xa4,
            &[
                enterprise,
                agent,
                tlv(0x02, &[2]),
                tlv(0x02, &[0]),
                tlv(0x43, &[0x10]),
                tlv(0x30, &var),
            ]
            .concat(),
        );
        tlv(0x30, &[tlv(0x02, &[0]), tlv(0x04, b"public"), pdu].concat())
    }

    #[test]
    fn v2c_get_next_request() {
        assert!(probe(GET_NEXT));
        assert_eq!(envelope_version(GET_NEXT), Some(2));
        let mut s = SnmpState::new();
        assert_eq!(s.parse(SnmpDirection::ToServer, GET_NEXT), Some(0));
        let tx = s.transaction(0).unwrap();
        assert_eq!(tx.version, 2);
        assert_eq!(tx.community.as_deref(), Some("[R0_C@cti!]"));
        let pdu = tx.pdu.as_ref().unwrap();
        assert_eq!(pdu_type_name(pdu.pdu_type), "get_next_request");
        assert_eq!(pdu.vars, ["0.1"]);
        assert!(tx.anomalies.is_empty());
    }

    #[test]
    fn v1_trap_details() {
        let msg = v1_trap();
        assert_eq!(envelope_version(&msg), Some(1));
        let mut s = SnmpState::new();
        let id = s.parse(SnmpDirection::ToServer, &msg).unwrap();
        let tx = s.transaction(id).unwrap();
        assert_eq!(tx.version, 1);
        let pdu = tx.pdu.as_ref().unwrap();
        assert_eq!(pdu_type_name(pdu.pdu_type), "trap_v1");
        let trap = pdu.trap.as_ref().unwrap();
        assert_eq!(trap_type_name(trap.trap_type), "linkDown");
        assert_eq!(trap.enterprise, "1.3.6.1.4.1.4.1.2.21");
        assert_eq!(trap.agent, Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(pdu.vars, ["1.3.6.1.2.1.2.2.1.1.21"]);
    }

    #[test]
    fn version_mismatch_and_malformed_data() {
        let mut s = SnmpState::new();
        assert_eq!(s.parse(SnmpDirection::ToServer, b"\x30\x03\x02\x01"), None);
        assert_eq!(s.malformed_unattached, 1);
        s.parse(SnmpDirection::ToServer, GET_NEXT).unwrap();
        // A v1 message on a v2c flow.
        let id = s.parse(SnmpDirection::ToServer, &v1_trap()).unwrap();
        let tx = s.transaction(id).unwrap();
        assert!(tx.has_event("version_mismatch"));
        assert_eq!(tx.version, 2);
        // Garbage: the last transaction carries the event.
        assert_eq!(s.parse(SnmpDirection::ToClient, &[0x30, 0x00]), None);
        assert!(s.transaction(id).unwrap().has_event("malformed_data"));
    }

    #[test]
    fn probe_rejects_other_traffic() {
        assert!(!probe(b"\x30\x02\x02"));
        assert!(!probe(b"GET / HTTP/1.0\r\n\r\n"));
        // Version 2 is not a wire value of any SNMP version.
        let mut v = GET_NEXT.to_vec();
        v[4] = 2;
        assert!(!probe(&v));
        // Two elements only.
        assert!(!probe(&tlv(
            0x30,
            &[tlv(0x02, &[1]), tlv(0x04, b"x")].concat()
        )));
    }

    #[test]
    fn transactions_are_bounded() {
        let mut s = SnmpState::new();
        for _ in 0..MAX_TRANSACTIONS + 3 {
            s.parse(SnmpDirection::ToServer, GET_NEXT).unwrap();
        }
        assert_eq!(s.len(), MAX_TRANSACTIONS);
        assert_eq!(s.dropped, 3);
        s.remove_before(u64::MAX);
        assert!(s.is_empty());
    }
}
