//! Secrets under failure: every tool run with a password in its MongoDB or PostgreSQL
//! URL, a bearer token, or a webhook URL carrying a token, and made to fail
//! (unreachable server, refused credentials, a 401 from the provider, a webhook
//! answering 500). The secret appears in no stdout, stderr, reject file,
//! `--summary json` line, nor in the `runs` entry the run leaves in a store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;
use trendpipe_pipeline_tests::{Run, fresh_postgres, mongo_uri, postgres_url, run};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PG_PASSWORD: &str = "PgPw-s3cret-7731";
const MONGO_PASSWORD: &str = "MongoPw-s3cret-5512";
const TOKEN: &str = "AAAAbearer-s3cret-9904";
const HOOK_TOKEN: &str = "T0kenInHook-s3cret-4410";
const SECRETS: [&str; 4] = [PG_PASSWORD, MONGO_PASSWORD, TOKEN, HOOK_TOKEN];

/// Fails when a secret is anywhere in what the run wrote: its output, its log, its
/// summary line, its reject file.
fn assert_no_secret(what: &str, r: &Run, dir: &Path) {
    assert!(!r.stderr.contains("panicked"), "{what} panicked:\n{}", r.stderr);
    for s in SECRETS {
        assert!(!r.stdout.contains(s), "{what}: a secret in stdout:\n{}", r.stdout);
        assert!(!r.stderr.contains(s), "{what}: a secret in stderr:\n{}", r.stderr);
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rejects") {
            let text = std::fs::read_to_string(&path).unwrap();
            for s in SECRETS {
                assert!(!text.contains(s), "{what}: a secret in {}", path.display());
            }
        }
    }
}

/// The `--summary json` line: there is one, and it says the run failed.
fn failed_summary(what: &str, r: &Run) -> Value {
    let last = r.stderr.lines().last().unwrap_or_default();
    let v: Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{what}: no summary line ({e}):\n{}", r.stderr));
    assert_ne!(v["status"], "ok", "{what}: {v}");
    v
}

/// Runs each `(binary, args)` with `env` at once (the unreachable-server runs wait for
/// their timeouts in parallel), each with its own reject file.
fn run_all(cases: &[(&str, Vec<&str>)], env: &[(&str, &str)], stdin: &[u8], dir: &Path) -> Vec<(String, Run)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, (bin, args))| {
                s.spawn(move || {
                    let reject = dir.join(format!("{i}.rejects")).display().to_string();
                    let mut a: Vec<&str> = args.clone();
                    if *bin != "report" && *bin != "fetch-trends" {
                        a.extend(["--reject", reject.as_str()]);
                    }
                    if *bin != "report" {
                        a.extend(["--summary", "json"]);
                    }
                    let what = format!("{bin} {}", args.join(" "));
                    (what, run(bin, &a, env, stdin, dir))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// One post per line, so that the stdin stages have something to do before failing.
fn some_records() -> Vec<u8> {
    concat!(
        r##"{"kind":"trend","source":"x","place":{"id":"1"},"name":"#A","volume":5,"observed_at":"2026-11-22T01:00:00Z"}"##,
        "\n",
        r#"{"kind":"post","source":"x","id":"1","text":"good","trend":"a","observed_at":"2026-11-22T01:00:00Z"}"#,
        "\n"
    )
    .as_bytes()
    .to_vec()
}

#[test]
fn every_sql_tool_failing_to_reach_postgres_masks_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://trend:{PG_PASSWORD}@127.0.0.1:1/trends");
    let cases = vec![
        ("etl-to-sql", vec![]),
        ("sentiment", vec!["--db"]),
        ("influencers", vec!["--from", "db"]),
        ("alerts", vec!["--from", "db"]),
        ("report", vec!["--format", "json"]),
    ];
    for (what, r) in run_all(&cases, &[("DATABASE_URL", &url)], &some_records(), dir.path()) {
        assert_no_secret(&what, &r, dir.path());
        assert_eq!(r.code, Some(2), "{what}:\n{}", r.stderr);
        assert!(
            r.stderr.contains("postgres://trend:***@127.0.0.1:1/trends"),
            "{what} does not name the server:\n{}",
            r.stderr
        );
        if !what.starts_with("report") {
            failed_summary(&what, &r);
        }
    }
}

#[test]
fn every_mongo_tool_failing_to_reach_mongodb_masks_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("mongodb://trend:{MONGO_PASSWORD}@127.0.0.1:1/?serverSelectionTimeoutMS=1500");
    let cases = vec![
        ("fetch-trends", vec!["--source", "mastodon", "--instance", "127.0.0.1:1", "--to", "mongo"]),
        ("fetch-posts", vec!["--source", "mastodon", "--instance", "127.0.0.1:1", "--from", "mongo"]),
        ("clean", vec!["--from", "mongo"]),
        ("clean", vec!["--from", "mongo", "--to", "mongo"]),
        ("etl-to-sql", vec!["--from", "mongo", "--db", "sqlite:secrets.db"]),
    ];
    for (what, r) in run_all(&cases, &[("MONGODB_URI", &uri)], &some_records(), dir.path()) {
        assert_no_secret(&what, &r, dir.path());
        assert_eq!(r.code, Some(2), "{what}:\n{}", r.stderr);
        assert!(
            r.stderr.contains("mongodb://trend:***@127.0.0.1:1/"),
            "{what} does not name the server:\n{}",
            r.stderr
        );
        failed_summary(&what, &r);
    }
}

/// A provider that refuses the token and quotes it back, as some proxies do.
async fn refusing_provider(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let body = serde_json::json!({
        "title": "Unauthorized",
        "detail": format!("Authorization header 'Bearer {TOKEN}' was refused"),
        "type": "about:blank", "status": status
    });
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(status).set_body_json(body)).mount(&server).await;
    server
}

