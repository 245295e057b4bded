//! The SQLite fast path: each batch goes through prepared statements on a plain
//! SQLite connection, one row per execution, in one transaction.
//!
//! sqlx runs SQLite on a worker thread and hands every statement over a channel, and
//! binds parameters by looking their names up; per row, that costs more than SQLite's
//! own work. Here a statement is prepared once per run and executed per row, on the
//! calling thread. The statements (`statements.rs`), the grouping (`batch.rs`) and
//! the order of the rows are those of the generic path in `load.rs` (same rows, same
//! ids; see the tests), and the values are bound in the types sqlx binds (times as
//! RFC 3339 text, [`time_text`]).
//!
//! Two shortcuts keep the work per record down, neither changing what is stored: a
//! post or author not stored yet goes in with a plain insert whose rowid comes from the
//! connection (no `RETURNING`, which SQLite runs through a temporary table per
//! execution), and an author already loaded by this run, as most are (an author posts
//! many times), is updated through the row id this run saw, checked against its
//! natural key, instead of by an upsert that looks the key up in the index again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use trendpipe_core::record::Trend;

use trendpipe_core::sql::time_text;

use crate::batch::{Batch, Change, Loaded, TrendGroups, group_trends, latest_posts, mark};
use crate::statements::{Upsert, WATERMARK_SQL, author_updates, placeholders_with, set_if_changed};

/// Author row ids this run has seen, by source and provider id, up to
/// [`KNOWN_AUTHORS`] of them.
type AuthorIds = HashMap<String, HashMap<String, i64>>;

/// At most this many author ids are remembered (about 100 bytes each); past it the
/// memory starts over, which costs speed only.
const KNOWN_AUTHORS: usize = 500_000;

/// A SQLite database opened for loading, and what the loads so far have learnt.
pub struct Lite {
    conn: Connection,
    authors: AuthorIds,
    known: usize,
}

impl Lite {
    /// Opens the database file the sqlx pool opened (and migrated).
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        Ok(Self { conn: open(path)?, authors: AuthorIds::new(), known: 0 })
    }

    /// Loads a batch in one transaction: all of it or, on error, none of it.
    pub fn load(&mut self, batch: &Batch) -> rusqlite::Result<Loaded> {
        let mut fresh = Vec::new();
        let loaded = load(&mut self.conn, &self.authors, &mut fresh, batch)?;
        // Only ids of committed rows are remembered.
        if self.known + fresh.len() > KNOWN_AUTHORS {
            self.authors.clear();
            self.known = 0;
        }
        self.known += fresh.len();
        for (source, id, row) in fresh {
            self.authors.entry(source).or_default().insert(id, row);
        }
        Ok(loaded)
    }
}

/// Opens the database file the sqlx pool opened (and migrated), with the same
/// settings: WAL (kept in the file), NORMAL synchronous, foreign keys, a busy timeout.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A load touches the same index pages over and over: keep them in memory (64 MB
    // instead of SQLite's 2 MB) rather than re-reading them from the file.
    conn.pragma_update(None, "cache_size", -65536)?;
    // Checkpoint the write-ahead log every 64 MB instead of every 4 MB: a page
    // changed by many batches is copied into the database file fewer times.
    conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
    Ok(conn)
}

/// The shared upsert of a table, for one row.
fn statement(table: Upsert) -> String {
    table.sql(&row(table))
}

/// The placeholders of one row of a table.
fn row(table: Upsert) -> String {
    placeholders_with('?', 1, table.columns())
}

