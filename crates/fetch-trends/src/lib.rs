//! `fetch-trends`: one snapshot of the trending topics of one or more places.
//!
//! A source turns a provider's payload into trend records (docs/ARCHITECTURE.md); the
//! records go to stdout as NDJSON or into MongoDB's `trends` collection, where a unique index on
//! (source, place, key, observed_at) makes a repeated snapshot harmless. One place
//! failing does not lose the others: they are written, the failure is reported and
//! the exit code is 1. Refused credentials or bad usage stop the run with exit 2.

pub mod source;

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, ValueEnum};
use serde_json::{Map, json};
use trendpipe_core::args::{ConfigArgs, MongoArgs, To};
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::key::trend_key;
use trendpipe_core::mongo::{self, Mongo};
use trendpipe_core::ndjson::NdjsonWriter;
use trendpipe_core::record::{Place, Record, Trend, format_time};

use trendpipe_core::http::{Http, HttpArgs, HttpError};

/// Takes a snapshot of trending topics and writes trend records (NDJSON) to stdout or
/// MongoDB.
#[derive(Debug, Parser)]
#[command(name = "fetch-trends", version, about, long_about = None)]
pub struct Args {
    /// Where the trends come from.
    #[arg(long, value_enum)]
    pub source: SourceKind,

    /// A place to fetch: a WOEID for `x` (23424768 is Brazil), a country code for
    /// `google` (BR, US…). `ID=NAME` labels it (`23424768=Brazil`). Repeat for several
    /// places. Mastodon's places are its instances (`--instance`); Bluesky has one
    /// worldwide list.
    #[arg(long = "place", value_name = "ID[=NAME]")]
    pub places: Vec<String>,

    /// A Mastodon instance whose trending tags to fetch (`mastodon.social`); it is the
    /// place of its records. Repeat for several instances.
    #[arg(long = "instance", value_name = "HOST")]
    pub instances: Vec<String>,

    /// How many trends to ask for, where the provider lets us choose [default: the
    /// most the API gives in one page: 20 for mastodon, 25 for bluesky].
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

    /// Which Google Trends feed to read; both parse whichever answers.
    #[arg(long, value_enum, default_value_t = GoogleFeed::Trending)]
    pub google_feed: GoogleFeed,

    /// A saved v1.1 `trends/place` response to import (`x-v1`); `-` reads stdin.
    /// Repeat for several files.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// The provider's base URL, for proxies and tests [env: X_BASE_URL,
    /// MASTODON_BASE_URL, GOOGLE_BASE_URL, BLUESKY_BASE_URL; default: https://api.x.com
    /// for x, https://HOST for mastodon, https://trends.google.com for google,
    /// https://public.api.bsky.app for bluesky].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Where the records go: NDJSON on stdout, or MongoDB's `trends` collection.
    #[arg(long, value_enum, default_value_t = To::Stdout)]
    pub to: To,

