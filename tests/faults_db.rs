//! Database faults (issue 17): MongoDB out of reach at start and stopped in the middle
//! of the Mongo stages; PostgreSQL stopped in the middle of the SQL stages; a SQLite
//! file on a full disk or made read-only. Each run that meets the fault exits 2 naming
//! the server (password masked) or the file, and a rerun once the fault is gone ends
//! with exactly what an uninterrupted run into a fresh database holds: the same counts
//! and the same content, compared row by row on natural keys.
//!
//! The tests start and stop their own servers (`support::servers`), never the shared
//! ones. The data of the SQL stages comes from the generators in `faults_data`. Last,
//! "past one machine": every unique index the MongoDB stages create starts with the
//! shard key `docs/ARCHITECTURE.md` gives for its collection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod faults_data;

use std::path::Path;
use std::time::Duration;

use faults_data::{mongo_docs, pg_dump, post_lines, sqlite_dump, trend_lines, until};
use mongodb::bson::{Document, doc};
use trendpipe_pipeline_tests::servers::{OwnMongo, OwnPostgres, PASSWORD, Spawned, free_port};
use trendpipe_pipeline_tests::{Run, fixture, fresh_postgres, read_fixture, run};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "faults-test-token-0123456789";

/// Asserts a failed run: exit 2, the server (or file) named, no password shown.
fn assert_named_failure(run: &Run, named: &str) {
    assert_eq!(run.code, Some(2), "exit 2 expected:\n{}", run.stderr);
    assert!(run.stderr.contains(named), "the error names {named}:\n{}", run.stderr);
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD), "password shown:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn mongo_env<'a>(uri: &'a str, db: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("MONGODB_URI", uri), ("MONGODB_DATABASE", db), ("X_BEARER_TOKEN", TOKEN)]
}

// Needs no server: nothing listens on the port it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_out_of_reach_at_start_is_named_with_the_password_masked_by_every_mongo_stage() {
    let port = free_port();
    let uri = format!("mongodb://trendpipe:{PASSWORD}@127.0.0.1:{port}/");
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("x-v1").join("trends-place-20261120T0000.json");
    let file = file.display().to_string();
    let trend = trend_lines(1, 1);
    let stages: Vec<(&str, Vec<&str>, Vec<u8>)> = vec![
        ("fetch-trends", vec!["--source", "x-v1", "--file", &file, "--to", "mongo"], Vec::new()),
        ("fetch-posts", vec!["--source", "x", "--base-url", "http://127.0.0.1:9", "--to", "mongo"], trend),
        ("clean", vec!["--from", "mongo", "--to", "mongo"], Vec::new()),
        ("etl-to-sql", vec!["--from", "mongo", "--db", "sqlite:out.db"], Vec::new()),
    ];
    let env = mongo_env(&uri, "trendpipe");
    let runs: Vec<(&str, Run)> = std::thread::scope(|s| {
        let handles: Vec<_> = stages
            .iter()
            .map(|(name, args, stdin)| {
                let env = &env;
                let dir = dir.path();
                (*name, s.spawn(move || run(name, args, env, stdin, dir)))
            })
            .collect();
        handles.into_iter().map(|(n, h)| (n, h.join().unwrap())).collect()
    });
    for (name, run) in runs {
        assert_named_failure(&run, &format!("127.0.0.1:{port}"));
        assert!(
            run.stderr.contains("cannot reach MongoDB at mongodb://trendpipe:***@127.0.0.1"),
            "{name}:\n{}",
            run.stderr
        );
    }
}

