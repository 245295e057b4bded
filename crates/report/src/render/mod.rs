//! Rendering a [`Report`]: terminal tables, Markdown and CSV share one tabular view of
//! each section ([`tables`]); JSON is the report serialised; HTML is an askama page
//! with the charts as inline SVG ([`html`]).

pub mod csv;
pub mod html;
pub mod tables;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::Format;
use crate::report::{Report, Section};

/// The report as one text in `format` (PNG is written by [`crate::charts`]).
pub fn text(report: &Report, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Table => terminal(report),
        Format::Markdown => markdown(report),
        Format::Json => serde_json::to_string_pretty(report)? + "\n",
        Format::Csv => csv::single(report)?,
        Format::Html => html::page(report, None)?,
        Format::Png => anyhow::bail!("PNG charts are written into --out DIR"),
    })
}

fn terminal(report: &Report) -> String {
    let mut out = String::new();
    for t in tables::all(report) {
        let title = match t.section {
            Section::Top => format!("Top {} trends", report.scope.top),
            _ => t.title.clone(),
        };
        out.push_str(&format!("{title}, {}\n", report.scope.describe()));
        match &t.empty {
            Some(note) => out.push_str(&format!("{note}\n\n")),
            None => {
                let mut table = Table::new();
                table.load_preset(UTF8_FULL_CONDENSED).set_header(&t.headers);
                for row in &t.rows {
                    table.add_row(row);
                }
                out.push_str(&table.to_string());
                out.push_str("\n\n");
            }
        }
    }
    out
}

fn markdown(report: &Report) -> String {
    let mut out = format!("# trendpipe report\n\n{}\n\n", report.scope.describe());
    for t in tables::all(report) {
        out.push_str(&format!("## {}\n\n", t.title));
        if let Some(note) = &t.empty {
            out.push_str(&format!("{note}\n\n"));
            continue;
        }
        let esc = |c: &str| c.replace('|', "\\|").replace('\n', " ");
        out.push_str(&format!("| {} |\n", t.headers.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(t.headers.len())));
        for row in &t.rows {
            out.push_str(&format!("| {} |\n", row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
        }
        out.push('\n');
    }
    out
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

/// `3 h 30 min`.
pub fn minutes(m: i64) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(125000), "125,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(minutes(210), "3 h 30 min");
    }
}
