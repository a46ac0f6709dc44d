//! IKE (ISAKMP, UDP port 500) parsed for inspection as Suricata 7's `ike`
//! parser does: every datagram is one transaction of its own direction.
//!
//! IKEv2 payload chains are read with the `ipsec-parser` crate (the
//! parser Suricata itself uses, MIT/Apache-2.0); the initiator's and the
//! responder's proposals are checked against Suricata's weak-crypto
//! rules (events `weak_crypto_enc`, `weak_crypto_prf`, `weak_crypto_auth`,
//! `weak_crypto_dh`, `weak_crypto_no_dh`, `weak_crypto_no_auth`,
//! `no_encryption`, `invalid_proposal`, `unknown_proposal`). IKEv1
//! messages are read here: the security association's proposals and
//! transform attributes, key exchange, nonce and vendor id payloads of
//! unencrypted messages; the first transform the responder chose is kept
//! for `ike.chosen_sa_attribute` (`multiple_server_proposal` when it
//! chose more than one), bytes left over after the payload chain raise
//! `payload_extra_data`.
//!
//! Bounds: a datagram is at most 64 KiB, every list read from it is
//! bounded by its length; at most [`IkeConfig::max_txs`] transactions are
//! held until the caller removes them (the oldest go first).

use ipsec_parser::{
    parse_ikev2_payload_list, IkeExchangeType, IkePayloadType, IkeTransformAuthType,
    IkeTransformDHType, IkeTransformESNType, IkeTransformEncType, IkeTransformPRFType,
    IkeV2PayloadContent, IkeV2Proposal, IkeV2Transform, ProtocolID,
};

/// Limits of an IKE flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IkeConfig {
    /// Transactions held at once.
    pub max_txs: usize,
}

impl Default for IkeConfig {
    fn default() -> Self {
        IkeConfig { max_txs: 256 }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IkeDirection {
    /// From the flow's initiator.
    ToServer,
    /// From the responder.
    ToClient,
}

/// Suricata's `ike.*` (alias `ikev2.*`) events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IkeAnomaly {
    /// Malformed data.
    MalformedData,
    /// A proposal for AH: no confidentiality.
    NoEncryption,
    /// A weak encryption algorithm proposed.
    WeakCryptoEnc,
    /// A weak pseudo-random function proposed.
    WeakCryptoPrf,
    /// A weak Diffie-Hellman group proposed.
    WeakCryptoDh,
    /// A weak integrity algorithm proposed.
    WeakCryptoAuth,
    /// A proposal without Diffie-Hellman group.
    WeakCryptoNoDh,
    /// A proposal without integrity and without AEAD encryption.
    WeakCryptoNoAuth,
    /// A `null` PRF or `none` DH transform.
    InvalidProposal,
    /// A transform of an unknown type.
    UnknownProposal,
    /// Bytes after the payload chain.
    PayloadExtraData,
    /// The responder chose more than one IKEv1 transform.
    MultipleServerProposal,
}

impl IkeAnomaly {
    /// The `app-layer-event:ike.<name>` name.
    pub fn event_name(self) -> &'static str {
        match self {
            IkeAnomaly::MalformedData => "malformed_data",
            IkeAnomaly::NoEncryption => "no_encryption",
            IkeAnomaly::WeakCryptoEnc => "weak_crypto_enc",
            IkeAnomaly::WeakCryptoPrf => "weak_crypto_prf",
            IkeAnomaly::WeakCryptoDh => "weak_crypto_dh",
            IkeAnomaly::WeakCryptoAuth => "weak_crypto_auth",
            IkeAnomaly::WeakCryptoNoDh => "weak_crypto_no_dh",
            IkeAnomaly::WeakCryptoNoAuth => "weak_crypto_no_auth",
            IkeAnomaly::InvalidProposal => "invalid_proposal",
            IkeAnomaly::UnknownProposal => "unknown_proposal",
            IkeAnomaly::PayloadExtraData => "payload_extra_data",
            IkeAnomaly::MultipleServerProposal => "multiple_server_proposal",
        }
    }
}

/// Every event name (for rule validation).
pub const IKE_EVENTS: &[&str] = &[
    "malformed_data",
    "no_encryption",
    "weak_crypto_enc",
    "weak_crypto_prf",
    "weak_crypto_dh",
    "weak_crypto_auth",
    "weak_crypto_no_dh",
    "weak_crypto_no_auth",
    "invalid_proposal",
    "unknown_proposal",
    "payload_extra_data",
    "multiple_server_proposal",
];

