#!/usr/bin/env python3
"""Generates the influencers benchmark: post records as NDJSON on stdout.

Deterministic (seeded): by default 1,000,000 posts by 50,000 authors about 20 trends
over one week (2026-11-16 to 2026-11-23 UTC). Authors are picked with Zipf-like
weights (a few write a lot), follower counts and engagement counts are Zipf-
distributed, and posts form trees: about half are originals, the rest reply to,
quote or repost a recent post of the same trend, popular posts more often (some of
them the author's own). One post in twenty is also collected for a second trend,
and one in ten was seen once before with smaller counts.

usage: gen_influencer_posts.py [POSTS] [AUTHORS] [TRENDS] > posts.ndjson
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import numpy as np


def main():
    posts = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    authors = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    trends = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    rng = np.random.default_rng(20261122)
    start = datetime(2026, 11, 16, tzinfo=timezone.utc)
    week = 7 * 86400

    weights = 1.0 / np.arange(1, authors + 1) ** 0.9
    weights /= weights.sum()
    author_of = rng.choice(authors, size=posts, p=weights)
    followers = np.minimum(rng.zipf(1.6, size=authors) - 1, 50_000_000)
    trend_w = 1.0 / np.arange(1, trends + 1) ** 0.7
    trend_w /= trend_w.sum()
    trend_of = rng.choice(trends, size=posts, p=trend_w)
    second = rng.random(posts) < 0.05
    second_trend = (trend_of + 1 + rng.integers(0, trends - 1, size=posts)) % trends
    times = np.sort(rng.integers(0, week, size=posts))
    kind = rng.choice(4, size=posts, p=[0.5, 0.2, 0.1, 0.2])  # original, reply, quote, repost
    reposts = np.minimum(rng.zipf(2.0, size=posts) - 1, 1_000_000)
    likes = np.minimum(rng.zipf(1.8, size=posts) - 1, 5_000_000)
    replies = np.minimum(rng.zipf(2.5, size=posts) - 1, 100_000)
    quotes = np.minimum(rng.zipf(3.0, size=posts) - 1, 100_000)
    back = rng.zipf(1.5, size=posts)  # how far back in the trend the target is
    pick_popular = rng.random(posts) < 0.3
    seen_before = rng.random(posts) < 0.1

    recent = [[] for _ in range(trends)]  # post indices per trend, latest last
    popular = [[] for _ in range(trends)]  # originals with many reposts
    out = sys.stdout
    for i in range(posts):
        t = int(trend_of[i])
        a = int(author_of[i])
        created = start + timedelta(seconds=int(times[i]))
        observed = created + timedelta(minutes=30)
        parent = quote = repost = None
        k = int(kind[i])
        if k and recent[t]:
            pool = popular[t] if pick_popular[i] and popular[t] else recent[t]
            target = pool[max(0, len(pool) - int(back[i]))] if int(back[i]) <= len(pool) else pool[-1]
            if k == 1:
                parent = f"{target}"
            elif k == 2:
                quote = f"{target}"
            else:
                repost = f"{target}"
        rec = {
            "kind": "post", "source": "x", "id": f"{i}", "text": f"post {i} about trend {t}", "lang": "en",
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "author": {"id": f"u{a}", "handle": f"user{a}", "followers": int(followers[a])},
            "metrics": {"reposts": int(reposts[i]), "likes": int(likes[i]), "replies": int(replies[i]),
                        "quotes": int(quotes[i])},
            "parent_id": parent, "quote_of": quote, "repost_of": repost,
            "conversation_id": None, "trend": f"trend{t:02d}",
            "observed_at": observed.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if seen_before[i]:
            old = dict(rec, observed_at=(created + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       metrics={"reposts": 0, "likes": 0, "replies": 0, "quotes": 0})
            out.write(json.dumps(old) + "\n")
        out.write(json.dumps(rec) + "\n")
        if second[i]:
            out.write(json.dumps(dict(rec, trend=f"trend{int(second_trend[i]):02d}")) + "\n")
        recent[t].append(i)
        if len(recent[t]) > 5000:
            del recent[t][:1000]
        if k == 0 and reposts[i] >= 3:
            popular[t].append(i)
            if len(popular[t]) > 500:
                del popular[t][:100]


if __name__ == "__main__":
    main()
