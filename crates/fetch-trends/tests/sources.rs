//! `fetch-trends --source mastodon|google|bluesky` against a local server that answers
//! as each provider documents it (fixtures in `fixtures/{mastodon,google,bluesky}/`),
//! then as it misbehaves: 429 with each provider's reset header, 5xx, slow answers,
//! truncated bodies, payloads of the wrong shape, refused tokens.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BSKY_TOKEN: &str = "bsky-test-token-ZZZZ987654321";

fn fixture(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Run {
    code: Option<i32>,
    records: Vec<Value>,
    stderr: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
}

/// Runs the binary off the async runtime so the mock server keeps answering.
async fn fetch(args: Vec<String>, bluesky_token: Option<&str>) -> Run {
    let token = bluesky_token.map(str::to_owned);
    let started = Utc::now();
    let out: Output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fetch-trends"));
        cmd.args(&args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env_remove("X_BEARER_TOKEN")
            .env_remove("BLUESKY_TOKEN")
            .env_remove("TRENDPIPE_CONFIG")
            .env_remove("TRENDPIPE_LOG");
        if let Some(t) = token {
            cmd.env("BLUESKY_TOKEN", t);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let ended = Utc::now();
    let records = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    Run { code: out.status.code(), records, stderr: String::from_utf8_lossy(&out.stderr).into_owned(), started, ended }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The arguments every test run shares: the mock server as base URL and short backoffs.
fn base(server: &MockServer, source: &str, rest: &[&str]) -> Vec<String> {
    let mut a = strings(&["--source", source, "--base-url", &server.uri(), "--backoff-ms", "10"]);
    a.extend(strings(rest));
    a
}

fn field<'a>(records: &'a [Value], name: &str) -> Vec<&'a Value> {
    records.iter().map(|r| &r[name]).collect()
}

/// `observed_at` is the fetch time: inside the run, to the second.
fn assert_fetch_time(run: &Run) {
    for r in &run.records {
        let at = DateTime::parse_from_rfc3339(r["observed_at"].as_str().unwrap()).unwrap().with_timezone(&Utc);
        assert!(at.timestamp() >= run.started.timestamp() && at <= run.ended, "{at} outside the run");
    }
}

/// One provider as the failure tests see it: how to call it, where it answers, a good
/// answer, and an answer of the wrong shape with the message it must produce.
struct Case {
    source: &'static str,
    args: &'static [&'static str],
    path: &'static str,
    good: &'static str,
    good_names: &'static [&'static str],
    content_type: &'static str,
    label: &'static str,
    wrong: &'static str,
    wrong_reason: &'static str,
}

const CASES: &[Case] = &[
    Case {
        source: "mastodon",
        args: &["--instance", "mastodon.social"],
        path: "/api/v1/trends/tags",
        good: r#"[{"name":"Caturday","url":"https://mastodon.social/tags/caturday","history":[{"day":"1795392000","uses":"3","accounts":"3"},{"day":"1795305600","uses":"120","accounts":"99"}]}]"#,
        good_names: &["Caturday"],
        content_type: "application/json",
        label: "mastodon instance mastodon.social",
        wrong: r#"[{"name":"Caturday","history":[{"day":"1795392000","uses":"3","accounts":"3"},{"day":"1795305600","uses":3.5}]}]"#,
        wrong_reason: "[0].history[1].uses: expected a count, found 3.5",
    },
    Case {
        source: "google",
        args: &["--place", "BR"],
        path: "/trending/rss",
        good: r#"<rss xmlns:ht="https://trends.google.com/trending/rss" version="2.0"><channel><item><title>enem</title><ht:approx_traffic>500+</ht:approx_traffic></item></channel></rss>"#,
        good_names: &["enem"],
        content_type: "application/rss+xml",
        label: "google place BR",
        wrong: r#"<rss version="2.0"><channel><item><ht:approx_traffic xmlns:ht="https://trends.google.com/trending/rss">500+</ht:approx_traffic></item></channel></rss>"#,
        wrong_reason: "channel.item[0].title: missing or empty",
    },
    Case {
        source: "bluesky",
        args: &[],
        path: "/xrpc/app.bsky.unspecced.getTrendingTopics",
        good: r#"{"topics":[{"topic":"Thanksgiving","link":"/search?q=Thanksgiving"}],"suggested":[]}"#,
        good_names: &["Thanksgiving"],
        content_type: "application/json",
        label: "bluesky place global",
        wrong: r#"{"topics":[{"topic":["Thanksgiving"],"link":"/x"}],"suggested":[]}"#,
        wrong_reason: "topics[0].topic: expected a string, found an array",
    },
];

