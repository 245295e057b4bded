//! The per-line preparation: everything that depends on one record alone.
//!
//! Parsing, the record rules of [`crate::rule`] (validation, null volume,
//! normalisation, field stripping), the trend key, the identities and the clean
//! record's JSON text can run on other threads, in any order (see
//! [`crate::pipeline`]); the stream rules then only dedupe, hold the window and flag
//! global volumes ([`crate::stream`]).
//!
//! Nine lines in ten are trends. A trend line is read into [`LineTrend`], which
//! borrows its strings from the line and skips provider fields without storing them,
//! and the clean record is written from a borrowed struct by `serde_json`: building a
//! `serde_json::Value` for each line costs more than every rule together. Records
//! that must be kept as a map (`--no-normalise`, `--keep-extra-fields`,
//! `--no-validate`, a field of an unusual type that is written back as read, posts,
//! MongoDB documents) are `Value`s, judged by the very same checks
//! ([`TrendFields::of`]). A record that is dropped or rejected goes to the quarantine
//! as the bytes it was read from ([`AsRead::Raw`]).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Number, Value, value::RawValue};
use trendpipe_core::ndjson::{self, LineError};

use crate::identity::{self, Caches, Freshness};
use crate::rule::{self, Field, Options, POST_FIELDS, Place, Rule, TREND_FIELDS, TrendFields, Verdict};

/// A record as read, for the quarantine.
#[derive(Debug, Clone, PartialEq)]
pub enum AsRead {
    /// A MongoDB document (or a record passed through unvalidated).
    Value(Value),
    /// The JSON text of the line it was read from, without the spaces around it.
    Raw(String),
}

impl AsRead {
    /// The record of the line `text` (a JSON object: it was parsed).
    pub fn line(text: &str) -> Self {
        Self::Raw(as_read_text(text))
    }

    pub fn into_value(self) -> Value {
        match self {
            Self::Value(v) => v,
            Self::Raw(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}

/// The JSON text of the value on the line `text`: the bytes read, without the spaces
/// around them.
fn as_read_text(text: &str) -> String {
    serde_json::from_str::<&RawValue>(text).map_or(text.trim(), RawValue::get).to_owned()
}

impl fmt::Display for AsRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => v.fmt(f),
            Self::Raw(text) => f.write_str(text),
        }
    }
}

impl PartialEq<Value> for AsRead {
    fn eq(&self, other: &Value) -> bool {
        self.clone().into_value() == *other
    }
}

/// A line (or document) whose stateless work is done, for
/// [`crate::stream::Cleaner::push_ready`].
#[derive(Debug)]
pub enum Ready {
    /// A valid trend with a volume (or kept without one), to dedupe and write.
    Trend(ReadyTrend),
    /// A post, validated and normalised (or not valid).
    Post(Box<ReadyPost>),
    /// Dropped by a rule that needs no stream ([`Rule::NullVolume`]).
    Drop { rule: Rule, reason: String, record: AsRead },
    /// Not a valid record ([`Rule::Schema`]): rejected, or passed through untouched
    /// without validation.
    Invalid { reason: String, record: AsRead },
}

#[derive(Debug)]
pub struct ReadyTrend {
    /// Identity for the dedupe.
    pub id: u128,
    /// The global-volume group and the place.
    pub group: Option<(u128, u128)>,
    pub normalised: bool,
    pub stripped: bool,
    pub out: TrendOut,
    /// A MongoDB document as read (a line is kept as its text by the caller).
    pub as_read: Option<Value>,
}

/// The clean trend.
#[derive(Debug)]
pub enum TrendOut {
    /// Where its JSON text is in the batch's heads: all of it but `volume_scope` and
    /// the closing brace ([`write_trend`]), as the global-volume rule may still set
    /// `volume_scope` while the record waits in the window.
    Text {
        head: Range<usize>,
        volume_scope: Option<String>,
    },
    Value(Value),
    /// Unchanged by the rules: the JSON text it was read from, and whether it says
    /// `"volume_scope": "global"`.
    AsRead {
        json: String,
        global: bool,
    },
}

#[derive(Debug)]
pub struct ReadyPost {
    pub as_read: AsRead,
    /// The clean post, or why it is not valid.
    pub parts: Result<PostParts, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostParts {
    /// The clean post's JSON text.
    pub json: String,
    /// Whether it says `"volume_scope": "global"`.
    pub global: bool,
    pub normalised: bool,
    pub stripped: bool,
    pub source: String,
    pub id: String,
    pub fresh: Freshness,
    pub identity: u128,
}

/// Prepares lines; one per thread.
pub struct Preparer {
    options: Options,
    caches: Caches,
}

impl Preparer {
    pub fn new(options: Options) -> Self {
        Self { options, caches: Caches::default() }
    }

