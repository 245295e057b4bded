//! The report's queries, written once for SQLite and PostgreSQL.
//!
//! Aggregations run in the database (one grouped query), so the report costs the same
//! whatever the number of observations it summarises.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use trendpipe_core::sql::Sql;

/// One line of the top-N.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopTrend {
    pub position: usize,
    pub source: String,
    pub key: String,
    pub name: String,
    /// The highest volume seen in the window, `None` when the provider never gave one.
    pub peak_volume: Option<i64>,
    pub best_rank: Option<i64>,
    pub places: i64,
    pub observations: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// The time of the latest observation in the database.
pub async fn latest_observation(sql: &Sql) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    const SQL: &str = "SELECT MAX(observed_at) AS latest FROM trend_observations";
    match sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
        Sql::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
    }
}

/// The `limit` trends of the window [since, until), by peak volume, then best rank.
pub async fn top_trends(
    sql: &Sql,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<TopTrend>, sqlx::Error> {
    match sql {
        Sql::Sqlite(pool) => top(pool, since, until, limit).await,
        Sql::Postgres(pool) => top(pool, since, until, limit).await,
    }
}

const TOP_SQL: &str = "\
SELECT t.source, t.key, t.name,
       MAX(o.volume) AS peak_volume,
       CAST(MIN(o.rank) AS BIGINT) AS best_rank,
       COUNT(DISTINCT o.place_id) AS places,
       COUNT(*) AS observations,
       MIN(o.observed_at) AS first_seen,
       MAX(o.observed_at) AS last_seen
  FROM trend_observations o
  JOIN trends t ON t.id = o.trend_id
 WHERE o.observed_at >= $1 AND o.observed_at < $2
 GROUP BY t.id, t.source, t.key, t.name
 ORDER BY peak_volume DESC NULLS LAST, best_rank ASC NULLS LAST, observations DESC, t.key ASC
 LIMIT $3";

async fn top<DB>(
    pool: &Pool<DB>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<TopTrend>, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
{
    let rows = sqlx::query::<DB>(TOP_SQL).bind(since).bind(until).bind(limit).fetch_all(pool).await?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            Ok(TopTrend {
                position: i + 1,
                source: row.try_get("source")?,
                key: row.try_get("key")?,
                name: row.try_get("name")?,
                peak_volume: row.try_get("peak_volume")?,
                best_rank: row.try_get("best_rank")?,
                places: row.try_get("places")?,
                observations: row.try_get("observations")?,
                first_seen: row.try_get("first_seen")?,
                last_seen: row.try_get("last_seen")?,
            })
        })
        .collect()
}
