//! The cleaning rules, each written once, and the checks of a record's fields.
//!
//! Every record is validated ([`Rule::Schema`]), dropped when it has no volume
//! ([`Rule::NullVolume`]), normalised ([`Rule::Normalise`]), dropped when it repeats an
//! earlier one ([`Rule::Duplicate`]), stripped of the provider fields no stage reads
//! ([`Rule::ExtraFields`]) and, for trends, flagged `"volume_scope": "global"` when the
//! same key has the same volume in several places of one snapshot
//! ([`Rule::GlobalVolume`]). The checks here work on [`Field`]s, the values of a
//! record borrowed either from a line (see [`crate::prepare`]) or from a
//! `serde_json::Value` (MongoDB documents, and lines of unusual shape), so that the
//! filter, the in-place MongoDB mode and the tests judge a record by the same code.
//! The rules that need the stream (dedupe, window, global volume) are in
//! [`crate::stream`]; identities and their memory in [`crate::identity`].
//!
//! A repost's `metrics` are copies of the original post's counts: they are never
//! engagement of the reposter. So a repost's freshness (which of two copies of the
//! same post wins) ignores them, and a repost is its own record (its own `source` and
//! `id`): it is never merged into the post it reposts.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use trendpipe_core::record::{format_time, parse_time};

use crate::identity::{Caches, Freshness};

/// A rule of `clean`. The ones that drop a record name it in the reject file and the
/// quarantine (`"rule": "null-volume"`); the others name the changes in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// Not a valid record (`schema`): rejected, and the run exits 1.
    Schema,
    /// A trend observation without a volume (`null-volume`): dropped.
    NullVolume,
    /// Trimmed names, recomputed keys, UTC times, numbers for counts given as text,
    /// HTML entities decoded in post text (`normalised`).
    Normalise,
    /// The same trend, place and time, or the same post, again (`duplicate`): dropped.
    Duplicate,
    /// Provider fields no stage reads, removed (`extra-fields`).
    ExtraFields,
    /// The same volume for a key in several places of a snapshot (`global-volume`).
    GlobalVolume,
    /// An invariant of `clean` itself broke (`internal-error`): the record is kept in
    /// the quarantine and the run fails (exit 2).
    Internal,
}

impl Rule {
    /// The name in reject records, the quarantine and the summary.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Schema => "schema",
            Self::NullVolume => "null-volume",
            Self::Normalise => "normalised",
            Self::Duplicate => "duplicate",
            Self::ExtraFields => "extra-fields",
            Self::GlobalVolume => "global-volume",
            Self::Internal => "internal-error",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The reason given for [`Rule::NullVolume`].
pub const NULL_VOLUME: &str = "volume: null (the provider gave no count)";

/// The fields of a clean trend (docs/ARCHITECTURE.md, "Records", plus `volume_scope`
/// that `clean` adds). Anything else is a provider field no stage reads.
pub const TREND_FIELDS: [&str; 12] = [
    "kind",
    "source",
    "place",
    "name",
    "key",
    "volume",
    "rank",
    "observed_at",
    "run_id",
    "volume_scope",
    // Read by etl-to-sql into `trends.category` and `trend_news`.
    "category",
    "news",
];
/// The fields of a clean post, `sentiment` included (a later stage's addition that a
/// re-clean must keep).
pub const POST_FIELDS: [&str; 18] = [
    "kind",
    "source",
    "id",
    "url",
    "text",
    "lang",
    "created_at",
    "author",
    "metrics",
    "parent_id",
    "quote_of",
    "repost_of",
    "conversation_id",
    "trend",
    "observed_at",
    "run_id",
    "sentiment",
    "volume_scope",
];
pub const PLACE_FIELDS: [&str; 2] = ["id", "name"];
pub const AUTHOR_FIELDS: [&str; 3] = ["id", "handle", "followers"];
pub const METRICS: [&str; 4] = ["reposts", "likes", "replies", "quotes"];
/// The fields of a post that hold another post's (or a thread's) id.
const POST_LINKS: [&str; 4] = ["parent_id", "quote_of", "repost_of", "conversation_id"];

/// Which rules run, and how much the stream rules may remember.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Reject records of the wrong shape (off: pass them through untouched).
    pub validate: bool,
    pub keep_null_volume: bool,
    /// Write normalised records (off: write them as read; the normalised values still
    /// identify duplicates).
    pub normalise: bool,
    pub dedupe: bool,
    /// Remove provider fields outside [`TREND_FIELDS`] / [`POST_FIELDS`].
    pub strip_extra: bool,
    pub flag_global: bool,
    /// Records held in the look-ahead window.
    pub window: usize,
    /// Identities remembered per generation (see [`crate::identity`]).
    pub dedupe_memory: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            validate: true,
            keep_null_volume: false,
            normalise: true,
            dedupe: true,
            strip_extra: true,
            flag_global: true,
            window: 4096,
            dedupe_memory: 200_000,
        }
    }
}

