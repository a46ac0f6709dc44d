#!/usr/bin/env bash
# Throughput, peak memory and matched counts of `rampart logs test` on the
# corpus's deterministic 1M-line logs (sshd auth.log, nginx error.log), side
# by side with fail2ban-regex when it is installed.
#
#   bench/logs.sh [RUNS]          # default 3 runs each, medians reported
#
# Needs ../shared/corpus/logs (generators, filters, truth files), python3 and
# GNU time (/usr/bin/time). The logs are generated into target/logbench
# (ignored by git, ~340 MB). Nothing here is a test: figures are printed and
# the matched counts compared with the truth files, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
corpus=${RAMPART_CORPUS:-../shared/corpus}
logs=$corpus/logs
work=target/logbench
mkdir -p "$work"
bash "$logs/bench/gen_logs.sh" "$work" >/dev/null
cargo build --release -p rampart >/dev/null 2>&1 || cargo build --release -p rampart
bin=target/release/rampart
fdir=$logs/filter.d

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run NAME CMD...: prints "cpu_seconds wall_seconds peak_kib matched"
run() {
  local tf out; tf=$(mktemp); out=$(mktemp)
  /usr/bin/time -f '%U %S %e %M' -o "$tf" "$@" >"$out" 2>/dev/null || true
  local matched
  matched=$(grep -m1 -oE '^matched: [0-9]+' "$out" | awk '{print $2}')
  [ -n "$matched" ] || matched=$(grep -m1 -oE '[0-9]+ matched' "$out" | awk '{print $1}')
  awk -v m="${matched:-?}" '{printf "%.3f %.3f %d %s\n", $1+$2, $3, $4, m}' "$tf"
  rm -f "$tf" "$out"
}

printf '%-34s %-14s %10s %14s %12s %10s %10s\n' bench engine matched "lines/cpu-s" "lines/s" "peak MiB" truth
for b in "sshd auth-1M expected_failures_total" \
         "sshd[mode=aggressive] auth-1M -" \
         "nginx-http-auth nginx-error-1M expected_http_auth_failures" \
         "nginx-limit-req nginx-error-1M expected_limit_req_failures"; do
  set -- $b
  spec=$1 log=$work/$2.log key=$3
  truth=$(python3 - "$work/$2.truth.json" "$key" <<'PY'
import json, sys
key = sys.argv[2]
print("417753(f2b)" if key == "-" else json.load(open(sys.argv[1])).get(key, "?"))
PY
)
  engines=("rampart")
  command -v fail2ban-regex >/dev/null && engines+=("fail2ban")
  for e in "${engines[@]}"; do
    cpu=() wall=() rss=() matched=
    # one untimed warm-up run (page cache, CPU clock) for the fast engine
    [ "$e" = rampart ] && "$bin" logs test --filter-dir "$fdir" "$spec" "$log" >/dev/null 2>&1
    for _ in $(seq "$runs"); do
      if [ "$e" = rampart ]; then
        r=$(run "$bin" logs test --filter-dir "$fdir" "$spec" "$log")
      else
        name=${spec%%[*}; opts=${spec#"$name"}
        r=$(run fail2ban-regex --usedns=no --print-no-missed --print-no-ignored "$log" "$fdir/$name.conf$opts")
      fi
      read -r c w m matched <<<"$r"
      cpu+=("$c") wall+=("$w") rss+=("$m")
    done
    c=$(printf '%s\n' "${cpu[@]}" | median); w=$(printf '%s\n' "${wall[@]}" | median)
    m=$(printf '%s\n' "${rss[@]}" | median)
    printf '%-34s %-14s %10s %14.0f %12.0f %10.1f %10s\n' "$spec" "$e" "$matched" \
      "$(echo "1000000 / $c" | bc -l)" "$(echo "1000000 / $w" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$truth"
    if [ "$e" = rampart ]; then
      rc=$c rw=$w
    else
      printf '%-34s %-14s wall %.1fx, cpu %.1fx faster than fail2ban-regex\n' "$spec" ratio \
        "$(echo "$w / $rw" | bc -l)" "$(echo "$c / $rc" | bc -l)"
    fi
  done
done
