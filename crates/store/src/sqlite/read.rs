//! Read paths. Every query applies the viewer's visibility
//! ([`super::orgs::VISIBLE`], the SQL form of [`cordon_model::may_see`]) and
//! the filter's maximum TLP: sightings the viewer may not see are never
//! read, so an indicator none of whose sightings are visible does not exist
//! for that viewer, and every summary is built from visible sightings only
//! and carries the most restrictive TLP among them.

use std::collections::HashMap;

use cordon_model::{Category, Kind, Viewer};
use rusqlite::{Row, Statement, ToSql};

use super::enrichment::enrichment_from_row;
use super::import::{tlp_code, tlp_from_code};
use super::orgs::{enrichment_visible, viewer_params, visible_for, ENRICHMENT_VISIBLE, VISIBLE};
use super::{Conn, SIGHTING_ORDER};
pub(super) use crate::shared::Summarizer;
use crate::{
    ImportCounts, ImportRecord, IndicatorDetail, IndicatorFilter, IndicatorSummary, SightingRow, SourceSummary,
    StoreError,
};

/// Binds the named parameters a statement uses, from `params`; names the
/// statement does not use are skipped, names it uses and `params` lacks
/// stay NULL.
pub(crate) fn bind(stmt: &mut Statement<'_>, params: &[(&str, &dyn ToSql)]) -> rusqlite::Result<()> {
    for (name, value) in params {
        if let Some(index) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(index, value)?;
        }
    }
    Ok(())
}

/// What [`Store::sources`] counts for one source while scanning sightings.
#[derive(Clone, Copy, Default)]
struct SourceCounts {
    indicators: u64,
    sightings: u64,
    last_indicator: Option<i64>,
}

