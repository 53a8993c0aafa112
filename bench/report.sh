#!/usr/bin/env bash
# The load generator's HTML report, drawn once by a real browser: a short echo run against a fresh server writes
# the report (--report), then headless Chromium renders it to a PNG that is kept beside it. Loopback only; every
# process started here is stopped by its PID, and every step is bounded by `timeout`.
#
#   bench/report.sh                              # build, 200 clients for 10 s, report + screenshot (about 1 minute)
#   bench/report.sh --clients 500 --duration 20 --out /tmp/report
#   bench/report.sh --render some/report.html    # only the browser step, for a report that already exists
#
# The browser resolves no host name (every name maps to NOTFOUND), so the screenshot shows what the file holds
# by itself, exactly as someone offline would see it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=200
DURATION=10
BUILD=1
OUT=""
RENDER=""

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  echo "flags: --render FILE  --out DIR  --clients N [$CLIENTS]  --duration S [$DURATION]  --no-build"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --render) RENDER=$2; shift ;;
    --out) OUT=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown flag $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

ensure_chromium() {
  [[ -n $(find_chromium) ]] && return 0
  log "installing chromium (apt)"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null \
    || { log "apt-get install chromium failed"; exit 1; }
}

# render HTML PNG: one screenshot of the whole report at a desktop width.
render() {
  local html=$1 png=$2 profile
  [[ -f $html ]] || { log "no report at $html"; exit 1; }
  ensure_chromium
  html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
  profile=$(mktemp -d)
  rm -f "$png"
  log "rendering $html"
  # A throwaway profile, no first-run work, no background requests; --no-sandbox because this runs as root.
  timeout 120 "$(find_chromium)" --headless --disable-gpu --no-sandbox --hide-scrollbars \
    --user-data-dir="$profile" --no-first-run --disable-extensions --disable-background-networking \
    --disable-component-update --disable-sync --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size=1280,2400 --screenshot="$png" "file://$html" > "$OUT/chromium.log" 2>&1 || true
  rm -rf "$profile"
  [[ -s $png ]] || { log "chromium wrote no screenshot (see $OUT/chromium.log)"; exit 1; }
  log "screenshot: $png ($(stat -c %s "$png") bytes)"
}

if [[ -n $RENDER ]]; then
  OUT=${OUT:-$(dirname "$RENDER")}
  mkdir -p "$OUT"
  render "$RENDER" "$OUT/$(basename "${RENDER%.*}").png"
  exit 0
fi

OUT=${OUT:-$ROOT/bench/results/report-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
SERVER_DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll

if [[ $BUILD == 1 ]]; then
  for project in src/ActorTcp.Server src/ActorTcp.LoadTest; do
    log "building $project (Release)"
    (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$OUT/build-$(basename "$project").log" 2>&1) \
      || { log "build of $project failed (see $OUT/build-$(basename "$project").log)"; exit 1; }
  done
fi
[[ -x $LOADGEN ]] || { log "no load generator at $LOADGEN"; exit 1; }
[[ -f $SERVER_DLL ]] || { log "no server at $SERVER_DLL"; exit 1; }

# The server binds port 0 and says where it listens; exec keeps the PID we stop the server's own.
(cd "$ROOT" && exec dotnet "$SERVER_DLL" --port 0 --binary-port 0) > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
line=""
for _ in $(seq 1 300); do
  line=$(grep -m1 '^listening ' "$OUT/server.log" 2>/dev/null || true)
  [[ -n $line ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited before listening (see $OUT/server.log)"; exit 1; }
  sleep 0.1
done
[[ -n $line ]] || { log "the server printed no listening line within 30 s"; exit 1; }
PORT=$(sed -n 's/.*text=[^ ]*:\([0-9][0-9]*\).*/\1/p' <<< "$line")
log "server up: pid $SERVER_PID, $line"

args=(--port "$PORT" --clients "$CLIENTS" --duration "$DURATION" --server-pid "$SERVER_PID"
      --report "$OUT/report.html" --json "$OUT/report.json" --no-live)
echo "ActorTcp.LoadTest ${args[*]}" > "$OUT/command.txt"
log "ActorTcp.LoadTest ${args[*]}"
rc=0
timeout $((DURATION + 180)) "$LOADGEN" "${args[@]}" > "$OUT/loadtest.txt" 2>&1 || rc=$?
log "load test exit $rc ($(grep -m1 '^total' "$OUT/loadtest.txt" || echo 'no summary'))"
[[ -f $OUT/report.html ]] || { log "the load test wrote no report (see $OUT/loadtest.txt)"; exit 1; }

render "$OUT/report.html" "$OUT/report.png"
echo "$OUT/report.html"
echo "$OUT/report.png"
exit "$rc"
