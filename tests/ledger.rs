//! The run ledger: every run of a stage that used a store leaves one entry there,
//! finished with its outcome; a run killed midway leaves its entry `running` and the
//! next run says so; `--summary json` prints the entry on stderr.

// Test code fails the test by panicking, as assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{bin, fixture, run};

async fn runs(url: &str) -> Vec<(String, String, Option<i64>, Option<String>)> {
    let Sql::Sqlite(pool) = Sql::open(url).await.unwrap() else { unreachable!() };
    let rows = sqlx::query_as("SELECT stage, status, exit_code, finished_at FROM runs ORDER BY started_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

fn trends(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"kind\":\"trend\",\"source\":\"x\",\"place\":{{\"id\":\"{}\"}},\"name\":\"T{}\",\"volume\":{i},\"observed_at\":\"2026-11-{:02}T{:02}:{:02}:00Z\"}}\n",
                i % 5,
                i % 997,
                1 + i / 1440 % 28,
                i / 60 % 24,
                i % 60
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sql_run_leaves_one_finished_entry_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let good = run("etl-to-sql", &["--db", &db], &[], trends(10).as_bytes(), dir.path());
    assert_eq!(good.code, Some(0), "{}", good.stderr);
    let bad = run("etl-to-sql", &["--db", &db], &[], b"{\"kind\":\"trend\"}\nnot json\n", dir.path());
    assert_eq!(bad.code, Some(1), "{}", bad.stderr);
    let got = runs(&db).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str(), got[0].2), ("etl-to-sql", "ok", Some(0)));
    assert_eq!((got[1].1.as_str(), got[1].2), ("partial", Some(1)));
    assert!(got.iter().all(|r| r.3.is_some()), "every entry is finished: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_stays_running_in_the_ledger_and_the_next_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("k.db").display());
    let input = dir.path().join("big.ndjson");
    std::fs::write(&input, trends(200_000)).unwrap();
    let mut child = Command::new(bin("etl-to-sql"))
        .args(["--db", &db, "--batch-size", "500"])
        .current_dir(dir.path())
        .stdin(Stdio::from(std::fs::File::open(&input).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once its entry is written and some batches are in.
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "the load never started");
        assert!(child.try_wait().unwrap().is_none(), "the load ended before it could be killed");
        if dir.path().join("k.db").exists() {
            let Sql::Sqlite(pool) = Sql::open(&db).await.unwrap() else { unreachable!() };
            let n: Option<i64> =
                sqlx::query_scalar("SELECT count(*) FROM trend_observations").fetch_one(&pool).await.ok();
            pool.close().await;
            if n.unwrap_or(0) > 0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = runs(&db).await;
    assert_eq!(after_kill.len(), 1);
    assert_eq!(after_kill[0].1, "running");

    let next = run("etl-to-sql", &["--db", &db], &[], b"", dir.path());
    assert_eq!(next.code, Some(0), "{}", next.stderr);
    assert!(
        next.stderr.contains("the last run of etl-to-sql") && next.stderr.contains("did not finish"),
        "{}",
        next.stderr
    );
    let got = runs(&db).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].1, "ok");
}

#[test]
fn summary_json_prints_the_ledger_entry_as_the_last_stderr_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("x-v1/trends-place-20261120T0000.json");
    let out = run(
        "fetch-trends",
        &["--source", "x-v1", "--file", file.to_str().unwrap(), "--summary", "json"],
        &[],
        b"",
        dir.path(),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap();
    let entry: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(entry["stage"], "fetch-trends");
    assert_eq!(entry["status"], "ok");
    assert_eq!(entry["exit_code"], 0);
    assert!(entry["args"].as_array().unwrap().iter().any(|a| a == "--summary"));
    assert!(entry["finished_at"].as_str().is_some());
    // Without the flag, stderr carries no JSON.
    let plain = run("fetch-trends", &["--source", "x-v1", "--file", file.to_str().unwrap()], &[], b"", dir.path());
    assert!(plain.stderr.lines().all(|l| !l.starts_with('{')), "{}", plain.stderr);
}
