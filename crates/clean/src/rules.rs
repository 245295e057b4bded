//! The cleaning rules, applied to one record at a time.
//!
//! A record either comes out (normalised), is dropped by a rule (null volume,
//! duplicate) or is rejected as invalid. Dropped and rejected records both go to the
//! quarantine with their reason; only rejections make the run exit 1, because a null
//! volume or a repeated snapshot is the normal state of raw data, not an error.

use std::collections::HashSet;

use serde_json::{Map, Number, Value};
use trendpipe_core::key::trend_key;
use trendpipe_core::ndjson::json_kind;
use trendpipe_core::record::{Record, Trend, format_time, parse_time};

/// Which rules run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub keep_null_volume: bool,
    pub dedupe: bool,
}

/// What became of one record.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Keep(Value),
    /// Dropped by a cleaning rule (`null-volume`, `duplicate`).
    Drop {
        rule: &'static str,
        reason: String,
    },
    /// Not a valid record.
    Reject {
        reason: String,
    },
}

/// The rules with the state they need (the keys seen, for duplicates).
pub struct Cleaner {
    options: Options,
    seen: HashSet<(String, String, String, String)>,
}

impl Cleaner {
    pub fn new(options: Options) -> Self {
        Self { options, seen: HashSet::new() }
    }

    pub fn process(&mut self, value: Value) -> Outcome {
        let kind = value.get("kind").and_then(Value::as_str).map(str::to_owned);
        match kind.as_deref() {
            Some("trend") => self.trend(value),
            // Posts are cleaned by their own rules (issue 4); until then they pass
            // through untouched so that no stage loses them.
            Some("post") => Outcome::Keep(value),
            Some(other) => {
                Outcome::Reject { reason: format!("kind: unknown kind {other:?} (expected \"trend\" or \"post\")") }
            }
            None => Outcome::Reject { reason: "kind: missing (expected \"trend\" or \"post\")".into() },
        }
    }

    fn trend(&mut self, value: Value) -> Outcome {
        let trend = match normalise_trend(value) {
            Ok(t) => t,
            Err(reason) => return Outcome::Reject { reason },
        };
        if trend.volume.is_none() && !self.options.keep_null_volume {
            return Outcome::Drop { rule: "null-volume", reason: "volume: null (the provider gave no count)".into() };
        }
        if self.options.dedupe {
            let id = (trend.source.clone(), trend.place.id.clone(), trend.key.clone(), format_time(&trend.observed_at));
            if !self.seen.insert(id) {
                return Outcome::Drop {
                    rule: "duplicate",
                    reason: format!(
                        "duplicate of an earlier {} trend {:?} in place {} at {}",
                        trend.source,
                        trend.key,
                        trend.place.id,
                        format_time(&trend.observed_at)
                    ),
                };
            }
        }
        match serde_json::to_value(Record::Trend(trend)) {
            Ok(v) => Outcome::Keep(v),
            Err(e) => Outcome::Reject { reason: format!("cannot serialise: {e}") },
        }
    }
}

/// Validates a raw trend and normalises it: names trimmed, the key recomputed, times
/// in UTC, counts given as strings turned into numbers.
pub fn normalise_trend(value: Value) -> Result<Trend, String> {
    let Value::Object(mut obj) = value else {
        return Err("expected a JSON object".into());
    };
    let source = required_string(&obj, "source")?;
    let name = required_string(&obj, "name")?;
    let key = trend_key(&name);
    if key.is_empty() {
        return Err(format!("name: {name:?} has nothing left once normalised"));
    }
    match obj.get_mut("place") {
        Some(Value::Object(place)) => match place.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                let trimmed = s.trim().to_owned();
                place.insert("id".into(), Value::String(trimmed));
            }
            Some(Value::Number(n)) => {
                let text = n.to_string();
                place.insert("id".into(), Value::String(text));
            }
            Some(other) => return Err(format!("place.id: expected a string, found {}", json_kind(other))),
            None => return Err("place.id: missing".into()),
        },
        Some(other) => return Err(format!("place: expected an object, found {}", json_kind(other))),
        None => return Err("place: missing".into()),
    }
    let observed_at = match obj.get("observed_at") {
        Some(Value::String(s)) => {
            parse_time(s).map_err(|e| format!("observed_at: {s:?} is not an RFC 3339 time ({e})"))?
        }
        Some(other) => return Err(format!("observed_at: expected a string, found {}", json_kind(other))),
        None => return Err("observed_at: missing".into()),
    };
    for (field, min) in [("volume", 0), ("rank", 1)] {
        let normalised = count(field, obj.get(field), min)?;
        obj.insert(field.into(), normalised);
    }
    obj.insert("source".into(), Value::String(source));
    obj.insert("name".into(), Value::String(name));
    obj.insert("key".into(), Value::String(key));
    obj.insert("observed_at".into(), Value::String(format_time(&observed_at)));
    obj.remove("kind");
    if obj.get("rank") == Some(&Value::Null) {
        obj.remove("rank");
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| format!("invalid trend: {e}"))
}

