//! `fetch-trends`: one snapshot of the trending topics of one or more places.
//!
//! A source turns a provider's payload into trend records (docs/ARCHITECTURE.md); the
//! records go to stdout as NDJSON or into MongoDB's `trends` collection, where a unique index on
//! (source, place, key, observed_at) makes a repeated snapshot harmless. One place
//! failing does not lose the others: they are written, the failure is reported and
//! the exit code is 1. Refused credentials or bad usage stop the run with exit 2.

pub mod args;
pub mod source;

pub use args::{Args, GoogleFeed, SourceKind};

use std::io::{Read, Write};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Map, json};
use trendpipe_core::args::To;
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::key::trend_key;
use trendpipe_core::mongo::{self, Mongo};
use trendpipe_core::ndjson::NdjsonWriter;
use trendpipe_core::record::{Place, Record, Trend, format_time};

use trendpipe_core::http::{Http, HttpError};

use crate::args::{parse_place, source_name};
use crate::source::bluesky::Bluesky;
use crate::source::google::Google;
use crate::source::mastodon::Mastodon;
use crate::source::x::X;
use crate::source::{Source, Target, check_flags, label};

/// What one place gave.
#[derive(Debug, Default)]
struct Coverage {
    place: String,
    snapshots: usize,
    trends: usize,
    with_volume: usize,
    error: Option<String>,
}

/// Runs the tool with records going to stdout or MongoDB.
pub async fn run(args: Args) -> anyhow::Result<Status> {
    let config = args.config.load()?;
    match args.to {
        To::Stdout => {
            let stdout = std::io::stdout();
            fetch(&args, &config, Output::Ndjson(NdjsonWriter::new(stdout.lock()))).await
        }
        To::Mongo => {
            let mongo = config.mongo(&args.mongo, "fetch-trends").await?;
            let result = async {
                mongo.ensure_indexes().await?;
                fetch(&args, &config, Output::<std::io::Sink>::Mongo(&mongo, Default::default())).await
            }
            .await;
            mongo.shutdown().await;
            result
        }
    }
}

enum Output<'a, W: Write> {
    Ndjson(NdjsonWriter<W>),
    Mongo(&'a Mongo, mongo::InsertCounts),
}

