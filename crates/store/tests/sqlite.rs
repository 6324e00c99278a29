//! The SQLite backend: the conformance suite of the store traits, and what
//! only SQLite can be asked (the database refuses to edit history).

mod conformance;

use std::path::Path;

use cordon_store::SqliteStore;

impl conformance::Backend for SqliteStore {
    fn open(dir: &Path) -> SqliteStore {
        SqliteStore::open(&dir.join("cordon.db")).unwrap()
    }
}

suite!(SqliteStore);

#[test]
fn the_database_refuses_to_edit_history() {
    let store = conformance::ops::transitions_are_checked_against_the_current_state::<SqliteStore>();
    let conn = rusqlite::Connection::open(store.dir().join("cordon.db")).unwrap();
    assert!(conn.execute("UPDATE transitions SET actor = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM transitions", []).is_err());
}
