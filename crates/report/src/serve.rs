//! `report serve`: the report live over HTTP, read-only on the database.
//!
//! Routes: `/` the report (the last 24 hours ending at the latest observation by
//! default; `since`, `until`, `hours`, `place`, `source`, `trend`, `tz`, `top` as query
//! parameters), `/trend/{key}` one trend's page, `/api/report` and `/api/trend/{key}`
//! the same data as JSON, `/healthz` (200 `ok` when the database answers and the data
//! is fresh, else 503), `/health` and `/api/health` the health view. `/` ends with the
//! health section, from a copy read again every minute.
//!
//! Connections are opened read-only (SQLite `mode=ro`, PostgreSQL
//! `default_transaction_read_only`), so categories are computed in memory and not
//! stored. Every page carries a strict Content-Security-Policy whose nonce admits
//! the page's own style and script only.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use trendpipe_core::error::{Error, Status};
use trendpipe_core::redact::redact;
use trendpipe_core::sql::Sql;

use crate::categories::Rules;
use crate::health::Health;
use crate::render::html::{self, Served};
use crate::report::{self, Report, Section};
use crate::scope::{Scope, parse_tz};
use crate::{Options, ServeArgs};

struct App {
    sql: Sql,
    rules: Rules,
    defaults: Options,
    stale_after: chrono::Duration,
    /// The health section of `/`, read again every [`HEALTH_EVERY`] by a task of its
    /// own: a page then costs no read of the run ledger, and a database not yet
    /// migrated to `observation_freshness` (scanned instead) no pass per page.
    health: tokio::sync::RwLock<Option<Health>>,
}

/// How often the health section of `/` is read again.
const HEALTH_EVERY: Duration = Duration::from_secs(60);

/// The query parameters of `/` and `/trend/{key}`; all optional.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    since: Option<String>,
    until: Option<String>,
    hours: Option<String>,
    place: Option<String>,
    source: Option<String>,
    trend: Option<String>,
    tz: Option<String>,
    top: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<Status> {
    let o = &args.options;
    o.window.check()?;
    let rules = Rules::load(o.categories.as_deref()).map_err(|e| Error::Usage(format!("{e:#}")))?;
    let config = o.config.load()?;
    let url = o.db.url(&config)?;
    let sql = open_read_only(&url)?;
    let health = tokio::sync::RwLock::new(None);
    let app = Arc::new(App { sql: sql.clone(), rules, defaults: o.clone(), stale_after: o.stale_after, health });
    let refresher = tokio::spawn({
        let app = app.clone();
        async move {
            loop {
                refresh_health(&app).await;
                tokio::time::sleep(HEALTH_EVERY).await;
            }
        }
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/trend/{key}", get(trend_page))
        .route("/api/report", get(api_report))
        .route("/api/trend/{key}", get(api_trend))
        .route("/healthz", get(healthz))
        .route("/health", get(health_page))
        .route("/api/health", get(api_health))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    log::info!("serving {} on http://{}/", redact(&url), listener.local_addr().context("reading the address")?);
    trendpipe_core::shutdown::ends_normally_on_signal();
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown()).await.context("serving HTTP");
    refresher.abort();
    served?;
    sql.close().await;
    log::info!("stopped");
    Ok(Status::ok())
}

/// A lazily connected, read-only pool: the server starts (and says so in its
/// pages) when the database is not reachable yet.
fn open_read_only(url: &str) -> anyhow::Result<Sql> {
    let shown = redact(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Usage(format!("database URL {shown}: {}", redact(&e.to_string()))))?
            .options([("default_transaction_read_only", "on")]);
        let pool =
            PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(5)).connect_lazy_with(options);
        return Ok(Sql::Postgres(pool));
    }
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))
        .map_err(|e| Error::Usage(format!("database URL {shown}: {e}")))?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(5));
    let pool =
        SqlitePoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(5)).connect_lazy_with(options);
    Ok(Sql::Sqlite(pool))
}

/// Resolves on SIGTERM or SIGINT, caught by the shared listener: the end of serving,
/// not an interruption.
async fn shutdown() {
    trendpipe_core::shutdown::wait().await;
    log::info!("shutting down");
}

/// Why a page could not be made: the request's fault or the database's.
enum Failure {
    BadRequest(String),
    Database(String),
}

