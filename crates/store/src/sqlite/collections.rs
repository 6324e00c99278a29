//! SQLite implementation of [`CollectionStore`].
//!
//! A collection's objects come from one query over the sightings it
//! selects that the reader may see ([`visible_for`], the SQL form of the
//! visibility rule), aggregated per indicator in Rust; the microsecond
//! dates of an object are those of the imports that stored its sightings
//! (`imports.added_us`, set by a trigger when an import begins, strictly
//! increasing: imports are written one at a time under the write lock, so
//! a later date is always a later commit).

use cordon_model::{Category, Kind, Viewer};
use rusqlite::{params, OptionalExtension};

use super::import::{tlp_code, tlp_from_code};
use super::orgs::visible_for;
use super::read::{bind, bind_viewer, SIGHTING_JOINS};
use super::{Conn, SqliteStore};
use crate::collections::{
    Collection, CollectionObject, CollectionSighting, CollectionSpec, CollectionStore, Deletion, Member, Readers,
};
use crate::StoreError;

fn join<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(name).collect::<Vec<_>>().join(",")
}

pub(super) fn parse<T: std::str::FromStr>(text: &str) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn split<T: std::str::FromStr>(text: &str) -> rusqlite::Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.split(',').filter(|p| !p.is_empty()).map(parse).collect()
}

/// A JSON array of the names, for `json_each` (`NULL` when empty: no
/// condition).
fn json_list(names: Vec<&str>) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    Some(format!("[{}]", quoted.join(",")))
}

/// The conditions a collection puts on a sighting `s` of indicator `i`.
const SELECTED: &str = "s.tlp <= :tlp_max
    AND (:kinds IS NULL OR i.kind IN (SELECT value FROM json_each(:kinds)))
    AND (:categories IS NULL OR s.category IN (SELECT value FROM json_each(:categories)))
    AND (:operation IS NULL
         OR s.created_import IN (SELECT import_id FROM operation_imports WHERE operation_id = :operation)
         OR s.last_import IN (SELECT import_id FROM operation_imports WHERE operation_id = :operation))";

/// The values of [`SELECTED`]'s parameters for one collection.
struct Selection {
    tlp_max: i64,
    kinds: Option<String>,
    categories: Option<String>,
    /// The operation's id (`-1` for one that no longer exists: nothing).
    operation: Option<i64>,
}

impl Selection {
    fn bind(&self, stmt: &mut rusqlite::Statement<'_>, more: &[(&str, &dyn rusqlite::ToSql)]) -> rusqlite::Result<()> {
        bind(
            stmt,
            &[
                (":tlp_max", &self.tlp_max),
                (":kinds", &self.kinds),
                (":categories", &self.categories),
                (":operation", &self.operation),
            ],
        )?;
        bind(stmt, more)
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
        Ok(self.conn.query_row("SELECT id FROM operations WHERE name = ?1", [name], |r| r.get(0)).optional()?)
    }

    fn selection(&self, spec: &CollectionSpec) -> Result<Selection, StoreError> {
        let operation = match &spec.operation {
            Some(name) => Some(self.operation_id(name)?.unwrap_or(-1)),
            None => None,
        };
        Ok(Selection {
            tlp_max: tlp_code(spec.tlp_max),
            kinds: json_list(spec.kinds.iter().map(|k| k.as_str()).collect()),
            categories: json_list(spec.categories.iter().map(|c| c.as_str()).collect()),
            operation,
        })
    }

