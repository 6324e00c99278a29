//! The PostgreSQL backend, for hubs that serve many organisations and run
//! several `cordon serve` replicas over one database.
//!
//! The synchronous `postgres` crate behind a small pool of connections: the
//! store traits are synchronous, and the server already calls them on its
//! blocking pool, so an async driver would only add a runtime per call.
//! PostgreSQL's MVCC lets readers read beside writers; what SQLite's single
//! writer serialised is serialised here by transaction-scoped advisory
//! locks (imports among themselves, [`crate::ops::OpsStore`]'s writes among
//! themselves), and migrations by a session advisory lock.

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
mod pool;
mod read;
mod report;

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;
use std::sync::Mutex;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::StoreError;

/// The PostgreSQL store: a connection string and the idle connections kept
/// for reuse. Every call takes a connection (an idle one, or a new one),
/// runs on it, and gives it back.
pub struct PgStore {
    config: postgres::Config,
    idle: Mutex<Vec<Conn>>,
    /// The store of a streaming replica that read-only queries go to
    /// (see [`PgStore::open_with_reads`]).
    reads: Option<Box<PgStore>>,
}

/// Idle connections kept for reuse: enough for a server's blocking pool
/// under load (a new connection costs a round of authentication and a
/// backend process).
const IDLE_CONNECTIONS: usize = 16;

/// Advisory lock keys (the first half of a two-key lock: cordon's).
const LOCK_SPACE: i32 = 0x636f_7264; // "cord"
/// Held by the migrating session.
const MIGRATION_LOCK: i32 = 1;
/// Held by an import's transaction: imports commit one at a time.
const IMPORT_LOCK: i32 = 2;
/// Held by every write transaction of the operations storage.
const OPS_LOCK: i32 = 3;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        use postgres::error::SqlState;
        match e.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                StoreError::Busy
            }
            _ => match e.as_db_error() {
                Some(db) => StoreError::Database(db.message().to_string()),
                None => StoreError::Database(e.to_string()),
            },
        }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// bringing its schema up to date (under an advisory lock, so replicas
    /// starting together do not race).
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let store = PgStore::unconnected(url)?;
        let conn = store.connect()?;
        migrations::migrate(&conn)?;
        store.give_back(conn);
        Ok(store)
    }

    /// Like [`PgStore::open`], with the read-only queries that can stand a
    /// replica's lag (listing, lookups and exports: `Store::indicators`,
    /// `indicator` and `sources`) sent to the streaming replica at
    /// `reads`; everything else (writes, and reads that a write depends
    /// on: imports, operations, the generation, authentication) goes to
    /// `url`. The replica is connected to when first read from.
    pub fn open_with_reads(url: &str, reads: &str) -> Result<PgStore, StoreError> {
        let replica = PgStore::unconnected(reads)?;
        Ok(PgStore { reads: Some(Box::new(replica)), ..PgStore::open(url)? })
    }

    /// The store at `url`, connecting to nothing yet.
    fn unconnected(url: &str) -> Result<PgStore, StoreError> {
        let config: postgres::Config =
            url.parse().map_err(|e: postgres::Error| StoreError::Database(format!("bad database URL: {e}")))?;
        Ok(PgStore { config, idle: Mutex::new(Vec::new()), reads: None })
    }

    /// Where read-only queries go: the replica, if there is one.
    pub(crate) fn reading(&self) -> &PgStore {
        self.reads.as_deref().unwrap_or(self)
    }

    /// The store's identity: a random number drawn when it was created, so
    /// that caches of a store that was deleted and made anew are not taken
    /// for its.
    pub fn identity(&self) -> Result<i64, StoreError> {
        self.with(|c| c.value("SELECT value FROM meta WHERE key = 'store_id'", &[]))
    }

    /// Watches the store's generation on a connection of its own (`LISTEN
    /// cordon_generation`, which a trigger on the generation NOTIFYs when a
    /// transaction that moved it commits): calls `on_change` with the new
    /// generation on each notification and with `None` after every second
    /// without one, until `on_change` returns false. Fails when the
    /// connection does (the caller may watch again).
    pub fn watch_generation(&self, on_change: &mut dyn FnMut(Option<i64>) -> bool) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute("LISTEN cordon_generation")?;
        loop {
            let next = client.notifications().timeout_iter(std::time::Duration::from_secs(1)).next()?;
            let go_on = match next {
                Some(notification) => match notification.payload().parse() {
                    Ok(generation) => on_change(Some(generation)),
                    Err(_) => true,
                },
                None if client.is_closed() => {
                    return Err(StoreError::Database("the connection watching the generation closed".into()))
                }
                None => on_change(None),
            };
            if !go_on {
                return Ok(());
            }
        }
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        let client = self.config.connect(NoTls)?;
        Ok(Conn {
            client: RefCell::new(client),
            depth: Cell::new(0),
            statements: RefCell::new(HashMap::new()),
            grown_targets: Cell::new(0),
            grown_transitions: Cell::new(0),
        })
    }

    fn give_back(&self, conn: Conn) {
        if conn.client.borrow().is_closed() || conn.depth.get() != 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
    }

    /// Runs `work` on a connection of the pool.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = work(&conn);
        self.give_back(conn);
        result
    }
}

