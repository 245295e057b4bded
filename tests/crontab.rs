//! `crontab.example` is the product's main user interface, so it is tested as cron
//! would run it: every job line of the file itself, in order, under `bash` with only
//! the environment cron gives (the file's own assignments, `HOME`, `SHELL`) plus the
//! settings a user puts in their environment — here pointed at the test's MongoDB,
//! PostgreSQL and a local server shaped like X API v2. The database is checked at the
//! end, so an example that stops composing the stages right fails here.

// Test code fails the test by panicking, as assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use trendpipe_core::sql::Sql;
use trendpipe_pipeline_tests::{bin, fresh_postgres, mongo_uri, postgres_url, read_fixture, repo_root, unique};
use wiremock::matchers::{header, method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The schedule fields and command of a job line, and the variables the file sets.
struct Crontab {
    vars: Vec<(String, String)>,
    jobs: Vec<(String, String)>,
}

fn parse_crontab(text: &str) -> Crontab {
    let mut vars = Vec::new();
    let mut jobs = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let is_var = line.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        });
        if is_var {
            let (name, value) = line.split_once('=').unwrap();
            vars.push((name.to_owned(), value.to_owned()));
            continue;
        }
        let mut rest = line;
        let mut schedule = Vec::new();
        for _ in 0..5 {
            let (field, tail) = rest.split_once(char::is_whitespace).expect("a job line has five schedule fields");
            schedule.push(field);
            rest = tail.trim_start();
        }
        jobs.push((schedule.join(" "), rest.to_owned()));
    }
    Crontab { vars, jobs }
}

/// Answers X API v2 trends requests with the saved payload of the WOEID asked.
struct XTrends;

impl Respond for XTrends {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let woeid = request.url.path().rsplit('/').next().unwrap_or_default();
        let rel = format!("x-v2/trends-by-woeid-{woeid}.json");
        if repo_root().join("fixtures").join(&rel).exists() {
            ResponseTemplate::new(200).set_body_raw(read_fixture(&rel), "application/json")
        } else {
            ResponseTemplate::new(400).set_body_raw(r#"{"title":"Invalid Request"}"#, "application/json")
        }
    }
}

/// Answers X API v2 recent searches with the two saved pages, whatever the query,
/// their posts dated a few minutes ago as a live search's would be (the job asks for
/// the posts of the last hour).
struct XSearch;

