//! Application-layer parsing inside the pipeline: protocol detection on a
//! flow's first stream bytes (or, for DNS, its port and a probe of the
//! message), the protocol's parser fed with reassembled data of both
//! directions or with datagrams, and transactions handed to the rule
//! engine.

use std::borrow::Cow;

use rampart_app::dcerpc::{
    DcerpcConfig, DcerpcDirection, DcerpcEvent, DcerpcState, DcerpcTransaction,
};
use rampart_app::dns::{
    self, DnsConfig, DnsDirection, DnsEvent, DnsFlowState, DnsMessage, DnsTransaction,
};
use rampart_app::frame::Frame;
use rampart_app::ftp::{FtpConfig, FtpDirection, FtpEvent, FtpSession, FtpTransaction};
use rampart_app::http::{
    Direction as HttpDir, HttpConfig, HttpEvent, HttpParser, HttpTransaction,
    Progress as HttpProgress,
};
use rampart_app::http2::{Http2Ready, Http2Session, Http2Transaction};
use rampart_app::ike::{self, IkeConfig, IkeDirection, IkeState, IkeTransaction};
use rampart_app::krb5::{self, Krb5Direction, Krb5State, Krb5Transaction, KRB5_PORT};
use rampart_app::nfs::{self, NfsDirection, NfsReady, NfsState, NfsTx, NFS_PORT};
use rampart_app::protocol::{detect_protocol, AppProto};
use rampart_app::quic::{self, QuicDirection, QuicState, QuicTransaction, QUIC_PORTS};
use rampart_app::rfb::RfbSession;
use rampart_app::sip::{self, SipConfig, SipEvent, SipState, SipTransaction};
use rampart_app::smb::{SmbDirection, SmbReady, SmbSession, SmbTx, SmbTxKind};
use rampart_app::smb_dcerpc::SmbDcerpc;
use rampart_app::smtp::{SmtpConfig, SmtpDirection, SmtpEvent, SmtpSession, SmtpTransaction};
use rampart_app::snmp::{
    self, SnmpDirection, SnmpState, SnmpTransaction, SNMP_PORT, SNMP_TRAP_PORT,
};
use rampart_app::ssh::{SshConfig, SshDirection, SshEvent, SshEventKind, SshProgress, SshSession};
use rampart_app::tls::{TlsDirection, TlsEvent, TlsSession};
use rampart_detect::app::{AppCheck, AppInspect, TxProto, TxValue};
use rampart_detect::{AppDetect, TxBuffers, TxSide};
use rampart_rules::Buffer;
use rampart_stream::flow::Direction;

/// The DNS port: Suricata's default `dns.udp.detection-ports` /
/// `dns.tcp.detection-ports`, the only place DNS is looked for.
const DNS_PORT: u16 = 53;

/// The IKE port: Suricata's default `ike` detection port, the only place
/// IKE is looked for.
const IKE_PORT: u16 = 500;

/// Datagrams per flow probed for a protocol (DNS, Kerberos, SNMP, IKE) before
/// giving up (the first only, as in Suricata).
const MAX_UDP_PROBES: u8 = 1;

/// DCERPC transaction sides waiting for their data to be acknowledged, at
/// most (below the parser's transaction cap, so that none is dropped
/// before its inspection).
const MAX_DEFERRED_DCERPC: usize = 128;

/// Kerberos-over-TCP messages waiting for their data to be acknowledged,
/// at most (below the parser's transaction cap, so that none is dropped
/// before its inspection): beyond, the oldest are inspected at once.
const MAX_DEFERRED_KRB5: usize = 128;

/// NFS-over-TCP transaction sides waiting for their data to be
/// acknowledged, at most (below the parser's transaction cap): beyond,
/// the oldest are inspected at once.
const MAX_DEFERRED_NFS: usize = 128;

/// Per-flow application-layer state.
#[derive(Debug, Default)]
pub struct AppState {
    /// The detected protocol, once known.
    pub proto: Option<AppProto>,
    /// Directions whose first bytes were tried for protocol detection.
    tried: [bool; 2],
    /// Per direction (by [`Direction::index`]): the stream offset just
    /// past its first bytes, which decided it (0 for UDP, decided both
    /// ways by the first datagram). Suricata in IDS mode parses data, and
    /// so learns the decision, once the peer acknowledged it.
    decided_at: [Option<u64>; 2],
    /// Per direction: the packet Suricata flags "protocol detection done"
    /// (the first one after the decision became known) was given.
    announced: [bool; 2],
    /// The direction whose first bytes named the flow's protocol.
    proto_dir: Option<Direction>,
    /// Datagrams probed so far (UDP).
    udp_probes: u8,
    /// The IP protocol of the flow (6 or 17), for the rules' header.
    ip_proto: u8,
    /// The HTTP parser of an HTTP flow.
    http: Option<Box<HttpParser>>,
    /// The DNS state of a DNS flow (UDP or TCP).
    dns: Option<Box<DnsFlowState>>,
    /// The TLS handshake state of a TLS flow.
    tls: Option<Box<TlsSession>>,
    /// The SSH state of an SSH flow.
    ssh: Option<Box<SshSession>>,
    /// Compute HASSH for SSH flows detected from now on (some rule uses a
    /// HASSH buffer, as Suricata enables it).
    pub ssh_hassh: bool,
    /// The protocols whose parsers report frames (some rule inspects
    /// them), for parsers created from now on.
    pub frames: FrameWants,
    /// Frames found but not yet inspected, with the stream offset their
    /// data must be acknowledged to (0 for datagrams).
    frame_queue: Vec<QueuedFrame>,
    /// Frames numbered so far per direction (by [`Direction::index`]).
    frame_ids: [u64; 2],
    /// The RFB handshake of an RFB flow.
    rfb: Option<Box<RfbSession>>,
    /// The SIP state of a SIP flow (UDP or TCP).
    sip: Option<Box<SipState>>,
    /// RFB and SIP-over-TCP transaction sides waiting for their data to
    /// be acknowledged (as HTTP's): the direction of the data that made
    /// them ready (an RFB handshake's request side is completed by the
    /// server's data) and the stream offset just past it.
    tx_queue: Vec<(ReadyTx, Direction, u64)>,
    /// The direction of the stream data last fed.
    fed_dir: Option<Direction>,
    /// The RFB transaction was handed out for inspection.
    rfb_ready: bool,
    /// SSH stages parsed but not yet inspected (see [`AppState::defer_ssh`]).
    ssh_queue: Vec<Deferred>,
    /// HTTP transaction sides complete but not yet inspected (see
    /// [`AppState::defer_http`]), with the stream offset just past the
    /// data that completed each.
    http_queue: Vec<(ReadyTx, u64)>,
    /// How far each SSH direction got in the data its peer acknowledged
    /// (what Suricata's parser has seen; index by [`Direction::index`]).
    ssh_seen: [SshProgress; 2],
    /// The connection's EVE `ssh` record was emitted.
    ssh_logged: bool,
    /// The DCERPC state of a DCERPC flow (its transaction sides wait in
    /// the SSH queue for their data to be acknowledged, as SSH stages do).
    dcerpc: Option<Box<DcerpcState>>,
    /// DCERPC over the named pipes of an SMB flow (its transactions'
    /// [`ReadyTx::id`]s carry [`SMB_DCERPC`]).
    smb_pipes: Option<Box<SmbDcerpc>>,
    /// The SMTP state of an SMTP flow.
    smtp: Option<Box<SmtpSession>>,
    /// Finished SMTP transactions waiting for their data to be
    /// acknowledged and for a to-server packet (see
    /// [`AppState::defer_smtp`]).
    smtp_queue: Vec<SmtpDeferred>,
    /// The SMB state of an SMB flow.
    smb: Option<Box<SmbSession>>,
    /// SMB transaction sides parsed but not yet inspected, with the
    /// stream offset their data must be acknowledged to (as HTTP's).
    smb_queue: Vec<(ReadyTx, u64)>,
    /// The direction of the data last fed (SMB sides of the other
    /// direction wait for no acknowledgement).
    smb_fed: Option<Direction>,
    /// How far each direction was acknowledged when SMB sides were last
    /// released: a tree connect's response is visible to its request's
    /// inspection only if acknowledged by then (Suricata's parser would
    /// not have seen it otherwise).
    smb_acked: [u64; 2],
    /// The Kerberos state of a KRB5 flow (UDP or TCP).
    krb5: Option<Box<Krb5State>>,
    /// Kerberos-over-TCP messages parsed but not yet inspected, with the
    /// stream offset their data must be acknowledged to (as HTTP's).
    krb5_queue: Vec<(ReadyTx, u64)>,
    /// The SNMP state of an SNMP flow.
    snmp: Option<Box<SnmpState>>,
    /// The FTP state of an FTP control connection.
    ftp: Option<Box<FtpSession>>,
    /// FTP transaction sides parsed but not yet inspected, with the
    /// stream offset their data must be acknowledged to (as HTTP's).
    ftp_queue: Vec<(ReadyTx, u64)>,
    /// The direction of the data last fed to the FTP parser.
    ftp_fed: Option<Direction>,
    /// The flow's client address when IPv4 (big-endian), for `ftpbounce`.
    pub client_v4: Option<u32>,
    /// The IKE state of an IKE flow.
    ike: Option<Box<IkeState>>,
    /// Per direction: stream bytes that came before the protocol was
    /// known (an FTP server's greeting, which does not decide FTP).
    undecided: [Vec<u8>; 2],
    /// The flow was looked up among expected data connections.
    expectation_checked: bool,
    /// The QUIC state of a QUIC flow.
    quic: Option<Box<QuicState>>,
    /// STARTTLS or AUTH TLS was accepted and no TLS bytes came yet: the
    /// next data is checked to be TLS (see [`AppState::switch_from_tls`]).
    tls_upgrade: bool,
    /// The first HTTP transaction id of a flow that switched to HTTP from
    /// SMTP or FTP (lower ids are the earlier protocol's).
    http_first_id: u64,
    /// The HTTP/2 state of an HTTP/2 flow (its transaction sides wait in
    /// `tx_queue` for their data to be acknowledged, as SIP's; their
    /// [`ReadyTx::id`]s carry [`HTTP2_TX`]).
    http2: Option<Box<Http2Session>>,
    /// The server's bytes after an HTTP connection became a tunnel (`101
    /// Switching Protocols`, `CONNECT`), up to [`MAX_UNDECIDED`], held
    /// until the client's show whether HTTP/2 follows.
    tunnel_held: Vec<u8>,
    /// The tunnel's start was looked at: whether the `101` answered an
    /// `Upgrade: h2c` request whose `HTTP2-Settings` is invalid (checked
    /// when the tunnel starts, while the HTTP transaction is held).
    tunnel_bad_settings: Option<bool>,
    /// The NFS state of an NFS flow (UDP or TCP).
    nfs: Option<Box<NfsState>>,
    /// NFS-over-TCP transaction sides parsed but not yet inspected, with
    /// the stream offset their data must be acknowledged to (as HTTP's).
    nfs_queue: Vec<(ReadyTx, u64)>,
}

/// Marks the [`ReadyTx::id`] of an HTTP/2 transaction, so that it is not
/// taken for an HTTP/1 one of the same flow (before an `Upgrade: h2c`).
const HTTP2_TX: u64 = 1 << 60;

/// Bytes held per direction until the protocol is known.
const MAX_UNDECIDED: usize = 4096;
/// Which protocols' parsers report frames ([`rampart_app::frame`]): those
/// some loaded rule inspects frames of.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FrameWants {
    /// `frame:dns.*`.
    pub dns: bool,
    /// `frame:sip.*`.
    pub sip: bool,
    /// `frame:rfb.*`.
    pub rfb: bool,
}

impl FrameWants {
    /// What `engine`'s rules inspect.
    pub fn of(engine: &rampart_detect::DetectEngine) -> Self {
        FrameWants {
            dns: engine.uses_frames(TxProto::Dns),
            sip: engine.uses_frames(TxProto::Sip),
            rfb: engine.uses_frames(TxProto::Rfb),
        }
    }
}

/// A frame waiting for its data to be acknowledged and for a packet of
/// its direction (Suricata's IDS timing, as for transactions).
#[derive(Debug, Clone)]
pub struct QueuedFrame {
    /// The frame.
    pub frame: Frame,
    /// The protocol whose parser found it.
    pub proto: TxProto,
    /// Its number among its direction's frames (from 1).
    pub id: u64,
    /// The stream offset its data must be acknowledged to (0: none).
    end: u64,
}

impl QueuedFrame {
    /// The frame's direction.
    pub fn direction(&self) -> Direction {
        match self.frame.dir {
            HttpDir::ToServer => Direction::ToServer,
            HttpDir::ToClient => Direction::ToClient,
        }
    }

    /// The frame buffer rules name it by (`frame:sip.request.line`).
    pub fn buffer(&self) -> Option<Buffer> {
        let proto = match self.proto {
            TxProto::Dns => "dns",
            TxProto::Sip => "sip",
            TxProto::Rfb => "rfb",
            _ => return None,
        };
        Buffer::frame(proto, self.frame.kind)
    }
}

/// Frames queued per flow, at most, and their bytes: beyond either the
/// oldest are inspected at once (a one-sided capture never acknowledges
/// anything).
const MAX_QUEUED_FRAMES: usize = 256;
const MAX_QUEUED_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Marks the [`ReadyTx::id`] of a DCERPC transaction carried by an SMB
/// flow's named pipes, so that it is not taken for an SMB transaction id.
const SMB_DCERPC: u64 = 1 << 61;

/// Marks the [`ReadyTx::id`] of a TLS stage of an SMTP flow upgraded by
/// STARTTLS, so that it is not taken for an SMTP transaction id.
const STARTTLS_TLS: u64 = 1 << 62;

/// Marks the TLS stages of `ready` from `start` on as STARTTLS ones.
fn mark_starttls(ready: &mut [ReadyTx], start: usize) {
    for r in ready.iter_mut().skip(start) {
        r.id |= STARTTLS_TLS;
    }
}

/// Finished SMTP transaction sides queued before they are inspected
/// without waiting for acknowledgements.
const MAX_SMTP_QUEUE: usize = 512;

/// A finished SMTP transaction side waiting to be inspected.
#[derive(Debug, Clone, Copy)]
struct SmtpDeferred {
    ready: ReadyTx,
    /// To-server stream offset just past the data that finished it.
    end: u64,
    /// The server acknowledged that data: Suricata's parser has seen it.
    parsed: bool,
}

/// An SSH stage waiting for its data to be acknowledged (and, to be
/// inspected, for a packet travelling its way).
#[derive(Debug, Clone, Copy)]
struct Deferred {
    ready: ReadyTx,
    /// Stream offset just past the data that completed it.
    end: u64,
    /// The peer acknowledged that data: Suricata's parser has seen it.
    parsed: bool,
    /// It is the direction's NEWKEYS.
    newkeys: bool,
}

/// When SSH signatures run: SSH has one transaction per connection whose
/// buffers fill in over time, so each signature is inspected at the
/// stage where what it needs is known, once ([`ReadyTx::id`] carries the
/// stage for SSH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshStage {
    /// A side's identification line was read: signatures on `ssh.proto`
    /// and `ssh.software`.
    Banner = 0,
    /// A side's KEXINIT was read: signatures on HASSH buffers.
    Hassh = 1,
    /// A side sent NEWKEYS, or the connection ended: signatures on
    /// `app-layer-event:ssh.*` (events may come up to then).
    Final = 2,
    /// Not an inspection: the connection's EVE `ssh` record is due.
    Log = 3,
}

impl SshStage {
    fn from_id(id: u64) -> SshStage {
        match id {
            0 => SshStage::Banner,
            1 => SshStage::Hassh,
            2 => SshStage::Final,
            _ => SshStage::Log,
        }
    }
}

/// A transaction side ready for inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyTx {
    /// Transaction id in the flow's parser (for SSH, whose one
    /// transaction is inspected in stages, the [`SshStage`]).
    pub id: u64,
    /// Request or response.
    pub side: TxSide,
}

