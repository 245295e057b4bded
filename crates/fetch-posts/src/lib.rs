//! `fetch-posts`: the posts behind each trend, with authors, followers, engagement and
//! the links between posts (replies, quotes, reposts).
//!
//! Reads trend records (NDJSON on stdin, or the latest snapshots in MongoDB's `trends`),
//! keeps each place's top trends, and for each trend pages through a provider's search
//! (`source/`: one file per provider behind one trait), writing post records to stdout
//! or upserting them into MongoDB's `posts`. Paging is checkpointed after every page
//! (`state`), so a run killed or stopped by a rate limit resumes where it stopped. One
//! trend failing does not lose the others (exit 1); a refused token or bad usage stops
//! the run (exit 2). The record fields are described in `docs/ARCHITECTURE.md`.

mod import;
mod seen;
pub mod sink;
pub mod source;
pub mod state;
pub mod trends;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{SubsecRound, Utc};
use clap::{Parser, ValueEnum};
use serde_json::json;
use trendpipe_core::args::{ConfigArgs, From, MongoArgs, RejectArgs, SummaryArgs, To, WindowArgs, time_arg};
use trendpipe_core::config::Config;
use trendpipe_core::error::{Error, Status};
use trendpipe_core::http::{Http, HttpArgs, HttpError};
use trendpipe_core::mongo::Mongo;
use trendpipe_core::quarantine::Quarantine;
use trendpipe_core::record::{Post, format_time};

use sink::Sink;
use source::{Given, PageContext, Query, Remote, Source};
use state::{Checkpoint, Store};

/// Collects recent posts about each trend and writes post records (NDJSON) to stdout
/// or MongoDB.
#[derive(Debug, Parser)]
#[command(name = "fetch-posts", version, about, long_about = None)]
pub struct Args {
    /// Where the posts come from.
    #[arg(long, value_enum)]
    pub source: SourceKind,

    /// Where the trends come from: trend records on stdin (NDJSON), or the latest
    /// snapshots in MongoDB's `trends` (observed since --since, when given).
    #[arg(long, value_enum, default_value_t = From::Stdin)]
    pub from: From,

    /// Where the posts go: NDJSON on stdout, or upserted into MongoDB's `posts`.
    #[arg(long, value_enum, default_value_t = To::Stdout)]
    pub to: To,

    /// How many trends of each place to fetch, by rank then volume, from the latest
    /// snapshot of the place.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub top: u32,

    /// How many posts to collect per trend (per instance for mastodon). Originals
    /// added because a post references them do not count.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,

    #[command(flatten)]
    pub window: WindowArgs,

    /// A Mastodon instance to search (`mastodon.social`, or `https://HOST`). Repeat for
    /// several instances.
    #[arg(long = "instance", value_name = "HOST")]
    pub instances: Vec<String>,

    /// A saved v1.1 `search/tweets` response to import (`x-v1`); `-` reads stdin; a
    /// directory imports its `*.json` files in name order. Repeat for several.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// The trend the imported files were searched for (`x-v1`) [default: each file's
    /// `search_metadata.query`].
    #[arg(long, value_name = "NAME")]
    pub trend: Option<String>,

    /// The checkpoint file of stdout mode (JSON, replaced atomically after each page);
    /// with --to mongo checkpoints are kept in MongoDB's `fetch_state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The provider's base URL, for proxies and tests [env: X_BASE_URL,
    /// MASTODON_BASE_URL, BLUESKY_BASE_URL; default: https://api.x.com for x,
    /// https://HOST for mastodon, https://public.api.bsky.app for bluesky].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    #[command(flatten)]
    pub reject: RejectArgs,

    #[command(flatten)]
    pub mongo: MongoArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// X API v2 recent search (bearer token in X_BEARER_TOKEN).
    X,
    /// Saved Twitter v1.1 `search/tweets` responses (files, no network).
    #[value(name = "x-v1")]
    XV1,
    /// Hashtag timelines of Mastodon instances (`--instance`, no auth).
    Mastodon,
    /// Bluesky post search (optional token in BLUESKY_TOKEN).
    Bluesky,
}

