//! Imports: one transaction each, its sightings written a batch at a time.
//!
//! Unlike SQLite's, a PostgreSQL import need not commit batch by batch to
//! let analysts write beside it: other writers take row locks, not the
//! database, so the import is simply one transaction (all or nothing, and
//! nothing to undo when its process dies: the server rolls it back). Imports
//! queue behind each other on an advisory lock held by that transaction, and
//! only imports create indicators, so no other transaction creates one
//! between a batch's look-up of its indicators and its writing them; imports'
//! dates (`imports.added_us`) follow their commits.
//!
//! A batch is collapsed before it is sent: the adds of one sighting (same
//! indicator, source, category, family, port and origin) become one row
//! holding what adding them one by one would leave (the last add's label,
//! confidence, TLP and line; the earliest first and latest last seen). Then:
//!
//! 1. one query looks up the ids of the indicators the batch names (its
//!    values and those they were derived from);
//! 2. those the store lacks get ids from the table's sequence and go in with
//!    `COPY … FROM STDIN (FORMAT binary)`: plain inserts, without the
//!    speculative insertion of `ON CONFLICT`, which cost a third of them;
//! 3. the sightings of a new indicator (or of a new origin) cannot exist
//!    yet: they go straight into `sightings` with `COPY` too;
//! 4. the others are copied into a staging table and merged with one
//!    `INSERT … ON CONFLICT DO UPDATE`, which touches each row once.
//!
//! The first add of a sighting the store did not have is new and every other
//! add an update, as SQLite counts them.

use std::cell::Cell;
use std::collections::HashMap;
use std::error::Error;

use bytes::{BufMut, BytesMut};
use cordon_model::{Category, Kind, Sighting, Tlp, DEFAULT_CONFIDENCE};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::Client;

use super::{get, Conn, IMPORT_LOCK};
use crate::shared::tlp_code;
use crate::{ImportCounts, ImportMeta, ImportSink, StoreError, Stored};

/// A batch is written when it holds this many sightings. Large, because
/// each batch's look-up and insert walk the whole unique index of the
/// values once the store is large (a batch's sorted values land on most of
/// its leaves): 262,144 rather than 65,536 took the look-up of a 1.67M-line
/// file into a store of 3.3M from 4.8 to 2.9 s (issue 16; BENCHMARKS.md),
/// for ~80 MB more of cordon's memory.
const BATCH_ROWS: usize = 1 << 18;

/// ... or this many bytes of text, which bounds a batch's memory whatever
/// the lines are.
const BATCH_TEXT: usize = 64 << 20;

/// The import transaction's memory for sorts and hashes, and no JIT: its
/// statements are big (the planner's costs would call for compiling them)
/// but simple, and compiling them cost ~80 ms a statement, every batch.
const STAGE_SETTINGS: &str = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off";

/// The staging table of the sightings that may exist already, made by each
/// import's transaction and dropped when it ends: the columns of
/// `sightings`, without its indexes.
const STAGE: &str = "CREATE TEMP TABLE import_stage (LIKE sightings INCLUDING DEFAULTS) ON COMMIT DROP";

/// The ids a batch asks about, each answered in the order asked: the id,
/// or NULL for a value the store lacks. A correlated subquery is one probe
/// of the unique index per value, whatever the planner thinks of the
/// array: as a join, the plan for a known 65,536-value array was a hash
/// join over every indicator of the store, for every batch.
const LOOK_UP: &str = "SELECT (SELECT i.id FROM indicators i WHERE i.value = w.value COLLATE \"C\")
    FROM unnest($1::text[]) WITH ORDINALITY AS w(value, n) ORDER BY w.n";

/// Takes `$1` ids from the indicators' sequence in one step; returns the
/// last of them. Only imports take ids from it, and they hold the import
/// lock, so no other session's `nextval` falls between the two calls (one
/// that did would collide with the range on the primary key: the import
/// would fail, nothing would be stored twice). One `nextval` per id cost
/// ~0.6 µs each, 6% of an import.
const NEW_IDS: &str = "SELECT setval(s, nextval(s) + $1::bigint - 1)
    FROM (SELECT pg_get_serial_sequence('indicators', 'id')::regclass AS s) q";

