//! `etl-to-sql`: loads trend and post records into SQL, idempotently, batch by batch.
//!
//! Records come as NDJSON on stdin (typically from `clean`) or, for the daily cron,
//! from MongoDB's `trends` and `posts` collections, incrementally: each collection has
//! a watermark (the `ingested_at` of the last record loaded) kept in SQL and committed
//! in the same transaction as the rows, so each run loads only what is new and a run
//! killed at any point resumes where its last batch ended. A record the database
//! refuses is isolated (its batch is retried record by record) and quarantined with the
//! database's reason; the run goes on and exits 1.

pub mod load;
pub mod pg;

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, ValueEnum};
use serde_json::Value;
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::key::trend_key;
use trendpipe_core::mongo::{self, Mongo, bson_types::doc};
use trendpipe_core::ndjson::NdjsonReader;
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{QuarantineEntry, Record, parse_time};
use trendpipe_core::redact::redact;
use trendpipe_core::sql::{DEFAULT_URL, Sql};

use crate::load::{Batch, Loaded, TimedPost};

/// Loads trend and post records into SQLite or PostgreSQL, idempotently: from NDJSON
/// on stdin, or incrementally from MongoDB.
#[derive(Debug, Parser)]
#[command(name = "etl-to-sql", version, about, long_about = None)]
pub struct Args {
    /// Where the records come from: NDJSON on stdin, or MongoDB's `trends` and `posts`
    /// collections (MONGODB_URI), loading only what is new since the last run.
    #[arg(long, value_enum, default_value_t = From::Stdin)]
    pub from: From,

    /// The database: `sqlite:FILE` or `postgres://HOST/DB` [env: DATABASE_URL;
    /// default: sqlite:trendpipe.db]. A URL with a password must come from
    /// DATABASE_URL or the configuration file, not from this flag.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// Backfill: load only records observed at or after this time (RFC 3339). With
    /// `--from mongo`, --since/--until replace the watermark and leave it unchanged.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub since: Option<DateTime<Utc>>,

    /// Backfill: load only records observed before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub until: Option<DateTime<Utc>>,

    /// Records per transaction.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    /// The reject file for records that cannot be loaded from stdin, appended to.
    /// Created only when something is rejected. From MongoDB, rejects go to the
    /// `quarantine` collection.
    #[arg(long, value_name = "FILE", default_value = "etl-to-sql.rejects.ndjson")]
    pub reject: PathBuf,

    /// The MongoDB database for `--from mongo` [env: MONGODB_DATABASE; default: the
    /// one in MONGODB_URI, else trendpipe].
    #[arg(long, value_name = "NAME")]
    pub mongo_database: Option<String>,

    /// The configuration file [env: TRENDPIPE_CONFIG; default:
    /// ~/.config/trendpipe/config.toml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// NDJSON on standard input.
    Stdin,
    /// MongoDB's `trends` and `posts` collections, incrementally.
    Mongo,
}

fn parse_time_arg(s: &str) -> Result<DateTime<Utc>, String> {
    parse_time(s).map_err(|e| format!("expected an RFC 3339 time like 2026-11-22T01:30:00Z ({e})"))
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub loaded: Loaded,
    pub skipped: u64,
    pub rejected: u64,
}

/// The time window of a backfill.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    fn is_set(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = Config::load(args.config.as_deref())?;
    let url = config.connection(args.db.as_deref(), "DATABASE_URL")?.unwrap_or_else(|| DEFAULT_URL.to_owned());
    let window = Window { since: args.since, until: args.until };
    if let (Some(s), Some(u)) = (window.since, window.until) {
        if s >= u {
            return Err(Error::Usage("--since must be before --until".into()).into());
        }
    }
    let batch_size = args.batch_size as usize;
    let sql = Sql::connect(&url).await?;
    let result = match args.from {
        From::Stdin => {
            let mut quarantine = Quarantine::file(&args.reject);
            let stdin = std::io::stdin();
            let summary = load_stream(&sql, stdin.lock(), batch_size, window, &mut quarantine).await;
            summary.map(|s| (s, quarantine.describe()))
        }
        From::Mongo => {
            let uri = config.secret("MONGODB_URI").ok_or_else(|| {
                Error::Config("--from mongo needs MONGODB_URI (or mongodb_uri in the configuration file)".into())
            })?;
            let database = config.setting(args.mongo_database.as_deref(), "MONGODB_DATABASE");
            match Mongo::connect(&uri, database.as_deref(), "etl-to-sql").await {
                Ok(mongo) => {
                    let summary = load_mongo(&sql, &mongo, batch_size, window).await;
                    mongo.shutdown().await;
                    summary.map(|s| (s, "the MongoDB quarantine collection".to_owned()))
                }
                Err(e) => Err(e),
            }
        }
    };
    sql.close().await;
    let (summary, quarantine) = result?;
    let l = summary.loaded;
    log::info!(
        "read {} records; loaded {} observations of {} trends in {} places, {} posts by {} authors into {}",
        summary.read,
        l.observations,
        l.trends,
        l.places,
        l.posts,
        l.authors,
        redact(&url)
    );
    if summary.skipped > 0 {
        log::info!("{} records outside --since/--until skipped", summary.skipped);
    }
    if summary.rejected > 0 {
        log::warn!("{} records rejected, kept with their reasons in {quarantine}", summary.rejected);
    }
    Ok(Status { rejected: summary.rejected, failures: 0 })
}

