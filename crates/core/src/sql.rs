//! SQL access: SQLite (an embedded file, the default) or PostgreSQL (production).
//!
//! The schema lives in `migrations/<dialect>/` and is applied by the tools themselves
//! on connect, so a fresh database needs no manual step. The two dialects differ in
//! types (text vs `timestamptz`) but keep the same tables and columns, so the stages'
//! queries are written once with sqlx's placeholders chosen per dialect.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::Error;
use crate::redact::redact;

/// The default database when neither `--db`, `DATABASE_URL` nor the configuration
/// file name one.
pub const DEFAULT_URL: &str = "sqlite:trendpipe.db";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The columns of `post_sentiment` in the order its writers bind them: `etl-to-sql`
/// (scores already in the records) and `sentiment --db` insert the same row.
pub const POST_SENTIMENT_COLUMNS: &str = "post, model, compound, pos, neu, neg, label, scored_at";

/// A time as SQL text: RFC 3339 with `+00:00`, the form sqlx writes for a
/// `DateTime<Utc>` into SQLite, so that times written as text (a direct SQLite
/// connection) and times bound through sqlx compare and sort alike. Records use
/// [`crate::record::format_time`] (`Z`) instead.
pub fn time_text(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub enum Sql {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Sql {
    /// Connects to `url` (`sqlite:FILE`, `postgres://…`; a bare path ending in `.db`
    /// or `.sqlite` is taken as SQLite) and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let sql = Self::open(url).await?;
        sql.migrate().await?;
        if crate::ledger::attach_sql(url) {
            sql.open_run().await;
        }
        Ok(sql)
    }

    /// Writes this run's ledger entry as `running`, and says so when the last run of
    /// the same stage never finished its entry (it was killed, or its machine died).
    async fn open_run(&self) {
        let (Some(entry), Some(stage)) = (crate::ledger::entry(None), crate::ledger::stage()) else {
            return;
        };
        let last: Result<Option<(String, String)>, sqlx::Error> = match self {
            Self::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT status, started_at FROM runs WHERE stage = ?1 AND run_id <> ?2 \
                     ORDER BY started_at DESC LIMIT 1",
                )
                .bind(&stage)
                .bind(entry["run_id"].as_str())
                .fetch_optional(pool)
                .await
            }
            Self::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT status, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                     FROM runs WHERE stage = $1 AND run_id <> $2 ORDER BY started_at DESC LIMIT 1",
                )
                .bind(&stage)
                .bind(entry["run_id"].as_str())
                .fetch_optional(pool)
                .await
            }
        };
        if let Ok(Some((status, started))) = last {
            if status == "running" {
                log::warn!("the last run of {stage} (started {started}) did not finish: it was stopped or it died");
            }
        }
        if let Err(e) = self.put_run(&entry).await {
            log::warn!("could not write the run ledger entry: {}", redact(&format!("{e:#}")));
        }
    }

    /// Inserts or replaces a run ledger entry (see [`crate::ledger`]).
    pub async fn put_run(&self, entry: &serde_json::Value) -> anyhow::Result<()> {
        let text = |k: &str| entry.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
        let json = |k: &str| entry.get(k).map(|v| v.to_string()).unwrap_or_else(|| "null".into());
        let mut details = entry.as_object().cloned().unwrap_or_default();
        for k in RUN_COLUMNS {
            details.remove(*k);
        }
        let details = serde_json::Value::Object(details).to_string();
        let code = entry.get("exit_code").and_then(serde_json::Value::as_i64);
        let sql_text = |placeholder: fn(usize) -> String, time: fn(String) -> String| {
            let values: Vec<String> = RUN_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let p = placeholder(i + 1);
                    if *c == "started_at" || *c == "finished_at" { time(p) } else { p }
                })
                .collect();
            let updates: Vec<String> = RUN_COLUMNS.iter().skip(1).map(|c| format!("{c} = excluded.{c}")).collect();
            format!(
                "INSERT INTO runs ({}) VALUES ({}) ON CONFLICT (run_id) DO UPDATE SET {}",
                RUN_COLUMNS.join(", "),
                values.join(", "),
                updates.join(", ")
            )
        };
        macro_rules! bind_all {
            ($q:expr) => {
                $q.bind(text("run_id"))
                    .bind(text("stage"))
                    .bind(text("version"))
                    .bind(text("host"))
                    .bind(json("args"))
                    .bind(text("started_at"))
                    .bind(text("finished_at"))
                    .bind(text("status"))
                    .bind(code)
                    .bind(json("counts"))
                    .bind(text("watermark_before"))
                    .bind(text("watermark_after"))
                    .bind(text("error"))
                    .bind(&details)
            };
        }
        match self {
            Self::Sqlite(pool) => {
                let q = sql_text(|i| format!("?{i}"), |p| p);
                bind_all!(sqlx::query(&q)).execute(pool).await?;
            }
            Self::Postgres(pool) => {
                let q = sql_text(|i| format!("${i}"), |p| format!("CAST({p} AS timestamptz)"));
                bind_all!(sqlx::query(&q)).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Connects without migrating (for read-only use on a database another tool owns).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let shown = redact(url);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(15))
                .connect(url)
                .await
                .map_err(|e| Error::Connection(format!("cannot connect to {shown}: {}", redact(&e.to_string()))))?;
            return Ok(Self::Postgres(pool));
        }
        let sqlite_url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else if url.ends_with(".db") || url.ends_with(".sqlite") || url.ends_with(".sqlite3") {
            format!("sqlite:{url}")
        } else {
            return Err(Error::Usage(format!(
                "unsupported database URL {shown}: use sqlite:FILE or postgres://HOST/DB"
            ))
            .into());
        };
        let options = SqliteConnectOptions::from_str(&sqlite_url)
            .map_err(|e| Error::Usage(format!("database URL {shown}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL keeps the database consistent across a crash; a
            // committed batch may be lost on power failure only, never half-applied.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| Error::Connection(format!("cannot open {shown}: {e}")))?;
        Ok(Self::Sqlite(pool))
    }

    /// Applies the migrations that are not applied yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.accept_comment_edits().await;
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("applying the database migrations")
    }

    /// `sqlite` or `postgres`, for messages.
    pub fn dialect(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections to finish cleanly.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Migrations whose text changed after release in comments only, with the SHA-384
/// checksum sqlx stored for their first text: (dialect, version, old checksum). The
/// first comment line of 0001 and 0002 pointed at a design file outside the
/// repository; it now points at docs/ARCHITECTURE.md, and a database migrated with
/// the old text has its stored checksum brought up to date instead of being refused.
const COMMENT_EDITS: &[(&str, i64, &str)] = &[
    ("sqlite", 1, "35314d5f05d5831c025c3b4fa898e0c3dd77d82f8062c078d992fa2a37d7c54d7d2b5c5d5eb9fa7ab2e9c8d1c6b5a35a"),
    ("sqlite", 2, "67052c2256f906b4ca3217d010a56248b816dbafcb97db3e51b7999a28076b0bd5bcd0cac730f3d3369dce06d7dc960f"),
    ("postgres", 1, "679993aa984d36b056b67688bfe19f563b6845b4f071dc64986e10496f676b9cab31156401e8ab8132df26e04625ac08"),
    ("postgres", 2, "e1929071a42e71564843c283e33b59122abd1043eae47aa36932ffa86bcb8c24fd579c4271fce4d6a17e0881c64c1659"),
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

impl Sql {
    /// Brings the stored checksums of [`COMMENT_EDITS`] up to date. A fresh database
    /// has no `_sqlx_migrations` table yet: nothing to do, and the error is ignored.
    async fn accept_comment_edits(&self) {
        let migrator = match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        for (dialect, version, old) in COMMENT_EDITS.iter().filter(|(d, _, _)| *d == self.dialect()) {
            let Some(current) = migrator.iter().find(|m| m.version == *version) else {
                continue;
            };
            let (old, new) = (unhex(old), current.checksum.to_vec());
            let result = match self {
                Self::Sqlite(pool) => {
                    sqlx::query("UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = ?2 AND checksum = ?3")
                        .bind(&new)
                        .bind(version)
                        .bind(&old)
                        .execute(pool)
                        .await
                        .map(|r| r.rows_affected())
                }
                Self::Postgres(pool) => {
                    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2 AND checksum = $3")
                        .bind(&new)
                        .bind(version)
                        .bind(&old)
                        .execute(pool)
                        .await
                        .map(|r| r.rows_affected())
                }
            };
            if let Ok(done) = result {
                if done > 0 {
                    log::debug!("{dialect} migration {version}: stored checksum updated for a comment edit");
                }
            }
        }
    }
}

/// The columns of the `runs` table, in the order [`Sql::put_run`] binds them.
const RUN_COLUMNS: &[&str] = &[
    "run_id",
    "stage",
    "version",
    "host",
    "args",
    "started_at",
    "finished_at",
    "status",
    "exit_code",
    "counts",
    "watermark_before",
    "watermark_after",
    "error",
    "details",
];

/// Writes a finished run ledger entry into the database at `url` (used once the
/// stage has closed its own pool).
pub(crate) async fn write_run(url: &str, entry: &serde_json::Value) -> anyhow::Result<()> {
    let sql = Sql::open(url).await?;
    let result = sql.put_run(entry).await;
    sql.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_file_is_created_and_migrated_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite:{}", path.display());
        let sql = Sql::connect(&url).await.unwrap();
        sql.close().await;
        // Applying again is a no-op, not an error.
        let sql = Sql::connect(&url).await.unwrap();
        let Sql::Sqlite(pool) = &sql else { panic!("expected sqlite") };
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM trend_observations").fetch_one(pool).await.unwrap();
        assert_eq!(n, 0);
        sql.close().await;
    }

    #[test]
    fn sql_times_are_written_as_sqlx_writes_them() {
        let t = crate::record::parse_time("2026-11-22T01:30:00.250Z").unwrap();
        assert_eq!(time_text(&t), "2026-11-22T01:30:00.250+00:00");
    }

    #[tokio::test]
    async fn a_database_migrated_before_the_comment_edits_still_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("old.db").display());
        let sql = Sql::connect(&url).await.unwrap();
        let Sql::Sqlite(pool) = &sql else { panic!("expected sqlite") };
        // As a database migrated with the first text of 0001 and 0002 stores them.
        for (_, version, old) in COMMENT_EDITS.iter().filter(|(d, _, _)| *d == "sqlite") {
            sqlx::query("UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = ?2")
                .bind(unhex(old))
                .bind(version)
                .execute(pool)
                .await
                .unwrap();
        }
        sql.close().await;
        let again = Sql::connect(&url).await.unwrap();
        let Sql::Sqlite(pool) = &again else { panic!("expected sqlite") };
        let stored: Vec<u8> = sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
            .fetch_one(pool)
            .await
            .unwrap();
        let current = SQLITE_MIGRATIONS.iter().find(|m| m.version == 1).unwrap();
        assert_eq!(stored, current.checksum.to_vec());
        again.close().await;
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_usage_error() {
        let err = Sql::connect("mysql://u:pw@h/db").await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unsupported database URL"), "{msg}");
        assert!(!msg.contains(":pw@"), "{msg}");
    }
}
