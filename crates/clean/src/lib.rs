//! `clean`: validates, normalises, drops null volumes and duplicates, and loses
//! nothing.
//!
//! Filter mode reads NDJSON on stdin and writes the clean records on stdout, one line
//! at a time. `--from mongo` reads the raw `trends` collection instead. Every record
//! that does not come out goes to the quarantine (a reject file, or MongoDB's
//! `quarantine` collection when reading from MongoDB) with its reason.

pub mod rules;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::mongo::{self, Mongo};
use trendpipe_core::ndjson::{NdjsonReader, NdjsonWriter};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{QuarantineEntry, format_time};

use crate::rules::{Cleaner, Options, Outcome};

/// Cleans raw trend records: validates, normalises, drops null volumes and
/// duplicates; every dropped record is kept in a quarantine with its reason.
#[derive(Debug, Parser)]
#[command(name = "clean", version, about, long_about = None)]
pub struct Args {
    /// Where the raw records come from: NDJSON on stdin, or MongoDB's `trends`
    /// collection (MONGODB_URI).
    #[arg(long, value_enum, default_value_t = From::Stdin)]
    pub from: From,

    /// The reject file for dropped and invalid records, appended to (filter mode).
    /// Created only when something is dropped.
    #[arg(long, value_name = "FILE", default_value = "clean.rejects.ndjson")]
    pub reject: PathBuf,

    /// Keep trend observations that have no volume.
    #[arg(long)]
    pub keep_null_volume: bool,

    /// Keep repeated observations of the same trend, place and time.
    #[arg(long)]
    pub no_dedupe: bool,

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
    /// The `trends` collection of MongoDB.
    Mongo,
}

/// What a run did, for the summary and the `runs` document.
#[derive(Debug, Default)]
pub struct Summary {
    pub read: u64,
    pub kept: u64,
    pub dropped: BTreeMap<&'static str, u64>,
    pub rejected: u64,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let options = Options { keep_null_volume: args.keep_null_volume, dedupe: !args.no_dedupe };
    let config = Config::load(args.config.as_deref())?;
    match args.from {
        From::Stdin => {
            let mut quarantine = Quarantine::file(&args.reject);
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            let summary = filter(options, stdin.lock(), stdout.lock(), &mut quarantine).await?;
            report(&summary, &quarantine);
            Ok(Status { rejected: summary.rejected, failures: 0 })
        }
        From::Mongo => {
            let uri = config.secret("MONGODB_URI").ok_or_else(|| {
                Error::Config("--from mongo needs MONGODB_URI (or mongodb_uri in the configuration file)".into())
            })?;
            let database = config.setting(args.mongo_database.as_deref(), "MONGODB_DATABASE");
            let mongo = Mongo::connect(&uri, database.as_deref(), "clean").await?;
            let result = from_mongo(options, &mongo).await;
            mongo.shutdown().await;
            result
        }
    }
}

/// Filter mode: NDJSON in, clean NDJSON out, drops to the quarantine.
pub async fn filter(
    options: Options,
    input: impl BufRead,
    output: impl Write,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut cleaner = Cleaner::new(options);
    let mut out = NdjsonWriter::new(output);
    let mut summary = Summary::default();
    let run_id = uuid::Uuid::new_v4().to_string();
    for item in NdjsonReader::new(input) {
        let item = item.context("reading stdin")?;
        summary.read += 1;
        let (line, value) = match item {
            Ok(parsed) => parsed,
            Err(bad) => {
                log::warn!("line {}: {}", bad.line, bad.message);
                summary.rejected += 1;
                quarantine.put(entry("schema", bad.message, Some(bad.line), Value::String(bad.raw), &run_id)).await?;
                continue;
            }
        };
        match cleaner.process(value.clone()) {
            Outcome::Keep(clean) => {
                out.write(&clean).context("writing to stdout")?;
                summary.kept += 1;
            }
            Outcome::Drop { rule, reason } => {
                *summary.dropped.entry(rule).or_default() += 1;
                quarantine.put(entry(rule, reason, Some(line), value, &run_id)).await?;
            }
            Outcome::Reject { reason } => {
                log::warn!("line {line}: {reason}");
                summary.rejected += 1;
                quarantine.put(entry("schema", reason, Some(line), value, &run_id)).await?;
            }
        }
    }
    quarantine.flush().await?;
    out.finish().context("writing to stdout").map(drop)?;
    Ok(summary)
}

/// Reads the raw `trends` collection in insertion order and writes the clean stream
/// to stdout; drops go to the `quarantine` collection.
async fn from_mongo(options: Options, mongo: &Mongo) -> anyhow::Result<Status> {
    let started_at = Utc::now();
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut quarantine = Quarantine::mongo(mongo);
    let mut cleaner = Cleaner::new(options);
    let stdout = std::io::stdout();
    let mut out = NdjsonWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut cursor =
        mongo.find(mongo::TRENDS, Default::default(), mongo::bson_types::doc! { "ingested_at": 1, "_id": 1 }).await?;
    while let Some(value) = mongo::next_record(&mut cursor).await? {
        summary.read += 1;
        match cleaner.process(value.clone()) {
            Outcome::Keep(clean) => {
                out.write(&clean).context("writing to stdout")?;
                summary.kept += 1;
            }
            Outcome::Drop { rule, reason } => {
                *summary.dropped.entry(rule).or_default() += 1;
                quarantine.put(entry(rule, reason, None, value, &run_id)).await?;
            }
            Outcome::Reject { reason } => {
                log::warn!("trends document {}: {reason}", summary.read);
                summary.rejected += 1;
                quarantine.put(entry("schema", reason, None, value, &run_id)).await?;
            }
        }
    }
    quarantine.flush().await?;
    out.finish().context("writing to stdout").map(drop)?;
    report(&summary, &quarantine);
    let run = json!({
        "run_id": run_id,
        "stage": "clean",
        "mode": "mongo-to-stdout",
        "started_at": format_time(&started_at),
        "finished_at": format_time(&Utc::now()),
        "status": if summary.rejected == 0 { "ok" } else { "rejected" },
        "counts": {"read": summary.read, "kept": summary.kept, "dropped": summary.dropped, "rejected": summary.rejected},
    });
    mongo.record_run(&run).await?;
    Ok(Status { rejected: summary.rejected, failures: 0 })
}

fn entry(rule: &str, reason: String, line: Option<u64>, record: Value, run_id: &str) -> QuarantineEntry {
    QuarantineEntry {
        stage: "clean".into(),
        reason,
        rule: rule.into(),
        line,
        record,
        at: Utc::now(),
        run_id: Some(run_id.to_owned()),
    }
}

fn report(summary: &Summary, quarantine: &Quarantine<'_>) {
    let dropped: Vec<String> = summary.dropped.iter().map(|(rule, n)| format!("{n} {rule}")).collect();
    let dropped = if dropped.is_empty() { "none".to_owned() } else { dropped.join(", ") };
    log::info!(
        "read {}, kept {}, dropped {dropped}, rejected {} invalid",
        summary.read,
        summary.kept,
        summary.rejected
    );
    if quarantine.count() > 0 {
        log::info!("{} records kept with their reasons in {}", quarantine.count(), quarantine.describe());
    }
}
