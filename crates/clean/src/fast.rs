//! The fast path of filter mode for the common record: a trend line whose fields have
//! the expected types.
//!
//! Nine lines in ten are trends, and building a `serde_json::Value` (a map, a string
//! per field, the provider fields included) for each one costs more than every rule
//! together. Such a line is read instead into a struct that borrows its strings from
//! the line and skips provider fields without storing them; the clean record is
//! written from a struct. Anything unusual (another kind, a float, a wrong type, a
//! value the rules reject) returns `None` and goes through the general path, which
//! gives the same result and the same reasons: the fast path only ever agrees with it
//! (see the tests). The original record, for the quarantine, is re-read from the line
//! only when the record is dropped.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A number, a numeric string or null, as providers send counts.
#[derive(Debug)]
pub enum Count<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
    /// Anything else (floats, booleans, objects): left to the general path.
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Count<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Count<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Count::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map_or(Count::Other, Count::Int))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Count::Other)
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Count::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Count::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Count::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Count::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Count::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Count::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A map key, borrowed from the line unless it has escapes. (`Cow<str>` itself always
/// deserializes to an owned copy: an allocation for every key of every line.)
pub struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// `place`: its id (a string, or an integer some providers send) and name.
#[derive(Debug, Default)]
pub struct RawPlace<'a> {
    pub id: Option<Count<'a>>,
    pub name: Option<Cow<'a, str>>,
    /// A field other than `id` and `name`, or a name that is not a string.
    pub extra: bool,
    pub odd: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawPlace<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawPlace<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a place")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut p = RawPlace::default();
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "id" => p.id = Some(m.next_value()?),
                        "name" => match m.next_value::<Count<'de>>()? {
                            Count::Text(s) => p.name = Some(s),
                            _ => p.odd = true,
                        },
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            p.extra = true;
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A trend line as read, strings borrowed from the line when they have no escapes.
#[derive(Debug, Default)]
pub struct RawTrend<'a> {
    pub kind: Option<Cow<'a, str>>,
    pub source: Option<Cow<'a, str>>,
    pub place: Option<RawPlace<'a>>,
    pub name: Option<Cow<'a, str>>,
    pub key: Option<Cow<'a, str>>,
    pub volume: Option<Count<'a>>,
    pub rank: Option<Count<'a>>,
    pub observed_at: Option<Cow<'a, str>>,
    pub run_id: Option<Cow<'a, str>>,
    pub volume_scope: Option<Cow<'a, str>>,
    /// A provider field, to be stripped.
    pub extra: bool,
    /// A known field with a type only the general path handles.
    pub odd: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawTrend<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawTrend<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a trend")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut t = RawTrend::default();
                let text = |c: Count<'de>, odd: &mut bool| match c {
                    Count::Text(s) => Some(s),
                    _ => {
                        *odd = true;
                        None
                    }
                };
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "kind" => t.kind = text(m.next_value()?, &mut t.odd),
                        "source" => t.source = text(m.next_value()?, &mut t.odd),
                        "name" => t.name = text(m.next_value()?, &mut t.odd),
                        "key" => t.key = text(m.next_value()?, &mut t.odd),
                        "observed_at" => t.observed_at = text(m.next_value()?, &mut t.odd),
                        "run_id" => t.run_id = text(m.next_value()?, &mut t.odd),
                        "volume_scope" => t.volume_scope = text(m.next_value()?, &mut t.odd),
                        "volume" => t.volume = Some(m.next_value()?),
                        "rank" => t.rank = Some(m.next_value()?),
                        "place" => t.place = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            t.extra = true;
                        }
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Reads a line as a trend when it is one of the usual shape; `None` otherwise.
pub fn read_trend(line: &str) -> Option<RawTrend<'_>> {
    // Cheap test first: posts and other kinds never pay for a failed typed parse.
    if !line.contains("\"trend\"") {
        return None;
    }
    let t: RawTrend<'_> = serde_json::from_str(line).ok()?;
    let place_ok = t.place.as_ref().is_some_and(|p| !p.odd);
    (t.kind.as_deref() == Some("trend") && !t.odd && place_ok).then_some(t)
}

