#!/usr/bin/env bash
# Throughput and memory of `rampart inspect` on the shared benchmark capture,
# side by side with Suricata 7 (no rules) in the same run.
#
#   bench/run.sh [RUNS]          # default 5 runs each, medians reported
#
# Needs ../shared/corpus (for bench-real.pcap.zst and Suricata's config),
# zstd, and optionally Suricata (../shared/tools/install-reference-suricata.sh).
# Nothing here is a test: figures are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
corpus=${RAMPART_CORPUS:-../shared/corpus}
data=bench/data
out=bench/out
mkdir -p "$data" "$out"
pcap=$data/bench-real.pcap
if [ ! -f "$pcap" ]; then
  echo "decompressing bench-real.pcap into $data (ignored by git)"
  zstd -d -q "$corpus/pcaps/bench-real.pcap.zst" -o "$pcap"
fi
cargo build --release -p rampart >/dev/null 2>&1 || cargo build --release -p rampart
bin=target/release/rampart
packets=$("$bin" inspect --no-progress --json "$pcap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
bytes=$(stat -c %s "$pcap")

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One measurement: wall seconds and peak RSS (KiB) of a command.
measure() {
  local log=$1; shift
  /usr/bin/time -f "%e %M" -o "$log.time" "$@" >"$log.out" 2>"$log.err"
  cat "$log.time"
}

echo "benchmark capture: $pcap ($packets packets, $bytes bytes)"
printf '%-34s %10s %12s %10s %10s\n' tool "wall s" "packets/s" "Mbit/s" "peak MiB"

r_times=(); r_rss=()
for i in $(seq "$runs"); do
  read -r t m < <(measure "$out/rampart" "$bin" inspect --no-progress --json "$pcap")
  r_times+=("$t"); r_rss+=("$m")
done
rt=$(printf '%s\n' "${r_times[@]}" | median)
rm_=$(printf '%s\n' "${r_rss[@]}" | median)
printf '%-34s %10.3f %12.0f %10.0f %10.1f\n' "rampart inspect (whole process)" "$rt" "$(echo "$packets/$rt" | bc -l)" "$(echo "$bytes*8/$rt/1000000" | bc -l)" "$(echo "$rm_/1024" | bc -l)"

# Memory is bounded by the caps, not by the capture: the same run with small
# caps shows a smaller peak and counts the evictions it needed.
read -r t m < <(measure "$out/rampart-capped" "$bin" inspect --no-progress --json \
  --flow-memcap 4 --stream-memcap 8 --defrag-memcap 2 "$pcap")
ev=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["flows"]["evicted"], d["reassembly"]["memory_peak_bytes"])' "$out/rampart-capped.out")
printf '%-34s %10.3f %12.0f %10.0f %10.1f   (flows evicted, stream peak bytes: %s)\n' "rampart, caps 4/8/2 MiB" "$t" "$(echo "$packets/$t" | bc -l)" "$(echo "$bytes*8/$t/1000000" | bc -l)" "$(echo "$m/1024" | bc -l)" "$ev"

if command -v suricata >/dev/null 2>&1; then
  rules=$out/empty.rules; : > "$rules"
  s_times=(); s_wall=(); s_rss=()
  for i in $(seq "$runs"); do
    rm -rf "$out/suricata"; mkdir -p "$out/suricata"
    read -r t m < <(measure "$out/suri" suricata -c "$corpus/pcaps/suricata-7.0.10-bench.yaml" \
      --set unix-command.enabled=no -S "$rules" -r "$pcap" -k none --runmode single -l "$out/suricata")
    # Suricata's own engine time (packet processing only, no start-up).
    e=$(grep -ho 'time elapsed [0-9.]*s' "$out/suricata/suricata.log" "$out/suri.out" "$out/suri.err" 2>/dev/null | head -1 | grep -o '[0-9.]*' | head -1)
    s_times+=("${e:-$t}"); s_wall+=("$t"); s_rss+=("$m")
  done
  st=$(printf '%s\n' "${s_times[@]}" | median)
  sw=$(printf '%s\n' "${s_wall[@]}" | median)
  sm=$(printf '%s\n' "${s_rss[@]}" | median)
  printf '%-34s %10.3f %12.0f %10.0f %10.1f\n' "suricata 7 no rules (engine time)" "$st" "$(echo "$packets/$st" | bc -l)" "$(echo "$bytes*8/$st/1000000" | bc -l)" "$(echo "$sm/1024" | bc -l)"
  printf '%-34s %10.3f %12.0f %10.0f %10.1f\n' "suricata 7 no rules (whole process)" "$sw" "$(echo "$packets/$sw" | bc -l)" "$(echo "$bytes*8/$sw/1000000" | bc -l)" "$(echo "$sm/1024" | bc -l)"
  echo "ratio rampart/suricata packets/s: $(echo "$st/$rt" | bc -l | cut -c1-5)x against Suricata's engine time, $(echo "$sw/$rt" | bc -l | cut -c1-5)x whole process"
else
  echo "suricata not installed: run ../shared/tools/install-reference-suricata.sh for the side-by-side figures"
fi