    /// Prepares line number `line`, appending a trend's JSON text to `heads`; the
    /// error of a line that is not a JSON object.
    pub fn prepare(&mut self, line: u64, text: &str, heads: &mut Vec<u8>) -> Result<Ready, LineError> {
        // Cheap test first: posts and other kinds never pay for a failed typed parse.
        let typed = self.options.validate && self.options.normalise && self.options.strip_extra;
        if typed && text.contains("\"trend\"") {
            if let Ok(t) = serde_json::from_str::<LineTrend<'_>>(text) {
                if t.plain() {
                    if let Some(ready) = prepare_line_trend(&self.options, &mut self.caches, &t.fields, text, heads) {
                        return Ok(ready);
                    }
                }
            }
        }
        let (_, value) = ndjson::parse_object(line, text)?;
        Ok(prepare_value(&self.options, &mut self.caches, value, Some(text)))
    }
}

/// Prepares a record held as a `Value`, read from the line `text` or (`None`) from
/// MongoDB.
pub fn prepare_value(options: &Options, caches: &mut Caches, value: Value, text: Option<&str>) -> Ready {
    let as_read = |value: Value| match text {
        Some(text) => AsRead::line(text),
        None => AsRead::Value(value),
    };
    match value.get("kind").and_then(Value::as_str) {
        Some("trend") => prepare_value_trend(options, caches, value, text),
        Some("post") => Ready::Post(Box::new(prepare_post(options, value, text))),
        Some(other) => {
            let reason = format!("kind: unknown kind {other:?} (expected \"trend\" or \"post\")");
            Ready::Invalid { reason, record: as_read(value) }
        }
        None => {
            Ready::Invalid { reason: "kind: missing (expected \"trend\" or \"post\")".into(), record: as_read(value) }
        }
    }
}

fn prepare_value_trend(options: &Options, caches: &mut Caches, value: Value, text: Option<&str>) -> Ready {
    let record = |value: Value| match text {
        Some(text) => AsRead::line(text),
        None => AsRead::Value(value),
    };
    // The verdict borrows the record: it is made owned before the record is used.
    let judged = match &value {
        Value::Object(obj) => {
            let fields = TrendFields::of(obj);
            match rule::judge_trend(options, &fields, caches) {
                Verdict::Invalid(reason) => Err((None, reason)),
                Verdict::Drop(rule, reason) => Err((Some(rule), reason)),
                Verdict::Keep(c) => Ok((identity::trend_id(&c), identity::group_of(options, &c), OwnedChecked::of(&c))),
            }
        }
        _ => Err((None, "expected a JSON object".to_owned())),
    };
    let (id, group, checked) = match judged {
        Ok(kept) => kept,
        Err((Some(rule), reason)) => return Ready::Drop { rule, reason, record: record(value) },
        Err((None, reason)) => return Ready::Invalid { reason, record: record(value) },
    };
    let as_read = text.is_none().then(|| value.clone());
    let mut out = value;
    let normalised = options.normalise && rule::apply_trend(&mut out, &checked.view());
    let stripped = options.strip_extra && rule::strip(&mut out, &TREND_FIELDS);
    let out = match text {
        // Passed on unchanged: as the bytes read.
        Some(text) if !normalised && !stripped => {
            let global = out.get("volume_scope").and_then(Value::as_str) == Some("global");
            TrendOut::AsRead { json: as_read_text(text), global }
        }
        _ => TrendOut::Value(out),
    };
    Ready::Trend(ReadyTrend { id, group, normalised, stripped, out, as_read })
}

/// A checked trend's values, owned, while the record they came from is changed.
struct OwnedChecked {
    source: String,
    place_id: String,
    name: String,
    key: String,
    observed_at: String,
    volume: Option<i64>,
    rank: Option<i64>,
}

impl OwnedChecked {
    fn of(c: &rule::CheckedTrend<'_>) -> Self {
        Self {
            source: c.source.to_owned(),
            place_id: c.place_id.clone().into_owned(),
            name: c.name.to_owned(),
            key: c.key.to_owned(),
            observed_at: c.observed_at.to_owned(),
            volume: c.volume,
            rank: c.rank,
        }
    }

