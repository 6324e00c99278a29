//! PostgreSQL implementation of the operations storage (see `crate::ops`).
//!
//! Lists (categories, families, partners, ports) are arrays. Every write
//! transaction takes the operations lock, so that [`OpsStore::atomically`]
//! holds off every other writer of operations from its start, as SQLite's
//! `IMMEDIATE` transaction does: what it reads stays true until it
//! commits.

use std::collections::{BTreeSet, HashMap, HashSet};

use cordon_model::{Category, Consent};
use postgres::Row;

use super::{get, parsed, Conn, OPS_LOCK};
use crate::ops::{
    Check, ContactRef, Evidence, OpIndicator, OpScope, Operation, OpsStore, Outcome, ReportCounts, Target,
    TargetCursor, TargetFilter, TargetKind, TargetOrder, TargetPage, TargetSpec, TargetState, Transition, SCOPE_ORDER,
};
use crate::shared::{tlp_from_code, SIGHTING_ORDER};
use crate::StoreError;

fn contact(name: Option<String>, email: Option<String>) -> Option<ContactRef> {
    Some(ContactRef { name: name?, email: email? })
}

/// Parses every element of a text array.
pub(super) fn parse_all<T: std::str::FromStr>(texts: Vec<String>) -> Result<Vec<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    texts
        .into_iter()
        .map(|t| t.parse().map_err(|e: T::Err| StoreError::Database(format!("unreadable stored value '{t}': {e}"))))
        .collect()
}

/// Ports as stored (`bigint[]`) to ports.
fn ports(stored: Vec<i64>) -> Vec<u16> {
    stored.into_iter().filter_map(|p| u16::try_from(p).ok()).filter(|p| *p != 0).collect()
}

const TARGET_COLUMNS: &str = "t.id, t.operation_id, t.state, unix(t.created), t.key, t.kind, t.country, t.asn,
    t.as_org, t.hosting, t.provider_name, t.provider_email, t.agency_name, t.agency_email, t.categories, t.malware,
    t.partners, t.ports, unix(t.first_seen), unix(t.last_seen), t.last_import";

fn target_row(row: &Row) -> Result<Target, StoreError> {
    Ok(Target {
        id: get(row, 0)?,
        operation_id: get(row, 1)?,
        state: parsed(row, 2)?,
        created: get(row, 3)?,
        spec: TargetSpec {
            key: get(row, 4)?,
            kind: TargetKind::from_name(get(row, 5)?),
            country: get(row, 6)?,
            asn: get::<Option<i64>>(row, 7)?.and_then(|a| u32::try_from(a).ok()),
            as_org: get(row, 8)?,
            hosting: get(row, 9)?,
            provider: contact(get(row, 10)?, get(row, 11)?),
            agency: contact(get(row, 12)?, get(row, 13)?),
            categories: parse_all(get(row, 14)?)?,
            malware: get(row, 15)?,
            partners: get(row, 16)?,
            ports: ports(get(row, 17)?),
            first_seen: get(row, 18)?,
            last_seen: get(row, 19)?,
            last_import: get(row, 20)?,
            members: Vec::new(),
        },
    })
}

