//! A polite HTTP client for every fetcher: timeouts, bounded retries with
//! exponential backoff and jitter on network errors and 5xx, and waits on 429 for as
//! long as the provider asks (`Retry-After` and the providers' reset headers).
//!
//! The fetchers run from cron for months, so they must never hammer a provider: every
//! retry waits, every wait is logged with its reason, and a wait longer than
//! `max_wait` gives up on that request instead of overrunning the next scheduled run.
//! URLs are logged through the redactor, so a token in a query string stays hidden.
//!
//! Faults are bounded rather than trusted: `--timeout` is a total deadline per attempt,
//! from connecting to the last byte of the body, so a provider that sends a byte a
//! second forever costs one timeout per attempt; redirects stop after
//! [`MAX_REDIRECTS`] and a loop is not retried; a success answered as an HTML page (a
//! proxy's or a maintenance page) is refused with its URL instead of being parsed.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, StatusCode};

/// The retry and timeout flags of every fetcher, flattened into its `Args`.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Seconds an attempt may take in all, from connecting to the last byte of the
    /// body; a slower attempt is abandoned (and retried like a network error).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,

    /// Retries of a request after a network error, a 5xx or a 429.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// The first wait before a retry, doubled at each further retry (with up to 25%
    /// random jitter, so that cron jobs started together do not retry together).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub backoff_ms: u64,

    /// The longest wait accepted, in seconds, whether from backoff or from a 429's
    /// rate-limit headers; a provider asking for more fails that request.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub max_wait: u64,
}

impl HttpArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> Policy {
        Policy {
            timeout: Duration::from_secs(self.timeout.max(1)),
            retries: self.retries,
            backoff: Duration::from_millis(self.backoff_ms),
            max_wait: Duration::from_secs(self.max_wait),
        }
    }
}

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct Policy {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub max_wait: Duration,
}

/// A successful answer: its body and headers (paging links, rate-limit counters).
#[derive(Debug, Clone)]
pub struct Response {
    pub body: Vec<u8>,
    pub headers: HeaderMap,
}

impl Response {
    /// The URL of the `Link` header's `rel="next"` entry (RFC 8288), as Mastodon
    /// pages its timelines.
    pub fn next_link(&self) -> Option<String> {
        self.headers.get_all(reqwest::header::LINK).iter().filter_map(|v| v.to_str().ok()).find_map(next_link)
    }
}

/// Finds the `rel="next"` target in a `Link` header value.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=").is_some_and(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
        });
        is_next.then(|| target.to_owned())
    })
}

/// Redirects followed before a request is given up as a redirect loop.
pub const MAX_REDIRECTS: usize = 10;

/// What a successful GET must carry: a 200 that is an HTML page instead (a proxy's
/// error page, a login wall, a maintenance notice) fails the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// JSON: a body opening with `<` is refused, whatever its declared type.
    Json,
    /// XML such as RSS: an `<html>` document is refused, whatever its declared type.
    Xml,
}

/// Why a request failed for good.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The provider refused the credentials (401/403): no retry can help.
    #[error("{url}: HTTP {status}: {detail}")]
    Auth { url: String, status: u16, detail: String },
    /// Any other final failure.
    #[error("{0}")]
    Failed(String),
}

/// Sends GET requests with the policy's retries, and counts the waits.
pub struct Http {
    client: Client,
    policy: Policy,
    expect: Expect,
    waits: AtomicU64,
}

impl Http {
    pub fn new(policy: Policy) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!("trendpipe/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy, expect: Expect::Json, waits: AtomicU64::new(0) })
    }

    /// The same client expecting `expect` in the answers to its GETs (JSON by default).
    pub fn expecting(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    /// How many times this client waited before retrying (backoff and 429 waits).
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// GETs `url` and returns the body of the first successful answer.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Vec<u8>, HttpError> {
        self.get_response(url, bearer).await.map(|r| r.body)
    }

    /// GETs `url` and returns the first successful answer, headers included.
    pub async fn get_response(&self, url: &str, bearer: Option<&str>) -> Result<Response, HttpError> {
        self.send(url, bearer, None).await
    }

