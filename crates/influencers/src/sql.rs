//! SQL mode: scores from the database `etl-to-sql` fills, into `influencer_scores`.
//!
//! For each trend and window length, one query reads the trend's posts in window
//! order. The database does the joins (posts, their trends, their authors), takes
//! off each original's reposts by its own author, and sums per author and window the
//! posts, reposts made, engagement received and the h-index (window functions);
//! each post row carries its author's sums. The rows of one window are then turned
//! into cascades and PageRank here, scored, and written in one transaction that
//! first deletes that (trend, window length, window start)'s rows: a rerun replaces,
//! never duplicates. Memory holds one window's posts at a time (the largest
//! (trend, window) bounds it), whatever the size of the database: on a million
//! posts in SQLite (largest window 26,683 posts) the run peaks at 63 MiB, the
//! embedded engine's sorting included, where NDJSON mode holds all posts (488 MiB).
//!
//! `followers` is, as in NDJSON mode, the largest count seen in the window: the
//! largest `posts.author_followers` (the count each post's latest observation
//! carried) over the author's posts of the window, else, for rows loaded before
//! that column existed, the author's latest known count (`authors.followers`).
//! One thing differs because the database keeps less: a post without an author is
//! left out.

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use rustc_hash::FxHashMap;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use trendpipe_core::error::Status;
use trendpipe_core::redact::redact;
use trendpipe_core::sql::Sql;

use crate::Plan;
use crate::graph::{NONE, Node};
use crate::output::{Row, Sink};
use crate::window::{Counts, Notes, WindowAuthor, WindowData, WindowLen, evaluate, time_of};

/// One post of a window as the query returns it, with its author's sums.
#[derive(Debug, Clone)]
struct PostRow {
    bucket: i64,
    source: String,
    post_id: String,
    author_id: String,
    author: i64,
    handle: Option<String>,
    counts: Counts,
    refs: [Option<String>; 3],
}

/// The self-repost count must go through `posts_repost_of`: left to itself,
/// SQLite's planner may pick `posts_author` (or the `(source, post_id)` key) for the
/// inner lookup, which for a prolific author scans thousands of rows per post
/// (290 s instead of 0.1 s for a trend of 25,000 posts). `|| ''` and `+ 0` keep the
/// same values and make those two columns unusable as index keys, in both dialects.
///
/// The query, for both dialects: `epoch` turns the post's time into seconds, `$1` is
/// the trend, `$2`/`$3` the time bounds, `$4` the window length and `$5` its origin
/// (both in seconds).
fn posts_query(epoch: &str) -> String {
    let t = "COALESCE(p.created_at, p.observed_at)";
    format!(
        "WITH w AS ( \
           SELECT p.source, p.post_id, p.author, p.parent_id, p.quote_of, p.repost_of, \
                  p.reposts, p.likes, p.replies, p.quotes, p.author_followers, \
                  ((({epoch}) - $5) / $4) * $4 + $5 AS bucket \
             FROM post_trends l JOIN posts p ON p.id = l.post \
            WHERE l.trend_key = $1 AND p.author IS NOT NULL AND {t} >= $2 AND {t} < $3), \
         o AS ( \
           SELECT w.*, CASE WHEN w.repost_of IS NULL THEN \
                    COALESCE(w.reposts, 0) - (SELECT COUNT(*) FROM posts r \
                      WHERE r.repost_of = w.post_id AND r.source || '' = w.source AND r.author + 0 = w.author) END AS raw_own \
             FROM w), \
         r AS ( \
           SELECT o.*, CASE WHEN o.raw_own < 0 THEN 0 ELSE o.raw_own END AS own, \
                  ROW_NUMBER() OVER (PARTITION BY o.bucket, o.author, (o.repost_of IS NULL) \
                                     ORDER BY o.raw_own DESC) AS rn \
             FROM o) \
         SELECT r.bucket, r.source, r.post_id, a.author_id, r.author, a.handle, \
                COALESCE(MAX(r.author_followers) OVER aw, a.followers) AS followers, \
                r.parent_id, r.quote_of, r.repost_of, \
                CAST(COUNT(*) OVER aw AS BIGINT) AS n_posts, \
                CAST(SUM(CASE WHEN r.repost_of IS NULL THEN 0 ELSE 1 END) OVER aw AS BIGINT) AS reposts_made, \
                CAST(SUM(COALESCE(r.own, 0)) OVER aw AS BIGINT) AS reposts, \
                CAST(SUM(CASE WHEN r.repost_of IS NULL THEN COALESCE(r.likes, 0) ELSE 0 END) OVER aw AS BIGINT) AS likes, \
                CAST(SUM(CASE WHEN r.repost_of IS NULL THEN COALESCE(r.replies, 0) ELSE 0 END) OVER aw AS BIGINT) AS replies, \
                CAST(SUM(CASE WHEN r.repost_of IS NULL THEN COALESCE(r.quotes, 0) ELSE 0 END) OVER aw AS BIGINT) AS quotes, \
                CAST(MAX(CASE WHEN r.repost_of IS NULL AND r.own >= r.rn THEN r.rn ELSE 0 END) OVER aw AS BIGINT) AS h_index \
           FROM r JOIN authors a ON a.id = r.author \
         WINDOW aw AS (PARTITION BY r.bucket, r.author) \
          ORDER BY r.bucket"
    )
}

