//! Helpers of the influencers tests: post records built in code, the binary run as a
//! user runs it, and the same posts written into SQL the way `etl-to-sql` stores them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::Path;

use serde_json::{Value, json};

/// A post as the tests describe it.
#[derive(Debug, Clone)]
pub struct P {
    pub id: String,
    pub author: String,
    pub followers: i64,
    pub created: String,
    pub observed: String,
    pub metrics: [i64; 4],
    pub parent: Option<String>,
    pub quote: Option<String>,
    pub repost: Option<String>,
    pub trends: Vec<String>,
}

impl P {
    pub fn new(id: &str, author: &str, created: &str) -> Self {
        Self {
            id: id.into(),
            author: author.into(),
            followers: 0,
            created: created.into(),
            observed: created.into(),
            metrics: [0; 4],
            parent: None,
            quote: None,
            repost: None,
            trends: vec!["t".into()],
        }
    }
    pub fn followers(mut self, n: i64) -> Self {
        self.followers = n;
        self
    }
    pub fn metrics(mut self, reposts: i64, likes: i64, replies: i64, quotes: i64) -> Self {
        self.metrics = [reposts, likes, replies, quotes];
        self
    }
    pub fn reply(mut self, to: &str) -> Self {
        self.parent = Some(to.into());
        self
    }
    pub fn quote(mut self, of: &str) -> Self {
        self.quote = Some(of.into());
        self
    }
    pub fn repost(mut self, of: &str) -> Self {
        self.repost = Some(of.into());
        self
    }
    pub fn trends(mut self, trends: &[&str]) -> Self {
        self.trends = trends.iter().map(|t| t.to_string()).collect();
        self
    }
    pub fn observed(mut self, at: &str) -> Self {
        self.observed = at.into();
        self
    }

    /// One record per trend, as `fetch-posts` writes a post found under two trends.
    pub fn records(&self) -> Vec<Value> {
        self.trends
            .iter()
            .map(|t| {
                json!({
                    "kind": "post", "source": "x", "id": self.id, "text": format!("post {}", self.id),
                    "created_at": self.created, "observed_at": self.observed,
                    "author": {"id": self.author, "handle": format!("h_{}", self.author), "followers": self.followers},
                    "metrics": {"reposts": self.metrics[0], "likes": self.metrics[1], "replies": self.metrics[2], "quotes": self.metrics[3]},
                    "parent_id": self.parent, "quote_of": self.quote, "repost_of": self.repost,
                    "trend": t, "observed_with": "unknown fields pass"
                })
            })
            .collect()
    }
}

