//! TLP from STIX data markings.
//!
//! An object's level is the most restrictive TLP among its
//! `object_marking_refs`. A reference is resolved first against the fixed
//! marking-definition ids of TLP 2.0 and of the TLP 1.0 definitions built into
//! STIX 2.1 (those ids mean the same level in every bundle, whatever a bundle
//! says about them), then against the `marking-definition` objects of the
//! bundle: `definition_type: "tlp"` with `definition.tlp` (TLP 1.0 style), a
//! property extension carrying `tlp_2_0` (TLP 2.0 style), or a `name` such as
//! `TLP:AMBER+STRICT`. Statement markings and unknown references carry no
//! level and are ignored.

use std::collections::HashMap;

use cordon_model::Tlp;
use serde_json::Value;

/// The TLP levels of marking-definition ids, fixed and from one bundle.
#[derive(Debug, Default)]
pub(super) struct Markings {
    defined: HashMap<String, Tlp>,
}

impl Markings {
    /// Records `object` if it is a marking definition that states a TLP level.
    pub fn learn(&mut self, object: &Value) {
        if object.get("type").and_then(Value::as_str) != Some("marking-definition") {
            return;
        }
        if let (Some(id), Some(tlp)) = (object.get("id").and_then(Value::as_str), definition_level(object)) {
            self.defined.insert(id.to_string(), tlp);
        }
    }

    /// The level of one marking-definition id, if it is a TLP marking.
    pub fn level(&self, id: &str) -> Option<Tlp> {
        Tlp::from_stix_marking_id(id).or_else(|| self.defined.get(id).copied())
    }

    /// The most restrictive level among an object's `object_marking_refs`.
    pub fn object_level<'a>(&self, refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        refs.into_iter().filter_map(|id| self.level(id)).max()
    }
}

/// The level a marking-definition object states, in any of the three ways.
fn definition_level(object: &Value) -> Option<Tlp> {
    let is_tlp =
        object.get("definition_type").and_then(Value::as_str).is_some_and(|kind| kind.eq_ignore_ascii_case("tlp"));
    if is_tlp {
        let stated = object
            .get("definition")
            .and_then(Value::as_object)
            .and_then(|definition| definition.values().filter_map(Value::as_str).find_map(|v| v.parse().ok()));
        if stated.is_some() {
            return stated;
        }
    }
    let extended = object.get("extensions").and_then(Value::as_object).and_then(|extensions| {
        extensions
            .values()
            .filter_map(|extension| extension.get("tlp_2_0").and_then(Value::as_str))
            .find_map(|v| v.parse().ok())
    });
    if extended.is_some() {
        return extended;
    }
    let name = object.get("name").and_then(Value::as_str)?;
    name.to_ascii_lowercase().starts_with("tlp:").then(|| name.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixed_ids_and_bundle_definitions() {
        let tlp1 = json!({"type": "marking-definition", "id": "marking-definition--aaaa",
            "definition_type": "tlp", "definition": {"tlp": "amber"}});
        let tlp2 = json!({"type": "marking-definition", "id": "marking-definition--bbbb", "name": "TLP:RED",
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}});
        let named = json!({"type": "marking-definition", "id": "marking-definition--cccc", "name": "TLP:CLEAR"});
        let statement = json!({"type": "marking-definition", "id": "marking-definition--dddd",
            "definition_type": "statement", "definition": {"statement": "Copyright"}});
        let mut markings = Markings::default();
        for object in [&tlp1, &tlp2, &named, &statement] {
            markings.learn(object);
        }
        assert_eq!(markings.level("marking-definition--aaaa"), Some(Tlp::Amber));
        assert_eq!(markings.level("marking-definition--bbbb"), Some(Tlp::AmberStrict));
        assert_eq!(markings.level("marking-definition--cccc"), Some(Tlp::Clear));
        assert_eq!(markings.level("marking-definition--dddd"), None);
        assert_eq!(markings.level("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"), Some(Tlp::Clear));
        let object = json!({"object_marking_refs": ["marking-definition--dddd",
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "marking-definition--aaaa"]});
        let refs = |object: &Value| -> Vec<String> {
            super::super::bundle::str_list(object, "object_marking_refs").map(str::to_string).collect()
        };
        assert_eq!(markings.object_level(refs(&object).iter().map(String::as_str)), Some(Tlp::Amber));
        assert_eq!(markings.object_level(refs(&json!({})).iter().map(String::as_str)), None);
    }
}
