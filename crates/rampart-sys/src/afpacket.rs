//! Live capture for IDS mode: an `AF_PACKET` socket with a `TPACKET_V3`
//! memory-mapped receive ring, optionally joined to a fanout group so that
//! several worker threads share one interface and every flow lands on the
//! same worker.
//!
//! Why `TPACKET_V3`: the kernel fills whole blocks of variable-sized frames
//! and hands a block over once it is full or its timeout expires, so one
//! `poll` wakes the worker for many packets and no copy to user space is
//! made. Capture only observes: there are no verdicts here (inline mode is
//! [`crate::nfqueue`]).
//!
//! All `unsafe` code of the capture path lives in this module (socket
//! options, `mmap`, `poll`, `setns`, and the view of a block the kernel has
//! handed to user space). The ring itself is treated as untrusted input: the
//! block walker ([`walk_block`]) is safe code that bounds-checks every offset
//! and length against the block size, and counts what it had to skip in
//! [`RingStats::malformed`] instead of trusting the kernel's headers.
//!
//! The frames handed out are Ethernet (link type 1) as the kernel delivers
//! them on a normal interface. A VLAN tag that the NIC (or veth) stripped
//! and reported in the frame header (`TP_STATUS_VLAN_VALID`) is put back as
//! an 802.1Q (or the reported TPID) tag after the MAC addresses, so the
//! decoder sees the frame as it was on the wire.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Why a capture socket could not be opened or read. Every variant names
/// the interface (or namespace) and the system call, so a daemon log line
/// says where to look.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The ring configuration cannot work; checked before any syscall so the
    /// message says which value is wrong rather than the kernel's `EINVAL`.
    #[error("AF_PACKET capture on {iface}: invalid ring configuration: {reason}")]
    Config {
        /// Interface the ring was meant for.
        iface: String,
        /// What is wrong with the configuration.
        reason: String,
    },
    /// The interface name is not known in the current network namespace.
    #[error("AF_PACKET capture on {iface}: no such interface (if_nametoindex): {source}")]
    NoSuchInterface {
        /// The name that was looked up.
        iface: String,
        /// The error `if_nametoindex` reported.
        source: io::Error,
    },
    /// A system call on the capture socket failed.
    #[error("AF_PACKET capture on {iface}: {syscall} failed: {source}")]
    Syscall {
        /// Interface the socket is (or was to be) bound to.
        iface: String,
        /// The failing call, with the option name for `setsockopt`.
        syscall: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Entering a network namespace failed (see [`enter_netns`]).
    #[error("network namespace {name}: {syscall} failed: {source}")]
    Netns {
        /// Namespace name under `/var/run/netns`.
        name: String,
        /// The failing call.
        syscall: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// How a fanout group spreads packets over its member sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanoutMode {
    /// By the kernel's flow hash (`PACKET_FANOUT_HASH`), which is symmetric
    /// in addresses and ports, with `PACKET_FANOUT_FLAG_DEFRAG` so IP
    /// fragments are reassembled before hashing: both directions and all
    /// fragments of a flow reach the same worker, which is what the flow
    /// table needs to stay lock-free. The mode to use for IDS.
    Hash,
    /// By the CPU that received the packet (`PACKET_FANOUT_CPU`); flow
    /// consistent only as far as RSS/RPS steering is.
    Cpu,
    /// Round robin (`PACKET_FANOUT_LB`); not flow consistent, for
    /// stateless work only.
    LoadBalance,
}

impl FanoutMode {
    /// The `type_flags` half of the `PACKET_FANOUT` argument.
    fn type_flags(self) -> u32 {
        match self {
            FanoutMode::Hash => libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG,
            FanoutMode::Cpu => libc::PACKET_FANOUT_CPU,
            FanoutMode::LoadBalance => libc::PACKET_FANOUT_LB,
        }
    }
}

/// A fanout group to join: all sockets with the same `group_id` (in one
/// network namespace) and the same mode share the interface's packets, each
/// packet going to exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    /// Group id; pick one per interface (e.g. derived from the ifindex and
    /// the process id) so two captures do not steal each other's packets.
    pub group_id: u16,
    /// How packets are spread over the members.
    pub mode: FanoutMode,
}

