//! SQL mode: the series from `trend_observations` and `trend_sentiment`, the evidence
//! from `posts`, `post_sentiment` and `post_trends`, and the `alerts` table.
//!
//! Every query is written once with `$n` placeholders, which both SQLite and
//! PostgreSQL read; times are bound as `DateTime<Utc>`, which sqlx writes into SQLite
//! as the same RFC 3339 text `etl-to-sql` stores. An alert is unique per metric,
//! trend, source, place and time, so a rerun inserts nothing twice; `notified_at`
//! remembers which alerts the webhook has delivered.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use trendpipe_core::sql::Sql;

use crate::detect::Point;
use crate::output::Alert;
use crate::series::{Evidence, Metric, Series, SeriesKey};

macro_rules! on {
    ($sql:expr, $pool:ident => $body:expr) => {
        match $sql {
            Sql::Sqlite($pool) => $body,
            Sql::Postgres($pool) => $body,
        }
    };
}

const VOLUME: &str = "\
SELECT t.source, p.code, t.key, o.observed_at, o.volume
  FROM trend_observations o
  JOIN trends t ON t.id = o.trend_id
  JOIN places p ON p.id = o.place_id
 WHERE o.volume IS NOT NULL AND o.observed_at >= $1 AND o.observed_at < $2";

const SENTIMENT: &str = "\
SELECT trend_key, window_start, posts, mean_compound
  FROM trend_sentiment
 WHERE window_len = $1 AND window_start >= $2 AND window_start < $3";

/// The series of `metric` with points in `[from, until)`.
pub async fn load(
    sql: &Sql,
    metric: Metric,
    window_len: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Series>, sqlx::Error> {
    let mut map: BTreeMap<SeriesKey, Vec<Point>> = BTreeMap::new();
    match metric {
        Metric::Volume => on!(sql, pool => {
            let mut rows = sqlx::query_as::<_, (String, String, String, DateTime<Utc>, i64)>(VOLUME)
                .bind(from)
                .bind(until)
                .fetch(pool);
            while let Some((source, place, trend, at, volume)) = rows.try_next().await? {
                let key = SeriesKey { metric, source, place, trend };
                map.entry(key).or_default().push(Point { at, value: volume as f64, weight: None });
            }
        }),
        Metric::Sentiment => on!(sql, pool => {
            let mut rows = sqlx::query_as::<_, (String, DateTime<Utc>, i64, f64)>(SENTIMENT)
                .bind(window_len)
                .bind(from)
                .bind(until)
                .fetch(pool);
            while let Some((trend, at, posts, mean)) = rows.try_next().await? {
                let key = SeriesKey { metric, source: String::new(), place: String::new(), trend };
                map.entry(key).or_default().push(Point { at, value: mean, weight: Some(posts) });
            }
        }),
    }
    Ok(map
        .into_iter()
        .map(|(key, mut points)| {
            points.sort_by_key(|p| p.at);
            Series { key, points, evidence: BTreeMap::new() }
        })
        .collect())
}

/// The alerts of `metric` already stored at or after `from`, per series.
pub async fn prior(
    sql: &Sql,
    metric: Metric,
    from: DateTime<Utc>,
) -> Result<BTreeMap<SeriesKey, Vec<DateTime<Utc>>>, sqlx::Error> {
    const Q: &str = "SELECT source, place, trend_key, at FROM alerts WHERE metric = $1 AND at >= $2";
    let rows: Vec<(String, String, String, DateTime<Utc>)> =
        on!(sql, pool => sqlx::query_as(Q).bind(metric.as_str()).bind(from).fetch_all(pool).await)?;
    let mut map: BTreeMap<SeriesKey, Vec<DateTime<Utc>>> = BTreeMap::new();
    for (source, place, trend, at) in rows {
        map.entry(SeriesKey { metric, source, place, trend }).or_default().push(at);
    }
    Ok(map)
}

/// The `n` most negative (or, for a rise, most positive) scored posts about `trend`
/// written in `[start, end)`.
pub async fn evidence(
    sql: &Sql,
    trend: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
    up: bool,
) -> Result<Vec<Evidence>, sqlx::Error> {
    let q = format!(
        "SELECT p.post_id, p.text, s.compound
           FROM post_trends l
           JOIN posts p ON p.id = l.post
           JOIN post_sentiment s ON s.post = p.id
          WHERE l.trend_key = $1
            AND COALESCE(p.created_at, p.observed_at) >= $2 AND COALESCE(p.created_at, p.observed_at) < $3
          ORDER BY s.compound {}, p.post_id
          LIMIT $4",
        if up { "DESC" } else { "ASC" }
    );
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let rows: Vec<(String, Option<String>, f64)> =
        on!(sql, pool => sqlx::query_as(&q).bind(trend).bind(start).bind(end).bind(limit).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(id, text, compound)| Evidence { id, text, compound }).collect())
}

