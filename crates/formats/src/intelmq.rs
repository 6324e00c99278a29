//! IntelMQ events: one flat JSON object per line, with dotted keys.
//!
//! The observable is the most specific source value: `source.url`, else
//! `source.fqdn`, else `source.ip`, else `source.network`; the less specific
//! ones given beside it become links (a URL's server IP). An event with none
//! of them is skipped (`no-source-observable`).
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

use cordon_model::{Attributes, Category};

use crate::emit::{self, emit_value};
use crate::json::{for_each_json_line, text, Object};
use crate::{Event, FormatError};

/// Source keys holding an observable, most specific first.
const SOURCE_KEYS: [&str; 4] = ["source.url", "source.fqdn", "source.ip", "source.network"];

/// Parses IntelMQ JSON lines.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    for_each_json_line(name, reader, sink, &mut emit_event)
}

fn emit_event(line: u64, event: &Object, sink: &mut dyn FnMut(Event)) {
    let values: Vec<_> = SOURCE_KEYS.iter().filter_map(|key| text(event, key)).collect();
    let Some((primary, linked)) = values.split_first() else {
        sink(Event::Skipped { line, reason: "no-source-observable".to_string() });
        return;
    };
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
    let links = emit::links(line, linked.iter().map(|v| v.as_ref()), sink);
    emit_value(line, primary, attributes, &links, sink);
}
