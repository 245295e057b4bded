//! The fixed word lists and constants of VADER 3.3.2, and the two pieces of
//! its arithmetic whose exact behaviour is easy to get wrong: the
//! contrastive-"but" reweighting (which locates each score by value, not by
//! position) and Python's decimal rounding of the final scores.

use std::collections::{BTreeSet, HashMap};

use super::Token;
use super::lexicon::{FxBuild, WordMap};

/// Valence added by an intensifier ("very") or subtracted by a dampener.
pub(crate) const B_INCR: f64 = 0.293;
pub(crate) const B_DECR: f64 = -0.293;
/// Extra valence for a word shouted in capitals among non-shouted words.
pub(crate) const C_INCR: f64 = 0.733;
/// Factor applied to a negated valence.
pub(crate) const N_SCALAR: f64 = -0.74;
/// `normalize` constant: roughly the largest sum of valences expected.
pub(crate) const ALPHA: f64 = 15.0;

/// A single-word booster (intensifier) or dampener. Both dialects give
/// every one of them the same size, [`B_INCR`] or [`B_DECR`], so one byte
/// records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Booster {
    Incr,
    Decr,
}

impl Booster {
    #[inline]
    pub(crate) fn value(self) -> f64 {
        match self {
            Self::Incr => B_INCR,
            Self::Decr => B_DECR,
        }
    }
}

/// The words that some rule compares tokens with. A token's keyword is read
/// from the word map together with its valence, in the one lookup made when
/// the token is read, so the rules (which look at the words before every
/// lexicon word, several times over) compare a byte instead of strings. The
/// dialect decides which words carry a keyword: the generic rules name
/// roles (`But`, `Never`, ...), which each dialect gives to its own words;
/// the English-only rules and tables name English words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Keyword {
    /// A word that no rule names.
    #[default]
    Other,
    /// Starts the contrastive rule ("but", "mas").
    But,
    /// Negates, but intensifies instead when followed by a
    /// [`Keyword::NeverIntensifier`] ("never so", "nunca este").
    Never,
    NeverIntensifier,
    /// "without doubt" is not a negation.
    Without,
    Doubt,
    // English only: the "no", "least" and "kind of" rules, and the words of
    // the booster phrases and special-case idioms.
    No,
    Or,
    Nor,
    Least,
    At,
    Very,
    Kind,
    Of,
    Sort,
    Just,
    Enough,
    The,
    Shit,
    Bomb,
    Bad,
    Ass,
    Bus,
    Stop,
    Yeah,
    Right,
    Beating,
    Heart,
    Kiss,
    Death,
    To,
    Die,
    For,
}

/// The word tables and the few rule switches that set one VADER dialect
/// apart from another. The rule code in `super` is generic over this trait,
/// so English (whose tables are `match` statements on keywords) pays nothing
/// for the Portuguese tables, which are loaded from LeIA's files.
pub(crate) trait Dialect {
    /// VADER 3.3.2's "no" rules: "no" before a lexicon word loses its own
    /// valence, and a "no" up to three words back negates. LeIA predates them.
    const NO_RULE: bool;
    /// VADER 3.3.2's "least" negation (commented out in LeIA).
    const LEAST_RULE: bool;
    /// Any token containing `n't` negates, whether listed or not.
    const CONTRACTION_NEGATES: bool;

