//! Every store trait implemented by handing each call to another store:
//! [`crate::PgStore`] hands it to one of its connections, [`crate::AnyStore`]
//! to the backend it holds. One list of the traits' methods, so that a
//! method added to a trait is forwarded everywhere or nowhere compiles.

/// Implements every store trait for `$ty`, each method's body being
/// `$via!(self, method(arguments…))`.
macro_rules! forward_stores {
    ($ty:ty, $via:ident) => {
        impl $crate::Store for $ty {
            fn import(
                &self,
                meta: &$crate::ImportMeta,
                feed: &mut dyn FnMut(&mut dyn $crate::ImportSink) -> Result<$crate::ImportCounts, $crate::StoreError>,
            ) -> Result<i64, $crate::StoreError> {
                $via!(self, import(meta, feed))
            }
            fn indicators(
                &self,
                filter: &$crate::IndicatorFilter,
                each: &mut dyn FnMut($crate::IndicatorSummary),
            ) -> Result<(), $crate::StoreError> {
                $via!(self, indicators(filter, each))
            }
            fn indicator(
                &self,
                value: &str,
                filter: &$crate::IndicatorFilter,
            ) -> Result<Option<$crate::IndicatorDetail>, $crate::StoreError> {
                $via!(self, indicator(value, filter))
            }
            fn sources(&self, viewer: &cordon_model::Viewer) -> Result<Vec<$crate::SourceSummary>, $crate::StoreError> {
                $via!(self, sources(viewer))
            }
            fn imports(&self, viewer: &cordon_model::Viewer) -> Result<Vec<$crate::ImportRecord>, $crate::StoreError> {
                $via!(self, imports(viewer))
            }
            fn generation(&self) -> Result<i64, $crate::StoreError> {
                $via!(self, generation())
            }
        }

        impl $crate::orgs::OrgStore for $ty {
            fn hub(&self) -> Result<$crate::orgs::Organisation, $crate::StoreError> {
                $via!(self, hub())
            }
            fn add_org(
                &self,
                org: &$crate::orgs::NewOrganisation,
            ) -> Result<$crate::orgs::Organisation, $crate::StoreError> {
                $via!(self, add_org(org))
            }
            fn orgs(&self) -> Result<Vec<$crate::orgs::Organisation>, $crate::StoreError> {
                $via!(self, orgs())
            }
            fn org(&self, name: &str) -> Result<Option<$crate::orgs::Organisation>, $crate::StoreError> {
                $via!(self, org(name))
            }
            fn set_source_org(&self, source: &str, org: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, set_source_org(source, org))
            }
            fn set_consent(&self, source: &str, consent: cordon_model::Consent) -> Result<bool, $crate::StoreError> {
                $via!(self, set_consent(source, consent))
            }
            fn source_owners(&self) -> Result<Vec<$crate::orgs::SourceOwner>, $crate::StoreError> {
                $via!(self, source_owners())
            }
        }

        impl $crate::enrichment::EnrichmentStore for $ty {
            fn indicator_refs(
                &self,
                each: &mut dyn FnMut($crate::enrichment::IndicatorRef),
            ) -> Result<(), $crate::StoreError> {
                $via!(self, indicator_refs(each))
            }
            fn links(&self) -> Result<Vec<$crate::enrichment::Link>, $crate::StoreError> {
                $via!(self, links())
            }
            fn links_touching(&self, ids: &[i64]) -> Result<Vec<$crate::enrichment::Link>, $crate::StoreError> {
                $via!(self, links_touching(ids))
            }
            fn indicator_refs_of(
                &self,
                ids: &[i64],
                each: &mut dyn FnMut($crate::enrichment::IndicatorRef),
            ) -> Result<(), $crate::StoreError> {
                $via!(self, indicator_refs_of(ids, each))
            }
            fn indicator_refs_after(
                &self,
                after: i64,
                limit: usize,
            ) -> Result<Vec<$crate::enrichment::IndicatorRef>, $crate::StoreError> {
                $via!(self, indicator_refs_after(after, limit))
            }
            fn indicator_count(&self) -> Result<u64, $crate::StoreError> {
                $via!(self, indicator_count())
            }
            fn stale_indicators(&self, imports: &[i64]) -> Result<Vec<i64>, $crate::StoreError> {
                $via!(self, stale_indicators(imports))
            }
            fn created_indicators(
                &self,
                imports: &[i64],
                each: &mut dyn FnMut($crate::enrichment::IndicatorRef),
            ) -> Result<(), $crate::StoreError> {
                $via!(self, created_indicators(imports, each))
            }
            fn created_among(
                &self,
                imports: &[i64],
                values: &[String],
                each: &mut dyn FnMut($crate::enrichment::IndicatorRef),
            ) -> Result<u64, $crate::StoreError> {
                $via!(self, created_among(imports, values, each))
            }
            fn write_enrichment(
                &self,
                rows: &[(i64, $crate::enrichment::Enrichment)],
            ) -> Result<(), $crate::StoreError> {
                $via!(self, write_enrichment(rows))
            }
            fn enrichment_of(&self, value: &str) -> Result<Option<$crate::enrichment::Enrichment>, $crate::StoreError> {
                $via!(self, enrichment_of(value))
            }
            fn allow_add(&self, value: &str, reason: &str) -> Result<(), $crate::StoreError> {
                $via!(self, allow_add(value, reason))
            }
            fn allow_remove(&self, value: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, allow_remove(value))
            }
            fn allowlist(&self) -> Result<Vec<$crate::enrichment::AllowEntry>, $crate::StoreError> {
                $via!(self, allowlist())
            }
            fn replace_contacts(&self, rows: &[$crate::enrichment::ContactRow]) -> Result<(), $crate::StoreError> {
                $via!(self, replace_contacts(rows))
            }
            fn contacts(&self) -> Result<Vec<$crate::enrichment::ContactRow>, $crate::StoreError> {
                $via!(self, contacts())
            }
        }

        impl $crate::ops::OpsStore for $ty {
            fn atomically(
                &self,
                work: &mut dyn FnMut(&dyn $crate::ops::OpsStore) -> Result<(), $crate::StoreError>,
            ) -> Result<(), $crate::StoreError> {
                $via!(self, atomically(work))
            }
            fn states(
                &self,
                target_ids: &[i64],
            ) -> Result<std::collections::HashMap<i64, $crate::ops::TargetState>, $crate::StoreError> {
                $via!(self, states(target_ids))
            }
            fn create_operation(&self, operation: &$crate::ops::Operation) -> Result<i64, $crate::StoreError> {
                $via!(self, create_operation(operation))
            }
            fn operations(&self) -> Result<Vec<$crate::ops::Operation>, $crate::StoreError> {
                $via!(self, operations())
            }
            fn operation(&self, name: &str) -> Result<Option<$crate::ops::Operation>, $crate::StoreError> {
                $via!(self, operation(name))
            }
            fn attach_import(&self, operation: &str, import_id: i64) -> Result<(), $crate::StoreError> {
                $via!(self, attach_import(operation, import_id))
            }
            fn scope(&self, operation_id: i64) -> Result<$crate::ops::OpScope, $crate::StoreError> {
                $via!(self, scope(operation_id))
            }
            fn upsert_targets(
                &self,
                operation_id: i64,
                specs: &[$crate::ops::TargetSpec],
                time: cordon_model::Timestamp,
            ) -> Result<Vec<(i64, bool)>, $crate::StoreError> {
                $via!(self, upsert_targets(operation_id, specs, time))
            }
            fn targets(
                &self,
                filter: &$crate::ops::TargetFilter,
            ) -> Result<Vec<$crate::ops::Target>, $crate::StoreError> {
                $via!(self, targets(filter))
            }
            fn scope_links(&self, operation_id: i64) -> Result<Vec<(i64, i64)>, $crate::StoreError> {
                $via!(self, scope_links(operation_id))
            }
            fn scope_indicators(
                &self,
                operation_id: i64,
                ids: &[i64],
            ) -> Result<Vec<$crate::ops::OpIndicator>, $crate::StoreError> {
                $via!(self, scope_indicators(operation_id, ids))
            }
            fn scope_each(
                &self,
                operation_id: i64,
                batch: usize,
                each: &mut dyn FnMut(&[$crate::ops::OpIndicator]) -> Result<(), $crate::StoreError>,
            ) -> Result<(), $crate::StoreError> {
                $via!(self, scope_each(operation_id, batch, each))
            }
            fn targets_after(
                &self,
                filter: &$crate::ops::TargetFilter,
                after: i64,
                limit: usize,
            ) -> Result<Vec<$crate::ops::Target>, $crate::StoreError> {
                $via!(self, targets_after(filter, after, limit))
            }
            fn targets_page(
                &self,
                filter: &$crate::ops::TargetFilter,
                page: &$crate::ops::TargetPage,
            ) -> Result<Vec<$crate::ops::Target>, $crate::StoreError> {
                $via!(self, targets_page(filter, page))
            }
            fn count_targets(&self, filter: &$crate::ops::TargetFilter) -> Result<u64, $crate::StoreError> {
                $via!(self, count_targets(filter))
            }
            fn move_targets(
                &self,
                target_ids: &[i64],
                from: $crate::ops::TargetState,
                transition: &$crate::ops::Transition,
            ) -> Result<Vec<i64>, $crate::StoreError> {
                $via!(self, move_targets(target_ids, from, transition))
            }
            fn members(&self, target_id: i64) -> Result<Vec<String>, $crate::StoreError> {
                $via!(self, members(target_id))
            }
            fn history(&self, target_id: i64) -> Result<Vec<$crate::ops::Transition>, $crate::StoreError> {
                $via!(self, history(target_id))
            }
            fn operation_history(&self, operation_id: i64) -> Result<Vec<$crate::ops::Transition>, $crate::StoreError> {
                $via!(self, operation_history(operation_id))
            }
            fn append_transitions(&self, transitions: &[$crate::ops::Transition]) -> Result<(), $crate::StoreError> {
                $via!(self, append_transitions(transitions))
            }
            fn newest_import(&self) -> Result<i64, $crate::StoreError> {
                $via!(self, newest_import())
            }
            fn evidence(&self, target_ids: &[i64]) -> Result<Vec<$crate::ops::Evidence>, $crate::StoreError> {
                $via!(self, evidence(target_ids))
            }
            fn record_package(
                &self,
                operation_id: i64,
                country: &str,
                path: &str,
                manifest_sha256: &str,
                target_ids: &[i64],
                time: cordon_model::Timestamp,
            ) -> Result<i64, $crate::StoreError> {
                $via!(self, record_package(operation_id, country, path, manifest_sha256, target_ids, time))
            }
            fn last_notified(
                &self,
                contact: &str,
                target_id: i64,
            ) -> Result<Option<cordon_model::Timestamp>, $crate::StoreError> {
                $via!(self, last_notified(contact, target_id))
            }
            fn record_notification(
                &self,
                operation_id: i64,
                contact: &str,
                message_id: &str,
                target_ids: &[i64],
                time: cordon_model::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                $via!(self, record_notification(operation_id, contact, message_id, target_ids, time))
            }
            fn record_checks(&self, checks: &[$crate::ops::Check]) -> Result<(), $crate::StoreError> {
                $via!(self, record_checks(checks))
            }
            fn checks(&self, target_id: i64) -> Result<Vec<$crate::ops::Check>, $crate::StoreError> {
                $via!(self, checks(target_id))
            }
            fn add_outcome(&self, outcome: &$crate::ops::Outcome) -> Result<(), $crate::StoreError> {
                $via!(self, add_outcome(outcome))
            }
            fn outcomes(&self, operation_id: i64) -> Result<Vec<$crate::ops::Outcome>, $crate::StoreError> {
                $via!(self, outcomes(operation_id))
            }
            fn report_counts(&self, operation_id: i64) -> Result<$crate::ops::ReportCounts, $crate::StoreError> {
                $via!(self, report_counts(operation_id))
            }
        }

        impl $crate::auth::AuthStore for $ty {
            fn add_user(&self, user: &$crate::auth::NewUser) -> Result<$crate::auth::User, $crate::StoreError> {
                $via!(self, add_user(user))
            }
            fn users(&self) -> Result<Vec<$crate::auth::User>, $crate::StoreError> {
                $via!(self, users())
            }
            fn user(&self, email: &str) -> Result<Option<$crate::auth::User>, $crate::StoreError> {
                $via!(self, user(email))
            }
            fn disable_user(&self, email: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, disable_user(email))
            }
            fn add_token(
                &self,
                token: &$crate::auth::NewToken,
                time: cordon_model::Timestamp,
            ) -> Result<$crate::auth::Token, $crate::StoreError> {
                $via!(self, add_token(token, time))
            }
            fn tokens(&self, user: Option<&str>) -> Result<Vec<$crate::auth::Token>, $crate::StoreError> {
                $via!(self, tokens(user))
            }
            fn revoke_token(&self, id: i64, time: cordon_model::Timestamp) -> Result<bool, $crate::StoreError> {
                $via!(self, revoke_token(id, time))
            }
            fn token_by_hash(
                &self,
                sha256: &str,
            ) -> Result<Option<($crate::auth::Token, $crate::auth::User)>, $crate::StoreError> {
                $via!(self, token_by_hash(sha256))
            }
        }

        impl $crate::audit::AuditStore for $ty {
            fn append_audit(&self, entries: &[$crate::audit::AuditEntry]) -> Result<(), $crate::StoreError> {
                $via!(self, append_audit(entries))
            }
            fn audit(
                &self,
                user: Option<&str>,
                since: Option<cordon_model::Timestamp>,
                limit: usize,
            ) -> Result<Vec<$crate::audit::AuditRow>, $crate::StoreError> {
                $via!(self, audit(user, since, limit))
            }
            fn verify_audit(&self) -> Result<(u64, Option<$crate::audit::Broken>), $crate::StoreError> {
                $via!(self, verify_audit())
            }
        }

        impl $crate::collections::CollectionStore for $ty {
            fn add_collection(
                &self,
                spec: &$crate::collections::CollectionSpec,
            ) -> Result<$crate::collections::Collection, $crate::StoreError> {
                $via!(self, add_collection(spec))
            }
            fn collections(&self) -> Result<Vec<$crate::collections::Collection>, $crate::StoreError> {
                $via!(self, collections())
            }
            fn remove_collection(&self, name: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, remove_collection(name))
            }
            fn collection_objects(
                &self,
                collection: &$crate::collections::Collection,
                viewer: &cordon_model::Viewer,
                only: Option<&[i64]>,
                each: &mut dyn FnMut($crate::collections::CollectionObject),
            ) -> Result<(), $crate::StoreError> {
                $via!(self, collection_objects(collection, viewer, only, each))
            }
            fn delete_collection_sightings(
                &self,
                collection: &$crate::collections::Collection,
                deletion: &$crate::collections::Deletion<'_>,
            ) -> Result<u64, $crate::StoreError> {
                $via!(self, delete_collection_sightings(collection, deletion))
            }
            fn put_status(
                &self,
                id: &str,
                collection: &$crate::collections::Collection,
                org_id: i64,
                body: &str,
            ) -> Result<(), $crate::StoreError> {
                $via!(self, put_status(id, collection, org_id, body))
            }
            fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, $crate::StoreError> {
                $via!(self, status(id, org_id))
            }
        }

        impl $crate::deliveries::DeliveryStore for $ty {
            fn packages(
                &self,
                operation_id: i64,
            ) -> Result<Vec<$crate::deliveries::PackageRecord>, $crate::StoreError> {
                $via!(self, packages(operation_id))
            }
            fn notifications(
                &self,
                asn: u32,
            ) -> Result<Vec<$crate::deliveries::NotificationRecord>, $crate::StoreError> {
                $via!(self, notifications(asn))
            }
        }

        impl $crate::auth::SessionStore for $ty {
            fn add_session(&self, sha256: &str, session: &$crate::auth::Session) -> Result<(), $crate::StoreError> {
                $via!(self, add_session(sha256, session))
            }
            fn session_by_hash(
                &self,
                sha256: &str,
            ) -> Result<Option<($crate::auth::Session, $crate::auth::User)>, $crate::StoreError> {
                $via!(self, session_by_hash(sha256))
            }
            fn remove_session(&self, sha256: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, remove_session(sha256))
            }
        }

        impl $crate::feeds::FeedStore for $ty {
            fn add_feed(
                &self,
                spec: &$crate::feeds::FeedSpec,
                now: cordon_model::Timestamp,
            ) -> Result<$crate::feeds::Feed, $crate::StoreError> {
                $via!(self, add_feed(spec, now))
            }
            fn feeds(&self) -> Result<Vec<$crate::feeds::Feed>, $crate::StoreError> {
                $via!(self, feeds())
            }
            fn remove_feed(&self, name: &str) -> Result<bool, $crate::StoreError> {
                $via!(self, remove_feed(name))
            }
            fn record_feed_run(
                &self,
                feed_id: i64,
                run: &$crate::feeds::FeedRun,
                state: &$crate::feeds::FeedState,
                next_run: cordon_model::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                $via!(self, record_feed_run(feed_id, run, state, next_run))
            }
            fn feed_runs(&self, name: &str, limit: usize) -> Result<Vec<$crate::feeds::FeedRun>, $crate::StoreError> {
                $via!(self, feed_runs(name, limit))
            }
        }

        impl $crate::jobs::JobStore for $ty {
            fn enqueue_job(
                &self,
                kind: &str,
                key: &str,
                subject: i64,
                now: cordon_model::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                $via!(self, enqueue_job(kind, key, subject, now))
            }
            fn claim_job(
                &self,
                owner: &str,
                now: cordon_model::Timestamp,
                lease_until: cordon_model::Timestamp,
            ) -> Result<Option<$crate::jobs::Job>, $crate::StoreError> {
                $via!(self, claim_job(owner, now, lease_until))
            }
            fn renew_job(
                &self,
                id: i64,
                owner: &str,
                lease_until: cordon_model::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                $via!(self, renew_job(id, owner, lease_until))
            }
            fn finish_job(
                &self,
                id: i64,
                owner: &str,
                error: Option<&str>,
                now: cordon_model::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                $via!(self, finish_job(id, owner, error, now))
            }
            fn job(&self, id: i64) -> Result<Option<$crate::jobs::JobRecord>, $crate::StoreError> {
                $via!(self, job(id))
            }
            fn prune_jobs(&self, before: cordon_model::Timestamp) -> Result<u64, $crate::StoreError> {
                $via!(self, prune_jobs(before))
            }
        }
    };
}
