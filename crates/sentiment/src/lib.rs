//! Sentiment scoring for trendpipe.
//!
//! The [`vader`] module is a faithful port of the VADER 3.3.2 rule-based analyser
//! (C.J. Hutto; MIT-licensed lexicons in `data/`), whose scores agree with the
//! Python reference package `vaderSentiment==3.3.2` on every input, quirks included.
//! [`filter`] is the NDJSON stage built on it.

pub mod filter;
pub mod vader;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::quarantine::Quarantine;

/// Scores the sentiment of posts (NDJSON on stdin) and writes them back with a
/// `sentiment` object.
#[derive(Debug, Parser)]
#[command(name = "sentiment", version, about, long_about = None)]
pub struct Args {
    /// The language model. `auto` routes each post by its `lang` field; this version
    /// has the English VADER model only, which every language falls back to.
    #[arg(long, value_enum, default_value_t = Lang::Auto)]
    pub lang: Lang,

    /// A lexicon file (`word<TAB>valence` lines, VADER's format) that extends or
    /// overrides the built-in English lexicon.
    #[arg(long, value_name = "FILE")]
    pub lexicon: Option<PathBuf>,

    /// The reject file for lines that are not JSON objects, appended to. Created
    /// only when something is rejected.
    #[arg(long, value_name = "FILE", default_value = "sentiment.rejects.ndjson")]
    pub reject: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// By each post's `lang`, falling back to English.
    Auto,
    /// English (VADER 3.3.2) for every post.
    En,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let mut analyzer = vader::Analyzer::new();
    if let Some(path) = &args.lexicon {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read the lexicon {}: {e}", path.display())))?;
        let n = analyzer
            .extend_lexicon(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))
            .context("loading the user lexicon")?;
        log::info!("{}: {n} lexicon entries added or overridden", path.display());
    }
    let mut quarantine = Quarantine::file(&args.reject);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let s = filter::filter(&analyzer, stdin.lock(), stdout.lock(), &mut quarantine).await?;
    log::info!(
        "read {}, scored {} posts, {} posts without text, {} other records passed through, rejected {}",
        s.read,
        s.scored,
        s.without_text,
        s.passed_through,
        s.rejected
    );
    Ok(Status { rejected: s.rejected, failures: 0 })
}