/// The conditions of a [`TargetFilter`], over `targets t`, parameters $1
/// to $8 in the order of [`FilterParams::as_params`]. `lower` under the
/// "C" collation changes ASCII letters only, as `to_ascii_lowercase` does.
const TARGET_FILTER: &str = "($1::bigint IS NULL OR t.operation_id = $1::bigint)
    AND ($2::bigint IS NULL OR t.id = $2::bigint)
    AND ($3::text IS NULL OR t.country = $3::text) AND ($4::bigint IS NULL OR t.asn = $4::bigint)
    AND ($5::text IS NULL OR t.state = $5::text)
    AND ($6::text IS NULL OR $6::text = ANY (t.categories))
    AND ($7::text IS NULL OR t.kind = $7::text)
    AND ($8::text IS NULL OR strpos(lower(t.key COLLATE \"C\"), $8::text) > 0)";

/// The values of [`TARGET_FILTER`]'s parameters.
struct FilterParams {
    operation_id: Option<i64>,
    id: Option<i64>,
    country: Option<String>,
    asn: Option<i64>,
    state: Option<&'static str>,
    category: Option<&'static str>,
    kind: Option<&'static str>,
    key_contains: Option<String>,
}

fn filter_params(filter: &TargetFilter) -> FilterParams {
    FilterParams {
        operation_id: filter.operation_id,
        id: filter.id,
        country: filter.country.as_deref().map(str::to_ascii_uppercase),
        asn: filter.asn.map(i64::from),
        state: filter.state.map(TargetState::as_str),
        category: filter.category.map(Category::as_str),
        kind: filter.kind.map(TargetKind::as_str),
        key_contains: filter.key_contains.as_deref().map(str::to_ascii_lowercase),
    }
}

impl FilterParams {
    /// $1 to $8.
    fn as_params(&self) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        vec![
            &self.operation_id,
            &self.id,
            &self.country,
            &self.asn,
            &self.state,
            &self.category,
            &self.kind,
            &self.key_contains,
        ]
    }
}

const TRANSITION_COLUMNS: &str =
    "x.target_id, unix(x.time), x.from_state, x.to_state, x.reason, x.actor, x.note, x.import_mark";

fn transition_row(row: &Row) -> Result<Transition, StoreError> {
    let from: Option<&str> = get(row, 2)?;
    Ok(Transition {
        target_id: get(row, 0)?,
        time: get(row, 1)?,
        from: from
            .map(|f| f.parse().map_err(|e: crate::ops::UnknownState| StoreError::Database(e.to_string())))
            .transpose()?,
        to: parsed(row, 3)?,
        reason: get(row, 4)?,
        actor: get(row, 5)?,
        note: get(row, 6)?,
        import_mark: get(row, 7)?,
    })
}

fn operation_row(r: &Row) -> Result<Operation, StoreError> {
    Ok(Operation {
        id: get(r, 0)?,
        name: get(r, 1)?,
        start: get(r, 2)?,
        end: get(r, 3)?,
        description: get(r, 4)?,
        created: get(r, 5)?,
    })
}

const OPERATION_COLUMNS: &str = "id, name, unix(start_at), unix(end_at), description, unix(created)";

/// The operation (`$1`): its window and its attached imports, the CTEs
/// that [`IN_SCOPE`] reads.
const SCOPE_WITH: &str = "WITH op AS (SELECT start_at, end_at FROM operations WHERE id = $1),
          attached AS (SELECT import_id FROM operation_imports WHERE operation_id = $1)";

/// Whether the sighting `s` puts its indicator in the operation's scope
/// (`op` joined): inside its window, or of an attached import.
const IN_SCOPE: &str = "((s.last_seen >= op.start_at AND s.first_seen <= op.end_at)
               OR s.created_import IN (SELECT import_id FROM attached)
               OR s.last_import IN (SELECT import_id FROM attached))";

/// The operation's indicators (`$1`; of the kinds `$2`, every kind when
/// null) among those `ids` selects (a query of [`IN_SCOPE`] sightings
/// naming `id`), with what planning needs, one row each as [`scope_row`]
/// reads it; the caller adds the order.
fn scope_select(ids: &str) -> String {
    format!(
        "{SCOPE_WITH}, ids AS ({ids})
     SELECT i.id, i.value, i.kind, e.flag_names, e.country, e.asn, e.as_org, e.hosting,
            array_agg(DISTINCT s.category), array_agg(DISTINCT s.malware) FILTER (WHERE s.malware <> ''),
            array_agg(DISTINCT src.name), array_agg(DISTINCT s.port) FILTER (WHERE s.port <> 0),
            unix(min(s.first_seen)), unix(max(s.last_seen)), max(s.last_import),
            array_agg(DISTINCT s.derived_from) FILTER (WHERE s.derived_from <> 0)
     FROM ids JOIN indicators i ON i.id = ids.id
     JOIN sightings s ON s.indicator_id = i.id
     JOIN sources src ON src.id = s.source_id
     LEFT JOIN enrichment e ON e.indicator_id = i.id
     WHERE $2::text[] IS NULL OR i.kind = ANY($2::text[])
     GROUP BY i.id, e.indicator_id"
    )
}

/// Every indicator of the operation's scope, for [`scope_select`].
fn whole_scope() -> String {
    format!("SELECT DISTINCT s.indicator_id AS id FROM sightings s, op WHERE {IN_SCOPE}")
}

/// One row of [`scope_select`]: the indicator, and those it derives from.
fn scope_row(row: &Row) -> Result<(OpIndicator, Vec<i64>), StoreError> {
    let categories: BTreeSet<Category> = parse_all::<Category>(get(row, 8)?)?.into_iter().collect();
    let mut malware: Vec<String> = get::<Option<Vec<String>>>(row, 9)?.unwrap_or_default();
    malware.sort();
    let mut sources: Vec<String> = get(row, 10)?;
    sources.sort();
    let mut port_list = ports(get::<Option<Vec<i64>>>(row, 11)?.unwrap_or_default());
    port_list.sort_unstable();
    let indicator = OpIndicator {
        id: get(row, 0)?,
        value: get(row, 1)?,
        kind: parsed(row, 2)?,
        flags: get::<Option<Vec<String>>>(row, 3)?.unwrap_or_default(),
        country: get(row, 4)?,
        asn: get::<Option<i64>>(row, 5)?.and_then(|a| u32::try_from(a).ok()),
        as_org: get(row, 6)?,
        hosting: get(row, 7)?,
        categories: categories.into_iter().collect(),
        malware,
        sources,
        ports: port_list,
        first_seen: get(row, 12)?,
        last_seen: get(row, 13)?,
        last_import: get(row, 14)?,
    };
    Ok((indicator, get::<Option<Vec<i64>>>(row, 15)?.unwrap_or_default()))
}

impl OpsStore for Conn {
    fn atomically(&self, work: &mut dyn FnMut(&dyn OpsStore) -> Result<(), StoreError>) -> Result<(), StoreError> {
        ops_write(self, |c| work(c))
    }

    fn states(&self, target_ids: &[i64]) -> Result<HashMap<i64, TargetState>, StoreError> {
        let rows = self.query("SELECT id, state FROM targets WHERE id = ANY($1)", &[&target_ids])?;
        rows.iter().map(|r| Ok((get(r, 0)?, parsed(r, 1)?))).collect()
    }

    fn create_operation(&self, operation: &Operation) -> Result<i64, StoreError> {
        self.value(
            "INSERT INTO operations (name, start_at, end_at, description, created)
             VALUES ($1, ts($2), ts($3), $4, ts($5)) RETURNING id",
            &[&operation.name, &operation.start, &operation.end, &operation.description, &operation.created],
        )
    }

    fn operations(&self) -> Result<Vec<Operation>, StoreError> {
        let rows = self.query(&format!("SELECT {OPERATION_COLUMNS} FROM operations ORDER BY name"), &[])?;
        rows.iter().map(operation_row).collect()
    }

    fn operation(&self, name: &str) -> Result<Option<Operation>, StoreError> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE name = $1");
        self.query_opt(&sql, &[&name])?.map(|r| operation_row(&r)).transpose()
    }

    fn attach_import(&self, operation: &str, import_id: i64) -> Result<(), StoreError> {
        let Some(found) = self.operation(operation)? else {
            return Err(StoreError::Aborted(format!("there is no operation '{operation}'")));
        };
        self.execute(
            "INSERT INTO operation_imports (operation_id, import_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&found.id, &import_id],
        )?;
        Ok(())
    }

    fn scope(&self, operation_id: i64) -> Result<OpScope, StoreError> {
        let mut scope = OpScope::default();
        let mut links = Vec::new();
        let every_kind: Option<Vec<&str>> = None;
        self.stream(
            &format!("{} ORDER BY i.id", scope_select(&whole_scope())),
            &[&operation_id, &every_kind],
            |row| {
                let (indicator, derived_from) = scope_row(row)?;
                links.extend(derived_from.into_iter().map(|from| (indicator.id, from)));
                scope.indicators.push(indicator);
                Ok(true)
            },
        )?;
        let ids: HashSet<i64> = scope.indicators.iter().map(|i| i.id).collect();
        links.retain(|(a, b)| ids.contains(a) && ids.contains(b));
        links.sort_unstable();
        links.dedup();
        scope.links = links;
        Ok(scope)
    }

    fn scope_links(&self, operation_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = self.query(
            &format!(
                "{SCOPE_WITH}, ids AS MATERIALIZED ({})
                 SELECT DISTINCT s.indicator_id, s.derived_from FROM sightings s
                 WHERE s.derived_from <> 0 AND s.indicator_id IN (SELECT id FROM ids)
                   AND s.derived_from IN (SELECT id FROM ids)
                 ORDER BY 1, 2",
                whole_scope()
            ),
            &[&operation_id],
        )?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    fn scope_indicators(&self, operation_id: i64, ids: &[i64]) -> Result<Vec<OpIndicator>, StoreError> {
        let every_kind: Option<Vec<&str>> = None;
        let among = format!(
            "SELECT DISTINCT s.indicator_id AS id FROM sightings s, op WHERE s.indicator_id = ANY($3) AND {IN_SCOPE}"
        );
        let rows =
            self.query(&format!("{} ORDER BY i.id", scope_select(&among)), &[&operation_id, &every_kind, &ids])?;
        rows.iter().map(|row| scope_row(row).map(|(indicator, _)| indicator)).collect()
    }

    fn scope_each(
        &self,
        operation_id: i64,
        batch: usize,
        each: &mut dyn FnMut(&[OpIndicator]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A cursor, fetched a batch at a time: `each` may use this very
        // connection between two fetches (inside `atomically`), which a
        // streamed result would hold.
        let batch = batch.max(1);
        self.transaction(None, |c| {
            for kinds in SCOPE_ORDER {
                let kinds: Option<Vec<&str>> = Some(kinds.iter().map(|k| k.as_str()).collect());
                c.execute(
                    &format!(
                        "DECLARE scope_batches NO SCROLL CURSOR FOR {} ORDER BY i.value",
                        scope_select(&whole_scope())
                    ),
                    &[&operation_id, &kinds],
                )?;
                loop {
                    let rows = c.query(&format!("FETCH {batch} FROM scope_batches"), &[])?;
                    if rows.is_empty() {
                        break;
                    }
                    let indicators: Vec<OpIndicator> = rows
                        .iter()
                        .map(|row| scope_row(row).map(|(indicator, _)| indicator))
                        .collect::<Result<_, _>>()?;
                    each(&indicators)?;
                }
                c.execute("CLOSE scope_batches", &[])?;
            }
            Ok(())
        })
    }

    fn upsert_targets(
        &self,
        operation_id: i64,
        specs: &[TargetSpec],
        time: i64,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        ops_write(self, |c| upsert_targets(c, operation_id, specs, time))
    }

    fn targets(&self, filter: &TargetFilter) -> Result<Vec<Target>, StoreError> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} ORDER BY t.id");
        let rows = self.query(&sql, &filter_params(filter).as_params())?;
        rows.iter().map(target_row).collect()
    }

    fn targets_after(&self, filter: &TargetFilter, after: i64, limit: usize) -> Result<Vec<Target>, StoreError> {
        // Paging a build's own targets (its withdrawals and re-emergences)
        // wants their statistics: without, the planner reads the
        // operation's targets by state and sorts them, page after page.
        if self.depth.get() > 0 {
            analyze_if_grown(self, false)?;
        }
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} AND t.id > $9 ORDER BY t.id LIMIT $10"
        );
        let filter = filter_params(filter);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut params = filter.as_params();
        params.extend([&after as &(dyn postgres::types::ToSql + Sync), &limit]);
        let rows = self.query(&sql, &params)?;
        rows.iter().map(target_row).collect()
    }

    fn targets_page(&self, filter: &TargetFilter, page: &TargetPage) -> Result<Vec<Target>, StoreError> {
        let descending = page.order.descending() != page.backward;
        let (direction, past) = if descending { ("DESC", "<") } else { ("ASC", ">") };
        let sort = match page.order {
            TargetOrder::Id => "t.id",
            TargetOrder::Key => "t.key COLLATE \"C\"",
            TargetOrder::State => "t.state COLLATE \"C\"",
            TargetOrder::Country => "COALESCE(t.country, '') COLLATE \"C\"",
            TargetOrder::LastSeen => "t.last_seen",
        };
        let params = filter_params(filter);
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let cursor = page.after.as_ref();
        let (id, text, time) =
            (cursor.map_or(0, |c| c.id), cursor.map_or("", TargetCursor::text), cursor.map_or(0, TargetCursor::time));
        let mut values = params.as_params();
        values.push(&limit);
        let after = match (cursor, page.order) {
            (None, _) => "true".to_string(),
            (Some(_), TargetOrder::Id) => {
                values.push(&id);
                format!("t.id {past} $10")
            }
            (Some(_), TargetOrder::LastSeen) => {
                values.extend([&time as &(dyn postgres::types::ToSql + Sync), &id]);
                format!("(t.last_seen, t.id) {past} (ts($10::bigint), $11::bigint)")
            }
            (Some(_), _) => {
                values.extend([&text as &(dyn postgres::types::ToSql + Sync), &id]);
                format!("({sort}, t.id) {past} ($10::text COLLATE \"C\", $11::bigint)")
            }
        };
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} AND {after}
             ORDER BY {sort} {direction}, t.id {direction} LIMIT $9::bigint"
        );
        let rows = self.query(&sql, &values)?;
        let mut targets = rows.iter().map(target_row).collect::<Result<Vec<_>, _>>()?;
        if page.backward {
            targets.reverse();
        }
        Ok(targets)
    }

    fn count_targets(&self, filter: &TargetFilter) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM targets t WHERE {TARGET_FILTER}");
        let rows = self.query(&sql, &filter_params(filter).as_params())?;
        let count: i64 = rows.first().map(|r| get(r, 0)).transpose()?.unwrap_or(0);
        Ok(count.max(0) as u64)
    }

    fn members(&self, target_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT i.value FROM target_members m JOIN indicators i ON i.id = m.indicator_id
             WHERE m.target_id = $1 ORDER BY i.value",
            &[&target_id],
        )?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    fn history(&self, target_id: i64) -> Result<Vec<Transition>, StoreError> {
        let sql = format!("SELECT {TRANSITION_COLUMNS} FROM transitions x WHERE x.target_id = $1 ORDER BY x.id");
        self.query(&sql, &[&target_id])?.iter().map(transition_row).collect()
    }

    fn operation_history(&self, operation_id: i64) -> Result<Vec<Transition>, StoreError> {
        let sql = format!(
            "SELECT {TRANSITION_COLUMNS} FROM transitions x JOIN targets t ON t.id = x.target_id
             WHERE t.operation_id = $1 ORDER BY x.id"
        );
        self.query(&sql, &[&operation_id])?.iter().map(transition_row).collect()
    }

    fn append_transitions(&self, transitions: &[Transition]) -> Result<(), StoreError> {
        ops_write(self, |c| append_transitions(c, transitions))
    }

    fn move_targets(
        &self,
        target_ids: &[i64],
        from: TargetState,
        transition: &Transition,
    ) -> Result<Vec<i64>, StoreError> {
        ops_write(self, |c| {
            let rows = c.query(
                "WITH moved AS (
                    UPDATE targets SET state = $3 WHERE id = ANY($1) AND state = $2 RETURNING id)
                 INSERT INTO transitions (target_id, time, from_state, to_state, reason, actor, note, import_mark)
                 SELECT id, ts($4), $2, $3, $5, $6, $7, $8 FROM moved ORDER BY id
                 RETURNING target_id",
                &[
                    &target_ids,
                    &from.as_str(),
                    &transition.to.as_str(),
                    &transition.time,
                    &transition.reason,
                    &transition.actor,
                    &transition.note,
                    &transition.import_mark,
                ],
            )?;
            let mut moved: Vec<i64> = rows.iter().map(|r| get(r, 0)).collect::<Result<_, _>>()?;
            c.grown_transitions.set(c.grown_transitions.get() + moved.len() as u64);
            moved.sort_unstable();
            Ok(moved)
        })
    }

    fn newest_import(&self) -> Result<i64, StoreError> {
        self.value("SELECT coalesce(max(id), 0)::bigint FROM imports", &[])
    }

    fn evidence(&self, target_ids: &[i64]) -> Result<Vec<Evidence>, StoreError> {
        // One query for the page: each target's rows in the order of
        // `target_ids` (a repeated id repeats its rows), then as before.
        let sql = format!(
            "SELECT m.target_id, i.value, i.kind, src.name, src.org_id, s.category, s.malware, s.tlp, s.port,
                    unix(s.first_seen), unix(s.last_seen), s.confidence, src.amber_agencies, src.amber_providers
             FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)
             JOIN target_members m ON m.target_id = u.id JOIN indicators i ON i.id = m.indicator_id
             JOIN sightings s ON s.indicator_id = i.id JOIN sources src ON src.id = s.source_id
             ORDER BY u.n, i.value, src.name, {SIGHTING_ORDER}"
        );
        let mut out = Vec::new();
        for r in self.query(&sql, &[&target_ids])? {
            let malware: String = get(&r, 6)?;
            out.push(Evidence {
                target_id: get(&r, 0)?,
                value: get(&r, 1)?,
                kind: parsed(&r, 2)?,
                source: get(&r, 3)?,
                source_org: get(&r, 4)?,
                consent: Consent { agencies: get(&r, 12)?, providers: get(&r, 13)? },
                category: parsed(&r, 5)?,
                malware: (!malware.is_empty()).then_some(malware),
                tlp: tlp_from_code(get(&r, 7)?),
                port: u16::try_from(get::<i64>(&r, 8)?).ok().filter(|p| *p != 0),
                first_seen: get(&r, 9)?,
                last_seen: get(&r, 10)?,
                confidence: get::<i64>(&r, 11)?.clamp(0, 100) as u8,
            });
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
        self.transaction(Some(OPS_LOCK), |c| {
            let id: i64 = c.value(
                "INSERT INTO packages (operation_id, country, path, manifest_sha256, created)
                 VALUES ($1, $2, $3, $4, ts($5)) RETURNING id",
                &[&operation_id, &country, &path, &manifest_sha256, &time],
            )?;
            c.execute(
                "INSERT INTO package_targets (package_id, target_id) SELECT $1, unnest($2::bigint[])
                 ON CONFLICT DO NOTHING",
                &[&id, &target_ids],
            )?;
            Ok(id)
        })
    }

    fn last_notified(&self, contact: &str, target_id: i64) -> Result<Option<i64>, StoreError> {
        self.value(
            "SELECT unix(max(time)) FROM notifications WHERE contact = $1 AND target_id = $2",
            &[&contact, &target_id],
        )
    }

    fn record_notification(
        &self,
        operation_id: i64,
        contact: &str,
        message_id: &str,
        target_ids: &[i64],
        time: i64,
    ) -> Result<(), StoreError> {
        self.transaction(Some(OPS_LOCK), |c| {
            c.execute(
                "INSERT INTO notifications (operation_id, contact, target_id, message_id, time)
                 SELECT $1, $2, t, $3, ts($4) FROM unnest($5::bigint[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
                &[&operation_id, &contact, &message_id, &time, &target_ids],
            )?;
            Ok(())
        })
    }

    fn record_checks(&self, checks: &[Check]) -> Result<(), StoreError> {
        self.transaction(Some(OPS_LOCK), |c| {
            for check in checks {
                c.execute(
                    "INSERT INTO checks (target_id, time, up, detail) VALUES ($1, ts($2), $3, $4)",
                    &[&check.target_id, &check.time, &check.up, &check.detail],
                )?;
            }
            Ok(())
        })
    }

    fn checks(&self, target_id: i64) -> Result<Vec<Check>, StoreError> {
        let rows = self.query(
            "SELECT target_id, unix(time), up, detail FROM checks WHERE target_id = $1 ORDER BY time, id",
            &[&target_id],
        )?;
        rows.iter()
            .map(|r| Ok(Check { target_id: get(r, 0)?, time: get(r, 1)?, up: get(r, 2)?, detail: get(r, 3)? }))
            .collect()
    }

    fn add_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO outcomes (operation_id, country, kind, count, date, note) VALUES ($1, $2, $3, $4, ts($5), $6)",
            &[
                &outcome.operation_id,
                &outcome.country,
                &outcome.kind,
                &i64::try_from(outcome.count).unwrap_or(i64::MAX),
                &outcome.date,
                &outcome.note,
            ],
        )?;
        Ok(())
    }

    fn outcomes(&self, operation_id: i64) -> Result<Vec<Outcome>, StoreError> {
        let rows = self.query(
            "SELECT operation_id, country, kind, count, unix(date), note FROM outcomes WHERE operation_id = $1
             ORDER BY date, id",
            &[&operation_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Outcome {
                    operation_id: get(r, 0)?,
                    country: get(r, 1)?,
                    kind: get(r, 2)?,
                    count: get::<i64>(r, 3)?.max(0) as u64,
                    date: get(r, 4)?,
                    note: get(r, 5)?,
                })
            })
            .collect()
    }

    fn report_counts(&self, operation_id: i64) -> Result<ReportCounts, StoreError> {
        super::report::counts(self, operation_id)
    }
}

