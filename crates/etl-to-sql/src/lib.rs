//! `etl-to-sql`: loads trend and post records into SQL, idempotently, batch by batch.
//!
//! Records come as NDJSON on stdin (typically from `clean`) or, for the daily cron,
//! from MongoDB's `trends` and `posts` collections, incrementally: each collection has
//! a watermark (the `ingested_at` of the last record loaded) kept in SQL and committed
//! in the same transaction as the rows, so each run loads only what is new and a run
//! killed at any point resumes where its last batch ended. A record the database
//! refuses is isolated (its batch is retried record by record) and quarantined with the
//! database's reason; the run goes on and exits 1.
//!
//! The summary line and the run ledger say what the database did with each table's
//! rows — new, updated, unchanged — from its own answers (see `statements::on_change`),
//! and how many distinct trends, places, posts and authors the run touched.

pub mod batch;
pub mod extras;
pub mod lite;
pub mod load;
pub mod pg;
mod statements;
pub mod summary;

use std::io::BufRead;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Parser;
use serde_json::Value;
use trendpipe_core::args::{ConfigArgs, DbArgs, From, LockArgs, MongoArgs, RejectArgs, SummaryArgs, WindowArgs};
use trendpipe_core::error::Status;
use trendpipe_core::key::trend_key;
use trendpipe_core::mongo::{self, Mongo, bson_types::doc};
use trendpipe_core::ndjson::NdjsonReader;
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{QuarantineEntry, Record};
use trendpipe_core::sql::Sql;

use crate::batch::{Batch, TimedPost};
use crate::load::Loader;
pub use crate::summary::Summary;
use crate::summary::record_watermarks;

/// Loads trend and post records into SQLite or PostgreSQL, idempotently: from NDJSON
/// on stdin, or incrementally from MongoDB.
#[derive(Debug, Parser)]
#[command(name = "etl-to-sql", version, about, long_about = None)]
pub struct Args {
    /// Where the records come from: NDJSON on stdin, or MongoDB's `trends` and `posts`
    /// collections, loading only what is new since the last run. With `--from mongo`,
    /// --since/--until (a backfill, on `observed_at`) replace the watermark and leave
    /// it unchanged.
    #[arg(long, value_enum, default_value_t = From::Stdin)]
    pub from: From,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Records per batch: one transaction (in PostgreSQL, a batch of 1,000 posts or
    /// more is merged as two transactions side by side, the watermark in the second).
    #[arg(long, value_name = "N", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    #[command(flatten)]
    pub reject: RejectArgs,

    #[command(flatten)]
    pub mongo: MongoArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = args.config.load()?;
    let url = args.db.url(&config)?;
    let window = args.window;
    window.check()?;
    let batch_size = args.batch_size as usize;
    let sql = Sql::connect(&url).await?;
    // Overlapping runs would race on the watermarks: they take turns.
    let lock = match sql.lock_stage("etl-to-sql", args.lock.lock_timeout).await {
        Ok(lock) => lock,
        Err(e) => {
            sql.close().await;
            return Err(e);
        }
    };
    let result = match args.from {
        From::Stdin => {
            let mut quarantine = Quarantine::file(args.reject.path("etl-to-sql"));
            let stdin = std::io::BufReader::with_capacity(1 << 20, std::io::stdin());
            let summary = load_stream(&sql, stdin, batch_size, window, &mut quarantine).await;
            summary.map(|s| (s, quarantine.describe()))
        }
        From::Mongo => match config.mongo(&args.mongo, "etl-to-sql").await {
            Ok(mongo) => {
                let summary = load_mongo(&sql, &mongo, batch_size, window).await;
                mongo.shutdown().await;
                summary.map(|s| (s, "the MongoDB quarantine collection".to_owned()))
            }
            Err(e) => Err(e),
        },
    };
    lock.release().await;
    sql.close().await;
    // A database that fails mid-run (a full disk, a lost server) is named: the drivers'
    // messages ("database or disk is full") do not say which one.
    let (summary, quarantine) = result.map_err(|e| {
        if e.chain().any(|c| c.is::<load::LoadError>()) {
            e.context(format!("database {}", trendpipe_core::redact::redact(&url)))
        } else {
            e
        }
    })?;
    summary.report(&url, &quarantine);
    Ok(Status { rejected: summary.rejected, ..Status::ok() })
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
        Ok(record) => check(record),
        Err(e) => Err(format!("not a valid trend or post record: {e}")),
    }
}

