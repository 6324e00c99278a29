//! The index of one bundle, built while it is read: what the objects say
//! about each other (relationships, malware and infrastructure, TLP
//! markings, which objects exist), kept compact, since a bundle is never
//! held whole.
//!
//! Objects are known by a 64-bit hash of their id ([`id_hash`]): the index
//! needs the ids only to match references, and a hash costs 8 bytes where
//! an id string costs about 70. Two ids sharing a hash would at worst lend
//! one object's relationships to the other.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use cordon_model::{parse_timestamp, Attributes, Category, Timestamp};
use serde_json::Value;

use super::marking::Markings;

/// The hash by which the index knows the object with `id`.
pub(super) fn id_hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

/// Strings that repeat across objects (labels, types, marking ids), and
/// lists of them, stored once: a million indicators of one feed share a
/// handful of label lists.
#[derive(Debug, Default)]
pub(super) struct Strings {
    known: HashSet<Rc<str>>,
    lists: HashSet<Rc<[Rc<str>]>>,
}

impl Strings {
    /// The shared copy of `text`.
    pub fn intern(&mut self, text: &str) -> Rc<str> {
        if let Some(known) = self.known.get(text) {
            return known.clone();
        }
        let shared: Rc<str> = Rc::from(text);
        self.known.insert(shared.clone());
        shared
    }

    /// The shared list of the strings of list property `key` of `object`.
    pub fn list(&mut self, object: &Value, key: &str) -> Rc<[Rc<str>]> {
        let items: Vec<Rc<str>> = str_list(object, key).map(|text| self.intern(text)).collect();
        if let Some(known) = self.lists.get(items.as_slice()) {
            return known.clone();
        }
        let shared: Rc<[Rc<str>]> = Rc::from(items);
        self.lists.insert(shared.clone());
        shared
    }
}

/// A `malware` or `infrastructure` object, as far as records need it.
#[derive(Debug)]
struct Related {
    /// `malware` (else infrastructure).
    malware: bool,
    /// The malware's name.
    name: Option<Rc<str>>,
    /// `malware_types` or `infrastructure_types`.
    types: Rc<[Rc<str>]>,
}

/// What a bundle's objects say about each other.
#[derive(Debug, Default)]
pub(super) struct Bundle {
    /// Every object's id hash.
    ids: HashSet<u64>,
    /// TLP levels of marking definitions.
    pub markings: Markings,
    /// Both ends of every relationship: id → the ids it is related to, in
    /// the order of the relationships.
    neighbours: HashMap<u64, Vec<u64>>,
    /// Observables an indicator is `based-on`: the indicator covers them.
    based_on: HashSet<u64>,
    /// Malware and infrastructure objects.
    related: HashMap<u64, Related>,
    /// Shared strings.
    pub strings: Strings,
}

impl Bundle {
    /// Learns what `object` says (call it for every object, in order).
    pub fn learn(&mut self, object: &Value) {
        if let Some(id) = str_field(object, "id") {
            self.ids.insert(id_hash(id));
        }
        match str_field(object, "type") {
            Some("marking-definition") => self.markings.learn(object),
            Some(kind @ ("malware" | "infrastructure")) => {
                let Some(id) = str_field(object, "id") else { return };
                let malware = kind == "malware";
                let name = if malware { str_field(object, "name").map(|n| self.strings.intern(n)) } else { None };
                let types = self.strings.list(object, if malware { "malware_types" } else { "infrastructure_types" });
                self.related.insert(id_hash(id), Related { malware, name, types });
            }
            Some("relationship") => {
                let (Some(source), Some(target)) = (str_field(object, "source_ref"), str_field(object, "target_ref"))
                else {
                    return;
                };
                let (source_hash, target_hash) = (id_hash(source), id_hash(target));
                self.neighbours.entry(source_hash).or_default().push(target_hash);
                self.neighbours.entry(target_hash).or_default().push(source_hash);
                if str_field(object, "relationship_type") == Some("based-on") && source.starts_with("indicator--") {
                    self.based_on.insert(target_hash);
                }
            }
            _ => {}
        }
    }

