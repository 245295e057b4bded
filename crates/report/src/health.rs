//! The pipeline's own health, from the database: per stage the last successful run
//! and its age, the last failure and its error (the run ledger, table `runs`),
//! rejected records per day, and per source and place the age of the newest
//! observation. A source and place whose newest observation is older than the
//! staleness limit (`--stale-after`, 2 h by default for 30-minute snapshots) makes the
//! data stale: `report health` then exits 1 and the served `/healthz` answers 503, so
//! that cron or a monitor notices when collection has silently stopped.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use trendpipe_core::sql::Sql;

/// The last runs of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub stage: String,
    pub last_ok: Option<DateTime<Utc>>,
    /// Seconds since the last successful run ended.
    pub last_ok_age_s: Option<i64>,
    pub last_failure: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The newest entry is still `running`: it is going on, or it died.
    pub last_unfinished: Option<DateTime<Utc>>,
}

/// How fresh the observations of one source and place are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freshness {
    pub source: String,
    pub place: String,
    pub newest: DateTime<Utc>,
    pub age_s: i64,
    pub stale: bool,
}

/// Records rejected by a stage on one day (UTC), from the ledger's counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub day: String,
    pub stage: String,
    pub rejected: u64,
}

/// The health view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub at: DateTime<Utc>,
    pub stale_after_s: i64,
    pub stages: Vec<Stage>,
    pub freshness: Vec<Freshness>,
    pub rejected: Vec<Rejected>,
    /// Whether any source and place is stale, or no observation exists at all.
    pub stale: bool,
}

/// Reads the health of the pipeline from `sql` as of `now`.
pub async fn read(sql: &Sql, now: DateTime<Utc>, stale_after: Duration) -> anyhow::Result<Health> {
    // A database written before the run ledger existed has no `runs` table (and a
    // read-only server cannot add it): the freshness of the data still tells.
    let runs = runs(sql, now - Duration::days(30)).await.unwrap_or_else(|e| {
        log::warn!("the run ledger cannot be read: {e:#}");
        Vec::new()
    });
    let mut by_stage: BTreeMap<String, Stage> = BTreeMap::new();
    let mut rejected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for run in &runs {
        let stage = by_stage.entry(run.stage.clone()).or_insert_with(|| Stage {
            stage: run.stage.clone(),
            last_ok: None,
            last_ok_age_s: None,
            last_failure: None,
            last_error: None,
            last_unfinished: None,
        });
        let ended = run.finished_at.unwrap_or(run.started_at);
        match run.status.as_str() {
            "ok" | "partial" | "alerts" => {
                if stage.last_ok.is_none_or(|t| ended > t) {
                    stage.last_ok = Some(ended);
                }
            }
            "failed" => {
                if stage.last_failure.is_none_or(|t| ended > t) {
                    stage.last_failure = Some(ended);
                    stage.last_error = run.error.clone();
                }
            }
            _ => {
                if stage.last_unfinished.is_none_or(|t| run.started_at > t) {
                    stage.last_unfinished = Some(run.started_at);
                }
            }
        }
        if let Some(n) = run.counts.get("rejected").and_then(Value::as_u64).filter(|n| *n > 0) {
            *rejected.entry((run.started_at.format("%Y-%m-%d").to_string(), run.stage.clone())).or_default() += n;
        }
    }
    let mut stages: Vec<Stage> = by_stage.into_values().collect();
    for s in &mut stages {
        s.last_ok_age_s = s.last_ok.map(|t| (now - t).num_seconds());
        // An entry left running before a later success is an old death, not news.
        if s.last_unfinished.is_some_and(|u| s.last_ok.is_some_and(|ok| ok > u)) {
            s.last_unfinished = None;
        }
    }
    let freshness: Vec<Freshness> = newest_observations(sql)
        .await
        .context("reading the newest observations")?
        .into_iter()
        .map(|(source, place, newest)| {
            let age = now - newest;
            Freshness { source, place, newest, age_s: age.num_seconds(), stale: age > stale_after }
        })
        .collect();
    let stale = freshness.is_empty() || freshness.iter().any(|f| f.stale);
    Ok(Health {
        at: now,
        stale_after_s: stale_after.num_seconds(),
        stages,
        freshness,
        rejected: rejected.into_iter().map(|((day, stage), rejected)| Rejected { day, stage, rejected }).collect(),
        stale,
    })
}

struct Run {
    stage: String,
    status: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
    counts: Value,
}

fn time(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let t = text.trim();
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{t:?} is not a time"))
}

type RunRow = (String, String, String, Option<String>, Option<String>, String);

