//! SQLite implementation of the operations storage (see `crate::ops`).
//!
//! Lists (categories, families, partners, ports) are stored in the targets
//! table as comma-joined text: they are read whole and never queried into,
//! except categories, which a `LIKE` on the comma-wrapped list matches.

use std::collections::{BTreeSet, HashSet};

use cordon_model::{Category, Consent, Kind};
use rusqlite::{params, OptionalExtension, Row};

use super::enrichment::decode_flags;
use super::import::tlp_from_code;
use super::{Conn, Nested, SIGHTING_ORDER};
use crate::ops::{
    Check, ContactRef, Evidence, OpIndicator, OpScope, Operation, OpsStore, Outcome, Target, TargetFilter, TargetKind,
    TargetOrder, TargetPage, TargetSpec, TargetState, Transition, SCOPE_ORDER,
};
use crate::StoreError;

pub(super) fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|s| !s.is_empty())
}

pub(super) fn state(text: &str) -> rusqlite::Result<TargetState> {
    text.parse().map_err(conversion)
}

fn contact(name: Option<String>, email: Option<String>) -> Option<ContactRef> {
    Some(ContactRef { name: name?, email: email? })
}

const TARGET_COLUMNS: &str = "t.id, t.operation_id, t.state, t.created, t.key, t.kind, t.country, t.asn, t.as_org,
    t.hosting, t.provider_name, t.provider_email, t.agency_name, t.agency_email, t.categories, t.malware,
    t.partners, t.ports, t.first_seen, t.last_seen, t.last_import";

fn target_row(row: &Row<'_>) -> rusqlite::Result<Target> {
    let categories: String = row.get(14)?;
    let malware: String = row.get(15)?;
    let partners: String = row.get(16)?;
    let ports: String = row.get(17)?;
    Ok(Target {
        id: row.get(0)?,
        operation_id: row.get(1)?,
        state: state(&row.get::<_, String>(2)?)?,
        created: row.get(3)?,
        spec: TargetSpec {
            key: row.get(4)?,
            kind: TargetKind::from_name(&row.get::<_, String>(5)?),
            country: row.get(6)?,
            asn: row.get(7)?,
            as_org: row.get(8)?,
            hosting: row.get(9)?,
            provider: contact(row.get(10)?, row.get(11)?),
            agency: contact(row.get(12)?, row.get(13)?),
            categories: split(&categories).map(|c| c.parse().map_err(conversion)).collect::<Result<_, _>>()?,
            malware: split(&malware).map(str::to_string).collect(),
            partners: split(&partners).map(str::to_string).collect(),
            ports: split(&ports).filter_map(|p| p.parse().ok()).collect(),
            first_seen: row.get(18)?,
            last_seen: row.get(19)?,
            last_import: row.get(20)?,
            members: Vec::new(),
        },
    })
}

fn transition_row(row: &Row<'_>) -> rusqlite::Result<Transition> {
    let from: Option<String> = row.get(2)?;
    Ok(Transition {
        target_id: row.get(0)?,
        time: row.get(1)?,
        from: from.as_deref().map(state).transpose()?,
        to: state(&row.get::<_, String>(3)?)?,
        reason: row.get(4)?,
        actor: row.get(5)?,
        note: row.get(6)?,
        import_mark: row.get(7)?,
    })
}

/// Accumulates an indicator's sightings into an [`OpIndicator`].
#[derive(Default)]
struct ScopeAcc {
    categories: BTreeSet<Category>,
    malware: BTreeSet<String>,
    sources: BTreeSet<String>,
    ports: BTreeSet<u16>,
}

impl OpsStore for Conn {
    fn atomically(&self, work: &mut dyn FnMut(&dyn OpsStore) -> Result<(), StoreError>) -> Result<(), StoreError> {
        if !self.conn.is_autocommit() {
            // Already inside a transaction (nested work): it commits there.
            return work(self);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = work(self);
        match &result {
            Ok(()) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    // Best effort: the commit's error is the one that matters.
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
            }
            Err(_) => {
                // Best effort: the work's error is the one that matters.
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result
    }

    fn states(&self, target_ids: &[i64]) -> Result<std::collections::HashMap<i64, TargetState>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT state FROM targets WHERE id = ?1")?;
        let mut out = std::collections::HashMap::with_capacity(target_ids.len());
        for id in target_ids {
            if let Some(state) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                out.insert(
                    *id,
                    state.parse().map_err(|e: crate::ops::UnknownState| StoreError::Database(e.to_string()))?,
                );
            }
        }
        Ok(out)
    }

