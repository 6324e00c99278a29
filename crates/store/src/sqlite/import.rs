//! Imports: all or nothing, written a batch at a time.
//!
//! An import is one unit (it completes or leaves no trace), but not one
//! transaction: each batch commits on its own, so that other writers wait
//! for a batch at most; [`SqliteStore::run_import`] says how it stays all
//! or nothing.
//!
//! Sightings are not written as they arrive: [`SqliteSink`] queues them and
//! writes them a batch at a time in sorted order, because the cost of an
//! import is almost all SQLite work, which sorted order and multi-row
//! statements cut down:
//!
//! * A batch resolves its indicator values in byte order (SQLite's `BINARY`
//!   collation is `str`'s order), so new indicators get ascending ids and
//!   their value index grows where it was left; then it writes the
//!   sightings in the same order, which for new indicators appends to the
//!   `sightings` b-tree (keyed by indicator first, migration 4).
//! * Executing a statement costs about 3,000 instructions besides its rows
//!   (cursors opened and closed, registers reset; callgrind), as much as
//!   the b-tree inserts of a row. So rows go [`ROWS_PER_STATEMENT`] to a
//!   statement where no answer per row is needed: new indicators (ids are
//!   handed out by the sink, so they are known without asking), and the
//!   sightings that cannot exist yet, the first of each indicator the batch
//!   created. Everything else, such as the refresh of a known sighting,
//!   goes one row at a time, which says whether each row was new.
//!
//! Reordering is safe because only writes to the same row can observe each
//! other's order, and those keep it: the adds of one sighting share an
//! indicator value, equal values stay in the order they were added, and a
//! sighting written with the many-row statement is the first of its
//! indicator, written before all the others. So the store ends in the state
//! a row-by-row import would leave, and new/updated are counted as that
//! import would count them (the first add of a sighting unknown to the
//! store is new, every other add updates). Measurements are in
//! BENCHMARKS.md ("Ingest").

use cordon_model::{Category, Kind, Observable, Sighting, Tlp, DEFAULT_CONFIDENCE};
use rusqlite::{params, CachedStatement, Connection, OptionalExtension};

use super::Conn;
use crate::{ImportCounts, ImportMeta, ImportSink, SqliteStore, StoreError, Stored};

/// A batch is written when it holds this many sightings. Each batch's
/// commit rewrites every page of the value index it touched, and a sorted
/// batch of random values touches nearly every leaf once the index
/// outgrows the batch, so small batches into a big store write the whole
/// index again and again: 64 Ki sightings spent a third of a 5M-indicator
/// store's ingest in the kernel, writing the WAL (5M/1M CPU 8× per file;
/// 6× with 256 Ki, which holds the write lock ~1.5 s per batch at 5M).
const BATCH_ROWS: usize = 1 << 18;

/// ... or this many bytes of text, which bounds a batch's memory whatever
/// the lines are.
const BATCH_TEXT: usize = 64 << 20;

/// Rows of a many-row statement: 16 took two thirds of the instructions of
/// one-row statements, 64 a little less, and more changes nothing.
const ROWS_PER_STATEMENT: usize = 64;

/// Parameters of one indicator row: `?1` id, `?2` value, `?3` kind; the
/// import follows the rows.
const INDICATOR_PARAMS: usize = 3;

/// Parameters of one sighting row, see [`bind_sighting`]; the source and the
/// import follow the rows.
const SIGHTING_PARAMS: usize = 11;

/// Where a string is in a batch's text.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

/// A queued sighting, its strings in its batch's text.
struct Pending {
    value: Span,
    kind: Kind,
    derived_from: Option<(Span, Kind)>,
    label: Option<Span>,
    malware: Span,
    category: Category,
    tlp: Tlp,
    confidence: u8,
    port: u16,
    line: i64,
    first_seen: i64,
    last_seen: i64,
    /// Set when the batch is written.
    indicator_id: i64,
    /// Set when the batch is written; 0 when not derived.
    derived_id: i64,
}

/// Sightings and their strings, back to back.
#[derive(Default)]
struct Batch {
    text: String,
    rows: Vec<Pending>,
}

impl Batch {
    /// Appends `text` and says where it is.
    fn keep(&mut self, text: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(text);
        Span { start, len: text.len() }
    }

    /// Appends an observable's canonical text.
    fn keep_observable(&mut self, observable: &Observable) -> Span {
        use std::fmt::Write;
        let start = self.text.len();
        // Writing to a `String` cannot fail.
        let _ = write!(self.text, "{observable}");
        Span { start, len: self.text.len() - start }
    }

    fn text(&self, span: Span) -> &str {
        &self.text[span.start..span.start + span.len]
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS || self.text.len() >= BATCH_TEXT
    }

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }
}

/// The import's rows once the store holds them: written by the first
/// batch's transaction, with it.
#[derive(Clone, Copy)]
struct Begun {
    import_id: i64,
    source_id: i64,
}

