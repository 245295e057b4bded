//! `alerts`: raises an alert when a trend's volume surges or the mood around it
//! turns, judged causally against the trend's own robust, seasonal baseline.
//!
//! Reads NDJSON on stdin (scored posts for sentiment, trend records for volume) or
//! the SQL database (`trend_sentiment`, `trend_observations`), judges each series
//! with [`detect`], writes alert records on stdout, stores them in the `alerts` table
//! (SQL mode) and posts each new one to a webhook. The method is documented in
//! [`detect`] and `docs/ARCHITECTURE.md`.
//!
//! Exit codes: 0 all quiet; 3 alerts raised; 1 some input refused (or an alert
//! could not be delivered to the webhook: it is retried next run); 2 the run
//! failed. When several hold, 2 wins over 1 and 1 over 3.

pub mod detect;
pub mod output;
pub mod series;
pub mod store;
pub mod webhook;

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::{Parser, ValueEnum};
use trendpipe_core::args::{ConfigArgs, DbArgs, LockArgs, RejectArgs, SummaryArgs, WindowArgs, parse_duration};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::format_time;
use trendpipe_core::sql::Sql;

use crate::detect::{Detection, Direction, Params};
use crate::output::{Alert, Format, round};
use crate::series::{Metric, Series};
use crate::webhook::{State, Webhook};

/// Raises an alert when a trend's volume surges or its sentiment drops, judged
/// causally against its own robust baseline. Exit codes: 0 quiet, 3 alerts raised,
/// 1 some input refused or an alert not delivered, 2 the run failed.
#[derive(Debug, Parser)]
#[command(name = "alerts", version, about, long_about = None)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// Where the series come from [default: db when --db is given, else stdin]. With
    /// db and no --since, the points from two days before the latest one the previous
    /// run judged are judged (late data included); earlier points are context, and the
    /// alerts already stored stand.
    #[arg(long, value_enum, value_name = "FROM")]
    pub from: Option<Input>,

    #[command(flatten)]
    pub reject: RejectArgs,

    // --since: only alerts at or after it are raised, earlier points are context;
    // --until: points at or after it are not read.
    #[command(flatten)]
    pub window: WindowArgs,

    /// The series to watch (repeatable) [default: both].
    #[arg(long, value_enum, value_name = "METRIC")]
    pub metric: Vec<Metric>,

    /// Which way a series must move [default: down for sentiment, up for volume].
    #[arg(long, value_enum, value_name = "DIR")]
    pub direction: Option<Direction>,

    /// The sentiment window: posts are averaged per trend over windows this long
    /// (SQL: the `window_len` of `trend_sentiment`).
    #[arg(long = "window", value_name = "DURATION", default_value = "1h")]
    pub sentiment_window: String,

    /// A sentiment window with fewer posts is neither judged nor used as baseline.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub min_posts: i64,

    /// After an alert, the same series stays quiet this long (one episode, one alert).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = duration_arg)]
    pub cooldown: Duration,

    /// How far back the seasonal (same hour of the day or week) baseline looks. A
    /// run reads this much history, plus thirteen days, before its first judged point.
    #[arg(long, value_name = "DURATION", default_value = "28d", value_parser = duration_arg)]
    pub lookback: Duration,

    /// A point whose robust z-score reaches this raises an alert alone [default: 5].
    #[arg(long, value_name = "Z")]
    pub z_spike: Option<f64>,

    /// Three of the last five points at this robust z-score or beyond raise an alert
    /// [default: 3].
    #[arg(long, value_name = "Z")]
    pub z_burst: Option<f64>,

    /// The CUSUM's decision interval: a slow slide raises an alert when the sum of
    /// its z-scores (less 1 each) reaches this [default: 12 for volume, 8 for sentiment].
    #[arg(long, value_name = "H")]
    pub cusum_h: Option<f64>,

    /// Evidence for a sentiment alert: this many of the window's most negative posts
    /// (most positive for a rise).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub evidence: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub format: Format,

    /// POST each new alert here (Slack-compatible JSON) [env: ALERTS_WEBHOOK_URL, or
    /// `alerts_webhook_url` in the configuration file; prefer those: the URL is a secret].
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// Seconds before a webhook request is abandoned.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub webhook_timeout: u64,

    /// Retries of a webhook request after a network error, a 5xx or a 429.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub webhook_retries: u32,

    /// stdin mode: the file that remembers which alerts the webhook delivered, so a
    /// rerun over the same history sends none twice.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// Where the series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Input {
    /// NDJSON records on standard input.
    Stdin,
    /// The SQL database.
    Db,
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    Duration::from_std(d).map_err(|e| format!("{s:?}: {e}"))
}