/// A clean trend, written in the order of DESIGN.md's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanTrend {
    pub kind: &'static str,
    pub source: String,
    pub place: CleanPlace,
    pub name: String,
    pub key: String,
    pub volume: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    pub observed_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanPlace {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Lines of the input with the conventions of [`trendpipe_core::ndjson::NdjsonReader`]
/// (1-based numbers, blank lines skipped, `\r\n` accepted, lines over the limit and
/// invalid UTF-8 reported by number), but handing out the text so that the fast path
/// can read it without building a `Value`.
pub struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    line: u64,
    max_line: usize,
}

/// What one line held.
pub enum Line<'a> {
    Text(&'a str),
    Bad(trendpipe_core::ndjson::LineError),
}

impl<R: std::io::BufRead> Lines<R> {
    pub fn new(input: R) -> Self {
        Self { input, buf: Vec::new(), line: 0, max_line: trendpipe_core::ndjson::DEFAULT_MAX_LINE }
    }

    /// The next non-blank line with its number and its length in bytes.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, usize, Line<'_>)>> {
        use std::io::{BufRead, Read};
        loop {
            self.buf.clear();
            let limit = self.max_line as u64 + 1;
            let n = (&mut self.input).take(limit).read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut size = n;
            if self.buf.len() > self.max_line && self.buf.last() != Some(&b'\n') {
                // Too long: drop the rest of the line without holding it.
                loop {
                    let chunk = self.input.fill_buf()?;
                    if chunk.is_empty() {
                        break;
                    }
                    let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                        Some(i) => (i + 1, true),
                        None => (chunk.len(), false),
                    };
                    self.input.consume(take);
                    size += take;
                    if done {
                        break;
                    }
                }
                let preview = String::from_utf8_lossy(&self.buf[..self.buf.len().min(4096)]).into_owned();
                let message = format!("line longer than {} bytes", self.max_line);
                return Ok(Some((self.line, size, Line::Bad(bad(self.line, message, preview)))));
            }
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if self.buf[..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line;
            let bytes = &self.buf[..end];
            return Ok(Some(match std::str::from_utf8(bytes) {
                Ok(text) => (line, size, Line::Text(text)),
                Err(e) => {
                    let preview = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
                    let message = format!("invalid UTF-8 at byte {}", e.valid_up_to());
                    (line, size, Line::Bad(bad(line, message, preview)))
                }
            }));
        }
    }
}

fn bad(line: u64, message: String, raw: String) -> trendpipe_core::ndjson::LineError {
    trendpipe_core::ndjson::LineError { line, message, raw }
}

/// Parses a line as the general path does, with the same messages as the core reader.
pub fn parse_value(line: u64, text: &str) -> Result<serde_json::Value, trendpipe_core::ndjson::LineError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        Ok(other) => Err(bad(
            line,
            format!("expected a JSON object, found {}", trendpipe_core::ndjson::json_kind(&other)),
            text.chars().take(4096).collect(),
        )),
        Err(e) => Err(bad(line, format!("invalid JSON: {e}"), text.chars().take(4096).collect())),
    }
}

/// How serde_json escapes a byte in a string: 0 for as is, else the letter after the
/// backslash (`u` for `\u00XX`). Written by hand so that the fast path's output is
/// byte for byte serde_json's (see the tests).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `s` as a JSON string, escaped exactly as `serde_json` does it.
pub fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        // Only ASCII bytes are escaped, so `start..i` is on character boundaries.
        out.push_str(&s[start..i]);
        out.push('\\');
        out.push(char::from(esc));
        if esc == b'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The fields of a clean trend but `volume_scope`, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct TrendView<'a> {
    pub source: &'a str,
    pub place_id: &'a str,
    pub place_name: Option<&'a str>,
    pub name: &'a str,
    pub key: &'a str,
    pub volume: Option<i64>,
    pub rank: Option<i64>,
    pub observed_at: &'a str,
    pub run_id: Option<&'a str>,
}

