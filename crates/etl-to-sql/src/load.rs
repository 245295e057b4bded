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

use crate::batch::{self, TrendGroups, Written, group_trends, latest_posts};
pub use crate::batch::{Batch, Loaded, TimedPost};
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
    let new_rows = |table: Upsert, rows: usize| {
        table.insert_new(&placeholders_with(mark, rows, table.columns())) + table.returning()
    };
    // Rows per statement for a table.
    let rows_for = |table: Upsert| (PARAMS_PER_STATEMENT / table.columns()).max(1);

    if !batch.trends.is_empty() {
        let TrendGroups { places, trends } = group_trends(&batch.trends);
        let mut place_ids: HashMap<Vec<String>, i64> = HashMap::with_capacity(places.len());
        for chunk in places.chunks(rows_for(Upsert::Places)) {
            let (insert, upsert) = (new_rows(Upsert::Places, chunk.len()), statement(Upsert::Places, chunk.len()));
            let keys = chunk.iter().map(|(code, _)| vec![code.to_string()]).collect::<Vec<_>>();
            let bind = binder(|mut query: Query<'_, DB>| {
                for (code, name) in chunk {
                    query = query.bind(code.to_string()).bind(name.map(str::to_owned));
                }
                query
            });
            loaded.places.add(
                write_rows(
                    &mut *conn,
                    Upsert::Places,
                    &keys,
                    bind(sqlx::query(&insert)),
                    bind(sqlx::query(&upsert)),
                    &mut place_ids,
                )
                .await?,
            );
        }

        let mut trend_ids: HashMap<Vec<String>, i64> = HashMap::with_capacity(trends.len());
        for chunk in trends.chunks(rows_for(Upsert::Trends)) {
            let (insert, upsert) = (new_rows(Upsert::Trends, chunk.len()), statement(Upsert::Trends, chunk.len()));
            let keys =
                chunk.iter().map(|((source, key), _)| vec![source.to_string(), key.to_string()]).collect::<Vec<_>>();
            let bind = binder(|mut query: Query<'_, DB>| {
                for ((source, key), span) in chunk {
                    query = query
                        .bind(source.to_string())
                        .bind(key.to_string())
                        .bind(span.name.to_owned())
                        .bind(span.first)
                        .bind(span.last);
                }
                query
            });
            loaded.trends.add(
                write_rows(
                    &mut *conn,
                    Upsert::Trends,
                    &keys,
                    bind(sqlx::query(&insert)),
                    bind(sqlx::query(&upsert)),
                    &mut trend_ids,
                )
                .await?,
            );
        }

        batch::mark(&mut loaded.touched.places, place_ids.values());
        batch::mark(&mut loaded.touched.trends, trend_ids.values());
        // Observations: one row per (trend, place, time); within a batch the last
        // record wins, as a rerun of the later one would.
        let mut observations: BTreeMap<(i64, i64, DateTime<Utc>), &Trend> = BTreeMap::new();
        for t in &batch.trends {
            let trend_id = trend_ids.get(&vec![t.source.clone(), t.key.clone()]);
            let place_id = place_ids.get(std::slice::from_ref(&t.place.id));
            let (Some(&trend_id), Some(&place_id)) = (trend_id, place_id) else {
                return Err(missing_id("trend", &t.key));
            };
            observations.insert((trend_id, place_id, t.observed_at), t);
        }
        let observations: Vec<_> = observations.into_iter().collect();
        for chunk in observations.chunks(rows_for(Upsert::Observations)) {
            let rows = chunk.len();
            // Returned rows are counted (`rows_affected` is not generic over the database).
            let (insert, upsert) = (
                new_rows(Upsert::Observations, rows) + " RETURNING trend_id",
                statement(Upsert::Observations, rows) + " RETURNING trend_id",
            );
            let bind = binder(|mut query: Query<'_, DB>| {
                for ((trend_id, place_id, at), t) in chunk {
                    query = query
                        .bind(*trend_id)
                        .bind(*place_id)
                        .bind(*at)
                        .bind(t.volume)
                        .bind(t.rank.map(i64::from))
                        .bind(t.run_id.clone());
                }
                query
            });
            // The insert leaves alone the rows already stored; the upsert then rewrites
            // those that change, and finds the ones just inserted unchanged.
            let new = bind(sqlx::query(&insert)).fetch_all(&mut *conn).await?.len();
            let updated = bind(sqlx::query(&upsert)).fetch_all(&mut *conn).await?.len();
            loaded.observations.add(Written::of(rows as u64, new as u64, updated as u64));
        }
    }

    if !batch.posts.is_empty() {
        let (posts, authors) = latest_posts(&batch.posts);
        let mut author_ids: HashMap<Vec<String>, i64> = HashMap::with_capacity(authors.len());
        for chunk in authors.chunks(rows_for(Upsert::Authors)) {
            let (insert, upsert) = (new_rows(Upsert::Authors, chunk.len()), statement(Upsert::Authors, chunk.len()));
            let keys =
                chunk.iter().map(|((source, id), _)| vec![source.to_string(), id.to_string()]).collect::<Vec<_>>();
            let bind = binder(|mut query: Query<'_, DB>| {
                for ((source, id), (p, a)) in chunk {
                    query = query
                        .bind(source.to_string())
                        .bind(id.to_string())
                        .bind(a.handle.clone())
                        .bind(a.followers)
                        .bind(p.at);
                }
                query
            });
            loaded.authors.add(
                write_rows(
                    &mut *conn,
                    Upsert::Authors,
                    &keys,
                    bind(sqlx::query(&insert)),
                    bind(sqlx::query(&upsert)),
                    &mut author_ids,
                )
                .await?,
            );
        }

        let mut post_ids: HashMap<Vec<String>, i64> = HashMap::with_capacity(posts.len());
        for chunk in posts.chunks(rows_for(Upsert::Posts)) {
            let (insert, upsert) = (new_rows(Upsert::Posts, chunk.len()), statement(Upsert::Posts, chunk.len()));
            let keys =
                chunk.iter().map(|((source, id), _)| vec![source.to_string(), id.to_string()]).collect::<Vec<_>>();
            let mut authors = Vec::with_capacity(chunk.len());
            for ((source, _), p) in chunk {
                authors.push(match &p.post.author {
                    Some(a) => match author_ids.get(&vec![source.to_string(), a.id.clone()]) {
                        Some(id) => Some(*id),
                        None => return Err(missing_id("author", &a.id)),
                    },
                    None => None,
                });
            }
            let bind = binder(|mut query: Query<'_, DB>| {
                for (((source, id), p), author) in chunk.iter().zip(&authors) {
                    let post = &p.post;
                    query = query
                        .bind(source.to_string())
                        .bind(id.to_string())
                        .bind(*author)
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
                        .bind(post.conversation_id.clone())
                        .bind(post.author.as_ref().and_then(|a| a.followers));
                }
                query
            });
            loaded.posts.add(
                write_rows(
                    &mut *conn,
                    Upsert::Posts,
                    &keys,
                    bind(sqlx::query(&insert)),
                    bind(sqlx::query(&upsert)),
                    &mut post_ids,
                )
                .await?,
            );
        }
        batch::mark(&mut loaded.touched.authors, author_ids.values());
        batch::mark(&mut loaded.touched.posts, post_ids.values());

        // Which trends each post was collected for, from every record of the batch.
        let mut links: Vec<(i64, String)> = Vec::new();
        for p in &batch.posts {
            if let Some(key) = p.post.trend.as_deref().filter(|k| !k.is_empty()) {
                match post_ids.get(&vec![p.post.source.clone(), p.post.id.clone()]) {
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
                p.post.sentiment.as_ref().map(|s| (post_ids.get(&vec![source.to_string(), id.to_string()]), p.at, s))
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
    }

    crate::extras::write::<DB>(&mut *conn, &batch.trends).await?;
    if let Some((stream, at)) = &batch.watermark {
        sqlx::query::<DB>(WATERMARK_SQL).bind(stream.clone()).bind(*at).bind(Utc::now()).execute(&mut *conn).await?;
    }

    tx.commit().await?;
    Ok(loaded)
}

/// A query of a load statement, its parameters bound.
type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// Fixes the lifetime of a closure that binds a chunk's values, so that it can bind
/// the same values to the insert and to the upsert of the chunk.
fn binder<'q, DB: Database, F: Fn(Query<'q, DB>) -> Query<'q, DB>>(f: F) -> F {
    f
}

