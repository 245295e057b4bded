//! The bodies of the fuzz targets, one function per target, each feeding arbitrary
//! bytes to the same public functions the tools call on their input and checking
//! what must hold whatever the input: no panic, every bad record named, and (for
//! the report) no markup from the data reaching the page unescaped.
//!
//! The fuzz targets (`fuzz_targets/*.rs`, nightly, `scripts/fuzz.sh`) call these
//! functions; the stable test `tests/fuzz_regressions.rs` includes this file and
//! replays every seed and every file of `fuzz/regressions/<target>/` through them, so
//! a crash once found stays covered by `scripts/test.sh` without nightly.
//! Panicking here (`assert!`) is the point: it is how a fuzzer reports a finding.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufReader, Cursor};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use trendpipe_core::ndjson::{self, NdjsonReader};
use trendpipe_core::record::Record;

/// The body of a fuzz target.
pub type Body = fn(&[u8]);

/// Every target: its name (the directory of its seeds and regressions) and body.
pub const TARGETS: &[(&str, Body)] = &[
    ("ndjson_records", ndjson_records),
    ("x_v2_trends", x_v2_trends),
    ("x_v2_search", x_v2_search),
    ("x_v1_trends", x_v1_trends),
    ("x_v1_search", x_v1_search),
    ("mastodon_tags", mastodon_tags),
    ("mastodon_statuses", mastodon_statuses),
    ("google_rss", google_rss),
    ("bluesky_topics", bluesky_topics),
    ("bluesky_posts", bluesky_posts),
    ("bluesky_profiles", bluesky_profiles),
    ("clean_rules", clean_rules),
    ("sentiment_scorer", sentiment_scorer),
    ("report_escaping", report_escaping),
];

/// The fixture files (relative to the repository root) that seed each target.
pub const SEEDS: &[(&str, &str)] = &[
    ("ndjson_records", "fixtures/ndjson"),
    ("ndjson_records", "fixtures/posts"),
    ("x_v2_trends", "fixtures/x-v2"),
    ("x_v2_search", "fixtures/posts-x"),
    ("x_v1_trends", "fixtures/x-v1"),
    ("x_v1_search", "fixtures/posts-x-v1"),
    ("mastodon_tags", "fixtures/mastodon"),
    ("mastodon_statuses", "fixtures/posts-mastodon"),
    ("google_rss", "fixtures/google"),
    ("bluesky_topics", "fixtures/bluesky"),
    ("bluesky_posts", "fixtures/posts-bluesky"),
    ("bluesky_profiles", "fixtures/posts-bluesky"),
    ("clean_rules", "fixtures/ndjson"),
    ("clean_rules", "fixtures/posts"),
    ("sentiment_scorer", "fixtures/sentiment"),
    ("report_escaping", "fixtures/sentiment"),
];

/// The NDJSON reader and the record types: every non-blank line comes out once,
/// numbered in order, as an object, a record or an error naming its line; a record
/// read back from what it writes is the same record.
pub fn ndjson_records(data: &[u8]) {
    // A small line limit so that the "line too long" path is reached too.
    let mut reader = NdjsonReader::with_max_line(BufReader::with_capacity(64, Cursor::new(data)), 1024);
    let mut last = 0;
    while let Some(item) = reader.next_line() {
        let Ok(item) = item else { panic!("reading from memory cannot fail") };
        let line = match item {
            Ok((line, text)) => {
                // Blank means ASCII white space (JSON's own); a line of other white
                // space (`\x0b`, U+3000) is a line, and is refused as JSON below.
                assert!(!text.bytes().all(|b| b.is_ascii_whitespace()), "line {line}: a blank line was not skipped");
                match ndjson::parse_object(line, text) {
                    Ok((n, value)) => assert!(n == line && value.is_object()),
                    Err(e) => assert!(e.line == line && !e.message.is_empty()),
                }
                if let Ok(record) = serde_json::from_str::<Record>(text) {
                    let written = serde_json::to_string(&record).unwrap();
                    let again: Record = serde_json::from_str(&written).unwrap_or_else(|e| {
                        panic!("line {line}: a written record does not read back ({e}): {written}")
                    });
                    assert_eq!(
                        serde_json::to_value(&again).unwrap(),
                        serde_json::to_value(&record).unwrap(),
                        "line {line}"
                    );
                }
                let _ = trendpipe_core::record::Post::from_json_known_fields(text);
                line
            }
            Err(e) => {
                assert!(e.message.starts_with("line longer") || e.message.starts_with("invalid UTF-8"), "{e}");
                e.line
            }
        };
        assert!(line > last, "line numbers go forward: {line} after {last}");
        last = line;
    }
}

