//! The `alerts` binary on synthetic series with known answers, from stdin.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{alerts, ndjson, normal, observations, posts, rng};

/// Ten days of hourly windows with 40 posts, mean 0.2, and a drop to -0.3 from hour
/// 200 for six hours; `per_hour` posts per window.
fn drop_history(per_hour: usize) -> String {
    let mut r = rng(7);
    ndjson(&posts(&mut r, "crise", 240, |_| per_hour, |h| if (200..206).contains(&h) { -0.3 } else { 0.2 }))
}

#[test]
fn an_injected_sentiment_drop_is_caught_in_its_first_window_with_its_most_negative_posts() {
    let dir = tempfile::tempdir().unwrap();
    let run = alerts(dir.path(), &["--metric", "sentiment"], &[], &drop_history(40));
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let recs = run.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let a = &recs[0];
    assert_eq!(a["kind"], "alert");
    assert_eq!(a["metric"], "sentiment");
    assert_eq!(a["direction"], "down");
    assert_eq!(a["trend"], "crise");
    assert_eq!(a["at"], "2026-10-13T08:00:00Z", "hour 200 is the first window of the drop");
    assert_eq!(a["posts"], 40);
    assert!(a["value"].as_f64().unwrap() < 0.0 && a["baseline"].as_f64().unwrap() > 0.1, "{a}");
    assert!(a["score"].as_f64().unwrap() < 0.0);
    let evidence = a["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 5);
    let compounds: Vec<f64> = evidence.iter().map(|e| e["compound"].as_f64().unwrap()).collect();
    assert!(compounds.windows(2).all(|w| w[0] <= w[1]), "most negative first: {compounds:?}");
    assert!(evidence[0]["id"].as_str().unwrap().starts_with("crise-20"), "{}", evidence[0]);
    assert!(evidence[0]["text"].as_str().is_some());
}

#[test]
fn the_same_drop_with_fewer_posts_than_min_posts_is_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let input = drop_history(20);
    let run = alerts(dir.path(), &["--metric", "sentiment"], &[], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.records().is_empty(), "{}", run.stdout);
    // The same windows are judged once the threshold allows them: the drop was there.
    let run = alerts(dir.path(), &["--metric", "sentiment", "--min-posts", "10"], &[], &input);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.records()[0]["at"], "2026-10-13T08:00:00Z");
}

#[test]
fn a_stable_noisy_baseline_with_a_daily_rhythm_raises_nothing_over_four_weeks() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rng(11);
    let noise: Vec<f64> = (0..4 * 7 * 96).map(|_| normal(&mut r)).collect();
    let volume = |i: i64| {
        let hours = i as f64 / 4.0;
        Some((7.0 + 0.6 * (std::f64::consts::TAU * hours / 24.0).sin() + 0.1 * noise[i as usize]).exp())
    };
    let mut records = observations("#Estável", "23424768", 4 * 7 * 96, 15, volume);
    let mut r = rng(12);
    records.extend(posts(
        &mut r,
        "estavel",
        4 * 7 * 24,
        |h| 60 + (30.0 * (std::f64::consts::TAU * h as f64 / 24.0).sin()) as usize,
        |h| 0.1 + 0.05 * (std::f64::consts::TAU * h as f64 / 24.0).sin(),
    ));
    let run = alerts(dir.path(), &["--direction", "both"], &[], &ndjson(&records));
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("0 alerts"), "{}", run.stderr);
}

#[test]
fn a_slow_slide_is_caught_by_the_chart_before_any_single_window_stands_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rng(21);
    // From hour 300 the mean slides by 0.004 an hour: no window alone is a spike.
    let mean = |h: i64| if h < 300 { 0.2 } else { 0.2 - 0.004 * (h - 300) as f64 };
    let input = ndjson(&posts(&mut r, "lento", 400, |_| 100, mean));
    let run = alerts(dir.path(), &["--metric", "sentiment", "--evidence", "0"], &[], &input);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let recs = run.records();
    assert!(recs[0]["method"].as_str().unwrap().contains("cusum"), "{}", recs[0]);
    assert!(recs[0].get("evidence").is_none(), "--evidence 0 gives none: {}", recs[0]);
    let hours: Vec<i64> = recs
        .iter()
        .map(|r| (trendpipe_core::record::parse_time(r["at"].as_str().unwrap()).unwrap() - common::t0()).num_hours())
        .collect();
    assert!((300..350).contains(&hours[0]), "caught at hour {}", hours[0]);
    // A slide still going a day later is raised again, never sooner (the cooldown).
    assert!(hours.windows(2).all(|w| w[1] - w[0] >= 24), "{hours:?}");
}

