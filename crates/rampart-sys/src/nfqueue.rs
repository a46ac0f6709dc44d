//! NFQUEUE: packets the kernel hands to user space for a verdict.
//!
//! One [`InlineQueue`] is one netlink socket bound to one queue number, used
//! by one worker thread (the kernel balances flows across queue numbers,
//! so a flow always reaches the same worker). The netlink protocol is
//! spoken by the pure-Rust `nfq` crate; this module adds the options an IPS
//! needs, typed errors naming the queue, and the kernel's per-queue
//! counters.

use std::io;

/// Why a queue could not be used.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The netlink socket could not be opened (not root, or no
    /// nfnetlink_queue support).
    #[error("opening the NFQUEUE netlink socket: {0} (needs root and the nfnetlink_queue module)")]
    Open(#[source] io::Error),
    /// A configuration message for one queue was refused.
    #[error("queue {queue}: {what}: {source}")]
    Config {
        /// The queue number.
        queue: u16,
        /// What was being configured.
        what: &'static str,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// Receiving or answering failed.
    #[error("queue {queue}: {what}: {source}")]
    Io {
        /// The queue number.
        queue: u16,
        /// `recv` or `verdict`.
        what: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
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
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            fail_open: true,
            max_len: 4096,
            gso: true,
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

/// One queued packet: its IP header and payload, as the hook saw them.
pub struct QueuedPacket {
    msg: nfq::Message,
}

impl QueuedPacket {
    /// The packet, starting at the IP header (no link layer).
    pub fn data(&self) -> &[u8] {
        self.msg.get_payload()
    }

    /// The packet's length before any truncation to the copy range.
    pub fn original_len(&self) -> usize {
        self.msg.get_original_len()
    }

    /// When the kernel stamped it, if it did; nanoseconds since the epoch.
    pub fn timestamp_ns(&self) -> Option<u64> {
        let t = self.msg.get_timestamp()?;
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        u64::try_from(d.as_nanos()).ok()
    }
}

/// One bound queue.
pub struct InlineQueue {
    number: u16,
    queue: nfq::Queue,
}

impl InlineQueue {
    /// Binds queue `number` with `opts`. Fails when another program
    /// already listens on it.
    pub fn open(number: u16, opts: QueueOptions) -> Result<InlineQueue, QueueError> {
        let mut queue = nfq::Queue::open().map_err(QueueError::Open)?;
        let cfg = |what, source| QueueError::Config {
            queue: number,
            what,
            source,
        };
        queue
            .bind(number)
            .map_err(|e| cfg("binding (is another program listening on it?)", e))?;
        queue
            .set_fail_open(number, opts.fail_open)
            .map_err(|e| cfg("setting fail-open", e))?;
        queue
            .set_queue_max_len(number, opts.max_len)
            .map_err(|e| cfg("setting the queue length", e))?;
        if opts.gso {
            queue
                .set_recv_gso(number, true)
                .map_err(|e| cfg("enabling GSO", e))?;
        }
        Ok(InlineQueue { number, queue })
    }

    /// The queue number.
    pub fn number(&self) -> u16 {
        self.number
    }

    /// Waits for the next packet.
    pub fn recv(&mut self) -> Result<QueuedPacket, QueueError> {
        self.queue
            .recv()
            .map(|msg| QueuedPacket { msg })
            .map_err(|source| QueueError::Io {
                queue: self.number,
                what: "recv",
                source,
            })
    }

    /// Gives the kernel the verdict for a packet.
    pub fn verdict(&mut self, pkt: QueuedPacket, d: Decision) -> Result<(), QueueError> {
        let mut msg = pkt.msg;
        match d {
            Decision::Accept => msg.set_verdict(nfq::Verdict::Accept),
            Decision::AcceptMarked(mark) => {
                msg.set_nfmark(mark);
                msg.set_verdict(nfq::Verdict::Accept);
            }
            Decision::Drop => msg.set_verdict(nfq::Verdict::Drop),
        }
        self.queue.verdict(msg).map_err(|source| QueueError::Io {
            queue: self.number,
            what: "verdict",
            source,
        })
    }
}

/// The kernel's counters for one queue (`/proc/net/netfilter/nfnetlink_queue`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelQueueStats {
    /// The queue number.
    pub queue: u16,
    /// Packets waiting for a verdict now.
    pub waiting: u64,
    /// Packets dropped because the queue was full (with fail-open they
    /// were accepted uninspected instead).
    pub queue_dropped: u64,
    /// Packets dropped because the netlink socket's buffer was full.
    pub user_dropped: u64,
    /// The last packet id handed out: packets queued so far.
    pub id_sequence: u64,
}

/// Reads the per-queue counters of every bound queue.
pub fn kernel_queue_stats() -> io::Result<Vec<KernelQueueStats>> {
    let text = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue")?;
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
    }
}