    fn view(&self) -> rule::CheckedTrend<'_> {
        rule::CheckedTrend {
            source: &self.source,
            place_id: Cow::Borrowed(&self.place_id),
            name: &self.name,
            key: &self.key,
            observed_at: &self.observed_at,
            volume: self.volume,
            rank: self.rank,
        }
    }
}

/// A trend line of the usual shape: the record rules on its borrowed fields, and its
/// clean JSON text appended to `heads`; `None` if that text could not be made.
fn prepare_line_trend(
    options: &Options,
    caches: &mut Caches,
    t: &TrendFields<'_>,
    text: &str,
    heads: &mut Vec<u8>,
) -> Option<Ready> {
    let c = match rule::judge_trend(options, t, caches) {
        Verdict::Keep(c) => c,
        Verdict::Drop(rule, reason) => return Some(Ready::Drop { rule, reason, record: AsRead::line(text) }),
        Verdict::Invalid(reason) => return Some(Ready::Invalid { reason, record: AsRead::line(text) }),
    };
    let same = |f: &Option<Field<'_>>, v: &str| f.as_ref().and_then(Field::as_text) == Some(v);
    let (place_id, place_name, place_extra) = match &t.place {
        Some(Place::Object { id, name, extra }) => (id.as_ref(), name.as_ref().and_then(Field::as_text), *extra),
        _ => (None, None, false),
    };
    let normalised = !same(&t.source, c.source)
        || !same(&t.name, c.name)
        || !same(&t.key, c.key)
        || !same(&t.observed_at, c.observed_at)
        || place_id.and_then(Field::as_text) != Some(&*c.place_id)
        || !matches!(t.volume, Some(Field::Int(_) | Field::Null))
        || matches!(t.rank, Some(Field::Text(_) | Field::Null));
    let stripped = t.extra || place_extra;
    let start = heads.len();
    let head = TrendHead {
        kind: "trend",
        source: c.source,
        place: PlaceOut { id: &c.place_id, name: place_name },
        name: c.name,
        key: c.key,
        volume: c.volume,
        rank: c.rank,
        observed_at: c.observed_at,
        run_id: t.run_id.as_ref().and_then(Field::as_text),
    };
    // Writing to a Vec fails only when serialising fails, and these fields cannot;
    // should it ever, the line is taken as a `Value` instead (`None`).
    if serde_json::to_writer(&mut *heads, &head).is_err() || heads.pop() != Some(b'}') {
        heads.truncate(start);
        return None;
    }
    let volume_scope = t.volume_scope.as_ref().and_then(Field::as_text).map(str::to_owned);
    Some(Ready::Trend(ReadyTrend {
        id: identity::trend_id(&c),
        group: identity::group_of(options, &c),
        normalised,
        stripped,
        out: TrendOut::Text { head: start..heads.len(), volume_scope },
        as_read: None,
    }))
}

/// A clean trend, in the order of the record contract (docs/ARCHITECTURE.md), but
/// `volume_scope`.
#[derive(Serialize)]
struct TrendHead<'a> {
    kind: &'static str,
    source: &'a str,
    place: PlaceOut<'a>,
    name: &'a str,
    key: &'a str,
    volume: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rank: Option<i64>,
    observed_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
}

#[derive(Serialize)]
struct PlaceOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// Writes a trend from its head ([`TrendOut::Text`]) and its `volume_scope`.
pub fn write_trend(out: &mut impl std::io::Write, head: &[u8], volume_scope: Option<&str>) -> std::io::Result<()> {
    out.write_all(head)?;
    if let Some(scope) = volume_scope {
        out.write_all(b",\"volume_scope\":")?;
        serde_json::to_writer(&mut *out, scope)?;
    }
    out.write_all(b"}")
}

/// The record rules of a post: validation, normalisation, field stripping, the clean
/// text and the identity. `text` is the line it was read from (`None` for MongoDB,
/// whose document is then kept as read).
pub fn prepare_post(options: &Options, mut value: Value, text: Option<&str>) -> ReadyPost {
    let as_read = match text {
        Some(text) => AsRead::line(text),
        None => AsRead::Value(value.clone()),
    };
    let check = match &mut value {
        // The record as read is kept apart: normalise where it is.
        Value::Object(obj) if options.normalise => rule::normalise_post(obj),
        other => rule::normalised_post(other).map(|(_, check)| check),
    };
    let parts = check.map(|check| {
        let stripped = options.strip_extra && rule::strip(&mut value, &POST_FIELDS);
        let global = value.get("volume_scope").and_then(Value::as_str) == Some("global");
        let normalised = options.normalise && check.changed;
        let json = match &as_read {
            // Passed on unchanged: as the bytes read.
            AsRead::Raw(json) if !normalised && !stripped => json.clone(),
            _ => value.to_string(),
        };
        PostParts {
            json,
            global,
            normalised,
            stripped,
            identity: identity::hash(&[&check.source, &check.id]),
            source: check.source,
            id: check.id,
            fresh: check.fresh,
        }
    });
    ReadyPost { as_read, parts }
}

