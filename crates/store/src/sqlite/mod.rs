//! The embedded SQLite backend.

mod audit;
mod auth;
mod collections;
mod deliveries;
mod enrichment;
mod feeds;
mod import;
mod jobs;
mod migrations;
mod ops;
mod orgs;
mod read;
mod report;

mod pool;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use crate::StoreError;

use crate::shared::SIGHTING_ORDER;

/// The embedded store: one SQLite file in WAL mode, shared by threads.
///
/// One writer connection behind a lock (SQLite has one writer at a time
/// anyway; the lock makes this process's writers queue instead of spinning
/// on `SQLITE_BUSY`) and a small pool of reader connections, which in WAL
/// mode read a consistent snapshot while the writer writes. A store in
/// memory has its writer only, and reads take it too.
pub struct SqliteStore {
    writer: Mutex<Conn>,
    /// Held by the import running in this process, if any (see
    /// [`SqliteStore::run_import`]).
    importing: Mutex<()>,
    readers: Mutex<Vec<Conn>>,
    /// The file, for opening readers; `None` in memory.
    path: Option<PathBuf>,
}

/// The right to run an import, until dropped.
struct ImportLease<'s> {
    _process: std::sync::MutexGuard<'s, ()>,
    /// Locked; closing it unlocks it.
    _file: Option<std::fs::File>,
}

/// One connection and everything the backend does on it. Its trait
/// implementations are the SQL; [`SqliteStore`]'s hand them a connection.
pub(crate) struct Conn {
    conn: Connection,
}

/// Idle reader connections kept for reuse: enough for a server's blocking
/// pool under load (opening one costs pragmas and a schema check).
const IDLE_READERS: usize = 16;

/// How long a writer waits for another to let go of the store before it
/// gives up with [`StoreError::Busy`]. Long: a big import holds the write
/// lock while it commits, and an analyst's command should wait for it
/// rather than fail.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, brings its schema
    /// up to date and undoes imports whose process died.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let writer = Conn::open(path, WRITER_CACHE_KIB)?;
        let store = SqliteStore {
            writer: Mutex::new(writer),
            importing: Mutex::new(()),
            readers: Mutex::new(Vec::new()),
            path: Some(path.to_path_buf()),
        };
        store.undo_interrupted_imports()?;
        Ok(store)
    }

    /// A store that lives in memory only (tests, dry runs).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let writer = Conn::init(Connection::open_in_memory()?, WRITER_CACHE_KIB)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            importing: Mutex::new(()),
            readers: Mutex::new(Vec::new()),
            path: None,
        })
    }

    /// The import lease: this process's lock and, for a store on disk, an
    /// exclusive lock on `<store>-import`, which other processes' imports
    /// take too and the system lets go of when a process dies. Waits for
    /// it, or with `wait` false answers `None` when someone holds it.
    fn import_lease(&self, wait: bool) -> Result<Option<ImportLease<'_>>, StoreError> {
        let process = if wait {
            self.importing.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        } else {
            match self.importing.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            }
        };
        let Some(path) = &self.path else {
            return Ok(Some(ImportLease { _process: process, _file: None }));
        };
        let mut name = path.as_os_str().to_owned();
        name.push("-import");
        let lock_path = PathBuf::from(name);
        let failed = |e: std::io::Error| StoreError::Database(format!("{}: {e}", lock_path.display()));
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(failed)?;
        if wait {
            file.lock().map_err(failed)?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
            }
        }
        Ok(Some(ImportLease { _process: process, _file: Some(file) }))
    }

    /// Undoes the imports that processes began and did not complete (they
    /// died), unless an import runs now: then it is left to that import,
    /// which does the same first.
    fn undo_interrupted_imports(&self) -> Result<(), StoreError> {
        match self.import_lease(false)? {
            Some(_lease) => self.write(|c| c.abandon_unfinished()),
            None => Ok(()),
        }
    }

    /// The store's identity: a random number drawn when it was created, so
    /// that caches of a store that was deleted and made anew are not taken
    /// for its.
    pub fn identity(&self) -> Result<i64, StoreError> {
        self.read(|c| c.identity())
    }
}

/// The page cache of the writer (KiB): imports touch many pages.
const WRITER_CACHE_KIB: i64 = 262_144;

/// The page cache of each reader (KiB).
const READER_CACHE_KIB: i64 = 65_536;

