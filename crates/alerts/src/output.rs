//! The alert record and its formats: NDJSON (the record contract), a terminal table,
//! a JSON document and CSV.

use std::io::Write;

use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use trendpipe_core::ndjson::NdjsonWriter;
use trendpipe_core::record::format_time;

use crate::detect::Direction;
use crate::series::{Evidence, Metric};

/// `{"kind":"alert",…}`: one alert, as written on stdout and sent to the webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: &'static str,
    pub metric: Metric,
    pub direction: Direction,
    pub source: Option<String>,
    pub place: Option<String>,
    pub trend: String,
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    pub value: f64,
    pub baseline: f64,
    pub score: f64,
    pub posts: Option<i64>,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<Evidence>>,
}

fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

/// Rounds for people and for stable output: `digits` decimals.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl Alert {
    /// One line for chat: `volume up: #bbb26 (x, 23424768) at … — 12000 vs 3100 expected (spike, z 6.1)`.
    pub fn text(&self) -> String {
        let whence: Vec<&str> = [self.source.as_deref(), self.place.as_deref()].into_iter().flatten().collect();
        let whence = if whence.is_empty() { String::new() } else { format!(" ({})", whence.join(", ")) };
        let posts = self.posts.map(|n| format!(", {n} posts")).unwrap_or_default();
        format!(
            "{} {}: {}{} at {} UTC: {} against {} expected{posts} ({}, score {})",
            self.metric.as_str(),
            self.direction.as_str(),
            self.trend,
            whence,
            self.at.format("%Y-%m-%d %H:%M"),
            self.value,
            self.baseline,
            self.method,
            self.score
        )
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One alert record per line (the record contract).
    Ndjson,
    /// A table for the terminal.
    Table,
    /// A JSON document: `{"alerts": […]}`.
    Json,
    /// Comma-separated values, for spreadsheets.
    Csv,
}

const HEADERS: [&str; 12] = [
    "metric",
    "direction",
    "source",
    "place",
    "trend",
    "at",
    "value",
    "baseline",
    "score",
    "posts",
    "method",
    "evidence",
];

fn cells(a: &Alert) -> anyhow::Result<[String; 12]> {
    Ok([
        a.metric.as_str().to_owned(),
        a.direction.as_str().to_owned(),
        a.source.clone().unwrap_or_default(),
        a.place.clone().unwrap_or_default(),
        a.trend.clone(),
        format_time(&a.at),
        a.value.to_string(),
        a.baseline.to_string(),
        a.score.to_string(),
        a.posts.map(|n| n.to_string()).unwrap_or_default(),
        a.method.clone(),
        match &a.evidence {
            Some(e) => serde_json::to_string(e)?,
            None => String::new(),
        },
    ])
}

/// Writes `alerts` to `out` in `format`.
pub fn write(alerts: &[Alert], format: Format, out: impl Write) -> anyhow::Result<()> {
    match format {
        Format::Ndjson => {
            let mut w = NdjsonWriter::new(out);
            for a in alerts {
                w.write(a)?;
            }
            w.finish()?;
        }
        Format::Json => {
            let mut out = std::io::BufWriter::new(out);
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "alerts": alerts }))?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(HEADERS)?;
            for a in alerts {
                w.write_record(cells(a)?)?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut out = std::io::BufWriter::new(out);
            if alerts.is_empty() {
                writeln!(out, "No alert.")?;
            } else {
                let mut table = Table::new();
                table.load_preset(UTF8_FULL_CONDENSED).set_header(&HEADERS[..11]);
                for a in alerts {
                    let mut row = cells(a)?.to_vec();
                    row.truncate(11);
                    row[5] = a.at.format("%Y-%m-%d %H:%M").to_string();
                    table.add_row(row);
                }
                writeln!(out, "{table}")?;
            }
            out.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            kind: "alert",
            metric: Metric::Sentiment,
            direction: Direction::Down,
            source: None,
            place: None,
            trend: "a, \"b\"".into(),
            at: trendpipe_core::record::parse_time("2026-11-22T01:00:00Z").unwrap(),
            value: -0.31,
            baseline: 0.12,
            score: -5.2,
            posts: Some(64),
            method: "robust-z spike/recent".into(),
            evidence: Some(vec![Evidence { id: "9".into(), text: Some("awful".into()), compound: -0.9 }]),
        }
    }

    #[test]
    fn ndjson_is_the_record_and_csv_quotes() {
        let mut buf = Vec::new();
        write(&[alert()], Format::Ndjson, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["kind"], "alert");
        assert_eq!(v["at"], "2026-11-22T01:00:00Z");
        assert_eq!(v["source"], serde_json::Value::Null);
        assert_eq!(v["evidence"][0]["id"], "9");
        let mut buf = Vec::new();
        write(&[alert()], Format::Csv, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("\"a, \"\"b\"\"\""), "{text}");
        assert!(alert().text().contains("sentiment down: a, \"b\" at 2026-11-22 01:00 UTC"));
    }
}
