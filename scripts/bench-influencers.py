#!/usr/bin/env python3
"""The influencers computation in Python (pandas + NetworkX), for the benchmark.

Reads post records (NDJSON) on stdin and writes the same `influencer` records as
`influencers --window LEN` on stdout, following the definitions of
docs/ARCHITECTURE.md: latest observation per (source, id), trends united; window by
created_at (else observed_at); engagement over the author's non-repost posts with
their own reposts taken off; h-index; cascades (first collected of parent_id,
quote_of, repost_of; a repost of one's own post stands alone) with size, depth and
structural virality; networkx.pagerank on the author graph (self-links dropped),
iterated to the same L1 change (1e-10) as the Rust tool; the composite score, rank
and percentile.

usage: bench-influencers.py [--window 1h|24h|7d] < posts.ndjson > rows.ndjson
"""
import bisect
import json
import math
import sys
from collections import defaultdict

import networkx as nx
import pandas as pd

LENS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
W = {"reposts": 0.35, "likes": 0.25, "followers": 0.15, "depth": 0.25}
MODEL = "influence-v1 weights=reposts:0.35,likes:0.25,followers:0.15,depth:0.25"


def fmt(ts):
    return pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def cascades(ids, author, links, present):
    """Per author: (max depth, posts under their roots, max virality)."""
    parent = {}
    for p in ids:
        par = None
        for slot, l in enumerate(links[p]):
            if l is None or l not in present or l == p:
                continue
            if slot == 2 and author[l] == author[p]:
                continue
            par = l
            break
        parent[p] = par
    children = defaultdict(list)
    for p, par in parent.items():
        if par is not None:
            children[par].append(p)
    out = {}
    for root in ids:
        if parent[root] is not None:
            continue
        order, depth = [root], {root: 0}
        head = 0
        while head < len(order):
            u = order[head]
            head += 1
            for c in children.get(u, ()):
                depth[c] = depth[u] + 1
                order.append(c)
        n = len(order)
        sub = {}
        pairs = 0
        for v in reversed(order):
            sub[v] = sub.get(v, 0) + 1
            if v != root:
                sub[parent[v]] = sub.get(parent[v], 0) + sub[v]
                pairs += sub[v] * (n - sub[v])
        vir = 2.0 * pairs / (n * (n - 1)) if n > 1 else 0.0
        d, s, x = out.get(author[root], (0, 0, 0.0))
        out[author[root]] = (max(d, max(depth.values())), s + n - 1, max(x, vir))
    return out


