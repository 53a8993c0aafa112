#!/usr/bin/env python3
"""Shutdown under load: holds N named clients on the server, K of them downloading, and checks what each
sees when the server is told to stop (SIGTERM by the caller once this prints READY).

Every client must end with the line `ERR server shutting down` and then the server's close; a downloader
must first receive all n bytes its `OK n` promised. Loopback only; every wait is bounded."""
import asyncio, argparse, json, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--clients", type=int, default=10000)
p.add_argument("--downloads", type=int, default=50)
p.add_argument("--file", default="big.bin")
p.add_argument("--source-ips", type=int, default=8)
p.add_argument("--timeout", type=float, default=120)
a = p.parse_args()

LAST = b"ERR server shutting down\n"
results = {"connected": 0, "told": 0, "downloads_complete": 0, "bad": [], "ready": 0, "downloading": 0}
ready = asyncio.Event()
downloads_started = asyncio.Event()

async def client(i, downloading, all_connected):
    host = "127.0.0.1"
    local = (f"127.0.0.{2 + i % a.source_ips}", 0) if a.source_ips else None
    try:
        r, w = await asyncio.open_connection(host, a.port, local_addr=local, limit=1 << 20)
        results["connected"] += 1
        await r.readline(); await r.readline()
        w.write(f"c{i}\n".encode()); await w.drain()
        hello = await r.readline()
        if not hello.startswith(b"Hello"):
            results["bad"].append((i, "dialog", hello[:60].decode(errors="replace"))); return
        results["ready"] += 1
        if results["ready"] == a.clients: ready.set()
        await all_connected.wait()
        got = 0
        if downloading:
            w.write(f"GET {a.file}\n".encode()); await w.drain()
            ok = await r.readline()
            if not ok.startswith(b"OK "):
                results["bad"].append((i, "get", ok[:60].decode(errors="replace"))); return
            n = int(ok.split()[1])
            results["downloading"] += 1
            if results["downloading"] == a.downloads: downloads_started.set()
            while got < n:
                chunk = await r.read(min(65536, n - got))
                if not chunk: break
                got += len(chunk)
                await asyncio.sleep(0.001)   # a reader that takes its time, so the download is in flight at SIGTERM
            if got == n: results["downloads_complete"] += 1
            else: results["bad"].append((i, "short download", f"{got}/{n}")); return
        rest = await r.read()   # everything until the server closes
        if rest == LAST: results["told"] += 1
        else: results["bad"].append((i, "last line", rest[-60:].decode(errors="replace")))
        w.close()
    except Exception as e:
        results["bad"].append((i, "error", repr(e)[:80]))

async def main():
    all_connected = asyncio.Event()
    tasks = []
    sem = asyncio.Semaphore(500)
    async def start(i):
        async with sem:
            t = asyncio.create_task(client(i, i < a.downloads, all_connected))
            tasks.append(t)
            await asyncio.sleep(0)
    for i in range(a.clients):
        await start(i)
        if i % 500 == 499: await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(ready.wait(), a.timeout)
    except asyncio.TimeoutError:
        pass
    all_connected.set()
    if a.downloads:
        try:
            await asyncio.wait_for(downloads_started.wait(), a.timeout)   # every download is under way
        except asyncio.TimeoutError:
            pass
    print("READY", flush=True)
    t0 = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*tasks), a.timeout)
    results["drain_s"] = round(time.monotonic() - t0, 2)
    results["bad_count"] = len(results["bad"]); results["bad"] = results["bad"][:10]
    print(json.dumps(results), flush=True)

asyncio.run(main())
