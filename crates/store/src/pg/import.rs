//! Imports: one transaction each, its sightings written a batch at a time
//! through `COPY … FROM STDIN (FORMAT binary)` into a staging table and
//! merged into the store with one statement per batch.
//!
//! Unlike SQLite's, a PostgreSQL import need not commit batch by batch to
//! let analysts write beside it: other writers take row locks, not the
//! database, so the import is simply one transaction (all or nothing, and
//! nothing to undo when its process dies: the server rolls it back). Imports
//! queue behind each other on an advisory lock held by that transaction, so
//! that no other transaction creates indicators while a batch's statement
//! runs (its snapshot would not see them) and imports' dates
//! (`imports.added_us`) follow their commits.
//!
//! A batch is collapsed before it is sent: the adds of one sighting (same
//! indicator, source, category, family, port and origin) become one row
//! holding what adding them one by one would leave (the last add's label,
//! confidence, TLP and line; the earliest first and latest last seen), so
//! that the merge's `ON CONFLICT DO UPDATE` touches each row once. The first
//! add of a sighting the store did not have is new and every other add an
//! update, as SQLite counts them.

use std::cell::Cell;

use cordon_model::{Category, Kind, Sighting, Tlp, DEFAULT_CONFIDENCE};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

use super::{get, Conn, IMPORT_LOCK};
use crate::shared::tlp_code;
use crate::{ImportCounts, ImportMeta, ImportSink, StoreError, Stored};

/// A batch is written when it holds this many sightings.
const BATCH_ROWS: usize = 1 << 16;

/// ... or this many bytes of text, which bounds a batch's memory whatever
/// the lines are.
const BATCH_TEXT: usize = 16 << 20;

/// The import transaction's memory for sorts and hashes.
const STAGE_WORK_MEM: &str = "SET LOCAL work_mem = '64MB'";

/// The staging table, made by each import's transaction and dropped when
/// it ends. Its text sorts as the store's (`COLLATE "C"`).
const STAGE: &str = "CREATE TEMP TABLE import_stage (
        value text COLLATE \"C\" NOT NULL,
        kind text NOT NULL,
        derived text COLLATE \"C\",
        derived_kind text,
        category text COLLATE \"C\" NOT NULL,
        label text,
        malware text COLLATE \"C\" NOT NULL,
        port bigint NOT NULL,
        first_seen bigint NOT NULL,
        last_seen bigint NOT NULL,
        confidence bigint NOT NULL,
        tlp bigint NOT NULL,
        line bigint NOT NULL
    ) ON COMMIT DROP";

const COPY: &str = "COPY import_stage (value, kind, derived, derived_kind, category, label, malware, port, first_seen,
    last_seen, confidence, tlp, line) FROM STDIN (FORMAT binary)";

/// The types of [`COPY`]'s columns, in order.
const COPY_TYPES: [Type; 13] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];

/// [`MERGE`]'s insert of the staged sightings whose indicator is in the
/// CTE named (`created` or `old`), the derived one's id looked up in `ids`.
macro_rules! insert_sightings {
    ($indicators:literal) => {
        concat!(
            "INSERT INTO sightings (indicator_id, source_id, category, label, malware, port, derived_from,
                               first_seen, last_seen, confidence, tlp, created_import, last_import, line)
        SELECT v.id, $2, st.category, st.label, st.malware, st.port, coalesce(d.id, 0),
               ts(st.first_seen), ts(st.last_seen), st.confidence, st.tlp, $1, $1, st.line
        FROM import_stage st JOIN ",
            $indicators,
            " v ON v.value = st.value LEFT JOIN ids d ON d.value = st.derived
        ORDER BY v.id"
        )
    };
}

/// Creates the batch's new indicators and merges its sightings: `$1` the
/// import, `$2` its source. Returns how many sightings were new.
///
/// The sightings of indicators the statement created (`fresh`) cannot
/// exist yet: they are inserted without `ON CONFLICT`, whose speculative
/// insertion costs a third of the merge; only those of indicators the
/// store had (`merged`) are upserted. Both inserts see the store as it was
/// before the statement (one snapshot), so `old` holds only indicators
/// that existed before it, and the two sets of sightings are disjoint.
const MERGE: &str = concat!(
    "WITH wanted AS (
        SELECT DISTINCT ON (value) value, kind FROM (
            SELECT value, kind FROM import_stage
            UNION ALL SELECT derived, derived_kind FROM import_stage WHERE derived IS NOT NULL) v
        ORDER BY value),
    created AS (
        INSERT INTO indicators (value, kind, created_import)
        SELECT value, kind, $1 FROM wanted ORDER BY value
        ON CONFLICT (value) DO NOTHING RETURNING id, value),
    old AS (SELECT i.id, i.value FROM indicators i JOIN wanted w ON w.value = i.value),
    ids AS (SELECT id, value FROM created UNION ALL SELECT id, value FROM old),
    fresh AS (",
    insert_sightings!("created"),
    " RETURNING 1),
    merged AS (",
    insert_sightings!("old"),
    " ON CONFLICT (indicator_id, source_id, category, malware, port, derived_from) DO UPDATE SET
            label = excluded.label, first_seen = least(sightings.first_seen, excluded.first_seen),
            last_seen = greatest(sightings.last_seen, excluded.last_seen), confidence = excluded.confidence,
            tlp = excluded.tlp, last_import = excluded.last_import, line = excluded.line
        RETURNING xmax = 0 AS inserted)
    SELECT (SELECT count(*) FROM fresh) + (SELECT count(*) FILTER (WHERE inserted) FROM merged)"
);

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
        let mut client = self.conn.client();
        client.batch_execute("TRUNCATE import_stage")?;
        let mut writer = BinaryCopyInWriter::new(client.copy_in(COPY)?, &COPY_TYPES);
        for p in &collapsed {
            let (derived, derived_kind) = match &p.derived {
                Some((value, kind)) => (Some(value.as_str()), Some(kind.as_str())),
                None => (None, None),
            };
            let row: [&(dyn ToSql + Sync); 13] = [
                &p.value,
                &p.kind.as_str(),
                &derived,
                &derived_kind,
                &p.category.as_str(),
                &p.label,
                &p.malware,
                &i64::from(p.port),
                &p.first_seen,
                &p.last_seen,
                &i64::from(p.confidence),
                &tlp_code(p.tlp),
                &p.line,
            ];
            writer.write(&row)?;
        }
        writer.finish()?;
        let new: i64 = client.query_one(MERGE, &[&self.import_id, &self.source_id])?.try_get(0)?;
        let new = new.max(0) as u64;
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
        c.client().batch_execute(STAGE_WORK_MEM)?;
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
