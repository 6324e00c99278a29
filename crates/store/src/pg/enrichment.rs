//! PostgreSQL implementation of [`EnrichmentStore`]. Enrichment rows are
//! written through binary `COPY` and one merge, so that enriching a large
//! store costs a stream, not a statement per indicator.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

use super::read::{enrichment_from_row, ENRICHMENT_COLUMNS};
use super::{get, now, parsed, Conn};
use crate::enrichment::{AllowEntry, ContactRow, Enrichment, EnrichmentStore, IndicatorRef, Link};
use crate::shared::{tlp_code, tlp_from_code};
use crate::StoreError;

/// Where a write of enrichment rows is staged (binary `COPY`), in the
/// writing transaction only (emptied first: writes may nest in one).
const ENRICHMENT_STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS enrichment_stage (
        ord bigint NOT NULL, indicator_id bigint NOT NULL, network text, asn bigint, as_org text, country text,
        hosting text NOT NULL, flag_names text[] NOT NULL, flag_reasons text[] NOT NULL, via_tlp bigint
    ) ON COMMIT DROP;
    TRUNCATE enrichment_stage";

const ENRICHMENT_COPY: &str = "COPY enrichment_stage (ord, indicator_id, network, asn, as_org, country, hosting,
    flag_names, flag_reasons, via_tlp) FROM STDIN (FORMAT binary)";

/// The types of [`ENRICHMENT_COPY`]'s columns, in order.
const ENRICHMENT_TYPES: [Type; 10] = [
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT8,
];

impl EnrichmentStore for Conn {
    fn indicator_refs(&self, each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.stream("SELECT id, value, kind FROM indicators ORDER BY id", &[], |row| {
            each(IndicatorRef { id: get(row, 0)?, value: get(row, 1)?, kind: parsed(row, 2)? });
            Ok(true)
        })
    }

    fn links(&self) -> Result<Vec<Link>, StoreError> {
        let rows = self.query(
            "SELECT indicator_id, derived_from, min(tlp) FROM sightings WHERE derived_from <> 0
             GROUP BY indicator_id, derived_from",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok(Link { derived: get(r, 0)?, from: get(r, 1)?, tlp: tlp_from_code(get(r, 2)?) }))
            .collect()
    }

    fn links_touching(&self, ids: &[i64]) -> Result<Vec<Link>, StoreError> {
        let rows = self.query(
            "SELECT indicator_id, derived_from, min(tlp) FROM sightings
             WHERE derived_from <> 0 AND (indicator_id = ANY($1) OR derived_from = ANY($1))
             GROUP BY indicator_id, derived_from ORDER BY indicator_id, derived_from",
            &[&ids],
        )?;
        rows.iter()
            .map(|r| Ok(Link { derived: get(r, 0)?, from: get(r, 1)?, tlp: tlp_from_code(get(r, 2)?) }))
            .collect()
    }

    fn indicator_refs_of(&self, ids: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.stream("SELECT id, value, kind FROM indicators WHERE id = ANY($1) ORDER BY id", &[&ids], |row| {
            each(IndicatorRef { id: get(row, 0)?, value: get(row, 1)?, kind: parsed(row, 2)? });
            Ok(true)
        })
    }

    fn indicator_refs_after(&self, after: i64, limit: usize) -> Result<Vec<IndicatorRef>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows =
            self.query("SELECT id, value, kind FROM indicators WHERE id > $1 ORDER BY id LIMIT $2", &[&after, &limit])?;
        rows.iter()
            .map(|row| Ok(IndicatorRef { id: get(row, 0)?, value: get(row, 1)?, kind: parsed(row, 2)? }))
            .collect()
    }