/// A write of the operations storage: a transaction holding the operations
/// lock; the outermost one brings the statistics of the tables it grew up
/// to date before it commits ([`analyze_if_grown`]).
fn ops_write<T>(conn: &Conn, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
    conn.transaction(Some(OPS_LOCK), |c| {
        let out = work(c)?;
        if c.depth.get() == 1 {
            analyze_if_grown(c, true)?;
        }
        Ok(out)
    })
}

/// A transaction that grew the targets (or, with `transitions`, their
/// history) by a tenth (autovacuum's threshold for a new `ANALYZE`) and
/// by at least [`ANALYZE_ROWS`] rows runs `ANALYZE` on the targets, their
/// members and transitions, as an import does on the sightings: a
/// `targets build` writes them all in one transaction, after which the
/// planner would take a million targets for none (a page of
/// `targets_after` read by state and sorted: 420 ms at 1M where the
/// primary key takes 2 ms). `ANALYZE` reads a fixed-size sample; inside
/// the transaction it sees the transaction's own rows.
fn analyze_if_grown(c: &Conn, transitions: bool) -> Result<(), StoreError> {
    let targets = c.grown_targets.get();
    let steps = if transitions { c.grown_transitions.get() } else { 0 };
    if targets < ANALYZE_ROWS && steps < ANALYZE_ROWS {
        return Ok(());
    }
    let Some(row) = c.query_opt(
        "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'targets'::regclass),
                (SELECT reltuples FROM pg_class WHERE oid = 'transitions'::regclass)",
        &[],
    )?
    else {
        return Ok(());
    };
    let (target_rows, step_rows): (f32, f32) = (get(&row, 0)?, get(&row, 1)?);
    let tenth = |new: u64, rows: f32| new >= ANALYZE_ROWS && new as f32 >= rows.max(0.0) / 10.0;
    if tenth(targets, target_rows) || tenth(steps, step_rows) {
        c.client().batch_execute("ANALYZE targets, target_members, transitions")?;
        c.grown_targets.set(0);
        c.grown_transitions.set(0);
    }
    Ok(())
}