const SQLITE_EPOCH: &str = "CAST(strftime('%s', COALESCE(p.created_at, p.observed_at)) AS INTEGER)";
const POSTGRES_EPOCH: &str = "CAST(floor(extract(epoch FROM COALESCE(p.created_at, p.observed_at))) AS BIGINT)";

/// SQLite stores times as the text sqlx and `etl-to-sql` write: RFC 3339 with `+00:00`.
fn sqlite_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn post_row<R: sqlx::Row>(row: &R) -> Result<PostRow, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(PostRow {
        bucket: row.try_get("bucket")?,
        source: row.try_get("source")?,
        post_id: row.try_get("post_id")?,
        author_id: row.try_get("author_id")?,
        author: row.try_get("author")?,
        handle: row.try_get("handle")?,
        counts: Counts {
            posts: row.try_get("n_posts")?,
            reposts_made: row.try_get("reposts_made")?,
            reposts: row.try_get("reposts")?,
            likes: row.try_get("likes")?,
            replies: row.try_get("replies")?,
            quotes: row.try_get("quotes")?,
            followers: row.try_get("followers")?,
            h_index: row.try_get("h_index")?,
        },
        refs: [row.try_get("parent_id")?, row.try_get("quote_of")?, row.try_get("repost_of")?],
    })
}

/// The trend keys with posts, in byte order (the database's collation may differ).
async fn trend_keys(sql: &Sql) -> Result<Vec<String>, sqlx::Error> {
    const Q: &str = "SELECT DISTINCT trend_key FROM post_trends";
    let mut keys: Vec<String> = match sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(Q).fetch_all(pool).await?,
        Sql::Postgres(pool) => sqlx::query_scalar(Q).fetch_all(pool).await?,
    };
    keys.sort();
    Ok(keys)
}

/// Turns the rows of one window into its graph and sums.
fn window_of(trend: &str, len: WindowLen, start: i64, mut rows: Vec<PostRow>) -> WindowData {
    rows.sort_by(|a, b| (&a.source, &a.post_id).cmp(&(&b.source, &b.post_id)));
    let mut authors: Vec<(&str, &str, usize)> =
        rows.iter().enumerate().map(|(i, r)| (r.source.as_str(), r.author_id.as_str(), i)).collect();
    authors.sort();
    authors.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let local: FxHashMap<i64, u32> =
        authors.iter().enumerate().map(|(i, &(_, _, row))| (rows[row].author, i as u32)).collect();
    let posts: FxHashMap<(&str, &str), u32> =
        rows.iter().enumerate().map(|(i, r)| ((r.source.as_str(), r.post_id.as_str()), i as u32)).collect();
    let nodes = rows
        .iter()
        .map(|r| Node {
            author: local.get(&r.author).copied().unwrap_or(NONE),
            links: [0, 1, 2].map(|slot| {
                r.refs[slot]
                    .as_deref()
                    .and_then(|id| posts.get(&(r.source.as_str(), id.trim())))
                    .copied()
                    .unwrap_or(NONE)
            }),
        })
        .collect();
    let authors = authors
        .iter()
        .map(|&(_, _, i)| {
            let r = &rows[i];
            WindowAuthor {
                source: r.source.clone(),
                id: r.author_id.clone(),
                handle: r.handle.clone(),
                db_id: Some(r.author),
                counts: r.counts,
            }
        })
        .collect();
    WindowData { trend: trend.to_owned(), len, start, authors, nodes }
}

