//! The texts of the top trends' posts in the window, for their word clouds.

use trendpipe_core::sql::Sql;

use super::{Param, fetch};
use crate::scope::Scope;

/// How many posts a word cloud reads at most: the newest ones.
pub const MAX_POSTS: i64 = 2000;

/// A post text linked to a trend key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyText {
    pub trend_key: String,
    pub text: Option<String>,
}

/// The newest texts (at most [`MAX_POSTS`] per key, newest first) of posts linked to
/// each of `keys` and created in the window, by key, in one query. A post without a
/// text counts towards its key's limit, as it would in a query per key.
pub async fn texts(sql: &Sql, scope: &Scope, keys: &[String]) -> Result<Vec<KeyText>, sqlx::Error> {
    fetch(
        sql,
        "SELECT r.trend_key AS trend_key, r.text AS text
           FROM (SELECT pt.trend_key AS trend_key, p.text AS text,
                        ROW_NUMBER() OVER (PARTITION BY pt.trend_key
                                           ORDER BY p.created_at DESC, p.id DESC) AS nth
                   FROM post_trends pt JOIN posts p ON p.id = pt.post
                  WHERE pt.trend_key = @LIST($1) AND p.created_at >= $2 AND p.created_at < $3) r
          WHERE r.nth <= $4
          ORDER BY r.trend_key, r.nth",
        &[Param::Texts(keys.to_vec()), Param::Time(scope.since), Param::Time(scope.until), Param::Int(MAX_POSTS)],
    )
    .await
}
