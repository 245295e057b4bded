//! The `sentiment` binary as a user runs it in a pipe.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;
use trendpipe_sentiment::vader::Analyzer;

fn sentiment(input: Vec<u8>) -> (Option<i32>, Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("sentiment").unwrap().current_dir(dir.path()).write_stdin(input).output().unwrap();
    let records = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), records, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn sample_posts_get_the_engine_scores() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/posts/sample-posts.ndjson");
    let input = std::fs::read(path).unwrap();
    let (code, records, err) = sentiment(input.clone());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(records.len(), 5);
    let analyzer = Analyzer::new();
    for (rec, line) in records.iter().zip(String::from_utf8(input).unwrap().lines()) {
        let original: Value = serde_json::from_str(line).unwrap();
        match original["text"].as_str() {
            Some(text) => {
                let s = analyzer.polarity_scores(text);
                assert_eq!(rec["sentiment"]["compound"], s.compound, "{text}");
                assert_eq!(rec["sentiment"]["neg"], s.neg, "{text}");
            }
            None => assert!(rec.get("sentiment").is_none()),
        }
        // Everything else passes through untouched.
        let mut without = rec.clone();
        without.as_object_mut().unwrap().remove("sentiment");
        assert_eq!(without, original);
    }
    assert_eq!(records[0]["sentiment"]["label"], "positive");
    assert_eq!(records[1]["sentiment"]["label"], "negative");
    assert_eq!(records[2]["sentiment"]["label"], "neutral");
    assert!(err.contains("scored 4 posts, 1 posts without text"), "{err}");
}

#[test]
fn odd_inputs_have_a_clear_outcome() {
    let mut input = Vec::new();
    input.extend_from_slice(br#"{"kind":"post","source":"x","id":"1","text":"bom dia","lang":"xx-unknown"}"#);
    input.push(b'\n');
    input.extend_from_slice(b"{\"kind\":\"post\",\"text\":\"\xff\"}\n");
    let big = "great ".repeat(200_000);
    input.extend_from_slice(format!(r#"{{"kind":"post","source":"x","id":"2","text":"{big}"}}"#).as_bytes());
    input.push(b'\n');
    let (code, records, err) = sentiment(input);
    assert_eq!(code, Some(1), "the invalid UTF-8 line is rejected: {err}");
    assert!(err.contains("line 2: invalid UTF-8"), "{err}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["sentiment"]["label"], "neutral");
    assert!(records[1]["sentiment"]["compound"].as_f64().unwrap() > 0.99);
}
