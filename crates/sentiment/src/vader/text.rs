//! Python `str` semantics that VADER's scores depend on. The reference
//! implementation tokenises with `str.split()`, trims with
//! `str.strip(string.punctuation)`, compares with `str.lower()` and detects
//! shouting with `str.isupper()`; each of these differs from the nearest Rust
//! standard-library method on some Unicode input, so they are mirrored here.
//! Case mappings come from Rust's Unicode tables, which may be a few Unicode
//! versions newer than the Python build used as the reference; only code
//! points assigned after Unicode 14 can be affected.

use std::borrow::Cow;

/// Python's `str.isspace()`: Rust's `char::is_whitespace` (the `White_Space`
/// property) plus the four ASCII information separators U+001C..U+001F, which
/// Python treats as whitespace because of their bidirectional class.
#[inline]
pub(crate) fn is_py_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{1c}'..='\u{1f}' | ' ')
    } else {
        c.is_whitespace()
    }
}

/// Python's `str.split()` with no separator: runs of whitespace separate
/// fields and no field is ever empty.
pub(crate) fn py_split(text: &str) -> PySplit<'_> {
    PySplit { rest: text }
}

/// The iterator of [`py_split`]. It walks bytes rather than decoding every
/// character: ASCII whitespace is told from the byte alone, and the only
/// non-ASCII whitespace code points (U+0085 to U+3000) all start with one of
/// four lead bytes, so only those are decoded.
pub(crate) struct PySplit<'a> {
    rest: &'a str,
}

/// Whether byte `b` can start a whitespace character: ASCII whitespace, or
/// one of the four lead bytes. Tested on every byte of the text, so it is a
/// table lookup rather than five range comparisons.
#[inline(always)]
fn may_start_space(b: u8) -> bool {
    SPACE_LEAD[usize::from(b)]
}

/// Position of the first byte of `rest` that can start a whitespace
/// character. Eight bytes at a time: a word with no byte below `!` and none
/// above ASCII (the common case) holds none, and is skipped whole.
#[inline]
fn find_space_lead(rest: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut offset = 0;
    while let Some(chunk) = rest.get(offset..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        // High bit of a byte set if it is below 0x21 or above 0x7f. Borrows
        // can only flag bytes above a flagged one, so the lowest flag is
        // exact and everything before it is skipped.
        let candidates = ((w.wrapping_sub(ONES * 0x21) & !w) | w) & HIGHS;
        if candidates != 0 {
            // Bytes below the first candidate are not space leads; check
            // from it byte by byte (a candidate may be a non-space byte).
            let first = offset + (candidates.trailing_zeros() / 8) as usize;
            return rest.get(first..).and_then(|r| r.iter().position(|&b| may_start_space(b))).map(|k| first + k);
        }
        offset += 8;
    }
    rest.get(offset..).and_then(|r| r.iter().position(|&b| may_start_space(b))).map(|k| offset + k)
}

static SPACE_LEAD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b, 9..=13 | 0x1c..=0x20 | 0xc2 | 0xe1..=0xe3);
        b += 1;
    }
    table
};

/// Python's `string.punctuation` as a table, for the same reason.
static PUNCT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_punctuation();
        b += 1;
    }
    table
};

/// Byte length of the whitespace character starting at byte `i` of `s`, or
/// 0 if there is none.
#[inline]
fn space_len(s: &str, i: usize) -> usize {
    match s.as_bytes().get(i) {
        Some(9..=13 | 0x1c..=0x20) => 1,
        Some(0xc2 | 0xe1..=0xe3) => match s.get(i..).and_then(|t| t.chars().next()) {
            Some(c) if c.is_whitespace() => c.len_utf8(),
            _ => 0,
        },
        _ => 0,
    }
}

impl<'a> Iterator for PySplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest;
        let bytes = s.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            match space_len(s, start) {
                0 => break,
                n => start += n,
            }
        }
        if start >= bytes.len() {
            self.rest = "";
            return None;
        }
        let mut end = start + 1;
        loop {
            match bytes.get(end..).and_then(find_space_lead) {
                None => {
                    self.rest = "";
                    return s.get(start..);
                }
                Some(k) => {
                    end += k;
                    let n = space_len(s, end);
                    if n > 0 {
                        self.rest = s.get(end + n..).unwrap_or_default();
                        return s.get(start..end);
                    }
                    end += 1;
                }
            }
        }
    }
}

/// Membership in Python's `string.punctuation`, which is ASCII only.
#[inline]
fn is_py_punct(b: u8) -> bool {
    PUNCT[usize::from(b)]
}

/// VADER's token clean-up: trim ASCII punctuation from both ends unless what
/// remains is at most two code points long, in which case the token was
/// probably an emoticon such as `:)` and is kept whole. Punctuation is ASCII,
/// so the trimming works on bytes.
pub(crate) fn strip_punc_if_word(token: &str) -> &str {
    let bytes = token.as_bytes();
    let start = bytes.iter().position(|&b| !is_py_punct(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_py_punct(b)).map_or(start, |e| e + 1);
    let stripped = token.get(start..end).unwrap_or(token);
    // Byte length bounds the code-point count: at most 2 bytes is at most 2
    // code points, more than 8 bytes is more than 2.
    let short = match stripped.len() {
        0..=2 => true,
        3..=8 => stripped.chars().nth(2).is_none(),
        _ => false,
    };
    if short { token } else { stripped }
}

/// Python's `str.lower()`: full Unicode lower-casing (so `İ` becomes two code
/// points and a word-final `Σ` becomes `ς`, exactly as `str::to_lowercase`
/// does). Borrows when nothing changes, which is the common case.
pub(crate) fn py_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(s.to_ascii_lowercase()) } else { Cow::Borrowed(s) }
    } else {
        let lowered = s.to_lowercase();
        if lowered == s { Cow::Borrowed(s) } else { Cow::Owned(lowered) }
    }
}