/// The statements of one batch's transaction, prepared (from the
/// connection's cache) when it starts.
struct Statements<'c> {
    /// [`INDICATOR_PARAMS`] for one row, `OR IGNORE`.
    insert_indicator: CachedStatement<'c>,
    /// The same for [`ROWS_PER_STATEMENT`] rows.
    insert_indicators: CachedStatement<'c>,
    select_indicator: CachedStatement<'c>,
    /// [`SIGHTING_PARAMS`] for one row, `OR IGNORE`.
    insert_sighting: CachedStatement<'c>,
    /// [`ROWS_PER_STATEMENT`] rows that cannot exist yet: a conflict is an
    /// error, not ignored.
    insert_new_sightings: CachedStatement<'c>,
    /// The parameters of [`Statements::insert_sighting`].
    update_sighting: CachedStatement<'c>,
    /// Keeps what updates are about to overwrite, [`ROWS_PER_STATEMENT`]
    /// keys at a time (see [`journal_sql`]).
    journal: CachedStatement<'c>,
    /// The same for one key.
    journal_one: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection, begun: Begun) -> Result<Statements<'c>, StoreError> {
        // No `RETURNING`: SQLite buffers returned rows in a temporary b-tree
        // per execution, which made an upsert cost ~30x a plain insert.
        let mut insert_indicator = conn.prepare_cached(&insert_indicators_sql(1))?;
        let mut insert_indicators = conn.prepare_cached(&insert_indicators_sql(ROWS_PER_STATEMENT))?;
        insert_indicator.raw_bind_parameter(INDICATOR_PARAMS + 1, begun.import_id)?;
        insert_indicators.raw_bind_parameter(ROWS_PER_STATEMENT * INDICATOR_PARAMS + 1, begun.import_id)?;
        let mut insert_sighting = conn.prepare_cached(&insert_sightings_sql("OR IGNORE", 1))?;
        let mut insert_new_sightings = conn.prepare_cached(&insert_sightings_sql("", ROWS_PER_STATEMENT))?;
        let mut update_sighting = conn.prepare_cached(
            "UPDATE sightings SET label = ?3, first_seen = min(first_seen, ?7), last_seen = max(last_seen, ?8),
                 confidence = ?9, tlp = ?10, last_import = ?13, line = ?11
             WHERE indicator_id = ?1 AND source_id = ?12 AND category = ?2 AND malware = ?4 AND port = ?5
               AND derived_from = ?6",
        )?;
        let mut journal = conn.prepare_cached(&journal_sql(ROWS_PER_STATEMENT))?;
        let mut journal_one = conn.prepare_cached(&journal_sql(1))?;
        for (statement, rows) in [(&mut journal, ROWS_PER_STATEMENT), (&mut journal_one, 1)] {
            statement.raw_bind_parameter(rows * JOURNAL_PARAMS + 1, begun.source_id)?;
            statement.raw_bind_parameter(rows * JOURNAL_PARAMS + 2, begun.import_id)?;
        }
        for statement in [&mut insert_sighting, &mut update_sighting] {
            statement.raw_bind_parameter(SIGHTING_PARAMS + 1, begun.source_id)?;
            statement.raw_bind_parameter(SIGHTING_PARAMS + 2, begun.import_id)?;
        }
        insert_new_sightings.raw_bind_parameter(ROWS_PER_STATEMENT * SIGHTING_PARAMS + 1, begun.source_id)?;
        insert_new_sightings.raw_bind_parameter(ROWS_PER_STATEMENT * SIGHTING_PARAMS + 2, begun.import_id)?;
        Ok(Statements {
            insert_indicator,
            insert_indicators,
            select_indicator: conn.prepare_cached("SELECT id FROM indicators WHERE value = ?1")?,
            insert_sighting,
            insert_new_sightings,
            update_sighting,
            journal,
            journal_one,
        })
    }
}

/// Queues sightings and writes them in sorted batches, each batch in a
/// transaction of its own, so that other writers wait for one batch at
/// most, never for the whole import (see [`SqliteStore::import`]).
struct SqliteSink<'s> {
    store: &'s SqliteStore,
    meta: &'s ImportMeta,
    /// Set once a batch's transaction has committed.
    begun: Option<Begun>,
    /// Sightings as they were added.
    queued: Batch,
    /// The same, sorted, while a batch is written (kept for its buffers).
    sorted: Batch,
    /// (sort key, row in `queued`), kept for its buffer.
    order: Vec<(u128, u32)>,
    stored: Stored,
    /// The id the next new indicator gets: one past the largest the
    /// database holds, read again under the write lock by every batch.
    /// Handed out here rather than by SQLite so that a many-row insert
    /// says every new id.
    next_id: i64,
}

