#!/usr/bin/env bash
# Inline (NFQUEUE) throughput and latency through a namespace router, in one
# run: plain forwarding, Suricata 7 in NFQ mode, and `rampart run` with one
# and two queues, all with the same rules (issue 5's benchmark).
#
#   sudo bench/inline.sh
#
# Three network namespaces (client, router, server) with veth pairs are made
# for this run under unique names and deleted at exit, with everything that
# runs inside them (iperf3, the echo server, Suricata, Rampart) and all the
# iptables/nft state they hold. Figures are printed, never asserted.
#
# Environment:
#   N=3              iperf3 runs per mode and stream count (median reported)
#   T=10             seconds per iperf3 run
#   STREAMS="1 2"    parallel streams to measure (P). P streams are P iperf3
#                    clients, each from its own client address to its own
#                    server port: NFQUEUE's --queue-balance hashes on the
#                    address pair (and protocol) only, so every stream between
#                    one pair of hosts lands on the same queue. In multi-queue
#                    modes the client addresses are picked by probing so that
#                    the streams spread over the queues, as many hosts would.
#   LAT_N=5000       request/response round trips for the latency figures
#   RULES=FILE       rule file for both engines (default: 2 rules, written
#                    here, like the 1.06 Gbit/s Suricata reference figure);
#                    e.g. RULES=/work/shared/corpus/rules/et-open-enabled.rules
#   HOME_NET=CIDR    HOME_NET for both engines (default: the server subnet, so
#                    client->server traffic is EXTERNAL_NET -> HOME_NET)
#   MODES="plain suricata rampart-1q rampart-2q rampart-1q-fc rampart-2q-fc"
#                    also: suricata-2q, suricata-fc. "-fc" runs fail-closed (no
#                    --queue-bypass, no fail-open: what the engine can really
#                    inspect); the others fail open as configured in production,
#                    where an engine that cannot keep up lets packets through
#                    uninspected (the "inspected" column shows how many).
#   RAMPART=PATH     rampart binary (default: build and use target/release)
#   SURICATA_YAML=   Suricata's base config (default /etc/suricata/suricata.yaml;
#                    NFQ settings are overridden with --set)
#   READY_TIMEOUT=180  seconds to wait for an engine to load its rules
#   PERF=1           also `perf record` the first Rampart daemon during one
#                    iperf3 run and print its hottest functions
#   KEEP=1           keep the work directory (logs, eve.json, perf data)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
helper="$here/inline_helper.py"

N=${N:-3}
T=${T:-10}
STREAMS=${STREAMS:-"1 2"}
LAT_N=${LAT_N:-5000}
MODES=${MODES:-"plain suricata rampart-1q rampart-2q rampart-1q-fc rampart-2q-fc"}
READY_TIMEOUT=${READY_TIMEOUT:-180}
SURICATA_YAML=${SURICATA_YAML:-/etc/suricata/suricata.yaml}
PERF=${PERF:-0}
KEEP=${KEEP:-0}
IPERF_PORT=5201
ECHO_PORT=7007

die() { echo "inline.sh: error: $*" >&2; exit 1; }
note() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, iptables, NFQUEUE)"
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}
need ip "install iproute2"
need iperf3 "apt-get install -y iperf3"
need iptables "apt-get install -y iptables (the iptables-nft NFQUEUE target is used)"
need nft "apt-get install -y nftables"
need python3 "install python3"
need timeout "install coreutils"
case " $MODES " in
  *" suricata"*) need suricata "run /work/shared/tools/install-reference-suricata.sh (Suricata 7), or leave suricata out of MODES"
    [ -f "$SURICATA_YAML" ] || die "Suricata config $SURICATA_YAML not found (set SURICATA_YAML)";;
esac
if [ "$PERF" = 1 ]; then need perf "apt-get install -y linux-perf"; fi
ip netns add "rbench-probe-$$" 2>/dev/null || die "cannot create network namespaces here"
ip netns del "rbench-probe-$$"

