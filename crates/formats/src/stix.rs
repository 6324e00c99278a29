//! STIX 2.1 (and 2.0) bundles.
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
//! STIX 2.0 bundles (`"spec_version": "2.0"` on the bundle) are read by the
//! same rules, with one warning (line 0: the input as a whole): their
//! indicators have no `pattern_type`, and their `observed-data` objects
//! embed the observables in `objects` (keyed `"0"`, `"1"`, …), which are
//! read as the observables of 2.1 are.
//!
//! A document that is not JSON, or not a bundle, is a [`FormatError::Layout`].
//! A TAXII 2.1 envelope (`{"objects": […], "more": …}` without `type`) is read
//! like a bundle, since it carries the same objects.

mod bundle;
mod indicator;
mod marking;
mod pattern;
mod sco;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;
use std::rc::Rc;

use serde_json::Value;

use crate::json::stream::{kind_of, Raw, Scanner};
use crate::json::{self, MAX_DOCUMENT};
use crate::{Event, Format, FormatError};

/// The largest object of a bundle that is read (16 MiB); a larger one is
/// rejected.
pub(crate) const MAX_OBJECT: usize = 16 << 20;

/// What was read of one object of `objects`.
#[derive(Debug)]
enum Slot {
    /// An indicator with values: the next of [`Objects::indicators`].
    Indicator,
    /// Network observables: their indexes in [`Objects::observables`] (one
    /// object, or those a STIX 2.0 `observed-data` embeds).
    Observables(std::ops::Range<usize>),
    /// An object that yields no event of its own.
    Silent,
    /// An element rejected, with the reason.
    Rejected(Box<str>),
    /// An indicator skipped, with the key.
    Skipped(Rc<str>),
}

/// What was read of a bundle's `objects`.
#[derive(Debug, Default)]
struct Objects {
    /// One slot per element, in order.
    slots: Vec<Slot>,
    /// The index of what the objects say about each other.
    bundle: bundle::Bundle,
    /// Indicators waiting for the whole bundle.
    indicators: Vec<indicator::Indicator>,
    /// The network observables.
    observables: sco::Observables,
    /// Whether the input is STIX 2.0 (`spec_version` of the bundle, or
    /// `observed-data` embedding its `objects`).
    stix20: bool,
}

impl Objects {
    /// Reads one element of `objects` at `line`.
    fn read(&mut self, value: Value, line: u64) -> Slot {
        if !value.is_object() {
            return Slot::Rejected("object is not a JSON object".into());
        }
        self.bundle.learn(&value);
        match bundle::str_field(&value, "type") {
            None => Slot::Rejected("object has no type".into()),
            Some("indicator") => match indicator::read_indicator(&mut self.bundle, &value, line) {
                indicator::Read::Values(indicator) => {
                    self.indicators.push(indicator);
                    Slot::Indicator
                }
                indicator::Read::Rejected(reason) => Slot::Rejected(reason),
                indicator::Read::Skipped(key) => Slot::Skipped(key),
            },
            Some(kind) if sco::NETWORK_TYPES.contains(&kind) => {
                let sco = sco::Sco::read(&mut self.bundle, &value);
                let at = self.observables.push(sco);
                Slot::Observables(at..at + 1)
            }
            Some("observed-data") => match value.get("objects").and_then(Value::as_object) {
                Some(embedded) => {
                    self.stix20 = true;
                    self.read_embedded(&value, embedded)
                }
                None => Slot::Silent,
            },
            Some(_) => Slot::Silent,
        }
    }

    /// Reads the network objects a STIX 2.0 `observed-data` embeds in its
    /// `objects` (keyed `"0"`, `"1"`, …, referring to each other by key):
    /// each is read as a 2.1 observable with the id `<observed-data id>/<key>`
    /// and the observed-data's markings and labels.
    fn read_embedded(&mut self, observed: &Value, embedded: &json::Object) -> Slot {
        let owner = bundle::str_field(observed, "id").unwrap_or_default();
        let start = self.observables.all.len();
        for (key, object) in embedded {
            let Some(mut object) = object.as_object().cloned() else { continue };
            if !object.get("type").and_then(Value::as_str).is_some_and(|t| sco::NETWORK_TYPES.contains(&t)) {
                continue;
            }
            object.insert("id".into(), Value::String(format!("{owner}/{key}")));
            if let Some(refs) = object.get_mut("resolves_to_refs").and_then(Value::as_array_mut) {
                for reference in refs.iter_mut() {
                    if let Some(local) = reference.as_str() {
                        *reference = Value::String(format!("{owner}/{local}"));
                    }
                }
            }
            for inherited in ["object_marking_refs", "labels"] {
                if let (false, Some(from)) = (object.contains_key(inherited), observed.get(inherited)) {
                    object.insert(inherited.into(), from.clone());
                }
            }
            let sco = sco::Sco::read(&mut self.bundle, &Value::Object(object));
            self.observables.push(sco);
        }
        Slot::Observables(start..self.observables.all.len())
    }
}

/// The warning of a STIX 2.0 input.
const STIX20: &str = "the input is STIX 2.0: read with the STIX 2.1 rules (observed-data objects, patterns \
                      without pattern_type); check what it yields";

/// Parses a STIX 2.1 bundle from `reader`, pushing events to `sink` in the
/// order of the bundle's objects.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let Objects { slots, bundle, indicators, mut observables, stix20 } = read_bundle(name, reader)?;
    if stix20 {
        sink(Event::Warning { line: 0, message: STIX20.to_string() });
    }
    observables.resolve(&bundle);
    // Observables that indicators yield are not records of their own.
    let covered: HashSet<_> = indicators.iter().flat_map(|i| i.observables()).cloned().collect();
    let mut indicators = indicators.into_iter();
    for (index, slot) in slots.into_iter().enumerate() {
        let line = index as u64 + 1;
        match slot {
            Slot::Indicator => {
                if let Some(indicator) = indicators.next() {
                    indicator.emit(&bundle, &observables.links, sink);
                }
            }
            Slot::Observables(range) => range.for_each(|at| observables.emit(&bundle, at, line, &covered, sink)),
            Slot::Silent => {}
            Slot::Rejected(reason) => sink(Event::Rejected { line, reason: reason.into() }),
            Slot::Skipped(key) => sink(Event::Skipped { line, reason: key.to_string() }),
        }
    }
    Ok(())
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
            "type" | "spec_version" => {
                let raw = scanner.value(&mut buf, 4096).map_err(scan_error)?;
                let value = match raw {
                    Raw::Complete => serde_json::from_slice(&buf).unwrap_or(Value::Null),
                    Raw::TooLarge | Raw::TooDeep => Value::String("…".into()),
                };
                if key == "type" {
                    kind = Some(value);
                } else if value.as_str() == Some("2.0") {
                    objects.stix20 = true;
                }
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
        let line = objects.slots.len() as u64 + 1;
        let slot = match scanner.value(buf, MAX_OBJECT)? {
            Raw::TooLarge => Slot::Rejected(format!("object is larger than {} MiB; not read", MAX_OBJECT >> 20).into()),
            Raw::TooDeep => Slot::Rejected(
                format!("object nests deeper than {} levels; not read", json::stream::MAX_NESTING).into(),
            ),
            Raw::Complete => match serde_json::from_slice::<Value>(buf) {
                Ok(value) => objects.read(value, line),
                Err(error) => Slot::Rejected(format!("object is not valid JSON ({error})").into()),
            },
        };
        objects.slots.push(slot);
        if !scanner.next_item(b']')? {
            return Ok(());
        }
    }
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