/// A validated record, ready for a batch.
// Both variants are large; boxing one would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Trend(trendpipe_core::record::Trend),
    Post(TimedPost),
}

impl Parsed {
    fn observed_at(&self) -> DateTime<Utc> {
        match self {
            Parsed::Trend(t) => t.observed_at,
            Parsed::Post(p) => p.at,
        }
    }
}

/// Validates a record: a trend or a post to load, or why it cannot load.
fn parse(value: &Value) -> Result<Parsed, String> {
    // Deserialised from the borrowed value: the value itself is kept for the reject.
    match <Record as serde::Deserialize>::deserialize(value) {
        Ok(Record::Trend(mut t)) => {
            if t.key.is_empty() {
                t.key = trend_key(&t.name);
            }
            if t.key.is_empty() {
                return Err(format!("name: {:?} has nothing left once normalised", t.name));
            }
            Ok(Parsed::Trend(t))
        }
        Ok(Record::Post(p)) => {
            if p.id.trim().is_empty() {
                return Err("id: empty".into());
            }
            let at = p.observed_at.or(p.created_at).ok_or_else(|| {
                "observed_at: missing, and no created_at: needed to know which engagement counts are the latest"
                    .to_owned()
            })?;
            Ok(Parsed::Post(TimedPost { post: p, at }))
        }
        Err(e) => Err(format!("not a valid trend or post record: {e}")),
    }
}

/// The records waiting for the next transaction, each with where it came from (its
/// line and the record as read), for rejects.
#[derive(Default)]
struct Pending {
    batch: Batch,
    trend_origins: Vec<(Option<u64>, Value)>,
    post_origins: Vec<(Option<u64>, Value)>,
}

impl Pending {
    fn push(&mut self, line: Option<u64>, raw: Value, parsed: Parsed) {
        match parsed {
            Parsed::Trend(t) => {
                self.batch.trends.push(t);
                self.trend_origins.push((line, raw));
            }
            Parsed::Post(p) => {
                self.batch.posts.push(p);
                self.post_origins.push((line, raw));
            }
        }
    }

    fn len(&self) -> usize {
        self.batch.len()
    }
}

/// Reads NDJSON records and loads them in batches.
pub async fn load_stream(
    sql: &Sql,
    input: impl BufRead,
    batch_size: usize,
    window: Window,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut items = Pending::default();
    let progress = trendpipe_core::progress::bar(None, "loading");
    for item in NdjsonReader::new(input) {
        let item = item.context("reading stdin")?;
        summary.read += 1;
        progress.inc(1);
        let (line, value) = match item {
            Ok(parsed) => parsed,
            Err(bad) => {
                reject(quarantine, &mut summary, Some(bad.line), Value::String(bad.raw), bad.message).await?;
                continue;
            }
        };
        match parse(&value) {
            Ok(parsed) if !window.contains(parsed.observed_at()) => summary.skipped += 1,
            Ok(parsed) => items.push(Some(line), value, parsed),
            Err(reason) => reject(quarantine, &mut summary, Some(line), value, reason).await?,
        }
        if items.len() >= batch_size {
            flush(sql, &mut items, None, &mut summary, quarantine).await?;
        }
    }
    flush(sql, &mut items, None, &mut summary, quarantine).await?;
    progress.finish_and_clear();
    quarantine.flush().await?;
    Ok(summary)
}

