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

/// The fields of one row, back to back in one buffer that is reused from
/// row to row: splitting a row allocates nothing once the buffer has grown
/// to the longest row (a `String` per field was the CSV reader's largest
/// cost after normalization).
#[derive(Debug, Default)]
pub(crate) struct Fields {
    text: String,
    /// Where each field ends in `text`.
    ends: Vec<usize>,
}

impl Fields {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Ends the field whose text was pushed since the last one ended.
    fn end_field(&mut self) {
        self.ends.push(self.text.len());
    }

    fn push_field(&mut self, field: &str) {
        self.text.push_str(field);
        self.end_field();
    }

    /// The number of fields.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `index` (0-based), as split.
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = index.checked_sub(1).and_then(|i| self.ends.get(i)).copied().unwrap_or(0);
        self.text.get(start..end)
    }

    /// Every field, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Splits `line` at `delimiter` into `out` (cleared first). A field may be
/// quoted with `"`, a doubled `""` inside quotes standing for one `"`;
/// unquoted fields are trimmed. Fails on a quote that is never closed,
/// leaving `out` empty.
pub(crate) fn split_fields(line: &str, delimiter: char, out: &mut Fields) -> Result<(), String> {
    out.clear();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches(|c: char| c != delimiter && c.is_whitespace());
        if let Some(quoted) = rest.strip_prefix('"') {
            // Copied a run between quotes at a time.
            let mut tail = quoted;
            let after = loop {
                let Some(at) = tail.find('"') else {
                    out.clear();
                    return Err("a quoted field is not closed".to_string());
                };
                out.text.push_str(&tail[..at]);
                match tail[at + 1..].strip_prefix('"') {
                    Some(next) => {
                        out.text.push('"');
                        tail = next;
                    }
                    None => break &tail[at + 1..],
                }
            };
            out.end_field();
            // Anything between the closing quote and the delimiter is dropped.
            match after.find(delimiter) {
                Some(at) => rest = &after[at + delimiter.len_utf8()..],
                None => return Ok(()),
            }
        } else {
            // Unquoted: the field runs to the delimiter, copied as one slice.
            match rest.find(delimiter) {
                Some(at) => {
                    out.push_field(rest[..at].trim_end());
                    rest = &rest[at + delimiter.len_utf8()..];
                }
                None => {
                    out.push_field(rest.trim_end());
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
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Header {
        Header { keys: names.into_iter().map(key).collect() }
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
    fields: &'a Fields,
}

impl<'a> Row<'a> {
    /// A row of `fields`.
    pub(crate) fn new(fields: &'a Fields) -> Row<'a> {
        Row { fields }
    }

    /// The trimmed, non-empty value of column `index`, if any.
    pub(crate) fn get(&self, index: Option<usize>) -> Option<&'a str> {
        let field = self.fields.get(index?)?;
        // Most fields are trimmed already: a printable ASCII byte at both
        // ends cannot be whitespace, which spares decoding characters.
        let trimmed = match (field.as_bytes().first(), field.as_bytes().last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => field,
            _ => field.trim(),
        };
        (!trimmed.is_empty()).then_some(trimmed)
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
    let mut fields = Fields::default();
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if let Some(comment) = text.strip_prefix('#') {
            if columns.is_none() && split_fields(comment, ',', &mut fields).is_ok() && fields.len() > 1 {
                match resolve(&Header::new(fields.iter())) {
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
                None => resolve(&Header::new([])).err().unwrap_or_default(),
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
        let mut out = Fields::default();
        split_fields(line, delimiter, &mut out).map(|()| out.iter().map(String::from).collect())
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
        assert_eq!(split(r#""""#, ','), Ok(vec!["".into()]));
        assert_eq!(split(r#"x,"a""""b" junk ,"é""#, ','), Ok(vec!["x".into(), "a\"\"b".into(), "é".into()]));
        assert_eq!(split("", ','), Ok(vec!["".into()]));
    }

    #[test]
    fn fields_are_reused_across_rows() {
        let mut fields = Fields::default();
        split_fields("a,bb,ccc", ',', &mut fields).unwrap();
        split_fields("d,\"e\"", ',', &mut fields).unwrap();
        assert_eq!(fields.iter().collect::<Vec<_>>(), ["d", "e"]);
        assert_eq!((fields.len(), fields.get(2)), (2, None));
        assert!(split_fields("\"open", ',', &mut fields).is_err());
        assert_eq!(fields.len(), 0);
    }

    #[test]
    fn header_names_ignore_case_and_separators() {
        let header = Header::new(["First Seen", "DST_IP"]);
        assert_eq!(header.find(&["ip", "dst-ip"]), Some(1));
        assert_eq!(header.find(&["first_seen"]), Some(0));
        assert_eq!(header.find(&["url"]), None);
    }
}
