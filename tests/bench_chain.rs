//! The benchmark chain at a tiny size: `scripts/bench.sh` on 2,000 generated records
//! (every stage's row) and, in the same run, `scripts/bench-pipeline.sh` on 2,000
//! statuses for the Rust and the Python pipelines. The figures themselves are not
//! checked (they belong to BENCHMARKS.md); what is checked is that the chain still
//! runs end to end, gives a row per stage with positive throughput and memory, and
//! that both pipelines end with the same posts and influencer rows, so that the
//! side-by-side comparison compares equal work.

// Test code fails the test by panicking, as assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use trendpipe_pipeline_tests::{bin, repo_root};

/// The records each stage reads, and the statuses of the whole-pipeline pair.
const SIZE: u64 = 2000;

/// The stages of the table, in the order `scripts/bench.sh` runs them.
const STAGES: [&str; 11] = [
    "fetch-posts (x-v1 import)",
    "clean (trends)",
    "clean (posts)",
    "sentiment (filter)",
    "etl-to-sql (posts → SQLite)",
    "etl-to-sql (trends → SQLite)",
    "sentiment --db",
    "influencers (NDJSON, 24h)",
    "influencers --db (24h)",
    "alerts --db",
    "report --db (HTML)",
];

/// A table cell as a number (awk may group thousands with commas).
fn number(cell: &str) -> f64 {
    cell.trim().replace(',', "").parse().unwrap_or_else(|e| panic!("{cell:?} is not a number: {e}"))
}

/// The cells of the Markdown table rows whose first cell is `label`.
fn rows<'a>(table: &'a str, label: &str) -> Vec<Vec<&'a str>> {
    table
        .lines()
        .filter_map(|l| l.strip_prefix('|'))
        .map(|l| l.trim_end_matches('|').split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells[0] == label)
        .collect()
}

/// The posts and influencer rows one side's `bench-pipeline` line reports.
fn end_state(stderr: &str, side: &str) -> (u64, u64) {
    let prefix = format!("bench-pipeline {side}: ");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).filter(|rest| rest.ends_with("influencer rows")))
        .unwrap_or_else(|| panic!("no end state for {side} in:\n{stderr}"));
    let figures: Vec<u64> =
        line.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect();
    assert_eq!(figures.len(), 2, "{line}");
    (figures[0], figures[1])
}

#[test]
#[ignore = "needs the Python references: run by scripts/test.sh"]
fn bench_gives_every_stage_a_row_and_both_pipelines_end_with_the_same_posts_and_influencers() {
    let python = match std::env::var("TRENDPIPE_PYTHON") {
        Ok(p) if !p.trim().is_empty() => p,
        _ => panic!("TRENDPIPE_PYTHON is not set: this test needs the Python pipeline; run it through scripts/test.sh"),
    };
    // The debug binaries `cargo test` built; bench.sh then skips its release build.
    let bin_dir = bin("gen-data").parent().unwrap().to_path_buf();
    for name in ["fetch-posts", "clean", "sentiment", "etl-to-sql", "influencers", "alerts", "report"] {
        bin(name);
    }
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/bench.sh"))
        .arg(SIZE.to_string())
        .env("BIN", &bin_dir)
        .env("WORK", work.path())
        .env("PIPELINE", SIZE.to_string())
        .env("RUNS", "1")
        .env("TRENDPIPE_PYTHON", &python)
        .env_remove("STAGES")
        .env_remove("FULL_MAX")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "bench.sh failed ({}):\n{stderr}", out.status);

    for stage in STAGES {
        let found = rows(&stdout, stage);
        assert_eq!(found.len(), 1, "one row for {stage} in:\n{stdout}");
        let cells = &found[0];
        assert_eq!(cells.len(), 6, "{cells:?}");
        assert_eq!(number(cells[1]), SIZE as f64, "{stage} read {SIZE} records");
        assert!(number(cells[4]) > 0.0, "{stage} has a positive throughput: {cells:?}");
        assert!(number(cells[5]) > 0.0, "{stage} has a positive peak RSS: {cells:?}");
    }
    for side in ["Python (json, pandas, vaderSentiment, LeIA, NetworkX, sqlite3)", "trendpipe"] {
        let found = rows(&stdout, side);
        assert_eq!(found.len(), 1, "one whole-pipeline row for {side} in:\n{stdout}");
        assert!(number(found[0][2]) > 0.0 && number(found[0][4]) > 0.0, "{:?}", found[0]);
    }
    assert!(stdout.contains("Python / trendpipe, median of 1 per-pair ratio(s)"), "{stdout}");
    // The table is the only thing on stdout: no stage's records (alerts') leak into it.
    assert!(!stdout.lines().any(|l| l.trim_start().starts_with('{')), "records in the table:\n{stdout}");

    let rust = end_state(&stderr, "rust");
    let python = end_state(&stderr, "python");
    assert!(rust.0 > 0 && rust.1 > 0, "the Rust pipeline stored posts and influencers: {rust:?}");
    assert_eq!(rust, python, "posts and influencer rows, Rust then Python");
    // The generated statuses, their retweeted originals added, deduplicated.
    assert!(rust.0 >= SIZE * 9 / 10, "{} posts from {SIZE} statuses", rust.0);
}
