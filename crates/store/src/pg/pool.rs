//! [`PgStore`]'s trait implementations: each call takes a connection of
//! the pool and hands the call to the connection's own implementation
//! ([`Conn`]); calls nested in [`crate::ops::OpsStore::atomically`] stay on
//! its connection, inside its transaction.

use super::PgStore;
#[allow(unused_imports)] // the traits whose methods the forwarded calls name
use crate::{
    audit::AuditStore, auth::AuthStore, auth::SessionStore, collections::CollectionStore, deliveries::DeliveryStore,
    enrichment::EnrichmentStore, feeds::FeedStore, jobs::JobStore, ops::OpsStore, orgs::OrgStore, Store,
};

/// One call on a connection of the pool: the replica's for the read-only
/// queries of listing, lookups and exports (see
/// [`PgStore::open_with_reads`]), the primary's for everything else.
macro_rules! on_a_connection {
    ($store:ident, indicators($($arg:expr),*)) => {
        $store.reading().with(|c| c.indicators($($arg),*))
    };
    ($store:ident, indicator($($arg:expr),*)) => {
        $store.reading().with(|c| c.indicator($($arg),*))
    };
    ($store:ident, sources($($arg:expr),*)) => {
        $store.reading().with(|c| c.sources($($arg),*))
    };
    ($store:ident, $method:ident($($arg:expr),*)) => {
        $store.with(|c| c.$method($($arg),*))
    };
}

forward_stores!(PgStore, on_a_connection);

/// Compiles only while the store can be shared by threads.
const _: fn() = shared::<PgStore>;

fn shared<T: Send + Sync>() {}