/// Validates a line of NDJSON: read straight into a record (no intermediate JSON
/// tree) when it is one; otherwise through [`parse`], for the same reasons.
fn parse_line(line: u64, text: &str) -> Result<Parsed, Rejected> {
    // Nothing here stores the fields a record carries beyond the known ones.
    if let Some(post) = trendpipe_core::record::Post::from_json_known_fields(text) {
        return check(Record::Post(post)).map_err(|reason| Rejected::of_line(line, text, reason));
    }
    if let Ok(record) = serde_json::from_str::<Record>(text) {
        return check(record).map_err(|reason| Rejected::of_line(line, text, reason));
    }
    match trendpipe_core::ndjson::parse_object(line, text) {
        Ok((_, value)) => match parse(&value) {
            Ok(parsed) => Ok(parsed),
            Err(reason) => Err(Rejected { line: Some(line), record: value, reason }),
        },
        Err(bad) => Err(Rejected { line: Some(bad.line), record: Value::String(bad.raw), reason: bad.message }),
    }
}

fn check(record: Record) -> Result<Parsed, String> {
    match record {
        Record::Trend(mut t) => {
            if t.key.is_empty() {
                t.key = trend_key(&t.name);
            }
            if t.key.is_empty() {
                return Err(format!("name: {:?} has nothing left once normalised", t.name));
            }
            Ok(Parsed::Trend(t))
        }
        Record::Post(p) => {
            if p.id.trim().is_empty() {
                return Err("id: empty".into());
            }
            let at = p.observed_at.or(p.created_at).ok_or_else(|| {
                "observed_at: missing, and no created_at: needed to know which engagement counts are the latest"
                    .to_owned()
            })?;
            Ok(Parsed::Post(TimedPost { post: p, at }))
        }
    }
}

/// A record as it came: the line's text from NDJSON (kept as text, cheaper than a
/// tree), the document from MongoDB. Read back into JSON only for a reject.
enum Origin {
    Text(Box<str>),
    Value(Value),
}

impl Origin {
    fn into_value(self) -> Value {
        match self {
            Origin::Text(text) => serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into())),
            Origin::Value(value) => value,
        }
    }
}

/// The records waiting for the next transaction, each with where it came from (its
/// line and the record as read), for rejects.
#[derive(Default)]
struct Pending {
    batch: Batch,
    trend_origins: Vec<(Option<u64>, Origin)>,
    post_origins: Vec<(Option<u64>, Origin)>,
}

