//! One MISP attribute: from its type and value to records, or to the reason
//! there are none.
//!
//! Outcomes, by the first rule that applies:
//! * `deleted: true` → skipped, `misp:deleted`;
//! * a type that is not a network indicator (hashes, file names, e-mail
//!   addresses, `link`, `port`, `AS`, …) → skipped, `misp:not-network:<type>`;
//! * `to_ids: false` → skipped, `misp:not-to-ids` (context, not actionable;
//!   an attribute without `to_ids` counts as actionable);
//! * a `uri` without a scheme and host (`/gate.php`) → skipped,
//!   `misp:uri-without-host`;
//! * a value that does not fit its type → rejected, with the type named;
//! * otherwise one record per observable.
//!
//! Network types and their values: `ip-src`, `ip-dst` (address or CIDR);
//! `ip-src|port`, `ip-dst|port` (`addr|port` → [`Attributes::port`]);
//! `domain`, `hostname`; `hostname|port`; `domain|ip` (the domain, with the
//! address in [`Record::links`]); `url`; `uri` (with a host).

use cordon_model::{normalize, Attributes, Category, Observable, Record};
use serde_json::Value;

use super::{flag, EventContext, ObjectContext};
use crate::json::{self, Object};
use crate::{emit, Event};

/// The shape of a network attribute's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// An address or network.
    Ip,
    /// `address|port`.
    IpPort,
    /// A domain or host name.
    Host,
    /// `domain|address`.
    HostIp,
    /// `host|port`.
    HostPort,
    /// A URL.
    Url,
    /// A URI, which is a URL only with a scheme and host.
    Uri,
}

impl Shape {
    /// The shape of a network type; `None` for every other type.
    pub fn of(kind: &str) -> Option<Shape> {
        Some(match kind {
            "ip-src" | "ip-dst" => Shape::Ip,
            "ip-src|port" | "ip-dst|port" => Shape::IpPort,
            "domain" | "hostname" => Shape::Host,
            "domain|ip" => Shape::HostIp,
            "hostname|port" => Shape::HostPort,
            "url" => Shape::Url,
            "uri" => Shape::Uri,
            _ => return None,
        })
    }
}

/// What a value reads as.
struct Reading {
    observables: Vec<Observable>,
    port: Option<u16>,
    links: Vec<Observable>,
    warnings: Vec<String>,
}

