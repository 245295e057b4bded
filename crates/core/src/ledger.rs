//! The run ledger: one entry per run of every stage, so that an analyst can tell from
//! the stores themselves whether the pipeline ran, when, and how it went.
//!
//! Entries are kept where the run kept its data: in MongoDB's `runs` collection when
//! the run connected to MongoDB, and in the SQL `runs` table when it connected to SQL
//! (both when it used both). A stage does nothing for this but connect through
//! [`crate::mongo::Mongo::connect`] or [`crate::sql::Sql::connect`], which attach the
//! store to the ledger and write the entry as `running`; [`crate::cli::main`] finishes
//! the entry when the run ends, with its status, exit code and error. A stage adds its
//! own figures with [`count`], [`detail`] and [`watermarks`].
//!
//! A run killed before it could finish its entry leaves it `running`; the next run of
//! the same stage on the same store says so in its log, and the health view shows it.
//!
//! Fields: `run_id`, `stage`, `version`, `host`, `args` (the command line, secrets
//! masked), `started_at`, `finished_at`, `status` (`running`, `ok`, `partial` — some
//! records rejected or some targets failed —, `alerts`, `failed`, `interrupted` —
//! stopped by SIGTERM or SIGINT, see [`crate::shutdown`]), `exit_code`, `counts` (an
//! object of numbers), `watermark_before`, `watermark_after`, `error`, plus stage
//! details.

use std::sync::{Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::record::format_time;
use crate::redact::redact;

/// Where an entry is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Store {
    Sql(String),
    Mongo { uri: String, database: String },
}

#[derive(Debug)]
struct State {
    run_id: String,
    stage: String,
    version: String,
    args: Vec<String>,
    started_at: DateTime<Utc>,
    stores: Vec<Store>,
    counts: Map<String, Value>,
    details: Map<String, Value>,
    watermark_before: Option<String>,
    watermark_after: Option<String>,
}

fn state() -> MutexGuard<'static, Option<State>> {
    static STATE: OnceLock<Mutex<Option<State>>> = OnceLock::new();
    // A panic while holding the lock cannot leave the ledger half-written in a way
    // that matters: take the data as it is.
    STATE.get_or_init(|| Mutex::new(None)).lock().unwrap_or_else(|e| e.into_inner())
}

/// Opens the entry of this run. Called by `cli::main` before the stage runs.
pub fn start(stage: &str, version: &str, args: Vec<String>) {
    let run_id = uuid::Uuid::new_v4().to_string();
    *state() = Some(State {
        run_id,
        stage: stage.to_owned(),
        version: version.to_owned(),
        args: args.iter().map(|a| redact(a)).collect(),
        started_at: Utc::now(),
        stores: Vec::new(),
        counts: Map::new(),
        details: Map::new(),
        watermark_before: None,
        watermark_after: None,
    });
}

/// The id of this run's entry, if a ledger was started.
pub fn run_id() -> Option<String> {
    state().as_ref().map(|s| s.run_id.clone())
}

/// Sets a count of the run (`read`, `new`, `updated`, `unchanged`, `rejected`…).
pub fn count(name: &str, value: u64) {
    counts(name, value.into());
}

/// Sets a count, or a group of counts (`{"trends": {"examined": 4, …}}`).
pub fn counts(name: &str, value: Value) {
    if let Some(s) = state().as_mut() {
        s.counts.insert(name.to_owned(), value);
    }
}

/// Adds a detail of the run (a source, per-place figures, errors of targets).
pub fn detail(name: &str, value: Value) {
    if let Some(s) = state().as_mut() {
        s.details.insert(name.to_owned(), value);
    }
}

/// The watermark before and after the run, for incremental stages.
pub fn watermarks(before: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>) {
    if let Some(s) = state().as_mut() {
        s.watermark_before = before.map(|t| format_time(&t));
        s.watermark_after = after.map(|t| format_time(&t));
    }
}

