//! abuse.ch URLhaus malware download URLs: the CSV dump and JSON answers.
//!
//! Category `malware-distribution` (the `threat` label, e.g.
//! `malware_download`, is kept). The URL's host is the server and is derived
//! from the URL downstream; `host` and `ip` columns, which some dumps add,
//! become [`cordon_model::Record::links`]. The tags (`32-bit,elf,Mozi`) are
//! searched for a malware family that tells ransomware or an infostealer.
//!
//! JSON comes in two shapes, both read: the API answer
//! `{"query_status":…,"urls":[{…}]}` and the dump keyed by URL id,
//! `{"2840234":[{…}]}`.

use std::io::BufRead;
use std::path::Path;

use cordon_model::{Attributes, Category};
use serde_json::Value;

use crate::emit;
use crate::json::{self, array_objects, text, Entries, Object};
use crate::table::{read_commented, Header, Row};
use crate::{Event, Format, FormatError};

/// One URLhaus entry, as text, whatever form it came in.
struct Entry<'a> {
    url: Option<&'a str>,
    date_added: Option<&'a str>,
    last_online: Option<&'a str>,
    threat: Option<&'a str>,
    tags: Vec<&'a str>,
    links: Vec<&'a str>,
}

/// The CSV columns, found by header name.
struct Columns {
    url: usize,
    date_added: Option<usize>,
    last_online: Option<usize>,
    threat: Option<usize>,
    tags: Option<usize>,
    host: Option<usize>,
    ip: Option<usize>,
}

/// Parses the CSV dump.
pub(crate) fn parse_csv(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let resolve = |header: &Header| {
        Ok(Columns {
            url: header.find(&["url"]).ok_or("no 'url' column")?,
            date_added: header.find(&["dateadded", "date_added"]),
            last_online: header.find(&["last_online"]),
            threat: header.find(&["threat"]),
            tags: header.find(&["tags"]),
            host: header.find(&["host"]),
            ip: header.find(&["ip", "ip_address"]),
        })
    };
    read_commented(name, Format::UrlhausCsv, reader, sink, &resolve, None, &mut |columns, line, row: &Row<'_>, sink| {
        let entry = Entry {
            url: row.get(Some(columns.url)),
            date_added: row.get(columns.date_added),
            last_online: row.get(columns.last_online),
            threat: row.get(columns.threat),
            tags: row.get(columns.tags).map(|t| t.split(',').collect()).unwrap_or_default(),
            links: [row.get(columns.host), row.get(columns.ip)].into_iter().flatten().collect(),
        };
        emit_entry(line, &entry, sink);
    })
}

/// Parses a JSON answer or dump.
pub(crate) fn parse_json(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let Entries(members) = json::read_document(name, Format::UrlhausJson, reader)?;
    let mut index = 0u64;
    for (key, value) in &members {
        if !value.is_array() || (key != "urls" && !key.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        for object in array_objects(value) {
            index += 1;
            match object {
                Some(object) => emit_object(index, object, sink),
                None => sink(Event::Rejected { line: index, reason: "array element is not an object".to_string() }),
            }
        }
    }
    Ok(())
}

fn emit_object(index: u64, object: &Object, sink: &mut dyn FnMut(Event)) {
    let url = text(object, "url");
    let date_added = text(object, "date_added").or_else(|| text(object, "dateadded"));
    let last_online = text(object, "last_online");
    let threat = text(object, "threat");
    let host = text(object, "host");
    let tags: Vec<&str> = match object.get("tags") {
        Some(Value::Array(tags)) => tags.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(tags)) => tags.split(',').collect(),
        _ => Vec::new(),
    };
    let entry = Entry {
        url: url.as_deref(),
        date_added: date_added.as_deref(),
        last_online: last_online.as_deref(),
        threat: threat.as_deref(),
        tags,
        links: host.as_deref().into_iter().collect(),
    };
    emit_entry(index, &entry, sink);
}

fn emit_entry(line: u64, entry: &Entry<'_>, sink: &mut dyn FnMut(Event)) {
    let Some(url) = entry.url else {
        sink(Event::Rejected { line, reason: "no value in 'url'".to_string() });
        return;
    };
    let malware = entry.tags.iter().map(|t| t.trim()).find(|t| Category::from_family(t).is_some());
    let attributes = Attributes {
        category: Some(emit::category(entry.threat, malware, Category::MalwareDistribution)),
        label: entry.threat.map(str::to_string),
        malware: malware.map(str::to_string),
        first_seen: emit::timestamp(line, "dateadded", entry.date_added, sink),
        last_seen: emit::timestamp(line, "last_online", entry.last_online, sink),
        ..Attributes::default()
    };
    let links = emit::links(line, entry.links.iter().copied(), sink);
    emit::emit_column(line, "url", url, attributes, &links, sink);
}
