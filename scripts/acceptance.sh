#!/usr/bin/env bash
# Corpus acceptance runs (need ../shared/corpus, tshark and zstd). Each check
# prints its own "N passed, M failed" line; the script fails if any check has
# an unexplained failure (see scripts/known-differences.txt).
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=${RAMPART_CORPUS:-../shared/corpus}
cargo build --release -p rampart || exit 1
bin=target/release/rampart
status=0

echo "-- packet counts vs tshark: every suricata-verify capture"
scripts/compare-packet-counts.sh "$bin" "$corpus/suricata-verify" || status=1

echo "-- packet count vs tshark: the benchmark capture"
mkdir -p bench/data
[ -f bench/data/bench-real.pcap ] || zstd -d -q "$corpus/pcaps/bench-real.pcap.zst" -o bench/data/bench-real.pcap
scripts/compare-packet-counts.sh "$bin" bench/data || status=1

echo "-- TCP conversations vs tshark -z conv,tcp"
scripts/compare-tcp-conversations.sh "$bin" "$corpus/suricata-verify" || status=1

echo "-- reassembled stream bytes vs tshark -z follow,tcp,raw"
python3 scripts/compare-streams.py "$bin" "$corpus/suricata-verify/tests" || status=1

exit $status