/// Shape of the receive ring of one socket. Memory is
/// `block_size * block_count` per socket, locked in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block; a multiple of the page size. A block is the unit the
    /// kernel hands over, and the largest capturable frame is a little less
    /// than one block. Default 1 MiB.
    pub block_size: u32,
    /// Number of blocks. Default 64 (64 MiB per socket with the default
    /// block size), enough to ride out a worker stall of a few ms at 10G.
    pub block_count: u32,
    /// Nominal frame size, used by the kernel only to size its frame
    /// accounting (`tp_frame_nr`); frames in a `TPACKET_V3` block are packed
    /// with their real length. A multiple of 16, at least 80. Default 2048.
    pub frame_size: u32,
    /// Milliseconds after which the kernel retires a block that is not full,
    /// which bounds the latency at low rates (0 lets the kernel derive it
    /// from the link speed). Default 10.
    pub block_timeout_ms: u32,
    /// Put the interface in promiscuous mode for the lifetime of the socket
    /// (a membership dropped by the kernel when the socket closes). Needed
    /// on a SPAN port; default off.
    pub promiscuous: bool,
    /// Join a fanout group; `None` for a single capture socket.
    pub fanout: Option<Fanout>,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            block_size: 1 << 20,
            block_count: 64,
            frame_size: 2048,
            block_timeout_ms: 10,
            promiscuous: false,
            fanout: None,
        }
    }
}

/// Counters of one capture socket since it was opened. The kernel's
/// counters reset on every read; these are accumulated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Packets the socket saw, including dropped ones (the kernel's
    /// `tp_packets`, which counts drops too).
    pub packets: u64,
    /// Packets dropped because the ring was full (`tp_drops`).
    pub drops: u64,
    /// Times the ring was frozen because user space did not return blocks
    /// fast enough (`tp_freeze_q_cnt`).
    pub freeze_q_count: u64,
    /// Frames (or the rest of a block) skipped because their headers did not
    /// fit the block; should stay 0, counted rather than trusted.
    pub malformed: u64,
}

/// Byte offsets in `struct tpacket_block_desc` and `struct tpacket3_hdr`
/// (linux/if_packet.h). The walker reads the ring by offset rather than
/// through pointer casts; the assertions tie the offsets to libc's layout.
mod layout {
    use std::mem::offset_of;

    /// `tpacket_block_desc.hdr.bh1.block_status`.
    pub const BLOCK_STATUS: usize = 8;
    /// `tpacket_block_desc.hdr.bh1.num_pkts`.
    pub const NUM_PKTS: usize = 12;
    /// `tpacket_block_desc.hdr.bh1.offset_to_first_pkt`.
    pub const OFFSET_TO_FIRST_PKT: usize = 16;
    /// Size of the block descriptor; the first packet cannot start earlier.
    pub const BLOCK_DESC_LEN: usize = size_of::<libc::tpacket_block_desc>();

    /// `tpacket3_hdr.tp_next_offset`.
    pub const TP_NEXT_OFFSET: usize = 0;
    /// `tpacket3_hdr.tp_sec`.
    pub const TP_SEC: usize = 4;
    /// `tpacket3_hdr.tp_nsec`.
    pub const TP_NSEC: usize = 8;
    /// `tpacket3_hdr.tp_snaplen`.
    pub const TP_SNAPLEN: usize = 12;
    /// `tpacket3_hdr.tp_len`.
    pub const TP_LEN: usize = 16;
    /// `tpacket3_hdr.tp_status`.
    pub const TP_STATUS: usize = 20;
    /// `tpacket3_hdr.tp_mac`.
    pub const TP_MAC: usize = 24;
    /// `tpacket3_hdr.hv1.tp_vlan_tci`.
    pub const TP_VLAN_TCI: usize = 32;
    /// `tpacket3_hdr.hv1.tp_vlan_tpid`.
    pub const TP_VLAN_TPID: usize = 36;
    /// Size of the frame header.
    pub const HDR_LEN: usize = size_of::<libc::tpacket3_hdr>();

    const HDR_BH1: usize = offset_of!(libc::tpacket_block_desc, hdr);
    const _: () = assert!(HDR_BH1 + offset_of!(libc::tpacket_hdr_v1, block_status) == BLOCK_STATUS);
    const _: () = assert!(HDR_BH1 + offset_of!(libc::tpacket_hdr_v1, num_pkts) == NUM_PKTS);
    const _: () = assert!(
        HDR_BH1 + offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt) == OFFSET_TO_FIRST_PKT
    );
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_next_offset) == TP_NEXT_OFFSET);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_sec) == TP_SEC);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_nsec) == TP_NSEC);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_snaplen) == TP_SNAPLEN);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_len) == TP_LEN);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_status) == TP_STATUS);
    const _: () = assert!(offset_of!(libc::tpacket3_hdr, tp_mac) == TP_MAC);
    const HV1: usize = offset_of!(libc::tpacket3_hdr, hv1);
    const _: () = assert!(HV1 + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tci) == TP_VLAN_TCI);
    const _: () =
        assert!(HV1 + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tpid) == TP_VLAN_TPID);
}