/// Stores an alert; true when it is new.
pub async fn insert(sql: &Sql, alert: &Alert, raised_at: DateTime<Utc>) -> anyhow::Result<bool> {
    const Q: &str = "INSERT INTO alerts (metric, direction, source, place, trend_key, at, value, baseline, score, \
                     posts, method, evidence, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (metric, trend_key, source, place, at) DO NOTHING";
    let evidence = match &alert.evidence {
        Some(e) => Some(serde_json::to_string(e)?),
        None => None,
    };
    let n = on!(sql, pool => sqlx::query(Q)
        .bind(alert.metric.as_str())
        .bind(alert.direction.as_str())
        .bind(alert.source.clone().unwrap_or_default())
        .bind(alert.place.clone().unwrap_or_default())
        .bind(&alert.trend)
        .bind(alert.at)
        .bind(alert.value)
        .bind(alert.baseline)
        .bind(alert.score)
        .bind(alert.posts)
        .bind(&alert.method)
        .bind(evidence)
        .bind(raised_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<i64>,
    String,
    Option<String>,
);

/// The alerts raised since `since` that the webhook has not delivered yet.
pub async fn pending(sql: &Sql, since: DateTime<Utc>) -> anyhow::Result<Vec<(i64, Alert)>> {
    const Q: &str = "SELECT id, metric, direction, source, place, trend_key, at, value, baseline, score, posts, \
                     method, evidence FROM alerts WHERE notified_at IS NULL AND raised_at >= $1 ORDER BY at, id";
    let rows: Vec<Row> = on!(sql, pool => sqlx::query_as(Q).bind(since).fetch_all(pool).await)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, metric, direction, source, place, trend, at, value, baseline, score, posts, method, evidence) in rows {
        let metric = if metric == "volume" { Metric::Volume } else { Metric::Sentiment };
        let direction = if direction == "up" { crate::detect::Direction::Up } else { crate::detect::Direction::Down };
        let evidence = match evidence {
            Some(text) => Some(serde_json::from_str(&text)?),
            None => None,
        };
        out.push((
            id,
            Alert {
                kind: "alert",
                metric,
                direction,
                source: Some(source).filter(|s| !s.is_empty()),
                place: Some(place).filter(|s| !s.is_empty()),
                trend,
                at,
                value: value.unwrap_or(f64::NAN),
                baseline: baseline.unwrap_or(f64::NAN),
                score: score.unwrap_or(f64::NAN),
                posts,
                method,
                evidence,
            },
        ));
    }
    Ok(out)
}

/// Remembers that the webhook delivered alert `id`.
pub async fn notified(sql: &Sql, id: i64, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    const Q: &str = "UPDATE alerts SET notified_at = $1 WHERE id = $2";
    on!(sql, pool => sqlx::query(Q).bind(at).bind(id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// The latest point time a previous run judged for `stream`.
pub async fn watermark(sql: &Sql, stream: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    const Q: &str = "SELECT watermark FROM etl_watermarks WHERE stream = $1";
    on!(sql, pool => sqlx::query_scalar(Q).bind(stream).fetch_optional(pool).await)
}

/// Records the latest point time judged for `stream`.
pub async fn set_watermark(sql: &Sql, stream: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    const Q: &str = "INSERT INTO etl_watermarks (stream, watermark, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (stream) DO UPDATE SET watermark = excluded.watermark, updated_at = excluded.updated_at";
    on!(sql, pool => sqlx::query(Q).bind(stream).bind(at).bind(Utc::now()).execute(pool).await.map(|_| ()))?;
    Ok(())
}