#[tokio::test]
async fn a_provider_refusing_the_token_never_gets_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let trends = some_records();
    for status in [401, 403, 500] {
        let server = refusing_provider(status).await;
        let base = server.uri();
        let cases = vec![
            ("fetch-trends", vec!["--source", "x", "--place", "1", "--base-url", &base, "--retries", "0"]),
            ("fetch-posts", vec!["--source", "x", "--base-url", &base, "--retries", "0"]),
            ("fetch-posts", vec!["--source", "bluesky", "--base-url", &base, "--retries", "0"]),
            ("fetch-trends", vec!["--source", "bluesky", "--base-url", &base, "--retries", "0"]),
        ];
        let env = [("X_BEARER_TOKEN", TOKEN), ("BLUESKY_TOKEN", TOKEN)];
        let runs = run_all(&cases, &env, &trends, dir.path());
        for (what, r) in &runs {
            assert_no_secret(&format!("{what} ({status})"), r, dir.path());
            assert_ne!(r.code, Some(0), "{what} ({status}):\n{}", r.stderr);
            failed_summary(what, r);
        }
        let asked = server.received_requests().await.unwrap();
        assert!(
            asked.iter().any(|q| q.headers.get("authorization").is_some_and(|v| v.to_str().unwrap().contains(TOKEN))),
            "the token was never sent: the test proves nothing"
        );
    }
}

/// Five days of hourly volumes with a jump at hour 100: one alert.
fn spike() -> Vec<u8> {
    let mut out = String::new();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-10-05T00:00:00Z").unwrap().to_utc();
    for i in 0..120_i64 {
        let volume = if i == 100 { 40_000 } else { 5_000 + (i * 37) % 200 };
        let at = trendpipe_core::record::format_time(&(t0 + chrono::Duration::hours(i)));
        out.push_str(&format!(
            r##"{{"kind":"trend","source":"x","place":{{"id":"23424768"}},"name":"#BBB26","volume":{volume},"rank":1,"observed_at":"{at}"}}"##
        ));
        out.push('\n');
    }
    out.into_bytes()
}

