//! Bluesky: `app.bsky.feed.searchPosts?q=…&sort=latest&limit=100`, paged by an opaque
//! `cursor`; optional token in `BLUESKY_TOKEN`.
//!
//! A post's identity is its `at://` `uri`. Text is `record.text`; counts are
//! `replyCount`, `repostCount`, `likeCount`, `quoteCount`; a reply names its parent in
//! `record.reply.parent.uri` (and its thread in `record.reply.root.uri`, the
//! `conversation_id`; a post that replies to nothing is its own thread); a quote is in
//! `embed` as `app.bsky.embed.record#view` (`embed.record.uri`) or
//! `app.bsky.embed.recordWithMedia#view` (`embed.record.record.uri`).
//! `record.createdAt` comes with any precision and `langs` may be missing. Search
//! results carry no follower counts: `app.bsky.actor.getProfiles` gives them, 25
//! actors a call.

use std::collections::HashMap;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use trendpipe_core::record::{Author, Post, format_time};

use super::{
    Given, Page, PageContext, Query, Remote, ShapeError, Source, array, count, object, opt_string, refuse, string, time,
};

/// The most posts one page gives.
pub const MAX_PAGE: u32 = 100;
/// The most actors one `getProfiles` call takes.
pub const PROFILES_BATCH: usize = 25;

pub struct Bluesky;

impl Source for Bluesky {
    fn name(&self) -> &'static str {
        "bluesky"
    }

    fn check_flags(&self, given: &Given) -> Result<(), String> {
        refuse("bluesky", given, &["--file", "--trend"], "is for --source x-v1")?;
        refuse("bluesky", given, &["--instance"], "is for --source mastodon")
    }

    fn parse_page(&self, body: &[u8], ctx: &PageContext) -> Result<Page, ShapeError> {
        let top = Value::Object(object(body)?);
        let mut page = Page::default();
        if top.get("posts").is_none() {
            return Err(ShapeError::new("posts", "missing"));
        }
        for (i, p) in array(&top, "body", "posts")?.iter().enumerate() {
            page.posts.push(post_view(p, &format!("posts[{i}]"), ctx)?);
        }
        page.next = opt_string(&top, "body", "cursor")?.filter(|c| !c.is_empty());
        Ok(page)
    }
}

impl Remote for Bluesky {
    fn default_base(&self, _: &str) -> String {
        "https://public.api.bsky.app".into()
    }

    fn token_env(&self) -> Option<(&'static str, bool)> {
        Some(("BLUESKY_TOKEN", false))
    }

