//! What the load keeps beside a trend's observation: the provider's own category
//! (`trends.category`, Bluesky's topics may carry one) and the titles of the news
//! items attached to it (`trend_news`, Google Trends' `ht:news_item`s), which the
//! report's category rules read, and the newest observation of each source and place
//! (`observation_freshness`), which the report's health check reads
//! (docs/ARCHITECTURE.md, "report" and "Storage").
//!
//! Written in the transaction of the batch that carries them, after its trends are
//! merged, by every load path (SQLite fast path, PostgreSQL, generic), with the same
//! statements: a category is set only when it differs, a news title is inserted only
//! once, a newest time only moves forward, so a rerun changes nothing. Records
//! without a category or news cost a look into their extra fields and no statement.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Executor, IntoArguments, Type};
use trendpipe_core::record::Trend;

/// Sets a trend's provider category, only when it changes. `$1` appears twice: both
/// SQLite (rusqlite and sqlx) and PostgreSQL bind it once by number.
const CATEGORY_SQL: &str = "UPDATE trends SET category = $1 \
     WHERE source = $2 AND key = $3 AND (category IS NULL OR category <> $1)";

/// Adds a news title of a trend, once.
const NEWS_SQL: &str = "INSERT INTO trend_news (trend_key, title) VALUES ($1, $2) ON CONFLICT DO NOTHING";

/// Moves a source and place's newest observation forward, never back: the later of
/// the stored and the loaded time, so that an older batch loaded late, or a rerun,
/// leaves it as it is.
const FRESHNESS_SQL: &str = "INSERT INTO observation_freshness (source, place, newest) VALUES ($1, $2, $3) \
     ON CONFLICT (source, place) DO UPDATE SET newest = excluded.newest \
     WHERE excluded.newest > observation_freshness.newest";

/// Longest stored category, in characters: a provider label is a word or two.
const MAX_CATEGORY: usize = 100;

/// Longest stored news title, in characters. A title is part of `trend_news`'s
/// primary key, and PostgreSQL refuses index entries over about 2,700 bytes: a longer
/// (attacker-written) title would otherwise fail its whole batch.
const MAX_TITLE: usize = 500;

/// The categories and news titles of a batch's trend records.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// `(source, key) -> category`, from the latest observation that gives one.
    pub categories: BTreeMap<(String, String), String>,
    /// `(trend key, title)`, distinct.
    pub news: BTreeSet<(String, String)>,
}

impl Extras {
    /// Picks the categories and news titles out of `trends`' extra fields. Values of
    /// another shape than the contract's (a string; an array of objects with a
    /// string `title`) are ignored: they are kept in the raw store, and a record is
    /// not refused for a field the load only reads on the side.
    pub fn of(trends: &[Trend]) -> Self {
        let mut out = Self::default();
        let mut latest: BTreeMap<(&str, &str), &Trend> = BTreeMap::new();
        for t in trends {
            if let Some(items) = t.extra.get("news").and_then(|v| v.as_array()) {
                for item in items {
                    if let Some(title) = item.get("title").and_then(|v| v.as_str()).and_then(|s| clip(s, MAX_TITLE)) {
                        out.news.insert((t.key.clone(), title));
                    }
                }
            }
            if category(t).is_some() {
                let slot = latest.entry((t.source.as_str(), t.key.as_str())).or_insert(t);
                // The later record wins a tie, as a rerun of it would.
                if t.observed_at >= slot.observed_at {
                    *slot = t;
                }
            }
        }
        for ((source, key), t) in latest {
            if let Some(c) = category(t) {
                out.categories.insert((source.to_owned(), key.to_owned()), c);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty() && self.news.is_empty()
    }
}

/// The newest observation time of each `(source, place code)` among `trends`.
pub fn newest(trends: &[Trend]) -> BTreeMap<(&str, &str), DateTime<Utc>> {
    let mut out: BTreeMap<(&str, &str), DateTime<Utc>> = BTreeMap::new();
    for t in trends {
        out.entry((t.source.as_str(), t.place.id.as_str()))
            .and_modify(|at| *at = (*at).max(t.observed_at))
            .or_insert(t.observed_at);
    }
    out
}

/// A record's provider category, trimmed and clipped; `None` when absent or blank.
fn category(t: &Trend) -> Option<String> {
    t.extra.get("category").and_then(|v| v.as_str()).and_then(|s| clip(s, MAX_CATEGORY))
}

/// `s` trimmed and cut to `max` characters; `None` when nothing is left.
fn clip(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(max).collect::<String>().trim_end().to_owned())
}

/// Writes the batch's categories and news titles through sqlx (the PostgreSQL and the
/// generic path), on the batch's transaction, after its trends were merged.
pub async fn write<DB>(conn: &mut DB::Connection, trends: &[Trend]) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    for ((source, place), at) in newest(trends) {
        sqlx::query::<DB>(FRESHNESS_SQL)
            .bind(source.to_owned())
            .bind(place.to_owned())
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    let extras = Extras::of(trends);
    for ((source, key), category) in extras.categories {
        sqlx::query::<DB>(CATEGORY_SQL).bind(category).bind(source).bind(key).execute(&mut *conn).await?;
    }
    for (key, title) in extras.news {
        sqlx::query::<DB>(NEWS_SQL).bind(key).bind(title).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The same as [`write`] on the SQLite fast path's transaction.
pub fn write_lite(tx: &rusqlite::Transaction<'_>, trends: &[Trend]) -> rusqlite::Result<()> {
    {
        let mut upsert = tx.prepare_cached(FRESHNESS_SQL)?;
        for ((source, place), at) in newest(trends) {
            // The text the observations are stored with, so that both compare as times.
            upsert.execute(rusqlite::params![source, place, trendpipe_core::sql::time_text(&at)])?;
        }
    }
    let extras = Extras::of(trends);
    if extras.is_empty() {
        return Ok(());
    }
    let mut update = tx.prepare_cached(CATEGORY_SQL)?;
    for ((source, key), category) in &extras.categories {
        update.execute(rusqlite::params![category, source, key])?;
    }
    let mut insert = tx.prepare_cached(NEWS_SQL)?;
    for (key, title) in &extras.news {
        insert.execute(rusqlite::params![key, title])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trend(key: &str, at: &str, extra: serde_json::Value) -> Trend {
        let mut v = json!({"source":"bluesky","place":{"id":"global"},"name":key,"key":key,"volume":null,
                           "observed_at":at});
        if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_latest_category_wins_and_news_titles_are_distinct_and_clipped() {
        let long = "x".repeat(MAX_TITLE + 50);
        let trends = [
            trend("a", "2026-11-22T02:00:00Z", json!({"category":"  sports "})),
            trend("a", "2026-11-22T01:00:00Z", json!({"category":"politics"})),
            trend(
                "b",
                "2026-11-22T01:00:00Z",
                json!({"category":"", "news":[{"title":"T1"},{"title":"T1"},
                {"url":"https://no.title"},{"title":42},{"title":long}]}),
            ),
            trend("b", "2026-11-22T02:00:00Z", json!({"news":[{"title":" T2 "}], "category": 7})),
        ];
        let e = Extras::of(&trends);
        assert_eq!(e.categories.len(), 1);
        assert_eq!(e.categories[&("bluesky".to_owned(), "a".to_owned())], "sports");
        let titles: Vec<&str> = e.news.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(titles, ["T1", "T2", &"x".repeat(MAX_TITLE)]);
    }

    #[test]
    fn records_without_extras_give_nothing_to_write() {
        assert!(Extras::of(&[trend("a", "2026-11-22T02:00:00Z", json!({}))]).is_empty());
    }
}
