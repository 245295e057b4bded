#!/usr/bin/env python3
"""Writes the trend fixtures used by the demo and the tests.

The payloads follow the shapes the providers document:
- fixtures/x-v1/: saved Twitter API v1.1 `trends/place` responses (an array with one
  element per place; `tweet_volume` null for most trends; `query` percent-encoded;
  `as_of`/`created_at` timestamps);
- fixtures/x-v2/: X API v2 `GET /2/trends/by/woeid/{id}` answers
  (`{"data":[{"trend_name":…,"tweet_count":…}]}`, `tweet_count` often absent).
The topics are made up. Run again to regenerate; the output is deterministic.
"""

import json
import random
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
rng = random.Random(20261122)

PLACES = [(23424768, "Brazil"), (455827, "São Paulo"), (1, "Worldwide")]
TOPICS = [
    "#BBB26", "Neymar", "#Eleições2026", "Copa do Brasil", "Flamengo", "#SextaFeira",
    "Anitta", "#ENEM2026", "Palmeiras", "São Paulo FC", "#BlackFriday", "Lula",
    "Corinthians", "#TeAmoSP", "Vasco", "Gracyanne", "#ForaDaCaixa", "Ivete",
    "Taylor Swift", "#WorldCup", "Champions League", "OpenAI", "#MondayMotivation",
    "Real Madrid", "Grêmio", "Inter", "#Chuva", "Fortaleza", "Bahia", "Cruzeiro",
]
# Popularity weights: a few topics dominate, as in real trend lists.
WEIGHT = {t: 1.0 / (i + 1) ** 0.8 for i, t in enumerate(TOPICS)}


def trends_for(place_index, hour):
    picks = sorted(TOPICS, key=lambda t: -WEIGHT[t] * rng.uniform(0.4, 1.6) * (1.3 if place_index == 0 else 1.0))
    out = []
    for rank, name in enumerate(picks[:20], start=1):
        base = WEIGHT[name] * 400_000 * (1 + 0.6 * (hour % 24 in range(18, 24)))
        # v1.1 gave a volume for only some trends.
        volume = int(base * rng.uniform(0.5, 1.5)) if rng.random() < 0.55 else None
        out.append((rank, name, volume))
    return out


def v1_files():
    start = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)
    folder = ROOT / "x-v1"
    folder.mkdir(parents=True, exist_ok=True)
    for step in range(12):  # every 4 hours over two days
        at = start + timedelta(hours=4 * step)
        payload = []
        for i, (woeid, place) in enumerate(PLACES):
            trends = []
            for rank, name, volume in trends_for(i, at.hour):
                q = urllib.parse.quote(name, safe="")
                trends.append({
                    "name": name,
                    "url": f"http://twitter.com/search?q={q}",
                    "promoted_content": None,
                    "query": q,
                    "tweet_volume": volume,
                })
            payload.append({
                "trends": trends,
                "as_of": (at + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_at": (at - timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "locations": [{"name": place, "woeid": woeid}],
            })
        name = folder / f"trends-place-{at.strftime('%Y%m%dT%H%M')}.json"
        name.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def v2_files():
    folder = ROOT / "x-v2"
    folder.mkdir(parents=True, exist_ok=True)
    for i, (woeid, _place) in enumerate(PLACES):
        data = []
        for _rank, name, volume in trends_for(i, 20):
            item = {"trend_name": name}
            if volume is not None:
                item["tweet_count"] = volume
            data.append(item)
        (folder / f"trends-by-woeid-{woeid}.json").write_text(
            json.dumps({"data": data}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    v1_files()
    v2_files()
