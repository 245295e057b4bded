//! SIGTERM and SIGKILL at seeded points of a run, and runs of a stage at once.
//!
//! Every stage that writes SQL or MongoDB is stopped part-way — the point is a
//! fraction of an uninterrupted run's length drawn from a seed, so a seed always
//! stops at the same stage of the work — then run again: the store must end exactly
//! as after the uninterrupted run (nothing lost, nothing doubled). A SIGTERM must end
//! the run itself: exit 143, the summary on stderr and the ledger entry `interrupted`.
//! Two runs started together take turns on the stage's database lock and end with
//! the database one run makes.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{bin, fresh_postgres, mongo_uri, postgres_url, text_rows, unique};

/// The seeds of the stop points; even ones send SIGTERM, odd ones SIGKILL.
const SEEDS: [u64; 4] = [11, 12, 13, 14];

/// Where in a run a seed stops it: a fraction between 0.15 and 0.85 of its length.
fn fraction(seed: u64) -> f64 {
    // splitmix64's finaliser: a fixed, well-spread map from seed to point.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    0.15 + 0.7 * ((z % 10_000) as f64 / 10_000.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Term,
    Kill,
}

impl Stop {
    fn of(seed: u64) -> Self {
        if seed & 1 == 0 { Stop::Term } else { Stop::Kill }
    }
}

/// How a stopped run ended.
struct Stopped {
    /// Whether the signal was sent while the run was still going.
    signalled: bool,
    code: Option<i32>,
    stderr: String,
}

/// Spawns `cmd`, sends `stop` after `after` (unless it ended before) and waits.
fn run_and_stop(mut cmd: Command, after: Duration, stop: Stop) -> Stopped {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).unwrap();
        text
    });
    let started = Instant::now();
    while started.elapsed() < after && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let signalled = child.try_wait().unwrap().is_none();
    if signalled {
        match stop {
            Stop::Term => {
                let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
                assert!(sent.success());
            }
            Stop::Kill => child.kill().unwrap(),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the run did not end within 60 s of {stop:?}: {}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Stopped { signalled, code: status.code(), stderr: reader.join().unwrap() }
}

/// Runs `cmd` stopped at `seed`'s point of a run lasting `length`. A SIGTERM that
/// found it running must have ended it cleanly: exit 143, the stop announced, the
/// `summary` printed. Returns whether the signal found it running.
fn stop_at_seed(cmd: Command, length: Duration, seed: u64, at: &str, summary: &str) -> bool {
    let stop = Stop::of(seed);
    let run = run_and_stop(cmd, length.mul_f64(fraction(seed)), stop);
    if run.signalled && stop == Stop::Term {
        assert_eq!(run.code, Some(143), "{at}: {}", run.stderr);
        assert!(run.stderr.contains("SIGTERM received: stopping after the current batch"), "{at}: {}", run.stderr);
        assert!(run.stderr.contains("interrupted by SIGTERM"), "{at}: {}", run.stderr);
        assert!(run.stderr.contains(summary), "{at}: no summary: {}", run.stderr);
    }
    run.signalled
}

/// A command for a stage binary with nothing of the test's environment leaking in.
fn stage(name: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin(name));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("TRENDPIPE_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn with_stdin(mut cmd: Command, input: &Path) -> Command {
    cmd.stdin(Stdio::from(std::fs::File::open(input).unwrap()));
    cmd
}

/// Trend observations with a daily rhythm and a surge now and then, and posts with
/// authors, engagement, replies and English texts of both moods, as NDJSON.
fn generate(snapshots: usize, places: usize, trends: usize, posts: usize) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap().to_utc();
    let time = |secs: i64| trendpipe_core::record::format_time(&(base + chrono::Duration::seconds(secs)));
    let mut out = String::new();
    for s in 0..snapshots {
        for p in 0..places {
            for k in 0..trends {
                let surge = if (s + 7 * k) % 97 == 0 { 25 } else { 1 };
                let volume = (1000 + (s % 48) * 20 + k * 3 + p) * surge;
                let line = serde_json::json!({"kind":"trend","source":"x","place":{"id":format!("{}", 100 + p)},
                    "name":format!("Topic{k}"),"key":format!("topic{k}"),"volume":volume,"rank":k + 1,
                    "observed_at":time(s as i64 * 1800)});
                out.push_str(&format!("{line}\n"));
            }
        }
    }
    let texts = [
        "What a wonderful day, I love this!",
        "This is terrible and I hate it.",
        "Not bad at all, pretty good actually",
        "Worst news ever, so sad :(",
        "ok",
    ];
    for i in 0..posts {
        let created = i as i64 * 60;
        let mood = if (i / 600) % 5 == 3 { 1 } else { i % texts.len() };
        let line = serde_json::json!({"kind":"post","source":"x","id":format!("{}", 500_000 + i),
            "text":texts[mood],"lang":"en","created_at":time(created),"observed_at":time(created + 3600),
            "author":{"id":format!("{}", i % 300),"handle":format!("user{}", i % 300),"followers":(i % 300) * 17},
            "metrics":{"reposts":i % 7,"likes":i % 50,"replies":i % 3,"quotes":0},
            "parent_id":if i % 5 == 0 && i > 0 { serde_json::json!(format!("{}", 500_000 + i - 1)) } else { serde_json::Value::Null },
            "trend":format!("topic{}", i % trends)});
        out.push_str(&format!("{line}\n"));
    }
    out
}

