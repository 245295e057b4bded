//! Helpers the etl-to-sql integration tests share: the binary run as a user runs it,
//! and a fresh database on the test PostgreSQL server.

use assert_cmd::Command;

/// Runs `etl-to-sql` with `DATABASE_URL=db` on `input`, rejects into the test's
/// directory; returns the exit code and the stderr.
pub fn etl(dir: &std::path::Path, db: &str, input: String) -> (Option<i32>, String) {
    let out = Command::cargo_bin("etl-to-sql")
        .unwrap()
        .current_dir(dir)
        .env("HOME", dir)
        .env("DATABASE_URL", db)
        .env_remove("TRENDPIPE_CONFIG")
        .args(["--reject", "rejects.ndjson"])
        .write_stdin(input)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A fresh database on the test PostgreSQL server, named after `what`.
pub async fn fresh_postgres(what: &str) -> String {
    use sqlx::Connection;
    let admin = std::env::var("TRENDPIPE_TEST_DATABASE_URL")
        .expect("TRENDPIPE_TEST_DATABASE_URL must name the test PostgreSQL server (scripts/test.sh sets it)");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("trendpipe_{what}_{}_{nanos}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (base, query) = admin.split_once('?').map_or((admin.as_str(), String::new()), |(b, q)| (b, format!("?{q}")));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}