# ---- the rampart binary -------------------------------------------------
case " $MODES " in *" rampart"*)
  if [ -z "${RAMPART:-}" ]; then
    note "building rampart (release)"
    (cd "$root" && nice -n 10 cargo build --release -q -p rampart) || die "cargo build failed"
    RAMPART=$root/target/release/rampart
  fi
  [ -x "$RAMPART" ] || die "RAMPART=$RAMPART is not an executable"
  "$RAMPART" run --help >/dev/null 2>&1 || die "$RAMPART has no 'run' subcommand (stale binary?)"
  RAMPART=$(realpath "$RAMPART");;
esac

# ---- work directory, rules ----------------------------------------------
mkdir -p "$root/bench/out"
work=$(mktemp -d "$root/bench/out/inline.XXXXXX")
results=$work/results.jsonl
: > "$results"
if [ -n "${RULES:-}" ]; then
  [ -f "$RULES" ] || die "RULES=$RULES is not a file"
  rules=$(realpath "$RULES")
else
  rules=$work/bench.rules
  cat > "$rules" <<'EOF'
alert tcp any any -> any 5201:5216 (msg:"bench: content on the iperf3 port, never matches"; flow:established,to_server; content:"RAMPART-BENCH-NEVER-MATCHES"; sid:9100001; rev:1;)
alert http any any -> any any (msg:"bench: http uri, never matches"; flow:established,to_server; http.uri; content:"/rampart-bench-never"; sid:9100002; rev:1;)
EOF
fi
maxp=1
for p in $STREAMS; do
  [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 16 ] || die "STREAMS: $p is not in 1..16"
  [ "$p" -gt "$maxp" ] && maxp=$p
done
nrules=$(grep -cE '^[[:space:]]*(alert|drop|reject|pass)' "$rules" || true)

# ---- namespaces -----------------------------------------------------------
id=$$
ns_c=rbench-$id-client
ns_r=rbench-$id-router
ns_s=rbench-$id-server
c_if=rb${id}c; rc_if=rb${id}rc; s_if=rb${id}s; rs_if=rb${id}rs
net_c=10.213.101; net_s=10.213.102
server_ip=$net_s.2
HOME_NET=${HOME_NET:-$net_s.0/24}

