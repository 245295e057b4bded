//! Where rejected records go, so that nothing a stage drops is lost.
//!
//! In filter mode the quarantine is an NDJSON file (`--reject FILE`), opened only when
//! the first record is rejected so a clean run leaves no empty file behind. In MongoDB
//! mode it is the `quarantine` collection, written in batches.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use anyhow::Context;

use crate::mongo::Mongo;
use crate::ndjson::NdjsonWriter;
use crate::record::QuarantineEntry;

const MONGO_BATCH: usize = 500;

/// A destination for rejected records.
pub enum Quarantine<'a> {
    /// Appends to an NDJSON file.
    File { path: PathBuf, writer: Option<NdjsonWriter<File>>, count: u64 },
    /// Inserts into the `quarantine` collection.
    Mongo { mongo: &'a Mongo, pending: Vec<QuarantineEntry>, count: u64 },
}

impl<'a> Quarantine<'a> {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File { path: path.into(), writer: None, count: 0 }
    }

    pub fn mongo(mongo: &'a Mongo) -> Self {
        Self::Mongo { mongo, pending: Vec::new(), count: 0 }
    }

    /// Where the records go, for the summary.
    pub fn describe(&self) -> String {
        match self {
            Self::File { path, .. } => path.display().to_string(),
            Self::Mongo { .. } => "the MongoDB quarantine collection".to_owned(),
        }
    }

    /// Keeps one rejected record.
    pub async fn put(&mut self, entry: QuarantineEntry) -> anyhow::Result<()> {
        match self {
            Self::File { path, writer, count } => {
                if writer.is_none() {
                    let file = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&*path)
                        .with_context(|| format!("opening the reject file {}", path.display()))?;
                    *writer = Some(NdjsonWriter::new(file));
                }
                if let Some(w) = writer.as_mut() {
                    w.write(&entry).with_context(|| format!("writing to the reject file {}", path.display()))?;
                }
                *count += 1;
            }
            Self::Mongo { mongo, pending, count } => {
                pending.push(entry);
                *count += 1;
                if pending.len() >= MONGO_BATCH {
                    mongo.quarantine(pending).await?;
                    pending.clear();
                }
            }
        }
        Ok(())
    }

    /// Writes what is pending. Call before the records that were rejected are removed
    /// from anywhere else, and at the end of the run.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Self::File { path, writer, .. } => {
                if let Some(w) = writer.take() {
                    w.finish().with_context(|| format!("writing to the reject file {}", path.display()))?;
                }
            }
            Self::Mongo { mongo, pending, .. } => {
                mongo.quarantine(pending).await?;
                pending.clear();
            }
        }
        Ok(())
    }

    /// How many records were quarantined.
    pub fn count(&self) -> u64 {
        match self {
            Self::File { count, .. } | Self::Mongo { count, .. } => *count,
        }
    }
}
