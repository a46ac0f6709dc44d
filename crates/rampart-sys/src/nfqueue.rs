//! NFQUEUE: packets the kernel hands to user space for a verdict.
//!
//! One [`InlineQueue`] is one netlink socket bound to one queue number, used
//! by one worker thread (the kernel balances flows across queue numbers,
//! so a flow always reaches the same worker). The nfnetlink_queue protocol
//! is spoken here, over the netlink code shared with the ban sets
//! ([`crate::netlink`]), because an IPS needs what the `nfq` crate did not
//! give:
//!
//! * **A large socket receive buffer** ([`QueueOptions::rcvbuf_bytes`],
//!   16 MiB by default, set with `SO_RCVBUFFORCE`). With GSO a queued
//!   message is up to 64 KiB, so the default 208 KiB buffer holds three of
//!   them; every packet the kernel cannot put on the socket is accepted
//!   uninspected (fail-open) or dropped (fail-closed) without the worker
//!   ever seeing it. Measured with the `nfq` crate, 26–43% of queued
//!   packets were bypassed that way under iperf3 load.
//! * **Overflows reported and counted.** `NETLINK_NO_ENOBUFS` stays off, so
//!   the kernel reports an overflow as `ENOBUFS` on the next receive; it is
//!   counted ([`QueueStats::enobufs`]) and receiving goes on. The number of
//!   messages lost is read from the socket (`SO_MEMINFO`,
//!   [`QueueStats::socket_drops`]).
//! * **Every byte from the kernel is untrusted**: [`parse_messages`] is safe
//!   code that checks every length against the receive buffer. A datagram
//!   larger than the buffer (`MSG_TRUNC`) or a packet message that does not
//!   parse still gets a verdict when its id can be read (accept when failing
//!   open, drop otherwise), so the kernel never holds a packet forever.
//!
//! Constants are from linux/netfilter/nfnetlink_queue.h, nfnetlink.h and
//! netfilter.h (libc has some of them, as `c_int`; these are typed for the
//! wire).

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use crate::netlink::{
    self, attr, attrs_checked, msg_end, msg_start, read_be32, NlSocket, NFGENMSG_LEN, NLMSG_ERROR,
    NLMSG_HDRLEN, NLM_F_ACK, NLM_F_REQUEST, SOL_NETLINK,
};

/// `NFNL_SUBSYS_QUEUE`: the message type's high byte.
const NFNL_SUBSYS_QUEUE: u16 = 3;
// enum nfqnl_msg_types
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
// enum nfqnl_attr_type
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_MARK: u16 = 3;
const NFQA_TIMESTAMP: u16 = 4;
const NFQA_PAYLOAD: u16 = 10;
const NFQA_CAP_LEN: u16 = 13;
const NFQA_SKB_INFO: u16 = 14;
// enum nfqnl_attr_config
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
/// `NFQNL_CFG_CMD_BIND`. With pf 0: since Linux 3.8 a queue binds for
/// every protocol family and PF_(UN)BIND commands are no-ops.
const NFQNL_CFG_CMD_BIND: u8 = 1;
/// `NFQNL_COPY_PACKET`: metadata and packet bytes up to the copy range.
const NFQNL_COPY_PACKET: u8 = 2;
const NFQA_CFG_F_FAIL_OPEN: u32 = 1 << 0;
const NFQA_CFG_F_GSO: u32 = 1 << 2;
/// `NFQA_SKB_GSO` in `NFQA_SKB_INFO`: a GSO super-packet.
const NFQA_SKB_GSO: u32 = 1 << 1;
// linux/netfilter.h verdicts
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
/// `SOL_NETLINK` options (linux/netlink.h): short acks, the kernel's error
/// text in them.
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

/// The copy range asked for; the kernel caps it at 65531 (0xffff minus an
/// attribute header), which holds any IPv4 packet, GSO or not, whole.
const COPY_RANGE: u32 = 0xffff;
/// One receive: the largest packet message (payload up to the copy range
/// plus metadata attributes) with room to spare. Anything larger is seen
/// through `MSG_TRUNC` and counted.
const RECV_BUF_LEN: usize = 128 * 1024;
/// Receive buffers kept for reuse (one per packet in flight).
const SPARE_BUFFERS: usize = 4;
/// How long `open` waits for the kernel's answers to the configuration.
const CONFIG_TIMEOUT: Duration = Duration::from_secs(5);
/// The socket's drop counter is read on every `ENOBUFS` and after this many
/// packets (one `getsockopt` amortised over them).
const DROPS_REFRESH_EVERY: u64 = 1024;

