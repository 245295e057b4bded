//! Loading one batch of records in one transaction, with its watermark.
//!
//! Every statement is an upsert on a natural key (place code; source and key; trend,
//! place and time; source and author id; source and post id), so loading the same
//! records again leaves the same rows: counts move to those of the latest observation,
//! first/last seen widen, nothing doubles. The watermark of an incremental load is
//! written in the same transaction as the rows it covers, so a run killed at any
//! point resumes exactly where its last committed batch ended. (PostgreSQL merges a
//! large batch as two transactions side by side and commits the watermark with the
//! second, so a kill between the two commits replays the batch, which upserts the same
//! rows again: see `pg.rs`.)
//!
//! [`Loader`] sends each batch down the database's own path (`lite.rs`, `pg.rs`);
//! [`load_generic`] runs the statements of `statements.rs` through sqlx, generic
//! over the database, so that SQLite and PostgreSQL run the very same statements
//! (the paths are checked against it).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use trendpipe_core::record::Trend;
use trendpipe_core::sql::Sql;

pub use crate::batch::{Batch, Loaded, TimedPost};
use crate::batch::{TrendGroups, group_trends, latest_posts};
use crate::statements::{Upsert, WATERMARK_SQL, placeholders_with};

/// Bound parameters per statement. sqlx looks each SQLite parameter up with
/// `sqlite3_bind_parameter_name`, which walks the statement's parameter list, so the
/// cost of binding grows with the square of the parameters of one statement: a few
/// hundred keeps it negligible, and every full chunk reuses one prepared statement.
const PARAMS_PER_STATEMENT: usize = 200;

/// Why a batch did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl LoadError {
    /// Errors that no retry of a single record can fix (the connection, the disk):
    /// the run stops instead of trying every record alone.
    pub fn is_fatal(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            LoadError::Sql(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_)
                )
            }
            LoadError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                C::DiskFull
                    | C::SystemIoFailure
                    | C::CannotOpen
                    | C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::ReadOnly
                    | C::DatabaseCorrupt
                    | C::NotADatabase
                    | C::OutOfMemory
                    | C::PermissionDenied
            ),
            LoadError::Sqlite(_) => false,
        }
    }
}

/// Loads batches into a database: PostgreSQL through `COPY` and set-based merges
/// (`pg.rs`), SQLite through prepared statements on a connection of its own
/// (`lite.rs`).
pub struct Loader<'a> {
    sql: &'a Sql,
    lite: Option<crate::lite::Lite>,
    pg: crate::pg::Pg,
}

impl<'a> Loader<'a> {
    pub fn new(sql: &'a Sql) -> Result<Self, LoadError> {
        let lite = match sql {
            Sql::Sqlite(pool) => {
                let options = pool.connect_options();
                let file = options.get_filename();
                // An in-memory database exists only in the pool's connections.
                if file.as_os_str().is_empty() || file.to_string_lossy().contains(":memory:") {
                    None
                } else {
                    Some(crate::lite::Lite::open(file)?)
                }
            }
            Sql::Postgres(_) => None,
        };
        Ok(Self { sql, lite, pg: crate::pg::Pg::default() })
    }

    /// Loads a batch: all of it or, on error, none of it (a large PostgreSQL batch
    /// whose second commit fails keeps its first half, which a retry upserts again).
    pub async fn load(&mut self, batch: &Batch) -> Result<Loaded, LoadError> {
        match (self.sql, &mut self.lite) {
            (_, Some(lite)) => Ok(lite.load(batch)?),
            (Sql::Sqlite(pool), None) => Ok(in_transaction(pool, batch).await?),
            (Sql::Postgres(pool), None) => Ok(self.pg.load(pool, batch).await?),
        }
    }
}

/// Loads a batch with the generic statements whatever the database (the PostgreSQL
/// fast path is checked against it).
pub async fn load_generic(sql: &Sql, batch: &Batch) -> Result<Loaded, sqlx::Error> {
    match sql {
        Sql::Sqlite(pool) => in_transaction(pool, batch).await,
        Sql::Postgres(pool) => in_transaction(pool, batch).await,
    }
}