fn required_string(obj: &Map<String, Value>, field: &str) -> Result<String, String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::String(_)) => Err(format!("{field}: empty")),
        Some(other) => Err(format!("{field}: expected a string, found {}", json_kind(other))),
        None => Err(format!("{field}: missing")),
    }
}

/// A count as a JSON number, from a number, a numeric string (`"12,300"` too) or
/// null. A float with no fraction (`1200.0`) is accepted; anything else is an error
/// naming the field.
fn count(field: &str, value: Option<&Value>, min: i64) -> Result<Value, String> {
    let n = match value {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(format!("{field}: expected a whole number, found {n}")),
        },
        Some(Value::String(s)) => {
            let digits: String = s.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
            if digits.is_empty() {
                return Ok(Value::Null);
            }
            digits.parse::<i64>().map_err(|_| format!("{field}: expected a number, found {s:?}"))?
        }
        Some(other) => return Err(format!("{field}: expected a number, found {}", json_kind(other))),
    };
    if n < min {
        return Err(format!("{field}: {n} is below {min}"));
    }
    Ok(Value::Number(Number::from(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cleaner() -> Cleaner {
        Cleaner::new(Options { keep_null_volume: false, dedupe: true })
    }

    fn trend(volume: Value) -> Value {
        json!({"kind":"trend","source":"x","place":{"id":23424768,"name":"Brazil"},"name":"  #BBB26 ",
               "volume":volume,"rank":"1","observed_at":"2026-11-21T22:30:00-03:00","provider_field":true})
    }

    #[test]
    fn normalises_a_trend() {
        let Outcome::Keep(v) = cleaner().process(trend(json!("125,000"))) else { panic!("dropped") };
        assert_eq!(v["name"], "#BBB26");
        assert_eq!(v["key"], "bbb26");
        assert_eq!(v["volume"], 125000);
        assert_eq!(v["rank"], 1);
        assert_eq!(v["place"]["id"], "23424768");
        assert_eq!(v["observed_at"], "2026-11-22T01:30:00Z");
        assert_eq!(v["provider_field"], true);
        assert_eq!(v["kind"], "trend");
    }

    #[test]
    fn null_volume_is_dropped_unless_kept() {
        assert!(matches!(cleaner().process(trend(Value::Null)), Outcome::Drop { rule: "null-volume", .. }));
        let mut keep = Cleaner::new(Options { keep_null_volume: true, dedupe: true });
        assert!(matches!(keep.process(trend(Value::Null)), Outcome::Keep(_)));
    }

    #[test]
    fn same_observation_twice_is_a_duplicate() {
        let mut c = cleaner();
        assert!(matches!(c.process(trend(json!(5))), Outcome::Keep(_)));
        // Same instant written in another offset, other case: still the same key.
        let mut again = trend(json!(7));
        again["name"] = json!("#bbb26");
        again["observed_at"] = json!("2026-11-22T01:30:00Z");
        assert!(matches!(c.process(again), Outcome::Drop { rule: "duplicate", .. }));
        let mut other_place = trend(json!(5));
        other_place["place"]["id"] = json!("1");
        assert!(matches!(c.process(other_place), Outcome::Keep(_)));
    }

    #[test]
    fn invalid_records_name_the_field() {
        let cases = [
            (json!({"kind":"trend"}), "source: missing"),
            (json!({"kind":"tweet"}), "kind: unknown kind \"tweet\""),
            (json!({"source":"x"}), "kind: missing"),
        ];
        for (input, expected) in cases {
            match cleaner().process(input) {
                Outcome::Reject { reason } => assert!(reason.starts_with(expected), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
        let mut bad = trend(json!("lots"));
        assert_eq!(
            cleaner().process(bad.clone()),
            Outcome::Reject { reason: "volume: expected a number, found \"lots\"".into() }
        );
        bad["volume"] = json!(-3);
        assert_eq!(cleaner().process(bad.clone()), Outcome::Reject { reason: "volume: -3 is below 0".into() });
        bad["volume"] = json!(3);
        bad["observed_at"] = json!("yesterday");
        assert!(
            matches!(cleaner().process(bad.clone()), Outcome::Reject { reason } if reason.starts_with("observed_at: \"yesterday\""))
        );
        bad["observed_at"] = json!("2026-11-22T01:30:00Z");
        bad["place"] = json!("BR");
        assert_eq!(
            cleaner().process(bad),
            Outcome::Reject { reason: "place: expected an object, found a string".into() }
        );
    }
}
