//! What an `etl-to-sql` run did, as the summary line on stderr and the run ledger's
//! counts say it, under the same names: records read, skipped and rejected, what the
//! database did with each table's rows, the distinct keys touched, and the watermarks.

use chrono::{DateTime, Utc};
use serde_json::Value;
use trendpipe_core::redact::redact;

use crate::batch::Loaded;

/// What a run did: records read, skipped and rejected; what the database said it did
/// with the rows of each table, added up over the batches (a row is new once, then
/// updated or unchanged at each later offer), and the distinct rows it touched.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub read: u64,
    pub loaded: Loaded,
    pub skipped: u64,
    pub rejected: u64,
}

impl Summary {
    /// Counts a batch the database has taken, with what it did.
    pub(crate) fn took(&mut self, loaded: Loaded) {
        self.loaded.add(loaded);
    }

    /// The summary line (stderr) and the run ledger's counts, under the same names.
    pub(crate) fn report(&self, url: &str, quarantine: &str) {
        use trendpipe_core::ledger;
        let l = &self.loaded;
        let t = &l.touched;
        let tables = [
            ("observations", l.observations, None),
            ("trends", l.trends, Some(t.trends.len())),
            ("places", l.places, Some(t.places.len())),
            ("posts", l.posts, Some(t.posts.len())),
            ("authors", l.authors, Some(t.authors.len())),
        ];
        let mut parts = Vec::new();
        for (name, w, touched) in tables {
            let mut counts = serde_json::json!({"new": w.new, "updated": w.updated, "unchanged": w.unchanged});
            if let Some(n) = touched {
                counts["touched"] = n.into();
            }
            ledger::counts(name, counts);
            parts.push(format!("{name} {} new, {} updated, {} unchanged", w.new, w.updated, w.unchanged));
        }
        for (name, n) in [("read", self.read), ("skipped", self.skipped), ("rejected", self.rejected)] {
            ledger::count(name, n);
        }
        log::info!(
            "read {} records, {} skipped, {} rejected; {}; touched {} trends in {} places, {} posts by {} authors; into {}",
            self.read,
            self.skipped,
            self.rejected,
            parts.join("; "),
            t.trends.len(),
            t.places.len(),
            t.posts.len(),
            t.authors.len(),
            redact(url)
        );
        if self.skipped > 0 {
            log::info!("{} records outside --since/--until skipped", self.skipped);
        }
        if self.rejected > 0 {
            log::warn!("{} records rejected, kept with their reasons in {quarantine}", self.rejected);
        }
    }
}

/// A stream, and its watermark before and after the run.
pub(crate) type StreamMarks = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Gives the run ledger the watermarks of the streams before and after the run: each
/// stream's as a detail (`watermarks`), and as the entry's own the earliest of the
/// streams' (everything before it is loaded in every stream).
pub(crate) fn record_watermarks(marks: &[StreamMarks]) {
    use trendpipe_core::record::format_time;
    let earliest = |pick: fn(&StreamMarks) -> Option<DateTime<Utc>>| marks.iter().filter_map(pick).min();
    trendpipe_core::ledger::watermarks(earliest(|m| m.1), earliest(|m| m.2));
    let detail: serde_json::Map<String, Value> = marks
        .iter()
        .map(|(stream, before, after)| {
            let value = serde_json::json!({
                "before": before.as_ref().map(format_time),
                "after": after.as_ref().map(format_time),
            });
            (stream.clone(), value)
        })
        .collect();
    trendpipe_core::ledger::detail("watermarks", Value::Object(detail));
}
