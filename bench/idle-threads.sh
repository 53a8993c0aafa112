#!/usr/bin/env bash
# Where an idle server's CPU goes, thread by thread: one ActorTcp server (Release) holding idle clients that PING
# every 5 s (ActorTcp.LoadTest), and the CPU time each of the server's threads used over 10 s of that, read from
# /proc/<pid>/task/*/stat (the epoll loops, the .NET pool's workers, its timer thread...). Loopback only; the
# server and the load run are stopped by their PIDs and bounded by `timeout`.
#
#   bench/idle-threads.sh                      # 10,000 clients, after a Release build
#   bench/idle-threads.sh --clients 5000 --no-build
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=10000
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT

if [[ $BUILD == 1 ]]; then
  (cd "$ROOT" && timeout 600 dotnet build -c Release src/ActorTcp.Server > "$OUT/build.log" 2>&1 \
    && timeout 600 dotnet build -c Release src/ActorTcp.LoadTest >> "$OUT/build.log" 2>&1) \
    || { cat "$OUT/build.log" >&2; exit 1; }
fi

(cd "$ROOT" && exec dotnet src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll --port 0 --binary-port off \
  --config config/loadtest.conf) > "$OUT/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 300); do grep -q '^listening ' "$OUT/server.log" && break; sleep 0.1; done
PORT=$(sed -n 's/^listening text=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$OUT/server.log")
[[ -n $PORT ]] || { echo "the server printed no listening line" >&2; exit 1; }

timeout 180 "$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest" --port "$PORT" --scenario idle \
  --clients "$CLIENTS" --heartbeat 5s --warmup 5s --duration 30s --no-live > "$OUT/load.txt" 2>&1 &
PIDS+=("$!")
# Every client is up and heartbeating well before this (the ramp takes a few seconds).
for _ in $(seq 1 60); do grep -q measuring "$OUT/load.txt" 2>/dev/null && break; sleep 1; done
sleep 5

snapshot() {
  local t
  for t in /proc/"$SERVER"/task/*; do
    # Fields 14 and 15 of stat (user, system ticks), counted after the ")" that ends the thread's name.
    printf '%s %s %s\n' "$(basename "$t")" "$(tr ' ' _ < "$t/comm")" "$(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')"
  done
}
snapshot > "$OUT/before"; sleep 10; snapshot > "$OUT/after"
hz=$(getconf CLK_TCK)
echo "$CLIENTS idle clients, server CPU over 10 s by thread (% of one core):"
awk -v hz="$hz" 'NR == FNR { start[$1] = $3; next }
  { used = ($3 - start[$1]) / hz / 10 * 100; by[$2] += used; total += used }
  END { for (n in by) if (by[n] >= 0.05) printf "  %-24s %5.1f %%\n", n, by[n]; printf "  %-24s %5.1f %%\n", "all threads", total }' \
  "$OUT/before" "$OUT/after" | sort -k2 -n -r