/// What a run wrote.
#[derive(Debug, Default)]
struct Written {
    windows: u64,
    /// Rows inserted into `influencer_scores`, as the database counted them.
    rows: u64,
    /// Rows of the same windows deleted first (an earlier run's scores).
    replaced: u64,
    largest: usize,
}

/// Scores every (trend, window) of the plan and upserts `influencer_scores`.
pub async fn run(
    url: &str,
    plan: &Plan,
    lock_timeout: std::time::Duration,
    mut sink: Option<Sink<impl std::io::Write>>,
) -> anyhow::Result<Status> {
    let sql = Sql::connect(url).await?;
    // Two runs at once would replace each other's windows half-way: they take turns.
    let result = match sql.lock_stage("influencers", lock_timeout).await {
        Ok(lock) => {
            let result = score_all(&sql, plan, sink.as_mut()).await;
            lock.release().await;
            result
        }
        Err(e) => Err(e),
    };
    sql.close().await;
    let (written, notes) = result?;
    if let Some(sink) = sink {
        sink.finish()?;
    }
    for (name, n) in [("windows", written.windows), ("rows_written", written.rows), ("rows_replaced", written.replaced)]
    {
        trendpipe_core::ledger::count(name, n);
    }
    log::info!(
        "{} trend windows scored, {} rows written to influencer_scores ({} rows of earlier runs replaced) in {}; the largest window held {} posts",
        written.windows,
        written.rows,
        written.replaced,
        redact(url),
        written.largest
    );
    if notes.cycles_broken > 0 {
        log::warn!(
            "{} reply/quote cycles in the data were cut (a post cannot answer a later one)",
            notes.cycles_broken
        );
    }
    Ok(Status::ok())
}

async fn score_all(
    sql: &Sql,
    plan: &Plan,
    mut sink: Option<&mut Sink<impl std::io::Write>>,
) -> anyhow::Result<(Written, Notes)> {
    let mut written = Written::default();
    let mut notes = Notes::default();
    let keys = trend_keys(sql).await.context("listing the trends")?;
    // A stop request ends the run between windows, each replaced in a transaction of
    // its own: the next run computes them all again.
    'trends: for trend in keys.iter().filter(|k| plan.keeps(k)) {
        for &len in &plan.lens {
            if trendpipe_core::shutdown::requested() {
                break 'trends;
            }
            // Whole windows: from the start of the one holding --since to the end of
            // the one holding the last instant before --until.
            let lower = plan.span.since.map_or(-62_135_596_800, |s| len.start_of(s));
            let upper = plan.span.until.map_or(253_402_300_799, |u| len.start_of(u - 1) + len.seconds());
            let (lower, upper) = (time_of(lower), time_of(upper));
            let mut current: Vec<PostRow> = Vec::new();
            macro_rules! stream {
                ($pool:expr, $epoch:expr, $lower:expr, $upper:expr) => {{
                    let query = posts_query($epoch);
                    let mut rows = sqlx::query(&query)
                        .bind(trend)
                        .bind($lower)
                        .bind($upper)
                        .bind(len.seconds())
                        .bind(len.origin())
                        .fetch($pool);
                    while let Some(row) =
                        rows.try_next().await.with_context(|| format!("reading the posts of {trend}"))?
                    {
                        let row = post_row(&row)?;
                        if current.first().is_some_and(|c| c.bucket != row.bucket) {
                            let done = std::mem::take(&mut current);
                            finish_window(sql, plan, trend, len, done, &mut written, &mut notes, sink.as_deref_mut())
                                .await?;
                        }
                        current.push(row);
                    }
                }};
            }
            match sql {
                Sql::Sqlite(pool) => {
                    // SQLite sorts in this process, and the bundled build keeps its
                    // temporary tables in memory: on the reading connection they go
                    // to files past the page cache, so a large trend costs disk, not RAM.
                    let mut conn = pool.acquire().await.context("opening a database connection")?;
                    sqlx::query("PRAGMA temp_store = FILE").execute(&mut *conn).await?;
                    stream!(&mut *conn, SQLITE_EPOCH, sqlite_time(lower), sqlite_time(upper))
                }
                Sql::Postgres(pool) => stream!(pool, POSTGRES_EPOCH, lower, upper),
            }
            if !current.is_empty() {
                finish_window(sql, plan, trend, len, current, &mut written, &mut notes, sink.as_deref_mut()).await?;
            }
        }
    }
    Ok((written, notes))
}