    fn members(&self, table: &str, collection: i64) -> Result<Vec<Member>, StoreError> {
        let sql = format!(
            "SELECT o.id, o.name FROM {table} m JOIN organisations o ON o.id = m.org_id
             WHERE m.collection_id = ?1 ORDER BY o.name"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([collection], |r| Ok(Member { id: r.get(0)?, name: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn collection_from_row(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<(Collection, bool)> {
        let spec = CollectionSpec {
            name: row.get(2)?,
            title: row.get(3)?,
            description: row.get(4)?,
            categories: split(&row.get::<_, String>(5)?)?,
            kinds: split(&row.get::<_, String>(6)?)?,
            min_confidence: row.get::<_, Option<i64>>(7)?.map(|c| c.clamp(0, 100) as u8),
            tlp_max: tlp_from_code(row.get(8)?),
            operation: row.get(9)?,
            readers: if row.get::<_, i64>(10)? != 0 { Readers::PublicClear } else { Readers::Community },
            writers: Vec::new(),
        };
        let collection = Collection { id: row.get(0)?, uuid: row.get(1)?, created: row.get(11)?, spec };
        Ok((collection, row.get::<_, i64>(12)? != 0))
    }
}

impl CollectionStore for Conn {
    fn add_collection(&self, spec: &CollectionSpec) -> Result<Collection, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let operation = match &spec.operation {
            Some(name) => Some(
                self.operation_id(name)?
                    .ok_or_else(|| StoreError::Conflict(format!("there is no operation named '{name}'")))?,
            ),
            None => None,
        };
        let inserted = tx.execute(
            "INSERT INTO collections (uuid, name, title, description, categories, kinds, min_confidence, tlp_max,
                                      operation_id, public_clear, restricted, created)
             VALUES (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
                           || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)
                           || '-' || hex(randomblob(6))),
                     ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (name) DO NOTHING",
            params![
                spec.name,
                spec.title,
                spec.description,
                join(&spec.categories, |c| c.as_str()),
                join(&spec.kinds, |k| k.as_str()),
                spec.min_confidence,
                tlp_code(spec.tlp_max),
                operation,
                matches!(spec.readers, Readers::PublicClear) as i64,
                matches!(spec.readers, Readers::Orgs(_)) as i64,
                super::now(),
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already a collection named '{}'", spec.name)));
        }
        let id = tx.last_insert_rowid();
        let readers: &[Member] = if let Readers::Orgs(orgs) = &spec.readers { orgs } else { &[] };
        for (table, members) in [("collection_readers", readers), ("collection_writers", spec.writers.as_slice())] {
            for member in members {
                tx.execute(
                    &format!("INSERT OR IGNORE INTO {table} (collection_id, org_id) VALUES (?1, ?2)"),
                    params![id, member.id],
                )?;
            }
        }
        tx.commit()?;
        self.collections()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| StoreError::Database("the new collection vanished".to_string()))
    }

    fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.uuid, c.name, c.title, c.description, c.categories, c.kinds, c.min_confidence, c.tlp_max,
                    o.name, c.public_clear, c.created, c.restricted
             FROM collections c LEFT JOIN operations o ON o.id = c.operation_id ORDER BY c.name",
        )?;
        let rows: Vec<(Collection, bool)> =
            stmt.query_map([], |r| self.collection_from_row(r))?.collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (mut collection, restricted) in rows {
            if restricted {
                collection.spec.readers = Readers::Orgs(self.members("collection_readers", collection.id)?);
            }
            collection.spec.writers = self.members("collection_writers", collection.id)?;
            out.push(collection);
        }
        Ok(out)
    }

    fn remove_collection(&self, name: &str) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let Some(id): Option<i64> =
            tx.query_row("SELECT id FROM collections WHERE name = ?1", [name], |r| r.get(0)).optional()?
        else {
            return Ok(false);
        };
        for table in ["collection_readers", "collection_writers", "collection_statuses"] {
            tx.execute(&format!("DELETE FROM {table} WHERE collection_id = ?1"), [id])?;
        }
        tx.execute("DELETE FROM collections WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(true)
    }

    fn collection_objects(
        &self,
        collection: &Collection,
        viewer: &Viewer,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), StoreError> {
        // Streams in the sightings' key order (indicator first): no sort.
        let selection = if only.is_some() { "s.indicator_id IN (SELECT value FROM json_each(:only)) AND" } else { "" };
        let sql = format!(
            "SELECT i.id, i.value, i.kind, src.name, s.category, s.tlp, s.first_seen, s.last_seen, s.confidence,
                    ci.added_us, li.added_us, s.malware
             FROM sightings s JOIN indicators i ON i.id = s.indicator_id {SIGHTING_JOINS}
                  JOIN imports ci ON ci.id = s.created_import JOIN imports li ON li.id = s.last_import
             WHERE {selection} {SELECTED} AND {visible}
             ORDER BY s.indicator_id",
            visible = visible_for(viewer),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        bind_viewer(&mut stmt, viewer)?;
        let only = only.map(json_numbers);
        self.selection(&collection.spec)?.bind(&mut stmt, &[(":only", &only)])?;
        let min_confidence = collection.spec.min_confidence.unwrap_or(0);
        let mut emit = |o: Object| {
            if let Some(object) = CollectionObject::build(o.indicator_id, o.value, o.kind, o.sightings, min_confidence)
            {
                each(object);
            }
        };
        let mut rows = stmt.raw_query();
        let mut current: Option<Object> = None;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if current.as_ref().map(|c| c.indicator_id) != Some(id) {
                if let Some(done) = current.take() {
                    emit(done);
                }
                let kind: String = row.get(2)?;
                current =
                    Some(Object { indicator_id: id, value: row.get(1)?, kind: parse(&kind)?, sightings: Vec::new() });
            }
            if let Some(acc) = current.as_mut() {
                let (category, malware): (String, String) = (row.get(4)?, row.get(11)?);
                acc.sightings.push(CollectionSighting {
                    source: row.get(3)?,
                    category: parse::<Category>(&category)?,
                    malware: (!malware.is_empty()).then_some(malware),
                    // Never downgrades: the object names every selected
                    // sighting's source and category.
                    tlp: tlp_from_code(row.get(5)?),
                    first_seen: row.get(6)?,
                    last_seen: row.get(7)?,
                    confidence: row.get::<_, i64>(8)?.clamp(0, 100) as u8,
                    created_us: row.get(9)?,
                    modified_us: row.get(10)?,
                });
            }
        }
        if let Some(done) = current {
            emit(done);
        }
        Ok(())
    }

    fn delete_collection_sightings(&self, collection: &Collection, deletion: &Deletion<'_>) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM sightings AS s WHERE s.indicator_id = :indicator
               AND (:malware IS NULL OR s.malware = :malware)
               AND (:org IS NULL OR s.source_id IN (SELECT id FROM sources WHERE org_id = :org))
               AND (:versions IS NULL OR EXISTS (SELECT 1 FROM imports m
                      WHERE m.id IN (s.created_import, s.last_import)
                        AND m.added_us IN (SELECT value FROM json_each(:versions))))
               AND EXISTS (SELECT 1 FROM indicators i WHERE i.id = s.indicator_id AND {SELECTED})"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let versions = deletion.versions.map(json_numbers);
        let more: [(&str, &dyn rusqlite::ToSql); 4] = [
            (":indicator", &deletion.indicator_id),
            (":malware", &deletion.malware),
            (":org", &deletion.org_id),
            (":versions", &versions),
        ];
        self.selection(&collection.spec)?.bind(&mut stmt, &more)?;
        let deleted = stmt.raw_execute()? as u64;
        if deleted > 0 {
            self.bump_generation()?;
        }
        Ok(deleted)
    }

    fn put_status(&self, id: &str, collection: &Collection, org_id: i64, body: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO collection_statuses (id, collection_id, org_id, body, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![id, collection.id, org_id, body, super::now()],
        )?;
        Ok(())
    }

    fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT body FROM collection_statuses WHERE id = ?1 AND org_id = ?2", params![id, org_id], |r| {
                r.get(0)
            })
            .optional()?)
    }
}

/// `numbers` as a JSON list, for `json_each`.
fn json_numbers(numbers: &[i64]) -> String {
    format!("[{}]", numbers.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

impl CollectionStore for SqliteStore {
    fn add_collection(&self, spec: &CollectionSpec) -> Result<Collection, StoreError> {
        self.write(|c| c.add_collection(spec))
    }

    fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        self.read(|c| c.collections())
    }

    fn remove_collection(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|c| c.remove_collection(name))
    }

    fn collection_objects(
        &self,
        collection: &Collection,
        viewer: &Viewer,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), StoreError> {
        self.read(|c| c.collection_objects(collection, viewer, only, each))
    }

    fn delete_collection_sightings(&self, collection: &Collection, deletion: &Deletion<'_>) -> Result<u64, StoreError> {
        self.write(|c| c.delete_collection_sightings(collection, deletion))
    }

    fn put_status(&self, id: &str, collection: &Collection, org_id: i64, body: &str) -> Result<(), StoreError> {
        self.write(|c| c.put_status(id, collection, org_id, body))
    }

    fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, StoreError> {
        self.read(|c| c.status(id, org_id))
    }
}