impl Pending {
    fn push(&mut self, line: Option<u64>, raw: Origin, parsed: Parsed) {
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

/// A record that cannot be loaded, with where it came from.
struct Rejected {
    line: Option<u64>,
    record: Value,
    reason: String,
}

impl Rejected {
    fn of_line(line: u64, text: &str, reason: String) -> Self {
        let record = Origin::Text(text.into()).into_value();
        Rejected { line: Some(line), record, reason }
    }
}

/// What the reading thread hands over: the next batch, and what it read on the way.
#[derive(Default)]
struct Piece {
    read: u64,
    skipped: u64,
    rejects: Vec<Rejected>,
    pending: Pending,
}

/// Reads NDJSON records and loads them in batches.
///
/// Reading and validating run on a thread of their own, one batch ahead, so that the
/// next batch is ready when the database has taken the current one.
pub async fn load_stream(
    sql: &Sql,
    input: impl BufRead + Send + 'static,
    batch_size: usize,
    window: WindowArgs,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut loader = Loader::new(sql).context("opening the database")?;
    let progress = trendpipe_core::progress::bar(None, "loading");
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Piece>>(1);
    let counter = progress.clone();
    let reader = std::thread::Builder::new()
        .name("read".into())
        .spawn(move || read_pieces(input, batch_size, window, &counter, &sender))
        .context("starting the reading thread")?;
    while let Some(piece) = receiver.recv().await {
        let Piece { read, skipped, rejects, mut pending } = piece?;
        summary.read += read;
        summary.skipped += skipped;
        for r in rejects {
            reject(quarantine, &mut summary, r.line, r.record, r.reason).await?;
        }
        flush(&mut loader, &mut pending, None, &mut summary, quarantine).await?;
        if trendpipe_core::shutdown::requested() {
            // Stop after this committed batch; the reading thread, which may be
            // blocked on stdin, ends at its next send.
            drop(receiver);
            progress.finish_and_clear();
            quarantine.flush().await?;
            return Ok(summary);
        }
    }
    // The channel closes when the thread is done, or if it died: then records may be
    // missing, and the run must not look complete.
    if reader.join().is_err() {
        anyhow::bail!("the reading thread stopped unexpectedly; the input was not read to its end");
    }
    progress.finish_and_clear();
    quarantine.flush().await?;
    Ok(summary)
}

/// The reading thread of [`load_stream`]: sends a piece at every full batch (or a
/// batch's worth of rejects), then the rest; stops early if the loader has gone.
fn read_pieces(
    input: impl BufRead,
    batch_size: usize,
    window: WindowArgs,
    progress: &indicatif::ProgressBar,
    sender: &tokio::sync::mpsc::Sender<anyhow::Result<Piece>>,
) {
    let mut piece = Piece::default();
    let mut reader = NdjsonReader::new(input);
    while let Some(item) = reader.next_line() {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                let _ = sender.blocking_send(Err(anyhow::Error::new(e).context("reading stdin")));
                return;
            }
        };
        piece.read += 1;
        progress.inc(1);
        match item {
            Ok((line, text)) => match parse_line(line, text) {
                Ok(parsed) if !window.contains(parsed.observed_at()) => piece.skipped += 1,
                Ok(parsed) => piece.pending.push(Some(line), Origin::Text(text.into()), parsed),
                Err(rejected) => piece.rejects.push(rejected),
            },
            Err(bad) => piece.rejects.push(Rejected {
                line: Some(bad.line),
                record: Value::String(bad.raw),
                reason: bad.message,
            }),
        }
        let full = piece.pending.len() >= batch_size || piece.rejects.len() >= batch_size;
        if full && sender.blocking_send(Ok(std::mem::take(&mut piece))).is_err() {
            return;
        }
    }
    let _ = sender.blocking_send(Ok(piece));
}

/// Loads the `trends` and `posts` collections from their watermarks (or the
/// backfill window) on, in `ingested_at` order.
async fn load_mongo(sql: &Sql, mongo: &Mongo, batch_size: usize, window: WindowArgs) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut loader = Loader::new(sql).context("opening the database")?;
    let mut quarantine = Quarantine::mongo(mongo);
    let database = mongo.database().name().to_owned();
    let progress = trendpipe_core::progress::bar(None, "loading");
    let mut watermarks = Vec::new();
    for coll in [mongo::TRENDS, mongo::POSTS] {
        let stream = format!("mongo:{database}.{coll}");
        let before = crate::load::watermark(sql, &stream).await.context("reading the watermark")?;
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
            match before {
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
            // A stop request ends the reading: what was read so far is committed below
            // with its watermark (documents come in watermark order).
            if trendpipe_core::shutdown::requested() {
                break;
            }
            summary.read += 1;
            progress.inc(1);
            let ingested = document
                .get_datetime("ingested_at")
                .ok()
                .and_then(|t| DateTime::<Utc>::from_timestamp_millis(t.timestamp_millis()));
            let id = document.get("_id").map(|v| v.to_string()).unwrap_or_default();
            let value = mongo::to_json(document);
            // fetch-posts keeps one document per post, with every trend it was
            // collected for in `trends` and the latest in `trend`: link them all.
            for other in other_trends(&value) {
                let mut copy = value.clone();
                copy["trend"] = other.into();
                if let Ok(parsed) = parse(&copy) {
                    items.push(None, Origin::Value(copy), parsed);
                }
            }
            match parse(&value) {
                Ok(parsed) => items.push(None, Origin::Value(value), parsed),
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
                flush(&mut loader, &mut items, mark, &mut summary, &mut quarantine).await?;
            }
        }
        let mark = if window.is_set() { None } else { position.map(|p| (stream.clone(), p)) };
        quarantine.flush().await?;
        flush(&mut loader, &mut items, mark, &mut summary, &mut quarantine).await?;
        let after = crate::load::watermark(sql, &stream).await.context("reading the watermark")?;
        watermarks.push((stream, before, after));
        if trendpipe_core::shutdown::requested() {
            break;
        }
    }
    record_watermarks(&watermarks);
    progress.finish_and_clear();
    quarantine.flush().await?;
    Ok(summary)
}

