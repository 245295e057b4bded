//! A faithful Rust port of VADER 3.3.2 (Valence Aware Dictionary and sEntiment
//! Reasoner, C.J. Hutto and E. Gilbert, ICWSM 2014). Scores are meant to be
//! identical to those of the Python package `vaderSentiment==3.3.2`, including
//! where that implementation does something other than its documentation
//! says (see the notes on the individual rules); `tests/parity.rs` checks
//! this against the Python reference on a corpus of several thousand texts.
//! The one known source of divergence is Unicode data: case mappings come
//! from Rust's tables, which can be newer than the Python build's, so words
//! written with characters assigned after Unicode 14 may case differently.
//!
//! The analysis is written once, generic over a `Language`: how its text is
//! read into tokens and which word tables and rule variants apply, so
//! [`leia`], the Brazilian Portuguese adaptation, runs on the same code.
//!
//! ```
//! use trendpipe_sentiment::vader::SentimentIntensityAnalyzer;
//!
//! let analyzer = SentimentIntensityAnalyzer::new();
//! let scores = analyzer.polarity_scores("VADER is smart, handsome, and funny!");
//! assert_eq!(scores.compound, 0.8439);
//! ```

pub mod leia;
mod lexicon;
mod rules;
mod text;

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock};

pub use lexicon::LexiconError;
use lexicon::{EmojiMap, WordInfo, WordMap};
use rules::{
    ALPHA, C_INCR, Dialect, English, Keyword, N_SCALAR, add_english_modifiers, but_check, has_contraction, py_round,
};
use smallvec::SmallVec;
use text::{APOSTROPHE, ByteScan, LOWER, NON_ASCII, UPPER, py_isupper, py_lower, py_split, strip_punc_if_word};

/// The stock VADER word lexicon (about 7,500 entries).
pub const BUILTIN_LEXICON: &str = include_str!("../../data/vader_lexicon.txt");
/// The stock VADER emoji lexicon: emoji to English description.
pub const BUILTIN_EMOJI_LEXICON: &str = include_str!("../../data/emoji_utf8_lexicon.txt");

static BUILTIN: LazyLock<SentimentIntensityAnalyzer> = LazyLock::new(|| {
    // The embedded files are known to parse (a unit test checks it); should
    // that ever break, an analyzer without lexicons scores everything neutral
    // rather than bringing the process down.
    SentimentIntensityAnalyzer::with_lexicon(BUILTIN_LEXICON, BUILTIN_EMOJI_LEXICON)
        .unwrap_or_else(|_| SentimentIntensityAnalyzer::empty())
});

/// Sentiment of one text, rounded as the reference rounds it: `neg`, `neu`
/// and `pos` to 3 decimals (they are proportions of the text and sum to about
/// 1), `compound` to 4 decimals (the normalised overall score in [-1, 1]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scores {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

impl Scores {
    const NEUTRAL_EMPTY: Scores = Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: 0.0 };
    /// A text with words but no sentiment: every score is zero.
    const NEUTRAL: Scores = Scores { neg: 0.0, neu: 1.0, pos: 0.0, compound: 0.0 };
}

/// The VADER analyser: a word lexicon, an emoji lexicon and the rules.
/// Scoring takes `&self`, so one analyser can be shared across threads.
#[derive(Clone)]
pub struct SentimentIntensityAnalyzer {
    // Shared so that `new()` and `clone()` are cheap; extending a lexicon
    // copies it first if another analyser still uses it.
    lexicon: Arc<WordMap>,
    english: Arc<EnglishText>,
}

/// How VADER reads English text: emoji replaced by their descriptions, the
/// text split on white space, punctuation stripped from the tokens; then the
/// English rules.
#[derive(Default)]
struct EnglishText {
    emojis: EmojiMap,
    /// Whether some emoji key is ASCII; when none is (the stock lexicon),
    /// ASCII characters skip the emoji lookup.
    ascii_emoji: bool,
}

