//! `indicator` objects: from a pattern to records, or to the reason there are
//! none.
//!
//! Outcomes, by the first rule that applies:
//! * `revoked: true` → skipped, `stix:revoked`;
//! * a `pattern_type` other than `stix` (Snort, YARA, Sigma, …) → skipped,
//!   `stix:pattern-type:<type>` (an indicator without `pattern_type`, as in
//!   STIX 2.0, is read as `stix`);
//! * no `pattern`, or one that is not valid STIX patterning → rejected, with
//!   the place where reading stopped;
//! * a pattern on no network object → skipped, `stix:not-network`;
//! * a pattern on network objects that is not a disjunction of equality tests
//!   on their `value` → skipped, `stix:complex-pattern`;
//! * otherwise one record per distinct value; a value that does not
//!   normalize, or is of the wrong kind for its object type, is rejected on
//!   its own and the others are kept.

use std::collections::{HashMap, HashSet};

use cordon_model::{Attributes, Observable, Record};
use serde_json::Value;

use super::bundle::{str_field, time_field, Bundle};
use super::pattern::{self, Extracted};
use super::sco::read_value;
use crate::Event;

/// How much of a pattern a rejection quotes.
const QUOTE_LIMIT: usize = 200;

/// Reads the indicator `object` at `line`, pushing its events to `out` and
/// the observables it yields to `covered`. A domain record gets the addresses
/// the bundle's `domain-name` object of the same value resolves to
/// (`domain_links`) as links.
pub(super) fn read_indicator(
    bundle: &Bundle<'_>,
    object: &Value,
    line: u64,
    domain_links: &HashMap<Observable, Vec<Observable>>,
    covered: &mut HashSet<Observable>,
    out: &mut Vec<Event>,
) {
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        out.push(Event::Skipped { line, reason: "stix:revoked".into() });
        return;
    }
    let pattern_type = str_field(object, "pattern_type").unwrap_or("stix");
    if !pattern_type.eq_ignore_ascii_case("stix") {
        out.push(Event::Skipped { line, reason: format!("stix:pattern-type:{}", pattern_type.to_ascii_lowercase()) });
        return;
    }
    let Some(text) = str_field(object, "pattern") else {
        out.push(Event::Rejected { line, reason: "indicator has no pattern".into() });
        return;
    };
    let tree = match pattern::parse(text) {
        Ok(tree) => tree,
        Err(error) => {
            out.push(Event::Rejected { line, reason: format!("invalid STIX pattern ({error}): {}", quote(text)) });
            return;
        }
    };
    let (values, ignored) = match pattern::extract(&tree) {
        Extracted::Network { values, ignored } => (values, ignored),
        Extracted::Complex => {
            out.push(Event::Skipped { line, reason: "stix:complex-pattern".into() });
            return;
        }
        Extracted::NotNetwork => {
            out.push(Event::Skipped { line, reason: "stix:not-network".into() });
            return;
        }
        Extracted::Invalid(reason) => {
            out.push(Event::Rejected { line, reason: format!("{reason}: {}", quote(text)) });
            return;
        }
    };
    if !ignored.is_empty() {
        let message = format!("pattern also tests {} objects: those comparisons are not read", ignored.join(", "));
        out.push(Event::Warning { line, message });
    }
    let attributes = indicator_attributes(bundle, object, line, out);
    let mut seen = HashSet::new();
    for (target, raw) in values {
        let normalized = match read_value(target.object_type(), &raw) {
            Ok(normalized) => normalized,
            Err(reason) => {
                out.push(Event::Rejected { line, reason });
                continue;
            }
        };
        out.extend(normalized.warnings.into_iter().map(|message| Event::Warning { line, message }));
        for observable in normalized.observables {
            if !seen.insert(observable.clone()) {
                continue;
            }
            covered.insert(observable.clone());
            let mut attributes = attributes.clone();
            attributes.port = normalized.port;
            let links = domain_links.get(&observable).cloned().unwrap_or_default();
            out.push(Event::Record(Record { line, observable, links, attributes }));
        }
    }
}

/// Category, label, malware (see [`Bundle::context`]), TLP, confidence and
/// times: `valid_from` is the first sighting, `valid_until` (else
/// `modified`) the last.
fn indicator_attributes(bundle: &Bundle<'_>, object: &Value, line: u64, out: &mut Vec<Event>) -> Attributes {
    let mut attributes = bundle.context(object);
    attributes.tlp = bundle.markings.object_level(object);
    attributes.first_seen = time_field(object, "valid_from");
    attributes.last_seen = time_field(object, "valid_until").or_else(|| time_field(object, "modified"));
    if let Some(raw) = object.get("confidence").filter(|v| !v.is_null()) {
        attributes.confidence = raw.as_u64().and_then(|c| u8::try_from(c).ok()).filter(|c| *c <= 100);
        if attributes.confidence.is_none() {
            out.push(Event::Warning {
                line,
                message: format!("confidence {raw} is not an integer from 0 to 100; ignored"),
            });
        }
    }
    attributes
}

/// The pattern, shortened for a message.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
