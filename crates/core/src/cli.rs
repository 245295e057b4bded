//! The `main()` every tool shares: parse flags, log to stderr, run, map the outcome to
//! an exit code.
//!
//! A tool's `main.rs` is one call: `trendpipe_core::cli::main("clean", clean::run)`.
//! stdout carries records only; everything said to the user goes to stderr through
//! `log`, with secrets masked. A closed stdout (`stage | head`) ends the run quietly
//! with success.

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use crate::args::SummaryFormat;
use crate::error::{Error, Status, is_broken_pipe};
use crate::ledger;
use crate::redact::redact;
use crate::shutdown;

/// Runs a tool: parses `A` from the command line, sets up logging and the async
/// runtime, awaits `run` and turns its result into the exit code (0 all good, 1 some
/// records rejected, 2 usage, configuration or connection failure, 3 alerts raised;
/// 130 or 143 stopped by SIGINT or SIGTERM, see [`crate::shutdown`]).
/// The run's ledger entry is finished in the stores the run used (see
/// [`crate::ledger`]) and, with `--summary json`, printed on stderr.
pub fn main<A, F, Fut>(tool: &'static str, run: F) -> ExitCode
where
    A: clap::Parser,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = anyhow::Result<Status>>,
{
    let command = A::command();
    let version = command.get_version().unwrap_or(env!("CARGO_PKG_VERSION")).to_owned();
    let parsed = command.try_get_matches().and_then(|m| A::from_arg_matches(&m).map(|a| (a, m)));
    let (args, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // --help and --version are not errors; clap prints them on stdout.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Only tools that flatten `SummaryArgs` have the flag, at the top or in the
    // subcommand that ran (`report top --summary json`).
    let summary_json = [Some(&matches), matches.subcommand().map(|(_, m)| m)]
        .into_iter()
        .flatten()
        .any(|m| m.try_get_one::<SummaryFormat>("summary").ok().flatten().is_some_and(|f| *f == SummaryFormat::Json));
    init_logging(tool);
    ledger::start(tool, &version, std::env::args().collect());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{tool}: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        shutdown::install();
        let run = run(args);
        tokio::pin!(run);
        tokio::select! {
            result = &mut run => result,
            // Dropping the run's future rolls back the transaction it had open.
            () = shutdown::abandon() => Err(anyhow::anyhow!(
                "the run did not stop within {} s of the signal: abandoned, its open batch rolled back",
                shutdown::GRACE.as_secs()
            )),
        }
    });
    let (code, word, error) = match shutdown::interrupted_by() {
        Some(signal) => interrupted(tool, signal, &result),
        None => outcome(&result),
    };
    let entry = runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(15), ledger::finish(word, code, error)).await.ok().flatten()
    });
    // Give background tasks (driver monitors) a bounded moment, then drop them.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    let exit = match shutdown::interrupted_by() {
        Some(_) => ExitCode::from(code),
        None => finish(tool, result),
    };
    if summary_json {
        let entry = entry.or_else(|| ledger::entry(Some((word, code, None))));
        if let Some(entry) = entry {
            let _ = writeln!(std::io::stderr(), "{entry}");
        }
    }
    exit
}

/// The exit code, the ledger's status word and the error of a run's result.
fn outcome(result: &anyhow::Result<Status>) -> (u8, &'static str, Option<String>) {
    match result {
        Ok(status) => (status.code(), status.word(), None),
        Err(e) if is_broken_pipe(e) => (0, "ok", None),
        Err(e) => (e.downcast_ref::<Error>().map_or(2, Error::exit_code), "failed", Some(redact(&format!("{e:#}")))),
    }
}

/// The exit code, status word and error of a run stopped by a signal: 128 + the
/// signal's number whatever else happened, since what it did is not complete. Its
/// error, if any, is printed here.
fn interrupted(tool: &str, signal: i32, result: &anyhow::Result<Status>) -> (u8, &'static str, Option<String>) {
    let error = match result {
        Err(e) if !is_broken_pipe(e) => {
            let text = redact(&format!("{e:#}"));
            let _ = writeln!(std::io::stderr(), "{tool}: error: {text}");
            Some(text)
        }
        _ => None,
    };
    log::warn!(
        "interrupted by {}: what was committed stays, a rerun carries on from there (exit {})",
        shutdown::name(signal),
        shutdown::exit_code(signal)
    );
    (shutdown::exit_code(signal), "interrupted", error)
}

/// Maps a run's result to an exit code, printing the error if there is one.
pub fn finish(tool: &str, result: anyhow::Result<Status>) -> ExitCode {
    match result {
        Ok(status) => status.exit_code(),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.downcast_ref::<Error>().map_or(2, Error::exit_code);
            let message = format!("{e:#}");
            let _ = writeln!(std::io::stderr(), "{tool}: error: {}{}", redact(&message), store_named(&e, &message));
            ExitCode::from(code)
        }
    }
}

/// The store a database error came from, when the message does not say it: a driver
/// reports "connection reset" or "unexpected end of file" without the server, and the
/// user of a stage with two stores must know which one failed. Masked, like every
/// message.
fn store_named(e: &anyhow::Error, message: &str) -> String {
    let (sql, mongo) = ledger::stores();
    let mut names = Vec::new();
    if e.chain().any(|c| c.is::<mongodb::error::Error>()) {
        names.extend(mongo.iter().map(|(uri, _)| format!("MongoDB at {}", redact(uri))));
    }
    if e.chain().any(|c| c.is::<sqlx::Error>()) {
        names.extend(sql.iter().map(|url| format!("database {}", redact(url))));
    }
    names.retain(|n| !redact(message).contains(n.as_str()));
    if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
}

/// Logs go to stderr as `tool: message` (`tool: warning: message` for warnings).
/// `TRENDPIPE_LOG` (or `RUST_LOG`) sets the level; the default is `info` for the
/// trendpipe crates and `warn` for the libraries under them (`error` for sqlx, whose
/// slow-statement warnings would print whole multi-row statements).
fn init_logging(tool: &'static str) {
    let filter = std::env::var("TRENDPIPE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn,sqlx=error,trendpipe_core=info,trendpipe_fetch_trends=info,trendpipe_fetch_posts=info,trendpipe_clean=info,trendpipe_etl_to_sql=info,trendpipe_sentiment=info,trendpipe_influencers=info,trendpipe_alerts=info,trendpipe_report=info,trendpipe_gen=info".into());
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&filter).target(env_logger::Target::Stderr).format(move |buf, record| {
        let message = redact(&record.args().to_string());
        match record.level() {
            log::Level::Info => writeln!(buf, "{tool}: {message}"),
            log::Level::Warn => writeln!(buf, "{tool}: warning: {message}"),
            log::Level::Error => writeln!(buf, "{tool}: error: {message}"),
            level => writeln!(buf, "{tool}: {}: {message}", level.as_str().to_lowercase()),
        }
    });
    let _ = builder.try_init();
}