const COPY_INDICATORS: &str = "COPY indicators (id, value, kind, created_import) FROM STDIN (FORMAT binary)";

/// The types of [`COPY_INDICATORS`]'s columns, in order.
const INDICATOR_TYPES: [Type; 4] = [Type::INT8, Type::TEXT, Type::TEXT, Type::INT8];

/// The columns of a sighting, as [`SightingRow`] sends them.
macro_rules! sighting_columns {
    () => {
        "indicator_id, source_id, category, label, malware, port, derived_from, first_seen, last_seen, confidence, \
         tlp, created_import, last_import, line"
    };
}

/// The sightings that cannot exist yet, straight into the table.
const COPY_FRESH: &str = concat!("COPY sightings (", sighting_columns!(), ") FROM STDIN (FORMAT binary)");

/// The sightings that may exist, into the staging table.
const COPY_STAGED: &str = concat!("COPY import_stage (", sighting_columns!(), ") FROM STDIN (FORMAT binary)");

/// The types of a [`SightingRow`], in order.
const SIGHTING_TYPES: [Type; 14] = [
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];

/// Merges the staged sightings; returns how many were new.
const MERGE: &str = concat!(
    "WITH merged AS (INSERT INTO sightings (",
    sighting_columns!(),
    ") SELECT ",
    sighting_columns!(),
    " FROM import_stage ORDER BY indicator_id
        ON CONFLICT (indicator_id, source_id, category, malware, port, derived_from) DO UPDATE SET
            label = excluded.label, first_seen = least(sightings.first_seen, excluded.first_seen),
            last_seen = greatest(sightings.last_seen, excluded.last_seen), confidence = excluded.confidence,
            tlp = excluded.tlp, last_import = excluded.last_import, line = excluded.line
        RETURNING xmax = 0 AS inserted)
    SELECT count(*) FILTER (WHERE inserted) FROM merged"
);

/// Seconds since the Unix epoch, sent as the `timestamptz` that the
/// schema's `ts()` makes of them (the server refuses one out of its range).
/// Not `SystemTime`'s own `ToSql`: its microseconds are computed unchecked,
/// and a feed's date far out of range must fail the import, not wrap.
#[derive(Debug)]
struct Timestamp(i64);

/// The Unix time of PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH: i64 = 946_684_800;

impl ToSql for Timestamp {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let micros =
            self.0.checked_sub(PG_EPOCH).and_then(|s| s.checked_mul(1_000_000)).ok_or("timestamp out of range")?;
        out.put_i64(micros);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    to_sql_checked!();
}

/// A queued sighting.
struct Pending {
    value: String,
    kind: Kind,
    derived: Option<(String, Kind)>,
    category: Category,
    label: Option<String>,
    malware: String,
    port: u16,
    first_seen: i64,
    last_seen: i64,
    confidence: u8,
    tlp: Tlp,
    line: i64,
}

impl Pending {
    /// What identifies the sighting it adds to.
    fn key(&self) -> (&str, Category, &str, u16, Option<&str>) {
        (&self.value, self.category, &self.malware, self.port, self.derived.as_ref().map(|(d, _)| d.as_str()))
    }
}

/// A batch's indicator: its id, and whether the batch created it.
#[derive(Clone, Copy)]
struct Id {
    id: i64,
    created: bool,
}

/// The indicators a batch names (its values and those they were derived
/// from), each once, in the order of their values.
fn named(batch: &[Pending]) -> Vec<(&str, Kind)> {
    let mut named: Vec<(&str, Kind)> = batch
        .iter()
        .flat_map(|p| {
            std::iter::once((p.value.as_str(), p.kind)).chain(p.derived.as_ref().map(|(v, k)| (v.as_str(), *k)))
        })
        .collect();
    named.sort_unstable_by(|a, b| a.0.cmp(b.0));
    named.dedup_by(|a, b| a.0 == b.0);
    named
}

