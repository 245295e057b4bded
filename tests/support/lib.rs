//! Helpers for tests that run the real binaries against real services.
//!
//! Services come from the environment that `scripts/test.sh` sets:
//! `TRENDPIPE_TEST_MONGODB_URI` and `TRENDPIPE_TEST_DATABASE_URL`. A test that needs
//! one is marked `#[ignore = "needs …"]`: a plain `cargo test` lists it as ignored
//! with the reason, `scripts/test.sh` runs it (`--include-ignored`), and without the
//! service it fails. No test passes by skipping.

// Test helpers fail the test that calls them by panicking, as assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub mod faulty;
pub mod servers;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file of `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// The path of a workspace binary, built by `cargo test --workspace`.
pub fn bin(name: &str) -> PathBuf {
    let path = assert_cmd::cargo::cargo_bin(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace` (or scripts/test.sh)",
        path.display()
    );
    path
}

fn service(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!("{var} is not set: this test needs {what}; run it through scripts/test.sh, which provides it"),
    }
}

/// The MongoDB URI of the test server. Tests that call it are marked `#[ignore]` so
/// that a plain `cargo test` lists them as ignored; `scripts/test.sh` runs them with
/// the servers up, and without one they fail rather than pass by skipping.
pub fn mongo_uri() -> String {
    service("TRENDPIPE_TEST_MONGODB_URI", "a MongoDB server")
}

/// The PostgreSQL URL of the test server (same rule as [`mongo_uri`]).
pub fn postgres_url() -> String {
    service("TRENDPIPE_TEST_DATABASE_URL", "a PostgreSQL server")
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = unique("trendpipe_test");
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connecting to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("CREATE DATABASE");
    conn.close().await.ok();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

/// A finished run of a binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout lines parsed as JSON.
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
            .collect()
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs a workspace binary with `args`, extra environment and `stdin`, in `dir`.
/// The service variables of the test command are not passed on unless given in `env`,
/// so a test only talks to what it names. stdin is written from a thread, so a
/// binary that writes before it has read everything cannot deadlock the test.
pub fn run(name: &str, args: &[&str], env: &[(&str, &str)], stdin: &[u8], dir: &Path) -> Run {
    let mut cmd = command(name, args, env, dir);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {name}: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A binary that exits early closes the pipe; that is its business.
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("waiting for {name}: {e}"));
    let _ = writer.join();
    output.into()
}

/// The command [`run`] spawns: the binary with `args` in `dir`, its standard streams
/// piped, the service variables removed unless `env` gives them.
pub fn command(name: &str, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Command {
    let mut cmd = Command::new(bin(name));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("X_BEARER_TOKEN")
        .env_remove("TRENDPIPE_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Reads a fixture file as bytes.
pub fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("reading fixture {rel}: {e}"))
}

/// The rows of `queries` (each selecting one text column) on the database at `url`,
/// sorted: a canonical text form for comparing databases.
pub async fn text_rows(url: &str, queries: &[&str]) -> Vec<String> {
    use trendpipe_core::sql::Sql;
    let sql = Sql::open(url).await.unwrap();
    let mut rows = Vec::new();
    for q in queries {
        let got: Vec<String> = match &sql {
            Sql::Sqlite(pool) => sqlx::query_scalar(q).fetch_all(pool).await.unwrap(),
            Sql::Postgres(pool) => sqlx::query_scalar(q).fetch_all(pool).await.unwrap(),
        };
        rows.extend(got);
    }
    sql.close().await;
    rows.sort();
    rows
}