/// What a run did, for the summary on stderr and the `runs` document.
#[derive(Debug, Default)]
struct Tally {
    trends: usize,
    already_done: u64,
    posts: u64,
    reposts: u64,
    referenced: u64,
    pages: u64,
    provider_errors: u64,
    failed: Vec<String>,
    /// The originals already added from references for the current trend: an
    /// original that several pages of a trend reference is emitted once.
    referenced_seen: seen::Seen,
}

impl Tally {
    fn count(&mut self, hits: &[Post], referenced: &[Post]) {
        self.posts += hits.len() as u64;
        self.reposts += hits.iter().chain(referenced).filter(|p| p.repost_of.is_some()).count() as u64;
        self.referenced += referenced.len() as u64;
    }
}

/// Runs the tool.
pub async fn run(args: Args) -> anyhow::Result<Status> {
    args.window.check()?;
    let config = args.config.load()?;
    let given = Given {
        files: !args.files.is_empty(),
        instances: !args.instances.is_empty(),
        trend: args.trend.is_some(),
        state: args.state.is_some(),
        from_mongo: args.from == From::Mongo,
    };
    let checked = match args.source {
        SourceKind::X => source::x::X.check_flags(&given),
        SourceKind::XV1 => source::x_v1::XV1.check_flags(&given),
        SourceKind::Mastodon => source::mastodon::Mastodon.check_flags(&given),
        SourceKind::Bluesky => source::bluesky::Bluesky.check_flags(&given),
    };
    checked.map_err(Error::Usage)?;
    if args.to == To::Mongo && args.state.is_some() {
        return Err(Error::Usage("--state is for stdout; with --to mongo checkpoints are in fetch_state".into()).into());
    }
    let mongo = if args.to == To::Mongo || args.from == From::Mongo {
        let m = config.mongo(&args.mongo, "fetch-posts").await?;
        if let Err(e) = m.ensure_indexes().await {
            m.shutdown().await;
            return Err(e);
        }
        Some(m)
    } else {
        None
    };
    let result = collect(&args, &config, mongo.as_ref()).await;
    if let Some(m) = mongo {
        m.shutdown().await;
    }
    result
}

async fn collect(args: &Args, config: &Config, mongo: Option<&Mongo>) -> anyhow::Result<Status> {
    let started_at = Utc::now();
    let stdout = std::io::stdout();
    let mut sink = match (args.to, mongo) {
        (To::Mongo, Some(m)) => Sink::mongo(m),
        _ => Sink::ndjson(stdout.lock()),
    };
    let mut tally = Tally::default();
    let mut rejected = 0;
    let waits = match args.source {
        SourceKind::XV1 => {
            import::x_v1(args, &mut sink, &mut tally).await?;
            0
        }
        remote => {
            // Only stdin can hold lines that are not trends: they go to the reject file.
            let mut rejects = Quarantine::file(args.reject.path("fetch-posts"));
            let all = match (args.from, mongo) {
                (From::Mongo, Some(m)) => trends::from_mongo(m, args.window.since).await?,
                _ => trends::from_ndjson(std::io::stdin().lock(), &mut rejects).await?,
            };
            rejected = rejects.count();
            if rejected > 0 {
                log::warn!("{rejected} input lines were not trend records; they are in {}", rejects.describe());
            }
            let wanted = trends::select(all, args.top as usize);
            tally.trends = wanted.len();
            let mut store = match (args.to, mongo, &args.state) {
                (To::Mongo, Some(m), _) => Store::Mongo(m),
                (_, _, Some(path)) => Store::file(path.clone())?,
                _ => Store::None,
            };
            let http = Http::new(args.http.policy())?;
            let mut run = Fetch { args, http: &http, store: &mut store, sink: &mut sink, tally: &mut tally };
            match remote {
                SourceKind::X => run.source(&source::x::X, config, &wanted).await?,
                SourceKind::Mastodon => run.source(&source::mastodon::Mastodon, config, &wanted).await?,
                _ => run.source(&source::bluesky::Bluesky, config, &wanted).await?,
            }
            http.waits()
        }
    };
    let written = sink.finish()?;
    for f in &tally.failed {
        log::error!("{f}");
    }
    log::info!(
        "{} trends asked{}, {} posts collected ({} reposts), {} originals added from references, {} pages, {} errors reported by the provider, {} waits, {} failed; {written}",
        tally.trends,
        if tally.already_done > 0 {
            format!(" ({} already collected in their window)", tally.already_done)
        } else {
            String::new()
        },
        tally.posts,
        tally.reposts,
        tally.referenced,
        tally.pages,
        tally.provider_errors,
        waits,
        tally.failed.len(),
    );
    if let (To::Mongo, Some(m)) = (args.to, mongo) {
        let run = json!({
            "run_id": uuid::Uuid::new_v4().to_string(),
            "stage": "fetch-posts",
            "source": args.source.to_possible_value().map(|v| v.get_name().to_owned()),
            "started_at": format_time(&started_at),
            "finished_at": format_time(&Utc::now()),
            "status": if tally.failed.is_empty() { "ok" } else { "partial" },
            "counts": {
                "trends": tally.trends, "posts": tally.posts, "reposts": tally.reposts,
                "referenced": tally.referenced, "pages": tally.pages,
                "provider_errors": tally.provider_errors, "waits": waits, "failed": tally.failed.len(),
            },
            "errors": tally.failed,
        });
        m.record_run(&run).await?;
    }
    Ok(Status { rejected, failures: tally.failed.len() as u64, ..Status::ok() })
}

