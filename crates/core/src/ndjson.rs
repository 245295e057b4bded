//! Streaming NDJSON: one JSON value per line in, one per line out.
//!
//! The reader holds one line at a time, whatever the size of the input, and reports a
//! bad line by its number without stopping: the caller decides to quarantine it and go
//! on. Every stage reads its input through it: [`NdjsonReader::next_raw`] hands out
//! each line borrowed, with its number and size, for a stage that parses into its own
//! borrowed types (and can pass a record on, or quarantine it, as the bytes it read);
//! the iterator gives parsed objects. The writer buffers and must be `finish`ed so that the last bytes are flushed and
//! a closed pipe is noticed.

use std::io::{self, BufRead, BufWriter, Write};

use serde::Serialize;
use serde_json::Value;

/// Lines longer than this are rejected without being held in memory whole. 64 MiB is
/// far beyond any real record and still bounds what one bad line can cost.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024 * 1024;

/// A line that could not be read as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong, e.g. `invalid JSON: expected value at column 1`.
    pub message: String,
    /// The line as text (lossy for invalid UTF-8, truncated for huge lines), for the
    /// quarantine.
    pub raw: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One item of the stream: a parsed object with its line number, or a bad line.
pub type Item = Result<(u64, Value), LineError>;

/// One non-blank line as read, borrowed from the reader's buffer until the next read.
#[derive(Debug)]
pub struct RawLine<'a> {
    /// 1-based line number.
    pub line: u64,
    /// Its length in the input, line ending included: what holding it costs.
    pub bytes: usize,
    /// Its text without the line ending, or why it is not text (invalid UTF-8, too
    /// long). The text is not yet parsed: see [`parse_object`] and [`parse_line`].
    pub text: Result<&'a str, LineError>,
}

/// Reads NDJSON one line at a time. Blank lines are skipped (they are common at the
/// end of hand-edited files and carry nothing); `\r\n` endings are accepted. Line ends
/// are found with `memchr`; a line is copied once, into a buffer the reader reuses.
pub struct NdjsonReader<R> {
    input: R,
    buf: Vec<u8>,
    line: u64,
    max_line: usize,
}

impl<R: BufRead> NdjsonReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_max_line(input, DEFAULT_MAX_LINE)
    }

    pub fn with_max_line(input: R, max_line: usize) -> Self {
        Self { input, buf: Vec::new(), line: 0, max_line }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next line, ending included, into `self.buf`: its size in the input
    /// and whether it was cut (longer than the limit; the bytes past the limit are
    /// consumed without being held), or `None` at the end of the input.
    fn read_line(&mut self) -> io::Result<Option<(usize, bool)>> {
        self.buf.clear();
        let (mut size, mut cut) = (0, false);
        // The content may be `max_line` long; its `\r\n` comes on top.
        let keep = self.max_line.saturating_add(2);
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok((size > 0).then_some((size, cut)));
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = keep.saturating_sub(self.buf.len());
            if take > room {
                cut = true;
            }
            if let Some(bytes) = chunk.get(..take.min(room)) {
                self.buf.extend_from_slice(bytes);
            }
            self.input.consume(take);
            size += take;
            if done {
                return Ok(Some((size, cut)));
            }
        }
    }

    /// The next non-blank line with its number and size, borrowed; `None` at the end
    /// of the input. A line that is not text comes back as its [`LineError`] (which
    /// names the line and keeps a preview of it for the quarantine), and the lines
    /// after it follow.
    pub fn next_raw(&mut self) -> io::Result<Option<RawLine<'_>>> {
        loop {
            let Some((bytes, cut)) = self.read_line()? else { return Ok(None) };
            self.line += 1;
            let line = self.line;
            let mut end = self.buf.len();
            if !cut {
                while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                    end -= 1;
                }
                if self.buf[..end].iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
            }
            let content = &self.buf[..end];
            let preview = || String::from_utf8_lossy(&content[..content.len().min(PREVIEW)]).into_owned();
            let text = if cut || content.len() > self.max_line {
                Err(LineError { line, message: format!("line longer than {} bytes", self.max_line), raw: preview() })
            } else {
                match std::str::from_utf8(content) {
                    Ok(text) => Ok(text),
                    Err(e) => Err(LineError {
                        line,
                        message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                        raw: preview(),
                    }),
                }
            };
            return Ok(Some(RawLine { line, bytes, text }));
        }
    }

    /// The next non-blank line as text, without its line ending and not yet parsed,
    /// with its number; or a line that is not text (invalid UTF-8, too long). For
    /// callers that parse lines into their own types and keep the text.
    pub fn next_line(&mut self) -> Option<io::Result<Result<(u64, &str), LineError>>> {
        match self.next_raw() {
            Err(e) => Some(Err(e)),
            Ok(None) => None,
            Ok(Some(raw)) => Some(Ok(raw.text.map(|text| (raw.line, text)))),
        }
    }
}

/// How much of a bad line its [`LineError`] keeps.
const PREVIEW: usize = 4096;