/// Looks up the ids of the indicators `named`, creating those the store
/// lacks for the import `import_id`: see the module docs.
fn indicator_ids<'b>(
    conn: &Conn,
    import_id: i64,
    named: &[(&'b str, Kind)],
) -> Result<HashMap<&'b str, Id>, StoreError> {
    let values: Vec<&str> = named.iter().map(|(v, _)| *v).collect();
    let mut found: Vec<Option<i64>> = Vec::with_capacity(named.len());
    conn.stream(LOOK_UP, &[&values], |row| {
        found.push(get(row, 0)?);
        Ok(true)
    })?;
    if found.len() != named.len() {
        return Err(StoreError::Database("the indicators' look-up lost rows".to_string()));
    }
    let lacking = found.iter().filter(|id| id.is_none()).count() as i64;
    // Ascending ids for ascending values: the sightings' key, which
    // begins with the id, then grows at its end.
    let last: i64 = if lacking > 0 { conn.value(NEW_IDS, &[&lacking])? } else { 0 };
    let mut fresh = (last - lacking + 1)..=last;
    let mut ids = HashMap::with_capacity(named.len());
    let mut client = conn.client();
    let mut writer = (lacking > 0)
        .then(|| client.copy_in(COPY_INDICATORS).map(|sink| BinaryCopyInWriter::new(sink, &INDICATOR_TYPES)))
        .transpose()?;
    for (&(value, kind), found) in named.iter().zip(found) {
        let id = match (found, writer.as_mut()) {
            (Some(id), _) => Id { id, created: false },
            (None, Some(writer)) => {
                let id = fresh.next().ok_or_else(|| StoreError::Database("no id left".to_string()))?;
                writer.write(&[&id, &value, &kind.as_str(), &import_id])?;
                Id { id, created: true }
            }
            (None, None) => return Err(StoreError::Database("no id for a new indicator".to_string())),
        };
        ids.insert(value, id);
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(ids)
}

/// A sighting as [`COPY_FRESH`] and [`COPY_STAGED`] send it.
struct SightingRow<'p> {
    pending: &'p Pending,
    indicator: i64,
    derived_from: i64,
}

impl SightingRow<'_> {
    fn write(&self, writer: &mut BinaryCopyInWriter<'_>, import_id: i64, source_id: i64) -> Result<(), StoreError> {
        let p = self.pending;
        let row: [&(dyn ToSql + Sync); 14] = [
            &self.indicator,
            &source_id,
            &p.category.as_str(),
            &p.label,
            &p.malware,
            &i64::from(p.port),
            &self.derived_from,
            &Timestamp(p.first_seen),
            &Timestamp(p.last_seen),
            &i64::from(p.confidence),
            &tlp_code(p.tlp),
            &import_id,
            &import_id,
            &p.line,
        ];
        Ok(writer.write(&row)?)
    }
}

/// Copies `rows` with `copy` (one of [`COPY_FRESH`] and [`COPY_STAGED`]).
fn copy_sightings(
    client: &mut Client,
    copy: &str,
    rows: &[SightingRow<'_>],
    import_id: i64,
    source_id: i64,
) -> Result<(), StoreError> {
    let mut writer = BinaryCopyInWriter::new(client.copy_in(copy)?, &SIGHTING_TYPES);
    for row in rows {
        row.write(&mut writer, import_id, source_id)?;
    }
    writer.finish()?;
    Ok(())
}

/// Queues sightings and merges them a batch at a time, inside the
/// import's transaction.
struct PgSink<'c> {
    conn: &'c Conn,
    meta: &'c ImportMeta,
    import_id: i64,
    source_id: i64,
    queued: Vec<Pending>,
    text: usize,
    stored: Stored,
    /// Set once a batch was merged (see [`run_import`]).
    wrote: &'c Cell<bool>,
}