/// One run of a remote source over the wanted trends.
struct Fetch<'r, 'a, W: std::io::Write> {
    args: &'r Args,
    http: &'r Http,
    store: &'r mut Store<'a>,
    sink: &'r mut Sink<'a, W>,
    tally: &'r mut Tally,
}

/// Where one paging asks: the instance (empty for the other sources) and base URL.
struct Origin {
    name: String,
    base: String,
}

impl<W: std::io::Write> Fetch<'_, '_, W> {
    async fn source<S: Remote>(
        &mut self,
        source: &S,
        config: &Config,
        wanted: &[trends::Wanted],
    ) -> anyhow::Result<()> {
        let token = match source.token_env() {
            Some((env, required)) => {
                let token = config.secret(env);
                if required && token.is_none() {
                    return Err(Error::Config(format!(
                        "--source {} needs a token in {env} (or {} in the configuration file)",
                        source.name(),
                        env.to_ascii_lowercase()
                    ))
                    .into());
                }
                token
            }
            None => None,
        };
        let origins = self.origins(source, config)?;
        let mut followers: HashMap<String, Option<i64>> = HashMap::new();
        for trend in wanted {
            // A stop request ends the run between pages: each page is stored with its
            // checkpoint, and the next run resumes from there.
            if trendpipe_core::shutdown::requested() {
                break;
            }
            for origin in &origins {
                let key = state::key(source.name(), &origin.name, &trend.key, trend.snapshot);
                let label = match origin.name.as_str() {
                    "" => format!("{} trend {}", source.name(), trend.key),
                    host => format!("{} {host} trend {}", source.name(), trend.key),
                };
                let paging = Paging { source, origin, trend, key: &key, label: &label, token: token.as_deref() };
                if let Err(e) = self.page_through(&paging, &mut followers).await {
                    // A refused token, or MongoDB failing to store (a server gone), is
                    // everybody's problem: stop the run rather than try the next trend.
                    if e.downcast_ref::<Error>().is_some() || e.chain().any(|c| c.is::<mongodb::error::Error>()) {
                        return Err(e);
                    }
                    self.tally.failed.push(format!("{e:#}"));
                }
            }
        }
        Ok(())
    }

