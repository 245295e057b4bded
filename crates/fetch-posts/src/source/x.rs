//! X API v2: `GET /2/tweets/search/recent`, newest first, paged by `meta.next_token`.
//!
//! What real pages hold, and what the records make of it:
//! - ids are strings; `text` is HTML-escaped (`&amp;`, `&lt;`, `&gt;`): records carry
//!   the unescaped text;
//! - followers are in `includes.users[].public_metrics.followers_count`, joined on
//!   `author_id`;
//! - most hits of a busy hashtag are retweets (`referenced_tweets` of type
//!   `retweeted`) whose `public_metrics` are copies of the original's: the record
//!   keeps them as X gave them with `repost_of` set, so that downstream stages never
//!   count them as the reposter's engagement; the originals (and quoted and replied-to
//!   posts) come in `includes.tweets` and are emitted too when not already hits;
//! - a top-level `errors` array with HTTP 200 (a deleted tweet, a suspended author)
//!   goes with good data: the data is kept and the errors reported.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use trendpipe_core::record::{Author, Post, format_time};

use super::{
    Given, Page, PageContext, Query, Remote, ShapeError, Source, array, count, object, opt_string, refuse, string, time,
};

/// The most posts one page gives.
pub const MAX_PAGE: u32 = 100;
/// The fewest posts a page may be asked for.
const MIN_PAGE: u32 = 10;

const TWEET_FIELDS: &str =
    "created_at,lang,public_metrics,referenced_tweets,conversation_id,in_reply_to_user_id,author_id";
const EXPANSIONS: &str = "author_id,referenced_tweets.id,referenced_tweets.id.author_id";
const USER_FIELDS: &str = "public_metrics,username";

pub struct X;

impl Source for X {
    fn name(&self) -> &'static str {
        "x"
    }

    fn check_flags(&self, given: &Given) -> Result<(), String> {
        refuse("x", given, &["--file", "--trend"], "is for --source x-v1")?;
        refuse("x", given, &["--instance"], "is for --source mastodon")
    }

    fn parse_page(&self, body: &[u8], ctx: &PageContext) -> Result<Page, ShapeError> {
        let observed_at = ctx.observed_at;
        let top = Value::Object(object(body)?);
        let includes = top.get("includes").cloned().unwrap_or(Value::Null);
        let mut followers: HashMap<String, (Option<String>, Option<i64>)> = HashMap::new();
        for (i, user) in array(&includes, "includes", "users")?.iter().enumerate() {
            let at = format!("includes.users[{i}]");
            let id = string(user, &at, "id")?;
            let handle = opt_string(user, &at, "username")?;
            let n = match user.get("public_metrics") {
                Some(m) => count(m, &format!("{at}.public_metrics"), "followers_count")?,
                None => None,
            };
            followers.insert(id, (handle, n));
        }
        let mut page = Page::default();
        let mut hits = HashSet::new();
        for (i, tweet) in array(&top, "body", "data")?.iter().enumerate() {
            let post = tweet_post(tweet, &format!("data[{i}]"), &followers, observed_at)?;
            hits.insert(post.id.clone());
            page.posts.push(post);
        }
        for (i, tweet) in array(&includes, "includes", "tweets")?.iter().enumerate() {
            let post = tweet_post(tweet, &format!("includes.tweets[{i}]"), &followers, observed_at)?;
            if hits.insert(post.id.clone()) {
                page.referenced.push(post);
            }
        }
        for (i, e) in array(&top, "body", "errors")?.iter().enumerate() {
            let at = format!("errors[{i}]");
            let detail = opt_string(e, &at, "detail")?.or(opt_string(e, &at, "message")?);
            let title = opt_string(e, &at, "title")?;
            page.errors.push(match (title, detail) {
                (Some(t), Some(d)) => format!("{t}: {d}"),
                (t, d) => t.or(d).unwrap_or_else(|| e.to_string()),
            });
        }
        page.next = match top.get("meta") {
            Some(meta) => opt_string(meta, "meta", "next_token")?,
            None => None,
        };
        Ok(page)
    }
}

impl Remote for X {
    fn default_base(&self, _: &str) -> String {
        "https://api.x.com".into()
    }