/// The trends of a MongoDB post document's `trends` list other than its `trend`.
fn other_trends(doc: &Value) -> Vec<String> {
    let latest = doc.get("trend").and_then(Value::as_str);
    let mut keys: Vec<String> = doc
        .get("trends")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).filter(|k| Some(*k) != latest).map(str::to_owned).collect())
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    keys
}

/// Loads the items in one transaction with the watermark; if the database refuses
/// them, loads them one by one so that only the bad ones are rejected, then records
/// the watermark.
async fn flush(
    loader: &mut Loader<'_>,
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
    match loader.load(&batch).await {
        Ok(loaded) => summary.took(loaded),
        Err(e) if e.is_fatal() => return Err(e).context("loading a batch"),
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
                match loader.load(&single).await {
                    Ok(loaded) => summary.took(loaded),
                    Err(e) if e.is_fatal() => return Err(e).context("loading a record"),
                    Err(e) => {
                        let reason = format!("refused by the database: {e}");
                        reject(quarantine, summary, line, raw.into_value(), reason).await?
                    }
                }
            }
            quarantine.flush().await?;
            if watermark.is_some() {
                loader.load(&Batch { watermark, ..Default::default() }).await.context("recording the watermark")?;
            }
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct read of a line agrees with the read through a JSON tree: the same
    /// records pass, and the rejected ones are rejected for the same reason.
    #[test]
    fn a_line_read_directly_is_judged_as_through_a_json_tree() {
        let lines = [
            r##"{"kind":"post","source":"x","id":"1","observed_at":"2026-11-22T01:00:00Z","metrics":{"likes":3}}"##,
            r##"{"kind":"post","source":"x","id":"1","created_at":"2026-11-22T01:00:00Z","extra":{"a":[1,2]}}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"1"},"name":"#A b","volume":null,"observed_at":"2026-11-22T01:00:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"1"},"name":" # ","volume":3,"observed_at":"2026-11-22T01:00:00Z"}"##,
            r##"{"kind":"post","source":"x","id":"  ","observed_at":"2026-11-22T01:00:00Z"}"##,
            r##"{"kind":"post","source":"x","id":"2"}"##,
            r##"{"kind":"post","source":"x","id":2,"observed_at":"2026-11-22T01:00:00Z"}"##,
            r##"{"kind":"post","source":"x","id":"3","id":"4","observed_at":"2026-11-22T01:00:00Z"}"##,
            r##"{"kind":"poll"}"##,
            r##"[1,2]"##,
            r##"{"kind":"post""##,
        ];
        for (i, text) in lines.iter().enumerate() {
            let direct = parse_line(i as u64 + 1, text);
            let tree = trendpipe_core::ndjson::parse_object(i as u64 + 1, text)
                .map_err(|bad| bad.message)
                .and_then(|(_, value)| parse(&value));
            match (direct, tree) {
                (Ok(a), Ok(b)) => assert_eq!(a.observed_at(), b.observed_at(), "{text}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.reason, b, "{text}");
                    assert_eq!(a.line, Some(i as u64 + 1));
                }
                (a, b) => panic!("{text}: direct {:?}, tree {:?}", a.err().map(|r| r.reason), b.err()),
            }
        }
    }
}
