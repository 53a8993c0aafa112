#!/usr/bin/env python3
"""Sends UDP datagrams to one port as fast as it can for a bounded time, from source addresses it binds
(127.0.0.<first>..), round robin. Prints how many it sent. Loopback only."""
import argparse, os, socket, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--seconds", type=float, default=10)
p.add_argument("--addresses", type=int, default=1)
p.add_argument("--first", type=int, default=2)
p.add_argument("--payload", default="HEARTBEAT " + "0" * 32)
a = p.parse_args()
assert 1 <= a.addresses <= 250 and a.seconds <= 120
socks = []
for i in range(a.addresses):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((f"127.0.0.{a.first + i}", 0))
    s.setblocking(False)
    socks.append(s)
data, target, sent, end = a.payload.encode(), ("127.0.0.1", a.port), 0, time.monotonic() + a.seconds
while time.monotonic() < end:
    for s in socks:
        try:
            s.sendto(data, target)
            sent += 1
        except BlockingIOError:
            pass
print(sent)