/// One side of a parsed transaction of any protocol: what the rule engine
/// inspects and what EVE logs.
pub enum AppTxView<'a> {
    /// An HTTP transaction.
    Http(HttpTxView<'a>),
    /// A DNS transaction.
    Dns(DnsTxView<'a>),
    /// A TLS session (one transaction per connection).
    Tls(TlsTxView<'a>),
    /// An SSH session (one transaction per connection).
    Ssh(SshTxView<'a>),
    /// A DCERPC call or bind.
    Dcerpc(DcerpcTxView<'a>),
    /// An SMTP transaction (a mail, or the commands around one).
    Smtp(SmtpTxView<'a>),
    /// An SMB transaction (tree connect or file).
    Smb(SmbTxView<'a>),
    /// A Kerberos message.
    Krb5(Krb5TxView<'a>),
    /// An SNMP message.
    Snmp(SnmpTxView<'a>),
    /// An FTP transaction (a command and its replies).
    Ftp(FtpTxView<'a>),
    /// An IKE message.
    Ike(IkeTxView<'a>),
    /// A SIP message.
    Sip(SipTxView<'a>),
    /// An RFB handshake (one transaction per connection).
    Rfb(RfbTxView<'a>),
    /// A QUIC packet.
    Quic(QuicTxView<'a>),
    /// An HTTP/2 stream (or connection frame).
    Http2(Http2TxView<'a>),
    /// An NFS call and its reply, or a file transfer.
    Nfs(NfsTxView<'a>),
}

impl AppTxView<'_> {
    /// The transaction's number in its flow as EVE's `tx_id` gives it:
    /// HTTP counts requests, DNS every message (Suricata 7 keeps a DNS
    /// request and its response as two transactions), TLS has one.
    pub fn eve_tx_id(&self) -> u64 {
        match self {
            AppTxView::Http(v) => v.tx.id(),
            AppTxView::Dns(v) => match v.side {
                TxSide::Request => v.tx.request_seq,
                TxSide::Response => v.tx.response_seq,
            },
            AppTxView::Tls(_) | AppTxView::Ssh(_) => 0,
            AppTxView::Dcerpc(v) => v.tx.id,
            AppTxView::Smtp(v) => v.tx.id,
            AppTxView::Smb(v) => v.tx.id,
            AppTxView::Krb5(v) => v.tx.id,
            AppTxView::Snmp(v) => v.tx.id,
            AppTxView::Ftp(v) => v.tx.id,
            AppTxView::Ike(v) => v.tx.id,
            AppTxView::Sip(v) => v.tx.id,
            AppTxView::Rfb(_) => 0,
            AppTxView::Quic(v) => v.tx.id,
            AppTxView::Http2(v) => v.tx.id,
            AppTxView::Nfs(v) => v.tx.id,
        }
    }
}

impl TxBuffers for AppTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match self {
            AppTxView::Http(v) => v.get(buffer),
            AppTxView::Dns(v) => v.get(buffer),
            AppTxView::Tls(v) => v.get(buffer),
            AppTxView::Ssh(v) => v.get(buffer),
            AppTxView::Dcerpc(v) => v.get(buffer),
            AppTxView::Smtp(v) => v.get(buffer),
            AppTxView::Smb(v) => v.get(buffer),
            AppTxView::Krb5(v) => v.get(buffer),
            AppTxView::Snmp(v) => v.get(buffer),
            AppTxView::Ftp(v) => v.get(buffer),
            AppTxView::Ike(v) => v.get(buffer),
            AppTxView::Sip(v) => v.get(buffer),
            AppTxView::Rfb(v) => v.get(buffer),
            AppTxView::Quic(v) => v.get(buffer),
            AppTxView::Http2(v) => v.get(buffer),
            AppTxView::Nfs(v) => v.get(buffer),
        }
    }
    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match self {
            AppTxView::Http(v) => v.get_multi(buffer, index),
            AppTxView::Dns(v) => v.get_multi(buffer, index),
            AppTxView::Tls(v) => v.get_multi(buffer, index),
            AppTxView::Ssh(v) => v.get_multi(buffer, index),
            AppTxView::Dcerpc(v) => v.get_multi(buffer, index),
            AppTxView::Smtp(v) => v.get_multi(buffer, index),
            AppTxView::Smb(v) => v.get_multi(buffer, index),
            AppTxView::Krb5(v) => v.get_multi(buffer, index),
            AppTxView::Snmp(v) => v.get_multi(buffer, index),
            AppTxView::Ftp(v) => v.get_multi(buffer, index),
            AppTxView::Ike(v) => v.get_multi(buffer, index),
            AppTxView::Sip(v) => v.get_multi(buffer, index),
            AppTxView::Rfb(v) => v.get_multi(buffer, index),
            AppTxView::Quic(v) => v.get_multi(buffer, index),
            AppTxView::Http2(v) => v.get_multi(buffer, index),
            AppTxView::Nfs(v) => v.get_multi(buffer, index),
        }
    }
    fn proto(&self) -> TxProto {
        match self {
            AppTxView::Http(v) => v.proto(),
            AppTxView::Dns(v) => v.proto(),
            AppTxView::Tls(v) => v.proto(),
            AppTxView::Ssh(v) => v.proto(),
            AppTxView::Dcerpc(v) => v.proto(),
            AppTxView::Smtp(v) => v.proto(),
            AppTxView::Smb(v) => v.proto(),
            AppTxView::Krb5(v) => v.proto(),
            AppTxView::Snmp(v) => v.proto(),
            AppTxView::Ftp(v) => v.proto(),
            AppTxView::Ike(v) => v.proto(),
            AppTxView::Sip(v) => v.proto(),
            AppTxView::Rfb(v) => v.proto(),
            AppTxView::Quic(v) => v.proto(),
            AppTxView::Http2(v) => v.proto(),
            AppTxView::Nfs(v) => v.proto(),
        }
    }
    fn ip_proto(&self) -> u8 {
        match self {
            AppTxView::Http(v) => v.ip_proto(),
            AppTxView::Dns(v) => v.ip_proto(),
            AppTxView::Tls(v) => v.ip_proto(),
            AppTxView::Ssh(v) => v.ip_proto(),
            AppTxView::Dcerpc(v) => v.ip_proto(),
            AppTxView::Smtp(v) => v.ip_proto(),
            AppTxView::Smb(v) => v.ip_proto(),
            AppTxView::Krb5(v) => v.ip_proto(),
            AppTxView::Snmp(v) => v.ip_proto(),
            AppTxView::Ftp(v) => v.ip_proto(),
            AppTxView::Ike(v) => v.ip_proto(),
            AppTxView::Sip(v) => v.ip_proto(),
            AppTxView::Rfb(v) => v.ip_proto(),
            AppTxView::Quic(v) => v.ip_proto(),
            AppTxView::Http2(v) => v.ip_proto(),
            AppTxView::Nfs(v) => v.ip_proto(),
        }
    }
    fn value(&self, field: TxValue) -> Option<u32> {
        match self {
            AppTxView::Http(v) => v.value(field),
            AppTxView::Dns(v) => v.value(field),
            AppTxView::Tls(v) => v.value(field),
            AppTxView::Ssh(v) => v.value(field),
            AppTxView::Dcerpc(v) => v.value(field),
            AppTxView::Smtp(v) => v.value(field),
            AppTxView::Smb(v) => v.value(field),
            AppTxView::Krb5(v) => v.value(field),
            AppTxView::Snmp(v) => v.value(field),
            AppTxView::Ftp(v) => v.value(field),
            AppTxView::Ike(v) => v.value(field),
            AppTxView::Sip(v) => v.value(field),
            AppTxView::Rfb(v) => v.value(field),
            AppTxView::Quic(v) => v.value(field),
            AppTxView::Http2(v) => v.value(field),
            AppTxView::Nfs(v) => v.value(field),
        }
    }
    fn has_event(&self, name: &str) -> bool {
        match self {
            AppTxView::Http(v) => v.has_event(name),
            AppTxView::Dns(v) => v.has_event(name),
            AppTxView::Tls(v) => v.has_event(name),
            AppTxView::Ssh(v) => v.has_event(name),
            AppTxView::Dcerpc(v) => v.has_event(name),
            AppTxView::Smtp(v) => v.has_event(name),
            AppTxView::Smb(v) => v.has_event(name),
            AppTxView::Krb5(v) => v.has_event(name),
            AppTxView::Snmp(v) => v.has_event(name),
            AppTxView::Ftp(v) => v.has_event(name),
            AppTxView::Ike(v) => v.has_event(name),
            AppTxView::Sip(v) => v.has_event(name),
            AppTxView::Rfb(v) => v.has_event(name),
            AppTxView::Quic(v) => v.has_event(name),
            AppTxView::Http2(v) => v.has_event(name),
            AppTxView::Nfs(v) => v.has_event(name),
        }
    }
    fn has_late_event(&self, name: &str) -> bool {
        match self {
            AppTxView::Http(v) => v.has_late_event(name),
            AppTxView::Dns(v) => v.has_late_event(name),
            AppTxView::Tls(v) => v.has_late_event(name),
            AppTxView::Ssh(v) => v.has_late_event(name),
            AppTxView::Dcerpc(v) => v.has_late_event(name),
            AppTxView::Smtp(v) => v.has_late_event(name),
            AppTxView::Smb(v) => v.has_late_event(name),
            AppTxView::Krb5(v) => v.has_late_event(name),
            AppTxView::Snmp(v) => v.has_late_event(name),
            AppTxView::Ftp(v) => v.has_late_event(name),
            AppTxView::Ike(v) => v.has_late_event(name),
            AppTxView::Sip(v) => v.has_late_event(name),
            AppTxView::Rfb(v) => v.has_late_event(name),
            AppTxView::Quic(v) => v.has_late_event(name),
            AppTxView::Nfs(v) => v.has_late_event(name),
            AppTxView::Http2(v) => v.has_late_event(name),
        }
    }
    fn values(&self, field: TxValue) -> Vec<u32> {
        match self {
            AppTxView::Http2(v) => v.values(field),
            AppTxView::Nfs(v) => v.values(field),
            other => other.value(field).into_iter().collect(),
        }
    }
    fn file_size(&self) -> Option<u64> {
        match self {
            AppTxView::Smb(v) => v.file_size(),
            AppTxView::Nfs(v) => v.file_size(),
            _ => None,
        }
    }
    fn has_file(&self) -> bool {
        match self {
            AppTxView::Nfs(v) => v.has_file(),
            _ => false,
        }
    }
    fn wants(&self, app: &AppInspect) -> bool {
        match self {
            AppTxView::Ssh(v) => v.wants(app),
            AppTxView::Tls(v) => v.wants(app),
            AppTxView::Ftp(v) => v.wants(app),
            _ => true,
        }
    }
    fn dce_big_endian(&self) -> bool {
        match self {
            AppTxView::Dcerpc(v) => v.dce_big_endian(),
            _ => true,
        }
    }
    fn dce_iface(
        &self,
        uuid: &[u8; 16],
        version: Option<rampart_rules::NumCmp<u16>>,
        any_frag: bool,
    ) -> bool {
        match self {
            AppTxView::Dcerpc(v) => v.dce_iface(uuid, version, any_frag),
            _ => false,
        }
    }
    fn file_md5(&self, index: usize) -> Option<[u8; 16]> {
        match self {
            AppTxView::Smtp(v) => v.file_md5(index),
            _ => None,
        }
    }
    fn ftp_bounce(&self) -> bool {
        match self {
            AppTxView::Ftp(v) => v.ftp_bounce(),
            _ => false,
        }
    }
    fn ike_sa_attribute(&self, name: &str) -> Option<u32> {
        match self {
            AppTxView::Ike(v) => v.tx.sa_attribute(name),
            _ => None,
        }
    }
}

impl AppState {
    /// Feeds in-order stream data of `dir` (its first bytes decide the
    /// protocol; `ports` are the flow's client and server ports; `end` is
    /// the stream offset just past `data`) and appends the transaction
    /// sides that became complete.
    pub fn feed(
        &mut self,
        dir: Direction,
        data: &[u8],
        ports: (u16, u16),
        end: u64,
        ready: &mut Vec<ReadyTx>,
    ) {
        self.ip_proto = 6;
        self.fed_dir = Some(dir);
        let first_bytes = self.tried.get(dir.index()).is_some_and(|t| !t);
        if first_bytes {
            // Detection looks at a direction's first bytes only: once seen,
            // the direction is decided (the flow's protocol, or failed).
            if let Some(t) = self.tried.get_mut(dir.index()) {
                *t = true;
            }
            if let Some(d) = self.decided_at.get_mut(dir.index()) {
                *d = Some(end);
            }
        }
        if self.proto.is_none() {
            if !first_bytes {
                self.hold_undecided(dir, data);
                return;
            }
            self.proto = detect_protocol(data, dir == Direction::ToServer);
            if self.proto.is_none() && (ports.0 == DNS_PORT || ports.1 == DNS_PORT) {
                // DNS over TCP: a length prefix and a header that parses.
                let looks_dns = data
                    .get(2..)
                    .is_some_and(|m| m.len() >= 12 && dns::probe(m));
                if looks_dns {
                    self.proto = Some(AppProto::Dns);
                }
            }
            if self.proto.is_none()
                && (ports.0 == KRB5_PORT || ports.1 == KRB5_PORT)
                && krb5::probe_tcp(data)
            {
                // Kerberos over TCP: a record mark and a Kerberos message.
                self.proto = Some(AppProto::Krb5);
            }
            if self.proto.is_none()
                && (ports.0 == NFS_PORT || ports.1 == NFS_PORT)
                && nfs::probe_tcp(data)
            {
                // NFS over TCP: a record mark and an NFS call.
                self.proto = Some(AppProto::Nfs);
            }
            if self.proto.is_some() {
                self.proto_dir = Some(dir);
            } else {
                self.hold_undecided(dir, data);
            }
            match self.proto {
                Some(AppProto::Http) => {
                    self.http = Some(Box::new(HttpParser::new(HttpConfig::default())));
                }
                Some(AppProto::Dns) => self.dns = Some(self.new_dns()),
                Some(AppProto::Tls) => self.tls = Some(Box::default()),
                Some(AppProto::Ssh) => {
                    self.ssh = Some(Box::new(SshSession::new(SshConfig {
                        hassh: self.ssh_hassh,
                    })));
                }
                Some(AppProto::Dcerpc) => {
                    self.dcerpc = Some(Box::new(DcerpcState::new(DcerpcConfig::default())));
                }
                Some(AppProto::Smb) => {
                    // Files and shares, and DCERPC over the named pipes.
                    self.smb = Some(Box::default());
                    self.smb_pipes = Some(Box::new(SmbDcerpc::new(DcerpcConfig::default())));
                }
                Some(AppProto::Smtp) => {
                    self.smtp = Some(Box::new(SmtpSession::new(SmtpConfig::default())));
                }
                Some(AppProto::Krb5) => self.krb5 = Some(Box::default()),
                Some(AppProto::Nfs) => self.nfs = Some(Box::default()),
                Some(AppProto::Ftp) => {
                    let mut ftp = Box::new(FtpSession::new(FtpConfig::default()));
                    // The other direction's bytes from before the decision
                    // (a greeting that does not name FTP), parsed first as
                    // Suricata parses what it held back.
                    let other = dir.opposite();
                    if let Some(held) = self.undecided.get_mut(other.index()) {
                        let held = std::mem::take(held);
                        let mut events = Vec::new();
                        ftp.feed(ftp_dir(other), &held, &mut events);
                        collect_ftp(&events, &ftp, ready);
                    }
                    self.ftp = Some(ftp);
                }
                Some(AppProto::Rfb) => self.rfb = Some(Box::new(RfbSession::new(self.frames.rfb))),
                Some(AppProto::Sip) => self.sip = Some(self.new_sip()),
                Some(AppProto::Http2) => {
                    let mut h2 = Box::<Http2Session>::default();
                    // The server's bytes from before the decision (its
                    // SETTINGS may come before the client's preface),
                    // parsed first.
                    let other = dir.opposite();
                    if let Some(held) = self.undecided.get_mut(other.index()) {
                        let held = std::mem::take(held);
                        let mut out = Vec::new();
                        h2.feed(http_dir(other), &held, &mut out);
                        collect_http2(&out, ready);
                    }
                    self.http2 = Some(h2);
                }
                _ => {}
            }
        }
        if self.proto.is_some() && self.undecided.iter().any(|h| h.capacity() > 0) {
            self.undecided = Default::default();
        }
        let mut h2_fed = false;
        if let Some(http) = self.http.as_mut() {
            let mut events = Vec::new();
            let used = http.feed_until_tunnel(http_dir(dir), data, &mut events);
            collect(&events, ready);
            if http.in_tunnel() && self.http2.is_none() {
                // What follows in `data` went to HTTP/2, if it is.
                h2_fed = true;
                self.http_tunnel(dir, data.get(used..).unwrap_or_default(), ready);
            }
        }
        if let Some(dns) = self.dns.as_mut() {
            let mut events = Vec::new();
            dns.feed_tcp(dns_dir(dir), data, &mut events);
            collect_dns(&events, ready);
            let frames = dns.frames.take();
            self.queue_frames(TxProto::Dns, frames, end);
        }
        if let (Some(h2), false) = (self.http2.as_mut(), h2_fed) {
            let mut out = Vec::new();
            h2.feed(http_dir(dir), data, &mut out);
            collect_http2(&out, ready);
        }
        if let Some(rfb) = self.rfb.as_mut() {
            if rfb.feed(http_dir(dir), data).is_some() && !self.rfb_ready {
                self.rfb_ready = true;
                collect_both(0, ready);
            }
            let frames = rfb.frames.take();
            self.queue_frames(TxProto::Rfb, frames, end);
        }
        if let Some(sip) = self.sip.as_mut() {
            let mut events = Vec::new();
            sip.feed_tcp(http_dir(dir), data, &mut events);
            collect_sip(&events, ready);
            let frames = sip.frames.take();
            self.queue_frames(TxProto::Sip, frames, end);
        }
        if self.tls_upgrade && !data.is_empty() {
            self.tls_upgrade = false;
            self.switch_from_tls(dir, data, ready);
        }
        if let Some(tls) = self.tls.as_mut() {
            let mut events = Vec::new();
            let d = match dir {
                Direction::ToServer => TlsDirection::ToServer,
                Direction::ToClient => TlsDirection::ToClient,
            };
            tls.feed(d, data, &mut events);
            let start = ready.len();
            collect_tls(&events, ready);
            if self.smtp.is_some() || self.ftp.is_some() {
                mark_starttls(ready, start);
            }
        }
        if let Some(ssh) = self.ssh.as_mut() {
            let mut events = Vec::new();
            ssh.feed(ssh_dir(dir), data, &mut events);
            collect_ssh(&events, ready);
        }
        if let Some(dce) = self.dcerpc.as_mut() {
            let mut events = Vec::new();
            let d = match dir {
                Direction::ToServer => DcerpcDirection::ToServer,
                Direction::ToClient => DcerpcDirection::ToClient,
            };
            dce.feed(d, data, &mut events);
            collect_dcerpc(&events, ready);
        }
        if let Some(pipes) = self.smb_pipes.as_mut() {
            let mut events = Vec::new();
            let d = match dir {
                Direction::ToServer => DcerpcDirection::ToServer,
                Direction::ToClient => DcerpcDirection::ToClient,
            };
            pipes.feed(d, data, &mut events);
            let start = ready.len();
            collect_dcerpc(&events, ready);
            for r in ready.iter_mut().skip(start) {
                r.id |= SMB_DCERPC;
            }
        }
        if let Some(smtp) = self.smtp.as_mut() {
            let mut events = Vec::new();
            let d = match dir {
                Direction::ToServer => SmtpDirection::ToServer,
                Direction::ToClient => SmtpDirection::ToClient,
            };
            let was_tls = smtp.tls;
            smtp.feed(d, data, &mut events);
            if smtp.tls && !was_tls {
                // STARTTLS accepted: what follows is TLS, as after
                // Suricata's protocol upgrade. The SMTP transactions end
                // here; the flow's protocol is TLS from now on.
                smtp.finish(&mut events);
                self.proto = Some(AppProto::Tls);
                self.tls = Some(Box::default());
                self.tls_upgrade = true;
            }
            collect_smtp(&events, ready);
        }
        if let Some(k) = self.krb5.as_mut() {
            let mut ids = Vec::new();
            k.feed_tcp(krb5_dir(dir), data, &mut ids);
            collect_messages(&ids, dir, ready);
        }
        if let Some(ftp) = self.ftp.as_mut() {
            let mut events = Vec::new();
            let was_tls = ftp.tls;
            ftp.feed(ftp_dir(dir), data, &mut events);
            self.ftp_fed = Some(dir);
            if ftp.tls && !was_tls {
                // AUTH TLS accepted: what follows is TLS (Suricata's
                // protocol upgrade); the FTP transactions end here.
                ftp.finish(&mut events);
                self.proto = Some(AppProto::Tls);
                self.tls = Some(Box::default());
                self.tls_upgrade = true;
            }
            collect_ftp(&events, ftp, ready);
        }
        if let Some(n) = self.nfs.as_mut() {
            let mut events = Vec::new();
            n.feed_tcp(nfs_dir(dir), data, &mut events);
            collect_nfs(&events, ready);
        }
        if let Some(smb) = self.smb.as_mut() {
            let mut events = Vec::new();
            smb.feed(smb_dir(dir), data, end, &mut events);
            // Named pipe payload (DCERPC over SMB) would go to a DCERPC
            // parser here; there is none yet, so it is not kept.
            let _ = smb.take_pipe_chunks();
            self.smb_fed = Some(dir);
            collect_smb(&events, ready);
        }
    }

    /// The first data after an accepted STARTTLS (or AUTH TLS): when it is
    /// HTTP rather than TLS, the flow becomes HTTP, as Suricata's protocol
    /// detection finds it after a failed upgrade. The HTTP parser is told
    /// the switch is still under way while it parses that data, so that a
    /// second switch it asks for (`Upgrade: h2c`) is refused and counted.
    /// Other protocols stay with the TLS parser, which flags the bytes.
    fn switch_from_tls(&mut self, dir: Direction, data: &[u8], ready: &mut Vec<ReadyTx>) {
        let is_http = detect_protocol(data, dir == Direction::ToServer) == Some(AppProto::Http);
        if !is_http {
            return;
        }
        // The SMTP or FTP transactions stay for their inspection and logs;
        // HTTP's are numbered after them so that the ids stay apart.
        let smtp_next = self
            .smtp
            .as_ref()
            .and_then(|s| s.transactions().map(|t| t.id).max());
        let ftp_next = self
            .ftp
            .as_ref()
            .and_then(|f| f.transactions().map(|t| t.id).max());
        let first = smtp_next.max(ftp_next).map_or(0, |id| id.saturating_add(1));
        self.http_first_id = first;
        self.tls = None;
        self.proto = Some(AppProto::Http);
        self.proto_dir = Some(dir);
        let mut http = Box::new(HttpParser::new(HttpConfig::default()));
        http.start_ids_at(first);
        http.set_switching(true);
        let mut events = Vec::new();
        http.feed(http_dir(dir), data, &mut events);
        http.set_switching(false);
        collect(&events, ready);
        self.http = Some(http);
    }

    /// Bytes of `dir` carried by an HTTP tunnel (after `101 Switching
    /// Protocols` or a successful `CONNECT`): when the client's start with
    /// the HTTP/2 preface (`Upgrade: h2c`, or HTTP/2 through a proxy),
    /// the flow is HTTP/2 from there on, as after Suricata's protocol
    /// change; the server's bytes before that are held for it.
    fn http_tunnel(&mut self, dir: Direction, data: &[u8], ready: &mut Vec<ReadyTx>) {
        if self.tunnel_bad_settings.is_none() {
            // An `Upgrade: h2c` request's HTTP2-Settings must be SETTINGS.
            let bad = self.http.as_deref().is_some_and(|http| {
                http.transactions()
                    .filter(|t| t.stat_code() == b"101")
                    .filter_map(|t| t.header_value(HttpDir::ToServer, "http2-settings"))
                    .any(|v| !rampart_app::http2::valid_http1_settings(&v))
            });
            self.tunnel_bad_settings = Some(bad);
        }
        if data.is_empty() {
            return;
        }
        if dir == Direction::ToClient {
            let room = MAX_UNDECIDED.saturating_sub(self.tunnel_held.len());
            self.tunnel_held
                .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
            return;
        }
        if !rampart_app::http2::probe(data) {
            return;
        }
        let mut h2 = Box::<Http2Session>::default();
        let mut out = Vec::new();
        if self.tunnel_bad_settings == Some(true) {
            h2.invalid_upgrade_settings(&mut out);
        }
        let held = std::mem::take(&mut self.tunnel_held);
        h2.feed(HttpDir::ToClient, &held, &mut out);
        h2.feed(HttpDir::ToServer, data, &mut out);
        collect_http2(&out, ready);
        self.http2 = Some(h2);
        self.proto = Some(AppProto::Http2);
    }

    /// The data connections the flow's FTP commands announced since the
    /// last call.
    pub fn take_ftp_expectations(&mut self) -> Vec<rampart_app::ftp::FtpExpectation> {
        self.ftp
            .as_mut()
            .map(|f| f.take_expectations())
            .unwrap_or_default()
    }

    /// Whether the flow should be looked up among the expected data
    /// connections: its protocol is unknown and it was not looked up
    /// before (each flow once, with its first data).
    pub fn wants_expectation_lookup(&mut self) -> bool {
        self.proto.is_none() && !std::mem::replace(&mut self.expectation_checked, true)
    }

    /// The flow is an expected FTP data connection (its first data went
    /// `dir`).
    pub fn set_ftp_data(&mut self, dir: Direction) {
        self.proto = Some(AppProto::FtpData);
        self.proto_dir = Some(dir);
        self.undecided = Default::default();
    }

    /// Keeps bytes of `dir` that came before the protocol was known, up to
    /// [`MAX_UNDECIDED`] per direction, for a parser that wants them.
    fn hold_undecided(&mut self, dir: Direction, data: &[u8]) {
        if self.tried.iter().all(|&t| t) {
            // Both directions failed detection: nothing will want them.
            self.undecided = Default::default();
            return;
        }
        if let Some(held) = self.undecided.get_mut(dir.index()) {
            let room = MAX_UNDECIDED.saturating_sub(held.len());
            held.extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&[]));
        }
    }

    /// Feeds one UDP datagram's payload: DNS on port 53, Kerberos on port
    /// 88, SNMP on ports 161 and 162, IKE to or from port 500, QUIC on ports 443 and 80, once the
    /// flow's first datagram went to that port and probes as the protocol
    /// (Suricata's probing parsers); SIP on any port once the first
    /// datagram is a SIP request. SIP frames are queued for inspection with
    /// no acknowledgement to wait for.
    pub fn feed_datagram(
        &mut self,
        dir: Direction,
        payload: &[u8],
        ports: (u16, u16),
        ready: &mut Vec<ReadyTx>,
    ) {
        self.ip_proto = 17;
        if self.proto.is_none() {
            // Suricata decides a UDP flow on its first datagram: DNS when
            // it goes to the DNS port (`detection-ports: dp: 53`) and
            // probes as DNS, SIP when it is a SIP request, otherwise
            // detection has failed for good (a flow first seen with a
            // response from port 53 is not DNS).
            let first = !self.tried.iter().any(|&t| t);
            let first_of_dir = self.tried.get(dir.index()).is_some_and(|t| !t);
            if let Some(t) = self.tried.get_mut(dir.index()) {
                *t = true;
            }
            if first {
                // A UDP flow is decided, both ways, by its first datagram.
                self.decided_at = [Some(0); 2];
            }
            let proto = if first
                && self.udp_probes < MAX_UDP_PROBES
                && dir == Direction::ToServer
                && !payload.is_empty()
            {
                self.udp_probes += 1;
                match ports.1 {
                    DNS_PORT if dns::probe(payload) => Some(AppProto::Dns),
                    KRB5_PORT if krb5::probe(payload) => Some(AppProto::Krb5),
                    NFS_PORT if nfs::probe_udp(payload, true) => Some(AppProto::Nfs),
                    SNMP_PORT | SNMP_TRAP_PORT if snmp::probe(payload) => Some(AppProto::Snmp),
                    _ if (ports.0 == IKE_PORT || ports.1 == IKE_PORT) && ike::probe(payload) => {
                        Some(AppProto::Ike)
                    }
                    _ if sip::probe(payload, true) => Some(AppProto::Sip),
                    p if QUIC_PORTS.contains(&p) && quic::probe(payload) => Some(AppProto::Quic),
                    _ => None,
                }
            } else if first_of_dir
                && dir == Direction::ToClient
                && QUIC_PORTS.contains(&ports.1)
                && quic::probe(payload)
            {
                // Suricata's QUIC probe also runs on the server's first
                // datagram when the client's was not recognised (a client
                // speaking an unknown version answered with a short
                // header): the flow is QUIC from the answer on.
                Some(AppProto::Quic)
            } else {
                None
            };
            let Some(proto) = proto else {
                return;
            };
            self.proto = Some(proto);
            self.proto_dir = Some(dir);
            match proto {
                AppProto::Dns => self.dns = Some(self.new_dns()),
                AppProto::Krb5 => self.krb5 = Some(Box::default()),
                AppProto::Ike => self.ike = Some(Box::new(IkeState::new(IkeConfig::default()))),
                AppProto::Sip => self.sip = Some(self.new_sip()),
                AppProto::Quic => self.quic = Some(Box::default()),
                AppProto::Nfs => self.nfs = Some(Box::default()),
                _ => self.snmp = Some(Box::default()),
            }
        }
        if let Some(ike) = self.ike.as_mut() {
            let d = match dir {
                Direction::ToServer => IkeDirection::ToServer,
                Direction::ToClient => IkeDirection::ToClient,
            };
            if let Some(id) = ike.parse(d, payload) {
                ready.push(ReadyTx {
                    id,
                    side: match dir {
                        Direction::ToServer => TxSide::Request,
                        Direction::ToClient => TxSide::Response,
                    },
                });
            }
        }
        if let Some(dns) = self.dns.as_mut() {
            let mut events = Vec::new();
            dns.parse(dns_dir(dir), payload, &mut events);
            collect_dns(&events, ready);
            let frames = dns.frames.take();
            self.queue_frames(TxProto::Dns, frames, 0);
        }
        if let Some(k) = self.krb5.as_mut() {
            let mut ids = Vec::new();
            k.parse(krb5_dir(dir), payload, &mut ids);
            collect_messages(&ids, dir, ready);
        }
        if let Some(s) = self.snmp.as_mut() {
            let d = match dir {
                Direction::ToServer => SnmpDirection::ToServer,
                Direction::ToClient => SnmpDirection::ToClient,
            };
            if let Some(id) = s.parse(d, payload) {
                collect_messages(&[id], dir, ready);
            }
        }
        if let Some(sip) = self.sip.as_mut() {
            let mut events = Vec::new();
            sip.parse_datagram(http_dir(dir), payload, &mut events);
            collect_sip(&events, ready);
            let frames = sip.frames.take();
            self.queue_frames(TxProto::Sip, frames, 0);
        }
        if let Some(q) = self.quic.as_mut() {
            let d = match dir {
                Direction::ToServer => QuicDirection::ToServer,
                Direction::ToClient => QuicDirection::ToClient,
            };
            let mut ids = Vec::new();
            q.parse(d, payload, &mut ids);
            collect_messages(&ids, dir, ready);
        }
        if let Some(n) = self.nfs.as_mut() {
            let mut events = Vec::new();
            n.parse_datagram(nfs_dir(dir), payload, &mut events);
            collect_nfs(&events, ready);
        }
    }

    /// Queues frames found in data ending at stream offset `end` (0 for a
    /// datagram: nothing to wait for), numbering them per direction.
    fn queue_frames(&mut self, proto: TxProto, frames: Vec<Frame>, end: u64) {
        for frame in frames {
            let d = match frame.dir {
                HttpDir::ToServer => Direction::ToServer,
                HttpDir::ToClient => Direction::ToClient,
            };
            let id = match self.frame_ids.get_mut(d.index()) {
                Some(n) => {
                    *n += 1;
                    *n
                }
                None => 0,
            };
            self.frame_queue.push(QueuedFrame {
                frame,
                proto,
                id,
                end,
            });
        }
    }

    /// Whether frames wait for inspection.
    pub fn frames_pending(&self) -> bool {
        !self.frame_queue.is_empty()
    }

    /// Takes, in order, the queued frames whose data the peer
    /// acknowledged (`acked`, by [`Direction::index`]; `[u64::MAX; 2]`
    /// takes all) and that travel `dir` (every direction when `None`).
    /// Beyond [`MAX_QUEUED_FRAMES`] frames or [`MAX_QUEUED_FRAME_BYTES`]
    /// bytes the oldest go too.
    pub fn take_frames(&mut self, acked: [u64; 2], dir: Option<Direction>) -> Vec<QueuedFrame> {
        let by_count = self.frame_queue.len().saturating_sub(MAX_QUEUED_FRAMES);
        let mut bytes: usize = self.frame_queue.iter().map(|f| f.frame.data.len()).sum();
        let mut by_bytes = 0;
        for f in &self.frame_queue {
            if bytes <= MAX_QUEUED_FRAME_BYTES {
                break;
            }
            bytes -= f.frame.data.len();
            by_bytes += 1;
        }
        let over = by_count.max(by_bytes);
        let mut out: Vec<QueuedFrame> = self.frame_queue.drain(..over).collect();
        let mut keep = Vec::new();
        for f in self.frame_queue.drain(..) {
            let d = f.direction();
            let go =
                acked.get(d.index()).is_some_and(|&a| a >= f.end) && dir.is_none_or(|x| x == d);
            if go {
                out.push(f);
            } else {
                keep.push(f);
            }
        }
        self.frame_queue = keep;
        out
    }

    /// A SIP parser configured for the loaded rules.
    fn new_sip(&self) -> Box<SipState> {
        Box::new(SipState::new(SipConfig {
            frames: self.frames.sip,
            ..SipConfig::default()
        }))
    }

    /// A DNS parser configured for the loaded rules.
    fn new_dns(&self) -> Box<DnsFlowState> {
        Box::new(DnsFlowState::new(DnsConfig {
            frames: self.frames.dns,
            ..DnsConfig::default()
        }))
    }

    /// Whether the decision on `dir` is known: made, and (with `acked`,
    /// how far each direction was acknowledged, in IDS mode) its data
    /// acknowledged.
    fn decision_known(&self, dir: Direction, acked: Option<[u64; 2]>) -> bool {
        let Some(end) = self.decided_at.get(dir.index()).copied().flatten() else {
            return false;
        };
        acked.is_none_or(|a| a.get(dir.index()).is_some_and(|&x| x >= end))
    }

    /// Where protocol detection stands for `dir` (what
    /// `app-layer-protocol` tests), `acked` as for
    /// [`AppState::acked_tx_proto`]. `now` is left false here; see
    /// [`AppState::take_detect_for_packet`].
    pub fn detect_state(&self, dir: Direction, acked: Option<[u64; 2]>) -> AppDetect {
        if self.decision_known(dir, acked) {
            AppDetect::Done { now: false }
        } else {
            AppDetect::Pending
        }
    }

    /// [`AppState::detect_state`] for a packet of `dir` about to be
    /// inspected: `now` is set on the first packet since the decision
    /// became known, and cleared for the ones after.
    pub fn take_detect_for_packet(&mut self, dir: Direction, acked: Option<[u64; 2]>) -> AppDetect {
        if !self.decision_known(dir, acked) {
            return AppDetect::Pending;
        }
        let now = self
            .announced
            .get_mut(dir.index())
            .is_some_and(|a| !std::mem::replace(a, true));
        AppDetect::Done { now }
    }

    /// The detected protocol as the rule engine names it (protocols it
    /// has rules for only).
    pub fn tx_proto(&self) -> Option<TxProto> {
        match self.proto? {
            AppProto::Http => Some(TxProto::Http),
            AppProto::Dns => Some(TxProto::Dns),
            AppProto::Tls => Some(TxProto::Tls),
            AppProto::Ssh => Some(TxProto::Ssh),
            AppProto::Smb => Some(TxProto::Smb),
            AppProto::Ftp => Some(TxProto::Ftp),
            AppProto::Dcerpc => Some(TxProto::Dcerpc),
            AppProto::Smtp => Some(TxProto::Smtp),
            AppProto::Krb5 => Some(TxProto::Krb5),
            AppProto::Snmp => Some(TxProto::Snmp),
            AppProto::Ike => Some(TxProto::Ike),
            AppProto::FtpData => Some(TxProto::FtpData),
            AppProto::Sip => Some(TxProto::Sip),
            AppProto::Rfb => Some(TxProto::Rfb),
            AppProto::Quic => Some(TxProto::Quic),
            AppProto::Http2 => Some(TxProto::Http2),
            AppProto::Nfs => Some(TxProto::Nfs),
        }
    }

    /// [`AppState::tx_proto`] once the stream data that decided it was
    /// acknowledged (`acked`: how far each direction was, by
    /// [`Direction::index`]; `None` inline, where nothing waits): Suricata in IDS mode parses data, and so
    /// learns the protocol, only then, and its packet rules on an
    /// application protocol (`alert http ...` without HTTP keywords) wait
    /// for it.
    pub fn acked_tx_proto(&self, acked: Option<[u64; 2]>) -> Option<TxProto> {
        if !self.decision_known(self.proto_dir?, acked) {
            return None;
        }
        self.tx_proto()
    }

    /// The flow's application protocol as EVE's `app_proto` names it:
    /// the detected protocol, `failed` once detection gave up (a UDP
    /// datagram that was not recognised, or both directions of a TCP
    /// connection), `None` while undecided.
    pub fn eve_proto(&self) -> Option<&'static str> {
        match self.proto {
            Some(AppProto::Http) => Some("http"),
            Some(AppProto::Tls) => Some("tls"),
            Some(AppProto::Dns) => Some("dns"),
            Some(AppProto::Ssh) => Some("ssh"),
            Some(AppProto::Smb) => Some("smb"),
            Some(AppProto::Ftp) => Some("ftp"),
            Some(AppProto::Dcerpc) => Some("dcerpc"),
            Some(AppProto::Smtp) => Some("smtp"),
            Some(AppProto::Sip) => Some("sip"),
            Some(AppProto::Rfb) => Some("rfb"),
            Some(AppProto::Krb5) => Some("krb5"),
            Some(AppProto::Snmp) => Some("snmp"),
            Some(AppProto::Ike) => Some("ike"),
            Some(AppProto::FtpData) => Some("ftp-data"),
            Some(AppProto::Quic) => Some("quic"),
            Some(AppProto::Http2) => Some("http2"),
            Some(AppProto::Nfs) => Some("nfs"),
            None => {
                let [ts, tc] = self.tried;
                let udp_done =
                    self.ip_proto == 17 && (ts || tc) && self.dns.is_none() && self.ike.is_none();
                (udp_done || (ts && tc)).then_some("failed")
            }
        }
    }

    /// The DCERPC state of a DCERPC flow, or of an SMB flow's pipes.
    fn dce_state(&self) -> Option<&DcerpcState> {
        match (self.dcerpc.as_deref(), self.smb_pipes.as_deref()) {
            (Some(d), _) => Some(d),
            (None, Some(s)) => Some(&s.dce),
            (None, None) => None,
        }
    }

    /// Bytes of `dir` were lost (a reassembly gap): parsers that can
    /// resynchronise (DCERPC) drop what they were reading and look for the
    /// next message; SIP stops reading that direction, RFB the handshake.
    pub fn gap(&mut self, dir: Direction) {
        if let Some(sip) = self.sip.as_mut() {
            sip.gap(http_dir(dir));
        }
        if let Some(rfb) = self.rfb.as_mut() {
            rfb.gap();
        }
        if let Some(dce) = self.dcerpc.as_mut() {
            dce.gap(match dir {
                Direction::ToServer => DcerpcDirection::ToServer,
                Direction::ToClient => DcerpcDirection::ToClient,
            });
        }
    }

    /// Ends both directions (connection closed or flow ended).
    pub fn finish(&mut self, ready: &mut Vec<ReadyTx>) {
        self.release_http([u64::MAX; 2], None, ready);
        self.release_krb5([u64::MAX; 2], None, ready);
        ready.extend(self.tx_queue.drain(..).map(|(r, _, _)| r));
        if let Some(h2) = self.http2.as_mut() {
            let mut out = Vec::new();
            h2.finish(&mut out);
            collect_http2(&out, ready);
        }
        // An RFB handshake that never completed is inspected (and logged)
        // as far as it got when the connection ends.
        if let Some(rfb) = self.rfb.as_deref() {
            if rfb.started() && !self.rfb_ready {
                self.rfb_ready = true;
                collect_both(0, ready);
            }
        }
        // DCERPC transaction sides still waiting for an acknowledgement
        // are inspected now.
        if self.dce_state().is_some() {
            self.release_ssh([u64::MAX; 2], None, ready);
        }
        self.release_smb([u64::MAX; 2], None, ready);
        self.release_ftp([u64::MAX; 2], None, ready);
        release_acked_sides(&mut self.nfs_queue, [u64::MAX; 2], None, ready);
        if let Some(n) = self.nfs.as_mut() {
            let mut events = Vec::new();
            n.finish(&mut events);
            collect_nfs(&events, ready);
        }
        if let Some(ftp) = self.ftp.as_mut() {
            let mut events = Vec::new();
            ftp.finish(&mut events);
            collect_ftp(&events, ftp, ready);
        }
        if let Some(smb) = self.smb.as_mut() {
            let mut events = Vec::new();
            smb.finish(&mut events);
            collect_smb(&events, ready);
        }
        if let Some(http) = self.http.as_mut() {
            let mut events = Vec::new();
            http.finish(HttpDir::ToServer, &mut events);
            http.finish(HttpDir::ToClient, &mut events);
            collect(&events, ready);
            // A response that came with no request is inspected to-server
            // too when the connection ends, as Suricata inspects every
            // transaction both ways then (its events are the tx's).
            ready.extend(
                http.transactions()
                    .filter(|t| {
                        t.progress(HttpDir::ToServer) == HttpProgress::None
                            && t.progress(HttpDir::ToClient) != HttpProgress::None
                    })
                    .map(|t| ReadyTx {
                        id: t.id(),
                        side: TxSide::Request,
                    }),
            );
        }
        if let Some(tls) = self.tls.as_mut() {
            let mut events = Vec::new();
            tls.finish(&mut events);
            let start = ready.len();
            collect_tls(&events, ready);
            if self.smtp.is_some() || self.ftp.is_some() {
                mark_starttls(ready, start);
            }
        }
        if let Some(smtp) = self.smtp.as_mut() {
            // Transactions still waiting go first, in order.
            ready.extend(self.smtp_queue.drain(..).map(|d| d.ready));
            let mut events = Vec::new();
            smtp.finish(&mut events);
            collect_smtp(&events, ready);
        }
        if let Some(ssh) = self.ssh.as_deref() {
            let mut late = Vec::new();
            // Suricata inspects a connection's transaction once more when
            // it ends: a side still reading a too long identification line
            // gets its identification stage, every side its final one.
            for (side, dir) in [
                (TxSide::Request, Direction::ToServer),
                (TxSide::Response, Direction::ToClient),
            ] {
                let progress = ssh.side(ssh_dir(dir)).progress;
                let mut stages = Vec::new();
                if progress == SshProgress::BannerWaitEol {
                    stages.push(SshStage::Banner);
                }
                if progress != SshProgress::Finished {
                    stages.push(SshStage::Final);
                }
                for stage in stages {
                    late.push(Deferred {
                        ready: ReadyTx {
                            id: stage as u64,
                            side,
                        },
                        end: 0,
                        parsed: true,
                        newkeys: false,
                    });
                }
            }
            let any = !ssh.client.proto.is_empty() || !ssh.server.proto.is_empty();
            self.ssh_queue.extend(late);
            self.release_ssh([u64::MAX; 2], None, ready);
            if !self.ssh_logged && any {
                self.ssh_logged = true;
                ready.push(ReadyTx {
                    id: SshStage::Log as u64,
                    side: TxSide::Request,
                });
            }
        }
    }

    /// Moves the SSH stages of `ready` into the queue of stages waiting
    /// for their data to be acknowledged: Suricata parses a direction's
    /// data once its peer acknowledged it, and inspects a direction's
    /// side with a packet travelling that way. `end` is the stream offset
    /// just past the data that was fed.
    pub fn defer_ssh(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.ssh.is_none() && self.dce_state().is_none() {
            return;
        }
        // On an SMB flow only the DCERPC sides of its pipes queue here (the
        // SMB ones have their own queue).
        let pipes_only = self.ssh.is_none() && self.dcerpc.is_none();
        let (mine, rest): (Vec<ReadyTx>, Vec<ReadyTx>) = ready
            .drain(..)
            .partition(|r| !pipes_only || r.id & SMB_DCERPC != 0);
        *ready = rest;
        let ssh = self.ssh.as_deref();
        for r in mine {
            let dir = match r.side {
                TxSide::Request => SshDirection::ToServer,
                TxSide::Response => SshDirection::ToClient,
            };
            let newkeys = SshStage::from_id(r.id) == SshStage::Final
                && ssh.is_some_and(|s| s.side(dir).progress == SshProgress::Finished);
            self.ssh_queue.push(Deferred {
                ready: r,
                end,
                parsed: false,
                newkeys,
            });
        }
        // DCERPC calls whose data is never acknowledged (a one-sided
        // capture) must not pile up: beyond the cap the oldest are
        // inspected now, before the parser's own transaction cap drops
        // them.
        if self.ssh.is_none() {
            let over = self.ssh_queue.len().saturating_sub(MAX_DEFERRED_DCERPC);
            ready.extend(self.ssh_queue.drain(..over).map(|d| d.ready));
        }
    }

    /// Moves the HTTP transaction sides of `ready` into the queue of sides
    /// waiting for their data to be acknowledged: as for SSH, Suricata (in
    /// IDS mode) parses a direction's data once its peer acknowledged it
    /// and inspects a side with a packet travelling that side's way, which
    /// decides the packet an alert is raised on and what the transaction
    /// holds by then (the response's status in a request's alert, say).
    /// `end` is the stream offset just past the data that was fed.
    pub fn defer_http(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.http.is_none() {
            return;
        }
        if self.http2.is_some() {
            // HTTP/2 sides after an upgrade wait in their own queue.
            let (h2, h1): (Vec<ReadyTx>, Vec<ReadyTx>) =
                ready.drain(..).partition(|r| r.id & HTTP2_TX != 0);
            *ready = h2;
            self.http_queue.extend(h1.into_iter().map(|r| (r, end)));
            return;
        }
        self.http_queue.extend(ready.drain(..).map(|r| (r, end)));
    }

    /// Moves the SMB transaction sides of `ready` into the queue waiting
    /// for their data to be acknowledged (Suricata's IDS timing, as for
    /// HTTP); sides of the other direction than the data fed (a file's
    /// response side, ready with its close request) wait for a packet of
    /// their direction only. `end` is the stream offset just past the
    /// data that was fed.
    pub fn defer_smb(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.smb.is_none() {
            return;
        }
        let fed = self.smb_fed;
        self.smb_queue.extend(ready.drain(..).map(|r| {
            let data_dir = match r.side {
                TxSide::Request => Direction::ToServer,
                TxSide::Response => Direction::ToClient,
            };
            (r, if fed == Some(data_dir) { end } else { 0 })
        }));
    }

    /// Moves the FTP transaction sides of `ready` into the queue waiting
    /// for their data to be acknowledged (Suricata's IDS timing, as for
    /// HTTP): a command's side waits for the server's acknowledgement and
    /// a to-server packet, a reply's for the client's and a to-client
    /// packet. Sides readied by the other direction's data (the replies
    /// a parse error ends) wait for a packet of their way only; TLS after
    /// `AUTH TLS` is inspected at once, as TLS is.
    pub fn defer_ftp(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.ftp.is_none() {
            return;
        }
        let fed = self.ftp_fed;
        let mut tls = Vec::new();
        for r in ready.drain(..) {
            if r.id & STARTTLS_TLS != 0 {
                tls.push(r);
                continue;
            }
            let data_dir = match r.side {
                TxSide::Request => Direction::ToServer,
                TxSide::Response => Direction::ToClient,
            };
            self.ftp_queue
                .push((r, if fed == Some(data_dir) { end } else { 0 }));
        }
        *ready = tls;
    }

    /// Whether FTP transaction sides wait in the queue.
    pub fn ftp_pending(&self) -> bool {
        !self.ftp_queue.is_empty()
    }

    /// Appends to `out`, in order, the queued FTP sides whose data the
    /// peer acknowledged (`acked`, by [`Direction::index`]) and that
    /// travel `dir` (every direction when `None`).
    pub fn release_ftp(&mut self, acked: [u64; 2], dir: Option<Direction>, out: &mut Vec<ReadyTx>) {
        release_acked_sides(&mut self.ftp_queue, acked, dir, out);
    }

    /// Whether SMB transaction sides wait in the queue.
    pub fn smb_pending(&self) -> bool {
        !self.smb_queue.is_empty()
    }

    /// Appends to `out`, in order, the queued SMB sides whose data the
    /// peer acknowledged (`acked`, by [`Direction::index`]) and that
    /// travel `dir` (every direction when `None`).
    pub fn release_smb(&mut self, acked: [u64; 2], dir: Option<Direction>, out: &mut Vec<ReadyTx>) {
        self.smb_acked = acked;
        release_acked_sides(&mut self.smb_queue, acked, dir, out);
    }

    /// Moves the Kerberos-over-TCP messages of `ready` into the queue
    /// waiting for their data to be acknowledged (Suricata's IDS timing,
    /// as for HTTP). `end` is the stream offset just past the data that
    /// was fed. Messages never acknowledged (a one-sided capture) do not
    /// pile up: beyond [`MAX_DEFERRED_KRB5`] the oldest go back to `ready`
    /// for inspection now.
    pub fn defer_krb5(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.krb5.is_none() {
            return;
        }
        self.krb5_queue.extend(ready.drain(..).map(|r| (r, end)));
        let over = self.krb5_queue.len().saturating_sub(MAX_DEFERRED_KRB5);
        ready.extend(self.krb5_queue.drain(..over).map(|(r, _)| r));
    }

    /// Moves the NFS-over-TCP transaction sides of `ready` into the queue
    /// waiting for their data to be acknowledged (as Kerberos'); beyond
    /// [`MAX_DEFERRED_NFS`] the oldest go back to `ready` for inspection
    /// now.
    pub fn defer_nfs(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.nfs.is_none() {
            return;
        }
        self.nfs_queue.extend(ready.drain(..).map(|r| (r, end)));
        let over = self.nfs_queue.len().saturating_sub(MAX_DEFERRED_NFS);
        ready.extend(self.nfs_queue.drain(..over).map(|(r, _)| r));
    }

    /// Whether Kerberos messages wait in the queue.
    pub fn krb5_pending(&self) -> bool {
        !self.krb5_queue.is_empty()
    }

    /// Appends to `out`, in order, the queued Kerberos messages whose data
    /// the peer acknowledged (`acked`, by [`Direction::index`]) and that
    /// travel `dir` (every direction when `None`).
    pub fn release_krb5(
        &mut self,
        acked: [u64; 2],
        dir: Option<Direction>,
        out: &mut Vec<ReadyTx>,
    ) {
        release_acked_sides(&mut self.krb5_queue, acked, dir, out);
    }

    /// Whether HTTP transaction sides wait in the queue.
    pub fn http_pending(&self) -> bool {
        !self.http_queue.is_empty()
    }

    /// Appends to `out`, in order, the queued HTTP sides whose data the
    /// peer acknowledged (`acked`, by [`Direction::index`]) and that
    /// travel `dir` (every direction when `None`).
    pub fn release_http(
        &mut self,
        acked: [u64; 2],
        dir: Option<Direction>,
        out: &mut Vec<ReadyTx>,
    ) {
        release_acked_sides(&mut self.http_queue, acked, dir, out);
    }

    /// Moves finished SMTP transactions of `ready` into the queue of
    /// those waiting for their data to be acknowledged: Suricata parses
    /// the client's data once the server acknowledged it, and inspects
    /// the transaction with the next to-server packet. `end` is the
    /// to-server stream offset just past the data that was fed.
    pub fn defer_smtp(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        if self.smtp.is_none() {
            return;
        }
        // TLS after STARTTLS is inspected as TLS is, at once.
        let mut tls = Vec::new();
        for r in ready.drain(..) {
            if r.id & STARTTLS_TLS != 0 {
                tls.push(r);
                continue;
            }
            self.smtp_queue.push(SmtpDeferred {
                ready: r,
                end,
                parsed: false,
            });
        }
        // Many tiny mails (`BDAT 0 LAST` lines) in unacknowledged data:
        // rather than queue without bound, inspect them with the next
        // to-server packet.
        if self.smtp_queue.len() > MAX_SMTP_QUEUE {
            for d in &mut self.smtp_queue {
                d.parsed = true;
            }
        }
        *ready = tls;
    }

    /// Whether finished SMTP transactions wait in the queue.
    pub fn smtp_pending(&self) -> bool {
        !self.smtp_queue.is_empty()
    }

    /// Releases queued SMTP transactions: those whose data the server
    /// acknowledged (`acked`: the stream offset acknowledged in each
    /// direction) count as parsed, and parsed ones are appended to `out`
    /// when `dir` is to-server (or `None`: any time).
    pub fn release_smtp(
        &mut self,
        acked: [u64; 2],
        dir: Option<Direction>,
        out: &mut Vec<ReadyTx>,
    ) {
        let acked_to = acked.get(Direction::ToServer.index()).copied().unwrap_or(0);
        for d in self.smtp_queue.iter_mut() {
            if d.end <= acked_to {
                d.parsed = true;
            }
        }
        let go_dir = dir.is_none_or(|x| x == Direction::ToServer);
        self.smtp_queue.retain(|d| {
            let go = d.parsed && go_dir;
            if go {
                out.push(d.ready);
            }
            !go
        });
    }

    /// Whether any protocol's transaction sides wait for an
    /// acknowledgement (see [`AppState::release_acked`]).
    pub fn acks_pending(&self) -> bool {
        self.ssh_pending()
            || self.smb_pending()
            || self.http_pending()
            || self.smtp_pending()
            || self.krb5_pending()
            || self.ftp_pending()
            || !self.nfs_queue.is_empty()
            || !self.tx_queue.is_empty()
    }

    /// Releases, into `out`, the queued sides of every protocol that the
    /// peer acknowledged (`acked`) and that a packet travelling `dir`
    /// inspects (every direction when `None`): the SSH and DCERPC queue
    /// first, then SMB, HTTP and SMTP, each only when it holds sides.
    pub fn release_acked(
        &mut self,
        acked: [u64; 2],
        dir: Option<Direction>,
        out: &mut Vec<ReadyTx>,
    ) {
        if self.ssh_pending() {
            self.release_ssh(acked, dir, out);
        }
        if self.smb_pending() {
            self.release_smb(acked, dir, out);
        }
        if self.http_pending() {
            self.release_http(acked, dir, out);
        }
        if self.smtp_pending() {
            self.release_smtp(acked, dir, out);
        }
        if self.krb5_pending() {
            self.release_krb5(acked, dir, out);
        }
        if self.ftp_pending() {
            self.release_ftp(acked, dir, out);
        }
        if !self.nfs_queue.is_empty() {
            release_acked_sides(&mut self.nfs_queue, acked, dir, out);
        }
        if !self.tx_queue.is_empty() {
            self.tx_queue.retain(|&(ready, data_dir, end)| {
                let side_dir = match ready.side {
                    TxSide::Request => Direction::ToServer,
                    TxSide::Response => Direction::ToClient,
                };
                let go = acked.get(data_dir.index()).is_some_and(|&a| a >= end)
                    && dir.is_none_or(|x| x == side_dir);
                if go {
                    out.push(ready);
                }
                !go
            });
        }
    }

    /// Queues the sides of `ready` that wait for their data (up to stream
    /// offset `end`) to be acknowledged: DCERPC over SMB pipes and SSH
    /// first (they take only theirs), then HTTP, SMTP and SMB.
    pub fn defer_acked(&mut self, ready: &mut Vec<ReadyTx>, end: u64) {
        self.defer_ssh(ready, end);
        self.defer_http(ready, end);
        self.defer_smtp(ready, end);
        self.defer_smb(ready, end);
        self.defer_krb5(ready, end);
        self.defer_ftp(ready, end);
        self.defer_nfs(ready, end);
        // RFB, SIP over TCP and HTTP/2, as HTTP.
        if self.rfb.is_some() || self.sip.is_some() || self.http2.is_some() {
            let data_dir = self.fed_dir.unwrap_or(Direction::ToServer);
            self.tx_queue
                .extend(ready.drain(..).map(|r| (r, data_dir, end)));
        }
    }

    /// Whether SSH stages wait in the queue.
    pub fn ssh_pending(&self) -> bool {
        !self.ssh_queue.is_empty()
    }

    /// Releases queued SSH stages: those whose data the peer acknowledged
    /// (`acked`: the stream offset acknowledged in each direction) count
    /// as parsed, and parsed ones of `dir` (every direction when `None`)
    /// are appended to `out` for inspection, followed by the EVE record's
    /// stage once Suricata would log it (both identification lines read,
    /// or, with HASSH on, both NEWKEYS seen).
    pub fn release_ssh(&mut self, acked: [u64; 2], dir: Option<Direction>, out: &mut Vec<ReadyTx>) {
        for d in self.ssh_queue.iter_mut() {
            let data_dir = match d.ready.side {
                TxSide::Request => Direction::ToServer,
                TxSide::Response => Direction::ToClient,
            };
            let acked_to = acked.get(data_dir.index()).copied().unwrap_or(0);
            if d.parsed || d.end > acked_to {
                continue;
            }
            d.parsed = true;
            if self.ssh.is_none() {
                continue;
            }
            if let Some(seen) = self.ssh_seen.get_mut(data_dir.index()) {
                let now = match SshStage::from_id(d.ready.id) {
                    SshStage::Final if d.newkeys => SshProgress::Finished,
                    SshStage::Banner | SshStage::Hassh | SshStage::Final => SshProgress::BannerDone,
                    SshStage::Log => *seen,
                };
                *seen = (*seen).max(now);
            }
        }
        self.ssh_queue.retain(|d| {
            let data_dir = match d.ready.side {
                TxSide::Request => Direction::ToServer,
                TxSide::Response => Direction::ToClient,
            };
            let go = d.parsed && dir.is_none_or(|x| x == data_dir);
            if go {
                out.push(d.ready);
            }
            !go
        });
        let [c, s] = self.ssh_seen;
        let due = if self.ssh_hassh {
            c == SshProgress::Finished && s == SshProgress::Finished
        } else {
            c == SshProgress::BannerDone && s == SshProgress::BannerDone
        };
        if due && !self.ssh_logged && self.ssh.is_some() {
            self.ssh_logged = true;
            out.push(ReadyTx {
                id: SshStage::Log as u64,
                side: TxSide::Request,
            });
        }
    }

    /// HTTP transactions the parser dropped because it held too many
    /// (for transaction logs; inspection never saw their response).
    pub fn take_evicted_http(&mut self) -> Vec<HttpTransaction> {
        self.http
            .as_mut()
            .map(|h| h.take_evicted())
            .unwrap_or_default()
    }

    /// HTTP transactions whose response never completed (call when the
    /// flow ends: a transaction log records them too, as Suricata does).
    pub fn http_unfinished(&self) -> impl Iterator<Item = AppTxView<'_>> {
        self.http
            .iter()
            .flat_map(|h| h.transactions())
            .filter(|tx| tx.progress(HttpDir::ToClient) != rampart_app::http::Progress::Complete)
            .map(|tx| {
                AppTxView::Http(HttpTxView {
                    tx,
                    side: TxSide::Response,
                })
            })
    }

    /// DCERPC transactions whose response never completed (call when the
    /// flow ends: Suricata logs them then, `UNREPLIED`).
    pub fn dcerpc_unfinished(&self) -> impl Iterator<Item = AppTxView<'_>> {
        self.dce_state().into_iter().flat_map(|dce| {
            dce.transactions()
                .filter(|tx| !tx.resp_done)
                .map(move |tx| {
                    AppTxView::Dcerpc(DcerpcTxView {
                        state: dce,
                        tx,
                        side: TxSide::Request,
                    })
                })
        })
    }

    /// The HTTP transaction `id`, while the parser still holds it.
    pub fn transaction(&self, id: u64) -> Option<&HttpTransaction> {
        self.http.as_ref().and_then(|h| h.transaction(id))
    }

    /// The view of a ready transaction side, while the parser holds it.
    pub fn view(&self, r: &ReadyTx) -> Option<AppTxView<'_>> {
        if let (Some(h2), true) = (self.http2.as_deref(), r.id & HTTP2_TX != 0) {
            return h2
                .transaction(r.id & !HTTP2_TX)
                .map(|tx| AppTxView::Http2(Http2TxView { tx, side: r.side }));
        }
        if let Some(ike) = self.ike.as_ref() {
            return ike.transaction(r.id).map(|tx| {
                AppTxView::Ike(IkeTxView {
                    state: ike,
                    tx,
                    side: r.side,
                })
            });
        }
        // An FTP flow's own transactions (after AUTH TLS, TLS stages are
        // marked with STARTTLS_TLS).
        let earlier = self.http.is_none() || r.id < self.http_first_id;
        if let Some(ftp) = self.ftp.as_ref() {
            if r.id & STARTTLS_TLS == 0 && earlier {
                return ftp.transaction(r.id & !FTP_LATE).map(|tx| {
                    AppTxView::Ftp(FtpTxView {
                        tx,
                        side: r.side,
                        client_v4: self.client_v4,
                        late: r.id & FTP_LATE != 0,
                    })
                });
            }
        }
        // An SMTP flow's own transactions (after STARTTLS, TLS stages are
        // marked with STARTTLS_TLS).
        if let Some(smtp) = self.smtp.as_ref() {
            if r.id & STARTTLS_TLS == 0 && earlier {
                return smtp.transaction(r.id).map(|tx| {
                    AppTxView::Smtp(SmtpTxView {
                        session: smtp,
                        tx,
                        side: r.side,
                    })
                });
            }
        }
        if let Some(http) = self.http.as_ref() {
            return http
                .transaction(r.id)
                .map(|tx| AppTxView::Http(HttpTxView { tx, side: r.side }));
        }
        if let Some(k) = self.krb5.as_ref() {
            return k.transaction(r.id).map(|tx| {
                AppTxView::Krb5(Krb5TxView {
                    tx,
                    ip_proto: self.ip_proto,
                })
            });
        }
        if let Some(s) = self.snmp.as_ref() {
            return s
                .transaction(r.id)
                .map(|tx| AppTxView::Snmp(SnmpTxView { tx }));
        }
        if let Some(q) = self.quic.as_ref() {
            return q
                .transaction(r.id)
                .map(|tx| AppTxView::Quic(QuicTxView { tx }));
        }
        if let Some(n) = self.nfs.as_ref() {
            return n.transaction(r.id).map(|tx| {
                AppTxView::Nfs(NfsTxView {
                    tx,
                    side: r.side,
                    ip_proto: self.ip_proto,
                })
            });
        }
        if let Some(dns) = self.dns.as_ref() {
            return dns.transaction(r.id).map(|tx| {
                AppTxView::Dns(DnsTxView {
                    tx,
                    side: r.side,
                    ip_proto: self.ip_proto,
                })
            });
        }
        if let Some(tls) = self.tls.as_ref() {
            return Some(AppTxView::Tls(TlsTxView {
                session: tls,
                side: r.side,
                client_cert: r.id & !STARTTLS_TLS == TLS_CLIENT_CERT_STAGE,
            }));
        }
        // DCERPC over an SMB flow's pipes, then the SMB transactions.
        if let (Some(pipes), true) = (self.smb_pipes.as_ref(), r.id & SMB_DCERPC != 0) {
            return pipes.dce.transaction(r.id & !SMB_DCERPC).map(|tx| {
                AppTxView::Dcerpc(DcerpcTxView {
                    state: &pipes.dce,
                    tx,
                    side: r.side,
                })
            });
        }
        if let Some(smb) = self.smb.as_ref() {
            return smb.transaction(r.id).map(|tx| {
                AppTxView::Smb(SmbTxView {
                    tx,
                    side: r.side,
                    acked_to_client: self
                        .smb_acked
                        .get(Direction::ToClient.index())
                        .copied()
                        .unwrap_or(0),
                })
            });
        }
        if let Some(ssh) = self.ssh.as_ref() {
            return Some(AppTxView::Ssh(SshTxView {
                session: ssh,
                side: r.side,
                stage: SshStage::from_id(r.id),
            }));
        }
        if let Some(dce) = self.dce_state() {
            return dce.transaction(r.id).map(|tx| {
                AppTxView::Dcerpc(DcerpcTxView {
                    state: dce,
                    tx,
                    side: r.side,
                })
            });
        }
        if let Some(sip) = self.sip.as_deref() {
            return sip.transaction(r.id).map(|tx| {
                AppTxView::Sip(SipTxView {
                    tx,
                    ip_proto: self.ip_proto,
                })
            });
        }
        if let Some(rfb) = self.rfb.as_deref() {
            return Some(AppTxView::Rfb(RfbTxView {
                session: rfb,
                side: r.side,
            }));
        }
        None
    }

    /// Frees transactions whose both sides were inspected.
    pub fn release_completed(&mut self) {
        if let Some(http) = self.http.as_mut() {
            // Transactions with a side still queued stay for inspection.
            match self.http_queue.iter().map(|(r, _)| r.id).min() {
                Some(first_queued) => http.remove_completed_before(first_queued),
                None => {
                    let _ = http.remove_completed();
                }
            }
        }
        if let Some(dns) = self.dns.as_mut() {
            dns.remove_completed();
        }
        if let Some(k) = self.krb5.as_mut() {
            // Messages still queued for inspection stay.
            let first_queued = self.krb5_queue.iter().map(|(r, _)| r.id).min();
            k.remove_before(first_queued.unwrap_or(u64::MAX));
        }
        if let Some(s) = self.snmp.as_mut() {
            // Datagrams are inspected as they arrive.
            s.remove_before(u64::MAX);
        }
        if let Some(q) = self.quic.as_mut() {
            q.remove_before(u64::MAX);
        }
        if let Some(n) = self.nfs.as_mut() {
            // Transactions with a side still queued stay.
            let first_queued = self.nfs_queue.iter().map(|(r, _)| r.id).min();
            n.remove_before(first_queued.unwrap_or(u64::MAX));
        }
        let queue = &self.ssh_queue;
        let dce = match (self.dcerpc.as_deref_mut(), self.smb_pipes.as_deref_mut()) {
            (Some(d), _) => Some(d),
            (None, Some(s)) => Some(&mut s.dce),
            (None, None) => None,
        };
        if let Some(dce) = dce {
            // Sides queued for inspection keep their transaction.
            dce.remove_completed(|id| queue.iter().any(|d| d.ready.id & !SMB_DCERPC == id));
        }
        if let Some(smtp) = self.smtp.as_mut() {
            // Those still queued for inspection stay.
            let upto = match self.smtp_queue.iter().map(|d| d.ready.id).min() {
                Some(0) => None,
                Some(first) => Some(first - 1),
                None => Some(u64::MAX),
            };
            if let Some(upto) = upto {
                smtp.remove_reported(upto);
            }
        }
        if let Some(smb) = self.smb.as_mut() {
            let first_queued = self.smb_queue.iter().map(|(r, _)| r.id).min();
            smb.remove_completed_before(first_queued.unwrap_or(u64::MAX));
        }
        if let Some(ike) = self.ike.as_mut() {
            // Each message is inspected once, when it comes.
            ike.remove_before(u64::MAX);
        }
        if let Some(ftp) = self.ftp.as_mut() {
            let queue = &self.ftp_queue;
            ftp.remove_finished(|id| queue.iter().any(|(r, _)| r.id & !FTP_LATE == id));
        }
        if let Some(h2) = self.http2.as_mut() {
            // Streams whose both sides were handed out go, unless a side
            // still waits in the queue.
            let queue = &self.tx_queue;
            h2.remove_done(|id| queue.iter().any(|(r, _, _)| r.id == id | HTTP2_TX));
        }
        if let Some(sip) = self.sip.as_mut() {
            // Each message is inspected once: all but those queued go.
            let first_queued = self.tx_queue.iter().map(|(r, _, _)| r.id).min();
            sip.remove_before(first_queued.unwrap_or(u64::MAX));
        }
    }
}

/// Moves to `out`, in order, the sides of `queue` whose data (up to the
/// queued stream offset) the peer acknowledged (`acked`, by
/// [`Direction::index`]) and that travel `dir` (every direction when
/// `None`); the others stay queued.
fn release_acked_sides(
    queue: &mut Vec<(ReadyTx, u64)>,
    acked: [u64; 2],
    dir: Option<Direction>,
    out: &mut Vec<ReadyTx>,
) {
    queue.retain(|&(ready, end)| {
        let data_dir = match ready.side {
            TxSide::Request => Direction::ToServer,
            TxSide::Response => Direction::ToClient,
        };
        let go = acked.get(data_dir.index()).is_some_and(|&a| a >= end)
            && dir.is_none_or(|x| x == data_dir);
        if go {
            out.push(ready);
        }
        !go
    });
}

fn dns_dir(dir: Direction) -> DnsDirection {
    match dir {
        Direction::ToServer => DnsDirection::ToServer,
        Direction::ToClient => DnsDirection::ToClient,
    }
}

fn collect_dns(events: &[DnsEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        match e {
            DnsEvent::Request(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Request,
            }),
            DnsEvent::Response(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Response,
            }),
            DnsEvent::NotDns => {}
        }
    }
}

/// The [`ReadyTx::id`] of the TLS session's client-certificate stage
/// (0 is the hellos and the server's certificate).
const TLS_CLIENT_CERT_STAGE: u64 = 1;

fn collect_tls(events: &[TlsEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        ready.push(match e {
            TlsEvent::ClientHello => ReadyTx {
                id: 0,
                side: TxSide::Request,
            },
            TlsEvent::ServerDone => ReadyTx {
                id: 0,
                side: TxSide::Response,
            },
            // Certificate signatures are response-side ones; this stage
            // runs them again on the client's certificate.
            TlsEvent::ClientCertificate => ReadyTx {
                id: TLS_CLIENT_CERT_STAGE,
                side: TxSide::Response,
            },
        });
    }
}

fn collect_dcerpc(events: &[DcerpcEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        ready.push(match *e {
            DcerpcEvent::Request(id) => ReadyTx {
                id,
                side: TxSide::Request,
            },
            DcerpcEvent::Response(id) => ReadyTx {
                id,
                side: TxSide::Response,
            },
        });
    }
}

/// A DCERPC transaction (a call, or a bind and its ack), as the rule
/// engine's buffers: `dcerpc.stub_data` is the request's stub on the
/// request side and the response's on the response side; `dcerpc.iface`
/// and `dcerpc.opnum` look at the request whatever the side.
pub struct DcerpcTxView<'a> {
    /// The connection's state (its accepted contexts).
    pub state: &'a DcerpcState,
    /// The transaction.
    pub tx: &'a DcerpcTransaction,
    /// The side inspected.
    pub side: TxSide,
}

/// A finished SMTP transaction is inspected on both sides at once (its
/// request side: the client's commands and message; its response side:
/// for rules on reply events), request first.
fn collect_smtp(events: &[SmtpEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        for side in [TxSide::Request, TxSide::Response] {
            ready.push(ReadyTx { id: e.tx_id, side });
        }
    }
}

/// An SMTP transaction, as the rule engine's buffers: `file.data` is
/// each attachment's decoded content, `file.name` each one's name (one
/// instance per attachment), `smtp.helo` the session's last HELO/EHLO
/// name, `smtp.mail_from` and `smtp.rcpt_to` (one instance per
/// recipient) the envelope, on both sides.
pub struct SmtpTxView<'a> {
    /// The session (its `HELO` name).
    pub session: &'a SmtpSession,
    /// The transaction.
    pub tx: &'a SmtpTransaction,
    /// The side inspected.
    pub side: TxSide,
}

impl TxBuffers for DcerpcTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match (buffer, self.side) {
            (Buffer::DcerpcStubData, TxSide::Request) => non_empty(&self.tx.stub_request),
            (Buffer::DcerpcStubData, TxSide::Response) => non_empty(&self.tx.stub_response),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Dcerpc
    }

    /// The byte order of the transaction's first PDU (Suricata's
    /// transaction endianness).
    fn dce_big_endian(&self) -> bool {
        !self.tx.little_endian
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::DceOpnum if self.tx.request_seen => Some(u32::from(self.tx.opnum)),
            _ => None,
        }
    }

    fn dce_iface(
        &self,
        uuid: &[u8; 16],
        version: Option<rampart_rules::NumCmp<u16>>,
        any_frag: bool,
    ) -> bool {
        self.state.iface_matches(
            self.tx,
            uuid,
            |v| version.is_none_or(|c| c.matches(v)),
            any_frag,
        )
    }
}

