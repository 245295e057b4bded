//! Which model scores a post, and how: routing by the post's `lang` field,
//! and the optional sentence-by-sentence scoring of `--split-sentences`.
//!
//! Routing is by the language tag the provider gives: a tag whose primary
//! subtag is `pt` (`pt`, `pt-BR`, `pt_PT`, any case) goes to LeIA, anything
//! else (English, another language, a missing or null tag) to VADER, which
//! is the documented fallback: English words are common in every language's
//! posts, and an unscored post would be worse than a rough score.

use crate::vader::{self, Scores, leia};

/// The models a post can be scored with, named as in the `model` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// VADER 3.3.2.
    VaderEn,
    /// LeIA, VADER adapted to Brazilian Portuguese.
    LeiaPt,
}

impl Model {
    /// The value of the `model` field of the `sentiment` object.
    pub fn name(self) -> &'static str {
        match self {
            Self::VaderEn => "vader-en",
            Self::LeiaPt => "leia-pt",
        }
    }
}

/// How posts are assigned to models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Routing {
    /// By each post's `lang`, falling back to English.
    #[default]
    Auto,
    /// One model for every post.
    Force(Model),
}

/// Why a post went to the model it went to, for the run's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Its `lang` named the model's language, or the model was forced.
    Direct(Model),
    /// Its `lang` was missing, null or of a language without a model.
    Fallback,
}

impl Route {
    pub fn model(self) -> Model {
        match self {
            Self::Direct(m) => m,
            Self::Fallback => Model::VaderEn,
        }
    }
}

/// The primary subtag of a language tag, `pt` for `pt-BR`, `pt_PT` or `PT`.
fn primary_subtag(tag: &str) -> &str {
    tag.trim().split(['-', '_']).next().unwrap_or_default()
}

/// The route of a post whose `lang` field is `lang`.
pub fn route(routing: Routing, lang: Option<&str>) -> Route {
    match routing {
        Routing::Force(m) => Route::Direct(m),
        Routing::Auto => match lang.map(primary_subtag) {
            Some(t) if t.eq_ignore_ascii_case("pt") => Route::Direct(Model::LeiaPt),
            Some(t) if t.eq_ignore_ascii_case("en") => Route::Direct(Model::VaderEn),
            _ => Route::Fallback,
        },
    }
}

/// The two analysers and how to apply them. Cheap to clone (the lexicons are
/// shared) and `Sync`, so worker threads score with one `&Scorer`.
#[derive(Debug, Clone, Default)]
pub struct Scorer {
    pub english: vader::Analyzer,
    pub portuguese: leia::Analyzer,
    pub routing: Routing,
    pub split_sentences: bool,
}

impl Scorer {
    /// Scores `text` with `model`, sentence by sentence when asked to.
    pub fn score(&self, model: Model, text: &str) -> Scores {
        let one = |t: &str| match model {
            Model::VaderEn => self.english.polarity_scores(t),
            Model::LeiaPt => self.portuguese.polarity_scores(t),
        };
        if self.split_sentences { score_by_sentence(text, one) } else { one(text) }
    }
}

/// Splits `text` into sentences: a sentence ends after a run of `.`, `!` or
/// `?` that is followed by white space or the end of the text (so "3.5",
/// "e.g." inside a word and URLs stay whole, and "Que dia!!!" keeps its
/// "!!!", which VADER reads as emphasis), and at every line break (which is
/// dropped). Pieces with nothing but white space are left out.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => Some((i, i + c.len_utf8())),
            '.' | '!' | '?' => {
                let mut last = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if !matches!(d, '.' | '!' | '?') {
                        break;
                    }
                    last = j + 1;
                    chars.next();
                }
                match chars.peek() {
                    None => Some((last, last)),
                    Some(&(_, d)) if d.is_whitespace() => Some((last, last)),
                    Some(_) => None,
                }
            }
            _ => None,
        };
        if let Some((piece_end, next_start)) = end {
            out.push(&text[start..piece_end]);
            start = next_start;
        }
    }
    out.push(&text[start..]);
    out.retain(|s| !s.trim().is_empty());
    out
}

