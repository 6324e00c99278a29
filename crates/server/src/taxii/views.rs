//! What a collection holds for one viewer, in TAXII order: every object's
//! id, the date its current version was added and its indicator, sorted by
//! (date added, id). Kept for the latest few (viewer, collection, store
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
    /// When its current version was added (also that version: `modified`).
    pub(crate) date_added: Micros,
    /// Its STIX id.
    pub(crate) id: String,
    /// The indicator it is built from.
    pub(crate) indicator_id: i64,
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

/// How many views are kept (each costs ~80 bytes an object).
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
        app.collection_objects(&viewer, collection, None, &mut |object| {
            entries.push(Entry {
                date_added: Micros(object.modified_us),
                id: cordon_export::indicator_id(&object.summary.value),
                indicator_id: object.indicator_id,
            });
        })?;
        entries.sort_by(|a, b| (a.date_added, &a.id).cmp(&(b.date_added, &b.id)));
        let view = Arc::new(View { entries });
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(k, _)| *k != key && !(k.viewer == key.viewer && k.collection == key.collection));
        kept.insert(0, (key, view.clone()));
        kept.truncate(KEPT);
        Ok(view)
    }
}
