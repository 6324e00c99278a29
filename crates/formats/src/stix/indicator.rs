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
//!   on their `value` (or of conjunctions of such tests on different objects:
//!   `[domain-name:value = 'x' AND ipv4-addr:value = 'y']`) → skipped,
//!   `stix:complex-pattern`;
//! * otherwise one record per distinct value; a value that does not
//!   normalize, or is of the wrong kind for its object type, is rejected on
//!   its own and the others are kept. The domains and URLs of a conjunction
//!   are linked to its addresses (MISP's `domain|ip`).
//!
//! Everything but the records' context is decided while the bundle is read
//! ([`read_indicator`]); the records follow once the whole bundle is known
//! ([`Indicator::emit`]).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use cordon_model::{Observable, Record, Timestamp};
use serde_json::Value;

use super::bundle::{id_hash, str_field, time_field, Bundle};
use super::pattern::{self, Extracted, Target};
use super::sco::read_value;
use crate::Event;

/// How much of a pattern a rejection quotes.
const QUOTE_LIMIT: usize = 200;

/// An indicator whose pattern gave values, read as far as it can be before
/// the rest of the bundle is known (its category, TLP and links may come
/// from later objects). Kept small: a bundle may hold millions.
#[derive(Debug)]
pub(super) struct Indicator {
    line: u64,
    id: Option<u64>,
    labels: Rc<[Rc<str>]>,
    indicator_types: Rc<[Rc<str>]>,
    markings: Rc<[Rc<str>]>,
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
    confidence: Option<u8>,
    /// Its events in order, the records without their attributes.
    items: Box<[Item]>,
}

/// One event of an [`Indicator`].
#[derive(Debug)]
enum Item {
    Warning(Box<str>),
    Rejected(Box<str>),
    /// A record of the observable, with the port its value gave and the
    /// addresses the pattern observed it together with.
    Record(Observable, Option<u16>, Box<[Observable]>),
}

/// What reading an indicator gave.
#[derive(Debug)]
pub(super) enum Read {
    /// Values waiting for the rest of the bundle.
    Values(Indicator),
    /// No record: a rejection, with its reason.
    Rejected(Box<str>),
    /// No record: a skip, with its key.
    Skipped(Rc<str>),
}

