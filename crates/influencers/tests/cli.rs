//! The `influencers` binary on hand-checked posts: every component, score, rank and
//! percentile below was worked out by hand from the definitions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{P, influencers, ndjson};
use serde_json::Value;

const ALPHA: f64 = 0.85;
const DAY: &str = "2026-11-22T00:00:00Z";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn by_author<'a>(rows: &'a [Value], author: &str) -> &'a Value {
    rows.iter().find(|r| r["author"]["id"] == author).unwrap_or_else(|| panic!("no row for {author}: {rows:#?}"))
}

fn comp(row: &Value, name: &str) -> i64 {
    row["components"][name].as_i64().unwrap_or_else(|| panic!("{name} in {row}"))
}

fn score(reposts: f64, likes: f64, followers: f64, depth: f64) -> f64 {
    0.35 * reposts.ln_1p() + 0.25 * likes.ln_1p() + 0.15 * followers.ln_1p() + 0.25 * depth.ln_1p()
}

/// a's post p1 is answered by b (p2), whose reply is quoted by c (p3) and answered by
/// b again (p6); d reposts p1 (p4) and a reposts their own p1 (p5). p1 was seen under
/// trend t, then later under u with more likes.
fn tree() -> Vec<P> {
    vec![
        P::new("p1", "a", "2026-11-22T01:00:00Z").followers(100).metrics(4, 8, 2, 1).observed("2026-11-22T02:00:00Z"),
        P::new("p1", "a", "2026-11-22T01:00:00Z")
            .followers(100)
            .metrics(4, 10, 2, 1)
            .observed("2026-11-22T03:00:00Z")
            .trends(&["u"]),
        P::new("p2", "b", "2026-11-22T01:10:00Z").followers(10).metrics(1, 3, 0, 0).reply("p1"),
        P::new("p3", "c", "2026-11-22T01:20:00Z").metrics(0, 1, 0, 0).quote("p2"),
        P::new("p4", "d", "2026-11-22T01:30:00Z").followers(5).metrics(4, 10, 2, 1).repost("p1"),
        P::new("p5", "a", "2026-11-22T01:40:00Z").followers(100).metrics(4, 10, 2, 1).repost("p1"),
        P::new("p6", "b", "2026-11-22T01:50:00Z").followers(10).reply("p2"),
    ]
}

