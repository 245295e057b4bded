//! The rows a run produces and the formats they are written in.
//!
//! NDJSON (the default) and CSV are written window by window as they are computed;
//! the table and the JSON document are written at the end, so they hold every row
//! printed (use `--top` for people, NDJSON for machines).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use trendpipe_core::ndjson::NdjsonWriter;

use crate::score::Components;

/// The author of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowAuthor {
    pub id: String,
    pub handle: Option<String>,
}

/// One author's score in one (trend, window): an `influencer` record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub kind: &'static str,
    pub source: String,
    pub author: RowAuthor,
    pub trend: String,
    pub window_start: String,
    pub window_len: &'static str,
    pub rank: u64,
    pub score: f64,
    pub percentile: u32,
    pub model: Arc<str>,
    pub components: Components,
    /// `authors.id`, in SQL mode.
    #[serde(skip)]
    pub db_author: Option<i64>,
    /// The window start in seconds since the epoch.
    #[serde(skip)]
    pub start: i64,
}

/// How rows are written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One `influencer` record per line.
    Ndjson,
    /// A table for the terminal.
    Table,
    /// Comma-separated values with a header, for spreadsheets.
    Csv,
    /// One JSON array of the records.
    Json,
}

const CSV_HEADER: [&str; 22] = [
    "trend",
    "window_start",
    "window_len",
    "rank",
    "source",
    "author_id",
    "author_handle",
    "score",
    "percentile",
    "posts",
    "reposts_made",
    "reposts",
    "likes",
    "replies",
    "quotes",
    "followers",
    "h_index",
    "cascade_depth",
    "cascade_size",
    "structural_virality",
    "pagerank",
    "model",
];

enum Inner<W: Write> {
    Ndjson(NdjsonWriter<W>),
    // One sink per run: boxing would save stack space nobody misses.
    Csv(Box<csv::Writer<W>>),
    Held { out: W, json: bool, rows: Vec<Row> },
}

/// Where rows go, window by window.
pub struct Sink<W: Write> {
    inner: Inner<W>,
    top: Option<u64>,
    written: u64,
}

impl<W: Write> Sink<W> {
    pub fn new(format: Format, top: Option<u64>, out: W) -> anyhow::Result<Self> {
        let inner = match format {
            Format::Ndjson => Inner::Ndjson(NdjsonWriter::new(out)),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).context("writing to stdout")?;
                Inner::Csv(Box::new(w))
            }
            Format::Table => Inner::Held { out, json: false, rows: Vec::new() },
            Format::Json => Inner::Held { out, json: true, rows: Vec::new() },
        };
        Ok(Self { inner, top, written: 0 })
    }

    /// Writes the rows of one window (in rank order), the first `--top` of them.
    pub fn window(&mut self, rows: &[Row]) -> anyhow::Result<()> {
        for row in rows.iter().filter(|r| self.top.is_none_or(|n| r.rank <= n)) {
            match &mut self.inner {
                Inner::Ndjson(w) => w.write(row).context("writing to stdout")?,
                Inner::Csv(w) => w.write_record(csv_record(row)).context("writing to stdout")?,
                Inner::Held { rows, .. } => rows.push(row.clone()),
            }
            self.written += 1;
        }
        Ok(())
    }

    /// Rows written (or to be written by `finish`).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes what is held and flushes.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.inner {
            Inner::Ndjson(w) => {
                w.finish().context("writing to stdout")?;
            }
            Inner::Csv(mut w) => w.flush().context("writing to stdout")?,
            Inner::Held { mut out, json, rows } => {
                let text = if json { serde_json::to_string_pretty(&rows)? + "\n" } else { table(&rows) };
                out.write_all(text.as_bytes()).context("writing to stdout")?;
                out.flush().context("writing to stdout")?;
            }
        }
        Ok(())
    }
}

fn csv_record(r: &Row) -> [String; 22] {
    let c = &r.components;
    [
        r.trend.clone(),
        r.window_start.clone(),
        r.window_len.to_owned(),
        r.rank.to_string(),
        r.source.clone(),
        r.author.id.clone(),
        r.author.handle.clone().unwrap_or_default(),
        r.score.to_string(),
        r.percentile.to_string(),
        c.posts.to_string(),
        c.reposts_made.to_string(),
        c.reposts.to_string(),
        c.likes.to_string(),
        c.replies.to_string(),
        c.quotes.to_string(),
        c.followers.map(|f| f.to_string()).unwrap_or_default(),
        c.h_index.to_string(),
        c.cascade_depth.to_string(),
        c.cascade_size.to_string(),
        c.structural_virality.to_string(),
        c.pagerank.to_string(),
        r.model.to_string(),
    ]
}

/// The table for the terminal: one line per author, windows one after the other.
fn table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "No author posted about a trend in the windows asked for.\n".to_owned();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "Trend",
        "Window",
        "#",
        "Author",
        "Score",
        "Pct",
        "Posts",
        "Reposts",
        "Likes",
        "Followers",
        "h",
        "Depth",
        "Size",
        "Virality",
        "PageRank",
    ]);
    for r in rows {
        let c = &r.components;
        let who = match &r.author.handle {
            Some(h) => format!("@{h} ({})", r.source),
            None => format!("{} ({})", r.author.id, r.source),
        };
        t.add_row([
            r.trend.clone(),
            format!("{} {}", r.window_start, r.window_len),
            r.rank.to_string(),
            who,
            format!("{:.3}", r.score),
            r.percentile.to_string(),
            c.posts.to_string(),
            c.reposts.to_string(),
            c.likes.to_string(),
            c.followers.map(|f| f.to_string()).unwrap_or_else(|| "n/a".into()),
            c.h_index.to_string(),
            c.cascade_depth.to_string(),
            c.cascade_size.to_string(),
            format!("{:.2}", c.structural_virality),
            format!("{:.4}", c.pagerank),
        ]);
    }
    for col in 2..15 {
        if col != 3 {
            if let Some(c) = t.column_mut(col) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    format!("{t}\n")
}