/// A field's value as read, borrowed: from a line or from a `Value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Null,
    Bool,
    Int(i64),
    /// A number that is not an `i64` (a float, a large unsigned).
    Number(Number),
    Text(Cow<'a, str>),
    Array,
    Object,
}

impl<'a> Field<'a> {
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Bool,
            Value::Number(n) => n.as_i64().map_or_else(|| Self::Number(n.clone()), Self::Int),
            Value::String(s) => Self::Text(Cow::Borrowed(s)),
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }

    /// The JSON type, in words (as [`trendpipe_core::ndjson::json_kind`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool => "a boolean",
            Self::Int(_) | Self::Number(_) => "a number",
            Self::Text(_) => "a string",
            Self::Array => "an array",
            Self::Object => "an object",
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// The field `key` of an object, as a [`Field`].
pub fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<Field<'a>> {
    obj.get(key).map(Field::of)
}

/// A trend's fields as read.
#[derive(Debug, Default)]
pub struct TrendFields<'a> {
    pub source: Option<Field<'a>>,
    pub place: Option<Place<'a>>,
    pub name: Option<Field<'a>>,
    pub key: Option<Field<'a>>,
    pub volume: Option<Field<'a>>,
    pub rank: Option<Field<'a>>,
    pub observed_at: Option<Field<'a>>,
    pub run_id: Option<Field<'a>>,
    pub volume_scope: Option<Field<'a>>,
    /// A provider field is present.
    pub extra: bool,
}

/// A trend's `place`.
#[derive(Debug)]
pub enum Place<'a> {
    Object {
        id: Option<Field<'a>>,
        name: Option<Field<'a>>,
        extra: bool,
    },
    /// Not an object: its JSON type.
    Other(&'static str),
}

impl<'a> TrendFields<'a> {
    pub fn of(obj: &'a Map<String, Value>) -> Self {
        let place = obj.get("place").map(|p| match p {
            Value::Object(p) => Place::Object {
                id: field(p, "id"),
                name: field(p, "name"),
                extra: p.keys().any(|k| !PLACE_FIELDS.contains(&k.as_str())),
            },
            other => Place::Other(Field::of(other).kind()),
        });
        Self {
            source: field(obj, "source"),
            place,
            name: field(obj, "name"),
            key: field(obj, "key"),
            volume: field(obj, "volume"),
            rank: field(obj, "rank"),
            observed_at: field(obj, "observed_at"),
            run_id: field(obj, "run_id"),
            volume_scope: field(obj, "volume_scope"),
            extra: obj.keys().any(|k| !TREND_FIELDS.contains(&k.as_str())),
        }
    }
}

/// A valid trend's normalised values, borrowed from its fields and the caches.
#[derive(Debug)]
pub struct CheckedTrend<'a> {
    pub source: &'a str,
    pub place_id: Cow<'a, str>,
    pub name: &'a str,
    pub key: &'a str,
    pub observed_at: &'a str,
    pub volume: Option<i64>,
    pub rank: Option<i64>,
}

impl CheckedTrend<'_> {
    /// Why a later copy of this trend is a [`Rule::Duplicate`].
    pub fn duplicate_reason(&self) -> String {
        format!(
            "duplicate of an earlier {} trend {:?} in place {} at {}",
            self.source, self.key, self.place_id, self.observed_at
        )
    }
}

