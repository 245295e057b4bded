//! The rules that need the stream, with bounded memory: the dedupe
//! ([`Rule::Duplicate`]), the look-ahead window and the global-volume flag
//! ([`Rule::GlobalVolume`]).
//!
//! Kept records wait in a small window (`--window` records, and at most
//! [`WINDOW_BYTES`] of input) before they are written, so that a global volume seen in
//! a later place can still flag the earlier places, and a later copy of a post can
//! replace an earlier one before either is written. Identities are remembered as
//! described in [`crate::identity`]. Dropped and rejected records come out as events
//! with their reason so that the caller can quarantine them; only rejections make the
//! run exit 1, because a null volume or a repeated snapshot is the normal state of raw
//! data, not an error. A broken invariant of the window comes out as
//! [`Event::Broken`], with the record: the caller keeps it and fails the run.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::identity::{Caches, Freshness, Recent};
use crate::prepare::{self, AsRead, PostParts, Ready, ReadyPost, TrendOut};
use crate::rule::{Options, Rule};

/// At most this much input (in bytes of the lines read) waits in the window; a huge
/// record passes through alone rather than being held with thousands of others.
pub const WINDOW_BYTES: usize = 2 * 1024 * 1024;

/// A clean record.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Json(Value),
    /// A trend's JSON text but for `volume_scope` (see [`TrendOut::Text`]), in the
    /// heads of the batch it was prepared in, shared by its records.
    Trend {
        heads: Arc<Vec<u8>>,
        head: std::ops::Range<usize>,
        volume_scope: Option<String>,
    },
    /// A record's final JSON text, and whether it says `"volume_scope": "global"`: a
    /// post (posts are never flagged, the global-volume rule is for trends), or a
    /// record passed on unchanged, as the bytes it was read from.
    Text {
        json: String,
        global: bool,
    },
}

impl Out {
    fn flag_global(&mut self) {
        match self {
            Self::Json(Value::Object(obj)) => {
                obj.insert("volume_scope".into(), Value::String("global".into()));
            }
            Self::Json(_) => {}
            Self::Trend { volume_scope, .. } => *volume_scope = Some("global".into()),
            // A trend passed on as read that turns out global is changed after all.
            Self::Text { json, .. } => {
                if let Ok(mut value @ Value::Object(_)) = serde_json::from_str::<Value>(json) {
                    value["volume_scope"] = Value::String("global".into());
                    *self = Self::Json(value);
                }
            }
        }
    }

    fn is_global(&self) -> bool {
        match self {
            Self::Json(v) => v.get("volume_scope").and_then(Value::as_str) == Some("global"),
            Self::Trend { volume_scope, .. } => volume_scope.as_deref() == Some("global"),
            Self::Text { global, .. } => *global,
        }
    }

    /// Writes the record as one line of JSON, without the newline.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match self {
            Self::Json(v) => serde_json::to_writer(out, v).map_err(std::io::Error::from),
            Self::Trend { heads, head, volume_scope } => {
                prepare::write_trend(out, heads.get(head.clone()).unwrap_or_default(), volume_scope.as_deref())
            }
            Self::Text { json, .. } => out.write_all(json.as_bytes()),
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
    /// Dropped by a cleaning rule; `record` as read.
    Drop { rule: Rule, reason: String, line: Option<u64>, record: AsRead },
    /// Not a valid record ([`Rule::Schema`]); `record` as read.
    Reject { reason: String, line: Option<u64>, record: AsRead },
    /// An invariant of the cleaner broke on this record ([`Rule::Internal`]): a bug.
    /// The caller keeps the record in the quarantine and fails the run (exit 2).
    Broken { reason: String, line: Option<u64>, record: AsRead },
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

struct PostSlot {
    id: u128,
    fresh: Freshness,
    line: Option<u64>,
    as_read: AsRead,
}

struct Slot {
    value: Out,
    bytes: usize,
    /// Whether normalisation changed it and whether it lost provider fields, counted
    /// when it is written (a copy superseded in the window is not).
    normalised: bool,
    stripped: bool,
    post: Option<PostSlot>,
}

#[derive(Clone, Copy)]
struct Group {
    first_place: u128,
    global: bool,
}

/// The stream rules with the state they need.
pub struct Cleaner {
    options: Options,
    changes: Changes,
    out: VecDeque<Event>,
    window: VecDeque<Slot>,
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
    /// For records pushed as values, and the reasons of duplicates.
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

