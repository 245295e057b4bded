//! `etl-to-sql` against real MongoDB and PostgreSQL (and SQLite): posts with their
//! authors and trends, incremental loads from MongoDB by watermark, a load killed
//! with SIGKILL and rerun, and a constraint violation going to the quarantine.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc};
use serde_json::{Value, json};
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{bin, fixture, fresh_postgres, mongo_uri, postgres_url, run, text_rows, unique};

/// SQL targets of a test: SQLite and PostgreSQL.
async fn targets(dir: &std::path::Path) -> Vec<String> {
    let mut t = vec![format!("sqlite:{}", dir.join(format!("{}.db", unique("t"))).display())];
    t.push(fresh_postgres(&postgres_url()).await);
    t
}

/// Every loaded row in a canonical text form, for comparing databases.
async fn dump(url: &str) -> Vec<String> {
    let queries = [
        "SELECT p.code || '|' || t.source || '|' || t.key || '|' || CAST(o.observed_at AS TEXT) || '|' || \
         COALESCE(CAST(o.volume AS TEXT), '-') || '|' || COALESCE(CAST(o.rank AS TEXT), '-') \
         FROM trend_observations o JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id",
        "SELECT source || '|' || key || '|' || name || '|' || CAST(first_seen AS TEXT) || '|' || CAST(last_seen AS TEXT) FROM trends",
        "SELECT p.source || '|' || p.post_id || '|' || COALESCE(a.author_id, '-') || '|' || COALESCE(p.text, '-') || '|' || \
         COALESCE(CAST(p.likes AS TEXT), '-') || '|' || COALESCE(CAST(p.reposts AS TEXT), '-') || '|' || CAST(p.observed_at AS TEXT) \
         FROM posts p LEFT JOIN authors a ON a.id = p.author",
        "SELECT a.source || '|' || a.author_id || '|' || COALESCE(a.handle, '-') || '|' || COALESCE(CAST(a.followers AS TEXT), '-') FROM authors a",
        "SELECT p.post_id || '|' || l.trend_key FROM post_trends l JOIN posts p ON p.id = l.post",
        "SELECT p.post_id || '|' || s.model || '|' || s.label FROM post_sentiment s JOIN posts p ON p.id = s.post",
    ];
    text_rows(url, &queries).await
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

async fn try_scalar(url: &str, q: &str) -> Option<i64> {
    let sql = Sql::open(url).await.ok()?;
    let n = match &sql {
        Sql::Sqlite(pool) => sqlx::query_scalar(q).fetch_one(pool).await.ok(),
        Sql::Postgres(pool) => sqlx::query_scalar(q).fetch_one(pool).await.ok(),
    };
    sql.close().await;
    n
}

fn post(id: &str, author: &str, likes: i64, observed_at: &str, trend: &str) -> Value {
    json!({"kind":"post","source":"mastodon","id":id,"text":format!("post {id}"),"lang":"en",
           "created_at":"2026-11-21T23:00:00Z","author":{"id":author,"handle":format!("h{author}"),"followers":likes * 10},
           "metrics":{"reposts":likes / 2,"likes":likes,"replies":0,"quotes":0},"parent_id":null,"quote_of":null,
           "trend":trend,"observed_at":observed_at})
}

fn ndjson(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn posts_keep_their_latest_counts_authors_and_trends() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(fixture("posts/sample-posts.ndjson")).unwrap();
    let scored = run("sentiment", &[], &[], sample.as_bytes(), dir.path());
    assert_eq!(scored.code, Some(0), "{}", scored.stderr);
    let later = ndjson(&[
        post("109001", "1", 999, "2026-11-22T06:00:00Z", "bbb26"),
        // The same post collected for a second trend, and an older export of it.
        post("109001", "1", 5, "2026-11-21T23:30:00Z", "neymar"),
    ]);
    for db in targets(dir.path()).await {
        for input in [&scored.stdout, &later, &scored.stdout] {
            let loaded = run("etl-to-sql", &[], &[("DATABASE_URL", &db)], input.as_bytes(), dir.path());
            assert_eq!(loaded.code, Some(0), "{db}: {}", loaded.stderr);
        }
        let rows = dump(&db).await;
        let posts: Vec<&String> = rows.iter().filter(|r| r.starts_with("mastodon|1090")).collect();
        assert_eq!(posts.len(), 5, "{db}: {rows:#?}");
        // The latest observation's counts and text win, whatever the load order.
        assert!(posts[0].starts_with("mastodon|109001|1|post 109001|999|499|2026-11-22"), "{db}: {}", posts[0]);
        assert!(rows.contains(&"109001|bbb26".to_owned()) && rows.contains(&"109001|neymar".to_owned()), "{db}");
        assert!(rows.contains(&"mastodon|1|h1|9990".to_owned()), "{db}: {rows:#?}");
        assert!(rows.contains(&"109002|vader-en|negative".to_owned()), "{db}: {rows:#?}");
        assert_eq!(scalar(&db, "SELECT count(*) FROM post_sentiment").await, 4, "{db}");
    }
}

/// Imports saved snapshot files into MongoDB as a scheduled fetch would.
fn import(files: &[std::path::PathBuf], mongo: &str, database: &str, dir: &std::path::Path) {
    let mut args = vec!["--source".to_owned(), "x-v1".into(), "--to".into(), "mongo".into()];
    for f in files {
        args.push("--file".into());
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("fetch-trends", &args, &[("MONGODB_URI", mongo), ("MONGODB_DATABASE", database)], b"", dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

fn read_count(stderr: &str) -> u64 {
    let at = stderr.find("read ").unwrap_or_else(|| panic!("no summary in {stderr}"));
    stderr[at + 5..].split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn mongo_loads_are_incremental_and_idempotent() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("etl");
    let mut files: Vec<_> = std::fs::read_dir(fixture("x-v1")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let env_for = |db: &str| {
        vec![("MONGODB_URI", mongo.clone()), ("MONGODB_DATABASE", database.clone()), ("DATABASE_URL", db.to_owned())]
    };

    // Two fetch runs a second apart, so that the last second of the first load holds
    // one file's records only (ingested_at has whole seconds).
    import(&files[..5], &mongo, &database, dir.path());
    std::thread::sleep(Duration::from_millis(1100));
    import(&files[5..6], &mongo, &database, dir.path());
    let sql_targets = targets(dir.path()).await;
    for db in &sql_targets {
        let env = env_for(db);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let first = run("etl-to-sql", &["--from", "mongo", "--batch-size", "50"], &env, b"", dir.path());
        assert_eq!(first.code, Some(0), "{db}: {}", first.stderr);
        assert_eq!(read_count(&first.stderr), 360, "{db}: {}", first.stderr);
        assert_eq!(scalar(db, "SELECT count(*) FROM trend_observations").await, 360);
    }

    std::thread::sleep(Duration::from_millis(1100));
    import(&files[6..], &mongo, &database, dir.path());
    for db in &sql_targets {
        let env = env_for(db);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let second = run("etl-to-sql", &["--from", "mongo", "--batch-size", "50"], &env, b"", dir.path());
        assert_eq!(second.code, Some(0), "{db}: {}", second.stderr);
        // The new import, plus the records sharing the watermark's second (at most the
        // last file of the first load).
        let read = read_count(&second.stderr);
        assert!(read > 360 && read <= 420, "{db}: read {read}: {}", second.stderr);
        assert!(second.stderr.contains("loading from the watermark"), "{}", second.stderr);
        assert_eq!(scalar(db, "SELECT count(*) FROM trend_observations").await, 720);
        let before = dump(db).await;
        let third = run("etl-to-sql", &["--from", "mongo"], &env, b"", dir.path());
        assert_eq!(third.code, Some(0), "{db}: {}", third.stderr);
        assert!(read_count(&third.stderr) <= 360, "only the last second is read again: {}", third.stderr);
        assert_eq!(dump(db).await, before, "{db}: a run with nothing new changes nothing");
        // One stream per collection that had records: `posts` is empty here.
        assert_eq!(
            scalar(db, "SELECT count(*) FROM etl_watermarks WHERE stream LIKE 'mongo:%.trends'").await,
            1,
            "{db}"
        );
        assert_eq!(scalar(db, "SELECT count(*) FROM etl_watermarks").await, 1, "{db}");

        // A backfill window reloads from the raw store without moving the watermark.
        let back = run(
            "etl-to-sql",
            &["--from", "mongo", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-20T05:00:00Z"],
            &env,
            b"",
            dir.path(),
        );
        assert_eq!(back.code, Some(0), "{}", back.stderr);
        assert_eq!(read_count(&back.stderr), 120, "two snapshots of three places: {}", back.stderr);
        assert_eq!(dump(db).await, before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn a_refused_record_from_mongo_goes_to_the_quarantine() {
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("etl");
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let coll = client.database(&database).collection::<Document>("trends");
    let now = mongodb::bson::DateTime::now();
    let at = mongodb::bson::DateTime::parse_rfc3339_str("2026-11-22T01:00:00Z").unwrap();
    coll.insert_many([
        doc! {"kind":"trend","source":"x","place":{"id":"1"},"name":"Good","key":"good","volume":5_i64,"rank":1_i64,"observed_at":at,"ingested_at":now},
        doc! {"kind":"trend","source":"x","place":{"id":"1"},"name":"Zero","key":"zero","volume":5_i64,"rank":0_i64,"observed_at":at,"ingested_at":now},
        doc! {"kind":"trend","source":"x","name":"NoPlace","observed_at":at,"ingested_at":now},
    ])
    .await
    .unwrap();
    for db in targets(dir.path()).await {
        let env =
            [("MONGODB_URI", mongo.as_str()), ("MONGODB_DATABASE", database.as_str()), ("DATABASE_URL", db.as_str())];
        let out = run("etl-to-sql", &["--from", "mongo"], &env, b"", dir.path());
        assert_eq!(out.code, Some(1), "{db}: {}", out.stderr);
        assert_eq!(scalar(&db, "SELECT count(*) FROM trend_observations").await, 1, "{db}");
    }
    let quarantined: Vec<Document> = {
        use futures_util::TryStreamExt;
        client
            .database(&database)
            .collection::<Document>("quarantine")
            .find(doc! {"stage": "etl-to-sql"})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    let reasons: Vec<&str> = quarantined.iter().map(|d| d.get_str("reason").unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("missing field `place`")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("refused by the database") && r.to_lowercase().contains("check")),
        "{reasons:?}"
    );
    client.shutdown().await;
}

/// Many distinct observations (one per second from 2026-11-01), to make a load last
/// long enough to be killed.
fn big_input(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    for i in 0..n {
        s.push_str(&format!(
            "{{\"kind\":\"trend\",\"source\":\"x\",\"place\":{{\"id\":\"{}\"}},\"name\":\"T{}\",\"key\":\"t{}\",\"volume\":{},\"rank\":{},\"observed_at\":\"2026-11-{:02}T{:02}:{:02}:{:02}Z\"}}\n",
            i % 7,
            i % 5000,
            i % 5000,
            i,
            i % 50 + 1,
            1 + i / 86_400,
            (i % 86_400) / 3600,
            (i % 3600) / 60,
            i % 60
        ));
    }
    s
}

/// Loads `input` into a fresh reference database, then into `db`, killing that load
/// (SIGKILL) once `counted` shows rows, reruns it and checks that it converges on
/// the reference. Returns the rows `counted` found right after the kill.
async fn killed_and_rerun(dir: &std::path::Path, db: &str, input: &std::path::Path, batch: &str, counted: &str) -> i64 {
    let command = |db: &str| {
        let mut c = Command::new(bin("etl-to-sql"));
        c.args(["--db", db, "--batch-size", batch])
            .current_dir(dir)
            .stdin(Stdio::from(std::fs::File::open(input).unwrap()))
            .stderr(Stdio::null());
        c
    };
    let load = |db: &str| command(db).spawn().unwrap();
    // Reference: one uninterrupted load into a separate database.
    let reference = if db.starts_with("sqlite:") {
        format!("sqlite:{}", dir.join(format!("{}.db", unique("ref"))).display())
    } else {
        fresh_postgres(&postgres_url()).await
    };
    assert!(load(&reference).wait().unwrap().success());

    // The same load, killed once some batches are in.
    let mut child = load(db);
    let started = Instant::now();
    let mut partial = 0;
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let n = if db.starts_with("sqlite:") && !std::path::Path::new(db.trim_start_matches("sqlite:")).exists() {
            0
        } else {
            // Before the first migration the table does not exist yet: count 0.
            tokio::time::timeout(Duration::from_secs(5), try_scalar(db, counted)).await.ok().flatten().unwrap_or(0)
        };
        if n > 0 {
            partial = n;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no last flush.
    child.wait().unwrap();
    let after_kill = scalar(db, counted).await;
    assert!(partial > 0, "{db}: the load was not interrupted (rows: {after_kill})");

    let rerun = command(db).stderr(Stdio::piped()).output().unwrap();
    assert!(rerun.status.success(), "{db}: the rerun failed: {}", String::from_utf8_lossy(&rerun.stderr));
    assert_eq!(dump(db).await, dump(&reference).await, "{db}: the rerun converges on the uninterrupted load");
    after_kill
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn a_load_killed_mid_way_and_rerun_ends_with_exactly_the_right_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("big.ndjson");
    std::fs::write(&input_path, big_input(100_000)).unwrap();
    for db in targets(dir.path()).await {
        let counted = "SELECT count(*) FROM trend_observations";
        let after_kill = killed_and_rerun(dir.path(), &db, &input_path, "500", counted).await;
        assert!(after_kill < 100_000, "{db}: the load was not interrupted (rows: {after_kill})");
        assert_eq!(after_kill % 500, 0, "{db}: only whole batches are committed ({after_kill} rows)");
        assert_eq!(scalar(&db, counted).await, 100_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn a_post_load_killed_mid_way_and_rerun_ends_with_exactly_the_right_rows() {
    // Batches of posts large enough for PostgreSQL to merge each as two halves on two
    // connections: a kill can fall between the two commits.
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("posts.ndjson");
    let posts: Vec<Value> = (0..40_000)
        .map(|i| {
            let hour = 1 + i % 9;
            post(&format!("p{}", i % 30_000), &format!("a{}", i % 1_000), i, &format!("2026-11-22T0{hour}:00:00Z"), "t")
        })
        .collect();
    std::fs::write(&input_path, ndjson(&posts)).unwrap();
    let batch = (2 * trendpipe_etl_to_sql::pg::SPLIT_FROM).to_string();
    for db in targets(dir.path()).await {
        let counted = "SELECT count(*) FROM posts";
        let after_kill = killed_and_rerun(dir.path(), &db, &input_path, &batch, counted).await;
        assert!(after_kill < 30_000, "{db}: the load was not interrupted (rows: {after_kill})");
        assert_eq!(scalar(&db, counted).await, 30_000);
    }
}

/// Records of a file as one batch of the loader.
fn batch_of(ndjson: &str) -> trendpipe_etl_to_sql::load::Batch {
    use trendpipe_core::record::Record;
    let mut batch = trendpipe_etl_to_sql::load::Batch::default();
    for line in ndjson.lines() {
        match serde_json::from_str::<Record>(line).unwrap() {
            Record::Trend(t) => batch.trends.push(t),
            Record::Post(p) => {
                let at = p.observed_at.or(p.created_at).unwrap();
                batch.posts.push(trendpipe_etl_to_sql::load::TimedPost { post: p, at });
            }
        }
    }
    batch
}

/// Batches that exercise every table and the tricky values (duplicates within a
/// batch, tabs and newlines, null counts, a scored post loaded twice).
fn tricky_batches(dir: &std::path::Path) -> Vec<trendpipe_etl_to_sql::load::Batch> {
    let sample = std::fs::read_to_string(fixture("posts/sample-posts.ndjson")).unwrap();
    let scored = run("sentiment", &[], &[], sample.as_bytes(), dir).stdout;
    let trends = run(
        "fetch-trends",
        &["--source", "x-v1", "--file", fixture("x-v1/trends-place-20261120T0000.json").to_str().unwrap()],
        &[],
        b"",
        dir,
    )
    .stdout;
    let tricky = ndjson(&[
        post("9", "7", 3, "2026-11-22T02:00:00Z", "a"),
        post("9", "7", 8, "2026-11-22T02:00:00Z", "b"),
        json!({"kind":"post","source":"x","id":"10","text":"tab\there\nnew line \\ back","created_at":"2026-11-22T01:00:00Z",
               "metrics":{"likes":null},"parent_id":"9","quote_of":null}),
    ]);
    // Seen again: post 9 and author 7 older than stored (nothing changes but a new
    // trend link), then author 7 newer with other values, on a new post.
    let again =
        ndjson(&[post("9", "7", 1, "2026-11-22T01:00:00Z", "c"), post("11", "7", 5, "2026-11-22T03:00:00Z", "a")]);
    vec![batch_of(&scored), batch_of(&trends), batch_of(&tricky), batch_of(&scored), batch_of(&again)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_author_deleted_between_two_batches_of_a_run_is_stored_again() {
    // The SQLite path updates an author it has loaded before through the row id it
    // saw; a row gone since must not swallow the update.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("gone.db").display());
    let sql = Sql::connect(&url).await.unwrap();
    let first = batch_of(&ndjson(&[post("1", "7", 3, "2026-11-22T01:00:00Z", "a")]));
    let second = batch_of(&ndjson(&[post("2", "7", 4, "2026-11-22T02:00:00Z", "a")]));
    let mut loader = trendpipe_etl_to_sql::load::Loader::new(&sql).unwrap();
    loader.load(&first).await.unwrap();
    {
        let Sql::Sqlite(pool) = &sql else { unreachable!() };
        for q in ["DELETE FROM post_trends", "DELETE FROM posts", "DELETE FROM authors"] {
            sqlx::query(q).execute(pool).await.unwrap();
        }
    }
    loader.load(&second).await.unwrap();
    drop(loader);
    sql.close().await;
    assert_eq!(
        dump(&url).await,
        ["2|a", "mastodon|2|7|post 2|4|2|2026-11-22T02:00:00+00:00", "mastodon|7|h7|40"],
        "the second post must point at a stored author 7"
    );
}

/// Loads the batches through the fast path of the database (`Loader`) into `fast`
/// and through the generic sqlx statements into `generic`, then compares every row.
async fn compare_fast_and_generic(fast: &str, generic: &str, batches: &[trendpipe_etl_to_sql::load::Batch]) {
    let (a, b) = (Sql::connect(fast).await.unwrap(), Sql::connect(generic).await.unwrap());
    {
        let mut loader = trendpipe_etl_to_sql::load::Loader::new(&a).unwrap();
        for batch in batches {
            loader.load(batch).await.unwrap();
            trendpipe_etl_to_sql::load::load_generic(&b, batch).await.unwrap();
        }
    }
    a.close().await;
    b.close().await;
    let rows = dump(fast).await;
    assert!(rows.len() > 60, "{rows:#?}");
    assert!(rows.iter().any(|r| r.starts_with("x|10|-|tab\there\nnew line \\ back|-|")), "{rows:#?}");
    assert_eq!(rows, dump(generic).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn the_postgres_copy_path_stores_what_the_generic_statements_store() {
    let admin = postgres_url();
    let dir = tempfile::tempdir().unwrap();
    let batches = tricky_batches(dir.path());
    let (fast, generic) = (fresh_postgres(&admin).await, fresh_postgres(&admin).await);
    compare_fast_and_generic(&fast, &generic, &batches).await;
}

/// A batch large enough for the PostgreSQL path to split it over two connections:
/// posts seen twice in the batch with other counts or another author, authors with
/// many posts, posts without author, several trends per post. Then the same posts
/// again, some older and some newer, so that the split merges updates too.
fn split_batches() -> Vec<trendpipe_etl_to_sql::load::Batch> {
    let n = 3 * trendpipe_etl_to_sql::pg::SPLIT_FROM;
    let mut first = Vec::new();
    let mut again = Vec::new();
    for i in 0..n {
        let id = format!("s{}", i % (n * 2 / 3));
        let author = format!("a{}", i % 97);
        let hour = 1 + i % 5;
        let mut p = post(&id, &author, i as i64, &format!("2026-11-22T0{hour}:00:00Z"), &format!("t{}", i % 3));
        if i % 11 == 0 {
            p.as_object_mut().unwrap().remove("author");
        }
        first.push(p.clone());
        let later = if i % 2 == 0 { "2026-11-22T00:30:00Z" } else { "2026-11-22T09:00:00Z" };
        p["observed_at"] = json!(later);
        p["metrics"]["likes"] = json!(i as i64 + 7);
        again.push(p);
    }
    vec![batch_of(&ndjson(&first)), batch_of(&ndjson(&again))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn the_postgres_split_path_stores_what_the_generic_statements_store() {
    let admin = postgres_url();
    let dir = tempfile::tempdir().unwrap();
    let mut batches = tricky_batches(dir.path());
    let split = split_batches();
    assert!(split[0].posts.len() >= 2 * trendpipe_etl_to_sql::pg::SPLIT_FROM);
    batches.extend(split);
    let (fast, generic) = (fresh_postgres(&admin).await, fresh_postgres(&admin).await);
    compare_fast_and_generic(&fast, &generic, &batches).await;
    assert_eq!(scalar(&fast, "SELECT count(*) FROM posts WHERE post_id LIKE 's%'").await, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_prepared_path_stores_what_the_generic_statements_store() {
    let dir = tempfile::tempdir().unwrap();
    let batches = tricky_batches(dir.path());
    let fast = format!("sqlite:{}", dir.path().join("fast.db").display());
    let generic = format!("sqlite:{}", dir.path().join("generic.db").display());
    compare_fast_and_generic(&fast, &generic, &batches).await;
    // Same file contents, ids and every column included.
    let everything = |url: String| async move {
        let Sql::Sqlite(pool) = Sql::open(&url).await.unwrap() else { unreachable!() };
        let mut rows = Vec::new();
        for table in ["places", "trends", "trend_observations", "authors", "posts", "post_trends", "post_sentiment"] {
            let select: String = sqlx::query_scalar(
                "SELECT 'SELECT ' || group_concat('quote(' || name || ')', ' || ''|'' || ') || ' FROM ' || ?1 \
                 FROM pragma_table_info(?1)",
            )
            .bind(table)
            .fetch_one(&pool)
            .await
            .unwrap();
            let got: Vec<String> = sqlx::query_scalar(&select).fetch_all(&pool).await.unwrap();
            rows.extend(got.into_iter().map(|r| format!("{table}: {r}")));
        }
        rows.sort();
        rows
    };
    let rows = everything(fast).await;
    assert!(rows.iter().any(|r| r.starts_with("post_sentiment: ")), "{rows:#?}");
    assert_eq!(rows, everything(generic).await);
}
