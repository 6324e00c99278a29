//! What MISP tags, galaxies and distribution levels say: TLP, label and
//! malware family.
//!
//! Tags are read from `Tag[].name` and from the `tag_name` of galaxy clusters
//! (`Galaxy[].GalaxyCluster[]`), which exports carry beside or instead of the
//! matching tags.
//!
//! * `tlp:*` tags give the TLP (`tlp:white` reads as clear; several: the most
//!   restrictive). Unknown `tlp:` values (`tlp:ex:chr`) are ignored.
//! * `misp-galaxy:<galaxy>="<cluster>"` of a malware galaxy ([`MALWARE_GALAXIES`])
//!   names the malware family; the galaxy name itself (`ransomware`,
//!   `stealer`, `botnet`, `exploit-kit`) is a label candidate.
//! * Any other tag is a label candidate through its value:
//!   `malware_classification:malware-category="Ransomware"` → `Ransomware`,
//!   `rsit:malicious-code="c2-server"` → `c2-server`, then its predicate
//!   (`ecsirt:fraud="…"` → `fraud`); `kill-chain:Command and Control` →
//!   `Command and Control`; a plain tag (`phishing`, `LockBit`) as it is.
//!
//! The label is the first candidate [`Category::from_label`] can map; a tag
//! that maps to nothing is never a label (free-form tags such as
//! `workflow:state="complete"` say nothing about the indicator).

use cordon_model::{Category, Tlp};
use serde_json::Value;

use crate::json::Object;

/// Galaxies whose clusters are malware families or tools.
const MALWARE_GALAXIES: &[&str] = &[
    "ransomware",
    "malpedia",
    "stealer",
    "botnet",
    "backdoor",
    "rat",
    "banker",
    "tool",
    "android",
    "exploit-kit",
    "mitre-malware",
    "mitre-tool",
];

/// What a set of tags says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TagInfo {
    /// The most restrictive `tlp:` tag.
    pub tlp: Option<Tlp>,
    /// The first tag value cordon can map to a category.
    pub label: Option<String>,
    /// The first malware galaxy cluster.
    pub malware: Option<String>,
}

impl TagInfo {
    /// Reads the tags and galaxy clusters of an event or attribute.
    pub fn of(object: &Object) -> TagInfo {
        let mut info = TagInfo::default();
        for name in tag_names(object) {
            info.learn(name);
        }
        info
    }

    /// Fills what this set lacks from `other` (the event's tags behind an
    /// attribute's, a manifest entry's behind an event file's).
    pub fn or(self, other: &TagInfo) -> TagInfo {
        TagInfo {
            tlp: self.tlp.or(other.tlp),
            label: self.label.or_else(|| other.label.clone()),
            malware: self.malware.or_else(|| other.malware.clone()),
        }
    }

    fn learn(&mut self, tag: &str) {
        let tag = tag.trim();
        let lower = tag.to_ascii_lowercase();
        if lower.starts_with("tlp:") {
            if let Ok(tlp) = tag.parse::<Tlp>() {
                self.tlp = self.tlp.max(Some(tlp));
            }
            return;
        }
        if let Some(galaxy_tag) = tag.get("misp-galaxy:".len()..).filter(|_| lower.starts_with("misp-galaxy:")) {
            let (galaxy, cluster) = galaxy_tag.split_once('=').unwrap_or((galaxy_tag, ""));
            if MALWARE_GALAXIES.contains(&galaxy.trim()) {
                let family = strip_mitre_id(cluster.trim().trim_matches('"').trim());
                if self.malware.is_none() && !family.is_empty() {
                    self.malware = Some(family.to_string());
                }
                self.consider(galaxy.trim());
            }
            return;
        }
        match tag.split_once('=') {
            Some((left, value)) => {
                self.consider(value.trim().trim_matches('"').trim());
                let predicate = left.rsplit(':').next().unwrap_or(left);
                self.consider(predicate.trim());
            }
            None => self.consider(tag.split_once(':').map_or(tag, |(_, value)| value).trim()),
        }
    }

    fn consider(&mut self, candidate: &str) {
        if self.label.is_none() && Category::from_label(Some(candidate), None).is_some() {
            self.label = Some(candidate.to_string());
        }
    }
}

