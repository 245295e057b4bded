//! The whole slice as users chain it, with real processes and real services:
//! `fetch-trends` (X API v2 served by a local mock, or saved v1.1 files) into
//! MongoDB, `clean` from MongoDB, `etl-to-sql` into PostgreSQL and SQLite, and
//! `report` from both. The expected top-10 is computed here from the fixtures, by
//! other code than the tools', and compared with what `report` prints.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};
use serde_json::Value;
use trendpipe_pipeline_tests::{fixture, fresh_postgres, mongo_uri, postgres_url, read_fixture, run, unique};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pipeline-test-token-0123456789";
const PLACES: [&str; 3] = ["23424768", "455827", "1"];

/// The x-v1 fixture files as `--file` arguments.
fn v1_file_args() -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(fixture("x-v1")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().flat_map(|p| ["--file".to_owned(), p.display().to_string()]).collect()
}

/// The expected top-N of the x-v1 fixtures for a window: per (key), the peak volume
/// over all places, trends with no volume in the window left out (clean drops them).
fn expected_top(since: &str, until: &str, n: usize) -> Vec<(String, i64)> {
    let mut peak: BTreeMap<String, i64> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(fixture("x-v1")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let saved: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for place in saved.as_array().unwrap() {
            let at = place["as_of"].as_str().unwrap();
            if at < since || at >= until {
                continue;
            }
            for t in place["trends"].as_array().unwrap() {
                if let Some(v) = t["tweet_volume"].as_i64() {
                    let name = t["name"].as_str().unwrap().to_owned();
                    let e = peak.entry(name).or_insert(v);
                    *e = (*e).max(v);
                }
            }
        }
    }
    let mut top: Vec<(String, i64)> = peak.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(n);
    top
}

fn report_top(run: &trendpipe_pipeline_tests::Run) -> Vec<(String, i64)> {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("report JSON ({e}): {}", run.stdout));
    doc["trends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["peak_volume"].as_i64().unwrap()))
        .collect()
}