impl TxBuffers for SmtpTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::SmtpHelo if index == 0 => return non_empty(&self.session.helo),
            Buffer::SmtpMailFrom if index == 0 => return non_empty(&self.tx.mail_from),
            Buffer::SmtpRcptTo => {
                return self
                    .tx
                    .rcpt_to
                    .get(index)
                    .map(|r| Cow::Borrowed(r.as_slice()))
            }
            _ => {}
        }
        // An empty file is still an instance: the files after it count.
        let file = self.tx.message.as_ref()?.files.get(index)?;
        match buffer {
            Buffer::FileData => Some(Cow::Borrowed(&file.data)),
            Buffer::FileName => Some(Cow::Borrowed(&file.name)),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Smtp
    }

    fn file_md5(&self, index: usize) -> Option<[u8; 16]> {
        self.tx.message.as_ref()?.files.get(index)?.md5
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }
}

fn nfs_dir(dir: Direction) -> NfsDirection {
    match dir {
        Direction::ToServer => NfsDirection::ToServer,
        Direction::ToClient => NfsDirection::ToClient,
    }
}

fn collect_nfs(events: &[NfsReady], ready: &mut Vec<ReadyTx>) {
    ready.extend(events.iter().map(|e| ReadyTx {
        id: e.id,
        side: match e.dir {
            NfsDirection::ToServer => TxSide::Request,
            NfsDirection::ToClient => TxSide::Response,
        },
    }));
}