fn good(case: &Case) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(case.good, case.content_type)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_documented_payload_becomes_trend_records() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/trends/tags"))
        .and(query_param("limit", "20"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(fixture("mastodon/trends-tags.json"), "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let run = fetch(base(&server, "mastodon", &["--instance", "mastodon.social"]), None).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.records;
    // The instance's order (trend score) is the rank, even where uses disagree.
    assert_eq!(field(r, "name"), ["Caturday", "EleicoesMunicipais", "introduction", "FediTips", "NovemberRain"]);
    assert_eq!(field(r, "rank"), [1, 2, 3, 4, 5]);
    assert_eq!(field(r, "key"), ["caturday", "eleicoesmunicipais", "introduction", "feditips", "novemberrain"]);
    // The last full day's uses; a tag with only today's partial day has no volume.
    assert_eq!(field(r, "volume"), [&json!(1204), &json!(2210), &json!(74), &json!(96), &Value::Null]);
    assert_eq!(field(r, "uses_today"), [41, 388, 12, 0, 19]);
    assert_eq!(field(r, "accounts"), [&json!(988), &json!(1302), &json!(73), &json!(60), &Value::Null]);
    assert!(r.iter().all(|t| t["source"] == "mastodon" && t["place"] == json!({"id": "mastodon.social"})));
    assert_eq!(r[0]["volume_day"], "2026-11-22T00:00:00Z");
    assert_eq!(r[0]["url"], "https://mastodon.social/tags/caturday");
    assert_eq!(r[0]["history"].as_array().unwrap().len(), 7);
    assert_eq!(r[0]["history"][6], json!({"day": "2026-11-17T00:00:00Z", "uses": 1321, "accounts": 1090}));
    assert_eq!(r[4]["history"], json!([{"day": "2026-11-23T00:00:00Z", "uses": 19, "accounts": 17}]));
    assert_fetch_time(&run);
    assert!(run.stderr.contains("mastodon instance mastodon.social: 5 trends, 4 with a volume"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_instances_are_places_and_limit_is_passed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/trends/tags"))
        .and(query_param("limit", "5"))
        .respond_with(good(&CASES[0]))
        .expect(2)
        .mount(&server)
        .await;
    let run = fetch(
        base(&server, "mastodon", &["--instance", "mastodon.social", "--instance", "https://mas.to/", "--limit", "5"]),
        None,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.records.iter().map(|r| r["place"]["id"].as_str().unwrap()).collect::<Vec<_>>(),
        ["mastodon.social", "mas.to"]
    );
    assert_eq!(field(&run.records, "volume"), [120, 120]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_current_feed_becomes_trend_records() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/trending/rss"))
        .and(query_param("geo", "BR"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("google/trending-rss-BR.xml"), "application/rss+xml"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let run = fetch(base(&server, "google", &["--place", "br=Brazil"]), None).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.records;
    assert_eq!(field(r, "name"), ["flamengo x palmeiras", "enem 2026 gabarito", "previsão do tempo são paulo"]);
    assert_eq!(field(r, "key")[2], "previsao do tempo sao paulo");
    assert_eq!(field(r, "rank"), [1, 2, 3]);
    assert_eq!(field(r, "volume"), [200000, 50000, 2000]);
    assert_eq!(field(r, "volume_is_lower_bound"), [true, true, true]);
    assert_eq!(field(r, "approx_traffic"), ["200,000+", "50,000+", "2000+"]);
    // pubDate (-0800) is the observation time, in UTC.
    assert_eq!(field(r, "observed_at"), ["2026-11-23T02:40:00Z", "2026-11-23T01:20:00Z", "2026-11-23T00:00:00Z"]);
    assert!(r.iter().all(|t| t["source"] == "google" && t["place"] == json!({"id": "BR", "name": "Brazil"})));
    assert_eq!(r[0]["picture_source"], "ge");
    assert_eq!(
        r[0]["news"][0],
        json!({
            "title": "Flamengo x Palmeiras: onde assistir, horário & escalações do \"clássico\"",
            "url": "https://ge.example.com/futebol/flamengo-x-palmeiras?utm_source=trends&utm_medium=rss",
            "source": "ge",
            "picture": "https://encrypted-tbn1.gstatic.com/images?q=tbn:ANd9GcQfla1",
        })
    );
    assert_eq!(r[0]["news"][1]["title"], "Palmeiras vence o Flamengo e fica perto do título");
    assert_eq!(r[1]["news"].as_array().unwrap().len(), 1);
    assert_eq!(r[2]["news"], json!([]));
    assert!(r[2].get("picture").is_none());
    assert!(run.stderr.contains("google place BR (Brazil): 3 trends, 3 with a volume"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_older_daily_feed_and_its_namespace() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/trends/trendingsearches/daily/rss"))
        .and(query_param("geo", "US"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(fixture("google/daily-rss-US.xml"), "application/xml"))
        .expect(1)
        .mount(&server)
        .await;
    let run = fetch(base(&server, "google", &["--place", "US", "--google-feed", "daily"]), None).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.records;
    assert_eq!(field(r, "name"), ["Thanksgiving Parade", "Lions vs Bears"]);
    assert_eq!(field(r, "volume"), [1_000_000, 500_000]);
    assert_eq!(field(r, "observed_at"), ["2026-11-27T06:00:00Z", "2026-11-27T06:00:00Z"]);
    // The feed escapes its HTML once more than XML needs: one level is undone, the
    // markup the provider meant is kept for later stages.
    assert_eq!(r[0]["description"], "macy&#39;s parade, thanksgiving parade 2026, parade route");
    assert_eq!(r[0]["news"][0]["title"], "<b>Thanksgiving Parade</b> 2026: balloons, performers &amp; how to watch");
    assert_eq!(r[1]["news"][0]["snippet"], "Detroit&#39;s defense held on late ...");
    assert_eq!(r[1]["news"][0]["source"], "Sports Net");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_topics_without_counts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.unspecced.getTrendingTopics"))
        .and(query_param("limit", "25"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("bluesky/trending-topics.json"), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let run = fetch(base(&server, "bluesky", &[]), None).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.records;
    // `suggested` topics are not trends: only `topics`, in order.
    assert_eq!(field(r, "name"), ["Thanksgiving", "#BBB26", "Lions vs Bears"]);
    assert_eq!(field(r, "key"), ["thanksgiving", "bbb26", "lions vs bears"]);
    assert_eq!(field(r, "rank"), [1, 2, 3]);
    assert_eq!(field(r, "volume"), [&Value::Null, &Value::Null, &Value::Null]);
    assert!(r.iter().all(|t| t["source"] == "bluesky" && t["place"] == json!({"id": "global"})));
    assert_eq!(r[1]["description"], "Big Brother Brasil & fans");
    assert_eq!(r[1]["display_name"], "#BBB26");
    assert_eq!(r[2]["link"], "/search?q=Lions%20vs%20Bears");
    // The provider's own category is kept; other unknown keys are not copied.
    assert_eq!(r[2]["category"], "sports");
    assert!(r.iter().all(|t| t.get("$type").is_none() && t.get("suggested").is_none()));
    assert_fetch_time(&run);
    assert!(run.stderr.contains("2 suggested topics left out"), "{}", run.stderr);
    assert!(run.stderr.contains("bluesky place global: 3 trends, 0 with a volume"), "{}", run.stderr);
    // No token given: no Authorization header sent.
    let sent = server.received_requests().await.unwrap();
    assert!(sent.iter().all(|q| !q.headers.contains_key("authorization")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_token_is_sent_and_a_refusal_exits_2_without_showing_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {BSKY_TOKEN}").as_str()))
        .respond_with(good(&CASES[2]))
        .expect(1)
        .mount(&server)
        .await;
    let run = fetch(base(&server, "bluesky", &[]), Some(BSKY_TOKEN)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(field(&run.records, "name"), ["Thanksgiving"]);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            format!(r#"{{"error":"ExpiredToken","message":"Token has expired: {BSKY_TOKEN}"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let run = fetch(base(&server, "bluesky", &[]), Some(BSKY_TOKEN)).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.records.is_empty());
    assert!(
        run.stderr.contains(
            "Bluesky refused the token; check BLUESKY_TOKEN (HTTP 401: ExpiredToken: Token has expired: ***)"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(BSKY_TOKEN), "the token leaked: {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_as_each_provider_says() {
    for case in CASES {
        let server = MockServer::start().await;
        let limited = ResponseTemplate::new(429).set_body_string("Too Many Requests");
        // Each provider's own way of saying when to come back.
        let limited = match case.source {
            "mastodon" => limited
                .insert_header("x-ratelimit-limit", "300")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339().as_str()),
            "bluesky" => limited
                .insert_header("ratelimit-limit", "3000")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", (Utc::now().timestamp() + 2).to_string().as_str()),
            _ => limited.insert_header("retry-after", "1"),
        };
        Mock::given(method("GET"))
            .and(path(case.path))
            .respond_with(limited)
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET")).and(path(case.path)).respond_with(good(case)).expect(1).mount(&server).await;
        let run = fetch(base(&server, case.source, case.args), None).await;
        assert_eq!(run.code, Some(0), "{}: {}", case.source, run.stderr);
        assert_eq!(field(&run.records, "name"), case.good_names, "{}", case.source);
        assert_eq!(
            run.stderr.matches("rate limited (HTTP 429), waiting").count(),
            1,
            "{}: {}",
            case.source,
            run.stderr
        );
        // The wait came from the header, not from the 10 ms backoff.
        let waited: f64 =
            run.stderr.split("waiting ").nth(1).and_then(|t| t.split('s').next()).unwrap().parse().unwrap();
        assert!(waited >= 0.5, "{}: waited {waited}s: {}", case.source, run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_succeed() {
    for case in CASES {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(case.path))
            .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET")).and(path(case.path)).respond_with(good(case)).expect(1).mount(&server).await;
        let run = fetch(base(&server, case.source, case.args), None).await;
        assert_eq!(run.code, Some(0), "{}: {}", case.source, run.stderr);
        assert_eq!(field(&run.records, "name"), case.good_names, "{}", case.source);
        assert_eq!(
            run.stderr.matches("HTTP 500: Internal Server Error; retrying").count(),
            1,
            "{}: {}",
            case.source,
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fail_the_place_with_exit_1() {
    for case in CASES {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(case.path))
            .respond_with(good(case).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let run =
            fetch(base(&server, case.source, &[case.args, &["--timeout", "1", "--retries", "0"]].concat()), None).await;
        assert_eq!(run.code, Some(1), "{}: {}", case.source, run.stderr);
        assert!(run.records.is_empty(), "{}", case.source);
        assert!(
            run.stderr.contains(&format!("{}: ", case.label)) && run.stderr.contains("timed out"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_and_wrong_shapes_name_source_place_and_field() {
    for case in CASES {
        for (body, reason) in [(&case.good[..case.good.len() / 2], "body: not valid"), (case.wrong, case.wrong_reason)]
        {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path(case.path))
                .respond_with(ResponseTemplate::new(200).set_body_raw(body, case.content_type))
                .mount(&server)
                .await;
            let run = fetch(base(&server, case.source, case.args), None).await;
            assert_eq!(run.code, Some(1), "{}: {}", case.source, run.stderr);
            assert!(run.records.is_empty(), "no empty success: {}", case.source);
            let expected = format!("{}: unexpected payload: {reason}", case.label);
            assert!(run.stderr.contains(&expected), "expected {expected:?} in {}", run.stderr);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_country_failing_does_not_lose_the_others() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("geo", "AR"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/trending/rss"))
        .and(query_param("geo", "BR"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("google/trending-rss-BR.xml"), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let run = fetch(base(&server, "google", &["--place", "AR", "--place", "BR"]), None).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.records.len(), 3);
    assert!(run.records.iter().all(|r| r["place"]["id"] == "BR"));
    assert!(run.stderr.contains("google place AR: ") && run.stderr.contains("HTTP 404: Not Found"), "{}", run.stderr);
    assert!(run.stderr.contains("google place BR: 3 trends, 3 with a volume"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let server = MockServer::start().await;
    for (args, message) in [
        (vec!["--place", "1"], "--source mastodon: --place is not used by this source"),
        (vec![], "--source mastodon needs at least one --instance HOST"),
        (vec!["--instance", "a.example/path"], "expected a host name such as mastodon.social"),
    ] {
        let run = fetch(base(&server, "mastodon", &args), None).await;
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
    let run = fetch(base(&server, "google", &[]), None).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--source google needs at least one --place COUNTRY"), "{}", run.stderr);
    let run = fetch(base(&server, "bluesky", &["--place", "BR"]), None).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--source bluesky: --place is not used by this source"), "{}", run.stderr);
    assert!(server.received_requests().await.unwrap().is_empty());
}