#[test]
fn a_tree_of_replies_quotes_and_reposts_gives_the_hand_checked_components_scores_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let run = influencers(dir.path(), &["--trend", "t"], &ndjson(&tree()));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    let order: Vec<(&str, i64, i64)> = rows
        .iter()
        .map(|r| (r["author"]["id"].as_str().unwrap(), r["rank"].as_i64().unwrap(), r["percentile"].as_i64().unwrap()))
        .collect();
    assert_eq!(order, [("a", 1, 100), ("b", 2, 75), ("d", 3, 50), ("c", 4, 25)]);
    for r in &rows {
        assert_eq!(
            (r["kind"].as_str(), r["trend"].as_str(), r["source"].as_str()),
            (Some("influencer"), Some("t"), Some("x"))
        );
        assert_eq!((r["window_start"].as_str(), r["window_len"].as_str()), (Some(DAY), Some("24h")));
        assert_eq!(r["model"], "influence-v1 weights=reposts:0.35,likes:0.25,followers:0.15,depth:0.25");
        assert_eq!(r["author"]["handle"], format!("h_{}", r["author"]["id"].as_str().unwrap()));
    }
    let a = by_author(&rows, "a");
    // p1's 4 reposts less a's own repost p5; its latest counts (10 likes) are used.
    let counts = |r: &Value| {
        [
            "posts",
            "reposts_made",
            "reposts",
            "likes",
            "replies",
            "quotes",
            "followers",
            "h_index",
            "cascade_depth",
            "cascade_size",
        ]
        .map(|n| comp(r, n))
    };
    assert_eq!(counts(a), [2, 1, 3, 10, 2, 1, 100, 1, 2, 4]);
    assert_eq!(counts(by_author(&rows, "b")), [2, 0, 1, 3, 0, 0, 10, 1, 0, 0]);
    assert_eq!(counts(by_author(&rows, "c")), [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(counts(by_author(&rows, "d")), [1, 1, 0, 0, 0, 0, 5, 0, 0, 0]);
    // The cascade of p1: p1 <- {p2 <- {p3, p6}, p4}; subtree sizes 3,1,1,1 over n = 5:
    // W = 3*2 + 3*(1*4) = 18, virality = 2*18 / (5*4) = 1.8. p5 stands alone.
    assert!(close(a["components"]["structural_virality"].as_f64().unwrap(), 1.8));
    assert!(close(a["score"].as_f64().unwrap(), score(3.0, 10.0, 100.0, 2.0)));
    assert!(close(by_author(&rows, "b")["score"].as_f64().unwrap(), score(1.0, 3.0, 10.0, 0.0)));
    assert!(close(by_author(&rows, "c")["score"].as_f64().unwrap(), score(0.0, 1.0, 0.0, 0.0)));
    assert!(close(by_author(&rows, "d")["score"].as_f64().unwrap(), score(0.0, 0.0, 5.0, 0.0)));
    // Author graph: b->a (p2), c->b (p3), d->a (p4); a's self-repost and b's self-reply are
    // dropped, a dangles. With s = c = d: b = s(1+α), a = s(1+α)², summing to 1.
    let s = 1.0 / (2.0 + (1.0 + ALPHA) + (1.0 + ALPHA) * (1.0 + ALPHA));
    let pr = |who: &str| by_author(&rows, who)["components"]["pagerank"].as_f64().unwrap();
    assert!((pr("c") - s).abs() < 1e-9 && (pr("d") - s).abs() < 1e-9, "{}", pr("c"));
    assert!((pr("b") - s * (1.0 + ALPHA)).abs() < 1e-9);
    assert!((pr("a") - s * (1.0 + ALPHA) * (1.0 + ALPHA)).abs() < 1e-9);
}

#[test]
fn a_post_linked_to_two_trends_counts_in_both_with_its_latest_counts() {
    let dir = tempfile::tempdir().unwrap();
    let run = influencers(dir.path(), &[], &ndjson(&tree()));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    let trends: Vec<&str> = rows.iter().map(|r| r["trend"].as_str().unwrap()).collect();
    assert_eq!(trends, ["t", "t", "t", "t", "u"], "ordered by trend, then rank");
    let u = &rows[4];
    assert_eq!(u["author"]["id"], "a");
    // Under u, p1 is alone: no cascade, no graph; its self-repost p5 (collected under t)
    // still comes off its reposts.
    assert_eq!([comp(u, "posts"), comp(u, "reposts"), comp(u, "likes"), comp(u, "cascade_depth")], [1, 3, 10, 0]);
    assert!(close(u["components"]["pagerank"].as_f64().unwrap(), 1.0));
    assert!(close(u["score"].as_f64().unwrap(), score(3.0, 10.0, 100.0, 0.0)));
    assert_eq!((u["rank"].as_i64(), u["percentile"].as_i64()), (Some(1), Some(100)));
}

#[test]
fn a_star_and_a_chain_have_their_closed_form_virality() {
    let dir = tempfile::tempdir().unwrap();
    let t = "2026-11-22T10:00:00Z";
    let mut posts = vec![P::new("s0", "hub", t).metrics(0, 0, 4, 0).trends(&["star"])];
    for i in 1..5 {
        posts.push(P::new(&format!("s{i}"), &format!("fan{i}"), t).reply("s0").trends(&["star"]));
    }
    posts.push(P::new("c0", "x", t).trends(&["chain"]));
    for i in 1..6 {
        posts.push(
            P::new(&format!("c{i}"), if i % 2 == 1 { "y" } else { "x" }, t)
                .quote(&format!("c{}", i - 1))
                .trends(&["chain"]),
        );
    }
    let run = influencers(dir.path(), &[], &ndjson(&posts));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    let hub = by_author(&rows, "hub");
    // A star of n = 5 posts: 2(n-1)/n = 1.6; depth 1; 4 posts under the root.
    assert!(close(hub["components"]["structural_virality"].as_f64().unwrap(), 1.6));
    assert_eq!([comp(hub, "cascade_depth"), comp(hub, "cascade_size"), comp(hub, "replies")], [1, 4, 4]);
    assert_eq!(hub["rank"], 1);
    let fans: Vec<&Value> = rows.iter().filter(|r| r["trend"] == "star" && r["author"]["id"] != "hub").collect();
    assert_eq!(fans.len(), 4);
    // Equal scores: ranks by author id; all share the percentile 4/5 of 100.
    let fan_order: Vec<(&str, i64, i64)> = fans
        .iter()
        .map(|r| (r["author"]["id"].as_str().unwrap(), r["rank"].as_i64().unwrap(), r["percentile"].as_i64().unwrap()))
        .collect();
    assert_eq!(fan_order, [("fan1", 2, 80), ("fan2", 3, 80), ("fan3", 4, 80), ("fan4", 5, 80)]);
    // The hub gets every fan's rank: (1-α)/5 + α·(its own dangling share)/5 + α·4·fan.
    let fan = fans[0]["components"]["pagerank"].as_f64().unwrap();
    let hubr = hub["components"]["pagerank"].as_f64().unwrap();
    assert!((fan - ((1.0 - ALPHA) / 5.0 + ALPHA * hubr / 5.0)).abs() < 1e-9);
    assert!((hubr + 4.0 * fan - 1.0).abs() < 1e-9);
    // A chain of n = 6 posts: (n+1)/3; depth 5.
    let x = by_author(&rows, "x");
    assert_eq!(x["trend"], "chain");
    assert!(close(x["components"]["structural_virality"].as_f64().unwrap(), 7.0 / 3.0));
    assert_eq!([comp(x, "cascade_depth"), comp(x, "cascade_size")], [5, 5]);
}

#[test]
fn posts_outside_the_window_are_left_out_and_windows_align_to_utc() {
    let dir = tempfile::tempdir().unwrap();
    let posts = vec![
        P::new("early", "a", "2026-11-21T23:59:59Z").metrics(0, 5, 0, 0),
        P::new("in", "a", "2026-11-22T00:00:00Z").metrics(0, 1, 0, 0),
        P::new("late", "b", "2026-11-22T23:59:59Z").metrics(0, 2, 0, 0),
        P::new("next", "b", "2026-11-23T00:00:00Z").metrics(0, 7, 0, 0),
    ];
    let input = ndjson(&posts);
    let run = influencers(dir.path(), &["--since", "2026-11-22T06:00:00Z", "--until", "2026-11-22T18:00:00Z"], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    // The whole UTC day the span touches, nothing of the days around it.
    let got: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|r| (r["window_start"].as_str().unwrap(), r["author"]["id"].as_str().unwrap(), comp(r, "likes")))
        .collect();
    assert_eq!(got, [(DAY, "b", 2), (DAY, "a", 1)]);
    // Hours: the post at 23:59:59 is in the 23:00 window; two windows per author.
    let run = influencers(dir.path(), &["--window", "1h", "--window", "24h"], &input);
    let rows = run.records();
    let windows: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["window_len"].as_str().unwrap(), r["window_start"].as_str().unwrap())).collect();
    assert_eq!(
        windows,
        [
            ("1h", "2026-11-21T23:00:00Z"),
            ("1h", "2026-11-22T00:00:00Z"),
            ("1h", "2026-11-22T23:00:00Z"),
            ("1h", "2026-11-23T00:00:00Z"),
            ("24h", "2026-11-21T00:00:00Z"),
            ("24h", DAY),
            ("24h", DAY),
            ("24h", "2026-11-23T00:00:00Z"),
        ]
    );
}

