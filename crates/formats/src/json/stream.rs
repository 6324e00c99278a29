//! Reading one JSON document a value at a time, in bounded memory.
//!
//! A [`Scanner`] walks the structure of a document (objects, arrays,
//! strings) without building it, so that a parser can take the members it
//! wants one at a time: [`Scanner::value`] copies one complete value's bytes
//! into a reused buffer (at most a given size; a larger value is consumed
//! without being kept) for `serde_json` to parse on its own. A value that
//! does not parse (a number out of range such as `1e400`, nesting deeper than
//! [`MAX_NESTING`]) is then one bad record, not a bad document; only a
//! document whose structure breaks (unbalanced brackets, an unterminated
//! string, the end of the input inside a value) is a layout error, since the
//! reader cannot tell where the next value starts.
//!
//! The scan keeps no stack, only a nesting count, so no document is too deep
//! for it; the byte count of the whole document is bounded by
//! [`super::MAX_DOCUMENT`] as for documents read whole.

use std::io::{self, BufRead};

/// How deeply a value may nest before it is rejected without being parsed
/// (serde_json stops at 128 levels).
pub(crate) const MAX_NESTING: u32 = 100;

/// A value as [`Scanner::value`] found it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Raw {
    /// The value's bytes are in the buffer.
    Complete,
    /// The value was longer than the size given; the buffer is empty.
    TooLarge,
    /// The value nests deeper than [`MAX_NESTING`]; the buffer is empty.
    TooDeep,
}

/// Why the scan of a document stopped.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// The input could not be read.
    Io(io::Error),
    /// The document is not well-formed JSON here, or too large.
    Syntax(String),
}

impl From<io::Error> for ScanError {
    fn from(error: io::Error) -> Self {
        ScanError::Io(error)
    }
}

/// A cursor over the bytes of one JSON document.
pub(crate) struct Scanner<'r> {
    reader: &'r mut dyn BufRead,
    /// Bytes consumed so far.
    offset: u64,
    /// The most bytes the document may have.
    limit: u64,
}

