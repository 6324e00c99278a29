//! Standalone cyber observables: `ipv4-addr`, `ipv6-addr`, `domain-name` and
//! `url` objects of a bundle.
//!
//! An observable becomes a record of its own only when nothing else in the
//! bundle already speaks for it: it is skipped without an event when an
//! indicator of the bundle yields the same observable or is `based-on` it, and
//! when it is only the target of a domain's `resolves_to_refs` (it then
//! travels as that domain's link) and has no relationship of its own.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use cordon_model::{normalize, Normalized, Observable, Record};
use serde_json::Value;

use super::bundle::{id_hash, str_field, str_list, Bundle};
use crate::Event;

/// The observable types read as network indicators.
pub(super) const NETWORK_TYPES: [&str; 4] = ["ipv4-addr", "ipv6-addr", "domain-name", "url"];

/// A network observable object, as far as records need it.
#[derive(Debug)]
pub(super) struct Sco {
    object_type: Rc<str>,
    /// The id as written (messages quote it), and its hash.
    id: Option<(Box<str>, u64)>,
    value: Option<Box<str>>,
    /// `resolves_to_refs`, as written.
    resolves_to: Box<[Box<str>]>,
    labels: Rc<[Rc<str>]>,
    indicator_types: Rc<[Rc<str>]>,
    markings: Rc<[Rc<str>]>,
}

impl Sco {
    /// Reads a network observable object (one of [`NETWORK_TYPES`]).
    pub fn read(bundle: &mut Bundle, object: &Value) -> Sco {
        Sco {
            object_type: bundle.strings.intern(str_field(object, "type").unwrap_or_default()),
            id: str_field(object, "id").map(|id| (id.into(), id_hash(id))),
            value: str_field(object, "value").map(Box::from),
            resolves_to: str_list(object, "resolves_to_refs").map(Box::from).collect(),
            labels: bundle.strings.list(object, "labels"),
            indicator_types: bundle.strings.list(object, "indicator_types"),
            markings: bundle.strings.list(object, "object_marking_refs"),
        }
    }

    fn id_hash(&self) -> u64 {
        self.id.as_ref().map_or_else(|| id_hash(""), |(_, hash)| *hash)
    }
}

/// The bundle's network observables, by id, and what its `domain-name`
/// objects resolve to.
#[derive(Debug, Default)]
pub(super) struct Observables {
    /// Every network observable, in bundle order.
    pub all: Vec<Sco>,
    /// Id hash → index in `all` (the last one wins for repeated ids).
    by_id: HashMap<u64, usize>,
    /// Domain → the addresses its `resolves_to_refs` name.
    pub links: HashMap<Observable, Vec<Observable>>,
    /// Ids named by some `resolves_to_refs`.
    referenced: HashSet<u64>,
}

impl Observables {
    /// Adds one observable; returns its index.
    pub fn push(&mut self, sco: Sco) -> usize {
        let index = self.all.len();
        if let Some((_, hash)) = &sco.id {
            self.by_id.insert(*hash, index);
        }
        self.all.push(sco);
        index
    }

    /// Collects the resolutions of every `domain-name` object, once all are
    /// read.
    pub fn resolve(&mut self, bundle: &Bundle) {
        let mut links: HashMap<Observable, Vec<Observable>> = HashMap::new();
        for sco in self.all.iter().filter(|sco| &*sco.object_type == "domain-name") {
            self.referenced.extend(sco.resolves_to.iter().map(|id| id_hash(id)));
            let Some(Ok(domain)) = sco.value.as_deref().map(|v| read_value("domain-name", v)) else {
                continue;
            };
            let (addresses, _) = self.resolved_addresses(bundle, sco);
            for observable in domain.observables {
                let entry = links.entry(observable).or_default();
                for link in &addresses {
                    if !entry.contains(link) {
                        entry.push(link.clone());
                    }
                }
            }
        }
        self.links = links;
    }

