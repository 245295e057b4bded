//! Loading of VADER's tab-separated lexicons and the hash maps that hold
//! them. Parsing follows the reference loader (strip the line, split on tabs,
//! take the first two fields) but reports malformed lines as errors instead
//! of raising, and refuses non-finite valences that would only poison scores.
//! Keys are stored exactly as written: the reference looks words up after
//! lower-casing them, so a key containing uppercase letters (`:D` in the
//! stock lexicon) can never match, and mirroring that is part of parity.

use std::fmt;

use hashbrown::HashMap;

use super::rules::{Booster, Keyword};
use super::text::is_py_space;

/// Why a lexicon text was rejected. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LexiconError {
    /// A word line had no tab-separated valence after the word.
    MissingValence { line: usize },
    /// The valence field is not a finite decimal number.
    InvalidValence { line: usize, value: String },
    /// An emoji line had no tab-separated description after the emoji.
    MissingDescription { line: usize },
}

impl fmt::Display for LexiconError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingValence { line } => {
                write!(f, "lexicon line {line}: expected `word<TAB>valence`")
            }
            Self::InvalidValence { line, value } => {
                write!(f, "lexicon line {line}: valence {value:?} is not a finite number")
            }
            Self::MissingDescription { line } => {
                write!(f, "emoji lexicon line {line}: expected `emoji<TAB>description`")
            }
        }
    }
}

impl std::error::Error for LexiconError {}

/// The hasher of every table here: rustc's "Fx" scheme. Lexicon lookups
/// dominate the per-token cost and the keys are fixed, trusted data, so
/// SipHash's flooding resistance buys nothing here.
pub(crate) type FxBuild = rustc_hash::FxBuildHasher;

/// What a lower-cased word means to the rules. The lexicon and the dialect's
/// modifier words share one map so that a token costs a single lookup, made
/// once when the token is read, instead of one per table and per rule that
/// looks at it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WordInfo {
    // NaN stands for "none": valences are checked finite when read. That
    // keeps the value, and with it a map entry, small (see `Entry`).
    valence: f64,
    booster: Option<Booster>,
    /// Whether the word is on the dialect's negation list.
    pub(crate) negation: bool,
    /// Which word some rule compares tokens with, if any.
    pub(crate) keyword: Keyword,
}

impl Default for WordInfo {
    fn default() -> Self {
        Self { valence: f64::NAN, booster: None, negation: false, keyword: Keyword::Other }
    }
}

impl WordInfo {
    /// Lexicon valence, if the word is a lexicon entry.
    #[inline]
    pub(crate) fn valence(&self) -> Option<f64> {
        (!self.valence.is_nan()).then_some(self.valence)
    }

    /// Valence change, if the word is a single-word booster or dampener.
    #[inline]
    pub(crate) fn booster(&self) -> Option<f64> {
        self.booster.map(Booster::value)
    }

    /// `valence` must be finite, as [`parse_words`] ensures.
    pub(crate) fn set_valence(&mut self, valence: f64) {
        self.valence = valence;
    }

    pub(crate) fn set_booster(&mut self, booster: Booster) {
        self.booster = Some(booster);
    }
}

/// The word table: lexicon entries and the dialect's modifier words.
///
/// Nearly every token is looked up and most of them are not in the table.
/// Keys of up to [`INLINE_KEY`] bytes (all but a few dozen of VADER's 7,500)
/// are packed into two integers ([`Key`]), so a lookup hashes and compares
/// two integers instead of a string, and an ASCII token with capitals is
/// lower-cased on them without a copy; a `hashbrown` bucket holds the packed
/// key and its value in 32 bytes. Longer keys live in a map of strings;
/// tokens that long are rare.
#[derive(Clone, Default)]
pub(crate) struct WordMap {
    short: HashMap<Key, WordInfo, FxBuild>,
    long: HashMap<Box<str>, WordInfo, FxBuild>,
}

/// Longest key stored inline: 15 bytes, plus one byte for the length.
pub(crate) const INLINE_KEY: usize = 15;

/// A word packed into two integers: bytes 0..15 little-endian, zero padded,
/// and the length in bits 56..60. Distinct words of at most 15 bytes give
/// distinct keys (the length tells a trailing NUL byte from padding).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key([u64; 2]);

impl std::hash::Hash for Key {
    /// One well-mixed word ([`Key::mix`]) for the Fx hasher to place.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.mix());
    }
}