    fn indicator_count(&self) -> Result<u64, StoreError> {
        let rows = self.query("SELECT count(*) FROM indicators", &[])?;
        let count: i64 = rows.first().map(|r| get(r, 0)).transpose()?.unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn stale_indicators(&self, imports: &[i64]) -> Result<Vec<i64>, StoreError> {
        // As SQLite's: the never-enriched anti-join runs only when some
        // indicator the imports did not create has no enrichment row.
        let rows = self.query(
            "SELECT c.id, EXISTS (SELECT 1 FROM enrichment e WHERE e.indicator_id = c.id)
             FROM (SELECT DISTINCT indicator_id AS id FROM sightings WHERE created_import = ANY($1)) c
             ORDER BY 1",
            &[&imports],
        )?;
        let mut ids = std::collections::BTreeSet::new();
        let mut created_without_row = 0i64;
        for row in &rows {
            let (id, has_row): (i64, bool) = (get(row, 0)?, get(row, 1)?);
            ids.insert(id);
            if !has_row {
                created_without_row += 1;
            }
        }
        let counts = self.query("SELECT (SELECT count(*) FROM indicators), (SELECT count(*) FROM enrichment)", &[])?;
        let (indicators, enriched): (i64, i64) = match counts.first() {
            Some(row) => (get(row, 0)?, get(row, 1)?),
            None => (0, 0),
        };
        if indicators - enriched != created_without_row {
            let never = self.query(
                "SELECT i.id FROM indicators i
                 WHERE NOT EXISTS (SELECT 1 FROM enrichment e WHERE e.indicator_id = i.id)",
                &[],
            )?;
            for row in &never {
                ids.insert(get(row, 0)?);
            }
        }
        Ok(ids.into_iter().collect())
    }

    fn created_indicators(&self, imports: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), StoreError> {
        self.stream(
            "SELECT id, value, kind FROM indicators
             WHERE id IN (SELECT indicator_id FROM sightings WHERE created_import = ANY($1))",
            &[&imports],
            |row| {
                each(IndicatorRef { id: get(row, 0)?, value: get(row, 1)?, kind: parsed(row, 2)? });
                Ok(true)
            },
        )
    }

    fn created_among(
        &self,
        imports: &[i64],
        values: &[String],
        each: &mut dyn FnMut(IndicatorRef),
    ) -> Result<u64, StoreError> {
        let rows = self
            .query("SELECT count(DISTINCT indicator_id) FROM sightings WHERE created_import = ANY($1)", &[&imports])?;
        let count: i64 = rows.first().map(|r| get(r, 0)).transpose()?.unwrap_or(0);
        self.stream(
            "SELECT i.id, i.value, i.kind FROM indicators i
             WHERE i.value = ANY($2) AND EXISTS
                 (SELECT 1 FROM sightings s WHERE s.indicator_id = i.id AND s.created_import = ANY($1))",
            &[&imports, &values],
            |row| {
                each(IndicatorRef { id: get(row, 0)?, value: get(row, 1)?, kind: parsed(row, 2)? });
                Ok(true)
            },
        )?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn write_enrichment(&self, rows: &[(i64, Enrichment)]) -> Result<(), StoreError> {
        self.transaction(None, |c| {
            let mut client = c.client();
            client.batch_execute(ENRICHMENT_STAGE)?;
            let mut writer = BinaryCopyInWriter::new(client.copy_in(ENRICHMENT_COPY)?, &ENRICHMENT_TYPES);
            for (ord, (id, e)) in rows.iter().enumerate() {
                let (names, reasons): (Vec<&str>, Vec<&str>) =
                    e.flags.iter().map(|(f, r)| (f.as_str(), r.as_str())).unzip();
                let row: [&(dyn ToSql + Sync); 10] = [
                    &(ord as i64),
                    id,
                    &e.network,
                    &e.asn.map(i64::from),
                    &e.as_org,
                    &e.country,
                    &e.hosting,
                    &names,
                    &reasons,
                    &e.via.map(tlp_code),
                ];
                writer.write(&row)?;
            }
            writer.finish()?;
            // The last row of an indicator wins, as one write after another.
            client.execute(
                "INSERT INTO enrichment (indicator_id, network, asn, as_org, country, hosting, flag_names,
                                         flag_reasons, enriched, via_tlp)
                 SELECT DISTINCT ON (indicator_id) indicator_id, network::cidr, asn, as_org, country, hosting,
                        flag_names, flag_reasons, ts($1), via_tlp
                 FROM enrichment_stage ORDER BY indicator_id, ord DESC
                 ON CONFLICT (indicator_id) DO UPDATE SET network = excluded.network, asn = excluded.asn,
                     as_org = excluded.as_org, country = excluded.country, hosting = excluded.hosting,
                     flag_names = excluded.flag_names, flag_reasons = excluded.flag_reasons,
                     enriched = excluded.enriched, via_tlp = excluded.via_tlp",
                &[&now()],
            )?;
            drop(client);
            c.bump_generation()
        })
    }

    fn enrichment_of(&self, value: &str) -> Result<Option<Enrichment>, StoreError> {
        let row = self.query_opt(
            &format!(
                "SELECT {ENRICHMENT_COLUMNS} FROM enrichment e JOIN indicators i ON i.id = e.indicator_id
                 WHERE i.value = $1"
            ),
            &[&value],
        )?;
        Ok(match row {
            Some(row) => enrichment_from_row(&row, 0)?,
            None => None,
        })
    }

    fn allow_add(&self, value: &str, reason: &str) -> Result<(), StoreError> {
        self.transaction(None, |c| {
            c.execute(
                "INSERT INTO allowlist (value, reason, added) VALUES ($1, $2, ts($3))
                 ON CONFLICT (value) DO UPDATE SET reason = excluded.reason",
                &[&value, &reason, &now()],
            )?;
            // What may be exported and targeted changed.
            c.bump_generation()
        })
    }

    fn allow_remove(&self, value: &str) -> Result<bool, StoreError> {
        self.transaction(None, |c| {
            let removed = c.execute("DELETE FROM allowlist WHERE value = $1", &[&value])? > 0;
            if removed {
                c.bump_generation()?;
            }
            Ok(removed)
        })
    }

    fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        let rows = self.query("SELECT value, reason, unix(added) FROM allowlist ORDER BY value", &[])?;
        rows.iter().map(|r| Ok(AllowEntry { value: get(r, 0)?, reason: get(r, 1)?, added: get(r, 2)? })).collect()
    }

    fn replace_contacts(&self, rows: &[ContactRow]) -> Result<(), StoreError> {
        self.transaction(None, |c| {
            c.execute("DELETE FROM contacts", &[])?;
            for row in rows {
                c.execute(
                    "INSERT INTO contacts (kind, key, name, email, pgp_fingerprint, language)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (kind, key) DO UPDATE SET name = excluded.name, email = excluded.email,
                         pgp_fingerprint = excluded.pgp_fingerprint, language = excluded.language",
                    &[&row.kind, &row.key, &row.name, &row.email, &row.pgp_fingerprint, &row.language],
                )?;
            }
            Ok(())
        })
    }

    fn contacts(&self) -> Result<Vec<ContactRow>, StoreError> {
        let rows = self
            .query("SELECT kind, key, name, email, pgp_fingerprint, language FROM contacts ORDER BY kind, key", &[])?;
        rows.iter()
            .map(|r| {
                Ok(ContactRow {
                    kind: get(r, 0)?,
                    key: get(r, 1)?,
                    name: get(r, 2)?,
                    email: get(r, 3)?,
                    pgp_fingerprint: get(r, 4)?,
                    language: get(r, 5)?,
                })
            })
            .collect()
    }
}
