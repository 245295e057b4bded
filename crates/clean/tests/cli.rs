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
    assert_eq!(ran.out[3].get("woeid_parent"), None, "provider fields are stripped");
    assert_eq!(ran.out[3]["volume"], 9000);
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
    let ran = clean(fixture("ndjson/raw-trends-mixed.ndjson"), &["--keep-extra-fields"]);
    assert_eq!(ran.out[3]["woeid_parent"], 1, "unknown fields pass through with --keep-extra-fields");
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

/// `raw-rules.ndjson` exercises every rule; see the comments on each expectation.
const RULES: &str = "ndjson/raw-rules.ndjson";

fn rule_of(r: &Value) -> (u64, String) {
    (r["line"].as_u64().unwrap(), r["rule"].as_str().unwrap().to_owned())
}

#[test]
fn every_rule_on_trends_and_posts() {
    let ran = clean(fixture(RULES), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.err);
    let expected: Vec<Value> = vec![
        // Line 1: provider fields (url, query, promoted_content) removed; the same
        // volume as line 2 in another place of the snapshot: a worldwide count.
        serde_json::json!({"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},"name":"#BBB26",
            "key":"bbb26","volume":125000,"rank":1,"observed_at":"2026-11-22T01:30:00Z","volume_scope":"global"}),
        // Line 2: name trimmed, flagged with line 1.
        serde_json::json!({"kind":"trend","source":"x","place":{"id":"1","name":"Worldwide"},"name":"#bbb26",
            "key":"bbb26","volume":125000,"rank":4,"observed_at":"2026-11-22T01:30:00Z","volume_scope":"global"}),
        // Line 4: counts from strings, time to UTC, key computed.
        serde_json::json!({"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},
            "name":"Copa do Brasil","volume":48857,"rank":3,"observed_at":"2026-11-22T01:30:00Z","key":"copa do brasil"}),
        // Line 8 in the place of line 6: the freshest copy of post 1134 (observed
        // 01:30 UTC), entities decoded, counts as numbers, avatar and emojis removed.
        serde_json::json!({"kind":"post","source":"mastodon","id":"1134","url":"https://mastodon.social/@ana/1134",
            "text":"Café & samba <3 😀","lang":"pt","created_at":"2026-11-22T00:55:00Z",
            "author":{"id":"9","handle":"ana","followers":1250},"metrics":{"reposts":4,"likes":12,"replies":1,"quotes":0},
            "parent_id":null,"quote_of":null,"trend":"bbb26","observed_at":"2026-11-22T01:30:00Z"}),
        // Line 11: woeid_parent removed.
        serde_json::json!({"kind":"trend","source":"x","place":{"id":"455827","name":"São Paulo"},"name":"Palmeiras",
            "key":"palmeiras","volume":9000,"rank":6,"observed_at":"2026-11-22T01:30:00Z"}),
    ];
    assert_eq!(ran.out, expected);
    let rejects: Vec<(u64, String)> = ran.rejects.iter().map(rule_of).collect();
    let want: Vec<(u64, String)> = [
        (3, "null-volume"),
        (5, "duplicate"),
        (7, "schema"),
        (6, "duplicate"), // superseded when line 8 arrived
        (9, "schema"),
        (10, "duplicate"), // older than line 8 although its counts are higher
    ]
    .iter()
    .map(|(l, r)| (*l, (*r).to_owned()))
    .collect();
    assert_eq!(rejects, want);
    assert_eq!(ran.rejects[4]["reason"], "text: expected a string, found a number");
    // The quarantine keeps records exactly as read.
    let raw: Vec<Value> = lines(&fixture(RULES));
    assert_eq!(ran.rejects[3]["record"], raw[5]);
    assert!(ran.err.contains("line 9: text: expected a string, found a number"), "{}", ran.err);
    assert!(
        ran.err.contains(
            "read 11, kept 5, dropped 3 duplicate, 1 null-volume, rejected 2 invalid; \
             changed 3 normalised, 3 extra-fields, 2 global-volume, 0 post-updates"
        ),
        "{}",
        ran.err
    );
}

