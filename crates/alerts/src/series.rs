//! The series the detector judges, built from NDJSON records on stdin.
//!
//! Post records that carry `sentiment` make the sentiment series: per trend and
//! `--window`, the mean compound and the number of posts, with the window's most
//! negative and most positive posts kept as evidence (a bounded number per window,
//! so memory grows with the number of windows, not of posts). Trend records make
//! the volume series: per source, place and trend, the volume of each observation
//! in time order; a null volume is a gap, not a zero. Any other line is refused
//! with its line number. The SQL side of the same series is in [`crate::store`].

use std::collections::BTreeMap;
use std::io::BufRead;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use trendpipe_core::ndjson::NdjsonReader;
use trendpipe_core::quarantine::{EntryHead, Quarantine};
use trendpipe_core::record::{Post, Trend};

use crate::detect::Point;

/// What a series measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Mean sentiment (compound) of the posts about a trend per window.
    Sentiment,
    /// The volume a provider gives for a trend, per observation.
    Volume,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sentiment => "sentiment",
            Self::Volume => "volume",
        }
    }
}

/// Which series: sentiment series have no source or place (they pool every source,
/// as `trend_sentiment` does); empty strings stand for "none".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    pub metric: Metric,
    pub source: String,
    pub place: String,
    pub trend: String,
}

/// A post shown as evidence for a sentiment alert.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Evidence {
    pub id: String,
    pub text: Option<String>,
    pub compound: f64,
}

/// One series with its points in time order.
#[derive(Debug, Clone)]
pub struct Series {
    pub key: SeriesKey,
    pub points: Vec<Point>,
    /// Per window start: the most negative posts first, then the most positive
    /// (stdin only; SQL reads evidence when an alert needs it).
    pub evidence: BTreeMap<DateTime<Utc>, (Vec<Evidence>, Vec<Evidence>)>,
}

#[derive(Debug, Default)]
struct Window {
    posts: i64,
    sum: f64,
    lowest: Vec<Evidence>,
    highest: Vec<Evidence>,
}

/// Keeps the `n` posts that sort first by `better`.
fn keep(list: &mut Vec<Evidence>, e: Evidence, n: usize, better: fn(&Evidence, &Evidence) -> bool) {
    if n == 0 {
        return;
    }
    let pos = list.iter().position(|x| better(&e, x)).unwrap_or(list.len());
    if pos < n {
        list.insert(pos, e);
        list.truncate(n);
    }
}

/// What reading stdin found.
#[derive(Debug, Default)]
pub struct Read {
    pub series: Vec<Series>,
    pub lines: u64,
    pub posts: u64,
    pub observations: u64,
    pub gaps: u64,
    pub rejected: u64,
}

