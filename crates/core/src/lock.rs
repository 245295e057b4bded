//! The database-level lock that makes runs of a stage on one database take turns.
//!
//! crontab.example puts every job under `flock`, but two hosts, a hand-started run
//! or a crontab without the lock can still start a stage while another run of it is
//! at work. Their upserts are idempotent, yet watermarks read by one and moved by the
//! other, or two `sentiment --db` runs scoring the same posts, would race. So the
//! stages that write SQL (`etl-to-sql`, `sentiment --db`, `influencers --db`,
//! `alerts --db`) hold a lock named after the stage for their whole run:
//!
//! - PostgreSQL: a session-level `pg_advisory_lock` on a connection of its own, keyed
//!   by the first 64 bits of `md5('trendpipe:' || stage)`. The server releases it when
//!   the session ends, a killed process included.
//! - SQLite: an exclusive transaction (`BEGIN EXCLUSIVE`) held open on a small SQLite
//!   file next to the database (`FILE-STAGE.lock`, as SQLite names its `-wal` and
//!   `-shm` files): SQLite's own file locking, which the operating system releases
//!   when the process ends. The database's own locking (WAL, a 30 s busy timeout,
//!   `BEGIN IMMEDIATE` for batches) still guards each transaction; this lock spans
//!   the run.
//!
//! A run that finds the lock taken waits up to `--lock-timeout`, then fails with exit
//! 2 and a message naming since when the other run holds it (PostgreSQL: its session
//! in `pg_stat_activity`; SQLite: its `running` entry in the run ledger).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::error::Error;
use crate::sql::Sql;

/// How often a waiting run tries the lock again.
const RETRY: Duration = Duration::from_millis(250);

/// A stage's lock on a database, held until [`StageLock::release`] or until the
/// process ends.
#[derive(Debug)]
pub struct StageLock {
    held: Held,
}

#[derive(Debug)]
enum Held {
    Postgres {
        conn: PgConnection,
        key: i64,
    },
    /// A connection to the lock file holding an exclusive transaction open.
    Sqlite(SqliteConnection),
    /// An in-memory SQLite database: no other process can reach it.
    Nothing,
}

impl Sql {
    /// Takes `stage`'s lock on this database, waiting up to `timeout` for another run
    /// to release it (see the module's documentation).
    pub async fn lock_stage(&self, stage: &str, timeout: Duration) -> anyhow::Result<StageLock> {
        let held = match self {
            Self::Postgres(pool) => {
                let mut conn = PgConnection::connect_with(&pool.connect_options())
                    .await
                    .map_err(|e| Error::Connection(format!("cannot open the lock connection: {e}")))?;
                // Shown in pg_stat_activity, where an operator looks for the holder.
                sqlx::query(&format!("SET application_name = 'trendpipe {stage} (lock)'"))
                    .execute(&mut conn)
                    .await
                    .context("naming the lock connection")?;
                let key: i64 = sqlx::query_scalar("SELECT ('x' || substr(md5($1), 1, 16))::bit(64)::bigint")
                    .bind(format!("trendpipe:{stage}"))
                    .fetch_one(&mut conn)
                    .await
                    .context("computing the lock key")?;
                let mut waiting = Waiting::new(stage, timeout);
                loop {
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(key)
                        .fetch_one(&mut conn)
                        .await
                        .context("trying the advisory lock")?;
                    if got {
                        break;
                    }
                    waiting.wait(pg_holder(&mut conn, key).await).await?;
                }
                Held::Postgres { conn, key }
            }
            Self::Sqlite(pool) => {
                let filename = pool.connect_options().get_filename().to_owned();
                if filename.as_os_str().is_empty() || filename.to_string_lossy().contains(":memory:") {
                    Held::Nothing
                } else {
                    let mut path = filename.into_os_string();
                    path.push(format!("-{stage}.lock"));
                    let path = PathBuf::from(path);
                    // No busy timeout: a taken lock is reported and waited for here.
                    let options = SqliteConnectOptions::new()
                        .filename(&path)
                        .create_if_missing(true)
                        .busy_timeout(Duration::ZERO);
                    let mut conn = SqliteConnection::connect_with(&options)
                        .await
                        .with_context(|| format!("opening the lock file {}", path.display()))?;
                    let mut waiting = Waiting::new(stage, timeout);
                    loop {
                        match sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
                            Ok(_) => break,
                            Err(sqlx::Error::Database(e)) if is_busy(e.code().as_deref()) => {
                                waiting.wait(sqlite_holder(pool, stage).await).await?
                            }
                            Err(e) => {
                                return Err(anyhow::Error::new(e).context(format!("locking {}", path.display())));
                            }
                        }
                    }
                    Held::Sqlite(conn)
                }
            }
        };
        Ok(StageLock { held })
    }
}