impl<'s> SqliteSink<'s> {
    fn new(store: &'s SqliteStore, meta: &'s ImportMeta) -> SqliteSink<'s> {
        SqliteSink {
            store,
            meta,
            begun: None,
            queued: Batch::default(),
            sorted: Batch::default(),
            order: Vec::new(),
            stored: Stored::default(),
            next_id: 1,
        }
    }

    /// Writes the queued sightings in one transaction and empties the
    /// queue; with `finish`, the same transaction records the import as
    /// complete with those counts.
    fn write_batch(&mut self, finish: Option<&ImportCounts>) -> Result<Begun, StoreError> {
        self.sort_queued();
        let mut sorted = std::mem::take(&mut self.sorted);
        let store = self.store;
        let result = store.write(|c| {
            c.batch_transaction(|conn| {
                let begun = match self.begun {
                    Some(begun) => begun,
                    None => begin(conn, self.meta)?,
                };
                let last_id: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM indicators", [], |r| r.get(0))?;
                self.next_id = self.next_id.max(ids_after(last_id, 1)?);
                let mut statements = Statements::prepare(conn, begun)?;
                self.write_sorted(&mut statements, &mut sorted)?;
                if let Some(counts) = finish {
                    complete(conn, begun.import_id, counts)?;
                }
                Ok(begun)
            })
        });
        sorted.clear();
        self.sorted = sorted;
        let begun = result?;
        self.begun = Some(begun);
        Ok(begun)
    }

    /// Moves the queued sightings to `self.sorted`, ordered by value and
    /// then by when they were added. The rows and their strings are copied
    /// once, in order, so that writing reads memory front to back: visiting
    /// the queue in sorted order instead cost a cache miss per row.
    fn sort_queued(&mut self) {
        let queued = &self.queued;
        self.order.clear();
        self.order.extend(queued.rows.iter().enumerate().map(|(i, p)| (sort_key(queued.text(p.value)), i as u32)));
        let value = |row: u32| queued.text(queued.rows[row as usize].value);
        self.order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| value(a.1).cmp(value(b.1))).then(a.1.cmp(&b.1)));
        let sorted = &mut self.sorted;
        for &(_, row) in &self.order {
            let p = &queued.rows[row as usize];
            let copied = Pending {
                value: sorted.keep(queued.text(p.value)),
                derived_from: p.derived_from.map(|(span, kind)| (sorted.keep(queued.text(span)), kind)),
                label: p.label.map(|span| sorted.keep(queued.text(span))),
                malware: sorted.keep(queued.text(p.malware)),
                ..*p
            };
            sorted.rows.push(copied);
        }
        self.queued.clear();
    }

    fn write_sorted(&mut self, st: &mut Statements<'_>, sorted: &mut Batch) -> Result<(), StoreError> {
        let created_from = self.next_id;
        self.resolve_values(st, sorted)?;
        self.resolve_derived(st, sorted)?;
        // The first sighting of an indicator this batch created cannot exist
        // yet; those go many to a statement, before the others.
        let rows = &sorted.rows;
        let (mut new, mut others) = (Vec::new(), Vec::new());
        for (i, p) in rows.iter().enumerate() {
            let first = i == 0 || rows[i - 1].indicator_id != p.indicator_id;
            if first && p.indicator_id >= created_from {
                new.push(i);
            } else {
                others.push(i);
            }
        }
        for chunk in new.chunks(ROWS_PER_STATEMENT) {
            if chunk.len() < ROWS_PER_STATEMENT {
                others.splice(0..0, chunk.iter().copied());
                break;
            }
            for (slot, &i) in chunk.iter().enumerate() {
                bind_sighting(&mut st.insert_new_sightings, slot, &rows[i], sorted)?;
            }
            st.insert_new_sightings.raw_execute()?;
            self.stored.new += chunk.len() as u64;
        }
        self.journal(st, rows, &others, created_from, sorted)?;
        // Each of these is an insert or, when the sighting exists, an
        // update; whichever the row before turned out to be is tried first
        // (a source's feed again is a run of updates, a new source's a run
        // of inserts), and the other when it changes nothing.
        let mut updating = false;
        for &i in &others {
            let (first, second) = if updating {
                (&mut st.update_sighting, &mut st.insert_sighting)
            } else {
                (&mut st.insert_sighting, &mut st.update_sighting)
            };
            bind_sighting(first, 0, &rows[i], sorted)?;
            if first.raw_execute()? == 0 {
                bind_sighting(second, 0, &rows[i], sorted)?;
                second.raw_execute()?;
                updating = !updating;
            }
            if updating {
                self.stored.updated += 1;
            } else {
                self.stored.new += 1;
            }
        }
        Ok(())
    }

    /// Keeps what the rows `others` will overwrite: the sightings of
    /// indicators older than this batch (`created_from`) that exist and
    /// that this import has not touched yet. The import's last transaction
    /// needs this as much as the others: it may be the one that fails.
    fn journal(
        &self,
        st: &mut Statements<'_>,
        rows: &[Pending],
        others: &[usize],
        created_from: i64,
        sorted: &Batch,
    ) -> Result<(), StoreError> {
        let old: Vec<usize> = others.iter().copied().filter(|&i| rows[i].indicator_id < created_from).collect();
        let mut chunks = old.chunks_exact(ROWS_PER_STATEMENT);
        for chunk in &mut chunks {
            for (slot, &i) in chunk.iter().enumerate() {
                bind_key(&mut st.journal, slot, &rows[i], sorted)?;
            }
            st.journal.raw_execute()?;
        }
        for &i in chunks.remainder() {
            bind_key(&mut st.journal_one, 0, &rows[i], sorted)?;
            st.journal_one.raw_execute()?;
        }
        Ok(())
    }

    /// The id of the indicator `value`, created if needed.
    fn indicator_id(&mut self, st: &mut Statements<'_>, value: &str, kind: Kind) -> Result<i64, StoreError> {
        let id = self.next_id;
        bind_indicator(&mut st.insert_indicator, 0, id, value, kind)?;
        if st.insert_indicator.raw_execute()? == 1 {
            self.next_id = ids_after(id, 1)?;
            return Ok(id);
        }
        Ok(st.select_indicator.query_row([value], |row| row.get(0))?)
    }

    /// Sets the indicator id of every row, creating the indicators that do
    /// not exist, [`ROWS_PER_STATEMENT`] distinct values at a time.
    fn resolve_values(&mut self, st: &mut Statements<'_>, sorted: &mut Batch) -> Result<(), StoreError> {
        // The first row of each distinct value; equal values are adjacent.
        let rows = &sorted.rows;
        let firsts: Vec<usize> = (0..rows.len())
            .filter(|&i| i == 0 || sorted.text(rows[i - 1].value) != sorted.text(rows[i].value))
            .collect();
        let mut ids = Vec::with_capacity(firsts.len());
        for chunk in firsts.chunks(ROWS_PER_STATEMENT) {
            if chunk.len() < ROWS_PER_STATEMENT {
                for &i in chunk {
                    ids.push(self.indicator_id(st, sorted.text(rows[i].value), rows[i].kind)?);
                }
                continue;
            }
            let first_id = self.next_id;
            // Checked first, so the ids below cannot overflow.
            self.next_id = ids_after(first_id, ROWS_PER_STATEMENT)?;
            for (slot, &i) in chunk.iter().enumerate() {
                let id = first_id + slot as i64;
                bind_indicator(&mut st.insert_indicators, slot, id, sorted.text(rows[i].value), rows[i].kind)?;
            }
            let inserted = st.insert_indicators.raw_execute()?;
            if inserted == chunk.len() {
                ids.extend((0..chunk.len()).map(|slot| first_id + slot as i64));
            } else {
                // Some existed: ask for each (the ids handed to those rows stay unused).
                for &i in chunk {
                    ids.push(st.select_indicator.query_row([sorted.text(rows[i].value)], |row| row.get(0))?);
                }
            }
        }
        let mut group = 0;
        for i in 0..sorted.rows.len() {
            if firsts.get(group + 1) == Some(&i) {
                group += 1;
            }
            sorted.rows[i].indicator_id = ids[group];
        }
        Ok(())
    }

    /// Sets the id of what each derived row was derived from: usually the
    /// record's own observable, in this batch.
    fn resolve_derived(&mut self, st: &mut Statements<'_>, sorted: &mut Batch) -> Result<(), StoreError> {
        for i in 0..sorted.rows.len() {
            let Some((span, kind)) = sorted.rows[i].derived_from else {
                continue;
            };
            let value = sorted.text(span);
            let id = match sorted.rows.binary_search_by(|r| sorted.text(r.value).cmp(value)) {
                Ok(at) => sorted.rows[at].indicator_id,
                Err(_) => self.indicator_id(st, value, kind)?,
            };
            sorted.rows[i].derived_id = id;
        }
        Ok(())
    }
}

