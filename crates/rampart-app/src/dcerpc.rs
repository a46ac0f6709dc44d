//! Connection-oriented DCERPC (DCE 1.1 RPC, as MS-RPCE uses it over TCP),
//! parsed for inspection as Suricata's `dcerpc` parser does: the
//! interfaces a client binds to (`bind`, `alter_context`) and which of them
//! the server accepted (`bind_ack`, `alter_context_resp`), then each call's
//! request (context id, operation number, stub data) and response (stub
//! data), paired by call id into transactions. Those are what the rule
//! keywords `dcerpc.iface`, `dcerpc.opnum` and `dcerpc.stub_data` look at.
//!
//! Each PDU carries its own data representation (the `drep` field): integer
//! fields and interface UUIDs are read little- or big-endian accordingly.
//! PDUs are reassembled across stream chunks (each is at most 65535 bytes,
//! its `frag_length` is a 16-bit field); a request or response split into
//! several fragments (first/last fragment flags) is reassembled into one
//! transaction whose stub data is capped at [`DcerpcConfig::max_stub_len`].
//!
//! Where this differs from Suricata 7.0.10, on purpose:
//! - The stub data of a request starts after the object UUID when the
//!   `PFC_OBJECT_UUID` flag is set, and that of a response after the
//!   response header (`alloc_hint`, context id, cancel count); the
//!   authentication trailer is left out of both (Suricata 7 keeps all of
//!   them in the buffer).
//! - Fragments of a call make one transaction (Suricata 7 over TCP makes
//!   one per fragment).
//! - Contexts accepted by an `alter_context_resp` add to those of the
//!   association instead of replacing them; a new `bind` starts afresh.
//! - An interface bound in a PDU without the first-fragment flag is
//!   matched only by `dcerpc.iface` with `any_frag` (Suricata 7 matches
//!   any interface then, a bug fixed in 8).
//!
//! The parser never fails: malformed input is counted as
//! [`DcerpcAnomaly`] values and parsing goes on where it safely can (a
//! direction whose PDU header is not DCERPC is not parsed further). An SMB
//! layer feeds pipe data to [`DcerpcState::feed`] (see
//! [`crate::smb_dcerpc`]), or whole PDUs to [`DcerpcState::handle_pdu`].

use std::collections::VecDeque;

/// Length of the common PDU header.
pub const HEADER_LEN: usize = 16;

/// Stub bytes kept per transaction side by default (Suricata buffers up to
/// 1 MiB of a direction).
pub const DEFAULT_MAX_STUB_LEN: usize = 1024 * 1024;

/// Stub bytes held across all of a connection's transactions by default
/// (many calls left open must not each hold [`DEFAULT_MAX_STUB_LEN`]).
pub const DEFAULT_MAX_STUB_TOTAL: usize = 4 * 1024 * 1024;

/// Transactions held at once by default; the oldest is dropped beyond it
/// (calls whose response never comes must not pile up).
pub const DEFAULT_MAX_TRANSACTIONS: usize = 256;

/// Presentation contexts remembered per association (a bind offers at
/// most 255; alter contexts may add more).
pub const MAX_CONTEXTS: usize = 256;

/// PDU types of the connection-oriented protocol (DCE 1.1 §12.6.4).
pub mod ptype {
    /// A call's request.
    pub const REQUEST: u8 = 0;
    /// A call's response.
    pub const RESPONSE: u8 = 2;
    /// A call failed.
    pub const FAULT: u8 = 3;
    /// Binds presentation contexts (interfaces).
    pub const BIND: u8 = 11;
    /// The server's answer to a bind.
    pub const BIND_ACK: u8 = 12;
    /// The server refused a bind.
    pub const BIND_NAK: u8 = 13;
    /// Adds presentation contexts to an association.
    pub const ALTER_CONTEXT: u8 = 14;
    /// The server's answer to an alter context.
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    /// Third leg of an authentication.
    pub const AUTH3: u8 = 16;
    /// The server ends the association.
    pub const SHUTDOWN: u8 = 17;
    /// The client cancels a call.
    pub const CO_CANCEL: u8 = 18;
    /// The client abandons a call.
    pub const ORPHANED: u8 = 19;
}

/// First fragment of a PDU sequence.
pub const PFC_FIRST_FRAG: u8 = 0x01;
/// Last fragment of a PDU sequence.
pub const PFC_LAST_FRAG: u8 = 0x02;
/// A request carries an object UUID after its header.
pub const PFC_OBJECT_UUID: u8 = 0x80;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DcerpcDirection {
    /// Client to server (binds, requests).
    ToServer,
    /// Server to client (acks, responses).
    ToClient,
}

impl DcerpcDirection {
    fn index(self) -> usize {
        match self {
            DcerpcDirection::ToServer => 0,
            DcerpcDirection::ToClient => 1,
        }
    }
}

/// Why bytes could not be read as DCERPC (internal to parsing: reported as
/// anomalies, never returned to the caller of [`DcerpcState::feed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DcerpcError {
    /// Fewer bytes than the structure needs.
    #[error("truncated DCERPC data")]
    Truncated,
    /// Not version 5.0 or 5.1 of the connection-oriented protocol.
    #[error("DCERPC version {major}.{minor} is not 5.0 or 5.1")]
    Version {
        /// `rpc_vers`.
        major: u8,
        /// `rpc_vers_minor`.
        minor: u8,
    },
    /// A `frag_length` shorter than the header itself.
    #[error("DCERPC frag_length {0} is shorter than its header")]
    FragLength(u16),
}