fn parse_kind(s: &str) -> rusqlite::Result<Kind> {
    s.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_category(s: &str) -> rusqlite::Result<Category> {
    s.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// The columns every summary query selects.
const SUMMARY_COLUMNS: &str = "i.id, i.value, i.kind, src.name, s.category, s.tlp, s.first_seen, s.last_seen,
     s.confidence, e.network, e.asn, e.as_org, e.country, e.hosting, e.flags, e.via_tlp";

/// Where the enrichment columns start in [`SUMMARY_COLUMNS`].
const ENRICHMENT_COLUMN: usize = 9;

fn add_row(acc: &mut Summarizer, row: &Row<'_>) -> rusqlite::Result<()> {
    let source: String = row.get(3)?;
    let category = parse_category(&row.get::<_, String>(4)?)?;
    acc.add(
        &source,
        category,
        tlp_from_code(row.get(5)?),
        row.get(6)?,
        row.get(7)?,
        row.get::<_, i64>(8)?.clamp(0, 100) as u8,
    );
    Ok(())
}

/// The named parameters of the viewer and the filter.
struct FilterParams<'a> {
    viewer: (Option<i64>, Option<&'static str>, i64),
    max_tlp: i64,
    filter: &'a IndicatorFilter,
}

impl<'a> FilterParams<'a> {
    fn new(filter: &'a IndicatorFilter) -> FilterParams<'a> {
        FilterParams { viewer: viewer_params(&filter.viewer), max_tlp: tlp_code(filter.max_tlp), filter }
    }

    fn bind(&self, stmt: &mut Statement<'_>, value: Option<&str>) -> rusqlite::Result<()> {
        let f = self.filter;
        bind(
            stmt,
            &[
                (":viewer_org", &self.viewer.0),
                (":viewer_kind", &self.viewer.1),
                (":viewer_hub", &self.viewer.2),
                (":max_tlp", &self.max_tlp),
                (":kind", &f.kind.map(Kind::as_str)),
                (":category", &f.category.map(Category::as_str)),
                (":source", &f.source),
                (":value", &value),
                (":country", &f.country),
                (":asn", &f.asn),
                (":flagged", &f.flagged),
                (":after", &f.after.as_deref().unwrap_or("")),
            ],
        )
    }
}

/// The conditions of a summary query after the indicator selection.
fn summary_conditions(visible: &str) -> String {
    format!(
        "s.tlp <= :max_tlp AND {visible}
           AND (:country IS NULL OR (e.country = :country AND {ENRICHMENT_VISIBLE}))
           AND (:asn IS NULL OR (e.asn = :asn AND {ENRICHMENT_VISIBLE}))
           AND (:flagged IS NULL OR (coalesce(e.flags, '') <> '') = :flagged)
           AND (:kind IS NULL OR i.kind = :kind)
           AND (:category IS NULL OR EXISTS (
                 SELECT 1 FROM sightings s JOIN sources src ON src.id = s.source_id
                      LEFT JOIN enrichment e ON e.indicator_id = s.indicator_id
                 WHERE s.indicator_id = i.id AND s.category = :category AND s.tlp <= :max_tlp AND {visible}))
           AND (:source IS NULL OR EXISTS (
                 SELECT 1 FROM sightings s JOIN sources src ON src.id = s.source_id
                      LEFT JOIN enrichment e ON e.indicator_id = s.indicator_id
                 WHERE s.indicator_id = i.id AND src.name = :source AND s.tlp <= :max_tlp AND {visible}))"
    )
}

/// Binds the viewer's named parameters (see [`VISIBLE`]).
pub(crate) fn bind_viewer(stmt: &mut Statement<'_>, viewer: &Viewer) -> rusqlite::Result<()> {
    let (org, kind, hub) = viewer_params(viewer);
    bind(stmt, &[(":viewer_org", &org), (":viewer_kind", &kind), (":viewer_hub", &hub)])
}

/// The summary query; a point read names the value outright so that the
/// unique index on `indicators.value` answers it, and a list reads that
/// index in order from its cursor.
fn summaries_sql(point: bool, visible: &str) -> String {
    // A list walks the value index from its cursor (`''` sorts before
    // every value), so the rows stream in order without a sort and a
    // page costs what page 1 costs; `(:after IS NULL OR …)` would hide the
    // range from the planner.
    let selection = if point { "i.value = :value AND" } else { "i.value > :after AND" };
    format!(
        "SELECT {SUMMARY_COLUMNS}
         FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
         WHERE {selection} {conditions}
         ORDER BY i.value",
        conditions = summary_conditions(visible),
    )
}

/// The observables linked to `:value`: those its sightings derive from,
/// and those whose sightings derive from it. `s.derived_from <> 0` lets the
/// second half use the partial index `sightings_derived_from`; without it
/// the planner scanned every sighting (0.24 s at 1M indicators, for every
/// `show` and every listed address a lookup explains).
fn linked_sql() -> String {
    format!(
        "SELECT d.value FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
             JOIN indicators d ON d.id = s.derived_from
         WHERE i.value = :value AND s.tlp <= :max_tlp AND {VISIBLE}
         UNION
         SELECT c.value FROM indicators i JOIN sightings s ON s.derived_from = i.id {SIGHTING_JOINS}
             JOIN indicators c ON c.id = s.indicator_id
         WHERE i.value = :value AND s.derived_from <> 0 AND s.tlp <= :max_tlp AND {VISIBLE}
         ORDER BY 1"
    )
}

/// A sighting joined with its source and its indicator's enrichment, as
/// [`VISIBLE`] expects them.
pub(crate) const SIGHTING_JOINS: &str =
    "JOIN sources src ON src.id = s.source_id LEFT JOIN enrichment e ON e.indicator_id = s.indicator_id";

impl Conn {
    fn summaries(
        &self,
        filter: &IndicatorFilter,
        value: Option<&str>,
        each: &mut dyn FnMut(IndicatorSummary),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(&summaries_sql(value.is_some(), visible_for(&filter.viewer)))?;
        FilterParams::new(filter).bind(&mut stmt, value)?;
        let mut rows = stmt.raw_query();
        let mut current: Option<(i64, Summarizer)> = None;
        let mut left = filter.limit.unwrap_or(u64::MAX);
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
                if let Some((_, done)) = current.take() {
                    each(done.finish());
                    left -= 1;
                }
                if left == 0 {
                    return Ok(());
                }
                let enrichment = enrichment_from_row(row, ENRICHMENT_COLUMN)?;
                let flags: Vec<String> =
                    enrichment.iter().flat_map(|e| e.flags.iter().map(|(f, _)| f.clone())).collect();
                let via = enrichment.as_ref().and_then(|e| e.via);
                let enrichment = enrichment.filter(|_| enrichment_visible(&filter.viewer, via, filter.max_tlp));
                let summary = Summarizer::new(row.get(1)?, parse_kind(&row.get::<_, String>(2)?)?, enrichment, flags);
                current = Some((id, summary));
            }
            if let Some((_, acc)) = current.as_mut() {
                add_row(acc, row)?;
            }
        }
        if let Some((_, done)) = current {
            each(done.finish());
        }
        Ok(())
    }

    fn sighting_rows(&self, value: &str, filter: &IndicatorFilter) -> Result<Vec<SightingRow>, StoreError> {
        let sql = format!(
            "SELECT src.name, s.category, s.label, s.malware, s.first_seen, s.last_seen, s.confidence, s.tlp, s.port,
                    d.value, imp.path, s.line
             FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
             JOIN imports imp ON imp.id = s.last_import
             LEFT JOIN indicators d ON d.id = s.derived_from
             WHERE i.value = :value AND s.tlp <= :max_tlp AND {VISIBLE}
             ORDER BY src.name, {SIGHTING_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        FilterParams::new(filter).bind(&mut stmt, Some(value))?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let malware: String = row.get(3)?;
            let port: i64 = row.get(8)?;
            out.push(SightingRow {
                source: row.get(0)?,
                category: parse_category(&row.get::<_, String>(1)?)?,
                label: row.get(2)?,
                malware: (!malware.is_empty()).then_some(malware),
                first_seen: row.get(4)?,
                last_seen: row.get(5)?,
                confidence: row.get::<_, i64>(6)?.clamp(0, 100) as u8,
                tlp: tlp_from_code(row.get(7)?),
                port: u16::try_from(port).ok().filter(|p| *p != 0),
                derived_from: row.get(9)?,
                file: row.get(10)?,
                line: row.get::<_, i64>(11)? as u64,
            });
        }
        Ok(out)
    }

    /// The observables linked to `value` by a sighting the viewer may see.
    fn linked(&self, value: &str, filter: &IndicatorFilter) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&linked_sql())?;
        FilterParams::new(filter).bind(&mut stmt, Some(value))?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(row.get(0)?);
        }
        Ok(out)
    }
}

