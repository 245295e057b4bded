//! `influencers`: who drives each trend, per time window, and why.
//!
//! Scores every author of a trend in each UTC-aligned window (1h, 24h or 7d) from
//! the engagement their own posts received (reposts, likes), their follower count
//! and the depth of the cascades their posts started, and writes every component
//! beside the score so that a rank can be explained: engagement sums and the
//! h-index, the cascades' size, depth and structural virality, and the author's
//! PageRank in the window's graph of who reposts, quotes and answers whom.
//! `docs/ARCHITECTURE.md` defines each number.
//!
//! Posts come from stdin (NDJSON post records, [`input`]) or from the SQL database
//! `etl-to-sql` fills ([`sql`]); both build the same [`window::WindowData`] and
//! score it with the same code ([`window::evaluate`]).

pub mod graph;
pub mod input;
pub mod output;
pub mod pagerank;
pub mod score;
pub mod sql;
pub mod window;

use std::io::BufRead;
use std::num::NonZeroU64;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use trendpipe_core::args::{ConfigArgs, DbArgs, LockArgs, RejectArgs, SummaryArgs, WindowArgs};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::key::trend_key;
use trendpipe_core::quarantine::Quarantine;

use crate::input::Corpus;
use crate::output::{Format, Sink};
use crate::score::Weights;
use crate::window::{Notes, Span, WindowLen, evaluate, parse_window};

/// Scores the authors that drive each trend, per time window, from post records
/// (NDJSON on stdin) or the SQL database.
#[derive(Debug, Parser)]
#[command(name = "influencers", version, about, long_about = None)]
pub struct Args {
    /// Where the posts come from [default: db when --db is given, else stdin].
    #[arg(long, value_enum, value_name = "FROM")]
    pub from: Option<Input>,

    /// The window length: 1h, 24h or 7d; windows are aligned to UTC (hours, days
    /// from midnight, ISO weeks from Monday). Repeat for several lengths. A post is in
    /// the window holding its created_at (observed_at when it has none); --since and
    /// --until choose the windows they overlap, each scored from all its posts.
    #[arg(long = "window", value_name = "LEN", value_parser = parse_window, default_value = "24h")]
    pub windows: Vec<WindowLen>,

    /// Only this trend (its key, or a name that normalises to it: `#BBB26`).
    #[arg(long, value_name = "KEY")]
    pub trend: Option<String>,

    #[command(flatten)]
    pub span: WindowArgs,

    /// The score's weights, `reposts=0.35,likes=0.25,followers=0.15,depth=0.25` (the
    /// default); a term left out keeps its default [env: INFLUENCER_WEIGHTS; or
    /// `influencer_weights` in the configuration file].
    #[arg(long, value_name = "LIST")]
    pub weights: Option<String>,

    /// The output format on stdout [default: ndjson; in SQL mode nothing is printed
    /// unless a format is given].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Print only the N best authors of each trend and window.
    #[arg(long, value_name = "N")]
    pub top: Option<NonZeroU64>,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub reject: RejectArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

/// The source of posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Input {
    /// Post records, NDJSON on standard input.
    Stdin,
    /// The SQL database (`posts`, `authors`, `post_trends`); scores go to
    /// `influencer_scores`.
    Db,
}

/// What a run needs besides the posts.
pub struct Plan {
    pub lens: Vec<WindowLen>,
    pub span: Span,
    pub trend: Option<String>,
    pub weights: Weights,
    pub model: Arc<str>,
}

impl Plan {
    /// Whether the run scores the trend `key`.
    pub fn keeps(&self, key: &str) -> bool {
        self.trend.as_deref().is_none_or(|t| t == key || trend_key(t) == key)
    }
}

