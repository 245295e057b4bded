//! Parity of the Rust VADER port with the Python reference
//! (`vaderSentiment==3.3.2`) on `fixtures/sentiment/corpus.txt` (made by
//! `scripts/gen_sentiment_corpus.py`).

mod common;

use trendpipe_sentiment::vader::SentimentIntensityAnalyzer;

#[test]
#[ignore = "needs the Python references: run by scripts/test.sh"]
fn matches_python_reference_on_corpus() {
    let analyzer = SentimentIntensityAnalyzer::new();
    common::check_parity("corpus.txt", "vader_reference.py", "vaderSentiment==3.3.2", |t| analyzer.polarity_scores(t));
}