#[test]
fn a_volume_spike_is_raised_up_with_its_source_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rng(31);
    let noise: Vec<f64> = (0..120).map(|_| normal(&mut r)).collect();
    let volume = |i: i64| Some(if i == 100 { 40_000.0 } else { 5000.0 * (0.1 * noise[i as usize]).exp() });
    let input = ndjson(&observations("#BBB26", "23424768", 120, 60, volume));
    let run = alerts(dir.path(), &["--format", "ndjson"], &[], &input);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let recs = run.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let a = &recs[0];
    assert_eq!((a["metric"].as_str(), a["direction"].as_str()), (Some("volume"), Some("up")));
    assert_eq!(
        (a["source"].as_str(), a["place"].as_str(), a["trend"].as_str()),
        (Some("x"), Some("23424768"), Some("bbb26"))
    );
    assert_eq!(a["at"], "2026-10-09T04:00:00Z");
    assert_eq!(a["value"], 40000.0);
    assert!(a["method"].as_str().unwrap().contains("spike"));
    assert_eq!(a["posts"], serde_json::Value::Null);
    // The table is for people, on stdout too.
    let run = alerts(dir.path(), &["--format", "table"], &[], &input);
    assert!(run.stdout.contains("bbb26") && run.stdout.contains("2026-10-09 04:00"), "{}", run.stdout);
}

#[test]
fn null_volumes_and_missing_observations_are_gaps_not_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rng(41);
    let noise: Vec<f64> = (0..300).map(|_| normal(&mut r)).collect();
    // Twelve hours of null volumes, then six hours with no observation at all.
    let volume = |i: i64| match i {
        100..112 => None,
        _ => Some(3000.0 * (0.1 * noise[i as usize]).exp()),
    };
    let records: Vec<_> = observations("#Lacuna", "1", 300, 60, volume)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !(150..156).contains(i))
        .map(|(_, r)| r)
        .collect();
    let run = alerts(dir.path(), &["--direction", "both"], &[], &ndjson(&records));
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("12 null volumes (gaps)"), "{}", run.stderr);
}

#[test]
fn a_one_point_history_is_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(&observations("#Novo", "1", 1, 15, |_| Some(1_000_000.0)));
    let run = alerts(dir.path(), &[], &[], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("1 series, 0 alerts"), "{}", run.stderr);
}

#[test]
fn lines_that_are_neither_scored_posts_nor_trends_are_refused_by_line_and_outrank_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = drop_history(40);
    input.push_str("{oops\n");
    input.push_str(r#"{"kind":"post","source":"x","id":"9","trend":"crise","created_at":"2026-10-13T08:00:00Z"}"#);
    input.push_str("\n{\"kind\":\"influencer\"}\n");
    let run = alerts(dir.path(), &["--reject", "bad.ndjson"], &[], &input);
    assert_eq!(run.code, Some(1), "refused input wins over alerts: {}", run.stderr);
    assert_eq!(run.records().len(), 1, "the alert is still written");
    let lines = input.lines().count();
    assert!(run.stderr.contains(&format!("line {}: invalid JSON", lines - 2)), "{}", run.stderr);
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("bad.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 3);
    assert_eq!(rejects[1]["line"], lines as u64 - 1);
    assert!(rejects[1]["reason"].as_str().unwrap().contains("sentiment: missing"), "{}", rejects[1]);
    assert!(rejects[2]["reason"].as_str().unwrap().contains("influencer"), "{}", rejects[2]);
}

#[test]
fn a_bad_window_is_a_usage_error_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = alerts(dir.path(), &["--window", "7m"], &[], "");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--window"), "{}", run.stderr);
}
