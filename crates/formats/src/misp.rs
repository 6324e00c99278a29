//! MISP events and feed directories.
//!
//! A MISP event document is read whole (with the crate's size bound) in any of
//! the shapes MISP and PyMISP write: `{"Event": {…}}` (event view, feed
//! file), `{"response": [{"Event": …}, …]}` (REST search), a list of such, or
//! a bare event object (PyMISP `MISPEvent.to_json()`).
//!
//! Each attribute of an event is read on its own ([`attribute`]): first the
//! event-level `Attribute[]`, then each `Object[]`'s `Attribute[]`, in
//! document order. `line` is the 1-based position of the attribute in that
//! order, counted on through every event of the document (and, for a feed
//! directory, through every event file in manifest order), so that it
//! identifies one attribute of the input. Tags, distribution, `info` and
//! `date` of the event, and port, addresses, distribution and times of an
//! object, are the context the attribute is read in.
//!
//! A feed directory ([`feed`]) is a `manifest.json` plus one `<uuid>.json`
//! per event.

mod attribute;
mod feed;
mod tags;

use std::io::BufRead;
use std::path::Path;

use cordon_model::{normalize, Observable, Timestamp};
use serde_json::Value;

use crate::json::{self, Object};
use crate::{Event, Format, FormatError};
use tags::TagInfo;

/// Objects whose address attributes are links of their domain and URL
/// attributes (the address a domain resolved to, the server of a URL).
const LINKING_OBJECTS: &[&str] = &["domain-ip", "url", "ip-port"];

/// Parses one MISP event document from `reader`, pushing events to `sink`.
pub(crate) fn parse_event(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let document: Value = json::read_document(name, Format::Misp, reader)?;
    let events = event_list(&document).map_err(|reason| json::layout(name, Format::Misp, reason))?;
    let mut line = 0;
    for event in events {
        read_event(event, None, &mut line, sink);
    }
    Ok(())
}

/// Parses every event of the MISP feed directory `dir`.
pub(crate) fn parse_feed_dir(dir: &Path, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    feed::parse_dir(dir, sink)
}

/// The events of a document, or why it has none.
fn event_list(document: &Value) -> Result<Vec<&Object>, String> {
    const EXPECTED: &str = "expected {\"Event\": {…}}, {\"response\": [{\"Event\": …}]} or a list of events";
    let items: Vec<&Value> = match document {
        Value::Array(items) => items.iter().collect(),
        Value::Object(top) => match (top.get("Event"), top.get("response")) {
            (Some(_), _) => vec![document],
            (None, Some(Value::Array(items))) => items.iter().collect(),
            (None, Some(single @ Value::Object(_))) => vec![single],
            _ if looks_like_event(top) => vec![document],
            _ => return Err(EXPECTED.to_string()),
        },
        _ => return Err(EXPECTED.to_string()),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| unwrap_event(item).ok_or_else(|| format!("item {} is not a MISP event", index + 1)))
        .collect()
}

/// The event of `{"Event": {…}}`, or a bare event object.
fn unwrap_event(value: &Value) -> Option<&Object> {
    let object = value.as_object()?;
    match object.get("Event") {
        Some(inner) => inner.as_object(),
        None => looks_like_event(object).then_some(object),
    }
}

fn looks_like_event(object: &Object) -> bool {
    object.contains_key("Attribute") || object.contains_key("Object") || object.contains_key("info")
}

/// Reads the attributes of `event`, numbering them on from `line`.
/// `manifest` is the event's feed manifest entry, whose tags, `info` and
/// `date` stand in for those the event file lacks.
fn read_event(event: &Object, manifest: Option<&Object>, line: &mut u64, sink: &mut dyn FnMut(Event)) {
    let context = EventContext::new(event, manifest);
    for item in event.get("Attribute").and_then(Value::as_array).into_iter().flatten() {
        *line += 1;
        attribute::read_attribute(item, &context, None, *line, sink);
    }
    for object in event.get("Object").and_then(Value::as_array).into_iter().flatten() {
        let object_context = object.as_object().map(ObjectContext::new);
        for item in object.get("Attribute").and_then(Value::as_array).into_iter().flatten() {
            *line += 1;
            attribute::read_attribute(item, &context, object_context.as_ref(), *line, sink);
        }
    }
}