    /// Pushes the events of observable `index` at `line` (1-based index in
    /// the bundle) to `sink`, unless the bundle covers it otherwise (see the
    /// module docs).
    pub fn emit(
        &self,
        bundle: &Bundle,
        index: usize,
        line: u64,
        covered: &HashSet<Observable>,
        sink: &mut dyn FnMut(Event),
    ) {
        let Some(sco) = self.all.get(index) else { return };
        let object_type = &*sco.object_type;
        let id = sco.id_hash();
        if bundle.is_based_on(id) || (self.referenced.contains(&id) && !bundle.has_relationships(id)) {
            return;
        }
        let Some(raw) = sco.value.as_deref() else {
            sink(Event::Rejected { line, reason: format!("{object_type} object has no value") });
            return;
        };
        let normalized = match read_value(object_type, raw) {
            Ok(normalized) => normalized,
            Err(reason) => {
                sink(Event::Rejected { line, reason });
                return;
            }
        };
        if normalized.observables.iter().all(|o| covered.contains(o)) {
            return;
        }
        let (links, problems) = self.resolved_addresses(bundle, sco);
        problems.into_iter().for_each(|message| sink(Event::Warning { line, message }));
        normalized.warnings.into_iter().for_each(|message| sink(Event::Warning { line, message }));
        let mut attributes = bundle.context(sco.id.as_ref().map(|(_, hash)| *hash), &sco.labels, &sco.indicator_types);
        attributes.tlp = bundle.markings.object_level(sco.markings.iter().map(|m| &**m));
        attributes.port = normalized.port;
        for observable in normalized.observables {
            let links = links.iter().filter(|l| **l != observable).cloned().collect();
            sink(Event::Record(Record { line, observable, links, attributes: attributes.clone() }));
        }
    }

    /// The addresses a `domain-name` object's `resolves_to_refs` name, and
    /// what could not be resolved. References to other domains (CNAMEs) and
    /// other objects are not links.
    fn resolved_addresses(&self, bundle: &Bundle, sco: &Sco) -> (Vec<Observable>, Vec<String>) {
        let mut links = Vec::new();
        let mut problems = Vec::new();
        for id in sco.resolves_to.iter() {
            let hash = id_hash(id);
            let Some(target) = self.by_id.get(&hash).and_then(|&index| self.all.get(index)) else {
                if !bundle.contains(hash) {
                    problems.push(format!("resolves_to_refs names {id}, which is not in the bundle"));
                }
                continue;
            };
            let target_type = &*target.object_type;
            if !matches!(target_type, "ipv4-addr" | "ipv6-addr") {
                continue;
            }
            match target.value.as_deref().map(|v| read_value(target_type, v)) {
                Some(Ok(normalized)) => {
                    for observable in normalized.observables {
                        if !links.contains(&observable) {
                            links.push(observable);
                        }
                    }
                }
                Some(Err(reason)) => problems.push(format!("resolves_to_refs {id}: {reason}")),
                None => problems.push(format!("resolves_to_refs {id} has no value")),
            }
        }
        (links, problems)
    }
}

/// Normalizes the `value` of a network object of `object_type`, checking that
/// it is of a kind the type can hold: an address or network for
/// `ipv4-addr`/`ipv6-addr` (either family: IPv4-mapped IPv6 reads as IPv4), a
/// domain name for `domain-name`, anything for `url` (a URL without a scheme
/// or a bare host is still the indicator the producer meant).
pub(super) fn read_value(object_type: &str, raw: &str) -> Result<Normalized, String> {
    let normalized = normalize(raw).map_err(|rejection| format!("{object_type}:value: {rejection}"))?;
    let (fits, expected): (fn(&Observable) -> bool, &str) = match object_type {
        "ipv4-addr" | "ipv6-addr" => {
            (|o| matches!(o, Observable::Ip(_) | Observable::Net(_)), "an IP address or network")
        }
        "domain-name" => (|o| matches!(o, Observable::Domain(_)), "a domain name"),
        _ => (|_| true, "a URL"),
    };
    if !normalized.observables.iter().all(fits) {
        return Err(format!("{object_type}:value: '{raw}' is not {expected}"));
    }
    Ok(normalized)
}
