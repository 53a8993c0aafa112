#!/usr/bin/env python3
"""Opens N TLS connections to the server, completes the handshake and the name dialog on each, holds them
idle for --hold seconds, then closes them. Prints when all are up, so that the caller can sample RSS."""
import argparse, socket, ssl, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--clients", type=int, default=1000)
p.add_argument("--hold", type=float, default=10)
p.add_argument("--plain", action="store_true", help="plain TCP on the text port instead, for comparison")
a = p.parse_args()
assert a.clients <= 5000 and a.hold <= 120
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = []
for i in range(a.clients):
    raw = socket.create_connection(("127.0.0.1", a.port))
    s = raw if a.plain else ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"idle\n")
    got = b""
    while b"Hello idle!\n" not in got:
        chunk = s.recv(256)
        if not chunk:
            sys.exit("closed early")
        got += chunk
    conns.append(s)
print("up", flush=True)
time.sleep(a.hold)
for s in conns:
    s.close()
