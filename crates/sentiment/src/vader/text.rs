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
/// fields and no field is ever empty. Each field comes with the
/// [`ByteScan`] of its bytes, made in the same pass that finds its end.
pub(crate) fn py_split(text: &str) -> PySplit<'_> {
    PySplit { text, pos: 0 }
}

/// The iterator of [`py_split`]. It walks bytes rather than decoding every
/// character: ASCII whitespace is told from the byte alone, and the only
/// non-ASCII whitespace code points (U+0085 to U+3000) all start with one of
/// four lead bytes, so only those are decoded. The byte's class, which the
/// whitespace test looks up anyway, also feeds the field's scan, so the
/// bytes of a word are read once rather than by the splitter and then by
/// the scan (most fields are short words, where the one pass pays most).
pub(crate) struct PySplit<'a> {
    text: &'a str,
    /// Where the next field's search starts.
    pos: usize,
}

/// Python's `string.punctuation` as a table: tested on both ends of every
/// token, so a lookup rather than four range comparisons.
static PUNCT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_punctuation();
        b += 1;
    }
    table
};

/// Byte length of the whitespace character starting at byte `i` of `s`,
/// which is `b`, or 0 if there is none. The ASCII answer is inlined; only
/// the four lead bytes need the character decoded.
#[inline(always)]
fn space_len_at(s: &str, i: usize, b: u8) -> usize {
    if BYTE_CLASS[usize::from(b)] & SPACE_LEAD == 0 {
        0
    } else if b.is_ascii() {
        1
    } else {
        lead_space_len(s, i)
    }
}

/// [`space_len_at`] for one of the four lead bytes, which is rare.
#[inline(never)]
fn lead_space_len(s: &str, i: usize) -> usize {
    match s.get(i..).and_then(|t| t.chars().next()) {
        Some(c) if c.is_whitespace() => c.len_utf8(),
        _ => 0,
    }
}

