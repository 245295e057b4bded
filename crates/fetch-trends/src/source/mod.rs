//! The trend providers. Each turns a provider's payload into trend records and
//! reports a payload of the wrong shape as an error naming the field.

pub mod bluesky;
pub mod google;
pub mod mastodon;
pub mod x;
pub mod x_v1;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// One trend as a provider lists it, in rank order, for the sources that share the
/// fetch loop (`mastodon`, `google`, `bluesky`).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub volume: Option<i64>,
    /// The provider's own time for the observation; `None` means the fetch time.
    pub observed_at: Option<DateTime<Utc>>,
    /// What the provider says beyond name and volume, kept for later stages.
    pub extra: Map<String, Value>,
}

/// Reads one answer of a provider into its trends.
pub type Parser = dyn Fn(&[u8]) -> Result<Vec<Item>, ShapeError>;

/// A payload that is not what the provider documents.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ShapeError {
    pub field: String,
    pub problem: String,
}

impl ShapeError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }

    /// "expected X, found Y" for a value of the wrong type.
    pub fn expected(field: impl Into<String>, what: &str, found: &Value) -> Self {
        Self::new(field, format!("expected {what}, found {}", trendpipe_core::ndjson::json_kind(found)))
    }
}

/// Reads a count that providers send as a number, a numeric string or null.
pub fn count(field: &str, value: Option<&Value>) -> Result<Option<i64>, ShapeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if i >= 0 => Ok(Some(i)),
            _ => Err(ShapeError::new(field, format!("expected a count, found {n}"))),
        },
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| *i >= 0)
            .map(Some)
            .ok_or_else(|| ShapeError::new(field, format!("expected a count, found {s:?}"))),
        Some(other) => Err(ShapeError::expected(field, "a count", other)),
    }
}
