//! The cleaning rules, applied to a stream of records with bounded memory.
//!
//! Each record is validated (`schema`), dropped when it has no volume (`null-volume`),
//! normalised, dropped when it repeats an earlier one (`duplicate`), stripped of the
//! provider fields no stage reads (`extra-fields`) and, for trends, flagged
//! `"volume_scope": "global"` when the same key has the same volume in several places
//! of one snapshot (`global-volume`). Dropped and rejected records come out as events
//! with their reason so the caller can quarantine them; only rejections make the run
//! exit 1, because a null volume or a repeated snapshot is the normal state of raw
//! data, not an error.
//!
//! Memory is bounded whatever the input size:
//! - kept records wait in a small look-ahead window (`--window` records, and at most
//!   [`WINDOW_BYTES`] of input) before they are written, so that a global volume seen
//!   in a later place can still flag the earlier places, and a later copy of a post can
//!   replace an earlier one before either is written;
//! - identities already written are remembered as 128-bit hashes (xxh3) in two
//!   generations of at most `--dedupe-memory` entries each: the newest identities are
//!   always remembered, the oldest are forgotten first. A duplicate whose first copy is
//!   further back than that is written again; every consumer (the MongoDB unique
//!   indexes, `etl-to-sql`'s upserts) stores it once anyway.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::{Map, Number, Value};
use trendpipe_core::key::trend_key;
use trendpipe_core::ndjson::json_kind;
use trendpipe_core::record::{format_time, parse_time};
use xxhash_rust::xxh3::Xxh3;

use crate::fast::{self, Count, RawTrend};

/// At most this much input (in bytes of the lines read) waits in the window; a huge
/// record passes through alone rather than being held with thousands of others.
pub const WINDOW_BYTES: usize = 2 * 1024 * 1024;

/// The fields of a clean trend (DESIGN.md, "Records", plus `volume_scope` that
/// `clean` adds). Anything else is a provider field no stage reads.
pub const TREND_FIELDS: [&str; 10] =
    ["kind", "source", "place", "name", "key", "volume", "rank", "observed_at", "run_id", "volume_scope"];
/// The fields of a clean post, `sentiment` included (a later stage's addition that a
/// re-clean must keep).
pub const POST_FIELDS: [&str; 16] = [
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
    "trend",
    "observed_at",
    "run_id",
    "sentiment",
    "volume_scope",
];
const PLACE_FIELDS: [&str; 2] = ["id", "name"];
const AUTHOR_FIELDS: [&str; 3] = ["id", "handle", "followers"];
const METRICS: [&str; 4] = ["reposts", "likes", "replies", "quotes"];

/// Which rules run, and how much the dedupe may remember.
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
    /// Identities remembered per generation (see the module documentation).
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

/// A clean record: a JSON value, or the JSON text of a record prepared off the main
/// thread (see [`Ready`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Json(Value),
    /// A trend of the fast path: its text but for `volume_scope`, which the
    /// global-volume rule may still set (see [`crate::fast::trend_head`]).
    Trend(TrendText),
    /// A post's text, and whether it says `"volume_scope": "global"`. Posts are never
    /// flagged (the global-volume rule is for trends), so the text is final.
    Post(Box<PostText>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrendText {
    /// The JSON text of the trends of a batch of lines, shared by their records
    /// rather than copied for each, and where this one's is.
    pub heads: Arc<String>,
    pub head: std::ops::Range<usize>,
    pub volume_scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostText {
    pub json: String,
    pub global: bool,
}

impl Out {
    fn flag_global(&mut self) {
        match self {
            Self::Json(Value::Object(obj)) => {
                obj.insert("volume_scope".into(), Value::String("global".into()));
            }
            Self::Json(_) | Self::Post(_) => {}
            Self::Trend(t) => t.volume_scope = Some("global".into()),
        }
    }

    fn is_global(&self) -> bool {
        match self {
            Self::Json(v) => v.get("volume_scope").and_then(Value::as_str) == Some("global"),
            Self::Trend(t) => t.volume_scope.as_deref() == Some("global"),
            Self::Post(p) => p.global,
        }
    }

    /// Writes the record as one line of JSON (without the newline), as `serde_json`
    /// would write the record.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match self {
            Self::Json(v) => serde_json::to_writer(out, v).map_err(std::io::Error::from),
            Self::Trend(t) => {
                let head = t.heads.get(t.head.clone()).unwrap_or_default();
                crate::fast::trend_tail(out, head, t.volume_scope.as_deref())
            }
            Self::Post(p) => out.write_all(p.json.as_bytes()),
        }
    }

    /// The record as a JSON value (for tests and callers that need one).
    pub fn into_value(self) -> Value {
        match self {
            Self::Json(v) => v,
            other => {
                let mut text = Vec::new();
                match other.write_json(&mut text) {
                    Ok(()) => serde_json::from_slice(&text).unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                }
            }
        }
    }
}

/// What comes out of the cleaner, in order.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// A clean record to write.
    Write(Out),
    /// Dropped by a cleaning rule (`null-volume`, `duplicate`); `record` as read.
    Drop { rule: &'static str, reason: String, line: Option<u64>, record: AsRead },
    /// Not a valid record; `record` as read.
    Reject { reason: String, line: Option<u64>, record: Value },
}

/// A dropped record as read, for the quarantine: its value, or the JSON text
/// `serde_json` writes for that value (see [`fast::compact_json`]), which the
/// quarantine writes without building the value.
#[derive(Debug, Clone, PartialEq)]
pub enum AsRead {
    Value(Value),
    Json(JsonText),
}

/// JSON text in a shared buffer (a batch's heads, see [`Ready`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonText {
    text: Arc<String>,
    range: std::ops::Range<usize>,
}

impl JsonText {
    pub fn as_str(&self) -> &str {
        self.text.get(self.range.clone()).unwrap_or_default()
    }
}

impl AsRead {
    /// The record read from the line `text`.
    fn from_line(text: &str) -> Self {
        let mut json = String::with_capacity(text.len());
        if fast::compact_json(text, &mut json) {
            let range = 0..json.len();
            Self::Json(JsonText { text: Arc::new(json), range })
        } else {
            Self::Value(original(text))
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Self::Value(v) => v,
            Self::Json(j) => original(j.as_str()),
        }
    }
}

/// The JSON text, as `serde_json` writes the record.
impl std::fmt::Display for AsRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(v) => v.fmt(f),
            Self::Json(j) => f.write_str(j.as_str()),
        }
    }
}

impl PartialEq<Value> for AsRead {
    fn eq(&self, other: &Value) -> bool {
        match self {
            Self::Value(v) => v == other,
            Self::Json(j) => serde_json::from_str::<Value>(j.as_str()).is_ok_and(|v| v == *other),
        }
    }
}

/// Records changed (not dropped) by a rule, for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    /// Records whose values normalisation changed.
    pub normalised: u64,
    /// Records that lost provider fields.
    pub stripped: u64,
    /// Trends written with `"volume_scope": "global"`.
    pub global_volume: u64,
    /// Posts written a second time because a later copy came with later counts after
    /// the first had left the window.
    pub post_updates: u64,
    /// Invalid records passed through because validation is off.
    pub unvalidated: u64,
}

