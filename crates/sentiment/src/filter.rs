//! Filter mode: NDJSON posts in, the same records out with a `sentiment` object.
//!
//! Records other than posts pass through untouched; a post without text passes
//! through without a score (and is counted), because "no text" is not "neutral".
//! A line that is not a JSON object goes to the reject file and makes the run exit 1.

use std::io::{BufRead, Write};

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};
use trendpipe_core::ndjson::{NdjsonReader, NdjsonWriter};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::QuarantineEntry;

use crate::vader::{Analyzer, Scores};

/// The compound score beyond which a text is positive (or, negated, negative): the
/// thresholds VADER's authors recommend.
pub const THRESHOLD: f64 = 0.05;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub scored: u64,
    pub without_text: u64,
    pub passed_through: u64,
    pub rejected: u64,
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

/// Scores every post of `input` and writes the records to `output`.
pub async fn filter(
    analyzer: &Analyzer,
    input: impl BufRead,
    output: impl Write,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<Summary> {
    let mut out = NdjsonWriter::new(output);
    let mut summary = Summary::default();
    for item in NdjsonReader::new(input) {
        let item = item.context("reading stdin")?;
        summary.read += 1;
        let (_, mut record) = match item {
            Ok(parsed) => parsed,
            Err(bad) => {
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
                continue;
            }
        };
        if record.get("kind").and_then(Value::as_str) != Some("post") {
            summary.passed_through += 1;
        } else {
            match record.get("text").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
                Some(text) => {
                    let scores = analyzer.polarity_scores(text);
                    record["sentiment"] = annotation("vader-en", &scores);
                    summary.scored += 1;
                }
                None => summary.without_text += 1,
            }
        }
        out.write(&record).context("writing to stdout")?;
    }
    quarantine.flush().await?;
    out.finish().context("writing to stdout").map(drop)?;
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
        let analyzer = Analyzer::new();
        let s = filter(&analyzer, input.as_bytes(), &mut out, &mut q).await.unwrap();
        assert_eq!(s, Summary { read: 4, scored: 1, without_text: 1, passed_through: 1, rejected: 1 });
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
}