/// Ethernet header bytes before the EtherType: where a VLAN tag goes back in.
const MAC_ADDRS_LEN: usize = 12;
/// Bytes of a VLAN tag (TPID + TCI).
const VLAN_TAG_LEN: usize = 4;
/// The default TPID when the kernel reports a TCI but no TPID.
const ETH_P_8021Q: u16 = 0x8100;

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(bytes.try_into().ok()?))
}

/// What [`walk_block`] found in one block.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BlockWalk {
    /// Frames handed to the callback.
    pub delivered: usize,
    /// Frames the block claimed (`num_pkts`) but that could not be handed
    /// out because a header, offset or length did not fit the block.
    pub malformed: usize,
}

/// Walks one retired `TPACKET_V3` block (the whole block, descriptor
/// included) and calls `f(ts_nanos, frame, orig_len)` for each frame.
///
/// Public so that the walker, the part of the capture path that parses what
/// the kernel wrote, can be tested and fuzzed on crafted blocks without a
/// kernel. Everything is bounds-checked against `block.len()`: a block whose
/// `num_pkts` claims more frames than the chain holds, a `tp_next_offset`
/// pointing backwards or outside the block, or a `tp_snaplen` running past
/// the block end stop the walk (or skip the frame) and are counted in
/// [`BlockWalk::malformed`]. `scratch` receives frames whose stripped VLAN
/// tag is reinserted; it is reused across calls to avoid allocations.
pub fn walk_block(
    block: &[u8],
    scratch: &mut Vec<u8>,
    mut f: impl FnMut(u64, &[u8], u32),
) -> BlockWalk {
    let mut walk = BlockWalk::default();
    let (Some(num_pkts), Some(first)) = (
        read_u32(block, layout::NUM_PKTS),
        read_u32(block, layout::OFFSET_TO_FIRST_PKT),
    ) else {
        return walk;
    };
    let claimed = usize::try_from(num_pkts).unwrap_or(usize::MAX);
    let mut off = usize::try_from(first).unwrap_or(usize::MAX);
    if off < layout::BLOCK_DESC_LEN {
        walk.malformed = claimed;
        return walk;
    }
    let mut seen = 0usize;
    while seen < claimed {
        let Some(hdr) = off
            .checked_add(layout::HDR_LEN)
            .and_then(|end| block.get(off..end))
        else {
            break;
        };
        seen += 1;
        // All reads below are within `hdr`, whose length is HDR_LEN.
        let field = |at| read_u32(hdr, at).unwrap_or(0);
        let next = field(layout::TP_NEXT_OFFSET);
        let sec = u64::from(field(layout::TP_SEC));
        let nsec = u64::from(field(layout::TP_NSEC));
        let snaplen = field(layout::TP_SNAPLEN);
        let len = field(layout::TP_LEN);
        let status = field(layout::TP_STATUS);
        let mac = usize::from(read_u16(hdr, layout::TP_MAC).unwrap_or(0));
        // The frame starts after its header (tp_mac >= header size) and
        // ends inside the block.
        let frame = if mac >= layout::HDR_LEN {
            off.checked_add(mac).and_then(|start| {
                let end = start.checked_add(usize::try_from(snaplen).ok()?)?;
                block.get(start..end)
            })
        } else {
            None
        };
        match frame {
            Some(frame) => {
                let ts = sec * 1_000_000_000 + nsec;
                if status & libc::TP_STATUS_VLAN_VALID != 0 && frame.len() >= MAC_ADDRS_LEN {
                    let tci = read_u32(hdr, layout::TP_VLAN_TCI).unwrap_or(0) as u16;
                    let tpid = match read_u16(hdr, layout::TP_VLAN_TPID) {
                        Some(t) if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 && t != 0 => t,
                        _ => ETH_P_8021Q,
                    };
                    let (macs, rest) = frame.split_at(MAC_ADDRS_LEN);
                    scratch.clear();
                    scratch.extend_from_slice(macs);
                    scratch.extend_from_slice(&tpid.to_be_bytes());
                    scratch.extend_from_slice(&tci.to_be_bytes());
                    scratch.extend_from_slice(rest);
                    f(ts, scratch, len.saturating_add(VLAN_TAG_LEN as u32));
                } else {
                    f(ts, frame, len);
                }
                walk.delivered += 1;
            }
            None => walk.malformed += 1,
        }
        if seen == claimed {
            break;
        }
        // The next frame must start after this header, inside the block:
        // offsets only grow, so the walk ends.
        let step = usize::try_from(next).unwrap_or(usize::MAX);
        if step < layout::HDR_LEN {
            break;
        }
        match off.checked_add(step) {
            Some(n) if n < block.len() => off = n,
            _ => break,
        }
    }
    walk.malformed += claimed - seen;
    walk
}