/// A validated trend's normalised values, computed without touching the record so
/// that a dropped record goes to the quarantine exactly as it was read.
#[derive(Debug)]
struct CheckedTrend {
    source: String,
    place_id: String,
    name: String,
    key: String,
    observed_at: String,
    volume: Option<i64>,
    rank: Option<i64>,
}

/// How recent a copy of a post is: its `observed_at` (ms), then its total engagement.
type Freshness = (i64, i64);

struct PostSlot {
    id: u128,
    fresh: Freshness,
    line: Option<u64>,
    original: Original,
}

/// A record as read: its value, or the line it was read from (parsed only if the
/// record goes to the quarantine, on the cleaner's thread, so that values made on a
/// worker thread are freed there).
#[derive(Debug)]
enum Original {
    Value(Value),
    Text(String),
}

impl Original {
    fn into_value(self) -> Value {
        match self {
            Self::Value(v) => v,
            Self::Text(text) => original(&text),
        }
    }

    fn into_as_read(self) -> AsRead {
        match self {
            Self::Value(v) => AsRead::Value(v),
            Self::Text(text) => AsRead::from_line(&text),
        }
    }
}

struct Slot {
    value: Out,
    bytes: usize,
    /// Whether normalisation changed it and whether it lost provider fields, counted
    /// when it is written (a copy superseded in the window is not).
    normalised: bool,
    stripped: bool,
    /// The (snapshot, key, volume) group and the place, for the global-volume rule.
    group: Option<(u128, u128)>,
    post: Option<PostSlot>,
}

/// Two generations of at most `cap` entries: bounded memory, newest kept.
struct Recent<V> {
    current: FxHashMap<u128, V>,
    previous: FxHashMap<u128, V>,
    cap: usize,
}

impl<V> Recent<V> {
    fn new(cap: usize) -> Self {
        Self { current: FxHashMap::default(), previous: FxHashMap::default(), cap: cap.max(1) }
    }

    fn get(&self, k: &u128) -> Option<&V> {
        self.current.get(k).or_else(|| self.previous.get(k))
    }

    fn insert(&mut self, k: u128, v: V) {
        if self.current.len() >= self.cap && !self.current.contains_key(&k) {
            // The oldest generation goes; its table is reused for the new one rather
            // than freed and grown again.
            std::mem::swap(&mut self.previous, &mut self.current);
            self.current.clear();
        }
        self.current.insert(k, v);
    }
}

#[derive(Clone, Copy)]
struct Group {
    first_place: u128,
    global: bool,
}

/// The rules with the state they need.
pub struct Cleaner {
    options: Options,
    changes: Changes,
    out: VecDeque<Event>,
    window: VecDeque<Option<Slot>>,
    /// The global-volume group of each record in the window, side by side with it:
    /// finding the records of a group that turns global scans this, not the slots.
    window_groups: VecDeque<Option<u128>>,
    window_bytes: usize,
    /// Sequence number of `window[0]`.
    base: u64,
    trends_seen: Recent<()>,
    posts_seen: Recent<Freshness>,
    /// Posts in the window, by identity: their sequence number.
    posts_waiting: FxHashMap<u128, u64>,
    groups: Recent<Group>,
    caches: Caches,
}

impl Cleaner {
    pub fn new(options: Options) -> Self {
        let memory = options.dedupe_memory;
        Self {
            options,
            changes: Changes::default(),
            out: VecDeque::new(),
            window: VecDeque::new(),
            window_groups: VecDeque::new(),
            window_bytes: 0,
            base: 0,
            trends_seen: Recent::new(memory),
            posts_seen: Recent::new(memory / 2),
            posts_waiting: FxHashMap::default(),
            groups: Recent::new(memory / 4),
            caches: Caches::default(),
        }
    }

    pub fn changes(&self) -> Changes {
        self.changes
    }

    /// The next event, if any is ready.
    pub fn next_event(&mut self) -> Option<Event> {
        self.out.pop_front()
    }

