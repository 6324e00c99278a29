//! Read paths. Every query takes the reader's maximum TLP: sightings above it
//! are never read, so an indicator none of whose sightings are visible does
//! not exist for that reader.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cordon_model::{combined_confidence, Category, Kind, Tlp};
use rusqlite::{params, Row};

use super::enrichment::enrichment_from_row;
use super::import::{tlp_code, tlp_from_code};
use super::{SqliteStore, SIGHTING_ORDER};
use crate::enrichment::Enrichment;
use crate::{
    ImportCounts, ImportMeta, ImportRecord, ImportSink, IndicatorDetail, IndicatorFilter, IndicatorSummary,
    SightingRow, SourceSummary, Store, StoreError,
};

/// Accumulates one indicator's sighting rows into its summary.
struct Summarizer {
    value: String,
    kind: Kind,
    categories: BTreeSet<Category>,
    per_source: BTreeMap<String, u8>,
    tlp: Tlp,
    first_seen: i64,
    last_seen: i64,
    enrichment: Option<Enrichment>,
}

impl Summarizer {
    fn new(value: String, kind: Kind, enrichment: Option<Enrichment>) -> Summarizer {
        Summarizer {
            value,
            kind,
            enrichment,
            categories: BTreeSet::new(),
            per_source: BTreeMap::new(),
            tlp: Tlp::Red,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
        }
    }

    fn add(&mut self, source: &str, category: Category, tlp: Tlp, first: i64, last: i64, confidence: u8) {
        self.categories.insert(category);
        let best = self.per_source.entry(source.to_string()).or_insert(0);
        *best = (*best).max(confidence);
        self.tlp = self.tlp.min(tlp);
        self.first_seen = self.first_seen.min(first);
        self.last_seen = self.last_seen.max(last);
    }

    fn finish(self) -> IndicatorSummary {
        IndicatorSummary {
            confidence: combined_confidence(self.per_source.values().copied()),
            value: self.value,
            kind: self.kind,
            categories: self.categories.into_iter().collect(),
            sources: self.per_source.into_keys().collect(),
            tlp: self.tlp,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            enrichment: self.enrichment,
        }
    }
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

/// The sighting columns every summary query selects, after `i.id, i.value, i.kind`.
const SUMMARY_COLUMNS: &str = "i.id, i.value, i.kind, src.name, s.category, s.tlp, s.first_seen, s.last_seen,
     s.confidence, e.network, e.asn, e.as_org, e.country, e.hosting, e.flags";

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

impl SqliteStore {
    fn summaries(
        &self,
        filter: &IndicatorFilter,
        value: Option<&str>,
        each: &mut dyn FnMut(IndicatorSummary),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}
             FROM indicators i JOIN sightings s ON s.indicator_id = i.id JOIN sources src ON src.id = s.source_id
                  LEFT JOIN enrichment e ON e.indicator_id = i.id
             WHERE s.tlp <= ?1
               AND (?6 IS NULL OR e.country = ?6)
               AND (?7 IS NULL OR e.asn = ?7)
               AND (?8 IS NULL OR (coalesce(e.flags, '') <> '') = ?8)
               AND (?2 IS NULL OR i.kind = ?2)
               AND (?5 IS NULL OR i.value = ?5)
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM sightings c WHERE c.indicator_id = i.id AND c.category = ?3 AND c.tlp <= ?1))
               AND (?4 IS NULL OR EXISTS (SELECT 1 FROM sightings c JOIN sources cs ON cs.id = c.source_id
                                          WHERE c.indicator_id = i.id AND cs.name = ?4 AND c.tlp <= ?1))
             ORDER BY i.value"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            tlp_code(filter.max_tlp),
            filter.kind.map(Kind::as_str),
            filter.category.map(Category::as_str),
            filter.source,
            value,
            filter.country,
            filter.asn,
            filter.flagged
        ])?;
        let mut current: Option<(i64, Summarizer)> = None;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
                if let Some((_, done)) = current.take() {
                    each(done.finish());
                }
                let enrichment = enrichment_from_row(row, ENRICHMENT_COLUMN)?;
                current = Some((id, Summarizer::new(row.get(1)?, parse_kind(&row.get::<_, String>(2)?)?, enrichment)));
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

    fn sighting_rows(&self, value: &str, max_tlp: Tlp) -> Result<Vec<SightingRow>, StoreError> {
        let sql = format!(
            "SELECT src.name, s.category, s.label, s.malware, s.first_seen, s.last_seen, s.confidence, s.tlp, s.port,
                    d.value, imp.path, s.line
             FROM indicators i JOIN sightings s ON s.indicator_id = i.id
             JOIN sources src ON src.id = s.source_id
             JOIN imports imp ON imp.id = s.last_import
             LEFT JOIN indicators d ON d.id = s.derived_from
             WHERE i.value = ?1 AND s.tlp <= ?2
             ORDER BY src.name, {SIGHTING_ORDER}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![value, tlp_code(max_tlp)], |row| {
            let malware: String = row.get(3)?;
            let port: i64 = row.get(8)?;
            Ok(SightingRow {
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn linked(&self, value: &str, max_tlp: Tlp) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.value FROM indicators i JOIN sightings s ON s.indicator_id = i.id
                 JOIN indicators d ON d.id = s.derived_from
             WHERE i.value = ?1 AND s.tlp <= ?2
             UNION
             SELECT c.value FROM indicators i JOIN sightings s ON s.derived_from = i.id
                 JOIN indicators c ON c.id = s.indicator_id
             WHERE i.value = ?1 AND s.tlp <= ?2
             ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![value, tlp_code(max_tlp)], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store for SqliteStore {
    fn import(
        &mut self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError> {
        self.run_import(meta, feed)
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
            sightings: self.sighting_rows(value, filter.max_tlp)?,
            linked: self.linked(value, filter.max_tlp)?,
            summary,
        }))
    }

    fn sources(&self) -> Result<Vec<SourceSummary>, StoreError> {
        // One pass over the sightings in key order, indicator first, so a
        // source's sightings of one indicator are adjacent: there is no index
        // by source, which would cost every imported sighting an insert.
        let mut per_source: HashMap<i64, SourceCounts> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT indicator_id, source_id FROM sightings ORDER BY indicator_id, source_id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (indicator, source): (i64, i64) = (row.get(0)?, row.get(1)?);
            let counts = per_source.entry(source).or_default();
            counts.sightings += 1;
            if counts.last_indicator != Some(indicator) {
                counts.indicators += 1;
                counts.last_indicator = Some(indicator);
            }
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT src.id, src.name,
                    (SELECT count(*) FROM imports WHERE source_id = src.id),
                    (SELECT max(time) FROM imports WHERE source_id = src.id)
             FROM sources src ORDER BY src.name",
        )?;
        let rows = stmt.query_map([], |r| {
            let counts = per_source.get(&r.get(0)?).copied().unwrap_or_default();
            Ok(SourceSummary {
                name: r.get(1)?,
                imports: r.get::<_, i64>(2)? as u64,
                indicators: counts.indicators,
                sightings: counts.sightings,
                last_import: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn imports(&self) -> Result<Vec<ImportRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT imp.id, src.name, imp.path, imp.sha256, imp.format, imp.time,
                    imp.read, imp.accepted, imp.new, imp.updated, imp.rejected, imp.skipped
             FROM imports imp JOIN sources src ON src.id = imp.source_id ORDER BY imp.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
            Ok(ImportRecord {
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn generation(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| r.get(0))?)
    }
}
