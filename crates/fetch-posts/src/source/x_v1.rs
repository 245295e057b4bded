//! Saved Twitter v1.1 `search/tweets` responses (`--file PATH`, `-` for stdin): no
//! network, the archives users already have.
//!
//! A response is `{"statuses":[…],"search_metadata":{"query":"%23BBB26",…}}`. Ids are
//! read from `id_str` (the numeric `id` is beyond 2^53 and loses digits in most JSON
//! readers); `created_at` is like `Fri Jul 12 23:40:37 +0000 2019`; `text` (or
//! `full_text` when saved with `tweet_mode=extended`) is HTML-escaped and may be cut
//! short (`truncated`, kept as a field); a retweet embeds its original in
//! `retweeted_status`, emitted as a post too, and its counts are the original's (kept
//! as given, with `repost_of` set). v1.1 gives no reply or quote counts.
//! The trend of a file is `--trend` or, by default, its `search_metadata.query`.
//!
//! A page is read first into typed structs of the fields used (`typed`, strings
//! borrowed from the body when they hold no escapes), several times faster than a
//! `serde_json::Value` tree; a page that does not fit them (a wrong type, a duplicate
//! key, a missing user, a count that is not a plain count) is read again through the
//! tree, whose answer, records or error naming the field, is the reference: the typed
//! read only ever yields the records the tree gives (see the tests).

use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use trendpipe_core::record::{Author, Post};

use super::{Given, Page, PageContext, ShapeError, Source, array, count, object, opt_string, refuse, string};

pub struct XV1;

impl Source for XV1 {
    fn name(&self) -> &'static str {
        // The same network as `x`: a tweet imported from an archive and fetched live
        // is one post.
        "x"
    }

    fn check_flags(&self, given: &Given) -> Result<(), String> {
        refuse("x-v1", given, &["--instance"], "is for --source mastodon")?;
        refuse("x-v1", given, &["--state", "--from mongo"], "is for the sources that fetch (files are read whole)")?;
        if given.files {
            Ok(())
        } else {
            Err("--source x-v1 imports saved search/tweets responses: give --file PATH (or --file - for stdin)".into())
        }
    }

    fn parse_page(&self, body: &[u8], ctx: &PageContext) -> Result<Page, ShapeError> {
        if let Some(page) = typed::page(body, ctx.observed_at) {
            return Ok(page);
        }
        parse_tree(body, ctx)
    }
}

/// A page read through a `serde_json::Value` tree: the reference reading, and the
/// one that names what is wrong.
fn parse_tree(body: &[u8], ctx: &PageContext) -> Result<Page, ShapeError> {
    let top = Value::Object(object(body)?);
    if top.get("statuses").is_none() {
        return Err(ShapeError::new("statuses", "missing"));
    }
    let mut page = Page::default();
    let mut seen = std::collections::HashSet::new();
    for (i, s) in array(&top, "body", "statuses")?.iter().enumerate() {
        let at = format!("statuses[{i}]");
        let mut post = status_post(s, &at, ctx.observed_at)?;
        seen.insert(post.id.clone());
        if let Some(rt) = s.get("retweeted_status").filter(|r| !r.is_null()) {
            let original = status_post(rt, &format!("{at}.retweeted_status"), ctx.observed_at)?;
            post.repost_of = Some(original.id.clone());
            page.referenced.push(original);
        }
        page.posts.push(post);
    }
    page.referenced.retain(|p| seen.insert(p.id.clone()));
    Ok(page)
}