impl Respond for XSearch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let paged = request.url.query_pairs().any(|(k, _)| k == "next_token");
        let rel =
            if paged { "posts-x/search-recent-bbb26-page2.json" } else { "posts-x/search-recent-bbb26-page1.json" };
        let mut page: Value = serde_json::from_slice(&read_fixture(rel)).unwrap();
        let recent = (chrono::Utc::now() - chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
        for list in ["/data", "/includes/tweets"] {
            if let Some(Value::Array(tweets)) = page.pointer_mut(list) {
                for tweet in tweets {
                    tweet["created_at"] = recent.clone().into();
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(page)
    }
}

/// The distinct posts of the saved search pages (hits and the originals they
/// reference), and how many of them have text.
fn expected_posts() -> (i64, i64) {
    let mut texts = BTreeMap::new();
    for rel in ["posts-x/search-recent-bbb26-page1.json", "posts-x/search-recent-bbb26-page2.json"] {
        let v: Value = serde_json::from_slice(&read_fixture(rel)).unwrap();
        let included = v["includes"]["tweets"].as_array().cloned().unwrap_or_default();
        for t in v["data"].as_array().unwrap().iter().chain(included.iter()) {
            texts.insert(t["id"].as_str().unwrap().to_owned(), t["text"].as_str().is_some_and(|x| !x.is_empty()));
        }
    }
    (texts.len() as i64, texts.values().filter(|t| **t).count() as i64)
}

/// The trends with a volume that the saved payloads of `places` hold: what the
/// pipeline must have loaded once it cleaned out the ones without.
fn expected_trends(places: &[&str]) -> BTreeMap<String, i64> {
    let mut want = BTreeMap::new();
    for place in places {
        let v: Value = serde_json::from_slice(&read_fixture(&format!("x-v2/trends-by-woeid-{place}.json"))).unwrap();
        for item in v["data"].as_array().unwrap() {
            if let Some(n) = item["tweet_count"].as_i64() {
                want.insert(format!("{place}|{}", item["trend_name"].as_str().unwrap()), n);
            }
        }
    }
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB and PostgreSQL: run by scripts/test.sh"]
async fn every_job_of_the_example_crontab_runs_in_order_and_fills_the_database() {
    let text = std::fs::read_to_string(repo_root().join("crontab.example")).unwrap();
    let crontab = parse_crontab(&text);
    assert!(crontab.jobs.len() >= 3, "the example schedules fetch, load and report");

    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("trendpipe/www")).unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/2/trends/by/woeid/\d+$"))
        .and(header("authorization", "Bearer crontab-test-token"))
        .respond_with(XTrends)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/2/tweets/search/recent$"))
        .and(header("authorization", "Bearer crontab-test-token"))
        .respond_with(XSearch)
        .mount(&server)
        .await;
    let database = unique("crontab");
    let pg = fresh_postgres(&postgres_url()).await;
    let bins = bin("fetch-trends").parent().unwrap().to_path_buf();

    for (schedule, command) in &crontab.jobs {
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(command).env_clear();
        for (name, value) in &crontab.vars {
            cmd.env(name, value);
        }
        let path = crontab.vars.iter().find(|(n, _)| n == "PATH").map(|(_, v)| v.as_str()).unwrap_or("/usr/bin:/bin");
        cmd.env("PATH", format!("{}:{path}", bins.display()))
            .env("HOME", home.path())
            .env("LOCKS", home.path())
            .env("MONGODB_URI", mongo_uri())
            .env("MONGODB_DATABASE", &database)
            .env("DATABASE_URL", &pg)
            .env("X_BEARER_TOKEN", "crontab-test-token")
            .env("X_BASE_URL", server.uri())
            .current_dir(home.path());
        let status = cmd.status().unwrap();
        let logs = logs(home.path());
        assert!(status.success(), "`{schedule}` job failed ({status}): {command}\n{logs}");
        assert!(!logs.contains("error:"), "`{schedule}` job logged an error: {command}\n{logs}");
    }

    // The fetch line names the places; the database holds exactly their trends with a
    // volume, the ones without having gone to the quarantine.
    let fetch = &crontab.jobs.iter().find(|(_, c)| c.contains("fetch-trends")).unwrap().1;
    let places: Vec<&str> = fetch
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "--place")
        .map(|w| w[1].split('=').next().unwrap())
        .collect();
    assert!(!places.is_empty());
    let want = expected_trends(&places);
    let Sql::Postgres(pool) = Sql::open(&pg).await.unwrap() else { unreachable!() };
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT p.code, t.name, o.volume FROM trend_observations o JOIN trends t ON t.id = o.trend_id \
         JOIN places p ON p.id = o.place_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let got: BTreeMap<String, i64> = rows.into_iter().map(|(p, n, v)| (format!("{p}|{n}"), v.unwrap())).collect();
    assert_eq!(got, want);

    // The posts behind the trends were collected, loaded and scored.
    let (posts, with_text) = expected_posts();
    let count = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(q).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT count(*) FROM posts").await, posts, "{}", logs(home.path()));
    assert_eq!(count("SELECT count(*) FROM post_sentiment").await, with_text);
    assert!(count("SELECT count(*) FROM posts WHERE repost_of IS NOT NULL").await > 0, "reposts keep their link");
    assert!(count("SELECT count(*) FROM trend_sentiment").await > 0);
    // Every author of a collected post is scored in the window of its posts.
    assert_eq!(
        count("SELECT count(DISTINCT author) FROM influencer_scores").await,
        count("SELECT count(DISTINCT author) FROM posts").await,
        "{}",
        logs(home.path())
    );

    // One snapshot is no history: nothing to judge, so no alert and a quiet exit.
    assert_eq!(count("SELECT count(*) FROM alerts").await, 0);

    // The report job wrote the page and the CSV from that database.
    let page = std::fs::read_to_string(home.path().join("trendpipe/www/index.html")).unwrap();
    let top = want.iter().max_by_key(|(_, v)| **v).unwrap().0.split_once('|').unwrap().1.to_owned();
    assert!(page.contains(&top.replace('&', "&amp;")), "the page shows the top trend {top}");
    let csv = std::fs::read_to_string(home.path().join("trendpipe/www/top10.csv")).unwrap();
    assert!(csv.lines().count() > 1, "{csv}");
    assert_job_logs_exist(home.path());
    // The snapshot just taken is fresh: the health check passed and said so.
    let health = std::fs::read_to_string(home.path().join("trendpipe/health.txt")).unwrap();
    assert!(health.contains("data fresh"), "{health}");
}

/// The jobs' logs, for failure messages.
fn logs(home: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(home.join("trendpipe"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files.iter().map(|p| format!("== {}\n{}", p.display(), std::fs::read_to_string(p).unwrap_or_default())).collect()
}

fn assert_job_logs_exist(home: &Path) {
    for log in ["fetch.log", "load.log", "alerts.log", "report.log"] {
        assert!(home.join("trendpipe").join(log).exists(), "{log} was written");
    }
}

#[test]
fn the_example_crontab_parses_into_variables_and_jobs() {
    let text = std::fs::read_to_string(repo_root().join("crontab.example")).unwrap();
    let crontab = parse_crontab(&text);
    assert!(crontab.vars.iter().any(|(n, v)| n == "SHELL" && v == "/bin/bash"));
    for (schedule, command) in &crontab.jobs {
        assert_eq!(schedule.split(' ').count(), 5, "{schedule}");
        let read_only = command.starts_with("report health");
        assert!(read_only || command.starts_with("flock -n "), "every job that writes is locked: {command}");
        assert!(!command.contains("--reject"), "MongoDB-fed stages quarantine in MongoDB: {command}");
    }
    let order = [
        "fetch-trends",
        "fetch-posts",
        "clean --from mongo --to mongo",
        "etl-to-sql --from mongo",
        "sentiment --db",
        "influencers --db",
        "alerts --db",
        "report --format html",
        "report health",
    ];
    let all: String = crontab.jobs.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\n");
    let mut at = 0;
    for stage in order {
        let found = all[at..].find(stage).unwrap_or_else(|| panic!("{stage} is scheduled after the stages before it"));
        at += found;
    }
}
