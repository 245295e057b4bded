//! SQL mode: scores the posts of the database that have no score yet, then
//! recomputes the per-trend aggregates of each time window.
//!
//! Scoring reads posts in id order in chunks and writes each chunk's scores in one
//! transaction, so a run stopped half-way keeps what it scored and the next run picks
//! up the rest. The aggregates (`trend_sentiment`) are computed by the database in
//! one grouped query per window length and replaced in one transaction: rerunning
//! gives the same rows.

use anyhow::Context;
use chrono::Utc;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use trendpipe_core::sql::{POST_SENTIMENT_COLUMNS, Sql};

use crate::filter::label;
use crate::score::{Scorer, route};

/// Posts read and scored per transaction.
const CHUNK: i64 = 2000;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows inserted into `post_sentiment`.
    pub scored: u64,
    pub without_text: u64,
    /// Rows of `trend_sentiment` per window length, as the database inserted them.
    pub windows: Vec<(String, u64)>,
}

/// A window length: `30m`, `1h`, `6h`, `1d`…, in seconds.
pub fn window_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = n.checked_mul(unit)?;
    // Buckets must tile the day so that windows start at round times.
    (86_400 % seconds == 0 || seconds % 86_400 == 0).then_some(seconds)
}

/// Scores the unscored posts, then recomputes `trend_sentiment` for each window.
pub async fn run(sql: &Sql, scorer: &Scorer, windows: &[String]) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut after = 0i64;
    // A stop request ends the run between transactions; the windows are recomputed
    // whole by the next run, so they are skipped too.
    while !trendpipe_core::shutdown::requested() {
        let rows = unscored(sql, after).await.context("reading the posts to score")?;
        let Some(last) = rows.last().map(|r| r.0) else { break };
        after = last;
        let mut scored = Vec::with_capacity(rows.len());
        for (id, text, lang) in rows {
            match text.filter(|t| !t.trim().is_empty()) {
                Some(text) => {
                    let model = route(scorer.routing, lang.as_deref()).model();
                    scored.push((id, model.name(), scorer.score(model, &text)));
                }
                None => summary.without_text += 1,
            }
        }
        // The rows the database says it inserted: a post another run scored meanwhile
        // is not counted twice.
        summary.scored += save(sql, &scored).await.context("writing post_sentiment")?;
    }
    for window in windows.iter().filter(|_| !trendpipe_core::shutdown::requested()) {
        let seconds = window_seconds(window)
            .ok_or_else(|| anyhow::anyhow!("--window {window:?}: expected a length like 30m, 1h, 6h or 1d"))?;
        let rows = aggregate(sql, window, seconds).await.with_context(|| format!("computing the {window} windows"))?;
        summary.windows.push((window.clone(), rows));
    }
    Ok(summary)
}

type Unscored = (i64, Option<String>, Option<String>);

async fn unscored(sql: &Sql, after: i64) -> Result<Vec<Unscored>, sqlx::Error> {
    const Q: &str = "SELECT p.id, p.text, p.lang FROM posts p LEFT JOIN post_sentiment s ON s.post = p.id \
                     WHERE s.post IS NULL AND p.id > $1 ORDER BY p.id LIMIT $2";
    match sql {
        Sql::Sqlite(pool) => sqlx::query_as(Q).bind(after).bind(CHUNK).fetch_all(pool).await,
        Sql::Postgres(pool) => sqlx::query_as(Q).bind(after).bind(CHUNK).fetch_all(pool).await,
    }
}

/// Inserts the scores of a chunk; returns the rows inserted.
async fn save(sql: &Sql, scored: &[(i64, &str, crate::vader::Scores)]) -> Result<u64, sqlx::Error> {
    if scored.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    macro_rules! insert {
        ($db:ty, $pool:expr) => {{
            let mut tx = $pool.begin().await?;
            let mut qb: QueryBuilder<$db> =
                QueryBuilder::new(format!("INSERT INTO post_sentiment ({POST_SENTIMENT_COLUMNS}) "));
            qb.push_values(scored, |mut row, (id, model, s)| {
                row.push_bind(*id)
                    .push_bind(model.to_string())
                    .push_bind(s.compound)
                    .push_bind(s.pos)
                    .push_bind(s.neu)
                    .push_bind(s.neg)
                    .push_bind(label(s.compound).to_owned())
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (post) DO NOTHING");
            let n = qb.build().execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        }};
    }
    match sql {
        Sql::Sqlite(pool) => insert!(Sqlite, pool),
        Sql::Postgres(pool) => insert!(Postgres, pool),
    }
}

/// Replaces the `trend_sentiment` rows of one window length.
async fn aggregate(sql: &Sql, window: &str, seconds: i64) -> Result<u64, sqlx::Error> {
    // The same grouped query in both dialects but for turning times into epoch
    // seconds and back.
    let body = |epoch: &str, start: &str| {
        format!(
            "INSERT INTO trend_sentiment (trend_key, window_len, window_start, posts, mean_compound, \
             share_positive, share_neutral, share_negative, label) \
             SELECT trend_key, $1, {start}, n, mean, pos, neu, neg, \
                    CASE WHEN pos > neg AND pos >= neu THEN 'positive' \
                         WHEN neg > pos AND neg >= neu THEN 'negative' \
                         ELSE 'neutral' END \
               FROM (SELECT l.trend_key, ({epoch} / $2) * $2 AS bucket, COUNT(*) AS n, AVG(s.compound) AS mean, \
                            AVG(CASE WHEN s.compound >= 0.05 THEN 1.0 ELSE 0.0 END) AS pos, \
                            AVG(CASE WHEN s.compound > -0.05 AND s.compound < 0.05 THEN 1.0 ELSE 0.0 END) AS neu, \
                            AVG(CASE WHEN s.compound <= -0.05 THEN 1.0 ELSE 0.0 END) AS neg \
                       FROM post_sentiment s \
                       JOIN posts p ON p.id = s.post \
                       JOIN post_trends l ON l.post = p.id \
                      GROUP BY l.trend_key, bucket) g"
        )
    };
    match sql {
        Sql::Sqlite(pool) => {
            let insert = body(
                "CAST(strftime('%s', COALESCE(p.created_at, p.observed_at)) AS INTEGER)",
                "strftime('%Y-%m-%dT%H:%M:%S+00:00', bucket, 'unixepoch')",
            );
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM trend_sentiment WHERE window_len = $1").bind(window).execute(&mut *tx).await?;
            let n = sqlx::query(&insert).bind(window).bind(seconds).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        }
        Sql::Postgres(pool) => {
            let insert = body(
                "CAST(floor(extract(epoch FROM COALESCE(p.created_at, p.observed_at))) AS BIGINT)",
                "to_timestamp(bucket)",
            );
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM trend_sentiment WHERE window_len = $1").bind(window).execute(&mut *tx).await?;
            let n = sqlx::query(&insert).bind(window).bind(seconds).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::window_seconds;

    #[test]
    fn window_lengths() {
        assert_eq!(window_seconds("1h"), Some(3600));
        assert_eq!(window_seconds("30m"), Some(1800));
        assert_eq!(window_seconds("1d"), Some(86_400));
        assert_eq!(window_seconds("7h"), None, "7 hours do not tile a day");
        assert_eq!(window_seconds("h"), None);
        assert_eq!(window_seconds("0h"), None);
        assert_eq!(window_seconds("2x"), None);
    }
}
