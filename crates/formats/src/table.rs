//! Delimited rows: splitting a line into fields, finding columns by header
//! name, and the abuse.ch layout where the header is a `#` comment line.
//!
//! Rows are read on top of [`crate::lines`], with RFC 4180 quoting across
//! lines: a line that ends inside a quoted field is continued by the next
//! ones ([`Records`]), so a description spanning two lines stays one field
//! instead of becoming a row of its own (issue 10: `"seen talking to` /
//! `8.8.4.4,c2,x"` once stored `8.8.4.4` as a C2). A row is numbered by the
//! physical line it starts on, and a row is at most [`MAX_LINE`] bytes,
//! line breaks included, so memory stays constant: a quote that is never
//! closed costs at most that much input, then its row is rejected. Line ends
//! inside a field are read as `\n`, and trailing whitespace before them is
//! dropped, as on every line.

use std::io::BufRead;
use std::path::Path;

use crate::json::layout;
use crate::lines::{for_each_line, MAX_LINE};
use crate::{Event, Format, FormatError};

/// The rejection reason for a row over [`MAX_LINE`] bytes.
const ROW_TOO_LONG: &str = "row longer than 64 KiB (a quoted field that is not closed?)";

/// The rejection reason for a row whose quoted field is never closed.
pub(crate) const QUOTE_NOT_CLOSED: &str = "a quoted field is not closed";

/// Joins physical lines into rows where a quoted field spans lines.
///
/// Feed it every line of the input with [`Records::push`]; it answers with
/// the complete row, its first line's number, as soon as it has one. The
/// common row, on one line, is passed through without being copied; only a
/// row that continues is collected. Which quotes open a field follows
/// [`split_fields`] exactly: a `"` at the start of a field (after
/// whitespace) opens it, `""` inside it is a quote, and the next `"` closes
/// it.
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// The row so far, while one is open.
    text: String,
    /// The line the open row started on (0: no row is open).
    start: u64,
    /// Where the scan of the open row stopped.
    state: Quote,
}

/// What [`Records::push`] has for the caller.
enum Joined<'a> {
    /// A complete row, and the line it starts on.
    Row(u64, &'a str),
    /// The line continues a row that is not complete yet.
    Pending,
    /// The open row grew over [`MAX_LINE`] bytes: it is dropped, and this is
    /// the line it started on.
    TooLong(u64),
}

/// Where a scan of a row is, between two characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Quote {
    /// At the start of a field (only whitespace read).
    #[default]
    FieldStart,
    /// In an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Open,
    /// Just after a `"` inside a quoted field: the end of the field, or the
    /// first half of `""`.
    Closing,
    /// After a closed quoted field, before the delimiter.
    Closed,
}

impl Records {
    /// [`Records::push`] with its rejections (a broken row, a row over
    /// [`MAX_LINE`]) sent to `sink`: the complete row and the line it starts
    /// on, or `None` while the row is not complete or was dropped.
    pub(crate) fn row<'a>(
        &'a mut self,
        line: u64,
        text: &'a str,
        delimiter: char,
        sink: &mut dyn FnMut(Event),
    ) -> Option<(u64, &'a str)> {
        let (broken, joined) = self.push(line, text, delimiter);
        if let Some(line) = broken {
            sink(Event::Rejected { line, reason: QUOTE_NOT_CLOSED.to_string() });
        }
        match joined {
            Joined::Row(line, text) => Some((line, text)),
            Joined::Pending => None,
            Joined::TooLong(start) => {
                sink(Event::Rejected { line: start, reason: ROW_TOO_LONG.to_string() });
                None
            }
        }
    }

    /// True while a row continues on the next line: lines are then part of
    /// it whatever they look like (blank, or starting with `#`).
    pub(crate) fn is_open(&self) -> bool {
        self.start != 0
    }

    /// Takes line `line` (`text`, with its line end removed). The first
    /// value is the line of an open row this line shows to be broken (see
    /// below), to be rejected with [`QUOTE_NOT_CLOSED`] before what the
    /// second value says.
    ///
    /// A quote that closes on a later line must end its field there: text
    /// after it (`"Pikabot` / `"2024-03-20",…`) means that the quote opened
    /// on the first line was a stray one rather than a field over several
    /// lines, which a CSV writer never produces. The open row is then
    /// rejected, and the line is read again as the start of a row, so a
    /// stray quote costs one row, as it did before rows could span lines.
    fn push<'a>(&'a mut self, line: u64, text: &'a str, delimiter: char) -> (Option<u64>, Joined<'a>) {
        let mut broken = None;
        if self.is_open() {
            if self.text.len() + 1 + text.len() > MAX_LINE {
                let start = self.start;
                self.start = 0;
                self.text.clear();
                return (None, Joined::TooLong(start));
            }
            // The line break itself is content of the open field.
            match scan(self.state, text, delimiter) {
                (Quote::Open, _) => {
                    self.text.push('\n');
                    self.text.push_str(text);
                    return (None, Joined::Pending);
                }
                (_, true) => {
                    broken = Some(self.start);
                    self.start = 0;
                }
                (_, false) => {
                    self.text.push('\n');
                    self.text.push_str(text);
                    let start = self.start;
                    self.start = 0;
                    return (None, Joined::Row(start, &self.text));
                }
            }
        }
        // A line without a quote cannot open one.
        if memchr::memchr(b'"', text.as_bytes()).is_none() {
            return (broken, Joined::Row(line, text));
        }
        let (state, _) = scan(Quote::FieldStart, text, delimiter);
        if state != Quote::Open {
            return (broken, Joined::Row(line, text));
        }
        self.text.clear();
        self.text.push_str(text);
        self.start = line;
        self.state = state;
        (broken, Joined::Pending)
    }

    /// At the end of the input: the line of a row whose quote was never
    /// closed, if one is open.
    pub(crate) fn unclosed(&self) -> Option<u64> {
        self.is_open().then_some(self.start)
    }
}

