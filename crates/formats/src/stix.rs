//! STIX 2.1 bundles.
//!
//! A bundle is read streaming, one object of `objects` at a time
//! ([`json::stream::Scanner`]): each object is parsed on its own, so one that
//! does not parse (a number out of range such as `1e400`, nesting too deep,
//! more than [`MAX_OBJECT`] bytes) is rejected alone, and only what cordon
//! reads of it is kept ([`KEPT_FIELDS`] of the [`KEPT_TYPES`]; of any other
//! object only a hash of its id). Memory therefore grows with the number of
//! network objects, relationships and markings, a few hundred bytes each,
//! not with the size of the document: descriptions, external references,
//! reports, notes and custom properties are dropped as they are read.
//!
//! The objects are then indexed ([`bundle::Bundle`]: objects by id, TLP
//! markings, relationships) before any is turned into events, because an
//! indicator's category and TLP live in other objects that may come after
//! it.
//!
//! What becomes a record:
//! * each `indicator` whose pattern is a disjunction of equality tests on
//!   network values yields one record per value; other indicators are
//!   skipped or rejected with a reason ([`indicator`]);
//! * each `ipv4-addr`, `ipv6-addr`, `domain-name` or `url` object that no
//!   indicator covers yields a record, a domain with the addresses of its
//!   `resolves_to_refs` as links ([`sco`]).
//!
//! Every other object (identities, malware, relationships, reports, …) only
//! informs those records and produces no event of its own. `line` is the
//! 1-based index of the object in `objects`; events are emitted in that order.
//!
//! A document that is not JSON, or not a bundle, is a [`FormatError::Layout`].
//! A TAXII 2.1 envelope (`{"objects": […], "more": …}` without `type`) is read
//! like a bundle, since it carries the same objects.

mod bundle;
mod indicator;
mod marking;
mod pattern;
mod sco;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use crate::json::stream::{kind_of, Raw, Scanner};
use crate::json::{self, MAX_DOCUMENT};
use crate::{Event, Format, FormatError};

/// The largest object of a bundle that is read (16 MiB); a larger one is
/// rejected.
pub(crate) const MAX_OBJECT: usize = 16 << 20;

/// The object types whose fields are kept: the ones that become records or
/// give records their context.
const KEPT_TYPES: [&str; 9] = [
    "indicator",
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "malware",
    "infrastructure",
    "relationship",
    "marking-definition",
];

/// The fields of [`KEPT_TYPES`] objects that anything here reads.
const KEPT_FIELDS: [&str; 24] = [
    "type",
    "id",
    "revoked",
    "pattern_type",
    "pattern",
    "labels",
    "indicator_types",
    "object_marking_refs",
    "valid_from",
    "valid_until",
    "modified",
    "confidence",
    "value",
    "resolves_to_refs",
    "name",
    "malware_types",
    "infrastructure_types",
    "source_ref",
    "target_ref",
    "relationship_type",
    "definition_type",
    "definition",
    "extensions",
    "spec_version",
];

/// What was read of one object of `objects`.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// A kept object: its index in [`Objects::kept`].
    Kept(usize),
    /// An object of another type (only its id is known).
    Other,
    /// An element that is not a JSON object.
    NotObject,
    /// An object without a string `type`.
    NoType,
    /// An element that could not be read: its reason is the next of
    /// [`Objects::broken`].
    Broken,
}

/// What was read of a bundle's `objects`.
#[derive(Debug, Default)]
struct Objects {
    /// One slot per element, in order.
    slots: Vec<Slot>,
    /// The kept objects, reduced to [`KEPT_FIELDS`].
    kept: Vec<Value>,
    /// Hashes of the ids of the other objects.
    others: HashSet<u64>,
    /// The reasons of the [`Slot::Broken`] elements, in order.
    broken: Vec<String>,
}