impl<'r> Scanner<'r> {
    /// A scanner of the document in `reader`, of at most `limit` bytes. A
    /// UTF-8 byte-order mark before the document is skipped.
    pub(crate) fn new(reader: &'r mut dyn BufRead, limit: u64) -> Result<Scanner<'r>, ScanError> {
        let mut scanner = Scanner { reader, offset: 0, limit };
        let head = scanner.fill()?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            scanner.consume(3);
        }
        Ok(scanner)
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        // Retried on EINTR; the last call returns what the first filled.
        while let Err(e) = self.reader.fill_buf() {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        self.reader.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.reader.consume(amount);
        self.offset += amount as u64;
    }

    fn syntax<T>(&self, message: &str) -> Result<T, ScanError> {
        Err(ScanError::Syntax(format!("{message} at byte {}", self.offset + 1)))
    }

    fn check_limit(&self) -> Result<(), ScanError> {
        if self.offset > self.limit {
            return Err(ScanError::Syntax(format!("the document is larger than {} bytes", self.limit)));
        }
        Ok(())
    }

    /// The next byte that is not whitespace, without consuming it; `None` at
    /// the end of the input.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            let bytes = self.fill()?;
            if bytes.is_empty() {
                return Ok(None);
            }
            let blank = bytes.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
            let first = bytes.get(blank).copied();
            self.consume(blank);
            self.check_limit()?;
            if first.is_some() {
                return Ok(first);
            }
        }
    }

    /// Consumes `byte`, which must come next (after whitespace).
    pub(crate) fn expect(&mut self, byte: u8, what: &str) -> Result<(), ScanError> {
        match self.peek()? {
            Some(found) if found == byte => {
                self.consume(1);
                Ok(())
            }
            Some(_) => self.syntax(&format!("expected {what}")),
            None => self.syntax(&format!("EOF while parsing the document, expected {what}")),
        }
    }

    /// Consumes `byte` if it comes next (after whitespace).
    pub(crate) fn eat(&mut self, byte: u8) -> Result<bool, ScanError> {
        if self.peek()? == Some(byte) {
            self.consume(1);
            return Ok(true);
        }
        Ok(false)
    }

    /// After an element of an array (or a member of an object), consumes the
    /// `,` before the next one and answers true, or the closing `close` and
    /// answers false.
    pub(crate) fn next_item(&mut self, close: u8) -> Result<bool, ScanError> {
        if self.eat(b',')? {
            return Ok(true);
        }
        if self.eat(close)? {
            return Ok(false);
        }
        match self.peek()? {
            None => self.syntax("EOF while parsing the document"),
            Some(_) => self.syntax(&format!("expected ',' or '{}'", char::from(close))),
        }
    }

    /// Reads an object key and the `:` after it.
    pub(crate) fn key(&mut self, buf: &mut Vec<u8>) -> Result<String, ScanError> {
        if self.peek()? != Some(b'"') {
            return self.syntax("expected a string key");
        }
        if self.value(buf, 64 * 1024)? != Raw::Complete {
            return self.syntax("key longer than 64 KiB");
        }
        let key = match serde_json::from_slice::<String>(buf) {
            Ok(key) => key,
            Err(e) => return self.syntax(&format!("invalid key ({e})")),
        };
        self.expect(b':', "':' after a key")?;
        Ok(key)
    }

    /// Reads one complete value into `buf` (cleared first) when it has at
    /// most `max` bytes; a longer or deeper one is consumed and not kept.
    pub(crate) fn value(&mut self, buf: &mut Vec<u8>, max: usize) -> Result<Raw, ScanError> {
        buf.clear();
        let Some(first) = self.peek()? else {
            return self.syntax("EOF while parsing the document, expected a value");
        };
        let mut keep = true;
        let mut deepest = 0u32;
        if matches!(first, b'{' | b'[' | b'"') {
            let mut depth = 0u32;
            let mut in_string = false;
            let mut escaped = false;
            loop {
                let bytes = self.fill()?;
                if bytes.is_empty() {
                    return self.syntax("EOF while parsing a value");
                }
                let mut used = bytes.len();
                let mut done = false;
                let mut at = 0;
                while at < bytes.len() {
                    if in_string {
                        if escaped {
                            escaped = false;
                            at += 1;
                            continue;
                        }
                        match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
                            None => at = bytes.len(),
                            Some(found) => {
                                at += found;
                                if bytes[at] == b'\\' {
                                    escaped = true;
                                } else {
                                    in_string = false;
                                    if depth == 0 {
                                        used = at + 1;
                                        done = true;
                                        break;
                                    }
                                }
                                at += 1;
                            }
                        }
                        continue;
                    }
                    match bytes[at] {
                        b'"' => in_string = true,
                        b'{' | b'[' => {
                            depth += 1;
                            deepest = deepest.max(depth);
                        }
                        b'}' | b']' => {
                            // Mismatched brackets ("[}") are left to serde_json.
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                used = at + 1;
                                done = true;
                                break;
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
                if keep {
                    if buf.len() + used > max {
                        keep = false;
                        buf.clear();
                    } else {
                        buf.extend_from_slice(&bytes[..used]);
                    }
                }
                self.consume(used);
                self.check_limit()?;
                if done {
                    break;
                }
            }
        } else {
            // A number, `true`, `false` or `null`: up to a delimiter.
            loop {
                let bytes = self.fill()?;
                if bytes.is_empty() {
                    break;
                }
                let len = bytes
                    .iter()
                    .take_while(|b| !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' | b':'))
                    .count();
                let whole = len < bytes.len();
                if keep {
                    if buf.len() + len > max {
                        keep = false;
                        buf.clear();
                    } else {
                        buf.extend_from_slice(&bytes[..len]);
                    }
                }
                self.consume(len);
                self.check_limit()?;
                if whole {
                    break;
                }
            }
            if keep && buf.is_empty() {
                return self.syntax("expected a value");
            }
        }
        if deepest > MAX_NESTING {
            buf.clear();
            return Ok(Raw::TooDeep);
        }
        Ok(if keep { Raw::Complete } else { Raw::TooLarge })
    }

    /// Consumes the rest of the input, which must be whitespace only.
    pub(crate) fn end(&mut self) -> Result<(), ScanError> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => self.syntax("trailing characters after the document"),
        }
    }
}

