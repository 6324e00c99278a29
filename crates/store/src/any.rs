//! [`AnyStore`]: the backend a location names, behind one type that
//! implements every store trait, so that the application layer and every
//! command run on either.

use std::path::Path;

use crate::{PgStore, SqliteStore, StoreError};

/// The store of a location: an SQLite file, or a PostgreSQL database.
pub enum AnyStore {
    /// The embedded store.
    Sqlite(SqliteStore),
    /// The PostgreSQL store.
    Postgres(PgStore),
}

/// Whether `location` names a PostgreSQL database (`postgres://…` or
/// `postgresql://…`) rather than an SQLite file.
pub fn is_postgres_url(location: &Path) -> bool {
    location.to_str().is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

impl AnyStore {
    /// Opens (creating if needed, and migrating) the store at `location`: a
    /// PostgreSQL URL ([`is_postgres_url`]) or the path of an SQLite file.
    pub fn open(location: &Path) -> Result<AnyStore, StoreError> {
        match location.to_str() {
            Some(url) if is_postgres_url(location) => Ok(AnyStore::Postgres(PgStore::open(url)?)),
            _ => Ok(AnyStore::Sqlite(SqliteStore::open(location)?)),
        }
    }

    /// Like [`AnyStore::open`], sending the read-only queries (listing,
    /// lookups and exports: [`crate::Store::indicators`],
    /// [`crate::Store::indicator`], [`crate::Store::sources`]) to `reads`
    /// when given, a streaming replica of the PostgreSQL database at
    /// `location` (see [`PgStore::open_with_reads`]). An SQLite `location`
    /// takes no `reads`.
    pub fn open_with_reads(location: &Path, reads: Option<&Path>) -> Result<AnyStore, StoreError> {
        let Some(reads) = reads else { return AnyStore::open(location) };
        match (location.to_str(), reads.to_str()) {
            (Some(url), Some(reads)) if is_postgres_url(location) && is_postgres_url(Path::new(reads)) => {
                Ok(AnyStore::Postgres(PgStore::open_with_reads(url, reads)?))
            }
            _ => Err(StoreError::Database(
                "a read replica needs a PostgreSQL store and a postgres:// URL for the replica".into(),
            )),
        }
    }

    /// Watches the generation as [`PgStore::watch_generation`] does and
    /// returns true when it stops; false at once on SQLite, whose writers
    /// notify no one (readers poll [`crate::Store::generation`]).
    pub fn watch_generation(&self, on_change: &mut dyn FnMut(Option<i64>) -> bool) -> Result<bool, StoreError> {
        match self {
            AnyStore::Sqlite(_) => Ok(false),
            AnyStore::Postgres(p) => p.watch_generation(on_change).map(|()| true),
        }
    }

    /// The store's identity (see [`SqliteStore::identity`]).
    pub fn identity(&self) -> Result<i64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.identity(),
            AnyStore::Postgres(p) => p.identity(),
        }
    }
}

/// One call on the backend held.
macro_rules! on_the_backend {
    ($store:ident, $method:ident($($arg:expr),*)) => {
        match $store {
            AnyStore::Sqlite(s) => s.$method($($arg),*),
            AnyStore::Postgres(p) => p.$method($($arg),*),
        }
    };
}

#[allow(unused_imports)] // the traits whose methods the forwarded calls name
use crate::{
    audit::AuditStore, auth::AuthStore, auth::SessionStore, collections::CollectionStore, deliveries::DeliveryStore,
    enrichment::EnrichmentStore, feeds::FeedStore, jobs::JobStore, ops::OpsStore, orgs::OrgStore, Store,
};

forward_stores!(AnyStore, on_the_backend);