async fn scalar(url: &str, q: &str) -> i64 {
    text_rows(url, &[&format!("SELECT CAST(({q}) AS TEXT)")]).await[0].parse().unwrap()
}

/// What `etl-to-sql` loads.
const LOADED: &[&str] = &[
    "SELECT p.code || '|' || t.key || '|' || CAST(o.observed_at AS TEXT) || '|' || CAST(o.volume AS TEXT) || '|' || \
     CAST(o.rank AS TEXT) FROM trend_observations o JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id",
    "SELECT source || '|' || key || '|' || name || '|' || CAST(first_seen AS TEXT) || '|' || CAST(last_seen AS TEXT) FROM trends",
    "SELECT p.post_id || '|' || a.author_id || '|' || p.text || '|' || CAST(p.likes AS TEXT) || '|' || \
     COALESCE(p.parent_id, '-') || '|' || CAST(p.observed_at AS TEXT) FROM posts p JOIN authors a ON a.id = p.author",
    "SELECT source || '|' || author_id || '|' || handle || '|' || CAST(followers AS TEXT) FROM authors",
    "SELECT p.post_id || '|' || l.trend_key FROM post_trends l JOIN posts p ON p.id = l.post",
];

/// What `sentiment --db` writes. A window's mean is rounded to nine places: the
/// database sums its scores in the order it finds the rows, which an interrupted run
/// changes, and a float sum in another order may differ in its last bits.
const SCORED: &[&str] = &[
    "SELECT p.post_id || '|' || s.model || '|' || CAST(s.compound AS TEXT) || '|' || s.label \
     FROM post_sentiment s JOIN posts p ON p.id = s.post",
    "SELECT trend_key || '|' || window_len || '|' || CAST(window_start AS TEXT) || '|' || CAST(posts AS TEXT) || '|' || \
     CAST(ROUND(CAST(mean_compound AS NUMERIC), 9) AS TEXT) || '|' || label FROM trend_sentiment",
];

/// What `influencers --db` writes.
const RANKED: &[&str] = &[
    "SELECT a.author_id || '|' || s.trend_key || '|' || s.window_len || '|' || CAST(s.window_start AS TEXT) || '|' || \
     CAST(s.score AS TEXT) || '|' || CAST(s.rank AS TEXT) || '|' || CAST(s.posts AS TEXT) \
     FROM influencer_scores s JOIN authors a ON a.id = s.author",
];

/// What `alerts --db` writes.
const ALERTED: &[&str] = &[
    "SELECT metric || '|' || direction || '|' || source || '|' || place || '|' || trend_key || '|' || \
     CAST(at AS TEXT) || '|' || COALESCE(CAST(value AS TEXT), '-') || '|' || method FROM alerts",
    "SELECT stream || '|' || CAST(watermark AS TEXT) FROM etl_watermarks",
];

/// A database to run a stage on: an empty one, or a copy of `base`.
#[derive(Clone)]
enum Target {
    Sqlite { dir: PathBuf, base: Option<PathBuf> },
    Postgres { base: Option<String> },
}

