//! `report`: what trended, as terminal tables, CSV, JSON, Markdown, a self-contained
//! HTML page with SVG charts, PNG charts, or served live over HTTP (`report serve`).
//!
//! Reads the SQL database that `etl-to-sql`, `sentiment`, `influencers` and `alerts`
//! fill. The window defaults to the 24 hours that end at the latest observation in the
//! database, so a report on an archive shows its data rather than an empty "last 24
//! hours". Sections: top trends, volume evolution, sentiment, alerts, word clouds,
//! influencers, a day-of-week × hour heatmap and categories (see docs/ARCHITECTURE.md).

pub mod categories;
pub mod charts;
pub mod health;
pub mod query;
pub mod render;
pub mod report;
pub mod scope;
pub mod serve;
pub mod words;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use chrono_tz::Tz;
use clap::{Parser, Subcommand, ValueEnum};
use trendpipe_core::args::{ConfigArgs, DbArgs, SummaryArgs, WindowArgs};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::sql::Sql;

use crate::categories::Rules;
use crate::report::Section;
use crate::scope::Scope;

/// Reports what trended in a time window, from the SQL database.
#[derive(Debug, Parser)]
#[command(name = "report", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub options: Options,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The top trends: peak volume, best rank, places, time trending, category, sentiment.
    Top(Options),
    /// Each top trend's volume (or rank) over time, per place.
    Evolution(Options),
    /// Each top trend's sentiment per window, with its alerts.
    Sentiment(Options),
    /// The window's alerts with their evidence.
    Alerts(Options),
    /// A word cloud per top trend from its posts.
    Words(Options),
    /// The influencer leaderboard per top trend.
    Influencers(Options),
    /// Day-of-week × hour-of-day heatmaps of trend starts and volume.
    Heatmap(Options),
    /// The category of each trend of the window (stored in `trend_categories`).
    Categories(Options),
    /// Serves the report over HTTP, read-only, from the database.
    Serve(ServeArgs),
    /// The pipeline's health: each stage's last success and failure, rejected records
    /// per day, and how fresh each source and place is; exits 1 when the data is stale.
    Health(HealthArgs),
}

/// `report health`.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub db: DbArgs,

    /// A source and place whose newest observation is older than this is stale
    /// (30m, 2h, 1d…): `report health` then exits 1 and `/healthz` answers 503.
    #[arg(long, value_name = "AGE", default_value = "2h", value_parser = parse_age)]
    pub stale_after: chrono::Duration,

    /// Output format: `table` for people, `json` for monitors.
    #[arg(long, value_enum, default_value_t = HealthFormat::Table)]
    pub format: HealthFormat,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HealthFormat {
    /// Tables for the terminal.
    Table,
    /// One JSON document.
    Json,
}

/// Reads a staleness limit such as `2h`.
pub fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let d = trendpipe_core::args::parse_duration(s)?;
    chrono::Duration::from_std(d).map_err(|e| format!("{s:?}: {e}"))
}

/// The flags every section shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Length of the window in hours when --since is not given [default: 24]; the
    /// window ends at --until, else just after the latest observation.
    #[arg(long, value_name = "H", default_value_t = 24, value_parser = clap::value_parser!(i64).range(1..=24 * 366))]
    pub hours: i64,

    /// How many trends the top lists (and the per-trend sections follow).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub top: i64,

    /// Only this place (its code, e.g. a WOEID, or its name).
    #[arg(long, value_name = "PLACE")]
    pub place: Option<String>,

    /// Only this source (x, mastodon, google, bluesky…).
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,

    /// Only this trend (its name or key; normalised as etl-to-sql does).
    #[arg(long, value_name = "TREND")]
    pub trend: Option<String>,

    /// The time zone of hours and days in every section (IANA name).
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = scope::parse_tz)]
    pub tz: Tz,

    /// A TOML file of category keywords (`mode = "extend"` or `"replace"`, then
    /// `[categories]` with lists per category) that extends or replaces the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub categories: Option<PathBuf>,

    /// Output format [default: table].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write to this file instead of stdout (parent folders are created).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// A folder for one file per section (csv) or per chart (png).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// A source and place whose newest observation is older than this (30m, 2h, 1d…)
    /// is flagged stale in the health section of the whole report's HTML page and of
    /// `report serve`'s `/`, and makes the served `/healthz` answer 503.
    #[arg(long, value_name = "AGE", default_value = "2h", value_parser = parse_age)]
    pub stale_after: chrono::Duration,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

