//! Where the post records go.
//!
//! On stdout, one record per (post, trend) per run: a post found under two trends is
//! written twice, each with its `trend`, and etl-to-sql links it to both through
//! `post_trends`; a post met again under the trend being collected (two Mastodon
//! instances, an original referenced by many reposts) is written once (`seen.rs`:
//! only the current trend's ids are held, so memory does not grow with the run).
//!
//! In MongoDB's `posts`, one document per (source, id), upserted: a later fetch
//! updates its counts and `observed_at` and never duplicates it. `trend` holds the
//! latest trend it was collected for and `trends` every one it was collected for;
//! `ingested_at` is stamped on each write so that incremental readers
//! (`etl-to-sql --from mongo`) pick the updated counts up.

use std::io::{BufWriter, Write};

use anyhow::Context;
use chrono::Utc;
use trendpipe_core::mongo::{self, Mongo, bson_types::Bson, bson_types::doc};
use trendpipe_core::record::{Post, Record};

use crate::seen::Seen;

/// What MongoDB did with a post, from its write results.
enum Stored {
    /// Inserted: the post was not stored yet.
    New,
    /// Replaced the stored document: the number MongoDB modified (0: identical).
    Replaced(u64),
}

/// Stores one post: replaces the stored document of its (source, id), keeping the
/// trends it was collected for before, or inserts it.
///
/// A read then a whole-document replace rather than one `$set`/`$addToSet` update:
/// nx-27017 (the MongoDB-wire server of the tests) turns dates into strings when `$set`
/// rewrites them in a stored document, which would hide the post from incremental
/// readers filtering on `ingested_at`; a replace keeps them dates on every server.
/// Two runs racing on one post may each miss the other's trend in `trends`; the
/// `posts` document and its counts stay right.
async fn upsert(mongo: &Mongo, post: Post, now: chrono::DateTime<Utc>) -> anyhow::Result<Stored> {
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
                let result = posts.replace_one(doc! { "_id": key }, document.clone()).await.with_context(context)?;
                // Deleted since it was read (a `clean` run): store it again.
                if result.matched_count == 0 {
                    continue;
                }
                return Ok(Stored::Replaced(result.modified_count));
            }
            None => match posts.insert_one(document.clone()).await {
                Ok(_) => return Ok(Stored::New),
                // Another writer stored it meanwhile: read it and replace it.
                Err(e) if is_duplicate(&e) => continue,
                Err(e) => return Err(anyhow::Error::new(e).context(context())),
            },
        }
    }
    anyhow::bail!("{}: stored or deleted by another writer at each try", context())
}

fn is_duplicate(e: &mongodb::error::Error) -> bool {
    matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) if w.code == 11000)
}

/// The destination of a run's posts.
pub enum Sink<'a, W: Write> {
    Ndjson { out: BufWriter<W>, seen: Seen, written: u64 },
    Mongo { mongo: &'a Mongo, inserted: u64, updated: u64, unchanged: u64 },
}

impl<'a, W: Write> Sink<'a, W> {
    pub fn ndjson(out: W) -> Self {
        Self::Ndjson { out: BufWriter::new(out), seen: Seen::default(), written: 0 }
    }

    pub fn mongo(mongo: &'a Mongo) -> Self {
        Self::Mongo { mongo, inserted: 0, updated: 0, unchanged: 0 }
    }

    /// Writes one page's posts and makes them durable (flushed, or acknowledged by
    /// MongoDB) before the page's checkpoint is saved.
    pub async fn put(&mut self, posts: Vec<Post>) -> anyhow::Result<()> {
        match self {
            Sink::Ndjson { out, seen, written } => {
                for post in posts {
                    if !seen.first(post.trend.as_deref().unwrap_or_default(), &post.id) {
                        continue;
                    }
                    serde_json::to_writer(&mut *out, &Record::Post(post)).context("writing to stdout")?;
                    out.write_all(b"\n").context("writing to stdout")?;
                    *written += 1;
                }
                out.flush().context("writing to stdout")?;
            }
            Sink::Mongo { mongo, inserted, updated, unchanged } => {
                let now = Utc::now();
                for post in posts {
                    match upsert(mongo, post, now).await? {
                        Stored::New => *inserted += 1,
                        Stored::Replaced(0) => *unchanged += 1,
                        Stored::Replaced(n) => *updated += n,
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes stdout; says what MongoDB did (the run ledger's `mongo_posts` counts).
    pub fn finish(self) -> anyhow::Result<String> {
        match self {
            Sink::Ndjson { mut out, written, .. } => {
                out.flush().context("writing to stdout")?;
                Ok(format!("{written} records written"))
            }
            Sink::Mongo { inserted, updated, unchanged, .. } => {
                let counts = serde_json::json!({"new": inserted, "updated": updated, "unchanged": unchanged});
                trendpipe_core::ledger::counts("mongo_posts", counts);
                Ok(format!("MongoDB posts: {inserted} new, {updated} updated, {unchanged} unchanged"))
            }
        }
    }
}
