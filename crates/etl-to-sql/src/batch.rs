//! The records of one load transaction, and how each load path picks the rows to
//! write from them: one row per place, trend, post and author, the latest
//! observation winning (ties to the later record, as a rerun of it would).
//!
//! Plain data and grouping, no SQL: the SQLite, PostgreSQL and generic paths all
//! start from these.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use roaring::RoaringTreemap;
use trendpipe_core::record::{Author, Post, Trend};

/// What the database did with the distinct rows of one table that a batch upserts:
/// inserted them, rewrote them, or found them already stored as they are (and left
/// them alone). Taken from the database's own answers, never from the input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Written {
    pub fn add(&mut self, other: Written) {
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }

    /// From the rows a batch offered and the rows the database inserted and updated.
    pub fn of(offered: u64, new: u64, updated: u64) -> Self {
        Self { new, updated, unchanged: offered.saturating_sub(new + updated) }
    }
}

/// What one batch (or, added up, a run) did to each table, and the rows it wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Loaded {
    pub observations: Written,
    pub trends: Written,
    pub places: Written,
    pub posts: Written,
    pub authors: Written,
    pub touched: Touched,
}

impl Loaded {
    pub fn add(&mut self, other: Loaded) {
        self.observations.add(other.observations);
        self.trends.add(other.trends);
        self.places.add(other.places);
        self.posts.add(other.posts);
        self.authors.add(other.authors);
        self.touched.add(&other.touched);
    }
}

/// The distinct places, trends, posts and authors a run has loaded, across all its
/// batches (a place in every batch is one place), as the row ids the database gave
/// them (a natural key is one row, one id).
///
/// Kept as compressed bitmaps (`roaring`): the ids are dense integers (SQLite's
/// rowids, PostgreSQL's identity columns), which a bitmap holds in about two bits
/// each when a run touches most rows of a range, and at most some 2 bytes each
/// otherwise: a run over ten million posts holds a few megabytes, where the keys
/// themselves (some 100 bytes each) took a gigabyte. A row id is only added once its
/// transaction has committed, so a rolled-back batch adds nothing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Touched {
    pub places: RoaringTreemap,
    pub trends: RoaringTreemap,
    pub posts: RoaringTreemap,
    pub authors: RoaringTreemap,
}

impl Touched {
    /// Adds the rows another batch touched.
    pub fn add(&mut self, other: &Touched) {
        self.places |= &other.places;
        self.trends |= &other.trends;
        self.posts |= &other.posts;
        self.authors |= &other.authors;
    }
}

/// A row id as a bitmap member: the ids are positive, and a negative one (which no
/// path here writes) still maps to a member of its own.
pub(crate) fn member(id: i64) -> u64 {
    u64::from_ne_bytes(id.to_ne_bytes())
}

/// Adds row ids to a bitmap.
pub(crate) fn mark<'i>(set: &mut RoaringTreemap, ids: impl IntoIterator<Item = &'i i64>) {
    for id in ids {
        set.insert(member(*id));
    }
}

/// Whether an upsert inserted a row, rewrote it, or left it as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    New,
    Updated,
    Unchanged,
}

impl Written {
    pub(crate) fn count(&mut self, change: Change) {
        match change {
            Change::New => self.new += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// A post with the time its counts were read (its `observed_at`, else `created_at`).
#[derive(Debug, Clone)]
pub struct TimedPost {
    pub post: Post,
    pub at: DateTime<Utc>,
}

/// The records of one transaction.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub trends: Vec<Trend>,
    pub posts: Vec<TimedPost>,
    /// The stream and position to record once the rows are in.
    pub watermark: Option<(String, DateTime<Utc>)>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.trends.len() + self.posts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The span of a trend within a batch: first and last observation, and the name of
/// the latest one.
pub(crate) struct Span<'a> {
    pub name: &'a str,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The places and trends of a batch, one row each, in key order.
pub(crate) struct TrendGroups<'a> {
    /// Place code and name: a later non-null name wins.
    pub places: Vec<(&'a str, Option<&'a str>)>,
    /// (source, key) and the span of the batch.
    pub trends: Vec<((&'a str, &'a str), Span<'a>)>,
}

pub(crate) fn group_trends(batch: &[Trend]) -> TrendGroups<'_> {
    let mut places: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut trends: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for t in batch {
        let name = t.place.name.as_deref();
        places.entry(t.place.id.as_str()).and_modify(|n| *n = name.or(*n)).or_insert(name);
        let span = trends.entry((t.source.as_str(), t.key.as_str())).or_insert(Span {
            name: &t.name,
            first: t.observed_at,
            last: t.observed_at,
        });
        if t.observed_at >= span.last {
            span.last = t.observed_at;
            span.name = &t.name;
        }
        span.first = span.first.min(t.observed_at);
    }
    TrendGroups { places: places.into_iter().collect(), trends: trends.into_iter().collect() }
}

/// A post or an author by (source, provider id).
pub(crate) type Keyed<'a, T> = Vec<((&'a str, &'a str), T)>;

/// The latest observation of each post and of each author of a batch, in key order
/// (ties go to the later record, as a rerun of it would).
#[allow(clippy::type_complexity)]
pub(crate) fn latest_posts(batch: &[TimedPost]) -> (Keyed<'_, &TimedPost>, Keyed<'_, (&TimedPost, &Author)>) {
    let mut posts: BTreeMap<(&str, &str), &TimedPost> = BTreeMap::new();
    let mut authors: BTreeMap<(&str, &str), (&TimedPost, &Author)> = BTreeMap::new();
    for p in batch {
        let slot = posts.entry((p.post.source.as_str(), p.post.id.as_str())).or_insert(p);
        if p.at >= slot.at {
            *slot = p;
        }
        if let Some(a) = &p.post.author {
            let slot = authors.entry((p.post.source.as_str(), a.id.as_str())).or_insert((p, a));
            if p.at >= slot.0.at {
                *slot = (p, a);
            }
        }
    }
    (posts.into_iter().collect(), authors.into_iter().collect())
}
