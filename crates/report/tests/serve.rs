//! `report serve` as a user runs it: a real process, real HTTP requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Server, TOP10, XSS_NAME, sqlite_fixture};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

#[test]
fn served_pages_api_and_health_are_read_only_with_a_strict_policy_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let url = rt.block_on(sqlite_fixture(dir.path()));
    let server = Server::start(&url);
    let base = server.base.clone();
    rt.block_on(async {
        let (status, _, body) = get(&format!("{base}/healthz")).await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));

        let (status, headers, page) = get(&format!("{base}/")).await;
        assert_eq!(status, 200, "{page}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; style-src 'nonce-"), "{csp}");
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
        assert!(page.contains(&format!("<script nonce=\"{nonce}\">")), "the page's script carries the nonce");
        assert!(!page.contains(XSS_NAME));
        assert!(page.contains("href=\"/trend/bbb26\""), "trend links");

        let (status, _, body) = get(&format!("{base}/api/report")).await;
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let names: Vec<&str> = doc["trends"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, TOP10);

        let (status, _, body) = get(&format!("{base}/api/trend/flamengo?tz=America/Sao_Paulo")).await;
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["trends"].as_array().unwrap().len(), 1);
        assert_eq!(doc["evolution"][0]["lines"][0]["segments"].as_array().unwrap().len(), 2);
        assert!(doc["heatmap"].is_null());

        // The XSS trend's own page, its key percent-encoded in the path.
        let (status, _, page) = get(&format!("{base}/trend/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("&#60;img src=x onerror=alert(1)&#62;")
                || page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(!page.contains(XSS_NAME));

        let (status, _, page) = get(&format!("{base}/?hours=zero")).await;
        assert_eq!(status, 400);
        assert!(page.contains("hours: expected a whole number"), "{page}");
        let (status, _, page) = get(&format!("{base}/?since=2030-01-01&until=2030-01-02")).await;
        assert_eq!(status, 200);
        assert!(page.contains("No data for the top trends in 2030-01-01 00:00"), "{page}");
    });
    assert_eq!(server.stop(), Some(0));
    // Read-only: the categories it showed were not stored.
    let stored: i64 = rt.block_on(async {
        let sql = trendpipe_core::sql::Sql::connect(&url).await.unwrap();
        let trendpipe_core::sql::Sql::Sqlite(pool) = &sql else { unreachable!() };
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM trend_categories").fetch_one(pool).await.unwrap();
        sql.close().await;
        n
    });
    assert_eq!(stored, 0);
}

#[test]
fn an_unreachable_database_gives_a_clear_page_and_a_failing_health_check() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Server::start(&format!("postgres://nobody@127.0.0.1:{port}/nothing"));
    let base = server.base.clone();
    rt().block_on(async {
        let (status, headers, page) = get(&format!("{base}/")).await;
        assert_eq!(status, 503);
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.contains("The database cannot be read"), "{page}");
        assert!(!page.contains("panicked"), "{page}");
        let (status, _, _) = get(&format!("{base}/healthz")).await;
        assert_eq!(status, 503);
    });
    assert_eq!(server.stop(), Some(0));
}
