//! A STIX 2.1 bundle: cordon's `identity`, one `indicator` per entry and
//! the TLP 2.0 marking definitions in use.
//!
//! Indicator ids are UUIDv5 over the value ([`crate::ids`]), so the same
//! indicator keeps its id in every export and a consumer sees a new
//! version (a later `modified`) rather than a new object. STIX 2.1 says
//! such ids SHOULD be UUIDv4, and `stix2_validator` warns (check 103) on
//! each; stable, golden-testable ids are worth that warning. `created` and
//! `valid_from` are the first sighting, `modified` the last.
//! `indicator_types` is `anomalous-activity` for scanners and
//! `malicious-activity` otherwise; `labels` are cordon's categories.

use std::collections::BTreeSet;
use std::io::Write;

use cordon_model::{format_timestamp, Category, Kind, Timestamp, Tlp};
use ipnet::IpNet;
use serde_json::{json, Map, Value};

use crate::ids::uuid;
use crate::json_stream::JsonArray;
use crate::{Entry, Error, Options};

/// The STIX property-extension that carries TLP 2.0 levels.
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// When the STIX identity of cordon was first defined; it never changes.
const IDENTITY_CREATED: &str = "2024-01-01T00:00:00.000Z";

/// The STIX Cyber-observable type a pattern on `entry` compares: `ipv4-addr`
/// (addresses and IPv4 CIDRs), `ipv6-addr`, `domain-name` or `url`; `None`
/// for an address or network that does not parse.
pub(crate) fn observable_type(entry: &Entry) -> Option<&'static str> {
    match entry.kind {
        Kind::Domain => Some("domain-name"),
        Kind::Url => Some("url"),
        Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => match entry.network()? {
            IpNet::V4(_) => Some("ipv4-addr"),
            IpNet::V6(_) => Some("ipv6-addr"),
        },
    }
}

/// A bundle being written: its head and identity, one indicator per
/// [`Bundle::push`], then, at [`Bundle::close`], the marking definitions of
/// the TLPs those indicators carry. A bundle's objects have no order in
/// STIX 2.1, and these come last so that the bundle is written in one
/// read of its entries.
pub(crate) struct Bundle<'a> {
    objects: JsonArray<'a>,
    identity: String,
    tlps: BTreeSet<Tlp>,
}

impl<'a> Bundle<'a> {
    /// Opens the bundle: its head and cordon's identity.
    pub(crate) fn open(out: &'a mut dyn Write, options: &Options) -> Result<Bundle<'a>, Error> {
        let bundle_id = uuid("bundle", &format!("{}:{}", options.producer, options.generated));
        let mut head = Map::new();
        head.insert("type".into(), json!("bundle"));
        head.insert("id".into(), json!(format!("bundle--{bundle_id}")));
        let mut objects = JsonArray::open(out, &head, "objects")?;
        let identity = format!("identity--{}", uuid("identity", &options.producer));
        objects.push(&identity_object(&options.producer))?;
        Ok(Bundle { objects, identity, tlps: BTreeSet::new() })
    }

    /// Writes the indicator of `entry`, if [`observable_type`] accepts it.
    pub(crate) fn push(&mut self, entry: &Entry) -> Result<(), Error> {
        let Some(object_type) = observable_type(entry) else { return Ok(()) };
        self.tlps.insert(entry.tlp);
        self.objects.push(&indicator(entry, object_type, &self.identity))
    }

    /// Writes the marking definitions of the TLPs in use and closes the
    /// bundle.
    pub(crate) fn close(mut self) -> Result<(), Error> {
        for tlp in &self.tlps {
            self.objects.push(&marking_definition(*tlp))?;
        }
        self.objects.close()
    }
}

/// The indicator of one entry.
fn indicator(entry: &Entry, object_type: &str, identity: &str) -> Value {
    let escaped = entry.value.replace('\\', "\\\\").replace('\'', "\\'");
    let types: BTreeSet<&str> = entry
        .categories
        .iter()
        .map(|c| if *c == Category::Scanner { "anomalous-activity" } else { "malicious-activity" })
        .collect();
    let types: Vec<&str> = if types.is_empty() { vec!["malicious-activity"] } else { types.into_iter().collect() };
    let created = stix_timestamp(entry.first_seen);
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", uuid("indicator", &entry.value)),
        "created_by_ref": identity,
        "created": created,
        "modified": stix_timestamp(entry.last_seen.max(entry.first_seen)),
        "name": entry.value,
        "description": format!("Reported by {}.", entry.sources.join(", ")),
        "indicator_types": types,
        "pattern": format!("[{object_type}:value = '{escaped}']"),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": created,
        "confidence": entry.confidence.min(100),
        "labels": entry.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "object_marking_refs": [entry.tlp.stix_marking_id()],
    })
}

