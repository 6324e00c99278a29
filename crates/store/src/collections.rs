//! TAXII collections: views of the indicators that the hub defines (which
//! categories, kinds, confidence, TLP ceiling, operation), who may read
//! and write each, and what a view holds for a reader: one
//! [`CollectionObject`] per indicator, built only from the sightings the
//! reader may see that the view selects.

use cordon_model::{Category, Kind, Tlp, Viewer};

use crate::StoreError;

/// An organisation named by a collection (a reader or a writer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// Who may read a collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Every organisation of the community (and the hub).
    Community,
    /// These organisations (and the hub).
    Orgs(Vec<Member>),
    /// Anyone, who reads only TLP:CLEAR, as the public would.
    PublicClear,
}

/// What a collection selects, and who reads and writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionSpec {
    /// Its unique name (`cordon collection add NAME`), also its TAXII alias.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// Only sightings of these categories (empty: any).
    pub categories: Vec<Category>,
    /// Only indicators of these kinds (empty: any).
    pub kinds: Vec<Kind>,
    /// Only indicators whose combined confidence (over the sightings
    /// selected) is at least this.
    pub min_confidence: Option<u8>,
    /// Only sightings up to this TLP.
    pub tlp_max: Tlp,
    /// Only sightings from imports attached to this operation.
    pub operation: Option<String>,
    /// Who reads it.
    pub readers: Readers,
    /// The organisations that may add objects to it (and delete their own).
    pub writers: Vec<Member>,
}

/// A stored collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// Its id in the store.
    pub id: i64,
    /// Its TAXII id (a UUID).
    pub uuid: String,
    /// When it was created.
    pub created: i64,
    /// What it is.
    pub spec: CollectionSpec,
}

/// One indicator as a collection holds it for one reader: its summary
/// built from the sightings the reader may see that the collection
/// selects (so as sensitive as the most sensitive of them), and when they
/// were stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionObject {
    /// The indicator's id in the store.
    pub indicator_id: i64,
    /// What those sightings say (no enrichment, no flags).
    pub summary: crate::IndicatorSummary,
    /// When the first of those sightings was stored (microseconds).
    pub created_us: i64,
    /// When the latest of them was last written (microseconds): the
    /// object's version and the date it was added in that version.
    pub modified_us: i64,
}

/// Storage of collections, what they hold, and the status of objects
/// posted to them.
pub trait CollectionStore {
    /// Adds a collection; [`StoreError::Conflict`] when the name is taken
    /// or a named operation does not exist.
    fn add_collection(&self, spec: &CollectionSpec) -> Result<Collection, StoreError>;

    /// Every collection, by name.
    fn collections(&self) -> Result<Vec<Collection>, StoreError>;

    /// Removes the collection `name` (and its statuses); false when there is
    /// none.
    fn remove_collection(&self, name: &str) -> Result<bool, StoreError>;

    /// Streams what `collection` holds for `viewer`, by indicator id; only
    /// the indicators of `only` when given.
    fn collection_objects(
        &self,
        collection: &Collection,
        viewer: &Viewer,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), StoreError>;

    /// Deletes the sightings of indicator `indicator_id` that `collection`
    /// selects and that organisation `org_id` submitted (every such
    /// sighting when `org_id` is `None`: the hub); returns how many.
    fn delete_collection_sightings(
        &self,
        collection: &Collection,
        indicator_id: i64,
        org_id: Option<i64>,
    ) -> Result<u64, StoreError>;

    /// Keeps the status `body` of a POST (opaque to the store) under `id`,
    /// for organisation `org_id`.
    fn put_status(&self, id: &str, collection: &Collection, org_id: i64, body: &str) -> Result<(), StoreError>;

    /// The status `id` of organisation `org_id`'s POST to `collection`.
    fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, StoreError>;
}
