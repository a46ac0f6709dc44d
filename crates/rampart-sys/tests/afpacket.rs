//! Kernel tests for the AF_PACKET capture: each test makes its own pair of
//! network namespaces joined by a veth (addresses 10.213.x.x inside the
//! namespaces only), captures on one end and sends UDP from the other.
//! They need root and `ip netns`; without them they print why and pass.
//!
//! `cargo test -p rampart-sys --test afpacket -- --nocapture` also prints the
//! capture rate measured by `capture_rate_flood` (flooding from
//! `RAMPART_AFP_RATE_SENDERS` threads, default 1; use `--release`).

// Test code: a failed setup step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rampart_sys::afpacket::{enter_netns, AfPacket, Fanout, FanoutMode, RingConfig, RingStats};

const CAP_ADDR: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 1);
const PEER_ADDR: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 2);
const CAP_MAC: &str = "02:00:5e:d5:00:01";
const PEER_MAC: &str = "02:00:5e:d5:00:02";
const VETH: &str = "veth0";
const DST_PORT: u16 = 9999;
const MAGIC: &[u8; 7] = b"RAMPART";

/// Why the kernel tests cannot run here, if they cannot.
fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some(format!("not root (effective uid {euid:?})"));
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("`ip` not runnable: {e}")),
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Two namespaces joined by a veth (`veth0` in both), deleted on drop, even
/// when the test panics.
struct NetnsPair {
    /// Namespace of the capturing end (10.213.0.1, MAC `CAP_MAC`).
    cap: String,
    /// Namespace of the sending end (10.213.0.2, MAC `PEER_MAC`).
    peer: String,
}

static PAIRS: AtomicUsize = AtomicUsize::new(0);