    /// Whether the bundle has an object with this id hash.
    pub fn contains(&self, id: u64) -> bool {
        self.ids.contains(&id)
    }

    /// Whether any relationship names the object.
    pub fn has_relationships(&self, id: u64) -> bool {
        self.neighbours.contains_key(&id)
    }

    /// Whether an indicator is `based-on` the object.
    pub fn is_based_on(&self, id: u64) -> bool {
        self.based_on.contains(&id)
    }

    /// Category, label and malware of the object with id hash `id` and
    /// these `labels` and `indicator_types`, from them and from the
    /// `malware` and `infrastructure` objects related to it (whatever the
    /// relationship type: `indicates`, `consists-of`, `communicates-with`,
    /// …).
    ///
    /// The label is the first candidate that cordon can map, in this order:
    /// `infrastructure_types` of related infrastructure, `malware_types` of
    /// related malware, the object's `labels`, its `indicator_types`; failing
    /// that the first candidate at all. The malware is the name of the first
    /// related malware object. [`Category::from_label`] decides the category,
    /// so a known ransomware or stealer family wins over a generic label.
    pub fn context(&self, id: Option<u64>, labels: &[Rc<str>], indicator_types: &[Rc<str>]) -> Attributes {
        let related: Vec<&Related> = id
            .and_then(|id| self.neighbours.get(&id))
            .into_iter()
            .flatten()
            .filter_map(|n| self.related.get(n))
            .collect();
        let malware = related.iter().filter(|r| r.malware).find_map(|m| m.name.as_deref()).map(str::to_string);
        let mut candidates: Vec<&str> = Vec::new();
        for infrastructure in related.iter().filter(|r| !r.malware) {
            candidates.extend(infrastructure.types.iter().map(|t| &**t));
        }
        for malware in related.iter().filter(|r| r.malware) {
            candidates.extend(malware.types.iter().map(|t| &**t));
        }
        candidates.extend(labels.iter().map(|t| &**t));
        candidates.extend(indicator_types.iter().map(|t| &**t));
        let label = candidates
            .iter()
            .find(|c| Category::from_label(Some(c), None).is_some())
            .or(candidates.first())
            .map(|c| c.to_string());
        Attributes {
            category: Category::from_label(label.as_deref(), malware.as_deref()),
            label,
            malware,
            ..Attributes::default()
        }
    }
}

/// A string property of an object.
pub(super) fn str_field<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The strings of a list property (absent or mistyped: none).
pub(super) fn str_list<'a>(object: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    object.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// A timestamp property of an object.
pub(super) fn time_field(object: &Value, key: &str) -> Option<Timestamp> {
    str_field(object, key).and_then(parse_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn context_from_relationships() {
        let objects = [
            json!({"type": "indicator", "id": "indicator--1", "indicator_types": ["malicious-activity"]}),
            json!({"type": "malware", "id": "malware--1", "name": "LockBit", "malware_types": ["ransomware"]}),
            json!({"type": "infrastructure", "id": "infrastructure--1", "infrastructure_types": ["command-and-control"]}),
            json!({"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
                "source_ref": "indicator--1", "target_ref": "malware--1"}),
            json!({"type": "relationship", "id": "relationship--2", "relationship_type": "indicates",
                "source_ref": "indicator--1", "target_ref": "infrastructure--1"}),
            json!({"type": "indicator", "id": "indicator--2", "indicator_types": ["malicious-activity"]}),
        ];
        let mut bundle = Bundle::default();
        objects.iter().for_each(|object| bundle.learn(object));
        let types = bundle.strings.list(&objects[0], "indicator_types");
        let first = bundle.context(Some(id_hash("indicator--1")), &[], &types);
        assert_eq!(first.label.as_deref(), Some("command-and-control"));
        assert_eq!(first.malware.as_deref(), Some("LockBit"));
        assert_eq!(first.category, Some(Category::Ransomware));
        let second = bundle.context(Some(id_hash("indicator--2")), &[], &types);
        assert_eq!((second.label.as_deref(), second.category), (Some("malicious-activity"), None));
        assert!(bundle.contains(id_hash("relationship--2")) && !bundle.contains(id_hash("relationship--3")));
    }
}
