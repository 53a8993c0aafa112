#!/usr/bin/env bash
# Two builds of the server compared on the idle scenario, side by side: each revision is published (Release) from
# a worktree of its own, both servers run at once, each with its own load generator holding idle clients that PING
# every 5 s, and each server's CPU is read from /proc/<pid>/task/*/schedstat over the same 12 s window. Whatever
# else the machine is doing lands on both, so the ratio B/A of one round is steadier than two figures taken
# minutes apart. Loopback only; every process is stopped by its PID and bounded by `timeout`.
#
#   bench/idle-ab.sh main HEAD                     # 3 rounds, 10,000 clients per server
#   bench/idle-ab.sh 2e676ae HEAD --rounds 5 --clients 5000
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=3
CLIENTS=10000
REVS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown flag $1" >&2; exit 2 ;;
    *) REVS+=("$1") ;;
  esac
  shift
done
[[ ${#REVS[@]} == 2 ]] || { echo "usage: bench/idle-ab.sh REV_A REV_B [--rounds N] [--clients N]" >&2; exit 2; }

OUT=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for side in a b; do git -C "$ROOT" worktree remove --force "$OUT/src-$side" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT

# Each revision's server, published from its own worktree; the load generator from this checkout, for both.
for side in a b; do
  rev=${REVS[$([[ $side == a ]] && echo 0 || echo 1)]}
  git -C "$ROOT" worktree add --detach "$OUT/src-$side" "$rev" > /dev/null 2>&1 \
    || { echo "no such revision: $rev" >&2; exit 2; }
  timeout 600 dotnet publish "$OUT/src-$side/src/ActorTcp.Server" -c Release -o "$OUT/app-$side" \
    --artifacts-path "$OUT/artifacts-$side" > "$OUT/build-$side.log" 2>&1 || { cat "$OUT/build-$side.log" >&2; exit 1; }
done
(cd "$ROOT" && timeout 600 dotnet build -c Release src/ActorTcp.LoadTest > "$OUT/build-load.log" 2>&1) \
  || { cat "$OUT/build-load.log" >&2; exit 1; }
LOADGEN="$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest"

cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

echo "A = ${REVS[0]}, B = ${REVS[1]}: $CLIENTS idle clients each (PING every 5 s), server CPU over 12 s in % of one core"
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  servers=(); loads=()
  for side in a b; do
    # The server reads the hocon.conf published beside it.
    (cd "$OUT/app-$side" && exec ./ActorTcp.Server --port 0 --binary-port off) > "$OUT/server-$side.log" 2>&1 &
    servers+=("$!"); PIDS+=("$!")
    for _ in $(seq 1 300); do grep -q '^listening ' "$OUT/server-$side.log" && break; sleep 0.1; done
    port=$(sed -n 's/^listening text=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$OUT/server-$side.log")
    [[ -n $port ]] || { echo "server $side printed no listening line" >&2; exit 1; }
    timeout 180 "$LOADGEN" --port "$port" --scenario idle --clients "$CLIENTS" --heartbeat 5s --warmup 5s \
      --duration 30s --no-live > "$OUT/load-$side.txt" 2>&1 &
    loads+=("$!"); PIDS+=("$!")
  done
  for side in a b; do
    for _ in $(seq 1 60); do grep -q measuring "$OUT/load-$side.txt" 2>/dev/null && break; sleep 1; done
  done
  sleep 5
  a0=$(cpu_ns "${servers[0]}"); b0=$(cpu_ns "${servers[1]}")
  sleep 12
  a1=$(cpu_ns "${servers[0]}"); b1=$(cpu_ns "${servers[1]}")
  wait "${loads[@]}" || true
  kill -TERM "${servers[@]}" 2>/dev/null || true
  wait "${servers[@]}" 2>/dev/null || true
  line=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) \
    'BEGIN { printf "%.2f %.2f %.3f", a / 12e9 * 100, b / 12e9 * 100, (a > 0 ? b / a : 0) }')
  read -r pa pb ratio <<< "$line"
  ratios+=("$ratio")
  echo "round $round: A $pa %, B $pb %, B/A $ratio"
  # Let the last round's closed connections leave TIME_WAIT's way before the next ramp.
  [[ $round == "$ROUNDS" ]] || sleep 10
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "median B/A %.3f over %d rounds\n", m, NR }'
