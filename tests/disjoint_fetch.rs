//! Fetchers run side by side on disjoint partitions (issue 17, "Faults", last point):
//! two `fetch-trends --to mongo` runs on disjoint places, and two `fetch-posts --to
//! mongo` runs on disjoint Mastodon instances, started together as two cron jobs
//! would, store exactly what one run over all of them stores. Documents are compared
//! without what differs by nature between runs: `_id`, `ingested_at`, `run_id`,
//! `observed_at` (the fetch time) and a checkpoint's `updated_at`.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use trendpipe_pipeline_tests::faulty::spawn_within;
use trendpipe_pipeline_tests::{Run, mongo_uri, read_fixture, unique};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const X_TOKEN: &str = "x-disjoint-bearer-SECRET0123456789";
/// Only a guard against a hang.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn docs(db: &mongodb::Database, coll: &str, drop: &[&str]) -> Vec<Value> {
    let found: Vec<mongodb::bson::Document> =
        db.collection(coll).find(mongodb::bson::doc! {}).await.unwrap().try_collect().await.unwrap();
    let mut values: Vec<Value> = found
        .into_iter()
        .map(|d| {
            let mut v = trendpipe_core::mongo::to_json(d);
            for f in drop {
                v.as_object_mut().unwrap().remove(*f);
            }
            v
        })
        .collect();
    values.sort_by_key(|v| v.to_string());
    values
}

fn args(list: &[&str], database: &str) -> Vec<String> {
    let mut a: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    a.extend(["--to", "mongo", "--mongo-database", database].map(String::from));
    a
}

fn env() -> Vec<(String, String)> {
    vec![("MONGODB_URI".into(), mongo_uri()), ("X_BEARER_TOKEN".into(), X_TOKEN.into())]
}

/// Two runs started together, as two cron jobs would; both must succeed.
async fn side_by_side(tool: &'static str, a: Vec<String>, b: Vec<String>, stdin: Vec<u8>) {
    let (one, two): (Run, Run) = tokio::join!(
        spawn_within(tool, a, env(), stdin.clone(), HANG_GUARD),
        spawn_within(tool, b, env(), stdin.clone(), HANG_GUARD)
    );
    for run in [one, two] {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn fetch_trends_on_disjoint_places_side_by_side_stores_what_one_run_over_all_places_stores() {
    let server = MockServer::start().await;
    for woeid in ["1", "23424768", "455827"] {
        Mock::given(method("GET"))
            .and(path(format!("/2/trends/by/woeid/{woeid}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(read_fixture(&format!("x-v2/trends-by-woeid-{woeid}.json")), "application/json"),
            )
            .mount(&server)
            .await;
    }
    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let (split, whole) = (unique("disjoint_split"), unique("disjoint_whole"));
    let base = ["--source", "x", "--base-url", &server.uri()];
    let a = args(&[&base[..], &["--place", "1=Worldwide", "--place", "455827"]].concat(), &split);
    let b = args(&[&base[..], &["--place", "23424768=Brazil"]].concat(), &split);
    side_by_side("fetch-trends", a, b, Vec::new()).await;
    let all = args(
        &[&base[..], &["--place", "1=Worldwide", "--place", "23424768=Brazil", "--place", "455827"]].concat(),
        &whole,
    );
    let run = spawn_within("fetch-trends", all, env(), Vec::new(), HANG_GUARD).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let varying = ["_id", "ingested_at", "run_id", "observed_at"];
    let (split_db, whole_db) = (client.database(&split), client.database(&whole));
    let (by_two, by_one) = (docs(&split_db, "trends", &varying).await, docs(&whole_db, "trends", &varying).await);
    assert_eq!(by_two.len(), 60, "three places of 20 trends");
    assert_eq!(by_two, by_one);
    // Each place is one snapshot, whichever run took it.
    for place in ["1", "23424768", "455827"] {
        let times: std::collections::HashSet<Value> = docs(&split_db, "trends", &["_id", "ingested_at"])
            .await
            .into_iter()
            .filter(|t| t["place"]["id"] == place)
            .map(|t| json!([t["observed_at"], t["run_id"]]))
            .collect();
        assert_eq!(times.len(), 1, "place {place}: {times:?}");
    }
    // The runs documents of the two add up to the one.
    let inserted = |runs: Vec<Value>| runs.iter().map(|r| r["counts"]["inserted"].as_i64().unwrap()).sum::<i64>();
    assert_eq!(inserted(docs(&split_db, "runs", &[]).await), 60);
    assert_eq!(inserted(docs(&whole_db, "runs", &[]).await), 60);
    split_db.drop().await.unwrap();
    whole_db.drop().await.unwrap();
    client.shutdown().await;
}

async fn mastodon_instance(page: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/BBB26"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(read_fixture(page), "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn fetch_posts_on_disjoint_instances_side_by_side_stores_what_one_run_over_both_stores() {
    // Two instances whose timelines share no post, so no run order can change a document.
    let home = mastodon_instance("posts-mastodon/timeline-tag-bbb26-page1.json").await;
    let other = mastodon_instance("posts-mastodon/timeline-tag-bbb26-page2.json").await;
    let trend = json!({"kind":"trend","source":"x","place":{"id":"23424768"},"name":"#BBB26","volume":1000,
                       "rank":1,"observed_at":"2026-11-22T00:00:00Z"});
    let stdin = format!("{trend}\n").into_bytes();
    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let (split, whole) = (unique("disjoint_posts_split"), unique("disjoint_posts_whole"));
    let base = ["--source", "mastodon"];
    let a = args(&[&base[..], &["--instance", &home.uri()]].concat(), &split);
    let b = args(&[&base[..], &["--instance", &other.uri()]].concat(), &split);
    side_by_side("fetch-posts", a, b, stdin.clone()).await;
    let all = args(&[&base[..], &["--instance", &home.uri(), "--instance", &other.uri()]].concat(), &whole);
    let run = spawn_within("fetch-posts", all, env(), stdin, HANG_GUARD).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let (split_db, whole_db) = (client.database(&split), client.database(&whole));
    let varying = ["_id", "ingested_at", "observed_at"];
    let (by_two, by_one) = (docs(&split_db, "posts", &varying).await, docs(&whole_db, "posts", &varying).await);
    assert!(by_two.len() >= 4, "both instances' posts: {by_two:?}");
    assert_eq!(by_two, by_one);
    let (state_two, state_one) =
        (docs(&split_db, "fetch_state", &["updated_at"]).await, docs(&whole_db, "fetch_state", &["updated_at"]).await);
    assert_eq!(state_two.len(), 2, "one finished checkpoint per instance: {state_two:?}");
    assert!(state_two.iter().all(|s| s["done"] == true));
    assert_eq!(state_two, state_one);
    split_db.drop().await.unwrap();
    whole_db.drop().await.unwrap();
    client.shutdown().await;
}
