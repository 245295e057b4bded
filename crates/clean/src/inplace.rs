//! `clean --from mongo --to mongo`: cleans the `trends` and `posts` collections in
//! place, for the nightly cron, without pulling every document to the client.
//!
//! Three passes per collection, each pushed down to the server (duplicates run first so
//! that the copies they remove are quarantined as stored, before any normalisation):
//! 1. **Records.** A query made of standard `$type`, `$regex`, `$lt` and `$nor`
//!    clauses selects the documents some rule may change: wrong types, missing fields,
//!    null volumes, counts stored as text, untrimmed names, keys that are not in
//!    normalised form, HTML entities in post text. Only those travel, through a
//!    cursor in batches; the client applies the same rules as filter mode, then
//!    deletes what they reject or drop and `$set`s what normalisation changed.
//! 2. **Duplicates.** A `$group` on the natural key (`source`, `place.id`, `key`,
//!    `observed_at` for trends; `source`, `id` for posts) with `$match` on the count
//!    returns only the groups with more than one document. The unique indexes made by
//!    `ensure_indexes` already stop new duplicates, so this finds what the indexes
//!    cannot: documents stored before the index existed. Keys that normalisation
//!    merges (`#BBB26` stored with the old key `BBB26`) are caught in pass 1 instead:
//!    before a `$set` that changes the natural key, a lookup by the new key (served by
//!    the unique index) finds the record already stored, and the document is
//!    quarantined as a duplicate, as stored; a duplicate-key error on the `$set` (a
//!    concurrent insert) is handled the same way. A trend keeps its first stored copy (smallest `_id`, as filter
//!    mode keeps the first line); a post keeps its freshest copy (latest
//!    `observed_at`, then highest total engagement, then first stored).
//! 3. **Global volumes** (trends): a `$group` on (source, observed_at, key, volume)
//!    keeps the groups seen in more than one place, and `updateMany` sets
//!    `"volume_scope": "global"` on those that do not have it yet.
//!
//! Nothing is lost: every document to remove is first written to `quarantine` (the
//! whole stored document, `_id` included, with the rule and the reason), and only
//! deleted once that insert succeeded. A crash in between leaves the document in place
//! and in the quarantine; the next run finds it again, sees the quarantine entry (by
//! `doc_id`) and only deletes it. Provider fields stay in the raw store (only the
//! clean stream drops them). Running again on clean data matches nothing and changes
//! nothing.
//!
//! The summary's figures are the server's: documents counted before (`examined`) and
//! after (`kept`), each delete's `deletedCount` (`removed`, one delete per rule) and
//! each update's `modifiedCount` (`rewritten`).
//!
//! For the crash-safety test, `TRENDPIPE_CLEAN_FAIL_AFTER_QUARANTINE=1` makes the run
//! fail after the first quarantine insert and before its delete.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use chrono::Utc;
use futures_util::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc, oid::ObjectId};
use mongodb::error::{ErrorKind, WriteFailure};
use serde_json::{Value, json};
use trendpipe_core::error::Status;
use trendpipe_core::mongo::{self, Mongo};
use trendpipe_core::record::format_time;

use crate::identity::Caches;
pub use crate::inplace_counts::CollectionCounts;
use crate::inplace_counts::describe;
use crate::rule::{self, Options, Rule};

/// Set to `1` to make a run fail between a quarantine insert and its delete.
pub const FAIL_AFTER_QUARANTINE: &str = "TRENDPIPE_CLEAN_FAIL_AFTER_QUARANTINE";

const DUPLICATE_KEY: i32 = 11000;
/// Separates the parts of a grouping key; never found in the values.
const SEP: &str = "\u{1f}";
const ENTITY: &str = "&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);";
const UNTRIMMED: &str = "^\\s|\\s$";

/// A document to take out, with why.
struct Removal {
    doc: Document,
    rule: Rule,
    reason: String,
}

struct Ctx<'a> {
    mongo: &'a Mongo,
    options: Options,
    batch: usize,
    run_id: String,
    fail_after_quarantine: bool,
}