impl PgSink<'_> {
    fn write_batch(&mut self) -> Result<(), StoreError> {
        let adds = self.queued.len() as u64;
        // Stable: the adds of one sighting stay in the order they came.
        self.queued.sort_by(|a, b| a.key().cmp(&b.key()));
        let mut collapsed: Vec<Pending> = Vec::with_capacity(self.queued.len());
        for p in self.queued.drain(..) {
            match collapsed.last_mut() {
                Some(last) if last.key() == p.key() => {
                    let (first_seen, last_seen) = (last.first_seen.min(p.first_seen), last.last_seen.max(p.last_seen));
                    *last = Pending { first_seen, last_seen, ..p };
                }
                _ => collapsed.push(p),
            }
        }
        self.text = 0;
        let named = named(&collapsed);
        let ids = indicator_ids(self.conn, self.import_id, &named)?;
        let id_of = |value: &str| {
            ids.get(value).copied().ok_or_else(|| StoreError::Database("an indicator without an id".to_string()))
        };
        let (mut fresh, mut staged) = (Vec::new(), Vec::new());
        for pending in &collapsed {
            let indicator = id_of(&pending.value)?;
            let derived = pending.derived.as_ref().map(|(d, _)| id_of(d)).transpose()?;
            let row = SightingRow { pending, indicator: indicator.id, derived_from: derived.map_or(0, |d| d.id) };
            if indicator.created || derived.is_some_and(|d| d.created) {
                fresh.push(row);
            } else {
                staged.push(row);
            }
        }
        let mut new = fresh.len() as u64;
        let mut client = self.conn.client();
        if !fresh.is_empty() {
            copy_sightings(&mut client, COPY_FRESH, &fresh, self.import_id, self.source_id)?;
        }
        if !staged.is_empty() {
            client.batch_execute("TRUNCATE import_stage")?;
            copy_sightings(&mut client, COPY_STAGED, &staged, self.import_id, self.source_id)?;
            drop(client);
            let merged: i64 = self.conn.value(MERGE, &[])?;
            new += merged.max(0) as u64;
        }
        self.stored.new += new;
        self.stored.updated += adds.saturating_sub(new);
        self.wrote.set(true);
        Ok(())
    }
}

impl ImportSink for PgSink<'_> {
    fn add(&mut self, sighting: &Sighting) -> Result<(), StoreError> {
        let a = &sighting.attributes;
        let first_seen = a.first_seen.or(a.last_seen).unwrap_or(self.meta.time);
        let pending = Pending {
            value: sighting.observable.to_string(),
            kind: sighting.observable.kind(),
            derived: sighting.derived_from.as_ref().map(|obs| (obs.to_string(), obs.kind())),
            category: a.category.unwrap_or(Category::Other),
            label: a.label.clone(),
            malware: a.malware.clone().unwrap_or_default(),
            port: a.port.unwrap_or(0),
            first_seen,
            last_seen: a.last_seen.unwrap_or(self.meta.time).max(first_seen),
            confidence: a.confidence.unwrap_or(DEFAULT_CONFIDENCE).min(100),
            tlp: a.tlp.unwrap_or(Tlp::Amber),
            line: sighting.line as i64,
        };
        self.text += pending.value.len()
            + pending.derived.as_ref().map_or(0, |(d, _)| d.len())
            + pending.label.as_ref().map_or(0, String::len)
            + pending.malware.len();
        self.queued.push(pending);
        if self.queued.len() >= BATCH_ROWS || self.text >= BATCH_TEXT {
            self.write_batch()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<Stored, StoreError> {
        if !self.queued.is_empty() {
            self.write_batch()?;
        }
        Ok(self.stored)
    }
}

/// Writes the import's own rows (its source, and that source's
/// organisation, when they are new); returns the import's and the
/// source's ids.
fn begin(conn: &Conn, meta: &ImportMeta) -> Result<(i64, i64), StoreError> {
    // A new source belongs to the organisation of its name, a partner
    // made for it unless one exists (`cordon source set` moves it).
    conn.execute(
        "INSERT INTO organisations (name, kind, created)
         SELECT $1, 'partner', ts($2) WHERE NOT EXISTS (SELECT 1 FROM sources WHERE name = $1)
         ON CONFLICT (name) DO NOTHING",
        &[&meta.source, &meta.time],
    )?;
    conn.execute(
        "INSERT INTO sources (name, created, org_id) SELECT $1, ts($2), o.id FROM organisations o WHERE o.name = $1
         ON CONFLICT (name) DO NOTHING",
        &[&meta.source, &meta.time],
    )?;
    let source_id: i64 = conn.value("SELECT id FROM sources WHERE name = $1", &[&meta.source])?;
    let row = conn
        .query_opt(
            "INSERT INTO imports (source_id, path, sha256, format, time) VALUES ($1, $2, $3, $4, ts($5)) RETURNING id",
            &[&source_id, &meta.path, &meta.sha256, &meta.format, &meta.time],
        )?
        .ok_or_else(|| StoreError::Database("the new import vanished".to_string()))?;
    Ok((get(&row, 0)?, source_id))
}

/// An import that grew the sightings by a tenth (autovacuum's threshold
/// for a new `ANALYZE`), and by at least [`ANALYZE_ROWS`], brings the
/// planner's statistics of the two tables it writes up to date before it
/// commits, rather than leaving the reads that follow it (its own
/// enrichment first) to plan a join of a few hundred thousand rows as if
/// it were a few (an index probe per row where a hash join costs a third).
/// `ANALYZE` reads a fixed-size sample: its cost does not grow with the
/// store.
fn analyze_after(conn: &Conn, new: u64) -> Result<(), StoreError> {
    let rows: f32 = conn.value("SELECT reltuples FROM pg_class WHERE oid = 'sightings'::regclass", &[])?;
    let new = new as f32;
    if new >= ANALYZE_ROWS as f32 && new >= rows.max(0.0) / 10.0 {
        conn.client().batch_execute("ANALYZE indicators, sightings")?;
    }
    Ok(())
}

/// Below this many new sightings an import leaves statistics to autovacuum.
const ANALYZE_ROWS: u64 = 10_000;

/// Records the import's counts and moves the generation.
fn complete(conn: &Conn, import_id: i64, counts: &ImportCounts) -> Result<(), StoreError> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    conn.execute(
        "UPDATE imports SET read = $2, accepted = $3, new = $4, updated = $5, rejected = $6, skipped = $7
         WHERE id = $1",
        &[
            &import_id,
            &n(counts.read),
            &n(counts.accepted),
            &n(counts.new),
            &n(counts.updated),
            &n(counts.rejected),
            &n(counts.skipped),
        ],
    )?;
    conn.bump_generation()
}

