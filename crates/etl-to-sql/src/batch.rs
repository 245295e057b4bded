//! The records of one load transaction, and how each load path picks the rows to
//! write from them: one row per place, trend, post and author, the latest
//! observation winning (ties to the later record, as a rerun of it would).
//!
//! Plain data and grouping, no SQL: the SQLite, PostgreSQL and generic paths all
//! start from these.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
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

/// What one batch (or, added up, a run) did to each table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub observations: Written,
    pub trends: Written,
    pub places: Written,
    pub posts: Written,
    pub authors: Written,
}

impl Loaded {
    pub fn add(&mut self, other: Loaded) {
        self.observations.add(other.observations);
        self.trends.add(other.trends);
        self.places.add(other.places);
        self.posts.add(other.posts);
        self.authors.add(other.authors);
    }
}

/// The distinct places, trends, posts and authors a run has loaded, across all its
/// batches (a place in every batch is one place). Kept as keys in memory: some 100
/// bytes a key, so a run over ten million posts by a million authors holds about a
/// gigabyte; a run of a day's data a few megabytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Touched {
    pub places: HashSet<String>,
    pub trends: HashSet<(String, String)>,
    pub posts: HashSet<(String, String)>,
    pub authors: HashSet<(String, String)>,
}

impl Touched {
    /// Adds the keys of a batch the database has taken.
    pub fn add(&mut self, batch: &Batch) {
        for t in &batch.trends {
            self.places.insert(t.place.id.clone());
            self.trends.insert((t.source.clone(), t.key.clone()));
        }
        for p in &batch.posts {
            self.posts.insert((p.post.source.clone(), p.post.id.clone()));
            if let Some(a) = &p.post.author {
                self.authors.insert((p.post.source.clone(), a.id.clone()));
            }
        }
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