pub fn ndjson(posts: &[P]) -> String {
    posts.iter().flat_map(P::records).map(|r| r.to_string() + "\n").collect()
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn records(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}

pub fn influencers(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let out = assert_cmd::Command::cargo_bin("influencers")
        .unwrap()
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("INFLUENCER_WEIGHTS")
        .env_remove("TRENDPIPE_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .args(args)
        .write_stdin(stdin.to_owned())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The PostgreSQL admin URL of the test server; panics without it.
pub fn postgres_admin() -> String {
    std::env::var("TRENDPIPE_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .expect("TRENDPIPE_TEST_DATABASE_URL must name a PostgreSQL server (run the test through scripts/test.sh)")
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres(admin: &str) -> String {
    use sqlx::Connection;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name =
        format!("influencers_test_{}_{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.ok();
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

fn parse(t: &str) -> chrono::DateTime<chrono::Utc> {
    trendpipe_core::record::parse_time(t).unwrap()
}

/// Writes the posts as `etl-to-sql` stores them: one `authors` row per author (its
/// latest follower count), one `posts` row per post, one `post_trends` row per trend.
pub async fn load(url: &str, posts: &[P]) {
    use trendpipe_core::sql::Sql;
    let sql = Sql::connect(url).await.unwrap();
    let mut authors: Vec<(&str, i64, &str)> = Vec::new();
    for p in posts {
        match authors.iter_mut().find(|a| a.0 == p.author) {
            Some(a) if p.observed.as_str() >= a.2 => *a = (&p.author, p.followers, &p.observed),
            Some(_) => {}
            None => authors.push((&p.author, p.followers, &p.observed)),
        }
    }
    macro_rules! fill {
        ($pool:expr, $time:expr) => {{
            let pool = $pool;
            let mut ids = std::collections::HashMap::new();
            for (author, followers, at) in &authors {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO authors (source, author_id, handle, followers, updated_at) VALUES ('x', $1, $2, $3, $4) RETURNING id",
                )
                .bind(*author)
                .bind(format!("h_{author}"))
                .bind(*followers)
                .bind($time(at))
                .fetch_one(pool)
                .await
                .unwrap();
                ids.insert(author.to_string(), id);
            }
            for p in posts {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO posts (source, post_id, author, text, created_at, observed_at, reposts, likes, replies, \
                     quotes, parent_id, quote_of, repost_of, author_followers) \
                     VALUES ('x', $1, $2, 'text', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     RETURNING id",
                )
                .bind(&p.id)
                .bind(ids[&p.author])
                .bind($time(&p.created))
                .bind($time(&p.observed))
                .bind(p.metrics[0])
                .bind(p.metrics[1])
                .bind(p.metrics[2])
                .bind(p.metrics[3])
                .bind(&p.parent)
                .bind(&p.quote)
                .bind(&p.repost)
                .bind(p.followers)
                .fetch_one(pool)
                .await
                .unwrap();
                for t in &p.trends {
                    sqlx::query("INSERT INTO post_trends (post, trend_key) VALUES ($1, $2)")
                        .bind(id)
                        .bind(t)
                        .execute(pool)
                        .await
                        .unwrap();
                }
            }
        }};
    }
    match &sql {
        Sql::Sqlite(pool) => fill!(pool, |t: &str| parse(t).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)),
        Sql::Postgres(pool) => fill!(pool, |t: &str| parse(t)),
    }
    sql.close().await;
}

/// The rows of `influencer_scores` as records shaped like the NDJSON output, ordered
/// by trend, window and rank.
pub async fn scores(url: &str) -> Vec<Value> {
    use sqlx::Row;
    use trendpipe_core::sql::Sql;
    let sql = Sql::open(url).await.unwrap();
    const Q: &str = "SELECT s.trend_key, s.window_len, s.rank, s.score, s.percentile, s.posts, s.reposts_made, \
        s.reposts, s.likes, s.replies, s.quotes, s.followers, s.h_index, CAST(s.cascade_depth AS BIGINT) AS cascade_depth, \
        s.cascade_size, s.structural_virality, s.pagerank, s.model, s.source, a.author_id \
        FROM influencer_scores s JOIN authors a ON a.id = s.author ORDER BY s.trend_key, s.window_len, s.window_start, s.rank";
    macro_rules! read {
        ($pool:expr, $start:expr) => {{
            let rows = sqlx::query(Q).fetch_all($pool).await.unwrap();
            rows.iter()
                .map(|r| {
                    json!({
                        "trend": r.get::<String, _>("trend_key"), "window_len": r.get::<String, _>("window_len"),
                        "rank": r.get::<i64, _>("rank"), "score": r.get::<f64, _>("score"),
                        "percentile": r.get::<i64, _>("percentile"), "source": r.get::<String, _>("source"),
                        "author": r.get::<String, _>("author_id"), "model": r.get::<String, _>("model"),
                        "components": {
                            "posts": r.get::<i64, _>("posts"), "reposts_made": r.get::<i64, _>("reposts_made"),
                            "reposts": r.get::<i64, _>("reposts"), "likes": r.get::<i64, _>("likes"),
                            "replies": r.get::<i64, _>("replies"), "quotes": r.get::<i64, _>("quotes"),
                            "followers": r.get::<Option<i64>, _>("followers"), "h_index": r.get::<i64, _>("h_index"),
                            "cascade_depth": r.get::<i64, _>("cascade_depth"), "cascade_size": r.get::<i64, _>("cascade_size"),
                            "structural_virality": r.get::<f64, _>("structural_virality"), "pagerank": r.get::<f64, _>("pagerank"),
                        }
                    })
                })
                .collect::<Vec<_>>()
        }};
    }
    let out = match &sql {
        Sql::Sqlite(pool) => read!(pool, ()),
        Sql::Postgres(pool) => read!(pool, ()),
    };
    sql.close().await;
    out
}

/// An NDJSON record in the shape [`scores`] gives.
pub fn as_score(r: &Value) -> Value {
    json!({
        "trend": r["trend"], "window_len": r["window_len"], "rank": r["rank"], "score": r["score"],
        "percentile": r["percentile"], "source": r["source"], "author": r["author"]["id"], "model": r["model"],
        "components": r["components"],
    })
}

/// Compares two lists of score records: floats within `tol`, the rest exactly.
pub fn assert_same(a: &[Value], b: &[Value], tol: f64) {
    assert_eq!(a.len(), b.len(), "row counts differ:\n{a:#?}\n{b:#?}");
    fn same(x: &Value, y: &Value, tol: f64) -> bool {
        match (x, y) {
            (Value::Number(m), Value::Number(n)) if m.is_f64() || n.is_f64() => {
                (m.as_f64().unwrap() - n.as_f64().unwrap()).abs() <= tol
            }
            (Value::Object(m), Value::Object(n)) => {
                m.len() == n.len() && m.iter().all(|(k, v)| n.get(k).is_some_and(|w| same(v, w, tol)))
            }
            _ => x == y,
        }
    }
    for (x, y) in a.iter().zip(b) {
        assert!(same(x, y, tol), "rows differ:\n{x:#}\n{y:#}");
    }
}