impl Args {
    fn metrics(&self) -> Vec<Metric> {
        if self.metric.is_empty() {
            return vec![Metric::Sentiment, Metric::Volume];
        }
        let mut m = self.metric.clone();
        m.sort();
        m.dedup();
        m
    }

    fn params(&self, metric: Metric) -> Params {
        let base = match metric {
            Metric::Sentiment => Params::sentiment(),
            Metric::Volume => Params::volume(),
        };
        Params {
            direction: self.direction.unwrap_or(base.direction),
            cooldown: self.cooldown,
            lookback: self.lookback,
            z_spike: self.z_spike.unwrap_or(base.z_spike),
            z_burst: self.z_burst.unwrap_or(base.z_burst),
            cusum_h: self.cusum_h.unwrap_or(base.cusum_h),
            ..base
        }
    }

    fn window_secs(&self) -> Result<i64, Error> {
        let secs = parse_duration(&self.sentiment_window)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .filter(|s| 86_400 % s == 0 || s % 86_400 == 0)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--window {:?}: expected a length that tiles the day, like 30m, 1h, 6h or 1d",
                    self.sentiment_window
                ))
            })?;
        Ok(secs)
    }
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    args.window.check()?;
    let window_secs = args.window_secs()?;
    let config = args.config.load()?;
    let webhook = match config.setting(args.webhook.as_deref(), "ALERTS_WEBHOOK_URL") {
        Some(url) => {
            trendpipe_core::redact::register_secret_url(&url);
            Some(Webhook::new(&url, StdDuration::from_secs(args.webhook_timeout.max(1)), args.webhook_retries)?)
        }
        None => None,
    };
    let from = args.from.unwrap_or(if args.db.db.is_some() { Input::Db } else { Input::Stdin });
    match from {
        Input::Stdin => run_stdin(&args, window_secs, webhook.as_ref()).await,
        Input::Db => {
            let url = args.db.url(&config)?;
            let sql = Sql::connect(&url).await?;
            // Overlapping runs would race on the watermarks and deliveries: they take turns.
            let result = match sql.lock_stage("alerts", args.lock.lock_timeout).await {
                Ok(lock) => {
                    let result = run_sql(&args, &sql, window_secs, webhook.as_ref()).await;
                    lock.release().await;
                    result
                }
                Err(e) => Err(e),
            };
            sql.close().await;
            result
        }
    }
}

/// Judges one series: sentiment windows with too few posts are dropped first, and
/// points at or after --until are not read.
fn judge(
    args: &Args,
    series: &Series,
    prior: Option<&[DateTime<Utc>]>,
    emit_from: Option<DateTime<Utc>>,
) -> Vec<Detection> {
    let points: Vec<_> = series
        .points
        .iter()
        .filter(|p| series.key.metric != Metric::Sentiment || p.weight.unwrap_or(0) >= args.min_posts)
        .filter(|p| args.window.until.is_none_or(|u| p.at < u))
        .copied()
        .collect();
    detect::detect(&points, &args.params(series.key.metric), prior, emit_from)
}

fn alert(series: &Series, d: &Detection) -> Alert {
    let sentiment = series.key.metric == Metric::Sentiment;
    let digits = if sentiment { 4 } else { 1 };
    Alert {
        kind: "alert",
        metric: series.key.metric,
        direction: if d.up { Direction::Up } else { Direction::Down },
        source: Some(series.key.source.clone()).filter(|s| !s.is_empty()),
        place: Some(series.key.place.clone()).filter(|s| !s.is_empty()),
        trend: series.key.trend.clone(),
        at: d.at,
        value: round(d.value, digits),
        baseline: round(d.baseline, digits),
        score: round(d.score, 2),
        posts: series.points.get(d.index).and_then(|p| p.weight).filter(|_| sentiment),
        method: d.method(),
        evidence: None,
    }
}

async fn run_stdin(args: &Args, window_secs: i64, webhook: Option<&Webhook>) -> anyhow::Result<Status> {
    let metrics = args.metrics();
    let mut quarantine = Quarantine::file(args.reject.path("alerts"));
    let read = series::read(std::io::stdin().lock(), window_secs, args.evidence, &mut quarantine).await?;
    quarantine.flush().await?;
    let mut alerts = Vec::new();
    for s in read.series.iter().filter(|s| metrics.contains(&s.key.metric)) {
        for d in judge(args, s, None, args.window.since) {
            let mut a = alert(s, &d);
            if let Some((low, high)) = s.evidence.get(&d.at).filter(|_| args.evidence > 0) {
                a.evidence = Some(if d.up { high.clone() } else { low.clone() });
            }
            alerts.push(a);
        }
    }
    sort(&mut alerts);
    let mut failures = 0;
    if let Some(hook) = webhook {
        let mut state = match &args.state {
            Some(path) => Some(State::load(path)?),
            None => None,
        };
        for a in &alerts {
            if state.as_ref().is_some_and(|s| s.contains(a)) {
                continue;
            }
            if let Err(e) = hook.send(a).await {
                log::warn!("{e:#}; the alerts not delivered are sent by the next run");
                failures += 1;
                break;
            }
            if let Some(s) = state.as_mut() {
                s.remember(a)?;
            }
        }
    }
    log::info!(
        "read {} lines: {} scored posts, {} observations, {} null volumes (gaps), {} refused; {} series, {} alerts",
        read.lines,
        read.posts,
        read.observations,
        read.gaps,
        read.rejected,
        read.series.len(),
        alerts.len()
    );
    if read.rejected > 0 {
        log::warn!("{} lines refused, kept in {}", read.rejected, quarantine.describe());
    }
    output::write(&alerts, args.format, std::io::stdout().lock()).context("writing to stdout")?;
    Ok(Status { rejected: read.rejected, failures, alerts: alerts.len() as u64 })
}

