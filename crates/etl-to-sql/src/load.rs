//! Loading one batch of trend observations in one transaction.
//!
//! Every statement is an upsert on a natural key (place code; source and key;
//! trend, place and time), so loading the same records again leaves the same rows:
//! counts are updated to the latest values, first/last seen widen, nothing doubles.
//! The code is generic over the sqlx database so that SQLite and PostgreSQL run the
//! very same statements. Placeholders are numbered `$1, $2, …` in order: PostgreSQL's
//! syntax, which SQLite reads as parameters bound by position.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use trendpipe_core::record::Trend;
use trendpipe_core::sql::Sql;

/// What one batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub observations: u64,
    pub trends: u64,
    pub places: u64,
}

/// Loads a batch in one transaction: all of it or, on error, none of it.
pub async fn load(sql: &Sql, batch: &[Trend]) -> Result<Loaded, sqlx::Error> {
    match sql {
        Sql::Sqlite(pool) => in_transaction(pool, batch).await,
        Sql::Postgres(pool) => in_transaction(pool, batch).await,
    }
}

/// Upserts places, trends and observations of `batch`, then commits.
async fn in_transaction<DB>(pool: &Pool<DB>, batch: &[Trend]) -> Result<Loaded, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB>,
{
    let mut tx = pool.begin().await?;
    let conn: &mut DB::Connection = &mut tx;
    if batch.is_empty() {
        return Ok(Loaded::default());
    }

    // Places: one row per code; a later non-null name wins.
    let mut places: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for t in batch {
        let name = t.place.name.as_deref();
        places.entry(t.place.id.as_str()).and_modify(|n| *n = name.or(*n)).or_insert(name);
    }
    let sql = format!(
        "INSERT INTO places (code, name) VALUES {} \
         ON CONFLICT (code) DO UPDATE SET name = COALESCE(excluded.name, places.name) RETURNING id, code",
        placeholders(places.len(), 2)
    );
    let mut query = sqlx::query::<DB>(&sql);
    for (code, name) in &places {
        query = query.bind(code.to_string()).bind(name.map(str::to_owned));
    }
    let mut place_ids: HashMap<String, i64> = HashMap::with_capacity(places.len());
    for row in query.fetch_all(&mut *conn).await? {
        place_ids.insert(row.try_get("code")?, row.try_get("id")?);
    }

    // Trends: one row per (source, key), with the span of the batch and the name of
    // its latest observation.
    struct Span<'a> {
        name: &'a str,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
    }
    let mut trends: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for t in batch {
        let span = trends.entry((t.source.as_str(), t.key.as_str())).or_insert(Span {
            name: &t.name,
            first: t.observed_at,
            last: t.observed_at,
        });
        if t.observed_at >= span.last {
            span.last = t.observed_at;
            span.name = &t.name;
        }
        span.first = span.first.min(t.observed_at);
    }
    let sql = format!(
        "INSERT INTO trends (source, key, name, first_seen, last_seen) VALUES {} \
         ON CONFLICT (source, key) DO UPDATE SET \
         name = CASE WHEN excluded.last_seen >= trends.last_seen THEN excluded.name ELSE trends.name END, \
         first_seen = CASE WHEN excluded.first_seen < trends.first_seen THEN excluded.first_seen ELSE trends.first_seen END, \
         last_seen = CASE WHEN excluded.last_seen > trends.last_seen THEN excluded.last_seen ELSE trends.last_seen END \
         RETURNING id, source, key",
        placeholders(trends.len(), 5)
    );
    let mut query = sqlx::query::<DB>(&sql);
    for ((source, key), span) in &trends {
        query = query
            .bind(source.to_string())
            .bind(key.to_string())
            .bind(span.name.to_owned())
            .bind(span.first)
            .bind(span.last);
    }
    let mut trend_ids: HashMap<(String, String), i64> = HashMap::with_capacity(trends.len());
    for row in query.fetch_all(&mut *conn).await? {
        trend_ids.insert((row.try_get("source")?, row.try_get("key")?), row.try_get("id")?);
    }

    // Observations: one row per (trend, place, time); within a batch the last record
    // wins, as a rerun of the later one would.
    let mut observations: BTreeMap<(i64, i64, DateTime<Utc>), &Trend> = BTreeMap::new();
    for t in batch {
        let trend_id = trend_ids.get(&(t.source.clone(), t.key.clone()));
        let place_id = place_ids.get(&t.place.id);
        let (Some(&trend_id), Some(&place_id)) = (trend_id, place_id) else {
            return Err(sqlx::Error::Protocol(format!(
                "the upsert returned no id for trend {:?} in place {}",
                t.key, t.place.id
            )));
        };
        observations.insert((trend_id, place_id, t.observed_at), t);
    }
    let sql = format!(
        "INSERT INTO trend_observations (trend_id, place_id, observed_at, volume, rank, run_id) VALUES {} \
         ON CONFLICT (trend_id, place_id, observed_at) DO UPDATE SET \
         volume = excluded.volume, rank = excluded.rank, run_id = excluded.run_id",
        placeholders(observations.len(), 6)
    );
    let mut query = sqlx::query::<DB>(&sql);
    for ((trend_id, place_id, at), t) in &observations {
        query = query
            .bind(*trend_id)
            .bind(*place_id)
            .bind(*at)
            .bind(t.volume)
            .bind(t.rank.map(i64::from))
            .bind(t.run_id.clone());
    }
    query.execute(&mut *conn).await?;

    tx.commit().await?;
    Ok(Loaded { observations: observations.len() as u64, trends: trends.len() as u64, places: places.len() as u64 })
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` columns.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn numbered_placeholders() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }
}
