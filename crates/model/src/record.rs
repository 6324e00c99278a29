//! What parsers produce and what the store keeps.

use crate::{Category, Observable, Timestamp, Tlp};

/// What a source says about an observable, besides the observable itself.
/// Every field is optional: the import fills gaps from its defaults
/// (`--category`, `--tlp`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// cordon's category, when the parser could map the source's label.
    pub category: Option<Category>,
    /// The source's own label (threat type, classification, tag).
    pub label: Option<String>,
    /// The malware family the source names.
    pub malware: Option<String>,
    /// When the source first saw it.
    pub first_seen: Option<Timestamp>,
    /// When the source last saw it.
    pub last_seen: Option<Timestamp>,
    /// The source's confidence, 0–100.
    pub confidence: Option<u8>,
    /// The sharing level the source put on it.
    pub tlp: Option<Tlp>,
    /// The port the source saw the service on.
    pub port: Option<u16>,
}

/// One observable read from one place of a feed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based line (or, for JSON documents, the 1-based index of the
    /// object within its file) the record was read from.
    pub line: u64,
    /// The observable, in canonical form.
    pub observable: Observable,
    /// Observables the feed states are tied to this one: the hosting IP of a
    /// phishing URL (PhishTank `details[].ip_address`), the IP of a URLhaus
    /// row, MISP `domain|ip`, STIX `resolves_to_refs`. A URL's own host need
    /// not be listed: [`Record::sightings`] adds it.
    pub links: Vec<Observable>,
    /// What the source says about it.
    pub attributes: Attributes,
}

/// One source's report of one observable, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    /// The observable.
    pub observable: Observable,
    /// For a derived sighting, the observable it was derived from (the URL
    /// whose host it is, or the record that linked it).
    pub derived_from: Option<Observable>,
    /// What the source says about it.
    pub attributes: Attributes,
    /// Where in the file it was read.
    pub line: u64,
}

impl Record {
    /// A record of `observable` at `line` with no attributes or links.
    pub fn new(line: u64, observable: Observable) -> Record {
        Record { line, observable, links: Vec::new(), attributes: Attributes::default() }
    }

    /// The sightings this record stands for: the observable itself, then one
    /// derived sighting for each distinct linked observable (the URL's host
    /// first), carrying the same attributes.
    pub fn sightings(&self) -> Vec<Sighting> {
        self.clone().into_sightings().collect()
    }

    /// [`Record::sightings`], consuming the record: the first sighting takes
    /// its observable and attributes instead of copies, and a record with
    /// nothing derived allocates nothing.
    pub fn into_sightings(self) -> impl Iterator<Item = Sighting> {
        let Record { line, observable, links, attributes } = self;
        let mut derived: Vec<Sighting> = Vec::new();
        for obs in observable.url_host().into_iter().chain(links) {
            if obs != observable && !derived.iter().any(|s| s.observable == obs) {
                derived.push(Sighting {
                    observable: obs,
                    derived_from: Some(observable.clone()),
                    attributes: attributes.clone(),
                    line,
                });
            }
        }
        std::iter::once(Sighting { observable, derived_from: None, attributes, line }).chain(derived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize;

    fn obs(raw: &str) -> Observable {
        normalize(raw).unwrap().observables.remove(0)
    }

    #[test]
    fn url_yields_its_host_and_links_once() {
        let mut rec = Record::new(3, obs("http://evil.example.net/x"));
        rec.links = vec![obs("80.94.95.112"), obs("evil.example.net"), obs("80.94.95.112")];
        let got: Vec<(String, Option<String>)> = rec
            .sightings()
            .into_iter()
            .map(|s| (s.observable.to_string(), s.derived_from.map(|d| d.to_string())))
            .collect();
        let url = Some("http://evil.example.net/x".to_string());
        assert_eq!(
            got,
            [
                ("http://evil.example.net/x".to_string(), None),
                ("evil.example.net".to_string(), url.clone()),
                ("80.94.95.112".to_string(), url),
            ]
        );
    }
}
