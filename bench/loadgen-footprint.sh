#!/usr/bin/env bash
# What ONE load generator process costs per client: idle clients against server processes on loopback (one server
# holds at most ~18,500 clients under a 20,000-descriptor limit, so 19,000 clients need two), sources spread over
# --source-ips. Prints the generator's peak RSS per client and the ramp rate it reached. Every process started here
# is stopped by its PID at the end, and the generator run is bounded by `timeout`.
#
#   bench/loadgen-footprint.sh                                  # 19,000 idle clients, 2 servers, ramp 5000/s
#   bench/loadgen-footprint.sh --clients 5000 --servers 1 --loadgen /path/to/ActorTcp.LoadTest --no-build
#   bench/loadgen-footprint.sh --max-connecting 2048              # the generator's bound on handshakes in flight
#   bench/loadgen-footprint.sh --server-warmup 0                  # no warm-up run against the fresh servers [2000]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=19000
SERVERS_N=2
RAMP=5000
SOURCE_IPS=4
MAX_CONNECTING=""
DURATION=20
SERVER_WARMUP=2000
BUILD=1
OUT=""
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
SERVER_DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS=$2; shift ;;
    --servers) SERVERS_N=$2; shift ;;
    --ramp) RAMP=$2; shift ;;
    --source-ips) SOURCE_IPS=$2; shift ;;
    --max-connecting) MAX_CONNECTING=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --loadgen) LOADGEN=$2; shift ;;
    --server-dll) SERVER_DLL=$2; shift ;;
    --server-warmup) SERVER_WARMUP=$2; shift ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$ROOT/bench/results/loadgen-footprint-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

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
  for project in src/ActorTcp.LoadTest src/ActorTcp.Server; do
    (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$OUT/build-$(basename "$project").log" 2>&1) \
      || { echo "build of $project failed, see $OUT/build-$(basename "$project").log" >&2; exit 1; }
  done
fi

PORTS=()
SERVER_PIDS=()
for n in $(seq 1 "$SERVERS_N"); do
  logfile=$OUT/server-$n.log
  cmd=(dotnet "$SERVER_DLL" --port 0 --binary-port 0 --config config/loadtest.conf)
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
  echo "server $n: pid $pid, $line" >&2
done

port_list=$(IFS=,; echo "${PORTS[*]}")
pid_list=$(IFS=,; echo "${SERVER_PIDS[*]}")

# The servers are fresh processes: their first connections run on code the runtime has not compiled yet, and a
# ramp in the first seconds would measure their JIT as much as the generator. A short run first (as the neutral
# harness warms each server before it measures); its clients are gone before the measured run starts.
if [[ $SERVER_WARMUP -gt 0 ]]; then
  warm=(--port "$port_list" --scenario idle --clients "$SERVER_WARMUP" --ramp "$SERVER_WARMUP" --heartbeat 1s
        --ramp-timeout 30s --warmup 0s --duration 2s --no-live)
  echo "$LOADGEN ${warm[*]}" >> "$OUT/commands.txt"
  timeout 90 "$LOADGEN" "${warm[@]}" > "$OUT/server-warmup.txt" 2>&1 \
    || { echo "the servers' warm-up run failed, see $OUT/server-warmup.txt" >&2; exit 1; }
fi
args=(--port "$port_list" --server-pid "$pid_list" --scenario idle --clients "$CLIENTS" --ramp "$RAMP"
      --source-ips "$SOURCE_IPS" --heartbeat 5s --ramp-timeout 60s --warmup 2s --duration "${DURATION}s"
      --json "$OUT/idle.json" --no-live)
[[ -n $MAX_CONNECTING ]] && args+=(--max-connecting "$MAX_CONNECTING")
echo "$LOADGEN ${args[*]}" >> "$OUT/commands.txt"
echo "ActorTcp.LoadTest ${args[*]}" >&2
rc=0
timeout $((DURATION + 150)) "$LOADGEN" "${args[@]}" > "$OUT/idle.txt" 2>&1 || rc=$?
cat "$OUT/idle.txt"

# The figures this script exists for, from the generator's own report.
rss_mib=$(sed -n 's/.*peak RSS \([0-9][0-9]*\) MiB.*/\1/p' "$OUT/idle.txt" | head -1)
ramp_s=$(sed -n 's/^ramp *\([0-9.][0-9.]*\) s.*/\1/p' "$OUT/idle.txt" | head -1)
if [[ -n $rss_mib && -n $ramp_s ]]; then
  awk -v rss="$rss_mib" -v n="$CLIENTS" -v ramp="$ramp_s" -v asked="$RAMP" 'BEGIN {
    printf "footprint: %d clients, generator peak RSS %d MiB = %.1f KiB per client; ramp %.1f s = %.0f connections/s (asked %d/s)\n",
      n, rss, rss * 1024 / n, ramp, n / ramp, asked }' | tee "$OUT/footprint.txt"
fi
echo "load generator exit $rc; results in $OUT" >&2
exit $rc