/// The state after reading `text` from `state`, and whether text followed
/// the closing quote of a field (before the next delimiter).
fn scan(state: Quote, text: &str, delimiter: char) -> (Quote, bool) {
    if delimiter.is_ascii() && text.is_ascii() {
        scan_ascii(state, text.as_bytes(), delimiter as u8)
    } else {
        scan_chars(state, text, delimiter)
    }
}

/// [`scan`] of ASCII text: runs of field text are skipped with `memchr`
/// (a quoted abuse.ch row is mostly such runs), where [`scan_chars`]
/// decodes every character.
fn scan_ascii(mut state: Quote, text: &[u8], delimiter: u8) -> (Quote, bool) {
    let mut junk = false;
    let mut at = 0;
    while let Some(&b) = text.get(at) {
        match state {
            Quote::Open => match memchr::memchr(b'"', &text[at..]) {
                Some(found) => {
                    state = Quote::Closing;
                    at += found + 1;
                    continue;
                }
                None => return (Quote::Open, junk),
            },
            Quote::Unquoted | Quote::Closed => match memchr::memchr(delimiter, &text[at..]) {
                Some(found) => {
                    state = Quote::FieldStart;
                    at += found + 1;
                    continue;
                }
                None => return (state, junk),
            },
            Quote::FieldStart if b == delimiter || b.is_ascii_whitespace() || b == 0x0b => {}
            Quote::FieldStart if b == b'"' => state = Quote::Open,
            Quote::FieldStart => state = Quote::Unquoted,
            Quote::Closing if b == b'"' => state = Quote::Open,
            Quote::Closing if b == delimiter => state = Quote::FieldStart,
            Quote::Closing => {
                junk = true;
                state = Quote::Closed;
            }
        }
        at += 1;
    }
    (state, junk)
}

/// [`scan`], one character at a time.
fn scan_chars(mut state: Quote, text: &str, delimiter: char) -> (Quote, bool) {
    let mut junk = false;
    for c in text.chars() {
        state = match state {
            Quote::FieldStart if c == delimiter => Quote::FieldStart,
            Quote::FieldStart if c.is_whitespace() => Quote::FieldStart,
            Quote::FieldStart if c == '"' => Quote::Open,
            Quote::FieldStart => Quote::Unquoted,
            Quote::Unquoted | Quote::Closed if c == delimiter => Quote::FieldStart,
            Quote::Unquoted => Quote::Unquoted,
            Quote::Closed => Quote::Closed,
            Quote::Open if c == '"' => Quote::Closing,
            Quote::Open => Quote::Open,
            Quote::Closing if c == '"' => Quote::Open,
            Quote::Closing if c == delimiter => Quote::FieldStart,
            Quote::Closing => {
                junk = true;
                Quote::Closed
            }
        };
    }
    (state, junk)
}

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
                    return Err(QUOTE_NOT_CLOSED.to_string());
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

    /// The trimmed value of column `index`, if any: an empty cell or a
    /// placeholder ([`is_placeholder`]: `-`, `n/a`, `none`, …) is no value.
    pub(crate) fn get(&self, index: Option<usize>) -> Option<&'a str> {
        let field = self.fields.get(index?)?;
        // Most fields are trimmed already: a printable ASCII byte at both
        // ends cannot be whitespace, which spares decoding characters.
        let trimmed = match (field.as_bytes().first(), field.as_bytes().last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => field,
            _ => field.trim(),
        };
        (!is_placeholder(trimmed)).then_some(trimmed)
    }
}