/// Why a queue could not be used. Every variant names the queue and the
/// system call or step that failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The netlink socket could not be opened (not root, or no
    /// nfnetlink_queue support).
    #[error("queue {queue}: opening the NFQUEUE netlink socket: {syscall}: {source} (needs root and nfnetlink_queue)")]
    Open {
        /// The queue number.
        queue: u16,
        /// The system call.
        syscall: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A configuration step for one queue was refused.
    #[error("queue {queue}: {what}: {source}")]
    Config {
        /// The queue number.
        queue: u16,
        /// What was being configured, and how.
        what: &'static str,
        /// The kernel's answer (with its error text when it gave one).
        #[source]
        source: io::Error,
    },
    /// Receiving or answering failed.
    #[error("queue {queue}: {what}: {source}")]
    Io {
        /// The queue number.
        queue: u16,
        /// `recv` or `sendto (verdict)`.
        what: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl QueueError {
    /// Whether this is a receive that timed out (see
    /// [`InlineQueue::set_recv_timeout`]), not a failure.
    pub fn is_timeout(&self) -> bool {
        matches!(self, QueueError::Io { source, .. }
            if matches!(source.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

/// How a queue is set up.
#[derive(Debug, Clone, Copy)]
pub struct QueueOptions {
    /// When the queue overflows, let packets through instead of dropping
    /// them (the kernel's `NFQA_CFG_F_FAIL_OPEN`): an overloaded IPS must
    /// not take the network down unless the operator asked for that.
    pub fail_open: bool,
    /// Packets the kernel holds for this queue before it overflows.
    pub max_len: u32,
    /// Receive GSO/GRO super-packets whole (up to 64 KiB) instead of making
    /// the kernel segment them first: fewer, larger packets per verdict.
    pub gso: bool,
    /// The netlink socket's receive buffer: how many queued bytes may wait
    /// for the worker before the kernel has to bypass (fail-open) or drop
    /// packets. Set with `SO_RCVBUFFORCE` (root), falling back to
    /// `SO_RCVBUF`, which `net.core.rmem_max` caps. The kernel doubles the
    /// value for its bookkeeping. 0 keeps the system default.
    pub rcvbuf_bytes: usize,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            fail_open: true,
            max_len: 4096,
            gso: true,
            rcvbuf_bytes: 16 << 20,
        }
    }
}

/// What to do with a queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Let it continue through the hook.
    Accept,
    /// Let it continue, with this packet mark (a later nft chain acts on
    /// the mark: Rampart's reject chain).
    AcceptMarked(u32),
    /// Discard it.
    Drop,
}

/// Counters of one queue's socket, since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Packets handed to the caller by [`InlineQueue::recv`].
    pub received: u64,
    /// Times the kernel reported that the socket's receive buffer
    /// overflowed (`ENOBUFS`). Each report covers one or more lost
    /// packets: until the buffer has been drained, every packet is lost.
    pub enobufs: u64,
    /// Packets the kernel could not put on the socket (its drop counter,
    /// read on each `ENOBUFS` and every 1024 packets): bypassed when
    /// failing open, dropped otherwise.
    pub socket_drops: u64,
    /// Receives larger than the receive buffer (`MSG_TRUNC`); their packet
    /// got the fail-open/fail-closed verdict uninspected.
    pub truncated: u64,
    /// Messages that did not parse; those whose packet id could be read got
    /// the fail-open/fail-closed verdict uninspected.
    pub malformed: u64,
    /// Error answers from the kernel after setup (a verdict for an id it
    /// does not know).
    pub kernel_errors: u64,
    /// The receive buffer the kernel granted, in its own (doubled) bytes.
    pub rcvbuf_bytes: u64,
}

/// One queued packet: its IP header and payload, as the hook saw them.
///
/// It owns the receive buffer it was read into (shared with the other
/// packets of the same receive, if any); [`InlineQueue::verdict`] hands the
/// buffer back for reuse.
pub struct QueuedPacket {
    buf: Arc<Vec<u8>>,
    meta: PacketMeta,
}

impl QueuedPacket {
    /// The packet, starting at the IP header (no link layer).
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.meta.payload.clone()).unwrap_or_default()
    }

    /// The packet's length before any truncation to the copy range.
    pub fn original_len(&self) -> usize {
        match self.meta.cap_len {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => self.meta.payload.len(),
        }
    }

    /// When the kernel stamped it, if it did; nanoseconds since the epoch.
    pub fn timestamp_ns(&self) -> Option<u64> {
        self.meta.timestamp_ns
    }

    /// The kernel's id for this packet (what the verdict names).
    pub fn id(&self) -> u32 {
        self.meta.id
    }

    /// The link-layer protocol (EtherType), e.g. 0x0800 for IPv4.
    pub fn hw_protocol(&self) -> u16 {
        self.meta.hw_protocol
    }

    /// Whether the kernel says this is a GSO super-packet.
    pub fn is_gso(&self) -> bool {
        self.meta.skb_info.is_some_and(|i| i & NFQA_SKB_GSO != 0)
    }
}

/// A packet message's fields, with its payload as a range of the receive
/// buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketMeta {
    /// The queue number (from the nfgenmsg header).
    pub queue: u16,
    /// The packet id.
    pub id: u32,
    /// EtherType.
    pub hw_protocol: u16,
    /// The netfilter hook.
    pub hook: u8,
    /// Where the packet bytes are in the buffer (empty when none came).
    pub payload: Range<usize>,
    /// The original length, present when the payload was cut.
    pub cap_len: Option<u32>,
    /// The skb timestamp in nanoseconds since the epoch.
    pub timestamp_ns: Option<u64>,
    /// The packet mark.
    pub mark: Option<u32>,
    /// `NFQA_SKB_INFO` flags.
    pub skb_info: Option<u32>,
}

/// One message of a receive, as [`parse_messages`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueMessage {
    /// A queued packet.
    Packet(PacketMeta),
    /// A packet message whose header gave an id but whose other attributes
    /// are malformed: it can be answered, not inspected.
    MalformedPacket {
        /// The packet id.
        id: u32,
    },
    /// A message from this subsystem that cannot be used at all (no
    /// readable packet header).
    Malformed,
    /// An ack (errno 0) or error answer to the request numbered `seq`.
    Answer {
        /// The request's sequence number.
        seq: u32,
        /// 0 for an ack, else the error number.
        errno: i32,
        /// The kernel's error text, if it gave one.
        message: String,
    },
    /// Another message type (netlink's noop, another subsystem): ignored.
    Other {
        /// Its type.
        ty: u16,
    },
}

/// Parses every netlink message of one receive, calling `f` for each.
/// Returns false when the walk stopped early at a message header that
/// cannot be right (shorter than a header, or longer than the buffer);
/// nothing after it can be found. Never panics, whatever `buf` holds.
pub fn parse_messages(buf: &[u8], mut f: impl FnMut(QueueMessage)) -> bool {
    netlink::messages(buf, |m| {
        let msg = if m.ty == NLMSG_ERROR {
            let (seq, errno, message) = netlink::parse_error(m);
            QueueMessage::Answer {
                seq,
                errno,
                message,
            }
        } else if m.ty == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
            parse_packet(buf, m.at + NLMSG_HDRLEN, m.body)
        } else {
            QueueMessage::Other { ty: m.ty }
        };
        f(msg);
    })
}

