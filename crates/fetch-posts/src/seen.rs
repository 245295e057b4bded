//! The posts already written for the trend being collected, so that a post met
//! twice under one trend in a run (two Mastodon instances, an original referenced by
//! many reposts, overlapping pages) is written once.
//!
//! Only the current trend's ids are held: a run pages one trend at a time (every page
//! of every origin of a trend before the next trend), and an import reads the files
//! of a trend one after the other when they are named as `gen-data` and sorted globs
//! name them. So the memory is that of the largest trend's posts (`--limit`, or the
//! posts of one imported trend), not of the whole run: a post met again under a trend
//! after another trend's pages came between is written again, which is stored once
//! (MongoDB and `etl-to-sql` upsert on (source, id) and link on (post, trend)).

use std::collections::HashSet;

/// The ids written for the current trend.
#[derive(Debug, Default)]
pub struct Seen {
    trend: String,
    ids: HashSet<String>,
}

impl Seen {
    /// Whether `id` is new for `trend`; remembers it. A trend other than the current
    /// one starts a new scope and forgets the previous trend's ids.
    pub fn first(&mut self, trend: &str, id: &str) -> bool {
        if self.trend != trend {
            self.trend.clear();
            self.trend.push_str(trend);
            self.ids = HashSet::new();
        }
        if self.ids.contains(id) {
            return false;
        }
        self.ids.insert(id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_first_once_per_trend_and_a_new_trend_forgets_the_last() {
        let mut seen = Seen::default();
        assert!(seen.first("bbb26", "1"));
        assert!(!seen.first("bbb26", "1"));
        assert!(seen.first("bbb26", "2"));
        assert!(seen.first("copa", "1"), "the same post under another trend is written again");
        assert!(!seen.first("copa", "1"));
        assert!(seen.first("bbb26", "1"), "a trend met again after another starts over");
        assert_eq!(seen.ids.len(), 1);
    }
}
