//! A polite HTTP client: timeouts, bounded retries with exponential backoff on
//! network errors and 5xx, and waits on 429 for as long as the provider asks.
//!
//! The tool runs from cron for months, so it must never hammer a provider: every
//! retry waits, every wait is logged, and a wait longer than `max_wait` gives up on
//! that request instead of overrunning the next scheduled run.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, StatusCode};

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct Policy {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub max_wait: Duration,
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

/// Sends GET requests with the policy's retries.
pub struct Http {
    client: Client,
    policy: Policy,
}

impl Http {
    pub fn new(policy: Policy) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("trendpipe/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// GETs `url` and returns the body of the first successful answer.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Vec<u8>, HttpError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut request = self.client.get(url);
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    if status.is_success() {
                        match response.bytes().await {
                            Ok(body) => return Ok(body.to_vec()),
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
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        if !status.is_server_error() {
                            return Err(HttpError::Failed(format!("{url}: HTTP {}: {detail}", status.as_u16())));
                        }
                        format!("HTTP {}: {detail}", status.as_u16())
                    }
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
            tokio::time::sleep(wait).await;
        }
    }

    /// Exponential backoff: base, 2×base, 4×base… capped by `max_wait`.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.policy.backoff.saturating_mul(factor).min(self.policy.max_wait)
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

/// Network errors in words, without the URL reqwest repeats in its message.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        format!("the body was cut short or unreadable ({})", e.without_url())
    } else {
        format!("{}", e.without_url())
    }
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
