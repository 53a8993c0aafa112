#!/usr/bin/env bash
# Soak: N clients of mixed traffic (idle heartbeats, echo, downloads, churn) against one server for a long
# window; the server's RSS is sampled every 5 s. Passes when the load generator counts no error (no
# unexpected disconnect, no wrong or late reply) and the RSS at the end is within MARGIN % of the RSS once
# all clients are up.
#   bench/soak.sh [clients=10000] [duration=600s] [margin=15]
# Loopback only; everything started here is ended by PID; every run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-10000}; DURATION=${2:-600s}; MARGIN=${3:-15}
work=$(mktemp -d); server=""; sampler=""
cleanup() { [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true; [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release src/ActorTcp.Server -v q -nologo >/dev/null
dotnet build -c Release src/ActorTcp.LoadTest -v q -nologo >/dev/null
mkdir -p "$work/files"; head -c $((1024 * 1024)) /dev/urandom > "$work/files/soak.bin"
dotnet src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll --port 0 --binary-port off --files "$work/files" \
  > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 1 100); do grep -q '^listening' "$work/server.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening text=[0-9.]*:\([0-9]*\).*/\1/p' "$work/server.out")

( while kill -0 "$server" 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$server/status 2>/dev/null)"; sleep 5
  done ) > "$work/rss.txt" &
sampler=$!

secs=${DURATION%s}
set +e
timeout $((secs + 600)) dotnet src/ActorTcp.LoadTest/bin/Release/net10.0/ActorTcp.LoadTest.dll \
  --port "$port" --scenario mixed --mix idle=80,echo=10,download=5,churn=5 --clients "$CLIENTS" \
  --heartbeat 5s --file soak.bin --file-local "$work/files/soak.bin" --ramp 2000 --warmup 5s \
  --duration "$DURATION" --server-pid "$server" --source-ips 4 --no-live --json "$work/result.json" > "$work/loadtest.txt" 2>&1
lt=$?
set -e
kill "$sampler" 2>/dev/null || true; sampler=""
tail -n 40 "$work/loadtest.txt"
python3 - "$work/result.json" "$work/rss.txt" "$MARGIN" "$lt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); margin = float(sys.argv[3]); lt = int(sys.argv[4])
rss = [int(l.split()[1]) for l in open(sys.argv[2]) if len(l.split()) == 2]
srv = r.get("server") or {}
start, ready, end = srv.get("rss_kb_start"), srv.get("rss_kb_ready"), srv.get("rss_kb_end")
errors = r.get("errors", {})
nerr = sum(errors.values()) if isinstance(errors, dict) else errors
peak = max(rss) if rss else None
base = ready or (rss[0] if rss else None)
drift = (end - base) * 100.0 / base if base and end else float("nan")
ok = lt == 0 and nerr == 0 and abs(drift) <= margin and r.get("clients_failed", 1) == 0
print("| clients | window | RSS start kB | RSS all up kB | RSS end kB | RSS peak kB | end vs all up | errors | verdict |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
print(f"| {r.get('clients', '?')} | {r.get('window_s', '?'):.0f} s | {start} | {ready} | {end} | {peak} | {drift:+.1f} % | {nerr} | {'PASS' if ok else 'FAIL'} |")
if nerr: print("errors:", json.dumps(errors))
sys.exit(0 if ok else 1)
PY