async fn runs(sql: &Sql, since: DateTime<Utc>) -> anyhow::Result<Vec<Run>> {
    let rows: Vec<RunRow> =
        match sql {
            Sql::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT stage, status, started_at, finished_at, error, counts FROM runs \
                 WHERE started_at >= ?1 ORDER BY started_at",
                )
                .bind(trendpipe_core::record::format_time(&since))
                .fetch_all(pool)
                .await?
            }
            Sql::Postgres(pool) => sqlx::query_as(
                "SELECT stage, status, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                 to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), error, counts \
                 FROM runs WHERE started_at >= $1 ORDER BY started_at",
            )
            .bind(since)
            .fetch_all(pool)
            .await?,
        };
    rows.into_iter()
        .map(|(stage, status, started, finished, error, counts)| {
            Ok(Run {
                stage,
                status,
                started_at: time(&started)?,
                finished_at: finished.as_deref().map(time).transpose()?,
                error,
                counts: serde_json::from_str(&counts).unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// The newest observation of every source and place, from `observation_freshness`
/// (kept by etl-to-sql): a few rows, where the observations are millions. A database
/// that predates that table (a read-only server does not migrate) is scanned instead.
async fn newest_observations(sql: &Sql) -> anyhow::Result<Vec<(String, String, DateTime<Utc>)>> {
    fn table(newest: &str) -> String {
        format!("SELECT source, place, {newest} FROM observation_freshness ORDER BY source, place")
    }
    fn scan(newest: &str) -> String {
        format!(
            "SELECT t.source, p.code, {newest} FROM trend_observations o \
             JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id \
             GROUP BY t.source, p.code ORDER BY t.source, p.code"
        )
    }
    let rows = match newest_rows(sql, table, "newest").await {
        Err(sqlx::Error::Database(e))
            if ["no such table", "does not exist"].iter().any(|m| e.message().contains(m)) =>
        {
            log::warn!("no observation_freshness table in this database ({}): scanning the observations", e.message());
            newest_rows(sql, scan, "max(o.observed_at)").await?
        }
        other => other?,
    };
    rows.into_iter().map(|(s, p, t)| Ok((s, p, time(&t)?))).collect()
}

/// Runs the query `text` makes of the time expression `newest`, that time read as
/// RFC 3339 text in both dialects.
async fn newest_rows(
    sql: &Sql,
    text: fn(&str) -> String,
    newest: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    match sql {
        Sql::Sqlite(pool) => sqlx::query_as(&text(newest)).fetch_all(pool).await,
        Sql::Postgres(pool) => {
            let newest = format!("to_char({newest} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
            sqlx::query_as(&text(&newest)).fetch_all(pool).await
        }
    }
}

/// How long ago, in words a person reads at a glance.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{:.1} h", s as f64 / 3600.0),
        _ => format!("{:.1} d", s as f64 / 86_400.0),
    }
}

/// The health view as text for the terminal.
pub fn text(h: &Health) -> String {
    let mut out = String::new();
    let stale_after = age(h.stale_after_s);
    out.push_str(&format!(
        "Pipeline health at {} — data {} (stale after {stale_after})\n\n",
        trendpipe_core::record::format_time(&h.at),
        if h.stale { "STALE" } else { "fresh" }
    ));
    let mut stages = comfy_table::Table::new();
    stages.set_header(["stage", "last success", "age", "last failure", "error", "unfinished run"]);
    for s in &h.stages {
        stages.add_row([
            s.stage.clone(),
            s.last_ok.map(|t| trendpipe_core::record::format_time(&t)).unwrap_or_else(|| "never".into()),
            s.last_ok_age_s.map(age).unwrap_or_default(),
            s.last_failure.map(|t| trendpipe_core::record::format_time(&t)).unwrap_or_default(),
            s.last_error.clone().unwrap_or_default(),
            s.last_unfinished
                .map(|t| format!("started {}", trendpipe_core::record::format_time(&t)))
                .unwrap_or_default(),
        ]);
    }
    if h.stages.is_empty() {
        out.push_str("No run recorded in the last 30 days.\n\n");
    } else {
        out.push_str(&format!("{stages}\n\n"));
    }
    let mut fresh = comfy_table::Table::new();
    fresh.set_header(["source", "place", "newest observation", "age", "state"]);
    for f in &h.freshness {
        fresh.add_row([
            f.source.clone(),
            f.place.clone(),
            trendpipe_core::record::format_time(&f.newest),
            age(f.age_s),
            if f.stale { "STALE".into() } else { "fresh".to_owned() },
        ]);
    }
    if h.freshness.is_empty() {
        out.push_str("No observation in the database: nothing has been collected.\n");
    } else {
        out.push_str(&format!("{fresh}\n"));
    }
    if !h.rejected.is_empty() {
        let mut rej = comfy_table::Table::new();
        rej.set_header(["day", "stage", "rejected"]);
        for r in &h.rejected {
            rej.add_row([r.day.clone(), r.stage.clone(), r.rejected.to_string()]);
        }
        out.push_str(&format!("\nRejected records per day\n{rej}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(42), "42 s");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(3 * 3600), "3.0 h");
        assert_eq!(age(3 * 86_400), "3.0 d");
    }

    #[test]
    fn times_of_both_dialects_are_read() {
        let want = time("2026-11-22T01:30:00Z").unwrap();
        assert_eq!(time("2026-11-22T01:30:00+00:00").unwrap(), want);
        assert_eq!(time("2026-11-22 01:30:00+00:00").unwrap(), want);
        assert!(time("yesterday").is_err());
    }
}
