//! Standalone cyber observables: `ipv4-addr`, `ipv6-addr`, `domain-name` and
//! `url` objects of a bundle.
//!
//! An observable becomes a record of its own only when nothing else in the
//! bundle already speaks for it: it is skipped without an event when an
//! indicator of the bundle yields the same observable or is `based-on` it, and
//! when it is only the target of a domain's `resolves_to_refs` (it then
//! travels as that domain's link) and has no relationship of its own.

use std::collections::{HashMap, HashSet};

use cordon_model::{normalize, Normalized, Observable, Record};
use serde_json::Value;

use super::bundle::{str_field, str_list, Bundle};
use crate::Event;

/// The observable types read as network indicators.
pub(super) const NETWORK_TYPES: [&str; 4] = ["ipv4-addr", "ipv6-addr", "domain-name", "url"];

/// What the bundle's `domain-name` objects resolve to.
#[derive(Debug, Default)]
pub(super) struct Resolutions<'a> {
    /// Domain → the addresses its `resolves_to_refs` name.
    pub links: HashMap<Observable, Vec<Observable>>,
    /// Ids named by some `resolves_to_refs`.
    referenced: HashSet<&'a str>,
}

impl<'a> Resolutions<'a> {
    /// Collects the resolutions of every `domain-name` object in `objects`.
    pub fn collect(bundle: &Bundle<'a>, objects: &'a [Value]) -> Resolutions<'a> {
        let mut out = Resolutions::default();
        for object in objects.iter().filter(|o| str_field(o, "type") == Some("domain-name")) {
            out.referenced.extend(str_list(object, "resolves_to_refs"));
            let Some(Ok(domain)) = str_field(object, "value").map(|v| read_value("domain-name", v)) else {
                continue;
            };
            let (links, _) = resolved_addresses(bundle, object);
            for observable in domain.observables {
                let entry = out.links.entry(observable).or_default();
                for link in &links {
                    if !entry.contains(link) {
                        entry.push(link.clone());
                    }
                }
            }
        }
        out
    }
}

/// Reads one network observable object at `line` (1-based index in the
/// bundle), unless the bundle covers it otherwise (see the module docs).
pub(super) fn read_observable(
    bundle: &Bundle<'_>,
    object: &Value,
    line: u64,
    resolutions: &Resolutions<'_>,
    covered: &HashSet<Observable>,
    out: &mut Vec<Event>,
) {
    let object_type = str_field(object, "type").unwrap_or_default();
    let id = str_field(object, "id").unwrap_or_default();
    if bundle.based_on.contains(id) || (resolutions.referenced.contains(id) && !bundle.has_relationships(id)) {
        return;
    }
    let Some(raw) = str_field(object, "value") else {
        out.push(Event::Rejected { line, reason: format!("{object_type} object has no value") });
        return;
    };
    let normalized = match read_value(object_type, raw) {
        Ok(normalized) => normalized,
        Err(reason) => {
            out.push(Event::Rejected { line, reason });
            return;
        }
    };
    if normalized.observables.iter().all(|o| covered.contains(o)) {
        return;
    }
    let (links, problems) = resolved_addresses(bundle, object);
    out.extend(problems.into_iter().map(|message| Event::Warning { line, message }));
    out.extend(normalized.warnings.into_iter().map(|message| Event::Warning { line, message }));
    let mut attributes = bundle.context(object);
    attributes.tlp = bundle.markings.object_level(object);
    attributes.port = normalized.port;
    for observable in normalized.observables {
        let links = links.iter().filter(|l| **l != observable).cloned().collect();
        out.push(Event::Record(Record { line, observable, links, attributes: attributes.clone() }));
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

/// The addresses a `domain-name` object's `resolves_to_refs` name, and what
/// could not be resolved. References to other domains (CNAMEs) are not links.
fn resolved_addresses(bundle: &Bundle<'_>, object: &Value) -> (Vec<Observable>, Vec<String>) {
    let mut links = Vec::new();
    let mut problems = Vec::new();
    for id in str_list(object, "resolves_to_refs") {
        let Some(target) = bundle.get(id) else {
            if !bundle.contains(id) {
                problems.push(format!("resolves_to_refs names {id}, which is not in the bundle"));
            }
            continue;
        };
        let target_type = str_field(target, "type").unwrap_or_default();
        if !matches!(target_type, "ipv4-addr" | "ipv6-addr") {
            continue;
        }
        match str_field(target, "value").map(|v| read_value(target_type, v)) {
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
