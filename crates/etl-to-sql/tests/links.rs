//! The links between posts (`repost_of`, `conversation_id`) and the follower count
//! each post's author had (`author_followers`) loaded by `etl-to-sql`
//! into SQLite and PostgreSQL, through the binary and through each load path, the
//! latest observation of a post winning as for its other columns.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::{Value, json};
use trendpipe_core::sql::Sql;
use trendpipe_etl_to_sql::batch::{Batch, TimedPost};
use trendpipe_etl_to_sql::load::{Loader, load_generic};

mod support;
use support::fresh_postgres;

/// A repost of post `1`, in the thread of `c1`, as seen at `at`, with the links
/// given (`None`: the field is left out of the record); its author's follower count
/// moves with the observation (ten times the likes).
fn repost(id: &str, at: &str, repost_of: Option<&str>, conversation: Option<&str>, likes: i64) -> Value {
    let mut post = json!({"kind":"post","source":"x","id":id,"text":"RT @a: hello","lang":"en",
        "created_at":"2026-11-22T00:00:00Z","author":{"id":"u1","handle":"a","followers":likes * 10},
        "metrics":{"reposts":1,"likes":likes,"replies":0,"quotes":0},"parent_id":null,"quote_of":null,
        "trend":"bbb26","observed_at":at});
    if let Some(r) = repost_of {
        post["repost_of"] = json!(r);
    }
    if let Some(c) = conversation {
        post["conversation_id"] = json!(c);
    }
    post
}

fn ndjson(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

/// The first load: an original and a repost of it, then the repost seen again within
/// the batch, older, with other links (which lose).
fn first_load() -> String {
    ndjson(&[
        repost("1", "2026-11-22T01:00:00Z", None, Some("1"), 5),
        repost("2", "2026-11-22T01:00:00Z", Some("1"), Some("1"), 5),
        repost("2", "2026-11-22T00:30:00Z", Some("old"), Some("old"), 4),
    ])
}

/// A later observation of the repost, with other links (they win), and an older one
/// of the original with links (they lose).
fn second_load() -> String {
    ndjson(&[
        repost("2", "2026-11-22T03:00:00Z", Some("1b"), Some("c2"), 9),
        repost("1", "2026-11-22T00:10:00Z", Some("x"), Some("x"), 1),
    ])
}

/// `post_id|repost_of|conversation_id|likes|author_followers` of every post, in post order.
async fn links(url: &str) -> Vec<String> {
    const Q: &str = "SELECT post_id || '|' || COALESCE(repost_of, '-') || '|' || COALESCE(conversation_id, '-') \
                     || '|' || CAST(likes AS TEXT) || '|' || CAST(author_followers AS TEXT) FROM posts ORDER BY post_id";
    let sql = Sql::open(url).await.unwrap();
    let rows = match &sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(Q).fetch_all(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_scalar(Q).fetch_all(pool).await.unwrap(),
    };
    sql.close().await;
    rows
}

fn etl(dir: &std::path::Path, db: &str, input: String) {
    let (code, stderr) = support::etl(dir, db, input);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("2 posts by 1 authors"), "{stderr}");
}

const EXPECTED_AFTER_FIRST: [&str; 2] = ["1|-|1|5|50", "2|1|1|5|50"];
const EXPECTED_AFTER_SECOND: [&str; 2] = ["1|-|1|5|50", "2|1b|c2|9|90"];

/// Loads both inputs with the binary, checking the rows after each.
async fn loads_links_and_keeps_the_latest(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    etl(dir.path(), db, first_load());
    assert_eq!(links(db).await, EXPECTED_AFTER_FIRST);
    etl(dir.path(), db, second_load());
    assert_eq!(links(db).await, EXPECTED_AFTER_SECOND);
    // Loading the first input again changes nothing: its observations are older.
    etl(dir.path(), db, first_load());
    assert_eq!(links(db).await, EXPECTED_AFTER_SECOND);
}

fn batch_of(ndjson: &str) -> Batch {
    let mut batch = Batch::default();
    for line in ndjson.lines() {
        let post: trendpipe_core::record::Post = serde_json::from_str(line).unwrap();
        let at = post.observed_at.unwrap();
        batch.posts.push(TimedPost { post, at });
    }
    batch
}

