//! The top-N trends of the window and the places each was seen in.

use chrono::{DateTime, Utc};
use trendpipe_core::sql::Sql;

use super::{Param, fetch, observation_filter};
use crate::scope::Scope;

/// One trend's aggregates over the window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TopRow {
    pub id: i64,
    pub source: String,
    pub key: String,
    pub name: String,
    pub peak_volume: Option<i64>,
    pub best_rank: Option<i64>,
    pub places: i64,
    /// Distinct snapshot times the trend was in a list: its persistence.
    pub snapshots: i64,
    pub observations: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// The newest observation in the database.
pub async fn latest_observation(sql: &Sql) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Latest {
        latest: Option<DateTime<Utc>>,
    }
    let rows: Vec<Latest> = fetch(sql, "SELECT MAX(observed_at) AS latest FROM trend_observations", &[]).await?;
    Ok(rows.into_iter().next().and_then(|r| r.latest))
}

/// The `scope.top` trends: by peak volume, then persistence (snapshots), then best
/// rank. Trends without any volume sort after those with one, by persistence.
pub async fn top_trends(sql: &Sql, scope: &Scope) -> Result<Vec<TopRow>, sqlx::Error> {
    let (filter, mut params) = observation_filter(sql, scope);
    params.push(Param::Int(scope.top));
    let text = format!(
        "SELECT t.id AS id, t.source AS source, t.key AS key, t.name AS name,
                a.peak_volume AS peak_volume, a.best_rank AS best_rank, a.places AS places,
                a.snapshots AS snapshots, a.observations AS observations,
                a.first_seen AS first_seen, a.last_seen AS last_seen
           FROM (SELECT o.trend_id AS trend_id,
                        CAST(MAX(o.volume) AS BIGINT) AS peak_volume,
                        CAST(MIN(o.rank) AS BIGINT) AS best_rank,
                        COUNT(DISTINCT o.place_id) AS places,
                        COUNT(DISTINCT o.observed_at) AS snapshots,
                        COUNT(*) AS observations,
                        MIN(o.observed_at) AS first_seen,
                        MAX(o.observed_at) AS last_seen
                  {filter}
                  GROUP BY o.trend_id) a
           JOIN trends t ON t.id = a.trend_id
          ORDER BY a.peak_volume DESC NULLS LAST, a.snapshots DESC, a.best_rank ASC NULLS LAST, t.key ASC, t.source ASC
          LIMIT ${}",
        params.len()
    );
    fetch(sql, &text, &params).await
}

/// A place a trend was seen in during the window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrendPlace {
    pub trend_id: i64,
    pub place: String,
}

/// The names of the places each of the trends `ids` was seen in during the window,
/// by trend then name, in one query.
pub async fn places_of(sql: &Sql, scope: &Scope, ids: &[i64]) -> Result<Vec<TrendPlace>, sqlx::Error> {
    let mut params = vec![Param::Ints(ids.to_vec()), Param::Time(scope.since), Param::Time(scope.until)];
    let mut text = String::from(
        "SELECT DISTINCT o.trend_id AS trend_id, COALESCE(p.name, p.code) AS place
           FROM trend_observations o JOIN places p ON p.id = o.place_id
          WHERE o.trend_id = @LIST($1) AND o.observed_at >= $2 AND o.observed_at < $3",
    );
    if let Some(place) = &scope.place {
        params.push(Param::Text(place.clone()));
        text.push_str(" AND (p.code = $4 OR p.name = $4)");
    }
    text.push_str(" ORDER BY trend_id, place");
    fetch(sql, &text, &params).await
}