/// The names of an object's `Tag[]` (objects with `name`, or plain strings)
/// and the `tag_name` of its galaxy clusters.
fn tag_names(object: &Object) -> impl Iterator<Item = &str> {
    let tags = object.get("Tag").and_then(Value::as_array).into_iter().flatten().filter_map(|tag| match tag {
        Value::String(name) => Some(name.as_str()),
        other => other.get("name").and_then(Value::as_str),
    });
    let clusters = object
        .get("Galaxy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|galaxy| galaxy.get("GalaxyCluster").and_then(Value::as_array))
        .flatten()
        .filter_map(|cluster| cluster.get("tag_name").and_then(Value::as_str));
    tags.chain(clusters)
}

/// `Emotet - S0367` (MITRE ATT&CK software id) → `Emotet`.
fn strip_mitre_id(cluster: &str) -> &str {
    match cluster.rsplit_once(" - ") {
        Some((name, id))
            if id.len() > 1 && id.starts_with(['S', 's']) && id[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            name.trim()
        }
        _ => cluster,
    }
}

/// The TLP that a MISP `distribution` level implies when no `tlp:` tag says
/// otherwise:
///
/// | distribution | meaning | TLP |
/// | --- | --- | --- |
/// | 0 | your organisation only | amber+strict |
/// | 1 | this community only | amber |
/// | 2 | connected communities | green |
/// | 3 | all communities | green |
/// | 4 | sharing group | amber |
/// | 5 | inherit (attributes, objects) | — |
///
/// "All communities" is not clear: it spreads the data across every
/// connected MISP instance, which is still a community of peers, and nothing
/// in it allows publication. Only an explicit `tlp:clear`/`tlp:white` makes an
/// indicator clear. A sharing group is a list of named organisations, read as
/// amber (their organisations, need to know) rather than red (named persons).
pub(super) fn distribution_tlp(level: u8) -> Option<Tlp> {
    match level {
        0 => Some(Tlp::AmberStrict),
        1 | 4 => Some(Tlp::Amber),
        2 | 3 => Some(Tlp::Green),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(value: Value) -> TagInfo {
        match value {
            Value::Object(object) => TagInfo::of(&object),
            _ => TagInfo::default(),
        }
    }

    #[test]
    fn tlp_label_and_malware() {
        let got = info(json!({"Tag": [
            {"name": "workflow:state=\"complete\""},
            {"name": "tlp:green"},
            {"name": "TLP:AMBER+STRICT"},
            {"name": "tlp:ex:chr"},
            {"name": "misp-galaxy:threat-actor=\"Wizard Spider\""},
            {"name": "misp-galaxy:ransomware=\"LockBit\""},
            {"name": "kill-chain:Command and Control"}
        ]}));
        assert_eq!(
            got,
            TagInfo { tlp: Some(Tlp::AmberStrict), label: Some("ransomware".into()), malware: Some("LockBit".into()) }
        );
        let got = info(json!({"Tag": ["tlp:white", "kill-chain:Command and Control"]}));
        assert_eq!(got, TagInfo { tlp: Some(Tlp::Clear), label: Some("Command and Control".into()), malware: None });
        let got = info(json!({"Tag": [{"name": "malware_classification:malware-category=\"Ransomware\""}]}));
        assert_eq!(got.label.as_deref(), Some("Ransomware"));
        let got = info(json!({"Tag": [{"name": "ecsirt:fraud=\"masquerade\""}]}));
        assert_eq!(got.label.as_deref(), Some("fraud"));
        let got = info(json!({"Galaxy": [{"type": "mitre-malware", "GalaxyCluster": [
            {"value": "Emotet - S0367", "tag_name": "misp-galaxy:mitre-malware=\"Emotet - S0367\""}]}]}));
        assert_eq!(got.malware.as_deref(), Some("Emotet"));
    }

    #[test]
    fn attribute_tags_before_event_tags() {
        let attribute = TagInfo { tlp: Some(Tlp::Red), label: None, malware: None };
        let event = TagInfo { tlp: Some(Tlp::Green), label: Some("phishing".into()), malware: None };
        assert_eq!(
            attribute.or(&event),
            TagInfo { tlp: Some(Tlp::Red), label: Some("phishing".into()), malware: None }
        );
    }
}
