//! Data and probes for `faults_db.rs`: generated trend and post records (enough of
//! them that a run is still working when its server is stopped), dirty MongoDB
//! documents for `clean`, dumps of what a database holds keyed by natural keys (so
//! that two databases loaded in different orders compare equal), and the wait for
//! "the run is in the middle of its work".

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc, oid::ObjectId};
use serde_json::{Value, json};
use sqlx::Connection;
use trendpipe_pipeline_tests::servers::Spawned;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `n` trend records of `keys` trends in one place, one snapshot every 30 minutes;
/// the volumes follow a daily rhythm with a surge every 97th snapshot.
pub fn trend_values(n: usize, keys: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let (k, snap) = (i % keys, i / keys);
            let surge = if snap % 97 == 96 { 20 } else { 1 };
            let volume = (1000 + (snap * 37 + k * 11) % 400) * surge;
            json!({"kind": "trend", "source": "x", "place": {"id": "23424768", "name": "Brazil"},
                   "name": format!("#Topic{k}"), "key": format!("topic{k}"), "volume": volume, "rank": k + 1,
                   "observed_at": time(base() + chrono::Duration::minutes(30 * snap as i64))})
        })
        .collect()
}

pub fn trend_lines(n: usize, keys: usize) -> Vec<u8> {
    lines(&trend_values(n, keys))
}

const TEXTS: [&str; 6] = [
    "I love this, what a great show!",
    "This is terrible and sad news",
    "Not bad at all, pretty good actually",
    "Que coisa horrível, muito triste",
    "Adorei demais, que lindo!",
    "ok",
];

/// `n` posts of 300 authors about 10 trends over two days; every fourth one a repost
/// of an earlier post, every fifth a reply.
pub fn post_values(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let author = i % 300;
            let created = base() + chrono::Duration::seconds((i * 172_800 / n.max(1)) as i64);
            let earlier = |d: usize| (i >= d).then(|| format!("{}", 1_000_000 + i - d));
            json!({"kind": "post", "source": "x", "id": format!("{}", 1_000_000 + i),
                   "url": format!("https://x.com/u{author}/status/{}", 1_000_000 + i),
                   "text": TEXTS[i % TEXTS.len()], "lang": if i % TEXTS.len() >= 3 { "pt" } else { "en" },
                   "created_at": time(created),
                   "author": {"id": format!("a{author}"), "handle": format!("user{author}"), "followers": (author * 97) % 5000},
                   "metrics": {"reposts": i % 13, "likes": i % 29, "replies": i % 5, "quotes": i % 3},
                   "parent_id": if i % 5 == 4 { earlier(2) } else { None },
                   "quote_of": null,
                   "repost_of": if i % 4 == 3 { earlier(3) } else { None },
                   "conversation_id": format!("{}", 1_000_000 + i - i % 10),
                   "trend": format!("topic{}", i % 10),
                   "observed_at": time(created + chrono::Duration::hours(1))})
        })
        .collect()
}

pub fn post_lines(n: usize) -> Vec<u8> {
    lines(&post_values(n))
}

fn lines(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        serde_json::to_writer(&mut out, v).unwrap();
        out.push(b'\n');
    }
    out
}

/// Trend and post records as the fetch stages store them (dates as BSON dates, an
/// `ingested_at` in whole seconds, a few records per second).
pub fn stored_records(trends: usize, posts: usize) -> (Vec<Document>, Vec<Document>) {
    let stamp = |values: Vec<Value>| -> Vec<Document> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut d = trendpipe_core::mongo::to_document(v).unwrap();
                trendpipe_core::mongo::stamp_ingested(&mut d, base() + chrono::Duration::seconds((i / 7) as i64));
                d
            })
            .collect()
    };
    (stamp(trend_values(trends, 40)), stamp(post_values(posts)))
}

