//! Filter mode on several threads, with the output in input order.
//!
//! Most of the work on a line depends on that line alone: parsing, validation,
//! normalisation, the trend key, the hashes and the clean record's JSON text (see
//! [`Ready`]). Only the dedupe, the window and the global-volume rule need the stream.
//! So one thread reads lines into batches and deals them in turn to workers that
//! prepare them, and the caller takes the prepared batches back in the same turn,
//! which is the input order, and applies the stream rules on its own thread. Channels
//! of a few batches bound the memory in flight whatever the input size.

use std::io::BufRead;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use trendpipe_core::ndjson::{LineError, NdjsonReader};

use crate::prepare::{Preparer, Ready};
use crate::rule::Options;

/// Lines per batch: enough to make a hand-off between threads cheap, few enough to
/// keep the batches in flight small.
pub const BATCH_LINES: usize = 256;
/// A batch is also cut after this much text, so long lines make short batches.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches each channel holds.
const DEPTH: usize = 2;

/// One non-blank input line, prepared.
#[derive(Debug)]
pub struct Entry {
    /// 1-based line number.
    pub line: u64,
    /// Its length in the input.
    pub bytes: usize,
    /// Where its text is in [`Batch::text`] (empty for a line that was not text).
    pub text: Range<usize>,
    pub item: Result<Ready, LineError>,
}

/// Consecutive lines, prepared. Batches go round (reader, worker, caller, reader
/// again) so that their buffers are reused rather than allocated for each.
#[derive(Debug, Default)]
pub struct Batch {
    /// The text of the lines, one after the other.
    pub text: String,
    /// The JSON text of the trends read from their fields (see
    /// [`crate::prepare::TrendOut::Text`]), shared with their records until they are
    /// written.
    pub heads: Arc<Vec<u8>>,
    pub entries: Vec<Entry>,
    /// The read error that ended the input after these lines, if one did.
    pub error: Option<std::io::Error>,
    /// Lines as read, for the worker.
    lines: Vec<(u64, usize, Result<Range<usize>, LineError>)>,
}

/// The reader and worker threads, and the prepared batches in input order.
pub struct Pipeline {
    results: Vec<Receiver<Batch>>,
    turn: usize,
    used: Sender<Batch>,
    /// The threads; the reader's says what went wrong if an invariant broke.
    threads: Vec<JoinHandle<Result<(), String>>>,
}

impl Pipeline {
    /// Starts reading `input` on a thread and preparing its lines on `workers`
    /// threads, `batch_lines` lines at a time.
    pub fn start<R: BufRead + Send + 'static>(
        options: Options,
        input: R,
        workers: usize,
        batch_lines: usize,
    ) -> std::io::Result<Self> {
        let mut inputs = Vec::new();
        let mut results = Vec::new();
        let mut threads = Vec::new();
        for n in 0..workers.max(1) {
            let (to_worker, from_reader) = sync_channel::<Batch>(DEPTH);
            let (to_caller, from_worker) = sync_channel::<Batch>(DEPTH);
            let worker = std::thread::Builder::new().name(format!("clean-worker-{n}")).spawn(move || {
                prepare(options, from_reader, to_caller);
                Ok(())
            })?;
            inputs.push(to_worker);
            results.push(from_worker);
            threads.push(worker);
        }
        // Unbounded, but only the few batches in circulation ever pass through it.
        let (used, reuse) = channel::<Batch>();
        let batch_lines = batch_lines.max(1);
        let reader = std::thread::Builder::new()
            .name("clean-reader".into())
            .spawn(move || read(input, inputs, reuse, batch_lines))?;
        threads.push(reader);
        Ok(Self { results, turn: 0, used, threads })
    }

    /// The next batch in input order; `None` at the end of the input.
    pub fn next_batch(&mut self) -> Option<Batch> {
        let from = self.results.get(self.turn % self.results.len().max(1))?;
        self.turn += 1;
        from.recv().ok()
    }

    /// Hands a batch whose entries were taken back to the reader, for its buffers.
    pub fn recycle(&self, mut batch: Batch) {
        batch.text.clear();
        // The records still waiting in the window keep the old heads.
        batch.heads = Arc::default();
        batch.entries.clear();
        batch.lines.clear();
        batch.error = None;
        // The reader may be done; the batch is then simply dropped.
        let _ = self.used.send(batch);
    }

    /// Waits for the threads; an error if one of them failed (and so the input may
    /// have ended early).
    pub fn finish(mut self) -> anyhow::Result<()> {
        // A worker still sending (when the caller stops early) must not wait forever.
        self.results.clear();
        let mut failed = false;
        for thread in self.threads.drain(..) {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(broken)) => anyhow::bail!("reading the input: {broken}"),
                Err(_) => failed = true,
            }
        }
        if failed {
            anyhow::bail!("a thread preparing the input failed");
        }
        Ok(())
    }
}