/// One IKEv1 transform attribute, named as Suricata names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaAttribute {
    /// The attribute's name (`alg_enc`, `alg_hash`, `alg_auth`, `alg_dh`,
    /// `sa_life_type`, `sa_life_duration`, `sa_key_length`, ...;
    /// `unknown`).
    pub name: &'static str,
    /// The value's name (`EncAesCbc`, `HashSha2_256`, ...; `Unknown`).
    pub value_name: &'static str,
    /// The value as a number (basic attributes, and variable ones of
    /// four bytes).
    pub numeric: Option<u32>,
    /// The value in lowercase hex (variable attributes of another size).
    pub hex: Option<String>,
}

/// One IKE message.
#[derive(Debug, Clone)]
pub struct IkeTransaction {
    /// Number in the flow, from 0 (EVE's `tx_id`).
    pub id: u64,
    /// Which way it went.
    pub direction: IkeDirection,
    /// Major and minor version from the header.
    pub version: (u8, u8),
    /// Initiator's SPI.
    pub init_spi: u64,
    /// Responder's SPI.
    pub resp_spi: u64,
    /// Message id.
    pub msg_id: u32,
    /// Header flags.
    pub flags: u8,
    /// Exchange type.
    pub exchange_type: u8,
    /// IKEv1: the payloads are encrypted (flag bit 0), so unread.
    pub v1_encrypted: bool,
    /// IKEv1: key exchange data.
    pub v1_key_exchange: Vec<u8>,
    /// IKEv1: nonce data.
    pub v1_nonce: Vec<u8>,
    /// IKEv1: vendor ids, lowercase hex.
    pub v1_vendor_ids: Vec<String>,
    /// IKEv1: the attributes of each transform.
    pub v1_transforms: Vec<Vec<SaAttribute>>,
    /// Payload types seen (IKEv1: each type once, the header's next
    /// payload first; IKEv2: the header's next payload then each
    /// payload's next, the chain Suricata logs).
    pub payload_types: Vec<u8>,
    /// IKEv2: the responder's chosen transforms (responses only), as
    /// (transform type, transform id): 1 encryption, 2 PRF, 3
    /// integrity, 4 Diffie-Hellman, 5 ESN.
    pub v2_transforms: Vec<(u8, u16)>,
    /// IKEv2: notify payloads of error types.
    pub v2_errors: u32,
    /// IKEv2: notify types, in order.
    pub v2_notify: Vec<u16>,
    /// Events raised on it.
    pub anomalies: Vec<IkeAnomaly>,
}

impl IkeTransaction {
    fn new(id: u64, direction: IkeDirection, h: &IsakmpHeader) -> IkeTransaction {
        IkeTransaction {
            id,
            direction,
            version: (h.maj_ver, h.min_ver),
            init_spi: h.init_spi,
            resp_spi: h.resp_spi,
            msg_id: h.msg_id,
            flags: h.flags,
            exchange_type: h.exch_type,
            v1_encrypted: false,
            v1_key_exchange: Vec::new(),
            v1_nonce: Vec::new(),
            v1_vendor_ids: Vec::new(),
            v1_transforms: Vec::new(),
            payload_types: Vec::new(),
            v2_transforms: Vec::new(),
            v2_errors: 0,
            v2_notify: Vec::new(),
            anomalies: Vec::new(),
        }
    }

    /// `ike.init_spi`: 16 lowercase hex digits.
    pub fn init_spi_hex(&self) -> String {
        format!("{:016x}", self.init_spi)
    }

    /// `ike.resp_spi`: 16 lowercase hex digits.
    pub fn resp_spi_hex(&self) -> String {
        format!("{:016x}", self.resp_spi)
    }

    /// Whether it raised event `name`.
    pub fn has_event(&self, name: &str) -> bool {
        self.anomalies.iter().any(|a| a.event_name() == name)
    }

    /// The IKEv2 header flags say the sender is the original initiator.
    pub fn v2_initiator(&self) -> bool {
        self.flags & ipsec_parser::IKEV2_FLAG_INITIATOR != 0
    }

