//! PostgreSQL implementation of [`OrgStore`], and the SQL form of the
//! visibility rule that every read path splices into its queries.

use cordon_model::{Consent, OrgKind, Viewer};
use postgres::Row;

use super::{get, now, parsed, Conn};
use crate::orgs::{NewOrganisation, OrgStore, Organisation, SourceOwner};
use crate::StoreError;

/// [`cordon_model::may_see`] in SQL, for a sighting `s` of source `src` whose
/// indicator's enrichment is `e` (LEFT JOINed; its columns may be NULL):
/// the same rule as SQLite's `VISIBLE`, over the viewer's parameters `$1`
/// (its organisation, NULL for the public), `$2` (its kind) and `$3`
/// (whether it is the hub) that [`viewer_params`] gives. The conformance
/// suite's property test checks it against `may_see` on this backend too.
pub(crate) const VISIBLE: &str = "($3::boolean
      OR src.org_id = $1::bigint
      OR s.tlp = 0
      OR (s.tlp = 1 AND $1::bigint IS NOT NULL)
      OR (s.tlp = 2 AND coalesce(e.via_tlp, 0) <= 1 AND (
             ($2::text = 'agency' AND src.amber_agencies
                 AND e.country = (SELECT o.country FROM organisations o WHERE o.id = $1::bigint))
          OR ($2::text = 'provider' AND src.amber_providers
                 AND EXISTS (SELECT 1 FROM organisation_asns oa WHERE oa.org_id = $1::bigint AND oa.asn = e.asn)))))";

/// [`VISIBLE`] for `viewer`: the hub sees everything submitted to it, so
/// its queries carry no condition (the parameters are named only so that
/// the statement declares them; the planner folds `true OR …` away).
pub(crate) fn visible_for(viewer: &Viewer) -> &'static str {
    if viewer.is_hub() {
        "(true OR ($1::bigint IS NULL AND $2::text IS NULL AND $3::boolean))"
    } else {
        VISIBLE
    }
}

/// Whether enrichment `e` may be shown (see SQLite's
/// `ENRICHMENT_VISIBLE`), also bounded by the maximum TLP `$4`.
pub(crate) const ENRICHMENT_VISIBLE: &str = "(e.via_tlp IS NULL OR (e.via_tlp <= $4::bigint AND
      ($3::boolean OR e.via_tlp = 0 OR (e.via_tlp = 1 AND $1::bigint IS NOT NULL))))";

/// The values of the viewer's parameters `$1`, `$2`, `$3`.
pub(crate) fn viewer_params(viewer: &Viewer) -> (Option<i64>, Option<&'static str>, bool) {
    (viewer.org_id(), viewer.kind().map(OrgKind::as_str), viewer.is_hub())
}

const ORG_COLUMNS: &str = "id, name, kind, country, unix(created)";

fn org_row(row: &Row) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: get(row, 0)?,
        name: get(row, 1)?,
        kind: parsed(row, 2)?,
        country: get(row, 3)?,
        asns: Vec::new(),
        created: get(row, 4)?,
    })
}

impl Conn {
    fn with_asns(&self, mut org: Organisation) -> Result<Organisation, StoreError> {
        let rows = self.query("SELECT asn FROM organisation_asns WHERE org_id = $1 ORDER BY asn", &[&org.id])?;
        org.asns = rows.iter().map(|r| get::<i64>(r, 0).map(|a| a as u32)).collect::<Result<_, _>>()?;
        Ok(org)
    }

    fn org_where(&self, clause: &str, param: &str) -> Result<Option<Organisation>, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE {clause}");
        match self.query_opt(&sql, &[&param])? {
            Some(row) => Ok(Some(self.with_asns(org_row(&row)?)?)),
            None => Ok(None),
        }
    }
}

impl OrgStore for Conn {
    fn hub(&self) -> Result<Organisation, StoreError> {
        self.org_where("kind = $1", "hub")?
            .ok_or_else(|| StoreError::Database("the store has no hub organisation".to_string()))
    }

    fn add_org(&self, org: &NewOrganisation) -> Result<Organisation, StoreError> {
        if org.kind == OrgKind::Hub {
            return Err(StoreError::Conflict("a store has exactly one hub organisation".to_string()));
        }
        self.transaction(None, |c| {
            let id: Option<i64> = c
                .query_opt(
                    "INSERT INTO organisations (name, kind, country, created) VALUES ($1, $2, $3, ts($4))
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                    &[&org.name, &org.kind.as_str(), &org.country, &now()],
                )?
                .map(|r| get(&r, 0))
                .transpose()?;
            let Some(id) = id else {
                return Err(StoreError::Conflict(format!("there is already an organisation named '{}'", org.name)));
            };
            let asns: Vec<i64> = org.asns.iter().map(|a| i64::from(*a)).collect();
            c.execute(
                "INSERT INTO organisation_asns (org_id, asn) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
                &[&id, &asns],
            )?;
            Ok(())
        })?;
        self.org(&org.name)?.ok_or_else(|| StoreError::Database("the new organisation vanished".to_string()))
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = self.query(&format!("SELECT {ORG_COLUMNS} FROM organisations ORDER BY name"), &[])?;
        rows.iter().map(|r| self.with_asns(org_row(r)?)).collect()
    }

    fn org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.org_where("name = $1", name)
    }

    fn set_source_org(&self, source: &str, org: &str) -> Result<bool, StoreError> {
        self.transaction(None, |c| {
            let changed = c.execute(
                "UPDATE sources SET org_id = o.id FROM organisations o WHERE sources.name = $1 AND o.name = $2",
                &[&source, &org],
            )?;
            if changed > 0 {
                c.bump_generation()?;
            }
            Ok(changed > 0)
        })
    }

    fn set_consent(&self, source: &str, consent: Consent) -> Result<bool, StoreError> {
        self.transaction(None, |c| {
            let changed = c.execute(
                "UPDATE sources SET amber_agencies = $2, amber_providers = $3 WHERE name = $1",
                &[&source, &consent.agencies, &consent.providers],
            )?;
            if changed > 0 {
                c.bump_generation()?;
            }
            Ok(changed > 0)
        })
    }

    fn source_owners(&self) -> Result<Vec<SourceOwner>, StoreError> {
        let rows = self.query(
            "SELECT src.name, o.name, src.amber_agencies, src.amber_providers
             FROM sources src JOIN organisations o ON o.id = src.org_id ORDER BY src.name",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(SourceOwner {
                    source: get(r, 0)?,
                    org: get(r, 1)?,
                    consent: Consent { agencies: get(r, 2)?, providers: get(r, 3)? },
                })
            })
            .collect()
    }
}
