//! The texts of a trend's posts in the window, for its word cloud.

use trendpipe_core::sql::Sql;

use super::{Param, fetch};
use crate::scope::Scope;

/// How many posts a word cloud reads at most: the newest ones.
pub const MAX_POSTS: i64 = 2000;

/// The newest texts of posts linked to `key`, created in the window.
pub async fn texts(sql: &Sql, scope: &Scope, key: &str) -> Result<Vec<String>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Text {
        text: Option<String>,
    }
    let rows: Vec<Text> = fetch(
        sql,
        "SELECT p.text AS text
           FROM post_trends pt JOIN posts p ON p.id = pt.post
          WHERE pt.trend_key = $1 AND p.created_at >= $2 AND p.created_at < $3
          ORDER BY p.created_at DESC, p.id DESC
          LIMIT $4",
        &[Param::Text(key.to_owned()), Param::Time(scope.since), Param::Time(scope.until), Param::Int(MAX_POSTS)],
    )
    .await?;
    Ok(rows.into_iter().filter_map(|r| r.text).collect())
}
