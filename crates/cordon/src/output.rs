//! Writing results: `--json` lines, a locked, buffered stdout, and human
//! output with feed strings made harmless for terminals.

use std::borrow::Cow;
use std::io::{BufWriter, StdoutLock, Write};

use serde::Serialize;

/// A buffered handle on standard output, for exact output (`--json`,
/// exports).
pub(crate) fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Writes one JSON value on its own line.
pub(crate) fn json_line(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// `text` with every control character (C0 but tab and newline, DEL, C1)
/// shown as `\xNN` or `\u{NN}`: feed strings (source names, malware
/// families, URLs) printed for people can then neither move the cursor,
/// clear the screen nor retitle the window. `--json` output is exact and
/// never goes through this (JSON escapes C0 itself).
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Human output: a buffered stdout whose lines go through [`clean`].
pub(crate) struct Human {
    out: BufWriter<StdoutLock<'static>>,
}

/// The human output stream.
pub(crate) fn human() -> Human {
    Human { out: stdout() }
}

impl Write for Human {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        // Fast path: printable ASCII, tabs and newlines (nearly every line).
        if buf.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t') {
            return self.out.write_all(buf);
        }
        let text = String::from_utf8_lossy(buf);
        self.out.write_all(clean(&text).as_bytes())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(clean("plain\tname\n"), "plain\tname\n");
        assert_eq!(clean("\u{1b}]0;pwned\u{7}x"), "\\x1b]0;pwned\\x07x");
        assert_eq!(clean("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(clean("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(clean("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(clean("\r"), "\\x0d");
    }
}