/// An NFS transaction, as the rule engine's buffers: its procedure and
/// version (`nfs_procedure`, `nfs.version`, inspected on requests as
/// Suricata registers them), the file of a file transfer on its own
/// direction's side (`file.data`, `file.name`, `file.magic`, `filesize`,
/// `filestore`), and the events raised while it was the latest.
pub struct NfsTxView<'a> {
    /// The transaction.
    pub tx: &'a NfsTx,
    /// The side inspected.
    pub side: TxSide,
    /// 17 over UDP, 6 over TCP.
    pub ip_proto: u8,
}

impl NfsTxView<'_> {
    /// The transaction's file when the inspected side is its direction's
    /// (requests for written files, responses for read ones).
    fn file(&self) -> Option<&rampart_app::nfs::NfsFile> {
        let side = match self.tx.file_direction? {
            NfsDirection::ToServer => TxSide::Request,
            NfsDirection::ToClient => TxSide::Response,
        };
        (side == self.side).then_some(self.tx.file.as_ref()?)
    }
}

impl TxBuffers for NfsTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let f = self.file()?;
        match buffer {
            Buffer::FileData => non_empty(&f.data),
            Buffer::FileName => non_empty(&self.tx.file_name),
            Buffer::FileMagic => {
                rampart_app::file_magic::describe(&f.data).map(|d| Cow::Owned(d.into_bytes()))
            }
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Nfs
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        self.values(field).first().copied()
    }

    fn values(&self, field: TxValue) -> Vec<u32> {
        match field {
            TxValue::NfsProcedure => self.tx.procedures().collect(),
            TxValue::NfsVersion => vec![self.tx.version],
            _ => Vec::new(),
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }

    fn file_size(&self) -> Option<u64> {
        self.file().filter(|f| f.closed).map(|f| f.size)
    }

    fn has_file(&self) -> bool {
        self.file().is_some()
    }
}

