//! Mastodon: `GET /api/v1/trends/tags?limit=N` of one instance (no auth).
//!
//! Answers an array of Tag entities, ordered by the instance's trend score (not by
//! uses): `{"name":"…","url":"…","history":[{"day":"…","uses":"…","accounts":"…"}]}`.
//! Every history number is a string; `day` is the epoch second of a UTC midnight;
//! entries are newest first and the first is today's day, still filling up.
//!
//! `volume` is the uses of the last *full* day (`history[1]`): today's count restarts
//! at zero every midnight and would show every tag collapsing at 00:00, while a full
//! day is a real count of the provider, close to the 24-hour counts of other sources.
//! A tag with no full day in its history keeps `volume: null`, never a guess. Nothing
//! is dropped: `volume_day`, that day's `accounts`, today's `uses_today` and
//! `accounts_today` and the whole `history` (numbers, days as RFC 3339) go in the
//! record. The API gives no observation time: the fetch time is used.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use trendpipe_core::record::format_time;

use trendpipe_core::config::Config;
use trendpipe_core::error::Error;
use trendpipe_core::record::Place;

use super::{Flag, Item, Plan, ShapeError, Source, Target, count};
use crate::args::Args;

/// `--source mastodon`: each `--instance` is a place.
pub struct Mastodon;

impl Source for Mastodon {
    fn name(&self) -> &'static str {
        "mastodon"
    }

    fn flags(&self) -> &'static [Flag] {
        &[Flag::Instance, Flag::Limit]
    }

    fn plan(&self, args: &Args, config: &Config) -> anyhow::Result<Plan> {
        if args.instances.is_empty() {
            return Err(Error::Usage(
                "--source mastodon needs at least one --instance HOST (mastodon.social, …)".into(),
            )
            .into());
        }
        let limit = args.limit.unwrap_or(MAX_LIMIT);
        let mut targets = Vec::new();
        for instance in &args.instances {
            // `https://host/` is accepted as well as `host`; the place is the host alone.
            let given = instance.trim().trim_end_matches('/');
            let (scheme_base, host) = match given.split_once("://") {
                Some((_, host)) => (given.to_owned(), host),
                None => (format!("https://{given}"), given),
            };
            if host.is_empty() || host.contains('/') {
                return Err(Error::Usage(format!(
                    "--instance {instance:?}: expected a host name such as mastodon.social"
                ))
                .into());
            }
            let base = config.base_url(args.base_url.as_deref(), "mastodon", &scheme_base);
            targets.push(Target {
                label: format!("mastodon instance {host}"),
                place: Place { id: host.to_owned(), name: None, extra: serde_json::Map::new() },
                url: format!("{base}{}", path(limit)),
            });
        }
        Ok(Plan { targets, bearer: None, refused: None })
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Item>, ShapeError> {
        parse(body)
    }
}

/// The most tags the API gives in one page.
pub const MAX_LIMIT: u32 = 20;

/// The path and query of the endpoint.
pub fn path(limit: u32) -> String {
    format!("/api/v1/trends/tags?limit={}", limit.clamp(1, MAX_LIMIT))
}

/// One day of a tag's history.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Day {
    day: DateTime<Utc>,
    uses: i64,
    accounts: Option<i64>,
}

/// Parses a response body.
pub fn parse(body: &[u8]) -> Result<Vec<Item>, ShapeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ShapeError::new("body", format!("not valid JSON ({e})")))?;
    let tags = match &value {
        Value::Array(tags) => tags,
        // An instance answering `{"error":"…"}` with 200 still deserves its reason shown.
        Value::Object(obj) => {
            let why = obj.get("error").and_then(Value::as_str).unwrap_or("expected an array of tags, found an object");
            return Err(ShapeError::new("body", why));
        }
        other => return Err(ShapeError::expected("body", "an array of tags", other)),
    };
    tags.iter().enumerate().map(|(i, tag)| item(i, tag)).collect()
}

