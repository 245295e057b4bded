//! The post providers, one file each behind one trait (the shape of Vector's sources).
//!
//! A source knows its provider and nothing else: its default base URL, which flags it
//! accepts, how to ask for a page of posts about a trend from a paging position, and
//! how to read a page into post records, the next position and the errors the
//! provider reports beside its data. The HTTP calls, checkpoints, limits and sinks
//! are the same for every source and live in the crate root.

pub mod bluesky;
pub mod mastodon;
pub mod x;
pub mod x_v1;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use trendpipe_core::record::Post;

pub use trendpipe_core::payload::ShapeError;

/// The flags a run was given that only some sources accept.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub files: bool,
    pub instances: bool,
    pub trend: bool,
    pub state: bool,
    pub from_mongo: bool,
}

impl Given {
    /// The first of `flags` that was given, for "`--x` is not for this source".
    pub fn first_of(&self, flags: &[&'static str]) -> Option<&'static str> {
        flags.iter().copied().find(|f| match *f {
            "--file" => self.files,
            "--instance" => self.instances,
            "--trend" => self.trend,
            "--state" => self.state,
            "--from mongo" => self.from_mongo,
            _ => false,
        })
    }
}

/// What to search for: one trend, within a time window, at most `page_size` posts.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The trend's name as the provider showed it (`#BBB26`, `Copa do Brasil`).
    pub name: &'a str,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page_size: u32,
}

/// Where a page came from.
#[derive(Debug, Clone)]
pub struct PageContext<'a> {
    /// The Mastodon instance that answered; empty for the other sources.
    pub origin: &'a str,
    /// The `Link` header's `rel="next"` target, for the providers that page that way.
    pub next_link: Option<&'a str>,
    /// When the counts were read.
    pub observed_at: DateTime<Utc>,
}

impl PageContext<'_> {
    /// A context for a page read now from no particular instance (tests, imports).
    pub fn now() -> PageContext<'static> {
        PageContext { origin: "", next_link: None, observed_at: Utc::now() }
    }
}

/// One page of a provider's answer, read into records.
#[derive(Debug, Default)]
pub struct Page {
    /// The search hits, newest first, as the provider ranked them.
    pub posts: Vec<Post>,
    /// Posts the hits reference that the page carries beside them (X's
    /// `includes.tweets`, a Mastodon reblog's status, a v1.1 `retweeted_status`),
    /// emitted so that every `repost_of`, `quote_of` and `parent_id` the page names
    /// points at a record.
    pub referenced: Vec<Post>,
    /// The paging position of the next page; `None` on the last page.
    pub next: Option<String>,
    /// Errors the provider reported with its data (X's `errors` array with HTTP 200).
    pub errors: Vec<String>,
}

/// A provider of posts.
pub trait Source {
    /// The `source` field of its records.
    fn name(&self) -> &'static str;

    /// Refuses the flags this source does not use, naming the first one.
    fn check_flags(&self, given: &Given) -> Result<(), String>;

    /// Reads one answer.
    fn parse_page(&self, body: &[u8], at: &PageContext) -> Result<Page, ShapeError>;
}

/// A source that answers over HTTP, page after page.
pub trait Remote: Source {
    /// The base URL when `--base-url` is not given; `origin` is the Mastodon instance.
    fn default_base(&self, origin: &str) -> String;

    /// The environment variable of its token, and whether one is required.
    fn token_env(&self) -> Option<(&'static str, bool)>;

    /// The URL of the page at `cursor` (the first page when `None`).
    fn page_url(&self, base: &str, query: &Query, cursor: Option<&str>) -> String;

    /// How many authors one follower lookup takes; 0 when the posts carry followers.
    fn profile_batch(&self) -> usize {
        0
    }

    /// The URL that looks up the followers of `authors`.
    fn profiles_url(&self, _base: &str, _authors: &[String]) -> String {
        String::new()
    }

    /// Reads a follower lookup into author id → followers.
    fn parse_profiles(&self, _body: &[u8]) -> Result<HashMap<String, i64>, ShapeError> {
        Ok(HashMap::new())
    }
}

/// Parses a body as a JSON object.
pub fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ShapeError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ShapeError::expected("body", "a JSON object", &other)),
        Err(e) => Err(ShapeError::new("body", format!("not valid JSON ({e})"))),
    }
}