/// Why a value gives no record.
enum NoRecord {
    Skip(&'static str),
    Reject(String),
}

/// Reads the attribute at `line`, in `event` and (for an object's
/// attributes) `object`, pushing its events to `sink`.
pub(super) fn read_attribute(
    attribute: &Value,
    event: &EventContext,
    object: Option<&ObjectContext>,
    line: u64,
    sink: &mut dyn FnMut(Event),
) {
    let Some(attribute) = attribute.as_object() else {
        sink(Event::Rejected { line, reason: "attribute is not a JSON object".into() });
        return;
    };
    let Some(kind) = json::text(attribute, "type") else {
        sink(Event::Rejected { line, reason: "attribute has no type".into() });
        return;
    };
    let kind = kind.to_ascii_lowercase();
    if flag(attribute, "deleted") == Some(true) {
        sink(Event::Skipped { line, reason: "misp:deleted".into() });
        return;
    }
    let Some(shape) = Shape::of(&kind) else {
        sink(Event::Skipped { line, reason: format!("misp:not-network:{kind}") });
        return;
    };
    if flag(attribute, "to_ids") == Some(false) {
        sink(Event::Skipped { line, reason: "misp:not-to-ids".into() });
        return;
    }
    let Some(raw) = json::text(attribute, "value") else {
        sink(Event::Rejected { line, reason: format!("{kind} attribute has no value") });
        return;
    };
    let mut value = match read_value(shape, &raw) {
        Ok(value) => value,
        Err(NoRecord::Skip(reason)) => {
            sink(Event::Skipped { line, reason: reason.into() });
            return;
        }
        Err(NoRecord::Reject(reason)) => {
            sink(Event::Rejected { line, reason: format!("{kind}: {reason}") });
            return;
        }
    };
    for message in value.warnings.drain(..) {
        sink(Event::Warning { line, message: format!("{kind}: {message}") });
    }
    let attributes = attributes(attribute, event, object, value.port, line, sink);
    for observable in value.observables {
        let mut links = value.links.clone();
        if matches!(observable, Observable::Domain(_) | Observable::Url(_)) {
            for address in object.map(|o| o.addresses.as_slice()).unwrap_or_default() {
                if !links.contains(address) {
                    links.push(address.clone());
                }
            }
        }
        links.retain(|link| *link != observable);
        sink(Event::Record(Record { line, observable, links, attributes: attributes.clone() }));
    }
}

/// Reads a value of `shape`.
fn read_value(shape: Shape, raw: &str) -> Result<Reading, NoRecord> {
    let mut value = Reading { observables: Vec::new(), port: None, links: Vec::new(), warnings: Vec::new() };
    let (main, extra) = match shape {
        Shape::IpPort | Shape::HostPort => match raw.rsplit_once('|') {
            Some((main, port)) => (main, Some(port)),
            None => (raw, None),
        },
        Shape::HostIp => match raw.split_once('|') {
            Some((main, address)) => (main, Some(address)),
            None => return Err(NoRecord::Reject(format!("'{raw}' is not of the form domain|ip"))),
        },
        Shape::Uri if !raw.contains("://") => return Err(NoRecord::Skip("misp:uri-without-host")),
        _ => (raw, None),
    };
    let normalized = normalize(main).map_err(|rejection| NoRecord::Reject(rejection.0))?;
    let fits = match shape {
        Shape::Ip | Shape::IpPort => {
            normalized.observables.iter().all(|o| matches!(o, Observable::Ip(_) | Observable::Net(_)))
        }
        Shape::Host | Shape::HostIp | Shape::HostPort => {
            normalized.observables.iter().all(|o| matches!(o, Observable::Domain(_)))
        }
        Shape::Url | Shape::Uri => true,
    };
    if !fits {
        let expected =
            if matches!(shape, Shape::Ip | Shape::IpPort) { "an IP address or network" } else { "a domain name" };
        return Err(NoRecord::Reject(format!("'{main}' is not {expected}")));
    }
    value.observables = normalized.observables;
    value.port = normalized.port;
    value.warnings = normalized.warnings;
    match (shape, extra) {
        (Shape::IpPort | Shape::HostPort, Some(port)) => match port.trim().parse::<u16>() {
            Ok(port) => value.port = Some(port),
            Err(_) => value.warnings.push(format!("port '{port}' is not a port number; ignored")),
        },
        (Shape::HostIp, Some(address)) => match normalize(address) {
            Ok(linked) if linked.observables.iter().all(|o| matches!(o, Observable::Ip(_))) => {
                value.links = linked.observables;
            }
            Ok(_) => value.warnings.push(format!("'{address}' is not an IP address; link ignored")),
            Err(rejection) => value.warnings.push(format!("{rejection}; link ignored")),
        },
        _ => {}
    }
    Ok(value)
}

/// The attributes of a record read from `attribute`:
/// * TLP: the attribute's `tlp:` tags, else the event's, else the most
///   restrictive level implied by the `distribution` of attribute, object and
///   event (5, inherit, adds nothing; see [`super::tags::distribution_tlp`]);
/// * label: the first mappable tag of the attribute, else of the event, else
///   the attribute's MISP `category` when it maps (`Payload delivery`), else
///   the event's `info`;
/// * malware: the first malware galaxy of the attribute, else of the event;
/// * category: [`Category::from_label`] of the mapped label and malware (the
///   event's `info` is never mapped: it is prose);
/// * first seen: the attribute's `first_seen`, else the object's, else the
///   event's `date` unless that is later than the last sighting; last seen:
///   the attribute's `last_seen`, else the object's, else the attribute's
///   `timestamp` (its last change);
/// * port: from the value, else the one `port` attribute of the object.
fn attributes(
    attribute: &Object,
    event: &EventContext,
    object: Option<&ObjectContext>,
    port: Option<u16>,
    line: u64,
    sink: &mut dyn FnMut(Event),
) -> Attributes {
    let tags = super::tags::TagInfo::of(attribute).or(&event.tags);
    let distribution = [super::distribution(attribute), object.and_then(|o| o.distribution), event.distribution];
    let misp_category = json::text(attribute, "category")
        .filter(|c| Category::from_label(Some(c), None).is_some())
        .map(|c| c.into_owned());
    let mapped = tags.label.or(misp_category);
    let mut timestamp = |field: &str| emit::timestamp(line, field, json::text(attribute, field).as_deref(), sink);
    let first_seen = timestamp("first_seen");
    let last_seen = timestamp("last_seen");
    let changed = timestamp("timestamp");
    let last_seen = last_seen.or(object.and_then(|o| o.last_seen)).or(changed);
    let event_date = event.date.filter(|date| !matches!(last_seen, Some(last) if *date > last));
    Attributes {
        category: Category::from_label(mapped.as_deref(), tags.malware.as_deref()),
        label: mapped.or_else(|| event.info.clone()),
        malware: tags.malware,
        first_seen: first_seen.or(object.and_then(|o| o.first_seen)).or(event_date),
        last_seen,
        confidence: None,
        tlp: tags.tlp.or_else(|| distribution.into_iter().flatten().filter_map(super::tags::distribution_tlp).max()),
        port: port.or(object.and_then(|o| o.port)),
    }
}