/// The reader: lines into batches, dealt to the workers in turn.
fn read<R: BufRead>(
    input: R,
    workers: Vec<SyncSender<Batch>>,
    reuse: Receiver<Batch>,
    batch_lines: usize,
) -> Result<(), String> {
    let mut lines = NdjsonReader::new(input);
    for turn in 0.. {
        let mut batch = reuse.try_recv().unwrap_or_default();
        let mut done = false;
        while batch.lines.len() < batch_lines && batch.text.len() < BATCH_BYTES {
            match lines.next_raw() {
                Ok(Some(raw)) => {
                    let range = raw.text.map(|text| {
                        let start = batch.text.len();
                        batch.text.push_str(text);
                        start..batch.text.len()
                    });
                    batch.lines.push((raw.line, raw.bytes, range));
                }
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    batch.error = Some(e);
                    done = true;
                    break;
                }
            }
        }
        if !batch.lines.is_empty() || batch.error.is_some() {
            // A batch with no worker to take it would end the input early, silently.
            let Some(worker) = workers.get(turn % workers.len().max(1)) else {
                let line = batch.lines.first().map_or(0, |(line, ..)| *line);
                return Err(format!("internal error: no worker for the lines from line {line}"));
            };
            // The caller stopped early (a closed stdout): nothing more to read.
            if worker.send(batch).is_err() {
                return Ok(());
            }
        }
        if done {
            return Ok(());
        }
    }
    Ok(())
}

/// A worker: prepares the batches it is given, in the order given.
fn prepare(options: Options, from_reader: Receiver<Batch>, to_caller: SyncSender<Batch>) {
    let mut preparer = Preparer::new(options);
    for mut batch in from_reader {
        let Batch { text, heads, entries, lines, .. } = &mut batch;
        // Unshared: `recycle` gave the batch new heads.
        let heads = Arc::make_mut(heads);
        if heads.capacity() == 0 {
            heads.reserve(text.len());
        }
        entries.extend(lines.drain(..).map(|(line, bytes, range)| match range {
            Ok(range) => {
                let item = preparer.prepare(line, text.get(range.clone()).unwrap_or_default(), heads);
                Entry { line, bytes, text: range, item }
            }
            Err(bad) => Entry { line, bytes, text: 0..0, item: Err(bad) },
        }));
        if to_caller.send(batch).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Vec<u8> {
        let mut input = Vec::new();
        for i in 0..3000 {
            let line = match i % 7 {
                0 => format!(r#"{{"kind":"post","source":"m","id":"{}","text":"a &amp; b"}}"#, i % 50),
                1 => "not json".to_owned(),
                2 => String::new(),
                3 => format!(
                    r#"{{"kind":"trend","source":"x","place":{{"id":"1"}},"name":"T{i}","volume":null,"observed_at":"2026-11-22T01:30:00Z"}}"#
                ),
                _ => format!(
                    r#"{{"kind":"trend","source":"x","place":{{"id":"{}"}},"name":"Fé {}","volume":"1,{i:03}","observed_at":"2026-11-22T01:30:00Z"}}"#,
                    i % 3,
                    i % 40
                ),
            };
            input.extend_from_slice(line.as_bytes());
            input.extend_from_slice(if i % 11 == 0 { b"\r\n" } else { b"\n" });
        }
        input.extend_from_slice(b"\xff\xfe\n{\"kind\":\"trend\"}");
        input
    }

    /// An item with its text in `heads` rather than the place of that text.
    fn show(item: Result<Ready, LineError>, heads: &[u8]) -> String {
        match &item {
            Ok(Ready::Trend(t)) => match &t.out {
                crate::prepare::TrendOut::Text { head, volume_scope } => format!(
                    "trend {} {:?} {} {} {:?} {volume_scope:?}",
                    t.id,
                    t.group,
                    t.normalised,
                    t.stripped,
                    String::from_utf8_lossy(&heads[head.clone()])
                ),
                _ => format!("{item:?}"),
            },
            _ => format!("{item:?}"),
        }
    }

    /// Every line prepared on one thread, in order, as the reference.
    fn sequential(options: Options, input: &[u8]) -> Vec<String> {
        let mut lines = NdjsonReader::new(input);
        let mut preparer = Preparer::new(options);
        let mut out = Vec::new();
        while let Some(raw) = lines.next_raw().unwrap() {
            let mut heads = Vec::new();
            let (line, bytes) = (raw.line, raw.bytes);
            let (text, item) = match raw.text {
                Ok(text) => (text.to_owned(), preparer.prepare(line, text, &mut heads)),
                Err(bad) => (String::new(), Err(bad)),
            };
            out.push(format!("{line} {bytes} {text} {}", show(item, &heads)));
        }
        out
    }

    fn threaded(options: Options, input: Vec<u8>, workers: usize, batch_lines: usize) -> Vec<String> {
        let mut pipeline = Pipeline::start(options, std::io::Cursor::new(input), workers, batch_lines).unwrap();
        let mut out = Vec::new();
        while let Some(mut batch) = pipeline.next_batch() {
            assert!(batch.error.is_none());
            for e in batch.entries.drain(..) {
                let text = &batch.text[e.text];
                out.push(format!("{} {} {text} {}", e.line, e.bytes, show(e.item, &batch.heads)));
            }
            pipeline.recycle(batch);
        }
        pipeline.finish().unwrap();
        out
    }

    #[test]
    fn threaded_preparation_keeps_the_input_order() {
        let input = input();
        let options = Options::default();
        let expected = sequential(options, &input);
        assert!(expected.len() > 2500);
        for (workers, batch_lines) in [(1, 1), (2, 7), (3, 64), (2, BATCH_LINES)] {
            let got = threaded(options, input.clone(), workers, batch_lines);
            assert_eq!(got.len(), expected.len());
            assert!(got == expected, "{workers} workers, {batch_lines} lines a batch: order or content differs");
        }
    }

    #[test]
    fn an_empty_input_ends_at_once() {
        assert!(threaded(Options::default(), Vec::new(), 2, 8).is_empty());
    }
}