/// Reads a document that is an array of records one element at a time:
/// calls `on_element` with each element's 1-based index and its value, or
/// the reason it could not be read (more than `max` bytes, too deep, not
/// valid JSON). A document that is not an array is a layout error saying
/// `expected`.
pub(crate) fn for_each_element(
    name: &std::path::Path,
    format: crate::Format,
    reader: &mut dyn BufRead,
    max: usize,
    expected: &str,
    on_element: &mut dyn FnMut(u64, Result<serde_json::Value, String>),
) -> Result<(), crate::FormatError> {
    let scan_error = |error| super::scan_error(name, format, error);
    let mut scanner = Scanner::new(reader, super::MAX_DOCUMENT).map_err(scan_error)?;
    match scanner.peek().map_err(scan_error)? {
        Some(b'[') => {}
        Some(_) => return Err(super::layout(name, format, expected)),
        None => return Err(super::layout(name, format, "JSON does not parse: EOF while parsing a value")),
    }
    let mut buf = Vec::new();
    scanner.expect(b'[', "'['").map_err(scan_error)?;
    let mut more = !scanner.eat(b']').map_err(scan_error)?;
    let mut index = 0;
    while more {
        index += 1;
        let element = match scanner.value(&mut buf, max).map_err(scan_error)? {
            Raw::Complete => {
                serde_json::from_slice(&buf).map_err(|error| format!("array element is not valid JSON ({error})"))
            }
            Raw::TooLarge => Err(format!("array element is larger than {} KiB; not read", max >> 10)),
            Raw::TooDeep => Err(format!("array element nests deeper than {MAX_NESTING} levels; not read")),
        };
        on_element(index, element);
        more = scanner.next_item(b']').map_err(scan_error)?;
    }
    scanner.end().map_err(scan_error)
}

/// What kind of JSON value starts with `first`, for messages.
pub(crate) fn kind_of(first: u8) -> &'static str {
    match first {
        b'{' => "an object",
        b'[' => "a list",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, max: usize) -> Result<Vec<(Raw, String)>, String> {
        let mut reader = text.as_bytes();
        let mut scanner = Scanner::new(&mut reader, 1 << 20).map_err(|e| format!("{e:?}"))?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        scanner.expect(b'[', "'['").map_err(|e| format!("{e:?}"))?;
        if !scanner.eat(b']').map_err(|e| format!("{e:?}"))? {
            loop {
                let raw = scanner.value(&mut buf, max).map_err(|e| format!("{e:?}"))?;
                out.push((raw, String::from_utf8_lossy(&buf).into_owned()));
                if !scanner.next_item(b']').map_err(|e| format!("{e:?}"))? {
                    break;
                }
            }
        }
        scanner.end().map_err(|e| format!("{e:?}"))?;
        Ok(out)
    }

    #[test]
    fn splits_values_of_every_kind() {
        let got = values(r#" [ {"a": "x]}\"", "b": [1, {}]}, "s\\\"]", 12, -1e400, true, null, [[]] ] "#, 100);
        let texts: Vec<String> = got.unwrap_or_default().into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts, [r#"{"a": "x]}\"", "b": [1, {}]}"#, r#""s\\\"]""#, "12", "-1e400", "true", "null", "[[]]"]);
    }

    #[test]
    fn large_and_deep_values_are_consumed_not_kept() {
        let deep = format!("[{}{}, 1]", "[".repeat(100_000), "]".repeat(100_000));
        let got = values(&deep, 1 << 20).unwrap_or_default();
        assert_eq!(got, [(Raw::TooDeep, String::new()), (Raw::Complete, "1".to_string())]);
        let got = values(r#"["0123456789", 1]"#, 5).unwrap_or_default();
        assert_eq!(got, [(Raw::TooLarge, String::new()), (Raw::Complete, "1".to_string())]);
    }

    #[test]
    fn broken_structure_is_an_error() {
        for text in [r#"[{"a": 1"#, r#"["abc"#, "[1 2]", "[1] x", ""] {
            assert!(values(text, 100).is_err(), "{text}");
        }
    }
}
