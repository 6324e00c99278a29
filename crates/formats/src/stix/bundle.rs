//! The index of one bundle: objects by id, TLP markings, and the relationship
//! graph that gives indicators and observables their category.

use std::collections::{HashMap, HashSet};

use cordon_model::{parse_timestamp, Attributes, Category, Timestamp};
use serde_json::Value;

use super::marking::Markings;

/// What a bundle's objects say about each other.
#[derive(Debug, Default)]
pub(super) struct Bundle<'a> {
    /// Every object with an id, by id (the last one wins for repeated ids).
    by_id: HashMap<&'a str, &'a Value>,
    /// TLP levels of marking definitions.
    pub markings: Markings<'a>,
    /// Both ends of every relationship: id → the ids it is related to.
    neighbours: HashMap<&'a str, Vec<&'a str>>,
    /// Observables an indicator is `based-on`: the indicator covers them.
    pub based_on: HashSet<&'a str>,
    /// Hashes of the ids of the objects that were not kept (see
    /// [`super::Objects`]).
    others: Option<&'a HashSet<u64>>,
}

impl<'a> Bundle<'a> {
    /// Indexes `objects`; `others` are the hashed ids of the bundle's other
    /// objects.
    pub fn index(objects: &'a [Value], others: &'a HashSet<u64>) -> Bundle<'a> {
        let mut bundle = Bundle { others: Some(others), ..Bundle::default() };
        for object in objects {
            if let Some(id) = str_field(object, "id") {
                bundle.by_id.insert(id, object);
            }
            bundle.markings.learn(object);
            if str_field(object, "type") != Some("relationship") {
                continue;
            }
            let (Some(source), Some(target)) = (str_field(object, "source_ref"), str_field(object, "target_ref"))
            else {
                continue;
            };
            bundle.neighbours.entry(source).or_default().push(target);
            bundle.neighbours.entry(target).or_default().push(source);
            if str_field(object, "relationship_type") == Some("based-on") && source.starts_with("indicator--") {
                bundle.based_on.insert(target);
            }
        }
        bundle
    }

    /// The object with `id`, if the bundle has it.
    pub fn get(&self, id: &str) -> Option<&'a Value> {
        self.by_id.get(id).copied()
    }

    /// Whether the bundle has an object with `id`, kept or not.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id) || self.others.is_some_and(|others| others.contains(&super::id_hash(id)))
    }

    /// Whether any relationship names `id`.
    pub fn has_relationships(&self, id: &str) -> bool {
        self.neighbours.contains_key(id)
    }

    /// Category, label and malware of `object`, from its own `labels` and
    /// `indicator_types` and from the `malware` and `infrastructure` objects
    /// related to it (whatever the relationship type: `indicates`,
    /// `consists-of`, `communicates-with`, …).
    ///
    /// The label is the first candidate that cordon can map, in this order:
    /// `infrastructure_types` of related infrastructure, `malware_types` of
    /// related malware, the object's `labels`, its `indicator_types`; failing
    /// that the first candidate at all. The malware is the name of the first
    /// related malware object. [`Category::from_label`] decides the category,
    /// so a known ransomware or stealer family wins over a generic label.
    pub fn context(&self, object: &Value) -> Attributes {
        let related: Vec<&Value> = str_field(object, "id")
            .and_then(|id| self.neighbours.get(id))
            .into_iter()
            .flatten()
            .filter_map(|id| self.get(id))
            .collect();
        let of_type = |kind: &'static str| related.iter().copied().filter(move |o| str_field(o, "type") == Some(kind));
        let malware = of_type("malware").find_map(|m| str_field(m, "name")).map(str::to_string);
        let mut candidates: Vec<&str> = Vec::new();
        for infrastructure in of_type("infrastructure") {
            candidates.extend(str_list(infrastructure, "infrastructure_types"));
        }
        for malware in of_type("malware") {
            candidates.extend(str_list(malware, "malware_types"));
        }
        candidates.extend(str_list(object, "labels"));
        candidates.extend(str_list(object, "indicator_types"));
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
        let objects = vec![
            json!({"type": "indicator", "id": "indicator--1", "indicator_types": ["malicious-activity"]}),
            json!({"type": "malware", "id": "malware--1", "name": "LockBit", "malware_types": ["ransomware"]}),
            json!({"type": "infrastructure", "id": "infrastructure--1", "infrastructure_types": ["command-and-control"]}),
            json!({"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
                "source_ref": "indicator--1", "target_ref": "malware--1"}),
            json!({"type": "relationship", "id": "relationship--2", "relationship_type": "indicates",
                "source_ref": "indicator--1", "target_ref": "infrastructure--1"}),
            json!({"type": "indicator", "id": "indicator--2", "indicator_types": ["malicious-activity"]}),
        ];
        let others = HashSet::new();
        let bundle = Bundle::index(&objects, &others);
        let first = bundle.context(&objects[0]);
        assert_eq!(first.label.as_deref(), Some("command-and-control"));
        assert_eq!(first.malware.as_deref(), Some("LockBit"));
        assert_eq!(first.category, Some(Category::Ransomware));
        let second = bundle.context(&objects[5]);
        assert_eq!((second.label.as_deref(), second.category), (Some("malicious-activity"), None));
    }
}
