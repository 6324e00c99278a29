//! Read paths. Every query applies the viewer's visibility
//! ([`super::orgs::VISIBLE`]) and the filter's maximum TLP, as SQLite's do:
//! an indicator none of whose sightings are visible does not exist for
//! that viewer, and every summary is built from visible sightings only and
//! carries the most restrictive TLP among them.

use std::collections::HashMap;

use cordon_model::{Category, Kind, Viewer};
use postgres::types::ToSql;
use postgres::Row;

use super::orgs::{viewer_params, visible_for, ENRICHMENT_VISIBLE, VISIBLE};
use super::{count, get, parsed, Conn};
use crate::enrichment::Enrichment;
use crate::shared::{enrichment_visible, tlp_code, tlp_from_code, Summarizer, SIGHTING_ORDER};
use crate::{
    ImportCounts, ImportMeta, ImportRecord, ImportSink, IndicatorDetail, IndicatorFilter, IndicatorSummary,
    SightingRow, SourceSummary, Store, StoreError,
};

/// A sighting joined with its source and its indicator's enrichment, as
/// [`VISIBLE`] expects them.
pub(crate) const SIGHTING_JOINS: &str =
    "JOIN sources src ON src.id = s.source_id LEFT JOIN enrichment e ON e.indicator_id = s.indicator_id";

/// The enrichment columns, as [`enrichment_from_row`] reads them.
pub(crate) const ENRICHMENT_COLUMNS: &str =
    "e.network::text, e.asn, e.as_org, e.country, e.hosting, e.flag_names, e.flag_reasons, e.via_tlp";

/// Reads the [`ENRICHMENT_COLUMNS`] from column `first` on.
pub(crate) fn enrichment_from_row(row: &Row, first: usize) -> Result<Option<Enrichment>, StoreError> {
    let Some(hosting) = get::<Option<String>>(row, first + 4)? else {
        return Ok(None);
    };
    let names: Vec<String> = get(row, first + 5)?;
    let reasons: Vec<String> = get(row, first + 6)?;
    Ok(Some(Enrichment {
        network: get(row, first)?,
        asn: get::<Option<i64>>(row, first + 1)?.and_then(|a| u32::try_from(a).ok()),
        as_org: get(row, first + 2)?,
        country: get(row, first + 3)?,
        hosting,
        flags: names.into_iter().zip(reasons).collect(),
        via: get::<Option<i64>>(row, first + 7)?.map(tlp_from_code),
    }))
}

/// The columns every summary query selects.
const SUMMARY_COLUMNS: &str = "i.id, i.value, i.kind, src.name, s.category, s.tlp, unix(s.first_seen),
     unix(s.last_seen), s.confidence";

/// Where the enrichment columns start (after [`SUMMARY_COLUMNS`]).
const ENRICHMENT_COLUMN: usize = 9;

/// Adds a row of [`SUMMARY_COLUMNS`] to its indicator's summary.
fn add_row(acc: &mut Summarizer, row: &Row) -> Result<(), StoreError> {
    let source: &str = get(row, 3)?;
    let confidence = get::<i64>(row, 8)?.clamp(0, 100) as u8;
    acc.add(source, parsed(row, 4)?, tlp_from_code(get(row, 5)?), get(row, 6)?, get(row, 7)?, confidence);
    Ok(())
}

/// The parameters of a summary query: the viewer's (`$1`–`$3`), the
/// maximum TLP (`$4`), then kind, category, source, the value (point read)
/// or cursor (list), country, ASN and flagged (`$5`–`$11`).
struct FilterParams {
    viewer: (Option<i64>, Option<&'static str>, bool),
    max_tlp: i64,
    kind: Option<&'static str>,
    category: Option<&'static str>,
    source: Option<String>,
    value: String,
    country: Option<String>,
    asn: Option<i64>,
    flagged: Option<bool>,
}

impl FilterParams {
    fn new(filter: &IndicatorFilter, value: Option<&str>) -> FilterParams {
        FilterParams {
            viewer: viewer_params(&filter.viewer),
            max_tlp: tlp_code(filter.max_tlp),
            kind: filter.kind.map(Kind::as_str),
            category: filter.category.map(Category::as_str),
            source: filter.source.clone(),
            value: value.or(filter.after.as_deref()).unwrap_or("").to_string(),
            country: filter.country.clone(),
            asn: filter.asn.map(i64::from),
            flagged: filter.flagged,
        }
    }

