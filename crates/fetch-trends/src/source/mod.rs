//! The trend providers, one file each behind the [`Source`] trait (the pattern of
//! Vector's sources): its default base URL, which flags it takes, the requests of a
//! run, and the parser of its payload, which reports a payload of the wrong shape as
//! an error naming the field. `x-v1` imports saved files instead of asking a server:
//! it has the same parser shape but no plan of requests.

pub mod bluesky;
pub mod google;
pub mod mastodon;
pub mod x;
pub mod x_v1;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use trendpipe_core::config::Config;
use trendpipe_core::error::Error;
use trendpipe_core::http::Expect;
use trendpipe_core::record::Place;

pub use trendpipe_core::payload::{ShapeError, count};

use crate::args::Args;

/// One request of a run: the place it stands for and where to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// How the summary names it (`x place 23424768 (Brazil)`).
    pub label: String,
    pub place: Place,
    pub url: String,
}

/// What a network source asks for in one run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// The bearer token sent with every request, if any.
    pub bearer: Option<String>,
    /// The message of a 401/403 when they mean our credentials were refused (exit 2);
    /// `None` when we sent none, and a refusal only fails that place.
    pub refused: Option<&'static str>,
}

/// The flags that only some sources take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Place,
    Instance,
    File,
    Limit,
    GoogleFeed,
}

impl Flag {
    fn name(self) -> &'static str {
        match self {
            Flag::Place => "--place",
            Flag::Instance => "--instance",
            Flag::File => "--file",
            Flag::Limit => "--limit",
            Flag::GoogleFeed => "--google-feed",
        }
    }

    fn given(self, args: &Args) -> bool {
        match self {
            Flag::Place => !args.places.is_empty(),
            Flag::Instance => !args.instances.is_empty(),
            Flag::File => !args.files.is_empty(),
            Flag::Limit => args.limit.is_some(),
            Flag::GoogleFeed => args.google_feed != crate::args::GoogleFeed::Trending,
        }
    }
}

/// A provider of trending topics reached over HTTP.
pub trait Source {
    /// The `source` field of its records.
    fn name(&self) -> &'static str;
    /// The source-specific flags it takes; any other one given is a usage error.
    fn flags(&self) -> &'static [Flag];
    /// Checks what the flags say and lists the requests of the run.
    fn plan(&self, args: &Args, config: &Config) -> anyhow::Result<Plan>;
    /// Reads one answer into trends, in rank order.
    fn parse(&self, body: &[u8]) -> Result<Vec<Item>, ShapeError>;
    /// The format of its answers, so that an HTML error page is refused as such.
    fn expect(&self) -> Expect {
        Expect::Json
    }
}

/// Refuses the flags that belong to other sources, so that a mistyped command fails
/// loudly instead of fetching something else than what was meant.
pub fn check_flags(args: &Args, source: &str, accepted: &[Flag]) -> Result<(), Error> {
    let all = [Flag::File, Flag::Place, Flag::Instance, Flag::Limit, Flag::GoogleFeed];
    match all.into_iter().find(|f| f.given(args) && !accepted.contains(f)) {
        Some(flag) => Err(Error::Usage(format!("--source {source}: {} is not used by this source", flag.name()))),
        None => Ok(()),
    }
}

/// `label (name)` or `label` for the summary.
pub fn label(prefix: &str, place: &Place) -> String {
    match &place.name {
        Some(name) => format!("{prefix} {} ({name})", place.id),
        None => format!("{prefix} {}", place.id),
    }
}

/// One trend as a provider lists it, in rank order, for the sources that share the
/// fetch loop (`mastodon`, `google`, `bluesky`).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub volume: Option<i64>,
    /// The provider's own time for the observation; `None` means the fetch time.
    pub observed_at: Option<DateTime<Utc>>,
    /// What the provider says beyond name and volume, kept for later stages.
    pub extra: Map<String, Value>,
}

/// Reads one answer of a provider into its trends.
pub type Parser = dyn Fn(&[u8]) -> Result<Vec<Item>, ShapeError>;
