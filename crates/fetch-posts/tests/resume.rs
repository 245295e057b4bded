//! Resuming: a paging stopped by a rate limit longer than `--max-wait`, or killed in
//! the middle, continues from its checkpoint on the next run (`--state FILE` on stdout,
//! MongoDB's `fetch_state` with `--to mongo`), with no post lost and none stored twice;
//! MongoDB upserts posts by (source, id).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use mongodb::bson::{Document, doc};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEARCH: &str = "/2/tweets/search/recent";
const NEXT: &str = "b26v89c19zqg8o3fosbv3mgsqmbmlhmy3b2ds4zj8idp";

fn x_args(server: &MockServer, extra: &[&str]) -> Vec<String> {
    let mut a = strings(&["--source", "x", "--base-url", &server.uri(), "--backoff-ms", "10"]);
    a.extend(strings(extra));
    a
}

async fn first_page(server: &MockServer, query: &str, calls: u64) {
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", query))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("posts-x/search-recent-bbb26-page1.json")))
        .expect(calls)
        .mount(server)
        .await;
}

async fn second_page(server: &MockServer, body: String, delay: Duration) {
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("next_token", NEXT))
        .respond_with(ResponseTemplate::new(200).set_body_string(body).set_delay(delay))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_longer_than_max_wait_stops_the_trend_and_the_rerun_resumes_from_the_state_file() {
    let server = MockServer::start().await;
    first_page(&server, "#BBB26", 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("next_token", NEXT))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600").set_body_string(
            r#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped"}"#,
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    second_page(&server, fixture("posts-x/search-recent-bbb26-page2.json"), Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let args = x_args(&server, &["--state", "state.json", "--max-wait", "5"]);

    let first = run_in(dir.path(), args.clone(), trends(&["#BBB26"]), x_env()).await;
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    assert!(first.stderr.contains("error: x trend bbb26 page 2: "), "{}", first.stderr);
    assert!(first.stderr.contains("more than --max-wait 5s"), "{}", first.stderr);
    assert_eq!(first.records.len(), 7, "page 1 is written: {:?}", first.ids());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    let point = &state["x||bbb26|2026-11-22T00:00:00Z"];
    assert_eq!(
        (point["cursor"].as_str(), point["pages"].as_u64(), point["done"].as_bool()),
        (Some(NEXT), Some(1), Some(false))
    );

    let second = run_in(dir.path(), args.clone(), trends(&["#BBB26"]), x_env()).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.stderr.contains("x trend bbb26: resuming after page 1 (5 posts)"), "{}", second.stderr);
    let mut ids = first.ids();
    ids.extend(second.ids());
    ids.sort();
    ids.dedup();
    // Every post of both pages; the original page 2 references again is the only repeat.
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert_eq!(second.records.len(), 3);

    // The window is done: the next run with the same snapshot asks nothing.
    let before = server.received_requests().await.unwrap().len();
    let third = run_in(dir.path(), args, trends(&["#BBB26"]), x_env()).await;
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert!(third.records.is_empty());
    assert!(third.stderr.contains("already collected in this window"), "{}", third.stderr);
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

/// The test MongoDB (panics when the variable is missing: the test must not pass by
/// skipping) and a database of its own.
async fn mongo() -> (mongodb::Client, String, String) {
    let uri = std::env::var("TRENDPIPE_TEST_MONGODB_URI")
        .expect("TRENDPIPE_TEST_MONGODB_URI must point at a MongoDB server (run the test through scripts/test.sh)");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    (client, uri, format!("fetch_posts_test_{}_{nanos}", std::process::id()))
}

fn mongo_env(uri: &str, db: &str) -> Vec<(String, String)> {
    let mut env = x_env();
    env.push(("MONGODB_URI".into(), uri.into()));
    env.push(("MONGODB_DATABASE".into(), db.into()));
    env
}

async fn posts(client: &mongodb::Client, db: &str) -> Vec<Document> {
    use futures_util::TryStreamExt;
    let cursor = client.database(db).collection::<Document>("posts").find(doc! {}).await.unwrap();
    cursor.try_collect().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn mongo_upserts_posts_by_source_and_id_and_links_every_trend() {
    let (client, uri, db) = mongo().await;
    let server = MockServer::start().await;
    first_page(&server, "#BBB26", 1).await;
    second_page(&server, fixture("posts-x/search-recent-bbb26-page2.json"), Duration::ZERO).await;
    // Neymar's search finds one of the same posts later, with more likes.
    let later = fixture("posts-x/search-recent-bbb26-page2.json").replace("\"like_count\": 15,", "\"like_count\": 99,");
    assert_ne!(later, fixture("posts-x/search-recent-bbb26-page2.json"));
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "Neymar"))
        .respond_with(ResponseTemplate::new(200).set_body_string(later))
        .mount(&server)
        .await;
    let args = x_args(&server, &["--to", "mongo"]);
    let first = run(args.clone(), trends(&["#BBB26"]), mongo_env(&uri, &db)).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(first.records.is_empty(), "nothing on stdout with --to mongo");
    assert!(first.stderr.contains("MongoDB posts: 9 new, 0 updated"), "{}", first.stderr);
    let second = run(args, trends(&["Neymar"]), mongo_env(&uri, &db)).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let docs = posts(&client, &db).await;
    assert_eq!(docs.len(), 9, "one document per (source, id)");
    let shared = docs.iter().find(|d| d.get_str("id").unwrap() == "1862000000000000106").unwrap();
    let likes = shared.get_document("metrics").unwrap().get("likes").unwrap().clone();
    assert_eq!(likes.as_i64().or(likes.as_i32().map(i64::from)), Some(99), "{likes}");
    assert_eq!(shared.get_str("trend").unwrap(), "neymar");
    let trends: Vec<&str> = shared.get_array("trends").unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(trends, ["bbb26", "neymar"]);
    assert!(shared.get_datetime("ingested_at").is_ok() && shared.get_datetime("observed_at").is_ok(), "{shared}");
    let only_bbb = docs.iter().find(|d| d.get_str("id").unwrap() == "1862000000000000101").unwrap();
    assert_eq!(only_bbb.get_array("trends").unwrap().len(), 1);
    let runs = client
        .database(&db)
        .collection::<Document>("runs")
        .count_documents(doc! {"stage": "fetch-posts"})
        .await
        .unwrap();
    assert_eq!(runs, 2);
    client.database(&db).drop().await.unwrap();
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn killed_in_the_middle_of_paging_resumes_without_losing_or_doubling_posts() {
    let (client, uri, db) = mongo().await;
    let server = MockServer::start().await;
    first_page(&server, "#BBB26", 1).await;
    // Page 2 hangs: the run is killed while waiting for it.
    second_page(&server, fixture("posts-x/search-recent-bbb26-page2.json"), Duration::from_secs(60)).await;
    let dir = tempfile::tempdir().unwrap();
    let args = x_args(&server, &["--to", "mongo", "--timeout", "120"]);
    let env = mongo_env(&uri, &db);
    let state = client.database(&db).collection::<Document>("fetch_state");
    let mut child = {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        command(dir.path(), &args, &env)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(trends(&["#BBB26"]).as_bytes()).unwrap();
    }
    let mut checkpointed = false;
    for _ in 0..300 {
        if state.count_documents(doc! {"pages": 1_i64}).await.unwrap() == 1 {
            checkpointed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(checkpointed, "page 1 was never checkpointed");
    child.kill().unwrap(); // SIGKILL: no cleanup runs.
    child.wait().unwrap();
    assert_eq!(posts(&client, &db).await.len(), 7, "page 1 and its originals are stored before its checkpoint");

    server.reset().await;
    first_page(&server, "#BBB26", 0).await;
    second_page(&server, fixture("posts-x/search-recent-bbb26-page2.json"), Duration::ZERO).await;
    let rerun = run_in(dir.path(), args, trends(&["#BBB26"]), env).await;
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert!(rerun.stderr.contains("resuming after page 1"), "{}", rerun.stderr);
    let docs = posts(&client, &db).await;
    let mut ids: Vec<&str> = docs.iter().map(|d| d.get_str("id").unwrap()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!((n, ids.len()), (9, 9), "every post once: {ids:?}");
    let done = state.find_one(doc! {}).await.unwrap().unwrap();
    assert!(done.get_bool("done").unwrap());
    client.database(&db).drop().await.unwrap();
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn trends_of_the_latest_snapshots_come_from_mongodb() {
    let (client, uri, db) = mongo().await;
    let at = |t: &str| mongodb::bson::DateTime::parse_rfc3339_str(t).unwrap();
    let trend = |name: &str, rank: i32, t: &str| {
        doc! {"kind": "trend", "source": "x", "place": {"id": "23424768", "name": "Brazil"}, "name": name,
        "key": name.trim_start_matches('#').to_lowercase(), "volume": 1000, "rank": rank, "observed_at": at(t),
        "ingested_at": at(t)}
    };
    // Before --since; within it but not the latest snapshot; the latest snapshot.
    let docs = [
        trend("Velho", 1, "2026-11-21T21:00:00Z"),
        trend("Antigo", 1, "2026-11-21T22:30:00Z"),
        trend("#BBB26", 1, "2026-11-21T23:50:00Z"),
        trend("Neymar", 2, "2026-11-21T23:50:00Z"),
    ];
    client.database(&db).collection::<Document>("trends").insert_many(docs).await.unwrap();
    let server = MockServer::start().await;
    first_page(&server, "#BBB26", 1).await;
    let args = x_args(&server, &["--from", "mongo", "--since", "2026-11-21T22:00:00Z", "--top", "1", "--limit", "5"]);
    let run = run(args, String::new(), mongo_env(&uri, &db)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.records.len(), 7, "{:?}", run.ids());
    assert!(run.records.iter().all(|r| r["trend"] == "bbb26"));
    assert!(run.stderr.contains("1 trends asked"), "{}", run.stderr);
    client.database(&db).drop().await.unwrap();
    client.shutdown().await;
}
