//! Posts about a set of trends over some days, in time order, as `fetch-posts` writes
//! them. The rate follows the daily and weekly rhythm (each minute gets its share of
//! the records, so the count is exact); trends are chosen with Zipf-like weights;
//! authors by a Zipf law over their number (a few write much), with Pareto follower
//! counts; likes are Zipf-distributed and the other counts follow them. A quarter of
//! the posts are reposts, and replies and quotes point at recent posts of the same
//! trend chosen by engagement (the popular ones gather the trees); a repost carries its
//! original's counts. One trend in four has a crisis: six hours at three times the rate
//! in an angry mood. Four posts in a hundred are a later observation of an earlier post
//! with grown counts, which `clean` dedupes.

use std::io::Write;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};
use trendpipe_core::key::trend_key;
use trendpipe_core::record::{Author, Metrics, Post, Record};

use crate::PostArgs;
use crate::names::{self, Lang};
use crate::text;

/// X's snowflake epoch (2010-11-04T01:42:54.657Z): ids carry their creation time.
const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;
/// How many recent posts of each trend replies, quotes and reposts may point at.
const RECENT: usize = 512;

/// One generated post, before it is written in either shape.
#[derive(Debug, Clone)]
pub struct GenPost {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    pub observed_at: DateTime<Utc>,
    pub trend: usize,
    pub author: u64,
    pub lang: &'static str,
    pub text: String,
    pub reposts: i64,
    pub likes: i64,
    pub replies: i64,
    pub quotes: i64,
    pub parent_id: Option<u64>,
    pub quote_of: Option<u64>,
    /// The original a repost repeats (its counts are the original's).
    pub repost_of: Option<Box<GenPost>>,
    pub conversation: u64,
}

/// A trend the posts are about.
pub struct Topic {
    pub name: String,
    pub key: String,
    lang: &'static str,
    mood: f64,
    /// The minutes of its crisis, when it has one.
    crisis: Option<(usize, usize)>,
}

/// The stream of posts, in creation order (re-observations come when they are made).
pub struct Generator {
    rng: ChaCha8Rng,
    records: u64,
    emitted: u64,
    start: DateTime<Utc>,
    /// Cumulative rhythm weight at the end of each minute.
    cumulative: Vec<f64>,
    minute: usize,
    left_in_minute: u64,
    weights: Vec<f64>,
    pub topics: Vec<Topic>,
    recent: Vec<Vec<GenPost>>,
    cursor: Vec<usize>,
    authors: Zipf<f64>,
    likes: Zipf<f64>,
}

impl Generator {
    pub fn new(args: &PostArgs) -> anyhow::Result<Generator> {
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        let minutes = usize::try_from(args.days)? * 1440;
        let mut cumulative = Vec::with_capacity(minutes);
        let mut total = 0.0;
        for m in 0..minutes {
            let t = args.start + Duration::minutes(i64::try_from(m)?);
            let hour = f64::from(t.hour()) + f64::from(t.minute()) / 60.0;
            // The posts come from Brazil and the Americas: local time is about UTC-3.
            total += names::daily((hour - 3.0).rem_euclid(24.0)) * names::weekly(t.weekday().num_days_from_monday());
            cumulative.push(total);
        }
        let mut topics: Vec<Topic> = Vec::new();
        for i in 0..usize::try_from(args.trends)? {
            let (lang, code) = if i % 2 == 0 { (Lang::Pt, "pt") } else { (Lang::En, "en") };
            let mut name = names::trend_name(&mut rng, lang);
            while topics.iter().any(|t| t.key == trend_key(&name)) {
                name = names::trend_name(&mut rng, lang);
            }
            let crisis = (i % 4 == 1).then(|| {
                let at = rng.random_range(minutes / 3..(minutes * 5 / 6).max(minutes / 3 + 1));
                (at, at + 360)
            });
            topics.push(Topic { key: trend_key(&name), name, lang: code, mood: rng.random_range(-0.2..0.5), crisis });
        }
        let n_authors = args.authors.unwrap_or((args.records / 20).max(100));
        Ok(Generator {
            rng,
            records: args.records,
            emitted: 0,
            start: args.start,
            cumulative,
            minute: 0,
            left_in_minute: 0,
            weights: vec![0.0; topics.len()],
            recent: topics.iter().map(|_| Vec::with_capacity(RECENT)).collect(),
            cursor: vec![0; topics.len()],
            topics,
            authors: Zipf::new(n_authors as f64, 1.07)?,
            likes: Zipf::new(1_000_000.0, 1.7)?,
        })
    }

