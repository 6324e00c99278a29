//! A country package's STIX 2.1 bundle: one `report` referencing an
//! `indicator` per shared member, an `infrastructure` per target, a
//! `malware` per family, their `indicates` relationships and the TLP 2.0
//! marking definitions used.

use std::collections::BTreeMap;

use cordon_model::{format_timestamp, Category, Kind, Timestamp, Tlp};
use cordon_store::ops::{Evidence, Target};
use serde_json::{json, Value};

/// The STIX extension that defines TLP 2.0 markings.
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A target and the sightings of it a package may carry.
#[derive(Clone, Debug)]
pub struct Shared<'a> {
    /// The target.
    pub target: &'a Target,
    /// Its shareable sightings.
    pub evidence: Vec<&'a Evidence>,
}

/// A STIX timestamp: RFC 3339 in UTC, to the millisecond.
fn stix_time(ts: Timestamp) -> String {
    let text = format_timestamp(ts);
    format!("{}.000Z", text.trim_end_matches('Z'))
}

fn id(kind: &str) -> String {
    format!("{kind}--{}", uuid::Uuid::new_v4())
}

/// A STIX pattern for a value, with `'` and `\` escaped.
pub fn pattern(kind: Kind, value: &str) -> String {
    let object = match kind {
        Kind::Ipv4 => "ipv4-addr",
        Kind::Ipv6 => "ipv6-addr",
        Kind::Cidr if value.contains(':') => "ipv6-addr",
        Kind::Cidr => "ipv4-addr",
        Kind::Domain => "domain-name",
        Kind::Url => "url",
    };
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("[{object}:value = '{escaped}']")
}

fn infrastructure_type(categories: &[Category]) -> &'static str {
    match categories.first() {
        Some(Category::Phishing) => "phishing",
        Some(Category::C2 | Category::Ransomware | Category::Infostealer) => "command-and-control",
        Some(Category::MalwareDistribution) => "hosting-malware",
        Some(Category::Botnet) => "botnet",
        Some(Category::Scanner) => "reconnaissance",
        _ => "unknown",
    }
}

fn malware_type(category: Category) -> &'static str {
    match category {
        Category::Ransomware => "ransomware",
        Category::Infostealer => "spyware",
        Category::C2 => "remote-access-trojan",
        Category::Botnet => "bot",
        _ => "unknown",
    }
}

/// The bundle for one country's package.
pub fn bundle(operation: &str, country: &str, shared: &[Shared<'_>], generated: Timestamp) -> Value {
    let now = stix_time(generated);
    let identity = id("identity");
    let mut objects = vec![json!({
        "type": "identity", "spec_version": "2.1", "id": identity, "created": now, "modified": now,
        "name": "cordon coordination hub", "identity_class": "organization",
    })];
    let mut used = BTreeMap::new();
    let mut refs = Vec::new();
    let mut families: BTreeMap<&str, (String, Category)> = BTreeMap::new();
    let mut report_tlp = Tlp::Clear;
    for item in shared {
        let infra = id("infrastructure");
        // From the shared sightings only: the target's own categories span
        // sightings that may not leave the hub.
        let categories: Vec<Category> =
            item.evidence.iter().map(|e| e.category).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let infra_tlp = item.evidence.iter().map(|e| e.tlp).max().unwrap_or(Tlp::Clear);
        report_tlp = report_tlp.max(infra_tlp);
        used.insert(infra_tlp, ());
        objects.push(json!({
            "type": "infrastructure", "spec_version": "2.1", "id": infra, "created": now, "modified": now,
            "created_by_ref": identity, "name": item.target.spec.key,
            "infrastructure_types": [infrastructure_type(&categories)],
            "object_marking_refs": [infra_tlp.stix_marking_id()],
        }));
        refs.push(infra.clone());
        let mut by_value: BTreeMap<&str, Vec<&Evidence>> = BTreeMap::new();
        for e in &item.evidence {
            by_value.entry(e.value.as_str()).or_default().push(e);
        }
        for (value, sightings) in by_value {
            let Some(first) = sightings.first() else { continue };
            let tlp = sightings.iter().map(|e| e.tlp).max().unwrap_or(Tlp::Clear);
            used.insert(tlp, ());
            let indicator = id("indicator");
            let mut labels: Vec<&str> = sightings.iter().map(|e| e.category.as_str()).collect();
            labels.sort_unstable();
            labels.dedup();
            objects.push(json!({
                "type": "indicator", "spec_version": "2.1", "id": indicator, "created": now, "modified": now,
                "created_by_ref": identity, "name": value, "indicator_types": ["malicious-activity"],
                "description": format!("{} shared sighting(s): {}", sightings.len(), labels.join(", ")),
                "pattern": pattern(first.kind, value), "pattern_type": "stix",
                "valid_from": stix_time(sightings.iter().map(|e| e.first_seen).min().unwrap_or(generated)),
                "confidence": sightings.iter().map(|e| e.confidence).max().unwrap_or(0),
                "labels": labels, "object_marking_refs": [tlp.stix_marking_id()],
            }));
            refs.push(indicator.clone());
            let mut relate = |target: &str| {
                let rel = id("relationship");
                objects.push(json!({
                    "type": "relationship", "spec_version": "2.1", "id": rel, "created": now, "modified": now,
                    "created_by_ref": identity, "relationship_type": "indicates", "source_ref": indicator,
                    "target_ref": target, "object_marking_refs": [tlp.stix_marking_id()],
                }));
                refs.push(rel);
            };
            relate(&infra);
            for e in &sightings {
                if let Some(family) = e.malware.as_deref() {
                    let malware = families.entry(family).or_insert_with(|| (id("malware"), e.category)).0.clone();
                    relate(&malware);
                }
            }
        }
    }
    for (name, (malware, category)) in &families {
        objects.push(json!({
            "type": "malware", "spec_version": "2.1", "id": malware, "created": now, "modified": now,
            "created_by_ref": identity, "name": name, "is_family": true,
            "malware_types": [malware_type(*category)],
        }));
        refs.push(malware.clone());
    }
    used.insert(report_tlp, ());
    for tlp in used.keys() {
        objects.push(json!({
            "type": "marking-definition", "spec_version": "2.1", "id": tlp.stix_marking_id(),
            "created": "2022-10-01T00:00:00.000Z", "name": format!("TLP:{}", tlp.as_str().to_ascii_uppercase()),
            "extensions": { TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": tlp.as_str() } },
        }));
    }
    let report = json!({
        "type": "report", "spec_version": "2.1", "id": id("report"), "created": now, "modified": now,
        "created_by_ref": identity, "name": format!("Operation {operation}: cyber activity report for {country}"),
        "report_types": ["threat-report"], "published": now, "object_refs": refs,
        "object_marking_refs": [report_tlp.stix_marking_id()],
    });
    objects.push(report);
    json!({ "type": "bundle", "id": id("bundle"), "objects": objects })
}