/// What one pass over the bytes of a token tells: whether it has uppercase
/// and lowercase ASCII letters, an ASCII apostrophe, and non-ASCII bytes.
/// Python's `isupper()` of an ASCII token is "some upper and no lower".
#[derive(Clone, Copy)]
pub(crate) struct ByteScan {
    pub(crate) upper: bool,
    pub(crate) lower: bool,
    pub(crate) apostrophe: bool,
    pub(crate) non_ascii: bool,
}

#[inline]
pub(crate) fn scan_bytes(s: &str) -> ByteScan {
    // One table load and OR per byte instead of four tests.
    let classes = s.as_bytes().iter().fold(0u8, |acc, &b| acc | BYTE_CLASS[usize::from(b)]);
    ByteScan {
        upper: classes & UPPER != 0,
        lower: classes & LOWER != 0,
        apostrophe: classes & APOSTROPHE != 0,
        non_ascii: classes & NON_ASCII != 0,
    }
}

const UPPER: u8 = 1;
const LOWER: u8 = 2;
const APOSTROPHE: u8 = 4;
const NON_ASCII: u8 = 8;

static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = if b.is_ascii_uppercase() {
            UPPER
        } else if b.is_ascii_lowercase() {
            LOWER
        } else if b == b'\'' {
            APOSTROPHE
        } else if !b.is_ascii() {
            NON_ASCII
        } else {
            0
        };
        i += 1;
    }
    table
};

/// General category `Lt`, which Python's `isupper()` rejects alongside
/// lowercase letters. The set is small and has not changed since Unicode 3.
#[inline]
fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{1c5}'
            | '\u{1c8}'
            | '\u{1cb}'
            | '\u{1f2}'
            | '\u{1f88}'..='\u{1f8f}'
            | '\u{1f98}'..='\u{1f9f}'
            | '\u{1fa8}'..='\u{1faf}'
            | '\u{1fbc}'
            | '\u{1fcc}'
            | '\u{1ffc}'
    )
}

/// Python's `str.isupper()`: true when there is at least one uppercase
/// character and no lowercase or titlecase one; uncased characters (digits,
/// punctuation, CJK, emoji) are ignored, so `"OK!"` is upper and `"!!"` is not.
pub(crate) fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    if s.is_ascii() {
        for b in s.bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_python_whitespace() {
        let text = "a\u{1c}b\u{85}c\u{a0}d\u{3000}e\u{200b}f  \t g";
        let got: Vec<&str> = py_split(text).collect();
        // U+200B (zero width space) is not whitespace for Python either.
        assert_eq!(got, ["a", "b", "c", "d", "e\u{200b}f", "g"]);
        assert_eq!(py_split("   ").count(), 0);
        assert_eq!(py_split("").count(), 0);
    }

    #[test]
    fn space_lead_search_matches_byte_search() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        let plain = |r: &[u8]| r.iter().position(|&b| may_start_space(b));
        // Every byte value at every offset in a run of letters.
        for &b in &bytes {
            for pos in 0..20 {
                let mut text = [b'a'; 20];
                text[pos] = b;
                for start in 0..4 {
                    assert_eq!(find_space_lead(&text[start..]), plain(&text[start..]), "{b} at {pos}");
                }
            }
        }
        assert_eq!(find_space_lead(&bytes), plain(&bytes));
        assert_eq!(find_space_lead(b""), None);
    }

    #[test]
    fn strip_keeps_short_tokens_whole() {
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word("(ok)"), "(ok)");
        assert_eq!(strip_punc_if_word("good!!!"), "good");
        assert_eq!(strip_punc_if_word("'isn't'"), "isn't");
        assert_eq!(strip_punc_if_word("#héé,"), "héé");
        // Length is counted in code points, not bytes.
        assert_eq!(strip_punc_if_word("'hé'"), "'hé'");
        assert_eq!(strip_punc_if_word("«ab»"), "«ab»");
        assert_eq!(strip_punc_if_word("..."), "...");
    }

    #[test]
    fn isupper_matches_python() {
        assert!(py_isupper("GOOD"));
        assert!(py_isupper("OK!"));
        assert!(py_isupper("ÉTÉ"));
        assert!(!py_isupper("!!"));
        assert!(!py_isupper("GOOd"));
        assert!(!py_isupper("Ǆ\u{1c5}"));
        assert!(!py_isupper("日本"));
        assert!(py_isupper("日本A"));
        assert!(!py_isupper(""));
    }

    #[test]
    fn lower_matches_python() {
        assert_eq!(py_lower("GOOD"), "good");
        // Word-final capital sigma lowers to the final form, as in Python.
        assert_eq!(py_lower("\u{39f}\u{394}\u{39f}\u{3a3}"), "\u{3bf}\u{3b4}\u{3bf}\u{3c2}");
        assert_eq!(py_lower("İ"), "i\u{307}");
        assert_eq!(py_lower("\u{212a}IND"), "kind");
        assert!(matches!(py_lower("plain"), Cow::Borrowed(_)));
    }
}
