//! Filter mode: NDJSON posts in, the same records out with a `sentiment` object.
//!
//! Records other than posts pass through untouched; a post without text passes
//! through without a score (and is counted), because "no text" is not "neutral".
//! A line that is not a JSON object goes to the reject file and makes the run exit 1.
//!
//! Large inputs use every core: the input is read in windows of `threads`
//! batches; while worker threads score and serialise one window (each a
//! contiguous slice of it), the calling thread reads and parses the next one,
//! and the serialised slices are written in input order. At most two windows
//! are held at a time, so memory stays bounded whatever the input size, and
//! since every record goes through the same function whichever thread runs
//! it, the output is byte-identical to a one-thread run.

use std::io::{BufRead, BufWriter, Write};

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};
use trendpipe_core::ndjson::{LineError, NdjsonReader};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::QuarantineEntry;

use crate::score::{Model, Route, Scorer, route};
use crate::vader::Scores;

/// The compound score beyond which a text is positive (or, negated, negative): the
/// thresholds VADER's authors recommend.
pub const THRESHOLD: f64 = 0.05;

/// Records per batch handed to one worker.
pub const BATCH: usize = 4096;

/// Below this many records a window is scored on the calling thread: starting
/// threads would cost more than it saves.
const MIN_PARALLEL: usize = 512;

/// A window is also closed once its texts reach this many bytes, so that a
/// run of huge posts cannot make a window of 4096 × threads huge records.
const WINDOW_BYTES: usize = 32 * 1024 * 1024;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub scored: u64,
    /// Of `scored`, posts scored by the Portuguese model.
    pub portuguese: u64,
    /// Of `scored`, posts whose `lang` was missing or had no model, scored in
    /// English.
    pub fallback: u64,
    pub without_text: u64,
    pub passed_through: u64,
    pub rejected: u64,
}

/// How the filter runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Worker threads (1: everything on the calling thread).
    pub threads: usize,
    /// Records per batch.
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { threads: 1, batch: BATCH }
    }
}

/// `positive`, `negative` or `neutral` by the ±0.05 thresholds.
pub fn label(compound: f64) -> &'static str {
    if compound >= THRESHOLD {
        "positive"
    } else if compound <= -THRESHOLD {
        "negative"
    } else {
        "neutral"
    }
}

/// The `sentiment` object of DESIGN.md.
pub fn annotation(model: &str, s: &Scores) -> Value {
    json!({
        "model": model,
        "compound": s.compound,
        "pos": s.pos,
        "neu": s.neu,
        "neg": s.neg,
        "label": label(s.compound),
    })
}

/// The counts that scoring produces, summed over workers.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    scored: u64,
    portuguese: u64,
    fallback: u64,
    without_text: u64,
    passed_through: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.scored += o.scored;
        self.portuguese += o.portuguese;
        self.fallback += o.fallback;
        self.without_text += o.without_text;
        self.passed_through += o.passed_through;
    }
}

/// Scores one record: the model and scores to add, if it is a post with text.
fn process(scorer: &Scorer, record: &Value, counts: &mut Counts) -> Option<(Model, Scores)> {
    if record.get("kind").and_then(Value::as_str) != Some("post") {
        counts.passed_through += 1;
        return None;
    }
    let Some(text) = record.get("text").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
        counts.without_text += 1;
        return None;
    };
    let r = route(scorer.routing, record.get("lang").and_then(Value::as_str));
    let model = r.model();
    let scores = scorer.score(model, text);
    counts.scored += 1;
    if model == Model::LeiaPt {
        counts.portuguese += 1;
    }
    if r == Route::Fallback {
        counts.fallback += 1;
    }
    Some((model, scores))
}

/// Writes [`annotation`]'s JSON without building it: the same keys in the
/// same order, numbers formatted by `serde_json` as for a `Value`.
fn write_annotation(out: &mut Vec<u8>, model: Model, s: &Scores) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"model\":\"");
    out.extend_from_slice(model.name().as_bytes());
    out.push(b'"');
    for (key, value) in [("compound", s.compound), ("pos", s.pos), ("neu", s.neu), ("neg", s.neg)] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *out, &value)?;
    }
    out.extend_from_slice(b",\"label\":\"");
    out.extend_from_slice(label(s.compound).as_bytes());
    out.extend_from_slice(b"\"}");
    Ok(())
}

