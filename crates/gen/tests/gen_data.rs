//! `gen-data` run as a user runs it: the same seed gives the same bytes, and the records
//! have the shapes and distributions the benchmarks rely on.

// Tests fail by panicking; the lints against it guard library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};

use assert_cmd::Command;
use serde_json::Value;
use trendpipe_core::record::{Post, Record, Trend};

fn gen_data(args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("gen-data").unwrap().args(args).output().unwrap();
    assert!(out.status.success(), "gen-data {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn records(bytes: &[u8]) -> Vec<Record> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_slice(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)))
        .collect()
}

fn posts(bytes: &[u8]) -> Vec<Post> {
    records(bytes)
        .into_iter()
        .map(|r| match r {
            Record::Post(p) => p,
            other => panic!("not a post: {other:?}"),
        })
        .collect()
}

fn trends(bytes: &[u8]) -> Vec<Trend> {
    records(bytes)
        .into_iter()
        .map(|r| match r {
            Record::Trend(t) => t,
            other => panic!("not a trend: {other:?}"),
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    for kind in ["posts", "trends"] {
        let a = gen_data(&[kind, "--records", "5000", "--seed", "7"]);
        let b = gen_data(&[kind, "--records", "5000", "--seed", "7"]);
        let c = gen_data(&[kind, "--records", "5000", "--seed", "8"]);
        assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 5000, "{kind}: exact count");
        assert!(a == b, "{kind}: seed 7 twice gave different bytes");
        assert!(a != c, "{kind}: seeds 7 and 8 gave the same bytes");
    }
}

#[test]
fn x_v1_pages_are_the_same_files_for_the_same_seed_and_hold_every_status() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for d in &dirs {
        let dir = d.path().to_str().unwrap();
        gen_data(&["x-v1", "--records", "3000", "--seed", "3", "--dir", dir]);
    }
    let read = |d: &tempfile::TempDir| {
        let mut files: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.into_iter().map(|p| (p.file_name().unwrap().to_owned(), std::fs::read(&p).unwrap())).collect::<Vec<_>>()
    };
    let (a, b) = (read(&dirs[0]), read(&dirs[1]));
    assert!(a == b, "the same seed gave different pages");
    let mut statuses = 0;
    let mut retweets = 0;
    for (name, body) in &a {
        let page: Value = serde_json::from_slice(body).unwrap();
        let list = page["statuses"].as_array().unwrap();
        assert!(!list.is_empty() && list.len() <= 100, "{name:?}: {} statuses", list.len());
        assert!(!page["search_metadata"]["query"].as_str().unwrap().is_empty());
        for s in list {
            let created = s["created_at"].as_str().unwrap();
            chrono::DateTime::parse_from_str(created, "%a %b %d %H:%M:%S %z %Y").unwrap();
            assert_eq!(s["id"].as_u64().unwrap().to_string(), s["id_str"].as_str().unwrap());
            assert!(s.get("reply_count").is_none(), "v1.1 gives no reply counts");
            if let Some(rt) = s.get("retweeted_status") {
                retweets += 1;
                assert_eq!(rt["retweet_count"], s["retweet_count"]);
                assert!(s["text"].as_str().unwrap().starts_with("RT @"));
            }
            assert!(!s["text"].as_str().unwrap().contains('<'), "text is HTML-escaped: {}", s["text"]);
        }
        statuses += list.len();
    }
    assert_eq!(statuses, 3000);
    assert!(retweets > 300, "{retweets} retweets in 3000 statuses");
}

#[test]
fn posts_form_reply_quote_and_repost_trees_with_zipf_engagement_in_two_languages() {
    let all = posts(&gen_data(&["posts", "--records", "20000"]));
    assert_eq!(all.len(), 20000);
    let mut seen: HashMap<&str, &Post> = HashMap::new();
    let (mut replies, mut quotes, mut reposts, mut again) = (0, 0, 0, 0);
    let mut langs = BTreeSet::new();
    let mut likes: Vec<i64> = Vec::new();
    let mut per_author: HashMap<String, u64> = HashMap::new();
    for p in &all {
        langs.insert(p.lang.clone().unwrap());
        *per_author.entry(p.author.as_ref().unwrap().id.clone()).or_default() += 1;
        if let Some(parent) = &p.parent_id {
            replies += 1;
            assert!(seen.contains_key(parent.as_str()), "reply {} to a post not written before", p.id);
        }
        if let Some(q) = &p.quote_of {
            quotes += 1;
            assert!(seen.contains_key(q.as_str()), "quote {} of a post not written before", p.id);
        }
        if let Some(o) = &p.repost_of {
            reposts += 1;
            let original = seen[o.as_str()];
            assert!(original.repost_of.is_none(), "a repost of a repost: {}", p.id);
            assert_eq!(p.trend, original.trend);
        } else if seen.contains_key(p.id.as_str()) {
            again += 1;
            assert!(p.observed_at > seen[p.id.as_str()].observed_at, "a later observation of {} is older", p.id);
        } else {
            likes.push(p.metrics.likes.unwrap());
        }
        seen.insert(&p.id, p);
    }
    assert!(langs.contains("pt") && langs.contains("en"), "{langs:?}");
    for (what, n, lo, hi) in [
        ("replies", replies, 1500, 4500),
        ("quotes", quotes, 400, 1800),
        ("reposts", reposts, 3500, 7000),
        ("re-observations", again, 400, 1200),
    ] {
        assert!((lo..=hi).contains(&n), "{n} {what} in 20000 posts");
    }
    // Heavy tails: the top 1% of posts hold a large share of the likes, and the top 1%
    // of authors write far more than 1% of the posts.
    likes.sort_unstable_by(|a, b| b.cmp(a));
    let total: i64 = likes.iter().sum();
    let top: i64 = likes[..likes.len() / 100].iter().sum();
    assert!(top * 4 > total, "top 1% of posts hold {top} of {total} likes");
    assert!(likes[likes.len() / 2] <= 2, "median likes {}", likes[likes.len() / 2]);
    let mut counts: Vec<u64> = per_author.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top_authors: u64 = counts[..counts.len().div_ceil(100)].iter().sum();
    assert!(top_authors * 10 > 20000, "top 1% of authors wrote {top_authors} posts");
}

#[test]
fn trends_cover_fifty_places_every_half_hour_with_a_daily_rhythm_in_several_scripts() {
    // Two days of 50 places × 12 trends.
    let all = trends(&gen_data(&["trends", "--records", "57600"]));
    let places: BTreeSet<&str> = all.iter().map(|t| t.place.id.as_str()).collect();
    assert_eq!(places.len(), 50);
    let times: BTreeSet<_> = all.iter().map(|t| t.observed_at).collect();
    assert_eq!(times.len(), 96);
    let steps: BTreeSet<i64> = times.iter().zip(times.iter().skip(1)).map(|(a, b)| (*b - *a).num_minutes()).collect();
    assert_eq!(steps, BTreeSet::from([30]));
    let mut lists: HashMap<(&str, _), Vec<u32>> = HashMap::new();
    for t in &all {
        assert_eq!(t.key, trendpipe_core::key::trend_key(&t.name));
        lists.entry((t.place.id.as_str(), t.observed_at)).or_default().push(t.rank.unwrap());
    }
    assert!(lists.values().all(|ranks| *ranks == (1..=12).collect::<Vec<_>>()), "every list ranks 1 to 12");
    let has = |f: fn(char) -> bool| all.iter().any(|t| t.name.chars().any(f));
    assert!(has(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)), "Japanese");
    assert!(has(|c| ('\u{0600}'..='\u{06ff}').contains(&c)), "Arabic");
    assert!(has(|c| ('\u{ac00}'..='\u{d7af}').contains(&c)), "Korean");
    assert!(has(|c| "ãõçêéáí".contains(c)), "Portuguese accents");
    let nulls = all.iter().filter(|t| t.volume.is_none()).count();
    assert!(nulls > 0 && nulls < all.len() / 2, "{nulls} null volumes");
    // Brazil (UTC-3): its afternoon (17:00–23:00 UTC) is busier than its night (06:00–09:00 UTC).
    let brazil = |hours: std::ops::Range<u32>| {
        let v: Vec<i64> = all
            .iter()
            .filter(|t| t.place.id == "23424768" && hours.contains(&chrono::Timelike::hour(&t.observed_at)))
            .filter_map(|t| t.volume)
            .collect();
        v.iter().sum::<i64>() as f64 / v.len().max(1) as f64
    };
    let (day, night) = (brazil(17..23), brazil(6..9));
    assert!(day > 1.5 * night, "Brazil's afternoon {day:.0} against its night {night:.0}");
}
