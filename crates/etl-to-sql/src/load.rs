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
//! The code is generic over the sqlx database so that SQLite and PostgreSQL run the
//! very same statements. Placeholders are numbered `$1, $2, …` in order: PostgreSQL's
//! syntax, which SQLite reads as parameters bound by position.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use trendpipe_core::record::{Author, Post, Trend};
use trendpipe_core::sql::Sql;

/// Bound parameters per statement. sqlx looks each SQLite parameter up with
/// `sqlite3_bind_parameter_name`, which walks the statement's parameter list, so the
/// cost of binding grows with the square of the parameters of one statement: a few
/// hundred keeps it negligible, and every full chunk reuses one prepared statement.
const PARAMS_PER_STATEMENT: usize = 200;

/// What one batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub observations: u64,
    pub trends: u64,
    pub places: u64,
    pub posts: u64,
    pub authors: u64,
}

impl Loaded {
    pub fn add(&mut self, other: Loaded) {
        self.observations += other.observations;
        self.trends += other.trends;
        self.places += other.places;
        self.posts += other.posts;
        self.authors += other.authors;
    }
}

/// A post with the time its counts were read (its `observed_at`, else `created_at`).
#[derive(Debug, Clone)]
pub struct TimedPost {
    pub post: Post,
    pub at: DateTime<Utc>,
}

/// The records of one transaction.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub trends: Vec<Trend>,
    pub posts: Vec<TimedPost>,
    /// The stream and position to record once the rows are in.
    pub watermark: Option<(String, DateTime<Utc>)>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.trends.len() + self.posts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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

/// Records a stream's watermark, only forward: a backfill of older records never
/// moves it back, and a rerun of the same position changes nothing.
pub const WATERMARK_SQL: &str = "INSERT INTO etl_watermarks (stream, watermark, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (stream) DO UPDATE SET \
     updated_at = CASE WHEN excluded.watermark > etl_watermarks.watermark THEN excluded.updated_at ELSE etl_watermarks.updated_at END, \
     watermark = CASE WHEN excluded.watermark > etl_watermarks.watermark THEN excluded.watermark ELSE etl_watermarks.watermark END";

/// The `SET` list of the posts upsert: each column takes the new value only when the
/// new record is not older than the stored one, so loading an old export after a new
/// one keeps the latest counts. Shared by both paths so that they store the same rows.
pub fn post_updates() -> String {
    [
        "author",
        "url",
        "text",
        "lang",
        "created_at",
        "reposts",
        "likes",
        "replies",
        "quotes",
        "parent_id",
        "quote_of",
        "repost_of",
        "conversation_id",
    ]
    .iter()
    .map(|col| {
        format!("{col} = CASE WHEN excluded.observed_at >= posts.observed_at THEN excluded.{col} ELSE posts.{col} END")
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The tables the generic and the SQLite paths upsert into, with the same statement
/// for both: they differ only in how many rows one statement carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Upsert {
    Places,
    Trends,
    Observations,
    Authors,
    Posts,
    Links,
    Scores,
}

impl Upsert {
    /// Columns per row.
    pub(crate) fn columns(self) -> usize {
        match self {
            Upsert::Places | Upsert::Links => 2,
            Upsert::Trends | Upsert::Authors => 5,
            Upsert::Observations => 6,
            Upsert::Posts => 16,
            Upsert::Scores => 8,
        }
    }

    /// The table and its columns, as `INSERT INTO` names them.
    fn target(self) -> &'static str {
        match self {
            Upsert::Places => "places (code, name)",
            Upsert::Trends => "trends (source, key, name, first_seen, last_seen)",
            Upsert::Observations => "trend_observations (trend_id, place_id, observed_at, volume, rank, run_id)",
            Upsert::Authors => "authors (source, author_id, handle, followers, updated_at)",
            Upsert::Posts => {
                "posts (source, post_id, author, url, text, lang, created_at, observed_at, \
                 reposts, likes, replies, quotes, parent_id, quote_of, repost_of, conversation_id)"
            }
            Upsert::Links => "post_trends (post, trend_key)",
            Upsert::Scores => "post_sentiment (post, model, compound, pos, neu, neg, label, scored_at)",
        }
    }

    /// The natural key: the unique constraint the upsert resolves conflicts on.
    fn key(self) -> &'static str {
        match self {
            Upsert::Places => "code",
            Upsert::Trends => "source, key",
            Upsert::Authors => "source, author_id",
            Upsert::Posts => "source, post_id",
            Upsert::Observations => "trend_id, place_id, observed_at",
            Upsert::Links => "post, trend_key",
            Upsert::Scores => "post",
        }
    }

    /// The statement for `values` (its `VALUES` rows of placeholders). Statements
    /// that return ids return the natural key too, to map each id to its row.
    pub(crate) fn sql(self, values: &str) -> String {
        let conflict = match self {
            Upsert::Places => {
                "DO UPDATE SET name = COALESCE(excluded.name, places.name) RETURNING id, code".to_owned()
            }
            Upsert::Trends => "DO UPDATE SET \
                 name = CASE WHEN excluded.last_seen >= trends.last_seen THEN excluded.name ELSE trends.name END, \
                 first_seen = CASE WHEN excluded.first_seen < trends.first_seen THEN excluded.first_seen ELSE trends.first_seen END, \
                 last_seen = CASE WHEN excluded.last_seen > trends.last_seen THEN excluded.last_seen ELSE trends.last_seen END \
                 RETURNING id, source, key"
                .to_owned(),
            Upsert::Observations => {
                "DO UPDATE SET volume = excluded.volume, rank = excluded.rank, run_id = excluded.run_id".to_owned()
            }
            Upsert::Authors => {
                format!("DO UPDATE SET {} RETURNING id, source, author_id", author_updates(|col| format!("excluded.{col}")))
            }
            Upsert::Posts => format!(
                "DO UPDATE SET {}, \
                 observed_at = CASE WHEN excluded.observed_at > posts.observed_at THEN excluded.observed_at ELSE posts.observed_at END \
                 RETURNING id, source, post_id",
                post_updates()
            ),
            Upsert::Links => "DO NOTHING".to_owned(),
            Upsert::Scores => "DO UPDATE SET model = excluded.model, compound = excluded.compound, \
                 pos = excluded.pos, neu = excluded.neu, neg = excluded.neg, label = excluded.label, \
                 scored_at = excluded.scored_at"
                .to_owned(),
        };
        format!("INSERT INTO {} VALUES {values} ON CONFLICT ({}) {conflict}", self.target(), self.key())
    }

    /// The insert of rows whose natural key is not stored yet, leaving alone those
    /// that are: what the upsert does to a new row, without its `RETURNING` (the
    /// SQLite path takes the new row's id from the connection instead).
    pub(crate) fn insert_new(self, values: &str) -> String {
        format!("INSERT INTO {} VALUES {values} ON CONFLICT ({}) DO NOTHING", self.target(), self.key())
    }
}

