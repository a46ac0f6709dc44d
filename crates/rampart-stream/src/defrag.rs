//! IPv4 and IPv6 fragment reassembly with target-based overlap policies.
//!
//! Fragmentation is a classic evasion channel: split a signature across
//! fragments, send them out of order, or send overlapping fragments whose
//! "winning" bytes depend on the receiving stack. The [`Defragmenter`]
//! collects fragments per datagram, resolves overlaps the way the protected
//! host would ([`OverlapPolicy`]), hands back the rebuilt packet when the
//! datagram is complete, and records every oddity as an anomaly so the
//! engine can raise an event for the packet that caused it.
//!
//! It is sans-I/O: fragments come in as primitives (addresses, id, offset,
//! bytes) and time as a `u64` nanosecond timestamp, so it can be fuzzed and
//! tested from crafted values without building packets.
//!
//! # Bounds
//! Memory is bounded by [`DefragConfig`], never by input: each datagram is
//! limited to `max_datagram_bytes` and `max_fragments_per_datagram`, the
//! number of datagrams in progress to `max_trackers`, and all of them
//! together to `memcap_bytes`. When a limit is reached the oldest datagram
//! is evicted (counted) or, if that cannot make room, the fragment is
//! dropped (counted). Trackers expire `timeout_ns` after their first
//! fragment, whether or not more fragments keep arriving, so a slow trickle
//! cannot pin memory (this follows Linux's reassembly timer rather than
//! Suricata's refresh-on-every-fragment).

mod rebuild;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::pieces::PieceMap;
use crate::policy::Extent;
pub use crate::policy::OverlapPolicy;
pub use rebuild::{ipv4_header_checksum, rebuild_ipv4, rebuild_ipv6};

/// Memory charged for a tracker's bookkeeping, on top of the bytes it
/// holds, so that many tiny datagrams still count against the memcap.
pub const TRACKER_OVERHEAD: usize = 256;

/// The largest IPv4 packet or IPv6 payload a length field can express.
const MAX_IP_LEN: u64 = 65_535;

/// Limits and behaviour of a [`Defragmenter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DefragConfig {
    /// How long a datagram may stay incomplete, measured from its first
    /// fragment. Default 60 s (Suricata's and Snort's default).
    pub timeout_ns: u64,
    /// Fragments accepted for one datagram before it is abandoned as an
    /// attack. Default 1024, enough for a 64 KiB datagram over a 576-byte
    /// path several times over.
    pub max_fragments_per_datagram: u32,
    /// Largest reassembled payload (offset + length of any fragment).
    /// Default 65535, the most an IPv4 total length or IPv6 payload length
    /// field can express; fragments reaching past it are dropped as
    /// "too large".
    pub max_datagram_bytes: u32,
    /// Global cap on memory held by all datagrams in progress (payload,
    /// saved headers and [`TRACKER_OVERHEAD`] each). Default 32 MiB, as in
    /// Suricata.
    pub memcap_bytes: usize,
    /// Most datagrams in progress at once. Default 65535 (Suricata's
    /// `defrag.trackers`).
    pub max_trackers: usize,
    /// How overlapping fragments are resolved.
    pub policy: OverlapPolicy,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout_ns: 60_000_000_000,
            max_fragments_per_datagram: 1024,
            max_datagram_bytes: 65_535,
            memcap_bytes: 32 * 1024 * 1024,
            max_trackers: 65_535,
            policy: OverlapPolicy::Bsd,
        }
    }
}

/// Which fragments belong to the same datagram.
///
/// RFC 791 keys IPv4 reassembly on source, destination, protocol and
/// identification; RFC 8200 keys IPv6 on source, destination and the 32-bit
/// identification only, so for IPv6 callers should pass `protocol: 0`. The
/// VLAN keeps identical datagrams on different VLANs apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Source address; its family selects IPv4 or IPv6 reassembly.
    pub src: IpAddr,
    /// Destination address; must be the same family as `src`.
    pub dst: IpAddr,
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// IPv4 protocol number; 0 for IPv6.
    pub protocol: u8,
    /// Outermost VLAN id, 0 if untagged.
    pub vlan: u16,
}

/// One fragment as decoded from the wire.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// The datagram it belongs to.
    pub key: FragKey,
    /// Offset of `data` in the reassembled payload, in bytes (the wire
    /// field times 8).
    pub offset: u32,
    /// The More Fragments flag.
    pub more: bool,
    /// The fragment's payload.
    pub data: &'a [u8],
    /// The IP header bytes that will head the rebuilt packet if this is the
    /// offset-0 fragment: for IPv4 the whole header including options; for
    /// IPv6 the fixed header plus the extension headers *before* the
    /// Fragment header. Ignored for other offsets.
    pub header: &'a [u8],
    /// For IPv6, the Next Header value from the Fragment header (it becomes
    /// the next header of the rebuilt packet; RFC 8200 takes it from the
    /// offset-0 fragment). `None` for IPv4.
    pub ipv6_next_header: Option<u8>,
}