impl Key {
    #[inline]
    fn new(word: &[u8]) -> Option<Self> {
        if word.len() > INLINE_KEY {
            return None;
        }
        let len = word.len();
        // Two overlapping fixed-size loads instead of a byte loop or a
        // variable-length copy (a `memcpy` call): the bytes they share land
        // in the same positions, so OR-ing or shifting them away is exact.
        let (low, high) = if let (Some(head), Some(tail)) = (word.first_chunk::<8>(), word.last_chunk::<8>()) {
            // 8..=15 bytes: the tail's first 16 - len bytes repeat the head's.
            (u64::from_le_bytes(*head), u64::from_le_bytes(*tail).checked_shr(8 * (16 - len) as u32).unwrap_or(0))
        } else if let (Some(head), Some(tail)) = (word.first_chunk::<4>(), word.last_chunk::<4>()) {
            let (head, tail) = (u64::from(u32::from_le_bytes(*head)), u64::from(u32::from_le_bytes(*tail)));
            (head | (tail << (8 * (len - 4))), 0)
        } else {
            // 0..=3 bytes, one at a time.
            (word.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)), 0)
        };
        Some(Self([low, high | ((len as u64) << 56)]))
    }

    /// The key of the ASCII-lower-cased word, made from the key of an ASCII
    /// word without copying it anywhere: every byte in `A..=Z` gains 0x20.
    /// The bytes are below 0x80, so the per-byte sums cannot carry into the
    /// next byte; the zero padding and the length byte (below 16) are not
    /// letters and stay as they are.
    #[inline]
    fn ascii_lowercase(self) -> Self {
        const BYTES: u64 = 0x0101_0101_0101_0101;
        let lower = |w: u64| {
            // High bit of a byte set where it is at least b'A' (0x41 + 0x3f
            // = 0x80), and where it is above b'Z' (0x5b + 0x25 = 0x80).
            let from_a = w.wrapping_add(BYTES * 0x3f);
            let past_z = w.wrapping_add(BYTES * 0x25);
            w | ((from_a & !past_z & (BYTES * 0x80)) >> 2)
        };
        Self([lower(self.0[0]), lower(self.0[1])])
    }

    /// A folded 64x64->128-bit multiply, which mixes every key bit into
    /// both halves of the result.
    #[inline]
    fn mix(self) -> u64 {
        let product = u128::from(self.0[0] ^ 0x243f_6a88_85a3_08d3) * u128::from(self.0[1] ^ 0x1319_8a2e_0370_7344);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

impl WordMap {
    /// What the table records for `word`, compared byte for byte.
    #[inline]
    pub(crate) fn get(&self, word: &str) -> Option<WordInfo> {
        match Key::new(word.as_bytes()) {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(word).copied(),
        }
    }

    /// What the table records for the ASCII `word` lower-cased, which
    /// [`Key`] does on its packed integers, so that a token with capitals
    /// needs no lower-cased copy (`upper`: whether `word` has any). Only a
    /// word longer than [`INLINE_KEY`] with capitals is copied.
    #[inline]
    pub(crate) fn get_ascii_lowercase(&self, word: &str, upper: bool) -> Option<WordInfo> {
        debug_assert!(word.is_ascii());
        match Key::new(word.as_bytes()) {
            Some(key) => self.short.get(&if upper { key.ascii_lowercase() } else { key }).copied(),
            None if upper => self.long.get(word.to_ascii_lowercase().as_str()).copied(),
            None => self.long.get(word).copied(),
        }
    }

    /// Applies `f` to the entry of `word`, created empty (no valence, not a
    /// booster, not a negation) if absent.
    pub(crate) fn update<R>(&mut self, word: &str, f: impl FnOnce(&mut WordInfo) -> R) -> R {
        match Key::new(word.as_bytes()) {
            Some(key) => f(self.short.entry(key).or_default()),
            None => f(self.long.entry(word.into()).or_default()),
        }
    }

    /// Every entry's value, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = WordInfo> + '_ {
        self.short.values().chain(self.long.values()).copied()
    }
}

pub(crate) type EmojiMap = HashMap<char, Box<str>, FxBuild>;

/// Python's `str.strip()` with no argument.
fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// The reference splits the whole file on `\n` after dropping trailing
/// newlines; CR characters of CRLF files vanish in the per-line strip. Lines
/// that are blank after stripping are skipped (the reference skips only truly
/// empty ones and would crash on the others).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().map(|(n, line)| (n + 1, py_strip(line))).filter(|(_, line)| !line.is_empty())
}

/// Parses `word<TAB>valence[<TAB>...]` lines. Later duplicates win, as with
/// the reference's dict assignment, which is why a `Vec` is returned rather
/// than a map: callers insert in order.
pub(crate) fn parse_words(text: &str) -> Result<Vec<(Box<str>, f64)>, LexiconError> {
    let mut out = Vec::new();
    for (line_no, line) in lines(text) {
        let mut fields = line.split('\t');
        let word = fields.next().unwrap_or_default();
        let Some(raw) = fields.next() else {
            return Err(LexiconError::MissingValence { line: line_no });
        };
        let value = py_strip(raw);
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => out.push((word.into(), v)),
            _ => {
                return Err(LexiconError::InvalidValence { line: line_no, value: value.to_owned() });
            }
        }
    }
    Ok(out)
}

