//! The indicator store: what cordon knows, behind the backend-neutral
//! [`Store`] trait.
//!
//! The trait speaks only [`cordon_model`] types and the plain structs of this
//! crate; no SQLite or PostgreSQL type crosses it.
//! [`SqliteStore`] is the embedded backend (WAL mode, versioned migrations);
//! [`PgStore`] the PostgreSQL one, for hubs that run several servers over
//! one database.
//!
//! An import is one transaction: [`Store::import`] opens it, hands the
//! caller an [`ImportSink`] to add sightings to, and commits only when the
//! caller's closure returns `Ok`. An error, a panic or a killed process leaves
//! the store as it was.
//!
//! ```
//! use cordon_model::{normalize, Attributes, Sighting};
//! use cordon_store::orgs::OrgStore;
//! use cordon_store::{ImportCounts, ImportMeta, IndicatorFilter, SqliteStore, Store};
//!
//! let store = SqliteStore::open_in_memory()?;
//! let meta = ImportMeta::new("partner-a", "feed.txt", "00", "plain");
//! store.import(&meta, &mut |sink| {
//!     let observable = normalize("80.94.95.112").unwrap().observables.remove(0);
//!     sink.add(&Sighting { observable, derived_from: None, attributes: Attributes::default(), line: 1 })?;
//!     let stored = sink.flush()?;
//!     assert_eq!(stored.new, 1);
//!     Ok(ImportCounts { read: 1, accepted: 1, new: stored.new, ..ImportCounts::default() })
//! })?;
//! let mut values = Vec::new();
//! let hub = store.hub()?.viewer();
//! store.indicators(&IndicatorFilter::new(hub), &mut |i| values.push(i.value))?;
//! assert_eq!(values, ["80.94.95.112"]);
//! # Ok::<(), cordon_store::StoreError>(())
//! ```
#![deny(missing_docs)]

#[macro_use]
mod forward;

mod any;
pub mod audit;
pub mod auth;
pub mod collections;
pub mod deliveries;
pub mod enrichment;
pub mod feeds;
pub mod jobs;
pub mod ops;
pub mod orgs;
mod pg;
mod shared;
mod sqlite;
mod types;

pub use any::{is_postgres_url, AnyStore};
pub use pg::PgStore;
pub use sqlite::SqliteStore;
pub use types::{
    ImportCounts, ImportMeta, ImportRecord, IndicatorDetail, IndicatorFilter, IndicatorSummary, SightingRow,
    SourceSummary, Stored,
};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The database was written by a newer cordon.
    #[error("the database has schema version {found}, newer than this cordon supports ({supported})")]
    TooNew {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The caller aborted the import; nothing was stored.
    #[error("{0}")]
    Aborted(String),
    /// What was asked clashes with what is stored (a name taken, a state
    /// moved on meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// Another writer holds the store and did not let go in time.
    #[error("the store is busy: another process is writing to it (an import?); try again when it is done")]
    Busy,
}

/// Adds sightings inside an open import.
///
/// A backend may queue sightings and write them in batches, in any order
/// that keeps the adds of one sighting in the order they were made; what
/// was added is in the store when the import commits. [`ImportSink::flush`]
/// writes the queue and says how many adds were new.
pub trait ImportSink {
    /// Adds one sighting (creating its indicator if needed): a new sighting,
    /// or a refresh of one the store has (last seen, confidence, TLP, label).
    fn add(&mut self, sighting: &cordon_model::Sighting) -> Result<(), StoreError>;

    /// Writes every queued sighting and returns the counts of all adds so
    /// far in this import.
    fn flush(&mut self) -> Result<Stored, StoreError>;
}

/// The operations every storage backend provides.
///
/// Every method takes `&self`: a backend is shared by threads (the server's
/// requests), so it serialises writers and lets readers run beside them
/// itself. Backends are `Send + Sync` (`SqliteStore` is; the server holds
/// an `Arc<dyn Store + Send + Sync>`-like handle).
pub trait Store {
    /// Runs one import, all or nothing: `feed` adds sightings to the sink
    /// and returns the counts to record; the import completes when `feed`
    /// returns `Ok` and leaves no trace otherwise, even when its process
    /// dies. Returns the import's id.
    ///
    /// A backend need not hold other writers off for the whole import: the
    /// SQLite backend commits each batch (a [`ImportSink::flush`] ends one)
    /// and undoes the batches of an import that does not complete, so an
    /// analyst's write waits for a batch, not for the import. Readers may
    /// see a running import's sightings; [`Store::generation`] changes when
    /// it completes or is undone.
    fn import(
        &self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError>;

    /// Streams the indicators matching `filter`, ordered by value.
    fn indicators(&self, filter: &IndicatorFilter, each: &mut dyn FnMut(IndicatorSummary)) -> Result<(), StoreError>;

    /// One indicator with every sighting the filter's viewer may see (up to
    /// `filter.max_tlp`) and the observables linked to it by such
    /// sightings, or `None` when none is visible.
    fn indicator(&self, value: &str, filter: &IndicatorFilter) -> Result<Option<IndicatorDetail>, StoreError>;

    /// The sources with a sighting `viewer` may see (and the viewer's own),
    /// with counts of what it may see.
    fn sources(&self, viewer: &cordon_model::Viewer) -> Result<Vec<SourceSummary>, StoreError>;

    /// The imports `viewer` made (every import for the hub), oldest first.
    fn imports(&self, viewer: &cordon_model::Viewer) -> Result<Vec<ImportRecord>, StoreError>;

    /// A number that changes whenever the indicators change (for caches).
    fn generation(&self) -> Result<i64, StoreError>;
}