/// Something odd about a fragment, reported on the push that saw it so the
/// engine can raise a per-packet event.
///
/// Suricata's closest event names are given for orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefragAnomaly {
    /// The fragment overlapped bytes already received
    /// (`ipv4.frag_overlap` / `ipv6.frag_overlap`).
    Overlap,
    /// ... and some overlapped bytes differed: the classic evasion signal.
    OverlapDifferentData,
    /// The fragment lies entirely inside data already received and differs
    /// from it (teardrop family).
    Teardrop,
    /// Offset plus length exceeds the largest possible datagram
    /// (`ipv4.frag_pkt_too_large`); dropped.
    TooLarge,
    /// A non-last fragment whose length is not a multiple of 8; trimmed to
    /// a multiple of 8 as receiving stacks do.
    BadLength,
    /// A fragment with no payload (after trimming); dropped.
    EmptyFragment,
    /// A last fragment disagreeing with an earlier one about where the
    /// datagram ends, or data beyond that end; the excess is discarded.
    InconsistentEnd,
    /// The datagram exceeded `max_fragments_per_datagram` and was abandoned.
    TooManyFragments,
    /// The memcap could not make room even after evicting older datagrams;
    /// the fragment was dropped (`ipv4.frag_ignored`).
    MemcapDrop,
    /// Source and destination are of different families, or the offset-0
    /// fragment's header is too short to rebuild from; dropped.
    Invalid,
}

/// Counters over the life of a [`Defragmenter`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DefragStats {
    /// Fragments pushed.
    pub fragments: u64,
    /// Datagrams completed and returned (atomic fragments included).
    pub reassembled: u64,
    /// Trackers dropped because their timeout passed.
    pub timeouts: u64,
    /// Fragments that overlapped earlier data.
    pub overlaps: u64,
    /// Fragments whose overlapped bytes differed from earlier data.
    pub overlaps_different_data: u64,
    /// Datagrams abandoned for having too many fragments.
    pub too_many_fragments: u64,
    /// Fragments with inconsistent offset/length: too large, bad length,
    /// empty, contained in earlier data with different content, or a
    /// conflicting end of datagram.
    pub teardrop: u64,
    /// Fragments dropped because the memcap could not make room.
    pub memcap_drops: u64,
    /// Trackers evicted (oldest first) to respect `max_trackers` or the
    /// memcap.
    pub tracker_evictions: u64,
    /// Fragments dropped as invalid (mixed families, short header).
    pub invalid: u64,
}

/// What one [`Defragmenter::push`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefragResult {
    /// The rebuilt IP packet (header plus payload), when this fragment
    /// completed its datagram.
    pub reassembled: Option<Vec<u8>>,
    /// Anomalies seen while handling this fragment (empty, and not
    /// allocated, in the common case).
    pub anomalies: Vec<DefragAnomaly>,
}

/// One datagram in progress.
#[derive(Debug)]
struct Tracker {
    /// Key into `Defragmenter::order`.
    age: (u64, u64),
    pieces: PieceMap,
    /// Total payload length, known once a last fragment arrived.
    end: Option<u64>,
    /// Header from the offset-0 fragment.
    header: Option<Vec<u8>>,
    next_header: Option<u8>,
    fragments: u32,
}

impl Tracker {
    fn memory(&self) -> usize {
        let held = usize::try_from(self.pieces.bytes()).unwrap_or(usize::MAX);
        TRACKER_OVERHEAD
            .saturating_add(held)
            .saturating_add(self.header.as_ref().map_or(0, Vec::len))
    }
}

/// IPv4/IPv6 defragmentation for one worker.
///
/// Push every fragment (a packet with MF set or a non-zero offset; IPv6
/// packets with a Fragment header) and use the returned packet in place of
/// the fragments once it appears. Trackers time out lazily on `push`; call
/// [`Defragmenter::expire`] from the worker's housekeeping tick too, so that
/// idle memory is returned.
#[derive(Debug)]
pub struct Defragmenter {
    config: DefragConfig,
    trackers: HashMap<FragKey, Tracker, foldhash::fast::RandomState>,
    /// Trackers by (creation time, serial): oldest first, for timeouts and
    /// eviction.
    order: BTreeMap<(u64, u64), FragKey>,
    serial: u64,
    memory: usize,
    stats: DefragStats,
}

