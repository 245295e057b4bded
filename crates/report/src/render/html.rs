//! The HTML page: one self-contained file (inline style, a small inline script that
//! sorts tables, charts as inline SVG), readable on a phone, light and dark.
//!
//! Every provider string goes through askama's escaping; the only markup inserted
//! unescaped is the SVG that plotters drew, whose text plotters escapes itself.
//! Served pages carry a nonce on the style and script elements for the server's
//! Content-Security-Policy.

use askama::Template;
use chrono::Utc;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::charts;
use crate::health::{Health, age};
use crate::render::tables;
use crate::report::{CLOUD_SIZE, Report, Section};

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

pub struct TableView {
    pub id: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Chart {
    pub title: String,
    pub svg: String,
}

pub struct SectionView {
    pub id: &'static str,
    pub title: &'static str,
    pub empty: Option<String>,
    pub table: Option<TableView>,
    pub charts: Vec<Chart>,
}

/// The pipeline's health as the page shows it: a state line and up to three tables
/// (stages, freshness per source and place, rejected records per day).
pub struct HealthView {
    pub stale: bool,
    pub state: String,
    pub notes: Vec<String>,
    pub tables: Vec<(String, TableView)>,
}

/// How a served page links and what its form holds.
pub struct Served {
    pub nonce: String,
    /// Query string of the current filters, to keep them on trend links.
    pub query: String,
    pub form: Vec<(&'static str, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: String,
    window: String,
    sections: Vec<SectionView>,
    generated_at: String,
    served: Option<&'a Served>,
    nonce: String,
    health: Option<HealthView>,
}

fn numeric(s: &str) -> bool {
    let t = s.replace(',', "");
    !t.is_empty() && t.trim_end_matches('%').parse::<f64>().is_ok()
}

/// `/trend/KEY?QUERY`, the key percent-encoded.
pub fn trend_href(key: &str, query: &str) -> String {
    let k = utf8_percent_encode(key, NON_ALPHANUMERIC);
    if query.is_empty() { format!("/trend/{k}") } else { format!("/trend/{k}?{query}") }
}

fn section_view(report: &Report, s: Section, served: Option<&Served>) -> SectionView {
    let t = tables::one(report, s);
    let table = t.empty.is_none().then(|| TableView {
        id: format!("{}-table", s.name()),
        headers: t.headers.clone(),
        rows: t
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .map(|(col, text)| {
                        let href = match (s, col, served, report.top.as_ref()) {
                            (Section::Top, 1, Some(sv), Some(top)) => top.get(i).map(|t| trend_href(&t.key, &sv.query)),
                            _ => None,
                        };
                        Cell { text: text.clone(), href, num: numeric(text) }
                    })
                    .collect()
            })
            .collect(),
    });
    let id = s.name();
    let id: &'static str = Section::ALL.iter().find(|x| x.name() == id).map_or("top", |x| x.name());
    SectionView { id, title: s.title(), empty: t.empty, table, charts: charts_of(report, s) }
}

