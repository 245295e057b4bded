//! Each section as a table of display strings: the terminal and Markdown formats.

use crate::render::{minutes, thousands};
use crate::report::{Report, Section};

/// One section as a table, or the sentence saying why it is empty.
pub struct SectionTable {
    pub section: Section,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub empty: Option<String>,
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn f2(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// "No data for the alerts in 2026-11-21 01:30 → … UTC (place Brazil)."
pub fn no_data(report: &Report, what: &str) -> String {
    format!("No data for {what} in {}{}.", report.scope.describe(), report.scope.filters())
}

/// The tables of the report's sections, in order.
pub fn all(report: &Report) -> Vec<SectionTable> {
    report.sections.iter().map(|s| one(report, *s)).collect()
}

fn table(report: &Report, section: Section, headers: &[&str], rows: Vec<Vec<String>>, what: &str) -> SectionTable {
    let empty = rows.is_empty().then(|| no_data(report, what));
    SectionTable {
        section,
        title: section.title().to_owned(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
        empty,
    }
}

/// One section's table.
pub fn one(report: &Report, section: Section) -> SectionTable {
    let tz = &report.scope;
    match section {
        Section::Top => {
            let rows = report.top.iter().flatten().map(|t| {
                vec![
                    t.position.to_string(),
                    t.name.clone(),
                    t.source.clone(),
                    t.peak_volume.map_or_else(|| format!("no volume ({} snapshots)", t.snapshots), thousands),
                    t.best_rank.map_or_else(|| "n/a".into(), |r| r.to_string()),
                    t.places.join(", "),
                    minutes(t.minutes_trending),
                    tz.local(&t.first_seen),
                    tz.local(&t.last_seen),
                    t.category.clone(),
                    t.sentiment.as_ref().map_or_else(|| "n/a".into(), |s| s.label.clone()),
                    f2(t.sentiment.as_ref().map(|s| s.mean_compound)),
                    t.sentiment.as_ref().map_or_else(|| "0".into(), |s| s.posts.to_string()),
                ]
            });
            let headers = [
                "#",
                "Trend",
                "Source",
                "Peak volume",
                "Best rank",
                "Places",
                "Time trending",
                "First seen",
                "Last seen",
                "Category",
                "Sentiment",
                "Compound",
                "Posts scored",
            ];
            table(report, section, &headers, rows.collect(), "the top trends")
        }
        Section::Evolution => {
            let mut rows = Vec::new();
            for e in report.evolution.iter().flatten() {
                for l in &e.lines {
                    let pts: Vec<f64> = l.segments.iter().flatten().map(|p| p.value).collect();
                    let min = pts.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let first = l.segments.first().and_then(|s| s.first()).map(|p| tz.local(&p.at)).unwrap_or_default();
                    let last = l.segments.last().and_then(|s| s.last()).map(|p| tz.local(&p.at)).unwrap_or_default();
                    rows.push(vec![
                        e.name.clone(),
                        l.place.clone(),
                        l.metric.to_owned(),
                        pts.len().to_string(),
                        l.segments.len().saturating_sub(1).to_string(),
                        first,
                        last,
                        if pts.is_empty() { "n/a".into() } else { format!("{min:.0}–{max:.0}") },
                    ]);
                }
            }
            table(
                report,
                section,
                &["Trend", "Place", "Metric", "Points", "Gaps", "From", "To", "Range"],
                rows,
                "the volume evolution",
            )
        }
        Section::Sentiment => {
            let mut rows = Vec::new();
            for s in report.sentiment.iter().flatten() {
                for p in &s.points {
                    let alerted = s
                        .alerts
                        .iter()
                        .any(|a| a.at >= p.window_start && a.at < p.window_start + window_len(&s.window_len));
                    rows.push(vec![
                        s.name.clone(),
                        format!("{} ({})", tz.local(&p.window_start), s.window_len),
                        p.posts.to_string(),
                        format!("{:.2}", p.mean_compound),
                        pct(p.share_positive),
                        pct(p.share_neutral),
                        pct(p.share_negative),
                        if alerted { "⚠ alert".into() } else { String::new() },
                    ]);
                }
            }
            table(
                report,
                section,
                &["Trend", "Window", "Posts", "Compound", "Positive", "Neutral", "Negative", "Alert"],
                rows,
                "sentiment",
            )
        }
        Section::Alerts => {
            let rows = report.alerts.iter().flatten().map(|a| {
                let evidence: Vec<String> = a.evidence.iter().filter_map(|e| e.text.clone()).take(3).collect();
                vec![
                    tz.local(&a.at),
                    a.trend_key.clone(),
                    format!("{} {}", a.metric, a.direction),
                    a.place.clone().unwrap_or_default(),
                    f2(a.value),
                    f2(a.baseline),
                    f2(a.score),
                    a.posts.map(|p| p.to_string()).unwrap_or_default(),
                    evidence.join(" / "),
                ]
            });
            table(
                report,
                section,
                &["At", "Trend", "Alert", "Place", "Value", "Baseline", "Score", "Posts", "Evidence"],
                rows.collect(),
                "alerts",
            )
        }
        Section::Words => {
            let mut rows = Vec::new();
            for c in report.words.iter().flatten() {
                let words: Vec<String> = c.words.iter().take(15).map(|w| format!("{} ({})", w.word, w.count)).collect();
                if !words.is_empty() {
                    rows.push(vec![c.name.clone(), c.posts.to_string(), words.join(", ")]);
                }
            }
            table(report, section, &["Trend", "Posts", "Words"], rows, "word clouds (no posts)")
        }
        Section::Influencers => {
            let mut rows = Vec::new();
            for l in report.influencers.iter().flatten() {
                for (i, a) in l.accounts.iter().enumerate() {
                    let o = |v: Option<i64>| v.map_or_else(|| "n/a".into(), thousands);
                    rows.push(vec![
                        l.name.clone(),
                        (i + 1).to_string(),
                        a.handle.clone().unwrap_or_else(|| a.author_id.clone()),
                        format!("{:.2}", a.score),
                        o(a.percentile),
                        a.posts.to_string(),
                        thousands(a.reposts),
                        thousands(a.likes),
                        o(a.followers),
                        o(a.h_index),
                        o(a.cascade_size),
                        f2(a.pagerank),
                    ]);
                }
            }
            let headers = [
                "Trend",
                "#",
                "Account",
                "Score",
                "Percentile",
                "Posts",
                "Reposts",
                "Likes",
                "Followers",
                "h-index",
                "Cascade",
                "PageRank",
            ];
            table(report, section, &headers, rows, "influencers")
        }
        Section::Heatmap => {
            let mut rows = Vec::new();
            if let Some(h) = &report.heatmap {
                if h.overall.starts.iter().flatten().any(|n| *n > 0) {
                    for (d, day) in DAYS.iter().enumerate() {
                        let mut row = vec![(*day).to_owned()];
                        row.extend(
                            h.overall.starts[d].iter().map(|n| if *n == 0 { "·".to_owned() } else { n.to_string() }),
                        );
                        rows.push(row);
                    }
                }
            }
            let mut headers = vec!["Starts".to_owned()];
            headers.extend((0..24).map(|h| format!("{h:02}")));
            let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            table(report, section, &refs, rows, "trend starts")
        }
        Section::Categories => {
            let rows = report
                .categories
                .iter()
                .flat_map(|c| c.counts.iter())
                .filter(|c| c.trends > 0)
                .map(|c| vec![c.category.clone(), c.trends.to_string()])
                .collect();
            table(report, section, &["Category", "Trends"], rows, "categories")
        }
    }
}

/// `1h` → one hour; unknown lengths count as one hour.
pub fn window_len(s: &str) -> chrono::Duration {
    trendpipe_core::args::parse_duration(s)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .unwrap_or_else(|| chrono::Duration::hours(1))
}