fn krb5_dir(dir: Direction) -> Krb5Direction {
    match dir {
        Direction::ToServer => Krb5Direction::ToServer,
        Direction::ToClient => Krb5Direction::ToClient,
    }
}

/// Messages of `dir` that are transactions of their own (Kerberos,
/// SNMP): each is inspected on its direction's side.
fn collect_messages(ids: &[u64], dir: Direction, ready: &mut Vec<ReadyTx>) {
    let side = match dir {
        Direction::ToServer => TxSide::Request,
        Direction::ToClient => TxSide::Response,
    };
    ready.extend(ids.iter().map(|&id| ReadyTx { id, side }));
}

/// A Kerberos message, as the rule engine's buffers: `krb5.cname` and
/// `krb5.sname` hold one instance per name component (`krbtgt`,
/// `REALM`), as in Suricata.
pub struct Krb5TxView<'a> {
    /// The message.
    pub tx: &'a Krb5Transaction,
    /// 17 over UDP, 6 over TCP.
    pub ip_proto: u8,
}

impl TxBuffers for Krb5TxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let name = match buffer {
            Buffer::Krb5Cname => self.tx.cname.as_ref()?,
            Buffer::Krb5Sname => self.tx.sname.as_ref()?,
            _ => return None,
        };
        name.name_string
            .get(index)
            .map(|s| Cow::Borrowed(s.as_bytes()))
    }

    fn proto(&self) -> TxProto {
        TxProto::Krb5
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }

    /// Signed values (error codes, encryption types) travel as their
    /// two's complement bits.
    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::Krb5MsgType => Some(self.tx.msg_type.0),
            TxValue::Krb5ErrCode => self.tx.error_code.map(|c| c.0 as u32),
            TxValue::Krb5TicketEtype => self.tx.ticket_etype.map(|e| e.0 as u32),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }
}

