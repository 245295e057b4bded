//! `etl-to-sql` into SQLite as a user runs it; PostgreSQL is covered by the
//! whole-pipeline tests under `tests/`, which have the server.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use sqlx::{Connection, SqliteConnection};

fn trend(name: &str, place: &str, volume: i64, rank: u32, at: &str) -> String {
    format!(
        r#"{{"kind":"trend","source":"x","place":{{"id":"{place}","name":"P{place}"}},"name":"{name}","key":"{}","volume":{volume},"rank":{rank},"observed_at":"{at}","run_id":"r1"}}"#,
        name.trim_start_matches('#').to_lowercase()
    ) + "\n"
}

fn etl(db: &str, input: String, dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("etl-to-sql")
        .unwrap()
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("DATABASE_URL")
        .args(["--db", db, "--reject", "rejects.ndjson"])
        .args(extra)
        .write_stdin(input)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every row of the trend tables, in a stable order, as text: equal dumps mean equal
/// content.
async fn dump(path: &std::path::Path) -> Vec<String> {
    let mut conn = SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let mut rows: Vec<String> = Vec::new();
    for sql in [
        "SELECT code || '|' || COALESCE(name, '') FROM places ORDER BY code",
        "SELECT source || '|' || key || '|' || name || '|' || first_seen || '|' || last_seen FROM trends ORDER BY source, key",
        "SELECT t.key || '|' || p.code || '|' || o.observed_at || '|' || COALESCE(o.volume, '') || '|' || COALESCE(o.rank, '') \
           FROM trend_observations o JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id \
          ORDER BY t.key, p.code, o.observed_at",
    ] {
        rows.extend(sqlx::query_scalar::<_, String>(sql).fetch_all(&mut conn).await.unwrap());
    }
    conn.close().await.unwrap();
    rows
}

#[tokio::test]
async fn loads_and_reloading_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let url = format!("sqlite:{}", db.display());
    let input = [
        trend("#BBB26", "23424768", 100, 1, "2026-11-22T01:00:00Z"),
        trend("#BBB26", "23424768", 150, 1, "2026-11-22T01:30:00Z"),
        trend("#BBB26", "1", 900, 3, "2026-11-22T01:30:00Z"),
        trend("Neymar", "23424768", 50, 2, "2026-11-22T01:30:00Z"),
    ]
    .concat();
    let (code, err) = etl(&url, input.clone(), dir.path(), &["--batch-size", "3"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("observations 4 new, 0 updated, 0 unchanged"), "{err}");
    let first = dump(&db).await;
    assert_eq!(
        first,
        [
            "1|P1",
            "23424768|P23424768",
            "x|bbb26|#BBB26|2026-11-22T01:00:00+00:00|2026-11-22T01:30:00+00:00",
            "x|neymar|Neymar|2026-11-22T01:30:00+00:00|2026-11-22T01:30:00+00:00",
            "bbb26|1|2026-11-22T01:30:00+00:00|900|3",
            "bbb26|23424768|2026-11-22T01:00:00+00:00|100|1",
            "bbb26|23424768|2026-11-22T01:30:00+00:00|150|1",
            "neymar|23424768|2026-11-22T01:30:00+00:00|50|2",
        ]
    );
    let (code, err) = etl(&url, input, dir.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("observations 0 new, 0 updated, 4 unchanged"), "{err}");
    assert_eq!(dump(&db).await, first, "a second load must not change the content");
}

#[tokio::test]
async fn later_counts_replace_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let url = format!("sqlite:{}", db.display());
    etl(&url, trend("A", "1", 10, 2, "2026-11-22T01:00:00Z"), dir.path(), &[]);
    let (code, err) = etl(&url, trend("A", "1", 12, 1, "2026-11-22T01:00:00Z"), dir.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(dump(&db).await.last().unwrap(), "a|1|2026-11-22T01:00:00+00:00|12|1");
}

#[tokio::test]
async fn bad_lines_and_refused_records_are_rejected_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let url = format!("sqlite:{}", db.display());
    let input = [
        trend("A", "1", 10, 1, "2026-11-22T01:00:00Z"),
        "{not json\n".to_owned(),
        // rank 0 passes the record types but breaks the table's CHECK constraint.
        trend("B", "1", 10, 0, "2026-11-22T01:00:00Z"),
        r#"{"kind":"trend","source":"x","name":"C"}"#.to_owned() + "\n",
        trend("D", "1", 10, 4, "2026-11-22T01:00:00Z"),
    ]
    .concat();
    let (code, err) = etl(&url, input, dir.path(), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("line 2: invalid JSON"), "{err}");
    assert!(err.contains("line 3: refused by the database") && err.contains("CHECK constraint failed"), "{err}");
    assert!(err.contains("line 4: not a valid trend or post record: missing field `place`"), "{err}");
    let rows = dump(&db).await;
    let keys: Vec<&str> = rows.iter().filter(|r| r.contains("|1|2026")).map(|r| r.split('|').next().unwrap()).collect();
    assert_eq!(keys, ["a", "d"]);
    let rejects = std::fs::read_to_string(dir.path().join("rejects.ndjson")).unwrap();
    let lines: Vec<serde_json::Value> = rejects.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [2, 4, 3], "parse errors are rejected at once, constraint failures when their batch loads");
    assert_eq!(lines[2]["record"]["name"], "B");
}

#[tokio::test]
async fn a_password_on_the_command_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = etl("postgres://etl:s3cr3t-pw@127.0.0.1:1/db", String::new(), dir.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("DATABASE_URL"), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
}
