#!/usr/bin/env python3
"""Measures `report serve`: latency percentiles of `/` and of trend pages, one request
at a time, then requests per second with several clients. Every loop is bounded in
count and time, and only talks to the loopback address it is given.
Usage: bench_report_client.py http://127.0.0.1:PORT [--requests 100] [--seconds 15] [--clients 4]
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("base")
ap.add_argument("--requests", type=int, default=100)
ap.add_argument("--seconds", type=float, default=15)
ap.add_argument("--clients", type=int, default=4)
args = ap.parse_args()
u = urllib.parse.urlparse(args.base)
assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"


def get(conn, path):
    t = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status}: {body[:300]!r}")
    return time.perf_counter() - t, body


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
_, body = get(conn, "/api/report")
keys = [t["key"] for t in json.loads(body)["trends"]]
paths = {"/": ["/"], "/trend/{key}": [f"/trend/{urllib.parse.quote(k, safe='')}" for k in keys]}
for name, ps in paths.items():
    get(conn, ps[0])  # warm up
    lat = [get(conn, ps[i % len(ps)])[0] for i in range(args.requests)]
    print(f"{name:14} n={len(lat)} p50={pct(lat, 50):.1f} ms p95={pct(lat, 95):.1f} ms p99={pct(lat, 99):.1f} ms", flush=True)

count = [0] * args.clients
stop = time.monotonic() + args.seconds


def client(i):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    all_paths = paths["/"] + paths["/trend/{key}"]
    while time.monotonic() < stop:
        get(c, all_paths[count[i] % len(all_paths)])
        count[i] += 1


threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"throughput     {args.clients} clients, {args.seconds:.0f} s: {sum(count) / args.seconds:.1f} requests/s "
      f"(/ and trend pages in turn)", flush=True)