/// Writes rows of a table that has row ids, telling what each write did: a plain
/// insert of a row not stored yet (its id from the connection; no `RETURNING`, which
/// SQLite runs through a temporary table per execution), else the shared upsert,
/// which returns the row only when it rewrote it, else the id of the stored row,
/// left as it was.
struct Writer<'t> {
    insert: rusqlite::CachedStatement<'t>,
    upsert: rusqlite::CachedStatement<'t>,
    select: rusqlite::CachedStatement<'t>,
    keys: usize,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t rusqlite::Transaction<'_>, table: Upsert) -> rusqlite::Result<Self> {
        Ok(Self {
            insert: tx.prepare_cached(&table.insert_new(&row(table)))?,
            upsert: tx.prepare_cached(&statement(table))?,
            select: tx.prepare_cached(&table.select_id('?'))?,
            keys: table.key_columns(),
        })
    }

    fn write(&mut self, tx: &Connection, values: &[&dyn rusqlite::ToSql]) -> rusqlite::Result<(i64, Change)> {
        if self.insert.execute(values)? == 1 {
            return Ok((tx.last_insert_rowid(), Change::New));
        }
        if let Some(id) = self.upsert.query_row(values, |r| r.get(0)).optional()? {
            return Ok((id, Change::Updated));
        }
        let key = values.get(..self.keys).unwrap_or(values);
        Ok((self.select.query_row(key, |r| r.get(0))?, Change::Unchanged))
    }
}

