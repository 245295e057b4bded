//! Where rejected records go, so that nothing a stage drops is lost.
//!
//! In filter mode the quarantine is an NDJSON file (`--reject FILE`), opened only when
//! the first record is rejected so a clean run leaves no empty file behind. In MongoDB
//! mode it is the `quarantine` collection, written in batches.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::mongo::Mongo;
use crate::ndjson::NdjsonWriter;
use crate::record::{QuarantineEntry, format_time};

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

    /// Keeps one rejected record given as the JSON text `serde_json` writes for it
    /// (`record`), so that a caller that has the text need not build the value: the
    /// reject file gets the very line [`Quarantine::put`] writes for the same entry.
    pub async fn put_json(&mut self, head: EntryHead<'_>, record: &str) -> anyhow::Result<()> {
        match self {
            Self::File { path, writer, count } => {
                let mut line = Vec::with_capacity(record.len() + head.reason.len() + 160);
                head.render(record, &mut line)?;
                if writer.is_none() {
                    let file = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&*path)
                        .with_context(|| format!("opening the reject file {}", path.display()))?;
                    *writer = Some(NdjsonWriter::new(file));
                }
                if let Some(w) = writer.as_mut() {
                    w.write_json(&line).with_context(|| format!("writing to the reject file {}", path.display()))?;
                }
                *count += 1;
                Ok(())
            }
            Self::Mongo { .. } => {
                let record = serde_json::from_str(record).context("reading a rejected record")?;
                self.put(head.entry(record)).await
            }
        }
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

/// The fields of a [`QuarantineEntry`] but its record, borrowed (see
/// [`Quarantine::put_json`]).
#[derive(Debug, Clone, Copy)]
pub struct EntryHead<'a> {
    pub stage: &'a str,
    pub reason: &'a str,
    pub rule: &'a str,
    pub line: Option<u64>,
    pub at: DateTime<Utc>,
    pub run_id: Option<&'a str>,
}

impl EntryHead<'_> {
    fn entry(&self, record: serde_json::Value) -> QuarantineEntry {
        QuarantineEntry {
            stage: self.stage.to_owned(),
            reason: self.reason.to_owned(),
            rule: self.rule.to_owned(),
            line: self.line,
            record,
            at: self.at,
            run_id: self.run_id.map(str::to_owned),
        }
    }

    /// Appends the JSON text of the entry with `record` as its record: the fields in
    /// the order, and with the escapes, of `QuarantineEntry`'s serialisation.
    fn render(&self, record: &str, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"stage\":");
        serde_json::to_writer(&mut *out, self.stage)?;
        out.extend_from_slice(b",\"reason\":");
        serde_json::to_writer(&mut *out, self.reason)?;
        out.extend_from_slice(b",\"rule\":");
        serde_json::to_writer(&mut *out, self.rule)?;
        if let Some(line) = self.line {
            out.extend_from_slice(b",\"line\":");
            serde_json::to_writer(&mut *out, &line)?;
        }
        out.extend_from_slice(b",\"record\":");
        out.extend_from_slice(record.as_bytes());
        out.extend_from_slice(b",\"at\":");
        serde_json::to_writer(&mut *out, &format_time(&self.at))?;
        if let Some(run_id) = self.run_id {
            out.extend_from_slice(b",\"run_id\":");
            serde_json::to_writer(&mut *out, run_id)?;
        }
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_entry_is_the_serialised_entry() {
        let at = chrono::TimeZone::timestamp_millis_opt(&Utc, 1_795_000_000_123).single().unwrap();
        let records = [
            r#"{"kind":"trend","volume":null,"name":"número \"q\" \\ \u0001"}"#,
            r#""not json at all""#,
            r#"[1,-2,{"a":{"b":[]}},true,false,null]"#,
            r#"{}"#,
        ];
        for record in records {
            let value: serde_json::Value = serde_json::from_str(record).unwrap();
            let compact = value.to_string();
            for (line, run_id, reason) in
                [(Some(7), Some("run-1"), "volume: null"), (None, None, "odd \"reason\"\n\u{7f} é")]
            {
                let head = EntryHead { stage: "clean", reason, rule: "null-volume", line, at, run_id };
                let mut rendered = Vec::new();
                head.render(&compact, &mut rendered).unwrap();
                let expected = serde_json::to_vec(&head.entry(value.clone())).unwrap();
                assert_eq!(String::from_utf8(rendered).unwrap(), String::from_utf8(expected).unwrap());
            }
        }
        let whole = chrono::TimeZone::timestamp_opt(&Utc, 1_795_000_000, 0).single().unwrap();
        let head = EntryHead { stage: "s", reason: "r", rule: "u", line: Some(1), at: whole, run_id: None };
        let mut rendered = Vec::new();
        head.render("1", &mut rendered).unwrap();
        assert_eq!(rendered, serde_json::to_vec(&head.entry(serde_json::json!(1))).unwrap());
    }

    #[tokio::test]
    async fn put_json_writes_what_put_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"));
        let at = Utc::now();
        let (mut qa, mut qb) = (Quarantine::file(&a), Quarantine::file(&b));
        for record in [r#"{"x":[1,2],"y":"é"}"#, "null"] {
            let head =
                EntryHead { stage: "clean", reason: "why", rule: "duplicate", line: Some(3), at, run_id: Some("r") };
            qa.put(head.entry(serde_json::from_str(record).unwrap())).await.unwrap();
            qb.put_json(head, record).await.unwrap();
        }
        qa.flush().await.unwrap();
        qb.flush().await.unwrap();
        assert_eq!((qa.count(), qb.count()), (2, 2));
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }
}