/// Reads the indicator `object` at `line` as far as it can be read alone.
pub(super) fn read_indicator(bundle: &mut Bundle, object: &Value, line: u64) -> Read {
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        return Read::Skipped(bundle.strings.intern("stix:revoked"));
    }
    let pattern_type = str_field(object, "pattern_type").unwrap_or("stix");
    if !pattern_type.eq_ignore_ascii_case("stix") {
        let key = format!("stix:pattern-type:{}", pattern_type.to_ascii_lowercase());
        return Read::Skipped(bundle.strings.intern(&key));
    }
    let Some(text) = str_field(object, "pattern") else {
        return Read::Rejected("indicator has no pattern".into());
    };
    let tree = match pattern::parse(text) {
        Ok(tree) => tree,
        Err(error) => return Read::Rejected(format!("invalid STIX pattern ({error}): {}", quote(text)).into()),
    };
    let (values, conjunctions, ignored) = match pattern::extract(&tree) {
        Extracted::Network { values, conjunctions, ignored } => (values, conjunctions, ignored),
        Extracted::Complex => return Read::Skipped(bundle.strings.intern("stix:complex-pattern")),
        Extracted::NotNetwork => return Read::Skipped(bundle.strings.intern("stix:not-network")),
        Extracted::Invalid(reason) => return Read::Rejected(format!("{reason}: {}", quote(text)).into()),
    };
    let mut items = Vec::new();
    if !ignored.is_empty() {
        let message = format!("pattern also tests {} objects: those comparisons are not read", ignored.join(", "));
        items.push(Item::Warning(message.into()));
    }
    let mut confidence = None;
    if let Some(raw) = object.get("confidence").filter(|v| !v.is_null()) {
        confidence = raw.as_u64().and_then(|c| u8::try_from(c).ok()).filter(|c| *c <= 100);
        if confidence.is_none() {
            items.push(Item::Warning(format!("confidence {raw} is not an integer from 0 to 100; ignored").into()));
        }
    }
    let read: Vec<_> = values.iter().map(|(target, raw)| (*target, read_value(target.object_type(), raw))).collect();
    let mut seen = HashSet::new();
    for (index, (target, result)) in read.iter().enumerate() {
        match result {
            Err(reason) => items.push(Item::Rejected(reason.as_str().into())),
            Ok(normalized) => {
                items.extend(normalized.warnings.iter().map(|message| Item::Warning(message.as_str().into())));
                // A domain or URL observed with addresses links to them.
                let together = conjunctions.iter().find(|range| range.contains(&index));
                let links: Box<[Observable]> = match (target, together) {
                    (Target::Domain | Target::Url, Some(range)) => read[range.clone()]
                        .iter()
                        .filter(|(t, _)| matches!(t, Target::Ipv4 | Target::Ipv6))
                        .filter_map(|(_, r)| r.as_ref().ok())
                        .flat_map(|n| n.observables.iter().cloned())
                        .collect(),
                    _ => Box::default(),
                };
                for observable in &normalized.observables {
                    if seen.insert(observable.clone()) {
                        items.push(Item::Record(observable.clone(), normalized.port, links.clone()));
                    }
                }
            }
        }
    }
    Read::Values(Indicator {
        line,
        id: str_field(object, "id").map(id_hash),
        labels: bundle.strings.list(object, "labels"),
        indicator_types: bundle.strings.list(object, "indicator_types"),
        markings: bundle.strings.list(object, "object_marking_refs"),
        // `valid_from` is the first sighting, `valid_until` (else
        // `modified`) the last.
        first_seen: time_field(object, "valid_from"),
        last_seen: time_field(object, "valid_until").or_else(|| time_field(object, "modified")),
        confidence,
        items: items.into_boxed_slice(),
    })
}

impl Indicator {
    /// The observables this indicator yields records for: no observable of
    /// the bundle is a record of its own when an indicator speaks for it.
    pub fn observables(&self) -> impl Iterator<Item = &Observable> {
        self.items.iter().filter_map(|item| match item {
            Item::Record(observable, _, _) => Some(observable),
            Item::Warning(_) | Item::Rejected(_) => None,
        })
    }

    /// Pushes the indicator's events to `sink`, now that the whole bundle is
    /// known. A domain record gets the addresses the bundle's `domain-name`
    /// object of the same value resolves to (`domain_links`) as links.
    pub fn emit(
        self,
        bundle: &Bundle,
        domain_links: &HashMap<Observable, Vec<Observable>>,
        sink: &mut dyn FnMut(Event),
    ) {
        let line = self.line;
        let mut attributes = bundle.context(self.id, &self.labels, &self.indicator_types);
        attributes.tlp = bundle.markings.object_level(self.markings.iter().map(|m| &**m));
        attributes.first_seen = self.first_seen;
        attributes.last_seen = self.last_seen;
        attributes.confidence = self.confidence;
        for item in self.items.into_vec() {
            match item {
                Item::Warning(message) => sink(Event::Warning { line, message: message.into() }),
                Item::Rejected(reason) => sink(Event::Rejected { line, reason: reason.into() }),
                Item::Record(observable, port, together) => {
                    let mut attributes = attributes.clone();
                    attributes.port = port;
                    let mut links = domain_links.get(&observable).cloned().unwrap_or_default();
                    for link in together.into_vec() {
                        if !links.contains(&link) {
                            links.push(link);
                        }
                    }
                    sink(Event::Record(Record { line, observable, links, attributes }));
                }
            }
        }
    }
}

/// The pattern, shortened for a message.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