/// What a language brings to the rules, which `polarity_scores` applies
/// the same way to every language: how its text is read into tokens, and
/// which of VADER's rule variants it follows.
trait Language {
    /// The tables and switches of the word-level rules.
    type Rules: Dialect;
    fn rules(&self) -> &Self::Rules;
    /// The text as the rules read it.
    fn prepare<'t>(&self, text: &'t str) -> Cow<'t, str>;
    /// The tokens of the prepared text, each looked up once in `words`.
    fn tokens<'a>(&self, text: &'a str, words: &WordMap) -> Tokens<'a>;
    /// Whether the token at `i` only modifies the words after it and scores
    /// nothing itself.
    fn modifier_only(tokens: &[Token<'_>], i: usize) -> bool;
    /// For each token, the index of the token in whose context it is scored,
    /// when that is not its own.
    fn contexts(tokens: &[Token<'_>]) -> Option<SmallVec<[usize; INLINE_TOKENS]>>;
}

impl Language for EnglishText {
    type Rules = English;

    #[inline]
    fn rules(&self) -> &English {
        &English
    }

    fn prepare<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.replace_emoji(text)
    }

    fn tokens<'a>(&self, text: &'a str, words: &WordMap) -> Tokens<'a> {
        // Extended in place rather than collected, which would move the
        // inline array.
        let mut tokens = Tokens::new();
        tokens.extend(
            py_split(text)
                .map(|(raw, scan)| Token::new::<English>(strip_punc_if_word(raw, scan.has(NON_ASCII)), scan, words)),
        );
        tokens
    }

    #[inline]
    fn modifier_only(tokens: &[Token<'_>], i: usize) -> bool {
        let token = &tokens[i];
        token.booster().is_some()
            || (token.keyword() == Keyword::Kind && tokens.get(i + 1).is_some_and(|t| t.keyword() == Keyword::Of))
    }

    #[inline]
    fn contexts(_: &[Token<'_>]) -> Option<SmallVec<[usize; INLINE_TOKENS]>> {
        None
    }
}

/// Scores `text` in `language` with the word table `words`: the one analysis
/// both languages run. Never panics; cost is linear in the length of the text.
fn polarity_scores<L: Language>(language: &L, words: &WordMap, text: &str) -> Scores {
    let text = language.prepare(text);
    let tokens = language.tokens(&text, words);
    if tokens.is_empty() {
        return Scores::NEUTRAL_EMPTY;
    }

    // Capitals only count as emphasis when some, but not all, tokens are
    // shouted.
    let shouted = tokens.iter().filter(|t| t.upper).count();
    let cap_diff = shouted > 0 && shouted < tokens.len();

    let contexts = L::contexts(&tokens);
    let mut sentiments = Sentiments::with_capacity(tokens.len());
    for i in 0..tokens.len() {
        let at = contexts.as_ref().map_or(i, |c| c[i]);
        sentiments.push(if L::modifier_only(&tokens, i) {
            0.0
        } else {
            valence_at(language.rules(), &tokens, at, cap_diff)
        });
    }

    if let Some(but_index) = tokens.iter().position(|t| t.keyword() == Keyword::But) {
        but_check(&mut sentiments, but_index);
    }

    score_valence(&sentiments, &text)
}

/// Shorter name for [`SentimentIntensityAnalyzer`].
pub type Analyzer = SentimentIntensityAnalyzer;

impl fmt::Debug for SentimentIntensityAnalyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentimentIntensityAnalyzer")
            .field("lexicon_entries", &self.lexicon_len())
            .field("emoji_entries", &self.english.emojis.len())
            .finish()
    }
}

impl Default for SentimentIntensityAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// One whitespace-separated token after punctuation stripping, with what the
/// rules ask of it precomputed once. No lower-cased copy is kept: the rules
/// compare [`Keyword`]s, and the lookup lower-cases ASCII words on the fly.
#[derive(Clone, Copy)]
struct Token<'a> {
    /// The token as written (LeIA's multi-word boosters compare with it).
    word: &'a str,
    /// Lexicon valence, booster value and keyword of the lower-cased token,
    /// and whether it negates the words after it.
    info: WordInfo,
    /// Python `isupper()` of the token as written.
    upper: bool,
}

/// Tokens and per-token scores of one text. Short texts (the common case:
/// posts, titles) fit inline, so scoring them allocates nothing.
type Tokens<'a> = SmallVec<[Token<'a>; INLINE_TOKENS]>;
type Sentiments = SmallVec<[f64; INLINE_TOKENS]>;
const INLINE_TOKENS: usize = 32;

