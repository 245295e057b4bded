//! Mastodon: `GET /api/v1/timelines/tag/{tag}?limit=40` on each `--instance`, no auth,
//! newest first, paged by the `Link` header's `rel="next"` (`max_id`).
//!
//! Identity: the same remote post has a different `id` and different counts on each
//! instance, so a record's `id` is the status `uri` (the ActivityPub identity, the same
//! everywhere); the instance's id is kept as `instance_id` and the page as `url`.
//! Authors likewise are `user@domain` (a local account's `acct` gets the instance's
//! domain), with the instance's account id as `instance_id`.
//!
//! `content` is HTML: records carry plain text, tags stripped, `<br>` as a line break
//! and a paragraph break as a blank line, `<span class="invisible">` (the hidden parts
//! of long links) dropped, entities decoded, by a real HTML parser (html5ever).
//!
//! A reblog is a status whose `reblog` holds the reblogged status: the record gets
//! `repost_of` = that status's `uri`, and the reblogged status is emitted as a post too.
//! `in_reply_to_id` is instance-local: when the parent is on the same page its `uri`
//! is the `parent_id`; otherwise `parent_id` is `INSTANCE:ID` (`mastodon.social:1134`),
//! which names the parent without guessing a `uri` the page does not give.

use std::collections::HashMap;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use scraper::{Html, Node};
use serde_json::Value;
use trendpipe_core::record::{Author, Post};

use super::{
    Given, Page, PageContext, Query, Remote, ShapeError, Source, array, count, opt_string, refuse, string, time,
};

/// The most statuses one page gives.
pub const MAX_PAGE: u32 = 40;

pub struct Mastodon;

impl Source for Mastodon {
    fn name(&self) -> &'static str {
        "mastodon"
    }

    fn check_flags(&self, given: &Given) -> Result<(), String> {
        refuse("mastodon", given, &["--file", "--trend"], "is for --source x-v1")
    }

    fn parse_page(&self, body: &[u8], ctx: &PageContext) -> Result<Page, ShapeError> {
        let statuses = match serde_json::from_slice(body) {
            Ok(Value::Array(items)) => items,
            Ok(other) => return Err(ShapeError::expected("body", "an array of statuses", &other)),
            Err(e) => return Err(ShapeError::new("body", format!("not valid JSON ({e})"))),
        };
        // Replies usually come before their parents (newest first): map the whole
        // page's instance ids to uris before resolving `in_reply_to_id`.
        let mut uris = HashMap::new();
        for (i, s) in statuses.iter().enumerate() {
            let at = format!("[{i}]");
            uris.insert(string(s, &at, "id")?, string(s, &at, "uri")?);
            if let Some(r) = s.get("reblog").filter(|r| !r.is_null()) {
                uris.insert(string(r, &format!("{at}.reblog"), "id")?, string(r, &format!("{at}.reblog"), "uri")?);
            }
        }
        let mut page = Page::default();
        for (i, s) in statuses.iter().enumerate() {
            let at = format!("[{i}]");
            let mut post = status_post(s, &at, ctx, &uris)?;
            if let Some(r) = s.get("reblog").filter(|r| !r.is_null()) {
                let original = status_post(r, &format!("{at}.reblog"), ctx, &uris)?;
                post.repost_of = Some(original.id.clone());
                if post.text.is_none() {
                    post.text = original.text.clone();
                }
                page.referenced.push(original);
            }
            page.posts.push(post);
        }
        page.next = ctx.next_link.and_then(max_id);
        Ok(page)
    }
}

impl Remote for Mastodon {
    fn default_base(&self, origin: &str) -> String {
        format!("https://{origin}")
    }

    fn token_env(&self) -> Option<(&'static str, bool)> {
        None
    }

    fn page_url(&self, base: &str, query: &Query, cursor: Option<&str>) -> String {
        let tag: String = query.name.trim().trim_start_matches('#').chars().filter(|c| !c.is_whitespace()).collect();
        let mut url = format!(
            "{base}/api/v1/timelines/tag/{}?limit={}",
            utf8_percent_encode(&tag, NON_ALPHANUMERIC),
            query.page_size.clamp(1, MAX_PAGE)
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&max_id={}", utf8_percent_encode(c, NON_ALPHANUMERIC)));
        }
        url
    }
}

