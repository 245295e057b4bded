#!/usr/bin/env python3
"""Generates N post records for the load benchmarks, deterministically.

    gen_posts.py N ndjson > posts.ndjson     # trendpipe post records (docs/ARCHITECTURE.md)
    gen_posts.py N csv > posts.csv           # the same rows as the posts table's columns, for COPY

About 1 post in 10 repeats an earlier id with later counts, as re-fetched posts do.
"""

import csv
import json
import random
import sys

WORDS = ("amazing terrible final match vote love hate great game show best worst news today "
         "people again never always good bad happy sad win lose team brazil world").split()


def posts(n):
    rng = random.Random(42)
    authors = 50_000
    for i in range(n):
        pid = i if rng.random() > 0.1 or i == 0 else rng.randrange(i)
        author = pid % authors
        second = i % 86_400
        yield {
            "kind": "post",
            "source": "mastodon",
            "id": str(1_000_000 + pid),
            "url": f"https://example.social/@u{author}/{1_000_000 + pid}",
            "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25))),
            "lang": "en",
            "created_at": f"2026-11-21T{(pid % 86_400) // 3600:02}:{(pid % 3600) // 60:02}:{pid % 60:02}Z",
            "author": {"id": str(author), "handle": f"u{author}", "followers": author * 7 % 100_000},
            "metrics": {"reposts": rng.randint(0, 500), "likes": rng.randint(0, 5000),
                        "replies": rng.randint(0, 100), "quotes": rng.randint(0, 50)},
            "parent_id": None,
            "quote_of": None,
            "trend": f"topic{pid % 200}",
            "observed_at": f"2026-11-22T{second // 3600:02}:{(second % 3600) // 60:02}:{second % 60:02}Z",
        }


def main():
    n = int(sys.argv[1])
    fmt = sys.argv[2] if len(sys.argv) > 2 else "ndjson"
    out = sys.stdout
    if fmt == "ndjson":
        for p in posts(n):
            out.write(json.dumps(p, separators=(",", ":")) + "\n")
    elif fmt == "csv":
        w = csv.writer(out)
        for p in posts(n):
            m = p["metrics"]
            w.writerow([p["source"], p["id"], p["author"]["id"], p["url"], p["text"], p["lang"], p["created_at"],
                        p["observed_at"], m["reposts"], m["likes"], m["replies"], m["quotes"], "", ""])
    else:
        sys.exit(f"unknown format {fmt}")


if __name__ == "__main__":
    main()
