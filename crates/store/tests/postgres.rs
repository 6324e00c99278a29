//! The PostgreSQL backend: the conformance suite of the store traits, and
//! what only PostgreSQL can be asked.
//!
//! The server is the one `CORDON_TEST_PG` names (`scripts/pg.sh` sets it),
//! else the one on 127.0.0.1:5432; the tests fail, never skip, when it does
//! not answer. Each test directory maps to a database of its own, created
//! on first open; databases whose directory is gone (their test ended) are
//! dropped by the next open, and `scripts/pg.sh` drops the rest.

mod conformance;

use std::path::Path;

use cordon_store::audit::{AuditEntry, AuditStore};
use cordon_store::{PgStore, Store};

/// The server's maintenance database, where databases are made and dropped.
fn server() -> String {
    std::env::var("CORDON_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `server()` with its database replaced by `name`.
fn url_of(name: &str) -> String {
    let base = server();
    let (address, query) = match base.split_once('?') {
        Some((address, query)) => (address.to_string(), format!("?{query}")),
        None => (base.clone(), String::new()),
    };
    let root = address.rsplit_once('/').map_or(address.as_str(), |(root, _)| root);
    format!("{root}/{name}{query}")
}

/// The database of the test directory `dir`, created (with `dir` as its
/// comment) on first use; drops those of directories that are gone.
fn database_for(dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("cordon_t_{:016x}", hasher.finish());
    let mut admin = postgres::Client::connect(&server(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("no PostgreSQL at {} (run the tests under scripts/pg.sh): {e}", server()));
    let rows = admin
        .query(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database
             WHERE datname LIKE 'cordon\\_t\\_%'",
            &[],
        )
        .unwrap();
    for row in rows {
        let (stale, comment): (String, Option<String>) = (row.get(0), row.get(1));
        if comment.is_some_and(|d| !Path::new(&d).exists()) {
            // Best effort: another test's open may drop it first.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)"));
        }
    }
    match admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
        Ok(()) => {
            let comment = dir.display().to_string().replace('\'', "''");
            admin.batch_execute(&format!("COMMENT ON DATABASE \"{name}\" IS '{comment}'")).unwrap();
        }
        Err(e) => {
            use postgres::error::SqlState;
            // Another handle on the same directory made it first.
            let code = e.code().cloned();
            assert!(code == Some(SqlState::DUPLICATE_DATABASE) || code == Some(SqlState::UNIQUE_VIOLATION), "{e}");
        }
    }
    url_of(&name)
}

impl conformance::Backend for PgStore {
    fn open(dir: &Path) -> PgStore {
        PgStore::open(&database_for(dir)).unwrap()
    }
}

suite!(PgStore);

#[test]
fn the_database_refuses_to_edit_history() {
    let store = conformance::ops::transitions_are_checked_against_the_current_state::<PgStore>();
    let mut client = postgres::Client::connect(&database_for(store.dir()), postgres::NoTls).unwrap();
    assert!(client.execute("UPDATE transitions SET actor = 'x'", &[]).is_err());
    assert!(client.execute("DELETE FROM transitions", &[]).is_err());
    let entry = AuditEntry {
        time: 1,
        user: "cli".into(),
        org: "hub".into(),
        action: "token create".into(),
        object: "1".into(),
        result: "ok".into(),
    };
    store.append_audit(&[entry]).unwrap();
    assert!(client.execute("UPDATE audit SET actor = 'x'", &[]).is_err());
    assert!(client.execute("DELETE FROM audit", &[]).is_err());
    assert_eq!(store.verify_audit().unwrap(), (1, None));
}

/// Replicas starting together on a new database: the migrations run once,
/// under the advisory lock, and every replica opens.
#[test]
fn replicas_starting_together_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_for(dir.path());
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::open(&url).map(|store| store.generation().unwrap()))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().unwrap(), 0);
    }
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let versions: i64 = client.query_one("SELECT count(*) FROM schema_version", &[]).unwrap().get(0);
    assert_eq!(versions, 1);
}
