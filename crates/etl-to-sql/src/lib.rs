//! `etl-to-sql`: loads trend records into SQL, idempotently, batch by batch.
//!
//! Records arrive as NDJSON on stdin (typically from `clean`). They are validated,
//! grouped into batches, and each batch is upserted in one transaction, so a run
//! killed at any point and rerun ends with exactly the rows it should have. A record
//! the database refuses is isolated (its batch is retried record by record), sent to
//! the reject file with the database's reason, and the run goes on and exits 1.

pub mod load;

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use serde_json::Value;
use trendpipe_core::config::Config;
use trendpipe_core::error::Status;
use trendpipe_core::key::trend_key;
use trendpipe_core::ndjson::NdjsonReader;
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{QuarantineEntry, Record, Trend};
use trendpipe_core::redact::redact;
use trendpipe_core::sql::{DEFAULT_URL, Sql};

use crate::load::Loaded;

/// Loads trend records (NDJSON on stdin) into SQLite or PostgreSQL, idempotently.
#[derive(Debug, Parser)]
#[command(name = "etl-to-sql", version, about, long_about = None)]
pub struct Args {
    /// The database: `sqlite:FILE` or `postgres://HOST/DB` [env: DATABASE_URL;
    /// default: sqlite:trendpipe.db]. A URL with a password must come from
    /// DATABASE_URL or the configuration file, not from this flag.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// Records per transaction.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub batch_size: u64,

    /// The reject file for records that cannot be loaded, appended to. Created only
    /// when something is rejected.
    #[arg(long, value_name = "FILE", default_value = "etl-to-sql.rejects.ndjson")]
    pub reject: PathBuf,

    /// The configuration file [env: TRENDPIPE_CONFIG; default:
    /// ~/.config/trendpipe/config.toml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub loaded: Loaded,
    pub skipped_posts: u64,
    pub rejected: u64,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = Config::load(args.config.as_deref())?;
    let url = config.connection(args.db.as_deref(), "DATABASE_URL")?.unwrap_or_else(|| DEFAULT_URL.to_owned());
    let sql = Sql::connect(&url).await?;
    let mut quarantine = Quarantine::file(&args.reject);
    let stdin = std::io::stdin();
    let result = load_stream(&sql, stdin.lock(), args.batch_size as usize, &mut quarantine).await;
    sql.close().await;
    let summary = result?;
    log::info!(
        "read {} records; loaded {} observations of {} trends in {} places into {}",
        summary.read,
        summary.loaded.observations,
        summary.loaded.trends,
        summary.loaded.places,
        redact(&url)
    );
    if summary.skipped_posts > 0 {
        log::warn!("{} post records skipped: this version loads trend records only", summary.skipped_posts);
    }
    if summary.rejected > 0 {
        log::warn!("{} records rejected, kept with their reasons in {}", summary.rejected, quarantine.describe());
    }
    Ok(Status { rejected: summary.rejected, failures: 0 })
}

/// Reads NDJSON records and loads them in batches.
pub async fn load_stream(
    sql: &Sql,
    input: impl BufRead,
    batch_size: usize,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut batch: Vec<(u64, Value, Trend)> = Vec::with_capacity(batch_size);
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
        match parse_trend(&value) {
            Ok(Some(trend)) => batch.push((line, value, trend)),
            Ok(None) => summary.skipped_posts += 1,
            Err(reason) => reject(quarantine, &mut summary, Some(line), value, reason).await?,
        }
        if batch.len() >= batch_size {
            flush(sql, &mut batch, &mut summary, quarantine).await?;
        }
    }
    flush(sql, &mut batch, &mut summary, quarantine).await?;
    progress.finish_and_clear();
    quarantine.flush().await?;
    Ok(summary)
}

/// Validates a record: a trend to load, `None` for a post, or why it cannot load.
fn parse_trend(value: &Value) -> Result<Option<Trend>, String> {
    match serde_json::from_value::<Record>(value.clone()) {
        Ok(Record::Trend(mut t)) => {
            if t.key.is_empty() {
                t.key = trend_key(&t.name);
            }
            if t.key.is_empty() {
                return Err(format!("name: {:?} has nothing left once normalised", t.name));
            }
            if t.volume.is_some_and(|v| v < 0) {
                return Err(format!("volume: {} is negative", t.volume.unwrap_or_default()));
            }
            Ok(Some(t))
        }
        Ok(Record::Post(_)) => Ok(None),
        Err(e) => Err(format!("not a valid trend or post record: {e}")),
    }
}

/// Loads the batch in one transaction; if the database refuses it, loads its records
/// one by one so that only the bad ones are rejected.
async fn flush(
    sql: &Sql,
    batch: &mut Vec<(u64, Value, Trend)>,
    summary: &mut Summary,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let trends: Vec<Trend> = batch.iter().map(|(_, _, t)| t.clone()).collect();
    match load::load(sql, &trends).await {
        Ok(loaded) => add(&mut summary.loaded, loaded),
        Err(e) if is_connection_error(&e) => return Err(e).context("loading a batch"),
        Err(batch_error) => {
            log::warn!("a batch of {} records was refused ({batch_error}); loading it record by record", batch.len());
            for (line, value, trend) in batch.drain(..) {
                match load::load(sql, std::slice::from_ref(&trend)).await {
                    Ok(loaded) => add(&mut summary.loaded, loaded),
                    Err(e) if is_connection_error(&e) => return Err(e).with_context(|| format!("loading line {line}")),
                    Err(e) => {
                        reject(quarantine, summary, Some(line), value, format!("refused by the database: {e}")).await?
                    }
                }
            }
        }
    }
    batch.clear();
    Ok(())
}

fn add(total: &mut Loaded, more: Loaded) {
    total.observations += more.observations;
    total.trends += more.trends;
    total.places += more.places;
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
