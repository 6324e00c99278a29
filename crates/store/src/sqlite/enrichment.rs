//! SQLite implementation of [`EnrichmentStore`].

use rusqlite::{params, OptionalExtension};

use super::import::{tlp_code, tlp_from_code};
use super::{now, Conn};
use crate::enrichment::{AllowEntry, ContactRow, Enrichment, EnrichmentStore, IndicatorRef, Link};
use crate::StoreError;

/// Flags are stored as `flag<TAB>reason` lines.
pub(super) fn encode_flags(flags: &[(String, String)]) -> String {
    flags.iter().map(|(f, r)| format!("{f}\t{}", r.replace(['\t', '\n'], " "))).collect::<Vec<_>>().join("\n")
}

/// The inverse of [`encode_flags`].
pub(super) fn decode_flags(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('\t') {
            Some((f, r)) => (f.to_string(), r.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Reads an enrichment row selected as `network, asn, as_org, country,
/// hosting, flags, via_tlp` from `first`.
pub(super) fn enrichment_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<Enrichment>> {
    let hosting: Option<String> = row.get(first + 4)?;
    let Some(hosting) = hosting else {
        return Ok(None);
    };
    let asn: Option<i64> = row.get(first + 1)?;
    Ok(Some(Enrichment {
        network: row.get(first)?,
        asn: asn.and_then(|a| u32::try_from(a).ok()),
        as_org: row.get(first + 2)?,
        country: row.get(first + 3)?,
        hosting,
        flags: decode_flags(&row.get::<_, String>(first + 5)?),
        via: row.get::<_, Option<i64>>(first + 6)?.map(tlp_from_code),
    }))
}

impl EnrichmentStore for Conn {
    fn indicator_refs(&self, each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, value, kind FROM indicators ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            each(indicator_ref(row.get(0)?, row)?);
        }
        Ok(())
    }

    fn links(&self) -> Result<Vec<Link>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT indicator_id, derived_from, min(tlp) FROM sightings WHERE derived_from <> 0
             GROUP BY indicator_id, derived_from",
        )?;
        let rows =
            stmt.query_map([], |r| Ok(Link { derived: r.get(0)?, from: r.get(1)?, tlp: tlp_from_code(r.get(2)?) }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn links_touching(&self, ids: &[i64]) -> Result<Vec<Link>, StoreError> {
        // One indexed read per id and side: the sightings' key starts with
        // indicator_id, and sightings_derived_from covers the other side.
        let mut found = std::collections::BTreeMap::new();
        let mut as_derived = self.conn.prepare_cached(
            "SELECT indicator_id, derived_from, min(tlp) FROM sightings WHERE indicator_id = ?1 AND derived_from <> 0
             GROUP BY derived_from",
        )?;
        let mut as_from = self.conn.prepare_cached(
            "SELECT indicator_id, derived_from, min(tlp) FROM sightings WHERE derived_from = ?1 AND derived_from <> 0
             GROUP BY indicator_id",
        )?;
        for id in ids {
            for stmt in [&mut as_derived, &mut as_from] {
                let mut rows = stmt.query([id])?;
                while let Some(row) = rows.next()? {
                    found.insert((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?), tlp_from_code(row.get(2)?));
                }
            }
        }
        Ok(found.into_iter().map(|((derived, from), tlp)| Link { derived, from, tlp }).collect())
    }

    fn indicator_refs_of(&self, ids: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        let ids: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
        let mut stmt = self.conn.prepare_cached("SELECT id, value, kind FROM indicators WHERE id = ?1")?;
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(row) = rows.next()? {
                each(indicator_ref(id, row)?);
            }
        }
        Ok(())
    }

    fn indicator_refs_after(&self, after: i64, limit: usize) -> Result<Vec<IndicatorRef>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id, value, kind FROM indicators WHERE id > ?1 ORDER BY id LIMIT ?2")?;
        let mut rows = stmt.query(params![after, i64::try_from(limit).unwrap_or(i64::MAX)])?;
        let mut page = Vec::new();
        while let Some(row) = rows.next()? {
            page.push(indicator_ref(row.get(0)?, row)?);
        }
        Ok(page)
    }

    fn indicator_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row("SELECT count(*) FROM indicators", [], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn stale_indicators(&self, imports: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut ids = self.created_ids(imports)?;
        // Every enrichment row names a distinct indicator (its key, a
        // foreign key the store enforces), so when the indicators without
        // a row are as many as the created ones without a row, those are
        // all of them: two counts and a point read per created indicator
        // cost milliseconds where the anti-join seeks a row per indicator
        // (2.3 s at 5M, paid by every ingest).
        let mut has_row = self.conn.prepare_cached("SELECT 1 FROM enrichment WHERE indicator_id = ?1")?;
        let mut created_without_row = 0i64;
        for id in &ids {
            if !has_row.exists([id])? {
                created_without_row += 1;
            }
        }
        let (indicators, enriched): (i64, i64) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM indicators), (SELECT count(*) FROM enrichment)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if indicators - enriched != created_without_row {
            let mut never = self.conn.prepare_cached(
                "SELECT id FROM indicators
                 WHERE NOT EXISTS (SELECT 1 FROM enrichment WHERE indicator_id = indicators.id)",
            )?;
            for id in never.query_map([], |r| r.get::<_, i64>(0))? {
                ids.insert(id?);
            }
        }
        Ok(ids.into_iter().collect())
    }

    fn created_indicators(&self, imports: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        let mut seen = std::collections::HashSet::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.value, i.kind FROM indicators i
             JOIN (SELECT DISTINCT indicator_id FROM sightings WHERE created_import = ?1) c ON c.indicator_id = i.id",
        )?;
        for import in imports {
            let mut rows = stmt.query([import])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                if seen.insert(id) {
                    each(indicator_ref(id, row)?);
                }
            }
        }
        Ok(())
    }

    fn created_among(
        &self,
        imports: &[i64],
        values: &[String],
        each: &mut dyn FnMut(IndicatorRef),
    ) -> Result<u64, StoreError> {
        let created = self.created_ids(imports)?;
        let mut named = self.conn.prepare_cached("SELECT id, value, kind FROM indicators WHERE value = ?1")?;
        for value in values {
            let mut rows = named.query([value])?;
            if let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                if created.contains(&id) {
                    each(indicator_ref(id, row)?);
                }
            }
        }
        Ok(created.len() as u64)
    }

    fn write_enrichment(&self, rows: &[(i64, Enrichment)]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO enrichment (indicator_id, network, asn, as_org, country, hosting, flags, enriched,
                                                    via_tlp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let time = now();
            for (id, e) in rows {
                stmt.execute(params![
                    id,
                    e.network,
                    e.asn,
                    e.as_org,
                    e.country,
                    e.hosting,
                    encode_flags(&e.flags),
                    time,
                    e.via.map(tlp_code)
                ])?;
            }
        }
        tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        tx.commit()?;
        Ok(())
    }

    fn enrichment_of(&self, value: &str) -> Result<Option<Enrichment>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.network, e.asn, e.as_org, e.country, e.hosting, e.flags, e.via_tlp
             FROM enrichment e JOIN indicators i ON i.id = e.indicator_id WHERE i.value = ?1",
        )?;
        Ok(stmt.query_row([value], |row| enrichment_from_row(row, 0)).optional()?.flatten())
    }

    fn allow_add(&self, value: &str, reason: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO allowlist (value, reason, added) VALUES (?1, ?2, ?3)
             ON CONFLICT (value) DO UPDATE SET reason = excluded.reason",
            params![value, reason, now()],
        )?;
        // What may be exported and targeted changed.
        self.bump_generation()
    }

    fn allow_remove(&self, value: &str) -> Result<bool, StoreError> {
        let removed = self.conn.execute("DELETE FROM allowlist WHERE value = ?1", [value])? > 0;
        if removed {
            self.bump_generation()?;
        }
        Ok(removed)
    }

    fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT value, reason, added FROM allowlist ORDER BY value")?;
        let rows = stmt.query_map([], |r| Ok(AllowEntry { value: r.get(0)?, reason: r.get(1)?, added: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn replace_contacts(&self, rows: &[ContactRow]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM contacts", [])?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO contacts (kind, key, name, email, pgp_fingerprint, language)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for c in rows {
                stmt.execute(params![c.kind, c.key, c.name, c.email, c.pgp_fingerprint, c.language])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn contacts(&self) -> Result<Vec<ContactRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, key, name, email, pgp_fingerprint, language FROM contacts ORDER BY kind, key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ContactRow {
                kind: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                email: r.get(3)?,
                pgp_fingerprint: r.get(4)?,
                language: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// An indicator's reference from a row of `id, value, kind`.
fn indicator_ref(id: i64, row: &rusqlite::Row<'_>) -> Result<IndicatorRef, StoreError> {
    let kind: String = row.get(2)?;
    let kind = kind.parse().map_err(|e: cordon_model::UnknownKind| StoreError::Database(e.to_string()))?;
    Ok(IndicatorRef { id, value: row.get(1)?, kind })
}

impl Conn {
    /// The indicators with a sighting one of `imports` created, read from
    /// the sightings' `created_import` index alone.
    fn created_ids(&self, imports: &[i64]) -> Result<std::collections::BTreeSet<i64>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        let mut created =
            self.conn.prepare_cached("SELECT DISTINCT indicator_id FROM sightings WHERE created_import = ?1")?;
        for import in imports {
            for id in created.query_map([import], |r| r.get::<_, i64>(0))? {
                ids.insert(id?);
            }
        }
        Ok(ids)
    }
}