cleanup() {
  local rc=$?
  set +e
  for ns in "$ns_c" "$ns_r" "$ns_s"; do
    ip netns list 2>/dev/null | grep -qw "$ns" || continue
    # Everything running in these namespaces was started by this script.
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill $pids 2>/dev/null
  done
  for _ in $(seq 30); do
    local left=""
    for ns in "$ns_c" "$ns_r" "$ns_s"; do
      ip netns list 2>/dev/null | grep -qw "$ns" && left="$left$(ip netns pids "$ns" 2>/dev/null)"
    done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for ns in "$ns_c" "$ns_r" "$ns_s"; do
    ip netns list 2>/dev/null | grep -qw "$ns" || continue
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "$c_if" 2>/dev/null; ip link del "$s_if" 2>/dev/null
  if [ "$KEEP" = 1 ] || [ $rc -ne 0 ]; then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note "namespaces $ns_c / $ns_r / $ns_s, work dir $work"
for ns in "$ns_c" "$ns_r" "$ns_s"; do ip netns add "$ns"; done
ip link add "$c_if" type veth peer name "$rc_if"
ip link add "$s_if" type veth peer name "$rs_if"
ip link set "$c_if" netns "$ns_c"; ip link set "$rc_if" netns "$ns_r"
ip link set "$s_if" netns "$ns_s"; ip link set "$rs_if" netns "$ns_r"
for k in $(seq 2 17); do ip -n "$ns_c" addr add "$net_c.$k/24" dev "$c_if"; done
ip -n "$ns_r" addr add "$net_c.1/24" dev "$rc_if"
ip -n "$ns_r" addr add "$net_s.1/24" dev "$rs_if"
ip -n "$ns_s" addr add "$server_ip/24" dev "$s_if"
for ns in "$ns_c" "$ns_r" "$ns_s"; do ip -n "$ns" link set lo up; done
ip -n "$ns_c" link set "$c_if" up
ip -n "$ns_r" link set "$rc_if" up
ip -n "$ns_r" link set "$rs_if" up
ip -n "$ns_s" link set "$s_if" up
ip -n "$ns_c" route add default via "$net_c.1"
ip -n "$ns_s" route add default via "$net_s.1"
ip netns exec "$ns_r" sysctl -qw net.ipv4.ip_forward=1

for k in $(seq 0 $((maxp - 1))); do
  ip netns exec "$ns_s" iperf3 -s -p $((IPERF_PORT + k)) >"$work/iperf3-server-$k.log" 2>&1 &
done
ip netns exec "$ns_s" python3 "$helper" echo-server "$ECHO_PORT" >"$work/echo-server.log" 2>&1 &

wait_for() { # seconds description command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
wait_for 10 "servers" ip netns exec "$ns_c" bash -c "exec 3<>/dev/tcp/$server_ip/$((IPERF_PORT + maxp - 1)) && exec 4<>/dev/tcp/$server_ip/$ECHO_PORT" \
  || die "iperf3 or echo server did not come up in the server namespace (see $work)"

# ---- measurements ---------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime of the whole process
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
peak_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Client source addresses for this mode's streams (set by choose_addrs).
CLIENT_ADDRS=()
default_addrs() { CLIENT_ADDRS=(); for k in $(seq 2 17); do CLIENT_ADDRS+=("$net_c.$k"); done; }
default_addrs

queue_ids() { # "queue id_sequence" lines of the router's NFQUEUE queues
  ip netns exec "$ns_r" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '{print $1, $8}'
}

choose_addrs() { # queues: order the client addresses so that stream k lands on queue k % queues
  local q=$1 addr before after qn
  [ "$q" -gt 1 ] || { default_addrs; return; }
  declare -A onq=()
  for k in $(seq 2 17); do
    addr=$net_c.$k
    before=$(queue_ids)
    ip netns exec "$ns_c" python3 "$helper" tcp-probe "$addr" "$server_ip" "$ECHO_PORT" \
      || die "TCP probe from $addr through the router failed"
    after=$(queue_ids)
    qn=$(join <(echo "$before") <(echo "$after") | awk '$3 > $2 {print $1; exit}')
    [ -n "$qn" ] && onq[$qn]="${onq[$qn]:-} $addr"
  done
  CLIENT_ADDRS=()
  local round=0 added=1
  while [ $added = 1 ]; do
    added=0
    for n in $(seq 0 $((q - 1))); do
      read -r -a list <<<"${onq[$n]:-}"
      if [ "${#list[@]}" -gt $round ]; then CLIENT_ADDRS+=("${list[$round]}"); added=1; fi
    done
    round=$((round + 1))
  done
  local summary=""
  for n in $(seq 0 $((q - 1))); do summary="$summary q$n:$(wc -w <<<"${onq[$n]:-}")"; done
  echo "   client addresses per queue (of 16 probed):$summary; streams use ${CLIENT_ADDRS[*]:0:$maxp}" >&2
  [ "${#CLIENT_ADDRS[@]}" -ge "$maxp" ] || die "probing placed only ${#CLIENT_ADDRS[@]} client addresses on queues"
}

# mode streams run [ips_pid]: P iperf3 clients at once, summed
iperf_once() {
  local mode=$1 p=$2 i=$3 pid=${4:-}
  local base="$work/iperf-$mode-P$p-$i" c0 c1 t0 t1 k pids=() failed=0
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  for k in $(seq 0 $((p - 1))); do
    timeout $((T + 30)) ip netns exec "$ns_c" iperf3 -c "$server_ip" -p $((IPERF_PORT + k)) \
      -B "${CLIENT_ADDRS[$k]}" -t "$T" -J --connect-timeout 5000 >"$base-$k.json" 2>"$base-$k.err" &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || failed=1; done
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  if [ $failed = 1 ]; then
    echo "iperf3 failed in mode $mode (P=$p run $i): $(cat "$base"-*.err | head -c 300) $(grep -h -m1 '"error"' "$base"-*.json || true)" >&2
    return 1
  fi
  local gbps=0 retr=0 bytes=0 g r b cpu=null
  for k in $(seq 0 $((p - 1))); do
    read -r g r b < <(python3 "$helper" iperf "$base-$k.json")
    gbps=$(awk -v a="$gbps" -v b="$g" 'BEGIN{printf "%.3f", a + b}')
    retr=$((retr + r)); bytes=$((bytes + b))
  done
  if [ -n "$pid" ]; then
    cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$clk_tck" 'BEGIN{printf "%.1f", (b-a)/hz/(t1-t0)*100}')
  fi
  printf '{"mode":"%s","kind":"iperf","streams":%d,"run":%d,"gbps":%s,"retransmits":%s,"bytes":%s,"cpu_pct":%s}\n' \
    "$mode" "$p" "$i" "$gbps" "$retr" "$bytes" "$cpu" >>"$results"
  echo "   $mode P=$p run $i: $gbps Gbit/s, $retr retransmits${pid:+, IPS cpu $cpu%}" >&2
}

latency() { # mode
  local out
  out=$(timeout 120 ip netns exec "$ns_c" python3 "$helper" echo-client "$server_ip" "$ECHO_PORT" "$LAT_N" 64 "${CLIENT_ADDRS[0]}") \
    || { echo "latency client failed in mode $1" >&2; return 1; }
  echo "   $1 latency: $out" >&2
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); d.update(mode=sys.argv[1], kind="latency", streams=1); print(json.dumps(d))' \
    "$1" "$out" >>"$results"
}

perf_done=0
measure() { # mode [ips_pid]
  local mode=$1 pid=${2:-}
  latency "$mode"
  for p in $STREAMS; do
    for i in $(seq "$N"); do
      if [ "$PERF" = 1 ] && [ "$perf_done" = 0 ] && [ -n "$pid" ] && [[ $mode == rampart* ]]; then
        perf_done=1
        note "perf record on $mode (pid $pid) during this run"
        perf record -F 999 -p "$pid" -o "$work/perf-$mode.data" -- sleep $((T > 4 ? T - 2 : T)) \
          >"$work/perf-record.log" 2>&1 &
        local perf_pid=$!
        iperf_once "$mode" "$p" "$i" "$pid"
        wait "$perf_pid" || true
      else
        iperf_once "$mode" "$p" "$i" "$pid"
      fi
    done
  done
}

nfq_rule_bytes() { # bytes the NFQUEUE rules in FORWARD sent to the queue
  ip netns exec "$ns_r" iptables -w 5 -L FORWARD -v -x -n 2>/dev/null \
    | awk '/NFQUEUE/ {b += $2} END {printf "%.0f\n", b}'
}
nfq_proc() {
  ip netns exec "$ns_r" cat /proc/net/netfilter/nfnetlink_queue >"$work/nfq.proc" 2>/dev/null || : >"$work/nfq.proc"
  python3 "$helper" nfq-proc "$work/nfq.proc"
}

info_row() { # mode pid ips_bytes
  local mode=$1 pid=$2 ips_bytes=$3 rule_bytes pk insp=null
  rule_bytes=$(nfq_rule_bytes)
  pk=$(peak_kib "$pid")
  if [ "${rule_bytes:-0}" -gt 0 ]; then
    insp=$(awk -v a="$ips_bytes" -v b="$rule_bytes" 'BEGIN{printf "%.1f", a/b*100}')
  fi
  printf '{"mode":"%s","kind":"info","streams":0,"peak_kib":%s,"rule_bytes":%s,"ips_bytes":%s,"inspected_pct":%s,"nfq":%s}\n' \
    "$mode" "${pk:-0}" "$rule_bytes" "$ips_bytes" "$insp" "$(nfq_proc)" >>"$results"
}

stop_pid() { # pid, waits up to 20 s then kills
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid did not stop on SIGTERM within 20 s; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

router_clean() { # leave no queue hook or rampart table behind between modes
  local left
  left=$(ip netns exec "$ns_r" iptables -w 5 -S FORWARD 2>/dev/null | grep -c NFQUEUE || true)
  if [ "$left" != 0 ]; then
    echo "   note: $left NFQUEUE rule(s) left in FORWARD; flushing" >&2
    ip netns exec "$ns_r" iptables -w 5 -F FORWARD
  fi
  ip netns exec "$ns_r" ip6tables -w 5 -F FORWARD 2>/dev/null || true
  ip netns exec "$ns_r" nft delete table inet rampart 2>/dev/null || true
}

check_queued() { # mode: the queue must have seen traffic, else the figures mean nothing
  local seq
  seq=$(ip netns exec "$ns_r" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '{s += $8} END {print s + 0}')
  [ "$seq" -gt 0 ] || die "mode $1: no packet went through NFQUEUE (is the FORWARD rule there?)"
}

run_plain() {
  note "plain forwarding"
  default_addrs
  measure plain
}

run_suricata() { # mode queues fail_open(yes|no)
  local mode=$1 q=$2 fo=$3 dir=$work/$1 args=() qarg
  mkdir -p "$dir"
  for n in $(seq 0 $((q - 1))); do args+=(-q "$n"); done
  if [ "$q" = 1 ]; then qarg=(--queue-num 0); else qarg=(--queue-balance "0:$((q - 1))"); fi
  [ "$fo" = yes ] && qarg+=(--queue-bypass)
  note "$mode: Suricata $(suricata -V 2>/dev/null | awk '{print $5}') NFQ, $q queue(s), fail-open $fo, $nrules rules"
  ip netns exec "$ns_r" suricata -c "$SURICATA_YAML" "${args[@]}" -S "$rules" -l "$dir" \
    --runmode workers \
    --set nfq.mode=accept --set "nfq.fail-open=$fo" \
    --set stats.interval=1 \
    --set "vars.address-groups.HOME_NET=[$HOME_NET]" \
    --set "vars.address-groups.EXTERNAL_NET=!\$HOME_NET" \
    >"$dir/stdout.log" 2>&1 &
  local pid=$!
  local deadline=$((SECONDS + READY_TIMEOUT))
  until grep -qi "engine started" "$dir/suricata.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/stdout.log" "$dir/suricata.log" >&2 2>/dev/null; die "Suricata exited during start-up (logs in $dir)"; }
    [ $SECONDS -lt $deadline ] || die "Suricata not ready after ${READY_TIMEOUT}s (logs in $dir)"
    sleep 0.5
  done
  grep -iE "rules successfully loaded|signatures processed" "$dir/suricata.log" | tail -2 | sed 's/^/   /' >&2 || true
  ip netns exec "$ns_r" iptables -w 5 -I FORWARD -j NFQUEUE "${qarg[@]}"
  choose_addrs "$q"
  measure "$mode" "$pid"
  check_queued "$mode"
  sleep 2.5 # one more stats record (interval 1 s)
  local pkts bytes
  read -r pkts bytes < <(python3 "$helper" suricata-stats "$dir/eve.json")
  info_row "$mode" "$pid" "$bytes"
  echo "   suricata decoder: packets $pkts bytes $bytes; kernel queues (id_sequence = ids handed out): $(nfq_proc)" >&2
  ip netns exec "$ns_r" iptables -w 5 -D FORWARD -j NFQUEUE "${qarg[@]}"
  stop_pid "$pid"
  router_clean
}

run_rampart() { # mode queues fail_open(true|false)
  local mode=$1 q=$2 fo=$3 dir=$work/$1 nums
  mkdir -p "$dir/state"
  nums=$(seq -s, 0 $((q - 1)))
  cat >"$dir/rampart.toml" <<EOF
[daemon]
state_dir = "$dir/state"
control_socket = "$dir/ctl.sock"
log_level = "info"
[rules]
files = ["$rules"]
[vars]
HOME_NET = "[$HOME_NET]"
EXTERNAL_NET = "!\$HOME_NET"
[outputs]
eve = "$dir/eve.json"
stats_interval = "1s"
[firewall.queue]
numbers = [$nums]
chain = "forward"
fail_open = $fo
EOF
  note "$mode: rampart run, $q queue(s), fail-open $fo, $nrules rules ($RAMPART)"
  "$RAMPART" config check -c "$dir/rampart.toml" >"$dir/config-check.log" 2>&1 \
    || { cat "$dir/config-check.log" >&2; die "rampart config check failed ($dir/rampart.toml)"; }
  ip netns exec "$ns_r" "$RAMPART" run -c "$dir/rampart.toml" >"$dir/daemon.log" 2>&1 &
  local pid=$!
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$RAMPART" status --socket "$dir/ctl.sock" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/daemon.log" >&2; die "rampart exited during start-up (log: $dir/daemon.log)"; }
    [ $SECONDS -lt $deadline ] || die "rampart not ready after ${READY_TIMEOUT}s (log: $dir/daemon.log)"
    sleep 0.2
  done
  grep -E "rules loaded|queue hook" "$dir/daemon.log" | sed 's/\x1b\[[0-9;]*m//g; s/^/   /' >&2 || true
  ip netns exec "$ns_r" iptables -w 5 -S FORWARD | grep -q NFQUEUE \
    || die "rampart is up but no NFQUEUE rule is in the router's FORWARD chain"
  choose_addrs "$q"
  measure "$mode" "$pid"
  check_queued "$mode"
  sleep 1.5
  "$RAMPART" status --socket "$dir/ctl.sock" >"$dir/status.json" 2>&1 || true
  local pkts bytes
  read -r pkts bytes < <(python3 "$helper" rampart-status "$dir/status.json")
  info_row "$mode" "$pid" "$bytes"
  python3 - "$dir/status.json" "$mode" <<'EOF' >&2
import json, sys
j = json.load(open(sys.argv[1]))
t = j.get("totals", {})
print(f"   rampart status ({sys.argv[2]}): packets {t.get('packets')} bytes {t.get('bytes')} "
      f"accepted {t.get('accepted')} dropped {t.get('dropped')} alerts {t.get('alerts')} errors {t.get('errors')}")
for w in j.get("workers", []):
    c = w["counters"]
    print(f"     worker {w['name']}: packets {c.get('packets')} bytes {c.get('bytes')} errors {c.get('errors')} "
          f"enobufs {c.get('enobufs')} socket_drops {c.get('socket_drops')}")
for q in j.get("kernel_queues", []):
    print(f"     kernel queue {q['queue']}: queue_dropped {q['queue_dropped']} user_dropped {q['user_dropped']} "
          f"waiting {q['waiting']} packets {q['packets']} bypassed {q.get('bypassed')}")
ids = sum(q["packets"] for q in j.get("kernel_queues", []))
miss = ids - (t.get("packets") or 0)
if ids:
    print(f"     kernel handed out {ids} packet ids, the workers saw {t.get('packets')}: {miss} ({miss / ids * 100:.1f}%) "
          f"never reached Rampart (netlink socket overflow: the workers' socket_drops; fail-open accepts them "
          f"uninspected (bypassed), fail-closed drops them (user_dropped))")
EOF
  cp "$dir/status.json" "$work/status-$mode.json"
  stop_pid "$pid"
  router_clean
}