impl Target {
    async fn make(&self) -> String {
        match self {
            Target::Sqlite { dir, base } => {
                let path = dir.join(format!("{}.db", unique("s")));
                if let Some(base) = base {
                    std::fs::copy(base, &path).unwrap();
                    for ext in ["-wal", "-shm"] {
                        let from = PathBuf::from(format!("{}{ext}", base.display()));
                        if from.exists() {
                            std::fs::copy(&from, format!("{}{ext}", path.display())).unwrap();
                        }
                    }
                }
                format!("sqlite:{}", path.display())
            }
            Target::Postgres { base: None } => fresh_postgres(&postgres_url()).await,
            Target::Postgres { base: Some(base) } => {
                use sqlx::Connection;
                let name = unique("trendpipe_sig");
                let base_name = base.rsplit('/').next().unwrap().split('?').next().unwrap();
                let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {base_name}")).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                base.replacen(base_name, &name, 1)
            }
        }
    }

    /// The SQLite file and PostgreSQL targets of a test, holding `input` loaded by
    /// `etl-to-sql` (empty when `input` is `None`).
    async fn both(dir: &Path, input: Option<&Path>) -> Vec<Target> {
        let empty = [Target::Sqlite { dir: dir.to_owned(), base: None }, Target::Postgres { base: None }];
        let Some(input) = input else { return empty.to_vec() };
        let mut loaded = Vec::new();
        for t in empty {
            let url = t.make().await;
            let out = with_stdin(stage("etl-to-sql", dir, &["--db", &url], &[]), input).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            loaded.push(match t {
                Target::Sqlite { dir, .. } => {
                    Target::Sqlite { dir, base: Some(PathBuf::from(url.trim_start_matches("sqlite:"))) }
                }
                Target::Postgres { .. } => Target::Postgres { base: Some(url) },
            });
        }
        loaded
    }
}

