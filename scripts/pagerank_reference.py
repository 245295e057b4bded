#!/usr/bin/env python3
"""PageRank references for the influencers parity test, from the real NetworkX.

Reads one graph per line on stdin: {"nodes": N, "edges": [[from, to, weight], ...]}
(nodes are 0..N-1) and prints one line per graph:
{"default": [...], "tight": [...], "iterations_tol": N * 1e-6}
- default: networkx.pagerank(G, alpha=0.85, weight="weight"), NetworkX's own
  stopping rule (L1 change below N * 1e-6);
- tight: the same call with tol = 1e-10 / N, i.e. stopping when the L1 change is
  below 1e-10, the rule influencers uses.
"""
import json
import sys

import networkx as nx


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        g = json.loads(line)
        n = g["nodes"]
        G = nx.DiGraph()
        G.add_nodes_from(range(n))
        for a, b, w in g["edges"]:
            G.add_edge(a, b, weight=w)
        default = nx.pagerank(G, alpha=0.85, weight="weight")
        tight = nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-10 / n, max_iter=10000)
        print(json.dumps({
            "default": [default[i] for i in range(n)],
            "tight": [tight[i] for i in range(n)],
            "default_stop": n * 1e-6,
        }))


if __name__ == "__main__":
    main()