/// The reason a kept trend's later copy is a duplicate, found again from the record
/// (duplicates are few: carrying the names for every trend would cost more).
pub fn duplicate_reason(caches: &mut Caches, out: &TrendOut, text: Option<&str>) -> String {
    let reason = |fields: &TrendFields<'_>, caches: &mut Caches| {
        rule::check_trend(fields, caches).map(|c| c.duplicate_reason()).ok()
    };
    let found = match (text, out) {
        (Some(text), _) => serde_json::from_str::<LineTrend<'_>>(text).ok().and_then(|t| reason(&t.fields, caches)),
        (None, TrendOut::Value(Value::Object(obj))) => reason(&TrendFields::of(obj), caches),
        (None, _) => None,
    };
    found.unwrap_or_else(|| "duplicate of an earlier trend".into())
}

/// A trend line's fields as read, strings borrowed from the line unless escaped.
#[derive(Debug, Default)]
pub struct LineTrend<'a> {
    kind: Option<Field<'a>>,
    pub fields: TrendFields<'a>,
    /// A kept field the fast path does not write (`category`, `news`): the record
    /// then goes the `Value` way, which keeps every field of the contract.
    more: bool,
}

impl LineTrend<'_> {
    /// Whether the clean record can be written from the fields: a trend whose known
    /// fields have their usual types. Others are kept as a `Value` (a field of another
    /// type is written back as read), judged by the same rules.
    fn plain(&self) -> bool {
        let t = &self.fields;
        let text = |f: &Option<Field<'_>>| matches!(f, None | Some(Field::Text(_)));
        let count = |f: &Option<Field<'_>>| matches!(f, None | Some(Field::Null | Field::Int(_) | Field::Text(_)));
        let place = match &t.place {
            Some(Place::Object { id, name, .. }) => count(id) && text(name),
            _ => false,
        };
        !self.more
            && matches!(&self.kind, Some(Field::Text(k)) if k == "trend")
            && [&t.source, &t.name, &t.key, &t.observed_at, &t.run_id, &t.volume_scope].into_iter().all(text)
            && count(&t.volume)
            && count(&t.rank)
            && place
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Field<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Field::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map_or_else(|_| Field::Number(v.into()), Field::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Number::from_f64(v).map_or(Field::Null, Field::Number))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Field::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Field::Bool)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Object)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A map key, borrowed from the line unless it has escapes. (`Cow<str>` itself always
/// deserializes to an owned copy: an allocation for every key of every line.)
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// `place`: an object (its id, name and whether it has other fields), or another type.
struct PlaceOf<'a>(Place<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for PlaceOf<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = PlaceOf<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a place")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let (mut id, mut name, mut extra) = (None, None, false);
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "id" => id = Some(m.next_value()?),
                        "name" => name = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            extra = true;
                        }
                    }
                }
                Ok(PlaceOf(Place::Object { id, name, extra }))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("a number")))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("a number")))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("a number")))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("a string")))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("null")))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(PlaceOf(Place::Other("a boolean")))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PlaceOf(Place::Other("an array")))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LineTrend<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LineTrend<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a trend")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut line = LineTrend::default();
                let t = &mut line.fields;
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "kind" => line.kind = Some(m.next_value()?),
                        "source" => t.source = Some(m.next_value()?),
                        "name" => t.name = Some(m.next_value()?),
                        "key" => t.key = Some(m.next_value()?),
                        "observed_at" => t.observed_at = Some(m.next_value()?),
                        "run_id" => t.run_id = Some(m.next_value()?),
                        "volume_scope" => t.volume_scope = Some(m.next_value()?),
                        "volume" => t.volume = Some(m.next_value()?),
                        "rank" => t.rank = Some(m.next_value()?),
                        "place" => t.place = Some(m.next_value::<PlaceOf<'de>>()?.0),
                        "category" | "news" => {
                            m.next_value::<IgnoredAny>()?;
                            line.more = true;
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            t.extra = true;
                        }
                    }
                }
                Ok(line)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
