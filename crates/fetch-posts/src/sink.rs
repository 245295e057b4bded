//! Where the post records go.
//!
//! On stdout, one record per (post, trend) per run: a post found under two trends is
//! written twice, each with its `trend`, and etl-to-sql links it to both through
//! `post_trends`; a post met again under the same trend in the same run (two Mastodon
//! instances, an original referenced by many reposts) is written once.
//!
//! In MongoDB's `posts`, one document per (source, id), upserted: a later fetch
//! updates its counts and `observed_at` and never duplicates it. `trend` holds the
//! latest trend it was collected for and `trends` every one it was collected for;
//! `ingested_at` is stamped on each write so that incremental readers
//! (`etl-to-sql --from mongo`) pick the updated counts up.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use anyhow::Context;
use chrono::Utc;
use trendpipe_core::mongo::{self, Mongo, bson_types::Bson, bson_types::doc};
use trendpipe_core::record::{Post, Record};

/// Stores one post: replaces the stored document of its (source, id), keeping the
/// trends it was collected for before, or inserts it. True when it was new.
///
/// A read then a whole-document replace rather than one `$set`/`$addToSet` update:
/// nx-27017 (the MongoDB-wire server of the tests) turns dates into strings when `$set`
/// rewrites them in a stored document, which would hide the post from incremental
/// readers filtering on `ingested_at`; a replace keeps them dates on every server.
/// Two runs racing on one post may each miss the other's trend in `trends`; the
/// `posts` document and its counts stay right.
async fn upsert(mongo: &Mongo, post: Post, now: chrono::DateTime<Utc>) -> anyhow::Result<bool> {
    let (source, id) = (post.source.clone(), post.id.clone());
    let trend = post.trend.clone();
    let mut document = mongo::to_document(&serde_json::to_value(Record::Post(post))?)?;
    mongo::stamp_ingested(&mut document, now);
    // `$eq` rather than the implicit form: the same match on MongoDB, and the form
    // nx-27017 matches for numeric-looking strings such as X's ids.
    let filter = doc! { "source": { "$eq": &source }, "id": { "$eq": &id } };
    let posts = mongo.collection(mongo::POSTS);
    let context = || format!("storing the post {source} {id}");
    for _ in 0..2 {
        let stored = posts.find_one(filter.clone()).await.with_context(context)?;
        let mut trends: Vec<Bson> = match stored.as_ref().and_then(|d| d.get_array("trends").ok()) {
            Some(list) => list.clone(),
            None => Vec::new(),
        };
        if let Some(t) = &trend {
            if !trends.iter().any(|b| b.as_str() == Some(t.as_str())) {
                trends.push(Bson::String(t.clone()));
            }
        }
        document.insert("trends", trends);
        match stored.and_then(|d| d.get("_id").cloned()) {
            Some(key) => {
                posts.replace_one(doc! { "_id": key }, document.clone()).await.with_context(context)?;
                return Ok(false);
            }
            None => match posts.insert_one(document.clone()).await {
                Ok(_) => return Ok(true),
                // Another writer stored it meanwhile: read it and replace it.
                Err(e) if is_duplicate(&e) => continue,
                Err(e) => return Err(anyhow::Error::new(e).context(context())),
            },
        }
    }
    anyhow::bail!("{}: inserted by another writer and then not found", context())
}

fn is_duplicate(e: &mongodb::error::Error) -> bool {
    matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) if w.code == 11000)
}

/// The destination of a run's posts.
pub enum Sink<'a, W: Write> {
    Ndjson { out: BufWriter<W>, seen: HashSet<(String, String)>, written: u64 },
    Mongo { mongo: &'a Mongo, inserted: u64, updated: u64 },
}

impl<'a, W: Write> Sink<'a, W> {
    pub fn ndjson(out: W) -> Self {
        Self::Ndjson { out: BufWriter::new(out), seen: HashSet::new(), written: 0 }
    }

    pub fn mongo(mongo: &'a Mongo) -> Self {
        Self::Mongo { mongo, inserted: 0, updated: 0 }
    }

    /// Writes one page's posts and makes them durable (flushed, or acknowledged by
    /// MongoDB) before the page's checkpoint is saved.
    pub async fn put(&mut self, posts: Vec<Post>) -> anyhow::Result<()> {
        match self {
            Sink::Ndjson { out, seen, written } => {
                for post in posts {
                    let trend = post.trend.clone().unwrap_or_default();
                    if !seen.insert((post.id.clone(), trend)) {
                        continue;
                    }
                    serde_json::to_writer(&mut *out, &Record::Post(post)).context("writing to stdout")?;
                    out.write_all(b"\n").context("writing to stdout")?;
                    *written += 1;
                }
                out.flush().context("writing to stdout")?;
            }
            Sink::Mongo { mongo, inserted, updated } => {
                let now = Utc::now();
                for post in posts {
                    if upsert(mongo, post, now).await? {
                        *inserted += 1;
                    } else {
                        *updated += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes stdout; says what MongoDB holds now.
    pub fn finish(self) -> anyhow::Result<String> {
        match self {
            Sink::Ndjson { mut out, written, .. } => {
                out.flush().context("writing to stdout")?;
                Ok(format!("{written} records written"))
            }
            Sink::Mongo { inserted, updated, .. } => {
                Ok(format!("MongoDB posts: {inserted} new, {updated} updated (counts and observed_at)"))
            }
        }
    }
}