impl NetnsPair {
    /// Makes the pair, or `Err` with the reason namespaces are unavailable.
    fn new() -> Result<NetnsPair, String> {
        let n = PAIRS.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n}", std::process::id());
        let pair = NetnsPair {
            cap: format!("rampart-afp-{id}-c"),
            peer: format!("rampart-afp-{id}-p"),
        };
        run(&["netns", "add", &pair.cap])?;
        run(&["netns", "add", &pair.peer])?;
        for ns in [&pair.cap, &pair.peer] {
            // No IPv6 (router solicitations, DAD) to keep the link quiet.
            for key in ["all", "default"] {
                let _ = Command::new("ip")
                    .args(["netns", "exec", ns, "sysctl", "-qw"])
                    .arg(format!("net.ipv6.conf.{key}.disable_ipv6=1"))
                    .output();
            }
            run(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        run(&[
            "link", "add", VETH, "netns", &pair.cap, "address", CAP_MAC, "type", "veth", "peer",
            "name", VETH, "netns", &pair.peer, "address", PEER_MAC,
        ])?;
        let sides = [
            (&pair.cap, CAP_ADDR, PEER_ADDR, PEER_MAC),
            (&pair.peer, PEER_ADDR, CAP_ADDR, CAP_MAC),
        ];
        for (ns, me, other, other_mac) in sides {
            run(&["-n", ns, "addr", "add", &format!("{me}/24"), "dev", VETH])?;
            run(&["-n", ns, "link", "set", VETH, "up"])?;
            // Static neighbours: no ARP traffic, no packets queued on ARP.
            let other = other.to_string();
            run(&[
                "-n",
                ns,
                "neigh",
                "replace",
                &other,
                "lladdr",
                other_mac,
                "dev",
                VETH,
                "nud",
                "permanent",
            ])?;
        }
        Ok(pair)
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        // Deleting a namespace destroys its veth end, and with it the pair.
        for ns in [&self.cap, &self.peer] {
            if let Err(e) = run(&["netns", "del", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// Sets up a namespace pair or says why the test is skipped.
fn setup(test: &str) -> Option<NetnsPair> {
    if let Some(reason) = skip_reason() {
        println!("skipping {test}: {reason}");
        return None;
    }
    match NetnsPair::new() {
        Ok(p) => Some(p),
        Err(e) => {
            println!("skipping {test}: network namespaces unavailable: {e}");
            None
        }
    }
}

fn payload(flow: u16, seq: u32, len: usize) -> Vec<u8> {
    let mut p = MAGIC.to_vec();
    p.extend_from_slice(&flow.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    while p.len() < len {
        p.push((p.len() as u8).wrapping_mul(31) ^ seq as u8);
    }
    p
}

/// A test UDP datagram found in a captured frame.
#[derive(Debug)]
struct Udp<'a> {
    src_port: u16,
    dst_port: u16,
    vlan: Option<u16>,
    flow: u16,
    seq: u32,
    payload: &'a [u8],
}

/// Parses an Ethernet (optionally 802.1Q) IPv4 UDP frame carrying a test
/// payload; `None` for anything else.
fn parse(frame: &[u8]) -> Option<Udp<'_>> {
    let mut ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    let mut l3 = 14;
    let mut vlan = None;
    if ethertype == 0x8100 {
        vlan = Some(u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?) & 0x0fff);
        ethertype = u16::from_be_bytes(frame.get(16..18)?.try_into().ok()?);
        l3 = 18;
    }
    if ethertype != 0x0800 {
        return None;
    }
    let ip = frame.get(l3..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if *ip.get(9)? != 17 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    let udp = ip.get(ihl..total)?;
    let payload = udp.get(8..)?;
    if payload.get(..7)? != MAGIC {
        return None;
    }
    Some(Udp {
        src_port: u16::from_be_bytes(udp.get(0..2)?.try_into().ok()?),
        dst_port: u16::from_be_bytes(udp.get(2..4)?.try_into().ok()?),
        vlan,
        flow: u16::from_be_bytes(payload.get(7..9)?.try_into().ok()?),
        seq: u32::from_be_bytes(payload.get(9..13)?.try_into().ok()?),
        payload,
    })
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Sends `count` datagrams per flow from the peer namespace (flow `i` from
/// source port `40000 + i`), in a thread that entered it.
fn send_from_peer(
    peer: &str,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    flows: u16,
    count: u32,
    len: usize,
) -> thread::JoinHandle<()> {
    let peer = peer.to_owned();
    thread::spawn(move || {
        enter_netns(&peer).expect("enter peer netns");
        let socks: Vec<UdpSocket> = (0..flows)
            .map(|f| UdpSocket::bind(SocketAddrV4::new(src, 40000 + f)).expect("bind sender"))
            .collect();
        for seq in 0..count {
            for (f, s) in socks.iter().enumerate() {
                s.send_to(
                    &payload(f as u16, seq, len),
                    SocketAddrV4::new(dst, DST_PORT),
                )
                .expect("send");
            }
            // Pace a little so the veth backlog (netdev_max_backlog) never
            // overflows: these tests count, they do not stress.
            if seq % 16 == 15 {
                thread::sleep(Duration::from_micros(200));
            }
        }
    })
}

/// Opens capture sockets on the capture end, in a thread that entered its
/// namespace, and hands them back (an `AfPacket` is `Send`; its socket stays
/// in the namespace it was made in). Also binds a UDP listener there, kept
/// alive by the caller, so the host answers the test traffic with no ICMP.
fn open_in_cap_ns(pair: &NetnsPair, cfgs: Vec<RingConfig>) -> (Vec<AfPacket>, UdpSocket) {
    let cap = pair.cap.clone();
    thread::spawn(move || {
        enter_netns(&cap).expect("enter capture netns");
        let sink = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, DST_PORT))
            .expect("bind listener");
        let socks = cfgs
            .iter()
            .map(|c| AfPacket::open(VETH, c).expect("AfPacket::open"))
            .collect();
        (socks, sink)
    })
    .join()
    .expect("open thread")
}

fn small_ring() -> RingConfig {
    RingConfig {
        block_size: 1 << 16,
        block_count: 16,
        ..RingConfig::default()
    }
}

#[test]
fn captures_every_packet_with_bytes_length_and_timestamp() {
    let Some(pair) = setup("captures_every_packet") else {
        return;
    };
    const COUNT: u32 = 500;
    const LEN: usize = 100;
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![small_ring()]);
    let cap = &mut socks[0];
    assert_eq!(cap.iface(), VETH);
    let start = now_nanos();
    let sender = send_from_peer(&pair.peer, PEER_ADDR, CAP_ADDR, 1, COUNT, LEN);
    let mut seen = BTreeMap::new();
    let mut other = 0usize;
    let mut n = 0usize;
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < COUNT as usize && Instant::now() < deadline {
        n += cap
            .for_each_packet(Duration::from_millis(50), |ts, frame, orig_len| {
                let Some(udp) = parse(frame) else {
                    other += 1;
                    return;
                };
                assert_eq!(udp.payload, payload(udp.flow, udp.seq, LEN));
                assert_eq!(
                    (udp.src_port, udp.dst_port, udp.vlan),
                    (40000, DST_PORT, None)
                );
                assert_eq!(&frame[..6], &[2, 0, 0x5e, 0xd5, 0, 1], "dst MAC");
                assert_eq!(&frame[6..12], &[2, 0, 0x5e, 0xd5, 0, 2], "src MAC");
                assert_eq!(frame.len(), 14 + 20 + 8 + LEN);
                assert_eq!(orig_len as usize, frame.len());
                assert!(seen.insert(udp.seq, ts).is_none(), "seq {} twice", udp.seq);
            })
            .expect("for_each_packet");
    }
    sender.join().expect("sender");
    // Nothing more must come.
    cap.for_each_packet(Duration::from_millis(100), |_, f, _| {
        assert!(parse(f).is_none(), "a packet after all were seen")
    })
    .expect("for_each_packet");
    let end = now_nanos();
    let stats = cap.stats().expect("stats");
    assert_eq!(
        seen.len(),
        COUNT as usize,
        "captured {} of {COUNT}",
        seen.len()
    );
    for (&seq, &ts) in &seen {
        assert!(
            ts >= start - 1_000_000_000 && ts <= end,
            "seq {seq}: ts {ts} outside [{start}, {end}]"
        );
    }
    // Timestamps follow the sending order.
    let ts: Vec<u64> = seen.values().copied().collect();
    assert!(
        ts.windows(2).all(|w| w[0] <= w[1]),
        "timestamps out of order"
    );
    assert_eq!(stats.drops, 0);
    assert_eq!(stats.malformed, 0);
    assert!(stats.packets >= u64::from(COUNT), "{stats:?}");
    println!("captured {n} frames ({other} not ours), stats {stats:?}");
}

#[test]
fn fanout_hash_spreads_flows_and_keeps_each_on_one_socket() {
    let Some(pair) = setup("fanout_hash") else {
        return;
    };
    const FLOWS: u16 = 16;
    const PER_FLOW: u32 = 40;
    let cfg = RingConfig {
        fanout: Some(Fanout {
            group_id: (std::process::id() & 0xffff) as u16,
            mode: FanoutMode::Hash,
        }),
        ..small_ring()
    };
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![cfg.clone(), cfg]);
    let sender = send_from_peer(&pair.peer, PEER_ADDR, CAP_ADDR, FLOWS, PER_FLOW, 64);
    // (socket, flow) -> seqs
    let mut got: BTreeMap<(usize, u16), Vec<u32>> = BTreeMap::new();
    let mut total = 0usize;
    let want = usize::from(FLOWS) * PER_FLOW as usize;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut tail = 0;
    // Read until all arrived, then a little longer to catch duplicates.
    while tail < 5 && Instant::now() < deadline {
        if total >= want {
            tail += 1;
        }
        for (i, s) in socks.iter_mut().enumerate() {
            s.for_each_packet(Duration::from_millis(10), |_, frame, _| {
                if let Some(udp) = parse(frame) {
                    assert_eq!(udp.src_port, 40000 + udp.flow);
                    got.entry((i, udp.flow)).or_default().push(udp.seq);
                    total += 1;
                }
            })
            .expect("for_each_packet");
        }
    }
    sender.join().expect("sender");
    let stats: Vec<RingStats> = socks
        .iter_mut()
        .map(|s| s.stats().expect("stats"))
        .collect();
    assert_eq!(total, want, "every packet captured exactly once in total");
    let mut per_socket = [0usize; 2];
    for flow in 0..FLOWS {
        let holders: Vec<usize> = got.keys().filter(|k| k.1 == flow).map(|k| k.0).collect();
        assert_eq!(holders.len(), 1, "flow {flow} seen on sockets {holders:?}");
        let seqs = &got[&(holders[0], flow)];
        let unique: BTreeSet<u32> = seqs.iter().copied().collect();
        assert_eq!(
            seqs.len(),
            unique.len(),
            "flow {flow}: a packet captured twice"
        );
        assert_eq!(
            unique,
            (0..PER_FLOW).collect(),
            "flow {flow}: packets missing"
        );
        per_socket[holders[0]] += seqs.len();
    }
    println!("fanout hash: packets per socket {per_socket:?}, stats {stats:?}");
    // 16 flows all on one socket would mean the group is not spreading
    // (probability 2^-15 with a uniform hash).
    assert!(per_socket.iter().all(|&n| n > 0), "{per_socket:?}");
}

/// With `FanoutMode::Hash` the kernel reassembles IPv4 fragments before
/// hashing (`PACKET_FANOUT_FLAG_DEFRAG`): a fragmented datagram reaches one
/// socket as a single reassembled frame, on the same socket as the
/// unfragmented packets of its flow. (So in hash fanout mode the IDS sees
/// the kernel's reassembly, not the fragments.)
#[test]
fn fanout_hash_defrag_delivers_reassembled_datagrams() {
    let Some(pair) = setup("fanout_hash_defrag") else {
        return;
    };
    const FLOWS: u16 = 8;
    const BIG: usize = 3000; // > MTU 1500: sent as 3 fragments
    let cfg = RingConfig {
        fanout: Some(Fanout {
            group_id: 7,
            mode: FanoutMode::Hash,
        }),
        ..small_ring()
    };
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![cfg.clone(), cfg]);
    // Per flow: seq 0 small, seq 1 fragmented, seq 2 small.
    let peer = pair.peer.clone();
    let sender = thread::spawn(move || {
        enter_netns(&peer).expect("enter peer netns");
        for f in 0..FLOWS {
            let s = UdpSocket::bind(SocketAddrV4::new(PEER_ADDR, 40000 + f)).expect("bind");
            let to = SocketAddrV4::new(CAP_ADDR, DST_PORT);
            for (seq, len) in [(0, 64), (1, BIG), (2, 64)] {
                s.send_to(&payload(f, seq, len), to).expect("send");
            }
        }
    });
    let mut got: BTreeMap<u16, Vec<(usize, u32, usize)>> = BTreeMap::new();
    let mut other = 0usize;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut total = 0;
    let mut tail = 0;
    while tail < 5 && Instant::now() < deadline {
        if total >= 3 * usize::from(FLOWS) {
            tail += 1;
        }
        for (i, s) in socks.iter_mut().enumerate() {
            s.for_each_packet(
                Duration::from_millis(10),
                |_, frame, orig_len| match parse(frame) {
                    Some(udp) => {
                        assert_eq!(orig_len as usize, frame.len());
                        let len = udp.payload.len();
                        assert_eq!(udp.payload, payload(udp.flow, udp.seq, len));
                        got.entry(udp.flow).or_default().push((i, udp.seq, len));
                        total += 1;
                    }
                    None => other += 1,
                },
            )
            .expect("for_each_packet");
        }
    }
    sender.join().expect("sender");
    assert_eq!(other, 0, "fragments delivered as separate frames");
    for f in 0..FLOWS {
        let pkts = &got[&f];
        let want: Vec<(u32, usize)> = vec![(0, 64), (1, BIG), (2, 64)];
        let seen: Vec<(u32, usize)> = pkts.iter().map(|&(_, s, l)| (s, l)).collect();
        assert_eq!(seen, want, "flow {f}");
        assert!(
            pkts.iter().all(|p| p.0 == pkts[0].0),
            "flow {f} split: {pkts:?}"
        );
    }
}

#[test]
fn stats_count_packets_and_drops_and_accumulate() {
    let Some(pair) = setup("stats") else {
        return;
    };
    const COUNT: u32 = 400;
    // Two 4 KiB blocks: a few dozen packets fill the ring.
    let cfg = RingConfig {
        block_size: 4096,
        block_count: 2,
        frame_size: 2048,
        ..RingConfig::default()
    };
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![cfg]);
    let cap = &mut socks[0];
    assert_eq!(cap.stats().expect("stats"), RingStats::default());
    // Fill the ring while nothing is read.
    send_from_peer(&pair.peer, PEER_ADDR, CAP_ADDR, 1, COUNT, 100)
        .join()
        .expect("sender");
    thread::sleep(Duration::from_millis(50));
    let full = cap.stats().expect("stats");
    assert!(full.packets >= u64::from(COUNT), "{full:?}");
    assert!(full.drops > 0, "a full ring must drop: {full:?}");
    assert!(full.freeze_q_count > 0, "{full:?}");
    let mut read = 0u64;
    let mut ours = 0u64;
    let mut idle = 0;
    while idle < 3 {
        let n = cap
            .for_each_packet(Duration::from_millis(30), |_, f, _| {
                read += 1;
                ours += u64::from(parse(f).is_some());
            })
            .expect("for_each_packet");
        idle = if n == 0 { idle + 1 } else { 0 };
    }
    let after = cap.stats().expect("stats");
    // Totals accumulate across reads although the kernel resets its own.
    assert!(
        after.packets >= full.packets && after.drops >= full.drops,
        "{after:?} vs {full:?}"
    );
    assert_eq!(
        after.packets,
        read + after.drops,
        "every packet read or dropped: {after:?}, read {read}"
    );
    assert_eq!(
        ours + after.drops,
        u64::from(COUNT),
        "{after:?}, ours {ours}"
    );
    println!("stats: {after:?}, read {read}");
}

/// An Ethernet frame with an in-band 802.1Q tag carrying a test datagram.
fn tagged_frame(tci: u16, seq: u32, len: usize) -> Vec<u8> {
    let data = payload(0, seq, len);
    let mut f = vec![2, 0, 0x5e, 0xd5, 0, 1, 2, 0, 0x5e, 0xd5, 0, 2, 0x81, 0x00];
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&((20 + 8 + data.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&PEER_ADDR.octets());
    ip.extend_from_slice(&CAP_ADDR.octets());
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&DST_PORT.to_be_bytes());
    f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]); // no UDP checksum
    f.extend_from_slice(&data);
    f
}

