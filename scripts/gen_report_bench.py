#!/usr/bin/env python3
"""Fills a migrated SQLite database with a year of 30-minute snapshots of 50 places
(over 10 million trend observations), plus posts, sentiment, influencer scores and
alerts for each day's leading trends, for scripts/bench-report.sh.

Deterministic: the same arguments give the same database.
Usage: gen_report_bench.py DB [--days 365] [--places 50] [--per-list 13]
"""
import argparse
import datetime as dt
import json
import sqlite3

ap = argparse.ArgumentParser()
ap.add_argument("db")
ap.add_argument("--days", type=int, default=365)
ap.add_argument("--places", type=int, default=50)
ap.add_argument("--per-list", type=int, default=13)
ap.add_argument("--trends", type=int, default=8000)
args = ap.parse_args()

con = sqlite3.connect(args.db)
con.execute("PRAGMA synchronous = OFF")
con.execute("PRAGMA cache_size = -1000000")
# The tables of the alerts and influencers stages, when their migrations are not in
# this tree yet (the same columns as theirs).
con.execute("""CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, metric TEXT NOT NULL,
    direction TEXT NOT NULL, source TEXT, place TEXT, trend_key TEXT NOT NULL, at TEXT NOT NULL, value REAL,
    baseline REAL, score REAL, posts INTEGER, method TEXT, evidence TEXT, raised_at TEXT, notified_at TEXT)""")
have = {r[1] for r in con.execute("PRAGMA table_info(influencer_scores)")}
for col, typ in [("source", "TEXT"), ("rank", "INTEGER"), ("percentile", "INTEGER"), ("reposts_made", "INTEGER"),
                 ("replies", "INTEGER"), ("quotes", "INTEGER"), ("h_index", "INTEGER"), ("cascade_size", "INTEGER"),
                 ("structural_virality", "REAL"), ("pagerank", "REAL"), ("model", "TEXT"), ("computed_at", "TEXT")]:
    if col not in have:
        con.execute(f"ALTER TABLE influencer_scores ADD COLUMN {col} {typ}")
start = dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def h(*xs):
    """A small deterministic hash."""
    v = 2166136261
    for x in xs:
        v = ((v ^ (x & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return v


WORDS = ("gol jogo time paredão show novo hoje melhor torcida final campeão festa lançamento "
         "eleição voto música álbum filme série episódio promo desconto chuva").split()
KINDS = ["Flamengo", "BBB", "Lula", "Rock", "iPhone", "Promo", "Chuva", "Tema"]

# OR IGNORE and the checks below: a run stopped after the observations (the long part)
# completes the rest when run again.
con.executemany("INSERT OR IGNORE INTO places (id, code, name) VALUES (?, ?, ?)",
                [(p, f"woeid{p}", f"Place {p}") for p in range(1, args.places + 1)])
end = start + dt.timedelta(days=args.days)
con.executemany(
    "INSERT OR IGNORE INTO trends (id, source, key, name, first_seen, last_seen) VALUES (?, 'x', ?, ?, ?, ?)",
    [(t, f"{KINDS[t % len(KINDS)].lower()} {t}", f"#{KINDS[t % len(KINDS)]}{t}", ts(start), ts(end))
     for t in range(1, args.trends + 1)])
con.commit()


def observations():
    for d in range(args.days):
        for s in range(48):
            at = ts(start + dt.timedelta(days=d, minutes=30 * s))
            for p in range(1, args.places + 1):
                for k in range(args.per_list):
                    # A list slot holds one trend for half a day; places share most trends.
                    trend = 1 + (d * 37 + (s // 24) * 13 + k * 101 + (p % 7) * (k > 8)) % args.trends
                    hv = h(d, s, p, k)
                    if hv % 17 == 0:
                        continue  # the trend missed this snapshot
                    volume = None if k % 4 == 3 else 1000 + hv % 200000
                    yield (trend, p, at, volume, k + 1)


batch = []
n = 0
have_observations = con.execute("SELECT 1 FROM trend_observations LIMIT 1").fetchone() is not None
for row in ([] if have_observations else observations()):
    batch.append(row)
    if len(batch) == 200_000:
        con.executemany(
            "INSERT OR IGNORE INTO trend_observations (trend_id, place_id, observed_at, volume, rank) VALUES (?, ?, ?, ?, ?)",
            batch)
        n += len(batch)
        batch.clear()
        con.commit()
con.executemany(
    "INSERT OR IGNORE INTO trend_observations (trend_id, place_id, observed_at, volume, rank) VALUES (?, ?, ?, ?, ?)",
    batch)
con.commit()

# Posts, sentiment, influencers and alerts for each day's five first slots.
con.executemany("INSERT OR IGNORE INTO authors (id, source, author_id, handle, followers, updated_at) VALUES (?, 'x', ?, ?, ?, ?)",
                [(a, f"a{a}", f"user{a}", a * 13 % 100000, ts(start)) for a in range(1, 2001)])
post_id = 0
posts, links, sentiment, scores, alerts = [], [], [], [], []
for d in range(args.days):
    for k in range(5):
        trend = 1 + (d * 37 + k * 101) % args.trends
        key = f"{KINDS[trend % len(KINDS)].lower()} {trend}"
        day = start + dt.timedelta(days=d)
        for i in range(60):
            post_id += 1
            words = " ".join(WORDS[h(post_id, j) % len(WORDS)] for j in range(8))
            posts.append((post_id, f"p{post_id}", 1 + post_id % 2000, f"#{KINDS[trend % len(KINDS)]}{trend} {words}",
                          ts(day + dt.timedelta(minutes=i * 20)), ts(day + dt.timedelta(hours=23))))
            links.append((post_id, key))
        for hr in range(24):
            c = ((h(d, k, hr) % 200) - 100) / 100
            sentiment.append((key, ts(day + dt.timedelta(hours=hr)), 20, c, 0.4, 0.4, 0.2))
        for a in range(20):
            scores.append((1 + (d * 20 + a) % 2000, key, ts(day), 10.0 - a * 0.4, 5, 3, 10, 100, 2, a + 1, 100 - a * 5))
        if d % 3 == 0:
            alerts.append((key, ts(day + dt.timedelta(hours=12)),
                           json.dumps([{"id": f"p{post_id}", "text": "muito ruim", "compound": -0.6}])))
con.executemany("INSERT INTO posts (id, source, post_id, author, text, lang, created_at, observed_at) VALUES (?, 'x', ?, ?, ?, 'pt', ?, ?)", posts)
con.executemany("INSERT INTO post_trends (post, trend_key) VALUES (?, ?)", links)
con.executemany("INSERT INTO trend_sentiment (trend_key, window_len, window_start, posts, mean_compound, share_positive, share_neutral, share_negative, label) VALUES (?, '1h', ?, ?, ?, ?, ?, ?, 'neutral')", sentiment)
con.executemany("INSERT INTO influencer_scores (author, trend_key, window_len, window_start, score, posts, reposts, likes, followers, cascade_depth, rank, percentile) VALUES (?, ?, '24h', ?, ?, ?, ?, ?, ?, ?, ?, ?)", scores)
con.executemany("INSERT INTO alerts (metric, direction, source, place, trend_key, at, value, baseline, score, posts, method, evidence, raised_at) VALUES ('sentiment', 'down', 'x', 'woeid1', ?, ?, -0.4, 0.2, -4.0, 30, 'zscore', ?, ?)",
                [(key, at, evidence, at) for key, at, evidence in alerts])
# The newest observation per source and place, which etl-to-sql keeps as it loads
# (migration 0013 filled it when the database was still empty).
con.execute("""INSERT OR REPLACE INTO observation_freshness (source, place, newest)
    SELECT t.source, p.code, MAX(o.observed_at) FROM trend_observations o
      JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id GROUP BY t.source, p.code""")
con.commit()
total = con.execute("SELECT COUNT(*) FROM trend_observations").fetchone()[0]
print(f"gen_report_bench: {total} observations, {post_id} posts", flush=True)
con.execute("ANALYZE")
con.commit()
con.close()
