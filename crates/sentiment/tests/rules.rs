//! Rule-by-rule checks of the VADER port. Every expected value was produced
//! by the Python reference (`vaderSentiment==3.3.2`) and is compared exactly,
//! so each test fails if the corresponding rule drifts. The last tests check
//! custom lexicons and that pathological inputs neither panic nor crawl.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use trendpipe_sentiment::vader::{LexiconError, Scores, SentimentIntensityAnalyzer};

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

/// Plain lexicon words; one-letter words such as "I" are kept as neutral tokens in 3.3.2 (older releases dropped them).
#[test]
fn lexicon_and_neutral_words() {
    check(&[
        ("The book was good.", [0.0, 0.508, 0.492, 0.4404]),
        ("I love it", [0.0, 0.323, 0.677, 0.6369]),
        ("love it", [0.0, 0.192, 0.808, 0.6369]),
        ("a b c good", [0.0, 0.508, 0.492, 0.4404]),
        ("I", [0.0, 1.0, 0.0, 0.0]),
        ("good", [0.0, 0.0, 1.0, 0.4404]),
        ("bad", [1.0, 0.0, 0.0, -0.5423]),
    ]);
}

/// Boosters and dampeners up to three words back, their effect decaying by 0.95 and 0.9 with distance; beyond three words nothing.
#[test]
fn booster_distance_decay() {
    check(&[
        ("very good", [0.0, 0.238, 0.762, 0.4927]),
        ("very the good", [0.0, 0.386, 0.614, 0.4902]),
        ("very the the good", [0.0, 0.487, 0.513, 0.4877]),
        ("very a b c good", [0.0, 0.58, 0.42, 0.4404]),
        ("slightly bad", [0.762, 0.238, 0.0, -0.4951]),
        ("slightly the bad", [0.617, 0.383, 0.0, -0.4976]),
        ("slightly the the bad", [0.519, 0.481, 0.0, -0.5]),
        ("very bad", [0.791, 0.209, 0.0, -0.5849]),
    ]);
}

/// Capitals add emphasis only when some but not all tokens are shouted; a zeroed "no" in capitals is pushed negative; non-ASCII capitals count as shouting too.
#[test]
fn all_caps_differential() {
    check(&[
        ("GOOD", [0.0, 0.0, 1.0, 0.4404]),
        ("GOOD movie", [0.0, 0.216, 0.784, 0.5622]),
        ("VERY good movie", [0.0, 0.337, 0.663, 0.6028]),
        ("VERY GOOD movie", [0.0, 0.3, 0.7, 0.6867]),
        ("VERY GOOD", [0.0, 0.238, 0.762, 0.4927]),
        ("NO GOOD idea", [0.83, 0.17, 0.0, -0.5956]),
        ("good BAD", [0.593, 0.0, 0.407, -0.3254]),
        ("\u{c9}T\u{c9} GREAT", [0.0, 0.196, 0.804, 0.6249]),
        ("\u{c9}T\u{c9} GREAT fun", [0.0, 0.109, 0.891, 0.8455]),
    ]);
}

/// Exclamation marks count up to four; question marks only from two, capped at 0.96; neutral texts are not amplified.
#[test]
fn punctuation_emphasis() {
    check(&[
        ("good", [0.0, 0.0, 1.0, 0.4404]),
        ("good!", [0.0, 0.0, 1.0, 0.4926]),
        ("good!!!!", [0.0, 0.0, 1.0, 0.6209]),
        ("good!!!!!!", [0.0, 0.0, 1.0, 0.6209]),
        ("good?", [0.0, 0.0, 1.0, 0.4404]),
        ("good??", [0.0, 0.0, 1.0, 0.504]),
        ("good???", [0.0, 0.0, 1.0, 0.533]),
        ("good????", [0.0, 0.0, 1.0, 0.594]),
        ("bad!!??", [1.0, 0.0, 0.0, -0.6645]),
        ("the movie!!!", [0.0, 1.0, 0.0, 0.0]),
    ]);
}

