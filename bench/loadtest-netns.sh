#!/usr/bin/env bash
# One load run across two "machines": two Linux network namespaces joined by a veth pair (10.78.0.0/24). In
# namespace A run an ActorTcp server and the load generator's coordinator (with one local worker); in namespace B
# a worker started on its own with `ActorTcp.LoadTest worker --join`, which reaches the coordinator and the
# server only over the veth link. The run's report must show B's clients. Needs root (it makes and removes
# its two namespaces and nothing else); without root it says so and exits 0. Every process is bounded by
# `timeout` and stopped by its PID at the end.
#
#   sudo bench/loadtest-netns.sh                       # 2,000 echo clients, 10 s window, about 40 s
#   sudo bench/loadtest-netns.sh --clients 6000 --duration 30 --no-build
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=2000
DURATION=10
BUILD=1
OUT=""
NET=10.78.0
NS_A=actortcp-lga
NS_B=actortcp-lgb
CLUSTER_PORT=4070

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
  echo "loadtest-netns.sh: skipped: it needs root to create network namespaces (run it with sudo)"
  exit 0
fi
for ns in "$NS_A" "$NS_B"; do
  if ip netns list | grep -qw "$ns"; then
    echo "loadtest-netns.sh: namespace $ns already exists (another run?); remove it or wait" >&2
    exit 1
  fi
done
OUT=${OUT:-$ROOT/bench/results/loadtest-netns-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest.dll
DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll
# The whole script's bound: the run's own (join, ramp, window, drain) plus builds are not in it.
BOUND=$((DURATION + CLIENTS / 200 + 150))

PIDS=()
NAMESPACES=()
cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ $BUILD == 1 ]]; then
  for project in src/ActorTcp.LoadTest src/ActorTcp.Server; do
    log "building $project (Release)"
    (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$OUT/build-$(basename "$project").log" 2>&1) \
      || { log "build of $project failed, see $OUT/build-$(basename "$project").log"; exit 1; }
  done
fi

log "network: $NS_A at $NET.11 <-veth-> $NS_B at $NET.12"
ip netns add "$NS_A"; NAMESPACES+=("$NS_A")
ip netns add "$NS_B"; NAMESPACES+=("$NS_B")
ip link add actortcp-lga0 netns "$NS_A" type veth peer name actortcp-lgb0 netns "$NS_B"
ip netns exec "$NS_A" ip addr add "$NET.11/24" dev actortcp-lga0
ip netns exec "$NS_B" ip addr add "$NET.12/24" dev actortcp-lgb0
for ns in "$NS_A" "$NS_B"; do
  ip netns exec "$ns" ip link set lo up
done
ip netns exec "$NS_A" ip link set actortcp-lga0 up
ip netns exec "$NS_B" ip link set actortcp-lgb0 up

cmd=(ip netns exec "$NS_A" timeout "$BOUND" dotnet "$DLL" --host "$NET.11" --port 6000 --binary-port off)
[[ -f $ROOT/config/loadtest.conf ]] && cmd+=(--config config/loadtest.conf)
echo "(cd $ROOT && ${cmd[*]})" >> "$OUT/commands.txt"
(cd "$ROOT" && exec "${cmd[@]}") > "$OUT/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q '^listening ' "$OUT/server.log" && break; sleep 0.1; done
grep -q '^listening ' "$OUT/server.log" || { log "the server did not start: $(tail -3 "$OUT/server.log")"; exit 1; }
log "server in $NS_A: $(grep -m1 '^listening ' "$OUT/server.log")"

# The coordinator in A: one local worker of its own, and one from elsewhere (B).
args=(--host "$NET.11" --allow-network "$NET.0/24" --port 6000 --scenario echo --clients "$CLIENTS" --ramp 1000
      --duration "${DURATION}s" --warmup 1s --processes 1 --workers 1 --cluster-host "$NET.11" --cluster-port "$CLUSTER_PORT"
      --join-timeout 60s --json "$OUT/run.json" --report "$OUT/run.html" --no-live)
cmd=(ip netns exec "$NS_A" timeout "$BOUND" dotnet "$LOADGEN" "${args[@]}")
echo "${cmd[*]}" >> "$OUT/commands.txt"
"${cmd[@]}" > "$OUT/coordinator.txt" 2> "$OUT/coordinator.err" &
COORDINATOR=$!
PIDS+=("$COORDINATOR")

# The worker in B knows nothing but the coordinator's address; everything else comes with its share.
cmd=(ip netns exec "$NS_B" timeout "$BOUND" dotnet "$LOADGEN" worker --join "$NET.11:$CLUSTER_PORT" --cluster-host "$NET.12" --name netns-b)
echo "${cmd[*]}" >> "$OUT/commands.txt"
"${cmd[@]}" > "$OUT/worker-b.log" 2>&1 &
WORKER=$!
PIDS+=("$WORKER")

rc=0
wait "$COORDINATOR" || rc=$?
wrc=0
wait "$WORKER" || wrc=$?
log "coordinator exit $rc, worker in $NS_B exit $wrc"
cat "$OUT/coordinator.err" >&2
cat "$OUT/coordinator.txt"
python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys
r = json.load(open(f"{sys.argv[1]}/run.json"))
workers = {w["name"]: w for w in r.get("workers", [])}
b = workers.get("netns-b")
print(f"- clients {r['clients']:,} over {len(workers)} workers: " + "; ".join(
    f"{n} {w['clients']:,} clients, {w['ops_total']:,} ops, {w['errors']} errors" for n, w in workers.items()))
print(f"- {r['ops_per_s']:,.0f} ops/s in the window; errors {sum(r['errors'].values())}")
if not b or b["clients_completed"] != b["clients"] or b["ops_total"] == 0:
    print("- FAILED: the worker in the other namespace did not run its clients")
    sys.exit(1)
PY
exit $(( rc != 0 ? rc : wrc ))