/// Below this many new rows a write of the operations storage leaves
/// statistics to autovacuum.
const ANALYZE_ROWS: u64 = 10_000;

/// `items` as a PostgreSQL array literal (`{"a","b\"c"}`): every element
/// quoted, `"` and `\` escaped, so that `::text[]` (or `::bigint[]`)
/// reads back exactly these elements in this order. How a row of
/// [`upsert_targets`]'s `unnest` carries a list: `unnest` cannot take an
/// array of arrays of different lengths.
fn array_literal<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: std::fmt::Display,
{
    use std::fmt::Write;
    let mut out = String::from("{");
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = write!(text, "{item}");
        for ch in text.chars() {
            if ch == '"' || ch == '\\' {
                out.push('\\');
            }
            out.push(ch);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// [`OpsStore::upsert_targets`] inside its transaction: one `INSERT … ON
/// CONFLICT DO UPDATE` over `unnest` of the specs (a key given twice is
/// written once, with its last spec's values and every spec's members, as
/// one spec after the other would leave it), then one `INSERT` of every
/// member. Each spec's answer is its row's after the statement: new when
/// created at `time` with no history.
fn upsert_targets(
    c: &Conn,
    operation_id: i64,
    specs: &[TargetSpec],
    time: i64,
) -> Result<Vec<(i64, bool)>, StoreError> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    // Each key's slot (in the order keys first appear) and the spec whose
    // values it takes (the last with that key).
    let mut slots: HashMap<&str, usize> = HashMap::with_capacity(specs.len());
    let mut last: Vec<&TargetSpec> = Vec::with_capacity(specs.len());
    let mut slot_of = Vec::with_capacity(specs.len());
    for spec in specs {
        let slot = *slots.entry(spec.key.as_str()).or_insert_with(|| {
            last.push(spec);
            last.len() - 1
        });
        last[slot] = spec;
        slot_of.push(slot);
    }
    let text = |f: fn(&TargetSpec) -> Option<&str>| last.iter().map(|s| f(s)).collect::<Vec<Option<&str>>>();
    let keys: Vec<&str> = last.iter().map(|s| s.key.as_str()).collect();
    let kinds: Vec<&str> = last.iter().map(|s| s.kind.as_str()).collect();
    let countries = text(|s| s.country.as_deref());
    let asns: Vec<Option<i64>> = last.iter().map(|s| s.asn.map(i64::from)).collect();
    let as_orgs = text(|s| s.as_org.as_deref());
    let hostings = text(|s| s.hosting.as_deref());
    let provider_names = text(|s| s.provider.as_ref().map(|p| p.name.as_str()));
    let provider_emails = text(|s| s.provider.as_ref().map(|p| p.email.as_str()));
    let agency_names = text(|s| s.agency.as_ref().map(|a| a.name.as_str()));
    let agency_emails = text(|s| s.agency.as_ref().map(|a| a.email.as_str()));
    let categories: Vec<String> = last.iter().map(|s| array_literal(s.categories.iter().map(|k| k.as_str()))).collect();
    let malware: Vec<String> = last.iter().map(|s| array_literal(&s.malware)).collect();
    let partners: Vec<String> = last.iter().map(|s| array_literal(&s.partners)).collect();
    let port_lists: Vec<String> = last.iter().map(|s| array_literal(&s.ports)).collect();
    let first_seen: Vec<i64> = last.iter().map(|s| s.first_seen).collect();
    let last_seen: Vec<i64> = last.iter().map(|s| s.last_seen).collect();
    let last_import: Vec<i64> = last.iter().map(|s| s.last_import).collect();
    let rows = c.query(
        "INSERT INTO targets (operation_id, key, kind, state, country, asn, as_org, hosting,
             provider_name, provider_email, agency_name, agency_email, categories, malware,
             partners, ports, first_seen, last_seen, last_import, created)
         SELECT $1, u.key, u.kind, 'identified', u.country, u.asn, u.as_org, u.hosting,
             u.provider_name, u.provider_email, u.agency_name, u.agency_email, u.categories::text[],
             u.malware::text[], u.partners::text[], u.ports::bigint[], ts(u.first_seen), ts(u.last_seen),
             u.last_import, ts($2)
         FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                     $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                     $17::bigint[], $18::bigint[], $19::bigint[])
             WITH ORDINALITY AS u(key, kind, country, asn, as_org, hosting, provider_name, provider_email,
                 agency_name, agency_email, categories, malware, partners, ports, first_seen, last_seen,
                 last_import, n)
         ORDER BY u.n
         ON CONFLICT (operation_id, key) DO UPDATE SET
             kind = excluded.kind, country = excluded.country, asn = excluded.asn,
             as_org = excluded.as_org, hosting = excluded.hosting,
             provider_name = excluded.provider_name, provider_email = excluded.provider_email,
             agency_name = excluded.agency_name, agency_email = excluded.agency_email,
             categories = excluded.categories, malware = excluded.malware,
             partners = excluded.partners, ports = excluded.ports,
             first_seen = excluded.first_seen, last_seen = excluded.last_seen,
             last_import = excluded.last_import
         RETURNING key, id, unix(created) = $2 AND NOT EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = targets.id),
             xmax = 0",
        &[
            &operation_id,
            &time,
            &keys,
            &kinds,
            &countries,
            &asns,
            &as_orgs,
            &hostings,
            &provider_names,
            &provider_emails,
            &agency_names,
            &agency_emails,
            &categories,
            &malware,
            &partners,
            &port_lists,
            &first_seen,
            &last_seen,
            &last_import,
        ],
    )?;
    let mut answers: Vec<Option<(i64, bool)>> = vec![None; last.len()];
    let mut inserted = 0u64;
    for row in &rows {
        let key: &str = get(row, 0)?;
        let Some(&slot) = slots.get(key) else {
            return Err(StoreError::Database(format!("the upsert returned the unknown target '{key}'")));
        };
        answers[slot] = Some((get(row, 1)?, get(row, 2)?));
        if get::<bool>(row, 3)? {
            inserted += 1;
        }
    }
    c.grown_targets.set(c.grown_targets.get() + inserted);
    let answers: Vec<(i64, bool)> = answers
        .into_iter()
        .map(|a| a.ok_or_else(|| StoreError::Database("the target vanished".to_string())))
        .collect::<Result<_, _>>()?;
    let (mut member_targets, mut member_ids) = (Vec::new(), Vec::new());
    for (spec, &slot) in specs.iter().zip(&slot_of) {
        for member in &spec.members {
            member_targets.push(answers[slot].0);
            member_ids.push(*member);
        }
    }
    if !member_ids.is_empty() {
        c.execute(
            "INSERT INTO target_members (target_id, indicator_id)
             SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
            &[&member_targets, &member_ids],
        )?;
    }
    Ok(slot_of.iter().map(|&slot| answers[slot]).collect())
}

