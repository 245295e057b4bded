//! The records that flow between stages (docs/ARCHITECTURE.md, "Records").
//!
//! One JSON object per line, tagged by `kind`. Field names are stable; a stage adds
//! fields and never renames them; fields a stage does not know are kept in `extra` and
//! written back untouched, so that a newer upstream stage never loses data through an
//! older downstream one.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Anything a stage may read or write.
// Records are handled one at a time, never stored in bulk: boxing the larger variant
// would cost an allocation per record to save memory nobody holds.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Trend(Trend),
    Post(Post),
}

/// Where a trend was observed: a WOEID, a country code, a Mastodon instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One observation of one trending topic in one place at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub source: String,
    pub place: Place,
    /// The name as the provider shows it (`#BBB26`).
    pub name: String,
    /// The normalised name (see [`crate::key::trend_key`]).
    #[serde(default)]
    pub key: String,
    /// Posts about the trend as counted by the provider; `None` when it gave none.
    pub volume: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    #[serde(with = "rfc3339")]
    pub observed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The account that wrote a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Engagement counts of a post at the time it was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub reposts: Option<i64>,
    #[serde(default)]
    pub likes: Option<i64>,
    #[serde(default)]
    pub replies: Option<i64>,
    #[serde(default)]
    pub quotes: Option<i64>,
}

/// A post about a trend, with its author and engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub source: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    #[serde(default)]
    pub metrics: Metrics,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub quote_of: Option<String>,
    /// The provider id of the post this one reposts; its counts are copies of the
    /// original's, never engagement of the reposter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost_of: Option<String>,
    /// The provider id of the thread's first post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Post {
    /// Reads a post record straight from its JSON text, leaving `extra` (here and in
    /// the author) empty: for a stage that reads the known fields only. serde reads a
    /// tagged record with flattened fields through a buffer of the whole object; this
    /// reads it in one pass, about twice as fast. `None` when the text is not a post
    /// record of this shape: read it as a [`Record`] then, which accepts the same
    /// posts and says what is wrong with the others.
    pub fn from_json_known_fields(text: &str) -> Option<Post> {
        let p: KnownPost = serde_json::from_str(text).ok()?;
        Some(Post {
            source: p.source,
            id: p.id,
            url: p.url,
            text: p.text,
            lang: p.lang,
            created_at: p.created_at,
            author: p.author.map(|a| Author { id: a.id, handle: a.handle, followers: a.followers, extra: Map::new() }),
            metrics: p.metrics,
            parent_id: p.parent_id,
            quote_of: p.quote_of,
            repost_of: p.repost_of,
            conversation_id: p.conversation_id,
            trend: p.trend,
            observed_at: p.observed_at,
            sentiment: p.sentiment,
            extra: Map::new(),
        })
    }
}

/// The `kind` of a post record, the only value [`KnownPost`] takes.
#[derive(Deserialize)]
enum PostKind {
    #[serde(rename = "post")]
    Post,
}

/// [`Post`]'s fields with the same types and defaults, and its tag, without the
/// flattened rest (unknown fields are skipped).
#[derive(Deserialize)]
struct KnownPost {
    #[serde(rename = "kind")]
    _kind: PostKind,
    source: String,
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default, with = "rfc3339_opt")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    author: Option<KnownAuthor>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    quote_of: Option<String>,
    #[serde(default)]
    repost_of: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    trend: Option<String>,
    #[serde(default, with = "rfc3339_opt")]
    observed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    sentiment: Option<Sentiment>,
}

#[derive(Deserialize)]
struct KnownAuthor {
    id: String,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    followers: Option<i64>,
}

/// What `sentiment` adds to a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub model: String,
    pub compound: f64,
    pub pos: f64,
    pub neu: f64,
    pub neg: f64,
    pub label: String,
}

/// A record a stage could not accept, kept with the reason so that nothing is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// The stage that rejected it (`clean`, `etl-to-sql`, …).
    pub stage: String,
    /// Why, in words a user can act on (`volume: expected a number`).
    pub reason: String,
    /// The rule that dropped it, for counting (`schema`, `null-volume`, `duplicate`).
    pub rule: String,
    /// Where it came from: an input line number, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The record as it was read; a line that was not JSON is kept as a string.
    pub record: Value,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Timestamps are written as RFC 3339 in UTC with a `Z`, seconds precision unless the
/// value has a fraction, so that they sort as text too.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Reads an RFC 3339 timestamp with any offset and brings it to UTC.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc))
}

mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text)
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time ({e})")))
    }
}

mod rfc3339_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_time(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::parse_time(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time ({e})"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREND: &str = r##"{"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},"name":"#BBB26","key":"bbb26","volume":125000,"rank":1,"observed_at":"2026-11-22T01:30:00Z","woeid_parent":1}"##;

    #[test]
    fn trend_round_trip_keeps_unknown_fields() {
        let rec: Record = serde_json::from_str(TREND).unwrap();
        let Record::Trend(t) = &rec else { panic!("not a trend") };
        assert_eq!(t.volume, Some(125000));
        assert_eq!(t.extra["woeid_parent"], 1);
        let back = serde_json::to_string(&rec).unwrap();
        let a: Value = serde_json::from_str(TREND).unwrap();
        let b: Value = serde_json::from_str(&back).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn times_come_to_utc() {
        let t = parse_time("2026-11-21T22:30:00-03:00").unwrap();
        assert_eq!(format_time(&t), "2026-11-22T01:30:00Z");
    }

    #[test]
    fn post_with_sentiment() {
        let line = r#"{"kind":"post","source":"mastodon","id":"1134","text":"oi","lang":"pt","author":{"id":"9","handle":"ana","followers":12},"metrics":{"reposts":3,"likes":10,"replies":1,"quotes":0},"parent_id":null,"quote_of":null,"trend":"bbb26","sentiment":{"model":"vader-en","compound":0.62,"pos":0.31,"neu":0.69,"neg":0.0,"label":"positive"}}"#;
        let rec: Record = serde_json::from_str(line).unwrap();
        let Record::Post(p) = rec else { panic!("not a post") };
        assert_eq!(p.metrics.likes, Some(10));
        assert_eq!(p.sentiment.unwrap().label, "positive");
    }
}
