//! The line reader every line-based format is built on.
//!
//! It streams in constant memory: a line is collected in one reused buffer of
//! at most [`MAX_LINE`] bytes, and a longer line is consumed up to its end
//! without being stored, then reported as an [`Event::Rejected`] with the
//! reason [`LINE_TOO_LONG`]. It also removes what varies between producers
//! and means nothing: a UTF-8 byte-order mark on the first line, CR of CRLF
//! line ends, and trailing whitespace. Bytes that are not UTF-8 are replaced
//! (U+FFFD) with a warning rather than losing the line.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::path::Path;

use crate::{Event, FormatError};

/// The longest line a line-based format accepts, in bytes (64 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// What [`for_each_line`] calls with each line's number and text; events go
/// to the sink it is given.
pub(crate) type LineHandler<'a> = dyn FnMut(u64, &str, &mut dyn FnMut(Event)) -> Result<(), FormatError> + 'a;

/// The rejection reason for a line over [`MAX_LINE`].
pub(crate) const LINE_TOO_LONG: &str = "line longer than 64 KiB";

/// Reads `reader` line by line and calls `on_line` with each line's 1-based
/// number and text (BOM, line end and trailing whitespace removed). Blank
/// lines are passed too; overlong lines are reported to `sink` and not
/// passed. Stops at the first error of `on_line` or of the reader.
pub(crate) fn for_each_line(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
    on_line: &mut LineHandler<'_>,
) -> Result<(), FormatError> {
    let mut buf = Vec::with_capacity(256);
    let mut number = 0u64;
    loop {
        let outcome =
            read_line(reader, &mut buf).map_err(|source| FormatError::Io { path: name.to_path_buf(), source })?;
        let too_long = match outcome {
            Outcome::End => return Ok(()),
            Outcome::Line => false,
            Outcome::TooLong => true,
        };
        number += 1;
        if too_long {
            sink(Event::Rejected { line: number, reason: LINE_TOO_LONG.to_string() });
            continue;
        }
        let mut bytes: &[u8] = &buf;
        if number == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let text = match std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed) {
            Cow::Borrowed(text) => Cow::Borrowed(text),
            Cow::Owned(text) => {
                sink(Event::Warning {
                    line: number,
                    message: "line is not valid UTF-8; invalid bytes were replaced".to_string(),
                });
                Cow::Owned(text)
            }
        };
        on_line(number, text.trim_end(), sink)?;
    }
}

/// What [`read_line`] found.
enum Outcome {
    /// A line is in the buffer.
    Line,
    /// A line longer than [`MAX_LINE`] was consumed; the buffer is empty.
    TooLong,
    /// The input is exhausted.
    End,
}

/// Reads one line (without its `\n`) into `buf`, never holding more than
/// [`MAX_LINE`] bytes of it.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Outcome> {
    buf.clear();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, used, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], at + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(used);
        if done {
            break;
        }
    }
    if !read_any {
        return Ok(Outcome::End);
    }
    if too_long {
        return Ok(Outcome::TooLong);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Outcome::Line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], capacity: usize) -> Vec<String> {
        let mut reader = io::BufReader::with_capacity(capacity, input);
        let mut out = Vec::new();
        let mut events = Vec::new();
        for_each_line(Path::new("t"), &mut reader, &mut |e| events.push(e), &mut |n, text, _| {
            out.push(format!("{n}:{text}"));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        out.extend(events.into_iter().map(|e| format!("{e:?}")));
        out
    }

    #[test]
    fn strips_bom_crlf_and_trailing_space() {
        let got = collect(b"\xEF\xBB\xBFa \r\n\r\nb\t\nc", 3);
        assert_eq!(got, ["1:a", "2:", "3:b", "4:c"]);
    }

    #[test]
    fn overlong_lines_are_rejected_and_skipped() {
        let mut input = b"x\n".to_vec();
        input.extend(vec![b'a'; MAX_LINE + 1]);
        input.extend(b"\ny\n");
        let got = collect(&input, 4096);
        assert_eq!(got[..2], ["1:x", "3:y"]);
        assert!(got[2].contains("line: 2") && got[2].contains(LINE_TOO_LONG), "{got:?}");
        // exactly MAX_LINE bytes is still accepted
        let mut input = vec![b'b'; MAX_LINE];
        input.push(b'\n');
        assert_eq!(collect(&input, 4096).len(), 1);
    }

    #[test]
    fn overlong_lines_are_not_buffered_whole() {
        let mut input = vec![b'a'; 16 * MAX_LINE];
        input.extend(b"\nb\n");
        let mut reader = io::BufReader::with_capacity(4096, input.as_slice());
        let mut buf = Vec::new();
        assert!(matches!(read_line(&mut reader, &mut buf), Ok(Outcome::TooLong)));
        assert!(buf.capacity() <= 2 * MAX_LINE, "buffer grew to {}", buf.capacity());
        assert!(matches!(read_line(&mut reader, &mut buf), Ok(Outcome::Line)));
        assert_eq!(buf, b"b");
        assert!(matches!(read_line(&mut reader, &mut buf), Ok(Outcome::End)));
    }

    #[test]
    fn invalid_utf8_is_replaced_with_a_warning() {
        let got = collect(b"a\xFFb\n", 16);
        assert_eq!(got[0], "1:a\u{FFFD}b");
        assert!(got[1].contains("Warning"));
    }
}
