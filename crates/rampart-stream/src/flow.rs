//! The bidirectional flow table.
//!
//! A flow is the unit every later stage keys its state on: reassembly
//! buffers, app-layer parsers, flowbits, thresholds. The table is generic
//! over that per-flow state (`T`) so it knows nothing of them, and it is
//! bounded: a memory cap turns into a maximum number of flows, and when it is
//! reached the least recently seen flow is evicted (and handed back to the
//! caller, who may still want to flush and log it). Lookups are O(1), and so
//! is keeping the recency order: flows sit in an intrusive doubly-linked list
//! threaded through a slab, most recently seen at the head.

use std::collections::HashMap;

/// The index's hasher: foldhash with a per-process random seed. Flow keys
/// are attacker-controlled, so the seed keeps collisions unpredictable,
/// while hashing stays several times cheaper than SipHash (which showed as
/// a quarter of the packet path's time in profiles).
type KeyHasher = foldhash::fast::RandomState;
use std::net::IpAddr;

use serde::Serialize;

/// IP protocol numbers the table treats specially.
pub mod proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// The identity of a flow as seen on one packet (source first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Source address of the packet.
    pub src: IpAddr,
    /// Destination address of the packet.
    pub dst: IpAddr,
    /// Source port (0 for protocols without ports).
    pub src_port: u16,
    /// Destination port (0 for protocols without ports).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Outermost VLAN id (0 when untagged), so that the same 5-tuple in two
    /// VLANs is two flows.
    pub vlan: u16,
}

impl FlowKey {
    /// The same flow seen from the other side.
    pub fn reversed(&self) -> FlowKey {
        FlowKey {
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            ..*self
        }
    }

    /// A direction-independent form: the lower endpoint first.
    fn canonical(&self) -> FlowKey {
        if (self.src, self.src_port) <= (self.dst, self.dst_port) {
            *self
        } else {
            self.reversed()
        }
    }
}

/// Which way a packet travels relative to the flow's initiator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// From the client (initiator) to the server.
    ToServer,
    /// From the server back to the client.
    ToClient,
}

impl Direction {
    /// Index for per-direction arrays: 0 to server, 1 to client.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// The other direction.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// The life-cycle stage of a flow, which picks its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowState {
    /// Traffic seen in one direction only (or a TCP handshake in progress).
    New,
    /// Traffic in both directions (or a completed TCP handshake).
    Established,
    /// TCP closed by FIN in both directions or by RST.
    Closed,
}

/// The TCP connection state as tracked from both sides' packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpState {
    /// No TCP packet seen yet, or not TCP.
    None,
    /// The client's SYN was seen.
    SynSent,
    /// The server's SYN/ACK was seen.
    SynRecv,
    /// Handshake completed, or picked up midstream with data.
    Established,
    /// One side sent FIN.
    FinWait,
    /// Both sides sent FIN.
    Closed,
    /// A RST was seen.
    Reset,
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Idle beyond its state's timeout.
    Timeout,
    /// Evicted to stay under the memory cap.
    Forced,
    /// The end of the input (or daemon shutdown) flushed it.
    Shutdown,
    /// A new TCP connection (a SYN) reused the ports of this closed one.
    Reused,
}

/// Idle timeouts by state and protocol, in seconds (Suricata's defaults).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowTimeouts {
    /// TCP flows before the handshake completes.
    pub tcp_new: u64,
    /// Established TCP flows.
    pub tcp_established: u64,
    /// Closed TCP flows (kept a little to absorb retransmitted FINs/ACKs).
    pub tcp_closed: u64,
    /// UDP flows seen in one direction.
    pub udp_new: u64,
    /// UDP flows seen in both directions.
    pub udp_established: u64,
    /// Any other protocol, one direction.
    pub other_new: u64,
    /// Any other protocol, both directions.
    pub other_established: u64,
}

impl Default for FlowTimeouts {
    fn default() -> Self {
        FlowTimeouts {
            tcp_new: 60,
            tcp_established: 600,
            tcp_closed: 60,
            udp_new: 30,
            udp_established: 300,
            other_new: 30,
            other_established: 300,
        }
    }
}

