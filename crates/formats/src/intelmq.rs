//! IntelMQ events: JSON objects with dotted keys (`source.ip`), or nested
//! ("hierarchical", `{"source": {"ip": …}}`), one per line or as a JSON
//! array (read one element at a time, each rejection naming its index).
//!
//! The observable is the most specific source value that is an indicator:
//! `source.url`, else `source.fqdn`, else `source.ip`, else
//! `source.network`; one that is not (a `source.url` of `-`) is a warning
//! naming its key, and the next one is read, so one bad field never loses
//! the event's good ones. The less specific values given beside it become
//! links (a URL's server IP). An event with none of them is skipped
//! (`no-source-observable`).
//!
//! IntelMQ has no ransomware type, so the family decides first: the category
//! comes from `malware.name` or `classification.identifier` when either names
//! a ransomware or infostealer family, else from `classification.type`
//! (`c2-server` → c2, `phishing` → phishing, …). The family kept is the
//! one that decided the category, else `malware.name`, else
//! `classification.identifier`. `time.source` is when the
//! source saw the event (first and last seen), `feed.accuracy` the
//! confidence, `tlp` the sharing level.

use std::io::BufRead;
use std::path::Path;

use cordon_model::{normalize, Attributes, Category};
use serde_json::Value;

use crate::emit;
use crate::json::stream::for_each_element;
use crate::json::{self, for_each_json_line, text, Object};
use crate::lines::MAX_LINE;
use crate::{Event, Format, FormatError};

/// Source keys holding an observable, most specific first.
const SOURCE_KEYS: [&str; 4] = ["source.url", "source.fqdn", "source.ip", "source.network"];

/// Parses IntelMQ events: a JSON array when the input starts with `[`, else
/// JSON lines.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    if !json::starts_with(name, reader, b'[')? {
        return for_each_json_line(name, reader, sink, &mut emit_event);
    }
    let expected = "expected an array of events or one event per line";
    for_each_element(name, Format::Intelmq, reader, MAX_LINE, expected, &mut |index, element| match element {
        Ok(Value::Object(event)) => emit_event(index, &event, sink),
        Ok(_) => sink(Event::Rejected { line: index, reason: "array element is not an object".to_string() }),
        Err(reason) => sink(Event::Rejected { line: index, reason }),
    })
}

fn emit_event(line: u64, event: &Object, sink: &mut dyn FnMut(Event)) {
    let values: Vec<_> = SOURCE_KEYS.iter().filter_map(|key| Some((*key, text(event, key)?))).collect();
    if values.is_empty() {
        sink(Event::Skipped { line, reason: "no-source-observable".to_string() });
        return;
    }
    // The first value that is an indicator; the last is rejected if none is.
    let readable = values.iter().position(|(_, value)| normalize(value).is_ok()).unwrap_or(values.len() - 1);
    for (key, value) in &values[..readable] {
        sink(Event::Warning { line, message: format!("{key} '{value}' is not an indicator; ignored") });
    }
    let ((primary_key, primary), linked) = (&values[readable], &values[readable + 1..]);
    let class_type = text(event, "classification.type");
    let identifier = text(event, "classification.identifier");
    let malware_name = text(event, "malware.name");
    let family = [&malware_name, &identifier]
        .into_iter()
        .flatten()
        .find(|f| Category::from_label(None, Some(f)).is_some())
        .or(malware_name.as_ref());
    let time_source = emit::timestamp(line, "time.source", text(event, "time.source").as_deref(), sink);
    let attributes = Attributes {
        category: Category::from_label(class_type.as_deref(), family.map(|f| f.as_ref())),
        label: class_type.as_deref().map(str::to_string),
        malware: family.or(identifier.as_ref()).map(|m| m.to_string()),
        first_seen: time_source,
        last_seen: time_source,
        confidence: emit::confidence(line, "feed.accuracy", text(event, "feed.accuracy").as_deref(), sink),
        tlp: emit::tlp(line, text(event, "tlp").as_deref(), sink),
        port: emit::port(line, "source.port", text(event, "source.port").as_deref(), sink),
    };
    let links = emit::links(line, linked.iter().map(|(_, v)| v.as_ref()), sink);
    emit::emit_column(line, primary_key, primary, attributes, &links, sink);
}
