//! Delivering new alerts to a webhook, once each.
//!
//! Each alert is POSTed as its record plus a Slack-compatible `text` line, through the
//! shared HTTP client with a short timeout and few retries: a run from cron must not
//! hang on a chat service. The first alert that cannot be delivered stops the
//! deliveries of the run; it and the rest stay pending and go with the next run.
//! Delivered alerts are remembered (`notified_at` in SQL, the `--state` file with
//! stdin), so none is sent twice. The URL may hold a secret (Slack's does): it is
//! registered for redaction and never printed.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use trendpipe_core::http::{Http, Policy};
use trendpipe_core::record::format_time;
use trendpipe_core::redact::register_secret_url;

use crate::output::Alert;

/// A webhook and the client that calls it.
pub struct Webhook {
    url: String,
    http: Http,
}

impl Webhook {
    /// A webhook at `url` with a `timeout` per attempt and `retries` retries.
    pub fn new(url: &str, timeout: Duration, retries: u32) -> anyhow::Result<Self> {
        register_secret_url(url);
        let policy = Policy {
            timeout,
            retries,
            backoff: Duration::from_millis(500),
            // A 429 asking for longer than this fails the delivery; it is retried next run.
            max_wait: Duration::from_secs(10),
        };
        Ok(Self { url: url.to_owned(), http: Http::new(policy)? })
    }

    /// POSTs one alert; the error says why it was not delivered.
    pub async fn send(&self, alert: &Alert) -> anyhow::Result<()> {
        let mut body = serde_json::to_value(alert)?;
        if let Some(map) = body.as_object_mut() {
            map.insert("text".into(), serde_json::Value::String(alert.text()));
        }
        self.http.post_json(&self.url, &body).await.map(|_| ()).map_err(|e| anyhow::anyhow!("webhook: {e}"))
    }
}

/// The identity of an alert, as its unique key in the `alerts` table.
pub fn key(a: &Alert) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        a.metric.as_str(),
        a.trend,
        a.source.as_deref().unwrap_or_default(),
        a.place.as_deref().unwrap_or_default(),
        format_time(&a.at)
    )
}

/// The state file of stdin mode: the keys of the alerts already delivered, one per line.
pub struct State {
    path: std::path::PathBuf,
    sent: BTreeSet<String>,
}

impl State {
    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let mut sent = BTreeSet::new();
        match std::fs::File::open(path) {
            Ok(f) => {
                for line in std::io::BufReader::new(f).lines() {
                    let line = line.with_context(|| format!("reading the state file {}", path.display()))?;
                    if !line.trim().is_empty() {
                        sent.insert(line);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading the state file {}", path.display())),
        }
        Ok(Self { path: path.to_owned(), sent })
    }

    pub fn contains(&self, a: &Alert) -> bool {
        self.sent.contains(&key(a))
    }

    /// Remembers a delivered alert, on disk at once so that a crash cannot resend it.
    pub fn remember(&mut self, a: &Alert) -> anyhow::Result<()> {
        let k = key(a);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("writing the state file {}", self.path.display()))?;
        writeln!(f, "{k}").with_context(|| format!("writing the state file {}", self.path.display()))?;
        self.sent.insert(k);
        Ok(())
    }
}
