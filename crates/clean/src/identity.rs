//! Identities of records and the bounded memory of the ones seen.
//!
//! A record's identity is a 128-bit hash (xxh3) of its natural key: (source, place,
//! key, time) for a trend, (source, id) for a post, and (source, time, key, volume) for
//! the global-volume group of a trend. Identities already written are remembered in
//! two generations of at most `--dedupe-memory` entries each ([`Recent`]): the newest
//! are always remembered, the oldest forgotten first. A duplicate whose first copy is
//! further back than that is written again; every consumer (the MongoDB unique
//! indexes, `etl-to-sql`'s upserts) stores it once anyway.
//!
//! The caches of trend keys and times are here too: both are pure functions of the
//! text, so a cached answer is the answer.

use rustc_hash::FxHashMap;
use trendpipe_core::key::trend_key;
use xxhash_rust::xxh3::Xxh3;

use crate::rule::{self, Options};

/// How recent a copy of a post is: its `observed_at` (ms), then its total engagement
/// (zero for a repost, whose counts are the original's).
pub type Freshness = (i64, i64);

/// A 128-bit hash of fields, each followed by a byte that never occurs in UTF-8 so
/// that `("ab", "c")` and `("a", "bc")` differ.
pub fn hash(fields: &[&str]) -> u128 {
    hash_bytes(fields.iter().map(|f| f.as_bytes()))
}

/// XXH3-128 of the fields each followed by `0xff`. The fields of an identity are
/// short: they are laid end to end on the stack and hashed at once, which gives the
/// streaming hasher's digest (the same bytes) for a fraction of its cost.
pub fn hash_bytes<'a>(fields: impl Iterator<Item = &'a [u8]> + Clone) -> u128 {
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

/// The identity of a checked trend, for the dedupe.
pub fn trend_id(c: &rule::CheckedTrend<'_>) -> u128 {
    hash(&[c.source, &c.place_id, c.key, c.observed_at])
}

/// The (snapshot, key, volume) group of a trend and its place, for the global-volume
/// rule; `None` when the rule is off or the trend has no volume.
pub fn group_of(options: &Options, c: &rule::CheckedTrend<'_>) -> Option<(u128, u128)> {
    match (options.flag_global, c.volume) {
        (true, Some(volume)) => {
            let volume = volume.to_le_bytes();
            let parts = [c.source.as_bytes(), c.observed_at.as_bytes(), c.key.as_bytes(), &volume];
            Some((hash_bytes(parts.into_iter()), hash(&[&c.place_id])))
        }
        _ => None,
    }
}

/// Two generations of at most `cap` entries: bounded memory, newest kept.
pub struct Recent<V> {
    pub(crate) current: FxHashMap<u128, V>,
    pub(crate) previous: FxHashMap<u128, V>,
    cap: usize,
}

impl<V> Recent<V> {
    pub fn new(cap: usize) -> Self {
        Self { current: FxHashMap::default(), previous: FxHashMap::default(), cap: cap.max(1) }
    }

    pub fn get(&self, k: &u128) -> Option<&V> {
        self.current.get(k).or_else(|| self.previous.get(k))
    }

    pub fn insert(&mut self, k: u128, v: V) {
        if self.current.len() >= self.cap && !self.current.contains_key(&k) {
            // The oldest generation goes; its table is reused for the new one rather
            // than freed and grown again.
            std::mem::swap(&mut self.previous, &mut self.current);
            self.current.clear();
        }
        self.current.insert(k, v);
    }
}

/// Names seen lately and their keys, and the last time read: a snapshot repeats its
/// time on every line and its names across places, and the Unicode passes of
/// [`trend_key`] and the time parse are the costliest part of a trend.
#[derive(Default)]
pub struct Caches {
    pub keys: KeyCache,
    pub time: TimeCache,
}

#[derive(Default)]
pub struct KeyCache {
    /// Name to its key's place in `keys`: a hit is one lookup.
    names: FxHashMap<String, usize>,
    pub(crate) keys: Vec<String>,
}

/// Names whose keys are remembered; the cache is emptied when full (bounded memory,
/// and a new snapshot refills it at once).
pub const KEY_CACHE: usize = 8192;

impl KeyCache {
    /// The key of a trend name.
    pub fn key(&mut self, name: &str) -> &str {
        let at = match self.names.get(name) {
            Some(&at) => at,
            None => {
                if self.keys.len() >= KEY_CACHE {
                    self.names.clear();
                    self.keys.clear();
                }
                self.keys.push(trend_key(name));
                self.names.insert(name.to_owned(), self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        self.keys.get(at).map_or("", String::as_str)
    }
}

/// The last time read and its clean form.
#[derive(Default)]
pub struct TimeCache(Option<(String, String)>);

impl TimeCache {
    /// [`rule::time`], remembered for the last text.
    pub fn time(&mut self, s: &str) -> Result<&str, String> {
        if self.0.as_ref().is_none_or(|(read, _)| read != s) {
            self.0 = Some((s.to_owned(), rule::time(s)?));
        }
        Ok(self.0.as_ref().map_or("", |(_, clean)| clean.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_bad_time_is_an_error_and_a_good_one_is_cached() {
        let mut cache = TimeCache::default();
        assert_eq!(cache.time("2026-11-21T22:30:00-03:00"), Ok("2026-11-22T01:30:00Z"));
        assert_eq!(cache.time("2026-11-21T22:30:00-03:00"), Ok("2026-11-22T01:30:00Z"));
        assert!(cache.time("soon").unwrap_err().starts_with("\"soon\" is not an RFC 3339 time"));
    }
}
