//! Generic CSV/TSV from partners' spreadsheets.
//!
//! The delimiter is [`Options::delimiter`] or guessed from the first line
//! that is not a `#` comment (lines starting with `;`, such as a trailing
//! `; EOF`, are comments too unless `;` is the delimiter) (the most frequent of tab, `,`, `;` and `|`).
//! Columns come from that line when it is a header (a cell names a known
//! field, in any case, with any spacing, e.g. `IP Address`, `dst_ip`,
//! `First Seen`, and IntelMQ's names in any spelling: `source.ip`,
//! `source_ip`, `SourceIp`, `source.url`, `source.fqdn`,
//! `classification.type`), with [`Options::columns`] overriding; a file without a
//! header needs `Options::columns`, and one with neither is a
//! [`FormatError::Layout`] saying so. With `Options::columns`, a first row
//! whose mapped indicator cells hold no indicator is a header of names
//! cordon does not know (`Adresse;Bemerkung`): it is skipped with a
//! warning, not rejected.
//!
//! Quoted fields may span lines (RFC 4180); a row is numbered by the line it
//! starts on (see [`crate::table`]).
//!
//! Each row has one indicator: the first non-empty of the `indicator`,
//! `url`, `domain`, `ip` and `host` columns; the others become links (a
//! URL's server IP). A `type` column naming a non-network type (a hash, a
//! file name, an e-mail address) makes the row [`Event::Skipped`].

use std::io::BufRead;
use std::path::Path;

use cordon_model::{normalize, Attributes};

use crate::emit::{self, CategoryCache};
use crate::json::layout;
use crate::lines::for_each_line;
use crate::table::{split_fields, Fields, Header, Records, Row, QUOTE_NOT_CLOSED};
use crate::{Event, Format, FormatError, Options};

/// The fields a column can hold, each with the header names that mean it.
/// The first five hold indicators, in the order one is chosen.
const FIELDS: [(&str, &[&str]); 13] = [
    ("indicator", &["indicator", "value", "ioc", "ioc_value", "observable"]),
    ("url", &["url", "uri", "source.url"]),
    ("domain", &["domain", "fqdn", "hostname", "domain_name", "source.fqdn"]),
    (
        "ip",
        &[
            "ip",
            "ip_address",
            "dst_ip",
            "src_ip",
            "ipv4",
            "ipv6",
            "address",
            "cidr",
            "network",
            "source.ip",
            "source.network",
        ],
    ),
    ("host", &["host"]),
    ("type", &["type", "ioc_type", "indicator_type", "kind"]),
    ("category", &["category", "threat_type", "classification", "classification.type"]),
    ("malware", &["malware", "family", "malware_family", "malware.name", "classification.identifier"]),
    ("first_seen", &["first_seen", "first_seen_utc", "date_added", "dateadded", "time.source"]),
    ("last_seen", &["last_seen", "last_seen_utc", "last_online"]),
    ("confidence", &["confidence", "score", "feed.accuracy"]),
    ("tlp", &["tlp"]),
    ("port", &["port", "dst_port", "source.port"]),
];

/// How many leading [`FIELDS`] hold indicators.
const INDICATOR_FIELDS: usize = 5;

/// Fragments of `type` values that are not network indicators.
const NON_NETWORK_TYPES: &[&str] =
    &["md5", "sha1", "sha256", "sha512", "sha3", "hash", "file", "email", "mutex", "ssdeep", "tlsh", "ja3", "yara"];

/// The 0-based column of each of [`FIELDS`], if present.
type Columns = [Option<usize>; FIELDS.len()];

/// Parses a delimited file.
pub(crate) fn parse(
    name: &Path,
    reader: &mut dyn BufRead,
    options: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let mapped = mapped_columns(name, options)?;
    let mut delimiter = options.delimiter.map(char::from);
    let mut columns: Option<Columns> = None;
    let mut fields = Fields::default();
    let mut categories = CategoryCache::default();
    let mut records = Records::default();
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let start = text.trim_start();
        // `#` lines are comments, and so are `;` lines (a trailing `; EOF`)
        // unless `;` is the delimiter.
        let comment = start.starts_with('#') || (start.starts_with(';') && delimiter != Some(';'));
        if !records.is_open() && (start.is_empty() || comment) {
            return Ok(());
        }
        let delimiter = *delimiter.get_or_insert_with(|| guess_delimiter(text));
        let Some((line, text)) = records.row(line, text, delimiter, sink) else {
            return Ok(());
        };
        if let Err(reason) = split_fields(text, delimiter, &mut fields) {
            sink(Event::Rejected { line, reason });
            return Ok(());
        }
        if columns.is_none() {
            let header = Header::new(fields.iter());
            let from_header: Columns = FIELDS.map(|(_, names)| header.find(names));
            let is_header = from_header.iter().any(Option::is_some);
            let resolved = resolve(name, line, is_header.then_some(from_header), &mapped, &fields)?;
            let row = Row::new(&fields);
            // With a column mapping, a header of names cordon does not know
            // is told from data by its mapped cells: none is an indicator.
            let unknown_header = !is_header
                && resolved[..INDICATOR_FIELDS]
                    .iter()
                    .all(|&column| row.get(column).is_none_or(|v| normalize(v).is_err()));
            columns = Some(resolved);
            if unknown_header {
                let message = "read as a header row: no mapped indicator column holds an indicator".to_string();
                sink(Event::Warning { line, message });
            }
            if is_header || unknown_header {
                return Ok(());
            }
        }
        let Some(columns) = &columns else {
            return Ok(());
        };
        emit_row(line, columns, &Row::new(&fields), &mut categories, sink);
        Ok(())
    })?;
    if let Some(line) = records.unclosed() {
        sink(Event::Rejected { line, reason: QUOTE_NOT_CLOSED.to_string() });
    }
    Ok(())
}

