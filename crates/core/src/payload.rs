//! Reading provider payloads: the error a payload of the wrong shape gives, naming the
//! field, and the counts providers send as numbers, numeric strings or null. Shared by
//! the fetchers (`fetch-trends`, `fetch-posts`).

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
        Self::new(field, format!("expected {what}, found {}", crate::ndjson::json_kind(found)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_come_as_numbers_numeric_strings_or_null() {
        assert_eq!(count("n", Some(&json!(12))).unwrap(), Some(12));
        assert_eq!(count("n", Some(&json!(" 12 "))).unwrap(), Some(12));
        assert_eq!(count("n", Some(&Value::Null)).unwrap(), None);
        assert_eq!(count("n", None).unwrap(), None);
        assert!(count("n", Some(&json!(-1))).is_err());
        let err = count("a.b", Some(&json!([1]))).unwrap_err().to_string();
        assert_eq!(err, "a.b: expected a count, found an array");
    }
}
