//! `gen-data`: a deterministic generator of realistic trendpipe input for the benchmarks
//! (`scripts/bench.sh`, BENCHMARKS.md). Not a stage: it reads nothing and only writes.
//!
//! `trends` writes trend snapshots every 30 minutes for up to 50 places (a year at
//! 10^7 records) with a daily and weekly rhythm and names in several scripts; `posts`
//! writes post records with Zipf-distributed engagement and reply, quote and repost
//! trees in Portuguese and English; `x-v1` writes the same posts as saved X v1.1
//! `search/tweets` pages, the files `fetch-posts --source x-v1` imports. The same flags
//! and seed give the same bytes: every random number comes from one ChaCha8 stream,
//! which the `rand_chacha` crate specifies to be the same on every platform.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use trendpipe_core::error::Status;

mod names;
mod posts;
mod text;
mod trends;
mod xv1;

/// Writes deterministic, realistic trend and post records for benchmarks.
#[derive(Debug, Parser)]
#[command(name = "gen-data", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// What to generate.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Trend records (NDJSON on stdout): snapshots every 30 minutes of each place's
    /// top list, volumes with a daily and weekly rhythm, null under 10,000 as X gives them.
    Trends(TrendArgs),
    /// Post records (NDJSON on stdout): Zipf engagement, reply/quote/repost trees,
    /// Portuguese and English texts, some posts observed twice.
    Posts(PostArgs),
    /// The same posts as saved X v1.1 `search/tweets` responses, one file per page of
    /// one trend, for `fetch-posts --source x-v1 --file …`.
    #[command(name = "x-v1")]
    XV1(XV1Args),
}

/// Flags of `gen-data trends`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrendArgs {
    /// How many records to write (`100000`, `1e6`, `10^7`).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub records: u64,

    /// The seed: the same seed and flags give the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// The time of the first snapshot (RFC 3339).
    #[arg(long, value_name = "TIME", default_value = "2025-01-01T00:00:00Z", value_parser = trendpipe_core::args::time_arg)]
    pub start: DateTime<Utc>,

    /// How many places each snapshot covers (at most 50).
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=50))]
    pub places: u16,

    /// How many trends each place's list holds (12 × 50 places × 17,520 snapshots is
    /// a year at 10^7 records).
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(u16).range(1..=50))]
    pub list: u16,
}

/// Flags of `gen-data posts` (and of `x-v1`).
#[derive(Debug, Clone, clap::Args)]
pub struct PostArgs {
    /// How many records to write (`100000`, `1e6`, `10^7`).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub records: u64,

    /// The seed: the same seed and flags give the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// When the first post is written (RFC 3339).
    #[arg(long, value_name = "TIME", default_value = "2025-06-02T00:00:00Z", value_parser = trendpipe_core::args::time_arg)]
    pub start: DateTime<Utc>,

    /// How many days the posts span.
    #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,

    /// How many trends the posts are about (one in four has a crisis: six hours of
    /// angry posts at three times the rate).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub trends: u32,

    /// How many authors write them [default: one for 20 records, at least 100].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub authors: Option<u64>,
}

/// Flags of `gen-data x-v1`.
#[derive(Debug, Clone, clap::Args)]
pub struct XV1Args {
    #[command(flatten)]
    pub posts: PostArgs,

    /// The folder the pages are written to (created; existing pages are replaced).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// Statuses per page (the v1.1 search API gives at most 100).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,
}

/// Runs the generator.
pub async fn run(args: Args) -> anyhow::Result<Status> {
    let written = match &args.command {
        Command::Trends(a) => {
            let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let n = trends::write(a, &mut out)?;
            out.flush()?;
            n
        }
        Command::Posts(a) => {
            let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let n = posts::write(a, &mut out)?;
            out.flush()?;
            n
        }
        Command::XV1(a) => xv1::write(a)?,
    };
    log::info!("{written} records written");
    Ok(Status::default())
}

/// A record count: digits (underscores allowed), `1e6` or `10^6`.
fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let power = |base: &str, exp: &str| -> Option<u64> {
        let b: u64 = base.parse().ok()?;
        let e: u32 = exp.parse().ok()?;
        b.checked_pow(e)
    };
    let n = if let Some((m, e)) = t.split_once(['e', 'E']) {
        let e: u32 = e.parse().map_err(|_| format!("{s:?}: not a count like 1000000, 1e6 or 10^6"))?;
        m.parse::<u64>().ok().and_then(|m| 10u64.checked_pow(e).and_then(|p| p.checked_mul(m)))
    } else if let Some((b, e)) = t.split_once('^') {
        power(b, e)
    } else {
        t.parse().ok()
    };
    match n {
        Some(n) if n > 0 => Ok(n),
        Some(_) => Err(format!("{s:?}: give at least one record")),
        None => Err(format!("{s:?}: not a count like 1000000, 1e6 or 10^6")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_read_in_the_three_forms() {
        assert_eq!(parse_count("100000"), Ok(100_000));
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert_eq!(parse_count("10^7"), Ok(10_000_000));
        assert!(parse_count("0").is_err());
        assert!(parse_count("ten").is_err());
        assert!(parse_count("10^99").is_err());
    }
}