def main():
    lens = [a for i, a in enumerate(sys.argv[1:]) if i > 0 and sys.argv[i] == "--window"] or ["24h"]
    records = [json.loads(line) for line in sys.stdin if line.strip()]
    df = pd.DataFrame({
        "source": [r["source"] for r in records],
        "id": [r["id"] for r in records],
        "author": [r["author"]["id"] for r in records],
        "handle": [r["author"].get("handle") for r in records],
        "followers": [r["author"].get("followers") for r in records],
        "reposts": [r["metrics"].get("reposts") or 0 for r in records],
        "likes": [r["metrics"].get("likes") or 0 for r in records],
        "replies": [r["metrics"].get("replies") or 0 for r in records],
        "quotes": [r["metrics"].get("quotes") or 0 for r in records],
        "parent_id": [r.get("parent_id") for r in records],
        "quote_of": [r.get("quote_of") for r in records],
        "repost_of": [r.get("repost_of") for r in records],
        "trend": [r["trend"] for r in records],
        "created_at": pd.to_datetime([r.get("created_at") for r in records], utc=True),
        "observed_at": pd.to_datetime([r.get("observed_at") for r in records], utc=True),
    })
    del records
    df["at"] = df["observed_at"].fillna(df["created_at"])
    df["line"] = range(len(df))
    members = df[["source", "id", "trend"]].drop_duplicates()
    posts = df.sort_values(["at", "line"]).drop_duplicates(["source", "id"], keep="last").drop(columns="trend")
    handles = (df[df["handle"].notna()].sort_values(["at", "line"])
               .drop_duplicates(["source", "author"], keep="last").set_index(["source", "author"])["handle"])
    posts["time"] = ((posts["created_at"].fillna(posts["observed_at"]) - pd.Timestamp(0, tz="UTC"))
                     // pd.Timedelta(seconds=1)).astype("int64")
    posts["is_repost"] = posts["repost_of"].notna()
    # Reposts of a post by its own author come off its reposts.
    rp = posts[posts["is_repost"]][["source", "repost_of", "author"]]
    selfs = rp.merge(posts[["source", "id", "author"]], left_on=["source", "repost_of", "author"],
                     right_on=["source", "id", "author"]).groupby(["source", "id"]).size().rename("selfs")
    posts = posts.merge(selfs, left_on=["source", "id"], right_index=True, how="left")
    posts["own"] = (posts["reposts"] - posts["selfs"].fillna(0)).clip(lower=0).astype("int64")
    posts = posts.merge(members, on=["source", "id"])

    out = sys.stdout
    for trend, tp in posts.groupby("trend", sort=True):
        for lname in sorted(lens, key=lambda l: LENS[l]):
            length = LENS[lname]
            origin = 4 * 86400 if lname == "7d" else 0
            tp = tp.assign(start=(tp["time"] - origin) // length * length + origin)
            for start, wp in tp.groupby("start", sort=True):
                orig = wp[~wp["is_repost"]]
                g = wp.groupby(["source", "author"])
                sums = pd.DataFrame({
                    "posts": g.size(),
                    "reposts_made": g["is_repost"].sum(),
                    "followers": g["followers"].max(),
                })
                og = orig.groupby(["source", "author"])
                for col, src in (("reposts", "own"), ("likes", "likes"), ("replies", "replies"), ("quotes", "quotes")):
                    sums[col] = og[src].sum()
                ranked = orig.sort_values(["source", "author", "own"], ascending=[True, True, False])
                ranked = ranked.assign(rn=ranked.groupby(["source", "author"]).cumcount() + 1)
                sums["h_index"] = ranked[ranked["own"] >= ranked["rn"]].groupby(["source", "author"])["rn"].max()
                sums = sums.fillna(0)

                keys = list(zip(wp["source"], wp["id"]))
                present = set(keys)
                author = dict(zip(keys, zip(wp["source"], wp["author"])))
                links = {k: tuple(None if v is None or v != v else (k[0], v) for v in lk)
                         for k, lk in zip(keys, zip(wp["parent_id"], wp["quote_of"], wp["repost_of"]))}
                casc = cascades(keys, author, links, present)
                G = nx.DiGraph()
                G.add_nodes_from(sums.index)
                for k in keys:
                    seen = set()
                    for l in links[k]:
                        if l is None or l not in present:
                            continue
                        ta = author[l]
                        if ta != author[k] and ta not in seen:
                            seen.add(ta)
                            w = G.get_edge_data(author[k], ta, {"weight": 0})["weight"]
                            G.add_edge(author[k], ta, weight=w + 1)
                n = G.number_of_nodes()
                pr = nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-10 / n, max_iter=10000)
                rows = []
                for (src, a), s in sums.iterrows():
                    d, size, vir = casc.get((src, a), (0, 0, 0.0))
                    score = (W["reposts"] * math.log1p(s["reposts"]) + W["likes"] * math.log1p(s["likes"])
                             + W["followers"] * math.log1p(s["followers"]) + W["depth"] * math.log1p(d))
                    rows.append((score, int(s["reposts"]), a, src, s, d, size, vir))
                rows.sort(key=lambda r: (-r[0], -r[1], r[2], r[3]))
                scores = sorted(r[0] for r in rows)
                for rank, (score, _, a, src, s, d, size, vir) in enumerate(rows, 1):
                    m = bisect.bisect_right(scores, score)
                    out.write(json.dumps({
                        "kind": "influencer", "source": src, "author": {"id": a, "handle": handles.get((src, a))},
                        "trend": trend, "window_start": fmt(start), "window_len": lname, "rank": rank,
                        "score": score, "percentile": -(-100 * m // len(rows)), "model": MODEL,
                        "components": {
                            "posts": int(s["posts"]), "reposts_made": int(s["reposts_made"]),
                            "reposts": int(s["reposts"]), "likes": int(s["likes"]), "replies": int(s["replies"]),
                            "quotes": int(s["quotes"]), "followers": int(s["followers"]), "h_index": int(s["h_index"]),
                            "cascade_depth": d, "cascade_size": size, "structural_virality": vir,
                            "pagerank": pr[(src, a)],
                        },
                    }) + "\n")


if __name__ == "__main__":
    main()
