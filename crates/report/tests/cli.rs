//! The `report` binary against small databases with known answers.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{TOP10, XSS_NAME, XSS_POST, report, sqlite_empty, sqlite_fixture};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    let (code, out, err) = report(dir, args);
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn names(doc: &Value) -> Vec<String> {
    doc["trends"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

pub fn check_top10(doc: &Value) {
    assert_eq!(names(doc), TOP10);
    let top = doc["trends"].as_array().unwrap();
    assert_eq!(top[0]["peak_volume"], 125_000);
    assert_eq!(top[0]["snapshots"], 41);
    assert_eq!(top[0]["minutes_trending"], 20 * 60);
    assert_eq!(top[1]["places"], serde_json::json!(["Brazil", "São Paulo"]));
    assert_eq!(top[1]["best_rank"], 2);
    // Equal peaks: the longer-lived trend first.
    assert_eq!((top[4]["peak_volume"].as_i64(), top[4]["snapshots"].as_i64()), (Some(50_000), Some(10)));
    assert_eq!((top[5]["peak_volume"].as_i64(), top[5]["snapshots"].as_i64()), (Some(50_000), Some(4)));
    // Without volume: ranked by persistence and shown as such, not as zero.
    assert!(top[9]["peak_volume"].is_null());
    assert_eq!(top[9]["snapshots"], 21);
    assert_eq!(top[1]["category"], "sports");
    assert_eq!(top[0]["category"], "entertainment");
}

#[test]
fn top_ten_by_peak_volume_then_persistence_with_volumeless_trends_last() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let doc = json(dir.path(), &["top", "--db", &url, "--format", "json"]);
    check_top10(&doc);
    assert_eq!(doc["scope"]["until"], "2026-11-22T20:00:01Z");
    assert!(doc["evolution"].is_null(), "only the top section was asked for");

    // Today's command lines keep working: plain flags, --top, --since.
    let doc = json(dir.path(), &["--db", &url, "--format", "json", "--top", "11"]);
    assert_eq!(names(&doc)[10], "Briefly No Volume");
    let (code, table, err) = report(dir.path(), &["top", "--db", &url, "--format", "table"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(table.starts_with("Top 10 trends, 2026-11-21 20:00 → 2026-11-22 20:00 UTC\n"), "{table}");
    assert!(table.contains("no volume (21 snapshots)"), "{table}");
    assert!(table.contains("125,000"), "{table}");
    let (_, csv, _) = report(dir.path(), &["top", "--db", &url, "--format", "csv", "--since", "2026-11-21T00:00:00Z"]);
    let first = csv.lines().nth(1).unwrap();
    assert!(first.starts_with("1,Old,old,x,10000000,"), "{csv}");
}

#[test]
fn volume_evolution_has_a_gap_where_snapshots_missed_the_trend_and_ranks_where_no_volume() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let doc = json(dir.path(), &["evolution", "--db", &url, "--format", "json", "--trend", "Flamengo"]);
    let evo = doc["evolution"].as_array().unwrap();
    assert_eq!(evo.len(), 1);
    let lines = evo[0]["lines"].as_array().unwrap();
    let brazil = &lines[0];
    assert_eq!((brazil["place"].as_str(), brazil["metric"].as_str()), (Some("Brazil"), Some("volume")));
    let segs = brazil["segments"].as_array().unwrap();
    let lens: Vec<usize> = segs.iter().map(|s| s.as_array().unwrap().len()).collect();
    assert_eq!(lens, [11, 4]);
    assert_eq!(segs[0][10]["at"], "2026-11-22T05:00:00Z");
    assert_eq!(segs[0][10]["value"], 90_000.0);
    assert_eq!(segs[1][0]["at"], "2026-11-22T06:30:00Z");
    let sp = &lines[1];
    assert_eq!((sp["place"].as_str(), sp["metric"].as_str()), (Some("São Paulo"), Some("rank")));
    let ranks: Vec<f64> = sp["segments"][0].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect();
    assert_eq!(ranks, [3.0, 2.0, 4.0]);
}

#[test]
fn sentiment_per_window_with_the_alert_marked_and_the_predominant_label_in_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let doc = json(dir.path(), &["--db", &url, "--format", "json", "--tz", "America/Sao_Paulo"]);
    let s = &doc["sentiment"][0];
    assert_eq!((s["name"].as_str(), s["window_len"].as_str()), (Some("#BBB26"), Some("1h")));
    let compounds: Vec<f64> =
        s["points"].as_array().unwrap().iter().map(|p| p["mean_compound"].as_f64().unwrap()).collect();
    assert_eq!(compounds, [0.5, -0.4, 0.2]);
    assert_eq!(s["alerts"][0]["at"], "2026-11-22T01:30:00Z");
    let top = &doc["trends"][0]["sentiment"];
    assert_eq!(top["label"], "negative");
    assert_eq!(top["posts"], 50);
    assert!((top["mean_compound"].as_f64().unwrap() + 0.1).abs() < 1e-9, "{top}");
    // Alerts, with their evidence.
    let a = &doc["alerts"][0];
    assert_eq!(
        (a["metric"].as_str(), a["direction"].as_str(), a["trend_key"].as_str()),
        (Some("sentiment"), Some("down"), Some("bbb26"))
    );
    assert_eq!(a["evidence"][0]["text"], XSS_POST);
    assert_eq!(doc["scope"]["tz"], "America/Sao_Paulo");
    let (_, table, _) = report(dir.path(), &["sentiment", "--db", &url, "--tz", "America/Sao_Paulo"]);
    // 01:00 UTC is 22:00 the day before in São Paulo; that window holds the alert.
    let line = table.lines().find(|l| l.contains("2026-11-21 22:00")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("alert"), "{table}");
}

#[test]
fn word_counts_and_influencer_leaderboard_of_the_top_trend() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let doc = json(dir.path(), &["--db", &url, "--format", "json"]);
    let cloud = &doc["words"][0];
    assert_eq!((cloud["key"].as_str(), cloud["posts"].as_u64()), (Some("bbb26"), Some(3)));
    let words: Vec<(&str, u64)> = cloud["words"]
        .as_array()
        .unwrap()
        .iter()
        .take(4)
        .map(|w| (w["word"].as_str().unwrap(), w["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(words, [("#BBB26", 3), ("paredão", 3), ("@Ana_Clara", 1), ("best", 1)]);
    assert!(cloud["words"].as_array().unwrap().iter().all(|w| !w["word"].as_str().unwrap().contains("t.co")));
    // Trends without posts: an empty cloud, not an error.
    assert_eq!(doc["words"][1]["posts"], 0);
    let board = &doc["influencers"][0];
    let handles: Vec<&str> =
        board["accounts"].as_array().unwrap().iter().map(|a| a["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, ["ana", "bia", "caio"]);
    assert_eq!(board["accounts"][0]["score"], 4.5);
    assert_eq!(board["accounts"][0]["pagerank"], 0.1);
}

#[test]
fn heatmap_cells_follow_the_zone_across_a_daylight_saving_change() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("dst.db").display());
    rt().block_on(async {
        let sql = trendpipe_core::sql::Sql::connect(&url).await.unwrap();
        support::other_stages_schema(&sql).await;
        let trendpipe_core::sql::Sql::Sqlite(pool) = &sql else { unreachable!() };
        for s in [
            "INSERT INTO places (id, code) VALUES (1, 'us')",
            "INSERT INTO trends (id, source, key, name, first_seen, last_seen) VALUES (1, 'x', 'a', 'A', 'x', 'x'), (2, 'x', 'b', 'B', 'x', 'x')",
            // A: Sat 2026-03-07 10:00 EST (a start) and 15:00 EST (same day: not a start),
            // Sun 2026-03-08 00:30 EST (a new day: a start).
            // B: Sun 2026-03-08 07:30Z = 03:30 EDT, the clocks went from 02:00 to 03:00;
            // Mon 2026-03-09 15:00Z = 11:00 EDT.
            "INSERT INTO trend_observations (trend_id, place_id, observed_at, volume, rank) VALUES
               (1, 1, '2026-03-07T15:00:00Z', 100, 1), (1, 1, '2026-03-07T20:00:00Z', 50, 1),
               (1, 1, '2026-03-08T05:30:00Z', 7, 1),
               (2, 1, '2026-03-08T07:30:00Z', 1000, 2), (2, 1, '2026-03-09T15:00:00Z', NULL, 2)",
        ] {
            sqlx::query(s).execute(pool).await.unwrap();
        }
        sql.close().await;
    });
    let doc = json(
        dir.path(),
        &[
            "heatmap",
            "--db",
            &url,
            "--format",
            "json",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-15",
            "--tz",
            "America/New_York",
        ],
    );
    let grid = &doc["heatmap"]["overall"];
    let mut starts = Vec::new();
    let mut volume = Vec::new();
    for d in 0..7 {
        for h in 0..24 {
            if let Some(n) = grid["starts"][d][h].as_u64().filter(|n| *n > 0) {
                starts.push((d, h, n));
            }
            if let Some(n) = grid["volume"][d][h].as_i64().filter(|n| *n > 0) {
                volume.push((d, h, n));
            }
        }
    }
    // Monday is day 0.
    assert_eq!(starts, [(0, 11, 1), (5, 10, 1), (6, 0, 1), (6, 3, 1)]);
    assert_eq!(volume, [(5, 10, 100), (5, 15, 50), (6, 0, 7), (6, 3, 1000)]);
    assert_eq!(doc["heatmap"]["per_category"]["other"]["starts"][6][3], 1);
}

#[test]
fn categories_are_stored_in_sql_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let (code, csv, err) = report(dir.path(), &["categories", "--db", &url, "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(csv.starts_with("key,category,rule\n"), "{csv}");
    let stored: Vec<(String, String)> = rt().block_on(async {
        let sql = trendpipe_core::sql::Sql::connect(&url).await.unwrap();
        let trendpipe_core::sql::Sql::Sqlite(pool) = &sql else { unreachable!() };
        let rows = sqlx::query_as("SELECT trend_key, category FROM trend_categories ORDER BY trend_key")
            .fetch_all(pool)
            .await
            .unwrap();
        sql.close().await;
        rows
    });
    let want: Vec<(String, String)> = [
        ("bbb26", "entertainment"),
        ("briefly no volume", "other"),
        ("flamengo", "sports"),
        ("iphone 18", "tech"),
        ("lula", "politics"),
        ("persistent no volume", "other"),
        ("rock in rio", "music"),
        ("small", "other"),
        ("tie long", "other"),
        ("tie short", "other"),
    ]
    .iter()
    .map(|(k, c)| ((*k).to_owned(), (*c).to_owned()))
    .collect();
    let without_xss: Vec<(String, String)> = stored.into_iter().filter(|(k, _)| !k.contains('<')).collect();
    assert_eq!(without_xss, want);

    // A file that replaces the keywords.
    std::fs::write(dir.path().join("c.toml"), "mode = \"replace\"\n[categories]\nbrands = [\"small\"]\n").unwrap();
    let doc = json(dir.path(), &["categories", "--db", &url, "--format", "json", "--categories", "c.toml"]);
    let small = doc["categories"]["trends"].as_array().unwrap().iter().find(|t| t["key"] == "small").unwrap();
    assert_eq!((small["category"].as_str(), small["rule"].as_str()), (Some("brands"), Some("name:small")));
    let fla = doc["categories"]["trends"].as_array().unwrap().iter().find(|t| t["key"] == "flamengo").unwrap();
    assert_eq!(fla["category"], "other");
}

#[test]
fn an_empty_database_an_empty_window_and_trends_without_posts_say_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let empty = rt().block_on(sqlite_empty(dir.path()));
    let (code, out, err) = report(dir.path(), &["--db", &empty]);
    assert_eq!(code, Some(0), "{err}");
    for what in [
        "the top trends",
        "the volume evolution",
        "sentiment",
        "alerts",
        "word clouds",
        "influencers",
        "trend starts",
        "categories",
    ] {
        assert!(out.contains(&format!("No data for {what}")), "{what}: {out}");
    }
    let (code, page, err) = report(dir.path(), &["--db", &empty, "--format", "html"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(page.contains("id=\"top-empty\""), "{page}");

    let url = rt().block_on(sqlite_fixture(dir.path()));
    let (code, out, err) =
        report(dir.path(), &["--db", &url, "--since", "2030-01-01", "--until", "2030-01-02", "--place", "Brazil"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("No data for the top trends in 2030-01-01 00:00 → 2030-01-02 00:00 UTC (place Brazil)."),
        "{out}"
    );
    let (code, out, err) = report(dir.path(), &["words", "--db", &url, "--trend", "Flamengo"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("No data for word clouds (no posts)"), "{out}");
}

#[test]
fn csv_writes_one_file_per_section_and_png_one_file_per_chart() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let (code, _, err) = report(dir.path(), &["--db", &url, "--format", "csv", "--out", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    for s in ["top", "evolution", "sentiment", "alerts", "words", "influencers", "heatmap", "categories"] {
        let text = std::fs::read_to_string(dir.path().join("csv").join(format!("{s}.csv"))).unwrap();
        assert!(text.lines().count() > 1, "{s}.csv has no rows");
    }
    let (code, _, err) = report(dir.path(), &["--db", &url, "--format", "csv"]);
    assert_eq!(code, Some(2), "every section to stdout is refused: {err}");
    let (code, _, err) = report(dir.path(), &["--db", &url, "--format", "png", "--out", "png"]);
    assert_eq!(code, Some(0), "{err}");
    let png = std::fs::read(dir.path().join("png/evolution-flamengo.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(dir.path().join("png/heatmap-starts.png").exists());
    assert!(dir.path().join("png/rank-flamengo.png").exists(), "São Paulo gave ranks only");
    assert!(dir.path().join("png/words-bbb26.png").exists());
}

#[test]
fn html_page_is_self_contained_with_charts_and_escapes_provider_text() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    let (code, out, err) = report(dir.path(), &["--db", &url, "--format", "html", "-o", "out/report.html"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    let page = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains(XSS_NAME), "trend names must be escaped");
    assert!(!page.contains("<script>document"), "post texts must be escaped");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;") || page.contains("&#60;img"),
        "the name is shown as text"
    );
    // The only URL is the SVG namespace, which is a name, not a request.
    let urls: Vec<String> = page
        .match_indices("http")
        .map(|(i, _)| page[i..].chars().take(26).collect::<String>())
        .filter(|u| !u.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert!(urls.is_empty(), "{urls:?}");
    assert!(!page.contains("<link") && !page.contains("@import") && !page.contains("url("), "no external resource");
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.matches("<svg").count() >= 10, "charts: {}", page.matches("<svg").count());
}

#[test]
fn a_missing_database_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = report(dir.path(), &["--db", "sqlite:nope.db"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no such database"), "{err}");
    assert!(!dir.path().join("nope.db").exists());
}

#[test]
#[ignore = "needs PostgreSQL: run by scripts/test.sh"]
fn postgres_gives_the_same_top_ten_series_and_categories() {
    let url = rt().block_on(support::postgres_fixture(true));
    let dir = tempfile::tempdir().unwrap();
    let doc = json(dir.path(), &["--db", &url, "--format", "json"]);
    check_top10(&doc);
    let lens: Vec<usize> = doc["evolution"][1]["lines"][0]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_array().unwrap().len())
        .collect();
    assert_eq!(lens, [11, 4]);
    assert_eq!(doc["influencers"][0]["accounts"][0]["handle"], "ana");
    assert_eq!(doc["alerts"][0]["evidence"][0]["text"], XSS_POST);
    assert_eq!(doc["words"][0]["words"][0]["word"], "#BBB26");
    let empty = rt().block_on(support::postgres_fixture(false));
    let (code, out, err) = report(dir.path(), &["--db", &empty]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("No data for the top trends"), "{out}");
}

#[test]
fn a_database_without_the_alerts_table_still_gives_every_other_section() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(async {
        let url = sqlite_fixture(dir.path()).await;
        let sql = trendpipe_core::sql::Sql::connect(&url).await.unwrap();
        let trendpipe_core::sql::Sql::Sqlite(pool) = &sql else { unreachable!() };
        sqlx::query("DROP TABLE alerts").execute(pool).await.unwrap();
        sql.close().await;
        url
    });
    let (code, out, err) = report(dir.path(), &["--db", &url]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("no alerts in this database"), "{err}");
    assert!(out.contains("No data for alerts"), "{out}");
    assert!(out.contains("#BBB26"), "{out}");
}

#[test]
fn summary_json_prints_the_ledger_entry_of_the_whole_report_and_of_a_section() {
    let dir = tempfile::tempdir().unwrap();
    let url = rt().block_on(sqlite_fixture(dir.path()));
    for args in [&["--summary", "json", "--format", "json"][..], &["top", "--summary", "json", "--format", "json"][..]]
    {
        let mut all = vec!["--db", url.as_str()];
        if args[0] == "top" {
            all.insert(0, "top");
            all.extend(&args[1..]);
        } else {
            all.extend(args);
        }
        let (code, out, err) = report(dir.path(), &all);
        assert_eq!(code, Some(0), "{err}");
        check_top10(&serde_json::from_str(&out).unwrap());
        let last = err.lines().last().unwrap_or_default();
        let entry: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: the last stderr line {last:?}"));
        assert_eq!(entry["stage"], "report", "{entry}");
        assert_eq!(entry["status"], "ok", "{entry}");
        assert_eq!(entry["exit_code"], 0, "{entry}");
        assert!(entry["args"].as_array().unwrap().iter().any(|a| a == "--summary"), "{entry}");
    }
}