/// Limits and timeouts of a [`FlowTable`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowConfig {
    /// Memory the table may use, in bytes (Suricata's `flow.memcap`).
    pub memcap_bytes: usize,
    /// Timeouts by state.
    pub timeouts: FlowTimeouts,
    /// Where this table's flow-id sequence starts. Ids are a bijective mix
    /// of a counter, so tables given different bases (a daemon's workers,
    /// successive runs) never hand out the same id; 0 keeps offline runs
    /// reproducible.
    pub id_base: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            memcap_bytes: 128 * 1024 * 1024,
            timeouts: FlowTimeouts::default(),
            id_base: 0,
        }
    }
}

/// Counters of the table's own behaviour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows removed because they were idle past their timeout.
    pub timed_out: u64,
    /// Flows evicted because the memory cap was reached.
    pub evicted: u64,
    /// Flows flushed at the end of input.
    pub flushed: u64,
    /// Most flows alive at once.
    pub peak_active: u64,
    /// TCP flows whose three-way handshake was seen complete.
    pub tcp_handshakes: u64,
    /// TCP flows picked up without seeing their SYN.
    pub tcp_midstream: u64,
    /// Closed TCP flows ended because a new SYN reused their ports.
    pub reused: u64,
    /// SYN/ACKs ignored because they did not acknowledge the client's SYN.
    pub tcp_synack_wrong_ack: u64,
}

/// One flow and the caller's state for it.
#[derive(Debug)]
pub struct Flow<T> {
    /// A unique id, stable for the flow's life (EVE's `flow_id`).
    pub id: u64,
    /// The key as the client sends (src = client).
    pub key: FlowKey,
    /// First packet time, in nanoseconds.
    pub first_ns: u64,
    /// Last packet time, in nanoseconds.
    pub last_ns: u64,
    /// Packets per direction (index by [`Direction::index`]).
    pub packets: [u64; 2],
    /// Bytes per direction (whole frames, as Suricata counts).
    pub bytes: [u64; 2],
    /// TCP flags seen per direction, ORed.
    pub tcp_flags: [u8; 2],
    /// Life-cycle stage.
    pub state: FlowState,
    /// TCP connection state.
    pub tcp_state: TcpState,
    /// True when the flow was picked up without its SYN.
    pub midstream: bool,
    /// Sequence number of the client's SYN, when seen.
    pub client_isn: Option<u32>,
    /// The caller's per-flow state.
    pub user: T,
}