/// The id `count` after `id`; running out of ids is an error, not a wrap.
fn ids_after(id: i64, count: usize) -> Result<i64, StoreError> {
    i64::try_from(count)
        .ok()
        .and_then(|count| id.checked_add(count))
        .ok_or_else(|| StoreError::Database("indicator ids exhausted".to_string()))
}

/// `INSERT OR IGNORE` of `rows` indicators: row `r` takes parameters
/// `r * INDICATOR_PARAMS + 1..=3`, and all the import after them.
fn insert_indicators_sql(rows: usize) -> String {
    let import = rows * INDICATOR_PARAMS + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p = |k: usize| r * INDICATOR_PARAMS + k;
            format!("(?{}, ?{}, ?{}, ?{import})", p(1), p(2), p(3))
        })
        .collect();
    format!("INSERT OR IGNORE INTO indicators (id, value, kind, created_import) VALUES {}", values.join(", "))
}

/// `INSERT {conflict}` of `rows` sightings: row `r` takes parameters
/// `r * SIGHTING_PARAMS + 1..=11` (see [`bind_sighting`]), and all the
/// source and the import after them.
fn insert_sightings_sql(conflict: &str, rows: usize) -> String {
    let (source, import) = (rows * SIGHTING_PARAMS + 1, rows * SIGHTING_PARAMS + 2);
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p = |k: usize| r * SIGHTING_PARAMS + k;
            format!(
                "(?{}, ?{source}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{import}, ?{import}, ?{})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(9),
                p(10),
                p(11)
            )
        })
        .collect();
    format!(
        "INSERT {conflict} INTO sightings (indicator_id, source_id, category, label, malware, port, derived_from,
             first_seen, last_seen, confidence, tlp, created_import, last_import, line)
         VALUES {}",
        values.join(", ")
    )
}

/// Parameters of one key of [`journal_sql`]: indicator, category, malware,
/// port, derived from; the source and the import follow the keys.
const JOURNAL_PARAMS: usize = 5;

