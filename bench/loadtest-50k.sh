#!/usr/bin/env bash
# 50,000 idle clients from ONE ActorTcp.LoadTest command (--processes 3: a coordinator and three worker
# processes in one Akka cluster on loopback) against three ActorTcp nodes that form a cluster of their own and
# share one text port (SO_REUSEPORT: the kernel spreads the clients over them), because each process, server or
# generator, may hold only 20,000 descriptors here. The clients come from 127.0.0.2-5 (--source-ips 4: one
# address has too few ephemeral ports for 50,000 connections to one port). The Kestrel baseline cannot share a
# port, so it runs as three servers on three ports. Loopback only; every process started here is stopped by its
# PID at the end, and the load run is bounded by `timeout`.
#
#   bench/loadtest-50k.sh                        # ActorTcp servers, 30 s window
#   bench/loadtest-50k.sh --server baseline      # the Kestrel baseline instead
#   bench/loadtest-50k.sh --clients 50000 --duration 60 --no-build --out /tmp/lt50k
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=actortcp
CLIENTS=50000
DURATION=30
RAMP=5000
# The ramp of 50,000 handshakes is where a busy 2-core box shows; give it room before the window starts anyway.
RAMP_TIMEOUT=180
SERVERS_N=3
BUILD=1
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server) SERVER=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --ramp) RAMP=$2; shift ;;
    --ramp-timeout) RAMP_TIMEOUT=$2; shift ;;
    --servers) SERVERS_N=$2; shift ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$ROOT/bench/results/loadtest-50k-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
case $SERVER in
  actortcp) DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll; PROJECT=src/ActorTcp.Server ;;
  baseline) DLL=$ROOT/bench/baseline/bin/Release/net10.0/ActorTcp.Baseline.dll; PROJECT=bench/baseline ;;
  *) echo "--server actortcp|baseline" >&2; exit 2 ;;
esac

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

if [[ $BUILD == 1 ]]; then
  for project in src/ActorTcp.LoadTest "$PROJECT"; do
    (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$OUT/build-$(basename "$project").log" 2>&1) \
      || { echo "build of $project failed, see $OUT/build-$(basename "$project").log" >&2; exit 1; }
  done
fi

PORTS=()
SERVER_PIDS=()
SEED=""
for n in $(seq 1 "$SERVERS_N"); do
  logfile=$OUT/server-$n.log
  cmd=(dotnet "$DLL" --port 0 --binary-port 0)
  if [[ $SERVER == actortcp ]]; then
    # Node 1 takes any free port; the others bind the same one and join node 1's cluster.
    cmd=(dotnet "$DLL" --port "${PORTS[0]:-0}" --binary-port off --cluster-port 0)
    [[ -n $SEED ]] && cmd+=(--seed "$SEED")
  fi
  [[ $SERVER == baseline ]] && cmd+=(--files config/files)
  [[ $SERVER == actortcp && -f $ROOT/config/loadtest.conf ]] && cmd+=(--config config/loadtest.conf)
  echo "(cd $ROOT && ${cmd[*]})" >> "$OUT/commands.txt"
  (cd "$ROOT" && exec "${cmd[@]}") > "$logfile" 2>&1 &
  pid=$!
  PIDS+=("$pid"); SERVER_PIDS+=("$pid")
  line=""
  for _ in $(seq 1 300); do
    line=$(grep -m1 '^listening ' "$logfile" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "server $n exited, see $logfile" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $line ]] || { echo "server $n printed no listening line" >&2; exit 1; }
  PORTS+=("$(sed -n 's/.*text=[^ ]*:\([0-9][0-9]*\).*/\1/p' <<< "$line")")
  [[ $SERVER == actortcp && -z $SEED ]] && SEED=$(sed -n 's/.* cluster=\([^ ]*\).*/\1/p' <<< "$line")
  echo "server $n: pid $pid, $line" >&2
done

port_list=$(IFS=,; echo "${PORTS[*]}")
SOURCE_ARGS=()
if [[ $SERVER == actortcp ]]; then
  port_list=${PORTS[0]}
  SOURCE_ARGS=(--source-ips 4)
fi
pid_list=$(IFS=,; echo "${SERVER_PIDS[*]}")
args=(--port "$port_list" --server-pid "$pid_list" --scenario idle --clients "$CLIENTS" --processes "$SERVERS_N"
      --heartbeat 5s --ramp "$RAMP" --ramp-timeout "${RAMP_TIMEOUT}s" --warmup 2s --duration "${DURATION}s"
      --json "$OUT/idle50k.json" --report "$OUT/idle50k.html" --no-live "${SOURCE_ARGS[@]}")
echo "$LOADGEN ${args[*]}" >> "$OUT/commands.txt"
echo "ActorTcp.LoadTest ${args[*]}" >&2
rc=0
timeout $((DURATION + RAMP_TIMEOUT + 120)) "$LOADGEN" "${args[@]}" | tee "$OUT/idle50k.txt" || rc=$?
echo "load generator exit $rc; results in $OUT" >&2
exit $rc