    /// The first `n` parameters.
    fn first(&self, n: usize) -> Vec<&(dyn ToSql + Sync)> {
        let all: [&(dyn ToSql + Sync); 11] = [
            &self.viewer.0,
            &self.viewer.1,
            &self.viewer.2,
            &self.max_tlp,
            &self.kind,
            &self.category,
            &self.source,
            &self.value,
            &self.country,
            &self.asn,
            &self.flagged,
        ];
        all[..n].to_vec()
    }
}

/// The summary query; a point read names the value outright (the unique
/// index answers it), a list walks that index from its cursor.
fn summaries_sql(point: bool, visible: &str) -> String {
    let selection = if point { "i.value = $8" } else { "i.value > $8" };
    format!(
        "SELECT {SUMMARY_COLUMNS}, {ENRICHMENT_COLUMNS}
         FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
         WHERE {selection} AND s.tlp <= $4::bigint AND {visible}
           AND ($9::text IS NULL OR (e.country = $9::text AND {ENRICHMENT_VISIBLE}))
           AND ($10::bigint IS NULL OR (e.asn = $10::bigint AND {ENRICHMENT_VISIBLE}))
           AND ($11::boolean IS NULL OR (cardinality(coalesce(e.flag_names, '{{}}')) > 0) = $11::boolean)
           AND ($5::text IS NULL OR i.kind = $5::text)
           AND ($6::text IS NULL OR EXISTS (
                 SELECT 1 FROM sightings s {SIGHTING_JOINS}
                 WHERE s.indicator_id = i.id AND s.category = $6::text AND s.tlp <= $4::bigint AND {visible}))
           AND ($7::text IS NULL OR EXISTS (
                 SELECT 1 FROM sightings s {SIGHTING_JOINS}
                 WHERE s.indicator_id = i.id AND src.name = $7::text AND s.tlp <= $4::bigint AND {visible}))
         ORDER BY i.value"
    )
}

impl Conn {
    fn summaries(
        &self,
        filter: &IndicatorFilter,
        value: Option<&str>,
        each: &mut dyn FnMut(IndicatorSummary),
    ) -> Result<(), StoreError> {
        let sql = summaries_sql(value.is_some(), visible_for(&filter.viewer));
        let params = FilterParams::new(filter, value);
        let mut current: Option<(i64, Summarizer)> = None;
        let mut left = filter.limit.unwrap_or(u64::MAX);
        if left == 0 {
            return Ok(());
        }
        self.stream(&sql, &params.first(11), |row| {
            let id: i64 = get(row, 0)?;
            if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
                if let Some((_, done)) = current.take() {
                    each(done.finish());
                    left -= 1;
                    if left == 0 {
                        return Ok(false);
                    }
                }
                let enrichment = enrichment_from_row(row, ENRICHMENT_COLUMN)?;
                let flags: Vec<String> =
                    enrichment.iter().flat_map(|e| e.flags.iter().map(|(f, _)| f.clone())).collect();
                let via = enrichment.as_ref().and_then(|e| e.via);
                let enrichment = enrichment.filter(|_| enrichment_visible(&filter.viewer, via, filter.max_tlp));
                current = Some((id, Summarizer::new(get(row, 1)?, parsed(row, 2)?, enrichment, flags)));
            }
            if let Some((_, acc)) = current.as_mut() {
                add_row(acc, row)?;
            }
            Ok(true)
        })?;
        if let Some((_, done)) = current {
            if left > 0 {
                each(done.finish());
            }
        }
        Ok(())
    }

    fn sighting_rows(&self, value: &str, filter: &IndicatorFilter) -> Result<Vec<SightingRow>, StoreError> {
        let sql = format!(
            "SELECT src.name, s.category, s.label, s.malware, unix(s.first_seen), unix(s.last_seen), s.confidence,
                    s.tlp, s.port, d.value, imp.path, s.line
             FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
             JOIN imports imp ON imp.id = s.last_import
             LEFT JOIN indicators d ON d.id = s.derived_from
             WHERE i.value = $5 AND s.tlp <= $4::bigint AND {VISIBLE}
             ORDER BY src.name, {SIGHTING_ORDER}"
        );
        let params = FilterParams::new(filter, Some(value));
        let mut values = params.first(4);
        values.push(&params.value);
        let rows = self.query(&sql, &values)?;
        rows.iter()
            .map(|row| {
                let malware: String = get(row, 3)?;
                Ok(SightingRow {
                    source: get(row, 0)?,
                    category: parsed(row, 1)?,
                    label: get(row, 2)?,
                    malware: (!malware.is_empty()).then_some(malware),
                    first_seen: get(row, 4)?,
                    last_seen: get(row, 5)?,
                    confidence: get::<i64>(row, 6)?.clamp(0, 100) as u8,
                    tlp: tlp_from_code(get(row, 7)?),
                    port: u16::try_from(get::<i64>(row, 8)?).ok().filter(|p| *p != 0),
                    derived_from: get(row, 9)?,
                    file: get(row, 10)?,
                    line: get::<i64>(row, 11)?.max(0) as u64,
                })
            })
            .collect()
    }