note "rules: $rules ($nrules rules); HOME_NET=$HOME_NET; N=$N, T=${T}s, streams: $STREAMS; $(nproc) CPUs"
for mode in $MODES; do
  case $mode in
    plain) run_plain;;
    suricata) run_suricata suricata 1 yes;;
    suricata-2q) run_suricata suricata-2q 2 yes;;
    suricata-fc) run_suricata suricata-fc 1 no;;
    rampart-1q) run_rampart rampart-1q 1 true;;
    rampart-2q) run_rampart rampart-2q 2 true;;
    rampart-1q-fc) run_rampart rampart-1q-fc 1 false;;
    rampart-2q-fc) run_rampart rampart-2q-fc 2 false;;
    *) die "unknown mode $mode (plain, suricata, suricata-2q, suricata-fc, rampart-1q, rampart-2q, rampart-1q-fc, rampart-2q-fc)";;
  esac
done

echo
echo "Inline benchmark: $nrules rules ($(basename "$rules")), iperf3 $N x ${T}s per row, $(nproc) CPUs, kernel $(uname -r)"
python3 "$helper" report "$results"
if [ "$PERF" = 1 ] && [ "$perf_done" = 1 ]; then
  echo
  echo "perf: hottest symbols of the first Rampart daemon during one iperf3 run (self time)"
  perf report -i "$work"/perf-rampart-*.data --no-children -g none --sort comm,dso,symbol --stdio 2>/dev/null \
    | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//' | awk 'NR <= 40' || true
  KEEP=1
fi