#[allow(clippy::too_many_arguments)]
async fn finish_window(
    sql: &Sql,
    plan: &Plan,
    trend: &str,
    len: WindowLen,
    rows: Vec<PostRow>,
    written: &mut Written,
    notes: &mut Notes,
    sink: Option<&mut Sink<impl std::io::Write>>,
) -> anyhow::Result<()> {
    let start = rows.first().map_or(0, |r| r.bucket);
    written.largest = written.largest.max(rows.len());
    let window = window_of(trend, len, start, rows);
    let scored = evaluate(&window, &plan.weights, &plan.model, notes);
    let (replaced, inserted) = save(sql, trend, len, start, &scored)
        .await
        .with_context(|| format!("writing the {} window of {trend} at {}", len.label(), time_of(start)))?;
    written.windows += 1;
    written.rows += inserted;
    written.replaced += replaced;
    if let Some(sink) = sink {
        sink.window(&scored)?;
    }
    Ok(())
}

/// Rows per INSERT: 24 values each, under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 1000;

/// Replaces the rows of one (trend, window length, window start) in one transaction;
/// returns the rows deleted and inserted, as the database counted them.
async fn save(sql: &Sql, trend: &str, len: WindowLen, start: i64, rows: &[Row]) -> Result<(u64, u64), sqlx::Error> {
    const COLUMNS: &str = "INSERT INTO influencer_scores (author, trend_key, window_len, window_start, score, \
        posts, reposts, likes, followers, cascade_depth, source, rank, percentile, reposts_made, replies, \
        quotes, h_index, cascade_size, structural_virality, pagerank, model, computed_at) ";
    const DELETE: &str = "DELETE FROM influencer_scores WHERE trend_key = $1 AND window_len = $2 AND window_start = $3";
    let now = Utc::now();
    macro_rules! replace {
        ($db:ty, $pool:expr, $start:expr, $now:expr) => {{
            let mut tx = $pool.begin().await?;
            let deleted = sqlx::query(DELETE)
                .bind(trend)
                .bind(len.label())
                .bind($start.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let mut inserted = 0;
            for chunk in rows.chunks(CHUNK) {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(COLUMNS);
                qb.push_values(chunk, |mut b, r| {
                    let c = &r.components;
                    b.push_bind(r.db_author)
                        .push_bind(trend)
                        .push_bind(len.label())
                        .push_bind($start.clone())
                        .push_bind(r.score)
                        .push_bind(c.posts)
                        .push_bind(c.reposts)
                        .push_bind(c.likes)
                        .push_bind(c.followers)
                        .push_bind(c.cascade_depth)
                        .push_bind(r.source.as_str())
                        .push_bind(r.rank as i64)
                        .push_bind(i64::from(r.percentile))
                        .push_bind(c.reposts_made)
                        .push_bind(c.replies)
                        .push_bind(c.quotes)
                        .push_bind(c.h_index)
                        .push_bind(c.cascade_size)
                        .push_bind(c.structural_virality)
                        .push_bind(c.pagerank)
                        .push_bind(r.model.as_ref())
                        .push_bind($now.clone());
                });
                // Each window has its own row count, so its own statement text: caching
                // them (sqlx's default) kept hundreds of large prepared statements alive.
                inserted += qb.build().persistent(false).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok((deleted, inserted))
        }};
    }
    match sql {
        Sql::Sqlite(pool) => replace!(Sqlite, pool, sqlite_time(time_of(start)), sqlite_time(now)),
        Sql::Postgres(pool) => replace!(Postgres, pool, time_of(start), now),
    }
}
