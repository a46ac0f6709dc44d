#!/usr/bin/env bash
# Corpus acceptance runs (need ../shared/corpus, tshark and zstd).
# Prints one "N passed, M failed" line per check and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${RAMPART_CORPUS:-../shared/corpus}
cargo build --release -p rampart
bin=target/release/rampart
status=0

echo "-- packet counts vs tshark on every suricata-verify capture"
scripts/compare-packet-counts.sh "$bin" "$corpus/suricata-verify" || status=1

exit $status
