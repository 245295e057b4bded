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
        Ok(sql)
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
    async fn unknown_scheme_is_a_usage_error() {
        let err = Sql::connect("mysql://u:pw@h/db").await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unsupported database URL"), "{msg}");
        assert!(!msg.contains(":pw@"), "{msg}");
    }
}