impl<W: Write> Output<'_, W> {
    async fn put(&mut self, trends: Vec<Trend>) -> anyhow::Result<()> {
        match self {
            Output::Ndjson(w) => {
                for t in trends {
                    w.write(&Record::Trend(t)).context("writing to stdout")?;
                }
            }
            Output::Mongo(mongo, counts) => {
                let now = Utc::now();
                let docs = trends
                    .into_iter()
                    .map(|t| {
                        let value = serde_json::to_value(Record::Trend(t))?;
                        let mut doc = mongo::to_document(&value)?;
                        mongo::stamp_ingested(&mut doc, now);
                        Ok(doc)
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let got = mongo.insert_idempotent(mongo::TRENDS, docs).await?;
                counts.inserted += got.inserted;
                counts.duplicates += got.duplicates;
            }
        }
        Ok(())
    }
}

async fn fetch<W: Write>(args: &Args, config: &Config, mut out: Output<'_, W>) -> anyhow::Result<Status> {
    let started_at = Utc::now();
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut coverage = Vec::new();
    match args.source {
        SourceKind::XV1 => import_x_v1(args, &run_id, &mut out, &mut coverage).await?,
        SourceKind::X => fetch_source(&X, args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Mastodon => fetch_source(&Mastodon, args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Google => fetch_source(&Google, args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Bluesky => fetch_source(&Bluesky, args, config, &run_id, &mut out, &mut coverage).await?,
    }
    let failed = coverage.iter().filter(|c| c.error.is_some()).count();
    for c in &coverage {
        match &c.error {
            None if c.snapshots > 1 => log::info!(
                "{}: {} snapshots, {} trends, {} with a volume",
                c.place,
                c.snapshots,
                c.trends,
                c.with_volume
            ),
            None => log::info!("{}: {} trends, {} with a volume", c.place, c.trends, c.with_volume),
            Some(e) => log::error!("{}: {e}", c.place),
        }
    }
    let total: usize = coverage.iter().map(|c| c.trends).sum();
    let with_volume: usize = coverage.iter().map(|c| c.with_volume).sum();
    match out {
        Output::Ndjson(w) => {
            w.finish().context("writing to stdout")?;
        }
        Output::Mongo(mongo, counts) => {
            log::info!("MongoDB trends: {} inserted, {} already stored", counts.inserted, counts.duplicates);
            let run = json!({
                "run_id": run_id,
                "stage": "fetch-trends",
                "source": source_name(args.source),
                "started_at": format_time(&started_at),
                "finished_at": format_time(&Utc::now()),
                "status": if failed == 0 { "ok" } else { "partial" },
                "counts": {
                    "places": coverage.len(),
                    "failed_places": failed,
                    "trends": total,
                    "with_volume": with_volume,
                    "inserted": counts.inserted,
                    "duplicates": counts.duplicates,
                },
                "errors": coverage.iter().filter_map(|c| c.error.as_ref().map(|e| json!({"place": c.place, "error": e}))).collect::<Vec<_>>(),
            });
            mongo.record_run(&run).await?;
        }
    }
    Ok(Status { failures: failed as u64, ..Status::ok() })
}

#[allow(clippy::too_many_arguments)]
fn trend(
    source: &str,
    place: &Place,
    name: &str,
    volume: Option<i64>,
    rank: usize,
    observed_at: DateTime<Utc>,
    run_id: &str,
    extra: Map<String, serde_json::Value>,
) -> Trend {
    Trend {
        source: source.to_owned(),
        place: place.clone(),
        name: name.trim().to_owned(),
        key: trend_key(name),
        volume,
        rank: u32::try_from(rank).ok(),
        observed_at,
        run_id: Some(run_id.to_owned()),
        extra,
    }
}

async fn import_x_v1<W: Write>(
    args: &Args,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    if args.files.is_empty() {
        return Err(Error::Usage(
            "--source x-v1 imports saved trends/place responses: give --file PATH (or --file - for stdin)".into(),
        )
        .into());
    }
    check_flags(args, "x-v1", source::x_v1::FLAGS)?;
    let wanted: Vec<Place> = args.places.iter().map(|p| parse_place(p)).collect::<anyhow::Result<_>>()?;
    for path in &args.files {
        let shown = path.display().to_string();
        let body = if shown == "-" {
            let mut buf = Vec::new();
            std::io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
        } else {
            std::fs::read(path)
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                coverage.push(Coverage {
                    place: shown,
                    error: Some(format!("cannot read: {e}")),
                    ..Default::default()
                });
                continue;
            }
        };
        let snapshots = match source::x_v1::parse(&body) {
            Ok(s) => s,
            Err(e) => {
                coverage.push(Coverage {
                    place: shown,
                    error: Some(format!("x-v1: unexpected payload: {e}")),
                    ..Default::default()
                });
                continue;
            }
        };
        for snap in snapshots {
            if !wanted.is_empty() && !wanted.iter().any(|p| p.id == snap.woeid) {
                continue;
            }
            let place = Place { id: snap.woeid.clone(), name: snap.place_name.clone(), extra: Map::new() };
            let with_volume = snap.trends.iter().filter(|i| i.volume.is_some()).count();
            let n = snap.trends.len();
            let trends = snap
                .trends
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut extra = item.extra;
                    extra.insert("api".into(), "v1.1".into());
                    trend("x", &place, &item.name, item.volume, i + 1, snap.observed_at, run_id, extra)
                })
                .collect();
            out.put(trends).await?;
            // One line per place in the summary, however many files hold it.
            let label = label("x-v1 place", &place);
            match coverage.iter_mut().find(|c| c.place == label && c.error.is_none()) {
                Some(c) => {
                    c.snapshots += 1;
                    c.trends += n;
                    c.with_volume += with_volume;
                }
                None => coverage.push(Coverage { place: label, snapshots: 1, trends: n, with_volume, error: None }),
            }
        }
    }
    Ok(())
}

/// Fetches each target in turn; a target that fails is reported in `coverage` and the
/// others go on.
async fn fetch_source<W: Write>(
    source: &dyn Source,
    args: &Args,
    config: &Config,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    check_flags(args, source.name(), source.flags())?;
    let plan = source.plan(args, config)?;
    let http = Http::new(args.http.policy())?.expecting(source.expect());
    for Target { label, place, url } in plan.targets {
        // A stop request ends the run between places; each place's snapshot is
        // stored whole.
        if trendpipe_core::shutdown::requested() {
            break;
        }
        let fetched_at = Utc::now();
        let body = match http.get(&url, plan.bearer.as_deref()).await {
            Ok(body) => body,
            Err(HttpError::Auth { status, detail, .. }) if plan.refused.is_some() => {
                let why = plan.refused.unwrap_or_default();
                return Err(Error::Config(format!("{why} (HTTP {status}: {detail})")).into());
            }
            Err(e @ HttpError::Auth { .. }) => {
                coverage.push(Coverage { place: label, error: Some(e.to_string()), ..Default::default() });
                continue;
            }
            Err(HttpError::Failed(e)) => {
                coverage.push(Coverage { place: label, error: Some(e), ..Default::default() });
                continue;
            }
        };
        let items = match source.parse(&body) {
            Ok(items) => items,
            Err(e) => {
                coverage.push(Coverage {
                    place: label,
                    error: Some(format!("unexpected payload: {e}")),
                    ..Default::default()
                });
                continue;
            }
        };
        let with_volume = items.iter().filter(|i| i.volume.is_some()).count();
        let n = items.len();
        let trends = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let at = item.observed_at.unwrap_or(fetched_at);
                trend(source.name(), &place, &item.name, item.volume, i + 1, at, run_id, item.extra)
            })
            .collect();
        out.put(trends).await?;
        coverage.push(Coverage { place: label, snapshots: 1, trends: n, with_volume, error: None });
    }
    Ok(())
}
