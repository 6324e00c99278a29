//! [`SqliteStore`]'s connections: writes take the writer, reads a pooled
//! reader, and the traits' methods are handed to the connection's own
//! implementations ([`Conn`]).

use std::sync::MutexGuard;

use cordon_model::{Consent, Viewer};

use super::{Conn, SqliteStore, IDLE_READERS, READER_CACHE_KIB};
use crate::audit::{AuditEntry, AuditRow, AuditStore, Broken};
use crate::auth::{AuthStore, NewToken, NewUser, Session, SessionStore, Token, User};
use crate::enrichment::{AllowEntry, ContactRow, Enrichment, EnrichmentStore, IndicatorRef, Link};
use crate::ops::{
    Check, Evidence, OpIndicator, OpScope, Operation, OpsStore, Outcome, Target, TargetFilter, TargetPage, TargetSpec,
    TargetState, Transition,
};
use crate::orgs::{NewOrganisation, OrgStore, Organisation, SourceOwner};
use crate::{
    ImportCounts, ImportMeta, ImportRecord, ImportSink, IndicatorDetail, IndicatorFilter, IndicatorSummary,
    SourceSummary, Store, StoreError,
};
use cordon_model::Timestamp;

impl SqliteStore {
    /// Runs `work` on the writer, waiting for this process's other writers.
    pub(crate) fn write<T>(&self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let writer = self.lock_writer()?;
        work(&writer)
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Conn>, StoreError> {
        // A writer that panicked rolled its transaction back when the
        // connection's guard unwound: the connection is usable.
        Ok(self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Runs `work` on a reader: an idle one, or a new one when all are busy
    /// (kept afterwards while fewer than [`IDLE_READERS`] are idle). A store
    /// in memory reads on its writer.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let Some(path) = &self.path else {
            let writer = self.lock_writer()?;
            return work(&writer);
        };
        let idle = self.readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Conn::open(path, READER_CACHE_KIB)?,
        };
        let result = work(&reader);
        let mut idle = self.readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(reader);
        }
        result
    }
}

impl AuditStore for SqliteStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.write(|c| c.append_audit(entries))
    }

    fn audit(&self, user: Option<&str>, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        self.read(|c| c.audit(user, since, limit))
    }

    fn verify_audit(&self) -> Result<(u64, Option<Broken>), StoreError> {
        self.read(|c| c.verify_audit())
    }
}

impl AuthStore for SqliteStore {
    fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        self.write(|c| c.add_user(user))
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|c| c.users())
    }

    fn user(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.read(|c| c.user(email))
    }

    fn disable_user(&self, email: &str) -> Result<bool, StoreError> {
        self.write(|c| c.disable_user(email))
    }

    fn add_token(&self, token: &NewToken, time: Timestamp) -> Result<Token, StoreError> {
        self.write(|c| c.add_token(token, time))
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<Token>, StoreError> {
        self.read(|c| c.tokens(user))
    }

    fn revoke_token(&self, id: i64, time: Timestamp) -> Result<bool, StoreError> {
        self.write(|c| c.revoke_token(id, time))
    }

    fn token_by_hash(&self, sha256: &str) -> Result<Option<(Token, User)>, StoreError> {
        self.read(|c| c.token_by_hash(sha256))
    }
}

impl SessionStore for SqliteStore {
    fn add_session(&self, sha256: &str, session: &Session) -> Result<(), StoreError> {
        self.write(|c| c.add_session(sha256, session))
    }

    fn session_by_hash(&self, sha256: &str) -> Result<Option<(Session, User)>, StoreError> {
        self.read(|c| c.session_by_hash(sha256))
    }

    fn remove_session(&self, sha256: &str) -> Result<bool, StoreError> {
        self.write(|c| c.remove_session(sha256))
    }
}

impl Store for SqliteStore {
    fn import(
        &self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError> {
        self.run_import(meta, feed)
    }

    fn indicators(&self, filter: &IndicatorFilter, each: &mut dyn FnMut(IndicatorSummary)) -> Result<(), StoreError> {
        self.read(|c| c.indicators(filter, each))
    }

    fn indicator(&self, value: &str, filter: &IndicatorFilter) -> Result<Option<IndicatorDetail>, StoreError> {
        self.read(|c| c.indicator(value, filter))
    }

    fn sources(&self, viewer: &Viewer) -> Result<Vec<SourceSummary>, StoreError> {
        self.read(|c| c.sources(viewer))
    }

    fn imports(&self, viewer: &Viewer) -> Result<Vec<ImportRecord>, StoreError> {
        self.read(|c| c.imports(viewer))
    }

    fn generation(&self) -> Result<i64, StoreError> {
        self.read(|c| c.generation())
    }
}

impl EnrichmentStore for SqliteStore {
    fn indicator_refs(&self, each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.read(|c| c.indicator_refs(each))
    }