/// One packet message's body (`body` starts at offset `at` of `buf`).
fn parse_packet(buf: &[u8], at: usize, body: &[u8]) -> QueueMessage {
    let (Some(&[r0, r1]), Some(attrs)) = (body.get(2..4), body.get(NFGENMSG_LEN..)) else {
        return QueueMessage::Malformed;
    };
    let queue = u16::from_be_bytes([r0, r1]);
    let attrs_at = at + NFGENMSG_LEN;
    let mut hdr: Option<(u32, u16, u8)> = None;
    let mut bad_hdr = false;
    let mut bad = false;
    let mut meta = PacketMeta {
        queue,
        id: 0,
        hw_protocol: 0,
        hook: 0,
        payload: 0..0,
        cap_len: None,
        timestamp_ns: None,
        mark: None,
        skb_info: None,
    };
    // Offsets are computed by walking with our own cursor: the attribute
    // walker hands out sub-slices of `attrs`, whose start we find by
    // length arithmetic, not pointers.
    let mut cursor = 0usize;
    let clean = attrs_checked(attrs, |ty, p| {
        // This attribute's payload starts 4 bytes after its header, which
        // starts at `cursor`; the walker advances by the aligned length.
        let start = attrs_at + cursor + 4;
        cursor += netlink::align4(p.len() + 4);
        match ty {
            NFQA_PACKET_HDR => match (read_be32(p, 0), p.get(4..7)) {
                (Some(id), Some(&[h0, h1, hook])) => {
                    hdr = Some((id, u16::from_be_bytes([h0, h1]), hook));
                }
                _ => bad_hdr = true,
            },
            NFQA_PAYLOAD => meta.payload = start..start + p.len(),
            NFQA_CAP_LEN => match read_be32(p, 0) {
                Some(v) if p.len() == 4 => meta.cap_len = Some(v),
                _ => bad = true,
            },
            NFQA_MARK => match read_be32(p, 0) {
                Some(v) if p.len() == 4 => meta.mark = Some(v),
                _ => bad = true,
            },
            NFQA_SKB_INFO => match read_be32(p, 0) {
                Some(v) if p.len() == 4 => meta.skb_info = Some(v),
                _ => bad = true,
            },
            NFQA_TIMESTAMP => match (p.get(0..8), p.get(8..16)) {
                (Some(s), Some(u)) if p.len() == 16 => {
                    let s = u64::from_be_bytes(s.try_into().unwrap_or_default());
                    let u = u64::from_be_bytes(u.try_into().unwrap_or_default());
                    meta.timestamp_ns = s
                        .checked_mul(1_000_000_000)
                        .and_then(|ns| ns.checked_add(u.checked_mul(1000)?));
                }
                _ => bad = true,
            },
            _ => {}
        }
    });
    let Some((id, hw_protocol, hook)) = hdr.filter(|_| !bad_hdr) else {
        return QueueMessage::Malformed;
    };
    // The payload range must lie inside the buffer (it does by
    // construction; checked so that a mistake here cannot turn into a
    // panic in `data()`).
    if !clean || bad || buf.get(meta.payload.clone()).is_none() {
        return QueueMessage::MalformedPacket { id };
    }
    meta.id = id;
    meta.hw_protocol = hw_protocol;
    meta.hook = hook;
    QueueMessage::Packet(meta)
}

/// The packet id of a packet message cut short by the receive buffer: its
/// first attribute is the packet header, which survives any cut that
/// leaves the first few dozen bytes.
fn truncated_packet_id(buf: &[u8]) -> Option<u32> {
    let ty = netlink::read_u16(buf, 4)?;
    if ty != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
        return None;
    }
    let mut id = None;
    let attrs = buf.get(NLMSG_HDRLEN + NFGENMSG_LEN..)?;
    let _ = attrs_checked(attrs, |ty, p| {
        if ty == NFQA_PACKET_HDR && p.len() >= 7 && id.is_none() {
            id = read_be32(p, 0);
        }
    });
    id
}

/// The verdict message for packet `id` of `queue`.
fn build_verdict(buf: &mut Vec<u8>, queue: u16, id: u32, d: Decision) {
    let m = msg_start(
        buf,
        (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT,
        NLM_F_REQUEST,
        0,
        libc::AF_UNSPEC as u8,
        queue,
    );
    let verdict = match d {
        Decision::Accept | Decision::AcceptMarked(_) => NF_ACCEPT,
        Decision::Drop => NF_DROP,
    };
    let mut hdr = [0u8; 8];
    hdr[..4].copy_from_slice(&verdict.to_be_bytes());
    hdr[4..].copy_from_slice(&id.to_be_bytes());
    attr(buf, NFQA_VERDICT_HDR, &hdr);
    if let Decision::AcceptMarked(mark) = d {
        attr(buf, NFQA_MARK, &mark.to_be_bytes());
    }
    msg_end(buf, m);
}

/// The configuration steps, in the order they are sent (sequence numbers
/// 1, 2, ...), named for errors.
const CONFIG_STEPS: [&str; 4] = [
    "binding (NFQNL_CFG_CMD_BIND; is another program listening on it?)",
    "setting copy mode and range (NFQA_CFG_PARAMS)",
    "setting the queue length (NFQA_CFG_QUEUE_MAXLEN)",
    "setting fail-open and GSO (NFQA_CFG_FLAGS)",
];

/// The configuration of `queue`: one message per step, each asking for an
/// ack, all in one datagram (the kernel handles them in order within one
/// `sendto`, so no packet meets a half-configured queue for long).
fn build_config(queue: u16, opts: &QueueOptions) -> Vec<u8> {
    let mut buf = Vec::with_capacity(160);
    let ty = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
    let flags = NLM_F_REQUEST | NLM_F_ACK;
    let family = libc::AF_UNSPEC as u8;
    // struct nfqnl_msg_config_cmd { u8 command; u8 pad; be16 pf }
    let m = msg_start(&mut buf, ty, flags, 1, family, queue);
    attr(&mut buf, NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0]);
    msg_end(&mut buf, m);
    // struct nfqnl_msg_config_params { be32 copy_range; u8 copy_mode } packed
    let m = msg_start(&mut buf, ty, flags, 2, family, queue);
    let mut params = [0u8; 5];
    params[..4].copy_from_slice(&COPY_RANGE.to_be_bytes());
    params[4] = NFQNL_COPY_PACKET;
    attr(&mut buf, NFQA_CFG_PARAMS, &params);
    msg_end(&mut buf, m);
    let m = msg_start(&mut buf, ty, flags, 3, family, queue);
    attr(&mut buf, NFQA_CFG_QUEUE_MAXLEN, &opts.max_len.to_be_bytes());
    msg_end(&mut buf, m);
    let m = msg_start(&mut buf, ty, flags, 4, family, queue);
    let mut want = 0;
    if opts.fail_open {
        want |= NFQA_CFG_F_FAIL_OPEN;
    }
    if opts.gso {
        want |= NFQA_CFG_F_GSO;
    }
    attr(&mut buf, NFQA_CFG_FLAGS, &want.to_be_bytes());
    attr(
        &mut buf,
        NFQA_CFG_MASK,
        &(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO).to_be_bytes(),
    );
    msg_end(&mut buf, m);
    buf
}

