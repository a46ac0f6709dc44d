#!/usr/bin/env bash
# Acceptance: every capture under a corpus is read without a panic and its
# packet count equals tshark's (`tshark -r FILE | wc -l`).
# Usage: scripts/compare-packet-counts.sh RAMPART_BIN DIR...
set -u
bin=$1; shift
pass=0; fail=0
while IFS= read -r -d '' f; do
  want=$(tshark -n -r "$f" 2>/dev/null | wc -l)
  out=$("$bin" inspect --json --no-progress "$f" 2>/tmp/rampart-count.err)
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
    echo "FAIL $f: rampart exited $rc: $(head -c 300 /tmp/rampart-count.err)"; fail=$((fail+1)); continue
  fi
  got=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])' 2>/dev/null)
  if [ "$got" = "$want" ]; then pass=$((pass+1)); else echo "FAIL $f: tshark $want rampart $got"; fail=$((fail+1)); fi
done < <(find "$@" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
echo "packet counts: $pass passed, $fail failed"
[ $fail -eq 0 ]
