//! MISP events and feed directories.
//!
//! A MISP event document is read streaming (see [`parse_event`]), in any of
//! the shapes MISP and PyMISP write: `{"Event": {…}}` (event view, feed
//! file), `{"response": [{"Event": …}, …]}` (REST search), a list of such, or
//! a bare event object (PyMISP `MISPEvent.to_json()`), and the attribute and
//! object answers of restSearch (`{"response": {"Attribute": […]}}`,
//! `{"response": [{"Object": {…}}, …]}`), each item an event of its own. A
//! document of one of these shapes holding no attribute at all is a
//! [`FormatError::Layout`], never an import of nothing.
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

use crate::json::stream::{Raw, ScanError, Scanner, MAX_NESTING};
use crate::json::{self, Object, MAX_DOCUMENT};
use crate::{Event, Format, FormatError};
use tags::TagInfo;

/// Objects whose address attributes are links of their domain and URL
/// attributes (the address a domain resolved to, the server of a URL).
const LINKING_OBJECTS: &[&str] = &["domain-ip", "url", "ip-port"];

/// Parses one MISP event document from `reader`, pushing events to `sink`.
///
/// The document is read streaming ([`json::stream::Scanner`]): an event's
/// attributes and objects one at a time, each read as far as it can be
/// without its event (whose tags, `info` and `date` may come after them) and
/// kept compact until the event ends; the event's other members are skipped
/// unread. A document of several events (`response`, a list) gives each
/// event's events when that event ends, so an item that is not an event
/// stops the document after the events before it.
pub(crate) fn parse_event(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let scan_error = |error| json::scan_error(name, Format::Misp, error);
    let mut scanner = Scanner::new(reader, MAX_DOCUMENT).map_err(scan_error)?;
    let mut reading = Reading { buf: Vec::new(), line: 0, items: 0 };
    let outcome = match scanner.peek().map_err(scan_error)? {
        Some(b'[') => reading.list(&mut scanner, sink),
        Some(b'{') => reading.top(&mut scanner, sink),
        _ => Ok(Err(EXPECTED.to_string())),
    };
    match outcome.map_err(scan_error)? {
        Ok(()) if reading.line == 0 => Err(json::layout(name, Format::Misp, NOTHING_READ)),
        Ok(()) => scanner.end().map_err(scan_error),
        Err(reason) => Err(json::layout(name, Format::Misp, reason)),
    }
}

/// Why a document of the right shape that holds no attribute at all is an
/// error: "0 read, 0 rejected" would hide a shape cordon does not know.
const NOTHING_READ: &str = "no MISP attribute found: expected events or restSearch answers \
                            ({\"response\": {\"Attribute\": […]}}, {\"response\": [{\"Object\": …}]}) \
                            holding Attribute or Object members";

/// The shapes a MISP event document may have.
const EXPECTED: &str = "expected {\"Event\": {…}}, {\"response\": [{\"Event\": …}]} or a list of events";

/// The largest attribute or object read (16 MiB); a larger one is rejected.
const MAX_ITEM: usize = 16 << 20;

/// The event members kept whole: the event's context.
const CONTEXT_KEYS: [&str; 6] = ["Tag", "Galaxy", "info", "date", "distribution", "uuid"];

/// A streamed document being read.
struct Reading {
    buf: Vec<u8>,
    /// The line of the last attribute emitted.
    line: u64,
    /// Events (items) read so far, for messages.
    items: usize,
}

/// One event being read: its context members and its attributes so far.
#[derive(Default)]
struct EventState {
    context: Object,
    attributes: Vec<attribute::Pending>,
    object_attributes: Vec<attribute::Pending>,
    /// Whether it had `Attribute`, `Object` or `info` (a bare event must).
    event_like: bool,
}

/// What reading a document gives: `Err` of the scan (the document is
/// broken), else `Err` of the shape (it is not a MISP event document).
type Shaped = Result<Result<(), String>, ScanError>;

