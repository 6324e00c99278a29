//! abuse.ch ThreatFox IOCs: the JSON export (keyed by IOC id) and the CSV
//! export.
//!
//! Only network IOC types are indicators (`ip:port`, `domain`, `url`, and
//! `ip`); hashes and other types are [`Event::Skipped`] as
//! `not-network:<ioc_type>`. `ip:port` gives an address and its port. The
//! category comes from `threat_type` (`botnet_cc` → c2, `payload_delivery` →
//! malware-distribution) unless `malware_printable` names a ransomware or
//! infostealer family; `confidence_level` is the record's confidence.
//!
//! The JSON API answer `{"query_status":…,"data":[{…}]}` is read as well.

use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

use cordon_model::{Attributes, Category};

use serde_json::Value;

use crate::emit::{self, emit_value};
use crate::json::stream::{kind_of, Raw, ScanError, Scanner, MAX_NESTING};
use crate::json::{self, text, MAX_DOCUMENT};
use crate::table::{read_commented, Header, Row};
use crate::{Event, Format, FormatError};

/// The largest IOC object read (1 MiB); a larger one is rejected.
const MAX_IOC: usize = 1 << 20;

/// IOC types that are network indicators.
const NETWORK_TYPES: &[&str] = &["ip:port", "domain", "url", "ip"];

/// One ThreatFox IOC, as text, whatever form it came in.
struct Ioc<'a> {
    value: Option<&'a str>,
    ioc_type: Option<&'a str>,
    threat_type: Option<&'a str>,
    malware: Option<&'a str>,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    confidence: Option<&'a str>,
}

/// The CSV columns, found by header name.
struct Columns {
    value: usize,
    ioc_type: Option<usize>,
    threat_type: Option<usize>,
    malware: Option<usize>,
    first_seen: Option<usize>,
    last_seen: Option<usize>,
    confidence: Option<usize>,
}

/// Parses the CSV export.
pub(crate) fn parse_csv(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let resolve = |header: &Header| {
        Ok(Columns {
            value: header.find(&["ioc_value", "ioc"]).ok_or("no 'ioc_value' column")?,
            ioc_type: header.find(&["ioc_type"]),
            threat_type: header.find(&["threat_type"]),
            malware: header.find(&["malware_printable", "fk_malware"]),
            first_seen: header.find(&["first_seen_utc", "first_seen"]),
            last_seen: header.find(&["last_seen_utc", "last_seen"]),
            confidence: header.find(&["confidence_level"]),
        })
    };
    read_commented(
        name,
        Format::ThreatfoxCsv,
        reader,
        sink,
        &resolve,
        None,
        &mut |columns, line, row: &Row<'_>, sink| {
            let ioc = Ioc {
                value: row.get(Some(columns.value)),
                ioc_type: row.get(columns.ioc_type),
                threat_type: row.get(columns.threat_type),
                malware: row.get(columns.malware),
                first_seen: row.get(columns.first_seen),
                last_seen: row.get(columns.last_seen),
                confidence: row.get(columns.confidence),
            };
            emit_ioc(line, &ioc, sink);
        },
    )
}

/// Parses the JSON export (or an API answer), streaming: the members of the
/// top-level object one at a time, and of each member that is an array its
/// elements one at a time, so that one IOC that does not parse (a number
/// out of range such as `1e400`) is one rejection, and memory does not grow
/// with the export. Members that are not arrays (`query_status`) are
/// skipped.
pub(crate) fn parse_json(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let scan_error = |error| json::scan_error(name, Format::ThreatfoxJson, error);
    let mut scanner = Scanner::new(reader, MAX_DOCUMENT).map_err(scan_error)?;
    match scanner.peek().map_err(scan_error)? {
        Some(b'{') => {}
        Some(first) => {
            return Err(json::layout(
                name,
                Format::ThreatfoxJson,
                format!("expected an object, found {}", kind_of(first)),
            ))
        }
        None => {
            return Err(json::layout(name, Format::ThreatfoxJson, "JSON does not parse: EOF while parsing a value"))
        }
    }
    let mut buf = Vec::new();
    let mut index = 0u64;
    scanner.expect(b'{', "'{'").map_err(scan_error)?;
    let mut more = !scanner.eat(b'}').map_err(scan_error)?;
    while more {
        scanner.key(&mut buf).map_err(scan_error)?;
        if scanner.peek().map_err(scan_error)? == Some(b'[') {
            read_iocs(&mut scanner, &mut buf, &mut index, sink).map_err(scan_error)?;
        } else {
            scanner.value(&mut buf, 0).map_err(scan_error)?;
        }
        more = scanner.next_item(b'}').map_err(scan_error)?;
    }
    scanner.end().map_err(scan_error)
}