/// The `max_id` of a next-page link: the paging position, independent of the host
/// the link names (an instance may link to its canonical domain).
fn max_id(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    url.query_pairs().find(|(k, _)| k == "max_id").map(|(_, v)| v.into_owned())
}

fn status_post(s: &Value, at: &str, ctx: &PageContext, uris: &HashMap<String, String>) -> Result<Post, ShapeError> {
    if !s.is_object() {
        return Err(ShapeError::expected(at, "a status object", s));
    }
    let uri = string(s, at, "uri")?;
    let mut post = super::post("mastodon", uri, ctx.observed_at);
    post.extra.insert("instance_id".into(), Value::String(string(s, at, "id")?));
    post.url = opt_string(s, at, "url")?;
    post.text = opt_string(s, at, "content")?.map(|html| plain_text(&html)).filter(|t| !t.is_empty());
    post.lang = opt_string(s, at, "language")?;
    post.created_at = time(s, at, "created_at")?;
    post.metrics.reposts = count(s, at, "reblogs_count")?;
    post.metrics.likes = count(s, at, "favourites_count")?;
    post.metrics.replies = count(s, at, "replies_count")?;
    post.metrics.quotes = count(s, at, "quotes_count")?;
    post.parent_id = opt_string(s, at, "in_reply_to_id")?
        .map(|id| uris.get(&id).cloned().unwrap_or_else(|| format!("{}:{id}", ctx.origin)));
    // Hashtags the instance saw on the status, for matching trends.
    let tags: Vec<Value> = array(s, at, "tags")?
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(|n| Value::String(n.to_owned())))
        .collect();
    if !tags.is_empty() {
        post.extra.insert("tags".into(), Value::Array(tags));
    }
    let account = s.get("account").ok_or_else(|| ShapeError::new(format!("{at}.account"), "missing"))?;
    let at = format!("{at}.account");
    let acct = string(account, &at, "acct")?;
    let handle = if acct.contains('@') || ctx.origin.is_empty() { acct } else { format!("{acct}@{}", ctx.origin) };
    let mut author = Author {
        id: handle.clone(),
        handle: Some(handle),
        followers: count(account, &at, "followers_count")?,
        extra: Default::default(),
    };
    author.extra.insert("instance_id".into(), Value::String(string(account, &at, "id")?));
    post.author = Some(author);
    Ok(post)
}