    /// POSTs `body` as JSON to `url` (a webhook) with the same retries and waits.
    pub async fn post_json(&self, url: &str, body: &serde_json::Value) -> Result<Response, HttpError> {
        self.send(url, None, Some(body)).await
    }

    async fn send(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: Option<&serde_json::Value>,
    ) -> Result<Response, HttpError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut request = match json {
                Some(body) => self.client.post(url).json(body),
                None => self.client.get(url),
            };
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    if status.is_success() {
                        match response.bytes().await {
                            Ok(body) => {
                                // A webhook may answer anything; only a GET's body is read.
                                if json.is_none() {
                                    if let Some(why) = html_instead(&headers, &body, self.expect) {
                                        return Err(HttpError::Failed(format!("{url}: {why}")));
                                    }
                                }
                                return Ok(Response { body: body.to_vec(), headers });
                            }
                            Err(e) => format!("reading the body: {}", describe(e)),
                        }
                    } else {
                        let body = response.text().await.unwrap_or_default();
                        let detail = summarize_body(&body);
                        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                            return Err(HttpError::Auth { url: url.to_owned(), status: status.as_u16(), detail });
                        }
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            let wait =
                                rate_limit_wait(&headers, Utc::now()).unwrap_or_else(|| self.backoff_for(attempt));
                            if wait > self.policy.max_wait {
                                return Err(HttpError::Failed(format!(
                                    "{url}: rate limited (HTTP 429); the provider asks to wait {}s, more than --max-wait {}s",
                                    wait.as_secs(),
                                    self.policy.max_wait.as_secs()
                                )));
                            }
                            if attempt > self.policy.retries {
                                return Err(HttpError::Failed(format!(
                                    "{url}: still rate limited (HTTP 429) after {} attempts",
                                    attempt
                                )));
                            }
                            log::warn!(
                                "{url}: rate limited (HTTP 429), waiting {:.1}s as the provider asks",
                                wait.as_secs_f64()
                            );
                            self.waits.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        if !status.is_server_error() {
                            return Err(HttpError::Failed(format!("{url}: HTTP {}: {detail}", status.as_u16())));
                        }
                        format!("HTTP {}: {detail}", status.as_u16())
                    }
                }
                // A redirect loop answers the same way every time: retrying only repeats it.
                Err(e) if e.is_redirect() => {
                    return Err(HttpError::Failed(format!(
                        "{url}: more than {MAX_REDIRECTS} redirects (a redirect loop), given up: {}",
                        e.without_url()
                    )));
                }
                Err(e) => describe(e),
            };
            if attempt > self.policy.retries {
                return Err(HttpError::Failed(format!("{url}: {failure} (gave up after {attempt} attempts)")));
            }
            let wait = self.backoff_for(attempt);
            log::warn!(
                "{url}: {failure}; retrying in {:.1}s (attempt {} of {})",
                wait.as_secs_f64(),
                attempt + 1,
                self.policy.retries + 1
            );
            self.waits.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// Exponential backoff: base, 2×base, 4×base… plus up to 25% random jitter,
    /// capped by `max_wait`.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        let base = self.policy.backoff.saturating_mul(factor);
        // RandomState is seeded per process: enough spread for jitter, no dependency.
        let draw = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let jitter = base.mul_f64((draw % 1000) as f64 / 4000.0);
        (base + jitter).min(self.policy.max_wait)
    }
}

