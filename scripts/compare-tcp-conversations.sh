#!/usr/bin/env bash
# Acceptance: the number of TCP flows Rampart tracks equals the number of TCP
# conversations tshark lists (`tshark -q -z conv,tcp`), capture by capture.
# Captures listed in scripts/known-differences.txt are reported as KNOWN.
# Usage: scripts/compare-tcp-conversations.sh RAMPART_BIN DIR...
set -u
bin=$1; shift
known_file="$(dirname "$0")/known-differences.txt"
is_known() {
  local k
  for k in $(grep -v '^#' "$known_file" | awk 'NF {print $1}'); do
    case "$1" in *"$k") return 0;; esac
  done
  return 1
}
pass=0; fail=0; known=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
while IFS= read -r -d '' f; do
  want=$(tshark -n -q -r "$f" -z conv,tcp 2>/dev/null | grep -c '<->')
  [ "$want" -gt 0 ] || continue
  "$bin" inspect --no-progress --json --flows "$tmp/flows.json" "$f" >/dev/null 2>&1
  got=$(grep -c '"proto":"TCP"' "$tmp/flows.json" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then
    pass=$((pass+1))
  elif is_known "$f"; then
    echo "KNOWN $f: tshark $want rampart ${got:-none}"; known=$((known+1))
  else
    echo "FAIL $f: tshark $want rampart ${got:-none}"; fail=$((fail+1))
  fi
done < <(find "$@" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 | sort -z)
echo "tcp conversations: $pass passed, $fail failed ($known known differences)"
[ $fail -eq 0 ]
