#!/usr/bin/env python3
"""Regression guard for suricata-verify: every test named in EXPECTED must
pass in REPORT (a `run.py --report` CSV).

Usage: check-expected-pass.py REPORT_CSV EXPECTED_FILE
EXPECTED_FILE holds one test name per line (`#` comments allowed): the tests
Rampart passes today. Prints each regression and a closing
`N passed, M failed` line; exits 1 when an expected test does not pass.
Tests passing that are not listed are printed as candidates to add.
"""

import csv
import sys


def main():
    report, expected_file = sys.argv[1], sys.argv[2]
    results = {row["name"]: row for row in csv.DictReader(open(report))}
    expected = []
    for line in open(expected_file):
        name = line.split("#", 1)[0].strip()
        if name:
            expected.append(name)
    passed = failed = 0
    for name in expected:
        row = results.get(name)
        if row is not None and row["result"] == "PASS":
            passed += 1
        else:
            failed += 1
            detail = row["details"] if row is not None else "not run"
            print(f"FAIL (regression) {name}: {detail}")
    listed = set(expected)
    for name, row in sorted(results.items()):
        if row["result"] == "PASS" and name not in listed:
            print(f"new pass (add to {expected_file}): {name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
