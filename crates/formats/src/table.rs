//! Delimited rows: splitting a line into fields, finding columns by header
//! name, and the abuse.ch layout where the header is a `#` comment line.
//!
//! Rows are read line by line (on top of [`crate::lines`]), so a quoted field
//! cannot span lines; in exchange every row has its real line number and
//! memory stays constant. No feed cordon reads puts line breaks in a field.

use std::io::BufRead;
use std::path::Path;

use crate::json::layout;
use crate::lines::for_each_line;
use crate::{Event, Format, FormatError};

/// Splits `line` at `delimiter` into `out` (cleared first). A field may be
/// quoted with `"`, a doubled `""` inside quotes standing for one `"`;
/// unquoted fields are trimmed. Fails on a quote that is never closed.
pub(crate) fn split_fields(line: &str, delimiter: char, out: &mut Vec<String>) -> Result<(), String> {
    out.clear();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches(|c: char| c != delimiter && c.is_whitespace());
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut field = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    Some((i, '"')) if quoted[i + 1..].starts_with('"') => {
                        field.push('"');
                        chars.next();
                    }
                    Some((i, '"')) => break &quoted[i + 1..],
                    Some((_, c)) => field.push(c),
                    None => return Err("a quoted field is not closed".to_string()),
                }
            };
            out.push(field);
            // Anything between the closing quote and the delimiter is dropped.
            match after.find(delimiter) {
                Some(at) => rest = &after[at + delimiter.len_utf8()..],
                None => return Ok(()),
            }
        } else {
            // Unquoted: the field runs to the delimiter, copied as one slice.
            match rest.find(delimiter) {
                Some(at) => {
                    out.push(rest[..at].trim_end().to_string());
                    rest = &rest[at + delimiter.len_utf8()..];
                }
                None => {
                    out.push(rest.trim_end().to_string());
                    return Ok(());
                }
            }
        }
    }
}

/// What [`read_commented`] calls with the columns, the line number and the
/// fields of each row.
pub(crate) type RowHandler<'a, C> = dyn FnMut(&C, u64, &Row<'_>, &mut dyn FnMut(Event)) + 'a;

/// Column names of a header row, compared without case, spaces,
/// underscores, hyphens or dots (`First Seen` finds `first_seen`).
pub(crate) struct Header {
    keys: Vec<String>,
}

impl Header {
    /// A header from its column names.
    pub(crate) fn new(names: &[String]) -> Header {
        Header { keys: names.iter().map(|n| key(n)).collect() }
    }

    /// The 0-based index of the first column named one of `names`, trying
    /// the names in order.
    pub(crate) fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| {
            let wanted = key(name);
            self.keys.iter().position(|k| *k == wanted)
        })
    }
}

fn key(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric() || *c == ':').flat_map(char::to_lowercase).collect()
}

/// The fields of one row.
pub(crate) struct Row<'a> {
    fields: &'a [String],
}

impl<'a> Row<'a> {
    /// A row of `fields`.
    pub(crate) fn new(fields: &'a [String]) -> Row<'a> {
        Row { fields }
    }

    /// The trimmed, non-empty value of column `index`, if any.
    pub(crate) fn get(&self, index: Option<usize>) -> Option<&'a str> {
        self.fields.get(index?).map(|f| f.trim()).filter(|f| !f.is_empty())
    }
}

/// Reads the abuse.ch CSV layout: a block of `#` comment lines, one of which
/// is the column header (`# "first_seen_utc","dst_ip",…`), then
/// comma-separated rows. The header is the last comment line, before the
/// first row, that `resolve` accepts; `resolve` maps it to the format's
/// columns (the `C` passed to `on_row`) or says which column is missing.
pub(crate) fn read_commented<C>(
    name: &Path,
    format: Format,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
    resolve: &dyn Fn(&Header) -> Result<C, String>,
    on_row: &mut RowHandler<'_, C>,
) -> Result<(), FormatError> {
    let mut columns: Option<C> = None;
    let mut last_problem: Option<String> = None;
    let mut fields = Vec::new();
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if let Some(comment) = text.strip_prefix('#') {
            if columns.is_none() && split_fields(comment, ',', &mut fields).is_ok() && fields.len() > 1 {
                match resolve(&Header::new(&fields)) {
                    Ok(resolved) => columns = Some(resolved),
                    Err(problem) => last_problem = Some(problem),
                }
            }
            return Ok(());
        }
        let Some(columns) = &columns else {
            // With no candidate header, an empty one tells which column is missing.
            let why = match last_problem.take() {
                Some(problem) => problem,
                None => resolve(&Header::new(&[])).err().unwrap_or_default(),
            };
            let reason = format!("line {line}: data before a '#' comment line naming the columns ({why})");
            return Err(layout(name, format, reason));
        };
        match split_fields(text, ',', &mut fields) {
            Ok(()) => on_row(columns, line, &Row::new(&fields), sink),
            Err(reason) => sink(Event::Rejected { line, reason }),
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str, delimiter: char) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        split_fields(line, delimiter, &mut out).map(|()| out)
    }

    #[test]
    fn splits_quoted_and_plain_fields() {
        assert_eq!(
            split(r#""a","b,c" , d,"e""f""#, ','),
            Ok(vec!["a".into(), "b,c".into(), "d".into(), "e\"f".into()])
        );
        assert_eq!(split("a\t\tb", '\t'), Ok(vec!["a".into(), "".into(), "b".into()]));
        assert_eq!(split("a,", ','), Ok(vec!["a".into(), "".into()]));
        assert!(split(r#""open"#, ',').is_err());
    }

    #[test]
    fn header_names_ignore_case_and_separators() {
        let header = Header::new(&["First Seen".into(), "DST_IP".into()]);
        assert_eq!(header.find(&["ip", "dst-ip"]), Some(1));
        assert_eq!(header.find(&["first_seen"]), Some(0));
        assert_eq!(header.find(&["url"]), None);
    }
}
