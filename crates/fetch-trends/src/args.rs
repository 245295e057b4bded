//! The flags of `fetch-trends`, and the small parsers of their values. A leaf module:
//! the sources read the flags from here, and `lib.rs` runs them.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde_json::Map;
use trendpipe_core::args::{ConfigArgs, MongoArgs, SummaryArgs, To};
use trendpipe_core::error::Error;
use trendpipe_core::http::HttpArgs;
use trendpipe_core::record::Place;

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

    #[command(flatten)]
    pub summary: SummaryArgs,
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

/// `ID` or `ID=NAME`.
pub fn parse_place(text: &str) -> anyhow::Result<Place> {
    let (id, name) = match text.split_once('=') {
        Some((id, name)) => (id.trim(), Some(name.trim().to_owned()).filter(|n| !n.is_empty())),
        None => (text.trim(), None),
    };
    if id.is_empty() {
        return Err(Error::Usage(format!("--place {text:?}: the place id is empty")).into());
    }
    Ok(Place { id: id.to_owned(), name, extra: Map::new() })
}

/// The `source` field of the records of a `--source`.
pub fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::X => "x",
        SourceKind::XV1 => "x-v1",
        SourceKind::Mastodon => "mastodon",
        SourceKind::Google => "google",
        SourceKind::Bluesky => "bluesky",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
