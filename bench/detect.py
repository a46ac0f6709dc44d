#!/usr/bin/env python3
"""Detection benchmark: `rampart detect` with a rule set on bench-real.pcap,
side by side with Suricata 7 in the same run.

    bench/detect.py [--runs 5] [--rules FILE] [--no-suricata]

Builds the default binary (Aho-Corasick prefilter) and, when libhyperscan is
installed (pkg-config libhs), the `hyperscan` feature build. For each tool it
prints medians of: rule load-and-compile time, engine time (packets only),
packets/s over engine time, whole-process wall time, peak RSS, and alerts,
with the engine time's spread. The tools take turns (one run of each per
round), so that the machine's drift weighs on all alike.
Nothing here is a test: figures are printed, never asserted.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.environ.get("RAMPART_CORPUS", os.path.join(ROOT, "..", "shared", "corpus"))
DATA = os.path.join(ROOT, "bench", "data")
OUT = os.path.join(ROOT, "bench", "out")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_pcap():
    pcap = os.path.join(DATA, "bench-real.pcap")
    if not os.path.exists(pcap):
        os.makedirs(DATA, exist_ok=True)
        print(f"decompressing bench-real.pcap into {DATA} (ignored by git)", flush=True)
        sh(["zstd", "-d", "-q", os.path.join(CORPUS, "pcaps", "bench-real.pcap.zst"), "-o", pcap])
    return pcap


def build(features, profile):
    """Builds rampart with `features` in cargo profile `profile` and copies
    the binary aside."""
    name = "rampart-" + ("-".join(features) if features else "default")
    cmd = ["cargo", "build", "--profile", profile, "-q", "-p", "rampart"]
    if features:
        cmd += ["--features", ",".join(features)]
    print(f"building {name} (profile {profile}) ...", flush=True)
    sh(cmd, cwd=ROOT)
    dst = os.path.join(OUT, name + ".bin")
    out_dir = "release" if profile == "release" else profile
    shutil.copy(os.path.join(ROOT, "target", out_dir, "rampart"), dst)
    return name, dst


def timed(cmd, log):
    """Runs cmd under /usr/bin/time; returns (wall s, peak KiB, stderr)."""
    tfile = log + ".time"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    with open(tfile) as f:
        rss = int(f.read().strip().splitlines()[-1])
    return wall, rss, p.stderr


def count_alerts(eve):
    n = 0
    with open(eve) as f:
        for line in f:
            if '"event_type":"alert"' in line:
                n += 1
    return n


def run_rampart(binary, pcap, rules, outdir, eve_types):
    os.makedirs(outdir, exist_ok=True)
    wall, rss, err = timed([binary, "detect", "--no-progress", "--eve-types", eve_types,
                            "-r", pcap, "-S", rules, "-l", outdir], outdir + "/run")
    load = float(re.search(r"rejected, in ([0-9.]+) s", err).group(1))
    engine = float(re.search(r"packets in ([0-9.]+) s", err).group(1))
    return dict(load=load, engine=engine, wall=wall, rss=rss,
                alerts=count_alerts(os.path.join(outdir, "eve.json")))


def run_suricata(pcap, rules, outdir):
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    cfg = os.path.join(CORPUS, "pcaps", "suricata-7.0.10-bench.yaml")
    wall, rss, err = timed(["suricata", "-c", cfg, "--set", "unix-command.enabled=no", "-S", rules,
                            "-r", pcap, "-k", "none", "--runmode", "single", "-l", outdir],
                           outdir + "/../suricata-run")
    text = err
    log = os.path.join(outdir, "suricata.log")
    if os.path.exists(log):
        with open(log) as f:
            text += f.read()
    engine = float(re.search(r"time elapsed ([0-9.]+)s", text).group(1))
    return dict(load=wall - engine, engine=engine, wall=wall, rss=rss,
                alerts=count_alerts(os.path.join(outdir, "eve.json")))


def median_of(runs):
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rules", default=os.path.join(CORPUS, "rules", "et-open-enabled.rules"))
    ap.add_argument("--no-suricata", action="store_true")
    # The Suricata config (suricata-7.0.10-bench.yaml) writes alerts (and
    # stats) only; Rampart writes the same by default here, so both do the
    # same output work. "alert,http,dns,tls" adds the app-layer records.
    ap.add_argument("--eve-types", default="alert",
                    help="EVE record types Rampart writes (default: alert, as the Suricata config)")
    ap.add_argument("--profile", default="dist",
                    help="cargo profile to build (default: dist, the LTO build packages use; "
                         "release builds quicker)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    pcap = ensure_pcap()
    tools = []
    if subprocess.run(["pkg-config", "--exists", "libhs"]).returncode == 0:
        tools.append(build(["hyperscan"], args.profile))
    else:
        print("libhyperscan-dev not installed: only the default build is measured")
    tools.append(build([], args.profile))
    packets = json.loads(subprocess.run(
        [tools[-1][1], "inspect", "--no-progress", "--json", pcap],
        capture_output=True, text=True, check=True).stdout)["packets"]

    # Rounds: each tool once per round, so that a drift of the machine's
    # speed during the benchmark weighs on every tool alike.
    with_suricata = not args.no_suricata and shutil.which("suricata") is not None
    if not args.no_suricata and not with_suricata:
        print("suricata not installed: run ../shared/tools/install-reference-suricata.sh for the side-by-side figures")
    all_runs = {name: [] for name, _ in tools}
    if with_suricata:
        all_runs["suricata 7"] = []
    for _ in range(args.runs):
        for name, binary in tools:
            all_runs[name].append(run_rampart(binary, pcap, args.rules, os.path.join(OUT, name + ".out"),
                                              args.eve_types))
        if with_suricata:
            all_runs["suricata 7"].append(run_suricata(pcap, args.rules, os.path.join(OUT, "suricata")))
    results = {name: median_of(runs) for name, runs in all_runs.items()}
    spread = {name: (min(r["engine"] for r in runs), max(r["engine"] for r in runs))
              for name, runs in all_runs.items()}

    print(f"\nrules: {args.rules}\ncapture: {pcap} ({packets} packets); medians of {args.runs} runs; "
          f"Rampart EVE types: {args.eve_types}; cargo profile: {args.profile}")
    print(f"{'tool':<22} {'load s':>8} {'engine s':>9} {'min-max s':>13} {'packets/s':>11} {'wall s':>8} "
          f"{'peak MiB':>9} {'alerts':>7}")
    for name, r in results.items():
        lo, hi = spread[name]
        print(f"{name:<22} {r['load']:>8.2f} {r['engine']:>9.3f} {f'{lo:.2f}-{hi:.2f}':>13} "
              f"{packets / r['engine']:>11.0f} {r['wall']:>8.2f} {r['rss'] / 1024:>9.0f} {r['alerts']:>7.0f}")
    if "suricata 7" in results:
        s = results["suricata 7"]
        for name, r in results.items():
            if name == "suricata 7":
                continue
            print(f"{name}: packets/s {s['engine'] / r['engine']:.2f}x Suricata's, "
                  f"load {r['load'] / s['load']:.3f} of Suricata's, peak RSS {r['rss'] / s['rss']:.2f} of Suricata's")


if __name__ == "__main__":
    main()