impl CleanTrend {
    pub fn view(&self) -> TrendView<'_> {
        TrendView {
            source: &self.source,
            place_id: &self.place.id,
            place_name: self.place.name.as_deref(),
            name: &self.name,
            key: &self.key,
            volume: self.volume,
            rank: self.rank,
            observed_at: &self.observed_at,
            run_id: self.run_id.as_deref(),
        }
    }
}

/// Appends a clean trend as JSON text up to, not including, `volume_scope` and the
/// closing brace: `volume_scope` comes last in the record, and it is the one field
/// the global-volume rule may still set while the record waits in the window. The
/// text is the serialisation of [`CleanTrend`] (same fields, order and escapes).
pub fn push_trend_head(out: &mut String, t: &TrendView<'_>) {
    use std::fmt::Write;
    out.push_str("{\"kind\":\"trend\",\"source\":");
    push_json_str(out, t.source);
    out.push_str(",\"place\":{\"id\":");
    push_json_str(out, t.place_id);
    if let Some(name) = t.place_name {
        out.push_str(",\"name\":");
        push_json_str(out, name);
    }
    out.push_str("},\"name\":");
    push_json_str(out, t.name);
    out.push_str(",\"key\":");
    push_json_str(out, t.key);
    out.push_str(",\"volume\":");
    // Writing to a String cannot fail.
    let _ = match t.volume {
        Some(v) => write!(out, "{v}"),
        None => {
            out.push_str("null");
            Ok(())
        }
    };
    if let Some(rank) = t.rank {
        let _ = write!(out, ",\"rank\":{rank}");
    }
    out.push_str(",\"observed_at\":");
    push_json_str(out, t.observed_at);
    if let Some(run_id) = t.run_id {
        out.push_str(",\"run_id\":");
        push_json_str(out, run_id);
    }
}

/// Completes a [`push_trend_head`] with its `volume_scope` into the record's JSON text.
pub fn trend_tail(out: &mut impl std::io::Write, head: &str, volume_scope: Option<&str>) -> std::io::Result<()> {
    out.write_all(head.as_bytes())?;
    if let Some(scope) = volume_scope {
        let mut s = String::with_capacity(scope.len() + 18);
        s.push_str(",\"volume_scope\":");
        push_json_str(&mut s, scope);
        out.write_all(s.as_bytes())?;
    }
    out.write_all(b"}")
}

/// Appends the JSON text `serde_json` writes for the value read from `text` (no
/// whitespace, object keys in the order read), for a record going to the quarantine
/// as read, without building the value. Only the plain cases are done here: a string
/// with an escape, a number that is not a short integer, a key given twice, deep
/// nesting or anything invalid return false, with `out` as it was, and the caller
/// builds the value (see the tests, which check this against `serde_json`).
pub fn compact_json(text: &str, out: &mut String) -> bool {
    let start = out.len();
    let mut c = Compact { text, at: 0, out, keys: Vec::new() };
    let ok = c.value(0).is_some() && {
        c.skip_space();
        c.at == text.len()
    };
    if !ok {
        out.truncate(start);
    }
    ok
}

/// Nesting deeper than this is left to `serde_json` (whose own limit is 128).
const COMPACT_DEPTH: usize = 64;
/// Integers of at most this many digits fit an `i64`, so `serde_json` writes them back
/// as read.
const COMPACT_DIGITS: usize = 18;

struct Compact<'t, 'o> {
    text: &'t str,
    at: usize,
    out: &'o mut String,
    /// The keys of the objects being read, innermost last, to find a repeated key.
    keys: Vec<&'t str>,
}