/// Scores a slice of records and serialises them, one per line, into `bytes`.
fn process_chunk(scorer: &Scorer, records: &mut [Value], bytes: &mut Vec<u8>) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    for record in records {
        match process(scorer, record, &mut counts) {
            // The common case, a post without a `sentiment` yet: the object is
            // appended as the record's last field, exactly where inserting it
            // into the map would put it, without building a `Value` for it.
            Some((model, scores)) if record.get("sentiment").is_none() => {
                serde_json::to_writer(&mut *bytes, record).context("serialising a record")?;
                if bytes.last() == Some(&b'}') {
                    bytes.pop();
                }
                bytes.extend_from_slice(b",\"sentiment\":");
                write_annotation(bytes, model, &scores).context("serialising a record")?;
                bytes.push(b'}');
            }
            Some((model, scores)) => {
                record["sentiment"] = annotation(model.name(), &scores);
                serde_json::to_writer(&mut *bytes, record).context("serialising a record")?;
            }
            None => serde_json::to_writer(&mut *bytes, record).context("serialising a record")?,
        }
        bytes.push(b'\n');
        // Freed at once, while its memory is still in cache, rather than with
        // the whole window: glibc's allocator spends a fifth of the run
        // consolidating when thousands of records are freed together.
        *record = Value::Null;
    }
    Ok(counts)
}

/// Lines read for one round of scoring.
#[derive(Default)]
struct Window {
    records: Vec<Value>,
    bad: Vec<LineError>,
    read: u64,
    /// The input is exhausted.
    done: bool,
}

/// Reads up to `max_records` lines into `records` (emptied, its capacity
/// reused: large buffers freed and reallocated every window cost glibc a
/// consolidation pass each time).
fn read_window<R: BufRead>(
    reader: &mut NdjsonReader<R>,
    max_records: usize,
    mut records: Vec<Value>,
) -> anyhow::Result<Window> {
    records.clear();
    let mut w = Window { records, ..Window::default() };
    let mut bytes = 0usize;
    while w.records.len() + w.bad.len() < max_records && bytes < WINDOW_BYTES {
        let Some(item) = reader.next() else {
            w.done = true;
            break;
        };
        w.read += 1;
        match item.context("reading stdin")? {
            Ok((_, record)) => {
                bytes += record.get("text").and_then(Value::as_str).map_or(0, str::len) + 64;
                w.records.push(record);
            }
            Err(bad) => w.bad.push(bad),
        }
    }
    Ok(w)
}

/// Scores `records` on up to `buffers.len()` scoped threads, each
/// serialising its contiguous slice into its own buffer, while `meanwhile`
/// runs on this one. Returns how many buffers were filled, in input order.
fn score_window<T>(
    scorer: &Scorer,
    records: &mut [Value],
    buffers: &mut [Vec<u8>],
    meanwhile: impl FnOnce() -> T,
) -> (anyhow::Result<(usize, Counts)>, T) {
    let workers = buffers.len().min(records.len().div_ceil(MIN_PARALLEL)).max(1);
    let Some(first) = buffers.first_mut() else {
        return (Err(anyhow::anyhow!("no output buffer")), meanwhile());
    };
    if workers <= 1 {
        let scored = process_chunk(scorer, records, first).map(|c| (1, c));
        return (scored, meanwhile());
    }
    let chunk = records.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks_mut(chunk)
            .zip(buffers.iter_mut())
            .map(|(slice, buffer)| s.spawn(move || process_chunk(scorer, slice, buffer)))
            .collect();
        let other = meanwhile();
        let filled = handles.len();
        let mut total = Counts::default();
        let mut result = Ok(());
        for h in handles {
            match h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a scoring thread failed"))) {
                Ok(c) => total.add(c),
                Err(e) => result = Err(e),
            }
        }
        (result.map(|()| (filled, total)), other)
    })
}

