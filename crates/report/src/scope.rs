//! What a report covers: the window, the time zone, the filters and the top-N size,
//! resolved once from the flags (or a served page's query parameters).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use trendpipe_core::record::format_time;

/// The resolved scope of one report.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    #[serde(serialize_with = "ser_time")]
    pub since: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub until: DateTime<Utc>,
    #[serde(serialize_with = "ser_tz")]
    pub tz: Tz,
    pub place: Option<String>,
    pub source: Option<String>,
    /// A trend key (normalised as `etl-to-sql` stores it).
    pub trend: Option<String>,
    pub top: i64,
}

pub fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Scope {
    /// The window `[since, until)`: `until` defaults to just after `latest` (the newest
    /// observation, so that a report on an archive shows its data) or now, `since` to
    /// `hours` before `until`.
    pub fn window(
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        hours: i64,
        latest: Option<DateTime<Utc>>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let until = until.unwrap_or_else(|| latest.map(|t| t + Duration::seconds(1)).unwrap_or_else(Utc::now));
        let since = since.unwrap_or(until - Duration::hours(hours));
        (since, until)
    }

    /// `2026-11-22 01:30 → 2026-11-23 01:30 America/Sao_Paulo`.
    pub fn describe(&self) -> String {
        format!("{} → {} {}", self.local(&self.since), self.local(&self.until), self.tz.name())
    }

    /// A time in the report's zone, `2026-11-22 01:30`.
    pub fn local(&self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    /// The filters as a sentence for "no data for …" lines.
    pub fn filters(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.place {
            parts.push(format!("place {p}"));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source {s}"));
        }
        if let Some(t) = &self.trend {
            parts.push(format!("trend {t}"));
        }
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
    }
}

/// Parses `--tz`: an IANA zone name.
pub fn parse_tz(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>().map_err(|_| format!("{s:?}: expected an IANA time zone like America/Sao_Paulo or UTC"))
}
