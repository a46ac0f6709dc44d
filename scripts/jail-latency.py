#!/usr/bin/env python3
"""Log line -> kernel ban latency of `rampart run`, end to end.

In a network namespace this script makes (and removes), the daemon runs a
jail (the sample sshd filter, maxretry 1) on a log file. Each trial appends
one `Failed password` line for a fresh address and polls the kernel's ban
set (`nft get element`, in the namespace) until the address is in it; the
latency is from the write to the first successful check. After the trials
the daemon is stopped, the kernel set flushed, the daemon started again:
the bans must come back from its store.

Usage: scripts/jail-latency.py [--trials 1000] [--bin target/release/rampart]
Prints one JSON line and "jail latency: N passed, M failed"; the check
passes when every trial banned and p99 <= 100 ms (--p99-limit).
"""
import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/rampart"))
    ap.add_argument("--p99-limit", type=float, default=0.100)
    ap.add_argument("--poll", type=float, default=0.002)
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("nft"):
        print("jail latency: skipped (needs root and nft)")
        return 0
    ns = f"rjl{os.getpid()}"
    work = tempfile.mkdtemp(prefix="rampart-jail-latency.")
    log = os.path.join(work, "auth.log")
    open(log, "w").close()
    shutil.copy(os.path.join(REPO, "samples/logs/sshd-sample.conf"), os.path.join(work, "sshd.conf"))
    with open(os.path.join(work, "rampart.toml"), "w") as f:
        f.write(f"""[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
[logs]
filter_dir = "."
poll_ms = 5
[jails.sshd]
filter = "sshd"
logpath = ["auth.log"]
backend = "polling"
maxretry = 1
findtime = "10m"
bantime = "1h"
""")
    sh("ip", "netns", "add", ns)
    daemon = None

    def start():
        p = subprocess.Popen(["ip", "netns", "exec", ns, a.bin, "run", "-c", os.path.join(work, "rampart.toml")],
                             stdout=open(os.path.join(work, "daemon.log"), "ab"), stderr=subprocess.STDOUT)
        sock = os.path.join(work, "ctl/ctl.sock")
        for _ in range(300):
            if sh(a.bin, "status", "--socket", sock, check=False).returncode == 0:
                return p
            time.sleep(0.05)
        raise SystemExit("daemon did not start: " + open(os.path.join(work, "daemon.log")).read()[-2000:])

    def banned(ip):
        return sh("ip", "netns", "exec", ns, "nft", "get", "element", "inet", "rampart", "bans_v4",
                  "{ %s }" % ip, check=False).returncode == 0

    try:
        daemon = start()
        lat = []
        missed = 0
        base = int(ipaddress.IPv4Address("10.90.0.1"))
        with open(log, "a") as f:
            for i in range(a.trials):
                ip = str(ipaddress.IPv4Address(base + i))
                stamp = time.strftime("%b %d %H:%M:%S")
                t0 = time.monotonic()
                f.write(f"{stamp} host sshd[{1000 + i}]: Failed password for root from {ip} port 4242 ssh2\n")
                f.flush()
                while True:
                    if banned(ip):
                        lat.append(time.monotonic() - t0)
                        break
                    if time.monotonic() - t0 > 5:
                        missed += 1
                        break
                    time.sleep(a.poll)
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("inf")
        # Restart: flush the kernel set, the store must bring the bans back.
        daemon.terminate()
        daemon.wait(10)
        sh("ip", "netns", "exec", ns, "nft", "flush", "set", "inet", "rampart", "bans_v4")
        daemon = start()
        restored = sum(1 for i in range(0, a.trials, max(1, a.trials // 50))
                       if banned(str(ipaddress.IPv4Address(base + i))))
        sampled = len(range(0, a.trials, max(1, a.trials // 50)))
        res = {"trials": a.trials, "banned": len(lat), "missed": missed,
               "p50_ms": round(q(0.50) * 1000, 1), "p99_ms": round(q(0.99) * 1000, 1),
               "max_ms": round(lat[-1] * 1000, 1) if lat else None,
               "restored_after_restart": f"{restored}/{sampled} sampled"}
        print(json.dumps(res))
        ok = [missed == 0, q(0.99) <= a.p99_limit, restored == sampled]
        print(f"jail latency: {sum(ok)} passed, {len(ok) - sum(ok)} failed")
        return 0 if all(ok) else 1
    finally:
        if daemon:
            daemon.kill()
            daemon.wait()
        sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