/// Runs `command` on a fresh `target` to the end for the reference, then on one more
/// fresh copy per seed stopped at the seed's point and run again to the end: each
/// copy must end equal to the reference by `queries`. A SIGTERM ends the run itself,
/// with exit 143, `summary` on stderr and the ledger entry of `tool` `interrupted`.
/// `done` are the exit codes of a run that went to its end.
async fn converges(
    tool: &str,
    target: &Target,
    command: impl Fn(&str) -> Command,
    done: &[i32],
    summary: &str,
    queries: &[&str],
) {
    let reference = target.make().await;
    let started = Instant::now();
    let out = command(&reference).output().unwrap();
    let length = started.elapsed();
    let ended = |code: Option<i32>| code.is_some_and(|c| done.contains(&c));
    assert!(ended(out.status.code()), "{tool}: the reference run failed: {}", String::from_utf8_lossy(&out.stderr));
    let expected = text_rows(&reference, queries).await;
    assert!(!expected.is_empty(), "{tool}: the reference run wrote nothing");
    let mut stopped = 0;
    for seed in SEEDS {
        let db = target.make().await;
        let at = format!("{tool} on {db}, seed {seed} ({:?})", Stop::of(seed));
        if stop_at_seed(command(&db), length, seed, &at, summary) {
            stopped += 1;
            if Stop::of(seed) == Stop::Term {
                let entry = text_rows(
                    &db,
                    &[&format!(
                        "SELECT status || '|' || CAST(exit_code AS TEXT) FROM runs WHERE stage = '{tool}' AND status <> 'running'"
                    )],
                )
                .await;
                assert_eq!(entry, ["interrupted|143"], "{at}: the ledger entry");
            }
        }
        let rerun = command(&db).output().unwrap();
        assert!(ended(rerun.status.code()), "{at}: the rerun failed: {}", String::from_utf8_lossy(&rerun.stderr));
        assert_eq!(text_rows(&db, queries).await, expected, "{at}: the rerun converges on the uninterrupted run");
    }
    assert!(stopped >= SEEDS.len() / 2, "{tool}: only {stopped} runs were still going when stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn etl_to_sql_from_stdin_stopped_at_seeded_points_converges_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, generate(300, 5, 20, 20_000)).unwrap();
    for target in Target::both(dir.path(), None).await {
        let command =
            |db: &str| with_stdin(stage("etl-to-sql", dir.path(), &["--db", db, "--batch-size", "500"], &[]), &input);
        converges("etl-to-sql", &target, command, &[0], "read ", LOADED).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn etl_to_sql_from_mongo_stopped_at_seeded_points_converges_from_its_watermark() {
    use mongodb::bson::{DateTime, Document, doc};
    let mongo = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("sig");
    let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
    let coll = client.database(&database).collection::<Document>("trends");
    let base = DateTime::parse_rfc3339_str("2026-11-01T00:00:00Z").unwrap().timestamp_millis();
    let docs: Vec<Document> = (0..30_000i64)
        .map(|i| {
            doc! {"kind":"trend","source":"x","place":{"id":format!("{}", i % 6)},"name":format!("T{}", i % 400),
            "key":format!("t{}", i % 400),"volume":i,"rank":i % 50 + 1,
            "observed_at":DateTime::from_millis(base + i * 60_000),
            // Several documents share an instant, as a snapshot's do.
            "ingested_at":DateTime::from_millis(base + (i / 7) * 1000)}
        })
        .collect();
    for chunk in docs.chunks(5000) {
        coll.insert_many(chunk.to_vec()).await.unwrap();
    }
    client.shutdown().await;
    for target in Target::both(dir.path(), None).await {
        let command = |db: &str| {
            let args = ["--from", "mongo", "--mongo-database", &database, "--db", db, "--batch-size", "500"];
            stage("etl-to-sql", dir.path(), &args, &[("MONGODB_URI", &mongo)])
        };
        converges("etl-to-sql", &target, command, &[0], "read ", LOADED).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn sentiment_influencers_and_alerts_stopped_at_seeded_points_converge_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, generate(400, 4, 12, 30_000)).unwrap();
    for target in Target::both(dir.path(), Some(&input)).await {
        let sentiment = |db: &str| stage("sentiment", dir.path(), &["--db", db, "--window", "1h"], &[]);
        converges("sentiment", &target, sentiment, &[0], "scored ", SCORED).await;
        let influencers = |db: &str| stage("influencers", dir.path(), &["--db", db, "--window", "1h"], &[]);
        converges("influencers", &target, influencers, &[0], "trend windows scored", RANKED).await;
        let alerts = |db: &str| stage("alerts", dir.path(), &["--db", db, "--metric", "volume"], &[]);
        converges("alerts", &target, alerts, &[0, 3], "volume: judged", ALERTED).await;
    }
}

/// Waits for every child and returns (exit code, stderr) of each.
fn wait_all(children: Vec<std::process::Child>) -> Vec<(Option<i32>, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn two_etl_to_sql_runs_at_once_on_overlapping_input_end_with_the_database_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let all = generate(200, 5, 20, 16_000);
    let lines: Vec<&str> = all.lines().collect();
    // Two thirds each, overlapping on the middle third.
    let (a, b) = (&lines[..lines.len() * 2 / 3], &lines[lines.len() / 3..]);
    let write = |name: &str, part: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, part.join("\n") + "\n").unwrap();
        path
    };
    let (a, b, whole) = (write("a.ndjson", a), write("b.ndjson", b), write("all.ndjson", &lines));
    for target in Target::both(dir.path(), None).await {
        let reference = target.make().await;
        let one = with_stdin(stage("etl-to-sql", dir.path(), &["--db", &reference], &[]), &whole).output().unwrap();
        assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
        let db = target.make().await;
        // The schema exists, as it does for cron's runs after the first one.
        let first = stage("etl-to-sql", dir.path(), &["--db", &db], &[]).output().unwrap();
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let spawn = |input: &Path| {
            with_stdin(stage("etl-to-sql", dir.path(), &["--db", &db, "--batch-size", "500"], &[]), input)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let runs = wait_all(vec![spawn(&a), spawn(&b)]);
        for (code, stderr) in &runs {
            assert_eq!(*code, Some(0), "{db}: {stderr}");
        }
        assert!(
            runs.iter().any(|(_, e)| e.contains("another etl-to-sql run holds the lock on this database since")),
            "{db}: neither run waited for the other: {runs:?}"
        );
        assert_eq!(
            text_rows(&db, LOADED).await,
            text_rows(&reference, LOADED).await,
            "{db}: two runs at once load what one run loads"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn two_sentiment_runs_at_once_score_each_post_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, generate(10, 2, 12, 20_000)).unwrap();
    for target in Target::both(dir.path(), Some(&input)).await {
        let db = target.make().await;
        let spawn = || stage("sentiment", dir.path(), &["--db", &db], &[]).stderr(Stdio::piped()).spawn().unwrap();
        let runs = wait_all(vec![spawn(), spawn()]);
        let mut scored = 0;
        for (code, stderr) in &runs {
            assert_eq!(*code, Some(0), "{db}: {stderr}");
            let at = stderr.find("scored ").unwrap_or_else(|| panic!("{db}: no summary: {stderr}"));
            scored += stderr[at + 7..].split_whitespace().next().unwrap().parse::<i64>().unwrap();
        }
        assert_eq!(scored, 20_000, "{db}: every post is scored by one run only: {runs:?}");
        assert_eq!(scalar(&db, "SELECT count(*) FROM post_sentiment").await, 20_000);
        assert_eq!(scalar(&db, "SELECT count(DISTINCT post) FROM post_sentiment").await, 20_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn a_run_that_cannot_get_the_lock_in_time_names_since_when_it_is_held_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for target in Target::both(dir.path(), None).await {
        let db = target.make().await;
        let sql = Sql::connect(&db).await.unwrap();
        let held = sql.lock_stage("etl-to-sql", Duration::from_secs(5)).await.unwrap();
        let out = stage("etl-to-sql", dir.path(), &["--db", &db, "--lock-timeout", "1s"], &[]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{db}: {stderr}");
        assert!(stderr.contains("another etl-to-sql run holds the lock on this database since "), "{db}: {stderr}");
        assert!(stderr.contains("gave up after 1s (--lock-timeout)"), "{db}: {stderr}");
        if db.starts_with("postgres") {
            assert!(stderr.contains("since 20") && stderr.contains("(PostgreSQL session "), "{db}: {stderr}");
        }
        // Another stage is not kept out, and the lock is free once released.
        let other = stage("sentiment", dir.path(), &["--db", &db, "--lock-timeout", "1s"], &[]).output().unwrap();
        assert_eq!(other.status.code(), Some(0), "{db}: {}", String::from_utf8_lossy(&other.stderr));
        held.release().await;
        let after = stage("etl-to-sql", dir.path(), &["--db", &db, "--lock-timeout", "1s"], &[]).output().unwrap();
        assert_eq!(after.status.code(), Some(0), "{db}: {}", String::from_utf8_lossy(&after.stderr));
        sql.close().await;
    }
}

/// Stored trends as fetchers of every age left them: volumes as strings, null
/// volumes, invalid ones and duplicates, each with an `_id` of its own number so that
/// two databases filled alike can be compared document by document.
fn raw_trends(n: u32) -> Vec<mongodb::bson::Document> {
    use mongodb::bson::{Bson, doc, oid::ObjectId};
    (0..n)
        .map(|i| {
            let mut bytes = [0u8; 12];
            bytes[8..].copy_from_slice(&i.to_be_bytes());
            // Every 37th is the one before it stored again by an overlapping run.
            let j = if i % 37 == 0 && i > 0 { i - 1 } else { i };
            let volume = match j % 10 {
                0 => Bson::String(format!("{},{:03}", j % 90 + 1, j % 1000)),
                1 => Bson::Null,
                2 => Bson::String("many".into()),
                _ => Bson::Int64(i64::from(j) * 3),
            };
            let minute = j / 40;
            doc! {"_id":ObjectId::from_bytes(bytes),"kind":"trend","source":"x","place":{"id":format!("{}", j % 4)},
                "name":format!("#Topic{}", j % 40),"key":format!("topic{}", j % 40),"volume":volume,"rank":i64::from(j % 40 + 1),
                "observed_at":format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + minute / 1440, (minute / 60) % 24, minute % 60)}
        })
        .collect()
}

/// A collection's documents as JSON, with the fields a run stamps (its id and time)
/// left out.
async fn documents(db: &mongodb::Database, coll: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    let docs: Vec<mongodb::bson::Document> =
        db.collection(coll).find(mongodb::bson::doc! {}).await.unwrap().try_collect().await.unwrap();
    let mut rows: Vec<String> = docs
        .into_iter()
        .map(|mut d| {
            for stamp in ["run_id", "at", "cleaned_at", "ingested_at"] {
                d.remove(stamp);
            }
            if let Some(mongodb::bson::Bson::Document(record)) = d.get_mut("record") {
                record.remove("cleaned_at");
            }
            trendpipe_core::mongo::to_json(d).to_string()
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn clean_in_place_stopped_at_seeded_points_converges_and_quarantines_each_document_once() {
    let uri = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let fill = |name: String| {
        let client = client.clone();
        async move {
            let docs = raw_trends(20_000);
            for chunk in docs.chunks(5000) {
                client.database(&name).collection("trends").insert_many(chunk.to_vec()).await.unwrap();
            }
            name
        }
    };
    let command = |database: &str| {
        let args = ["--from", "mongo", "--to", "mongo", "--mongo-database", database];
        stage("clean", dir.path(), &args, &[("MONGODB_URI", &uri)])
    };
    let reference = fill(unique("sig_clean")).await;
    let started = Instant::now();
    let out = command(&reference).output().unwrap();
    let length = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "records are quarantined: {}", String::from_utf8_lossy(&out.stderr));
    let db = client.database(&reference);
    let (trends, quarantine) = (documents(&db, "trends").await, documents(&db, "quarantine").await);
    assert!(quarantine.len() >= 4000, "{} quarantined", quarantine.len());
    let mut stopped = 0;
    for seed in SEEDS {
        let name = fill(unique("sig_clean")).await;
        let at = format!("clean on {name}, seed {seed} ({:?})", Stop::of(seed));
        stopped += usize::from(stop_at_seed(command(&name), length, seed, &at, "trends: examined"));
        let rerun = command(&name).output().unwrap();
        assert!(matches!(rerun.status.code(), Some(0 | 1)), "{at}: {}", String::from_utf8_lossy(&rerun.stderr));
        let db = client.database(&name);
        assert_eq!(documents(&db, "trends").await, trends, "{at}: the trends converge");
        assert_eq!(documents(&db, "quarantine").await, quarantine, "{at}: each removal is quarantined once");
    }
    assert!(stopped >= SEEDS.len() / 2, "clean: only {stopped} runs were still going when stopped");
    client.shutdown().await;
}

/// The stored trends of a database as (place, key, volume, rank) by snapshot
/// (place and observation time).
async fn snapshots(db: &mongodb::Database) -> std::collections::BTreeMap<(String, String), Vec<String>> {
    let mut by_snapshot: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for text in documents(db, "trends").await {
        let t: serde_json::Value = serde_json::from_str(&text).unwrap();
        let place = t["place"]["id"].as_str().unwrap().to_owned();
        let at = t["observed_at"].to_string();
        by_snapshot.entry((place, at)).or_default().push(format!("{}|{}|{}", t["key"], t["volume"], t["rank"]));
    }
    for rows in by_snapshot.values_mut() {
        rows.sort();
    }
    by_snapshot
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn fetch_trends_to_mongo_stopped_at_seeded_points_stores_whole_snapshots_and_a_rerun_covers_every_place() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let uri = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let body = std::fs::read(trendpipe_pipeline_tests::fixture("x-v2/trends-by-woeid-1.json")).unwrap();
    // A provider taking its time, so that a stop lands between places.
    Mock::given(method("GET"))
        .and(path_regex("^/2/trends/by/woeid/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(body, "application/json")
                .set_delay(Duration::from_millis(120))
                .append_header("x-rate-limit-remaining", "70"),
        )
        .mount(&server)
        .await;
    let places: Vec<String> = (0..24).map(|i| format!("{}", 2_000_000 + i)).collect();
    let command = |database: &str| {
        let mut args = vec!["--source", "x", "--to", "mongo", "--mongo-database", database];
        for p in &places {
            args.extend(["--place", p.as_str()]);
        }
        let env =
            [("MONGODB_URI", uri.as_str()), ("X_BEARER_TOKEN", "signals-test-token"), ("X_BASE_URL", &server.uri())];
        stage("fetch-trends", dir.path(), &args, &env)
    };
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let reference = unique("sig_fetch");
    let started = Instant::now();
    let out = command(&reference).output().unwrap();
    let length = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = snapshots(&client.database(&reference)).await;
    assert_eq!(expected.len(), places.len(), "one snapshot a place");
    let whole = expected.values().next().unwrap().clone();
    assert_eq!(whole.len(), 20);
    let mut stopped = 0;
    for seed in SEEDS {
        let name = unique("sig_fetch");
        let at = format!("fetch-trends into {name}, seed {seed} ({:?})", Stop::of(seed));
        stopped += usize::from(stop_at_seed(command(&name), length, seed, &at, "MongoDB trends: "));
        let rerun = command(&name).output().unwrap();
        assert_eq!(rerun.status.code(), Some(0), "{at}: {}", String::from_utf8_lossy(&rerun.stderr));
        let got = snapshots(&client.database(&name)).await;
        // Every snapshot stored is whole (nothing partial, nothing twice), and every
        // place has one from the rerun; places the stopped run reached have two.
        for ((place, time), rows) in &got {
            assert_eq!(rows, &whole, "{at}: the snapshot of {place} at {time}");
        }
        let covered: std::collections::BTreeSet<&String> = got.keys().map(|(p, _)| p).collect();
        assert_eq!(covered.len(), places.len(), "{at}: every place is covered");
        assert!(got.len() <= 2 * places.len(), "{at}: {} snapshots", got.len());
    }
    assert!(stopped >= SEEDS.len() / 2, "fetch-trends: only {stopped} runs were still going when stopped");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB: run by scripts/test.sh"]
async fn fetch_posts_to_mongo_stopped_at_seeded_points_resumes_from_its_checkpoints_and_converges() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};
    let uri = mongo_uri();
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    // X's recent search: the two saved pages whatever the query, dated as a live
    // search's posts are, a little slowly.
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    let page = move |rel: &str| {
        let mut page: serde_json::Value =
            serde_json::from_slice(&std::fs::read(trendpipe_pipeline_tests::fixture(rel)).unwrap()).unwrap();
        for list in ["/data", "/includes/tweets"] {
            if let Some(serde_json::Value::Array(tweets)) = page.pointer_mut(list) {
                for tweet in tweets {
                    tweet["created_at"] = recent.clone().into();
                }
            }
        }
        page
    };
    let (first, second) =
        (page("posts-x/search-recent-bbb26-page1.json"), page("posts-x/search-recent-bbb26-page2.json"));
    Mock::given(method("GET"))
        .and(path("/2/tweets/search/recent"))
        .respond_with(move |request: &Request| {
            let paged = request.url.query_pairs().any(|(k, _)| k == "next_token");
            let body = if paged { second.clone() } else { first.clone() };
            ResponseTemplate::new(200).set_body_json(body).set_delay(Duration::from_millis(60))
        })
        .mount(&server)
        .await;
    let now = trendpipe_core::record::format_time(&chrono::Utc::now());
    let trends: String = (0..30)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"kind":"trend","source":"x","place":{"id":"1"},"name":format!("#Topic{i}"),
                    "key":format!("topic{i}"),"volume":10_000 - i,"rank":i + 1,"observed_at":now})
            )
        })
        .collect();
    let input = dir.path().join("trends.ndjson");
    std::fs::write(&input, trends).unwrap();
    let command = |database: &str| {
        let args = ["--source", "x", "--to", "mongo", "--top", "30", "--mongo-database", database];
        let env =
            [("MONGODB_URI", uri.as_str()), ("X_BEARER_TOKEN", "signals-test-token"), ("X_BASE_URL", &server.uri())];
        with_stdin(stage("fetch-posts", dir.path(), &args, &env), &input)
    };
    // A post as stored, without what says when it was fetched.
    let posts = |database: String| {
        let uri = uri.clone();
        async move {
            let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
            let rows: Vec<String> = documents(&client.database(&database), "posts")
                .await
                .into_iter()
                .map(|text| {
                    let mut p: serde_json::Value = serde_json::from_str(&text).unwrap();
                    for stamp in ["_id", "observed_at", "updated_at"] {
                        p.as_object_mut().unwrap().remove(stamp);
                    }
                    if let Some(serde_json::Value::Array(list)) = p.get_mut("trends") {
                        list.sort_by_key(|v| v.to_string());
                    }
                    p.to_string()
                })
                .collect();
            client.shutdown().await;
            rows
        }
    };
    let reference = unique("sig_posts");
    let started = Instant::now();
    let out = command(&reference).output().unwrap();
    let length = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = posts(reference).await;
    assert!(!expected.is_empty());
    let mut stopped = 0;
    for seed in SEEDS {
        let name = unique("sig_posts");
        let at = format!("fetch-posts into {name}, seed {seed} ({:?})", Stop::of(seed));
        stopped += usize::from(stop_at_seed(command(&name), length, seed, &at, "trends asked"));
        let rerun = command(&name).output().unwrap();
        assert_eq!(rerun.status.code(), Some(0), "{at}: {}", String::from_utf8_lossy(&rerun.stderr));
        assert_eq!(posts(name).await, expected, "{at}: the posts converge, each stored once");
    }
    assert!(stopped >= SEEDS.len() / 2, "fetch-posts: only {stopped} runs were still going when stopped");
}