impl<T> Flow<T> {
    /// The packet direction of a key belonging to this flow.
    pub fn direction_of(&self, key: &FlowKey) -> Direction {
        if key.src == self.key.src && key.src_port == self.key.src_port {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Updates the TCP state machine with one segment's flags.
    fn on_tcp(&mut self, dir: Direction, flags: u8, stats: &mut FlowStats) {
        const FIN: u8 = 0x01;
        const SYN: u8 = 0x02;
        const RST: u8 = 0x04;
        const ACK: u8 = 0x10;
        if let Some(f) = self.tcp_flags.get_mut(dir.index()) {
            *f |= flags;
        }
        let syn = flags & SYN != 0;
        let ack = flags & ACK != 0;
        self.tcp_state = match (self.tcp_state, dir) {
            (_, _) if flags & RST != 0 => TcpState::Reset,
            (TcpState::None, Direction::ToServer) if syn && !ack => TcpState::SynSent,
            (TcpState::None, _) => {
                self.midstream = true;
                stats.tcp_midstream += 1;
                TcpState::Established
            }
            (TcpState::SynSent, Direction::ToClient) if syn && ack => TcpState::SynRecv,
            (TcpState::SynRecv, Direction::ToServer) if ack && !syn => {
                stats.tcp_handshakes += 1;
                TcpState::Established
            }
            (TcpState::Established | TcpState::FinWait, _) if flags & FIN != 0 => {
                if self.tcp_flags.iter().all(|f| f & FIN != 0) {
                    TcpState::Closed
                } else {
                    TcpState::FinWait
                }
            }
            (s, _) => s,
        };
        self.state = match self.tcp_state {
            TcpState::Established | TcpState::FinWait => FlowState::Established,
            TcpState::Closed | TcpState::Reset => FlowState::Closed,
            _ => self.state,
        };
    }
}

/// What [`FlowTable::update`] tells the caller about the packet's flow.
#[derive(Debug)]
pub struct FlowUpdate<'a, T> {
    /// The flow, with counters already updated for this packet.
    pub flow: &'a mut Flow<T>,
    /// The packet's direction.
    pub direction: Direction,
    /// True when this packet created the flow.
    pub created: bool,
}

/// Per-packet facts the table needs.
#[derive(Clone, Copy, Debug)]
pub struct PacketInfo {
    /// Capture time in nanoseconds.
    pub ts_ns: u64,
    /// Bytes of the frame.
    pub len: u64,
    /// TCP flags for TCP packets (lower 8 bits).
    pub tcp_flags: Option<u8>,
    /// TCP sequence number (0 for other protocols).
    pub tcp_seq: u32,
    /// TCP acknowledgement number (0 for other protocols).
    pub tcp_ack: u32,
}

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Slot<T> {
    flow: Flow<T>,
    canon: FlowKey,
    prev: usize,
    next: usize,
}

/// A bounded table of flows with O(1) lookup and least-recently-seen eviction.
#[derive(Debug)]
pub struct FlowTable<T> {
    config: FlowConfig,
    max_flows: usize,
    index: HashMap<FlowKey, usize, KeyHasher>,
    slots: Vec<Option<Slot<T>>>,
    free: Vec<usize>,
    /// Most recently seen.
    head: usize,
    /// Least recently seen.
    tail: usize,
    next_id: u64,
    stats: FlowStats,
}

/// Estimated bytes one flow costs beyond `T`: slot, index entry, key copies.
fn per_flow_overhead<T>() -> usize {
    std::mem::size_of::<Option<Slot<T>>>() + 2 * std::mem::size_of::<FlowKey>() + 32
}

impl<T> FlowTable<T> {
    /// Creates an empty table.
    pub fn new(config: FlowConfig) -> Self {
        let max_flows = (config.memcap_bytes / per_flow_overhead::<T>()).max(1);
        let next_id = config.id_base.wrapping_add(1);
        FlowTable {
            config,
            max_flows,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            next_id,
            stats: FlowStats::default(),
        }
    }

    /// The most flows the memory cap allows.
    pub fn capacity(&self) -> usize {
        self.max_flows
    }