/// Loads the `trends` and `posts` collections from their watermarks (or the
/// backfill window) on, in `ingested_at` order.
async fn load_mongo(sql: &Sql, mongo: &Mongo, batch_size: usize, window: Window) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut quarantine = Quarantine::mongo(mongo);
    let database = mongo.database().name().to_owned();
    let progress = trendpipe_core::progress::bar(None, "loading");
    for coll in [mongo::TRENDS, mongo::POSTS] {
        let stream = format!("mongo:{database}.{coll}");
        let filter = if window.is_set() {
            let mut range = mongo::bson_types::Document::new();
            if let Some(s) = window.since {
                range.insert("$gte", mongo::bson_types::DateTime::from_millis(s.timestamp_millis()));
            }
            if let Some(u) = window.until {
                range.insert("$lt", mongo::bson_types::DateTime::from_millis(u.timestamp_millis()));
            }
            doc! { "observed_at": range }
        } else {
            match load::watermark(sql, &stream).await.context("reading the watermark")? {
                // `>=`: records sharing the watermark's instant may have been split
                // across batches; loading them again is harmless.
                Some(w) => {
                    log::info!("{coll}: loading from the watermark {}", trendpipe_core::record::format_time(&w));
                    doc! { "ingested_at": { "$gte": mongo::bson_types::DateTime::from_millis(w.timestamp_millis()) } }
                }
                None => doc! {},
            }
        };
        let mut cursor = mongo.find(coll, filter, doc! { "ingested_at": 1, "_id": 1 }).await?;
        let mut items = Pending::default();
        let mut position: Option<DateTime<Utc>> = None;
        while let Some(document) = futures_util::TryStreamExt::try_next(&mut cursor).await.context("reading MongoDB")? {
            summary.read += 1;
            progress.inc(1);
            let ingested = document
                .get_datetime("ingested_at")
                .ok()
                .and_then(|t| DateTime::<Utc>::from_timestamp_millis(t.timestamp_millis()));
            let id = document.get("_id").map(|v| v.to_string()).unwrap_or_default();
            let value = mongo::to_json(document);
            match parse(&value) {
                Ok(parsed) => items.push(None, value, parsed),
                Err(reason) => {
                    reject(&mut quarantine, &mut summary, None, value, format!("{coll} document {id}: {reason}"))
                        .await?
                }
            }
            if let Some(t) = ingested {
                position = Some(position.map_or(t, |p| p.max(t)));
            }
            if items.len() >= batch_size {
                let mark = if window.is_set() { None } else { position.map(|p| (stream.clone(), p)) };
                // Rejects of this stretch must be safe before the watermark passes them.
                quarantine.flush().await?;
                flush(sql, &mut items, mark, &mut summary, &mut quarantine).await?;
            }
        }
        let mark = if window.is_set() { None } else { position.map(|p| (stream.clone(), p)) };
        quarantine.flush().await?;
        flush(sql, &mut items, mark, &mut summary, &mut quarantine).await?;
    }
    progress.finish_and_clear();
    quarantine.flush().await?;
    Ok(summary)
}

/// Loads the items in one transaction with the watermark; if the database refuses
/// them, loads them one by one so that only the bad ones are rejected, then records
/// the watermark.
async fn flush(
    sql: &Sql,
    items: &mut Pending,
    watermark: Option<(String, DateTime<Utc>)>,
    summary: &mut Summary,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<()> {
    let Pending { batch, trend_origins, post_origins } = std::mem::take(items);
    if batch.is_empty() && watermark.is_none() {
        return Ok(());
    }
    let batch = Batch { watermark: watermark.clone(), ..batch };
    match load::load(sql, &batch).await {
        Ok(loaded) => summary.loaded.add(loaded),
        Err(e) if is_connection_error(&e) => return Err(e).context("loading a batch"),
        Err(batch_error) => {
            log::warn!("a batch of {} records was refused ({batch_error}); loading it record by record", batch.len());
            let trends = batch
                .trends
                .into_iter()
                .zip(trend_origins)
                .map(|(t, o)| (Batch { trends: vec![t], ..Default::default() }, o));
            let posts = batch
                .posts
                .into_iter()
                .zip(post_origins)
                .map(|(p, o)| (Batch { posts: vec![p], ..Default::default() }, o));
            for (single, (line, raw)) in trends.chain(posts) {
                match load::load(sql, &single).await {
                    Ok(loaded) => summary.loaded.add(loaded),
                    Err(e) if is_connection_error(&e) => return Err(e).context("loading a record"),
                    Err(e) => reject(quarantine, summary, line, raw, format!("refused by the database: {e}")).await?,
                }
            }
            quarantine.flush().await?;
            if watermark.is_some() {
                load::load(sql, &Batch { watermark, ..Default::default() }).await.context("recording the watermark")?;
            }
        }
    }
    Ok(())
}

/// Errors that no retry of a single record can fix: stop the run.
fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_))
}

async fn reject(
    quarantine: &mut Quarantine<'_>,
    summary: &mut Summary,
    line: Option<u64>,
    record: Value,
    reason: String,
) -> anyhow::Result<()> {
    match line {
        Some(n) => log::warn!("line {n}: {reason}"),
        None => log::warn!("{reason}"),
    }
    summary.rejected += 1;
    quarantine
        .put(QuarantineEntry {
            stage: "etl-to-sql".into(),
            rule: "load".into(),
            reason,
            line,
            record,
            at: Utc::now(),
            run_id: None,
        })
        .await
}
