#!/usr/bin/env bash
# Three ActorTcp nodes on this machine as one cluster, all bound to one text port (SO_REUSEPORT), under idle
# clients that PING every 5 s and reconnect when their node goes (--reconnect). Once every client is up, the
# third node is killed (SIGKILL) or stopped (SIGTERM) mid-run. Loopback only; every process started here is
# stopped by its PID at the end, and every run is bounded by `timeout`.
#
#   bench/cluster.sh                                 # 30,000 clients, a kill run then a SIGTERM run, ~4 minutes
#   bench/cluster.sh --modes kill --clients 6000 --duration 20 --no-build
#
# Reports per run: the victim's clients at the signal, how many reconnected and how long that took (p50, p99,
# max), the errors among all clients (should be 0: a lost connection that comes back is not an error), WHO
# latency and partial answers seen by a prober during the loss, and when NODES stopped listing the victim.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=30000
DURATION=40
PORT=6000
MODES="kill term"
BUILD=1
OUT=""
PROCESSES=2

while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --port) PORT=$2; shift ;;
    --modes) MODES=$2; shift ;;
    --processes) PROCESSES=$2; shift ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$ROOT/bench/results/cluster-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ $BUILD == 1 ]]; then
  log "building (Release)"
  (cd "$ROOT" && timeout 600 dotnet build -c Release ActorTcp.sln > "$OUT/build.log" 2>&1) || { log "build failed (see $OUT/build.log)"; exit 1; }
fi

