//! CSV: raw values (numbers without separators, RFC 3339 UTC times), one file per
//! section, for spreadsheets.

use trendpipe_core::record::format_time;

use crate::report::{Report, Section};

fn o<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The header and rows of one section.
pub fn section(report: &Report, section: Section) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let mut rows = Vec::new();
    let headers = match section {
        Section::Top => {
            for t in report.top.iter().flatten() {
                rows.push(vec![
                    t.position.to_string(),
                    t.name.clone(),
                    t.key.clone(),
                    t.source.clone(),
                    o(t.peak_volume),
                    o(t.best_rank),
                    t.places.len().to_string(),
                    t.places.join("; "),
                    t.snapshots.to_string(),
                    t.observations.to_string(),
                    t.minutes_trending.to_string(),
                    format_time(&t.first_seen),
                    format_time(&t.last_seen),
                    t.category.clone(),
                    o(t.sentiment.as_ref().map(|s| s.label.clone())),
                    o(t.sentiment.as_ref().map(|s| s.mean_compound)),
                    t.sentiment.as_ref().map_or(0, |s| s.posts).to_string(),
                ]);
            }
            vec![
                "position",
                "trend",
                "key",
                "source",
                "peak_volume",
                "best_rank",
                "places",
                "place_names",
                "snapshots",
                "observations",
                "minutes_trending",
                "first_seen",
                "last_seen",
                "category",
                "sentiment",
                "mean_compound",
                "posts_scored",
            ]
        }
        Section::Evolution => {
            for e in report.evolution.iter().flatten() {
                for l in &e.lines {
                    for (i, seg) in l.segments.iter().enumerate() {
                        for p in seg {
                            rows.push(vec![
                                e.key.clone(),
                                e.name.clone(),
                                l.place.clone(),
                                l.metric.to_owned(),
                                i.to_string(),
                                format_time(&p.at),
                                p.value.to_string(),
                            ]);
                        }
                    }
                }
            }
            vec!["key", "trend", "place", "metric", "segment", "at", "value"]
        }
        Section::Sentiment => {
            for s in report.sentiment.iter().flatten() {
                for p in &s.points {
                    let end = p.window_start + super::tables::window_len(&s.window_len);
                    let alert = s.alerts.iter().any(|a| a.at >= p.window_start && a.at < end);
                    rows.push(vec![
                        s.key.clone(),
                        s.name.clone(),
                        s.window_len.clone(),
                        format_time(&p.window_start),
                        p.posts.to_string(),
                        p.mean_compound.to_string(),
                        p.share_positive.to_string(),
                        p.share_neutral.to_string(),
                        p.share_negative.to_string(),
                        alert.to_string(),
                    ]);
                }
            }
            vec![
                "key",
                "trend",
                "window_len",
                "window_start",
                "posts",
                "mean_compound",
                "share_positive",
                "share_neutral",
                "share_negative",
                "alert",
            ]
        }
        Section::Alerts => {
            for a in report.alerts.iter().flatten() {
                rows.push(vec![
                    format_time(&a.at),
                    a.trend_key.clone(),
                    a.metric.clone(),
                    a.direction.clone(),
                    o(a.source.clone()),
                    o(a.place.clone()),
                    o(a.value),
                    o(a.baseline),
                    o(a.score),
                    o(a.posts),
                    o(a.method.clone()),
                    serde_json::to_string(&a.evidence).unwrap_or_default(),
                ]);
            }
            vec![
                "at",
                "key",
                "metric",
                "direction",
                "source",
                "place",
                "value",
                "baseline",
                "score",
                "posts",
                "method",
                "evidence",
            ]
        }
        Section::Words => {
            for c in report.words.iter().flatten() {
                for w in &c.words {
                    rows.push(vec![c.key.clone(), c.name.clone(), w.word.clone(), w.count.to_string()]);
                }
            }
            vec!["key", "trend", "word", "count"]
        }
        Section::Influencers => {
            for l in report.influencers.iter().flatten() {
                for (i, a) in l.accounts.iter().enumerate() {
                    rows.push(vec![
                        l.key.clone(),
                        (i + 1).to_string(),
                        o(a.source.clone()),
                        a.author_id.clone(),
                        o(a.handle.clone()),
                        format_time(&a.window_start),
                        a.window_len.clone(),
                        a.score.to_string(),
                        o(a.percentile),
                        a.posts.to_string(),
                        a.reposts.to_string(),
                        a.likes.to_string(),
                        o(a.replies),
                        o(a.quotes),
                        o(a.followers),
                        o(a.h_index),
                        o(a.cascade_depth),
                        o(a.cascade_size),
                        o(a.structural_virality),
                        o(a.pagerank),
                    ]);
                }
            }
            vec![
                "key",
                "position",
                "source",
                "author_id",
                "handle",
                "window_start",
                "window_len",
                "score",
                "percentile",
                "posts",
                "reposts",
                "likes",
                "replies",
                "quotes",
                "followers",
                "h_index",
                "cascade_depth",
                "cascade_size",
                "structural_virality",
                "pagerank",
            ]
        }
        Section::Heatmap => {
            if let Some(h) = &report.heatmap {
                let grids =
                    std::iter::once(("all", &h.overall)).chain(h.per_category.iter().map(|(c, g)| (c.as_str(), g)));
                for (cat, g) in grids {
                    for d in 0..7 {
                        for hr in 0..24 {
                            if g.starts[d][hr] > 0 || g.volume[d][hr] > 0 {
                                rows.push(vec![
                                    cat.to_owned(),
                                    (d + 1).to_string(),
                                    hr.to_string(),
                                    g.starts[d][hr].to_string(),
                                    g.volume[d][hr].to_string(),
                                ]);
                            }
                        }
                    }
                }
            }
            vec!["category", "iso_weekday", "hour", "starts", "volume"]
        }
        Section::Categories => {
            for r in report.categories.iter().flat_map(|c| c.trends.iter()) {
                rows.push(vec![r.key.clone(), r.category.clone(), r.rule.clone()]);
            }
            vec!["key", "category", "rule"]
        }
    };
    (headers, rows)
}

fn to_text(headers: &[&str], rows: &[Vec<String>]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers)?;
    for r in rows {
        w.write_record(r)?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

/// The first section of the report as CSV.
pub fn single(report: &Report) -> anyhow::Result<String> {
    let s = report.sections.first().copied().unwrap_or(Section::Top);
    let (h, rows) = section(report, s);
    to_text(&h, &rows)
}

/// `(file name, CSV)` for every section of the report.
pub fn files(report: &Report) -> anyhow::Result<Vec<(String, String)>> {
    report
        .sections
        .iter()
        .map(|s| {
            let (h, rows) = section(report, *s);
            Ok((format!("{}.csv", s.name()), to_text(&h, &rows)?))
        })
        .collect()
}
