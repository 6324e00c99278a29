//! One import, one transaction.

use std::collections::HashMap;

use cordon_model::{Category, Sighting, Tlp, DEFAULT_CONFIDENCE};
use rusqlite::{params, Transaction};

use super::SqliteStore;
use crate::{Added, ImportCounts, ImportMeta, ImportSink, StoreError};

/// Adds sightings through prepared statements of the open transaction,
/// caching indicator ids so a value repeated in one file costs one lookup.
struct SqliteSink<'t> {
    tx: &'t Transaction<'t>,
    import_id: i64,
    source_id: i64,
    time: i64,
    ids: HashMap<String, i64>,
}

impl SqliteSink<'_> {
    fn indicator_id(&mut self, observable: &cordon_model::Observable) -> Result<i64, StoreError> {
        let value = observable.to_string();
        if let Some(id) = self.ids.get(&value) {
            return Ok(*id);
        }
        // No `RETURNING`: SQLite buffers returned rows in a temporary b-tree
        // per execution, which made an upsert cost ~30x a plain insert.
        let inserted = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO indicators (value, kind, created_import) VALUES (?1, ?2, ?3)")?
            .execute(params![value, observable.kind().as_str(), self.import_id])?;
        let id = if inserted == 1 {
            self.tx.last_insert_rowid()
        } else {
            self.tx.prepare_cached("SELECT id FROM indicators WHERE value = ?1")?.query_row([&value], |r| r.get(0))?
        };
        self.ids.insert(value, id);
        Ok(id)
    }
}

impl ImportSink for SqliteSink<'_> {
    fn add(&mut self, sighting: &Sighting) -> Result<Added, StoreError> {
        let indicator = self.indicator_id(&sighting.observable)?;
        let derived_from = match &sighting.derived_from {
            Some(obs) => self.indicator_id(obs)?,
            None => 0,
        };
        let a = &sighting.attributes;
        let first_seen = a.first_seen.or(a.last_seen).unwrap_or(self.time);
        let last_seen = a.last_seen.unwrap_or(self.time).max(first_seen);
        let category = a.category.unwrap_or(Category::Other).as_str();
        let malware = a.malware.as_deref().unwrap_or("");
        let port = a.port.unwrap_or(0);
        let confidence = a.confidence.unwrap_or(DEFAULT_CONFIDENCE).min(100);
        let tlp = tlp_code(a.tlp.unwrap_or(Tlp::Amber));
        let line = sighting.line as i64;
        let values = params![
            indicator,
            self.source_id,
            category,
            a.label,
            malware,
            port,
            derived_from,
            first_seen,
            last_seen,
            confidence,
            tlp,
            self.import_id,
            line,
        ];
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO sightings (indicator_id, source_id, category, label, malware, port, derived_from,
                     first_seen, last_seen, confidence, tlp, created_import, last_import, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )?
            .execute(values)?;
        if inserted == 1 {
            return Ok(Added::New);
        }
        self.tx
            .prepare_cached(
                "UPDATE sightings SET label = ?4, first_seen = min(first_seen, ?8), last_seen = max(last_seen, ?9),
                     confidence = ?10, tlp = ?11, last_import = ?12, line = ?13
                 WHERE indicator_id = ?1 AND source_id = ?2 AND category = ?3 AND malware = ?5 AND port = ?6
                   AND derived_from = ?7",
            )?
            .execute(values)?;
        Ok(Added::Updated)
    }
}

/// TLP as stored: its rank, least restrictive 0.
pub(super) fn tlp_code(tlp: Tlp) -> i64 {
    Tlp::ALL.iter().position(|t| *t == tlp).unwrap_or(Tlp::ALL.len() - 1) as i64
}

/// The TLP of a stored rank; unknown ranks read as the most restrictive.
pub(super) fn tlp_from_code(code: i64) -> Tlp {
    usize::try_from(code).ok().and_then(|i| Tlp::ALL.get(i).copied()).unwrap_or(Tlp::Red)
}

impl SqliteStore {
    pub(super) fn run_import(
        &mut self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO sources (name, created) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![meta.source, meta.time],
        )?;
        let source_id: i64 = tx.query_row("SELECT id FROM sources WHERE name = ?1", [&meta.source], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO imports (source_id, path, sha256, format, time) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![source_id, meta.path, meta.sha256, meta.format, meta.time],
        )?;
        let import_id = tx.last_insert_rowid();
        let counts = {
            let mut sink = SqliteSink { tx: &tx, import_id, source_id, time: meta.time, ids: HashMap::new() };
            feed(&mut sink)?
        };
        tx.execute(
            "UPDATE imports SET read = ?2, accepted = ?3, new = ?4, updated = ?5, rejected = ?6, skipped = ?7
             WHERE id = ?1",
            params![
                import_id,
                counts.read as i64,
                counts.accepted as i64,
                counts.new as i64,
                counts.updated as i64,
                counts.rejected as i64,
                counts.skipped as i64
            ],
        )?;
        tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        tx.commit()?;
        Ok(import_id)
    }
}