/// Copies into `import_undo` the sightings of `rows` keys (of the import's
/// source) that exist and that the import neither made nor touched yet.
/// The keys drive the join (`CROSS JOIN` keeps them the outer loop), so
/// each is one seek of the sightings' primary key.
fn journal_sql(rows: usize) -> String {
    let (source, import) = (rows * JOURNAL_PARAMS + 1, rows * JOURNAL_PARAMS + 2);
    let keys: Vec<String> = (0..rows)
        .map(|r| {
            let p = |k: usize| r * JOURNAL_PARAMS + k;
            format!("(?{}, ?{}, ?{}, ?{}, ?{})", p(1), p(2), p(3), p(4), p(5))
        })
        .collect();
    format!(
        "INSERT OR IGNORE INTO import_undo (import_id, indicator_id, source_id, category, malware, port, derived_from,
             label, first_seen, last_seen, confidence, tlp, last_import, line)
         SELECT ?{import}, s.indicator_id, s.source_id, s.category, s.malware, s.port, s.derived_from, s.label,
                s.first_seen, s.last_seen, s.confidence, s.tlp, s.last_import, s.line
         FROM (VALUES {}) AS k CROSS JOIN sightings AS s
         WHERE s.indicator_id = k.column1 AND s.source_id = ?{source} AND s.category = k.column2
           AND s.malware = k.column3 AND s.port = k.column4 AND s.derived_from = k.column5
           AND s.created_import <> ?{import} AND s.last_import <> ?{import}",
        keys.join(", ")
    )
}

/// Binds key `slot` of a journal statement.
fn bind_key(statement: &mut CachedStatement<'_>, slot: usize, p: &Pending, batch: &Batch) -> rusqlite::Result<()> {
    let base = slot * JOURNAL_PARAMS;
    statement.raw_bind_parameter(base + 1, p.indicator_id)?;
    statement.raw_bind_parameter(base + 2, p.category.as_str())?;
    statement.raw_bind_parameter(base + 3, batch.text(p.malware))?;
    statement.raw_bind_parameter(base + 4, p.port)?;
    statement.raw_bind_parameter(base + 5, p.derived_id)
}

/// Binds indicator row `slot` of an insert statement.
fn bind_indicator(
    statement: &mut CachedStatement<'_>,
    slot: usize,
    id: i64,
    value: &str,
    kind: Kind,
) -> rusqlite::Result<()> {
    let base = slot * INDICATOR_PARAMS;
    statement.raw_bind_parameter(base + 1, id)?;
    statement.raw_bind_parameter(base + 2, value)?;
    statement.raw_bind_parameter(base + 3, kind.as_str())
}

/// Binds sighting row `slot` of an insert statement, or of the update
/// (slot 0): 1 indicator, 2 category, 3 label, 4 malware, 5 port, 6 derived
/// from, 7 first seen, 8 last seen, 9 confidence, 10 TLP, 11 line.
fn bind_sighting(statement: &mut CachedStatement<'_>, slot: usize, p: &Pending, batch: &Batch) -> rusqlite::Result<()> {
    let base = slot * SIGHTING_PARAMS;
    statement.raw_bind_parameter(base + 1, p.indicator_id)?;
    statement.raw_bind_parameter(base + 2, p.category.as_str())?;
    statement.raw_bind_parameter(base + 3, p.label.map(|span| batch.text(span)))?;
    statement.raw_bind_parameter(base + 4, batch.text(p.malware))?;
    statement.raw_bind_parameter(base + 5, p.port)?;
    statement.raw_bind_parameter(base + 6, p.derived_id)?;
    statement.raw_bind_parameter(base + 7, p.first_seen)?;
    statement.raw_bind_parameter(base + 8, p.last_seen)?;
    statement.raw_bind_parameter(base + 9, p.confidence)?;
    statement.raw_bind_parameter(base + 10, tlp_code(p.tlp))?;
    statement.raw_bind_parameter(base + 11, p.line)
}

