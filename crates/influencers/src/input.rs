//! NDJSON mode: post records from stdin, grouped into (trend, window) sets.
//!
//! A post may be seen several times (snapshots, several trends): it is one post,
//! keyed by (source, id), whose counts, author and links are those of its latest
//! observation (`observed_at`, else `created_at`; a tie goes to the later line), and
//! which belongs to every trend it was collected for. A post falls in the window
//! holding its `created_at` (its `observed_at` when it has no `created_at`).
//!
//! Here are also the sums the database makes in SQL mode: per author and window, the
//! posts, the engagement received over their own posts (reposts excluded: their
//! counts are the original's), the largest follower count and the h-index.
//! Every post is held in memory (the links of a post can point anywhere in the
//! input), compactly: ids interned per source, links resolved to indices. A million
//! posts peak at about 500 MiB; SQL mode holds one window at a time instead.

use std::io::BufRead;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;
use trendpipe_core::ndjson::{NdjsonReader, json_kind};
use trendpipe_core::quarantine::{EntryHead, Quarantine};
use trendpipe_core::record::{Post, QuarantineEntry, Record};

use crate::graph::{NONE, Node};
use crate::window::{Counts, Span, WindowAuthor, WindowData, WindowLen};

const STAGE: &str = "influencers";

struct AuthorEntry {
    source: u32,
    id: String,
    handle: Option<String>,
    handle_at: DateTime<Utc>,
}

struct PostEntry {
    source: u32,
    id: Box<str>,
    author: u32,
    /// When its counts were read (for picking the latest observation).
    at: DateTime<Utc>,
    /// What places it in a window: `created_at`, else `observed_at`, in seconds.
    time: i64,
    reposts: i64,
    likes: i64,
    replies: i64,
    quotes: i64,
    followers: Option<i64>,
    is_repost: bool,
    /// `parent_id`, `quote_of`, `repost_of` as read; resolved into `links`.
    refs: [Option<Box<str>>; 3],
    links: [u32; 3],
    /// Reposts received less the collected reposts by its own author.
    own_reposts: i64,
}

/// What reading found.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadSummary {
    pub lines: u64,
    pub posts: u64,
    pub duplicates: u64,
    pub other_records: u64,
    pub rejected: u64,
}

/// Every post of the input, deduplicated and linked.
#[derive(Default)]
pub struct Corpus {
    sources: Vec<String>,
    source_ix: FxHashMap<String, u32>,
    trends: Vec<String>,
    trend_ix: FxHashMap<String, u32>,
    authors: Vec<AuthorEntry>,
    author_ix: Vec<FxHashMap<String, u32>>,
    posts: Vec<PostEntry>,
    post_ix: Vec<FxHashMap<Box<str>, u32>>,
    /// (trend, post) pairs, with repeats until [`Corpus::link`].
    members: Vec<(u32, u32)>,
    pub summary: ReadSummary,
}

fn intern(names: &mut Vec<String>, ix: &mut FxHashMap<String, u32>, name: &str) -> u32 {
    if let Some(&i) = ix.get(name) {
        return i;
    }
    let i = names.len() as u32;
    names.push(name.to_owned());
    ix.insert(name.to_owned(), i);
    i
}

fn count(name: &str, v: Option<i64>) -> Result<i64, String> {
    match v {
        Some(n) if n < 0 => Err(format!("metrics.{name}: {n} is negative")),
        other => Ok(other.unwrap_or(0)),
    }
}

fn id_ref(s: &Option<String>) -> Option<Box<str>> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(Into::into)
}

/// Why a line that is JSON but not a usable post record is refused, or `None` when
/// it is a record of another kind (passed over).
fn refusal(text: &str) -> Option<String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(format!("invalid JSON: {e}")),
    };
    let Value::Object(obj) = &value else {
        return Some(format!("expected a JSON object, found {}", json_kind(&value)));
    };
    match obj.get("kind").and_then(Value::as_str) {
        Some("post") => Some(match serde_json::from_value::<Record>(value) {
            Ok(_) => "not a post record".to_owned(),
            Err(e) => format!("not a valid post record: {e}"),
        }),
        Some(_) => None,
        None => Some("kind: missing".to_owned()),
    }
}

