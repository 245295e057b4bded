//! What the integration tests share: running the real binary off the async runtime
//! (so that the mock servers keep answering), fixtures, and trend records on stdin.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

pub const X_TOKEN: &str = "x-test-bearer-QQQQ1234567890";

pub fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub struct Run {
    pub code: Option<i32>,
    pub records: Vec<Value>,
    pub stderr: String,
}

impl Run {
    /// The records whose `id` is `id`.
    pub fn with_id(&self, id: &str) -> Vec<&Value> {
        self.records.iter().filter(|r| r["id"] == id).collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.records.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
    }
}

/// The command, with a clean environment in `dir`.
pub fn command(dir: &Path, args: &[String], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("fetch-posts"));
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("X_BEARER_TOKEN")
        .env_remove("BLUESKY_TOKEN")
        .env_remove("MONGODB_URI")
        .env_remove("MONGODB_DATABASE")
        .env_remove("TRENDPIPE_CONFIG")
        .env_remove("TRENDPIPE_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the binary in `dir` with `stdin`, off the async runtime.
pub async fn run_in(dir: &Path, args: Vec<String>, stdin: String, env: Vec<(String, String)>) -> Run {
    let dir = dir.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut child = command(&dir, &args, &env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(stdin.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records = stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    Run { code: out.status.code(), records, stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

/// Runs the binary in a fresh directory.
pub async fn run(args: Vec<String>, stdin: String, env: Vec<(String, String)>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args, stdin, env).await
}

pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn x_env() -> Vec<(String, String)> {
    vec![("X_BEARER_TOKEN".into(), X_TOKEN.into())]
}

/// A trend record line.
pub fn trend(place: &str, name: &str, rank: u32, observed_at: &str) -> String {
    json!({"kind":"trend","source":"x","place":{"id":place},"name":name,"volume":1000,"rank":rank,"observed_at":observed_at})
        .to_string()
}

/// Trend records on stdin, one snapshot.
pub fn trends(names: &[&str]) -> String {
    names.iter().enumerate().map(|(i, n)| trend("23424768", n, i as u32 + 1, "2026-11-22T00:00:00Z") + "\n").collect()
}
