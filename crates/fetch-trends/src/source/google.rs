//! Google Trends: the trending-searches RSS feed of a country (no auth).
//!
//! Two feeds exist: the current `/trending/rss?geo=BR` and the older
//! `/trends/trendingsearches/daily/rss?geo=BR`. Both are RSS 2.0 whose items carry
//! Google's extensions under an `ht:` prefix bound to a namespace that changed with the
//! feed (`https://trends.google.com/trending/rss`, then
//! `https://trends.google.com/trends/trendingsearches/daily`): elements are matched by
//! local name in any namespace under `https://trends.google.com/`, so either feed
//! parses whatever path served it.
//!
//! Items come in the feed's order, which is the rank; the older feed lists the last
//! few days, each item with its own `pubDate`.
//!
//! `ht:approx_traffic` is a rounded lower bound such as `20,000+`: `volume` is the
//! number (20000) and `volume_is_lower_bound` keeps the `+`, the raw text stays in
//! `approx_traffic`. `pubDate` (RFC 2822) is the observation time; an item without one
//! gets the fetch time. The `ht:news_item`s go into a `news` array (title, url,
//! source, snippet, picture, each when present), as the feed gives them: the older
//! feed's titles and snippets hold HTML markup and entities, kept for later stages.

use chrono::{DateTime, Utc};
use roxmltree::{Document, Node};
use serde_json::{Map, Value};

use trendpipe_core::config::Config;
use trendpipe_core::error::Error;
use trendpipe_core::http::Expect;

use super::{Flag, Item, Plan, ShapeError, Source, Target, label};
use crate::args::{Args, GoogleFeed, parse_place};

/// `--source google`: each `--place` is a country code.
pub struct Google;

impl Source for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn flags(&self) -> &'static [Flag] {
        &[Flag::Place, Flag::GoogleFeed]
    }

    fn plan(&self, args: &Args, config: &Config) -> anyhow::Result<Plan> {
        if args.places.is_empty() {
            return Err(Error::Usage("--source google needs at least one --place COUNTRY (BR, US, …)".into()).into());
        }
        let feed = match args.google_feed {
            GoogleFeed::Trending => Feed::Trending,
            GoogleFeed::Daily => Feed::Daily,
        };
        let base = config.base_url(args.base_url.as_deref(), "google", "https://trends.google.com");
        let mut targets = Vec::new();
        for text in &args.places {
            let mut place = parse_place(text)?;
            // Google's geo codes are upper case; `br` and `BR` are one place.
            place.id = place.id.to_ascii_uppercase();
            let url = format!("{base}{}", path(feed, &place.id));
            targets.push(Target { label: label("google place", &place), place, url });
        }
        Ok(Plan { targets, bearer: None, refused: None })
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Item>, ShapeError> {
        parse(body)
    }

    fn expect(&self) -> Expect {
        Expect::Xml
    }
}

/// Which of Google's two feeds to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `/trending/rss` (since 2024).
    Trending,
    /// `/trends/trendingsearches/daily/rss` (the older daily feed).
    Daily,
}

/// The path and query of a country's feed.
pub fn path(feed: Feed, geo: &str) -> String {
    let geo = percent_encoding::utf8_percent_encode(geo, percent_encoding::NON_ALPHANUMERIC);
    match feed {
        Feed::Trending => format!("/trending/rss?geo={geo}"),
        Feed::Daily => format!("/trends/trendingsearches/daily/rss?geo={geo}"),
    }
}

/// Parses a feed.
pub fn parse(body: &[u8]) -> Result<Vec<Item>, ShapeError> {
    let text = std::str::from_utf8(body).map_err(|e| ShapeError::new("body", format!("not UTF-8 ({e})")))?;
    let doc = Document::parse(text).map_err(|e| ShapeError::new("body", format!("not valid XML ({e})")))?;
    let rss = doc.root_element();
    if rss.tag_name().name() != "rss" {
        return Err(ShapeError::new("body", format!("expected an <rss> feed, found <{}>", rss.tag_name().name())));
    }
    let channel = child(rss, "channel", false).ok_or_else(|| ShapeError::new("channel", "missing"))?;
    channel
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "item" && n.tag_name().namespace().is_none())
        .enumerate()
        .map(|(i, node)| item(&format!("channel.item[{i}]"), node))
        .collect()
}

