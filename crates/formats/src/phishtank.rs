//! PhishTank `online-valid.json`: an array of verified phishing URLs.
//!
//! Category `phishing`; the `target` (the brand imitated) is the label; each
//! `details[].ip_address` is a hosting server and becomes a link;
//! `submission_time` is first seen and `verification_time` last seen.

use std::io::BufRead;
use std::path::Path;

use cordon_model::{Attributes, Category};
use serde_json::Value;

use crate::emit::{self, emit_value};
use crate::json::{self, array_objects, text, Object};
use crate::{Event, Format, FormatError};

/// Parses the document.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let document: Value = json::read_document(name, Format::PhishtankJson, reader)?;
    if !document.is_array() {
        return Err(json::layout(name, Format::PhishtankJson, "expected an array of objects"));
    }
    for (index, object) in (1u64..).zip(array_objects(&document)) {
        match object {
            Some(object) => emit_object(index, object, sink),
            None => sink(Event::Rejected { line: index, reason: "array element is not an object".to_string() }),
        }
    }
    Ok(())
}

fn emit_object(index: u64, object: &Object, sink: &mut dyn FnMut(Event)) {
    let Some(url) = text(object, "url") else {
        sink(Event::Rejected { line: index, reason: "no value in 'url'".to_string() });
        return;
    };
    let target = text(object, "target").filter(|t| !t.eq_ignore_ascii_case("other"));
    let attributes = Attributes {
        category: Some(Category::Phishing),
        label: target.map(|t| t.into_owned()),
        first_seen: emit::timestamp(index, "submission_time", text(object, "submission_time").as_deref(), sink),
        last_seen: emit::timestamp(index, "verification_time", text(object, "verification_time").as_deref(), sink),
        ..Attributes::default()
    };
    let addresses: Vec<_> = array_objects(object.get("details").unwrap_or(&Value::Null))
        .flatten()
        .filter_map(|detail| text(detail, "ip_address"))
        .collect();
    let links = emit::links(index, addresses.iter().map(|a| a.as_ref()), sink);
    emit_value(index, &url, attributes, &links, sink);
}
