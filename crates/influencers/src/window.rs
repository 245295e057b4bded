//! Time windows and the one shape every window takes before it is scored.
//!
//! Both inputs (NDJSON and SQL) turn the posts of one (trend, window) into a
//! [`WindowData`]: the authors with their summed counts, and the posts as graph nodes
//! linked by local index. [`evaluate`] turns it into ranked rows, so cascades, PageRank
//! and the score are computed by one piece of code whatever the input.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::graph::{self, Node};
use crate::output::{Row, RowAuthor};
use crate::pagerank;
use crate::score::{self, Components, Weights};

/// A window length. Windows are aligned to UTC: hours on the hour, days at midnight,
/// weeks on Monday at midnight (ISO weeks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WindowLen {
    Hour,
    Day,
    Week,
}

/// 1970-01-05, the first Monday of the Unix epoch, in seconds.
const FIRST_MONDAY: i64 = 4 * 86_400;

impl WindowLen {
    /// The length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
        }
    }

    /// Where the windows of this length are counted from, in seconds since the epoch.
    pub fn origin(self) -> i64 {
        match self {
            Self::Week => FIRST_MONDAY,
            Self::Hour | Self::Day => 0,
        }
    }

    /// The name written in records and in `influencer_scores.window_len`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// The start (seconds since the epoch) of the window holding `t`.
    pub fn start_of(self, t: i64) -> i64 {
        let len = self.seconds();
        (t - self.origin()).div_euclid(len) * len + self.origin()
    }
}

/// Reads `--window`: `1h`, `24h` (or `1d`) or `7d` (or `1w`), any spelling of those
/// three lengths that [`trendpipe_core::args::parse_duration`] reads.
pub fn parse_window(text: &str) -> Result<WindowLen, String> {
    let d = trendpipe_core::args::parse_duration(text)?;
    match d.as_secs() {
        3600 => Ok(WindowLen::Hour),
        86_400 => Ok(WindowLen::Day),
        604_800 => Ok(WindowLen::Week),
        _ => Err(format!("{text:?}: a window is 1h, 24h or 7d")),
    }
}

/// Seconds since the epoch as a UTC time.
pub fn time_of(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// Which windows a run computes: those overlapping `[since, until)`, each in full.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Span {
    /// Whether the window of `len` starting at `start` overlaps the span.
    pub fn keeps(&self, len: WindowLen, start: i64) -> bool {
        self.since.is_none_or(|s| start + len.seconds() > s) && self.until.is_none_or(|u| start < u)
    }
}

/// An author's counts in a window: what the database sums in SQL mode and
/// [`crate::input`] sums in NDJSON mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub posts: i64,
    pub reposts_made: i64,
    pub reposts: i64,
    pub likes: i64,
    pub replies: i64,
    pub quotes: i64,
    pub followers: Option<i64>,
    pub h_index: i64,
}

/// An author of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowAuthor {
    pub source: String,
    pub id: String,
    pub handle: Option<String>,
    /// `authors.id` in SQL mode.
    pub db_id: Option<i64>,
    pub counts: Counts,
}

/// The posts of one trend in one window.
#[derive(Debug, Clone)]
pub struct WindowData {
    pub trend: String,
    pub len: WindowLen,
    pub start: i64,
    /// Sorted by (source, author id), so node indices and ties do not depend on the input order.
    pub authors: Vec<WindowAuthor>,
    /// Sorted by (source, post id); `Node::author` indexes `authors`.
    pub nodes: Vec<Node>,
}

/// What scoring a window found besides its rows, for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notes {
    pub cycles_broken: u64,
    pub pagerank_unconverged: u64,
}

/// Scores a window: cascades, PageRank, the composite score, percentile and rank.
/// Rows come back in rank order.
pub fn evaluate(w: &WindowData, weights: &Weights, model: &Arc<str>, notes: &mut Notes) -> Vec<Row> {
    let cascades = graph::cascades(&w.nodes, w.authors.len());
    notes.cycles_broken += cascades.cycles_broken;
    let edges = graph::author_edges(&w.nodes);
    let pr = pagerank::pagerank(w.authors.len(), &edges, pagerank::ALPHA, pagerank::TOLERANCE, pagerank::MAX_ITER);
    if !pr.converged {
        notes.pagerank_unconverged += 1;
        log::warn!(
            "{} {} window at {}: PageRank did not converge in {} iterations",
            w.trend,
            w.len.label(),
            trendpipe_core::record::format_time(&time_of(w.start)),
            pagerank::MAX_ITER
        );
    }
    let components: Vec<Components> = w
        .authors
        .iter()
        .enumerate()
        .map(|(i, a)| Components::new(a.counts, cascades.per_author[i], pr.ranks[i]))
        .collect();
    let scores: Vec<f64> = components.iter().map(|c| weights.score(c)).collect();
    let keys: Vec<score::RankKey<'_>> = w
        .authors
        .iter()
        .zip(&components)
        .zip(&scores)
        .map(|((a, c), s)| score::RankKey { score: *s, reposts: c.reposts, id: &a.id, source: &a.source })
        .collect();
    let places = score::rank(&keys);
    let window_start = trendpipe_core::record::format_time(&time_of(w.start));
    let mut rows: Vec<Row> = places
        .into_iter()
        .map(|p| {
            let a = &w.authors[p.index];
            Row {
                kind: "influencer",
                source: a.source.clone(),
                author: RowAuthor { id: a.id.clone(), handle: a.handle.clone() },
                trend: w.trend.clone(),
                window_start: window_start.clone(),
                window_len: w.len.label(),
                rank: p.rank,
                score: scores[p.index],
                percentile: p.percentile,
                model: Arc::clone(model),
                components: components[p.index],
                db_author: a.db_id,
                start: w.start,
            }
        })
        .collect();
    rows.sort_by_key(|r| r.rank);
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_utc_hours_days_and_monday_weeks() {
        let t = trendpipe_core::record::parse_time("2026-11-22T13:45:10Z").unwrap().timestamp();
        let at = |s: i64| trendpipe_core::record::format_time(&time_of(s));
        assert_eq!(at(WindowLen::Hour.start_of(t)), "2026-11-22T13:00:00Z");
        assert_eq!(at(WindowLen::Day.start_of(t)), "2026-11-22T00:00:00Z");
        // 2026-11-22 is a Sunday: its ISO week began on Monday the 16th.
        assert_eq!(at(WindowLen::Week.start_of(t)), "2026-11-16T00:00:00Z");
        let monday = trendpipe_core::record::parse_time("2026-11-23T00:00:00Z").unwrap().timestamp();
        assert_eq!(WindowLen::Week.start_of(monday), monday);
    }

    #[test]
    fn window_flag_takes_the_three_lengths_only() {
        assert_eq!(parse_window("24h"), Ok(WindowLen::Day));
        assert_eq!(parse_window("1d"), Ok(WindowLen::Day));
        assert_eq!(parse_window("7d"), Ok(WindowLen::Week));
        assert_eq!(parse_window("60m"), Ok(WindowLen::Hour));
        assert!(parse_window("2h").unwrap_err().contains("1h, 24h or 7d"));
        assert!(parse_window("x").is_err());
    }

    #[test]
    fn a_span_keeps_every_window_it_overlaps() {
        let span = Span { since: Some(5000), until: Some(7200) };
        assert!(!span.keeps(WindowLen::Hour, 0));
        assert!(span.keeps(WindowLen::Hour, 3600));
        assert!(!span.keeps(WindowLen::Hour, 7200));
        assert!(Span::default().keeps(WindowLen::Week, -1_000_000));
    }
}