/// Mastodon's status HTML as plain text.
pub fn plain_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut out = String::new();
    walk(*fragment.root_element(), &mut out);
    out.trim().to_owned()
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    for child in node.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => match e.name() {
                "br" => out.push('\n'),
                "span" if e.has_class("invisible", scraper::CaseSensitivity::CaseSensitive) => {}
                "p" => {
                    if !out.is_empty() && !out.ends_with("\n\n") {
                        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
                    }
                    walk(child, out);
                }
                "span" if e.has_class("ellipsis", scraper::CaseSensitivity::CaseSensitive) => {
                    walk(child, out);
                    // The web interface shows the cut with an ellipsis drawn by CSS.
                    out.push('…');
                }
                _ => walk(child, out),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    const STATUS: &str = r##"[
      {"id":"113532","created_at":"2026-11-21T23:10:00.000Z","in_reply_to_id":"113530","in_reply_to_account_id":"2",
       "sensitive":false,"spoiler_text":"","visibility":"public","language":"pt",
       "uri":"https://mastodon.social/users/ana/statuses/113532","url":"https://mastodon.social/@ana/113532",
       "replies_count":1,"reblogs_count":"2","favourites_count":7,
       "content":"<p>Final do <a href=\"https://mastodon.social/tags/BBB26\" class=\"mention hashtag\" rel=\"tag\">#<span>BBB26</span></a> &amp; &quot;paredão&quot; &lt;3</p><p>Veja <a href=\"https://example.com/noticias/bbb26-final-2026\" rel=\"nofollow noopener\" target=\"_blank\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/noticias/bbb26</span><span class=\"invisible\">-final-2026</span></a><br>até amanhã</p>",
       "reblog":null,"account":{"id":"1","username":"ana","acct":"ana","display_name":"Ana","followers_count":1200},
       "media_attachments":[],"mentions":[],"tags":[{"name":"bbb26","url":"https://mastodon.social/tags/bbb26"}]},
      {"id":"113533","created_at":"2026-11-21T23:12:00.000Z","in_reply_to_id":null,"language":null,
       "uri":"https://mastodon.social/users/bruno/statuses/113533/activity","url":null,
       "replies_count":0,"reblogs_count":0,"favourites_count":0,"content":"",
       "reblog":{"id":"113530","created_at":"2026-11-21T22:00:00.000Z","in_reply_to_id":null,"language":"en",
         "uri":"https://mas.to/users/carla/statuses/99887766","url":"https://mas.to/@carla/99887766",
         "replies_count":4,"reblogs_count":12,"favourites_count":80,"content":"<p>Best season ever</p>",
         "reblog":null,"account":{"id":"77","username":"carla","acct":"carla@mas.to","followers_count":340},"tags":[]},
       "account":{"id":"2","username":"bruno","acct":"bruno","followers_count":"35"},"tags":[]}
    ]"##;

    fn ctx() -> PageContext<'static> {
        PageContext { origin: "mastodon.social", next_link: Some("<ignored>"), observed_at: Utc::now() }
    }

    #[test]
    fn html_content_becomes_plain_text() {
        let mut c = ctx();
        c.next_link = Some("https://mastodon.social/api/v1/timelines/tag/bbb26?limit=40&max_id=113500");
        let page = Mastodon.parse_page(STATUS.as_bytes(), &c).unwrap();
        assert_eq!(
            page.posts[0].text.as_deref(),
            Some("Final do #BBB26 & \"paredão\" <3\n\nVeja example.com/noticias/bbb26…\naté amanhã")
        );
        assert_eq!(page.next.as_deref(), Some("113500"));
    }

    #[test]
    fn identity_is_the_uri_and_reblogs_point_at_the_original() {
        let page = Mastodon.parse_page(STATUS.as_bytes(), &ctx()).unwrap();
        let p = &page.posts[0];
        assert_eq!(p.id, "https://mastodon.social/users/ana/statuses/113532");
        assert_eq!(p.extra["instance_id"], "113532");
        assert_eq!(p.metrics.reposts, Some(2));
        // The parent is the reblogged status on the same page: its uri.
        assert_eq!(p.parent_id.as_deref(), Some("https://mas.to/users/carla/statuses/99887766"));
        assert_eq!(p.author.as_ref().unwrap().id, "ana@mastodon.social");
        let rb = &page.posts[1];
        assert_eq!(rb.repost_of.as_deref(), Some("https://mas.to/users/carla/statuses/99887766"));
        assert_eq!(rb.author.as_ref().unwrap().followers, Some(35));
        assert_eq!(page.referenced.len(), 1);
        assert_eq!(page.referenced[0].author.as_ref().unwrap().id, "carla@mas.to");
        assert_eq!(page.next, None);
    }

    #[test]
    fn an_unknown_parent_is_named_by_instance_and_id() {
        let body = br#"[{"id":"5","uri":"https://m.s/users/a/statuses/5","in_reply_to_id":"4","content":"<p>x</p>","account":{"id":"1","acct":"a","followers_count":1}}]"#;
        let page = Mastodon.parse_page(body, &ctx()).unwrap();
        assert_eq!(page.posts[0].parent_id.as_deref(), Some("mastodon.social:4"));
        let e = Mastodon.parse_page(br#"{"error":"x"}"#, &ctx()).unwrap_err();
        assert_eq!(e.to_string(), "body: expected an array of statuses, found an object");
        let e = Mastodon.parse_page(br#"[{"id":"5","content":"x"}]"#, &ctx()).unwrap_err();
        assert_eq!(e.to_string(), "[0].uri: missing");
    }

    #[test]
    fn the_tag_url_pages_by_max_id() {
        let q = Query { name: "#Eleições2026", since: None, until: None, page_size: 100 };
        assert_eq!(
            Mastodon.page_url("https://m.s", &q, Some("113500")),
            "https://m.s/api/v1/timelines/tag/Elei%C3%A7%C3%B5es2026?limit=40&max_id=113500"
        );
    }
}