/// Deviations found while parsing, each counted; none stops inspection of
/// what was already parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DcerpcAnomaly {
    /// A PDU header that is not DCERPC 5.0/5.1 or whose length is below
    /// the header's: the direction is not parsed further.
    InvalidHeader,
    /// A bind, bind ack, request or response body shorter than its fixed
    /// fields: what could be read was kept.
    MalformedPdu,
    /// A PDU type not used over connection-oriented transports.
    UnknownPduType,
    /// Stub data beyond [`DcerpcConfig::max_stub_len`] (or, across the
    /// connection's transactions, [`DcerpcConfig::max_stub_total`]) was
    /// dropped.
    StubTooLong,
    /// The oldest transaction was dropped to stay within
    /// [`DcerpcConfig::max_transactions`].
    TooManyTransactions,
    /// A bind ack answered more contexts than the bind offered, or an
    /// association has more than [`MAX_CONTEXTS`] contexts.
    TooManyContexts,
}

/// Limits of the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DcerpcConfig {
    /// Stub bytes kept per transaction side.
    pub max_stub_len: usize,
    /// Stub bytes held across all transactions.
    pub max_stub_total: usize,
    /// Transactions held at once.
    pub max_transactions: usize,
}

impl Default for DcerpcConfig {
    fn default() -> Self {
        DcerpcConfig {
            max_stub_len: DEFAULT_MAX_STUB_LEN,
            max_stub_total: DEFAULT_MAX_STUB_TOTAL,
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
        }
    }
}

/// The common header of every connection-oriented PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `rpc_vers` (5).
    pub major: u8,
    /// `rpc_vers_minor` (0 or 1).
    pub minor: u8,
    /// The PDU type (see [`ptype`]).
    pub ptype: u8,
    /// `pfc_flags` (first/last fragment, object UUID, ...).
    pub flags: u8,
    /// The data representation: byte 0's high nibble 1 is little-endian.
    pub drep: [u8; 4],
    /// Length of the whole PDU, header included.
    pub frag_len: u16,
    /// Length of the authentication value at the PDU's end.
    pub auth_len: u16,
    /// The call this PDU belongs to.
    pub call_id: u32,
}

impl Header {
    /// Whether integers (and UUID fields) are little-endian.
    pub fn little_endian(&self) -> bool {
        self.drep[0] & 0x10 != 0
    }
}

/// Reads a PDU header from the start of `b`.
pub fn parse_header(b: &[u8]) -> Result<Header, DcerpcError> {
    let h = b.get(..HEADER_LEN).ok_or(DcerpcError::Truncated)?;
    let mut drep = [0u8; 4];
    drep.copy_from_slice(h.get(4..8).ok_or(DcerpcError::Truncated)?);
    let mut r = Reader::new(h, drep[0] & 0x10 != 0);
    r.skip(8)?;
    let header = Header {
        major: h.first().copied().unwrap_or(0),
        minor: h.get(1).copied().unwrap_or(0),
        ptype: h.get(2).copied().unwrap_or(0),
        flags: h.get(3).copied().unwrap_or(0),
        drep,
        frag_len: r.u16()?,
        auth_len: r.u16()?,
        call_id: r.u32()?,
    };
    if header.major != 5 || header.minor > 1 {
        return Err(DcerpcError::Version {
            major: header.major,
            minor: header.minor,
        });
    }
    if usize::from(header.frag_len) < HEADER_LEN {
        return Err(DcerpcError::FragLength(header.frag_len));
    }
    Ok(header)
}

