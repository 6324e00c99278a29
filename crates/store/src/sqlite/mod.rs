//! The embedded SQLite backend.

mod enrichment;
mod import;
mod migrations;
mod ops;
mod orgs;
mod read;

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;

/// How reads order one indicator's sightings from one source (`s` is
/// `sightings`): as they were first stored, by import and line, then by
/// their key so that the order is total.
const SIGHTING_ORDER: &str = "s.created_import, s.line, s.category, s.malware, s.port, s.derived_from";

/// The embedded store: one SQLite file in WAL mode.
pub struct SqliteStore {
    conn: Connection,
}

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
    /// Opens (creating if needed) the store at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
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
        Self::init(conn)
    }

    /// A store that lives in memory only (tests, dry runs).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -262_144)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrations::migrate(&mut conn)?;
        Ok(SqliteStore { conn })
    }

    /// Tells caches that what readers see may have changed.
    pub(crate) fn bump_generation(&self) -> Result<(), StoreError> {
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        Ok(())
    }

    /// The store's identity: a random number drawn when it was created, so
    /// that caches of a store that was deleted and made anew are not taken
    /// for its.
    pub fn identity(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| r.get(0))?)
    }
}
