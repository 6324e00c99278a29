//! Plain lists (one indicator per line) and the OpenPhish feed, which is a
//! plain list of phishing URLs.
//!
//! A comment starts with `#` or `;`, either at the start of a line or after
//! whitespace; a `#` inside a value (a URL fragment) is kept. Defanged values,
//! ranges and CIDRs are left to [`cordon_model::normalize`].

use std::io::BufRead;
use std::path::Path;

use cordon_model::{Attributes, Category};

use crate::emit::emit_value;
use crate::lines::for_each_line;
use crate::{Event, FormatError};

/// Parses a plain list.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    parse_list(name, reader, &Attributes::default(), sink)
}

/// Parses the OpenPhish feed: a plain list whose entries are phishing URLs.
pub(crate) fn parse_openphish(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let attributes = Attributes { category: Some(Category::Phishing), ..Attributes::default() };
    parse_list(name, reader, &attributes, sink)
}

fn parse_list(
    name: &Path,
    reader: &mut dyn BufRead,
    attributes: &Attributes,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let value = strip_comment(text);
        if !value.is_empty() {
            emit_value(line, value, attributes.clone(), &[], sink);
        }
        Ok(())
    })
}

/// The part of `line` before a `#` or `;` comment, trimmed. A comment marker
/// counts at the start of the line or after whitespace only.
pub(crate) fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with(['#', ';']) {
        return "";
    }
    if memchr::memchr2(b'#', b';', line.as_bytes()).is_none() {
        return line;
    }
    let mut previous_space = false;
    for (at, c) in line.char_indices() {
        if previous_space && (c == '#' || c == ';') {
            return line[..at].trim_end();
        }
        previous_space = c.is_whitespace();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments() {
        assert_eq!(strip_comment("# x"), "");
        assert_eq!(strip_comment("  ; x"), "");
        assert_eq!(strip_comment("1.2.3.4 # tor exit"), "1.2.3.4");
        assert_eq!(strip_comment("1.2.3.4\t;x"), "1.2.3.4");
        assert_eq!(strip_comment("http://a.example/#frag"), "http://a.example/#frag");
        assert_eq!(strip_comment("http://a.example/a;b"), "http://a.example/a;b");
    }
}