/// An error number (and the kernel's text) as an `io::Error`.
fn kernel_error(errno: i32, message: &str) -> io::Error {
    let e = io::Error::from_raw_os_error(errno);
    if message.is_empty() {
        e
    } else {
        io::Error::new(e.kind(), format!("{e}: {message}"))
    }
}

/// One bound queue.
pub struct InlineQueue {
    number: u16,
    fail_open: bool,
    sock: NlSocket,
    /// Packets received but not yet handed out (one receive may carry
    /// several messages).
    pending: VecDeque<QueuedPacket>,
    /// Receive buffers handed back by verdicts.
    spare: Vec<Vec<u8>>,
    /// Answers to the configuration (during `open` only).
    answers: Vec<(u32, i32, String)>,
    configuring: bool,
    /// The verdict message being built.
    out: Vec<u8>,
    stats: QueueStats,
}

impl InlineQueue {
    /// Binds queue `number` with `opts`. Fails when another program
    /// already listens on it.
    pub fn open(number: u16, opts: QueueOptions) -> Result<InlineQueue, QueueError> {
        let sock = NlSocket::open().map_err(|source| QueueError::Open {
            queue: number,
            syscall: "socket(AF_NETLINK, NETLINK_NETFILTER)",
            source,
        })?;
        let cfg = |what, source| QueueError::Config {
            queue: number,
            what,
            source,
        };
        // Short acks with the kernel's error text; both are conveniences.
        let _ = sock.set_int(SOL_NETLINK, NETLINK_CAP_ACK, 1);
        let _ = sock.set_int(SOL_NETLINK, NETLINK_EXT_ACK, 1);
        // NETLINK_NO_ENOBUFS is left off (the default): overflows must be
        // reported, see `fill`.
        sock.set_recv_timeout(Some(CONFIG_TIMEOUT))
            .map_err(|e| cfg("setting a receive timeout (setsockopt SO_RCVTIMEO)", e))?;
        let mut q = InlineQueue {
            number,
            fail_open: opts.fail_open,
            sock,
            pending: VecDeque::new(),
            spare: Vec::new(),
            answers: Vec::new(),
            configuring: true,
            out: Vec::with_capacity(64),
            stats: QueueStats::default(),
        };
        q.sock
            .send(&build_config(number, &opts))
            .map_err(|e| cfg("sending the configuration (sendto)", e))?;
        // Packets may arrive between the acks once the bind is done; `fill`
        // keeps them for `recv`.
        while q.answers.len() < CONFIG_STEPS.len() {
            if let Err(e) = q.fill() {
                return Err(match e {
                    QueueError::Io { source, .. } => {
                        cfg("waiting for the kernel's answers (recv)", source)
                    }
                    other => other,
                });
            }
        }
        q.answers.sort_by_key(|a| a.0);
        for (seq, errno, message) in &q.answers {
            if *errno != 0 {
                let step = usize::try_from(*seq)
                    .ok()
                    .and_then(|s| s.checked_sub(1))
                    .and_then(|i| CONFIG_STEPS.get(i))
                    .copied()
                    .unwrap_or("configuring");
                return Err(cfg(step, kernel_error(*errno, message)));
            }
        }
        q.configuring = false;
        q.answers = Vec::new();
        // Sized after the configuration, whose acks need room even when a
        // caller asks for a tiny buffer.
        if opts.rcvbuf_bytes > 0 {
            let got = q
                .sock
                .set_buffer(true, opts.rcvbuf_bytes)
                .map_err(|e| cfg("setting the receive buffer (setsockopt SO_RCVBUF)", e))?;
            q.stats.rcvbuf_bytes = got as u64;
        } else if let Ok(got) = q.sock.get_int(libc::SOL_SOCKET, libc::SO_RCVBUF) {
            q.stats.rcvbuf_bytes = u64::try_from(got).unwrap_or(0);
        }
        q.sock
            .set_recv_timeout(None)
            .map_err(|e| cfg("clearing the receive timeout (setsockopt SO_RCVTIMEO)", e))?;
        Ok(q)
    }

    /// The queue number.
    pub fn number(&self) -> u16 {
        self.number
    }

    /// The counters so far (no system call: the socket's drop counter is
    /// as of the last `ENOBUFS` or the last 1024 packets).
    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// Makes [`recv`](Self::recv) give up after `t` without a packet (an
    /// error for which [`QueueError::is_timeout`] is true), so the caller
    /// can look at other things; None waits forever (the default).
    pub fn set_recv_timeout(&mut self, t: Option<Duration>) -> Result<(), QueueError> {
        self.sock
            .set_recv_timeout(t)
            .map_err(|source| QueueError::Io {
                queue: self.number,
                what: "setting the receive timeout (setsockopt SO_RCVTIMEO)",
                source,
            })
    }