    fn create_operation(&self, operation: &Operation) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO operations (name, start, end, description, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![operation.name, operation.start, operation.end, operation.description, operation.created],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn operations(&self) -> Result<Vec<Operation>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, start, end, description, created FROM operations ORDER BY name")?;
        let rows = stmt.query_map([], operation_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn operation(&self, name: &str) -> Result<Option<Operation>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, start, end, description, created FROM operations WHERE name = ?1")?;
        Ok(stmt.query_row([name], operation_row).optional()?)
    }

    fn attach_import(&self, operation: &str, import_id: i64) -> Result<(), StoreError> {
        let changed = self.conn.execute(
            "INSERT OR IGNORE INTO operation_imports (operation_id, import_id)
             SELECT id, ?2 FROM operations WHERE name = ?1",
            params![operation, import_id],
        )?;
        if changed == 0 && self.operation(operation)?.is_none() {
            return Err(StoreError::Aborted(format!("there is no operation '{operation}'")));
        }
        Ok(())
    }

    fn scope(&self, operation_id: i64) -> Result<OpScope, StoreError> {
        let sql =
            format!("SELECT {SCOPE_COLUMNS} FROM indicators i {SCOPE_JOINS} WHERE {} ORDER BY i.id", in_scope("i.id"));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([operation_id])?;
        let mut scope = OpScope::default();
        let mut links = Vec::new();
        fold_scope(&mut rows, |indicator, derived_from| {
            links.extend(derived_from.iter().map(|from| (indicator.id, *from)));
            scope.indicators.push(indicator);
            Ok(())
        })?;
        let ids: HashSet<i64> = scope.indicators.iter().map(|i| i.id).collect();
        links.retain(|(a, b)| ids.contains(a) && ids.contains(b));
        links.sort_unstable();
        links.dedup();
        scope.links = links;
        Ok(scope)
    }

    fn scope_links(&self, operation_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = format!(
            "SELECT s.indicator_id, s.derived_from FROM sightings s WHERE s.derived_from <> 0 AND {} AND {}",
            in_scope("s.indicator_id"),
            in_scope("s.derived_from")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([operation_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut links: Vec<(i64, i64)> = rows.collect::<Result<_, _>>()?;
        links.sort_unstable();
        links.dedup();
        Ok(links)
    }

    fn scope_indicators(&self, operation_id: i64, ids: &[i64]) -> Result<Vec<OpIndicator>, StoreError> {
        let sql =
            format!("SELECT {SCOPE_COLUMNS} FROM indicators i {SCOPE_JOINS} WHERE i.id = ?2 AND {}", in_scope("i.id"));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = stmt.query(params![operation_id, id])?;
            fold_scope(&mut rows, |indicator, _| {
                out.push(indicator);
                Ok(())
            })?;
        }
        Ok(out)
    }

    fn scope_each(
        &self,
        operation_id: i64,
        batch: usize,
        each: &mut dyn FnMut(&[OpIndicator]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(&scope_walk_sql())?;
        let batch = batch.max(1);
        let mut pending = Vec::with_capacity(batch);
        for kinds in SCOPE_ORDER {
            let (first, last) = (kinds[0], kinds[kinds.len() - 1]);
            let mut rows = stmt.query(params![operation_id, first.as_str(), last.as_str()])?;
            fold_scope(&mut rows, |indicator, _| {
                pending.push(indicator);
                if pending.len() == batch {
                    each(&pending)?;
                    pending.clear();
                }
                Ok(())
            })?;
        }
        if !pending.is_empty() {
            each(&pending)?;
        }
        Ok(())
    }

    fn upsert_targets(
        &self,
        operation_id: i64,
        specs: &[TargetSpec],
        time: i64,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let tx = Nested::new(&self.conn)?;
        let mut out = Vec::with_capacity(specs.len());
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO targets (operation_id, key, kind, state, country, asn, as_org, hosting, provider_name,
                     provider_email, agency_name, agency_email, categories, malware, partners, ports, first_seen,
                     last_seen, last_import, created)
                 VALUES (?1, ?2, ?3, 'identified', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19)
                 ON CONFLICT (operation_id, key) DO UPDATE SET
                     kind = excluded.kind, country = excluded.country, asn = excluded.asn, as_org = excluded.as_org,
                     hosting = excluded.hosting, provider_name = excluded.provider_name,
                     provider_email = excluded.provider_email, agency_name = excluded.agency_name,
                     agency_email = excluded.agency_email, categories = excluded.categories,
                     malware = excluded.malware, partners = excluded.partners, ports = excluded.ports,
                     first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                     last_import = excluded.last_import",
            )?;
            // Read back by key rather than `RETURNING`: SQLite runs
            // `RETURNING` as a trigger, so every upsert got a statement
            // journal (a copy of each 16 KiB page it touched) and a
            // temporary b-tree for its one row; the key's pages are hot.
            let mut read_back =
                tx.prepare_cached("SELECT id, created FROM targets WHERE operation_id = ?1 AND key = ?2")?;
            let mut history = tx.prepare_cached("SELECT 1 FROM transitions WHERE target_id = ?1")?;
            let mut member =
                tx.prepare_cached("INSERT OR IGNORE INTO target_members (target_id, indicator_id) VALUES (?1, ?2)")?;
            for spec in specs {
                upsert.execute(params![
                    operation_id,
                    spec.key,
                    spec.kind.as_str(),
                    spec.country,
                    spec.asn,
                    spec.as_org,
                    spec.hosting,
                    spec.provider.as_ref().map(|c| &c.name),
                    spec.provider.as_ref().map(|c| &c.email),
                    spec.agency.as_ref().map(|c| &c.name),
                    spec.agency.as_ref().map(|c| &c.email),
                    join(&spec.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>()),
                    join(&spec.malware),
                    join(&spec.partners),
                    join(&spec.ports),
                    spec.first_seen,
                    spec.last_seen,
                    spec.last_import,
                    time,
                ])?;
                let (id, created): (i64, i64) =
                    read_back.query_row(params![operation_id, spec.key], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let is_new = created == time && !history.exists([id])?;
                for indicator in &spec.members {
                    member.execute(params![id, indicator])?;
                }
                out.push((id, is_new));
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn targets(&self, filter: &TargetFilter) -> Result<Vec<Target>, StoreError> {
        self.select_targets(filter, i64::MIN, -1)
    }

    fn targets_after(&self, filter: &TargetFilter, after: i64, limit: usize) -> Result<Vec<Target>, StoreError> {
        self.select_targets(filter, after, i64::try_from(limit).unwrap_or(i64::MAX))
    }

    fn targets_page(&self, filter: &TargetFilter, page: &TargetPage) -> Result<Vec<Target>, StoreError> {
        self.select_page(filter, page)
    }

    fn count_targets(&self, filter: &TargetFilter) -> Result<u64, StoreError> {
        self.count_matching(filter)
    }

    fn members(&self, target_id: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.value FROM target_members m JOIN indicators i ON i.id = m.indicator_id
             WHERE m.target_id = ?1 ORDER BY i.value",
        )?;
        let rows = stmt.query_map([target_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn history(&self, target_id: i64) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT target_id, time, from_state, to_state, reason, actor, note, import_mark
             FROM transitions WHERE target_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([target_id], transition_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn operation_history(&self, operation_id: i64) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT x.target_id, x.time, x.from_state, x.to_state, x.reason, x.actor, x.note, x.import_mark
             FROM transitions x JOIN targets t ON t.id = x.target_id WHERE t.operation_id = ?1 ORDER BY x.id",
        )?;
        let rows = stmt.query_map([operation_id], transition_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn append_transitions(&self, transitions: &[Transition]) -> Result<(), StoreError> {
        let tx = Nested::new(&self.conn)?;
        {
            let mut current = tx.prepare_cached("SELECT state FROM targets WHERE id = ?1")?;
            let mut has_history = tx.prepare_cached("SELECT 1 FROM transitions WHERE target_id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO transitions (target_id, time, from_state, to_state, reason, actor, note, import_mark)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut update = tx.prepare_cached("UPDATE targets SET state = ?2 WHERE id = ?1")?;
            for t in transitions {
                let now: Option<String> = current.query_row([t.target_id], |r| r.get(0)).optional()?;
                let Some(now) = now else {
                    return Err(StoreError::Aborted(format!("there is no target #{}", t.target_id)));
                };
                let expected = match t.from {
                    Some(from) => from.as_str() == now,
                    None => !has_history.exists([t.target_id])?,
                };
                if !expected {
                    return Err(StoreError::Aborted(format!(
                        "target #{} is {now}, not {}",
                        t.target_id,
                        t.from.map_or("new", TargetState::as_str)
                    )));
                }
                insert.execute(params![
                    t.target_id,
                    t.time,
                    t.from.map(TargetState::as_str),
                    t.to.as_str(),
                    t.reason,
                    t.actor,
                    t.note,
                    t.import_mark
                ])?;
                update.execute(params![t.target_id, t.to.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn move_targets(
        &self,
        target_ids: &[i64],
        from: TargetState,
        transition: &Transition,
    ) -> Result<Vec<i64>, StoreError> {
        // A JSON array for json_each: integers only, so written as they are.
        let ids = format!("[{}]", join(target_ids));
        let tx = Nested::new(&self.conn)?;
        let mut moved: Vec<i64> = {
            let mut insert = tx.prepare_cached(
                "INSERT INTO transitions (target_id, time, from_state, to_state, reason, actor, note, import_mark)
                 SELECT t.id, ?3, t.state, ?4, ?5, ?6, ?7, ?8 FROM targets t
                 WHERE t.id IN (SELECT value FROM json_each(?1)) AND t.state = ?2 ORDER BY t.id
                 RETURNING target_id",
            )?;
            let rows = insert.query_map(
                params![
                    ids,
                    from.as_str(),
                    transition.time,
                    transition.to.as_str(),
                    transition.reason,
                    transition.actor,
                    transition.note,
                    transition.import_mark
                ],
                |r| r.get(0),
            )?;
            rows.collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE targets SET state = ?3 WHERE id IN (SELECT value FROM json_each(?1)) AND state = ?2",
            params![ids, from.as_str(), transition.to.as_str()],
        )?;
        tx.commit()?;
        moved.sort_unstable();
        Ok(moved)
    }

    fn newest_import(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT coalesce(max(id), 0) FROM imports", [], |r| r.get(0))?)
    }

    fn evidence(&self, target_ids: &[i64]) -> Result<Vec<Evidence>, StoreError> {
        let sql = format!(
            "SELECT m.target_id, i.value, i.kind, src.name, src.org_id, s.category, s.malware, s.tlp, s.port,
                    s.first_seen, s.last_seen, s.confidence, src.amber_agencies, src.amber_providers
             FROM target_members m JOIN indicators i ON i.id = m.indicator_id
             JOIN sightings s ON s.indicator_id = i.id JOIN sources src ON src.id = s.source_id
             WHERE m.target_id = ?1 ORDER BY i.value, src.name, {SIGHTING_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        for target in target_ids {
            let rows = stmt.query_map([target], |r| {
                let malware: String = r.get(6)?;
                Ok(Evidence {
                    target_id: r.get(0)?,
                    value: r.get(1)?,
                    kind: r.get::<_, String>(2)?.parse::<Kind>().map_err(conversion)?,
                    source: r.get(3)?,
                    source_org: r.get(4)?,
                    consent: Consent { agencies: r.get::<_, i64>(12)? != 0, providers: r.get::<_, i64>(13)? != 0 },
                    category: r.get::<_, String>(5)?.parse().map_err(conversion)?,
                    malware: (!malware.is_empty()).then_some(malware),
                    tlp: tlp_from_code(r.get(7)?),
                    port: u16::try_from(r.get::<_, i64>(8)?).ok().filter(|p| *p != 0),
                    first_seen: r.get(9)?,
                    last_seen: r.get(10)?,
                    confidence: r.get::<_, i64>(11)?.clamp(0, 100) as u8,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    fn record_package(
        &self,
        operation_id: i64,
        country: &str,
        path: &str,
        manifest_sha256: &str,
        target_ids: &[i64],
        time: i64,
    ) -> Result<i64, StoreError> {
        let tx = Nested::new(&self.conn)?;
        tx.execute(
            "INSERT INTO packages (operation_id, country, path, manifest_sha256, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![operation_id, country, path, manifest_sha256, time],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO package_targets VALUES (?1, ?2)")?;
            for target in target_ids {
                stmt.execute(params![id, target])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn last_notified(&self, contact: &str, target_id: i64) -> Result<Option<i64>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT max(time) FROM notifications WHERE contact = ?1 AND target_id = ?2")?;
        Ok(stmt.query_row(params![contact, target_id], |r| r.get(0))?)
    }

    fn record_notification(
        &self,
        operation_id: i64,
        contact: &str,
        message_id: &str,
        target_ids: &[i64],
        time: i64,
    ) -> Result<(), StoreError> {
        let tx = Nested::new(&self.conn)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO notifications (operation_id, contact, target_id, message_id, time)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for target in target_ids {
                stmt.execute(params![operation_id, contact, target, message_id, time])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn record_checks(&self, checks: &[Check]) -> Result<(), StoreError> {
        let tx = Nested::new(&self.conn)?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO checks (target_id, time, up, detail) VALUES (?1, ?2, ?3, ?4)")?;
            for c in checks {
                stmt.execute(params![c.target_id, c.time, c.up as i64, c.detail])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn checks(&self, target_id: i64) -> Result<Vec<Check>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT target_id, time, up, detail FROM checks WHERE target_id = ?1 ORDER BY time, id")?;
        let rows = stmt.query_map([target_id], |r| {
            Ok(Check { target_id: r.get(0)?, time: r.get(1)?, up: r.get::<_, i64>(2)? != 0, detail: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO outcomes (operation_id, country, kind, count, date, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                outcome.operation_id,
                outcome.country,
                outcome.kind,
                i64::try_from(outcome.count).unwrap_or(i64::MAX),
                outcome.date,
                outcome.note
            ],
        )?;
        Ok(())
    }

    fn outcomes(&self, operation_id: i64) -> Result<Vec<Outcome>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT operation_id, country, kind, count, date, note FROM outcomes WHERE operation_id = ?1
             ORDER BY date, id",
        )?;
        let rows = stmt.query_map([operation_id], |r| {
            Ok(Outcome {
                operation_id: r.get(0)?,
                country: r.get(1)?,
                kind: r.get(2)?,
                count: r.get::<_, i64>(3)?.max(0) as u64,
                date: r.get(4)?,
                note: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn report_counts(&self, operation_id: i64) -> Result<crate::ops::ReportCounts, StoreError> {
        super::report::counts(self, operation_id)
    }
}

/// The conditions of a [`TargetFilter`], over `targets t`, parameters ?1 to
/// ?8 in the order of [`filter_params`].
const TARGET_FILTER: &str = "(?1 IS NULL OR t.operation_id = ?1) AND (?2 IS NULL OR t.id = ?2)
    AND (?3 IS NULL OR t.country = ?3) AND (?4 IS NULL OR t.asn = ?4)
    AND (?5 IS NULL OR t.state = ?5)
    AND (?6 IS NULL OR ',' || t.categories || ',' LIKE '%,' || ?6 || ',%')
    AND (?7 IS NULL OR t.kind = ?7) AND (?8 IS NULL OR instr(lower(t.key), ?8) > 0)";

/// The parameters of [`TARGET_FILTER`]. SQLite's `lower` changes ASCII
/// letters only, as `to_ascii_lowercase` does.
fn filter_params(filter: &TargetFilter) -> [rusqlite::types::Value; 8] {
    use rusqlite::types::Value;
    let text = |t: Option<String>| t.map_or(Value::Null, Value::Text);
    let int = |i: Option<i64>| i.map_or(Value::Null, Value::Integer);
    [
        int(filter.operation_id),
        int(filter.id),
        text(filter.country.as_deref().map(str::to_ascii_uppercase)),
        int(filter.asn.map(i64::from)),
        text(filter.state.map(|s| s.as_str().to_string())),
        text(filter.category.map(|c| c.as_str().to_string())),
        text(filter.kind.map(|k| k.as_str().to_string())),
        text(filter.key_contains.as_deref().map(str::to_ascii_lowercase)),
    ]
}

/// The SQL value a target sorts by in `order` (over `targets t`).
fn sort_expression(order: TargetOrder) -> &'static str {
    match order {
        TargetOrder::Id => "t.id",
        TargetOrder::Key => "t.key",
        TargetOrder::State => "t.state",
        TargetOrder::Country => "COALESCE(t.country, '')",
        TargetOrder::LastSeen => "t.last_seen",
    }
}

impl Conn {
    /// The targets matching `filter` with ids above `after`, by id, at most
    /// `limit` (negative: all).
    fn select_targets(&self, filter: &TargetFilter, after: i64, limit: i64) -> Result<Vec<Target>, StoreError> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} AND t.id > ?9 ORDER BY t.id LIMIT ?10"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut values = filter_params(filter).to_vec();
        values.extend([after.into(), limit.into()]);
        let rows = stmt.query_map(rusqlite::params_from_iter(values), target_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One page of targets: the rows past the cursor in the order (or,
    /// backward, before it against the order, then turned round).
    pub(super) fn select_page(&self, filter: &TargetFilter, page: &TargetPage) -> Result<Vec<Target>, StoreError> {
        let descending = page.order.descending() != page.backward;
        let (direction, past) = if descending { ("DESC", "<") } else { ("ASC", ">") };
        let sort = sort_expression(page.order);
        let mut values = filter_params(filter).to_vec();
        values.push(i64::try_from(page.limit).unwrap_or(i64::MAX).into());
        let after = match (&page.after, page.order) {
            (None, _) => "1".to_string(),
            (Some(cursor), TargetOrder::Id) => {
                values.push(cursor.id.into());
                format!("t.id {past} ?10")
            }
            (Some(cursor), order) => {
                values.push(match order {
                    TargetOrder::LastSeen => cursor.time().into(),
                    _ => cursor.text().to_string().into(),
                });
                values.push(cursor.id.into());
                format!("({sort}, t.id) {past} (?10, ?11)")
            }
        };
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} AND {after}
             ORDER BY {sort} {direction}, t.id {direction} LIMIT ?9"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), target_row)?;
        let mut targets: Vec<Target> = rows.collect::<Result<_, _>>()?;
        if page.backward {
            targets.reverse();
        }
        Ok(targets)
    }

    /// How many targets match `filter`.
    pub(super) fn count_matching(&self, filter: &TargetFilter) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM targets t WHERE {TARGET_FILTER}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let count: i64 = stmt.query_row(rusqlite::params_from_iter(filter_params(filter)), |r| r.get(0))?;
        Ok(count.max(0) as u64)
    }
}

fn operation_row(r: &Row<'_>) -> rusqlite::Result<Operation> {
    Ok(Operation {
        id: r.get(0)?,
        name: r.get(1)?,
        start: r.get(2)?,
        end: r.get(3)?,
        description: r.get(4)?,
        created: r.get(5)?,
    })
}

/// The columns [`fold_scope`] reads: one row per sighting of an indicator.
const SCOPE_COLUMNS: &str = "i.id, i.value, i.kind, src.name, s.category, s.malware, s.port, s.first_seen, s.last_seen,
    s.last_import, s.derived_from, e.flags, e.country, e.asn, e.as_org, e.hosting";

/// The joins [`SCOPE_COLUMNS`] needs, from `indicators i`. `CROSS JOIN`
/// keeps the indicators the outer loop (SQLite does not reorder it): left
/// to itself, the planner walked the sightings by their `created_import`
/// index and sorted the whole scope in a temporary b-tree to put it in
/// value order (memory and time that grew faster than the store).
const SCOPE_JOINS: &str = "CROSS JOIN sightings s ON s.indicator_id = i.id JOIN sources src ON src.id = s.source_id
    LEFT JOIN enrichment e ON e.indicator_id = i.id";

/// The scope of operation `?1` for the kinds `?2` to `?3` in value order
/// ([`OpsStore::scope_each`]): one walk of the value index per group, no
/// sort, no set of ids.
fn scope_walk_sql() -> String {
    format!(
        "SELECT {SCOPE_COLUMNS} FROM indicators i {SCOPE_JOINS}
         WHERE i.kind IN (?2, ?3) AND {} ORDER BY i.value",
        in_scope("i.id")
    )
}

/// The SQL condition that the indicator with id `id` (a column) is in the
/// scope of operation `?1`: it has a sighting inside the operation's
/// window or one from an import attached to it. A probe of the sightings'
/// key, so a walk of any order of indicators needs no set of ids.
fn in_scope(id: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM sightings w JOIN operations op ON op.id = ?1 WHERE w.indicator_id = {id}
            AND ((w.last_seen >= op.start AND w.first_seen <= op.end)
              OR w.created_import IN (SELECT import_id FROM operation_imports WHERE operation_id = ?1)
              OR w.last_import IN (SELECT import_id FROM operation_imports WHERE operation_id = ?1)))"
    )
}

/// Folds rows of [`SCOPE_COLUMNS`], an indicator's rows next to each other,
/// into indicators: `done` gets each one whole with the ids its sightings
/// are derived from.
fn fold_scope<F>(rows: &mut rusqlite::Rows<'_>, mut done: F) -> Result<(), StoreError>
where
    F: FnMut(OpIndicator, &[i64]) -> Result<(), StoreError>,
{
    let mut current: Option<(OpIndicator, ScopeAcc, Vec<i64>)> = None;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        if current.as_ref().map(|(i, _, _)| i.id) != Some(id) {
            if let Some((indicator, acc, derived)) = current.take() {
                done(acc.finish(indicator), &derived)?;
            }
            let indicator = OpIndicator {
                id,
                value: row.get(1)?,
                kind: row.get::<_, String>(2)?.parse::<Kind>().map_err(conversion)?,
                flags: decode_flags(&row.get::<_, Option<String>>(11)?.unwrap_or_default())
                    .into_iter()
                    .map(|(kind, _)| kind)
                    .collect(),
                country: row.get(12)?,
                asn: row.get(13)?,
                as_org: row.get(14)?,
                hosting: row.get(15)?,
                categories: Vec::new(),
                malware: Vec::new(),
                sources: Vec::new(),
                ports: Vec::new(),
                first_seen: i64::MAX,
                last_seen: i64::MIN,
                last_import: 0,
            };
            current = Some((indicator, ScopeAcc::default(), Vec::new()));
        }
        let Some((indicator, acc, derived)) = current.as_mut() else { continue };
        acc.sources.insert(row.get(3)?);
        acc.categories.insert(row.get::<_, String>(4)?.parse().map_err(conversion)?);
        let malware: String = row.get(5)?;
        if !malware.is_empty() {
            acc.malware.insert(malware);
        }
        if let Ok(port) = u16::try_from(row.get::<_, i64>(6)?) {
            if port != 0 {
                acc.ports.insert(port);
            }
        }
        indicator.first_seen = indicator.first_seen.min(row.get(7)?);
        indicator.last_seen = indicator.last_seen.max(row.get(8)?);
        indicator.last_import = indicator.last_import.max(row.get(9)?);
        let derived_from: i64 = row.get(10)?;
        if derived_from != 0 {
            derived.push(derived_from);
        }
    }
    if let Some((indicator, acc, derived)) = current {
        done(acc.finish(indicator), &derived)?;
    }
    Ok(())
}

impl ScopeAcc {
    /// `indicator` with the lists gathered from its sightings.
    fn finish(self, mut indicator: OpIndicator) -> OpIndicator {
        indicator.categories = self.categories.into_iter().collect();
        indicator.malware = self.malware.into_iter().collect();
        indicator.sources = self.sources.into_iter().collect();
        indicator.ports = self.ports.into_iter().collect();
        indicator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scope walk of `targets build` goes down the value index with
    /// the indicators outside: no temporary b-tree holding the whole scope
    /// (its memory and time grew faster than the store, 1 GB at 5M).
    #[test]
    fn the_scope_walk_reads_the_value_index_in_order() {
        let store = crate::SqliteStore::open_in_memory().unwrap();
        let plan = crate::sqlite::query_plan(&store, &scope_walk_sql());
        assert!(plan.starts_with("SCAN i USING INDEX"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(plan.contains("SEARCH s USING PRIMARY KEY (indicator_id=?)"), "{plan}");
    }
}