/// The search query a response was saved for, decoded (`%23BBB26` → `#BBB26`).
pub fn saved_query(body: &[u8]) -> Option<String> {
    let q = match typed::query(body) {
        Ok(q) => q?.replace('+', " "),
        // Not the expected shape: the tree says whether a query is there anyway.
        Err(()) => {
            let top: Value = serde_json::from_slice(body).ok()?;
            top.pointer("/search_metadata/query")?.as_str()?.replace('+', " ")
        }
    };
    // A phrase search (`"Copa do Brasil"`) is the trend without its quotes.
    percent_decode_str(&q)
        .decode_utf8()
        .ok()
        .map(|s| s.trim().trim_matches('"').trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// v1.1's `created_at`: `Fri Jul 12 23:40:37 +0000 2019`.
pub fn parse_created_at(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y").ok().map(|t| t.with_timezone(&Utc))
}

fn status_post(s: &Value, at: &str, observed_at: DateTime<Utc>) -> Result<Post, ShapeError> {
    if !s.is_object() {
        return Err(ShapeError::expected(at, "a status object", s));
    }
    let id = string(s, at, "id_str")?;
    let mut post = super::post("x", id.clone(), observed_at);
    let text = match opt_string(s, at, "full_text")? {
        Some(t) => Some(t),
        None => opt_string(s, at, "text")?,
    };
    post.text = text.map(|t| html_escape::decode_html_entities(&t).into_owned());
    post.lang = opt_string(s, at, "lang")?;
    post.created_at = match opt_string(s, at, "created_at")? {
        None => None,
        Some(t) => Some(parse_created_at(&t).ok_or_else(|| {
            ShapeError::new(format!("{at}.created_at"), format!("{t:?} is not like \"Fri Jul 12 23:40:37 +0000 2019\""))
        })?),
    };
    post.metrics.reposts = count(s, at, "retweet_count")?;
    post.metrics.likes = count(s, at, "favorite_count")?;
    post.metrics.replies = count(s, at, "reply_count")?;
    post.metrics.quotes = count(s, at, "quote_count")?;
    post.parent_id = opt_string(s, at, "in_reply_to_status_id_str")?;
    post.quote_of = opt_string(s, at, "quoted_status_id_str")?;
    if let Some(Value::Bool(t)) = s.get("truncated") {
        post.extra.insert("truncated".into(), Value::Bool(*t));
    }
    let user = s.get("user").ok_or_else(|| ShapeError::new(format!("{at}.user"), "missing"))?;
    let user_at = format!("{at}.user");
    let handle = opt_string(user, &user_at, "screen_name")?;
    post.url = handle.as_ref().map(|h| format!("https://twitter.com/{h}/status/{id}"));
    post.author = Some(Author {
        id: string(user, &user_at, "id_str")?,
        handle,
        followers: count(user, &user_at, "followers_count")?,
        extra: Default::default(),
    });
    Ok(post)
}

mod typed;

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r##"{"statuses":[
      {"created_at":"Fri Nov 20 23:40:37 +0000 2026","id":1861234567890123457,"id_str":"1861234567890123457",
       "text":"RT @neymarjr: Obrigado &amp; até já!","truncated":false,"lang":"pt",
       "user":{"id":11,"id_str":"11","screen_name":"fa_do_ney","followers_count":"42"},
       "retweeted_status":{"created_at":"Fri Nov 20 22:00:00 +0000 2026","id":1861234567890000000,"id_str":"1861234567890000000",
         "text":"Obrigado &amp; até já!","truncated":false,"lang":"pt","retweet_count":5000,"favorite_count":40000,
         "user":{"id":9,"id_str":"9","screen_name":"neymarjr","followers_count":63000000}},
       "retweet_count":5000,"favorite_count":0,"in_reply_to_status_id_str":null},
      {"created_at":"Fri Nov 20 23:41:00 +0000 2026","id":1861234567890123999,"id_str":"1861234567890123999",
       "text":"@neymarjr volta logo pro Santos, o Brasil precisa de você nessa Copa do Mundo que vem aí e…","truncated":true,
       "in_reply_to_status_id_str":"1861234567890000000","lang":"pt","retweet_count":0,"favorite_count":3,
       "user":{"id_str":"12","screen_name":"torcedor","followers_count":310}}
     ],
     "search_metadata":{"completed_in":0.047,"max_id":1861234567890123999,"max_id_str":"1861234567890123999",
       "next_results":"?max_id=1861234567890123456&q=Neymar&include_entities=1","query":"Neymar","count":2,"since_id":0,"since_id_str":"0"}}"##;

    #[test]
    fn statuses_retweets_and_truncated_texts() {
        let page = XV1.parse_page(BODY.as_bytes(), &PageContext::now()).unwrap();
        assert_eq!(page.posts.len(), 2);
        let rt = &page.posts[0];
        assert_eq!(rt.id, "1861234567890123457");
        assert_eq!(rt.text.as_deref(), Some("RT @neymarjr: Obrigado & até já!"));
        assert_eq!(rt.repost_of.as_deref(), Some("1861234567890000000"));
        assert_eq!(rt.author.as_ref().unwrap().followers, Some(42));
        assert_eq!(trendpipe_core::record::format_time(&rt.created_at.unwrap()), "2026-11-20T23:40:37Z");
        assert_eq!(page.referenced[0].author.as_ref().unwrap().handle.as_deref(), Some("neymarjr"));
        assert_eq!(page.posts[1].extra["truncated"], true);
        assert_eq!(page.posts[1].parent_id.as_deref(), Some("1861234567890000000"));
        assert_eq!(saved_query(BODY.as_bytes()).as_deref(), Some("Neymar"));
        assert_eq!(
            saved_query(br#"{"search_metadata":{"query":"%23Elei%C3%A7%C3%B5es2026"}}"#).as_deref(),
            Some("#Eleições2026")
        );
    }

    /// The records of a page read by the typed reading, or `None`, and by the tree.
    fn both(body: &str) -> (Option<Vec<Value>>, Vec<Value>) {
        let at = Utc::now();
        let records =
            |p: Page| p.posts.into_iter().chain(p.referenced).map(|p| serde_json::to_value(p).unwrap()).collect();
        let typed = typed::page(body.as_bytes(), at).map(records);
        let ctx = PageContext { observed_at: at, ..PageContext::now() };
        (typed, records(parse_tree(body.as_bytes(), &ctx).unwrap()))
    }

    #[test]
    fn the_typed_reading_gives_the_records_of_the_tree() {
        let (typed, tree) = both(BODY);
        assert_eq!(tree.len(), 3);
        assert_eq!(typed, Some(tree), "the fixture, with its count as a string");
        // Escapes, a null text under a full_text, counts as numbers and strings, a
        // non-boolean `truncated` (dropped by both), and a retweet of a post of the page.
        let body = r#"{"statuses":[
          {"id_str":"1","full_text":"a \"quoted\" \u00e9 &lt;b&gt;","text":null,"truncated":"no","retweet_count":" 7 ",
           "created_at":"Fri Jul 12 23:40:37 +0000 2019","user":{"id_str":"u\n1","followers_count":null}},
          {"id_str":"2","text":"RT","user":{"id_str":"u2","screen_name":"b"},
           "retweeted_status":{"id_str":"1","user":{"id_str":"u1"}}}],"search_metadata":null}"#;
        let (typed, tree) = both(body);
        assert_eq!(tree.len(), 2, "the original is a post of the page: not added twice");
        assert_eq!(typed, Some(tree));
    }

    #[test]
    fn a_page_the_typed_reading_doubts_is_read_by_the_tree() {
        let cases = [
            // A duplicate key: the tree keeps the last.
            r#"{"statuses":[{"id_str":"1","text":"a","text":"b","user":{"id_str":"9"}}]}"#,
            // Arrays where objects are expected: refused by the tree.
            r#"{"statuses":[["1","a"]]}"#,
            r#"{"statuses":[{"id_str":"1","user":["9"]}]}"#,
            // Counts the tree refuses, with their field.
            r#"{"statuses":[{"id_str":"1","favorite_count":-1,"user":{"id_str":"9"}}]}"#,
            r#"{"statuses":[{"id_str":"1","favorite_count":2.5,"user":{"id_str":"9"}}]}"#,
            // No user, a null status, statuses null or missing.
            r#"{"statuses":[{"id_str":"1"}]}"#,
            r#"{"statuses":[null]}"#,
            r#"{"statuses":null}"#,
            r#"{"search_metadata":{}}"#,
            r#"[{"statuses":[]}]"#,
        ];
        for body in cases {
            assert_eq!(typed::page(body.as_bytes(), Utc::now()).map(|p| p.posts.len()), None, "{body}");
        }
        let page = XV1.parse_page(cases[0].as_bytes(), &PageContext::now()).unwrap();
        assert_eq!(page.posts[0].text.as_deref(), Some("b"));
        let e = XV1.parse_page(cases[3].as_bytes(), &PageContext::now()).unwrap_err();
        assert_eq!(e.to_string(), "statuses[0].favorite_count: expected a count, found -1");
        assert_eq!(XV1.parse_page(cases[1].as_bytes(), &PageContext::now()).unwrap_err().field, "statuses[0]");
        assert_eq!(XV1.parse_page(cases[7].as_bytes(), &PageContext::now()).unwrap().posts.len(), 0);
        assert_eq!(saved_query(br#"{"search_metadata":["%23x"]}"#), None, "an array is not the metadata object");
        assert_eq!(saved_query(br#"{"search_metadata":{"query":"a+b"},"statuses":[1]}"#).as_deref(), Some("a b"));
    }

    #[test]
    fn wrong_shapes_name_the_status() {
        let e = XV1.parse_page(br#"{"statuses":[{"id":1,"user":{"id_str":"1"}}]}"#, &PageContext::now()).unwrap_err();
        assert_eq!(e.to_string(), "statuses[0].id_str: missing");
        let e = XV1
            .parse_page(
                br#"{"statuses":[{"id_str":"1","created_at":"2026-11-20","user":{"id_str":"1"}}]}"#,
                &PageContext::now(),
            )
            .unwrap_err();
        assert_eq!(e.field, "statuses[0].created_at");
        assert_eq!(XV1.parse_page(b"[]", &PageContext::now()).unwrap_err().field, "body");
    }
}