    /// Waits for the next packet. Overflows (`ENOBUFS`), truncated and
    /// malformed messages are counted in [`stats`](Self::stats) and
    /// receiving goes on.
    pub fn recv(&mut self) -> Result<QueuedPacket, QueueError> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                self.stats.received += 1;
                if self.stats.received.is_multiple_of(DROPS_REFRESH_EVERY) {
                    self.refresh_drops();
                }
                return Ok(p);
            }
            self.fill()?;
        }
    }

    /// Gives the kernel the verdict for a packet. The order of verdicts
    /// does not matter to the kernel.
    pub fn verdict(&mut self, pkt: QueuedPacket, d: Decision) -> Result<(), QueueError> {
        let res = self.send_verdict(pkt.meta.id, d);
        // Reuse the receive buffer when no other packet shares it.
        if let Ok(buf) = Arc::try_unwrap(pkt.buf) {
            if self.spare.len() < SPARE_BUFFERS {
                self.spare.push(buf);
            }
        }
        res
    }

    fn send_verdict(&mut self, id: u32, d: Decision) -> Result<(), QueueError> {
        self.out.clear();
        build_verdict(&mut self.out, self.number, id, d);
        self.sock.send(&self.out).map_err(|source| QueueError::Io {
            queue: self.number,
            what: "sendto (verdict)",
            source,
        })
    }

    /// The verdict for a packet that cannot be inspected: what the queue
    /// does on overflow.
    fn policy_decision(&self) -> Decision {
        if self.fail_open {
            Decision::Accept
        } else {
            Decision::Drop
        }
    }

    fn refresh_drops(&mut self) {
        if let Ok(d) = self.sock.drops() {
            self.stats.socket_drops = u64::from(d);
        }
    }

    /// One receive: queues its packets, records answers, counts the rest.
    fn fill(&mut self) -> Result<(), QueueError> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.resize(RECV_BUF_LEN, 0);
        let n = match self.sock.recv_flags(&mut buf, libc::MSG_TRUNC) {
            Ok(n) => n,
            Err(e) => {
                self.spare.push(buf);
                return match e.raw_os_error() {
                    // The socket buffer overflowed since the last receive:
                    // count it, read how many were lost, keep receiving.
                    Some(libc::ENOBUFS) => {
                        self.stats.enobufs += 1;
                        self.refresh_drops();
                        Ok(())
                    }
                    Some(libc::EINTR) => Ok(()),
                    _ => Err(QueueError::Io {
                        queue: self.number,
                        what: "recv",
                        source: e,
                    }),
                };
            }
        };
        if n > buf.len() {
            // More than the buffer holds (cannot happen with the copy range
            // asked for): answer the packet uninspected if its id is there.
            self.stats.truncated += 1;
            let id = truncated_packet_id(&buf);
            self.spare.push(buf);
            if let Some(id) = id {
                self.send_verdict(id, self.policy_decision())?;
            }
            return Ok(());
        }
        let mut packets: Vec<PacketMeta> = Vec::new();
        let mut unanswered: Vec<u32> = Vec::new();
        let data = buf.get(..n).unwrap_or_default();
        let stats = &mut self.stats;
        let (configuring, answers) = (self.configuring, &mut self.answers);
        let whole = parse_messages(data, |m| match m {
            QueueMessage::Packet(meta) => packets.push(meta),
            QueueMessage::MalformedPacket { id } => {
                stats.malformed += 1;
                unanswered.push(id);
            }
            QueueMessage::Malformed => stats.malformed += 1,
            QueueMessage::Answer {
                seq,
                errno,
                message,
            } => {
                if configuring && seq != 0 {
                    answers.push((seq, errno, message));
                } else if errno != 0 {
                    stats.kernel_errors += 1;
                }
            }
            QueueMessage::Other { .. } => {}
        });
        if !whole {
            self.stats.malformed += 1;
        }
        for id in unanswered {
            self.send_verdict(id, self.policy_decision())?;
        }
        if packets.is_empty() {
            self.spare.push(buf);
        } else {
            let buf = Arc::new(buf);
            for meta in packets {
                self.pending.push_back(QueuedPacket {
                    buf: Arc::clone(&buf),
                    meta,
                });
            }
        }
        Ok(())
    }
}

/// The kernel's counters for one queue (`/proc/net/netfilter/nfnetlink_queue`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelQueueStats {
    /// The queue number.
    pub queue: u16,
    /// Packets waiting for a verdict now (on the socket, or received and
    /// not yet answered).
    pub waiting: u64,
    /// Packets dropped because the queue was full (with fail-open they
    /// were accepted uninspected instead, and counted nowhere).
    pub queue_dropped: u64,
    /// Packets dropped because the netlink socket's buffer was full (with
    /// fail-open they were accepted uninspected instead, and counted only
    /// by the socket: [`QueueStats::socket_drops`]).
    pub user_dropped: u64,
    /// The last packet id handed out: packets queued since the queue was
    /// bound, including those the socket could not take.
    pub id_sequence: u64,
}

impl KernelQueueStats {
    /// Packets the kernel gave an id but let through without a verdict
    /// because the socket was full (fail-open), given the `received` count
    /// of the queue's [`InlineQueue`]: ids handed out, minus packets
    /// received, still waiting, or dropped for the same reason. Exact when
    /// the queue is idle; under load the two counters are read at slightly
    /// different times.
    pub fn bypassed(&self, received: u64) -> u64 {
        self.id_sequence
            .saturating_sub(received)
            .saturating_sub(self.waiting)
            .saturating_sub(self.user_dropped)
    }
}

