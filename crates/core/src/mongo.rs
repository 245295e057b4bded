//! MongoDB: the raw side of the pipeline.
//!
//! Collections: `trends` and `posts` (raw observations, as fetched), `quarantine`
//! (records a stage rejected, with the reason) and `runs` (one document per stage run).
//! Unique indexes on the natural keys make every insert idempotent: a re-run inserts
//! nothing twice, and the duplicates are counted rather than treated as failures.
//!
//! Timestamps are stored as BSON dates so that they can be queried and indexed as
//! time; [`to_document`] and [`to_json`] convert at the boundary with NDJSON.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::ErrorKind;
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Cursor, Database, IndexModel};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::record::{QuarantineEntry, format_time, parse_time};
use crate::redact::redact;

/// Re-exported so that stages build filters without depending on the driver.
pub use mongodb::bson as bson_types;

pub const TRENDS: &str = "trends";
pub const POSTS: &str = "posts";
pub const QUARANTINE: &str = "quarantine";
pub const RUNS: &str = "runs";

/// The shard keys of the collections a sharded cluster splits (docs/ARCHITECTURE.md,
/// "Past one machine"): each is a prefix of the collection's unique index, which a
/// sharded cluster can only enforce that way. A write that may change one of these
/// fields must name their stored values in its filter ([`shard_key_filter`]).
pub const SHARD_KEYS: [(&str, &[&str]); 2] = [(TRENDS, &["source", "place.id", "key"]), (POSTS, &["source", "id"])];

/// The fields stored as BSON dates.
const TIME_FIELDS: [&str; 6] = ["observed_at", "created_at", "ingested_at", "at", "started_at", "finished_at"];

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// A connected MongoDB database.
pub struct Mongo {
    client: Client,
    db: Database,
}

/// What an idempotent insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertCounts {
    pub inserted: u64,
    /// Documents already present (same natural key): not an error.
    pub duplicates: u64,
}