/// Parses a STIX 2.1 bundle from `reader`, pushing events to `sink` in the
/// order of the bundle's objects.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let objects = read_bundle(name, reader)?;
    let bundle = bundle::Bundle::index(&objects.kept, &objects.others);
    let resolutions = sco::Resolutions::collect(&bundle, &objects.kept);
    let mut covered = HashSet::new();
    // Indicators first: observables they cover are not records of their own.
    let mut indicator_events = Vec::new();
    for (index, slot) in objects.slots.iter().enumerate() {
        if let Slot::Kept(at) = slot {
            let object = &objects.kept[*at];
            if bundle::str_field(object, "type") == Some("indicator") {
                let line = index as u64 + 1;
                indicator::read_indicator(
                    &bundle,
                    object,
                    line,
                    &resolutions.links,
                    &mut covered,
                    &mut indicator_events,
                );
            }
        }
    }
    let mut indicator_events = indicator_events.into_iter().peekable();
    let mut broken = objects.broken.into_iter();
    let mut out = Vec::new();
    for (index, slot) in objects.slots.iter().enumerate() {
        let line = index as u64 + 1;
        while let Some(event) = indicator_events.next_if(|e| event_line(e) == line) {
            sink(event);
        }
        match slot {
            Slot::NotObject => sink(Event::Rejected { line, reason: "object is not a JSON object".into() }),
            Slot::NoType => sink(Event::Rejected { line, reason: "object has no type".into() }),
            Slot::Broken => sink(Event::Rejected { line, reason: broken.next().unwrap_or_default() }),
            Slot::Other => {}
            Slot::Kept(at) => {
                let object = &objects.kept[*at];
                if bundle::str_field(object, "type").is_some_and(|kind| sco::NETWORK_TYPES.contains(&kind)) {
                    sco::read_observable(&bundle, object, line, &resolutions, &covered, &mut out);
                    out.drain(..).for_each(&mut *sink);
                }
            }
        }
    }
    Ok(())
}

fn event_line(event: &Event) -> u64 {
    match event {
        Event::Record(record) => record.line,
        Event::Rejected { line, .. } | Event::Skipped { line, .. } | Event::Warning { line, .. } => *line,
    }
}

/// Reads the document: the bundle's `objects` one at a time, its `type`,
/// and nothing else; or why it is not a bundle.
fn read_bundle(name: &Path, reader: &mut dyn BufRead) -> Result<Objects, FormatError> {
    let scan_error = |error| json::scan_error(name, Format::Stix, error);
    let layout = |reason: String| json::layout(name, Format::Stix, reason);
    let mut scanner = Scanner::new(reader, MAX_DOCUMENT).map_err(scan_error)?;
    match scanner.peek().map_err(scan_error)? {
        Some(b'{') => {}
        Some(first) => return Err(layout(format!("expected a bundle object, found {}", kind_of(first)))),
        None => return Err(layout("JSON does not parse: EOF while parsing a value".into())),
    }
    let mut objects = Objects::default();
    let mut buf = Vec::new();
    let mut kind: Option<Value> = None;
    let mut has_objects = false;
    let mut not_a_list = None;
    scanner.expect(b'{', "'{'").map_err(scan_error)?;
    let mut more = !scanner.eat(b'}').map_err(scan_error)?;
    while more {
        let key = scanner.key(&mut buf).map_err(scan_error)?;
        match key.as_str() {
            "objects" => {
                has_objects = true;
                match scanner.peek().map_err(scan_error)? {
                    Some(b'[') => read_objects(&mut scanner, &mut buf, &mut objects).map_err(scan_error)?,
                    Some(first) => {
                        not_a_list = Some(kind_of(first));
                        scanner.value(&mut buf, 0).map_err(scan_error)?;
                    }
                    None => {
                        return Err(scan_error(json::stream::ScanError::Syntax("EOF while parsing a value".into())))
                    }
                }
            }
            "type" => {
                let raw = scanner.value(&mut buf, 4096).map_err(scan_error)?;
                kind = Some(match raw {
                    Raw::Complete => serde_json::from_slice(&buf).unwrap_or(Value::Null),
                    Raw::TooLarge | Raw::TooDeep => Value::String("…".into()),
                });
            }
            _ => {
                scanner.value(&mut buf, 0).map_err(scan_error)?;
            }
        }
        more = scanner.next_item(b'}').map_err(scan_error)?;
    }
    scanner.end().map_err(scan_error)?;
    match kind {
        Some(Value::String(kind)) if kind == "bundle" => {}
        Some(other) => return Err(layout(format!("expected \"type\": \"bundle\", found {other}"))),
        None if has_objects => {}
        None => return Err(layout("no \"type\": \"bundle\" and no \"objects\"".into())),
    }
    if let Some(kind) = not_a_list {
        return Err(layout(format!("\"objects\" is {kind}, not a list")));
    }
    Ok(objects)
}