/// Reads the per-queue counters of every queue bound in the calling
/// thread's network namespace (`/proc/net` would show the main thread's,
/// which differs for a thread that moved to another namespace).
pub fn kernel_queue_stats() -> io::Result<Vec<KernelQueueStats>> {
    let text = std::fs::read_to_string("/proc/thread-self/net/netfilter/nfnetlink_queue")
        .or_else(|_| std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue"))?;
    Ok(parse_queue_stats(&text))
}

/// Parses the procfs table: `queue portid waiting copy_mode copy_range
/// queue_dropped user_dropped id_sequence 1`, one line per queue.
pub fn parse_queue_stats(text: &str) -> Vec<KernelQueueStats> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().ok())
                .collect::<Option<Vec<u64>>>()?;
            Some(KernelQueueStats {
                queue: u16::try_from(*f.first()?).ok()?,
                waiting: *f.get(2)?,
                queue_dropped: *f.get(5)?,
                user_dropped: *f.get(6)?,
                id_sequence: *f.get(7)?,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn procfs_counters_parse() {
        let s = parse_queue_stats(
            "    0  12345     0 2 65535     7     3      901  1\n    1 -4000 x\n",
        );
        assert_eq!(
            s,
            vec![KernelQueueStats {
                queue: 0,
                waiting: 0,
                queue_dropped: 7,
                user_dropped: 3,
                id_sequence: 901
            }]
        );
        assert_eq!(s[0].bypassed(890), 8);
        assert_eq!(s[0].bypassed(1000), 0);
    }

    /// A packet message as the kernel builds it; `extra` goes after the
    /// payload.
    fn packet_msg(queue: u16, id: u32, payload: &[u8], extra: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = Vec::new();
        let m = msg_start(
            &mut b,
            (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET,
            0,
            0,
            libc::AF_INET as u8,
            queue,
        );
        let mut hdr = id.to_be_bytes().to_vec();
        hdr.extend_from_slice(&0x0800u16.to_be_bytes());
        hdr.push(3);
        attr(&mut b, NFQA_PACKET_HDR, &hdr);
        attr(&mut b, NFQA_PAYLOAD, payload);
        for (ty, v) in extra {
            attr(&mut b, *ty, v);
        }
        msg_end(&mut b, m);
        b
    }

    fn parse_all(b: &[u8]) -> (bool, Vec<QueueMessage>) {
        let mut v = Vec::new();
        let whole = parse_messages(b, |m| v.push(m));
        (whole, v)
    }

    #[test]
    fn packet_messages_parse() {
        let payload = [0x45u8, 0, 0, 28, 1, 2, 3];
        let mut ts = 1_700_000_000u64.to_be_bytes().to_vec();
        ts.extend_from_slice(&250_000u64.to_be_bytes());
        let mut b = packet_msg(
            5,
            77,
            &payload,
            &[
                (NFQA_TIMESTAMP, ts),
                (NFQA_CAP_LEN, 1500u32.to_be_bytes().to_vec()),
                (NFQA_MARK, 9u32.to_be_bytes().to_vec()),
                (NFQA_SKB_INFO, NFQA_SKB_GSO.to_be_bytes().to_vec()),
                (NFQA_VERDICT_HDR | netlink::NLA_F_NESTED, vec![]),
            ],
        );
        let second = packet_msg(5, 78, &[], &[]);
        b.extend_from_slice(&second);
        let (whole, msgs) = parse_all(&b);
        assert!(whole);
        assert_eq!(msgs.len(), 2);
        let QueueMessage::Packet(p) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!((p.queue, p.id, p.hw_protocol, p.hook), (5, 77, 0x0800, 3));
        assert_eq!(&b[p.payload.clone()], &payload);
        assert_eq!(p.cap_len, Some(1500));
        assert_eq!(p.mark, Some(9));
        assert_eq!(p.timestamp_ns, Some(1_700_000_000_250_000_000));
        let pkt = QueuedPacket {
            buf: Arc::new(b.clone()),
            meta: p.clone(),
        };
        assert_eq!(pkt.data(), &payload);
        assert_eq!(pkt.original_len(), 1500);
        assert!(pkt.is_gso());
        assert_eq!(pkt.id(), 77);
        let QueueMessage::Packet(p2) = &msgs[1] else {
            panic!("{msgs:?}")
        };
        assert_eq!((p2.id, p2.payload.len(), p2.cap_len), (78, 0, None));
    }

    #[test]
    fn answers_and_other_messages() {
        let mut b = Vec::new();
        // An error answer for seq 3: header, errno, capped original header.
        let start = b.len();
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        b.extend_from_slice(&netlink::NLM_F_CAPPED.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&(-libc::EBUSY).to_ne_bytes());
        b.extend_from_slice(&20u32.to_ne_bytes());
        b.extend_from_slice(&0x0302u16.to_ne_bytes());
        b.extend_from_slice(&5u16.to_ne_bytes());
        b.extend_from_slice(&3u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        msg_end(&mut b, start);
        let m = msg_start(&mut b, 1, 0, 0, 0, 0); // NLMSG_NOOP
        msg_end(&mut b, m);
        let (whole, msgs) = parse_all(&b);
        assert!(whole);
        assert_eq!(
            msgs,
            vec![
                QueueMessage::Answer {
                    seq: 3,
                    errno: libc::EBUSY,
                    message: String::new()
                },
                QueueMessage::Other { ty: 1 }
            ]
        );
    }

    #[test]
    fn malformed_messages_are_contained() {
        let good = packet_msg(1, 42, &[1, 2, 3, 4, 5], &[]);
        // Every cut: never a panic; a cut message is not reported.
        for cut in 0..good.len() {
            let (whole, msgs) = parse_all(&good[..cut]);
            assert!(msgs.is_empty(), "cut {cut}: {msgs:?}");
            assert_eq!(whole, cut == 0);
        }
        // Every byte changed to a few values: never a panic, payload
        // always inside the buffer.
        for i in 0..good.len() {
            for x in [0u8, 1, 3, 4, 0x7f, 0xff] {
                let mut b = good.clone();
                b[i] = x;
                parse_messages(&b, |m| {
                    if let QueueMessage::Packet(p) = m {
                        assert!(p.payload.end <= b.len());
                    }
                });
            }
        }
        // A zero-length attribute after the header: the id is known, the
        // rest cannot be trusted.
        let mut b = good.clone();
        b.truncate(20 + 12); // header, nfgenmsg, packet header
        b.extend_from_slice(&[0, 0, 10, 0, 9, 9, 9, 9]);
        msg_end(&mut b, 0);
        assert_eq!(
            parse_all(&b),
            (true, vec![QueueMessage::MalformedPacket { id: 42 }])
        );
        // An attribute longer than the message.
        let mut b = good.clone();
        b.truncate(32);
        b.extend_from_slice(&[200, 0, 10, 0, 9, 9, 9, 9]);
        msg_end(&mut b, 0);
        assert_eq!(
            parse_all(&b),
            (true, vec![QueueMessage::MalformedPacket { id: 42 }])
        );
        // A short attribute length (below its own header).
        let mut b = good.clone();
        b.truncate(32);
        b.extend_from_slice(&[2, 0, 10, 0]);
        msg_end(&mut b, 0);
        assert_eq!(
            parse_all(&b).1,
            vec![QueueMessage::MalformedPacket { id: 42 }]
        );
        // A packet header too short for its fields: no id, nothing to answer.
        let mut b = Vec::new();
        let m = msg_start(&mut b, 0x0300, 0, 0, 2, 1);
        attr(&mut b, NFQA_PACKET_HDR, &[0, 0, 0, 42, 8]);
        msg_end(&mut b, m);
        assert_eq!(parse_all(&b).1, vec![QueueMessage::Malformed]);
        // No packet header at all.
        let mut b = Vec::new();
        let m = msg_start(&mut b, 0x0300, 0, 0, 2, 1);
        attr(&mut b, NFQA_PAYLOAD, &[1, 2, 3]);
        msg_end(&mut b, m);
        assert_eq!(parse_all(&b).1, vec![QueueMessage::Malformed]);
        // A body shorter than nfgenmsg.
        let mut b = vec![0u8; 18];
        b[..4].copy_from_slice(&18u32.to_ne_bytes());
        b[4..6].copy_from_slice(&0x0300u16.to_ne_bytes());
        assert_eq!(parse_all(&b), (true, vec![QueueMessage::Malformed]));
        // Wrong-sized fixed attributes.
        for ty in [NFQA_CAP_LEN, NFQA_MARK, NFQA_TIMESTAMP, NFQA_SKB_INFO] {
            let b = packet_msg(1, 7, &[1], &[(ty, vec![1, 2])]);
            assert_eq!(
                parse_all(&b).1,
                vec![QueueMessage::MalformedPacket { id: 7 }]
            );
        }
        // A message length below the header, and one beyond the buffer.
        let mut b = good.clone();
        b[..4].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(parse_all(&b), (false, vec![]));
        let mut b = good;
        b[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(parse_all(&b), (false, vec![]));
    }

    #[test]
    fn truncated_packets_keep_their_id() {
        let good = packet_msg(1, 4242, &[7u8; 300], &[]);
        for cut in [32, 40, 100, good.len() - 1] {
            assert_eq!(truncated_packet_id(&good[..cut]), Some(4242), "cut {cut}");
        }
        assert_eq!(truncated_packet_id(&good[..30]), None);
        assert_eq!(truncated_packet_id(&[]), None);
        let mut other = good.clone();
        other[4] = 9;
        assert_eq!(truncated_packet_id(&other), None);
    }

    #[test]
    fn verdict_messages() {
        let mut b = Vec::new();
        build_verdict(&mut b, 258, 0x01020304, Decision::AcceptMarked(0x52504a54));
        assert_eq!(b.len(), 16 + 4 + 12 + 8);
        assert_eq!(netlink::read_u32(&b, 0), Some(40));
        assert_eq!(netlink::read_u16(&b, 4), Some(0x0301));
        assert_eq!(netlink::read_u16(&b, 6), Some(NLM_F_REQUEST));
        assert_eq!(&b[16..20], &[0, 0, 1, 2]); // AF_UNSPEC, v0, queue 258 be16
        assert_eq!(netlink::read_u16(&b, 20), Some(12));
        assert_eq!(netlink::read_u16(&b, 22), Some(NFQA_VERDICT_HDR));
        assert_eq!(&b[24..32], &[0, 0, 0, 1, 1, 2, 3, 4]);
        assert_eq!(netlink::read_u16(&b, 32), Some(8));
        assert_eq!(netlink::read_u16(&b, 34), Some(NFQA_MARK));
        assert_eq!(&b[36..40], &[0x52, 0x50, 0x4a, 0x54]);
        b.clear();
        build_verdict(&mut b, 0, 9, Decision::Drop);
        assert_eq!(b.len(), 32);
        assert_eq!(&b[24..32], &[0, 0, 0, 0, 0, 0, 0, 9]);
    }

    #[test]
    fn config_messages() {
        let opts = QueueOptions {
            fail_open: false,
            max_len: 1000,
            gso: true,
            rcvbuf_bytes: 0,
        };
        let b = build_config(7, &opts);
        let mut seen = Vec::new();
        assert!(netlink::messages(&b, |m| {
            assert_eq!(m.ty, 0x0302);
            assert_eq!(m.flags, NLM_F_REQUEST | NLM_F_ACK);
            assert_eq!(&m.body[..4], &[0, 0, 0, 7]);
            let mut a = Vec::new();
            assert!(attrs_checked(&m.body[4..], |t, p| a.push((t, p.to_vec()))));
            seen.push((m.seq, a));
        }));
        assert_eq!(
            seen,
            vec![
                (1, vec![(NFQA_CFG_CMD, vec![1, 0, 0, 0])]),
                (2, vec![(NFQA_CFG_PARAMS, vec![0, 0, 0xff, 0xff, 2])]),
                (
                    3,
                    vec![(NFQA_CFG_QUEUE_MAXLEN, 1000u32.to_be_bytes().to_vec())]
                ),
                (
                    4,
                    vec![
                        (NFQA_CFG_FLAGS, vec![0, 0, 0, 4]),
                        (NFQA_CFG_MASK, vec![0, 0, 0, 5])
                    ]
                ),
            ]
        );
        assert_eq!(seen.len(), CONFIG_STEPS.len());
    }

    // ---- root tests: a real queue in a private network namespace ----

    /// Why the root tests cannot run here, if they cannot.
    fn skip_reason() -> Option<String> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0");
        if !root {
            return Some("not running as root".into());
        }
        for tool in ["iptables", "ip"] {
            let ok = std::process::Command::new(tool)
                .arg("-V")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !ok {
                return Some(format!("{tool} is not installed"));
            }
        }
        None
    }

    fn run(args: &[&str]) -> String {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `f` on a thread in a new network namespace with loopback up
    /// and `iptables -I OUTPUT -p udp --dport PORT -j NFQUEUE --queue-num
    /// QUEUE`; prints why and returns when that is impossible here.
    #[allow(unsafe_code)]
    fn in_netns(name: &str, port: u16, queue: u16, f: impl FnOnce() + Send + 'static) {
        if let Some(why) = skip_reason() {
            eprintln!("skipping NFQUEUE test {name}: {why}");
            return;
        }
        std::thread::spawn(move || {
            // SAFETY: unshare takes a flag word and affects only this
            // thread (and the processes it starts).
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                eprintln!(
                    "skipping NFQUEUE test: unshare(CLONE_NEWNET): {}",
                    io::Error::last_os_error()
                );
                return;
            }
            run(&["ip", "link", "set", "lo", "up"]);
            let (p, q) = (port.to_string(), queue.to_string());
            run(&[
                "iptables",
                "-w",
                "-I",
                "OUTPUT",
                "-p",
                "udp",
                "--dport",
                &p,
                "-j",
                "NFQUEUE",
                "--queue-num",
                &q,
            ]);
            f();
        })
        .join()
        .unwrap();
    }

    /// The UDP payload of an IPv4 packet.
    fn udp_payload(ip: &[u8]) -> &[u8] {
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        &ip[ihl + 8..]
    }

    fn drain(sock: &std::net::UdpSocket) -> Vec<String> {
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 2048];
        while let Ok(n) = sock.recv(&mut b) {
            got.push(String::from_utf8_lossy(&b[..n]).into_owned());
        }
        got.sort();
        got
    }

    #[test]
    fn kernel_queue_accept_drop_mark() {
        in_netns("accept/drop/mark", 9999, 7, || {
            const MARK: u32 = 0x5250;
            run(&[
                "iptables", "-w", "-I", "INPUT", "-p", "udp", "--dport", "9999", "-m", "mark",
                "--mark", "0x5250", "-j", "ACCEPT",
            ]);
            let rx = std::net::UdpSocket::bind("127.0.0.1:9999").unwrap();
            let mut q = InlineQueue::open(
                7,
                QueueOptions {
                    fail_open: false,
                    ..QueueOptions::default()
                },
            )
            .unwrap();
            assert!(q.stats().rcvbuf_bytes >= 16 << 20, "{:?}", q.stats());
            // The queue is taken: a second listener is refused, naming it.
            let err = InlineQueue::open(7, QueueOptions::default())
                .err()
                .expect("second bind must fail");
            let text = err.to_string();
            assert!(text.starts_with("queue 7: binding"), "{text}");
            q.set_recv_timeout(Some(Duration::from_secs(5))).unwrap();

            let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let n = 30;
            for i in 0..n {
                tx.send_to(format!("pkt-{i:02}").as_bytes(), "127.0.0.1:9999")
                    .unwrap();
            }
            let mut want = Vec::new();
            let mut marked = 0;
            for _ in 0..n {
                let p = q.recv().unwrap();
                assert_eq!(p.hw_protocol(), 0x0800);
                assert_eq!(p.original_len(), p.data().len());
                let text = String::from_utf8_lossy(udp_payload(p.data())).into_owned();
                let i: u32 = text.trim_start_matches("pkt-").parse().unwrap();
                let d = match i % 3 {
                    0 => Decision::Accept,
                    1 => Decision::Drop,
                    _ => Decision::AcceptMarked(MARK),
                };
                if d != Decision::Drop {
                    want.push(text);
                }
                if matches!(d, Decision::AcceptMarked(_)) {
                    marked += 1;
                }
                q.verdict(p, d).unwrap();
            }
            want.sort();
            assert_eq!(drain(&rx), want);
            // The marked ones reached INPUT with their mark.
            let listing = run(&["iptables", "-w", "-L", "INPUT", "-v", "-x", "-n"]);
            let counted: u64 = listing
                .lines()
                .find(|l| l.contains("mark match 0x5250"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|w| w.parse().ok())
                .unwrap();
            assert_eq!(counted, marked);
            // Nothing more is queued: the receive times out.
            q.set_recv_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let e = q.recv().err().expect("no more packets");
            assert!(e.is_timeout(), "{e}");
            let s = q.stats();
            assert_eq!((s.received, s.enobufs, s.socket_drops), (30, 0, 0));
            assert_eq!((s.truncated, s.malformed, s.kernel_errors), (0, 0, 0));
            let k = kernel_queue_stats()
                .unwrap()
                .into_iter()
                .find(|k| k.queue == 7)
                .unwrap();
            assert_eq!((k.id_sequence, k.waiting, k.user_dropped), (30, 0, 0));
            assert_eq!(k.bypassed(s.received), 0);
        });
    }

    #[test]
    fn kernel_queue_overflow_is_counted() {
        in_netns("overflow", 9998, 8, || {
            let rx = std::net::UdpSocket::bind("127.0.0.1:9998").unwrap();
            // The smallest receive buffer the kernel allows: a few
            // messages fit, the rest overflow and (failing open) pass.
            let mut q = InlineQueue::open(
                8,
                QueueOptions {
                    fail_open: true,
                    rcvbuf_bytes: 1,
                    ..QueueOptions::default()
                },
            )
            .unwrap();
            q.set_recv_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let n = 64u64;
            let pad = "x".repeat(1000);
            for i in 0..n {
                tx.send_to(format!("pkt-{i:02}-{pad}").as_bytes(), "127.0.0.1:9998")
                    .unwrap();
            }
            loop {
                match q.recv() {
                    Ok(p) => q.verdict(p, Decision::Accept).unwrap(),
                    Err(e) if e.is_timeout() => break,
                    Err(e) => panic!("{e}"),
                }
            }
            let s = q.stats();
            eprintln!("overflow: {s:?}");
            assert!(s.received >= 1 && s.received < n, "{s:?}");
            assert!(s.enobufs >= 1, "{s:?}");
            assert_eq!(s.received + s.socket_drops, n, "{s:?}");
            // Failing open, every packet reached the receiver.
            assert_eq!(drain(&rx).len() as u64, n);
            let k = kernel_queue_stats()
                .unwrap()
                .into_iter()
                .find(|k| k.queue == 8)
                .unwrap();
            assert_eq!((k.id_sequence, k.user_dropped, k.waiting), (n, 0, 0));
            assert_eq!(k.bypassed(s.received), s.socket_drops);
        });
    }
}
