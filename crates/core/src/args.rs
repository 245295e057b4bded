//! The flags every stage shares, as `clap::Args` groups a tool flattens into its own
//! `Args` (`#[command(flatten)] pub mongo: MongoArgs`), so that a flag is declared,
//! documented and parsed once.
//!
//! Environment variables that hold no secret are read by clap itself (`env = …`) and
//! shown in `--help`. Connection strings may hold a password: their variables are
//! read by [`Config`], which registers the value for redaction and refuses a password
//! typed on the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::ValueEnum;

use crate::config::Config;
use crate::record::parse_time;

/// `--config FILE`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// The configuration file (TOML; keys are the environment names in lower case)
    /// [default: ~/.config/trendpipe/config.toml when it exists].
    #[arg(long, value_name = "FILE", env = "TRENDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// Loads the configuration file the flag, the environment or the default names.
    pub fn load(&self) -> anyhow::Result<Config> {
        Config::load(self.config.as_deref())
    }
}

/// `--mongo-database NAME`; the URI itself comes from `MONGODB_URI` or the file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MongoArgs {
    /// The MongoDB database [default: the one named in MONGODB_URI, else trendpipe].
    /// The server's URI comes from MONGODB_URI or `mongodb_uri` in the configuration
    /// file, never from a flag (it may carry a password).
    #[arg(long, value_name = "NAME", env = "MONGODB_DATABASE")]
    pub mongo_database: Option<String>,
}

/// `--db URL`, the SQL database.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DbArgs {
    /// The SQL database: `sqlite:FILE` or `postgres://USER@HOST/DB`; `--db` alone
    /// uses DATABASE_URL (or `database_url` in the configuration file) [default:
    /// sqlite:trendpipe.db]. A URL with a password must come from there, not from this
    /// flag, where `ps` and the shell history would show it.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub db: Option<String>,
}

impl DbArgs {
    /// The database URL: the flag, then DATABASE_URL, then the file, then the default
    /// SQLite file.
    pub fn url(&self, config: &Config) -> anyhow::Result<String> {
        Ok(config
            .connection(self.db.as_deref().filter(|s| !s.is_empty()), "DATABASE_URL")?
            .unwrap_or_else(|| crate::sql::DEFAULT_URL.to_owned()))
    }
}

/// `--lock-timeout`: how long a stage that writes SQL waits for another run of itself
/// on the same database (see [`crate::sql::Sql::lock_stage`]).
#[derive(Debug, Clone, clap::Args)]
pub struct LockArgs {
    /// How long to wait for another run of this stage on the same database to finish
    /// before giving up with exit 2: runs of a stage take turns on a database-level
    /// lock, so that overlapping cron jobs never race on watermarks and upserts.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

/// `--reject FILE`: where a stage reading NDJSON keeps the records it drops.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RejectArgs {
    /// The reject file for records that are dropped or refused, appended to and
    /// created only when something is rejected [default: TOOL.rejects.ndjson]. With
    /// MongoDB input, rejects go to the `quarantine` collection instead.
    #[arg(long, value_name = "FILE")]
    pub reject: Option<PathBuf>,
}

impl RejectArgs {
    /// The reject file of `tool`.
    pub fn path(&self, tool: &str) -> PathBuf {
        self.reject.clone().unwrap_or_else(|| PathBuf::from(format!("{tool}.rejects.ndjson")))
    }
}

/// `--since` / `--until`: a half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct WindowArgs {
    /// Only what happened at or after this time: RFC 3339 (`2026-11-22T01:30:00Z`), a
    /// date (`2026-11-22`, midnight UTC), or a duration back from now (`90m`, `1h`,
    /// `7d`).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    pub since: Option<DateTime<Utc>>,

    /// Only what happened before this time (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    pub until: Option<DateTime<Utc>>,
}

impl WindowArgs {
    /// Refuses an empty window.
    pub fn check(&self) -> Result<(), crate::Error> {
        match (self.since, self.until) {
            (Some(s), Some(u)) if s >= u => Err(crate::Error::Usage("--since must be before --until".into())),
            _ => Ok(()),
        }
    }