/// The watermark of a stream, if a load has recorded one.
pub async fn watermark(sql: &Sql, stream: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    const SQL: &str = "SELECT watermark FROM etl_watermarks WHERE stream = $1";
    match sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(SQL).bind(stream).fetch_optional(pool).await,
        Sql::Postgres(pool) => sqlx::query_scalar(SQL).bind(stream).fetch_optional(pool).await,
    }
}

async fn in_transaction<DB>(pool: &Pool<DB>, batch: &Batch) -> Result<Loaded, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB>,
{
    let mut tx = pool.begin().await?;
    let conn: &mut DB::Connection = &mut tx;
    let mut loaded = Loaded::default();
    let mark = if DB::NAME == "SQLite" { '?' } else { '$' };
    let statement = |table: Upsert, rows: usize| table.sql(&placeholders_with(mark, rows, table.columns()));
    // Rows per statement for a table.
    let rows_for = |table: Upsert| (PARAMS_PER_STATEMENT / table.columns()).max(1);

    if !batch.trends.is_empty() {
        let TrendGroups { places, trends } = group_trends(&batch.trends);
        let mut place_ids: HashMap<String, i64> = HashMap::with_capacity(places.len());
        for chunk in places.chunks(rows_for(Upsert::Places)) {
            let sql = statement(Upsert::Places, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for (code, name) in chunk {
                query = query.bind(code.to_string()).bind(name.map(str::to_owned));
            }
            for row in query.fetch_all(&mut *conn).await? {
                place_ids.insert(row.try_get("code")?, row.try_get("id")?);
            }
        }

        let mut trend_ids: HashMap<(String, String), i64> = HashMap::with_capacity(trends.len());
        for chunk in trends.chunks(rows_for(Upsert::Trends)) {
            let sql = statement(Upsert::Trends, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for ((source, key), span) in chunk {
                query = query
                    .bind(source.to_string())
                    .bind(key.to_string())
                    .bind(span.name.to_owned())
                    .bind(span.first)
                    .bind(span.last);
            }
            for row in query.fetch_all(&mut *conn).await? {
                trend_ids.insert((row.try_get("source")?, row.try_get("key")?), row.try_get("id")?);
            }
        }

        // Observations: one row per (trend, place, time); within a batch the last
        // record wins, as a rerun of the later one would.
        let mut observations: BTreeMap<(i64, i64, DateTime<Utc>), &Trend> = BTreeMap::new();
        for t in &batch.trends {
            let trend_id = trend_ids.get(&(t.source.clone(), t.key.clone()));
            let place_id = place_ids.get(&t.place.id);
            let (Some(&trend_id), Some(&place_id)) = (trend_id, place_id) else {
                return Err(missing_id("trend", &t.key));
            };
            observations.insert((trend_id, place_id, t.observed_at), t);
        }
        let observations: Vec<_> = observations.into_iter().collect();
        for chunk in observations.chunks(rows_for(Upsert::Observations)) {
            let sql = statement(Upsert::Observations, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for ((trend_id, place_id, at), t) in chunk {
                query = query
                    .bind(*trend_id)
                    .bind(*place_id)
                    .bind(*at)
                    .bind(t.volume)
                    .bind(t.rank.map(i64::from))
                    .bind(t.run_id.clone());
            }
            query.execute(&mut *conn).await?;
        }
        loaded.places = places.len() as u64;
        loaded.trends = trends.len() as u64;
        loaded.observations = observations.len() as u64;
    }

    if !batch.posts.is_empty() {
        let (posts, authors) = latest_posts(&batch.posts);
        let mut author_ids: HashMap<(String, String), i64> = HashMap::with_capacity(authors.len());
        for chunk in authors.chunks(rows_for(Upsert::Authors)) {
            let sql = statement(Upsert::Authors, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for ((source, id), (p, a)) in chunk {
                query = query
                    .bind(source.to_string())
                    .bind(id.to_string())
                    .bind(a.handle.clone())
                    .bind(a.followers)
                    .bind(p.at);
            }
            for row in query.fetch_all(&mut *conn).await? {
                author_ids.insert((row.try_get("source")?, row.try_get("author_id")?), row.try_get("id")?);
            }
        }

        let mut post_ids: HashMap<(String, String), i64> = HashMap::with_capacity(posts.len());
        for chunk in posts.chunks(rows_for(Upsert::Posts)) {
            let sql = statement(Upsert::Posts, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for ((source, id), p) in chunk {
                let post = &p.post;
                let author = match &post.author {
                    Some(a) => match author_ids.get(&(source.to_string(), a.id.clone())) {
                        Some(id) => Some(*id),
                        None => return Err(missing_id("author", &a.id)),
                    },
                    None => None,
                };
                query = query
                    .bind(source.to_string())
                    .bind(id.to_string())
                    .bind(author)
                    .bind(post.url.clone())
                    .bind(post.text.clone())
                    .bind(post.lang.clone())
                    .bind(post.created_at)
                    .bind(p.at)
                    .bind(post.metrics.reposts)
                    .bind(post.metrics.likes)
                    .bind(post.metrics.replies)
                    .bind(post.metrics.quotes)
                    .bind(post.parent_id.clone())
                    .bind(post.quote_of.clone())
                    .bind(post.repost_of.clone())
                    .bind(post.conversation_id.clone());
            }
            for row in query.fetch_all(&mut *conn).await? {
                post_ids.insert((row.try_get("source")?, row.try_get("post_id")?), row.try_get("id")?);
            }
        }

        // Which trends each post was collected for, from every record of the batch.
        let mut links: Vec<(i64, String)> = Vec::new();
        for p in &batch.posts {
            if let Some(key) = p.post.trend.as_deref().filter(|k| !k.is_empty()) {
                match post_ids.get(&(p.post.source.clone(), p.post.id.clone())) {
                    Some(&id) => links.push((id, key.to_owned())),
                    None => return Err(missing_id("post", &p.post.id)),
                }
            }
        }
        links.sort();
        links.dedup();
        for chunk in links.chunks(rows_for(Upsert::Links)) {
            let sql = statement(Upsert::Links, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for (id, key) in chunk {
                query = query.bind(*id).bind(key.clone());
            }
            query.execute(&mut *conn).await?;
        }

        // Scores that `sentiment` already added to the records.
        let scored: Vec<_> = posts
            .iter()
            .filter_map(|((source, id), p)| {
                p.post.sentiment.as_ref().map(|s| (post_ids.get(&(source.to_string(), id.to_string())), p.at, s))
            })
            .collect();
        for chunk in scored.chunks(rows_for(Upsert::Scores)) {
            let sql = statement(Upsert::Scores, chunk.len());
            let mut query = sqlx::query::<DB>(&sql);
            for (id, at, s) in chunk {
                let Some(&id) = *id else {
                    return Err(missing_id("post", "with sentiment"));
                };
                query = query
                    .bind(id)
                    .bind(s.model.clone())
                    .bind(s.compound)
                    .bind(s.pos)
                    .bind(s.neu)
                    .bind(s.neg)
                    .bind(s.label.clone())
                    .bind(*at);
            }
            query.execute(&mut *conn).await?;
        }
        loaded.posts = posts.len() as u64;
        loaded.authors = authors.len() as u64;
    }

    crate::extras::write::<DB>(&mut *conn, &batch.trends).await?;
    if let Some((stream, at)) = &batch.watermark {
        sqlx::query::<DB>(WATERMARK_SQL).bind(stream.clone()).bind(*at).bind(Utc::now()).execute(&mut *conn).await?;
    }

    tx.commit().await?;
    Ok(loaded)
}

fn missing_id(what: &str, key: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the upsert returned no id for {what} {key:?}"))
}