    /// The next event if it is a record to write.
    pub fn next_write(&mut self) -> Option<Out> {
        match self.out.front() {
            Some(Event::Write(_)) => match self.out.pop_front() {
                Some(Event::Write(out)) => Some(out),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether an event is ready.
    pub fn has_events(&self) -> bool {
        !self.out.is_empty()
    }

    /// Writes out everything still waiting in the window (end of input).
    pub fn finish(&mut self) {
        while !self.window.is_empty() {
            self.release_one();
        }
    }

    /// Takes one record read at `line` (`None` when it came from MongoDB), `bytes`
    /// long in the input.
    pub fn push(&mut self, line: Option<u64>, bytes: usize, value: Value) {
        match value.get("kind").and_then(Value::as_str) {
            Some("trend") => self.trend(line, bytes, value),
            Some("post") => self.post(line, bytes, value),
            Some(other) => {
                let reason = format!("kind: unknown kind {other:?} (expected \"trend\" or \"post\")");
                self.invalid(reason, line, bytes, value);
            }
            None => self.invalid("kind: missing (expected \"trend\" or \"post\")".into(), line, bytes, value),
        }
        self.settle();
    }

    /// Releases the oldest records while the window is over its bounds.
    fn settle(&mut self) {
        while self.window.len() > self.options.window || self.window_bytes > WINDOW_BYTES {
            self.release_one();
        }
    }

    fn invalid(&mut self, reason: String, line: Option<u64>, bytes: usize, value: Value) {
        if self.options.validate {
            self.out.push_back(Event::Reject { reason, line, record: value });
        } else {
            self.changes.unvalidated += 1;
            self.enqueue(Slot {
                value: Out::Json(value),
                bytes,
                normalised: false,
                stripped: false,
                group: None,
                post: None,
            });
        }
    }

    fn trend(&mut self, line: Option<u64>, bytes: usize, value: Value) {
        let checked = match check_trend(&value) {
            Ok(c) => c,
            Err(reason) => return self.invalid(reason, line, bytes, value),
        };
        if checked.volume.is_none() && !self.options.keep_null_volume {
            let reason = "volume: null (the provider gave no count)".to_owned();
            self.out.push_back(Event::Drop { rule: "null-volume", reason, line, record: AsRead::Value(value) });
            return;
        }
        if self.options.dedupe {
            let id = hash(&[&checked.source, &checked.place_id, &checked.key, &checked.observed_at]);
            if self.trends_seen.get(&id).is_some() {
                let reason = format!(
                    "duplicate of an earlier {} trend {:?} in place {} at {}",
                    checked.source, checked.key, checked.place_id, checked.observed_at
                );
                self.out.push_back(Event::Drop { rule: "duplicate", reason, line, record: AsRead::Value(value) });
                return;
            }
            self.trends_seen.insert(id, ());
        }
        let mut value = value;
        let normalised = self.options.normalise && apply_trend(&mut value, &checked);
        let stripped = self.options.strip_extra && strip(&mut value, &TREND_FIELDS);
        let group = group_of(
            &self.options,
            [&checked.source, &checked.observed_at, &checked.key, &checked.place_id],
            checked.volume,
        );
        self.admit_trend(Slot { value: Out::Json(value), bytes, normalised, stripped, group: None, post: None }, group);
    }

    /// The fast path (see [`crate::fast`]): a trend read from `text` without a `Value`.
    /// Returns false, having done nothing, when the general path must take the line:
    /// an option that needs the record as a map, or a value the rules reject (so that
    /// the reason is the general path's).
    pub fn push_fast(&mut self, line: u64, bytes: usize, raw: RawTrend<'_>, text: &str) -> bool {
        let mut heads = String::new();
        match prepare_fast(&self.options, &mut self.caches, &raw, text, &mut heads) {
            Some(ready) => {
                self.push_ready(line, bytes, ready, text, &Arc::new(heads));
                true
            }
            None => false,
        }
    }

    /// Takes one line prepared by [`Preparer::prepare`] from `text` (with its trend's
    /// JSON text in `heads`): what [`Cleaner::push_fast`] or [`Cleaner::push`] would
    /// have done with it, the work that needs no state of the cleaner already done.
    pub fn push_ready(&mut self, line: u64, bytes: usize, ready: Ready, text: &str, heads: &Arc<String>) {
        match ready {
            Ready::Trend(trend) => {
                self.trend_ready(line, bytes, trend, text, heads);
                self.settle();
            }
            Ready::NullVolume(json) => {
                let reason = "volume: null (the provider gave no count)".to_owned();
                let record = match json {
                    Some(range) => AsRead::Json(JsonText { text: Arc::clone(heads), range }),
                    None => AsRead::Value(original(text)),
                };
                self.out.push_back(Event::Drop { rule: "null-volume", reason, line: Some(line), record });
            }
            Ready::Post(post) => {
                self.post_ready(Some(line), bytes, *post);
                self.settle();
            }
            Ready::Value(value) => self.push(Some(line), bytes, value),
        }
    }

    /// A fast-path trend past validation and the null-volume rule: dedupe, then the
    /// window (released by the caller, as after any record).
    fn trend_ready(&mut self, line: u64, bytes: usize, t: ReadyTrend, text: &str, heads: &Arc<String>) {
        if self.options.dedupe {
            if self.trends_seen.get(&t.id).is_some() {
                let original = AsRead::from_line(text);
                // The names in the reason are re-derived from the line: duplicates are
                // few, and carrying them for every trend would cost more.
                let raw = fast::read_trend(text);
                let reason = match raw.as_ref().and_then(|raw| check_fast(raw, &mut self.caches)) {
                    Some(c) => format!(
                        "duplicate of an earlier {} trend {:?} in place {} at {}",
                        c.source, c.key, c.place_id, c.observed_at
                    ),
                    None => "duplicate of an earlier trend".to_owned(),
                };
                self.out.push_back(Event::Drop { rule: "duplicate", reason, line: Some(line), record: original });
                return;
            }
            self.trends_seen.insert(t.id, ());
        }
        let value = Out::Trend(TrendText { heads: Arc::clone(heads), head: t.head, volume_scope: t.volume_scope });
        let slot = Slot { value, bytes, normalised: t.normalised, stripped: t.stripped, group: None, post: None };
        self.admit_trend(slot, t.group);
    }

    /// Puts a kept trend in the window, applying the global-volume rule.
    fn admit_trend(&mut self, mut slot: Slot, group: Option<(u128, u128)>) {
        if let Some((group, place)) = group {
            slot.group = Some((group, place));
            match self.groups.get(&group).copied() {
                None => self.groups.insert(group, Group { first_place: place, global: false }),
                Some(g) if g.global => slot.value.flag_global(),
                Some(g) if g.first_place != place => {
                    self.groups.insert(group, Group { first_place: g.first_place, global: true });
                    slot.value.flag_global();
                    for (g, waiting) in self.window_groups.iter().zip(self.window.iter_mut()) {
                        if *g == Some(group) {
                            if let Some(waiting) = waiting {
                                waiting.value.flag_global();
                            }
                        }
                    }
                }
                Some(_) => {}
            }
        }
        self.enqueue(slot);
    }

    fn post(&mut self, line: Option<u64>, bytes: usize, value: Value) {
        let ready = prepare_post(&self.options, value, Original::Value);
        self.post_ready(line, bytes, ready);
    }

    /// A post whose stateless work ([`prepare_post`]) is done: dedupe and the window.
    fn post_ready(&mut self, line: Option<u64>, bytes: usize, ready: ReadyPost) {
        let ReadyPost { value, parts } = ready;
        let PostParts { out, was_normalised, stripped, source, id, fresh, identity } = match parts {
            Ok(parts) => parts,
            Err(reason) => return self.invalid(reason, line, bytes, value.into_value()),
        };
        let out = Out::Post(Box::new(out));
        if self.options.dedupe {
            if let Some(&seq) = self.posts_waiting.get(&identity) {
                let Some(Some(waiting)) = self.window.get_mut(seq.saturating_sub(self.base) as usize) else {
                    return;
                };
                let Some(earlier) = waiting.post.as_mut() else { return };
                if fresh > earlier.fresh {
                    let reason =
                        format!("duplicate of post {source}/{id}: superseded by a later copy{}", at_line(line));
                    let old = std::mem::replace(earlier, PostSlot { id: identity, fresh, line, original: value });
                    self.window_bytes = self.window_bytes + bytes - waiting.bytes.min(self.window_bytes);
                    waiting.bytes = bytes;
                    waiting.value = out;
                    waiting.normalised = was_normalised;
                    waiting.stripped = stripped;
                    self.out.push_back(Event::Drop {
                        rule: "duplicate",
                        reason,
                        line: old.line,
                        record: old.original.into_as_read(),
                    });
                } else {
                    let reason = format!(
                        "duplicate of post {source}/{id}{}, whose counts are as recent or more",
                        at_line(earlier.line)
                    );
                    self.out.push_back(Event::Drop { rule: "duplicate", reason, line, record: value.into_as_read() });
                }
                return;
            }
            if let Some(&written) = self.posts_seen.get(&identity) {
                if fresh <= written {
                    let reason = format!("duplicate of post {source}/{id}, already written with as recent counts");
                    self.out.push_back(Event::Drop { rule: "duplicate", reason, line, record: value.into_as_read() });
                    return;
                }
                self.changes.post_updates += 1;
            }
            self.posts_waiting.insert(identity, self.base + self.window.len() as u64);
        }
        let post = PostSlot { id: identity, fresh, line, original: value };
        self.enqueue(Slot { value: out, bytes, normalised: was_normalised, stripped, group: None, post: Some(post) });
    }

    fn enqueue(&mut self, slot: Slot) {
        self.window_bytes += slot.bytes;
        self.window_groups.push_back(slot.group.map(|(g, _)| g));
        self.window.push_back(Some(slot));
    }

    fn release_one(&mut self) {
        let Some(front) = self.window.pop_front() else { return };
        self.window_groups.pop_front();
        let seq = self.base;
        self.base += 1;
        let Some(slot) = front else { return };
        self.window_bytes = self.window_bytes.saturating_sub(slot.bytes);
        if let Some(post) = &slot.post {
            if self.posts_waiting.get(&post.id) == Some(&seq) {
                self.posts_waiting.remove(&post.id);
            }
            if self.options.dedupe {
                self.posts_seen.insert(post.id, post.fresh);
            }
        }
        self.changes.normalised += u64::from(slot.normalised);
        self.changes.stripped += u64::from(slot.stripped);
        if slot.value.is_global() {
            self.changes.global_volume += 1;
        }
        self.out.push_back(Event::Write(slot.value));
    }
}

fn at_line(line: Option<u64>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// A line whose stateless work is done, for [`Cleaner::push_ready`]: everything that
/// depends on the line alone (parsing, validation, normalisation, the trend key,
/// hashes, the JSON text of the clean record) can run on other threads, in any order,
/// and the cleaner then only applies the rules that need the stream (dedupe, window,
/// global volume).
#[derive(Debug)]
pub enum Ready {
    /// A trend of the fast path, to be deduped and written.
    Trend(ReadyTrend),
    /// A trend of the fast path with no volume, dropped: where the JSON text of the
    /// record as read is in the batch's heads, or `None` when only `serde_json` can
    /// write it (the record is then parsed again from the line).
    NullVolume(Option<std::ops::Range<usize>>),
    /// A post, validated and normalised (or not valid).
    Post(Box<ReadyPost>),
    /// Any other record, for [`Cleaner::push`].
    Value(Value),
}

#[derive(Debug)]
pub struct ReadyTrend {
    /// Identity for the dedupe.
    id: u128,
    group: Option<(u128, u128)>,
    normalised: bool,
    stripped: bool,
    /// Where its JSON text (see [`fast::push_trend_head`]) is in the batch's heads.
    head: std::ops::Range<usize>,
    volume_scope: Option<String>,
}

#[derive(Debug)]
pub struct ReadyPost {
    /// The record as read.
    value: Original,
    /// The clean post, or why it is not valid.
    parts: Result<PostParts, String>,
}

#[derive(Debug)]
struct PostParts {
    out: PostText,
    was_normalised: bool,
    stripped: bool,
    source: String,
    id: String,
    fresh: Freshness,
    identity: u128,
}

/// Prepares lines for [`Cleaner::push_ready`]; one per thread.
pub struct Preparer {
    options: Options,
    caches: Caches,
}

impl Preparer {
    pub fn new(options: Options) -> Self {
        Self { options, caches: Caches::default() }
    }

    /// Prepares line number `line`: a fast-path trend (its JSON text appended to
    /// `heads`), or the general path's parse (with its error for a line that is not a
    /// JSON object).
    pub fn prepare(
        &mut self,
        line: u64,
        text: &str,
        heads: &mut String,
    ) -> Result<Ready, trendpipe_core::ndjson::LineError> {
        let caches = &mut self.caches;
        let fast = fast::read_trend(text).and_then(|raw| prepare_fast(&self.options, caches, &raw, text, heads));
        if let Some(ready) = fast {
            return Ok(ready);
        }
        let value = fast::parse_value(line, text)?;
        Ok(match value.get("kind").and_then(Value::as_str) {
            Some("post") => Ready::Post(Box::new(prepare_read_post(&self.options, value, text))),
            _ => Ready::Value(value),
        })
    }
}

/// Names seen lately and their keys, and the last time read: a snapshot repeats its
/// time on every line and its names across places, and the Unicode passes of
/// [`trend_key`] and the time parse are the costliest part of a fast-path trend.
/// Both are pure functions, so a cached answer is the answer.
#[derive(Default)]
struct Caches {
    keys: KeyCache,
    time: TimeCache,
}

#[derive(Default)]
struct KeyCache {
    /// Name to its key's place in `keys`: a hit is one lookup.
    names: FxHashMap<String, usize>,
    keys: Vec<String>,
}

#[derive(Default)]
struct TimeCache(Option<(String, String)>);

/// Names whose keys are remembered; the cache is emptied when full (bounded memory,
/// and a new snapshot refills it at once).
const KEY_CACHE: usize = 8192;

impl KeyCache {
    fn key(&mut self, name: &str) -> &str {
        let at = match self.names.get(name) {
            Some(&at) => at,
            None => {
                if self.keys.len() >= KEY_CACHE {
                    self.names.clear();
                    self.keys.clear();
                }
                self.keys.push(fast_key(name).into_owned());
                self.names.insert(name.to_owned(), self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        self.keys.get(at).map_or("", String::as_str)
    }
}

impl TimeCache {
    fn time(&mut self, s: &str) -> Option<&str> {
        if self.0.as_ref().is_none_or(|(read, _)| read != s) {
            self.0 = Some((s.to_owned(), time(s).ok()?));
        }
        self.0.as_ref().map(|(_, clean)| clean.as_str())
    }
}

/// The record as read, for the quarantine.
fn original(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The stateless part of the fast path for `raw`, read from `text`: the trend's JSON
/// text (or, for a trend dropped for its null volume, the record as read, for the
/// quarantine) appended to `heads`; `None` when the general path must take the line
/// (see [`Cleaner::push_fast`]).
fn prepare_fast(
    options: &Options,
    caches: &mut Caches,
    raw: &RawTrend<'_>,
    text: &str,
    heads: &mut String,
) -> Option<Ready> {
    if !(options.validate && options.normalise && options.strip_extra) {
        return None;
    }
    let checked = check_fast(raw, caches)?;
    if checked.volume.is_none() && !options.keep_null_volume {
        let start = heads.len();
        let json = fast::compact_json(text, heads).then_some(start..heads.len());
        return Some(Ready::NullVolume(json));
    }
    let place_id: &str = &checked.place_id;
    let id = hash(&[checked.source, place_id, checked.key, checked.observed_at]);
    let place = raw.place.as_ref();
    let place_id_same = matches!(place.and_then(|p| p.id.as_ref()), Some(Count::Text(s)) if *s == place_id);
    let normalised = raw.source.as_deref() != Some(checked.source)
        || raw.name.as_deref() != Some(checked.name)
        || raw.key.as_deref() != Some(checked.key)
        || raw.observed_at.as_deref() != Some(checked.observed_at)
        || !place_id_same
        || !matches!(raw.volume, Some(Count::Int(_) | Count::Null))
        || matches!(raw.rank, Some(Count::Text(_) | Count::Null));
    let stripped = raw.extra || place.is_some_and(|p| p.extra);
    let group = group_of(options, [checked.source, checked.observed_at, checked.key, place_id], checked.volume);
    let start = heads.len();
    let view = fast::TrendView {
        source: checked.source,
        place_id,
        place_name: place.and_then(|p| p.name.as_deref()),
        name: checked.name,
        key: checked.key,
        volume: checked.volume,
        rank: checked.rank,
        observed_at: checked.observed_at,
        run_id: raw.run_id.as_deref(),
    };
    fast::push_trend_head(heads, &view);
    let head = start..heads.len();
    let volume_scope = raw.volume_scope.as_ref().map(|v| v.clone().into_owned());
    Some(Ready::Trend(ReadyTrend { id, group, normalised, stripped, head, volume_scope }))
}

impl ReadyTrend {
    /// Where its JSON text is in the heads it was prepared with.
    pub fn head(&self) -> std::ops::Range<usize> {
        self.head.clone()
    }
}

/// The stateless part of a post: validation, normalisation, field stripping, the
/// clean text and the identity.
/// `keep` turns the value into what is kept of the record as read.
fn prepare_post(options: &Options, value: Value, keep: impl FnOnce(Value) -> Original) -> ReadyPost {
    let parts = normalise_post(&value).map(|(normalised, source, id, fresh)| {
        let mut out = if options.normalise { normalised } else { value.clone() };
        let was_normalised = options.normalise && out != value;
        let stripped = options.strip_extra && strip(&mut out, &POST_FIELDS);
        let identity = hash(&[&source, &id]);
        let global = out.get("volume_scope").and_then(Value::as_str) == Some("global");
        let json = out.to_string();
        PostParts { out: PostText { json, global }, was_normalised, stripped, source, id, fresh, identity }
    });
    ReadyPost { value: keep(value), parts }
}

/// [`prepare_post`] for a post read from `text`: the value is not kept (the text is),
/// so it is normalised in place rather than in a copy compared with it afterwards.
fn prepare_read_post(options: &Options, mut value: Value, text: &str) -> ReadyPost {
    let original = Original::Text(text.to_owned());
    if !options.normalise || !value.is_object() {
        return prepare_post(options, value, |_| original);
    }
    let Value::Object(obj) = &mut value else {
        return prepare_post(options, value, |_| original);
    };
    let parts = normalise_post_in_place(obj).map(|(was_normalised, source, id, fresh)| {
        let stripped = options.strip_extra && strip(&mut value, &POST_FIELDS);
        let identity = hash(&[&source, &id]);
        let global = value.get("volume_scope").and_then(Value::as_str) == Some("global");
        let json = value.to_string();
        PostParts { out: PostText { json, global }, was_normalised, stripped, source, id, fresh, identity }
    });
    ReadyPost { value: original, parts }
}

/// Validates a post and normalises it where it is: trimmed source and ids, decoded
/// HTML entities, UTC times, counts as numbers. Returns whether anything changed, the
/// identity (source, id) and the freshness; on error the record may be half-changed.
fn normalise_post_in_place(obj: &mut Map<String, Value>) -> Result<(bool, String, String, Freshness), String> {
    let source = required_string(obj, "source")?;
    let id = id_string("id", obj.get("id"))?;
    let mut changed = set(obj, "source", Value::String(source.clone()));
    changed |= set(obj, "id", Value::String(id.clone()));
    for field in ["url", "lang", "trend", "run_id"] {
        optional_string(field, obj.get(field))?;
    }
    match obj.get("text") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if let std::borrow::Cow::Owned(decoded) = html_escape::decode_html_entities(s) {
                changed |= set(obj, "text", Value::String(decoded));
            }
        }
        Some(other) => return Err(format!("text: expected a string, found {}", json_kind(other))),
    }
    let mut observed_ms = i64::MIN;
    for field in ["created_at", "observed_at"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let t = parse_time(s).map_err(|e| format!("{field}: {s:?} is not an RFC 3339 time ({e})"))?;
                if field == "observed_at" {
                    observed_ms = t.timestamp_millis();
                }
                changed |= set(obj, field, Value::String(format_time(&t)));
            }
            Some(other) => return Err(format!("{field}: expected a string, found {}", json_kind(other))),
        }
    }
    for field in ["parent_id", "quote_of"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            some => {
                let clean = id_string(field, some)?;
                changed |= set(obj, field, Value::String(clean));
            }
        }
    }
    match obj.get_mut("author") {
        None | Some(Value::Null) => {}
        Some(Value::Object(author)) => {
            let author_id = id_string("author.id", author.get("id"))?;
            optional_string("author.handle", author.get("handle"))?;
            let followers = match author.contains_key("followers") {
                true => Some(count("author.followers", author.get("followers"), 0)?),
                false => None,
            };
            changed |= set(author, "id", Value::String(author_id));
            if let Some(followers) = followers {
                changed |= set(author, "followers", followers.map_or(Value::Null, |n| Value::Number(n.into())));
            }
        }
        Some(other) => return Err(format!("author: expected an object, found {}", json_kind(other))),
    }
    let mut total = 0i64;
    match obj.get_mut("metrics") {
        None | Some(Value::Null) => {}
        Some(Value::Object(metrics)) => {
            for field in METRICS {
                if metrics.contains_key(field) {
                    let n = count(&format!("metrics.{field}"), metrics.get(field), 0)?;
                    total = total.saturating_add(n.unwrap_or(0));
                    changed |= set(metrics, field, n.map_or(Value::Null, |n| Value::Number(n.into())));
                }
            }
        }
        Some(other) => return Err(format!("metrics: expected an object, found {}", json_kind(other))),
    }
    Ok((changed, source, id, (observed_ms, total)))
}

/// The (snapshot, key, volume) group of a trend and its place, for the global-volume
/// rule; `fields` are the source, time, key and place id.
fn group_of(options: &Options, fields: [&str; 4], volume: Option<i64>) -> Option<(u128, u128)> {
    let [source, observed_at, key, place_id] = fields;
    match (options.flag_global, volume) {
        (true, Some(volume)) => {
            let volume = volume.to_le_bytes();
            let group = hash_bytes([source.as_bytes(), observed_at.as_bytes(), key.as_bytes(), &volume].into_iter());
            Some((group, hash(&[place_id])))
        }
        _ => None,
    }
}

/// A fast-path trend's checked values, borrowed from the line and the caches.
struct CheckedFast<'a> {
    source: &'a str,
    place_id: Cow<'a, str>,
    name: &'a str,
    key: &'a str,
    observed_at: &'a str,
    volume: Option<i64>,
    rank: Option<i64>,
}

/// The checks of [`check_trend`] on a trend of the fast path; `None` when any fails.
fn check_fast<'a>(raw: &'a RawTrend<'_>, caches: &'a mut Caches) -> Option<CheckedFast<'a>> {
    let trimmed = |s: &'a Option<Cow<'_, str>>| s.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let source = trimmed(&raw.source)?;
    let name = trimmed(&raw.name)?;
    let key = caches.keys.key(name);
    if key.is_empty() {
        return None;
    }
    let place_id = match raw.place.as_ref()?.id.as_ref()? {
        Count::Text(s) if !s.trim().is_empty() => Cow::Borrowed(s.trim()),
        Count::Int(i) => Cow::Owned(i.to_string()),
        _ => return None,
    };
    let observed_at = caches.time.time(raw.observed_at.as_deref()?)?;
    let volume = fast_count(raw.volume.as_ref(), 0)?;
    let rank = fast_count(raw.rank.as_ref(), 1)?;
    Some(CheckedFast { source, place_id, name, key, observed_at, volume, rank })
}