/// A QUIC packet, as the rule engine's buffers: `quic.version` for long
/// headers, the client's `quic.sni`, `quic.ua`, CYU, JA3 and JA4, the
/// server's JA3S (each on the side Suricata registers it for).
pub struct QuicTxView<'a> {
    /// The packet.
    pub tx: &'a QuicTransaction,
}

impl TxBuffers for QuicTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let tx = self.tx;
        let client = tx.client();
        match buffer {
            Buffer::QuicVersion => Some(Cow::Owned(tx.version_bytes()?.to_vec())),
            Buffer::QuicSni if client => tx.sni.as_deref().map(Cow::Borrowed),
            Buffer::QuicUa if client => tx.ua.as_deref().map(Cow::Borrowed),
            Buffer::Ja3Hash if client => Some(Cow::Owned(tx.ja3_hash()?.into_bytes())),
            Buffer::Ja3String if client => tx.ja3.as_deref().map(|s| Cow::Borrowed(s.as_bytes())),
            Buffer::Ja4Hash if client => tx.ja4.as_deref().map(|s| Cow::Borrowed(s.as_bytes())),
            Buffer::Ja3sHash if !client => Some(Cow::Owned(tx.ja3_hash()?.into_bytes())),
            Buffer::Ja3sString if !client => tx.ja3.as_deref().map(|s| Cow::Borrowed(s.as_bytes())),
            Buffer::QuicCyuHash | Buffer::QuicCyuString => self.get_multi(buffer, 0),
            _ => None,
        }
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        if !self.tx.client() {
            return None;
        }
        let cyu = self.tx.cyu.get(index)?;
        match buffer {
            Buffer::QuicCyuHash => Some(Cow::Borrowed(cyu.hash.as_bytes())),
            Buffer::QuicCyuString => Some(Cow::Borrowed(cyu.string.as_bytes())),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Quic
    }

    fn ip_proto(&self) -> u8 {
        17
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }
}

/// An SNMP message, as the rule engine's buffers.
pub struct SnmpTxView<'a> {
    /// The message.
    pub tx: &'a SnmpTransaction,
}

impl TxBuffers for SnmpTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let trap = || self.tx.pdu.as_ref().and_then(|p| p.trap.as_ref());
        match buffer {
            Buffer::SnmpCommunity => non_empty(self.tx.community.as_deref()?.as_bytes()),
            Buffer::SnmpUsm => non_empty(self.tx.usm.as_deref()?.as_bytes()),
            Buffer::SnmpTrapOid => non_empty(trap()?.enterprise.as_bytes()),
            Buffer::SnmpTrapAddress => Some(Cow::Owned(trap()?.agent.to_string().into_bytes())),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Snmp
    }

    fn ip_proto(&self) -> u8 {
        17
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::SnmpVersion => Some(self.tx.version),
            TxValue::SnmpPduType => self.tx.pdu.as_ref().map(|p| p.pdu_type),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }
}

/// An IKE message, as the rule engine's buffers: `ike.init_spi` and
/// `ike.resp_spi` as 16 hex digits, `ike.vendor` one instance per IKEv1
/// vendor id (hex), `ike.key_exchange_payload` and `ike.nonce_payload`
/// the IKEv1 payloads' data.
pub struct IkeTxView<'a> {
    /// The flow's IKE state (what the exchange chose so far).
    pub state: &'a IkeState,
    /// The message.
    pub tx: &'a IkeTransaction,
    /// Its direction as a side.
    pub side: TxSide,
}

impl TxBuffers for IkeTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let v1 = self.tx.version.0 == 1;
        match buffer {
            Buffer::IkeInitSpi if index == 0 => {
                Some(Cow::Owned(self.tx.init_spi_hex().into_bytes()))
            }
            Buffer::IkeRespSpi if index == 0 => {
                Some(Cow::Owned(self.tx.resp_spi_hex().into_bytes()))
            }
            Buffer::IkeVendor if v1 => self
                .tx
                .v1_vendor_ids
                .get(index)
                .map(|v| Cow::Borrowed(v.as_bytes())),
            Buffer::IkeKeyExchangePayload if v1 && index == 0 => {
                non_empty(&self.tx.v1_key_exchange)
            }
            Buffer::IkeNoncePayload if v1 && index == 0 => non_empty(&self.tx.v1_nonce),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Ike
    }

    fn ip_proto(&self) -> u8 {
        17
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        let v1 = self.tx.version.0 == 1;
        let len = |b: &[u8]| {
            (v1 && !b.is_empty())
                .then(|| u32::try_from(b.len()).ok())
                .flatten()
        };
        match field {
            TxValue::IkeExchType => Some(u32::from(self.tx.exchange_type)),
            TxValue::IkeKeyExchangeLength => len(&self.tx.v1_key_exchange),
            TxValue::IkeNonceLength => len(&self.tx.v1_nonce),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }

    fn ike_sa_attribute(&self, name: &str) -> Option<u32> {
        self.tx.sa_attribute(name)
    }
}

fn ftp_dir(dir: Direction) -> FtpDirection {
    match dir {
        Direction::ToServer => FtpDirection::ToServer,
        Direction::ToClient => FtpDirection::ToClient,
    }
}

/// Marks the [`ReadyTx::id`] of an FTP request side inspected again once
/// its transaction ended, for the signatures that depend on the reply
/// (`ftp.mode`): Suricata keeps inspecting a transaction's request side
/// on later to-server packets until the transaction is complete.
const FTP_LATE: u64 = 1 << 60;

fn collect_ftp(events: &[FtpEvent], ftp: &FtpSession, ready: &mut Vec<ReadyTx>) {
    for e in events {
        match *e {
            FtpEvent::Request(id) => ready.push(ReadyTx {
                id,
                side: TxSide::Request,
            }),
            FtpEvent::Response(id) => {
                ready.push(ReadyTx {
                    id,
                    side: TxSide::Response,
                });
                if ftp.transaction(id).is_some_and(|t| !t.request.is_empty()) {
                    ready.push(ReadyTx {
                        id: id | FTP_LATE,
                        side: TxSide::Request,
                    });
                }
            }
        }
    }
}

/// Whether a signature's result depends on an FTP transaction's reply
/// though it inspects the request side (`ftp.mode`).
fn ftp_reply_dependent(app: &AppInspect) -> bool {
    app.checks.iter().any(|c| matches!(c, AppCheck::FtpMode(_)))
}

/// An FTP transaction, as the rule engine's buffers: `ftp.command` and
/// `ftp.command_data` from the command line, `ftp.reply` and
/// `ftp.completion_code` one instance per reply line; events of the
/// command on the request side, all of them on the response side.
pub struct FtpTxView<'a> {
    /// The transaction.
    pub tx: &'a FtpTransaction,
    /// The side inspected.
    pub side: TxSide,
    /// The control connection's client (IPv4, big-endian), for
    /// `ftpbounce`.
    pub client_v4: Option<u32>,
    /// The request side inspected again once the transaction ended: only
    /// for the signatures that depend on the reply.
    pub late: bool,
}

impl FtpTxView<'_> {
    /// The bytes that carried the inspected side, near enough: the
    /// command line, or the reply lines, each with its CRLF. Raw content
    /// in an FTP rule (`content:"PORT"; ftpbounce;`) is matched on it.
    pub fn raw_message(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self.side {
            TxSide::Request => {
                v.extend_from_slice(&self.tx.request);
                v.extend_from_slice(b"\r\n");
            }
            TxSide::Response => {
                for r in &self.tx.replies {
                    v.extend_from_slice(&r.line);
                    v.extend_from_slice(b"\r\n");
                }
            }
        }
        v
    }

    fn ftp_bounce(&self) -> bool {
        self.client_v4.is_some_and(|c| self.tx.is_bounce(c))
    }
}

impl TxBuffers for FtpTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::FtpCommand if index == 0 => {
                self.tx.command.map(|c| Cow::Borrowed(c.name().as_bytes()))
            }
            Buffer::FtpCommandData if index == 0 => self.tx.command_data().map(Cow::Borrowed),
            Buffer::FtpReply => self
                .tx
                .reply_parts()
                .nth(index)
                .map(|(_, text)| Cow::Borrowed(text)),
            Buffer::FtpCompletionCode => self
                .tx
                .reply_parts()
                .filter_map(|(code, _)| code)
                .nth(index)
                .map(Cow::Borrowed),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Ftp
    }

    fn has_event(&self, name: &str) -> bool {
        match self.side {
            TxSide::Request => self
                .tx
                .request_anomalies
                .iter()
                .any(|a| a.event_name() == name),
            TxSide::Response => self.tx.has_event(name),
        }
    }

    fn has_late_event(&self, name: &str) -> bool {
        self.tx
            .response_anomalies
            .iter()
            .any(|a| a.event_name() == name)
    }

    fn ftp_bounce(&self) -> bool {
        FtpTxView::ftp_bounce(self)
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::FtpMode if self.tx.command.is_some() && self.tx.dyn_port.is_some() => {
                Some(u32::from(self.tx.active))
            }
            TxValue::FtpReplyReceived if self.tx.command.is_some() => Some(u32::from(self.tx.done)),
            _ => None,
        }
    }

    /// A request side is inspected twice: when the command is read (for
    /// every signature but the reply-dependent ones) and once the
    /// transaction ended (for those only).
    fn wants(&self, app: &AppInspect) -> bool {
        match self.side {
            TxSide::Request => self.late == ftp_reply_dependent(app),
            TxSide::Response => true,
        }
    }
}

fn ssh_dir(dir: Direction) -> SshDirection {
    match dir {
        Direction::ToServer => SshDirection::ToServer,
        Direction::ToClient => SshDirection::ToClient,
    }
}

fn smb_dir(dir: Direction) -> SmbDirection {
    match dir {
        Direction::ToServer => SmbDirection::ToServer,
        Direction::ToClient => SmbDirection::ToClient,
    }
}

fn collect_smb(events: &[SmbReady], ready: &mut Vec<ReadyTx>) {
    for e in events {
        ready.push(ReadyTx {
            id: e.id,
            side: match e.dir {
                SmbDirection::ToServer => TxSide::Request,
                SmbDirection::ToClient => TxSide::Response,
            },
        });
    }
}

/// An SMB transaction, as the rule engine's buffers: a tree connect
/// (`smb.share` / `smb.named_pipe`) or a file (`file.data`, `file.name`,
/// `filesize`), plus the events raised while it was the latest.
pub struct SmbTxView<'a> {
    /// The transaction.
    pub tx: &'a SmbTx,
    /// The side inspected.
    pub side: TxSide,
    /// How far the to-client stream was acknowledged at inspection: a
    /// tree connect's response counts only once acknowledged.
    pub acked_to_client: u64,
}

impl SmbTxView<'_> {
    /// Whether the inspected side is the file's direction (requests for
    /// written files, responses for read ones).
    fn file_side(&self, f: &rampart_app::smb::SmbFile) -> bool {
        let side = match f.direction {
            Some(SmbDirection::ToClient) => TxSide::Response,
            _ => TxSide::Request,
        };
        side == self.side
    }

    /// Whether the tree connect's response is known to inspection.
    fn response_seen(&self) -> bool {
        self.tx
            .response_end
            .is_some_and(|e| e <= self.acked_to_client)
    }
}

impl TxBuffers for SmbTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match (&self.tx.kind, buffer) {
            // A share is a named pipe once the response said so (Suricata
            // registers both buffers for requests).
            (
                SmbTxKind::TreeConnect { share, is_pipe },
                Buffer::SmbShare | Buffer::SmbNamedPipe,
            ) => {
                let pipe = self.response_seen() && *is_pipe == Some(true);
                (pipe == (buffer == Buffer::SmbNamedPipe))
                    .then(|| non_empty(share))
                    .flatten()
            }
            // A file is seen on its own direction's side only.
            (SmbTxKind::File(f), _) if !self.file_side(f) => None,
            (SmbTxKind::File(f), Buffer::FileData) => non_empty(&f.data),
            (SmbTxKind::File(f), Buffer::FileName) => non_empty(&f.name),
            (SmbTxKind::File(f), Buffer::FileMagic) => {
                rampart_app::file_magic::describe(&f.data).map(|d| Cow::Owned(d.into_bytes()))
            }
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Smb
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.anomalies.iter().any(|a| a.event_name() == name)
    }

    fn file_size(&self) -> Option<u64> {
        match &self.tx.kind {
            SmbTxKind::File(f) if f.closed && self.file_side(f) => Some(f.size),
            _ => None,
        }
    }
}

fn collect_ssh(events: &[SshEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        let stage = match e.kind {
            SshEventKind::BannerDone => SshStage::Banner,
            SshEventKind::Hassh => SshStage::Hassh,
            SshEventKind::Finished => SshStage::Final,
        };
        ready.push(ReadyTx {
            id: stage as u64,
            side: match e.dir {
                SshDirection::ToServer => TxSide::Request,
                SshDirection::ToClient => TxSide::Response,
            },
        });
    }
}

/// An SSH connection, as the rule engine's buffers: the request side is
/// the client's identification and key exchange, the response side the
/// server's.
pub struct SshTxView<'a> {
    /// The session.
    pub session: &'a SshSession,
    /// The side inspected.
    pub side: TxSide,
    /// Why it is looked at (see [`SshStage`]).
    pub stage: SshStage,
}

