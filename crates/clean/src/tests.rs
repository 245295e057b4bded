//! Unit tests of the rules through the stream: records in, events out.

use serde_json::{Value, json};

use crate::identity::Caches;
use crate::prepare::{Preparer, Ready};
use crate::rule::{self, Options, Rule};
use crate::stream::{Changes, Cleaner, Event, Out};

fn run(options: Options, input: Vec<Value>) -> (Vec<Event>, Changes) {
    let mut c = Cleaner::new(options);
    let mut events = Vec::new();
    for (i, v) in input.into_iter().enumerate() {
        c.push(Some(i as u64 + 1), 100, v);
        events.extend(std::iter::from_fn(|| c.next_event()));
    }
    c.finish();
    events.extend(std::iter::from_fn(|| c.next_event()));
    (events, c.changes())
}

/// The same lines read as lines (trends from their borrowed fields).
fn run_lines(options: Options, lines: &[String]) -> (Vec<Event>, Changes) {
    let mut c = Cleaner::new(options);
    let mut preparer = Preparer::new(options);
    let mut events = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let mut heads = Vec::new();
        let line = i as u64 + 1;
        let ready = preparer.prepare(line, text, &mut heads).unwrap();
        c.push_ready(Some(line), text.len(), ready, Some(text), &std::sync::Arc::new(heads));
        events.extend(std::iter::from_fn(|| c.next_event()));
    }
    c.finish();
    events.extend(std::iter::from_fn(|| c.next_event()));
    (events, c.changes())
}

fn one(input: Value) -> Event {
    run(Options::default(), vec![input]).0.remove(0)
}

fn trend(volume: Value) -> Value {
    json!({"kind":"trend","source":"x","place":{"id":23424768,"name":"Brazil"},"name":"  #BBB26 ",
           "volume":volume,"rank":"1","observed_at":"2026-11-21T22:30:00-03:00","provider_field":true})
}

fn post(id: &str, at: &str, likes: Value) -> Value {
    json!({"kind":"post","source":"mastodon","id":id,"text":"a &amp; b &lt;3","created_at":at,
           "author":{"id":9,"handle":"ana","followers":"1,234","avatar":"x.png"},
           "metrics":{"reposts":1,"likes":likes,"replies":0,"quotes":0},"observed_at":at,"emojis":[]})
}

/// An event as a value, records as values (so that texts and values compare, and
/// fields in another order too).
fn show(e: Event) -> Value {
    match e {
        Event::Write(out) => json!(["write", out.into_value()]),
        Event::Drop { rule, reason, line, record } => json!([rule.name(), reason, line, record.into_value()]),
        Event::Reject { reason, line, record } => json!(["reject", reason, line, record.into_value()]),
        Event::Broken { reason, line, record } => json!(["broken", reason, line, record.into_value()]),
    }
}

#[test]
fn normalises_a_trend_and_strips_provider_fields() {
    let Event::Write(v) = one(trend(json!("125,000"))) else { panic!("dropped") };
    assert_eq!(
        v.into_value(),
        json!({"kind":"trend","source":"x","place":{"id":"23424768","name":"Brazil"},"name":"#BBB26",
               "volume":125000,"rank":1,"observed_at":"2026-11-22T01:30:00Z","key":"bbb26"})
    );
    let keep = Options { strip_extra: false, ..Options::default() };
    let (events, changes) = run(keep, vec![trend(json!(5))]);
    let Event::Write(v) = &events[0] else { panic!("dropped") };
    assert_eq!(v.clone().into_value()["provider_field"], true);
    assert_eq!(changes, Changes { normalised: 1, ..Changes::default() });
}

