#!/usr/bin/env python3
"""Per-sid alert counts of `rampart detect` on bench-real.pcap against
Suricata 7.0.10's reference counts (../shared/corpus/pcaps/*.tsv).

Usage: compare-bench-alerts.py EVE_JSON REFERENCE_TSV
Prints matching / differing sids (a sid matches when its count lies in the
reference's [min, max] over 5 runs) and a closing `sids: N passed, M failed`
line. Exit status is always 0: the figures are reported, not enforced, while
application-layer inspection is still missing.
"""
import collections
import csv
import json
import sys


def main():
    eve, tsv = sys.argv[1], sys.argv[2]
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
    passed = failed = 0
    for sid, (lo, hi, msg) in sorted(ref.items()):
        n = got.get(sid, 0)
        if lo <= n <= hi:
            passed += 1
        else:
            failed += 1
            print(f"DIFF sid {sid}: suricata {lo}-{hi}, rampart {n}  {msg[:70]}")
    for sid in sorted(set(got) - set(ref)):
        print(f"EXTRA sid {sid}: rampart {got[sid]}, suricata 0")
    print(f"total alerts: rampart {sum(got.values())}")
    print(f"sids: {passed} passed, {failed} failed")


if __name__ == "__main__":
    main()
