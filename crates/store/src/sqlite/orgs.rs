//! SQLite implementation of [`OrgStore`], and the SQL form of the
//! visibility rule that every read path splices into its queries.

use cordon_model::{Consent, OrgKind, Viewer};
use rusqlite::{params, OptionalExtension, Row};

use super::Conn;
use crate::orgs::{NewOrganisation, OrgStore, Organisation, SourceOwner};
use crate::StoreError;

/// [`cordon_model::may_see`] in SQL, for a sighting `s` of source `src` whose
/// indicator's enrichment is `e` (LEFT JOINed; its columns may be NULL).
/// Takes the named parameters `:viewer_org` (NULL for the public),
/// `:viewer_kind` and `:viewer_hub` that [`viewer_params`] binds.
///
/// Need to know: an agency needs to know about indicators enriched to its
/// country, a provider about those in one of its AS numbers; enrichment
/// derived through a link counts only when the link itself is visible to
/// the community (GREEN or CLEAR). A property test in `tests/visibility.rs`
/// checks that this agrees with `may_see` on every combination.
pub(crate) const VISIBLE: &str = "(:viewer_hub = 1
      OR src.org_id = :viewer_org
      OR s.tlp = 0
      OR (s.tlp = 1 AND :viewer_org IS NOT NULL)
      OR (s.tlp = 2 AND coalesce(e.via_tlp, 0) <= 1 AND (
             (:viewer_kind = 'agency' AND src.amber_agencies = 1
                 AND e.country = (SELECT o.country FROM organisations o WHERE o.id = :viewer_org))
          OR (:viewer_kind = 'provider' AND src.amber_providers = 1
                 AND EXISTS (SELECT 1 FROM organisation_asns oa WHERE oa.org_id = :viewer_org AND oa.asn = e.asn)))))";

/// [`VISIBLE`] for `viewer`: the hub sees everything submitted to it, so its
/// queries carry no condition at all (a full read of a large store ran a
/// third faster without the per-row test); everyone else's carry the rule.
pub(crate) fn visible_for(viewer: &Viewer) -> &'static str {
    if viewer.is_hub() {
        "1"
    } else {
        VISIBLE
    }
}

/// Whether enrichment `e` may be shown: enrichment from the indicator's own
/// address is offline data anyone may have; enrichment derived through a
/// link is as sensitive as the link (`e.via_tlp`), and shown only where any
/// community member could see it, or to the hub. Also bounded by
/// `:max_tlp`.
pub(crate) const ENRICHMENT_VISIBLE: &str = "(e.via_tlp IS NULL OR (e.via_tlp <= :max_tlp AND
      (:viewer_hub = 1 OR e.via_tlp = 0 OR (e.via_tlp = 1 AND :viewer_org IS NOT NULL))))";

pub(crate) use crate::shared::enrichment_visible;

/// The values of the viewer's named parameters.
pub(crate) fn viewer_params(viewer: &Viewer) -> (Option<i64>, Option<&'static str>, i64) {
    (viewer.org_id(), viewer.kind().map(OrgKind::as_str), viewer.is_hub() as i64)
}