/// Runs one import: see [`crate::Store::import`] and the module docs.
///
/// A failed import leaves nothing: its transaction rolls back. When it
/// had merged a batch the generation moves anyway, as SQLite's does
/// when it undoes one (a reader of either backend may take the
/// generation to mean "look again").
pub(super) fn run_import(
    conn: &Conn,
    meta: &ImportMeta,
    feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
) -> Result<i64, StoreError> {
    let wrote = Cell::new(false);
    let result = conn.transaction(Some(IMPORT_LOCK), |c| {
        let (import_id, source_id) = begin(c, meta)?;
        // The merge sorts and hashes a batch (tens of MB): in memory, not
        // spilled to temporary files as the server's default 4 MB would.
        c.client().batch_execute(STAGE_SETTINGS)?;
        c.client().batch_execute(STAGE)?;
        let mut sink = PgSink {
            conn: c,
            meta,
            import_id,
            source_id,
            queued: Vec::new(),
            text: 0,
            stored: Stored::default(),
            wrote: &wrote,
        };
        let counts = feed(&mut sink)?;
        let stored = sink.flush()?;
        analyze_after(c, stored.new)?;
        complete(c, import_id, &counts)?;
        Ok(import_id)
    });
    if result.is_err() && wrote.get() {
        conn.bump_generation()?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(seconds: i64) -> Result<Vec<u8>, Box<dyn Error + Sync + Send>> {
        let mut out = BytesMut::new();
        Timestamp(seconds).to_sql(&Type::TIMESTAMPTZ, &mut out)?;
        Ok(out.to_vec())
    }

    #[test]
    fn a_timestamp_is_microseconds_since_2000_and_refuses_to_overflow() {
        assert_eq!(encoded(PG_EPOCH).unwrap(), 0i64.to_be_bytes());
        assert_eq!(encoded(PG_EPOCH + 1).unwrap(), 1_000_000i64.to_be_bytes());
        assert_eq!(encoded(0).unwrap(), (-PG_EPOCH * 1_000_000).to_be_bytes());
        assert!(encoded(i64::MAX).is_err());
        assert!(encoded(i64::MIN).is_err());
    }
}