impl<'a> Iterator for PySplit<'a> {
    type Item = (&'a str, ByteScan);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.text;
        let bytes = s.as_bytes();
        let mut start = self.pos;
        while let Some(&b) = bytes.get(start) {
            match space_len_at(s, start, b) {
                0 => break,
                n => start += n,
            }
        }
        if start >= bytes.len() {
            self.pos = bytes.len();
            return None;
        }
        let mut classes = 0;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            let class = BYTE_CLASS[usize::from(b)];
            if class & SPACE_LEAD != 0 {
                let n = space_len_at(s, end, b);
                if n > 0 {
                    self.pos = end + n;
                    return s.get(start..end).map(|field| (field, ByteScan(classes)));
                }
            }
            classes |= class;
            end += 1;
        }
        self.pos = end;
        s.get(start..).map(|field| (field, ByteScan(classes)))
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
/// so the trimming works on bytes; `non_ascii` tells whether the token has
/// any non-ASCII byte (when it has none, bytes are code points).
pub(crate) fn strip_punc_if_word(token: &str, non_ascii: bool) -> &str {
    let bytes = token.as_bytes();
    // Most tokens are plain words: nothing to trim, kept whole either way.
    if bytes.first().is_none_or(|&b| !is_py_punct(b)) && bytes.last().is_none_or(|&b| !is_py_punct(b)) {
        return token;
    }
    let start = bytes.iter().position(|&b| !is_py_punct(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_py_punct(b)).map_or(start, |e| e + 1);
    let stripped = token.get(start..end).unwrap_or(token);
    // Byte length bounds the code-point count: at most 2 bytes is at most 2
    // code points, more than 8 bytes is more than 2.
    let short = match stripped.len() {
        0..=2 => true,
        3..=8 if non_ascii => stripped.chars().nth(2).is_none(),
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
    } else if s.chars().any(changes_when_lowered) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Whether lower-casing may change `c`: only uppercase and titlecase
/// characters do (a unit test checks every code point against Rust's
/// tables). Testing the two properties is a bitset lookup, where the case
/// mapping is a binary search, and it spares the copy that `to_lowercase`
/// makes of the many non-ASCII words already in lower case ("não", "café").
#[inline]
fn changes_when_lowered(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_uppercase() } else { c.is_uppercase() || is_titlecase(c) }
}

/// What one pass over the bytes of a token tells: whether it has uppercase
/// and lowercase ASCII letters, an ASCII apostrophe, and non-ASCII bytes.
/// Python's `isupper()` of an ASCII token is "some upper and no lower".
#[derive(Clone, Copy)]
pub(crate) struct ByteScan(u8);

impl ByteScan {
    /// Whether some byte is of `class`: one of [`UPPER`], [`LOWER`],
    /// [`APOSTROPHE`] and [`NON_ASCII`].
    #[inline]
    pub(crate) fn has(self, class: u8) -> bool {
        self.0 & class != 0
    }
}

/// The [`ByteScan`] of `s`, for words that do not come from [`py_split`].
#[cfg(test)]
pub(crate) fn scan_bytes(s: &str) -> ByteScan {
    // One table load and OR per byte instead of four tests.
    ByteScan(s.as_bytes().iter().fold(0u8, |acc, &b| acc | BYTE_CLASS[usize::from(b)]))
}

pub(crate) const UPPER: u8 = 1;
pub(crate) const LOWER: u8 = 2;
pub(crate) const APOSTROPHE: u8 = 4;
pub(crate) const NON_ASCII: u8 = 8;
/// ASCII whitespace, or one of the four lead bytes of the non-ASCII
/// whitespace characters.
const SPACE_LEAD: u8 = 16;

static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let class = if b.is_ascii_uppercase() {
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
        let space_lead = if matches!(b, 9..=13 | 0x1c..=0x20 | 0xc2 | 0xe1..=0xe3) { SPACE_LEAD } else { 0 };
        table[i] = class | space_lead;
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
        let fields = |text| py_split(text).map(|(field, _)| field).collect::<Vec<&str>>();
        let text = "a\u{1c}b\u{85}c\u{a0}d\u{3000}e\u{200b}f  \t g";
        // U+200B (zero width space) is not whitespace for Python either.
        assert_eq!(fields(text), ["a", "b", "c", "d", "e\u{200b}f", "g"]);
        assert_eq!(fields("  é\u{e1}\u{2000}x "), ["é\u{e1}", "x"]);
        assert!(fields("   ").is_empty());
        assert!(fields("").is_empty());
    }

    #[test]
    fn split_scans_each_field() {
        for (field, scan) in py_split("Don't\u{a0}STOP né x") {
            let want = scan_bytes(field);
            assert_eq!(scan.0 & !SPACE_LEAD, want.0 & !SPACE_LEAD, "{field}");
        }
    }

    #[test]
    fn strip_keeps_short_tokens_whole() {
        fn strip(token: &str) -> &str {
            strip_punc_if_word(token, !token.is_ascii())
        }
        assert_eq!(strip(":)"), ":)");
        assert_eq!(strip("(ok)"), "(ok)");
        assert_eq!(strip("good!!!"), "good");
        assert_eq!(strip("'isn't'"), "isn't");
        assert_eq!(strip("#héé,"), "héé");
        // Length is counted in code points, not bytes.
        assert_eq!(strip("'hé'"), "'hé'");
        assert_eq!(strip("'abc'"), "abc");
        assert_eq!(strip("«ab»"), "«ab»");
        assert_eq!(strip("..."), "...");
        assert_eq!(strip(""), "");
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
        assert!(matches!(py_lower("não"), Cow::Borrowed(_)));
        assert_eq!(py_lower("NÃO"), "não");
        assert_eq!(py_lower("\u{1c5}x"), "\u{1c6}x");
    }

    #[test]
    fn only_uppercase_and_titlecase_change_when_lowered() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let mut lower = c.to_lowercase();
            let unchanged = lower.next() == Some(c) && lower.next().is_none();
            assert!(unchanged || changes_when_lowered(c), "{c:?} lowers to {}", c.to_lowercase());
        }
    }
}