    /// `ike.chosen_sa_attribute`: the value of attribute `name` in the
    /// first transform of an IKEv1 message, or of the first chosen IKEv2
    /// transform of that kind (`alg_enc`, `alg_auth`, `alg_prf`,
    /// `alg_dh`).
    pub fn sa_attribute(&self, name: &str) -> Option<u32> {
        match self.version.0 {
            1 => self
                .v1_transforms
                .first()?
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.numeric),
            2 => {
                let kind = match name {
                    "alg_enc" => 1,
                    "alg_prf" => 2,
                    "alg_auth" => 3,
                    "alg_dh" => 4,
                    _ => return None,
                };
                self.v2_transforms
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|&(_, id)| u32::from(id))
            }
            _ => None,
        }
    }

    fn set_event(&mut self, a: IkeAnomaly) {
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }
}

/// What one side of an IKEv1 exchange said last (Suricata's state-wide
/// values, logged with every message).
#[derive(Debug, Clone, Default)]
pub struct Ikev1Side {
    /// Key exchange data, lowercase hex.
    pub key_exchange: String,
    /// Nonce data, lowercase hex.
    pub nonce: String,
    /// Transforms seen since the last security association.
    pub nb_transforms: u64,
    /// The first of them.
    pub transform: Vec<SaAttribute>,
}

impl Ikev1Side {
    fn update(&mut self, key_exchange: &[u8], nonce: &[u8], transforms: &[Vec<SaAttribute>]) {
        self.key_exchange = hex(key_exchange);
        self.nonce = hex(nonce);
        if self.nb_transforms == 0 {
            if let Some(first) = transforms.first() {
                self.transform = first.clone();
            }
        }
        self.nb_transforms += transforms.len() as u64;
    }
}

/// The IKEv2 algorithms the responder chose.
#[derive(Debug, Clone, Copy)]
pub struct Ikev2Chosen {
    /// Encryption.
    pub enc: IkeTransformEncType,
    /// Integrity.
    pub auth: IkeTransformAuthType,
    /// Pseudo-random function.
    pub prf: IkeTransformPRFType,
    /// Diffie-Hellman group.
    pub dh: IkeTransformDHType,
    /// Extended sequence numbers.
    pub esn: IkeTransformESNType,
}

impl Default for Ikev2Chosen {
    fn default() -> Self {
        Ikev2Chosen {
            enc: IkeTransformEncType::ENCR_NULL,
            auth: IkeTransformAuthType::NONE,
            prf: IkeTransformPRFType::PRF_NULL,
            dh: IkeTransformDHType::None,
            esn: IkeTransformESNType::NoESN,
        }
    }
}

/// The IKE state of a flow.
#[derive(Debug, Default)]
pub struct IkeState {
    config: IkeConfig,
    txs: Vec<IkeTransaction>,
    next_id: u64,
    /// IKEv1 domain of interpretation of the last security association.
    pub v1_doi: Option<u32>,
    /// IKEv1: the initiator's side.
    pub v1_client: Ikev1Side,
    /// IKEv1: the responder's side.
    pub v1_server: Ikev1Side,
    /// IKEv2: the responder's choice.
    pub v2_chosen: Ikev2Chosen,
    /// IKEv2: the transforms the responder chose, as (type, id).
    v2_server_transforms: Vec<(u8, u16)>,
}

