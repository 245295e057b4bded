//! `clean`: validates, normalises, drops null volumes and duplicates, and loses
//! nothing.
//!
//! Filter mode reads NDJSON on stdin and writes the clean records on stdout, one line
//! at a time. `--from mongo` reads the raw `trends` collection instead, and
//! `--from mongo --to mongo` cleans the `trends` and `posts` collections in place (see
//! [`inplace`]). Every record that does not come out goes to the quarantine (a reject
//! file, or MongoDB's `quarantine` collection when reading from MongoDB) with its
//! reason.

pub mod identity;
pub mod inplace;
mod inplace_counts;
pub mod pipeline;
pub mod prepare;
pub mod rule;
pub mod stream;

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use serde_json::{Value, json};
use trendpipe_core::args::{ConfigArgs, From, MongoArgs, RejectArgs, SummaryArgs, To};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::mongo::{self, Mongo};
use trendpipe_core::quarantine::{EntryHead, Quarantine};
use trendpipe_core::record::{QuarantineEntry, format_time};

use crate::pipeline::{Batch, Pipeline};
use crate::prepare::AsRead;
use crate::rule::{Options, Rule};
use crate::stream::{Changes, Cleaner, Event};

/// Cleans raw trend and post records: validates, normalises, drops null volumes,
/// duplicates and provider fields, flags global volumes; every dropped record is kept
/// in a quarantine with its reason.
#[derive(Debug, Parser)]
#[command(name = "clean", version, about, long_about = None)]
pub struct Args {
    /// Where the raw records come from: NDJSON on stdin, or MongoDB's `trends`
    /// collection (MONGODB_URI).
    #[arg(long, value_enum, default_value_t = From::Stdin)]
    pub from: From,

    /// Where the clean records go: NDJSON on stdout, or back into MongoDB (in place,
    /// `trends` and `posts`; needs `--from mongo`).
    #[arg(long, value_enum, default_value_t = To::Stdout)]
    pub to: To,

    #[command(flatten)]
    pub reject: RejectArgs,

    /// Pass records of the wrong shape through untouched instead of rejecting them
    /// (lines that are not JSON are still rejected).
    #[arg(long)]
    pub no_validate: bool,

    /// Keep trend observations that have no volume.
    #[arg(long)]
    pub keep_null_volume: bool,

    /// Write records as read instead of normalised (trimmed names, recomputed keys,
    /// UTC times, numbers for counts given as strings, HTML entities decoded in post
    /// text). Duplicates are still found by the normalised values.
    #[arg(long)]
    pub no_normalise: bool,

    /// Keep repeated observations of the same trend, place and time, and repeated
    /// copies of the same post.
    #[arg(long)]
    pub no_dedupe: bool,

    /// Keep the provider fields no stage reads (by default a clean record keeps only
    /// the fields of the records in docs/ARCHITECTURE.md; the raw store keeps
    /// everything).
    #[arg(long)]
    pub keep_extra_fields: bool,

    /// Do not flag trends whose key has the same volume in several places of one
    /// snapshot with `"volume_scope": "global"`.
    #[arg(long)]
    pub no_global_volume: bool,

    /// How many kept records wait before being written (filter mode), so that a later
    /// place can flag a global volume and a later copy of a post can replace an earlier
    /// one. Also bounded to 2 MiB of input.
    #[arg(long, value_name = "RECORDS", default_value_t = 4096)]
    pub window: usize,

    /// How many record identities the dedupe remembers (as 128-bit hashes, in two
    /// generations of this size; ~9 MB at the default). A duplicate further back than
    /// that is written again, and stored once downstream by the unique keys.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub dedupe_memory: usize,

    /// Documents per batch of quarantine inserts and deletes (`--to mongo`).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub batch_size: usize,