/// How long a 429 answer asks us to wait, from the first header present of:
/// - `Retry-After` (seconds or an HTTP date; the standard one);
/// - X's `x-rate-limit-reset` (epoch seconds when the window reopens);
/// - Mastodon's `x-ratelimit-reset` (an ISO 8601 time, `2026-11-22T01:35:00.123Z`);
/// - `ratelimit-reset`, which Bluesky sends as epoch seconds while the IETF draft it
///   comes from means seconds to wait: a value too large to be a delay is read as a time.
pub fn rate_limit_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = text(RETRY_AFTER.as_str()) {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(value) {
            return Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default());
        }
    }
    let until = |at: DateTime<Utc>| {
        // A reset already past (clock skew) still deserves a short pause, not zero.
        (at - now).to_std().unwrap_or(Duration::from_secs(1)).max(Duration::from_secs(1))
    };
    if let Some(at) = text("x-rate-limit-reset").and_then(|v| v.parse::<i64>().ok()) {
        return DateTime::<Utc>::from_timestamp(at, 0).map(until);
    }
    if let Some(value) = text("x-ratelimit-reset") {
        if let Ok(at) = DateTime::parse_from_rfc3339(value) {
            return Some(until(at.with_timezone(&Utc)));
        }
        if let Ok(at) = value.parse::<i64>() {
            return DateTime::<Utc>::from_timestamp(at, 0).map(until);
        }
    }
    let value = text("ratelimit-reset")?.parse::<i64>().ok()?;
    // Epoch seconds are past 10⁹ since 2001; no provider asks for a 30-year delay.
    if value >= 1_000_000_000 {
        DateTime::<Utc>::from_timestamp(value, 0).map(until)
    } else {
        Some(Duration::from_secs(value.max(0).unsigned_abs()))
    }
}

/// Why a successful answer is an HTML page rather than the expected format, if it is.
fn html_instead(headers: &HeaderMap, body: &[u8], expect: Expect) -> Option<String> {
    let kind = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &body[i..]);
    let opening: String = String::from_utf8_lossy(&start[..start.len().min(64)]).to_ascii_lowercase();
    let document = opening.starts_with("<!doctype html") || opening.starts_with("<html");
    // Decided by the body, not the declared type: servers and proxies mislabel
    // answers (JSON sent as `text/html`, RSS as `text/html`) far more often than
    // they send a page that parses as the expected data.
    let refused = match expect {
        // No JSON document opens with `<`: whatever it is, it is no answer to parse.
        Expect::Json => start.first() == Some(&b'<'),
        Expect::Xml => document,
    };
    if !refused {
        return None;
    }
    let wanted = match expect {
        Expect::Json => "JSON",
        Expect::Xml => "XML",
    };
    let shown = if kind.is_empty() { "no content type".to_owned() } else { kind.to_owned() };
    Some(format!("provider answered HTML, not {wanted} ({shown}): {}", html_title(start)))
}

