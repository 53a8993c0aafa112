#!/usr/bin/env bash
# File streaming: ActorTcp's GET against a plain sender, measured in the same run, loopback only.
# Scenarios: one 1 GiB download, and 100 concurrent 10 MiB downloads. For each, MB/s (10^6 bytes per second,
# all clients together) and the server's peak RSS (VmHWM), for ActorTcp (Release build) and two baselines,
# a small C server that sends the file with sendfile(2) (zero-copy, the upper bound) and the same server
# copying through a 64 KiB buffer with read/send (what nc or socat do). Every server gets a fresh process per
# scenario; every process started here is stopped by its PID at the end; every download run is bounded.
#
#   bench/files.sh                        # build, then both scenarios on the three servers, 18 measured runs each,
#                                         # about 2 minutes
#   bench/files.sh --no-build --runs 1    # one measured run per (scenario, server)
#   bench/files.sh --big-mib 256 --clients 20 --small-mib 10 --out /tmp/files-bench
#   bench/files.sh --servers "sendfile epoll actortcp"   # a third baseline: the same C server sending from two
#                                         # epoll loops without blocking, as ActorTcp does (not run by default)
#
# Prints a markdown table (also saved as <out>/summary.md). The files are written before the runs and stay in
# the page cache, so the figures measure the servers, not the disk. Per scenario, the servers run side by side:
# all start, each is warmed by --warmup-runs unmeasured runs of the scenario, the script waits until every one
# is quiet (its compiler done), and then the measured runs take turns, one per server in an order that rotates
# and turns round (each server takes each place, and follows each other server, equally often), so a busy spell
# on this shared machine, or what the run before left behind, falls on every server alike. MB/s is reported as the median and the best of
# --runs runs; peak RSS is the server's VmHWM over its measured runs (reset once it is warm and quiet).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=1
RUNS=18
WARMUP_RUNS=10
BIG_MIB=1024
SMALL_MIB=10
CLIENTS=100
SERVERS="sendfile copy actortcp"
OUT=""
BOUND=300

usage() {
  sed -n '2,/^set -euo pipefail/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
flags: --no-build  --runs N [$RUNS]  --warmup-runs N [$WARMUP_RUNS]  --big-mib N [$BIG_MIB]  --small-mib N [$SMALL_MIB]  --clients N [$CLIENTS]
       --servers "sendfile copy epoll actortcp" (any of them; default: $SERVERS)  --out DIR  --bound SECONDS (per download run) [$BOUND]
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --runs) RUNS=$2; shift ;;
    --warmup-runs) WARMUP_RUNS=$2; shift ;;
    --big-mib) BIG_MIB=$2; shift ;;
    --small-mib) SMALL_MIB=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --bound) BOUND=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown flag $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