fn charts_of(report: &Report, s: Section) -> Vec<Chart> {
    let scope = &report.scope;
    let mut out = Vec::new();
    let mut add = |title: String, svg: anyhow::Result<String>| match svg {
        Ok(svg) => out.push(Chart { title, svg }),
        Err(e) => log::warn!("{title}: chart not drawn: {e:#}"),
    };
    match s {
        Section::Evolution => {
            for e in report.evolution.iter().flatten() {
                for volume in charts::metrics(e) {
                    let title = if volume { e.name.clone() } else { format!("{} (rank)", e.name) };
                    add(title, charts::svg(charts::LINE_SIZE, |a| charts::evolution(a, scope, e, volume)));
                }
            }
        }
        Section::Sentiment => {
            for x in report.sentiment.iter().flatten() {
                add(x.name.clone(), charts::svg(charts::LINE_SIZE, |a| charts::sentiment(a, scope, x)));
            }
        }
        Section::Words => {
            let size = (CLOUD_SIZE.0 as u32, CLOUD_SIZE.1 as u32);
            for c in report.words.iter().flatten().filter(|c| !c.placed.is_empty()) {
                add(c.name.clone(), charts::svg(size, |a| charts::cloud(a, c)));
            }
        }
        Section::Heatmap => {
            if let Some(h) = &report.heatmap {
                if h.overall.starts.iter().flatten().any(|n| *n > 0) {
                    add(
                        "Trend starts".into(),
                        charts::svg(charts::HEATMAP_SIZE, |a| charts::heatmap(a, "Trend starts", &h.overall, false)),
                    );
                    add(
                        "Volume".into(),
                        charts::svg(charts::HEATMAP_SIZE, |a| charts::heatmap(a, "Volume", &h.overall, true)),
                    );
                    for (cat, g) in &h.per_category {
                        let title = format!("Trend starts — {cat}");
                        add(title.clone(), charts::svg(charts::HEATMAP_SIZE, |a| charts::heatmap(a, &title, g, false)));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

fn table(id: &str, headers: &[&str], rows: Vec<Vec<String>>) -> TableView {
    TableView {
        id: id.to_owned(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(|text| Cell { num: numeric(&text), text, href: None }).collect())
            .collect(),
    }
}

/// The health section: the same data as `report health`, every string escaped by the
/// template like the rest of the page (stage errors can quote provider answers).
pub fn health_view(h: &Health) -> HealthView {
    let time = |t: &chrono::DateTime<Utc>| trendpipe_core::record::format_time(t);
    let state = format!(
        "Data {} at {} (a source and place is stale when its newest observation is older than {}).",
        if h.stale { "STALE" } else { "fresh" },
        time(&h.at),
        age(h.stale_after_s)
    );
    let mut notes = Vec::new();
    let mut tables = Vec::new();
    if h.stages.is_empty() {
        notes.push("No run recorded in the last 30 days.".to_owned());
    } else {
        let rows = h
            .stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.clone(),
                    s.last_ok.as_ref().map(time).unwrap_or_else(|| "never".into()),
                    s.last_ok_age_s.map(age).unwrap_or_default(),
                    s.last_failure.as_ref().map(time).unwrap_or_default(),
                    s.last_error.clone().unwrap_or_default(),
                    s.last_unfinished.as_ref().map(|t| format!("started {}", time(t))).unwrap_or_default(),
                ]
            })
            .collect();
        let headers = ["stage", "last success", "age", "last failure", "error", "unfinished run"];
        tables.push(("Stages".to_owned(), table("health-stages", &headers, rows)));
    }
    if h.freshness.is_empty() {
        notes.push("No observation in the database: nothing has been collected.".to_owned());
    } else {
        let rows = h
            .freshness
            .iter()
            .map(|f| {
                let state = if f.stale { "STALE" } else { "fresh" };
                vec![f.source.clone(), f.place.clone(), time(&f.newest), age(f.age_s), state.to_owned()]
            })
            .collect();
        let headers = ["source", "place", "newest observation", "age", "state"];
        tables.push(("Freshness".to_owned(), table("health-freshness", &headers, rows)));
    }
    if !h.rejected.is_empty() {
        let rows = h.rejected.iter().map(|r| vec![r.day.clone(), r.stage.clone(), r.rejected.to_string()]).collect();
        tables.push((
            "Rejected records per day".to_owned(),
            table("health-rejected", &["day", "stage", "rejected"], rows),
        ));
    }
    HealthView { stale: h.stale, state, notes, tables }
}

/// The page of a report; `served` adds the nonce, trend links and the filter form.
pub fn page(report: &Report, served: Option<&Served>) -> anyhow::Result<String> {
    let title = match &report.scope.trend {
        Some(t) => format!(
            "trendpipe — {}",
            report.top.as_ref().and_then(|v| v.first()).map_or(t.as_str(), |x| x.name.as_str())
        ),
        None => "trendpipe report".to_owned(),
    };
    let page = Page {
        title,
        window: format!("{}{}", report.scope.describe(), report.scope.filters()),
        sections: report.sections.iter().map(|s| section_view(report, *s, served)).collect(),
        generated_at: trendpipe_core::record::format_time(&Utc::now()),
        served,
        nonce: served.map(|s| s.nonce.clone()).unwrap_or_default(),
        health: report.health.as_ref().map(health_view),
    };
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_links_encode_the_key() {
        assert_eq!(trend_href("a b/<c>", ""), "/trend/a%20b%2F%3Cc%3E");
        assert_eq!(trend_href("bbb26", "hours=6"), "/trend/bbb26?hours=6");
    }
}