    fn links(&self) -> Result<Vec<Link>, StoreError> {
        self.read(|c| c.links())
    }

    fn links_touching(&self, ids: &[i64]) -> Result<Vec<Link>, StoreError> {
        self.read(|c| c.links_touching(ids))
    }

    fn indicator_refs_of(&self, ids: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.read(|c| c.indicator_refs_of(ids, each))
    }

    fn indicator_refs_after(&self, after: i64, limit: usize) -> Result<Vec<IndicatorRef>, StoreError> {
        self.read(|c| c.indicator_refs_after(after, limit))
    }

    fn indicator_count(&self) -> Result<u64, StoreError> {
        self.read(|c| c.indicator_count())
    }

    fn stale_indicators(&self, imports: &[i64]) -> Result<Vec<i64>, StoreError> {
        self.read(|c| c.stale_indicators(imports))
    }

    fn created_indicators(&self, imports: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.read(|c| c.created_indicators(imports, each))
    }

    fn created_among(
        &self,
        imports: &[i64],
        values: &[String],
        each: &mut dyn FnMut(IndicatorRef),
    ) -> Result<u64, StoreError> {
        self.read(|c| c.created_among(imports, values, each))
    }

    fn write_enrichment(&self, rows: &[(i64, Enrichment)]) -> Result<(), StoreError> {
        self.write(|c| c.write_enrichment(rows))
    }

    fn enrichment_of(&self, value: &str) -> Result<Option<Enrichment>, StoreError> {
        self.read(|c| c.enrichment_of(value))
    }

    fn allow_add(&self, value: &str, reason: &str) -> Result<(), StoreError> {
        self.write(|c| c.allow_add(value, reason))
    }

    fn allow_remove(&self, value: &str) -> Result<bool, StoreError> {
        self.write(|c| c.allow_remove(value))
    }

    fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        self.read(|c| c.allowlist())
    }

    fn replace_contacts(&self, rows: &[ContactRow]) -> Result<(), StoreError> {
        self.write(|c| c.replace_contacts(rows))
    }

    fn contacts(&self) -> Result<Vec<ContactRow>, StoreError> {
        self.read(|c| c.contacts())
    }
}

impl OrgStore for SqliteStore {
    fn hub(&self) -> Result<Organisation, StoreError> {
        self.read(|c| c.hub())
    }

    fn add_org(&self, org: &NewOrganisation) -> Result<Organisation, StoreError> {
        self.write(|c| c.add_org(org))
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.read(|c| c.orgs())
    }

    fn org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.read(|c| c.org(name))
    }

    fn set_source_org(&self, source: &str, org: &str) -> Result<bool, StoreError> {
        self.write(|c| c.set_source_org(source, org))
    }

    fn set_consent(&self, source: &str, consent: Consent) -> Result<bool, StoreError> {
        self.write(|c| c.set_consent(source, consent))
    }

    fn source_owners(&self) -> Result<Vec<SourceOwner>, StoreError> {
        self.read(|c| c.source_owners())
    }
}

impl OpsStore for SqliteStore {
    fn atomically(&self, work: &mut dyn FnMut(&dyn OpsStore) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.write(|c| c.atomically(work))
    }

    fn states(&self, target_ids: &[i64]) -> Result<std::collections::HashMap<i64, TargetState>, StoreError> {
        self.read(|c| c.states(target_ids))
    }

    fn create_operation(&self, operation: &Operation) -> Result<i64, StoreError> {
        self.write(|c| c.create_operation(operation))
    }

    fn operations(&self) -> Result<Vec<Operation>, StoreError> {
        self.read(|c| c.operations())
    }

    fn operation(&self, name: &str) -> Result<Option<Operation>, StoreError> {
        self.read(|c| c.operation(name))
    }