/// The 28-byte ISAKMP header.
#[derive(Debug, Clone, Copy)]
struct IsakmpHeader {
    init_spi: u64,
    resp_spi: u64,
    next_payload: u8,
    maj_ver: u8,
    min_ver: u8,
    exch_type: u8,
    flags: u8,
    msg_id: u32,
    length: u32,
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn header(b: &[u8]) -> Option<IsakmpHeader> {
    let vers = *b.get(17)?;
    Some(IsakmpHeader {
        init_spi: be_u64(b, 0)?,
        resp_spi: be_u64(b, 8)?,
        next_payload: *b.get(16)?,
        maj_ver: vers >> 4,
        min_ver: vers & 0x0f,
        exch_type: *b.get(18)?,
        flags: *b.get(19)?,
        msg_id: be_u32(b, 20)?,
        length: be_u32(b, 24)?,
    })
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Suricata's IKE probe of a flow's first datagram: an ISAKMP header of
/// version 1, or of version 2.0 with an exchange type 34 to 37 whose
/// length field is the datagram's length.
pub fn probe(datagram: &[u8]) -> bool {
    if datagram.len() < 28 {
        return false;
    }
    let Some(h) = header(datagram) else {
        return false;
    };
    match h.maj_ver {
        1 => true,
        2 => {
            h.min_ver == 0
                && (34..=37).contains(&h.exch_type)
                && usize::try_from(h.length).is_ok_and(|l| l == datagram.len())
        }
        _ => false,
    }
}

impl IkeState {
    /// A state with these limits.
    pub fn new(config: IkeConfig) -> IkeState {
        IkeState {
            config,
            ..IkeState::default()
        }
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&IkeTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// Removes every transaction with an id below `id`.
    pub fn remove_before(&mut self, id: u64) {
        self.txs.retain(|t| t.id >= id);
    }

    /// Parses one datagram; returns the id of the transaction it made
    /// (`None` when it is not an IKE message Suricata keeps).
    pub fn parse(&mut self, dir: IkeDirection, datagram: &[u8]) -> Option<u64> {
        let h = header(datagram)?;
        let body = datagram.get(28..)?;
        let id = self.next_id;
        let tx = match h.maj_ver {
            1 => self.ikev1(dir, &h, body, id)?,
            2 => self.ikev2(dir, &h, body, id),
            _ => return None,
        };
        self.next_id += 1;
        if self.txs.len() >= self.config.max_txs {
            self.txs.remove(0);
        }
        self.txs.push(tx);
        Some(id)
    }

    /// An event Suricata sets on the flow's latest transaction before
    /// the message's own is added.
    fn event_on_last(&mut self, a: IkeAnomaly) {
        if let Some(t) = self.txs.last_mut() {
            t.set_event(a);
        }
    }

    fn ikev2(
        &mut self,
        dir: IkeDirection,
        h: &IsakmpHeader,
        body: &[u8],
        id: u64,
    ) -> IkeTransaction {
        let mut tx = IkeTransaction::new(id, dir, h);
        let Ok((_, Ok(payloads))) = parse_ikev2_payload_list(body, IkePayloadType(h.next_payload))
        else {
            return tx;
        };
        for p in &payloads {
            tx.payload_types.push(p.hdr.next_payload_type.0);
            match &p.content {
                IkeV2PayloadContent::SA(props) => self.v2_proposals(props, dir, &mut tx),
                IkeV2PayloadContent::Notify(n) => {
                    if n.notify_type.is_error() {
                        tx.v2_errors += 1;
                    }
                    tx.v2_notify.push(n.notify_type.0);
                }
                _ => {}
            }
            if dir == IkeDirection::ToClient && !self.v2_server_transforms.is_empty() {
                tx.v2_transforms = self.v2_server_transforms.clone();
            }
        }
        tx
    }

    fn v2_proposals(
        &mut self,
        props: &[IkeV2Proposal<'_>],
        dir: IkeDirection,
        tx: &mut IkeTransaction,
    ) {
        for p in props {
            let transforms: Vec<IkeV2Transform> = p.transforms.iter().map(Into::into).collect();
            for t in &transforms {
                match t {
                    IkeV2Transform::Encryption(e) => {
                        if matches!(e.0, 1..=9 | 11) {
                            tx.set_event(IkeAnomaly::WeakCryptoEnc);
                        }
                    }
                    IkeV2Transform::PRF(p) => match p.0 {
                        0 => tx.set_event(IkeAnomaly::InvalidProposal),
                        1 | 2 => tx.set_event(IkeAnomaly::WeakCryptoPrf),
                        _ => {}
                    },
                    IkeV2Transform::Auth(a) => {
                        if matches!(a.0, 1..=7) {
                            tx.set_event(IkeAnomaly::WeakCryptoAuth);
                        }
                    }
                    IkeV2Transform::DH(d) => match d.0 {
                        0 => tx.set_event(IkeAnomaly::InvalidProposal),
                        1 | 2 | 5 | 22 => tx.set_event(IkeAnomaly::WeakCryptoDh),
                        _ => {}
                    },
                    IkeV2Transform::Unknown(..) => tx.set_event(IkeAnomaly::UnknownProposal),
                    _ => {}
                }
            }
            if !transforms
                .iter()
                .any(|t| matches!(t, IkeV2Transform::DH(_)))
            {
                tx.set_event(IkeAnomaly::WeakCryptoNoDh);
            }
            if p.protocol_id == ProtocolID::AH {
                tx.set_event(IkeAnomaly::NoEncryption);
            }
            let integrity = transforms
                .iter()
                .any(|t| matches!(t, IkeV2Transform::Auth(a) if a.0 != 0));
            let aead = transforms
                .iter()
                .any(|t| matches!(t, IkeV2Transform::Encryption(e) if e.is_aead()));
            if !integrity && !aead {
                tx.set_event(IkeAnomaly::WeakCryptoNoAuth);
            }
            if dir == IkeDirection::ToClient {
                for t in &transforms {
                    match t {
                        IkeV2Transform::Encryption(e) => self.v2_chosen.enc = *e,
                        IkeV2Transform::Auth(a) => self.v2_chosen.auth = *a,
                        IkeV2Transform::PRF(p) => self.v2_chosen.prf = *p,
                        IkeV2Transform::DH(d) => self.v2_chosen.dh = *d,
                        IkeV2Transform::ESN(e) => self.v2_chosen.esn = *e,
                        _ => {}
                    }
                    let kept = match t {
                        IkeV2Transform::Encryption(e) => Some((1, e.0)),
                        IkeV2Transform::PRF(p) => Some((2, p.0)),
                        IkeV2Transform::Auth(a) => Some((3, a.0)),
                        IkeV2Transform::DH(d) => Some((4, d.0)),
                        IkeV2Transform::ESN(e) => Some((5, e.0)),
                        _ => None,
                    };
                    self.v2_server_transforms.extend(kept);
                }
            }
        }
    }

    /// An IKEv1 message; `None` when Suricata's parser would fail on it
    /// (no transaction is kept then).
    fn ikev1(
        &mut self,
        dir: IkeDirection,
        h: &IsakmpHeader,
        body: &[u8],
        id: u64,
    ) -> Option<IkeTransaction> {
        let mut tx = IkeTransaction::new(id, dir, h);
        let mut types = vec![h.next_payload];
        tx.v1_encrypted = h.flags & 0x01 != 0;
        if !tx.v1_encrypted {
            let (payloads, rest) = v1_payload_list(body);
            let mut cur = h.next_payload;
            for (next, data) in payloads {
                self.v1_payload(cur, data, &mut tx, &mut types).ok()?;
                cur = next;
            }
            if types.contains(&1) {
                match dir {
                    IkeDirection::ToServer => self.v1_client = Ikev1Side::default(),
                    IkeDirection::ToClient => self.v1_server = Ikev1Side::default(),
                }
            }
            match dir {
                IkeDirection::ToServer => {
                    self.v1_client
                        .update(&tx.v1_key_exchange, &tx.v1_nonce, &tx.v1_transforms)
                }
                IkeDirection::ToClient => {
                    let n = self.v1_server.nb_transforms;
                    if n <= 1 && n + tx.v1_transforms.len() as u64 > 1 {
                        self.event_on_last(IkeAnomaly::MultipleServerProposal);
                    }
                    self.v1_server
                        .update(&tx.v1_key_exchange, &tx.v1_nonce, &tx.v1_transforms);
                }
            }
            if !rest.is_empty() {
                self.event_on_last(IkeAnomaly::PayloadExtraData);
            }
        }
        tx.payload_types = types;
        Some(tx)
    }

    /// One IKEv1 payload of type `kind`; `Err` when Suricata's parser
    /// would fail on it.
    fn v1_payload(
        &mut self,
        kind: u8,
        data: &[u8],
        tx: &mut IkeTransaction,
        types: &mut Vec<u8>,
    ) -> Result<(), ()> {
        if !types.contains(&kind) {
            types.push(kind);
        }
        match kind {
            // Security association: DOI, situation, proposals.
            1 => {
                let doi = be_u32(data, 0).ok_or(())?;
                self.v1_doi = Some(doi);
                if doi == 1 {
                    data.get(4..8).ok_or(())?;
                    let proposals = data.get(8..).unwrap_or(&[]);
                    self.v1_chain(2, proposals, tx, types)?;
                }
                Ok(())
            }
            // Proposal: number, protocol, SPI size, transform count, SPI,
            // transforms.
            2 => {
                let spi_size = usize::from(*data.get(2).ok_or(())?);
                data.get(3).ok_or(())?;
                let transforms = data.get(4 + spi_size..).ok_or(())?;
                self.v1_chain(3, transforms, tx, types)
            }
            3 => {
                if let Some(attrs) = data.get(4..) {
                    tx.v1_transforms.push(sa_attributes(attrs));
                }
                Ok(())
            }
            4 => {
                tx.v1_key_exchange = data.to_vec();
                Ok(())
            }
            10 => {
                tx.v1_nonce = data.to_vec();
                Ok(())
            }
            13 => {
                tx.v1_vendor_ids.push(hex(data));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A chain of IKEv1 payloads inside another, the first of type
    /// `first`.
    fn v1_chain(
        &mut self,
        first: u8,
        data: &[u8],
        tx: &mut IkeTransaction,
        types: &mut Vec<u8>,
    ) -> Result<(), ()> {
        let (payloads, _) = v1_payload_list(data);
        let mut cur = first;
        for (next, body) in payloads {
            self.v1_payload(cur, body, tx, types)?;
            cur = next;
        }
        Ok(())
    }
}

/// Generic IKEv1 payloads (next type, body) while whole ones remain, and
/// what is left.
fn v1_payload_list(mut b: &[u8]) -> (Vec<(u8, &[u8])>, &[u8]) {
    let mut out = Vec::new();
    while let (Some(&next), Some(len)) = (b.first(), be_u16(b, 2)) {
        let body_len = usize::from(len).saturating_sub(4);
        let Some(body) = b.get(4..4 + body_len) else {
            break;
        };
        out.push((next, body));
        b = b.get(4 + body_len..).unwrap_or(&[]);
    }
    (out, b)
}

/// IKEv1 transform attributes while whole ones remain.
fn sa_attributes(mut b: &[u8]) -> Vec<SaAttribute> {
    let mut out = Vec::new();
    while let (Some(t), Some(v)) = (be_u16(b, 0), be_u16(b, 2)) {
        let basic = t & 0x8000 != 0;
        let kind = t & 0x7fff;
        let (numeric, hexv, used) = if basic {
            (Some(u32::from(v)), None, 4)
        } else if v == 4 {
            match be_u32(b, 4) {
                Some(n) => (Some(n), None, 8),
                None => break,
            }
        } else {
            match b.get(4..4 + usize::from(v)) {
                Some(bytes) => (None, Some(hex(bytes)), 4 + usize::from(v)),
                None => break,
            }
        };
        out.push(SaAttribute {
            name: attribute_name(kind),
            value_name: attribute_value_name(kind, v),
            numeric,
            hex: hexv,
        });
        b = b.get(used..).unwrap_or(&[]);
    }
    out
}

/// Suricata's names of IKEv1 attribute types.
fn attribute_name(kind: u16) -> &'static str {
    match kind {
        1 => "alg_enc",
        2 => "alg_hash",
        3 => "alg_auth",
        4 => "alg_dh",
        5 => "sa_group_type",
        6 => "sa_group_prime",
        7 => "sa_group_generator_one",
        8 => "sa_group_generator_two",
        9 => "sa_group_curve_a",
        10 => "sa_group_curve_b",
        11 => "sa_life_type",
        12 => "sa_life_duration",
        13 => "alg_prf",
        14 => "sa_key_length",
        15 => "sa_field_size",
        16 => "sa_group_order",
        _ => "unknown",
    }
}

/// Suricata's names of IKEv1 attribute values (IANA's registry).
fn attribute_value_name(kind: u16, v: u16) -> &'static str {
    const ENC: &[&str] = &[
        "EncDesCbc",
        "EncIdeaCbc",
        "EncBlowfishCbc",
        "EncRc5R16B64Cbc",
        "EncTripleDesCbc",
        "EncCastCbc",
        "EncAesCbc",
        "EncCamelliaCbc",
    ];
    const HASH: &[&str] = &[
        "HashMd5",
        "HashSha",
        "HashTiger",
        "HashSha2_256",
        "HashSha2_384",
        "HashSha2_512",
    ];
    const AUTH: &[&str] = &[
        "AuthPreSharedKey",
        "AuthDssSignatures",
        "AuthRsaSignatures",
        "AuthEncryptionWithRsa",
        "AuthRevisedEncryptionWithRsa",
        "AuthReserved",
        "AuthReserved",
        "AuthReserved",
        "AuthEcdsaSha256",
        "AuthEcdsaSha384",
        "AuthEcdsaSha512",
    ];
    const GROUP: &[&str] = &[
        "GroupDefault768BitModp",
        "GroupAlternate1024BitModpGroup",
        "GroupEc2nOnGp2p155",
        "GroupEc2nOnGp2p185",
        "GroupModp1536Bit",
        "GroupEc2nOverGf2p163",
        "GroupEc2nOverGf2p163",
        "GroupEc2nOverGf2p283",
        "GroupEc2nOverGf2p283",
        "GroupEc2nOverGf2p409",
        "GroupEc2nOverGf2p409",
        "GroupEc2nOverGf2p571",
        "GroupEc2nOverGf2p571",
        "GroupModp2048Bit",
        "GroupModp3072Bit",
        "GroupModp4096Bit",
        "GroupModp6144Bit",
        "GroupModp8192Bit",
        "GroupRandomEcp256",
        "GroupRandomEcp384",
        "GroupRandomEcp521",
        "GroupModp1024With160BitPrime",
        "GroupModp2048With224BitPrime",
        "GroupModp2048With256BitPrime",
        "GroupRandomEcp192",
        "GroupRandomEcp224",
        "GroupBrainpoolEcp224",
        "GroupBrainpoolEcp256",
        "GroupBrainpoolEcp384",
        "GroupBrainpoolEcp512",
    ];
    let table: &[&'static str] = match kind {
        1 => ENC,
        2 => HASH,
        3 => AUTH,
        4 => GROUP,
        11 => &["LifeTypeSeconds", "LifeTypeKilobytes"],
        _ => &[],
    };
    usize::from(v)
        .checked_sub(1)
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("Unknown")
}

/// Suricata's name of an IKEv1 payload type (`None` for unassigned ones,
/// which it leaves out).
pub fn v1_payload_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "None",
        1 => "SecurityAssociation",
        2 => "Proposal",
        3 => "Transform",
        4 => "KeyExchange",
        5 => "Identification",
        6 => "Certificate",
        7 => "CertificateRequest",
        8 => "Hash",
        9 => "Signature",
        10 => "Nonce",
        11 => "Notification",
        12 => "Delete",
        13 => "VendorID",
        15 => "SaKekPayload",
        16 => "SaTekPayload",
        17 => "KeyDownload",
        18 => "SequenceNumber",
        19 => "ProofOfPossession",
        20 => "NatDiscovery",
        21 => "NatOriginalAddress",
        22 => "GroupAssociatedPolicy",
        _ => return None,
    })
}

/// The name Suricata logs for an IKEv2 payload type.
pub fn v2_payload_name(t: u8) -> String {
    format!("{:?}", IkePayloadType(t))
}

/// The name Suricata logs for an IKEv2 notify type.
pub fn v2_notify_name(t: u16) -> String {
    format!("{:?}", ipsec_parser::NotifyType(t))
}

/// The name of an IKEv2 exchange type.
pub fn v2_exchange_name(t: u8) -> String {
    format!("{:?}", IkeExchangeType(t))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// An IKE_SA_INIT request: Nonce, KE (group 2), SA with AES-CBC,
    /// PRF SHA2-256, integrity SHA2-256, DH group 2.
    fn sa_init(dh: u16) -> Vec<u8> {
        let mut transforms = Vec::new();
        let items: [(u8, u16, &[u8]); 4] = [
            (1, 12, &[0x80, 14, 1, 0]),
            (2, 5, &[]),
            (3, 12, &[]),
            (4, dh, &[]),
        ];
        for (i, (ty, id, attr)) in items.iter().enumerate() {
            let last = i == items.len() - 1;
            let len = 8 + attr.len() as u16;
            transforms.push(if last { 0 } else { 3 });
            transforms.push(0);
            transforms.extend_from_slice(&len.to_be_bytes());
            transforms.push(*ty);
            transforms.push(0);
            transforms.extend_from_slice(&id.to_be_bytes());
            transforms.extend_from_slice(attr);
        }
        let mut prop = vec![0, 0];
        prop.extend_from_slice(&(8 + transforms.len() as u16).to_be_bytes());
        prop.extend_from_slice(&[1, 1, 0, 4]);
        prop.extend_from_slice(&transforms);
        let mut sa = vec![0, 0];
        sa.extend_from_slice(&(4 + prop.len() as u16).to_be_bytes());
        sa.extend_from_slice(&prop);
        let mut ke = vec![33, 0, 0, 16];
        ke.extend_from_slice(&dh.to_be_bytes());
        ke.extend_from_slice(&[0, 0]);
        ke.extend_from_slice(&[0xaa; 8]);
        let mut nonce = vec![34, 0, 0, 12];
        nonce.extend_from_slice(&[0xbb; 8]);
        let mut body = nonce;
        body.extend_from_slice(&ke);
        body.extend_from_slice(&sa);
        let mut m = Vec::new();
        m.extend_from_slice(&0x61d3693ce12af528u64.to_be_bytes());
        m.extend_from_slice(&0u64.to_be_bytes());
        m.extend_from_slice(&[40, 0x20, 34, 0x08]);
        m.extend_from_slice(&0u32.to_be_bytes());
        m.extend_from_slice(&((28 + body.len()) as u32).to_be_bytes());
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn ikev2_sa_init_with_weak_dh() {
        let m = sa_init(2);
        assert!(probe(&m));
        let mut s = IkeState::new(IkeConfig::default());
        let id = s.parse(IkeDirection::ToServer, &m).unwrap();
        let tx = s.transaction(id).unwrap();
        assert_eq!(tx.init_spi_hex(), "61d3693ce12af528");
        assert_eq!(tx.resp_spi_hex(), "0000000000000000");
        assert!(tx.v2_initiator());
        let names: Vec<_> = tx
            .payload_types
            .iter()
            .map(|&t| v2_payload_name(t))
            .collect();
        assert_eq!(
            names,
            [
                "Nonce",
                "KeyExchange",
                "SecurityAssociation",
                "NoNextPayload"
            ]
        );
        assert_eq!(tx.anomalies, [IkeAnomaly::WeakCryptoDh]);
        let strong = sa_init(14);
        let id = s.parse(IkeDirection::ToServer, &strong).unwrap();
        assert!(s.transaction(id).unwrap().anomalies.is_empty());
    }

    #[test]
    fn probe_rejects_other_datagrams() {
        let mut m = sa_init(14);
        assert!(!probe(&m[..27]));
        m.push(0);
        assert!(!probe(&m), "length mismatch");
        let mut v3 = sa_init(14);
        v3[17] = 0x30;
        assert!(!probe(&v3));
    }

    #[test]
    fn ikev1_main_mode_attributes_and_vendor_ids() {
        // SA (DOI 1) with one proposal of one transform: AES-CBC, SHA,
        // PSK, group 2, life 28800 s; then a vendor id.
        let attrs: Vec<u8> = [
            [0x80, 1, 0, 7],
            [0x80, 2, 0, 2],
            [0x80, 3, 0, 1],
            [0x80, 4, 0, 2],
            [0x80, 11, 0, 1],
        ]
        .concat();
        let mut transform = vec![0, 0];
        transform.extend_from_slice(&(8 + attrs.len() as u16).to_be_bytes());
        transform.extend_from_slice(&[1, 1, 0, 0]);
        transform.extend_from_slice(&attrs);
        let mut prop = vec![0, 0];
        prop.extend_from_slice(&(8 + transform.len() as u16).to_be_bytes());
        prop.extend_from_slice(&[1, 1, 0, 1]);
        prop.extend_from_slice(&transform);
        let mut sa = vec![13, 0];
        sa.extend_from_slice(&(12 + prop.len() as u16).to_be_bytes());
        sa.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        sa.extend_from_slice(&prop);
        let vid = [0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef];
        let mut body = sa;
        body.extend_from_slice(&vid);
        let mut m = Vec::new();
        m.extend_from_slice(&1u64.to_be_bytes());
        m.extend_from_slice(&0u64.to_be_bytes());
        m.extend_from_slice(&[1, 0x10, 2, 0]);
        m.extend_from_slice(&0u32.to_be_bytes());
        m.extend_from_slice(&((28 + body.len()) as u32).to_be_bytes());
        m.extend_from_slice(&body);
        assert!(probe(&m));
        let mut s = IkeState::new(IkeConfig::default());
        let id = s.parse(IkeDirection::ToClient, &m).unwrap();
        let tx = s.transaction(id).unwrap();
        assert_eq!(tx.exchange_type, 2);
        assert_eq!(tx.v1_vendor_ids, ["deadbeef"]);
        assert_eq!(tx.sa_attribute("alg_hash"), Some(2));
        assert_eq!(tx.sa_attribute("alg_dh"), Some(2));
        assert_eq!(tx.v1_transforms[0][0].value_name, "EncAesCbc");
        assert_eq!(s.v1_server.nb_transforms, 1);
        let names: Vec<_> = tx
            .payload_types
            .iter()
            .filter_map(|&t| v1_payload_name(t))
            .collect();
        assert_eq!(
            names,
            ["SecurityAssociation", "Proposal", "Transform", "VendorID"]
        );
    }
}
