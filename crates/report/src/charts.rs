//! Charts drawn with plotters: volume evolution, sentiment, heatmaps and word clouds,
//! as inline SVG for the HTML page or PNG files for mail and slides.
//!
//! Text needs a font to be measured and, in PNG, drawn: plotters' `ab_glyph` reads
//! a TrueType file at run time, DejaVu Sans from Debian's `fonts-dejavu-core` by
//! default (`TRENDPIPE_FONT` names another). No font is downloaded at build time.
//! SVG text is escaped by plotters' SVG backend: trend names are provider text.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::report::{CLOUD_SIZE, Cloud, Evolution, Grid, Report, SentimentSeries};
use crate::scope::Scope;

/// The default font file (Debian's fonts-dejavu-core).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

const FONT: &str = "sans-serif";

/// Lines drawn in one evolution chart at most.
const MAX_LINES: usize = 8;

/// Registers the font once; an error names the file and how to get one.
pub fn ensure_font() -> anyhow::Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let path = std::env::var("TRENDPIPE_FONT").unwrap_or_else(|_| DEFAULT_FONT.to_owned());
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "reading the chart font {path}: {e} (install fonts-dejavu-core or set TRENDPIPE_FONT to a .ttf file)"
            )
        })?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        register_font(FONT, FontStyle::Normal, bytes).map_err(|_| format!("{path}: not a TrueType font"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

type Area<'a, B> = DrawingArea<B, Shift>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e:?}")
}

fn hours(scope: &Scope, t: &DateTime<Utc>) -> f64 {
    (*t - scope.since).num_seconds() as f64 / 3600.0
}

fn span(scope: &Scope) -> f64 {
    hours(scope, &scope.until).max(1.0 / 60.0)
}

fn time_label(scope: &Scope, h: f64) -> String {
    let t = scope.since + chrono::Duration::seconds((h * 3600.0) as i64);
    let local = t.with_timezone(&scope.tz);
    if span(scope) > 72.0 { local.format("%m-%d").to_string() } else { local.format("%d %H:%M").to_string() }
}

/// One trend's volume per place (`volume`), or its rank in the places where the
/// provider gave no volume; each run of observations is its own line.
pub fn evolution<B: DrawingBackend>(area: &Area<B>, scope: &Scope, e: &Evolution, volume: bool) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let mut lines: Vec<_> = e.lines.iter().filter(|l| (l.metric == "volume") == volume).collect();
    // A chart stays legible with a few lines: the places with the most observations
    // (the table, CSV and JSON keep every place).
    let count = |l: &crate::report::Line| l.segments.iter().map(Vec::len).sum::<usize>();
    lines.sort_by(|a, b| count(b).cmp(&count(a)).then_with(|| a.place.cmp(&b.place)));
    let hidden = lines.len().saturating_sub(MAX_LINES);
    lines.truncate(MAX_LINES);
    let max = lines.iter().flat_map(|l| l.segments.iter().flatten()).map(|p| p.value).fold(1.0_f64, f64::max);
    // Rank 1 is the top: drawn as -rank so that it is the highest point.
    let (y0, y1) = if volume { (0.0, max * 1.1) } else { (-(max + 1.0), 0.0) };
    let metric = if volume { "volume" } else { "rank (no volume given)" };
    let metric =
        if hidden > 0 { format!("{metric}, {MAX_LINES} places of {}", MAX_LINES + hidden) } else { metric.to_owned() };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} — {metric}", e.name), (FONT, 20))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..span(scope), y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|h| time_label(scope, *h))
        .y_label_formatter(&|v| if volume { crate::render::thousands(*v as i64) } else { format!("{:.0}", v.abs()) })
        .label_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, l) in lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = |v: f64| if volume { v } else { -v };
        for (k, seg) in l.segments.iter().enumerate() {
            let pts: Vec<(f64, f64)> = seg.iter().map(|p| (hours(scope, &p.at), y(p.value))).collect();
            let series = chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2))).map_err(err)?;
            if k == 0 {
                series
                    .label(l.place.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
            }
            // A lone observation has no line: a dot shows it.
            if pts.len() == 1 {
                chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled()))).map_err(err)?;
            }
        }
    }
    if !lines.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 14))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
    }
    area.present().map_err(err)
}

/// A sentiment line: its label, colour and value of a window.
type Measure = (&'static str, RGBColor, fn(&crate::report::SentimentPoint) -> f64);

/// The charts a trend's evolution needs: volume, rank, or both.
pub fn metrics(e: &Evolution) -> Vec<bool> {
    [true, false].into_iter().filter(|v| e.lines.iter().any(|l| (l.metric == "volume") == *v)).collect()
}

/// Mean compound and positive/negative shares per window; alerts as red triangles.
pub fn sentiment<B: DrawingBackend>(area: &Area<B>, scope: &Scope, s: &SentimentSeries) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} — sentiment per {}", s.name, s.window_len), (FONT, 20))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..span(scope), -1.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|h| time_label(scope, *h))
        .label_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let x = |t: &DateTime<Utc>| hours(scope, t);
    let series: [Measure; 3] = [
        ("mean compound", RGBColor(31, 119, 180), |p| p.mean_compound),
        ("positive share", RGBColor(44, 160, 44), |p| p.share_positive),
        ("negative share", RGBColor(214, 39, 40), |p| p.share_negative),
    ];
    for (label, color, f) in series {
        let pts: Vec<(f64, f64)> = s.points.iter().map(|p| (x(&p.window_start), f(p))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 2, color.filled()))).map_err(err)?;
    }
    if !s.alerts.is_empty() {
        chart
            .draw_series(s.alerts.iter().map(|a| TriangleMarker::new((x(&a.at), -0.9), 7, RED.filled())))
            .map_err(err)?
            .label("alert")
            .legend(|(x, y)| TriangleMarker::new((x + 7, y), 5, RED.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 14))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)?;
    area.present().map_err(err)
}

