//! The PostgreSQL fast path: each batch is streamed with `COPY` into temporary staging
//! tables, then merged into the schema with a few set-based upserts.
//!
//! The staging tables are made once per connection and emptied at every commit
//! (`ON COMMIT DELETE ROWS`): creating and dropping them per batch wrote and deleted
//! some sixty catalog rows each time. Values go in COPY's binary format, so the
//! server parses no times or numbers. A large batch is split in two halves that
//! share no row, merged side by side on two connections (see `load_split`): the
//! merge is the server's work, and one connection uses one core of it.
//!
//! Row-by-row or multi-row `INSERT`s spend their time parsing statements and binding
//! parameters; `COPY` streams rows at close to the server's ingest speed, and the
//! merge runs as one plan per table. The merge reproduces exactly the rules of the
//! generic path in `load.rs`, with the same `SET` lists (`statements.rs`): the latest
//! observation wins, ties to the later record, names are only replaced by non-null
//! names. So SQLite and PostgreSQL hold the same rows.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{Connection, PgConnection, Postgres};
use trendpipe_core::record::{Author, Trend};

use trendpipe_core::sql::POST_SENTIMENT_COLUMNS;

use crate::batch::{Batch, Keyed, Loaded, TimedPost, Written, latest_posts, mark};
use crate::statements::{
    AUTHOR_COLUMNS, POST_COLUMNS, Upsert, WATERMARK_SQL, author_updates, columns, on_change, post_updates,
    score_updates,
};

/// Rows in COPY's binary format: no value is printed by the client and parsed
/// again by the server (times, counts and scores were most of the staging cost).
struct Rows {
    buf: Vec<u8>,
}

/// PostgreSQL's time origin, 2000-01-01T00:00:00Z, in seconds of the Unix epoch.
const PG_EPOCH: i64 = 946_684_800;

impl Rows {
    fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 21);
        // Signature, flags (no OIDs), header extension length.
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0u32.to_be_bytes());
        buf.extend_from_slice(&0u32.to_be_bytes());
        Self { buf }
    }

    /// Starts a row of `fields` fields.
    fn row(&mut self, fields: u16) -> &mut Self {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        // Values come from records of at most 64 MiB (an NDJSON line) or 16 MiB (a
        // MongoDB document), far under the format's 2 GiB field length.
        let len = i32::try_from(v.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(v);
        self
    }

    fn text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.bytes(v.as_bytes()),
            None => self.null(),
        }
    }

    fn int8(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.bytes(&v.to_be_bytes()),
            None => self.null(),
        }
    }

    fn float8(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.bytes(&v.to_bits().to_be_bytes()),
            None => self.null(),
        }
    }

    /// A `timestamptz`: microseconds since 2000-01-01, cut to the microsecond the way
    /// sqlx binds times (so the generic path stores the same value).
    fn time(&mut self, v: Option<&DateTime<Utc>>) -> &mut Self {
        let micros = v.and_then(|t| {
            let since = *t - DateTime::<Utc>::from_timestamp(PG_EPOCH, 0)?;
            since.num_microseconds()
        });
        self.int8(micros)
    }

    /// The data, with the end-of-data marker.
    fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

async fn copy(conn: &mut PgConnection, table: &str, rows: Rows) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)")).await?;
    copy.send(rows.finish()).await?;
    copy.finish().await?;
    Ok(())
}

/// The staging tables, made once per connection.
const STAGING: &str = "\
    CREATE TEMP TABLE stage_trends (seq bigint, source text, place_code text, \
      place_name text, name text, key text, observed_at timestamptz, volume bigint, rank bigint, \
      run_id text) ON COMMIT DELETE ROWS; \
    CREATE TEMP TABLE stage_authors (source text, author_id text, handle text, \
      followers bigint, at timestamptz) ON COMMIT DELETE ROWS; \
    CREATE TEMP TABLE stage_posts (source text, post_id text, \
      author_id text, url text, text text, lang text, created_at timestamptz, at timestamptz, \
      reposts bigint, likes bigint, replies bigint, quotes bigint, parent_id text, quote_of text, \
      repost_of text, conversation_id text, author_followers bigint, model text, compound double precision, pos double precision, neu double precision, neg double precision, \
      label text) ON COMMIT DELETE ROWS; \
    CREATE TEMP TABLE stage_links (source text, post_id text, \
      trend text) ON COMMIT DELETE ROWS";