fn sort(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        (a.at, a.metric, &a.trend, &a.source, &a.place).cmp(&(b.at, b.metric, &b.trend, &b.source, &b.place))
    });
}

async fn run_sql(args: &Args, sql: &Sql, window_secs: i64, webhook: Option<&Webhook>) -> anyhow::Result<Status> {
    let now = Utc::now();
    let until = args.window.until.unwrap_or(now + Duration::days(1));
    let mut new = Vec::new();
    // A stop request ends the run between series: the alerts stored so far stay (and
    // are printed), the watermark is not moved, and the next run judges the rest.
    let stop = trendpipe_core::shutdown::requested;
    for metric in args.metrics() {
        if stop() {
            break;
        }
        let params = args.params(metric);
        let stream = match metric {
            Metric::Volume => "alerts:volume".to_owned(),
            Metric::Sentiment => format!("alerts:sentiment:{}", args.sentiment_window),
        };
        let watermark = store::watermark(sql, &stream).await.context("reading the watermark")?;
        // Late data (a daily load) must still be judged: the last two days are judged again.
        let emit_from = args.window.since.or(watermark.map(|w| w - Duration::days(2)));
        let load_from = emit_from.map_or(DateTime::<Utc>::UNIX_EPOCH, |e| e - params.context());
        let all = store::load(sql, metric, &args.sentiment_window, load_from, until)
            .await
            .with_context(|| format!("reading the {} series", metric.as_str()))?;
        let prior = store::prior(sql, metric, load_from).await.context("reading the stored alerts")?;
        let mut latest: Option<DateTime<Utc>> = None;
        let (mut stored, mut already) = (0u64, 0u64);
        for s in &all {
            if stop() {
                break;
            }
            latest = latest.max(s.points.last().map(|p| p.at));
            let before = prior.get(&s.key).map(Vec::as_slice).unwrap_or_default();
            for d in judge(args, s, Some(before), emit_from) {
                let mut a = alert(s, &d);
                if metric == Metric::Sentiment && args.evidence > 0 {
                    let end = d.at + Duration::seconds(window_secs);
                    let e = store::evidence(sql, &s.key.trend, d.at, end, args.evidence, d.up)
                        .await
                        .context("reading the evidence")?;
                    a.evidence = Some(e);
                }
                // The database's answer: a row inserted, or the alert already stored.
                if store::insert(sql, &a, now).await.context("storing an alert")? {
                    stored += 1;
                    new.push(a);
                } else {
                    already += 1;
                }
            }
        }
        log::info!(
            "{}: judged {} series from {}, {stored} new alerts, {already} already stored",
            metric.as_str(),
            all.len(),
            emit_from.map_or_else(|| "the start".to_owned(), |t| format_time(&t))
        );
        let counts = serde_json::json!({"series": all.len(), "new": stored, "already_stored": already});
        trendpipe_core::ledger::counts(metric.as_str(), counts);
        if let Some(latest) = latest.filter(|l| !stop() && watermark.is_none_or(|w| *l > w)) {
            store::set_watermark(sql, &stream, latest).await.context("writing the watermark")?;
        }
    }
    sort(&mut new);
    let mut failures = 0;
    if let Some(hook) = webhook {
        // Alerts raised in the last day and not delivered yet, this run's and those a
        // failed delivery left behind.
        for (id, a) in store::pending(sql, now - Duration::days(1)).await.context("reading pending alerts")? {
            if stop() {
                break;
            }
            if let Err(e) = hook.send(&a).await {
                log::warn!("{e:#}; the alerts not delivered are sent by the next run");
                failures += 1;
                break;
            }
            store::notified(sql, id, Utc::now()).await.context("recording a delivery")?;
        }
    }
    output::write(&new, args.format, std::io::stdout().lock()).context("writing to stdout")?;
    Ok(Status { failures, alerts: new.len() as u64, ..Status::ok() })
}