/// What the record rules say of one trend.
#[derive(Debug)]
pub enum Verdict<'a> {
    Keep(CheckedTrend<'a>),
    /// Dropped by a rule (not an error).
    Drop(Rule, String),
    /// Not valid ([`Rule::Schema`]).
    Invalid(String),
}

/// [`Rule::Schema`] then [`Rule::NullVolume`] on a trend.
pub fn judge_trend<'a>(options: &Options, t: &'a TrendFields<'_>, caches: &'a mut Caches) -> Verdict<'a> {
    match check_trend(t, caches) {
        Err(reason) => Verdict::Invalid(reason),
        Ok(c) if c.volume.is_none() && !options.keep_null_volume => Verdict::Drop(Rule::NullVolume, NULL_VOLUME.into()),
        Ok(c) => Verdict::Keep(c),
    }
}

/// [`Rule::Schema`] on a trend: its values normalised, or what is wrong.
pub fn check_trend<'a>(t: &'a TrendFields<'_>, caches: &'a mut Caches) -> Result<CheckedTrend<'a>, String> {
    let source = required_string("source", t.source.as_ref())?;
    let name = required_string("name", t.name.as_ref())?;
    let Caches { keys, time } = caches;
    let key = keys.key(name);
    if key.is_empty() {
        return Err(format!("name: {name:?} has nothing left once normalised"));
    }
    let place_id = match &t.place {
        Some(Place::Object { id, .. }) => id_string("place.id", id.as_ref())?,
        Some(Place::Other(kind)) => return Err(format!("place: expected an object, found {kind}")),
        None => return Err("place: missing".into()),
    };
    let observed_at = match &t.observed_at {
        Some(Field::Text(s)) => time.time(s).map_err(|e| format!("observed_at: {e}"))?,
        Some(other) => return Err(format!("observed_at: expected a string, found {}", other.kind())),
        None => return Err("observed_at: missing".into()),
    };
    let volume = count("volume", t.volume.as_ref(), 0)?;
    let rank = count("rank", t.rank.as_ref(), 1)?;
    Ok(CheckedTrend { source, place_id, name, key, observed_at, volume, rank })
}

/// [`Rule::Normalise`] on a trend kept as a `Value`: writes the checked values into
/// it; reports a change.
pub fn apply_trend(value: &mut Value, c: &CheckedTrend<'_>) -> bool {
    let Value::Object(obj) = value else { return false };
    let mut changed = set(obj, "source", Value::String(c.source.to_owned()));
    changed |= set(obj, "name", Value::String(c.name.to_owned()));
    changed |= set(obj, "key", Value::String(c.key.to_owned()));
    changed |= set(obj, "observed_at", Value::String(c.observed_at.to_owned()));
    if let Some(Value::Object(place)) = obj.get_mut("place") {
        changed |= set(place, "id", Value::String(c.place_id.clone().into_owned()));
    }
    changed |= set(obj, "volume", c.volume.map_or(Value::Null, |v| Value::Number(Number::from(v))));
    match c.rank {
        Some(r) => changed |= set(obj, "rank", Value::Number(Number::from(r))),
        None => changed |= obj.remove("rank").is_some(),
    }
    changed
}

/// What [`normalise_post`] finds in a valid post.
#[derive(Debug, Clone, PartialEq)]
pub struct PostCheck {
    /// Whether normalisation changed anything.
    pub changed: bool,
    pub source: String,
    pub id: String,
    pub fresh: Freshness,
}