    /// Moves to the next minute that has posts and sets the trend weights for it.
    fn next_minute(&mut self) -> bool {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = |c: f64| (self.records as f64 * c / total).floor() as u64;
        while self.left_in_minute == 0 {
            if self.minute >= self.cumulative.len() {
                return false;
            }
            let before = if self.minute == 0 { 0 } else { target(self.cumulative[self.minute - 1]) };
            let after = if self.minute + 1 == self.cumulative.len() {
                self.records
            } else {
                target(self.cumulative[self.minute])
            };
            self.left_in_minute = after.saturating_sub(before);
            self.minute += 1;
        }
        let m = self.minute - 1;
        for (i, t) in self.topics.iter().enumerate() {
            let boost = if t.crisis.is_some_and(|(a, b)| (a..b).contains(&m)) { 3.0 } else { 1.0 };
            self.weights[i] = boost / ((i + 1) as f64).powf(0.8);
        }
        true
    }

    fn in_crisis(&self, trend: usize) -> bool {
        self.topics[trend].crisis.is_some_and(|(a, b)| (a..b).contains(&(self.minute - 1)))
    }

    /// A recent post of a trend, the most engaging of three drawn.
    fn popular(&mut self, trend: usize) -> Option<GenPost> {
        let ring = &self.recent[trend];
        if ring.is_empty() {
            return None;
        }
        let mut best: Option<&GenPost> = None;
        for _ in 0..3 {
            let p = &ring[self.rng.random_range(0..ring.len())];
            if best.is_none_or(|b| p.likes + p.reposts > b.likes + b.reposts) {
                best = Some(p);
            }
        }
        best.cloned()
    }

    fn remember(&mut self, post: &GenPost) {
        let ring = &mut self.recent[post.trend];
        if ring.len() < RECENT {
            ring.push(post.clone());
        } else {
            let c = &mut self.cursor[post.trend];
            ring[*c] = post.clone();
            *c = (*c + 1) % RECENT;
        }
    }
}

impl Iterator for Generator {
    type Item = GenPost;

