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
use crate::json::stream::for_each_element;
use crate::json::{array_objects, text, Object};
use crate::{Event, Format, FormatError};

/// Parses the document, one object at a time, so that one that does not
/// parse is one rejection.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let expected = "expected an array of objects";
    for_each_element(name, Format::PhishtankJson, reader, 1 << 20, expected, &mut |index, element| match element {
        Ok(Value::Object(object)) => emit_object(index, &object, sink),
        Ok(_) => sink(Event::Rejected { line: index, reason: "array element is not an object".to_string() }),
        Err(reason) => sink(Event::Rejected { line: index, reason }),
    })
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
