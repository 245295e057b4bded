//! Texts per second of the sentiment engines on one core, for
//! `scripts/bench-sentiment.sh`: this crate's VADER and LeIA ports and, for
//! comparison, the `vader_sentiment` crate from crates.io (a dev-dependency,
//! never linked into the tool).
//!
//! Usage: `throughput ENGINE CORPUS [SECONDS]` where ENGINE is `vader-en`,
//! `leia-pt` or `vader_sentiment-crate`. Prints one line:
//! `ENGINE texts=N best_texts_per_s=X median_texts_per_s=Y passes=P skipped=S`.
//! Each pass scores every line of the corpus; passes repeat for SECONDS
//! (default 3) and the best and median pass rates are reported, so that a
//! busy machine affects the figure less.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark driver, not library code

use std::hint::black_box;
use std::time::{Duration, Instant};

use trendpipe_sentiment::vader::{self, leia};

// The allocator the `sentiment` binary uses, so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (engine, corpus) = match args.as_slice() {
        [_, e, c, ..] => (e.clone(), c.clone()),
        _ => panic!("usage: throughput ENGINE CORPUS [SECONDS]"),
    };
    let seconds: f64 = args.get(3).map_or(3.0, |s| s.parse().expect("SECONDS"));
    let text = std::fs::read_to_string(&corpus).expect("read the corpus");
    let mut lines: Vec<&str> = text.lines().collect();
    let mut skipped = 0;

    let score: Box<dyn Fn(&str) -> f64> = match engine.as_str() {
        "vader-en" => {
            let a = vader::Analyzer::new();
            Box::new(move |t| a.polarity_scores(t).compound)
        }
        "leia-pt" => {
            let a = leia::Analyzer::new();
            Box::new(move |t| a.polarity_scores(t).compound)
        }
        "vader_sentiment-crate" => {
            let a = vader_sentiment::SentimentIntensityAnalyzer::new();
            // The crate panics on some inputs: keep only the lines it survives.
            std::panic::set_hook(Box::new(|_| {}));
            let before = lines.len();
            lines.retain(|t| std::panic::catch_unwind(|| a.polarity_scores(t).get("compound").copied()).is_ok());
            let _ = std::panic::take_hook();
            skipped = before - lines.len();
            Box::new(move |t| a.polarity_scores(t).get("compound").copied().unwrap_or(0.0))
        }
        other => panic!("unknown engine {other}"),
    };

    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut rates = Vec::new();
    while rates.len() < 3 || start.elapsed() < budget {
        let t0 = Instant::now();
        for line in &lines {
            black_box(score(black_box(line)));
        }
        rates.push(lines.len() as f64 / t0.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let best = rates[rates.len() - 1];
    let median = rates[rates.len() / 2];
    println!(
        "{engine} texts={} best_texts_per_s={best:.0} median_texts_per_s={median:.0} passes={} skipped={skipped}",
        lines.len(),
        rates.len()
    );
}