/// Parses one line as `T`, borrowing from the text where `T` does (`&str`,
/// `Cow<str>` with `#[serde(borrow)]`, `&RawValue`); an error names the line and keeps
/// its text, with the wording of [`parse_object`].
pub fn parse_line<'a, T: serde::Deserialize<'a>>(line: u64, text: &'a str) -> Result<T, LineError> {
    serde_json::from_str(text).map_err(|e| LineError {
        line,
        message: format!("invalid JSON: {e}"),
        raw: text.chars().take(PREVIEW).collect(),
    })
}

/// Parses one line of NDJSON text as a JSON object, or says why it is not one.
pub fn parse_object(line: u64, text: &str) -> Item {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok((line, value)),
        Ok(other) => Err(LineError {
            line,
            message: format!("expected a JSON object, found {}", json_kind(&other)),
            raw: text.chars().take(PREVIEW).collect(),
        }),
        Err(e) => {
            Err(LineError { line, message: format!("invalid JSON: {e}"), raw: text.chars().take(PREVIEW).collect() })
        }
    }
}

impl<R: BufRead> Iterator for NdjsonReader<R> {
    type Item = io::Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.next_line()? {
            Err(e) => Err(e),
            Ok(Err(bad)) => Ok(Err(bad)),
            Ok(Ok((line, text))) => Ok(parse_object(line, text)),
        })
    }
}

/// The JSON type of a value, in words, for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Writes one JSON value per line through a buffer.
pub struct NdjsonWriter<W: Write> {
    out: BufWriter<W>,
    written: u64,
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out: BufWriter::with_capacity(64 * 1024, out), written: 0 }
    }

    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Writes one record given as its JSON text (one line, no newline).
    pub fn write_json(&mut self, json: &[u8]) -> io::Result<()> {
        self.out.write_all(json)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// How many records were written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes the buffer; errors (a closed pipe included) come out here.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read_all(input: &[u8], max: usize) -> Vec<Item> {
        NdjsonReader::with_max_line(Cursor::new(input.to_vec()), max).map(|r| r.unwrap()).collect()
    }

    #[test]
    fn bad_line_in_the_middle_is_named_and_the_rest_flows() {
        let items = read_all(b"{\"a\":1}\n{oops\n\n{\"a\":3}\r\n", 1024);
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().0, 1);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.starts_with("invalid JSON"), "{}", err.message);
        assert_eq!(err.raw, "{oops");
        assert_eq!(items[2].as_ref().unwrap().0, 4);
    }

    #[test]
    fn invalid_utf8_and_non_objects() {
        let items = read_all(b"{\"a\":\"\xff\"}\n[1,2]\n{\"b\":2}", 1024);
        let e0 = items[0].as_ref().unwrap_err();
        assert_eq!(e0.line, 1);
        assert!(e0.message.contains("invalid UTF-8"));
        let e1 = items[1].as_ref().unwrap_err();
        assert!(e1.message.contains("an array"));
        assert_eq!(items[2].as_ref().unwrap().1["b"], 2);
    }

    #[test]
    fn long_lines_are_rejected_without_losing_the_next() {
        let mut input = b"{\"a\":\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100_000));
        input.extend_from_slice(b"\"}\n{\"b\":1}\n");
        // A tiny BufReader capacity forces the line across many chunks.
        let reader = std::io::BufReader::with_capacity(7, Cursor::new(input));
        let items: Vec<Item> = NdjsonReader::with_max_line(reader, 1000).map(|r| r.unwrap()).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].as_ref().unwrap_err().message.contains("longer than 1000"));
        assert_eq!(items[1].as_ref().unwrap().0, 2);
    }

    #[test]
    fn raw_lines_come_with_their_number_and_size_in_the_input() {
        let input = b"{\"a\":1}\r\n\n  \n{\"b\":\"\xff\"}\n[2]";
        // A tiny buffer makes lines cross the reads of the input.
        let mut reader = NdjsonReader::with_max_line(std::io::BufReader::with_capacity(3, &input[..]), 1024);
        let mut got = Vec::new();
        while let Some(raw) = reader.next_raw().unwrap() {
            let text = raw.text.map(str::to_owned).map_err(|e| e.message);
            got.push((raw.line, raw.bytes, text));
        }
        assert_eq!(
            got,
            [
                (1, 9, Ok("{\"a\":1}".to_owned())),
                (4, 10, Err("invalid UTF-8 at byte 6".to_owned())),
                (5, 3, Ok("[2]".to_owned())),
            ]
        );
    }

    #[test]
    fn a_line_of_the_limit_is_read_and_one_byte_more_is_too_long() {
        let input = b"\"abcd\"\r\n\"abcde\"\n";
        let mut reader = NdjsonReader::with_max_line(&input[..], 6);
        assert_eq!(reader.next_raw().unwrap().unwrap().text, Ok("\"abcd\""));
        let long = reader.next_raw().unwrap().unwrap();
        assert_eq!((long.line, long.bytes), (2, 8));
        assert_eq!(long.text.unwrap_err().message, "line longer than 6 bytes");
        assert!(reader.next_raw().unwrap().is_none());
    }

    #[test]
    fn writer_writes_lines() {
        let mut w = NdjsonWriter::new(Vec::new());
        w.write(&serde_json::json!({"a": 1})).unwrap();
        w.write(&serde_json::json!({"b": "x"})).unwrap();
        assert_eq!(w.written(), 2);
        assert_eq!(w.finish().unwrap(), b"{\"a\":1}\n{\"b\":\"x\"}\n");
    }
}