async fn count(db: &mongodb::Database, coll: &str, filter: Document) -> u64 {
    db.collection::<Document>(coll).count_documents(filter).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn x_api_through_mongodb_and_postgres_to_the_report() {
    let (mongo, pg_admin) = (mongo_uri(), postgres_url());
    let dir = tempfile::tempdir().unwrap();
    let database = unique("trendpipe");

    // A local X API v2 serving the documented payloads of three places.
    let server = MockServer::start().await;
    for place in PLACES {
        Mock::given(method("GET"))
            .and(path(format!("/2/trends/by/woeid/{place}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(read_fixture(&format!("x-v2/trends-by-woeid-{place}.json")), "application/json"),
            )
            .mount(&server)
            .await;
    }
    let uri = server.uri();
    let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str()), ("X_BEARER_TOKEN", TOKEN)];
    let fetch_args = [
        "--source",
        "x",
        "--base-url",
        &uri,
        "--place",
        "23424768=Brazil",
        "--place",
        "455827",
        "--place",
        "1",
        "--to",
        "mongo",
    ];
    let fetched = tokio::task::block_in_place(|| run("fetch-trends", &fetch_args, &env, b"", dir.path()));
    assert_eq!(fetched.code, Some(0), "{}", fetched.stderr);
    assert!(fetched.stdout.is_empty(), "records go to MongoDB, not stdout");

    let mut payload_total = 0u64;
    let mut payload_with_volume = 0u64;
    for place in PLACES {
        let v: Value = serde_json::from_slice(&read_fixture(&format!("x-v2/trends-by-woeid-{place}.json"))).unwrap();
        let data = v["data"].as_array().unwrap();
        payload_total += data.len() as u64;
        payload_with_volume += data.iter().filter(|d| d.get("tweet_count").is_some()).count() as u64;
    }

    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let db = client.database(&database);
    assert_eq!(count(&db, "trends", doc! {}).await, payload_total);
    assert_eq!(count(&db, "trends", doc! { "volume": { "$gte": 0 } }).await, payload_with_volume);
    let brazil: Vec<Document> = db
        .collection::<Document>("trends")
        .find(doc! { "place.id": "23424768", "rank": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(brazil.len(), 1);
    assert_eq!(brazil[0].get_document("place").unwrap().get_str("name").unwrap(), "Brazil");
    let runs: Vec<Document> =
        db.collection::<Document>("runs").find(doc! {}).await.unwrap().try_collect().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].get_str("status").unwrap(), "ok");
    // Servers may store small counts as 32- or 64-bit integers.
    let counted =
        runs[0].get_document("counts").unwrap().get("trends").and_then(mongodb::bson::Bson::as_i64).or_else(|| {
            runs[0].get_document("counts").unwrap().get("trends").and_then(mongodb::bson::Bson::as_i32).map(i64::from)
        });
    assert_eq!(counted, Some(payload_total as i64));

    // clean --from mongo | etl-to-sql --db postgres
    let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let cleaned = tokio::task::block_in_place(|| run("clean", &["--from", "mongo"], &env, b"", dir.path()));
    assert_eq!(cleaned.code, Some(0), "{}", cleaned.stderr);
    let clean_records = cleaned.records();
    assert_eq!(clean_records.len() as u64, payload_with_volume);
    assert!(clean_records.iter().all(|r| r["volume"].as_i64().is_some()));
    // Null volumes were quarantined in MongoDB, not destroyed.
    assert_eq!(
        count(&db, "quarantine", doc! { "stage": "clean", "rule": "null-volume" }).await,
        payload_total - payload_with_volume
    );
    assert_eq!(count(&db, "trends", doc! {}).await, payload_total, "clean --from mongo leaves the raw store intact");

    let pg = fresh_postgres(&pg_admin).await;
    let loaded = tokio::task::block_in_place(|| {
        run("etl-to-sql", &[], &[("DATABASE_URL", pg.as_str())], cleaned.stdout.as_bytes(), dir.path())
    });
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg).await.unwrap();
    let observations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM trend_observations").fetch_one(&mut conn).await.unwrap();
    assert_eq!(observations as u64, payload_with_volume);
    let places: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT code, name FROM places ORDER BY code").fetch_all(&mut conn).await.unwrap();
    assert_eq!(places, [("1".into(), None), ("23424768".into(), Some("Brazil".into())), ("455827".into(), None)]);
    let bbb: (i64, i32) = sqlx::query_as(
        "SELECT o.volume, o.rank FROM trend_observations o JOIN trends t ON t.id = o.trend_id \
         JOIN places p ON p.id = o.place_id WHERE t.key = 'bbb26' AND p.code = '23424768'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let brazil_payload: Value = serde_json::from_slice(&read_fixture("x-v2/trends-by-woeid-23424768.json")).unwrap();
    assert_eq!(bbb.0, brazil_payload["data"][0]["tweet_count"].as_i64().unwrap());
    assert_eq!(bbb.1, 1);
    sqlx::Connection::close(conn).await.unwrap();

    // The report's top-10 is the ten highest counts of the payloads, across places.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for place in PLACES {
        let v: Value = serde_json::from_slice(&read_fixture(&format!("x-v2/trends-by-woeid-{place}.json"))).unwrap();
        for d in v["data"].as_array().unwrap() {
            if let Some(c) = d["tweet_count"].as_i64() {
                let e = expected.entry(d["trend_name"].as_str().unwrap().to_owned()).or_insert(c);
                *e = (*e).max(c);
            }
        }
    }
    let mut expected: Vec<(String, i64)> = expected.into_iter().collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    expected.truncate(10);
    let report = tokio::task::block_in_place(|| {
        run("report", &["--format", "json"], &[("DATABASE_URL", pg.as_str())], b"", dir.path())
    });
    assert_eq!(report.code, Some(0), "{}", report.stderr);
    assert_eq!(report_top(&report), expected);

    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn saved_files_into_mongodb_twice_are_stored_once() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("trendpipe");
    let files = v1_file_args();
    let mut args: Vec<&str> = vec!["--source", "x-v1", "--to", "mongo"];
    args.extend(files.iter().map(String::as_str));
    let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let first = run("fetch-trends", &args, &env, b"", dir.path());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let second = run("fetch-trends", &args, &env, b"", dir.path());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.stderr.contains("0 inserted, 720 already stored"), "{}", second.stderr);

    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let db = client.database(&database);
    assert_eq!(count(&db, "trends", doc! {}).await, 720, "12 files × 3 places × 20 trends, once");
    assert_eq!(count(&db, "runs", doc! { "stage": "fetch-trends" }).await, 2);
    client.shutdown().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn saved_files_through_pipes_into_sqlite_and_postgres_agree() {
    let pg_admin = postgres_url();
    let dir = tempfile::tempdir().unwrap();
    let files = v1_file_args();
    let mut args: Vec<&str> = vec!["--source", "x-v1"];
    args.extend(files.iter().map(String::as_str));
    let raw = run("fetch-trends", &args, &[], b"", dir.path());
    assert_eq!(raw.code, Some(0), "{}", raw.stderr);
    let cleaned = run("clean", &[], &[], raw.stdout.as_bytes(), dir.path());
    assert_eq!(cleaned.code, Some(0), "{}", cleaned.stderr);

    let sqlite = format!("sqlite:{}", dir.path().join("t.db").display());
    let mut targets = vec![sqlite];
    targets.push(fresh_postgres(&pg_admin).await);
    let (since, until) = ("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z");
    let expected = expected_top(since, until, 10);
    assert_eq!(expected.len(), 10);
    for db in &targets {
        for _ in 0..2 {
            let loaded = run("etl-to-sql", &[], &[("DATABASE_URL", db)], cleaned.stdout.as_bytes(), dir.path());
            assert_eq!(loaded.code, Some(0), "{db}: {}", loaded.stderr);
        }
        let report = run(
            "report",
            &["--format", "json", "--since", since, "--until", until],
            &[("DATABASE_URL", db)],
            b"",
            dir.path(),
        );
        assert_eq!(report.code, Some(0), "{db}: {}", report.stderr);
        assert_eq!(report_top(&report), expected, "{db}");
        let table = run("report", &["--since", since, "--until", until], &[("DATABASE_URL", db)], b"", dir.path());
        assert!(table.stdout.starts_with("Top 10 trends, 2026-11-21 00:00 → 2026-11-22 00:00 UTC"), "{}", table.stdout);
        assert!(table.stdout.contains(&expected[0].0), "{}", table.stdout);
    }
}
