//! The newest observation per source and place (`observation_freshness`, read by the
//! report's health check) kept by `etl-to-sql` on every load path: the binary into
//! SQLite and PostgreSQL, and the generic statements. After each load the table
//! holds what a scan of the observations says; a rerun and an older batch loaded
//! late leave it as it is, a later batch moves it forward.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trendpipe_core::sql::Sql;
use trendpipe_etl_to_sql::batch::Batch;
use trendpipe_etl_to_sql::load::{Loader, load_generic};

mod support;
use support::fresh_postgres;

fn trend(source: &str, place: &str, name: &str, at: &str) -> String {
    format!(
        r#"{{"kind":"trend","source":"{source}","place":{{"id":"{place}","name":"P{place}"}},"name":"{name}","key":"{}","volume":100,"rank":1,"observed_at":"{at}"}}"#,
        name.trim_start_matches('#').to_lowercase()
    ) + "\n"
}

/// Two places of `x` (one seen twice), one of `mastodon`.
fn first_load() -> String {
    [
        trend("x", "23424768", "#BBB26", "2026-11-22T01:00:00Z"),
        trend("x", "23424768", "Neymar", "2026-11-22T01:30:00Z"),
        trend("x", "1", "#BBB26", "2026-11-22T01:30:00Z"),
        trend("mastodon", "mastodon.social", "rust", "2026-11-22T00:45:00Z"),
    ]
    .concat()
}

/// Brazil seen later, place 1 only earlier (a late batch: it must not move back),
/// and a new source.
fn later_load() -> String {
    [
        trend("x", "23424768", "#BBB26", "2026-11-22T02:00:00Z"),
        trend("x", "1", "Neymar", "2026-11-22T00:30:00Z"),
        trend("bluesky", "global", "rust", "2026-11-22T02:15:00Z"),
    ]
    .concat()
}

const AFTER_FIRST: [(&str, &str, &str); 3] = [
    ("mastodon", "mastodon.social", "2026-11-22T00:45:00Z"),
    ("x", "1", "2026-11-22T01:30:00Z"),
    ("x", "23424768", "2026-11-22T01:30:00Z"),
];

const AFTER_LATER: [(&str, &str, &str); 4] = [
    ("bluesky", "global", "2026-11-22T02:15:00Z"),
    ("mastodon", "mastodon.social", "2026-11-22T00:45:00Z"),
    ("x", "1", "2026-11-22T01:30:00Z"),
    ("x", "23424768", "2026-11-22T02:00:00Z"),
];

type Row = (String, String, chrono::DateTime<chrono::Utc>);

/// The table's rows and the scan's, each `(source, place, newest)` in order.
async fn table_and_scan(url: &str) -> (Vec<Row>, Vec<Row>) {
    const TABLE: &str = "SELECT source, place, newest FROM observation_freshness ORDER BY source, place";
    const SCAN: &str = "SELECT t.source, p.code, max(o.observed_at) FROM trend_observations o \
                        JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id \
                        GROUP BY t.source, p.code ORDER BY t.source, p.code";
    let sql = Sql::open(url).await.unwrap();
    let out = match &sql {
        Sql::Sqlite(pool) => {
            // Both hold the stored RFC 3339 text.
            let read = |rows: Vec<(String, String, String)>| -> Vec<Row> {
                rows.into_iter().map(|(s, p, t)| (s, p, trendpipe_core::record::parse_time(&t).unwrap())).collect()
            };
            (
                read(sqlx::query_as(TABLE).fetch_all(pool).await.unwrap()),
                read(sqlx::query_as(SCAN).fetch_all(pool).await.unwrap()),
            )
        }
        Sql::Postgres(pool) => {
            (sqlx::query_as(TABLE).fetch_all(pool).await.unwrap(), sqlx::query_as(SCAN).fetch_all(pool).await.unwrap())
        }
    };
    sql.close().await;
    out
}

