//! The PostgreSQL fast path: each batch is streamed with `COPY` into temporary staging
//! tables, then merged into the schema with a few set-based upserts.
//!
//! Row-by-row or multi-row `INSERT`s spend their time parsing statements and binding
//! parameters; `COPY` streams rows at close to the server's ingest speed, and the
//! merge runs as one plan per table. The merge reproduces exactly the rules of the
//! generic path in `load.rs` (the latest observation wins, ties to the later record,
//! names only replaced by non-null names), so SQLite and PostgreSQL hold the same rows.

use std::fmt::Write as _;

use sqlx::postgres::PgPool;
use sqlx::{Connection, PgConnection};

use crate::load::{Batch, Loaded, author_updates, format_time, latest_posts, post_updates};

/// Appends one field in COPY's text format: `\N` for null; backslash, tab, newline
/// and carriage return escaped.
fn field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// Writes a row of fields separated by tabs.
fn row(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, *f);
    }
    out.push('\n');
}

fn num<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

async fn copy(conn: &mut PgConnection, statement: &str, data: String) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(data.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Loads a batch in one transaction through staging tables.
pub async fn load(pool: &PgPool, batch: &Batch) -> Result<Loaded, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let mut loaded = Loaded::default();

    if !batch.trends.is_empty() {
        sqlx::query(
            "CREATE TEMP TABLE stage_trends (seq bigint, source text, place_code text, place_name text, \
             name text, key text, observed_at timestamptz, volume bigint, rank bigint, run_id text) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut data = String::with_capacity(batch.trends.len() * 120);
        for (seq, t) in batch.trends.iter().enumerate() {
            let at = format_time(&t.observed_at);
            row(
                &mut data,
                &[
                    Some(&seq.to_string()),
                    Some(&t.source),
                    Some(&t.place.id),
                    t.place.name.as_deref(),
                    Some(&t.name),
                    Some(&t.key),
                    Some(&at),
                    num(t.volume).as_deref(),
                    num(t.rank).as_deref(),
                    t.run_id.as_deref(),
                ],
            );
        }
        copy(&mut tx, "COPY stage_trends FROM STDIN", data).await?;
        sqlx::query("ANALYZE stage_trends").execute(&mut *tx).await?;
        loaded.places = sqlx::query(
            "INSERT INTO places (code, name) \
             SELECT place_code, (array_agg(place_name ORDER BY seq DESC) FILTER (WHERE place_name IS NOT NULL))[1] \
               FROM stage_trends GROUP BY place_code \
             ON CONFLICT (code) DO UPDATE SET name = COALESCE(excluded.name, places.name)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        loaded.trends = sqlx::query(
            "INSERT INTO trends (source, key, name, first_seen, last_seen) \
             SELECT source, key, (array_agg(name ORDER BY observed_at DESC, seq DESC))[1], min(observed_at), max(observed_at) \
               FROM stage_trends GROUP BY source, key \
             ON CONFLICT (source, key) DO UPDATE SET \
             name = CASE WHEN excluded.last_seen >= trends.last_seen THEN excluded.name ELSE trends.name END, \
             first_seen = LEAST(excluded.first_seen, trends.first_seen), \
             last_seen = GREATEST(excluded.last_seen, trends.last_seen)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        loaded.observations = sqlx::query(
            "INSERT INTO trend_observations (trend_id, place_id, observed_at, volume, rank, run_id) \
             SELECT DISTINCT ON (t.id, p.id, s.observed_at) t.id, p.id, s.observed_at, s.volume, s.rank, s.run_id \
               FROM stage_trends s \
               JOIN trends t ON t.source = s.source AND t.key = s.key \
               JOIN places p ON p.code = s.place_code \
              ORDER BY t.id, p.id, s.observed_at, s.seq DESC \
             ON CONFLICT (trend_id, place_id, observed_at) DO UPDATE SET \
             volume = excluded.volume, rank = excluded.rank, run_id = excluded.run_id",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }

    if !batch.posts.is_empty() {
        // The latest observation of each post and author, and the distinct trend
        // links, picked here (the same picking as the generic path's) so that the
        // server merges sets of distinct keys in key order, without sorting them.
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

        sqlx::query(
            "CREATE TEMP TABLE stage_authors (source text, author_id text, handle text, followers bigint, \
             at timestamptz) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut data = String::with_capacity(authors.len() * 60);
        for ((source, id), (p, a)) in &authors {
            let at = format_time(&p.at);
            row(&mut data, &[Some(source), Some(id), a.handle.as_deref(), num(a.followers).as_deref(), Some(&at)]);
        }
        copy(&mut tx, "COPY stage_authors FROM STDIN", data).await?;

        sqlx::query(
            "CREATE TEMP TABLE stage_posts (source text, post_id text, author_id text, \
             url text, text text, lang text, created_at timestamptz, at timestamptz, \
             reposts bigint, likes bigint, replies bigint, quotes bigint, parent_id text, quote_of text, \
             model text, compound double precision, pos double precision, neu double precision, neg double precision, \
             label text) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut data = String::with_capacity(posts.len() * 300);
        let mut floats = String::new();
        for ((source, id), p) in &posts {
            let post = &p.post;
            let s = post.sentiment.as_ref();
            let created = post.created_at.as_ref().map(format_time);
            let at = format_time(&p.at);
            let m = &post.metrics;
            // f64 through Display round-trips exactly, as PostgreSQL's float input reads it.
            let mut f = |v: Option<f64>| -> Option<String> {
                v.map(|v| {
                    floats.clear();
                    let _ = write!(floats, "{v:?}");
                    floats.clone()
                })
            };
            let (compound, pos, neu, neg) =
                (f(s.map(|s| s.compound)), f(s.map(|s| s.pos)), f(s.map(|s| s.neu)), f(s.map(|s| s.neg)));
            row(
                &mut data,
                &[
                    Some(source),
                    Some(id),
                    post.author.as_ref().map(|a| a.id.as_str()),
                    post.url.as_deref(),
                    post.text.as_deref(),
                    post.lang.as_deref(),
                    created.as_deref(),
                    Some(&at),
                    num(m.reposts).as_deref(),
                    num(m.likes).as_deref(),
                    num(m.replies).as_deref(),
                    num(m.quotes).as_deref(),
                    post.parent_id.as_deref(),
                    post.quote_of.as_deref(),
                    s.map(|s| s.model.as_str()),
                    compound.as_deref(),
                    pos.as_deref(),
                    neu.as_deref(),
                    neg.as_deref(),
                    s.map(|s| s.label.as_str()),
                ],
            );
        }
        copy(&mut tx, "COPY stage_posts FROM STDIN", data).await?;

        sqlx::query("CREATE TEMP TABLE stage_links (source text, post_id text, trend text) ON COMMIT DROP")
            .execute(&mut *tx)
            .await?;
        let mut data = String::with_capacity(links.len() * 40);
        for (source, id, trend) in &links {
            row(&mut data, &[Some(source), Some(id), Some(trend)]);
        }
        copy(&mut tx, "COPY stage_links FROM STDIN", data).await?;

        // One statement, so that each step joins the rows the previous one returned
        // (a hash join of two batch-sized sets) instead of looking every post and
        // author up again in the growing tables. Foreign-key checks are queued to the
        // end of the statement, when the posts and authors they point at are in.
        sqlx::query(&format!(
            "WITH a AS ( \
               INSERT INTO authors (source, author_id, handle, followers, updated_at) \
               SELECT source, author_id, handle, followers, at FROM stage_authors \
               ON CONFLICT (source, author_id) DO UPDATE SET {} \
               RETURNING id, source, author_id), \
             p AS ( \
               INSERT INTO posts (source, post_id, author, url, text, lang, created_at, observed_at, \
               reposts, likes, replies, quotes, parent_id, quote_of) \
               SELECT s.source, s.post_id, a.id, s.url, s.text, s.lang, s.created_at, s.at, \
                      s.reposts, s.likes, s.replies, s.quotes, s.parent_id, s.quote_of \
                 FROM stage_posts s LEFT JOIN a ON a.source = s.source AND a.author_id = s.author_id \
               ON CONFLICT (source, post_id) DO UPDATE SET {}, \
               observed_at = GREATEST(excluded.observed_at, posts.observed_at) \
               RETURNING id, source, post_id), \
             links AS ( \
               INSERT INTO post_trends (post, trend_key) \
               SELECT p.id, l.trend FROM stage_links l JOIN p ON p.source = l.source AND p.post_id = l.post_id \
               ON CONFLICT (post, trend_key) DO NOTHING), \
             scores AS ( \
               INSERT INTO post_sentiment (post, model, compound, pos, neu, neg, label, scored_at) \
               SELECT p.id, s.model, s.compound, s.pos, s.neu, s.neg, s.label, s.at \
                 FROM stage_posts s JOIN p ON p.source = s.source AND p.post_id = s.post_id \
                WHERE s.model IS NOT NULL \
               ON CONFLICT (post) DO UPDATE SET model = excluded.model, compound = excluded.compound, \
               pos = excluded.pos, neu = excluded.neu, neg = excluded.neg, label = excluded.label, \
               scored_at = excluded.scored_at) \
             SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM p)",
            author_updates(|col| format!("excluded.{col}")),
            post_updates()
        ))
        .execute(&mut *tx)
        .await?;
        loaded.authors = authors.len() as u64;
        loaded.posts = posts.len() as u64;
    }

    if let Some((stream, at)) = &batch.watermark {
        sqlx::query(crate::load::WATERMARK_SQL)
            .bind(stream)
            .bind(*at)
            .bind(chrono::Utc::now())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes() {
        let mut out = String::new();
        row(&mut out, &[Some("a\tb"), None, Some("line\nbreak\\x\r")]);
        assert_eq!(out, "a\\tb\t\\N\tline\\nbreak\\\\x\\r\n");
    }
}
