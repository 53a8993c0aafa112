#!/usr/bin/env bash
# A real Prometheus server scraping a running ActorTcp node while the load generator holds clients on both
# listeners; prints what Prometheus's HTTP API saw of actortcp_active_connections. Loopback only; ends by itself
# (about 40 s).
#
#   bench/prometheus.sh                      # build (Release), 1,000 text + 500 binary idle clients for 20 s
#   bench/prometheus.sh --no-build --clients 200 --seconds 10
#
# Needs the `prometheus` server binary (Debian package prometheus, which .ci/run installs for promtool).
# The cluster part (three nodes scraped at once) comes with cluster mode.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=1 CLIENTS=1000 SECONDS_HELD=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --seconds) SECONDS_HELD=$2; shift 2 ;;
    *) echo "usage: $0 [--no-build] [--clients N] [--seconds S]" >&2; exit 2 ;;
  esac
done
command -v prometheus >/dev/null || { echo "prometheus not found (apt-get install prometheus)" >&2; exit 1; }
SERVER_DLL=$ROOT/src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll
LOADGEN=$ROOT/src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest
WORK=$(mktemp -d /tmp/actortcp-prometheus.XXXXXX)

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ $BUILD == 1 ]]; then
  log "building (Release)"
  for project in src/ActorTcp.Server src/ActorTcp.LoadTest; do
    (cd "$ROOT" && timeout 600 dotnet build -c Release "$project" > "$WORK/build.log" 2>&1) || { cat "$WORK/build.log" >&2; exit 1; }
  done
fi

# The node, every port chosen by the system and read from its listening line.
(cd "$ROOT" && exec dotnet "$SERVER_DLL" --port 0 --binary-port 0 --metrics-port 0) > "$WORK/server.log" 2>&1 &
PIDS+=($!)
line=""
for _ in $(seq 1 300); do
  line=$(grep -m1 '^listening ' "$WORK/server.log" || true); [[ -n $line ]] && break; sleep 0.1
done
[[ -n $line ]] || { cat "$WORK/server.log" >&2; exit 1; }
log "$line"
key() { tr ' ' '\n' <<<"$line" | sed -n "s/^$1=//p"; }
TEXT_PORT=$(key text | cut -d: -f2); BINARY_PORT=$(key binary | cut -d: -f2); METRICS=$(key metrics)

# Prometheus on a free loopback port (picked by the system, then handed over), scraping every second.
PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: actortcp
    static_configs:
      - targets: ["$METRICS"]
YML
promtool check config "$WORK/prometheus.yml" >/dev/null
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
API=http://127.0.0.1:$PROM_PORT/api/v1
for _ in $(seq 1 100); do curl -sf "$API/status/buildinfo" >/dev/null && break; sleep 0.2; done
log "prometheus $(curl -s "$API/status/buildinfo" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["version"])') on 127.0.0.1:$PROM_PORT scraping $METRICS"

# Idle clients on both listeners, held for the window.
half=$((CLIENTS / 2))
common=(--scenario idle --heartbeat 5s --ramp 500 --warmup 0s --duration "${SECONDS_HELD}s" --no-live)
"$LOADGEN" --port "$TEXT_PORT" --clients "$CLIENTS" "${common[@]}" > "$WORK/load-text.log" 2>&1 &
PIDS+=($!); LOAD_TEXT=$!
"$LOADGEN" --port "$BINARY_PORT" --framing binary --clients "$half" --name-prefix lb "${common[@]}" > "$WORK/load-binary.log" 2>&1 &
PIDS+=($!); LOAD_BINARY=$!

query() {  # query PROMQL -> "label=value ..." per series
  curl -sG "$API/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join((s["metric"].get("listener") or "all") + "=" + s["value"][1] for s in r) or "(no data)")'
}
log "what Prometheus sees while the load generator holds $CLIENTS text and $half binary clients:"
end=$((SECONDS + SECONDS_HELD + 10))
while kill -0 "$LOAD_TEXT" 2>/dev/null && [[ $SECONDS -lt $end ]]; do
  printf '  %s  actortcp_active_connections: %s\n' "$(date +%H:%M:%S)" "$(query actortcp_active_connections)"
  sleep 3
done
wait "$LOAD_TEXT" || true; wait "$LOAD_BINARY" || true
sleep 2
echo "peak over the run (max_over_time, 2m): $(query 'max_over_time(actortcp_active_connections[2m])')"
echo "accepted: $(query actortcp_accepted_connections_total)"
echo "closes by reason: $(curl -sG "$API/query" --data-urlencode 'query=actortcp_closed_connections_total > 0' | python3 -c '
import json, sys
print(" ".join(s["metric"]["reason"] + "=" + s["value"][1] for s in json.load(sys.stdin)["data"]["result"]) or "none")')"
echo "now: $(query actortcp_active_connections)"
echo "target health: $(curl -s "$API/targets" | python3 -c 'import json,sys; print(" ".join(t["health"] for t in json.load(sys.stdin)["data"]["activeTargets"]))')"
echo "load generator (text): $(grep -m1 -iE 'completed' "$WORK/load-text.log" || tail -n 1 "$WORK/load-text.log")"
echo "load generator (binary): $(grep -m1 -iE 'completed' "$WORK/load-binary.log" || tail -n 1 "$WORK/load-binary.log")"
