//! The health view: a database whose newest observation is three hours old is stale
//! (`report health` exits 1 and names the source and place, the served `/healthz`
//! answers 503), and a fresh snapshot loaded on top makes it healthy again; the run
//! ledger's stages show with their last success.

// Test code fails the test by panicking, as assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::Value;
use trendpipe_pipeline_tests::{bin, run};

fn snapshot(place: &str, hours_ago: i64) -> String {
    let at = (Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        "{{\"kind\":\"trend\",\"source\":\"x\",\"place\":{{\"id\":\"{place}\",\"name\":\"P{place}\"}},\"name\":\"#Fresh{hours_ago}\",\"volume\":100,\"rank\":1,\"observed_at\":\"{at}\"}}\n"
    )
}

struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &str) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin("report"))
        .args(["serve", "--db", db, "--addr", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "report serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Served(child, format!("http://127.0.0.1:{port}"))
}

async fn status(url: &str) -> (u16, String) {
    let r = reqwest_lite(url).await;
    (r.0, r.1)
}

/// A GET over a plain TCP socket: enough for a loopback health check, and no HTTP
/// client to pull into the test crate.
async fn reqwest_lite(url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hours_without_a_snapshot_is_stale_and_a_fresh_one_makes_it_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("h.db").display());
    let old = format!("{}{}", snapshot("23424768", 3), snapshot("1", 1));
    let loaded = run("etl-to-sql", &["--db", &db], &[], old.as_bytes(), dir.path());
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);

    let health = run("report", &["health", "--db", &db], &[], b"", dir.path());
    assert_eq!(health.code, Some(1), "stale data exits 1: {}{}", health.stdout, health.stderr);
    assert!(health.stdout.contains("STALE"), "{}", health.stdout);
    assert!(health.stderr.contains("x 23424768: newest observation 3.0 h ago"), "{}", health.stderr);
    assert!(!health.stderr.contains("x 1:"), "place 1 is fresh: {}", health.stderr);

    let json = run("report", &["health", "--db", &db, "--format", "json"], &[], b"", dir.path());
    let h: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(h["stale"], true);
    let stale: Vec<&str> = h["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["stale"] == true)
        .map(|f| f["place"].as_str().unwrap())
        .collect();
    assert_eq!(stale, ["23424768"]);
    let stages = h["stages"].as_array().unwrap();
    let etl = stages.iter().find(|s| s["stage"] == "etl-to-sql").expect("the load is in the ledger");
    assert!(etl["last_ok"].as_str().is_some(), "{etl}");
    // A looser limit makes the same data fresh.
    let loose = run("report", &["health", "--db", &db, "--stale-after", "4h"], &[], b"", dir.path());
    assert_eq!(loose.code, Some(0), "{}", loose.stdout);

    // The served check flips to 503, then back to 200 once a new snapshot is in.
    let server = serve(&db);
    let (code, body) = status(&format!("{}/healthz", server.1)).await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("x 23424768"), "{body}");
    let fresh = snapshot("23424768", 0);
    let loaded = run("etl-to-sql", &["--db", &db], &[], fresh.as_bytes(), dir.path());
    assert_eq!(loaded.code, Some(0), "{}", loaded.stderr);
    let (code, body) = status(&format!("{}/healthz", server.1)).await;
    assert_eq!((code, body.as_str()), (200, "ok\n"));
    let (code, page) = status(&format!("{}/health", server.1)).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("etl-to-sql") && page.contains("fresh"), "{page}");
    let after = run("report", &["health", "--db", &db], &[], b"", dir.path());
    assert_eq!(after.code, Some(0), "{}", after.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_observations_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("e.db").display());
    let ok = run("etl-to-sql", &["--db", &db], &[], b"", dir.path());
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    let health = run("report", &["health", "--db", &db, "--format", "json"], &[], b"", dir.path());
    assert_eq!(health.code, Some(1), "no observation at all is stale: {}", health.stdout);
    let h: Value = serde_json::from_str(&health.stdout).unwrap();
    assert_eq!(h["freshness"].as_array().unwrap().len(), 0);
    assert!(health.stderr.contains("no observation in the database"), "{}", health.stderr);
}