/// Reads the elements of the `objects` array (the cursor on its `[`).
fn read_objects(
    scanner: &mut Scanner<'_>,
    buf: &mut Vec<u8>,
    objects: &mut Objects,
) -> Result<(), json::stream::ScanError> {
    scanner.expect(b'[', "'['")?;
    if scanner.eat(b']')? {
        return Ok(());
    }
    loop {
        let slot = match scanner.value(buf, MAX_OBJECT)? {
            Raw::TooLarge => Err(format!("object is larger than {} MiB; not read", MAX_OBJECT >> 20)),
            Raw::TooDeep => Err(format!("object nests deeper than {} levels; not read", json::stream::MAX_NESTING)),
            Raw::Complete => match serde_json::from_slice::<Value>(buf) {
                Ok(value) => Ok(objects.keep(value)),
                Err(error) => Err(format!("object is not valid JSON ({error})")),
            },
        };
        let slot = slot.unwrap_or_else(|reason| {
            objects.broken.push(reason);
            Slot::Broken
        });
        objects.slots.push(slot);
        if !scanner.next_item(b']')? {
            return Ok(());
        }
    }
}

impl Objects {
    /// Keeps what is read of `value` and says where it is.
    fn keep(&mut self, value: Value) -> Slot {
        let Value::Object(mut object) = value else {
            return Slot::NotObject;
        };
        let kind = match object.get("type") {
            Some(Value::String(kind)) => kind.as_str(),
            _ => return Slot::NoType,
        };
        if !KEPT_TYPES.contains(&kind) {
            if let Some(id) = object.get("id").and_then(Value::as_str) {
                self.others.insert(id_hash(id));
            }
            return Slot::Other;
        }
        let marking = kind == "marking-definition";
        let mut kept = Map::new();
        for field in KEPT_FIELDS {
            if !marking && matches!(field, "definition" | "extensions") {
                continue;
            }
            if let Some(value) = object.remove(field) {
                kept.insert(field.to_string(), value);
            }
        }
        self.kept.push(Value::Object(kept));
        Slot::Kept(self.kept.len() - 1)
    }
}

/// The hash by which an object that is not kept is known.
fn id_hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<Vec<Event>, String> {
        let mut events = Vec::new();
        parse(Path::new("t.json"), &mut text.as_bytes(), &mut |e| events.push(e))
            .map(|()| events)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn layouts_that_are_not_bundles() {
        let cases = [
            ("[]", "expected a bundle object, found a list"),
            (r#"{"type":"indicator","id":"indicator--1"}"#, "expected \"type\": \"bundle\", found \"indicator\""),
            (r#"{"Event":{}}"#, "no \"type\": \"bundle\" and no \"objects\""),
            (r#"{"type":"bundle","objects":{}}"#, "\"objects\" is an object, not a list"),
        ];
        for (text, reason) in cases {
            assert_eq!(run(text), Err(format!("t.json: not a valid stix file: {reason}")), "{text}");
        }
        assert_eq!(run(r#"{"more":false,"objects":[]}"#), Ok(Vec::new()));
    }
}
