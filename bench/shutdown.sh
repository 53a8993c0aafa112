#!/usr/bin/env bash
# Shutdown under load: SIGTERM to a server holding N clients with downloads in flight.
# Every client must get `ERR server shutting down` (a downloader after its whole file), the downloads must
# finish within drain-timeout, and the server must exit 0.
#   bench/shutdown.sh [clients=10000] [downloads=50] [file MiB=4]  (sized so the downloads can finish within drain-timeout)
# The clients wait idle while 10,000 of them connect, so the server runs with --idle-timeout 10m.
# Loopback only; the server and the clients run in separate processes (one process holds at most ~20,000
# descriptors); everything started here is ended by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-10000}; DOWNLOADS=${2:-50}; MIB=${3:-4}
work=$(mktemp -d); server=""; clients=""
cleanup() { [ -n "$clients" ] && kill "$clients" 2>/dev/null || true; [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release src/ActorTcp.Server -v q -nologo >/dev/null
mkdir -p "$work/files"; head -c $((MIB * 1024 * 1024)) /dev/urandom > "$work/files/big.bin"
dotnet src/ActorTcp.Server/bin/Release/net10.0/ActorTcp.Server.dll --port 0 --binary-port off --files "$work/files" --idle-timeout 10m \
  > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 1 100); do grep -q '^listening' "$work/server.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening text=[0-9.]*:\([0-9]*\).*/\1/p' "$work/server.out")
echo "server pid $server on port $port; $CLIENTS clients, $DOWNLOADS downloading ${MIB} MiB each"

python3 bench/shutdown_client.py --port "$port" --clients "$CLIENTS" --downloads "$DOWNLOADS" > "$work/clients.out" &
clients=$!
for _ in $(seq 1 1200); do grep -q READY "$work/clients.out" && break; sleep 0.1; done
rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
start=$(date +%s.%N)
kill -TERM "$server"
set +e; wait "$server"; code=$?; set -e
server=""
stop=$(date +%s.%N)
wait "$clients"; clients=""
echo "server RSS before SIGTERM: ${rss} kB; exit code $code after $(echo "$stop - $start" | bc) s"
tail -n 1 "$work/clients.out"
python3 - "$work/clients.out" "$CLIENTS" "$DOWNLOADS" "$code" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); n, d, code = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ok = r["told"] == n and r["downloads_complete"] == d and code == 0 and r["bad_count"] == 0
print(f"| clients | told ERR server shutting down | downloads complete | exit code | verdict |")
print(f"|---:|---:|---:|---:|---|")
print(f"| {n} | {r['told']} | {r['downloads_complete']}/{d} | {code} | {'PASS' if ok else 'FAIL'} |")
sys.exit(0 if ok else 1)
PY
