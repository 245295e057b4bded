//! `sentiment --db` against SQLite and the real PostgreSQL: posts loaded by
//! `etl-to-sql` get scored once, and the per-trend windows are computed.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{fixture, fresh_postgres, postgres_url, run, unique};
use trendpipe_sentiment::vader::Analyzer;

async fn rows(url: &str, q: &str) -> Vec<(String, String, i64, f64, f64, f64, f64, String)> {
    let sql = Sql::open(url).await.unwrap();
    let r = match &sql {
        Sql::Sqlite(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
    };
    sql.close().await;
    r
}

async fn scores(url: &str) -> Vec<(String, String, f64, String)> {
    let sql = Sql::open(url).await.unwrap();
    let q = "SELECT p.post_id, s.model, s.compound, s.label FROM post_sentiment s JOIN posts p ON p.id = s.post ORDER BY p.post_id";
    let r = match &sql {
        Sql::Sqlite(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
    };
    sql.close().await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn posts_are_scored_once_and_trend_windows_computed() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(fixture("posts/sample-posts.ndjson")).unwrap();
    // Two more posts of the same trend in another hour, one in Portuguese.
    let extra: String = [
        json!({"kind":"post","source":"mastodon","id":"109010","text":"I hate this, worst show ever","lang":"en",
               "created_at":"2026-11-22T01:05:00Z","observed_at":"2026-11-22T02:00:00Z","trend":"bbb26","metrics":{}}),
        json!({"kind":"post","source":"mastodon","id":"109011","text":"Que programa maravilhoso, adorei!","lang":"pt-BR",
               "created_at":"2026-11-22T01:40:00Z","observed_at":"2026-11-22T02:00:00Z","trend":"bbb26","metrics":{}}),
    ]
    .iter()
    .map(|v: &Value| format!("{v}\n"))
    .collect();
    let mut targets = vec![format!("sqlite:{}", dir.path().join(format!("{}.db", unique("s"))).display())];
    targets.push(fresh_postgres(&postgres_url()).await);
    let english = Analyzer::new();
    for db in &targets {
        let input = format!("{sample}{extra}");
        let loaded = run("etl-to-sql", &[], &[("DATABASE_URL", db)], input.as_bytes(), dir.path());
        assert_eq!(loaded.code, Some(0), "{db}: {}", loaded.stderr);

        let first = run("sentiment", &["--db", db], &[], b"", dir.path());
        assert_eq!(first.code, Some(0), "{db}: {}", first.stderr);
        assert!(first.stderr.contains("scored 6 posts"), "{db}: {}", first.stderr);
        let got = scores(db).await;
        assert_eq!(got.len(), 6, "{db}: {got:?}");
        let ana = got.iter().find(|r| r.0 == "109001").unwrap();
        let text = "The final episode was AMAZING!!! Best season ever :)";
        assert_eq!((ana.1.as_str(), ana.2), ("vader-en", english.polarity_scores(text).compound));
        let pt = got.iter().find(|r| r.0 == "109011").unwrap();
        assert_eq!((pt.1.as_str(), pt.3.as_str()), ("leia-pt", "positive"), "{db}");

        // bbb26, hourly: 23:00 (109001, 109004), 01:00 (109010, 109011).
        let hourly = rows(
            db,
            "SELECT trend_key, CAST(window_start AS TEXT), posts, mean_compound, share_positive, share_neutral, share_negative, label \
             FROM trend_sentiment WHERE window_len = '1h' AND trend_key = 'bbb26' ORDER BY window_start",
        )
        .await;
        assert_eq!(hourly.len(), 2, "{db}: {hourly:?}");
        assert!(hourly[0].1.starts_with("2026-11-21") && hourly[0].1.contains("23:00:00"), "{db}: {hourly:?}");
        assert_eq!(hourly[0].2, 2);
        let c1 = english.polarity_scores(text).compound;
        let c4 = english.polarity_scores("It was kind of fun, but the ending was terrible 😞").compound;
        assert!((hourly[0].3 - (c1 + c4) / 2.0).abs() < 1e-9, "{db}: {hourly:?}");
        assert_eq!(hourly[1].2, 2);
        assert_eq!((hourly[1].4, hourly[1].6), (0.5, 0.5), "{db}: one positive, one negative");
        let daily = rows(
            db,
            "SELECT trend_key, CAST(window_start AS TEXT), posts, mean_compound, share_positive, share_neutral, share_negative, label \
             FROM trend_sentiment WHERE window_len = '1d' AND trend_key = 'bbb26' ORDER BY window_start",
        )
        .await;
        assert_eq!(daily.iter().map(|r| r.2).collect::<Vec<_>>(), [2, 2], "{db}: {daily:?}");

        // A second run scores nothing new and leaves the windows as they were.
        let second = run("sentiment", &["--db", db], &[], b"", dir.path());
        assert_eq!(second.code, Some(0), "{db}: {}", second.stderr);
        assert!(second.stderr.contains("scored 0 posts"), "{db}: {}", second.stderr);
        assert_eq!(scores(db).await, got);
    }
}
