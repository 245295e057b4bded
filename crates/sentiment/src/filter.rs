//! Filter mode: NDJSON posts in, the same records out with a `sentiment` object.
//!
//! Records other than posts pass through untouched; a post without text passes
//! through without a score (and is counted), because "no text" is not "neutral".
//! A line that is not a JSON object goes to the reject file and makes the run exit 1.
//!
//! Each line is read only for the fields scoring needs (`kind`, `text`, `lang`,
//! borrowed from the line when they hold no escapes) and written back as the
//! bytes it came as: a scored post gains its `sentiment` object, serialised by
//! serde_json, spliced in before the line's final `}`; one that already had a
//! `sentiment` has that value replaced where it stands. Nothing else of the
//! record is parsed into values or written again.
//!
//! Large inputs use every core: the input is read in windows of `threads`
//! batches of lines; while worker threads score one window (each a contiguous
//! slice of it, into its own buffer), the calling thread reads the next one,
//! and the buffers are written in input order. At most two windows are held at
//! a time, so memory stays bounded whatever the input size, and since every
//! line goes through the same function whichever thread runs it, the output is
//! byte-identical to a one-thread run.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufWriter, Write};
use std::ops::Range;

use anyhow::Context;
use chrono::Utc;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use trendpipe_core::ndjson::{LineError, NdjsonReader, parse_object};
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

/// A window is also closed once its lines reach this many bytes, so that a
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

/// The `sentiment` object of a post record (see docs/ARCHITECTURE.md), in the
/// order its fields are written.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Annotation<'a> {
    pub model: &'a str,
    pub compound: f64,
    pub pos: f64,
    pub neu: f64,
    pub neg: f64,
    pub label: &'a str,
}

impl Annotation<'static> {
    pub fn new(model: Model, s: &Scores) -> Self {
        Self { model: model.name(), compound: s.compound, pos: s.pos, neu: s.neu, neg: s.neg, label: label(s.compound) }
    }
}