impl Defragmenter {
    /// A defragmenter with the given limits and policy.
    pub fn new(config: DefragConfig) -> Defragmenter {
        Defragmenter {
            config,
            trackers: HashMap::default(),
            order: BTreeMap::new(),
            serial: 0,
            memory: 0,
            stats: DefragStats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &DefragConfig {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Bytes currently charged against the memcap.
    pub fn memory_used(&self) -> usize {
        self.memory
    }

    /// Datagrams currently in progress.
    pub fn tracker_count(&self) -> usize {
        self.trackers.len()
    }

    /// Drops every datagram whose first fragment is older than the timeout
    /// at `now_ns`; returns how many were dropped (also counted in
    /// [`DefragStats::timeouts`]).
    pub fn expire(&mut self, now_ns: u64) -> usize {
        let mut n = 0;
        while let Some((&(created, _), &key)) = self.order.first_key_value() {
            if created.saturating_add(self.config.timeout_ns) > now_ns {
                break;
            }
            self.remove_tracker(&key);
            self.stats.timeouts += 1;
            n += 1;
        }
        n
    }

    /// Removes a tracker and returns its memory to the memcap.
    fn take_tracker(&mut self, key: &FragKey) -> Option<Tracker> {
        let t = self.trackers.remove(key)?;
        self.order.remove(&t.age);
        self.memory = self.memory.saturating_sub(t.memory());
        Some(t)
    }

    fn remove_tracker(&mut self, key: &FragKey) {
        self.take_tracker(key);
    }

    /// Evicts the oldest tracker other than `keep`; false if there is none.
    fn evict_oldest_except(&mut self, keep: &FragKey) -> bool {
        let victim = self.order.values().find(|k| *k != keep).copied();
        match victim {
            Some(k) => {
                self.remove_tracker(&k);
                self.stats.tracker_evictions += 1;
                true
            }
            None => false,
        }
    }

    /// Evicts older trackers until `extra` more bytes fit under the memcap.
    fn make_room(&mut self, extra: usize, keep: &FragKey) -> bool {
        while self.memory.saturating_add(extra) > self.config.memcap_bytes {
            if !self.evict_oldest_except(keep) {
                return false;
            }
        }
        true
    }

    /// Feeds one fragment at time `now_ns`. Returns the rebuilt packet if
    /// this fragment completed its datagram, and any anomalies.
    pub fn push(&mut self, now_ns: u64, frag: Fragment<'_>) -> DefragResult {
        let mut res = DefragResult::default();
        self.stats.fragments += 1;
        self.expire(now_ns);

        let is_v4 = match (frag.key.src, frag.key.dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => true,
            (IpAddr::V6(_), IpAddr::V6(_)) => false,
            _ => return self.invalid(res),
        };
        let min_header = if is_v4 { 20 } else { 40 };
        if frag.offset == 0 && frag.header.len() < min_header {
            return self.invalid(res);
        }

        let offset = u64::from(frag.offset);
        // An "atomic" fragment (offset 0, no more fragments) is a whole
        // datagram; RFC 6946 says to process it in isolation from any
        // datagram in progress with the same id.
        if offset == 0 && !frag.more {
            res.reassembled = self.rebuild(is_v4, frag.header, frag.ipv6_next_header, frag.data);
            if res.reassembled.is_some() {
                self.stats.reassembled += 1;
            } else {
                res.anomalies.push(DefragAnomaly::TooLarge);
                self.stats.teardrop += 1;
            }
            return res;
        }

        let mut len = frag.data.len() as u64;
        if frag.more && !len.is_multiple_of(8) {
            res.anomalies.push(DefragAnomaly::BadLength);
            self.stats.teardrop += 1;
            len -= len % 8;
        }
        if len == 0 {
            res.anomalies.push(DefragAnomaly::EmptyFragment);
            self.stats.teardrop += 1;
            return res;
        }
        let header_len = if is_v4 { frag.header.len() as u64 } else { 0 };
        let mut end = offset + len;
        if end > u64::from(self.config.max_datagram_bytes) || header_len + end > MAX_IP_LEN {
            res.anomalies.push(DefragAnomaly::TooLarge);
            self.stats.teardrop += 1;
            return res;
        }

        let key = frag.key;
        if !self.trackers.contains_key(&key) {
            if self.trackers.len() >= self.config.max_trackers && !self.evict_oldest_except(&key) {
                // max_trackers is 0: nothing can be tracked.
                res.anomalies.push(DefragAnomaly::MemcapDrop);
                self.stats.memcap_drops += 1;
                return res;
            }
            if !self.make_room(TRACKER_OVERHEAD, &key) {
                res.anomalies.push(DefragAnomaly::MemcapDrop);
                self.stats.memcap_drops += 1;
                return res;
            }
            let age = (now_ns, self.serial);
            self.serial += 1;
            self.order.insert(age, key);
            let t = Tracker {
                age,
                pieces: PieceMap::default(),
                end: None,
                header: None,
                next_header: None,
                fragments: 0,
            };
            self.memory = self.memory.saturating_add(t.memory());
            self.trackers.insert(key, t);
        }

        // Bookkeeping that cannot grow memory: fragment count and the end
        // of the datagram.
        let max_frags = self.config.max_fragments_per_datagram;
        let Some(t) = self.trackers.get_mut(&key) else {
            return res;
        };
        let mem_before = t.memory();
        t.fragments = t.fragments.saturating_add(1);
        if t.fragments > max_frags {
            self.remove_tracker(&key);
            res.anomalies.push(DefragAnomaly::TooManyFragments);
            self.stats.too_many_fragments += 1;
            return res;
        }
        if !frag.more {
            match t.end {
                Some(e) if e != end => {
                    // A second "last" fragment that disagrees: the first
                    // one's end stands.
                    res.anomalies.push(DefragAnomaly::InconsistentEnd);
                    self.stats.teardrop += 1;
                    end = end.min(e);
                }
                Some(_) => {}
                None => {
                    if t.pieces.max_end().is_some_and(|m| m > end) {
                        res.anomalies.push(DefragAnomaly::InconsistentEnd);
                        self.stats.teardrop += 1;
                        t.pieces.truncate_from(end);
                    }
                    t.end = Some(end);
                }
            }
        } else if let Some(e) = t.end {
            if end > e {
                res.anomalies.push(DefragAnomaly::InconsistentEnd);
                self.stats.teardrop += 1;
                end = e;
            }
        }
        let mem_after = t.memory();
        self.memory = self
            .memory
            .saturating_sub(mem_before)
            .saturating_add(mem_after);
        if end <= offset {
            return res;
        }

        // Memory for the new bytes (and the header, if this is the first
        // offset-0 fragment).
        let wants_header = offset == 0 && t.header.is_none();
        let extra = t.pieces.uncovered(offset, end) as usize
            + if wants_header { frag.header.len() } else { 0 };
        if !self.make_room(extra, &key) {
            res.anomalies.push(DefragAnomaly::MemcapDrop);
            self.stats.memcap_drops += 1;
            if self
                .trackers
                .get(&key)
                .is_some_and(|t| t.pieces.is_empty() && t.header.is_none())
            {
                self.remove_tracker(&key);
            }
            return res;
        }

        let Some(t) = self.trackers.get_mut(&key) else {
            return res;
        };
        let mem_before = t.memory();
        let take = usize::try_from(end - offset).unwrap_or(usize::MAX);
        let data = frag.data.get(..take).unwrap_or(frag.data);
        let policy = self.config.policy;
        let outcome = t
            .pieces
            .insert(offset, data, Extent::new(offset, end), |n, o| {
                policy.fragment_new_wins(n, o)
            });
        if wants_header {
            t.header = Some(frag.header.to_vec());
            t.next_header = frag.ipv6_next_header;
        }
        let mem_after = t.memory();
        self.memory = self
            .memory
            .saturating_sub(mem_before)
            .saturating_add(mem_after);

        if outcome.overlap_bytes > 0 {
            res.anomalies.push(DefragAnomaly::Overlap);
            self.stats.overlaps += 1;
            if outcome.different {
                res.anomalies.push(DefragAnomaly::OverlapDifferentData);
                self.stats.overlaps_different_data += 1;
                if outcome.added_bytes == 0 {
                    res.anomalies.push(DefragAnomaly::Teardrop);
                    self.stats.teardrop += 1;
                }
            }
        }

        // Complete?
        let complete = match (t.end, &t.header) {
            (Some(e), Some(_)) => t.pieces.contiguous_end(0) >= e,
            _ => false,
        };
        if complete {
            let Some(t) = self.take_tracker(&key) else {
                return res;
            };
            let e = t.end.unwrap_or(0);
            let mut payload = Vec::with_capacity(usize::try_from(e).unwrap_or(0));
            t.pieces.copy_range(0, e, &mut payload);
            let header = t.header.unwrap_or_default();
            res.reassembled = self.rebuild(is_v4, &header, t.next_header, &payload);
            if res.reassembled.is_some() {
                self.stats.reassembled += 1;
            } else {
                res.anomalies.push(DefragAnomaly::TooLarge);
                self.stats.teardrop += 1;
            }
        }
        res
    }

    fn invalid(&mut self, mut res: DefragResult) -> DefragResult {
        res.anomalies.push(DefragAnomaly::Invalid);
        self.stats.invalid += 1;
        res
    }

    fn rebuild(
        &self,
        is_v4: bool,
        header: &[u8],
        nh: Option<u8>,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        if is_v4 {
            rebuild_ipv4(header, payload)
        } else {
            // Without a Fragment header value, fall back to the fixed
            // header's own next header (59, "no next header", if even that
            // is missing).
            let nh = nh.or_else(|| header.get(6).copied()).unwrap_or(59);
            rebuild_ipv6(header, nh, payload)
        }
    }
}

#[cfg(test)]
mod tests;
