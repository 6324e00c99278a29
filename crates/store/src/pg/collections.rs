//! PostgreSQL implementation of [`CollectionStore`], as SQLite's: a
//! collection's objects come from one query over the sightings it selects
//! that the reader may see ([`visible_for`]), aggregated per indicator in
//! Rust; an object's dates are those of the imports that stored its
//! sightings (`imports.added_us`, strictly increasing: imports commit one
//! at a time under the import lock).

use cordon_model::{Kind, Viewer};
use postgres::types::ToSql;

use super::ops::parse_all;
use super::orgs::{viewer_params, visible_for};
use super::read::SIGHTING_JOINS;
use super::{get, now, parsed, Conn};
use crate::collections::{
    Collection, CollectionObject, CollectionSighting, CollectionSpec, CollectionStore, Deletion, Member, Readers,
};
use crate::shared::{tlp_code, tlp_from_code};
use crate::StoreError;

/// The conditions a collection puts on a sighting `s` of indicator `i`,
/// over the four parameters from `$first` that [`Selection`] gives.
fn selected(first: usize) -> String {
    let (tlp, kinds, categories, operation) = (first, first + 1, first + 2, first + 3);
    format!(
        "s.tlp <= ${tlp}::bigint
         AND (${kinds}::text[] IS NULL OR i.kind = ANY (${kinds}::text[]))
         AND (${categories}::text[] IS NULL OR s.category = ANY (${categories}::text[]))
         AND (${operation}::bigint IS NULL
              OR s.created_import IN (SELECT import_id FROM operation_imports WHERE operation_id = ${operation}::bigint)
              OR s.last_import IN (SELECT import_id FROM operation_imports WHERE operation_id = ${operation}::bigint))"
    )
}

/// The values of [`selected`]'s parameters for one collection.
struct Selection {
    tlp_max: i64,
    kinds: Option<Vec<&'static str>>,
    categories: Option<Vec<&'static str>>,
    /// The operation's id (`-1` for one that no longer exists: nothing).
    operation: Option<i64>,
}

impl Selection {
    fn params(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.tlp_max, &self.kinds, &self.categories, &self.operation]
    }
}

/// One indicator's rows so far.
struct Object {
    indicator_id: i64,
    value: String,
    kind: Kind,
    sightings: Vec<CollectionSighting>,
}

impl Conn {
    fn operation_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.query_opt("SELECT id FROM operations WHERE name = $1", &[&name])?.map(|r| get(&r, 0)).transpose()
    }

    fn selection(&self, spec: &CollectionSpec) -> Result<Selection, StoreError> {
        let operation = match &spec.operation {
            Some(name) => Some(self.operation_id(name)?.unwrap_or(-1)),
            None => None,
        };
        let list = |names: Vec<&'static str>| (!names.is_empty()).then_some(names);
        Ok(Selection {
            tlp_max: tlp_code(spec.tlp_max),
            kinds: list(spec.kinds.iter().map(|k| k.as_str()).collect()),
            categories: list(spec.categories.iter().map(|c| c.as_str()).collect()),
            operation,
        })
    }

    fn collection_members(&self, table: &str, collection: i64) -> Result<Vec<Member>, StoreError> {
        let sql = format!(
            "SELECT o.id, o.name FROM {table} m JOIN organisations o ON o.id = m.org_id
             WHERE m.collection_id = $1 ORDER BY o.name"
        );
        self.query(&sql, &[&collection])?.iter().map(|r| Ok(Member { id: get(r, 0)?, name: get(r, 1)? })).collect()
    }
}