    fn token_env(&self) -> Option<(&'static str, bool)> {
        Some(("X_BEARER_TOKEN", true))
    }

    fn page_url(&self, base: &str, query: &Query, cursor: Option<&str>) -> String {
        let size = query.page_size.clamp(MIN_PAGE, MAX_PAGE);
        let mut url = format!(
            "{base}/2/tweets/search/recent?query={}&max_results={size}&tweet.fields={}&expansions={}&user.fields={}",
            enc(&search_query(query.name)),
            enc(TWEET_FIELDS),
            enc(EXPANSIONS),
            enc(USER_FIELDS)
        );
        if let Some(t) = query.since {
            url.push_str(&format!("&start_time={}", enc(&format_time(&t))));
        }
        if let Some(t) = query.until {
            url.push_str(&format!("&end_time={}", enc(&format_time(&t))));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&next_token={}", enc(c)));
        }
        url
    }
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The search query of a trend: a hashtag or a word as is, several words as a phrase.
/// Retweets are wanted (`-is:retweet` is not added): they are the signal of influence.
pub fn search_query(name: &str) -> String {
    let name = name.trim();
    if name.contains(char::is_whitespace) { format!("\"{}\"", name.replace('"', "")) } else { name.to_owned() }
}

fn tweet_post(
    tweet: &Value,
    at: &str,
    users: &HashMap<String, (Option<String>, Option<i64>)>,
    observed_at: DateTime<Utc>,
) -> Result<Post, ShapeError> {
    if !tweet.is_object() {
        return Err(ShapeError::expected(at, "an object", tweet));
    }
    let id = string(tweet, at, "id")?;
    let mut post = super::post("x", id.clone(), observed_at);
    post.text = opt_string(tweet, at, "text")?.map(|t| html_escape::decode_html_entities(&t).into_owned());
    post.lang = opt_string(tweet, at, "lang")?;
    post.created_at = time(tweet, at, "created_at")?;
    post.conversation_id = opt_string(tweet, at, "conversation_id")?;
    if let Some(author) = opt_string(tweet, at, "author_id")? {
        let (handle, followers) = users.get(&author).cloned().unwrap_or_default();
        post.url = handle.as_ref().map(|h| format!("https://x.com/{h}/status/{id}"));
        post.author = Some(Author { id: author, handle, followers, extra: Default::default() });
    }
    if let Some(m) = tweet.get("public_metrics") {
        let at = format!("{at}.public_metrics");
        post.metrics.reposts = count(m, &at, "retweet_count")?;
        post.metrics.likes = count(m, &at, "like_count")?;
        post.metrics.replies = count(m, &at, "reply_count")?;
        post.metrics.quotes = count(m, &at, "quote_count")?;
    }
    for (i, r) in array(tweet, at, "referenced_tweets")?.iter().enumerate() {
        let at = format!("{at}.referenced_tweets[{i}]");
        let target = Some(string(r, &at, "id")?);
        match string(r, &at, "type")?.as_str() {
            "retweeted" => post.repost_of = target,
            "quoted" => post.quote_of = target,
            "replied_to" => post.parent_id = target,
            _ => {}
        }
    }
    Ok(post)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"{
      "data": [
        {"id":"1861234567890123457","text":"RT @bbb_fan: Que final &amp; que temporada! &lt;3 #BBB26","author_id":"22","created_at":"2026-11-21T23:40:37.000Z","lang":"pt","conversation_id":"1861234567890123457","public_metrics":{"retweet_count":812,"reply_count":0,"like_count":0,"quote_count":0,"bookmark_count":0,"impression_count":0},"referenced_tweets":[{"type":"retweeted","id":"1861234567890123400"}],"edit_history_tweet_ids":["1861234567890123457"]},
        {"id":"1861234567890123458","text":"@bbb_fan discordo","author_id":"33","created_at":"2026-11-21T23:41:00.000Z","lang":"pt","conversation_id":"1861234567890123400","in_reply_to_user_id":"11","public_metrics":{"retweet_count":0,"reply_count":1,"like_count":3,"quote_count":0},"referenced_tweets":[{"type":"replied_to","id":"1861234567890123400"},{"type":"quoted","id":"1861234567890000001"}]}
      ],
      "includes": {
        "users": [
          {"id":"22","name":"Ana","username":"ana_bbb","public_metrics":{"followers_count":150,"following_count":80,"tweet_count":900,"listed_count":1}},
          {"id":"11","name":"BBB Fan","username":"bbb_fan","public_metrics":{"followers_count":98000,"following_count":10,"tweet_count":5000,"listed_count":30}}
        ],
        "tweets": [
          {"id":"1861234567890123400","text":"Que final &amp; que temporada! &lt;3 #BBB26","author_id":"11","created_at":"2026-11-21T23:00:00.000Z","lang":"pt","conversation_id":"1861234567890123400","public_metrics":{"retweet_count":812,"reply_count":40,"like_count":3000,"quote_count":12}}
        ]
      },
      "errors": [{"value":"1861234567890000001","detail":"Could not find tweet with referenced_tweets.id: [1861234567890000001].","title":"Not Found Error","resource_type":"tweet","parameter":"referenced_tweets.id","resource_id":"1861234567890000001","type":"https://api.twitter.com/2/problems/resource-not-found"}],
      "meta": {"newest_id":"1861234567890123458","oldest_id":"1861234567890123457","result_count":2,"next_token":"b26v89c19zqg8o3fpzbkk"}
    }"##;

