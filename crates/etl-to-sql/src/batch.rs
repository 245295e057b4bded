//! The records of one load transaction, and how each load path picks the rows to
//! write from them: one row per place, trend, post and author, the latest
//! observation winning (ties to the later record, as a rerun of it would).
//!
//! Plain data and grouping, no SQL: the SQLite, PostgreSQL and generic paths all
//! start from these.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use trendpipe_core::record::{Author, Post, Trend};

/// What one batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub observations: u64,
    pub trends: u64,
    pub places: u64,
    pub posts: u64,
    pub authors: u64,
}

impl Loaded {
    pub fn add(&mut self, other: Loaded) {
        self.observations += other.observations;
        self.trends += other.trends;
        self.places += other.places;
        self.posts += other.posts;
        self.authors += other.authors;
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