/// Negators up to three words back, including ASCII `n't` contractions; the typographic apostrophe does not negate.
#[test]
fn negation() {
    check(&[
        ("not good", [0.706, 0.294, 0.0, -0.3412]),
        ("not the good", [0.546, 0.454, 0.0, -0.3412]),
        ("not the the good", [0.445, 0.555, 0.0, -0.3412]),
        ("isn't good", [0.706, 0.294, 0.0, -0.3412]),
        ("isn\u{2019}t good", [0.0, 0.256, 0.744, 0.4404]),
        ("isnt good", [0.706, 0.294, 0.0, -0.3412]),
        ("never good", [0.706, 0.294, 0.0, -0.3412]),
        ("hasn't been a good day", [0.376, 0.624, 0.0, -0.3412]),
    ]);
}

/// "never so/this" intensifies instead of negating; at distance three any "so"/"this" directly before the word intensifies (operator precedence in the reference).
#[test]
fn never_so_and_this() {
    check(&[
        ("never so good", [0.0, 0.348, 0.652, 0.5777]),
        ("it was never so good", [0.0, 0.475, 0.525, 0.6626]),
        ("never this bad", [0.673, 0.327, 0.0, -0.628]),
        ("it is so good", [0.0, 0.445, 0.555, 0.5777]),
        ("this is this good", [0.0, 0.471, 0.529, 0.5228]),
        ("so good", [0.0, 0.238, 0.762, 0.4927]),
    ]);
}

/// "without doubt" cancels the negation of "without".
#[test]
fn without_doubt() {
    check(&[
        ("without doubt good", [0.0, 0.166, 0.834, 0.6136]),
        ("it is without doubt good", [0.0, 0.375, 0.625, 0.6136]),
        ("without a doubt good", [0.0, 0.285, 0.715, 0.6136]),
        ("Without a doubt, excellent idea.", [0.0, 0.341, 0.659, 0.7013]),
    ]);
}

/// "least" negates except after "at" or "very".
#[test]
fn least() {
    check(&[
        ("least good", [0.706, 0.294, 0.0, -0.3412]),
        ("the least good", [0.546, 0.454, 0.0, -0.3412]),
        ("at least good", [0.0, 0.408, 0.592, 0.4404]),
        ("very least good", [0.0, 0.386, 0.614, 0.4902]),
        ("it is the least good", [0.376, 0.624, 0.0, -0.3412]),
    ]);
}

/// "no" before a lexicon word loses its own valence and negates up to three words ahead (across "or"/"nor").
#[test]
fn no_as_negator() {
    check(&[
        ("no", [1.0, 0.0, 0.0, -0.296]),
        ("no good", [0.706, 0.294, 0.0, -0.3412]),
        ("no movie good", [0.822, 0.178, 0.0, -0.5583]),
        ("no good or bad", [0.332, 0.276, 0.393, 0.1139]),
        ("no or bad idea", [0.312, 0.284, 0.404, 0.1655]),
        ("I have no idea", [0.423, 0.577, 0.0, -0.296]),
    ]);
}

/// Scores before the first "but" are halved and after it grow by half, located by value as in the reference.
#[test]
fn but_shift() {
    check(&[
        ("good but bad", [0.617, 0.13, 0.253, -0.5859]),
        ("bad but good", [0.317, 0.141, 0.542, 0.3818]),
        ("good but good good", [0.0, 0.094, 0.906, 0.8641]),
        ("great great but good good", [0.0, 0.072, 0.928, 0.9153]),
        ("it was good, but the ending was bad", [0.374, 0.472, 0.154, -0.5859]),
    ]);
}

