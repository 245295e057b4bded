//! `alerts` in SQL mode (SQLite, PostgreSQL) and its webhook.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::{alerts, load, ndjson, normal, observations, posts, rng, stored};
use serde_json::Value;
use trendpipe_core::sql::Sql;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sqlite(dir: &std::path::Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(name).display())
}

/// Five days of hourly volumes around 5000 with a jump to 40 000 at hour 100.
fn spike() -> Vec<Value> {
    let mut r = rng(31);
    let noise: Vec<f64> = (0..120).map(|_| normal(&mut r)).collect();
    observations("#BBB26", "23424768", 120, 60, |i| {
        Some(if i == 100 { 40_000.0 } else { 5000.0 * (0.1 * noise[i as usize]).exp() })
    })
}

/// Three weeks of a volume with a daily rhythm, a spike, a step, and three weeks of
/// sentiment windows with a drop.
fn history() -> Vec<Value> {
    let mut r = rng(51);
    let noise: Vec<f64> = (0..21 * 24).map(|_| normal(&mut r)).collect();
    let mut records = observations("#Copa", "BR", 21 * 24, 60, |i| {
        let season = 0.5 * (std::f64::consts::TAU * i as f64 / 24.0).sin();
        let event = match i {
            220 => 2.0,
            350..400 => 1.2,
            _ => 0.0,
        };
        Some((8.0 + season + event + 0.1 * noise[i as usize]).exp())
    });
    records.extend(posts(&mut r, "copa", 21 * 24, |_| 8, |h| if (300..310).contains(&h) { -0.5 } else { 0.3 }));
    records
}

async fn open(url: &str) -> Sql {
    Sql::connect(url).await.unwrap()
}