    fn origins<S: Remote>(&self, source: &S, config: &Config) -> anyhow::Result<Vec<Origin>> {
        let flag = self.args.base_url.as_deref();
        let base = |origin: &str| config.base_url(flag, source.name(), &source.default_base(origin));
        if source.name() != "mastodon" {
            return Ok(vec![Origin { name: String::new(), base: base("") }]);
        }
        if self.args.instances.is_empty() {
            return Err(
                Error::Usage("--source mastodon needs at least one --instance HOST (mastodon.social)".into()).into()
            );
        }
        let mut origins = Vec::new();
        for given in &self.args.instances {
            // `https://host/` is accepted as well as `host`; the origin is the host.
            let trimmed = given.trim().trim_end_matches('/');
            let (scheme_base, host) = match trimmed.split_once("://") {
                Some((_, host)) => (trimmed.to_owned(), host),
                None => (source.default_base(trimmed), trimmed),
            };
            if host.is_empty() || host.contains('/') {
                return Err(Error::Usage(format!(
                    "--instance {given:?}: expected a host name such as mastodon.social"
                ))
                .into());
            }
            let base = config.base_url(flag, "mastodon", &scheme_base);
            origins.push(Origin { name: host.to_owned(), base });
        }
        Ok(origins)
    }

    /// Pages through one trend on one origin from its checkpoint.
    async fn page_through<S: Remote>(
        &mut self,
        p: &Paging<'_, S>,
        followers: &mut HashMap<String, Option<i64>>,
    ) -> anyhow::Result<()> {
        let mut point = match self.store.load(p.key).await? {
            Some(point) if point.done => {
                log::info!(
                    "{}: already collected in this window (snapshot {})",
                    p.label,
                    format_time(&p.trend.snapshot)
                );
                self.tally.already_done += 1;
                return Ok(());
            }
            Some(point) => {
                log::info!("{}: resuming after page {} ({} posts)", p.label, point.pages, point.posts);
                point
            }
            None => Checkpoint {
                since: self.args.window.since.map(|t| format_time(&t)),
                until: self.args.window.until.map(|t| format_time(&t)),
                ..Default::default()
            },
        };
        let bound = |t: &Option<String>| t.as_deref().and_then(|t| time_arg(t).ok());
        let window = WindowArgs { since: bound(&point.since), until: bound(&point.until) };
        let limit = u64::from(self.args.limit);
        loop {
            if trendpipe_core::shutdown::requested() {
                return Ok(());
            }
            let page_no = point.pages + 1;
            let remaining = limit.saturating_sub(point.posts);
            let query = Query {
                name: &p.trend.name,
                since: window.since,
                until: window.until,
                page_size: u32::try_from(remaining).unwrap_or(u32::MAX),
            };
            let url = p.source.page_url(&p.origin.base, &query, point.cursor.as_deref());
            let at = format!("{} page {page_no}", p.label);
            let observed_at = Utc::now().trunc_subsecs(0);
            let response = match self.http.get_response(&url, p.token).await {
                Ok(r) => r,
                Err(HttpError::Auth { status, detail, .. }) if p.token.is_some() => {
                    return Err(Error::Config(format!(
                        "{} refused the token (HTTP {status}: {detail}); check {}",
                        p.source.name(),
                        p.source.token_env().map(|(env, _)| env).unwrap_or_default()
                    ))
                    .into());
                }
                Err(e) => anyhow::bail!("{at}: {e}"),
            };
            let next_link = response.next_link();
            let ctx = PageContext { origin: &p.origin.name, next_link: next_link.as_deref(), observed_at };
            let mut page = p
                .source
                .parse_page(&response.body, &ctx)
                .map_err(|e| anyhow::anyhow!("{at}: unexpected payload: {e}"))?;
            for e in &page.errors {
                log::warn!("{at}: the provider reports: {e}");
            }
            self.tally.provider_errors += page.errors.len() as u64;
            // A provider handing back the position it was asked for would page forever.
            let mut done = page.next.is_none() || page.next == point.cursor;
            let mut hits = Vec::new();
            for post in std::mem::take(&mut page.posts) {
                if let Some(t) = post.created_at {
                    if window.since.is_some_and(|s| t < s) {
                        // Newest first: everything after this is older still.
                        done = true;
                        break;
                    }
                    if !window.contains(t) {
                        continue;
                    }
                }
                if hits.len() as u64 >= remaining {
                    done = true;
                    break;
                }
                hits.push(post);
            }
            if point.posts + hits.len() as u64 >= limit {
                done = true;
            }
            if p.source.profile_batch() > 0 {
                self.add_followers(p, &mut hits, &mut page.referenced, followers).await;
            }
            for post in hits.iter_mut().chain(page.referenced.iter_mut()) {
                post.trend = Some(p.trend.key.clone());
            }
            keep_referenced(&hits, &mut page.referenced, &mut self.tally.referenced_seen, &p.trend.key);
            self.tally.count(&hits, &page.referenced);
            self.tally.pages += 1;
            point.posts += hits.len() as u64;
            point.pages = page_no;
            point.cursor = page.next.clone();
            point.done = done;
            let mut records = hits;
            records.append(&mut page.referenced);
            self.sink.put(records).await?;
            self.store.save(p.key, point.clone()).await?;
            if done {
                return Ok(());
            }
        }
    }