    #[command(flatten)]
    pub mongo: MongoArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

impl Args {
    pub fn options(&self) -> Options {
        Options {
            validate: !self.no_validate,
            keep_null_volume: self.keep_null_volume,
            normalise: !self.no_normalise,
            dedupe: !self.no_dedupe,
            strip_extra: !self.keep_extra_fields,
            flag_global: !self.no_global_volume,
            window: self.window.max(1),
            dedupe_memory: self.dedupe_memory.max(1),
        }
    }
}

/// What a run did, for the summary and the `runs` document.
#[derive(Debug, Default)]
pub struct Summary {
    pub read: u64,
    pub kept: u64,
    pub dropped: BTreeMap<&'static str, u64>,
    pub rejected: u64,
    pub changes: Changes,
}

impl Summary {
    /// The counts of the `runs` document.
    pub fn counts(&self) -> Value {
        let c = &self.changes;
        json!({
            "read": self.read, "kept": self.kept, "dropped": self.dropped, "rejected": self.rejected,
            "changed": {Rule::Normalise.name(): c.normalised, Rule::ExtraFields.name(): c.stripped,
                        Rule::GlobalVolume.name(): c.global_volume, "post-updates": c.post_updates,
                        "unvalidated": c.unvalidated},
        })
    }
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let options = args.options();
    let config = args.config.load()?;
    match (args.from, args.to) {
        (From::Stdin, To::Stdout) => {
            let mut quarantine = Quarantine::file(args.reject.path("clean"));
            // Read on a thread of the pipeline: large reads, past stdin's own small buffer.
            let stdin = std::io::BufReader::with_capacity(256 * 1024, std::io::stdin());
            let stdout = std::io::stdout();
            let summary = filter(options, stdin, stdout.lock(), &mut quarantine).await?;
            report(&summary, &quarantine);
            Ok(Status { rejected: summary.rejected, ..Status::ok() })
        }
        (From::Stdin, To::Mongo) => {
            Err(Error::Usage("--to mongo cleans MongoDB in place and needs --from mongo".into()).into())
        }
        (From::Mongo, to) => {
            let mongo = config.mongo(&args.mongo, "clean").await?;
            let result = match to {
                To::Stdout => from_mongo(options, &mongo).await,
                To::Mongo => inplace::run(options, args.batch_size.max(1), &mongo).await,
            };
            mongo.shutdown().await;
            result
        }
    }
}

/// Filter mode: NDJSON in, clean NDJSON out, drops to the quarantine. Lines are
/// prepared on other threads (see [`pipeline`]); the rules that need the stream run
/// here, in input order.
pub async fn filter(
    options: Options,
    input: impl BufRead + Send + 'static,
    output: impl Write,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut cleaner = Cleaner::new(options);
    let mut out = BufWriter::with_capacity(64 * 1024, output);
    let mut summary = Summary::default();
    let run_id = uuid::Uuid::new_v4().to_string();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut pipeline =
        Pipeline::start(options, input, workers, pipeline::BATCH_LINES).context("starting the reading threads")?;
    while let Some(mut batch) = pipeline.next_batch() {
        let Batch { text, heads, entries, error, .. } = &mut batch;
        for prepared in entries.drain(..) {
            summary.read += 1;
            match prepared.item {
                Ok(ready) => {
                    let line_text = text.get(prepared.text).unwrap_or_default();
                    cleaner.push_ready(Some(prepared.line), prepared.bytes, ready, Some(line_text), heads);
                }
                Err(bad) => {
                    log::warn!("line {}: {}", bad.line, bad.message);
                    summary.rejected += 1;
                    let record = Value::String(bad.raw);
                    quarantine.put(entry(Rule::Schema, bad.message, Some(bad.line), record, &run_id)).await?;
                }
            }
            // Clean records are written here, synchronously: building the future of
            // `drain` (which holds the quarantine's, MongoDB's included) for every line
            // cost more than the rules. Only a record for the quarantine needs it.
            write_ready(&mut cleaner, &mut out, &mut summary)?;
            if cleaner.has_events() {
                drain(&mut cleaner, &mut out, &mut summary, quarantine, &run_id).await?;
            }
        }
        if let Some(e) = error.take() {
            return Err(e).context("reading stdin");
        }
        pipeline.recycle(batch);
    }
    pipeline.finish()?;
    cleaner.finish();
    drain(&mut cleaner, &mut out, &mut summary, quarantine, &run_id).await?;
    summary.changes = cleaner.changes();
    quarantine.flush().await?;
    out.flush().context("writing to stdout")?;
    Ok(summary)
}

/// Writes the clean records at the front of the cleaner's events.
fn write_ready<W: Write>(cleaner: &mut Cleaner, out: &mut W, summary: &mut Summary) -> anyhow::Result<()> {
    while let Some(clean) = cleaner.next_write() {
        clean.write_json(out).and_then(|()| out.write_all(b"\n")).context("writing to stdout")?;
        summary.kept += 1;
    }
    Ok(())
}

async fn drain<W: Write>(
    cleaner: &mut Cleaner,
    out: &mut W,
    summary: &mut Summary,
    quarantine: &mut Quarantine<'_>,
    run_id: &str,
) -> anyhow::Result<()> {
    while let Some(event) = cleaner.next_event() {
        match event {
            Event::Write(clean) => {
                clean.write_json(out).and_then(|()| out.write_all(b"\n")).context("writing to stdout")?;
                summary.kept += 1;
            }
            Event::Drop { rule, reason, line, record } => {
                *summary.dropped.entry(rule.name()).or_default() += 1;
                keep(quarantine, rule, reason, line, record, run_id).await?;
            }
            Event::Reject { reason, line, record } => {
                match line {
                    Some(line) => log::warn!("line {line}: {reason}"),
                    None => log::warn!("record {}: {reason}", summary.read),
                }
                summary.rejected += 1;
                keep(quarantine, Rule::Schema, reason, line, record, run_id).await?;
            }
            Event::Broken { reason, line, record } => {
                let at = line.map_or_else(|| format!("record {}", summary.read), |line| format!("line {line}"));
                keep(quarantine, Rule::Internal, reason.clone(), line, record, run_id).await?;
                // What was written so far stays written; the run stops here.
                quarantine.flush().await?;
                out.flush().context("writing to stdout")?;
                anyhow::bail!("{at}: {reason}; the record is kept in {}", quarantine.describe());
            }
        }
    }
    Ok(())
}

/// Keeps a record taken out of the stream in the quarantine, as read.
async fn keep(
    quarantine: &mut Quarantine<'_>,
    rule: Rule,
    reason: String,
    line: Option<u64>,
    record: AsRead,
    run_id: &str,
) -> anyhow::Result<()> {
    match record {
        AsRead::Value(record) => quarantine.put(entry(rule, reason, line, record, run_id)).await,
        AsRead::Raw(json) => {
            let (reason, rule, run_id) = (reason.as_str(), rule.name(), Some(run_id));
            let head = EntryHead { stage: "clean", reason, rule, line, at: Utc::now(), run_id };
            quarantine.put_json(head, &json).await
        }
    }
}

/// Reads the raw `trends` collection in insertion order and writes the clean stream
/// to stdout; drops go to the `quarantine` collection.
async fn from_mongo(options: Options, mongo: &Mongo) -> anyhow::Result<Status> {
    let started_at = Utc::now();
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut quarantine = Quarantine::mongo(mongo);
    let mut cleaner = Cleaner::new(options);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut summary = Summary::default();
    let mut cursor =
        mongo.find(mongo::TRENDS, Default::default(), mongo::bson_types::doc! { "ingested_at": 1, "_id": 1 }).await?;
    while let Some(value) = mongo::next_record(&mut cursor).await? {
        summary.read += 1;
        // Documents carry no line; their size in the window is estimated from JSON.
        cleaner.push(None, 512, value);
        drain(&mut cleaner, &mut out, &mut summary, &mut quarantine, &run_id).await?;
    }
    cleaner.finish();
    drain(&mut cleaner, &mut out, &mut summary, &mut quarantine, &run_id).await?;
    summary.changes = cleaner.changes();
    quarantine.flush().await?;
    out.flush().context("writing to stdout")?;
    report(&summary, &quarantine);
    let run = json!({
        "run_id": run_id,
        "stage": "clean",
        "mode": "mongo-to-stdout",
        "started_at": format_time(&started_at),
        "finished_at": format_time(&Utc::now()),
        "status": if summary.rejected == 0 { "ok" } else { "rejected" },
        "counts": summary.counts(),
    });
    mongo.record_run(&run).await?;
    Ok(Status { rejected: summary.rejected, ..Status::ok() })
}

fn entry(rule: Rule, reason: String, line: Option<u64>, record: Value, run_id: &str) -> QuarantineEntry {
    QuarantineEntry {
        stage: "clean".into(),
        reason,
        rule: rule.name().into(),
        line,
        record,
        at: Utc::now(),
        run_id: Some(run_id.to_owned()),
    }
}

/// The summary line on stderr.
pub fn summary_line(summary: &Summary) -> String {
    let dropped: Vec<String> = summary.dropped.iter().map(|(rule, n)| format!("{n} {rule}")).collect();
    let dropped = if dropped.is_empty() { "none".to_owned() } else { dropped.join(", ") };
    let c = &summary.changes;
    format!(
        "read {}, kept {}, dropped {dropped}, rejected {} invalid; changed {} {}, {} {}, {} {}, {} post-updates{}",
        summary.read,
        summary.kept,
        summary.rejected,
        c.normalised,
        Rule::Normalise,
        c.stripped,
        Rule::ExtraFields,
        c.global_volume,
        Rule::GlobalVolume,
        c.post_updates,
        if c.unvalidated > 0 { format!(", {} unvalidated", c.unvalidated) } else { String::new() }
    )
}

fn report(summary: &Summary, quarantine: &Quarantine<'_>) {
    log::info!("{}", summary_line(summary));
    if quarantine.count() > 0 {
        log::info!("{} records kept with their reasons in {}", quarantine.count(), quarantine.describe());
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod filter_tests {
    use super::*;
    use trendpipe_core::ndjson::NdjsonReader;

    use crate::prepare::Preparer;

    /// An input with every kind of line the filter meets, in a few thousand lines.
    fn input() -> String {
        let mut input = String::new();
        for i in 0..4000 {
            let at = format!("2026-11-22T0{}:30:00Z", (i / 500) % 10);
            let line = match i % 13 {
                0 => format!(
                    r#"{{"kind":"post","source":"m","id":"{}","text":"a &amp; b","observed_at":"{at}","metrics":{{"likes":"{}"}}}}"#,
                    i % 40,
                    i % 9
                ),
                1 => "not json".to_owned(),
                2 => String::new(),
                3 => format!(
                    r#"{{"kind":"trend","source":"x","place":{{"id":"1"}},"name":"T{i}","volume":null,"observed_at":"{at}"}}"#
                ),
                4 => r#"{"kind":"tweet"}"#.to_owned(),
                5 => format!(
                    r#"{{"kind":"trend","source":"x","place":{{"id":"2"}},"name":"D","volume":1.5,"observed_at":"{at}"}}"#
                ),
                _ => format!(
                    r#"{{"kind": "trend", "source": "x", "place": {{"id": {}, "name": "P"}}, "name": "Fé  {}", "volume": "1,{:03}", "rank": {}, "observed_at": "{at}", "url": "u", "volume_scope": "local"}}"#,
                    i % 4,
                    i % 30,
                    i % 7,
                    i % 50 + 1
                ),
            };
            input.push_str(&line);
            input.push('\n');
        }
        input
    }

    /// Events in words, as the reject file says them.
    fn words(rule: &str, reason: &str, line: Option<u64>, record: &str) -> String {
        format!("{rule} {reason} {line:?} {record}")
    }

    /// Filter mode on one thread: each line prepared then pushed, in order.
    fn sequential(options: Options, input: &str) -> (Vec<u8>, Vec<String>) {
        let mut cleaner = Cleaner::new(options);
        let mut preparer = Preparer::new(options);
        let (mut out, mut quarantined) = (Vec::new(), Vec::new());
        let mut reader = NdjsonReader::new(input.as_bytes());
        let drain = |c: &mut Cleaner, out: &mut Vec<u8>, quarantined: &mut Vec<String>| {
            while let Some(event) = c.next_event() {
                match event {
                    Event::Write(clean) => {
                        clean.write_json(out).unwrap();
                        out.push(b'\n');
                    }
                    Event::Drop { rule, reason, line, record } => {
                        quarantined.push(words(rule.name(), &reason, line, &record.to_string()))
                    }
                    Event::Reject { reason, line, record } => {
                        quarantined.push(words("schema", &reason, line, &record.to_string()))
                    }
                    Event::Broken { .. } => panic!("{event:?}"),
                }
            }
        };
        while let Some(raw) = reader.next_raw().unwrap() {
            let mut heads = Vec::new();
            match raw.text {
                Ok(text) => match preparer.prepare(raw.line, text, &mut heads) {
                    Ok(ready) => {
                        cleaner.push_ready(Some(raw.line), raw.bytes, ready, Some(text), &std::sync::Arc::new(heads))
                    }
                    Err(bad) => {
                        quarantined.push(words("schema", &bad.message, Some(bad.line), &json!(bad.raw).to_string()))
                    }
                },
                Err(bad) => {
                    quarantined.push(words("schema", &bad.message, Some(bad.line), &json!(bad.raw).to_string()))
                }
            }
            drain(&mut cleaner, &mut out, &mut quarantined);
        }
        cleaner.finish();
        drain(&mut cleaner, &mut out, &mut quarantined);
        (out, quarantined)
    }

    fn threaded(options: Options, input: &str) -> (Vec<u8>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.ndjson");
        let mut quarantine = Quarantine::file(&path);
        let mut out = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let input = std::io::Cursor::new(input.as_bytes().to_vec());
        runtime.block_on(filter(options, input, &mut out, &mut quarantine)).unwrap();
        let rejects = std::fs::read_to_string(&path).unwrap_or_default();
        let quarantined = rejects
            .lines()
            .map(|l| {
                let e: Value = serde_json::from_str(l).unwrap();
                let record = l.split_once(r#""record":"#).unwrap().1;
                let record = record.rsplit_once(r#","at":"#).unwrap().0;
                words(e["rule"].as_str().unwrap(), e["reason"].as_str().unwrap(), e["line"].as_u64(), record)
            })
            .collect();
        (out, quarantined)
    }

    #[test]
    fn the_threaded_filter_writes_what_one_thread_writes() {
        let input = input();
        for options in [
            Options::default(),
            Options { window: 7, dedupe_memory: 50, ..Options::default() },
            Options { keep_null_volume: true, flag_global: false, ..Options::default() },
            Options { strip_extra: false, ..Options::default() },
        ] {
            let (out, quarantined) = threaded(options, &input);
            let (expected_out, expected_quarantined) = sequential(options, &input);
            assert!(out.len() > 50_000 && quarantined.len() > 500, "{} {}", out.len(), quarantined.len());
            assert!(out == expected_out, "stdout differs with {options:?}");
            assert_eq!(quarantined, expected_quarantined, "{options:?}");
        }
    }

    #[test]
    fn a_dropped_line_is_quarantined_as_the_bytes_read() {
        let line = r#"  {"kind": "trend", "source": "x", "place": {"id": "1"}, "name": "Caf\u00e9", "volume": null, "observed_at": "2026-11-22T01:30:00Z", "n": 1.0e3}  "#;
        let (_, quarantined) = threaded(Options::default(), &format!("{line}\n"));
        assert_eq!(quarantined, [words("null-volume", rule::NULL_VOLUME, Some(1), line.trim())]);
    }

    #[test]
    fn a_broken_window_fails_the_run_and_keeps_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.ndjson");
        let mut quarantine = Quarantine::file(&path);
        let mut cleaner = Cleaner::new(Options::default());
        let post = |likes: u64| json!({"kind":"post","source":"m","id":"1","observed_at":"2026-11-22T01:30:00Z","metrics":{"likes":likes}});
        cleaner.push(Some(1), 100, post(1));
        cleaner.break_the_post_index();
        cleaner.push(Some(2), 100, post(2));
        let (mut out, mut summary) = (Vec::new(), Summary::default());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = runtime.block_on(drain(&mut cleaner, &mut out, &mut summary, &mut quarantine, "run"));
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.starts_with("line 2: internal error: post m/1 is listed as waiting"), "{err}");
        let rejects = std::fs::read_to_string(&path).unwrap();
        let entry: Value = serde_json::from_str(rejects.trim()).unwrap();
        assert_eq!((&entry["rule"], &entry["line"], &entry["record"]), (&json!("internal-error"), &json!(2), &post(2)));
    }
}