impl ImportSink for SqliteSink<'_> {
    fn add(&mut self, sighting: &Sighting) -> Result<(), StoreError> {
        let a = &sighting.attributes;
        let first_seen = a.first_seen.or(a.last_seen).unwrap_or(self.meta.time);
        let queued = &mut self.queued;
        let value = queued.keep_observable(&sighting.observable);
        let derived_from = sighting.derived_from.as_ref().map(|obs| (queued.keep_observable(obs), obs.kind()));
        let label = a.label.as_deref().map(|label| queued.keep(label));
        let malware = queued.keep(a.malware.as_deref().unwrap_or(""));
        queued.rows.push(Pending {
            value,
            kind: sighting.observable.kind(),
            derived_from,
            label,
            malware,
            category: a.category.unwrap_or(Category::Other),
            tlp: a.tlp.unwrap_or(Tlp::Amber),
            confidence: a.confidence.unwrap_or(DEFAULT_CONFIDENCE).min(100),
            port: a.port.unwrap_or(0),
            line: sighting.line as i64,
            first_seen,
            last_seen: a.last_seen.unwrap_or(self.meta.time).max(first_seen),
            indicator_id: 0,
            derived_id: 0,
        });
        if queued.is_full() {
            self.write_batch(None)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<Stored, StoreError> {
        if !self.queued.rows.is_empty() {
            self.write_batch(None)?;
        }
        Ok(self.stored)
    }
}

/// The first 16 bytes of `value` as a number, zero-padded: a key that sorts
/// like the strings themselves where it differs (a smaller key means a
/// smaller string) and ties where they must be compared in full. Sorting
/// by it first makes most comparisons one integer comparison instead of a
/// `memcmp` call; addresses, the commonest values, fit in it whole.
fn sort_key(value: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let len = value.len().min(16);
    bytes[..len].copy_from_slice(&value.as_bytes()[..len]);
    u128::from_be_bytes(bytes)
}

pub(super) use crate::shared::{tlp_code, tlp_from_code};

/// Writes the import's own rows (its source, and that source's
/// organisation, when they are new) and says where its sightings go.
fn begin(conn: &Connection, meta: &ImportMeta) -> Result<Begun, StoreError> {
    // A new source belongs to the organisation of its name, a partner
    // made for it unless one exists (`cordon source set` moves it).
    let made_org = conn.execute(
        "INSERT INTO organisations (name, kind, created)
         SELECT ?1, 'partner', ?2 WHERE NOT EXISTS (SELECT 1 FROM sources WHERE name = ?1)
         ON CONFLICT (name) DO NOTHING",
        params![meta.source, meta.time],
    )?;
    let made_source = conn.execute(
        "INSERT INTO sources (name, created, org_id)
         VALUES (?1, ?2, (SELECT id FROM organisations WHERE name = ?1)) ON CONFLICT (name) DO NOTHING",
        params![meta.source, meta.time],
    )?;
    let source_id: i64 = conn.query_row("SELECT id FROM sources WHERE name = ?1", [&meta.source], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO imports (source_id, path, sha256, format, time, state, made_source, made_org)
         VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)",
        params![source_id, meta.path, meta.sha256, meta.format, meta.time, made_source, made_org],
    )?;
    Ok(Begun { import_id: conn.last_insert_rowid(), source_id })
}

/// Records the import as complete, with its counts, and drops what would
/// have undone it.
fn complete(conn: &Connection, import_id: i64, counts: &ImportCounts) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE imports SET read = ?2, accepted = ?3, new = ?4, updated = ?5, rejected = ?6, skipped = ?7,
             state = 'done'
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
    conn.execute("DELETE FROM import_undo WHERE import_id = ?1", [import_id])?;
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
    Ok(())
}

impl Conn {
    /// A transaction that takes the write lock as it begins, so that what
    /// it reads no other process changes before it writes (a deferred one
    /// would fail with `SQLITE_BUSY` where two writers read first).
    fn immediate(&self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        Ok(rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?)
    }

