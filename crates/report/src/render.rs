//! Rendering the top-N: a terminal table, CSV, JSON, Markdown or an HTML page.
//!
//! Every format carries the same columns. The HTML page is self-contained (inline
//! style, no script, no remote resource) and every value in it is escaped by the
//! template engine: trend names are user-generated text.

use askama::Template;
use chrono::{DateTime, Utc};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::json;

use crate::query::TopTrend;

/// The window a report covers, for titles.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn describe(&self) -> String {
        format!("{} → {} UTC", short_time(&self.since), short_time(&self.until))
    }
}

/// `2026-11-22 01:30`.
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `125,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn opt(n: Option<i64>, f: impl Fn(i64) -> String) -> String {
    n.map(f).unwrap_or_else(|| "n/a".to_owned())
}

const HEADERS: [&str; 9] =
    ["#", "Trend", "Source", "Peak volume", "Best rank", "Places", "Observations", "First seen", "Last seen"];

fn cells(t: &TopTrend) -> [String; 9] {
    [
        t.position.to_string(),
        t.name.clone(),
        t.source.clone(),
        opt(t.peak_volume, thousands),
        opt(t.best_rank, |r| r.to_string()),
        t.places.to_string(),
        t.observations.to_string(),
        short_time(&t.first_seen),
        short_time(&t.last_seen),
    ]
}

/// A table for the terminal, with a title line.
pub fn table(rows: &[TopTrend], window: Window, limit: i64) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADERS);
    for row in rows {
        table.add_row(cells(row));
    }
    for col in [0, 3, 4, 5, 6] {
        if let Some(c) = table.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("Top {limit} trends, {}\n", window.describe());
    if rows.is_empty() {
        out.push_str("No trend was observed in this window.\n");
    } else {
        out.push_str(&table.to_string());
        out.push('\n');
    }
    out
}

/// CSV with raw values (numbers without separators, RFC 3339 times) for spreadsheets.
pub fn csv(rows: &[TopTrend]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "position",
        "trend",
        "key",
        "source",
        "peak_volume",
        "best_rank",
        "places",
        "observations",
        "first_seen",
        "last_seen",
    ])?;
    for t in rows {
        w.write_record([
            t.position.to_string(),
            t.name.clone(),
            t.key.clone(),
            t.source.clone(),
            t.peak_volume.map(|v| v.to_string()).unwrap_or_default(),
            t.best_rank.map(|v| v.to_string()).unwrap_or_default(),
            t.places.to_string(),
            t.observations.to_string(),
            trendpipe_core::record::format_time(&t.first_seen),
            trendpipe_core::record::format_time(&t.last_seen),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

/// A JSON document with the window and the rows.
pub fn json(rows: &[TopTrend], window: Window) -> anyhow::Result<String> {
    let doc = json!({
        "window": {
            "since": trendpipe_core::record::format_time(&window.since),
            "until": trendpipe_core::record::format_time(&window.until),
        },
        "trends": rows,
    });
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// A Markdown table; `|` in names is escaped so the table stays a table.
pub fn markdown(rows: &[TopTrend], window: Window, limit: i64) -> String {
    let mut out = format!("## Top {limit} trends\n\n{}\n\n", window.describe());
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    out.push_str("|---:|---|---|---:|---:|---:|---:|---|---|\n");
    for row in rows {
        let cells: Vec<String> = cells(row).iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

mod filters {
    use chrono::{DateTime, Utc};

    pub fn thousands(n: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::thousands(*n))
    }

    pub fn short_time(t: &DateTime<Utc>, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::short_time(t))
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    limit: i64,
    window: String,
    trends: &'a [TopTrend],
    generated_at: String,
}

/// The HTML page.
pub fn html(rows: &[TopTrend], window: Window, limit: i64) -> anyhow::Result<String> {
    let page = Page {
        limit,
        window: window.describe(),
        trends: rows,
        generated_at: trendpipe_core::record::format_time(&Utc::now()),
    };
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, volume: Option<i64>) -> TopTrend {
        let t = trendpipe_core::record::parse_time("2026-11-22T01:30:00Z").unwrap();
        TopTrend {
            position: 1,
            source: "x".into(),
            key: name.to_lowercase(),
            name: name.into(),
            peak_volume: volume,
            best_rank: Some(1),
            places: 2,
            observations: 3,
            first_seen: t,
            last_seen: t,
        }
    }

    fn window() -> Window {
        let t = trendpipe_core::record::parse_time("2026-11-22T01:30:00Z").unwrap();
        Window { since: t - chrono::Duration::hours(24), until: t }
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(125000), "125,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn html_escapes_names() {
        let page = html(&[row("<script>alert(1)</script>", Some(1200))], window(), 10).unwrap();
        assert!(!page.contains("<script>alert"), "unescaped name in page");
        assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"));
        assert!(page.contains("1,200"));
    }

    #[test]
    fn csv_quotes_and_keeps_raw_numbers() {
        let out = csv(&[row("a, \"b\"", Some(125000)), row("c", None)]).unwrap();
        let mut lines = out.lines();
        assert!(lines.next().unwrap().starts_with("position,trend,key"));
        assert_eq!(
            lines.next().unwrap(),
            "1,\"a, \"\"b\"\"\",\"a, \"\"b\"\"\",x,125000,1,2,3,2026-11-22T01:30:00Z,2026-11-22T01:30:00Z"
        );
        assert!(lines.next().unwrap().contains(",c,x,,1,"));
    }

    #[test]
    fn markdown_escapes_pipes() {
        let out = markdown(&[row("a|b", None)], window(), 10);
        assert!(out.contains("a\\|b"));
        assert!(out.contains("n/a"));
    }
}