#[test]
fn self_reposts_earn_nothing_and_the_h_index_counts_reposts_of_others() {
    let dir = tempfile::tempdir().unwrap();
    let t = "2026-11-22T12:00:00Z";
    // s posts three originals with 3, 2 and 2 reposts by the provider's count; s reposts
    // each of them twice, which the provider counted: 1, 0 and 0 are left.
    let mut posts = vec![
        P::new("o1", "s", t).metrics(3, 0, 0, 0),
        P::new("o2", "s", t).metrics(2, 0, 0, 0),
        P::new("o3", "s", t).metrics(2, 0, 0, 0),
        P::new("q", "o", t).metrics(5, 0, 0, 0),
        P::new("q2", "o", t).metrics(5, 0, 0, 0),
    ];
    for o in ["o1", "o2", "o3"] {
        for i in 0..2 {
            posts.push(P::new(&format!("{o}r{i}"), "s", t).metrics(3, 0, 0, 0).repost(o));
        }
    }
    let run = influencers(dir.path(), &[], &ndjson(&posts));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    let s = by_author(&rows, "s");
    assert_eq!([comp(s, "posts"), comp(s, "reposts_made"), comp(s, "reposts"), comp(s, "h_index")], [9, 6, 1, 1]);
    assert_eq!([comp(s, "cascade_depth"), comp(s, "cascade_size")], [0, 0], "a self-repost is no cascade");
    assert!(close(s["components"]["pagerank"].as_f64().unwrap(), 0.5), "no self-link in the graph");
    let o = by_author(&rows, "o");
    assert_eq!([comp(o, "reposts"), comp(o, "h_index")], [10, 2]);
    assert_eq!(o["rank"], 1);
}