    /// Flows currently in the table.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the table holds no flow.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The table's counters.
    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// The configuration in force.
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// Finds or creates the flow of a packet and accounts the packet to it.
    /// When creating a flow needs room, the least recently seen flow is
    /// evicted and passed to `evicted` first; a closed TCP flow whose ports
    /// a new SYN reuses, and a flow idle past its timeout by the packet's
    /// own time, are ended and passed there too.
    pub fn update(
        &mut self,
        key: &FlowKey,
        info: PacketInfo,
        make: impl FnOnce() -> T,
        mut evicted: impl FnMut(Flow<T>, EndReason),
    ) -> FlowUpdate<'_, T> {
        let canon = key.canonical();
        // A flow idle past its timeout by this packet's own time ends here,
        // even when the sweep has not reached it: capture clocks jump
        // backwards (the sweep follows the newest time seen), so a
        // connection replayed later in its own time must start afresh, as
        // Suricata does on lookup.
        if let Some(&idx) = self.index.get(&canon) {
            let stale = match self.slots.get(idx) {
                Some(Some(s)) => {
                    info.ts_ns.saturating_sub(s.flow.last_ns)
                        > self.timeout_secs(&s.flow).saturating_mul(1_000_000_000)
                }
                _ => false,
            };
            if stale {
                if let Some(f) = self.remove(idx) {
                    self.stats.timed_out += 1;
                    evicted(f, EndReason::Timeout);
                }
            }
        }
        if let (Some(&idx), Some(flags)) = (self.index.get(&canon), info.tcp_flags) {
            // A bare SYN on a finished connection starts a new one with the
            // same ports (as Suricata and Wireshark both treat it).
            // A SYN carrying the original ISN is a retransmission, not a
            // new connection.
            let reused = matches!(
                self.slots.get(idx),
                Some(Some(s)) if matches!(s.flow.tcp_state, TcpState::Closed | TcpState::Reset)
                    && s.flow.client_isn != Some(info.tcp_seq)
            );
            if reused && flags & 0x12 == 0x02 {
                if let Some(f) = self.remove(idx) {
                    self.stats.reused += 1;
                    evicted(f, EndReason::Reused);
                }
            }
        }
        let (idx, created) = match self.index.get(&canon) {
            Some(&idx) => {
                self.unlink(idx);
                self.push_front(idx);
                (idx, false)
            }
            None => {
                while self.index.len() >= self.max_flows {
                    match self.pop_lru() {
                        Some(f) => {
                            self.stats.evicted += 1;
                            evicted(f, EndReason::Forced);
                        }
                        None => break,
                    }
                }
                let client_key = match info.tcp_flags {
                    // A SYN/ACK first means we missed the SYN: its sender is the server.
                    Some(f) if f & 0x12 == 0x12 => key.reversed(),
                    _ => *key,
                };
                let id = splitmix64(self.next_id);
                self.next_id += 1;
                let flow = Flow {
                    id: id & 0x7fff_ffff_ffff_ffff,
                    key: client_key,
                    first_ns: info.ts_ns,
                    last_ns: info.ts_ns,
                    packets: [0; 2],
                    bytes: [0; 2],
                    tcp_flags: [0; 2],
                    state: FlowState::New,
                    tcp_state: TcpState::None,
                    midstream: false,
                    client_isn: None,
                    user: make(),
                };
                let idx = self.insert_slot(Slot {
                    flow,
                    canon,
                    prev: NIL,
                    next: NIL,
                });
                self.index.insert(canon, idx);
                self.push_front(idx);
                self.stats.created += 1;
                self.stats.peak_active = self.stats.peak_active.max(self.index.len() as u64);
                (idx, true)
            }
        };
        let stats = &mut self.stats;
        let Some(Some(slot)) = self.slots.get_mut(idx) else {
            // The index and the slab are updated together above; a miss
            // here is a bug in this module, not something input can cause.
            unreachable!("flow index points at an empty slot")
        };
        let flow = &mut slot.flow;
        let direction = flow.direction_of(key);
        let d = direction.index();
        flow.last_ns = flow.last_ns.max(info.ts_ns);
        if let Some(p) = flow.packets.get_mut(d) {
            *p += 1;
        }
        if let Some(b) = flow.bytes.get_mut(d) {
            *b += info.len;
        }
        match info.tcp_flags {
            Some(flags) => {
                if flags & 0x12 == 0x02 && direction == Direction::ToServer {
                    flow.client_isn = Some(info.tcp_seq);
                }
                // A SYN/ACK that does not acknowledge the client's SYN
                // does not answer it: the handshake waits for one that
                // does, as Suricata's TCP tracking does (its
                // `3whs_synack_with_wrong_ack`), so such a connection
                // never counts as established.
                let wrong_synack = flags & 0x12 == 0x12
                    && direction == Direction::ToClient
                    && flow.tcp_state == TcpState::SynSent
                    && flow
                        .client_isn
                        .is_some_and(|isn| info.tcp_ack != isn.wrapping_add(1));
                if wrong_synack {
                    stats.tcp_synack_wrong_ack += 1;
                    if let Some(f) = flow.tcp_flags.get_mut(d) {
                        *f |= flags;
                    }
                } else {
                    flow.on_tcp(direction, flags, stats)
                }
            }
            // A TCP flow's state follows its TCP flags only (an ICMP error
            // accounted to it must not reopen a closed connection).
            None if flow.key.proto == proto::TCP => {}
            None => {
                if flow.packets.iter().all(|&p| p > 0) {
                    flow.state = FlowState::Established;
                }
            }
        }
        FlowUpdate {
            flow,
            direction,
            created,
        }
    }