impl<'a> Token<'a> {
    /// Reads `word` (already stripped of punctuation): looks it up once in
    /// `words`, lower-cased. `scan` may be that of the word before stripping:
    /// punctuation is ASCII and no letter, and an apostrophe only leads to
    /// the search for `n't`.
    #[inline]
    fn new<D: Dialect>(word: &'a str, scan: ByteScan, words: &WordMap) -> Self {
        let (info, upper, contraction) = if scan.has(NON_ASCII) {
            let lower = py_lower(word);
            // Lower-casing never adds an ASCII apostrophe.
            let contraction = scan.has(APOSTROPHE) && has_contraction(&lower);
            (words.get(&lower), py_isupper(word), contraction)
        } else {
            let info = words.get_ascii_lowercase(word, scan.has(UPPER));
            (info, scan.has(UPPER) && !scan.has(LOWER), scan.has(APOSTROPHE) && has_contraction(word))
        };
        let mut info = info.unwrap_or_default();
        info.negation |= D::CONTRACTION_NEGATES && contraction;
        Token { word, info, upper }
    }

    /// Lexicon valence, if the token is a lexicon word.
    #[inline]
    fn valence(&self) -> Option<f64> {
        self.info.valence()
    }

    /// Valence change, if the token is a single-word booster or dampener.
    #[inline]
    fn booster(&self) -> Option<f64> {
        self.info.booster()
    }

    #[inline]
    fn keyword(&self) -> Keyword {
        self.info.keyword
    }
}

impl SentimentIntensityAnalyzer {
    /// The analyser with the stock VADER 3.3.2 lexicons, which are embedded in
    /// the binary; parsing happens once per process and later calls share the
    /// parsed tables.
    pub fn new() -> Self {
        BUILTIN.clone()
    }

    /// An analyser with custom lexicons in the stock files' format: one
    /// `word<TAB>valence[<TAB>anything]` line per word, and one
    /// `emoji<TAB>description` line per emoji. Words are looked up after
    /// lower-casing the text, so keys with uppercase letters never match
    /// (as in the reference). Only single-code-point emoji keys can match.
    pub fn with_lexicon(lexicon_text: &str, emoji_text: &str) -> Result<Self, LexiconError> {
        let mut analyzer = Self::empty();
        analyzer.extend_lexicon(lexicon_text)?;
        let emojis = lexicon::parse_emoji(emoji_text)?;
        let ascii_emoji = emojis.keys().any(char::is_ascii);
        analyzer.english = Arc::new(EnglishText { emojis, ascii_emoji });
        Ok(analyzer)
    }

    /// No lexicon words yet, but the English modifiers, which share the map.
    fn empty() -> Self {
        let mut words = WordMap::default();
        add_english_modifiers(&mut words);
        Self { lexicon: Arc::new(words), english: Arc::new(EnglishText::default()) }
    }

    /// Adds or overrides word entries from text in the word-lexicon format
    /// (later lines win). Nothing is changed if any line is malformed.
    /// Returns the number of entries read.
    pub fn extend_lexicon(&mut self, text: &str) -> Result<usize, LexiconError> {
        let entries = lexicon::parse_words(text)?;
        let count = entries.len();
        let lexicon = Arc::make_mut(&mut self.lexicon);
        for (word, valence) in entries {
            lexicon.update(&word, |info| info.set_valence(valence));
        }
        Ok(count)
    }

    /// The lexicon valence stored for `word` exactly as written (no case
    /// folding), if any.
    pub fn lexicon_valence(&self, word: &str) -> Option<f64> {
        self.lexicon.get(word).and_then(|w| w.valence())
    }

    /// Number of word entries in the lexicon.
    pub fn lexicon_len(&self) -> usize {
        lexicon_len(&self.lexicon)
    }

    /// Scores `text`. Never panics; cost is linear in the length of the text.
    pub fn polarity_scores(&self, text: &str) -> Scores {
        polarity_scores(&*self.english, &self.lexicon, text)
    }
}