/// Writes a chunk of rows of a table with row ids and counts what the database did:
/// `insert` (the rows not stored yet; it returns their ids) and then `upsert` (the
/// shared statement, which rewrites and returns only the rows that change, so finds
/// the ones just inserted unchanged), both with the chunk's values bound; the ids
/// of the rows left unchanged are looked up by key. `keys` are the natural keys of
/// the chunk's rows, in order; `ids` receives the id of every row.
async fn write_rows<'q, DB>(
    conn: &mut DB::Connection,
    table: Upsert,
    keys: &[Vec<String>],
    insert: Query<'q, DB>,
    upsert: Query<'q, DB>,
    ids: &mut HashMap<Vec<String>, i64>,
) -> Result<Written, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
    for<'a> String: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    let key_names: Vec<&str> = table.key_names().collect();
    let returned = |row: &DB::Row| -> Result<(Vec<String>, i64), sqlx::Error> {
        let key = key_names.iter().map(|name| row.try_get::<String, _>(*name)).collect::<Result<Vec<_>, _>>()?;
        Ok((key, row.try_get("id")?))
    };
    let mut new = 0;
    for row in insert.fetch_all(&mut *conn).await? {
        let (key, id) = returned(&row)?;
        ids.insert(key, id);
        new += 1;
    }
    let mut updated = 0;
    for row in upsert.fetch_all(&mut *conn).await? {
        let (key, id) = returned(&row)?;
        ids.insert(key, id);
        updated += 1;
    }
    let select = table.select_id(if DB::NAME == "SQLite" { '?' } else { '$' });
    for key in keys {
        if ids.contains_key(key) {
            continue;
        }
        let mut query = sqlx::query::<DB>(&select);
        for part in key {
            query = query.bind(part.clone());
        }
        let row = query.fetch_one(&mut *conn).await?;
        ids.insert(key.clone(), row.try_get("id")?);
    }
    Ok(Written::of(keys.len() as u64, new, updated))
}

fn missing_id(what: &str, key: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the upsert returned no id for {what} {key:?}"))
}