impl CollectionStore for Conn {
    fn add_collection(&self, spec: &CollectionSpec) -> Result<Collection, StoreError> {
        let id = self.transaction(None, |c| {
            let operation = match &spec.operation {
                Some(name) => Some(
                    c.operation_id(name)?
                        .ok_or_else(|| StoreError::Conflict(format!("there is no operation named '{name}'")))?,
                ),
                None => None,
            };
            let categories: Vec<&str> = spec.categories.iter().map(|k| k.as_str()).collect();
            let kinds: Vec<&str> = spec.kinds.iter().map(|k| k.as_str()).collect();
            let inserted = c.query_opt(
                "INSERT INTO collections (name, title, description, categories, kinds, min_confidence, tlp_max,
                                          operation_id, public_clear, restricted, created)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ts($11))
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[
                    &spec.name,
                    &spec.title,
                    &spec.description,
                    &categories,
                    &kinds,
                    &spec.min_confidence.map(i64::from),
                    &tlp_code(spec.tlp_max),
                    &operation,
                    &matches!(spec.readers, Readers::PublicClear),
                    &matches!(spec.readers, Readers::Orgs(_)),
                    &now(),
                ],
            )?;
            let Some(row) = inserted else {
                return Err(StoreError::Conflict(format!("there is already a collection named '{}'", spec.name)));
            };
            let id: i64 = get(&row, 0)?;
            let readers: &[Member] = if let Readers::Orgs(orgs) = &spec.readers { orgs } else { &[] };
            for (table, members) in [("collection_readers", readers), ("collection_writers", spec.writers.as_slice())] {
                let orgs: Vec<i64> = members.iter().map(|m| m.id).collect();
                c.execute(
                    &format!(
                        "INSERT INTO {table} (collection_id, org_id) SELECT $1, unnest($2::bigint[])
                         ON CONFLICT DO NOTHING"
                    ),
                    &[&id, &orgs],
                )?;
            }
            Ok(id)
        })?;
        self.collections()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| StoreError::Database("the new collection vanished".to_string()))
    }

    fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        let rows = self.query(
            "SELECT c.id, c.uuid, c.name, c.title, c.description, c.categories, c.kinds, c.min_confidence,
                    c.tlp_max, o.name, c.public_clear, unix(c.created), c.restricted
             FROM collections c LEFT JOIN operations o ON o.id = c.operation_id ORDER BY c.name",
            &[],
        )?;
        let mut out = Vec::new();
        for row in &rows {
            let spec = CollectionSpec {
                name: get(row, 2)?,
                title: get(row, 3)?,
                description: get(row, 4)?,
                categories: parse_all(get(row, 5)?)?,
                kinds: parse_all(get(row, 6)?)?,
                min_confidence: get::<Option<i64>>(row, 7)?.map(|c| c.clamp(0, 100) as u8),
                tlp_max: tlp_from_code(get(row, 8)?),
                operation: get(row, 9)?,
                readers: if get(row, 10)? { Readers::PublicClear } else { Readers::Community },
                writers: Vec::new(),
            };
            let mut collection = Collection { id: get(row, 0)?, uuid: get(row, 1)?, created: get(row, 11)?, spec };
            if get(row, 12)? {
                collection.spec.readers = Readers::Orgs(self.collection_members("collection_readers", collection.id)?);
            }
            collection.spec.writers = self.collection_members("collection_writers", collection.id)?;
            out.push(collection);
        }
        Ok(out)
    }

    fn remove_collection(&self, name: &str) -> Result<bool, StoreError> {
        self.transaction(None, |c| {
            let Some(row) = c.query_opt("SELECT id FROM collections WHERE name = $1", &[&name])? else {
                return Ok(false);
            };
            let id: i64 = get(&row, 0)?;
            for table in ["collection_readers", "collection_writers", "collection_statuses"] {
                c.execute(&format!("DELETE FROM {table} WHERE collection_id = $1"), &[&id])?;
            }
            c.execute("DELETE FROM collections WHERE id = $1", &[&id])?;
            Ok(true)
        })
    }

    fn collection_objects(
        &self,
        collection: &Collection,
        viewer: &Viewer,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT i.id, i.value, i.kind, src.name, s.category, s.tlp, unix(s.first_seen), unix(s.last_seen),
                    s.confidence, ci.added_us, li.added_us, s.malware
             FROM sightings s JOIN indicators i ON i.id = s.indicator_id {SIGHTING_JOINS}
                  JOIN imports ci ON ci.id = s.created_import JOIN imports li ON li.id = s.last_import
             WHERE ($8::bigint[] IS NULL OR s.indicator_id = ANY ($8::bigint[])) AND {selected} AND {visible}
             ORDER BY s.indicator_id",
            selected = selected(4),
            visible = visible_for(viewer),
        );
        let (org, kind, hub) = viewer_params(viewer);
        let selection = self.selection(&collection.spec)?;
        let only: Option<Vec<i64>> = only.map(<[i64]>::to_vec);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org, &kind, &hub];
        params.extend(selection.params());
        params.push(&only);
        let min_confidence = collection.spec.min_confidence.unwrap_or(0);
        let mut emit = |o: Object| {
            if let Some(object) = CollectionObject::build(o.indicator_id, o.value, o.kind, o.sightings, min_confidence)
            {
                each(object);
            }
        };
        let mut current: Option<Object> = None;
        self.stream(&sql, &params, |row| {
            let id: i64 = get(row, 0)?;
            if current.as_ref().map(|c| c.indicator_id) != Some(id) {
                if let Some(done) = current.take() {
                    emit(done);
                }
                current = Some(Object {
                    indicator_id: id,
                    value: get(row, 1)?,
                    kind: parsed::<Kind>(row, 2)?,
                    sightings: Vec::new(),
                });
            }
            if let Some(acc) = current.as_mut() {
                let malware: String = get(row, 11)?;
                acc.sightings.push(CollectionSighting {
                    source: get(row, 3)?,
                    category: parsed(row, 4)?,
                    malware: (!malware.is_empty()).then_some(malware),
                    // Never downgrades: the object names every selected
                    // sighting's source and category.
                    tlp: tlp_from_code(get(row, 5)?),
                    first_seen: get(row, 6)?,
                    last_seen: get(row, 7)?,
                    confidence: get::<i64>(row, 8)?.clamp(0, 100) as u8,
                    created_us: get(row, 9)?,
                    modified_us: get(row, 10)?,
                });
            }
            Ok(true)
        })?;
        if let Some(done) = current {
            emit(done);
        }
        Ok(())
    }

    fn delete_collection_sightings(&self, collection: &Collection, deletion: &Deletion<'_>) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM sightings s WHERE s.indicator_id = $1
               AND ($2::bigint IS NULL OR s.source_id IN (SELECT id FROM sources WHERE org_id = $2::bigint))
               AND ($3::text IS NULL OR s.malware = $3::text)
               AND ($4::bigint[] IS NULL OR EXISTS (SELECT 1 FROM imports m
                      WHERE m.id IN (s.created_import, s.last_import) AND m.added_us = ANY ($4::bigint[])))
               AND EXISTS (SELECT 1 FROM indicators i WHERE i.id = s.indicator_id AND {selected})",
            selected = selected(5),
        );
        let selection = self.selection(&collection.spec)?;
        let versions: Option<Vec<i64>> = deletion.versions.map(<[i64]>::to_vec);
        let mut params: Vec<&(dyn ToSql + Sync)> =
            vec![&deletion.indicator_id, &deletion.org_id, &deletion.malware, &versions];
        params.extend(selection.params());
        self.transaction(None, |c| {
            let deleted = c.execute(&sql, &params)?;
            if deleted > 0 {
                c.bump_generation()?;
            }
            Ok(deleted)
        })
    }

    fn put_status(&self, id: &str, collection: &Collection, org_id: i64, body: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO collection_statuses (id, collection_id, org_id, body, created) VALUES ($1, $2, $3, $4, ts($5))
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            &[&id, &collection.id, &org_id, &body, &now()],
        )?;
        Ok(())
    }

    fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, StoreError> {
        self.query_opt("SELECT body FROM collection_statuses WHERE id = $1 AND org_id = $2", &[&id, &org_id])?
            .map(|r| get(&r, 0))
            .transpose()
    }
}