    /// Looks a flow up without accounting a packet.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<T>> {
        let idx = *self.index.get(&key.canonical())?;
        self.slots.get_mut(idx)?.as_mut().map(|s| &mut s.flow)
    }

    /// The idle timeout of a flow in its current state, in seconds.
    pub fn timeout_secs(&self, flow: &Flow<T>) -> u64 {
        let t = &self.config.timeouts;
        match (flow.key.proto, flow.state) {
            (proto::TCP, FlowState::New) => t.tcp_new,
            (proto::TCP, FlowState::Established) => t.tcp_established,
            (proto::TCP, FlowState::Closed) => t.tcp_closed,
            (proto::UDP, FlowState::New) => t.udp_new,
            (proto::UDP, _) => t.udp_established,
            (_, FlowState::New) => t.other_new,
            (_, _) => t.other_established,
        }
    }

    /// Removes every flow idle past its timeout at `now_ns`, oldest first,
    /// passing each to `expired`. Walks from the least recently seen end and
    /// stops as soon as a flow is too fresh for even the shortest timeout,
    /// since every flow nearer the head was seen more recently still.
    pub fn expire(&mut self, now_ns: u64, mut expired: impl FnMut(Flow<T>, EndReason)) {
        let t = &self.config.timeouts;
        let shortest = [
            t.tcp_new,
            t.tcp_established,
            t.tcp_closed,
            t.udp_new,
            t.udp_established,
            t.other_new,
            t.other_established,
        ]
        .into_iter()
        .min()
        .unwrap_or(0)
        .saturating_mul(1_000_000_000);
        let mut idx = self.tail;
        while idx != NIL {
            let Some(Some(slot)) = self.slots.get(idx) else {
                break;
            };
            let prev = slot.prev;
            let idle_ns = now_ns.saturating_sub(slot.flow.last_ns);
            if idle_ns > self.timeout_secs(&slot.flow).saturating_mul(1_000_000_000) {
                if let Some(f) = self.remove(idx) {
                    self.stats.timed_out += 1;
                    expired(f, EndReason::Timeout);
                }
            } else if idle_ns <= shortest {
                // Flows nearer the head are at least this fresh; none of
                // them can have timed out.
                break;
            }
            idx = prev;
        }
    }

    /// Removes every flow (end of input), passing each to `flushed`, oldest first.
    pub fn flush_all(&mut self, mut flushed: impl FnMut(Flow<T>, EndReason)) {
        while let Some(f) = self.pop_lru() {
            self.stats.flushed += 1;
            flushed(f, EndReason::Shutdown);
        }
    }

    /// Iterates over the live flows, most recently seen first.
    pub fn iter(&self) -> impl Iterator<Item = &Flow<T>> {
        let mut idx = self.head;
        std::iter::from_fn(move || {
            let slot = self.slots.get(idx)?.as_ref()?;
            idx = slot.next;
            Some(&slot.flow)
        })
    }

    fn insert_slot(&mut self, slot: Slot<T>) -> usize {
        match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i) {
                    *s = Some(slot);
                }
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        }
    }

    fn pop_lru(&mut self) -> Option<Flow<T>> {
        if self.tail == NIL {
            return None;
        }
        self.remove(self.tail)
    }

    fn remove(&mut self, idx: usize) -> Option<Flow<T>> {
        self.unlink(idx);
        let slot = self.slots.get_mut(idx)?.take()?;
        self.index.remove(&slot.canon);
        self.free.push(idx);
        Some(slot.flow)
    }

    fn unlink(&mut self, idx: usize) {
        let (prev, next) = match self.slots.get(idx) {
            Some(Some(s)) => (s.prev, s.next),
            _ => return,
        };
        match self.slots.get_mut(prev) {
            Some(Some(p)) => p.next = next,
            _ => self.head = next,
        }
        match self.slots.get_mut(next) {
            Some(Some(n)) => n.prev = prev,
            _ => self.tail = prev,
        }
        if let Some(Some(s)) = self.slots.get_mut(idx) {
            s.prev = NIL;
            s.next = NIL;
        }
    }

    fn push_front(&mut self, idx: usize) {
        let old_head = self.head;
        if let Some(Some(s)) = self.slots.get_mut(idx) {
            s.prev = NIL;
            s.next = old_head;
        }
        if let Some(Some(h)) = self.slots.get_mut(old_head) {
            h.prev = idx;
        }
        self.head = idx;
        if self.tail == NIL {
            self.tail = idx;
        }
    }
}