impl Conn {
    /// Opens (creating if needed) the file at `path` and brings its schema
    /// up to date. Several processes creating one file at once can get
    /// `SQLITE_BUSY` from SQLite without its busy handler being asked (the
    /// switch to WAL takes an exclusive lock): that is retried, with a
    /// short pause, for as long as a writer would wait.
    fn open(path: &Path, cache_kib: i64) -> Result<Conn, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match Self::open_once(path, cache_kib) {
                Err(StoreError::Busy) if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                done => return done,
            }
        }
    }

    fn open_once(path: &Path, cache_kib: i64) -> Result<Conn, StoreError> {
        let conn = Connection::open(path)?;
        // First: several processes may open a new file at once, and the
        // pragmas below take locks.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // For a new file only (an existing one keeps its size): 16 KiB
        // pages make the b-trees shallower and split less often; a 1M-row
        // import ran ~5% faster than with the default 4 KiB (noisy, see
        // BENCHMARKS.md). Small imports write more bytes per touched page.
        conn.pragma_update(None, "page_size", 16_384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn, cache_kib)
    }

    fn init(mut conn: Connection, cache_kib: i64) -> Result<Conn, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -cache_kib)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrations::migrate(&mut conn)?;
        Ok(Conn { conn })
    }

    /// Tells caches that what readers see may have changed.
    pub(crate) fn bump_generation(&self) -> Result<(), StoreError> {
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        Ok(())
    }

    /// See [`SqliteStore::identity`].
    fn identity(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| r.get(0))?)
    }
}

/// One call's writes as a unit on a shared connection: a transaction of
/// its own (a savepoint) when the connection has none, or part of the
/// transaction it is already in, such as
/// [`crate::ops::OpsStore::atomically`]'s, whose failure leaves nothing of
/// the whole work behind. Rolled back when dropped without
/// [`Nested::commit`].
///
/// Inside a transaction there is no savepoint on purpose: with one open,
/// every statement's end truncates SQLite's in-memory sub-journal by
/// walking its chunks from the start, so a call that wrote thousands of
/// rows paid for every page the call had touched before, once per row (a
/// third of `targets build`'s time at 5M indicators).
pub(crate) struct Nested<'c> {
    conn: &'c Connection,
    /// Whether this opened a savepoint that is not yet released.
    open: bool,
}

impl<'c> Nested<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Nested<'c>, StoreError> {
        let open = conn.is_autocommit();
        if open {
            conn.execute_batch("SAVEPOINT nested")?;
        }
        Ok(Nested { conn, open })
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        if self.open {
            self.open = false;
            self.conn.execute_batch("RELEASE nested")?;
        }
        Ok(())
    }
}

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort: the error that made us roll back is the one the
            // caller returns.
            let _ = self.conn.execute_batch("ROLLBACK TO nested; RELEASE nested");
        }
    }
}

impl std::ops::Deref for Nested<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// The lines of `EXPLAIN QUERY PLAN sql` on `store` (what a test checks a
/// statement's plan by).
#[cfg(test)]
pub(crate) fn query_plan(store: &SqliteStore, sql: &str) -> String {
    store
        .read(|c| {
            let mut stmt = c.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let mut rows = stmt.raw_query();
            let mut lines = Vec::new();
            while let Some(row) = rows.next()? {
                lines.push(row.get::<_, String>(3)?);
            }
            Ok(lines.join("\n"))
        })
        .unwrap_or_else(|e| format!("no plan: {e}"))
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::Nested;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_nested_unit_is_a_savepoint_only_outside_a_transaction() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();

        // On its own: its writes go or stay together.
        let unit = Nested::new(&conn).unwrap();
        unit.execute("INSERT INTO t VALUES (1)", []).unwrap();
        drop(unit);
        assert_eq!(count(&conn), 0, "dropped without commit: rolled back");
        let unit = Nested::new(&conn).unwrap();
        unit.execute("INSERT INTO t VALUES (1)", []).unwrap();
        unit.commit().unwrap();
        assert_eq!((count(&conn), conn.is_autocommit()), (1, true));

        // Inside a transaction: part of it, with no savepoint of its own
        // (each statement's end would otherwise walk the sub-journal).
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let unit = Nested::new(&conn).unwrap();
        unit.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert!(conn.execute_batch("RELEASE nested").is_err(), "no savepoint is open");
        drop(unit);
        assert_eq!(count(&conn), 2, "the enclosing transaction decides");
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(count(&conn), 1, "and its rollback takes the unit's writes too");
    }
}