/// Trend documents `clean` has work on: untrimmed names, keys not normalised, counts
/// stored as text, null volumes (dropped and quarantined), and clean ones.
pub fn dirty_trend_docs(n: usize) -> Vec<Document> {
    trend_values(n, 50)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut d = trendpipe_core::mongo::to_document(v).unwrap();
            d.insert(
                "_id",
                ObjectId::from_bytes([
                    0,
                    0,
                    0,
                    1,
                    0,
                    0,
                    0,
                    0,
                    (i >> 24) as u8,
                    (i >> 16) as u8,
                    (i >> 8) as u8,
                    i as u8,
                ]),
            );
            match i % 5 {
                0 => {
                    let name = d.get_str("name").unwrap().to_owned();
                    d.insert("name", format!("  {name} "));
                }
                1 => {
                    d.insert("key", d.get_str("name").unwrap().to_owned());
                }
                2 => {
                    let volume = d.get("volume").cloned().unwrap_or(Bson::Null);
                    d.insert("volume", volume.to_string());
                }
                3 => {
                    d.insert("volume", Bson::Null);
                }
                _ => {}
            }
            d
        })
        .collect()
}

/// A JSON value with every object's keys sorted.
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// A collection's documents as sorted canonical JSON lines, without `strip` fields.
pub async fn mongo_docs(db: &mongodb::Database, coll: &str, strip: &[&str]) -> Vec<String> {
    let docs: Vec<Document> = db.collection::<Document>(coll).find(doc! {}).await.unwrap().try_collect().await.unwrap();
    let mut out: Vec<String> = docs
        .into_iter()
        .map(|mut d| {
            for k in strip {
                d.remove(*k);
            }
            canonical(Bson::Document(d).into_relaxed_extjson()).to_string()
        })
        .collect();
    out.sort();
    out
}

/// Waits until `ready` holds while `child` still runs: the moment to inject a fault.
pub async fn until<F, Fut>(child: &mut Spawned, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..2400 {
        if ready().await {
            assert!(child.running(), "the run finished before the fault could be injected: give it more work");
            return;
        }
        assert!(child.running(), "the run finished before it reached the point of the fault");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the run never reached the point of the fault within 60s");
}

/// True once `stage` has its ledger entry `running` in the PostgreSQL database and,
/// when `progress` is given, that count query returns more than zero.
pub async fn pg_running(url: String, stage: String, progress: Option<&'static str>) -> bool {
    let Ok(mut conn) = sqlx::PgConnection::connect(&url).await else { return false };
    let running: Result<i64, _> =
        sqlx::query_scalar("SELECT count(*) FROM runs WHERE stage = $1 AND status = 'running'")
            .bind(&stage)
            .fetch_one(&mut conn)
            .await;
    let mut ready = running.is_ok_and(|n| n > 0);
    if let (true, Some(query)) = (ready, progress) {
        ready = sqlx::query_scalar::<_, i64>(query).fetch_one(&mut conn).await.is_ok_and(|n| n > 0);
    }
    let _ = conn.close().await;
    ready
}

/// The rows of `table` in a SQLite file (0 when the file or table is not there yet).
pub async fn sqlite_count(file: &Path, table: &str) -> i64 {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
    let Ok(mut conn) = sqlx::SqliteConnection::connect_with(&options).await else { return 0 };
    let n = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut conn).await.unwrap_or(0);
    let _ = conn.close().await;
    n
}