    /// The observables linked to `value` by a sighting the viewer may see
    /// (`s.derived_from <> 0` lets the second half use the partial index
    /// `sightings_derived_from`).
    fn linked(&self, value: &str, filter: &IndicatorFilter) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT d.value FROM indicators i JOIN sightings s ON s.indicator_id = i.id {SIGHTING_JOINS}
                 JOIN indicators d ON d.id = s.derived_from
             WHERE i.value = $5 AND s.tlp <= $4::bigint AND {VISIBLE}
             UNION
             SELECT c.value FROM indicators i JOIN sightings s ON s.derived_from = i.id {SIGHTING_JOINS}
                 JOIN indicators c ON c.id = s.indicator_id
             WHERE i.value = $5 AND s.derived_from <> 0 AND s.tlp <= $4::bigint AND {VISIBLE}
             ORDER BY 1"
        );
        let params = FilterParams::new(filter, Some(value));
        let mut values = params.first(4);
        values.push(&params.value);
        let rows = self.query(&sql, &values)?;
        rows.iter().map(|r| get(r, 0)).collect()
    }
}

impl Store for Conn {
    fn import(
        &self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError> {
        super::import::run_import(self, meta, feed)
    }

    fn indicators(&self, filter: &IndicatorFilter, each: &mut dyn FnMut(IndicatorSummary)) -> Result<(), StoreError> {
        self.summaries(filter, None, each)
    }

    fn indicator(&self, value: &str, filter: &IndicatorFilter) -> Result<Option<IndicatorDetail>, StoreError> {
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

    fn sources(&self, viewer: &Viewer) -> Result<Vec<SourceSummary>, StoreError> {
        let (org, kind, hub) = viewer_params(viewer);
        let counted = self.query(
            &format!(
                "SELECT s.source_id, count(DISTINCT s.indicator_id), count(*) FROM sightings s {SIGHTING_JOINS}
                 WHERE {VISIBLE} GROUP BY s.source_id"
            ),
            &[&org, &kind, &hub],
        )?;
        let mut per_source: HashMap<i64, (u64, u64)> = HashMap::new();
        for row in &counted {
            per_source.insert(get(row, 0)?, (count(row, 1)?, count(row, 2)?));
        }
        // Imports are shown to the hub and to the organisation that made
        // them: another organisation's import counts would count sightings
        // the viewer may not see.
        let rows = self.query(
            "SELECT src.id, src.name, o.name, $2::boolean OR src.org_id IS NOT DISTINCT FROM $1::bigint,
                    (SELECT count(*) FROM imports WHERE source_id = src.id),
                    (SELECT unix(max(time)) FROM imports WHERE source_id = src.id)
             FROM sources src JOIN organisations o ON o.id = src.org_id ORDER BY src.name",
            &[&org, &hub],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let own: bool = get(r, 3)?;
            let Some((indicators, sightings)) = per_source.get(&get(r, 0)?).copied().or(own.then_some((0, 0))) else {
                continue;
            };
            out.push(SourceSummary {
                name: get(r, 1)?,
                org: get(r, 2)?,
                imports: if own { Some(count(r, 4)?) } else { None },
                indicators,
                sightings,
                last_import: if own { get(r, 5)? } else { None },
            });
        }
        Ok(out)
    }

    fn imports(&self, viewer: &Viewer) -> Result<Vec<ImportRecord>, StoreError> {
        let (org, _, hub) = viewer_params(viewer);
        let rows = self.query(
            "SELECT imp.id, src.name, imp.path, imp.sha256, imp.format, unix(imp.time),
                    imp.read, imp.accepted, imp.new, imp.updated, imp.rejected, imp.skipped
             FROM imports imp JOIN sources src ON src.id = imp.source_id
             WHERE $2::boolean OR src.org_id = $1::bigint
             ORDER BY imp.id",
            &[&org, &hub],
        )?;
        rows.iter()
            .map(|r| {
                Ok(ImportRecord {
                    id: get(r, 0)?,
                    source: get(r, 1)?,
                    path: get(r, 2)?,
                    sha256: get(r, 3)?,
                    format: get(r, 4)?,
                    time: get(r, 5)?,
                    counts: ImportCounts {
                        read: count(r, 6)?,
                        accepted: count(r, 7)?,
                        new: count(r, 8)?,
                        updated: count(r, 9)?,
                        rejected: count(r, 10)?,
                        skipped: count(r, 11)?,
                    },
                })
            })
            .collect()
    }

    fn generation(&self) -> Result<i64, StoreError> {
        self.value("SELECT value FROM meta WHERE key = 'generation'", &[])
    }
}