/// The mmap'ed ring: `block_count` blocks of `block_size` bytes. Owns the
/// mapping and unmaps it on drop.
struct Ring {
    base: *mut u8,
    len: usize,
    block_size: usize,
    block_count: usize,
}

// SAFETY: `Ring` exclusively owns its mapping (nothing else holds `base`),
// and every access goes through `&self`/`&mut self` of the owning
// `AfPacket`, so moving it to another thread (a capture worker) is sound.
unsafe impl Send for Ring {}

impl Ring {
    /// Start of block `idx`; `idx < block_count` by construction.
    fn block_ptr(&self, idx: usize) -> *mut u8 {
        debug_assert!(idx < self.block_count);
        self.base.wrapping_add(idx * self.block_size)
    }

    /// The block's status word, shared with the kernel.
    fn status(&self, idx: usize) -> &AtomicU32 {
        let p = self.block_ptr(idx).wrapping_add(layout::BLOCK_STATUS);
        // SAFETY: `p` is inside the mapping (block_size >= page size > 12),
        // 4-byte aligned (the mapping is page aligned, block_size is a page
        // multiple and the offset is 8), and lives as long as `&self`. The
        // kernel writes it concurrently, which is why it is accessed only
        // atomically.
        unsafe { &*(p as *const AtomicU32) }
    }

