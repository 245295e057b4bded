//! The posts as saved X v1.1 `search/tweets` responses: `{"statuses":[…],
//! "search_metadata":{…}}`, one file per page of one trend (newest first, as the API
//! pages), `id` and `id_str`, `created_at` like `Fri Jul 12 23:40:37 +0000 2019`,
//! HTML-escaped `text`, a retweet's original embedded in `retweeted_status`, and no
//! reply or quote counts (v1.1 gives none). A post observed twice is in two pages.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::XV1Args;
use crate::names;
use crate::posts::{GenPost, Generator, author_id};

/// Writes the pages into `args.dir`; returns how many statuses.
pub fn write(args: &XV1Args) -> anyhow::Result<u64> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let mut posts = Generator::new(&args.posts)?;
    let size = usize::try_from(args.page_size)?;
    let mut pending: Vec<Vec<Value>> = posts.topics.iter().map(|_| Vec::with_capacity(size)).collect();
    let mut pages = vec![0u32; pending.len()];
    let mut written = 0u64;
    while let Some(p) = posts.next() {
        let trend = p.trend;
        pending[trend].push(status(&p));
        written += 1;
        if pending[trend].len() == size {
            let query = &posts.topics[trend].name;
            flush(&args.dir, trend, &mut pages[trend], &mut pending[trend], query)?;
        }
    }
    for (trend, statuses) in pending.iter_mut().enumerate() {
        if !statuses.is_empty() {
            flush(&args.dir, trend, &mut pages[trend], statuses, &posts.topics[trend].name)?;
        }
    }
    Ok(written)
}

fn flush(dir: &Path, trend: usize, page: &mut u32, statuses: &mut Vec<Value>, query: &str) -> anyhow::Result<()> {
    statuses.reverse();
    let max_id = statuses.first().and_then(|s| s["id_str"].as_str()).unwrap_or("0").to_owned();
    let q = utf8_percent_encode(query, NON_ALPHANUMERIC).to_string();
    let body = json!({
        "statuses": std::mem::take(statuses),
        "search_metadata": {
            "completed_in": 0.031,
            "max_id_str": max_id,
            "query": q,
            "count": 100,
            "since_id": 0,
            "since_id_str": "0",
        },
    });
    let path = dir.join(format!("t{trend:03}-p{:06}.json", *page));
    *page += 1;
    let mut out = BufWriter::new(File::create(&path).with_context(|| format!("creating {}", path.display()))?);
    serde_json::to_writer(&mut out, &body)?;
    out.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One status object.
fn status(p: &GenPost) -> Value {
    let mut s = json!({
        "created_at": p.created_at.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
        "id": p.id,
        "id_str": p.id.to_string(),
        "text": html_escape::encode_text(&p.text),
        "truncated": false,
        "lang": p.lang,
        "in_reply_to_status_id": p.parent_id,
        "in_reply_to_status_id_str": p.parent_id.map(|i| i.to_string()),
        "is_quote_status": p.quote_of.is_some(),
        "user": {
            "id": 1_000_000_000 + p.author * 37,
            "id_str": author_id(p.author),
            "screen_name": names::handle(p.author),
            "followers_count": names::followers(p.author),
        },
        "retweet_count": p.reposts,
        "favorite_count": p.likes,
    });
    if let Some(q) = p.quote_of {
        s["quoted_status_id"] = json!(q);
        s["quoted_status_id_str"] = json!(q.to_string());
    }
    if let Some(original) = &p.repost_of {
        s["retweeted_status"] = status(original);
        // X counts a retweet's own favourites as 0; its retweet_count is the original's.
        s["favorite_count"] = json!(0);
    }
    s
}