/// The reads of [`Store`]; imports are [`SqliteStore::run_import`], which
/// needs the store, not one connection.
impl Conn {
    pub(super) fn indicators(
        &self,
        filter: &IndicatorFilter,
        each: &mut dyn FnMut(IndicatorSummary),
    ) -> Result<(), StoreError> {
        self.summaries(filter, None, each)
    }

    pub(super) fn indicator(
        &self,
        value: &str,
        filter: &IndicatorFilter,
    ) -> Result<Option<IndicatorDetail>, StoreError> {
        let mut summary = None;
        self.summaries(filter, Some(value), &mut |s| summary = Some(s))?;
        let Some(summary) = summary else {
            return Ok(None);
        };
        Ok(Some(IndicatorDetail {
            sightings: self.sighting_rows(value, filter)?,
            linked: self.linked(value, filter)?,
            summary,
        }))
    }

    pub(super) fn sources(&self, viewer: &Viewer) -> Result<Vec<SourceSummary>, StoreError> {
        // One pass over the visible sightings in key order, indicator
        // first, so a source's sightings of one indicator are adjacent:
        // there is no index by source, which would cost every imported
        // sighting an insert.
        let mut per_source: HashMap<i64, SourceCounts> = HashMap::new();
        let sql = format!(
            "SELECT s.indicator_id, s.source_id FROM sightings s {SIGHTING_JOINS}
             WHERE {VISIBLE} ORDER BY s.indicator_id, s.source_id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        bind_viewer(&mut stmt, viewer)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let (indicator, source): (i64, i64) = (row.get(0)?, row.get(1)?);
            let counts = per_source.entry(source).or_default();
            counts.sightings += 1;
            if counts.last_indicator != Some(indicator) {
                counts.indicators += 1;
                counts.last_indicator = Some(indicator);
            }
        }
        // Imports are shown to the hub and to the organisation that made
        // them: another organisation's import counts would count sightings
        // the viewer may not see.
        let mut stmt = self.conn.prepare_cached(
            "SELECT src.id, src.name, o.name, :viewer_hub = 1 OR src.org_id = :viewer_org,
                    (SELECT count(*) FROM imports WHERE source_id = src.id),
                    (SELECT max(time) FROM imports WHERE source_id = src.id)
             FROM sources src JOIN organisations o ON o.id = src.org_id ORDER BY src.name",
        )?;
        bind_viewer(&mut stmt, viewer)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let own = r.get::<_, Option<bool>>(3)?.unwrap_or(false);
            let Some(counts) = per_source.get(&r.get(0)?).copied().or(own.then(SourceCounts::default)) else {
                continue;
            };
            out.push(SourceSummary {
                name: r.get(1)?,
                org: r.get(2)?,
                imports: if own { Some(r.get::<_, i64>(4)? as u64) } else { None },
                indicators: counts.indicators,
                sightings: counts.sightings,
                last_import: if own { r.get(5)? } else { None },
            });
        }
        Ok(out)
    }

    pub(super) fn imports(&self, viewer: &Viewer) -> Result<Vec<ImportRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT imp.id, src.name, imp.path, imp.sha256, imp.format, imp.time,
                    imp.read, imp.accepted, imp.new, imp.updated, imp.rejected, imp.skipped
             FROM imports imp JOIN sources src ON src.id = imp.source_id
             WHERE imp.state = 'done' AND (:viewer_hub = 1 OR src.org_id = :viewer_org)
             ORDER BY imp.id",
        )?;
        bind_viewer(&mut stmt, viewer)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
            out.push(ImportRecord {
                id: r.get(0)?,
                source: r.get(1)?,
                path: r.get(2)?,
                sha256: r.get(3)?,
                format: r.get(4)?,
                time: r.get(5)?,
                counts: ImportCounts {
                    read: n(6)?,
                    accepted: n(7)?,
                    new: n(8)?,
                    updated: n(9)?,
                    rejected: n(10)?,
                    skipped: n(11)?,
                },
            });
        }
        Ok(out)
    }

    pub(super) fn generation(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;

    /// `show VALUE` and every point read use the unique index: a full
    /// scan and sort cost seconds at 5M indicators (issue 12).
    #[test]
    fn point_reads_use_the_value_index() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plan = |sql: &str| crate::sqlite::query_plan(&store, sql);
        let list = plan(&summaries_sql(false, VISIBLE));
        assert!(list.contains("SEARCH i USING") && list.contains("(value>?)"), "{list}");
        assert!(!list.contains("TEMP B-TREE"), "a list streams in index order: {list}");
        let point = plan(&summaries_sql(true, VISIBLE));
        assert!(point.contains("SEARCH i USING") && point.contains("(value=?)"), "{point}");
        assert!(!point.contains("SCAN i"), "{point}");
        let detail = plan(&format!(
            "SELECT s.tlp FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
             WHERE i.value = :value AND {VISIBLE}"
        ));
        assert!(detail.contains("SEARCH i USING") && !detail.contains("SCAN i"), "{detail}");
        let linked = plan(&linked_sql());
        assert!(linked.contains("sightings_derived_from (derived_from=?)"), "{linked}");
        assert!(!linked.contains("SCAN s"), "{linked}");
    }
}