/// [`Rule::Schema`] and [`Rule::Normalise`] on a post, in place: trimmed source and
/// ids, decoded HTML entities, UTC times, counts as numbers. On error the record may be
/// half-changed.
pub fn normalise_post(obj: &mut Map<String, Value>) -> Result<PostCheck, String> {
    let source = required_string("source", field(obj, "source").as_ref())?.to_owned();
    let id = id_string("id", field(obj, "id").as_ref())?.into_owned();
    let mut changed = set(obj, "source", Value::String(source.clone()));
    changed |= set(obj, "id", Value::String(id.clone()));
    for f in ["url", "lang", "trend", "run_id"] {
        optional_string(f, field(obj, f).as_ref())?;
    }
    match obj.get("text") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if let Cow::Owned(decoded) = html_escape::decode_html_entities(s) {
                changed |= set(obj, "text", Value::String(decoded));
            }
        }
        Some(other) => return Err(format!("text: expected a string, found {}", Field::of(other).kind())),
    }
    let mut observed_ms = i64::MIN;
    for f in ["created_at", "observed_at"] {
        match obj.get(f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let t = parse_time(s).map_err(|e| format!("{f}: {s:?} is not an RFC 3339 time ({e})"))?;
                if f == "observed_at" {
                    observed_ms = t.timestamp_millis();
                }
                changed |= set(obj, f, Value::String(format_time(&t)));
            }
            Some(other) => return Err(format!("{f}: expected a string, found {}", Field::of(other).kind())),
        }
    }
    for f in POST_LINKS {
        match obj.get(f) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let clean = id_string(f, Some(&Field::of(v)))?.into_owned();
                changed |= set(obj, f, Value::String(clean));
            }
        }
    }
    match obj.get_mut("author") {
        None | Some(Value::Null) => {}
        Some(Value::Object(author)) => {
            let author_id = id_string("author.id", field(author, "id").as_ref())?.into_owned();
            optional_string("author.handle", field(author, "handle").as_ref())?;
            let followers = match author.contains_key("followers") {
                true => Some(count("author.followers", field(author, "followers").as_ref(), 0)?),
                false => None,
            };
            changed |= set(author, "id", Value::String(author_id));
            if let Some(followers) = followers {
                changed |= set(author, "followers", followers.map_or(Value::Null, |n| Value::Number(n.into())));
            }
        }
        Some(other) => return Err(format!("author: expected an object, found {}", Field::of(other).kind())),
    }
    let mut total = 0i64;
    match obj.get_mut("metrics") {
        None | Some(Value::Null) => {}
        Some(Value::Object(metrics)) => {
            for f in METRICS {
                if metrics.contains_key(f) {
                    let n = count(&format!("metrics.{f}"), field(metrics, f).as_ref(), 0)?;
                    total = total.saturating_add(n.unwrap_or(0));
                    changed |= set(metrics, f, n.map_or(Value::Null, |n| Value::Number(n.into())));
                }
            }
        }
        Some(other) => return Err(format!("metrics: expected an object, found {}", Field::of(other).kind())),
    }
    // A repost's counts are the original's: not a sign that this copy is fresher.
    if obj.get("repost_of").is_some_and(|r| !r.is_null()) {
        total = 0;
    }
    Ok(PostCheck { changed, source, id, fresh: (observed_ms, total) })
}

/// [`normalise_post`] on a copy, for callers that keep the record as read: the
/// normalised post with what was found.
pub fn normalised_post(value: &Value) -> Result<(Value, PostCheck), String> {
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    let mut out = obj.clone();
    let check = normalise_post(&mut out)?;
    Ok((Value::Object(out), check))
}

/// [`Rule::ExtraFields`]: removes the fields outside `allowed` (and outside the
/// allow-lists of `place`, `author` and `metrics`); reports whether anything went.
pub fn strip(value: &mut Value, allowed: &[&str]) -> bool {
    let Value::Object(obj) = value else { return false };
    let before = obj.len();
    obj.retain(|k, _| allowed.contains(&k.as_str()));
    let mut changed = obj.len() != before;
    for (f, inner) in [("place", &PLACE_FIELDS[..]), ("author", &AUTHOR_FIELDS[..]), ("metrics", &METRICS[..])] {
        if let Some(Value::Object(o)) = obj.get_mut(f) {
            let before = o.len();
            o.retain(|k, _| inner.contains(&k.as_str()));
            changed |= o.len() != before;
        }
    }
    changed
}