/// "kind of" is neutral and, like "sort of" and "just enough", dampens only when three tokens precede the word.
#[test]
fn kind_of_and_sort_of() {
    check(&[
        ("kind of good", [0.0, 0.408, 0.592, 0.4404]),
        ("it was kind of good", [0.0, 0.605, 0.395, 0.3832]),
        ("the book was only kind of good", [0.0, 0.697, 0.303, 0.3832]),
        ("sort of bad", [0.636, 0.364, 0.0, -0.5423]),
        ("it was sort of bad", [0.487, 0.513, 0.0, -0.5849]),
        ("kinda good", [0.0, 0.277, 0.723, 0.3832]),
        ("just enough good", [0.0, 0.408, 0.592, 0.4404]),
    ]);
}

/// Special-case phrases need three tokens before the lexicon word; the idioms without lexicon words ("cut the mustard", "hand to mouth") are dead code in 3.3.2.
#[test]
fn special_cases_and_idioms() {
    check(&[
        ("the shit", [0.783, 0.217, 0.0, -0.5574]),
        ("it is the shit", [0.0, 0.429, 0.571, 0.6124]),
        ("this movie is the shit", [0.0, 0.5, 0.5, 0.6124]),
        ("man this is the bomb", [0.0, 0.5, 0.5, 0.6124]),
        ("you are a bad ass", [0.0, 0.375, 0.625, 0.6124]),
        ("a kiss of death", [0.342, 0.274, 0.384, 0.0772]),
        ("that was a kiss of death", [0.556, 0.444, 0.0, -0.6124]),
        ("food to die for", [0.565, 0.435, 0.0, -0.5994]),
        ("yeah right", [0.0, 0.312, 0.688, 0.296]),
        ("oh yeah right sure", [0.417, 0.278, 0.306, -0.2023]),
        ("he cannot cut the mustard", [0.0, 0.688, 0.312, 0.2057]),
        ("living hand to mouth", [0.0, 0.484, 0.516, 0.4939]),
    ]);
}

/// Single-code-point emoji become their description (with a space before, none after); skin-tone, ZWJ and variation-selector sequences do not match as a whole.
#[test]
fn emoji_and_emoticons() {
    check(&[
        ("\u{1f600}", [0.0, 0.286, 0.714, 0.3612]),
        ("\u{1f600}a", [0.0, 0.286, 0.714, 0.3612]),
        ("a\u{1f600}", [0.0, 0.444, 0.556, 0.3612]),
        ("good \u{1f601} day", [0.0, 0.459, 0.541, 0.7096]),
        ("\u{1f44d}\u{1f3fd}", [0.0, 1.0, 0.0, 0.0]),
        ("\u{2764}\u{fe0f}", [0.0, 1.0, 0.0, 0.0]),
        ("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}", [0.0, 1.0, 0.0, 0.0]),
        (":)", [0.0, 0.0, 1.0, 0.4588]),
        (":-(", [1.0, 0.0, 0.0, -0.3612]),
        (":D", [0.0, 0.0, 1.0, 0.5106]),
        ("<3 &lt;3", [0.0, 0.256, 0.744, 0.4404]),
        ("Make sure you :) or :D today!", [0.0, 0.294, 0.706, 0.8633]),
    ]);
}

/// Other scripts are neutral; Python's whitespace set (NBSP, U+001F) splits words, zero-width space does not.
#[test]
fn unicode_text() {
    check(&[
        ("Eu amo este filme, \u{e9} \u{f3}timo!", [0.0, 1.0, 0.0, 0.0]),
        ("\u{8fd9}\u{90e8}\u{7535}\u{5f71}\u{5f88}\u{597d}", [0.0, 1.0, 0.0, 0.0]),
        ("\u{647}\u{630}\u{627} \u{631}\u{627}\u{626}\u{639} \u{62c}\u{62f}\u{627}", [0.0, 1.0, 0.0, 0.0]),
        ("\u{39f}\u{394}\u{39f}\u{3a3} GOOD", [0.0, 0.256, 0.744, 0.4404]),
        ("good\u{a0}bad", [0.547, 0.0, 0.453, -0.1531]),
        ("good\u{200b}bad", [0.0, 1.0, 0.0, 0.0]),
        ("good\u{1f}bad", [0.547, 0.0, 0.453, -0.1531]),
    ]);
}

