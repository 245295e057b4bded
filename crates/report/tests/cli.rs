//! The `report` binary on an SQLite database filled by `etl-to-sql`.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

fn load(dir: &std::path::Path, lines: &[(&str, &str, Option<i64>, &str)]) -> String {
    let url = format!("sqlite:{}", dir.join("t.db").display());
    let input: String = lines
        .iter()
        .map(|(name, place, volume, at)| {
            let volume = volume.map_or("null".to_owned(), |v| v.to_string());
            format!(
                r#"{{"kind":"trend","source":"x","place":{{"id":"{place}"}},"name":"{name}","volume":{volume},"rank":1,"observed_at":"{at}"}}"#
            ) + "\n"
        })
        .collect();
    let out = Command::cargo_bin("etl-to-sql")
        .unwrap()
        .current_dir(dir)
        .args(["--db", &url])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    url
}

fn report(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out =
        Command::cargo_bin("report").unwrap().current_dir(dir).env_remove("DATABASE_URL").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn top_n_of_the_latest_day_by_peak_volume() {
    let dir = tempfile::tempdir().unwrap();
    let url = load(
        dir.path(),
        &[
            ("Old", "1", Some(10_000_000), "2026-11-20T00:00:00Z"),
            ("#A", "1", Some(100), "2026-11-22T00:00:00Z"),
            ("#A", "2", Some(300), "2026-11-22T01:00:00Z"),
            ("B", "1", Some(200), "2026-11-22T01:00:00Z"),
            ("C", "1", None, "2026-11-22T01:30:00Z"),
        ],
    );
    let (code, out, err) = report(dir.path(), &["--db", &url, "--format", "json", "--top", "3"]);
    assert_eq!(code, Some(0), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let rows: Vec<(&str, Option<i64>, i64, i64)> = doc["trends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["peak_volume"].as_i64(),
                t["places"].as_i64().unwrap(),
                t["observations"].as_i64().unwrap(),
            )
        })
        .collect();
    // "Old" is outside the 24 h ending at the latest observation; C has no volume and comes last.
    assert_eq!(rows, [("#A", Some(300), 2, 2), ("B", Some(200), 1, 1), ("C", None, 1, 1)]);
    assert_eq!(doc["window"]["until"], "2026-11-22T01:30:01Z");

    let (_, csv, _) = report(dir.path(), &["--db", &url, "--format", "csv", "--since", "2026-11-19T00:00:00Z"]);
    let first_row = csv.lines().nth(1).unwrap();
    assert!(first_row.starts_with("1,Old,old,x,10000000,1,1,1,"), "{csv}");
}

#[test]
fn html_page_is_written_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = load(dir.path(), &[("<b>Bold</b> & co", "1", Some(1234567), "2026-11-22T00:00:00Z")]);
    let (code, out, err) = report(dir.path(), &["--db", &url, "--format", "html", "-o", "out/report.html"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    let page = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("1,234,567"));
    assert!(!page.contains("<b>Bold</b>"), "names must be escaped");
    assert!(!page.contains("http://") && !page.contains("https://"), "the page is self-contained");
}

#[test]
fn a_missing_database_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = report(dir.path(), &["--db", "sqlite:nope.db"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no such database"), "{err}");
    assert!(!dir.path().join("nope.db").exists());
}
