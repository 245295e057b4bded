//! Sentiment per trend and window, from `trend_sentiment` (filled by `sentiment`).

use chrono::{DateTime, Utc};
use trendpipe_core::sql::Sql;

use super::{Param, fetch};
use crate::scope::Scope;

/// One trend's sentiment over one window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SentimentRow {
    pub trend_key: String,
    pub window_len: String,
    pub window_start: DateTime<Utc>,
    pub posts: i64,
    pub mean_compound: f64,
    pub share_positive: f64,
    pub share_neutral: f64,
    pub share_negative: f64,
}

/// The windows of `keys` that start in the report's window, oldest first.
pub async fn windows(sql: &Sql, scope: &Scope, keys: &[String]) -> Result<Vec<SentimentRow>, sqlx::Error> {
    fetch(
        sql,
        "SELECT trend_key, window_len, window_start,
                CAST(posts AS BIGINT) AS posts,
                CAST(mean_compound AS DOUBLE PRECISION) AS mean_compound,
                CAST(share_positive AS DOUBLE PRECISION) AS share_positive,
                CAST(share_neutral AS DOUBLE PRECISION) AS share_neutral,
                CAST(share_negative AS DOUBLE PRECISION) AS share_negative
           FROM trend_sentiment
          WHERE trend_key = @LIST($1) AND window_start >= $2 AND window_start < $3
          ORDER BY trend_key, window_len, window_start",
        &[Param::Texts(keys.to_vec()), Param::Time(scope.since), Param::Time(scope.until)],
    )
    .await
}