/// Empty, blank and punctuation-only texts.
#[test]
fn degenerate_inputs() {
    check(&[
        ("", [0.0, 0.0, 0.0, 0.0]),
        (" ", [0.0, 0.0, 0.0, 0.0]),
        ("!!!", [0.0, 1.0, 0.0, 0.0]),
        ("???", [0.0, 1.0, 0.0, 0.0]),
        (":", [0.0, 1.0, 0.0, 0.0]),
        ("...", [0.0, 1.0, 0.0, 0.0]),
        ("\u{200b}", [0.0, 1.0, 0.0, 0.0]),
    ]);
}

#[test]
fn extended_lexicon_entries_score_like_reference() {
    let mut analyzer = SentimentIntensityAnalyzer::new();
    let added = analyzer.extend_lexicon("trendpipe\t3.0\ngood\t-1.5\nTrendPipe\t2.0\n").unwrap();
    assert_eq!(added, 3);
    // Reference: `analyzer.lexicon.update(...)` then `polarity_scores`.
    let cases = [
        ("trendpipe rocks", [0.0, 0.2, 0.8, 0.6124]),
        ("TRENDPIPE rocks", [0.0, 0.174, 0.826, 0.694]),
        ("good day", [0.714, 0.286, 0.0, -0.3612]),
        // Lookups lower-case the token, so the "TrendPipe" key is unreachable.
        ("TrendPipe", [0.0, 0.0, 1.0, 0.6124]),
    ];
    for (text, [neg, neu, pos, compound]) in cases {
        assert_eq!(analyzer.polarity_scores(text), Scores { neg, neu, pos, compound }, "{text:?}");
    }
    // The stock analyser is unaffected.
    assert_eq!(SentimentIntensityAnalyzer::new().polarity_scores("good day").compound, 0.4404);
}

#[test]
fn extended_lexicon_handles_long_keys_and_overrides_builtins() {
    let mut analyzer = SentimentIntensityAnalyzer::new();
    let before = analyzer.lexicon_len();
    assert_eq!(analyzer.lexicon_valence("antagonistically"), Some(-2.2));
    // Keys of 15 and 16 bytes sit on either side of the inline-key limit;
    // "antagonistically" (16 bytes) and "good" are stock entries and "not"
    // a stock negation that gains a valence.
    let text = "abcdefghijklmno\t3.0\nabcdefghijklmnop\t3.0\nsupercalifragilisticexpialidocious\t1.0\n\
                supercalifragilisticexpialidocious\t3.0\nantagonistically\t3.0\ngood\t3.0\nnot\t3.0\n";
    assert_eq!(analyzer.extend_lexicon(text).unwrap(), 7);
    assert_eq!(analyzer.lexicon_len(), before + 4);
    for word in
        ["abcdefghijklmno", "abcdefghijklmnop", "supercalifragilisticexpialidocious", "antagonistically", "good"]
    {
        assert_eq!(analyzer.lexicon_valence(word), Some(3.0), "{word}");
        // Same as "trendpipe rocks" with trendpipe at 3.0 in the reference.
        let text = format!("{word} rocks");
        assert_eq!(analyzer.polarity_scores(&text), Scores { neg: 0.0, neu: 0.2, pos: 0.8, compound: 0.6124 });
    }
    assert_eq!(analyzer.lexicon_valence("abcdefghijklmn"), None);
    assert_eq!(analyzer.lexicon_valence("abcdefghijklmnopq"), None);
    // A word with a valence never acts as a modifier, so "not" no longer
    // negates "bad" (values from the reference after `lexicon.update`).
    assert_eq!(analyzer.lexicon_valence("not"), Some(3.0));
    assert_eq!(analyzer.polarity_scores("not bad"), Scores { neg: 0.467, neu: 0.0, pos: 0.533, compound: 0.128 });
    assert_eq!(analyzer.polarity_scores("not antagonistically").compound, 0.8402);
    let stock = SentimentIntensityAnalyzer::new();
    assert_eq!(stock.lexicon_valence("antagonistically"), Some(-2.2));
    assert_eq!(stock.lexicon_valence("not"), None);
}