impl Mongo {
    /// Connects and checks the server answers. The database is `database`, else the
    /// one named in the URI, else `trendpipe`.
    pub async fn connect(uri: &str, database: Option<&str>, app: &str) -> anyhow::Result<Self> {
        let shown = redact(uri);
        let mut options = ClientOptions::parse(uri)
            .await
            .map_err(|e| Error::Config(format!("MongoDB URI {shown}: {}", redact(&e.to_string()))))?;
        options.app_name = Some(app.to_owned());
        options.connect_timeout.get_or_insert(Duration::from_secs(5));
        options.server_selection_timeout.get_or_insert(Duration::from_secs(10));
        let name = database
            .map(str::to_owned)
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| "trendpipe".to_owned());
        let client = Client::with_options(options)
            .map_err(|e| Error::Config(format!("MongoDB URI {shown}: {}", redact(&e.to_string()))))?;
        let db = client.database(&name);
        if let Err(e) = db.run_command(doc! { "ping": 1 }).await {
            client.shutdown().await;
            return Err(
                Error::Connection(format!("cannot reach MongoDB at {shown}: {}", redact(&e.to_string()))).into()
            );
        }
        let mongo = Self { client, db };
        if crate::ledger::attach_mongo(uri, &name) {
            mongo.open_run().await;
        }
        Ok(mongo)
    }

    /// Writes this run's ledger entry as `running`, and says so when the last run of
    /// the same stage never finished its entry.
    async fn open_run(&self) {
        let (Some(entry), Some(stage)) = (crate::ledger::entry(None), crate::ledger::stage()) else {
            return;
        };
        let last = self
            .collection(RUNS)
            .find_one(doc! { "stage": &stage, "run_id": { "$ne": entry["run_id"].as_str().unwrap_or_default() } })
            .sort(doc! { "started_at": -1 })
            .await;
        if let Ok(Some(last)) = last {
            if last.get_str("status").is_ok_and(|s| s == "running") {
                let started = last.get_datetime("started_at").map(|t| t.to_string()).unwrap_or_default();
                log::warn!("the last run of {stage} (started {started}) did not finish: it was stopped or it died");
            }
        }
        if let Err(e) = self.put_run(&entry).await {
            log::warn!("could not write the run ledger entry: {}", redact(&format!("{e:#}")));
        }
    }

    /// Inserts or replaces a run ledger entry (see [`crate::ledger`]) by its `run_id`.
    pub async fn put_run(&self, entry: &Value) -> anyhow::Result<()> {
        let doc = to_document(entry)?;
        let id = entry.get("run_id").and_then(Value::as_str).unwrap_or_default();
        self.collection(RUNS)
            .replace_one(doc! { "run_id": id }, doc)
            .upsert(true)
            .await
            .context("writing the run ledger entry")?;
        Ok(())
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// Creates the indexes every stage relies on. Idempotent.
    pub async fn ensure_indexes(&self) -> anyhow::Result<()> {
        let unique = |name: &str| IndexOptions::builder().unique(true).name(name.to_owned()).build();
        let named = |name: &str| IndexOptions::builder().name(name.to_owned()).build();
        let plan: [(&str, Document, IndexOptions); 6] = [
            (TRENDS, doc! { "source": 1, "place.id": 1, "key": 1, "observed_at": 1 }, unique("trend_observation")),
            (TRENDS, doc! { "ingested_at": 1 }, named("trends_ingested_at")),
            (POSTS, doc! { "source": 1, "id": 1 }, unique("post_identity")),
            (POSTS, doc! { "ingested_at": 1 }, named("posts_ingested_at")),
            (QUARANTINE, doc! { "stage": 1, "at": 1 }, named("quarantine_stage_at")),
            (RUNS, doc! { "stage": 1, "started_at": -1 }, named("runs_stage_started")),
        ];
        for (coll, keys, options) in plan {
            let model = IndexModel::builder().keys(keys).options(options).build();
            self.collection(coll)
                .create_index(model)
                .await
                .with_context(|| format!("creating the indexes of {coll}"))?;
        }
        Ok(())
    }

    /// Inserts documents, skipping those whose natural key is already stored.
    pub async fn insert_idempotent(&self, coll: &str, docs: Vec<Document>) -> anyhow::Result<InsertCounts> {
        let total = docs.len() as u64;
        if total == 0 {
            return Ok(InsertCounts::default());
        }
        match self.collection(coll).insert_many(docs).ordered(false).await {
            Ok(result) => Ok(InsertCounts { inserted: result.inserted_ids.len() as u64, duplicates: 0 }),
            Err(e) => {
                if let ErrorKind::InsertMany(failure) = e.kind.as_ref() {
                    let errors = failure.write_errors.as_deref().unwrap_or_default();
                    let others: Vec<_> = errors.iter().filter(|w| w.code != DUPLICATE_KEY).collect();
                    if others.is_empty() && failure.write_concern_error.is_none() {
                        let duplicates = errors.len() as u64;
                        return Ok(InsertCounts { inserted: total - duplicates, duplicates });
                    }
                    if let Some(first) = others.first() {
                        anyhow::bail!(
                            "inserting into {coll}: document {} of the batch: {} (code {})",
                            first.index,
                            first.message,
                            first.code
                        );
                    }
                }
                Err(anyhow::Error::new(e).context(format!("inserting into {coll}")))
            }
        }
    }

    /// Stores rejected records with their reasons.
    pub async fn quarantine(&self, entries: &[QuarantineEntry]) -> anyhow::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let docs = entries
            .iter()
            .map(|e| serde_json::to_value(e).map_err(anyhow::Error::from).and_then(|v| to_document(&v)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.collection(QUARANTINE).insert_many(docs).await.context("writing to the quarantine collection")?;
        Ok(())
    }

    /// Records the figures of one stage run.
    ///
    /// The figures go into this run's ledger entry (its `counts` and details), which
    /// `cli::main` writes when the run ends: one document per run.
    pub async fn record_run(&self, run: &Value) -> anyhow::Result<()> {
        if let Some(map) = run.as_object() {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("counts", Value::Object(counts)) => {
                        for (name, n) in counts {
                            crate::ledger::counts(name, n.clone());
                        }
                    }
                    ("run_id" | "stage" | "started_at" | "finished_at" | "status", _) => {}
                    _ => crate::ledger::detail(k, v.clone()),
                }
            }
        }
        Ok(())
    }

    /// Opens a cursor over a collection, in `sort` order, in batches.
    pub async fn find(&self, coll: &str, filter: Document, sort: Document) -> anyhow::Result<Cursor<Document>> {
        self.collection(coll).find(filter).sort(sort).batch_size(1000).await.with_context(|| format!("reading {coll}"))
    }

    /// Closes the connection pool. Must be awaited before the runtime stops: dropping
    /// a client while the runtime shuts down makes the driver panic.
    pub async fn shutdown(self) {
        self.client.shutdown().await;
    }
}

/// `{_id: …}` plus the stored values of the collection's shard key fields: the filter
/// of a single-document update on a sharded cluster, which must name the whole shard
/// key when the update changes it. Fields the document lacks are left out (`$eq`
/// rather than the implicit form: nx-27017 matches numeric-looking strings only so).
pub fn shard_key_filter(coll: &str, stored: &Document) -> Document {
    let mut filter = doc! { "_id": stored.get("_id").cloned().unwrap_or(Bson::Null) };
    let fields = SHARD_KEYS.iter().find(|(c, _)| *c == coll).map(|(_, f)| *f).unwrap_or_default();
    for field in fields {
        let value = match field.split_once('.') {
            Some((outer, inner)) => stored.get_document(outer).ok().and_then(|d| d.get(inner)),
            None => stored.get(*field),
        };
        if let Some(v) = value {
            filter.insert(*field, doc! { "$eq": v.clone() });
        }
    }
    filter
}