    /// Runs `work` in one `IMMEDIATE` transaction with foreign keys
    /// unenforced, committing when it returns `Ok`.
    ///
    /// Checking the four references of every sighting was an eighth of an
    /// import's instructions (callgrind), and an import cannot break them:
    /// it writes only ids it has just read or created under the same write
    /// lock (the source, the import, the indicators of the batch).
    /// Enforcement is back on for everything else whether the batch
    /// commits or not; a test checks `PRAGMA foreign_key_check` after
    /// imports.
    fn batch_transaction<T>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // The pragma is a no-op inside a transaction, so it goes around it.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = (|| -> Result<T, StoreError> {
            let tx = self.immediate()?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        let restored = self.conn.pragma_update(None, "foreign_keys", "ON");
        let value = result?;
        restored?;
        Ok(value)
    }

    /// Undoes import `import_id`, which did not complete: its batches that
    /// committed are taken back (the sightings it made deleted, those it
    /// refreshed restored, the indicators, source and organisation that
    /// only it made removed), in one transaction.
    fn abandon(&self, import_id: i64) -> Result<(), StoreError> {
        let tx = self.immediate()?;
        tx.execute(
            "UPDATE sightings AS s
             SET label = u.label, first_seen = u.first_seen, last_seen = u.last_seen, confidence = u.confidence,
                 tlp = u.tlp, last_import = u.last_import, line = u.line
             FROM import_undo AS u
             WHERE u.import_id = ?1 AND s.indicator_id = u.indicator_id AND s.source_id = u.source_id
               AND s.category = u.category AND s.malware = u.malware AND s.port = u.port
               AND s.derived_from = u.derived_from",
            [import_id],
        )?;
        tx.execute("DELETE FROM import_undo WHERE import_id = ?1", [import_id])?;
        tx.execute("DELETE FROM sightings WHERE created_import = ?1", [import_id])?;
        // What an operation or enrichment came to hold of a new indicator
        // while the import ran keeps it.
        tx.execute(
            "DELETE FROM enrichment WHERE indicator_id IN (
                 SELECT i.id FROM indicators i WHERE i.created_import = ?1
                   AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.indicator_id = i.id)
                   AND NOT EXISTS (SELECT 1 FROM target_members m WHERE m.indicator_id = i.id))",
            [import_id],
        )?;
        tx.execute(
            "DELETE FROM indicators AS i WHERE i.created_import = ?1
               AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.indicator_id = i.id)
               AND NOT EXISTS (SELECT 1 FROM target_members m WHERE m.indicator_id = i.id)",
            [import_id],
        )?;
        let made: Option<(i64, bool, bool)> = tx
            .query_row("SELECT source_id, made_source, made_org FROM imports WHERE id = ?1", [import_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        tx.execute("DELETE FROM operation_imports WHERE import_id = ?1", [import_id])?;
        tx.execute("DELETE FROM imports WHERE id = ?1", [import_id])?;
        if let Some((source_id, made_source, made_org)) = made {
            let org_id: Option<i64> =
                tx.query_row("SELECT org_id FROM sources WHERE id = ?1", [source_id], |r| r.get(0)).optional()?;
            if made_source {
                tx.execute(
                    "DELETE FROM sources WHERE id = ?1
                       AND NOT EXISTS (SELECT 1 FROM imports WHERE source_id = ?1)",
                    [source_id],
                )?;
            }
            if let (true, Some(org_id)) = (made_org, org_id) {
                tx.execute(
                    "DELETE FROM organisations WHERE id = ?1 AND kind = 'partner'
                       AND NOT EXISTS (SELECT 1 FROM sources WHERE org_id = ?1)
                       AND NOT EXISTS (SELECT 1 FROM users WHERE org_id = ?1)
                       AND NOT EXISTS (SELECT 1 FROM organisation_asns WHERE org_id = ?1)",
                    [org_id],
                )?;
            }
        }
        tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Undoes every import that a process began and did not complete:
    /// called by the holder of the import lease, so none of them is still
    /// running.
    pub(super) fn abandon_unfinished(&self) -> Result<(), StoreError> {
        let unfinished: Vec<i64> = {
            let mut stmt =
                self.conn.prepare_cached("SELECT id FROM imports WHERE state = 'running' ORDER BY id DESC")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for import_id in unfinished {
            self.abandon(import_id)?;
        }
        Ok(())
    }

    /// Gives back the pages a rolled-back import left in the write-ahead
    /// log (tens of MB for a big file, on a disk that may be full). Best
    /// effort: a reader holding the log only delays it.
    fn truncate_log(&self) {
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}

impl SqliteStore {
    /// Runs one import: see [`crate::Store::import`].
    ///
    /// Imports queue behind each other (the import lease: a lock in this
    /// process and, for a store on disk, a lock on the file
    /// `<store>-import` that the system drops when a process dies), but
    /// they do not hold the write lock between batches: each batch of
    /// sightings is a transaction of its own, so an analyst's write waits
    /// for one batch (a fraction of a second), not for the import. The
    /// import is still all or nothing: until its last transaction marks it
    /// complete it is `running`, a trigger keeps what its updates
    /// overwrite (`import_undo`), and
    /// an import that fails is undone; one whose process died is undone by
    /// the next process to open the store or import into it while holding
    /// the lease (so it knows no one runs it).
    /// Readers may see the sightings of a running import; caches (the
    /// store's generation) change when it completes.
    pub(super) fn run_import(
        &self,
        meta: &ImportMeta,
        feed: &mut dyn FnMut(&mut dyn ImportSink) -> Result<ImportCounts, StoreError>,
    ) -> Result<i64, StoreError> {
        let _lease = self.import_lease(true)?;
        self.write(|c| c.abandon_unfinished())?;
        let mut sink = SqliteSink::new(self, meta);
        match feed(&mut sink).and_then(|counts| sink.write_batch(Some(&counts))) {
            Ok(begun) => Ok(begun.import_id),
            Err(e) => {
                let begun = sink.begun;
                self.write(|c| {
                    if let Some(begun) = begun {
                        c.abandon(begun.import_id)?;
                    }
                    c.truncate_log();
                    Ok(())
                })?;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cordon_model::{normalize, Attributes, Record};

    use super::*;
    use crate::SqliteStore;
    use crate::{IndicatorFilter, Store};

    fn record(line: u64, raw: &str, label: &str, last_seen: i64) -> Record {
        let mut rec = Record::new(line, normalize(raw).unwrap().observables.remove(0));
        rec.attributes = Attributes {
            label: Some(label.into()),
            first_seen: Some(last_seen - 10),
            last_seen: Some(last_seen),
            ..Attributes::default()
        };
        rec
    }

    /// Imports `records`, flushing once at the end; returns what the flush counted.
    fn import(store: &SqliteStore, records: &[Record]) -> Stored {
        let mut stored = Stored::default();
        store
            .import(&ImportMeta::new("a", "feed.txt", "00", "plain"), &mut |sink| {
                for rec in records {
                    for s in rec.sightings() {
                        sink.add(&s)?;
                    }
                }
                stored = sink.flush()?;
                Ok(ImportCounts::default())
            })
            .unwrap();
        stored
    }

    #[test]
    fn sort_keys_order_as_strings_do() {
        let mut values = vec![
            "",
            "1",
            "1.2.3.4",
            "10.0.0.1",
            "9.9.9.9",
            "http://a.example/",
            "http://a.example/x",
            "http://a.example/\0",
            "http://a.example",
            "http://a.exampl",
            "é.example",
            "a.example",
            "http://a.example/xx",
        ];
        values.sort();
        for pair in values.windows(2) {
            let (a, b) = (sort_key(pair[0]), sort_key(pair[1]));
            assert!(a <= b, "{:?} {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn repeats_in_one_import_count_as_updates_and_the_last_one_wins() {
        let store = SqliteStore::open_in_memory().unwrap();
        let records = [
            record(1, "45.0.0.1", "first", 1_000),
            record(2, "hxxp://evil.example/a", "url", 1_000),
            record(3, "45.0.0.1", "second", 900),
            record(4, "45.0.0.1", "third", 800),
        ];
        // The URL brings its host as a derived sighting.
        assert_eq!(import(&store, &records), Stored { new: 3, updated: 2 });
        let detail = store
            .indicator("45.0.0.1", &IndicatorFilter::new(crate::orgs::OrgStore::hub(&store).unwrap().viewer()))
            .unwrap()
            .unwrap();
        let sighting = &detail.sightings[0];
        assert_eq!((sighting.label.as_deref(), sighting.line), (Some("third"), 4));
        assert_eq!((sighting.first_seen, sighting.last_seen), (790, 1_000));
        assert_eq!(import(&store, &records), Stored { new: 0, updated: 5 });
        let host = store
            .indicator("evil.example", &IndicatorFilter::new(crate::orgs::OrgStore::hub(&store).unwrap().viewer()))
            .unwrap()
            .unwrap();
        assert_eq!(host.sightings[0].derived_from.as_deref(), Some("http://evil.example/a"));
    }

    #[test]
    fn batches_split_a_large_import_without_changing_the_outcome() {
        let store = SqliteStore::open_in_memory().unwrap();
        // More sightings than a batch holds, each address twice: once in the
        // first batch, once in a later one.
        let count = BATCH_ROWS as u32 / 2 + 100;
        let address = |i: u32| std::net::Ipv4Addr::from(0x2d00_0000 + i).to_string();
        let records: Vec<Record> = (0..2 * count)
            .map(|i| record(u64::from(i) + 1, &address(i % count), if i < count { "old" } else { "new" }, 1_000))
            .collect();
        assert_eq!(import(&store, &records), Stored { new: u64::from(count), updated: u64::from(count) });
        let detail = store
            .indicator(&address(7), &IndicatorFilter::new(crate::orgs::OrgStore::hub(&store).unwrap().viewer()))
            .unwrap()
            .unwrap();
        assert_eq!(detail.sightings[0].label.as_deref(), Some("new"));
        assert_eq!(detail.sightings[0].line, u64::from(count + 8));
    }

    #[test]
    fn many_row_statements_agree_with_one_row_ones() {
        let store = SqliteStore::open_in_memory().unwrap();
        // More than a statement's rows of URLs, each with its host derived.
        let url = |i: usize| format!("http://h{i}.example.net/p");
        let urls: Vec<Record> = (0..150).map(|i| record(i as u64 + 1, &url(i), "phish", 1_000)).collect();
        assert_eq!(import(&store, &urls[..100]), Stored { new: 200, updated: 0 });
        // Chunks mixing known and unknown values take the slow path for ids.
        assert_eq!(import(&store, &urls), Stored { new: 100, updated: 200 });
        for i in [0, 63, 64, 99, 100, 149] {
            let host = store
                .indicator(
                    &format!("h{i}.example.net"),
                    &IndicatorFilter::new(crate::orgs::OrgStore::hub(&store).unwrap().viewer()),
                )
                .unwrap()
                .unwrap();
            assert_eq!(host.linked, [url(i)]);
            assert_eq!(host.sightings[0].line, i as u64 + 1);
        }
        let violations: i64 = store
            .read(|c| Ok(c.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(violations, 0);
        let indicators: i64 =
            store.read(|c| Ok(c.conn.query_row("SELECT count(*) FROM indicators", [], |r| r.get(0))?)).unwrap();
        assert_eq!(indicators, 300);
    }

    #[test]
    fn imports_leave_no_dangling_references() {
        let store = SqliteStore::open_in_memory().unwrap();
        let mut linked = record(1, "http://evil.example/a", "phish", 1_000);
        linked.links.push(normalize("45.0.0.9").unwrap().observables.remove(0));
        import(&store, &[linked, record(2, "45.0.0.1", "x", 1_000)]);
        let violations: i64 = store
            .read(|c| Ok(c.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(violations, 0);
        let enforced: i64 = store.read(|c| Ok(c.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?)).unwrap();
        assert_eq!(enforced, 1, "enforcement is back on after the import");
        let failed =
            store.import(&ImportMeta::new("a", "f", "00", "plain"), &mut |_| Err(StoreError::Aborted("x".into())));
        assert!(failed.is_err());
        let enforced: i64 = store.read(|c| Ok(c.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?)).unwrap();
        assert_eq!(enforced, 1, "and after a failed one");
    }
}