/// The `<title>` of an HTML page, else the start of its text, to say which page it is.
fn html_title(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let lower = text.to_ascii_lowercase();
    let title = lower
        .find("<title")
        .and_then(|open| lower[open..].find('>').map(|end| open + end + 1))
        .and_then(|from| lower[from..].find("</title").map(|len| text[from..from + len].trim().to_owned()))
        .filter(|t| !t.is_empty());
    title.unwrap_or_else(|| text.chars().take(120).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Network errors in words, without the URL reqwest repeats in its message, with the
/// innermost cause (a reset, an early close) that reqwest's own message leaves out.
fn describe(e: reqwest::Error) -> String {
    let cause = {
        let mut inner: &dyn std::error::Error = &e;
        while let Some(next) = inner.source() {
            inner = next;
        }
        inner.to_string()
    };
    let what = if e.is_timeout() {
        return "timed out".to_owned();
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        format!("the body was cut short or unreadable ({})", e.without_url())
    } else {
        format!("{}", e.without_url())
    };
    if what.contains(&cause) { what } else { format!("{what}: {cause}") }
}

/// The useful part of an error body: X's `detail`/`title`/`errors[].message`,
/// Mastodon's `error`, Bluesky's `error: message`, else the start of the text.
fn summarize_body(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        // Bluesky's XRPC errors name the kind in `error` and explain in `message`.
        if let (Some(kind), Some(message)) =
            (v.get("error").and_then(|s| s.as_str()), v.get("message").and_then(|s| s.as_str()))
        {
            return format!("{kind}: {message}");
        }
        for field in ["detail", "title", "error_description", "error", "message"] {
            if let Some(s) = v.get(field).and_then(|s| s.as_str()) {
                return s.to_owned();
            }
        }
        if let Some(s) = v.pointer("/errors/0/message").and_then(|s| s.as_str()) {
            return s.to_owned();
        }
    }
    let text: String = body.chars().take(200).collect();
    if text.trim().is_empty() { "(empty body)".to_owned() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T01:30:00Z").unwrap().with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 22 Nov 2026 01:30:30 GMT"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn x_rate_limit_reset_is_epoch_seconds() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1800000042"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(42)));
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1799999000"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(1)));
        assert_eq!(rate_limit_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn mastodon_and_bluesky_reset_headers() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut h = HeaderMap::new();
        // 1_800_000_000 is 2027-01-15T08:00:00Z.
        h.insert("x-ratelimit-reset", HeaderValue::from_static("2027-01-15T08:00:20.019685Z"));
        assert_eq!(rate_limit_wait(&h, now).map(|d| d.as_micros()), Some(20_019_685));
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", HeaderValue::from_static("1800000009"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(9)));
        h.insert("ratelimit-reset", HeaderValue::from_static("12"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(12)));
        // Retry-After wins over the others.
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(3)));
    }

    #[test]
    fn link_header_next_is_found() {
        let h = r#"<https://m.example/api/v1/timelines/tag/x?max_id=110>; rel="next", <https://m.example/api/v1/timelines/tag/x?min_id=120>; rel="prev""#;
        assert_eq!(next_link(h).as_deref(), Some("https://m.example/api/v1/timelines/tag/x?max_id=110"));
        assert_eq!(next_link(r#"<https://a/b>; rel="prev""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let http = Http::new(Policy {
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_millis(1000),
            max_wait: Duration::from_secs(60),
        })
        .unwrap();
        for attempt in 1..=4u32 {
            let base = Duration::from_millis(1000 * 2u64.pow(attempt - 1));
            let wait = http.backoff_for(attempt);
            assert!(wait >= base && wait <= base.mul_f64(1.25), "attempt {attempt}: {wait:?}");
        }
        assert_eq!(http.backoff_for(20), Duration::from_secs(60));
    }

    #[test]
    fn html_pages_are_told_from_json_and_rss() {
        let html = |kind: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static(kind));
            h
        };
        let page = b"\n<!DOCTYPE html><html><head><title> Service Unavailable </title></head><body>later</body></html>";
        let why = html_instead(&html("text/html; charset=utf-8"), page, Expect::Json).unwrap();
        assert_eq!(why, "provider answered HTML, not JSON (text/html; charset=utf-8): Service Unavailable");
        // A JSON content type does not make a page JSON.
        let why = html_instead(&html("application/json"), b"<h1>502 Bad Gateway</h1>", Expect::Json).unwrap();
        assert!(why.starts_with("provider answered HTML, not JSON (application/json): <h1>502"), "{why}");
        assert_eq!(html_instead(&html("application/json"), br#"{"a":1}"#, Expect::Json), None);
        // RSS opens with `<` and is welcome where XML is expected; an HTML page is not.
        let rss = br#"<?xml version="1.0"?><rss version="2.0"></rss>"#;
        assert_eq!(html_instead(&html("application/rss+xml"), rss, Expect::Xml), None);
        assert!(html_instead(&HeaderMap::new(), page, Expect::Xml).unwrap().contains("not XML (no content type)"));
        // A mislabelled answer is judged by its body.
        assert_eq!(html_instead(&html("text/html"), rss, Expect::Xml), None);
        assert_eq!(html_instead(&html("text/html"), br#"{"a":1}"#, Expect::Json), None);
    }

    #[test]
    fn error_bodies_are_summarized() {
        assert_eq!(summarize_body(r#"{"title":"Unauthorized","detail":"Unauthorized","status":401}"#), "Unauthorized");
        assert_eq!(summarize_body(r#"{"errors":[{"message":"Invalid woeid"}]}"#), "Invalid woeid");
        assert_eq!(summarize_body(""), "(empty body)");
        assert_eq!(
            summarize_body(r#"{"error":"This API requires an authenticated user"}"#),
            "This API requires an authenticated user"
        );
        assert_eq!(
            summarize_body(r#"{"error":"ExpiredToken","message":"Token has expired"}"#),
            "ExpiredToken: Token has expired"
        );
    }
}