impl Reading {
    /// A list of events (`[{"Event": …}, …]` or bare events).
    fn list(&mut self, scanner: &mut Scanner<'_>, sink: &mut dyn FnMut(Event)) -> Shaped {
        scanner.expect(b'[', "'['")?;
        if scanner.eat(b']')? {
            return Ok(Ok(()));
        }
        loop {
            if let Err(reason) = self.item(scanner, sink)? {
                return Ok(Err(reason));
            }
            if !scanner.next_item(b']')? {
                return Ok(Ok(()));
            }
        }
    }

    /// One item of a list or `response`: `{"Event": …}` or a bare event.
    fn item(&mut self, scanner: &mut Scanner<'_>, sink: &mut dyn FnMut(Event)) -> Shaped {
        self.items += 1;
        let not_event = format!("item {} is not a MISP event", self.items);
        if scanner.peek()? != Some(b'{') {
            scanner.value(&mut self.buf, 0)?;
            return Ok(Err(not_event));
        }
        let mut bare = EventState::default();
        let mut wrapped = None;
        self.members(scanner, &mut |reading, key, scanner| {
            if key == "Event" {
                wrapped = Some(reading.wrapped_event(scanner, sink)?);
                return Ok(());
            }
            reading.event_member(key, scanner, &mut bare)
        })?;
        match wrapped {
            Some(true) => Ok(Ok(())),
            Some(false) => Ok(Err(not_event)),
            None if bare.event_like => {
                self.emit(bare, sink);
                Ok(Ok(()))
            }
            None => Ok(Err(not_event)),
        }
    }

    /// The top-level object: `{"Event": …}`, `{"response": …}` or a bare
    /// event.
    fn top(&mut self, scanner: &mut Scanner<'_>, sink: &mut dyn FnMut(Event)) -> Shaped {
        let mut bare = EventState::default();
        let mut shape: Option<Result<(), String>> = None;
        self.members(scanner, &mut |reading, key, scanner| {
            match key {
                "Event" if shape.is_none() => {
                    reading.items += 1;
                    let ok = reading.wrapped_event(scanner, sink)?;
                    shape = Some(if ok { Ok(()) } else { Err("item 1 is not a MISP event".to_string()) });
                }
                "response" if shape.is_none() && matches!(scanner.peek()?, Some(b'[' | b'{')) => {
                    shape = Some(if scanner.peek()? == Some(b'[') {
                        reading.list(scanner, sink)?
                    } else {
                        reading.item(scanner, sink)?
                    });
                }
                _ => reading.event_member(key, scanner, &mut bare)?,
            }
            Ok(())
        })?;
        match shape {
            Some(outcome) => Ok(outcome),
            None if bare.event_like => {
                self.emit(bare, sink);
                Ok(Ok(()))
            }
            None => Ok(Err(EXPECTED.to_string())),
        }
    }

    /// The value of `"Event"`: an event object (true) or anything else
    /// (false, skipped).
    fn wrapped_event(&mut self, scanner: &mut Scanner<'_>, sink: &mut dyn FnMut(Event)) -> Result<bool, ScanError> {
        if scanner.peek()? != Some(b'{') {
            scanner.value(&mut self.buf, 0)?;
            return Ok(false);
        }
        let mut event = EventState::default();
        self.members(scanner, &mut |reading, key, scanner| reading.event_member(key, scanner, &mut event))?;
        self.emit(event, sink);
        Ok(true)
    }