#[tokio::test]
async fn a_failing_webhook_never_gets_its_token_printed() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("no hook at /hooks/{HOOK_TOKEN}")))
        .mount(&server)
        .await;
    let hook = format!("{}/hooks/{HOOK_TOKEN}", server.uri());
    let state = dir.path().join("alerts.state").display().to_string();
    let cases = vec![("alerts", vec!["--metric", "volume", "--webhook-retries", "0", "--state", state.as_str()])];
    let runs = run_all(&cases, &[("ALERTS_WEBHOOK_URL", &hook)], &spike(), dir.path());
    for (what, r) in &runs {
        assert_no_secret(what, r, dir.path());
        assert_eq!(r.records().len(), 1, "{what}: the spike raises one alert:\n{}", r.stderr);
        assert_ne!(r.code, Some(0), "{what}: a webhook that fails is a failure:\n{}", r.stderr);
        failed_summary(what, r);
    }
    assert!(!server.received_requests().await.unwrap().is_empty(), "the webhook was never called");
}

/// The `runs` rows of a PostgreSQL database, as JSON text.
async fn pg_runs(url: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(r)::text FROM runs r").fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows
}

/// A URL of `url`'s server with a password: the test server trusts local users, so
/// the run connects, and the password must still stay out of what it stores.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    format!("{scheme}://postgres:{PG_PASSWORD}@{rest}")
}

#[tokio::test]
#[ignore = "needs PostgreSQL and MongoDB: run by scripts/test.sh"]
async fn the_runs_entries_of_failed_runs_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_password(&fresh_postgres(&postgres_url()).await);
    let mongo = mongo_uri();
    let (scheme, rest) = mongo.split_once("://").unwrap();
    let bad_mongo = format!("{scheme}://trend:{MONGO_PASSWORD}@{rest}");
    let bad_mongo =
        if bad_mongo.contains('?') { bad_mongo } else { format!("{bad_mongo}?serverSelectionTimeoutMS=3000") };

    // SQL reached with a password, MongoDB refusing its credentials.
    let r = run(
        "etl-to-sql",
        &["--from", "mongo", "--summary", "json"],
        &[("DATABASE_URL", &db), ("MONGODB_URI", &bad_mongo)],
        b"",
        dir.path(),
    );
    assert_no_secret("etl-to-sql --from mongo", &r, dir.path());
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    // SQL reached with a password, the webhook failing.
    let loaded = run("etl-to-sql", &[], &[("DATABASE_URL", &db)], &spike(), dir.path());
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let hook = format!("{}/hooks/{HOOK_TOKEN}", server.uri());
    let r = run(
        "alerts",
        &["--from", "db", "--metric", "volume", "--webhook-retries", "0", "--summary", "json"],
        &[("DATABASE_URL", &db), ("ALERTS_WEBHOOK_URL", &hook)],
        b"",
        dir.path(),
    );
    assert_no_secret("alerts --from db", &r, dir.path());
    assert!(!server.received_requests().await.unwrap().is_empty(), "the webhook was never called");

    let rows = pg_runs(&with_password(&db)).await;
    assert!(rows.len() >= 3, "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("\"failed\"")), "{rows:?}");
    for row in &rows {
        for s in SECRETS {
            assert!(!row.contains(s), "a secret in the runs table: {row}");
        }
    }

    // MongoDB reached, the provider refusing the token: the runs document.
    let server = refusing_provider(401).await;
    let database = trendpipe_pipeline_tests::unique("secrets");
    let r = run(
        "fetch-trends",
        &["--source", "x", "--place", "1", "--base-url", &server.uri(), "--to", "mongo", "--mongo-database", &database],
        &[("MONGODB_URI", &mongo), ("X_BEARER_TOKEN", TOKEN)],
        b"",
        dir.path(),
    );
    assert_no_secret("fetch-trends --to mongo", &r, dir.path());
    assert_ne!(r.code, Some(0), "{}", r.stderr);
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let docs: Vec<mongodb::bson::Document> = {
        use futures_util::TryStreamExt;
        let coll = client.database(&database).collection::<mongodb::bson::Document>("runs");
        coll.find(mongodb::bson::doc! {}).await.unwrap().try_collect().await.unwrap()
    };
    client.database(&database).drop().await.ok();
    client.shutdown().await;
    assert_eq!(docs.len(), 1, "{docs:?}");
    let text = format!("{docs:?}");
    for s in SECRETS {
        assert!(!text.contains(s), "a secret in the runs document: {text}");
    }
}
