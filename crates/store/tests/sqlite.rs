//! The SQLite backend: the conformance suite of the store traits, and what
//! only SQLite can be asked (the database refuses to edit history).

mod conformance;

use std::path::Path;

use cordon_model::{normalize, Record};
use cordon_store::{ImportMeta, SqliteStore, Store, StoreError};

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

/// A failed import on a full disk left a 20 MB `-wal` file behind: a
/// rolled-back import gives the log's space back.
#[test]
fn a_failed_import_leaves_no_write_ahead_log_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let meta = ImportMeta::new("a", "big.txt", "00", "plain");
    let result = store.import(&meta, &mut |sink| {
        for i in 0..100_000u32 {
            let value = format!("45.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            for s in Record::new(1, normalize(&value).unwrap().observables.remove(0)).sightings() {
                sink.add(&s)?;
            }
        }
        sink.flush()?;
        Err(StoreError::Aborted("line 100001: rejected under --strict".into()))
    });
    assert!(result.is_err());
    let wal = std::fs::metadata(dir.path().join("cordon.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert!(wal < 64 << 10, "the log kept {wal} bytes");
}

/// One store shared by threads (the server's requests): writers queue on
/// the writer, readers read beside them, and nothing is lost.
#[test]
fn one_store_serves_threads_at_once() {
    use cordon_store::orgs::OrgStore;
    use cordon_store::{ImportCounts, IndicatorFilter};

    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SqliteStore::open(&dir.path().join("cordon.db")).unwrap());
    let hub = store.hub().unwrap().viewer();
    let mut handles = Vec::new();
    for t in 0..4 {
        let writer = store.clone();
        handles.push(std::thread::spawn(move || {
            for round in 0..10 {
                let meta = ImportMeta::new(&format!("t{t}"), "f", "00", "plain");
                writer
                    .import(&meta, &mut |sink| {
                        let value = format!("45.{t}.{round}.1");
                        for s in Record::new(1, normalize(&value).unwrap().observables.remove(0)).sightings() {
                            sink.add(&s)?;
                        }
                        sink.flush()?;
                        Ok(ImportCounts::default())
                    })
                    .unwrap();
            }
        }));
        let reader = store.clone();
        handles.push(std::thread::spawn(move || {
            for _ in 0..20 {
                let mut seen = 0;
                reader.indicators(&IndicatorFilter::new(hub), &mut |_| seen += 1).unwrap();
                assert!(seen <= 40);
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let mut count = 0;
    store.indicators(&IndicatorFilter::new(hub), &mut |_| count += 1).unwrap();
    assert_eq!(count, 40);
}