impl Corpus {
    /// Reads every line of `input`; bad lines go to the quarantine, named by number.
    pub async fn read(input: impl BufRead, quarantine: &mut Quarantine<'_>) -> anyhow::Result<Self> {
        let mut corpus = Corpus::default();
        let mut reader = NdjsonReader::new(input);
        while let Some(item) = reader.next_line() {
            let item = item.context("reading stdin")?;
            corpus.summary.lines += 1;
            let (line, text) = match item {
                Ok(ok) => ok,
                Err(bad) => {
                    log::warn!("line {}: {}", bad.line, bad.message);
                    let entry = QuarantineEntry {
                        stage: STAGE.into(),
                        reason: bad.message.clone(),
                        rule: "schema".into(),
                        line: Some(bad.line),
                        record: Value::String(bad.raw),
                        at: Utc::now(),
                        run_id: None,
                    };
                    quarantine.put(entry).await?;
                    corpus.summary.rejected += 1;
                    continue;
                }
            };
            let reason = match Post::from_json_known_fields(text) {
                Some(post) => match corpus.add(&post) {
                    Ok(()) => continue,
                    Err(reason) => reason,
                },
                None => match refusal(text) {
                    Some(reason) => reason,
                    None => {
                        corpus.summary.other_records += 1;
                        continue;
                    }
                },
            };
            log::warn!("line {line}: {reason}");
            corpus.summary.rejected += 1;
            let head = EntryHead {
                stage: STAGE,
                reason: &reason,
                rule: "schema",
                line: Some(line),
                at: Utc::now(),
                run_id: None,
            };
            // Decoded, not just skimmed: a lone surrogate escape (`"\ud800"`) passes a
            // skim and would make the reject line unreadable.
            if serde_json::from_str::<Value>(text).is_ok() {
                quarantine.put_json(head, text).await?;
            } else {
                let entry = QuarantineEntry {
                    stage: STAGE.into(),
                    reason: reason.clone(),
                    rule: "schema".into(),
                    line: Some(line),
                    record: Value::String(text.to_owned()),
                    at: head.at,
                    run_id: None,
                };
                quarantine.put(entry).await?;
            }
        }
        corpus.link();
        Ok(corpus)
    }

    /// Adds one observation of a post, or says why it cannot be scored.
    fn add(&mut self, p: &Post) -> Result<(), String> {
        let author = p.author.as_ref().filter(|a| !a.id.trim().is_empty()).ok_or("author: missing")?;
        let trend = p.trend.as_deref().map(str::trim).filter(|t| !t.is_empty()).ok_or("trend: missing")?;
        let at = p.observed_at.or(p.created_at).ok_or("observed_at and created_at: both missing")?;
        let time = p.created_at.unwrap_or(at).timestamp();
        if p.id.trim().is_empty() {
            return Err("id: empty".into());
        }
        let m = &p.metrics;
        let (reposts, likes, replies, quotes) = (
            count("reposts", m.reposts)?,
            count("likes", m.likes)?,
            count("replies", m.replies)?,
            count("quotes", m.quotes)?,
        );
        if let Some(f) = author.followers.filter(|f| *f < 0) {
            return Err(format!("author.followers: {f} is negative"));
        }
        let source = intern(&mut self.sources, &mut self.source_ix, &p.source);
        if self.author_ix.len() <= source as usize {
            self.author_ix.resize_with(source as usize + 1, FxHashMap::default);
            self.post_ix.resize_with(source as usize + 1, FxHashMap::default);
        }
        let authors = &mut self.author_ix[source as usize];
        let a = match authors.get(author.id.as_str()) {
            Some(&a) => a,
            None => {
                let a = self.authors.len() as u32;
                authors.insert(author.id.clone(), a);
                self.authors.push(AuthorEntry { source, id: author.id.clone(), handle: None, handle_at: at });
                a
            }
        };
        let entry = &mut self.authors[a as usize];
        if author.handle.is_some() && (entry.handle.is_none() || at >= entry.handle_at) {
            entry.handle = author.handle.clone();
            entry.handle_at = at;
        }
        let trend = intern(&mut self.trends, &mut self.trend_ix, trend);
        let post = PostEntry {
            source,
            id: p.id.as_str().into(),
            author: a,
            at,
            time,
            reposts,
            likes,
            replies,
            quotes,
            followers: author.followers,
            is_repost: id_ref(&p.repost_of).is_some(),
            refs: [id_ref(&p.parent_id), id_ref(&p.quote_of), id_ref(&p.repost_of)],
            links: [NONE; 3],
            own_reposts: 0,
        };
        let index = match self.post_ix[source as usize].get(p.id.as_str()) {
            Some(&i) => {
                self.summary.duplicates += 1;
                let old = &mut self.posts[i as usize];
                if post.at >= old.at {
                    *old = post;
                }
                i
            }
            None => {
                let i = self.posts.len() as u32;
                self.post_ix[source as usize].insert(post.id.clone(), i);
                self.posts.push(post);
                self.summary.posts += 1;
                i
            }
        };
        self.members.push((trend, index));
        Ok(())
    }

    /// Puts authors and posts in key order, resolves links and counts self-reposts.
    fn link(&mut self) {
        let sources = &self.sources;
        let mut order: Vec<u32> = (0..self.authors.len() as u32).collect();
        let authors = &self.authors;
        order.sort_by(|&a, &b| {
            let (a, b) = (&authors[a as usize], &authors[b as usize]);
            (&sources[a.source as usize], &a.id).cmp(&(&sources[b.source as usize], &b.id))
        });
        let mut author_new = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            author_new[old as usize] = new as u32;
        }
        let mut authors: Vec<Option<AuthorEntry>> = std::mem::take(&mut self.authors).into_iter().map(Some).collect();
        self.authors = order.iter().filter_map(|&old| authors[old as usize].take()).collect();
        self.author_ix.clear();

