//! `fetch-posts --source mastodon|bluesky|x-v1` against local servers answering as the
//! providers document (fixtures in `fixtures/posts-{mastodon,bluesky,x-v1}/`): HTML
//! content, `Link` paging, one remote post seen from two instances, Bluesky follower
//! lookups in batches of 25, saved v1.1 searches imported from files and stdin.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TAG: &str = "/api/v1/timelines/tag/BBB26";

async fn mount_mastodon_pages(server: &MockServer) {
    let next = format!(
        "<{}{TAG}?limit=40&max_id=113532100000000001>; rel=\"next\", <{}{TAG}?limit=40&min_id=113532200000000003>; rel=\"prev\"",
        server.uri(),
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(TAG))
        .and(query_param("limit", "40"))
        .and(query_param_is_missing("max_id"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .insert_header("x-ratelimit-remaining", "299")
                .set_body_string(fixture("posts-mastodon/timeline-tag-bbb26-page1.json")),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(TAG))
        .and(query_param("max_id", "113532100000000001"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("posts-mastodon/timeline-tag-bbb26-page2.json")),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_html_content_reblogs_and_link_paging() {
    let server = MockServer::start().await;
    mount_mastodon_pages(&server).await;
    let args = strings(&["--source", "mastodon", "--instance", &server.uri()]);
    let run = run(args, trends(&["#BBB26"]), vec![]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Four statuses over two pages, and the reblogged one.
    assert_eq!(run.records.len(), 5, "{:?}", run.ids());
    let ana = &run.with_id("https://mastodon.social/users/ana/statuses/113532200000000001")[0];
    assert_eq!(
        ana["text"],
        "Final do #BBB26 hoje & o paredão foi \"justo\" <3\n\nResumo: g1.globo.com/pop-arte/noticia/…\nBoa noite!"
    );
    assert_eq!(ana["instance_id"], "113532200000000001");
    assert_eq!(ana["author"]["followers"], 1200);
    assert_eq!(ana["metrics"], json!({"reposts":2,"likes":7,"replies":1,"quotes":null}));
    let dani = &run.with_id("https://mastodon.social/users/dani/statuses/113532200000000003")[0];
    // The parent is on the page: the reply points at its uri.
    assert_eq!(dani["parent_id"], ana["id"]);
    assert_eq!(dani["text"], "@ana discordo, foi péssimo e injusto");
    let reblog = &run.with_id("https://mastodon.social/users/bruno/statuses/113532200000000002/activity")[0];
    assert_eq!(reblog["repost_of"], "https://mas.to/users/carla/statuses/113532099000000001");
    let original = &run.with_id("https://mas.to/users/carla/statuses/113532099000000001")[0];
    assert_eq!(original["author"]["id"], "carla@mas.to");
    assert!(original["text"].as_str().unwrap().starts_with("Best season ever! The #BBB26 finale was AMAZING & so"));
    assert!(
        run.stderr.contains("4 posts collected (1 reposts), 1 originals added from references, 2 pages"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_remote_post_from_two_instances_is_one_record() {
    let (home, other) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .and(path(TAG))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("posts-mastodon/timeline-tag-bbb26-page1.json")),
        )
        .mount(&home)
        .await;
    Mock::given(method("GET"))
        .and(path(TAG))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("posts-mastodon/timeline-tag-bbb26-mas.to.json")),
        )
        .mount(&other)
        .await;
    let args = strings(&["--source", "mastodon", "--instance", &home.uri(), "--instance", &other.uri()]);
    let run = run(args, trends(&["#BBB26"]), vec![]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let carla = run.with_id("https://mas.to/users/carla/statuses/113532099000000001");
    assert_eq!(carla.len(), 1, "{:?}", run.ids());
    let ids: HashSet<String> = run.ids().into_iter().collect();
    assert_eq!(ids.len(), run.records.len(), "a post written twice: {:?}", run.ids());
}

/// A Bluesky post view by `n`'s author.
fn bsky_post(n: usize, author: usize) -> Value {
    json!({
        "uri": format!("at://did:plc:author{author:04}/app.bsky.feed.post/3lbf{n:06}"), "cid": format!("bafyrei{n}"),
        "author": {"did": format!("did:plc:author{author:04}"), "handle": format!("a{author}.bsky.social"), "labels": []},
        "record": {"$type": "app.bsky.feed.post", "createdAt": format!("2026-11-21T23:{:02}:00.{}Z", 59 - n % 60, n), "text": format!("BBB26 post {n}")},
        "replyCount": 0, "repostCount": 0, "likeCount": n, "quoteCount": 0, "indexedAt": "2026-11-21T23:59:59Z"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_followers_come_from_get_profiles_25_a_call_once_per_author() {
    let server = MockServer::start().await;
    // Page 1: 30 authors; page 2: three of them again and two new ones.
    let page1: Vec<Value> = (0..30).map(|i| bsky_post(i, i)).collect();
    let page2: Vec<Value> =
        [(30, 0), (31, 5), (32, 29), (33, 30), (34, 31)].iter().map(|&(n, a)| bsky_post(n, a)).collect();
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param("q", "#BBB26"))
        .and(query_param("sort", "latest"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"cursor": "30", "hitsTotal": 35, "posts": page1})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param("cursor", "30"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"hitsTotal": 35, "posts": page2})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfiles"))
        .respond_with(|req: &wiremock::Request| {
            let profiles: Vec<Value> = req
                .url
                .query_pairs()
                .filter(|(k, _)| k == "actors")
                .map(|(_, did)| {
                    let n: i64 = did.trim_start_matches("did:plc:author").parse().unwrap();
                    json!({"did": did, "handle": format!("a{n}.bsky.social"), "followersCount": 1000 + n, "followsCount": 1})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "profiles": profiles }))
        })
        .mount(&server)
        .await;
    let args = strings(&["--source", "bluesky", "--base-url", &server.uri()]);
    let run = run(args, trends(&["#BBB26"]), vec![]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.records.len(), 35);
    for r in &run.records {
        let n: i64 = r["author"]["id"].as_str().unwrap().trim_start_matches("did:plc:author").parse().unwrap();
        assert_eq!(r["author"]["followers"], 1000 + n, "{r}");
    }
    let lookups: Vec<Vec<String>> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("getProfiles"))
        .map(|r| r.url.query_pairs().filter(|(k, _)| k == "actors").map(|(_, v)| v.into_owned()).collect())
        .collect();
    assert_eq!(lookups.iter().map(Vec::len).collect::<Vec<_>>(), [25, 5, 2]);
    let asked: HashSet<&String> = lookups.iter().flatten().collect();
    assert_eq!(asked.len(), 32, "an author was looked up twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_pages_of_the_documented_shape() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("posts-bluesky/search-posts-bbb26-page1.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param("cursor", "3"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("posts-bluesky/search-posts-bbb26-page2.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfiles"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("posts-bluesky/get-profiles.json")))
        .mount(&server)
        .await;
    let args = strings(&["--source", "bluesky", "--base-url", &server.uri(), "--since", "2026-11-21T22:55:00Z"]);
    let run = run(args, trends(&["#BBB26"]), vec![]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The last post is older than --since.
    assert_eq!(run.records.len(), 4, "{:?}", run.ids());
    let bruno = &run.records[1];
    assert_eq!(bruno["parent_id"], run.records[0]["id"]);
    assert!(bruno.get("lang").is_none());
    assert_eq!(bruno["author"]["followers"], 230);
    assert_eq!(run.records[3]["quote_of"], run.records[2]["id"]);
    let asked = server.received_requests().await.unwrap();
    let since: Vec<String> =
        asked[0].url.query_pairs().filter(|(k, _)| k == "since").map(|(_, v)| v.into_owned()).collect();
    assert_eq!(since, ["2026-11-21T22:55:00Z"], "{}", asked[0].url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_v1_files_import_with_their_saved_query_as_trend() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/posts-x-v1");
    let file = |name: &str| dir.join(name).display().to_string();
    let args = strings(&[
        "--source",
        "x-v1",
        "--file",
        &file("search-tweets-BBB26.json"),
        "--file",
        &file("search-tweets-CopaDoBrasil.json"),
    ]);
    let run = run(args, String::new(), vec![]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let trends: HashSet<&str> = run.records.iter().map(|r| r["trend"].as_str().unwrap()).collect();
    assert_eq!(trends, HashSet::from(["bbb26", "copa do brasil"]));
    assert_eq!(run.records.len(), 9);
    let rt = &run.with_id("1861950000000000010")[0];
    assert_eq!(rt["repost_of"], "1861900000000000001");
    assert_eq!(run.with_id("1861900000000000001").len(), 1);
    assert_eq!(run.with_id("1861950000000000014")[0]["truncated"], true);
    assert_eq!(rt["created_at"], "2026-11-21T20:05:11Z");

    // `--file -` reads the response on stdin, and --trend names it.
    let args = strings(&["--source", "x-v1", "--file", "-", "--trend", "Neymar Jr"]);
    let run2 = common::run(args, fixture("posts-x-v1/search-tweets-Neymar.json"), vec![]).await;
    assert_eq!(run2.code, Some(0), "{}", run2.stderr);
    assert_eq!(run2.records.len(), 4);
    assert!(run2.records.iter().all(|r| r["trend"] == "neymar jr"));

    let run3 = common::run(strings(&["--source", "x-v1", "--file", "-"]), "{\"statuses\":{}}".into(), vec![]).await;
    assert_eq!(run3.code, Some(1));
    assert!(run3.stderr.contains("x-v1 file -: "), "{}", run3.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_v1_directory_imports_its_json_files_in_name_order_like_the_files_given_one_by_one() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/posts-x-v1");
    let dir = tempfile::tempdir().unwrap();
    for name in ["search-tweets-CopaDoBrasil.json", "search-tweets-BBB26.json"] {
        std::fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
    }
    // Not a page: a directory holds other files too, and they are left alone.
    std::fs::write(dir.path().join("README.txt"), "saved on 2026-11-21").unwrap();
    std::fs::create_dir(dir.path().join("older.json")).unwrap();

    let listed =
        run(strings(&["--source", "x-v1", "--file", &dir.path().display().to_string()]), String::new(), vec![]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let one_by_one = strings(&[
        "--source",
        "x-v1",
        "--file",
        &fixtures.join("search-tweets-BBB26.json").display().to_string(),
        "--file",
        &fixtures.join("search-tweets-CopaDoBrasil.json").display().to_string(),
    ]);
    let given = run(one_by_one, String::new(), vec![]).await;
    let ids = |r: &common::Run| r.records.iter().map(|p| format!("{} {}", p["trend"], p["id"])).collect::<Vec<_>>();
    assert_eq!(listed.records.len(), 9);
    assert_eq!(ids(&listed), ids(&given), "BBB26 sorts before CopaDoBrasil");

    let missing = dir.path().join("no-such-dir").join("x.json");
    let failed =
        run(strings(&["--source", "x-v1", "--file", &missing.display().to_string()]), String::new(), vec![]).await;
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("cannot read"), "{}", failed.stderr);
}