/// Scores every post of `input` and writes the records to `output`.
pub async fn filter(
    scorer: &Scorer,
    options: Options,
    input: impl BufRead,
    output: impl Write,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let threads = options.threads.max(1);
    let window_records = options.batch.max(1).saturating_mul(threads);
    let mut reader = NdjsonReader::new(input);
    let mut out = BufWriter::with_capacity(64 * 1024, output);
    let mut summary = Summary::default();
    let mut counts = Counts::default();
    let mut current = read_window(&mut reader, window_records, Vec::new())?;
    let mut spare = Vec::new();
    let mut buffers = vec![Vec::new(); threads];
    loop {
        summary.read += current.read;
        for bad in std::mem::take(&mut current.bad) {
            log::warn!("line {}: {}", bad.line, bad.message);
            summary.rejected += 1;
            quarantine
                .put(QuarantineEntry {
                    stage: "sentiment".into(),
                    rule: "schema".into(),
                    reason: bad.message,
                    line: Some(bad.line),
                    record: Value::String(bad.raw),
                    at: Utc::now(),
                    run_id: None,
                })
                .await?;
        }
        if current.records.is_empty() && current.done {
            break;
        }
        let done = current.done;
        let recycled = std::mem::take(&mut spare);
        let (scored, next) = score_window(scorer, &mut current.records, &mut buffers, || {
            if done {
                Ok(Window { done: true, ..Window::default() })
            } else {
                read_window(&mut reader, window_records, recycled)
            }
        });
        let (filled, c) = scored?;
        counts.add(c);
        for buffer in &mut buffers[..filled] {
            out.write_all(buffer).context("writing to stdout")?;
            buffer.clear();
        }
        spare = std::mem::replace(&mut current, next?).records;
    }
    quarantine.flush().await?;
    out.flush().context("writing to stdout")?;
    summary.scored = counts.scored;
    summary.portuguese = counts.portuguese;
    summary.fallback = counts.fallback;
    summary.without_text = counts.without_text;
    summary.passed_through = counts.passed_through;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_thresholds() {
        assert_eq!(label(0.05), "positive");
        assert_eq!(label(0.0499), "neutral");
        assert_eq!(label(-0.05), "negative");
        assert_eq!(label(-0.0499), "neutral");
    }

    #[tokio::test]
    async fn posts_are_scored_and_other_records_pass() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::file(dir.path().join("r.ndjson"));
        let input = concat!(
            r#"{"kind":"post","source":"x","id":"1","text":"I love this, it is GREAT!","lang":"en"}"#,
            "\n",
            r#"{"kind":"post","source":"x","id":"2","text":null}"#,
            "\n",
            r#"{"kind":"trend","source":"x","name":"A"}"#,
            "\n",
            "not json\n",
        );
        let mut out = Vec::new();
        let scorer = Scorer::default();
        let analyzer = &scorer.english;
        let s = filter(&scorer, Options::default(), input.as_bytes(), &mut out, &mut q).await.unwrap();
        assert_eq!(
            s,
            Summary { read: 4, scored: 1, portuguese: 0, fallback: 0, without_text: 1, passed_through: 1, rejected: 1 }
        );
        let lines: Vec<Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        let expected = analyzer.polarity_scores("I love this, it is GREAT!");
        assert_eq!(lines[0]["sentiment"]["compound"], expected.compound);
        assert_eq!(lines[0]["sentiment"]["label"], "positive");
        assert_eq!(lines[0]["sentiment"]["model"], "vader-en");
        assert!(lines[1].get("sentiment").is_none());
        assert!(lines[2].get("sentiment").is_none());
    }

    /// A mixed input of `n` lines: posts in several languages, posts without
    /// text, other records, bad lines and an occasional long post.
    fn mixed_input(n: usize) -> String {
        let langs = ["en", "pt", "pt-BR", "es", "", "null"];
        let texts = [
            "I love this, it is GREAT!",
            "Eu não estou feliz, mas o show foi EXTREMAMENTE bom!!",
            "terrible :( but ok",
            "raramente bom. Que dia horrível!!! 😀",
        ];
        let mut out = String::new();
        for i in 0..n {
            let lang = langs[i % langs.len()];
            let lang = if lang == "null" { "null".to_owned() } else { format!("{lang:?}") };
            let text = if i % 997 == 0 { texts[i % 4].repeat(200) } else { format!("{} #{i}", texts[i % 4]) };
            match i % 50 {
                7 => out.push_str("{not json\n"),
                13 => out.push_str(&format!("{{\"kind\":\"post\",\"id\":\"{i}\",\"text\":null}}\n")),
                21 => out.push_str(&format!("{{\"kind\":\"trend\",\"name\":\"t{i}\"}}\n")),
                _ => out.push_str(&format!(
                    "{{\"kind\":\"post\",\"id\":\"{i}\",\"lang\":{lang},\"text\":{}}}\n",
                    serde_json::to_string(&text).unwrap()
                )),
            }
        }
        out
    }

    async fn run_with(scorer: &Scorer, options: Options, input: &str) -> (Summary, Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let reject = dir.path().join("r.ndjson");
        let mut q = Quarantine::file(&reject);
        let mut out = Vec::new();
        let s = filter(scorer, options, input.as_bytes(), &mut out, &mut q).await.unwrap();
        // Quarantine entries carry the time they were made: compare the rest.
        let rejects: Vec<u8> = std::fs::read_to_string(&reject)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("at");
                v.to_string() + "\n"
            })
            .collect::<String>()
            .into_bytes();
        (s, out, rejects)
    }

    #[tokio::test]
    async fn parallel_output_is_byte_identical_to_sequential() {
        let input = mixed_input(20_000);
        for split_sentences in [false, true] {
            let scorer = Scorer { split_sentences, ..Scorer::default() };
            let (s1, out1, rej1) = run_with(&scorer, Options { threads: 1, batch: BATCH }, &input).await;
            assert_eq!(s1.read, 20_000);
            assert_eq!(s1.rejected, 400);
            assert!(s1.portuguese > 6000 && s1.fallback > 9000, "{s1:?}");
            // Small batches force many windows, uneven chunks and a short last one.
            for (threads, batch) in [(2, 1000), (4, 777), (3, BATCH)] {
                let (s, out, rej) = run_with(&scorer, Options { threads, batch }, &input).await;
                assert_eq!(s, s1, "threads {threads}, batch {batch}");
                assert!(out == out1, "threads {threads}, batch {batch}: output differs");
                assert_eq!(rej, rej1);
            }
        }
    }

    #[tokio::test]
    async fn posts_are_routed_by_lang() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::file(dir.path().join("r.ndjson"));
        let input = concat!(
            r#"{"kind":"post","text":"Eu estou feliz","lang":"pt-BR"}"#,
            "\n",
            r#"{"kind":"post","text":"Eu estou feliz","lang":"en"}"#,
            "\n",
            r#"{"kind":"post","text":"Eu estou feliz","lang":"fr"}"#,
            "\n",
            r#"{"kind":"post","text":"Eu estou feliz"}"#,
            "\n",
        );
        let mut out = Vec::new();
        let scorer = Scorer::default();
        let s = filter(&scorer, Options::default(), input.as_bytes(), &mut out, &mut q).await.unwrap();
        assert_eq!((s.scored, s.portuguese, s.fallback), (4, 1, 2));
        let lines: Vec<Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let models: Vec<&str> = lines.iter().map(|l| l["sentiment"]["model"].as_str().unwrap()).collect();
        assert_eq!(models, ["leia-pt", "vader-en", "vader-en", "vader-en"]);
        // LeIA's README value for this sentence.
        assert_eq!(lines[0]["sentiment"]["compound"], 0.6249);
    }

    #[test]
    fn written_annotation_equals_the_value() {
        let cases = [
            Scores { neg: 0.0, neu: 1.0, pos: 0.0, compound: 0.0 },
            Scores { neg: 0.265, neu: 0.241, pos: 0.494, compound: 0.4404 },
            Scores { neg: 1.0, neu: 0.0, pos: 0.0, compound: -0.9999 },
            Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: -0.0 },
            Scores { neg: 0.123, neu: 0.456, pos: 0.421, compound: 1e-4 },
        ];
        for model in [Model::VaderEn, Model::LeiaPt] {
            for s in &cases {
                let mut written = Vec::new();
                write_annotation(&mut written, model, s).unwrap();
                assert_eq!(String::from_utf8(written).unwrap(), annotation(model.name(), s).to_string());
            }
        }
    }

    #[tokio::test]
    async fn an_existing_sentiment_is_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::file(dir.path().join("r.ndjson"));
        let input = r#"{"kind":"post","sentiment":{"old":1},"text":"good","z":2}"#;
        let mut out = Vec::new();
        filter(&Scorer::default(), Options::default(), input.as_bytes(), &mut out, &mut q).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(r#"{"kind":"post","sentiment":{"model":"vader-en","compound":0.4404,"#), "{text}");
        assert!(text.ends_with("\"label\":\"positive\"},\"text\":\"good\",\"z\":2}\n"), "{text}");
    }
}