/// The receiving kernel moves an in-band VLAN tag into the packet's
/// metadata (`skb_vlan_untag`) before packet sockets see it, just as a NIC
/// with VLAN offload does; the capture must put it back. The tagged frames
/// are sent raw with Python's AF_PACKET socket from the peer namespace
/// (no 8021q module or tc action needed).
#[test]
fn vlan_tag_moved_to_metadata_is_reinserted() {
    let Some(pair) = setup("vlan") else {
        return;
    };
    const COUNT: u32 = 20;
    const LEN: usize = 80;
    const TCI: u16 = 0x6064; // PCP 3, VLAN 100
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![small_ring()]);
    let cap = &mut socks[0];
    let frames: Vec<String> = (0..COUNT)
        .map(|seq| {
            tagged_frame(TCI, seq, LEN)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect();
    let script = "import socket, sys\n\
                  s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
                  s.bind((sys.argv[1], 0))\n\
                  for h in sys.argv[2:]: s.send(bytes.fromhex(h))\n";
    let out = Command::new("ip")
        .args(["netns", "exec", &pair.peer, "python3", "-c", script, VETH])
        .args(&frames)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            println!(
                "skipping vlan: python3 could not send raw frames: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("skipping vlan: python3 not runnable: {e}");
            return;
        }
    }
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < COUNT as usize && Instant::now() < deadline {
        cap.for_each_packet(Duration::from_millis(50), |_, frame, orig_len| {
            if let Some(udp) = parse(frame) {
                assert_eq!(frame, tagged_frame(TCI, udp.seq, LEN), "frame as sent");
                assert_eq!(udp.vlan, Some(100));
                assert_eq!(orig_len as usize, frame.len());
                seen.insert(udp.seq);
            }
        })
        .expect("for_each_packet");
    }
    assert_eq!(seen, (0..COUNT).collect());
}

