#!/usr/bin/env python3
"""The loader an analyst would otherwise write: pymongo reads the `posts` collection,
psycopg upserts authors and posts into the trendpipe schema with executemany, 1,000
documents per transaction. Used by scripts/bench-etl.sh as the baseline.

    bench_pyloader.py MONGODB_URI DATABASE POSTGRES_URL
"""

import sys
import time

import psycopg
from pymongo import MongoClient

AUTHORS = """
INSERT INTO authors (source, author_id, handle, followers, updated_at) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (source, author_id) DO UPDATE SET handle = excluded.handle, followers = excluded.followers,
    updated_at = excluded.updated_at
"""
POSTS = """
INSERT INTO posts (source, post_id, author, url, text, lang, created_at, observed_at,
                   reposts, likes, replies, quotes, parent_id, quote_of)
VALUES (%s, %s, (SELECT id FROM authors WHERE source = %s AND author_id = %s), %s, %s, %s, %s, %s,
        %s, %s, %s, %s, %s, %s)
ON CONFLICT (source, post_id) DO UPDATE SET reposts = excluded.reposts, likes = excluded.likes,
    replies = excluded.replies, quotes = excluded.quotes, observed_at = excluded.observed_at
"""


def main():
    mongo_uri, database, pg_url = sys.argv[1:4]
    client = MongoClient(mongo_uri)
    started = time.perf_counter()
    n = 0
    with psycopg.connect(pg_url) as conn:
        batch = []
        for doc in client[database]["posts"].find({}, batch_size=1000):
            batch.append(doc)
            if len(batch) == 1000:
                n += flush(conn, batch)
                batch = []
        n += flush(conn, batch)
    elapsed = time.perf_counter() - started
    print(f"{n} {elapsed:.3f}")


def flush(conn, docs):
    if not docs:
        return 0
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(AUTHORS, [(d["source"], d["author"]["id"], d["author"]["handle"], d["author"]["followers"],
                                   d["observed_at"]) for d in docs])
        cur.executemany(POSTS, [(d["source"], d["id"], d["source"], d["author"]["id"], d["url"], d["text"], d["lang"],
                                 d["created_at"], d["observed_at"], d["metrics"]["reposts"], d["metrics"]["likes"],
                                 d["metrics"]["replies"], d["metrics"]["quotes"], d["parent_id"], d["quote_of"])
                                for d in docs])
    return len(docs)


if __name__ == "__main__":
    main()