#[test]
fn weights_come_from_the_flag_or_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(&tree());
    let run = influencers(dir.path(), &["--trend", "t", "--weights", "followers=1,likes=0"], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.records();
    let a = by_author(&rows, "a");
    assert!(close(a["score"].as_f64().unwrap(), 0.35 * 4f64.ln() + 101f64.ln() + 0.25 * 3f64.ln()));
    assert_eq!(a["model"], "influence-v1 weights=reposts:0.35,likes:0,followers:1,depth:0.25");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "influencer_weights = \"reposts=1,likes=0,followers=0,depth=0\"\n").unwrap();
    let run = influencers(dir.path(), &["--trend", "t", "--config", config.to_str().unwrap()], &input);
    let rows = run.records();
    assert!(close(by_author(&rows, "a")["score"].as_f64().unwrap(), 4f64.ln()));
    let bad = influencers(dir.path(), &["--weights", "reach=1"], &input);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("--weights") && bad.stderr.contains("reach"), "{}", bad.stderr);
}

#[test]
fn bad_lines_are_named_kept_in_the_reject_file_and_the_rest_is_scored() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = ndjson(&tree()[..3]);
    input.push_str("{not json\n");
    input.push_str(
        "{\"kind\":\"post\",\"source\":\"x\",\"id\":\"n1\",\"trend\":\"t\",\"created_at\":\"2026-11-22T05:00:00Z\"}\n",
    );
    input.push_str("{\"kind\":\"trend\",\"source\":\"x\",\"place\":{\"id\":\"1\"},\"name\":\"T\",\"volume\":1,\"observed_at\":\"2026-11-22T05:00:00Z\"}\n");
    input.push_str("{\"kind\":\"post\",\"source\":\"x\",\"id\":7,\"trend\":\"t\"}\n");
    let run = influencers(dir.path(), &["--reject", "bad.ndjson"], &input);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("line 4: invalid JSON"), "{}", run.stderr);
    assert!(run.stderr.contains("line 5: author: missing"), "{}", run.stderr);
    assert!(run.stderr.contains("line 7: not a valid post record"), "{}", run.stderr);
    let rejects: Vec<Value> = std::fs::read_to_string(dir.path().join("bad.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<i64> = rejects.iter().map(|r| r["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [4, 5, 7]);
    assert_eq!(rejects[0]["record"], "{not json");
    assert_eq!(rejects[1]["record"]["id"], "n1");
    assert!(rejects.iter().all(|r| r["stage"] == "influencers"));
    let authors: Vec<&str> = run
        .records()
        .iter()
        .filter(|r| r["trend"] == "t")
        .map(|r| r["author"]["id"].as_str().unwrap())
        .map(|s| if s == "a" { "a" } else { "b" })
        .collect();
    assert_eq!(authors, ["a", "b"], "the good lines are still scored");
}

#[test]
fn csv_table_and_json_formats_carry_the_top_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(&tree());
    let csv = influencers(dir.path(), &["--format", "csv", "--top", "2"], &input);
    assert_eq!(csv.code, Some(0), "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert!(
        lines[0]
            .starts_with("trend,window_start,window_len,rank,source,author_id,author_handle,score,percentile,posts,")
    );
    assert_eq!(lines.len(), 1 + 2 + 1, "two of t, the one of u: {}", csv.stdout);
    assert!(lines[1].starts_with("t,2026-11-22T00:00:00Z,24h,1,x,a,h_a,"), "{}", lines[1]);
    // The model holds commas: the CSV writer quotes it.
    assert!(
        lines[1].ends_with(",\"influence-v1 weights=reposts:0.35,likes:0.25,followers:0.15,depth:0.25\""),
        "{}",
        lines[1]
    );
    let table = influencers(dir.path(), &["--format", "table", "--top", "1"], &input);
    assert!(table.stdout.contains("@h_a (x)") && !table.stdout.contains("@h_b"), "{}", table.stdout);
    let json = influencers(dir.path(), &["--format", "json", "--top", "3", "--trend", "#T"], &input);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let ids: Vec<&str> = doc.as_array().unwrap().iter().map(|r| r["author"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "d"]);
}

#[test]
fn reading_stdin_and_a_database_at_once_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let run = influencers(dir.path(), &["--db", &url, "--from", "stdin"], &ndjson(&tree()));
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--db reads posts from the database"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}