#[test]
fn each_rule_has_its_switch() {
    let by_line = |ran: &Ran| {
        ran.out.iter().map(|r| r["name"].as_str().or(r["id"].as_str()).unwrap().to_owned()).collect::<Vec<_>>()
    };

    let ran = clean(fixture(RULES), &["--keep-null-volume"]);
    assert_eq!(by_line(&ran), ["#BBB26", "#bbb26", "Neymar", "Copa do Brasil", "1134", "Palmeiras"]);

    let ran = clean(fixture(RULES), &["--no-dedupe"]);
    assert_eq!(by_line(&ran), ["#BBB26", "#bbb26", "Copa do Brasil", "#BBB26", "1134", "1134", "1134", "Palmeiras"]);
    assert_eq!(ran.out[3]["volume"], 126000);

    let ran = clean(fixture(RULES), &["--no-normalise"]);
    assert_eq!(ran.out[1]["name"], " #bbb26 ");
    assert_eq!(ran.out[2]["volume"], "48,857");
    assert_eq!(ran.out[2].get("key"), None);
    assert_eq!(ran.out[3]["text"], "Caf&eacute; &amp; samba &lt;3 &#x1F600;");
    assert_eq!(ran.out[3]["observed_at"], "2026-11-21T22:30:00-03:00");
    assert!(ran.err.contains("changed 0 normalised"), "{}", ran.err);

    let ran = clean(fixture(RULES), &["--keep-extra-fields"]);
    assert_eq!(ran.out[0]["query"], "%23BBB26");
    assert_eq!(ran.out[3]["emojis"], serde_json::json!([]));
    assert_eq!(ran.out[3]["author"]["avatar"], "https://files.mastodon.social/a.png");

    let ran = clean(fixture(RULES), &["--no-global-volume"]);
    assert!(ran.out.iter().all(|r| r.get("volume_scope").is_none()));
    assert_eq!(ran.out.len(), 5);

    let ran = clean(fixture(RULES), &["--no-validate"]);
    assert_eq!(ran.code, Some(0), "{}", ran.err);
    assert_eq!(ran.out.len(), 7);
    assert_eq!(ran.out[4]["volume"], "many", "invalid records pass through untouched");
    assert_eq!(ran.out[5]["text"], 5);
    assert!(ran.err.contains(", 2 unvalidated"), "{}", ran.err);
}

#[test]
fn cleaning_the_clean_output_again_changes_nothing() {
    let first = clean(fixture(RULES), &[]);
    let input: Vec<u8> = first.out.iter().flat_map(|v| format!("{v}\n").into_bytes()).collect();
    let second = clean(input, &[]);
    assert_eq!(second.code, Some(0), "{}", second.err);
    assert_eq!(second.out, first.out);
    assert!(second.rejects.is_empty());
    assert!(second.err.contains("changed 0 normalised, 0 extra-fields, 2 global-volume"), "{}", second.err);
}

#[test]
fn a_10_mb_line_goes_through_whole() {
    let text = "é&amp;".repeat(10 * 1024 * 1024 / 7);
    let big = serde_json::json!({"kind":"post","source":"mastodon","id":"big","text":text,
        "observed_at":"2026-11-22T01:30:00Z"});
    let mut input = format!("{big}\n").into_bytes();
    assert!(input.len() > 10 * 1024 * 1024);
    input.extend_from_slice(b"{\"kind\":\"post\",\"source\":\"mastodon\",\"id\":\"small\",\"text\":\"ok\"}\n");
    let ran = clean(input, &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.err);
    assert_eq!(ran.out.len(), 2);
    assert_eq!(ran.out[0]["text"].as_str().unwrap(), "é&".repeat(10 * 1024 * 1024 / 7));
    assert_eq!(ran.out[1]["id"], "small");
}

#[test]
fn to_mongo_needs_from_mongo() {
    let ran = clean(Vec::new(), &["--to", "mongo"]);
    assert_eq!(ran.code, Some(2));
    assert!(ran.err.contains("--to mongo cleans MongoDB in place and needs --from mongo"), "{}", ran.err);
}

#[test]
fn help_points_at_the_architecture_document_of_the_repository() {
    let out = Command::cargo_bin("clean").unwrap().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(help.contains("docs/ARCHITECTURE.md"), "{help}");
    // Every document the help names is a file of the repository: a clone has nothing else.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for word in help.split(|c: char| c.is_whitespace() || "()[],;`'\"".contains(c)) {
        if let Some(doc) = word.trim_end_matches('.').strip_suffix(".md") {
            assert!(root.join(format!("{doc}.md")).is_file(), "--help names {word}, which is not in the repository");
        }
    }
    // The shared flag groups of core are flattened in.
    for flag in ["--config", "--mongo-database", "--reject", "--from", "--to"] {
        assert!(help.contains(flag), "{flag} missing from {help}");
    }
}

#[test]
fn without_reject_the_drops_go_to_clean_rejects_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("clean")
        .unwrap()
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .write_stdin(fixture("ndjson/raw-trends-mixed.ndjson"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rejects = std::fs::read(dir.path().join("clean.rejects.ndjson")).unwrap();
    let rules: Vec<String> = lines(&rejects).iter().map(|r| r["rule"].as_str().unwrap().to_owned()).collect();
    assert!(rules.contains(&"null-volume".to_owned()) && rules.contains(&"schema".to_owned()), "{rules:?}");
}

#[test]
fn a_record_passed_on_unchanged_is_written_as_the_bytes_read() {
    // Spaces, an escape and a float that serde_json would write otherwise.
    let line = r#"{"kind": "tweet", "text": "Caf\u00e9", "n": 1.0e3}"#;
    let out = Command::cargo_bin("clean")
        .unwrap()
        .env("HOME", std::env::temp_dir())
        .args(["--no-validate", "--reject", "/dev/null"])
        .write_stdin(format!("  {line}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{line}\n"));
}
