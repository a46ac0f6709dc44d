//! Bans N addresses end to end (book decisions, SQLite upsert, kernel
//! add) and prints seconds and bans/s per stage, then compares nft's own
//! JSON and plain-syntax paths for the same elements, and measures the
//! per-packet cost of the ban-set lookup with a near-empty and a full set.
//!
//! Changes the nft ruleset of the network namespace it runs in: run it
//! through `bench/bans.sh`, which makes a throwaway namespace.
//!
//! Usage: bans_bench [COUNT] [--compare]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rampart_policy::{ban_elements, compile, Ban, BanBook, BanOp, BanPolicy, Policy};
use rampart_sys::bans::KernelBans;
use rampart_sys::nft;
use rampart_sys::store::BanStore;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const TABLE: &str = "rampart_bench";

/// xorshift64*: deterministic addresses without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn nft_stdin(args: &[&str], input: &[u8]) -> Res<()> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut s) = child.stdin.take() {
        s.write_all(input)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("nft {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

fn flush_sets() -> Res<()> {
    let text = format!("flush set inet {TABLE} bans_v4\nflush set inet {TABLE} bans_v6\n");
    nft_stdin(&["-f", "-"], text.as_bytes())
}

/// nft's plain syntax for the same elements, built from parsed values only.
fn plain_text(bans: &[Ban]) -> String {
    let mut s = String::new();
    for (v4, set) in [(true, "bans_v4"), (false, "bans_v6")] {
        let elems: Vec<String> = bans
            .iter()
            .filter(|b| b.cidr.is_v4() == v4)
            .map(|b| format!("{} timeout {}s", b.cidr, b.timeout.unwrap_or(3600)))
            .collect();
        if !elems.is_empty() {
            s.push_str(&format!(
                "add element inet {TABLE} {set} {{ {} }}\n",
                elems.join(", ")
            ));
        }
    }
    s
}

/// Nanoseconds per UDP packet sent over loopback from 127.0.0.1 (each one
/// passes the input chain's ban-set lookups).
fn per_packet_ns(packets: u32) -> Res<f64> {
    let rx = UdpSocket::bind("127.0.0.1:0")?;
    let to = rx.local_addr()?;
    let tx = UdpSocket::bind("127.0.0.1:0")?;
    let payload = [0u8; 16];
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..packets {
            let _ = tx.send_to(&payload, to);
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(packets));
    }
    Ok(best)
}

/// True when a packet from `from` reaches a listener on 127.0.0.1.
fn delivered(from: Ipv4Addr) -> Res<bool> {
    let rx = UdpSocket::bind("127.0.0.1:0")?;
    rx.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
    let tx = UdpSocket::bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    tx.send_to(b"x", rx.local_addr()?)?;
    let mut b = [0u8; 4];
    Ok(rx.recv_from(&mut b).is_ok())
}

/// Nanoseconds this thread has run on a CPU (user and system), from
/// /proc/thread-self/schedstat.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn cpu_since(start: u64) -> f64 {
    cpu_ns().saturating_sub(start) as f64 / 1e9
}

type Decided = (Vec<Ban>, Vec<Ban>, Vec<rampart_policy::BanRecord>);