impl StageLock {
    /// Releases the lock now rather than when the process ends.
    pub async fn release(self) {
        match self.held {
            Held::Postgres { mut conn, key } => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut conn).await;
                let _ = conn.close().await;
            }
            Held::Sqlite(mut conn) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                let _ = conn.close().await;
            }
            Held::Nothing => {}
        }
    }
}

/// A run waiting for the lock: says so once, gives up when the timeout passes or a
/// stop is requested.
struct Waiting<'a> {
    stage: &'a str,
    timeout: Duration,
    started: Instant,
    told: bool,
}

impl<'a> Waiting<'a> {
    fn new(stage: &'a str, timeout: Duration) -> Self {
        Self { stage, timeout, started: Instant::now(), told: false }
    }

    /// Waits before the next try, or fails; `holder` says since when and by whom the
    /// lock is held.
    async fn wait(&mut self, holder: String) -> anyhow::Result<()> {
        let stage = self.stage;
        if self.started.elapsed() >= self.timeout {
            return Err(Error::Connection(format!(
                "another {stage} run holds the lock on this database since {holder}; gave up after {} \
                 (--lock-timeout)",
                crate::args::format_duration(self.timeout)
            ))
            .into());
        }
        if crate::shutdown::requested() {
            return Err(Error::Connection(format!("stopped while waiting for another {stage} run ({holder})")).into());
        }
        if !self.told {
            log::info!("another {stage} run holds the lock on this database since {holder}: waiting for it");
            self.told = true;
        }
        tokio::time::sleep(RETRY).await;
        Ok(())
    }
}

/// Since when, and which session, holds the advisory lock `key`.
async fn pg_holder(conn: &mut PgConnection, key: i64) -> String {
    let found: Result<Option<(String, i32, String)>, sqlx::Error> = sqlx::query_as(
        "SELECT to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), a.pid, \
                COALESCE(a.client_hostname, host(a.client_addr), 'a local socket') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 \
         LIMIT 1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await;
    match found {
        Ok(Some((since, pid, from))) => format!("{since} (PostgreSQL session {pid} from {from})"),
        // Released between the two queries, or pg_stat_activity is not readable.
        _ => "an unknown time".to_owned(),
    }
}

/// SQLite's answer to a lock taken by another connection: `SQLITE_BUSY` or one of
/// its extended codes.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
}

/// Since when, and on which machine, the run holding the lock runs: the newest entry
/// of the stage's other runs still `running` in the run ledger.
async fn sqlite_holder(pool: &sqlx::SqlitePool, stage: &str) -> String {
    let own = crate::ledger::run_id().unwrap_or_default();
    let found: Result<Option<(String, String)>, sqlx::Error> = sqlx::query_as(
        "SELECT started_at, host FROM runs WHERE stage = ?1 AND status = 'running' AND run_id <> ?2 \
         ORDER BY started_at DESC LIMIT 1",
    )
    .bind(stage)
    .bind(own)
    .fetch_optional(pool)
    .await;
    match found {
        Ok(Some((since, host))) => format!("{since} (a run on {host})"),
        // A holder without a ledger entry, or a database without the ledger.
        _ => "an unknown time".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_sqlite_lock_waits_and_gives_up_and_other_stages_have_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("l.db").display());
        let sql = Sql::connect(&url).await.unwrap();
        let first = sql.lock_stage("etl-to-sql", Duration::from_secs(1)).await.unwrap();
        // The lock is a connection's: a second one in this process conflicts as
        // another process's would.
        let err = sql.lock_stage("etl-to-sql", Duration::from_millis(300)).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("another etl-to-sql run holds the lock on this database since"), "{text}");
        assert_eq!(err.downcast_ref::<Error>().map(Error::exit_code), Some(2));
        let other = sql.lock_stage("sentiment", Duration::from_millis(300)).await.unwrap();
        first.release().await;
        let again = sql.lock_stage("etl-to-sql", Duration::from_secs(1)).await.unwrap();
        again.release().await;
        other.release().await;
        sql.close().await;
    }

    #[test]
    fn busy_codes_are_recognised_with_their_extended_forms() {
        assert!(is_busy(Some("5")) && is_busy(Some("517")));
        assert!(!is_busy(Some("6")) && !is_busy(None));
    }
}
