//! Checkpoints: where the paging of each (source, origin, trend, run window) stands, so
//! that a run killed halfway, or stopped by a quota or a 429 wait longer than
//! `--max-wait`, resumes on the next run where it stopped.
//!
//! The run window of a trend is the time of the trend snapshot it was read from (the
//! latest one listing it): the posts about `#BBB26` as trending at 01:30. A checkpoint
//! keeps the `--since`/`--until` bounds of the run that opened it, so a resumed paging
//! asks the same question (`--since 1h` moves with the clock; a paging cursor does
//! not). A window whose paging completed (no next page, or `--limit` reached, or posts
//! older than `--since`) is marked done and not fetched again; the next snapshot of
//! the trend is a new window and fetches the newer posts.
//!
//! A checkpoint is saved after the page's posts are written, so a page is never lost;
//! a run killed between the two writes the page again on resume, which MongoDB's upsert
//! and etl-to-sql's idempotent load absorb. Stored in MongoDB's `fetch_state` with
//! `--to mongo`, or in a JSON file (`--state FILE`, replaced atomically) on stdout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trendpipe_core::mongo::{self, Mongo, bson_types::doc};
use trendpipe_core::record::format_time;

/// The MongoDB collection of checkpoints.
pub const FETCH_STATE: &str = "fetch_state";

/// Where one paging stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The provider's position of the next page; `None` before the first page.
    pub cursor: Option<String>,
    /// The bounds of the run that opened the window, reused when resuming.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    /// Hits collected so far (toward `--limit`).
    #[serde(default)]
    pub posts: u64,
    #[serde(default)]
    pub pages: u64,
    /// The paging reached its end: nothing left to fetch in this window.
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The identity of a paging.
pub fn key(source: &str, origin: &str, trend: &str, window: DateTime<Utc>) -> String {
    format!("{source}|{origin}|{trend}|{}", format_time(&window))
}

/// Where checkpoints are kept.
pub enum Store<'a> {
    /// No checkpoints (stdout without `--state`).
    None,
    /// A JSON object of key → checkpoint, rewritten whole through a temporary file.
    File { path: PathBuf, all: BTreeMap<String, Checkpoint> },
    /// MongoDB's `fetch_state`, one document per key (`_id`).
    Mongo(&'a Mongo),
}

impl<'a> Store<'a> {
    /// Opens a state file; a missing file is an empty state.
    pub fn file(path: PathBuf) -> anyhow::Result<Self> {
        let all = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("the state file {} is not a fetch-posts state", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("reading the state file {}", path.display())),
        };
        Ok(Self::File { path, all })
    }

    /// The checkpoint of `key`, if any.
    pub async fn load(&self, key: &str) -> anyhow::Result<Option<Checkpoint>> {
        match self {
            Store::None => Ok(None),
            Store::File { all, .. } => Ok(all.get(key).cloned()),
            Store::Mongo(m) => {
                let found = m
                    .collection(FETCH_STATE)
                    .find_one(doc! { "_id": key })
                    .await
                    .with_context(|| format!("reading the checkpoint {key}"))?;
                match found {
                    None => Ok(None),
                    Some(doc) => Ok(Some(
                        serde_json::from_value(mongo::to_json(doc))
                            .with_context(|| format!("the checkpoint {key} in {FETCH_STATE} is not readable"))?,
                    )),
                }
            }
        }
    }

    /// Saves the checkpoint of `key`.
    pub async fn save(&mut self, key: &str, mut point: Checkpoint) -> anyhow::Result<()> {
        point.updated_at = Some(format_time(&Utc::now()));
        match self {
            Store::None => Ok(()),
            Store::File { path, all } => {
                all.insert(key.to_owned(), point);
                write_atomically(path, all)
            }
            Store::Mongo(m) => {
                let mut document = mongo::to_document(&serde_json::to_value(&point)?)?;
                document.insert("_id", key);
                m.collection(FETCH_STATE)
                    .replace_one(doc! { "_id": key }, document)
                    .upsert(true)
                    .await
                    .with_context(|| format!("saving the checkpoint {key}"))?;
                Ok(())
            }
        }
    }
}

/// Writes the whole state to a temporary file beside it, then renames it over: a
/// kill at any moment leaves either the old state or the new one, never half of one.
fn write_atomically(path: &std::path::Path, all: &BTreeMap<String, Checkpoint>) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut f, all)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing the state file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_state_file_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = Store::file(path.clone()).unwrap();
        let k = key("x", "", "bbb26", chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap());
        assert_eq!(store.load(&k).await.unwrap(), None);
        let point = Checkpoint { cursor: Some("tok".into()), posts: 20, pages: 1, ..Default::default() };
        store.save(&k, point).await.unwrap();
        let again = Store::file(path.clone()).unwrap();
        let got = again.load(&k).await.unwrap().unwrap();
        assert_eq!((got.cursor.as_deref(), got.posts, got.done), (Some("tok"), 20, false));
        std::fs::write(&path, "[1]").unwrap();
        assert!(Store::file(path).is_err());
    }
}
