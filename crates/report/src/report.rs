//! The report's data: every section computed from the database for one [`Scope`],
//! as plain values that each format renders (and that JSON serialises as is).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use trendpipe_core::sql::Sql;

use crate::categories::{CATEGORIES, Category, Rules};
use crate::query::{self, alerts::AlertRow, influencers::InfluencerRow, observations::Point};
use crate::scope::{Scope, ser_time};
use crate::words::{self, Placed, WordCount};

/// A section of the report; `report SECTION` shows one, `report` all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Top,
    Evolution,
    Sentiment,
    Alerts,
    Words,
    Influencers,
    Heatmap,
    Categories,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Top,
        Section::Evolution,
        Section::Sentiment,
        Section::Alerts,
        Section::Words,
        Section::Influencers,
        Section::Heatmap,
        Section::Categories,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Top => "top",
            Section::Evolution => "evolution",
            Section::Sentiment => "sentiment",
            Section::Alerts => "alerts",
            Section::Words => "words",
            Section::Influencers => "influencers",
            Section::Heatmap => "heatmap",
            Section::Categories => "categories",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Top => "Top trends",
            Section::Evolution => "Volume evolution",
            Section::Sentiment => "Sentiment",
            Section::Alerts => "Alerts",
            Section::Words => "Word clouds",
            Section::Influencers => "Influencers",
            Section::Heatmap => "When things trend",
            Section::Categories => "Categories",
        }
    }
}

/// The predominant sentiment of a trend over the window.
#[derive(Debug, Clone, Serialize)]
pub struct SentimentSummary {
    pub label: String,
    pub mean_compound: f64,
    pub posts: i64,
}

/// One line of the top-N.
#[derive(Debug, Clone, Serialize)]
pub struct TopTrend {
    pub position: usize,
    #[serde(skip)]
    pub id: i64,
    pub source: String,
    pub key: String,
    pub name: String,
    /// The highest volume seen, `None` when the provider never gave one.
    pub peak_volume: Option<i64>,
    pub best_rank: Option<i64>,
    pub places: Vec<String>,
    /// Distinct snapshots the trend was listed in: its persistence.
    pub snapshots: i64,
    pub observations: i64,
    /// From its first to its last observation in the window.
    pub minutes_trending: i64,
    #[serde(serialize_with = "ser_time")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: DateTime<Utc>,
    pub category: String,
    pub category_rule: String,
    pub sentiment: Option<SentimentSummary>,
}