    /// True when the kernel has retired block `idx` to user space.
    fn is_user(&self, idx: usize) -> bool {
        self.status(idx).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// The contents of block `idx`; only while it is owned by user space.
    fn user_block(&self, idx: usize) -> Option<&[u8]> {
        if !self.is_user(idx) {
            return None;
        }
        // SAFETY: the block lies within the mapping (idx < block_count) and
        // the kernel does not write a block whose status is TP_STATUS_USER
        // until we hand it back in `release`, which takes `&mut self` and so
        // cannot run while this shared borrow lives. The Acquire load above
        // pairs with the kernel's write barrier before setting the status,
        // so the frame data is visible.
        Some(unsafe { std::slice::from_raw_parts(self.block_ptr(idx), self.block_size) })
    }

    /// Hands block `idx` back to the kernel.
    fn release(&mut self, idx: usize) {
        self.status(idx)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned, the mapping is
        // unmapped only here, and no borrow of it can outlive `self`.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

/// One `AF_PACKET` socket bound to one interface, with its `TPACKET_V3`
/// receive ring. One per capture worker thread; use a [`Fanout`] group to
/// have several workers share an interface. Dropping it unmaps the ring and
/// closes the socket (which also leaves the fanout group and drops the
/// promiscuous membership).
pub struct AfPacket {
    // Field order matters: the ring is unmapped before the socket closes.
    ring: Ring,
    fd: OwnedFd,
    iface: String,
    next_block: usize,
    scratch: Vec<u8>,
    stats: RingStats,
}

impl std::fmt::Debug for AfPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfPacket")
            .field("iface", &self.iface)
            .field("fd", &self.fd.as_raw_fd())
            .field("blocks", &self.ring.block_count)
            .field("block_size", &self.ring.block_size)
            .finish()
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

fn check_config(iface: &str, cfg: &RingConfig) -> Result<libc::tpacket_req3, CaptureError> {
    let bad = |reason: String| CaptureError::Config {
        iface: iface.to_owned(),
        reason,
    };
    let page = page_size();
    let block = cfg.block_size as usize;
    if block == 0 || !block.is_multiple_of(page) {
        return Err(bad(format!(
            "block_size {} is not a positive multiple of the page size {page}",
            cfg.block_size
        )));
    }
    if cfg.block_count == 0 {
        return Err(bad("block_count is 0".into()));
    }
    // The kernel wants room for its frame header and a sockaddr_ll.
    let min_frame = libc::TPACKET3_HDRLEN.next_multiple_of(libc::TPACKET_ALIGNMENT);
    let frame = cfg.frame_size as usize;
    if frame < min_frame
        || !frame.is_multiple_of(libc::TPACKET_ALIGNMENT)
        || cfg.frame_size > cfg.block_size
    {
        return Err(bad(format!(
            "frame_size {} must be a multiple of {}, at least {min_frame} and at most block_size {}",
            cfg.frame_size,
            libc::TPACKET_ALIGNMENT,
            cfg.block_size
        )));
    }
    let frames_per_block = cfg.block_size / cfg.frame_size;
    let frame_nr = frames_per_block.checked_mul(cfg.block_count);
    let total = block.checked_mul(cfg.block_count as usize);
    let (Some(frame_nr), Some(_)) = (frame_nr, total) else {
        return Err(bad(format!(
            "block_size {} x block_count {} overflows",
            cfg.block_size, cfg.block_count
        )));
    };
    Ok(libc::tpacket_req3 {
        tp_block_size: cfg.block_size,
        tp_block_nr: cfg.block_count,
        tp_frame_size: cfg.frame_size,
        tp_frame_nr: frame_nr,
        tp_retire_blk_tov: cfg.block_timeout_ms,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    })
}

/// `setsockopt(fd, SOL_PACKET, opt, &val)`.
fn set_opt<T>(
    fd: &OwnedFd,
    iface: &str,
    opt: libc::c_int,
    name: &'static str,
    val: &T,
) -> Result<(), CaptureError> {
    // SAFETY: `val` points to a live, initialised `T` of exactly the length
    // passed; the kernel only reads it during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            opt,
            (val as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(CaptureError::Syscall {
            iface: iface.to_owned(),
            syscall: name,
            source: io::Error::last_os_error(),
        })
    }
}

fn ifindex(iface: &str) -> Result<libc::c_int, CaptureError> {
    let name = CString::new(iface)
        .ok()
        .filter(|n| !n.as_bytes().is_empty() && n.as_bytes().len() < libc::IFNAMSIZ)
        .ok_or_else(|| CaptureError::Config {
            iface: iface.to_owned(),
            reason: format!(
                "interface name must be 1 to {} bytes without NUL",
                libc::IFNAMSIZ - 1
            ),
        })?;
    // SAFETY: `name` is a valid NUL-terminated string for the call.
    let idx = unsafe { libc::if_nametoindex(name.as_ptr()) };
    libc::c_int::try_from(idx)
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| CaptureError::NoSuchInterface {
            iface: iface.to_owned(),
            source: io::Error::last_os_error(),
        })
}

impl AfPacket {
    /// Opens a capture socket on `iface` (looked up in the calling thread's
    /// network namespace), maps its ring, binds it to the interface and
    /// joins the fanout group if configured. Needs `CAP_NET_RAW`.
    ///
    /// The socket sees both directions of traffic on the interface
    /// (incoming and locally sent), as an IDS tap should.
    pub fn open(iface: &str, cfg: &RingConfig) -> Result<AfPacket, CaptureError> {
        let req = check_config(iface, cfg)?;
        let index = ifindex(iface)?;
        let sys = |syscall| {
            let source = io::Error::last_os_error();
            CaptureError::Syscall {
                iface: iface.to_owned(),
                syscall,
                source,
            }
        };
        // Protocol 0: receive nothing until bound to the interface below,
        // so no packets of other interfaces slip into the ring.
        // SAFETY: plain socket(2) call with constant arguments.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(sys("socket(AF_PACKET, SOCK_RAW)"));
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_opt(
            &fd,
            iface,
            libc::PACKET_VERSION,
            "setsockopt(PACKET_VERSION, TPACKET_V3)",
            &version,
        )?;
        set_opt(
            &fd,
            iface,
            libc::PACKET_RX_RING,
            "setsockopt(PACKET_RX_RING)",
            &req,
        )?;
        let block_size = cfg.block_size as usize;
        let block_count = cfg.block_count as usize;
        let len = block_size * block_count; // checked in check_config
                                            // SAFETY: mapping the socket's ring as the kernel documents
                                            // (packet_mmap.rst): shared, read-write, offset 0, the exact size
                                            // requested with PACKET_RX_RING. The result is checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED,
                fd.as_raw_fd(),
                0,
            )
        };
        let base = if base == libc::MAP_FAILED {
            // MAP_LOCKED can fail under RLIMIT_MEMLOCK; the ring pages are
            // kernel memory anyway, so retry without it.
            // SAFETY: as above, without MAP_LOCKED.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd.as_raw_fd(),
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(sys("mmap(PACKET_RX_RING)"));
            }
            base
        } else {
            base
        };
        let ring = Ring {
            base: base.cast(),
            len,
            block_size,
            block_count,
        };
        let mut addr: libc::sockaddr_ll = libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as u16,
            sll_protocol: (libc::ETH_P_ALL as u16).to_be(),
            sll_ifindex: index,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 0,
            sll_addr: [0; 8],
        };
        // SAFETY: `addr` is a valid sockaddr_ll of the length passed; the
        // kernel only reads it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw mut addr).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(sys("bind(sockaddr_ll)"));
        }
        if cfg.promiscuous {
            let mreq = libc::packet_mreq {
                mr_ifindex: index,
                mr_type: libc::PACKET_MR_PROMISC as u16,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            set_opt(
                &fd,
                iface,
                libc::PACKET_ADD_MEMBERSHIP,
                "setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)",
                &mreq,
            )?;
        }
        if let Some(fanout) = cfg.fanout {
            let arg: u32 = u32::from(fanout.group_id) | (fanout.mode.type_flags() << 16);
            set_opt(
                &fd,
                iface,
                libc::PACKET_FANOUT,
                "setsockopt(PACKET_FANOUT)",
                &arg,
            )?;
        }
        Ok(AfPacket {
            ring,
            fd,
            iface: iface.to_owned(),
            next_block: 0,
            scratch: Vec::with_capacity(block_size),
            stats: RingStats::default(),
        })
    }

    /// The interface this socket captures on.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Waits up to `timeout` for the next retired block, calls
    /// `f(ts_nanos, frame, orig_len)` for each packet in it (timestamp in ns
    /// since the Unix epoch, the Ethernet frame as captured, the length on
    /// the wire), then returns the block to the kernel.
    ///
    /// Returns the number of packets handed to `f`; 0 on timeout (or for a
    /// block with nothing usable in it), so a worker can check its shutdown
    /// flag between calls. A signal interrupting the wait is retried with
    /// the remaining time.
    pub fn for_each_packet(
        &mut self,
        timeout: Duration,
        f: impl FnMut(u64, &[u8], u32),
    ) -> Result<usize, CaptureError> {
        let idx = self.next_block;
        if !self.ring.is_user(idx) && !self.wait(idx, timeout)? {
            return Ok(0);
        }
        let Some(block) = self.ring.user_block(idx) else {
            return Ok(0);
        };
        let walk = walk_block(block, &mut self.scratch, f);
        self.ring.release(idx);
        self.next_block = (idx + 1) % self.ring.block_count;
        self.stats.malformed += walk.malformed as u64;
        Ok(walk.delivered)
    }

    /// Polls until block `idx` is retired or the timeout passes; true when
    /// the block is ready.
    fn wait(&self, idx: usize, timeout: Duration) -> Result<bool, CaptureError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_millis(i32::MAX as u64),
            };
            // Round up so a sub-millisecond timeout still waits.
            let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as libc::c_int;
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN | libc::POLLERR,
                revents: 0,
            };
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    if left.is_zero() {
                        return Ok(self.ring.is_user(idx));
                    }
                    continue;
                }
                return Err(CaptureError::Syscall {
                    iface: self.iface.clone(),
                    syscall: "poll",
                    source: err,
                });
            }
            if pfd.revents & libc::POLLERR != 0 {
                self.take_socket_error()?;
            }
            if self.ring.is_user(idx) {
                return Ok(true);
            }
            if rc == 0 || left.is_zero() {
                return Ok(false);
            }
            // Woken without our block being ready (e.g. the error above was
            // cleared): wait out the rest of the timeout.
        }
    }

    /// Reads and clears a pending socket error (e.g. `ENETDOWN` when the
    /// interface went down) so it is reported once instead of spinning.
    fn take_socket_error(&self) -> Result<(), CaptureError> {
        let mut err: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err`/`len` are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut err).cast(),
                &raw mut len,
            )
        };
        let source = if rc != 0 {
            io::Error::last_os_error()
        } else if err != 0 {
            io::Error::from_raw_os_error(err)
        } else {
            return Ok(());
        };
        Err(CaptureError::Syscall {
            iface: self.iface.clone(),
            syscall: "poll (socket error, getsockopt(SO_ERROR))",
            source,
        })
    }

    /// Counters since the socket was opened. Reads `PACKET_STATISTICS`
    /// (which the kernel resets on every read) and adds it to the running
    /// totals, so call it from the capture thread only, as often as wanted.
    pub fn stats(&mut self) -> Result<RingStats, CaptureError> {
        let mut st = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st`/`len` are valid for writes of the sizes given; with
        // TPACKET_V3 the kernel fills a tpacket_stats_v3.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut st).cast(),
                &raw mut len,
            )
        };
        if rc != 0 {
            return Err(CaptureError::Syscall {
                iface: self.iface.clone(),
                syscall: "getsockopt(PACKET_STATISTICS)",
                source: io::Error::last_os_error(),
            });
        }
        self.stats.packets += u64::from(st.tp_packets);
        self.stats.drops += u64::from(st.tp_drops);
        self.stats.freeze_q_count += u64::from(st.tp_freeze_q_cnt);
        Ok(self.stats)
    }
}

