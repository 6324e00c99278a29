//! What a collection holds for one viewer, in TAXII order: every version
//! of every object, with its id, the date it was added (its version: a
//! version is added when it comes to be) and what it is built from,
//! sorted by (date added, id).
//!
//! The objects of an indicator (all built from the sightings the viewer
//! may see that the collection selects; [`CollectionObject`]):
//! * its `indicator`, a version at each date one of those sightings was
//!   stored or last written, built from those stored by then;
//! * its Cyber-observable (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url`),
//!   which has no versions in STIX: one entry, at the indicator's latest
//!   version, marked as that version;
//! * a `based-on` relationship from the indicator to the observable, and
//!   an `indicates` relationship to the `malware` of each family its
//!   sightings name, whose versions are the dates their marking changes
//!   (the most restrictive TLP among the sightings they are built from).
//!
//! Besides, one `malware` (`is_family`) per family the viewer's sightings
//! name, across indicators, marked and versioned the same way; cordon's
//! `identity` (every object's `created_by_ref`) and the TLP 2.0
//! `marking-definition` of every TLP among the objects, each added when
//! the first object referring to it was. Ids are UUIDv5 of the content
//! that identifies the object, so they are the same for every viewer and
//! every store generation.
//!
//! Kept for the latest few (viewer, collection, store generation) triples,
//! so that following `next` through a large collection reads the store
//! once for the order and then only the objects of each page: the last
//! page costs what the first costs. A cursor is a keyset position, not an
//! index into a view, so a view made anew (the store changed) continues
//! every cursor where it stopped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cordon_app::{App, AppError};
use cordon_model::{Tlp, Viewer};
use cordon_store::collections::{marking_versions, Collection, CollectionObject};
use cordon_taxii::{Micros, StixId};

use super::handlers::PRODUCER;

/// One version of an object of a view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// When this version was added.
    pub(crate) date_added: Micros,
    /// Its STIX id.
    pub(crate) id: StixId,
    /// Its version (`modified`; the date added for an observable).
    pub(crate) version: Micros,
    /// Whether it is the object's first version.
    pub(crate) first: bool,
    /// Whether it is the object's latest version.
    pub(crate) last: bool,
    /// What it is built from.
    pub(crate) source: Source,
}

/// What an object of a view is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The indicator of this id (built when a page shows it).
    Indicator(i64),
    /// That indicator's Cyber-observable.
    Observable(i64),
    /// The `based-on` relationship from that indicator to its observable.
    BasedOn(i64),
    /// The `indicates` relationship from that indicator to the malware
    /// family named.
    Indicates(i64, Arc<str>),
    /// A fixed object (the identity, a marking definition, a malware
    /// family's version).
    Fixed(Arc<serde_json::Value>),
}

impl Source {
    /// The indicator it is built from, if one.
    pub(crate) fn indicator(&self) -> Option<i64> {
        match self {
            Source::Indicator(id) | Source::Observable(id) | Source::BasedOn(id) | Source::Indicates(id, _) => {
                Some(*id)
            }
            Source::Fixed(_) => None,
        }
    }
}

/// The marking of the version of date `at` among `versions` (dates with
/// the marking from then on, ascending).
fn marking_at(versions: &[(i64, Tlp)], at: i64) -> Option<Tlp> {
    versions.iter().take_while(|(date, _)| *date <= at).last().map(|(_, tlp)| *tlp)
}

/// The entries of a view being built, and the first date each marking is
/// referred to.
#[derive(Default)]
struct Builder {
    entries: Vec<Entry>,
    markings: BTreeMap<Tlp, Micros>,
}

impl Builder {
    /// The versions of object `id`, at the dates given, each marked
    /// (none for an id of a type no collection holds, which cordon never
    /// makes: a unit test checks every kind).
    fn versions(&mut self, id: &str, versions: &[(i64, Tlp)], source: impl Fn(usize) -> Source) {
        let Some(id) = StixId::parse(id) else {
            tracing::warn!(id, "a TAXII view left out an object of an id it cannot hold");
            return;
        };
        for (at, (date, tlp)) in versions.iter().enumerate() {
            let date = Micros(*date);
            let earliest = self.markings.entry(*tlp).or_insert(date);
            *earliest = (*earliest).min(date);
            self.entries.push(Entry {
                date_added: date,
                id,
                version: date,
                first: at == 0,
                last: at + 1 == versions.len(),
                source: source(at),
            });
        }
    }

    /// The objects of indicator `object`; the dates and TLPs of its
    /// sightings of each family go to `families`.
    fn indicator(&mut self, object: &CollectionObject, families: &mut BTreeMap<String, Vec<(i64, Tlp)>>) {
        let current = cordon_app::exports::entry(object.summary.clone(), false);
        let Some(observable) = cordon_export::observable_id(&current) else { return };
        let indicator = cordon_export::indicator_id(&current.value);
        let id = object.indicator_id;
        let markings = object.marking_versions(None);
        let versions: Vec<(i64, Tlp)> =
            object.versions().into_iter().filter_map(|at| Some((at, marking_at(&markings, at)?))).collect();
        self.versions(&indicator, &versions, |_| Source::Indicator(id));
        self.versions(&observable, &[(object.modified_us, current.tlp)], |_| Source::Observable(id));
        let based_on = cordon_export::relationship_id("based-on", &indicator, &observable);
        self.versions(&based_on, &markings, |_| Source::BasedOn(id));
        for family in object.families() {
            let malware = cordon_export::malware_id(family);
            let indicates = cordon_export::relationship_id("indicates", &indicator, &malware);
            let name: Arc<str> = Arc::from(family);
            self.versions(&indicates, &object.marking_versions(Some(family)), |_| Source::Indicates(id, name.clone()));
            let of_family = object.sightings.iter().filter(|s| s.malware.as_deref() == Some(family));
            families.entry(family.to_string()).or_default().extend(of_family.map(|s| (s.created_us, s.tlp)));
        }
    }