/// A batch is split in two and merged on two connections at once from this many
/// posts on: the merge is the server's work, one core per connection.
pub const SPLIT_FROM: usize = 1000;

/// The connections of the pool kept for the loads of a run, with their staging tables.
#[derive(Default)]
pub struct Pg {
    conns: [Option<PoolConnection<Postgres>>; 2],
}

impl Pg {
    /// Loads a batch through the staging tables: all of it or, on error, none of it
    /// (see [`load_split`] for a split batch). After an error the connections are given
    /// back, so that a broken one is not used again.
    pub async fn load(&mut self, pool: &PgPool, batch: &Batch) -> Result<Loaded, sqlx::Error> {
        let picked = Picked::of(batch);
        let result = if picked.posts.len() >= SPLIT_FROM {
            let [first, second] = &mut self.conns;
            let (first, second) = (connection(pool, first).await?, connection(pool, second).await?);
            load_split(first, second, batch, picked).await
        } else {
            let conn = connection(pool, &mut self.conns[0]).await?;
            load(conn, batch, &picked).await
        };
        if result.is_err() {
            self.conns = [None, None];
        }
        result
    }
}

/// The connection of `slot`, taken from the pool (with its staging tables) if need be.
async fn connection<'a>(
    pool: &PgPool,
    slot: &'a mut Option<PoolConnection<Postgres>>,
) -> Result<&'a mut PoolConnection<Postgres>, sqlx::Error> {
    if let Some(conn) = slot {
        return Ok(conn);
    }
    let mut conn = pool.acquire().await?;
    // A connection the pool used before may hold them already.
    let staged: bool =
        sqlx::query_scalar("SELECT to_regclass('pg_temp.stage_links') IS NOT NULL").fetch_one(&mut *conn).await?;
    if !staged {
        sqlx::raw_sql(STAGING).execute(&mut *conn).await?;
    }
    Ok(slot.insert(conn))
}

/// The posts of a batch as they are merged: the latest observation of each post and
/// author, and the distinct trend links, picked here (the same picking as the generic
/// path's) so that the server merges sets of distinct keys.
struct Picked<'a> {
    posts: Keyed<'a, &'a TimedPost>,
    authors: Keyed<'a, (&'a TimedPost, &'a Author)>,
    links: Vec<(&'a str, &'a str, &'a str)>,
}

impl<'a> Picked<'a> {
    fn of(batch: &'a Batch) -> Self {
        let (posts, authors) = latest_posts(&batch.posts);
        let mut links: Vec<(&str, &str, &str)> = batch
            .posts
            .iter()
            .filter_map(|p| {
                let trend = p.post.trend.as_deref().filter(|t| !t.is_empty())?;
                Some((p.post.source.as_str(), p.post.id.as_str(), trend))
            })
            .collect();
        links.sort_unstable();
        links.dedup();
        Self { posts, authors, links }
    }

    /// Splits the posts in two sets that share no row: an author and every post whose
    /// latest observation names it go to the same half (by a hash of the author), and a
    /// post's links with it. Two transactions merging the halves at once then never
    /// wait for each other's row locks, and cannot deadlock.
    fn split(self) -> [Picked<'a>; 2] {
        fn half(source: &str, id: &str) -> usize {
            let mut h = DefaultHasher::new();
            (source, id).hash(&mut h);
            (h.finish() & 1) as usize
        }
        let mut out = [Picked::empty(), Picked::empty()];
        let mut post_half: HashMap<(&str, &str), usize> = HashMap::with_capacity(self.posts.len());
        for (key, p) in self.posts {
            let h = match &p.post.author {
                Some(a) => half(&p.post.source, &a.id),
                None => half(key.0, key.1),
            };
            post_half.insert(key, h);
            out[h].posts.push((key, p));
        }
        for (key, a) in self.authors {
            out[half(key.0, key.1)].authors.push((key, a));
        }
        for link in self.links {
            let h = post_half.get(&(link.0, link.1)).copied().unwrap_or(0);
            out[h].links.push(link);
        }
        out
    }

