#!/usr/bin/env bash
# ActorTcp against the Kestrel baseline (bench/baseline), measured in the same run with ActorTcp.LoadTest,
# loopback only. Each (scenario, server) gets a fresh server process; every process started here is
# stopped by its PID at the end, and every load run is bounded by `timeout`.
#
#   bench/loadtest.sh                 # build, then all scenarios, about 8 minutes
#   bench/loadtest.sh --quick         # short windows, about 3 minutes
#   bench/loadtest.sh --no-build --scenarios "echo churn" --servers "actortcp baseline" --out /tmp/lt
#
# Prints a markdown table (also saved as <out>/summary.md) with ActorTcp's figure, the baseline's, and the ratio.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCENARIOS="echo idle10k idle19k churn"
SERVERS="baseline actortcp"
BUILD=1
QUICK=0
OUT=""
ECHO_CLIENTS=1000; ECHO_DURATION=20; ECHO_PAYLOAD=64
IDLE_HEARTBEAT=5s; IDLE10_DURATION=30; IDLE19_DURATION=60
CHURN_CLIENTS=50; CHURN_DURATION=20
RAMP=5000

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
flags: --quick  --no-build  --out DIR  --scenarios "echo idle10k idle19k churn"  --servers "baseline actortcp"
       --echo-clients N [$ECHO_CLIENTS]  --echo-duration S [$ECHO_DURATION]  --idle10-duration S [$IDLE10_DURATION]
       --idle19-duration S [$IDLE19_DURATION]  --churn-clients N [$CHURN_CLIENTS]  --churn-duration S [$CHURN_DURATION]
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --echo-clients) ECHO_CLIENTS=$2; shift ;;
    --echo-duration) ECHO_DURATION=$2; shift ;;
    --idle10-duration) IDLE10_DURATION=$2; shift ;;
    --idle19-duration) IDLE19_DURATION=$2; shift ;;
    --churn-clients) CHURN_CLIENTS=$2; shift ;;
    --churn-duration) CHURN_DURATION=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown flag $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  ECHO_DURATION=5; IDLE10_DURATION=10; IDLE19_DURATION=15; CHURN_DURATION=5
fi
OUT=${OUT:-$ROOT/bench/results/loadtest-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
ACTORTCP_DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll
BASELINE_DLL=$ROOT/bench/baseline/bin/Release/net10.0/ActorTcp.Baseline.dll

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ $BUILD == 1 ]]; then
  log "building (Release)"
  for project in src/ActorTcp.LoadTest bench/baseline src/ActorTcp.Server; do
    if ! (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$OUT/build-$(basename "$project").log" 2>&1); then
      log "build of $project failed (see $OUT/build-$(basename "$project").log)"
      [[ $project == src/ActorTcp.Server ]] || exit 1
    fi
  done
fi
[[ -x $LOADGEN ]] || { log "no load generator at $LOADGEN"; exit 1; }

# start_server NAME LABEL [extra server flags...]: sets SERVER_PID and SERVER_PORT (text listener).
start_server() {
  local name=$1 label=$2; shift 2
  local logfile=$OUT/$label-$name.server.log cmd
  case $name in
    actortcp)
      [[ -f $ACTORTCP_DLL ]] || { log "ActorTcp server not built ($ACTORTCP_DLL)"; return 1; }
      cmd=(dotnet "$ACTORTCP_DLL" --port 0 --binary-port 0)
      [[ -f $ROOT/config/loadtest.conf ]] && cmd+=(--config config/loadtest.conf)
      ;;
    baseline)
      [[ -f $BASELINE_DLL ]] || { log "baseline not built ($BASELINE_DLL)"; return 1; }
      cmd=(dotnet "$BASELINE_DLL" --port 0 --binary-port 0 --files config/files)
      ;;
  esac
  cmd+=("$@")
  echo "(cd $ROOT && ${cmd[*]})" >> "$OUT/commands.txt"
  # exec: the PID we keep is the server's own, so RSS and CPU are read from the right process.
  (cd "$ROOT" && exec "${cmd[@]}") > "$logfile" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local line=""
  for _ in $(seq 1 300); do
    line=$(grep -m1 '^listening ' "$logfile" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "$name exited before listening (see $logfile)"; return 1; }
    sleep 0.1
  done
  [[ -n $line ]] || { log "$name printed no listening line within 30 s"; stop_server; return 1; }
  SERVER_PORT=$(sed -n 's/.*text=[^ ]*:\([0-9][0-9]*\).*/\1/p' <<< "$line")
  log "$name up: pid $SERVER_PID, $line"
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# measure LABEL SERVER BOUND_SECONDS [server flags --] loadgen flags...
measure() {
  local label=$1 name=$2 bound=$3; shift 3
  local server_flags=()
  if [[ ${1:-} == --server-flags ]]; then
    shift
    while [[ $1 != -- ]]; do server_flags+=("$1"); shift; done
    shift
  fi
  if ! start_server "$name" "$label" "${server_flags[@]}"; then
    echo '{"skipped": true}' > "$OUT/$label-$name.json"
    return 0
  fi
  local args=(--port "$SERVER_PORT" --server-pid "$SERVER_PID" --json "$OUT/$label-$name.json" --no-live "$@")
  echo "$LOADGEN ${args[*]}" >> "$OUT/commands.txt"
  log "$label on $name: ActorTcp.LoadTest ${args[*]}"
  local rc=0
  timeout "$bound" "$LOADGEN" "${args[@]}" > "$OUT/$label-$name.txt" 2>&1 || rc=$?
  log "$label on $name: exit $rc ($(grep -m1 '^total' "$OUT/$label-$name.txt" || echo 'no report'))"
  [[ -f $OUT/$label-$name.json ]] || echo "{\"skipped\": true, \"exit\": $rc}" > "$OUT/$label-$name.json"
  stop_server
  sleep 1
}