    fn attach_import(&self, operation: &str, import_id: i64) -> Result<(), StoreError> {
        self.write(|c| c.attach_import(operation, import_id))
    }

    fn scope(&self, operation_id: i64) -> Result<OpScope, StoreError> {
        self.read(|c| c.scope(operation_id))
    }

    fn scope_links(&self, operation_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        self.read(|c| c.scope_links(operation_id))
    }

    fn scope_indicators(&self, operation_id: i64, ids: &[i64]) -> Result<Vec<OpIndicator>, StoreError> {
        self.read(|c| c.scope_indicators(operation_id, ids))
    }

    fn scope_each(
        &self,
        operation_id: i64,
        batch: usize,
        each: &mut dyn FnMut(&[OpIndicator]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| c.scope_each(operation_id, batch, each))
    }

    fn upsert_targets(
        &self,
        operation_id: i64,
        specs: &[TargetSpec],
        time: Timestamp,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        self.write(|c| c.upsert_targets(operation_id, specs, time))
    }

    fn targets(&self, filter: &TargetFilter) -> Result<Vec<Target>, StoreError> {
        self.read(|c| c.targets(filter))
    }

    fn targets_after(&self, filter: &TargetFilter, after: i64, limit: usize) -> Result<Vec<Target>, StoreError> {
        self.read(|c| c.targets_after(filter, after, limit))
    }

    fn targets_page(&self, filter: &TargetFilter, page: &TargetPage) -> Result<Vec<Target>, StoreError> {
        self.read(|c| c.targets_page(filter, page))
    }

    fn count_targets(&self, filter: &TargetFilter) -> Result<u64, StoreError> {
        self.read(|c| c.count_targets(filter))
    }

    fn members(&self, target_id: i64) -> Result<Vec<String>, StoreError> {
        self.read(|c| c.members(target_id))
    }

    fn history(&self, target_id: i64) -> Result<Vec<Transition>, StoreError> {
        self.read(|c| c.history(target_id))
    }

    fn operation_history(&self, operation_id: i64) -> Result<Vec<Transition>, StoreError> {
        self.read(|c| c.operation_history(operation_id))
    }

    fn append_transitions(&self, transitions: &[Transition]) -> Result<(), StoreError> {
        self.write(|c| c.append_transitions(transitions))
    }

    fn move_targets(
        &self,
        target_ids: &[i64],
        from: TargetState,
        transition: &Transition,
    ) -> Result<Vec<i64>, StoreError> {
        self.write(|c| c.move_targets(target_ids, from, transition))
    }

    fn newest_import(&self) -> Result<i64, StoreError> {
        self.read(|c| c.newest_import())
    }

    fn evidence(&self, target_ids: &[i64]) -> Result<Vec<Evidence>, StoreError> {
        self.read(|c| c.evidence(target_ids))
    }

    fn record_package(
        &self,
        operation_id: i64,
        country: &str,
        path: &str,
        manifest_sha256: &str,
        target_ids: &[i64],
        time: Timestamp,
    ) -> Result<i64, StoreError> {
        self.write(|c| c.record_package(operation_id, country, path, manifest_sha256, target_ids, time))
    }

    fn last_notified(&self, contact: &str, target_id: i64) -> Result<Option<Timestamp>, StoreError> {
        self.read(|c| c.last_notified(contact, target_id))
    }

    fn record_notification(
        &self,
        operation_id: i64,
        contact: &str,
        message_id: &str,
        target_ids: &[i64],
        time: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|c| c.record_notification(operation_id, contact, message_id, target_ids, time))
    }

    fn record_checks(&self, checks: &[Check]) -> Result<(), StoreError> {
        self.write(|c| c.record_checks(checks))
    }

    fn checks(&self, target_id: i64) -> Result<Vec<Check>, StoreError> {
        self.read(|c| c.checks(target_id))
    }

    fn add_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        self.write(|c| c.add_outcome(outcome))
    }

    fn outcomes(&self, operation_id: i64) -> Result<Vec<Outcome>, StoreError> {
        self.read(|c| c.outcomes(operation_id))
    }

    fn report_counts(&self, operation_id: i64) -> Result<crate::ops::ReportCounts, StoreError> {
        self.read(|c| c.report_counts(operation_id))
    }
}

/// Compiles only while the store can be shared by threads.
const _: fn() = shared::<SqliteStore>;

fn shared<T: Send + Sync>() {}
