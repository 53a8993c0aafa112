#!/usr/bin/env bash
# Three "machines" as Linux network namespaces on a bridge (10.77.0.0/24), one ActorTcp node in each, forming
# one cluster over real interfaces; haproxy (config/haproxy.cfg: TCP mode, leastconn, health checks on the text
# port) in front of them on the bridge's address; idle clients with --reconnect through haproxy; then one node
# drains (SIGTERM) behind haproxy. Needs root (it makes and removes the namespaces, the bridge and its veth
# pairs, and nothing else); without root it says so and exits 0. Needs haproxy (apt-get install haproxy).
#
#   sudo bench/cluster-netns.sh                       # 3,000 clients, 30 s window, about 1.5 minutes
#   sudo bench/cluster-netns.sh --clients 9000 --duration 60 --no-build
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=3000
DURATION=30
BUILD=1
OUT=""
NET=10.77.0
BRIDGE=actortcp-br0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $(id -u) != 0 ]]; then
  echo "cluster-netns.sh: skipped: it needs root to create network namespaces (run it with sudo)"
  exit 0
fi
command -v haproxy > /dev/null || { echo "cluster-netns.sh: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }
if ip link show "$BRIDGE" > /dev/null 2>&1; then
  echo "cluster-netns.sh: $BRIDGE already exists (another run?); remove it or wait" >&2
  exit 1
fi
OUT=${OUT:-$ROOT/bench/results/cluster-netns-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll

PIDS=()
MADE_BRIDGE=0
NAMESPACES=()
cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  [[ $MADE_BRIDGE == 1 ]] && ip link del "$BRIDGE" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ $BUILD == 1 ]]; then
  log "building (Release)"
  (cd "$ROOT" && timeout 600 dotnet build -c Release ActorTcp.sln > "$OUT/build.log" 2>&1) || { log "build failed (see $OUT/build.log)"; exit 1; }
fi

log "network: bridge $BRIDGE $NET.1/24, namespaces actortcp-n1..3 at $NET.11..13"
ip link add "$BRIDGE" type bridge
MADE_BRIDGE=1
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 1 2 3; do
  ns=actortcp-n$i
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip link add "actortcp-v$i" type veth peer name eth0 netns "$ns"
  ip link set "actortcp-v$i" master "$BRIDGE" up
  ip netns exec "$ns" ip addr add "$NET.1$i/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip link set lo up
done

# Each node binds its own namespace's address, for clients and for the cluster; all give node 1 as their seed.
NODE_PIDS=()
for i in 1 2 3; do
  cmd=(ip netns exec "actortcp-n$i" dotnet "$DLL" --host "$NET.1$i" --port 6000 --binary-port off
       --cluster-port 4053 --seed "$NET.11:4053" --config config/loadtest.conf)
  echo "(cd $ROOT && ${cmd[*]})" >> "$OUT/commands.txt"
  # ip netns exec execs the program, so the PID kept is the server's.
  (cd "$ROOT" && exec "${cmd[@]}") > "$OUT/node$i.log" 2>&1 &
  NODE_PIDS+=($!)
  PIDS+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 300); do grep -q '^listening ' "$OUT/node$i.log" && break; sleep 0.1; done
  log "node $i: $(grep -m1 '^listening ' "$OUT/node$i.log" || echo 'no listening line')"
done

haproxy -f "$ROOT/config/haproxy.cfg" -db > "$OUT/haproxy.log" 2>&1 &
HAPROXY=$!
PIDS+=("$HAPROXY")
echo "haproxy -f config/haproxy.cfg -db" >> "$OUT/commands.txt"
sleep 1
kill -0 "$HAPROXY" 2>/dev/null || { log "haproxy did not start: $(cat "$OUT/haproxy.log")"; exit 1; }

# The prober reaches the cluster through haproxy, like any client.
python3 "$ROOT/bench/cluster_probe.py" "$NET.1" 6000 $((DURATION + CLIENTS / 500 + 60)) 1 > "$OUT/probe.log" 2>&1 &
PROBE=$!
PIDS+=("$PROBE")
last_probe() { grep -v prober_reconnect "$OUT/probe.log" 2>/dev/null | tail -1; }
for _ in $(seq 1 60); do [[ $(last_probe | grep -o '_up_' | wc -l) == 3 ]] && break; sleep 0.5; done
[[ $(last_probe | grep -o '_up_' | wc -l) == 3 ]] || { log "the cluster did not form: $(tail -1 "$OUT/probe.log")"; exit 1; }
log "cluster over the bridge: $(last_probe)"

args=(--host "$NET.1" --allow-network "$NET.0/24" --port 6000 --scenario idle --clients "$CLIENTS" --heartbeat 5s
      --reconnect --duration "${DURATION}s" --ramp 500 --json "$OUT/loadgen.json" --no-live)
echo "$LOADGEN ${args[*]}" >> "$OUT/commands.txt"
timeout $((DURATION + CLIENTS / 100 + 120)) "$LOADGEN" "${args[@]}" > "$OUT/loadgen.txt" 2>&1 &
LOADGEN_PID=$!
PIDS+=("$LOADGEN_PID")

sum() { last_probe | sed -n 's/.* nodes=//p' | tr '|' '\n' | awk -F_ '$3 ~ /^[0-9]+$/ {s += $3} END {print s + 0}'; }
for _ in $(seq 1 $((CLIENTS / 100 + 240))); do
  (( $(sum) >= CLIENTS )) && break
  grep -q '\] measuring' "$OUT/loadgen.txt" 2>/dev/null && break
  sleep 0.5
done
sleep 5
BEFORE=$(last_probe)
log "all up through haproxy: $BEFORE"
log "SIGTERM to node 3 (pid ${NODE_PIDS[2]}): it drains; haproxy's check fails and its clients reconnect to the others"
kill -TERM "${NODE_PIDS[2]}"
wait "${NODE_PIDS[2]}" && log "node 3 exited 0" || log "node 3 exited $?"
sleep 10
AFTER=$(last_probe)
log "after the drain: $AFTER"

wait "$LOADGEN_PID" || true
grep -E '^(clients|reconnect|connects)' "$OUT/loadgen.txt" || true
python3 - "$OUT" "$BEFORE" "$AFTER" <<'EOF' | tee "$OUT/summary.md"
import json, sys
out, before, after = sys.argv[1:4]
r = json.load(open(f"{out}/loadgen.json"))
rec = r["ops"].get("reconnect", {})
nodes = lambda line: line.split(" nodes=")[1].replace("_", " ").replace("|", ", ") if " nodes=" in line else "?"
print(f"- before the drain, NODES through haproxy: {nodes(before)}")
print(f"- 10 s after node 3's SIGTERM: {nodes(after)}")
print(f"- clients {r['clients']:,}; reconnects {r['reconnects']:,} (p50 / p99 / max {rec.get('p50_ms', 0):.0f} / {rec.get('p99_ms', 0):.0f} / {rec.get('max_ms', 0):.0f} ms); "
      f"errors {sum(r['errors'].values())}; named at the window's end {r['alive_at_window_end']:,}")
EOF
grep -E "node3 is (DOWN|UP)|is DOWN" "$OUT/haproxy.log" | head -3 || true
