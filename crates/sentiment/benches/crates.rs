//! This crate's VADER port against the `vader_sentiment` crate from
//! crates.io, on the lines of the parity corpus that the crate scores without
//! panicking. A dev-dependency only: the tool never links it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trendpipe_sentiment::vader;

fn compare(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sentiment/corpus.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let theirs = vader_sentiment::SentimentIntensityAnalyzer::new();
    std::panic::set_hook(Box::new(|_| {}));
    let lines: Vec<&str> =
        text.lines().filter(|t| std::panic::catch_unwind(|| theirs.polarity_scores(t).len()).is_ok()).collect();
    let _ = std::panic::take_hook();
    let ours = vader::Analyzer::new();
    let mut group = c.benchmark_group("vader crates");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("trendpipe-sentiment", |b| {
        b.iter(|| lines.iter().map(|t| ours.polarity_scores(black_box(t)).compound).sum::<f64>())
    });
    group.bench_function("vader_sentiment 0.1.1", |b| {
        b.iter(|| lines.iter().map(|t| theirs.polarity_scores(black_box(t)).len()).sum::<usize>())
    });
    group.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