/// [`count`] on a count of the fast path; `None` where it would fail.
fn fast_count(c: Option<&Count<'_>>, min: i64) -> Option<Option<i64>> {
    match c {
        None | Some(Count::Null) => Some(None),
        Some(Count::Int(i)) => (*i >= min).then_some(Some(*i)),
        Some(Count::Text(s)) => count("", Some(&Value::String(s.to_string())), min).ok(),
        Some(Count::Other) => None,
    }
}

/// A 128-bit hash of fields, each followed by a byte that never occurs in UTF-8 so
/// that `("ab", "c")` and `("a", "bc")` differ.
fn hash(fields: &[&str]) -> u128 {
    hash_bytes(fields.iter().map(|f| f.as_bytes()))
}

/// XXH3-128 of the fields each followed by `0xff`. The fields of an identity are
/// short: they are laid end to end on the stack and hashed at once, which gives the
/// streaming hasher's digest (the same bytes) for a fraction of its cost.
fn hash_bytes<'a>(fields: impl Iterator<Item = &'a [u8]> + Clone) -> u128 {
    let mut buf = [0u8; 256];
    let mut len = 0;
    for f in fields.clone() {
        let end = len + f.len() + 1;
        let Some(slot) = buf.get_mut(len..end) else {
            let mut h = Xxh3::new();
            for f in fields {
                h.update(f);
                h.update(&[0xff]);
            }
            return h.digest128();
        };
        let (field, sep) = slot.split_at_mut(f.len());
        field.copy_from_slice(f);
        sep.fill(0xff);
        len = end;
    }
    xxhash_rust::xxh3::xxh3_128(buf.get(..len).unwrap_or_default())
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

/// Removes the fields outside `allowed` (and outside the allow-lists of `place`,
/// `author` and `metrics`); reports whether anything went.
fn strip(value: &mut Value, allowed: &[&str]) -> bool {
    let Value::Object(obj) = value else { return false };
    let before = obj.len();
    obj.retain(|k, _| allowed.contains(&k.as_str()));
    let mut changed = obj.len() != before;
    for (field, inner) in [("place", &PLACE_FIELDS[..]), ("author", &AUTHOR_FIELDS[..]), ("metrics", &METRICS[..])] {
        if let Some(Value::Object(o)) = obj.get_mut(field) {
            let before = o.len();
            o.retain(|k, _| inner.contains(&k.as_str()));
            changed |= o.len() != before;
        }
    }
    changed
}

fn check_trend(value: &Value) -> Result<CheckedTrend, String> {
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    let source = required_string(obj, "source")?;
    let name = required_string(obj, "name")?;
    let key = fast_key(&name);
    if key.is_empty() {
        return Err(format!("name: {name:?} has nothing left once normalised"));
    }
    let place_id = match obj.get("place") {
        Some(Value::Object(place)) => id_string("place.id", place.get("id"))?,
        Some(other) => return Err(format!("place: expected an object, found {}", json_kind(other))),
        None => return Err("place: missing".into()),
    };
    let observed_at = match obj.get("observed_at") {
        Some(Value::String(s)) => time(s).map_err(|e| format!("observed_at: {e}"))?,
        Some(other) => return Err(format!("observed_at: expected a string, found {}", json_kind(other))),
        None => return Err("observed_at: missing".into()),
    };
    let volume = count("volume", obj.get("volume"), 0)?;
    let rank = count("rank", obj.get("rank"), 1)?;
    Ok(CheckedTrend { source, place_id, name, key: key.into_owned(), observed_at, volume, rank })
}

/// Writes a checked trend's normalised values into the record; reports a change.
fn apply_trend(value: &mut Value, c: &CheckedTrend) -> bool {
    let Value::Object(obj) = value else { return false };
    let mut changed = set(obj, "source", Value::String(c.source.clone()));
    changed |= set(obj, "name", Value::String(c.name.clone()));
    changed |= set(obj, "key", Value::String(c.key.clone()));
    changed |= set(obj, "observed_at", Value::String(c.observed_at.clone()));
    if let Some(Value::Object(place)) = obj.get_mut("place") {
        changed |= set(place, "id", Value::String(c.place_id.clone()));
    }
    changed |= set(obj, "volume", c.volume.map_or(Value::Null, |v| Value::Number(Number::from(v))));
    match c.rank {
        Some(r) => changed |= set(obj, "rank", Value::Number(Number::from(r))),
        None => changed |= obj.remove("rank").is_some(),
    }
    changed
}

/// The key of a trend name ([`trend_key`] has the fast path for ASCII names).
fn fast_key(name: &str) -> std::borrow::Cow<'static, str> {
    trend_key(name).into()
}