/// Runs `stage`, stops MongoDB once `ready` holds, checks the run fails naming the
/// server, and starts the server again on the same data.
async fn stop_mongo_midway<F, Fut>(
    mongo: &mut OwnMongo,
    stage: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[u8],
    dir: &Path,
    ready: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut child = Spawned::start(stage, args, env, stdin.to_vec(), dir);
    until(&mut child, ready).await;
    mongo.stop();
    let faulted = child.finish();
    assert_named_failure(&faulted, &mongo.address());
    mongo.restart();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test virtualenv (nx-27017): run by scripts/test.sh"]
async fn mongodb_stopped_during_fetch_trends_fails_naming_it_and_the_rerun_stores_whole_snapshots() {
    let mut mongo = OwnMongo::start();
    let places = ["23424768", "455827", "1"];
    let server = MockServer::start().await;
    for (i, place) in places.iter().enumerate() {
        // The first place answers at once, the others late: the server is stopped
        // after the first snapshot is stored and before the second.
        let delay = Duration::from_millis(if i == 0 { 0 } else { 2500 });
        Mock::given(method("GET"))
            .and(path(format!("/2/trends/by/woeid/{place}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(read_fixture(&format!("x-v2/trends-by-woeid-{place}.json")), "application/json")
                    .set_delay(delay),
            )
            .mount(&server)
            .await;
    }
    let per_place: Vec<usize> = places
        .iter()
        .map(|p| {
            let v: serde_json::Value =
                serde_json::from_slice(&read_fixture(&format!("x-v2/trends-by-woeid-{p}.json"))).unwrap();
            v["data"].as_array().unwrap().len()
        })
        .collect();
    let base = server.uri();
    let mut args = vec!["--source", "x", "--base-url", &base, "--to", "mongo"];
    for p in &places {
        args.extend(["--place", p]);
    }
    let dir = tempfile::tempdir().unwrap();
    let uri = mongo.uri();
    let env = mongo_env(&uri, "faulted");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let trends = client.database("faulted").collection::<Document>("trends");

    let first = per_place[0] as u64;
    stop_mongo_midway(&mut mongo, "fetch-trends", &args, &env, &[], dir.path(), || async {
        trends.count_documents(doc! {}).await.unwrap_or(0) >= first
    })
    .await;
    let rerun = tokio::task::block_in_place(|| run("fetch-trends", &args, &env, b"", dir.path()));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let reference =
        tokio::task::block_in_place(|| run("fetch-trends", &args, &mongo_env(&uri, "reference"), b"", dir.path()));
    assert_eq!(reference.code, Some(0), "{}", reference.stderr);

    // Every snapshot stored is whole: the faulted run's first place, then the rerun's three.
    let stored = mongo_docs(&client.database("faulted"), "trends", &["_id", "ingested_at", "run_id"]).await;
    let expected = mongo_docs(&client.database("reference"), "trends", &["_id", "ingested_at", "run_id"]).await;
    assert_eq!(stored.len(), expected.len() + per_place[0], "the reference plus the first place's snapshot");
    let mut snapshots = std::collections::BTreeMap::<(String, String), usize>::new();
    for line in &stored {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = (v["place"]["id"].as_str().unwrap().to_owned(), v["observed_at"].to_string());
        *snapshots.entry(key).or_default() += 1;
    }
    for ((place, at), n) in &snapshots {
        let i = places.iter().position(|p| p == place).unwrap();
        assert_eq!(*n, per_place[i], "snapshot of {place} at {at} is whole");
    }
    // The latest snapshots hold what the uninterrupted run stored.
    let without_time = |lines: &[String], latest: bool| -> Vec<String> {
        let mut values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        if latest {
            let last = |p: &str| {
                let times = values.iter().filter(|v| v["place"]["id"] == p).map(|v| v["observed_at"].clone());
                times.max_by_key(|t| t.to_string()).unwrap()
            };
            let cut: Vec<(String, serde_json::Value)> = places.iter().map(|p| (p.to_string(), last(p))).collect();
            values.retain(|v| cut.iter().any(|(p, t)| v["place"]["id"] == p.as_str() && v["observed_at"] == *t));
        }
        let mut out: Vec<String> = values
            .into_iter()
            .map(|mut v| {
                v.as_object_mut().unwrap().remove("observed_at");
                v.to_string()
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(without_time(&stored, true), without_time(&expected, false));
    client.shutdown().await;
}

const SEARCH: &str = "/2/tweets/search/recent";
const NEXT: &str = "b26v89c19zqg8o3fosbv3mgsqmbmlhmy3b2ds4zj8idp";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test virtualenv (nx-27017): run by scripts/test.sh"]
async fn mongodb_stopped_during_fetch_posts_fails_naming_it_and_the_rerun_resumes_to_the_same_posts() {
    let mut mongo = OwnMongo::start();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_is_missing("next_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(read_fixture("posts-x/search-recent-bbb26-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("next_token", NEXT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(read_fixture("posts-x/search-recent-bbb26-page2.json"), "application/json")
                .set_delay(Duration::from_millis(2500)),
        )
        .mount(&server)
        .await;
    let base = server.uri();
    let args = ["--source", "x", "--base-url", &base, "--to", "mongo", "--backoff-ms", "10"];
    let stdin = br##"{"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},"name":"#BBB26","key":"bbb26","volume":1000,"rank":1,"observed_at":"2026-11-22T00:00:00Z"}
"##;
    let dir = tempfile::tempdir().unwrap();
    let uri = mongo.uri();
    let env = mongo_env(&uri, "faulted");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let state = client.database("faulted").collection::<Document>("fetch_state");

    stop_mongo_midway(&mut mongo, "fetch-posts", &args, &env, stdin, dir.path(), || async {
        state.count_documents(doc! {}).await.unwrap_or(0) >= 1
    })
    .await;
    let rerun = tokio::task::block_in_place(|| run("fetch-posts", &args, &env, stdin, dir.path()));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert!(rerun.stderr.contains("resuming after page 1"), "{}", rerun.stderr);
    let reference =
        tokio::task::block_in_place(|| run("fetch-posts", &args, &mongo_env(&uri, "reference"), stdin, dir.path()));
    assert_eq!(reference.code, Some(0), "{}", reference.stderr);
    // `observed_at` is when a post was last seen: the rerun sees it again.
    let strip = ["_id", "ingested_at", "run_id", "observed_at"];
    let stored = mongo_docs(&client.database("faulted"), "posts", &strip).await;
    let expected = mongo_docs(&client.database("reference"), "posts", &strip).await;
    assert_eq!(stored.len(), 9, "{stored:#?}");
    assert_eq!(stored, expected);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test virtualenv (nx-27017): run by scripts/test.sh"]
async fn mongodb_stopped_during_clean_in_place_fails_naming_it_and_the_rerun_cleans_to_the_same_documents() {
    let mut mongo = OwnMongo::start();
    let uri = mongo.uri();
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    // The same dirty documents, with the same _ids, in both databases.
    let seed = faults_data::dirty_trend_docs(3000);
    for db in ["faulted", "reference"] {
        client.database(db).collection::<Document>("trends").insert_many(seed.clone()).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let args = ["--from", "mongo", "--to", "mongo", "--batch-size", "50"];
    let env = mongo_env(&uri, "faulted");
    let quarantine = client.database("faulted").collection::<Document>("quarantine");

    stop_mongo_midway(&mut mongo, "clean", &args, &env, &[], dir.path(), || async {
        quarantine.count_documents(doc! {}).await.unwrap_or(0) >= 1
    })
    .await;
    let rerun = tokio::task::block_in_place(|| run("clean", &args, &env, b"", dir.path()));
    assert!(matches!(rerun.code, Some(0 | 1)), "{}", rerun.stderr);
    let reference = tokio::task::block_in_place(|| run("clean", &args, &mongo_env(&uri, "reference"), b"", dir.path()));
    assert!(matches!(reference.code, Some(0 | 1)), "{}", reference.stderr);
    for (coll, strip) in [("trends", &["ingested_at"][..]), ("quarantine", &["_id", "at", "run_id"][..])] {
        let stored = mongo_docs(&client.database("faulted"), coll, strip).await;
        let expected = mongo_docs(&client.database("reference"), coll, strip).await;
        assert!(!expected.is_empty(), "{coll}: the reference holds something");
        assert_eq!(stored.len(), expected.len(), "{coll}: counts");
        assert_eq!(stored, expected, "{coll}: content");
    }
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test virtualenv (nx-27017): run by scripts/test.sh"]
async fn mongodb_stopped_during_etl_to_sql_fails_naming_it_and_the_rerun_loads_the_same_rows() {
    let mut mongo = OwnMongo::start();
    let uri = mongo.uri();
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let (trends, posts) = faults_data::stored_records(4000, 1500);
    let db = client.database("faulted");
    db.collection::<Document>("trends").insert_many(trends).await.unwrap();
    db.collection::<Document>("posts").insert_many(posts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let faulted_db = format!("sqlite:{}", dir.path().join("faulted.db").display());
    let reference_db = format!("sqlite:{}", dir.path().join("reference.db").display());
    let args = |db: &str| ["--from", "mongo", "--batch-size", "100", "--db", db].map(str::to_owned);
    let env = mongo_env(&uri, "faulted");
    let file = dir.path().join("faulted.db");

    let a = args(&faulted_db);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    stop_mongo_midway(&mut mongo, "etl-to-sql", &a, &env, &[], dir.path(), || async {
        faults_data::sqlite_count(&file, "trend_observations").await > 0
    })
    .await;
    let rerun = tokio::task::block_in_place(|| run("etl-to-sql", &a, &env, b"", dir.path()));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let r = args(&reference_db);
    let r: Vec<&str> = r.iter().map(String::as_str).collect();
    let reference = tokio::task::block_in_place(|| run("etl-to-sql", &r, &env, b"", dir.path()));
    assert_eq!(reference.code, Some(0), "{}", reference.stderr);
    let stored = sqlite_dump(&file).await;
    let expected = sqlite_dump(&dir.path().join("reference.db")).await;
    assert_eq!(stored.get("trend_observations").map(Vec::len), Some(4000));
    faults_data::assert_same(&stored, &expected);
    client.shutdown().await;
}

/// PostgreSQL stopped while `stage` runs on a database prepared by `prepare`; the
/// rerun must leave the database as a reference run does.
async fn postgres_fault(stage: &str, args: &[&str], stdin: &[u8], prepare: &[u8], progress: Option<&'static str>) {
    let mut pg = OwnPostgres::start();
    let admin = pg.admin_url();
    let faulted = fresh_postgres(&admin).await;
    let reference = fresh_postgres(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    if !prepare.is_empty() {
        for url in [&faulted, &reference] {
            let loaded =
                tokio::task::block_in_place(|| run("etl-to-sql", &[], &[("DATABASE_URL", url)], prepare, dir.path()));
            assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);
        }
    }
    let env = [("DATABASE_URL", faulted.as_str())];
    let mut child = Spawned::start(stage, args, &env, stdin.to_vec(), dir.path());
    let watch = faulted.clone();
    let stage_name = stage.to_owned();
    until(&mut child, || faults_data::pg_running(watch.clone(), stage_name.clone(), progress)).await;
    pg.stop();
    let failed = child.finish();
    assert_named_failure(&failed, &pg.address());

    pg.restart();
    let rerun = tokio::task::block_in_place(|| run(stage, args, &env, stdin, dir.path()));
    assert!(matches!(rerun.code, Some(0 | 3)), "{}", rerun.stderr);
    let reference_env = [("DATABASE_URL", reference.as_str())];
    let uninterrupted = tokio::task::block_in_place(|| run(stage, args, &reference_env, stdin, dir.path()));
    assert_eq!(uninterrupted.code, rerun.code, "{}", uninterrupted.stderr);
    let stored = pg_dump(&faulted).await;
    let expected = pg_dump(&reference).await;
    assert!(stored.values().any(|rows| !rows.is_empty()));
    faults_data::assert_same(&stored, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL 15 binaries: run by scripts/test.sh"]
async fn postgres_stopped_during_etl_to_sql_fails_naming_it_and_the_rerun_loads_the_same_rows() {
    let mut input = trend_lines(20_000, 40);
    input.extend(post_lines(6000));
    postgres_fault(
        "etl-to-sql",
        &["--batch-size", "500"],
        &input,
        b"",
        Some("SELECT count(*) FROM trend_observations"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL 15 binaries: run by scripts/test.sh"]
async fn postgres_stopped_during_sentiment_fails_naming_it_and_the_rerun_scores_the_same() {
    postgres_fault("sentiment", &["--db"], b"", &post_lines(20_000), Some("SELECT count(*) FROM post_sentiment")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL 15 binaries: run by scripts/test.sh"]
async fn postgres_stopped_during_influencers_fails_naming_it_and_the_rerun_ranks_the_same() {
    postgres_fault("influencers", &["--from", "db", "--window", "24h"], b"", &post_lines(20_000), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL 15 binaries: run by scripts/test.sh"]
async fn postgres_stopped_during_alerts_fails_naming_it_and_the_rerun_raises_the_same() {
    postgres_fault("alerts", &["--from", "db", "--metric", "volume"], b"", &trend_lines(30_000, 30), None).await;
}

/// A folder on its own small filesystem, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn new(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount (the test needs root)");
        assert!(status.success(), "mounting a tmpfs needs root");
        Self(dir)
    }

    fn grow(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.0.path())
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (a small tmpfs): run by scripts/test.sh"]
async fn sqlite_on_a_full_disk_fails_naming_the_file_keeps_whole_batches_and_the_rerun_converges() {
    let disk = Tmpfs::new("1m");
    let dir = tempfile::tempdir().unwrap();
    let file = disk.path().join("trends.db");
    let url = format!("sqlite:{}", file.display());
    let input = trend_lines(20_000, 40);
    let args = ["--batch-size", "1000"];
    let env = [("DATABASE_URL", url.as_str())];
    let full = tokio::task::block_in_place(|| run("etl-to-sql", &args, &env, &input, dir.path()));
    assert_named_failure(&full, &file.display().to_string());
    let kept = faults_data::sqlite_count(&file, "trend_observations").await;
    assert_eq!(kept % 1000, 0, "only whole batches are kept ({kept} rows)");

    disk.grow("64m");
    let rerun = tokio::task::block_in_place(|| run("etl-to-sql", &args, &env, &input, dir.path()));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let reference = dir.path().join("reference.db");
    let reference_url = format!("sqlite:{}", reference.display());
    let loaded = tokio::task::block_in_place(|| {
        run("etl-to-sql", &args, &[("DATABASE_URL", &reference_url)], &input, dir.path())
    });
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);
    let stored = sqlite_dump(&file).await;
    assert_eq!(stored.get("trend_observations").map(Vec::len), Some(20_000));
    faults_data::assert_same(&stored, &sqlite_dump(&reference).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (a read-only bind mount): run by scripts/test.sh"]
async fn a_read_only_sqlite_file_fails_naming_it_changes_nothing_and_the_rerun_converges() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trends.db");
    let url = format!("sqlite:{}", file.display());
    let env = [("DATABASE_URL", url.as_str())];
    let input = trend_lines(2000, 10);
    // The first half of the lines, then the rest.
    let cut = input.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(999).unwrap().0 + 1;
    let (first, second_half) = input.split_at(cut);
    let loaded = tokio::task::block_in_place(|| run("etl-to-sql", &[], &env, first, dir.path()));
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);
    let before = sqlite_dump(&file).await;

    // The file alone read-only (root ignores file modes; a read-only bind mount does not).
    let mount = |args: &[&str]| {
        let status = std::process::Command::new("mount").args(args).arg(&file).arg(&file).status().unwrap();
        assert!(status.success(), "mount {args:?} needs root");
    };
    mount(&["--bind"]);
    let status = std::process::Command::new("mount").args(["-o", "remount,bind,ro"]).arg(&file).status().unwrap();
    assert!(status.success());
    let refused = tokio::task::block_in_place(|| run("etl-to-sql", &[], &env, second_half, dir.path()));
    let _ = std::process::Command::new("umount").arg(&file).status();
    assert_named_failure(&refused, &file.display().to_string());
    assert_eq!(sqlite_dump(&file).await, before, "nothing written");

    let rerun = tokio::task::block_in_place(|| run("etl-to-sql", &[], &env, second_half, dir.path()));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let reference = dir.path().join("reference.db");
    let reference_url = format!("sqlite:{}", reference.display());
    let all =
        tokio::task::block_in_place(|| run("etl-to-sql", &[], &[("DATABASE_URL", &reference_url)], &input, dir.path()));
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    faults_data::assert_same(&sqlite_dump(&file).await, &sqlite_dump(&reference).await);
}

/// The shard keys `docs/ARCHITECTURE.md` gives ("Past one machine"): its table rows
/// `` | `collection` | `{ field: 1, "a.b": 1 }` | … ``.
fn documented_shard_keys() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(trendpipe_pipeline_tests::repo_root().join("docs/ARCHITECTURE.md")).unwrap();
    let section =
        text.split("## Past one machine").nth(1).expect("docs/ARCHITECTURE.md has a section Past one machine");
    let section = section.split("\n## ").next().unwrap();
    let mut keys = Vec::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 3 || !cells[2].starts_with("`{") {
            continue;
        }
        let coll = cells[1].trim_matches('`').to_owned();
        let spec = cells[2].trim_matches('`').trim_start_matches('{').trim_end_matches('}');
        let fields =
            spec.split(',').map(|f| f.split(':').next().unwrap().trim().trim_matches('"').to_owned()).collect();
        keys.push((coll, fields));
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test virtualenv (nx-27017): run by scripts/test.sh"]
async fn every_unique_index_the_tools_create_starts_with_the_documented_shard_key() {
    let documented = documented_shard_keys();
    assert!(
        documented.iter().any(|(c, _)| c == "trends") && documented.iter().any(|(c, _)| c == "posts"),
        "{documented:?}"
    );
    let mongo = OwnMongo::start();
    let uri = mongo.uri();
    let env = mongo_env(&uri, "indexes");
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(read_fixture("posts-x/search-recent-bbb26-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    let file = fixture("x-v1").join("trends-place-20261120T0000.json").display().to_string();
    let base = server.uri();
    let trend = trend_lines(1, 1);
    let db = format!("sqlite:{}", dir.path().join("out.db").display());
    // Every stage that writes MongoDB, so that every index any of them creates exists.
    let stages: [(&str, Vec<&str>, &[u8]); 4] = [
        ("fetch-trends", vec!["--source", "x-v1", "--file", &file, "--to", "mongo"], b""),
        ("fetch-posts", vec!["--source", "x", "--base-url", &base, "--to", "mongo"], &trend),
        ("clean", vec!["--from", "mongo", "--to", "mongo"], b""),
        ("etl-to-sql", vec!["--from", "mongo", "--db", &db], b""),
    ];
    for (stage, args, stdin) in &stages {
        let ran = tokio::task::block_in_place(|| run(stage, args, &env, stdin, dir.path()));
        assert!(matches!(ran.code, Some(0 | 1)), "{stage}: {}", ran.stderr);
    }
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let database = client.database("indexes");
    let mut unique = Vec::new();
    for coll in database.list_collection_names().await.unwrap() {
        let mut cursor = database.collection::<Document>(&coll).list_indexes().await.unwrap();
        while let Some(index) = futures_util::TryStreamExt::try_next(&mut cursor).await.unwrap() {
            let options = index.options.as_ref();
            // `_id` is unique per shard by MongoDB's own rule, whatever the shard key.
            let is_id = options.and_then(|o| o.name.as_deref()) == Some("_id_");
            if !is_id && options.and_then(|o| o.unique) == Some(true) {
                unique.push((coll.clone(), index.keys.keys().cloned().collect::<Vec<String>>()));
            }
        }
    }
    let collections: Vec<&str> = unique.iter().map(|(c, _)| c.as_str()).collect();
    assert!(collections.contains(&"trends") && collections.contains(&"posts"), "unique indexes found: {unique:?}");
    for (coll, keys) in &unique {
        let (_, shard_key) = documented
            .iter()
            .find(|(c, _)| c == coll)
            .unwrap_or_else(|| panic!("{coll} has a unique index {keys:?} but no documented shard key"));
        assert!(
            keys.starts_with(shard_key),
            "{coll}: unique index {keys:?} does not start with the shard key {shard_key:?}"
        );
    }
    // The code's own list (used to filter clean's updates) is the documented one.
    for (coll, fields) in trendpipe_core::mongo::SHARD_KEYS {
        let (_, shard_key) = documented.iter().find(|(c, _)| c == coll).unwrap();
        assert_eq!(shard_key, &fields.to_vec(), "{coll}");
    }
    client.shutdown().await;
}