#[test]
fn malformed_lexicons_are_rejected_atomically() {
    let mut analyzer = SentimentIntensityAnalyzer::new();
    let before = analyzer.lexicon_len();
    let err = analyzer.extend_lexicon("fine\t1.0\nbroken line\n").unwrap_err();
    assert_eq!(err, LexiconError::MissingValence { line: 2 });
    assert_eq!(analyzer.lexicon_len(), before);
    assert_eq!(analyzer.lexicon_valence("fine"), Some(0.8));
    assert!(err.to_string().contains("line 2"));

    let err = SentimentIntensityAnalyzer::with_lexicon("good\tgreat\n", "").unwrap_err();
    assert!(matches!(err, LexiconError::InvalidValence { line: 1, .. }));
    let err = SentimentIntensityAnalyzer::with_lexicon("good\t1\n", "\u{1f600}\n").unwrap_err();
    assert_eq!(err, LexiconError::MissingDescription { line: 1 });
}

#[test]
fn custom_lexicons_replace_the_stock_ones() {
    let analyzer =
        SentimentIntensityAnalyzer::with_lexicon("yay\t2.0\t0.5\t[2, 2]\n", "\u{1f680}\tyay rocket\n").unwrap();
    assert_eq!(analyzer.lexicon_len(), 1);
    assert_eq!(analyzer.polarity_scores("good").compound, 0.0);
    let yay = analyzer.polarity_scores("yay");
    assert_eq!(analyzer.polarity_scores("\u{1f680}").compound, yay.compound);
    assert_eq!(yay, Scores { neg: 0.0, neu: 0.0, pos: 1.0, compound: 0.4588 });
}

#[test]
fn pathological_inputs_do_not_panic() {
    let analyzer = SentimentIntensityAnalyzer::new();
    let mut inputs: Vec<String> = vec![
        String::new(),
        "!?".repeat(1000),
        "\u{200d}\u{fe0f}\u{20e3}\u{1f3fd}".into(),
        "\u{1f469}\u{1f3fd}\u{200d}\u{1f4bb}\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}".into(),
        "\u{fffd}\u{fffd} \u{0} \u{7f} \u{10ffff} \u{e000}".into(),
        "\u{5d0}\u{5d1} \u{627}\u{644}\u{639}\u{631}\u{628}\u{64a}\u{629} \u{4e2d}\u{6587}".into(),
        "but but but".into(),
        "no".into(),
        "kind".into(),
        "the shit".into(),
        "least".into(),
        String::from_utf8_lossy(&[0xff, 0xfe, b'g', b'o', b'o', b'd', 0xc3]).into_owned(),
    ];
    let unit = "VERY good but not so BAD!!! :) \u{1f600}\u{1f3fd} kind of the shit, no or nor least?? ";
    inputs.push(unit.repeat(1 << 20 >> 7));
    for text in &inputs {
        let s = analyzer.polarity_scores(text);
        for v in [s.neg, s.neu, s.pos, s.compound] {
            assert!(v.is_finite(), "{v} for {:?}", &text[..text.len().min(40)]);
        }
        assert!((-1.0..=1.0).contains(&s.compound));
    }
}

#[test]
fn one_megabyte_text_is_scored_quickly() {
    // The reference's "but" rule is quadratic; the port must not be.
    let analyzer = SentimentIntensityAnalyzer::new();
    let text = "good bad good but great awful ".repeat(35_000);
    assert!(text.len() >= 1_000_000);
    let start = std::time::Instant::now();
    let s = analyzer.polarity_scores(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
    assert!(s.compound > 0.99);
}