/// Loads both inputs through the database's own path (`Loader`) into `fast` and the
/// generic sqlx statements into `generic`: the same links end up in both.
async fn both_paths_store_the_same_links(fast: &str, generic: &str) {
    let (a, b) = (Sql::connect(fast).await.unwrap(), Sql::connect(generic).await.unwrap());
    {
        let mut loader = Loader::new(&a).unwrap();
        for input in [first_load(), second_load()] {
            let batch = batch_of(&input);
            loader.load(&batch).await.unwrap();
            load_generic(&b, &batch).await.unwrap();
        }
    }
    a.close().await;
    b.close().await;
    assert_eq!(links(fast).await, EXPECTED_AFTER_SECOND);
    assert_eq!(links(generic).await, EXPECTED_AFTER_SECOND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_links_of_the_latest_observation_of_each_post() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("links.db").display());
    loads_links_and_keeps_the_latest(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_prepared_path_and_the_generic_statements_store_the_same_links() {
    let dir = tempfile::tempdir().unwrap();
    let fast = format!("sqlite:{}", dir.path().join("fast.db").display());
    let generic = format!("sqlite:{}", dir.path().join("generic.db").display());
    both_paths_store_the_same_links(&fast, &generic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn postgres_keeps_the_links_of_the_latest_observation_of_each_post() {
    loads_links_and_keeps_the_latest(&fresh_postgres("links").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn the_postgres_copy_path_and_the_generic_statements_store_the_same_links() {
    both_paths_store_the_same_links(&fresh_postgres("links").await, &fresh_postgres("links").await).await;
}

/// Stores the records of `input` in MongoDB's `posts` as ingested at `at`.
async fn store(mongo: &trendpipe_core::mongo::Mongo, input: &str, at: chrono::DateTime<chrono::Utc>) {
    let docs: Vec<_> = input
        .lines()
        .map(|line| {
            let mut doc = trendpipe_core::mongo::to_document(&serde_json::from_str(line).unwrap()).unwrap();
            trendpipe_core::mongo::stamp_ingested(&mut doc, at);
            doc
        })
        .collect();
    mongo.collection(trendpipe_core::mongo::POSTS).insert_many(docs).await.unwrap();
}

fn etl_from_mongo(dir: &std::path::Path, db: &str, uri: &str, database: &str) {
    let out = Command::cargo_bin("etl-to-sql")
        .unwrap()
        .current_dir(dir)
        .env("HOME", dir)
        .env("DATABASE_URL", db)
        .env("MONGODB_URI", uri)
        .env("MONGODB_DATABASE", database)
        .env_remove("TRENDPIPE_CONFIG")
        .args(["--from", "mongo"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 posts by 1 authors"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn an_incremental_load_from_mongo_keeps_the_links_of_the_latest_observation() {
    let uri = std::env::var("TRENDPIPE_TEST_MONGODB_URI")
        .expect("TRENDPIPE_TEST_MONGODB_URI must name the test MongoDB server (scripts/test.sh sets it)");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let database = format!("links_{}_{nanos}", std::process::id());
    let mongo = trendpipe_core::mongo::Mongo::connect(&uri, Some(&database), "links-test").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("links.db").display());
    let now = chrono::Utc::now();
    store(&mongo, &first_load(), now - chrono::Duration::seconds(10)).await;
    etl_from_mongo(dir.path(), &db, &uri, &database);
    assert_eq!(links(&db).await, EXPECTED_AFTER_FIRST);
    // Only what came in since the watermark is read again.
    store(&mongo, &second_load(), now).await;
    etl_from_mongo(dir.path(), &db, &uri, &database);
    assert_eq!(links(&db).await, EXPECTED_AFTER_SECOND);
    mongo.database().drop().await.unwrap();
    mongo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn a_post_document_collected_under_two_trends_is_linked_to_both() {
    let uri = std::env::var("TRENDPIPE_TEST_MONGODB_URI")
        .expect("TRENDPIPE_TEST_MONGODB_URI must name the test MongoDB server (scripts/test.sh sets it)");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let database = format!("trends_{}_{nanos}", std::process::id());
    let mongo = trendpipe_core::mongo::Mongo::connect(&uri, Some(&database), "links-test").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("two.db").display());
    // As fetch-posts stores them: one document per post, the latest trend in `trend`
    // and every trend it was collected for in `trends`.
    let docs = [
        r#"{"kind":"post","source":"x","id":"1","text":"a","author":{"id":"7"},"metrics":{"likes":1},"observed_at":"2026-11-22T01:00:00Z","trend":"neymar","trends":["bbb26","neymar"]}"#,
        r#"{"kind":"post","source":"x","id":"2","text":"b","author":{"id":"7"},"metrics":{"likes":2},"observed_at":"2026-11-22T01:00:00Z","trend":"bbb26","trends":["bbb26"]}"#,
    ]
    .join("\n");
    store(&mongo, &docs, chrono::Utc::now()).await;
    etl_from_mongo(dir.path(), &db, &uri, &database);
    let sql = Sql::open(&db).await.unwrap();
    let Sql::Sqlite(pool) = &sql else { unreachable!() };
    let got: Vec<String> = sqlx::query_scalar(
        "SELECT p.post_id || '|' || l.trend_key FROM post_trends l JOIN posts p ON p.id = l.post ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    sql.close().await;
    assert_eq!(got, ["1|bbb26", "1|neymar", "2|bbb26"]);
    mongo.database().drop().await.unwrap();
    mongo.shutdown().await;
}