    fn page_url(&self, base: &str, query: &Query, cursor: Option<&str>) -> String {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut url = format!(
            "{base}/xrpc/app.bsky.feed.searchPosts?q={}&sort=latest&limit={}",
            enc(query.name.trim()),
            query.page_size.clamp(1, MAX_PAGE)
        );
        if let Some(t) = query.since {
            url.push_str(&format!("&since={}", enc(&format_time(&t))));
        }
        if let Some(t) = query.until {
            url.push_str(&format!("&until={}", enc(&format_time(&t))));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        url
    }

    fn profile_batch(&self) -> usize {
        PROFILES_BATCH
    }

    fn profiles_url(&self, base: &str, authors: &[String]) -> String {
        let actors: Vec<String> =
            authors.iter().map(|a| format!("actors={}", utf8_percent_encode(a, NON_ALPHANUMERIC))).collect();
        format!("{base}/xrpc/app.bsky.actor.getProfiles?{}", actors.join("&"))
    }

    fn parse_profiles(&self, body: &[u8]) -> Result<HashMap<String, i64>, ShapeError> {
        let top = Value::Object(object(body)?);
        let mut followers = HashMap::new();
        for (i, p) in array(&top, "body", "profiles")?.iter().enumerate() {
            let at = format!("profiles[{i}]");
            if let Some(n) = count(p, &at, "followersCount")? {
                followers.insert(string(p, &at, "did")?, n);
            }
        }
        Ok(followers)
    }
}

fn post_view(p: &Value, at: &str, ctx: &PageContext) -> Result<Post, ShapeError> {
    if !p.is_object() {
        return Err(ShapeError::expected(at, "a post view", p));
    }
    let uri = string(p, at, "uri")?;
    let mut post = super::post("bluesky", uri.clone(), ctx.observed_at);
    let author = p.get("author").ok_or_else(|| ShapeError::new(format!("{at}.author"), "missing"))?;
    let author_at = format!("{at}.author");
    let did = string(author, &author_at, "did")?;
    let handle = opt_string(author, &author_at, "handle")?;
    // The web address of a post: its author's handle and the record key.
    let rkey = uri.rsplit('/').next().unwrap_or_default();
    post.url = Some(format!("https://bsky.app/profile/{}/post/{rkey}", handle.as_deref().unwrap_or(&did)));
    post.author = Some(Author {
        id: did,
        handle,
        followers: count(author, &author_at, "followersCount")?,
        extra: Default::default(),
    });
    let record = p.get("record").ok_or_else(|| ShapeError::new(format!("{at}.record"), "missing"))?;
    let record_at = format!("{at}.record");
    post.text = opt_string(record, &record_at, "text")?;
    post.created_at = time(record, &record_at, "createdAt")?;
    post.lang = array(record, &record_at, "langs")?.first().and_then(Value::as_str).map(str::to_owned);
    post.metrics.replies = count(p, at, "replyCount")?;
    post.metrics.reposts = count(p, at, "repostCount")?;
    post.metrics.likes = count(p, at, "likeCount")?;
    post.metrics.quotes = count(p, at, "quoteCount")?;
    match record.get("reply") {
        Some(reply) if !reply.is_null() => {
            post.parent_id = reply.pointer("/parent/uri").and_then(Value::as_str).map(str::to_owned);
            post.conversation_id = reply.pointer("/root/uri").and_then(Value::as_str).map(str::to_owned);
        }
        _ => post.conversation_id = Some(uri),
    }
    if let Some(embed) = p.get("embed") {
        post.quote_of = match embed.get("$type").and_then(Value::as_str) {
            Some("app.bsky.embed.record#view") => embed.pointer("/record/uri"),
            Some("app.bsky.embed.recordWithMedia#view") => embed.pointer("/record/record/uri"),
            _ => None,
        }
        .and_then(Value::as_str)
        .map(str::to_owned);
    }
    Ok(post)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"{"cursor":"100","hitsTotal":2317,"posts":[
      {"uri":"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbfqmgt2vk2a","cid":"bafyreia",
       "author":{"did":"did:plc:ewvi7nxzyoun6zhxrhs64oiz","handle":"ana.bsky.social","displayName":"Ana","labels":[],"createdAt":"2024-01-01T00:00:00.000Z"},
       "record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-21T23:10:00.123456Z","langs":["pt"],"text":"Que final do BBB26!",
         "reply":{"root":{"cid":"bafyroot","uri":"at://did:plc:root/app.bsky.feed.post/3lroot"},"parent":{"cid":"bafyparent","uri":"at://did:plc:parent/app.bsky.feed.post/3lparent"}}},
       "embed":{"$type":"app.bsky.embed.recordWithMedia#view","record":{"record":{"$type":"app.bsky.embed.record#viewRecord","uri":"at://did:plc:q/app.bsky.feed.post/3lquoted"}},"media":{}},
       "replyCount":0,"repostCount":1,"likeCount":"4","quoteCount":0,"indexedAt":"2026-11-21T23:10:01.000Z","labels":[]},
      {"uri":"at://did:plc:b/app.bsky.feed.post/3lb","cid":"bafyb","author":{"did":"did:plc:b","handle":"bruno.bsky.social"},
       "record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-21T23:11:00Z","text":"BBB26 again"},
       "embed":{"$type":"app.bsky.embed.record#view","record":{"$type":"app.bsky.embed.record#viewRecord","uri":"at://did:plc:q/app.bsky.feed.post/3lq2"}},
       "replyCount":2,"repostCount":0,"likeCount":9,"quoteCount":1,"indexedAt":"2026-11-21T23:11:01Z"}]}"#;

    #[test]
    fn replies_quotes_mixed_times_and_missing_langs() {
        let page = Bluesky.parse_page(PAGE.as_bytes(), &PageContext::now()).unwrap();
        let a = &page.posts[0];
        assert_eq!(a.parent_id.as_deref(), Some("at://did:plc:parent/app.bsky.feed.post/3lparent"));
        assert_eq!(a.conversation_id.as_deref(), Some("at://did:plc:root/app.bsky.feed.post/3lroot"));
        assert_eq!(a.quote_of.as_deref(), Some("at://did:plc:q/app.bsky.feed.post/3lquoted"));
        assert_eq!((a.lang.as_deref(), a.metrics.likes), (Some("pt"), Some(4)));
        assert_eq!(a.url.as_deref(), Some("https://bsky.app/profile/ana.bsky.social/post/3lbfqmgt2vk2a"));
        assert_eq!(a.author.as_ref().unwrap().followers, None);
        let b = &page.posts[1];
        assert_eq!((b.lang.as_deref(), b.quote_of.as_deref()), (None, Some("at://did:plc:q/app.bsky.feed.post/3lq2")));
        assert_eq!(b.conversation_id.as_deref(), Some(b.id.as_str()));
        assert_eq!(page.next.as_deref(), Some("100"));
    }

    #[test]
    fn profiles_give_followers_and_the_lookup_url_repeats_actors() {
        let got = Bluesky
            .parse_profiles(
                br#"{"profiles":[{"did":"did:plc:a","handle":"a.bsky.social","followersCount":120,"followsCount":3}]}"#,
            )
            .unwrap();
        assert_eq!(got["did:plc:a"], 120);
        assert_eq!(
            Bluesky.profiles_url("http://h", &["did:plc:a".into(), "did:plc:b".into()]),
            "http://h/xrpc/app.bsky.actor.getProfiles?actors=did%3Aplc%3Aa&actors=did%3Aplc%3Ab"
        );
        assert_eq!(Bluesky.parse_page(br#"{"cursor":"1"}"#, &PageContext::now()).unwrap_err().field, "posts");
    }
}