/// Validates a post and returns its normalised form with its identity and freshness:
/// [`normalise_post_in_place`] on a copy, for callers that keep the record as read.
fn normalise_post(value: &Value) -> Result<(Value, String, String, Freshness), String> {
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    let mut out = obj.clone();
    let (_, source, id, fresh) = normalise_post_in_place(&mut out)?;
    Ok((Value::Object(out), source, id, fresh))
}

fn required_string(obj: &Map<String, Value>, field: &str) -> Result<String, String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::String(_)) => Err(format!("{field}: empty")),
        Some(other) => Err(format!("{field}: expected a string, found {}", json_kind(other))),
        None => Err(format!("{field}: missing")),
    }
}

fn optional_string(field: &str, value: Option<&Value>) -> Result<(), String> {
    match value {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(other) => Err(format!("{field}: expected a string, found {}", json_kind(other))),
    }
}

/// An identifier as a trimmed string; providers send some as integers.
fn id_string(field: &str, value: Option<&Value>) -> Result<String, String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::String(_)) => Err(format!("{field}: empty")),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Some(other) => Err(format!("{field}: expected a string, found {}", json_kind(other))),
        None => Err(format!("{field}: missing")),
    }
}

/// A time in UTC as RFC 3339 text; text already in that form is checked cheaply.
fn time(s: &str) -> Result<String, String> {
    let t = parse_time(s).map_err(|e| format!("{s:?} is not an RFC 3339 time ({e})"))?;
    let formatted = format_time(&t);
    Ok(if formatted == s { s.to_owned() } else { formatted })
}

