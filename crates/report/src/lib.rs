//! `report`: what trended, as a table, CSV, JSON, Markdown or an HTML page.
//!
//! Reads the SQL database that `etl-to-sql` fills. The window defaults to the 24
//! hours that end at the latest observation in the database, so a report on an
//! archive shows its data rather than an empty "last 24 hours".

pub mod query;
pub mod render;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::{Parser, ValueEnum};
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::record::parse_time;
use trendpipe_core::sql::{DEFAULT_URL, Sql};

use crate::render::Window;

/// Reports the top trends of a time window from the SQL database.
#[derive(Debug, Parser)]
#[command(name = "report", version, about, long_about = None)]
pub struct Args {
    /// The database: `sqlite:FILE` or `postgres://HOST/DB` [env: DATABASE_URL;
    /// default: sqlite:trendpipe.db].
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// How many trends to list.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub top: i64,

    /// Start of the window (RFC 3339), inclusive [default: --hours before --until].
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub since: Option<DateTime<Utc>>,

    /// End of the window (RFC 3339), exclusive [default: just after the latest
    /// observation in the database].
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub until: Option<DateTime<Utc>>,

    /// Length of the window in hours when --since is not given.
    #[arg(long, value_name = "H", default_value_t = 24, value_parser = clap::value_parser!(i64).range(1..=24 * 366))]
    pub hours: i64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write to this file instead of stdout (parent folders are created).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The configuration file [env: TRENDPIPE_CONFIG; default:
    /// ~/.config/trendpipe/config.toml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// Comma-separated values with raw numbers, for spreadsheets.
    Csv,
    /// A JSON document.
    Json,
    /// A Markdown table.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

fn parse_time_arg(s: &str) -> Result<DateTime<Utc>, String> {
    parse_time(s).map_err(|e| format!("expected an RFC 3339 time like 2026-11-22T01:30:00Z ({e})"))
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = Config::load(args.config.as_deref())?;
    let url = config.connection(args.db.as_deref(), "DATABASE_URL")?.unwrap_or_else(|| DEFAULT_URL.to_owned());
    if is_missing_sqlite_file(&url) {
        return Err(Error::Usage(format!("{url}: no such database; load data with etl-to-sql first")).into());
    }
    let sql = Sql::connect(&url).await?;
    let result = render(&sql, &args).await;
    sql.close().await;
    let text = result?;
    match &args.output {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            log::info!("wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).context("writing to stdout")?;
            out.flush().context("writing to stdout")?;
        }
    }
    Ok(Status::ok())
}

/// A report must not create an empty database where the user mistyped a path.
fn is_missing_sqlite_file(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return false;
    };
    let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
    !path.is_empty() && path != ":memory:" && !std::path::Path::new(path).exists()
}

async fn render(sql: &Sql, args: &Args) -> anyhow::Result<String> {
    let until = match args.until {
        Some(t) => t,
        None => query::latest_observation(sql)
            .await
            .context("finding the latest observation")?
            .map(|t| t + Duration::seconds(1))
            .unwrap_or_else(Utc::now),
    };
    let since = args.since.unwrap_or(until - Duration::hours(args.hours));
    if since >= until {
        return Err(Error::Usage("--since must be before --until".into()).into());
    }
    let window = Window { since, until };
    let rows = query::top_trends(sql, since, until, args.top).await.context("querying the top trends")?;
    Ok(match args.format {
        Format::Table => render::table(&rows, window, args.top),
        Format::Csv => render::csv(&rows)?,
        Format::Json => render::json(&rows, window)?,
        Format::Markdown => render::markdown(&rows, window, args.top),
        Format::Html => render::html(&rows, window, args.top)?,
    })
}