/// True for a cell that stands for "no value": empty, `-`, `--`, `n/a`,
/// `na`, `none`, `null`, `nil` (any case). Only cells of at most four
/// bytes are compared, so a real value costs one length check.
pub(crate) fn is_placeholder(cell: &str) -> bool {
    cell.len() <= 4 && ["", "-", "--", "n/a", "na", "none", "null", "nil"].iter().any(|p| cell.eq_ignore_ascii_case(p))
}

/// Reads the abuse.ch CSV layout: a block of `#` comment lines, one of which
/// is the column header (`# "first_seen_utc","dst_ip",…`), then
/// comma-separated rows. The header is the last comment line, before the
/// first row, that `resolve` accepts; `resolve` maps it to the format's
/// columns (the `C` passed to `on_row`) or says which column is missing.
/// Lines starting with `;` (a trailing `; EOF`) are comments too.
///
/// Two other layouts abuse.ch serves are read as well: the header as a
/// first row that is not commented (`"first_seen_utc","dst_ip",…`, as the
/// Feodo Tracker CSV is served today), and, when `one_column` is given, a
/// list of one value per line without any header (the older IP-only
/// blocklists), read with those columns.
pub(crate) fn read_commented<C>(
    name: &Path,
    format: Format,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
    resolve: &dyn Fn(&Header) -> Result<C, String>,
    one_column: Option<C>,
    on_row: &mut RowHandler<'_, C>,
) -> Result<(), FormatError> {
    let mut one_column = one_column;
    let mut columns: Option<C> = None;
    let mut last_problem: Option<String> = None;
    let mut fields = Fields::default();
    let mut records = Records::default();
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let text = if records.is_open() { text } else { text.trim() };
        if text.is_empty() && !records.is_open() {
            return Ok(());
        }
        if !records.is_open() && text.starts_with(';') {
            return Ok(());
        }
        if let (Some(comment), false) = (text.strip_prefix('#'), records.is_open()) {
            if columns.is_none() && split_fields(comment, ',', &mut fields).is_ok() && fields.len() > 1 {
                match resolve(&Header::new(fields.iter())) {
                    Ok(resolved) => columns = Some(resolved),
                    Err(problem) => last_problem = Some(problem),
                }
            }
            return Ok(());
        }
        if columns.is_none() && split_fields(text, ',', &mut fields).is_ok() {
            if fields.len() > 1 {
                if let Ok(resolved) = resolve(&Header::new(fields.iter())) {
                    columns = Some(resolved);
                    return Ok(());
                }
            } else {
                columns = one_column.take();
            }
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
        let Some((line, text)) = records.row(line, text, ',', sink) else {
            return Ok(());
        };
        match split_fields(text.trim(), ',', &mut fields) {
            Ok(()) => on_row(columns, line, &Row::new(&fields), sink),
            Err(reason) => sink(Event::Rejected { line, reason }),
        }
        Ok(())
    })?;
    if let Some(line) = records.unclosed() {
        sink(Event::Rejected { line, reason: QUOTE_NOT_CLOSED.to_string() });
    }
    Ok(())
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
    fn both_scans_agree_with_the_splitter() {
        let lines = [
            "a,b",
            "\"a\",b",
            " \"a",
            "\"a\"\"",
            "\"a\"x,\"b",
            "a\"b,\"",
            "\u{b}\"x",
            "\u{a0}\"x",
            "\"é",
            "x,\"\"\"",
            "\t\"a\t\"\t",
            "\"a\" ,\"",
        ];
        for line in lines {
            for delimiter in [',', '\t'] {
                let chars = scan_chars(Quote::FieldStart, line, delimiter);
                if line.is_ascii() {
                    assert_eq!(scan_ascii(Quote::FieldStart, line.as_bytes(), delimiter as u8), chars, "{line:?}");
                }
                let open = split(line, delimiter).is_err();
                assert_eq!(chars.0 == Quote::Open, open, "{line:?} {delimiter:?}");
            }
        }
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