/// What an event says about all its attributes.
#[derive(Debug)]
struct EventContext {
    /// The event's tags and galaxies (the manifest entry's behind them).
    tags: TagInfo,
    /// The event's `distribution`.
    distribution: Option<u8>,
    /// The event's `info`, the label of last resort.
    info: Option<String>,
    /// The event's `date`, the first sighting of last resort.
    date: Option<Timestamp>,
}

impl EventContext {
    fn new(event: &Object, manifest: Option<&Object>) -> EventContext {
        let field = |key: &str| json::text(event, key).or_else(|| manifest.and_then(|m| json::text(m, key)));
        let manifest_tags = manifest.map(TagInfo::of).unwrap_or_default();
        EventContext {
            tags: TagInfo::of(event).or(&manifest_tags),
            distribution: distribution(event),
            info: field("info").map(|info| info.into_owned()),
            date: field("date").and_then(|date| cordon_model::parse_timestamp(&date)),
        }
    }
}

/// What a MISP object says about its attributes.
#[derive(Debug)]
struct ObjectContext {
    /// The object's `distribution` (5, inherit, is `None`).
    distribution: Option<u8>,
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
    /// The port of the object's one `port`-typed attribute, if it has
    /// exactly one.
    port: Option<u16>,
    /// For [`LINKING_OBJECTS`]: the addresses of its IP attributes.
    addresses: Vec<Observable>,
}

impl ObjectContext {
    fn new(object: &Object) -> ObjectContext {
        let time = |key: &str| json::text(object, key).and_then(|t| cordon_model::parse_timestamp(&t));
        let attributes: Vec<&Object> = json::array_objects(object.get("Attribute").unwrap_or(&Value::Null))
            .flatten()
            .filter(|a| flag(a, "deleted") != Some(true))
            .collect();
        let typed = |kinds: &'static [&'static str]| {
            attributes
                .iter()
                .copied()
                .filter(move |a| json::text(a, "type").is_some_and(|t| kinds.contains(&t.as_ref())))
        };
        let mut ports: Vec<u16> =
            typed(&["port"]).filter_map(|a| json::text(a, "value").and_then(|v| v.parse().ok())).collect();
        ports.dedup();
        let name = json::text(object, "name").unwrap_or_default();
        let mut addresses: Vec<Observable> = Vec::new();
        if LINKING_OBJECTS.contains(&name.as_ref()) {
            for attribute in typed(&["ip-src", "ip-dst", "ip-src|port", "ip-dst|port"]) {
                let Some(value) = json::text(attribute, "value") else { continue };
                let address = value.split('|').next().unwrap_or_default();
                for observable in normalize(address).map(|n| n.observables).unwrap_or_default() {
                    if matches!(observable, Observable::Ip(_)) && !addresses.contains(&observable) {
                        addresses.push(observable);
                    }
                }
            }
        }
        ObjectContext {
            distribution: distribution(object),
            first_seen: time("first_seen"),
            last_seen: time("last_seen"),
            port: if ports.len() == 1 { ports.first().copied() } else { None },
            addresses,
        }
    }
}

/// A `distribution` level (a number or a numeric string); 5 (inherit) and
/// anything unreadable are `None`.
fn distribution(object: &Object) -> Option<u8> {
    json::text(object, "distribution").and_then(|d| d.parse::<u8>().ok()).filter(|d| *d != 5)
}

/// A boolean MISP writes as `true`/`false`, `1`/`0` or `"1"`/`"0"`.
fn flag(object: &Object, key: &str) -> Option<bool> {
    match json::text(object, key)?.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_shapes() {
        let event = json!({"info": "x", "Attribute": []});
        let count = |doc: Value| event_list(&doc).map(|events| events.len());
        assert_eq!(count(json!({"Event": event})), Ok(1));
        assert_eq!(count(json!({"response": [{"Event": event}, {"Event": event}]})), Ok(2));
        assert_eq!(count(json!([{"Event": event}])), Ok(1));
        assert_eq!(count(event.clone()), Ok(1));
        assert_eq!(count(json!({"response": []})), Ok(0));
        assert_eq!(count(json!({"response": [{"Event": event}, 3]})), Err("item 2 is not a MISP event".to_string()));
        assert!(count(json!({"type": "bundle", "objects": []})).is_err());
        assert!(count(json!("Event")).is_err());
    }
}
