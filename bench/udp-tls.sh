#!/usr/bin/env bash
# UDP and TLS costs, loopback only, every process started here stopped by its PID, every run bounded.
#  1. UDP heartbeats absorbed: a flood of HEARTBEAT datagrams (wrong keys: the worst case, a look-up each) from
#     --addresses source addresses for --seconds; the kernel's UDP counters say how many reached the server's
#     socket and how many it had to drop because the server did not keep up (RcvbufErrors), and the server's RSS
#     is sampled before and after (its rate table is bounded by udp-max-addresses).
#  2. Idle TLS memory: --clients TLS clients complete the handshake and the dialog and stay idle; the server's
#     RSS per connection, next to the same number of plain text clients measured the same way.
#
#   bench/udp-tls.sh                    # build (Release), then both; about a minute
#   bench/udp-tls.sh --no-build --seconds 5 --clients 500
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=1; SECONDS_=10; ADDRESSES=200; CLIENTS=2000; SENDERS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --seconds) SECONDS_=$2; shift ;;
    --addresses) ADDRESSES=$2; (( ADDRESSES >= 1 && ADDRESSES <= 240 )) || { echo "--addresses: 1 to 240"; exit 2; }; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --senders) SENDERS=$2; shift ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
  shift
done

OUT=$(mktemp -d /tmp/actortcp-udp-tls.XXXX)
APP="$OUT/app"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [[ $BUILD == 1 ]]; then
  dotnet publish "$ROOT/src/ActorTcp.Server" -c Release -o "$APP" -nologo -v q >"$OUT/build.log"
else
  dotnet build "$ROOT/src/ActorTcp.Server" -c Release -nologo -v q >"$OUT/build.log"
  APP="$ROOT/src/ActorTcp.Server/bin/Release/net10.0"
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
udp_counter() { awk -v k="$1" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n[k] }' /proc/net/snmp; }

start_server() {  # start_server NAME FLAGS... -> sets SERVER_PID and LINE
  (cd "$APP" && exec ./ActorTcp.Server --port 0 --binary-port off "$@" >"$OUT/$NAME.out" 2>"$OUT/$NAME.err") &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  for _ in $(seq 1 300); do grep -q '^listening' "$OUT/$NAME.out" 2>/dev/null && break; sleep 0.1; done
  LINE=$(grep '^listening' "$OUT/$NAME.out")
}
port_of() { echo "$LINE" | tr ' ' '\n' | awk -F'[=:]' -v k="$1" '$1 == k {print $3}'; }

echo "# UDP flood: $SENDERS senders x $ADDRESSES addresses, ${SECONDS_}s of HEARTBEAT with unknown keys"
NAME=udp start_server --udp-port 0 --config <(echo 'actor-tcp { udp-max-per-second = 1000000000 }')
UDP=$(port_of udp)
rss0=$(rss_kib "$SERVER_PID"); in0=$(udp_counter InDatagrams); drop0=$(udp_counter RcvbufErrors)
cpu0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
sent=0
for i in $(seq 1 "$SENDERS"); do
  python3 "$ROOT/bench/udp-tls/flood.py" --port "$UDP" --seconds "$SECONDS_" --addresses "$ADDRESSES" \
    --first 2 >"$OUT/flood$i.txt" &
  PIDS+=($!)
done
wait "${PIDS[@]:1}" 2>/dev/null || true
for i in $(seq 1 "$SENDERS"); do sent=$(( sent + $(cat "$OUT/flood$i.txt") )); done
sleep 1
in1=$(udp_counter InDatagrams); drop1=$(udp_counter RcvbufErrors); rss1=$(rss_kib "$SERVER_PID")
cpu1=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
hz=$(getconf CLK_TCK)
echo "| sent/s | read by the server/s | dropped by the kernel (server behind) | server CPU % | server RSS before → after |"
echo "|---:|---:|---:|---:|---:|"
echo "| $(( sent / SECONDS_ )) | $(( (in1 - in0) / SECONDS_ )) | $(( drop1 - drop0 )) | $(( (cpu1 - cpu0) * 100 / hz / SECONDS_ )) | $(( rss0 / 1024 )) → $(( rss1 / 1024 )) MiB |"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

echo
echo "# Idle memory: $CLIENTS clients after the dialog, TLS against plain text"
echo "| listener | RSS per connection |"
echo "|---|---:|"
for kind in plain tls; do
  NAME=$kind start_server --tls-port 0 --tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem"
  port=$(port_of text); flag=--plain
  [[ $kind == tls ]] && { port=$(port_of tls); flag=""; }
  before=$(rss_kib "$SERVER_PID")
  python3 "$ROOT/bench/udp-tls/idle_tls.py" --port "$port" --clients "$CLIENTS" --hold 8 $flag >"$OUT/$kind-clients.txt" &
  CLIENT=$!; PIDS+=("$CLIENT")
  for _ in $(seq 1 600); do grep -q up "$OUT/$kind-clients.txt" 2>/dev/null && break; sleep 0.1; done
  sleep 4
  after=$(rss_kib "$SERVER_PID")
  echo "| $kind | $(( (after - before) * 1024 / CLIENTS )) B |"
  wait "$CLIENT" || true
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
done
echo
echo "(logs in $OUT)"