/// Scores each sentence and averages the four scores (an unweighted mean,
/// so a short angry sentence counts as much as a long calm one), rounded as
/// VADER rounds them. A text of one sentence gets exactly its plain score.
pub fn score_by_sentence(text: &str, score: impl Fn(&str) -> Scores) -> Scores {
    let parts = sentences(text);
    if parts.len() < 2 {
        return score(text);
    }
    let n = parts.len() as f64;
    let mut sum = Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: 0.0 };
    for part in &parts {
        let s = score(part);
        sum.neg += s.neg;
        sum.neu += s.neu;
        sum.pos += s.pos;
        sum.compound += s.compound;
    }
    let round = |x: f64, scale: f64| (x / n * scale).round() / scale;
    Scores {
        neg: round(sum.neg, 1e3),
        neu: round(sum.neu, 1e3),
        pos: round(sum.pos, 1e3),
        compound: round(sum.compound, 1e4),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn routing_by_lang() {
        let pt = Route::Direct(Model::LeiaPt);
        let en = Route::Direct(Model::VaderEn);
        for tag in ["pt", "pt-BR", "pt_PT", "PT", " pt-br "] {
            assert_eq!(route(Routing::Auto, Some(tag)), pt, "{tag}");
        }
        for tag in ["en", "en-US", "EN_gb"] {
            assert_eq!(route(Routing::Auto, Some(tag)), en, "{tag}");
        }
        for tag in [Some("es"), Some("ptx"), Some("und"), Some(""), None] {
            assert_eq!(route(Routing::Auto, tag), Route::Fallback, "{tag:?}");
        }
        assert_eq!(Route::Fallback.model(), Model::VaderEn);
        assert_eq!(route(Routing::Force(Model::LeiaPt), Some("en")), pt);
        assert_eq!(route(Routing::Force(Model::VaderEn), Some("pt")), en);
    }

    #[test]
    fn sentences_keep_their_punctuation() {
        assert_eq!(sentences("Bom dia. Que dia!!! Será?"), ["Bom dia.", " Que dia!!!", " Será?"]);
        assert_eq!(sentences("linha um\nlinha dois\r\n"), ["linha um", "linha dois"]);
        assert_eq!(sentences("custa 3.5 reais, veja www.x.com ok"), ["custa 3.5 reais, veja www.x.com ok"]);
        assert_eq!(sentences("...  ?! fim"), ["...", "  ?!", " fim"]);
        assert_eq!(sentences("   "), Vec::<&str>::new());
        assert_eq!(sentences(""), Vec::<&str>::new());
    }

    #[test]
    fn sentence_scores_are_averaged() {
        let en = vader::Analyzer::new();
        let text = "I love it. I hate it.";
        let a = en.polarity_scores("I love it.");
        let b = en.polarity_scores(" I hate it.");
        let got = score_by_sentence(text, |t| en.polarity_scores(t));
        assert_eq!(got.compound, ((a.compound + b.compound) / 2.0 * 1e4).round() / 1e4);
        assert_eq!(got.pos, ((a.pos + b.pos) / 2.0 * 1e3).round() / 1e3);
        assert_eq!(got.neg, ((a.neg + b.neg) / 2.0 * 1e3).round() / 1e3);
        // One sentence: the plain score, unchanged.
        assert_eq!(score_by_sentence("I love it!", |t| en.polarity_scores(t)), en.polarity_scores("I love it!"));
        // Saturation: many positive sentences stay below the whole-text score.
        let long = "Great day. ".repeat(30);
        let whole = en.polarity_scores(&long).compound;
        let split = score_by_sentence(&long, |t| en.polarity_scores(t)).compound;
        assert!(whole > 0.99 && split < whole, "{whole} {split}");
    }

    #[test]
    fn scorer_routes_to_the_model() {
        let scorer = Scorer::default();
        let pt = scorer.score(Model::LeiaPt, "Eu estou feliz");
        assert_eq!(pt, scorer.portuguese.polarity_scores("Eu estou feliz"));
        assert_ne!(pt, scorer.english.polarity_scores("Eu estou feliz"));
    }
}
