//! The influencer leaderboard, from `influencer_scores` (filled by `influencers`).

use chrono::{DateTime, Utc};
use trendpipe_core::sql::Sql;

use super::{Param, fetch};
use crate::scope::Scope;

/// One account's score for a trend over one window, with its components.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InfluencerRow {
    pub trend_key: String,
    pub source: Option<String>,
    pub handle: Option<String>,
    pub author_id: String,
    #[serde(serialize_with = "crate::scope::ser_time")]
    pub window_start: DateTime<Utc>,
    pub window_len: String,
    pub rank: Option<i64>,
    pub score: f64,
    pub percentile: Option<i64>,
    pub posts: i64,
    pub reposts: i64,
    pub likes: i64,
    pub replies: Option<i64>,
    pub quotes: Option<i64>,
    pub followers: Option<i64>,
    pub h_index: Option<i64>,
    pub cascade_depth: Option<i64>,
    pub cascade_size: Option<i64>,
    pub structural_virality: Option<f64>,
    pub pagerank: Option<f64>,
}

/// The best `per_trend` accounts of each of `keys` over the windows that start in
/// the report's window (an account's best window counts), best first.
pub async fn leaderboard(sql: &Sql, scope: &Scope, keys: &[String]) -> Result<Vec<InfluencerRow>, sqlx::Error> {
    fetch(
        sql,
        "SELECT s.trend_key, s.source, a.handle, a.author_id, s.window_start, s.window_len,
                CAST(s.rank AS BIGINT) AS rank, CAST(s.score AS DOUBLE PRECISION) AS score,
                CAST(s.percentile AS BIGINT) AS percentile,
                CAST(s.posts AS BIGINT) AS posts, CAST(s.reposts AS BIGINT) AS reposts,
                CAST(s.likes AS BIGINT) AS likes, CAST(s.replies AS BIGINT) AS replies,
                CAST(s.quotes AS BIGINT) AS quotes, CAST(s.followers AS BIGINT) AS followers,
                CAST(s.h_index AS BIGINT) AS h_index, CAST(s.cascade_depth AS BIGINT) AS cascade_depth,
                CAST(s.cascade_size AS BIGINT) AS cascade_size,
                CAST(s.structural_virality AS DOUBLE PRECISION) AS structural_virality,
                CAST(s.pagerank AS DOUBLE PRECISION) AS pagerank
           FROM influencer_scores s JOIN authors a ON a.id = s.author
          WHERE s.trend_key = @LIST($1) AND s.window_start >= $2 AND s.window_start < $3
          ORDER BY s.trend_key, s.score DESC, a.author_id",
        &[Param::Texts(keys.to_vec()), Param::Time(scope.since), Param::Time(scope.until)],
    )
    .await
}
