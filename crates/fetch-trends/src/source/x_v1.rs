//! Saved Twitter API v1.1 `trends/place` responses, imported from files.
//!
//! The payload is an array (one element per requested place) of
//! `{"trends":[…],"as_of":"…","created_at":"…","locations":[{"name":"…","woeid":1}]}`.
//! Each trend has `name`, `url`, `query` (percent-encoded), `promoted_content` and
//! `tweet_volume` (null for most trends). `as_of` is when the list was computed and
//! becomes the observation time.

use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::{Flag, ShapeError, count};

/// The flags `--source x-v1` takes: the files, and places to keep from them.
pub const FLAGS: &[Flag] = &[Flag::File, Flag::Place];

/// The trends of one place in one saved response.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub woeid: String,
    pub place_name: Option<String>,
    pub observed_at: DateTime<Utc>,
    pub trends: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub volume: Option<i64>,
    /// `query` decoded and `url`, kept as context for later stages.
    pub extra: Map<String, Value>,
}

/// Parses one saved response (a file's whole content).
pub fn parse(body: &[u8]) -> Result<Vec<Snapshot>, ShapeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ShapeError::new("body", format!("not valid JSON ({e})")))?;
    // Some tools saved the single element rather than the array; accept both.
    let elements = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        other => return Err(ShapeError::expected("body", "an array", &other)),
    };
    elements.iter().enumerate().map(|(i, e)| snapshot(i, e)).collect()
}

fn snapshot(i: usize, element: &Value) -> Result<Snapshot, ShapeError> {
    let at = |f: &str| format!("[{i}].{f}");
    let Value::Object(obj) = element else {
        return Err(ShapeError::expected(format!("[{i}]"), "an object", element));
    };
    let location =
        obj.get("locations").and_then(|l| l.get(0)).ok_or_else(|| ShapeError::new(at("locations"), "missing"))?;
    let woeid = match location.get("woeid") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(ShapeError::expected(at("locations[0].woeid"), "a number", other)),
        None => return Err(ShapeError::new(at("locations[0].woeid"), "missing")),
    };
    let place_name = location.get("name").and_then(Value::as_str).map(str::to_owned);
    let time_text = obj
        .get("as_of")
        .or_else(|| obj.get("created_at"))
        .and_then(Value::as_str)
        .ok_or_else(|| ShapeError::new(at("as_of"), "missing"))?;
    let observed_at = trendpipe_core::record::parse_time(time_text)
        .map_err(|e| ShapeError::new(at("as_of"), format!("{time_text:?}: {e}")))?;
    let trends = match obj.get("trends") {
        Some(Value::Array(t)) => t,
        Some(other) => return Err(ShapeError::expected(at("trends"), "an array", other)),
        None => return Err(ShapeError::new(at("trends"), "missing")),
    };
    let trends = trends
        .iter()
        .enumerate()
        .map(|(j, t)| {
            let field = |f: &str| format!("[{i}].trends[{j}].{f}");
            let name = t
                .get("name")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ShapeError::new(field("name"), "missing or not a string"))?;
            let volume = count(&field("tweet_volume"), t.get("tweet_volume"))?;
            let mut extra = Map::new();
            if let Some(q) = t.get("query").and_then(Value::as_str) {
                let decoded = percent_decode_str(&q.replace('+', " ")).decode_utf8_lossy().into_owned();
                extra.insert("query".into(), Value::String(decoded));
            }
            if let Some(u) = t.get("url").and_then(Value::as_str) {
                extra.insert("url".into(), Value::String(u.to_owned()));
            }
            Ok(Item { name: name.to_owned(), volume, extra })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Snapshot { woeid, place_name, observed_at, trends })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_response_with_null_volumes() {
        let body = r##"[{"trends":[{"name":"#Eleições","url":"http://twitter.com/search?q=%23Elei%C3%A7%C3%B5es","promoted_content":null,"query":"%23Elei%C3%A7%C3%B5es","tweet_volume":null},{"name":"Neymar","url":"http://twitter.com/search?q=Neymar","promoted_content":null,"query":"Neymar","tweet_volume":48857}],"as_of":"2022-10-02T21:00:11Z","created_at":"2022-10-02T20:51:03Z","locations":[{"name":"Brazil","woeid":23424768}]}]"##;
        let snaps = parse(body.as_bytes()).unwrap();
        assert_eq!(snaps.len(), 1);
        let s = &snaps[0];
        assert_eq!(s.woeid, "23424768");
        assert_eq!(s.place_name.as_deref(), Some("Brazil"));
        assert_eq!(trendpipe_core::record::format_time(&s.observed_at), "2022-10-02T21:00:11Z");
        assert_eq!(s.trends[0].volume, None);
        assert_eq!(s.trends[0].extra["query"], "#Eleições");
        assert_eq!(s.trends[1].volume, Some(48857));
    }

    #[test]
    fn wrong_shape() {
        let e = parse(br#"[{"trends":[],"as_of":"2022-10-02T21:00:11Z"}]"#).unwrap_err();
        assert_eq!(e.field, "[0].locations");
        let e = parse(br#"[{"trends":[{"name":"a","tweet_volume":true}],"as_of":"2022-10-02T21:00:11Z","locations":[{"woeid":1}]}]"#).unwrap_err();
        assert_eq!(e.to_string(), "[0].trends[0].tweet_volume: expected a count, found a boolean");
    }
}