    /// The versions of the malware family `name` built from sightings
    /// entering at these dates with these TLPs.
    fn malware(&mut self, name: &str, sightings: Vec<(i64, Tlp)>) {
        let versions = marking_versions(sightings);
        let Some((created, _)) = versions.first() else { return };
        let created = Micros(*created).to_string();
        let objects: Vec<Arc<serde_json::Value>> = versions
            .iter()
            .map(|(date, tlp)| {
                let modified = Micros(*date).to_string();
                Arc::new(cordon_export::malware_object(name, PRODUCER, *tlp, &created, &modified))
            })
            .collect();
        self.versions(&cordon_export::malware_id(name), &versions, |at| Source::Fixed(objects[at].clone()));
    }

    /// The identity and the marking definitions, then the entries sorted.
    fn finish(mut self) -> Vec<Entry> {
        if let Some(any) = self.markings.values().min().copied() {
            let markings = std::mem::take(&mut self.markings);
            let markings =
                markings.into_iter().map(|(tlp, date)| (cordon_export::marking_definition_object(tlp), date));
            for (object, date) in markings.chain([(cordon_export::identity_object(PRODUCER), any)]) {
                // A fixed object's version is its own `modified` or `created`.
                let stated = object.get("modified").or_else(|| object.get("created")).and_then(|v| v.as_str());
                let version = stated.and_then(|v| v.parse().ok()).unwrap_or(date);
                let Some(id) = object["id"].as_str().and_then(StixId::parse) else { continue };
                let source = Source::Fixed(Arc::new(object));
                self.entries.push(Entry { date_added: date, id, version, first: true, last: true, source });
            }
        }
        self.entries.sort_unstable_by_key(|e| (e.date_added, e.id));
        self.entries.shrink_to_fit();
        self.entries
    }
}

/// A collection's objects for one viewer, sorted by (date added, id).
pub(crate) struct View {
    pub(crate) entries: Vec<Entry>,
}

/// Which view: the viewer, the collection (its TAXII id: a collection
/// removed and added again is another) and the store's identity and
/// generation.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    viewer: Viewer,
    collection: String,
    store: (i64, i64),
}

/// The views kept, newest first.
#[derive(Default)]
pub(crate) struct Views {
    kept: Mutex<Vec<(Key, Arc<View>)>>,
}

/// How many views are kept (an entry is 72 bytes, its id a [`StixId`];
/// bench/taxii measured ~155 bytes an entry resident, with what the build
/// freed, against ~285 with a `String` id; an indicator of sightings naming
/// no family is three entries: about 90 MB for 200,000).
const KEPT: usize = 8;

impl Views {
    /// The view of `collection` for `viewer` as the store is now.
    pub(crate) fn get(&self, app: &App, viewer: Viewer, collection: &Collection) -> Result<Arc<View>, AppError> {
        let key = Key { viewer, collection: collection.uuid.clone(), store: (app.identity()?, app.generation()?) };
        {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, view)) = kept.iter().find(|(k, _)| *k == key) {
                return Ok(view.clone());
            }
        }
        let mut builder = Builder::default();
        let mut families = BTreeMap::new();
        app.collection_objects(&viewer, collection, None, &mut |object| builder.indicator(&object, &mut families))?;
        for (name, sightings) in families {
            builder.malware(&name, sightings);
        }
        let entries = builder.finish();
        let view = Arc::new(View { entries });
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(k, _)| *k != key && !(k.viewer == key.viewer && k.collection == key.collection));
        kept.insert(0, (key, view.clone()));
        kept.truncate(KEPT);
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id a view is made of fits a compact id: an id that did not
    /// would leave its object out of every collection.
    #[test]
    fn every_kind_of_id_cordon_makes_fits_a_view() {
        let indicator = cordon_export::indicator_id("192.0.2.1");
        let malware = cordon_export::malware_id("emotet");
        let mut ids = vec![
            cordon_export::relationship_id("indicates", &indicator, &malware),
            indicator,
            malware,
            cordon_export::identity_object(PRODUCER)["id"].as_str().unwrap_or_default().to_string(),
        ];
        ids.extend(
            Tlp::ALL.map(|tlp| {
                cordon_export::marking_definition_object(tlp)["id"].as_str().unwrap_or_default().to_string()
            }),
        );
        for id in ids {
            assert_eq!(StixId::parse(&id).map(|i| i.to_string()), Some(id.clone()), "{id}");
        }
        assert!(std::mem::size_of::<Entry>() <= 72, "{} bytes an entry", std::mem::size_of::<Entry>());
    }
}
