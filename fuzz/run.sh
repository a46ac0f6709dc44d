#!/usr/bin/env bash
# Runs fuzz targets one after another (one libFuzzer process at a time),
# each for SECONDS (default 600), starting from a working corpus under
# fuzz/corpus/<target> seeded from the committed fuzz/seeds/<target>.
# The seeds themselves are never written to.
#
#   fuzz/run.sh                  # every target in fuzz_targets/, 10 min each
#   SECONDS_PER_TARGET=60 fuzz/run.sh defrag reassembly
#
# Logs go to fuzz/logs/<target>.log (ignored by git with fuzz/corpus and
# fuzz/artifacts); crashes land in fuzz/artifacts/<target>/.
set -u
cd "$(dirname "$0")"
secs="${SECONDS_PER_TARGET:-600}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in fuzz_targets/*.rs; do
        targets+=("$(basename "$src" .rs)")
    done
fi
mkdir -p logs
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp -n "seeds/$t/"* "corpus/$t/" 2>/dev/null || true
    max_len=4096
    case "$t" in pipeline|pcap_reader) max_len=16384 ;; esac
    echo "== $t for ${secs}s"
    cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -max_len="$max_len" -print_final_stats=1 \
        >"logs/$t.log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec' "logs/$t.log" || true
    if [ $rc -ne 0 ]; then
        echo "!! $t exited with $rc; see fuzz/logs/$t.log and fuzz/artifacts/$t/"
        status=1
    fi
done
exit $status