fn item(i: usize, tag: &Value) -> Result<Item, ShapeError> {
    let field = |f: &str| format!("[{i}].{f}");
    let Value::Object(obj) = tag else {
        return Err(ShapeError::expected(format!("[{i}]"), "a tag object", tag));
    };
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(ShapeError::new(field("name"), "empty")),
        Some(other) => return Err(ShapeError::expected(field("name"), "a string", other)),
        None => return Err(ShapeError::new(field("name"), "missing")),
    };
    let history = match obj.get("history") {
        Some(Value::Array(h)) => h
            .iter()
            .enumerate()
            .map(|(j, d)| day(&field(&format!("history[{j}]")), d))
            .collect::<Result<Vec<_>, _>>()?,
        // Older instances and some forks leave it out: no count then, but the tag trends.
        None | Some(Value::Null) => Vec::new(),
        Some(other) => return Err(ShapeError::expected(field("history"), "an array", other)),
    };
    let mut extra = Map::new();
    if let Some(url) = obj.get("url").and_then(Value::as_str) {
        extra.insert("url".into(), url.into());
    }
    let full_day = history.get(1);
    if let Some(d) = full_day {
        extra.insert("volume_day".into(), format_time(&d.day).into());
        extra.insert("accounts".into(), d.accounts.into());
    }
    if let Some(today) = history.first() {
        extra.insert("uses_today".into(), today.uses.into());
        extra.insert("accounts_today".into(), today.accounts.into());
    }
    extra.insert(
        "history".into(),
        history.iter().map(|d| json!({"day": format_time(&d.day), "uses": d.uses, "accounts": d.accounts})).collect(),
    );
    Ok(Item { name, volume: full_day.map(|d| d.uses), observed_at: None, extra })
}

fn day(at: &str, entry: &Value) -> Result<Day, ShapeError> {
    let Value::Object(obj) = entry else {
        return Err(ShapeError::expected(at, "an object", entry));
    };
    let day = count(&format!("{at}.day"), obj.get("day"))?
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .ok_or_else(|| ShapeError::new(format!("{at}.day"), "missing"))?;
    let uses = count(&format!("{at}.uses"), obj.get("uses"))?
        .ok_or_else(|| ShapeError::new(format!("{at}.uses"), "missing"))?;
    let accounts = count(&format!("{at}.accounts"), obj.get("accounts"))?;
    Ok(Day { day, uses, accounts })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: &str = r#"[
      {"id":"201","name":"Caturday","url":"https://mastodon.example/tags/Caturday","history":[
        {"day":"1795392000","uses":"37","accounts":"30"},
        {"day":"1795305600","uses":"1204","accounts":"988"},
        {"day":"1795219200","uses":"151","accounts":"120"}]},
      {"name":"introduction","url":"https://mastodon.example/tags/introduction","history":[
        {"day":"1795392000","uses":"4","accounts":"4"}]}
    ]"#;

    #[test]
    fn volume_is_the_last_full_day_and_history_is_kept() {
        let items = parse(TAGS.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        let cat = &items[0];
        assert_eq!(cat.name, "Caturday");
        assert_eq!(cat.volume, Some(1204));
        assert_eq!(cat.observed_at, None);
        assert_eq!(cat.extra["volume_day"], "2026-11-22T00:00:00Z");
        assert_eq!(cat.extra["accounts"], 988);
        assert_eq!(cat.extra["uses_today"], 37);
        assert_eq!(cat.extra["accounts_today"], 30);
        assert_eq!(cat.extra["url"], "https://mastodon.example/tags/Caturday");
        assert_eq!(cat.extra["history"][2], json!({"day": "2026-11-21T00:00:00Z", "uses": 151, "accounts": 120}));
        // Only today's partial day: no full day, so no volume rather than a guess.
        assert_eq!(items[1].volume, None);
        assert_eq!(items[1].extra["uses_today"], 4);
        assert!(items[1].extra.get("volume_day").is_none());
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        assert_eq!(
            parse(b"{\"error\":\"This API requires an authenticated user\"}").unwrap_err().to_string(),
            "body: This API requires an authenticated user"
        );
        assert_eq!(parse(b"\"x\"").unwrap_err().to_string(), "body: expected an array of tags, found a string");
        let e = parse(br#"[{"name":"a","history":[{"day":"1","uses":"1"},{"day":"2","uses":"many"}]}]"#).unwrap_err();
        assert_eq!(e.to_string(), r#"[0].history[1].uses: expected a count, found "many""#);
        let e = parse(br#"[{"name":"a","history":[{"uses":"1"}]}]"#).unwrap_err();
        assert_eq!(e.to_string(), "[0].history[0].day: missing");
        let e = parse(br#"[{"url":"u"}]"#).unwrap_err();
        assert_eq!(e.to_string(), "[0].name: missing");
        let e = parse(br#"[{"name":"a","history":{}}]"#).unwrap_err();
        assert_eq!(e.to_string(), "[0].history: expected an array, found an object");
        assert!(parse(br#"[{"name":"a","hist"#).unwrap_err().problem.starts_with("not valid JSON"));
    }

    #[test]
    fn limit_is_clamped_to_what_the_api_allows() {
        assert_eq!(path(50), "/api/v1/trends/tags?limit=20");
        assert_eq!(path(0), "/api/v1/trends/tags?limit=1");
    }
}