    /// Whether `t` falls in the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether either bound is set.
    pub fn is_set(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }
}

/// `--summary text|json`: how a run's summary is printed on stderr.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct SummaryArgs {
    /// How the run's summary is printed on stderr: `text` log lines, or `json`, which
    /// adds the run's ledger entry (stage, version, host, arguments with secrets
    /// masked, start, end, status, exit code, counts, watermarks, error) as one JSON
    /// line at the end, for log shippers.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub summary: SummaryFormat,
}

/// See [`SummaryArgs`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Log lines only.
    #[default]
    Text,
    /// Log lines, then the ledger entry as one JSON line.
    Json,
}

/// The source of records for stages that read NDJSON or MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// NDJSON on standard input.
    Stdin,
    /// MongoDB (MONGODB_URI).
    Mongo,
}

/// The sink of records for stages that write NDJSON or MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// NDJSON on standard output.
    Stdout,
    /// MongoDB (MONGODB_URI).
    Mongo,
}

/// Parses a time flag: RFC 3339, a date (midnight UTC), or a duration back from now.
pub fn time_arg(s: &str) -> Result<DateTime<Utc>, String> {
    time_arg_at(s, Utc::now())
}

/// [`time_arg`] with an explicit "now", for tests.
pub fn time_arg_at(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = parse_time(s) {
        return Ok(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = parse_duration(s) {
        return chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| format!("{s:?}: too far back"));
    }
    Err(format!(
        "{s:?}: expected an RFC 3339 time like 2026-11-22T01:30:00Z, a date like 2026-11-22, or a duration like 1h"
    ))
}

/// Parses a duration: a whole number followed by `s`, `m`, `h`, `d` or `w` (`90m`,
/// `24h`, `7d`); several parts may follow each other (`1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("expected a duration like 30m, 1h or 7d".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(format!("{text:?}: unknown unit {c:?} (use s, m, h, d or w)")),
        };
        let n: u64 = digits.parse().map_err(|_| format!("{text:?}: expected a number before {c:?}"))?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(|| format!("{text:?}: too long"))?;
    }
    if !digits.is_empty() {
        return Err(format!("{text:?}: a unit must follow the number (30m, 1h, 7d)"));
    }
    if total == 0 {
        return Err(format!("{text:?}: a duration must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}

/// Writes a duration the way [`parse_duration`] reads it, in its largest whole unit
/// (`86400s` → `1d`, `5400s` → `90m`).
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, len) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= len && secs % len == 0 {
            return format!("{}{unit}", secs / len);
        }
    }
    format!("{secs}s")
}

/// Whether a path names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_back() {
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1d");
        assert_eq!(format_duration(Duration::from_secs(5400)), "90m");
        assert_eq!(format_duration(Duration::from_secs(61)), "61s");
    }

    #[test]
    fn time_flags_take_rfc3339_dates_and_durations_back() {
        let now = parse_time("2026-11-22T12:00:00Z").unwrap();
        assert_eq!(time_arg_at("2026-11-22T01:30:00-03:00", now).unwrap(), parse_time("2026-11-22T04:30:00Z").unwrap());
        assert_eq!(time_arg_at("2026-11-20", now).unwrap(), parse_time("2026-11-20T00:00:00Z").unwrap());
        assert_eq!(time_arg_at("1h", now).unwrap(), parse_time("2026-11-22T11:00:00Z").unwrap());
        let err = time_arg_at("yesterday", now).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn window_check_and_contains() {
        let a = parse_time("2026-11-22T00:00:00Z").unwrap();
        let b = parse_time("2026-11-23T00:00:00Z").unwrap();
        let w = WindowArgs { since: Some(a), until: Some(b) };
        assert!(w.check().is_ok());
        assert!(w.contains(a) && !w.contains(b));
        assert!(WindowArgs { since: Some(b), until: Some(a) }.check().is_err());
    }
}