/// Day-of-week × hour cells, darker for more; `volume` picks the grid's volume.
pub fn heatmap<B: DrawingBackend>(area: &Area<B>, title: &str, grid: &Grid, volume: bool) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let value = |d: usize, h: usize| if volume { grid.volume[d][h] as f64 } else { grid.starts[d][h] as f64 };
    let max = (0..7).flat_map(|d| (0..24).map(move |h| (d, h))).map(|(d, h)| value(d, h)).fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(40)
        .build_cartesian_2d(0i32..24, 0i32..7)
        .map_err(err)?;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(12)
        .y_labels(7)
        .x_label_formatter(&|h| format!("{h:02}"))
        .y_label_formatter(&|d| {
            usize::try_from(6 - *d).ok().and_then(|i| DAYS.get(i)).map_or(String::new(), |s| (*s).to_owned())
        })
        .y_label_offset(-10)
        .label_style((FONT, 14))
        .draw()
        .map_err(err)?;
    let cells = (0..7usize).flat_map(|d| (0..24usize).map(move |h| (d, h)));
    chart
        .draw_series(cells.map(|(d, h)| {
            let v = value(d, h);
            let t = if max > 0.0 { v / max } else { 0.0 };
            let shade = |lo: f64, hi: f64| (lo + (hi - lo) * t) as u8;
            let color = if v > 0.0 {
                RGBColor(shade(222.0, 8.0), shade(235.0, 48.0), shade(247.0, 107.0))
            } else {
                RGBColor(246, 246, 246)
            };
            // Monday on top: day d is row 6 - d.
            let row = 6 - d as i32;
            Rectangle::new([(h as i32, row), (h as i32 + 1, row + 1)], color.filled())
        }))
        .map_err(err)?;
    area.present().map_err(err)
}

/// The placed words of a cloud, largest first, coloured by rank.
pub fn cloud<B: DrawingBackend>(area: &Area<B>, c: &Cloud) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(err)?;
    for (i, p) in c.placed.iter().enumerate() {
        let style = TextStyle::from((FONT, p.size).into_font()).color(&PALETTE[i % PALETTE.len()]);
        area.draw(&Text::new(p.word.clone(), (p.x as i32 + 2, (p.y - p.height) as i32), style)).map_err(err)?;
    }
    area.present().map_err(err)
}

/// Draws `f` into an SVG string of `size`.
pub fn svg(size: (u32, u32), f: impl FnOnce(&Area<SVGBackend>) -> anyhow::Result<()>) -> anyhow::Result<String> {
    ensure_font()?;
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, size).into_drawing_area();
        f(&area)?;
    }
    Ok(out)
}

fn png(
    dir: &Path,
    name: String,
    size: (u32, u32),
    f: impl FnOnce(&Area<BitMapBackend>) -> anyhow::Result<()>,
) -> anyhow::Result<PathBuf> {
    ensure_font()?;
    let path = dir.join(name);
    {
        let area = BitMapBackend::new(&path, size).into_drawing_area();
        f(&area).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

/// Chart sizes in pixels.
pub const LINE_SIZE: (u32, u32) = (720, 300);
pub const HEATMAP_SIZE: (u32, u32) = (720, 240);

/// A file name made of a key's safe characters.
fn file_name(prefix: &str, key: &str) -> String {
    let safe: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(60).collect();
    format!("{prefix}-{safe}.png")
}

/// Writes every chart of the report as a PNG file into `dir`.
pub fn png_files(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let scope = &report.scope;
    let mut out = Vec::new();
    for e in report.evolution.iter().flatten() {
        for volume in metrics(e) {
            let prefix = if volume { "evolution" } else { "rank" };
            out.push(png(dir, file_name(prefix, &e.key), LINE_SIZE, |a| evolution(a, scope, e, volume))?);
        }
    }
    for s in report.sentiment.iter().flatten() {
        out.push(png(dir, file_name("sentiment", &s.key), LINE_SIZE, |a| sentiment(a, scope, s))?);
    }
    for c in report.words.iter().flatten().filter(|c| !c.placed.is_empty()) {
        let size = (CLOUD_SIZE.0 as u32, CLOUD_SIZE.1 as u32);
        out.push(png(dir, file_name("words", &c.key), size, |a| cloud(a, c))?);
    }
    if let Some(h) = &report.heatmap {
        out.push(png(dir, "heatmap-starts.png".into(), HEATMAP_SIZE, |a| {
            heatmap(a, "Trend starts", &h.overall, false)
        })?);
        out.push(png(dir, "heatmap-volume.png".into(), HEATMAP_SIZE, |a| heatmap(a, "Volume", &h.overall, true))?);
        for (cat, g) in &h.per_category {
            let title = format!("Trend starts — {cat}");
            out.push(png(dir, file_name("heatmap-starts", cat), HEATMAP_SIZE, |a| heatmap(a, &title, g, false))?);
        }
    }
    Ok(out)
}