fn org_kind(text: &str) -> rusqlite::Result<OrgKind> {
    text.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

impl Conn {
    fn org_from_row(&self, row: &Row<'_>) -> rusqlite::Result<Organisation> {
        let id: i64 = row.get(0)?;
        Ok(Organisation {
            id,
            name: row.get(1)?,
            kind: org_kind(&row.get::<_, String>(2)?)?,
            country: row.get(3)?,
            asns: Vec::new(),
            created: row.get(4)?,
        })
    }

    fn with_asns(&self, mut org: Organisation) -> Result<Organisation, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT asn FROM organisation_asns WHERE org_id = ?1 ORDER BY asn")?;
        org.asns = stmt.query_map([org.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(org)
    }

    fn org_where(&self, clause: &str, param: &dyn rusqlite::ToSql) -> Result<Option<Organisation>, StoreError> {
        let sql = format!("SELECT id, name, kind, country, created FROM organisations WHERE {clause}");
        let found = self.conn.prepare_cached(&sql)?.query_row([param], |r| self.org_from_row(r)).optional()?;
        found.map(|org| self.with_asns(org)).transpose()
    }
}

impl OrgStore for Conn {
    fn hub(&self) -> Result<Organisation, StoreError> {
        self.org_where("kind = ?1", &"hub")?
            .ok_or_else(|| StoreError::Database("the store has no hub organisation".to_string()))
    }

    fn add_org(&self, org: &NewOrganisation) -> Result<Organisation, StoreError> {
        if org.kind == OrgKind::Hub {
            return Err(StoreError::Conflict("a store has exactly one hub organisation".to_string()));
        }
        let tx = self.conn.unchecked_transaction()?;
        let inserted = tx.execute(
            "INSERT INTO organisations (name, kind, country, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING",
            params![org.name, org.kind.as_str(), org.country, super::now()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already an organisation named '{}'", org.name)));
        }
        let id = tx.last_insert_rowid();
        for asn in &org.asns {
            tx.execute("INSERT OR IGNORE INTO organisation_asns (org_id, asn) VALUES (?1, ?2)", params![id, asn])?;
        }
        tx.commit()?;
        self.org(&org.name)?.ok_or_else(|| StoreError::Database("the new organisation vanished".to_string()))
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id, name, kind, country, created FROM organisations ORDER BY name")?;
        let orgs: Vec<Organisation> = stmt.query_map([], |r| self.org_from_row(r))?.collect::<Result<_, _>>()?;
        orgs.into_iter().map(|org| self.with_asns(org)).collect()
    }

    fn org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.org_where("name = ?1", &name)
    }

    fn set_source_org(&self, source: &str, org: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE sources SET org_id = (SELECT id FROM organisations WHERE name = ?2)
             WHERE name = ?1 AND EXISTS (SELECT 1 FROM organisations WHERE name = ?2)",
            params![source, org],
        )?;
        if changed > 0 {
            self.bump_generation()?;
        }
        Ok(changed > 0)
    }

    fn set_consent(&self, source: &str, consent: Consent) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE sources SET amber_agencies = ?2, amber_providers = ?3, share_amber = ?2 WHERE name = ?1",
            params![source, consent.agencies as i64, consent.providers as i64],
        )?;
        if changed > 0 {
            self.bump_generation()?;
        }
        Ok(changed > 0)
    }

    fn source_owners(&self) -> Result<Vec<SourceOwner>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT src.name, o.name, src.amber_agencies, src.amber_providers
             FROM sources src JOIN organisations o ON o.id = src.org_id ORDER BY src.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceOwner {
                source: r.get(0)?,
                org: r.get(1)?,
                consent: Consent { agencies: r.get::<_, i64>(2)? != 0, providers: r.get::<_, i64>(3)? != 0 },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::import::tlp_code;
    use cordon_model::Tlp;

    #[test]
    fn enrichment_visibility_in_rust_agrees_with_sql() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let sql = format!("SELECT {ENRICHMENT_VISIBLE} FROM (SELECT ?1 AS via_tlp) e");
        let viewers = [Viewer::Public, Viewer::org(1, OrgKind::Hub), Viewer::org(2, OrgKind::Agency)];
        for viewer in viewers {
            for via in std::iter::once(None).chain(Tlp::ALL.map(Some)) {
                for max_tlp in Tlp::ALL {
                    let (org, _, hub) = viewer_params(&viewer);
                    let mut stmt = conn
                        .prepare(
                            &sql.replace(":viewer_org", "?2").replace(":viewer_hub", "?3").replace(":max_tlp", "?4"),
                        )
                        .unwrap();
                    let in_sql: Option<bool> = stmt
                        .query_row(rusqlite::params![via.map(tlp_code), org, hub, tlp_code(max_tlp)], |r| r.get(0))
                        .unwrap();
                    assert_eq!(
                        in_sql.unwrap_or(false),
                        enrichment_visible(&viewer, via, max_tlp),
                        "{viewer:?} {via:?} {max_tlp:?}"
                    );
                }
            }
        }
    }
}
