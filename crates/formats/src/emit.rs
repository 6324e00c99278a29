//! From a raw indicator value and its attributes to events.
//!
//! Every format ends here: [`emit_value`] normalizes the value with
//! [`cordon_model::normalize`] and pushes one [`Record`] per observable (an IP
//! range gives several), or one [`Event::Rejected`] with the model's reason.
//! The helpers below read attribute values the same way for every format and
//! turn a value that cannot be read into a warning, never a lost record.

use std::collections::HashMap;

use cordon_model::{normalize, parse_timestamp, Attributes, Category, Observable, Record, Timestamp, Tlp};

use crate::Event;

/// Normalizes `raw` and pushes a [`Record`] per observable, each with `links`
/// and `attributes` (the port found in the value, as in `198.51.100.7:443`,
/// fills [`Attributes::port`] when the source gave none), preceded by the
/// normalizer's warnings. A value that is not an indicator is rejected.
/// The last record takes `attributes` itself, so the usual single record
/// copies nothing.
pub(crate) fn emit_value(
    line: u64,
    raw: &str,
    attributes: Attributes,
    links: &[Observable],
    sink: &mut dyn FnMut(Event),
) {
    emit_named(line, None, raw, attributes, links, sink);
}

/// [`emit_value`] of the value of `column` (a header name or a key), which
/// a rejection names: `dst_ip: '…' is not an IP address`.
pub(crate) fn emit_column(
    line: u64,
    column: &str,
    raw: &str,
    attributes: Attributes,
    links: &[Observable],
    sink: &mut dyn FnMut(Event),
) {
    emit_named(line, Some(column), raw, attributes, links, sink);
}

fn emit_named(
    line: u64,
    column: Option<&str>,
    raw: &str,
    mut attributes: Attributes,
    links: &[Observable],
    sink: &mut dyn FnMut(Event),
) {
    let normalized = match normalize(raw) {
        Ok(normalized) => normalized,
        Err(rejection) => {
            let reason = match column {
                Some(column) => format!("{column}: {}", rejection.0),
                None => rejection.0,
            };
            sink(Event::Rejected { line, reason });
            return;
        }
    };
    for message in normalized.warnings {
        sink(Event::Warning { line, message });
    }
    attributes.port = attributes.port.or(normalized.port);
    let last = normalized.observables.len().saturating_sub(1);
    for (i, observable) in normalized.observables.into_iter().enumerate() {
        let attributes = if i == last { std::mem::take(&mut attributes) } else { attributes.clone() };
        sink(Event::Record(Record { line, observable, links: links.to_vec(), attributes }));
    }
}

/// Normalizes values a record is linked to (a URL's server IP, a phishing
/// page's hosting address). A value that is not an indicator is dropped with
/// a warning: the record itself stays good.
pub(crate) fn links<'a>(
    line: u64,
    raws: impl IntoIterator<Item = &'a str>,
    sink: &mut dyn FnMut(Event),
) -> Vec<Observable> {
    let mut out: Vec<Observable> = Vec::new();
    for raw in raws {
        if raw.trim().is_empty() {
            continue;
        }
        match normalize(raw) {
            Ok(normalized) => {
                for observable in normalized.observables {
                    if !out.contains(&observable) {
                        out.push(observable);
                    }
                }
            }
            Err(rejection) => sink(Event::Warning { line, message: format!("linked value ignored: {rejection}") }),
        }
    }
    out
}

/// [`Category::from_label`] for the rows of one file, remembering the
/// answers: a feed repeats a handful of labels and families over thousands
/// of rows, and mapping a pair takes dozens of string operations (it was a
/// tenth of the CSV reader's time) where looking it up takes one hash.
#[derive(Debug, Default)]
pub(crate) struct CategoryCache {
    /// (which of label and malware are given, the label's length, the
    /// label followed by the malware) → category.
    known: HashMap<(u8, usize, String), Option<Category>>,
    /// The text of the key being looked up, kept for its buffer.
    text: String,
}

impl CategoryCache {
    /// Files with more distinct pairs than this map the rest afresh.
    const CAPACITY: usize = 4096;

    /// What [`Category::from_label`] says of `label` and `malware`.
    pub(crate) fn category(&mut self, label: Option<&str>, malware: Option<&str>) -> Option<Category> {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        text.push_str(label.unwrap_or_default());
        text.push_str(malware.unwrap_or_default());
        let given = u8::from(label.is_some()) | u8::from(malware.is_some()) << 1;
        let key = (given, label.map_or(0, str::len), text);
        if let Some(known) = self.known.get(&key) {
            let known = *known;
            self.text = key.2;
            return known;
        }
        let category = Category::from_label(label, malware);
        if self.known.len() < Self::CAPACITY {
            self.known.insert(key, category);
        }
        category
    }
}

/// The category of a record from a feed whose entries all have one obvious
/// category (`default`), unless its malware family says ransomware or
/// infostealer, or its label maps to another category.
pub(crate) fn category(label: Option<&str>, malware: Option<&str>, default: Category) -> Category {
    Category::from_label(label, malware).unwrap_or(default)
}

/// Reads a timestamp; one that cannot be read is a warning naming `field`.
pub(crate) fn timestamp(line: u64, field: &str, raw: Option<&str>, sink: &mut dyn FnMut(Event)) -> Option<Timestamp> {
    let raw = raw?;
    let parsed = parse_timestamp(raw);
    if parsed.is_none() {
        sink(Event::Warning { line, message: format!("{field} '{raw}' is not a timestamp; ignored") });
    }
    parsed
}

