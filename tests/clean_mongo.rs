//! `clean --from mongo --to mongo` against the real server (issue 4): the rules applied
//! in place on `trends` and `posts`, every removed document in the quarantine first,
//! a crash between quarantine and delete losing nothing, and re-runs changing nothing.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use serde_json::{Value, json};
use trendpipe_core::mongo::{to_document, to_json};
use trendpipe_pipeline_tests::{mongo_uri, run, unique};

async fn all(db: &mongodb::Database, coll: &str) -> Vec<Document> {
    db.collection::<Document>(coll).find(doc! {}).sort(doc! { "_id": 1 }).await.unwrap().try_collect().await.unwrap()
}

async fn insert(db: &mongodb::Database, coll: &str, records: &[Value]) -> Vec<Bson> {
    let docs: Vec<Document> = records.iter().map(|r| to_document(r).unwrap()).collect();
    let result = db.collection::<Document>(coll).insert_many(docs).await.unwrap();
    (0..records.len()).map(|i| result.inserted_ids[&i].clone()).collect()
}

/// The records of a collection as NDJSON values, in insertion order.
async fn records(db: &mongodb::Database, coll: &str) -> Vec<Value> {
    all(db, coll).await.into_iter().map(to_json).collect()
}

fn trend(place: &str, name: &str, key: Option<&str>, volume: Value, at: &str) -> Value {
    let mut t = json!({"kind":"trend","source":"x","place":{"id":place},"name":name,"volume":volume,
                       "rank":1,"observed_at":at,"url":"http://twitter.com/search?q=x"});
    if let Some(k) = key {
        t["key"] = json!(k);
    }
    t
}

fn count(n: Option<&Bson>) -> Option<i64> {
    n.and_then(|b| b.as_i64().or_else(|| b.as_i32().map(i64::from)))
}