/// A count from a number, a numeric string (`"12,300"` too) or null. A float with no
/// fraction (`1200.0`) is accepted; anything else is an error naming the field.
fn count(field: &str, value: Option<&Value>, min: i64) -> Result<Option<i64>, String> {
    let n = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(format!("{field}: expected a whole number, found {n}")),
        },
        Some(Value::String(s)) => {
            let digits: String = s.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
            if digits.is_empty() {
                return Ok(None);
            }
            digits.parse::<i64>().map_err(|_| format!("{field}: expected a number, found {s:?}"))?
        }
        Some(other) => return Err(format!("{field}: expected a number, found {}", json_kind(other))),
    };
    if n < min {
        return Err(format!("{field}: {n} is below {min}"));
    }
    Ok(Some(n))
}

/// Identity and freshness helpers shared with the in-place mode, so both modes agree
/// on what a duplicate is and which copy of a post wins.
pub(crate) fn post_freshness(value: &Value) -> Option<Freshness> {
    normalise_post(value).ok().map(|(_, _, _, f)| f)
}

/// The clean form of one stored record for the in-place mode: the outcome of the
/// record rules (schema, null volume, normalisation) without dedupe, window or field
/// stripping (the raw store keeps provider fields).
pub(crate) fn clean_one(options: &Options, value: &Value) -> Result<Option<Value>, (&'static str, String)> {
    match value.get("kind").and_then(Value::as_str) {
        Some("post") => {
            let (normalised, ..) = normalise_post(value).map_err(|r| ("schema", r))?;
            Ok(Some(if options.normalise { normalised } else { value.clone() }))
        }
        _ => {
            let checked = check_trend(value).map_err(|r| ("schema", r))?;
            if checked.volume.is_none() && !options.keep_null_volume {
                return Err(("null-volume", "volume: null (the provider gave no count)".into()));
            }
            let mut out = value.clone();
            if options.normalise {
                apply_trend(&mut out, &checked);
            }
            Ok(Some(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(options: Options, input: Vec<Value>) -> (Vec<Event>, Changes) {
        let mut c = Cleaner::new(options);
        let mut events = Vec::new();
        for (i, v) in input.into_iter().enumerate() {
            c.push(Some(i as u64 + 1), 100, v);
            events.extend(std::iter::from_fn(|| c.next_event()));
        }
        c.finish();
        events.extend(std::iter::from_fn(|| c.next_event()));
        (events, c.changes())
    }

    fn one(input: Value) -> Event {
        run(Options::default(), vec![input]).0.remove(0)
    }

    fn trend(volume: Value) -> Value {
        json!({"kind":"trend","source":"x","place":{"id":23424768,"name":"Brazil"},"name":"  #BBB26 ",
               "volume":volume,"rank":"1","observed_at":"2026-11-21T22:30:00-03:00","provider_field":true})
    }

    fn post(id: &str, at: &str, likes: Value) -> Value {
        json!({"kind":"post","source":"mastodon","id":id,"text":"a &amp; b &lt;3","created_at":at,
               "author":{"id":9,"handle":"ana","followers":"1,234","avatar":"x.png"},
               "metrics":{"reposts":1,"likes":likes,"replies":0,"quotes":0},"observed_at":at,"emojis":[]})
    }

    #[test]
    fn normalises_a_trend_and_strips_provider_fields() {
        let Event::Write(v) = one(trend(json!("125,000"))) else { panic!("dropped") };
        assert_eq!(
            v.into_value(),
            json!({"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},"name":"#BBB26",
                   "volume":125000,"rank":1,"observed_at":"2026-11-22T01:30:00Z","key":"bbb26"})
        );
        let keep = Options { strip_extra: false, ..Options::default() };
        let (events, changes) = run(keep, vec![trend(json!(5))]);
        let Event::Write(v) = &events[0] else { panic!("dropped") };
        assert_eq!(v.clone().into_value()["provider_field"], true);
        assert_eq!(changes, Changes { normalised: 1, ..Changes::default() });
    }

    /// Every line through both paths: the fast one (when it takes the line) must give
    /// the general one's events, counts and output.
    #[test]
    fn the_fast_path_agrees_with_the_general_one() {
        let lines = [
            r##"{"kind":"trend","source":"x","place":{"id":"1","name":"W"},"name":"#A","key":"a","volume":5,"rank":1,"observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":" x ","place":{"id":23424768,"name":"Brazil","country":"BR"},"name":"  Copa   do Brasil ","volume":"48,857","rank":"3","observed_at":"2026-11-21T22:30:00-03:00","url":"u","promoted_content":null}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"2"},"name":"#A","key":"A","volume":5,"rank":null,"observed_at":"2026-11-22T01:30:00Z","run_id":"r1"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"2"},"name":"#a","volume":7,"observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"São Paulo","volume":null,"observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"B","observed_at":"2026-11-22T01:30:00Z","volume_scope":"global","volume":""}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"C","volume":"lots","observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"D","volume":1.5,"observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3","name":4},"name":"E","volume":1,"observed_at":"2026-11-22T01:30:00Z"}"##,
            r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"Fé","volume":2,"observed_at":"2026-11-22T01:30:00Z"}"##,
        ];
        for keep_null_volume in [false, true] {
            let options = Options { keep_null_volume, ..Options::default() };
            let (mut general, mut fast) = (Cleaner::new(options), Cleaner::new(options));
            let mut taken = 0;
            for (i, line) in lines.iter().enumerate() {
                let n = i as u64 + 1;
                general.push(Some(n), line.len(), serde_json::from_str(line).unwrap());
                let took = crate::fast::read_trend(line).is_some_and(|raw| fast.push_fast(n, line.len(), raw, line));
                if took {
                    taken += 1;
                } else {
                    fast.push(Some(n), line.len(), serde_json::from_str(line).unwrap());
                }
            }
            // All but "lots", 1.5 and a numeric place name.
            assert_eq!(taken, 7);
            general.finish();
            fast.finish();
            assert_eq!(general.changes(), fast.changes());
            let drain = |c: &mut Cleaner| {
                std::iter::from_fn(|| c.next_event())
                    .map(|e| match e {
                        Event::Write(out) => format!("write {}", out.into_value()),
                        Event::Drop { rule, reason, line, record } => format!("{rule} {reason} {line:?} {record}"),
                        Event::Reject { reason, line, record } => format!("reject {reason} {line:?} {record}"),
                    })
                    .collect::<Vec<_>>()
            };
            let (g, f) = (drain(&mut general), drain(&mut fast));
            // Key order may differ between the two; compare the records as values.
            let parse = |v: &[String]| {
                v.iter()
                    .map(|s| match s.strip_prefix("write ") {
                        Some(j) => serde_json::from_str::<Value>(j).unwrap(),
                        None => Value::String(s.clone()),
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(parse(&g), parse(&f));
        }
    }

    #[test]
    fn posts_normalised_in_place_agree_with_the_copy() {
        let base = post("7", "2026-11-22T01:00:00+01:00", json!("1,000"));
        let mut cases = vec![base.clone(), json!({"kind":"post","source":"x","id":"1"}), json!({"kind":"post"})];
        let edits: [(&str, Value); 14] = [
            ("source", json!(" x ")),
            ("id", json!(12)),
            ("id", json!("")),
            ("text", json!("plain")),
            ("text", json!(5)),
            ("created_at", json!("soon")),
            ("observed_at", Value::Null),
            ("parent_id", json!(99)),
            ("quote_of", json!([1])),
            ("author", json!({"id":"9","handle":"ana"})),
            ("author", json!({"id":"9","followers":7})),
            ("author", json!({"handle":3})),
            ("metrics", json!({"likes":-1})),
            ("lang", json!(1)),
        ];
        for (field, v) in edits {
            let mut p = base.clone();
            p[field] = v;
            cases.push(p);
        }
        if let Ok((clean, ..)) = normalise_post(&base) {
            cases.push(clean);
        }
        let (mut changed, mut unchanged) = (false, false);
        for case in cases {
            let text = case.to_string();
            let copy = prepare_post(&Options::default(), case.clone(), Original::Value);
            let in_place = prepare_read_post(&Options::default(), case.clone(), &text);
            match (&copy.parts, &in_place.parts) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(
                        (&a.out, a.was_normalised, a.stripped, &a.source, &a.id, a.fresh, a.identity),
                        (&b.out, b.was_normalised, b.stripped, &b.source, &b.id, b.fresh, b.identity),
                        "{case}"
                    );
                    changed |= a.was_normalised;
                    unchanged |= !a.was_normalised;
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{case}: {a:?} / {b:?}"),
            }
            assert_eq!(in_place.value.into_value(), case);
        }
        assert!(changed && unchanged);
    }

    #[test]
    fn hashes_at_once_are_the_streaming_ones_and_cached_keys_the_keys() {
        let long = "x".repeat(300);
        for fields in [&["a", "bc"][..], &["ab", "c"], &[], &["", "São", "#T"], &[&long, "y"], &["y", &long]] {
            let mut h = Xxh3::new();
            for f in fields {
                h.update(f.as_bytes());
                h.update(&[0xff]);
            }
            assert_eq!(hash(fields), h.digest128(), "{fields:?}");
        }
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
        let mut cache = KeyCache::default();
        for round in 0..3 {
            for i in 0..(KEY_CACHE + 10) {
                let name = format!("Fé {}", (i * 7 + round) % (KEY_CACHE + 50));
                assert_eq!(cache.key(&name), trend_key(&name));
            }
        }
        assert!(cache.keys.len() <= KEY_CACHE);
    }

    #[test]
    fn ascii_keys_agree_with_the_unicode_path() {
        for name in ["#BBB26", "  Copa   do Brasil ", "##A\tB", "x", "# #Y", "Mixed CASE 123!"] {
            assert_eq!(fast_key(name), trend_key(name), "{name:?}");
        }
    }

    #[test]
    fn null_volume_is_dropped_unless_kept() {
        assert!(matches!(one(trend(Value::Null)), Event::Drop { rule: "null-volume", line: Some(1), .. }));
        let keep = Options { keep_null_volume: true, ..Options::default() };
        assert!(matches!(run(keep, vec![trend(Value::Null)]).0[0], Event::Write(_)));
    }

    #[test]
    fn same_observation_twice_is_a_duplicate() {
        let mut again = trend(json!(7));
        again["name"] = json!("#bbb26");
        again["observed_at"] = json!("2026-11-22T01:30:00Z");
        let mut other_place = trend(json!(5));
        other_place["place"]["id"] = json!("1");
        let (events, _) = run(Options::default(), vec![trend(json!(5)), again, other_place]);
        let rules: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::Write(_) => "write",
                Event::Drop { rule, .. } => rule,
                Event::Reject { .. } => "reject",
            })
            .collect();
        // The duplicate is dropped at once; the two kept records wait in the window.
        assert_eq!(rules, ["duplicate", "write", "write"]);
    }

    #[test]
    fn the_same_volume_in_several_places_is_flagged_global() {
        let mut b = trend(json!(5));
        b["place"]["id"] = json!("1");
        let mut c = trend(json!(6));
        c["place"]["id"] = json!("2");
        let (events, changes) = run(Options::default(), vec![trend(json!(5)), b, c]);
        let scopes: Vec<Value> = events
            .iter()
            .map(|e| match e {
                Event::Write(v) => v.clone().into_value().get("volume_scope").cloned().unwrap_or(Value::Null),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(scopes, [json!("global"), json!("global"), Value::Null]);
        assert_eq!(changes.global_volume, 2);
    }

    #[test]
    fn posts_are_normalised_and_the_latest_copy_wins() {
        let first = post("7", "2026-11-22T01:00:00Z", json!(3));
        let later = post("7", "2026-11-22T01:30:00+00:00", json!("10"));
        let stale = post("7", "2026-11-22T00:30:00Z", json!(50));
        let (events, changes) = run(Options::default(), vec![first.clone(), later, stale.clone()]);
        assert_eq!(events.len(), 3);
        assert!(matches!(&events[0], Event::Drop { rule: "duplicate", line: Some(1), record, .. } if *record == first));
        assert!(matches!(&events[1], Event::Drop { rule: "duplicate", line: Some(3), record, .. } if *record == stale));
        let Event::Write(v) = &events[2] else { panic!("{:?}", events[2]) };
        assert_eq!(
            v.clone().into_value(),
            json!({"kind":"post","source":"mastodon","id":"7","text":"a & b <3","created_at":"2026-11-22T01:30:00Z",
                   "author":{"id":"9","handle":"ana","followers":1234},
                   "metrics":{"reposts":1,"likes":10,"replies":0,"quotes":0},"observed_at":"2026-11-22T01:30:00Z"})
        );
        assert_eq!(changes.normalised, 1);
        assert_eq!(changes.stripped, 1);
    }

    #[test]
    fn a_later_copy_after_the_window_is_written_again() {
        let options = Options { window: 1, ..Options::default() };
        let filler = |i: i64| {
            let mut t = trend(json!(i));
            t["name"] = json!(format!("t{i}"));
            t
        };
        let input = vec![
            post("7", "2026-11-22T01:00:00Z", json!(3)),
            filler(1),
            filler(2),
            post("7", "2026-11-22T01:30:00Z", json!(4)),
            post("7", "2026-11-22T01:00:00Z", json!(3)),
        ];
        let (events, changes) = run(options, input);
        let writes = events.iter().filter(|e| matches!(e, Event::Write(_))).count();
        assert_eq!(writes, 4);
        assert_eq!(changes.post_updates, 1);
        // The stale copy (line 5) meets the fresher one still in the window.
        assert!(matches!(&events[events.len() - 2], Event::Drop { rule: "duplicate", line: Some(5), .. }));
    }

    #[test]
    fn trends_alone_keep_the_window_to_its_size() {
        // Trends on the fast path must release the window as every other record does:
        // an input of trends only would otherwise hold all of it in memory.
        let mut c = Cleaner::new(Options { window: 3, ..Options::default() });
        let mut written = 0;
        for i in 0..50 {
            let mut t = trend(json!(i));
            t["name"] = json!(format!("t{i}"));
            let text = t.to_string();
            let raw = crate::fast::read_trend(&text).unwrap();
            assert!(c.push_fast(i + 1, text.len(), raw, &text), "line {i} took the fast path");
            assert!(c.window.len() <= 3, "{} records waiting after line {i}", c.window.len());
            written += std::iter::from_fn(|| c.next_event()).filter(|e| matches!(e, Event::Write(_))).count();
        }
        c.finish();
        written += std::iter::from_fn(|| c.next_event()).filter(|e| matches!(e, Event::Write(_))).count();
        assert_eq!(written, 50);
    }

    #[test]
    fn dedupe_memory_is_bounded_and_keeps_the_newest() {
        let mut r = Recent::new(2);
        for k in 0..5u128 {
            r.insert(k, ());
        }
        assert!(r.current.len() + r.previous.len() <= 4);
        assert!(r.get(&4).is_some() && r.get(&3).is_some());
        assert!(r.get(&0).is_none());
    }

    #[test]
    fn invalid_records_name_the_field() {
        let cases = [
            (json!({"kind":"trend"}), "source: missing"),
            (json!({"kind":"tweet"}), "kind: unknown kind \"tweet\""),
            (json!({"source":"x"}), "kind: missing"),
            (json!({"kind":"post","source":"x"}), "id: missing"),
            (json!({"kind":"post","source":"x","id":"1","text":5}), "text: expected a string, found a number"),
            (json!({"kind":"post","source":"x","id":"1","created_at":"soon"}), "created_at: \"soon\""),
            (
                json!({"kind":"post","source":"x","id":"1","metrics":{"likes":"lots"}}),
                "metrics.likes: expected a number",
            ),
            (json!({"kind":"post","source":"x","id":"1","author":{"followers":1}}), "author.id: missing"),
        ];
        for (input, expected) in cases {
            match one(input) {
                Event::Reject { reason, .. } => assert!(reason.starts_with(expected), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
        let mut bad = trend(json!("lots"));
        assert!(
            matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "volume: expected a number, found \"lots\"")
        );
        bad["volume"] = json!(-3);
        assert!(matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "volume: -3 is below 0"));
        bad["volume"] = json!(3);
        bad["place"] = json!("BR");
        assert!(
            matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "place: expected an object, found a string")
        );
        let lax = Options { validate: false, ..Options::default() };
        let (events, changes) = run(lax, vec![bad.clone()]);
        assert_eq!(events, [Event::Write(Out::Json(bad))]);
        assert_eq!(changes.unvalidated, 1);
    }
}