/// Runs every request through the book: (kernel deletions, kernel
/// additions, store records).
fn decide(book: &mut BanBook, targets: &[IpAddr], now: u64) -> Res<Decided> {
    let mut adds = Vec::with_capacity(targets.len());
    let mut removes = Vec::new();
    let mut records = Vec::with_capacity(targets.len());
    for a in targets {
        let d = book.request(*a, None, "bench", "bench", now)?;
        if d.kernel_update {
            removes.extend(d.replaces.iter().map(|c| Ban {
                cidr: *c,
                timeout: None,
            }));
            adds.push(d.ban);
            records.push(d.record);
        }
    }
    Ok((removes, adds, records))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let compare = args.iter().any(|a| a == "--compare");

    let lo = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()?;
    if !lo.success() {
        return Err("ip link set lo up failed".into());
    }
    let policy = Policy::from_toml(&format!("[table]\nname = \"{TABLE}\"\n"))?;
    nft::run_batch(&compile(&policy))?;
    let kb = KernelBans::try_new(TABLE)?;
    let dir = tempfile::tempdir()?;
    let mut store = BanStore::open(&dir.path().join("bans.db"))?;

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let targets: Vec<IpAddr> = (0..count)
        .map(|i| {
            let r = rng.next();
            if i % 2 == 0 {
                // 100.64.0.0/10 and above: never loopback.
                IpAddr::V4(Ipv4Addr::from(
                    0x6440_0000u32 | (r as u32 & 0x003f_ffff) | ((r >> 32) as u32 & 0x1000_0000),
                ))
            } else {
                IpAddr::V6(Ipv6Addr::from(
                    (0x2001_0db8u128 << 96) | u128::from(r) << 32 | u128::from(rng.next() as u32),
                ))
            }
        })
        .collect();
    let mut book = BanBook::new(BanPolicy {
        allowlist: vec!["127.0.0.0/8".parse()?, "::1".parse()?],
        ..BanPolicy::default()
    });
    // A few bans first, for the near-empty lookup baseline.
    for a in ["198.51.100.1", "198.51.100.3", "2001:db8:ffff::1"] {
        let d = book.request(a.parse::<IpAddr>()?, None, "seed", "bench", 0)?;
        kb.add(&[d.ban])?;
    }
    let small = per_packet_ns(200_000)?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average before: {} (wall times suffer when other work shares the CPUs; CPU time less so)",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let (c0, t0) = (cpu_ns(), Instant::now());
    let (removes, adds, records) = decide(&mut book, &targets, now)?;
    let (t_book, c_book) = (t0.elapsed().as_secs_f64(), cpu_since(c0));
    let (c1, t1) = (cpu_ns(), Instant::now());
    store.upsert_many(&records)?;
    let (t_store, c_store) = (t1.elapsed().as_secs_f64(), cpu_since(c1));
    let (c2, t2) = (cpu_ns(), Instant::now());
    kb.apply(&removes, &adds)?;
    let (t_kernel, c_kernel) = (t2.elapsed().as_secs_f64(), cpu_since(c2));
    let total = t0.elapsed().as_secs_f64();

    let t3 = Instant::now();
    let listed = kb.list()?;
    let t_list = t3.elapsed().as_secs_f64();
    let t3n = Instant::now();
    let listed_nft = kb.list_via_nft()?;
    let t_list_nft = t3n.elapsed().as_secs_f64();
    let t4 = Instant::now();
    let rep = kb.reconcile(&book.kernel_bans(now))?;
    let t_rec = t4.elapsed().as_secs_f64();
    let big = per_packet_ns(200_000)?;

    let rate = |n: usize, s: f64| n as f64 / s;
    println!(
        "bans requested: {count} ({} v4, {} v6 widened to /64); book holds {}, kernel lists {}",
        targets.iter().filter(|a| a.is_ipv4()).count(),
        targets.iter().filter(|a| a.is_ipv6()).count(),
        book.len(),
        listed.len()
    );
    println!("stage            wall s   CPU s     bans/s (wall)");
    println!(
        "book decisions   {t_book:6.3}  {c_book:6.3}  {:9.0}",
        rate(count, t_book)
    );
    println!(
        "store upsert     {t_store:6.3}  {c_store:6.3}  {:9.0}",
        rate(records.len(), t_store)
    );
    println!(
        "kernel add       {t_kernel:6.3}  {c_kernel:6.3}  {:9.0}",
        rate(adds.len(), t_kernel)
    );
    println!(
        "end to end       {total:6.3}  {:6.3}  {:9.0}",
        c_book + c_store + c_kernel,
        rate(count, total)
    );

    // Second pass from scratch, the store written on its own thread while
    // the kernel batch goes out (what a daemon with a store thread does).
    flush_sets()?;
    let empty = per_packet_ns(200_000)?;
    let mut book2 = BanBook::new(book.policy().clone());
    let mut store2 = BanStore::open(&dir.path().join("bans2.db"))?;
    let t5 = Instant::now();
    let (removes, adds, records) = decide(&mut book2, &targets, now)?;
    std::thread::scope(|s| -> Res<()> {
        let h = s.spawn(move || store2.upsert_many(&records).map_err(|e| e.to_string()));
        kb.apply(&removes, &adds)?;
        h.join().map_err(|_| "store thread panicked")??;
        Ok(())
    })?;
    println!(
        "end to end with store and kernel in parallel: {:.3} s",
        t5.elapsed().as_secs_f64()
    );
    println!(
        "(then) kernel list: netlink dump {t_list:.3} s, nft -j list {t_list_nft:.3} s ({} elements); reconcile no-op {t_rec:.3} s ({rep:?})",
        listed_nft.len()
    );
    println!(
        "per-packet cost through the input chain (loopback UDP, best of 3 x 200k): {small:.0} ns with 3 elements, {big:.0} ns with {}, {empty:.0} ns with 0",
        listed.len()
    );
    // A banned source is dropped, an unbanned one passes.
    kb.add(&[Ban {
        cidr: "127.0.0.2".parse()?,
        timeout: Some(60),
    }])?;
    println!(
        "check: 127.0.0.1 delivered={} (want true), banned 127.0.0.2 delivered={} (want false)",
        delivered(Ipv4Addr::new(127, 0, 0, 1))?,
        delivered(Ipv4Addr::new(127, 0, 0, 2))?
    );

    if compare {
        println!(
            "alternatives for the same {} elements (kernel stage only):",
            adds.len()
        );
        flush_sets()?;
        let j = ban_elements(TABLE, BanOp::Add, &adds).ok_or("no elements")?;
        let t = Instant::now();
        nft::run_batch(&j)?;
        println!(
            "  nft -j -f - (one JSON batch)      {:.3} s",
            t.elapsed().as_secs_f64()
        );
        flush_sets()?;
        let text = plain_text(&adds);
        let t = Instant::now();
        nft_stdin(&["-f", "-"], text.as_bytes())?;
        println!(
            "  nft -f - (plain syntax, one batch) {:.3} s",
            t.elapsed().as_secs_f64()
        );
        flush_sets()?;
        let t = Instant::now();
        for chunk in adds.chunks(10_000) {
            nft_stdin(&["-f", "-"], plain_text(chunk).as_bytes())?;
        }
        println!(
            "  nft -f - (plain, 10k chunks)       {:.3} s",
            t.elapsed().as_secs_f64()
        );
        flush_sets()?;
        let t = Instant::now();
        kb.add(&adds)?;
        println!(
            "  netlink batch (KernelBans::add)    {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
    nft_stdin(
        &["-f", "-"],
        format!("delete table inet {TABLE}\n").as_bytes(),
    )?;
    Ok(())
}
