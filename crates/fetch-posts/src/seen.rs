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

/// The ids written for the current trend. X ids are decimal numbers below 2^64: they
/// are held as numbers (8 bytes and a control byte each, against some 60–100 bytes
/// for an owned string in a set), which keeps an import of half a million posts of
/// one trend in a few MiB; other ids (Mastodon and Bluesky URIs) as strings.
#[derive(Debug, Default)]
pub struct Seen {
    trend: String,
    numbers: HashSet<u64>,
    others: HashSet<String>,
}

impl Seen {
    /// Whether `id` is new for `trend`; remembers it. A trend other than the current
    /// one starts a new scope and forgets the previous trend's ids.
    pub fn first(&mut self, trend: &str, id: &str) -> bool {
        if self.trend != trend {
            self.trend.clear();
            self.trend.push_str(trend);
            self.numbers = HashSet::new();
            self.others = HashSet::new();
        }
        match canonical_number(id) {
            Some(n) => self.numbers.insert(n),
            None if self.others.contains(id) => false,
            None => self.others.insert(id.to_owned()),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.numbers.len() + self.others.len()
    }
}

/// `id` as a number when it is one written the one way a number is (digits, no sign,
/// no leading zero), so that two different id strings never map to the same number:
/// "0123" and "123" stay apart.
fn canonical_number(id: &str) -> Option<u64> {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if !digits || (id.len() > 1 && id.starts_with('0')) {
        return None;
    }
    id.parse().ok()
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
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn numeric_ids_and_other_ids_are_told_apart_exactly() {
        let mut seen = Seen::default();
        assert!(seen.first("t", "123"));
        assert!(seen.first("t", "0123"), "a leading zero is another id");
        assert!(!seen.first("t", "0123"));
        assert!(!seen.first("t", "123"));
        assert!(seen.first("t", "18446744073709551616"), "past u64: kept as a string");
        assert!(!seen.first("t", "18446744073709551616"));
        assert!(seen.first("t", "at://did:plc:abc/app.bsky.feed.post/3k"));
        assert!(!seen.first("t", "at://did:plc:abc/app.bsky.feed.post/3k"));
        assert!(seen.first("t", "+5") && seen.first("t", "5") && seen.first("t", "0") && seen.first("t", ""));
        assert!(!seen.first("t", "0") && !seen.first("t", "") && !seen.first("t", "+5"));
        assert_eq!((seen.numbers.len(), seen.others.len()), (3, 5));
    }
}