/// Reads the next document of a cursor as an NDJSON record.
pub async fn next_record(cursor: &mut Cursor<Document>) -> anyhow::Result<Option<Value>> {
    Ok(cursor.try_next().await.context("reading from MongoDB")?.map(to_json))
}

/// Writes a finished run ledger entry into MongoDB (used once the stage has closed its
/// own client).
pub(crate) async fn write_run(uri: &str, database: &str, entry: &Value) -> anyhow::Result<()> {
    let mut options = ClientOptions::parse(uri).await.map_err(|e| Error::Config(redact(&e.to_string())))?;
    options.server_selection_timeout = Some(Duration::from_secs(5));
    let client = Client::with_options(options)?;
    let mongo = Mongo { db: client.database(database), client };
    let result = mongo.put_run(entry).await;
    mongo.shutdown().await;
    result
}

/// Converts a record to a document: timestamps become BSON dates; `ingested_at` is
/// set to `now` for incremental reads downstream.
pub fn to_document(record: &Value) -> anyhow::Result<Document> {
    let Value::Object(map) = record else {
        anyhow::bail!("a record must be a JSON object");
    };
    let mut doc = Document::new();
    for (key, value) in map {
        let bson = match (TIME_FIELDS.contains(&key.as_str()), value) {
            (true, Value::String(s)) => match parse_time(s) {
                Ok(t) => Bson::DateTime(bson::DateTime::from_millis(t.timestamp_millis())),
                Err(_) => Bson::String(s.clone()),
            },
            _ => bson::to_bson(value).with_context(|| format!("field {key}"))?,
        };
        doc.insert(key.clone(), bson);
    }
    Ok(doc)
}

/// Marks a document with the time it entered the raw store, in whole seconds.
///
/// Whole seconds because some MongoDB-compatible servers (nx-27017, which the tests
/// run on) compare dates with a fraction wrongly in `find` filters; incremental
/// readers filter with `ingested_at >= watermark`, so the cost is re-reading at most
/// one second of records, which their idempotent loads absorb.
pub fn stamp_ingested(doc: &mut Document, now: DateTime<Utc>) {
    doc.insert("ingested_at", Bson::DateTime(bson::DateTime::from_millis(now.timestamp() * 1000)));
}

/// Converts a stored document back to an NDJSON record: dates to RFC 3339, the
/// storage-only fields (`_id`, `ingested_at`) left out.
pub fn to_json(doc: Document) -> Value {
    let mut map = Map::new();
    for (key, value) in doc {
        if key == "_id" || key == "ingested_at" {
            continue;
        }
        let json = match value {
            Bson::DateTime(t) => match DateTime::<Utc>::from_timestamp_millis(t.timestamp_millis()) {
                Some(t) => Value::String(format_time(&t)),
                None => Bson::DateTime(t).into_relaxed_extjson(),
            },
            other => other.into_relaxed_extjson(),
        };
        map.insert(key, json);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shard_key_filter_names_the_stored_values_and_skips_missing_fields() {
        let stored = doc! { "_id": 7, "source": "x", "place": { "id": "23424768" }, "key": "BBB26", "volume": 1 };
        let filter = shard_key_filter(TRENDS, &stored);
        assert_eq!(
            filter,
            doc! { "_id": 7, "source": { "$eq": "x" }, "place.id": { "$eq": "23424768" }, "key": { "$eq": "BBB26" } }
        );
        let post = doc! { "_id": 8, "source": "x" };
        assert_eq!(shard_key_filter(POSTS, &post), doc! { "_id": 8, "source": { "$eq": "x" } });
        assert_eq!(shard_key_filter(RUNS, &post), doc! { "_id": 8 });
    }

    #[test]
    fn documents_round_trip_with_dates() {
        let rec = json!({"kind":"trend","source":"x","place":{"id":"1"},"name":"#A","key":"a",
                         "volume":5,"observed_at":"2026-11-22T01:30:00Z","extra":[1,"b"]});
        let mut doc = to_document(&rec).unwrap();
        assert!(matches!(doc.get("observed_at"), Some(Bson::DateTime(_))));
        assert!(matches!(doc.get("volume"), Some(Bson::Int64(5))));
        stamp_ingested(&mut doc, Utc::now());
        doc.insert("_id", bson::oid::ObjectId::new());
        assert_eq!(to_json(doc), rec);
    }

    #[test]
    fn non_time_strings_stay_strings() {
        let rec = json!({"observed_at":"yesterday"});
        let doc = to_document(&rec).unwrap();
        assert_eq!(doc.get_str("observed_at").unwrap(), "yesterday");
    }
}