impl Params {
    fn query_string(&self) -> String {
        let pairs = [
            ("since", &self.since),
            ("until", &self.until),
            ("hours", &self.hours),
            ("place", &self.place),
            ("source", &self.source),
            ("tz", &self.tz),
            ("top", &self.top),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref().filter(|v| !v.is_empty()).map(|v| {
                    format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC))
                })
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn scope(app: &App, p: &Params, trend: Option<&str>) -> Result<Scope, Failure> {
    let d = &app.defaults;
    let time = |v: &Option<String>, name: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, Failure> {
        nonempty(v)
            .map(|s| trendpipe_core::args::time_arg(s).map_err(|e| Failure::BadRequest(format!("{name}: {e}"))))
            .transpose()
    };
    let since = time(&p.since, "since")?.or(d.window.since);
    let until = time(&p.until, "until")?.or(d.window.until);
    let int = |v: &Option<String>, name: &str, max: i64, default: i64| -> Result<i64, Failure> {
        match nonempty(v) {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Failure::BadRequest(format!("{name}: expected a whole number from 1 to {max}"))),
        }
    };
    let hours = int(&p.hours, "hours", 24 * 366, d.hours)?;
    let top = int(&p.top, "top", 100, d.top)?;
    let tz = match nonempty(&p.tz) {
        Some(s) => parse_tz(s).map_err(Failure::BadRequest)?,
        None => d.tz,
    };
    let latest =
        if until.is_none() { crate::query::top::latest_observation(&app.sql).await.map_err(db_failure)? } else { None };
    let (since, until) = Scope::window(since, until, hours, latest);
    if since >= until {
        return Err(Failure::BadRequest("since must be before until".into()));
    }
    let trend = trend
        .map(str::to_owned)
        .or_else(|| nonempty(&p.trend).map(trendpipe_core::key::trend_key))
        .or_else(|| d.trend.as_deref().map(trendpipe_core::key::trend_key));
    Ok(Scope {
        since,
        until,
        tz,
        place: nonempty(&p.place).map(str::to_owned).or_else(|| d.place.clone()),
        source: nonempty(&p.source).map(str::to_owned).or_else(|| d.source.clone()),
        trend,
        top,
    })
}

fn db_failure(e: impl std::fmt::Display) -> Failure {
    Failure::Database(redact(&e.to_string()))
}

const TREND_SECTIONS: [Section; 6] =
    [Section::Top, Section::Evolution, Section::Sentiment, Section::Words, Section::Influencers, Section::Alerts];

async fn build(app: &App, p: &Params, trend: Option<&str>) -> Result<Report, Failure> {
    let scope = scope(app, p, trend).await?;
    let sections: &[Section] = if trend.is_some() { &TREND_SECTIONS } else { &Section::ALL };
    report::build(&app.sql, &scope, sections, &app.rules, false).await.map_err(|e| db_failure(format!("{e:#}")))
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn html_response(status: StatusCode, body: String, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// A plain page for a failure, escaped like every page.
fn failure_page(f: Failure) -> Response {
    #[derive(askama::Template)]
    #[template(
        source = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{{ title }}</title><style nonce=\"{{ nonce }}\">body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem}@media (prefers-color-scheme: dark){html{background:#14181f;color:#e4e8ef}}</style></head><body><h1>{{ title }}</h1><p id=\"problem\">{{ message }}</p><p><a href=\"/\">Back to the report</a></p></body></html>",
        ext = "html"
    )]
    struct FailurePage {
        title: &'static str,
        message: String,
        nonce: String,
    }
    let n = nonce();
    let (status, title, message) = match f {
        Failure::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
        Failure::Database(m) => {
            log::warn!("database: {m}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database cannot be read",
                format!(
                    "The report could not read its database: {m}. Check that it is running and that etl-to-sql has loaded it."
                ),
            )
        }
    };
    let body = askama::Template::render(&FailurePage { title, message, nonce: n.clone() })
        .unwrap_or_else(|_| title.to_owned());
    html_response(status, body, &n)
}