/// A timestamp as STIX wants `created` and `modified`: RFC 3339 UTC with
/// milliseconds (cordon keeps seconds, so they are `.000`).
fn stix_timestamp(ts: Timestamp) -> String {
    let seconds = format_timestamp(ts);
    match seconds.strip_suffix('Z') {
        Some(stem) => format!("{stem}.000Z"),
        None => seconds,
    }
}

/// The TLP 2.0 marking-definition object of `tlp`, exactly as published
/// (STIX 2.1 does not define TLP 2.0 itself, so bundles carry it).
fn marking_definition(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp.stix_marking_id(),
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", tlp.as_str().to_ascii_uppercase()),
        "extensions": {
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.as_str(),
            }
        },
    })
}

/// The STIX id of the indicator object of `value` (stable: UUIDv5 over
/// the value, as in every export).
pub fn indicator_id(value: &str) -> String {
    format!("indicator--{}", uuid("indicator", value))
}

/// One indicator as a standalone STIX 2.1 object (a TAXII collection
/// serves them one by one), created by `producer`'s identity, with the
/// `created` and `modified` of the version served (STIX timestamps); `None`
/// for an entry no pattern can carry.
pub fn indicator_object(entry: &Entry, producer: &str, created: &str, modified: &str) -> Option<Value> {
    let object_type = observable_type(entry)?;
    let identity = format!("identity--{}", uuid("identity", producer));
    let mut object = indicator(entry, object_type, &identity);
    object["created"] = json!(created);
    object["modified"] = json!(modified);
    Some(object)
}

/// The `identity` of `producer`, the `created_by_ref` of its indicators.
pub fn identity_object(producer: &str) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": format!("identity--{}", uuid("identity", producer)),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": producer,
        "identity_class": "system",
    })
}

/// STIX 2.1's namespace for the deterministic ids of Cyber-observables
/// (section 2.9): an SCO's id is the UUIDv5 of its id-contributing
/// properties, so every producer names the same address alike.
const SCO_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// The STIX id of the Cyber-observable of `entry` (see
/// [`observable_object`]); `None` for an entry no observable carries.
pub fn observable_id(entry: &Entry) -> Option<String> {
    let object_type = observable_type(entry)?;
    // The canonical JSON (RFC 8785) of the one id-contributing property.
    let contributing = json!({ "value": entry.value }).to_string();
    Some(format!("{object_type}--{}", uuid::Uuid::new_v5(&SCO_NAMESPACE, contributing.as_bytes())))
}

/// The Cyber-observable of `entry`: an `ipv4-addr` or `ipv6-addr` (an
/// address or a CIDR), a `domain-name` or a `url` with its canonical value,
/// marked with `entry.tlp`; `None` for an entry no observable carries.
pub fn observable_object(entry: &Entry) -> Option<Value> {
    Some(json!({
        "type": observable_type(entry)?,
        "spec_version": "2.1",
        "id": observable_id(entry)?,
        "value": entry.value,
        "object_marking_refs": [entry.tlp.stix_marking_id()],
    }))
}

/// The STIX id of the `malware` family `name` (UUIDv5 over the name).
pub fn malware_id(name: &str) -> String {
    format!("malware--{}", uuid("malware", name))
}

