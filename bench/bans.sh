#!/usr/bin/env bash
# Bans 100,000 addresses (half IPv4, half IPv6 widened to /64) end to end
# in a throwaway network namespace and prints seconds and bans/s per stage
# (book, SQLite store, kernel), nft's own paths for comparison, and the
# per-packet cost of the ban lookup with 3 and with 100k elements.
# Needs root and nft. Usage: bench/bans.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"
nice -n 10 cargo build --release -q -p rampart-sys --example bans_bench
ns="rampart-bans-bench-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" target/release/examples/bans_bench "$count" --compare