/// [`OpsStore::append_transitions`] inside its transaction: the targets'
/// rows read and locked in one statement, every transition checked in
/// order against the state the ones before it leave (so nothing is
/// written unless all of them hold, as one at a time would fail at the
/// first that does not), then one `INSERT` of them all in their order and
/// one `UPDATE` of each target to its last state.
fn append_transitions(c: &Conn, transitions: &[Transition]) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<i64> = transitions.iter().map(|t| t.target_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = c.query(
        "SELECT t.id, t.state, EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = t.id)
         FROM targets t WHERE t.id = ANY($1) ORDER BY t.id FOR UPDATE OF t",
        &[&ids],
    )?;
    // Each target's state (as read, and as the transitions leave it) and
    // whether it has a history.
    let mut now: HashMap<i64, (String, String, bool)> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let state: String = get(row, 1)?;
        now.insert(get(row, 0)?, (state.clone(), state, get(row, 2)?));
    }
    for t in transitions {
        let Some((_, state, history)) = now.get_mut(&t.target_id) else {
            return Err(StoreError::Aborted(format!("there is no target #{}", t.target_id)));
        };
        let expected = match t.from {
            Some(from) => from.as_str() == state.as_str(),
            None => !*history,
        };
        if !expected {
            return Err(StoreError::Aborted(format!(
                "target #{} is {state}, not {}",
                t.target_id,
                t.from.map_or("new", TargetState::as_str)
            )));
        }
        *state = t.to.as_str().to_string();
        *history = true;
    }
    let target_ids: Vec<i64> = transitions.iter().map(|t| t.target_id).collect();
    let times: Vec<i64> = transitions.iter().map(|t| t.time).collect();
    let froms: Vec<Option<&str>> = transitions.iter().map(|t| t.from.map(TargetState::as_str)).collect();
    let tos: Vec<&str> = transitions.iter().map(|t| t.to.as_str()).collect();
    let reasons: Vec<Option<&str>> = transitions.iter().map(|t| t.reason.as_deref()).collect();
    let actors: Vec<&str> = transitions.iter().map(|t| t.actor.as_str()).collect();
    let notes: Vec<&str> = transitions.iter().map(|t| t.note.as_str()).collect();
    let marks: Vec<i64> = transitions.iter().map(|t| t.import_mark).collect();
    c.execute(
        "INSERT INTO transitions (target_id, time, from_state, to_state, reason, actor, note, import_mark)
         SELECT u.target_id, ts(u.time), u.from_state, u.to_state, u.reason, u.actor, u.note, u.import_mark
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::bigint[])
             WITH ORDINALITY AS u(target_id, time, from_state, to_state, reason, actor, note, import_mark, n)
         ORDER BY u.n",
        &[&target_ids, &times, &froms, &tos, &reasons, &actors, &notes, &marks],
    )?;
    c.grown_transitions.set(c.grown_transitions.get() + transitions.len() as u64);
    // Only the targets whose state changes: a build's first transitions
    // (to `identified`, the state a target is made in) would otherwise
    // write every target again, index entries and all.
    let (moved, states): (Vec<i64>, Vec<&str>) = now
        .iter()
        .filter(|(_, (read, state, _))| read != state)
        .map(|(id, (_, state, _))| (*id, state.as_str()))
        .unzip();
    if moved.is_empty() {
        return Ok(());
    }
    c.execute(
        "UPDATE targets t SET state = u.state FROM unnest($1::bigint[], $2::text[]) AS u(id, state)
         WHERE t.id = u.id",
        &[&moved, &states],
    )?;
    Ok(())
}