/// `report serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub options: Options,

    /// The address to listen on; keep it on loopback unless a proxy guards it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for the terminal.
    Table,
    /// Comma-separated values with raw numbers: one file per section into --out, or
    /// the chosen section to stdout.
    Csv,
    /// A JSON document.
    Json,
    /// Markdown tables.
    Markdown,
    /// A self-contained HTML page with SVG charts.
    Html,
    /// The charts as PNG images into --out.
    Png,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let (options, sections) = match args.command {
        None => (args.options, Section::ALL.to_vec()),
        Some(Command::Serve(s)) => return serve::run(s).await,
        Some(Command::Health(h)) => return health_command(h).await,
        Some(Command::Top(o)) => (o, vec![Section::Top]),
        Some(Command::Evolution(o)) => (o, vec![Section::Evolution]),
        Some(Command::Sentiment(o)) => (o, vec![Section::Sentiment]),
        Some(Command::Alerts(o)) => (o, vec![Section::Alerts]),
        Some(Command::Words(o)) => (o, vec![Section::Words]),
        Some(Command::Influencers(o)) => (o, vec![Section::Influencers]),
        Some(Command::Heatmap(o)) => (o, vec![Section::Heatmap]),
        Some(Command::Categories(o)) => (o, vec![Section::Categories]),
    };
    options.window.check()?;
    let format = options.format.unwrap_or(Format::Table);
    if format == Format::Png && options.out.is_none() {
        return Err(Error::Usage("--format png needs --out DIR".into()).into());
    }
    if format == Format::Csv && sections.len() > 1 && options.out.is_none() && options.output.is_none() {
        return Err(Error::Usage(
            "--format csv of every section needs --out DIR (or name one section: report top)".into(),
        )
        .into());
    }
    let rules = Rules::load(options.categories.as_deref()).map_err(|e| Error::Usage(format!("{e:#}")))?;
    let config = options.config.load()?;
    let url = options.db.url(&config)?;
    if is_missing_sqlite_file(&url) {
        return Err(Error::Usage(format!("{url}: no such database; load data with etl-to-sql first")).into());
    }
    let sql = Sql::connect(&url).await?;
    let result = async {
        let scope = resolve(&sql, &options).await?;
        let mut report = report::build(&sql, &scope, &sections, &rules, true).await?;
        // The whole report's page carries the health section, as `report serve`'s `/`.
        if format == Format::Html && sections.len() == Section::ALL.len() {
            match health::read(&sql, chrono::Utc::now(), options.stale_after).await {
                Ok(h) => report.health = Some(h),
                Err(e) => log::warn!("the health section is left out: {e:#}"),
            }
        }
        anyhow::Ok(report)
    }
    .await;
    sql.close().await;
    let report = result?;
    write(&report, format, &options)?;
    Ok(Status::ok())
}

/// `report health`: the view on stdout, exit 1 when the data is stale.
async fn health_command(args: HealthArgs) -> anyhow::Result<Status> {
    let config = args.config.load()?;
    let url = args.db.url(&config)?;
    if is_missing_sqlite_file(&url) {
        return Err(Error::Usage(format!("{url}: no such database; load data with etl-to-sql first")).into());
    }
    // Opened without joining the run ledger: a health check is not a pipeline run.
    let sql = Sql::open(&url).await?;
    let result = async {
        sql.migrate().await?;
        health::read(&sql, chrono::Utc::now(), args.stale_after).await
    }
    .await;
    sql.close().await;
    let h = result?;
    let text = match args.format {
        HealthFormat::Table => health::text(&h),
        HealthFormat::Json => format!("{}\n", serde_json::to_string_pretty(&h)?),
    };
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, text.as_bytes()).context("writing to stdout")?;
    std::io::Write::flush(&mut out).context("writing to stdout")?;
    for f in h.freshness.iter().filter(|f| f.stale) {
        log::warn!("{} {}: newest observation {} ago", f.source, f.place, health::age(f.age_s));
    }
    if h.freshness.is_empty() {
        log::warn!("no observation in the database");
    }
    Ok(Status { failures: u64::from(h.stale), ..Status::ok() })
}

/// The scope of the flags, the window ending at the latest observation by default.
pub async fn resolve(sql: &Sql, o: &Options) -> anyhow::Result<Scope> {
    let latest = if o.window.until.is_none() {
        query::top::latest_observation(sql).await.context("finding the latest observation")?
    } else {
        None
    };
    let (since, until) = Scope::window(o.window.since, o.window.until, o.hours, latest);
    if since >= until {
        return Err(Error::Usage("--since must be before --until".into()).into());
    }
    Ok(Scope {
        since,
        until,
        tz: o.tz,
        place: o.place.clone(),
        source: o.source.clone(),
        trend: o.trend.as_deref().map(trendpipe_core::key::trend_key),
        top: o.top,
    })
}

fn write(report: &report::Report, format: Format, o: &Options) -> anyhow::Result<()> {
    if let Some(dir) = &o.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        if format == Format::Png {
            for path in charts::png_files(report, dir)? {
                log::info!("wrote {}", path.display());
            }
            return Ok(());
        }
        let files: Vec<(String, Vec<u8>)> = match format {
            Format::Csv => render::csv::files(report)?.into_iter().map(|(n, t)| (n, t.into_bytes())).collect(),
            _ => vec![(format!("report.{}", extension(format)), render::text(report, format)?.into_bytes())],
        };
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            log::info!("wrote {}", path.display());
        }
        return Ok(());
    }
    let text = render::text(report, format)?;
    match &o.output {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            log::info!("wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            if format == Format::Html && out.is_terminal() {
                log::warn!("writing an HTML page to the terminal; use -o report.html");
            }
            out.write_all(text.as_bytes()).context("writing to stdout")?;
            out.flush().context("writing to stdout")?;
        }
    }
    Ok(())
}

fn extension(f: Format) -> &'static str {
    match f {
        Format::Table => "txt",
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Markdown => "md",
        Format::Html => "html",
        Format::Png => "png",
    }
}

/// A report must not create an empty database where the user mistyped a path.
fn is_missing_sqlite_file(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return false;
    };
    let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
    !path.is_empty() && path != ":memory:" && !std::path::Path::new(path).exists()
}
