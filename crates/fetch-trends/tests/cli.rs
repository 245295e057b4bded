//! `fetch-trends --source x` against a local server that answers as X API v2 does,
//! oddities included: counts missing, 429 with reset headers, 5xx, slow answers,
//! truncated bodies, payloads of the wrong shape, refused tokens.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "test-bearer-AAAA1234567890";

fn fixture(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs the binary off the async runtime so the mock server keeps answering.
async fn fetch(args: Vec<String>, token: Option<&str>) -> (Option<i32>, Vec<Value>, String) {
    let token = token.map(str::to_owned);
    let out: Output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fetch-trends"));
        cmd.args(&args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env_remove("X_BEARER_TOKEN")
            .env_remove("TRENDPIPE_CONFIG");
        if let Some(t) = token {
            cmd.env("X_BEARER_TOKEN", t);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let records = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), records, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn args(server: &MockServer, places: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a =
        vec!["--source".to_owned(), "x".into(), "--base-url".into(), server.uri(), "--backoff-ms".into(), "10".into()];
    for p in places {
        a.push("--place".into());
        a.push((*p).into());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_payload_becomes_trend_records() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/23424768"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("x-v2/trends-by-woeid-23424768.json"), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (code, records, err) = fetch(args(&server, &["23424768=Brazil"], &[]), Some(TOKEN)).await;
    assert_eq!(code, Some(0), "{err}");
    let payload: Value = serde_json::from_str(&fixture("x-v2/trends-by-woeid-23424768.json")).unwrap();
    let data = payload["data"].as_array().unwrap();
    assert_eq!(records.len(), data.len());
    for (i, (rec, item)) in records.iter().zip(data).enumerate() {
        assert_eq!(rec["kind"], "trend");
        assert_eq!(rec["source"], "x");
        assert_eq!(rec["place"]["id"], "23424768");
        assert_eq!(rec["place"]["name"], "Brazil");
        assert_eq!(rec["name"], item["trend_name"]);
        assert_eq!(rec["rank"], i as u64 + 1);
        // A missing tweet_count stays null: never invented.
        assert_eq!(rec["volume"], *item.get("tweet_count").unwrap_or(&Value::Null));
        assert!(rec["run_id"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(rec["observed_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(records[0]["key"], "bbb26");
    let with_volume = data.iter().filter(|d| d.get("tweet_count").is_some()).count();
    assert!(err.contains(&format!("{} trends, {with_volume} with a volume", data.len())), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_token_exits_2_without_showing_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            format!(r#"{{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized {TOKEN}"}}"#),
            "application/problem+json",
        ))
        .mount(&server)
        .await;
    let (code, records, err) = fetch(args(&server, &["1", "23424768"], &[]), Some(TOKEN)).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(records.is_empty());
    assert!(err.contains("X API refused the bearer token (HTTP 401"), "{err}");
    assert!(!err.contains(TOKEN), "the token leaked: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_token_is_a_configuration_error() {
    let server = MockServer::start().await;
    let (code, _, err) = fetch(args(&server, &["1"], &[]), None).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("X_BEARER_TOKEN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream overloaded"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r##"{"data":[{"trend_name":"#A","tweet_count":10}]}"##, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (code, records, err) = fetch(args(&server, &["1"], &[]), Some(TOKEN)).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(records.len(), 1);
    assert_eq!(err.matches("HTTP 503: upstream overloaded; retrying").count(), 2, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_waits_as_the_headers_say() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "75")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .set_body_raw(
                    r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
                    "application/json",
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"data":[{"trend_name":"B"}]}"#, "application/json"))
        .mount(&server)
        .await;
    let (code, records, err) = fetch(args(&server, &["1"], &[]), Some(TOKEN)).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(records[0]["volume"], Value::Null);
    assert!(err.contains("rate limited (HTTP 429), waiting"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_longer_than_max_wait_fails_the_place_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/23424768"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"data":[{"trend_name":"C","tweet_count":5}]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let (code, records, err) = fetch(args(&server, &["1", "23424768"], &["--max-wait", "60"]), Some(TOKEN)).await;
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(records.len(), 1, "the other place is still written");
    assert_eq!(records[0]["place"]["id"], "23424768");
    assert!(err.contains("asks to wait 3600s, more than --max-wait 60s"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_truncated_bodies_and_wrong_shapes_fail_their_place_with_a_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/1"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)).set_body_string("{}"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r##"{"data":[{"trend_name":"#Cut","tweet_co"##, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r##"{"data":[{"name":"#Old","tweet_volume":1}]}"##, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/trends/by/woeid/4"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"data":[{"trend_name":"Fine"}]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let (code, records, err) =
        fetch(args(&server, &["1", "2", "3", "4"], &["--timeout", "1", "--retries", "1"]), Some(TOKEN)).await;
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["name"], "Fine");
    assert!(err.contains("x place 1: ") && err.contains("timed out"), "{err}");
    assert!(err.contains("x place 2: unexpected payload: body: not valid JSON"), "{err}");
    assert!(err.contains("x place 3: unexpected payload: data[0].trend_name: missing"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_v1_files_import_without_network() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/x-v1/trends-place-20261121T2000.json");
    let (code, records, err) = fetch(
        vec![
            "--source".into(),
            "x-v1".into(),
            "--file".into(),
            file.display().to_string(),
            "--place".into(),
            "1".into(),
        ],
        None,
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let world = saved.as_array().unwrap().iter().find(|e| e["locations"][0]["woeid"] == 1).unwrap();
    assert_eq!(records.len(), world["trends"].as_array().unwrap().len());
    assert!(records.iter().all(|r| r["place"]["id"] == "1" && r["observed_at"] == world["as_of"]));
    assert_eq!(records[0]["volume"], world["trends"][0]["tweet_volume"]);
    assert_eq!(records[0]["api"], "v1.1");
}
