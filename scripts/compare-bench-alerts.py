#!/usr/bin/env python3
"""Per-sid alert counts of `rampart detect` on bench-real.pcap against
Suricata 7.0.10's reference counts (../shared/corpus/pcaps/*.tsv).

Usage: compare-bench-alerts.py EVE_JSON REFERENCE_TSV [--inactive FILE]

A sid matches when its count lies in the reference's [min, max] over 5 runs.
With --inactive (the output of `rampart rules check --list-inactive`), sids
whose rules Rampart loads but cannot inspect yet (application-layer
buffers) are counted apart: only the sids whose keywords are implemented
are held to Suricata's counts. Differences listed in
scripts/known-differences.txt as `bench-sid N  # reason` are reported as
KNOWN. Exit status 1 when an implemented sid differs without a known
reason, or Rampart alerts on a sid Suricata never raised.
"""

import collections
import csv
import json
import os
import sys


def load_known():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "known-differences.txt")
    known = {}
    for line in open(path):
        body, _, reason = line.partition("#")
        parts = body.split()
        if len(parts) == 2 and parts[0] == "bench-sid":
            known[int(parts[1])] = reason.strip()
    return known


def main():
    args = sys.argv[1:]
    inactive = set()
    if "--inactive" in args:
        i = args.index("--inactive")
        for line in open(args[i + 1]):
            key = line.split("\t", 1)[0]
            if ":" in key:
                inactive.add(int(key.split(":")[1]))
        del args[i:i + 2]
    eve, tsv = args[0], args[1]
    got = collections.Counter()
    with open(eve) as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("event_type") == "alert":
                got[rec["alert"]["signature_id"]] += 1
    ref = {}
    with open(tsv) as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if row and row[0] != "sid":
                ref[int(row[0])] = (int(row[1]), int(row[2]), row[-1])
    known = load_known()
    passed = failed = waiting = known_n = 0
    for sid, (lo, hi, msg) in sorted(ref.items()):
        n = got.get(sid, 0)
        if sid in inactive:
            waiting += 1
        elif lo <= n <= hi:
            passed += 1
        elif sid in known:
            known_n += 1
            print(f"KNOWN sid {sid}: suricata {lo}-{hi}, rampart {n}  ({known[sid]})")
        else:
            failed += 1
            print(f"DIFF sid {sid}: suricata {lo}-{hi}, rampart {n}  {msg[:70]}")
    for sid in sorted(set(got) - set(ref)):
        if sid in known:
            known_n += 1
            print(f"KNOWN sid {sid}: rampart {got[sid]}, suricata 0  ({known[sid]})")
        else:
            failed += 1
            print(f"EXTRA sid {sid}: rampart {got[sid]}, suricata 0")
    print(f"total alerts: rampart {sum(got.values())}; "
          f"{waiting} reference sids need application-layer inspection (not compared)")
    print(f"sids: {passed} passed, {failed} failed" + (f", {known_n} known" if known_n else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