impl TxBuffers for SshTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let s = self.session;
        let own = match self.side {
            TxSide::Request => &s.client,
            TxSide::Response => &s.server,
        };
        let b: &[u8] = match buffer {
            Buffer::SshProto => &own.proto,
            Buffer::SshSoftware => &own.software,
            Buffer::SshHassh => &s.client.hassh,
            Buffer::SshHasshString => &s.client.hassh_string,
            Buffer::SshHasshServer => &s.server.hassh,
            Buffer::SshHasshServerString => &s.server.hassh_string,
            _ => return None,
        };
        non_empty(b)
    }

    fn proto(&self) -> TxProto {
        TxProto::Ssh
    }

    fn has_event(&self, name: &str) -> bool {
        self.session
            .anomalies
            .iter()
            .any(|a| a.event_name() == name)
    }

    /// Identification signatures at the identification stage, HASSH ones
    /// at the key exchange stage, event ones at the final stage.
    fn wants(&self, app: &AppInspect) -> bool {
        let events = app.checks.iter().any(|c| matches!(c, AppCheck::Event(_)));
        let hassh = app
            .buffers
            .iter()
            .any(|(b, _)| rampart_detect::app::is_ssh_hassh_buffer(b.buffer));
        match self.stage {
            SshStage::Banner => !events && !hassh,
            SshStage::Hassh => !events && hassh,
            SshStage::Final => events,
            SshStage::Log => false,
        }
    }
}

/// A TLS connection's handshake, as the rule engine's buffers: the
/// request side is the ClientHello, the response side the server's hello
/// and certificate chain.
pub struct TlsTxView<'a> {
    /// The session.
    pub session: &'a TlsSession,
    /// The side inspected.
    pub side: TxSide,
    /// The client's certificate is inspected (client authentication):
    /// the certificate buffers are the client's, and only signatures on
    /// them run, as Suricata inspects the client's certificate in the
    /// to-server direction.
    pub client_cert: bool,
}

impl TlsTxView<'_> {
    /// The chain the certificate buffers read.
    fn chain(&self) -> &[rampart_app::tls::Certificate] {
        if self.client_cert {
            &self.session.client_certificates
        } else {
            &self.session.certificates
        }
    }

    /// At the client-certificate stage, only signatures on certificate
    /// buffers run (the others ran with the hellos).
    fn wants(&self, app: &AppInspect) -> bool {
        !self.client_cert
            || app.buffers.iter().any(|(b, _)| {
                matches!(
                    b.buffer,
                    Buffer::TlsCertSubject
                        | Buffer::TlsCertIssuer
                        | Buffer::TlsCertSerial
                        | Buffer::TlsCertFingerprint
                        | Buffer::TlsCerts
                )
            })
    }
}

impl TxBuffers for TlsTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let s = self.session;
        let ch = s.client_hello.as_ref();
        let sh = s.server_hello.as_ref();
        // The sender's own certificate is the first of the chain.
        let cert = self.chain().first();
        let text = |t: &str| (!t.is_empty()).then(|| Cow::Owned(t.as_bytes().to_vec()));
        match buffer {
            Buffer::TlsSni => ch?.sni.as_deref().map(Cow::Borrowed),
            Buffer::Ja3Hash => Some(Cow::Owned(ch?.ja3_hash().into_bytes())),
            Buffer::Ja3String => Some(Cow::Owned(ch?.ja3_string().into_bytes())),
            Buffer::Ja3sHash => Some(Cow::Owned(sh?.ja3s_hash().into_bytes())),
            Buffer::Ja3sString => Some(Cow::Owned(sh?.ja3s_string().into_bytes())),
            Buffer::TlsCertSubject => text(&cert?.subject),
            Buffer::TlsCertIssuer => text(&cert?.issuer),
            Buffer::TlsCertSerial => text(&cert?.serial),
            Buffer::TlsCertFingerprint => text(&cert?.fingerprint),
            Buffer::TlsCerts => self.get_multi(buffer, 0),
            // The hello of the inspected side: the client's random on
            // requests, the server's on responses (first 4 bytes are the
            // "time", the other 28 the random bytes).
            Buffer::TlsRandom | Buffer::TlsRandomTime | Buffer::TlsRandomBytes => {
                let random: &[u8; 32] = match self.side {
                    TxSide::Request => &ch?.random,
                    TxSide::Response => &sh?.random,
                };
                let part = match buffer {
                    Buffer::TlsRandomTime => random.get(..4),
                    Buffer::TlsRandomBytes => random.get(4..),
                    _ => Some(random.as_slice()),
                };
                part.map(Cow::Borrowed)
            }
            _ => None,
        }
    }

    /// `tls.certs`: each certificate of the chain, DER.
    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::TlsCerts => self
                .chain()
                .get(index)
                .map(|c| Cow::Borrowed(c.der.as_slice())),
            _ if index == 0 => self.get(buffer),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Tls
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::TlsVersion => match self.side {
                TxSide::Request => self.session.client_hello.as_ref().map(|c| c.version),
                TxSide::Response => self
                    .session
                    .server_hello
                    .as_ref()
                    .map(|s| s.negotiated_version()),
            }
            .map(u32::from),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.session
            .anomalies
            .iter()
            .any(|a| a.event_name() == name)
    }

    /// Events raised after the ClientHello was inspected (a direction-free
    /// event rule, run again with the server's side, alerts once).
    fn has_late_event(&self, name: &str) -> bool {
        self.session
            .anomalies
            .get(self.session.anomalies_before_client_hello..)
            .unwrap_or(&[])
            .iter()
            .any(|a| a.event_name() == name)
    }
}

/// One side of a DNS transaction, as the rule engine's buffers.
pub struct DnsTxView<'a> {
    /// The transaction.
    pub tx: &'a DnsTransaction,
    /// The side inspected: the request or the response message.
    pub side: TxSide,
    /// 17 for DNS over UDP, 6 over TCP.
    pub ip_proto: u8,
}

impl DnsTxView<'_> {
    /// The message of the inspected side.
    pub fn message(&self) -> Option<&DnsMessage> {
        match self.side {
            TxSide::Request => self.tx.request.as_ref(),
            TxSide::Response => self.tx.response.as_ref(),
        }
    }
}

impl TxBuffers for DnsTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    /// `dns.query`: the request's question names, one instance each (as
    /// in Suricata, request questions only).
    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::DnsQuery => self
                .tx
                .request
                .as_ref()?
                .queries
                .get(index)
                .map(|q| Cow::Borrowed(q.name.as_slice())),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Dns
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::DnsOpcode => self.message().map(|m| u32::from(m.header.opcode())),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.message().is_some_and(|m| {
            m.anomalies
                .iter()
                .any(|a| event_matches(a.event_name(), name))
        })
    }
}

/// Suricata 7 names two DNS events both ways (`not_request` and the older
/// `not_a_request` in its shipped rules).
fn event_matches(ours: &str, rule: &str) -> bool {
    ours == rule
        || matches!(
            (ours, rule),
            ("not_request", "not_a_request") | ("not_response", "not_a_response")
        )
}

/// Both sides of transaction `id`, request first (a connection's one
/// transaction, as RFB's).
fn collect_both(id: u64, ready: &mut Vec<ReadyTx>) {
    for side in [TxSide::Request, TxSide::Response] {
        ready.push(ReadyTx { id, side });
    }
}

/// A SIP message is a transaction with one side: requests (to the
/// server) on the request side, responses on the response side.
fn collect_sip(events: &[SipEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        ready.push(ReadyTx {
            id: e.id,
            side: match e.dir {
                HttpDir::ToServer => TxSide::Request,
                HttpDir::ToClient => TxSide::Response,
            },
        });
    }
}

/// A SIP message, as the rule engine's buffers: the start line's parts
/// (`sip.method`, `sip.uri`, `sip.request_line` for requests;
/// `sip.stat_code`, `sip.stat_msg`, `sip.response_line` for responses;
/// `sip.protocol` for both) and one instance per header field of the
/// header buffers (`sip.from`, `sip.to`, `sip.via`, `sip.user_agent`,
/// `sip.content_type`, `sip.content_length`).
pub struct SipTxView<'a> {
    /// The message.
    pub tx: &'a SipTransaction,
    /// 17 over UDP, 6 over TCP.
    pub ip_proto: u8,
}

impl TxBuffers for SipTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let m = &self.tx.message;
        let header = match buffer {
            Buffer::SipFrom => "from",
            Buffer::SipTo => "to",
            Buffer::SipVia => "via",
            Buffer::SipUserAgent => "user-agent",
            Buffer::SipContentType => "content-type",
            Buffer::SipContentLength => "content-length",
            _ if index > 0 => return None,
            Buffer::SipMethod => return non_empty(&m.request.as_ref()?.method),
            Buffer::SipUri => return non_empty(&m.request.as_ref()?.uri),
            Buffer::SipRequestLine => {
                m.request.as_ref()?;
                return non_empty(&m.start_line);
            }
            Buffer::SipStatCode => return non_empty(&m.response.as_ref()?.code),
            Buffer::SipStatMsg => return non_empty(&m.response.as_ref()?.reason),
            Buffer::SipResponseLine => {
                m.response.as_ref()?;
                return non_empty(&m.start_line);
            }
            Buffer::SipProtocol => {
                return match (&m.request, &m.response) {
                    (Some(r), _) => non_empty(&r.version),
                    (None, Some(r)) => non_empty(&r.version),
                    (None, None) => None,
                }
            }
            _ => return None,
        };
        m.header_values(header).nth(index).map(Cow::Borrowed)
    }

    fn proto(&self) -> TxProto {
        TxProto::Sip
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }
}

/// An RFB handshake, as the rule engine's buffers: `rfb.name` (the
/// desktop name of ServerInit), `rfb.sectype` and `rfb.secresult`.
pub struct RfbTxView<'a> {
    /// The handshake.
    pub session: &'a RfbSession,
    /// The side inspected.
    pub side: TxSide,
}

impl TxBuffers for RfbTxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::RfbName => non_empty(&self.session.server_init.as_ref()?.name),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Rfb
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::RfbSectype => self.session.security_type,
            TxValue::RfbSecresult => self.session.security_result,
            _ => None,
        }
    }
}

/// An HTTP/2 transaction side is ready: the client's sides are requests,
/// the server's responses.
fn collect_http2(out: &[Http2Ready], ready: &mut Vec<ReadyTx>) {
    for r in out {
        ready.push(ReadyTx {
            id: r.id | HTTP2_TX,
            side: match r.dir {
                HttpDir::ToServer => TxSide::Request,
                HttpDir::ToClient => TxSide::Response,
            },
        });
    }
}

/// An HTTP/2 stream as the rule engine's buffers: `http.request_header`
/// and `http.response_header` (one `name: value` instance per header
/// field, pseudo-headers without their `:`, as Suricata), `http2.header`
/// and `http2.header_name` (the inspected side's fields, names as sent),
/// and the HTTP buffers Suricata fills from pseudo-headers
/// (`http.method`, `http.uri`, `http.host`, `http.stat_code`, ...).
pub struct Http2TxView<'a> {
    /// The stream's transaction.
    pub tx: &'a Http2Transaction,
    /// The side inspected.
    pub side: TxSide,
}

impl Http2TxView<'_> {
    fn dir(&self) -> HttpDir {
        match self.side {
            TxSide::Request => HttpDir::ToServer,
            TxSide::Response => HttpDir::ToClient,
        }
    }
}

impl TxBuffers for Http2TxView<'_> {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let req = |name: &[u8]| self.tx.header_value(HttpDir::ToServer, name);
        match buffer {
            Buffer::HttpMethod => non_empty(req(b":method")?),
            Buffer::HttpUri | Buffer::HttpUriRaw => non_empty(req(b":path")?),
            Buffer::HttpHostRaw => non_empty(req(b":authority").or_else(|| req(b"host"))?),
            Buffer::HttpHost => {
                let raw = req(b":authority").or_else(|| req(b"host"))?;
                // Lowercased, user info and port left out (as HTTP/1's).
                let host = raw.rsplit(|&b| b == b'@').next().unwrap_or(raw);
                let host = if host.first() == Some(&b'[') {
                    match host.iter().position(|&b| b == b']') {
                        Some(p) => host.get(..=p).unwrap_or(host),
                        None => host,
                    }
                } else {
                    match host.iter().rposition(|&b| b == b':') {
                        Some(p) => host.get(..p).unwrap_or(host),
                        None => host,
                    }
                };
                (!host.is_empty()).then(|| Cow::Owned(host.to_ascii_lowercase()))
            }
            Buffer::HttpUserAgent => non_empty(req(b"user-agent")?),
            Buffer::HttpStatCode => non_empty(self.tx.status()?),
            Buffer::HttpRequestHeader
            | Buffer::HttpResponseHeader
            | Buffer::Http2Header
            | Buffer::Http2HeaderName => self.get_multi(buffer, 0),
            _ => None,
        }
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let header = |dir: HttpDir| self.tx.side(dir).headers.get(index);
        match buffer {
            Buffer::HttpRequestHeader => {
                header(HttpDir::ToServer).map(|h| Cow::Owned(rampart_app::http2::header_line(h)))
            }
            Buffer::HttpResponseHeader => {
                header(HttpDir::ToClient).map(|h| Cow::Owned(rampart_app::http2::header_line(h)))
            }
            Buffer::Http2Header => header(self.dir()).map(rampart_app::http2::header_full),
            Buffer::Http2HeaderName => header(self.dir()).map(|h| Cow::Borrowed(&h.name[..])),
            _ if index == 0 => self.get(buffer),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Http2
    }

    fn has_event(&self, name: &str) -> bool {
        self.tx.has_event(name)
    }

    fn has_late_event(&self, name: &str) -> bool {
        self.tx.has_late_event(name)
    }

    fn values(&self, field: TxValue) -> Vec<u32> {
        let side = self.tx.side(self.dir());
        match field {
            TxValue::Http2FrameType => side.frame_types.iter().map(u32::from).collect(),
            TxValue::Http2ErrorCode => side.error_codes.clone(),
            _ => Vec::new(),
        }
    }
}

fn http_dir(dir: Direction) -> HttpDir {
    match dir {
        Direction::ToServer => HttpDir::ToServer,
        Direction::ToClient => HttpDir::ToClient,
    }
}

fn collect(events: &[HttpEvent], ready: &mut Vec<ReadyTx>) {
    for e in events {
        match e {
            HttpEvent::RequestComplete(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Request,
            }),
            HttpEvent::ResponseComplete(id) => ready.push(ReadyTx {
                id: *id,
                side: TxSide::Response,
            }),
            _ => {}
        }
    }
}

/// One side of an HTTP transaction, as the rule engine's buffers.
pub struct HttpTxView<'a> {
    /// The transaction.
    pub tx: &'a HttpTransaction,
    /// The side inspected (decides direction-dependent buffers such as
    /// `http.header` and `http.cookie`).
    pub side: TxSide,
}

impl HttpTxView<'_> {
    /// The side's message as it crossed the wire, near enough: start
    /// line, headers and (de-chunked) body. Raw payload content in an
    /// HTTP rule is matched against it, standing for the stream data
    /// Suricata inspects with the transaction.
    pub fn raw_message(&self) -> Vec<u8> {
        let (dir, body) = match self.side {
            TxSide::Request => (HttpDir::ToServer, self.tx.request_body()),
            TxSide::Response => (HttpDir::ToClient, self.tx.response_body()),
        };
        let mut raw = self.tx.start(dir);
        raw.extend_from_slice(body);
        raw
    }
}

impl TxBuffers for HttpTxView<'_> {
    fn proto(&self) -> TxProto {
        TxProto::Http
    }

    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let tx = self.tx;
        let dir = match self.side {
            TxSide::Request => HttpDir::ToServer,
            TxSide::Response => HttpDir::ToClient,
        };
        match buffer {
            Buffer::HttpUri => non_empty(tx.uri()),
            Buffer::HttpUriRaw => non_empty(tx.uri_raw()),
            Buffer::HttpMethod => non_empty(tx.method()),
            Buffer::HttpProtocol => non_empty(match self.side {
                TxSide::Request => tx.protocol(),
                TxSide::Response => tx.response_protocol(),
            }),
            Buffer::HttpRequestLine => non_empty(tx.request_line()),
            Buffer::HttpRequestBody => non_empty(tx.request_body()),
            Buffer::HttpResponseBody => non_empty(tx.response_body()),
            Buffer::HttpHeader => {
                let h = tx.header(dir);
                (!h.is_empty()).then_some(Cow::Owned(h))
            }
            Buffer::HttpHeaderRaw => non_empty(tx.header_raw(dir)),
            Buffer::HttpHeaderNames => Some(Cow::Owned(tx.header_names(dir))),
            Buffer::HttpCookie => tx.cookie(dir),
            Buffer::HttpUserAgent => tx.user_agent(),
            Buffer::HttpHost => tx.host().map(Cow::Borrowed),
            Buffer::HttpHostRaw => tx.host_raw().map(Cow::Borrowed),
            Buffer::HttpAccept => tx.accept(),
            Buffer::HttpAcceptEnc => tx.header_value(HttpDir::ToServer, "accept-encoding"),
            Buffer::HttpAcceptLang => tx.header_value(HttpDir::ToServer, "accept-language"),
            Buffer::HttpConnection => tx.header_value(HttpDir::ToServer, "connection"),
            Buffer::HttpContentType => tx.content_type(dir),
            Buffer::HttpContentLen => tx.content_len(dir),
            Buffer::HttpReferer => tx.referer(),
            Buffer::HttpStart => Some(Cow::Owned(tx.start(dir))),
            Buffer::HttpStatCode => non_empty(tx.stat_code()),
            Buffer::HttpStatMsg => non_empty(tx.stat_msg()),
            Buffer::HttpResponseLine => non_empty(tx.response_line()),
            Buffer::HttpLocation => tx.header_value(HttpDir::ToClient, "location"),
            Buffer::HttpServer => tx.header_value(HttpDir::ToClient, "server"),
            Buffer::FileData => non_empty(match self.side {
                TxSide::Request => tx.request_body(),
                TxSide::Response => tx.response_body(),
            }),
            Buffer::HttpRequestHeader | Buffer::HttpResponseHeader => self.get_multi(buffer, 0),
            Buffer::FileName => rampart_app::http_file::file_name(tx, dir),
            Buffer::FileMagic => rampart_app::http_file::file_magic(tx, dir),
            _ => None,
        }
    }

    /// `http.request_header` / `http.response_header`: each header of
    /// that message as `Name: value` (no line ending), one instance each.
    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let dir = match buffer {
            Buffer::HttpRequestHeader => HttpDir::ToServer,
            Buffer::HttpResponseHeader => HttpDir::ToClient,
            _ if index == 0 => return self.get(buffer),
            _ => return None,
        };
        let h = self.tx.headers(dir).get(index)?;
        let mut v = Vec::with_capacity(h.name.len() + 2 + h.value.len());
        v.extend_from_slice(&h.name);
        v.extend_from_slice(b": ");
        v.extend_from_slice(&h.value);
        Some(Cow::Owned(v))
    }

    /// A request is inspected for the events raised until it was
    /// complete, even when inspection waits until later (for the
    /// acknowledgement) and the response was parsed meanwhile: events of
    /// the response are the late check's, so each alerts once.
    fn has_event(&self, name: &str) -> bool {
        let events = match self.side {
            TxSide::Request => self.tx.anomalies_until_request(),
            TxSide::Response => self.tx.anomalies(),
        };
        events.iter().any(|a| a.matches_event(name))
    }

    fn has_late_event(&self, name: &str) -> bool {
        self.tx
            .anomalies_after_request()
            .iter()
            .any(|a| a.matches_event(name))
    }
}

