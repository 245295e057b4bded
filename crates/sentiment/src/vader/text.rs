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
pub(crate) fn py_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_py_space).filter(|w| !w.is_empty())
}

/// Membership in Python's `string.punctuation`, which is ASCII only.
#[inline]
fn is_py_punct(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// VADER's token clean-up: trim ASCII punctuation from both ends unless what
/// remains is at most two code points long, in which case the token was
/// probably an emoticon such as `:)` and is kept whole.
pub(crate) fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(is_py_punct);
    if stripped.chars().nth(2).is_none() { token } else { stripped }
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
