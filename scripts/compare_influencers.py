#!/usr/bin/env python3
"""Compares two files of influencer records (the Rust tool's and the Python
script's): same rows, same ranks and integer components, floats within 1e-9.

usage: compare_influencers.py A.ndjson B.ndjson
"""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            rows[(r["trend"], r["window_len"], r["window_start"], r["source"], r["author"]["id"])] = r
    return rows


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    problems = []
    if a.keys() != b.keys():
        problems.append(f"rows differ: {len(a.keys() - b.keys())} only in A, {len(b.keys() - a.keys())} only in B")
    for k in sorted(a.keys() & b.keys()):
        x, y = a[k], b[k]
        for f in ("rank", "percentile"):
            if x[f] != y[f]:
                problems.append(f"{k}: {f} {x[f]} != {y[f]}")
        if abs(x["score"] - y["score"]) > 1e-9:
            problems.append(f"{k}: score {x['score']} != {y['score']}")
        for c, v in x["components"].items():
            w = y["components"][c]
            if (isinstance(v, float) or isinstance(w, float)) and abs(v - w) > 1e-9 or (
                    not isinstance(v, float) and not isinstance(w, float) and v != w):
                problems.append(f"{k}: {c} {v} != {w}")
    for p in problems[:20]:
        print(p, file=sys.stderr)
    print(f"{len(a.keys() & b.keys())} rows compared, {len(problems)} differences",
          file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