    /// Valence change of a multi-word booster, matched against 2 or 3
    /// consecutive tokens. (Single-word boosters and negations are flags of
    /// the word map, see [`super::lexicon::WordInfo`].)
    fn booster_phrase(&self, words: &[Token<'_>]) -> Option<f64>;
    /// Two- and three-word special-case phrases whose valence replaces the
    /// computed one.
    fn special_pair(&self, first: &Token<'_>, second: &Token<'_>) -> Option<f64>;
    fn special_triple(&self, first: &Token<'_>, second: &Token<'_>, third: &Token<'_>) -> Option<f64>;
}

/// The English tables of VADER 3.3.2.
pub(crate) struct English;

impl Dialect for English {
    const NO_RULE: bool = true;
    const LEAST_RULE: bool = true;
    const CONTRACTION_NEGATES: bool = true;

    #[inline]
    fn booster_phrase(&self, words: &[Token<'_>]) -> Option<f64> {
        match words {
            [a, b] => booster_pair(a.keyword(), b.keyword()),
            _ => None,
        }
    }
    #[inline]
    fn special_pair(&self, first: &Token<'_>, second: &Token<'_>) -> Option<f64> {
        special_pair(first.keyword(), second.keyword())
    }
    #[inline]
    fn special_triple(&self, first: &Token<'_>, second: &Token<'_>, third: &Token<'_>) -> Option<f64> {
        special_triple(first.keyword(), second.keyword(), third.keyword())
    }
}

/// Single-word intensifiers of the booster/dampener dictionary, matched
/// against the lower-cased token. The dictionary's multi-word keys ("kind
/// of", ...) can never equal a single token and are handled by
/// [`booster_pair`].
const BOOSTERS_INCR: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// Single-word dampeners of the same dictionary.
const BOOSTERS_DECR: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// The negation words. Any token containing `n't` spelt with the ASCII
/// apostrophe also negates (see [`Dialect::CONTRACTION_NEGATES`]); a
/// typographic apostrophe, as in "isn’t", does not in the reference.
const NEGATIONS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// The English words that carry a [`Keyword`]: those the rules and the
/// phrase tables below name.
const KEYWORDS: &[(&str, Keyword)] = {
    use Keyword::*;
    &[
        ("but", But),
        ("never", Never),
        ("so", NeverIntensifier),
        ("this", NeverIntensifier),
        ("without", Without),
        ("doubt", Doubt),
        ("no", No),
        ("or", Or),
        ("nor", Nor),
        ("least", Least),
        ("at", At),
        ("very", Very),
        ("kind", Kind),
        ("of", Of),
        ("sort", Sort),
        ("just", Just),
        ("enough", Enough),
        ("the", The),
        ("shit", Shit),
        ("bomb", Bomb),
        ("bad", Bad),
        ("ass", Ass),
        ("bus", Bus),
        ("stop", Stop),
        ("yeah", Yeah),
        ("right", Right),
        ("beating", Beating),
        ("heart", Heart),
        ("kiss", Kiss),
        ("death", Death),
        ("to", To),
        ("die", Die),
        ("for", For),
    ]
};

/// Records the English boosters, dampeners, negations and keywords in
/// `words`, next to (or before) the lexicon entries.
pub(crate) fn add_english_modifiers(words: &mut WordMap) {
    let boosters =
        BOOSTERS_INCR.iter().map(|w| (w, Booster::Incr)).chain(BOOSTERS_DECR.iter().map(|w| (w, Booster::Decr)));
    for (word, booster) in boosters {
        words.update(word, |info| info.set_booster(booster));
    }
    for word in NEGATIONS {
        words.update(word, |info| info.negation = true);
    }
    for &(word, keyword) in KEYWORDS {
        words.update(word, |info| info.keyword = keyword);
    }
}

/// Whether a token contains the contraction `n't` once lower-cased: the
/// letters may be capitals, the apostrophe is the ASCII one.
#[inline]
pub(crate) fn has_contraction(word: &str) -> bool {
    word.as_bytes().windows(3).any(|w| w[0] | 0x20 == b'n' && w[1] == b'\'' && w[2] | 0x20 == b't')
}

/// The two-word booster keys, matched against consecutive tokens.
fn booster_pair(first: Keyword, second: Keyword) -> Option<f64> {
    use Keyword::*;
    match (first, second) {
        (Just, Enough) | (Kind, Of) | (Sort, Of) => Some(B_DECR),
        _ => None,
    }
}

/// Two-word special-case phrases whose valence replaces the computed one.
fn special_pair(first: Keyword, second: Keyword) -> Option<f64> {
    use Keyword::*;
    match (first, second) {
        (The, Shit) | (The, Bomb) => Some(3.0),
        (Bad, Ass) => Some(1.5),
        (Bus, Stop) => Some(0.0),
        (Yeah, Right) => Some(-2.0),
        (Beating, Heart) => Some(3.5),
        _ => None,
    }
}

/// Three-word special-case phrases. (The one-word key "badass" of the
/// reference table can never equal a space-joined phrase, so it is inert.)
fn special_triple(first: Keyword, second: Keyword, third: Keyword) -> Option<f64> {
    use Keyword::*;
    match (first, second, third) {
        (Kiss, Of, Death) => Some(-1.5),
        (To, Die, For) => Some(3.0),
        _ => None,
    }
}

/// Python's `round(x, digits)`: round the exact binary value half-to-even at
/// the given decimal place and return the double nearest to that decimal.
/// When `x * 10^digits` is clearly away from a half, dividing the rounded
/// integer by the (exact) power of ten gives that same nearest double in one
/// IEEE operation; near a half, the exact-decimal formatter decides.
pub(crate) fn py_round(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let scale = match digits {
        3 => 1e3,
        4 => 1e4,
        _ => return slow_round(x, digits),
    };
    let y = x * scale;
    if y.abs() >= 1e15 {
        return slow_round(x, digits);
    }
    // `f64::floor` is a library call on baseline x86-64; below 1e15 the
    // truncation to an integer is exact, and one step down makes it a floor.
    let truncated = y as i64 as f64;
    let floor = if truncated > y { truncated - 1.0 } else { truncated };
    let frac = y - floor;
    if (frac - 0.5).abs() < 1e-6 {
        return slow_round(x, digits);
    }
    let int = if frac < 0.5 { floor } else { floor + 1.0 };
    (int / scale).copysign(x)
}

fn slow_round(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// Above this many scores the quadratic, literal form of the "but" rule is
/// replaced by the indexed one; both give identical results.
const BUT_LINEAR_LIMIT: usize = 256;

/// The contrastive "but" rule: scores before the first "but" are halved and
/// scores after it grow by half. The reference walks the list by position but
/// rewrites the *first element equal to* the current value, so repeated
/// values can be scaled twice or not at all. That behaviour is reproduced.
pub(crate) fn but_check(sentiments: &mut [f64], but_index: usize) {
    if sentiments.len() <= BUT_LINEAR_LIMIT {
        but_check_literal(sentiments, but_index);
    } else {
        but_check_indexed(sentiments, but_index);
    }
}

fn scale_for(si: usize, but_index: usize) -> Option<f64> {
    match si.cmp(&but_index) {
        std::cmp::Ordering::Less => Some(0.5),
        std::cmp::Ordering::Greater => Some(1.5),
        std::cmp::Ordering::Equal => None,
    }
}

pub(crate) fn but_check_literal(sentiments: &mut [f64], but_index: usize) {
    for k in 0..sentiments.len() {
        let s = sentiments[k];
        // Scores are finite, so the search always succeeds by index k at the
        // latest; the fallback only guards the type.
        let si = sentiments.iter().position(|&x| x == s).unwrap_or(k);
        if let Some(f) = scale_for(si, but_index) {
            sentiments[si] = s * f;
        }
    }
}

/// Equal-comparing floats share a key: `0.0` and `-0.0` compare equal in
/// Python's `list.index`, every other finite value only equals itself.
fn value_key(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// Same result as [`but_check_literal`] in O(n log n): for every distinct
/// value keep the ordered set of positions currently holding it, so "first
/// index equal to s" is the set's minimum.
pub(crate) fn but_check_indexed(sentiments: &mut [f64], but_index: usize) {
    let mut positions: HashMap<u64, BTreeSet<usize>, FxBuild> = HashMap::default();
    for (i, &x) in sentiments.iter().enumerate() {
        positions.entry(value_key(x)).or_default().insert(i);
    }
    for k in 0..sentiments.len() {
        let s = sentiments[k];
        let key = value_key(s);
        let si = positions.get(&key).and_then(|set| set.first().copied()).unwrap_or(k);
        let Some(f) = scale_for(si, but_index) else {
            continue;
        };
        let new = s * f;
        let new_key = value_key(new);
        sentiments[si] = new;
        if new_key != key {
            if let Some(set) = positions.get_mut(&key) {
                set.remove(&si);
            }
            positions.entry(new_key).or_default().insert(si);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_python() {
        // Values checked against CPython's round().
        assert_eq!(py_round(0.125, 3), 0.125);
        assert_eq!(py_round(0.1235, 3), 0.123); // 0.1235 is below the half in binary
        assert_eq!(py_round(0.00015, 4), 0.0001);
        assert_eq!(py_round(0.00005, 4), 0.0001);
        assert_eq!(py_round(0.6369, 4), 0.6369);
        assert_eq!(py_round(-0.34118, 4), -0.3412);
        assert_eq!(py_round(0.9999, 3), 1.0);
        assert_eq!(py_round(0.3227272727, 3), 0.323);
        assert!(py_round(-0.00001, 4).is_sign_negative());
    }

    #[test]
    fn but_rule_rescales_first_equal_value() {
        // Distinct values: the plain halve-before / grow-after behaviour.
        let mut v = vec![1.9, 0.0, 1.9, 1.9];
        but_check_literal(&mut v, 1);
        assert_eq!(v, vec![0.95, 0.0, 1.9 * 1.5, 1.9 * 1.5]);
        // The halved 2.0 equals 1.0, so the next 1.0 looked up finds it and
        // halves it again, and the last 1.0 is never scaled.
        let mut v = vec![2.0, 0.0, 1.0, 1.0];
        but_check_literal(&mut v, 1);
        assert_eq!(v, vec![0.5, 0.0, 1.5, 1.0]);
    }

    #[test]
    fn indexed_but_rule_equals_literal() {
        // Deterministic pseudo-random vectors with many repeated values.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let palette = [0.0, -0.0, 1.0, 2.0, 0.5, 4.0, -1.0, -2.0, 1.5, 3.0, 0.25, -0.5];
        for round in 0..2000 {
            let len = 1 + (next() % 40) as usize;
            let v: Vec<f64> = (0..len).map(|_| palette[(next() % palette.len() as u64) as usize]).collect();
            let bi = (next() % len as u64) as usize;
            let mut a = v.clone();
            let mut b = v.clone();
            but_check_literal(&mut a, bi);
            but_check_indexed(&mut b, bi);
            let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits() || x == y);
            assert!(same, "round {round}: {v:?} bi={bi}: {a:?} vs {b:?}");
        }
    }
}