/// The `malware` family `name`, by `producer`'s identity, marked `tlp`,
/// with the `created` and `modified` of the version served.
pub fn malware_object(name: &str, producer: &str, tlp: Tlp, created: &str, modified: &str) -> Value {
    json!({
        "type": "malware",
        "spec_version": "2.1",
        "id": malware_id(name),
        "created_by_ref": format!("identity--{}", uuid("identity", producer)),
        "created": created,
        "modified": modified,
        "name": name,
        "is_family": true,
        "object_marking_refs": [tlp.stix_marking_id()],
    })
}

/// The STIX id of the relationship `kind` from `source` to `target`
/// (UUIDv5 over the three).
pub fn relationship_id(kind: &str, source: &str, target: &str) -> String {
    format!("relationship--{}", uuid("relationship", &format!("{kind} {source} {target}")))
}

/// The relationship `kind` (`based-on`, `indicates`) from object id
/// `source` to `target`, by `producer`'s identity, marked `tlp`, with the
/// `created` and `modified` of the version served.
pub fn relationship_object(
    (kind, source, target): (&str, &str, &str),
    producer: &str,
    tlp: Tlp,
    created: &str,
    modified: &str,
) -> Value {
    json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": relationship_id(kind, source, target),
        "created_by_ref": format!("identity--{}", uuid("identity", producer)),
        "created": created,
        "modified": modified,
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [tlp.stix_marking_id()],
    })
}

/// The TLP 2.0 `marking-definition` of `tlp`, as every export carries it.
pub fn marking_definition_object(tlp: Tlp) -> Value {
    marking_definition(tlp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &str, kind: Kind) -> Entry {
        Entry {
            value: value.into(),
            kind,
            categories: vec![],
            sources: vec![],
            tlp: Tlp::Amber,
            confidence: 50,
            first_seen: 0,
            last_seen: 0,
            on_platform: false,
        }
    }

    #[test]
    fn observables_have_stix_deterministic_ids_and_their_entrys_marking() {
        // Python: uuid.uuid5(UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), '{"value":"47.0.0.1"}').
        let address = observable_object(&entry("47.0.0.1", Kind::Ipv4)).unwrap();
        assert_eq!(address["id"], "ipv4-addr--3b5864e7-ee5d-5efa-bb69-b298ca1373f0");
        assert_eq!(address["object_marking_refs"], json!([Tlp::Amber.stix_marking_id()]));
        let types = [
            ("10.0.0.0/8", Kind::Cidr, "ipv4-addr"),
            ("2001:db8::/32", Kind::Cidr, "ipv6-addr"),
            ("2001:db8::1", Kind::Ipv6, "ipv6-addr"),
            ("evil.example", Kind::Domain, "domain-name"),
            ("http://evil.example/a", Kind::Url, "url"),
        ];
        for (value, kind, object_type) in types {
            let object = observable_object(&entry(value, kind)).unwrap();
            assert_eq!((&object["type"], &object["value"]), (&json!(object_type), &json!(value)));
            assert!(object["id"].as_str().unwrap().starts_with(&format!("{object_type}--")));
        }
        assert!(observable_id(&entry("not an address", Kind::Ipv4)).is_none());
    }

    #[test]
    fn the_bundle_ends_with_the_markings_of_the_indicators_it_carries() {
        let mut out = Vec::new();
        let options = Options::new(0);
        let mut bundle = Bundle::open(&mut out, &options).unwrap();
        let red_but_unparsable = Entry { tlp: Tlp::Red, ..entry("not an address", Kind::Ipv4) };
        let clear = Entry { tlp: Tlp::Clear, ..entry("47.0.0.2", Kind::Ipv4) };
        for e in [entry("47.0.0.1", Kind::Ipv4), red_but_unparsable, clear, entry("evil.example", Kind::Domain)] {
            bundle.push(&e).unwrap();
        }
        bundle.close().unwrap();
        let bundle: Value = serde_json::from_slice(&out).unwrap();
        let objects = bundle["objects"].as_array().unwrap();
        let types: Vec<&str> = objects.iter().map(|o| o["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["identity", "indicator", "indicator", "indicator", "marking-definition", "marking-definition"]
        );
        let markings: Vec<&str> = objects[4..].iter().filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(markings, [Tlp::Clear.stix_marking_id(), Tlp::Amber.stix_marking_id()]);
    }
}
