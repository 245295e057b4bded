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
//! - SQLite: an exclusive `flock` on a file next to the database (`FILE-STAGE.lock`,
//!   as SQLite names its `-wal` and `-shm` files), released by the kernel when the
//!   process ends. SQLite's own locking (WAL, a 30 s busy timeout, `BEGIN IMMEDIATE`
//!   for batches) still guards each transaction; this lock spans the run.
//!
//! A run that finds the lock taken waits up to `--lock-timeout`, then fails with exit
//! 2 and a message naming since when the other run holds it.

use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

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
    Sqlite(std::fs::File),
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
                    let mut file = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(&path)
                        .with_context(|| format!("opening the lock file {}", path.display()))?;
                    let mut waiting = Waiting::new(stage, timeout);
                    loop {
                        match file.try_lock() {
                            Ok(()) => break,
                            Err(std::fs::TryLockError::WouldBlock) => waiting.wait(file_holder(&mut file)).await?,
                            Err(std::fs::TryLockError::Error(e)) => {
                                return Err(anyhow::Error::new(e).context(format!("locking {}", path.display())));
                            }
                        }
                    }
                    // Who holds it, for the message a waiting run gives.
                    let note =
                        format!("{} pid {}\n", crate::record::format_time(&chrono::Utc::now()), std::process::id());
                    file.set_len(0)
                        .and_then(|()| file.rewind())
                        .and_then(|()| file.write_all(note.as_bytes()))
                        .with_context(|| format!("writing the lock file {}", path.display()))?;
                    Held::Sqlite(file)
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
            Held::Sqlite(file) => {
                let _ = file.unlock();
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

/// Since when, and which process, holds a lock file (what the holder wrote in it).
fn file_holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
    match (read, text.trim().split_once(' ')) {
        (Ok(_), Some((since, who))) => format!("{since} ({who})"),
        _ => "an unknown time".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_sqlite_lock_waits_names_the_holder_and_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("l.db").display());
        let sql = Sql::open(&url).await.unwrap();
        let first = sql.lock_stage("etl-to-sql", Duration::from_secs(1)).await.unwrap();
        // flock locks belong to the open file: a second open in this process conflicts
        // as another process would.
        let err = sql.lock_stage("etl-to-sql", Duration::from_millis(300)).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("another etl-to-sql run holds the lock on this database since 20"), "{text}");
        assert!(text.contains(&format!("pid {}", std::process::id())), "{text}");
        assert_eq!(err.downcast_ref::<Error>().map(Error::exit_code), Some(2));
        // Another stage has a lock of its own.
        let other = sql.lock_stage("sentiment", Duration::from_millis(300)).await.unwrap();
        first.release().await;
        let again = sql.lock_stage("etl-to-sql", Duration::from_secs(1)).await.unwrap();
        again.release().await;
        other.release().await;
        sql.close().await;
    }
}