    fn next(&mut self) -> Option<GenPost> {
        if self.emitted == self.records || !self.next_minute() {
            return None;
        }
        self.left_in_minute -= 1;
        self.emitted += 1;
        let minute_start = self.start + Duration::minutes((self.minute - 1) as i64);
        let created_at = minute_start + Duration::milliseconds(self.rng.random_range(0..60_000));
        let total: f64 = self.weights.iter().sum();
        let mut r = self.rng.random::<f64>() * total;
        let mut trend = self.weights.len() - 1;
        for (i, w) in self.weights.iter().enumerate() {
            if r < *w {
                trend = i;
                break;
            }
            r -= w;
        }
        let kind: f64 = self.rng.random();
        if kind < 0.04 {
            if let Some(mut again) = self.popular(trend) {
                // A later observation: the same post with its counts grown.
                let grow = 1.0 + self.rng.random::<f64>() * 0.5;
                again.observed_at = again.observed_at.max(created_at) + Duration::minutes(30);
                again.likes = (again.likes as f64 * grow) as i64 + 1;
                again.reposts = (again.reposts as f64 * grow) as i64;
                again.replies = (again.replies as f64 * grow) as i64;
                return Some(again);
            }
        }
        let ms = created_at.timestamp_millis() - SNOWFLAKE_EPOCH_MS;
        let id = (u64::try_from(ms).unwrap_or_default() << 22) | (self.emitted & 0x3F_FFFF);
        let observed_at = created_at + Duration::minutes(self.rng.random_range(2..180));
        let author = self.authors.sample(&mut self.rng) as u64 - 1;
        let parent = if kind < 0.49 { self.popular(trend) } else { None };
        let mut post = GenPost {
            id,
            created_at,
            observed_at,
            trend,
            author,
            lang: self.topics[trend].lang,
            text: String::new(),
            reposts: 0,
            likes: 0,
            replies: 0,
            quotes: 0,
            parent_id: None,
            quote_of: None,
            repost_of: None,
            conversation: id,
        };
        if let (Some(original), true) = (&parent, kind < 0.29) {
            post.text = format!("RT @{}: {}", names::handle(original.author), original.text);
            post.lang = original.lang;
            (post.reposts, post.likes, post.replies, post.quotes) =
                (original.reposts, original.likes, original.replies, original.quotes);
            post.repost_of = Some(Box::new(original.clone()));
            return Some(post);
        }
        if self.rng.random::<f64>() < 0.15 {
            post.lang = if post.lang == "pt" { "en" } else { "pt" };
        }
        let mood = if self.in_crisis(trend) { -0.85 } else { self.topics[trend].mood };
        let body = text::compose(&mut self.rng, post.lang, &self.topics[trend].name, mood);
        match &parent {
            Some(p) if kind < 0.44 => {
                post.text = format!("@{} {body}", names::handle(p.author));
                post.parent_id = Some(p.id);
                post.conversation = p.conversation;
            }
            Some(p) => {
                post.text = body;
                post.quote_of = Some(p.id);
            }
            None => post.text = body,
        }
        let reach = 1.0 + (1.0 + names::followers(author) as f64).ln() / 4.0;
        post.likes = ((self.likes.sample(&mut self.rng) - 1.0) * reach) as i64;
        post.reposts = (post.likes as f64 * self.rng.random_range(0.0..0.3)) as i64;
        post.replies = (post.likes as f64 * self.rng.random_range(0.0..0.15)) as i64;
        post.quotes = (post.likes as f64 * self.rng.random_range(0.0..0.04)) as i64;
        self.remember(&post);
        Some(post)
    }
}

/// The post record of the contract (docs/ARCHITECTURE.md, "Records").
pub fn record(p: &GenPost, topics: &[Topic]) -> Record {
    let handle = names::handle(p.author);
    Record::Post(Post {
        source: "x".into(),
        id: p.id.to_string(),
        url: Some(format!("https://twitter.com/{handle}/status/{}", p.id)),
        text: Some(p.text.clone()),
        lang: Some(p.lang.into()),
        created_at: Some(p.created_at),
        author: Some(Author {
            id: author_id(p.author),
            handle: Some(handle),
            followers: Some(names::followers(p.author)),
            extra: Default::default(),
        }),
        metrics: Metrics {
            reposts: Some(p.reposts),
            likes: Some(p.likes),
            replies: Some(p.replies),
            quotes: Some(p.quotes),
        },
        parent_id: p.parent_id.map(|i| i.to_string()),
        quote_of: p.quote_of.map(|i| i.to_string()),
        repost_of: p.repost_of.as_ref().map(|o| o.id.to_string()),
        conversation_id: Some(p.conversation.to_string()),
        trend: topics.get(p.trend).map(|t| t.key.clone()),
        observed_at: Some(p.observed_at),
        sentiment: None,
        extra: Default::default(),
    })
}

/// The account id of an author number (X ids are numbers written as strings).
pub fn author_id(n: u64) -> String {
    (1_000_000_000 + n * 37).to_string()
}

/// Writes `args.records` post records; returns how many.
pub fn write(args: &PostArgs, out: &mut impl Write) -> anyhow::Result<u64> {
    let mut posts = Generator::new(args)?;
    let mut written = 0;
    while let Some(p) = posts.next() {
        serde_json::to_writer(&mut *out, &record(&p, &posts.topics))?;
        out.write_all(b"\n")?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_snowflake_epoch_is_x_s() {
        let epoch = Utc.with_ymd_and_hms(2010, 11, 4, 1, 42, 54).unwrap() + Duration::milliseconds(657);
        assert_eq!(epoch.timestamp_millis(), SNOWFLAKE_EPOCH_MS);
    }
}
