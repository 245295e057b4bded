//! Categories: the ones stored in `trend_categories`, the provider's own
//! (`trends.category`), news titles (`trend_news`), and writing the computed ones.

use chrono::Utc;
use trendpipe_core::sql::Sql;

use super::{Param, fetch};

/// A trend's stored or provider category.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyValue {
    pub trend_key: String,
    pub value: String,
}

/// The provider categories of `keys` (any source that gave one).
pub async fn provider(sql: &Sql, keys: &[String]) -> Result<Vec<KeyValue>, sqlx::Error> {
    fetch(
        sql,
        "SELECT key AS trend_key, MIN(category) AS value FROM trends
          WHERE key = @LIST($1) AND category IS NOT NULL AND category <> '' GROUP BY key",
        &[Param::Texts(keys.to_vec())],
    )
    .await
}

/// The news titles attached to `keys`.
pub async fn news(sql: &Sql, keys: &[String]) -> Result<Vec<KeyValue>, sqlx::Error> {
    fetch(
        sql,
        "SELECT trend_key, title AS value FROM trend_news WHERE trend_key = @LIST($1) ORDER BY trend_key, title",
        &[Param::Texts(keys.to_vec())],
    )
    .await
}

/// Stores the categories (`(key, category, rule)`), replacing earlier ones.
pub async fn store(sql: &Sql, rows: &[(String, String, String)]) -> anyhow::Result<()> {
    const UPSERT: &str = "INSERT INTO trend_categories (trend_key, category, rule, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (trend_key) DO UPDATE SET category = excluded.category, rule = excluded.rule,
        updated_at = excluded.updated_at";
    let now = Utc::now();
    match sql {
        Sql::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            let at = trendpipe_core::record::format_time(&now);
            for (k, c, r) in rows {
                sqlx::query(UPSERT).bind(k).bind(c).bind(r).bind(&at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Sql::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            for (k, c, r) in rows {
                sqlx::query(UPSERT).bind(k).bind(c).bind(r).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