/// The `SET` list of the authors upsert, `new` naming the column of the new values:
/// handle and followers move to those of the latest observation (ties go to the later
/// record), `updated_at` only forward. Shared by the upsert and by the SQLite path's
/// update of an author whose row id it knows.
pub(crate) fn author_updates(new: impl Fn(&str) -> String) -> String {
    let (handle, followers, at) = (new("handle"), new("followers"), new("updated_at"));
    format!(
        "handle = CASE WHEN {at} >= authors.updated_at THEN COALESCE({handle}, authors.handle) ELSE authors.handle END, \
         followers = CASE WHEN {at} >= authors.updated_at THEN COALESCE({followers}, authors.followers) ELSE authors.followers END, \
         updated_at = CASE WHEN {at} > authors.updated_at THEN {at} ELSE authors.updated_at END"
    )
}

/// Times as text for SQL: RFC 3339 with `+00:00`, the form sqlx writes into SQLite, so
/// both paths store the same text.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// The watermark of a stream, if a load has recorded one.
pub async fn watermark(sql: &Sql, stream: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    const SQL: &str = "SELECT watermark FROM etl_watermarks WHERE stream = $1";
    match sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(SQL).bind(stream).fetch_optional(pool).await,
        Sql::Postgres(pool) => sqlx::query_scalar(SQL).bind(stream).fetch_optional(pool).await,
    }
}

/// The span of a trend within a batch: first and last observation, and the name of
/// the latest one.
pub(crate) struct Span<'a> {
    pub name: &'a str,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The places and trends of a batch, one row each, in key order.
pub(crate) struct TrendGroups<'a> {
    /// Place code and name: a later non-null name wins.
    pub places: Vec<(&'a str, Option<&'a str>)>,
    /// (source, key) and the span of the batch.
    pub trends: Vec<((&'a str, &'a str), Span<'a>)>,
}

pub(crate) fn group_trends(batch: &[Trend]) -> TrendGroups<'_> {
    let mut places: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut trends: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for t in batch {
        let name = t.place.name.as_deref();
        places.entry(t.place.id.as_str()).and_modify(|n| *n = name.or(*n)).or_insert(name);
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
    TrendGroups { places: places.into_iter().collect(), trends: trends.into_iter().collect() }
}

/// A post or an author by (source, provider id).
pub(crate) type Keyed<'a, T> = Vec<((&'a str, &'a str), T)>;

/// The latest observation of each post and of each author of a batch, in key order
/// (ties go to the later record, as a rerun of it would).
#[allow(clippy::type_complexity)]
pub(crate) fn latest_posts(batch: &[TimedPost]) -> (Keyed<'_, &TimedPost>, Keyed<'_, (&TimedPost, &Author)>) {
    let mut posts: BTreeMap<(&str, &str), &TimedPost> = BTreeMap::new();
    let mut authors: BTreeMap<(&str, &str), (&TimedPost, &Author)> = BTreeMap::new();
    for p in batch {
        let slot = posts.entry((p.post.source.as_str(), p.post.id.as_str())).or_insert(p);
        if p.at >= slot.at {
            *slot = p;
        }
        if let Some(a) = &p.post.author {
            let slot = authors.entry((p.post.source.as_str(), a.id.as_str())).or_insert((p, a));
            if p.at >= slot.0.at {
                *slot = (p, a);
            }
        }
    }
    (posts.into_iter().collect(), authors.into_iter().collect())
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

    if let Some((stream, at)) = &batch.watermark {
        sqlx::query::<DB>(WATERMARK_SQL).bind(stream.clone()).bind(*at).bind(Utc::now()).execute(&mut *conn).await?;
    }

    tx.commit().await?;
    Ok(loaded)
}

fn missing_id(what: &str, key: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the upsert returned no id for {what} {key:?}"))
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` columns, numbered with `mark`.
///
/// PostgreSQL takes `$N`; SQLite takes `?N`, which it reads as a position, whereas it
/// would read `$N` as a name and look each one up among the names seen so far,
/// quadratic in the thousands of parameters of a multi-row insert.
pub(crate) fn placeholders_with(mark: char, rows: usize, cols: usize) -> String {
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
            out.push(mark);
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders_with;

    #[test]
    fn numbered_placeholders() {
        assert_eq!(placeholders_with('$', 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders_with('?', 1, 1), "(?1)");
    }
}