/// Loads a batch in one transaction, updating the authors of `known` by row id and
/// adding to `fresh` the ids of the other authors.
fn load(
    conn: &mut Connection,
    known: &AuthorIds,
    fresh: &mut Vec<(String, String, i64)>,
    batch: &Batch,
) -> rusqlite::Result<Loaded> {
    // IMMEDIATE takes the write lock up front, so that a concurrent writer makes this
    // one wait (busy timeout) instead of failing half-way.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut loaded = Loaded::default();

    if !batch.trends.is_empty() {
        let TrendGroups { places, trends } = group_trends(&batch.trends);
        let mut place_ids: BTreeMap<&str, i64> = BTreeMap::new();
        {
            let mut writer = Writer::new(&tx, Upsert::Places)?;
            for (code, name) in &places {
                let (id, change) = writer.write(&tx, params![code, name])?;
                loaded.places.count(change);
                place_ids.insert(code, id);
            }
        }
        let mut trend_ids: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        {
            let mut writer = Writer::new(&tx, Upsert::Trends)?;
            for ((source, key), span) in &trends {
                let values = params![source, key, span.name, time_text(&span.first), time_text(&span.last)];
                let (id, change) = writer.write(&tx, values)?;
                loaded.trends.count(change);
                trend_ids.insert((source, key), id);
            }
        }
        mark(&mut loaded.touched.places, place_ids.values());
        mark(&mut loaded.touched.trends, trend_ids.values());
        let mut observations: BTreeMap<(i64, i64, DateTime<Utc>), &Trend> = BTreeMap::new();
        for t in &batch.trends {
            let trend_id = trend_ids.get(&(t.source.as_str(), t.key.as_str()));
            let place_id = place_ids.get(t.place.id.as_str());
            let (Some(&trend_id), Some(&place_id)) = (trend_id, place_id) else {
                return Err(missing_id("trend", &t.key));
            };
            observations.insert((trend_id, place_id, t.observed_at), t);
        }
        {
            let mut insert = tx.prepare_cached(&Upsert::Observations.insert_new(&row(Upsert::Observations)))?;
            let mut upsert = tx.prepare_cached(&statement(Upsert::Observations))?;
            for ((trend_id, place_id, at), t) in &observations {
                let values = params![trend_id, place_id, time_text(at), t.volume, t.rank, t.run_id];
                let change = if insert.execute(values)? == 1 {
                    Change::New
                } else if upsert.execute(values)? == 1 {
                    Change::Updated
                } else {
                    Change::Unchanged
                };
                loaded.observations.count(change);
            }
        }
    }

    if !batch.posts.is_empty() {
        let (posts, authors) = latest_posts(&batch.posts);
        let mut author_ids: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        {
            let mut writer = Writer::new(&tx, Upsert::Authors)?;
            let updates = author_updates(|col| match col {
                "handle" => "?1".to_owned(),
                "followers" => "?2".to_owned(),
                _ => "?3".to_owned(),
            });
            let (set, changed) = set_if_changed("authors", &updates);
            let mut update = tx.prepare_cached(&format!(
                "UPDATE authors SET {set} WHERE id = ?4 AND source = ?5 AND author_id = ?6 AND ({changed})"
            ))?;
            for ((source, id), (p, a)) in &authors {
                let at = time_text(&p.at);
                let seen = known.get(*source).and_then(|ids| ids.get(*id));
                // A row this run saw is updated in place when it changes; one that
                // does not change, or was deleted since, goes through the writer.
                if let Some(&row) = seen
                    && update.execute(params![a.handle, a.followers, at, row, source, id])? == 1
                {
                    loaded.authors.count(Change::Updated);
                    author_ids.insert((source, id), row);
                    continue;
                }
                let (row, change) = writer.write(&tx, params![source, id, a.handle, a.followers, at])?;
                loaded.authors.count(change);
                author_ids.insert((source, id), row);
                if seen != Some(&row) {
                    fresh.push((source.to_string(), id.to_string(), row));
                }
            }
        }
        let mut post_ids: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        {
            let mut writer = Writer::new(&tx, Upsert::Posts)?;
            for ((source, id), p) in &posts {
                let post = &p.post;
                let author = match &post.author {
                    Some(a) => match author_ids.get(&(*source, a.id.as_str())) {
                        Some(id) => Some(*id),
                        None => return Err(missing_id("author", &a.id)),
                    },
                    None => None,
                };
                let m = &post.metrics;
                let values = params![
                    source,
                    id,
                    author,
                    post.url,
                    post.text,
                    post.lang,
                    post.created_at.as_ref().map(time_text),
                    time_text(&p.at),
                    m.reposts,
                    m.likes,
                    m.replies,
                    m.quotes,
                    post.parent_id,
                    post.quote_of,
                    post.repost_of,
                    post.conversation_id,
                    post.author.as_ref().and_then(|a| a.followers)
                ];
                let (row, change) = writer.write(&tx, values)?;
                loaded.posts.count(change);
                post_ids.insert((source, id), row);
            }
        }

        mark(&mut loaded.touched.authors, author_ids.values());
        mark(&mut loaded.touched.posts, post_ids.values());

        // Which trends each post was collected for, from every record of the batch.
        let mut links: Vec<(i64, &str)> = Vec::new();
        for p in &batch.posts {
            if let Some(key) = p.post.trend.as_deref().filter(|k| !k.is_empty()) {
                match post_ids.get(&(p.post.source.as_str(), p.post.id.as_str())) {
                    Some(&id) => links.push((id, key)),
                    None => return Err(missing_id("post", &p.post.id)),
                }
            }
        }
        links.sort_unstable();
        links.dedup();
        {
            let mut stmt = tx.prepare_cached(&statement(Upsert::Links))?;
            for (id, key) in &links {
                stmt.execute(params![id, key])?;
            }
        }

        // Scores that `sentiment` already added to the records.
        {
            let mut stmt = tx.prepare_cached(&statement(Upsert::Scores))?;
            for (key, p) in &posts {
                if let Some(s) = &p.post.sentiment {
                    let Some(id) = post_ids.get(key) else {
                        return Err(missing_id("post", key.1));
                    };
                    stmt.execute(params![id, s.model, s.compound, s.pos, s.neu, s.neg, s.label, time_text(&p.at)])?;
                }
            }
        }
    }

    crate::extras::write_lite(&tx, &batch.trends)?;
    if let Some((stream, at)) = &batch.watermark {
        tx.prepare_cached(&WATERMARK_SQL.replace('$', "?"))?.execute(params![
            stream,
            time_text(at),
            time_text(&Utc::now())
        ])?;
    }
    tx.commit()?;
    Ok(loaded)
}

fn missing_id(what: &str, key: &str) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(format!("the upsert returned no id for {what} {key:?}").into())
}
