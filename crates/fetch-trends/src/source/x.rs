//! X API v2: `GET /2/trends/by/woeid/{id}`.
//!
//! Answers `{"data":[{"trend_name":"…","tweet_count":123}]}`. `tweet_count` is absent
//! for many trends (and was dropped from the documentation in 2026), so a missing
//! count is `volume: null`, never zero. The API gives no observation time: the fetch
//! time is used. Errors come as `{"errors":[…]}` or a problem document
//! (`title`/`detail`).

use serde_json::{Map, Value};
use trendpipe_core::config::Config;
use trendpipe_core::error::Error;

use super::{Flag, Plan, ShapeError, Source, Target, count, label};
use crate::args::{Args, parse_place};

/// `--source x`.
pub struct X;

impl Source for X {
    fn name(&self) -> &'static str {
        "x"
    }

    fn flags(&self) -> &'static [Flag] {
        &[Flag::Place]
    }

    fn plan(&self, args: &Args, config: &Config) -> anyhow::Result<Plan> {
        if args.places.is_empty() {
            return Err(Error::Usage(
                "--source x needs at least one --place WOEID (23424768 is Brazil, 1 is worldwide)".into(),
            )
            .into());
        }
        let places = args.places.iter().map(|p| parse_place(p)).collect::<anyhow::Result<Vec<_>>>()?;
        let token = config.secret("X_BEARER_TOKEN").ok_or_else(|| {
            Error::Config(
                "--source x needs a bearer token in X_BEARER_TOKEN (or x_bearer_token in the configuration file)"
                    .into(),
            )
        })?;
        let base = config.base_url(args.base_url.as_deref(), "x", "https://api.x.com");
        let targets = places
            .into_iter()
            .map(|place| Target { label: label("x place", &place), url: format!("{base}{}", path(&place.id)), place })
            .collect();
        Ok(Plan { targets, bearer: Some(token), refused: Some("X API refused the bearer token") })
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<super::Item>, ShapeError> {
        // X gives neither an observation time nor fields beyond name and count.
        Ok(parse(body)?
            .into_iter()
            .map(|i| super::Item { name: i.name, volume: i.volume, observed_at: None, extra: Map::new() })
            .collect())
    }
}

/// One trend as X lists it, in rank order.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub volume: Option<i64>,
}

/// The path of the endpoint for a WOEID.
pub fn path(woeid: &str) -> String {
    format!("/2/trends/by/woeid/{woeid}")
}

/// Parses a response body.
pub fn parse(body: &[u8]) -> Result<Vec<Item>, ShapeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ShapeError::new("body", format!("not valid JSON ({e})")))?;
    let Value::Object(top) = &value else {
        return Err(ShapeError::expected("body", "a JSON object", &value));
    };
    let data = match top.get("data") {
        Some(Value::Array(items)) => items,
        Some(other) => return Err(ShapeError::expected("data", "an array", other)),
        None => {
            let why = top
                .get("errors")
                .and_then(|e| e.pointer("/0/message").or_else(|| e.pointer("/0/detail")))
                .or_else(|| top.get("detail"))
                .and_then(Value::as_str)
                .unwrap_or("missing");
            return Err(ShapeError::new("data", why));
        }
    };
    data.iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(obj) = item else {
                return Err(ShapeError::expected(format!("data[{i}]"), "an object", item));
            };
            let name = match obj.get("trend_name") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(Value::String(_)) => return Err(ShapeError::new(format!("data[{i}].trend_name"), "empty")),
                Some(other) => return Err(ShapeError::expected(format!("data[{i}].trend_name"), "a string", other)),
                None => return Err(ShapeError::new(format!("data[{i}].trend_name"), "missing")),
            };
            let volume = count(&format!("data[{i}].tweet_count"), obj.get("tweet_count"))?;
            Ok(Item { name, volume })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape_with_missing_counts() {
        let body = br##"{"data":[{"trend_name":"#BBB26","tweet_count":125000},{"trend_name":"Neymar"},{"trend_name":"Copa","tweet_count":null}]}"##;
        let items = parse(body).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], Item { name: "#BBB26".into(), volume: Some(125000) });
        assert_eq!(items[1].volume, None);
        assert_eq!(items[2].volume, None);
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        assert_eq!(parse(b"[]").unwrap_err().field, "body");
        assert_eq!(parse(br#"{"data":{}}"#).unwrap_err().to_string(), "data: expected an array, found an object");
        let e = parse(br#"{"data":[{"trend_name":5}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "data[0].trend_name: expected a string, found a number");
        let e = parse(br#"{"data":[{"trend_name":"a","tweet_count":"lots"}]}"#).unwrap_err();
        assert_eq!(e.field, "data[0].tweet_count");
        let e = parse(br#"{"data":[{"trend_name":"a","tweet_count":"#).unwrap_err();
        assert!(e.problem.starts_with("not valid JSON"), "{e}");
        let e = parse(br#"{"errors":[{"message":"Invalid woeid"}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "data: Invalid woeid");
    }
}