/// Cleans `trends` and `posts` in place and records the run.
pub async fn run(options: Options, batch: usize, mongo: &Mongo) -> anyhow::Result<Status> {
    let started_at = Utc::now();
    let ctx = Ctx {
        mongo,
        options,
        batch,
        run_id: uuid::Uuid::new_v4().to_string(),
        fail_after_quarantine: std::env::var(FAIL_AFTER_QUARANTINE).is_ok_and(|v| v == "1"),
    };
    let mut all = BTreeMap::new();
    for coll in [mongo::TRENDS, mongo::POSTS] {
        // A stop request ends the run between documents: every change is a document of
        // its own and the removals in hand are quarantined first, so the next run
        // carries on from what is left.
        if trendpipe_core::shutdown::requested() {
            break;
        }
        let collection = mongo.collection(coll);
        let count = || async {
            collection.count_documents(doc! {}).await.with_context(|| format!("counting the {coll} documents"))
        };
        let mut counts = CollectionCounts { examined: count().await?, ..CollectionCounts::default() };
        // Duplicates first, so that the copies removed go to the quarantine as they
        // were stored, before normalisation touches them.
        if options.dedupe {
            duplicates(&ctx, coll, &mut counts).await?;
        }
        records(&ctx, coll, &mut counts).await?;
        if options.flag_global && coll == mongo::TRENDS {
            global_volumes(&ctx, &mut counts).await?;
        }
        counts.kept = count().await?;
        log::info!(
            "{coll}: examined {}, kept {}, removed {}, rewritten {}, flagged {} global-volume ({} selected by the rules' queries)",
            counts.examined,
            counts.kept,
            describe(&counts.removed),
            counts.rewritten,
            counts.global_volume,
            counts.selected,
        );
        if counts.examined.checked_sub(counts.removed_total()) != Some(counts.kept) {
            log::warn!(
                "{coll}: {} documents at the start less {} removed is not the {} at the end: another process wrote to the collection during the run",
                counts.examined,
                counts.removed_total(),
                counts.kept
            );
        }
        all.insert(coll, counts);
    }
    // With the duplicates gone the unique indexes can be built; with --no-dedupe they
    // may not be, which is the user's choice and not a failure of this run.
    if let Err(e) = mongo.ensure_indexes().await {
        log::warn!("could not create the unique indexes: {e:#}");
    }
    let rejected: u64 = all.values().map(|c| c.removed.get(Rule::Schema.name()).copied().unwrap_or(0)).sum();
    let counts: serde_json::Map<String, Value> = all.iter().map(|(k, c)| ((*k).to_owned(), c.to_json())).collect();
    let run = json!({
        "run_id": ctx.run_id,
        "stage": "clean",
        "mode": "in-place",
        "started_at": format_time(&started_at),
        "finished_at": format_time(&Utc::now()),
        "status": if rejected == 0 { "ok" } else { "rejected" },
        "counts": counts,
    });
    mongo.record_run(&run).await?;
    Ok(Status { rejected, ..Status::ok() })
}

/// Clauses matching documents where `path` has one of `types`.
fn of_types(path: &str, types: &[&str]) -> Vec<Document> {
    types.iter().map(|t| doc! { path: { "$type": *t } }).collect()
}

/// Clauses matching a missing or null `path`. (`{path: null}` is not used: some
/// MongoDB-compatible servers do not match missing fields with it inside `$or`.)
fn missing(path: &str) -> Vec<Document> {
    vec![doc! { path: { "$exists": false } }, doc! { path: { "$type": "null" } }]
}

/// Clauses matching a required string field that is not a non-blank trimmed string.
fn bad_string(path: &str) -> Vec<Document> {
    vec![doc! { "$nor": [ { path: { "$type": "string" } } ] }, doc! { path: { "$regex": UNTRIMMED } }]
}

/// Clauses matching a count the rules would change or reject.
fn bad_count(path: &str, min: i32) -> Vec<Document> {
    let mut c = of_types(path, &["string", "bool", "object", "array"]);
    c.push(doc! { path: { "$lt": min } });
    c
}

