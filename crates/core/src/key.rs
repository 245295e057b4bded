//! The normalised trend key that joins observations of one topic.
//!
//! `#BBB26`, `bbb26` and `＃ＢＢＢ２６` are the same topic seen by different sources or
//! in different snapshots. The key is the name after NFKC (full-width forms, ligatures),
//! with leading `#` removed, Unicode case folding, accents stripped (`São` and `Sao` are
//! written both ways by users) and runs of white space collapsed to one space.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Computes the key of a trend name. Returns an empty string when nothing is left
/// (a name made only of `#` and spaces), which validation then rejects.
pub fn trend_key(name: &str) -> String {
    if name.is_ascii() {
        return ascii_key(name);
    }
    let compat: String = name.nfkc().collect();
    let stripped = compat.trim().trim_start_matches('#').trim();
    let folded = caseless::default_case_fold_str(stripped);
    let mut key = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !key.is_empty();
            continue;
        }
        if pending_space {
            key.push(' ');
            pending_space = false;
        }
        key.push(c);
    }
    // NFKD split precomposed letters; recompose what has no accent left to strip
    // (Hangul syllables, for instance) so keys stay in canonical composed form.
    key.nfc().collect()
}

/// The key of a plain ASCII name, nearly every name: NFKC and NFKD change nothing
/// there, case folding is lower-casing and there are no accents to strip, so the
/// Unicode passes (and their allocations) are skipped.
fn ascii_key(name: &str) -> String {
    let stripped = name.trim().trim_start_matches('#').trim();
    let mut key = String::with_capacity(stripped.len());
    let mut pending_space = false;
    for c in stripped.chars() {
        if c.is_whitespace() {
            pending_space = !key.is_empty();
            continue;
        }
        if pending_space {
            key.push(' ');
            pending_space = false;
        }
        key.push(c.to_ascii_lowercase());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::trend_key;

    #[test]
    fn hashtags_and_case() {
        assert_eq!(trend_key("#BBB26"), "bbb26");
        assert_eq!(trend_key("  bbb26 "), "bbb26");
        assert_eq!(trend_key("##Copa"), "copa");
    }

    #[test]
    fn full_width_and_accents() {
        assert_eq!(trend_key("＃ＢＢＢ２６"), "bbb26");
        assert_eq!(trend_key("São Paulo"), "sao paulo");
        assert_eq!(trend_key("Sao   PAULO"), "sao paulo");
        assert_eq!(trend_key("Straße"), "strasse");
    }

    #[test]
    fn other_scripts_survive() {
        assert_eq!(trend_key("#東京"), "東京");
        assert_eq!(trend_key("한국"), "한국");
        assert_eq!(trend_key("Ελλάδα"), "ελλαδα");
    }

    #[test]
    fn ascii_fast_path_matches_the_unicode_passes() {
        for name in ["#BBB26", "  Copa   do\tBrasil ", "##", "a#b", "#Ab Cd#", "X\u{b}Y", ""] {
            let compat: String = unicode_normalization::UnicodeNormalization::nfkc(name).collect();
            // Force the general path by appending a non-ASCII character, then drop it.
            let general = trend_key(&format!("{compat}\u{e9}"));
            assert_eq!(trend_key(name), general.trim_end_matches('e').trim_end(), "{name:?}");
        }
    }

    #[test]
    fn nothing_left() {
        assert_eq!(trend_key(" # "), "");
    }
}
