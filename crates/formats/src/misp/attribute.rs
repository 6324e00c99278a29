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

use cordon_model::{normalize, Attributes, Category, Observable, Record, Timestamp};
use serde_json::Value;

use super::tags::TagInfo;
use super::{flag, EventContext, ObjectContext};
use crate::json;
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

/// What an attribute says on its own (and with its object), before its
/// event's context is known: the event's tags, `info` and `date` may come
/// after its attributes in the document.
#[derive(Debug)]
pub(super) enum Pending {
    /// No record: a rejection, with its reason.
    Rejected(String),
    /// No record: a skip, with its key.
    Skipped(String),
    /// Records, once the event is known.
    Values(Box<Waiting>),
}

/// An attribute with records, waiting for its event's context.
#[derive(Debug)]
pub(super) struct Waiting {
    /// Warnings about the value and the attribute's fields, in order.
    warnings: Vec<String>,
    /// The attribute's own tags.
    tags: TagInfo,
    /// The `distribution` of the attribute and of its object.
    distribution: [Option<u8>; 2],
    /// The attribute's MISP `category`, when it maps.
    misp_category: Option<String>,
    /// First seen, from the attribute or its object.
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
    port: Option<u16>,
    /// Each record's observable and links.
    records: Vec<(Observable, Vec<Observable>)>,
}

/// Reads `attribute` (of `object`, for an object's attributes) as far as it
/// can be read without its event.
pub(super) fn read_attribute(attribute: &Value, object: Option<&ObjectContext>) -> Pending {
    let Some(attribute) = attribute.as_object() else {
        return Pending::Rejected("attribute is not a JSON object".into());
    };
    let Some(kind) = json::text(attribute, "type") else {
        return Pending::Rejected("attribute has no type".into());
    };
    let kind = kind.to_ascii_lowercase();
    if flag(attribute, "deleted") == Some(true) {
        return Pending::Skipped("misp:deleted".into());
    }
    let Some(shape) = Shape::of(&kind) else {
        return Pending::Skipped(format!("misp:not-network:{kind}"));
    };
    if flag(attribute, "to_ids") == Some(false) {
        return Pending::Skipped("misp:not-to-ids".into());
    }
    let Some(raw) = json::text(attribute, "value") else {
        return Pending::Rejected(format!("{kind} attribute has no value"));
    };
    let value = match read_value(shape, &raw) {
        Ok(value) => value,
        Err(NoRecord::Skip(reason)) => return Pending::Skipped(reason.into()),
        Err(NoRecord::Reject(reason)) => return Pending::Rejected(format!("{kind}: {reason}")),
    };
    let mut warnings: Vec<String> = value.warnings.iter().map(|message| format!("{kind}: {message}")).collect();
    let mut timestamp = |field: &str| {
        let raw = json::text(attribute, field);
        let mut sink = |event| {
            if let Event::Warning { message, .. } = event {
                warnings.push(message);
            }
        };
        emit::timestamp(0, field, raw.as_deref(), &mut sink)
    };
    let first_seen = timestamp("first_seen");
    let last_seen = timestamp("last_seen");
    let changed = timestamp("timestamp");
    let records = value
        .observables
        .into_iter()
        .map(|observable| {
            let mut links = value.links.clone();
            if matches!(observable, Observable::Domain(_) | Observable::Url(_)) {
                for address in object.map(|o| o.addresses.as_slice()).unwrap_or_default() {
                    if !links.contains(address) {
                        links.push(address.clone());
                    }
                }
            }
            links.retain(|link| *link != observable);
            (observable, links)
        })
        .collect();
    Pending::Values(Box::new(Waiting {
        warnings,
        tags: super::tags::TagInfo::of(attribute),
        distribution: [super::distribution(attribute), object.and_then(|o| o.distribution)],
        misp_category: json::text(attribute, "category")
            .filter(|c| Category::from_label(Some(c), None).is_some())
            .map(|c| c.into_owned()),
        first_seen: first_seen.or(object.and_then(|o| o.first_seen)),
        last_seen: last_seen.or(object.and_then(|o| o.last_seen)).or(changed),
        port: value.port.or(object.and_then(|o| o.port)),
        records,
    }))
}

impl Pending {
    /// Pushes the attribute's events at `line` to `sink`, in `event`.
    ///
    /// The attributes of its records:
    /// * TLP: the attribute's `tlp:` tags, else the event's, else the most
    ///   restrictive level implied by the `distribution` of attribute, object
    ///   and event (5, inherit, adds nothing; see
    ///   [`super::tags::distribution_tlp`]);
    /// * label: the first mappable tag of the attribute, else of the event,
    ///   else the attribute's MISP `category` when it maps (`Payload
    ///   delivery`), else the event's `info`;
    /// * malware: the first malware galaxy of the attribute, else of the
    ///   event;
    /// * category: [`Category::from_label`] of the mapped label and malware
    ///   (the event's `info` is never mapped: it is prose);
    /// * first seen: the attribute's `first_seen`, else the object's, else
    ///   the event's `date` unless that is later than the last sighting; last
    ///   seen: the attribute's `last_seen`, else the object's, else the
    ///   attribute's `timestamp` (its last change);
    /// * port: from the value, else the one `port` attribute of the object.
    pub fn emit(self, event: &EventContext, line: u64, sink: &mut dyn FnMut(Event)) {
        let waiting = match self {
            Pending::Rejected(reason) => return sink(Event::Rejected { line, reason }),
            Pending::Skipped(reason) => return sink(Event::Skipped { line, reason }),
            Pending::Values(waiting) => *waiting,
        };
        for message in waiting.warnings {
            sink(Event::Warning { line, message });
        }
        let tags = waiting.tags.or(&event.tags);
        let distribution = [waiting.distribution[0], waiting.distribution[1], event.distribution];
        let mapped = tags.label.or(waiting.misp_category);
        let last_seen = waiting.last_seen;
        let event_date = event.date.filter(|date| !matches!(last_seen, Some(last) if *date > last));
        let attributes = Attributes {
            category: Category::from_label(mapped.as_deref(), tags.malware.as_deref()),
            label: mapped.or_else(|| event.info.clone()),
            malware: tags.malware,
            first_seen: waiting.first_seen.or(event_date),
            last_seen,
            confidence: None,
            tlp: tags
                .tlp
                .or_else(|| distribution.into_iter().flatten().filter_map(super::tags::distribution_tlp).max()),
            port: waiting.port,
        };
        for (observable, links) in waiting.records {
            sink(Event::Record(Record { line, observable, links, attributes: attributes.clone() }));
        }
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