impl<'t> Compact<'t, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    /// Copies `text[from..self.at]`, which starts and ends at ASCII bytes.
    fn copy(&mut self, from: usize) -> Option<()> {
        self.out.push_str(self.text.get(from..self.at)?);
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        self.skip_space();
        match self.peek()? {
            b'{' if depth < COMPACT_DEPTH => self.object(depth),
            b'[' if depth < COMPACT_DEPTH => self.array(depth),
            b'"' => self.string().map(|_| ()),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let rest = self.text.get(self.at..)?;
        if !rest.starts_with(word) {
            return None;
        }
        self.at += word.len();
        self.out.push_str(word);
        Some(())
    }

    fn integer(&mut self) -> Option<()> {
        let from = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let digits = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let n = self.at - digits;
        let first = self.text.as_bytes().get(digits).copied();
        // A fraction or exponent, a leading zero, `-0` (a float to serde_json), no
        // digits or too many: serde_json's own reading decides.
        let plain = n > 0
            && n <= COMPACT_DIGITS
            && !(first == Some(b'0') && (n > 1 || negative))
            && !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if !plain {
            return None;
        }
        self.copy(from)
    }

    /// A string without escapes, copied; its contents.
    fn string(&mut self) -> Option<&'t str> {
        let from = self.at;
        self.at += 1;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.at)? {
                b'"' => break,
                // serde_json writes some escapes differently from how they may be read.
                b'\\' => return None,
                // Not valid JSON.
                0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        self.copy(from)?;
        self.text.get(from + 1..self.at - 1)
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.out.push('{');
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            self.out.push('}');
            return Some(());
        }
        let base = self.keys.len();
        loop {
            self.skip_space();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            // A repeated key keeps its first place and its last value in serde_json.
            if self.keys.get(base..)?.contains(&key) {
                return None;
            }
            self.keys.push(key);
            self.skip_space();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.out.push(':');
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.out.push(',');
                }
                b'}' => {
                    self.at += 1;
                    self.out.push('}');
                    self.keys.truncate(base);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.out.push('[');
        self.skip_space();
        if self.peek()? == b']' {
            self.at += 1;
            self.out.push(']');
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.out.push(',');
                }
                b']' => {
                    self.at += 1;
                    self.out.push(']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(s: &str, volume: Option<i64>, rank: Option<i64>, opt: Option<&str>) -> CleanTrend {
        CleanTrend {
            kind: "trend",
            source: s.to_owned(),
            place: CleanPlace { id: format!("{s}1"), name: opt.map(str::to_owned) },
            name: format!("n{s}"),
            key: s.to_lowercase(),
            volume,
            rank,
            observed_at: "2026-11-22T01:30:00Z".into(),
            run_id: opt.map(|o| format!("r{o}")),
            volume_scope: opt.map(str::to_owned),
        }
    }

    /// Checks `compact_json` on `text` against `serde_json`; whether it took the text.
    fn compacts_as_serde_json(text: &str) -> bool {
        let mut out = "before".to_owned();
        let took = compact_json(text, &mut out);
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) if took => assert_eq!(out, format!("before{value}"), "{text:?}"),
            Ok(_) => assert_eq!(out, "before", "{text:?}"),
            Err(_) => assert!(!took && out == "before", "{text:?} is not JSON"),
        }
        took
    }

    #[test]
    fn keys_are_read_borrowed_and_with_escapes() {
        let plain = r#"{"kind":"trend","source":"x","place":{"id":"1","name":"P"},"name":"A","volume":5,"observed_at":"2026-11-01T00:00:00Z"}"#;
        let escaped = r#"{"kind":"trend","sour\u0063e":"x","place":{"i\u0064":"1","name":"P"},"name":"A","volume":5,"observed_at":"2026-11-01T00:00:00Z"}"#;
        for line in [plain, escaped] {
            let t = read_trend(line).unwrap_or_else(|| unreachable!("{line}"));
            assert_eq!(t.source.as_deref(), Some("x"), "{line}");
            assert!(!t.extra, "{line}");
            let place = t.place.unwrap_or_default();
            assert!(matches!(place.id, Some(Count::Text(ref id)) if id == "1"), "{line}");
            assert!(!place.extra, "{line}");
        }
    }

    #[test]
    fn compact_json_writes_what_serde_json_writes_or_declines() {
        let taken = [
            r#"{"kind": "trend", "source": "x", "place": {"id": "23424700", "name": "Place 0"}, "name": "Topic número 20", "volume": null, "rank": 3, "observed_at": "2026-11-01T00:00:00Z", "promoted_content": null, "query": "Topic+número+20", "url": "http://twitter.com/search?q=Topic+número+20"}"#,
            "{}",
            "[]",
            " \t{ \"a\" :\r\n[ 1 , -2 , 0 , -10, true , false , null , { } , [ ] , \"\" ] } \n",
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#,
            r#""just a string""#,
            "123456789012345678",
            "-123456789012345678",
            "{\"emoji\":\"😀 \u{7f} \u{202e} \u{2028}\",\"/\":\"/\"}",
            "null",
        ];
        for text in taken {
            assert!(compacts_as_serde_json(text), "{text:?} declined");
        }
        let declined = [
            r#"{"a":"x\"y"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a\n":1}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":1E3}"#,
            r#"{"a":-0}"#,
            r#"{"a":0.0}"#,
            "1234567890123456789",
            "18446744073709551616",
            r#"{"a":1,"b":2,"a":3}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":+1}"#,
            r#"{"a":1,}"#,
            "[1,]",
            "[1 2]",
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":1}{}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul"#,
            r#"{"a":"unterminated}"#,
            "{\"a\":\"tab\there\"}",
            "\u{feff}{}",
            "",
            "   ",
            "{\"a\":1}\u{b}",
            "not json",
            r#"{"a":[1,{"b":}]}"#,
            r#"{1:2}"#,
        ];
        for text in declined {
            assert!(!compacts_as_serde_json(text), "{text:?} taken");
        }
        let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert!(!compacts_as_serde_json(&deep));
        let nested = format!("{}1{}", "[".repeat(30), "]".repeat(30));
        assert!(compacts_as_serde_json(&nested));
        // Keys may repeat across objects, just not within one.
        assert!(compacts_as_serde_json(r#"{"a":{"a":{"a":[{"a":1,"b":2},{"b":2,"a":1}]}},"b":{"a":1}}"#));
    }

    #[test]
    fn compact_json_agrees_with_serde_json_on_many_lines() {
        // Every line of the fixtures and of lines built from pieces, spaced or not.
        let pieces = [
            r#""s""#,
            "1",
            "-7",
            "1.0",
            "null",
            "true",
            r#""a\"b""#,
            r#""é""#,
            "[]",
            "{}",
            r#"{"k":1}"#,
            "[1,2]",
            "00",
            r#""x"#,
        ];
        let mut lines = Vec::new();
        for (i, a) in pieces.iter().enumerate() {
            for (j, b) in pieces.iter().enumerate() {
                lines.push(format!(r#"{{"a":{a},"b":{b}}}"#));
                lines.push(format!(r#"{{ "a" : {a} , "a{i}{j}" : [ {a} , {b} ] }}"#));
                lines.push(format!(r#"{{"{i}":{a},"{j}":{b}}}"#));
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        for dir in std::fs::read_dir(root).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let text = std::fs::read_to_string(file.unwrap().path()).unwrap_or_default();
                lines.extend(text.lines().map(str::to_owned));
                lines.push(text);
            }
        }
        let taken = lines.iter().filter(|l| compacts_as_serde_json(l)).count();
        // Most lines of the pretty-printed fixtures are not JSON alone; enough are.
        assert!(taken >= 300, "{taken} of {}", lines.len());
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all = String::new();
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0x1f600, 0xfeff]).filter_map(char::from_u32) {
            all.push(c);
        }
        for s in ["", "plain", "a\"b\\c", "\u{7f}\u{1}x\n", "número", all.as_str(), "\"", "\\\\"] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn the_head_and_tail_are_the_serialised_record() {
        let odd = "q\"\\\u{1}\té";
        for t in [
            trend("x", Some(5), Some(1), None),
            trend("x", None, None, Some("global")),
            trend(odd, Some(-3), Some(i64::MAX), Some(odd)),
            trend("São", Some(0), None, Some("")),
        ] {
            let mut head = "junk before".to_owned();
            push_trend_head(&mut head, &t.view());
            let mut out = Vec::new();
            trend_tail(&mut out, &head["junk before".len()..], t.volume_scope.as_deref()).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&t).unwrap());
        }
    }
}