fn item(at: &str, node: Node) -> Result<Item, ShapeError> {
    let field = |f: &str| format!("{at}.{f}");
    let name = text_of(node, "title", false).ok_or_else(|| ShapeError::new(field("title"), "missing or empty"))?;
    let mut extra = Map::new();
    let mut volume = None;
    if let Some(raw) = text_of(node, "approx_traffic", true) {
        let (n, lower_bound) = approx_traffic(&raw).ok_or_else(|| {
            ShapeError::new(field("ht:approx_traffic"), format!("expected a count like \"20,000+\", found {raw:?}"))
        })?;
        volume = Some(n);
        extra.insert("volume_is_lower_bound".into(), lower_bound.into());
        extra.insert("approx_traffic".into(), raw.into());
    }
    let observed_at = match text_of(node, "pubDate", false) {
        Some(date) => Some(
            DateTime::parse_from_rfc2822(&date)
                .map_err(|e| ShapeError::new(field("pubDate"), format!("{date:?} is not an RFC 2822 date ({e})")))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    for (from, to, ht) in [
        ("link", "link", false),
        ("description", "description", false),
        ("picture", "picture", true),
        ("picture_source", "picture_source", true),
    ] {
        if let Some(v) = text_of(node, from, ht) {
            extra.insert(to.into(), v.into());
        }
    }
    let news = node
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "news_item" && is_ht(*n))
        .map(|n| {
            let mut one = Map::new();
            for (from, to) in [
                ("news_item_title", "title"),
                ("news_item_url", "url"),
                ("news_item_source", "source"),
                ("news_item_snippet", "snippet"),
                ("news_item_picture", "picture"),
            ] {
                if let Some(v) = text_of(n, from, true) {
                    one.insert(to.into(), v.into());
                }
            }
            Value::Object(one)
        })
        .collect();
    extra.insert("news".into(), Value::Array(news));
    Ok(Item { name, volume, observed_at, extra })
}

/// True for an element in one of Google Trends' namespaces.
fn is_ht(node: Node) -> bool {
    node.tag_name().namespace().is_some_and(|ns| {
        let ns = ns.strip_prefix("https://").or_else(|| ns.strip_prefix("http://")).unwrap_or(ns);
        ns.starts_with("trends.google.com/")
    })
}

/// The first child element with this local name: plain RSS (`ht` false) or Google's.
fn child<'a, 'i>(node: Node<'a, 'i>, name: &str, ht: bool) -> Option<Node<'a, 'i>> {
    node.children().find(|n| {
        n.is_element() && n.tag_name().name() == name && if ht { is_ht(*n) } else { n.tag_name().namespace().is_none() }
    })
}

/// The trimmed text of a child element (CDATA and entities resolved); `None` when
/// the element is missing or empty (`<ht:news_item_snippet/>`).
fn text_of(node: Node, name: &str, ht: bool) -> Option<String> {
    let el = child(node, name, ht)?;
    let text: String = el.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `20,000+` → (20000, true); `200` → (200, false); `2M+` → (2000000, true).
pub fn approx_traffic(raw: &str) -> Option<(i64, bool)> {
    let text = raw.trim();
    let (text, lower_bound) = match text.strip_suffix('+') {
        Some(t) => (t.trim_end(), true),
        None => (text, false),
    };
    let (digits, factor) = match text.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&text[..i], 1_000.0),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&text[..i], 1_000_000.0),
        Some((i, c)) if c.eq_ignore_ascii_case(&'b') => (&text[..i], 1_000_000_000.0),
        _ => (text, 1.0),
    };
    // Thousands separators vary by locale: `20,000`, `20.000`, `20 000` (narrow space too).
    let no_spaces: String = digits.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
    if no_spaces.is_empty() || !no_spaces.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') {
        return None;
    }
    let n = if factor > 1.0 {
        // With a suffix, a separator is a decimal point: `1.5M`, `1,5M`.
        let value: f64 = no_spaces.replace(',', ".").parse().ok()?;
        (value * factor).round() as i64
    } else {
        no_spaces.replace([',', '.'], "").parse().ok()?
    };
    Some((n, lower_bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:ht="https://trends.google.com/trending/rss" version="2.0">
  <channel>
    <title>Daily Search Trends</title>
    <item>
      <title>flamengo x palmeiras</title>
      <ht:approx_traffic>20,000+</ht:approx_traffic>
      <description/>
      <link>https://trends.google.com/trending/rss?geo=BR</link>
      <pubDate>Sun, 22 Nov 2026 01:10:00 -0800</pubDate>
      <ht:picture>https://encrypted-tbn0.gstatic.com/images?q=tbn:abc</ht:picture>
      <ht:news_item>
        <ht:news_item_title><![CDATA[Flamengo & Palmeiras: "clássico" decide]]></ht:news_item_title>
        <ht:news_item_snippet/>
        <ht:news_item_url>https://example.com/a?x=1&amp;y=2</ht:news_item_url>
        <ht:news_item_source>Jornal</ht:news_item_source>
      </ht:news_item>
    </item>
    <item>
      <title>enem</title>
    </item>
  </channel>
</rss>"#;

    #[test]
    fn current_feed() {
        let items = parse(CURRENT.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.name, "flamengo x palmeiras");
        assert_eq!(a.volume, Some(20000));
        assert_eq!(a.extra["volume_is_lower_bound"], true);
        assert_eq!(a.extra["approx_traffic"], "20,000+");
        assert_eq!(
            a.observed_at.map(|t| trendpipe_core::record::format_time(&t)).as_deref(),
            Some("2026-11-22T09:10:00Z")
        );
        assert!(a.extra.get("description").is_none());
        assert_eq!(a.extra["picture"], "https://encrypted-tbn0.gstatic.com/images?q=tbn:abc");
        assert_eq!(
            a.extra["news"],
            serde_json::json!([{"title": "Flamengo & Palmeiras: \"clássico\" decide", "url": "https://example.com/a?x=1&y=2", "source": "Jornal"}])
        );
        // No traffic, no date: null volume, fetch time, no flag.
        assert_eq!(items[1].volume, None);
        assert_eq!(items[1].observed_at, None);
        assert!(items[1].extra.get("volume_is_lower_bound").is_none());
        assert_eq!(items[1].extra["news"], serde_json::json!([]));
    }

    #[test]
    fn older_daily_namespace() {
        let body = r#"<rss xmlns:ht="https://trends.google.com/trends/trendingsearches/daily" version="2.0"><channel>
          <item><title>Copa</title><ht:approx_traffic>1,000,000+</ht:approx_traffic>
          <description>copa do mundo, copa 2026</description>
          <ht:news_item><ht:news_item_title>&lt;b&gt;Copa&lt;/b&gt; de 2026</ht:news_item_title></ht:news_item></item>
        </channel></rss>"#;
        let items = parse(body.as_bytes()).unwrap();
        assert_eq!(items[0].volume, Some(1_000_000));
        assert_eq!(items[0].extra["description"], "copa do mundo, copa 2026");
        assert_eq!(items[0].extra["news"][0]["title"], "<b>Copa</b> de 2026");
    }

    #[test]
    fn an_unrelated_namespace_is_not_googles() {
        let body = r#"<rss xmlns:ht="urn:other"><channel><item><title>a</title><ht:approx_traffic>5+</ht:approx_traffic></item></channel></rss>"#;
        assert_eq!(parse(body.as_bytes()).unwrap()[0].volume, None);
    }

    #[test]
    fn traffic_texts() {
        assert_eq!(approx_traffic("20,000+"), Some((20000, true)));
        assert_eq!(approx_traffic("200+"), Some((200, true)));
        assert_eq!(approx_traffic("1000"), Some((1000, false)));
        assert_eq!(approx_traffic("20.000+"), Some((20000, true)));
        assert_eq!(approx_traffic("20\u{a0}000+"), Some((20000, true)));
        assert_eq!(approx_traffic("2M+"), Some((2_000_000, true)));
        assert_eq!(approx_traffic("1.5K+"), Some((1500, true)));
        assert_eq!(approx_traffic("lots"), None);
        assert_eq!(approx_traffic("+"), None);
        assert_eq!(approx_traffic("-5"), None);
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let e = parse(b"<rss><channel><item><title>a</ti").unwrap_err();
        assert!(e.to_string().starts_with("body: not valid XML"), "{e}");
        assert_eq!(
            parse(b"<html><body/></html>").unwrap_err().to_string(),
            "body: expected an <rss> feed, found <html>"
        );
        assert_eq!(parse(b"<rss/>").unwrap_err().to_string(), "channel: missing");
        let e = parse(b"<rss><channel><item><title>a</title></item><item><link>x</link></item></channel></rss>")
            .unwrap_err();
        assert_eq!(e.to_string(), "channel.item[1].title: missing or empty");
        let body = r#"<rss xmlns:ht="https://trends.google.com/trending/rss"><channel><item><title>a</title><ht:approx_traffic>many</ht:approx_traffic></item></channel></rss>"#;
        assert_eq!(
            parse(body.as_bytes()).unwrap_err().to_string(),
            r#"channel.item[0].ht:approx_traffic: expected a count like "20,000+", found "many""#
        );
        let body = "<rss><channel><item><title>a</title><pubDate>yesterday</pubDate></item></channel></rss>";
        assert_eq!(parse(body.as_bytes()).unwrap_err().field, "channel.item[0].pubDate");
    }

    #[test]
    fn paths() {
        assert_eq!(path(Feed::Trending, "BR"), "/trending/rss?geo=BR");
        assert_eq!(path(Feed::Daily, "US"), "/trends/trendingsearches/daily/rss?geo=US");
    }
}
