//! Where the post records go.
//!
//! On stdout, one record per (post, trend) per run: a post found under two trends is
//! written twice, each with its `trend`, and etl-to-sql links it to both through
//! `post_trends`; a post met again under the same trend in the same run (two Mastodon
//! instances, an original referenced by many reposts) is written once.
//!
//! In MongoDB's `posts`, one document per (source, id), upserted: a later fetch
//! updates its counts and `observed_at` and never duplicates it. `trend` holds the
//! latest trend it was collected for and `trends` every one (`$addToSet`);
//! `ingested_at` is stamped on each write so that incremental readers
//! (`etl-to-sql --from mongo`) pick the updated counts up.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use anyhow::Context;
use chrono::Utc;
use trendpipe_core::mongo::{self, Mongo, bson_types::doc};
use trendpipe_core::record::{Post, Record};

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
                    let (source, id, trend) = (post.source.clone(), post.id.clone(), post.trend.clone());
                    let mut set = mongo::to_document(&serde_json::to_value(Record::Post(post))?)?;
                    mongo::stamp_ingested(&mut set, now);
                    let mut update = doc! { "$set": set };
                    if let Some(t) = trend {
                        update.insert("$addToSet", doc! { "trends": t });
                    }
                    let result = mongo
                        .collection(mongo::POSTS)
                        .update_one(doc! { "source": &source, "id": &id }, update)
                        .upsert(true)
                        .await
                        .with_context(|| format!("upserting the post {source} {id}"))?;
                    if result.upserted_id.is_some() {
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
