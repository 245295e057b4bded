//! Loading of VADER's tab-separated lexicons and the hash maps that hold
//! them. Parsing follows the reference loader (strip the line, split on tabs,
//! take the first two fields) but reports malformed lines as errors instead
//! of raising, and refuses non-finite valences that would only poison scores.
//! Keys are stored exactly as written: the reference looks words up after
//! lower-casing them, so a key containing uppercase letters (`:D` in the
//! stock lexicon) can never match, and mirroring that is part of parity.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

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

/// A small multiplicative hasher (the rustc "Fx" scheme). Lexicon lookups
/// dominate the per-token cost and the keys are fixed, trusted data, so
/// SipHash's flooding resistance buys nothing here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Assembled byte by byte (the same little-endian value): copying
            // a slice of variable length into a buffer is a memcpy call.
            let tail = rest.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            self.add(tail ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
/// What a lower-cased word means to the rules. The lexicon and the dialect's
/// modifier words share one map so that a token costs a single lookup, made
/// once when the token is read, instead of one per table and per rule that
/// looks at it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WordInfo {
    // NaN stands for "none" in both values: valences are checked finite when
    // read and booster values are constants. That keeps a map entry at 40
    // bytes rather than 56, and the lookups, random by nature, miss the cache
    // less in a smaller table.
    valence: f64,
    booster: f64,
    /// Whether the word is on the dialect's negation list.
    pub(crate) negation: bool,
}

impl Default for WordInfo {
    fn default() -> Self {
        Self { valence: f64::NAN, booster: f64::NAN, negation: false }
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
        (!self.booster.is_nan()).then_some(self.booster)
    }

    /// `valence` must be finite, as [`parse_words`] ensures.
    pub(crate) fn set_valence(&mut self, valence: f64) {
        self.valence = valence;
    }

    pub(crate) fn set_booster(&mut self, booster: f64) {
        self.booster = booster;
    }
}

pub(crate) type WordMap = HashMap<Box<str>, WordInfo, FxBuild>;
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
    fn multi_code_point_emoji_keys_are_dropped() {
        let map = parse_emoji("😀\tgrinning face\r\n👍🏽\tthumbs up: medium skin tone\r\n").unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&'😀').map(|d| &**d), Some("grinning face"));
    }
}