/// The documents of `coll` that some record rule may change: everything else is
/// already clean and never leaves the server.
pub fn candidates(coll: &str, options: &Options) -> Document {
    const NOT_TEXT: [&str; 4] = ["number", "bool", "object", "array"];
    let time_types = ["string", "number", "bool", "object", "array"];
    let mut c = Vec::new();
    c.extend(bad_string("source"));
    if coll == mongo::TRENDS {
        c.extend(bad_string("name"));
        c.extend(of_types("key", &NOT_TEXT));
        c.extend(missing("key"));
        c.push(doc! { "key": { "$regex": "[A-Z#]|^\\s|\\s$|\\s\\s|[^\\x00-\\x7F]" } });
        c.push(doc! { "$nor": [ { "place": { "$type": "object" } } ] });
        c.extend(bad_string("place.id"));
        c.extend(missing("observed_at"));
        c.extend(of_types("observed_at", &time_types));
        c.extend(bad_count("volume", 0));
        if !options.keep_null_volume {
            c.extend(missing("volume"));
        }
        c.extend(bad_count("rank", 1));
        c.push(doc! { "rank": { "$type": "null" } });
    } else {
        c.extend(bad_string("id"));
        c.push(doc! { "text": { "$regex": ENTITY } });
        c.extend(of_types("text", &NOT_TEXT));
        for f in ["created_at", "observed_at"] {
            c.extend(of_types(f, &time_types));
        }
        for f in ["url", "lang", "trend", "run_id", "parent_id", "quote_of", "author.handle"] {
            c.extend(of_types(f, &NOT_TEXT));
        }
        c.extend(of_types("author", &["string", "number", "bool", "array"]));
        c.push(doc! { "$nor": [ { "author.id": { "$type": "string" } }, { "author": { "$exists": false } },
        { "author": { "$type": "null" } } ] });
        c.push(doc! { "author.id": { "$regex": UNTRIMMED } });
        c.extend(bad_count("author.followers", 0));
        c.extend(of_types("metrics", &["string", "number", "bool", "array"]));
        for m in ["reposts", "likes", "replies", "quotes"] {
            c.extend(bad_count(&format!("metrics.{m}"), 0));
        }
    }
    doc! { "$or": c }
}

/// Pass 1: the record rules on the candidate documents.
async fn records(ctx: &Ctx<'_>, coll: &str, counts: &mut CollectionCounts) -> anyhow::Result<()> {
    let collection = ctx.mongo.collection(coll);
    let mut cursor = collection
        .find(candidates(coll, &ctx.options))
        .sort(doc! { "_id": 1 })
        .batch_size(ctx.batch as u32)
        .await
        .with_context(|| format!("selecting the {coll} documents to clean"))?;
    let mut removals = Vec::new();
    let mut caches = Caches::default();
    while let Some(doc) = cursor.try_next().await.with_context(|| format!("reading {coll}"))? {
        if trendpipe_core::shutdown::requested() {
            break;
        }
        counts.selected += 1;
        let mut record = mongo::to_json(doc.clone());
        if coll == mongo::POSTS {
            // Stored posts may lack `kind`; the collection says what they are.
            if let Value::Object(o) = &mut record {
                o.entry("kind").or_insert_with(|| Value::String("post".into()));
            }
        }
        match rule::clean_one(&ctx.options, &mut caches, &record) {
            Err((rule, reason)) => {
                if rule == Rule::Schema && !ctx.options.validate {
                    continue;
                }
                removals.push(Removal { doc, rule, reason });
            }
            Ok(clean) => match update(ctx, coll, doc, &record, &clean).await? {
                Updated::Removal(removal) => removals.push(removal),
                Updated::Rewritten(n) => counts.rewritten += n,
            },
        }
        if removals.len() >= ctx.batch {
            remove(ctx, coll, std::mem::take(&mut removals), counts).await?;
        }
    }
    remove(ctx, coll, removals, counts).await
}

/// What [`update`] did with a document.
enum Updated {
    /// Rewrote it: the number of documents the server says it modified (0 or 1).
    Rewritten(u64),
    /// Found it a duplicate once normalised: to remove.
    Removal(Removal),
}

