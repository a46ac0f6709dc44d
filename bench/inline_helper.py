#!/usr/bin/env python3
"""Helpers for bench/inline.sh (standard library only).

  echo-server PORT                   TCP echo server (one thread per connection)
  echo-client HOST PORT COUNT SIZE [SRC]  sequential request/response round trips on
                                     one connection; prints JSON with p50/p99 (us)
  tcp-probe SRC HOST PORT            one 64-byte round trip from source address SRC
  iperf JSON_FILE                    prints "gbit_per_s retransmits bytes" of an
                                     iperf3 -J result (receiver side)
  suricata-stats EVE_JSON            prints "pkts bytes" of Suricata's last stats
                                     record (decoder counters)
  rampart-status STATUS_JSON         prints "packets bytes" of `rampart status`
  nfq-proc FILE                      /proc/net/netfilter/nfnetlink_queue as JSON
  report RESULTS_JSONL               the summary table
"""
import json
import math
import socket
import statistics
import sys
import threading
import time


def echo_server(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)

    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise RuntimeError("connection closed by the echo server")
        buf += d
    return bytes(buf)


def pct(sorted_vals, p):
    # nearest-rank percentile
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def echo_client(host, port, count, size, src=None):
    s = socket.create_connection((host, port), timeout=5, source_address=(src, 0) if src else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * size
    for _ in range(min(200, count)):  # warm-up: flow set up, caches, paths
        s.sendall(msg)
        recv_exact(s, size)
    rtts = []
    clock = time.perf_counter_ns
    for _ in range(count):
        t0 = clock()
        s.sendall(msg)
        recv_exact(s, size)
        rtts.append((clock() - t0) / 1000.0)
    s.close()
    rtts.sort()
    print(json.dumps({
        "n": count,
        "p50_us": round(pct(rtts, 50), 1),
        "p99_us": round(pct(rtts, 99), 1),
        "mean_us": round(statistics.fmean(rtts), 1),
        "max_us": round(rtts[-1], 1),
    }))


def tcp_probe(src, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    s.sendall(b"p" * 64)
    recv_exact(s, 64)
    s.close()


def iperf(path):
    with open(path) as f:
        j = json.load(f)
    if "error" in j:
        raise SystemExit(f"iperf3 error: {j['error']}")
    end = j["end"]
    recv = end["sum_received"]
    sent = end.get("sum_sent", {})
    print(f"{recv['bits_per_second'] / 1e9:.3f} {sent.get('retransmits', 0)} {recv['bytes']}")


def suricata_stats(path):
    last = None
    with open(path, errors="replace") as f:
        for line in f:
            if '"event_type":"stats"' in line:
                last = line
    if last is None:
        print("0 0")
        return
    st = json.loads(last)["stats"]
    dec = st.get("decoder", {})
    print(f"{dec.get('pkts', 0)} {dec.get('bytes', 0)}")


def rampart_status(path):
    with open(path) as f:
        j = json.load(f)
    t = j.get("totals", {})
    print(f"{t.get('packets', 0)} {t.get('bytes', 0)}")


def nfq_proc(path):
    names = ["queue", "portid", "waiting", "copy_mode", "copy_range",
             "queue_dropped", "user_dropped", "id_sequence", "one"]
    out = []
    with open(path) as f:
        for line in f:
            vals = [int(v) for v in line.split()]
            out.append({k: v for k, v in zip(names, vals) if k not in ("one", "copy_mode", "copy_range", "portid")})
    print(json.dumps(out))


def fmt(v, spec):
    if v is not None:
        return format(v, spec)
    digits = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
    return "-".rjust(int(digits) if digits else 1)


def report(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    modes = []
    for r in rows:
        if r["mode"] not in modes:
            modes.append(r["mode"])
    by = {m: {} for m in modes}
    for r in rows:
        by[r["mode"]].setdefault(r["kind"], []).append(r)
    streams = sorted({r["streams"] for r in rows if r["kind"] == "iperf"})

    def med_gbps(m, p):
        v = [r["gbps"] for r in by[m].get("iperf", []) if r["streams"] == p]
        return statistics.median(v) if v else None

    def runs(m, p):
        return [r["gbps"] for r in by[m].get("iperf", []) if r["streams"] == p]

    def med_retr(m, p):
        v = [r["retransmits"] for r in by[m].get("iperf", []) if r["streams"] == p]
        return int(statistics.median(v)) if v else None

    def lat(m):
        l = by[m].get("latency")
        return l[0] if l else None

    def info(m):
        l = by[m].get("info")
        return l[0] if l else {}

    suri = next((m for m in modes if m.startswith("suricata")), None)
    plain = "plain" if "plain" in modes else None

    hdr = f"{'mode':<13}{'P':>2} {'Gbit/s':>7} {'runs':<20}{'retr':>6} {'x suri':>7} {'cpu%':>5}  " \
          f"{'p50 us':>7} {'p99 us':>7} {'+p50':>6} {'+p99':>6} {'peak MiB':>8} {'inspected':>9}"
    print(hdr)
    print("-" * len(hdr))
    for m in modes:
        la = lat(m)
        pl = lat(plain) if plain else None
        inf = info(m)
        for i, p in enumerate(streams):
            g = med_gbps(m, p)
            sg = med_gbps(suri, p) if suri else None
            ratio = (g / sg) if (g is not None and sg) else None
            cpu = [r.get("cpu_pct") for r in by[m].get("iperf", []) if r["streams"] == p and r.get("cpu_pct") is not None]
            cpu = statistics.median(cpu) if cpu else None
            rs = ",".join(f"{x:.2f}" for x in runs(m, p))
            first = i == 0
            p50 = la["p50_us"] if (la and first) else None
            p99 = la["p99_us"] if (la and first) else None
            a50 = (la["p50_us"] - pl["p50_us"]) if (la and pl and first and m != plain) else None
            a99 = (la["p99_us"] - pl["p99_us"]) if (la and pl and first and m != plain) else None
            rss = inf.get("peak_kib") / 1024 if (first and inf.get("peak_kib")) else None
            insp = inf.get("inspected_pct") if first else None
            print(f"{m if first else '':<13}{p:>2} {fmt(g, '7.2f')} {rs:<20}{fmt(med_retr(m, p), '6d')} "
                  f"{fmt(ratio, '6.2f') + ('x' if ratio is not None else ''):>7} {fmt(cpu, '5.0f')}  "
                  f"{fmt(p50, '7.0f')} {fmt(p99, '7.0f')} {fmt(a50, '+6.0f')} {fmt(a99, '+6.0f')} "
                  f"{fmt(rss, '8.1f')} {fmt(insp, '8.1f') + ('%' if insp is not None else ''):>9}")
    print()
    print("P: parallel iperf3 streams; Gbit/s: median of the runs (receiver side); retr: median TCP")
    print("retransmits per run; x suri: throughput / Suricata's at the same P; cpu%: CPU of the")
    print("IPS process during the iperf3 runs (100 = one core); p50/p99: round trip of one 64-byte")
    print("request/response on a TCP connection through the router (+: added vs plain forwarding);")
    print("peak MiB: VmHWM of the IPS process; inspected: bytes the IPS saw / bytes the NFQUEUE rule")
    print("matched over the whole mode (~103% for an engine fed segmented packets; well under 100%:")
    print("packets that never reached the engine, accepted uninspected when failing open (-fc rows:")
    print("dropped), e.g. when the netlink socket's receive buffer overflowed).")


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    cmd = a[0]
    if cmd == "echo-server":
        echo_server(int(a[1]))
    elif cmd == "echo-client":
        echo_client(a[1], int(a[2]), int(a[3]), int(a[4]), a[5] if len(a) > 5 else None)
    elif cmd == "tcp-probe":
        tcp_probe(a[1], a[2], int(a[3]))
    elif cmd == "iperf":
        iperf(a[1])
    elif cmd == "suricata-stats":
        suricata_stats(a[1])
    elif cmd == "rampart-status":
        rampart_status(a[1])
    elif cmd == "nfq-proc":
        nfq_proc(a[1])
    elif cmd == "report":
        report(a[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