    /// Calls `on_member` with each key of the object at the cursor, which
    /// must consume the member's value.
    fn members(
        &mut self,
        scanner: &mut Scanner<'_>,
        on_member: &mut dyn FnMut(&mut Reading, &str, &mut Scanner<'_>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        scanner.expect(b'{', "'{'")?;
        let mut more = !scanner.eat(b'}')?;
        while more {
            let key = scanner.key(&mut self.buf)?;
            on_member(self, &key, scanner)?;
            more = scanner.next_item(b'}')?;
        }
        Ok(())
    }

    /// One member of an event.
    fn event_member(&mut self, key: &str, scanner: &mut Scanner<'_>, event: &mut EventState) -> Result<(), ScanError> {
        // restSearch answers hold one object per item (`{"Object": {…}}`).
        let is_array = matches!(scanner.peek()?, Some(b'[' | b'{'));
        match key {
            "Attribute" | "Object" => event.event_like = true,
            "info" => event.event_like = true,
            _ => {}
        }
        match key {
            "Attribute" if is_array => self.array(scanner, "attribute", &mut |value| {
                event.attributes.push(match value {
                    Ok(value) => attribute::read_attribute(&value, None),
                    Err(reason) => attribute::Pending::Rejected(reason),
                });
            }),
            // An object that cannot be read counts as one line.
            "Object" if is_array => self.array(scanner, "object", &mut |object| {
                let object = match object {
                    Ok(object) => object,
                    Err(reason) => return event.object_attributes.push(attribute::Pending::Rejected(reason)),
                };
                let context = object.as_object().map(ObjectContext::new);
                for item in object.get("Attribute").and_then(Value::as_array).into_iter().flatten() {
                    event.object_attributes.push(attribute::read_attribute(item, context.as_ref()));
                }
            }),
            _ if CONTEXT_KEYS.contains(&key) => {
                if scanner.value(&mut self.buf, MAX_ITEM)? == Raw::Complete {
                    if let Ok(value) = serde_json::from_slice::<Value>(&self.buf) {
                        event.context.insert(key.to_string(), value);
                    }
                }
                Ok(())
            }
            _ => scanner.value(&mut self.buf, 0).map(|_| ()),
        }
    }

    /// Reads the elements of the array at the cursor one at a time, each
    /// parsed on its own: one that does not parse (a number out of range,
    /// nesting too deep, more than [`MAX_ITEM`] bytes) is passed on as the
    /// reason it could not be read (naming it a `what`). An object at the
    /// cursor is read as the one element.
    fn array(
        &mut self,
        scanner: &mut Scanner<'_>,
        what: &str,
        on_element: &mut dyn FnMut(Result<Value, String>),
    ) -> Result<(), ScanError> {
        let single = scanner.peek()? == Some(b'{');
        if !single {
            scanner.expect(b'[', "'['")?;
            if scanner.eat(b']')? {
                return Ok(());
            }
        }
        loop {
            let value = match scanner.value(&mut self.buf, MAX_ITEM)? {
                Raw::Complete => serde_json::from_slice::<Value>(&self.buf)
                    .map_err(|error| format!("{what} is not valid JSON ({error})")),
                Raw::TooLarge => Err(format!("{what} is larger than {} MiB; not read", MAX_ITEM >> 20)),
                Raw::TooDeep => Err(format!("{what} nests deeper than {MAX_NESTING} levels; not read")),
            };
            on_element(value);
            if single || !scanner.next_item(b']')? {
                return Ok(());
            }
        }
    }

    /// Pushes the events of a whole event.
    fn emit(&mut self, event: EventState, sink: &mut dyn FnMut(Event)) {
        let context = EventContext::new(&event.context, None);
        for pending in event.attributes.into_iter().chain(event.object_attributes) {
            self.line += 1;
            pending.emit(&context, self.line, sink);
        }
    }
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
        attribute::read_attribute(item, None).emit(&context, *line, sink);
    }
    for object in event.get("Object").and_then(Value::as_array).into_iter().flatten() {
        let object_context = object.as_object().map(ObjectContext::new);
        for item in object.get("Attribute").and_then(Value::as_array).into_iter().flatten() {
            *line += 1;
            attribute::read_attribute(item, object_context.as_ref()).emit(&context, *line, sink);
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