/// `$set`s (and `$unset`s) what normalisation changed. A change that makes the
/// document collide with another on a unique index makes it a duplicate to remove.
async fn update(ctx: &Ctx<'_>, coll: &str, doc: Document, before: &Value, after: &Value) -> anyhow::Result<Updated> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else { return Ok(Updated::Rewritten(0)) };
    let changed: serde_json::Map<String, Value> =
        after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut unset = Document::new();
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        unset.insert(k.clone(), "");
    }
    if changed.is_empty() && unset.is_empty() {
        return Ok(Updated::Rewritten(0));
    }
    let mut change = Document::new();
    if !changed.is_empty() {
        change.insert("$set", mongo::to_document(&Value::Object(changed))?);
    }
    if !unset.is_empty() {
        change.insert("$unset", unset);
    }
    let id = doc.get("_id").cloned().unwrap_or(Bson::Null);
    if ctx.options.dedupe {
        if let Some(identity) = moved_identity(coll, before, after)? {
            let mut other = identity;
            other.insert("_id", doc! { "$ne": id.clone() });
            let found = ctx.mongo.collection(coll).find_one(other).await.with_context(|| format!("reading {coll}"))?;
            if found.is_some() {
                return Ok(Updated::Removal(Removal {
                    doc,
                    rule: Rule::Duplicate,
                    reason: "once normalised, a duplicate of a record already stored".into(),
                }));
            }
        }
    }
    // Normalisation may change a shard key field (a key recomputed): a sharded
    // cluster then wants the stored shard key in the filter.
    match ctx.mongo.collection(coll).update_one(mongo::shard_key_filter(coll, &doc), change).await {
        Ok(result) => Ok(Updated::Rewritten(result.modified_count)),
        Err(e) if is_duplicate_key(&e) => Ok(Updated::Removal(Removal {
            doc,
            rule: Rule::Duplicate,
            reason: "once normalised, a duplicate of a record already stored".into(),
        })),
        Err(e) => Err(anyhow::Error::new(e).context(format!("updating a {coll} document"))),
    }
}

/// The natural key after normalisation, when normalisation changed it (a key
/// recomputed, a place id trimmed): the document may now repeat another one.
fn moved_identity(
    coll: &str,
    before: &serde_json::Map<String, Value>,
    after: &serde_json::Map<String, Value>,
) -> anyhow::Result<Option<Document>> {
    let fields: &[&str] =
        if coll == mongo::TRENDS { &["source", "place", "key", "observed_at"] } else { &["source", "id"] };
    let place_id = |m: &serde_json::Map<String, Value>| m.get("place").and_then(|p| p.get("id")).cloned();
    let moved = fields.iter().any(|f| match *f {
        "place" => place_id(before) != place_id(after),
        f => before.get(f) != after.get(f),
    });
    if !moved {
        return Ok(None);
    }
    let mut flat = serde_json::Map::new();
    for f in fields {
        match (*f, after.get(*f)) {
            ("place", _) => {
                flat.insert("place.id".into(), place_id(after).unwrap_or(Value::Null));
            }
            (f, v) => {
                flat.insert(f.into(), v.cloned().unwrap_or(Value::Null));
            }
        }
    }
    Ok(Some(mongo::to_document(&Value::Object(flat))?))
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        _ => e.to_string().contains("E11000") || e.to_string().contains("UNIQUE constraint failed"),
    }
}

/// Quarantines, then deletes. The delete runs only once the quarantine insert has
/// succeeded; documents an interrupted run already quarantined are not written twice.
async fn remove(
    ctx: &Ctx<'_>,
    coll: &str,
    removals: Vec<Removal>,
    counts: &mut CollectionCounts,
) -> anyhow::Result<()> {
    if removals.is_empty() {
        return Ok(());
    }
    let ids: Vec<Bson> = removals.iter().filter_map(|r| r.doc.get("_id").cloned()).collect();
    let quarantine = ctx.mongo.collection(mongo::QUARANTINE);
    let already: HashSet<String> = quarantine
        .find(doc! { "stage": "clean", "collection": coll, "doc_id": { "$in": ids.clone() } })
        .projection(doc! { "doc_id": 1 })
        .await
        .context("reading the quarantine")?
        .try_collect::<Vec<Document>>()
        .await
        .context("reading the quarantine")?
        .iter()
        .filter_map(|d| d.get("doc_id").map(bson_key))
        .collect();
    let now = bson::DateTime::from_millis(Utc::now().timestamp_millis());
    let entries: Vec<Document> = removals
        .iter()
        .filter(|r| !r.doc.get("_id").is_some_and(|id| already.contains(&bson_key(id))))
        .map(|r| {
            doc! {
                "stage": "clean", "reason": &r.reason, "rule": r.rule.name(), "collection": coll,
                "doc_id": r.doc.get("_id").cloned().unwrap_or(Bson::Null),
                "record": r.doc.clone(), "at": now, "run_id": &ctx.run_id,
            }
        })
        .collect();
    if !entries.is_empty() {
        quarantine.insert_many(entries).await.context("writing to the quarantine collection")?;
    }
    if ctx.fail_after_quarantine {
        anyhow::bail!("stopping between quarantine and delete ({FAIL_AFTER_QUARANTINE}=1)");
    }
    // One delete per rule, so that each rule's count is the server's own.
    let mut by_rule: BTreeMap<&'static str, Vec<Bson>> = BTreeMap::new();
    for r in &removals {
        if r.rule == Rule::Schema {
            log::warn!("{coll} document {}: {}", r.doc.get("_id").map(bson_key).unwrap_or_default(), r.reason);
        }
        by_rule.entry(r.rule.name()).or_default().extend(r.doc.get("_id").cloned());
    }
    for (rule, ids) in by_rule {
        let deleted = ctx
            .mongo
            .collection(coll)
            .delete_many(doc! { "_id": { "$in": ids } })
            .await
            .with_context(|| format!("deleting quarantined {coll} documents"))?
            .deleted_count;
        *counts.removed.entry(rule).or_default() += deleted;
    }
    Ok(())
}