/// Sets `obj[key]`, reporting whether the value changed.
fn set(obj: &mut Map<String, Value>, key: &str, value: Value) -> bool {
    match obj.get_mut(key) {
        Some(old) if *old == value => false,
        Some(old) => {
            *old = value;
            true
        }
        None => {
            obj.insert(key.to_owned(), value);
            true
        }
    }
}

/// A required, non-blank string, trimmed.
pub fn required_string<'a>(name: &str, value: Option<&'a Field<'_>>) -> Result<&'a str, String> {
    match value {
        Some(Field::Text(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Field::Text(_)) => Err(format!("{name}: empty")),
        Some(other) => Err(format!("{name}: expected a string, found {}", other.kind())),
        None => Err(format!("{name}: missing")),
    }
}

fn optional_string(name: &str, value: Option<&Field<'_>>) -> Result<(), String> {
    match value {
        None | Some(Field::Null | Field::Text(_)) => Ok(()),
        Some(other) => Err(format!("{name}: expected a string, found {}", other.kind())),
    }
}

/// An identifier as a trimmed string; providers send some as integers.
pub fn id_string<'a>(name: &str, value: Option<&'a Field<'_>>) -> Result<Cow<'a, str>, String> {
    match value {
        Some(Field::Text(s)) if !s.trim().is_empty() => Ok(Cow::Borrowed(s.trim())),
        Some(Field::Text(_)) => Err(format!("{name}: empty")),
        Some(Field::Int(i)) => Ok(Cow::Owned(i.to_string())),
        Some(Field::Number(n)) if n.is_u64() || n.is_i64() => Ok(Cow::Owned(n.to_string())),
        Some(other) => Err(format!("{name}: expected a string, found {}", other.kind())),
        None => Err(format!("{name}: missing")),
    }
}

/// A time in UTC as RFC 3339 text; text already in that form is checked cheaply.
pub fn time(s: &str) -> Result<String, String> {
    let t = parse_time(s).map_err(|e| format!("{s:?} is not an RFC 3339 time ({e})"))?;
    let formatted = format_time(&t);
    Ok(if formatted == s { s.to_owned() } else { formatted })
}

/// A count from a number, a numeric string (`"12,300"` too) or null. A float with no
/// fraction (`1200.0`) is accepted; anything else is an error naming the field.
pub fn count(name: &str, value: Option<&Field<'_>>, min: i64) -> Result<Option<i64>, String> {
    let n = match value {
        None | Some(Field::Null) => return Ok(None),
        Some(Field::Int(i)) => *i,
        Some(Field::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(format!("{name}: expected a whole number, found {n}")),
        },
        Some(Field::Text(s)) => {
            let digits: String = s.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
            if digits.is_empty() {
                return Ok(None);
            }
            digits.parse::<i64>().map_err(|_| format!("{name}: expected a number, found {s:?}"))?
        }
        Some(other) => return Err(format!("{name}: expected a number, found {}", other.kind())),
    };
    if n < min {
        return Err(format!("{name}: {n} is below {min}"));
    }
    Ok(Some(n))
}

/// The record rules of the in-place mode on one stored record: its clean form
/// (normalised unless `--no-normalise`), or the rule that takes it out and why. No
/// dedupe, window or field stripping here (the raw store keeps provider fields; the
/// dedupe runs on the server).
pub fn clean_one(options: &Options, caches: &mut Caches, value: &Value) -> Result<Value, (Rule, String)> {
    match value.get("kind").and_then(Value::as_str) {
        Some("post") => {
            let (normalised, _) = normalised_post(value).map_err(|r| (Rule::Schema, r))?;
            Ok(if options.normalise { normalised } else { value.clone() })
        }
        _ => {
            let Value::Object(obj) = value else {
                return Err((Rule::Schema, "expected a JSON object".into()));
            };
            let fields = TrendFields::of(obj);
            match judge_trend(options, &fields, caches) {
                Verdict::Invalid(reason) => Err((Rule::Schema, reason)),
                Verdict::Drop(rule, reason) => Err((rule, reason)),
                Verdict::Keep(checked) => {
                    let mut out = value.clone();
                    if options.normalise {
                        apply_trend(&mut out, &checked);
                    }
                    Ok(out)
                }
            }
        }
    }
}
