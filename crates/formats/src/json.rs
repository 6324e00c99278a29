//! Reading JSON: whole documents with a size bound, JSON lines, and field
//! access that forgives the ways feeds spell a value.
//!
//! STIX bundles, MISP events, ThreatFox exports and the Feodo and PhishTank
//! arrays are read a record at a time with [`stream::Scanner`], so one
//! record that does not parse is one rejection and memory does not grow
//! with the document. A URLhaus JSON answer, a MISP feed's manifest and
//! event files are read whole, but never more than [`MAX_DOCUMENT`] bytes: a
//! larger input is a [`FormatError::Layout`], not an exhausted machine. A document that does not parse is a layout error
//! too (serde_json's message gives the line and column); one object in it that
//! lacks what the format needs is a rejection with the object's 1-based index.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::lines::for_each_line;
use crate::{Event, Format, FormatError};

pub(crate) mod stream;

/// A JSON object.
pub(crate) type Object = Map<String, Value>;

/// What [`for_each_json_line`] calls with each line's number and object.
pub(crate) type ObjectHandler<'a> = dyn FnMut(u64, &Object, &mut dyn FnMut(Event)) + 'a;

/// The largest JSON document read (1 GiB).
pub(crate) const MAX_DOCUMENT: u64 = 1 << 30;

/// Reads and parses the JSON document in `reader` as `T`.
pub(crate) fn read_document<T: for<'de> Deserialize<'de>>(
    name: &Path,
    format: Format,
    reader: &mut dyn BufRead,
) -> Result<T, FormatError> {
    read_document_bounded(name, format, reader, MAX_DOCUMENT)
}

fn read_document_bounded<T: for<'de> Deserialize<'de>>(
    name: &Path,
    format: Format,
    reader: &mut dyn BufRead,
    limit: u64,
) -> Result<T, FormatError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| FormatError::Io { path: name.to_path_buf(), source })?;
    if bytes.len() as u64 > limit {
        return Err(layout(name, format, format!("the document is larger than {limit} bytes")));
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|e| layout(name, format, format!("JSON does not parse: {e}")))
}

/// Reads JSON lines: calls `on_object` with each line's number and object.
/// Blank lines are skipped; a line that is not a JSON object is rejected.
pub(crate) fn for_each_json_line(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
    on_object: &mut ObjectHandler<'_>,
) -> Result<(), FormatError> {
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        if text.trim().is_empty() {
            return Ok(());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => on_object(line, &object, sink),
            Ok(_) => sink(Event::Rejected { line, reason: "line is JSON but not an object".to_string() }),
            Err(e) => sink(Event::Rejected { line, reason: format!("line is not valid JSON: {e}") }),
        }
        Ok(())
    })
}

/// Whether the input in `reader` starts with `byte` (after a BOM and
/// whitespace), looking only at what its buffer holds and consuming
/// nothing: tells a JSON document from JSON lines or text.
pub(crate) fn starts_with(name: &Path, reader: &mut dyn BufRead, byte: u8) -> Result<bool, FormatError> {
    let head = reader.fill_buf().map_err(|source| FormatError::Io { path: name.to_path_buf(), source })?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&byte))
}

/// A layout error for `name` read as `format`.
pub(crate) fn layout(name: &Path, format: Format, reason: impl Into<String>) -> FormatError {
    FormatError::Layout { path: name.to_path_buf(), format, reason: reason.into() }
}

/// The text of field `key`: a string (trimmed), a number or a boolean;
/// `None` when the field is absent, null, empty or a container. A dotted
/// key (IntelMQ's `source.ip`) is looked up as a flat key first, then as a
/// path through nested objects.
pub(crate) fn text<'a>(object: &'a Object, key: &str) -> Option<Cow<'a, str>> {
    let value = object.get(key).or_else(|| nested(object, key))?;
    match value {
        Value::String(s) => Some(Cow::Borrowed(s.trim())).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn nested<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    let (head, rest) = key.split_once('.')?;
    match object.get(head)? {
        Value::Object(inner) => inner.get(rest).or_else(|| nested(inner, rest)),
        _ => None,
    }
}

/// The objects of `value` when it is an array; other elements are `None`.
pub(crate) fn array_objects(value: &Value) -> impl Iterator<Item = Option<&Object>> {
    value.as_array().into_iter().flatten().map(Value::as_object)
}

/// A JSON object's members in document order (serde_json's own map sorts
/// them), so that object indexes in messages follow the file.
pub(crate) struct Entries(pub(crate) Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = access.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// The error of a streamed document `name` read as `format`.
pub(crate) fn scan_error(name: &Path, format: Format, error: stream::ScanError) -> FormatError {
    match error {
        stream::ScanError::Io(source) => FormatError::Io { path: name.to_path_buf(), source },
        stream::ScanError::Syntax(message) => layout(name, format, format!("JSON does not parse: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bound_and_parse_errors_are_layout_errors() {
        let name = Path::new("t.json");
        let big = read_document_bounded::<Value>(name, Format::FeodoJson, &mut &b"[1, 2, 3]"[..], 4);
        assert!(big.is_err_and(|e| e.to_string().contains("larger than 4 bytes")));
        let broken = read_document::<Value>(name, Format::FeodoJson, &mut &b"[{\"a\": 1"[..]);
        assert!(broken.is_err_and(|e| e.to_string().contains("JSON does not parse")));
    }

    #[test]
    fn entries_keep_document_order() {
        let entries: Entries = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap_or(Entries(Vec::new()));
        let keys: Vec<&str> = entries.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn text_reads_flat_dotted_and_nested_keys() {
        let flat: Value = serde_json::json!({"source.ip": " 1.2.3.4 ", "n": 5, "e": "", "source": {"port": 80}});
        let Value::Object(object) = flat else { panic!() };
        assert_eq!(text(&object, "source.ip").as_deref(), Some("1.2.3.4"));
        assert_eq!(text(&object, "n").as_deref(), Some("5"));
        assert_eq!(text(&object, "e"), None);
        assert_eq!(text(&object, "source.port").as_deref(), Some("80"));
    }
}