/// A buffer that is present only when it has bytes (an empty URI or body
/// is "no buffer" for the rules, as in Suricata).
fn non_empty(b: &[u8]) -> Option<Cow<'_, [u8]>> {
    (!b.is_empty()).then_some(Cow::Borrowed(b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rampart_app::http::HttpAnomaly;

    /// A little-endian DCERPC request PDU (call `call_id`, opnum 1).
    fn dce_request(call_id: u32) -> Vec<u8> {
        let mut v = vec![5, 0, 0, 3, 0x10, 0, 0, 0, 28, 0, 0, 0];
        v.extend_from_slice(&call_id.to_le_bytes());
        v.extend_from_slice(&[4, 0, 0, 0, 0, 0, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
        v
    }

    #[test]
    fn unacknowledged_dcerpc_calls_are_inspected_beyond_the_queue_cap() {
        let mut app = AppState::default();
        let mut inspected = 0usize;
        let calls = 300u32;
        let mut end = 0u64;
        for call in 0..calls {
            let pdu = dce_request(call);
            let mut ready = Vec::new();
            end += pdu.len() as u64;
            app.feed(Direction::ToServer, &pdu, (49152, 135), end, &mut ready);
            app.defer_ssh(&mut ready, end);
            // Every side handed out can still be viewed.
            for r in &ready {
                assert!(app.view(r).is_some(), "call {call}");
            }
            inspected += ready.len();
            app.release_completed();
        }
        assert_eq!(app.tx_proto(), Some(TxProto::Dcerpc));
        assert_eq!(inspected, calls as usize - MAX_DEFERRED_DCERPC);
        // The rest when the connection ends.
        let mut ready = Vec::new();
        app.finish(&mut ready);
        assert_eq!(ready.len(), MAX_DEFERRED_DCERPC);
        assert!(ready.iter().all(|r| app.view(r).is_some()));
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// An AS-REQ for robin@CYLERA.LAB (DER assembled from RFC 4120).
    const AS_REQ: &str = "6a7f307da103020105a20302010aa471306fa00703050040810010a1123010a003020101a10930071b05726f62696ea20c1b0a43594c4552412e4c4142a31f301da003020102a11630141b066b72627467741b0a43594c4552412e4c4142a511180f32303337303931333032343830355aa70402023039a8083006020112020117";
    /// A TGS-REP with an RC4 ticket and an AES encrypted part.
    const TGS_REP: &str = "6d8184308181a003020105a10302010da30c1b0a43594c4552412e4c4142a4123010a003020101a10930071b05726f62696ea5426140303ea003020105a10c1b0a43594c4552412e4c4142a2183016a003020102a10f300d1b04687474701b057765623031a30f300da003020117a2060404deadbeefa60f300da003020112a2060404deadbeef";
    /// An SNMPv2c GetNextRequest, community `[R0_C@cti!]`.
    const SNMP_GET: &str =
        "3027020101040b5b52305f4340637469215da11502042b133f85020100020100300730050601010500";

    fn record(msg: &[u8]) -> Vec<u8> {
        let mut v = (msg.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(msg);
        v
    }

    #[test]
    fn udp_protocols_are_decided_by_the_first_datagram_to_their_port() {
        // Kerberos to port 88: a transaction per message, each on its
        // direction's side.
        let mut app = AppState::default();
        let mut ready = Vec::new();
        app.feed_datagram(Direction::ToServer, &hex(AS_REQ), (50000, 88), &mut ready);
        app.feed_datagram(Direction::ToClient, &hex(TGS_REP), (50000, 88), &mut ready);
        assert_eq!(app.tx_proto(), Some(TxProto::Krb5));
        assert_eq!(app.eve_proto(), Some("krb5"));
        let sides: Vec<TxSide> = ready.iter().map(|r| r.side).collect();
        assert_eq!(sides, [TxSide::Request, TxSide::Response]);
        let Some(AppTxView::Krb5(v)) = app.view(&ready[1]) else {
            panic!("no krb5 view");
        };
        assert_eq!(v.value(TxValue::Krb5TicketEtype), Some(23));
        assert_eq!(
            v.get_multi(Buffer::Krb5Sname, 1).as_deref(),
            Some(&b"web01"[..])
        );
        assert_eq!(v.ip_proto(), 17);
        app.release_completed();
        assert!(
            app.view(&ready[1]).is_none(),
            "inspected datagrams are freed"
        );

        // SNMP to the trap port.
        let mut app = AppState::default();
        let mut ready = Vec::new();
        app.feed_datagram(
            Direction::ToServer,
            &hex(SNMP_GET),
            (40000, 162),
            &mut ready,
        );
        let Some(AppTxView::Snmp(v)) = app.view(&ready[0]) else {
            panic!("no snmp view");
        };
        assert_eq!(
            v.get(Buffer::SnmpCommunity).as_deref(),
            Some(&b"[R0_C@cti!]"[..])
        );
        assert_eq!(v.value(TxValue::SnmpVersion), Some(2));
        assert_eq!(v.value(TxValue::SnmpPduType), Some(1));

        // A first datagram that is not SNMP fails the flow for good; so
        // does SNMP to another port.
        for (first, ports) in [
            (&b"hello there"[..], (40000, 161)),
            (&hex(SNMP_GET)[..], (40000, 53)),
        ] {
            let mut app = AppState::default();
            let mut ready = Vec::new();
            app.feed_datagram(Direction::ToServer, first, ports, &mut ready);
            app.feed_datagram(Direction::ToServer, &hex(SNMP_GET), ports, &mut ready);
            assert!(ready.is_empty());
            assert_eq!(app.eve_proto(), Some("failed"));
        }
    }

    #[test]
    fn kerberos_over_tcp_waits_for_acknowledgements() {
        let mut app = AppState::default();
        let mut stream = record(&hex(AS_REQ));
        stream.extend(record(&hex(AS_REQ)));
        let (a, b) = stream.split_at(40);
        let mut ready = Vec::new();
        app.feed(Direction::ToServer, a, (50000, 88), 40, &mut ready);
        assert_eq!(app.tx_proto(), Some(TxProto::Krb5));
        assert!(ready.is_empty());
        let end = stream.len() as u64;
        app.feed(Direction::ToServer, b, (50000, 88), end, &mut ready);
        assert_eq!(ready.len(), 2);
        app.defer_acked(&mut ready, end);
        assert!(ready.is_empty() && app.acks_pending());
        // Not acknowledged yet: nothing to inspect.
        app.release_acked([end - 1, 0], Some(Direction::ToServer), &mut ready);
        assert!(ready.is_empty());
        // Acknowledged, but the packet goes the other way.
        app.release_acked([end, 0], Some(Direction::ToClient), &mut ready);
        assert!(ready.is_empty());
        app.release_acked([end, 0], Some(Direction::ToServer), &mut ready);
        assert_eq!(ready.len(), 2);
        assert!(ready.iter().all(|r| app.view(r).is_some()));
        app.release_completed();
        assert!(ready.iter().all(|r| app.view(r).is_none()));

        // Not Kerberos on port 88: no protocol.
        let mut other = AppState::default();
        other.feed(
            Direction::ToServer,
            b"garbage garbage garbage",
            (50000, 88),
            23,
            &mut ready,
        );
        assert_eq!(other.tx_proto(), None);
    }

    #[test]
    fn unacknowledged_kerberos_messages_do_not_pile_up() {
        let mut app = AppState::default();
        let msg = record(&hex(AS_REQ));
        let mut inspected = 0usize;
        let mut end = 0u64;
        for _ in 0..300 {
            let mut ready = Vec::new();
            end += msg.len() as u64;
            app.feed(Direction::ToServer, &msg, (50000, 88), end, &mut ready);
            app.defer_acked(&mut ready, end);
            assert!(ready.iter().all(|r| app.view(r).is_some()));
            inspected += ready.len();
            app.release_completed();
        }
        assert_eq!(inspected, 300 - MAX_DEFERRED_KRB5);
        let mut ready = Vec::new();
        app.finish(&mut ready);
        assert_eq!(ready.len(), MAX_DEFERRED_KRB5);
        assert!(ready.iter().all(|r| app.view(r).is_some()));
    }

    /// The encryption names rules may write are the names the Kerberos
    /// decoder prints (and Suricata logs).
    #[test]
    fn krb5_encryption_names_agree_with_the_decoder() {
        for &(name, n) in rampart_rules::KRB5_ENCRYPTION_NAMES {
            let e = rampart_app::krb5::EncryptionType(n);
            assert_eq!(rampart_app::krb5::encryption_name(e), name);
            assert_eq!(
                rampart_app::krb5::is_weak_encryption(e),
                rampart_detect::app::krb5_weak_encryption(n),
                "{name}"
            );
        }
        for &(name, n) in rampart_rules::KRB5_MSG_TYPE_NAMES {
            let t = rampart_app::krb5::MessageType(n);
            assert_eq!(rampart_app::krb5::msg_type_name(t), format!("KRB_{name}"));
        }
    }

    fn parsed(req: &[u8], resp: &[u8]) -> HttpParser {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut ev = Vec::new();
        p.feed(HttpDir::ToServer, req, &mut ev);
        p.feed(HttpDir::ToClient, resp, &mut ev);
        p
    }

    #[test]
    fn header_multi_buffers_are_name_colon_value() {
        let p = parsed(
            b"GET / HTTP/1.1\r\nHost: h\r\nX-Key:  v1 \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 0\r\n\r\n",
        );
        let v = HttpTxView {
            tx: p.transaction(0).unwrap(),
            side: TxSide::Response,
        };
        let all = |b: Buffer| -> Vec<Vec<u8>> {
            (0..8)
                .map_while(|i| v.get_multi(b, i).map(Cow::into_owned))
                .collect()
        };
        assert_eq!(
            all(Buffer::HttpRequestHeader),
            vec![b"Host: h".to_vec(), b"X-Key: v1".to_vec()]
        );
        assert_eq!(
            all(Buffer::HttpResponseHeader),
            vec![b"Server: s".to_vec(), b"Content-Length: 0".to_vec()]
        );
        assert_eq!(
            v.get(Buffer::HttpRequestHeader).as_deref(),
            Some(&b"Host: h"[..])
        );
    }

    #[test]
    fn http_events_and_late_events() {
        let p = parsed(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: a, b, c, d\r\nContent-Length: 0\r\n\r\n",
        );
        let v = HttpTxView {
            tx: p.transaction(0).unwrap(),
            side: TxSide::Response,
        };
        assert!(v.has_event("duplicate_content_length_field_in_request"));
        assert!(!v.has_late_event("duplicate_content_length_field_in_request"));
        assert!(v.has_event("too_many_encoding_layers"));
        assert!(v.has_late_event("too_many_encoding_layers"));
        assert!(!v.has_event("request_chunk_extension"));
    }

    /// Every HTTP event the rule engine accepts is one the parser reports.
    #[test]
    fn accepted_http_events_are_reported() {
        let all = [
            HttpAnomaly::RequestHeaderInvalid,
            HttpAnomaly::ResponseHeaderInvalid,
            HttpAnomaly::InvalidContentLength,
            HttpAnomaly::ContentLengthAndChunked,
            HttpAnomaly::ChunkLengthInvalid,
            HttpAnomaly::ChunkDelimiterInvalid,
            HttpAnomaly::TooManyHeaders,
            HttpAnomaly::RequestLineTooLong,
            HttpAnomaly::ResponseLineTooLong,
            HttpAnomaly::HeaderLineTooLong,
            HttpAnomaly::RequestLineInvalid,
            HttpAnomaly::ResponseLineInvalid,
            HttpAnomaly::RequestLineMissingProtocol,
            HttpAnomaly::UriDelimNonCompliant,
            HttpAnomaly::UriInvalidEncoding,
            HttpAnomaly::BareLf,
            HttpAnomaly::ResponseMissingReason,
            HttpAnomaly::InvalidStatusCode,
            HttpAnomaly::MissingHost,
            HttpAnomaly::LineFolding,
            HttpAnomaly::UnmatchedResponse,
            HttpAnomaly::GzipDecompressionFailed,
            HttpAnomaly::CompressionBomb,
            HttpAnomaly::TooManyTransactions,
            HttpAnomaly::RequestDuplicateContentLength,
            HttpAnomaly::ResponseDuplicateContentLength,
            HttpAnomaly::RequestChunkExtension,
            HttpAnomaly::RequestBodyUnexpected,
            HttpAnomaly::TooManyEncodingLayers,
            HttpAnomaly::FailedProtocolChange,
        ];
        for name in rampart_detect::app::HTTP_EVENTS {
            assert!(
                all.iter().any(|a| a.matches_event(name)),
                "{name} has no anomaly"
            );
        }
        for a in all {
            for name in a.suricata_events() {
                assert!(rampart_detect::app::HTTP_EVENTS.contains(name), "{name}");
            }
        }
    }

    /// The rule engine accepts the events each parser raises: the lists
    /// live in both crates (neither depends on the other), and this keeps
    /// them the same.
    #[test]
    fn rule_event_lists_equal_the_parsers_event_lists() {
        let pairs: [(&str, &[&str], &[&str]); 7] = [
            (
                "nfs",
                rampart_app::nfs::NFS_EVENTS,
                rampart_detect::app::NFS_EVENTS,
            ),
            (
                "smb",
                rampart_app::smb::SMB_EVENTS,
                rampart_detect::app::SMB_EVENTS,
            ),
            (
                "krb5",
                rampart_app::krb5::KRB5_EVENTS,
                rampart_detect::app::KRB5_EVENTS,
            ),
            (
                "snmp",
                rampart_app::snmp::SNMP_EVENTS,
                rampart_detect::app::SNMP_EVENTS,
            ),
            (
                "ike",
                rampart_app::ike::IKE_EVENTS,
                rampart_detect::app::IKE_EVENTS,
            ),
            (
                "quic",
                rampart_app::quic::QUIC_EVENTS,
                rampart_detect::app::QUIC_EVENTS,
            ),
            (
                "http2",
                rampart_app::http2::HTTP2_EVENTS,
                rampart_detect::app::HTTP2_EVENTS,
            ),
        ];
        for (proto, parser, rules) in pairs {
            let mut a = parser.to_vec();
            let mut b = rules.to_vec();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{proto} events");
        }
    }

    #[test]
    fn quic_is_probed_on_its_ports_and_on_the_servers_first_datagram() {
        use rampart_app::quic::protection::initial_keys;
        // A client Initial (RFC 9001 keys of its DCID) holding a CRYPTO
        // frame with a minimal ClientHello for "q.test".
        let dcid = [7u8; 8];
        let keys = initial_keys(1, &dcid).unwrap();
        let sni = b"q.test";
        let mut ext = vec![
            0,
            0,
            0,
            (sni.len() + 5) as u8,
            0,
            (sni.len() + 3) as u8,
            0,
            0,
        ];
        ext.push(sni.len() as u8);
        ext.extend_from_slice(sni);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0, 0, ext.len() as u8]);
        body.extend_from_slice(&ext);
        let mut hello = vec![1, 0, 0, body.len() as u8];
        hello.extend_from_slice(&body);
        let mut frames = vec![6, 0, hello.len() as u8];
        frames.extend_from_slice(&hello);
        frames.resize(100, 0);
        let mut header = vec![0xc0, 0, 0, 0, 1, 8];
        header.extend_from_slice(&dcid);
        header.extend_from_slice(&[0, 0, 0x40, (1 + frames.len() + 16) as u8, 0]);
        let initial = keys.client.seal(&header, 0, &frames).unwrap();

        let mut app = AppState::default();
        let mut ready = Vec::new();
        app.feed_datagram(Direction::ToServer, &initial, (50000, 443), &mut ready);
        assert_eq!(app.eve_proto(), Some("quic"));
        assert_eq!(app.tx_proto(), Some(TxProto::Quic));
        let Some(AppTxView::Quic(v)) = app.view(&ready[0]) else {
            panic!("no quic view");
        };
        assert_eq!(v.get(Buffer::QuicSni).as_deref(), Some(&sni[..]));
        assert_eq!(
            v.get(Buffer::QuicVersion).as_deref(),
            Some(&[0, 0, 0, 1][..])
        );
        assert!(v.get(Buffer::Ja3Hash).is_some() && v.get(Buffer::Ja3sHash).is_none());

        // Not a QUIC port: not QUIC.
        let mut app = AppState::default();
        app.feed_datagram(Direction::ToServer, &initial, (50000, 4433), &mut ready);
        assert_eq!(app.eve_proto(), Some("failed"));

        // A client the probe does not recognise (an Initial whose Length
        // runs past the datagram), answered with a short header: QUIC
        // from the answer on, as Suricata probes the server's first
        // datagram too.
        let mut app = AppState::default();
        let mut ready = Vec::new();
        app.feed_datagram(
            Direction::ToServer,
            &initial[..60],
            (50000, 443),
            &mut ready,
        );
        assert_eq!(app.eve_proto(), Some("failed"));
        app.feed_datagram(
            Direction::ToClient,
            &[0x41, 1, 2, 3],
            (50000, 443),
            &mut ready,
        );
        assert_eq!(app.eve_proto(), Some("quic"));
        assert!(ready.is_empty());
    }
}
