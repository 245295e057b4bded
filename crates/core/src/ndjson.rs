//! Streaming NDJSON: one JSON value per line in, one per line out.
//!
//! The reader holds one line at a time, whatever the size of the input, and reports a
//! bad line by its number without stopping: the caller decides to quarantine it and go
//! on. The writer buffers and must be `finish`ed so that the last bytes are flushed and
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

/// Reads JSON objects one line at a time. Blank lines are skipped (they are common
/// at the end of hand-edited files and carry nothing); `\r\n` endings are accepted.
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

    /// Reads the next line into `self.buf`; returns Ok(false) at end of input and
    /// Ok(true) with `too_long` set when the line exceeded the limit (its bytes beyond
    /// the limit are consumed and dropped).
    fn read_line(&mut self, too_long: &mut bool) -> io::Result<bool> {
        self.buf.clear();
        *too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any);
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = self.max_line.saturating_sub(self.buf.len());
            if take > room {
                *too_long = true;
                self.buf.extend_from_slice(&chunk[..room]);
            } else if !*too_long {
                self.buf.extend_from_slice(&chunk[..take]);
            }
            self.input.consume(take);
            if done {
                return Ok(true);
            }
        }
    }

    fn preview(&self) -> String {
        String::from_utf8_lossy(&self.buf[..self.buf.len().min(4096)]).into_owned()
    }
}

impl<R: BufRead> NdjsonReader<R> {
    /// The next non-blank line as text, without its line ending and not yet parsed,
    /// with its number; or a line that is not text (invalid UTF-8, too long). For
    /// callers that parse lines into their own types and keep the text.
    pub fn next_line(&mut self) -> Option<io::Result<Result<(u64, &str), LineError>>> {
        loop {
            let mut too_long = false;
            match self.read_line(&mut too_long) {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                Ok(true) => {}
            }
            self.line += 1;
            let line = self.line;
            if too_long {
                return Some(Ok(Err(LineError {
                    line,
                    message: format!("line longer than {} bytes", self.max_line),
                    raw: self.preview(),
                })));
            }
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if self.buf[..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Err(e) = std::str::from_utf8(&self.buf[..end]) {
                return Some(Ok(Err(LineError {
                    line,
                    message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                    raw: self.preview(),
                })));
            }
            // Checked just above; the lossless conversion cannot fail.
            let text = std::str::from_utf8(&self.buf[..end]).unwrap_or_default();
            return Some(Ok(Ok((line, text))));
        }
    }
}

/// Parses one line of NDJSON text as a JSON object, or says why it is not one.
pub fn parse_object(line: u64, text: &str) -> Item {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok((line, value)),
        Ok(other) => Err(LineError {
            line,
            message: format!("expected a JSON object, found {}", json_kind(&other)),
            raw: text.chars().take(4096).collect(),
        }),
        Err(e) => {
            Err(LineError { line, message: format!("invalid JSON: {e}"), raw: text.chars().take(4096).collect() })
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
    fn writer_writes_lines() {
        let mut w = NdjsonWriter::new(Vec::new());
        w.write(&serde_json::json!({"a": 1})).unwrap();
        w.write(&serde_json::json!({"b": "x"})).unwrap();
        assert_eq!(w.written(), 2);
        assert_eq!(w.finish().unwrap(), b"{\"a\":1}\n{\"b\":\"x\"}\n");
    }
}