# Servers take turns going first, so neither always runs on a freshly idle box.
order() {
  local i=$1 list=($SERVERS)
  if (( i % 2 == 1 )) && (( ${#list[@]} == 2 )); then echo "${list[1]} ${list[0]}"; else echo "${list[*]}"; fi
}

i=0
for scenario in $SCENARIOS; do
  for server in $(order $i); do
    case $scenario in
      echo)
        measure echo "$server" $((ECHO_DURATION + 120)) \
          --scenario echo --clients "$ECHO_CLIENTS" --payload "$ECHO_PAYLOAD" --pipeline 1 \
          --ramp "$RAMP" --warmup 2s --duration "${ECHO_DURATION}s" ;;
      idle10k)
        measure idle10k "$server" $((IDLE10_DURATION + 150)) \
          --scenario idle --clients 10000 --heartbeat "$IDLE_HEARTBEAT" --ramp "$RAMP" \
          --warmup 2s --duration "${IDLE10_DURATION}s" ;;
      idle19k)
        # Past the ActorTcp default (max-connections auto = about 18,500 here): config/loadtest.conf lowers
        # max-downloads, which lets auto reach 19,400. Two generator processes, since each process may hold only
        # 20,000 descriptors.
        measure idle19k "$server" $((IDLE19_DURATION + 180)) \
          --scenario idle --clients 19000 --processes 2 --source-ips 2 --heartbeat "$IDLE_HEARTBEAT" \
          --ramp "$RAMP" --warmup 2s --duration "${IDLE19_DURATION}s" ;;
      churn)
        measure churn "$server" $((CHURN_DURATION + 120)) \
          --scenario churn --clients "$CHURN_CLIENTS" --duration "${CHURN_DURATION}s" ;;
      *) log "unknown scenario $scenario"; exit 2 ;;
    esac
  done
  i=$((i + 1))
done

python3 - "$OUT" "$SCENARIOS" > "$OUT/summary.md" <<'PY'
import json, os, sys
out, scenarios = sys.argv[1], sys.argv[2].split()

def load(label, server):
    try:
        with open(os.path.join(out, f"{label}-{server}.json")) as f:
            d = json.load(f)
        return None if d.get("skipped") else d
    except (OSError, ValueError):
        return None

def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"

def ratio(a, b):
    return "n/a" if a is None or b in (None, 0) else f"{a / b:.2f}×"

rows = []
def row(name, label, getter, digits=0, lower_is_better=False):
    a, b = load(label, "actortcp"), load(label, "baseline")
    va = getter(a) if a else None
    vb = getter(b) if b else None
    rows.append(f"| {name} | {fmt(va, digits)} | {fmt(vb, digits)} | {ratio(va, vb)}{' (lower is better)' if lower_is_better else ''} |")

def busy(d):
    return d.get("machine_busy_pct")

def errors(d):
    return sum(d["errors"].values())

def alive(d):
    return d["alive_at_window_end"]

for s in scenarios:
    if s == "echo":
        row("echo: replies/s (1,000 clients, 64 B, pipeline 1)", s, lambda d: d["ops"].get("echo", {}).get("per_second"))
        row("echo: p99 latency, ms", s, lambda d: d["ops"].get("echo", {}).get("p99_ms"), 2, True)
        row("echo: server CPU, % of one core", s, lambda d: d["server"]["cpu_pct"], 0, True)
        row("echo: load generator CPU, % of one core", s, lambda d: d["loadgen"]["cpu_pct"])
        row("echo: errors", s, errors)
        row(f"echo: whole machine busy, % of 200 (generator + server + anything else)", s, busy)
    elif s in ("idle10k", "idle19k"):
        n = "10,000" if s == "idle10k" else "19,000"
        row(f"idle {n}: server RSS per connection, bytes", s, lambda d: d["server"]["rss_bytes_per_conn"], 0, True)
        row(f"idle {n}: server CPU, % of one core (PING every 5 s)", s, lambda d: d["server"]["cpu_pct"], 1, True)
        row(f"idle {n}: clients alive at the window's end", s, alive)
        row(f"idle {n}: PONG p99, ms", s, lambda d: d["ops"].get("ping", {}).get("p99_ms"), 2, True)
        row(f"idle {n}: load generator CPU, % of one core", s, lambda d: d["loadgen"]["cpu_pct"], 1)
        row(f"idle {n}: errors", s, errors)
        row(f"idle {n}: whole machine busy, % of 200 (generator + server + anything else)", s, busy)
    elif s == "churn":
        row("churn: connections/s (50 loops of connect, name, QUIT)", s, lambda d: d["ops"].get("cycle", {}).get("per_second"))
        row("churn: cycle p99, ms", s, lambda d: d["ops"].get("cycle", {}).get("p99_ms"), 2, True)
        row("churn: load generator CPU, % of one core", s, lambda d: d["loadgen"]["cpu_pct"])
        row("churn: errors", s, errors)
        row(f"churn: whole machine busy, % of 200 (generator + server + anything else)", s, busy)

print("| figure | ActorTcp | baseline (Kestrel) | ActorTcp ÷ baseline |")
print("|---|---:|---:|---:|")
print("\n".join(rows))
notes = []
for s in scenarios:
    for server in ("actortcp", "baseline"):
        d = load(s, server)
        if d and d["errors"]:
            notes.append(f"- {s} on {server}: " + ", ".join(f"{v:,} × {k}" for k, v in d["errors"].items()))
if notes:
    print("\nErrors seen:")
    print("\n".join(notes))
PY
cat "$OUT/summary.md"
echo
echo "results: $OUT (commands.txt has every command line)"