/// Every line read as a line (a trend from its borrowed fields when it has the usual
/// shape) and as a value (as MongoDB documents are): the same rules, so the same
/// events, counts and records.
#[test]
fn a_line_and_a_document_are_judged_by_the_same_rules() {
    let lines: Vec<String> = [
        r##"{"kind":"trend","source":"x","place":{"id":"1","name":"W"},"name":"#A","key":"a","volume":5,"rank":1,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":" x ","place":{"id":23424768,"name":"Brazil","country":"BR"},"name":"  Copa   do Brasil ","volume":"48,857","rank":"3","observed_at":"2026-11-21T22:30:00-03:00","url":"u","promoted_content":null}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"2"},"name":"#A","key":"A","volume":5,"rank":null,"observed_at":"2026-11-22T01:30:00Z","run_id":"r1"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"2"},"name":"#a","volume":7,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"São Paulo","volume":null,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"B","observed_at":"2026-11-22T01:30:00Z","volume_scope":"global","volume":""}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"C","volume":"lots","observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"D","volume":1.5,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3","name":4},"name":"E","volume":1,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"Fé","volume":2,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":"BR","name":"G","volume":2,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"H","volume":2,"observed_at":"soon"}"##,
        r##"{"kind":"trend","source":"x","place":{"id":"3"},"name":"   ","volume":2,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"trend","sour\u0063e":"x","place":{"i\u0064":"9"},"name":"I\n","volume":3,"observed_at":"2026-11-22T01:30:00Z"}"##,
        r##"{"kind":"post","source":"m","id":"1","repost_of":7,"metrics":{"likes":"3"}}"##,
    ]
    .map(str::to_owned)
    .into();
    for keep_null_volume in [false, true] {
        let options = Options { keep_null_volume, ..Options::default() };
        let values = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let (from_values, changes) = run(options, values);
        let (from_lines, line_changes) = run_lines(options, &lines);
        assert_eq!(changes, line_changes);
        let from_values: Vec<Value> = from_values.into_iter().map(show).collect();
        let from_lines: Vec<Value> = from_lines.into_iter().map(show).collect();
        assert_eq!(from_values, from_lines);
        let soon = json!([
            "reject",
            "observed_at: \"soon\" is not an RFC 3339 time (premature end of input)",
            12,
            lines[11].parse::<Value>().unwrap()
        ]);
        assert!(from_values.contains(&soon), "{from_values:#?}");
    }
}

#[test]
fn posts_normalised_in_place_agree_with_the_copy() {
    let base = post("7", "2026-11-22T01:00:00+01:00", json!("1,000"));
    let mut cases = vec![base.clone(), json!({"kind":"post","source":"x","id":"1"}), json!({"kind":"post"})];
    let edits: [(&str, Value); 16] = [
        ("source", json!(" x ")),
        ("id", json!(12)),
        ("id", json!("")),
        ("text", json!("plain")),
        ("text", json!(5)),
        ("created_at", json!("soon")),
        ("observed_at", Value::Null),
        ("parent_id", json!(99)),
        ("quote_of", json!([1])),
        ("repost_of", json!(" 5 ")),
        ("conversation_id", json!(true)),
        ("author", json!({"id":"9","handle":"ana"})),
        ("author", json!({"id":"9","followers":7})),
        ("author", json!({"handle":3})),
        ("metrics", json!({"likes":-1})),
        ("lang", json!(1)),
    ];
    for (field, v) in edits {
        let mut p = base.clone();
        p[field] = v;
        cases.push(p);
    }
    if let Ok((clean, _)) = rule::normalised_post(&base) {
        cases.push(clean);
    }
    let (mut changed, mut unchanged) = (false, false);
    for case in cases {
        let text = case.to_string();
        let document = crate::prepare::prepare_post(&Options::default(), case.clone(), None);
        let line = crate::prepare::prepare_post(&Options::default(), case.clone(), Some(&text));
        assert_eq!(document.parts, line.parts, "{case}");
        if let Ok(p) = &document.parts {
            changed |= p.normalised;
            unchanged |= !p.normalised;
        }
        assert_eq!(document.as_read.into_value(), case);
        assert_eq!(line.as_read.into_value(), case);
    }
    assert!(changed && unchanged);
}

#[test]
fn null_volume_is_dropped_unless_kept() {
    assert!(matches!(one(trend(Value::Null)), Event::Drop { rule: Rule::NullVolume, line: Some(1), .. }));
    let keep = Options { keep_null_volume: true, ..Options::default() };
    assert!(matches!(run(keep, vec![trend(Value::Null)]).0[0], Event::Write(_)));
    // The in-place mode asks the same rule.
    let dropped = rule::clean_one(&Options::default(), &mut Caches::default(), &trend(Value::Null));
    assert_eq!(dropped, Err((Rule::NullVolume, rule::NULL_VOLUME.to_owned())));
}