impl EnglishText {
    /// Replaces every emoji code point by its description. The reference
    /// inserts a space before a description unless the previous character
    /// was an ASCII space, but none after it, so "😀a" reads "grinning facea".
    fn replace_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !self.ascii_emoji && text.is_ascii() {
            return Cow::Borrowed(text);
        }
        // With no ASCII keys (the stock lexicon), ASCII skips the hash lookup.
        let description = |c: char| -> Option<&str> {
            if c.is_ascii() && !self.ascii_emoji { None } else { self.emojis.get(&c).map(|d| &**d) }
        };
        let Some((first, _)) = text.char_indices().find(|&(_, c)| description(c).is_some()) else {
            return Cow::Borrowed(text);
        };
        let (head, tail) = text.split_at(first);
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str(head);
        let mut prev_space = head.is_empty() || head.ends_with(' ');
        for c in tail.chars() {
            if let Some(d) = description(c) {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(d);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        Cow::Owned(out)
    }
}

/// Valence of the token at `i` after all word-level rules of dialect `D`.
/// Non-lexicon words score 0.
fn valence_at<D: Dialect>(dialect: &D, tokens: &[Token<'_>], i: usize, cap_diff: bool) -> f64 {
    let token = &tokens[i];
    let Some(base) = token.valence() else {
        return 0.0;
    };
    let keyword = |k: usize| tokens[k].keyword();
    let mut valence = base;

    if D::NO_RULE {
        // "no" directly before another lexicon word acts as a negator rather
        // than carrying its own (negative) valence.
        if token.keyword() == Keyword::No && tokens.get(i + 1).is_some_and(|t| t.valence().is_some()) {
            valence = 0.0;
        }
        // A "no" up to two words back (or three, across "or"/"nor") negates;
        // this recomputes from the lexicon value, discarding the zeroing above.
        if (i > 0 && keyword(i - 1) == Keyword::No)
            || (i > 1 && keyword(i - 2) == Keyword::No)
            || (i > 2 && keyword(i - 3) == Keyword::No && matches!(keyword(i - 1), Keyword::Or | Keyword::Nor))
        {
            valence = base * N_SCALAR;
        }
    }

    // Shouting pushes away from zero; a valence of exactly 0 (the zeroed
    // "no") is pushed negative, as in the reference.
    if token.upper && cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }

    for start in 0..3 {
        if i <= start {
            break;
        }
        let prev = &tokens[i - start - 1];
        // Words that carry their own valence never act as modifiers.
        if prev.valence().is_some() {
            continue;
        }
        let mut s = scalar_inc_dec(prev, valence, cap_diff);
        if start == 1 && s != 0.0 {
            s *= 0.95;
        } else if start == 2 && s != 0.0 {
            s *= 0.9;
        }
        valence += s;
        valence = negation_check(valence, tokens, start, i);
        if start == 2 {
            valence = special_idioms_check(dialect, valence, tokens, i);
        }
    }

    if D::LEAST_RULE { least_check(valence, tokens, i) } else { valence }
}

/// Contribution of a booster or dampener word, signed to follow `valence` and
/// strengthened when the modifier itself is shouted.
fn scalar_inc_dec(modifier: &Token<'_>, valence: f64, cap_diff: bool) -> f64 {
    let Some(mut scalar) = modifier.booster() else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if modifier.upper && cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

/// Negation by the word `start + 1` positions back, with the reference's
/// exceptions. At distance 3 Python's `and`/`or` precedence makes any "so" or
/// "this" directly before the word an intensifier, with or without "never".
fn negation_check(valence: f64, tokens: &[Token<'_>], start: usize, i: usize) -> f64 {
    use Keyword::{Doubt, Never, NeverIntensifier, Without};
    let keyword = |k: usize| tokens[k].keyword();
    let negated = |k: usize| tokens[k].info.negation;
    match start {
        0 => {
            if negated(i - 1) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if keyword(i - 2) == Never && keyword(i - 1) == NeverIntensifier {
                return valence * 1.25;
            } else if keyword(i - 2) == Without && keyword(i - 1) == Doubt {
                return valence;
            } else if negated(i - 2) {
                return valence * N_SCALAR;
            }
        }
        _ => {
            if (keyword(i - 3) == Never && keyword(i - 2) == NeverIntensifier) || keyword(i - 1) == NeverIntensifier {
                return valence * 1.25;
            } else if keyword(i - 3) == Without && (keyword(i - 2) == Doubt || keyword(i - 1) == Doubt) {
                return valence;
            } else if negated(i - 3) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

/// Special-case phrases around the word replace its valence, and multi-word
/// boosters before it ("kind of", "sort of", "um pouco") add to it. The
/// reference only runs this from the distance-3 step, so it needs three
/// preceding tokens, the third of which must not be a lexicon word; the
/// separate English table of idioms without lexicon words ("cut the
/// mustard", "hand to mouth", ...) is never consulted at all in 3.3.2.
fn special_idioms_check<D: Dialect>(dialect: &D, mut valence: f64, tokens: &[Token<'_>], i: usize) -> f64 {
    let (w3, w2, w1, w0) = (&tokens[i - 3], &tokens[i - 2], &tokens[i - 1], &tokens[i]);

    let preceding = dialect
        .special_pair(w1, w0)
        .or_else(|| dialect.special_triple(w2, w1, w0))
        .or_else(|| dialect.special_pair(w2, w1))
        .or_else(|| dialect.special_triple(w3, w2, w1))
        .or_else(|| dialect.special_pair(w3, w2));
    if let Some(v) = preceding {
        valence = v;
    }
    if let Some(next) = tokens.get(i + 1) {
        if let Some(v) = dialect.special_pair(w0, next) {
            valence = v;
        }
        if let Some(v) = tokens.get(i + 2).and_then(|t| dialect.special_triple(w0, next, t)) {
            valence = v;
        }
    }

    // The reference adds in this order; float addition is not associative.
    for phrase in [&tokens[i - 3..i], &tokens[i - 3..i - 1], &tokens[i - 2..i]] {
        if let Some(scalar) = dialect.booster_phrase(phrase) {
            valence += scalar;
        }
    }
    valence
}

/// "least" before a word negates it, except in "at least" and "very least".
fn least_check(valence: f64, tokens: &[Token<'_>], i: usize) -> f64 {
    if i == 0 {
        return valence;
    }
    let prev = &tokens[i - 1];
    if prev.valence().is_some() || prev.keyword() != Keyword::Least {
        return valence;
    }
    if i > 1 && matches!(tokens[i - 2].keyword(), Keyword::At | Keyword::Very) { valence } else { valence * N_SCALAR }
}

/// Emphasis from exclamation marks (up to 4) and from two or more question
/// marks, counted over the whole (emoji-expanded) text.
fn punctuation_emphasis(text: &str) -> f64 {
    // Branch-free counts into byte-wide counters, which the compiler turns
    // into 16-byte vector compares; a chunk of 255 bytes cannot overflow them.
    let (mut bangs, mut questions) = (0usize, 0usize);
    for chunk in text.as_bytes().chunks(255) {
        let (mut b, mut q) = (0u8, 0u8);
        for &c in chunk {
            b += u8::from(c == b'!');
            q += u8::from(c == b'?');
        }
        bangs += usize::from(b);
        questions += usize::from(q);
    }
    let ep = bangs.min(4) as f64 * 0.292;
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// Number of lexicon words in `words` (the map also holds modifiers).
fn lexicon_len(words: &WordMap) -> usize {
    words.values().filter(|w: &WordInfo| w.valence().is_some()).count()
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// Turns per-token valences into the four scores. Summation is a plain
/// left-to-right fold, as CPython's `sum` performs it for floats.
fn score_valence(sentiments: &[f64], text: &str) -> Scores {
    // Short texts often score zero throughout; the general path below then
    // yields exactly this (a sum of +0.0 takes no emphasis, and the neutral
    // count is the whole total), without its chain of square root, divisions
    // and roundings.
    if sentiments.iter().all(|&s| s == 0.0) {
        return Scores::NEUTRAL;
    }
    let mut sum: f64 = sentiments.iter().fold(0.0, |acc, &s| acc + s);
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let compound = normalize(sum);

    // Each positive or negative word also counts its magnitude beyond the 1
    // that a neutral word contributes.
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += emphasis;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= emphasis;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;

    Scores {
        neg: py_round((neg_sum / total).abs(), 3),
        neu: py_round((neu_count as f64 / total).abs(), 3),
        pos: py_round((pos_sum / total).abs(), 3),
        compound: py_round(compound, 4),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicons_parse() {
        let analyzer = SentimentIntensityAnalyzer::with_lexicon(BUILTIN_LEXICON, BUILTIN_EMOJI_LEXICON).unwrap();
        // 7,520 lines, 14 keys of which appear twice (the later line wins).
        assert_eq!(analyzer.lexicon_len(), 7506);
        assert_eq!(analyzer.lexicon_valence("good"), Some(1.9));
        assert_eq!(SentimentIntensityAnalyzer::new().lexicon_len(), analyzer.lexicon_len());
        // Only the 1,212 single-code-point keys of 3,570 can ever match.
        assert_eq!(analyzer.english.emojis.len(), 1212);
    }
}