/// Parses `emoji<TAB>description[<TAB>...]` lines. The reference replaces
/// emoji while walking the text one code point at a time, so keys longer than
/// one code point (skin-tone, keycap and ZWJ sequences) can never match and
/// are validated but not stored.
pub(crate) fn parse_emoji(text: &str) -> Result<EmojiMap, LexiconError> {
    let mut out = EmojiMap::default();
    for (line_no, line) in lines(text) {
        let mut fields = line.split('\t');
        let key = fields.next().unwrap_or_default();
        let Some(description) = fields.next() else {
            return Err(LexiconError::MissingDescription { line: line_no });
        };
        let mut chars = key.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            out.insert(c, description.into());
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_reference() {
        let got = parse_words("good\t1.9\t0.9\t[1, 2]\r\n\r\n  bad\t-2.5\nGood\t3\ngood\t2\n").unwrap();
        let want: Vec<(Box<str>, f64)> =
            vec![("good".into(), 1.9), ("bad".into(), -2.5), ("Good".into(), 3.0), ("good".into(), 2.0)];
        assert_eq!(got, want);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(parse_words("good\t1\nbad\n"), Err(LexiconError::MissingValence { line: 2 }));
        assert_eq!(parse_words("good\tvery\n"), Err(LexiconError::InvalidValence { line: 1, value: "very".into() }));
        assert!(parse_words("x\tnan\n").is_err());
        assert!(parse_words("x\tinf\n").is_err());
        assert_eq!(parse_emoji("😀\n"), Err(LexiconError::MissingDescription { line: 1 }));
    }

    #[test]
    fn keys_pack_bytes_little_endian_with_the_length() {
        let text = b"\xffabcdefghijklmnop\x01";
        for start in 0..3 {
            for len in 0..=INLINE_KEY {
                let word = &text[start..start + len];
                let mut want = [0u64, (len as u64) << 56];
                for (i, &b) in word.iter().enumerate() {
                    want[i / 8] |= u64::from(b) << (8 * (i % 8));
                }
                assert!(Key::new(word) == Some(Key(want)), "{word:?}");
            }
        }
        assert!(Key::new(&text[..INLINE_KEY + 1]).is_none());
    }

    #[test]
    fn keys_lower_case_like_the_bytes() {
        let ascii: Vec<u8> = (0u8..0x80).collect();
        assert!(Key::new(b"").map(Key::ascii_lowercase) == Key::new(b""));
        for len in 1..=INLINE_KEY {
            for word in ascii.windows(len) {
                let want = Key::new(&word.to_ascii_lowercase());
                assert!(Key::new(word).map(Key::ascii_lowercase) == want, "{word:?}");
            }
        }
        let mut map = WordMap::default();
        map.update("good", |info| info.set_valence(1.9));
        map.update("antidisestablishmentarianism", |info| info.set_valence(-1.0));
        assert_eq!(map.get_ascii_lowercase("GoOD", true).and_then(|i| i.valence()), Some(1.9));
        assert_eq!(map.get_ascii_lowercase("good", false).and_then(|i| i.valence()), Some(1.9));
        assert_eq!(map.get_ascii_lowercase("ANTIdisestablishmentarianism", true).and_then(|i| i.valence()), Some(-1.0));
        assert!(map.get_ascii_lowercase("GOODS", true).is_none());
    }

    #[test]
    fn word_map_keeps_long_keys_and_overrides() {
        let mut map = WordMap::default();
        let long = "antidisestablishmentarianism"; // longer than INLINE_KEY
        let edge = "abcdefghijklmno"; // exactly INLINE_KEY bytes
        assert!(long.len() > INLINE_KEY && edge.len() == INLINE_KEY);
        for (n, word) in [long, edge, "good", "a", "", "a\0"].into_iter().enumerate() {
            map.update(word, |info| info.set_valence(n as f64));
        }
        // Enough words to grow the index several times.
        for n in 0..1000 {
            map.update(&format!("w{n}"), |info| info.set_valence(f64::from(n)));
        }
        assert_eq!(map.get(long).and_then(|i| i.valence()), Some(0.0));
        assert_eq!(map.get(edge).and_then(|i| i.valence()), Some(1.0));
        assert_eq!(map.get("good").and_then(|i| i.valence()), Some(2.0));
        assert_eq!(map.get("a").and_then(|i| i.valence()), Some(3.0));
        assert_eq!(map.get("").and_then(|i| i.valence()), Some(4.0));
        assert_eq!(map.get("a\0").and_then(|i| i.valence()), Some(5.0));
        assert_eq!(map.get("w999").and_then(|i| i.valence()), Some(999.0));
        assert!(map.get("antidisestablishmentarianisms").is_none());
        assert!(map.get("abcdefghijklmn").is_none());
        assert!(map.get("Good").is_none());
        assert!(map.get("a\0\0").is_none());

        // A later update overrides the valence and keeps the other fields.
        for word in [long, "good"] {
            map.update(word, |info| {
                info.negation = true;
                info.set_booster(Booster::Incr);
            });
            map.update(word, |info| info.set_valence(-1.5));
            let info = map.get(word).unwrap();
            assert_eq!((info.valence(), info.booster(), info.negation), (Some(-1.5), Some(0.293), true));
        }
        assert_eq!(map.values().count(), 1006);
        assert_eq!(map.values().filter(|i| i.negation).count(), 2);
    }

    #[test]
    fn multi_code_point_emoji_keys_are_dropped() {
        let map = parse_emoji("😀\tgrinning face\r\n👍🏽\tthumbs up: medium skin tone\r\n").unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&'😀').map(|d| &**d), Some("grinning face"));
    }
}