/// Reads NDJSON records into series. Refused lines go to `quarantine`.
pub async fn read(
    input: impl BufRead,
    window_secs: i64,
    evidence: usize,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Read> {
    let mut read = Read::default();
    let mut sentiment: BTreeMap<String, BTreeMap<DateTime<Utc>, Window>> = BTreeMap::new();
    let mut volume: BTreeMap<SeriesKey, Vec<Point>> = BTreeMap::new();
    let mut reader = NdjsonReader::new(input);
    let now = Utc::now();
    loop {
        let (line, problem) = match reader.next_line() {
            None => break,
            Some(Err(e)) => return Err(e).context("reading standard input"),
            Some(Ok(Err(bad))) => {
                // A line that is not text was read too: "read" is what came in.
                read.lines += 1;
                (bad.line, Some((bad.message, serde_json::Value::String(bad.raw))))
            }
            Some(Ok(Ok((line, text)))) => {
                read.lines += 1;
                match classify(text) {
                    Ok(Parsed::Post(post)) => match sentiment_point(&post) {
                        Ok((trend, at, e)) => {
                            read.posts += 1;
                            let start = floor(at, window_secs);
                            let w = sentiment.entry(trend).or_default().entry(start).or_default();
                            w.posts += 1;
                            w.sum += e.compound;
                            keep(&mut w.lowest, e.clone(), evidence, |a, b| a.compound < b.compound);
                            keep(&mut w.highest, e, evidence, |a, b| a.compound > b.compound);
                            (line, None)
                        }
                        Err(why) => (line, Some((why, raw(text)))),
                    },
                    Ok(Parsed::Trend(t)) => {
                        let key = SeriesKey {
                            metric: Metric::Volume,
                            source: t.source.clone(),
                            place: t.place.id.clone(),
                            trend: if t.key.is_empty() {
                                trendpipe_core::key::trend_key(&t.name)
                            } else {
                                t.key.clone()
                            },
                        };
                        match t.volume {
                            Some(v) => {
                                read.observations += 1;
                                volume.entry(key).or_default().push(Point {
                                    at: t.observed_at,
                                    value: v as f64,
                                    weight: None,
                                });
                            }
                            None => read.gaps += 1,
                        }
                        (line, None)
                    }
                    Err(why) => (line, Some((why, raw(text)))),
                }
            }
        };
        if let Some((reason, record)) = problem {
            log::warn!("line {line}: {reason}");
            read.rejected += 1;
            let head =
                EntryHead { stage: "alerts", reason: &reason, rule: "schema", line: Some(line), at: now, run_id: None };
            quarantine.put_json(head, &serde_json::to_string(&record)?).await?;
        }
    }
    for (trend, windows) in sentiment {
        let mut series = Series {
            key: SeriesKey { metric: Metric::Sentiment, source: String::new(), place: String::new(), trend },
            points: Vec::with_capacity(windows.len()),
            evidence: BTreeMap::new(),
        };
        for (start, w) in windows {
            series.points.push(Point { at: start, value: w.sum / w.posts as f64, weight: Some(w.posts) });
            series.evidence.insert(start, (w.lowest, w.highest));
        }
        read.series.push(series);
    }
    for (key, mut points) in volume {
        points.sort_by_key(|p| p.at);
        read.series.push(Series { key, points, evidence: BTreeMap::new() });
    }
    Ok(read)
}

enum Parsed {
    Post(Box<Post>),
    Trend(Box<Trend>),
}

fn raw(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// Reads a line as a post or a trend record, or says why it is neither.
fn classify(text: &str) -> Result<Parsed, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_owned();
    match kind.as_str() {
        "post" => serde_json::from_value::<Post>(value).map(|p| Parsed::Post(Box::new(p))),
        "trend" => serde_json::from_value::<Trend>(value).map(|t| Parsed::Trend(Box::new(t))),
        "" => return Err("kind: missing (expected a post or trend record)".into()),
        other => return Err(format!("kind: {other:?} is neither a post nor a trend record")),
    }
    .map_err(|e| format!("{kind} record: {e}"))
}

/// The trend, window time and evidence of a scored post, or why it cannot count.
fn sentiment_point(post: &Post) -> Result<(String, DateTime<Utc>, Evidence), String> {
    let trend = post.trend.clone().filter(|t| !t.trim().is_empty()).ok_or("post: trend: missing")?;
    let sentiment = post.sentiment.as_ref().ok_or("post: sentiment: missing (run sentiment first)")?;
    if !sentiment.compound.is_finite() || sentiment.compound.abs() > 1.0 {
        return Err(format!("post: sentiment.compound: {} is not in [-1, 1]", sentiment.compound));
    }
    let at = post.created_at.or(post.observed_at).ok_or("post: created_at and observed_at: both missing")?;
    Ok((trend, at, Evidence { id: post.id.clone(), text: post.text.clone(), compound: sentiment.compound }))
}

/// The start of the `secs`-long window that holds `t` (windows start at multiples
/// of their length since the epoch, as `sentiment` cuts them).
pub fn floor(t: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let s = t.timestamp();
    DateTime::from_timestamp(s - s.rem_euclid(secs.max(1)), 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn posts_make_windows_trends_make_points_and_the_rest_is_refused() {
        let input = concat!(
            r#"{"kind":"post","source":"x","id":"1","text":"bad","trend":"a","created_at":"2026-11-22T01:10:00Z","sentiment":{"model":"vader-en","compound":-0.5,"pos":0,"neu":0.5,"neg":0.5,"label":"negative"}}"#,
            "\n",
            r#"{"kind":"post","source":"x","id":"2","text":"good","trend":"a","created_at":"2026-11-22T01:50:00Z","sentiment":{"model":"vader-en","compound":0.7,"pos":0.7,"neu":0.3,"neg":0,"label":"positive"}}"#,
            "\n",
            r##"{"kind":"trend","source":"x","place":{"id":"1"},"name":"#A","volume":null,"observed_at":"2026-11-22T01:00:00Z"}"##,
            "\n",
            r##"{"kind":"trend","source":"x","place":{"id":"1"},"name":"#A","volume":5,"observed_at":"2026-11-22T01:00:00Z"}"##,
            "\n",
            r#"{"kind":"post","source":"x","id":"3","trend":"a"}"#,
            "\n",
            "[1]\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::file(dir.path().join("r.ndjson"));
        let read = read(std::io::Cursor::new(input), 3600, 1, &mut q).await.unwrap();
        q.flush().await.unwrap();
        assert_eq!((read.posts, read.observations, read.gaps, read.rejected), (2, 1, 1, 2));
        let s = &read.series[0];
        assert_eq!(s.points.len(), 1);
        assert!((s.points[0].value - 0.1).abs() < 1e-9);
        assert_eq!(s.points[0].weight, Some(2));
        let (low, high) = s.evidence.values().next().unwrap();
        assert_eq!((low[0].id.as_str(), high[0].id.as_str()), ("1", "2"));
        assert_eq!(read.series[1].key.trend, "a");
    }
}