/// Moves the calling thread into the network namespace `name` (as made by
/// `ip netns add NAME`, i.e. `/var/run/netns/NAME`).
///
/// Only the calling thread changes namespace, and sockets opened afterwards
/// (such as [`AfPacket::open`]) live in it; so call it on a dedicated
/// thread. Used by the capture tests and the daemon's namespace tests to
/// capture inside a test namespace; needs `CAP_SYS_ADMIN`.
pub fn enter_netns(name: &str) -> Result<(), CaptureError> {
    let err = |syscall, source| CaptureError::Netns {
        name: name.to_owned(),
        syscall,
        source,
    };
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(err(
            "open",
            io::Error::new(io::ErrorKind::InvalidInput, "not a namespace name"),
        ));
    }
    let file = File::open(format!("/var/run/netns/{name}"))
        .map_err(|e| err("open(/var/run/netns/NAME)", e))?;
    // SAFETY: setns on an open namespace descriptor; it only changes the
    // calling thread's namespace and touches no memory of ours.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(err("setns(CLONE_NEWNET)", io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 4096;

    /// Builds a block with frames at the given offsets.
    struct Builder {
        block: Vec<u8>,
    }

    impl Builder {
        fn new(num_pkts: u32, first: u32) -> Self {
            let mut block = vec![0u8; BLOCK];
            block[layout::NUM_PKTS..][..4].copy_from_slice(&num_pkts.to_ne_bytes());
            block[layout::OFFSET_TO_FIRST_PKT..][..4].copy_from_slice(&first.to_ne_bytes());
            Builder { block }
        }

        #[allow(clippy::too_many_arguments)]
        fn frame(
            &mut self,
            off: usize,
            next: u32,
            mac: u16,
            snaplen: u32,
            len: u32,
            status: u32,
            data: &[u8],
        ) {
            let put = |b: &mut Vec<u8>, at: usize, v: u32| {
                b[off + at..][..4].copy_from_slice(&v.to_ne_bytes())
            };
            put(&mut self.block, layout::TP_NEXT_OFFSET, next);
            put(&mut self.block, layout::TP_SEC, 7);
            put(&mut self.block, layout::TP_NSEC, 5);
            put(&mut self.block, layout::TP_SNAPLEN, snaplen);
            put(&mut self.block, layout::TP_LEN, len);
            put(&mut self.block, layout::TP_STATUS, status);
            self.block[off + layout::TP_MAC..][..2].copy_from_slice(&mac.to_ne_bytes());
            let start = off + usize::from(mac);
            if start < BLOCK {
                let n = data.len().min(BLOCK - start);
                self.block[start..start + n].copy_from_slice(&data[..n]);
            }
        }
    }

    fn collect(block: &[u8]) -> (Vec<(u64, Vec<u8>, u32)>, BlockWalk) {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let walk = walk_block(block, &mut scratch, |ts, f, l| {
            out.push((ts, f.to_vec(), l))
        });
        (out, walk)
    }

    #[test]
    fn two_frames() {
        let mut b = Builder::new(2, 48);
        b.frame(48, 128, 64, 10, 60, 0, b"0123456789");
        b.frame(176, 0, 64, 3, 3, 0, b"abc");
        let (out, walk) = collect(&b.block);
        assert_eq!(
            walk,
            BlockWalk {
                delivered: 2,
                malformed: 0
            }
        );
        assert_eq!(out[0], (7_000_000_005, b"0123456789".to_vec(), 60));
        assert_eq!(out[1].1, b"abc");
    }

    #[test]
    fn num_pkts_claims_more_than_chain() {
        let mut b = Builder::new(1000, 48);
        b.frame(48, 0, 64, 4, 4, 0, b"abcd");
        let (out, walk) = collect(&b.block);
        assert_eq!(out.len(), 1);
        assert_eq!(
            walk,
            BlockWalk {
                delivered: 1,
                malformed: 999
            }
        );
    }

    #[test]
    fn next_offset_out_of_block_or_backwards() {
        for next in [u32::MAX, BLOCK as u32, 4, 0] {
            let mut b = Builder::new(3, 48);
            b.frame(48, next, 64, 4, 4, 0, b"abcd");
            let (out, walk) = collect(&b.block);
            assert_eq!(out.len(), 1, "next {next}");
            assert_eq!(walk.malformed, 2);
        }
        // A header starting too close to the end of the block.
        let mut b = Builder::new(2, 48);
        b.frame(48, (BLOCK - 48 - 10) as u32, 64, 4, 4, 0, b"abcd");
        let (out, walk) = collect(&b.block);
        assert_eq!((out.len(), walk.malformed), (1, 1));
    }

    #[test]
    fn snaplen_or_mac_past_block_end() {
        let mut b = Builder::new(3, 48);
        b.frame(48, 128, 64, BLOCK as u32, 60, 0, b"x");
        b.frame(176, 128, u16::MAX, 4, 4, 0, b"");
        b.frame(304, 0, 64, u32::MAX, 4, 0, b"");
        let (out, walk) = collect(&b.block);
        assert!(out.is_empty());
        assert_eq!(
            walk,
            BlockWalk {
                delivered: 0,
                malformed: 3
            }
        );
        // Header overlapping the frame data (tp_mac inside the header).
        let mut b = Builder::new(1, 48);
        b.frame(48, 0, 8, 4, 4, 0, b"");
        assert_eq!(collect(&b.block).1.malformed, 1);
    }

    #[test]
    fn bad_first_offset_and_tiny_blocks() {
        let b = Builder::new(5, 0);
        assert_eq!(
            collect(&b.block).1,
            BlockWalk {
                delivered: 0,
                malformed: 5
            }
        );
        let b = Builder::new(5, BLOCK as u32);
        assert_eq!(collect(&b.block).1.malformed, 5);
        for n in 0..64 {
            let _ = collect(&vec![0xff; n]);
        }
    }

    #[test]
    fn vlan_tag_reinserted() {
        let mut b = Builder::new(1, 48);
        let frame: Vec<u8> = (0u8..20).collect();
        b.frame(48, 0, 64, 20, 20, libc::TP_STATUS_VLAN_VALID, &frame);
        let off = 48;
        b.block[off + layout::TP_VLAN_TCI..][..4].copy_from_slice(&0x2064u32.to_ne_bytes());
        let (out, _) = collect(&b.block);
        let mut want = frame[..12].to_vec();
        want.extend_from_slice(&[0x81, 0x00, 0x20, 0x64]);
        want.extend_from_slice(&frame[12..]);
        assert_eq!(out[0].1, want);
        assert_eq!(out[0].2, 24);
        // With a reported TPID (802.1ad).
        let status = libc::TP_STATUS_VLAN_VALID | libc::TP_STATUS_VLAN_TPID_VALID;
        b.frame(48, 0, 64, 20, 20, status, &frame);
        b.block[off + layout::TP_VLAN_TCI..][..4].copy_from_slice(&5u32.to_ne_bytes());
        b.block[off + layout::TP_VLAN_TPID..][..2].copy_from_slice(&0x88a8u16.to_ne_bytes());
        let (out, _) = collect(&b.block);
        assert_eq!(out[0].1[12..16], [0x88, 0xa8, 0x00, 0x05]);
    }

    #[test]
    fn config_checked() {
        let bad = [
            RingConfig {
                block_size: 1000,
                ..RingConfig::default()
            },
            RingConfig {
                block_count: 0,
                ..RingConfig::default()
            },
            RingConfig {
                frame_size: 100,
                ..RingConfig::default()
            },
            RingConfig {
                frame_size: 64,
                ..RingConfig::default()
            },
            RingConfig {
                frame_size: 1 << 21,
                ..RingConfig::default()
            },
        ];
        for cfg in bad {
            let e = check_config("eth9", &cfg).err();
            assert!(matches!(e, Some(CaptureError::Config { .. })), "{cfg:?}");
        }
        assert!(check_config("eth9", &RingConfig::default()).is_ok());
        assert!(matches!(ifindex("a\0b"), Err(CaptureError::Config { .. })));
        assert!(matches!(
            ifindex("rampart-no-such"),
            Err(CaptureError::Config { .. }) | Err(CaptureError::NoSuchInterface { .. })
        ));
        assert!(matches!(
            ifindex("nosuch0"),
            Err(CaptureError::NoSuchInterface { .. })
        ));
    }
}