fn served(p: &Params) -> Served {
    let v = |x: &Option<String>| x.clone().unwrap_or_default();
    Served {
        nonce: nonce(),
        query: p.query_string(),
        form: vec![
            ("since", "Since", v(&p.since)),
            ("until", "Until", v(&p.until)),
            ("hours", "Hours", v(&p.hours)),
            ("place", "Place", v(&p.place)),
            ("source", "Source", v(&p.source)),
            ("tz", "Time zone", v(&p.tz)),
        ],
    }
}

/// Reads the health view into the app's copy; `None` (with a warning) when the
/// database does not answer.
async fn refresh_health(app: &App) -> Option<Health> {
    match crate::health::read(&app.sql, chrono::Utc::now(), app.stale_after).await {
        Ok(h) => {
            *app.health.write().await = Some(h.clone());
            Some(h)
        }
        Err(e) => {
            log::warn!("health: {}", redact(&format!("{e:#}")));
            None
        }
    }
}

async fn page(app: &App, p: Params, trend: Option<&str>) -> Response {
    match build(app, &p, trend).await {
        Ok(mut report) => {
            if trend.is_none() {
                let copy = app.health.read().await.clone();
                report.health = match copy {
                    Some(h) => Some(h),
                    None => refresh_health(app).await,
                };
            }
            let s = served(&p);
            match html::page(&report, Some(&s)) {
                Ok(body) => html_response(StatusCode::OK, body, &s.nonce),
                Err(e) => failure_page(Failure::Database(format!("{e:#}"))),
            }
        }
        Err(f) => failure_page(f),
    }
}

async fn index(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Response {
    page(&app, p, None).await
}

async fn trend_page(State(app): State<Arc<App>>, Path(key): Path<String>, Query(p): Query<Params>) -> Response {
    page(&app, p, Some(&key)).await
}

async fn json(app: &App, p: Params, trend: Option<&str>) -> Response {
    match build(app, &p, trend).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(Failure::BadRequest(m)) => {
            (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": m}))).into_response()
        }
        Err(Failure::Database(m)) => {
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"error": m}))).into_response()
        }
    }
}

async fn api_report(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Response {
    json(&app, p, None).await
}

async fn api_trend(State(app): State<Arc<App>>, Path(key): Path<String>, Query(p): Query<Params>) -> Response {
    json(&app, p, Some(&key)).await
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    #[derive(sqlx::FromRow)]
    struct One {
        one: i64,
    }
    match crate::query::fetch::<One>(&app.sql, "SELECT CAST(1 AS BIGINT) AS one", &[]).await {
        Ok(rows) if rows.first().is_some_and(|r| r.one == 1) => {}
        Ok(_) => return (StatusCode::SERVICE_UNAVAILABLE, "database gave no answer\n").into_response(),
        Err(e) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("database: {}\n", redact(&e.to_string())))
                .into_response();
        }
    }
    match crate::health::read(&app.sql, chrono::Utc::now(), app.stale_after).await {
        Ok(h) if !h.stale => (StatusCode::OK, "ok\n").into_response(),
        Ok(h) => {
            let mut why: Vec<String> = h
                .freshness
                .iter()
                .filter(|f| f.stale)
                .map(|f| format!("{} {}: newest observation {} ago", f.source, f.place, crate::health::age(f.age_s)))
                .collect();
            if h.freshness.is_empty() {
                why.push("no observation in the database".into());
            }
            (StatusCode::SERVICE_UNAVAILABLE, format!("stale: {}\n", why.join("; "))).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("health: {}\n", redact(&format!("{e:#}")))).into_response(),
    }
}

/// `/health`: the health view as text (plain text: nothing to escape, nothing to run).
async fn health_page(State(app): State<Arc<App>>) -> Response {
    match crate::health::read(&app.sql, chrono::Utc::now(), app.stale_after).await {
        Ok(h) => {
            let code = if h.stale { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
            (code, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], crate::health::text(&h)).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("health: {}\n", redact(&format!("{e:#}")))).into_response(),
    }
}

/// `/api/health`: the health view as JSON.
async fn api_health(State(app): State<Arc<App>>) -> Response {
    match crate::health::read(&app.sql, chrono::Utc::now(), app.stale_after).await {
        Ok(h) => {
            let code = if h.stale { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
            (code, axum::Json(h)).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("health: {}\n", redact(&format!("{e:#}")))).into_response(),
    }
}