/// A string field as the line holds it: borrowed when it has no escapes.
/// Anything but a string reads as `None`, as the rules treat a `text` or
/// `lang` that is not a string like a missing one.
struct Str<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Str(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Str(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the filter reads of a record. A key given twice counts by its last
/// value, as it did when records were read into maps; every `sentiment` value
/// is replaced.
#[derive(Default)]
struct Fields<'a> {
    kind: Option<Cow<'a, str>>,
    text: Option<Cow<'a, str>>,
    lang: Option<Cow<'a, str>>,
    /// The existing `sentiment` values, as slices of the line.
    sentiment: Vec<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Fields::default();
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    match key.as_deref() {
                        Some("kind") => out.kind = map.next_value::<Str<'de>>()?.0,
                        Some("text") => out.text = map.next_value::<Str<'de>>()?.0,
                        Some("lang") => out.lang = map.next_value::<Str<'de>>()?.0,
                        Some("sentiment") => out.sentiment.push(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
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
fn process(scorer: &Scorer, record: &Fields<'_>, counts: &mut Counts) -> Option<(Model, Scores)> {
    if record.kind.as_deref() != Some("post") {
        counts.passed_through += 1;
        return None;
    }
    let Some(text) = record.text.as_deref().filter(|t| !t.trim().is_empty()) else {
        counts.without_text += 1;
        return None;
    };
    let r = route(scorer.routing, record.lang.as_deref());
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

/// Why a line is not a record: the reader's own words (the same as for every
/// stage), else serde_json's.
fn not_a_record(line: u64, text: &str, e: serde_json::Error) -> LineError {
    match parse_object(line, text) {
        Err(bad) => bad,
        Ok(_) => LineError { line, message: format!("invalid JSON: {e}"), raw: text.chars().take(4096).collect() },
    }
}

/// Writes one input line to `out`, with the `sentiment` object if it is a
/// post with text; a line that is not a JSON object is returned instead.
fn process_line(
    scorer: &Scorer,
    line: u64,
    text: &str,
    out: &mut Vec<u8>,
    counts: &mut Counts,
) -> anyhow::Result<Result<(), LineError>> {
    let fields: Fields<'_> = match serde_json::from_str(text) {
        Ok(fields) => fields,
        Err(e) => return Ok(Err(not_a_record(line, text, e))),
    };
    let Some((model, scores)) = process(scorer, &fields, counts) else {
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
        return Ok(Ok(()));
    };
    let annotation = Annotation::new(model, &scores);
    let broken = || format!("line {line}: the record read as an object but its text does not end like one");
    if fields.sentiment.is_empty() {
        // Valid JSON: only white space may follow the object's closing brace.
        let body = text
            .trim_end_matches([' ', '\t', '\r', '\n'])
            .strip_suffix('}')
            .ok_or_else(|| anyhow::anyhow!(broken()))?;
        out.extend_from_slice(body.as_bytes());
        // A post has a `kind`: the object has a member before this one.
        out.extend_from_slice(b",\"sentiment\":");
        serde_json::to_writer(&mut *out, &annotation).context("serialising a sentiment")?;
        out.push(b'}');
    } else {
        let mut done = 0;
        for old in &fields.sentiment {
            let span = span_in(text, old.get()).ok_or_else(|| anyhow::anyhow!(broken()))?;
            out.extend_from_slice(&text.as_bytes()[done..span.start]);
            serde_json::to_writer(&mut *out, &annotation).context("serialising a sentiment")?;
            done = span.end;
        }
        out.extend_from_slice(&text.as_bytes()[done..]);
    }
    out.push(b'\n');
    Ok(Ok(()))
}

/// Where `part`, a slice of `text` (a value serde_json borrowed from it), lies
/// in it.
fn span_in(text: &str, part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start + part.len();
    (end <= text.len()).then_some(start..end)
}

/// What a worker made of its slice of a window.
#[derive(Default)]
struct Done {
    counts: Counts,
    rejects: Vec<LineError>,
}

/// Scores a slice of lines (each its number and range in `text`) into `bytes`.
fn process_chunk(
    scorer: &Scorer,
    text: &str,
    lines: &[(u64, Range<usize>)],
    bytes: &mut Vec<u8>,
) -> anyhow::Result<Done> {
    let mut done = Done::default();
    for (line, range) in lines {
        let record =
            text.get(range.clone()).ok_or_else(|| anyhow::anyhow!("line {line}: lost its place in the window"))?;
        if let Err(bad) = process_line(scorer, *line, record, bytes, &mut done.counts)? {
            done.rejects.push(bad);
        }
    }
    Ok(done)
}

/// Lines read for one round of scoring: their text end to end, and each one's
/// number and place in it.
#[derive(Default)]
struct Window {
    text: String,
    lines: Vec<(u64, Range<usize>)>,
    bad: Vec<LineError>,
    read: u64,
    /// The input is exhausted.
    done: bool,
}

/// Reads up to `max_records` lines into `into` (emptied, its buffers reused).
fn read_window<R: BufRead>(
    reader: &mut NdjsonReader<R>,
    max_records: usize,
    mut into: Window,
) -> anyhow::Result<Window> {
    into.text.clear();
    into.lines.clear();
    into.bad.clear();
    let mut w = Window { read: 0, done: false, ..into };
    while w.lines.len() + w.bad.len() < max_records && w.text.len() < WINDOW_BYTES {
        let Some(item) = reader.next_line() else {
            w.done = true;
            break;
        };
        w.read += 1;
        match item.context("reading stdin")? {
            Ok((line, text)) => {
                let start = w.text.len();
                w.text.push_str(text);
                w.lines.push((line, start..w.text.len()));
            }
            Err(bad) => w.bad.push(bad),
        }
    }
    Ok(w)
}

/// Scores `window` on up to `buffers.len()` scoped threads, each serialising
/// its contiguous slice into its own buffer, while `meanwhile` runs on this
/// one. Returns how many buffers were filled, in input order.
fn score_window<T>(
    scorer: &Scorer,
    window: &Window,
    buffers: &mut [Vec<u8>],
    meanwhile: impl FnOnce() -> T,
) -> (anyhow::Result<(usize, Done)>, T) {
    let lines = &window.lines;
    let workers = buffers.len().min(lines.len().div_ceil(MIN_PARALLEL)).max(1);
    let Some(first) = buffers.first_mut() else {
        return (Err(anyhow::anyhow!("no output buffer")), meanwhile());
    };
    if workers <= 1 {
        let scored = process_chunk(scorer, &window.text, lines, first).map(|d| (1, d));
        return (scored, meanwhile());
    }
    let chunk = lines.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .zip(buffers.iter_mut())
            .map(|(slice, buffer)| s.spawn(move || process_chunk(scorer, &window.text, slice, buffer)))
            .collect();
        let other = meanwhile();
        let filled = handles.len();
        let mut total = Done::default();
        let mut result = Ok(());
        for h in handles {
            match h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a scoring thread failed"))) {
                Ok(d) => {
                    total.counts.add(d.counts);
                    total.rejects.extend(d.rejects);
                }
                Err(e) => result = Err(e),
            }
        }
        (result.map(|()| (filled, total)), other)
    })
}

async fn reject(quarantine: &mut Quarantine<'_>, summary: &mut Summary, bad: LineError) -> anyhow::Result<()> {
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
        .await
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
    let mut current = read_window(&mut reader, window_records, Window::default())?;
    let mut spare = Window::default();
    let mut buffers = vec![Vec::new(); threads];
    loop {
        summary.read += current.read;
        if current.lines.is_empty() && current.done {
            for bad in std::mem::take(&mut current.bad) {
                reject(quarantine, &mut summary, bad).await?;
            }
            break;
        }
        let done = current.done;
        let recycled = std::mem::take(&mut spare);
        let (scored, next) = score_window(scorer, &current, &mut buffers, || {
            if done {
                Ok(Window { done: true, ..Window::default() })
            } else {
                read_window(&mut reader, window_records, recycled)
            }
        });
        let (filled, d) = scored?;
        counts.add(d.counts);
        // Lines the reader refused and lines that are no records, in line order.
        let mut rejects = std::mem::take(&mut current.bad);
        rejects.extend(d.rejects);
        rejects.sort_by_key(|bad| bad.line);
        for bad in rejects {
            reject(quarantine, &mut summary, bad).await?;
        }
        for buffer in &mut buffers[..filled] {
            out.write_all(buffer).context("writing to stdout")?;
            buffer.clear();
        }
        spare = std::mem::replace(&mut current, next?);
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
    fn the_annotation_is_written_as_its_json_value() {
        let cases = [
            Scores { neg: 0.0, neu: 1.0, pos: 0.0, compound: 0.0 },
            Scores { neg: 0.265, neu: 0.241, pos: 0.494, compound: 0.4404 },
            Scores { neg: 1.0, neu: 0.0, pos: 0.0, compound: -0.9999 },
            Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: -0.0 },
            Scores { neg: 0.123, neu: 0.456, pos: 0.421, compound: 1e-4 },
        ];
        for model in [Model::VaderEn, Model::LeiaPt] {
            for s in &cases {
                let value = serde_json::json!({
                    "model": model.name(), "compound": s.compound, "pos": s.pos, "neu": s.neu, "neg": s.neg,
                    "label": label(s.compound),
                });
                assert_eq!(serde_json::to_string(&Annotation::new(model, s)).unwrap(), value.to_string());
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

    #[tokio::test]
    async fn lines_are_written_as_read_with_the_sentiment_spliced_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::file(dir.path().join("r.ndjson"));
        let post = r#"{ "kind" : "post", "text":"good \u0067ood", "x":1.50, "big": 123456789012345678901234 }  "#;
        let trend = r#"{"kind":"trend" , "name":"caf\u00e9\/bar", "n": 1e2}"#;
        let dup = r#"{"kind":"post","sentiment":null,"text":"bad","sentiment":[1]}"#;
        let not_text = r#"{"kind":"post","text":7,"lang":"pt"}"#;
        let input = format!("{post}\r\n{trend}\n\n{dup}\n{not_text}\n[1]\n");
        let mut out = Vec::new();
        let s = filter(&Scorer::default(), Options::default(), input.as_bytes(), &mut out, &mut q).await.unwrap();
        assert_eq!((s.read, s.scored, s.passed_through, s.without_text, s.rejected), (5, 2, 1, 1, 1));
        let good = r#"{"model":"vader-en","compound":0.7003,"pos":1.0,"neu":0.0,"neg":0.0,"label":"positive"}"#;
        let bad = r#"{"model":"vader-en","compound":-0.5423,"pos":0.0,"neu":0.0,"neg":1.0,"label":"negative"}"#;
        let want = [
            format!(
                r#"{{ "kind" : "post", "text":"good \u0067ood", "x":1.50, "big": 123456789012345678901234 ,"sentiment":{good}}}"#
            ),
            trend.to_owned(),
            format!(r#"{{"kind":"post","sentiment":{bad},"text":"bad","sentiment":{bad}}}"#),
            not_text.to_owned(),
        ];
        assert_eq!(String::from_utf8(out).unwrap(), want.join("\n") + "\n");
        let rejects = std::fs::read_to_string(dir.path().join("r.ndjson")).unwrap();
        assert!(
            rejects.contains("expected a JSON object, found an array") && rejects.contains("\"line\":6"),
            "{rejects}"
        );
    }
}