/// A shape error names a field; parsed trends have a name.
fn trends_ok(items: Result<Vec<trendpipe_fetch_trends::source::Item>, trendpipe_core::payload::ShapeError>) {
    match items {
        Ok(items) => {
            for t in items {
                assert!(t.volume.is_none_or(|v| v >= 0), "trend {:?}: negative volume {:?}", t.name, t.volume);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

pub fn x_v2_trends(data: &[u8]) {
    use trendpipe_fetch_trends::source::Source;
    trends_ok(trendpipe_fetch_trends::source::x::X.parse(data));
}

pub fn x_v1_trends(data: &[u8]) {
    match trendpipe_fetch_trends::source::x_v1::parse(data) {
        Ok(snapshots) => {
            for t in snapshots.iter().flat_map(|s| &s.trends) {
                assert!(t.volume.is_none_or(|v| v >= 0), "trend {:?}: negative volume {:?}", t.name, t.volume);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

pub fn mastodon_tags(data: &[u8]) {
    use trendpipe_fetch_trends::source::Source;
    trends_ok(trendpipe_fetch_trends::source::mastodon::Mastodon.parse(data));
}

/// Both namespaces of the Google feed (the old `ht:` one of the daily feed and the
/// `trending/rss` one) go through the same parser; `approx_traffic` reads "20,000+"
/// and never comes out negative.
pub fn google_rss(data: &[u8]) {
    use trendpipe_fetch_trends::source::Source;
    trends_ok(trendpipe_fetch_trends::source::google::Google.parse(data));
    let text = String::from_utf8_lossy(data);
    for word in text.split_whitespace().take(64) {
        if let Some((n, _)) = trendpipe_fetch_trends::source::google::approx_traffic(word) {
            assert!(n >= 0, "{word:?} read as a negative traffic {n}");
        }
    }
}

pub fn bluesky_topics(data: &[u8]) {
    use trendpipe_fetch_trends::source::Source;
    trends_ok(trendpipe_fetch_trends::source::bluesky::Bluesky.parse(data));
}

/// The context every post parser gets: a fixed time, so that runs repeat.
fn context() -> trendpipe_fetch_posts::source::PageContext<'static> {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 1, 30, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC);
    trendpipe_fetch_posts::source::PageContext {
        origin: "mastodon.example",
        next_link: Some("https://mastodon.example/api/v1/timelines/tag/x?max_id=1"),
        observed_at: at,
    }
}

/// A page's posts have ids, and their counts are never negative.
fn page_ok(page: Result<trendpipe_fetch_posts::source::Page, trendpipe_core::payload::ShapeError>) {
    match page {
        Ok(page) => {
            for p in page.posts.iter().chain(&page.referenced) {
                let m = &p.metrics;
                for n in [m.reposts, m.likes, m.replies, m.quotes].into_iter().flatten() {
                    assert!(n >= 0, "post {}: negative count {n}", p.id);
                }
                if let Some(f) = p.author.as_ref().and_then(|a| a.followers) {
                    assert!(f >= 0, "post {}: negative followers {f}", p.id);
                }
                serde_json::to_string(p).unwrap();
            }
        }
        Err(e) => assert!(!e.field.is_empty() || !e.to_string().is_empty()),
    }
}

pub fn x_v2_search(data: &[u8]) {
    use trendpipe_fetch_posts::source::Source;
    page_ok(trendpipe_fetch_posts::source::x::X.parse_page(data, &context()));
}

pub fn x_v1_search(data: &[u8]) {
    use trendpipe_fetch_posts::source::Source;
    page_ok(trendpipe_fetch_posts::source::x_v1::XV1.parse_page(data, &context()));
    let _ = trendpipe_fetch_posts::source::x_v1::saved_query(data);
    let _ = trendpipe_fetch_posts::source::x_v1::parse_created_at(&String::from_utf8_lossy(data));
}

pub fn mastodon_statuses(data: &[u8]) {
    use trendpipe_fetch_posts::source::Source;
    page_ok(trendpipe_fetch_posts::source::mastodon::Mastodon.parse_page(data, &context()));
    let _ = trendpipe_fetch_posts::source::mastodon::plain_text(&String::from_utf8_lossy(data));
}

pub fn bluesky_posts(data: &[u8]) {
    use trendpipe_fetch_posts::source::Source;
    page_ok(trendpipe_fetch_posts::source::bluesky::Bluesky.parse_page(data, &context()));
}

pub fn bluesky_profiles(data: &[u8]) {
    use trendpipe_fetch_posts::source::Remote;
    if let Ok(followers) = trendpipe_fetch_posts::source::bluesky::Bluesky.parse_profiles(data) {
        assert!(followers.values().all(|n| *n >= 0), "negative followers: {followers:?}");
    }
}

/// clean's rules on every line: a record is passed (as a JSON object) or rejected
/// with a reason naming the field, never lost.
pub fn clean_rules(data: &[u8]) {
    use trendpipe_clean::prepare::{Preparer, prepare_value};
    use trendpipe_clean::rule::Options;
    let Ok(text) = std::str::from_utf8(data) else { return };
    for options in [Options::default(), Options { normalise: false, strip_extra: false, ..Options::default() }] {
        let mut preparer = Preparer::new(options);
        let mut caches = Default::default();
        let mut heads = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let n = i as u64 + 1;
            match preparer.prepare(n, line, &mut heads) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.line, n),
            }
            if let Ok(value) = serde_json::from_str::<Value>(line) {
                let _ = prepare_value(&options, &mut caches, value.clone(), None);
                if let Err((_, reason)) = trendpipe_clean::rule::clean_one(&options, &mut caches, &value) {
                    assert!(!reason.is_empty(), "line {n}: a rejection without a reason");
                }
            }
        }
    }
}

/// Both analysers, whole text and sentence by sentence: the scores are numbers in
/// their ranges.
pub fn sentiment_scorer(data: &[u8]) {
    use std::sync::OnceLock;
    use trendpipe_sentiment::score::{Model, Scorer};
    static SCORER: OnceLock<(Scorer, Scorer)> = OnceLock::new();
    let (whole, split) = SCORER.get_or_init(|| {
        let whole = Scorer::default();
        let split = Scorer { split_sentences: true, ..whole.clone() };
        (whole, split)
    });
    let text = String::from_utf8_lossy(data);
    for scorer in [whole, split] {
        for model in [Model::VaderEn, Model::LeiaPt] {
            let s = scorer.score(model, &text);
            assert!((-1.0..=1.0).contains(&s.compound), "{model:?} {text:?}: {s:?}");
            for x in [s.pos, s.neu, s.neg] {
                assert!((0.0..=1.0).contains(&x), "{model:?} {text:?}: {s:?}");
            }
        }
    }
}

/// The strings of a report drawn from the input: trend names and keys, places,
/// handles, alert evidence and words. The page they are rendered into has exactly
/// the template's own `<script>` and none of their markup; every other format
/// renders them without failing.
pub fn report_escaping(data: &[u8]) {
    use trendpipe_report::Format;
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split(['\n', '\0']).map(str::to_owned);
    let mut next = || parts.next().unwrap_or_default();
    let report = sample_report([next(), next(), next(), next(), next(), next()]);
    let html = trendpipe_report::render::html::page(&report, None).unwrap();
    let scripts = html.to_ascii_lowercase().matches("<script").count();
    assert_eq!(scripts, 1, "the page has {scripts} <script> elements (the template has one)");
    for tag in ["<img", "<iframe", "<svg onload", "<a href=\"javascript"] {
        let page = html.to_ascii_lowercase();
        let allowed = if tag == "<a href=\"javascript" { 0 } else { sample_tag_count(tag) };
        assert!(page.matches(tag).count() <= allowed, "data markup {tag} reached the page");
    }
    for format in [Format::Table, Format::Markdown, Format::Json, Format::Csv] {
        let out = trendpipe_report::render::text(&report, format).unwrap();
        if format == Format::Json {
            serde_json::from_str::<Value>(&out).unwrap();
        }
    }
}

/// How often `tag` appears in a page made of harmless strings (the template's own).
fn sample_tag_count(tag: &str) -> usize {
    let benign = sample_report(["a", "b", "c", "d", "e", "f"].map(str::to_owned));
    trendpipe_report::render::html::page(&benign, None).unwrap().to_ascii_lowercase().matches(tag).count()
}

/// A report of every section that carries provider strings, filled with `s`.
pub fn sample_report(s: [String; 6]) -> trendpipe_report::report::Report {
    use trendpipe_report::query::influencers::InfluencerRow;
    use trendpipe_report::report::*;
    use trendpipe_report::words::{self, WordCount};
    let [name, key, place, handle, evidence, word] = s;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().unwrap();
    let t1 = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).single().unwrap();
    let scope = trendpipe_report::scope::Scope {
        since: t0,
        until: t1,
        tz: trendpipe_report::scope::parse_tz("UTC").unwrap(),
        place: Some(place.clone()),
        source: Some("x".into()),
        trend: Some(key.clone()),
        top: 10,
    };
    let top = TopTrend {
        position: 1,
        id: 1,
        source: "x".into(),
        key: key.clone(),
        name: name.clone(),
        peak_volume: Some(i64::MAX),
        best_rank: Some(1),
        places: vec![place.clone()],
        snapshots: 2,
        observations: 2,
        minutes_trending: 30,
        first_seen: t0,
        last_seen: t1,
        category: word.clone(),
        category_rule: evidence.clone(),
        sentiment: Some(SentimentSummary { label: word.clone(), mean_compound: -0.5, posts: 3 }),
    };
    let counts = words::count([evidence.as_str(), word.as_str(), name.as_str()]);
    let placed = words::layout(&counts, CLOUD_SIZE.0, CLOUD_SIZE.1);
    let mut shown: Vec<WordCount> = counts;
    shown.push(WordCount { word: word.clone(), count: 1 });
    let alert = Alert {
        metric: "sentiment".into(),
        direction: "down".into(),
        source: Some("x".into()),
        place: Some(place.clone()),
        trend_key: key.clone(),
        at: t1,
        value: Some(-0.3),
        baseline: Some(0.1),
        score: Some(-5.0),
        posts: Some(3),
        method: Some(evidence.clone()),
        evidence: vec![Evidence {
            id: Value::String(handle.clone()),
            text: Some(evidence.clone()),
            compound: Some(-0.9),
        }],
    };
    let account = InfluencerRow {
        trend_key: key.clone(),
        source: Some("x".into()),
        handle: Some(handle.clone()),
        author_id: handle.clone(),
        window_start: t0,
        window_len: "24h".into(),
        rank: Some(1),
        score: 1.0,
        percentile: Some(100),
        posts: 1,
        reposts: 1,
        likes: 1,
        replies: None,
        quotes: None,
        followers: Some(10),
        h_index: None,
        cascade_depth: None,
        cascade_size: None,
        structural_virality: None,
        pagerank: Some(0.5),
    };
    let point = |at, value| TimePoint { at, value };
    Report {
        scope,
        sections: Section::ALL.to_vec(),
        health: None,
        top: Some(vec![top]),
        evolution: Some(vec![Evolution {
            key: key.clone(),
            name: name.clone(),
            lines: vec![Line {
                place: place.clone(),
                metric: "volume",
                segments: vec![vec![point(t0, 1.0), point(t1, 5.0)]],
            }],
        }]),
        sentiment: Some(vec![SentimentSeries {
            key: key.clone(),
            name: name.clone(),
            window_len: "1h".into(),
            points: vec![SentimentPoint {
                window_start: t0,
                posts: 3,
                mean_compound: -0.5,
                share_positive: 0.0,
                share_neutral: 0.5,
                share_negative: 0.5,
            }],
            alerts: vec![point(t1, -0.5)],
        }]),
        alerts: Some(vec![alert]),
        words: Some(vec![Cloud { key: key.clone(), name: name.clone(), posts: 3, words: shown, placed }]),
        influencers: Some(vec![Leaderboard { key: key.clone(), name: name.clone(), accounts: vec![account] }]),
        heatmap: Some(Heatmaps {
            overall: Grid::default(),
            per_category: [(word.clone(), Grid::default())].into_iter().collect(),
        }),
        categories: Some(Categories {
            counts: vec![CategoryCount { category: word.clone(), trends: 1 }],
            trends: vec![CategoryRow { key, category: word, rule: evidence }],
        }),
    }
}