async fn sql_mode_stores_alerts_with_evidence_and_a_rerun_adds_none(url: &str, dir: &std::path::Path) {
    let sql = open(url).await;
    let mut records = spike();
    let mut r = rng(7);
    records.extend(posts(&mut r, "crise", 72, |_| 20, |h| if h >= 60 { -0.6 } else { 0.3 }));
    load(&sql, &records).await;
    let env = [("DATABASE_URL", url)];
    let run = alerts(dir, &["--from", "db", "--min-posts", "5", "--evidence", "3"], &env, "");
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let recs = run.records();
    assert_eq!(recs.len(), 2, "{recs:?}");
    let volume = recs.iter().find(|a| a["metric"] == "volume").unwrap();
    assert_eq!((volume["at"].as_str(), volume["place"].as_str()), (Some("2026-10-09T04:00:00Z"), Some("23424768")));
    let sentiment = recs.iter().find(|a| a["metric"] == "sentiment").unwrap();
    assert_eq!(sentiment["at"], "2026-10-07T12:00:00Z");
    assert_eq!(sentiment["posts"], 20);
    let evidence = sentiment["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 3);
    assert!(evidence.iter().all(|e| e["id"].as_str().unwrap().starts_with("crise-60-")), "{evidence:?}");
    let rows = stored(&sql).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "sentiment");
    // The stored evidence is the JSON array the record carries.
    let text: Option<String> = match &sql {
        Sql::Sqlite(p) => {
            sqlx::query_scalar("SELECT evidence FROM alerts WHERE metric = 'sentiment'").fetch_one(p).await
        }
        Sql::Postgres(p) => {
            sqlx::query_scalar("SELECT evidence FROM alerts WHERE metric = 'sentiment'").fetch_one(p).await
        }
    }
    .unwrap();
    assert_eq!(&serde_json::from_str::<Value>(&text.unwrap()).unwrap(), &sentiment["evidence"]);
    // A rerun, and a rerun over the whole history, store nothing twice and are quiet.
    for args in
        [&["--from", "db", "--min-posts", "5"][..], &["--from", "db", "--min-posts", "5", "--since", "2026-01-01"]]
    {
        let run = alerts(dir, args, &env, "");
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert_eq!(stored(&sql).await, rows);
    sql.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_mode_on_sqlite_stores_alerts_with_evidence_and_a_rerun_adds_none() {
    let dir = tempfile::tempdir().unwrap();
    sql_mode_stores_alerts_with_evidence_and_a_rerun_adds_none(&sqlite(dir.path(), "t.db"), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn sql_mode_on_postgres_stores_alerts_with_evidence_and_a_rerun_adds_none() {
    use sqlx::Connection;
    let admin = std::env::var("TRENDPIPE_TEST_DATABASE_URL")
        .expect("TRENDPIPE_TEST_DATABASE_URL must name a PostgreSQL server");
    let name = format!("trendpipe_alerts_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (base, query) = admin.split_once('?').map_or((admin.as_str(), String::new()), |(b, q)| (b, format!("?{q}")));
    let url = format!("{}/{name}{query}", base.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();
    sql_mode_stores_alerts_with_evidence_and_a_rerun_adds_none(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cron_runs_over_growing_prefixes_store_the_same_alerts_as_one_run_over_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let records = history();
    let whole = sqlite(dir.path(), "whole.db");
    let sql = open(&whole).await;
    load(&sql, &records).await;
    let run = alerts(dir.path(), &["--db", &whole, "--min-posts", "5", "--direction", "both"], &[], "");
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let expected = stored(&sql).await;
    sql.close().await;
    assert!(expected.len() >= 3, "the history holds a spike, a step and a drop: {expected:?}");
    assert!(expected.iter().any(|a| a.0 == "sentiment") && expected.iter().any(|a| a.0 == "volume"));

    // The same data arriving twelve hours at a time, judged after each arrival.
    let cron = sqlite(dir.path(), "cron.db");
    let sql = open(&cron).await;
    let t0 = common::t0();
    for step in 1..=42 {
        let (from, to) = (t0 + Duration::hours(12 * (step - 1)), t0 + Duration::hours(12 * step));
        let batch: Vec<Value> = records
            .iter()
            .filter(|r| {
                let at = r.get("observed_at").or(r.get("created_at")).and_then(Value::as_str).unwrap();
                let at = trendpipe_core::record::parse_time(at).unwrap();
                at >= from && at < to
            })
            .cloned()
            .collect();
        load(&sql, &batch).await;
        let run = alerts(dir.path(), &["--db", &cron, "--min-posts", "5", "--direction", "both"], &[], "");
        assert!(matches!(run.code, Some(0 | 3)), "step {step}: {}", run.stderr);
    }
    assert_eq!(stored(&sql).await, expected);
    sql.close().await;
}

const SECRET: &str = "s3cr3t-T0KEN-xyz";

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_gets_each_new_alert_once_after_a_500_and_its_secret_url_is_never_printed() {
    let server = MockServer::start().await;
    let hook = format!("/services/T000/{SECRET}");
    Mock::given(method("POST"))
        .and(path(&hook))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(&hook))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite(dir.path(), "t.db");
    let sql = open(&url).await;
    load(&sql, &spike()).await;
    let webhook = format!("{}{hook}", server.uri());
    let env = [("ALERTS_WEBHOOK_URL", webhook.as_str())];
    let run = alerts(dir.path(), &["--db", &url, "--metric", "volume"], &env, "");
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 500"), "the retry is logged: {}", run.stderr);
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let body: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!((body["kind"].as_str(), body["metric"].as_str()), (Some("alert"), Some("volume")));
    assert!(body["text"].as_str().unwrap().contains("volume up: bbb26"), "{body}");
    // Rerun: nothing new, nothing sent again.
    let run = alerts(dir.path(), &["--db", &url, "--metric", "volume"], &env, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    sql.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_that_times_out_does_not_hold_the_run_and_the_alert_goes_with_the_next_run() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(20)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite(dir.path(), "t.db");
    let sql = open(&url).await;
    load(&sql, &spike()).await;
    let webhook = format!("{}/hook", server.uri());
    let args =
        ["--db", &url, "--metric", "volume", "--webhook", &webhook, "--webhook-timeout", "1", "--webhook-retries", "0"];
    let run = alerts(dir.path(), &args, &[], "");
    assert_eq!(run.code, Some(1), "an undelivered alert outranks the alert itself: {}", run.stderr);
    assert_eq!(run.records().len(), 1, "the alert is written all the same");
    assert!(run.stderr.contains("sent by the next run"), "{}", run.stderr);
    let run = alerts(dir.path(), &args, &[], "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    let Sql::Sqlite(pool) = &sql else { unreachable!() };
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM alerts WHERE notified_at IS NULL").fetch_one(pool).await.unwrap();
    assert_eq!(pending, 0);
    sql.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_stdin_the_state_file_keeps_a_rerun_from_sending_an_alert_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let webhook = format!("{}/hook", server.uri());
    let input = ndjson(&spike());
    for _ in 0..2 {
        let run = alerts(dir.path(), &["--webhook", &webhook, "--state", "alerts.state"], &[], &input);
        assert_eq!(run.code, Some(3), "{}", run.stderr);
        assert_eq!(run.records().len(), 1);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(std::fs::read_to_string(dir.path().join("alerts.state")).unwrap().contains("bbb26"));
}
