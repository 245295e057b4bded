#!/usr/bin/env python3
"""Writes N lines of raw trendpipe records (NDJSON) for scripts/bench-clean.sh.

The mix is shaped like a day of raw store exports: snapshots of 50 trends in 20
places every 15 minutes (some volumes null, some given as strings such as "12,300",
some repeated observations, the worldwide count repeated in every place for a few
keys), and one post in ten, re-fetched with higher counts now and then and with HTML
entities in the text. Deterministic (fixed seed) so that runs compare.

usage: gen-clean-bench.py LINES > raw.ndjson
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(4)
    out = sys.stdout
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    names = [f"#Topic{i}" if i % 3 == 0 else f"Topic número {i}" for i in range(5000)]
    written = 0
    snapshot = 0
    post_id = 0
    while written < n:
        at = (start + timedelta(minutes=15 * snapshot)).strftime("%Y-%m-%dT%H:%M:%SZ")
        snapshot += 1
        for place in range(20):
            base = (snapshot * 7) % 4000
            for rank in range(1, 51):
                if written >= n:
                    return
                name = names[(base + rank * 13) % len(names)]
                r = rng.random()
                if rank <= 2:
                    volume = 1_000_000 + rank  # a worldwide count, the same in every place
                elif r < 0.10:
                    volume = None
                elif r < 0.20:
                    volume = f"{rng.randrange(1000, 900000):,}"
                else:
                    volume = rng.randrange(1000, 900000)
                rec = {"kind": "trend", "source": "x",
                       "place": {"id": str(23424700 + place), "name": f"Place {place}"},
                       "name": name, "volume": volume, "rank": rank, "observed_at": at,
                       "promoted_content": None, "query": name.replace(" ", "+"),
                       "url": "http://twitter.com/search?q=" + name.replace(" ", "+")}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                written += 1
                if rng.random() < 0.02 and written < n:  # a repeated observation
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    written += 1
                if rank % 9 == 0 and written < n:  # one post in ten lines
                    again = post_id > 10 and rng.random() < 0.1
                    pid = rng.randrange(max(post_id - 50, 1), post_id) if again else post_id
                    post_id += 0 if again else 1
                    post = {"kind": "post", "source": "mastodon", "id": str(pid),
                            "url": f"https://mastodon.social/@a/{pid}",
                            "text": "Caf&eacute; &amp; samba &lt;3 &#x1F600; " + name,
                            "lang": "pt", "created_at": at,
                            "author": {"id": str(pid % 977), "handle": f"user{pid % 977}",
                                       "followers": str(pid % 977 * 10)},
                            "metrics": {"reposts": pid % 5 + (2 if again else 0), "likes": str(pid % 17),
                                        "replies": 1, "quotes": 0},
                            "parent_id": None, "quote_of": None, "trend": name,
                            "observed_at": at, "emojis": [], "sensitive": False}
                    out.write(json.dumps(post, ensure_ascii=False) + "\n")
                    written += 1

if __name__ == "__main__":
    main()