fn plan(args: &Args, config: &trendpipe_core::config::Config) -> anyhow::Result<Plan> {
    args.span.check()?;
    let weights = match config.setting(args.weights.as_deref(), "INFLUENCER_WEIGHTS") {
        Some(text) => text.parse().map_err(|e| Error::Usage(format!("--weights: {e}")))?,
        None => Weights::default(),
    };
    let mut lens = args.windows.clone();
    lens.sort();
    lens.dedup();
    Ok(Plan {
        lens,
        span: Span { since: args.span.since.map(|t| t.timestamp()), until: args.span.until.map(|t| t.timestamp()) },
        trend: args.trend.clone(),
        model: weights.model().into(),
        weights,
    })
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = args.config.load()?;
    let plan = plan(&args, &config)?;
    let input = args.from.unwrap_or(if args.db.db.is_some() { Input::Db } else { Input::Stdin });
    let top = args.top.map(NonZeroU64::get);
    if input == Input::Db {
        let url = args.db.url(&config)?;
        let stdout = std::io::stdout().lock();
        let sink = args.format.map(|f| Sink::new(f, top, stdout)).transpose()?;
        return sql::run(&url, &plan, args.lock.lock_timeout, sink).await;
    }
    if args.db.db.is_some() {
        return Err(Error::Usage("--db reads posts from the database: it does not go with --from stdin".into()).into());
    }
    let mut quarantine = Quarantine::file(args.reject.path("influencers"));
    let stdin = std::io::stdin().lock();
    let sink = Sink::new(args.format.unwrap_or(Format::Ndjson), top, std::io::stdout().lock())?;
    let status = score_ndjson(stdin, &plan, sink, &mut quarantine).await;
    quarantine.flush().await?;
    let rejected = quarantine.count();
    if rejected > 0 {
        log::warn!("{rejected} lines rejected, kept in {}", quarantine.describe());
    }
    status.map(|()| Status { rejected, ..Status::ok() })
}

/// NDJSON mode: reads every post, then scores window after window.
pub async fn score_ndjson(
    input: impl BufRead,
    plan: &Plan,
    mut sink: Sink<impl std::io::Write>,
    quarantine: &mut Quarantine<'_>,
) -> anyhow::Result<()> {
    let corpus = Corpus::read(input, quarantine).await?;
    let s = corpus.summary;
    let mut notes = Notes::default();
    let mut windows = 0u64;
    corpus.for_each_window(
        &plan.lens,
        plan.span,
        |t| plan.keeps(t),
        |w| {
            windows += 1;
            sink.window(&evaluate(&w, &plan.weights, &plan.model, &mut notes))
        },
    )?;
    let written = sink.written();
    sink.finish()?;
    log::info!(
        "read {} lines: {} posts ({} repeated observations), {} other records, {} rejected; \
         {windows} trend windows scored, {written} rows written",
        s.lines,
        s.posts,
        s.duplicates,
        s.other_records,
        s.rejected
    );
    if notes.cycles_broken > 0 {
        log::warn!(
            "{} reply/quote cycles in the data were cut (a post cannot answer a later one)",
            notes.cycles_broken
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_with_their_defaults() {
        let a = Args::try_parse_from(["influencers"]).unwrap();
        assert_eq!(a.windows, [WindowLen::Day]);
        assert!(a.from.is_none() && a.format.is_none() && a.top.is_none() && a.db.db.is_none());
        let a =
            Args::try_parse_from(["influencers", "--window", "1h", "--window", "7d", "--top", "3", "--format", "csv"])
                .unwrap();
        assert_eq!(a.windows, [WindowLen::Hour, WindowLen::Week]);
        assert_eq!((a.top.map(NonZeroU64::get), a.format), (Some(3), Some(Format::Csv)));
        assert!(Args::try_parse_from(["influencers", "--window", "2h"]).is_err());
        assert!(Args::try_parse_from(["influencers", "--top", "0"]).is_err());
    }

    #[test]
    fn a_trend_flag_matches_the_key_or_a_name_of_it() {
        let p = |t: &str| Plan {
            lens: vec![WindowLen::Day],
            span: Span::default(),
            trend: Some(t.into()),
            weights: Weights::default(),
            model: "m".into(),
        };
        assert!(p("#BBB26").keeps("bbb26"));
        assert!(p("bbb26").keeps("bbb26"));
        assert!(!p("bbb27").keeps("bbb26"));
    }
}
