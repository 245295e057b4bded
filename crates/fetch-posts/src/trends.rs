//! The trends to collect posts for: read from NDJSON (refusing lines that are not trend
//! records, with their line numbers, into the reject file) or from MongoDB's `trends`,
//! narrowed to the latest snapshot of each place, its top N by rank then volume, and
//! deduplicated by key so that a trend of two places is fetched once per source.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use anyhow::Context;
use chrono::{DateTime, Utc};
use trendpipe_core::key::trend_key;
use trendpipe_core::mongo::{self, Mongo, bson_types::doc};
use trendpipe_core::ndjson::{NdjsonReader, parse_object};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{QuarantineEntry, Record, Trend};

/// One trend to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// The name to search for, as the provider of the trend showed it.
    pub name: String,
    /// The normalised key, written as each post's `trend`.
    pub key: String,
    /// The latest snapshot time it was seen in: the run window of its checkpoint.
    pub snapshot: DateTime<Utc>,
}

/// Reads trend records from NDJSON; what is not a trend record goes to `rejects`.
pub async fn from_ndjson(input: impl BufRead, rejects: &mut Quarantine<'_>) -> anyhow::Result<Vec<Trend>> {
    let mut trends = Vec::new();
    let mut reader = NdjsonReader::new(input);
    let now = Utc::now();
    while let Some(item) = reader.next_line() {
        let (line, reason, record) = match item.context("reading the trends on stdin")? {
            Err(bad) => (bad.line, bad.message, serde_json::Value::String(bad.raw)),
            Ok((line, text)) => match parse_object(line, text) {
                Err(bad) => (line, bad.message, serde_json::Value::String(bad.raw)),
                Ok((_, value)) => match serde_json::from_value::<Record>(value.clone()) {
                    Ok(Record::Trend(t)) => {
                        trends.push(t);
                        continue;
                    }
                    Ok(other) => {
                        let kind = match other {
                            Record::Post(_) => "post",
                            Record::Trend(_) => "trend",
                        };
                        (line, format!("expected a trend record, found a {kind} record"), value)
                    }
                    Err(e) => (line, format!("not a trend record: {e}"), value),
                },
            },
        };
        log::warn!("line {line}: {reason}");
        rejects
            .put(QuarantineEntry {
                stage: "fetch-posts".into(),
                reason,
                rule: "schema".into(),
                line: Some(line),
                record,
                at: now,
                run_id: None,
            })
            .await?;
    }
    rejects.flush().await?;
    Ok(trends)
}

/// Reads the trends observed since `since` (all when `None`) from MongoDB.
pub async fn from_mongo(mongo: &Mongo, since: Option<DateTime<Utc>>) -> anyhow::Result<Vec<Trend>> {
    let filter = match since {
        Some(t) => doc! { "observed_at": { "$gte": mongo::bson_types::DateTime::from_millis(t.timestamp_millis()) } },
        None => doc! {},
    };
    let mut cursor = mongo.find(mongo::TRENDS, filter, doc! { "observed_at": -1 }).await?;
    let mut trends = Vec::new();
    while let Some(value) = mongo::next_record(&mut cursor).await? {
        let trend: Trend =
            serde_json::from_value(value).context("a trend document of MongoDB is not a trend record")?;
        trends.push(trend);
    }
    Ok(trends)
}

/// The latest snapshot of each (source, place), its `top` trends by rank then volume,
/// one entry per key (the latest snapshot time among the places that list it).
pub fn select(trends: Vec<Trend>, top: usize) -> Vec<Wanted> {
    let mut latest: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    for t in &trends {
        let at = latest.entry((t.source.clone(), t.place.id.clone())).or_insert(t.observed_at);
        *at = (*at).max(t.observed_at);
    }
    let mut places: BTreeMap<(String, String), Vec<Trend>> = BTreeMap::new();
    for t in trends {
        let place = (t.source.clone(), t.place.id.clone());
        if latest.get(&place) == Some(&t.observed_at) {
            places.entry(place).or_default().push(t);
        }
    }
    let mut wanted: Vec<Wanted> = Vec::new();
    for (_, mut list) in places {
        list.sort_by(|a, b| {
            let rank = |t: &Trend| t.rank.unwrap_or(u32::MAX);
            rank(a).cmp(&rank(b)).then(b.volume.unwrap_or(-1).cmp(&a.volume.unwrap_or(-1)))
        });
        for t in list.into_iter().take(top) {
            let key = if t.key.trim().is_empty() { trend_key(&t.name) } else { t.key.clone() };
            if key.is_empty() {
                continue;
            }
            match wanted.iter_mut().find(|w| w.key == key) {
                Some(w) => w.snapshot = w.snapshot.max(t.observed_at),
                None => wanted.push(Wanted { name: t.name.trim().to_owned(), key, snapshot: t.observed_at }),
            }
        }
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn t(place: &str, name: &str, rank: Option<u32>, volume: Option<i64>, at: &str) -> String {
        serde_json::json!({"kind":"trend","source":"x","place":{"id":place},"name":name,"rank":rank,"volume":volume,"observed_at":at}).to_string()
    }

    #[tokio::test]
    async fn the_latest_snapshot_top_n_deduplicated_by_key() {
        let lines = [
            t("BR", "Velho", Some(1), Some(9), "2026-11-21T00:00:00Z"),
            t("BR", "#BBB26", Some(2), Some(5), "2026-11-22T00:00:00Z"),
            t("BR", "Neymar", Some(1), None, "2026-11-22T00:00:00Z"),
            t("BR", "Copa", None, Some(100), "2026-11-22T00:00:00Z"),
            t("BR", "Sem rank", None, Some(200), "2026-11-22T00:00:00Z"),
            t("US", "#bbb26", Some(1), Some(1), "2026-11-22T01:00:00Z"),
        ];
        let input = lines.join("\n") + "\n{\"kind\":\"post\",\"source\":\"x\",\"id\":\"1\"}\nnot json\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let mut q = Quarantine::file(&path);
        let trends = from_ndjson(Cursor::new(input), &mut q).await.unwrap();
        assert_eq!((trends.len(), q.count()), (6, 2));
        let rejects = std::fs::read_to_string(&path).unwrap();
        assert!(rejects.contains("\"line\":7") && rejects.contains("found a post record"), "{rejects}");
        assert!(rejects.contains("\"line\":8"), "{rejects}");
        let wanted = select(trends, 3);
        let keys: Vec<&str> = wanted.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["neymar", "bbb26", "sem rank"]);
        // #BBB26 of BR and #bbb26 of US are one trend, in the later snapshot's window.
        assert_eq!(trendpipe_core::record::format_time(&wanted[1].snapshot), "2026-11-22T01:00:00Z");
    }
}