/// A well-mixed 64-bit value from a counter, so flow ids look random (as
/// Suricata's do) without any source of randomness in this pure crate.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(a: u8, ap: u16, b: u8, bp: u16) -> FlowKey {
        FlowKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, b)),
            src_port: ap,
            dst_port: bp,
            proto: proto::TCP,
            vlan: 0,
        }
    }

    fn pkt(ts_s: u64, flags: u8) -> PacketInfo {
        PacketInfo {
            ts_ns: ts_s * 1_000_000_000,
            len: 60,
            tcp_flags: Some(flags),
            tcp_seq: ts_s as u32,
            // What a SYN/ACK answering a SYN sent at the same second
            // acknowledges.
            tcp_ack: (ts_s as u32).wrapping_add(1),
        }
    }

    #[test]
    fn both_directions_share_one_flow_and_handshake_completes() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        let c = key(1, 40000, 2, 80);
        let u = t.update(&c, pkt(1, 0x02), || (), |_, _| {});
        assert!(u.created);
        assert_eq!(u.direction, Direction::ToServer);
        let u = t.update(&c.reversed(), pkt(1, 0x12), || (), |_, _| {});
        assert!(!u.created);
        assert_eq!(u.direction, Direction::ToClient);
        let u = t.update(&c, pkt(1, 0x10), || (), |_, _| {});
        assert_eq!(u.flow.tcp_state, TcpState::Established);
        assert_eq!(u.flow.packets, [2, 1]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.stats().tcp_handshakes, 1);
        t.update(&c, pkt(2, 0x11), || (), |_, _| {});
        let u = t.update(&c.reversed(), pkt(2, 0x11), || (), |_, _| {});
        assert_eq!(u.flow.tcp_state, TcpState::Closed);
        assert_eq!(u.flow.state, FlowState::Closed);
    }

    #[test]
    fn a_syn_ack_acknowledging_something_else_is_ignored() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        let c = key(1, 40000, 2, 80);
        t.update(&c, pkt(1, 0x02), || (), |_, _| {});
        let wrong = PacketInfo {
            tcp_ack: 77,
            ..pkt(1, 0x12)
        };
        let u = t.update(&c.reversed(), wrong, || (), |_, _| {});
        assert_eq!(u.flow.tcp_state, TcpState::SynSent);
        // The client's ACK and data do not complete a handshake that the
        // server never answered.
        let u = t.update(&c, pkt(1, 0x10), || (), |_, _| {});
        assert_eq!(u.flow.tcp_state, TcpState::SynSent);
        assert_eq!(u.flow.state, FlowState::New);
        assert_eq!(t.stats().tcp_synack_wrong_ack, 1);
        assert_eq!(t.stats().tcp_handshakes, 0);
        // A right one then does.
        t.update(&c.reversed(), pkt(1, 0x12), || (), |_, _| {});
        let u = t.update(&c, pkt(1, 0x10), || (), |_, _| {});
        assert_eq!(u.flow.tcp_state, TcpState::Established);
    }

    #[test]
    fn syn_ack_first_makes_its_sender_the_server() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        let s = key(2, 80, 1, 40000);
        let u = t.update(&s, pkt(1, 0x12), || (), |_, _| {});
        assert_eq!(u.direction, Direction::ToClient);
        assert_eq!(u.flow.key.dst_port, 80);
    }

    #[test]
    fn syn_on_closed_connection_starts_a_new_flow() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        let c = key(1, 40000, 2, 80);
        let first = t.update(&c, pkt(1, 0x02), || (), |_, _| {}).flow.id;
        t.update(&c.reversed(), pkt(1, 0x14), || (), |_, _| {});
        // The same SYN again (same ISN) is a retransmission.
        let u = t.update(&c, pkt(1, 0x02), || (), |_, _| {});
        assert!(!u.created);
        let mut ended = Vec::new();
        let u = t.update(&c, pkt(2, 0x02), || (), |f, r| ended.push((f.id, r)));
        assert!(u.created);
        assert_ne!(u.flow.id, first);
        assert_eq!(ended, vec![(first, EndReason::Reused)]);
        assert_eq!(t.stats().reused, 1);
    }

    #[test]
    fn vlan_separates_flows() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        let a = key(1, 1, 2, 2);
        let b = FlowKey { vlan: 7, ..a };
        t.update(&a, pkt(1, 0x02), || (), |_, _| {});
        t.update(&b, pkt(1, 0x02), || (), |_, _| {});
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn memcap_evicts_least_recently_seen() {
        let cfg = FlowConfig {
            memcap_bytes: per_flow_overhead::<()>() * 3,
            ..FlowConfig::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(cfg);
        assert_eq!(t.capacity(), 3);
        for i in 1..=3 {
            t.update(
                &key(i, 1, 100, 2),
                pkt(u64::from(i), 0x02),
                || (),
                |_, _| {},
            );
        }
        // Touch flow 1 so that flow 2 is the oldest.
        t.update(&key(1, 1, 100, 2), pkt(10, 0x10), || (), |_, _| {});
        let mut gone = Vec::new();
        t.update(
            &key(4, 1, 100, 2),
            pkt(11, 0x02),
            || (),
            |f, r| gone.push((f.key, r)),
        );
        assert_eq!(gone, vec![(key(2, 1, 100, 2), EndReason::Forced)]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.stats().evicted, 1);
    }

    #[test]
    fn expire_uses_state_timeouts() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        // New TCP flow: 60 s; established UDP flow: 300 s.
        t.update(&key(1, 1, 2, 2), pkt(0, 0x02), || (), |_, _| {});
        let mut u = key(3, 53, 4, 53);
        u.proto = proto::UDP;
        let info = PacketInfo {
            ts_ns: 0,
            len: 80,
            tcp_flags: None,
            tcp_seq: 0,
            tcp_ack: 0,
        };
        t.update(&u, info, || (), |_, _| {});
        t.update(&u.reversed(), info, || (), |_, _| {});
        let mut gone = Vec::new();
        t.expire(61_000_000_000, |f, r| gone.push((f.key.proto, r)));
        assert_eq!(gone, vec![(proto::TCP, EndReason::Timeout)]);
        t.expire(299_000_000_000, |f, r| gone.push((f.key.proto, r)));
        assert_eq!(gone.len(), 1);
        t.expire(301_000_000_000, |f, r| gone.push((f.key.proto, r)));
        assert_eq!(gone.len(), 2);
        assert!(t.is_empty());
    }

    /// A capture whose clock went back: the sweep never reaches the old
    /// flow, but a packet of its replay, idle past the timeout by its own
    /// time, starts a new flow.
    #[test]
    fn lookup_ends_a_flow_idle_by_the_packets_own_time() {
        let mut t: FlowTable<u32> = FlowTable::new(FlowConfig::default());
        let k = key(1, 1000, 2, 443);
        let mut n = 0;
        t.update(
            &k,
            pkt(10, 0x02),
            || {
                n += 1;
                n
            },
            |_, _| {},
        );
        let first = t.get_mut(&k).map(|f| f.id);
        // a packet 30 s later continues it (TCP new-state timeout: 60 s)
        let up = t.update(&k, pkt(40, 0x10), || 99, |_, _| {});
        assert!(!up.created);
        let mut ended = Vec::new();
        let up = t.update(&k, pkt(200, 0x02), || 7, |f, r| ended.push((f.user, r)));
        assert!(up.created);
        assert_eq!(up.flow.user, 7);
        assert_eq!(ended, vec![(1, EndReason::Timeout)]);
        assert_ne!(t.get_mut(&k).map(|f| f.id), first);
        assert_eq!(t.stats().timed_out, 1);
        // an older timestamp (clock going back) never ends a flow
        let up = t.update(&k, pkt(1, 0x10), || 8, |_, _| panic!("ended"));
        assert!(!up.created);
    }

    #[test]
    fn flush_all_returns_every_flow() {
        let mut t: FlowTable<u32> = FlowTable::new(FlowConfig::default());
        for i in 1..=5 {
            t.update(&key(i, 1, 100, 2), pkt(1, 0x02), || u32::from(i), |_, _| {});
        }
        let mut n = 0;
        t.flush_all(|f, r| {
            assert_eq!(r, EndReason::Shutdown);
            n += f.user;
        });
        assert_eq!(n, 15);
        assert!(t.is_empty());
    }
}
