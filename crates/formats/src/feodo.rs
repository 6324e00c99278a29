//! abuse.ch Feodo Tracker botnet C2 lists, CSV and JSON (`ipblocklist.json`).
//!
//! The CSV is read with its header as a `#` comment line (the dumps), as a
//! first row (as served today) or without a header as one IP per line (the
//! older IP-only blocklist). Both forms give the same fields and go through [`emit_entry`]: category
//! `c2` (unless the family is ransomware or an infostealer), the C2 port, the
//! malware family, `first_seen` and `last_online` as first and last seen.

use std::io::BufRead;
use std::path::Path;

use cordon_model::{Attributes, Category};
use serde_json::Value;

use crate::emit;
use crate::json::stream::for_each_element;
use crate::json::text;
use crate::table::{read_commented, Header, Row};
use crate::{Event, Format, FormatError};

/// One Feodo entry, as text, whatever form it came in.
struct Entry<'a> {
    ip: Option<&'a str>,
    port: Option<&'a str>,
    first_seen: Option<&'a str>,
    last_online: Option<&'a str>,
    malware: Option<&'a str>,
}

/// The CSV columns, found by header name.
struct Columns {
    ip: usize,
    port: Option<usize>,
    first_seen: Option<usize>,
    last_online: Option<usize>,
    malware: Option<usize>,
}

/// Parses the CSV form.
pub(crate) fn parse_csv(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let resolve = |header: &Header| {
        Ok(Columns {
            ip: header.find(&["dst_ip", "ip_address"]).ok_or("no 'dst_ip' column")?,
            port: header.find(&["dst_port", "port"]),
            first_seen: header.find(&["first_seen_utc", "first_seen"]),
            last_online: header.find(&["last_online"]),
            malware: header.find(&["malware"]),
        })
    };
    let ip_only = Columns { ip: 0, port: None, first_seen: None, last_online: None, malware: None };
    let mut on_row = |columns: &Columns, line, row: &Row<'_>, sink: &mut dyn FnMut(Event)| {
        let entry = Entry {
            ip: row.get(Some(columns.ip)),
            port: row.get(columns.port),
            first_seen: row.get(columns.first_seen),
            last_online: row.get(columns.last_online),
            malware: row.get(columns.malware),
        };
        emit_entry(line, &entry, "dst_ip", sink);
    };
    read_commented(name, Format::FeodoCsv, reader, sink, &resolve, Some(ip_only), &mut on_row)
}

/// Parses the JSON form: an array of objects, read one at a time, so that
/// one that does not parse is one rejection.
pub(crate) fn parse_json(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let expected = "expected an array of objects";
    for_each_element(name, Format::FeodoJson, reader, 1 << 20, expected, &mut |index, element| {
        let object = match element {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return sink(Event::Rejected { line: index, reason: "array element is not an object".to_string() })
            }
            Err(reason) => return sink(Event::Rejected { line: index, reason }),
        };
        let (ip, port) = (text(&object, "ip_address"), text(&object, "port"));
        let (first_seen, last_online) = (text(&object, "first_seen"), text(&object, "last_online"));
        let malware = text(&object, "malware");
        let entry = Entry {
            ip: ip.as_deref(),
            port: port.as_deref(),
            first_seen: first_seen.as_deref(),
            last_online: last_online.as_deref(),
            malware: malware.as_deref(),
        };
        emit_entry(index, &entry, "ip_address", sink);
    })
}

fn emit_entry(line: u64, entry: &Entry<'_>, ip_field: &str, sink: &mut dyn FnMut(Event)) {
    let Some(ip) = entry.ip else {
        sink(Event::Rejected { line, reason: format!("no value in '{ip_field}'") });
        return;
    };
    let attributes = Attributes {
        category: Some(emit::category(None, entry.malware, Category::C2)),
        malware: entry.malware.map(str::to_string),
        first_seen: emit::timestamp(line, "first_seen", entry.first_seen, sink),
        last_seen: emit::timestamp(line, "last_online", entry.last_online, sink),
        port: emit::port(line, "port", entry.port, sink),
        ..Attributes::default()
    };
    emit::emit_column(line, ip_field, ip, attributes, &[], sink);
}