#[test]
fn same_observation_twice_is_a_duplicate() {
    let mut again = trend(json!(7));
    again["name"] = json!("#bbb26");
    again["observed_at"] = json!("2026-11-22T01:30:00Z");
    let mut other_place = trend(json!(5));
    other_place["place"]["id"] = json!("1");
    let (events, _) = run(Options::default(), vec![trend(json!(5)), again.clone(), other_place]);
    let rules: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Write(_) => "write",
            Event::Drop { rule, .. } => rule.name(),
            Event::Reject { .. } => "reject",
            Event::Broken { .. } => "broken",
        })
        .collect();
    // The duplicate is dropped at once, as read; the two kept records wait in the window.
    assert_eq!(rules, ["duplicate", "write", "write"]);
    assert!(matches!(&events[0], Event::Drop { reason, record, .. }
        if *record == again && reason == "duplicate of an earlier x trend \"bbb26\" in place 23424768 at 2026-11-22T01:30:00Z"));
}

#[test]
fn the_same_volume_in_several_places_is_flagged_global() {
    let mut b = trend(json!(5));
    b["place"]["id"] = json!("1");
    let mut c = trend(json!(6));
    c["place"]["id"] = json!("2");
    let (events, changes) = run(Options::default(), vec![trend(json!(5)), b, c]);
    let scopes: Vec<Value> = events
        .into_iter()
        .map(|e| match e {
            Event::Write(v) => v.into_value().get("volume_scope").cloned().unwrap_or(Value::Null),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(scopes, [json!("global"), json!("global"), Value::Null]);
    assert_eq!(changes.global_volume, 2);
}

#[test]
fn posts_are_normalised_and_the_latest_copy_wins() {
    let first = post("7", "2026-11-22T01:00:00Z", json!(3));
    let later = post("7", "2026-11-22T01:30:00+00:00", json!("10"));
    let stale = post("7", "2026-11-22T00:30:00Z", json!(50));
    let (events, changes) = run(Options::default(), vec![first.clone(), later, stale.clone()]);
    assert_eq!(events.len(), 3);
    assert!(matches!(&events[0], Event::Drop { rule: Rule::Duplicate, line: Some(1), record, .. } if *record == first));
    assert!(matches!(&events[1], Event::Drop { rule: Rule::Duplicate, line: Some(3), record, .. } if *record == stale));
    let Event::Write(v) = &events[2] else { panic!("{:?}", events[2]) };
    assert_eq!(
        v.clone().into_value(),
        json!({"kind":"post","source":"mastodon","id":"7","text":"a & b <3","created_at":"2026-11-22T01:30:00Z",
               "author":{"id":"9","handle":"ana","followers":1234},
               "metrics":{"reposts":1,"likes":10,"replies":0,"quotes":0},"observed_at":"2026-11-22T01:30:00Z"})
    );
    assert_eq!(changes.normalised, 1);
    assert_eq!(changes.stripped, 1);
}

#[test]
fn a_repost_keeps_its_links_and_its_copied_counts_are_not_freshness() {
    let mut repost = post("8", "2026-11-22T01:00:00Z", json!(3));
    repost["repost_of"] = json!(7);
    repost["conversation_id"] = json!(" 7 ");
    // The same repost fetched again at the same time, with the original's counts grown:
    // copies of the original's engagement, not a fresher copy of the repost.
    let mut again = repost.clone();
    again["metrics"]["likes"] = json!(300);
    let original = post("7", "2026-11-22T01:00:00Z", json!(3));
    let (events, _) = run(Options::default(), vec![original, repost, again.clone()]);
    let kept: Vec<Value> = events
        .iter()
        .filter_map(|e| match e {
            Event::Write(out) => Some(out.clone().into_value()),
            _ => None,
        })
        .collect();
    // Two posts: the original and the repost are never merged.
    assert_eq!(kept.len(), 2);
    assert_eq!(
        (&kept[1]["id"], &kept[1]["repost_of"], &kept[1]["conversation_id"]),
        (&json!("8"), &json!("7"), &json!("7"))
    );
    assert_eq!(kept[1]["metrics"]["likes"], 3, "the first copy stays");
    assert!(matches!(&events[0], Event::Drop { rule: Rule::Duplicate, line: Some(3), record, .. } if *record == again));
}

#[test]
fn a_later_copy_after_the_window_is_written_again() {
    let options = Options { window: 1, ..Options::default() };
    let filler = |i: i64| {
        let mut t = trend(json!(i));
        t["name"] = json!(format!("t{i}"));
        t
    };
    let input = vec![
        post("7", "2026-11-22T01:00:00Z", json!(3)),
        filler(1),
        filler(2),
        post("7", "2026-11-22T01:30:00Z", json!(4)),
        post("7", "2026-11-22T01:00:00Z", json!(3)),
    ];
    let (events, changes) = run(options, input);
    let writes = events.iter().filter(|e| matches!(e, Event::Write(_))).count();
    assert_eq!(writes, 4);
    assert_eq!(changes.post_updates, 1);
    // The stale copy (line 5) meets the fresher one still in the window.
    assert!(matches!(&events[events.len() - 2], Event::Drop { rule: Rule::Duplicate, line: Some(5), .. }));
}

#[test]
fn trend_lines_alone_keep_the_window_to_its_size() {
    let options = Options { window: 3, ..Options::default() };
    let mut c = Cleaner::new(options);
    let mut preparer = Preparer::new(options);
    let mut written = 0;
    for i in 0..50 {
        let mut t = trend(json!(i));
        t["name"] = json!(format!("t{i}"));
        let text = t.to_string();
        let mut heads = Vec::new();
        let ready = preparer.prepare(i + 1, &text, &mut heads).unwrap();
        assert!(matches!(&ready, Ready::Trend(t) if matches!(t.out, crate::prepare::TrendOut::Text { .. })));
        c.push_ready(Some(i + 1), text.len(), ready, Some(&text), &std::sync::Arc::new(heads));
        assert!(c.waiting() <= 3, "{} records waiting after line {i}", c.waiting());
        written += std::iter::from_fn(|| c.next_event()).filter(|e| matches!(e, Event::Write(_))).count();
    }
    c.finish();
    written += std::iter::from_fn(|| c.next_event()).filter(|e| matches!(e, Event::Write(_))).count();
    assert_eq!(written, 50);
}

#[test]
fn invalid_records_name_the_field() {
    let cases = [
        (json!({"kind":"trend"}), "source: missing"),
        (json!({"kind":"tweet"}), "kind: unknown kind \"tweet\""),
        (json!({"source":"x"}), "kind: missing"),
        (json!({"kind":"post","source":"x"}), "id: missing"),
        (json!({"kind":"post","source":"x","id":"1","text":5}), "text: expected a string, found a number"),
        (json!({"kind":"post","source":"x","id":"1","created_at":"soon"}), "created_at: \"soon\""),
        (json!({"kind":"post","source":"x","id":"1","metrics":{"likes":"lots"}}), "metrics.likes: expected a number"),
        (json!({"kind":"post","source":"x","id":"1","author":{"followers":1}}), "author.id: missing"),
        (json!({"kind":"post","source":"x","id":"1","repost_of":[]}), "repost_of: expected a string, found an array"),
    ];
    for (input, expected) in cases {
        match one(input) {
            Event::Reject { reason, .. } => assert!(reason.starts_with(expected), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    let mut bad = trend(json!("lots"));
    assert!(
        matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "volume: expected a number, found \"lots\"")
    );
    bad["volume"] = json!(-3);
    assert!(matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "volume: -3 is below 0"));
    bad["volume"] = json!(3);
    bad["place"] = json!("BR");
    assert!(
        matches!(one(bad.clone()), Event::Reject { reason, .. } if reason == "place: expected an object, found a string")
    );
    let lax = Options { validate: false, ..Options::default() };
    let (events, changes) = run(lax, vec![bad.clone()]);
    assert_eq!(events, [Event::Write(Out::Json(bad))]);
    assert_eq!(changes.unvalidated, 1);
}

#[test]
fn rule_names_are_the_ones_in_reject_records() {
    let names: Vec<&str> = [Rule::Schema, Rule::NullVolume, Rule::Duplicate, Rule::Internal].map(Rule::name).into();
    assert_eq!(names, ["schema", "null-volume", "duplicate", "internal-error"]);
    assert_eq!(Rule::NullVolume.to_string(), "null-volume");
}
