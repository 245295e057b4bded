//! Provider categories and news titles from the fetch to the report: Bluesky's topics
//! and Google Trends' feed served by a local server as the providers answer,
//! `fetch-trends` → `clean` → `etl-to-sql` (twice) → `report categories`, on SQLite
//! and PostgreSQL. The report must take a Bluesky trend's category from the provider
//! and a Google trend's from its news titles, and the rerun must add no news row.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{fresh_postgres, postgres_url, read_fixture, run, unique};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The NDJSON that `fetch-trends` writes for Bluesky's topics and Google's Brazil feed.
async fn fetched(dir: &std::path::Path) -> Vec<u8> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.unspecced.getTrendingTopics"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(read_fixture("bluesky/trending-topics.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/trending/rss"))
        .and(query_param("geo", "BR"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(read_fixture("google/trending-rss-BR-news.xml"), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    let mut out = Vec::new();
    for args in [&["--source", "bluesky"][..], &["--source", "google", "--place", "BR"][..]] {
        let mut args = args.to_vec();
        args.extend(["--base-url", uri.as_str()]);
        let fetch = run("fetch-trends", &args, &[], b"", dir);
        assert_eq!(fetch.code, Some(0), "{}", fetch.stderr);
        out.extend(fetch.stdout.into_bytes());
    }
    out
}

async fn rows(url: &str, q: &str) -> Vec<(String, String)> {
    let sql = Sql::open(url).await.unwrap();
    let got = match &sql {
        Sql::Sqlite(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
        Sql::Postgres(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
    };
    sql.close().await;
    got
}

async fn provider_category_and_news_titles_decide_the_report(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let records = fetched(dir.path()).await;
    // `clean` keeps the two fields the load reads (Bluesky gives no counts: its
    // topics are kept with --keep-null-volume).
    let clean = run("clean", &["--keep-null-volume"], &[], &records, dir.path());
    assert_eq!(clean.code, Some(0), "{}", clean.stderr);
    let cleaned = clean.records();
    let lions = cleaned.iter().find(|r| r["key"] == "lions vs bears").expect("the Bluesky topic");
    assert_eq!(lions["category"], "sports");
    let moraes = cleaned.iter().find(|r| r["key"] == "alexandre de moraes").expect("the Google trend");
    assert_eq!(moraes["news"].as_array().map(Vec::len), Some(2));

    for _ in 0..2 {
        let etl = run("etl-to-sql", &["--db", db], &[], clean.stdout.as_bytes(), dir.path());
        assert_eq!(etl.code, Some(0), "{}", etl.stderr);
    }

    let categories = rows(db, "SELECT key, category FROM trends WHERE category IS NOT NULL ORDER BY key").await;
    assert_eq!(categories, [("lions vs bears".to_owned(), "sports".to_owned())]);
    // Once each after the rerun, as decoded from the feed (entities and CDATA).
    let news = rows(db, "SELECT trend_key, title FROM trend_news ORDER BY trend_key, title").await;
    assert_eq!(
        news,
        [
            ("alexandre de moraes".to_owned(), "Decisão de Moraes <repercute> entre ministros".to_owned()),
            (
                "alexandre de moraes".to_owned(),
                "Moraes nega recurso e STF mantém decisão sobre \"redes sociais\"".to_owned()
            ),
        ]
    );

    let report = run(
        "report",
        &["categories", "--db", db, "--since", "2026-01-01T00:00:00Z", "--format", "json"],
        &[],
        b"",
        dir.path(),
    );
    assert_eq!(report.code, Some(0), "{}", report.stderr);
    let json: Value = serde_json::from_str(&report.stdout).unwrap();
    let rule_of = |key: &str| {
        let t = json["categories"]["trends"].as_array().unwrap().iter().find(|t| t["key"] == key);
        let t = t.unwrap_or_else(|| panic!("{key} is not in the categories: {json}"));
        (t["category"].as_str().unwrap().to_owned(), t["rule"].as_str().unwrap().to_owned())
    };
    assert_eq!(rule_of("lions vs bears"), ("sports".to_owned(), "provider".to_owned()));
    assert_eq!(rule_of("alexandre de moraes"), ("politics".to_owned(), "news:stf".to_owned()));
    assert_eq!(rule_of("quinta feira"), ("other".to_owned(), "default".to_owned()));
    // And stored for analysts.
    let stored = rows(db, "SELECT trend_key, rule FROM trend_categories WHERE trend_key = 'lions vs bears'").await;
    assert_eq!(stored, [("lions vs bears".to_owned(), "provider".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_gets_the_provider_category_and_the_news_titles_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join(format!("{}.db", unique("categories"))).display());
    provider_category_and_news_titles_decide_the_report(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
async fn postgres_gets_the_provider_category_and_the_news_titles_once() {
    let db = fresh_postgres(&postgres_url()).await;
    provider_category_and_news_titles_decide_the_report(&db).await;
}