        for p in &mut self.posts {
            for slot in 0..3 {
                if let Some(id) = &p.refs[slot] {
                    p.links[slot] = self.post_ix[p.source as usize].get(id).copied().unwrap_or(NONE);
                }
            }
            p.refs = [None, None, None];
            p.author = author_new[p.author as usize];
        }
        self.post_ix.clear();
        let posts = &self.posts;
        let mut order: Vec<u32> = (0..posts.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&posts[a as usize], &posts[b as usize]);
            (&sources[a.source as usize], &a.id).cmp(&(&sources[b.source as usize], &b.id))
        });
        let mut post_new = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            post_new[old as usize] = new as u32;
        }
        let mut posts: Vec<Option<PostEntry>> = std::mem::take(&mut self.posts).into_iter().map(Some).collect();
        self.posts = order.iter().filter_map(|&old| posts[old as usize].take()).collect();
        for p in &mut self.posts {
            for l in &mut p.links {
                if *l != NONE {
                    *l = post_new[*l as usize];
                }
            }
        }
        for m in &mut self.members {
            m.1 = post_new[m.1 as usize];
        }
        let mut own = vec![0i64; self.posts.len()];
        for p in &self.posts {
            let t = p.links[crate::graph::REPOST];
            if t != NONE && self.posts[t as usize].author == p.author {
                own[t as usize] += 1;
            }
        }
        for (p, selfs) in self.posts.iter_mut().zip(own) {
            p.own_reposts = (p.reposts - selfs).max(0);
        }
        // By trend name, then post (key order).
        let trends = &self.trends;
        self.members.sort_unstable_by(|a, b| trends[a.0 as usize].cmp(&trends[b.0 as usize]).then(a.1.cmp(&b.1)));
        self.members.dedup();
    }

    /// Calls `f` with every (trend, window) of the lengths `lens`, ordered by trend,
    /// length and start, keeping the windows `span` overlaps and the trends `keep` takes.
    pub fn for_each_window(
        &self,
        lens: &[WindowLen],
        span: Span,
        keep: impl Fn(&str) -> bool,
        mut f: impl FnMut(WindowData) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut post_local = vec![NONE; self.posts.len()];
        let mut author_local = vec![NONE; self.authors.len()];
        let mut keyed: Vec<(i64, u32)> = Vec::new();
        for group in self.members.chunk_by(|a, b| a.0 == b.0) {
            let trend = &self.trends[group[0].0 as usize];
            if !keep(trend) {
                continue;
            }
            for &len in lens {
                keyed.clear();
                keyed.extend(group.iter().map(|&(_, p)| (len.start_of(self.posts[p as usize].time), p)));
                keyed.sort_unstable();
                for window in keyed.chunk_by(|a, b| a.0 == b.0) {
                    let start = window[0].0;
                    if span.keeps(len, start) {
                        let posts: Vec<u32> = window.iter().map(|&(_, p)| p).collect();
                        f(self.window(trend, len, start, &posts, &mut post_local, &mut author_local))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// One window from its posts (in key order), with the scratch maps left clean.
    fn window(
        &self,
        trend: &str,
        len: WindowLen,
        start: i64,
        posts: &[u32],
        post_local: &mut [u32],
        author_local: &mut [u32],
    ) -> WindowData {
        let mut authors: Vec<u32> = posts.iter().map(|&p| self.posts[p as usize].author).collect();
        authors.sort_unstable();
        authors.dedup();
        for (i, &a) in authors.iter().enumerate() {
            author_local[a as usize] = i as u32;
        }
        for (i, &p) in posts.iter().enumerate() {
            post_local[p as usize] = i as u32;
        }
        let mut counts = vec![Counts::default(); authors.len()];
        let mut spread: Vec<(u32, i64)> = Vec::new();
        let nodes: Vec<Node> = posts
            .iter()
            .map(|&p| {
                let post = &self.posts[p as usize];
                let a = author_local[post.author as usize];
                let c = &mut counts[a as usize];
                c.posts += 1;
                if post.is_repost {
                    c.reposts_made += 1;
                } else {
                    c.reposts += post.own_reposts;
                    c.likes += post.likes;
                    c.replies += post.replies;
                    c.quotes += post.quotes;
                    spread.push((a, post.own_reposts));
                }
                c.followers = c.followers.max(post.followers);
                Node { author: a, links: post.links.map(|l| if l == NONE { NONE } else { post_local[l as usize] }) }
            })
            .collect();
        // h-index: reposts of each author's own posts, most first.
        spread.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        for run in spread.chunk_by(|a, b| a.0 == b.0) {
            let h = run.iter().enumerate().take_while(|(i, (_, r))| *r > *i as i64).count();
            counts[run[0].0 as usize].h_index = h as i64;
        }
        for &p in posts {
            post_local[p as usize] = NONE;
        }
        let authors = authors
            .iter()
            .zip(counts)
            .map(|(&a, counts)| {
                author_local[a as usize] = NONE;
                let e = &self.authors[a as usize];
                WindowAuthor {
                    source: self.sources[e.source as usize].clone(),
                    id: e.id.clone(),
                    handle: e.handle.clone(),
                    db_id: None,
                    counts,
                }
            })
            .collect();
        WindowData { trend: trend.to_owned(), len, start, authors, nodes }
    }
}
