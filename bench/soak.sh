#!/usr/bin/env bash
# Soak: N clients of mixed traffic (idle heartbeats, echo, downloads, churn) against one server for a long
# window; the server's RSS is sampled every 5 s and printed per minute. Passes when the load generator counts
# no error (no unexpected disconnect, no wrong or late reply) and the RSS at the end is within MARGIN % of the
# RSS a third into the window (the first minutes are the heap growing to its working size, not a leak).
#   bench/soak.sh [clients=10000] [duration=600s] [margin=10]
# The samples and the generator's report are kept in bench/results/soak-<time>/.
# Loopback only; everything started here is ended by PID; every run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-10000}; DURATION=${2:-600s}; MARGIN=${3:-10}
keep=bench/results/soak-$(date +%Y%m%d-%H%M%S); mkdir -p "$keep"
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
cp "$work/rss.txt" "$work/loadtest.txt" "$work/result.json" "$keep/" 2>/dev/null || true
tail -n 40 "$work/loadtest.txt"
python3 - "$work/result.json" "$work/rss.txt" "$MARGIN" "$lt" "${DURATION%s}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); margin = float(sys.argv[3]); lt = int(sys.argv[4]); window = float(sys.argv[5])
samples = [(int(a), int(b)) for a, b in (l.split() for l in open(sys.argv[2]) if len(l.split()) == 2)]
srv = r.get("server") or {}
start, ready, end = srv.get("rss_kb_start"), srv.get("rss_kb_ready"), srv.get("rss_kb_end")
errors = r.get("errors", {})
nerr = sum(errors.values()) if isinstance(errors, dict) else errors
peak = max(b for _, b in samples) if samples else None
# The window is the last `window` seconds of sampling (the generator stops right after it).
t_end = samples[-1][0] if samples else 0
in_window = [(t, b) for t, b in samples if t >= t_end - window]
third = in_window[len(in_window) // 3][1] if in_window else None
drift = (end - third) * 100.0 / third if third and end else float("nan")
print("RSS per minute of the window (kB):", " ".join(str(b) for t, b in in_window[::12]))
ok = lt == 0 and nerr == 0 and r.get("clients_failed", 1) == 0 and abs(drift) <= margin
print("| clients | window | RSS start kB | RSS all up kB | RSS a third in kB | RSS end kB | RSS peak kB | end vs a third in | errors | verdict |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
print(f"| {r.get('clients', '?')} | {r.get('window_s', 0):.0f} s | {start} | {ready} | {third} | {end} | {peak} | {drift:+.1f} % | {nerr} | {'PASS' if ok else 'FAIL'} |")
if nerr: print("errors:", json.dumps(errors))
sys.exit(0 if ok else 1)
PY
