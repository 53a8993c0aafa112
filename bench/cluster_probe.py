#!/usr/bin/env python3
"""WHO and NODES prober for bench/cluster.sh: one named client on HOST:PORT that asks WHO (and NODES) every
INTERVAL seconds and prints one line per round:
  <unix time> first_ms=<ms to WHO's first line> who_ms=<ms to its last> who=<first line> nodes=<line|line|...>
The first line is when the node answered (its ask-timeout + 1 s bound); the rest is the reply's size.
It reconnects when its node goes away (it may be the one the bench stops), and stops after SECONDS."""
import socket
import sys
import time

host, port, seconds, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])


class Lines:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")


def session():
    sock = socket.create_connection((host, port), timeout=10)
    lines = Lines(sock)
    lines.line(), lines.line()
    sock.sendall(b"prober\n")
    lines.line()
    return sock, lines


end = time.time() + seconds
sock = None
while time.time() < end:
    try:
        if sock is None:
            sock, lines = session()
        started = time.monotonic()
        sock.sendall(b"WHO\n")
        header = lines.line()
        first_ms = (time.monotonic() - started) * 1000
        for _ in range(int(header.split()[1])):
            lines.line()
        who_ms = (time.monotonic() - started) * 1000
        sock.sendall(b"NODES\n")
        nodes = [lines.line() for _ in range(int(lines.line().split()[1]))]
        print(f"{time.time():.3f} first_ms={first_ms:.0f} who_ms={who_ms:.0f} who={header.replace(' ', '_')} nodes={'|'.join(n.replace(' ', '_') for n in nodes)}",
              flush=True)
    except (OSError, ConnectionError, ValueError, IndexError) as e:
        print(f"{time.time():.3f} prober_reconnect ({e})", flush=True)
        if sock is not None:
            sock.close()
        sock = None
    time.sleep(interval)
