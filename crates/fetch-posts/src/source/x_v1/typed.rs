//! The fast reading of a saved v1.1 page: typed structs of the fields used (ids
//! borrowed from the body when they hold no escape), every other field skipped.
//!
//! Where it reads a page it gives the records the `serde_json::Value` reading of
//! `x_v1.rs` gives: any doubt (a field of another type, an array where an object is
//! expected, a duplicate key, a count other than a non-negative integer or numeric
//! string, a missing `statuses` or `user`, a `created_at` of another format) answers
//! `None`, and the page is read again through the tree, which names the field at
//! fault. One difference, on purpose: a field that is not read is skipped, not
//! checked, so a page whose only flaw is in such a field (a number beyond f64, nesting
//! past serde_json's 128 levels) is read where the tree alone refused it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use trendpipe_core::record::{Author, Post};

use super::parse_created_at;
use crate::source::Page;

/// Strings of the body: borrowed when they hold no escape.
type Text<'a> = Option<Cow<'a, str>>;

/// A JSON object read into `T`: serde's derived structs also take an array (fields
/// by position), which the tree reading refuses, so objects are asked for as maps.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(d)).map(Obj)
    }
}

/// A deserializer that reads a struct only from a map.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(v)
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow)]
    statuses: Option<Vec<Obj<Status<'a>>>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(borrow)]
    id_str: Cow<'a, str>,
    #[serde(borrow, default)]
    full_text: Text<'a>,
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(borrow, default)]
    lang: Text<'a>,
    #[serde(borrow, default)]
    created_at: Text<'a>,
    #[serde(default, deserialize_with = "count")]
    retweet_count: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    favorite_count: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    reply_count: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    quote_count: Option<i64>,
    #[serde(borrow, default)]
    in_reply_to_status_id_str: Text<'a>,
    #[serde(borrow, default)]
    quoted_status_id_str: Text<'a>,
    /// Kept only when it is a boolean, as the tree reading keeps it.
    #[serde(default)]
    truncated: Option<Truncated>,
    #[serde(borrow)]
    user: Option<Obj<User<'a>>>,
    #[serde(borrow, default)]
    retweeted_status: Option<Box<Obj<Status<'a>>>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id_str: Cow<'a, str>,
    #[serde(borrow, default)]
    screen_name: Text<'a>,
    #[serde(default, deserialize_with = "count")]
    followers_count: Option<i64>,
}

/// `truncated` as the tree reading sees it: a boolean, or anything else (ignored).
enum Truncated {
    Bool(bool),
    Other,
}

impl<'de> Deserialize<'de> for Truncated {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Truncated;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Truncated, E> {
                Ok(Truncated::Bool(v))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Truncated, E> {
                Ok(Truncated::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Truncated, E> {
                Ok(Truncated::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Truncated, E> {
                Ok(Truncated::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Truncated, E> {
                Ok(Truncated::Other)
            }
            fn visit_unit<E>(self) -> Result<Truncated, E> {
                Ok(Truncated::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Truncated, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Truncated::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Truncated, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Truncated::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A count as `trendpipe_core::payload::count` takes it: a non-negative integer that
/// fits i64, or such a number as a string (spaces around allowed), or null.
/// Anything else is an error here, and the tree reading words the refusal.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a count")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<i64>, E> {
            i64::try_from(v).map(Some).map_err(|_| E::custom("count beyond i64"))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<i64>, E> {
            match s.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(Some(n)),
                _ => Err(E::custom("not a count")),
            }
        }
        fn visit_unit<E>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// The page's records, or `None` when the tree reading must decide.
pub(super) fn page(body: &[u8], observed_at: DateTime<Utc>) -> Option<Page> {
    let Obj(response): Obj<Response> = serde_json::from_slice(body).ok()?;
    let mut page = Page::default();
    let mut seen = HashSet::new();
    for Obj(s) in response.statuses? {
        let mut post = post_of(&s, observed_at)?;
        seen.insert(post.id.clone());
        if let Some(rt) = &s.retweeted_status {
            let original = post_of(&rt.0, observed_at)?;
            post.repost_of = Some(original.id.clone());
            page.referenced.push(original);
        }
        page.posts.push(post);
    }
    page.referenced.retain(|p| seen.insert(p.id.clone()));
    Some(page)
}

/// One status as the tree reading's `status_post` makes it.
fn post_of(s: &Status, observed_at: DateTime<Utc>) -> Option<Post> {
    let id = s.id_str.clone().into_owned();
    let mut post = crate::source::post("x", id.clone(), observed_at);
    let text = s.full_text.as_deref().or(s.text.as_deref());
    post.text = text.map(|t| html_escape::decode_html_entities(t).into_owned());
    post.lang = s.lang.as_deref().map(str::to_owned);
    post.created_at = match s.created_at.as_deref() {
        None => None,
        Some(t) => Some(parse_created_at(t)?),
    };
    post.metrics.reposts = s.retweet_count;
    post.metrics.likes = s.favorite_count;
    post.metrics.replies = s.reply_count;
    post.metrics.quotes = s.quote_count;
    post.parent_id = s.in_reply_to_status_id_str.as_deref().map(str::to_owned);
    post.quote_of = s.quoted_status_id_str.as_deref().map(str::to_owned);
    if let Some(Truncated::Bool(t)) = s.truncated {
        post.extra.insert("truncated".into(), Value::Bool(t));
    }
    let user = &s.user.as_ref()?.0;
    let handle = user.screen_name.as_deref().map(str::to_owned);
    post.url = handle.as_ref().map(|h| format!("https://twitter.com/{h}/status/{id}"));
    post.author = Some(Author {
        id: user.id_str.clone().into_owned(),
        handle,
        followers: user.followers_count,
        extra: Default::default(),
    });
    Some(post)
}

#[derive(Deserialize)]
struct Saved<'a> {
    #[serde(borrow)]
    search_metadata: Option<Obj<Metadata<'a>>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    query: Text<'a>,
}

/// The raw `search_metadata.query` of a page (`Ok(None)`: none), or `Err` when the
/// page is not of the expected shape and the tree must say.
pub(super) fn query(body: &[u8]) -> Result<Option<String>, ()> {
    let Obj(saved): Obj<Saved> = serde_json::from_slice(body).map_err(|_| ())?;
    Ok(saved.search_metadata.and_then(|m| m.0.query).map(Cow::into_owned))
}