    #[command(flatten)]
    pub mongo: MongoArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub http: HttpArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// X API v2 trends by WOEID (bearer token in X_BEARER_TOKEN).
    X,
    /// Saved Twitter v1.1 `trends/place` responses (files, no network).
    #[value(name = "x-v1")]
    XV1,
    /// Trending tags of Mastodon instances (`--instance`, no auth).
    Mastodon,
    /// Google Trends trending searches per country (`--place BR`, no auth).
    Google,
    /// Bluesky trending topics (optional bearer token in BLUESKY_TOKEN).
    Bluesky,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GoogleFeed {
    /// `/trending/rss?geo=…`, the current feed.
    Trending,
    /// `/trends/trendingsearches/daily/rss?geo=…`, the older daily feed.
    Daily,
}

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
        SourceKind::X => fetch_x(args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::XV1 => import_x_v1(args, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Mastodon => fetch_mastodon(args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Google => fetch_google(args, config, &run_id, &mut out, &mut coverage).await?,
        SourceKind::Bluesky => fetch_bluesky(args, config, &run_id, &mut out, &mut coverage).await?,
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

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::X => "x",
        SourceKind::XV1 => "x-v1",
        SourceKind::Mastodon => "mastodon",
        SourceKind::Google => "google",
        SourceKind::Bluesky => "bluesky",
    }
}

/// `ID` or `ID=NAME`.
fn parse_place(text: &str) -> anyhow::Result<Place> {
    let (id, name) = match text.split_once('=') {
        Some((id, name)) => (id.trim(), Some(name.trim().to_owned()).filter(|n| !n.is_empty())),
        None => (text.trim(), None),
    };
    if id.is_empty() {
        return Err(Error::Usage(format!("--place {text:?}: the place id is empty")).into());
    }
    Ok(Place { id: id.to_owned(), name, extra: Map::new() })
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

async fn fetch_x<W: Write>(
    args: &Args,
    config: &Config,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    if args.places.is_empty() {
        return Err(Error::Usage(
            "--source x needs at least one --place WOEID (23424768 is Brazil, 1 is worldwide)".into(),
        )
        .into());
    }
    if !args.files.is_empty() {
        return Err(Error::Usage("--file is for --source x-v1".into()).into());
    }
    only_for(args, "x", true, false)?;
    let places = args.places.iter().map(|p| parse_place(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let token = config.secret("X_BEARER_TOKEN").ok_or_else(|| {
        Error::Config(
            "--source x needs a bearer token in X_BEARER_TOKEN (or x_bearer_token in the configuration file)".into(),
        )
    })?;
    let http = http_client(args)?;
    let base = config.base_url(args.base_url.as_deref(), "x", "https://api.x.com");
    let targets = places
        .into_iter()
        .map(|place| Target {
            label: match &place.name {
                Some(name) => format!("x place {} ({name})", place.id),
                None => format!("x place {}", place.id),
            },
            url: format!("{base}{}", source::x::path(&place.id)),
            place,
        })
        .collect();
    // X gives neither an observation time nor fields beyond name and count.
    let parse = |body: &[u8]| {
        source::x::parse(body).map(|items| {
            items
                .into_iter()
                .map(|i| source::Item { name: i.name, volume: i.volume, observed_at: None, extra: Map::new() })
                .collect()
        })
    };
    let provider =
        Provider { source: "x", bearer: Some(&token), refused: Some("X API refused the bearer token"), parse: &parse };
    fetch_targets(&http, provider, targets, run_id, out, coverage).await
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
    if !args.instances.is_empty() {
        return Err(Error::Usage("--source x-v1: --instance is for --source mastodon".into()).into());
    }
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
            let label = match &snap.place_name {
                Some(name) => format!("x-v1 place {} ({name})", snap.woeid),
                None => format!("x-v1 place {}", snap.woeid),
            };
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

fn http_client(args: &Args) -> anyhow::Result<Http> {
    Http::new(args.http.policy())
}

/// Refuses the options that belong to other sources, so that a mistyped command fails
/// loudly instead of fetching something else than what was meant.
fn only_for(args: &Args, source: &str, places: bool, instances: bool) -> anyhow::Result<()> {
    let misplaced = [
        (!args.files.is_empty(), "--file is for --source x-v1"),
        (!places && !args.places.is_empty(), "--place is not used by this source"),
        (!instances && !args.instances.is_empty(), "--instance is for --source mastodon"),
    ];
    match misplaced.iter().find(|(wrong, _)| *wrong) {
        Some((_, why)) => Err(Error::Usage(format!("--source {source}: {why}")).into()),
        None => Ok(()),
    }
}

/// One request of a run: the place it stands for and where to ask.
struct Target {
    label: String,
    place: Place,
    url: String,
}

/// How a source reads its answers and what a refused credential means.
struct Provider<'a> {
    source: &'static str,
    bearer: Option<&'a str>,
    /// The message of a 401/403 when they mean our credentials were refused (exit 2);
    /// `None` when we sent none, and the refusal only fails that place.
    refused: Option<&'a str>,
    parse: &'a source::Parser,
}

/// Fetches each target in turn; a target that fails is reported in `coverage` and the
/// others go on.
async fn fetch_targets<W: Write>(
    http: &Http,
    provider: Provider<'_>,
    targets: Vec<Target>,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    for Target { label, place, url } in targets {
        let fetched_at = Utc::now();
        let body = match http.get(&url, provider.bearer).await {
            Ok(body) => body,
            Err(HttpError::Auth { status, detail, .. }) if provider.refused.is_some() => {
                let why = provider.refused.unwrap_or_default();
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
        let items = match (provider.parse)(&body) {
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
                trend(provider.source, &place, &item.name, item.volume, i + 1, at, run_id, item.extra)
            })
            .collect();
        out.put(trends).await?;
        coverage.push(Coverage { place: label, snapshots: 1, trends: n, with_volume, error: None });
    }
    Ok(())
}

async fn fetch_mastodon<W: Write>(
    args: &Args,
    config: &Config,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    only_for(args, "mastodon", false, true)?;
    if args.instances.is_empty() {
        return Err(
            Error::Usage("--source mastodon needs at least one --instance HOST (mastodon.social)".into()).into()
        );
    }
    let limit = args.limit.unwrap_or(source::mastodon::MAX_LIMIT);
    let mut targets = Vec::new();
    for instance in &args.instances {
        // `https://host/` is accepted as well as `host`; the place is the host alone.
        let given = instance.trim().trim_end_matches('/');
        let (scheme_base, host) = match given.split_once("://") {
            Some((_, host)) => (given.to_owned(), host),
            None => (format!("https://{given}"), given),
        };
        if host.is_empty() || host.contains('/') {
            return Err(
                Error::Usage(format!("--instance {instance:?}: expected a host name such as mastodon.social")).into()
            );
        }
        let base = config.base_url(args.base_url.as_deref(), "mastodon", &scheme_base);
        targets.push(Target {
            label: format!("mastodon instance {host}"),
            place: Place { id: host.to_owned(), name: None, extra: Map::new() },
            url: format!("{base}{}", source::mastodon::path(limit)),
        });
    }
    let provider = Provider { source: "mastodon", bearer: None, refused: None, parse: &source::mastodon::parse };
    fetch_targets(&http_client(args)?, provider, targets, run_id, out, coverage).await
}

async fn fetch_google<W: Write>(
    args: &Args,
    config: &Config,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    only_for(args, "google", true, false)?;
    if args.places.is_empty() {
        return Err(Error::Usage("--source google needs at least one --place COUNTRY (BR, US, …)".into()).into());
    }
    let feed = match args.google_feed {
        GoogleFeed::Trending => source::google::Feed::Trending,
        GoogleFeed::Daily => source::google::Feed::Daily,
    };
    let base = config.base_url(args.base_url.as_deref(), "google", "https://trends.google.com");
    let mut targets = Vec::new();
    for text in &args.places {
        let mut place = parse_place(text)?;
        // Google's geo codes are upper case; `br` and `BR` are one place.
        place.id = place.id.to_ascii_uppercase();
        let label = match &place.name {
            Some(name) => format!("google place {} ({name})", place.id),
            None => format!("google place {}", place.id),
        };
        let url = format!("{base}{}", source::google::path(feed, &place.id));
        targets.push(Target { label, place, url });
    }
    let provider = Provider { source: "google", bearer: None, refused: None, parse: &source::google::parse };
    fetch_targets(&http_client(args)?, provider, targets, run_id, out, coverage).await
}

async fn fetch_bluesky<W: Write>(
    args: &Args,
    config: &Config,
    run_id: &str,
    out: &mut Output<'_, W>,
    coverage: &mut Vec<Coverage>,
) -> anyhow::Result<()> {
    only_for(args, "bluesky", false, false)?;
    let token = config.secret("BLUESKY_TOKEN");
    let base = config.base_url(args.base_url.as_deref(), "bluesky", "https://public.api.bsky.app");
    let limit = args.limit.unwrap_or(source::bluesky::MAX_LIMIT);
    // Bluesky has one worldwide list: its place is "global".
    let targets = vec![Target {
        label: "bluesky place global".into(),
        place: Place { id: "global".into(), name: None, extra: Map::new() },
        url: format!("{base}{}", source::bluesky::path(limit)),
    }];
    let parse = |body: &[u8]| {
        source::bluesky::parse(body).map(|topics| {
            if topics.suggested > 0 {
                log::info!("bluesky: {} suggested topics left out (not trending)", topics.suggested);
            }
            topics.items
        })
    };
    let provider = Provider {
        source: "bluesky",
        bearer: token.as_deref(),
        refused: token.as_ref().map(|_| "Bluesky refused the token; check BLUESKY_TOKEN"),
        parse: &parse,
    };
    fetch_targets(&http_client(args)?, provider, targets, run_id, out, coverage).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_with_and_without_names() {
        let p = parse_place("23424768=Brazil").unwrap();
        assert_eq!((p.id.as_str(), p.name.as_deref()), ("23424768", Some("Brazil")));
        let p = parse_place(" 1 ").unwrap();
        assert_eq!((p.id.as_str(), p.name), ("1", None));
        assert!(parse_place("=Brazil").is_err());
    }

    #[test]
    fn flags_parse() {
        let a = Args::try_parse_from([
            "fetch-trends",
            "--source",
            "x",
            "--place",
            "1",
            "--place",
            "23424768=Brazil",
            "--to",
            "mongo",
        ])
        .unwrap();
        assert_eq!(a.source, SourceKind::X);
        assert_eq!(a.places.len(), 2);
        assert_eq!(a.to, To::Mongo);
        assert!(Args::try_parse_from(["fetch-trends", "--source", "myspace"]).is_err());
    }

    #[test]
    fn free_source_flags_parse() {
        let a = Args::try_parse_from([
            "fetch-trends",
            "--source",
            "mastodon",
            "--instance",
            "mastodon.social",
            "--instance",
            "mas.to",
            "--limit",
            "5",
        ])
        .unwrap();
        assert_eq!((a.source, a.instances.len(), a.limit), (SourceKind::Mastodon, 2, Some(5)));
        let a = Args::try_parse_from(["fetch-trends", "--source", "google", "--place", "BR", "--google-feed", "daily"])
            .unwrap();
        assert_eq!((a.source, a.google_feed), (SourceKind::Google, GoogleFeed::Daily));
        let a = Args::try_parse_from(["fetch-trends", "--source", "bluesky"]).unwrap();
        assert_eq!((a.source, a.google_feed, a.limit), (SourceKind::Bluesky, GoogleFeed::Trending, None));
        assert_eq!(source_name(SourceKind::Bluesky), "bluesky");
        assert!(Args::try_parse_from(["fetch-trends", "--source", "google", "--google-feed", "hourly"]).is_err());
    }
}