/// A bounds-checked cursor reading integers in a PDU's byte order.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    le: bool,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8], le: bool) -> Self {
        Reader { b, pos: 0, le }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DcerpcError> {
        let end = self.pos.checked_add(n).ok_or(DcerpcError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(DcerpcError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn skip(&mut self, n: usize) -> Result<(), DcerpcError> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Result<u8, DcerpcError> {
        self.take(1)?.first().copied().ok_or(DcerpcError::Truncated)
    }
    fn u16(&mut self) -> Result<u16, DcerpcError> {
        let s = self.take(2)?;
        let a: [u8; 2] = s.try_into().map_err(|_| DcerpcError::Truncated)?;
        Ok(if self.le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }
    fn u32(&mut self) -> Result<u32, DcerpcError> {
        let s = self.take(4)?;
        let a: [u8; 4] = s.try_into().map_err(|_| DcerpcError::Truncated)?;
        Ok(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    /// A UUID in textual byte order (its first three fields are integers
    /// in the PDU's byte order).
    fn uuid(&mut self) -> Result<[u8; 16], DcerpcError> {
        let s = self.take(16)?;
        let mut u: [u8; 16] = s.try_into().map_err(|_| DcerpcError::Truncated)?;
        if self.le {
            if let Some(f) = u.get_mut(0..4) {
                f.reverse();
            }
            if let Some(f) = u.get_mut(4..6) {
                f.reverse();
            }
            if let Some(f) = u.get_mut(6..8) {
                f.reverse();
            }
        }
        Ok(u)
    }
}

/// An interface (abstract syntax) offered in a bind or alter context: a
/// presentation context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// The presentation context id requests name it by.
    pub ctx_id: u16,
    /// The interface UUID, in textual byte order.
    pub uuid: [u8; 16],
    /// Major interface version.
    pub version: u16,
    /// Minor interface version.
    pub version_minor: u16,
    /// The PDU that offered it had the first-fragment flag (`dcerpc.iface`
    /// without `any_frag` only matches such interfaces).
    pub first_frag: bool,
    /// The server's answer (0 accepted, 1 user rejection, 2 provider
    /// rejection, 3 negotiate ack), once known.
    pub result: Option<u16>,
}

/// Formats a UUID (textual byte order) as Suricata logs it.
pub fn uuid_string(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One call (request and response with the same call id), or one bind and
/// its ack: Suricata's DCERPC transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DcerpcTransaction {
    /// Parser-assigned id, increasing.
    pub id: u64,
    /// The call id shared by the request and the response.
    pub call_id: u32,
    /// The request-side PDU type (request, bind, alter context).
    pub req_type: Option<u8>,
    /// The response-side PDU type (response, fault, bind ack, ...).
    pub resp_type: Option<u8>,
    /// The request's presentation context id.
    pub ctx_id: u16,
    /// The request's operation number.
    pub opnum: u16,
    /// A request PDU was seen (`dcerpc.iface` and `dcerpc.opnum` need it).
    pub request_seen: bool,
    /// Stub data of the request's fragments.
    pub stub_request: Vec<u8>,
    /// Stub data of the response's fragments.
    pub stub_response: Vec<u8>,
    /// Request fragments seen.
    pub req_frags: u16,
    /// Response fragments seen.
    pub resp_frags: u16,
    /// The request side is complete.
    pub req_done: bool,
    /// The response side is complete.
    pub resp_done: bool,
    /// The first request PDU was little-endian.
    pub little_endian: bool,
    /// For a bind or alter context: the contexts it offered, with the
    /// server's results once acknowledged (for logs).
    pub interfaces: Vec<Interface>,
    /// `rpc_vers` and `rpc_vers_minor` of the first PDU.
    pub version: (u8, u8),
}

/// What became complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcerpcEvent {
    /// The request side of transaction `id` is complete.
    Request(u64),
    /// The response side of transaction `id` is complete.
    Response(u64),
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
struct Side {
    /// A PDU read so far (at most 65535 bytes).
    buf: Vec<u8>,
    /// Parsing gave up (not DCERPC).
    stopped: bool,
    /// Bytes were lost: looking for the next plausible PDU header, a byte
    /// at a time through `buf` (at most [`HEADER_LEN`] bytes then).
    resync: bool,
}

/// The DCERPC state of one connection.
#[derive(Debug, Default)]
pub struct DcerpcState {
    cfg: DcerpcConfig,
    sides: [Side; 2],
    /// The contexts offered by the last bind or alter context (its ack's
    /// results apply to them in order).
    offered: Vec<Interface>,
    /// The association's accepted contexts.
    pub accepted: Vec<Interface>,
    /// Transactions held.
    txs: VecDeque<DcerpcTransaction>,
    next_id: u64,
    /// Stub bytes held by the transactions.
    stub_held: usize,
    /// Anomalies, each kind once, in order of first occurrence.
    pub anomalies: Vec<DcerpcAnomaly>,
    /// How many times anomalies occurred in all.
    pub anomaly_count: u64,
}

impl DcerpcState {
    /// A new connection's state.
    pub fn new(cfg: DcerpcConfig) -> Self {
        DcerpcState {
            cfg,
            ..Default::default()
        }
    }

    fn anomaly(&mut self, a: DcerpcAnomaly) {
        self.anomaly_count = self.anomaly_count.saturating_add(1);
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }

    /// Feeds in-order stream data of `dir`, appending the transaction
    /// sides that became complete to `events`.
    pub fn feed(&mut self, dir: DcerpcDirection, mut data: &[u8], events: &mut Vec<DcerpcEvent>) {
        let i = dir.index();
        while !data.is_empty() {
            let Some(side) = self.sides.get_mut(i) else {
                return;
            };
            if side.stopped {
                return;
            }
            if side.resync {
                let Some((&b, rest)) = data.split_first() else {
                    return;
                };
                data = rest;
                side.buf.push(b);
                if side.buf.len() < HEADER_LEN {
                    continue;
                }
                if parse_header(&side.buf).is_ok_and(|h| plausible(&h)) {
                    side.resync = false;
                } else {
                    side.buf.remove(0);
                    continue;
                }
            }
            // Whole PDUs straight from the input when nothing is buffered.
            if side.buf.is_empty() {
                match parse_header(data) {
                    Ok(h) if data.len() >= usize::from(h.frag_len) => {
                        let n = usize::from(h.frag_len);
                        let (pdu, rest) = data.split_at(n);
                        self.handle_pdu(pdu, events);
                        data = rest;
                        continue;
                    }
                    Err(DcerpcError::Truncated) | Ok(_) => {}
                    Err(_) => {
                        side.stopped = true;
                        self.anomaly(DcerpcAnomaly::InvalidHeader);
                        return;
                    }
                }
            }
            // Buffer up to the header, then up to the PDU's end.
            let want = if side.buf.len() < HEADER_LEN {
                HEADER_LEN
            } else {
                match parse_header(&side.buf) {
                    Ok(h) => usize::from(h.frag_len),
                    Err(_) => {
                        side.stopped = true;
                        side.buf.clear();
                        self.anomaly(DcerpcAnomaly::InvalidHeader);
                        return;
                    }
                }
            };
            let n = want.saturating_sub(side.buf.len()).min(data.len());
            let (head, rest) = data.split_at(n);
            side.buf.extend_from_slice(head);
            data = rest;
            if side.buf.len() < HEADER_LEN {
                continue;
            }
            match parse_header(&side.buf) {
                Ok(h) if side.buf.len() >= usize::from(h.frag_len) => {
                    let pdu = std::mem::take(&mut side.buf);
                    self.handle_pdu(&pdu, events);
                    // Keep the allocation for the next PDU.
                    if let Some(side) = self.sides.get_mut(i) {
                        if side.buf.is_empty() {
                            side.buf = pdu;
                            side.buf.clear();
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    side.stopped = true;
                    side.buf.clear();
                    self.anomaly(DcerpcAnomaly::InvalidHeader);
                    return;
                }
            }
        }
    }

    /// Bytes of `dir` were lost (a reassembly gap): the PDU being read is
    /// dropped, and parsing resumes at the next bytes that make a
    /// plausible PDU header (version 5.0/5.1, a connection-oriented type,
    /// a valid data representation), as Suricata resynchronises.
    pub fn gap(&mut self, dir: DcerpcDirection) {
        if let Some(side) = self.sides.get_mut(dir.index()) {
            side.buf.clear();
            side.resync = !side.stopped;
        }
    }

    /// Handles one whole PDU (`pdu` is exactly `frag_length` bytes; a
    /// longer slice is cut to it): what [`Self::feed`] calls per
    /// reassembled PDU, and what a transport carrying whole PDUs calls
    /// directly. Its direction does not matter: the PDU type says whether
    /// it is a request or a response (Suricata does not check either).
    pub fn handle_pdu(&mut self, pdu: &[u8], events: &mut Vec<DcerpcEvent>) {
        let h = match parse_header(pdu) {
            Ok(h) => h,
            Err(_) => {
                self.anomaly(DcerpcAnomaly::InvalidHeader);
                return;
            }
        };
        let pdu = pdu.get(..usize::from(h.frag_len)).unwrap_or(pdu);
        let body = pdu.get(HEADER_LEN..).unwrap_or_default();
        match h.ptype {
            ptype::BIND | ptype::ALTER_CONTEXT => self.on_bind(&h, body, events),
            ptype::BIND_ACK | ptype::ALTER_CONTEXT_RESP | ptype::BIND_NAK => {
                self.on_bind_ack(&h, body, events);
            }
            ptype::REQUEST => self.on_request(&h, body, events),
            ptype::RESPONSE | ptype::FAULT => self.on_response(&h, body, events),
            ptype::AUTH3 | ptype::SHUTDOWN | ptype::CO_CANCEL | ptype::ORPHANED => {}
            _ => self.anomaly(DcerpcAnomaly::UnknownPduType),
        }
    }

    /// Starts a transaction for a PDU of call `h.call_id`.
    fn new_tx(&mut self, h: &Header) -> Option<&mut DcerpcTransaction> {
        if self.txs.len() >= self.cfg.max_transactions.max(1) {
            if let Some(old) = self.txs.pop_front() {
                self.stub_held = self.stub_held.saturating_sub(stub_len(&old));
            }
            self.anomaly(DcerpcAnomaly::TooManyTransactions);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.txs.push_back(DcerpcTransaction {
            id,
            call_id: h.call_id,
            little_endian: h.little_endian(),
            version: (h.major, h.minor),
            ..Default::default()
        });
        self.txs.back_mut()
    }

    /// The open transaction of a request-side PDU, or a new one.
    fn request_tx(&mut self, h: &Header, req_type: u8) -> Option<&mut DcerpcTransaction> {
        let pos = self.txs.iter().position(|t| {
            t.call_id == h.call_id
                && !t.req_done
                && t.req_type.is_none_or(|r| r == req_type)
                && t.resp_type.is_none_or(|r| request_for(r) == req_type)
        });
        match pos {
            Some(p) => self.txs.get_mut(p),
            None => self.new_tx(h),
        }
    }

    /// The open transaction a response-side PDU answers, or a new one.
    fn response_tx(&mut self, h: &Header) -> Option<&mut DcerpcTransaction> {
        let want = request_for(h.ptype);
        let pos = self.txs.iter().position(|t| {
            t.call_id == h.call_id && !t.resp_done && t.req_type.is_none_or(|r| r == want)
        });
        match pos {
            Some(p) => self.txs.get_mut(p),
            None => self.new_tx(h),
        }
    }

    fn on_bind(&mut self, h: &Header, body: &[u8], events: &mut Vec<DcerpcEvent>) {
        let mut items = Vec::new();
        let ok = parse_bind(h, body, &mut items).is_ok();
        if !ok {
            self.anomaly(DcerpcAnomaly::MalformedPdu);
        }
        if h.ptype == ptype::BIND {
            // A new association.
            self.accepted.clear();
        }
        self.offered.clone_from(&items);
        let Some(tx) = self.request_tx(h, h.ptype) else {
            return;
        };
        tx.req_type = Some(h.ptype);
        tx.req_frags = tx.req_frags.saturating_add(1);
        tx.req_done = true;
        tx.interfaces = items;
        events.push(DcerpcEvent::Request(tx.id));
    }

    fn on_bind_ack(&mut self, h: &Header, body: &[u8], events: &mut Vec<DcerpcEvent>) {
        let mut results = Vec::new();
        if h.ptype != ptype::BIND_NAK && parse_bind_ack(h, body, &mut results).is_err() {
            self.anomaly(DcerpcAnomaly::MalformedPdu);
        }
        if results.len() > self.offered.len() {
            self.anomaly(DcerpcAnomaly::TooManyContexts);
        }
        let mut over = false;
        for (item, &r) in self.offered.iter_mut().zip(&results) {
            item.result = Some(r);
            if r == 0 {
                self.accepted.retain(|a| a.ctx_id != item.ctx_id);
                if self.accepted.len() < MAX_CONTEXTS {
                    self.accepted.push(*item);
                } else {
                    over = true;
                }
            }
        }
        if over {
            self.anomaly(DcerpcAnomaly::TooManyContexts);
        }
        let offered = self.offered.clone();
        let Some(tx) = self.response_tx(h) else {
            return;
        };
        tx.resp_type = Some(h.ptype);
        tx.resp_frags = tx.resp_frags.saturating_add(1);
        tx.resp_done = true;
        if tx.req_type.is_some() {
            tx.interfaces = offered;
        }
        events.push(DcerpcEvent::Response(tx.id));
    }

    fn on_request(&mut self, h: &Header, body: &[u8], events: &mut Vec<DcerpcEvent>) {
        let mut r = Reader::new(body, h.little_endian());
        let fields = (|| -> Result<(u16, u16), DcerpcError> {
            r.skip(4)?; // alloc_hint
            let ctx = r.u16()?;
            let op = r.u16()?;
            if h.flags & PFC_OBJECT_UUID != 0 {
                r.skip(16)?;
            }
            Ok((ctx, op))
        })();
        let Ok((ctx_id, opnum)) = fields else {
            self.anomaly(DcerpcAnomaly::MalformedPdu);
            return;
        };
        let stub = stub_of(h, body, r.pos);
        let max = self.stub_room();
        let Some(tx) = self.request_tx(h, ptype::REQUEST) else {
            return;
        };
        if !tx.request_seen {
            tx.ctx_id = ctx_id;
            tx.opnum = opnum;
            tx.request_seen = true;
            tx.little_endian = h.little_endian();
        }
        tx.req_type = Some(ptype::REQUEST);
        let done = last_fragment(h.flags, tx.req_frags);
        tx.req_frags = tx.req_frags.saturating_add(1);
        let (added, cut) = append_capped(&mut tx.stub_request, stub, max);
        if done {
            tx.req_done = true;
            events.push(DcerpcEvent::Request(tx.id));
        }
        self.stub_held = self.stub_held.saturating_add(added);
        if cut {
            self.anomaly(DcerpcAnomaly::StubTooLong);
        }
    }

    fn on_response(&mut self, h: &Header, body: &[u8], events: &mut Vec<DcerpcEvent>) {
        let mut r = Reader::new(body, h.little_endian());
        // alloc_hint, context id, cancel count, reserved (and a fault's
        // status, which is not stub data).
        let skip = if h.ptype == ptype::FAULT { 12 } else { 8 };
        if r.skip(skip).is_err() {
            self.anomaly(DcerpcAnomaly::MalformedPdu);
            return;
        }
        let stub = if h.ptype == ptype::FAULT {
            &[][..]
        } else {
            stub_of(h, body, r.pos)
        };
        let max = self.stub_room();
        let Some(tx) = self.response_tx(h) else {
            return;
        };
        tx.resp_type = Some(h.ptype);
        let done = h.ptype == ptype::FAULT || last_fragment(h.flags, tx.resp_frags);
        tx.resp_frags = tx.resp_frags.saturating_add(1);
        let (added, cut) = append_capped(&mut tx.stub_response, stub, max);
        if done {
            tx.resp_done = true;
            events.push(DcerpcEvent::Response(tx.id));
        }
        self.stub_held = self.stub_held.saturating_add(added);
        if cut {
            self.anomaly(DcerpcAnomaly::StubTooLong);
        }
    }

    /// How much stub data one side may hold, and how much the connection
    /// may still take in all.
    fn stub_room(&self) -> (usize, usize) {
        (
            self.cfg.max_stub_len,
            self.cfg.max_stub_total.saturating_sub(self.stub_held),
        )
    }

    /// Stub bytes held by all transactions (at most
    /// [`DcerpcConfig::max_stub_total`]).
    pub fn stub_held(&self) -> usize {
        self.stub_held
    }

    /// The accepted context a transaction's request used (its interface),
    /// when there is one.
    pub fn bound_interface(&self, tx: &DcerpcTransaction) -> Option<&Interface> {
        if !tx.request_seen {
            return None;
        }
        self.accepted.iter().find(|a| a.ctx_id == tx.ctx_id)
    }

    /// Bytes held for PDUs not yet complete, both directions (at most
    /// 65535 per direction: a PDU's length is a 16-bit field).
    pub fn buffered(&self) -> usize {
        self.sides.iter().map(|s| s.buf.len()).sum()
    }

    /// The limits in force.
    pub fn config(&self) -> DcerpcConfig {
        self.cfg
    }

    /// The transaction `id`, while held.
    pub fn transaction(&self, id: u64) -> Option<&DcerpcTransaction> {
        self.txs.iter().find(|t| t.id == id)
    }

    /// The transactions held, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &DcerpcTransaction> {
        self.txs.iter()
    }

    /// Frees transactions with both sides complete for which `keep` says
    /// false (the caller keeps those it has yet to inspect).
    pub fn remove_completed(&mut self, keep: impl Fn(u64) -> bool) {
        let mut freed = 0usize;
        self.txs.retain(|t| {
            let stay = !(t.req_done && t.resp_done) || keep(t.id);
            if !stay {
                freed = freed.saturating_add(stub_len(t));
            }
            stay
        });
        self.stub_held = self.stub_held.saturating_sub(freed);
    }

    /// Whether `iface` names an accepted context of the association that
    /// transaction `tx`'s request used, per `dcerpc.iface`: same UUID, the
    /// request's context id, the version comparison (when given) true of
    /// the interface's major version, and, without `any_frag`, bound by a
    /// PDU with the first-fragment flag.
    pub fn iface_matches(
        &self,
        tx: &DcerpcTransaction,
        uuid: &[u8; 16],
        version: impl Fn(u16) -> bool,
        any_frag: bool,
    ) -> bool {
        tx.request_seen
            && self.accepted.iter().any(|a| {
                (any_frag || a.first_frag)
                    && a.uuid == *uuid
                    && a.ctx_id == tx.ctx_id
                    && version(a.version)
            })
    }
}

/// A header worth resynchronising on after a gap: a connection-oriented
/// PDU type and a data representation Suricata's probe accepts.
fn plausible(h: &Header) -> bool {
    h.ptype <= ptype::ORPHANED && h.drep[0] & 0xee == 0 && h.drep[1] <= 3
}

/// The request-side PDU type a response-side type answers.
fn request_for(resp: u8) -> u8 {
    match resp {
        ptype::BIND_ACK | ptype::BIND_NAK => ptype::BIND,
        ptype::ALTER_CONTEXT_RESP => ptype::ALTER_CONTEXT,
        _ => ptype::REQUEST,
    }
}

/// A PDU ends its call's fragment sequence: it has the last-fragment flag,
/// or neither fragment flag while no sequence is open (`earlier` is the
/// number of fragments before it; without flags it is a middle fragment
/// otherwise).
fn last_fragment(flags: u8, earlier: u16) -> bool {
    flags & PFC_LAST_FRAG != 0 || (flags & (PFC_FIRST_FRAG | PFC_LAST_FRAG) == 0 && earlier == 0)
}

/// The stub data of a request or response body whose fixed fields end at
/// `start`: up to the authentication trailer (8-byte `sec_trailer` plus
/// `auth_length` bytes), if any.
fn stub_of<'a>(h: &Header, body: &'a [u8], start: usize) -> &'a [u8] {
    let trailer = if h.auth_len > 0 {
        usize::from(h.auth_len).saturating_add(8)
    } else {
        0
    };
    let end = body.len().saturating_sub(trailer).max(start);
    body.get(start..end).unwrap_or_default()
}

/// Appends to a transaction side's stub data; `room` is `(per side,
/// left in the connection's budget)`. Returns the bytes added and whether
/// some were dropped.
fn append_capped(buf: &mut Vec<u8>, data: &[u8], room: (usize, usize)) -> (usize, bool) {
    let n = room.0.saturating_sub(buf.len()).min(room.1).min(data.len());
    buf.extend_from_slice(data.get(..n).unwrap_or_default());
    (n, n < data.len())
}

/// Stub bytes a transaction holds.
fn stub_len(t: &DcerpcTransaction) -> usize {
    t.stub_request.len().saturating_add(t.stub_response.len())
}

/// The presentation contexts of a bind or alter context body.
fn parse_bind(h: &Header, body: &[u8], out: &mut Vec<Interface>) -> Result<(), DcerpcError> {
    let mut r = Reader::new(body, h.little_endian());
    r.skip(8)?; // max_xmit_frag, max_recv_frag, assoc_group_id
    let n = r.u8()?;
    r.skip(3)?;
    for _ in 0..n {
        let ctx_id = r.u16()?;
        let n_transfer = r.u8()?;
        r.skip(1)?;
        let uuid = r.uuid()?;
        let version = r.u16()?;
        let version_minor = r.u16()?;
        // Transfer syntaxes: a UUID and a 32-bit version each.
        r.skip(usize::from(n_transfer).saturating_mul(20))?;
        out.push(Interface {
            ctx_id,
            uuid,
            version,
            version_minor,
            first_frag: h.flags & PFC_FIRST_FRAG != 0,
            result: None,
        });
    }
    Ok(())
}

/// The per-context results of a bind ack or alter context response body.
fn parse_bind_ack(h: &Header, body: &[u8], out: &mut Vec<u16>) -> Result<(), DcerpcError> {
    let mut r = Reader::new(body, h.little_endian());
    r.skip(8)?; // max_xmit_frag, max_recv_frag, assoc_group_id
    let sec_addr_len = usize::from(r.u16()?);
    r.skip(sec_addr_len)?;
    // The result list is 4-byte aligned from the PDU's start.
    let at = HEADER_LEN + r.pos;
    r.skip((4 - at % 4) % 4)?;
    let n = r.u8()?;
    r.skip(3)?;
    for _ in 0..n {
        let result = r.u16()?;
        r.skip(22)?; // reason, transfer syntax
        out.push(result);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const MGMT: [u8; 16] = [
        0xaf, 0xa8, 0xbd, 0x80, 0x7d, 0x8a, 0x11, 0xc9, 0xbe, 0xf4, 0x08, 0x00, 0x2b, 0x10, 0x29,
        0x89,
    ];

    /// A PDU: header (drep little- or big-endian) and body.
    pub(super) fn pdu(ptype: u8, flags: u8, le: bool, call_id: u32, body: &[u8]) -> Vec<u8> {
        let len = u16::try_from(HEADER_LEN + body.len()).unwrap();
        let mut v = vec![5, 0, ptype, flags, if le { 0x10 } else { 0 }, 0, 0, 0];
        let put16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if le { x.to_le_bytes() } else { x.to_be_bytes() });
        };
        put16(&mut v, len);
        put16(&mut v, 0);
        v.extend_from_slice(&if le {
            call_id.to_le_bytes()
        } else {
            call_id.to_be_bytes()
        });
        v.extend_from_slice(body);
        v
    }

    fn wire_uuid(u: &[u8; 16], le: bool) -> Vec<u8> {
        let mut w = u.to_vec();
        if le {
            w[0..4].reverse();
            w[4..6].reverse();
            w[6..8].reverse();
        }
        w
    }

    pub(super) fn bind(le: bool, call_id: u32, items: &[(u16, [u8; 16], u16)]) -> Vec<u8> {
        let mut b = vec![0xd0, 0x16, 0xd0, 0x16, 0, 0, 0, 0];
        b.push(u8::try_from(items.len()).unwrap());
        b.extend_from_slice(&[0, 0, 0]);
        for (ctx, uuid, ver) in items {
            b.extend_from_slice(&if le {
                ctx.to_le_bytes()
            } else {
                ctx.to_be_bytes()
            });
            b.extend_from_slice(&[1, 0]);
            b.extend_from_slice(&wire_uuid(uuid, le));
            b.extend_from_slice(&if le {
                ver.to_le_bytes()
            } else {
                ver.to_be_bytes()
            });
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&[0x11; 20]);
        }
        pdu(ptype::BIND, 3, le, call_id, &b)
    }

    pub(super) fn bind_ack(le: bool, call_id: u32, results: &[u16]) -> Vec<u8> {
        let mut b = vec![0xd0, 0x16, 0xd0, 0x16, 0, 0, 0, 0];
        // Secondary address "135\0" (4 bytes): 16+10+4 = 30, pad 2.
        b.extend_from_slice(&if le {
            4u16.to_le_bytes()
        } else {
            4u16.to_be_bytes()
        });
        b.extend_from_slice(b"135\0");
        b.extend_from_slice(&[0, 0]);
        b.push(u8::try_from(results.len()).unwrap());
        b.extend_from_slice(&[0, 0, 0]);
        for r in results {
            b.extend_from_slice(&if le { r.to_le_bytes() } else { r.to_be_bytes() });
            b.extend_from_slice(&[0; 22]);
        }
        pdu(ptype::BIND_ACK, 3, le, call_id, &b)
    }

    pub(super) fn request(
        le: bool,
        flags: u8,
        call_id: u32,
        ctx: u16,
        op: u16,
        stub: &[u8],
    ) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&if le {
            ctx.to_le_bytes()
        } else {
            ctx.to_be_bytes()
        });
        b.extend_from_slice(&if le {
            op.to_le_bytes()
        } else {
            op.to_be_bytes()
        });
        if flags & PFC_OBJECT_UUID != 0 {
            b.extend_from_slice(&[0xaa; 16]);
        }
        b.extend_from_slice(stub);
        pdu(ptype::REQUEST, flags, le, call_id, &b)
    }

    pub(super) fn response(le: bool, flags: u8, call_id: u32, stub: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, 1, 0, 0, 0];
        b.extend_from_slice(stub);
        pdu(ptype::RESPONSE, flags, le, call_id, &b)
    }

    fn session(le: bool) -> Vec<(DcerpcDirection, Vec<u8>)> {
        use DcerpcDirection::*;
        vec![
            (ToServer, bind(le, 7, &[(0, [9; 16], 1), (1, MGMT, 1)])),
            (ToClient, bind_ack(le, 7, &[2, 0])),
            (ToServer, request(le, 3, 8, 1, 4, b"\x09\x00hello")),
            (ToClient, response(le, 3, 8, b"world")),
        ]
    }

    fn run(st: &mut DcerpcState, pdus: &[(DcerpcDirection, Vec<u8>)]) -> Vec<DcerpcEvent> {
        let mut ev = Vec::new();
        for (d, p) in pdus {
            st.feed(*d, p, &mut ev);
        }
        ev
    }

    #[test]
    fn bind_request_response_both_endiannesses() {
        for le in [true, false] {
            let mut st = DcerpcState::default();
            let ev = run(&mut st, &session(le));
            assert_eq!(
                ev,
                vec![
                    DcerpcEvent::Request(0),
                    DcerpcEvent::Response(0),
                    DcerpcEvent::Request(1),
                    DcerpcEvent::Response(1)
                ],
                "le={le}"
            );
            assert_eq!(st.accepted.len(), 1);
            assert_eq!(st.accepted[0].uuid, MGMT);
            assert_eq!(st.accepted[0].ctx_id, 1);
            let tx = st.transaction(1).unwrap();
            assert_eq!((tx.ctx_id, tx.opnum), (1, 4));
            assert_eq!(tx.stub_request, b"\x09\x00hello");
            assert_eq!(tx.stub_response, b"world");
            assert!(st.iface_matches(tx, &MGMT, |v| v == 1, false));
            assert!(!st.iface_matches(tx, &MGMT, |v| v < 1, false));
            // The rejected context's interface does not match.
            assert!(!st.iface_matches(tx, &[9; 16], |_| true, false));
            let bind_tx = st.transaction(0).unwrap();
            assert!(!st.iface_matches(bind_tx, &MGMT, |_| true, false));
            assert_eq!(bind_tx.interfaces[1].result, Some(0));
            assert_eq!(bind_tx.interfaces[0].result, Some(2));
            assert!(st.anomalies.is_empty());
        }
    }

    #[test]
    fn split_anywhere_gives_the_same_result() {
        let all: Vec<u8> = session(true)
            .into_iter()
            .filter(|(d, _)| *d == DcerpcDirection::ToServer)
            .flat_map(|(_, p)| p)
            .collect();
        let mut whole = DcerpcState::default();
        let mut ev_whole = Vec::new();
        whole.feed(DcerpcDirection::ToServer, &all, &mut ev_whole);
        for cut in 0..all.len() {
            let mut st = DcerpcState::default();
            let mut ev = Vec::new();
            st.feed(DcerpcDirection::ToServer, &all[..cut], &mut ev);
            st.feed(DcerpcDirection::ToServer, &all[cut..], &mut ev);
            assert_eq!(ev, ev_whole, "cut {cut}");
            let a: Vec<_> = st.transactions().collect();
            let b: Vec<_> = whole.transactions().collect();
            assert_eq!(a, b, "cut {cut}");
        }
    }

    #[test]
    fn request_fragments_are_reassembled_and_capped() {
        let mut st = DcerpcState::new(DcerpcConfig {
            max_stub_len: 6,
            ..Default::default()
        });
        let mut ev = Vec::new();
        let d = DcerpcDirection::ToServer;
        st.feed(d, &request(true, PFC_FIRST_FRAG, 5, 0, 9, b"abcd"), &mut ev);
        assert!(ev.is_empty());
        // A middle fragment: neither flag.
        st.feed(d, &request(true, 0, 5, 0, 9, b""), &mut ev);
        st.feed(d, &request(true, PFC_LAST_FRAG, 5, 0, 9, b"efgh"), &mut ev);
        assert_eq!(ev, vec![DcerpcEvent::Request(0)]);
        let tx = st.transaction(0).unwrap();
        assert_eq!(tx.stub_request, b"abcdef");
        assert_eq!(tx.req_frags, 3);
        assert_eq!(st.anomalies, vec![DcerpcAnomaly::StubTooLong]);
    }

    #[test]
    fn stub_data_is_capped_across_transactions() {
        let mut st = DcerpcState::new(DcerpcConfig {
            max_stub_len: 8,
            max_stub_total: 20,
            ..Default::default()
        });
        let mut ev = Vec::new();
        // Calls left open (first fragment only), 8 bytes each.
        for call in 0..4 {
            st.feed(
                DcerpcDirection::ToServer,
                &request(true, PFC_FIRST_FRAG, call, 0, 0, b"12345678"),
                &mut ev,
            );
        }
        let held: Vec<usize> = st.transactions().map(|t| t.stub_request.len()).collect();
        assert_eq!(held, vec![8, 8, 4, 0]);
        assert_eq!(st.stub_held(), 20);
        assert!(st.anomalies.contains(&DcerpcAnomaly::StubTooLong));
        // Completing and freeing a call gives its bytes back.
        st.feed(
            DcerpcDirection::ToServer,
            &request(true, PFC_LAST_FRAG, 0, 0, 0, b""),
            &mut ev,
        );
        st.feed(
            DcerpcDirection::ToClient,
            &response(true, 3, 0, b""),
            &mut ev,
        );
        st.remove_completed(|_| false);
        assert_eq!(st.stub_held(), 12);
    }

    #[test]
    fn object_uuid_and_auth_trailer_are_not_stub_data() {
        let mut p = request(true, 3 | PFC_OBJECT_UUID, 1, 0, 2, b"stub");
        // Add an 8-byte sec_trailer and 4 auth bytes.
        p.extend_from_slice(&[0; 12]);
        let len = u16::try_from(p.len()).unwrap();
        p[8..10].copy_from_slice(&len.to_le_bytes());
        p[10..12].copy_from_slice(&4u16.to_le_bytes());
        let mut st = DcerpcState::default();
        let mut ev = Vec::new();
        st.feed(DcerpcDirection::ToServer, &p, &mut ev);
        assert_eq!(st.transaction(0).unwrap().stub_request, b"stub");
    }

    #[test]
    fn not_dcerpc_stops_the_direction() {
        let mut st = DcerpcState::default();
        let mut ev = Vec::new();
        st.feed(
            DcerpcDirection::ToServer,
            b"GET / HTTP/1.1\r\n\r\n",
            &mut ev,
        );
        st.feed(
            DcerpcDirection::ToServer,
            &request(true, 3, 1, 0, 0, b""),
            &mut ev,
        );
        assert!(ev.is_empty());
        assert_eq!(st.anomalies, vec![DcerpcAnomaly::InvalidHeader]);
        // The other direction is still parsed.
        st.feed(
            DcerpcDirection::ToClient,
            &response(true, 3, 1, b""),
            &mut ev,
        );
        assert_eq!(ev, vec![DcerpcEvent::Response(0)]);
    }

    #[test]
    fn alter_context_adds_and_bind_resets() {
        let mut st = DcerpcState::default();
        let mut ev = Vec::new();
        use DcerpcDirection::*;
        st.feed(ToServer, &bind(true, 1, &[(0, MGMT, 1)]), &mut ev);
        st.feed(ToClient, &bind_ack(true, 1, &[0]), &mut ev);
        let mut alter = bind(true, 2, &[(1, [7; 16], 3)]);
        alter[2] = ptype::ALTER_CONTEXT;
        st.feed(ToServer, &alter, &mut ev);
        let mut resp = bind_ack(true, 2, &[0]);
        resp[2] = ptype::ALTER_CONTEXT_RESP;
        st.feed(ToClient, &resp, &mut ev);
        assert_eq!(st.accepted.len(), 2);
        st.feed(ToServer, &bind(true, 3, &[(0, [7; 16], 3)]), &mut ev);
        assert!(st.accepted.is_empty());
    }

    #[test]
    fn bind_without_first_frag_needs_any_frag() {
        let mut st = DcerpcState::default();
        let mut ev = Vec::new();
        use DcerpcDirection::*;
        let mut b = bind(true, 1, &[(0, MGMT, 1)]);
        b[3] = PFC_LAST_FRAG;
        st.feed(ToServer, &b, &mut ev);
        st.feed(ToClient, &bind_ack(true, 1, &[0]), &mut ev);
        st.feed(ToServer, &request(true, 3, 2, 0, 1, b""), &mut ev);
        let tx = st.transaction(1).unwrap();
        assert!(!st.iface_matches(tx, &MGMT, |_| true, false));
        assert!(st.iface_matches(tx, &MGMT, |_| true, true));
    }

    #[test]
    fn transactions_are_bounded() {
        let mut st = DcerpcState::new(DcerpcConfig {
            max_transactions: 4,
            ..Default::default()
        });
        let mut ev = Vec::new();
        for call in 0..10 {
            st.feed(
                DcerpcDirection::ToServer,
                &request(true, 3, call, 0, 0, b"x"),
                &mut ev,
            );
        }
        assert_eq!(st.transactions().count(), 4);
        assert!(st.anomalies.contains(&DcerpcAnomaly::TooManyTransactions));
        st.remove_completed(|_| false);
        assert_eq!(
            st.transactions().count(),
            4,
            "requests without response stay"
        );
    }

    #[test]
    fn a_gap_resynchronises_on_the_next_pdu() {
        let mut st = DcerpcState::default();
        let mut ev = Vec::new();
        let d = DcerpcDirection::ToServer;
        let first = request(true, 3, 1, 0, 1, b"lost stub data");
        st.feed(d, &first[..20], &mut ev);
        st.gap(d);
        // The rest of the lost PDU, then a whole one.
        st.feed(d, &first[30..], &mut ev);
        st.feed(d, &request(true, 3, 2, 0, 5, b"kept"), &mut ev);
        assert_eq!(ev, vec![DcerpcEvent::Request(0)]);
        let tx = st.transaction(0).unwrap();
        assert_eq!((tx.call_id, tx.opnum), (2, 5));
        assert_eq!(tx.stub_request, b"kept");
        assert!(st.anomalies.is_empty());
    }

    #[test]
    fn uuid_formatting() {
        assert_eq!(uuid_string(&MGMT), "afa8bd80-7d8a-11c9-bef4-08002b102989");
    }
}