/// Records that the run keeps data in an SQL database; returns whether this is new.
pub(crate) fn attach_sql(url: &str) -> bool {
    attach(Store::Sql(url.to_owned()))
}

/// Records that the run keeps data in a MongoDB database; returns whether this is new.
pub(crate) fn attach_mongo(uri: &str, database: &str) -> bool {
    attach(Store::Mongo { uri: uri.to_owned(), database: database.to_owned() })
}

fn attach(store: Store) -> bool {
    match state().as_mut() {
        Some(s) if !s.stores.contains(&store) => {
            s.stores.push(store);
            true
        }
        _ => false,
    }
}

/// The entry as it stands, with the outcome given (`None`: still running).
pub fn entry(outcome: Option<(&str, u8, Option<String>)>) -> Option<Value> {
    let guard = state();
    let s = guard.as_ref()?;
    let finished = outcome.is_some();
    let (status, code, error) = match outcome {
        Some((status, code, error)) => (status, Some(code), error),
        None => ("running", None, None),
    };
    let mut entry = json!({
        "run_id": s.run_id,
        "stage": s.stage,
        "version": s.version,
        "host": host(),
        "args": s.args,
        "started_at": format_time(&s.started_at),
        "finished_at": finished.then(|| format_time(&Utc::now())),
        "status": status,
        "exit_code": code,
        "counts": s.counts,
        "watermark_before": s.watermark_before,
        "watermark_after": s.watermark_after,
        "error": error.map(|e| redact(&e)),
    });
    if let Value::Object(map) = &mut entry {
        for (k, v) in &s.details {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Some(entry)
}

/// The stores this run attached, as SQL URLs and MongoDB (URI, database) pairs.
pub(crate) fn stores() -> (Vec<String>, Vec<(String, String)>) {
    let guard = state();
    let mut sql = Vec::new();
    let mut mongo = Vec::new();
    for store in guard.as_ref().map(|s| s.stores.as_slice()).unwrap_or_default() {
        match store {
            Store::Sql(url) => sql.push(url.clone()),
            Store::Mongo { uri, database } => mongo.push((uri.clone(), database.clone())),
        }
    }
    (sql, mongo)
}

/// The stage of this run.
pub(crate) fn stage() -> Option<String> {
    state().as_ref().map(|s| s.stage.clone())
}

/// The machine's name, for telling apart runs of several machines.
fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Writes the finished entry to every store the run attached, replacing its `running`
/// entry. A store that cannot be reached is reported, never fatal: the run's own
/// outcome is what the exit code tells.
pub async fn finish(status: &str, code: u8, error: Option<String>) -> Option<Value> {
    let entry = entry(Some((status, code, error)))?;
    let (sql, mongo) = stores();
    for url in sql {
        if let Err(e) = crate::sql::write_run(&url, &entry).await {
            log::warn!("could not write the run ledger entry to {}: {}", redact(&url), redact(&format!("{e:#}")));
        }
    }
    for (uri, database) in mongo {
        if let Err(e) = crate::mongo::write_run(&uri, &database, &entry).await {
            log::warn!("could not write the run ledger entry to MongoDB: {}", redact(&format!("{e:#}")));
        }
    }
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_carries_the_stage_the_outcome_and_masked_arguments() {
        crate::redact::register_secret("s3cr3t-ledger-token");
        start("clean", "0.1.0", vec!["clean".into(), "--db".into(), "postgres://u:s3cr3t-ledger-token@h/db".into()]);
        count("read", 7);
        detail("source", "x".into());
        let running = entry(None).unwrap();
        assert_eq!(running["status"], "running");
        assert!(running["finished_at"].is_null());
        let done = entry(Some(("partial", 1, Some("boom s3cr3t-ledger-token".into())))).unwrap();
        assert_eq!(done["stage"], "clean");
        assert_eq!(done["exit_code"], 1);
        assert_eq!(done["counts"]["read"], 7);
        assert_eq!(done["source"], "x");
        let text = done.to_string();
        assert!(!text.contains("s3cr3t-ledger-token"), "{text}");
    }
}