OUT=${OUT:-$ROOT/bench/results/files-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/actortcp-files-bench-XXXXXX")
ACTORTCP_DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

command -v cc >/dev/null || { log "a C compiler (cc) is needed: apt-get install gcc"; exit 1; }
log "compiling the client and the baseline server into $OUT"
cc -O2 -pthread -o "$OUT/getclient" "$ROOT/bench/files/getclient.c"
cc -O2 -pthread -o "$OUT/sendfile_server" "$ROOT/bench/files/sendfile_server.c"

if [[ $BUILD == 1 ]]; then
  log "building ActorTcp.Server (Release)"
  (cd "$ROOT" && timeout 600 dotnet build -c Release src/ActorTcp.Server > "$OUT/build.log" 2>&1) \
    || { log "build failed (see $OUT/build.log)"; exit 1; }
fi
[[ -f $ACTORTCP_DLL ]] || { log "ActorTcp server not built ($ACTORTCP_DLL)"; exit 1; }

BIG_BYTES=$((BIG_MIB * 1024 * 1024))
SMALL_BYTES=$((SMALL_MIB * 1024 * 1024))
# Real (random) bytes rather than sparse holes: a hole is served from the zero page and sendfile(2) has to
# allocate page cache for it on first use, which would skew the first server measured. Writing the files
# leaves them in the page cache, so every server reads from memory.
log "writing $BIG_MIB MiB and $SMALL_MIB MiB of random bytes under $DATA"
python3 - "$DATA" "$BIG_MIB" "$SMALL_MIB" <<'PY'
import os, sys
data, big, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = os.urandom(1 << 20)
for name, mib in (("big.bin", big), ("small.bin", small)):
    with open(os.path.join(data, name), "wb") as f:
        for _ in range(mib): f.write(block)
PY
cat "$DATA/big.bin" "$DATA/small.bin" > /dev/null

# start_server NAME FILE SCENARIO: starts it, records its PID and port in PID[NAME] and PORT[NAME]. FILE is what
# the baselines send; ActorTcp serves $DATA.
declare -A PID PORT
start_server() {
  local name=$1 file=$2 logfile=$OUT/$3-$1.server.log line="" cmd pid
  case $name in
    actortcp) cmd=(dotnet "$ACTORTCP_DLL" --port 0 --binary-port off --files "$DATA") ;;
    sendfile|copy|epoll) cmd=("$OUT/sendfile_server" "$file" "$name") ;;
  esac
  echo "(cd $ROOT && ${cmd[*]})" >> "$OUT/commands.txt"
  # exec: the PID we keep is the server's own, so its RSS and CPU time are read from the right process.
  (cd "$ROOT" && exec "${cmd[@]}") > "$logfile" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  PID[$name]=$pid
  for _ in $(seq 1 300); do
    line=$(grep -m1 -E '^(listening |port )' "$logfile" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "$pid" 2>/dev/null || { log "$name exited before listening (see $logfile)"; return 1; }
    sleep 0.1
  done
  [[ -n $line ]] || { log "$name printed no listening line within 30 s"; return 1; }
  if [[ $name == actortcp ]]; then
    PORT[$name]=$(sed -n 's/.*text=[^ ]*:\([0-9][0-9]*\).*/\1/p' <<< "$line")
  else
    PORT[$name]=${line#port }
  fi
}

stop_server() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# kib PID FIELD: a VmRSS/VmHWM figure of /proc/PID/status, in KiB.
kib() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# cpu_ticks PID: the CPU time the process has used, user and system, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_client NAME FILE_NAME FILE_BYTES CLIENTS: prints the client's report line.
run_client() {
  local name=$1 file=$2 bytes=$3 clients=$4
  if [[ $name == actortcp ]]; then
    timeout "$BOUND" "$OUT/getclient" actortcp "${PORT[$name]}" "$file" "$clients"
  else
    timeout "$BOUND" "$OUT/getclient" raw "${PORT[$name]}" "$bytes" "$clients"
  fi
}

# settle NAME...: waits until each of these servers used at most one clock tick of CPU (2 % of a core) in half a
# second, twice in a row; gives up after 30 s. A server on a JIT goes on compiling its hot code in the background
# for a while after its warm-up runs: measured meanwhile it is slower, and it takes CPU from the one measured beside it.
settle() {
  local name look quiet_looks=0
  local -A ticks
  for look in $(seq 1 60); do
    for name in "$@"; do ticks[$name]=$(cpu_ticks "${PID[$name]}"); done
    sleep 0.5
    quiet_looks=$((quiet_looks + 1))
    for name in "$@"; do
      (( $(cpu_ticks "${PID[$name]}") - ticks[$name] > 1 )) && quiet_looks=0
    done
    (( quiet_looks >= 2 )) && { log "servers quiet after $((look / 2)).$((look % 2 * 5)) s"; return 0; }
  done
  log "servers still busy after 30 s: measuring anyway"
}

# scenario SCENARIO FILE_NAME FILE_BYTES CLIENTS: appends "scenario server mbps_best mbps_median peak_kib idle_kib"
# per server to results.
scenario() {
  local scenario=$1 file=$2 bytes=$3 clients=$4 name names=() run i n report mbps
  local -A mbps_of idle
  for name in $SERVERS; do
    if start_server "$name" "$DATA/$file" "$scenario"; then
      names+=("$name")
    else
      echo "$scenario $name n/a n/a n/a n/a" >> "$OUT/results.txt"
    fi
  done
  n=${#names[@]}
  (( n > 0 )) || return 0
  # The scenario first, unmeasured, on every server alike (as the neutral harness warms each server): a server
  # on a JIT runs its first downloads on code it has not optimized yet. Measured on 2026-12-01: ActorTcp's
  # runtime compiled its first optimized (tier-1) methods only during the 5th run of 100 x 10 MiB, and was still
  # compiling in the 14th.
  for _ in $(seq 1 "$WARMUP_RUNS"); do
    for name in "${names[@]}"; do
      run_client "$name" "$file" "$bytes" "$clients" > /dev/null 2>> "$OUT/$scenario-$name.client.err" || true
    done
  done
  settle "${names[@]}"
  for name in "${names[@]}"; do
    idle[$name]=$(kib "${PID[$name]}" VmRSS)
    # Peak RSS from here on: "5" resets VmHWM to the current RSS (Linux 4.0+); without it, the peak since start.
    echo 5 > "/proc/${PID[$name]}/clear_refs" 2>/dev/null || true
    mbps_of[$name]=""
  done
  for run in $(seq 1 "$RUNS"); do
    # Each run starts with the next server, so no server is always measured first or last; and every n runs the
    # order turns round, so that each server also follows each other one equally often and what a run leaves
    # behind (in the page cache, the CPU's caches, the kernel's allocator) falls on every server alike.
    for i in $(seq 0 $((n - 1))); do
      j=$(( (run - 1 + i) % n ))
      (( (run - 1) / n % 2 == 1 )) && j=$(( n - 1 - j ))
      name=${names[$j]}
      if report=$(run_client "$name" "$file" "$bytes" "$clients" 2>> "$OUT/$scenario-$name.client.err"); then
        mbps=$(sed -n 's/.*mbps=\([0-9.]*\).*/\1/p' <<< "$report")
        log "$scenario on $name, run $run: $report"
        mbps_of[$name]+=" $mbps"
      else
        log "$scenario on $name, run $run failed: ${report:-timeout or error} (see $OUT/$scenario-$name.client.err)"
      fi
      echo "$scenario $name run$run $report" >> "$OUT/runs.txt"
    done
  done
  for name in "${names[@]}"; do
    echo "$scenario $name $(python3 -c '
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
print(f"{max(v):.1f} {statistics.median(v):.1f}" if v else "n/a n/a")' ${mbps_of[$name]}) $(kib "${PID[$name]}" VmHWM) ${idle[$name]}" \
      >> "$OUT/results.txt"
    stop_server "${PID[$name]}"
  done
}

: > "$OUT/results.txt"
log "scenario big: 1 x $BIG_MIB MiB; scenario small: $CLIENTS x $SMALL_MIB MiB concurrently; servers: $SERVERS"
scenario big big.bin "$BIG_BYTES" 1
scenario small small.bin "$SMALL_BYTES" "$CLIENTS"

python3 - "$OUT/results.txt" "$BIG_MIB" "$SMALL_MIB" "$CLIENTS" "$RUNS" > "$OUT/summary.md" <<'PY'
import sys
path, big, small, clients, runs = sys.argv[1:6]
rows = [line.split() for line in open(path) if line.strip()]
label = {"big": f"1 x {big} MiB", "small": f"{clients} x {small} MiB concurrent"}
server = {"sendfile": "baseline: C sendfile(2)", "copy": "baseline: C read/send 64 KiB",
          "epoll": "C sendfile(2) from epoll loops", "actortcp": "ActorTcp GET"}
def num(v):
    try: return float(v)
    except ValueError: return None
def ratio(a, b): return f"{a / b:.2f}" if a and b else "n/a"
def mbs(v): return f"{v:,.0f}" if v else "n/a"
def mib(k): return f"{k / 1024:.1f}" if k else "n/a"
print(f"MB/s: median and best of {runs} runs per server, the servers taking turns; ratios of medians and of bests.")
print()
print("| scenario | server | MB/s median | MB/s best | vs sendfile | vs sendfile, best | vs read/send | peak RSS MiB | RSS before MiB |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for scenario in ("big", "small"):
    these = {r[1]: [num(v) for v in r[2:6]] for r in rows if r[0] == scenario}
    for name, (best, median, peak, idle) in these.items():
        send, copy = these.get("sendfile", [None] * 4), these.get("copy", [None] * 4)
        print(f"| {label[scenario]} | {server.get(name, name)} | {mbs(median)} | {mbs(best)} | {ratio(median, send[1])} | "
              f"{ratio(best, send[0])} | {ratio(median, copy[1])} | {mib(peak)} | {mib(idle)} |")
PY
cat "$OUT/summary.md"
log "details in $OUT (commands.txt, runs.txt, server logs)"