/// One connection and everything the backend does on it; [`PgStore`]'s
/// trait implementations hand a connection to [`Conn`]'s.
pub(crate) struct Conn {
    client: RefCell<Client>,
    /// Open transactions: 0 outside one, 1 in a transaction, more in its
    /// savepoints.
    depth: Cell<u32>,
    /// Prepared statements by their SQL.
    statements: RefCell<HashMap<String, Statement>>,
    /// Targets inserted by the open transaction since its last `ANALYZE`
    /// of the operations tables (see `ops::analyze_if_grown`).
    grown_targets: Cell<u64>,
    /// Transitions likewise.
    grown_transitions: Cell<u64>,
}

/// The parameters of a statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

impl Conn {
    pub(crate) fn client(&self) -> RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// The statement for `sql`, prepared once per connection.
    pub(crate) fn statement(&self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(found) = self.statements.borrow().get(sql) {
            return Ok(found.clone());
        }
        let prepared = self.client().prepare(sql)?;
        self.statements.borrow_mut().insert(sql.to_string(), prepared.clone());
        Ok(prepared)
    }

    pub(crate) fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().query(&statement, params)?)
    }

    pub(crate) fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().query_opt(&statement, params)?)
    }

    pub(crate) fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().execute(&statement, params)?)
    }

    /// The first column of the one row `sql` returns.
    pub(crate) fn value<T: for<'r> postgres::types::FromSql<'r>>(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<T, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().query_one(&statement, params)?.try_get(0)?)
    }

    /// Streams the rows of `sql` to `each`, as the server sends them.
    pub(crate) fn stream(
        &self,
        sql: &str,
        params: &Params<'_>,
        mut each: impl FnMut(&Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let statement = self.statement(sql)?;
        let mut client = self.client();
        let mut rows = client.query_raw(&statement, params.iter().copied())?;
        while let Some(row) = rows.next()? {
            if !each(&row)? {
                break;
            }
        }
        Ok(())
    }

    /// Runs `work` in a transaction (a savepoint when one is open),
    /// committing when it returns `Ok`; with `lock`, the transaction first
    /// takes that advisory lock, held until it ends.
    pub(crate) fn transaction<T>(
        &self,
        lock: Option<i32>,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let depth = self.depth.get();
        let name = format!("nested{depth}");
        if depth == 0 {
            self.client().batch_execute("BEGIN")?;
        } else {
            self.client().batch_execute(&format!("SAVEPOINT {name}"))?;
        }
        self.depth.set(depth + 1);
        let result = (|| {
            if let Some(key) = lock {
                self.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_SPACE, &key])?;
            }
            work(self)
        })();
        self.depth.set(depth);
        if depth == 0 {
            // Committed or rolled back: nothing of this transaction is
            // waiting for statistics any more.
            self.grown_targets.set(0);
            self.grown_transitions.set(0);
        }
        let end = match (&result, depth) {
            (Ok(_), 0) => "COMMIT".to_string(),
            (Ok(_), _) => format!("RELEASE SAVEPOINT {name}"),
            (Err(_), 0) => "ROLLBACK".to_string(),
            (Err(_), _) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
        };
        let ended = self.client().batch_execute(&end);
        if let Err(e) = ended {
            if depth == 0 {
                // Best effort: the commit's error is the one that matters.
                let _ = self.client().batch_execute("ROLLBACK");
            }
            result?;
            return Err(e.into());
        }
        result
    }

    /// Tells caches that what readers see may have changed.
    pub(crate) fn bump_generation(&self) -> Result<(), StoreError> {
        self.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", &[])?;
        Ok(())
    }
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Reads column `i` of `row`.
pub(crate) fn get<'r, T: postgres::types::FromSql<'r>>(row: &'r Row, i: usize) -> Result<T, StoreError> {
    Ok(row.try_get(i)?)
}

/// A text column that must parse (a kind, a category, a state).
pub(crate) fn parsed<T: std::str::FromStr>(row: &Row, i: usize) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    let text: &str = row.try_get(i)?;
    text.parse().map_err(|e: T::Err| StoreError::Database(format!("unreadable stored value '{text}': {e}")))
}

/// A count (`bigint`, never negative) as `u64`.
pub(crate) fn count(row: &Row, i: usize) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<_, i64>(i)?).unwrap_or(0))
}