/// A point of a chart line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimePoint {
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// One trend in one place: runs of observations, split where one is missing.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub place: String,
    /// `volume`, or `rank` for a place where the provider gave no volume.
    pub metric: &'static str,
    pub segments: Vec<Vec<TimePoint>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evolution {
    pub key: String,
    pub name: String,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentimentPoint {
    #[serde(serialize_with = "ser_time")]
    pub window_start: DateTime<Utc>,
    pub posts: i64,
    pub mean_compound: f64,
    pub share_positive: f64,
    pub share_neutral: f64,
    pub share_negative: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentimentSeries {
    pub key: String,
    pub name: String,
    pub window_len: String,
    pub points: Vec<SentimentPoint>,
    /// Times of the trend's alerts in the window.
    pub alerts: Vec<TimePoint>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Evidence {
    #[serde(default)]
    pub id: serde_json::Value,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub compound: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub metric: String,
    pub direction: String,
    pub source: Option<String>,
    pub place: Option<String>,
    pub trend_key: String,
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub score: Option<f64>,
    pub posts: Option<i64>,
    pub method: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cloud {
    pub key: String,
    pub name: String,
    pub posts: usize,
    pub words: Vec<WordCount>,
    #[serde(skip)]
    pub placed: Vec<Placed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leaderboard {
    pub key: String,
    pub name: String,
    pub accounts: Vec<InfluencerRow>,
}

/// Day-of-week (Monday first) × hour-of-day cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Grid {
    /// Trend starts: the first observation of a trend in a (local) day.
    pub starts: [[u64; 24]; 7],
    /// Volume summed over observations.
    pub volume: [[i64; 24]; 7],
}

#[derive(Debug, Clone, Serialize)]
pub struct Heatmaps {
    pub overall: Grid,
    pub per_category: BTreeMap<String, Grid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryRow {
    pub key: String,
    pub category: String,
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryCount {
    pub category: String,
    pub trends: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Categories {
    pub counts: Vec<CategoryCount>,
    pub trends: Vec<CategoryRow>,
}

/// The whole report; a section not asked for is `None`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scope: Scope,
    #[serde(skip)]
    pub sections: Vec<Section>,
    /// `trends`, the name the top-N had before the other sections existed.
    #[serde(rename = "trends")]
    pub top: Option<Vec<TopTrend>>,
    pub evolution: Option<Vec<Evolution>>,
    pub sentiment: Option<Vec<SentimentSeries>>,
    pub alerts: Option<Vec<Alert>>,
    pub words: Option<Vec<Cloud>>,
    pub influencers: Option<Vec<Leaderboard>>,
    pub heatmap: Option<Heatmaps>,
    pub categories: Option<Categories>,
    /// The pipeline's health, shown by the HTML page of the whole report (filled by
    /// the caller: `report` reads it once, `report serve` keeps a recent copy).
    #[serde(skip)]
    pub health: Option<crate::health::Health>,
}

/// How many accounts a trend's leaderboard lists.
pub const LEADERS: usize = 10;

/// Word-cloud box, in pixels.
pub const CLOUD_SIZE: (f64, f64) = (640.0, 320.0);

/// Builds the `sections` of the report. `store` writes the categories to SQL.
pub async fn build(
    sql: &Sql,
    scope: &Scope,
    sections: &[Section],
    rules: &Rules,
    store: bool,
) -> anyhow::Result<Report> {
    let wants = |s: Section| sections.contains(&s);
    let started = std::time::Instant::now();
    let lap = |what: &str| log::debug!("{what}: {} ms", started.elapsed().as_millis());
    let rows = query::top::top_trends(sql, scope).await.context("querying the top trends")?;
    lap("top");
    let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    let names: HashMap<&str, &str> = rows.iter().map(|r| (r.key.as_str(), r.name.as_str())).collect();
    let name_of = |k: &str| names.get(k).map_or_else(|| k.to_owned(), |n| (*n).to_owned());

    // Once the top trends are known, the other sections' reads are independent: they
    // run concurrently on the pool (PostgreSQL answers them on both cores), each one
    // query for all the top trends rather than one per trend.
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let clouds = async {
        let texts = query::words::texts(sql, scope, &keys).await.context("reading posts for word clouds")?;
        // Counting and laying out words is CPU work: off the async threads.
        let keyed: Vec<(String, String)> = rows.iter().map(|r| (r.key.clone(), r.name.clone())).collect();
        tokio::task::spawn_blocking(move || clouds_of(keyed, texts)).await.context("laying out word clouds")
    };
    let hourly = async {
        if wants(Section::Heatmap) || wants(Section::Categories) {
            query::observations::hourly(sql, scope).await.context("querying hourly observations")
        } else {
            Ok(Vec::new())
        }
    };
    let sentiment_rows =
        async { query::sentiment::windows(sql, scope, &keys).await.context("querying trend sentiment") };
    let alert_rows = async {
        if wants(Section::Alerts) || wants(Section::Sentiment) {
            optional(query::alerts::alerts(sql, scope).await, "alerts").context("querying alerts")
        } else {
            Ok(Vec::new())
        }
    };
    // The evolution's series name each trend's places too: read the places alone
    // only when the series are not wanted.
    let series = async {
        if wants(Section::Evolution) {
            query::observations::series(sql, scope, &ids).await.context("querying series").map(Some)
        } else {
            Ok(None)
        }
    };
    let places = async {
        if wants(Section::Evolution) {
            Ok(Vec::new())
        } else {
            query::top::places_of(sql, scope, &ids).await.context("querying places")
        }
    };
    let influencer_rows = async {
        if wants(Section::Influencers) {
            optional(query::influencers::leaderboard(sql, scope, &keys).await, "influencer scores")
                .context("querying influencer scores")
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let (clouds, hourly, sentiment_rows, alert_rows, series, places, influencer_rows) = tokio::try_join!(
        timed(started, "words", clouds),
        timed(started, "hourly", hourly),
        timed(started, "sentiment", sentiment_rows),
        timed(started, "alerts", alert_rows),
        timed(started, "series", series),
        timed(started, "places", places),
        timed(started, "influencers", influencer_rows),
    )?;
    lap("sections");

    let mut all_keys: Vec<String> = keys.clone();
    let mut seen: HashSet<String> = keys.iter().cloned().collect();
    for h in &hourly {
        if seen.insert(h.key.clone()) {
            all_keys.push(h.key.clone());
        }
    }
    let categories = categorise(sql, rules, &all_keys, &names, &clouds).await?;
    lap("categories");
    if store && !categories.is_empty() {
        let rows: Vec<(String, String, String)> =
            categories.iter().map(|(k, c)| (k.clone(), c.category.clone(), c.rule.clone())).collect();
        query::categories::store(sql, &rows).await.context("storing trend categories")?;
    }
    let sentiment = sentiment_series(&rows, &sentiment_rows, &alert_rows);

    // Each trend's points (or places), split off the one answer in trend order.
    let mut points_of: HashMap<i64, Vec<Point>> = HashMap::with_capacity(rows.len());
    for p in series.unwrap_or_default() {
        points_of.entry(p.trend_id).or_default().push(p);
    }
    let mut places_of: HashMap<i64, Vec<String>> = HashMap::with_capacity(rows.len());
    for p in places {
        places_of.entry(p.trend_id).or_default().push(p.place);
    }
    let series: Vec<Vec<Point>> = if wants(Section::Evolution) {
        rows.iter().map(|r| points_of.remove(&r.id).unwrap_or_default()).collect()
    } else {
        Vec::new()
    };
    let mut top = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let places = match series.get(i) {
            Some(points) => {
                let names: std::collections::BTreeSet<&str> = points.iter().map(|p| p.place.as_str()).collect();
                names.into_iter().map(str::to_owned).collect()
            }
            None => places_of.remove(&r.id).unwrap_or_default(),
        };
        let category = categories
            .get(&r.key)
            .cloned()
            .unwrap_or_else(|| Category { category: "other".into(), rule: "default".into() });
        top.push(TopTrend {
            position: i + 1,
            id: r.id,
            source: r.source.clone(),
            key: r.key.clone(),
            name: r.name.clone(),
            peak_volume: r.peak_volume,
            best_rank: r.best_rank,
            places,
            snapshots: r.snapshots,
            observations: r.observations,
            minutes_trending: (r.last_seen - r.first_seen).num_minutes(),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            category: category.category,
            category_rule: category.rule,
            sentiment: summary(sentiment.iter().find(|s| s.key == r.key)),
        });
    }
    lap("places");

    let evolution = wants(Section::Evolution).then(|| {
        top.iter()
            .zip(&series)
            .map(|(t, points)| Evolution { key: t.key.clone(), name: t.name.clone(), lines: lines(points) })
            .collect()
    });

    let influencers = influencer_rows.map(|rows| leaderboards(&keys, rows, &name_of));

    let heatmap = wants(Section::Heatmap).then(|| heatmaps(scope, &hourly, &categories));
    let cats = wants(Section::Categories).then(|| {
        let mut counts: Vec<CategoryCount> =
            CATEGORIES.iter().map(|c| CategoryCount { category: (*c).to_owned(), trends: 0 }).collect();
        let mut trends = Vec::new();
        for k in &all_keys {
            if let Some(c) = categories.get(k) {
                if let Some(n) = counts.iter_mut().find(|n| n.category == c.category) {
                    n.trends += 1;
                }
                trends.push(CategoryRow { key: k.clone(), category: c.category.clone(), rule: c.rule.clone() });
            }
        }
        Categories { counts, trends }
    });

    lap("rest");
    let alerts = wants(Section::Alerts).then(|| alert_rows.iter().map(alert).collect());
    Ok(Report {
        scope: scope.clone(),
        sections: sections.to_vec(),
        top: wants(Section::Top).then_some(top),
        evolution,
        sentiment: wants(Section::Sentiment).then_some(sentiment),
        alerts,
        words: wants(Section::Words).then_some(clouds),
        influencers,
        heatmap,
        categories: cats,
        health: None,
    })
}

/// Awaits `read` and logs (at debug) when it ended, in ms since `started`: the laps
/// of the sections read at once.
async fn timed<T>(started: std::time::Instant, what: &str, read: impl std::future::Future<Output = T>) -> T {
    let out = read.await;
    log::debug!("{what} read: {} ms", started.elapsed().as_millis());
    out
}

/// The rows of a table another stage owns, or none (with a warning) when the
/// database predates that stage's migration: a report still shows its other sections.
fn optional<T>(result: Result<Vec<T>, sqlx::Error>, what: &str) -> Result<Vec<T>, sqlx::Error> {
    match result {
        Err(sqlx::Error::Database(e))
            if ["no such table", "no such column", "does not exist"].iter().any(|m| e.message().contains(m)) =>
        {
            log::warn!("no {what} in this database ({}); run that stage to fill it", e.message());
            Ok(Vec::new())
        }
        other => other,
    }
}

/// The word cloud of each top trend (`(key, name)`, in order) from the texts read
/// for its key, newest first. A post without a text took one of the key's
/// [`query::words::MAX_POSTS`] places in the query but gives no words and is not
/// counted in `posts`.
fn clouds_of(trends: Vec<(String, String)>, texts: Vec<query::words::KeyText>) -> Vec<Cloud> {
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for t in texts {
        if let Some(text) = t.text {
            by_key.entry(t.trend_key).or_default().push(text);
        }
    }
    let empty = Vec::new();
    trends
        .into_iter()
        .map(|(key, name)| {
            let texts = by_key.get(&key).unwrap_or(&empty);
            let counts = words::count(texts.iter().map(String::as_str));
            let placed = words::layout(&counts, CLOUD_SIZE.0, CLOUD_SIZE.1);
            let shown: Vec<WordCount> = counts.into_iter().take(words::MAX_WORDS).collect();
            Cloud { key, name, posts: texts.len(), words: shown, placed }
        })
        .collect()
}

async fn categorise(
    sql: &Sql,
    rules: &Rules,
    keys: &[String],
    names: &HashMap<&str, &str>,
    clouds: &[Cloud],
) -> anyhow::Result<HashMap<String, Category>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (provider, titles) = tokio::try_join!(
        async { query::categories::provider(sql, keys).await.context("reading provider categories") },
        async { query::categories::news(sql, keys).await.context("reading news titles") },
    )?;
    let provider: HashMap<String, String> = provider.into_iter().map(|kv| (kv.trend_key, kv.value)).collect();
    let mut news: HashMap<String, Vec<String>> = HashMap::new();
    for kv in titles {
        news.entry(kv.trend_key).or_default().push(kv.value);
    }
    let mut out = HashMap::with_capacity(keys.len());
    for k in keys {
        let name = names.get(k.as_str()).copied().unwrap_or(k);
        let words: Vec<(String, usize)> = clouds
            .iter()
            .find(|c| &c.key == k)
            .map(|c| c.words.iter().map(|w| (w.word.clone(), w.count)).collect())
            .unwrap_or_default();
        let empty = Vec::new();
        let c = rules.classify(name, provider.get(k).map(String::as_str), news.get(k).unwrap_or(&empty), &words);
        out.insert(k.clone(), c);
    }
    Ok(out)
}

/// Splits each place's observations into runs: a gap opens where the time to the
/// next observation exceeds 1.5 times the usual (median) spacing of that place's
/// observations, that is where at least one snapshot did not list the trend.
pub fn lines(points: &[Point]) -> Vec<Line> {
    let mut by_place: BTreeMap<&str, Vec<&Point>> = BTreeMap::new();
    for p in points {
        by_place.entry(p.place.as_str()).or_default().push(p);
    }
    let mut out = Vec::with_capacity(by_place.len());
    for (place, mut pts) in by_place {
        pts.sort_by_key(|p| p.observed_at);
        let has_volume = pts.iter().any(|p| p.volume.is_some());
        let value = |p: &Point| if has_volume { p.volume.map(|v| v as f64) } else { p.rank.map(|r| r as f64) };
        let mut gaps: Vec<i64> = pts.windows(2).map(|w| (w[1].observed_at - w[0].observed_at).num_seconds()).collect();
        gaps.sort_unstable();
        let usual = gaps.get(gaps.len() / 2).copied().unwrap_or(0).max(1);
        let mut segments: Vec<Vec<TimePoint>> = Vec::new();
        let mut current: Vec<TimePoint> = Vec::new();
        let mut last: Option<DateTime<Utc>> = None;
        for p in pts {
            let far = last.is_some_and(|l| (p.observed_at - l).num_seconds() * 2 > usual * 3);
            match value(p) {
                Some(v) if !far => current.push(TimePoint { at: p.observed_at, value: v }),
                Some(v) => {
                    segments.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
                    current.push(TimePoint { at: p.observed_at, value: v });
                }
                None => segments.extend((!current.is_empty()).then(|| std::mem::take(&mut current))),
            }
            last = Some(p.observed_at);
        }
        segments.extend((!current.is_empty()).then_some(current));
        out.push(Line { place: place.to_owned(), metric: if has_volume { "volume" } else { "rank" }, segments });
    }
    out
}

fn sentiment_series(
    rows: &[query::top::TopRow],
    windows: &[query::sentiment::SentimentRow],
    alerts: &[AlertRow],
) -> Vec<SentimentSeries> {
    let mut out = Vec::new();
    for r in rows {
        let mine: Vec<&query::sentiment::SentimentRow> = windows.iter().filter(|w| w.trend_key == r.key).collect();
        // The finest windows are the most numerous: use that length.
        let mut lens: BTreeMap<&str, usize> = BTreeMap::new();
        for w in &mine {
            *lens.entry(w.window_len.as_str()).or_default() += 1;
        }
        let Some((len, _)) = lens.iter().max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l))) else {
            continue;
        };
        let points = mine
            .iter()
            .filter(|w| w.window_len == *len)
            .map(|w| SentimentPoint {
                window_start: w.window_start,
                posts: w.posts,
                mean_compound: w.mean_compound,
                share_positive: w.share_positive,
                share_neutral: w.share_neutral,
                share_negative: w.share_negative,
            })
            .collect();
        let marks = alerts
            .iter()
            .filter(|a| a.trend_key == r.key)
            .map(|a| TimePoint { at: a.at, value: a.value.unwrap_or(0.0) })
            .collect();
        if out.iter().any(|s: &SentimentSeries| s.key == r.key) {
            continue;
        }
        out.push(SentimentSeries {
            key: r.key.clone(),
            name: r.name.clone(),
            window_len: (*len).to_owned(),
            points,
            alerts: marks,
        });
    }
    out
}

/// Posts-weighted mean compound and the label of the largest weighted share.
fn summary(s: Option<&SentimentSeries>) -> Option<SentimentSummary> {
    let s = s?;
    let posts: i64 = s.points.iter().map(|p| p.posts).sum();
    if posts == 0 {
        return None;
    }
    let w = |f: fn(&SentimentPoint) -> f64| s.points.iter().map(|p| f(p) * p.posts as f64).sum::<f64>() / posts as f64;
    let (pos, neu, neg) = (w(|p| p.share_positive), w(|p| p.share_neutral), w(|p| p.share_negative));
    let label = if pos >= neu && pos >= neg {
        "positive"
    } else if neg > pos && neg >= neu {
        "negative"
    } else {
        "neutral"
    };
    Some(SentimentSummary { label: label.to_owned(), mean_compound: w(|p| p.mean_compound), posts })
}

fn alert(a: &AlertRow) -> Alert {
    let evidence = match a.evidence.as_deref() {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(text).unwrap_or_else(|e| {
            log::warn!("alert on {} at {}: evidence is not a JSON array of posts ({e})", a.trend_key, a.at);
            Vec::new()
        }),
        _ => Vec::new(),
    };
    Alert {
        metric: a.metric.clone(),
        direction: a.direction.clone(),
        source: a.source.clone(),
        place: a.place.clone(),
        trend_key: a.trend_key.clone(),
        at: a.at,
        value: a.value,
        baseline: a.baseline,
        score: a.score,
        posts: a.posts,
        method: a.method.clone(),
        evidence,
    }
}

/// Each account once per trend (its best window), best first.
fn leaderboards(keys: &[String], rows: Vec<InfluencerRow>, name_of: &dyn Fn(&str) -> String) -> Vec<Leaderboard> {
    let mut out: Vec<Leaderboard> = Vec::new();
    for k in keys {
        if out.iter().any(|l| &l.key == k) {
            continue;
        }
        let mut seen = HashSet::new();
        let accounts: Vec<InfluencerRow> = rows
            .iter()
            .filter(|r| &r.trend_key == k)
            .filter(|r| seen.insert((r.source.clone(), r.author_id.clone())))
            .take(LEADERS)
            .cloned()
            .collect();
        out.push(Leaderboard { key: k.clone(), name: name_of(k), accounts });
    }
    out
}

/// Trend starts and volume per local day of week and hour, overall and per category.
pub fn heatmaps(
    scope: &Scope,
    hourly: &[query::observations::HourRow],
    categories: &HashMap<String, Category>,
) -> Heatmaps {
    let mut overall = Grid::default();
    let mut per_category: BTreeMap<String, Grid> = BTreeMap::new();
    let mut first_of_day: HashMap<(&str, chrono::NaiveDate), DateTime<chrono_tz::Tz>> = HashMap::new();
    for h in hourly {
        let local = h.first_at.with_timezone(&scope.tz);
        let cat = categories.get(&h.key).map_or("other", |c| c.category.as_str());
        let (d, hr) = (local.weekday().num_days_from_monday() as usize, local.hour() as usize);
        let v = h.volume.unwrap_or(0);
        overall.volume[d][hr] += v;
        per_category.entry(cat.to_owned()).or_default().volume[d][hr] += v;
        first_of_day
            .entry((h.key.as_str(), local.date_naive()))
            .and_modify(|t| {
                if local < *t {
                    *t = local;
                }
            })
            .or_insert(local);
    }
    for ((key, _), t) in first_of_day {
        let (d, hr) = (t.weekday().num_days_from_monday() as usize, t.hour() as usize);
        overall.starts[d][hr] += 1;
        let cat = categories.get(key).map_or("other", |c| c.category.as_str());
        per_category.entry(cat.to_owned()).or_default().starts[d][hr] += 1;
    }
    Heatmaps { overall, per_category }
}
