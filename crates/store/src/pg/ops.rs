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
        self.transaction(Some(OPS_LOCK), |c| work(c))
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
        self.transaction(Some(OPS_LOCK), |c| {
            let mut out = Vec::with_capacity(specs.len());
            for spec in specs {
                let categories: Vec<&str> = spec.categories.iter().map(|k| k.as_str()).collect();
                let port_list: Vec<i64> = spec.ports.iter().map(|p| i64::from(*p)).collect();
                let row = c
                    .query_opt(
                        "INSERT INTO targets (operation_id, key, kind, state, country, asn, as_org, hosting,
                             provider_name, provider_email, agency_name, agency_email, categories, malware,
                             partners, ports, first_seen, last_seen, last_import, created)
                         VALUES ($1, $2, $3, 'identified', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                             ts($16), ts($17), $18, ts($19))
                         ON CONFLICT (operation_id, key) DO UPDATE SET
                             kind = excluded.kind, country = excluded.country, asn = excluded.asn,
                             as_org = excluded.as_org, hosting = excluded.hosting,
                             provider_name = excluded.provider_name, provider_email = excluded.provider_email,
                             agency_name = excluded.agency_name, agency_email = excluded.agency_email,
                             categories = excluded.categories, malware = excluded.malware,
                             partners = excluded.partners, ports = excluded.ports,
                             first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                             last_import = excluded.last_import
                         RETURNING id, unix(created),
                             EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = targets.id)",
                        &[
                            &operation_id,
                            &spec.key,
                            &spec.kind.as_str(),
                            &spec.country,
                            &spec.asn.map(i64::from),
                            &spec.as_org,
                            &spec.hosting,
                            &spec.provider.as_ref().map(|p| &p.name),
                            &spec.provider.as_ref().map(|p| &p.email),
                            &spec.agency.as_ref().map(|a| &a.name),
                            &spec.agency.as_ref().map(|a| &a.email),
                            &categories,
                            &spec.malware,
                            &spec.partners,
                            &port_list,
                            &spec.first_seen,
                            &spec.last_seen,
                            &spec.last_import,
                            &time,
                        ],
                    )?
                    .ok_or_else(|| StoreError::Database("the target vanished".to_string()))?;
                let (id, created, history): (i64, i64, bool) = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
                c.execute(
                    "INSERT INTO target_members (target_id, indicator_id) SELECT $1, unnest($2::bigint[])
                     ON CONFLICT DO NOTHING",
                    &[&id, &spec.members],
                )?;
                out.push((id, created == time && !history));
            }
            Ok(out)
        })
    }

    fn targets(&self, filter: &TargetFilter) -> Result<Vec<Target>, StoreError> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM targets t WHERE {TARGET_FILTER} ORDER BY t.id");
        let rows = self.query(&sql, &filter_params(filter).as_params())?;
        rows.iter().map(target_row).collect()
    }

    fn targets_after(&self, filter: &TargetFilter, after: i64, limit: usize) -> Result<Vec<Target>, StoreError> {
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
        self.transaction(Some(OPS_LOCK), |c| {
            for t in transitions {
                let Some(now) = c.query_opt(
                    "SELECT state, EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = targets.id)
                     FROM targets WHERE id = $1 FOR UPDATE",
                    &[&t.target_id],
                )?
                else {
                    return Err(StoreError::Aborted(format!("there is no target #{}", t.target_id)));
                };
                let (state, history): (String, bool) = (get(&now, 0)?, get(&now, 1)?);
                let expected = match t.from {
                    Some(from) => from.as_str() == state,
                    None => !history,
                };
                if !expected {
                    return Err(StoreError::Aborted(format!(
                        "target #{} is {state}, not {}",
                        t.target_id,
                        t.from.map_or("new", TargetState::as_str)
                    )));
                }
                c.execute(
                    "INSERT INTO transitions (target_id, time, from_state, to_state, reason, actor, note, import_mark)
                     VALUES ($1, ts($2), $3, $4, $5, $6, $7, $8)",
                    &[
                        &t.target_id,
                        &t.time,
                        &t.from.map(TargetState::as_str),
                        &t.to.as_str(),
                        &t.reason,
                        &t.actor,
                        &t.note,
                        &t.import_mark,
                    ],
                )?;
                c.execute("UPDATE targets SET state = $2 WHERE id = $1", &[&t.target_id, &t.to.as_str()])?;
            }
            Ok(())
        })
    }

    fn move_targets(
        &self,
        target_ids: &[i64],
        from: TargetState,
        transition: &Transition,
    ) -> Result<Vec<i64>, StoreError> {
        self.transaction(Some(OPS_LOCK), |c| {
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
            moved.sort_unstable();
            Ok(moved)
        })
    }

    fn newest_import(&self) -> Result<i64, StoreError> {
        self.value("SELECT coalesce(max(id), 0)::bigint FROM imports", &[])
    }

    fn evidence(&self, target_ids: &[i64]) -> Result<Vec<Evidence>, StoreError> {
        let sql = format!(
            "SELECT m.target_id, i.value, i.kind, src.name, src.org_id, s.category, s.malware, s.tlp, s.port,
                    unix(s.first_seen), unix(s.last_seen), s.confidence, src.amber_agencies, src.amber_providers
             FROM target_members m JOIN indicators i ON i.id = m.indicator_id
             JOIN sightings s ON s.indicator_id = i.id JOIN sources src ON src.id = s.source_id
             WHERE m.target_id = $1 ORDER BY i.value, src.name, {SIGHTING_ORDER}"
        );
        let mut out = Vec::new();
        for target in target_ids {
            for r in self.query(&sql, &[target])? {
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
