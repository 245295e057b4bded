//! `fetch-posts --source x` against a local server answering as X API v2's recent search
//! does (fixtures in `fixtures/posts-x/`): reposts with `includes.tweets`, an `errors`
//! array with HTTP 200, `next_token` paging, 429s, a malformed page, a refused token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEARCH: &str = "/2/tweets/search/recent";
const NEXT: &str = "b26v89c19zqg8o3fosbv3mgsqmbmlhmy3b2ds4zj8idp";

fn args(server: &MockServer, extra: &[&str]) -> Vec<String> {
    let mut a = strings(&["--source", "x", "--base-url", &server.uri(), "--backoff-ms", "10"]);
    a.extend(strings(extra));
    a
}

async fn mount_bbb26(server: &MockServer, first_page_calls: u64) {
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "#BBB26"))
        .and(query_param_is_missing("next_token"))
        .and(header("authorization", format!("Bearer {X_TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("posts-x/search-recent-bbb26-page1.json")))
        .expect(first_page_calls)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "#BBB26"))
        .and(query_param("next_token", NEXT))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("posts-x/search-recent-bbb26-page2.json")))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reposts_originals_and_provider_errors_over_two_pages() {
    let server = MockServer::start().await;
    mount_bbb26(&server, 1).await;
    // The same trend in two places is fetched once.
    let input = trend("23424768", "#BBB26", 1, "2026-11-22T00:00:00Z")
        + "\n"
        + &trend("1", "#BBB26", 3, "2026-11-22T00:30:00Z");
    let run = run(args(&server, &[]), input, x_env()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // 7 hits over two pages, and the two originals the reposts point at, once each.
    assert_eq!(run.records.len(), 9, "{:?}", run.ids());
    assert!(run.records.iter().all(|r| r["kind"] == "post" && r["source"] == "x" && r["trend"] == "bbb26"));
    let rt = &run.with_id("1862000000000000101")[0];
    assert_eq!(rt["text"], "RT @bbb_oficial: Que final & que temporada! O #BBB26 foi o melhor de todos <3");
    assert_eq!(rt["repost_of"], "1862000000000000001");
    assert_eq!(rt["author"]["followers"], 150);
    assert_eq!(rt["author"]["handle"], "ana_bbb");
    let original = run.with_id("1862000000000000001");
    assert_eq!(original.len(), 1);
    assert_eq!(original[0]["author"]["followers"], 2_400_000);
    assert_eq!(original[0]["metrics"]["likes"], 3020);
    assert!(original[0].get("repost_of").is_none());
    let reply = &run.with_id("1862000000000000104")[0];
    assert_eq!(reply["parent_id"], "1862000000000000001");
    assert_eq!(reply["quote_of"], "1861999999999999999");
    assert_eq!(reply["conversation_id"], "1862000000000000001");
    assert_eq!(run.with_id("1862000000000000002")[0]["lang"], "en");
    assert!(run.stderr.contains("the provider reports: Not Found Error: Could not find tweet"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "1 trends asked, 7 posts collected (4 reposts), 2 originals added from references, 2 pages, 1 errors reported by the provider, 0 waits, 0 failed"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_stops_the_paging_and_asks_for_small_pages() {
    let server = MockServer::start().await;
    mount_bbb26(&server, 1).await;
    let run = run(args(&server, &["--limit", "3"]), trends(&["#BBB26"]), x_env()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let hits = run.records.iter().filter(|r| r["id"].as_str().unwrap().starts_with("18620000000000001")).count();
    assert_eq!(hits, 3);
    let asked = server.received_requests().await.unwrap();
    assert_eq!(asked.len(), 1);
    // X's smallest page is 10.
    assert!(asked[0].url.query().unwrap().contains("max_results=10"), "{}", asked[0].url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_in_the_middle_of_paging_waits_then_continues() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("next_token", NEXT))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_string(
            r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_bbb26(&server, 1).await;
    let run = run(args(&server, &[]), trends(&["#BBB26"]), x_env()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.records.len(), 9);
    assert!(run.stderr.contains("rate limited (HTTP 429), waiting 1.0s"), "{}", run.stderr);
    assert!(run.stderr.contains("2 pages, 1 errors reported by the provider, 1 waits"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_page_is_named_and_the_other_trends_are_written() {
    let server = MockServer::start().await;
    mount_bbb26(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "Neymar"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"data":[{"id":1862000000000000999,"text":"Neymar","author_id":"5"}],"meta":{"result_count":1}}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "\"Copa do Brasil\""))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .mount(&server)
        .await;
    let run = run(args(&server, &["--retries", "1"]), trends(&["Neymar", "#BBB26", "Copa do Brasil"]), x_env()).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: x trend neymar page 1: unexpected payload: data[0].id: expected a string, found a number"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("error: x trend copa do brasil page 1: "), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 503"), "{}", run.stderr);
    assert!(run.stderr.contains("2 failed"), "{}", run.stderr);
    assert_eq!(run.records.len(), 9);
    assert!(run.records.iter().all(|r| r["trend"] == "bbb26"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_token_is_exit_2_and_the_token_is_never_printed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(401).set_body_string(
                r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            ),
        )
        .mount(&server)
        .await;
    let run = run(args(&server, &[]), trends(&["#BBB26", "Neymar"]), x_env()).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("x refused the token (HTTP 401: Unauthorized); check X_BEARER_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(X_TOKEN) && !run.stderr.contains("QQQQ"), "{}", run.stderr);
    assert!(run.records.is_empty());
    // The run stops at the refusal: the second trend is not asked for.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_and_misplaced_flags_are_usage_errors() {
    let server = MockServer::start().await;
    let r = run(args(&server, &[]), trends(&["#BBB26"]), vec![]).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("needs a token in X_BEARER_TOKEN"), "{}", r.stderr);
    let r = run(args(&server, &["--instance", "mastodon.social"]), trends(&["#BBB26"]), x_env()).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--source x: --instance is for --source mastodon"), "{}", r.stderr);
    let r = run(args(&server, &["--file", "a.json"]), String::new(), x_env()).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--file is for --source x-v1"), "{}", r.stderr);
    let r = run(args(&server, &["--to", "mongo", "--state", "s.json"]), String::new(), x_env()).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--state is for stdout"), "{}", r.stderr);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_that_are_not_trends_go_to_the_reject_file_with_their_line_numbers() {
    let server = MockServer::start().await;
    mount_bbb26(&server, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let input =
        trends(&["#BBB26"]) + "{\"kind\":\"post\",\"source\":\"x\",\"id\":\"1\"}\n{\"kind\":\"trend\",\"name\":5}\n";
    let run = run_in(dir.path(), args(&server, &["--reject", "bad.ndjson"]), input, x_env()).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.records.len(), 9);
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("bad.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 2);
    assert_eq!((rejects[0]["line"].as_u64(), rejects[1]["line"].as_u64()), (Some(2), Some(3)));
    assert_eq!(rejects[0]["reason"], "expected a trend record, found a post record");
    assert_eq!(rejects[0]["stage"], "fetch-posts");
    assert!(run.stderr.contains("line 3: not a trend record"), "{}", run.stderr);
}