/// What the stages write, by natural key (no surrogate ids, no wall-clock columns).
const DUMPS: [(&str, &str, &str); 11] = [
    ("places", "code, name", "places"),
    ("trends", "t.source, t.key, t.name, t.first_seen, t.last_seen", "trends t"),
    (
        "trend_observations",
        "t.source, t.key, p.code, o.observed_at, o.volume, o.rank",
        "trend_observations o JOIN trends t ON t.id = o.trend_id JOIN places p ON p.id = o.place_id",
    ),
    ("authors", "source, author_id, handle, followers", "authors"),
    (
        "posts",
        "p.source, p.post_id, a.author_id, p.text, p.lang, p.created_at, p.observed_at, p.reposts, p.likes, \
         p.replies, p.quotes, p.parent_id, p.quote_of, p.repost_of, p.conversation_id",
        "posts p JOIN authors a ON a.id = p.author",
    ),
    ("post_trends", "p.source, p.post_id, x.trend_key", "post_trends x JOIN posts p ON p.id = x.post"),
    (
        "post_sentiment",
        "p.source, p.post_id, s.model, s.compound, s.pos, s.neu, s.neg, s.label",
        "post_sentiment s JOIN posts p ON p.id = s.post",
    ),
    (
        "trend_sentiment",
        "trend_key, window_len, window_start, posts, mean_compound, share_positive, share_neutral, share_negative, label",
        "trend_sentiment",
    ),
    (
        "influencer_scores",
        "a.source, a.author_id, i.trend_key, i.window_len, i.window_start, i.score, i.posts, i.reposts, i.likes, \
         i.followers, i.cascade_depth",
        "influencer_scores i JOIN authors a ON a.id = i.author",
    ),
    (
        "alerts",
        "metric, direction, source, place, trend_key, at, value, baseline, score, posts, method, evidence",
        "alerts",
    ),
    ("etl_watermarks", "stream, watermark", "etl_watermarks"),
];

pub type Dump = BTreeMap<&'static str, Vec<String>>;

/// A dumped row with fractions rounded to nine places: an average summed in another
/// row order differs in its last bits, which is not a difference of data.
fn row(text: &str) -> String {
    let values: Vec<Value> = serde_json::from_str(text).unwrap_or_else(|e| panic!("dumped row {text}: {e}"));
    let rounded: Vec<Value> = values
        .into_iter()
        .map(|v| match v.as_f64() {
            Some(f) if !v.is_i64() && !v.is_u64() => Value::String(format!("{f:.9}")),
            _ => v,
        })
        .collect();
    Value::Array(rounded).to_string()
}

/// Every table of [`DUMPS`] through `fetch`, which runs `template` with `{cols}` and
/// `{from}` filled in and returns each row as a JSON array.
async fn dump_with<F, Fut>(template: &str, mut fetch: F) -> Dump
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Vec<String>, sqlx::Error>>,
{
    let mut dump = Dump::new();
    for (name, cols, from) in DUMPS {
        let rows = fetch(template.replace("{cols}", cols).replace("{from}", from))
            .await
            .unwrap_or_else(|e| panic!("dumping {name}: {e}"));
        let mut rows: Vec<String> = rows.iter().map(|r| row(r)).collect();
        rows.sort();
        dump.insert(name, rows);
    }
    dump
}

pub async fn pg_dump(url: &str) -> Dump {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let dump = dump_with("SELECT json_build_array({cols})::text FROM {from}", |q| {
        let pool = pool.clone();
        async move { sqlx::query_scalar(&q).fetch_all(&pool).await }
    })
    .await;
    pool.close().await;
    dump
}

pub async fn sqlite_dump(file: &Path) -> Dump {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let dump = dump_with("SELECT json_array({cols}) FROM {from}", |q| {
        let pool = pool.clone();
        async move { sqlx::query_scalar(&q).fetch_all(&pool).await }
    })
    .await;
    pool.close().await;
    dump
}

/// Asserts two dumps hold the same rows, naming the first table and rows that differ.
pub fn assert_same(stored: &Dump, expected: &Dump) {
    for (table, rows) in expected {
        let got = &stored[table];
        let missing: Vec<&String> = rows.iter().filter(|r| !got.contains(r)).take(3).collect();
        let extra: Vec<&String> = got.iter().filter(|r| !rows.contains(r)).take(3).collect();
        assert!(
            got == rows,
            "{table}: {} rows stored, {} expected; missing {missing:?}; extra {extra:?}",
            got.len(),
            rows.len()
        );
    }
}