/// Reads the IOCs of one array (the cursor on its `[`), numbering them on
/// from `index`.
fn read_iocs(
    scanner: &mut Scanner<'_>,
    buf: &mut Vec<u8>,
    index: &mut u64,
    sink: &mut dyn FnMut(Event),
) -> Result<(), ScanError> {
    scanner.expect(b'[', "'['")?;
    if scanner.eat(b']')? {
        return Ok(());
    }
    loop {
        *index += 1;
        let line = *index;
        let object = match scanner.value(buf, MAX_IOC)? {
            Raw::TooLarge => Err(format!("IOC is larger than {} KiB; not read", MAX_IOC >> 10)),
            Raw::TooDeep => Err(format!("IOC nests deeper than {MAX_NESTING} levels; not read")),
            Raw::Complete => match serde_json::from_slice::<Value>(buf) {
                Ok(Value::Object(object)) => Ok(object),
                Ok(_) => Err("array element is not an object".to_string()),
                Err(error) => Err(format!("IOC is not valid JSON ({error})")),
            },
        };
        match object {
            Ok(object) => emit_json_ioc(line, &object, sink),
            Err(reason) => sink(Event::Rejected { line, reason }),
        }
        if !scanner.next_item(b']')? {
            return Ok(());
        }
    }
}

fn emit_json_ioc(index: u64, object: &json::Object, sink: &mut dyn FnMut(Event)) {
    let fields = ["ioc_value", "ioc_type", "threat_type", "malware_printable", "first_seen_utc", "last_seen_utc"];
    let [value, ioc_type, threat_type, malware, first_seen, last_seen] = fields.map(|key| text(object, key));
    let confidence = text(object, "confidence_level");
    let ioc = Ioc {
        value: value.as_deref().or(text_ref(object, "ioc")),
        ioc_type: ioc_type.as_deref(),
        threat_type: threat_type.as_deref(),
        malware: malware.as_deref(),
        first_seen: first_seen.as_deref().or(text_ref(object, "first_seen")),
        last_seen: last_seen.as_deref().or(text_ref(object, "last_seen")),
        confidence: confidence.as_deref(),
    };
    emit_ioc(index, &ioc, sink);
}

/// A string field (API answers name some fields differently).
fn text_ref<'a>(object: &'a json::Object, key: &str) -> Option<&'a str> {
    object.get(key)?.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn emit_ioc(line: u64, ioc: &Ioc<'_>, sink: &mut dyn FnMut(Event)) {
    if let Some(ioc_type) = ioc.ioc_type {
        if !NETWORK_TYPES.iter().any(|t| t.eq_ignore_ascii_case(ioc_type)) {
            sink(Event::Skipped { line, reason: format!("not-network:{}", ioc_type.to_ascii_lowercase()) });
            return;
        }
    }
    let Some(value) = ioc.value else {
        sink(Event::Rejected { line, reason: "no value in 'ioc_value'".to_string() });
        return;
    };
    if ioc.ioc_type.is_some_and(|t| t.eq_ignore_ascii_case("ip:port")) {
        let host = value.rsplit_once(':').map_or(value, |(host, _)| host);
        if host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_err() {
            sink(Event::Rejected { line, reason: format!("'{host}' is not an IP address (ioc_type ip:port)") });
            return;
        }
    }
    let category = Category::from_label(ioc.threat_type, ioc.malware);
    let attributes = Attributes {
        category,
        label: ioc.threat_type.map(str::to_string),
        malware: ioc.malware.filter(|m| !m.eq_ignore_ascii_case("unknown malware")).map(str::to_string),
        first_seen: emit::timestamp(line, "first_seen_utc", ioc.first_seen, sink),
        last_seen: emit::timestamp(line, "last_seen_utc", ioc.last_seen, sink),
        confidence: emit::confidence(line, "confidence_level", ioc.confidence, sink),
        ..Attributes::default()
    };
    emit_value(line, value, attributes, &[], sink);
}
