//! Bluesky: `GET /xrpc/app.bsky.unspecced.getTrendingTopics` (AppView, optional auth).
//!
//! Answers `{"topics":[trendingTopic],"suggested":[trendingTopic]}` where a
//! `trendingTopic` is `{"topic":"…","displayName":"…","description":"…","link":"…"}`
//! (`topic` and `link` required by the lexicon, the others optional). The endpoint is
//! "unspecced": Bluesky may add keys at any time, so unknown keys are ignored.
//!
//! There are no counts at all: every record has `volume: null`. `topics` become the
//! trends, in order (rank 1 first); `name` is `topic` (always present and stable
//! between snapshots), `display_name`, `description` and `link` are kept, and so is
//! `category` when a topic carries one (the lexicon's newer `trendView` has it, and
//! the AppView adds it to topics it has classified): it is the provider's own category
//! that the report prefers to its keyword rules. `suggested`
//! is skipped: it is Bluesky's list of topics to explore, not of topics trending now,
//! and mixing it in would put editorial picks into the top-N; [`parse`] returns how
//! many there were so the run can say so. The API gives no observation time: the
//! fetch time is used.

use serde_json::{Map, Value};
use trendpipe_core::config::Config;
use trendpipe_core::record::Place;

use super::{Flag, Item, Plan, ShapeError, Source, Target};
use crate::args::Args;

/// `--source bluesky`: one worldwide list, place `global`.
pub struct Bluesky;

impl Source for Bluesky {
    fn name(&self) -> &'static str {
        "bluesky"
    }

    fn flags(&self) -> &'static [Flag] {
        &[Flag::Limit]
    }

    fn plan(&self, args: &Args, config: &Config) -> anyhow::Result<Plan> {
        let token = config.secret("BLUESKY_TOKEN");
        let base = config.base_url(args.base_url.as_deref(), "bluesky", "https://public.api.bsky.app");
        let limit = args.limit.unwrap_or(MAX_LIMIT);
        let targets = vec![Target {
            label: "bluesky place global".into(),
            place: Place { id: "global".into(), name: None, extra: Map::new() },
            url: format!("{base}{}", path(limit)),
        }];
        let refused = token.as_ref().map(|_| "Bluesky refused the token; check BLUESKY_TOKEN");
        Ok(Plan { targets, bearer: token, refused })
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Item>, ShapeError> {
        parse(body).map(|topics| {
            if topics.suggested > 0 {
                log::info!("bluesky: {} suggested topics left out (not trending)", topics.suggested);
            }
            topics.items
        })
    }
}

/// The most topics the lexicon lets one ask for.
pub const MAX_LIMIT: u32 = 25;

/// The path and query of the endpoint.
pub fn path(limit: u32) -> String {
    format!("/xrpc/app.bsky.unspecced.getTrendingTopics?limit={}", limit.clamp(1, MAX_LIMIT))
}

/// The trending topics, and how many `suggested` topics were left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    pub items: Vec<Item>,
    pub suggested: usize,
}

/// Parses a response body.
pub fn parse(body: &[u8]) -> Result<Topics, ShapeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ShapeError::new("body", format!("not valid JSON ({e})")))?;
    let Value::Object(top) = &value else {
        return Err(ShapeError::expected("body", "a JSON object", &value));
    };
    let topics = match top.get("topics") {
        Some(Value::Array(t)) => t,
        Some(other) => return Err(ShapeError::expected("topics", "an array", other)),
        None => {
            // XRPC errors are `{"error":"…","message":"…"}`.
            let why = top.get("message").or_else(|| top.get("error")).and_then(Value::as_str).unwrap_or("missing");
            return Err(ShapeError::new("topics", why));
        }
    };
    let suggested = match top.get("suggested") {
        Some(Value::Array(s)) => s.len(),
        None | Some(Value::Null) => 0,
        Some(other) => return Err(ShapeError::expected("suggested", "an array", other)),
    };
    let items = topics.iter().enumerate().map(|(i, t)| item(i, t)).collect::<Result<Vec<_>, _>>()?;
    Ok(Topics { items, suggested })
}

fn item(i: usize, topic: &Value) -> Result<Item, ShapeError> {
    let field = |f: &str| format!("topics[{i}].{f}");
    let Value::Object(obj) = topic else {
        return Err(ShapeError::expected(format!("topics[{i}]"), "an object", topic));
    };
    let name = match obj.get("topic") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(ShapeError::new(field("topic"), "empty")),
        Some(other) => return Err(ShapeError::expected(field("topic"), "a string", other)),
        None => return Err(ShapeError::new(field("topic"), "missing")),
    };
    let mut extra = Map::new();
    for (from, to) in
        [("displayName", "display_name"), ("description", "description"), ("link", "link"), ("category", "category")]
    {
        match obj.get(from) {
            Some(Value::String(s)) if !s.is_empty() => {
                extra.insert(to.into(), s.as_str().into());
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(other) => return Err(ShapeError::expected(field(from), "a string", other)),
        }
    }
    Ok(Item { name, volume: None, observed_at: None, extra })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_in_order_without_counts() {
        let body = r##"{"topics":[
            {"topic":"#atproto","displayName":"#atproto","description":"","link":"/hashtag/atproto","$type":"app.bsky.unspecced.defs#trendingTopic"},
            {"topic":"Eleições","link":"/search?q=Elei%C3%A7%C3%B5es","futureKey":1}],
          "suggested":[{"topic":"Art","link":"/profile/x/feed/art"}]}"##;
        let t = parse(body.as_bytes()).unwrap();
        assert_eq!(t.suggested, 1);
        assert_eq!(t.items.len(), 2);
        assert_eq!(t.items[0].name, "#atproto");
        assert_eq!(t.items[0].volume, None);
        assert_eq!(t.items[0].extra["display_name"], "#atproto");
        assert_eq!(t.items[0].extra["link"], "/hashtag/atproto");
        // An empty description says nothing: it is not kept.
        assert!(t.items[0].extra.get("description").is_none());
        assert_eq!(t.items[1].name, "Eleições");
        assert_eq!(t.items[1].extra.len(), 1);
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let e = parse(br#"{"error":"InvalidRequest","message":"limit must be <= 25"}"#).unwrap_err();
        assert_eq!(e.to_string(), "topics: limit must be <= 25");
        let e = parse(br#"{"topics":{}}"#).unwrap_err();
        assert_eq!(e.to_string(), "topics: expected an array, found an object");
        let e = parse(br#"{"topics":[{"topic":"a"},{"displayName":"b"}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "topics[1].topic: missing");
        let e = parse(br#"{"topics":[{"topic":"a","link":7}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "topics[0].link: expected a string, found a number");
        assert_eq!(parse(b"[]").unwrap_err().field, "body");
        assert!(parse(br#"{"topics":[{"top"#).unwrap_err().problem.starts_with("not valid JSON"));
    }
}
