//! A country package's STIX 2.1 bundle: one `report` referencing an
//! `indicator` per shared member, an `infrastructure` per target, a
//! `malware` per family, their `indicates` relationships and the TLP 2.0
//! marking definitions used. The objects are built one at a time, so that
//! a writer can stream a bundle of any size (see `package`).

use std::collections::{BTreeMap, BTreeSet};

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

/// What every object of one bundle shares: its time and its author.
#[derive(Clone, Debug)]
pub struct BundleContext {
    /// When the bundle was generated, as a STIX timestamp.
    now: String,
    /// The hub's `identity` object's id.
    identity: String,
    /// When the bundle was generated.
    generated: Timestamp,
}

impl BundleContext {
    /// A new bundle generated at `generated`, with a fresh identity id.
    pub fn new(generated: Timestamp) -> BundleContext {
        BundleContext { now: stix_time(generated), identity: id("identity"), generated }
    }
}

/// The malware families of a bundle: each family's name (as first seen)
/// with its `malware` object's id and the category of its first sighting.
pub type Families = BTreeMap<String, (String, Category)>;

/// A target's shared sightings by value, in value order.
fn by_value<'a>(item: &Shared<'a>) -> BTreeMap<&'a str, Vec<&'a Evidence>> {
    let mut by_value: BTreeMap<&str, Vec<&Evidence>> = BTreeMap::new();
    for e in &item.evidence {
        by_value.entry(e.value.as_str()).or_default().push(e);
    }
    by_value
}

/// The most restrictive TLP among `sightings` (CLEAR when there are none).
fn max_tlp<'a>(sightings: impl IntoIterator<Item = &'a &'a Evidence>) -> Tlp {
    sightings.into_iter().map(|e| e.tlp).max().unwrap_or(Tlp::Clear)
}

/// Notes what one target adds to the bundle's header facts, in the order
/// [`target_objects`] meets them: the TLP markings its objects use (its
/// infrastructure's and each indicator's) and its malware families (a new
/// family gets its `malware` id here).
pub fn note_target(item: &Shared<'_>, markings: &mut BTreeSet<Tlp>, families: &mut Families) {
    markings.insert(max_tlp(&item.evidence));
    for sightings in by_value(item).values() {
        markings.insert(max_tlp(sightings));
        for e in sightings {
            if let Some(family) = e.malware.as_deref() {
                if !families.contains_key(family) {
                    families.insert(family.to_string(), (id("malware"), e.category));
                }
            }
        }
    }
}

/// The bundle's `identity` object (the hub), its first object.
pub fn identity(context: &BundleContext) -> Value {
    let now = &context.now;
    json!({
        "type": "identity", "spec_version": "2.1", "id": context.identity, "created": now, "modified": now,
        "name": "cordon coordination hub", "identity_class": "organization",
    })
}

/// One target's objects, in order: its `infrastructure`, then per shared
/// value an `indicator` and its `indicates` relationships (to the
/// infrastructure and to each family in `families`, which
/// [`note_target`] filled). The report refers to every one of them.
pub fn target_objects(context: &BundleContext, item: &Shared<'_>, families: &Families) -> Vec<Value> {
    let (now, identity) = (&context.now, &context.identity);
    let infra = id("infrastructure");
    // From the shared sightings only: the target's own categories span
    // sightings that may not leave the hub.
    let categories: Vec<Category> =
        item.evidence.iter().map(|e| e.category).collect::<BTreeSet<_>>().into_iter().collect();
    let mut objects = vec![json!({
        "type": "infrastructure", "spec_version": "2.1", "id": infra, "created": now, "modified": now,
        "created_by_ref": identity, "name": item.target.spec.key,
        "infrastructure_types": [infrastructure_type(&categories)],
        "object_marking_refs": [max_tlp(&item.evidence).stix_marking_id()],
    })];
    for (value, sightings) in by_value(item) {
        let Some(first) = sightings.first() else { continue };
        let tlp = max_tlp(&sightings);
        let indicator = id("indicator");
        let mut labels: Vec<&str> = sightings.iter().map(|e| e.category.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": indicator, "created": now, "modified": now,
            "created_by_ref": identity, "name": value, "indicator_types": ["malicious-activity"],
            "description": format!("{} shared sighting(s): {}", sightings.len(), labels.join(", ")),
            "pattern": pattern(first.kind, value), "pattern_type": "stix",
            "valid_from": stix_time(sightings.iter().map(|e| e.first_seen).min().unwrap_or(context.generated)),
            "confidence": sightings.iter().map(|e| e.confidence).max().unwrap_or(0),
            "labels": labels, "object_marking_refs": [tlp.stix_marking_id()],
        }));
        let malware = sightings.iter().filter_map(|e| families.get(e.malware.as_deref()?)).map(|(id, _)| id);
        for target in std::iter::once(&infra).chain(malware) {
            objects.push(json!({
                "type": "relationship", "spec_version": "2.1", "id": id("relationship"), "created": now,
                "modified": now, "created_by_ref": identity, "relationship_type": "indicates",
                "source_ref": indicator, "target_ref": target, "object_marking_refs": [tlp.stix_marking_id()],
            }));
        }
    }
    objects
}

/// The `malware` object of a family of [`Families`].
pub fn malware_object(context: &BundleContext, name: &str, malware: &str, category: Category) -> Value {
    let now = &context.now;
    json!({
        "type": "malware", "spec_version": "2.1", "id": malware, "created": now, "modified": now,
        "created_by_ref": context.identity, "name": name, "is_family": true,
        "malware_types": [malware_type(category)],
    })
}

/// The TLP 2.0 `marking-definition` of `tlp`.
pub fn marking_definition(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": tlp.stix_marking_id(),
        "created": "2022-10-01T00:00:00.000Z", "name": format!("TLP:{}", tlp.as_str().to_ascii_uppercase()),
        "extensions": { TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": tlp.as_str() } },
    })
}

/// The bundle's `report` (its last object) marked `tlp`, with an empty
/// `object_refs` for the writer to fill with every target and malware
/// object's id, in order.
pub fn report_object(context: &BundleContext, operation: &str, country: &str, tlp: Tlp) -> Value {
    let now = &context.now;
    json!({
        "type": "report", "spec_version": "2.1", "id": id("report"), "created": now, "modified": now,
        "created_by_ref": context.identity, "name": format!("Operation {operation}: cyber activity report for {country}"),
        "report_types": ["threat-report"], "published": now, "object_refs": [],
        "object_marking_refs": [tlp.stix_marking_id()],
    })
}

/// The bundle object around its objects, with an empty `objects` for the
/// writer to fill.
pub fn bundle_object() -> Value {
    json!({ "type": "bundle", "id": id("bundle"), "objects": [] })
}
