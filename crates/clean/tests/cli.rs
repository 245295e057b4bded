//! The `clean` binary as a user runs it: NDJSON on stdin, clean records on stdout,
//! reasons on stderr, drops in the reject file.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

struct Ran {
    code: Option<i32>,
    out: Vec<Value>,
    err: String,
    rejects: Vec<Value>,
}

fn clean(input: Vec<u8>, args: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let reject = dir.path().join("rejects.ndjson");
    let out = Command::cargo_bin("clean")
        .unwrap()
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .arg("--reject")
        .arg(&reject)
        .args(args)
        .write_stdin(input)
        .output()
        .unwrap();
    let rejects = std::fs::read(&reject).map(|b| lines(&b)).unwrap_or_default();
    Ran {
        code: out.status.code(),
        out: lines(&out.stdout),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
        rejects,
    }
}

#[test]
fn malformed_line_is_named_the_rest_flows_and_the_exit_code_is_1() {
    let ran = clean(fixture("ndjson/raw-trends-mixed.ndjson"), &[]);
    assert_eq!(ran.code, Some(1), "stderr: {}", ran.err);
    assert!(ran.err.contains("clean: warning: line 4: invalid JSON"), "stderr: {}", ran.err);
    assert!(ran.err.contains("line 7: volume: expected a number, found \"many\""), "stderr: {}", ran.err);
    let names: Vec<&str> = ran.out.iter().map(|r| r["name"].as_str().unwrap()).collect();
    // Line 2 has no volume, line 5 repeats line 1, line 4 and 7 are invalid.
    assert_eq!(names, ["#BBB26", "Copa do Brasil", "#BBB26", "Palmeiras"]);
    let copa = &ran.out[1];
    assert_eq!(copa["volume"], 48857);
    assert_eq!(copa["rank"], 3);
    assert_eq!(copa["observed_at"], "2026-11-22T01:30:00Z");
    assert_eq!(ran.out[3]["woeid_parent"], 1, "unknown fields pass through");
    assert!(ran.err.contains("read 8, kept 4, dropped 1 duplicate, 1 null-volume, rejected 2 invalid"), "{}", ran.err);
}

#[test]
fn every_dropped_record_is_in_the_reject_file_with_its_reason() {
    let ran = clean(fixture("ndjson/raw-trends-mixed.ndjson"), &[]);
    let summary: Vec<(u64, &str)> =
        ran.rejects.iter().map(|r| (r["line"].as_u64().unwrap(), r["rule"].as_str().unwrap())).collect();
    assert_eq!(summary, [(2, "null-volume"), (4, "schema"), (5, "duplicate"), (7, "schema")]);
    // The malformed line is kept as it was, as text.
    assert_eq!(ran.rejects[1]["record"], r#"{"kind":"trend","source":"x","place":{"id":"23424768", "name": "Brazil""#);
    assert_eq!(ran.rejects[0]["record"]["name"], "Neymar");
    assert!(ran.rejects.iter().all(|r| r["stage"] == "clean" && r["reason"].as_str().is_some_and(|s| !s.is_empty())));
}

#[test]
fn switches_keep_null_volumes_and_duplicates() {
    let ran = clean(fixture("ndjson/raw-trends-mixed.ndjson"), &["--keep-null-volume", "--no-dedupe"]);
    assert_eq!(ran.out.len(), 6);
    assert!(ran.out.iter().any(|r| r["name"] == "Neymar" && r["volume"].is_null()));
}

#[test]
fn drops_alone_exit_0_and_a_clean_input_leaves_no_reject_file() {
    let input = br#"{"kind":"trend","source":"x","place":{"id":"1"},"name":"A","volume":null,"observed_at":"2026-11-22T01:30:00Z"}
{"kind":"trend","source":"x","place":{"id":"1"},"name":"B","volume":3,"observed_at":"2026-11-22T01:30:00Z"}
"#;
    let ran = clean(input.to_vec(), &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.err);
    assert_eq!(ran.out.len(), 1);
    assert_eq!(ran.rejects.len(), 1);

    let ran = clean(input[input.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec(), &[]);
    assert_eq!(ran.code, Some(0));
    assert!(ran.rejects.is_empty());
}

#[test]
fn rerunning_on_clean_output_changes_nothing() {
    let first = clean(fixture("ndjson/raw-trends-mixed.ndjson"), &[]);
    let input: Vec<u8> = first.out.iter().flat_map(|v| format!("{v}\n").into_bytes()).collect();
    let second = clean(input, &[]);
    assert_eq!(second.code, Some(0), "{}", second.err);
    assert_eq!(second.out, first.out);
}

#[test]
fn invalid_utf8_is_rejected_by_line_number() {
    let mut input = b"{\"kind\":\"trend\",\"source\":\"x\",\"place\":{\"id\":\"1\"},\"name\":\"ok\",\"volume\":1,\"observed_at\":\"2026-11-22T01:30:00Z\"}\n".to_vec();
    input.extend_from_slice(b"{\"kind\":\"trend\",\"name\":\"\xff\xfe\"}\n");
    let ran = clean(input, &[]);
    assert_eq!(ran.code, Some(1));
    assert!(ran.err.contains("line 2: invalid UTF-8"), "{}", ran.err);
    assert_eq!(ran.out.len(), 1);
}

#[test]
fn closed_stdout_is_not_an_error() {
    // `clean | head -1`: the reader goes away; clean must end quietly with success.
    let mut input = Vec::new();
    for i in 0..200_000 {
        input.extend_from_slice(
            format!("{{\"kind\":\"trend\",\"source\":\"x\",\"place\":{{\"id\":\"1\"}},\"name\":\"t{i}\",\"volume\":{i},\"observed_at\":\"2026-11-22T01:30:00Z\"}}\n")
                .as_bytes(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("in.ndjson");
    std::fs::write(&input_path, input).unwrap();
    let clean = assert_cmd::cargo::cargo_bin("clean");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} --reject {}/r.ndjson < {} | head -n 1",
            clean.display(),
            dir.path().display(),
            input_path.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}