/// True when `line` is a header: one of its cells names a known field.
pub(crate) fn is_header(line: &str) -> bool {
    let mut cells = Fields::default();
    if split_fields(line, guess_delimiter(line), &mut cells).is_err() {
        return false;
    }
    let header = Header::new(cells.iter());
    FIELDS.iter().any(|(_, names)| header.find(names).is_some())
}

/// [`Options::columns`] as [`Columns`] (only the given fields set).
fn mapped_columns(name: &Path, options: &Options) -> Result<Columns, FormatError> {
    let mut columns: Columns = [None; FIELDS.len()];
    for (field, number) in &options.columns {
        let wanted = Header::new([field.as_str()]);
        let slot = FIELDS
            .iter()
            .position(|(canonical, names)| wanted.find(&[canonical]).is_some() || wanted.find(names).is_some());
        let Some(slot) = slot else {
            let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
            return Err(layout(
                name,
                Format::Csv,
                format!("unknown column field '{field}' (known: {})", known.join(", ")),
            ));
        };
        let Some(index) = number.checked_sub(1) else {
            return Err(layout(name, Format::Csv, format!("column numbers start at 1 (got {field}=0)")));
        };
        columns[slot] = Some(index);
    }
    Ok(columns)
}

/// The columns to read rows with: the header's (if any) overridden by the
/// mapping; an error when no column holds an indicator.
fn resolve(
    name: &Path,
    line: u64,
    header: Option<Columns>,
    mapped: &Columns,
    cells: &Fields,
) -> Result<Columns, FormatError> {
    let mut columns = header.unwrap_or([None; FIELDS.len()]);
    for (slot, index) in mapped.iter().enumerate() {
        if index.is_some() {
            columns[slot] = *index;
        }
    }
    if columns[..INDICATOR_FIELDS].iter().any(Option::is_some) {
        return Ok(columns);
    }
    let wanted = FIELDS[..INDICATOR_FIELDS].iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ");
    let reason = match header {
        Some(_) => format!(
            "line {line}: the header ({}) names no indicator column ({wanted})",
            cells.iter().collect::<Vec<_>>().join(", ")
        ),
        None => format!(
            "line {line}: no header naming the columns and no column mapping; \
             add a header or map a column, e.g. --column ip=1 (fields: {wanted}, …)"
        ),
    };
    Err(layout(name, Format::Csv, reason))
}

/// The most frequent of tab, `,`, `;` and `|` in `line` (`,` if none).
fn guess_delimiter(line: &str) -> char {
    let mut best = (',', 0);
    for candidate in ['\t', ',', ';', '|'] {
        let count = line.matches(candidate).count();
        if count > best.1 {
            best = (candidate, count);
        }
    }
    best.0
}

fn emit_row(line: u64, columns: &Columns, row: &Row<'_>, categories: &mut CategoryCache, sink: &mut dyn FnMut(Event)) {
    let [indicator, url, domain, ip, host, kind, category, malware, first_seen, last_seen, confidence, tlp, port] =
        columns.map(|column| row.get(column));
    if let Some(kind) = kind {
        let lower = kind.to_ascii_lowercase();
        if NON_NETWORK_TYPES.iter().any(|t| lower.contains(t)) {
            sink(Event::Skipped { line, reason: format!("not-network:{lower}") });
            return;
        }
    }
    let mut values = [indicator, url, domain, ip, host].into_iter().zip(FIELDS).filter_map(|(v, (f, _))| Some((f, v?)));
    let Some((primary_field, primary)) = values.next() else {
        let mapped: Vec<&str> =
            FIELDS[..INDICATOR_FIELDS].iter().zip(columns).filter(|(_, c)| c.is_some()).map(|((f, _), _)| *f).collect();
        let reason = format!("no value in the indicator column ({})", mapped.join(", "));
        sink(Event::Rejected { line, reason });
        return;
    };
    let attributes = Attributes {
        category: categories.category(category, malware),
        label: category.map(str::to_string),
        malware: malware.map(str::to_string),
        first_seen: emit::timestamp(line, "first_seen", first_seen, sink),
        last_seen: emit::timestamp(line, "last_seen", last_seen, sink),
        confidence: emit::confidence(line, "confidence", confidence, sink),
        tlp: emit::tlp(line, tlp, sink),
        port: emit::port(line, "port", port, sink),
    };
    let links = emit::links(line, values.map(|(_, v)| v).filter(|v| *v != primary), sink);
    emit::emit_column(line, primary_field, primary, attributes, &links, sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_delimiters() {
        assert_eq!(guess_delimiter("ip\tfirst_seen"), '\t');
        assert_eq!(guess_delimiter("ip;category;tlp"), ';');
        assert_eq!(guess_delimiter("ip|x"), '|');
        assert_eq!(guess_delimiter("ip"), ',');
    }
}