/// Reads a confidence of 0–100 (a fraction such as `0.8` is read as 80); any
/// other value is a warning naming `field`.
pub(crate) fn confidence(line: u64, field: &str, raw: Option<&str>, sink: &mut dyn FnMut(Event)) -> Option<u8> {
    let raw = raw?;
    // A whole number reads the same either way; most feeds write one.
    if let Ok(whole) = raw.trim().parse::<u8>() {
        if whole <= 100 {
            return Some(whole);
        }
    }
    let value: Option<f64> = raw.trim().trim_end_matches('%').parse().ok();
    let scaled = match value {
        Some(v) if (0.0..1.0).contains(&v) && raw.contains('.') => Some(v * 100.0),
        Some(v) if (0.0..=100.0).contains(&v) => Some(v),
        _ => None,
    };
    if scaled.is_none() {
        sink(Event::Warning { line, message: format!("{field} '{raw}' is not a confidence of 0-100; ignored") });
    }
    scaled.map(|v| v.round() as u8)
}

/// Reads a port number; any other value is a warning naming `field`.
pub(crate) fn port(line: u64, field: &str, raw: Option<&str>, sink: &mut dyn FnMut(Event)) -> Option<u16> {
    let raw = raw?;
    let parsed = raw.trim().parse::<u16>().ok();
    if parsed.is_none() {
        sink(Event::Warning { line, message: format!("{field} '{raw}' is not a port number; ignored") });
    }
    parsed
}

/// Reads a TLP level; any other value is a warning.
pub(crate) fn tlp(line: u64, raw: Option<&str>, sink: &mut dyn FnMut(Event)) -> Option<Tlp> {
    let raw = raw?;
    match raw.parse::<Tlp>() {
        Ok(tlp) => Some(tlp),
        Err(e) => {
            sink(Event::Warning { line, message: format!("{e}; ignored") });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_give_one_record_each_and_ports_fill_in() {
        let mut events = Vec::new();
        emit_value(4, "80.94.95.0-80.94.95.2", Attributes::default(), &[], &mut |e| events.push(e));
        assert_eq!(events.len(), 2);
        let mut events = Vec::new();
        emit_value(1, "80.94.95.112:8443", Attributes::default(), &[], &mut |e| events.push(e));
        match &events[..] {
            [Event::Record(r)] => assert_eq!(r.attributes.port, Some(8443)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_values_are_rejected_with_the_model_reason() {
        let mut events = Vec::new();
        emit_value(7, "999.1.2.3", Attributes::default(), &[], &mut |e| events.push(e));
        assert_eq!(events, [Event::Rejected { line: 7, reason: "'999.1.2.3' is not an IP address".into() }]);
    }

    #[test]
    fn attribute_readers_warn_instead_of_failing() {
        let mut events = Vec::new();
        let mut sink = |e| events.push(e);
        assert_eq!(confidence(1, "c", Some("75"), &mut sink), Some(75));
        assert_eq!(confidence(1, "c", Some("0.8"), &mut sink), Some(80));
        assert_eq!(confidence(1, "c", Some("101"), &mut sink), None);
        assert_eq!(confidence(1, "c", Some(" 100 "), &mut sink), Some(100));
        assert_eq!(confidence(1, "c", Some("1"), &mut sink), Some(1));
        assert_eq!(confidence(1, "c", Some("0"), &mut sink), Some(0));
        assert_eq!(confidence(1, "c", Some("1.0"), &mut sink), Some(1));
        assert_eq!(confidence(1, "c", Some("255"), &mut sink), None);
        assert_eq!(port(1, "p", Some("x"), &mut sink), None);
        assert_eq!(timestamp(1, "t", Some("soon"), &mut sink), None);
        assert_eq!(tlp(1, Some("TLP:AMBER"), &mut sink), Some(Tlp::Amber));
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn family_words_decide_the_category() {
        assert_eq!(category(Some("botnet_cc"), Some("RedLine Stealer"), Category::C2), Category::Infostealer);
        assert_eq!(category(Some("botnet_cc"), Some("Medusa Locker"), Category::C2), Category::Ransomware);
        assert_eq!(category(Some("botnet_cc"), Some("Cobalt Strike"), Category::Other), Category::C2);
        assert_eq!(category(None, Some("Stealerium"), Category::Other), Category::Other);
        assert_eq!(category(None, Some("LockBit"), Category::C2), Category::Ransomware);
    }

    #[test]
    fn the_category_cache_answers_as_the_model_does() {
        let mut cache = CategoryCache::default();
        let labels = [None, Some(""), Some("c2"), Some("c2Lock"), Some("botnet_cc"), Some("LockBit"), Some("whatever")];
        let families = [None, Some(""), Some("QakBot"), Some("Bit"), Some("RedLine Stealer"), Some("c2")];
        for _ in 0..2 {
            for label in labels {
                for malware in families {
                    assert_eq!(
                        cache.category(label, malware),
                        Category::from_label(label, malware),
                        "{label:?} {malware:?}"
                    );
                }
            }
        }
        assert_eq!(cache.known.len(), labels.len() * families.len());
    }

    #[test]
    fn ranges_share_attributes() {
        let mut events = Vec::new();
        let attributes = Attributes { label: Some("scan".into()), ..Attributes::default() };
        emit_value(2, "80.94.95.0-80.94.95.2", attributes.clone(), &[], &mut |e| events.push(e));
        for event in events {
            match event {
                Event::Record(r) => assert_eq!(r.attributes, attributes),
                other => panic!("{other:?}"),
            }
        }
    }
}