const AT: &str = "2026-11-22T01:30:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn in_place_cleans_trends_and_posts_and_a_rerun_changes_nothing() {
    let uri = mongo_uri();
    let database = unique("clean_inplace");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let db = client.database(&database);
    // Stored before the unique indexes existed, so duplicates are there to find.
    let trends = [
        trend("23424768", "#BBB26", Some("bbb26"), json!(125000), AT), // 0 kept, global
        trend("1", "#BBB26", Some("bbb26"), json!(125000), AT),        // 1 kept, global
        trend("23424768", "Neymar", Some("neymar"), Value::Null, AT),  // 2 null volume
        trend("23424768", " Copa do Brasil ", None, json!("48,857"), "2026-11-21T22:30:00-03:00"), // 3 normalised
        trend("23424768", "#BBB26", Some("bbb26"), json!(126000), AT), // 4 duplicate of 0
        trend("1", "Flamengo", Some("flamengo"), json!("many"), AT),   // 5 invalid
        trend("23424768", "BBB26", Some("BBB26"), json!(1), AT),       // 6 old key: once normalised, a duplicate of 0
    ];
    let trend_ids = insert(&db, "trends", &trends).await;
    let post = |likes: Value, at: &str, text: Value| {
        json!({"kind":"post","source":"mastodon","id":"1134","text":text,"created_at":"2026-11-22T00:55:00Z",
               "author":{"id":"9","handle":"ana","followers":"1,234"},
               "metrics":{"reposts":1,"likes":likes,"replies":0,"quotes":0},"observed_at":at,"emojis":[]})
    };
    let mut invalid_post = post(json!(0), AT, json!(5));
    invalid_post["id"] = json!("1135");
    let mut clean_post = post(json!(2), AT, json!("fine"));
    clean_post["id"] = json!("1136");
    clean_post["author"]["followers"] = json!(3);
    let posts = [
        post(json!("10"), "2026-11-22T01:00:00Z", json!("a &amp; b")), // 0 older copy
        post(json!(12), AT, json!("a &amp; b")),                       // 1 freshest: kept, decoded
        invalid_post,                                                  // 2 invalid
        clean_post.clone(),                                            // 3 already clean
    ];
    let post_ids = insert(&db, "posts", &posts).await;

    let dir = tempfile::tempdir().unwrap();
    let env = [("MONGODB_URI", uri.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let args = ["--from", "mongo", "--to", "mongo"];
    let first = tokio::task::block_in_place(|| run("clean", &args, &env, b"", dir.path()));
    assert_eq!(first.code, Some(1), "invalid records were quarantined: {}", first.stderr);
    assert!(first.stdout.is_empty(), "{}", first.stdout);
    assert!(
        first.stderr.contains(
            "trends: examined 7, kept 3, removed 4 (2 duplicate, 1 null-volume, 1 schema), rewritten 1, flagged 2 global-volume"
        ),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains(
            "posts: examined 4, kept 2, removed 2 (1 duplicate, 1 schema), rewritten 1, flagged 0 global-volume"
        ),
        "{}",
        first.stderr
    );

    let mut expected_trends = vec![trends[0].clone(), trends[1].clone(), trends[3].clone()];
    expected_trends[0]["volume_scope"] = json!("global");
    expected_trends[1]["volume_scope"] = json!("global");
    expected_trends[2] = json!({"kind":"trend","source":"x","place":{"id":"23424768"},"name":"Copa do Brasil",
        "volume":48857,"rank":1,"observed_at":AT,"url":"http://twitter.com/search?q=x","key":"copa do brasil"});
    assert_eq!(records(&db, "trends").await, expected_trends, "provider fields stay in the raw store");
    let mut kept_post = posts[1].clone();
    kept_post["text"] = json!("a & b");
    kept_post["author"]["followers"] = json!(1234);
    assert_eq!(records(&db, "posts").await, [kept_post, clean_post]);

    // Everything removed is in the quarantine, whole, with _id, rule and reason.
    let quarantine = all(&db, "quarantine").await;
    let mut got: Vec<(String, String, Bson)> = quarantine
        .iter()
        .map(|q| {
            assert_eq!(q.get("doc_id"), q.get_document("record").unwrap().get("_id"));
            assert_eq!(q.get_str("stage").unwrap(), "clean");
            assert!(!q.get_str("reason").unwrap().is_empty());
            (
                q.get_str("collection").unwrap().to_owned(),
                q.get_str("rule").unwrap().to_owned(),
                q.get("doc_id").unwrap().clone(),
            )
        })
        .collect();
    got.sort_by_key(|(c, r, id)| (c.clone(), r.clone(), id.to_string()));
    let want = vec![
        ("posts".to_owned(), "duplicate".to_owned(), post_ids[0].clone()),
        ("posts".to_owned(), "schema".to_owned(), post_ids[2].clone()),
        ("trends".to_owned(), "duplicate".to_owned(), trend_ids[4].clone()),
        ("trends".to_owned(), "duplicate".to_owned(), trend_ids[6].clone()),
        ("trends".to_owned(), "null-volume".to_owned(), trend_ids[2].clone()),
        ("trends".to_owned(), "schema".to_owned(), trend_ids[5].clone()),
    ];
    let mut want = want;
    want.sort_by_key(|(c, r, id)| (c.clone(), r.clone(), id.to_string()));
    assert_eq!(got, want);
    let flamengo = quarantine.iter().find(|q| q.get("doc_id") == Some(&trend_ids[5])).unwrap();
    assert_eq!(flamengo.get_str("reason").unwrap(), "volume: expected a number, found \"many\"");
    let mut original = flamengo.get_document("record").unwrap().clone();
    original.remove("_id");
    assert_eq!(to_json(original), trends[5], "the whole original document");
    // Duplicates are quarantined as stored, before normalisation.
    let older = quarantine.iter().find(|q| q.get("doc_id") == Some(&post_ids[0])).unwrap();
    let mut original = older.get_document("record").unwrap().clone();
    original.remove("_id");
    assert_eq!(to_json(original), posts[0]);
    let old_key = quarantine.iter().find(|q| q.get("doc_id") == Some(&trend_ids[6])).unwrap();
    assert_eq!(old_key.get_document("record").unwrap().get_str("key").unwrap(), "BBB26");

    let runs = all(&db, "runs").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].get_str("mode").unwrap(), "in-place");
    // The run ledger's word for exit 1: some records went to the quarantine.
    assert_eq!(runs[0].get_str("status").unwrap(), "partial");
    assert_eq!(runs[0].get_i32("exit_code").map(i64::from).or_else(|_| runs[0].get_i64("exit_code")).unwrap(), 1);
    let tc = runs[0].get_document("counts").unwrap().get_document("trends").unwrap();
    assert_eq!(count(tc.get("examined")), Some(7));
    assert_eq!(count(tc.get("kept")), Some(3));
    assert_eq!(count(tc.get("removed")), Some(4));
    assert_eq!(count(tc.get("rewritten")), Some(1));
    assert_eq!(count(tc.get("flagged")), Some(2));
    assert_eq!(count(tc.get_document("removed_by_rule").unwrap().get("duplicate")), Some(2));

    // Again on clean data: nothing selected, nothing changed, exit 0.
    let before = (all(&db, "trends").await, all(&db, "posts").await, all(&db, "quarantine").await);
    let second = tokio::task::block_in_place(|| run("clean", &args, &env, b"", dir.path()));
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second.stderr.contains("trends: examined 3, kept 3, removed 0, rewritten 0, flagged 0 global-volume"),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("posts: examined 2, kept 2, removed 0, rewritten 0"), "{}", second.stderr);
    let after = (all(&db, "trends").await, all(&db, "posts").await, all(&db, "quarantine").await);
    assert_eq!(after, before);
    assert_eq!(all(&db, "runs").await.len(), 2);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn a_crash_between_quarantine_and_delete_loses_nothing_and_a_rerun_converges() {
    let uri = mongo_uri();
    let database = unique("clean_crash");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let db = client.database(&database);
    let trends = [
        trend("1", "Keep", Some("keep"), json!(5), AT),
        trend("1", "Empty", Some("empty"), Value::Null, AT),
        trend("1", "Bad", Some("bad"), json!(-4), AT),
    ];
    let ids = insert(&db, "trends", &trends).await;
    let original = all(&db, "trends").await;

    let dir = tempfile::tempdir().unwrap();
    let env = [("MONGODB_URI", uri.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let crash_env = [env[0], env[1], ("TRENDPIPE_CLEAN_FAIL_AFTER_QUARANTINE", "1")];
    let args = ["--from", "mongo", "--to", "mongo"];
    let crashed = tokio::task::block_in_place(|| run("clean", &args, &crash_env, b"", dir.path()));
    assert_eq!(crashed.code, Some(2), "{}", crashed.stderr);
    assert!(crashed.stderr.contains("stopping between quarantine and delete"), "{}", crashed.stderr);
    // Quarantined, and the originals still there, untouched.
    let quarantined: Vec<Bson> =
        all(&db, "quarantine").await.iter().map(|q| q.get("doc_id").unwrap().clone()).collect();
    assert_eq!(quarantined, [ids[1].clone(), ids[2].clone()]);
    assert_eq!(all(&db, "trends").await, original);

    // The rerun deletes them without quarantining them twice.
    let rerun = tokio::task::block_in_place(|| run("clean", &args, &env, b"", dir.path()));
    assert_eq!(rerun.code, Some(1), "{}", rerun.stderr);
    assert!(
        rerun.stderr.contains("trends: examined 3, kept 1, removed 2 (1 null-volume, 1 schema), rewritten 0"),
        "{}",
        rerun.stderr
    );
    assert_eq!(all(&db, "quarantine").await.len(), 2);
    assert_eq!(records(&db, "trends").await, [trends[0].clone()]);

    let third = tokio::task::block_in_place(|| run("clean", &args, &env, b"", dir.path()));
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_eq!(all(&db, "quarantine").await.len(), 2);
    assert_eq!(records(&db, "trends").await, [trends[0].clone()]);
    client.shutdown().await;
}
