#!/usr/bin/env bash
# The daemon under load, in namespaces this script makes (and removes):
#   client --- router (rampart run, inline on NFQUEUE) --- server (iperf3 -s)
#
# 1. fail-open: an iperf3 transfer runs through the router while the daemon
#    reloads the full ET Open on SIGHUP (the kernel's queue drop counters
#    must stay 0, the changed rule must take effect), then is killed with
#    SIGKILL: the transfer must go on (queue bypass).
# 2. fail-closed: the same kill stops the transfer.
#
# Usage: scripts/daemon-resilience.sh [RULES]   (default: ET Open from
# ../shared/corpus). Needs root, iperf3, iptables, nft, curl. Prints
# "daemon resilience: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
rules=${1:-${RAMPART_CORPUS:-../shared/corpus}/rules/et-open-enabled.rules}
bin=${RAMPART:-target/release/rampart}
for p in iperf3 iptables nft curl python3; do
  command -v $p >/dev/null || { echo "daemon resilience: skipped ($p missing)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "daemon resilience: skipped (not root)"; exit 0; }
[ -f "$rules" ] || { echo "daemon resilience: skipped ($rules missing)"; exit 0; }
[ -x "$bin" ] || cargo build --release -p rampart || exit 1

p="rr$$"
work=$(mktemp -d /tmp/rampart-resilience.XXXXXX)
cleanup() {
  [ -n "${dpid:-}" ] && kill -9 "$dpid" 2>/dev/null
  pkill -f "iperf3 -s -B 10.214.2.2" 2>/dev/null
  pkill -f "iperf3 -c 10.214.2.2" 2>/dev/null
  pkill -f "http.server 8080 --bind 10.214.2.2" 2>/dev/null
  for n in cl rt sv; do ip netns del "$p-$n" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
for n in cl rt sv; do ip netns add "$p-$n"; done
ip link add "${p}c" type veth peer name "${p}rc"
ip link add "${p}s" type veth peer name "${p}rs"
ip link set "${p}c" netns "$p-cl"; ip link set "${p}rc" netns "$p-rt"
ip link set "${p}s" netns "$p-sv"; ip link set "${p}rs" netns "$p-rt"
ip -n "$p-cl" addr add 10.214.1.2/24 dev "${p}c"
ip -n "$p-rt" addr add 10.214.1.1/24 dev "${p}rc"
ip -n "$p-rt" addr add 10.214.2.1/24 dev "${p}rs"
ip -n "$p-sv" addr add 10.214.2.2/24 dev "${p}s"
for x in "cl ${p}c" "rt ${p}rc" "rt ${p}rs" "sv ${p}s"; do
  set -- $x; ip -n "$p-$1" link set "$2" up; ip -n "$p-$1" link set lo up
done
ip -n "$p-cl" route add default via 10.214.1.1
ip -n "$p-sv" route add default via 10.214.2.1
ip netns exec "$p-rt" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$p-sv" iperf3 -s -B 10.214.2.2 -D
ip netns exec "$p-sv" python3 -m http.server 8080 --bind 10.214.2.2 --directory "$work" >/dev/null 2>&1 &

pass=0; fail=0
check() { # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then pass=$((pass+1)); echo "  ok   $1 $3"; else fail=$((fail+1)); echo "  FAIL $1 $3"; fi
}

config() { # config FAIL_OPEN
  cat > "$work/rampart.toml" <<EOF
[daemon]
state_dir = "state"
control_socket = "ctl/ctl.sock"
[rules]
files = ["$(realpath "$rules")", "local.rules"]
[outputs]
eve = "eve.json"
stats_interval = "1s"
[firewall.queue]
numbers = [0, 1]
chain = "forward"
fail_open = $1
EOF
}
ctl() { "$bin" "$@" --socket "$work/ctl/ctl.sock"; }
start_daemon() {
  ip netns exec "$p-rt" "$bin" run -c "$work/rampart.toml" >"$work/daemon.log" 2>&1 &
  dpid=$!
  for _ in $(seq 1 300); do ctl status >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "daemon did not start:"; tail -20 "$work/daemon.log"; exit 1
}
# Packets not inspected: the kernel's queue overflow and socket drops, and
# packets handed out but never received (bypassed), plus socket overflows.
drops() { ctl status | python3 -c 'import sys,json; s=json.load(sys.stdin); q=s["kernel_queues"]; t=s["totals"]; print(sum(x["queue_dropped"]+x["user_dropped"]+(x.get("bypassed") or 0) for x in q)+t.get("enobufs",0)+t.get("socket_drops",0))'; }
get() { ip netns exec "$p-cl" curl -s -o /dev/null -m 2 "http://10.214.2.2:8080/$1"; }
# Seconds of an iperf3 JSON whose interval throughput was zero, after T.
zero_after() { python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = float(sys.argv[2])
iv = [i["sum"] for i in d.get("intervals", [])]
print(sum(1 for s in iv if s["start"] >= t and s["bits_per_second"] < 1e6))
PY
}
mbps() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(round(d["end"]["sum_received"]["bits_per_second"]/1e6))' "$1" 2>/dev/null || echo 0; }

echo "-- fail-open: ET Open reload under load, then SIGKILL"
echo 'drop tcp any any -> any 8080 (msg:"local block a"; flow:to_server,established; content:"GET /block-a"; sid:9100001;)' > "$work/local.rules"
config true
start_daemon
ip netns exec "$p-cl" iperf3 -c 10.214.2.2 -t 16 -i 1 -J > "$work/iperf-open.json" &
ipid=$!
sleep 3
d0=$(drops)
get block-a; check "rule active before reload" $([ $? -ne 0 ] && echo 0 || echo 1) ""
echo 'drop tcp any any -> any 8080 (msg:"local block b"; flow:to_server,established; content:"GET /block-b"; sid:9100002;)' > "$work/local.rules"
t_hup=$(date +%s.%N)
kill -HUP "$dpid"
for _ in $(seq 1 200); do
  r=$(ctl status | python3 -c 'import sys,json; print(json.load(sys.stdin)["reloads"])'); [ "$r" = 1 ] && break; sleep 0.1
done
t_done=$(date +%s.%N)
check "reload finished" $([ "$r" = 1 ] && echo 0 || echo 1) "($(python3 -c "print(round($t_done-$t_hup,2))") s for $(ctl status | python3 -c 'import sys,json; print(json.load(sys.stdin)["rules_loaded"])') rules)"
sleep 2
d1=$(drops)
check "no queue drops across the reload" $([ "$d1" = "$d0" ] && echo 0 || echo 1) "(queue_dropped+user_dropped+bypassed+enobufs+socket_drops: $d0 -> $d1)"
get block-b; check "new rule takes effect" $([ $? -ne 0 ] && echo 0 || echo 1) ""
get block-a; check "old rule gone" $? ""
sleep 1
kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
t_kill=$(python3 -c "print(int($(date +%s.%N) - $t_hup + 3))")
wait "$ipid"
z=$(zero_after "$work/iperf-open.json" "$t_kill")
check "fail-open: transfer goes on after SIGKILL" $([ "$z" = 0 ] && [ "$(mbps "$work/iperf-open.json")" -gt 0 ] && echo 0 || echo 1) \
  "($(mbps "$work/iperf-open.json") Mbit/s average, $z zero seconds after the kill at ~${t_kill}s)"
ip netns exec "$p-rt" iptables -D FORWARD -j NFQUEUE --queue-balance 0:1 --queue-bypass 2>/dev/null
ip netns exec "$p-rt" ip6tables -D FORWARD -j NFQUEUE --queue-balance 0:1 --queue-bypass 2>/dev/null

echo "-- fail-closed: SIGKILL stops the transfer"
config false
start_daemon
# Text output, flushed per second: a stalled transfer never ends cleanly,
# so the client is stopped by `timeout` and its per-second lines are read.
timeout 12 ip netns exec "$p-cl" iperf3 -c 10.214.2.2 -t 8 -i 1 --forceflush > "$work/iperf-closed.txt" 2>&1 &
ipid=$!
sleep 3
kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
wait "$ipid"
z=$(python3 - "$work/iperf-closed.txt" <<'PY'
import re, sys
n = 0
for line in open(sys.argv[1]):
    m = re.search(r"\]\s+(\d+)\.\d+-\d+\.\d+\s+sec\s+\S+\s+\S+\s+(\S+)\s+(\S)?bits/sec", line)
    if m and int(m.group(1)) >= 4 and float(m.group(2)) == 0.0:
        n += 1
print(n)
PY
)
check "fail-closed: transfer stops after SIGKILL" $([ "$z" -ge 3 ] && echo 0 || echo 1) "($z one-second intervals after the kill carried nothing)"

echo "daemon resilience: $pass passed, $fail failed"
[ "$fail" = 0 ]