    #[test]
    fn reposts_originals_errors_and_the_next_token() {
        let page = X.parse_page(PAGE.as_bytes(), &PageContext::now()).unwrap();
        assert_eq!(page.posts.len(), 2);
        let rt = &page.posts[0];
        assert_eq!(rt.text.as_deref(), Some("RT @bbb_fan: Que final & que temporada! <3 #BBB26"));
        assert_eq!(rt.repost_of.as_deref(), Some("1861234567890123400"));
        assert_eq!(rt.metrics.reposts, Some(812));
        let author = rt.author.as_ref().unwrap();
        assert_eq!((author.handle.as_deref(), author.followers), (Some("ana_bbb"), Some(150)));
        assert_eq!(rt.url.as_deref(), Some("https://x.com/ana_bbb/status/1861234567890123457"));
        let reply = &page.posts[1];
        assert_eq!(reply.parent_id.as_deref(), Some("1861234567890123400"));
        assert_eq!(reply.quote_of.as_deref(), Some("1861234567890000001"));
        // The author of the reply is not in includes.users: no invented handle.
        assert_eq!(reply.author.as_ref().unwrap().handle, None);
        assert_eq!(page.referenced.len(), 1);
        assert_eq!(page.referenced[0].author.as_ref().unwrap().followers, Some(98000));
        assert_eq!(page.errors.len(), 1);
        assert!(page.errors[0].starts_with("Not Found Error: Could not find tweet"), "{:?}", page.errors);
        assert_eq!(page.next.as_deref(), Some("b26v89c19zqg8o3fpzbkk"));
    }

    #[test]
    fn an_empty_last_page_and_wrong_shapes() {
        let page = X.parse_page(br#"{"meta":{"result_count":0}}"#, &PageContext::now()).unwrap();
        assert!(page.posts.is_empty() && page.next.is_none());
        let e = X.parse_page(br#"{"data":[{"id":1861234567890123457}]}"#, &PageContext::now()).unwrap_err();
        assert_eq!(e.to_string(), "data[0].id: expected a string, found a number");
        let e = X.parse_page(br#"{"data":{}}"#, &PageContext::now()).unwrap_err();
        assert_eq!(e.field, "body.data");
    }

    #[test]
    fn the_query_and_paging_url() {
        let q = Query { name: "Copa do Brasil", since: None, until: None, page_size: 5 };
        let url = X.page_url("http://h", &q, Some("tok 1"));
        assert!(url.starts_with("http://h/2/tweets/search/recent?query=%22Copa%20do%20Brasil%22&max_results=10&"));
        assert!(url.ends_with("&next_token=tok%201"), "{url}");
        assert_eq!(search_query("#BBB26"), "#BBB26");
        assert!(X.check_flags(&Given { instances: true, ..Given::default() }).is_err());
    }
}
