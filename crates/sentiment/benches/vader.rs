//! Criterion benchmarks of the sentiment engines on the parity corpora and
//! of the NDJSON filter end to end on one thread. Speed is measured here and
//! by `scripts/bench-sentiment.sh`, never asserted in tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_sentiment::filter::{Options, filter};
use trendpipe_sentiment::score::Scorer;
use trendpipe_sentiment::vader::{self, leia};

fn corpus(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sentiment").join(name);
    std::fs::read_to_string(path).unwrap()
}

fn engines(c: &mut Criterion) {
    let en = corpus("corpus.txt");
    let en: Vec<&str> = en.lines().collect();
    let pt = corpus("corpus-pt.txt");
    let pt: Vec<&str> = pt.lines().collect();
    let mut group = c.benchmark_group("score");
    group.throughput(Throughput::Elements(en.len() as u64));
    let vader = vader::Analyzer::new();
    group.bench_function("vader-en corpus.txt", |b| {
        b.iter(|| en.iter().map(|t| vader.polarity_scores(black_box(t)).compound).sum::<f64>())
    });
    group.throughput(Throughput::Elements(pt.len() as u64));
    let leia = leia::Analyzer::new();
    group.bench_function("leia-pt corpus-pt.txt", |b| {
        b.iter(|| pt.iter().map(|t| leia.polarity_scores(black_box(t)).compound).sum::<f64>())
    });
    group.finish();
}

fn filter_end_to_end(c: &mut Criterion) {
    let en = corpus("corpus.txt");
    let mut input = String::new();
    for (i, text) in en.lines().enumerate() {
        let lang = if i % 2 == 0 { "en" } else { "pt" };
        input += &serde_json::json!({"kind": "post", "source": "x", "id": i.to_string(), "lang": lang, "text": text})
            .to_string();
        input.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let scorer = Scorer::default();
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(en.lines().count() as u64));
    group.bench_function("ndjson posts, 1 thread", |b| {
        b.iter(|| {
            let mut q = Quarantine::file(dir.path().join("r.ndjson"));
            let mut out = Vec::with_capacity(input.len() * 2);
            runtime.block_on(filter(&scorer, Options::default(), input.as_bytes(), &mut out, &mut q)).unwrap();
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, engines, filter_end_to_end);
criterion_main!(benches);
