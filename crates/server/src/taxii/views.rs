//! What a collection holds for one viewer, in TAXII order: every object's
//! id, the date its current version was added and what it is built from,
//! sorted by (date added, id). Besides one indicator per indicator, a
//! collection holds the objects they refer to: cordon's `identity` (their
//! `created_by_ref`) and the TLP 2.0 `marking-definition` of every TLP
//! among them, each added when the first object referring to it was. Kept for the latest few (viewer, collection, store
//! generation) triples, so that following `next` through a large
//! collection reads the store once for the order and then only the
//! objects of each page: the last page costs what the first costs.
//!
//! A cursor is a keyset position, not an index into a view, so a view made
//! anew (the store changed) continues every cursor where it stopped.

use std::sync::{Arc, Mutex};

use cordon_app::{App, AppError};
use cordon_model::Viewer;
use cordon_store::collections::Collection;
use cordon_taxii::Micros;

/// One object of a view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// When its current version was added.
    pub(crate) date_added: Micros,
    /// Its STIX id.
    pub(crate) id: String,
    /// Its version (`modified`, or `created` for an object without one).
    pub(crate) version: Micros,
    /// What it is built from.
    pub(crate) source: Source,
}

/// What an object of a view is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The indicator of this id (built when a page shows it).
    Indicator(i64),
    /// A fixed object (the identity, a marking definition).
    Fixed(Arc<serde_json::Value>),
}

/// A fixed object added at `date_added`.
fn fixed(object: serde_json::Value, date_added: Micros) -> Option<Entry> {
    let id = object["id"].as_str()?.to_string();
    let version = object.get("modified").or_else(|| object.get("created"))?.as_str()?.parse().ok()?;
    Some(Entry { date_added, id, version, source: Source::Fixed(Arc::new(object)) })
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

/// How many views are kept (each costs about 110 bytes an object: 22 MB
/// for a collection of 200,000).
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
        let mut entries = Vec::new();
        // The first date of each TLP among the objects, and of any.
        let mut first: std::collections::BTreeMap<cordon_model::Tlp, Micros> = Default::default();
        app.collection_objects(&viewer, collection, None, &mut |object| {
            let date = Micros(object.modified_us);
            let earliest = first.entry(object.summary.tlp).or_insert(date);
            *earliest = (*earliest).min(date);
            entries.push(Entry {
                date_added: date,
                id: cordon_export::indicator_id(&object.summary.value),
                version: date,
                source: Source::Indicator(object.indicator_id),
            });
        })?;
        let any = first.values().min().copied();
        let markings = first.iter().map(|(tlp, date)| (cordon_export::marking_definition_object(*tlp), *date));
        let identity = any.map(|date| (cordon_export::identity_object(super::handlers::PRODUCER), date));
        entries.extend(markings.chain(identity).filter_map(|(object, date)| fixed(object, date)));
        entries.sort_by(|a, b| (a.date_added, &a.id).cmp(&(b.date_added, &b.id)));
        let view = Arc::new(View { entries });
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(k, _)| *k != key && !(k.viewer == key.viewer && k.collection == key.collection));
        kept.insert(0, (key, view.clone()));
        kept.truncate(KEPT);
        Ok(view)
    }
}