    /// Fills in followers the search results lack (Bluesky), asking for each author
    /// once per run, in batches. A failed lookup leaves followers unknown.
    async fn add_followers<S: Remote>(
        &mut self,
        p: &Paging<'_, S>,
        hits: &mut [Post],
        referenced: &mut [Post],
        known: &mut HashMap<String, Option<i64>>,
    ) {
        let mut missing: Vec<String> = Vec::new();
        for post in hits.iter().chain(referenced.iter()) {
            if let Some(a) = &post.author {
                if a.followers.is_none() && !known.contains_key(&a.id) && !missing.contains(&a.id) {
                    missing.push(a.id.clone());
                }
            }
        }
        for batch in missing.chunks(p.source.profile_batch()) {
            let url = p.source.profiles_url(&p.origin.base, batch);
            let found = match self.http.get(&url, p.token).await {
                Ok(body) => p.source.parse_profiles(&body).map_err(|e| format!("unexpected payload: {e}")),
                Err(e) => Err(e.to_string()),
            };
            match found {
                Ok(found) => {
                    for id in batch {
                        known.insert(id.clone(), found.get(id).copied());
                    }
                }
                Err(e) => {
                    log::warn!(
                        "{}: follower lookup of {} authors failed, followers left unknown: {e}",
                        p.label,
                        batch.len()
                    );
                    self.tally.provider_errors += 1;
                }
            }
        }
        for post in hits.iter_mut().chain(referenced.iter_mut()) {
            if let Some(a) = post.author.as_mut() {
                if a.followers.is_none() {
                    a.followers = known.get(&a.id).copied().flatten();
                }
            }
        }
    }
}

/// Keeps the referenced posts that a kept hit points at (a hit left out by the window
/// or the limit takes its references with it), once per trend (see `seen.rs`).
fn keep_referenced(hits: &[Post], referenced: &mut Vec<Post>, seen: &mut seen::Seen, trend: &str) {
    referenced.retain(|r| {
        let id = Some(&r.id);
        hits.iter().any(|h| h.repost_of.as_ref() == id || h.quote_of.as_ref() == id || h.parent_id.as_ref() == id)
            && seen.first(trend, &r.id)
    });
}

/// One paging: a trend on an origin.
struct Paging<'p, S> {
    source: &'p S,
    origin: &'p Origin,
    trend: &'p trends::Wanted,
    key: &'p str,
    label: &'p str,
    token: Option<&'p str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_with_their_defaults() {
        let a = Args::try_parse_from(["fetch-posts", "--source", "mastodon", "--instance", "mastodon.social"]).unwrap();
        assert_eq!((a.source, a.top, a.limit, a.from, a.to), (SourceKind::Mastodon, 10, 100, From::Stdin, To::Stdout));
        let a = Args::try_parse_from(["fetch-posts", "--source", "x-v1", "--file", "-", "--trend", "#BBB26"]).unwrap();
        assert_eq!((a.files.len(), a.trend.as_deref()), (1, Some("#BBB26")));
        assert!(Args::try_parse_from(["fetch-posts", "--source", "x", "--limit", "0"]).is_err());
        assert!(Args::try_parse_from(["fetch-posts", "--source", "myspace"]).is_err());
    }
}