    /// How many records wait in the window.
    pub fn waiting(&self) -> usize {
        self.window.len()
    }

    /// Breaks the window's index of waiting posts, as a bug would, to test that the
    /// run then fails loudly and keeps the record.
    #[cfg(test)]
    pub(crate) fn break_the_post_index(&mut self) {
        for seq in self.posts_waiting.values_mut() {
            *seq += 1_000;
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

    /// Takes one record read as a value (a MongoDB document: `line` is `None`),
    /// `bytes` long in the input.
    pub fn push(&mut self, line: Option<u64>, bytes: usize, value: Value) {
        let ready = prepare::prepare_value(&self.options, &mut self.caches, value, None);
        self.push_ready(line, bytes, ready, None, &Arc::default());
    }

    /// Takes one prepared record ([`crate::prepare`]), read from the line `text` (with
    /// its trend's JSON text in `heads`) or from MongoDB (`text` is `None`).
    pub fn push_ready(
        &mut self,
        line: Option<u64>,
        bytes: usize,
        ready: Ready,
        text: Option<&str>,
        heads: &Arc<Vec<u8>>,
    ) {
        match ready {
            Ready::Trend(t) => self.trend(line, bytes, t, text, heads),
            Ready::Post(post) => self.post(line, bytes, *post),
            Ready::Drop { rule, reason, record } => self.out.push_back(Event::Drop { rule, reason, line, record }),
            Ready::Invalid { reason, record } => self.invalid(reason, line, bytes, record),
        }
        self.settle();
    }

    /// Releases the oldest records while the window is over its bounds.
    fn settle(&mut self) {
        while self.window.len() > self.options.window || self.window_bytes > WINDOW_BYTES {
            self.release_one();
        }
    }

    fn invalid(&mut self, reason: String, line: Option<u64>, bytes: usize, record: AsRead) {
        if self.options.validate {
            self.out.push_back(Event::Reject { reason, line, record });
        } else {
            self.changes.unvalidated += 1;
            let value = match record {
                AsRead::Raw(json) => {
                    let global = json.contains("\"global\"") && says_global(&json);
                    Out::Text { json, global }
                }
                AsRead::Value(value) => Out::Json(value),
            };
            self.enqueue(Slot { value, bytes, normalised: false, stripped: false, post: None }, None);
        }
    }

    /// A trend past the record rules: dedupe, then the window and the global-volume
    /// rule.
    fn trend(
        &mut self,
        line: Option<u64>,
        bytes: usize,
        t: prepare::ReadyTrend,
        text: Option<&str>,
        heads: &Arc<Vec<u8>>,
    ) {
        if self.options.dedupe {
            if self.trends_seen.get(&t.id).is_some() {
                let reason = prepare::duplicate_reason(&mut self.caches, &t.out, text);
                let record = match (t.as_read, text) {
                    (Some(value), _) => AsRead::Value(value),
                    (None, Some(text)) => AsRead::line(text),
                    (None, None) => return self.broken("a trend read from no line", line, AsRead::Value(Value::Null)),
                };
                self.out.push_back(Event::Drop { rule: Rule::Duplicate, reason, line, record });
                return;
            }
            self.trends_seen.insert(t.id, ());
        }
        let mut value = match t.out {
            TrendOut::Text { head, volume_scope } => Out::Trend { heads: Arc::clone(heads), head, volume_scope },
            TrendOut::Value(v) => Out::Json(v),
            TrendOut::AsRead { json, global } => Out::Text { json, global },
        };
        if let Some((group, place)) = t.group {
            match self.groups.get(&group).copied() {
                None => self.groups.insert(group, Group { first_place: place, global: false }),
                Some(g) if g.global => value.flag_global(),
                Some(g) if g.first_place != place => {
                    self.groups.insert(group, Group { first_place: g.first_place, global: true });
                    value.flag_global();
                    for (g, waiting) in self.window_groups.iter().zip(self.window.iter_mut()) {
                        if *g == Some(group) {
                            waiting.value.flag_global();
                        }
                    }
                }
                Some(_) => {}
            }
        }
        let slot = Slot { value, bytes, normalised: t.normalised, stripped: t.stripped, post: None };
        self.enqueue(slot, t.group.map(|(g, _)| g));
    }

    /// A post past the record rules: dedupe (the freshest copy wins) and the window.
    fn post(&mut self, line: Option<u64>, bytes: usize, ready: ReadyPost) {
        let ReadyPost { as_read, parts } = ready;
        let PostParts { json, global, normalised, stripped, source, id, fresh, identity } = match parts {
            Ok(parts) => parts,
            Err(reason) => return self.invalid(reason, line, bytes, as_read),
        };
        let out = Out::Text { json, global };
        if self.options.dedupe {
            if let Some(&seq) = self.posts_waiting.get(&identity) {
                let at = seq.checked_sub(self.base).and_then(|i| usize::try_from(i).ok());
                let Some(waiting) = at.and_then(|i| self.window.get_mut(i)) else {
                    let reason =
                        format!("post {source}/{id} is listed as waiting in the window (#{seq}) but is not there");
                    return self.broken(&reason, line, as_read);
                };
                let Some(earlier) = waiting.post.as_mut() else {
                    let reason =
                        format!("post {source}/{id} is listed as waiting in the window (#{seq}), which holds a trend");
                    return self.broken(&reason, line, as_read);
                };
                if fresh > earlier.fresh {
                    let reason =
                        format!("duplicate of post {source}/{id}: superseded by a later copy{}", at_line(line));
                    let old = std::mem::replace(earlier, PostSlot { id: identity, fresh, line, as_read });
                    self.window_bytes = self.window_bytes + bytes - waiting.bytes.min(self.window_bytes);
                    waiting.bytes = bytes;
                    waiting.value = out;
                    waiting.normalised = normalised;
                    waiting.stripped = stripped;
                    let (line, record) = (old.line, old.as_read);
                    self.out.push_back(Event::Drop { rule: Rule::Duplicate, reason, line, record });
                } else {
                    let reason = format!(
                        "duplicate of post {source}/{id}{}, whose counts are as recent or more",
                        at_line(earlier.line)
                    );
                    self.out.push_back(Event::Drop { rule: Rule::Duplicate, reason, line, record: as_read });
                }
                return;
            }
            if let Some(&written) = self.posts_seen.get(&identity) {
                if fresh <= written {
                    let reason = format!("duplicate of post {source}/{id}, already written with as recent counts");
                    self.out.push_back(Event::Drop { rule: Rule::Duplicate, reason, line, record: as_read });
                    return;
                }
                self.changes.post_updates += 1;
            }
            self.posts_waiting.insert(identity, self.base + self.window.len() as u64);
        }
        let post = PostSlot { id: identity, fresh, line, as_read };
        self.enqueue(Slot { value: out, bytes, normalised, stripped, post: Some(post) }, None);
    }

    /// An invariant broke: the record goes out with the reason, for the caller to keep
    /// and to fail the run.
    fn broken(&mut self, reason: &str, line: Option<u64>, record: AsRead) {
        self.out.push_back(Event::Broken { reason: format!("internal error: {reason}"), line, record });
    }

    fn enqueue(&mut self, slot: Slot, group: Option<u128>) {
        self.window_bytes += slot.bytes;
        self.window_groups.push_back(group);
        self.window.push_back(slot);
    }

    fn release_one(&mut self) {
        let Some(slot) = self.window.pop_front() else { return };
        self.window_groups.pop_front();
        let seq = self.base;
        self.base += 1;
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

/// Whether a record's JSON text says `"volume_scope": "global"`.
fn says_global(json: &str) -> bool {
    serde_json::from_str::<Value>(json).is_ok_and(|v| v.get("volume_scope").and_then(Value::as_str) == Some("global"))
}

fn at_line(line: Option<u64>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}