    fn empty() -> Self {
        Self { posts: Vec::new(), authors: Vec::new(), links: Vec::new() }
    }
}

/// Loads a batch in one transaction.
async fn load(conn: &mut PgConnection, batch: &Batch, picked: &Picked<'_>) -> Result<Loaded, sqlx::Error> {
    let mut tx = conn.begin().await?;
    hash_joins(&mut tx).await?;
    let mut loaded = merge_trends(&mut tx, &batch.trends).await?;
    loaded.add(merge_posts(&mut tx, picked).await?);
    watermark(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(loaded)
}

/// Loads a large batch as two halves that share no row (see [`Picked::split`]), each
/// in a transaction of its own on its own connection, merged at the same time. The
/// first is committed once both merges have succeeded, then the second with the
/// watermark: a run stopped between the two commits has the first half's rows
/// without the watermark, so the rerun loads the whole batch again, which, every
/// statement being an upsert, ends with the same rows. An error in either half rolls
/// both back.
async fn load_split(
    first: &mut PgConnection,
    second: &mut PgConnection,
    batch: &Batch,
    picked: Picked<'_>,
) -> Result<Loaded, sqlx::Error> {
    let [one, two] = picked.split();
    let (mut tx1, mut tx2) = (first.begin().await?, second.begin().await?);
    let (r1, r2) = tokio::join!(
        async {
            hash_joins(&mut tx1).await?;
            let mut loaded = merge_trends(&mut tx1, &batch.trends).await?;
            loaded.add(merge_posts(&mut tx1, &one).await?);
            Ok::<_, sqlx::Error>(loaded)
        },
        async {
            hash_joins(&mut tx2).await?;
            merge_posts(&mut tx2, &two).await
        }
    );
    let (mut loaded, other) = (r1?, r2?);
    loaded.add(other);
    tx1.commit().await?;
    watermark(&mut tx2, batch).await?;
    tx2.commit().await?;
    Ok(loaded)
}

/// Records the batch's watermark, if it has one, in the transaction.
async fn watermark(conn: &mut PgConnection, batch: &Batch) -> Result<(), sqlx::Error> {
    if let Some((stream, at)) = &batch.watermark {
        sqlx::query(WATERMARK_SQL).bind(stream).bind(*at).bind(chrono::Utc::now()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Set at the start of every load transaction. The staging tables have no statistics,
/// and with the planner's default guesses it sorts both sides of every join for a
/// merge join; a hash join of the batch-sized sets costs a fraction of that.
async fn hash_joins(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("SET LOCAL enable_mergejoin = off").execute(&mut *conn).await?;
    Ok(())
}

/// Merges trend observations (with their places and trends).
async fn merge_trends(tx: &mut PgConnection, records: &[Trend]) -> Result<Loaded, sqlx::Error> {
    let mut loaded = Loaded::default();
    if records.is_empty() {
        return Ok(loaded);
    }
    let mut rows = Rows::with_capacity(records.len() * 120);
    for (seq, t) in records.iter().enumerate() {
        rows.row(10)
            .int8(i64::try_from(seq).ok())
            .text(Some(&t.source))
            .text(Some(&t.place.id))
            .text(t.place.name.as_deref())
            .text(Some(&t.name))
            .text(Some(&t.key))
            .time(Some(&t.observed_at))
            .int8(t.volume)
            .int8(t.rank.map(i64::from))
            .text(t.run_id.as_deref());
    }
    copy(tx, "stage_trends", rows).await?;
    sqlx::query("ANALYZE stage_trends").execute(&mut *tx).await?;
    let places = Upsert::Places;
    loaded.places = upsert_counts(
        tx,
        &format!(
            "INSERT INTO places (code, name) \
             SELECT place_code, (array_agg(place_name ORDER BY seq DESC) FILTER (WHERE place_name IS NOT NULL))[1] \
               FROM stage_trends GROUP BY place_code \
             ON CONFLICT (code) {}",
            on_change(places.table(), &places.updates())
        ),
        "SELECT count(DISTINCT place_code) FROM stage_trends",
    )
    .await?;
    let trends = Upsert::Trends;
    loaded.trends = upsert_counts(
        tx,
        &format!(
            "INSERT INTO trends (source, key, name, first_seen, last_seen) \
             SELECT source, key, (array_agg(name ORDER BY observed_at DESC, seq DESC))[1], min(observed_at), max(observed_at) \
               FROM stage_trends GROUP BY source, key \
             ON CONFLICT (source, key) {}",
            on_change(trends.table(), &trends.updates())
        ),
        "SELECT count(*) FROM (SELECT DISTINCT source, key FROM stage_trends) d",
    )
    .await?;
    // The rows of the batch's places and trends, rewritten or not (the run's
    // distinct counts), read back from the tables.
    let (places_touched, trends_touched): (Option<Vec<i64>>, Option<Vec<i64>>) = sqlx::query_as(
        "SELECT (SELECT array_agg(p.id) FROM places p WHERE p.code IN (SELECT place_code FROM stage_trends)), \
                (SELECT array_agg(t.id) FROM trends t \
                  WHERE (t.source, t.key) IN (SELECT source, key FROM stage_trends))",
    )
    .fetch_one(&mut *tx)
    .await?;
    mark(&mut loaded.touched.places, places_touched.iter().flatten());
    mark(&mut loaded.touched.trends, trends_touched.iter().flatten());
    // Trends and places are one row per key whether or not this batch rewrote them,
    // so the observations join the tables themselves.
    let observations = Upsert::Observations;
    loaded.observations = upsert_counts(
        tx,
        &format!(
            "INSERT INTO trend_observations (trend_id, place_id, observed_at, volume, rank, run_id) \
             SELECT DISTINCT ON (t.id, p.id, s.observed_at) t.id, p.id, s.observed_at, s.volume, s.rank, s.run_id \
               FROM stage_trends s \
               JOIN trends t ON t.source = s.source AND t.key = s.key \
               JOIN places p ON p.code = s.place_code \
              ORDER BY t.id, p.id, s.observed_at, s.seq DESC \
             ON CONFLICT (trend_id, place_id, observed_at) {}",
            on_change(observations.table(), &observations.updates())
        ),
        "SELECT count(*) FROM (SELECT DISTINCT source, key, place_code, observed_at FROM stage_trends) d",
    )
    .await?;
    crate::extras::write::<Postgres>(tx, records).await?;
    Ok(loaded)
}

/// Runs an upsert and counts what it did from PostgreSQL's answer: the rows it
/// returns are those it inserted (`xmax = 0`: no earlier version) or rewrote, and
/// an unchanged row (see `on_change`) is not returned; `offered` counts the distinct
/// rows the statement offered.
async fn upsert_counts(tx: &mut PgConnection, upsert: &str, offered: &str) -> Result<Written, sqlx::Error> {
    let (new, updated, offered): (i64, i64, i64) = sqlx::query_as(&format!(
        "WITH r AS ({upsert} RETURNING (xmax = 0) AS inserted) \
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), ({offered}) FROM r"
    ))
    .fetch_one(&mut *tx)
    .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Written::of(n(offered), n(new), n(updated)))
}

/// Merges posts, their authors, trend links and scores.
async fn merge_posts(tx: &mut PgConnection, picked: &Picked<'_>) -> Result<Loaded, sqlx::Error> {
    let Picked { posts, authors, links } = picked;
    if posts.is_empty() && authors.is_empty() {
        return Ok(Loaded::default());
    }
    let mut rows = Rows::with_capacity(authors.len() * 60);
    for ((source, id), (p, a)) in authors {
        rows.row(5).text(Some(source)).text(Some(id)).text(a.handle.as_deref()).int8(a.followers).time(Some(&p.at));
    }
    copy(tx, "stage_authors", rows).await?;

    let mut rows = Rows::with_capacity(posts.len() * 300);
    for ((source, id), p) in posts {
        let post = &p.post;
        let s = post.sentiment.as_ref();
        let m = &post.metrics;
        rows.row(23)
            .text(Some(source))
            .text(Some(id))
            .text(post.author.as_ref().map(|a| a.id.as_str()))
            .text(post.url.as_deref())
            .text(post.text.as_deref())
            .text(post.lang.as_deref())
            .time(post.created_at.as_ref())
            .time(Some(&p.at))
            .int8(m.reposts)
            .int8(m.likes)
            .int8(m.replies)
            .int8(m.quotes)
            .text(post.parent_id.as_deref())
            .text(post.quote_of.as_deref())
            .text(post.repost_of.as_deref())
            .text(post.conversation_id.as_deref())
            .int8(post.author.as_ref().and_then(|a| a.followers))
            .text(s.map(|s| s.model.as_str()))
            .float8(s.map(|s| s.compound))
            .float8(s.map(|s| s.pos))
            .float8(s.map(|s| s.neu))
            .float8(s.map(|s| s.neg))
            .text(s.map(|s| s.label.as_str()));
    }
    copy(tx, "stage_posts", rows).await?;

    let mut rows = Rows::with_capacity(links.len() * 40);
    for (source, id, trend) in links {
        rows.row(3).text(Some(source)).text(Some(id)).text(Some(trend));
    }
    copy(tx, "stage_links", rows).await?;

    // One statement, so that each step joins the rows the previous one returned
    // (a hash join of two batch-sized sets) instead of looking every post and
    // author up again in the growing tables. Foreign-key checks are queued to the
    // end of the statement, when the posts and authors they point at are in.
    // The staging columns that hold each post column (the author by its row id).
    let post_values = columns(POST_COLUMNS)
        .map(|col| match col {
            "author" => stored_or_returned("a", "authors", "author_id", "s"),
            "observed_at" => "s.at".to_owned(),
            col => format!("s.{col}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    #[allow(clippy::type_complexity)]
    let (authors_new, authors_updated, posts_new, posts_updated, authors_touched, posts_touched): (
        i64,
        i64,
        i64,
        i64,
        Option<Vec<i64>>,
        Option<Vec<i64>>,
    ) = sqlx::query_as(&format!(
        "WITH a AS ( \
               INSERT INTO authors ({AUTHOR_COLUMNS}) \
               SELECT source, author_id, handle, followers, at FROM stage_authors \
               ON CONFLICT (source, author_id) {author_change} \
               RETURNING id, source, author_id, (xmax = 0) AS inserted), \
             p AS ( \
               INSERT INTO posts ({POST_COLUMNS}) \
               SELECT {post_values} \
                 FROM stage_posts s LEFT JOIN a ON a.source = s.source AND a.author_id = s.author_id \
               ON CONFLICT (source, post_id) {post_change} \
               RETURNING id, source, post_id, (xmax = 0) AS inserted), \
             links AS ( \
               INSERT INTO post_trends (post, trend_key) \
               SELECT {post_id_of_l}, l.trend FROM stage_links l LEFT JOIN p ON p.source = l.source AND p.post_id = l.post_id \
               ON CONFLICT (post, trend_key) DO NOTHING), \
             scores AS ( \
               INSERT INTO post_sentiment ({POST_SENTIMENT_COLUMNS}) \
               SELECT {post_id_of_s}, s.model, s.compound, s.pos, s.neu, s.neg, s.label, s.at \
                 FROM stage_posts s LEFT JOIN p ON p.source = s.source AND p.post_id = s.post_id \
                WHERE s.model IS NOT NULL \
               ON CONFLICT (post) {score_change}) \
             SELECT (SELECT count(*) FILTER (WHERE inserted) FROM a), (SELECT count(*) FILTER (WHERE NOT inserted) FROM a), \
                    (SELECT count(*) FILTER (WHERE inserted) FROM p), (SELECT count(*) FILTER (WHERE NOT inserted) FROM p), \
                    (SELECT array_agg({author_id_of_s}) FROM stage_authors s \
                       LEFT JOIN a ON a.source = s.source AND a.author_id = s.author_id), \
                    (SELECT array_agg({post_id_of_s}) FROM stage_posts s \
                       LEFT JOIN p ON p.source = s.source AND p.post_id = s.post_id)",
        author_id_of_s = stored_or_returned("a", "authors", "author_id", "s"),
        author_change = on_change("authors", &author_updates(|col| format!("excluded.{col}"))),
        post_change = on_change("posts", &post_updates()),
        score_change = on_change("post_sentiment", &score_updates()),
        post_id_of_l = stored_or_returned("p", "posts", "post_id", "l"),
        post_id_of_s = stored_or_returned("p", "posts", "post_id", "s"),
    ))
    .fetch_one(&mut *tx)
    .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let mut loaded = Loaded {
        authors: Written::of(authors.len() as u64, n(authors_new), n(authors_updated)),
        posts: Written::of(posts.len() as u64, n(posts_new), n(posts_updated)),
        ..Loaded::default()
    };
    mark(&mut loaded.touched.authors, authors_touched.iter().flatten());
    mark(&mut loaded.touched.posts, posts_touched.iter().flatten());
    Ok(loaded)
}

/// The row id of a staged row's author or post: returned by the upsert (CTE `cte`)
/// when it inserted or rewrote the row, else the stored row's, looked up by its key
/// (`table.source`, `table.id_col`) only then (`COALESCE` evaluates no further than
/// its first non-null argument). The statement's reads of `table` see it as it was
/// before the statement, which holds every row the upsert left unchanged.
fn stored_or_returned(cte: &str, table: &str, id_col: &str, staged: &str) -> String {
    format!(
        "COALESCE({cte}.id, (SELECT x.id FROM {table} x WHERE x.source = {staged}.source AND x.{id_col} = {staged}.{id_col}))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use trendpipe_core::record::Post;

    fn timed(id: &str, author: Option<&str>, trend: &str, hour: u32) -> TimedPost {
        let mut post: Post = serde_json::from_value(serde_json::json!({
            "source": "x", "id": id, "trend": trend,
            "observed_at": format!("2026-11-22T{hour:02}:00:00Z"),
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        post.author = author
            .map(|a| serde_json::from_value(serde_json::json!({"id": a})).unwrap_or_else(|e| unreachable!("{e}")));
        let at = post.observed_at.unwrap_or_default();
        TimedPost { post, at }
    }

    #[test]
    fn a_split_puts_each_author_with_its_posts_and_each_post_with_its_links() {
        let mut posts = Vec::new();
        for i in 0..400 {
            let author = format!("a{}", i % 37);
            // Post p3 is seen again later with another author: its latest one decides.
            posts.push(timed(
                &format!("p{}", i % 300),
                (i % 13 != 0).then_some(author.as_str()),
                &format!("t{}", i % 4),
                (i / 300) as u32,
            ));
        }
        let batch = Batch { posts, ..Batch::default() };
        let picked = Picked::of(&batch);
        let (n_posts, n_authors, n_links) = (picked.posts.len(), picked.authors.len(), picked.links.len());
        let halves = picked.split();
        assert!(halves.iter().all(|h| !h.posts.is_empty() && !h.authors.is_empty()));
        assert_eq!(halves[0].posts.len() + halves[1].posts.len(), n_posts);
        assert_eq!(halves[0].authors.len() + halves[1].authors.len(), n_authors);
        assert_eq!(halves[0].links.len() + halves[1].links.len(), n_links);
        for (i, half) in halves.iter().enumerate() {
            let other = &halves[1 - i];
            for (key, p) in &half.posts {
                assert!(!other.posts.iter().any(|(k, _)| k == key), "post {key:?} in both halves");
                if let Some(a) = &p.post.author {
                    assert!(half.authors.iter().any(|((_, id), _)| *id == a.id), "author of {key:?} not with it");
                }
            }
            for (source, id, _) in &half.links {
                assert!(half.posts.iter().any(|((s, i), _)| s == source && i == id), "link of {id} not with its post");
            }
        }
    }

    #[test]
    fn binary_rows_frame_values_as_postgres_reads_them() {
        let mut rows = Rows::with_capacity(0);
        let t = DateTime::<Utc>::from_timestamp(PG_EPOCH + 1, 500).unwrap_or_default();
        rows.row(4).text(Some("é")).null().int8(Some(-2)).time(Some(&t));
        let data = rows.finish();
        let mut want = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend_from_slice(&[0, 4]);
        want.extend_from_slice(&[0, 0, 0, 2, 0xc3, 0xa9]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(&(-2i64).to_be_bytes());
        want.extend_from_slice(&[0, 0, 0, 8]);
        // One second and 500 ns after PostgreSQL's epoch: 1,000,000 µs (the 500 ns cut).
        want.extend_from_slice(&1_000_000i64.to_be_bytes());
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(data, want);
    }
}
