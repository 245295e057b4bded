//! Helpers of the `alerts` tests: seeded synthetic series as NDJSON records or SQL
//! rows, and a runner for the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use assert_cmd::Command;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use trendpipe_core::sql::Sql;

pub fn t0() -> DateTime<Utc> {
    trendpipe_core::record::parse_time("2026-10-05T00:00:00Z").unwrap()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(1e-12..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A finished run of `alerts`.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
            .collect()
    }
}

/// Runs `alerts` in `dir` with `args`, `env` and `stdin`.
pub fn alerts(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = Command::cargo_bin("alerts").unwrap();
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("ALERTS_WEBHOOK_URL")
        .env_remove("TRENDPIPE_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .args(args)
        .write_stdin(stdin.to_owned());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Scored posts about `trend`: `hours` hourly windows, `posts(h)` posts in window `h`
/// with compounds around `mean(h)` (sd 0.4, clamped to [-1, 1]).
pub fn posts(
    rng: &mut StdRng,
    trend: &str,
    hours: i64,
    posts: impl Fn(i64) -> usize,
    mean: impl Fn(i64) -> f64,
) -> Vec<Value> {
    let mut out = Vec::new();
    for h in 0..hours {
        for k in 0..posts(h) {
            let compound = (mean(h) + 0.4 * normal(rng)).clamp(-1.0, 1.0);
            let at = t0() + Duration::hours(h) + Duration::seconds(rng.random_range(0..3600));
            out.push(json!({
                "kind": "post", "source": "x", "id": format!("{trend}-{h}-{k}"),
                "text": format!("post {k} of hour {h}"), "trend": trend,
                "created_at": trendpipe_core::record::format_time(&at),
                "sentiment": {"model": "vader-en", "compound": compound, "pos": 0.0, "neu": 1.0, "neg": 0.0, "label": "neutral"}
            }));
        }
    }
    out
}

/// Trend records every `step` minutes for `n` points; `volume(i)` is `None` for a null.
pub fn observations(name: &str, place: &str, n: i64, step: i64, volume: impl Fn(i64) -> Option<f64>) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let at = t0() + Duration::minutes(step * i);
            json!({
                "kind": "trend", "source": "x", "place": {"id": place, "name": "Brazil"}, "name": name,
                "volume": volume(i).map(|v| v.round() as i64), "rank": 1,
                "observed_at": trendpipe_core::record::format_time(&at)
            })
        })
        .collect()
}

pub fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

macro_rules! on {
    ($sql:expr, $pool:ident => $body:expr) => {
        match $sql {
            Sql::Sqlite($pool) => $body,
            Sql::Postgres($pool) => $body,
        }
    };
}

/// Loads trend records and scored posts into the database the way `etl-to-sql` and
/// `sentiment` leave it: observations, posts with their scores and trend links, and
/// the hourly `trend_sentiment` windows.
pub async fn load(sql: &Sql, records: &[Value]) {
    use std::collections::BTreeMap;
    let mut windows: BTreeMap<(String, DateTime<Utc>), (i64, f64)> = BTreeMap::new();
    for r in records {
        let time = |k: &str| trendpipe_core::record::parse_time(r[k].as_str().unwrap()).unwrap();
        if r["kind"] == "trend" {
            let key = trendpipe_core::key::trend_key(r["name"].as_str().unwrap());
            let at = time("observed_at");
            on!(sql, pool => {
                sqlx::query("INSERT INTO places (code, name) VALUES ($1, 'Brazil') ON CONFLICT (code) DO NOTHING")
                    .bind(r["place"]["id"].as_str().unwrap()).execute(pool).await.unwrap();
                sqlx::query("INSERT INTO trends (source, key, name, first_seen, last_seen) VALUES ('x', $1, $2, $3, $3) \
                             ON CONFLICT (source, key) DO NOTHING")
                    .bind(&key).bind(r["name"].as_str().unwrap()).bind(at).execute(pool).await.unwrap();
                sqlx::query("INSERT INTO trend_observations (trend_id, place_id, observed_at, volume) \
                             SELECT t.id, p.id, $1, $2 FROM trends t, places p WHERE t.key = $3 AND p.code = $4")
                    .bind(at).bind(r["volume"].as_i64()).bind(&key).bind(r["place"]["id"].as_str().unwrap())
                    .execute(pool).await.unwrap();
            });
        } else {
            let at = time("created_at");
            let trend = r["trend"].as_str().unwrap().to_owned();
            let compound = r["sentiment"]["compound"].as_f64().unwrap();
            on!(sql, pool => {
                let id: i64 = sqlx::query_scalar("INSERT INTO posts (source, post_id, text, created_at, observed_at) \
                                                  VALUES ('x', $1, $2, $3, $3) RETURNING id")
                    .bind(r["id"].as_str().unwrap()).bind(r["text"].as_str()).bind(at).fetch_one(pool).await.unwrap();
                sqlx::query("INSERT INTO post_sentiment (post, model, compound, pos, neu, neg, label, scored_at) \
                             VALUES ($1, 'vader-en', $2, 0, 1, 0, 'neutral', $3)")
                    .bind(id).bind(compound).bind(at).execute(pool).await.unwrap();
                sqlx::query("INSERT INTO post_trends (post, trend_key) VALUES ($1, $2)")
                    .bind(id).bind(&trend).execute(pool).await.unwrap();
            });
            let start = at - Duration::seconds(at.timestamp().rem_euclid(3600));
            let w = windows.entry((trend, start)).or_default();
            w.0 += 1;
            w.1 += compound;
        }
    }
    for ((trend, start), (n, sum)) in windows {
        on!(sql, pool => sqlx::query("INSERT INTO trend_sentiment (trend_key, window_len, window_start, posts, mean_compound, \
                     share_positive, share_neutral, share_negative, label) VALUES ($1, '1h', $2, $3, $4, 0, 1, 0, 'neutral') \
                     ON CONFLICT (trend_key, window_len, window_start) DO UPDATE SET posts = excluded.posts, \
                     mean_compound = excluded.mean_compound")
            .bind(&trend).bind(start).bind(n).bind(sum / n as f64).execute(pool).await.map(|_| ()).unwrap());
    }
}

/// A stored alert: metric, direction, trend, place, time, method and score × 100.
pub type Stored = (String, String, String, String, String, String, i64);

/// The stored alerts, as comparable rows.
pub async fn stored(sql: &Sql) -> Vec<Stored> {
    type Row = (String, String, String, String, DateTime<Utc>, String, f64);
    let rows: Vec<Row> = on!(sql, pool =>
        sqlx::query_as("SELECT metric, direction, trend_key, place, at, method, score FROM alerts ORDER BY at, metric, trend_key")
            .fetch_all(pool).await.unwrap());
    rows.into_iter()
        .map(|(m, d, t, p, at, method, score)| {
            (m, d, t, p, trendpipe_core::record::format_time(&at), method, (score * 100.0).round() as i64)
        })
        .collect()
}