/// A required string field (ids, texts).
pub fn string(obj: &Value, at: &str, name: &str) -> Result<String, ShapeError> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ShapeError::expected(format!("{at}.{name}"), "a string", other)),
        None => Err(ShapeError::new(format!("{at}.{name}"), "missing")),
    }
}

/// An optional string field: absent and null are `None`.
pub fn opt_string(obj: &Value, at: &str, name: &str) -> Result<Option<String>, ShapeError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ShapeError::expected(format!("{at}.{name}"), "a string", other)),
    }
}

/// A count that providers send as a number, a numeric string or null.
pub fn count(obj: &Value, at: &str, name: &str) -> Result<Option<i64>, ShapeError> {
    trendpipe_core::payload::count(&format!("{at}.{name}"), obj.get(name))
}

/// An RFC 3339 time of any precision (`2026-11-21T23:10:00Z`, `…00.123456Z`, `…+00:00`).
pub fn time(obj: &Value, at: &str, name: &str) -> Result<Option<DateTime<Utc>>, ShapeError> {
    match opt_string(obj, at, name)? {
        None => Ok(None),
        Some(s) => trendpipe_core::record::parse_time(&s)
            .map(Some)
            .map_err(|e| ShapeError::new(format!("{at}.{name}"), format!("{s:?} is not an RFC 3339 time ({e})"))),
    }
}

/// An array field; absent and null are empty.
pub fn array<'v>(obj: &'v Value, at: &str, name: &str) -> Result<&'v [Value], ShapeError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(ShapeError::expected(format!("{at}.{name}"), "an array", other)),
    }
}

/// A new post record with the fields every source fills.
pub fn post(source: &str, id: String, observed_at: DateTime<Utc>) -> Post {
    Post {
        source: source.to_owned(),
        id,
        url: None,
        text: None,
        lang: None,
        created_at: None,
        author: None,
        metrics: Default::default(),
        parent_id: None,
        quote_of: None,
        repost_of: None,
        conversation_id: None,
        trend: None,
        observed_at: Some(observed_at),
        sentiment: None,
        extra: Default::default(),
    }
}

/// The usage error of a misplaced flag.
pub fn refuse(source: &str, given: &Given, flags: &[&'static str], why: &str) -> Result<(), String> {
    match given.first_of(flags) {
        Some(flag) => Err(format!("--source {source}: {flag} {why}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_come_as_numbers_strings_or_null() {
        let v = json!({"a": 3, "b": "12", "c": null, "d": -1, "e": "many", "f": [1]});
        assert_eq!(count(&v, "x", "a").unwrap(), Some(3));
        assert_eq!(count(&v, "x", "b").unwrap(), Some(12));
        assert_eq!(count(&v, "x", "c").unwrap(), None);
        assert_eq!(count(&v, "x", "zz").unwrap(), None);
        assert_eq!(count(&v, "x", "d").unwrap_err().field, "x.d");
        assert!(count(&v, "x", "e").is_err());
        assert_eq!(count(&v, "x", "f").unwrap_err().to_string(), "x.f: expected a count, found an array");
    }

    #[test]
    fn times_of_mixed_precision() {
        let v = json!({"a": "2026-11-21T23:10:00Z", "b": "2026-11-21T23:10:00.123456Z", "c": "yesterday"});
        assert_eq!(trendpipe_core::record::format_time(&time(&v, "r", "a").unwrap().unwrap()), "2026-11-21T23:10:00Z");
        assert!(time(&v, "r", "b").unwrap().is_some());
        assert_eq!(time(&v, "r", "c").unwrap_err().field, "r.c");
    }
}
