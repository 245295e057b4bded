//! The trend providers. Each turns a provider's payload into trend records and
//! reports a payload of the wrong shape as an error naming the field.

pub mod x;
pub mod x_v1;

use serde_json::Value;

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