#[test]
fn capture_rate_flood() {
    let Some(pair) = setup("capture_rate_flood") else {
        return;
    };
    const SECS: u64 = 2;
    let cfg = RingConfig {
        block_size: 1 << 20,
        block_count: 16,
        ..RingConfig::default()
    };
    let (mut socks, _sink) = open_in_cap_ns(&pair, vec![cfg]);
    let cap = &mut socks[0];
    // RAMPART_AFP_RATE_SENDERS=n floods from n sockets/threads (default 1).
    let senders: u16 = std::env::var("RAMPART_AFP_RATE_SENDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let senders: Vec<thread::JoinHandle<u64>> = (0..senders)
        .map(|i| {
            let peer = pair.peer.clone();
            thread::spawn(move || {
                enter_netns(&peer).expect("enter peer netns");
                let s = UdpSocket::bind(SocketAddrV4::new(PEER_ADDR, 40000 + i)).expect("bind");
                s.connect(SocketAddrV4::new(CAP_ADDR, DST_PORT))
                    .expect("connect");
                let p = payload(i, 0, 18); // 60-byte frames
                let end = Instant::now() + Duration::from_secs(SECS);
                let mut sent = 0u64;
                while Instant::now() < end {
                    for _ in 0..64 {
                        if s.send(&p).is_ok() {
                            sent += 1;
                        }
                    }
                }
                sent
            })
        })
        .collect();
    let mut ours = 0u64;
    let mut bytes = 0u64;
    let start = Instant::now();
    let mut last = start;
    while !senders.iter().all(|s| s.is_finished()) || last.elapsed() < Duration::from_millis(200) {
        let n = cap
            .for_each_packet(Duration::from_millis(50), |_, f, _| {
                bytes += f.len() as u64;
                ours += u64::from(parse(f).is_some());
            })
            .expect("for_each_packet");
        if n > 0 {
            last = Instant::now();
        }
        if start.elapsed() > Duration::from_secs(SECS + 5) {
            break;
        }
    }
    let sent: u64 = senders.into_iter().map(|s| s.join().expect("sender")).sum();
    let stats = cap.stats().expect("stats");
    let secs = last.duration_since(start).as_secs_f64().max(1e-3);
    println!(
        "capture rate: sent {sent} in {SECS} s ({:.0} pps offered), captured {ours} in {secs:.2} s \
         = {:.0} packets/s ({:.1} MB/s), ring drops {}, freezes {}, kernel packets {}",
        sent as f64 / SECS as f64,
        ours as f64 / secs,
        bytes as f64 / secs / 1e6,
        stats.drops,
        stats.freeze_q_count,
        stats.packets
    );
    assert!(ours > 0);
}
