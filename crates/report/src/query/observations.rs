//! Observation series: the top trends' points per place (volume evolution), and the
//! window's observations bucketed by hour (the day-of-week × hour heatmap).

use chrono::{DateTime, Utc};
use trendpipe_core::sql::Sql;

use super::{Param, fetch, observation_filter};
use crate::scope::Scope;

/// One observation of a trend in a place.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Point {
    pub trend_id: i64,
    pub place: String,
    pub observed_at: DateTime<Utc>,
    pub volume: Option<i64>,
    pub rank: Option<i64>,
}

/// The observations in the window of the trends `ids`, by trend then time:
/// one query (one round trip) for all the top trends' series.
pub async fn series(sql: &Sql, scope: &Scope, ids: &[i64]) -> Result<Vec<Point>, sqlx::Error> {
    let mut params = vec![Param::Ints(ids.to_vec()), Param::Time(scope.since), Param::Time(scope.until)];
    let mut text = String::from(
        "SELECT o.trend_id AS trend_id, COALESCE(p.name, p.code) AS place, o.observed_at AS observed_at,
                CAST(o.volume AS BIGINT) AS volume, CAST(o.rank AS BIGINT) AS rank
           FROM trend_observations o JOIN places p ON p.id = o.place_id
          WHERE o.trend_id = @LIST($1) AND o.observed_at >= $2 AND o.observed_at < $3",
    );
    if let Some(place) = &scope.place {
        params.push(Param::Text(place.clone()));
        text.push_str(" AND (p.code = $4 OR p.name = $4)");
    }
    // The series index's own order: `lines` groups the points by place and sorts
    // each place's by time, so a sort by place here would be work for nothing.
    text.push_str(" ORDER BY o.trend_id, o.observed_at");
    fetch(sql, &text, &params).await
}

/// The observations of one trend in one UTC hour: the first time it was seen and
/// the volume summed over its observations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HourRow {
    pub key: String,
    pub first_at: DateTime<Utc>,
    pub volume: Option<i64>,
}

/// The window's observations grouped by trend and UTC hour. Grouping by hour in the
/// database keeps the rows few; the report's zone is applied to each hour after.
pub async fn hourly(sql: &Sql, scope: &Scope) -> Result<Vec<HourRow>, sqlx::Error> {
    let (filter, params) = observation_filter(sql, scope);
    let bucket = match sql {
        Sql::Sqlite(_) => "substr(o.observed_at, 1, 13)",
        Sql::Postgres(_) => "date_trunc('hour', o.observed_at)",
    };
    let text = format!(
        "SELECT t.key AS key, h.first_at AS first_at, h.volume AS volume
           FROM (SELECT o.trend_id AS trend_id, MIN(o.observed_at) AS first_at,
                        CAST(SUM(o.volume) AS BIGINT) AS volume
                  {filter}
                  GROUP BY o.trend_id, {bucket}) h
           JOIN trends t ON t.id = h.trend_id"
    );
    fetch(sql, &text, &params).await
}