/// The table equals the scan and `want`.
async fn check(url: &str, want: &[(&str, &str, &str)], when: &str) {
    let (table, scan) = table_and_scan(url).await;
    assert_eq!(table, scan, "{when}: the table and a scan of the observations differ");
    let want: Vec<Row> = want
        .iter()
        .map(|(s, p, t)| ((*s).to_owned(), (*p).to_owned(), trendpipe_core::record::parse_time(t).unwrap()))
        .collect();
    assert_eq!(table, want, "{when}");
}

fn etl(dir: &std::path::Path, db: &str, input: String) {
    let (code, stderr) = support::etl(dir, db, input);
    assert_eq!(code, Some(0), "{stderr}");
}

/// Loads with the binary: the first input, it again, then the later one.
async fn the_binary_keeps_the_newest_observation_of_each_place(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    etl(dir.path(), db, first_load());
    check(db, &AFTER_FIRST, "first load").await;
    etl(dir.path(), db, first_load());
    check(db, &AFTER_FIRST, "rerun").await;
    etl(dir.path(), db, later_load());
    check(db, &AFTER_LATER, "later batch").await;
    etl(dir.path(), db, first_load());
    check(db, &AFTER_LATER, "the first input again, after the later one").await;
}

fn batch_of(ndjson: &str) -> Batch {
    let mut batch = Batch::default();
    for line in ndjson.lines() {
        batch.trends.push(serde_json::from_str(line).unwrap());
    }
    batch
}

/// Loads the same batches through the database's own path into `fast` and the
/// generic statements into `generic`.
async fn both_paths_keep_the_newest_observation_of_each_place(fast: &str, generic: &str) {
    let (a, b) = (Sql::connect(fast).await.unwrap(), Sql::connect(generic).await.unwrap());
    let mut loader = Loader::new(&a).unwrap();
    for (input, want, when) in [
        (first_load(), &AFTER_FIRST[..], "first load"),
        (first_load(), &AFTER_FIRST[..], "rerun"),
        (later_load(), &AFTER_LATER[..], "later batch"),
    ] {
        let batch = batch_of(&input);
        loader.load(&batch).await.unwrap();
        load_generic(&b, &batch).await.unwrap();
        check(fast, want, &format!("{when}, own path")).await;
        check(generic, want, &format!("{when}, generic statements")).await;
    }
    drop(loader);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_newest_observation_of_each_source_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("fresh.db").display());
    the_binary_keeps_the_newest_observation_of_each_place(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_prepared_path_and_the_generic_statements_keep_the_same_newest_observations() {
    let dir = tempfile::tempdir().unwrap();
    let fast = format!("sqlite:{}", dir.path().join("fast.db").display());
    let generic = format!("sqlite:{}", dir.path().join("generic.db").display());
    both_paths_keep_the_newest_observation_of_each_place(&fast, &generic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn postgres_keeps_the_newest_observation_of_each_source_and_place() {
    the_binary_keeps_the_newest_observation_of_each_place(&fresh_postgres("freshness").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn the_postgres_copy_path_and_the_generic_statements_keep_the_same_newest_observations() {
    both_paths_keep_the_newest_observation_of_each_place(
        &fresh_postgres("freshness").await,
        &fresh_postgres("freshness").await,
    )
    .await;
}

/// The migration fills the table from the observations a database already holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_fills_the_table_from_the_stored_observations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("old.db").display());
    etl(dir.path(), &url, later_load());
    {
        let sql = Sql::open(&url).await.unwrap();
        let Sql::Sqlite(pool) = &sql else { panic!("a SQLite database") };
        // As a database loaded before migration 0013 was: observations, no table.
        sqlx::query("DROP TABLE observation_freshness").execute(pool).await.unwrap();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 13").execute(pool).await.unwrap();
        sql.close().await;
    }
    Sql::connect(&url).await.unwrap().close().await;
    let want = [
        ("bluesky", "global", "2026-11-22T02:15:00Z"),
        ("x", "1", "2026-11-22T00:30:00Z"),
        ("x", "23424768", "2026-11-22T02:00:00Z"),
    ];
    check(&url, &want, "after the migration").await;
}
