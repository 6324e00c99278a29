//! The conformance suite of the store traits: every backend runs these
//! tests unchanged. A driver (`tests/sqlite.rs`) implements [`Backend`] for
//! its store and expands [`suite!`]; a PostgreSQL driver does the same.
#![allow(dead_code)] // each driver uses all of it; rustc sees one at a time

pub mod auth;
pub mod batches;
pub mod collections;
pub mod deliveries;
pub mod feeds;
pub mod jobs;
pub mod ops;
pub mod reads;
pub mod visibility;

use std::ops::{Deref, DerefMut};
use std::path::Path;

use cordon_model::Viewer;
use cordon_store::auth::{AuthStore, SessionStore};
use cordon_store::collections::CollectionStore;
use cordon_store::deliveries::DeliveryStore;
use cordon_store::enrichment::EnrichmentStore;
use cordon_store::feeds::FeedStore;
use cordon_store::jobs::JobStore;
use cordon_store::ops::OpsStore;
use cordon_store::orgs::OrgStore;
use cordon_store::{IndicatorFilter, Store};

/// A backend under test.
pub trait Backend:
    Store
    + OrgStore
    + EnrichmentStore
    + OpsStore
    + AuthStore
    + SessionStore
    + DeliveryStore
    + FeedStore
    + JobStore
    + CollectionStore
    + Sized
    + 'static
{
    /// Opens (creating) the store that lives at `dir`; opening the same
    /// `dir` again reaches the same data.
    fn open(dir: &Path) -> Self;
}

/// A fresh store and the directory that holds it.
pub struct Fresh<B> {
    store: B,
    dir: tempfile::TempDir,
}

impl<B: Backend> Fresh<B> {
    /// Another handle on the same store (another connection).
    pub fn reopen(&self) -> B {
        B::open(self.dir.path())
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl<B> Deref for Fresh<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.store
    }
}

impl<B> DerefMut for Fresh<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.store
    }
}

/// A new, empty store.
pub fn fresh<B: Backend>() -> Fresh<B> {
    let dir = tempfile::tempdir().unwrap();
    Fresh { store: B::open(dir.path()), dir }
}

/// The hub, which sees everything submitted to it.
pub fn hub(store: &impl OrgStore) -> Viewer {
    store.hub().unwrap().viewer()
}

/// Everything, as the hub sees it.
pub fn everything(store: &impl OrgStore) -> IndicatorFilter {
    IndicatorFilter::new(hub(store))
}

/// Expands into one `#[test]` per conformance test for `$backend`.
#[macro_export]
macro_rules! suite {
    ($backend:ty) => {
        #[test]
        fn reimport_is_idempotent_and_other_sources_add_sightings() {
            conformance::reads::reimport_is_idempotent_and_other_sources_add_sightings::<$backend>()
        }
        #[test]
        fn created_indicators_are_those_an_import_added_a_sighting_to() {
            conformance::reads::created_indicators_are_those_an_import_added_a_sighting_to::<$backend>()
        }
        #[test]
        fn url_and_host_find_each_other() {
            conformance::reads::url_and_host_find_each_other::<$backend>()
        }
        #[test]
        fn tlp_hides_sightings_and_indicators() {
            conformance::reads::tlp_hides_sightings_and_indicators::<$backend>()
        }
        #[test]
        fn failed_import_leaves_store_unchanged() {
            conformance::reads::failed_import_leaves_store_unchanged::<$backend>()
        }
        #[test]
        fn writers_get_in_between_batches() {
            conformance::batches::writers_get_in_between_batches::<$backend>()
        }
        #[test]
        fn a_failed_import_is_undone_after_its_batches() {
            conformance::batches::a_failed_import_is_undone_after_its_batches::<$backend>()
        }
        #[test]
        fn threads_share_a_store() {
            conformance::reads::threads_share_a_store::<$backend>()
        }
        #[test]
        fn users_and_tokens() {
            conformance::auth::users_and_tokens::<$backend>()
        }
        #[test]
        fn sessions_are_matched_by_hash_and_expired_ones_dropped() {
            conformance::auth::sessions_are_matched_by_hash_and_expired_ones_dropped::<$backend>()
        }
        #[test]
        fn scope_is_window_plus_attached_imports() {
            conformance::ops::scope_is_window_plus_attached_imports::<$backend>()
        }
        #[test]
        fn transitions_are_checked_against_the_current_state() {
            conformance::ops::transitions_are_checked_against_the_current_state::<$backend>();
        }
        #[test]
        fn upserts_answer_each_spec_in_order() {
            conformance::ops::upserts_answer_each_spec_in_order::<$backend>();
        }
        #[test]
        fn transitions_of_one_call_follow_each_other() {
            conformance::ops::transitions_of_one_call_follow_each_other::<$backend>();
        }
        #[test]
        fn targets_page_by_page_in_every_order() {
            conformance::ops::targets_page_by_page_in_every_order::<$backend>();
        }
        #[test]
        fn streamed_operations_agree_with_their_definitions() {
            conformance::ops::streamed_operations_agree_with_their_definitions::<$backend>();
        }
        #[test]
        fn report_counts_group_one_operation() {
            conformance::ops::report_counts_group_one_operation::<$backend>();
        }
        #[test]
        fn packages_and_notifications_are_read_as_recorded() {
            conformance::deliveries::packages_and_notifications_are_read_as_recorded::<$backend>();
        }
        #[test]
        fn collection_versions_follow_the_sightings_each_reader_may_see() {
            conformance::collections::versions_follow_the_sightings_each_reader_may_see::<$backend>();
        }
        #[test]
        fn feeds_keep_their_definition_state_and_runs() {
            conformance::feeds::feeds_keep_their_definition_state_and_runs::<$backend>();
        }
        #[test]
        fn jobs_are_queued_once_and_claimed_under_a_lease() {
            conformance::jobs::jobs_are_queued_once_and_claimed_under_a_lease::<$backend>();
        }
        #[test]
        fn a_job_every_worker_dies_on_fails_and_finished_jobs_are_pruned() {
            conformance::jobs::a_job_every_worker_dies_on_fails_and_finished_jobs_are_pruned::<$backend>();
        }
        #[test]
        fn threads_claiming_at_once_never_get_one_job_twice() {
            conformance::jobs::threads_claiming_at_once_never_get_one_job_twice::<$backend>();
        }
        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
            #[test]
            fn visibility_agrees_with_may_see(case in conformance::visibility::cases()) {
                conformance::visibility::agrees_with_may_see::<$backend>(case)?;
            }
        }
        #[test]
        fn neighbourhood_reads_are_the_whole_store_reads_narrowed() {
            conformance::reads::neighbourhood_reads_are_the_whole_store_reads_narrowed::<$backend>();
        }
        #[test]
        fn stale_indicators_are_the_created_and_the_never_enriched() {
            conformance::reads::stale_indicators_are_the_created_and_the_never_enriched::<$backend>();
        }
    };
}
