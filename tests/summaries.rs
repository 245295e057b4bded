//! Exact run summaries (issue 18): every figure a stage prints is what the database
//! says it did, checked here against `SELECT count(*)` after the run, against the
//! `--summary json` line and against the `runs` row or document of the run ledger.
//! SQLite and PostgreSQL for `etl-to-sql`, MongoDB for `clean` and `--from mongo`.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mongodb::bson::{Document, doc};
use serde_json::{Value, json};
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{fresh_postgres, mongo_uri, postgres_url, run, unique};

/// SQL targets of a test: SQLite and PostgreSQL.
async fn targets(dir: &std::path::Path) -> Vec<String> {
    vec![format!("sqlite:{}", dir.join(format!("{}.db", unique("s"))).display()), fresh_postgres(&postgres_url()).await]
}

async fn scalar(url: &str, q: &str) -> i64 {
    let sql = Sql::open(url).await.unwrap();
    let n = match &sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(q).fetch_one(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_scalar(q).fetch_one(pool).await.unwrap(),
    };
    sql.close().await;
    n
}

/// The `runs` row of a run: its counts and watermarks, as JSON.
async fn runs_row(url: &str, run_id: &str) -> Value {
    let sql = Sql::open(url).await.unwrap();
    const Q: &str = "SELECT counts, watermark_before, watermark_after, status FROM runs WHERE run_id = $1";
    let (counts, before, after, status): (String, Option<String>, Option<String>, String) = match &sql {
        Sql::Sqlite(pool) => sqlx::query_as(Q).bind(run_id).fetch_one(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_as(Q).bind(run_id).fetch_one(pool).await.unwrap(),
    };
    sql.close().await;
    json!({"counts": serde_json::from_str::<Value>(&counts).unwrap(), "watermark_before": before,
           "watermark_after": after, "status": status})
}

/// The counts of the MongoDB `runs` document of the run whose ledger entry is `entry`.
async fn mongo_run_counts(db: &mongodb::Database, entry: &Value) -> Value {
    let run_id = entry["run_id"].as_str().unwrap();
    let stored = db.collection::<Document>("runs").find_one(doc! {"run_id": run_id}).await.unwrap().unwrap();
    serde_json::to_value(stored.get_document("counts").unwrap()).unwrap()
}

/// The `--summary json` line: the last line of stderr.
fn summary_json(stderr: &str) -> Value {
    let last = stderr.lines().last().unwrap_or_else(|| panic!("no stderr"));
    serde_json::from_str(last).unwrap_or_else(|e| panic!("the last stderr line is not JSON ({e}): {stderr}"))
}

fn trend(place: &str, name: &str, volume: i64, at: &str) -> Value {
    json!({"kind":"trend","source":"x","place":{"id":place,"name":format!("Place {place}")},"name":name,
           "volume":volume,"rank":1,"observed_at":at})
}

fn post(id: &str, author: &str, likes: i64, at: &str) -> Value {
    json!({"kind":"post","source":"mastodon","id":id,"text":format!("post {id}"),"lang":"en",
           "created_at":"2026-11-21T23:00:00Z","author":{"id":author,"handle":format!("h{author}"),"followers":10},
           "metrics":{"reposts":0,"likes":likes,"replies":0,"quotes":0},"trend":"t0","observed_at":at})
}

fn ndjson(values: &[Value]) -> Vec<u8> {
    values.iter().map(|v| format!("{v}\n")).collect::<String>().into_bytes()
}

/// Observations of `trends` trends in two places at `times` snapshot times (hours).
fn observations(trends: usize, times: std::ops::Range<u32>) -> Vec<Value> {
    let mut out = Vec::new();
    for hour in times {
        for place in ["1", "2"] {
            for t in 0..trends {
                out.push(trend(place, &format!("T{t}"), 100 + t as i64, &format!("2026-11-22T{hour:02}:00:00Z")));
            }
        }
    }
    out
}

/// The figures of one table in the summary line, e.g. `observations 3 new, 0 updated, 1 unchanged`.
fn line_figures(stderr: &str, table: &str) -> (u64, u64, u64) {
    let start = stderr.find(&format!("; {table} ")).unwrap_or_else(|| panic!("no {table} figures in {stderr}"));
    let words: Vec<&str> = stderr[start + table.len() + 3..].split_whitespace().take(6).collect();
    let n = |i: usize| words[i].trim_end_matches([',', ';']).parse::<u64>().unwrap();
    assert_eq!((words[1], words[3], words[5].trim_end_matches(';')), ("new,", "updated,", "unchanged"), "{stderr}");
    (n(0), n(2), n(4))
}

/// Checks that the summary line, the `--summary json` line and the `runs` row agree,
/// and returns the counts.
async fn agreed_counts(url: &str, out: &trendpipe_pipeline_tests::Run) -> Value {
    let entry = summary_json(&out.stderr);
    let counts = entry["counts"].clone();
    for table in ["observations", "trends", "places", "posts", "authors"] {
        let (new, updated, unchanged) = line_figures(&out.stderr, table);
        assert_eq!(counts[table]["new"], new, "{table}: {}", out.stderr);
        assert_eq!(counts[table]["updated"], updated, "{table}: {}", out.stderr);
        assert_eq!(counts[table]["unchanged"], unchanged, "{table}: {}", out.stderr);
    }
    let row = runs_row(url, entry["run_id"].as_str().unwrap()).await;
    assert_eq!(row["counts"], counts, "the runs row holds the same counts as the summary line");
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn first_load_rerun_and_partial_rerun_say_exactly_what_the_database_did() {
    let dir = tempfile::tempdir().unwrap();
    // 3 trends x 2 places x 4 times = 24 observations; with --batch-size 3 each
    // place's observations are split over many batches, and every batch touches a
    // place and trends that earlier batches loaded.
    let mut first = observations(3, 0..4);
    // Line 4 repeats line 3: the same observation either side of a batch boundary.
    first.insert(3, first[2].clone());
    // Posts: p1 seen again later with more likes (an update), by three authors.
    first.extend([
        post("p1", "a1", 1, "2026-11-22T01:00:00Z"),
        post("p2", "a2", 2, "2026-11-22T01:00:00Z"),
        post("p3", "a1", 3, "2026-11-22T01:00:00Z"),
        post("p4", "a3", 4, "2026-11-22T01:00:00Z"),
        post("p1", "a1", 9, "2026-11-22T02:00:00Z"),
    ]);
    for url in targets(dir.path()).await {
        let env = [("DATABASE_URL", url.as_str())];
        let args = ["--batch-size", "3", "--summary", "json"];
        let out = run("etl-to-sql", &args, &env, &ndjson(&first), dir.path());
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        let counts = agreed_counts(&url, &out).await;
        let stored = scalar(&url, "SELECT count(*) FROM trend_observations").await;
        assert_eq!(stored, 24, "{url}");
        assert_eq!(counts["observations"], json!({"new": 24, "updated": 0, "unchanged": 1}), "{url}");
        assert!(out.stderr.contains("observations 24 new, 0 updated, 1 unchanged"), "{}", out.stderr);
        assert_eq!(counts["read"], 30, "{url}");
        // Distinct across the run, however many batches touched them.
        assert_eq!(counts["trends"]["touched"], scalar(&url, "SELECT count(*) FROM trends").await, "{url}");
        assert_eq!(counts["trends"]["new"], 3, "{url}");
        assert_eq!(counts["places"]["touched"], scalar(&url, "SELECT count(*) FROM places").await, "{url}");
        assert_eq!(counts["places"]["new"], 2, "{url}");
        assert!(out.stderr.contains("touched 3 trends in 2 places, 4 posts by 3 authors"), "{}", out.stderr);
        assert_eq!(counts["posts"]["new"], scalar(&url, "SELECT count(*) FROM posts").await, "{url}");
        assert_eq!(counts["posts"]["new"], 4, "{url}");
        // p1 again, an hour later and with more likes: its row is rewritten once.
        assert_eq!(counts["posts"]["updated"], 1, "{url}");
        assert_eq!(scalar(&url, "SELECT likes FROM posts WHERE post_id = 'p1'").await, 9, "{url}");
        assert_eq!(counts["authors"]["new"], scalar(&url, "SELECT count(*) FROM authors").await, "{url}");
        assert_eq!(counts["authors"]["touched"], 3, "{url}");

        // The same input again: nothing new, everything unchanged, nothing rewritten.
        let out = run("etl-to-sql", &args, &env, &ndjson(&first), dir.path());
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        let counts = agreed_counts(&url, &out).await;
        assert!(out.stderr.contains("observations 0 new, 0 updated, 25 unchanged"), "{}", out.stderr);
        for table in ["trends", "places", "posts", "authors"] {
            assert_eq!(counts[table]["new"], 0, "{url} {table}");
        }
        assert_eq!(scalar(&url, "SELECT count(*) FROM trend_observations").await, 24, "{url}");

        // Half old, half new (two more snapshot times), one old observation with a
        // corrected volume.
        let mut partial = observations(3, 2..6);
        partial[0]["volume"] = json!(555);
        let out = run("etl-to-sql", &args, &env, &ndjson(&partial), dir.path());
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        let counts = agreed_counts(&url, &out).await;
        assert_eq!(counts["observations"], json!({"new": 12, "updated": 1, "unchanged": 11}), "{url}");
        assert_eq!(scalar(&url, "SELECT count(*) FROM trend_observations").await, 24 + 12, "{url}");
        assert_eq!(counts["trends"]["new"], 0, "{url}");
        assert_eq!(counts["trends"]["touched"], 3, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn a_large_batch_of_posts_merged_in_two_halves_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    // 1,500 posts in one batch: PostgreSQL merges them as two halves side by side.
    let posts: Vec<Value> =
        (0..1500).map(|i| post(&format!("p{i}"), &format!("a{}", i % 40), i, "2026-11-22T01:00:00Z")).collect();
    for url in targets(dir.path()).await {
        let env = [("DATABASE_URL", url.as_str())];
        let args = ["--summary", "json"];
        let out = run("etl-to-sql", &args, &env, &ndjson(&posts), dir.path());
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        let counts = agreed_counts(&url, &out).await;
        assert_eq!(counts["posts"], json!({"new": 1500, "updated": 0, "unchanged": 0, "touched": 1500}), "{url}");
        assert_eq!(counts["authors"], json!({"new": 40, "updated": 0, "unchanged": 0, "touched": 40}), "{url}");
        assert_eq!(scalar(&url, "SELECT count(*) FROM posts").await, 1500, "{url}");
        let out = run("etl-to-sql", &args, &env, &ndjson(&posts), dir.path());
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        let counts = agreed_counts(&url, &out).await;
        assert_eq!(counts["posts"], json!({"new": 0, "updated": 0, "unchanged": 1500, "touched": 1500}), "{url}");
        assert_eq!(counts["authors"], json!({"new": 0, "updated": 0, "unchanged": 40, "touched": 40}), "{url}");
        assert!(out.stderr.contains("posts 0 new, 0 updated, 1500 unchanged"), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn a_mongo_rerun_that_reads_the_last_second_again_reports_it_unchanged() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("summaries");
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let coll = client.database(&database).collection::<Document>("trends");
    let ingested = mongodb::bson::DateTime::parse_rfc3339_str("2026-11-22T03:00:00Z").unwrap();
    let docs: Vec<Document> = observations(4, 0..2)
        .iter()
        .map(|v| {
            let mut d = mongodb::bson::to_document(v).unwrap();
            let at = mongodb::bson::DateTime::parse_rfc3339_str(v["observed_at"].as_str().unwrap()).unwrap();
            d.insert("observed_at", at);
            d.insert("key", v["name"].as_str().unwrap().to_lowercase());
            d.insert("ingested_at", ingested);
            d
        })
        .collect();
    coll.insert_many(docs).await.unwrap();
    for url in targets(dir.path()).await {
        let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str()), ("DATABASE_URL", &url)];
        let args = ["--from", "mongo", "--batch-size", "5", "--summary", "json"];
        let first = run("etl-to-sql", &args, &env, b"", dir.path());
        assert_eq!(first.code, Some(0), "{url}: {}", first.stderr);
        let counts = agreed_counts(&url, &first).await;
        assert_eq!(counts["observations"], json!({"new": 16, "updated": 0, "unchanged": 0}), "{url}");
        let row = runs_row(&url, summary_json(&first.stderr)["run_id"].as_str().unwrap()).await;
        assert_eq!(row["watermark_before"], Value::Null, "{url}");
        assert!(row["watermark_after"].as_str().unwrap().starts_with("2026-11-22T03:00:00"), "{url}: {row}");

        // The watermark's second is read again: all 16 records, all already loaded.
        let second = run("etl-to-sql", &args, &env, b"", dir.path());
        assert_eq!(second.code, Some(0), "{url}: {}", second.stderr);
        let counts = agreed_counts(&url, &second).await;
        assert_eq!(counts["read"], 16, "{url}");
        assert_eq!(counts["observations"], json!({"new": 0, "updated": 0, "unchanged": 16}), "{url}");
        assert!(second.stderr.contains("observations 0 new, 0 updated, 16 unchanged"), "{}", second.stderr);
        let row = runs_row(&url, summary_json(&second.stderr)["run_id"].as_str().unwrap()).await;
        assert_eq!(row["watermark_before"], row["watermark_after"], "{url}: {row}");
        assert!(row["watermark_before"].as_str().unwrap().starts_with("2026-11-22T03:00:00"), "{url}: {row}");
        assert_eq!(scalar(&url, "SELECT count(*) FROM trend_observations").await, 16, "{url}");
    }
    client.database(&database).drop().await.unwrap();
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn clean_in_place_counts_what_was_stored_kept_and_removed() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("summaries_clean");
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let coll = client.database(&database).collection::<Document>("trends");
    // 20 clean trends, 6 stored twice (no unique index yet), 4 with a null volume,
    // 3 whose key is not normalised: 33 documents.
    let mut docs = Vec::new();
    let at = mongodb::bson::DateTime::parse_rfc3339_str("2026-11-22T01:00:00Z").unwrap();
    let make = |i: usize, volume: Option<i64>, key: String| {
        let mut d = doc! {"kind":"trend","source":"x","place":{"id":"1"},"name":format!("T{i}"),"key":key,
        "rank":1_i64,"observed_at":at};
        d.insert("volume", volume.map_or(mongodb::bson::Bson::Null, mongodb::bson::Bson::Int64));
        d
    };
    for i in 0..20 {
        docs.push(make(i, Some(10 + i as i64), format!("t{i}")));
    }
    for i in 0..6 {
        docs.push(make(i, Some(10 + i as i64), format!("t{i}")));
    }
    for i in 20..24 {
        docs.push(make(i, None, format!("t{i}")));
    }
    for i in 24..27 {
        docs.push(make(i, Some(5), format!("T{i}")));
    }
    coll.insert_many(docs).await.unwrap();
    let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let out = run("clean", &["--from", "mongo", "--to", "mongo", "--summary", "json"], &env, b"", dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let left = coll.count_documents(doc! {}).await.unwrap();
    assert_eq!(left, 23, "{}", out.stderr);
    assert!(
        out.stderr.contains("trends: examined 33, kept 23, removed 10 (6 duplicate, 4 null-volume), rewritten 3"),
        "{}",
        out.stderr
    );
    let entry = summary_json(&out.stderr);
    let trends = &entry["counts"]["trends"];
    assert_eq!(trends["examined"], 33);
    assert_eq!(trends["kept"], left);
    assert_eq!(trends["removed"], 10);
    assert_eq!(trends["rewritten"], 3);
    let quarantined =
        client.database(&database).collection::<Document>("quarantine").count_documents(doc! {}).await.unwrap();
    assert_eq!(trends["removed"], quarantined, "every removed document is in the quarantine");
    let stored_counts = mongo_run_counts(&client.database(&database), &entry).await;
    assert_eq!(stored_counts["trends"]["kept"].as_i64(), Some(23), "{stored_counts}");
    assert_eq!(stored_counts["trends"]["removed"].as_i64(), Some(10), "{stored_counts}");
    client.database(&database).drop().await.unwrap();
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn fetch_trends_to_mongo_counts_inserted_and_already_stored_from_the_write_results() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("summaries_fetch");
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let trends = client.database(&database).collection::<Document>("trends");
    let file = trendpipe_pipeline_tests::fixture("x-v1/trends-place-20261120T0000.json");
    let env = [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str())];
    let args = ["--source", "x-v1", "--file", file.to_str().unwrap(), "--to", "mongo", "--summary", "json"];
    let first = run("fetch-trends", &args, &env, b"", dir.path());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let stored = trends.count_documents(doc! {}).await.unwrap();
    assert!(stored > 0);
    let counts = &summary_json(&first.stderr)["counts"];
    assert_eq!(counts["inserted"], stored, "{}", first.stderr);
    assert_eq!(counts["duplicates"], 0, "{}", first.stderr);
    assert!(first.stderr.contains(&format!("{stored} inserted, 0 already stored")), "{}", first.stderr);

    let second = run("fetch-trends", &args, &env, b"", dir.path());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(trends.count_documents(doc! {}).await.unwrap(), stored);
    let entry = summary_json(&second.stderr);
    assert_eq!(entry["counts"]["inserted"], 0, "{}", second.stderr);
    assert_eq!(entry["counts"]["duplicates"], stored, "{}", second.stderr);
    assert!(second.stderr.contains(&format!("0 inserted, {stored} already stored")), "{}", second.stderr);
    let stored_counts = mongo_run_counts(&client.database(&database), &entry).await;
    assert_eq!(stored_counts["duplicates"].as_u64(), Some(stored), "{stored_counts}");
    client.database(&database).drop().await.unwrap();
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn sentiment_counts_the_scores_the_database_inserted() {
    let dir = tempfile::tempdir().unwrap();
    let posts: Vec<Value> = (0..30).map(|i| post(&format!("p{i}"), "a1", i, "2026-11-22T01:00:00Z")).collect();
    for url in targets(dir.path()).await {
        let env = [("DATABASE_URL", url.as_str())];
        let load = run("etl-to-sql", &[], &env, &ndjson(&posts), dir.path());
        assert_eq!(load.code, Some(0), "{url}: {}", load.stderr);
        let args = ["--db", "--summary", "json"];
        let first = run("sentiment", &args, &env, b"", dir.path());
        assert_eq!(first.code, Some(0), "{url}: {}", first.stderr);
        let scored = scalar(&url, "SELECT count(*) FROM post_sentiment").await;
        assert_eq!(scored, 30, "{url}");
        let entry = summary_json(&first.stderr);
        assert_eq!(entry["counts"]["scored"], scored, "{url}: {}", first.stderr);
        assert_eq!(runs_row(&url, entry["run_id"].as_str().unwrap()).await["counts"], entry["counts"], "{url}");
        // Nothing left to score: 0, whatever the posts table holds.
        let second = run("sentiment", &args, &env, b"", dir.path());
        assert_eq!(second.code, Some(0), "{url}: {}", second.stderr);
        assert_eq!(summary_json(&second.stderr)["counts"]["scored"], 0, "{url}: {}", second.stderr);
        assert!(second.stderr.contains("scored 0 posts"), "{}", second.stderr);
    }
}