/// A comparable text form of an `_id` (servers differ in how they return them).
fn bson_key(b: &Bson) -> String {
    match b {
        Bson::ObjectId(o) => o.to_hex(),
        Bson::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn date_text(path: &str) -> Bson {
    Bson::Document(doc! { "$dateToString": { "format": "%Y-%m-%dT%H:%M:%S.%LZ", "date": path } })
}

/// The natural key of a document as one string: some MongoDB-compatible servers do
/// not group on a compound `_id`, all group on a `$concat`.
fn natural_key(coll: &str) -> Bson {
    let parts: Vec<Bson> = if coll == mongo::TRENDS {
        vec![
            "$source".into(),
            SEP.into(),
            "$place.id".into(),
            SEP.into(),
            "$key".into(),
            SEP.into(),
            date_text("$observed_at"),
        ]
    } else {
        vec!["$source".into(), SEP.into(), "$id".into()]
    };
    Bson::Document(doc! { "$concat": parts })
}

/// Documents whose natural key has the types `$concat` and `$dateToString` accept
/// (MongoDB fails the whole pipeline on a number in `$concat`). Dates are matched by
/// excluding the other types: some compatible servers do not match `$type: "date"`.
/// Records of other types are left to the records pass, which checks a key it
/// changes against the stored ones.
fn groupable(coll: &str) -> Document {
    if coll == mongo::POSTS {
        return doc! { "source": { "$type": "string" }, "id": { "$type": "string" } };
    }
    let mut not_dates: Vec<Document> = missing("observed_at");
    not_dates.extend(of_types("observed_at", &["string", "number", "bool", "object", "array"]));
    doc! {
        "source": { "$type": "string" }, "place.id": { "$type": "string" }, "key": { "$type": "string" },
        "$nor": not_dates,
    }
}

/// Pass 2: documents sharing a natural key; all but one are quarantined and deleted.
async fn duplicates(ctx: &Ctx<'_>, coll: &str, counts: &mut CollectionCounts) -> anyhow::Result<()> {
    let pipeline = vec![
        doc! { "$match": groupable(coll) },
        doc! { "$group": { "_id": natural_key(coll), "ids": { "$push": "$_id" }, "n": { "$sum": 1 } } },
        doc! { "$match": { "n": { "$gt": 1 } } },
    ];
    let collection = ctx.mongo.collection(coll);
    let mut groups = collection
        .aggregate(pipeline)
        .allow_disk_use(true)
        .batch_size(ctx.batch as u32)
        .await
        .with_context(|| format!("grouping the {coll} duplicates"))?;
    let mut losers: Vec<Bson> = Vec::new();
    while let Some(group) = groups.try_next().await.with_context(|| format!("grouping the {coll} duplicates"))? {
        if matches!(group.get("_id"), None | Some(Bson::Null)) {
            continue;
        }
        let Ok(ids) = group.get_array("ids") else { continue };
        counts.selected += ids.len() as u64;
        let mut ids: Vec<Bson> = ids.clone();
        ids.sort_by_key(bson_key);
        let keeper = if coll == mongo::POSTS { freshest(ctx, &ids).await? } else { ids.first().cloned() };
        losers.extend(ids.into_iter().filter(|id| Some(id) != keeper.as_ref()));
        if losers.len() >= ctx.batch {
            remove_by_id(ctx, coll, std::mem::take(&mut losers), counts).await?;
        }
    }
    remove_by_id(ctx, coll, losers, counts).await
}

/// The `_id` of the freshest copy of a post (see the module documentation).
async fn freshest(ctx: &Ctx<'_>, ids: &[Bson]) -> anyhow::Result<Option<Bson>> {
    let docs: Vec<Document> = ctx
        .mongo
        .collection(mongo::POSTS)
        .find(doc! { "_id": { "$in": ids.to_vec() } })
        .await
        .context("reading duplicate posts")?
        .try_collect()
        .await
        .context("reading duplicate posts")?;
    let mut best: Option<((i64, i64), String, Bson)> = None;
    for d in docs {
        let id = d.get("_id").cloned().unwrap_or(Bson::Null);
        let key = bson_key(&id);
        let mut record = mongo::to_json(d);
        if let Value::Object(o) = &mut record {
            o.entry("kind").or_insert_with(|| Value::String("post".into()));
        }
        let fresh = rule::normalised_post(&record).map_or((i64::MIN, 0), |(_, check)| check.fresh);
        // Fresher wins; between equals, the first stored (smallest _id).
        let better = match &best {
            None => true,
            Some((f, k, _)) => fresh > *f || (fresh == *f && key < *k),
        };
        if better {
            best = Some((fresh, key, id));
        }
    }
    Ok(best.map(|(_, _, id)| id))
}

async fn remove_by_id(ctx: &Ctx<'_>, coll: &str, ids: Vec<Bson>, counts: &mut CollectionCounts) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let docs: Vec<Document> = ctx
        .mongo
        .collection(coll)
        .find(doc! { "_id": { "$in": ids } })
        .await
        .with_context(|| format!("reading duplicate {coll} documents"))?
        .try_collect()
        .await
        .with_context(|| format!("reading duplicate {coll} documents"))?;
    let reason = if coll == mongo::POSTS {
        "duplicate of a fresher copy of the same post (source, id)"
    } else {
        "duplicate of an earlier observation of the same trend, place and time"
    };
    let removals = docs.into_iter().map(|doc| Removal { doc, rule: Rule::Duplicate, reason: reason.into() }).collect();
    remove(ctx, coll, removals, counts).await
}

/// Pass 3: flags trends whose key has the same volume in several places of one
/// snapshot (same source and `observed_at`).
async fn global_volumes(ctx: &Ctx<'_>, counts: &mut CollectionCounts) -> anyhow::Result<()> {
    let group_key = Bson::Document(doc! { "$concat": [
        "$source", SEP, date_text("$observed_at"), SEP, "$key", SEP, { "$toString": "$volume" }
    ] });
    let mut only = groupable(mongo::TRENDS);
    only.insert("volume", doc! { "$gte": 0 });
    let pipeline = vec![
        doc! { "$match": only },
        doc! { "$group": { "_id": group_key, "places": { "$addToSet": "$place.id" }, "ids": { "$push": "$_id" } } },
        doc! { "$project": { "ids": 1, "places": { "$size": "$places" } } },
        doc! { "$match": { "places": { "$gt": 1 } } },
    ];
    let trends = ctx.mongo.collection(mongo::TRENDS);
    let mut groups = trends
        .aggregate(pipeline)
        .allow_disk_use(true)
        .batch_size(ctx.batch as u32)
        .await
        .context("grouping the trends by snapshot and volume")?;
    let mut ids: Vec<Bson> = Vec::new();
    while let Some(group) = groups.try_next().await.context("grouping the trends by snapshot and volume")? {
        if matches!(group.get("_id"), None | Some(Bson::Null)) {
            continue;
        }
        if let Ok(members) = group.get_array("ids") {
            // Some servers return the pushed ids as hex strings after a $project.
            ids.extend(members.iter().map(|id| match id {
                Bson::String(s) => ObjectId::parse_str(s).map(Bson::ObjectId).unwrap_or_else(|_| id.clone()),
                other => other.clone(),
            }));
        }
        if ids.len() >= ctx.batch {
            counts.global_volume += flag(&trends, std::mem::take(&mut ids)).await?;
        }
    }
    counts.global_volume += flag(&trends, ids).await?;
    Ok(())
}

async fn flag(trends: &mongodb::Collection<Document>, ids: Vec<Bson>) -> anyhow::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let result = trends
        .update_many(
            doc! { "_id": { "$in": ids }, "volume_scope": { "$exists": false } },
            doc! { "$set": { "volume_scope": "global" } },
        )
        .await
        .context("flagging global volumes")?;
    Ok(result.modified_count)
}
