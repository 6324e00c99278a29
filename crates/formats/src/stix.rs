//! STIX 2.1 bundles.
//!
//! A bundle is one JSON document, so it is read whole, with the crate's size
//! bound (1 GiB, [`json::read_document`]), then indexed ([`bundle::Bundle`]: objects by id,
//! TLP markings, relationships) before any object is read, because an
//! indicator's category and TLP live in other objects that may come after it.
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

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use crate::json;
use crate::{Event, Format, FormatError};

/// Parses a STIX 2.1 bundle from `reader`, pushing events to `sink` in the
/// order of the bundle's objects.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let document: Value = json::read_document(name, Format::Stix, reader)?;
    let objects = bundle_objects(&document).map_err(|reason| json::layout(name, Format::Stix, reason))?;
    let bundle = bundle::Bundle::index(objects);
    let resolutions = sco::Resolutions::collect(&bundle, objects);
    let mut covered = HashSet::new();
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); objects.len()];
    // Indicators first: observables they cover are not records of their own.
    for (index, object) in objects.iter().enumerate() {
        if bundle::str_field(object, "type") == Some("indicator") {
            let line = index as u64 + 1;
            indicator::read_indicator(&bundle, object, line, &resolutions.links, &mut covered, &mut events[index]);
        }
    }
    for (index, object) in objects.iter().enumerate() {
        let line = index as u64 + 1;
        let out = &mut events[index];
        match object.get("type") {
            _ if !object.is_object() => {
                out.push(Event::Rejected { line, reason: "object is not a JSON object".into() })
            }
            Some(Value::String(kind)) if sco::NETWORK_TYPES.contains(&kind.as_str()) => {
                sco::read_observable(&bundle, object, line, &resolutions, &covered, out)
            }
            Some(Value::String(_)) => {}
            _ => out.push(Event::Rejected { line, reason: "object has no type".into() }),
        }
    }
    events.into_iter().flatten().for_each(sink);
    Ok(())
}

/// The `objects` of a bundle or TAXII envelope, or why `document` is neither.
fn bundle_objects(document: &Value) -> Result<&[Value], String> {
    let Some(top) = document.as_object() else {
        return Err(format!("expected a bundle object, found {}", json_kind(document)));
    };
    match top.get("type") {
        Some(Value::String(kind)) if kind == "bundle" => {}
        Some(other) => return Err(format!("expected \"type\": \"bundle\", found {other}")),
        None if top.contains_key("objects") => {}
        None => return Err("no \"type\": \"bundle\" and no \"objects\"".into()),
    }
    match top.get("objects") {
        None => Ok(&[]),
        Some(Value::Array(objects)) => Ok(objects),
        Some(other) => Err(format!("\"objects\" is {}, not a list", json_kind(other))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
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