# start_node DIR N [flags...]: sets NODE_PID and NODE_CLUSTER (host:port of its cluster port).
start_node() {
  local dir=$1 n=$2; shift 2
  local logfile=$dir/node$n.log line=""
  local cmd=(dotnet "$DLL" --port "$PORT" --binary-port off --cluster-port 0 --config config/loadtest.conf "$@")
  echo "(cd $ROOT && ${cmd[*]})" >> "$dir/commands.txt"
  (cd "$ROOT" && exec "${cmd[@]}") > "$logfile" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  for _ in $(seq 1 300); do
    line=$(grep -m1 '^listening ' "$logfile" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "$NODE_PID" 2>/dev/null || { log "node $n exited (see $logfile)"; exit 1; }
    sleep 0.1
  done
  [[ -n $line ]] || { log "node $n printed no listening line"; exit 1; }
  NODE_CLUSTER=$(sed -n 's/.* cluster=\([^ ]*\).*/\1/p' <<< "$line")
  log "node $n: pid $NODE_PID, $line"
}

last_probe() { grep -v prober_reconnect "$1/probe.log" 2>/dev/null | tail -1; }
# Sum of the NODES counts in the prober's last line.
nodes_sum() { last_probe "$1" | sed -n 's/.* nodes=//p' | tr '|' '\n' | awk -F_ '$3 ~ /^[0-9]+$/ {s += $3} END {print s + 0}'; }
nodes_up() { last_probe "$1" | sed -n 's/.* nodes=//p' | tr '|' '\n' | grep -c '_up_' || true; }

run_mode() {
  local mode=$1 dir=$OUT/$1
  mkdir -p "$dir"
  log "=== $mode run: $CLIENTS clients, window ${DURATION}s"
  start_node "$dir" 1; local pid1=$NODE_PID seed=$NODE_CLUSTER
  start_node "$dir" 2 --seed "$seed"; local pid2=$NODE_PID
  start_node "$dir" 3 --seed "$seed"; local pid3=$NODE_PID victim=$NODE_CLUSTER

  local probe_seconds=$((DURATION + CLIENTS / 1000 + 90))
  timeout $((probe_seconds + 10)) python3 "$ROOT/bench/cluster_probe.py" 127.0.0.1 "$PORT" "$probe_seconds" 1 > "$dir/probe.log" 2>&1 &
  local probe=$!
  PIDS+=("$probe")
  for _ in $(seq 1 60); do [[ $(nodes_up "$dir") == 3 ]] && break; sleep 0.5; done
  [[ $(nodes_up "$dir") == 3 ]] || { log "the cluster did not form: $(last_probe "$dir")"; exit 1; }
  log "cluster formed: $(last_probe "$dir")"

  local args=(--port "$PORT" --scenario idle --clients "$CLIENTS" --heartbeat 5s --reconnect --processes "$PROCESSES"
              --duration "${DURATION}s" --warmup 1s --json "$dir/loadgen.json" --no-live)
  echo "$LOADGEN ${args[*]}" >> "$dir/commands.txt"
  timeout $((DURATION + CLIENTS / 500 + 120)) "$LOADGEN" "${args[@]}" > "$dir/loadgen.txt" 2>&1 &
  local loadgen=$!
  PIDS+=("$loadgen")

  # Every client up (the prober is one more), or the generator's window begun (on a busy machine the ramp may
  # time out first), then a few seconds of calm, then the signal.
  for _ in $(seq 1 $((CLIENTS / 200 + 240))); do
    (( $(nodes_sum "$dir") >= CLIENTS )) && break
    grep -q '\] measuring' "$dir/loadgen.txt" 2>/dev/null && break
    sleep 0.5
  done
  sleep 5
  local at_signal victim_clients
  at_signal=$(last_probe "$dir")
  victim_clients=$(sed -n 's/.* nodes=//p' <<< "$at_signal" | tr '|' '\n' | grep "^${victim}_" | awk -F_ '{print $3}')
  local signal=KILL; [[ $mode == term ]] && signal=TERM
  local signal_at
  signal_at=$(date +%s.%N)
  log "SIG$signal to node 3 ($victim, pid $pid3), which holds ${victim_clients:-?} clients; before: $at_signal"
  kill -"$signal" "$pid3"
  wait "$pid3" 2>/dev/null && log "node 3 exited 0" || log "node 3 exited $?"

  wait "$loadgen" || true
  kill "$probe" 2>/dev/null || true
  wait "$probe" 2>/dev/null || true
  for pid in "$pid1" "$pid2"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$pid1" "$pid2"; do wait "$pid" 2>/dev/null || true; done

  python3 - "$dir" "$signal_at" "$victim" "${victim_clients:-0}" "$mode" <<'EOF' | tee "$dir/summary.md"
import json, sys
d, signal_at, victim, victim_clients, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
r = json.load(open(f"{d}/loadgen.json"))
rec = r["ops"].get("reconnect", {})
who_ms, first_ms, partial, gone_at = [], [], 0, None
for line in open(f"{d}/probe.log"):
    parts = line.split()
    t = float(parts[0])
    if t < signal_at or "who_ms=" not in line:
        continue
    fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    who_ms.append(float(fields["who_ms"]))
    first_ms.append(float(fields["first_ms"]))
    partial += fields["who"].endswith("partial")
    if gone_at is None and victim + "_" not in fields["nodes"]:
        gone_at = t - signal_at
print(f"| {mode} | {victim_clients:,} | {r['reconnects']:,} | {rec.get('p50_ms', 0):.0f} / {rec.get('p99_ms', 0):.0f} / {rec.get('max_ms', 0):.0f} "
      f"| {sum(r['errors'].values())} | {max(first_ms) if first_ms else 0:.0f} / {max(who_ms) if who_ms else 0:.0f} ms ({len(who_ms)} asked, {partial} partial) "
      f"| {'%.1f s' % gone_at if gone_at is not None else 'not within the run'} |")
if r["errors"]:
    print("errors:", r["errors"])
EOF
}

{
  echo "| signal | victim's clients | reconnects | reconnect p50 / p99 / max ms | errors | WHO after the signal, max ms to first / last line | victim gone from NODES after |"
  echo "|---|---:|---:|---|---:|---|---|"
} > "$OUT/summary.md"
for mode in $MODES; do
  run_mode "$mode"
  grep '^|' "$OUT/$mode/summary.md" >> "$OUT/summary.md"
done
log "summary ($OUT/summary.md):"
cat "$OUT/summary.md"
