//! The window's alerts, from the `alerts` table (filled by `alerts`).

use chrono::{DateTime, Utc};
use trendpipe_core::sql::Sql;

use super::{Param, fetch};
use crate::scope::Scope;

/// One alert as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub metric: String,
    pub direction: String,
    pub source: Option<String>,
    pub place: Option<String>,
    pub trend_key: String,
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub score: Option<f64>,
    pub posts: Option<i64>,
    pub method: Option<String>,
    /// A JSON array of `{id, text, compound}`.
    pub evidence: Option<String>,
}

/// The alerts raised for times in the window, newest first.
pub async fn alerts(sql: &Sql, scope: &Scope) -> Result<Vec<AlertRow>, sqlx::Error> {
    let mut params = vec![Param::Time(scope.since), Param::Time(scope.until)];
    let mut text = String::from(
        "SELECT metric, direction, source, place, trend_key, at,
                CAST(value AS DOUBLE PRECISION) AS value,
                CAST(baseline AS DOUBLE PRECISION) AS baseline,
                CAST(score AS DOUBLE PRECISION) AS score,
                CAST(posts AS BIGINT) AS posts, method, evidence
           FROM alerts
          WHERE at >= $1 AND at < $2",
    );
    for (column, value) in [("source", &scope.source), ("place", &scope.place), ("trend_key", &scope.trend)] {
        if let Some(v) = value {
            params.push(Param::Text(v.clone()));
            text.push_str(&format!(" AND {column} = ${}", params.len()));
        }
    }
    text.push_str(" ORDER BY at DESC, trend_key");
    fetch(sql, &text, &params).await
}
